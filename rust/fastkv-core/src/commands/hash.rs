//! Hash commands: HSET and friends, the HINCRBY pair, HRANDFIELD and HSCAN — Redis 7.0's
//! `t_hash.c` surface, with its reply types and error texts.
//!
//! Values are [`Hash`]es (`listpack` -> `hashtable` past `hash-max-listpack-entries` fields or
//! a field/value longer than `hash-max-listpack-value`, one-way; see [`crate::types::hash`]).
//! The thresholds are read from the config at each write, as Redis reads them.
//!
//! A key never holds an empty hash: writers create the hash only when they add to it, and
//! HDEL deletes the key with its last field. Every command that finds another type answers
//! WRONGTYPE; argument errors that Redis detects before the lookup (HINCRBY's increment,
//! HRANDFIELD's count, HSCAN's cursor) come first here too.

use crate::command::{parse_int, Args, CommandSpec, DENYOOM, FAST, KEY1, READONLY, WRITE};
use crate::commands::keys::parse_cursor;
use crate::dispatch::Ctx;
use crate::error::OpError;
use crate::glob::glob_match;
use crate::notify::HASH;
use crate::types::hash::{HashLimits, HashStr};
use crate::types::ldouble::LongDouble;
use crate::types::Hash;
use fastkv_resp::request::parse_i64_strict;
use fastkv_resp::Frame;
use rand::Rng;

// ---------------------------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------------------------

fn limits(ctx: &Ctx<'_, '_>) -> HashLimits {
    HashLimits::from_config(&ctx.engine.config.read())
}

/// The hash at `key`: `None` if missing, WRONGTYPE if another type.
fn hash_ref<'c>(ctx: &'c mut Ctx<'_, '_>, key: &[u8]) -> Result<Option<&'c Hash>, OpError> {
    match ctx.value(key) {
        None => Ok(None),
        Some(v) => v.as_hash().map(Some),
    }
}

/// Runs `f` on the hash at `key`, or on a new empty one if the key is missing (WRONGTYPE for
/// another type). A new hash is stored only if `f` left it non-empty; an existing one that
/// `f` emptied is deleted, so no key ever holds an empty hash.
///
/// `f` answers its result and whether it changed the hash, announced as keyspace event
/// `event`.
fn update_hash<T>(
    ctx: &mut Ctx<'_, '_>,
    key: &[u8],
    event: &str,
    f: impl FnOnce(&mut Hash) -> Result<(T, bool), OpError>,
) -> Result<T, OpError> {
    ctx.update_collection(key, (HASH, event), f)
}

fn bulk(b: impl AsRef<[u8]>) -> Frame {
    Frame::Bulk(b.as_ref().to_vec())
}

// ---------------------------------------------------------------------------------------------
// Setting and getting fields
// ---------------------------------------------------------------------------------------------

/// HSET / HMSET: `key field value [field value ...]`; returns how many fields were new. An
/// odd number of field/value arguments is an arity error naming the command.
fn hset_generic(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>, name: &str) -> Result<i64, OpError> {
    let key = args.next_bytes()?;
    let pairs = args.rest();
    if pairs.is_empty() || !pairs.len().is_multiple_of(2) {
        return Err(OpError::Arity(name.to_string()));
    }
    let lim = limits(ctx);
    update_hash(ctx, key, "hset", |h| {
        let mut added = 0;
        for pair in pairs.chunks_exact(2) {
            if h.set(pair[0], pair[1], &lim) {
                added += 1;
            }
        }
        Ok((added, true))
    })
}

/// `HSET key field value [field value ...]` — the number of fields added (updates count 0).
fn cmd_hset(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    hset_generic(ctx, args, "hset").map(Frame::Integer)
}

/// `HMSET key field value [field value ...]` — OK (the pre-4.0 form of HSET).
fn cmd_hmset(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    hset_generic(ctx, args, "hmset").map(|_| Frame::OK)
}

/// `HSETNX key field value` — 1 if the field was set, 0 if it already existed (then nothing
/// changes, not even the encoding).
fn cmd_hsetnx(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    let value = args.next_bytes()?;
    if hash_ref(ctx, key)?.is_some_and(|h| h.contains(field)) {
        return Ok(Frame::Integer(0));
    }
    let lim = limits(ctx);
    update_hash(ctx, key, "hset", |h| {
        h.set(field, value, &lim);
        Ok((Frame::Integer(1), true))
    })
}

/// `HGET key field` — the value, or null.
fn cmd_hget(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    Ok(match hash_ref(ctx, key)?.and_then(|h| h.get(field)) {
        Some(v) => bulk(v),
        None => Frame::Null,
    })
}

/// `HMGET key field [field ...]` — an array with each value or null (all null for a missing
/// key).
fn cmd_hmget(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let fields = args.rest();
    let h = hash_ref(ctx, key)?;
    Ok(Frame::Array(
        fields
            .iter()
            .map(|f| match h.and_then(|h| h.get(f)) {
                Some(v) => bulk(v),
                None => Frame::Null,
            })
            .collect(),
    ))
}

/// `HDEL key field [field ...]` — how many fields were removed; the key goes with its last
/// field.
fn cmd_hdel(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let fields = args.rest();
    // A check, not an access: the update below is the one access Redis counts.
    if ctx
        .peek(key)
        .map(|e| e.value.as_hash())
        .transpose()?
        .is_none()
    {
        return Ok(Frame::Integer(0));
    }
    update_hash(ctx, key, "hdel", |h| {
        let mut removed = 0;
        for f in fields {
            if h.remove(f) {
                removed += 1;
                if h.is_empty() {
                    break;
                }
            }
        }
        Ok((Frame::Integer(removed), removed > 0))
    })
}

/// `HEXISTS key field` — 1 or 0.
fn cmd_hexists(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    let found = hash_ref(ctx, key)?.is_some_and(|h| h.contains(field));
    Ok(Frame::Integer(i64::from(found)))
}

/// `HLEN key` — the number of fields (0 for a missing key).
fn cmd_hlen(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let n = hash_ref(ctx, key)?.map_or(0, Hash::len);
    Ok(Frame::Integer(n as i64))
}

/// `HSTRLEN key field` — the length of the value (0 if the key or field is missing).
fn cmd_hstrlen(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    let n = hash_ref(ctx, key)?
        .and_then(|h| h.get(field))
        .map_or(0, |v| v.len());
    Ok(Frame::Integer(n as i64))
}

/// `HGETALL key` — a map (RESP3) / flat field, value array (RESP2), in the hash's order.
fn cmd_hgetall(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let pairs = hash_ref(ctx, key)?
        .map(|h| h.iter().map(|(f, v)| (bulk(f), bulk(v))).collect())
        .unwrap_or_default();
    Ok(Frame::Map(pairs))
}

/// `HKEYS key` — every field.
fn cmd_hkeys(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let out = hash_ref(ctx, key)?
        .map(|h| h.iter().map(|(f, _)| bulk(f)).collect())
        .unwrap_or_default();
    Ok(Frame::Array(out))
}

/// `HVALS key` — every value.
fn cmd_hvals(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let out = hash_ref(ctx, key)?
        .map(|h| h.iter().map(|(_, v)| bulk(v)).collect())
        .unwrap_or_default();
    Ok(Frame::Array(out))
}

// ---------------------------------------------------------------------------------------------
// Counters
// ---------------------------------------------------------------------------------------------

/// `HINCRBY key field increment` — the new value. The increment is parsed first (`ERR value
/// is not an integer or out of range`), then the key is read (WRONGTYPE); a stored value that
/// is not a canonical integer is `ERR hash value is not an integer`; overflow is `ERR
/// increment or decrement would overflow`. A missing field counts as 0.
fn cmd_hincrby(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    let incr = args.next_i64()?;
    let lim = limits(ctx);
    update_hash(ctx, key, "hincrby", |h| {
        let current = match h.get(field) {
            Some(v) => parse_i64_strict(&v).ok_or(OpError::err("hash value is not an integer"))?,
            None => 0,
        };
        let next = current.checked_add(incr).ok_or(OpError::Overflow)?;
        h.set(field, next.to_string().as_bytes(), &lim);
        Ok((Frame::Integer(next), true))
    })
}

/// `HINCRBYFLOAT key field increment` — the new value as a bulk string, computed in C
/// `long double` and printed as Redis prints it (see [`crate::types::ldouble`]). Order, as
/// Redis: the increment must be a float (`ERR value is not a valid float`) and finite (`ERR
/// value is NaN or Infinity`), then WRONGTYPE, then the stored value must be a float (`ERR
/// hash value is not a float`), then `ERR increment would produce NaN or Infinity`. A long
/// result can convert the hash to `hashtable` (Redis 7.0 checks lengths on every set).
fn cmd_hincrbyfloat(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    let incr = LongDouble::parse(args.next_bytes()?).ok_or(OpError::NotFloat)?;
    if !incr.is_finite() {
        return Err(OpError::err("value is NaN or Infinity"));
    }
    let lim = limits(ctx);
    update_hash(ctx, key, "hincrbyfloat", |h| {
        let current = match h.get(field) {
            Some(v) => LongDouble::parse(&v).ok_or(OpError::err("hash value is not a float"))?,
            None => LongDouble::parse(b"0").ok_or(OpError::NotFloat)?,
        };
        let text = (current + incr)
            .to_human()
            .ok_or(OpError::err("increment would produce NaN or Infinity"))?;
        h.set(field, &text, &lim);
        Ok((Frame::Bulk(text), true))
    })
}

// ---------------------------------------------------------------------------------------------
// HRANDFIELD
// ---------------------------------------------------------------------------------------------

/// `HRANDFIELD key [count [WITHVALUES]]`
///
/// Without a count: one random field, or null. With a count: an array; a positive count gives
/// distinct fields (the whole hash, in its order, when count >= its size), a negative count
/// gives |count| independent picks (repeats allowed). WITHVALUES adds each value: flat in
/// RESP2, as 2-element arrays in RESP3. Errors before the lookup, as Redis: the count must be
/// an integer in ±(2^63-1); with WITHVALUES |count| must not exceed 2^62-1 (`ERR value is out
/// of range`); anything after WITHVALUES is a syntax error.
fn cmd_hrandfield(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    if args.is_empty() {
        let mut rng = rand::thread_rng();
        return Ok(match hash_ref(ctx, key)? {
            Some(h) => h
                .random_pair(|| rng.gen())
                .map_or(Frame::Null, |(f, _)| bulk(f)),
            None => Frame::Null,
        });
    }
    let count = parse_int(args.next_bytes()?)?;
    if count == i64::MIN {
        return Err(OpError::err(
            "value is out of range, value must between -9223372036854775807 and \
             9223372036854775807",
        ));
    }
    let with_values = match args.remaining() {
        0 => false,
        1 if args.eat("WITHVALUES") => true,
        _ => return Err(OpError::Syntax),
    };
    if with_values && count.unsigned_abs() > (i64::MAX / 2) as u64 {
        return Err(OpError::err("value is out of range"));
    }
    let resp3 = ctx.client.resp3();
    let Some(h) = hash_ref(ctx, key)? else {
        return Ok(Frame::Array(Vec::new()));
    };
    let picks = random_pairs(h, count);
    let out = if !with_values {
        picks.into_iter().map(|(f, _)| bulk(f)).collect()
    } else if resp3 {
        picks
            .into_iter()
            .map(|(f, v)| Frame::Array(vec![bulk(f), bulk(v)]))
            .collect()
    } else {
        picks
            .into_iter()
            .flat_map(|(f, v)| [bulk(f), bulk(v)])
            .collect()
    };
    Ok(Frame::Array(out))
}

/// HRANDFIELD's picks: for `count >= 0`, min(count, len) distinct pairs (all of them, in
/// order, when count covers the hash); for `count < 0`, |count| independent picks.
fn random_pairs(h: &Hash, count: i64) -> Vec<(HashStr<'_>, HashStr<'_>)> {
    let mut rng = rand::thread_rng();
    let len = h.len();
    if count < 0 {
        let n = count.unsigned_abs();
        // Bounded by the reply itself: Redis builds the same number of elements.
        return (0..n).map_while(|_| h.random_pair(|| rng.gen())).collect();
    }
    let want = usize::try_from(count).unwrap_or(usize::MAX);
    if want >= len {
        return h.iter().collect();
    }
    if want.saturating_mul(3) > len {
        // Many of them: a partial Fisher-Yates shuffle of all pairs.
        let mut all: Vec<(HashStr<'_>, HashStr<'_>)> = h.iter().collect();
        for i in 0..want {
            let j = rng.gen_range(i..all.len());
            all.swap(i, j);
        }
        all.truncate(want);
        return all;
    }
    // Few of a big hash: draw until `want` distinct fields (few retries expected).
    let mut seen = std::collections::HashSet::with_capacity(want);
    let mut out = Vec::with_capacity(want);
    while out.len() < want {
        let Some((f, v)) = h.random_pair(|| rng.gen()) else {
            break;
        };
        if seen.insert(f) {
            out.push((f, v));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// HSCAN (and the scan options SSCAN shares)
// ---------------------------------------------------------------------------------------------

/// Redis's default COUNT for the SCAN family.
const SCAN_DEFAULT_COUNT: i64 = 10;
/// Buckets visited per requested element at most, so a sparse table cannot stall a call
/// (Redis's `maxiterations = count * 10`).
const SCAN_STEPS_PER_ELEMENT: i64 = 10;

/// HSCAN/SSCAN's options after the cursor: `[MATCH pattern] [COUNT count]`, any order,
/// repeatable (the last wins). COUNT must be an integer (`ERR value is not an integer or out
/// of range`) and at least 1 (syntax error); anything else, or an option without its value,
/// is a syntax error. `MATCH *` means no pattern.
pub(crate) struct ScanOptions<'a> {
    pub count: i64,
    pub pattern: Option<&'a [u8]>,
}

impl<'a> ScanOptions<'a> {
    pub(crate) fn parse(args: &mut Args<'a>) -> Result<Self, OpError> {
        let mut o = ScanOptions {
            count: SCAN_DEFAULT_COUNT,
            pattern: None,
        };
        while let Some(opt) = args.peek() {
            if args.remaining() < 2 {
                return Err(OpError::Syntax);
            }
            args.next_bytes()?;
            if opt.eq_ignore_ascii_case(b"COUNT") {
                o.count = args.next_i64()?;
                if o.count < 1 {
                    return Err(OpError::Syntax);
                }
            } else if opt.eq_ignore_ascii_case(b"MATCH") {
                o.pattern = Some(args.next_bytes()?).filter(|p| *p != b"*");
            } else {
                return Err(OpError::Syntax);
            }
        }
        Ok(o)
    }

    pub(crate) fn matches(&self, s: &[u8]) -> bool {
        self.pattern.is_none_or(|p| glob_match(p, s, false))
    }

    /// The most table buckets one call may visit.
    pub(crate) fn max_steps(&self) -> i64 {
        self.count.saturating_mul(SCAN_STEPS_PER_ELEMENT)
    }
}

/// `[cursor, [elements...]]`, the SCAN family's reply.
pub(crate) fn scan_reply(cursor: u64, items: Vec<Frame>) -> Frame {
    Frame::Array(vec![
        Frame::Bulk(cursor.to_string().into_bytes()),
        Frame::Array(items),
    ])
}

/// `HSCAN key cursor [MATCH pattern] [COUNT count]` — `[next cursor, [field, value, ...]]`.
///
/// Order, as Redis: the cursor must parse (`ERR invalid cursor`); a missing key answers
/// `[0, []]` without looking at the options; WRONGTYPE; then the options. A `listpack` hash
/// is returned whole with cursor 0 whatever the cursor. A `hashtable` is walked bucket by
/// bucket until about COUNT elements (fields and values both count, as in Redis) are
/// gathered; MATCH filters fields afterwards.
fn cmd_hscan(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let mut cursor = parse_cursor(args.next_bytes()?)?;
    let Some(h) = hash_ref(ctx, key)? else {
        return Ok(scan_reply(0, Vec::new()));
    };
    let o = ScanOptions::parse(args)?;
    let mut items = Vec::new();
    let mut steps = 0;
    let mut gathered: i64 = 0;
    loop {
        cursor = h.scan_step(cursor, |f, v| {
            gathered += 2;
            if o.matches(f) {
                items.push(bulk(f));
                items.push(bulk(v));
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
    CommandSpec::new("hset", -4, WRITE | DENYOOM | FAST, KEY1, cmd_hset).doc(
        "hash",
        "2.0.0",
        "Set the string value of a hash field",
    ),
    CommandSpec::new("hsetnx", 4, WRITE | DENYOOM | FAST, KEY1, cmd_hsetnx).doc(
        "hash",
        "2.0.0",
        "Set the value of a hash field, only if the field does not exist",
    ),
    CommandSpec::new("hget", 3, READONLY | FAST, KEY1, cmd_hget).doc(
        "hash",
        "2.0.0",
        "Get the value of a hash field",
    ),
    CommandSpec::new("hmget", -3, READONLY | FAST, KEY1, cmd_hmget).doc(
        "hash",
        "2.0.0",
        "Get the values of all the given hash fields",
    ),
    CommandSpec::new("hmset", -4, WRITE | DENYOOM | FAST, KEY1, cmd_hmset).doc(
        "hash",
        "2.0.0",
        "Set multiple hash fields to multiple values",
    ),
    CommandSpec::new("hgetall", 2, READONLY, KEY1, cmd_hgetall).doc(
        "hash",
        "2.0.0",
        "Get all the fields and values in a hash",
    ),
    CommandSpec::new("hdel", -3, WRITE | FAST, KEY1, cmd_hdel).doc(
        "hash",
        "2.0.0",
        "Delete one or more hash fields",
    ),
    CommandSpec::new("hexists", 3, READONLY | FAST, KEY1, cmd_hexists).doc(
        "hash",
        "2.0.0",
        "Determine if a hash field exists",
    ),
    CommandSpec::new("hlen", 2, READONLY | FAST, KEY1, cmd_hlen).doc(
        "hash",
        "2.0.0",
        "Get the number of fields in a hash",
    ),
    CommandSpec::new("hstrlen", 3, READONLY | FAST, KEY1, cmd_hstrlen).doc(
        "hash",
        "3.2.0",
        "Get the length of the value of a hash field",
    ),
    CommandSpec::new("hkeys", 2, READONLY, KEY1, cmd_hkeys).doc(
        "hash",
        "2.0.0",
        "Get all the fields in a hash",
    ),
    CommandSpec::new("hvals", 2, READONLY, KEY1, cmd_hvals).doc(
        "hash",
        "2.0.0",
        "Get all the values in a hash",
    ),
    CommandSpec::new("hincrby", 4, WRITE | DENYOOM | FAST, KEY1, cmd_hincrby).doc(
        "hash",
        "2.0.0",
        "Increment the integer value of a hash field by the given number",
    ),
    CommandSpec::new(
        "hincrbyfloat",
        4,
        WRITE | DENYOOM | FAST,
        KEY1,
        cmd_hincrbyfloat,
    )
    .doc(
        "hash",
        "2.6.0",
        "Increment the float value of a hash field by the given amount",
    ),
    CommandSpec::new("hrandfield", -2, READONLY, KEY1, cmd_hrandfield).doc(
        "hash",
        "6.2.0",
        "Get one or multiple random fields from a hash",
    ),
    CommandSpec::new("hscan", -3, READONLY, KEY1, cmd_hscan).doc(
        "hash",
        "2.8.0",
        "Incrementally iterate hash fields and associated values",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{bulk, err, int, Session};

    fn arr(items: &[&str]) -> Frame {
        Frame::Array(items.iter().map(|s| bulk(s)).collect())
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

    fn run_bytes(s: &mut Session, argv: &[&[u8]]) -> Frame {
        s.engine.execute(&mut s.client, argv)
    }

    const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

    #[test]
    fn set_get_delete() {
        let mut s = Session::new();
        assert_eq!(
            s.run(&["HSET", "h", "f"]),
            err("ERR wrong number of arguments for 'hset' command")
        );
        assert_eq!(
            s.run(&["HMSET", "h", "f", "v", "g"]),
            err("ERR wrong number of arguments for 'hmset' command")
        );
        assert_eq!(s.run(&["HSET", "h", "a", "1", "b", "2", "a", "3"]), int(2));
        assert_eq!(s.run(&["HMSET", "h", "c", "4"]), Frame::OK);
        assert_eq!(s.run(&["HGET", "h", "a"]), bulk("3"));
        assert_eq!(s.run(&["HGET", "h", "x"]), Frame::Null);
        assert_eq!(s.run(&["HGET", "nokey", "x"]), Frame::Null);
        assert_eq!(
            s.run(&["HMGET", "h", "a", "x", "c"]),
            Frame::Array(vec![bulk("3"), Frame::Null, bulk("4")])
        );
        assert_eq!(s.run(&["HSETNX", "h", "a", "9"]), int(0));
        assert_eq!(s.run(&["HSETNX", "h", "d", "9"]), int(1));
        assert_eq!(s.run(&["HLEN", "h"]), int(4));
        assert_eq!(s.run(&["HSTRLEN", "h", "d"]), int(1));
        assert_eq!(s.run(&["HEXISTS", "h", "d"]), int(1));
        assert_eq!(s.run(&["HEXISTS", "h", "z"]), int(0));
        // Listpack order is insertion order, as in Redis.
        assert_eq!(s.run(&["HKEYS", "h"]), arr(&["a", "b", "c", "d"]));
        assert_eq!(s.run(&["HVALS", "h"]), arr(&["3", "2", "4", "9"]));
        assert_eq!(
            s.run(&["HGETALL", "h"]),
            Frame::Map(vec![
                (bulk("a"), bulk("3")),
                (bulk("b"), bulk("2")),
                (bulk("c"), bulk("4")),
                (bulk("d"), bulk("9")),
            ])
        );
        assert_eq!(s.run(&["HDEL", "h", "a", "a", "zz", "b"]), int(2));
        assert_eq!(s.run(&["HDEL", "h", "c", "d"]), int(2));
        assert_eq!(s.run(&["EXISTS", "h"]), int(0));
        assert_eq!(s.run(&["HGETALL", "h"]), Frame::Map(vec![]));
        assert_eq!(s.run(&["HDEL", "h", "c"]), int(0));
    }

    #[test]
    fn wrong_type_everywhere() {
        let mut s = Session::new();
        s.run(&["SET", "str", "x"]);
        for cmd in [
            &["HSET", "str", "a", "b"][..],
            &["HSETNX", "str", "a", "b"],
            &["HGET", "str", "a"],
            &["HMGET", "str", "a"],
            &["HGETALL", "str"],
            &["HDEL", "str", "a"],
            &["HEXISTS", "str", "a"],
            &["HLEN", "str"],
            &["HSTRLEN", "str", "a"],
            &["HKEYS", "str"],
            &["HVALS", "str"],
            &["HINCRBY", "str", "a", "1"],
            &["HINCRBYFLOAT", "str", "a", "1"],
            &["HRANDFIELD", "str"],
            &["HRANDFIELD", "str", "1"],
            &["HSCAN", "str", "0"],
        ] {
            assert_eq!(s.run(cmd), err(WRONGTYPE), "{cmd:?}");
        }
        // Argument errors Redis finds before the lookup come first.
        assert_eq!(
            s.run(&["HINCRBY", "str", "a", "x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            s.run(&["HINCRBYFLOAT", "str", "a", "inf"]),
            err("ERR value is NaN or Infinity")
        );
        assert_eq!(s.run(&["HSCAN", "str", "x"]), err("ERR invalid cursor"));
        s.run(&["HSET", "h", "a", "1"]);
        assert_eq!(s.run(&["GET", "h"]), err(WRONGTYPE));
        assert_eq!(s.run(&["TYPE", "h"]), Frame::simple("hash"));
    }

    #[test]
    fn counters() {
        let mut s = Session::new();
        assert_eq!(s.run(&["HINCRBY", "h", "n", "5"]), int(5));
        assert_eq!(s.run(&["HINCRBY", "h", "n", "-7"]), int(-2));
        s.run(&[
            "HSET",
            "h",
            "s",
            "abc",
            "z",
            "01",
            "max",
            "9223372036854775807",
        ]);
        for (f, e) in [("s", "not an integer"), ("z", "not an integer")] {
            assert_eq!(
                s.run(&["HINCRBY", "h", f, "1"]),
                err(&format!("ERR hash value is {e}"))
            );
        }
        assert_eq!(
            s.run(&["HINCRBY", "h", "max", "1"]),
            err("ERR increment or decrement would overflow")
        );
        assert_eq!(
            s.run(&["HINCRBYFLOAT", "h", "s", "1"]),
            err("ERR hash value is not a float")
        );
        assert_eq!(
            s.run(&["HINCRBYFLOAT", "h", "s", "abc"]),
            err("ERR value is not a valid float")
        );
        assert_eq!(s.run(&["HINCRBYFLOAT", "h", "f", "0.1"]), bulk("0.1"));
        assert_eq!(s.run(&["HINCRBYFLOAT", "h", "f", "0.2"]), bulk("0.3"));
        assert_eq!(s.run(&["HINCRBYFLOAT", "h", "n", "1.5"]), bulk("-0.5"));
        s.run(&["HSET", "h", "huge", "1e4932"]);
        assert_eq!(
            s.run(&["HINCRBYFLOAT", "h", "huge", "1e4932"]),
            err("ERR increment would produce NaN or Infinity")
        );
        // Nothing was created by failed commands.
        assert_eq!(
            s.run(&["HINCRBYFLOAT", "new", "f", "nan"]),
            err("ERR value is not a valid float")
        );
        assert_eq!(s.run(&["EXISTS", "new"]), int(0));
    }

    #[test]
    fn encodings_follow_the_thresholds() {
        let mut s = Session::new();
        for i in 0..512 {
            s.run(&["HSET", "h", &format!("f{i}"), "v"]);
        }
        assert_eq!(encoding(&mut s, "h"), bulk("listpack"));
        s.run(&["HSET", "h", "one-more", "v"]);
        assert_eq!(encoding(&mut s, "h"), bulk("hashtable"));
        s.run(&["HDEL", "h", "one-more", "f1"]);
        assert_eq!(encoding(&mut s, "h"), bulk("hashtable"));
        let long = "x".repeat(65);
        s.run(&["HSET", "v", "a", &long[..64]]);
        assert_eq!(encoding(&mut s, "v"), bulk("listpack"));
        // HSETNX on an existing field changes nothing, not even the encoding.
        s.run(&["HSETNX", "v", "a", &long]);
        assert_eq!(encoding(&mut s, "v"), bulk("listpack"));
        s.run(&["HSET", "v", "a", &long]);
        assert_eq!(encoding(&mut s, "v"), bulk("hashtable"));
        // Limits come from the config at each write; HINCRBY's result counts too (7.0).
        s.run(&["CONFIG", "SET", "hash-max-listpack-value", "3"]);
        s.run(&["HSET", "q", "a", "1"]);
        assert_eq!(encoding(&mut s, "q"), bulk("listpack"));
        s.run(&["HINCRBY", "q", "a", "1000"]);
        assert_eq!(encoding(&mut s, "q"), bulk("hashtable"));
        s.run(&["CONFIG", "SET", "hash-max-ziplist-entries", "1"]);
        s.run(&["HSET", "r", "a", "1", "b", "2"]);
        assert_eq!(encoding(&mut s, "r"), bulk("hashtable"));
    }

    #[test]
    fn hrandfield() {
        let mut s = Session::new();
        assert_eq!(s.run(&["HRANDFIELD", "nokey"]), Frame::Null);
        assert_eq!(s.run(&["HRANDFIELD", "nokey", "3"]), Frame::Array(vec![]));
        s.run(&["HSET", "h", "a", "1", "b", "2", "c", "3"]);
        assert_eq!(
            s.run(&["HRANDFIELD", "h", "-9223372036854775808"]),
            err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
        );
        assert_eq!(
            s.run(&["HRANDFIELD", "h", "4611686018427387904", "WITHVALUES"]),
            err("ERR value is out of range")
        );
        assert_eq!(
            s.run(&["HRANDFIELD", "h", "1", "WITHVALUE"]),
            err("ERR syntax error")
        );
        assert_eq!(
            s.run(&["HRANDFIELD", "h", "1", "WITHVALUES", "x"]),
            err("ERR syntax error")
        );
        assert_eq!(s.run(&["HRANDFIELD", "h", "0"]), Frame::Array(vec![]));
        // Count >= size: the whole hash in order.
        assert_eq!(s.run(&["HRANDFIELD", "h", "5"]), arr(&["a", "b", "c"]));
        assert_eq!(
            s.run(&["HRANDFIELD", "h", "3", "WITHVALUES"]),
            arr(&["a", "1", "b", "2", "c", "3"])
        );
        let Frame::Array(distinct) = s.run(&["HRANDFIELD", "h", "2"]) else {
            panic!("not an array");
        };
        assert_eq!(distinct.len(), 2);
        assert_ne!(distinct.first(), distinct.get(1));
        let Frame::Array(picks) = s.run(&["HRANDFIELD", "h", "-10"]) else {
            panic!("not an array");
        };
        assert_eq!(picks.len(), 10);
        // RESP3: WITHVALUES pairs are 2-element arrays.
        s.client.proto = 3;
        let Frame::Array(pairs) = s.run(&["HRANDFIELD", "h", "-2", "WITHVALUES"]) else {
            panic!("not an array");
        };
        assert_eq!(pairs.len(), 2);
        assert!(pairs
            .iter()
            .all(|p| matches!(p, Frame::Array(kv) if kv.len() == 2)));
    }

    #[test]
    fn hscan() {
        let mut s = Session::new();
        assert_eq!(
            s.run(&["HSCAN", "nokey", "0", "junk"]),
            Frame::Array(vec![bulk("0"), Frame::Array(vec![])])
        );
        s.run(&["HSET", "h", "a", "1", "ab", "2", "b", "3"]);
        // A listpack comes back whole, cursor 0, whatever the cursor and COUNT.
        assert_eq!(
            s.run(&["HSCAN", "h", "7", "COUNT", "1", "MATCH", "a*"]),
            Frame::Array(vec![bulk("0"), arr(&["a", "1", "ab", "2"])])
        );
        for (args, e) in [
            (&["COUNT", "0"][..], "ERR syntax error"),
            (
                &["COUNT", "x"],
                "ERR value is not an integer or out of range",
            ),
            (&["COUNT"], "ERR syntax error"),
            (&["FOO", "1"], "ERR syntax error"),
        ] {
            let mut cmd = vec!["HSCAN", "h", "0"];
            cmd.extend_from_slice(args);
            assert_eq!(s.run(&cmd), err(e), "{args:?}");
        }
        // A table: a full iteration sees every field exactly as stored.
        for i in 0..1000 {
            s.run(&["HSET", "t", &format!("f{i}"), &i.to_string()]);
        }
        let mut seen = std::collections::BTreeMap::new();
        let mut cursor = "0".to_string();
        for _ in 0..10_000 {
            let Frame::Array(reply) = s.run(&["HSCAN", "t", &cursor, "COUNT", "20"]) else {
                panic!("not an array");
            };
            let [Frame::Bulk(c), Frame::Array(items)] = reply.as_slice() else {
                panic!("bad reply");
            };
            for kv in items.chunks(2) {
                if let [Frame::Bulk(k), Frame::Bulk(v)] = kv {
                    seen.insert(k.clone(), v.clone());
                }
            }
            cursor = String::from_utf8_lossy(c).into_owned();
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 1000);
        assert_eq!(seen.get(&b"f7"[..]), Some(&b"7".to_vec()));
    }

    #[test]
    fn dump_restore_with_redis_payloads() {
        let mut s = Session::new();
        // From redis-server 7.0.15 `DUMP`: `HSET hl f1 v1 f2 123` (listpack, type 16) and a
        // 2-field hash written while `hash-max-listpack-entries` was 1 (hashtable, type 4).
        let listpack = hex("10151500000004008266310382763103826632037b01ff0a004ac585b69f9c1e83");
        let table = hex("04020266310276310266320276320a001ed3d645cdba65de");
        assert_eq!(
            run_bytes(&mut s, &[b"RESTORE", b"a", b"0", &listpack]),
            Frame::OK
        );
        assert_eq!(
            s.run(&["HGETALL", "a"]),
            Frame::Map(vec![(bulk("f1"), bulk("v1")), (bulk("f2"), bulk("123"))])
        );
        assert_eq!(encoding(&mut s, "a"), bulk("listpack"));
        // Our DUMP of a listpack is byte-identical to Redis's.
        assert_eq!(s.run(&["DUMP", "a"]), Frame::Bulk(listpack.clone()));
        // Redis converts on load: a small type-4 hash becomes a listpack.
        assert_eq!(
            run_bytes(&mut s, &[b"RESTORE", b"b", b"0", &table]),
            Frame::OK
        );
        assert_eq!(encoding(&mut s, "b"), bulk("listpack"));
        assert_eq!(s.run(&["HGET", "b", "f2"]), bulk("v2"));
        // ...and a listpack past the entry limit becomes a table.
        s.run(&["CONFIG", "SET", "hash-max-listpack-entries", "1"]);
        assert_eq!(
            run_bytes(&mut s, &[b"RESTORE", b"c", b"0", &listpack]),
            Frame::OK
        );
        assert_eq!(encoding(&mut s, "c"), bulk("hashtable"));
        // A table's DUMP restores to the same content.
        let Frame::Bulk(payload) = s.run(&["DUMP", "c"]) else {
            panic!("no payload");
        };
        assert_eq!(
            run_bytes(&mut s, &[b"RESTORE", b"d", b"0", &payload]),
            Frame::OK
        );
        assert_eq!(s.run(&["HGET", "d", "f1"]), bulk("v1"));
        assert_eq!(s.run(&["HLEN", "d"]), int(2));
    }

    #[test]
    fn table_rows_mirror_redis() {
        let find = |name: &str| COMMANDS.iter().find(|c| c.name == name);
        for (name, arity, flags) in [
            ("hset", -4, WRITE | DENYOOM | FAST),
            ("hsetnx", 4, WRITE | DENYOOM | FAST),
            ("hget", 3, READONLY | FAST),
            ("hmget", -3, READONLY | FAST),
            ("hgetall", 2, READONLY),
            ("hdel", -3, WRITE | FAST),
            ("hincrbyfloat", 4, WRITE | DENYOOM | FAST),
            ("hrandfield", -2, READONLY),
            ("hscan", -3, READONLY),
        ] {
            assert!(
                find(name).is_some_and(|r| r.arity == arity && r.flags == flags && r.keys == KEY1),
                "{name}"
            );
        }
        assert!(COMMANDS
            .iter()
            .all(|c| c.group == "hash" && !c.summary.is_empty()));
    }
}
