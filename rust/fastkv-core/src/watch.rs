//! WATCH and MULTI state: the engine-wide watch registry and each client's transaction.
//!
//! A client that WATCHes keys gets one shared dirty flag ([`WatchFlag`]), registered in
//! [`Watches`] under every `(db, key)` it watches. Any change to a watched key sets the flag
//! of every client watching it, and EXEC refuses to run (null reply) once its flag is set.
//!
//! Where changes are seen:
//! - Commands: the dispatcher notes, per command, the keys it wrote through the [`Ctx`]
//!   helpers (`set`, `remove`, `insert_entry`, `update_collection`, `set_expire`, `persist`);
//!   when a handler changed data some other way (`ctx.dirty` counted more changes than the
//!   helpers saw), every key position of the command is touched instead. This covers every
//!   client, the embedded API, scripts and EXEC itself: they all run through the dispatcher.
//! - FLUSHDB, FLUSHALL and SWAPDB call [`before_flush`] / [`before_swap`] (Redis touches the
//!   watched keys that exist in either database).
//! - Eviction calls [`Watches::touch`] for each key it deletes.
//! - Expiry needs no hook: WATCH records the deadline of each live key, and EXEC aborts if one
//!   of them has passed (an untouched key still carries the deadline it had at WATCH). This
//!   is Redis 7.0's rule: a key that expires between WATCH and EXEC aborts EXEC, a key that
//!   was already expired at WATCH does not.
//!
//! Cost when nobody watches: each command reads one relaxed atomic ([`Watches::active`]) when
//! its context is made; the write helpers test a plain bool. Lock order: shard locks first,
//! then the registry's mutex (never the other way round).
//!
//! [`Ctx`]: crate::dispatch::Ctx

use crate::dispatch::Ctx;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// One watching client's "a watched key changed" flag (Redis's `CLIENT_DIRTY_CAS`).
#[derive(Debug, Default)]
pub struct WatchFlag {
    dirty: AtomicBool,
}

impl WatchFlag {
    pub fn is_dirty(&self) -> bool {
        self.dirty.load(Ordering::Acquire)
    }

    fn set(&self) {
        self.dirty.store(true, Ordering::Release);
    }
}

/// The engine's watch registry: `(db, key)` -> the flags of the clients watching it.
#[derive(Debug, Default)]
pub struct Watches {
    /// Watched `(db, key)` entries: zero means no command needs to look.
    count: AtomicUsize,
    map: Mutex<WatchMap>,
}

/// db -> key -> the flags of the clients watching it.
type WatchMap = HashMap<usize, HashMap<Vec<u8>, Vec<Arc<WatchFlag>>>>;

impl Watches {
    /// Whether any key is watched. One relaxed load: commands read it under their shard
    /// locks, and WATCH registers under the same locks, so a watch on a key a command holds
    /// is always seen.
    #[inline]
    pub fn active(&self) -> bool {
        self.count.load(Ordering::Relaxed) != 0
    }

    /// Marks every client watching `key` of `db` as dirty. The hook for anything that
    /// changes or deletes a key outside the dispatcher (eviction). Cheap when nobody watches.
    pub fn touch(&self, db: usize, key: &[u8]) {
        if !self.active() {
            return;
        }
        let map = self.map.lock();
        touch_in(&map, db, key);
    }

    /// The keys of `db` somebody watches.
    fn watched_in(&self, db: usize) -> Vec<Vec<u8>> {
        self.map
            .lock()
            .get(&db)
            .map(|keys| keys.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn add(&self, db: usize, key: &[u8], flag: &Arc<WatchFlag>) {
        let mut map = self.map.lock();
        let list = map.entry(db).or_default().entry(key.to_vec()).or_default();
        if list.is_empty() {
            self.count.fetch_add(1, Ordering::Relaxed);
        }
        list.push(flag.clone());
    }

    fn remove_all(&self, keys: &[Watched], flag: &Arc<WatchFlag>) {
        let mut map = self.map.lock();
        for w in keys {
            let Some(in_db) = map.get_mut(&w.db) else {
                continue;
            };
            let Some(list) = in_db.get_mut(&w.key) else {
                continue;
            };
            list.retain(|f| !Arc::ptr_eq(f, flag));
            if list.is_empty() {
                in_db.remove(&w.key);
                self.count.fetch_sub(1, Ordering::Relaxed);
                if in_db.is_empty() {
                    map.remove(&w.db);
                }
            }
        }
    }

    /// Watched `(db, key)` entries (tests, INFO).
    pub fn len(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn touch_in(map: &WatchMap, db: usize, key: &[u8]) {
    if let Some(list) = map.get(&db).and_then(|keys| keys.get(key)) {
        for f in list {
            f.set();
        }
    }
}

/// A watched key: its database, name and the deadline it had when WATCHed (live keys only).
#[derive(Debug)]
struct Watched {
    db: usize,
    key: Vec<u8>,
    deadline: Option<u64>,
}

/// A client's watches; dropping it unregisters them.
#[derive(Debug)]
struct Watching {
    registry: Arc<Watches>,
    flag: Arc<WatchFlag>,
    keys: Vec<Watched>,
}

impl Drop for Watching {
    fn drop(&mut self) {
        self.registry.remove_all(&self.keys, &self.flag);
    }
}

/// Commands queued since MULTI.
#[derive(Debug, Default)]
pub struct Multi {
    pub queue: Vec<Vec<Vec<u8>>>,
    /// A command was refused while queuing: EXEC answers EXECABORT.
    pub aborted: bool,
}

/// A client's transaction state: MULTI's queue and its WATCHes. Part of [`crate::Client`];
/// dropping it (client gone, RESET) discards the transaction and unwatches.
#[derive(Debug, Default)]
pub struct TxState {
    multi: Option<Multi>,
    watching: Option<Watching>,
}

impl TxState {
    #[inline]
    pub fn in_multi(&self) -> bool {
        self.multi.is_some()
    }

    /// Enters MULTI; false if already in it.
    pub fn begin(&mut self) -> bool {
        if self.multi.is_some() {
            return false;
        }
        self.multi = Some(Multi::default());
        true
    }

    /// Leaves MULTI, returning the queue (EXEC, DISCARD).
    pub fn take_multi(&mut self) -> Option<Multi> {
        self.multi.take()
    }

    /// Notes a command refused while queuing (unknown, wrong arity, not allowed): EXEC
    /// will answer EXECABORT. No-op outside MULTI.
    #[inline]
    pub fn flag_error(&mut self) {
        if let Some(m) = &mut self.multi {
            m.aborted = true;
        }
    }

    /// Queues a command; returns the queue length. As in Redis, nothing is kept once EXEC
    /// is bound to fail (a refused command, a watched key changed): `multi=` stays put.
    pub fn queue(&mut self, argv: &[&[u8]]) -> usize {
        let dirty = self.is_dirty();
        match &mut self.multi {
            Some(m) => {
                if !m.aborted && !dirty {
                    m.queue.push(argv.iter().map(|a| a.to_vec()).collect());
                }
                m.queue.len()
            }
            None => 0,
        }
    }

    /// The command lines MULTI queued (none outside MULTI).
    pub fn queued_commands(&self) -> &[Vec<Vec<u8>>] {
        self.multi.as_ref().map_or(&[], |m| m.queue.as_slice())
    }

    /// Queued commands, or None outside MULTI (CLIENT LIST `multi=`).
    pub fn queued(&self) -> Option<usize> {
        self.multi.as_ref().map(|m| m.queue.len())
    }

    /// Whether this client watches anything.
    pub fn watching(&self) -> bool {
        self.watching.is_some()
    }

    /// The shared flag of this client's WATCHes, if it watches anything.
    pub fn flag(&self) -> Option<Arc<WatchFlag>> {
        self.watching.as_ref().map(|w| w.flag.clone())
    }

    /// Whether a watched key changed since WATCH (CLIENT LIST flag `d`).
    pub fn is_dirty(&self) -> bool {
        self.watching.as_ref().is_some_and(|w| w.flag.is_dirty())
    }

    /// Whether EXEC must abort at `now_ms`: a watched key changed, or one that was live at
    /// WATCH has reached its deadline since.
    pub fn watch_broken(&self, now_ms: u64) -> bool {
        self.watching.as_ref().is_some_and(|w| {
            w.flag.is_dirty()
                || w.keys
                    .iter()
                    .any(|k| k.deadline.is_some_and(|d| d <= now_ms))
        })
    }

    /// Forgets every watched key (UNWATCH, EXEC, DISCARD).
    pub fn unwatch(&mut self) {
        self.watching = None;
    }

    /// Drops MULTI and WATCH state (RESET).
    pub fn reset(&mut self) {
        self.multi = None;
        self.watching = None;
    }
}

/// WATCH of one key by `ctx`'s client, in its selected database. The caller holds the key's
/// shard (WATCH's key positions), so no write to it can come between the look at its
/// deadline and the registration.
pub fn watch_key(ctx: &mut Ctx<'_, '_>, key: &[u8]) {
    let (db, now) = (ctx.db(), ctx.now);
    let deadline = ctx.ks.get(db, key, now).and_then(|e| e.expire_at());
    let registry = &ctx.engine.watches;
    let w = ctx.client.tx.watching.get_or_insert_with(|| Watching {
        registry: registry.clone(),
        flag: Arc::new(WatchFlag::default()),
        keys: Vec::new(),
    });
    if w.keys.iter().any(|k| k.db == db && k.key == key) {
        return;
    }
    registry.add(db, key, &w.flag);
    w.keys.push(Watched {
        db,
        key: key.to_vec(),
        deadline,
    });
}

/// After a command changed data (`ctx.dirty > 0`) while someone watches: touches the keys it
/// wrote, or, if it changed data the write helpers did not see, every key it names.
pub(crate) fn after_write(ctx: &Ctx<'_, '_>, written: &[(usize, Vec<u8>)], key_args: &[&[u8]]) {
    let map = ctx.engine.watches.map.lock();
    for (db, key) in written {
        touch_in(&map, *db, key);
    }
    let db = ctx.db();
    for key in key_args {
        touch_in(&map, db, key);
    }
}

/// FLUSHDB / FLUSHALL hook, called with every shard held before the data goes: touches the
/// watched keys that exist in `db` (`None`: every database).
pub fn before_flush(ctx: &mut Ctx<'_, '_>, db: Option<usize>) {
    if !ctx.engine.watches.active() {
        return;
    }
    let dbs = match db {
        Some(d) => d..d + 1,
        None => 0..ctx.engine.keyspace.databases(),
    };
    for d in dbs {
        touch_existing(ctx, d, &[d]);
    }
}

/// SWAPDB hook, called with every shard held before the swap: touches the keys watched in
/// either database that exist in either of them.
pub fn before_swap(ctx: &mut Ctx<'_, '_>, a: usize, b: usize) {
    if !ctx.engine.watches.active() || a == b {
        return;
    }
    touch_existing(ctx, a, &[a, b]);
    touch_existing(ctx, b, &[a, b]);
}

/// Touches the keys watched in `db` that are live in any of `look_in`.
fn touch_existing(ctx: &mut Ctx<'_, '_>, db: usize, look_in: &[usize]) {
    let now = ctx.now;
    let watches = ctx.engine.watches.clone();
    for key in watches.watched_in(db) {
        if look_in.iter().any(|&d| ctx.ks.exists(d, &key, now)) {
            watches.touch(db, &key);
        }
    }
}
