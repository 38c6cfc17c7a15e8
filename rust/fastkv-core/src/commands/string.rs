//! String commands: GET/SET and their variants, the INCR family, APPEND, ranges, MGET/MSET and
//! LCS — Redis 7.0's `t_string.c` surface, with its reply types and error texts.
//!
//! Values are [`Str`]s; encodings follow Redis so `OBJECT ENCODING` agrees after the same
//! commands: values written whole (SET, MSET, GETSET, SETEX, a new key's APPEND...) go through
//! [`Str::from_bytes`] (`int` when canonical, else `embstr`/`raw` by length); in-place edits
//! (APPEND to an existing key, SETRANGE) make `raw`; INCR results are `int`; INCRBYFLOAT results
//! are `embstr`/`raw` ([`Str::from_computed`]), computed in C `long double` through
//! [`crate::types::ldouble`].
//!
//! Deadlines: EX/PX are relative to `ctx.now`, EXAT/PXAT absolute. Commands that keep a key's
//! TTL (INCR family, APPEND, SETRANGE, SET KEEPTTL) edit the entry in place; the rest replace
//! it. A deadline already in the past deletes the key, as Redis 7.0 does.

use crate::command::{
    keys, parse_int, Args, CommandSpec, ALL_ARGS, DENYOOM, FAST, KEY1, READONLY, WRITE,
};
use crate::dispatch::Ctx;
use crate::error::OpError;
use crate::notify::{GENERIC, STRING};
use crate::types::ldouble::LongDouble;
use crate::types::{Str, Value};
use fastkv_resp::Frame;

// ---------------------------------------------------------------------------------------------
// Shared pieces: expire options, size limit
// ---------------------------------------------------------------------------------------------

/// How an expire argument is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExpireKind {
    /// EX: seconds from now.
    Ex,
    /// PX: milliseconds from now.
    Px,
    /// EXAT: a Unix time in seconds.
    ExAt,
    /// PXAT: a Unix time in milliseconds.
    PxAt,
}

impl ExpireKind {
    fn is_absolute(self) -> bool {
        matches!(self, ExpireKind::ExAt | ExpireKind::PxAt)
    }
}

/// The absolute deadline (ms) an expire argument names — Redis's `getExpireMillisecondsOrReply`:
/// not an integer is `ERR value is not an integer or out of range`; zero, negative, or
/// overflowing once converted to ms or added to now is `ERR invalid expire time in '<cmd>'
/// command`.
fn expire_deadline(
    kind: ExpireKind,
    arg: &[u8],
    now: u64,
    cmd: &'static str,
) -> Result<u64, OpError> {
    let v = parse_int(arg)?;
    let invalid = || OpError::msg(format!("invalid expire time in '{cmd}' command"));
    if v <= 0 {
        return Err(invalid());
    }
    let ms = match kind {
        ExpireKind::Ex | ExpireKind::ExAt => v.checked_mul(1000).ok_or_else(invalid)?,
        ExpireKind::Px | ExpireKind::PxAt => v,
    };
    let at = if kind.is_absolute() {
        ms
    } else {
        let now = i64::try_from(now).map_err(|_| invalid())?;
        ms.checked_add(now).ok_or_else(invalid)?
    };
    u64::try_from(at).map_err(|_| invalid())
}

/// SET's and GETEX's options (Redis's `parseExtendedStringArgumentsOrReply`).
#[derive(Debug, Default)]
struct SetOptions<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keep_ttl: bool,
    persist: bool,
    expire: Option<(ExpireKind, &'a [u8])>,
}

/// Which command the options belong to: NX, XX, GET and KEEPTTL are SET's, PERSIST is GETEX's;
/// the expire options are both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OptionsFor {
    Set,
    GetEx,
}

/// Reads the options after SET's value or GETEX's key. Any unknown option, missing expire
/// argument or conflicting pair (NX+XX, KEEPTTL or PERSIST with an expire, two different expire
/// kinds) is `ERR syntax error`. Repeating the same option is allowed, the last expire value
/// winning, as in Redis. The expire value itself is checked later (after GET's lookup for SET,
/// after the key lookup for GETEX), so the error order matches Redis's.
fn parse_set_options<'a>(args: &mut Args<'a>, cmd: OptionsFor) -> Result<SetOptions<'a>, OpError> {
    let mut o = SetOptions::default();
    let is_set = cmd == OptionsFor::Set;
    while let Ok(opt) = args.next_bytes() {
        let is = |name: &str| opt.eq_ignore_ascii_case(name.as_bytes());
        let kind = if is("EX") {
            Some(ExpireKind::Ex)
        } else if is("PX") {
            Some(ExpireKind::Px)
        } else if is("EXAT") {
            Some(ExpireKind::ExAt)
        } else if is("PXAT") {
            Some(ExpireKind::PxAt)
        } else {
            None
        };
        if let Some(kind) = kind {
            let other_expire = o.expire.is_some_and(|(k, _)| k != kind);
            if o.keep_ttl || o.persist || other_expire || args.is_empty() {
                return Err(OpError::Syntax);
            }
            o.expire = Some((kind, args.next_bytes()?));
        } else if is_set && is("NX") && !o.xx {
            o.nx = true;
        } else if is_set && is("XX") && !o.nx {
            o.xx = true;
        } else if is_set && is("GET") {
            o.get = true;
        } else if is_set && is("KEEPTTL") && o.expire.is_none() {
            o.keep_ttl = true;
        } else if !is_set && is("PERSIST") && o.expire.is_none() {
            o.persist = true;
        } else {
            return Err(OpError::Syntax);
        }
    }
    Ok(o)
}

/// Redis's `checkStringLength`: a string may not grow past `proto-max-bulk-len`.
fn check_string_length(ctx: &Ctx<'_, '_>, size: u64, append: u64) -> Result<(), OpError> {
    let max = ctx.engine.config.read().proto_max_bulk_len;
    match size.checked_add(append) {
        Some(total) if total <= max => Ok(()),
        _ => Err(OpError::err(
            "string exceeds maximum allowed size (proto-max-bulk-len)",
        )),
    }
}

/// The current value of `key` as a reply: bulk, null if missing, WRONGTYPE if not a string.
fn get_reply(ctx: &mut Ctx<'_, '_>, key: &[u8]) -> Result<Frame, OpError> {
    // A read even in the writes that use it (GETSET, GETDEL, GETEX, SET ... GET): counted as
    // a keyspace hit or miss, as Redis's lookupKeyRead.
    match ctx.value_read(key) {
        None => Ok(Frame::Null),
        Some(v) => Ok(Frame::Bulk(v.as_str()?.to_vec())),
    }
}

/// `GET key` for a front end that takes the value in its own shape
/// ([`crate::Engine::execute_prepared_with`]): `f` sees the value's bytes while the key's
/// shard is locked (it must not block or call back into the engine). `None` if the key is
/// missing, WRONGTYPE if it is not a string: [`cmd_get`]'s semantics.
pub fn get_with<R>(
    ctx: &mut Ctx<'_, '_>,
    args: &mut Args<'_>,
    f: impl FnOnce(&[u8]) -> R,
) -> Result<Option<R>, OpError> {
    let key = args.next_bytes()?;
    match ctx.value(key) {
        None => Ok(None),
        Some(v) => Ok(Some(f(&v.as_str()?.as_bytes()))),
    }
}

// ---------------------------------------------------------------------------------------------
// GET / SET and their variants
// ---------------------------------------------------------------------------------------------

/// `GET key` — the value, or null. WRONGTYPE for non-strings.
fn cmd_get(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    get_reply(ctx, key)
}

/// What SET-like commands write, shared by SET, SETNX, SETEX and PSETEX (Redis's
/// `setGenericCommand`).
struct SetRequest<'a> {
    key: &'a [u8],
    value: &'a [u8],
    options: SetOptions<'a>,
    /// The command name for `invalid expire time in '<cmd>' command`.
    cmd: &'static str,
}

/// Shared SET logic. Order, as Redis: validate the expire value; with GET, read the old value
/// (WRONGTYPE stops here); then NX/XX; then store, then the deadline. The reply is OK (or the
/// old value with GET); a failed NX/XX condition answers null (or the old value with GET).
fn set_generic(ctx: &mut Ctx<'_, '_>, req: SetRequest<'_>) -> Result<Frame, OpError> {
    let SetRequest {
        key,
        value,
        options: o,
        cmd,
    } = req;
    let deadline = match o.expire {
        Some((kind, arg)) => Some(expire_deadline(kind, arg, ctx.now, cmd)?),
        None => None,
    };
    let old = if o.get {
        Some(get_reply(ctx, key)?)
    } else {
        None
    };
    let found = ctx.get(key).is_some();
    if (o.nx && found) || (o.xx && !found) {
        return Ok(old.unwrap_or(Frame::Null));
    }
    ctx.set(key, Value::Str(Str::from_bytes(value)), o.keep_ttl);
    ctx.notify(STRING, "set", key);
    if let Some(at) = deadline {
        ctx.notify(GENERIC, "expire", key);
        if at <= ctx.now {
            // Redis stores the deadline and lets the key expire: the same events, at once.
            ctx.remove(key);
            ctx.notify(crate::notify::EXPIRED, "expired", key);
        } else {
            ctx.set_expire(key, at);
        }
    }
    Ok(old.unwrap_or(Frame::OK))
}

/// `SET key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds |
/// PXAT unix-time-milliseconds | KEEPTTL]`
///
/// OK; null when NX/XX prevented the write; with GET the old value (null if none) instead,
/// WRONGTYPE (and no write) if the old value is not a string. Without KEEPTTL any previous TTL
/// is dropped. An EXAT/PXAT in the past stores and immediately expires the key.
fn cmd_set(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let value = args.next_bytes()?;
    let options = parse_set_options(args, OptionsFor::Set)?;
    set_generic(
        ctx,
        SetRequest {
            key,
            value,
            options,
            cmd: "set",
        },
    )
}

/// `SETNX key value` — 1 if the key was set, 0 if it already existed (of any type).
fn cmd_setnx(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let value = args.next_bytes()?;
    if ctx.get(key).is_some() {
        return Ok(Frame::Integer(0));
    }
    ctx.set(key, Value::Str(Str::from_bytes(value)), false);
    ctx.notify(STRING, "set", key);
    Ok(Frame::Integer(1))
}

/// SETEX and PSETEX: `<cmd> key <ttl> value` with the TTL in `kind`'s unit.
fn setex_generic(
    ctx: &mut Ctx<'_, '_>,
    args: &mut Args<'_>,
    kind: ExpireKind,
    cmd: &'static str,
) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let ttl = args.next_bytes()?;
    let value = args.next_bytes()?;
    let options = SetOptions {
        expire: Some((kind, ttl)),
        ..SetOptions::default()
    };
    set_generic(
        ctx,
        SetRequest {
            key,
            value,
            options,
            cmd,
        },
    )
}

/// `SETEX key seconds value` — OK. Seconds must be positive: `ERR invalid expire time in
/// 'setex' command`.
fn cmd_setex(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    setex_generic(ctx, args, ExpireKind::Ex, "setex")
}

/// `PSETEX key milliseconds value` — OK. Milliseconds must be positive: `ERR invalid expire
/// time in 'psetex' command`.
fn cmd_psetex(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    setex_generic(ctx, args, ExpireKind::Px, "psetex")
}

/// `GETSET key value` — the old value (null if none) after storing the new one, dropping any
/// TTL. WRONGTYPE (and no write) if the old value is not a string.
fn cmd_getset(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let value = args.next_bytes()?;
    let old = get_reply(ctx, key)?;
    // The SET half looks the key up again in Redis (setKey): a second access.
    ctx.get(key);
    ctx.set(key, Value::Str(Str::from_bytes(value)), false);
    ctx.notify(STRING, "set", key);
    Ok(old)
}

/// `GETDEL key` — the value (null if none), then deletes the key. WRONGTYPE (and no delete) for
/// non-strings.
fn cmd_getdel(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let reply = get_reply(ctx, key)?;
    if reply != Frame::Null {
        ctx.remove(key);
        ctx.notify(GENERIC, "del", key);
    }
    Ok(reply)
}

/// `GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT
/// unix-time-milliseconds | PERSIST]`
///
/// The value, or null for a missing key (whatever the expire value says); then sets or removes
/// the TTL. Order, as Redis: syntax, lookup, WRONGTYPE, the expire value. An EXAT/PXAT in the
/// past deletes the key after replying with its value.
fn cmd_getex(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let o = parse_set_options(args, OptionsFor::GetEx)?;
    let reply = get_reply(ctx, key)?;
    if reply == Frame::Null {
        return Ok(reply);
    }
    if let Some((kind, arg)) = o.expire {
        let at = expire_deadline(kind, arg, ctx.now, "getex")?;
        if kind.is_absolute() && at <= ctx.now {
            ctx.remove(key);
            ctx.notify(GENERIC, "del", key);
        } else {
            ctx.set_expire(key, at);
            ctx.notify(GENERIC, "expire", key);
        }
    } else if o.persist && ctx.persist(key) {
        ctx.notify(GENERIC, "persist", key);
    }
    Ok(reply)
}

// ---------------------------------------------------------------------------------------------
// Multiple keys
// ---------------------------------------------------------------------------------------------

/// `MGET key [key ...]` — an array with each value, null for missing keys and non-strings.
fn cmd_mget(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let keys = args.rest();
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        let item = match ctx.value(key).map(|v| v.as_str()) {
            Some(Ok(s)) => Frame::Bulk(s.to_vec()),
            _ => Frame::Null,
        };
        out.push(item);
    }
    Ok(Frame::Array(out))
}

/// The key/value pairs of MSET/MSETNX; an odd count is Redis's arity error for `cmd`.
fn pairs<'a>(args: &mut Args<'a>, cmd: &str) -> Result<&'a [&'a [u8]], OpError> {
    let rest = args.rest();
    if rest.is_empty() || !rest.chunks_exact(2).remainder().is_empty() {
        return Err(OpError::Arity(cmd.to_string()));
    }
    Ok(rest)
}

/// `MSET key value [key value ...]` — OK. Later pairs win over earlier ones with the same key;
/// TTLs are dropped.
fn cmd_mset(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    for pair in pairs(args, "mset")?.chunks_exact(2) {
        if let [key, value] = pair {
            ctx.set(key, Value::Str(Str::from_bytes(value)), false);
            ctx.notify(STRING, "set", key);
        }
    }
    Ok(Frame::OK)
}

/// `MSETNX key value [key value ...]` — 1 and sets every pair if none of the keys exists
/// (of any type), else 0 and sets nothing.
fn cmd_msetnx(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let pairs = pairs(args, "msetnx")?;
    for key in pairs.iter().step_by(2) {
        if ctx.get(key).is_some() {
            return Ok(Frame::Integer(0));
        }
    }
    for pair in pairs.chunks_exact(2) {
        if let [key, value] = pair {
            ctx.set(key, Value::Str(Str::from_bytes(value)), false);
            ctx.notify(STRING, "set", key);
        }
    }
    Ok(Frame::Integer(1))
}

// ---------------------------------------------------------------------------------------------
// Counters
// ---------------------------------------------------------------------------------------------

/// Adds `delta` to the integer at `key` (0 if missing), keeping its TTL — Redis's
/// `incrDecrCommand`. WRONGTYPE; `ERR value is not an integer or out of range` if the value is
/// not a canonical i64; `ERR increment or decrement would overflow`.
fn incr_generic(ctx: &mut Ctx<'_, '_>, key: &[u8], delta: i64) -> Result<Frame, OpError> {
    match ctx.get(key) {
        Some(entry) => {
            let s = entry.value.as_str_mut()?;
            let current = s.as_int().ok_or(OpError::NotInteger)?;
            let next = current.checked_add(delta).ok_or(OpError::Overflow)?;
            *s = Str::Int(next);
            ctx.dirty += 1;
            ctx.notify(STRING, "incrby", key);
            Ok(Frame::Integer(next))
        }
        None => {
            ctx.set(key, Value::Str(Str::Int(delta)), false);
            ctx.notify(STRING, "incrby", key);
            Ok(Frame::Integer(delta))
        }
    }
}

/// `INCR key` — the new value.
fn cmd_incr(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    incr_generic(ctx, key, 1)
}

/// `DECR key` — the new value.
fn cmd_decr(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    incr_generic(ctx, key, -1)
}

/// `INCRBY key increment` — the new value. The increment is parsed before the key is read.
fn cmd_incrby(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let delta = args.next_i64()?;
    incr_generic(ctx, key, delta)
}

/// `DECRBY key decrement` — the new value. A decrement of i64::MIN cannot be negated:
/// `ERR decrement would overflow` (before the key is read).
fn cmd_decrby(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let delta = args.next_i64()?;
    let delta = delta
        .checked_neg()
        .ok_or(OpError::err("decrement would overflow"))?;
    incr_generic(ctx, key, delta)
}

/// `INCRBYFLOAT key increment` — the new value as a bulk string.
///
/// Computed in C `long double` and printed `%.17Lf` with trailing zeros trimmed, exactly as
/// Redis (see [`crate::types::ldouble`]); the result is stored as `embstr`/`raw`, never `int`,
/// and the key keeps its TTL. Order: WRONGTYPE, then the stored value and the increment must
/// be floats (`ERR value is not a valid float`: no spaces, not empty, no NaN), then `ERR
/// increment would produce NaN or Infinity`.
fn cmd_incrbyfloat(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let incr_arg = args.next_bytes()?;
    let entry = ctx.get(key);
    let current = match &entry {
        Some(e) => {
            let s = e.value.as_str()?;
            LongDouble::parse(&s.as_bytes()).ok_or(OpError::NotFloat)?
        }
        None => LongDouble::parse(b"0").ok_or(OpError::NotFloat)?,
    };
    let incr = LongDouble::parse(incr_arg).ok_or(OpError::NotFloat)?;
    let text = (current + incr)
        .to_human()
        .ok_or(OpError::err("increment would produce NaN or Infinity"))?;
    let reply = Frame::Bulk(text.clone());
    let value = Str::from_computed(text);
    match entry {
        Some(e) => {
            *e.value.as_str_mut()? = value;
            ctx.dirty += 1;
        }
        None => {
            ctx.set(key, Value::Str(value), false);
        }
    }
    ctx.notify(STRING, "incrbyfloat", key);
    Ok(reply)
}

// ---------------------------------------------------------------------------------------------
// Lengths and ranges
// ---------------------------------------------------------------------------------------------

/// `APPEND key value` — the new length. A new key is stored like SET (so `int` if canonical);
/// an existing one is edited in place (becoming `raw`, keeping its TTL). `ERR string exceeds
/// maximum allowed size (proto-max-bulk-len)` past the limit.
fn cmd_append(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let tail = args.next_bytes()?;
    let current_len = match ctx.value(key) {
        None => {
            ctx.set(key, Value::Str(Str::from_bytes(tail)), false);
            ctx.notify(STRING, "append", key);
            return Ok(Frame::Integer(len_reply(tail.len())));
        }
        Some(v) => v.as_str()?.len(),
    };
    check_string_length(ctx, current_len as u64, tail.len() as u64)?;
    // The second lookup is not another access (Redis looks the key up once).
    let new_len = match ctx.peek(key) {
        Some(e) => e.value.as_str_mut()?.append(tail),
        None => 0,
    };
    ctx.dirty += 1;
    ctx.notify(STRING, "append", key);
    Ok(Frame::Integer(len_reply(new_len)))
}

/// A length as an integer reply (lengths are bounded by `proto-max-bulk-len`, far below i64).
fn len_reply(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `STRLEN key` — the length, 0 for a missing key.
fn cmd_strlen(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let n = match ctx.value(key) {
        None => 0,
        Some(v) => v.as_str()?.len(),
    };
    Ok(Frame::Integer(len_reply(n)))
}

/// The byte range `start..=end` selects in a string of `len` bytes, Redis's GETRANGE rules:
/// negative indexes count from the end, both ends are clamped, and an inverted range (or two
/// negative indexes with start after end) is empty.
fn clamp_range(len: usize, start: i64, end: i64) -> Option<std::ops::Range<usize>> {
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let len = i64::try_from(len).ok()?;
    let from_end = |i: i64| if i < 0 { i.saturating_add(len) } else { i };
    let start = from_end(start).max(0);
    let end = from_end(end).max(0);
    let end = end.min(len - 1);
    if len == 0 || start > end {
        return None;
    }
    let start = usize::try_from(start).ok()?;
    let end = usize::try_from(end).ok()?;
    Some(start..end + 1)
}

/// `GETRANGE key start end` — the substring (inclusive indexes, negative from the end); an
/// empty string for a missing key or an empty range. Indexes are parsed before the key is
/// read.
fn cmd_getrange(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let start = args.next_i64()?;
    let end = args.next_i64()?;
    let Some(v) = ctx.value(key) else {
        return Ok(Frame::Bulk(Vec::new()));
    };
    let s = v.as_str()?;
    let bytes = s.as_bytes();
    let out = clamp_range(bytes.len(), start, end)
        .and_then(|r| bytes.get(r))
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    Ok(Frame::Bulk(out))
}

/// `SETRANGE key offset value` — the new length. Zero-pads up to `offset`; the value becomes
/// `raw` and keeps its TTL. An empty value changes nothing (a missing key stays missing: 0).
/// Errors: `ERR value is not an integer or out of range`, `ERR offset is out of range` for a
/// negative offset, WRONGTYPE, `ERR string exceeds maximum allowed size (proto-max-bulk-len)`.
fn cmd_setrange(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let offset = args.next_i64()?;
    let part = args.next_bytes()?;
    let offset = u64::try_from(offset).map_err(|_| OpError::err("offset is out of range"))?;
    let current_len = match ctx.value(key) {
        None => None,
        Some(v) => Some(v.as_str()?.len()),
    };
    if part.is_empty() {
        return Ok(Frame::Integer(len_reply(current_len.unwrap_or(0))));
    }
    check_string_length(ctx, offset, part.len() as u64)?;
    // The check above bounds offset + part.len() by proto-max-bulk-len (at most 512 MB by
    // default), so it fits in usize.
    let offset = usize::try_from(offset).map_err(|_| OpError::err("offset is out of range"))?;
    let new_len = match current_len {
        None => {
            let mut s = Str::Raw(Box::default());
            let n = s.set_range(offset, part);
            ctx.set(key, Value::Str(s), false);
            n
        }
        Some(_) => {
            // Not another access: the key was looked up above.
            let n = match ctx.peek(key) {
                Some(e) => e.value.as_str_mut()?.set_range(offset, part),
                None => 0,
            };
            ctx.dirty += 1;
            n
        }
    };
    ctx.notify(STRING, "setrange", key);
    Ok(Frame::Integer(len_reply(new_len)))
}

// ---------------------------------------------------------------------------------------------
// LCS
// ---------------------------------------------------------------------------------------------

/// One common run found by LCS: inclusive byte ranges in each string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LcsMatch {
    a: (usize, usize),
    b: (usize, usize),
}

impl LcsMatch {
    fn len(&self) -> usize {
        self.a.1 - self.a.0 + 1
    }
}

/// The longest common subsequence of `a` and `b` and its runs, from the end backwards.
///
/// Classic dynamic programming: `table[i][j]` is the LCS length of `a[..i]` and `b[..j]`
/// (O(|a|·|b|) time and u32 cells). Walking back from the corner, a byte match extends the
/// current run; otherwise we step towards the larger neighbour, preferring to drop a byte of
/// `b` on ties. That tie-break and the run bookkeeping decide *which* LCS is reported, so they
/// follow Redis's choices exactly. Runs come out last-first, as Redis lists them.
struct Lcs {
    text: Vec<u8>,
    matches: Vec<LcsMatch>,
}

fn lcs(a: &[u8], b: &[u8]) -> Result<Lcs, OpError> {
    let (alen, blen) = (a.len(), b.len());
    let width = blen + 1;
    let cells = (alen + 1).checked_mul(width);
    let mut table: Vec<u32> = Vec::new();
    let reserved = match cells {
        Some(n) => table.try_reserve_exact(n).is_ok(),
        None => false,
    };
    if !reserved {
        return Err(OpError::err(
            "Insufficient memory, failed allocating transient memory for LCS",
        ));
    }
    table.resize(cells.unwrap_or(0), 0);
    // Cells are addressed through `get` so that no index can panic; every (i, j) used below is
    // within 0..=alen x 0..=blen, so the lookups always succeed.
    let at = |t: &Vec<u32>, i: usize, j: usize| t.get(i * width + j).copied().unwrap_or(0);
    for (i, &ca) in a.iter().enumerate() {
        for (j, &cb) in b.iter().enumerate() {
            let v = if ca == cb {
                at(&table, i, j) + 1
            } else {
                at(&table, i, j + 1).max(at(&table, i + 1, j))
            };
            if let Some(cell) = table.get_mut((i + 1) * width + j + 1) {
                *cell = v;
            }
        }
    }

    let total = at(&table, alen, blen) as usize;
    let mut text = vec![0u8; total];
    let mut idx = total;
    let mut matches = Vec::new();
    let mut run: Option<LcsMatch> = None;
    let (mut i, mut j) = (alen, blen);
    while i > 0 && j > 0 {
        let (ca, cb) = (a.get(i - 1).copied(), b.get(j - 1).copied());
        let mut emit = false;
        if ca == cb {
            if let (Some(slot), Some(c)) = (text.get_mut(idx.wrapping_sub(1)), ca) {
                *slot = c;
            }
            match &mut run {
                None => {
                    run = Some(LcsMatch {
                        a: (i - 1, i - 1),
                        b: (j - 1, j - 1),
                    })
                }
                // Walking back diagonally always continues the run: the previous match was
                // at (i, j).
                Some(m) => {
                    m.a.0 -= 1;
                    m.b.0 -= 1;
                }
            }
            if run.is_some_and(|m| m.a.0 == 0 || m.b.0 == 0) {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if at(&table, i - 1, j) > at(&table, i, j - 1) {
                i -= 1;
            } else {
                j -= 1;
            }
            emit = run.is_some();
        }
        if emit {
            if let Some(m) = run.take() {
                matches.push(m);
            }
        }
    }
    Ok(Lcs { text, matches })
}

/// `LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]`
///
/// The longest common subsequence as a bulk string; with LEN its length; with IDX a map
/// (`matches`: `[[a_start, a_end], [b_start, b_end], (len)?]` runs, last first, those shorter
/// than MINMATCHLEN left out; `len`: the LCS length) — a RESP3 map, a flat array in RESP2.
/// Missing keys are empty strings. Errors: `ERR The specified keys must contain string values`
/// (checked first), `ERR syntax error`, `ERR If you want both the length and indexes, please
/// just use IDX.`
fn cmd_lcs(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key_a = args.next_bytes()?;
    let key_b = args.next_bytes()?;
    let mut read = |key: &[u8]| -> Result<Vec<u8>, OpError> {
        match ctx.value(key) {
            None => Ok(Vec::new()),
            Some(v) => v
                .as_str()
                .map(Str::to_vec)
                .map_err(|_| OpError::err("The specified keys must contain string values")),
        }
    };
    let (a, b) = (read(key_a), read(key_b));
    let (a, b) = (a?, b?);

    let (mut get_len, mut get_idx, mut with_match_len) = (false, false, false);
    let mut min_match_len: u64 = 0;
    while let Ok(opt) = args.next_bytes() {
        if opt.eq_ignore_ascii_case(b"IDX") {
            get_idx = true;
        } else if opt.eq_ignore_ascii_case(b"LEN") {
            get_len = true;
        } else if opt.eq_ignore_ascii_case(b"WITHMATCHLEN") {
            with_match_len = true;
        } else if opt.eq_ignore_ascii_case(b"MINMATCHLEN") && !args.is_empty() {
            // Negative means no minimum.
            min_match_len = u64::try_from(args.next_i64()?).unwrap_or(0);
        } else {
            return Err(OpError::Syntax);
        }
    }
    if get_idx && get_len {
        return Err(OpError::err(
            "If you want both the length and indexes, please just use IDX.",
        ));
    }
    // Redis's limit for its u32 table cells; unreachable under proto-max-bulk-len, kept so the
    // u32 cells can never overflow whatever the configuration.
    if a.len() >= u32::MAX as usize - 1 || b.len() >= u32::MAX as usize - 1 {
        return Err(OpError::err("String too long for LCS"));
    }

    let found = lcs(&a, &b)?;
    if get_len {
        return Ok(Frame::Integer(len_reply(found.text.len())));
    }
    if !get_idx {
        return Ok(Frame::Bulk(found.text));
    }
    let int = |n: usize| Frame::Integer(len_reply(n));
    let matches = found
        .matches
        .iter()
        .filter(|m| m.len() as u64 >= min_match_len)
        .map(|m| {
            let mut item = vec![
                Frame::Array(vec![int(m.a.0), int(m.a.1)]),
                Frame::Array(vec![int(m.b.0), int(m.b.1)]),
            ];
            if with_match_len {
                item.push(int(m.len()));
            }
            Frame::Array(item)
        })
        .collect();
    Ok(Frame::Map(vec![
        (Frame::bulk("matches"), Frame::Array(matches)),
        (Frame::bulk("len"), int(found.text.len())),
    ]))
}

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("get", 2, READONLY | FAST, KEY1, cmd_get).doc(
        "string",
        "1.0.0",
        "Get the value of a key",
    ),
    CommandSpec::new("set", -3, WRITE | DENYOOM, KEY1, cmd_set).doc(
        "string",
        "1.0.0",
        "Set the string value of a key",
    ),
    CommandSpec::new("setnx", 3, WRITE | DENYOOM | FAST, KEY1, cmd_setnx).doc(
        "string",
        "1.0.0",
        "Set the value of a key, only if the key does not exist",
    ),
    CommandSpec::new("setex", 4, WRITE | DENYOOM, KEY1, cmd_setex).doc(
        "string",
        "2.0.0",
        "Set the value and expiration of a key",
    ),
    CommandSpec::new("psetex", 4, WRITE | DENYOOM, KEY1, cmd_psetex).doc(
        "string",
        "2.6.0",
        "Set the value and expiration in milliseconds of a key",
    ),
    CommandSpec::new("getset", 3, WRITE | DENYOOM | FAST, KEY1, cmd_getset).doc(
        "string",
        "1.0.0",
        "Set the string value of a key and return its old value",
    ),
    CommandSpec::new("getdel", 2, WRITE | FAST, KEY1, cmd_getdel).doc(
        "string",
        "6.2.0",
        "Get the value of a key and delete the key",
    ),
    CommandSpec::new("getex", -2, WRITE | FAST, KEY1, cmd_getex).doc(
        "string",
        "6.2.0",
        "Get the value of a key and optionally set its expiration",
    ),
    CommandSpec::new("mget", -2, READONLY | FAST, ALL_ARGS, cmd_mget).doc(
        "string",
        "1.0.0",
        "Get the values of all the given keys",
    ),
    CommandSpec::new("mset", -3, WRITE | DENYOOM, keys(1, -1, 2), cmd_mset).doc(
        "string",
        "1.0.1",
        "Set multiple keys to multiple values",
    ),
    CommandSpec::new("msetnx", -3, WRITE | DENYOOM, keys(1, -1, 2), cmd_msetnx).doc(
        "string",
        "1.0.1",
        "Set multiple keys to multiple values, only if none of the keys exist",
    ),
    CommandSpec::new("incr", 2, WRITE | DENYOOM | FAST, KEY1, cmd_incr).doc(
        "string",
        "1.0.0",
        "Increment the integer value of a key by one",
    ),
    CommandSpec::new("decr", 2, WRITE | DENYOOM | FAST, KEY1, cmd_decr).doc(
        "string",
        "1.0.0",
        "Decrement the integer value of a key by one",
    ),
    CommandSpec::new("incrby", 3, WRITE | DENYOOM | FAST, KEY1, cmd_incrby).doc(
        "string",
        "1.0.0",
        "Increment the integer value of a key by the given amount",
    ),
    CommandSpec::new("decrby", 3, WRITE | DENYOOM | FAST, KEY1, cmd_decrby).doc(
        "string",
        "1.0.0",
        "Decrement the integer value of a key by the given number",
    ),
    CommandSpec::new(
        "incrbyfloat",
        3,
        WRITE | DENYOOM | FAST,
        KEY1,
        cmd_incrbyfloat,
    )
    .doc(
        "string",
        "2.6.0",
        "Increment the float value of a key by the given amount",
    ),
    CommandSpec::new("append", 3, WRITE | DENYOOM | FAST, KEY1, cmd_append).doc(
        "string",
        "2.0.0",
        "Append a value to a key",
    ),
    CommandSpec::new("strlen", 2, READONLY | FAST, KEY1, cmd_strlen).doc(
        "string",
        "2.2.0",
        "Get the length of the value stored in a key",
    ),
    CommandSpec::new("getrange", 4, READONLY, KEY1, cmd_getrange).doc(
        "string",
        "2.4.0",
        "Get a substring of the string stored at a key",
    ),
    CommandSpec::new("substr", 4, READONLY, KEY1, cmd_getrange).doc(
        "string",
        "1.0.0",
        "Get a substring of the string stored at a key",
    ),
    CommandSpec::new("setrange", 4, WRITE | DENYOOM, KEY1, cmd_setrange).doc(
        "string",
        "2.2.0",
        "Overwrite part of a string at key starting at the specified offset",
    ),
    CommandSpec::new("lcs", -3, READONLY, keys(1, 2, 1), cmd_lcs).doc(
        "string",
        "7.0.0",
        "Find longest common substring",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;
    use fastkv_resp::Frame;

    fn encoding(s: &Session, key: &str) -> &'static str {
        let mut held = s.engine.keyspace.lock_keys([key.as_bytes()]);
        held.get(0, key.as_bytes(), crate::time::now_ms())
            .map(|e| e.value.encoding_name())
            .unwrap_or("none")
    }

    /// The key's deadline minus now, in ms (None: no key or no TTL).
    fn pttl(s: &Session, key: &str) -> Option<i64> {
        let now = crate::time::now_ms();
        let mut held = s.engine.keyspace.lock_keys([key.as_bytes()]);
        let at = held.get(0, key.as_bytes(), now)?.expire_at()?;
        Some(at as i64 - now as i64)
    }

    fn exists(s: &Session, key: &str) -> bool {
        encoding(s, key) != "none"
    }

    fn arr(items: Vec<Frame>) -> Frame {
        Frame::Array(items)
    }

    fn now_s() -> u64 {
        crate::time::now_ms() / 1000
    }

    const INVALID_SET: &str = "ERR invalid expire time in 'set' command";
    const NOT_INT: &str = "ERR value is not an integer or out of range";
    const NOT_FLOAT: &str = "ERR value is not a valid float";
    const SYNTAX: &str = "ERR syntax error";

    #[test]
    fn get_set() {
        let mut s = Session::new();
        assert_eq!(s.run(&["GET", "k"]), Frame::Null);
        assert_eq!(s.run(&["SET", "k", "v"]), Frame::OK);
        assert_eq!(s.run(&["GET", "k"]), bulk("v"));
        assert_eq!(s.run(&["SET", "k", ""]), Frame::OK);
        assert_eq!(s.run(&["GET", "k"]), bulk(""));
        assert_eq!(
            s.run(&["GET"]),
            err("ERR wrong number of arguments for 'get' command")
        );
        assert_eq!(
            s.run(&["SET", "k"]),
            err("ERR wrong number of arguments for 'set' command")
        );
    }

    #[test]
    fn set_nx_xx_get() {
        let mut s = Session::new();
        assert_eq!(s.run(&["SET", "k", "v", "XX"]), Frame::Null);
        assert!(!exists(&s, "k"));
        assert_eq!(s.run(&["SET", "k", "v", "nx"]), Frame::OK);
        assert_eq!(s.run(&["SET", "k", "w", "NX"]), Frame::Null);
        assert_eq!(s.run(&["SET", "k", "w", "XX"]), Frame::OK);
        assert_eq!(s.run(&["GET", "k"]), bulk("w"));
        // GET returns the old value whether or not NX/XX let the write happen.
        assert_eq!(s.run(&["SET", "k", "x", "NX", "GET"]), bulk("w"));
        assert_eq!(s.run(&["GET", "k"]), bulk("w"));
        assert_eq!(s.run(&["SET", "k", "x", "GET"]), bulk("w"));
        assert_eq!(s.run(&["SET", "n", "x", "XX", "GET"]), Frame::Null);
        assert!(!exists(&s, "n"));
        assert_eq!(s.run(&["SET", "n", "x", "GET", "get"]), Frame::Null);
        assert_eq!(s.run(&["GET", "n"]), bulk("x"));
        // Repeats are fine; NX with XX is not.
        assert_eq!(s.run(&["SET", "k", "v", "XX", "XX"]), Frame::OK);
        assert_eq!(s.run(&["SET", "k", "v", "NX", "XX"]), err(SYNTAX));
        assert_eq!(s.run(&["SET", "k", "v", "XX", "NX"]), err(SYNTAX));
        assert_eq!(s.run(&["SET", "k", "v", "FOO"]), err(SYNTAX));
        assert_eq!(s.run(&["SET", "k", "v", "PERSIST"]), err(SYNTAX));
    }

    #[test]
    fn set_expire_options() {
        let mut s = Session::new();
        assert_eq!(s.run(&["SET", "k", "v", "EX", "100"]), Frame::OK);
        assert!(pttl(&s, "k").is_some_and(|t| (99_000..=100_000).contains(&t)));
        assert_eq!(s.run(&["SET", "k", "v", "px", "5000"]), Frame::OK);
        assert!(pttl(&s, "k").is_some_and(|t| (4_000..=5_000).contains(&t)));
        let at = (now_s() + 1000).to_string();
        assert_eq!(s.run(&["SET", "k", "v", "EXAT", &at]), Frame::OK);
        assert!(pttl(&s, "k").is_some_and(|t| (998_000..=1_000_000).contains(&t)));
        let at_ms = (crate::time::now_ms() + 50_000).to_string();
        assert_eq!(s.run(&["SET", "k", "v", "PXAT", &at_ms]), Frame::OK);
        assert!(pttl(&s, "k").is_some_and(|t| (49_000..=50_000).contains(&t)));
        // KEEPTTL keeps it; a plain SET drops it.
        assert_eq!(s.run(&["SET", "k", "w", "KEEPTTL"]), Frame::OK);
        assert!(pttl(&s, "k").is_some());
        assert_eq!(s.run(&["SET", "k", "w"]), Frame::OK);
        assert_eq!(pttl(&s, "k"), None);
        // The same expire option twice: the last wins.
        assert_eq!(s.run(&["SET", "k", "v", "EX", "10", "EX", "20"]), Frame::OK);
        assert!(pttl(&s, "k").is_some_and(|t| t > 19_000));
        // A deadline in the past stores and expires at once.
        assert_eq!(s.run(&["SET", "k", "v", "EXAT", "1"]), Frame::OK);
        assert_eq!(s.run(&["GET", "k"]), Frame::Null);
        assert_eq!(s.run(&["SET", "k", "v"]), Frame::OK);
        assert_eq!(s.run(&["SET", "k", "w", "PXAT", "1", "GET"]), bulk("v"));
        assert!(!exists(&s, "k"));
        // Far-future absolute deadlines are fine.
        assert_eq!(
            s.run(&["SET", "k", "v", "EXAT", "9223372036854775"]),
            Frame::OK
        );
        assert_eq!(
            s.run(&["SET", "k", "v", "PXAT", "9223372036854775807"]),
            Frame::OK
        );
    }

    #[test]
    fn set_expire_errors() {
        let mut s = Session::new();
        for bad in [
            &["EX", "0"][..],
            &["EX", "-1"],
            &["PX", "0"],
            &["EXAT", "0"],
            &["PXAT", "-5"],
            // Overflows once converted to ms or added to now.
            &["EX", "9223372036854775"],
            &["EX", "9223372036854776"],
            &["PX", "9223372036854775807"],
            &["EXAT", "9223372036854776"],
        ] {
            let mut argv = vec!["SET", "k", "v"];
            argv.extend_from_slice(bad);
            assert_eq!(s.run(&argv), err(INVALID_SET), "{bad:?}");
        }
        assert_eq!(s.run(&["SET", "k", "v", "EX", "abc"]), err(NOT_INT));
        assert_eq!(s.run(&["SET", "k", "v", "EX", "1.5"]), err(NOT_INT));
        assert!(!exists(&s, "k"));
        for bad in [
            &["EX"][..],
            &["EX", "10", "KEEPTTL"],
            &["KEEPTTL", "EX", "10"],
            &["EX", "10", "PX", "100"],
            &["PXAT", "10", "EXAT", "100"],
            &["EX", "abc", "NX", "XX"],
        ] {
            let mut argv = vec!["SET", "k", "v"];
            argv.extend_from_slice(bad);
            assert_eq!(s.run(&argv), err(SYNTAX), "{bad:?}");
        }
    }

    #[test]
    fn setnx_setex_psetex() {
        let mut s = Session::new();
        assert_eq!(s.run(&["SETNX", "k", "1"]), int(1));
        assert_eq!(s.run(&["SETNX", "k", "2"]), int(0));
        assert_eq!(s.run(&["GET", "k"]), bulk("1"));
        assert_eq!(s.run(&["SETEX", "k", "100", "123"]), Frame::OK);
        assert_eq!(encoding(&s, "k"), "int");
        assert!(pttl(&s, "k").is_some_and(|t| t > 99_000));
        assert_eq!(s.run(&["PSETEX", "k", "1500", "v"]), Frame::OK);
        assert!(pttl(&s, "k").is_some_and(|t| t <= 1500));
        assert_eq!(
            s.run(&["SETEX", "k", "0", "v"]),
            err("ERR invalid expire time in 'setex' command")
        );
        assert_eq!(
            s.run(&["SETEX", "k", "9223372036854775", "v"]),
            err("ERR invalid expire time in 'setex' command")
        );
        assert_eq!(
            s.run(&["PSETEX", "k", "-5", "v"]),
            err("ERR invalid expire time in 'psetex' command")
        );
        assert_eq!(s.run(&["SETEX", "k", "x", "v"]), err(NOT_INT));
        assert_eq!(s.run(&["PSETEX", "k", "1.5", "v"]), err(NOT_INT));
        assert_eq!(
            s.run(&["SETEX", "k", "10"]),
            err("ERR wrong number of arguments for 'setex' command")
        );
    }

    #[test]
    fn getset_getdel() {
        let mut s = Session::new();
        assert_eq!(s.run(&["GETSET", "k", "1"]), Frame::Null);
        assert_eq!(s.run(&["SET", "k", "v", "EX", "100"]), Frame::OK);
        assert_eq!(s.run(&["GETSET", "k", "2"]), bulk("v"));
        assert_eq!(pttl(&s, "k"), None);
        assert_eq!(encoding(&s, "k"), "int");
        assert_eq!(s.run(&["GETDEL", "k"]), bulk("2"));
        assert!(!exists(&s, "k"));
        assert_eq!(s.run(&["GETDEL", "k"]), Frame::Null);
    }

    #[test]
    fn getex() {
        let mut s = Session::new();
        assert_eq!(s.run(&["GETEX", "k"]), Frame::Null);
        // A missing key answers null before the expire value is checked.
        assert_eq!(s.run(&["GETEX", "k", "EX", "0"]), Frame::Null);
        assert_eq!(s.run(&["GETEX", "k", "FOO"]), err(SYNTAX));
        assert_eq!(s.run(&["GETEX", "k", "EX"]), err(SYNTAX));
        assert_eq!(s.run(&["SET", "k", "10"]), Frame::OK);
        assert_eq!(s.run(&["GETEX", "k"]), bulk("10"));
        assert_eq!(pttl(&s, "k"), None);
        assert_eq!(s.run(&["GETEX", "k", "EX", "100"]), bulk("10"));
        assert!(pttl(&s, "k").is_some_and(|t| t > 99_000));
        assert_eq!(encoding(&s, "k"), "int");
        assert_eq!(s.run(&["GETEX", "k", "PERSIST"]), bulk("10"));
        assert_eq!(pttl(&s, "k"), None);
        assert_eq!(s.run(&["GETEX", "k", "persist", "PERSIST"]), bulk("10"));
        assert_eq!(s.run(&["GETEX", "k", "PX", "100000"]), bulk("10"));
        assert!(pttl(&s, "k").is_some_and(|t| t <= 100_000 && t > 90_000));
        let at = (now_s() + 1000).to_string();
        assert_eq!(s.run(&["GETEX", "k", "EXAT", &at]), bulk("10"));
        assert!(pttl(&s, "k").is_some_and(|t| t > 990_000));
        assert_eq!(s.run(&["GETEX", "k", "EX", "10", "EX", "20"]), bulk("10"));
        assert!(pttl(&s, "k").is_some_and(|t| t > 19_000 && t <= 20_000));
        for bad in [
            &["PERSIST", "EX", "10"][..],
            &["EX", "10", "PERSIST"],
            &["KEEPTTL"],
            &["NX"],
            &["XX"],
            &["GET"],
            &["EX", "10", "PX", "10"],
        ] {
            let mut argv = vec!["GETEX", "k"];
            argv.extend_from_slice(bad);
            assert_eq!(s.run(&argv), err(SYNTAX), "{bad:?}");
        }
        assert_eq!(
            s.run(&["GETEX", "k", "EX", "0"]),
            err("ERR invalid expire time in 'getex' command")
        );
        assert_eq!(
            s.run(&["GETEX", "k", "EX", "9223372036854775"]),
            err("ERR invalid expire time in 'getex' command")
        );
        assert_eq!(s.run(&["GETEX", "k", "PX", "abc"]), err(NOT_INT));
        // An absolute deadline in the past deletes the key after replying.
        assert_eq!(s.run(&["GETEX", "k", "PXAT", "1"]), bulk("10"));
        assert!(!exists(&s, "k"));
    }

    #[test]
    fn mget_mset_msetnx() {
        let mut s = Session::new();
        assert_eq!(s.run(&["MSET", "a", "1", "b", "2"]), Frame::OK);
        assert_eq!(
            s.run(&["MGET", "a", "b", "c"]),
            arr(vec![bulk("1"), bulk("2"), Frame::Null])
        );
        assert_eq!(s.run(&["MSET", "a", "1", "a", "2"]), Frame::OK);
        assert_eq!(s.run(&["GET", "a"]), bulk("2"));
        assert_eq!(
            s.run(&["MSET", "a", "1", "b"]),
            err("ERR wrong number of arguments for 'mset' command")
        );
        assert_eq!(
            s.run(&["MSET", "a"]),
            err("ERR wrong number of arguments for 'mset' command")
        );
        assert_eq!(
            s.run(&["MSETNX", "x", "1", "y"]),
            err("ERR wrong number of arguments for 'msetnx' command")
        );
        assert_eq!(s.run(&["MSETNX", "a", "1", "c", "3"]), int(0));
        assert!(!exists(&s, "c"));
        assert_eq!(s.run(&["MSETNX", "c", "3", "d", "4"]), int(1));
        assert_eq!(s.run(&["MSETNX", "x", "1", "x", "2"]), int(1));
        assert_eq!(s.run(&["GET", "x"]), bulk("2"));
        assert_eq!(s.run(&["SET", "t", "5", "EX", "100"]), Frame::OK);
        assert_eq!(s.run(&["MSET", "t", "6"]), Frame::OK);
        assert_eq!(pttl(&s, "t"), None);
        assert_eq!(encoding(&s, "t"), "int");
    }

    #[test]
    fn incr_family() {
        let mut s = Session::new();
        assert_eq!(s.run(&["INCR", "a"]), int(1));
        assert_eq!(encoding(&s, "a"), "int");
        assert_eq!(s.run(&["INCRBY", "a", "10"]), int(11));
        assert_eq!(s.run(&["DECR", "a"]), int(10));
        assert_eq!(s.run(&["DECRBY", "a", "-5"]), int(15));
        assert_eq!(s.run(&["DECRBY", "b", "5"]), int(-5));
        assert_eq!(s.run(&["GET", "a"]), bulk("15"));
        // TTL is kept.
        assert_eq!(s.run(&["SET", "t", "5", "EX", "100"]), Frame::OK);
        assert_eq!(s.run(&["INCR", "t"]), int(6));
        assert!(pttl(&s, "t").is_some());
        // Values stored as strings still count when canonical.
        assert_eq!(s.run(&["SETRANGE", "r", "0", "41"]), int(2));
        assert_eq!(encoding(&s, "r"), "raw");
        assert_eq!(s.run(&["INCR", "r"]), int(42));
        assert_eq!(encoding(&s, "r"), "int");
        for bad in ["abc", " 1", "+1", "01", "1.0", "", "9223372036854775808"] {
            assert_eq!(s.run(&["SET", "s", bad]), Frame::OK);
            assert_eq!(s.run(&["INCR", "s"]), err(NOT_INT), "{bad:?}");
        }
        assert_eq!(s.run(&["INCRBY", "a", "abc"]), err(NOT_INT));
        assert_eq!(s.run(&["INCRBY", "nokey", "1.5"]), err(NOT_INT));
        assert_eq!(s.run(&["SET", "m", "9223372036854775807"]), Frame::OK);
        assert_eq!(
            s.run(&["INCR", "m"]),
            err("ERR increment or decrement would overflow")
        );
        assert_eq!(s.run(&["SET", "m", "-9223372036854775808"]), Frame::OK);
        assert_eq!(
            s.run(&["DECR", "m"]),
            err("ERR increment or decrement would overflow")
        );
        assert_eq!(
            s.run(&["INCRBY", "m", "-1"]),
            err("ERR increment or decrement would overflow")
        );
        assert_eq!(
            s.run(&["DECRBY", "m", "-9223372036854775808"]),
            err("ERR decrement would overflow")
        );
        assert_eq!(
            s.run(&["DECRBY", "nokey", "-9223372036854775808"]),
            err("ERR decrement would overflow")
        );
        assert_eq!(s.run(&["DECRBY", "m", "-9223372036854775807"]), int(-1));
    }

    #[test]
    fn incrbyfloat() {
        let mut s = Session::new();
        assert_eq!(s.run(&["SET", "f", "10.5"]), Frame::OK);
        assert_eq!(s.run(&["INCRBYFLOAT", "f", "0.1"]), bulk("10.6"));
        assert_eq!(encoding(&s, "f"), "embstr");
        assert_eq!(s.run(&["INCRBYFLOAT", "f", "0.4"]), bulk("11"));
        assert_eq!(encoding(&s, "f"), "embstr");
        assert_eq!(s.run(&["INCRBYFLOAT", "f", "0x10"]), bulk("27"));
        assert_eq!(s.run(&["INCRBYFLOAT", "n", "-1e-3"]), bulk("-0.001"));
        assert_eq!(s.run(&["INCRBYFLOAT", "z", "-0.0"]), bulk("0"));
        assert_eq!(s.run(&["INCRBYFLOAT", "k", "3.0e3"]), bulk("3000"));
        assert_eq!(s.run(&["INCRBYFLOAT", "k", "1e-20"]), bulk("3000"));
        // Integers work too, and the result is a string, not an int.
        assert_eq!(s.run(&["SET", "i", "5", "EX", "100"]), Frame::OK);
        assert_eq!(s.run(&["INCRBYFLOAT", "i", "1"]), bulk("6"));
        assert_eq!(encoding(&s, "i"), "embstr");
        assert!(pttl(&s, "i").is_some());
        // Long results are raw.
        assert_eq!(
            s.run(&["INCRBYFLOAT", "big", "1e30"]),
            bulk("1000000000000000000024696061952")
        );
        assert!(!s.run(&["INCRBYFLOAT", "h", "1e300"]).is_error());
        assert_eq!(encoding(&s, "h"), "raw");
        for bad in ["abc", " 1", "1 ", "", "nan", "1e", "1e-5000"] {
            assert_eq!(s.run(&["INCRBYFLOAT", "f", bad]), err(NOT_FLOAT), "{bad:?}");
        }
        assert_eq!(s.run(&["SET", "s", "1 "]), Frame::OK);
        assert_eq!(s.run(&["INCRBYFLOAT", "s", "1"]), err(NOT_FLOAT));
        assert_eq!(
            s.run(&["INCRBYFLOAT", "f", "inf"]),
            err("ERR increment would produce NaN or Infinity")
        );
        assert_eq!(s.run(&["SET", "x", "1e4932"]), Frame::OK);
        assert_eq!(
            s.run(&["INCRBYFLOAT", "x", "1e4932"]),
            err("ERR increment would produce NaN or Infinity")
        );
        assert_eq!(s.run(&["GET", "x"]), bulk("1e4932"));
    }

    #[test]
    fn append_strlen() {
        let mut s = Session::new();
        assert_eq!(s.run(&["STRLEN", "k"]), int(0));
        assert_eq!(s.run(&["APPEND", "k", "123"]), int(3));
        assert_eq!(encoding(&s, "k"), "int");
        assert_eq!(s.run(&["STRLEN", "k"]), int(3));
        assert_eq!(s.run(&["APPEND", "k", "4"]), int(4));
        assert_eq!(encoding(&s, "k"), "raw");
        assert_eq!(s.run(&["GET", "k"]), bulk("1234"));
        assert_eq!(s.run(&["SET", "n", "123", "EX", "100"]), Frame::OK);
        assert_eq!(s.run(&["APPEND", "n", ""]), int(3));
        assert_eq!(encoding(&s, "n"), "raw");
        assert!(pttl(&s, "n").is_some());
        assert_eq!(s.run(&["SET", "m", "-9223372036854775808"]), Frame::OK);
        assert_eq!(s.run(&["STRLEN", "m"]), int(20));
        s.engine.config.write().proto_max_bulk_len = 5;
        assert_eq!(s.run(&["APPEND", "k", "5"]), int(5));
        assert_eq!(
            s.run(&["APPEND", "k", "6"]),
            err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
        );
    }

    #[test]
    fn getrange_substr() {
        let mut s = Session::new();
        assert_eq!(s.run(&["GETRANGE", "k", "0", "-1"]), bulk(""));
        assert_eq!(s.run(&["GETRANGE", "k", "x", "0"]), err(NOT_INT));
        assert_eq!(s.run(&["SET", "s", "Hello World"]), Frame::OK);
        for (start, end, want) in [
            ("0", "4", "Hello"),
            ("-3", "-1", "rld"),
            ("-1", "-3", ""),
            ("5", "2", ""),
            ("-100", "100", "Hello World"),
            ("100", "200", ""),
            ("0", "-100", "H"),
            ("-9223372036854775808", "9223372036854775807", "Hello World"),
        ] {
            assert_eq!(
                s.run(&["GETRANGE", "s", start, end]),
                bulk(want),
                "{start} {end}"
            );
        }
        assert_eq!(s.run(&["GETRANGE", "s", "0", "x"]), err(NOT_INT));
        assert_eq!(s.run(&["SUBSTR", "s", "0", "2"]), bulk("Hel"));
        assert_eq!(s.run(&["SET", "n", "12345"]), Frame::OK);
        assert_eq!(s.run(&["GETRANGE", "n", "1", "2"]), bulk("23"));
        assert_eq!(s.run(&["SET", "e", ""]), Frame::OK);
        assert_eq!(s.run(&["GETRANGE", "e", "0", "-1"]), bulk(""));
    }

    #[test]
    fn setrange() {
        let mut s = Session::new();
        assert_eq!(s.run(&["SETRANGE", "k", "5", ""]), int(0));
        assert!(!exists(&s, "k"));
        assert_eq!(
            s.run(&["SETRANGE", "k", "-1", "a"]),
            err("ERR offset is out of range")
        );
        assert_eq!(s.run(&["SETRANGE", "k", "x", "a"]), err(NOT_INT));
        assert_eq!(s.run(&["SETRANGE", "k", "3", "ab"]), int(5));
        assert_eq!(s.run(&["GET", "k"]), Frame::Bulk(b"\0\0\0ab".to_vec()));
        assert_eq!(encoding(&s, "k"), "raw");
        assert_eq!(s.run(&["SET", "n", "12345", "EX", "100"]), Frame::OK);
        assert_eq!(s.run(&["SETRANGE", "n", "0", ""]), int(5));
        assert_eq!(encoding(&s, "n"), "int");
        assert_eq!(s.run(&["SETRANGE", "n", "0", "9"]), int(5));
        assert_eq!(encoding(&s, "n"), "raw");
        assert_eq!(s.run(&["GET", "n"]), bulk("92345"));
        assert!(pttl(&s, "n").is_some());
        assert_eq!(s.run(&["SETRANGE", "n", "7", "x"]), int(8));
        assert_eq!(s.run(&["GET", "n"]), Frame::Bulk(b"92345\0\0x".to_vec()));
        let too_big = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
        assert_eq!(s.run(&["SETRANGE", "big", "536870911", "ab"]), err(too_big));
        assert_eq!(s.run(&["SETRANGE", "big", "536870912", ""]), int(0));
        assert_eq!(
            s.run(&["SETRANGE", "n", "9223372036854775807", "a"]),
            err(too_big)
        );
        assert!(!exists(&s, "big"));
    }

    #[test]
    fn lcs_command() {
        let mut s = Session::new();
        assert_eq!(
            s.run(&["MSET", "key1", "ohmytext", "key2", "mynewtext"]),
            Frame::OK
        );
        assert_eq!(s.run(&["LCS", "key1", "key2"]), bulk("mytext"));
        assert_eq!(s.run(&["LCS", "key1", "key2", "LEN"]), int(6));
        assert_eq!(s.run(&["LCS", "key1", "key2", "len", "len"]), int(6));
        assert_eq!(
            s.run(&["LCS", "key1", "key2", "withmatchlen"]),
            bulk("mytext")
        );
        let range = |a: i64, b: i64| arr(vec![int(a), int(b)]);
        assert_eq!(
            s.run(&["LCS", "key1", "key2", "IDX"]),
            Frame::Map(vec![
                (
                    bulk("matches"),
                    arr(vec![
                        arr(vec![range(4, 7), range(5, 8)]),
                        arr(vec![range(2, 3), range(0, 1)]),
                    ])
                ),
                (bulk("len"), int(6)),
            ])
        );
        assert_eq!(
            s.run(&[
                "LCS",
                "key1",
                "key2",
                "IDX",
                "MINMATCHLEN",
                "4",
                "WITHMATCHLEN"
            ]),
            Frame::Map(vec![
                (
                    bulk("matches"),
                    arr(vec![arr(vec![range(4, 7), range(5, 8), int(4)])])
                ),
                (bulk("len"), int(6)),
            ])
        );
        assert_eq!(
            s.run(&["LCS", "key1", "key2", "MINMATCHLEN", "-5", "IDX"]),
            s.run(&["LCS", "key1", "key2", "IDX"])
        );
        assert_eq!(s.run(&["LCS", "key1", "nokey"]), bulk(""));
        assert_eq!(
            s.run(&["LCS", "a", "b", "IDX"]),
            Frame::Map(vec![(bulk("matches"), arr(vec![])), (bulk("len"), int(0)),])
        );
        let both = "ERR If you want both the length and indexes, please just use IDX.";
        assert_eq!(s.run(&["LCS", "key1", "key2", "IDX", "LEN"]), err(both));
        assert_eq!(s.run(&["LCS", "key1", "key2", "FOO"]), err(SYNTAX));
        assert_eq!(s.run(&["LCS", "key1", "key2", "MINMATCHLEN"]), err(SYNTAX));
        assert_eq!(
            s.run(&["LCS", "key1", "key2", "MINMATCHLEN", "x"]),
            err(NOT_INT)
        );
        assert_eq!(
            s.run(&["LCS", "key1"]),
            err("ERR wrong number of arguments for 'lcs' command")
        );
    }

    #[test]
    fn lcs_picks_redis_match() {
        // Checked against redis-server 7.0.15: ties drop a byte of the second string first.
        let found = lcs(b"abcbdab", b"bdcaba")
            .map(|l| l.text)
            .unwrap_or_default();
        assert_eq!(found, b"bdab");
        let found = lcs(b"ab", b"ba").map(|l| l.text).unwrap_or_default();
        assert_eq!(found, b"b");
    }

    #[test]
    fn encodings_follow_redis() {
        let mut s = Session::new();
        let long = "x".repeat(45);
        for (cmd, key, want) in [
            (vec!["SET", "a", "123"], "a", "int"),
            (vec!["SET", "b", "0123"], "b", "embstr"),
            (vec!["SET", "c", &long[..44]], "c", "embstr"),
            (vec!["SET", "d", &long], "d", "raw"),
            (vec!["SET", "e", "-9223372036854775808"], "e", "int"),
            (vec!["SET", "f", "9223372036854775808"], "f", "embstr"),
            (vec!["MSET", "g", "7"], "g", "int"),
            (vec!["GETSET", "h", "8"], "h", "int"),
            (vec!["SETNX", "i", "9"], "i", "int"),
        ] {
            assert!(!s.run(&cmd).is_error(), "{cmd:?}");
            assert_eq!(encoding(&s, key), want, "{cmd:?}");
        }
    }

    #[test]
    fn table_rows_mirror_redis() {
        let find = |name: &str| COMMANDS.iter().find(|c| c.name == name);
        for (name, arity, flags) in [
            ("get", 2, READONLY | FAST),
            ("set", -3, WRITE | DENYOOM),
            ("setnx", 3, WRITE | DENYOOM | FAST),
            ("getdel", 2, WRITE | FAST),
            ("getex", -2, WRITE | FAST),
            ("mget", -2, READONLY | FAST),
            ("mset", -3, WRITE | DENYOOM),
            ("incrbyfloat", 3, WRITE | DENYOOM | FAST),
            ("getrange", 4, READONLY),
            ("lcs", -3, READONLY),
        ] {
            let row = find(name);
            assert!(
                row.is_some_and(|r| r.arity == arity && r.flags == flags),
                "{name}"
            );
        }
        assert!(find("mset").is_some_and(|r| r.keys == keys(1, -1, 2)));
        assert!(find("lcs").is_some_and(|r| r.keys == keys(1, 2, 1)));
        assert!(COMMANDS
            .iter()
            .all(|c| c.group == "string" && !c.summary.is_empty()));
    }

    #[test]
    fn writes_that_read_count_keyspace_hits_and_misses() {
        use std::sync::atomic::Ordering::Relaxed;
        let mut s = Session::new();
        s.run(&["SET", "k", "v"]);
        let counts = |s: &Session| {
            let st = &s.engine.stats;
            (
                st.keyspace_hits.load(Relaxed),
                st.keyspace_misses.load(Relaxed),
            )
        };
        let (h, m) = counts(&s);
        s.run(&["GETSET", "k", "w"]);
        s.run(&["SET", "k", "x", "GET"]);
        s.run(&["GETDEL", "nokey"]);
        s.run(&["SET", "k", "y"]); // no GET: not a read
        assert_eq!(counts(&s), (h + 2, m + 1));
    }
}
