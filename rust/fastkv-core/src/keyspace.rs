//! The keyspace: databases split into shards by key hash, each shard behind its own lock.
//!
//! Layout: `Keyspace.shards[s].dbs[db]` is the part of database `db` whose keys hash to shard
//! `s` (the top bits of [`hash_key`]; the bottom bits pick the bucket inside the shard's
//! [`Dict`]). A shard holds its slice of *every* database, so MOVE, COPY ... DB and SWAPDB stay
//! inside the shards a command has locked.
//!
//! Locking: handlers never lock. The dispatcher reads the command's key positions from the
//! command table, locks those shards in ascending index order (or every shard, for commands
//! flagged `ALL_KEYS`), and hands the handler a [`Locked`] view. Ascending order makes deadlock
//! impossible; holding the guards for the whole handler makes every command atomic, as in
//! Redis. The lock is `parking_lot::Mutex`, not tokio's: critical sections are short, never
//! cross an `.await`, an fsync or a call into Python, and an uncontended lock is one atomic
//! instruction. It does not poison, so a panicking handler (a bug, surfaced to Python as an
//! exception) does not wedge the shard for everyone else.
//!
//! Expiry: each entry carries its deadline (ms since the epoch, 0 = none). Reads and writes go
//! through [`Locked::get`] / [`Locked::get_mut`], which delete an expired key first (lazy
//! expiry); [`Keyspace::sweep`] is the active cycle.

use crate::dict::{hash_key, Dict, DictValue, NIL};
use crate::types::Value;
use parking_lot::{Mutex, MutexGuard};
use std::sync::atomic::{AtomicBool, Ordering};

/// One key's value and metadata.
#[derive(Debug, Clone)]
pub struct Entry {
    pub value: Value,
    /// Deadline in ms since the epoch; 0 = no expiry. Change it only through
    /// [`Locked::set_expire`] / [`Locked::persist`], which keep the per-db counters right.
    expire_at: u64,
    /// Access metadata, Redis's `robj.lru`. Under an LRU (or no) policy: the last access time
    /// in ticks of [`crate::time::LRU_TICK_MS`] (mod 2^32; OBJECT IDLETIME, LRU eviction). Under an LFU policy: the low 24
    /// bits hold the last decrement time in minutes (16 bits) and the logarithmic access
    /// counter (8 bits), see [`crate::evict`]. Switching policy reinterprets the bits, as
    /// Redis does ("LRU and LFU data will take some time to adjust").
    pub lru: u32,
    /// The table's chain link (the next node of this key's bucket, see [`crate::dict`]): kept
    /// here, in what would be the padding after `lru`, so that it costs the node nothing.
    /// Owned by the [`Dict`]: never overwrite a stored entry as a whole through a `&mut Entry`
    /// (that would carry the new entry's link in); replace it through [`Locked::set`] /
    /// [`Locked::insert_entry`], or carry the link over as [`Locked::set`] does.
    link: u32,
}

// The link must fill padding, not add a word: an entry is its value plus two words.
const _: () = assert!(std::mem::size_of::<Entry>() == std::mem::size_of::<Value>() + 16);
// And a keyspace node is the key plus the entry, nothing else.
const _: () = assert!(
    Dict::<Entry>::node_size()
        == std::mem::size_of::<crate::types::string::SmallBytes>() + std::mem::size_of::<Entry>()
);

impl DictValue for Entry {
    type Stored = Entry;

    #[inline]
    fn store(mut self, link: u32) -> Entry {
        self.link = link;
        self
    }
    #[inline]
    fn unstore(s: Entry) -> Entry {
        s
    }
    #[inline]
    fn value(s: &Entry) -> &Entry {
        s
    }
    #[inline]
    fn value_mut(s: &mut Entry) -> &mut Entry {
        s
    }
    #[inline]
    fn link(s: &Entry) -> u32 {
        s.link
    }
    #[inline]
    fn set_link(s: &mut Entry, link: u32) {
        s.link = link;
    }
}

impl Entry {
    pub fn new(value: Value) -> Self {
        Entry {
            value,
            expire_at: 0,
            lru: crate::time::lru_clock(),
            link: NIL,
        }
    }

    pub fn expire_at(&self) -> Option<u64> {
        (self.expire_at != 0).then_some(self.expire_at)
    }

    fn expired(&self, now_ms: u64) -> bool {
        self.expire_at != 0 && self.expire_at <= now_ms
    }

    /// A new entry with a deadline (ms since the epoch; 0 = none). Store it with
    /// [`Locked::insert_entry`], which counts the deadline.
    pub fn with_expire(value: Value, expire_at: u64) -> Self {
        Entry {
            expire_at,
            ..Entry::new(value)
        }
    }

    /// Whether the deadline has passed at `now_ms` (the entry is logically gone).
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expired(now_ms)
    }
}

/// Keys deleted on expiry, as (db, key), waiting to be announced.
pub type ExpiredKeys = Vec<(usize, Box<[u8]>)>;

/// One shard's slice of one database.
#[derive(Default)]
pub struct Db {
    pub dict: Dict<Entry>,
    /// Keys with a deadline (INFO keyspace `expires=`).
    pub volatile: usize,
    /// Where the active-expiry sweep resumes (a bucket index).
    sweep_at: usize,
}

/// One lock's worth of the keyspace.
pub struct Shard {
    pub dbs: Box<[Db]>,
}

pub struct Keyspace {
    shards: Box<[Mutex<Shard>]>,
    shard_bits: u32,
    databases: usize,
    /// Whether an LFU policy is selected: new entries then start with the LFU counter's
    /// initial value and overwrites keep the old counter (set by [`crate::evict`]).
    lfu: AtomicBool,
    /// Under LFU, the counters of recently evicted keys, which a new key of the same name
    /// resumes from (see [`crate::evict::LfuHistory`]).
    pub lfu_history: crate::evict::LfuHistory,
}

/// Shards per keyspace: several per core so that two commands rarely meet on one lock, few
/// enough that locking all of them (KEYS, FLUSHALL, EXEC) stays cheap.
pub const DEFAULT_SHARD_BITS: u32 = 6;

impl Keyspace {
    pub fn new(databases: usize, shard_bits: u32) -> Self {
        let n = 1usize << shard_bits;
        let shards = (0..n)
            .map(|_| {
                Mutex::new(Shard {
                    dbs: (0..databases).map(|_| Db::default()).collect(),
                })
            })
            .collect();
        Keyspace {
            shards,
            shard_bits,
            databases,
            lfu: AtomicBool::new(false),
            lfu_history: Default::default(),
        }
    }

    /// Selects the meaning of [`Entry::lru`] for new entries (LFU or LRU).
    pub fn set_lfu(&self, on: bool) {
        self.lfu.store(on, Ordering::Relaxed);
    }

    pub fn lfu(&self) -> bool {
        self.lfu.load(Ordering::Relaxed)
    }

    /// The access metadata of a value created now: the LRU clock, or under LFU the current
    /// minute and the initial counter (Redis's `createObject`).
    pub fn fresh_lru(&self, now_ms: u64) -> u32 {
        if self.lfu() {
            crate::evict::lfu_fresh(now_ms)
        } else {
            crate::time::lru_clock_at(now_ms)
        }
    }

    pub fn databases(&self) -> usize {
        self.databases
    }

    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    pub fn shard_bits(&self) -> u32 {
        self.shard_bits
    }

    /// The shard a key hash belongs to: its top bits (the bucket uses the bottom bits).
    pub fn shard_of_hash(&self, hash: u64) -> usize {
        if self.shard_bits == 0 {
            0
        } else {
            (hash >> (64 - self.shard_bits)) as usize
        }
    }

    pub fn shard_of(&self, key: &[u8]) -> usize {
        self.shard_of_hash(hash_key(key))
    }

    /// Locks the given shards. `shards` must be sorted ascending and free of duplicates.
    pub fn lock(&self, shards: &[usize]) -> Locked<'_> {
        debug_assert!(shards.windows(2).all(|w| w[0] < w[1]));
        let guards = match shards {
            [one] => Guards::One([(*one, self.shards[*one].lock())]),
            _ => Guards::Many(shards.iter().map(|&i| (i, self.shards[i].lock())).collect()),
        };
        Locked {
            ks: self,
            guards,
            all: false,
            expired: 0,
            expired_keys: Vec::new(),
        }
    }

    /// Locks one shard if no one holds it, without waiting: for the eviction sampler, which
    /// may take any shard and must not queue behind a command that holds one for long (storing
    /// a value of tens of megabytes copies it under the lock).
    pub fn try_lock_one(&self, shard: usize) -> Option<Locked<'_>> {
        let guard = self.shards.get(shard)?.try_lock()?;
        Some(Locked {
            ks: self,
            guards: Guards::One([(shard, guard)]),
            all: false,
            expired: 0,
            expired_keys: Vec::new(),
        })
    }

    /// Locks every shard, in order.
    pub fn lock_all(&self) -> Locked<'_> {
        let guards = Guards::Many(
            self.shards
                .iter()
                .enumerate()
                .map(|(i, m)| (i, m.lock()))
                .collect(),
        );
        Locked {
            ks: self,
            guards,
            all: true,
            expired: 0,
            expired_keys: Vec::new(),
        }
    }

    /// Locks the shards of these keys (sorted, deduplicated).
    /// No heap allocation for zero or one key (the common single-key command).
    pub fn lock_keys<'k>(&self, keys: impl IntoIterator<Item = &'k [u8]>) -> Locked<'_> {
        let mut keys = keys.into_iter();
        let Some(first) = keys.next() else {
            return self.lock(&[]);
        };
        let first = self.shard_of(first);
        let Some(second) = keys.next() else {
            return self.lock(&[first]);
        };
        let second = self.shard_of(second);
        if self.shards.len() <= 64 {
            // The usual table (64 shards): a bit per shard sorts and dedups with no allocation.
            let mut mask = (1u64 << first) | (1u64 << second);
            for k in keys {
                mask |= 1u64 << self.shard_of(k);
            }
            let mut idx = [0usize; 64];
            let mut n = 0;
            while mask != 0 {
                idx[n] = mask.trailing_zeros() as usize;
                n += 1;
                mask &= mask - 1;
            }
            return self.lock(&idx[..n]);
        }
        let mut idx = vec![first, second];
        idx.extend(keys.map(|k| self.shard_of(k)));
        idx.sort_unstable();
        idx.dedup();
        self.lock(&idx)
    }

    /// One step of active expiry over one shard: visits up to `budget` buckets of each
    /// database slice that has volatile keys, deleting expired keys. Returns (checked,
    /// expired). Locks only that shard, briefly. With a `sink`, the deleted keys are noted
    /// there as (db, key), for the caller to announce once the lock is released.
    pub fn sweep(
        &self,
        shard: usize,
        now_ms: u64,
        budget: usize,
        mut sink: Option<&mut ExpiredKeys>,
    ) -> (usize, usize) {
        let Some(m) = self.shards.get(shard) else {
            return (0, 0);
        };
        let mut s = m.lock();
        let mut checked = 0;
        let mut expired = 0;
        for (dbi, db) in s.dbs.iter_mut().enumerate() {
            if db.volatile == 0 {
                continue;
            }
            let n = db.dict.buckets();
            for _ in 0..budget.min(n) {
                let b = db.sweep_at % n;
                db.sweep_at = (b + 1) % n;
                let mut gone = 0;
                db.dict.retain_bucket(b, |k, e| {
                    checked += 1;
                    if e.expired(now_ms) {
                        gone += 1;
                        if let Some(sink) = sink.as_deref_mut() {
                            sink.push((dbi, k.into()));
                        }
                        false
                    } else {
                        true
                    }
                });
                db.volatile -= gone;
                expired += gone;
            }
            if expired > 0 {
                db.dict.maybe_shrink();
            }
        }
        (checked, expired)
    }

    /// Recounts the keys with a deadline in every database slice and compares the result with
    /// the `volatile` counters. O(keys), locks each shard in turn: for tests and debug checks.
    pub fn check_counters(&self) -> Result<(), String> {
        for (si, m) in self.shards.iter().enumerate() {
            let s = m.lock();
            for (db, d) in s.dbs.iter().enumerate() {
                let counted = d.dict.iter().filter(|(_, e)| e.expire_at != 0).count();
                if counted != d.volatile {
                    return Err(format!(
                        "shard {si} db {db}: volatile counter {} but {counted} keys with a deadline",
                        d.volatile
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The live entry of `key` (hash `h`) in `d`, deleting it first if it has expired: then
/// counted in `expired` and noted in `sink` as (db, key).
fn lookup<'d>(
    d: &'d mut Db,
    h: u64,
    db: usize,
    key: &[u8],
    now_ms: u64,
    expired: &mut u64,
    sink: &mut ExpiredKeys,
) -> Option<&'d mut Entry> {
    // No key of this slice has a deadline: none can have expired, one probe does (the
    // common case; the expiry check below needs a second probe to satisfy the borrow rules).
    if d.volatile == 0 {
        return d.dict.get_mut(h, key);
    }
    if d.dict.get(h, key)?.expired(now_ms) {
        if let Some((k, _)) = d.dict.remove(h, key) {
            sink.push((db, k));
        }
        d.volatile -= 1;
        *expired += 1;
        return None;
    }
    d.dict.get_mut(h, key)
}

/// The shards a command holds. Every key the handler touches must belong to one of them; the
/// dispatcher guarantees it from the command table's key positions.
pub struct Locked<'a> {
    ks: &'a Keyspace,
    guards: Guards<'a>,
    all: bool,
    /// Keys found expired and deleted on access through this view (INFO `expired_keys`).
    pub expired: u64,
    /// Those keys, as (db, key), until the dispatcher announces them (keyspace event
    /// `expired`, WATCH). Allocates only when a key expires.
    pub expired_keys: ExpiredKeys,
}

impl<'a> Locked<'a> {
    pub fn keyspace(&self) -> &'a Keyspace {
        self.ks
    }

    pub fn holds_all(&self) -> bool {
        self.all
    }

    fn shard_mut(&mut self, shard: usize) -> &mut Shard {
        shard_in(self.guards.as_mut_slice(), self.all, shard)
    }

    /// The db slice holding `key` in database `db`, and the key's hash.
    fn db_mut(&mut self, db: usize, key: &[u8]) -> (&mut Db, u64) {
        let h = hash_key(key);
        let s = self.ks.shard_of_hash(h);
        (&mut self.shard_mut(s).dbs[db], h)
    }

    /// The live entry of `key`, deleting it first if it has expired.
    pub fn get(&mut self, db: usize, key: &[u8], now_ms: u64) -> Option<&mut Entry> {
        let h = hash_key(key);
        let s = self.ks.shard_of_hash(h);
        // Borrow only `guards` so that the expiry fields stay writable below.
        let d = &mut shard_in(self.guards.as_mut_slice(), self.all, s).dbs[db];
        lookup(
            d,
            h,
            db,
            key,
            now_ms,
            &mut self.expired,
            &mut self.expired_keys,
        )
    }

    /// [`Locked::get`], but a key found expired is noted in `sink` instead of
    /// [`Locked::expired_keys`], so that the caller can announce it while it still holds the
    /// result's borrow of this view.
    pub fn get_noting(
        &mut self,
        db: usize,
        key: &[u8],
        now_ms: u64,
        sink: &mut ExpiredKeys,
    ) -> Option<&mut Entry> {
        self.get_noting_hashed(db, key, hash_key(key), now_ms, sink)
    }

    /// [`Locked::get_noting`] for a key whose hash ([`hash_key`]) the caller already has
    /// (the dispatcher hashes a command's key once, to pick the shard to lock).
    pub fn get_noting_hashed(
        &mut self,
        db: usize,
        key: &[u8],
        h: u64,
        now_ms: u64,
        sink: &mut ExpiredKeys,
    ) -> Option<&mut Entry> {
        let s = self.ks.shard_of_hash(h);
        let d = &mut shard_in(self.guards.as_mut_slice(), self.all, s).dbs[db];
        lookup(d, h, db, key, now_ms, &mut self.expired, sink)
    }

    /// The live value of `key`.
    pub fn get_value(&mut self, db: usize, key: &[u8], now_ms: u64) -> Option<&mut Value> {
        self.get(db, key, now_ms).map(|e| &mut e.value)
    }

    pub fn exists(&mut self, db: usize, key: &[u8], now_ms: u64) -> bool {
        self.get(db, key, now_ms).is_some()
    }

    /// Stores `value` at `key`. With `keep_ttl` an existing deadline stays, else it is removed
    /// (SET's semantics). Returns the previous live entry.
    pub fn set(
        &mut self,
        db: usize,
        key: &[u8],
        value: Value,
        keep_ttl: bool,
        now_ms: u64,
    ) -> Option<Entry> {
        self.set_hashed(db, key, hash_key(key), value, keep_ttl, now_ms)
    }

    /// [`Locked::set`] for a key whose hash ([`hash_key`]) the caller already has.
    pub fn set_hashed(
        &mut self,
        db: usize,
        key: &[u8],
        h: u64,
        value: Value,
        keep_ttl: bool,
        now_ms: u64,
    ) -> Option<Entry> {
        let ks = self.ks;
        let lfu = ks.lfu();
        let fresh = ks.fresh_lru(now_ms);
        let s = ks.shard_of_hash(h);
        let d = &mut self.shard_mut(s).dbs[db];
        let mut entry = Entry::new(value);
        entry.lru = fresh;
        match d.dict.get_mut(h, key) {
            Some(old) => {
                let was_live = !old.expired(now_ms);
                if keep_ttl && was_live {
                    entry.expire_at = old.expire_at;
                } else if old.expire_at != 0 {
                    d.volatile -= 1;
                }
                // Under LFU an overwrite keeps the key's access counter (Redis's
                // `dbOverwrite`): a hot key stays hot when its value changes.
                if lfu && was_live {
                    entry.lru = old.lru;
                }
                // The stored entry's chain link stays.
                entry.link = old.link;
                let old = std::mem::replace(old, entry);
                was_live.then_some(old)
            }
            None => {
                if lfu {
                    if let Some(lru) = ks.lfu_history.resume(h, now_ms) {
                        entry.lru = lru;
                    }
                }
                d.dict.insert_new(h, key.into(), entry);
                None
            }
        }
    }

    /// Inserts a whole entry (with its deadline), replacing any previous one.
    pub fn insert_entry(
        &mut self,
        db: usize,
        key: &[u8],
        entry: Entry,
        now_ms: u64,
    ) -> Option<Entry> {
        let (d, h) = self.db_mut(db, key);
        if entry.expire_at != 0 {
            d.volatile += 1;
        }
        let old = d.dict.insert(h, key, entry)?;
        if old.expire_at != 0 {
            d.volatile -= 1;
        }
        (!old.expired(now_ms)).then_some(old)
    }

    /// Removes `key`; returns its entry if it was live.
    pub fn remove(&mut self, db: usize, key: &[u8], now_ms: u64) -> Option<Entry> {
        let (d, h) = self.db_mut(db, key);
        let (_, e) = d.dict.remove(h, key)?;
        if e.expire_at != 0 {
            d.volatile -= 1;
        }
        (!e.expired(now_ms)).then_some(e)
    }

    /// Sets the deadline of an existing key (ms since the epoch). Returns false if the key
    /// does not exist.
    pub fn set_expire(&mut self, db: usize, key: &[u8], at_ms: u64, now_ms: u64) -> bool {
        let (d, h) = self.db_mut(db, key);
        match d.dict.get_mut(h, key) {
            Some(e) if !e.expired(now_ms) => {
                if e.expire_at == 0 {
                    d.volatile += 1;
                }
                e.expire_at = at_ms.max(1);
                true
            }
            _ => false,
        }
    }

    /// Removes the deadline of a key. Returns true if it had one.
    pub fn persist(&mut self, db: usize, key: &[u8], now_ms: u64) -> bool {
        let (d, h) = self.db_mut(db, key);
        match d.dict.get_mut(h, key) {
            Some(e) if !e.expired(now_ms) && e.expire_at != 0 => {
                e.expire_at = 0;
                d.volatile -= 1;
                true
            }
            _ => false,
        }
    }

    /// The shards this view holds, with their indexes (for whole-keyspace commands).
    pub fn shards_mut(&mut self) -> impl Iterator<Item = (usize, &mut Shard)> + use<'_, 'a> {
        self.guards
            .as_mut_slice()
            .iter_mut()
            .map(|(i, g)| (*i, &mut **g))
    }

    /// Number of keys (live or not yet swept) in database `db` across held shards.
    pub fn dbsize(&mut self, db: usize) -> usize {
        self.shards_mut().map(|(_, s)| s.dbs[db].dict.len()).sum()
    }

    /// Calls `f` for every live key of database `db` in the held shards (KEYS).
    pub fn for_each_live(&mut self, db: usize, now_ms: u64, mut f: impl FnMut(&[u8], &Entry)) {
        for (_, s) in self.shards_mut() {
            for (k, e) in s.dbs[db].dict.iter() {
                if !e.expired(now_ms) {
                    f(k, e);
                }
            }
        }
    }

    /// One step of a SCAN over all of database `db`: visits one bucket of one shard's table,
    /// calling `f` for each entry there (expired ones included: the caller filters), and
    /// returns the next cursor, 0 when the iteration is complete.
    ///
    /// Cursor layout: the low `shard_bits` bits name the shard, the bits above are that
    /// shard's [`Dict::scan_step`] cursor. Shards are walked in ascending order, each with the
    /// reverse-binary bucket cursor, so every key present for the whole iteration is returned
    /// even if tables grow or shrink between calls. A shard's cursor 0 is its start, so
    /// moving on to shard `s + 1` yields the cursor `s + 1`, never 0 until the last shard
    /// ends. Needs every shard locked (commands flagged `ALL_KEYS`).
    pub fn scan_step(&mut self, db: usize, cursor: u64, f: impl FnMut(&[u8], &Entry)) -> u64 {
        let bits = self.ks.shard_bits;
        let shard_mask = (1u64 << bits) - 1;
        let shard = (cursor & shard_mask) as usize;
        let inner = cursor >> bits;
        let next = self.shard_mut(shard).dbs[db].dict.scan_step(inner, f);
        if next != 0 {
            return (next << bits) | shard as u64;
        }
        let following = shard + 1;
        if following >= self.ks.shard_count() {
            0
        } else {
            following as u64
        }
    }

    /// A random live key of database `db` among the held shards (RANDOMKEY), deleting the
    /// expired keys it draws on the way, as Redis does. Shards are weighted by their key
    /// count, then [`Dict::random_entry`] picks within one. `rnd` supplies random numbers.
    pub fn random_key(
        &mut self,
        db: usize,
        now_ms: u64,
        mut rnd: impl FnMut() -> u64,
    ) -> Option<Vec<u8>> {
        loop {
            let total: usize = self
                .guards
                .as_slice()
                .iter()
                .map(|(_, g)| g.dbs[db].dict.len())
                .sum();
            if total == 0 {
                return None;
            }
            let mut pick = (rnd() % total as u64) as usize;
            let mut chosen = None;
            for (gi, (_, g)) in self.guards.as_slice().iter().enumerate() {
                let n = g.dbs[db].dict.len();
                if pick < n {
                    chosen = Some(gi);
                    break;
                }
                pick -= n;
            }
            let d = &mut self.guards.as_mut_slice()[chosen?].1.dbs[db];
            let (key, expired) = {
                let (k, e) = d.dict.random_entry(&mut rnd)?;
                (k.to_vec(), e.expired(now_ms))
            };
            if !expired {
                return Some(key);
            }
            // Each round deletes the expired key it drew, so the loop ends.
            if let Some((k, _)) = d.dict.remove(hash_key(&key), &key) {
                d.volatile -= 1;
                self.expired += 1;
                self.expired_keys.push((db, k));
            }
        }
    }

    /// Empties database `db` (or every database with `None`) in the held shards, keeping the
    /// counters right. Returns how many keys were removed and the emptied tables, for the
    /// caller to drop here (FLUSHDB SYNC) or on another thread (ASYNC).
    pub fn flush(&mut self, db: Option<usize>) -> (usize, Vec<Dict<Entry>>) {
        let mut removed = 0;
        let mut tables = Vec::new();
        for (_, s) in self.shards_mut() {
            for (i, d) in s.dbs.iter_mut().enumerate() {
                if db.is_some_and(|want| want != i) || d.dict.is_empty() {
                    continue;
                }
                removed += d.dict.len();
                tables.push(std::mem::take(&mut d.dict));
                d.volatile = 0;
                d.sweep_at = 0;
            }
        }
        (removed, tables)
    }

    /// Swaps databases `a` and `b` in every held shard (SWAPDB, which holds them all).
    pub fn swap_db(&mut self, a: usize, b: usize) {
        for (_, s) in self.shards_mut() {
            s.dbs.swap(a, b);
        }
    }
}

/// The shard guards a [`Locked`] holds: one inline (single-key commands, the hot path: no
/// heap allocation per command) or any number, ascending by shard index.
enum Guards<'a> {
    One([(usize, MutexGuard<'a, Shard>); 1]),
    Many(Vec<(usize, MutexGuard<'a, Shard>)>),
}

impl<'a> Guards<'a> {
    fn as_slice(&self) -> &[(usize, MutexGuard<'a, Shard>)] {
        match self {
            Guards::One(g) => g,
            Guards::Many(v) => v,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [(usize, MutexGuard<'a, Shard>)] {
        match self {
            Guards::One(g) => g,
            Guards::Many(v) => v,
        }
    }
}

/// The guard of shard `shard` among those held.
fn shard_in<'g, 'a>(
    guards: &'g mut [(usize, MutexGuard<'a, Shard>)],
    all: bool,
    shard: usize,
) -> &'g mut Shard {
    if all {
        return &mut guards[shard].1;
    }
    match guards.iter_mut().find(|(i, _)| *i == shard) {
        Some((_, g)) => g,
        // The dispatcher locks every shard named by the command table's key positions; a
        // handler touching another key is a bug in that table, not a user error.
        None => panic!("shard {shard} used without being locked (command table key spec)"),
    }
}
