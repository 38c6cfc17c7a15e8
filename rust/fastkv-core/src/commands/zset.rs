//! Sorted set commands — Redis 7.0's `t_zset.c` surface: ZADD and friends, the ZRANGE family
//! (by rank, score and lex, with REV/LIMIT/WITHSCORES and STORE), removals by range, pops,
//! ZRANDMEMBER, the set algebra (ZUNION/ZINTER/ZDIFF, their STORE forms, ZINTERCARD) and ZSCAN.
//!
//! Values are [`ZSet`]s (see `types/zset.rs` for the structure and encodings). Replies follow
//! Redis 7.0 per protocol: scores are [`Frame::Double`] (a `%.17g` bulk in RESP2, a `,` double
//! in RESP3); member/score lists are flat in RESP2 and arrays of `[member, score]` pairs in
//! RESP3, except ZSCAN (bulk scores in both) and ZMPOP (pairs in both). A set emptied by a
//! command is deleted. Plain sets (`Value::Set`) are accepted as inputs of the set algebra,
//! every member scoring 1.
//!
//! The pop logic is [`op_zpop`], shared by ZPOPMIN/ZPOPMAX/ZMPOP and the blocking
//! BZPOPMIN/BZPOPMAX/BZMPOP, which wait as the blocking list pops do (see
//! [`crate::blocking`]); every write that adds members signals the key (`ctx.signal_ready`).

use crate::command::{
    keys, parse_int, Args, CommandSpec, BLOCKING, DENYOOM, FAST, KEY1, NONDETERMINISTIC, NOSCRIPT,
    READONLY, WRITE,
};
use crate::commands::hash::{scan_reply, ScanOptions};
use crate::commands::keys::parse_cursor;
use crate::commands::list::{block_on, parse_timeout};
use crate::dispatch::Ctx;
use crate::error::OpError;
use crate::notify::{GENERIC, ZSET};
use crate::types::zset::{cmp_key, AddFlags, AddOutcome, Item, ItemRef, Limits, NanScore};
use crate::types::{Set, Value, ZSet};
use fastkv_resp::float::fmt_g17;
use fastkv_resp::Frame;
use std::collections::HashMap;

// =============================================================================================
// Score parsing: C's strtod, as Redis's three score parsers use it
// =============================================================================================
//
// Redis reads sorted-set scores with glibc's `strtod` (C locale), wrapped three ways:
// - `string2d` (ZADD, ZINCRBY, WEIGHTS): the whole argument must be read, no leading space,
//   no NaN, and an out-of-range result (overflow to ±inf, underflow to 0) is refused — so
//   `0x10` is 16, `1e400` and `1e-400` are errors, `inf` is fine.
// - `zslParseRange` (ZCOUNT, ZRANGEBYSCORE, ...): strtod must stop at the end of the C string,
//   and the result must not be NaN. Leading spaces, `1e400` (= inf) and the empty string
//   (no conversion: 0) all pass, so a bare `(` is "exclusive 0".
// - SORT's weights: as the range parser, but any `ERANGE` (including an inexact subnormal) is
//   refused.
// `command.rs::parse_float` models `string2d` minus hex floats and range errors; these are
// the exact rules, kept here for the sorted-set family and SORT.

/// What C's `strtod` makes of a byte string: the value, how many bytes it read (0: no
/// conversion) and whether it set `errno = ERANGE`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Strtod {
    pub value: f64,
    pub len: usize,
    pub erange: bool,
}

/// C's `isspace` in the C locale.
fn c_isspace(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The bytes C sees of an argument: up to the first NUL.
pub(crate) fn c_str(s: &[u8]) -> &[u8] {
    let end = s.iter().position(|&c| c == 0).unwrap_or(s.len());
    s.get(..end).unwrap_or(s)
}

/// Number of leading bytes of `s` satisfying `f`.
fn span(s: &[u8], f: impl Fn(u8) -> bool) -> usize {
    s.iter().take_while(|&&c| f(c)).count()
}

/// `eq_ignore_ascii_case` on a prefix.
fn starts_with_ci(s: &[u8], word: &[u8]) -> bool {
    s.get(..word.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(word))
}

/// glibc's `strtod` in the C locale: leading white space, a sign, then `inf`/`infinity`,
/// `nan`/`nan(chars)`, a hexadecimal float (`0x1.8p3`) or a decimal one (`1.5e3`, `.5`, `1.`),
/// correctly rounded. `erange` is set on overflow (±inf from finite digits) and on an inexact
/// result below the normal range (0 or subnormal), as glibc does. Decimal subnormals are
/// taken as inexact (an exact one needs ~750 significant digits).
pub(crate) fn strtod(s: &[u8]) -> Strtod {
    let none = Strtod {
        value: 0.0,
        len: 0,
        erange: false,
    };
    let ws = span(s, c_isspace);
    let mut i = ws;
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let signed = |v: f64| if neg { -v } else { v };
    let rest = s.get(i..).unwrap_or(&[]);
    if starts_with_ci(rest, b"inf") {
        let n = if starts_with_ci(rest, b"infinity") {
            8
        } else {
            3
        };
        return Strtod {
            value: signed(f64::INFINITY),
            len: i + n,
            erange: false,
        };
    }
    if starts_with_ci(rest, b"nan") {
        let mut n = 3;
        if rest.get(3) == Some(&b'(') {
            let inner = span(rest.get(4..).unwrap_or(&[]), |c| {
                c.is_ascii_alphanumeric() || c == b'_'
            });
            if rest.get(4 + inner) == Some(&b')') {
                n = 4 + inner + 1;
            }
        }
        return Strtod {
            value: signed(f64::NAN),
            len: i + n,
            erange: false,
        };
    }
    let hex = (rest.starts_with(b"0x") || rest.starts_with(b"0X"))
        && match rest.get(2) {
            Some(c) if c.is_ascii_hexdigit() => true,
            Some(b'.') => rest.get(3).is_some_and(u8::is_ascii_hexdigit),
            _ => false,
        };
    let r = if hex {
        strtod_hex(rest.get(2..).unwrap_or(&[])).map(|(v, n, e)| (v, n + 2, e))
    } else {
        strtod_dec(rest)
    };
    match r {
        Some((v, n, erange)) => Strtod {
            value: signed(v),
            len: i + n,
            erange,
        },
        None => none,
    }
}

/// Length of an exponent part (`e-12`, `p+3`) at the start of `s`, with its value saturated
/// (far beyond any double's range); (0, 0) when there is none (a bare `e` is not read).
fn exponent(s: &[u8], marker: u8) -> (usize, i64) {
    if !s.first().is_some_and(|c| c.eq_ignore_ascii_case(&marker)) {
        return (0, 0);
    }
    let (neg, at) = match s.get(1) {
        Some(b'-') => (true, 2),
        Some(b'+') => (false, 2),
        _ => (false, 1),
    };
    let digits = s.get(at..).unwrap_or(&[]);
    let n = span(digits, |c| c.is_ascii_digit());
    if n == 0 {
        return (0, 0);
    }
    let v = digits.iter().take(n).fold(0i64, |acc, &d| {
        acc.saturating_mul(10)
            .saturating_add(i64::from(d - b'0'))
            .min(1 << 40)
    });
    (at + n, if neg { -v } else { v })
}

/// A decimal float at the start of `s` (no sign): (value, bytes read, erange).
fn strtod_dec(s: &[u8]) -> Option<(f64, usize, bool)> {
    let int = span(s, |c| c.is_ascii_digit());
    let mut n = int;
    let mut frac = 0;
    if s.get(n) == Some(&b'.') {
        frac = span(s.get(n + 1..).unwrap_or(&[]), |c| c.is_ascii_digit());
        n += 1 + frac;
    }
    if int + frac == 0 {
        return None;
    }
    let nonzero = s.iter().take(n).any(|c| matches!(c, b'1'..=b'9'));
    n += exponent(s.get(n..).unwrap_or(&[]), b'e').0;
    let text = std::str::from_utf8(s.get(..n)?).ok()?;
    let v: f64 = text.parse().ok()?;
    let erange = v.is_infinite() || (nonzero && v.abs() < f64::MIN_POSITIVE);
    Some((v, n, erange))
}

/// `q * 2^exp`, exact whenever the result is representable (scaling in steps that each stay
/// exact), ±inf on overflow.
fn ldexp(q: f64, mut exp: i64) -> f64 {
    let mut v = q;
    while exp != 0 && v != 0.0 && v.is_finite() {
        let step = exp.clamp(-1022, 1023);
        // 2^step as a double: biased exponent field, empty mantissa.
        let p = f64::from_bits(((step + 1023) as u64) << 52);
        v *= p;
        exp -= step;
    }
    v
}

/// A hexadecimal float after its `0x` (no sign): (value, bytes read, erange). Rounds to
/// nearest-even at the precision of the result (53 bits, fewer when subnormal).
fn strtod_hex(s: &[u8]) -> Option<(f64, usize, bool)> {
    let mut mant: u64 = 0;
    let mut exp: i64 = 0;
    let mut sticky = false;
    let mut n = 0;
    let mut seen_dot = false;
    let mut digits = 0;
    while let Some(&c) = s.get(n) {
        if c == b'.' && !seen_dot {
            seen_dot = true;
            n += 1;
            continue;
        }
        let Some(d) = (c as char).to_digit(16) else {
            break;
        };
        digits += 1;
        if mant >> 60 == 0 {
            mant = mant << 4 | u64::from(d);
            if seen_dot {
                exp -= 4;
            }
        } else {
            sticky |= d != 0;
            if !seen_dot {
                exp += 4;
            }
        }
        n += 1;
    }
    if digits == 0 {
        return None;
    }
    let (elen, e) = exponent(s.get(n..).unwrap_or(&[]), b'p');
    n += elen;
    exp = exp.saturating_add(e);
    if mant == 0 {
        return Some((0.0, n, false));
    }
    // Keep `prec` bits: 53, or fewer for a subnormal result (top bit below 2^-1022).
    let bits = i64::from(64 - mant.leading_zeros());
    let top = bits - 1 + exp;
    let prec = if top >= -1022 { 53 } else { top + 1075 };
    let shift = (bits - prec).max(0);
    let (q, inexact) = if shift == 0 {
        (u128::from(mant), sticky)
    } else if shift > 100 {
        (0, true)
    } else {
        let m = u128::from(mant);
        let q = m >> shift;
        let rem = m & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        let up = rem > half || (rem == half && (sticky || q & 1 == 1));
        (q + u128::from(up), rem != 0 || sticky)
    };
    let v = ldexp(q as f64, exp + shift);
    let erange = v.is_infinite() || (inexact && v < f64::MIN_POSITIVE);
    Some((v, n, erange))
}

/// A score as ZADD, ZINCRBY and WEIGHTS read it (Redis's `string2d`): all of the argument,
/// no leading space, not NaN, not out of range (`1e400`, `1e-400`); hex floats accepted.
pub(crate) fn parse_score(s: &[u8]) -> Option<f64> {
    let r = strtod(s);
    let out_of_range = r.erange && (r.value.is_infinite() || r.value == 0.0);
    let ok = !s.is_empty()
        && !s.first().is_some_and(|&c| c_isspace(c))
        && r.len == s.len()
        && !out_of_range
        && !r.value.is_nan();
    ok.then_some(r.value)
}

/// A bound of a score range after its optional `(` (Redis's `zslParseRange`): strtod must
/// reach the end of the C string and not give NaN. Leading spaces, `1e400` (inf) and the empty
/// string (0) are accepted.
fn parse_range_float(s: &[u8]) -> Option<f64> {
    let c = c_str(s);
    let r = strtod(c);
    (r.len == c.len() && !r.value.is_nan()).then_some(r.value)
}

// =============================================================================================
// Shared pieces: lookups, ranges, replies
// =============================================================================================

fn limits(ctx: &Ctx<'_, '_>) -> Limits {
    Limits::from_config(&ctx.engine.config.read())
}

/// The sorted set at `key`: None if missing, WRONGTYPE if another type.
fn zset_mut<'c>(ctx: &'c mut Ctx<'_, '_>, key: &[u8]) -> Result<Option<&'c mut ZSet>, OpError> {
    match ctx.value(key) {
        None => Ok(None),
        Some(v) => v.as_zset_mut().map(Some),
    }
}

/// Deletes `key` if the sorted set there is empty (Redis never keeps empty collections).
/// Every caller looked the key up before: not another access (see `Ctx::again`).
fn delete_if_empty(ctx: &mut Ctx<'_, '_>, key: &[u8]) {
    if matches!(ctx.value_again(key), Some(Value::ZSet(z)) if z.is_empty()) {
        ctx.remove(key);
        ctx.notify(GENERIC, "del", key);
    }
}

/// Stores `z` at `dst` (or deletes `dst` when `z` is empty) — the STORE commands' ending;
/// `event` is the command's keyspace event. Returns the stored cardinality.
fn store_result(ctx: &mut Ctx<'_, '_>, dst: &[u8], mut z: ZSet, event: &str) -> Frame {
    let n = z.len();
    if n == 0 {
        if ctx.remove(dst).is_some() {
            ctx.notify(GENERIC, "del", dst);
        }
    } else {
        z.fit_encoding(limits(ctx));
        ctx.set(dst, Value::from(z), false);
        ctx.notify(ZSET, event, dst);
    }
    Frame::Integer(n as i64)
}

const NAN_ERR: OpError = OpError::err("resulting score is not a number (NaN)");

impl From<NanScore> for OpError {
    fn from(_: NanScore) -> OpError {
        NAN_ERR
    }
}

/// A score range (`1`, `(1`, `-inf`, `+inf`), Redis's `zrangespec`.
#[derive(Debug, Clone, Copy)]
struct ScoreRange {
    min: f64,
    minex: bool,
    max: f64,
    maxex: bool,
}

fn parse_score_bound(b: &[u8]) -> Option<(f64, bool)> {
    match b.strip_prefix(b"(") {
        Some(rest) => parse_range_float(rest).map(|v| (v, true)),
        None => parse_range_float(b).map(|v| (v, false)),
    }
}

impl ScoreRange {
    fn parse(min: &[u8], max: &[u8]) -> Result<ScoreRange, OpError> {
        let err = || OpError::err("min or max is not a float");
        let (min, minex) = parse_score_bound(min).ok_or_else(err)?;
        let (max, maxex) = parse_score_bound(max).ok_or_else(err)?;
        Ok(ScoreRange {
            min,
            minex,
            max,
            maxex,
        })
    }

    fn below_min(&self, s: f64) -> bool {
        if self.minex {
            s <= self.min
        } else {
            s < self.min
        }
    }

    fn above_max(&self, s: f64) -> bool {
        if self.maxex {
            s >= self.max
        } else {
            s > self.max
        }
    }

    /// The ascending ranks `lo..hi` of the items in range.
    fn ranks(&self, z: &ZSet) -> (usize, usize) {
        let lo = z.partition_point(|it| self.below_min(it.score));
        let hi = z.partition_point(|it| !self.above_max(it.score));
        (lo, hi.max(lo))
    }
}

/// One end of a lex range: `-`, `+`, `[x` (inclusive), `(x` (exclusive).
#[derive(Debug, Clone, Copy)]
enum LexBound<'a> {
    NegInf,
    PosInf,
    Incl(&'a [u8]),
    Excl(&'a [u8]),
}

impl<'a> LexBound<'a> {
    fn parse(b: &'a [u8]) -> Option<LexBound<'a>> {
        match b.split_first() {
            Some((b'+', [])) => Some(LexBound::PosInf),
            Some((b'-', [])) => Some(LexBound::NegInf),
            Some((b'[', rest)) => Some(LexBound::Incl(rest)),
            Some((b'(', rest)) => Some(LexBound::Excl(rest)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct LexRange<'a> {
    min: LexBound<'a>,
    max: LexBound<'a>,
}

impl<'a> LexRange<'a> {
    fn parse(min: &'a [u8], max: &'a [u8]) -> Result<LexRange<'a>, OpError> {
        let err = || OpError::err("min or max not valid string range item");
        Ok(LexRange {
            min: LexBound::parse(min).ok_or_else(err)?,
            max: LexBound::parse(max).ok_or_else(err)?,
        })
    }

    fn below_min(&self, m: &[u8]) -> bool {
        match self.min {
            LexBound::NegInf => false,
            LexBound::PosInf => true,
            LexBound::Incl(x) => m < x,
            LexBound::Excl(x) => m <= x,
        }
    }

    fn above_max(&self, m: &[u8]) -> bool {
        match self.max {
            LexBound::PosInf => false,
            LexBound::NegInf => true,
            LexBound::Incl(x) => m > x,
            LexBound::Excl(x) => m >= x,
        }
    }

    /// The ascending ranks `lo..hi` in range (meaningful when all scores are equal, as Redis
    /// documents).
    fn ranks(&self, z: &ZSet) -> (usize, usize) {
        let lo = z.partition_point(|it| self.below_min(&it.member));
        let hi = z.partition_point(|it| !self.above_max(&it.member));
        (lo, hi.max(lo))
    }
}

/// Normalizes a rank range as Redis does (negative from the end, clamped): the ascending
/// ranks `start..=end`, or None when empty.
fn rank_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let llen = len as i64;
    let mut start = if start < 0 { llen + start } else { start };
    let mut end = if end < 0 { llen + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        return None;
    }
    if end >= llen {
        end = llen - 1;
    }
    Some((start as usize, end as usize))
}

/// A member/score list: flat in RESP2, `[member, score]` pairs in RESP3 (with scores).
fn scored_reply<'z>(
    resp3: bool,
    items: impl Iterator<Item = ItemRef<'z>>,
    withscores: bool,
) -> Frame {
    let mut out = Vec::new();
    for it in items {
        let m = Frame::Bulk(it.member.to_vec());
        if !withscores {
            out.push(m);
        } else if resp3 {
            out.push(Frame::Array(vec![m, Frame::Double(it.score)]));
        } else {
            out.push(m);
            out.push(Frame::Double(it.score));
        }
    }
    Frame::Array(out)
}

/// `[member, score]` pairs in both protocols (ZMPOP).
fn pairs_reply(items: &[Item]) -> Frame {
    Frame::Array(
        items
            .iter()
            .map(|it| {
                Frame::Array(vec![
                    Frame::Bulk(it.member.to_vec()),
                    Frame::Double(it.score),
                ])
            })
            .collect(),
    )
}

// =============================================================================================
// ZADD / ZINCRBY / ZREM / ZCARD / ZSCORE / ZMSCORE / ZRANK
// =============================================================================================

/// `ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]`
///
/// The number of members added (plus updated with CH); with INCR the new score, or null if a
/// flag prevented the change. Errors as Redis, checked in its order: pairs (`syntax error`),
/// NX+XX, GT/LT/NX combinations, INCR with several pairs, every score (`value is not a valid
/// float`), WRONGTYPE, then NaN from INCR.
fn cmd_zadd(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    zadd_generic(ctx, args, false)
}

/// ZADD and ZINCRBY (`incr_cmd`: the arguments are `increment member`).
fn zadd_generic(
    ctx: &mut Ctx<'_, '_>,
    args: &mut Args<'_>,
    incr_cmd: bool,
) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let mut f = AddFlags {
        incr: incr_cmd,
        ..AddFlags::default()
    };
    let mut ch = false;
    if !incr_cmd {
        loop {
            if args.eat("NX") {
                f.nx = true;
            } else if args.eat("XX") {
                f.xx = true;
            } else if args.eat("CH") {
                ch = true;
            } else if args.eat("INCR") {
                f.incr = true;
            } else if args.eat("GT") {
                f.gt = true;
            } else if args.eat("LT") {
                f.lt = true;
            } else {
                break;
            }
        }
    }
    let rest = args.rest();
    if rest.is_empty() || !rest.len().is_multiple_of(2) {
        return Err(OpError::Syntax);
    }
    if f.nx && f.xx {
        return Err(OpError::err(
            "XX and NX options at the same time are not compatible",
        ));
    }
    if [f.gt, f.lt, f.nx].iter().filter(|x| **x).count() > 1 {
        return Err(OpError::err(
            "GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if f.incr && rest.len() > 2 {
        return Err(OpError::err(
            "INCR option supports a single increment-element pair",
        ));
    }
    let mut pairs = Vec::with_capacity(rest.len() / 2);
    for p in rest.chunks_exact(2) {
        if let [score, member] = p {
            pairs.push((parse_score(score).ok_or(OpError::NotFloat)?, *member));
        }
    }
    let lim = limits(ctx);
    if ctx.value(key).is_none() {
        if f.xx {
            return Ok(if f.incr {
                Frame::Null
            } else {
                Frame::Integer(0)
            });
        }
        let first_len = pairs.first().map_or(0, |p| p.1.len());
        ctx.set(key, Value::from(ZSet::new_for(lim, first_len)), false);
    }
    // Looked up (or created) above: not another access.
    let Some(z) = ctx.value_again(key).map(Value::as_zset_mut).transpose()? else {
        return Ok(Frame::Integer(0));
    };
    let (mut added, mut updated) = (0i64, 0i64);
    let mut incr_reply = Frame::Null;
    let mut failure = None;
    for (score, member) in pairs {
        match z.add(member, score, f, lim) {
            Ok(AddOutcome::Added(s)) => {
                added += 1;
                incr_reply = Frame::Double(s);
            }
            Ok(AddOutcome::Updated(s)) => {
                updated += 1;
                incr_reply = Frame::Double(s);
            }
            Ok(AddOutcome::Unchanged(s)) => incr_reply = Frame::Double(s),
            Ok(AddOutcome::Skipped) => incr_reply = Frame::Null,
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    ctx.dirty += (added + updated) as u64;
    if added + updated > 0 {
        ctx.notify(ZSET, if f.incr { "zincr" } else { "zadd" }, key);
    }
    if added > 0 {
        // New members may serve BZPOPMIN/BZPOPMAX/BZMPOP waiters (a new key was already
        // signalled by `ctx.set`; this costs one atomic load when nobody waits).
        ctx.signal_ready(key);
    }
    // A set created above and left empty (INCR NaN on a new key cannot happen, but XX/NX
    // combinations may add nothing) is not kept.
    delete_if_empty(ctx, key);
    if let Some(e) = failure {
        return Err(e.into());
    }
    Ok(if f.incr {
        incr_reply
    } else if ch {
        Frame::Integer(added + updated)
    } else {
        Frame::Integer(added)
    })
}

/// `ZINCRBY key increment member` — the new score. `value is not a valid float`; NaN results
/// (`inf` + `-inf`) are `resulting score is not a number (NaN)`.
fn cmd_zincrby(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    zadd_generic(ctx, args, true)
}

/// `ZREM key member [member ...]` — how many were removed; the key goes when emptied.
fn cmd_zrem(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let members = args.rest();
    let Some(z) = zset_mut(ctx, key)? else {
        return Ok(Frame::Integer(0));
    };
    let mut n = 0;
    for m in members {
        if z.remove(m).is_some() {
            n += 1;
        }
    }
    ctx.dirty += n;
    if n > 0 {
        ctx.notify(ZSET, "zrem", key);
    }
    delete_if_empty(ctx, key);
    Ok(Frame::Integer(n as i64))
}

/// `ZCARD key` — the number of members, 0 for a missing key.
fn cmd_zcard(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    Ok(Frame::Integer(
        zset_mut(ctx, key)?.map_or(0, |z| z.len()) as i64
    ))
}

/// `ZCOUNT key min max` — members with a score in the range (`(` for exclusive bounds).
fn cmd_zcount(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let range = ScoreRange::parse(args.next_bytes()?, args.next_bytes()?)?;
    let n = zset_mut(ctx, key)?.map_or(0, |z| {
        let (lo, hi) = range.ranks(z);
        hi - lo
    });
    Ok(Frame::Integer(n as i64))
}

/// `ZLEXCOUNT key min max` — members in the lex range (`[a`, `(a`, `-`, `+`).
fn cmd_zlexcount(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let (min, max) = (args.next_bytes()?, args.next_bytes()?);
    let range = LexRange::parse(min, max)?;
    let n = zset_mut(ctx, key)?.map_or(0, |z| {
        let (lo, hi) = range.ranks(z);
        hi - lo
    });
    Ok(Frame::Integer(n as i64))
}

/// `ZSCORE key member` — the score (a double), or null.
fn cmd_zscore(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let member = args.next_bytes()?;
    Ok(match zset_mut(ctx, key)?.and_then(|z| z.score(member)) {
        Some(s) => Frame::Double(s),
        None => Frame::Null,
    })
}

/// `ZMSCORE key member [member ...]` — an array of scores, null for missing members (all
/// null for a missing key).
fn cmd_zmscore(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let members = args.rest();
    let z = zset_mut(ctx, key)?;
    Ok(Frame::Array(
        members
            .iter()
            .map(|m| match z.as_ref().and_then(|z| z.score(m)) {
                Some(s) => Frame::Double(s),
                None => Frame::Null,
            })
            .collect(),
    ))
}

/// ZRANK / ZREVRANK: the 0-based rank (from the highest score with `rev`), or null.
fn rank_generic(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>, rev: bool) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let member = args.next_bytes()?;
    let Some(z) = zset_mut(ctx, key)? else {
        return Ok(Frame::Null);
    };
    let len = z.len();
    Ok(match z.rank(member) {
        Some((r, _)) => Frame::Integer(if rev { len - 1 - r } else { r } as i64),
        None => Frame::Null,
    })
}

/// `ZRANK key member` — rank by ascending score, or null.
fn cmd_zrank(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    rank_generic(ctx, args, false)
}

/// `ZREVRANK key member` — rank by descending score, or null.
fn cmd_zrevrank(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    rank_generic(ctx, args, true)
}

// =============================================================================================
// The ZRANGE family
// =============================================================================================

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RangeType {
    /// ZRANGE / ZRANGESTORE: decided by BYSCORE / BYLEX, else by rank.
    Auto,
    Rank,
    Score,
    Lex,
}

/// What a ZRANGE-like command selects, parsed.
struct RangeSpec<'a> {
    rtype: RangeType,
    rev: bool,
    start: i64,
    end: i64,
    score: Option<ScoreRange>,
    lex: Option<LexRange<'a>>,
    offset: i64,
    /// -1: no limit.
    limit: i64,
}

impl RangeSpec<'_> {
    /// The selected items, in reply order.
    fn select<'z>(&self, z: &'z ZSet) -> Box<dyn Iterator<Item = ItemRef<'z>> + 'z> {
        let empty: Box<dyn Iterator<Item = ItemRef<'z>>> = Box::new(std::iter::empty());
        let (lo, hi) = match (self.rtype, &self.score, &self.lex) {
            (RangeType::Score, Some(r), _) => r.ranks(z),
            (RangeType::Lex, _, Some(r)) => r.ranks(z),
            _ => {
                let Some((s, e)) = rank_range(self.start, self.end, z.len()) else {
                    return empty;
                };
                let n = e - s + 1;
                return if self.rev {
                    Box::new(z.iter_at(z.len() - 1 - s, true).take(n))
                } else {
                    Box::new(z.iter_at(s, false).take(n))
                };
            }
        };
        if self.offset < 0 {
            return empty;
        }
        let skip = usize::try_from(self.offset).unwrap_or(usize::MAX);
        let count = hi - lo;
        if skip >= count {
            return empty;
        }
        let mut n = count - skip;
        if self.limit >= 0 {
            n = n.min(usize::try_from(self.limit).unwrap_or(usize::MAX));
        }
        if self.rev {
            Box::new(z.iter_at(hi - 1 - skip, true).take(n))
        } else {
            Box::new(z.iter_at(lo + skip, false).take(n))
        }
    }
}

/// Every ZRANGE-like command (Redis's `zrangeGenericCommand`). `rtype` and `rev` are fixed by
/// the legacy commands and left to the options (`Auto`, false) by ZRANGE / ZRANGESTORE.
fn zrange_generic(
    ctx: &mut Ctx<'_, '_>,
    args: &mut Args<'_>,
    store: bool,
    mut rtype: RangeType,
    fixed_rev: Option<bool>,
) -> Result<Frame, OpError> {
    let dst = if store {
        Some(args.next_bytes()?)
    } else {
        None
    };
    let key = args.next_bytes()?;
    let mut min_arg = args.next_bytes()?;
    let mut max_arg = args.next_bytes()?;
    let mut withscores = false;
    let mut rev = fixed_rev;
    let (mut offset, mut limit) = (0i64, -1i64);
    while let Some(opt) = args.peek() {
        let left = args.remaining() - 1;
        if !store && opt.eq_ignore_ascii_case(b"WITHSCORES") {
            args.next_bytes()?;
            withscores = true;
        } else if opt.eq_ignore_ascii_case(b"LIMIT") && left >= 2 {
            args.next_bytes()?;
            offset = args.next_i64()?;
            limit = args.next_i64()?;
        } else if rev.is_none() && opt.eq_ignore_ascii_case(b"REV") {
            args.next_bytes()?;
            rev = Some(true);
        } else if rtype == RangeType::Auto && opt.eq_ignore_ascii_case(b"BYLEX") {
            args.next_bytes()?;
            rtype = RangeType::Lex;
        } else if rtype == RangeType::Auto && opt.eq_ignore_ascii_case(b"BYSCORE") {
            args.next_bytes()?;
            rtype = RangeType::Score;
        } else {
            return Err(OpError::Syntax);
        }
    }
    let rev = rev.unwrap_or(false);
    if rtype == RangeType::Auto {
        rtype = RangeType::Rank;
    }
    // As Redis, the conflict is judged on the count alone: `LIMIT 5 -1` (no limit) passes.
    if limit != -1 && rtype == RangeType::Rank {
        return Err(OpError::err(
            "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && rtype == RangeType::Lex {
        return Err(OpError::err(
            "syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    if rev && rtype != RangeType::Rank {
        std::mem::swap(&mut min_arg, &mut max_arg);
    }
    let mut spec = RangeSpec {
        rtype,
        rev,
        start: 0,
        end: 0,
        score: None,
        lex: None,
        offset,
        limit,
    };
    match rtype {
        RangeType::Score => spec.score = Some(ScoreRange::parse(min_arg, max_arg)?),
        RangeType::Lex => spec.lex = Some(LexRange::parse(min_arg, max_arg)?),
        _ => {
            spec.start = parse_int(min_arg)?;
            spec.end = parse_int(max_arg)?;
        }
    }
    let resp3 = ctx.client.resp3();
    // A read (a keyspace hit or miss) for ZRANGESTORE's source too, as Redis's lookupKeyRead.
    let z = ctx.value_read(key).map(Value::as_zset_mut).transpose()?;
    match dst {
        Some(dst) => {
            let items: Vec<Item> = z.map_or_else(Vec::new, |z| {
                spec.select(z).map(|it| it.to_item()).collect()
            });
            Ok(store_result(
                ctx,
                dst,
                ZSet::from_items_skiplist(items),
                "zrangestore",
            ))
        }
        None => Ok(match z {
            Some(z) => scored_reply(resp3, spec.select(z), withscores),
            None => Frame::Array(Vec::new()),
        }),
    }
}

/// `ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]`
///
/// Members by rank (negative from the end), by score range or by lex range; REV walks from
/// the top (and takes `max min` for BYSCORE/BYLEX); LIMIT only with BYSCORE/BYLEX; WITHSCORES
/// not with BYLEX.
fn cmd_zrange(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    zrange_generic(ctx, args, false, RangeType::Auto, None)
}

/// `ZRANGESTORE dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]` — stores the
/// selection at `dst` (deleting it when empty) and returns its size.
fn cmd_zrangestore(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    zrange_generic(ctx, args, true, RangeType::Auto, None)
}

/// `ZREVRANGE key start stop [WITHSCORES]` — ranks counted from the highest score.
fn cmd_zrevrange(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    zrange_generic(ctx, args, false, RangeType::Rank, Some(true))
}

/// `ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]`
fn cmd_zrangebyscore(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    zrange_generic(ctx, args, false, RangeType::Score, Some(false))
}

/// `ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]`
fn cmd_zrevrangebyscore(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    zrange_generic(ctx, args, false, RangeType::Score, Some(true))
}

/// `ZRANGEBYLEX key min max [LIMIT offset count]`
fn cmd_zrangebylex(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    zrange_generic(ctx, args, false, RangeType::Lex, Some(false))
}

/// `ZREVRANGEBYLEX key max min [LIMIT offset count]`
fn cmd_zrevrangebylex(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    zrange_generic(ctx, args, false, RangeType::Lex, Some(true))
}

// =============================================================================================
// Removal by range
// =============================================================================================

/// ZREMRANGEBYRANK / BYSCORE / BYLEX: the range is parsed before the key is looked up, as in
/// Redis; the number removed is returned and an emptied key deleted.
fn zremrange_generic(
    ctx: &mut Ctx<'_, '_>,
    args: &mut Args<'_>,
    rtype: RangeType,
) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let (a, b) = (args.next_bytes()?, args.next_bytes()?);
    let (mut score, mut lex, mut ranks) = (None, None, (0, 0));
    match rtype {
        RangeType::Score => score = Some(ScoreRange::parse(a, b)?),
        RangeType::Lex => lex = Some(LexRange::parse(a, b)?),
        _ => ranks = (parse_int(a)?, parse_int(b)?),
    }
    let Some(z) = zset_mut(ctx, key)? else {
        return Ok(Frame::Integer(0));
    };
    let (lo, hi) = match (score, lex) {
        (Some(r), _) => r.ranks(z),
        (_, Some(r)) => r.ranks(z),
        _ => match rank_range(ranks.0, ranks.1, z.len()) {
            Some((s, e)) => (s, e + 1),
            None => (0, 0),
        },
    };
    let n = z.remove_range(lo, hi).len();
    ctx.dirty += n as u64;
    if n > 0 {
        let event = match rtype {
            RangeType::Score => "zremrangebyscore",
            RangeType::Lex => "zremrangebylex",
            _ => "zremrangebyrank",
        };
        ctx.notify(ZSET, event, key);
    }
    delete_if_empty(ctx, key);
    Ok(Frame::Integer(n as i64))
}

/// `ZREMRANGEBYRANK key start stop`
fn cmd_zremrangebyrank(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    zremrange_generic(ctx, args, RangeType::Rank)
}

/// `ZREMRANGEBYSCORE key min max`
fn cmd_zremrangebyscore(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    zremrange_generic(ctx, args, RangeType::Score)
}

/// `ZREMRANGEBYLEX key min max`
fn cmd_zremrangebylex(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    zremrange_generic(ctx, args, RangeType::Lex)
}

// =============================================================================================
// Pops
// =============================================================================================

/// Pops up to `count` items from the low end (or the high end with `max`) of the sorted set at
/// `key`, deleting the key when emptied. None if the key is missing; WRONGTYPE for other
/// types. Items come in pop order (ascending for min, descending for max). Shared by ZPOPMIN,
/// ZPOPMAX, ZMPOP and the blocking BZPOPMIN/BZPOPMAX/BZMPOP.
pub fn op_zpop(
    ctx: &mut Ctx<'_, '_>,
    key: &[u8],
    max: bool,
    count: usize,
) -> Result<Option<Vec<Item>>, OpError> {
    let Some(z) = zset_mut(ctx, key)? else {
        return Ok(None);
    };
    let len = z.len();
    let n = count.min(len);
    let items = if max {
        let mut v = z.remove_range(len - n, len);
        v.reverse();
        v
    } else {
        z.remove_range(0, n)
    };
    if !items.is_empty() {
        ctx.dirty += 1;
        ctx.notify(ZSET, if max { "zpopmax" } else { "zpopmin" }, key);
    }
    delete_if_empty(ctx, key);
    Ok(Some(items))
}

/// ZPOPMIN / ZPOPMAX: `<cmd> key [count]`.
fn zpop_generic(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>, max: bool) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    // More than one argument after the key is a syntax error before the count is read.
    if args.remaining() > 1 {
        return Err(OpError::Syntax);
    }
    let count = match args.peek() {
        Some(_) => {
            let c = parse_int(args.next_bytes()?)
                .ok()
                .filter(|c| *c >= 0)
                .ok_or(OpError::err("value is out of range, must be positive"))?;
            Some(usize::try_from(c).unwrap_or(usize::MAX))
        }
        None => None,
    };
    let resp3 = ctx.client.resp3();
    let items = op_zpop(ctx, key, max, count.unwrap_or(1))?.unwrap_or_default();
    // Without COUNT the reply is one flat pair; with it RESP3 nests pairs.
    Ok(scored_reply(
        resp3 && count.is_some(),
        items.iter().map(ItemRef::from),
        true,
    ))
}

/// `ZPOPMIN key [count]` — removes and returns the lowest-scored members (a flat member,
/// score pair without count; count 0 or a missing key give an empty array).
fn cmd_zpopmin(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    zpop_generic(ctx, args, false)
}

/// `ZPOPMAX key [count]` — as ZPOPMIN from the highest scores.
fn cmd_zpopmax(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    zpop_generic(ctx, args, true)
}

/// ZMPOP's parsed arguments (also for BZMPOP, after its timeout): the keys, MIN/MAX, COUNT.
pub struct MpopArgs<'a> {
    pub keys: &'a [&'a [u8]],
    pub max: bool,
    pub count: usize,
}

/// Parses `numkeys key [key ...] MIN | MAX [COUNT count]` with Redis's errors.
pub fn parse_mpop<'a>(args: &mut Args<'a>) -> Result<MpopArgs<'a>, OpError> {
    let n = parse_int(args.next_bytes()?)
        .ok()
        .filter(|n| *n > 0)
        .ok_or(OpError::err("numkeys should be greater than 0"))?;
    let rest = args.rest();
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    if n >= rest.len() {
        return Err(OpError::Syntax);
    }
    let (keys, opts) = rest.split_at(n);
    let mut opts = opts.iter();
    let max = match opts.next() {
        Some(w) if w.eq_ignore_ascii_case(b"MIN") => false,
        Some(w) if w.eq_ignore_ascii_case(b"MAX") => true,
        _ => return Err(OpError::Syntax),
    };
    let mut count = None;
    while let Some(o) = opts.next() {
        if count.is_none() && o.eq_ignore_ascii_case(b"COUNT") {
            let c = opts
                .next()
                .ok_or(OpError::Syntax)
                .map(|c| parse_int(c).ok().filter(|c| *c > 0))?
                .ok_or(OpError::err("count should be greater than 0"))?;
            count = Some(usize::try_from(c).unwrap_or(usize::MAX));
        } else {
            return Err(OpError::Syntax);
        }
    }
    Ok(MpopArgs {
        keys,
        max,
        count: count.unwrap_or(1),
    })
}

/// `ZMPOP numkeys key [key ...] MIN | MAX [COUNT count]` — pops from the first non-empty key:
/// `[key, [[member, score], ...]]`, or a null array when every key is empty.
fn cmd_zmpop(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let a = parse_mpop(args)?;
    for key in a.keys {
        if let Some(items) = op_zpop(ctx, key, a.max, a.count)? {
            return Ok(Frame::Array(vec![
                Frame::Bulk(key.to_vec()),
                pairs_reply(&items),
            ]));
        }
    }
    Ok(Frame::NullArray)
}

/// Key positions of commands whose `numkeys` is at `at` and whose keys follow it, plus the
/// fixed keys before it (the destination of the STORE forms). A bad `numkeys` yields only the
/// fixed keys: the handler then fails before touching any key.
fn numkeys_at(argv: &[&[u8]], at: usize, fixed: &[usize]) -> Vec<usize> {
    let mut out: Vec<usize> = fixed.iter().copied().filter(|&i| i < argv.len()).collect();
    let n = argv
        .get(at)
        .and_then(|a| parse_int(a).ok())
        .filter(|n| *n > 0)
        .and_then(|n| usize::try_from(n).ok());
    if let Some(n) = n {
        let first = at + 1;
        let last = first.saturating_add(n).min(argv.len());
        out.extend(first..last);
    }
    out
}

fn keys_numkeys_1(argv: &[&[u8]]) -> Vec<usize> {
    numkeys_at(argv, 1, &[])
}

fn keys_store_numkeys_2(argv: &[&[u8]]) -> Vec<usize> {
    numkeys_at(argv, 2, &[1])
}

/// BZMPOP: `timeout numkeys key ...`.
fn keys_bzmpop(argv: &[&[u8]]) -> Vec<usize> {
    numkeys_at(argv, 2, &[])
}

/// BZPOPMIN/BZPOPMAX: every argument but the last (the timeout) is a key.
const ALL_BUT_LAST: crate::command::KeySpec = keys(1, -2, 1);

// =============================================================================================
// Blocking pops: BZPOPMIN / BZPOPMAX / BZMPOP
// =============================================================================================
//
// They pop as ZPOPMIN/ZPOPMAX/ZMPOP (`op_zpop`) and otherwise record a block request, with
// the timeout parsing and null-array timeout reply of the blocking list pops (see
// `commands/list.rs` and `crate::blocking`). A waiter re-run for a ready key serves only from
// that key (`ctx.may_serve`), so the reply names the key that received members.

/// Pops up to `count` items from `key` for a blocking pop, if this run may serve from it.
/// In a waiter's re-run, a key that now holds another type (a list pushed to a key this
/// client waits on) is not an error: as in Redis 7.0, only a sorted set serves the waiter,
/// which keeps waiting. On the first run WRONGTYPE stands, as for ZPOPMIN.
fn bzpop_from(
    ctx: &mut Ctx<'_, '_>,
    key: &[u8],
    max: bool,
    count: usize,
) -> Result<Option<Vec<Item>>, OpError> {
    if !ctx.may_serve(key) {
        return Ok(None);
    }
    if ctx.ready_key.is_some() && !matches!(ctx.value(key), None | Some(Value::ZSet(_))) {
        return Ok(None);
    }
    Ok(op_zpop(ctx, key, max, count)?.filter(|items| !items.is_empty()))
}

/// BZPOPMIN / BZPOPMAX `key [key ...] timeout`.
fn bzpop_generic(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>, max: bool) -> Result<Frame, OpError> {
    let all = args.rest();
    let Some((timeout, keys)) = all.split_last() else {
        return Err(OpError::Syntax);
    };
    let deadline = parse_timeout(ctx, timeout)?;
    for &key in keys {
        let Some(items) = bzpop_from(ctx, key, max, 1)? else {
            continue;
        };
        if let Some(it) = items.into_iter().next() {
            return Ok(Frame::Array(vec![
                Frame::Bulk(key.to_vec()),
                Frame::Bulk(it.member.into_vec()),
                Frame::Double(it.score),
            ]));
        }
    }
    Ok(block_on(ctx, keys, deadline, Frame::NullArray))
}

/// `BZPOPMIN key [key ...] timeout` — `[key, member, score]` (the score a bulk string in
/// RESP2, a double in RESP3) from the first non-empty sorted set; otherwise blocks until
/// members are added to one of the keys (answering with that key) or the timeout (a null
/// array; at once inside MULTI and scripts). Timeout: float seconds, 0 = forever; `timeout
/// is not a float or out of range` / `timeout is negative` before any key is looked at.
fn cmd_bzpopmin(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    bzpop_generic(ctx, args, false)
}

/// `BZPOPMAX key [key ...] timeout` — as BZPOPMIN, from the highest scores.
fn cmd_bzpopmax(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    bzpop_generic(ctx, args, true)
}

/// `BZMPOP timeout numkeys key [key ...] MIN | MAX [COUNT count]` — ZMPOP's `[key, [[member,
/// score], ...]]` (pairs in both protocols), blocking while every key is empty; a null array
/// on timeout. Redis checks numkeys, MIN/MAX and COUNT before the timeout.
fn cmd_bzmpop(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let timeout = args.next_bytes()?;
    let a = parse_mpop(args)?;
    let deadline = parse_timeout(ctx, timeout)?;
    for &key in a.keys {
        if let Some(items) = bzpop_from(ctx, key, a.max, a.count)? {
            return Ok(Frame::Array(vec![
                Frame::Bulk(key.to_vec()),
                pairs_reply(&items),
            ]));
        }
    }
    Ok(block_on(ctx, a.keys, deadline, Frame::NullArray))
}

// =============================================================================================
// ZRANDMEMBER
// =============================================================================================

/// Beyond this many items ZRANDMEMBER refuses a negative count on an existing set (Redis would
/// try to build the reply and run out of memory) with `value is out of range`.
const RANDMEMBER_MAX: u64 = 1 << 32;

/// `ZRANDMEMBER key [count [WITHSCORES]]`
///
/// No count: one random member or null. A positive count: that many distinct members (all of
/// them if fewer); negative: |count| members, repeats allowed. An empty array for a missing
/// key or count 0. Checked in Redis's order: the count is an integer in `-LONG_MAX..=LONG_MAX`
/// (`value is out of range, value must between ...`), then the syntax, then with WITHSCORES
/// `|count| <= LONG_MAX / 2` (`value is out of range`), then the key.
fn cmd_zrandmember(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    use rand::Rng;
    let key = args.next_bytes()?;
    let resp3 = ctx.client.resp3();
    let Some(count_arg) = args.peek() else {
        let mut rng = rand::thread_rng();
        return Ok(match zset_mut(ctx, key)? {
            Some(z) if !z.is_empty() => {
                let r = rng.gen_range(0..z.len());
                Frame::opt_bulk(z.get(r).map(|it| it.member.to_vec()))
            }
            _ => Frame::Null,
        });
    };
    args.next_bytes()?;
    let l = parse_int(count_arg)?;
    if l == i64::MIN {
        return Err(OpError::msg(format!(
            "value is out of range, value must between {} and {}",
            -i64::MAX,
            i64::MAX
        )));
    }
    let withscores = args.eat("WITHSCORES");
    args.finish()?;
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
        return Err(OpError::err("value is out of range"));
    }
    let Some(z) = zset_mut(ctx, key)? else {
        return Ok(Frame::Array(Vec::new()));
    };
    if l < 0 && l.unsigned_abs() > RANDMEMBER_MAX && !z.is_empty() {
        return Err(OpError::err("value is out of range"));
    }
    let len = z.len();
    let count = l.unsigned_abs() as usize;
    let mut rng = rand::thread_rng();
    let ranks: Vec<usize> = if count == 0 || len == 0 {
        Vec::new()
    } else if l < 0 {
        (0..count).map(|_| rng.gen_range(0..len)).collect()
    } else if count >= len {
        // The whole set, highest score first, as Redis 7.0 replies.
        (0..len).rev().collect()
    } else if count * 3 > len {
        // Many of them: shuffle all ranks and keep a prefix.
        let mut all: Vec<usize> = (0..len).collect();
        for i in 0..count {
            let j = rng.gen_range(i..len);
            all.swap(i, j);
        }
        all.truncate(count);
        all
    } else {
        let mut seen = std::collections::HashSet::with_capacity(count);
        let mut out = Vec::with_capacity(count);
        while out.len() < count {
            let r = rng.gen_range(0..len);
            if seen.insert(r) {
                out.push(r);
            }
        }
        out
    };
    // A listpack reaches a rank by walking from an end: read its items once instead.
    let small: Vec<ItemRef<'_>> = match z {
        ZSet::Listpack(_) => z.iter().collect(),
        ZSet::Skiplist(_) => Vec::new(),
    };
    let at = |r: usize| match z {
        ZSet::Listpack(_) => small.get(r).copied(),
        ZSet::Skiplist(_) => z.get(r),
    };
    Ok(scored_reply(
        resp3,
        ranks.iter().filter_map(|&r| at(r)),
        withscores,
    ))
}

// =============================================================================================
// Set algebra: ZUNION / ZINTER / ZDIFF, STORE forms, ZINTERCARD
// =============================================================================================

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    /// Redis's `zunionInterAggregate`: a NaN sum (`inf + -inf`) becomes 0.
    fn apply(self, target: &mut f64, v: f64) {
        match self {
            Aggregate::Sum => {
                *target += v;
                if target.is_nan() {
                    *target = 0.0;
                }
            }
            Aggregate::Min => {
                if v < *target {
                    *target = v;
                }
            }
            Aggregate::Max => {
                if v > *target {
                    *target = v;
                }
            }
        }
    }
}

/// An input of the set algebra: a sorted set, or a plain set whose members score 1.
enum Src<'a> {
    Z(&'a ZSet),
    S(&'a Set),
}

impl Src<'_> {
    fn len(&self) -> usize {
        match self {
            Src::Z(z) => z.len(),
            Src::S(s) => s.len(),
        }
    }

    fn find(&self, member: &[u8]) -> Option<f64> {
        match self {
            Src::Z(z) => z.score(member),
            Src::S(s) => s.contains(member).then_some(1.0),
        }
    }

    fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        match self {
            Src::Z(z) => z.iter().for_each(|it| f(&it.member, it.score)),
            Src::S(s) => s.iter().for_each(|m| f(&m.as_bytes(), 1.0)),
        }
    }
}

/// The input at `key`, which the command already looked up (not another access, see
/// `Ctx::again`): None if missing; WRONGTYPE unless a sorted set or a set.
fn lookup_src_again<'c>(ctx: &'c mut Ctx<'_, '_>, key: &[u8]) -> Result<Option<Src<'c>>, OpError> {
    match ctx.value_again(key) {
        None => Ok(None),
        Some(Value::ZSet(z)) => Ok(Some(Src::Z(z))),
        Some(Value::Set(s)) => Ok(Some(Src::S(s))),
        Some(_) => Err(OpError::WrongType),
    }
}

/// `score * weight`, with Redis's rule that NaN (`0 * inf`) counts as 0.
fn weighted(score: f64, weight: f64) -> f64 {
    let v = score * weight;
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

/// The result of a set operation, as (member, score) in no particular order. The keys were
/// looked up (and type-checked) by the caller.
fn compute_setop(
    ctx: &mut Ctx<'_, '_>,
    op: SetOp,
    keys: &[&[u8]],
    weights: &[f64],
    agg: Aggregate,
    card_limit: Option<usize>,
) -> Result<Vec<(Vec<u8>, f64)>, OpError> {
    // Sizes, for Redis's smallest-first order (which decides the order scores are summed in).
    let mut order: Vec<(usize, usize)> = Vec::with_capacity(keys.len());
    for (i, k) in keys.iter().enumerate() {
        order.push((i, lookup_src_again(ctx, k)?.map_or(0, |s| s.len())));
    }
    let weight = |i: usize| weights.get(i).copied().unwrap_or(1.0);
    match op {
        SetOp::Inter => {
            order.sort_by_key(|&(_, n)| n);
            if order.iter().any(|&(_, n)| n == 0) {
                return Ok(Vec::new());
            }
            let mut acc: Vec<(Vec<u8>, f64)> = Vec::new();
            if let Some(&(first, _)) = order.first() {
                let w = weight(first);
                if let Some(s) = lookup_src_again(ctx, keys[first])? {
                    s.for_each(|m, sc| acc.push((m.to_vec(), weighted(sc, w))));
                }
            }
            for &(j, _) in order.iter().skip(1) {
                let w = weight(j);
                let Some(s) = lookup_src_again(ctx, keys[j])? else {
                    return Ok(Vec::new());
                };
                acc.retain_mut(|(m, score)| match s.find(m) {
                    Some(v) => {
                        agg.apply(score, weighted(v, w));
                        true
                    }
                    None => false,
                });
            }
            if let Some(limit) = card_limit {
                acc.truncate(limit);
            }
            Ok(acc)
        }
        SetOp::Union => {
            order.sort_by_key(|&(_, n)| n);
            let mut acc: HashMap<Vec<u8>, f64> = HashMap::new();
            for &(j, _) in &order {
                let w = weight(j);
                if let Some(s) = lookup_src_again(ctx, keys[j])? {
                    s.for_each(|m, sc| {
                        let v = weighted(sc, w);
                        match acc.get_mut(m) {
                            Some(t) => agg.apply(t, v),
                            None => {
                                acc.insert(m.to_vec(), v);
                            }
                        }
                    });
                }
            }
            Ok(acc.into_iter().collect())
        }
        SetOp::Diff => {
            let mut acc: HashMap<Vec<u8>, f64> = HashMap::new();
            let Some(first) = keys.first() else {
                return Ok(Vec::new());
            };
            if let Some(s) = lookup_src_again(ctx, first)? {
                s.for_each(|m, sc| {
                    acc.insert(m.to_vec(), sc);
                });
            }
            for k in keys.iter().skip(1) {
                if acc.is_empty() {
                    break;
                }
                if let Some(s) = lookup_src_again(ctx, k)? {
                    acc.retain(|m, _| s.find(m).is_none());
                }
            }
            Ok(acc.into_iter().collect())
        }
    }
}

/// What the set-algebra commands share (Redis's `zunionInterDiffGenericCommand`): `numkeys`
/// (`at least 1 input key is needed for '<cmd>' command`), the keys (WRONGTYPE before any
/// option is read), then WEIGHTS / AGGREGATE (not for ZDIFF or ZINTERCARD), WITHSCORES (not
/// for STORE), LIMIT (ZINTERCARD only).
fn setop_generic(
    ctx: &mut Ctx<'_, '_>,
    args: &mut Args<'_>,
    op: SetOp,
    store: bool,
    card_only: bool,
    name: &str,
) -> Result<Frame, OpError> {
    let dst = if store {
        Some(args.next_bytes()?)
    } else {
        None
    };
    let numkeys = args.next_i64()?;
    if numkeys < 1 {
        return Err(OpError::msg(format!(
            "at least 1 input key is needed for '{name}' command"
        )));
    }
    let rest = args.rest();
    let n = usize::try_from(numkeys).unwrap_or(usize::MAX);
    if n > rest.len() {
        return Err(OpError::Syntax);
    }
    let (keys, opts) = rest.split_at(n);
    // The one access to each input, a read (keyspace hit or miss) in the STORE forms too, as
    // Redis's lookupKeyRead; `compute_setop` reads them again without counting.
    for k in keys {
        match ctx.value_read(k) {
            None | Some(Value::ZSet(_) | Value::Set(_)) => {}
            Some(_) => return Err(OpError::WrongType),
        }
    }
    let mut weights = vec![1.0; n];
    let mut agg = Aggregate::Sum;
    let mut withscores = false;
    let mut limit = 0usize;
    let mut j = 0;
    while let Some(opt) = opts.get(j) {
        let remaining = opts.len() - j;
        let is = |s: &str| opt.eq_ignore_ascii_case(s.as_bytes());
        if op != SetOp::Diff && !card_only && remaining > n && is("WEIGHTS") {
            for (i, w) in weights.iter_mut().enumerate() {
                let arg = opts.get(j + 1 + i).ok_or(OpError::Syntax)?;
                *w = parse_score(arg).ok_or(OpError::err("weight value is not a float"))?;
            }
            j += 1 + n;
        } else if op != SetOp::Diff && !card_only && remaining >= 2 && is("AGGREGATE") {
            let a = opts.get(j + 1).ok_or(OpError::Syntax)?;
            agg = if a.eq_ignore_ascii_case(b"SUM") {
                Aggregate::Sum
            } else if a.eq_ignore_ascii_case(b"MIN") {
                Aggregate::Min
            } else if a.eq_ignore_ascii_case(b"MAX") {
                Aggregate::Max
            } else {
                return Err(OpError::Syntax);
            };
            j += 2;
        } else if !store && !card_only && is("WITHSCORES") {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && is("LIMIT") {
            let l = opts
                .get(j + 1)
                .and_then(|a| parse_int(a).ok())
                .filter(|l| *l >= 0)
                .ok_or(OpError::err("LIMIT can't be negative"))?;
            limit = usize::try_from(l).unwrap_or(usize::MAX);
            j += 2;
        } else {
            return Err(OpError::Syntax);
        }
    }
    let card_limit = (card_only && limit > 0).then_some(limit);
    let result = compute_setop(ctx, op, keys, &weights, agg, card_limit)?;
    if card_only {
        return Ok(Frame::Integer(result.len() as i64));
    }
    let mut items: Vec<Item> = result
        .into_iter()
        .map(|(m, score)| Item {
            member: m.into(),
            score,
        })
        .collect();
    match dst {
        Some(dst) => Ok(store_result(
            ctx,
            dst,
            ZSet::from_items_skiplist(items),
            name,
        )),
        None => {
            items.sort_by(|a, b| cmp_key(a.score, &a.member, b));
            Ok(scored_reply(
                ctx.client.resp3(),
                items.iter().map(ItemRef::from),
                withscores,
            ))
        }
    }
}

/// `ZUNION numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM | MIN | MAX]
/// [WITHSCORES]`
fn cmd_zunion(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    setop_generic(ctx, args, SetOp::Union, false, false, "zunion")
}

/// `ZINTER numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM | MIN | MAX]
/// [WITHSCORES]`
fn cmd_zinter(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    setop_generic(ctx, args, SetOp::Inter, false, false, "zinter")
}

/// `ZDIFF numkeys key [key ...] [WITHSCORES]`
fn cmd_zdiff(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    setop_generic(ctx, args, SetOp::Diff, false, false, "zdiff")
}

/// `ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM | MIN |
/// MAX]` — the size of the stored result.
fn cmd_zunionstore(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    setop_generic(ctx, args, SetOp::Union, true, false, "zunionstore")
}

/// `ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM | MIN |
/// MAX]`
fn cmd_zinterstore(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    setop_generic(ctx, args, SetOp::Inter, true, false, "zinterstore")
}

/// `ZDIFFSTORE destination numkeys key [key ...]`
fn cmd_zdiffstore(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    setop_generic(ctx, args, SetOp::Diff, true, false, "zdiffstore")
}

/// `ZINTERCARD numkeys key [key ...] [LIMIT limit]` — the size of the intersection, stopping
/// at `limit` (0: no limit).
fn cmd_zintercard(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    setop_generic(ctx, args, SetOp::Inter, false, true, "zintercard")
}

// =============================================================================================
// ZSCAN
// =============================================================================================

/// `ZSCAN key cursor [MATCH pattern] [COUNT count]` — `[next cursor, [member, score, ...]]`,
/// scores as bulk strings in both protocols. A listpack comes back whole (cursor 0); a
/// skiplist is walked through its member table with SCAN's guarantees.
///
/// Order, as Redis (and HSCAN/SSCAN): the cursor must parse (`ERR invalid cursor`); a missing
/// key answers `[0, []]` without looking at the options; WRONGTYPE; then the options.
fn cmd_zscan(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let mut cursor = parse_cursor(args.next_bytes()?)?;
    let Some(z) = zset_mut(ctx, key)? else {
        return Ok(scan_reply(0, Vec::new()));
    };
    let opts = ScanOptions::parse(args)?;
    let mut out = Vec::new();
    let mut found: Vec<(Vec<u8>, f64)> = Vec::new();
    let want = usize::try_from(opts.count).unwrap_or(usize::MAX);
    let mut steps = opts.max_steps();
    loop {
        cursor = z.scan_step(cursor, |m, s| found.push((m.to_vec(), s)));
        steps -= 1;
        // Redis counts reply entries: a member and its score are two.
        if cursor == 0 || steps <= 0 || found.len().saturating_mul(2) >= want {
            break;
        }
    }
    for (m, s) in found {
        if !opts.matches(&m) {
            continue;
        }
        out.push(Frame::Bulk(m));
        out.push(Frame::Bulk(fmt_g17(s).into_bytes()));
    }
    Ok(scan_reply(cursor, out))
}

// =============================================================================================
// The table
// =============================================================================================

const G: &str = "sorted-set";

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("zadd", -4, WRITE | DENYOOM | FAST, KEY1, cmd_zadd).doc(
        G,
        "1.2.0",
        "Add one or more members to a sorted set, or update its score if it already exists",
    ),
    CommandSpec::new("zincrby", 4, WRITE | DENYOOM | FAST, KEY1, cmd_zincrby).doc(
        G,
        "1.2.0",
        "Increment the score of a member in a sorted set",
    ),
    CommandSpec::new("zrem", -3, WRITE | FAST, KEY1, cmd_zrem).doc(
        G,
        "1.2.0",
        "Remove one or more members from a sorted set",
    ),
    CommandSpec::new("zcard", 2, READONLY | FAST, KEY1, cmd_zcard).doc(
        G,
        "1.2.0",
        "Get the number of members in a sorted set",
    ),
    CommandSpec::new("zcount", 4, READONLY | FAST, KEY1, cmd_zcount).doc(
        G,
        "2.0.0",
        "Count the members in a sorted set with scores within the given values",
    ),
    CommandSpec::new("zlexcount", 4, READONLY | FAST, KEY1, cmd_zlexcount).doc(
        G,
        "2.8.9",
        "Count the number of members in a sorted set between a given lexicographical range",
    ),
    CommandSpec::new("zscore", 3, READONLY | FAST, KEY1, cmd_zscore).doc(
        G,
        "1.2.0",
        "Get the score associated with the given member in a sorted set",
    ),
    CommandSpec::new("zmscore", -3, READONLY | FAST, KEY1, cmd_zmscore).doc(
        G,
        "6.2.0",
        "Get the score associated with the given members in a sorted set",
    ),
    CommandSpec::new("zrank", 3, READONLY | FAST, KEY1, cmd_zrank).doc(
        G,
        "2.0.0",
        "Determine the index of a member in a sorted set",
    ),
    CommandSpec::new("zrevrank", 3, READONLY | FAST, KEY1, cmd_zrevrank).doc(
        G,
        "2.0.0",
        "Determine the index of a member in a sorted set, with scores ordered from high to low",
    ),
    CommandSpec::new("zrange", -4, READONLY, KEY1, cmd_zrange).doc(
        G,
        "1.2.0",
        "Return a range of members in a sorted set",
    ),
    CommandSpec::new(
        "zrangestore",
        -5,
        WRITE | DENYOOM,
        keys(1, 2, 1),
        cmd_zrangestore,
    )
    .doc(
        G,
        "6.2.0",
        "Store a range of members from sorted set into another key",
    ),
    CommandSpec::new("zrevrange", -4, READONLY, KEY1, cmd_zrevrange).doc(
        G,
        "1.2.0",
        "Return a range of members in a sorted set, by index, with scores ordered from high to \
         low",
    ),
    CommandSpec::new("zrangebyscore", -4, READONLY, KEY1, cmd_zrangebyscore).doc(
        G,
        "1.0.5",
        "Return a range of members in a sorted set, by score",
    ),
    CommandSpec::new("zrevrangebyscore", -4, READONLY, KEY1, cmd_zrevrangebyscore).doc(
        G,
        "2.2.0",
        "Return a range of members in a sorted set, by score, with scores ordered from high to \
         low",
    ),
    CommandSpec::new("zrangebylex", -4, READONLY, KEY1, cmd_zrangebylex).doc(
        G,
        "2.8.9",
        "Return a range of members in a sorted set, by lexicographical range",
    ),
    CommandSpec::new("zrevrangebylex", -4, READONLY, KEY1, cmd_zrevrangebylex).doc(
        G,
        "2.8.9",
        "Return a range of members in a sorted set, by lexicographical range, ordered from \
         higher to lower strings.",
    ),
    CommandSpec::new("zremrangebyrank", 4, WRITE, KEY1, cmd_zremrangebyrank).doc(
        G,
        "2.0.0",
        "Remove all members in a sorted set within the given indexes",
    ),
    CommandSpec::new("zremrangebyscore", 4, WRITE, KEY1, cmd_zremrangebyscore).doc(
        G,
        "1.2.0",
        "Remove all members in a sorted set within the given scores",
    ),
    CommandSpec::new("zremrangebylex", 4, WRITE, KEY1, cmd_zremrangebylex).doc(
        G,
        "2.8.9",
        "Remove all members in a sorted set between the given lexicographical range",
    ),
    CommandSpec::new("zpopmin", -2, WRITE | FAST, KEY1, cmd_zpopmin).doc(
        G,
        "5.0.0",
        "Remove and return members with the lowest scores in a sorted set",
    ),
    CommandSpec::new("zpopmax", -2, WRITE | FAST, KEY1, cmd_zpopmax).doc(
        G,
        "5.0.0",
        "Remove and return members with the highest scores in a sorted set",
    ),
    CommandSpec::new("zmpop", -4, WRITE, keys(0, 0, 0), cmd_zmpop)
        .keys_fn(keys_numkeys_1)
        .doc(
            G,
            "7.0.0",
            "Remove and return members with scores in a sorted set",
        ),
    CommandSpec::new(
        "bzpopmin",
        -3,
        WRITE | NOSCRIPT | FAST | BLOCKING,
        ALL_BUT_LAST,
        cmd_bzpopmin,
    )
    .doc(
        G,
        "5.0.0",
        "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available",
    ),
    CommandSpec::new(
        "bzpopmax",
        -3,
        WRITE | NOSCRIPT | FAST | BLOCKING,
        ALL_BUT_LAST,
        cmd_bzpopmax,
    )
    .doc(
        G,
        "5.0.0",
        "Remove and return the member with the highest score from one or more sorted sets, or block until one is available",
    ),
    CommandSpec::new("bzmpop", -5, WRITE | BLOCKING, keys(0, 0, 0), cmd_bzmpop)
        .keys_fn(keys_bzmpop)
        .doc(
            G,
            "7.0.0",
            "Remove and return members with scores in a sorted set or block until one is available",
        ),
    CommandSpec::new(
        "zrandmember",
        -2,
        READONLY | NONDETERMINISTIC,
        KEY1,
        cmd_zrandmember,
    )
    .doc(
        G,
        "6.2.0",
        "Get one or multiple random elements from a sorted set",
    ),
    CommandSpec::new("zunion", -3, READONLY, keys(0, 0, 0), cmd_zunion)
        .keys_fn(keys_numkeys_1)
        .doc(G, "6.2.0", "Add multiple sorted sets"),
    CommandSpec::new("zinter", -3, READONLY, keys(0, 0, 0), cmd_zinter)
        .keys_fn(keys_numkeys_1)
        .doc(G, "6.2.0", "Intersect multiple sorted sets"),
    CommandSpec::new("zdiff", -3, READONLY, keys(0, 0, 0), cmd_zdiff)
        .keys_fn(keys_numkeys_1)
        .doc(G, "6.2.0", "Subtract multiple sorted sets"),
    CommandSpec::new(
        "zunionstore",
        -4,
        WRITE | DENYOOM,
        keys(1, 1, 1),
        cmd_zunionstore,
    )
    .keys_fn(keys_store_numkeys_2)
    .doc(
        G,
        "2.0.0",
        "Add multiple sorted sets and store the resulting sorted set in a new key",
    ),
    CommandSpec::new(
        "zinterstore",
        -4,
        WRITE | DENYOOM,
        keys(1, 1, 1),
        cmd_zinterstore,
    )
    .keys_fn(keys_store_numkeys_2)
    .doc(
        G,
        "2.0.0",
        "Intersect multiple sorted sets and store the resulting sorted set in a new key",
    ),
    CommandSpec::new(
        "zdiffstore",
        -4,
        WRITE | DENYOOM,
        keys(1, 1, 1),
        cmd_zdiffstore,
    )
    .keys_fn(keys_store_numkeys_2)
    .doc(
        G,
        "6.2.0",
        "Subtract multiple sorted sets and store the resulting sorted set in a new key",
    ),
    CommandSpec::new("zintercard", -3, READONLY, keys(0, 0, 0), cmd_zintercard)
        .keys_fn(keys_numkeys_1)
        .doc(
            G,
            "7.0.0",
            "Intersect multiple sorted sets and return the cardinality of the result",
        ),
    CommandSpec::new("zscan", -3, READONLY | NONDETERMINISTIC, KEY1, cmd_zscan).doc(
        G,
        "2.8.0",
        "Incrementally iterate sorted sets elements and associated scores",
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

    fn d(v: f64) -> Frame {
        Frame::Double(v)
    }

    #[test]
    fn zadd_flags_and_errors() {
        let mut s = Session::new();
        assert_eq!(
            s.run(&["ZADD", "z", "1", "a", "2", "b", "0.1", "c"]),
            int(3)
        );
        assert_eq!(s.run(&["ZSCORE", "z", "c"]), d(0.1));
        assert_eq!(
            s.run(&["ZADD", "z", "XX", "NX", "1", "a"]),
            err("ERR XX and NX options at the same time are not compatible")
        );
        assert_eq!(
            s.run(&["ZADD", "z", "GT", "LT", "1", "a"]),
            err("ERR GT, LT, and/or NX options at the same time are not compatible")
        );
        assert_eq!(
            s.run(&["ZADD", "z", "NX", "GT", "1", "a"]),
            err("ERR GT, LT, and/or NX options at the same time are not compatible")
        );
        assert_eq!(
            s.run(&["ZADD", "z", "INCR", "1", "a", "2", "b"]),
            err("ERR INCR option supports a single increment-element pair")
        );
        assert_eq!(
            s.run(&["ZADD", "z", "nan", "a"]),
            err("ERR value is not a valid float")
        );
        assert_eq!(
            s.run(&["ZADD", "z", "1", "a", "2"]),
            err("ERR syntax error")
        );
        assert_eq!(
            s.run(&["ZADD", "z", "CH", "5", "a", "2", "b", "9", "n"]),
            int(2)
        );
        assert_eq!(
            s.run(&["ZADD", "z", "GT", "CH", "1", "a", "6", "b"]),
            int(1)
        );
        assert_eq!(
            s.run(&["ZADD", "z", "LT", "CH", "1", "a", "7", "b"]),
            int(1)
        );
        assert_eq!(s.run(&["ZADD", "z", "INCR", "2", "a"]), d(3.0));
        assert_eq!(s.run(&["ZADD", "z", "NX", "INCR", "2", "a"]), Frame::Null);
        assert_eq!(s.run(&["ZADD", "nokey", "XX", "1", "a"]), int(0));
        assert_eq!(
            s.run(&["ZADD", "nokey", "XX", "INCR", "1", "a"]),
            Frame::Null
        );
        assert_eq!(s.run(&["EXISTS", "nokey"]), int(0));
        assert_eq!(s.run(&["ZINCRBY", "z", "inf", "a"]), d(f64::INFINITY));
        assert_eq!(
            s.run(&["ZINCRBY", "z", "-inf", "a"]),
            err("ERR resulting score is not a number (NaN)")
        );
        assert_eq!(
            s.run(&["ZINCRBY", "z", "x", "a"]),
            err("ERR value is not a valid float")
        );
        s.run(&["SET", "str", "x"]);
        assert_eq!(
            s.run(&["ZADD", "str", "1", "a"]),
            err("WRONGTYPE Operation against a key holding the wrong kind of value")
        );
        assert_eq!(s.run(&["TYPE", "z"]), Frame::Simple("zset".into()));
    }

    #[test]
    fn strtod_reads_like_glibc() {
        use super::{parse_score, strtod, Strtod};
        let r = |s: &str| strtod(s.as_bytes());
        let ok = |value: f64, len: usize| Strtod {
            value,
            len,
            erange: false,
        };
        assert_eq!(r("1.5"), ok(1.5, 3));
        assert_eq!(r("  -2e3x"), ok(-2000.0, 6));
        assert_eq!(r(".5"), ok(0.5, 2));
        assert_eq!(r("1."), ok(1.0, 2));
        assert_eq!(r("1e"), ok(1.0, 1));
        assert_eq!(r("1e+"), ok(1.0, 1));
        assert_eq!(r("0x10"), ok(16.0, 4));
        assert_eq!(r("0X1p3"), ok(8.0, 5));
        assert_eq!(r("0x.8p1"), ok(1.0, 6));
        assert_eq!(r("-0x1.8"), ok(-1.5, 6));
        assert_eq!(r("0x"), ok(0.0, 1));
        assert_eq!(r("0xg"), ok(0.0, 1));
        assert_eq!(r("0x1p"), ok(1.0, 3));
        assert_eq!(r("Infinity"), ok(f64::INFINITY, 8));
        assert_eq!(r("-infin"), ok(f64::NEG_INFINITY, 4));
        assert_eq!(r(""), ok(0.0, 0));
        assert_eq!(r(" "), ok(0.0, 0));
        assert_eq!(r("abc"), ok(0.0, 0));
        assert!(r("nan(x_1)").value.is_nan() && r("nan(x_1)").len == 8);
        assert_eq!(r("nan(").len, 3);
        // Range errors: overflow, underflow to 0, inexact subnormals; exact hex subnormals
        // are fine.
        assert!(r("1e400").erange && r("1e400").value.is_infinite());
        assert!(r("-1e-400").erange && r("-1e-400").value == 0.0);
        assert!(r("1e-310").erange && r("1e-310").value > 0.0);
        assert!(!r("0e-500").erange);
        assert!(!r("2.2250738585072014e-308").erange);
        assert_eq!(r("0x1p-1074"), ok(f64::from_bits(1), 9));
        assert!(r("0x1.8p-1074").erange);
        assert_eq!(r("0x1.8p-1074").value, f64::from_bits(2));
        assert!(r("0x1p1024").erange && r("0x1p1024").value.is_infinite());
        assert_eq!(r("0x1.fffffffffffff8p0").value, 2.0);
        assert_eq!(r("0x1.fffffffffffff7ffp0").value, 2.0 - f64::EPSILON);
        // Values checked against Python's float.fromhex (correctly rounded).
        assert_eq!(r("0x123456789abcdef0123p0").value, 5.373_003_642_731_685e21);
        assert_eq!(r("0x1.00000000000008p0").value, 1.0);
        assert_eq!(
            r("0x1.00000000000008000000001p0").value,
            1.000_000_000_000_000_2
        );
        assert_eq!(
            r("0x1.000000000000080000000000000000001p-1030").value,
            8.691_694_759_794e-311
        );
        // string2d: all of it, no leading space, no NaN, no overflow / underflow.
        let p = |s: &str| parse_score(s.as_bytes());
        assert_eq!(p("0x10"), Some(16.0));
        assert_eq!(p("-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(p("1e-310"), Some(1e-310));
        for bad in [
            "", " 1", "1 ", "1e400", "-1e400", "1e-400", "nan", "0x", "1\x001",
        ] {
            assert_eq!(p(bad), None, "{bad}");
        }
    }

    #[test]
    fn score_parsing_follows_redis() {
        let mut s = Session::new();
        assert_eq!(s.run(&["ZINCRBY", "k", "0x10", "a"]), d(16.0));
        for bad in ["1e400", "-1e400", "1e-400", " 1"] {
            assert_eq!(
                s.run(&["ZINCRBY", "k", bad, "a"]),
                err("ERR value is not a valid float")
            );
            assert_eq!(
                s.run(&["ZADD", "z", bad, "m"]),
                err("ERR value is not a valid float")
            );
            assert_eq!(
                s.run(&["ZUNION", "1", "k", "WEIGHTS", bad]),
                err("ERR weight value is not a float")
            );
        }
        assert_eq!(s.run(&["EXISTS", "z"]), int(0));
        // Range bounds use strtod's own rules: `(` is exclusive 0, spaces and overflow pass.
        s.run(&["ZADD", "r", "-1", "n", "0", "z", "1", "p"]);
        assert_eq!(s.run(&["ZCOUNT", "r", "-inf", "("]), int(1));
        assert_eq!(s.run(&["ZCOUNT", "r", "(", "+inf"]), int(1));
        assert_eq!(s.run(&["ZCOUNT", "r", "", "+inf"]), int(2));
        assert_eq!(s.run(&["ZCOUNT", "r", " 1", "1e400"]), int(1));
        assert_eq!(s.run(&["ZCOUNT", "r", "-0x1", "0x1"]), int(3));
        for bad in ["((1", "1 ", "nan", "(nan", "x"] {
            assert_eq!(
                s.run(&["ZCOUNT", "r", bad, "1"]),
                err("ERR min or max is not a float")
            );
        }
        // A new member's INCR reply is the increment as given: -0 stays -0 (the listpack
        // stores 0); an unchanged score replies the computed one.
        for proto in [2, 3] {
            s.client.proto = proto;
            s.run(&["DEL", "m"]);
            let neg0 = s.run(&["ZINCRBY", "m", "-0", "a"]);
            assert!(matches!(neg0, Frame::Double(v) if v == 0.0 && v.is_sign_negative()));
            assert_eq!(s.run(&["ZSCORE", "m", "a"]), d(0.0));
            let again = s.run(&["ZINCRBY", "m", "-0", "a"]);
            assert!(matches!(again, Frame::Double(v) if v == 0.0 && v.is_sign_positive()));
        }
        s.client.proto = 2;
        s.run(&["CONFIG", "SET", "zset-max-listpack-entries", "0"]);
        s.run(&["ZADD", "sk", "-0", "a"]);
        let zero = s.run(&["ZINCRBY", "sk", "0", "a"]);
        assert!(matches!(zero, Frame::Double(v) if v == 0.0 && v.is_sign_positive()));
        let kept = s.run(&["ZSCORE", "sk", "a"]);
        assert!(matches!(kept, Frame::Double(v) if v == 0.0 && v.is_sign_negative()));
    }

    #[test]
    fn error_order_follows_redis() {
        let mut s = Session::new();
        s.run(&["ZADD", "z", "1", "a"]);
        // LIMIT's conflict with a rank range is judged on its count: -1 means no limit.
        assert_eq!(
            s.run(&["ZRANGE", "a", "-", "-", "LIMIT", "0", "-1"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            s.run(&["ZRANGE", "z", "0", "-1", "LIMIT", "5", "-1"]),
            arr(&["a"])
        );
        assert_eq!(
            s.run(&["ZRANGE", "z", "0", "-1", "LIMIT", "0", "-2"]),
            err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
        );
        // ZPOPMIN: too many arguments before a bad count.
        assert_eq!(s.run(&["ZPOPMIN", "a", "a", "a"]), err("ERR syntax error"));
        assert_eq!(s.run(&["ZPOPMAX", "z", "1", "a"]), err("ERR syntax error"));
        assert_eq!(
            s.run(&["ZPOPMIN", "z", "x"]),
            err("ERR value is out of range, must be positive")
        );
        // ZRANDMEMBER: the count's range, then the syntax, then WITHSCORES' range, then the key.
        let range = "ERR value is out of range, value must between -9223372036854775807 and \
                     9223372036854775807";
        for extra in [&[][..], &["WITHSCORES"], &["FOO"]] {
            let mut argv = vec!["ZRANDMEMBER", "nokey", "-9223372036854775808"];
            argv.extend_from_slice(extra);
            assert_eq!(s.run(&argv), err(range));
        }
        assert_eq!(
            s.run(&["ZRANDMEMBER", "z", "1", "FOO"]),
            err("ERR syntax error")
        );
        assert_eq!(
            s.run(&["ZRANDMEMBER", "nokey", "4611686018427387904", "WITHSCORES"]),
            err("ERR value is out of range")
        );
        assert_eq!(
            s.run(&["ZRANDMEMBER", "z", "4611686018427387903", "WITHSCORES"]),
            arr(&["a", "1"]).into_doubles()
        );
        assert_eq!(
            s.run(&["ZRANDMEMBER", "z", "9223372036854775807"]),
            arr(&["a"])
        );
        assert_eq!(
            s.run(&["ZRANDMEMBER", "nokey", "-9223372036854775807"]),
            arr(&[])
        );
        // ZSCAN: cursor, then the key (missing: empty; WRONGTYPE), then the options.
        let empty = Frame::Array(vec![bulk("0"), arr(&[])]);
        assert_eq!(s.run(&["ZSCAN", "k", "0", "FOO"]), empty);
        assert_eq!(s.run(&["ZSCAN", "k", "0", "COUNT", "0"]), empty);
        assert_eq!(
            s.run(&["ZSCAN", "k", "x", "FOO"]),
            err("ERR invalid cursor")
        );
        s.run(&["SET", "str", "v"]);
        assert_eq!(
            s.run(&["ZSCAN", "str", "0", "FOO"]),
            err("WRONGTYPE Operation against a key holding the wrong kind of value")
        );
        assert_eq!(s.run(&["ZSCAN", "z", "0", "FOO"]), err("ERR syntax error"));
        assert_eq!(
            s.run(&["ZSCAN", "z", "0", "COUNT", "x"]),
            err("ERR value is not an integer or out of range")
        );
        for cmd in ["HSCAN", "SSCAN"] {
            assert_eq!(s.run(&[cmd, "k", "0", "FOO"]), empty);
            assert_eq!(s.run(&[cmd, "k", "0", "COUNT", "0"]), empty);
        }
    }

    #[test]
    fn ranges() {
        let mut s = Session::new();
        s.run(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"]);
        assert_eq!(
            s.run(&["ZRANGE", "z", "0", "-1"]),
            arr(&["a", "b", "c", "d"])
        );
        assert_eq!(
            s.run(&["ZRANGE", "z", "-2", "100", "WITHSCORES"]),
            arr(&["c", "3", "d", "4"]).into_doubles()
        );
        assert_eq!(s.run(&["ZRANGE", "z", "0", "1", "REV"]), arr(&["d", "c"]));
        assert_eq!(s.run(&["ZREVRANGE", "z", "0", "0"]), arr(&["d"]));
        assert_eq!(
            s.run(&["ZRANGE", "z", "(1", "3", "BYSCORE"]),
            arr(&["b", "c"])
        );
        assert_eq!(
            s.run(&["ZRANGE", "z", "+inf", "(1", "BYSCORE", "REV", "LIMIT", "1", "1"]),
            arr(&["c"])
        );
        assert_eq!(
            s.run(&["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "1", "-1"]),
            arr(&["b", "c", "d"])
        );
        assert_eq!(
            s.run(&["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "-1", "2"]),
            arr(&[])
        );
        assert_eq!(
            s.run(&["ZREVRANGEBYSCORE", "z", "3", "2"]),
            arr(&["c", "b"])
        );
        assert_eq!(
            s.run(&["ZRANGEBYSCORE", "z", "(1", "x"]),
            err("ERR min or max is not a float")
        );
        assert_eq!(s.run(&["ZRANGE", "z", "0", "1", "LIMIT", "0", "1"]), err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"));
        assert_eq!(
            s.run(&["ZRANGE", "z", "a", "b", "BYLEX", "BYSCORE"]),
            err("ERR syntax error")
        );
        assert_eq!(
            s.run(&["ZRANGE", "z", "-", "+", "WITHSCORES", "BYLEX"]),
            err("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
        );
        assert_eq!(s.run(&["ZCOUNT", "z", "(1", "4"]), int(3));
        assert_eq!(s.run(&["ZRANK", "z", "c"]), int(2));
        assert_eq!(s.run(&["ZREVRANK", "z", "c"]), int(1));
        assert_eq!(s.run(&["ZRANK", "z", "x"]), Frame::Null);
        s.run(&["ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d"]);
        assert_eq!(s.run(&["ZRANGEBYLEX", "l", "[b", "(d"]), arr(&["b", "c"]));
        assert_eq!(
            s.run(&["ZREVRANGEBYLEX", "l", "+", "-", "LIMIT", "0", "2"]),
            arr(&["d", "c"])
        );
        assert_eq!(s.run(&["ZLEXCOUNT", "l", "-", "+"]), int(4));
        assert_eq!(
            s.run(&["ZRANGEBYLEX", "l", "a", "b"]),
            err("ERR min or max not valid string range item")
        );
        assert_eq!(s.run(&["ZRANGESTORE", "dst", "z", "0", "1"]), int(2));
        assert_eq!(s.run(&["ZRANGE", "dst", "0", "-1"]), arr(&["a", "b"]));
        assert_eq!(s.run(&["ZRANGESTORE", "dst", "z", "5", "6"]), int(0));
        assert_eq!(s.run(&["EXISTS", "dst"]), int(0));
        assert_eq!(
            s.run(&["ZRANGESTORE", "dst", "z", "0", "1", "WITHSCORES"]),
            err("ERR syntax error")
        );
        assert_eq!(s.run(&["ZREMRANGEBYRANK", "z", "0", "0"]), int(1));
        assert_eq!(s.run(&["ZREMRANGEBYSCORE", "z", "(2", "3"]), int(1));
        assert_eq!(s.run(&["ZREMRANGEBYLEX", "l", "-", "[b"]), int(2));
        assert_eq!(s.run(&["ZREMRANGEBYRANK", "z", "0", "-1"]), int(2));
        assert_eq!(s.run(&["EXISTS", "z"]), int(0));
    }

    trait Doubles {
        fn into_doubles(self) -> Frame;
    }

    impl Doubles for Frame {
        /// Turns every second element of a flat array into a double (RESP2 WITHSCORES).
        fn into_doubles(self) -> Frame {
            match self {
                Frame::Array(v) => Frame::Array(
                    v.into_iter()
                        .enumerate()
                        .map(|(i, f)| match (i % 2, f) {
                            (1, Frame::Bulk(b)) => Frame::Double(
                                String::from_utf8_lossy(&b).parse().unwrap_or(f64::NAN),
                            ),
                            (_, f) => f,
                        })
                        .collect(),
                ),
                f => f,
            }
        }
    }

    #[test]
    fn pops_and_mpop() {
        let mut s = Session::new();
        s.run(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
        assert_eq!(s.run(&["ZPOPMIN", "z"]), arr(&["a", "1"]).into_doubles());
        assert_eq!(
            s.run(&["ZPOPMAX", "z", "5"]),
            arr(&["c", "3", "b", "2"]).into_doubles()
        );
        assert_eq!(s.run(&["EXISTS", "z"]), int(0));
        assert_eq!(s.run(&["ZPOPMIN", "z"]), arr(&[]));
        assert_eq!(
            s.run(&["ZPOPMIN", "z", "-1"]),
            err("ERR value is out of range, must be positive")
        );
        s.run(&["ZADD", "z2", "1", "a", "2", "b"]);
        assert_eq!(
            s.run(&["ZMPOP", "2", "z", "z2", "MAX", "COUNT", "1"]),
            Frame::Array(vec![
                bulk("z2"),
                Frame::Array(vec![Frame::Array(vec![bulk("b"), Frame::Double(2.0)])])
            ])
        );
        assert_eq!(s.run(&["ZMPOP", "1", "z", "MIN"]), Frame::NullArray);
        assert_eq!(
            s.run(&["ZMPOP", "0", "z", "MIN"]),
            err("ERR numkeys should be greater than 0")
        );
        assert_eq!(s.run(&["ZMPOP", "1", "z", "FOO"]), err("ERR syntax error"));
        assert_eq!(
            s.run(&["ZMPOP", "1", "z", "MIN", "COUNT", "0"]),
            err("ERR count should be greater than 0")
        );
        assert_eq!(s.run(&["ZMPOP", "5", "z", "MIN"]), err("ERR syntax error"));
    }

    #[test]
    fn setops() {
        let mut s = Session::new();
        s.run(&["ZADD", "a", "1", "x", "2", "y"]);
        s.run(&["ZADD", "b", "10", "y", "20", "z"]);
        assert_eq!(
            s.run(&["ZUNION", "2", "a", "b", "WITHSCORES"]),
            arr(&["x", "1", "y", "12", "z", "20"]).into_doubles()
        );
        assert_eq!(
            s.run(&[
                "ZINTER",
                "2",
                "a",
                "b",
                "WEIGHTS",
                "2",
                "1",
                "AGGREGATE",
                "MIN",
                "WITHSCORES"
            ]),
            arr(&["y", "4"]).into_doubles()
        );
        assert_eq!(s.run(&["ZDIFF", "2", "a", "b"]), arr(&["x"]));
        assert_eq!(
            s.run(&["ZUNIONSTORE", "d", "2", "a", "b", "AGGREGATE", "MAX"]),
            int(3)
        );
        assert_eq!(s.run(&["ZSCORE", "d", "y"]), d(10.0));
        assert_eq!(s.run(&["ZINTERSTORE", "d", "2", "a", "nokey"]), int(0));
        assert_eq!(s.run(&["EXISTS", "d"]), int(0));
        assert_eq!(s.run(&["ZDIFFSTORE", "d", "1", "a"]), int(2));
        assert_eq!(s.run(&["ZINTERCARD", "2", "a", "b"]), int(1));
        assert_eq!(s.run(&["ZINTERCARD", "1", "a", "LIMIT", "1"]), int(1));
        assert_eq!(
            s.run(&["ZINTERCARD", "1", "a", "LIMIT", "-1"]),
            err("ERR LIMIT can't be negative")
        );
        assert_eq!(
            s.run(&["ZUNIONSTORE", "d", "0", "a"]),
            err("ERR at least 1 input key is needed for 'zunionstore' command")
        );
        assert_eq!(s.run(&["ZUNION", "2", "a"]), err("ERR syntax error"));
        assert_eq!(
            s.run(&["ZINTER", "1", "a", "WEIGHTS", "x"]),
            err("ERR weight value is not a float")
        );
        assert_eq!(
            s.run(&["ZDIFF", "1", "a", "WITHSCORES", "WEIGHTS", "1"]),
            err("ERR syntax error")
        );
        s.run(&["SADD", "plain", "x", "q"]);
        if s.run(&["TYPE", "plain"]) == Frame::Simple("set".into()) {
            assert_eq!(
                s.run(&["ZUNION", "2", "a", "plain", "WITHSCORES"]),
                arr(&["q", "1", "x", "2", "y", "2"]).into_doubles()
            );
        }
        // inf * 0 weights count as 0.
        s.run(&["ZADD", "i", "inf", "m"]);
        assert_eq!(
            s.run(&["ZUNION", "1", "i", "WEIGHTS", "0", "WITHSCORES"]),
            arr(&["m", "0"]).into_doubles()
        );
    }

    #[test]
    fn randmember_and_scan() {
        let mut s = Session::new();
        s.run(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
        assert!(matches!(s.run(&["ZRANDMEMBER", "z"]), Frame::Bulk(_)));
        assert_eq!(s.run(&["ZRANDMEMBER", "nokey"]), Frame::Null);
        assert_eq!(s.run(&["ZRANDMEMBER", "nokey", "2"]), arr(&[]));
        let Frame::Array(v) = s.run(&["ZRANDMEMBER", "z", "-5", "WITHSCORES"]) else {
            panic!("array expected");
        };
        assert_eq!(v.len(), 10);
        let Frame::Array(v) = s.run(&["ZRANDMEMBER", "z", "2"]) else {
            panic!("array expected");
        };
        assert_eq!(v.len(), 2);
        assert_ne!(v[0], v[1]);
        assert_eq!(
            s.run(&["ZRANDMEMBER", "z", "-9223372036854775807", "WITHSCORES"]),
            err("ERR value is out of range")
        );
        assert_eq!(
            s.run(&["ZSCAN", "z", "0"]),
            Frame::Array(vec![bulk("0"), arr(&["a", "1", "b", "2", "c", "3"])])
        );
        assert_eq!(s.run(&["ZSCAN", "z", "x"]), err("ERR invalid cursor"));
        assert_eq!(
            s.run(&["ZSCAN", "z", "0", "COUNT", "0"]),
            err("ERR syntax error")
        );
        // A skiplist is scanned completely.
        s.run(&["CONFIG", "SET", "zset-max-listpack-entries", "0"]);
        for i in 0..300 {
            s.run(&["ZADD", "big", &i.to_string(), &format!("m{i}")]);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = "0".to_string();
        for _ in 0..10_000 {
            let Frame::Array(v) = s.run(&["ZSCAN", "big", &cursor]) else {
                panic!("array expected");
            };
            if let [Frame::Bulk(c), Frame::Array(items)] = &v[..] {
                cursor = String::from_utf8_lossy(c).into_owned();
                for m in items.iter().step_by(2) {
                    seen.insert(format!("{m:?}"));
                }
            }
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 300);
    }

    #[test]
    fn encodings_follow_redis() {
        let mut s = Session::new();
        let enc = |s: &mut Session, k: &str| s.run(&["OBJECT", "ENCODING", k]);
        s.run(&["ZADD", "z", "1", "a"]);
        assert_eq!(enc(&mut s, "z"), bulk("listpack"));
        s.run(&["ZADD", "z", "1", &"x".repeat(65)]);
        assert_eq!(enc(&mut s, "z"), bulk("skiplist"));
        s.run(&["ZREM", "z", &"x".repeat(65)]);
        assert_eq!(enc(&mut s, "z"), bulk("skiplist"));
        assert_eq!(s.run(&["ZUNIONSTORE", "u", "1", "z"]), int(1));
        assert_eq!(enc(&mut s, "u"), bulk("listpack"));
        for i in 0..129 {
            s.run(&["ZADD", "big", &i.to_string(), &format!("m{i}")]);
        }
        assert_eq!(enc(&mut s, "big"), bulk("skiplist"));
        s.run(&["ZRANGESTORE", "d", "big", "0", "9"]);
        assert_eq!(enc(&mut s, "d"), bulk("listpack"));
        // -0 reads back as 0 from a listpack and as -0 from a skiplist, as in Redis.
        s.run(&["ZADD", "z0", "-0", "a"]);
        assert_eq!(s.run(&["ZSCORE", "z0", "a"]), d(0.0));
        s.run(&["ZADD", "big", "-0", "zero"]);
        assert!(
            matches!(s.run(&["ZSCORE", "big", "zero"]), Frame::Double(v) if v.is_sign_negative())
        );
    }

    /// Blocks `argv` for a new client (protocol `proto`); returns the waiter and its reply
    /// channel.
    fn block(s: &Session, proto: u8, argv: &[&str]) -> (u64, mpsc::Receiver<Frame>) {
        let mut c = s.engine.new_client();
        c.proto = proto;
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

    fn pair(m: &str, v: f64) -> Frame {
        Frame::Array(vec![bulk(m), Frame::Double(v)])
    }

    #[test]
    fn blocking_pops_without_waiting() {
        let mut s = Session::new();
        // `execute` cannot wait: the timeout reply (a null array) at once.
        assert_eq!(s.run(&["BZPOPMIN", "a", "b", "0"]), Frame::NullArray);
        assert_eq!(s.run(&["BZPOPMAX", "a", "0.5"]), Frame::NullArray);
        assert_eq!(s.run(&["BZMPOP", "0", "1", "a", "MIN"]), Frame::NullArray);
        s.run(&["ZADD", "b", "1", "x", "2.5", "y", "3", "z"]);
        assert_eq!(
            s.run(&["BZPOPMIN", "a", "b", "0"]),
            Frame::Array(vec![bulk("b"), bulk("x"), d(1.0)])
        );
        assert_eq!(
            s.run(&["BZPOPMAX", "a", "b", "0"]),
            Frame::Array(vec![bulk("b"), bulk("z"), d(3.0)])
        );
        s.run(&["ZADD", "b", "1", "x", "3", "z"]);
        assert_eq!(
            s.run(&["BZMPOP", "1", "2", "a", "b", "max", "count", "2"]),
            Frame::Array(vec![
                bulk("b"),
                Frame::Array(vec![pair("z", 3.0), pair("y", 2.5)])
            ])
        );
        assert_eq!(
            s.run(&["BZMPOP", "0", "1", "b", "MIN", "COUNT", "9"]),
            Frame::Array(vec![bulk("b"), Frame::Array(vec![pair("x", 1.0)])])
        );
        assert_eq!(s.run(&["EXISTS", "b"]), int(0));
        // RESP3: the same shapes, with doubles (the encoder writes them as Redis does).
        s.client.proto = 3;
        s.run(&["ZADD", "b", "2", "x"]);
        assert_eq!(
            s.run(&["BZPOPMIN", "b", "0"]),
            Frame::Array(vec![bulk("b"), bulk("x"), d(2.0)])
        );
        assert_eq!(s.run(&["BZPOPMIN", "b", "0"]), Frame::NullArray);
    }

    #[test]
    fn blocking_pop_errors_follow_redis() {
        let mut s = Session::new();
        let t = err("ERR timeout is not a float or out of range");
        let neg = err("ERR timeout is negative");
        let syntax = err("ERR syntax error");
        assert_eq!(s.run(&["BZPOPMIN", "a", "x"]), t);
        assert_eq!(s.run(&["BZPOPMIN", "a", "nan"]), t);
        assert_eq!(s.run(&["BZPOPMIN", "a", ""]), t);
        assert_eq!(s.run(&["BZPOPMAX", "a", "-1"]), neg);
        assert_eq!(s.run(&["BZPOPMAX", "a", "inf"]), neg);
        assert_eq!(s.run(&["BZPOPMAX", "a", "1e20"]), neg);
        assert_eq!(
            s.run(&["BZPOPMIN", "a"]),
            err("ERR wrong number of arguments for 'bzpopmin' command")
        );
        assert_eq!(s.run(&["BZMPOP", "x", "1", "a", "MIN"]), t);
        assert_eq!(s.run(&["BZMPOP", "-1", "1", "a", "MIN"]), neg);
        // numkeys, MIN/MAX and COUNT are checked before the timeout.
        assert_eq!(
            s.run(&["BZMPOP", "x", "0", "a", "MIN"]),
            err("ERR numkeys should be greater than 0")
        );
        assert_eq!(s.run(&["BZMPOP", "x", "5", "a", "MIN"]), syntax);
        assert_eq!(s.run(&["BZMPOP", "x", "1", "a", "FOO"]), syntax);
        assert_eq!(
            s.run(&["BZMPOP", "x", "1", "a", "MIN", "COUNT", "0"]),
            err("ERR count should be greater than 0")
        );
        assert_eq!(s.run(&["BZMPOP", "0", "1", "a", "MIN", "COUNT"]), syntax);
        assert_eq!(
            s.run(&["BZMPOP", "0", "1", "a", "MIN", "COUNT", "1", "COUNT", "1"]),
            syntax
        );
        assert_eq!(
            s.run(&["BZMPOP", "0", "1", "a"]),
            err("ERR wrong number of arguments for 'bzmpop' command")
        );
        s.run(&["SET", "str", "x"]);
        let wrongtype = err("WRONGTYPE Operation against a key holding the wrong kind of value");
        assert_eq!(s.run(&["BZPOPMIN", "a", "str", "0"]), wrongtype);
        assert_eq!(s.run(&["BZMPOP", "0", "2", "a", "str", "MIN"]), wrongtype);
        // The timeout is read before any key.
        assert_eq!(s.run(&["BZPOPMIN", "str", "x"]), t);
    }

    #[test]
    fn waiters_are_served_in_fifo_order_with_the_added_key() {
        let mut s = Session::new();
        let (_, r1) = block(&s, 2, &["BZPOPMIN", "a", "q", "0"]);
        let (_, r2) = block(&s, 3, &["BZPOPMAX", "q", "0"]);
        let (_, r3) = block(&s, 2, &["BZMPOP", "0", "2", "a", "q", "MIN", "COUNT", "5"]);
        assert_eq!(s.engine.blocking.blocked_clients(), 3);
        assert_eq!(s.run(&["ZADD", "q", "1", "m1", "2", "m2"]), int(2));
        assert_eq!(
            r1.try_recv().ok(),
            Some(Frame::Array(vec![bulk("q"), bulk("m1"), d(1.0)]))
        );
        assert_eq!(
            r2.try_recv().ok(),
            Some(Frame::Array(vec![bulk("q"), bulk("m2"), d(2.0)]))
        );
        assert!(r3.try_recv().is_err());
        assert_eq!(s.run(&["EXISTS", "q"]), int(0));
        // A ZADD to the other key wakes it, with that key's name.
        s.run(&["ZADD", "a", "5", "x", "4", "y"]);
        assert_eq!(
            r3.try_recv().ok(),
            Some(Frame::Array(vec![
                bulk("a"),
                Frame::Array(vec![pair("y", 4.0), pair("x", 5.0)])
            ]))
        );
        assert_eq!(s.engine.blocking.blocked_clients(), 0);
    }

    #[test]
    fn every_member_adding_write_wakes_waiters() {
        let mut s = Session::new();
        s.run(&["ZADD", "src", "1", "a", "2", "b"]);
        let (_, by_incr) = block(&s, 2, &["BZPOPMIN", "i", "0"]);
        s.run(&["ZINCRBY", "i", "7", "m"]);
        assert_eq!(
            by_incr.try_recv().ok(),
            Some(Frame::Array(vec![bulk("i"), bulk("m"), d(7.0)]))
        );
        let (_, by_store) = block(&s, 2, &["BZPOPMAX", "u", "0"]);
        s.run(&["ZUNIONSTORE", "u", "1", "src"]);
        assert_eq!(
            by_store.try_recv().ok(),
            Some(Frame::Array(vec![bulk("u"), bulk("b"), d(2.0)]))
        );
        let (_, by_rangestore) = block(&s, 2, &["BZPOPMIN", "r", "0"]);
        s.run(&["ZRANGESTORE", "r", "src", "0", "0"]);
        assert_eq!(
            by_rangestore.try_recv().ok(),
            Some(Frame::Array(vec![bulk("r"), bulk("a"), d(1.0)]))
        );
        // ZADD adding nothing (XX on a missing key) wakes nobody and creates nothing.
        let (id, nothing) = block(&s, 2, &["BZPOPMIN", "n", "0"]);
        assert_eq!(s.run(&["ZADD", "n", "XX", "1", "a"]), int(0));
        assert!(nothing.try_recv().is_err());
        assert_eq!(s.engine.blocking.unblock(id), Some(Frame::NullArray));
        assert_eq!(s.engine.blocking.blocked_clients(), 0);
    }

    #[test]
    fn a_key_of_another_type_leaves_the_waiter_waiting() {
        // Redis 7.0 serves a sorted-set waiter only from a sorted set.
        let mut s = Session::new();
        let (id, rx) = block(&s, 2, &["BZPOPMIN", "k", "0"]);
        let (_, list_waiter) = block(&s, 2, &["BLPOP", "k", "0"]);
        s.run(&["RPUSH", "k", "x", "y"]);
        assert!(rx.try_recv().is_err());
        assert!(s.engine.blocking.is_blocked(id));
        // The list waiter behind it is still served.
        assert_eq!(list_waiter.try_recv().ok(), Some(arr(&["k", "x"])));
        s.run(&["DEL", "k"]);
        s.run(&["ZADD", "k", "1", "m"]);
        assert_eq!(
            rx.try_recv().ok(),
            Some(Frame::Array(vec![bulk("k"), bulk("m"), d(1.0)]))
        );
    }

    #[test]
    fn no_block_clients_get_the_timeout_reply() {
        let s = Session::new();
        let mut c = s.engine.new_client();
        c.no_block = true;
        let mut waker = || -> Deliver { Box::new(|_| {}) };
        for argv in [
            &[&b"BZPOPMIN"[..], b"none", b"0"][..],
            &[b"BZMPOP", b"0", b"1", b"none", b"MAX"],
        ] {
            let out = s.engine.execute_or_block(&mut c, argv, &mut waker);
            assert!(matches!(out, Outcome::Reply(Frame::NullArray)));
        }
        assert_eq!(s.engine.blocking.blocked_clients(), 0);
    }

    #[test]
    fn resp3_shapes() {
        let mut s = Session::new();
        s.client.proto = 3;
        s.run(&["ZADD", "z", "1", "a", "2", "b"]);
        let pair = |m: &str, v: f64| Frame::Array(vec![bulk(m), Frame::Double(v)]);
        assert_eq!(
            s.run(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]),
            Frame::Array(vec![pair("a", 1.0), pair("b", 2.0)])
        );
        assert_eq!(
            s.run(&["ZPOPMIN", "z"]),
            Frame::Array(vec![bulk("a"), Frame::Double(1.0)])
        );
        assert_eq!(
            s.run(&["ZPOPMIN", "z", "1"]),
            Frame::Array(vec![pair("b", 2.0)])
        );
    }

    #[test]
    fn dump_restore_round_trips() {
        let mut s = Session::new();
        s.run(&[
            "ZADD",
            "z",
            "1.5",
            "a",
            "2",
            "b",
            "-3",
            "c",
            "100000",
            "d",
            "3000000000",
            "e",
        ]);
        let Frame::Bulk(p) = s.run(&["DUMP", "z"]) else {
            panic!("bulk expected");
        };
        // redis-server 7.0.15's DUMP of the same set, byte for byte.
        let redis: &[u8] = b"\x11//\x00\x00\x00\n\x00\x81c\x02\xdf\xfd\x02\x81a\x02\x831.5\x04\x81b\x02\x02\x01\x81d\x02\xf2\xa0\x86\x01\x04\x81e\x02\xf4\x00^\xd0\xb2\x00\x00\x00\x00\t\xff\n\x009\x96\xd8U\x7f+z\xeb";
        assert_eq!(p, redis);
        s.run(&["CONFIG", "SET", "zset-max-listpack-entries", "0"]);
        for i in 0..10 {
            s.run(&["ZADD", "big", &i.to_string(), &format!("m{i}")]);
        }
        let Frame::Bulk(p) = s.run(&["DUMP", "big"]) else {
            panic!("bulk expected");
        };
        assert_eq!(p.first(), Some(&5));
        s.run(&["CONFIG", "SET", "zset-max-listpack-entries", "128"]);
        let args: Vec<&[u8]> = vec![b"RESTORE", b"r", b"0", &p];
        assert_eq!(s.engine.execute(&mut s.client, &args), Frame::OK);
        assert_eq!(s.run(&["OBJECT", "ENCODING", "r"]), bulk("listpack"));
        assert_eq!(
            s.run(&["ZRANGE", "r", "0", "-1"]),
            s.run(&["ZRANGE", "big", "0", "-1"])
        );
    }
}
