//! `maxmemory` eviction: which keys go when memory is over the limit, and when.
//!
//! # When
//!
//! Before every command the dispatcher calls [`Eviction::check`]. With `maxmemory` 0 that is
//! two relaxed atomic loads. Over the limit (as measured by [`crate::memory::used_memory`]), it
//! evicts keys until memory is back under the limit, a pass bounded in time by
//! `maxmemory-eviction-tenacity` (Redis's `evictionTimeLimitUs`: 50 µs per step up to 10, the
//! default, i.e. 500 µs; then +15% per step; 100 = unbounded). A pass that hits its time limit
//! leaves memory over the limit and marks eviction as *running*: the command still runs, the
//! next commands continue the work, and a background thread ([`Eviction::attach`] starts it the
//! first time a limit is set) keeps evicting between commands. So a big write or a sharp
//! `CONFIG SET maxmemory` drop is absorbed in slices of well under a millisecond each, never in
//! one pause. Only when nothing can be evicted — `noeviction`, or a `volatile-*` policy with no
//! key carrying a TTL — is a `denyoom` command refused, with Redis's exact
//! `-OOM command not allowed when used memory > 'maxmemory'.`; reads keep working.
//!
//! # Which keys
//!
//! The eight policies are Redis's. `*-random` picks a random key (of all keys, or of keys with
//! a TTL). The others approximate "the best key to drop" by sampling, as Redis does: each
//! eviction samples `maxmemory-samples` keys and merges them into a small pool
//! ([`POOL_SIZE`] = 16, Redis's `EVPOOL_SIZE`) kept sorted by a score — idle time for LRU,
//! `255 - counter` for LFU (ties broken by idle time, see below), `u64::MAX - deadline` for
//! TTL — then evicts the pool's best candidate that still exists. The pool outlives a single
//! eviction, so good candidates found earlier compete with new samples; that is what makes 5
//! samples close to true LRU. Two refinements over Redis's pool, measured on
//! `bench/eviction.py`: (1) before evicting the best candidate its score is recomputed from
//! the live entry; if it was accessed since it was sampled and now ranks below the next
//! candidate, it goes back into the pool at its true place instead of being evicted on a stale
//! score (Redis evicts it); (2) among equal scores the candidate sampled first goes first (its
//! score has held longest), instead of an arbitrary one.
//!
//! Sampling with shards: each sample picks a shard with probability proportional to the
//! candidates it held when last seen ([`ShardWeights`]; probing onward past empty ones), locks
//! only that shard, and draws from each database slice there that has candidates, through
//! [`crate::dict::Dict::random_entry`] (a uniformly random entry of the table's dense slab).
//! Picking shards uniformly instead would let shard sizes drift apart (see [`ShardWeights`]).
//! One shard lock per sample, held for a few microseconds.
//!
//! # The metadata
//!
//! [`crate::keyspace::Entry::lru`] holds Redis's `robj.lru`: under LRU policies (and
//! `noeviction`, for OBJECT IDLETIME) the access time in milliseconds on 32 bits, where Redis
//! keeps seconds on 24 (see [`crate::time`]: with seconds, every key of a cache that turns
//! over within a second looks equally old), or under LFU the 16-bit minute of the
//! last decrement and an 8-bit logarithmic counter: a new key starts at [`LFU_INIT_VAL`], an
//! access first decays the counter by one per `lfu-decay-time` minutes elapsed, then increments
//! it with probability `1 / ((counter - LFU_INIT_VAL) * lfu-log-factor + 1)`.
//! Redis leaves the top 8 bits unused; here they hold the last access time in 256 ms ticks
//! modulo 256, which together with the last-access minute pins the access to a tick
//! ([`lfu_idle_ticks`]). The eviction score uses it only to order keys of equal counter
//! (longest idle first): on a trace where most cached keys sit at counter 5 or 6 this turns
//! the arbitrary choice among them into LRU order. Counters, decay and OBJECT FREQ are
//! Redis's, unaffected.
//!
//! One addition to Redis's LFU: a key evicted under an LFU policy leaves its counter in
//! [`LfuHistory`] (one `u32` slot per key held, counted in `used_memory`), and if it is created
//! again before the slot is reused it resumes from that counter (decayed, plus this access)
//! instead of [`LFU_INIT_VAL`]. A brand-new key still starts at [`LFU_INIT_VAL`]. Measured on
//! `bench/eviction.py` (allkeys-lfu, equal cache sizes): shift trace +1.2 points at 1% and
//! +0.7 at 10%, scan 10% +1.5, zipf and scan 1% unchanged.
//!
//! # Settings
//!
//! The engine's `Config` is the source of truth; the per-command path reads a copy kept in
//! atomics here, refreshed when [`crate::config::MEMORY_CONFIG_GEN`] moves (any eviction
//! directive set anywhere), so no lock is taken per command.
//!
//! Every eviction goes through [`evict_key`], the one place a key leaves by eviction (blocked
//! clients, WATCH and keyspace notifications hook there).

use crate::config::MEMORY_CONFIG_GEN;
use crate::engine::Engine;
use crate::keyspace::Locked;
use crate::memory;
use parking_lot::{Mutex, RwLock};
use rand::Rng;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

/// Candidates kept between evictions (Redis's `EVPOOL_SIZE`).
pub const POOL_SIZE: usize = 16;
/// A new key's LFU counter (Redis's `LFU_INIT_VAL`): high enough that a new key is not the
/// first to go before it had a chance to be read.
pub const LFU_INIT_VAL: u8 = 5;
/// Keys evicted between two looks at the clock (Redis checks every 16).
const CLOCK_CHECK_EVERY: usize = 16;
/// Random draws per wanted sample under `volatile-*` (keys without a TTL are skipped).
const VOLATILE_DRAWS: usize = 4;
/// Sampling rounds per eviction before concluding that no candidate exists.
const ROUNDS_PER_EVICTION: usize = 4;
/// Background check period while not evicting. While a pass is cut short by its time limit,
/// the thread only yields between slices (as Redis's eviction timer runs again on the next
/// event-loop turn): commands interleave, and a big drop is absorbed as fast as it can be.
const BG_IDLE_TICK: Duration = Duration::from_millis(100);
/// Most samples one round draws, whatever `maxmemory-samples` says (Redis's sampler is bounded
/// by the table size the same way).
const MAX_SAMPLES: usize = 1024;

/// `maxmemory-policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
    AllkeysLru,
    AllkeysLfu,
    AllkeysRandom,
    NoEviction,
}

impl Policy {
    /// In the order of [`crate::config::EVICTION_POLICIES`].
    const ALL: [Policy; 8] = [
        Policy::VolatileLru,
        Policy::VolatileLfu,
        Policy::VolatileRandom,
        Policy::VolatileTtl,
        Policy::AllkeysLru,
        Policy::AllkeysLfu,
        Policy::AllkeysRandom,
        Policy::NoEviction,
    ];

    pub fn from_name(name: &str) -> Policy {
        crate::config::EVICTION_POLICIES
            .iter()
            .position(|n| n.eq_ignore_ascii_case(name))
            .and_then(|i| Policy::ALL.get(i).copied())
            .unwrap_or(Policy::NoEviction)
    }

    fn from_u8(n: u8) -> Policy {
        Policy::ALL
            .get(usize::from(n))
            .copied()
            .unwrap_or(Policy::NoEviction)
    }

    fn as_u8(self) -> u8 {
        Policy::ALL.iter().position(|p| *p == self).unwrap_or(7) as u8
    }

    /// Only keys with a TTL may go.
    pub fn volatile(self) -> bool {
        matches!(
            self,
            Policy::VolatileLru
                | Policy::VolatileLfu
                | Policy::VolatileRandom
                | Policy::VolatileTtl
        )
    }

    /// `Entry::lru` holds LFU data.
    pub fn lfu(self) -> bool {
        matches!(self, Policy::VolatileLfu | Policy::AllkeysLfu)
    }

    fn random(self) -> bool {
        matches!(self, Policy::VolatileRandom | Policy::AllkeysRandom)
    }
}

/// The result of a pass, as Redis's `performEvictions` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Under the limit (or no limit).
    Ok,
    /// Still over, but evicting: the time slice ran out. Commands are allowed.
    Running,
    /// Over and nothing can be evicted: `denyoom` commands are refused.
    Fail,
}

/// Redis's exact OOM reply.
pub const OOM_ERROR: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// One pooled candidate.
#[derive(Debug, Clone)]
struct Candidate {
    /// Higher goes first.
    score: u64,
    /// When it was sampled (a running count): among equal scores the earliest-sampled goes
    /// first, since its score has held for longest.
    seq: u64,
    db: usize,
    key: Vec<u8>,
}

impl Candidate {
    /// Pool order: ascending, the best candidate last.
    fn rank(&self) -> (u64, std::cmp::Reverse<u64>) {
        (self.score, std::cmp::Reverse(self.seq))
    }
}

/// The candidate pool: at most [`POOL_SIZE`] candidates in ascending [`Candidate::rank`].
#[derive(Debug, Default)]
struct Pool {
    items: Vec<Candidate>,
    /// Samples taken so far (the next [`Candidate::seq`]).
    seq: u64,
    /// Where samples are drawn from (see [`ShardWeights`]).
    weights: ShardWeights,
}

/// The candidate count of each shard as last seen, so that a sample picks a shard with
/// probability proportional to its keys: every key is then equally likely to be sampled,
/// whatever shard it hashed to.
///
/// Why it matters: keys arrive in a shard at a rate proportional to its share of the hash
/// space (equal for all), and if evictions picked shards uniformly they would leave each at
/// the same rate too, whatever its size: shard sizes would do an unbiased random walk and
/// drift apart (measured: after 200,000 requests at 1,000 keys held, a few of the 64 shards
/// held 50+ keys and many were nearly empty). Keys of small shards then go young, keys of big
/// shards outlive their LRU/LFU rank, and the big shards' tables double and stay doubled, so
/// the same `maxmemory` holds fewer keys as the run goes on. Proportional picking makes a
/// shard lose keys in proportion to its size, which pulls the sizes back together (Redis 7.4's
/// per-slot dictionaries pick "fairly" by size for the same reason).
///
/// Counts are refreshed whenever a shard is locked for sampling (each shard is seen every
/// `shards / maxmemory-samples` evictions or so), never by locking shards just to count.
/// Each shard weighs its count plus one, so one thought empty is still visited now and then.
#[derive(Debug, Default)]
struct ShardWeights {
    seen: Vec<u32>,
    /// A Fenwick tree of the weights (`seen + 1`), 1-based: a pick and an update each cost
    /// log2(shards) steps instead of a walk over every shard (a tenth of an eviction's cost
    /// with 64 shards and 5 samples).
    tree: Vec<u64>,
    total: u64,
}

impl ShardWeights {
    /// Resets to `shards` shards, each weighing 1.
    fn reset(&mut self, shards: usize) {
        self.seen = vec![0; shards];
        self.tree = vec![0; shards + 1];
        for i in 1..=shards {
            self.add(i, 1);
        }
        self.total = shards as u64;
    }

    /// Adds `delta` (wrapping: negative deltas come as two's complement) to the weight at
    /// 1-based position `i`.
    fn add(&mut self, mut i: usize, delta: u64) {
        while let Some(t) = self.tree.get_mut(i) {
            *t = t.wrapping_add(delta);
            i += i & i.wrapping_neg();
        }
    }

    /// A shard, with probability (seen count + 1) / total.
    fn pick(&mut self, shards: usize, r: u64) -> usize {
        if self.seen.len() != shards {
            self.reset(shards);
        }
        // The first position whose prefix sum exceeds `at`: descend the tree.
        let mut at = r % self.total.max(1);
        let mut pos = 0;
        let mut step = shards.checked_next_power_of_two().unwrap_or(0);
        while step > 0 {
            if let Some(&w) = self.tree.get(pos + step) {
                if w <= at {
                    pos += step;
                    at -= w;
                }
            }
            step >>= 1;
        }
        pos.min(shards.saturating_sub(1))
    }

    /// Notes that shard `si` holds `n` candidates now.
    fn update(&mut self, si: usize, n: usize) {
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        if let Some(old) = self.seen.get_mut(si) {
            let delta = u64::from(n).wrapping_sub(u64::from(*old));
            self.total = self.total - u64::from(*old) + u64::from(n);
            *old = n;
            self.add(si + 1, delta);
        }
    }
}

/// A snapshot of the eviction settings.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub maxmemory: u64,
    pub policy: Policy,
    pub samples: usize,
    pub tenacity: u32,
    pub lfu_log_factor: u32,
    pub lfu_decay_time: u32,
}

/// One engine's eviction state.
#[derive(Default)]
pub struct Eviction {
    /// The [`MEMORY_CONFIG_GEN`] the atomics below were read at (0: never).
    gen: AtomicU64,
    maxmemory: AtomicU64,
    policy: AtomicU8,
    samples: AtomicU32,
    tenacity: AtomicU32,
    lfu_log_factor: AtomicU32,
    lfu_decay_time: AtomicU32,
    /// The candidate pool; its lock also serialises evicting passes (a thread that finds
    /// another evicting waits for it, then re-checks memory: natural back-pressure).
    pool: Mutex<Pool>,
    /// The last pass ran out of time over the limit: keep going in the background.
    running: AtomicBool,
    bg_started: AtomicBool,
    engine: OnceLock<Weak<Engine>>,
    /// `used_memory_startup`: memory in use when the engine was ready.
    pub startup: AtomicU64,
}

impl Eviction {
    /// Binds the state to its engine (for the background thread) and records the startup
    /// figure. Called once by `Engine::new`.
    pub fn attach(&self, engine: &Arc<Engine>) {
        let _ = self.engine.set(Arc::downgrade(engine));
        self.startup.store(memory::used_memory(), Ordering::Relaxed);
        self.refresh(engine);
    }

    /// Re-reads the settings from the engine's `Config` if any eviction directive changed.
    pub fn refresh(&self, engine: &Engine) {
        let g = MEMORY_CONFIG_GEN.load(Ordering::Relaxed);
        if self.gen.load(Ordering::Relaxed) == g {
            return;
        }
        let (max, policy) = {
            let c = engine.config.read();
            let policy = Policy::from_name(&c.maxmemory_policy);
            self.maxmemory.store(c.maxmemory, Ordering::Relaxed);
            self.policy.store(policy.as_u8(), Ordering::Relaxed);
            self.samples
                .store(c.maxmemory_samples.max(1), Ordering::Relaxed);
            self.tenacity
                .store(c.maxmemory_eviction_tenacity, Ordering::Relaxed);
            self.lfu_log_factor
                .store(c.lfu_log_factor, Ordering::Relaxed);
            self.lfu_decay_time
                .store(c.lfu_decay_time, Ordering::Relaxed);
            (c.maxmemory, policy)
        };
        engine.keyspace.set_lfu(policy.lfu());
        let history = &engine.keyspace.lfu_history;
        if policy.lfu() && max > 0 {
            let s = self.settings();
            history.configure(s.lfu_log_factor, s.lfu_decay_time);
        } else {
            history.clear();
        }
        self.gen.store(g, Ordering::Relaxed);
        if max > 0 {
            self.start_background();
        }
    }

    pub fn settings(&self) -> Settings {
        Settings {
            maxmemory: self.maxmemory.load(Ordering::Relaxed),
            policy: self.policy(),
            samples: (self.samples.load(Ordering::Relaxed) as usize).clamp(1, MAX_SAMPLES),
            tenacity: self.tenacity.load(Ordering::Relaxed),
            lfu_log_factor: self.lfu_log_factor.load(Ordering::Relaxed),
            lfu_decay_time: self.lfu_decay_time.load(Ordering::Relaxed),
        }
    }

    pub fn policy(&self) -> Policy {
        Policy::from_u8(self.policy.load(Ordering::Relaxed))
    }

    /// An access to a key (Redis's `updateLFU` / `LRU_CLOCK()` in `lookupKey`).
    pub fn touch(&self, lru: &mut u32, now_ms: u64) {
        if self.policy().lfu() {
            *lru = lfu_touch(
                *lru,
                now_ms,
                self.lfu_log_factor.load(Ordering::Relaxed),
                self.lfu_decay_time.load(Ordering::Relaxed),
            );
        } else {
            *lru = crate::time::lru_clock_at(now_ms);
        }
    }

    /// The LFU counter of an entry's metadata after decay (OBJECT FREQ, Redis's
    /// `LFUDecrAndReturn`).
    pub fn lfu_counter(&self, lru: u32, now_ms: u64) -> u8 {
        lfu_decr_and_return(lru, now_ms, self.lfu_decay_time.load(Ordering::Relaxed))
    }

    /// Whether an eviction pass stopped on its time limit with memory still over.
    pub fn running(&self) -> bool {
        self.running.load(Ordering::Relaxed)
    }

    /// The dispatcher's check before a command runs (no shard lock may be held): evicts if
    /// over the limit, and answers whether a `denyoom` command must be refused.
    pub fn check(&self, engine: &Engine) -> Outcome {
        self.refresh(engine);
        if self.maxmemory.load(Ordering::Relaxed) == 0 {
            return Outcome::Ok;
        }
        self.perform(engine)
    }

    /// One eviction pass (Redis's `performEvictions`): evicts until memory is under the
    /// limit, nothing is left to evict, or the time slice ends. Takes shard locks one at a
    /// time: never call it while holding any.
    pub fn perform(&self, engine: &Engine) -> Outcome {
        let s = self.settings();
        if s.maxmemory == 0 || memory::used_memory() <= s.maxmemory {
            self.running.store(false, Ordering::Relaxed);
            return Outcome::Ok;
        }
        if s.policy == Policy::NoEviction {
            return Outcome::Fail;
        }
        let limit = time_limit(s.tenacity);
        let start = Instant::now();
        let mut pool = self.pool.lock();
        let mut evicted = 0usize;
        loop {
            // Checked after taking the pool: another thread may have done the work.
            if memory::used_memory() <= s.maxmemory {
                self.running.store(false, Ordering::Relaxed);
                return Outcome::Ok;
            }
            if !self.evict_one(engine, &s, &mut pool) {
                return Outcome::Fail;
            }
            evicted += 1;
            if evicted.is_multiple_of(CLOCK_CHECK_EVERY)
                && limit.is_some_and(|l| start.elapsed() > l)
            {
                self.running.store(true, Ordering::Relaxed);
                return Outcome::Running;
            }
        }
    }

    /// Evicts up to `n` keys by the configured policy, whatever the memory figure (tests and
    /// benchmarks use it to observe the choice of keys). Returns how many went.
    pub fn evict_keys(&self, engine: &Engine, n: usize) -> usize {
        self.refresh(engine);
        let s = self.settings();
        if s.policy == Policy::NoEviction {
            return 0;
        }
        let mut pool = self.pool.lock();
        (0..n)
            .take_while(|_| self.evict_one(engine, &s, &mut pool))
            .count()
    }

    /// Evicts one key. False if no key can be evicted under the policy.
    fn evict_one(&self, engine: &Engine, s: &Settings, pool: &mut Pool) -> bool {
        if s.policy.random() {
            return evict_random(engine, s.policy.volatile(), &mut pool.weights);
        }
        if s.policy.lfu() && s.maxmemory > 0 {
            let keys = pool
                .weights
                .total
                .saturating_sub(pool.weights.seen.len() as u64);
            engine.keyspace.lfu_history.fit(keys as usize);
        }
        for round in 0..ROUNDS_PER_EVICTION {
            let any = sample_round(engine, s, pool);
            if !any {
                pool.items.clear();
                return false;
            }
            // Re-scored candidates that fell below the next one, at most one pool's worth per
            // eviction.
            let mut refreshed = 0;
            // Candidates in a shard someone holds are passed over (kept for later) except in
            // the last round: waiting would hold the pool, and every command's eviction check
            // with it, for as long as that shard is held.
            let last = round + 1 == ROUNDS_PER_EVICTION;
            let mut busy = Vec::new();
            let mut evicted = false;
            while let Some(c) = pool.items.pop() {
                let now = crate::time::now_ms();
                let ks = &engine.keyspace;
                let locked = if last {
                    Some(ks.lock_keys(std::iter::once(c.key.as_slice())))
                } else {
                    ks.try_lock_one(ks.shard_of(&c.key))
                };
                let Some(mut ks) = locked else {
                    busy.push(c);
                    continue;
                };
                let (fits, fresh) = match ks.get(c.db, &c.key, now) {
                    Some(e) => (
                        !s.policy.volatile() || e.expire_at().is_some(),
                        score(s, e.lru, e.expire_at(), now),
                    ),
                    None => (false, 0),
                };
                let expired = ks.expired;
                if expired > 0 {
                    // Found expired on the way: it is gone, which is what we wanted.
                    engine
                        .stats
                        .expired_keys
                        .fetch_add(expired, Ordering::Relaxed);
                    evicted = true;
                    break;
                }
                if !fits {
                    continue;
                }
                // Accessed since it was sampled: a stale score. Put it back at its true place
                // (not dropped: it may still be the best) and look at the new best.
                if fresh < c.score
                    && refreshed < POOL_SIZE
                    && pool.items.last().is_some_and(|next| next.score > fresh)
                {
                    drop(ks);
                    refreshed += 1;
                    pool_insert(pool, Candidate { score: fresh, ..c });
                    continue;
                }
                if evict_key(engine, &mut ks, c.db, &c.key, now) {
                    evicted = true;
                    break;
                }
            }
            for c in busy {
                pool_insert(pool, c);
            }
            if evicted {
                return true;
            }
        }
        false
    }

    fn start_background(&self) {
        if self.bg_started.swap(true, Ordering::Relaxed) {
            return;
        }
        let Some(weak) = self.engine.get().cloned() else {
            self.bg_started.store(false, Ordering::Relaxed);
            return;
        };
        let spawned = std::thread::Builder::new()
            .name("fastkv-evict".into())
            .spawn(move || loop {
                let busy = match weak.upgrade() {
                    Some(e) => {
                        e.evict.refresh(&e);
                        e.evict.maxmemory.load(Ordering::Relaxed) > 0
                            && e.evict.perform(&e) == Outcome::Running
                    }
                    None => return,
                };
                if busy {
                    std::thread::yield_now();
                } else {
                    std::thread::sleep(BG_IDLE_TICK);
                }
            });
        // Without the thread, commands still evict before they run.
        if spawned.is_err() {
            self.bg_started.store(false, Ordering::Relaxed);
        }
    }
}

/// Removes `key` from database `db` as an eviction: the one place keys leave this way, so that
/// blocked clients, WATCH and keyspace notifications can hook here. The value is freed at once
/// (Redis's `lazyfree-lazy-eviction no`). Returns whether a live key was removed.
pub fn evict_key(engine: &Engine, ks: &mut Locked<'_>, db: usize, key: &[u8], now_ms: u64) -> bool {
    match ks.remove(db, key, now_ms) {
        Some(entry) => {
            if engine.evict.policy().lfu() {
                let hash = crate::dict::hash_key(key);
                engine.keyspace.lfu_history.remember(hash, entry.lru);
            }
            drop(entry);
            engine.stats.evicted_keys.fetch_add(1, Ordering::Relaxed);
            engine.watches.touch(db, key);
            engine.notify(crate::notify::EVICTED, "evicted", db, key);
            true
        }
        None => false,
    }
}

/// Redis's `evictionTimeLimitUs`: `None` = unbounded.
fn time_limit(tenacity: u32) -> Option<Duration> {
    if tenacity <= 10 {
        Some(Duration::from_micros(50 * u64::from(tenacity)))
    } else if tenacity < 100 {
        let us = 500.0 * 1.15f64.powi(tenacity as i32 - 10);
        Some(Duration::from_micros(us as u64))
    } else {
        None
    }
}

/// The score of an entry: higher is a better candidate.
fn score(s: &Settings, lru: u32, expire_at: Option<u64>, now_ms: u64) -> u64 {
    match s.policy {
        Policy::VolatileTtl => u64::MAX - expire_at.unwrap_or(u64::MAX),
        p if p.lfu() => {
            let counter = lfu_decr_and_return(lru, now_ms, s.lfu_decay_time);
            ((255 - u64::from(counter)) << 32)
                | lfu_idle_ticks(lru, now_ms).min(u64::from(u32::MAX))
        }
        _ => crate::time::lru_idle_ms(lru, now_ms),
    }
}

/// Merges a candidate into the pool (ascending [`Candidate::rank`], at most [`POOL_SIZE`]).
/// A key already pooled keeps its place in the sampling order while its score holds.
fn pool_insert(pool: &mut Pool, c: Candidate) {
    pool_offer(pool, c.score, c.seq, c.db, &c.key);
}

/// [`pool_insert`] for a sampled key still in its dictionary: the key is copied only if it
/// enters the pool, into the buffer of the candidate it displaces when the pool is full. (A
/// copy, a sort and a free per sample were a third of the cost of an eviction.)
fn pool_offer(pool: &mut Pool, score: u64, seq: u64, db: usize, key: &[u8]) {
    let items = &mut pool.items;
    if let Some(i) = items
        .iter()
        .position(|o| o.db == db && same_key(&o.key, key))
    {
        if items[i].score != score {
            let mut c = items.remove(i);
            c.score = score;
            c.seq = seq;
            insert_ranked(items, c);
        }
        return;
    }
    let rank = (score, std::cmp::Reverse(seq));
    let mut buf = if items.len() < POOL_SIZE {
        Vec::with_capacity(key.len())
    } else if items.first().is_some_and(|worst| rank > worst.rank()) {
        items.remove(0).key
    } else {
        return;
    };
    buf.clear();
    buf.extend_from_slice(key);
    insert_ranked(
        items,
        Candidate {
            score,
            seq,
            db,
            key: buf,
        },
    );
}

/// Inserts at the candidate's place in ascending rank (ranks are unique: `seq` differs).
fn insert_ranked(items: &mut Vec<Candidate>, c: Candidate) {
    let at = items.partition_point(|o| o.rank() <= c.rank());
    items.insert(at, c);
}

/// Key equality, the last bytes first: sampled keys often share a long prefix.
fn same_key(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.last() == b.last() && a == b
}

/// One sampling round into the pool: `maxmemory-samples` draws, each from a random shard
/// (probing onward past shards with no candidate), one entry per database slice there that
/// has candidates. Each draw locks one shard briefly. False if no shard holds any candidate.
fn sample_round(engine: &Engine, s: &Settings, pool: &mut Pool) -> bool {
    let ks = &engine.keyspace;
    let n = ks.shard_count();
    let mut rng = rand::thread_rng();
    let now = crate::time::now_ms();
    let volatile = s.policy.volatile();
    for _ in 0..s.samples {
        let start = pool.weights.pick(n, rng.gen());
        let mut found = false;
        // Shards held by others are passed over (a big write holds its shard while it copies
        // the value); only if no free shard had a candidate and some were busy does a second
        // pass wait for them.
        let mut busy = false;
        for i in 0..2 * n {
            if i == n && !busy {
                break;
            }
            let si = (start + i) % n;
            let locked = if i < n {
                ks.try_lock_one(si)
            } else {
                Some(ks.lock(&[si]))
            };
            let Some(mut locked) = locked else {
                busy = true;
                continue;
            };
            let Some((_, shard)) = locked.shards_mut().next() else {
                continue;
            };
            pool.weights.update(si, candidates(shard, volatile));
            for (db, d) in shard.dbs.iter().enumerate() {
                let has = if volatile {
                    d.volatile > 0
                } else {
                    !d.dict.is_empty()
                };
                if !has {
                    continue;
                }
                found = true;
                let draws = if volatile { VOLATILE_DRAWS } else { 1 };
                for _ in 0..draws {
                    let Some((k, e)) = d.dict.random_entry(|| rng.gen()) else {
                        break;
                    };
                    let score = if e.is_expired(now) {
                        // Best candidate of all: it is already logically gone.
                        u64::MAX
                    } else if volatile && e.expire_at().is_none() {
                        continue;
                    } else {
                        score(s, e.lru, e.expire_at(), now)
                    };
                    pool.seq += 1;
                    let seq = pool.seq;
                    pool_offer(pool, score, seq, db, k);
                    break;
                }
            }
            if found {
                break;
            }
        }
        if !found {
            return false;
        }
    }
    true
}

/// The keys of a shard that a policy may evict: all, or those with a TTL.
fn candidates(shard: &crate::keyspace::Shard, volatile: bool) -> usize {
    shard
        .dbs
        .iter()
        .map(|d| if volatile { d.volatile } else { d.dict.len() })
        .sum()
}

/// `allkeys-random` / `volatile-random`: a random key of a shard picked in proportion to its
/// keys (see [`ShardWeights`]). False if none.
fn evict_random(engine: &Engine, volatile: bool, weights: &mut ShardWeights) -> bool {
    let ks = &engine.keyspace;
    let n = ks.shard_count();
    let mut rng = rand::thread_rng();
    let start = weights.pick(n, rng.gen());
    let now = crate::time::now_ms();
    for i in 0..n {
        let si = (start + i) % n;
        let mut locked = ks.lock(&[si]);
        let picked = {
            let Some((_, shard)) = locked.shards_mut().next() else {
                continue;
            };
            weights.update(si, candidates(shard, volatile));
            let dbs: Vec<usize> = shard
                .dbs
                .iter()
                .enumerate()
                .filter(|(_, d)| {
                    if volatile {
                        d.volatile > 0
                    } else {
                        !d.dict.is_empty()
                    }
                })
                .map(|(i, _)| i)
                .collect();
            if dbs.is_empty() {
                continue;
            }
            let db = dbs[rng.gen_range(0..dbs.len())];
            let d = &shard.dbs[db];
            // Under volatile-random at least one key here has a TTL; give up on this shard
            // after a bounded number of draws (the next shard is tried).
            let mut found = None;
            for _ in 0..64 {
                match d.dict.random_entry(|| rng.gen()) {
                    Some((k, e)) if !volatile || e.expire_at().is_some() => {
                        found = Some((db, k.to_vec()));
                        break;
                    }
                    Some(_) => {}
                    None => break,
                }
            }
            found
        };
        if let Some((db, key)) = picked {
            if evict_key(engine, &mut locked, db, &key, now) {
                return true;
            }
            // Expired: removed all the same, and memory went down.
            engine.stats.expired_keys.fetch_add(1, Ordering::Relaxed);
            return true;
        }
    }
    false
}

// --- LFU ----------------------------------------------------------------------------------

/// The LFU counters of recently evicted keys, so that a key that comes back resumes from its
/// (decayed) counter instead of starting over at [`LFU_INIT_VAL`] (TinyLFU keeps such a
/// history for the same reason): without it, a key of middling popularity that was evicted
/// once competes as a newcomer forever, and a cache full of keys that got one lucky hit keeps
/// it out. The return itself counts as an access, as a write to an existing key does.
///
/// One `u32` slot per key held (sized by the eviction sampler's view of the keyspace, see
/// [`ShardWeights`]): the key's hash picks the slot; the slot holds an 8-bit fingerprint of
/// the hash and the entry's Redis bits (16-bit minute, 8-bit counter). A later eviction that
/// lands on the same slot overwrites it; a lookup whose fingerprint differs finds nothing, so a
/// brand-new key starts at [`LFU_INIT_VAL`] except for a 1-in-255 fingerprint collision with
/// a remembered key. The table is ordinary heap memory, counted in `used_memory` like the
/// keys, and freed when the policy is not LFU. Lookups and stores are relaxed atomics under a
/// read lock; only a resize takes the write lock.
#[derive(Default)]
pub struct LfuHistory {
    slots: RwLock<Vec<AtomicU32>>,
    log_factor: AtomicU32,
    decay_time: AtomicU32,
}

impl LfuHistory {
    /// The slot of a key hash in a table of `n`, and its fingerprint (never 0: 0 is empty).
    fn place(hash: u64, n: usize) -> (usize, u32) {
        let idx = (((hash >> 32) * n as u64) >> 32) as usize;
        let fp = (((hash >> 24) & 0xFF) as u32).max(1);
        (idx, fp)
    }

    /// Notes the metadata of a key evicted under LFU.
    pub fn remember(&self, hash: u64, lru: u32) {
        let slots = self.slots.read();
        if slots.is_empty() {
            return;
        }
        let (i, fp) = Self::place(hash, slots.len());
        if let Some(slot) = slots.get(i) {
            slot.store((fp << 24) | (lru & 0xFF_FFFF), Ordering::Relaxed);
        }
    }

    /// The metadata for a key created now under LFU: its remembered counter, decayed and then
    /// incremented for this access, if the key was evicted recently; else `None`.
    pub fn resume(&self, hash: u64, now_ms: u64) -> Option<u32> {
        let slots = self.slots.read();
        if slots.is_empty() {
            return None;
        }
        let (i, fp) = Self::place(hash, slots.len());
        let slot = slots.get(i)?;
        let v = slot.load(Ordering::Relaxed);
        if v >> 24 != fp {
            return None;
        }
        slot.store(0, Ordering::Relaxed);
        let old = v & 0xFF_FFFF;
        let decay = self.decay_time.load(Ordering::Relaxed);
        let counter = lfu_decr_and_return(old, now_ms, decay).max(LFU_INIT_VAL);
        let base = (lfu_minutes(now_ms) << 8) | u32::from(counter);
        Some(lfu_touch(
            base,
            now_ms,
            self.log_factor.load(Ordering::Relaxed),
            decay,
        ))
    }

    /// Sizes the table for about `keys` keys held (one slot each): reallocated, forgetting
    /// what it held, when off by more than a factor of two.
    fn fit(&self, keys: usize) {
        let want = keys.max(64);
        let have = self.slots.read().len();
        if have == 0 || want > have * 2 || want * 2 < have {
            *self.slots.write() = (0..want).map(|_| AtomicU32::new(0)).collect();
        }
    }

    /// Forgets everything and frees the table (policy no longer LFU).
    fn clear(&self) {
        if !self.slots.read().is_empty() {
            *self.slots.write() = Vec::new();
        }
    }

    fn configure(&self, log_factor: u32, decay_time: u32) {
        self.log_factor.store(log_factor, Ordering::Relaxed);
        self.decay_time.store(decay_time, Ordering::Relaxed);
    }

    /// Slots allocated (tests).
    pub fn capacity(&self) -> usize {
        self.slots.read().len()
    }
}

/// Minutes since the epoch, 16 bits (Redis's `LFUGetTimeInMinutes`).
fn lfu_minutes(now_ms: u64) -> u32 {
    ((now_ms / 60_000) & 0xFFFF) as u32
}

/// Milliseconds per tick of the LFU access stamp, as a shift: 256 ms, so that a minute holds
/// fewer than 256 ticks.
const LFU_STAMP_SHIFT: u32 = 8;

/// The access stamp kept in the top 8 bits under LFU (Redis leaves them unused): the tick of
/// the last access, modulo 256. With the minute of the last access (Redis's `ldt`, which every
/// access sets) it pins the access time to a tick; see [`lfu_idle_ticks`]. It only breaks ties
/// between equal counters (the longer idle goes first); the counter and OBJECT FREQ never look
/// at it.
fn lfu_stamp(now_ms: u64) -> u32 {
    (((now_ms >> LFU_STAMP_SHIFT) & 0xFF) as u32) << 24
}

/// Ticks since the last access of an LFU entry: the one tick of the minute `ldt` whose low 8
/// bits are the stamp (a minute spans under 256 ticks, so there is one at most; metadata
/// written under another policy may match none, then the minute's end is taken).
fn lfu_idle_ticks(lru: u32, now_ms: u64) -> u64 {
    let ldt = (lru >> 8) & 0xFFFF;
    let minute = (now_ms / 60_000).saturating_sub(u64::from(lfu_elapsed(ldt, now_ms)));
    let first = (minute * 60_000) >> LFU_STAMP_SHIFT;
    let last = ((minute + 1) * 60_000 - 1) >> LFU_STAMP_SHIFT;
    let stamp = u64::from(lru >> 24);
    let tick = (first + (stamp.wrapping_sub(first) & 0xFF)).min(last);
    (now_ms >> LFU_STAMP_SHIFT).saturating_sub(tick)
}

/// The metadata of a new key under LFU: this minute, counter [`LFU_INIT_VAL`].
pub fn lfu_fresh(now_ms: u64) -> u32 {
    lfu_stamp(now_ms) | (lfu_minutes(now_ms) << 8) | u32::from(LFU_INIT_VAL)
}

/// Minutes since `ldt`, on the 16-bit wrapping clock (Redis's `LFUTimeElapsed`).
fn lfu_elapsed(ldt: u32, now_ms: u64) -> u32 {
    let now = lfu_minutes(now_ms);
    if now >= ldt {
        now - ldt
    } else {
        65535 - ldt + now
    }
}

/// The counter after decay: minus one per `decay_time` minutes since the last decrement
/// (Redis's `LFUDecrAndReturn`; `decay_time` 0 = no decay).
pub fn lfu_decr_and_return(lru: u32, now_ms: u64, decay_time: u32) -> u8 {
    let ldt = (lru >> 8) & 0xFFFF;
    let counter = (lru & 0xFF) as u8;
    let periods = lfu_elapsed(ldt, now_ms)
        .checked_div(decay_time)
        .unwrap_or(0);
    if periods == 0 {
        counter
    } else {
        u8::try_from(u32::from(counter).saturating_sub(periods)).unwrap_or(0)
    }
}

/// Logarithmic increment (Redis's `LFULogIncr`): the higher the counter, the less likely.
fn lfu_log_incr(counter: u8, log_factor: u32, r: f64) -> u8 {
    if counter == 255 {
        return 255;
    }
    let base = f64::from(counter.saturating_sub(LFU_INIT_VAL));
    let p = 1.0 / (base * f64::from(log_factor) + 1.0);
    if r < p {
        counter + 1
    } else {
        counter
    }
}

/// An access under LFU (Redis's `updateLFU`): decay, increment, stamp this minute.
pub fn lfu_touch(lru: u32, now_ms: u64, log_factor: u32, decay_time: u32) -> u32 {
    let c = lfu_decr_and_return(lru, now_ms, decay_time);
    let c = lfu_log_incr(c, log_factor, rand::thread_rng().gen::<f64>());
    lfu_stamp(now_ms) | (lfu_minutes(now_ms) << 8) | u32::from(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{bulk, err, int, Session};
    use crate::Frame;

    fn keys(s: &mut Session) -> Vec<String> {
        match s.run(&["KEYS", "*"]) {
            Frame::Array(v) => v
                .into_iter()
                .filter_map(|f| match f {
                    Frame::Bulk(b) => Some(String::from_utf8_lossy(&b).into_owned()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    fn evict(s: &mut Session, n: usize) -> usize {
        s.engine.evict.evict_keys(&s.engine, n)
    }

    #[test]
    fn lfu_counter_math() {
        let now = 1_700_000_000_000u64;
        let fresh = lfu_fresh(now);
        assert_eq!(lfu_decr_and_return(fresh, now, 1), LFU_INIT_VAL);
        // Three minutes later with decay 1: three periods.
        assert_eq!(lfu_decr_and_return(fresh, now + 180_000, 1), 2);
        assert_eq!(lfu_decr_and_return(fresh, now + 180_000, 0), 5);
        assert_eq!(lfu_decr_and_return(fresh, now + 60 * 60_000, 1), 0);
        // Below the initial value the increment is certain; far above, rare.
        assert_eq!(lfu_log_incr(3, 10, 0.99), 4);
        assert_eq!(lfu_log_incr(105, 10, 0.01), 105);
        assert_eq!(lfu_log_incr(255, 0, 0.0), 255);
        // Many accesses with factor 10 stay well under 255 (Redis's table: 1k hits ~ 18).
        let mut lru = fresh;
        for _ in 0..1000 {
            lru = lfu_touch(lru, now, 10, 1);
        }
        let c = lfu_decr_and_return(lru, now, 1);
        assert!((10..40).contains(&c), "counter {c}");
    }

    #[test]
    fn lfu_stamp_gives_idle_time_without_touching_the_counter() {
        let t0 = 1_700_000_012_345u64;
        let fresh = lfu_fresh(t0);
        assert_eq!(lfu_decr_and_return(fresh, t0, 1), LFU_INIT_VAL);
        for idle_ms in [0u64, 300, 5_000, 59_000, 61_000, 300_000, 3_600_000] {
            let ticks = lfu_idle_ticks(fresh, t0 + idle_ms);
            let want = ((t0 + idle_ms) >> LFU_STAMP_SHIFT) - (t0 >> LFU_STAMP_SHIFT);
            assert_eq!(ticks, want, "idle {idle_ms} ms");
        }
        // Equal counters: the longer idle scores higher (goes first); a higher counter always
        // stays ahead of a lower one.
        let s = Settings {
            maxmemory: 0,
            policy: Policy::AllkeysLfu,
            samples: 5,
            tenacity: 10,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
        };
        let now = t0 + 20_000;
        let old = lfu_fresh(t0);
        let recent = lfu_fresh(t0 + 19_000);
        assert!(score(&s, old, None, now) > score(&s, recent, None, now));
        let hot = (old & !0xFF) | 6;
        assert!(score(&s, hot, None, now) < score(&s, recent, None, now));
    }

    fn freq(s: &mut Session, key: &str) -> i64 {
        match s.run(&["OBJECT", "FREQ", key]) {
            Frame::Integer(n) => n,
            f => panic!("{f:?}"),
        }
    }

    #[test]
    fn lfu_history_resumes_evicted_counters() {
        let mut s = Session::new();
        s.run(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]);
        // Far above what the test uses: nothing is evicted but on request.
        s.run(&["CONFIG", "SET", "maxmemory", "100000000000"]);
        s.run(&["SET", "hot", "v"]);
        assert_eq!(freq(&mut s, "hot"), i64::from(LFU_INIT_VAL));
        for _ in 0..300 {
            s.run(&["GET", "hot"]);
        }
        let before = freq(&mut s, "hot");
        assert!(before > 8, "{before}");
        assert_eq!(evict(&mut s, 10), 1);
        assert!(s.engine.keyspace.lfu_history.capacity() > 0);
        // It comes back where it was (its return counted as one more access).
        s.run(&["SET", "hot", "v"]);
        let after = freq(&mut s, "hot");
        assert!(
            (before..=before + 1).contains(&after),
            "{before} -> {after}"
        );
        // Taken: a second return without eviction in between is an overwrite, not a resume.
        s.run(&["DEL", "hot"]);
        s.run(&["SET", "hot", "v"]);
        assert_eq!(freq(&mut s, "hot"), i64::from(LFU_INIT_VAL));
        // A key never seen starts at the initial value; one evicted before any access comes
        // back one step up (its second write).
        s.run(&["SET", "fresh", "v"]);
        assert_eq!(freq(&mut s, "fresh"), i64::from(LFU_INIT_VAL));
        assert_eq!(evict(&mut s, 10), 2);
        s.run(&["SET", "fresh", "v"]);
        assert_eq!(freq(&mut s, "fresh"), i64::from(LFU_INIT_VAL) + 1);
        s.run(&["SET", "brand-new", "v"]);
        assert_eq!(freq(&mut s, "brand-new"), i64::from(LFU_INIT_VAL));
        // Another policy frees the table.
        s.run(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]);
        s.run(&["PING"]);
        assert_eq!(s.engine.keyspace.lfu_history.capacity(), 0);
        s.run(&["CONFIG", "SET", "maxmemory", "0"]);
    }

    #[test]
    fn pool_prefers_earlier_samples_on_ties_and_refreshes_scores() {
        let mut pool = Pool::default();
        for (i, sc) in [(1u8, 7u64), (2, 9), (3, 9), (4, 3)] {
            pool.seq += 1;
            let seq = pool.seq;
            pool_insert(
                &mut pool,
                Candidate {
                    score: sc,
                    seq,
                    db: 0,
                    key: vec![i],
                },
            );
        }
        let order: Vec<u8> = pool.items.iter().rev().map(|c| c.key[0]).collect();
        assert_eq!(order, vec![2, 3, 1, 4]);
        // Re-inserting a key updates it in place, no duplicate.
        pool_insert(
            &mut pool,
            Candidate {
                score: 1,
                seq: 99,
                db: 0,
                key: vec![2],
            },
        );
        let order: Vec<u8> = pool.items.iter().rev().map(|c| c.key[0]).collect();
        assert_eq!(order, vec![3, 1, 4, 2]);
    }

    #[test]
    fn shard_picks_match_a_walk_over_the_weights() {
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(7);
        for shards in [1usize, 3, 48, 64, 100] {
            let mut w = ShardWeights::default();
            w.pick(shards, 0);
            for _ in 0..200 {
                w.update(rng.gen_range(0..shards), rng.gen_range(0..50));
            }
            let weights: Vec<u64> = w.seen.iter().map(|&n| u64::from(n) + 1).collect();
            assert_eq!(w.total, weights.iter().sum::<u64>());
            let mut at = 0;
            for (i, &wt) in weights.iter().enumerate() {
                for _ in 0..wt {
                    assert_eq!(w.pick(shards, at), i, "shards {shards}, at {at}");
                    at += 1;
                }
            }
        }
    }

    #[test]
    fn shards_are_picked_in_proportion_to_their_keys() {
        let mut w = ShardWeights::default();
        // Nothing seen yet: uniform.
        assert_eq!(w.pick(4, 0), 0);
        assert_eq!(w.pick(4, 3), 3);
        assert_eq!(w.pick(4, 5), 1);
        // Seen 0, 9, 2, 0 keys: weights 1, 10, 3, 1 (one more each, so none is starved).
        w.update(1, 9);
        w.update(2, 2);
        let mut hits = [0usize; 4];
        for r in 0..15u64 {
            hits[w.pick(4, r)] += 1;
        }
        assert_eq!(hits, [1, 10, 3, 1]);
        // Counts are replaced, not added.
        w.update(1, 0);
        assert_eq!(w.total, 6);
        // Another shard count resets the view.
        assert!(w.pick(8, 7) < 8);
        assert_eq!(w.total, 8);
    }

    #[test]
    fn eviction_keeps_shard_sizes_together() {
        // Keys come in evenly by hash; evictions must take them out in proportion too, or shard
        // sizes drift apart. 64 shards x 16 keys, then 20,000 insertions each followed by one
        // eviction: with shards picked uniformly the largest shard ends near 60 keys.
        let mut s = Session::new();
        s.run(&["CONFIG", "SET", "maxmemory-policy", "allkeys-random"]);
        for i in 0..1024 {
            s.run(&["SET", &format!("k{i}"), "x"]);
        }
        for i in 1024..21_024 {
            s.run(&["SET", &format!("k{i}"), "x"]);
            assert_eq!(evict(&mut s, 1), 1);
        }
        let mut l = s.engine.keyspace.lock_all();
        let sizes: Vec<usize> = l
            .shards_mut()
            .map(|(_, sh)| candidates(sh, false))
            .collect();
        let max = sizes.iter().copied().max().unwrap_or(0);
        assert_eq!(sizes.iter().sum::<usize>(), 1024);
        // Binomial(1024, 1/64): mean 16, sd 4; 40 is six sd out.
        assert!(max < 40, "{sizes:?}");
    }

    #[test]
    fn time_limits_follow_tenacity() {
        assert_eq!(time_limit(0), Some(Duration::ZERO));
        assert_eq!(time_limit(10), Some(Duration::from_micros(500)));
        assert_eq!(time_limit(11), Some(Duration::from_micros(575)));
        assert_eq!(time_limit(100), None);
    }

    #[test]
    fn noeviction_refuses_writes_and_keeps_reads() {
        let mut s = Session::new();
        assert_eq!(s.run(&["SET", "k", "v"]), Frame::OK);
        assert_eq!(s.run(&["CONFIG", "SET", "maxmemory", "1"]), Frame::OK);
        assert_eq!(s.run(&["SET", "k2", "v"]), err(OOM_ERROR));
        assert_eq!(s.run(&["GET", "k"]), bulk("v"));
        // Deletions are not denyoom.
        assert_eq!(s.run(&["DEL", "k"]), int(1));
        assert_eq!(s.engine.evict.check(&s.engine), Outcome::Fail);
        assert_eq!(s.run(&["CONFIG", "SET", "maxmemory", "0"]), Frame::OK);
        assert_eq!(s.run(&["SET", "k2", "v"]), Frame::OK);
    }

    #[test]
    fn oom_refuses_queuing_in_multi() {
        let mut s = Session::new();
        assert_eq!(s.run(&["MULTI"]), Frame::OK);
        assert_eq!(
            s.run(&["CONFIG", "SET", "maxmemory", "1"]),
            Frame::simple("QUEUED")
        );
        assert!(matches!(s.run(&["EXEC"]), Frame::Array(_)));
        assert_eq!(s.run(&["MULTI"]), Frame::OK);
        assert_eq!(s.run(&["GET", "k"]), err(OOM_ERROR));
        assert_eq!(
            s.run(&["EXEC"]),
            err("EXECABORT Transaction discarded because of previous errors.")
        );
        assert_eq!(s.run(&["CONFIG", "SET", "maxmemory", "0"]), Frame::OK);
    }

    #[test]
    fn volatile_policies_never_take_keys_without_ttl() {
        for policy in [
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
        ] {
            let mut s = Session::new();
            s.run(&["CONFIG", "SET", "maxmemory-policy", policy]);
            for i in 0..50 {
                s.run(&["SET", &format!("p{i}"), "x"]);
                s.run(&["SET", &format!("v{i}"), "x", "EX", "1000"]);
            }
            assert_eq!(evict(&mut s, 1000), 50, "{policy}");
            let left = keys(&mut s);
            assert_eq!(left.len(), 50, "{policy}");
            assert!(left.iter().all(|k| k.starts_with('p')), "{policy}");
            // Nothing evictable: with a limit, writes are refused.
            s.run(&["CONFIG", "SET", "maxmemory", "1"]);
            assert_eq!(s.run(&["SET", "x", "y"]), err(OOM_ERROR), "{policy}");
            assert_eq!(s.run(&["GET", "p1"]), bulk("x"));
        }
    }

    #[test]
    fn allkeys_policies_empty_everything() {
        for policy in ["allkeys-lru", "allkeys-lfu", "allkeys-random"] {
            let mut s = Session::new();
            s.run(&["CONFIG", "SET", "maxmemory-policy", policy]);
            s.run(&["SELECT", "3"]);
            for i in 0..100 {
                s.run(&["SET", &format!("k{i}"), "x"]);
            }
            assert_eq!(evict(&mut s, 40), 40, "{policy}");
            assert_eq!(s.run(&["DBSIZE"]), int(60));
            assert_eq!(evict(&mut s, 1000), 60, "{policy}");
            let info = match s.run(&["INFO", "stats"]) {
                Frame::Bulk(b) | Frame::Verbatim { text: b, .. } => {
                    String::from_utf8_lossy(&b).into_owned()
                }
                f => format!("{f:?}"),
            };
            assert!(info.contains("evicted_keys:100\r\n"), "{info}");
        }
    }

    #[test]
    fn volatile_ttl_takes_nearest_deadline_first() {
        let mut s = Session::new();
        s.run(&["CONFIG", "SET", "maxmemory-policy", "volatile-ttl"]);
        s.run(&["CONFIG", "SET", "maxmemory-samples", "64"]);
        for i in 0..20 {
            s.run(&[
                "SET",
                &format!("t{i:02}"),
                "x",
                "EX",
                &(1000 + i * 100).to_string(),
            ]);
        }
        assert_eq!(evict(&mut s, 5), 5);
        let mut left = keys(&mut s);
        left.sort();
        // With 64 samples of 20 keys the pool sees nearly all of them; the five nearest
        // deadlines went (allow one miss of sampling).
        let nearest_gone = (0..5)
            .filter(|i| !left.contains(&format!("t{i:02}")))
            .count();
        assert!(nearest_gone >= 4, "{left:?}");
    }

    #[test]
    fn lru_keeps_recently_read_keys() {
        let mut s = Session::new();
        s.run(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]);
        s.run(&["CONFIG", "SET", "maxmemory-samples", "10"]);
        for i in 0..100 {
            s.run(&["SET", &format!("k{i}"), "x"]);
        }
        // Age every key by 100 s, then read the first ten.
        let old = crate::time::lru_from_idle_secs(100, crate::time::now_ms());
        set_all_lru(&mut s, old);
        for i in 0..10 {
            s.run(&["GET", &format!("k{i}")]);
        }
        assert_eq!(evict(&mut s, 80), 80);
        let left = keys(&mut s);
        let hot = (0..10).filter(|i| left.contains(&format!("k{i}"))).count();
        assert_eq!(hot, 10, "{left:?}");
    }

    #[test]
    fn lfu_keeps_frequently_read_keys() {
        let mut s = Session::new();
        s.run(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]);
        s.run(&["CONFIG", "SET", "maxmemory-samples", "10"]);
        for i in 0..100 {
            s.run(&["SET", &format!("k{i}"), "x"]);
        }
        for _ in 0..50 {
            for i in 0..10 {
                s.run(&["GET", &format!("k{i}")]);
            }
        }
        assert_eq!(evict(&mut s, 80), 80);
        let left = keys(&mut s);
        let hot = (0..10).filter(|i| left.contains(&format!("k{i}"))).count();
        assert_eq!(hot, 10, "{left:?}");
        // OBJECT FREQ reports the counter.
        match s.run(&["OBJECT", "FREQ", "k1"]) {
            Frame::Integer(n) => assert!(n > i64::from(LFU_INIT_VAL), "{n}"),
            f => panic!("{f:?}"),
        }
    }

    fn set_all_lru(s: &mut Session, lru: u32) {
        let mut l = s.engine.keyspace.lock_all();
        for (_, shard) in l.shards_mut() {
            for d in shard.dbs.iter_mut() {
                for b in 0..d.dict.buckets() {
                    d.dict.retain_bucket(b, |_, e| {
                        e.lru = lru;
                        true
                    });
                }
            }
        }
    }

    #[test]
    fn eviction_brings_memory_under_the_limit() {
        let mut s = Session::new();
        s.run(&["CONFIG", "SET", "maxmemory-policy", "allkeys-random"]);
        let value = "x".repeat(1000);
        for i in 0..2000 {
            s.run(&["SET", &format!("k{i}"), &value]);
        }
        // Other tests allocate in this process at the same time: aim a limit 1 MB under the
        // current figure and check that keys went rather than an exact figure.
        let limit = memory::used_memory().saturating_sub(1 << 20);
        s.run(&["CONFIG", "SET", "maxmemory", &limit.to_string()]);
        s.run(&["CONFIG", "SET", "maxmemory-eviction-tenacity", "100"]);
        let before = s.engine.stats.evicted_keys.load(Ordering::Relaxed);
        s.run(&["PING"]);
        let after = s.engine.stats.evicted_keys.load(Ordering::Relaxed);
        assert!(after - before >= 500, "evicted {}", after - before);
        s.run(&["CONFIG", "SET", "maxmemory", "0"]);
    }
}
