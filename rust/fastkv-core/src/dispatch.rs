//! The dispatcher: the one path every command takes, whoever sends it.
//!
//! Like Redis's `processCommand`, it checks once, centrally, before any handler runs: the
//! command exists, the arity fits (with Redis's exact messages), and (as they land) ACLs,
//! memory, MULTI queuing and subscriber mode. Then it locks the shards the command's keys live
//! in — read from the command table, never from the handler — and runs the handler with a
//! [`Ctx`].

use crate::client::Client;
use crate::command::{Args, CommandSpec, ALL_KEYS, READONLY};
use crate::engine::Engine;
use crate::error::OpError;
use crate::keyspace::{Entry, Locked};
use crate::types::Value;
use fastkv_resp::Frame;
use std::sync::atomic::Ordering;

/// What a handler works with.
pub struct Ctx<'a> {
    pub engine: &'a Engine,
    pub client: &'a mut Client,
    /// The shards this command holds.
    pub ks: Locked<'a>,
    /// The command's clock (ms since the epoch), read once per command as Redis does.
    pub now: u64,
    /// Keys changed by this command (feeds `rdb_changes_since_last_save`).
    pub dirty: u64,
    /// Whether lookups count as keyspace hits/misses: only for read-only commands, as Redis
    /// counts only `lookupKeyRead`.
    read_stats: bool,
}

impl<'a> Ctx<'a> {
    pub fn db(&self) -> usize {
        self.client.db
    }

    /// The live entry of `key` in the selected database.
    pub fn get(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let (db, now) = (self.client.db, self.now);
        let found = self.ks.get(db, key, now);
        if self.read_stats {
            let counter = if found.is_some() {
                &self.engine.stats.keyspace_hits
            } else {
                &self.engine.stats.keyspace_misses
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
        let e = found?;
        // An access: refresh the LRU clock (OBJECT IDLETIME, eviction). Commands that must
        // not count as an access (TTL, TYPE, OBJECT...) read through `ctx.ks.get` instead.
        e.lru = (now / 1000) as u32;
        Some(e)
    }

    /// The live value of `key` in the selected database.
    pub fn value(&mut self, key: &[u8]) -> Option<&mut Value> {
        self.get(key).map(|e| &mut e.value)
    }

    /// SET semantics: store `value`, dropping any deadline unless `keep_ttl`.
    pub fn set(&mut self, key: &[u8], value: Value, keep_ttl: bool) -> Option<Entry> {
        let (db, now) = (self.client.db, self.now);
        self.dirty += 1;
        self.ks.set(db, key, value, keep_ttl, now)
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let (db, now) = (self.client.db, self.now);
        let e = self.ks.remove(db, key, now);
        if e.is_some() {
            self.dirty += 1;
        }
        e
    }

    /// Sets an absolute deadline (ms). Returns false if the key does not exist.
    pub fn set_expire(&mut self, key: &[u8], at_ms: u64) -> bool {
        let (db, now) = (self.client.db, self.now);
        let ok = self.ks.set_expire(db, key, at_ms, now);
        if ok {
            self.dirty += 1;
        }
        ok
    }

    pub fn persist(&mut self, key: &[u8]) -> bool {
        let (db, now) = (self.client.db, self.now);
        let ok = self.ks.persist(db, key, now);
        if ok {
            self.dirty += 1;
        }
        ok
    }
}

impl Engine {
    /// Runs one command for `client`. `argv[0]` is the command name. Never panics on any input.
    pub fn execute(&self, client: &mut Client, argv: &[&[u8]]) -> Frame {
        let reply = self.execute_counted(client, argv);
        if let Frame::Error(line) = &reply {
            self.stats.count_error(line);
        }
        reply
    }

    fn execute_counted(&self, client: &mut Client, argv: &[&[u8]]) -> Frame {
        let Some(&name) = argv.first() else {
            return Frame::error("ERR empty command");
        };
        let Some(spec) = self.command(name) else {
            return unknown_command(argv);
        };
        let (spec, args_start) = match self.resolve_subcommand(spec, argv) {
            Ok(found) => found,
            Err(e) => return e.into(),
        };
        self.stats
            .commands_processed
            .fetch_add(1, Ordering::Relaxed);
        // CLIENT LIST's `cmd=` (published by the front end, not here: no lock per command).
        client.last_cmd = spec.name;
        self.run(spec, client, argv, args_start)
    }

    /// Picks the subcommand row for container commands, checking arity.
    fn resolve_subcommand(
        &self,
        spec: &'static CommandSpec,
        argv: &[&[u8]],
    ) -> Result<(&'static CommandSpec, usize), OpError> {
        if spec.subcommands.is_empty() {
            if !spec.arity_ok(argv.len()) {
                return Err(OpError::Arity(spec.name.to_string()));
            }
            return Ok((spec, 1));
        }
        let Some(sub) = argv.get(1) else {
            // A container whose arity allows no subcommand (COMMAND) runs its own handler.
            if spec.arity_ok(argv.len()) {
                return Ok((spec, 1));
            }
            return Err(OpError::Arity(spec.name.to_string()));
        };
        let found = spec.subcommands.iter().find(|s| {
            let short = s.name.rsplit('|').next().unwrap_or(s.name);
            short.as_bytes().eq_ignore_ascii_case(sub)
        });
        match found {
            Some(s) if s.arity_ok(argv.len()) => Ok((s, 2)),
            Some(s) => Err(OpError::Arity(s.name.to_string())),
            None => Err(OpError::msg(format!(
                "unknown subcommand '{}'. Try {} HELP.",
                truncate_lossy(sub, 128),
                spec.name.to_ascii_uppercase()
            ))),
        }
    }

    fn run(
        &self,
        spec: &'static CommandSpec,
        client: &mut Client,
        argv: &[&[u8]],
        args_start: usize,
    ) -> Frame {
        let ks = if spec.has(ALL_KEYS) {
            self.keyspace.lock_all()
        } else {
            let idx = spec.key_indexes(argv);
            self.keyspace
                .lock_keys(idx.iter().filter_map(|&i| argv.get(i).copied()))
        };
        let mut ctx = Ctx {
            engine: self,
            client,
            ks,
            now: crate::time::now_ms(),
            dirty: 0,
            read_stats: spec.has(READONLY),
        };
        let mut args = Args::new(argv, args_start);
        let reply = match (spec.handler)(&mut ctx, &mut args) {
            Ok(f) => f,
            Err(e) => e.into(),
        };
        if ctx.ks.expired > 0 {
            self.stats
                .expired_keys
                .fetch_add(ctx.ks.expired, Ordering::Relaxed);
        }
        if ctx.dirty > 0 {
            self.stats.dirty.fetch_add(ctx.dirty, Ordering::Relaxed);
        }
        reply
    }
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
