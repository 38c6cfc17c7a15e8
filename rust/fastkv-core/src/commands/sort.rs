//! SORT and SORT_RO — Redis 7.0's `sort.c`: sort the elements of a list, set or sorted set
//! numerically or (ALPHA) bytewise, optionally by the values of other keys (`BY weight_*`,
//! `BY h_*->field`), page with LIMIT, project with GET (`#` is the element itself), and (SORT
//! only) STORE the result as a list.
//!
//! Locking: BY and GET patterns name keys that only exist once the elements are known, so no
//! key spec can describe them. Both rows carry the `ALL_KEYS` flag: the dispatcher locks every
//! shard, in order, for every SORT. The flag is per row, so this costs SORTs without patterns
//! too (a plain `SORT key` takes 64 locks instead of one) — a deliberate trade: SORT is a slow
//! command anyway (O(n log n) plus a reply per element), and correctness (the pattern keys are
//! read consistently, nothing touches an unlocked shard) beats the lock overhead. The key spec
//! still names the source key (and STORE's destination, via `keys_fn`) for COMMAND GETKEYS.
//!
//! Lists plug in at two places: [`load_elements`] (a list source) and [`store_list`] (STORE's
//! destination, always a list).

use crate::command::{Args, CommandSpec, ALL_KEYS, DENYOOM, KEY1, READONLY, WRITE};
use crate::commands::zset::{c_str, strtod};
use crate::dispatch::Ctx;
use crate::error::OpError;
use crate::notify::{GENERIC, LIST};
use crate::types::{List, Value};
use fastkv_resp::Frame;
use std::cmp::Ordering;

/// `One or more scores can't be converted into double`: a numeric sort met a weight that is
/// not a number.
const NOT_DOUBLE: OpError = OpError::err("One or more scores can't be converted into double");

/// SORT's options, parsed.
struct SortOptions<'a> {
    desc: bool,
    alpha: bool,
    /// (offset, count) as given.
    limit: Option<(i64, i64)>,
    by: Option<&'a [u8]>,
    /// A BY pattern without `*` (conventionally `nosort`) was given: keep the source order.
    /// Sticky, as in Redis: a later BY with a `*` replaces `by` but sorting stays off.
    dontsort: bool,
    gets: Vec<&'a [u8]>,
    store: Option<&'a [u8]>,
}

fn parse_options<'a>(args: &mut Args<'a>, readonly: bool) -> Result<SortOptions<'a>, OpError> {
    let mut o = SortOptions {
        desc: false,
        alpha: false,
        limit: None,
        by: None,
        dontsort: false,
        gets: Vec::new(),
        store: None,
    };
    while let Some(opt) = args.peek() {
        let left = args.remaining() - 1;
        let is = |s: &str| opt.eq_ignore_ascii_case(s.as_bytes());
        args.next_bytes()?;
        if is("ASC") {
            o.desc = false;
        } else if is("DESC") {
            o.desc = true;
        } else if is("ALPHA") {
            o.alpha = true;
        } else if is("LIMIT") && left >= 2 {
            o.limit = Some((args.next_i64()?, args.next_i64()?));
        } else if is("STORE") && left >= 1 && !readonly {
            o.store = Some(args.next_bytes()?);
        } else if is("BY") && left >= 1 {
            let p = args.next_bytes()?;
            o.dontsort |= !p.contains(&b'*');
            o.by = Some(p);
        } else if is("GET") && left >= 1 {
            o.gets.push(args.next_bytes()?);
        } else {
            return Err(OpError::Syntax);
        }
    }
    Ok(o)
}

/// Redis's `lookupKeyByPattern`: `#` is the element itself; otherwise the first `*` is
/// replaced by the element to name a key, and a `->field` after the `*` reads that hash field.
/// Missing keys, wrong types and patterns without `*` give None.
fn lookup_by_pattern(ctx: &mut Ctx<'_, '_>, pattern: &[u8], elem: &[u8]) -> Option<Vec<u8>> {
    if pattern == b"#" {
        return Some(elem.to_vec());
    }
    let star = pattern.iter().position(|&c| c == b'*')?;
    let after = pattern.get(star + 1..).unwrap_or(&[]);
    let arrow = after.windows(2).position(|w| w == b"->");
    let (key_tail, field) = match arrow {
        Some(i) if i + 2 < after.len() => (&after[..i], Some(&after[i + 2..])),
        _ => (after, None),
    };
    let mut key = Vec::with_capacity(pattern.len() + elem.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(key_tail);
    // Counted as a keyspace hit or miss (Redis's lookupKeyRead), SORT ... STORE too.
    let v = ctx.value_read(&key)?;
    match field {
        Some(f) => v.as_hash().ok()?.get(f).map(|v| v.to_vec()),
        None => v.as_str().ok().map(|s| s.to_vec()),
    }
}

/// The source's elements in their natural order (list order, set iteration order, sorted set
/// ascending), or WRONGTYPE. A missing key is empty.
///
/// A sorted set is converted to `skiplist` on the way, whatever its size and whatever the
/// options (SORT_RO too): Redis 7.0's SORT does so before reading it, and `OBJECT ENCODING`
/// shows it afterwards.
fn load_elements(ctx: &mut Ctx<'_, '_>, key: &[u8]) -> Result<(Vec<Vec<u8>>, bool), OpError> {
    let is_set;
    let elems = match ctx.value_read(key) {
        None => {
            is_set = false;
            Vec::new()
        }
        Some(Value::Set(s)) => {
            is_set = true;
            s.iter().map(|m| m.to_vec()).collect()
        }
        Some(Value::ZSet(z)) => {
            is_set = false;
            z.convert_to_skiplist();
            z.iter().map(|it| it.member.to_vec()).collect()
        }
        // List order; DESC with BY nosort then reverses it, as for sorted sets.
        Some(Value::List(l)) => {
            is_set = false;
            l.iter().map(|e| e.to_vec()).collect()
        }
        Some(_) => return Err(OpError::WrongType),
    };
    Ok((elems, is_set))
}

/// STORE's destination: a list of `values` replacing whatever was there (TTL included), or
/// the key deleted when there are none. Returns the number stored.
fn store_list(ctx: &mut Ctx<'_, '_>, dst: &[u8], values: Vec<Vec<u8>>) -> Result<Frame, OpError> {
    let n = values.len();
    if values.is_empty() {
        if ctx.remove(dst).is_some() {
            ctx.notify(GENERIC, "del", dst);
        }
        return Ok(Frame::Integer(0));
    }
    ctx.set(dst, Value::from(List::from_items(values)), false);
    ctx.notify(LIST, "sortstore", dst);
    // Redis counts one change per stored element (`set` counted one).
    ctx.dirty += n as u64 - 1;
    Ok(Frame::Integer(n as i64))
}

/// A sort key: the number or bytes an element is compared by.
enum Weight {
    Num(f64),
    Bytes(Option<Vec<u8>>),
}

/// `SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC]
/// [ALPHA] [STORE destination]`
///
/// The sorted elements (or, with GET, the looked-up values, null for missing ones); with STORE
/// the number of values stored. Numeric sorts break ties bytewise by element; a weight that is
/// not a number is `One or more scores can't be converted into double`. Options are checked
/// before the key's type, as in Redis.
fn cmd_sort(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    sort_generic(ctx, args, false)
}

/// `SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC | DESC] [ALPHA]` —
/// SORT without STORE.
fn cmd_sort_ro(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    sort_generic(ctx, args, true)
}

fn sort_generic(
    ctx: &mut Ctx<'_, '_>,
    args: &mut Args<'_>,
    readonly: bool,
) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let mut o = parse_options(args, readonly)?;
    let (mut elems, is_set) = load_elements(ctx, key)?;

    // A set's iteration order is not deterministic: with STORE, sort it (as Redis does, for
    // replication's sake).
    if o.dontsort && is_set && o.store.is_some() {
        o.dontsort = false;
        o.alpha = true;
        o.by = None;
    }
    if o.dontsort {
        if o.desc && !is_set {
            elems.reverse();
        }
    } else {
        let mut weighted: Vec<(Vec<u8>, Weight)> = Vec::with_capacity(elems.len());
        for e in elems {
            let byval = match o.by {
                Some(p) => lookup_by_pattern(ctx, p, &e),
                None => Some(e.clone()),
            };
            let w = if o.alpha {
                Weight::Bytes(if o.by.is_some() { byval } else { None })
            } else {
                match byval {
                    Some(b) => Weight::Num(parse_sort_number(&b).ok_or(NOT_DOUBLE)?),
                    None => Weight::Num(0.0),
                }
            };
            weighted.push((e, w));
        }
        let by_pattern = o.by.is_some();
        weighted.sort_by(|(e1, w1), (e2, w2)| {
            let cmp = match (w1, w2) {
                (Weight::Num(a), Weight::Num(b)) => match a.partial_cmp(b) {
                    Some(Ordering::Equal) | None => e1.cmp(e2),
                    Some(c) => c,
                },
                (Weight::Bytes(a), Weight::Bytes(b)) if by_pattern => a.cmp(b),
                _ => e1.cmp(e2),
            };
            if o.desc {
                cmp.reverse()
            } else {
                cmp
            }
        });
        elems = weighted.into_iter().map(|(e, _)| e).collect();
    }

    // LIMIT, as Redis clamps it.
    let len = elems.len() as i64;
    let (start, end) = match o.limit {
        None => (0, len - 1),
        Some((off, count)) => {
            let mut start = off.max(0);
            let mut end = if count < 0 {
                len - 1
            } else {
                start.saturating_add(count) - 1
            };
            if start >= len {
                start = len - 1;
                end = len - 2;
            }
            if end >= len {
                end = len - 1;
            }
            (start, end)
        }
    };
    let picked: Vec<Vec<u8>> = if start < 0 || end < start {
        Vec::new()
    } else {
        elems
            .into_iter()
            .skip(start as usize)
            .take((end - start + 1) as usize)
            .collect()
    };

    if let Some(dst) = o.store {
        let mut values = Vec::new();
        for e in &picked {
            if o.gets.is_empty() {
                values.push(e.clone());
            }
            for g in &o.gets {
                values.push(lookup_by_pattern(ctx, g, e).unwrap_or_default());
            }
        }
        return store_list(ctx, dst, values);
    }
    let mut out = Vec::new();
    for e in picked {
        if o.gets.is_empty() {
            out.push(Frame::Bulk(e));
            continue;
        }
        for g in &o.gets {
            out.push(Frame::opt_bulk(lookup_by_pattern(ctx, g, &e)));
        }
    }
    Ok(Frame::Array(out))
}

/// A numeric weight as SORT reads it with C's `strtod`: leading spaces, hex floats and the
/// empty string (0) pass; it must reach the end of the C string (bytes up to a NUL), not be
/// NaN and not set `ERANGE` (overflow, underflow, an inexact subnormal). None otherwise.
fn parse_sort_number(b: &[u8]) -> Option<f64> {
    let c = c_str(b);
    let r = strtod(c);
    (r.len == c.len() && !r.erange && !r.value.is_nan()).then_some(r.value)
}

/// SORT's keys: the source, and STORE's destination when given.
fn sort_keys(argv: &[&[u8]]) -> Vec<usize> {
    let mut out = vec![1];
    let mut i = 2;
    while i < argv.len() {
        let a = argv[i];
        let left = argv.len() - i - 1;
        if a.eq_ignore_ascii_case(b"STORE") && left >= 1 {
            out.push(i + 1);
            i += 2;
        } else if a.eq_ignore_ascii_case(b"LIMIT") && left >= 2 {
            i += 3;
        } else if (a.eq_ignore_ascii_case(b"BY") || a.eq_ignore_ascii_case(b"GET")) && left >= 1 {
            i += 2;
        } else {
            i += 1;
        }
    }
    out.retain(|&k| k < argv.len());
    out
}

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("sort", -2, WRITE | DENYOOM | ALL_KEYS, KEY1, cmd_sort)
        .keys_fn(sort_keys)
        .acl(crate::command::ACL_SET | crate::command::ACL_SORTEDSET | crate::command::ACL_LIST)
        .doc(
            "generic",
            "1.0.0",
            "Sort the elements in a list, set or sorted set",
        ),
    CommandSpec::new("sort_ro", -2, READONLY | ALL_KEYS, KEY1, cmd_sort_ro)
        .acl(crate::command::ACL_SET | crate::command::ACL_SORTEDSET | crate::command::ACL_LIST)
        .doc(
            "generic",
            "7.0.0",
            "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
        ),
];

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use fastkv_resp::Frame;

    fn arr(items: &[&str]) -> Frame {
        Frame::Array(items.iter().map(|s| bulk(s)).collect())
    }

    #[test]
    fn sort_converts_sorted_sets_to_skiplist() {
        let mut s = Session::new();
        let enc = |s: &mut Session, k: &str| s.run(&["OBJECT", "ENCODING", k]);
        s.run(&["ZADD", "z", "1", "a", "2", "b"]);
        // Option errors come first and leave the set alone.
        assert_eq!(
            s.run(&["SORT", "z", "LIMIT", "x", "1"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(s.run(&["SORT", "z", "FOO"]), err("ERR syntax error"));
        assert_eq!(enc(&mut s, "z"), bulk("listpack"));
        // Any SORT that reads it converts it, even one that then fails, and SORT_RO.
        assert_eq!(
            s.run(&["SORT", "z"]),
            err("ERR One or more scores can't be converted into double")
        );
        assert_eq!(enc(&mut s, "z"), bulk("skiplist"));
        s.run(&["ZADD", "z2", "1", "a"]);
        assert_eq!(s.run(&["SORT_RO", "z2", "BY", "nosort"]), arr(&["a"]));
        assert_eq!(enc(&mut s, "z2"), bulk("skiplist"));
        assert_eq!(s.run(&["ZRANGE", "z", "0", "-1"]), arr(&["a", "b"]));
    }

    #[test]
    fn store_writes_a_list() {
        let mut s = Session::new();
        s.run(&["SADD", "s", "3", "1", "2"]);
        s.run(&["SET", "dst", "x", "EX", "100"]);
        assert_eq!(s.run(&["SORT", "s", "DESC", "STORE", "dst"]), int(3));
        assert_eq!(s.run(&["TYPE", "dst"]), Frame::Simple("list".into()));
        assert_eq!(s.run(&["TTL", "dst"]), int(-1));
        assert_eq!(s.run(&["LRANGE", "dst", "0", "-1"]), arr(&["3", "2", "1"]));
        // A list source keeps its order with BY nosort; DESC reverses it.
        assert_eq!(
            s.run(&["SORT", "dst", "BY", "nosort", "DESC"]),
            arr(&["1", "2", "3"])
        );
        // A set with BY nosort and STORE is sorted (ALPHA) for determinism.
        s.run(&["SADD", "t", "b", "a", "c"]);
        assert_eq!(s.run(&["SORT", "t", "BY", "nosort", "STORE", "d2"]), int(3));
        assert_eq!(s.run(&["LRANGE", "d2", "0", "-1"]), arr(&["a", "b", "c"]));
        // Nothing to store deletes the destination.
        assert_eq!(s.run(&["SORT", "nokey", "STORE", "dst"]), int(0));
        assert_eq!(s.run(&["EXISTS", "dst"]), int(0));
    }

    #[test]
    fn by_without_star_turns_sorting_off_for_good() {
        let mut s = Session::new();
        s.run(&["ZADD", "z", "3", "x", "1", "y", "2", "w"]);
        s.run(&["SET", "w_x", "1"]);
        s.run(&["SET", "w_y", "3"]);
        s.run(&["SET", "w_w", "2"]);
        assert_eq!(s.run(&["SORT", "z", "BY", "w_*"]), arr(&["x", "w", "y"]));
        assert_eq!(
            s.run(&["SORT", "z", "BY", "nosort", "BY", "w_*"]),
            arr(&["y", "w", "x"])
        );
        assert_eq!(
            s.run(&["SORT", "z", "BY", "w_*", "BY", "nosort", "DESC"]),
            arr(&["x", "w", "y"])
        );
    }

    #[test]
    fn numeric_weights_read_like_strtod() {
        let mut s = Session::new();
        s.run(&["SADD", "s", "a", "b"]);
        s.run(&["SET", "w_b", "1"]);
        // Accepted: leading space, hex, the empty string (0), an exact hex subnormal.
        for (w, want) in [
            (" 5", ["b", "a"]),
            ("0x10", ["b", "a"]),
            ("", ["a", "b"]),
            ("0x1p-1074", ["a", "b"]),
            ("inf", ["b", "a"]),
        ] {
            s.run(&["SET", "w_a", w]);
            assert_eq!(s.run(&["SORT", "s", "BY", "w_*"]), arr(&want), "{w:?}");
        }
        // Refused: trailing junk, NaN, and any range error (overflow, underflow, inexact
        // subnormal).
        for w in ["5 ", "nan", "1e400", "1e-400", "1e-310", "x"] {
            s.run(&["SET", "w_a", w]);
            assert_eq!(
                s.run(&["SORT", "s", "BY", "w_*"]),
                err("ERR One or more scores can't be converted into double"),
                "{w:?}"
            );
        }
    }

    #[test]
    fn sort_sets_and_zsets() {
        let mut s = Session::new();
        s.run(&["SADD", "st", "3", "1", "2"]);
        s.run(&["ZADD", "z", "1", "c", "2", "b", "3", "a"]);
        s.run(&["SET", "w_1", "c"]);
        s.run(&["SET", "w_2", "b"]);
        s.run(&["HSET", "h_3", "f", "a"]);
        s.run(&["SET", "x", "1"]);
        assert_eq!(s.run(&["SORT", "st"]), arr(&["1", "2", "3"]));
        assert_eq!(
            s.run(&["SORT", "st", "DESC", "LIMIT", "1", "5"]),
            arr(&["2", "1"])
        );
        assert_eq!(
            s.run(&["SORT", "st", "BY", "w_*", "ALPHA"]),
            arr(&["3", "2", "1"])
        );
        assert_eq!(
            s.run(&["SORT", "st", "BY", "w_*"]),
            err("ERR One or more scores can't be converted into double")
        );
        assert_eq!(s.run(&["SORT", "st", "LIMIT", "-5", "1"]), arr(&["1"]));
        assert_eq!(s.run(&["SORT", "st", "LIMIT", "10", "1"]), arr(&[]));
        assert_eq!(
            s.run(&["SORT", "st", "LIMIT", "1"]),
            err("ERR syntax error")
        );
        assert_eq!(
            s.run(&["SORT_RO", "st", "STORE", "d"]),
            err("ERR syntax error")
        );
        assert_eq!(
            s.run(&["SORT", "x"]),
            err("WRONGTYPE Operation against a key holding the wrong kind of value")
        );
        assert_eq!(s.run(&["SORT", "x", "foo"]), err("ERR syntax error"));
        assert_eq!(
            s.run(&["SORT", "st", "GET", "#", "GET", "w_*", "GET", "h_*->f"]),
            Frame::Array(vec![
                bulk("1"),
                bulk("c"),
                Frame::Null,
                bulk("2"),
                bulk("b"),
                Frame::Null,
                bulk("3"),
                Frame::Null,
                bulk("a")
            ])
        );
        assert_eq!(s.run(&["SORT", "z", "BY", "nosort"]), arr(&["c", "b", "a"]));
        assert_eq!(
            s.run(&["SORT", "z", "BY", "nosort", "DESC"]),
            arr(&["a", "b", "c"])
        );
        assert_eq!(s.run(&["SORT", "z", "ALPHA"]), arr(&["a", "b", "c"]));
        assert_eq!(s.run(&["SORT", "nokey"]), arr(&[]));
        assert_eq!(
            s.run(&["SORT", "z"]),
            err("ERR One or more scores can't be converted into double")
        );
    }
}
