//! A full RESP2/RESP3 value decoder (for clients, replication and tests).
//!
//! [`decode`] reads one value from the start of a buffer: `Ok(None)` until the whole value has
//! arrived, then the [`Frame`] and the number of bytes it used. The request parser
//! ([`crate::request`]) is the server's side and follows Redis's lenient request rules; this is
//! the reply side and is strict: every line ends in CRLF, every payload is followed by CRLF,
//! every number is well formed. A violation is a [`DecodeError`] (the stream is out of sync
//! and cannot be resumed), never a panic.
//!
//! # Two passes, no allocation before arrival
//!
//! A value is decoded in two passes. The first (`scan`) walks the tokens with a fixed-size
//! stack of "values still expected per level", allocates nothing, and answers "incomplete",
//! "malformed" or "complete, ending at byte N". Only a complete value is built by the second
//! pass, so every vector is reserved for elements that are already in the buffer (and the
//! reservation is capped by the bytes present anyway). A peer announcing `*2147483647` or
//! `$4000000000` and then going quiet costs nothing but the rescan, and incomplete input,
//! however often it is offered, never allocates.
//!
//! # Depth
//!
//! Aggregates (and attributes) nest at most [`MAX_DEPTH`] levels; deeper input is
//! [`DecodeError::TooDeep`], detected as soon as the offending header arrives. The builder
//! recurses once per level, so this also bounds its stack use.
//!
//! # Normalisations
//!
//! [`Frame`] has no room for a few RESP3 distinctions, so decoding maps:
//! - `-ERR x` (simple error) and `!N` (blob error) both to [`Frame::Error`];
//! - `_` and `$-1` to [`Frame::Null`]; `*-1` to [`Frame::NullArray`] (so a RESP3
//!   [`Frame::NullArray`], encoded as `_`, comes back as [`Frame::Null`]);
//! - simple strings, simple errors and blob errors to text with invalid UTF-8 replaced by
//!   U+FFFD (Redis only sends ASCII there);
//! - attributes (`|N` followed by N key/value pairs and then the value they describe) are
//!   validated and skipped: the decoded frame is the described value, and the consumed length
//!   covers the attribute too.
//!
//! RESP3 streamed strings and aggregates (`$?`, `*?`, `;`, `.`) are not supported (Redis never
//! sends them) and decode to [`DecodeError::Streamed`]. Doubles accept `inf`, `+inf`, `-inf`
//! and `nan` besides decimal and exponent forms.

use crate::frame::Frame;
use std::borrow::Cow;
use std::fmt;

/// Deepest nesting of aggregates and attributes accepted. Redis's own replies nest a handful
/// of levels (`COMMAND DOCS`, `XINFO STREAM FULL`); a Lua script can return deeper tables, but
/// Lua's own C-call limit stops far below this.
pub const MAX_DEPTH: usize = 128;

/// Longest integer or length line (`:`, `$`, `*`, `%`, ...): `-9223372036854775808` has 20
/// characters; a little slack for a `+` sign and leading zeros. Longer input is malformed
/// without waiting for its CRLF.
const MAX_NUMBER_LINE: usize = 32;

/// Smallest encoding of one value (`_\r\n`, `+\r\n`), used to bound reservations by the bytes
/// actually present.
const MIN_VALUE_LEN: usize = 3;

/// Malformed input. The stream cannot be resynchronised after one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// A value starts with a byte that is no RESP type.
    UnknownType(u8),
    /// A bad length in a `$ * % ~ > = ! |` header.
    InvalidLength,
    /// A bad `:` integer.
    InvalidInteger,
    /// A bad `,` double.
    InvalidDouble,
    /// A `#` line other than `t` or `f`.
    InvalidBoolean,
    /// A `_` line that is not empty.
    InvalidNull,
    /// A `(` line that is not an optionally signed run of digits.
    InvalidBigNumber,
    /// A `=` payload shorter than 4 bytes or without `:` after its format.
    InvalidVerbatim,
    /// A line or payload not terminated by CRLF (a bare LF, or CR followed by something else).
    MissingCrlf,
    /// Nesting deeper than [`MAX_DEPTH`].
    TooDeep,
    /// A RESP3 streamed string or aggregate.
    Streamed,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::UnknownType(b) => {
                write!(f, "Protocol error: unknown type byte {:?}", char::from(*b))
            }
            DecodeError::InvalidLength => f.write_str("Protocol error: invalid length"),
            DecodeError::InvalidInteger => f.write_str("Protocol error: invalid integer"),
            DecodeError::InvalidDouble => f.write_str("Protocol error: invalid double"),
            DecodeError::InvalidBoolean => f.write_str("Protocol error: invalid boolean"),
            DecodeError::InvalidNull => f.write_str("Protocol error: invalid null"),
            DecodeError::InvalidBigNumber => f.write_str("Protocol error: invalid big number"),
            DecodeError::InvalidVerbatim => f.write_str("Protocol error: invalid verbatim string"),
            DecodeError::MissingCrlf => f.write_str("Protocol error: expected CRLF"),
            DecodeError::TooDeep => write!(f, "Protocol error: nesting deeper than {MAX_DEPTH}"),
            DecodeError::Streamed => {
                f.write_str("Protocol error: streamed RESP3 types are not supported")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// Decodes the value at the start of `buf`: `Ok(None)` while it is incomplete, else the frame
/// and the number of bytes it used (never more than `buf.len()`).
pub fn decode(buf: &[u8]) -> Result<Option<(Frame, usize)>, DecodeError> {
    let Some(end) = scan(buf, 0, 1, 0)? else {
        return Ok(None);
    };
    // The scan proved the value complete and well formed up to `end`, so the builder only
    // ever sees those bytes.
    let buf = buf.get(..end).unwrap_or(buf);
    build(buf, 0, 0)
}

/// `Ok(None)` when more bytes are needed.
type Step<T> = Result<Option<T>, DecodeError>;

/// Unwraps a [`Step`], returning `Ok(None)` (incomplete) from the caller.
macro_rules! ready {
    ($e:expr) => {
        match $e? {
            Some(v) => v,
            None => return Ok(None),
        }
    };
}

/// Aggregate kinds that map to frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Array,
    Map,
    Set,
    Push,
}

/// One header or scalar, borrowing the buffer. Nothing here allocates.
#[derive(Debug)]
enum Token<'a> {
    Simple(&'a [u8]),
    Error(&'a [u8]),
    Integer(i64),
    Bulk(&'a [u8]),
    Null,
    NullArray,
    Double(f64),
    Boolean(bool),
    BigNumber(&'a str),
    Verbatim([u8; 3], &'a [u8]),
    /// An aggregate header and its element count (pairs for maps).
    Aggregate(Kind, u64),
    /// An attribute header and its pair count.
    Attribute(u64),
}

/// A length header's value.
enum Len {
    Null,
    N(u64),
}

/// Reads the token at `pos`; returns it and the position just past it.
fn token(buf: &[u8], pos: usize) -> Step<(Token<'_>, usize)> {
    let Some(&tag) = buf.get(pos) else {
        return Ok(None);
    };
    let at = pos + 1;
    let (tok, next) = match tag {
        b'+' | b'-' | b',' | b'(' | b'#' | b'_' => {
            let (l, next) = ready!(line(buf, at, usize::MAX, DecodeError::InvalidLength));
            let tok = match tag {
                b'+' => Token::Simple(l),
                b'-' => Token::Error(l),
                b',' => Token::Double(parse_double(l).ok_or(DecodeError::InvalidDouble)?),
                b'(' => Token::BigNumber(parse_big_number(l)?),
                b'#' => match l {
                    b"t" => Token::Boolean(true),
                    b"f" => Token::Boolean(false),
                    _ => return Err(DecodeError::InvalidBoolean),
                },
                _ if l.is_empty() => Token::Null,
                _ => return Err(DecodeError::InvalidNull),
            };
            (tok, next)
        }
        b':' => {
            let (l, next) = ready!(line(buf, at, MAX_NUMBER_LINE, DecodeError::InvalidInteger));
            let n = parse_int(l).ok_or(DecodeError::InvalidInteger)?;
            (Token::Integer(n), next)
        }
        b'$' | b'=' | b'!' => {
            let (len, start) = ready!(length(buf, at, tag == b'$'));
            let Len::N(n) = len else {
                return Ok(Some((Token::Null, start)));
            };
            if tag == b'=' && n < 4 {
                return Err(DecodeError::InvalidVerbatim);
            }
            let (payload, next) = ready!(blob(buf, start, n));
            let tok = match tag {
                b'$' => Token::Bulk(payload),
                b'!' => Token::Error(payload),
                _ => match payload {
                    [a, b, c, b':', text @ ..] => Token::Verbatim([*a, *b, *c], text),
                    _ => return Err(DecodeError::InvalidVerbatim),
                },
            };
            (tok, next)
        }
        b'*' | b'%' | b'~' | b'>' | b'|' => {
            let (len, next) = ready!(length(buf, at, tag == b'*'));
            let tok = match (len, tag) {
                (Len::Null, _) => Token::NullArray,
                (Len::N(n), b'*') => Token::Aggregate(Kind::Array, n),
                (Len::N(n), b'%') => Token::Aggregate(Kind::Map, n),
                (Len::N(n), b'~') => Token::Aggregate(Kind::Set, n),
                (Len::N(n), b'>') => Token::Aggregate(Kind::Push, n),
                (Len::N(n), _) => Token::Attribute(n),
            };
            (tok, next)
        }
        b';' | b'.' => return Err(DecodeError::Streamed),
        other => return Err(DecodeError::UnknownType(other)),
    };
    Ok(Some((tok, next)))
}

/// The CRLF-terminated line starting at `from`: its content and the position after the LF.
/// A line with more than `max` bytes is `too_long` as soon as `max + 1` bytes have arrived.
fn line(buf: &[u8], from: usize, max: usize, too_long: DecodeError) -> Step<(&[u8], usize)> {
    let rest = buf.get(from..).unwrap_or_default();
    let window = rest.get(..max.saturating_add(1)).unwrap_or(rest);
    let Some(i) = window.iter().position(|&b| b == b'\r' || b == b'\n') else {
        return if rest.len() > max {
            Err(too_long)
        } else {
            Ok(None)
        };
    };
    if window.get(i) == Some(&b'\n') {
        return Err(DecodeError::MissingCrlf);
    }
    match rest.get(i + 1) {
        None => Ok(None),
        Some(b'\n') => Ok(Some((rest.get(..i).unwrap_or_default(), from + i + 2))),
        Some(_) => Err(DecodeError::MissingCrlf),
    }
}

/// A length header line: a non-negative count, or `-1` where RESP2 allows a null.
fn length(buf: &[u8], from: usize, null_ok: bool) -> Step<(Len, usize)> {
    let (l, next) = ready!(line(buf, from, MAX_NUMBER_LINE, DecodeError::InvalidLength));
    let len = match l {
        b"?" => return Err(DecodeError::Streamed),
        b"-1" if null_ok => Len::Null,
        _ => match parse_int(l).map(u64::try_from) {
            Some(Ok(n)) => Len::N(n),
            _ => return Err(DecodeError::InvalidLength),
        },
    };
    Ok(Some((len, next)))
}

/// `len` payload bytes at `from`, then CRLF.
fn blob(buf: &[u8], from: usize, len: u64) -> Step<(&[u8], usize)> {
    // A length the address space cannot hold can never arrive: malformed, not incomplete.
    let end = usize::try_from(len)
        .ok()
        .and_then(|n| from.checked_add(n))
        .filter(|end| end.checked_add(2).is_some())
        .ok_or(DecodeError::InvalidLength)?;
    let Some(payload) = buf.get(from..end) else {
        return Ok(None);
    };
    match (buf.get(end), buf.get(end + 1)) {
        (None, _) => Ok(None),
        (Some(b'\r'), None) => Ok(None),
        (Some(b'\r'), Some(b'\n')) => Ok(Some((payload, end + 2))),
        _ => Err(DecodeError::MissingCrlf),
    }
}

/// A RESP integer: optional sign, at least one digit, fits in i64.
fn parse_int(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.split_first()? {
        (b'-', rest) => (true, rest),
        (b'+', rest) => (false, rest),
        _ => (false, s),
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        let d = i64::from(c - b'0');
        v = v.checked_mul(10)?;
        v = if neg {
            v.checked_sub(d)?
        } else {
            v.checked_add(d)?
        };
    }
    Some(v)
}

/// A RESP3 double: `inf`, `-inf`, `nan`, or a decimal with optional exponent.
fn parse_double(s: &[u8]) -> Option<f64> {
    match s {
        b"inf" | b"+inf" => Some(f64::INFINITY),
        b"-inf" => Some(f64::NEG_INFINITY),
        b"nan" | b"-nan" => Some(f64::NAN),
        _ => {
            // Rust's parser also takes `infinity`, `NaN` and friends; RESP does not.
            if s.is_empty()
                || !s
                    .iter()
                    .all(|c| matches!(c, b'0'..=b'9' | b'+' | b'-' | b'.' | b'e' | b'E'))
            {
                return None;
            }
            std::str::from_utf8(s).ok()?.parse().ok()
        }
    }
}

/// A RESP3 big number: optional sign, then digits.
fn parse_big_number(s: &[u8]) -> Result<&str, DecodeError> {
    let digits = match s.split_first() {
        Some((b'-' | b'+', rest)) => rest,
        _ => s,
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(DecodeError::InvalidBigNumber);
    }
    std::str::from_utf8(s).map_err(|_| DecodeError::InvalidBigNumber)
}

/// Values (slots) an aggregate header opens: maps hold two per pair.
fn slots(kind: Kind, n: u64) -> u64 {
    if kind == Kind::Map {
        // n came from an i64, so 2n fits in a u64.
        n.saturating_mul(2)
    } else {
        n
    }
}

/// Pass one: checks that `values` whole values follow `pos` without building anything.
/// `open` is the nesting depth the caller is already at. Returns the position after them.
fn scan(buf: &[u8], mut pos: usize, values: u64, open: usize) -> Step<usize> {
    // remaining[d]: values still expected at level d; level 0 is the caller's.
    let mut remaining = [0u64; MAX_DEPTH + 1];
    let mut depth = 0usize;
    remaining[0] = values;
    if values == 0 {
        return Ok(Some(pos));
    }
    loop {
        let (tok, next) = ready!(token(buf, pos));
        pos = next;
        let children = match tok {
            Token::Attribute(n) => Some(n.saturating_mul(2)),
            tok => {
                // Every other token is one value of the current level.
                let r = remaining.get_mut(depth).ok_or(DecodeError::TooDeep)?;
                *r = r.saturating_sub(1);
                match tok {
                    Token::Aggregate(kind, n) => Some(slots(kind, n)),
                    _ => None,
                }
            }
        };
        if let Some(children) = children {
            if open + depth + 1 > MAX_DEPTH {
                return Err(DecodeError::TooDeep);
            }
            if children > 0 {
                depth += 1;
                *remaining.get_mut(depth).ok_or(DecodeError::TooDeep)? = children;
                continue;
            }
        }
        // Close every level this value completed.
        while remaining.get(depth) == Some(&0) {
            if depth == 0 {
                return Ok(Some(pos));
            }
            depth -= 1;
        }
    }
}

/// Vector capacity for `n` announced elements when `avail` bytes remain: never more than the
/// bytes could hold.
fn capacity(n: u64, avail: usize) -> usize {
    usize::try_from(n)
        .unwrap_or(usize::MAX)
        .min(avail / MIN_VALUE_LEN)
}

fn text(b: &[u8]) -> Cow<'static, str> {
    Cow::Owned(String::from_utf8_lossy(b).into_owned())
}

/// Pass two: builds the value at `pos` (already checked by `scan`); `depth` is the number
/// of enclosing aggregates.
fn build(buf: &[u8], mut pos: usize, depth: usize) -> Step<(Frame, usize)> {
    loop {
        let (tok, next) = ready!(token(buf, pos));
        pos = next;
        let frame = match tok {
            Token::Simple(s) => Frame::Simple(text(s)),
            Token::Error(s) => Frame::Error(text(s)),
            Token::Integer(n) => Frame::Integer(n),
            Token::Bulk(b) => Frame::Bulk(b.to_vec()),
            Token::Null => Frame::Null,
            Token::NullArray => Frame::NullArray,
            Token::Double(d) => Frame::Double(d),
            Token::Boolean(b) => Frame::Boolean(b),
            Token::BigNumber(s) => Frame::BigNumber(s.to_owned()),
            Token::Verbatim(format, t) => Frame::Verbatim {
                format,
                text: t.to_vec(),
            },
            Token::Attribute(n) => {
                if depth + 1 > MAX_DEPTH {
                    return Err(DecodeError::TooDeep);
                }
                pos = ready!(scan(buf, pos, n.saturating_mul(2), depth + 1));
                // The attribute describes the value that follows; that value is the frame.
                continue;
            }
            Token::Aggregate(kind, n) => {
                if depth + 1 > MAX_DEPTH {
                    return Err(DecodeError::TooDeep);
                }
                let cap = capacity(n, buf.len().saturating_sub(pos));
                if kind == Kind::Map {
                    let mut pairs = Vec::with_capacity(cap);
                    for _ in 0..n {
                        let (k, p) = ready!(build(buf, pos, depth + 1));
                        let (v, p) = ready!(build(buf, p, depth + 1));
                        pos = p;
                        pairs.push((k, v));
                    }
                    Frame::Map(pairs)
                } else {
                    let mut items = Vec::with_capacity(cap);
                    for _ in 0..n {
                        let (f, p) = ready!(build(buf, pos, depth + 1));
                        pos = p;
                        items.push(f);
                    }
                    match kind {
                        Kind::Set => Frame::Set(items),
                        Kind::Push => Frame::Push(items),
                        _ => Frame::Array(items),
                    }
                }
            }
        };
        return Ok(Some((frame, pos)));
    }
}

#[cfg(test)]
mod tests {
    //! Each case has an `_incomplete` twin: every strict prefix of its input is `Ok(None)`.
    use super::*;

    /// `b` decodes to `f` using all of it, also when more bytes follow.
    fn ok(b: &[u8], f: Frame) {
        assert_eq!(decode(b), Ok(Some((f.clone(), b.len()))), "{b:?}");
        let mut more = b.to_vec();
        more.extend_from_slice(b"+next\r\n");
        assert_eq!(decode(&more), Ok(Some((f, b.len()))), "{b:?} + more");
    }

    /// Every strict prefix of `b` is incomplete.
    fn incomplete(b: &[u8]) {
        for cut in 0..b.len() {
            assert_eq!(decode(&b[..cut]), Ok(None), "{:?}", &b[..cut]);
        }
    }

    /// `b` is malformed.
    fn bad(b: &[u8], e: DecodeError) {
        assert_eq!(decode(b), Err(e), "{b:?}");
    }

    fn bulk(s: &str) -> Frame {
        Frame::bulk(s.as_bytes())
    }

    const SIMPLE: &[u8] = b"+OK\r\n";
    const ERROR: &[u8] = b"-ERR no such key\r\n";
    const BLOB_ERROR: &[u8] = b"!22\r\nSYNTAX invalid\r\nsyntax\r\n";

    #[test]
    fn simple_and_errors() {
        ok(SIMPLE, Frame::OK);
        ok(b"+\r\n", Frame::simple(""));
        ok(ERROR, Frame::error("ERR no such key"));
        // A blob error may hold CRLF; it becomes an ordinary error frame.
        ok(BLOB_ERROR, Frame::error("SYNTAX invalid\r\nsyntax"));
        // Invalid UTF-8 is replaced, not rejected.
        ok(b"+a\xffb\r\n", Frame::simple("a\u{fffd}b"));
    }

    #[test]
    fn simple_and_errors_incomplete() {
        incomplete(SIMPLE);
        incomplete(ERROR);
        incomplete(BLOB_ERROR);
    }

    const INTEGERS: &[(&[u8], i64)] = &[
        (b":0\r\n", 0),
        (b":-42\r\n", -42),
        (b":+7\r\n", 7),
        (b":9223372036854775807\r\n", i64::MAX),
        (b":-9223372036854775808\r\n", i64::MIN),
    ];

    #[test]
    fn integer() {
        for (b, n) in INTEGERS {
            ok(b, Frame::Integer(*n));
        }
    }

    #[test]
    fn integer_incomplete() {
        for (b, _) in INTEGERS {
            incomplete(b);
        }
    }

    const BULK: &[u8] = b"$8\r\na\r\nb\0\xff\r\n\r\n";

    #[test]
    fn bulk_string() {
        ok(BULK, Frame::bulk(&b"a\r\nb\0\xff\r\n"[..]));
        ok(b"$0\r\n\r\n", bulk(""));
    }

    #[test]
    fn bulk_string_incomplete() {
        incomplete(BULK);
        incomplete(b"$0\r\n\r\n");
    }

    const NULLS: &[(&[u8], Frame)] = &[
        (b"_\r\n", Frame::Null),
        (b"$-1\r\n", Frame::Null),
        (b"*-1\r\n", Frame::NullArray),
    ];

    #[test]
    fn nulls() {
        for (b, f) in NULLS {
            ok(b, f.clone());
        }
    }

    #[test]
    fn nulls_incomplete() {
        for (b, _) in NULLS {
            incomplete(b);
        }
    }

    const DOUBLES: &[(&[u8], f64)] = &[
        (b",1.5\r\n", 1.5),
        (b",-0\r\n", -0.0),
        (b",10\r\n", 10.0),
        (b",1e+20\r\n", 1e20),
        (b",1.0000000000000001e-05\r\n", 1e-5),
        (b",inf\r\n", f64::INFINITY),
        (b",-inf\r\n", f64::NEG_INFINITY),
    ];

    #[test]
    fn double() {
        for (b, d) in DOUBLES {
            ok(b, Frame::Double(*d));
        }
        let Ok(Some((Frame::Double(d), 6))) = decode(b",nan\r\n") else {
            panic!("nan");
        };
        assert!(d.is_nan());
        let Ok(Some((Frame::Double(z), _))) = decode(b",-0\r\n") else {
            panic!("-0");
        };
        assert!(z.is_sign_negative());
    }

    #[test]
    fn double_incomplete() {
        for (b, _) in DOUBLES {
            incomplete(b);
        }
        incomplete(b",nan\r\n");
    }

    /// Input bytes and the frame they decode to (built on demand: frames own heap data).
    type Case = (&'static [u8], fn() -> Frame);

    const SCALARS3: &[Case] = &[
        (b"#t\r\n", || Frame::Boolean(true)),
        (b"#f\r\n", || Frame::Boolean(false)),
        (b"(3492890328409238509324850943850943825024385\r\n", || {
            Frame::BigNumber("3492890328409238509324850943850943825024385".into())
        }),
        (b"(-12\r\n", || Frame::BigNumber("-12".into())),
        (b"=15\r\ntxt:Some string\r\n", || Frame::Verbatim {
            format: *b"txt",
            text: b"Some string".to_vec(),
        }),
        (b"=4\r\nmkd:\r\n", || Frame::Verbatim {
            format: *b"mkd",
            text: Vec::new(),
        }),
    ];

    #[test]
    fn resp3_scalars() {
        for (b, f) in SCALARS3 {
            ok(b, f());
        }
    }

    #[test]
    fn resp3_scalars_incomplete() {
        for (b, _) in SCALARS3 {
            incomplete(b);
        }
    }

    const NESTED: &[u8] = b"*3\r\n:1\r\n*2\r\n$1\r\na\r\n*0\r\n%1\r\n+k\r\n~2\r\n#t\r\n_\r\n";

    fn nested() -> Frame {
        Frame::Array(vec![
            Frame::Integer(1),
            Frame::Array(vec![bulk("a"), Frame::Array(vec![])]),
            Frame::Map(vec![(
                Frame::simple("k"),
                Frame::Set(vec![Frame::Boolean(true), Frame::Null]),
            )]),
        ])
    }

    #[test]
    fn aggregates() {
        ok(NESTED, nested());
        ok(b"*0\r\n", Frame::Array(vec![]));
        ok(b"%0\r\n", Frame::Map(vec![]));
        ok(b"~0\r\n", Frame::Set(vec![]));
        ok(
            b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
            Frame::Push(vec![bulk("message"), bulk("ch"), bulk("hi")]),
        );
    }

    #[test]
    fn aggregates_incomplete() {
        incomplete(NESTED);
        incomplete(b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n");
    }

    // An attribute before the reply and one before an element inside it.
    const ATTRIBUTED: &[u8] =
        b"|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*2\r\n:2\r\n|0\r\n:3\r\n";

    #[test]
    fn attributes_are_skipped() {
        ok(
            ATTRIBUTED,
            Frame::Array(vec![Frame::Integer(2), Frame::Integer(3)]),
        );
    }

    #[test]
    fn attributes_are_skipped_incomplete() {
        incomplete(ATTRIBUTED);
    }

    #[test]
    fn announced_sizes_are_not_trusted() {
        // Would be gigabytes if reserved up front; they are just incomplete.
        for b in [
            &b"*2147483647\r\n:1\r\n"[..],
            b"%9223372036854775807\r\n",
            b"$4000000000\r\nabc",
            b"=9223372036854775807\r\ntxt:",
            b"|9223372036854775807\r\n",
        ] {
            assert_eq!(decode(b), Ok(None), "{b:?}");
        }
    }

    const MALFORMED: &[(&[u8], DecodeError)] = &[
        (b"x\r\n", DecodeError::UnknownType(b'x')),
        (b"\r\n", DecodeError::UnknownType(b'\r')),
        (b"+OK\n", DecodeError::MissingCrlf),
        (b"+OK\rX", DecodeError::MissingCrlf),
        (b":1.5\r\n", DecodeError::InvalidInteger),
        (b":\r\n", DecodeError::InvalidInteger),
        (b":9223372036854775808\r\n", DecodeError::InvalidInteger),
        (
            b":111111111111111111111111111111111",
            DecodeError::InvalidInteger,
        ),
        (b"$-2\r\n", DecodeError::InvalidLength),
        (b"$\r\n", DecodeError::InvalidLength),
        (b"$1 \r\n", DecodeError::InvalidLength),
        (
            b"$111111111111111111111111111111111",
            DecodeError::InvalidLength,
        ),
        (b"%-1\r\n", DecodeError::InvalidLength),
        (b"$3\r\nfooXY", DecodeError::MissingCrlf),
        (b"$3\r\nfoo\rX", DecodeError::MissingCrlf),
        (b",1.5.5\r\n", DecodeError::InvalidDouble),
        (b",infinity\r\n", DecodeError::InvalidDouble),
        (b",\r\n", DecodeError::InvalidDouble),
        (b"#x\r\n", DecodeError::InvalidBoolean),
        (b"_x\r\n", DecodeError::InvalidNull),
        (b"(12a\r\n", DecodeError::InvalidBigNumber),
        (b"(-\r\n", DecodeError::InvalidBigNumber),
        (b"=3\r\n", DecodeError::InvalidVerbatim),
        (b"=5\r\ntxt-x\r\n", DecodeError::InvalidVerbatim),
        (b"$?\r\n", DecodeError::Streamed),
        (b"*?\r\n", DecodeError::Streamed),
        (b";4\r\n", DecodeError::Streamed),
        (b"*2\r\n:1\r\n?\r\n", DecodeError::UnknownType(b'?')),
    ];

    #[test]
    fn malformed() {
        for (b, e) in MALFORMED {
            bad(b, *e);
        }
    }

    #[test]
    fn malformed_incomplete() {
        // Before the byte that gives it away, a malformed input is just incomplete.
        for (b, e) in MALFORMED {
            let mut seen_error = false;
            for cut in 0..b.len() {
                match decode(&b[..cut]) {
                    Ok(None) => assert!(!seen_error, "{b:?} at {cut}: error then incomplete"),
                    Err(got) => {
                        assert_eq!(got, *e, "{b:?} at {cut}");
                        seen_error = true;
                    }
                    Ok(Some(f)) => panic!("{b:?} at {cut}: decoded {f:?}"),
                }
            }
        }
    }

    fn deep(levels: usize) -> Vec<u8> {
        let mut b = b"*1\r\n".repeat(levels);
        b.extend_from_slice(b":1\r\n");
        b
    }

    #[test]
    fn depth_limit() {
        let mut f = Frame::Integer(1);
        for _ in 0..MAX_DEPTH {
            f = Frame::Array(vec![f]);
        }
        ok(&deep(MAX_DEPTH), f);
        bad(&deep(MAX_DEPTH + 1), DecodeError::TooDeep);
        // Detected at the header, long before the value is complete.
        bad(&b"*1\r\n".repeat(MAX_DEPTH + 1), DecodeError::TooDeep);
        // Attributes count as a level, and so does an empty aggregate.
        let mut attr = b"*1\r\n".repeat(MAX_DEPTH);
        attr.extend_from_slice(b"|0\r\n:1\r\n");
        bad(&attr, DecodeError::TooDeep);
        let mut empty = b"*1\r\n".repeat(MAX_DEPTH);
        empty.extend_from_slice(b"*0\r\n");
        bad(&empty, DecodeError::TooDeep);
    }

    #[test]
    fn depth_limit_incomplete() {
        incomplete(&deep(MAX_DEPTH));
        incomplete(&b"*1\r\n".repeat(MAX_DEPTH));
    }

    #[test]
    fn display() {
        assert_eq!(
            DecodeError::UnknownType(b'x').to_string(),
            "Protocol error: unknown type byte 'x'"
        );
        assert_eq!(
            DecodeError::TooDeep.to_string(),
            "Protocol error: nesting deeper than 128"
        );
    }
}
