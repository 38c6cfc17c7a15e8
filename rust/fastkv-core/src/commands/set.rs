//! Set commands: membership, random picks, SMOVE, the set algebra (SINTER, SUNION, SDIFF and
//! their STORE forms, SINTERCARD) and SSCAN — Redis 7.0's `t_set.c` surface, with its reply
//! types and error texts.
//!
//! Values are [`Set`]s (`intset` -> `hashtable` on the first non-integer member or past
//! `set-max-intset-entries`, one-way; see [`crate::types::set`]). Sets built whole — the
//! *STORE destinations and SPOP's rebuild of a mostly-popped set — pick their encoding afresh,
//! as Redis builds them.
//!
//! A key never holds an empty set: SREM, SPOP and SMOVE delete a set they empty, and the
//! *STORE commands delete the destination when the result is empty. Multi-key commands check
//! every key's type before answering (a missing key short-circuits nothing), as Redis does.

use crate::command::{
    keys, parse_int, Args, CommandSpec, ALL_ARGS, DENYOOM, FAST, KEY1, READONLY, WRITE,
};
use crate::commands::hash::{scan_reply, ScanOptions};
use crate::commands::keys::parse_cursor;
use crate::dispatch::Ctx;
use crate::error::OpError;
use crate::notify::{GENERIC, SET};
use crate::types::set::Member;
use crate::types::{Set, Value};
use fastkv_resp::Frame;
use rand::Rng;

// ---------------------------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------------------------

fn max_intset(ctx: &Ctx<'_, '_>) -> usize {
    ctx.engine.config.read().set_max_intset_entries
}

/// The set at `key`: `None` if missing, WRONGTYPE if another type.
fn set_ref<'c>(ctx: &'c mut Ctx<'_, '_>, key: &[u8]) -> Result<Option<&'c Set>, OpError> {
    match ctx.value(key) {
        None => Ok(None),
        Some(v) => v.as_set().map(Some),
    }
}

/// The set at `key` without counting an access: a check before the update that is the one
/// access Redis counts (see `Ctx::peek`).
fn set_peek<'c>(ctx: &'c mut Ctx<'_, '_>, key: &[u8]) -> Result<Option<&'c Set>, OpError> {
    match ctx.peek(key) {
        None => Ok(None),
        Some(e) => e.value.as_set().map(Some),
    }
}

/// The set at `key`, read again by a command that already looked it up (see `Ctx::again`).
fn set_again<'c>(ctx: &'c mut Ctx<'_, '_>, key: &[u8]) -> Result<Option<&'c Set>, OpError> {
    match ctx.value_again(key) {
        None => Ok(None),
        Some(v) => v.as_set().map(Some),
    }
}

/// Runs `f` on the set at `key`, or on a new empty one if the key is missing (WRONGTYPE for
/// another type). A new set is stored only if `f` left it non-empty; an existing one that `f`
/// emptied is deleted.
///
/// `f` answers its result and whether it changed the set, announced as keyspace event
/// `event`.
fn update_set<T>(
    ctx: &mut Ctx<'_, '_>,
    key: &[u8],
    event: &str,
    f: impl FnOnce(&mut Set) -> Result<(T, bool), OpError>,
) -> Result<T, OpError> {
    ctx.update_collection(key, (SET, event), f)
}

fn member_frame(m: Member<'_>) -> Frame {
    Frame::Bulk(m.to_vec())
}

/// The error Redis gives for a count outside ±(2^63-1) (`getRangeLongFromObjectOrReply`).
fn count_range_error() -> OpError {
    OpError::err(
        "value is out of range, value must between -9223372036854775807 and \
         9223372036854775807",
    )
}

// ---------------------------------------------------------------------------------------------
// Members
// ---------------------------------------------------------------------------------------------

/// `SADD key member [member ...]` — how many members were new.
fn cmd_sadd(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let members = args.rest();
    let max = max_intset(ctx);
    update_set(ctx, key, "sadd", |s| {
        let added = members.iter().filter(|m| s.insert(m, max)).count();
        Ok((Frame::Integer(added as i64), added > 0))
    })
}

/// `SREM key member [member ...]` — how many members were removed; the key goes with its
/// last member.
fn cmd_srem(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let members = args.rest();
    // A check, not an access: the update below is the one access Redis counts.
    if set_peek(ctx, key)?.is_none() {
        return Ok(Frame::Integer(0));
    }
    update_set(ctx, key, "srem", |s| {
        let removed = members.iter().filter(|m| s.remove(m)).count();
        Ok((Frame::Integer(removed as i64), removed > 0))
    })
}

/// `SMEMBERS key` — every member, as a set reply (RESP3 `~`; an array in RESP2). An intset
/// lists its members in ascending order.
fn cmd_smembers(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let out = set_ref(ctx, key)?
        .map(|s| s.iter().map(member_frame).collect())
        .unwrap_or_default();
    Ok(Frame::Set(out))
}

/// `SISMEMBER key member` — 1 or 0.
fn cmd_sismember(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let member = args.next_bytes()?;
    let found = set_ref(ctx, key)?.is_some_and(|s| s.contains(member));
    Ok(Frame::Integer(i64::from(found)))
}

/// `SMISMEMBER key member [member ...]` — an array of 1/0, one per member (all 0 for a
/// missing key).
fn cmd_smismember(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let members = args.rest();
    let s = set_ref(ctx, key)?;
    Ok(Frame::Array(
        members
            .iter()
            .map(|m| Frame::Integer(i64::from(s.is_some_and(|s| s.contains(m)))))
            .collect(),
    ))
}

/// `SCARD key` — the number of members (0 for a missing key).
fn cmd_scard(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let n = set_ref(ctx, key)?.map_or(0, Set::len);
    Ok(Frame::Integer(n as i64))
}

/// `SMOVE source destination member` — 1 if moved, 0 if `source` is missing or lacks the
/// member. Order, as Redis 7.0: a missing source answers 0 before any type check; then
/// WRONGTYPE for either key; moving within one set changes nothing and answers whether the
/// member is there. The destination is created if needed; an emptied source is deleted.
fn cmd_smove(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    let member = args.next_bytes()?;
    // Both keys are looked up first, one access each (the destination even when the source
    // is missing), as Redis does; the lookups below are not accesses again.
    let src_type = ctx.value(src).map(|v| v.as_set().map(drop));
    let dst_type = ctx.value(dst).map(|v| v.as_set().map(drop));
    let Some(src_type) = src_type else {
        return Ok(Frame::Integer(0));
    };
    src_type?;
    dst_type.transpose()?;
    if src == dst {
        let found = set_again(ctx, src)?.is_some_and(|s| s.contains(member));
        return Ok(Frame::Integer(i64::from(found)));
    }
    let removed = ctx.update_collection_again(src, (SET, "srem"), |s: &mut Set| {
        let removed = s.remove(member);
        Ok((removed, removed))
    })?;
    if !removed {
        return Ok(Frame::Integer(0));
    }
    let max = max_intset(ctx);
    ctx.update_collection_again(dst, (SET, "sadd"), |s: &mut Set| {
        let added = s.insert(member, max);
        Ok(((), added))
    })?;
    Ok(Frame::Integer(1))
}

// ---------------------------------------------------------------------------------------------
// Random members: SPOP, SRANDMEMBER
// ---------------------------------------------------------------------------------------------

/// SPOP's count, as Redis parses it: not an integer or negative is `ERR value is out of
/// range, must be positive`.
fn positive_count(arg: &[u8]) -> Result<u64, OpError> {
    parse_int(arg)
        .ok()
        .and_then(|n| u64::try_from(n).ok())
        .ok_or(OpError::err("value is out of range, must be positive"))
}

/// Redis 7.0 pops one by one while `(size - count) * SPOP_MOVE_STRATEGY_MUL > count`; past
/// that it draws the members to keep instead and rebuilds the set from them (so a set that
/// loses its last non-integer members that way becomes an intset again).
const SPOP_MOVE_STRATEGY_MUL: u64 = 5;

/// `SPOP key [count]`
///
/// Without a count: one random member removed and returned, or null. With a count (checked
/// before the lookup): a set reply of up to `count` distinct members, removed; count 0 or a
/// missing key gives an empty set. Popping most of a set rebuilds it from the kept members,
/// which picks the encoding afresh (an all-integer remainder becomes an intset again), as in
/// Redis. The key goes with its last member.
fn cmd_spop(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let count = match args.remaining() {
        0 => None,
        1 => Some(positive_count(args.next_bytes()?)?),
        _ => return Err(OpError::Syntax),
    };
    let mut rng = rand::thread_rng();
    let Some(count) = count else {
        if set_peek(ctx, key)?.is_none() {
            return Ok(Frame::Null);
        }
        return update_set(ctx, key, "spop", |s| {
            let Some(m) = s.random_member(|| rng.gen()).map(Member::to_vec) else {
                return Ok((Frame::Null, false));
            };
            s.remove(&m);
            Ok((Frame::Bulk(m), true))
        });
    };
    let Some(size) = set_peek(ctx, key)?.map(Set::len) else {
        return Ok(Frame::Set(Vec::new()));
    };
    if count == 0 {
        return Ok(Frame::Set(Vec::new()));
    }
    let size = size as u64;
    if count >= size {
        let all = set_ref(ctx, key)?
            .map(|s| s.iter().map(member_frame).collect())
            .unwrap_or_default();
        ctx.remove(key);
        ctx.notify(SET, "spop", key);
        ctx.notify(GENERIC, "del", key);
        return Ok(Frame::Set(all));
    }
    let max = max_intset(ctx);
    update_set(ctx, key, "spop", |s| {
        let mut popped = Vec::new();
        // Redis 7.0: one by one while `remaining * SPOP_MOVE_STRATEGY_MUL > count`.
        if (size - count).saturating_mul(SPOP_MOVE_STRATEGY_MUL) > count {
            for _ in 0..count {
                let Some(m) = s.random_member(|| rng.gen()).map(Member::to_vec) else {
                    break;
                };
                s.remove(&m);
                popped.push(Frame::Bulk(m));
            }
        } else {
            // Keep `size - count` random members, rebuilt as a new set; the rest is popped.
            let mut keep = Set::new();
            for _ in 0..size - count {
                let Some(m) = s.random_member(|| rng.gen()).map(Member::to_vec) else {
                    break;
                };
                s.remove(&m);
                keep.insert(&m, max);
            }
            popped = s.iter().map(member_frame).collect();
            *s = keep;
        }
        Ok((Frame::Set(popped), true))
    })
}

/// Redis draws distinct members by removing from a copy while `count * 3 > size`, else by
/// sampling until enough are found.
const SRANDMEMBER_SUB_STRATEGY_MUL: u64 = 3;

/// `SRANDMEMBER key [count]`
///
/// Without a count: one random member, or null. With a count: an array (also in RESP3); a
/// positive count gives min(count, size) distinct members (the whole set, in its order, when
/// count >= size), a negative count |count| independent picks. The count must be an integer
/// within ±(2^63-1), checked before the lookup.
fn cmd_srandmember(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let count = match args.remaining() {
        0 => None,
        1 => {
            let n = parse_int(args.next_bytes()?)?;
            if n == i64::MIN {
                return Err(count_range_error());
            }
            Some(n)
        }
        _ => return Err(OpError::Syntax),
    };
    let mut rng = rand::thread_rng();
    let s = set_ref(ctx, key)?;
    let Some(count) = count else {
        return Ok(s
            .and_then(|s| s.random_member(|| rng.gen()))
            .map_or(Frame::Null, member_frame));
    };
    let Some(s) = s else {
        return Ok(Frame::Array(Vec::new()));
    };
    let size = s.len() as u64;
    if count < 0 {
        let out = (0..count.unsigned_abs())
            .map_while(|_| s.random_member(|| rng.gen()).map(member_frame))
            .collect();
        return Ok(Frame::Array(out));
    }
    let want = count.unsigned_abs();
    if want >= size {
        return Ok(Frame::Array(s.iter().map(member_frame).collect()));
    }
    if want.saturating_mul(SRANDMEMBER_SUB_STRATEGY_MUL) > size {
        let mut all: Vec<Member<'_>> = s.iter().collect();
        for i in 0..want as usize {
            let j = rng.gen_range(i..all.len());
            all.swap(i, j);
        }
        all.truncate(want as usize);
        return Ok(Frame::Array(all.into_iter().map(member_frame).collect()));
    }
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    while (out.len() as u64) < want {
        let Some(m) = s.random_member(|| rng.gen()) else {
            break;
        };
        if seen.insert(m) {
            out.push(member_frame(m));
        }
    }
    Ok(Frame::Array(out))
}

// ---------------------------------------------------------------------------------------------
// Set algebra
// ---------------------------------------------------------------------------------------------

/// The size of the set at each of `keys` (`None` if missing); WRONGTYPE if any key holds
/// another type. Every key is checked, even after a missing one, as Redis does.
fn set_sizes(ctx: &mut Ctx<'_, '_>, keys: &[&[u8]]) -> Result<Vec<Option<usize>>, OpError> {
    // The one access to each input: a read (keyspace hit or miss) in the STORE forms too, as
    // Redis's lookupKeyRead.
    keys.iter()
        .map(|k| match ctx.value_read(k) {
            None => Ok(None),
            Some(v) => Ok(Some(v.as_set()?.len())),
        })
        .collect()
}

/// The members common to every set at `keys` (none if a key is missing), in the order of the
/// smallest set, as Redis replies. Type errors come first.
fn inter(ctx: &mut Ctx<'_, '_>, keys: &[&[u8]]) -> Result<Vec<Vec<u8>>, OpError> {
    let sizes = set_sizes(ctx, keys)?;
    let mut order: Vec<(usize, &[u8])> = Vec::with_capacity(keys.len());
    for (size, key) in sizes.iter().zip(keys) {
        match size {
            Some(n) => order.push((*n, key)),
            None => return Ok(Vec::new()),
        }
    }
    order.sort_by_key(|&(n, _)| n);
    let Some((&(_, first), rest)) = order.split_first() else {
        return Ok(Vec::new());
    };
    let mut out: Vec<Vec<u8>> = set_again(ctx, first)?
        .map(|s| s.iter().map(Member::to_vec).collect())
        .unwrap_or_default();
    for &(_, key) in rest {
        if out.is_empty() {
            break;
        }
        match set_again(ctx, key)? {
            Some(s) => out.retain(|m| s.contains(m)),
            None => out.clear(),
        }
    }
    Ok(out)
}

/// The union of the sets at `keys`, built as Redis builds it (an intset while every member is
/// an integer and the count fits `set-max-intset-entries`).
fn union(ctx: &mut Ctx<'_, '_>, keys: &[&[u8]]) -> Result<Set, OpError> {
    set_sizes(ctx, keys)?;
    let max = max_intset(ctx);
    let mut out = Set::new();
    for k in keys {
        if let Some(s) = set_again(ctx, k)? {
            for m in s.iter() {
                out.insert(&m.as_bytes(), max);
            }
        }
    }
    Ok(out)
}

/// The members of the first set that are in none of the others, built with the algorithm
/// Redis 7.0 picks, so the result's encoding matches too: (1) when the first set is small
/// against the others (half its size times the number of sets is at most their total size),
/// keep each of its members found in no other set; (2) otherwise copy the first set and
/// remove every member of the others (a copy that grew past the intset limit stays a table).
fn diff(ctx: &mut Ctx<'_, '_>, keys: &[&[u8]]) -> Result<Set, OpError> {
    let sizes = set_sizes(ctx, keys)?;
    let max = max_intset(ctx);
    let (Some(&first_key), Some(Some(first_size))) = (keys.first(), sizes.first()) else {
        return Ok(Set::new());
    };
    let present = sizes.iter().flatten();
    let algo_one_work = present.clone().count() * first_size / 2;
    let algo_two_work: usize = present.sum();
    let mut out = Set::new();
    if algo_one_work <= algo_two_work {
        let mut candidates: Vec<Vec<u8>> = set_again(ctx, first_key)?
            .map(|s| s.iter().map(Member::to_vec).collect())
            .unwrap_or_default();
        for k in keys.iter().skip(1) {
            if *k == first_key {
                candidates.clear();
            }
            if let Some(s) = set_again(ctx, k)? {
                candidates.retain(|m| !s.contains(m));
            }
        }
        for m in candidates {
            out.insert(&m, max);
        }
    } else {
        if let Some(s) = set_again(ctx, first_key)? {
            for m in s.iter() {
                out.insert(&m.as_bytes(), max);
            }
        }
        for k in keys.iter().skip(1) {
            if out.is_empty() {
                break;
            }
            if let Some(s) = set_again(ctx, k)? {
                let gone: Vec<Vec<u8>> = s.iter().map(Member::to_vec).collect();
                for m in gone {
                    out.remove(&m);
                }
            }
        }
    }
    Ok(out)
}

fn set_reply(s: &Set) -> Frame {
    Frame::Set(s.iter().map(member_frame).collect())
}

/// Stores `result` at `dst` (replacing any value and its TTL), or deletes `dst` when the
/// result is empty; replies with the cardinality. `event` is the command's keyspace event.
fn store(ctx: &mut Ctx<'_, '_>, dst: &[u8], result: Set, event: &str) -> Frame {
    let n = result.len() as i64;
    if result.is_empty() {
        if ctx.remove(dst).is_some() {
            ctx.notify(GENERIC, "del", dst);
        }
    } else {
        ctx.set(dst, Value::from(result), false);
        ctx.notify(SET, event, dst);
    }
    Frame::Integer(n)
}

/// `SINTER key [key ...]` — the members in every set, as a set reply; empty if any key is
/// missing (after every key's type is checked).
fn cmd_sinter(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let keys = args.rest();
    let out = inter(ctx, keys)?;
    Ok(Frame::Set(out.into_iter().map(Frame::Bulk).collect()))
}

/// `SINTERSTORE destination key [key ...]` — the result's size; the result is stored at
/// `destination` (encoded afresh), or `destination` is deleted when it is empty.
fn cmd_sinterstore(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let dst = args.next_bytes()?;
    let keys = args.rest();
    let members = inter(ctx, keys)?;
    let max = max_intset(ctx);
    let mut result = Set::new();
    for m in &members {
        result.insert(m, max);
    }
    Ok(store(ctx, dst, result, "sinterstore"))
}

/// `SINTERCARD numkeys key [key ...] [LIMIT limit]` — the size of the intersection, at most
/// `limit` when it is positive (0 = no limit). Errors, as Redis: numkeys must be an integer of
/// at least 1 (`ERR numkeys should be greater than 0`) and at most the remaining arguments (`ERR
/// Number of keys can't be greater than number of args`); LIMIT must be a non-negative
/// integer (`ERR LIMIT can't be negative`); anything else after the keys is a syntax error.
fn cmd_sintercard(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let numkeys = numkeys_arg(args.next_bytes()?)?;
    if numkeys > args.remaining() {
        return Err(OpError::err(
            "Number of keys can't be greater than number of args",
        ));
    }
    let all = args.rest();
    let (keys, opts) = all.split_at(numkeys);
    let mut opts = Args::new(opts, 0);
    let mut limit: u64 = 0;
    while !opts.is_empty() {
        if opts.remaining() >= 2 && opts.eat("LIMIT") {
            limit = parse_int(opts.next_bytes()?)
                .ok()
                .and_then(|n| u64::try_from(n).ok())
                .ok_or(OpError::err("LIMIT can't be negative"))?;
        } else {
            return Err(OpError::Syntax);
        }
    }
    let n = inter(ctx, keys)?.len() as u64;
    let n = if limit > 0 { n.min(limit) } else { n };
    Ok(Frame::Integer(n as i64))
}

/// SINTERCARD's numkeys: an integer >= 1, else `ERR numkeys should be greater than 0`.
fn numkeys_arg(arg: &[u8]) -> Result<usize, OpError> {
    parse_int(arg)
        .ok()
        .filter(|&n| n >= 1)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or(OpError::err("numkeys should be greater than 0"))
}

/// SINTERCARD's keys: `numkeys` arguments after it (none if numkeys is invalid; the handler
/// then fails before touching a key).
fn sintercard_keys(argv: &[&[u8]]) -> Vec<usize> {
    let Some(n) = argv.get(1).and_then(|a| numkeys_arg(a).ok()) else {
        return Vec::new();
    };
    if n > argv.len().saturating_sub(2) {
        return Vec::new();
    }
    (2..2 + n).collect()
}

/// `SUNION key [key ...]` — the members of any set, as a set reply.
fn cmd_sunion(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let keys = args.rest();
    Ok(set_reply(&union(ctx, keys)?))
}

/// `SUNIONSTORE destination key [key ...]` — the result's size, stored (or `destination`
/// deleted when empty).
fn cmd_sunionstore(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let dst = args.next_bytes()?;
    let keys = args.rest();
    let result = union(ctx, keys)?;
    Ok(store(ctx, dst, result, "sunionstore"))
}

/// `SDIFF key [key ...]` — the members of the first set in none of the others, as a set reply.
fn cmd_sdiff(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let keys = args.rest();
    Ok(set_reply(&diff(ctx, keys)?))
}

/// `SDIFFSTORE destination key [key ...]` — the result's size, stored (or `destination`
/// deleted when empty).
fn cmd_sdiffstore(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let dst = args.next_bytes()?;
    let keys = args.rest();
    let result = diff(ctx, keys)?;
    Ok(store(ctx, dst, result, "sdiffstore"))
}

// ---------------------------------------------------------------------------------------------
// SSCAN
// ---------------------------------------------------------------------------------------------

/// `SSCAN key cursor [MATCH pattern] [COUNT count]` — `[next cursor, [member, ...]]`.
///
/// As HSCAN: cursor errors first, a missing key answers `[0, []]`, WRONGTYPE, then options.
/// An intset is returned whole with cursor 0; a table is walked bucket by bucket until about
/// COUNT members are gathered, MATCH filtering afterwards.
fn cmd_sscan(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let mut cursor = parse_cursor(args.next_bytes()?)?;
    let Some(s) = set_ref(ctx, key)? else {
        return Ok(scan_reply(0, Vec::new()));
    };
    let o = ScanOptions::parse(args)?;
    let mut items = Vec::new();
    let mut steps = 0;
    let mut gathered: i64 = 0;
    loop {
        cursor = s.scan_step(cursor, |m| {
            gathered += 1;
            let b = m.as_bytes();
            if o.matches(&b) {
                items.push(Frame::Bulk(b.into_owned()));
            }
        });
        steps += 1;
        if cursor == 0 || gathered >= o.count || steps >= o.max_steps() {
            break;
        }
    }
    Ok(scan_reply(cursor, items))
}

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("sadd", -3, WRITE | DENYOOM | FAST, KEY1, cmd_sadd).doc(
        "set",
        "1.0.0",
        "Add one or more members to a set",
    ),
    CommandSpec::new("srem", -3, WRITE | FAST, KEY1, cmd_srem).doc(
        "set",
        "1.0.0",
        "Remove one or more members from a set",
    ),
    CommandSpec::new("smembers", 2, READONLY, KEY1, cmd_smembers).doc(
        "set",
        "1.0.0",
        "Get all the members in a set",
    ),
    CommandSpec::new("sismember", 3, READONLY | FAST, KEY1, cmd_sismember).doc(
        "set",
        "1.0.0",
        "Determine if a given value is a member of a set",
    ),
    CommandSpec::new("smismember", -3, READONLY | FAST, KEY1, cmd_smismember).doc(
        "set",
        "6.2.0",
        "Returns the membership associated with the given elements for a set",
    ),
    CommandSpec::new("scard", 2, READONLY | FAST, KEY1, cmd_scard).doc(
        "set",
        "1.0.0",
        "Get the number of members in a set",
    ),
    CommandSpec::new("spop", -2, WRITE | FAST, KEY1, cmd_spop).doc(
        "set",
        "1.0.0",
        "Remove and return one or multiple random members from a set",
    ),
    CommandSpec::new("srandmember", -2, READONLY, KEY1, cmd_srandmember).doc(
        "set",
        "1.0.0",
        "Get one or multiple random members from a set",
    ),
    CommandSpec::new("smove", 4, WRITE | FAST, keys(1, 2, 1), cmd_smove).doc(
        "set",
        "1.0.0",
        "Move a member from one set to another",
    ),
    CommandSpec::new("sinter", -2, READONLY, ALL_ARGS, cmd_sinter).doc(
        "set",
        "1.0.0",
        "Intersect multiple sets",
    ),
    CommandSpec::new("sintercard", -3, READONLY, NO_KEYS_SPEC, cmd_sintercard)
        .keys_fn(sintercard_keys)
        .doc(
            "set",
            "7.0.0",
            "Intersect multiple sets and return the cardinality of the result",
        ),
    CommandSpec::new("sunion", -2, READONLY, ALL_ARGS, cmd_sunion).doc(
        "set",
        "1.0.0",
        "Add multiple sets",
    ),
    CommandSpec::new("sdiff", -2, READONLY, ALL_ARGS, cmd_sdiff).doc(
        "set",
        "1.0.0",
        "Subtract multiple sets",
    ),
    CommandSpec::new(
        "sinterstore",
        -3,
        WRITE | DENYOOM,
        ALL_ARGS,
        cmd_sinterstore,
    )
    .doc(
        "set",
        "1.0.0",
        "Intersect multiple sets and store the resulting set in a key",
    ),
    CommandSpec::new(
        "sunionstore",
        -3,
        WRITE | DENYOOM,
        ALL_ARGS,
        cmd_sunionstore,
    )
    .doc(
        "set",
        "1.0.0",
        "Add multiple sets and store the resulting set in a key",
    ),
    CommandSpec::new("sdiffstore", -3, WRITE | DENYOOM, ALL_ARGS, cmd_sdiffstore).doc(
        "set",
        "1.0.0",
        "Subtract multiple sets and store the resulting set in a key",
    ),
    CommandSpec::new("sscan", -3, READONLY, KEY1, cmd_sscan).doc(
        "set",
        "2.8.0",
        "Incrementally iterate Set elements",
    ),
];

/// SINTERCARD's row: COMMAND INFO shows `0 0 0` for it (its keys come from `numkeys`).
const NO_KEYS_SPEC: crate::command::KeySpec = crate::command::NO_KEYS;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{bulk, err, int, Session};

    fn set_of(items: &[&str]) -> Frame {
        Frame::Set(items.iter().map(|s| bulk(s)).collect())
    }

    /// A set or array reply's members, sorted.
    fn sorted(f: Frame) -> Vec<String> {
        let (Frame::Set(items) | Frame::Array(items)) = f else {
            panic!("not a collection: {f:?}");
        };
        let mut out: Vec<String> = items
            .into_iter()
            .map(|i| match i {
                Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
                other => panic!("not a bulk: {other:?}"),
            })
            .collect();
        out.sort();
        out
    }

    fn encoding(s: &mut Session, key: &str) -> Frame {
        s.run(&["OBJECT", "ENCODING", key])
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .filter_map(|i| s.get(i..i + 2))
            .filter_map(|h| u8::from_str_radix(h, 16).ok())
            .collect()
    }

    const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

    #[test]
    fn members() {
        let mut s = Session::new();
        assert_eq!(s.run(&["SADD", "s", "3", "1", "2", "1"]), int(3));
        assert_eq!(s.run(&["SADD", "s", "2", "4"]), int(1));
        // An intset lists its members in ascending order.
        assert_eq!(s.run(&["SMEMBERS", "s"]), set_of(&["1", "2", "3", "4"]));
        assert_eq!(s.run(&["SMEMBERS", "nokey"]), set_of(&[]));
        assert_eq!(s.run(&["SISMEMBER", "s", "2"]), int(1));
        assert_eq!(s.run(&["SISMEMBER", "s", "02"]), int(0));
        assert_eq!(
            s.run(&["SMISMEMBER", "s", "1", "9"]),
            Frame::Array(vec![int(1), int(0)])
        );
        assert_eq!(
            s.run(&["SMISMEMBER", "nokey", "1"]),
            Frame::Array(vec![int(0)])
        );
        assert_eq!(s.run(&["SCARD", "s"]), int(4));
        assert_eq!(s.run(&["SCARD", "nokey"]), int(0));
        assert_eq!(s.run(&["SREM", "s", "1", "2", "x"]), int(2));
        assert_eq!(s.run(&["SREM", "s", "3", "4"]), int(2));
        assert_eq!(s.run(&["EXISTS", "s"]), int(0));
        assert_eq!(s.run(&["SREM", "s", "3"]), int(0));
    }

    #[test]
    fn wrong_type_everywhere() {
        let mut s = Session::new();
        s.run(&["SET", "str", "x"]);
        s.run(&["SADD", "s", "1"]);
        for cmd in [
            &["SADD", "str", "a"][..],
            &["SREM", "str", "a"],
            &["SMEMBERS", "str"],
            &["SISMEMBER", "str", "a"],
            &["SMISMEMBER", "str", "a"],
            &["SCARD", "str"],
            &["SPOP", "str"],
            &["SPOP", "str", "0"],
            &["SRANDMEMBER", "str"],
            &["SRANDMEMBER", "str", "1"],
            &["SMOVE", "str", "s", "1"],
            &["SMOVE", "s", "str", "1"],
            &["SINTER", "nokey", "str"],
            &["SINTERCARD", "2", "nokey", "str"],
            &["SUNION", "s", "str"],
            &["SDIFF", "nokey", "str"],
            &["SINTERSTORE", "d", "nokey", "str"],
            &["SUNIONSTORE", "d", "str"],
            &["SDIFFSTORE", "d", "s", "str"],
            &["SSCAN", "str", "0"],
        ] {
            assert_eq!(s.run(cmd), err(WRONGTYPE), "{cmd:?}");
        }
        // SMOVE from a missing source answers 0 before any type check (Redis 7.0).
        assert_eq!(s.run(&["SMOVE", "nokey", "str", "1"]), int(0));
        assert_eq!(s.run(&["TYPE", "s"]), Frame::simple("set"));
    }

    #[test]
    fn encodings_follow_the_thresholds() {
        let mut s = Session::new();
        for i in 0..512 {
            s.run(&["SADD", "s", &i.to_string()]);
        }
        assert_eq!(encoding(&mut s, "s"), bulk("intset"));
        s.run(&["SADD", "s", "512"]);
        assert_eq!(encoding(&mut s, "s"), bulk("hashtable"));
        for (member, want) in [
            ("-9223372036854775808", "intset"),
            ("9223372036854775808", "hashtable"),
            ("-0", "hashtable"),
            ("007", "hashtable"),
            ("+1", "hashtable"),
            (" 1", "hashtable"),
        ] {
            s.run(&["DEL", "t"]);
            s.run(&["SADD", "t", "1", member]);
            assert_eq!(encoding(&mut s, "t"), bulk(want), "{member}");
        }
        // One-way: removing the word keeps the table.
        s.run(&["SREM", "t", " 1"]);
        assert_eq!(encoding(&mut s, "t"), bulk("hashtable"));
        // Built whole, a set picks its encoding afresh.
        s.run(&["SUNIONSTORE", "u", "t"]);
        assert_eq!(encoding(&mut s, "u"), bulk("intset"));
        s.run(&["CONFIG", "SET", "set-max-intset-entries", "2"]);
        s.run(&["SADD", "v", "1", "2"]);
        assert_eq!(encoding(&mut s, "v"), bulk("intset"));
        s.run(&["SADD", "v", "3"]);
        assert_eq!(encoding(&mut s, "v"), bulk("hashtable"));
    }

    #[test]
    fn spop_and_srandmember() {
        let mut s = Session::new();
        assert_eq!(s.run(&["SPOP", "nokey"]), Frame::Null);
        assert_eq!(s.run(&["SPOP", "nokey", "3"]), set_of(&[]));
        assert_eq!(
            s.run(&["SPOP", "nokey", "-1"]),
            err("ERR value is out of range, must be positive")
        );
        assert_eq!(
            s.run(&["SPOP", "nokey", "x"]),
            err("ERR value is out of range, must be positive")
        );
        assert_eq!(s.run(&["SPOP", "nokey", "1", "2"]), err("ERR syntax error"));
        s.run(&[
            "SADD", "s", "a", "1", "2", "3", "4", "5", "6", "7", "8", "9",
        ]);
        s.run(&["SREM", "s", "a"]);
        assert_eq!(s.run(&["SPOP", "s", "0"]), set_of(&[]));
        // 2 left of 9: popped one by one (2 * 5 > 7), so the table stays (Redis 7.0.15).
        assert_eq!(sorted(s.run(&["SPOP", "s", "7"])).len(), 7);
        assert_eq!(s.run(&["SCARD", "s"]), int(2));
        assert_eq!(encoding(&mut s, "s"), bulk("hashtable"));
        s.run(&["DEL", "s"]);
        s.run(&[
            "SADD", "s", "a", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13",
            "14", "15", "16", "17", "18", "19",
        ]);
        s.run(&["SREM", "s", "a"]);
        // 2 left of 19 (2 * 5 <= 17): the rest is rebuilt, all integers, so an intset again.
        assert_eq!(sorted(s.run(&["SPOP", "s", "17"])).len(), 17);
        assert_eq!(s.run(&["SCARD", "s"]), int(2));
        assert_eq!(encoding(&mut s, "s"), bulk("intset"));
        let Frame::Bulk(one) = s.run(&["SPOP", "s"]) else {
            panic!("no member");
        };
        assert_eq!(
            s.run(&["SISMEMBER", "s", &String::from_utf8_lossy(&one)]),
            int(0)
        );
        assert_eq!(sorted(s.run(&["SPOP", "s", "5"])).len(), 1);
        assert_eq!(s.run(&["EXISTS", "s"]), int(0));

        assert_eq!(s.run(&["SRANDMEMBER", "nokey"]), Frame::Null);
        assert_eq!(s.run(&["SRANDMEMBER", "nokey", "2"]), Frame::Array(vec![]));
        assert_eq!(
            s.run(&["SRANDMEMBER", "nokey", "-9223372036854775808"]),
            err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
        );
        s.run(&["SADD", "t", "x", "y", "z"]);
        assert_eq!(sorted(s.run(&["SRANDMEMBER", "t", "5"])), ["x", "y", "z"]);
        let two = sorted(s.run(&["SRANDMEMBER", "t", "2"]));
        assert!(two.len() == 2 && two.first() != two.get(1));
        assert_eq!(sorted(s.run(&["SRANDMEMBER", "t", "-7"])).len(), 7);
        assert_eq!(s.run(&["SRANDMEMBER", "t", "0"]), Frame::Array(vec![]));
        assert_eq!(s.run(&["SCARD", "t"]), int(3));
    }

    #[test]
    fn smove() {
        let mut s = Session::new();
        s.run(&["SADD", "a", "1", "2"]);
        assert_eq!(s.run(&["SMOVE", "a", "a", "1"]), int(1));
        assert_eq!(s.run(&["SMOVE", "a", "a", "9"]), int(0));
        assert_eq!(s.run(&["SMOVE", "a", "b", "9"]), int(0));
        assert_eq!(s.run(&["EXISTS", "b"]), int(0));
        assert_eq!(s.run(&["SMOVE", "a", "b", "1"]), int(1));
        assert_eq!(s.run(&["SMOVE", "a", "b", "2"]), int(1));
        assert_eq!(s.run(&["EXISTS", "a"]), int(0));
        assert_eq!(s.run(&["SMEMBERS", "b"]), set_of(&["1", "2"]));
    }

    #[test]
    fn algebra() {
        let mut s = Session::new();
        s.run(&["SADD", "a", "1", "2", "3", "4", "x"]);
        s.run(&["SADD", "b", "3", "4", "5", "y"]);
        s.run(&["SADD", "c", "4", "x", "y"]);
        assert_eq!(sorted(s.run(&["SINTER", "a", "b"])), ["3", "4"]);
        assert_eq!(sorted(s.run(&["SINTER", "a", "b", "c"])), ["4"]);
        assert_eq!(s.run(&["SINTER", "a", "nokey"]), set_of(&[]));
        assert_eq!(
            sorted(s.run(&["SUNION", "a", "nokey", "c"])),
            ["1", "2", "3", "4", "x", "y"]
        );
        assert_eq!(sorted(s.run(&["SDIFF", "a", "b", "c"])), ["1", "2"]);
        assert_eq!(s.run(&["SDIFF", "nokey", "a"]), set_of(&[]));
        assert_eq!(s.run(&["SDIFF", "a", "a"]), set_of(&[]));
        assert_eq!(s.run(&["SINTERSTORE", "d", "a", "b"]), int(2));
        assert_eq!(encoding(&mut s, "d"), bulk("intset"));
        assert_eq!(s.run(&["SINTERSTORE", "d", "a", "nokey"]), int(0));
        assert_eq!(s.run(&["EXISTS", "d"]), int(0));
        s.run(&["SET", "str", "v"]);
        s.run(&["EXPIRE", "str", "100"]);
        assert_eq!(s.run(&["SUNIONSTORE", "str", "a", "c"]), int(6));
        assert_eq!(s.run(&["TTL", "str"]), int(-1));
        assert_eq!(s.run(&["SDIFFSTORE", "e", "a", "b"]), int(3));
        assert_eq!(sorted(s.run(&["SMEMBERS", "e"])), ["1", "2", "x"]);
        // SINTERCARD.
        assert_eq!(s.run(&["SINTERCARD", "2", "a", "b"]), int(2));
        assert_eq!(s.run(&["SINTERCARD", "2", "a", "b", "LIMIT", "1"]), int(1));
        assert_eq!(s.run(&["SINTERCARD", "2", "a", "b", "LIMIT", "0"]), int(2));
        assert_eq!(
            s.run(&["SINTERCARD", "1", "a", "LIMIT", "1", "LIMIT", "3"]),
            int(3)
        );
        for (cmd, e) in [
            (
                &["SINTERCARD", "0", "a"][..],
                "ERR numkeys should be greater than 0",
            ),
            (
                &["SINTERCARD", "x", "a"],
                "ERR numkeys should be greater than 0",
            ),
            (
                &["SINTERCARD", "2", "a"],
                "ERR Number of keys can't be greater than number of args",
            ),
            (
                &["SINTERCARD", "1", "a", "LIMIT", "-1"],
                "ERR LIMIT can't be negative",
            ),
            (
                &["SINTERCARD", "1", "a", "LIMIT", "x"],
                "ERR LIMIT can't be negative",
            ),
            (&["SINTERCARD", "1", "a", "LIMIT"], "ERR syntax error"),
            (&["SINTERCARD", "1", "a", "FOO"], "ERR syntax error"),
        ] {
            assert_eq!(s.run(cmd), err(e), "{cmd:?}");
        }
        assert_eq!(
            sintercard_keys(&[b"sintercard", b"2", b"a", b"b", b"LIMIT", b"1"]),
            [2, 3]
        );
        assert!(sintercard_keys(&[b"sintercard", b"9", b"a"]).is_empty());
        assert!(sintercard_keys(&[b"sintercard", b"-1", b"a"]).is_empty());
    }

    #[test]
    fn sdiffstore_keeps_redis_algorithm_encodings() {
        let mut s = Session::new();
        let add = |s: &mut Session, key: &str, range: std::ops::Range<i32>| {
            let members: Vec<String> = range.map(|i| i.to_string()).collect();
            let mut cmd = vec!["SADD", key];
            cmd.extend(members.iter().map(String::as_str));
            s.run(&cmd);
        };
        add(&mut s, "big", 0..600);
        add(&mut s, "o1", 0..100);
        add(&mut s, "o2", 100..200);
        add(&mut s, "most", 10..600);
        // Copy-then-remove (3 * 600 / 2 > 600 + 100 + 100): the copy went past the intset
        // limit, so 400 integers stay a table (redis-server 7.0.15 agrees).
        assert_eq!(s.run(&["SDIFFSTORE", "d", "big", "o1", "o2"]), int(400));
        assert_eq!(encoding(&mut s, "d"), bulk("hashtable"));
        // Filter (2 * 600 / 2 <= 600 + 590): built from the survivors only.
        assert_eq!(s.run(&["SDIFFSTORE", "e", "big", "most"]), int(10));
        assert_eq!(encoding(&mut s, "e"), bulk("intset"));
    }

    #[test]
    fn sscan() {
        let mut s = Session::new();
        assert_eq!(
            s.run(&["SSCAN", "nokey", "0", "junk"]),
            Frame::Array(vec![bulk("0"), Frame::Array(vec![])])
        );
        s.run(&["SADD", "i", "10", "2", "33"]);
        assert_eq!(
            s.run(&["SSCAN", "i", "5", "MATCH", "*3*", "COUNT", "1"]),
            Frame::Array(vec![bulk("0"), Frame::Array(vec![bulk("33")])])
        );
        assert_eq!(
            s.run(&["SSCAN", "i", "0", "COUNT", "0"]),
            err("ERR syntax error")
        );
        for i in 0..700 {
            s.run(&["SADD", "t", &format!("m{i}")]);
        }
        let mut seen = std::collections::BTreeSet::new();
        let mut cursor = "0".to_string();
        for _ in 0..10_000 {
            let Frame::Array(reply) = s.run(&["SSCAN", "t", &cursor]) else {
                panic!("not an array");
            };
            let [Frame::Bulk(c), Frame::Array(items)] = reply.as_slice() else {
                panic!("bad reply");
            };
            seen.extend(items.iter().map(|i| format!("{i:?}")));
            cursor = String::from_utf8_lossy(c).into_owned();
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 700);
    }

    #[test]
    fn dump_restore_with_redis_payloads() {
        let mut s = Session::new();
        // From redis-server 7.0.15 `DUMP`: `SADD si 1 2 -3 70000` (intset, type 11) and
        // `SADD sh a b 1` then `SREM sh a` (hashtable, type 2, members "b" and 1).
        let intset =
            hex("0b180400000004000000fdffffff0100000002000000701101000a0015ef637b140fcd64");
        let table = hex("02030162c00101610a0069f402e5f760831a");
        let restore = |s: &mut Session, key: &[u8], p: &[u8]| {
            s.engine.execute(&mut s.client, &[b"RESTORE", key, b"0", p])
        };
        assert_eq!(restore(&mut s, b"a", &intset), Frame::OK);
        assert_eq!(
            s.run(&["SMEMBERS", "a"]),
            set_of(&["-3", "1", "2", "70000"])
        );
        assert_eq!(encoding(&mut s, "a"), bulk("intset"));
        assert_eq!(s.run(&["DUMP", "a"]), Frame::Bulk(intset.clone()));
        assert_eq!(restore(&mut s, b"b", &table), Frame::OK);
        assert_eq!(sorted(s.run(&["SMEMBERS", "b"])), ["1", "a", "b"]);
        assert_eq!(encoding(&mut s, "b"), bulk("hashtable"));
        // Converted on load by the current limit.
        s.run(&["CONFIG", "SET", "set-max-intset-entries", "3"]);
        assert_eq!(restore(&mut s, b"c", &intset), Frame::OK);
        assert_eq!(encoding(&mut s, "c"), bulk("hashtable"));
        let Frame::Bulk(payload) = s.run(&["DUMP", "c"]) else {
            panic!("no payload");
        };
        s.run(&["CONFIG", "SET", "set-max-intset-entries", "512"]);
        assert_eq!(restore(&mut s, b"d", &payload), Frame::OK);
        assert_eq!(encoding(&mut s, "d"), bulk("intset"));
        assert_eq!(s.run(&["SCARD", "d"]), int(4));
    }

    #[test]
    fn table_rows_mirror_redis() {
        let find = |name: &str| COMMANDS.iter().find(|c| c.name == name);
        for (name, arity, flags) in [
            ("sadd", -3, WRITE | DENYOOM | FAST),
            ("srem", -3, WRITE | FAST),
            ("smembers", 2, READONLY),
            ("spop", -2, WRITE | FAST),
            ("srandmember", -2, READONLY),
            ("smove", 4, WRITE | FAST),
            ("sintercard", -3, READONLY),
            ("sinterstore", -3, WRITE | DENYOOM),
            ("sscan", -3, READONLY),
        ] {
            assert!(
                find(name).is_some_and(|r| r.arity == arity && r.flags == flags),
                "{name}"
            );
        }
        assert!(find("smove").is_some_and(|r| r.keys == keys(1, 2, 1)));
        assert!(find("sintercard").is_some_and(|r| r.keys_fn.is_some()));
        assert!(COMMANDS
            .iter()
            .all(|c| c.group == "set" && !c.summary.is_empty()));
    }
}
