//! The dispatcher: the one path every command takes, whoever sends it.
//!
//! Like Redis's `processCommand`, it checks once, centrally, before any handler runs: the
//! command exists, the arity fits (with Redis's exact messages), and (as they land) ACLs,
//! memory, MULTI queuing and subscriber mode. Then it locks the shards the command's keys live
//! in — read from the command table, never from the handler — and runs the handler with a
//! [`Ctx`].

use crate::blocking::{BlockRequest, Deliver, Outcome, Rerun, WaiterId};
use crate::client::Client;
use crate::command::{Args, CommandSpec, ALL_KEYS, DENYOOM, FAST, READONLY};
use crate::engine::{Engine, Prepared};
use crate::error::OpError;
use crate::keyspace::{Entry, Locked};
use crate::types::{Collection, Value};
use fastkv_resp::Frame;
use std::sync::atomic::Ordering;

/// What a handler works with: `'a` is the command's borrow of its client, `'k` the
/// engine's (the shard locks may outlive one command: EXEC, scripts).
pub struct Ctx<'a, 'k> {
    pub engine: &'k Engine,
    pub client: &'a mut Client,
    /// The shards this command holds.
    pub ks: Locked<'k>,
    /// The command's clock (ms since the epoch), read once per command as Redis does.
    pub now: u64,
    /// Keys changed by this command (feeds `rdb_changes_since_last_save`).
    pub dirty: u64,
    /// Whether lookups count as keyspace hits/misses: only for read-only commands, as Redis
    /// counts only `lookupKeyRead`.
    read_stats: bool,
    /// Set by a blocking command that found nothing to serve (see [`crate::blocking`]); its
    /// return value is then ignored.
    pub block: Option<BlockRequest>,
    /// When a blocked client's command is re-run because this key became ready: the only key
    /// it may serve from (Redis serves a waiter from the key that was signalled).
    pub ready_key: Option<Vec<u8>>,
    /// Keys made ready by this command (`signal_ready`), as (db, key), in signalling order.
    ready: Vec<(usize, Vec<u8>)>,
    /// Keys [`Ctx::get`] found expired, until announced (always empty between lookups).
    expired_now: crate::keyspace::ExpiredKeys,
    /// Somebody WATCHes keys (read once per command): the write helpers then note the keys
    /// they change in `written`, and how many of `dirty`'s changes they account for in
    /// `noted` (see [`crate::watch`]).
    watching: bool,
    written: Vec<(usize, Vec<u8>)>,
    noted: u64,
    /// The hash of the command's key argument, when the dispatcher computed it to pick the
    /// shard to lock: lookups of that argument reuse it.
    key_hint: Option<KeyHint>,
}

/// A command's key argument, by address and length, and its hash.
///
/// Why the address identifies the bytes: the hint is taken from the command's `argv`, which
/// is borrowed (immutable) for longer than the [`Ctx`] lives. While it lives, a non-empty
/// slice with the same address and length *is* that argument — no other live object starts
/// there — and every empty slice hashes alike. So a lookup whose key matches the hint may use
/// its hash; any other key is hashed as usual.
#[derive(Clone, Copy)]
struct KeyHint {
    addr: usize,
    len: usize,
    hash: u64,
}

impl KeyHint {
    fn of(key: &[u8]) -> Self {
        KeyHint {
            addr: key.as_ptr() as usize,
            len: key.len(),
            hash: crate::dict::hash_key(key),
        }
    }
}

impl Ctx<'_, '_> {
    pub fn db(&self) -> usize {
        self.client.db
    }

    /// The hash of `key` if the dispatcher already computed it (see [`KeyHint`]).
    #[inline]
    fn hinted_hash(&self, key: &[u8]) -> Option<u64> {
        let hint = self.key_hint?;
        (hint.addr == key.as_ptr() as usize && hint.len == key.len()).then_some(hint.hash)
    }

    /// WATCH: notes that `key` of `db` was written, accounting for `counted` of `dirty`'s
    /// changes. Free unless somebody watches.
    #[inline]
    fn note_write(&mut self, db: usize, key: &[u8], counted: u64) {
        if self.watching {
            self.written.push((db, key.to_vec()));
            self.noted += counted;
        }
    }

    /// The live entry of `key` in the selected database: an access (it refreshes the key's
    /// LRU clock or LFU counter).
    pub fn get(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let (engine, now) = (self.engine, self.now);
        let e = self.peek(key)?;
        // An access: refresh the LRU clock (OBJECT IDLETIME, eviction). Commands that must
        // not count as an access (TTL, TYPE, EXISTS...) read through `peek` instead.
        // Under an LFU policy this bumps the access counter instead (see [`crate::evict`]).
        engine.evict.touch(&mut e.lru, now);
        Some(e)
    }

    /// The live entry of `key` in the selected database, without counting as an access:
    /// Redis's `LOOKUP_NOTOUCH` read (TTL, TYPE, EXISTS). Read-only commands count the
    /// keyspace hit or miss, and a miss raises the `keymiss` event.
    pub fn peek(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.lookup(key, true, None)
    }

    /// A key this command already looked up (with `get` or `peek`): neither another access
    /// (LRU clock, LFU counter) nor another keyspace hit or miss, as Redis looks a key up once
    /// where fastkv's handlers look twice (a check, then the update).
    pub fn again(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.lookup(key, false, Some(false))
    }

    /// The value of [`Ctx::again`].
    pub fn value_again(&mut self, key: &[u8]) -> Option<&mut Value> {
        self.again(key).map(|e| &mut e.value)
    }

    /// [`Ctx::get`] that counts the keyspace hit or miss (and raises `keymiss`) in any
    /// command: Redis's `lookupKeyRead` inside a write command (GETSET, GETDEL, GETEX,
    /// SET ... GET, COPY's source, SORT's source and BY/GET keys).
    pub fn get_read(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let (engine, now) = (self.engine, self.now);
        let e = self.lookup(key, true, Some(true))?;
        engine.evict.touch(&mut e.lru, now);
        Some(e)
    }

    /// The value of [`Ctx::get_read`].
    pub fn value_read(&mut self, key: &[u8]) -> Option<&mut Value> {
        self.get_read(key).map(|e| &mut e.value)
    }

    /// [`Ctx::peek`] without the `keymiss` event: Redis's `LOOKUP_NOTOUCH | LOOKUP_NONOTIFY`
    /// read (OBJECT), which still counts the keyspace hit or miss.
    pub fn peek_quiet(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.lookup(key, false, None)
    }

    /// The lookup under `get` / `peek`: expires, announces, and counts the hit or miss (raising
    /// `keymiss` if `notify_miss`) when `count` says so — `None`: for read-only commands.
    #[inline]
    fn lookup(&mut self, key: &[u8], notify_miss: bool, count: Option<bool>) -> Option<&mut Entry> {
        let (db, now) = (self.client.db, self.now);
        let found = match self.hinted_hash(key) {
            Some(h) => self
                .ks
                .get_noting_hashed(db, key, h, now, &mut self.expired_now),
            None => self.ks.get_noting(db, key, now, &mut self.expired_now),
        };
        if !self.expired_now.is_empty() {
            self.engine.announce_expired(self.expired_now.drain(..));
        }
        if count.unwrap_or(self.read_stats) {
            let stats = &self.engine.stats;
            match found {
                Some(_) => stats.keyspace_hits.fetch_add(1, Ordering::Relaxed),
                None => {
                    if notify_miss {
                        self.engine
                            .notify(crate::notify::KEY_MISS, "keymiss", db, key);
                    }
                    stats.keyspace_misses.fetch_add(1, Ordering::Relaxed)
                }
            };
        }
        found
    }

    /// Announces the keys this command found expired and deleted (keyspace event `expired`),
    /// in the order it found them.
    pub fn announce_expired(&mut self) {
        self.engine
            .announce_expired(std::mem::take(&mut self.ks.expired_keys));
    }

    /// Publishes keyspace event `event` of `class` (see [`crate::notify`]) for `key` of the
    /// selected database. Free when notifications are off.
    pub fn notify(&self, class: u32, event: &str, key: &[u8]) {
        self.engine.notify(class, event, self.client.db, key);
    }

    /// Notes that `key` (selected database) may now serve blocked clients: called by writes
    /// that leave data where a blocking command waits (a push, LMOVE's destination...). Cheap
    /// when nobody is blocked.
    pub fn signal_ready(&mut self, key: &[u8]) {
        self.signal_ready_in(self.client.db, key);
    }

    /// [`Ctx::signal_ready`] for a key of database `db` (MOVE, COPY ... DB).
    pub fn signal_ready_in(&mut self, db: usize, key: &[u8]) {
        if !self.engine.blocking.anyone_waiting() {
            return;
        }
        if !self.ready.iter().any(|(d, k)| *d == db && k == key) {
            self.ready.push((db, key.to_vec()));
        }
    }

    /// Blocking handlers: whether `key` is one this run may serve from (all keys, except in
    /// a waiter's re-run, which serves only the ready key).
    pub fn may_serve(&self, key: &[u8]) -> bool {
        self.ready_key.as_deref().is_none_or(|k| k == key)
    }

    /// The live value of `key` in the selected database.
    pub fn value(&mut self, key: &[u8]) -> Option<&mut Value> {
        self.get(key).map(|e| &mut e.value)
    }

    /// Runs `f` on the collection at `key`, or on a new empty one if the key is missing
    /// (WRONGTYPE for another type). `f` answers its result and whether it changed anything;
    /// a change is announced as keyspace event `event` (class, name). A new collection is
    /// stored only if `f` left it non-empty; an existing one that `f` emptied is deleted (after
    /// the event, with a `del` event, as Redis orders them).
    pub fn update_collection<C: Collection, T>(
        &mut self,
        key: &[u8],
        event: (u32, &str),
        f: impl FnOnce(&mut C) -> Result<(T, bool), OpError>,
    ) -> Result<T, OpError> {
        self.update_collection_with(key, event, f, true)
    }

    /// [`Ctx::update_collection`] on a key this command already looked up: not another
    /// access (see [`Ctx::again`]).
    pub fn update_collection_again<C: Collection, T>(
        &mut self,
        key: &[u8],
        event: (u32, &str),
        f: impl FnOnce(&mut C) -> Result<(T, bool), OpError>,
    ) -> Result<T, OpError> {
        self.update_collection_with(key, event, f, false)
    }

    fn update_collection_with<C: Collection, T>(
        &mut self,
        key: &[u8],
        event: (u32, &str),
        f: impl FnOnce(&mut C) -> Result<(T, bool), OpError>,
        access: bool,
    ) -> Result<T, OpError> {
        let mut fresh = None;
        let found = if access {
            self.value(key)
        } else {
            self.value_again(key)
        };
        let c = match found {
            Some(v) => C::of(v)?,
            None => fresh.insert(C::empty()),
        };
        let (out, changed) = f(c)?;
        let empty = c.is_empty();
        let existed = fresh.is_none();
        match fresh {
            Some(c) => {
                if !empty {
                    self.set(key, c.into_value(), false);
                }
            }
            None => {
                self.dirty += 1;
                // WATCH: only a real change touches the key (Redis signals no no-op).
                if changed {
                    self.note_write(self.client.db, key, 1);
                } else if self.watching {
                    self.noted += 1;
                }
            }
        }
        if changed {
            self.notify(event.0, event.1, key);
        }
        if existed && empty {
            self.remove(key);
            self.notify(crate::notify::GENERIC, "del", key);
        }
        Ok(out)
    }

    /// SET semantics: store `value`, dropping any deadline unless `keep_ttl`.
    pub fn set(&mut self, key: &[u8], value: Value, keep_ttl: bool) -> Option<Entry> {
        let (db, now) = (self.client.db, self.now);
        self.dirty += 1;
        self.note_write(db, key, 1);
        let wakes = may_wake(&value);
        let old = match self.hinted_hash(key) {
            Some(h) => self.ks.set_hashed(db, key, h, value, keep_ttl, now),
            None => self.ks.set(db, key, value, keep_ttl, now),
        };
        if old.is_none() {
            self.notify(crate::notify::NEW, "new", key);
        }
        if wakes {
            self.signal_ready(key);
        }
        old
    }

    /// Stores a whole entry (value and deadline) in database `db`, replacing any previous one
    /// (RENAME, MOVE, COPY, RESTORE). Like every key creation in Redis, a list or sorted set
    /// stored this way may serve blocked clients.
    pub fn insert_entry(&mut self, db: usize, key: &[u8], entry: Entry) -> Option<Entry> {
        let now = self.now;
        let wakes = may_wake(&entry.value);
        let old = self.ks.insert_entry(db, key, entry, now);
        // The caller counts the change in `dirty`: 0 accounted for here, so a RENAME's
        // source (removed directly) is still touched through the key positions.
        self.note_write(db, key, 0);
        if old.is_none() {
            self.engine.notify(crate::notify::NEW, "new", db, key);
        }
        if wakes {
            self.signal_ready_in(db, key);
        }
        old
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let (db, now) = (self.client.db, self.now);
        let e = self.ks.remove(db, key, now);
        if e.is_some() {
            self.dirty += 1;
            self.note_write(db, key, 1);
        }
        e
    }

    /// Sets an absolute deadline (ms). Returns false if the key does not exist.
    pub fn set_expire(&mut self, key: &[u8], at_ms: u64) -> bool {
        let (db, now) = (self.client.db, self.now);
        let ok = self.ks.set_expire(db, key, at_ms, now);
        if ok {
            self.dirty += 1;
            self.note_write(db, key, 1);
        }
        ok
    }

    pub fn persist(&mut self, key: &[u8]) -> bool {
        let (db, now) = (self.client.db, self.now);
        let ok = self.ks.persist(db, key, now);
        if ok {
            self.dirty += 1;
            self.note_write(db, key, 1);
        }
        ok
    }
}

impl Engine {
    /// Runs one command for `client`. `argv[0]` is the command name. Never panics on any input.
    pub fn execute(&self, client: &mut Client, argv: &[&[u8]]) -> Frame {
        match self.execute_parked(client, argv, Park::Never) {
            Ran::Reply(f) => f,
            // `Park::Never` never registers a waiter.
            Ran::Blocked { .. } | Ran::WouldBlock => Frame::NullArray,
        }
    }

    /// [`Engine::execute`] for a command resolved once with [`Engine::prepared`]: the same
    /// checks, counters and reply, without looking the name up. `argv[0]` is still the name
    /// (MULTI queues the command line as given).
    pub fn execute_prepared(&self, client: &mut Client, cmd: Prepared, argv: &[&[u8]]) -> Frame {
        let ran = match self.admit(client, cmd, argv) {
            Ok((cmd, start)) => self.run_frame(cmd, client, argv, start, Park::Never),
            Err(reply) => Ran::Reply(reply),
        };
        let reply = match ran {
            Ran::Reply(f) => f,
            Ran::Blocked { .. } | Ran::WouldBlock => Frame::NullArray,
        };
        if let Frame::Error(line) = &reply {
            self.stats.count_error(line);
        }
        reply
    }

    /// [`Engine::execute_prepared`] with `handler` in place of the row's handler, for a front
    /// end that wants the reply in another shape than a [`Frame`] (the embedded API copies a
    /// GET's value out of the keyspace without building a bulk frame first). `handler` must
    /// have the row's semantics: the core offers such variants beside the commands (see
    /// [`crate::commands::string::get_with`]). Everything else is the dispatcher's usual
    /// path: checks, locking, counters, expiry and keyspace events, WATCH.
    ///
    /// `Err` is the reply when the handler did not run (refused, queued in MULTI) or failed
    /// (its error as a frame, counted as error replies are).
    pub fn execute_prepared_with<T>(
        &self,
        client: &mut Client,
        cmd: Prepared,
        argv: &[&[u8]],
        handler: impl FnOnce(&mut Ctx<'_, '_>, &mut Args<'_>) -> Result<T, OpError>,
    ) -> Result<T, Frame> {
        let out = match self.admit(client, cmd, argv) {
            Ok((cmd, start)) => match self.run(cmd, client, argv, start, Park::Never, handler) {
                Ran::Reply(r) => r,
                Ran::Blocked { .. } | Ran::WouldBlock => Err(Frame::NullArray),
            },
            Err(reply) => Err(reply),
        };
        if let Err(Frame::Error(line)) = &out {
            self.stats.count_error(line);
        }
        out
    }

    /// Like [`Engine::execute`], but a blocking command that finds nothing (BLPOP on empty
    /// lists...) may block: it is registered as a waiter and `Outcome::Blocked` returned. Its
    /// reply will be handed to the callback `waker` makes (called only when blocking), from
    /// whichever thread serves it; the caller keeps the timer and calls
    /// [`crate::blocking::Blocking::unblock`] on timeout or disconnect. Clients with
    /// `no_block` (MULTI, scripts) get the timeout reply at once, as from `execute`.
    pub fn execute_or_block(
        &self,
        client: &mut Client,
        argv: &[&[u8]],
        waker: &mut dyn FnMut() -> Deliver,
    ) -> Outcome {
        match self.execute_parked(client, argv, Park::Waiter(waker)) {
            Ran::Reply(f) => Outcome::Reply(f),
            Ran::Blocked { id, deadline_ms } => Outcome::Blocked { id, deadline_ms },
            Ran::WouldBlock => Outcome::Reply(Frame::NullArray),
        }
    }

    fn execute_parked(&self, client: &mut Client, argv: &[&[u8]], park: Park<'_>) -> Ran {
        let ran = match self.prepare(client, argv) {
            Ok((cmd, start)) => self.run_frame(cmd, client, argv, start, park),
            Err(reply) => Ran::Reply(reply),
        };
        if let Ran::Reply(Frame::Error(line)) = &ran {
            self.stats.count_error(line);
        }
        ran
    }

    /// Serves blocked clients waiting on the keys in `queue` (see [`crate::blocking`]): for
    /// each key in order, its waiters in blocking order, each re-run restricted to that key
    /// with `no_block`, until one finds nothing. Called with no shard lock held.
    fn serve_ready(&self, ready: Vec<(usize, Vec<u8>)>) {
        let _one_server = self.blocking.serve_guard();
        let mut queue: std::collections::VecDeque<_> = ready.into();
        while let Some((db, key)) = queue.pop_front() {
            for id in self.blocking.waiters_on(db, &key) {
                let Some(rr) = self.blocking.claim(id) else {
                    continue;
                };
                let mut more = Vec::new();
                let reply = self.rerun(&rr, &key, &mut more);
                queue.extend(more);
                let served = reply.is_some();
                self.blocking.finish(id, reply);
                if !served && !self.holds_key(db, &key) {
                    // It found the key gone: so would every later waiter. (A key still there
                    // holds a type this waiter does not pop, a list for BZPOPMIN: a later
                    // waiter of the other family may take it, as in Redis 7.0.)
                    break;
                }
            }
        }
    }

    /// Whether `key` of `db` exists (taking its shard lock for the look).
    fn holds_key(&self, db: usize, key: &[u8]) -> bool {
        let mut ks = self.keyspace.lock_keys(std::iter::once(key));
        ks.exists(db, key, crate::time::now_ms())
    }

    /// Re-runs a waiter's command as its client, serving only from `key`. `None`: it would
    /// block again.
    fn rerun(&self, rr: &Rerun, key: &[u8], ready: &mut Vec<(usize, Vec<u8>)>) -> Option<Frame> {
        let mut client = Client::new(rr.client_id);
        client.db = rr.db;
        client.proto = rr.proto;
        client.no_block = true;
        let argv: Vec<&[u8]> = rr.argv.iter().map(Vec::as_slice).collect();
        let cmd = self.prepared(argv.first()?)?;
        let (cmd, start) = self.resolve_subcommand(cmd, &argv).ok()?;
        match self.run_frame(cmd, &mut client, &argv, start, Park::Rerun(key, ready)) {
            Ran::Reply(f) => Some(f),
            Ran::Blocked { .. } | Ran::WouldBlock => None,
        }
    }

    /// Runs an admitted command with its row's handler; the reply as one frame.
    fn run_frame(
        &self,
        cmd: Prepared,
        client: &mut Client,
        argv: &[&[u8]],
        start: usize,
        park: Park<'_>,
    ) -> Ran {
        let ran = match self.run(cmd, client, argv, start, park, cmd.spec.handler) {
            Ran::Reply(Ok(f) | Err(f)) => Ran::Reply(f),
            Ran::Blocked { id, deadline_ms } => Ran::Blocked { id, deadline_ms },
            Ran::WouldBlock => Ran::WouldBlock,
        };
        // PING in RESP2 subscriber mode answers ["pong", message] (Redis).
        match ran {
            Ran::Reply(f) if in_subscriber_mode(client) && cmd.spec.name == "ping" => {
                Ran::Reply(crate::commands::pubsub::subscriber_pong(f))
            }
            ran => ran,
        }
    }

    /// Finds the command's row (and subcommand row) and admits it: everything the dispatcher
    /// does before locking. `Err` is the reply of a refused command.
    fn prepare(&self, client: &mut Client, argv: &[&[u8]]) -> Result<(Prepared, usize), Frame> {
        let Some(&name) = argv.first() else {
            return Err(Frame::error("ERR empty command"));
        };
        let Some(cmd) = self.prepared(name) else {
            // Inside MULTI, a refused command makes EXEC fail (EXECABORT).
            client.tx.flag_error();
            return Err(unknown_command(argv));
        };
        self.admit(client, cmd, argv)
    }

    /// Checks a command whose row is known: subcommand and arity, subscriber mode, MULTI
    /// queuing; counts the call. `Err` is the reply of a refused (or queued) command.
    fn admit(
        &self,
        client: &mut Client,
        cmd: Prepared,
        argv: &[&[u8]],
    ) -> Result<(Prepared, usize), Frame> {
        let (cmd, args_start) = match self.resolve_subcommand(cmd, argv) {
            Ok(found) => found,
            Err(e) => {
                client.tx.flag_error();
                if let Some(st) = self.prepared_stat(cmd) {
                    st.rejected.fetch_add(1, Ordering::Relaxed);
                }
                return Err(e.into());
            }
        };
        let spec = cmd.spec;
        // RESP2 subscriber mode: only (P|S)(UN)SUBSCRIBE, PING, QUIT and RESET.
        if in_subscriber_mode(client) {
            if let Some(refusal) = crate::commands::pubsub::subscriber_mode_refusal(spec) {
                if let Some(st) = self.prepared_stat(cmd) {
                    st.rejected.fetch_add(1, Ordering::Relaxed);
                }
                return Err(refusal);
            }
        }
        // Inside MULTI: queued (+QUEUED), or refused, unless a transaction control command.
        if client.tx.in_multi() {
            // maxmemory: queuing may grow memory without bound, so when nothing can be evicted
            // every queued command is refused and the transaction flagged, as in Redis (only
            // EXEC, DISCARD, QUIT and RESET pass). No shard lock is held here: EXEC's own
            // commands run with the client out of MULTI.
            if !matches!(spec.name, "exec" | "discard" | "quit" | "reset")
                && self.evict.check(self) == crate::evict::Outcome::Fail
            {
                client.tx.flag_error();
                return Err(Frame::error(crate::evict::OOM_ERROR));
            }
            if let Some(reply) = crate::commands::transaction::queue(client, spec, argv) {
                return Err(reply);
            }
        }
        self.stats
            .commands_processed
            .fetch_add(1, Ordering::Relaxed);
        // CLIENT LIST's `cmd=` (published by the front end, not here: no lock per command).
        client.last_cmd = spec.name;
        Ok((cmd, args_start))
    }

    /// Whether a command queued by MULTI is `denyoom` (Redis's `mstate.cmd_flags`).
    fn queue_denies_oom(&self, client: &Client) -> bool {
        client.tx.queued_commands().iter().any(|cmd| {
            let argv: Vec<&[u8]> = cmd.iter().map(Vec::as_slice).collect();
            argv.first()
                .and_then(|name| self.prepared(name))
                .and_then(|p| self.resolve_subcommand(p, &argv).ok())
                .is_some_and(|(p, _)| p.spec.has(DENYOOM))
        })
    }

    /// Picks the subcommand row for container commands, checking arity.
    #[inline]
    fn resolve_subcommand(
        &self,
        cmd: Prepared,
        argv: &[&[u8]],
    ) -> Result<(Prepared, usize), OpError> {
        let spec = cmd.spec;
        if spec.subcommands.is_empty() {
            if !spec.arity_ok(argv.len()) {
                return Err(OpError::Arity(spec.name.to_string()));
            }
            return Ok((cmd, 1));
        }
        self.resolve_container(cmd, argv)
    }

    /// [`Engine::resolve_subcommand`] for a container (CONFIG, CLIENT, OBJECT...).
    fn resolve_container(
        &self,
        cmd: Prepared,
        argv: &[&[u8]],
    ) -> Result<(Prepared, usize), OpError> {
        let spec = cmd.spec;
        let Some(sub) = argv.get(1) else {
            // A container whose arity allows no subcommand (COMMAND) runs its own handler.
            if spec.arity_ok(argv.len()) {
                return Ok((cmd, 1));
            }
            return Err(OpError::Arity(spec.name.to_string()));
        };
        let found = spec.subcommands.iter().find(|s| {
            let short = s.name.rsplit('|').next().unwrap_or(s.name);
            short.as_bytes().eq_ignore_ascii_case(sub)
        });
        match found {
            Some(s) if s.arity_ok(argv.len()) => Ok((self.prepared_row(s), 2)),
            Some(s) => Err(OpError::Arity(s.name.to_string())),
            None => Err(OpError::msg(format!(
                "unknown subcommand '{}'. Try {} HELP.",
                truncate_lossy(sub, 128),
                spec.name.to_ascii_uppercase()
            ))),
        }
    }

    /// Runs an admitted command with `handler` (the row's, or a typed variant of it): the
    /// memory and busy-script checks, then its shards locked for the handler.
    fn run<T>(
        &self,
        cmd: Prepared,
        client: &mut Client,
        argv: &[&[u8]],
        args_start: usize,
        park: Park<'_>,
        handler: impl FnOnce(&mut Ctx<'_, '_>, &mut Args<'_>) -> Result<T, OpError>,
    ) -> Ran<Result<T, Frame>> {
        let spec = cmd.spec;
        // maxmemory: evict before locking (eviction takes shard locks one at a time); refuse a
        // command that may grow memory when nothing can be evicted (see [`crate::evict`]).
        // A blocked client's re-run is not a new command (Redis serves it without the check).
        if !matches!(park, Park::Rerun(..)) && self.evict.check(self) == crate::evict::Outcome::Fail
        {
            if spec.has(DENYOOM) {
                return Ran::Reply(Err(Frame::error(crate::evict::OOM_ERROR)));
            }
            // EXEC is refused like the commands it would run: when one of them may grow
            // memory, the transaction is discarded (Redis's execCommandAbort).
            if spec.name == "exec" && self.queue_denies_oom(client) {
                client.tx.take_multi();
                client.tx.unwatch();
                return Ran::Reply(Err(Frame::error(
                    crate::commands::transaction::EXECABORT_OOM,
                )));
            }
        }
        // A script is running: wait for it, or answer -BUSY once it has run too long. Never
        // while holding a shard lock (none is held here).
        if !matches!(park, Park::Rerun(..)) && !spec.has(crate::command::ALLOW_BUSY) {
            if let Some(busy) = crate::scripting::wait_not_busy(self) {
                return Ran::Reply(Err(busy));
            }
        }
        let mut hint = None;
        let ks = if spec.has(ALL_KEYS) {
            self.keyspace.lock_all()
        } else if spec.has(crate::command::LOCKS_ITSELF) {
            self.keyspace.lock(&[])
        } else if let Some(key) = single_key(spec, argv) {
            // The commonest case: one key, hashed once for its shard and its lookups.
            let h = KeyHint::of(key);
            hint = Some(h);
            self.keyspace.lock(&[self.keyspace.shard_of_hash(h.hash)])
        } else if spec.keys_fn.is_none() {
            // Without allocating (hot path: see bench/).
            self.keyspace.lock_keys(
                spec.key_positions(argv.len())
                    .filter_map(|i| argv.get(i).copied()),
            )
        } else {
            let idx = spec.key_indexes(argv);
            self.keyspace
                .lock_keys(idx.iter().filter_map(|&i| argv.get(i).copied()))
        };
        let mut ready = Vec::new();
        let (ran, ks) = self.run_locked(
            cmd, client, argv, args_start, park, ks, None, hint, &mut ready, handler,
        );
        drop(ks);
        if !ready.is_empty() {
            self.serve_ready(ready);
        }
        ran
    }

    /// Runs a handler with the shards `ks` already holds, and gives them back. Keys the
    /// command made ready for blocked clients are appended to `ready` (unless the command is
    /// a waiter's re-run, whose round takes them): the caller serves them once it has let go
    /// of every lock. `now` overrides the command's clock (a script's frozen time).
    #[allow(clippy::too_many_arguments)]
    fn run_locked<'k, T>(
        &'k self,
        cmd: Prepared,
        client: &mut Client,
        argv: &[&[u8]],
        args_start: usize,
        mut park: Park<'_>,
        ks: Locked<'k>,
        now: Option<u64>,
        key_hint: Option<KeyHint>,
        ready: &mut Vec<(usize, Vec<u8>)>,
        handler: impl FnOnce(&mut Ctx<'_, '_>, &mut Args<'_>) -> Result<T, OpError>,
    ) -> (Ran<Result<T, Frame>>, Locked<'k>) {
        let spec = cmd.spec;
        // One wall-clock read gives both the command's clock and the start of its
        // commandstats duration. A second read ends the duration, but only for the runs that
        // are timed: a clock read costs about as much as a whole fast command (see
        // [`FAST_TIMING_SAMPLE`]). A clock stepping back makes the duration 0, never negative.
        let started_us = crate::time::now_us();
        let timed = if spec.has(FAST) {
            client.fast_runs = client.fast_runs.wrapping_add(1);
            client.fast_runs % FAST_TIMING_SAMPLE == 1
        } else {
            true
        };
        let mut ctx = Ctx {
            engine: self,
            client,
            ks,
            now: now.unwrap_or(started_us / 1000),
            dirty: 0,
            read_stats: spec.has(READONLY),
            block: None,
            ready_key: match &park {
                Park::Rerun(key, _) => Some(key.to_vec()),
                _ => None,
            },
            ready: Vec::new(),
            expired_now: Vec::new(),
            watching: self.watches.active(),
            written: Vec::new(),
            noted: 0,
            key_hint,
        };
        let mut args = Args::new(argv, args_start);
        let result = handler(&mut ctx, &mut args);
        if !ctx.ks.expired_keys.is_empty() {
            ctx.announce_expired();
        }
        if let Some(st) = self.prepared_stat(cmd) {
            st.calls.fetch_add(1, Ordering::Relaxed);
            if timed {
                let usec = crate::time::now_us().saturating_sub(started_us);
                st.usec.fetch_add(usec, Ordering::Relaxed);
                st.timed.fetch_add(1, Ordering::Relaxed);
            }
            if result.is_err() {
                st.failed.fetch_add(1, Ordering::Relaxed);
            }
        }
        let reply = result.map_err(Frame::from);
        if ctx.ks.expired > 0 {
            self.stats
                .expired_keys
                .fetch_add(ctx.ks.expired, Ordering::Relaxed);
            ctx.ks.expired = 0;
        }
        if ctx.dirty > 0 {
            self.stats.dirty.fetch_add(ctx.dirty, Ordering::Relaxed);
            if ctx.watching {
                // WATCH: the keys it wrote; every key it names if it changed data otherwise.
                let positions = if ctx.dirty > ctx.noted {
                    spec.key_indexes(argv)
                } else {
                    Vec::new()
                };
                let named: Vec<&[u8]> = positions
                    .iter()
                    .filter_map(|&i| argv.get(i).copied())
                    .collect();
                crate::watch::after_write(&ctx, &ctx.written, &named);
            }
        }
        // A blocking command that found nothing: register it while its keys are still locked,
        // so no push can come between its look and its registration.
        let ran = match ctx.block.take() {
            None => Ran::Reply(reply),
            Some(req) => match park {
                Park::Rerun(..) => Ran::WouldBlock,
                Park::Waiter(ref mut make) if !ctx.client.no_block => {
                    let rerun = Rerun {
                        argv: argv.iter().map(|a| a.to_vec()).collect(),
                        db: ctx.client.db,
                        proto: ctx.client.proto,
                        client_id: ctx.client.id,
                    };
                    let (id, deadline_ms) = self.blocking.register(req, rerun, make());
                    Ran::Blocked { id, deadline_ms }
                }
                // A client that may not block (MULTI, scripts).
                _ if ctx.client.no_block => Ran::Reply(Err(req.denied_reply)),
                _ => Ran::Reply(Err(req.timeout_reply)),
            },
        };
        let made_ready = std::mem::take(&mut ctx.ready);
        let ks = ctx.ks;
        if !made_ready.is_empty() {
            match park {
                // Inside a round of serving: the round takes the keys.
                Park::Rerun(_, out) => out.extend(made_ready),
                _ => ready.extend(made_ready),
            }
        }
        (ran, ks)
    }

    /// A row reached otherwise than by name (a subcommand), with its counters.
    fn prepared_row(&self, spec: &'static CommandSpec) -> Prepared {
        let stat = self.cmdstat_index(spec).unwrap_or(usize::MAX);
        Prepared { spec, stat }
    }
}

/// Commands run back to back under one hold of every shard lock, so that nothing else runs
/// between them: EXEC's queue, a script's `redis.call`s. Blocking commands answer their
/// timeout reply at once. Keys they make ready for blocked clients are served when the
/// `Atomic` is dropped, after the locks are released, as Redis serves them after EXEC or
/// the script.
pub struct Atomic<'e> {
    engine: &'e Engine,
    ks: Option<Locked<'e>>,
    ready: Vec<(usize, Vec<u8>)>,
    /// The clock every command sees (ms since the epoch); `None`: each reads the time.
    pub now: Option<u64>,
}

impl Engine {
    /// Takes every shard lock (in order) for a run of commands: see [`Atomic`].
    pub fn atomic(&self) -> Atomic<'_> {
        Atomic {
            engine: self,
            ks: Some(self.keyspace.lock_all()),
            ready: Vec::new(),
            now: None,
        }
    }
}

impl<'e> Atomic<'e> {
    /// Runs one command for `client` with the locks already held: the same checks, counters
    /// and reply as [`Engine::execute`].
    pub fn execute(&mut self, client: &mut Client, argv: &[&[u8]]) -> Frame {
        let engine = self.engine;
        let ran = match engine.prepare(client, argv) {
            Err(reply) => reply,
            Ok((cmd, start)) => {
                let Some(ks) = self.ks.take() else {
                    return Frame::error("ERR internal error: locks released");
                };
                let (ran, ks) = engine.run_locked(
                    cmd,
                    client,
                    argv,
                    start,
                    Park::Never,
                    ks,
                    self.now,
                    None,
                    &mut self.ready,
                    cmd.spec.handler,
                );
                self.ks = Some(ks);
                match ran {
                    Ran::Reply(Ok(f) | Err(f)) => f,
                    Ran::Blocked { .. } | Ran::WouldBlock => Frame::NullArray,
                }
            }
        };
        if let Frame::Error(line) = &ran {
            engine.stats.count_error(line);
        }
        ran
    }

    /// An `Atomic` over every shard lock a command already holds (a script run inside EXEC):
    /// give them back with [`Atomic::into_held`]. `ks` must hold every shard.
    pub fn from_held(engine: &'e Engine, ks: Locked<'e>) -> Self {
        debug_assert!(ks.holds_all());
        Atomic {
            engine,
            ks: Some(ks),
            ready: Vec::new(),
            now: None,
        }
    }

    /// Gives back the locks of [`Atomic::from_held`] and the keys made ready meanwhile (the
    /// holder serves them once it lets go of the locks).
    #[allow(clippy::type_complexity)]
    pub fn into_held(mut self) -> (Option<Locked<'e>>, Vec<(usize, Vec<u8>)>) {
        (self.ks.take(), std::mem::take(&mut self.ready))
    }

    /// The engine the commands run on.
    pub fn engine(&self) -> &'e Engine {
        self.engine
    }

    /// The held keyspace, for callers that read it directly between commands.
    pub fn keyspace(&mut self) -> Option<&mut Locked<'e>> {
        self.ks.as_mut()
    }
}

impl Drop for Atomic<'_> {
    fn drop(&mut self) {
        drop(self.ks.take());
        let ready = std::mem::take(&mut self.ready);
        if !ready.is_empty() {
            self.engine.serve_ready(ready);
        }
    }
}

/// How a blocking command that finds nothing is treated.
enum Park<'p> {
    /// It answers its timeout reply (`execute`).
    Never,
    /// It becomes a waiter, delivering through the callback this makes.
    Waiter(&'p mut dyn FnMut() -> Deliver),
    /// A waiter's re-run for this ready key: report "would block"; keys it makes ready go to
    /// the vector (the serving round in progress takes them).
    Rerun(&'p [u8], &'p mut Vec<(usize, Vec<u8>)>),
}

/// What one run produced.
enum Ran<R = Frame> {
    Reply(R),
    Blocked {
        id: WaiterId,
        deadline_ms: Option<u64>,
    },
    /// A re-run that found nothing.
    WouldBlock,
}

/// A `fast` command (O(1) or O(log N)) has its commandstats duration measured on one run in
/// this many of each client's: the rest skip the second clock read, which costs about as
/// much as the command (CmdStat::usec_total scales the timed runs to all).
pub const FAST_TIMING_SAMPLE: u32 = 16;

/// The key of a command with exactly one key position (GET, SET, INCR, HSET, ZADD...), if
/// present: the dispatcher hashes it once for locking and lookups.
fn single_key<'a>(spec: &CommandSpec, argv: &[&'a [u8]]) -> Option<&'a [u8]> {
    let k = spec.keys;
    if k.first <= 0 || k.last != k.first || spec.keys_fn.is_some() {
        return None;
    }
    argv.get(usize::try_from(k.first).ok()?).copied()
}

/// A RESP2 client with subscriptions (RESP3 clients mix pushes and replies freely).
fn in_subscriber_mode(client: &Client) -> bool {
    client.proto == 2 && client.subs.is_some() && client.subscriptions() > 0
}

/// Whether a value of this type can serve a blocked client (BLPOP..., BZPOPMIN...).
fn may_wake(value: &Value) -> bool {
    matches!(value, Value::List(_) | Value::ZSet(_))
}

/// `ERR unknown command 'x', with args beginning with: 'a' 'b' ` — Redis 7.0's exact text.
fn unknown_command(argv: &[&[u8]]) -> Frame {
    let mut args = String::new();
    for a in argv.iter().skip(1) {
        if args.len() >= 128 {
            break;
        }
        let room = 128 - args.len();
        args.push('\'');
        args.push_str(&truncate_lossy(a, room));
        args.push_str("' ");
    }
    let name = argv
        .first()
        .map(|n| truncate_lossy(n, 128))
        .unwrap_or_default();
    Frame::error(format!(
        "ERR unknown command '{name}', with args beginning with: {args}"
    ))
}

/// At most `max` bytes of `b` as text, with CR/LF made spaces so the error stays one line.
pub fn truncate_lossy(b: &[u8], max: usize) -> String {
    let b = &b[..b.len().min(max)];
    String::from_utf8_lossy(b).replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use crate::testing::{bulk, err, int, Session};
    use crate::Frame;
    use std::sync::mpsc;
    use std::time::Duration;

    fn argv<'a>(a: &[&'a str]) -> Vec<&'a [u8]> {
        a.iter().map(|s| s.as_bytes()).collect()
    }

    #[test]
    fn atomic_runs_commands_under_one_hold() {
        let mut s = Session::new();
        let engine = s.engine.clone();
        let (tx, rx) = mpsc::channel();
        {
            let mut at = engine.atomic();
            assert_eq!(
                at.execute(&mut s.client, &argv(&["SET", "k", "1"])),
                Frame::OK
            );
            // Another client's write waits for the whole run.
            let e2 = engine.clone();
            let writer = std::thread::spawn(move || {
                let mut c = e2.new_client();
                let r = e2.execute(&mut c, &[b"SET", b"k", b"other"]);
                tx.send(r).ok();
            });
            assert!(rx.recv_timeout(Duration::from_millis(100)).is_err());
            assert_eq!(at.execute(&mut s.client, &argv(&["INCR", "k"])), int(2));
            assert_eq!(at.execute(&mut s.client, &argv(&["GET", "k"])), bulk("2"));
            // Checks and errors as usual; blocking commands do not block.
            assert_eq!(
                at.execute(&mut s.client, &argv(&["GET"])),
                err("ERR wrong number of arguments for 'get' command")
            );
            assert_eq!(
                at.execute(&mut s.client, &argv(&["BLPOP", "nolist", "0"])),
                Frame::NullArray
            );
            // Commands that lock everything do not deadlock on the held locks.
            assert_eq!(at.execute(&mut s.client, &argv(&["DBSIZE"])), int(1));
            drop(at);
            writer.join().ok();
        }
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)), Ok(Frame::OK));
        assert_eq!(s.run(&["GET", "k"]), bulk("other"));
    }
}
