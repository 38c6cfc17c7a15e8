//! Server commands: COMMAND (introspection of the command table), INFO, TIME, DBSIZE, DEBUG.
//!
//! Everything COMMAND reports — names, arity, flags, key positions, ACL categories, docs,
//! subcommands — is derived from the one command table (`Engine::commands()` and the
//! [`CommandSpec`] rows), never from a second list. INFO's text is built in [`crate::info`].
//!
//! COMMAND INFO entries have Redis 7.0's shape: `[name, arity, flags (set), first, last, step,
//! acl categories (set), tips (set), key specs (set), subcommands (array, or an empty set)]`.
//! Key specs are simplified: a row with key positions gets one spec
//! `{flags: [RW|RO], begin_search: {type: index, spec: {index: first}}, find_keys: {type: range,
//! spec: {lastkey, keystep, limit: 0}}}` (Redis splits some commands into several specs and adds
//! access flags such as `access`/`update`/`delete` that the table does not record); a row with a
//! `keys_fn` adds one `{type: unknown, spec: {}}` spec, as Redis does for commands whose keys it
//! cannot describe. Tips: `nondeterministic_output` and `nondeterministic_output_order` only
//! (cluster request/response policies are not emitted: fastkv is not a cluster).

use crate::command::{
    Args, CommandSpec, ACL_CATEGORIES, ACL_CONNECTION, ACL_DANGEROUS, ACL_KEYSPACE, ADMIN,
    ALL_KEYS, FAST, FLAG_NAMES, LOADING, NONDETERMINISTIC, NOSCRIPT, NO_KEYS, READONLY, STALE,
    TO_SORT, WRITE,
};
use crate::dispatch::{truncate_lossy, Ctx};
use crate::error::OpError;
use crate::glob::glob_match;
use crate::types::{Str, Value};
use fastkv_resp::Frame;
use std::sync::atomic::Ordering;
use std::time::Duration;

// ---------------------------------------------------------------------------------------------
// COMMAND
// ---------------------------------------------------------------------------------------------

/// Every top-level row, sorted by name (Redis's order is its hash table's; a stable order is
/// friendlier and equally valid: COMMAND is flagged `nondeterministic_output_order`).
fn all_commands(ctx: &Ctx<'_, '_>) -> Vec<&'static CommandSpec> {
    let mut v: Vec<_> = ctx.engine.commands().collect();
    v.sort_unstable_by_key(|s| s.name);
    v
}

/// The subcommand of `container` named `name` (any case).
fn find_subcommand(container: &'static CommandSpec, name: &[u8]) -> Option<&'static CommandSpec> {
    container.subcommands.iter().find(|s| {
        let short = s.name.rsplit('|').next().unwrap_or(s.name);
        short.as_bytes().eq_ignore_ascii_case(name)
    })
}

/// A row by full name: `get`, or `client|kill` for a subcommand (as Redis's
/// `lookupCommandBySds`).
fn lookup_fullname(ctx: &Ctx<'_, '_>, name: &[u8]) -> Option<&'static CommandSpec> {
    match name.iter().position(|&b| b == b'|') {
        None => ctx.engine.command(name),
        Some(i) => {
            let (base, sub) = (name.get(..i)?, name.get(i + 1..)?);
            if sub.contains(&b'|') {
                return None;
            }
            find_subcommand(ctx.engine.command(base)?, sub)
        }
    }
}

/// The names of the set bits of `bits` in `table`, as status strings.
fn names_of<T: Copy + std::ops::BitAnd<Output = T> + PartialEq + Default>(
    table: &'static [(&'static str, T)],
    bits: T,
    prefix: &'static str,
) -> Vec<Frame> {
    table
        .iter()
        .filter(|(_, b)| bits & *b != T::default())
        .map(|(n, _)| {
            if prefix.is_empty() {
                Frame::simple(n)
            } else {
                Frame::Simple(format!("{prefix}{n}").into())
            }
        })
        .collect()
}

/// Key-spec flags: the table records only whether a command writes or reads.
fn key_spec_flags(spec: &CommandSpec) -> Frame {
    let mut f = Vec::new();
    if spec.has(WRITE) {
        f.push(Frame::simple("RW"));
    } else if spec.has(READONLY) {
        f.push(Frame::simple("RO"));
    }
    Frame::Set(f)
}

fn kv(k: &'static str, v: Frame) -> (Frame, Frame) {
    (Frame::bulk(k), v)
}

/// The key specs of one row (see the module doc for what is simplified).
fn key_specs(spec: &CommandSpec) -> Frame {
    let mut specs = Vec::new();
    let k = spec.keys;
    if k.first > 0 {
        let lastkey = if k.last < 0 { k.last } else { k.last - k.first };
        specs.push(Frame::Map(vec![
            kv("flags", key_spec_flags(spec)),
            kv(
                "begin_search",
                Frame::Map(vec![
                    kv("type", Frame::bulk("index")),
                    kv(
                        "spec",
                        Frame::Map(vec![kv("index", Frame::Integer(k.first.into()))]),
                    ),
                ]),
            ),
            kv(
                "find_keys",
                Frame::Map(vec![
                    kv("type", Frame::bulk("range")),
                    kv(
                        "spec",
                        Frame::Map(vec![
                            kv("lastkey", Frame::Integer(lastkey.into())),
                            kv("keystep", Frame::Integer(k.step.into())),
                            kv("limit", Frame::Integer(0)),
                        ]),
                    ),
                ]),
            ),
        ]));
    }
    if spec.keys_fn.is_some() {
        let unknown = || {
            Frame::Map(vec![
                kv("type", Frame::bulk("unknown")),
                kv("spec", Frame::Map(Vec::new())),
            ])
        };
        specs.push(Frame::Map(vec![
            kv("flags", key_spec_flags(spec)),
            kv("begin_search", unknown()),
            kv("find_keys", unknown()),
        ]));
    }
    Frame::Set(specs)
}

/// Redis's command tips the table can express.
fn tips(spec: &CommandSpec) -> Frame {
    let mut t = Vec::new();
    if spec.has(NONDETERMINISTIC) {
        t.push(Frame::bulk("nondeterministic_output"));
    }
    if spec.has(TO_SORT) {
        t.push(Frame::bulk("nondeterministic_output_order"));
    }
    Frame::Set(t)
}

/// One COMMAND INFO entry (Redis 7.0 shape, see the module doc).
fn command_info(spec: &'static CommandSpec) -> Frame {
    let subs = if spec.subcommands.is_empty() {
        Frame::Set(Vec::new())
    } else {
        Frame::Array(spec.subcommands.iter().map(command_info).collect())
    };
    Frame::Array(vec![
        Frame::bulk(spec.name),
        Frame::Integer(spec.arity.into()),
        Frame::Set(names_of(FLAG_NAMES, spec.info_flags(), "")),
        Frame::Integer(spec.keys.first.into()),
        Frame::Integer(spec.keys.last.into()),
        Frame::Integer(spec.keys.step.into()),
        Frame::Set(names_of(ACL_CATEGORIES, spec.acl_categories(), "@")),
        tips(spec),
        key_specs(spec),
        subs,
    ])
}

/// One COMMAND DOCS value: `{summary, since, group, subcommands?}`.
fn command_docs(spec: &'static CommandSpec) -> Frame {
    let mut m = Vec::with_capacity(4);
    if !spec.summary.is_empty() {
        m.push(kv("summary", Frame::bulk(spec.summary)));
    }
    m.push(kv("since", Frame::bulk(spec.since)));
    m.push(kv("group", Frame::bulk(spec.group)));
    if !spec.subcommands.is_empty() {
        let subs = spec
            .subcommands
            .iter()
            .map(|s| (Frame::bulk(s.name), command_docs(s)))
            .collect();
        m.push(kv("subcommands", Frame::Map(subs)));
    }
    Frame::Map(m)
}

/// `COMMAND` — COMMAND INFO for every command.
fn cmd_command(ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    Ok(Frame::Array(
        all_commands(ctx).into_iter().map(command_info).collect(),
    ))
}

/// `COMMAND COUNT` — the number of top-level commands.
fn cmd_command_count(ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    Ok(Frame::Integer(ctx.engine.commands().count() as i64))
}

/// `COMMAND INFO [command-name ...]` — one entry per name (null for unknown names); every
/// command when no name is given. Names may be `container|sub`.
fn cmd_command_info(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    if args.is_empty() {
        return cmd_command(ctx, args);
    }
    let out = args
        .rest()
        .iter()
        .map(|n| lookup_fullname(ctx, n).map_or(Frame::Null, command_info))
        .collect();
    Ok(Frame::Array(out))
}

/// `COMMAND DOCS [command-name ...]` — a map name -> docs; unknown names are left out; every
/// command when no name is given.
fn cmd_command_docs(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let specs: Vec<&'static CommandSpec> = if args.is_empty() {
        all_commands(ctx)
    } else {
        args.rest()
            .iter()
            .filter_map(|n| lookup_fullname(ctx, n))
            .collect()
    };
    Ok(Frame::Map(
        specs
            .into_iter()
            .map(|s| (Frame::bulk(s.name), command_docs(s)))
            .collect(),
    ))
}

/// `COMMAND LIST [FILTERBY MODULE module-name | ACLCAT category | PATTERN pattern]` — names of
/// all commands and subcommands (`client|kill`), optionally filtered. Category and pattern
/// match case-insensitively; no command comes from a module.
fn cmd_command_list(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    enum Filter<'a> {
        All,
        Module,
        AclCat(Option<u64>),
        Pattern(&'a [u8]),
    }
    let filter = match args.rest() {
        [] => Filter::All,
        [by, kind, value] if by.eq_ignore_ascii_case(b"filterby") => {
            if kind.eq_ignore_ascii_case(b"module") {
                Filter::Module
            } else if kind.eq_ignore_ascii_case(b"aclcat") {
                Filter::AclCat(
                    ACL_CATEGORIES
                        .iter()
                        .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(value))
                        .map(|&(_, b)| b),
                )
            } else if kind.eq_ignore_ascii_case(b"pattern") {
                Filter::Pattern(value)
            } else {
                return Err(OpError::Syntax);
            }
        }
        _ => return Err(OpError::Syntax),
    };
    let keep = |s: &CommandSpec| match filter {
        Filter::All => true,
        Filter::Module => false,
        Filter::AclCat(None) => false,
        Filter::AclCat(Some(bit)) => s.acl_categories() & bit != 0,
        Filter::Pattern(p) => glob_match(p, s.name.as_bytes(), true),
    };
    let mut out = Vec::new();
    for spec in all_commands(ctx) {
        for s in std::iter::once(spec).chain(spec.subcommands.iter()) {
            if keep(s) {
                out.push(Frame::bulk(s.name));
            }
        }
    }
    Ok(Frame::Array(out))
}

/// The row and key indexes (into `full`) of a full command line, for GETKEYS and
/// GETKEYSANDFLAGS, with Redis's errors.
fn getkeys_of(
    ctx: &Ctx<'_, '_>,
    full: &[&[u8]],
) -> Result<(&'static CommandSpec, Vec<usize>), OpError> {
    let Some(base) = full.first().and_then(|n| ctx.engine.command(n)) else {
        return Err(OpError::err("Invalid command specified"));
    };
    let spec = match full.get(1) {
        Some(sub) if !base.subcommands.is_empty() => {
            find_subcommand(base, sub).ok_or(OpError::err("Invalid command specified"))?
        }
        _ => base,
    };
    if spec.keys.first <= 0 && spec.keys_fn.is_none() {
        return Err(OpError::err("The command has no key arguments"));
    }
    if !spec.arity_ok(full.len()) {
        return Err(OpError::err(
            "Invalid number of arguments specified for command",
        ));
    }
    let idx = spec.key_indexes(full);
    if idx.is_empty() {
        return Err(OpError::err("Invalid arguments specified for command"));
    }
    Ok((spec, idx))
}

/// `COMMAND GETKEYS command [arg ...]` — the key arguments of a full command line.
fn cmd_command_getkeys(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let full = args.rest();
    let (_, idx) = getkeys_of(ctx, full)?;
    Ok(Frame::Array(
        idx.iter()
            .filter_map(|&i| full.get(i))
            .map(|k| Frame::bulk(*k))
            .collect(),
    ))
}

/// `COMMAND GETKEYSANDFLAGS command [arg ...]` — `[[key, [flags...]], ...]`; the flags are the
/// simplified key-spec flags (RW or RO).
fn cmd_command_getkeysandflags(
    ctx: &mut Ctx<'_, '_>,
    args: &mut Args<'_>,
) -> Result<Frame, OpError> {
    let full = args.rest();
    let (spec, idx) = getkeys_of(ctx, full)?;
    Ok(Frame::Array(
        idx.iter()
            .filter_map(|&i| full.get(i))
            .map(|k| Frame::Array(vec![Frame::bulk(*k), key_spec_flags(spec)]))
            .collect(),
    ))
}

/// Redis's help reply: status lines.
fn help(lines: &[&'static str]) -> Frame {
    Frame::Array(lines.iter().map(|l| Frame::simple(l)).collect())
}

/// `COMMAND HELP`
fn cmd_command_help(_ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    Ok(help(&[
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
        "HELP",
        "    Prints this help.",
    ]))
}

// ---------------------------------------------------------------------------------------------
// INFO, TIME, DBSIZE
// ---------------------------------------------------------------------------------------------

/// `INFO [section [section ...]]` — server information as `# Section` blocks of `field:value`
/// lines (`\r\n` ends). Sections: server, clients, memory, persistence, stats, replication,
/// cpu, modules, cluster, keyspace; `default`, `all`, `everything`; unknown names add nothing.
/// A verbatim string (`txt`) in RESP3, a bulk string in RESP2 — as Redis 7.0 replies.
/// Flagged `ALL_KEYS` so the keyspace section can count keys under the shard locks.
fn cmd_info(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let text = crate::info::info_string(ctx, args.rest());
    Ok(Frame::Verbatim {
        format: *b"txt",
        text: text.into_bytes(),
    })
}

/// `TIME` — `[unix seconds, microseconds]` as bulk strings.
fn cmd_time(_ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    let us = crate::time::now_us();
    Ok(Frame::Array(vec![
        Frame::bulk((us / 1_000_000).to_string()),
        Frame::bulk((us % 1_000_000).to_string()),
    ]))
}

/// `DBSIZE` — keys in the selected database.
fn cmd_dbsize(ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    let db = ctx.db();
    Ok(Frame::Integer(ctx.ks.dbsize(db) as i64))
}

// ---------------------------------------------------------------------------------------------
// DEBUG
// ---------------------------------------------------------------------------------------------

/// DEBUG's key positions: only `DEBUG OBJECT key` names a key. DEBUG holds no other lock, so
/// `DEBUG SLEEP` stalls nobody but its caller.
fn debug_keys(argv: &[&[u8]]) -> Vec<usize> {
    match argv.get(1) {
        Some(sub) if argv.len() == 3 && sub.eq_ignore_ascii_case(b"object") => vec![2],
        _ => Vec::new(),
    }
}

/// C's `strtod` on the longest numeric prefix, 0 if there is none (DEBUG SLEEP's parse).
fn strtod_prefix(b: &[u8]) -> f64 {
    let t = String::from_utf8_lossy(b);
    let t = t.trim_start();
    let end = t
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '+' | '-' | 'e' | 'E')))
        .unwrap_or(t.len());
    (1..=end)
        .rev()
        .find_map(|n| t.get(..n).and_then(|p| p.parse::<f64>().ok()))
        .unwrap_or(0.0)
}

/// C's `atoi`: optional spaces and sign, then digits; 0 if none (DEBUG SET-ACTIVE-EXPIRE's
/// parse: `x` means 0).
fn atoi(b: &[u8]) -> i64 {
    let t = String::from_utf8_lossy(b);
    let t = t.trim_start();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let mut n: i64 = 0;
    for c in digits.bytes().take_while(u8::is_ascii_digit) {
        n = n.saturating_mul(10).saturating_add(i64::from(c - b'0'));
    }
    if neg {
        -n
    } else {
        n
    }
}

/// Bytes of an RDB length prefix (`rdbSaveLen`).
fn rdb_len_size(len: usize) -> usize {
    if len < 1 << 6 {
        1
    } else if len < 1 << 14 {
        2
    } else if len <= u32::MAX as usize {
        5
    } else {
        9
    }
}

/// Bytes of an integer in RDB's compact int encodings, if it fits one (`rdbEncodeInteger`).
fn rdb_int_size(n: i64) -> Option<usize> {
    if (-(1 << 7)..1 << 7).contains(&n) {
        Some(2)
    } else if (-(1 << 15)..1 << 15).contains(&n) {
        Some(3)
    } else if (-(1i64 << 31)..1i64 << 31).contains(&n) {
        Some(5)
    } else {
        None
    }
}

/// DEBUG OBJECT's `serializedlength` of a string: its RDB encoding's size. LZF compression
/// (Redis compresses strings over 20 bytes when it pays) is not counted until the RDB writer
/// provides it, so long compressible strings report their uncompressed size.
fn str_serialized_len(s: &Str) -> usize {
    if let Str::Int(n) = s {
        if let Some(size) = rdb_int_size(*n) {
            return size;
        }
    }
    let bytes = s.as_bytes();
    if bytes.len() <= 11 {
        if let Some(size) = fastkv_resp::request::parse_i64_strict(&bytes).and_then(rdb_int_size) {
            return size;
        }
    }
    rdb_len_size(bytes.len()) + bytes.len()
}

/// Redis shares the integer objects 0..9999 (`OBJ_SHARED_INTEGERS`) and reports their
/// refcount as `INT_MAX`; OBJECT REFCOUNT and DEBUG OBJECT show that.
const SHARED_INTEGERS: i64 = 10_000;
const SHARED_REFCOUNT: i64 = i32::MAX as i64;

/// `DEBUG OBJECT key` — Redis's one-line description of the value.
fn debug_object(ctx: &mut Ctx<'_, '_>, key: &[u8]) -> Result<Frame, OpError> {
    let now = crate::time::now_ms();
    let entry = ctx.get(key).ok_or(OpError::NoSuchKey)?;
    let addr: *const crate::keyspace::Entry = entry;
    let refcount = match &entry.value {
        Value::Str(Str::Int(n)) if (0..SHARED_INTEGERS).contains(n) => SHARED_REFCOUNT,
        _ => 1,
    };
    // Other types report 0 until the RDB writer can size them.
    let serialized = entry.value.as_str().map_or(0, str_serialized_len);
    Ok(Frame::Simple(
        format!(
            "Value at:{addr:p} refcount:{refcount} encoding:{} serializedlength:{serialized} \
             lru:{} lru_seconds_idle:{}",
            entry.value.encoding_name(),
            crate::time::lru_secs24(entry.lru, now),
            crate::time::lru_idle_secs(entry.lru, now),
        )
        .into(),
    ))
}

/// `DEBUG SLEEP seconds | OBJECT key | SET-ACTIVE-EXPIRE 0|1 | HELP` — the subset of Redis's
/// DEBUG that means something here. SLEEP holds no shard lock: it stalls only its caller.
fn cmd_debug(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let sub = args.next_bytes()?;
    let rest = args.rest();
    let lower = sub.to_ascii_lowercase();
    match (lower.as_slice(), rest) {
        (b"help", []) => Ok(help(&[
            "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "OBJECT <key>",
            "    Show low level info about `key` and associated value.",
            "SET-ACTIVE-EXPIRE <0|1>",
            "    Setting it to 0 disables expiring keys in background when they are not",
            "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
            "    default.",
            "SLEEP <seconds>",
            "    Stop the server for <seconds>. Decimals allowed.",
            "HELP",
            "    Prints this help.",
        ])),
        (b"sleep", [secs]) => {
            let secs = strtod_prefix(secs);
            if secs > 0.0 {
                let d = Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX);
                std::thread::sleep(d);
            }
            Ok(Frame::OK)
        }
        (b"object", [key]) => debug_object(ctx, key),
        (b"set-active-expire", [on]) => {
            ctx.engine
                .active_expire
                .store(atoi(on) != 0, Ordering::Relaxed);
            Ok(Frame::OK)
        }
        _ => Err(OpError::msg(format!(
            "unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
            truncate_lossy(sub, 128)
        ))),
    }
}

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

const COMMAND_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "command|count",
        2,
        LOADING | STALE,
        NO_KEYS,
        cmd_command_count,
    )
    .acl(ACL_CONNECTION)
    .doc("server", "2.8.13", "Get total number of Redis commands"),
    CommandSpec::new(
        "command|docs",
        -2,
        LOADING | STALE | TO_SORT,
        NO_KEYS,
        cmd_command_docs,
    )
    .acl(ACL_CONNECTION)
    .doc(
        "server",
        "7.0.0",
        "Get array of specific Redis command documentation",
    ),
    CommandSpec::new(
        "command|getkeys",
        -4,
        LOADING | STALE,
        NO_KEYS,
        cmd_command_getkeys,
    )
    .acl(ACL_CONNECTION)
    .doc(
        "server",
        "2.8.13",
        "Extract keys given a full Redis command",
    ),
    CommandSpec::new(
        "command|getkeysandflags",
        -4,
        LOADING | STALE,
        NO_KEYS,
        cmd_command_getkeysandflags,
    )
    .acl(ACL_CONNECTION)
    .doc(
        "server",
        "7.0.0",
        "Extract keys and access flags given a full Redis command",
    ),
    CommandSpec::new(
        "command|help",
        2,
        LOADING | STALE,
        NO_KEYS,
        cmd_command_help,
    )
    .acl(ACL_CONNECTION)
    .doc(
        "server",
        "5.0.0",
        "Show helpful text about the different subcommands",
    ),
    CommandSpec::new(
        "command|info",
        -2,
        LOADING | STALE | TO_SORT,
        NO_KEYS,
        cmd_command_info,
    )
    .acl(ACL_CONNECTION)
    .doc(
        "server",
        "2.8.13",
        "Get array of specific Redis command details, or all when no argument is given.",
    ),
    CommandSpec::new(
        "command|list",
        -2,
        LOADING | STALE | TO_SORT,
        NO_KEYS,
        cmd_command_list,
    )
    .acl(ACL_CONNECTION)
    .doc("server", "7.0.0", "Get an array of Redis command names"),
];

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "command",
        -1,
        LOADING | STALE | TO_SORT,
        NO_KEYS,
        cmd_command,
    )
    .acl(ACL_CONNECTION)
    .subcommands(COMMAND_SUBCOMMANDS)
    .doc("server", "2.8.13", "Get array of Redis command details"),
    CommandSpec::new("dbsize", 1, READONLY | FAST | ALL_KEYS, NO_KEYS, cmd_dbsize)
        .acl(ACL_KEYSPACE)
        .doc(
            "server",
            "1.0.0",
            "Return the number of keys in the selected database",
        ),
    CommandSpec::new(
        "debug",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NO_KEYS,
        cmd_debug,
    )
    .keys_fn(debug_keys)
    .doc("server", "1.0.0", "A container for debugging commands"),
    CommandSpec::new(
        "info",
        -1,
        LOADING | STALE | NONDETERMINISTIC | ALL_KEYS,
        NO_KEYS,
        cmd_info,
    )
    .acl(ACL_DANGEROUS)
    .doc(
        "server",
        "1.0.0",
        "Get information and statistics about the server",
    ),
    CommandSpec::new(
        "time",
        1,
        LOADING | STALE | FAST | NONDETERMINISTIC,
        NO_KEYS,
        cmd_time,
    )
    .doc("server", "2.6.0", "Return the current server time"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{ACL_LIST, ACL_NO_GROUP, ACL_SET, ACL_SORTEDSET, BLOCKING, DENYOOM, KEY1};
    use crate::testing::*;

    fn st(s: &'static str) -> Frame {
        Frame::simple(s)
    }

    fn text(f: Frame) -> String {
        match f {
            Frame::Verbatim { format, text } => {
                assert_eq!(&format, b"txt");
                String::from_utf8(text).unwrap_or_default()
            }
            other => panic!("not verbatim: {other:?}"),
        }
    }

    fn array(f: Frame) -> Vec<Frame> {
        match f {
            Frame::Array(v) => v,
            other => panic!("not an array: {other:?}"),
        }
    }

    fn key_spec(flag: &'static str, index: i64, lastkey: i64, step: i64) -> Frame {
        Frame::Map(vec![
            (bulk("flags"), Frame::Set(vec![st(flag)])),
            (
                bulk("begin_search"),
                Frame::Map(vec![
                    (bulk("type"), bulk("index")),
                    (bulk("spec"), Frame::Map(vec![(bulk("index"), int(index))])),
                ]),
            ),
            (
                bulk("find_keys"),
                Frame::Map(vec![
                    (bulk("type"), bulk("range")),
                    (
                        bulk("spec"),
                        Frame::Map(vec![
                            (bulk("lastkey"), int(lastkey)),
                            (bulk("keystep"), int(step)),
                            (bulk("limit"), int(0)),
                        ]),
                    ),
                ]),
            ),
        ])
    }

    #[test]
    fn command_info_matches_redis_shape() {
        let mut s = Session::new();
        // Redis 7.0.15: COMMAND INFO get (key spec flags simplified: no `access`).
        let get = Frame::Array(vec![
            bulk("get"),
            int(2),
            Frame::Set(vec![st("readonly"), st("fast")]),
            int(1),
            int(1),
            int(1),
            Frame::Set(vec![st("@read"), st("@string"), st("@fast")]),
            Frame::Set(vec![]),
            Frame::Set(vec![key_spec("RO", 1, 0, 1)]),
            Frame::Set(vec![]),
        ]);
        assert_eq!(
            s.run(&["COMMAND", "INFO", "GET", "nosuch"]),
            Frame::Array(vec![get, Frame::Null])
        );
        // DBSIZE: @keyspace from its acl extras, ALL_KEYS hidden.
        let dbsize = array(s.run(&["command", "info", "dbsize"]));
        let dbsize = array(dbsize.into_iter().next().unwrap_or(Frame::Null));
        assert_eq!(dbsize[2], Frame::Set(vec![st("readonly"), st("fast")]));
        assert_eq!(
            dbsize[6],
            Frame::Set(vec![st("@keyspace"), st("@read"), st("@fast")])
        );
        // INFO: @slow @dangerous, nondeterministic.
        let info = array(array(s.run(&["COMMAND", "INFO", "info"])).remove(0));
        assert_eq!(info[2], Frame::Set(vec![st("loading"), st("stale")]));
        assert_eq!(info[6], Frame::Set(vec![st("@slow"), st("@dangerous")]));
        assert_eq!(info[7], Frame::Set(vec![bulk("nondeterministic_output")]));
        // TIME: loading stale fast / @fast.
        let time = array(array(s.run(&["COMMAND", "INFO", "time"])).remove(0));
        assert_eq!(
            time[2],
            Frame::Set(vec![st("loading"), st("stale"), st("fast")])
        );
        assert_eq!(time[6], Frame::Set(vec![st("@fast")]));
        // COMMAND: a container with its own categories and an array of subcommands.
        let cmd = array(array(s.run(&["COMMAND", "INFO", "command"])).remove(0));
        assert_eq!(cmd[1], int(-1));
        assert_eq!(cmd[6], Frame::Set(vec![st("@slow"), st("@connection")]));
        let subs = array(cmd[9].clone());
        assert_eq!(subs.len(), 7);
        let count = array(array(s.run(&["COMMAND", "INFO", "command|count"])).remove(0));
        assert_eq!(count[0], bulk("command|count"));
        assert_eq!(count[1], int(2));
        assert_eq!(count[9], Frame::Set(vec![]));
        assert!(subs.contains(&Frame::Array(count)));
        // DEBUG: admin, and movablekeys because its key (DEBUG OBJECT) depends on arguments.
        let debug = array(array(s.run(&["COMMAND", "INFO", "debug"])).remove(0));
        assert_eq!(
            debug[2],
            Frame::Set(vec![
                st("admin"),
                st("noscript"),
                st("loading"),
                st("stale"),
                st("movablekeys")
            ])
        );
        assert_eq!(
            debug[6],
            Frame::Set(vec![st("@admin"), st("@slow"), st("@dangerous")])
        );
    }

    #[test]
    fn command_all_count_and_errors() {
        let mut s = Session::new();
        let n = s.engine.commands().count();
        assert_eq!(s.run(&["COMMAND", "COUNT"]), int(n as i64));
        assert_eq!(array(s.run(&["COMMAND"])).len(), n);
        assert_eq!(array(s.run(&["COMMAND", "INFO"])).len(), n);
        assert_eq!(
            s.run(&["COMMAND", "COUNT", "x"]),
            err("ERR wrong number of arguments for 'command|count' command")
        );
        assert_eq!(
            s.run(&["COMMAND", "nope"]),
            err("ERR unknown subcommand 'nope'. Try COMMAND HELP.")
        );
        let help = array(s.run(&["COMMAND", "HELP"]));
        assert_eq!(
            help[0],
            st("COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
        );
        assert_eq!(help.len(), 21);
    }

    #[test]
    fn command_docs() {
        let mut s = Session::new();
        assert_eq!(
            s.run(&["COMMAND", "DOCS", "dbsize", "nosuch"]),
            Frame::Map(vec![(
                bulk("dbsize"),
                Frame::Map(vec![
                    (
                        bulk("summary"),
                        bulk("Return the number of keys in the selected database")
                    ),
                    (bulk("since"), bulk("1.0.0")),
                    (bulk("group"), bulk("server")),
                ])
            )])
        );
        assert_eq!(s.run(&["COMMAND", "DOCS", "nosuch"]), Frame::Map(vec![]));
        let Frame::Map(docs) = s.run(&["COMMAND", "DOCS", "command"]) else {
            panic!("not a map");
        };
        let Frame::Map(fields) = &docs[0].1 else {
            panic!("not a map");
        };
        let subs = fields.iter().find(|(k, _)| *k == bulk("subcommands"));
        match subs {
            Some((_, Frame::Map(m))) => {
                assert!(m.iter().any(|(k, _)| *k == bulk("command|getkeys")))
            }
            other => panic!("no subcommands: {other:?}"),
        }
        let Frame::Map(all) = s.run(&["COMMAND", "DOCS"]) else {
            panic!("not a map");
        };
        assert_eq!(all.len(), s.engine.commands().count());
    }

    #[test]
    fn command_list() {
        let mut s = Session::new();
        let all = array(s.run(&["COMMAND", "LIST"]));
        assert!(all.contains(&bulk("command|info")));
        assert!(all.contains(&bulk("get")));
        let expected: Vec<Frame> = [
            "command",
            "command|count",
            "command|docs",
            "command|getkeys",
            "command|getkeysandflags",
            "command|help",
            "command|info",
            "command|list",
        ]
        .iter()
        .map(|n| bulk(n))
        .collect();
        assert_eq!(
            s.run(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "COMMAND*"]),
            Frame::Array(expected)
        );
        let conn = array(s.run(&["command", "list", "filterby", "aclcat", "CONNECTION"]));
        assert!(conn.contains(&bulk("command|count")));
        assert!(conn.contains(&bulk("ping")));
        assert!(!conn.contains(&bulk("get")));
        assert_eq!(
            s.run(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch"]),
            Frame::Array(vec![])
        );
        assert_eq!(
            s.run(&["COMMAND", "LIST", "FILTERBY", "MODULE", "m"]),
            Frame::Array(vec![])
        );
        for bad in [
            &["COMMAND", "LIST", "FILTERBY"][..],
            &["COMMAND", "LIST", "FILTERBY", "nope", "x"],
            &["COMMAND", "LIST", "foo"],
            &["COMMAND", "LIST", "FILTERBY", "PATTERN", "x", "y"],
        ] {
            assert_eq!(s.run(bad), err("ERR syntax error"), "{bad:?}");
        }
    }

    #[test]
    fn command_getkeys() {
        let mut s = Session::new();
        assert_eq!(
            s.run(&["COMMAND", "GETKEYS", "SET", "a", "b"]),
            Frame::Array(vec![bulk("a")])
        );
        assert_eq!(
            s.run(&["COMMAND", "GETKEYS", "del", "a", "b", "c"]),
            Frame::Array(vec![bulk("a"), bulk("b"), bulk("c")])
        );
        assert_eq!(
            s.run(&["COMMAND", "GETKEYS", "DEBUG", "OBJECT", "k"]),
            Frame::Array(vec![bulk("k")])
        );
        assert_eq!(
            s.run(&["COMMAND", "GETKEYSANDFLAGS", "set", "a", "b"]),
            Frame::Array(vec![Frame::Array(vec![
                bulk("a"),
                Frame::Set(vec![st("RW")])
            ])])
        );
        let cases: &[(&[&str], &str)] = &[
            (
                &["COMMAND", "GETKEYS", "get"],
                "ERR wrong number of arguments for 'command|getkeys' command",
            ),
            (
                &["COMMAND", "GETKEYS", "nosuch", "a"],
                "ERR Invalid command specified",
            ),
            (
                &["COMMAND", "GETKEYS", "command", "nope", "x"],
                "ERR Invalid command specified",
            ),
            (
                &["COMMAND", "GETKEYS", "echo", "a"],
                "ERR The command has no key arguments",
            ),
            (
                &["COMMAND", "GETKEYS", "command", "count"],
                "ERR The command has no key arguments",
            ),
            (
                &["COMMAND", "GETKEYS", "get", "a", "b"],
                "ERR Invalid number of arguments specified for command",
            ),
            (
                &["COMMAND", "GETKEYS", "debug", "sleep", "1"],
                "ERR Invalid arguments specified for command",
            ),
        ];
        for (argv, e) in cases {
            assert_eq!(s.run(argv), err(e), "{argv:?}");
        }
    }

    fn dummy(_: &mut Ctx<'_, '_>, _: &mut Args<'_>) -> Result<Frame, OpError> {
        Ok(Frame::OK)
    }

    #[test]
    fn acl_categories_follow_redis_rules() {
        let names = |spec: &CommandSpec| names_of(ACL_CATEGORIES, spec.acl_categories(), "@");
        let row =
            |flags, group| CommandSpec::new("x", 1, flags, KEY1, dummy).doc(group, "1.0.0", "");
        assert_eq!(
            names(&row(WRITE | DENYOOM, "string")),
            vec![st("@write"), st("@string"), st("@slow")]
        );
        assert_eq!(
            names(&row(WRITE | FAST, "generic")),
            vec![st("@keyspace"), st("@write"), st("@fast")]
        );
        assert_eq!(
            names(&row(WRITE | BLOCKING, "list")),
            vec![st("@write"), st("@list"), st("@slow"), st("@blocking")]
        );
        assert_eq!(
            names(&row(READONLY, "scripting")),
            vec![st("@slow"), st("@scripting")]
        );
        // SORT: generic but not @keyspace.
        assert_eq!(
            names(
                &row(WRITE | DENYOOM, "generic")
                    .acl(ACL_NO_GROUP | ACL_SET | ACL_SORTEDSET | ACL_LIST | ACL_DANGEROUS)
            ),
            vec![
                st("@write"),
                st("@set"),
                st("@sortedset"),
                st("@list"),
                st("@slow"),
                st("@dangerous")
            ]
        );
        // CLIENT: a container gets no group category; CLIENT KILL does.
        const SUBS: &[CommandSpec] =
            &[
                CommandSpec::new("x|kill", -3, ADMIN | NOSCRIPT, NO_KEYS, dummy).doc(
                    "connection",
                    "2.4.0",
                    "",
                ),
            ];
        let client = row(0, "connection").subcommands(SUBS);
        assert_eq!(names(&client), vec![st("@slow")]);
        assert_eq!(
            names(&SUBS[0]),
            vec![
                st("@admin"),
                st("@slow"),
                st("@dangerous"),
                st("@connection")
            ]
        );
    }

    #[test]
    fn info_sections() {
        let mut s = Session::new();
        s.run(&["SET", "a", "1"]);
        s.run(&["SET", "b", "2"]);
        s.run(&["SELECT", "3"]);
        s.run(&["SET", "c", "3"]);
        let all = text(s.run(&["INFO"]));
        let headers: Vec<&str> = all.lines().filter(|l| l.starts_with('#')).collect();
        assert_eq!(
            headers,
            [
                "# Server",
                "# Clients",
                "# Memory",
                "# Persistence",
                "# Stats",
                "# Replication",
                "# CPU",
                "# Modules",
                "# Errorstats",
                "# Cluster",
                "# Keyspace"
            ]
        );
        assert!(all.starts_with("# Server\r\nredis_version:7.0.15\r\n"));
        assert!(all.contains("\r\n\r\n# Clients\r\n"));
        assert!(all.ends_with(
            "# Keyspace\r\ndb0:keys=2,expires=0,avg_ttl=0\r\ndb3:keys=1,expires=0,avg_ttl=0\r\n"
        ));
        assert!(all.split("\r\n").all(|l| !l.contains('\n')));
        assert!(all.contains("\r\nrole:master\r\n"));
        assert!(all.contains(&format!("\r\nrun_id:{}\r\n", s.engine.run_id)));
        assert!(all.contains(&format!("\r\nprocess_id:{}\r\n", std::process::id())));
        assert!(all.contains("\r\nrdb_changes_since_last_save:3\r\n"));
        let fields = |t: String| -> Vec<String> {
            t.lines()
                .map(|l| l.split(':').next().unwrap_or("").to_string())
                .collect()
        };
        let default = fields(text(s.run(&["INFO", "default"])));
        assert_eq!(default, fields(all.clone()));
        // `all` and `everything` add commandstats to the defaults.
        for all_name in ["ALL", "everything"] {
            let t = text(s.run(&["INFO", all_name]));
            assert!(t.contains("\r\n# Commandstats\r\ncmdstat_"), "{t}");
            assert!(t.contains("cmdstat_set:calls=3,usec="), "{t}");
            assert!(t.contains("\r\n# Errorstats\r\n"), "{t}");
        }
        assert_eq!(text(s.run(&["INFO", "nosuch"])), "");
        let two = text(s.run(&["INFO", "Keyspace", "nosuch", "SERVER"]));
        let headers: Vec<&str> = two.lines().filter(|l| l.starts_with('#')).collect();
        assert_eq!(headers, ["# Server", "# Keyspace"]);
        assert_eq!(
            text(s.run(&["INFO", "cluster"])),
            "# Cluster\r\ncluster_enabled:0\r\n"
        );
    }

    #[test]
    fn info_ops_per_sec_from_samples() {
        let mut s = Session::new();
        let ops = |s: &mut Session| -> u64 {
            let t = text(s.run(&["INFO", "stats"]));
            t.lines()
                .find_map(|l| l.strip_prefix("instantaneous_ops_per_sec:"))
                .and_then(|v| v.parse().ok())
                .unwrap_or(u64::MAX)
        };
        assert_eq!(ops(&mut s), 0, "no sample yet");
        for _ in 0..50 {
            s.run(&["PING"]);
        }
        std::thread::sleep(Duration::from_millis(150));
        let r = ops(&mut s);
        // 51 commands over >= 150 ms: at most ~340/s, and certainly not 0.
        assert!(r > 0 && r <= 51 * 1000 / 150, "{r}");
    }

    #[test]
    fn bytes_human() {
        use crate::info::bytes_to_human;
        assert_eq!(bytes_to_human(0), "0B");
        assert_eq!(bytes_to_human(1023), "1023B");
        assert_eq!(bytes_to_human(966_264), "943.62K");
        assert_eq!(bytes_to_human(12_374_016), "11.80M");
        assert_eq!(bytes_to_human(25_276_063_744), "23.54G");
    }

    #[test]
    fn time() {
        let mut s = Session::new();
        let t = array(s.run(&["TIME"]));
        let num = |f: &Frame| match f {
            Frame::Bulk(b) => String::from_utf8_lossy(b).parse::<u64>().unwrap_or(0),
            _ => 0,
        };
        let now = crate::time::now_ms() / 1000;
        assert!(num(&t[0]).abs_diff(now) <= 1);
        assert!(num(&t[1]) < 1_000_000);
        assert_eq!(
            s.run(&["TIME", "x"]),
            err("ERR wrong number of arguments for 'time' command")
        );
    }

    #[test]
    fn debug_object() {
        let mut s = Session::new();
        s.run(&["SET", "x", "hello"]);
        s.run(&["SET", "n", "123"]);
        s.run(&["SET", "big", &"a".repeat(50)]);
        s.run(&["SET", "bigint", "100000"]);
        let line = |s: &mut Session, k: &str| match s.run(&["DEBUG", "OBJECT", k]) {
            Frame::Simple(t) => t.to_string(),
            other => panic!("{other:?}"),
        };
        let x = line(&mut s, "x");
        assert!(x.starts_with("Value at:0x"), "{x}");
        assert!(
            x.contains(" refcount:1 encoding:embstr serializedlength:6 lru:"),
            "{x}"
        );
        assert!(x.ends_with(" lru_seconds_idle:0"), "{x}");
        let n = line(&mut s, "n");
        assert!(
            n.contains(" refcount:2147483647 encoding:int serializedlength:2 "),
            "{n}"
        );
        let bigint = line(&mut s, "bigint");
        assert!(
            bigint.contains(" refcount:1 encoding:int serializedlength:5 "),
            "{bigint}"
        );
        assert!(line(&mut s, "big").contains(" encoding:raw serializedlength:51 "));
        assert_eq!(s.run(&["DEBUG", "OBJECT", "nokey"]), err("ERR no such key"));
    }

    #[test]
    fn debug_subcommands_and_errors() {
        let mut s = Session::new();
        assert_eq!(s.run(&["DEBUG", "SLEEP", "0"]), Frame::OK);
        assert_eq!(s.run(&["DEBUG", "sleep", "abc"]), Frame::OK);
        assert_eq!(s.run(&["DEBUG", "sleep", "-1"]), Frame::OK);
        assert_eq!(s.run(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), Frame::OK);
        assert!(!s.engine.active_expire.load(Ordering::Relaxed));
        assert_eq!(s.run(&["DEBUG", "set-active-expire", "2"]), Frame::OK);
        assert!(s.engine.active_expire.load(Ordering::Relaxed));
        assert_eq!(s.run(&["DEBUG", "set-active-expire", "x"]), Frame::OK);
        assert!(!s.engine.active_expire.load(Ordering::Relaxed));
        let help = array(s.run(&["DEBUG", "HELP"]));
        assert_eq!(
            help[0],
            st("DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
        );
        assert_eq!(
            s.run(&["DEBUG"]),
            err("ERR wrong number of arguments for 'debug' command")
        );
        for (argv, sub) in [
            (&["DEBUG", "nope"][..], "nope"),
            (&["DEBUG", "sleep"], "sleep"),
            (&["DEBUG", "SLEEP", "1", "2"], "SLEEP"),
            (&["DEBUG", "object"], "object"),
            (&["DEBUG", "object", "a", "b"], "object"),
            (&["DEBUG", "help", "x"], "help"),
        ] {
            assert_eq!(
                s.run(argv),
                err(&format!(
                    "ERR unknown subcommand or wrong number of arguments for '{sub}'. Try DEBUG HELP."
                )),
                "{argv:?}"
            );
        }
    }

    #[test]
    fn debug_sleep_holds_no_lock() {
        let s = Session::new();
        let engine = s.engine.clone();
        let sleeper = std::thread::spawn(move || {
            let mut c = engine.new_client();
            engine.execute(&mut c, &[b"DEBUG", b"SLEEP", b"0.5"])
        });
        std::thread::sleep(Duration::from_millis(50));
        let mut s = s;
        let start = std::time::Instant::now();
        assert_eq!(s.run(&["SET", "k", "v"]), Frame::OK);
        assert_eq!(s.run(&["DBSIZE"]), int(1));
        assert!(start.elapsed() < Duration::from_millis(300));
        assert_eq!(sleeper.join().ok(), Some(Frame::OK));
    }

    #[test]
    fn lenient_number_parsers() {
        assert_eq!(strtod_prefix(b"1.5abc"), 1.5);
        assert_eq!(strtod_prefix(b" 2"), 2.0);
        assert_eq!(strtod_prefix(b"x"), 0.0);
        assert_eq!(strtod_prefix(b"1e"), 1.0);
        assert_eq!(atoi(b"12x"), 12);
        assert_eq!(atoi(b"-3"), -3);
        assert_eq!(atoi(b"x"), 0);
    }
}
