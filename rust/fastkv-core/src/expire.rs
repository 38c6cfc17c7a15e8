//! Active expiry: a background thread that, `hz` times a second, sweeps part of every shard
//! and deletes keys whose deadline has passed, so that keys nobody reads again still go.
//!
//! Design: Redis samples the separate `expires` table. fastkv keeps no second table (it would
//! cost a pointer-sized entry and a table slot per volatile key); instead each database slice
//! remembers a bucket cursor and each cycle resumes the sweep there, skipping slices with no
//! volatile keys. A cycle visits at most [`BUCKETS_PER_SHARD`] buckets per shard and repeats
//! (within [`CYCLE_BUDGET`]) while more than a quarter of what it checked had expired — the same
//! "keep going while it pays" rule Redis uses. Each shard is locked only for its own step.

use crate::engine::Engine;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// Buckets visited per shard per step.
const BUCKETS_PER_SHARD: usize = 64;
/// Most time one cycle may take (Redis's 25% of a 100 ms tick).
const CYCLE_BUDGET: Duration = Duration::from_millis(25);

/// Starts the sweeper; it stops by itself when the engine is dropped.
pub fn start_active_expiry(engine: &Arc<Engine>) {
    let weak: Weak<Engine> = Arc::downgrade(engine);
    let spawned = std::thread::Builder::new()
        .name("fastkv-expire".into())
        .spawn(move || loop {
            let hz = match weak.upgrade() {
                Some(e) => {
                    if e.active_expire.load(Ordering::Relaxed) {
                        active_expire_cycle(&e);
                    }
                    let hz = e.config.read().hz.clamp(1, 500);
                    hz
                }
                None => return,
            };
            std::thread::sleep(Duration::from_millis(1000 / u64::from(hz)));
        });
    // Without the thread, keys still expire lazily; nothing else depends on it.
    drop(spawned);
}

/// One cycle over every shard.
pub fn active_expire_cycle(engine: &Engine) {
    let start = Instant::now();
    let ks = &engine.keyspace;
    loop {
        let now = crate::time::now_ms();
        let (mut checked, mut expired) = (0, 0);
        // Deleted keys are collected only when someone listens for them.
        let mut gone = engine.notifies(crate::notify::EXPIRED).then(Vec::new);
        for shard in 0..ks.shard_count() {
            let (c, e) = ks.sweep(shard, now, BUCKETS_PER_SHARD, gone.as_mut());
            checked += c;
            expired += e;
        }
        engine.announce_expired(gone.into_iter().flatten());
        engine
            .stats
            .expired_keys
            .fetch_add(expired as u64, Ordering::Relaxed);
        if checked == 0 || expired * 4 < checked || start.elapsed() > CYCLE_BUDGET {
            return;
        }
    }
}
