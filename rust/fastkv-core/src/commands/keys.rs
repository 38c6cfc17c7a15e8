//! Generic keyspace commands: existence, deletion, renaming, expiry, iteration, databases,
//! introspection (OBJECT) and serialization (DUMP/RESTORE).
//!
//! These work on any value type: they read and write whole [`Entry`]s through the keyspace
//! methods that keep the per-database `volatile` counters exact (insert_entry, remove,
//! set_expire, persist, flush, swap_db), never by poking deadlines directly.
//!
//! Access tracking follows Redis: commands that *use* a key (DEL's lookups aside) go through
//! `ctx.get`, which refreshes the entry's LRU clock; the ones Redis flags `LOOKUP_NOTOUCH`
//! (EXISTS, TYPE, TTL and friends, OBJECT) read through `ctx.ks.get`, which does not.
//!
//! Key specs: single-key commands name their key; RENAME/RENAMENX/COPY name both keys, so both
//! shards are locked. MOVE and COPY ... DB reach another database's slice of the *same* key
//! hash, which lives in the same shard, so no extra lock is needed. The whole-keyspace
//! commands (KEYS, SCAN, RANDOMKEY, FLUSHDB, FLUSHALL, SWAPDB) are flagged `ALL_KEYS`.

use crate::command::{
    keys, parse_int, Args, CommandSpec, ACL_DANGEROUS, ACL_KEYSPACE, ALL_ARGS, ALL_KEYS, DENYOOM,
    FAST, KEY1, LOADING, NONDETERMINISTIC, NO_KEYS, READONLY, STALE, TO_SORT, WRITE,
};
use crate::dispatch::Ctx;
use crate::error::OpError;
use crate::glob::glob_match;
use crate::keyspace::Entry;
use crate::notify::GENERIC;
use crate::rdb::dump::{self, PayloadError};
use crate::types::{Str, Value};
use fastkv_resp::Frame;

/// `ERR source and destination objects are the same` (MOVE, COPY).
const SAME_OBJECT: OpError = OpError::err("source and destination objects are the same");

/// Redis shares the objects of the integers 0..10000 (`OBJ_SHARED_INTEGERS`); OBJECT REFCOUNT
/// reports them with `OBJ_SHARED_REFCOUNT` (INT_MAX).
const SHARED_INTEGERS: i64 = 10_000;
const SHARED_REFCOUNT: i64 = i32::MAX as i64;

/// SCAN's default COUNT.
const SCAN_DEFAULT_COUNT: i64 = 10;
/// Buckets SCAN may visit per requested key before returning (Redis's `maxiterations =
/// count * 10`), so a sparse table cannot make one call walk everything.
const SCAN_STEPS_PER_KEY: i64 = 10;

// =============================================================================================
// Deletion, existence, type
// =============================================================================================

/// `DEL key [key ...]` — how many of the keys existed (and were removed).
fn cmd_del(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let mut n = 0;
    for key in args.rest() {
        if ctx.remove(key).is_some() {
            ctx.notify(GENERIC, "del", key);
            n += 1;
        }
    }
    Ok(Frame::Integer(n))
}

/// `UNLINK key [key ...]` — DEL's reply. Values are freed at once for now (no value is big
/// enough to be worth a background free until the collection types land).
fn cmd_unlink(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    cmd_del(ctx, args)
}

/// `EXISTS key [key ...]` — how many of the named keys exist; a key named twice counts twice.
fn cmd_exists(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let mut n = 0;
    for key in args.rest() {
        if ctx.peek(key).is_some() {
            n += 1;
        }
    }
    Ok(Frame::Integer(n))
}

/// `TOUCH key [key ...]` — refreshes the access time of the keys; how many exist.
fn cmd_touch(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let mut n = 0;
    for key in args.rest() {
        if ctx.get(key).is_some() {
            n += 1;
        }
    }
    Ok(Frame::Integer(n))
}

/// `TYPE key` — `string`, `list`, ... or `none`, as a status reply.
fn cmd_type(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let name = ctx.peek(key).map_or("none", |e| e.value.type_name());
    Ok(Frame::simple(name))
}

// =============================================================================================
// Renaming, moving, copying
// =============================================================================================

/// `RENAME key newkey` — OK; `ERR no such key` if `key` does not exist. The deadline moves
/// with the value; whatever `newkey` held is replaced.
fn cmd_rename(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    rename_generic(ctx, args, false)
}

/// `RENAMENX key newkey` — 1 if renamed, 0 if `newkey` exists; `ERR no such key` if `key`
/// does not exist.
fn cmd_renamenx(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    rename_generic(ctx, args, true)
}

fn rename_generic(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>, nx: bool) -> Result<Frame, OpError> {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    let (db, now) = (ctx.db(), ctx.now);
    if ctx.get(src).is_none() {
        return Err(OpError::NoSuchKey);
    }
    let reply = |done: bool| {
        if nx {
            Frame::Integer(i64::from(done))
        } else {
            Frame::OK
        }
    };
    if src == dst {
        return Ok(reply(false));
    }
    if nx && ctx.ks.exists(db, dst, now) {
        return Ok(reply(false));
    }
    let Some(entry) = ctx.ks.remove(db, src, now) else {
        return Err(OpError::NoSuchKey);
    };
    ctx.insert_entry(db, dst, entry);
    ctx.dirty += 1;
    ctx.notify(GENERIC, "rename_from", src);
    ctx.notify(GENERIC, "rename_to", dst);
    Ok(reply(true))
}

/// A database index argument (MOVE, COPY ... DB): an integer (`ERR value is not an integer or
/// out of range`) in C `int` range (Redis's `getRangeLongFromObjectOrReply` text), then
/// `ERR DB index is out of range` outside `0..databases`.
fn parse_db_index(ctx: &Ctx<'_, '_>, arg: &[u8]) -> Result<usize, OpError> {
    let n = i32::try_from(parse_int(arg)?).map_err(|_| {
        OpError::err("value is out of range, value must between -2147483648 and 2147483647")
    })?;
    usize::try_from(n)
        .ok()
        .filter(|&db| db < ctx.engine.keyspace.databases())
        .ok_or(OpError::DbIndex)
}

/// `MOVE key db` — 1 if moved, 0 if `key` does not exist here or already exists in `db`.
/// The deadline moves with the value.
fn cmd_move(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let dst_db = parse_db_index(ctx, args.next_bytes()?)?;
    let (db, now) = (ctx.db(), ctx.now);
    if dst_db == db {
        return Err(SAME_OBJECT);
    }
    if ctx.get(key).is_none() || ctx.ks.exists(dst_db, key, now) {
        return Ok(Frame::Integer(0));
    }
    let Some(entry) = ctx.ks.remove(db, key, now) else {
        return Ok(Frame::Integer(0));
    };
    ctx.insert_entry(dst_db, key, entry);
    ctx.dirty += 1;
    ctx.notify(GENERIC, "move_from", key);
    ctx.engine.notify(GENERIC, "move_to", dst_db, key);
    Ok(Frame::Integer(1))
}

/// `COPY source destination [DB destination-db] [REPLACE]` — 1 if copied, 0 if `source` does
/// not exist or `destination` exists (without REPLACE). The copy keeps the deadline.
fn cmd_copy(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    let (db, now) = (ctx.db(), ctx.now);
    let mut dst_db = db;
    let mut replace = false;
    while let Some(opt) = args.peek() {
        if args.eat("REPLACE") {
            replace = true;
        } else if opt.eq_ignore_ascii_case(b"DB") && args.remaining() >= 2 {
            args.next_bytes()?;
            dst_db = parse_db_index(ctx, args.next_bytes()?)?;
        } else {
            return Err(OpError::Syntax);
        }
    }
    if dst_db == db && src == dst {
        return Err(SAME_OBJECT);
    }
    // The source is read as Redis reads it (a keyspace hit or miss).
    let Some(entry) = ctx.get_read(src) else {
        return Ok(Frame::Integer(0));
    };
    let mut copy: Entry = entry.clone();
    copy.lru = ctx.ks.keyspace().fresh_lru(now);
    if ctx.ks.exists(dst_db, dst, now) && !replace {
        return Ok(Frame::Integer(0));
    }
    ctx.insert_entry(dst_db, dst, copy);
    ctx.dirty += 1;
    ctx.engine.notify(GENERIC, "copy_to", dst_db, dst);
    Ok(Frame::Integer(1))
}

// =============================================================================================
// Expiry
// =============================================================================================

/// EXPIRE's NX/XX/GT/LT.
#[derive(Default)]
struct ExpireFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

/// Parses the options after the time, with Redis's texts and precedence (option errors come
/// before a bad time).
fn parse_expire_flags(args: &mut Args<'_>) -> Result<ExpireFlags, OpError> {
    let mut f = ExpireFlags::default();
    for opt in args.rest() {
        match opt.to_ascii_uppercase().as_slice() {
            b"NX" => f.nx = true,
            b"XX" => f.xx = true,
            b"GT" => f.gt = true,
            b"LT" => f.lt = true,
            _ => {
                return Err(OpError::msg(format!(
                    "Unsupported option {}",
                    String::from_utf8_lossy(opt)
                )))
            }
        }
    }
    if f.nx && (f.xx || f.gt || f.lt) {
        return Err(OpError::err(
            "NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if f.gt && f.lt {
        return Err(OpError::err(
            "GT and LT options at the same time are not compatible",
        ));
    }
    Ok(f)
}

/// How the time argument is read.
#[derive(Clone, Copy)]
enum TimeArg {
    /// Seconds from now (EXPIRE).
    RelSeconds,
    /// Milliseconds from now (PEXPIRE).
    RelMillis,
    /// Unix time in seconds (EXPIREAT).
    AbsSeconds,
    /// Unix time in milliseconds (PEXPIREAT).
    AbsMillis,
}

/// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT: 1 if the deadline was set (or, being in the past,
/// the key deleted), 0 if the key does not exist or a condition (NX/XX/GT/LT) failed. A key
/// without a deadline counts as an infinite TTL for GT and LT.
fn expire_generic(
    ctx: &mut Ctx<'_, '_>,
    args: &mut Args<'_>,
    name: &str,
    unit: TimeArg,
) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let param = args.next_bytes()?;
    let flags = parse_expire_flags(args)?;
    let when = parse_int(param)?;
    let bad_time = || OpError::msg(format!("invalid expire time in '{name}' command"));
    let when = match unit {
        TimeArg::RelSeconds | TimeArg::AbsSeconds => when.checked_mul(1000).ok_or_else(bad_time)?,
        TimeArg::RelMillis | TimeArg::AbsMillis => when,
    };
    let base = match unit {
        TimeArg::RelSeconds | TimeArg::RelMillis => ctx.now as i64,
        TimeArg::AbsSeconds | TimeArg::AbsMillis => 0,
    };
    // Redis rejects only an overflow past the top; a very negative deadline is just "past".
    if when > i64::MAX - base {
        return Err(bad_time());
    }
    let when = when + base;

    let Some(entry) = ctx.get(key) else {
        return Ok(Frame::Integer(0));
    };
    let current = entry.expire_at().map(|t| t as i64);
    let refused = (flags.nx && current.is_some())
        || (flags.xx && current.is_none())
        || (flags.gt && !matches!(current, Some(c) if when > c))
        || (flags.lt && current.is_some_and(|c| when >= c));
    if refused {
        return Ok(Frame::Integer(0));
    }
    if when <= ctx.now as i64 {
        ctx.remove(key);
        ctx.notify(GENERIC, "del", key);
    } else {
        ctx.set_expire(key, when as u64);
        ctx.notify(GENERIC, "expire", key);
    }
    Ok(Frame::Integer(1))
}

/// `EXPIRE key seconds [NX | XX | GT | LT]`
fn cmd_expire(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    expire_generic(ctx, args, "expire", TimeArg::RelSeconds)
}

/// `PEXPIRE key milliseconds [NX | XX | GT | LT]`
fn cmd_pexpire(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    expire_generic(ctx, args, "pexpire", TimeArg::RelMillis)
}

/// `EXPIREAT key unix-time-seconds [NX | XX | GT | LT]`
fn cmd_expireat(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    expire_generic(ctx, args, "expireat", TimeArg::AbsSeconds)
}

/// `PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT]`
fn cmd_pexpireat(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    expire_generic(ctx, args, "pexpireat", TimeArg::AbsMillis)
}

/// TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 if the key does not exist, -1 if it has no
/// deadline, else the remaining time (`absolute`: the deadline itself) in ms, or in seconds
/// rounded to nearest as Redis does. Not an access (no LRU refresh).
fn ttl_generic(
    ctx: &mut Ctx<'_, '_>,
    args: &mut Args<'_>,
    millis: bool,
    absolute: bool,
) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let now = ctx.now;
    let Some(entry) = ctx.peek(key) else {
        return Ok(Frame::Integer(-2));
    };
    let Some(at) = entry.expire_at() else {
        return Ok(Frame::Integer(-1));
    };
    let ms = if absolute { at } else { at.saturating_sub(now) } as i64;
    Ok(Frame::Integer(if millis { ms } else { (ms + 500) / 1000 }))
}

/// `TTL key`
fn cmd_ttl(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    ttl_generic(ctx, args, false, false)
}

/// `PTTL key`
fn cmd_pttl(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    ttl_generic(ctx, args, true, false)
}

/// `EXPIRETIME key`
fn cmd_expiretime(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    ttl_generic(ctx, args, false, true)
}

/// `PEXPIRETIME key`
fn cmd_pexpiretime(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    ttl_generic(ctx, args, true, true)
}

/// `PERSIST key` — 1 if a deadline was removed, 0 if the key has none or does not exist.
fn cmd_persist(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    if ctx.get(key).is_none() {
        return Ok(Frame::Integer(0));
    }
    let done = ctx.persist(key);
    if done {
        ctx.notify(GENERIC, "persist", key);
    }
    Ok(Frame::Integer(i64::from(done)))
}

// =============================================================================================
// Whole keyspace: KEYS, SCAN, RANDOMKEY, FLUSHDB, FLUSHALL, SWAPDB
// =============================================================================================

/// `KEYS pattern` — every live key of the selected database matching the glob pattern.
fn cmd_keys(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let pattern = args.next_bytes()?;
    let all = pattern == b"*";
    let (db, now) = (ctx.db(), ctx.now);
    let mut out = Vec::new();
    ctx.ks.for_each_live(db, now, |k, _| {
        if all || glob_match(pattern, k, false) {
            out.push(Frame::Bulk(k.to_vec()));
        }
    });
    Ok(Frame::Array(out))
}

/// A SCAN cursor as C's `strtoull` reads it (Redis's parser): an optional sign, then digits
/// only; a negative value wraps. Anything else, or overflow: `ERR invalid cursor`.
pub(crate) fn parse_cursor(arg: &[u8]) -> Result<u64, OpError> {
    let invalid = || OpError::err("invalid cursor");
    let (neg, digits) = match arg.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, arg),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(invalid());
    }
    let mut n: u64 = 0;
    for &d in digits {
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(d - b'0')))
            .ok_or_else(invalid)?;
    }
    Ok(if neg { n.wrapping_neg() } else { n })
}

/// `SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]` — `[next cursor, [keys...]]`.
///
/// Guarantees, as Redis: a full iteration (from 0 until 0 comes back) returns every key that
/// was present for the whole iteration, possibly some more than once; COUNT is a hint for the
/// work per call. MATCH and TYPE filter after the keys are gathered, so a call may return
/// none while the iteration continues. Expired keys met on the way are deleted.
fn cmd_scan(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let mut cursor = parse_cursor(args.next_bytes()?)?;
    let mut count = SCAN_DEFAULT_COUNT;
    let mut pattern: Option<&[u8]> = None;
    let mut type_name: Option<&[u8]> = None;
    while let Some(opt) = args.peek() {
        if args.remaining() < 2 {
            return Err(OpError::Syntax);
        }
        args.next_bytes()?;
        if opt.eq_ignore_ascii_case(b"COUNT") {
            count = args.next_i64()?;
            if count < 1 {
                return Err(OpError::Syntax);
            }
        } else if opt.eq_ignore_ascii_case(b"MATCH") {
            pattern = Some(args.next_bytes()?).filter(|p| *p != b"*");
        } else if opt.eq_ignore_ascii_case(b"TYPE") {
            type_name = Some(args.next_bytes()?);
        } else {
            return Err(OpError::Syntax);
        }
    }

    let (db, now) = (ctx.db(), ctx.now);
    let want = usize::try_from(count).unwrap_or(usize::MAX);
    let max_steps = count.saturating_mul(SCAN_STEPS_PER_KEY);
    let mut keys: Vec<Frame> = Vec::new();
    let mut expired: Vec<Vec<u8>> = Vec::new();
    let mut steps = 0;
    loop {
        cursor = ctx.ks.scan_step(db, cursor, |k, e| {
            if pattern.is_some_and(|p| !glob_match(p, k, false)) {
                return;
            }
            if e.is_expired(now) {
                expired.push(k.to_vec());
                return;
            }
            if type_name.is_some_and(|t| !t.eq_ignore_ascii_case(e.value.type_name().as_bytes())) {
                return;
            }
            keys.push(Frame::Bulk(k.to_vec()));
        });
        steps += 1;
        if cursor == 0 || keys.len() >= want || steps >= max_steps {
            break;
        }
    }
    for k in expired {
        ctx.ks.remove(db, &k, now);
    }
    Ok(Frame::Array(vec![
        Frame::Bulk(cursor.to_string().into_bytes()),
        Frame::Array(keys),
    ]))
}

/// `RANDOMKEY` — a random live key of the selected database, or null when it is empty.
fn cmd_randomkey(ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    use rand::Rng;
    let (db, now) = (ctx.db(), ctx.now);
    let mut rng = rand::thread_rng();
    Ok(match ctx.ks.random_key(db, now, || rng.gen()) {
        Some(k) => Frame::Bulk(k),
        None => Frame::Null,
    })
}

/// FLUSHDB / FLUSHALL's optional `ASYNC | SYNC`: whether to free on another thread.
fn parse_flush_mode(args: &mut Args<'_>) -> Result<bool, OpError> {
    let lazy = if args.eat("ASYNC") {
        true
    } else {
        args.eat("SYNC");
        false
    };
    args.finish()?;
    Ok(lazy)
}

/// Empties one database (`Some`) or all, freeing on a background thread when `lazy`.
fn flush_generic(ctx: &mut Ctx<'_, '_>, db: Option<usize>, lazy: bool) {
    crate::watch::before_flush(ctx, db);
    let (removed, tables) = ctx.ks.flush(db);
    ctx.dirty += removed as u64;
    if lazy && !tables.is_empty() {
        // If the thread cannot start, the closure (and the tables) drop here: still correct.
        let _ = std::thread::Builder::new()
            .name("fastkv-lazyfree".into())
            .spawn(move || drop(tables));
    } else {
        drop(tables);
    }
}

/// `FLUSHDB [ASYNC | SYNC]` — OK.
fn cmd_flushdb(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let lazy = parse_flush_mode(args)?;
    let db = ctx.db();
    flush_generic(ctx, Some(db), lazy);
    Ok(Frame::OK)
}

/// `FLUSHALL [ASYNC | SYNC]` — OK.
fn cmd_flushall(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let lazy = parse_flush_mode(args)?;
    flush_generic(ctx, None, lazy);
    // Redis counts the FLUSHALL itself as a change even on an empty keyspace.
    ctx.dirty += 1;
    Ok(Frame::OK)
}

/// `SWAPDB index1 index2` — OK. Clients keep their selected index, so they see the other data.
fn cmd_swapdb(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let index = |arg: &[u8], what: &'static str| {
        parse_int(arg)
            .ok()
            .and_then(|n| i32::try_from(n).ok())
            .ok_or(OpError::err(what))
    };
    let a = index(args.next_bytes()?, "invalid first DB index")?;
    let b = index(args.next_bytes()?, "invalid second DB index")?;
    let n = ctx.engine.keyspace.databases();
    let (Some(a), Some(b)) = (
        usize::try_from(a).ok().filter(|&i| i < n),
        usize::try_from(b).ok().filter(|&i| i < n),
    ) else {
        return Err(OpError::DbIndex);
    };
    if a != b {
        crate::watch::before_swap(ctx, a, b);
        ctx.ks.swap_db(a, b);
    }
    ctx.dirty += 1;
    Ok(Frame::OK)
}

// =============================================================================================
// OBJECT
// =============================================================================================

/// Whether an LFU `maxmemory-policy` is selected (`Entry::lru` then holds LFU data).
fn lfu_policy(ctx: &Ctx<'_, '_>) -> bool {
    ctx.engine.evict.policy().lfu()
}

/// Redis's text for OBJECT IDLETIME under an LFU policy.
const LFU_SELECTED: &str =
    "An LFU maxmemory policy is selected, idle time not tracked. Please note \
     that when switching between policies at runtime LRU and LFU data will take some time to \
     adjust.";

/// `OBJECT ENCODING key` — the value's internal representation, or null.
fn cmd_object_encoding(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    Ok(match ctx.peek_quiet(key) {
        Some(e) => Frame::bulk(e.value.encoding_name()),
        None => Frame::Null,
    })
}

/// `OBJECT FREQ key` — the LFU counter, or null; an error unless an LFU policy is selected.
fn cmd_object_freq(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let Some(lru) = ctx.peek_quiet(key).map(|e| e.lru) else {
        return Ok(Frame::Null);
    };
    if !lfu_policy(ctx) {
        return Err(OpError::err(
            "An LFU maxmemory policy is not selected, access frequency not tracked. Please note \
             that when switching between policies at runtime LRU and LFU data will take some \
             time to adjust.",
        ));
    }
    Ok(Frame::Integer(i64::from(
        ctx.engine.evict.lfu_counter(lru, ctx.now),
    )))
}

/// `OBJECT IDLETIME key` — seconds since the key was last accessed, or null; an error under
/// an LFU policy (the metadata then holds the access counter).
fn cmd_object_idletime(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let Some(lru) = ctx.peek_quiet(key).map(|e| e.lru) else {
        return Ok(Frame::Null);
    };
    if lfu_policy(ctx) {
        return Err(OpError::err(LFU_SELECTED));
    }
    let idle = crate::time::lru_idle_secs(lru, ctx.now);
    Ok(Frame::Integer(i64::try_from(idle).unwrap_or(i64::MAX)))
}

/// `OBJECT REFCOUNT key` — 1, or INT_MAX for the small integers Redis shares; null if the key
/// does not exist.
fn cmd_object_refcount(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let Some(e) = ctx.peek_quiet(key) else {
        return Ok(Frame::Null);
    };
    let shared = matches!(e.value, Value::Str(Str::Int(n)) if (0..SHARED_INTEGERS).contains(&n));
    Ok(Frame::Integer(if shared { SHARED_REFCOUNT } else { 1 }))
}

/// `OBJECT HELP`
fn cmd_object_help(_ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    const LINES: &[&str] = &[
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Prints this help.",
    ];
    Ok(Frame::Array(
        LINES.iter().map(|l| Frame::simple(l)).collect(),
    ))
}

/// The container's handler never runs: OBJECT's arity requires a subcommand.
fn cmd_object(_ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    Err(OpError::Arity("object".into()))
}

// =============================================================================================
// DUMP / RESTORE
// =============================================================================================

/// `DUMP key` — the value serialized in Redis's format (RDB version 10, CRC-64 trailer), or
/// null. Payloads restore in Redis 7.0 and vice versa.
fn cmd_dump(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    Ok(match ctx.get(key) {
        Some(e) => Frame::Bulk(dump::dump(&e.value)),
        None => Frame::Null,
    })
}

/// `RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]`
///
/// `ttl` is milliseconds from now (a Unix time in ms with ABSTTL), 0 for none; a deadline
/// already past restores nothing (after REPLACE deleted the old value) and still replies OK.
/// Checks in Redis's order: options, `BUSYKEY` (without REPLACE), the TTL, the trailer, the
/// body.
fn cmd_restore(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let ttl_arg = args.next_bytes()?;
    let payload = args.next_bytes()?;
    let (mut replace, mut absttl) = (false, false);
    let mut idle: Option<i64> = None;
    let mut freq: Option<i64> = None;
    while let Some(opt) = args.peek() {
        let has_value = args.remaining() >= 2;
        if args.eat("REPLACE") {
            replace = true;
        } else if args.eat("ABSTTL") {
            absttl = true;
        } else if opt.eq_ignore_ascii_case(b"IDLETIME") && has_value && freq.is_none() {
            args.next_bytes()?;
            let v = args.next_i64()?;
            if v < 0 {
                return Err(OpError::err("Invalid IDLETIME value, must be >= 0"));
            }
            idle = Some(v);
        } else if opt.eq_ignore_ascii_case(b"FREQ") && has_value && idle.is_none() {
            args.next_bytes()?;
            let v = args.next_i64()?;
            if !(0..=255).contains(&v) {
                return Err(OpError::err("Invalid FREQ value, must be >= 0 and <= 255"));
            }
            freq = Some(v);
        } else {
            return Err(OpError::Syntax);
        }
    }

    let (db, now) = (ctx.db(), ctx.now);
    if !replace && ctx.ks.exists(db, key, now) {
        return Err(OpError::raw("BUSYKEY Target key name already exists."));
    }
    let ttl = parse_int(ttl_arg)?;
    if ttl < 0 {
        return Err(OpError::err("Invalid TTL value, must be >= 0"));
    }
    let mut value = dump::restore(payload).map_err(|e| match e {
        PayloadError::VersionOrChecksum => {
            OpError::err("DUMP payload version or checksum are wrong")
        }
        PayloadError::BadData(_) => OpError::err("Bad data format"),
    })?;
    // Redis converts encodings on load by the current limits (hash/set/zset thresholds).
    value.fit_loaded_encoding(&ctx.engine.config.read());

    let replaced = replace && ctx.remove(key).is_some();
    // A relative TTL that overflows wraps negative, i.e. into the past, as in Redis 7.0: the
    // key is not created (differential tests compare exactly this).
    let deadline = match (ttl, absttl) {
        (0, _) => 0,
        (t, true) => t,
        (t, false) => t.wrapping_add(now as i64),
    };
    if deadline != 0 && deadline <= now as i64 {
        if replaced {
            ctx.notify(GENERIC, "del", key);
        }
        return Ok(Frame::OK);
    }
    let mut entry = Entry::with_expire(value, deadline as u64);
    // As Redis's `objectSetLRUOrLFU`: FREQ sets the counter under LFU, IDLETIME the access
    // clock under the other policies; the other option is ignored. Without either, a fresh
    // key's metadata.
    entry.lru = ctx.ks.keyspace().fresh_lru(now);
    if lfu_policy(ctx) {
        if let Some(freq) = freq.and_then(|f| u32::try_from(f).ok()) {
            entry.lru = (crate::evict::lfu_fresh(now) & !0xFF) | freq.min(255);
        }
    } else if let Some(idle) = idle {
        entry.lru = crate::time::lru_from_idle_secs(u64::try_from(idle).unwrap_or(0), now);
    }
    ctx.insert_entry(db, key, entry);
    ctx.dirty += 1;
    ctx.notify(GENERIC, "restore", key);
    Ok(Frame::OK)
}

// =============================================================================================
// The table
// =============================================================================================

const OBJECT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "object|encoding",
        3,
        READONLY,
        keys(2, 2, 1),
        cmd_object_encoding,
    )
    .doc(
        "generic",
        "2.2.3",
        "Inspect the internal encoding of a Redis object",
    ),
    CommandSpec::new("object|freq", 3, READONLY, keys(2, 2, 1), cmd_object_freq).doc(
        "generic",
        "4.0.0",
        "Get the logarithmic access frequency counter of a Redis object",
    ),
    CommandSpec::new("object|help", 2, LOADING | STALE, NO_KEYS, cmd_object_help).doc(
        "generic",
        "6.2.0",
        "Show helpful text about the different subcommands",
    ),
    CommandSpec::new(
        "object|idletime",
        3,
        READONLY,
        keys(2, 2, 1),
        cmd_object_idletime,
    )
    .doc(
        "generic",
        "2.2.3",
        "Get the time since a Redis object was last accessed",
    ),
    CommandSpec::new(
        "object|refcount",
        3,
        READONLY,
        keys(2, 2, 1),
        cmd_object_refcount,
    )
    .doc(
        "generic",
        "2.2.3",
        "Get the number of references to the value of the key",
    ),
];

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("del", -2, WRITE, ALL_ARGS, cmd_del).doc("generic", "1.0.0", "Delete a key"),
    CommandSpec::new("unlink", -2, WRITE | FAST, ALL_ARGS, cmd_unlink).doc(
        "generic",
        "4.0.0",
        "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non \
         blocking.",
    ),
    CommandSpec::new("exists", -2, READONLY | FAST, ALL_ARGS, cmd_exists).doc(
        "generic",
        "1.0.0",
        "Determine if a key exists",
    ),
    CommandSpec::new("touch", -2, READONLY | FAST, ALL_ARGS, cmd_touch).doc(
        "generic",
        "3.2.1",
        "Alters the last access time of a key(s). Returns the number of existing keys specified.",
    ),
    CommandSpec::new("type", 2, READONLY | FAST, KEY1, cmd_type).doc(
        "generic",
        "1.0.0",
        "Determine the type stored at key",
    ),
    CommandSpec::new("rename", 3, WRITE, keys(1, 2, 1), cmd_rename).doc(
        "generic",
        "1.0.0",
        "Rename a key",
    ),
    CommandSpec::new("renamenx", 3, WRITE | FAST, keys(1, 2, 1), cmd_renamenx).doc(
        "generic",
        "1.0.0",
        "Rename a key, only if the new key does not exist",
    ),
    CommandSpec::new("move", 3, WRITE | FAST, KEY1, cmd_move).doc(
        "generic",
        "1.0.0",
        "Move a key to another database",
    ),
    CommandSpec::new("copy", -3, WRITE | DENYOOM, keys(1, 2, 1), cmd_copy).doc(
        "generic",
        "6.2.0",
        "Copy a key",
    ),
    CommandSpec::new("expire", -3, WRITE | FAST, KEY1, cmd_expire).doc(
        "generic",
        "1.0.0",
        "Set a key's time to live in seconds",
    ),
    CommandSpec::new("pexpire", -3, WRITE | FAST, KEY1, cmd_pexpire).doc(
        "generic",
        "2.6.0",
        "Set a key's time to live in milliseconds",
    ),
    CommandSpec::new("expireat", -3, WRITE | FAST, KEY1, cmd_expireat).doc(
        "generic",
        "1.2.0",
        "Set the expiration for a key as a UNIX timestamp",
    ),
    CommandSpec::new("pexpireat", -3, WRITE | FAST, KEY1, cmd_pexpireat).doc(
        "generic",
        "2.6.0",
        "Set the expiration for a key as a UNIX timestamp specified in milliseconds",
    ),
    CommandSpec::new("ttl", 2, READONLY | FAST | NONDETERMINISTIC, KEY1, cmd_ttl).doc(
        "generic",
        "1.0.0",
        "Get the time to live for a key in seconds",
    ),
    CommandSpec::new(
        "pttl",
        2,
        READONLY | FAST | NONDETERMINISTIC,
        KEY1,
        cmd_pttl,
    )
    .doc(
        "generic",
        "2.6.0",
        "Get the time to live for a key in milliseconds",
    ),
    CommandSpec::new("expiretime", 2, READONLY | FAST, KEY1, cmd_expiretime).doc(
        "generic",
        "7.0.0",
        "Get the expiration Unix timestamp for a key",
    ),
    CommandSpec::new("pexpiretime", 2, READONLY | FAST, KEY1, cmd_pexpiretime).doc(
        "generic",
        "7.0.0",
        "Get the expiration Unix timestamp for a key in milliseconds",
    ),
    CommandSpec::new("persist", 2, WRITE | FAST, KEY1, cmd_persist).doc(
        "generic",
        "2.2.0",
        "Remove the expiration from a key",
    ),
    CommandSpec::new("keys", 2, READONLY | ALL_KEYS | TO_SORT, NO_KEYS, cmd_keys)
        .acl(ACL_DANGEROUS)
        .doc(
            "generic",
            "1.0.0",
            "Find all keys matching the given pattern",
        ),
    CommandSpec::new(
        "scan",
        -2,
        READONLY | ALL_KEYS | NONDETERMINISTIC,
        NO_KEYS,
        cmd_scan,
    )
    .doc("generic", "2.8.0", "Incrementally iterate the keys space"),
    CommandSpec::new(
        "randomkey",
        1,
        READONLY | ALL_KEYS | NONDETERMINISTIC,
        NO_KEYS,
        cmd_randomkey,
    )
    .doc("generic", "1.0.0", "Return a random key from the keyspace"),
    CommandSpec::new("flushdb", -1, WRITE | ALL_KEYS, NO_KEYS, cmd_flushdb)
        .acl(ACL_KEYSPACE | ACL_DANGEROUS)
        .doc(
            "server",
            "1.0.0",
            "Remove all keys from the current database",
        ),
    CommandSpec::new("flushall", -1, WRITE | ALL_KEYS, NO_KEYS, cmd_flushall)
        .acl(ACL_KEYSPACE | ACL_DANGEROUS)
        .doc("server", "1.0.0", "Remove all keys from all databases"),
    CommandSpec::new("swapdb", 3, WRITE | FAST | ALL_KEYS, NO_KEYS, cmd_swapdb)
        .acl(ACL_KEYSPACE | ACL_DANGEROUS)
        .doc("server", "4.0.0", "Swaps two Redis databases"),
    CommandSpec::new("object", -2, 0, NO_KEYS, cmd_object)
        .subcommands(OBJECT_SUBCOMMANDS)
        .doc(
            "generic",
            "2.2.3",
            "A container for object introspection commands",
        ),
    CommandSpec::new("dump", 2, READONLY | NONDETERMINISTIC, KEY1, cmd_dump).doc(
        "generic",
        "2.6.0",
        "Return a serialized version of the value stored at the specified key.",
    ),
    CommandSpec::new("restore", -4, WRITE | DENYOOM, KEY1, cmd_restore)
        .acl(ACL_DANGEROUS)
        .doc(
            "generic",
            "2.6.0",
            "Create a key using the provided serialized value, previously obtained using DUMP.",
        ),
];

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use fastkv_resp::Frame;
    use std::collections::HashSet;
    use std::sync::atomic::Ordering;

    fn arr(items: &[&str]) -> Frame {
        Frame::Array(items.iter().map(|s| bulk(s)).collect())
    }

    fn ok() -> Frame {
        Frame::OK
    }

    /// Runs a command whose arguments are bytes (DUMP payloads).
    fn run_bytes(s: &mut Session, argv: &[&[u8]]) -> Frame {
        s.engine.execute(&mut s.client, argv)
    }

    fn check_counters(s: &Session) {
        if let Err(e) = s.engine.keyspace.check_counters() {
            panic!("{e}");
        }
    }

    fn as_int(f: &Frame) -> i64 {
        match f {
            Frame::Integer(n) => *n,
            other => panic!("not an integer: {other:?}"),
        }
    }

    fn sorted_keys(f: Frame) -> Vec<Vec<u8>> {
        let Frame::Array(items) = f else {
            panic!("not an array: {f:?}")
        };
        let mut out: Vec<Vec<u8>> = items
            .into_iter()
            .map(|i| match i {
                Frame::Bulk(b) => b,
                other => panic!("not a bulk: {other:?}"),
            })
            .collect();
        out.sort();
        out
    }

    /// One SCAN call: (next cursor, keys).
    fn scan(s: &mut Session, argv: &[&str]) -> (String, Vec<Vec<u8>>) {
        match s.run(argv) {
            Frame::Array(mut parts) if parts.len() == 2 => {
                let keys = sorted_keys(parts.pop().unwrap_or(Frame::Null));
                let Some(Frame::Bulk(c)) = parts.pop() else {
                    panic!("bad cursor")
                };
                (String::from_utf8_lossy(&c).into_owned(), keys)
            }
            other => panic!("bad SCAN reply {other:?}"),
        }
    }

    #[test]
    fn del_unlink_exists_touch_type() {
        let mut s = Session::new();
        s.run(&["SET", "a", "1"]);
        s.run(&["SET", "b", "2"]);
        assert_eq!(s.run(&["EXISTS", "a", "a", "b", "nope"]), int(3));
        assert_eq!(s.run(&["TOUCH", "a", "nope", "b"]), int(2));
        assert_eq!(s.run(&["TYPE", "a"]), Frame::simple("string"));
        assert_eq!(s.run(&["TYPE", "nope"]), Frame::simple("none"));
        assert_eq!(s.run(&["DEL", "a", "a", "nope"]), int(1));
        assert_eq!(s.run(&["UNLINK", "b", "nope"]), int(1));
        assert_eq!(s.run(&["EXISTS", "a", "b"]), int(0));
        assert_eq!(
            s.run(&["EXISTS"]),
            err("ERR wrong number of arguments for 'exists' command")
        );
        check_counters(&s);
    }

    #[test]
    fn rename_and_renamenx() {
        let mut s = Session::new();
        assert_eq!(s.run(&["RENAME", "no", "x"]), err("ERR no such key"));
        assert_eq!(s.run(&["RENAMENX", "no", "x"]), err("ERR no such key"));
        s.run(&["SET", "a", "1"]);
        s.run(&["PEXPIRE", "a", "100000"]);
        assert_eq!(s.run(&["RENAME", "a", "a"]), ok());
        assert_eq!(s.run(&["RENAMENX", "a", "a"]), int(0));
        // The deadline moves with the value and replaces the target's.
        s.run(&["SET", "b", "2"]);
        s.run(&["EXPIRE", "b", "5000"]);
        assert_eq!(s.run(&["RENAME", "a", "b"]), ok());
        assert_eq!(s.run(&["GET", "b"]), bulk("1"));
        assert!((1..=100).contains(&as_int(&s.run(&["TTL", "b"]))));
        assert_eq!(s.run(&["EXISTS", "a"]), int(0));
        s.run(&["SET", "c", "3"]);
        assert_eq!(s.run(&["RENAMENX", "b", "c"]), int(0));
        assert_eq!(s.run(&["RENAMENX", "b", "d"]), int(1));
        assert_eq!(s.run(&["GET", "d"]), bulk("1"));
        assert_eq!(s.run(&["RENAME", "c", "d"]), ok());
        assert_eq!(s.run(&["TTL", "d"]), int(-1));
        check_counters(&s);
    }

    #[test]
    fn move_between_databases() {
        let mut s = Session::new();
        s.run(&["SET", "k", "v"]);
        s.run(&["EXPIRE", "k", "100"]);
        assert_eq!(
            s.run(&["MOVE", "k", "0"]),
            err("ERR source and destination objects are the same")
        );
        assert_eq!(
            s.run(&["MOVE", "k", "x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            s.run(&["MOVE", "k", "99999999999"]),
            err("ERR value is out of range, value must between -2147483648 and 2147483647")
        );
        assert_eq!(
            s.run(&["MOVE", "k", "16"]),
            err("ERR DB index is out of range")
        );
        assert_eq!(
            s.run(&["MOVE", "k", "-1"]),
            err("ERR DB index is out of range")
        );
        assert_eq!(s.run(&["MOVE", "nope", "1"]), int(0));
        assert_eq!(s.run(&["MOVE", "k", "1"]), int(1));
        assert_eq!(s.run(&["EXISTS", "k"]), int(0));
        s.run(&["SET", "k", "other"]);
        s.run(&["SELECT", "1"]);
        assert_eq!(s.run(&["GET", "k"]), bulk("v"));
        assert!(as_int(&s.run(&["TTL", "k"])) > 90);
        // The target exists: nothing moves.
        assert_eq!(s.run(&["MOVE", "k", "0"]), int(0));
        assert_eq!(s.run(&["GET", "k"]), bulk("v"));
        check_counters(&s);
    }

    #[test]
    fn copy_with_db_and_replace() {
        let mut s = Session::new();
        assert_eq!(s.run(&["COPY", "nope", "x"]), int(0));
        s.run(&["SET", "k", "v"]);
        s.run(&["PEXPIRE", "k", "100000"]);
        assert_eq!(
            s.run(&["COPY", "k", "k"]),
            err("ERR source and destination objects are the same")
        );
        assert_eq!(s.run(&["COPY", "k", "k2", "foo"]), err("ERR syntax error"));
        assert_eq!(s.run(&["COPY", "k", "k2", "DB"]), err("ERR syntax error"));
        assert_eq!(
            s.run(&["COPY", "k", "k2", "DB", "x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            s.run(&["COPY", "k", "k2", "DB", "16"]),
            err("ERR DB index is out of range")
        );
        assert_eq!(s.run(&["COPY", "k", "k2"]), int(1));
        assert_eq!(s.run(&["GET", "k2"]), bulk("v"));
        assert!(as_int(&s.run(&["PTTL", "k2"])) > 90_000);
        assert_eq!(s.run(&["COPY", "k", "k2"]), int(0));
        s.run(&["SET", "k3", "old"]);
        assert_eq!(s.run(&["COPY", "k", "k3", "replace"]), int(1));
        assert_eq!(s.run(&["GET", "k3"]), bulk("v"));
        assert_eq!(s.run(&["COPY", "k", "k", "DB", "3"]), int(1));
        assert_eq!(s.run(&["COPY", "k", "k", "db", "3"]), int(0));
        assert_eq!(s.run(&["COPY", "k", "k", "REPLACE", "DB", "3"]), int(1));
        s.run(&["SELECT", "3"]);
        assert_eq!(s.run(&["GET", "k"]), bulk("v"));
        assert!(as_int(&s.run(&["TTL", "k"])) > 90);
        check_counters(&s);
    }

    #[test]
    fn expire_options_and_errors() {
        let mut s = Session::new();
        assert_eq!(s.run(&["EXPIRE", "nope", "10"]), int(0));
        s.run(&["SET", "k", "v"]);
        assert_eq!(
            s.run(&["EXPIRE", "k", "10", "NX", "XX"]),
            err("ERR NX and XX, GT or LT options at the same time are not compatible")
        );
        assert_eq!(
            s.run(&["EXPIRE", "k", "10", "nx", "gt"]),
            err("ERR NX and XX, GT or LT options at the same time are not compatible")
        );
        assert_eq!(
            s.run(&["EXPIRE", "k", "10", "GT", "LT"]),
            err("ERR GT and LT options at the same time are not compatible")
        );
        assert_eq!(
            s.run(&["EXPIRE", "k", "10", "foo"]),
            err("ERR Unsupported option foo")
        );
        // Options are checked before the time.
        assert_eq!(
            s.run(&["EXPIRE", "k", "abc", "foo"]),
            err("ERR Unsupported option foo")
        );
        assert_eq!(
            s.run(&["EXPIRE", "k", "abc"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            s.run(&["EXPIRE", "k", "9223372036854775807"]),
            err("ERR invalid expire time in 'expire' command")
        );
        assert_eq!(
            s.run(&["EXPIRE", "k", "-9223372036854775808"]),
            err("ERR invalid expire time in 'expire' command")
        );
        assert_eq!(
            s.run(&["PEXPIRE", "k", "9223372036854775807"]),
            err("ERR invalid expire time in 'pexpire' command")
        );
        assert_eq!(
            s.run(&["EXPIREAT", "k", "9223372036854776"]),
            err("ERR invalid expire time in 'expireat' command")
        );
        assert_eq!(s.run(&["TTL", "k"]), int(-1));

        // No deadline: XX and GT refuse, LT and NX accept.
        assert_eq!(s.run(&["EXPIRE", "k", "100", "XX"]), int(0));
        assert_eq!(s.run(&["EXPIRE", "k", "100", "GT"]), int(0));
        assert_eq!(s.run(&["EXPIRE", "k", "100", "LT"]), int(1));
        assert_eq!(s.run(&["PERSIST", "k"]), int(1));
        assert_eq!(s.run(&["EXPIRE", "k", "100", "NX"]), int(1));
        assert_eq!(s.run(&["EXPIRE", "k", "200", "NX"]), int(0));
        assert_eq!(s.run(&["EXPIRE", "k", "200", "XX"]), int(1));
        assert_eq!(s.run(&["EXPIRE", "k", "100", "GT"]), int(0));
        assert_eq!(s.run(&["EXPIRE", "k", "300", "GT"]), int(1));
        assert_eq!(s.run(&["EXPIRE", "k", "300", "LT"]), int(0));
        assert_eq!(s.run(&["EXPIRE", "k", "50", "lt"]), int(1));
        assert_eq!(s.run(&["TTL", "k"]), int(50));
        let pttl = as_int(&s.run(&["PTTL", "k"]));
        assert!((49_000..=50_000).contains(&pttl), "{pttl}");

        // Absolute forms and the *TIME readers.
        assert_eq!(s.run(&["PEXPIREAT", "k", "4102444800123"]), int(1));
        assert_eq!(s.run(&["PEXPIRETIME", "k"]), int(4_102_444_800_123));
        assert_eq!(s.run(&["EXPIRETIME", "k"]), int(4_102_444_800));
        assert_eq!(s.run(&["EXPIREAT", "k", "4102444801"]), int(1));
        assert_eq!(s.run(&["EXPIRETIME", "k"]), int(4_102_444_801));
        assert_eq!(s.run(&["EXPIRETIME", "nope"]), int(-2));
        assert_eq!(s.run(&["PEXPIRETIME", "nope"]), int(-2));
        assert_eq!(s.run(&["PTTL", "nope"]), int(-2));
        assert_eq!(s.run(&["PERSIST", "k"]), int(1));
        assert_eq!(s.run(&["PERSIST", "k"]), int(0));
        assert_eq!(s.run(&["PERSIST", "nope"]), int(0));
        assert_eq!(s.run(&["PEXPIRETIME", "k"]), int(-1));
        check_counters(&s);

        // A deadline in the past deletes the key and still answers 1.
        assert_eq!(s.run(&["EXPIRE", "k", "-1"]), int(1));
        assert_eq!(s.run(&["EXISTS", "k"]), int(0));
        s.run(&["SET", "k", "v"]);
        assert_eq!(s.run(&["EXPIREAT", "k", "1"]), int(1));
        assert_eq!(s.run(&["EXISTS", "k"]), int(0));
        s.run(&["SET", "k", "v"]);
        assert_eq!(s.run(&["PEXPIRE", "k", "0", "LT"]), int(1));
        assert_eq!(s.run(&["EXISTS", "k"]), int(0));
        check_counters(&s);
    }

    #[test]
    fn lazy_expiry() {
        let mut s = Session::new();
        s.engine
            .active_expire
            .store(false, std::sync::atomic::Ordering::Relaxed);
        for k in ["a", "b", "c", "d", "e"] {
            s.run(&["SET", k, "v"]);
            s.run(&["PEXPIRE", k, "20"]);
        }
        s.run(&["SET", "keep", "v"]);
        check_counters(&s);
        std::thread::sleep(std::time::Duration::from_millis(40));
        assert_eq!(s.run(&["GET", "a"]), Frame::Null);
        assert_eq!(s.run(&["EXISTS", "b"]), int(0));
        assert_eq!(s.run(&["TTL", "c"]), int(-2));
        assert_eq!(s.run(&["TYPE", "d"]), Frame::simple("none"));
        assert_eq!(s.run(&["KEYS", "*"]), arr(&["keep"]));
        assert_eq!(s.run(&["RANDOMKEY"]), bulk("keep"));
        // As in Redis, DBSIZE still counts an expired key nothing has touched ("e": KEYS
        // skips it without deleting); RANDOMKEY deleted the ones it drew.
        assert!(as_int(&s.run(&["DBSIZE"])) <= 2);
        assert_eq!(s.run(&["GET", "e"]), Frame::Null);
        assert_eq!(s.run(&["DBSIZE"]), int(1));
        check_counters(&s);
    }

    #[test]
    fn keys_and_randomkey() {
        let mut s = Session::new();
        assert_eq!(s.run(&["RANDOMKEY"]), Frame::Null);
        assert_eq!(s.run(&["KEYS", "*"]), arr(&[]));
        for k in ["one", "two", "three", "four"] {
            s.run(&["SET", k, "1"]);
        }
        assert_eq!(
            sorted_keys(s.run(&["KEYS", "*o*"])),
            vec![b"four".to_vec(), b"one".to_vec(), b"two".to_vec()]
        );
        assert_eq!(s.run(&["KEYS", "t??"]), arr(&["two"]));
        let Frame::Bulk(k) = s.run(&["RANDOMKEY"]) else {
            panic!("RANDOMKEY")
        };
        assert!([&b"one"[..], b"two", b"three", b"four"].contains(&&k[..]));
        s.run(&["SELECT", "5"]);
        assert_eq!(s.run(&["RANDOMKEY"]), Frame::Null);
    }

    #[test]
    fn scan_options_and_errors() {
        let mut s = Session::new();
        assert_eq!(s.run(&["SCAN", "x"]), err("ERR invalid cursor"));
        assert_eq!(s.run(&["SCAN", " 0"]), err("ERR invalid cursor"));
        assert_eq!(
            s.run(&["SCAN", "99999999999999999999"]),
            err("ERR invalid cursor")
        );
        assert_eq!(s.run(&["SCAN", "0", "COUNT", "0"]), err("ERR syntax error"));
        assert_eq!(
            s.run(&["SCAN", "0", "COUNT", "x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(s.run(&["SCAN", "0", "foo", "bar"]), err("ERR syntax error"));
        assert_eq!(s.run(&["SCAN", "0", "MATCH"]), err("ERR syntax error"));
        assert_eq!(s.run(&["SCAN", "x", "foo"]), err("ERR invalid cursor"));
        assert_eq!(scan(&mut s, &["SCAN", "0"]), ("0".to_string(), vec![]));
        assert_eq!(scan(&mut s, &["SCAN", "+0"]), ("0".to_string(), vec![]));
        for i in 0..50 {
            s.run(&["SET", &format!("key:{i}"), "v"]);
            s.run(&["SET", &format!("other:{i}"), "v"]);
        }
        let full = |s: &mut Session, extra: &[&str]| {
            let mut seen = HashSet::new();
            let mut cursor = "0".to_string();
            loop {
                let mut argv = vec!["SCAN", cursor.as_str()];
                argv.extend_from_slice(extra);
                let (next, keys) = scan(s, &argv);
                seen.extend(keys);
                cursor = next;
                if cursor == "0" {
                    return seen;
                }
            }
        };
        assert_eq!(full(&mut s, &[]).len(), 100);
        assert_eq!(full(&mut s, &["COUNT", "1000"]).len(), 100);
        let matched = full(&mut s, &["MATCH", "key:*", "COUNT", "3"]);
        assert_eq!(matched.len(), 50);
        assert!(matched.iter().all(|k| k.starts_with(b"key:")));
        assert_eq!(full(&mut s, &["TYPE", "STRING"]).len(), 100);
        assert_eq!(full(&mut s, &["TYPE", "list"]).len(), 0);
        assert_eq!(full(&mut s, &["type", "nosuchtype", "match", "*"]).len(), 0);
        // A big COUNT returns everything in one call.
        let (c, keys) = scan(&mut s, &["SCAN", "0", "COUNT", "100000"]);
        assert_eq!((c.as_str(), keys.len()), ("0", 100));
    }

    #[test]
    fn scan_is_complete_while_the_keyspace_grows() {
        let mut s = Session::new();
        let original: Vec<String> = (0..1000).map(|i| format!("orig:{i}")).collect();
        for k in &original {
            s.run(&["SET", k, "v"]);
        }
        let mut seen: HashSet<Vec<u8>> = HashSet::new();
        let mut cursor = "0".to_string();
        let mut inserted = 0;
        let mut calls = 0;
        loop {
            let (next, keys) = scan(&mut s, &["SCAN", &cursor, "COUNT", "10"]);
            seen.extend(keys);
            cursor = next;
            calls += 1;
            assert!(calls < 100_000, "SCAN does not terminate");
            // 10,000 new keys arrive between calls, 200 at a time, growing every table.
            for _ in 0..200 {
                if inserted < 10_000 {
                    s.run(&["SET", &format!("new:{inserted}"), "v"]);
                    inserted += 1;
                }
            }
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(inserted, 10_000, "iteration ended before the inserts");
        for k in &original {
            assert!(seen.contains(k.as_bytes()), "SCAN missed {k}");
        }
    }

    #[test]
    fn flush_and_swapdb() {
        let mut s = Session::new();
        s.run(&["SET", "a", "0"]);
        s.run(&["EXPIRE", "a", "100"]);
        s.run(&["SELECT", "1"]);
        s.run(&["SET", "b", "1"]);
        s.run(&["EXPIRE", "b", "100"]);
        s.run(&["SET", "c", "1"]);
        assert_eq!(s.run(&["FLUSHDB", "x"]), err("ERR syntax error"));
        assert_eq!(
            s.run(&["FLUSHDB", "SYNC", "ASYNC"]),
            err("ERR syntax error")
        );
        assert_eq!(
            s.run(&["SWAPDB", "x", "0"]),
            err("ERR invalid first DB index")
        );
        assert_eq!(
            s.run(&["SWAPDB", "0", "x"]),
            err("ERR invalid second DB index")
        );
        assert_eq!(
            s.run(&["SWAPDB", "0", "16"]),
            err("ERR DB index is out of range")
        );
        assert_eq!(s.run(&["SWAPDB", "0", "1"]), ok());
        assert_eq!(s.run(&["KEYS", "*"]), arr(&["a"]));
        assert!(as_int(&s.run(&["TTL", "a"])) > 90);
        s.run(&["SELECT", "0"]);
        assert_eq!(sorted_keys(s.run(&["KEYS", "*"])).len(), 2);
        assert_eq!(s.run(&["SWAPDB", "3", "3"]), ok());
        check_counters(&s);
        assert_eq!(s.run(&["FLUSHDB"]), ok());
        assert_eq!(s.run(&["DBSIZE"]), int(0));
        s.run(&["SELECT", "1"]);
        assert_eq!(s.run(&["DBSIZE"]), int(1));
        check_counters(&s);
        assert_eq!(s.run(&["FLUSHALL", "ASYNC"]), ok());
        assert_eq!(s.run(&["DBSIZE"]), int(0));
        s.run(&["SET", "x", "1"]);
        assert_eq!(s.run(&["FLUSHDB", "async"]), ok());
        assert_eq!(s.run(&["FLUSHALL", "sync"]), ok());
        assert_eq!(s.run(&["FLUSHALL"]), ok());
        check_counters(&s);
    }

    #[test]
    fn object_subcommands() {
        let mut s = Session::new();
        s.run(&["SET", "i", "123"]);
        s.run(&["SET", "big", "10000"]);
        s.run(&["SET", "e", "hello"]);
        s.run(&["SET", "r", &"x".repeat(45)]);
        assert_eq!(s.run(&["OBJECT", "ENCODING", "i"]), bulk("int"));
        assert_eq!(s.run(&["object", "encoding", "e"]), bulk("embstr"));
        assert_eq!(s.run(&["OBJECT", "ENCODING", "r"]), bulk("raw"));
        assert_eq!(s.run(&["OBJECT", "ENCODING", "nope"]), Frame::Null);
        assert_eq!(s.run(&["OBJECT", "REFCOUNT", "i"]), int(2_147_483_647));
        assert_eq!(s.run(&["OBJECT", "REFCOUNT", "big"]), int(1));
        assert_eq!(s.run(&["OBJECT", "REFCOUNT", "e"]), int(1));
        assert_eq!(s.run(&["OBJECT", "FREQ", "nope"]), Frame::Null);
        assert_eq!(
            s.run(&["OBJECT", "FREQ", "i"]),
            err(
                "ERR An LFU maxmemory policy is not selected, access frequency not tracked. \
                 Please note that when switching between policies at runtime LRU and LFU data \
                 will take some time to adjust."
            )
        );
        assert_eq!(s.run(&["OBJECT", "IDLETIME", "nope"]), Frame::Null);
        assert_eq!(s.run(&["OBJECT", "IDLETIME", "i"]), int(0));
        // OBJECT counts keyspace hits and misses, as Redis's lookup does.
        let stats = &s.engine.stats;
        let (hits, misses) = (
            stats.keyspace_hits.load(Ordering::Relaxed),
            stats.keyspace_misses.load(Ordering::Relaxed),
        );
        s.run(&["OBJECT", "ENCODING", "i"]);
        s.run(&["OBJECT", "REFCOUNT", "nope"]);
        let stats = &s.engine.stats;
        assert_eq!(stats.keyspace_hits.load(Ordering::Relaxed), hits + 1);
        assert_eq!(stats.keyspace_misses.load(Ordering::Relaxed), misses + 1);
        let Frame::Array(help) = s.run(&["OBJECT", "HELP"]) else {
            panic!("help")
        };
        assert_eq!(help.len(), 15);
        assert_eq!(
            s.run(&["OBJECT", "foo", "k"]),
            err("ERR unknown subcommand 'foo'. Try OBJECT HELP.")
        );
        assert_eq!(
            s.run(&["OBJECT", "ENCODING"]),
            err("ERR wrong number of arguments for 'object|encoding' command")
        );
        assert_eq!(
            s.run(&["OBJECT"]),
            err("ERR wrong number of arguments for 'object' command")
        );
    }

    #[test]
    fn idletime_tracks_access() {
        let mut s = Session::new();
        let payload = match s.run(&["SET", "k", "v"]) {
            Frame::Simple(_) => match s.run(&["DUMP", "k"]) {
                Frame::Bulk(b) => b,
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        };
        run_bytes(&mut s, &[b"DEL", b"k"]);
        // RESTORE ... IDLETIME sets the access clock back; reading metadata does not touch it,
        // an access (GET) does.
        assert_eq!(
            run_bytes(
                &mut s,
                &[b"RESTORE", b"k", b"0", &payload, b"IDLETIME", b"1000"]
            ),
            ok()
        );
        let idle = as_int(&s.run(&["OBJECT", "IDLETIME", "k"]));
        assert!((1000..=1001).contains(&idle), "{idle}");
        s.run(&["TTL", "k"]);
        s.run(&["TYPE", "k"]);
        s.run(&["EXISTS", "k"]);
        assert!(as_int(&s.run(&["OBJECT", "IDLETIME", "k"])) >= 1000);
        s.run(&["GET", "k"]);
        assert!(as_int(&s.run(&["OBJECT", "IDLETIME", "k"])) <= 1);
        run_bytes(
            &mut s,
            &[
                b"RESTORE",
                b"k",
                b"0",
                &payload,
                b"REPLACE",
                b"IDLETIME",
                b"50",
            ],
        );
        s.run(&["TOUCH", "k"]);
        assert!(as_int(&s.run(&["OBJECT", "IDLETIME", "k"])) <= 1);
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or(0))
            .collect()
    }

    #[test]
    fn dump_restore() {
        let mut s = Session::new();
        assert_eq!(s.run(&["DUMP", "nope"]), Frame::Null);
        // Payloads captured from redis-server 7.0.15: int-encoded, short, LZF-compressed.
        let redis_int = hex("00c07b0a0048e253e1007a67b9");
        let redis_short = hex("000568656c6c6f0a006372df766534200a");
        let redis_lzf =
            hex("00c315412c0a6162636465666768696a61e0ff09e10e0d01696a0a0038ca025adaf54090");
        assert_eq!(
            run_bytes(&mut s, &[b"RESTORE", b"i", b"0", &redis_int]),
            ok()
        );
        assert_eq!(s.run(&["GET", "i"]), bulk("123"));
        assert_eq!(s.run(&["OBJECT", "ENCODING", "i"]), bulk("int"));
        assert_eq!(s.run(&["DUMP", "i"]), Frame::Bulk(redis_int.clone()));
        assert_eq!(
            run_bytes(&mut s, &[b"RESTORE", b"h", b"0", &redis_short]),
            ok()
        );
        assert_eq!(s.run(&["GET", "h"]), bulk("hello"));
        assert_eq!(s.run(&["DUMP", "h"]), Frame::Bulk(redis_short.clone()));
        assert_eq!(
            run_bytes(&mut s, &[b"RESTORE", b"z", b"0", &redis_lzf]),
            ok()
        );
        assert_eq!(s.run(&["GET", "z"]), bulk(&"abcdefghij".repeat(30)));
        assert_eq!(s.run(&["OBJECT", "ENCODING", "z"]), bulk("raw"));

        // Errors, in Redis's order.
        assert_eq!(
            run_bytes(&mut s, &[b"RESTORE", b"h", b"0", b"x"]),
            err("BUSYKEY Target key name already exists.")
        );
        assert_eq!(
            run_bytes(&mut s, &[b"RESTORE", b"n", b"-1", b"x"]),
            err("ERR Invalid TTL value, must be >= 0")
        );
        assert_eq!(
            run_bytes(&mut s, &[b"RESTORE", b"n", b"x", b"x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            run_bytes(&mut s, &[b"RESTORE", b"n", b"0", b"x"]),
            err("ERR DUMP payload version or checksum are wrong")
        );
        let mut corrupt = redis_short.clone();
        corrupt[3] ^= 0x20;
        assert_eq!(
            run_bytes(&mut s, &[b"RESTORE", b"n", b"0", &corrupt]),
            err("ERR DUMP payload version or checksum are wrong")
        );
        assert_eq!(
            run_bytes(&mut s, &[b"RESTORE", b"n", b"0", b"x", b"IDLETIME", b"-1"]),
            err("ERR Invalid IDLETIME value, must be >= 0")
        );
        assert_eq!(
            run_bytes(&mut s, &[b"RESTORE", b"n", b"0", b"x", b"FREQ", b"256"]),
            err("ERR Invalid FREQ value, must be >= 0 and <= 255")
        );
        assert_eq!(
            run_bytes(
                &mut s,
                &[
                    b"RESTORE",
                    b"n",
                    b"0",
                    b"x",
                    b"FREQ",
                    b"1",
                    b"IDLETIME",
                    b"1"
                ]
            ),
            err("ERR syntax error")
        );
        assert_eq!(
            run_bytes(&mut s, &[b"RESTORE", b"n", b"0", b"x", b"foo"]),
            err("ERR syntax error")
        );
        assert_eq!(
            run_bytes(&mut s, &[b"RESTORE", b"n", b"0", b"x", b"IDLETIME"]),
            err("ERR syntax error")
        );
        // A valid trailer around a body of an unknown type.
        let mut unknown = vec![0x63, 0x00, 0x0a, 0x00];
        let crc = crate::rdb::crc64::crc64(0, &unknown);
        unknown.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(
            run_bytes(&mut s, &[b"RESTORE", b"n", b"0", &unknown]),
            err("ERR Bad data format")
        );
        assert_eq!(s.run(&["EXISTS", "n"]), int(0));

        // REPLACE, TTL, ABSTTL; a deadline in the past restores nothing.
        assert_eq!(
            run_bytes(
                &mut s,
                &[b"RESTORE", b"h", b"100000", &redis_int, b"REPLACE"]
            ),
            ok()
        );
        assert_eq!(s.run(&["GET", "h"]), bulk("123"));
        let pttl = as_int(&s.run(&["PTTL", "h"]));
        assert!((99_000..=100_000).contains(&pttl), "{pttl}");
        assert_eq!(
            run_bytes(
                &mut s,
                &[
                    b"RESTORE",
                    b"a",
                    b"4102444800000",
                    &redis_int,
                    b"ABSTTL",
                    b"FREQ",
                    b"5"
                ]
            ),
            ok()
        );
        assert_eq!(s.run(&["PEXPIRETIME", "a"]), int(4_102_444_800_000));
        assert_eq!(
            run_bytes(&mut s, &[b"RESTORE", b"p", b"1", &redis_int, b"ABSTTL"]),
            ok()
        );
        assert_eq!(s.run(&["EXISTS", "p"]), int(0));
        assert_eq!(
            run_bytes(
                &mut s,
                &[b"RESTORE", b"a", b"1", &redis_int, b"ABSTTL", b"REPLACE"]
            ),
            ok()
        );
        assert_eq!(s.run(&["EXISTS", "a"]), int(0));
        check_counters(&s);

        // Our own payloads round-trip, for every kind of string.
        for v in [
            "",
            "0",
            "-1",
            "70000",
            "3000000000",
            "0123",
            "hello",
            &"ab".repeat(100),
        ] {
            s.run(&["SET", "src", v]);
            let Frame::Bulk(p) = s.run(&["DUMP", "src"]) else {
                panic!("DUMP")
            };
            assert_eq!(
                run_bytes(&mut s, &[b"RESTORE", b"dst", b"0", &p, b"REPLACE"]),
                ok()
            );
            assert_eq!(s.run(&["GET", "dst"]), bulk(v));
        }
    }

    #[test]
    fn active_expiry_empties_the_keyspace() {
        let mut s = Session::new();
        for i in 0..1000 {
            let k = format!("k{i}");
            s.run(&["SET", &k, "v"]);
            s.run(&["PEXPIRE", &k, "50"]);
        }
        s.run(&["SELECT", "2"]);
        for i in 0..100 {
            let k = format!("k{i}");
            s.run(&["SET", &k, "v"]);
            s.run(&["PEXPIRE", &k, "50"]);
        }
        s.run(&["SET", "stays", "v"]);
        let start = std::time::Instant::now();
        loop {
            // DBSIZE counts keys not yet swept: it reaches its floor only through the sweeper.
            let left = as_int(&s.run(&["DBSIZE"]));
            s.run(&["SELECT", "0"]);
            let left0 = as_int(&s.run(&["DBSIZE"]));
            s.run(&["SELECT", "2"]);
            if left == 1 && left0 == 0 {
                break;
            }
            assert!(
                start.elapsed() < std::time::Duration::from_millis(1500),
                "active expiry too slow: {left0} and {left} keys left"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(s.run(&["GET", "stays"]), bulk("v"));
        check_counters(&s);
    }

    #[test]
    fn active_expiry_can_be_switched_off() {
        let mut s = Session::new();
        s.engine
            .active_expire
            .store(false, std::sync::atomic::Ordering::Relaxed);
        for i in 0..100 {
            let k = format!("k{i}");
            s.run(&["SET", &k, "v"]);
            s.run(&["PEXPIRE", &k, "10"]);
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert_eq!(s.run(&["DBSIZE"]), int(100));
        s.engine
            .active_expire
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let start = std::time::Instant::now();
        while as_int(&s.run(&["DBSIZE"])) != 0 {
            assert!(start.elapsed() < std::time::Duration::from_secs(2));
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        check_counters(&s);
    }

    #[test]
    fn object_freq_counts_one_access_per_lookup_as_redis() {
        // With lfu-log-factor 0 every access increments the counter (from 5, LFU_INIT_VAL).
        let mut s = Session::new();
        for (name, value) in [
            ("maxmemory-policy", "allkeys-lfu"),
            ("lfu-log-factor", "0"),
            ("lfu-decay-time", "0"),
        ] {
            assert_eq!(s.run(&["CONFIG", "SET", name, value]), Frame::OK);
        }
        let freq = |s: &mut Session, k: &str| s.run(&["OBJECT", "FREQ", k]);
        s.run(&["ZADD", "z", "1", "a", "2", "b"]);
        assert_eq!(freq(&mut s, "z"), int(5), "a new key is not accessed");
        for cmd in [
            &["ZADD", "z", "3", "c"][..],
            &["ZREM", "z", "a"],
            &["ZUNIONSTORE", "d", "1", "z"],
        ] {
            s.run(cmd);
        }
        assert_eq!(freq(&mut s, "z"), int(8), "one access per command");
        s.run(&["RPUSH", "l", "a", "b"]);
        s.run(&["LPOP", "l"]);
        s.run(&["SADD", "t", "a", "b"]);
        s.run(&["SREM", "t", "a"]);
        s.run(&["SINTER", "t", "t"]); // two lookups in Redis too
        s.run(&["SET", "k", "v"]);
        s.run(&["APPEND", "k", "w"]);
        s.run(&["GETSET", "k", "x"]); // GET's lookup, then SET's
        assert_eq!(
            (freq(&mut s, "l"), freq(&mut s, "t"), freq(&mut s, "k")),
            (int(6), int(8), int(8))
        );
    }
}
