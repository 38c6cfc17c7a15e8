//! List commands: pushes and pops at both ends, indexing, LINSERT/LREM/LTRIM/LPOS, the moves
//! (LMOVE, RPOPLPUSH), LMPOP, and the blocking family (BLPOP, BRPOP, BRPOPLPUSH, BLMOVE,
//! BLMPOP) — Redis 7.0's `t_list.c` surface, with its reply types, error texts and the order
//! in which it checks arguments, types and keys.
//!
//! Values are [`List`]s (see [`crate::types::list`]). A key never holds an empty list: pushes
//! create it, and every command that removes elements deletes the key with the last one.
//!
//! Blocking: a blocking command that finds nothing records a [`BlockRequest`] in `ctx.block`
//! and returns a placeholder; the dispatcher decides whether the client waits or gets the
//! timeout reply now (see [`crate::blocking`]). When a waiter is re-run because one key became
//! ready, `ctx.may_serve` restricts it to that key, so BLPOP on several keys answers with the
//! key that was pushed to, as Redis does. Every push (and LMOVE's destination) calls
//! `ctx.signal_ready`.

use crate::blocking::BlockRequest;
use crate::command::{
    keys, parse_int, Args, CommandSpec, BLOCKING, DENYOOM, FAST, KEY1, NOSCRIPT, NO_KEYS, READONLY,
    WRITE,
};
use crate::dispatch::Ctx;
use crate::error::OpError;
use crate::notify::{GENERIC, LIST};
use crate::types::ldouble::LongDouble;
use crate::types::list::End;
use crate::types::{List, Value};
use fastkv_resp::{BulkArray, Frame};

// ---------------------------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------------------------

/// The list at `key`: `None` if missing, WRONGTYPE if another type.
fn list_ref<'c>(ctx: &'c mut Ctx<'_, '_>, key: &[u8]) -> Result<Option<&'c List>, OpError> {
    match ctx.value(key) {
        None => Ok(None),
        Some(v) => v.as_list().map(Some),
    }
}

/// The list at `key` for a write.
fn list_mut<'c>(ctx: &'c mut Ctx<'_, '_>, key: &[u8]) -> Result<Option<&'c mut List>, OpError> {
    match ctx.value(key) {
        None => Ok(None),
        Some(v) => v.as_list_mut().map(Some),
    }
}

/// After removing elements from the list at `key` by `event` (`lpop`, `lrem`...): counts the
/// change, notifies, and deletes the key if the list is now empty.
fn removed_from(ctx: &mut Ctx<'_, '_>, key: &[u8], now_empty: bool, event: &str) {
    ctx.dirty += 1;
    ctx.notify(LIST, event, key);
    if now_empty {
        ctx.remove(key);
        ctx.notify(GENERIC, "del", key);
    }
}

/// The keyspace event of a pop from `end`.
fn pop_event(end: End) -> &'static str {
    match end {
        End::Left => "lpop",
        End::Right => "rpop",
    }
}

/// The keyspace event of a push at `end`.
fn push_event(end: End) -> &'static str {
    match end {
        End::Left => "lpush",
        End::Right => "rpush",
    }
}

fn bulk(b: &[u8]) -> Frame {
    Frame::Bulk(b.to_vec())
}

fn bulk_owned(b: Box<[u8]>) -> Frame {
    Frame::Bulk(b.into_vec())
}

/// `list-max-listpack-size`, which shapes the nodes of a list created now.
fn list_fill(ctx: &Ctx<'_, '_>) -> i64 {
    ctx.engine.config.read().list_max_listpack_size
}

/// LEFT / RIGHT, else a syntax error.
fn parse_end(arg: &[u8]) -> Result<End, OpError> {
    End::parse(arg).ok_or(OpError::Syntax)
}

/// A blocking command's timeout in seconds (a float, millisecond precision, 0 = forever) as an
/// absolute deadline in ms, or `None` for forever. Redis 7.0 parses it as a long double,
/// multiplies by 1000, rounds up, and converts to a 64-bit integer; values beyond that range
/// (and infinities) end up negative there, so they are "negative" here too.
pub(crate) fn parse_timeout(ctx: &Ctx<'_, '_>, arg: &[u8]) -> Result<Option<u64>, OpError> {
    // Redis reads the timeout as a long double (`string2ld`: hex, `1e-400`, no spaces) and
    // takes `(long long) ceill(secs * 1000)`; too large a value wraps to negative there.
    let ms = LongDouble::parse(arg)
        .ok_or(OpError::err("timeout is not a float or out of range"))?
        .ceil_millis();
    if ms < 0 {
        return Err(OpError::err("timeout is negative"));
    }
    Ok((ms > 0).then(|| ctx.now.saturating_add(ms as u64)))
}

/// Whether a blocking pop may serve from `key` in this run: `ctx.may_serve`, and, in a
/// waiter's re-run, only if the key holds a list (or nothing). A key that became another type
/// (a sorted set added to a key this client waits on) is not an error there: as in Redis 7.0,
/// only a list serves the waiter, which keeps waiting. On the first run WRONGTYPE stands.
fn may_serve_list(ctx: &mut Ctx<'_, '_>, key: &[u8]) -> bool {
    ctx.may_serve(key)
        && (ctx.ready_key.is_none() || matches!(ctx.value(key), None | Some(Value::List(_))))
}

/// Records that the command would block on `keys` until `deadline_ms` (a null array on
/// timeout); `denied` is its reply where it may not block (MULTI, scripts).
pub(crate) fn block_on(
    ctx: &mut Ctx<'_, '_>,
    keys: &[&[u8]],
    deadline_ms: Option<u64>,
    denied: Frame,
) -> Frame {
    ctx.block = Some(BlockRequest {
        keys: keys.iter().map(|k| k.to_vec()).collect(),
        deadline_ms,
        timeout_reply: Frame::NullArray,
        denied_reply: denied,
    });
    Frame::NullArray
}

// ---------------------------------------------------------------------------------------------
// Pushes
// ---------------------------------------------------------------------------------------------

/// LPUSH / RPUSH / LPUSHX / RPUSHX: pushes every element in order; `only_existing` for the X
/// forms (a missing key stays missing and the reply is 0). Returns the new length.
fn push_generic(
    ctx: &mut Ctx<'_, '_>,
    args: &mut Args<'_>,
    end: End,
    only_existing: bool,
) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let items = args.rest();
    let len = match list_mut(ctx, key)? {
        Some(l) => {
            for it in items {
                l.push(end, it);
            }
            let n = l.len();
            ctx.dirty += 1;
            n
        }
        None if only_existing => return Ok(Frame::Integer(0)),
        None => {
            let mut l = List::with_fill(list_fill(ctx));
            for it in items {
                l.push(end, it);
            }
            let n = l.len();
            ctx.set(key, Value::from(l), false);
            n
        }
    };
    ctx.notify(LIST, push_event(end), key);
    ctx.signal_ready(key);
    Ok(Frame::Integer(len as i64))
}

/// `LPUSH key element [element ...]` — the length after pushing each element at the head in
/// turn (so `LPUSH k a b c` leaves `c b a`).
fn cmd_lpush(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    push_generic(ctx, args, End::Left, false)
}

/// `RPUSH key element [element ...]` — the length after pushing at the tail.
fn cmd_rpush(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    push_generic(ctx, args, End::Right, false)
}

/// `LPUSHX key element [element ...]` — like LPUSH, only if the key holds a list (else 0).
fn cmd_lpushx(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    push_generic(ctx, args, End::Left, true)
}

/// `RPUSHX key element [element ...]` — like RPUSH, only if the key holds a list (else 0).
fn cmd_rpushx(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    push_generic(ctx, args, End::Right, true)
}

// ---------------------------------------------------------------------------------------------
// Pops
// ---------------------------------------------------------------------------------------------

/// Pops up to `count` elements from `end` of the list at `key` (which must exist and be a
/// list), deleting the key if emptied.
fn pop_some(
    ctx: &mut Ctx<'_, '_>,
    key: &[u8],
    end: End,
    count: usize,
) -> Result<Vec<Frame>, OpError> {
    // Every caller looked the key up already: not another access (see `Ctx::again`).
    let Some(l) = ctx.value_again(key).map(Value::as_list_mut).transpose()? else {
        return Ok(Vec::new());
    };
    let n = count.min(l.len());
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        if let Some(it) = l.pop(end) {
            out.push(bulk_owned(it));
        }
    }
    let empty = l.is_empty();
    if n > 0 {
        removed_from(ctx, key, empty, pop_event(end));
    }
    Ok(out)
}

/// LPOP / RPOP `key [count]`.
fn pop_generic(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>, end: End) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    if args.remaining() > 1 {
        return Err(OpError::Arity(
            if end == End::Left { "lpop" } else { "rpop" }.to_string(),
        ));
    }
    let count = match args.peek() {
        None => None,
        Some(a) => match parse_int(a) {
            Ok(n) if n >= 0 => Some(usize::try_from(n).unwrap_or(usize::MAX)),
            _ => return Err(OpError::err("value is out of range, must be positive")),
        },
    };
    if list_ref(ctx, key)?.is_none() {
        // No key: a null, of the array kind when a count was given.
        return Ok(if count.is_some() {
            Frame::NullArray
        } else {
            Frame::Null
        });
    }
    match count {
        None => Ok(pop_some(ctx, key, end, 1)?
            .into_iter()
            .next()
            .unwrap_or(Frame::Null)),
        Some(n) => Ok(Frame::Array(pop_some(ctx, key, end, n)?)),
    }
}

/// `LPOP key [count]` — the head element (null if no key); with a count, an array of up to
/// count elements (an empty array for 0, a null array if no key).
fn cmd_lpop(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    pop_generic(ctx, args, End::Left)
}

/// `RPOP key [count]` — as LPOP, from the tail.
fn cmd_rpop(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    pop_generic(ctx, args, End::Right)
}

// ---------------------------------------------------------------------------------------------
// Reading and editing in place
// ---------------------------------------------------------------------------------------------

/// `LLEN key` — the length (0 for no key).
fn cmd_llen(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let n = list_ref(ctx, key)?.map_or(0, List::len);
    Ok(Frame::Integer(n as i64))
}

/// `LRANGE key start stop` — the elements at inclusive positions start..stop (negative count
/// from the tail; out-of-range ends are clipped); empty for no key.
fn cmd_lrange(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let start = args.next_i64()?;
    let stop = args.next_i64()?;
    let Some(l) = list_ref(ctx, key)? else {
        return Ok(Frame::Array(Vec::new()));
    };
    // Encoded flat as it is read: no allocation per element.
    let mut items = BulkArray::new();
    if let Some(r) = l.clip_range(start, stop) {
        items = BulkArray::with_capacity(r.len(), 16);
        for e in l.iter_range(r) {
            items.push(&e);
        }
    }
    Ok(Frame::Bulks(items))
}

/// `LINDEX key index` — the element, or null (out of range or no key). Redis looks the key up
/// before parsing the index: a missing key answers null even for a bad index.
fn cmd_lindex(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let index = args.next_bytes()?;
    let Some(l) = list_ref(ctx, key)? else {
        return Ok(Frame::Null);
    };
    let index = parse_int(index)?;
    Ok(l.get(index).map_or(Frame::Null, |e| bulk(&e)))
}

/// `LSET key index element` — OK; `ERR no such key` if missing (checked before the index),
/// `ERR index out of range`.
fn cmd_lset(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let index = args.next_bytes()?;
    let item = args.next_bytes()?;
    let Some(l) = list_mut(ctx, key)? else {
        return Err(OpError::NoSuchKey);
    };
    let index = parse_int(index)?;
    if !l.set(index, item) {
        return Err(OpError::OutOfRange);
    }
    ctx.dirty += 1;
    ctx.notify(LIST, "lset", key);
    Ok(Frame::OK)
}

/// `LINSERT key BEFORE|AFTER pivot element` — the new length, -1 if the pivot is not there,
/// 0 if the key is missing.
fn cmd_linsert(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let after = if args.eat("after") {
        true
    } else if args.eat("before") {
        false
    } else {
        return Err(OpError::Syntax);
    };
    let pivot = args.next_bytes()?;
    let item = args.next_bytes()?;
    let Some(l) = list_mut(ctx, key)? else {
        return Ok(Frame::Integer(0));
    };
    if !l.insert_at_pivot(pivot, item, after) {
        return Ok(Frame::Integer(-1));
    }
    let n = l.len();
    ctx.dirty += 1;
    ctx.notify(LIST, "linsert", key);
    Ok(Frame::Integer(n as i64))
}

/// `LREM key count element` — how many were removed: the first `count` matches from the head
/// (count > 0), from the tail (count < 0), or all (0).
fn cmd_lrem(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let count = args.next_i64()?;
    let item = args.next_bytes()?;
    let Some(l) = list_mut(ctx, key)? else {
        return Ok(Frame::Integer(0));
    };
    let n = l.remove_matching(item, count);
    let empty = l.is_empty();
    if n > 0 {
        removed_from(ctx, key, empty, "lrem");
    }
    Ok(Frame::Integer(n as i64))
}

/// `LTRIM key start stop` — OK; keeps only start..stop (the key goes if nothing is left).
fn cmd_ltrim(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let start = args.next_i64()?;
    let stop = args.next_i64()?;
    let Some(l) = list_mut(ctx, key)? else {
        return Ok(Frame::OK);
    };
    let before = l.len();
    let range = l.clip_range(start, stop);
    l.retain_range(range);
    let (after, empty) = (l.len(), l.is_empty());
    if after != before {
        removed_from(ctx, key, empty, "ltrim");
    } else {
        // Redis reports the trim even when it kept everything.
        ctx.notify(LIST, "ltrim", key);
    }
    Ok(Frame::OK)
}

/// `LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]` — the index of the first
/// match (null if none), skipping `rank - 1` matches (negative ranks search from the tail);
/// with COUNT, an array of up to that many indexes (0 = all). MAXLEN bounds the elements
/// compared. Options are checked before the key.
fn cmd_lpos(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let item = args.next_bytes()?;
    let mut rank: i64 = 1;
    let mut count: Option<i64> = None;
    let mut maxlen: i64 = 0;
    while !args.is_empty() {
        if args.eat("rank") {
            rank = args.next_i64()?;
            if rank == 0 {
                return Err(OpError::err(
                    "RANK can't be zero: use 1 to start from the first match, 2 from the \
                     second ... or use negative to start from the end of the list",
                ));
            }
        } else if args.eat("count") {
            let n = args.next_i64()?;
            if n < 0 {
                return Err(OpError::err("COUNT can't be negative"));
            }
            count = Some(n);
        } else if args.eat("maxlen") {
            maxlen = args.next_i64()?;
            if maxlen < 0 {
                return Err(OpError::err("MAXLEN can't be negative"));
            }
        } else {
            return Err(OpError::Syntax);
        }
    }
    let Some(l) = list_ref(ctx, key)? else {
        return Ok(if count.is_some() {
            Frame::Array(Vec::new())
        } else {
            Frame::Null
        });
    };
    // Redis negates LLONG_MIN into itself, which then matches at once: the first match from
    // the tail.
    let from_tail = rank < 0;
    let skip = rank.unsigned_abs().saturating_sub(1);
    let skip = if rank == i64::MIN { 0 } else { skip };
    let want = match count {
        Some(0) => u64::MAX,
        Some(n) => n as u64,
        None => 1,
    };
    let limit = if maxlen == 0 {
        usize::MAX
    } else {
        maxlen as usize
    };
    let mut found: Vec<Frame> = Vec::new();
    let mut seen = 0u64;
    let mut check = |i: usize, e: &[u8]| -> bool {
        if e == item {
            seen += 1;
            if seen > skip {
                found.push(Frame::Integer(i as i64));
                if found.len() as u64 >= want {
                    return false;
                }
            }
        }
        true
    };
    if from_tail {
        for (i, e) in l.iter().enumerate().rev().take(limit) {
            if !check(i, &e) {
                break;
            }
        }
    } else {
        for (i, e) in l.iter().enumerate().take(limit) {
            if !check(i, &e) {
                break;
            }
        }
    }
    Ok(match count {
        Some(_) => Frame::Array(found),
        None => found.into_iter().next().unwrap_or(Frame::Null),
    })
}

// ---------------------------------------------------------------------------------------------
// Moves
// ---------------------------------------------------------------------------------------------

/// Moves one element from `from` of `src` to `to` of `dst`. `Ok(None)` if `src` is missing.
/// Both keys are type-checked before anything changes.
fn move_one(
    ctx: &mut Ctx<'_, '_>,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
) -> Result<Option<Frame>, OpError> {
    if list_ref(ctx, src)?.is_none() {
        return Ok(None);
    }
    if src == dst {
        let Some(l) = list_mut(ctx, src)? else {
            return Ok(None);
        };
        let Some(it) = l.pop(from) else {
            return Ok(None);
        };
        let reply = bulk(&it);
        l.push_owned(to, it);
        ctx.dirty += 1;
        ctx.notify(LIST, push_event(to), dst);
        ctx.notify(LIST, pop_event(from), src);
        ctx.signal_ready(dst);
        return Ok(Some(reply));
    }
    list_ref(ctx, dst)?;
    let Some(l) = list_mut(ctx, src)? else {
        return Ok(None);
    };
    let Some(it) = l.pop(from) else {
        return Ok(None);
    };
    let empty = l.is_empty();
    let reply = bulk(&it);
    match list_mut(ctx, dst)? {
        Some(d) => {
            d.push_owned(to, it);
            ctx.dirty += 1;
        }
        None => {
            let mut d = List::with_fill(list_fill(ctx));
            d.push_owned(to, it);
            ctx.set(dst, Value::from(d), false);
        }
    }
    // Redis pushes before it pops: the events come in that order.
    ctx.notify(LIST, push_event(to), dst);
    removed_from(ctx, src, empty, pop_event(from));
    ctx.signal_ready(dst);
    Ok(Some(reply))
}

/// `LMOVE source destination LEFT|RIGHT LEFT|RIGHT` — the element moved, or null if the
/// source is missing.
fn cmd_lmove(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    let from = parse_end(args.next_bytes()?)?;
    let to = parse_end(args.next_bytes()?)?;
    Ok(move_one(ctx, src, dst, from, to)?.unwrap_or(Frame::Null))
}

/// `RPOPLPUSH source destination` — LMOVE source destination RIGHT LEFT.
fn cmd_rpoplpush(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    Ok(move_one(ctx, src, dst, End::Right, End::Left)?.unwrap_or(Frame::Null))
}

// ---------------------------------------------------------------------------------------------
// LMPOP
// ---------------------------------------------------------------------------------------------

/// LMPOP's and BLMPOP's parsed arguments (after BLMPOP's timeout).
struct MPop<'a> {
    keys: &'a [&'a [u8]],
    end: End,
    count: usize,
}

/// `numkeys key [key ...] LEFT|RIGHT [COUNT count]`, with Redis's texts and order.
fn parse_mpop<'a>(args: &mut Args<'a>) -> Result<MPop<'a>, OpError> {
    let numkeys = args
        .next_bytes()
        .ok()
        .and_then(|a| parse_int(a).ok())
        .filter(|&n| n > 0)
        .ok_or(OpError::err("numkeys should be greater than 0"))?;
    // The keys and the direction must be there.
    if numkeys as u64 >= args.remaining() as u64 {
        return Err(OpError::Syntax);
    }
    let all = args.rest();
    let n = numkeys as usize;
    let (keys, tail) = all.split_at(n.min(all.len()));
    let mut rest = Args::new(tail, 0);
    let end = parse_end(rest.next_bytes()?)?;
    let mut count = None;
    while !rest.is_empty() {
        if count.is_none() && rest.eat("count") {
            let c = rest
                .next_bytes()
                .ok()
                .and_then(|a| parse_int(a).ok())
                .filter(|&c| c > 0)
                .ok_or(OpError::err("count should be greater than 0"))?;
            count = Some(usize::try_from(c).unwrap_or(usize::MAX));
        } else {
            return Err(OpError::Syntax);
        }
    }
    Ok(MPop {
        keys,
        end,
        count: count.unwrap_or(1),
    })
}

/// Pops from the first non-empty list among `keys` (that this run may serve): `[key,
/// [elements]]`, or `None` if all are missing. A key of another type answers WRONGTYPE when
/// reached.
fn mpop(ctx: &mut Ctx<'_, '_>, m: &MPop<'_>) -> Result<Option<Frame>, OpError> {
    for &key in m.keys {
        if !may_serve_list(ctx, key) || list_ref(ctx, key)?.is_none() {
            continue;
        }
        let items = pop_some(ctx, key, m.end, m.count)?;
        return Ok(Some(Frame::Array(vec![bulk(key), Frame::Array(items)])));
    }
    Ok(None)
}

/// LMPOP's and BLMPOP's key positions: `numkeys` is at `at`; the keys follow (as many as are
/// there, so a lying numkeys cannot index past the arguments).
fn mpop_keys(argv: &[&[u8]], at: usize) -> Vec<usize> {
    let n = argv
        .get(at)
        .and_then(|a| parse_int(a).ok())
        .filter(|&n| n > 0)
        .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
    let first = at + 1;
    let last = first.saturating_add(n).min(argv.len());
    (first..last).collect()
}

fn lmpop_keys(argv: &[&[u8]]) -> Vec<usize> {
    mpop_keys(argv, 1)
}

fn blmpop_keys(argv: &[&[u8]]) -> Vec<usize> {
    mpop_keys(argv, 2)
}

/// `LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]` — `[key, [elements]]` from the
/// first non-empty list, or a null array.
fn cmd_lmpop(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let m = parse_mpop(args)?;
    Ok(mpop(ctx, &m)?.unwrap_or(Frame::NullArray))
}

// ---------------------------------------------------------------------------------------------
// Blocking
// ---------------------------------------------------------------------------------------------

/// BLPOP / BRPOP `key [key ...] timeout`.
fn bpop_generic(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>, end: End) -> Result<Frame, OpError> {
    let all = args.rest();
    let Some((timeout, keys)) = all.split_last() else {
        return Err(OpError::Syntax);
    };
    let deadline = parse_timeout(ctx, timeout)?;
    for &key in keys {
        if !may_serve_list(ctx, key) || list_ref(ctx, key)?.is_none() {
            continue;
        }
        let items = pop_some(ctx, key, end, 1)?;
        if let Some(item) = items.into_iter().next() {
            return Ok(Frame::Array(vec![bulk(key), item]));
        }
    }
    Ok(block_on(ctx, keys, deadline, Frame::NullArray))
}

/// `BLPOP key [key ...] timeout` — `[key, element]` from the first non-empty list; otherwise
/// blocks until a push to one of the keys (answering with that key) or the timeout (a null
/// array). Timeout: float seconds, 0 = forever.
fn cmd_blpop(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    bpop_generic(ctx, args, End::Left)
}

/// `BRPOP key [key ...] timeout` — as BLPOP, from the tail.
fn cmd_brpop(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    bpop_generic(ctx, args, End::Right)
}

/// BLMOVE / BRPOPLPUSH once the arguments are parsed.
fn bmove_generic(
    ctx: &mut Ctx<'_, '_>,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
    deadline: Option<u64>,
) -> Result<Frame, OpError> {
    if may_serve_list(ctx, src) {
        if let Some(reply) = move_one(ctx, src, dst, from, to)? {
            return Ok(reply);
        }
    }
    // Where it may not block (MULTI, scripts) Redis answers a null bulk here.
    Ok(block_on(ctx, &[src], deadline, Frame::Null))
}

/// `BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout` — LMOVE, blocking while the
/// source is missing; a null array on timeout.
fn cmd_blmove(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    let from = parse_end(args.next_bytes()?)?;
    let to = parse_end(args.next_bytes()?)?;
    let deadline = parse_timeout(ctx, args.next_bytes()?)?;
    bmove_generic(ctx, src, dst, from, to, deadline)
}

/// `BRPOPLPUSH source destination timeout` — BLMOVE source destination RIGHT LEFT timeout.
fn cmd_brpoplpush(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    let deadline = parse_timeout(ctx, args.next_bytes()?)?;
    bmove_generic(ctx, src, dst, End::Right, End::Left, deadline)
}

/// `BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]` — LMPOP, blocking while
/// every list is missing; a null array on timeout.
fn cmd_blmpop(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    // Redis checks the rest of the line before the timeout.
    let timeout = args.next_bytes()?;
    let m = parse_mpop(args)?;
    let deadline = parse_timeout(ctx, timeout)?;
    if let Some(reply) = mpop(ctx, &m)? {
        return Ok(reply);
    }
    Ok(block_on(ctx, m.keys, deadline, Frame::NullArray))
}

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

/// BLPOP/BRPOP: every argument but the last (the timeout) is a key.
const ALL_BUT_LAST: crate::command::KeySpec = keys(1, -2, 1);

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("lpush", -3, WRITE | DENYOOM | FAST, KEY1, cmd_lpush).doc(
        "list",
        "1.0.0",
        "Prepend one or multiple elements to a list",
    ),
    CommandSpec::new("rpush", -3, WRITE | DENYOOM | FAST, KEY1, cmd_rpush).doc(
        "list",
        "1.0.0",
        "Append one or multiple elements to a list",
    ),
    CommandSpec::new("lpushx", -3, WRITE | DENYOOM | FAST, KEY1, cmd_lpushx).doc(
        "list",
        "2.2.0",
        "Prepend an element to a list, only if the list exists",
    ),
    CommandSpec::new("rpushx", -3, WRITE | DENYOOM | FAST, KEY1, cmd_rpushx).doc(
        "list",
        "2.2.0",
        "Append an element to a list, only if the list exists",
    ),
    CommandSpec::new("lpop", -2, WRITE | FAST, KEY1, cmd_lpop).doc(
        "list",
        "1.0.0",
        "Remove and get the first elements in a list",
    ),
    CommandSpec::new("rpop", -2, WRITE | FAST, KEY1, cmd_rpop).doc(
        "list",
        "1.0.0",
        "Remove and get the last elements in a list",
    ),
    CommandSpec::new("llen", 2, READONLY | FAST, KEY1, cmd_llen).doc(
        "list",
        "1.0.0",
        "Get the length of a list",
    ),
    CommandSpec::new("lrange", 4, READONLY, KEY1, cmd_lrange).doc(
        "list",
        "1.0.0",
        "Get a range of elements from a list",
    ),
    CommandSpec::new("lindex", 3, READONLY, KEY1, cmd_lindex).doc(
        "list",
        "1.0.0",
        "Get an element from a list by its index",
    ),
    CommandSpec::new("lset", 4, WRITE | DENYOOM, KEY1, cmd_lset).doc(
        "list",
        "1.0.0",
        "Set the value of an element in a list by its index",
    ),
    CommandSpec::new("linsert", 5, WRITE | DENYOOM, KEY1, cmd_linsert).doc(
        "list",
        "2.2.0",
        "Insert an element before or after another element in a list",
    ),
    CommandSpec::new("lrem", 4, WRITE, KEY1, cmd_lrem).doc(
        "list",
        "1.0.0",
        "Remove elements from a list",
    ),
    CommandSpec::new("ltrim", 4, WRITE, KEY1, cmd_ltrim).doc(
        "list",
        "1.0.0",
        "Trim a list to the specified range",
    ),
    CommandSpec::new("lpos", -3, READONLY, KEY1, cmd_lpos).doc(
        "list",
        "6.0.6",
        "Return the index of matching elements on a list",
    ),
    CommandSpec::new("lmove", 5, WRITE | DENYOOM, keys(1, 2, 1), cmd_lmove).doc(
        "list",
        "6.2.0",
        "Pop an element from a list, push it to another list and return it",
    ),
    CommandSpec::new("rpoplpush", 3, WRITE | DENYOOM, keys(1, 2, 1), cmd_rpoplpush).doc(
        "list",
        "1.2.0",
        "Remove the last element in a list, prepend it to another list and return it",
    ),
    CommandSpec::new("lmpop", -4, WRITE, NO_KEYS, cmd_lmpop)
        .keys_fn(lmpop_keys)
        .doc(
            "list",
            "7.0.0",
            "Pop elements from a list",
        ),
    CommandSpec::new("blpop", -3, WRITE | NOSCRIPT | BLOCKING, ALL_BUT_LAST, cmd_blpop).doc(
        "list",
        "2.0.0",
        "Remove and get the first element in a list, or block until one is available",
    ),
    CommandSpec::new("brpop", -3, WRITE | NOSCRIPT | BLOCKING, ALL_BUT_LAST, cmd_brpop).doc(
        "list",
        "2.0.0",
        "Remove and get the last element in a list, or block until one is available",
    ),
    CommandSpec::new(
        "brpoplpush",
        4,
        WRITE | DENYOOM | NOSCRIPT | BLOCKING,
        keys(1, 2, 1),
        cmd_brpoplpush,
    )
    .doc(
        "list",
        "2.2.0",
        "Pop an element from a list, push it to another list and return it; or block until one is available",
    ),
    CommandSpec::new(
        "blmove",
        6,
        WRITE | DENYOOM | NOSCRIPT | BLOCKING,
        keys(1, 2, 1),
        cmd_blmove,
    )
    .doc(
        "list",
        "6.2.0",
        "Pop an element from a list, push it to another list and return it; or block until one is available",
    ),
    CommandSpec::new("blmpop", -5, WRITE | BLOCKING, NO_KEYS, cmd_blmpop)
        .keys_fn(blmpop_keys)
        .doc(
            "list",
            "7.0.0",
            "Pop elements from a list or block until one is available",
        ),
];

#[cfg(test)]
mod tests {
    use crate::blocking::{Deliver, Outcome};
    use crate::testing::*;
    use fastkv_resp::Frame;
    use std::sync::mpsc;

    fn arr(items: &[&str]) -> Frame {
        Frame::Array(items.iter().map(|s| bulk(s)).collect())
    }

    fn ints(items: &[i64]) -> Frame {
        Frame::Array(items.iter().map(|&n| Frame::Integer(n)).collect())
    }

    const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

    #[test]
    fn push_pop_and_delete_when_empty() {
        let mut s = Session::new();
        assert_eq!(s.run(&["LPUSH", "k", "a", "b", "c"]), int(3));
        assert_eq!(s.run(&["RPUSH", "k", "d"]), int(4));
        assert_eq!(
            s.run(&["LRANGE", "k", "0", "-1"]),
            arr(&["c", "b", "a", "d"])
        );
        assert_eq!(s.run(&["OBJECT", "ENCODING", "k"]), bulk("quicklist"));
        assert_eq!(s.run(&["TYPE", "k"]), Frame::Simple("list".into()));
        assert_eq!(s.run(&["LPOP", "k"]), bulk("c"));
        assert_eq!(s.run(&["RPOP", "k", "2"]), arr(&["d", "a"]));
        assert_eq!(s.run(&["LPOP", "k", "0"]), arr(&[]));
        assert_eq!(s.run(&["RPOP", "k", "5"]), arr(&["b"]));
        assert_eq!(s.run(&["EXISTS", "k"]), int(0));
        assert_eq!(s.run(&["LPOP", "k"]), Frame::Null);
        assert_eq!(s.run(&["LPOP", "k", "0"]), Frame::NullArray);
        assert_eq!(s.run(&["LPOP", "k", "3"]), Frame::NullArray);
        assert_eq!(
            s.run(&["LPOP", "k", "-1"]),
            err("ERR value is out of range, must be positive")
        );
        assert_eq!(
            s.run(&["LPOP", "k", "1", "2"]),
            err("ERR wrong number of arguments for 'lpop' command")
        );
        assert_eq!(s.run(&["LPUSHX", "k", "a"]), int(0));
        assert_eq!(s.run(&["EXISTS", "k"]), int(0));
        s.run(&["SET", "str", "x"]);
        assert_eq!(s.run(&["LPUSH", "str", "a"]), err(WRONGTYPE));
        assert_eq!(s.run(&["RPUSHX", "str", "a"]), err(WRONGTYPE));
        assert_eq!(s.run(&["LPOP", "str", "0"]), err(WRONGTYPE));
    }

    #[test]
    fn index_set_range_trim() {
        let mut s = Session::new();
        s.run(&["RPUSH", "k", "a", "b", "c", "d", "e"]);
        assert_eq!(s.run(&["LLEN", "k"]), int(5));
        assert_eq!(s.run(&["LLEN", "nokey"]), int(0));
        assert_eq!(s.run(&["LINDEX", "k", "-1"]), bulk("e"));
        assert_eq!(s.run(&["LINDEX", "k", "5"]), Frame::Null);
        assert_eq!(s.run(&["LINDEX", "nokey", "x"]), Frame::Null);
        assert_eq!(
            s.run(&["LINDEX", "k", "x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(s.run(&["LSET", "k", "1", "B"]), Frame::OK);
        assert_eq!(
            s.run(&["LSET", "k", "9", "B"]),
            err("ERR index out of range")
        );
        assert_eq!(s.run(&["LSET", "nokey", "x", "B"]), err("ERR no such key"));
        assert_eq!(s.run(&["LRANGE", "k", "-100", "1"]), arr(&["a", "B"]));
        assert_eq!(s.run(&["LRANGE", "k", "3", "1"]), arr(&[]));
        assert_eq!(s.run(&["LTRIM", "k", "1", "-2"]), Frame::OK);
        assert_eq!(s.run(&["LRANGE", "k", "0", "-1"]), arr(&["B", "c", "d"]));
        assert_eq!(s.run(&["LTRIM", "k", "5", "1"]), Frame::OK);
        assert_eq!(s.run(&["EXISTS", "k"]), int(0));
    }

    #[test]
    fn insert_rem() {
        let mut s = Session::new();
        s.run(&["RPUSH", "k", "a", "b", "a", "c", "a"]);
        assert_eq!(s.run(&["LINSERT", "k", "BEFORE", "b", "x"]), int(6));
        assert_eq!(s.run(&["LINSERT", "k", "after", "zz", "x"]), int(-1));
        assert_eq!(s.run(&["LINSERT", "nokey", "after", "zz", "x"]), int(0));
        assert_eq!(
            s.run(&["LINSERT", "k", "middle", "a", "x"]),
            err("ERR syntax error")
        );
        assert_eq!(s.run(&["LREM", "k", "-2", "a"]), int(2));
        assert_eq!(
            s.run(&["LRANGE", "k", "0", "-1"]),
            arr(&["a", "x", "b", "c"])
        );
        assert_eq!(s.run(&["LREM", "k", "0", "a"]), int(1));
        assert_eq!(s.run(&["LREM", "nokey", "0", "a"]), int(0));
    }

    #[test]
    fn lpos_options() {
        let mut s = Session::new();
        s.run(&["RPUSH", "k", "a", "b", "c", "1", "2", "3", "c", "c"]);
        assert_eq!(s.run(&["LPOS", "k", "c"]), int(2));
        assert_eq!(s.run(&["LPOS", "k", "c", "RANK", "2"]), int(6));
        assert_eq!(s.run(&["LPOS", "k", "c", "RANK", "-1"]), int(7));
        assert_eq!(s.run(&["LPOS", "k", "c", "COUNT", "0"]), ints(&[2, 6, 7]));
        assert_eq!(
            s.run(&["LPOS", "k", "c", "RANK", "-1", "COUNT", "2"]),
            ints(&[7, 6])
        );
        assert_eq!(
            s.run(&["LPOS", "k", "c", "COUNT", "0", "MAXLEN", "3"]),
            ints(&[2])
        );
        assert_eq!(s.run(&["LPOS", "k", "z"]), Frame::Null);
        assert_eq!(s.run(&["LPOS", "nokey", "z", "COUNT", "1"]), arr(&[]));
        assert_eq!(
            s.run(&["LPOS", "k", "a", "RANK", "-9223372036854775808"]),
            int(0)
        );
        assert_eq!(
            s.run(&["LPOS", "k", "c", "RANK", "0"]),
            err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
        );
        assert_eq!(
            s.run(&["LPOS", "k", "c", "COUNT", "-1"]),
            err("ERR COUNT can't be negative")
        );
        assert_eq!(
            s.run(&["LPOS", "k", "c", "MAXLEN", "-1"]),
            err("ERR MAXLEN can't be negative")
        );
        assert_eq!(s.run(&["LPOS", "k", "c", "FOO"]), err("ERR syntax error"));
    }

    #[test]
    fn moves() {
        let mut s = Session::new();
        s.run(&["RPUSH", "src", "a", "b", "c"]);
        assert_eq!(s.run(&["LMOVE", "src", "dst", "LEFT", "RIGHT"]), bulk("a"));
        assert_eq!(s.run(&["RPOPLPUSH", "src", "dst"]), bulk("c"));
        assert_eq!(s.run(&["LRANGE", "dst", "0", "-1"]), arr(&["c", "a"]));
        assert_eq!(s.run(&["LMOVE", "src", "src", "LEFT", "RIGHT"]), bulk("b"));
        assert_eq!(
            s.run(&["LMOVE", "nokey", "dst", "LEFT", "RIGHT"]),
            Frame::Null
        );
        assert_eq!(
            s.run(&["LMOVE", "src", "dst", "UP", "RIGHT"]),
            err("ERR syntax error")
        );
        s.run(&["SET", "str", "x"]);
        assert_eq!(
            s.run(&["LMOVE", "src", "str", "LEFT", "LEFT"]),
            err(WRONGTYPE)
        );
        assert_eq!(s.run(&["LLEN", "src"]), int(1));
        assert_eq!(s.run(&["RPOPLPUSH", "src", "dst"]), bulk("b"));
        assert_eq!(s.run(&["EXISTS", "src"]), int(0));
    }

    #[test]
    fn lmpop() {
        let mut s = Session::new();
        s.run(&["RPUSH", "b", "1", "2", "3"]);
        assert_eq!(
            s.run(&["LMPOP", "2", "a", "b", "RIGHT", "COUNT", "2"]),
            Frame::Array(vec![bulk("b"), arr(&["3", "2"])])
        );
        assert_eq!(s.run(&["LMPOP", "1", "a", "LEFT"]), Frame::NullArray);
        let numkeys = err("ERR numkeys should be greater than 0");
        assert_eq!(s.run(&["LMPOP", "0", "a", "LEFT"]), numkeys);
        assert_eq!(s.run(&["LMPOP", "x", "a", "LEFT"]), numkeys);
        assert_eq!(s.run(&["LMPOP", "5", "a", "LEFT"]), err("ERR syntax error"));
        assert_eq!(
            s.run(&["LMPOP", "99999999999999", "a", "LEFT"]),
            err("ERR syntax error")
        );
        assert_eq!(s.run(&["LMPOP", "1", "a", "UP"]), err("ERR syntax error"));
        assert_eq!(
            s.run(&["LMPOP", "1", "a", "LEFT", "COUNT", "0"]),
            err("ERR count should be greater than 0")
        );
        assert_eq!(
            s.run(&["LMPOP", "1", "a", "LEFT", "COUNT", "1", "COUNT", "1"]),
            err("ERR syntax error")
        );
        s.run(&["SET", "str", "x"]);
        assert_eq!(s.run(&["LMPOP", "2", "a", "str", "LEFT"]), err(WRONGTYPE));
        assert_eq!(
            s.run(&["LMPOP", "2", "b", "str", "LEFT"]),
            Frame::Array(vec![bulk("b"), arr(&["1"])])
        );
    }

    #[test]
    fn blocking_commands_without_waiting() {
        let mut s = Session::new();
        // `execute` cannot wait: the timeout reply at once.
        assert_eq!(s.run(&["BLPOP", "a", "b", "0"]), Frame::NullArray);
        assert_eq!(
            s.run(&["BLMOVE", "a", "b", "LEFT", "LEFT", "0"]),
            Frame::NullArray
        );
        assert_eq!(s.run(&["BRPOPLPUSH", "a", "b", "0"]), Frame::NullArray);
        assert_eq!(s.run(&["BLMPOP", "0", "1", "a", "LEFT"]), Frame::NullArray);
        s.run(&["RPUSH", "b", "x", "y"]);
        assert_eq!(s.run(&["BLPOP", "a", "b", "0"]), arr(&["b", "x"]));
        assert_eq!(s.run(&["BRPOP", "a", "b", "0"]), arr(&["b", "y"]));
        let t = err("ERR timeout is not a float or out of range");
        assert_eq!(s.run(&["BLPOP", "a", "x"]), t);
        assert_eq!(s.run(&["BLPOP", "a", "nan"]), t);
        let neg = err("ERR timeout is negative");
        assert_eq!(s.run(&["BLPOP", "a", "-1"]), neg);
        assert_eq!(s.run(&["BLPOP", "a", "inf"]), neg);
        assert_eq!(s.run(&["BLPOP", "a", "1e20"]), neg);
        assert_eq!(s.run(&["BLMPOP", "-1", "1", "a", "LEFT"]), neg);
        assert_eq!(
            s.run(&["BLMOVE", "a", "b", "LEFT", "UP", "-1"]),
            err("ERR syntax error")
        );
        s.run(&["SET", "str", "x"]);
        assert_eq!(s.run(&["BLPOP", "a", "str", "0"]), err(WRONGTYPE));
    }

    /// Blocks `argv` for a new client; returns the waiter and its reply channel.
    fn block(s: &Session, argv: &[&str]) -> (u64, mpsc::Receiver<Frame>) {
        let mut c = s.engine.new_client();
        let (tx, rx) = mpsc::channel();
        let mut tx = Some(tx);
        let mut waker = || -> Deliver {
            let tx = tx.take();
            Box::new(move |f| {
                if let Some(tx) = tx {
                    let _ = tx.send(f);
                }
            })
        };
        let args: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
        match s.engine.execute_or_block(&mut c, &args, &mut waker) {
            Outcome::Blocked { id, .. } => (id, rx),
            Outcome::Reply(f) => panic!("did not block: {f:?}"),
        }
    }

    /// The deadline `BLPOP k <timeout>` blocks with, relative to now (None: forever).
    fn blocked_for(s: &Session, timeout: &str) -> Option<i64> {
        let mut c = s.engine.new_client();
        let mut waker = || -> Deliver { Box::new(|_| {}) };
        let before = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let argv: &[&[u8]] = &[b"BLPOP", b"k", timeout.as_bytes()];
        match s.engine.execute_or_block(&mut c, argv, &mut waker) {
            Outcome::Blocked { id, deadline_ms } => {
                s.engine.blocking.unblock(id);
                deadline_ms.map(|d| d as i64 - before)
            }
            Outcome::Reply(f) => panic!("{timeout:?} did not block: {f:?}"),
        }
    }

    #[test]
    fn timeouts_parse_as_long_doubles() {
        // What redis-server 7.0.15 accepts: strtold syntax, hex included, tiny values that
        // underflow a double, no surrounding spaces.
        let mut s = Session::new();
        let within = |d: Option<i64>, lo: i64, hi: i64| d.is_some_and(|d| (lo..=hi).contains(&d));
        assert!(within(blocked_for(&s, "0x1"), 900, 1100));
        assert!(within(blocked_for(&s, "0x10"), 15_900, 16_100));
        assert!(within(blocked_for(&s, "0x1p-2"), 150, 350));
        // ceil(1e-397 ms) = 1 ms, not 0 (forever) as a double's underflow would give.
        assert!(within(blocked_for(&s, "1e-400"), 0, 100));
        assert_eq!(blocked_for(&s, "-1e-400"), None);
        assert_eq!(blocked_for(&s, "-0"), None);
        let t = err("ERR timeout is not a float or out of range");
        for bad in [" 1", "1 ", "1e-5000", "nan", "0x"] {
            assert_eq!(s.run(&["BLPOP", "k", bad]), t, "{bad:?}");
        }
        let neg = err("ERR timeout is negative");
        for bad in ["-0x1", "-inf", "1e16"] {
            assert_eq!(s.run(&["BLPOP", "k", bad]), neg, "{bad:?}");
        }
        assert_eq!(s.run(&["BLMOVE", "k", "d", "LEFT", "LEFT", "-0x1"]), neg);
    }

    #[test]
    fn a_key_of_another_type_leaves_list_waiters_waiting() {
        // Redis 7.0 serves a list waiter only from a list; a sorted set (which wakes the key)
        // neither serves nor errors it.
        let mut s = Session::new();
        let waiters = [
            block(&s, &["BLPOP", "k", "0"]),
            block(&s, &["BRPOP", "k", "0"]),
            block(&s, &["BLMOVE", "k", "d", "LEFT", "RIGHT", "0"]),
            block(&s, &["BRPOPLPUSH", "k", "d", "0"]),
            block(
                &s,
                &["BLMPOP", "0", "2", "k", "other", "LEFT", "COUNT", "2"],
            ),
        ];
        s.run(&["ZADD", "k", "1", "m"]);
        for (id, rx) in &waiters {
            assert!(rx.try_recv().is_err());
            assert!(s.engine.blocking.is_blocked(*id));
        }
        s.run(&["DEL", "k"]);
        s.run(&["RPUSH", "k", "a", "b", "c", "d", "e", "f"]);
        let replies: Vec<Option<Frame>> =
            waiters.iter().map(|(_, rx)| rx.try_recv().ok()).collect();
        assert_eq!(
            replies,
            [
                Some(arr(&["k", "a"])),
                Some(arr(&["k", "f"])),
                Some(bulk("b")),
                Some(bulk("e")),
                Some(Frame::Array(vec![bulk("k"), arr(&["c", "d"])])),
            ]
        );
        assert_eq!(s.run(&["LRANGE", "d", "0", "-1"]), arr(&["e", "b"]));
        // The first run still answers WRONGTYPE.
        s.run(&["ZADD", "z", "1", "m"]);
        assert_eq!(s.run(&["BLPOP", "z", "0"]), err(WRONGTYPE));
        assert_eq!(
            s.run(&["BLMOVE", "z", "d", "LEFT", "LEFT", "0"]),
            err(WRONGTYPE)
        );
        assert_eq!(s.run(&["BLMPOP", "0", "1", "z", "LEFT"]), err(WRONGTYPE));
    }

    #[test]
    fn waiters_are_served_in_fifo_order_with_the_pushed_key() {
        let mut s = Session::new();
        let (_, r1) = block(&s, &["BLPOP", "a", "q", "0"]);
        let (_, r2) = block(&s, &["BRPOP", "q", "0"]);
        let (_, r3) = block(&s, &["BLMPOP", "0", "1", "q", "LEFT", "COUNT", "5"]);
        assert_eq!(s.engine.blocking.blocked_clients(), 3);
        assert_eq!(s.run(&["RPUSH", "q", "1", "2"]), int(2));
        assert_eq!(r1.try_recv().ok(), Some(arr(&["q", "1"])));
        assert_eq!(r2.try_recv().ok(), Some(arr(&["q", "2"])));
        assert!(r3.try_recv().is_err());
        assert_eq!(s.engine.blocking.blocked_clients(), 1);
        assert_eq!(s.run(&["EXISTS", "q"]), int(0));
        s.run(&["LPUSH", "q", "x", "y"]);
        assert_eq!(
            r3.try_recv().ok(),
            Some(Frame::Array(vec![bulk("q"), arr(&["y", "x"])]))
        );
        assert_eq!(s.engine.blocking.blocked_clients(), 0);
    }

    #[test]
    fn blmove_chains_to_waiters_on_its_destination() {
        let mut s = Session::new();
        let (_, r1) = block(&s, &["BLMOVE", "a", "b", "LEFT", "RIGHT", "0"]);
        let (_, r2) = block(&s, &["BLPOP", "b", "0"]);
        s.run(&["RPUSH", "a", "v"]);
        assert_eq!(r1.try_recv().ok(), Some(bulk("v")));
        assert_eq!(r2.try_recv().ok(), Some(arr(&["b", "v"])));
        assert_eq!(s.run(&["EXISTS", "a", "b"]), int(0));
    }

    #[test]
    fn any_list_creation_wakes_waiters() {
        let mut s = Session::new();
        s.run(&["RPUSH", "src", "r"]);
        let (_, by_rename) = block(&s, &["BLPOP", "renamed", "0"]);
        s.run(&["RENAME", "src", "renamed"]);
        assert_eq!(by_rename.try_recv().ok(), Some(arr(&["renamed", "r"])));

        s.run(&["RPUSH", "src", "c"]);
        let (_, by_copy) = block(&s, &["BLPOP", "copied", "0"]);
        s.run(&["COPY", "src", "copied"]);
        assert_eq!(by_copy.try_recv().ok(), Some(arr(&["copied", "c"])));

        let payload = match s.run(&["DUMP", "src"]) {
            Frame::Bulk(b) => b,
            other => panic!("{other:?}"),
        };
        let (_, by_restore) = block(&s, &["BLPOP", "restored", "0"]);
        let args: Vec<&[u8]> = vec![b"RESTORE", b"restored", b"0", &payload];
        s.engine.execute(&mut s.client, &args);
        assert_eq!(by_restore.try_recv().ok(), Some(arr(&["restored", "c"])));
        assert_eq!(s.engine.blocking.blocked_clients(), 0);
    }

    #[test]
    fn unblock_and_no_block() {
        let mut s = Session::new();
        let (id, rx) = block(&s, &["BLPOP", "q", "0.5"]);
        assert_eq!(s.engine.blocking.unblock(id), Some(Frame::NullArray));
        assert_eq!(s.engine.blocking.blocked_clients(), 0);
        s.run(&["RPUSH", "q", "1"]);
        assert!(rx.try_recv().is_err());
        assert_eq!(s.run(&["LLEN", "q"]), int(1));
        // A client that must not block gets the timeout reply from execute_or_block too.
        let mut c = s.engine.new_client();
        c.no_block = true;
        let mut waker = || -> Deliver { Box::new(|_| {}) };
        let out = s
            .engine
            .execute_or_block(&mut c, &[b"BLPOP", b"none", b"0"], &mut waker);
        assert!(matches!(out, Outcome::Reply(Frame::NullArray)));
    }

    #[test]
    fn dump_restore_roundtrip_and_redis_payload() {
        let mut s = Session::new();
        // DUMP of `RPUSH k a b c` on redis-server 7.0.15.
        let payload = b"\x12\x01\x02\x10\x10\x00\x00\x00\x03\x00\x81a\x02\x81b\x02\x81c\x02\xff\n\x00\xc8\x18\xb9\x0c\x953R\x9e";
        let args: Vec<&[u8]> = vec![b"RESTORE", b"r", b"0", payload];
        assert_eq!(s.engine.execute(&mut s.client, &args), Frame::OK);
        assert_eq!(s.run(&["LRANGE", "r", "0", "-1"]), arr(&["a", "b", "c"]));
        assert_eq!(
            s.engine.execute(&mut s.client, &[b"DUMP", b"r"]),
            Frame::Bulk(payload.to_vec())
        );
        // Many nodes.
        let many: Vec<String> = (0..3000).map(|i| format!("element-{i}")).collect();
        let mut argv: Vec<&str> = vec!["RPUSH", "big"];
        argv.extend(many.iter().map(String::as_str));
        s.run(&argv);
        let Frame::Bulk(d) = s.run(&["DUMP", "big"]) else {
            panic!("no dump")
        };
        let args: Vec<&[u8]> = vec![b"RESTORE", b"big2", b"0", &d];
        assert_eq!(s.engine.execute(&mut s.client, &args), Frame::OK);
        assert_eq!(
            s.run(&["LRANGE", "big2", "0", "-1"]),
            s.run(&["LRANGE", "big", "0", "-1"])
        );
    }
}
