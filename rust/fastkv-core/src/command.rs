//! The command table's vocabulary: [`CommandSpec`], its flags, key positions, and the [`Args`]
//! cursor handlers read their arguments with.
//!
//! Every command is one `CommandSpec` row in its family's `COMMANDS` table
//! (`commands/<family>.rs`). COMMAND, COMMAND INFO/DOCS/COUNT/LIST/GETKEYS, arity checks, key
//! extraction for shard locking, ACL categories and (later) MULTI queuing and cluster slots are
//! all derived from these rows — never from a second list.

use crate::dispatch::Ctx;
use crate::error::OpError;
use fastkv_resp::request::parse_i64_strict;
use fastkv_resp::Frame;

/// A command handler: reads its arguments, does the work through `ctx`, returns one reply.
pub type Handler = fn(&mut Ctx<'_, '_>, &mut Args<'_>) -> Result<Frame, OpError>;

/// Extracts key argument indexes where (first, last, step) cannot describe them.
pub type KeysFn = fn(&[&[u8]]) -> Vec<usize>;

// Command flags, as Redis documents them in `server.h` (the subset that means something here).
/// May modify the keyspace.
pub const WRITE: u32 = 1 << 0;
/// Only reads.
pub const READONLY: u32 = 1 << 1;
/// May grow memory use: refused under `maxmemory` + `noeviction` when over the limit.
pub const DENYOOM: u32 = 1 << 2;
/// Administrative; hidden from most ACL users.
pub const ADMIN: u32 = 1 << 3;
/// Allowed in RESP2 subscriber mode.
pub const PUBSUB: u32 = 1 << 4;
/// Not allowed from Lua scripts.
pub const NOSCRIPT: u32 = 1 << 5;
/// Allowed while loading a dataset.
pub const LOADING: u32 = 1 << 6;
/// Allowed on a replica with stale data.
pub const STALE: u32 = 1 << 7;
/// O(1) or O(log N); never delays the server.
pub const FAST: u32 = 1 << 8;
/// May block the client.
pub const BLOCKING: u32 = 1 << 9;
/// Not counted in stats, not shown in MONITOR/SLOWLOG.
pub const NO_AUTH: u32 = 1 << 10;
/// Touches the whole keyspace (KEYS, SCAN, FLUSHALL, DBSIZE...): the dispatcher locks every
/// shard, in order, before the handler runs.
pub const ALL_KEYS: u32 = 1 << 11;
/// Allowed inside MULTI only as a control command (MULTI, EXEC, DISCARD, WATCH...).
pub const NO_MULTI: u32 = 1 << 12;
/// May be given to a client while it is in MULTI and runs at once (EXEC, DISCARD, MULTI...).
pub const ALLOW_BUSY: u32 = 1 << 13;
/// Sort the reply for scripts (Redis's `to-sort`).
pub const TO_SORT: u32 = 1 << 14;
/// Output is non-deterministic (RANDOMKEY, TIME...).
pub const NONDETERMINISTIC: u32 = 1 << 15;
/// Skips MONITOR.
pub const SKIP_MONITOR: u32 = 1 << 16;
/// Skips SLOWLOG.
pub const SKIP_SLOWLOG: u32 = 1 << 17;
/// Not a Redis flag: the handler takes the locks it needs itself (EVAL, FCALL, EXEC take
/// every shard through [`crate::Engine::atomic`]), so the dispatcher locks no shard for it.
pub const LOCKS_ITSELF: u32 = 1 << 18;

/// `(name, flag)` for COMMAND INFO's flag list, in Redis's order.
pub const FLAG_NAMES: &[(&str, u32)] = &[
    ("write", WRITE),
    ("readonly", READONLY),
    ("denyoom", DENYOOM),
    ("admin", ADMIN),
    ("pubsub", PUBSUB),
    ("noscript", NOSCRIPT),
    ("blocking", BLOCKING),
    ("loading", LOADING),
    ("stale", STALE),
    ("skip_monitor", SKIP_MONITOR),
    ("skip_slowlog", SKIP_SLOWLOG),
    ("fast", FAST),
    ("no_auth", NO_AUTH),
    ("no_multi", NO_MULTI),
    ("movablekeys", MOVABLE_KEYS),
    ("allow_busy", ALLOW_BUSY),
];

/// Derived, never declared in a row: COMMAND INFO reports it for rows with a `keys_fn` (their
/// key positions depend on the arguments), as Redis reports `movablekeys`.
pub const MOVABLE_KEYS: u32 = 1 << 31;

// ACL categories beyond the ones derived from flags and the group.
pub const ACL_KEYSPACE: u64 = 1 << 0;
pub const ACL_DANGEROUS: u64 = 1 << 1;
pub const ACL_CONNECTION: u64 = 1 << 2;
pub const ACL_TRANSACTION: u64 = 1 << 3;
pub const ACL_SCRIPTING: u64 = 1 << 4;
pub const ACL_READ: u64 = 1 << 5;
pub const ACL_WRITE: u64 = 1 << 6;
pub const ACL_SET: u64 = 1 << 7;
pub const ACL_SORTEDSET: u64 = 1 << 8;
pub const ACL_LIST: u64 = 1 << 9;
pub const ACL_HASH: u64 = 1 << 10;
pub const ACL_STRING: u64 = 1 << 11;
pub const ACL_BITMAP: u64 = 1 << 12;
pub const ACL_HYPERLOGLOG: u64 = 1 << 13;
pub const ACL_GEO: u64 = 1 << 14;
pub const ACL_STREAM: u64 = 1 << 15;
pub const ACL_PUBSUB: u64 = 1 << 16;
pub const ACL_ADMIN: u64 = 1 << 17;
pub const ACL_FAST: u64 = 1 << 18;
pub const ACL_SLOW: u64 = 1 << 19;
pub const ACL_BLOCKING: u64 = 1 << 20;
/// Not a category: the row does not get its group's category (SORT and SORT_RO are in the
/// `generic` group but not `@keyspace`; WAIT is `generic` but `@connection`).
pub const ACL_NO_GROUP: u64 = 1 << 63;

/// `(name, bit)` of every ACL category, in Redis's order (COMMAND INFO lists a command's
/// categories in this order; `ACL CAT` lists these names).
pub const ACL_CATEGORIES: &[(&str, u64)] = &[
    ("keyspace", ACL_KEYSPACE),
    ("read", ACL_READ),
    ("write", ACL_WRITE),
    ("set", ACL_SET),
    ("sortedset", ACL_SORTEDSET),
    ("list", ACL_LIST),
    ("hash", ACL_HASH),
    ("string", ACL_STRING),
    ("bitmap", ACL_BITMAP),
    ("hyperloglog", ACL_HYPERLOGLOG),
    ("geo", ACL_GEO),
    ("stream", ACL_STREAM),
    ("pubsub", ACL_PUBSUB),
    ("admin", ACL_ADMIN),
    ("fast", ACL_FAST),
    ("slow", ACL_SLOW),
    ("blocking", ACL_BLOCKING),
    ("dangerous", ACL_DANGEROUS),
    ("connection", ACL_CONNECTION),
    ("transaction", ACL_TRANSACTION),
    ("scripting", ACL_SCRIPTING),
];

/// The ACL category a command group implies (Redis declares it in every command of the group).
/// `server`, `cluster` and others imply none: their rows list categories in `acl`.
pub fn group_acl_category(group: &str) -> u64 {
    match group {
        "generic" => ACL_KEYSPACE,
        "string" => ACL_STRING,
        "list" => ACL_LIST,
        "set" => ACL_SET,
        "sorted-set" => ACL_SORTEDSET,
        "hash" => ACL_HASH,
        "bitmap" => ACL_BITMAP,
        "hyperloglog" => ACL_HYPERLOGLOG,
        "geo" => ACL_GEO,
        "stream" => ACL_STREAM,
        "pubsub" => ACL_PUBSUB,
        "connection" => ACL_CONNECTION,
        "transactions" => ACL_TRANSACTION,
        "scripting" => ACL_SCRIPTING,
        _ => 0,
    }
}

/// Key positions: `first` (1-based argument index, 0 = no keys), `last` (negative counts from
/// the end: -1 = the last argument), `step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    pub first: i32,
    pub last: i32,
    pub step: i32,
}

/// No keys.
pub const NO_KEYS: KeySpec = KeySpec {
    first: 0,
    last: 0,
    step: 0,
};
/// One key, the first argument.
pub const KEY1: KeySpec = KeySpec {
    first: 1,
    last: 1,
    step: 1,
};
/// Every argument is a key.
pub const ALL_ARGS: KeySpec = KeySpec {
    first: 1,
    last: -1,
    step: 1,
};

pub const fn keys(first: i32, last: i32, step: i32) -> KeySpec {
    KeySpec { first, last, step }
}

/// One row of the command table.
pub struct CommandSpec {
    /// Lower-case, as COMMAND shows it.
    pub name: &'static str,
    /// N: exactly N arguments including the name; -N: at least N.
    pub arity: i32,
    pub flags: u32,
    /// Extra ACL categories (flags and group give the rest).
    pub acl: u64,
    pub keys: KeySpec,
    /// For commands whose keys need parsing (numkeys, STREAMS...).
    pub keys_fn: Option<KeysFn>,
    pub handler: Handler,
    /// Subcommands (CLIENT SETNAME...); the container's handler runs only when its arity
    /// allows no subcommand and none is given (COMMAND).
    pub subcommands: &'static [CommandSpec],
    /// Redis's command group for COMMAND DOCS: "string", "generic", "server", "connection"...
    pub group: &'static str,
    pub since: &'static str,
    pub summary: &'static str,
}

impl CommandSpec {
    /// A row with no docs yet; chain `.doc(...)`.
    pub const fn new(
        name: &'static str,
        arity: i32,
        flags: u32,
        keys: KeySpec,
        handler: Handler,
    ) -> Self {
        CommandSpec {
            name,
            arity,
            flags,
            acl: 0,
            keys,
            keys_fn: None,
            handler,
            subcommands: &[],
            group: "generic",
            since: "1.0.0",
            summary: "",
        }
    }

    pub const fn doc(
        self,
        group: &'static str,
        since: &'static str,
        summary: &'static str,
    ) -> Self {
        CommandSpec {
            group,
            since,
            summary,
            ..self
        }
    }

    pub const fn acl(self, acl: u64) -> Self {
        CommandSpec { acl, ..self }
    }

    pub const fn keys_fn(self, f: KeysFn) -> Self {
        CommandSpec {
            keys_fn: Some(f),
            ..self
        }
    }

    pub const fn subcommands(self, subs: &'static [CommandSpec]) -> Self {
        CommandSpec {
            subcommands: subs,
            ..self
        }
    }

    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// The flags COMMAND INFO reports: the row's, plus the derived [`MOVABLE_KEYS`].
    pub fn info_flags(&self) -> u32 {
        if self.keys_fn.is_some() {
            self.flags | MOVABLE_KEYS
        } else {
            self.flags
        }
    }

    /// The command's ACL categories (`ACL_*` bits), derived as Redis derives them: the row's
    /// `acl` extras; the group's category (not for containers, and not with [`ACL_NO_GROUP`]);
    /// then from flags — write -> @write, readonly -> @read (not for scripting commands),
    /// admin -> @admin + @dangerous, pubsub -> @pubsub, fast -> @fast, blocking -> @blocking,
    /// and @slow for whatever is not @fast. COMMAND INFO and ACL rules both use this.
    pub fn acl_categories(&self) -> u64 {
        let mut c = self.acl & !ACL_NO_GROUP;
        if self.subcommands.is_empty() && self.acl & ACL_NO_GROUP == 0 {
            c |= group_acl_category(self.group);
        }
        if self.has(WRITE) {
            c |= ACL_WRITE;
        }
        if self.has(READONLY) && c & ACL_SCRIPTING == 0 {
            c |= ACL_READ;
        }
        if self.has(ADMIN) {
            c |= ACL_ADMIN | ACL_DANGEROUS;
        }
        if self.has(PUBSUB) {
            c |= ACL_PUBSUB;
        }
        if self.has(FAST) {
            c |= ACL_FAST;
        }
        if self.has(BLOCKING) {
            c |= ACL_BLOCKING;
        }
        if c & ACL_FAST == 0 {
            c |= ACL_SLOW;
        }
        c
    }

    /// Whether `argc` (including the command name, or the subcommand name for subcommands
    /// counted from the container) satisfies the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i64;
        let a = i64::from(self.arity);
        if a >= 0 {
            argc == a
        } else {
            argc >= -a
        }
    }

    /// The indexes of the key arguments in `argv` (argv[0] is the command name).
    pub fn key_indexes(&self, argv: &[&[u8]]) -> Vec<usize> {
        if let Some(f) = self.keys_fn {
            return f(argv);
        }
        self.key_positions(argv.len()).collect()
    }

    /// The key argument indexes (first, last, step) describe for `argc` arguments, without
    /// allocating: the dispatcher's per-command path. Ignores `keys_fn` (check it first).
    pub fn key_positions(&self, argc: usize) -> std::iter::StepBy<std::ops::Range<usize>> {
        let KeySpec { first, last, step } = self.keys;
        if first <= 0 || step <= 0 {
            return (0..0).step_by(1);
        }
        let argc = i64::try_from(argc).unwrap_or(i64::MAX);
        let last = if last < 0 {
            argc + i64::from(last)
        } else {
            i64::from(last)
        };
        // Indexes run from `first` while <= last and < argc.
        let end = (last + 1).min(argc).max(i64::from(first));
        (first as usize..end as usize).step_by(step as usize)
    }
}

/// A cursor over a command's arguments (after the command name, or after the subcommand name).
pub struct Args<'a> {
    argv: &'a [&'a [u8]],
    pos: usize,
}

impl<'a> Args<'a> {
    pub fn new(argv: &'a [&'a [u8]], start: usize) -> Self {
        Args { argv, pos: start }
    }

    /// The whole argument vector, including the command name.
    pub fn argv(&self) -> &'a [&'a [u8]] {
        self.argv
    }

    /// Index of the next argument in `argv`.
    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.argv.len().saturating_sub(self.pos)
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The remaining arguments, consumed.
    pub fn rest(&mut self) -> &'a [&'a [u8]] {
        let r = self.argv.get(self.pos..).unwrap_or(&[]);
        self.pos = self.argv.len();
        r
    }

    pub fn peek(&self) -> Option<&'a [u8]> {
        self.argv.get(self.pos).copied()
    }

    /// The next argument; a syntax error if there is none.
    pub fn next_bytes(&mut self) -> Result<&'a [u8], OpError> {
        let a = self.argv.get(self.pos).copied().ok_or(OpError::Syntax)?;
        self.pos += 1;
        Ok(a)
    }

    /// The next argument as an integer (Redis's strict parse).
    pub fn next_i64(&mut self) -> Result<i64, OpError> {
        parse_int(self.next_bytes()?)
    }

    /// The next argument as a double.
    pub fn next_f64(&mut self) -> Result<f64, OpError> {
        parse_float(self.next_bytes()?).ok_or(OpError::NotFloat)
    }

    /// Consumes the next argument if it equals `token` (ASCII case-insensitive).
    pub fn eat(&mut self, token: &str) -> bool {
        match self.peek() {
            Some(a) if a.eq_ignore_ascii_case(token.as_bytes()) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    /// Fails with a syntax error if arguments are left.
    pub fn finish(&self) -> Result<(), OpError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(OpError::Syntax)
        }
    }
}

/// Parses an integer argument as Redis does (`string2ll`).
pub fn parse_int(s: &[u8]) -> Result<i64, OpError> {
    parse_i64_strict(s).ok_or(OpError::NotInteger)
}

/// Parses a float argument as Redis's `string2d` / `strtold`-based parsers do: no spaces,
/// `inf`/`-inf`/`+inf` accepted, NaN rejected.
pub fn parse_float(s: &[u8]) -> Option<f64> {
    if s.is_empty() || s.len() > 5120 {
        return None;
    }
    let t = std::str::from_utf8(s).ok()?;
    if t.starts_with(|c: char| c.is_whitespace()) || t.ends_with(|c: char| c.is_whitespace()) {
        return None;
    }
    let lower = t.to_ascii_lowercase();
    let v = match lower.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        _ => {
            if lower.contains("nan") || lower.contains("inf") {
                return None;
            }
            t.parse::<f64>().ok()?
        }
    };
    if v.is_nan() {
        None
    } else {
        Some(v)
    }
}
