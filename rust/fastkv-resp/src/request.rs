//! The incremental request decoder.
//!
//! A server appends what it reads to a buffer and calls [`parse_request`] on the unparsed
//! tail until it answers [`Parsed::Incomplete`]. Incomplete input is never an error (until a
//! line outgrows Redis's 64 KB limit) and costs nothing but a rescan of the command's header
//! lines next time. Nothing is reserved for a declared length before its bytes arrive: a client
//! announcing `*2147483647` or `$400000000` and then going quiet costs the server only what it
//! actually sent.
//!
//! The rules are Redis 7.0's `processMultibulkBuffer` and `processInlineBuffer`, quirks
//! included (they were checked byte for byte against `redis-server` 7.0.15; the unit tests
//! below record each case): header lines end at `'\r'` and the byte after it is not checked,
//! the two bytes after a bulk payload are not checked, `*0` and negative counts are skipped
//! silently, a NUL byte hides a line's terminator. Redis keeps parse state between reads;
//! rescanning gives the same answers because a decision, once the bytes it depends on have
//! arrived, never changes as more arrive (a property test checks this on random input).
//!
//! Errors carry Redis's exact texts; the server replies `-ERR <text>` and closes the
//! connection, as Redis does. Not handled here: Redis's `unauthenticated multibulk length` /
//! `unauthenticated bulk length` checks (counts above 10 and bulks above 16 KB before `AUTH`
//! when a password is set), which need connection state.

use std::fmt;

/// Longest inline command, and longest `*N` / `$N` header line, before the request is
/// rejected (Redis's `PROTO_INLINE_MAX_SIZE`).
pub const INLINE_MAX_SIZE: usize = 64 * 1024;

/// Redis's default `proto-max-bulk-len`: 512 MB.
pub const DEFAULT_MAX_BULK_LEN: u64 = 512 * 1024 * 1024;

/// Redis rejects multibulk counts above `INT_MAX`.
pub const MAX_MULTIBULK_LEN: i64 = i32::MAX as i64;

/// Argument slots reserved up front for a multibulk command. Enough for nearly every real
/// command (so the common case allocates once); a larger announced count grows the vector only
/// as its arguments actually arrive.
const MULTIBULK_PREALLOC: usize = 64;

/// The limits a request must respect.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `proto-max-bulk-len`.
    pub max_bulk_len: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: DEFAULT_MAX_BULK_LEN,
        }
    }
}

/// What one call of [`parse_request`] found at the start of the buffer.
#[derive(Debug, PartialEq)]
pub enum Parsed<'a> {
    /// More bytes are needed.
    Incomplete,
    /// A multibulk command; arguments borrow the buffer. `args` is empty for `*0` or `*-1`,
    /// which Redis silently skips.
    Command {
        args: Vec<&'a [u8]>,
        consumed: usize,
    },
    /// An inline command (a line of text); quoted arguments are unescaped, so they are owned.
    /// `args` is empty for a blank line.
    Inline { args: Vec<Vec<u8>>, consumed: usize },
}

/// What one call of [`parse_request_into`] found: like [`Parsed`], but a multibulk command's
/// arguments went into the caller's vector.
#[derive(Debug, PartialEq)]
pub enum ParsedInto {
    /// More bytes are needed (the caller's vector holds a partial parse: ignore it). When the
    /// parse stopped inside an argument's payload, `needed` is how many bytes from the
    /// request's start the request takes at least (up to that payload's end): a big argument
    /// on its way can get its room at once.
    Incomplete { needed: Option<usize> },
    /// A multibulk command, its arguments in the vector (empty for `*0` or `*-1`).
    Command { consumed: usize },
    /// An inline command, as [`Parsed::Inline`].
    Inline { args: Vec<Vec<u8>>, consumed: usize },
}

/// A malformed request. `Display` gives Redis's text (without the `ERR ` prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    InvalidMultibulkLength,
    InvalidBulkLength,
    ExpectedDollar(u8),
    TooBigInline,
    TooBigMultibulkCount,
    TooBigBulkCount,
    UnbalancedQuotes,
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::InvalidMultibulkLength => {
                f.write_str("Protocol error: invalid multibulk length")
            }
            ProtocolError::InvalidBulkLength => f.write_str("Protocol error: invalid bulk length"),
            ProtocolError::ExpectedDollar(c) => {
                // Redis prints the byte with `%c` and then maps CR and LF to spaces so the
                // error stays one line. A byte above 0x7f is shown as the Latin-1 character
                // (Redis sends the raw byte, which a `str` cannot hold).
                let c = match *c {
                    b'\r' | b'\n' => ' ',
                    c => c as char,
                };
                write!(f, "Protocol error: expected '$', got '{c}'")
            }
            ProtocolError::TooBigInline => f.write_str("Protocol error: too big inline request"),
            ProtocolError::TooBigMultibulkCount => {
                f.write_str("Protocol error: too big mbulk count string")
            }
            ProtocolError::TooBigBulkCount => {
                f.write_str("Protocol error: too big bulk count string")
            }
            ProtocolError::UnbalancedQuotes => {
                f.write_str("Protocol error: unbalanced quotes in request")
            }
        }
    }
}

impl std::error::Error for ProtocolError {}

/// Decodes the request at the start of `buf`.
pub fn parse_request<'a>(buf: &'a [u8], limits: &Limits) -> Result<Parsed<'a>, ProtocolError> {
    match buf.first() {
        None => Ok(Parsed::Incomplete),
        Some(b'*') => parse_multibulk(buf, limits),
        Some(_) => parse_inline(buf),
    }
}

/// [`parse_request`], filling `args` (cleared first) with a multibulk command's arguments
/// instead of allocating a vector per command: a server connection keeps one vector for
/// every command it reads (an allocation and a free per command were a visible share of a
/// pipelined GET).
pub fn parse_request_into<'a>(
    buf: &'a [u8],
    limits: &Limits,
    args: &mut Vec<&'a [u8]>,
) -> Result<ParsedInto, ProtocolError> {
    args.clear();
    match buf.first() {
        None => Ok(ParsedInto::Incomplete { needed: None }),
        Some(b'*') => {
            let mut needed = None;
            Ok(match multibulk_into(buf, limits, args, &mut needed)? {
                Some(consumed) => ParsedInto::Command { consumed },
                None => ParsedInto::Incomplete { needed },
            })
        }
        Some(_) => Ok(match parse_inline(buf)? {
            Parsed::Inline { args, consumed } => ParsedInto::Inline { args, consumed },
            Parsed::Command { consumed, .. } => ParsedInto::Command { consumed },
            Parsed::Incomplete => ParsedInto::Incomplete { needed: None },
        }),
    }
}

/// Finds the `'\r'` that ends the header line starting at `from`, as Redis's
/// `strchr(p, '\r')` does on its NUL-terminated query buffer: the search stops at a NUL byte,
/// so a header with a NUL in it is never found (the request then waits for more bytes until
/// the 64 KB limit rejects it, exactly as Redis 7.0 hangs and then errors).
#[inline]
fn find_cr(buf: &[u8], from: usize) -> Option<usize> {
    let rest = buf.get(from..)?;
    let i = rest.iter().position(|&b| b == b'\r' || b == 0)?;
    match rest.get(i) {
        Some(b'\r') => Some(from + i),
        _ => None,
    }
}

/// The same search for inline requests, which end at `'\n'` (Redis's `strchr(p, '\n')`).
#[inline]
fn find_lf(buf: &[u8]) -> Option<usize> {
    let i = buf.iter().position(|&b| b == b'\n' || b == 0)?;
    match buf.get(i) {
        Some(b'\n') => Some(i),
        _ => None,
    }
}

/// What to answer when a line's terminator is not (yet) in the buffer: more bytes may bring
/// it, unless more than [`INLINE_MAX_SIZE`] bytes already follow the line's start.
#[inline]
fn missing_terminator<'a>(
    pending: usize,
    too_big: ProtocolError,
) -> Result<Parsed<'a>, ProtocolError> {
    if pending > INLINE_MAX_SIZE {
        Err(too_big)
    } else {
        Ok(Parsed::Incomplete)
    }
}

/// Parses a strict decimal integer as Redis's `string2ll` does: optional '-', no '+', no
/// leading zeros (except "0"), no spaces, fits in i64.
pub fn parse_i64_strict(s: &[u8]) -> Option<i64> {
    if s.len() > 20 {
        return None;
    }
    let (neg, digits) = match s.split_first()? {
        (b'-', rest) => (true, rest),
        _ => (false, s),
    };
    match digits {
        [] => return None,
        [b'0', _, ..] => return None,
        [b'0'] if neg => return None,
        _ => {}
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

/// A multibulk request, following Redis 7.0's `processMultibulkBuffer` step by step:
///
/// - A header line (`*N`, `$N`) ends at the first `'\r'`. Redis needs one more byte in the
///   buffer but never checks that it is `'\n'`: `*1\rX$4\rYPINGZZ` is a valid `PING`. A bare
///   `'\n'` does not end a header, it makes the number invalid.
/// - Counts are parsed as `string2ll` does ([`parse_i64_strict`]); `*0` and negative counts
///   (`*-1`, `*-5`) are an empty command that the server skips silently; above `INT_MAX` is
///   `invalid multibulk length`.
/// - A bulk header is located before its tag is checked, so `*1\r\nfoo` waits for more bytes
///   (and becomes `too big bulk count string` past 64 KB) rather than failing at once.
/// - The two bytes after a bulk payload are skipped unchecked.
///
/// Redis keeps the parse state between reads; this function rescans from the start instead,
/// which gives the same answers because every decision depends only on bytes that are already
/// final once seen (header lines are re-found at the same places).
fn parse_multibulk<'a>(buf: &'a [u8], limits: &Limits) -> Result<Parsed<'a>, ProtocolError> {
    let mut args = Vec::new();
    Ok(match multibulk_into(buf, limits, &mut args, &mut None)? {
        Some(consumed) => Parsed::Command { args, consumed },
        None => Parsed::Incomplete,
    })
}

/// The multibulk parser: pushes the arguments onto `args` (empty on entry) and returns the
/// bytes consumed, or `None` when more bytes are needed (then `needed` is set if the parse
/// stopped inside a payload: the request's length up to that payload's end).
fn multibulk_into<'a>(
    buf: &'a [u8],
    limits: &Limits,
    args: &mut Vec<&'a [u8]>,
    needed: &mut Option<usize>,
) -> Result<Option<usize>, ProtocolError> {
    let Some(cr) = find_cr(buf, 1) else {
        return missing_terminator(buf.len(), ProtocolError::TooBigMultibulkCount).map(|_| None);
    };
    if cr + 1 >= buf.len() {
        return Ok(None);
    }
    let count = buf
        .get(1..cr)
        .and_then(parse_i64_strict)
        .ok_or(ProtocolError::InvalidMultibulkLength)?;
    if count > MAX_MULTIBULK_LEN {
        return Err(ProtocolError::InvalidMultibulkLength);
    }
    let mut pos = cr + 2;
    if count <= 0 {
        return Ok(Some(pos));
    }
    // Reserve for what is plausible, not for what was announced: `*2147483647` costs a
    // 64-slot vector, and only arguments that actually arrive grow it.
    args.reserve((count as usize).min(MULTIBULK_PREALLOC));
    for _ in 0..count {
        let Some(cr) = find_cr(buf, pos) else {
            return missing_terminator(buf.len() - pos, ProtocolError::TooBigBulkCount)
                .map(|_| None);
        };
        if cr + 1 >= buf.len() {
            return Ok(None);
        }
        // `find_cr` found the '\r' at or after `pos`, so `pos` is in bounds.
        let tag = buf.get(pos).copied().unwrap_or(b'\r');
        if tag != b'$' {
            return Err(ProtocolError::ExpectedDollar(tag));
        }
        let len = buf
            .get(pos + 1..cr)
            .and_then(parse_i64_strict)
            .ok_or(ProtocolError::InvalidBulkLength)?;
        if len < 0 || len as u64 > limits.max_bulk_len {
            return Err(ProtocolError::InvalidBulkLength);
        }
        let start = cr + 2;
        let Ok(len) = usize::try_from(len) else {
            return Err(ProtocolError::InvalidBulkLength);
        };
        // Payload plus the two trailing bytes; a length near usize::MAX cannot have arrived.
        let Some(next) = start.checked_add(len).and_then(|s| s.checked_add(2)) else {
            return Ok(None);
        };
        if next > buf.len() {
            *needed = Some(next);
            return Ok(None);
        }
        let Some(arg) = buf.get(start..next - 2) else {
            return Ok(None);
        };
        args.push(arg);
        // Redis skips the two bytes after the payload without checking them.
        pos = next;
    }
    Ok(Some(pos))
}

/// An inline request, as Redis 7.0's `processInlineBuffer`: the line ends at the first `'\n'`
/// (one `'\r'` before it is dropped); a NUL byte hides the newline from Redis's `strchr`, so
/// such a line waits until the 64 KB limit. The limit applies only while no newline has been
/// found: a longer line that arrives whole is accepted, as Redis does when one read brings it.
/// A blank line is an empty command that the server skips.
fn parse_inline(buf: &[u8]) -> Result<Parsed<'static>, ProtocolError> {
    let Some(nl) = find_lf(buf) else {
        return missing_terminator(buf.len(), ProtocolError::TooBigInline);
    };
    let line = buf.get(..nl).unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let args = split_args(line).ok_or(ProtocolError::UnbalancedQuotes)?;
    Ok(Parsed::Inline {
        args,
        consumed: nl + 1,
    })
}

/// Splits an inline command line into arguments the way Redis's `sdssplitargs` does (inline
/// requests, `redis-cli`, config files):
///
/// - blanks between arguments are C `isspace` (space, `\t \n \v \f \r`), but an unquoted
///   argument ends only at space, `\t`, `\n`, `\r` (so `a\x0bb` is one argument);
/// - `"..."` understands `\n \r \t \b \a \xHH` and `\<any>`; `'...'` understands only `\'`;
///   a quote may start in the middle of an argument (`x"y z"` is `xy z`);
/// - a closing quote must be followed by a blank (`isspace`) or the end of the line;
/// - the line ends at its first NUL byte, as the C string it is in Redis.
///
/// Returns `None` for unbalanced quotes (Redis's `unbalanced quotes in request`).
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let line = match line.iter().position(|&b| b == 0) {
        Some(nul) => line.get(..nul).unwrap_or_default(),
        None => line,
    };
    let at = |i: usize| line.get(i).copied();
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while at(i).is_some_and(is_space) {
            i += 1;
        }
        if i >= line.len() {
            return Some(args);
        }
        let mut cur = Vec::new();
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            if in_dq {
                // End of line inside quotes: unbalanced.
                let c = at(i)?;
                if c == b'\\' {
                    if let (Some(b'x'), Some(h), Some(l)) = (at(i + 1), at(i + 2), at(i + 3)) {
                        if let (Some(h), Some(l)) = (hex(h), hex(l)) {
                            cur.push(h * 16 + l);
                            i += 4;
                            continue;
                        }
                    }
                    if let Some(e) = at(i + 1) {
                        cur.push(match e {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 8,
                            b'a' => 7,
                            other => other,
                        });
                        i += 2;
                        continue;
                    }
                } else if c == b'"' {
                    if at(i + 1).is_some_and(|n| !is_space(n)) {
                        return None;
                    }
                    i += 1;
                    break;
                }
                cur.push(c);
                i += 1;
            } else if in_sq {
                let c = at(i)?;
                if c == b'\\' && at(i + 1) == Some(b'\'') {
                    cur.push(b'\'');
                    i += 2;
                    continue;
                } else if c == b'\'' {
                    if at(i + 1).is_some_and(|n| !is_space(n)) {
                        return None;
                    }
                    i += 1;
                    break;
                }
                cur.push(c);
                i += 1;
            } else {
                match at(i) {
                    None | Some(b' ' | b'\n' | b'\r' | b'\t') => break,
                    Some(b'"') => in_dq = true,
                    Some(b'\'') => in_sq = true,
                    Some(c) => cur.push(c),
                }
                i += 1;
            }
        }
        args.push(cur);
    }
}

/// C's `isspace` in the C locale.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    //! Every case was checked against Redis 7.0.15 by writing the same bytes to a socket; the
    //! `_incomplete` twin of each case feeds every strict prefix and expects `Incomplete`.
    use super::*;

    fn parse(b: &[u8]) -> Result<Parsed<'_>, ProtocolError> {
        parse_request(b, &Limits::default())
    }

    /// Every strict prefix of `b` (from `from` bytes on) must be `Incomplete`.
    fn prefixes_incomplete(b: &[u8], from: usize) {
        for cut in from..b.len() {
            assert_eq!(parse(&b[..cut]), Ok(Parsed::Incomplete), "cut at {cut}");
        }
    }

    fn cmd<'a>(args: &[&'a [u8]], consumed: usize) -> Result<Parsed<'a>, ProtocolError> {
        Ok(Parsed::Command {
            args: args.to_vec(),
            consumed,
        })
    }

    fn inl(args: &[&[u8]], consumed: usize) -> Result<Parsed<'static>, ProtocolError> {
        Ok(Parsed::Inline {
            args: args.iter().map(|a| a.to_vec()).collect(),
            consumed,
        })
    }

    const GET: &[u8] = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";

    #[test]
    fn multibulk() {
        assert_eq!(parse(GET), cmd(&[b"GET", b"k"], GET.len()));
        // Only the first command of a pipeline is consumed.
        let two = [GET, GET].concat();
        assert_eq!(parse(&two), cmd(&[b"GET", b"k"], GET.len()));
    }

    #[test]
    fn multibulk_incomplete() {
        prefixes_incomplete(GET, 0);
    }

    const BINARY: &[u8] = b"*2\r\n$4\r\nECHO\r\n$5\r\na\0\r\nb\r\n";

    #[test]
    fn binary_args() {
        assert_eq!(parse(BINARY), cmd(&[b"ECHO", b"a\0\r\nb"], BINARY.len()));
        assert_eq!(
            parse(b"*1\r\n$0\r\n\r\n"),
            cmd(&[b""], 10),
            "an empty argument"
        );
    }

    #[test]
    fn binary_args_incomplete() {
        prefixes_incomplete(BINARY, 0);
    }

    #[test]
    fn empty_multibulk() {
        // Redis skips `*0`, `*-1` and any negative count without a reply.
        assert_eq!(parse(b"*0\r\nPING\r\n"), cmd(&[], 4));
        assert_eq!(parse(b"*-1\r\n"), cmd(&[], 5));
        assert_eq!(parse(b"*-5\r\n"), cmd(&[], 5));
    }

    #[test]
    fn empty_multibulk_incomplete() {
        prefixes_incomplete(b"*0\r\n", 0);
        prefixes_incomplete(b"*-1\r\n", 0);
    }

    // `*1\rX$4\rYPINGZZ` is a PING for Redis: the byte after a header's '\r' and the two
    // bytes after a payload are skipped unchecked.
    const LOOSE: &[u8] = b"*1\rX$4\rYPINGZZ";

    #[test]
    fn terminators_unchecked() {
        assert_eq!(parse(LOOSE), cmd(&[b"PING"], LOOSE.len()));
        let b = b"*1\r\n$4\r\nPINGXX*1\r\n$4\r\nPING\r\n";
        assert_eq!(parse(b), cmd(&[b"PING"], 14));
    }

    #[test]
    fn terminators_unchecked_incomplete() {
        prefixes_incomplete(LOOSE, 0);
    }

    #[test]
    fn lf_only_header_waits_for_cr() {
        // Redis looks for '\r' only: `*1\n...` without any '\r' waits, then is too big.
        let b = b"*1\n$4\nPING\n";
        assert_eq!(parse(b), Ok(Parsed::Incomplete));
        let mut big = b.to_vec();
        big.resize(INLINE_MAX_SIZE + 1, b'x');
        assert_eq!(parse(&big), Err(ProtocolError::TooBigMultibulkCount));
    }

    #[test]
    fn lf_inside_count_is_invalid() {
        assert_eq!(
            parse(b"*1\n$4\r\nPING\r\n"),
            Err(ProtocolError::InvalidMultibulkLength)
        );
        assert_eq!(
            parse(b"*1\r\n$4\nPING\r\n"),
            Err(ProtocolError::InvalidBulkLength)
        );
    }

    #[test]
    fn lf_inside_count_is_invalid_incomplete() {
        // The error needs the '\r' and the byte after it.
        prefixes_incomplete(b"*1\n$4\r\n", 0);
        prefixes_incomplete(b"*1\r\n$4\nPING\r\n", 0);
    }

    const BAD_COUNTS: &[&[u8]] = &[
        b"*+1\r\n",
        b"*01\r\n",
        b"*\r\n",
        b"*-0\r\n",
        b"* 1\r\n",
        b"*1 \r\n",
        b"*2147483648\r\n",
        b"*99999999999999999999\r\n",
        b"*abc\r\n",
    ];

    #[test]
    fn invalid_multibulk_length() {
        for b in BAD_COUNTS {
            assert_eq!(
                parse(b),
                Err(ProtocolError::InvalidMultibulkLength),
                "{b:?}"
            );
        }
    }

    #[test]
    fn invalid_multibulk_length_incomplete() {
        for b in BAD_COUNTS {
            prefixes_incomplete(b, 0);
        }
    }

    const BAD_BULK_LENS: &[&[u8]] = &[
        b"*1\r\n$-1\r\n",
        b"*1\r\n$-0\r\n",
        b"*1\r\n$\r\n",
        b"*1\r\n$+3\r\n",
        b"*1\r\n$03\r\n",
        b"*1\r\n$600000000\r\n",
        b"*1\r\n$9223372036854775807\r\n",
    ];

    #[test]
    fn invalid_bulk_length() {
        for b in BAD_BULK_LENS {
            assert_eq!(parse(b), Err(ProtocolError::InvalidBulkLength), "{b:?}");
        }
        // proto-max-bulk-len is the caller's.
        let small = Limits { max_bulk_len: 3 };
        assert_eq!(
            parse_request(b"*1\r\n$4\r\n", &small),
            Err(ProtocolError::InvalidBulkLength)
        );
        assert_eq!(
            parse_request(b"*1\r\n$3\r\nabc\r\n", &small),
            cmd(&[b"abc"], 13)
        );
    }

    #[test]
    fn invalid_bulk_length_incomplete() {
        for b in BAD_BULK_LENS {
            prefixes_incomplete(b, 0);
        }
    }

    #[test]
    fn expected_dollar() {
        assert_eq!(
            parse(b"*1\r\n+foo\r\n"),
            Err(ProtocolError::ExpectedDollar(b'+'))
        );
        assert_eq!(
            parse(b"*2\r\n$1\r\na\r\nfoo\r\n"),
            Err(ProtocolError::ExpectedDollar(b'f'))
        );
        assert_eq!(
            parse(b"*1\r\n\r\n"),
            Err(ProtocolError::ExpectedDollar(b'\r'))
        );
        assert_eq!(
            ProtocolError::ExpectedDollar(b'+').to_string(),
            "Protocol error: expected '$', got '+'"
        );
        // Redis turns CR and LF into spaces in error replies.
        for c in [b'\r', b'\n'] {
            assert_eq!(
                ProtocolError::ExpectedDollar(c).to_string(),
                "Protocol error: expected '$', got ' '"
            );
        }
    }

    #[test]
    fn expected_dollar_incomplete() {
        // Redis finds the line before it looks at the tag: `*1\r\nfoo` waits.
        prefixes_incomplete(b"*1\r\n+foo\r\n", 0);
        prefixes_incomplete(b"*2\r\n$1\r\na\r\nfoo\r\n", 0);
    }

    #[test]
    fn huge_counts_are_incomplete_not_allocated() {
        // Nothing is reserved for announced sizes; these would be gigabytes.
        assert_eq!(
            parse(b"*2147483647\r\n$4\r\nPING\r\n"),
            Ok(Parsed::Incomplete)
        );
        assert_eq!(parse(b"*1\r\n$400000000\r\nabc"), Ok(Parsed::Incomplete));
        let max = Limits {
            max_bulk_len: u64::MAX,
        };
        assert_eq!(
            parse_request(b"*1\r\n$9223372036854775807\r\nabc", &max),
            Ok(Parsed::Incomplete)
        );
    }

    /// `prefix` followed by `n` bytes of `fill`.
    fn padded(prefix: &[u8], fill: u8, n: usize) -> Vec<u8> {
        let mut v = prefix.to_vec();
        v.resize(prefix.len() + n, fill);
        v
    }

    #[test]
    fn too_big_mbulk_count_string() {
        let at_limit = padded(b"*", b'1', INLINE_MAX_SIZE - 1);
        assert_eq!(parse(&at_limit), Ok(Parsed::Incomplete));
        let over = padded(b"*", b'1', INLINE_MAX_SIZE);
        assert_eq!(parse(&over), Err(ProtocolError::TooBigMultibulkCount));
        // A long line that arrived whole with its '\r' is judged on its number, as Redis does
        // when one read brings it all.
        let mut whole = padded(b"*", b'1', 70_000);
        whole.extend_from_slice(b"\r\n");
        assert_eq!(parse(&whole), Err(ProtocolError::InvalidMultibulkLength));
    }

    #[test]
    fn too_big_mbulk_count_string_incomplete() {
        prefixes_incomplete(
            &padded(b"*", b'1', INLINE_MAX_SIZE - 1),
            INLINE_MAX_SIZE - 8,
        );
    }

    #[test]
    fn too_big_bulk_count_string() {
        let at_limit = padded(b"*1\r\n$", b'1', INLINE_MAX_SIZE - 1);
        assert_eq!(parse(&at_limit), Ok(Parsed::Incomplete));
        let over = padded(b"*1\r\n$", b'1', INLINE_MAX_SIZE);
        assert_eq!(parse(&over), Err(ProtocolError::TooBigBulkCount));
        // Redis checks the line before the tag, so a missing '$' is reported the same way.
        let not_dollar = padded(b"*1\r\nx", b'1', INLINE_MAX_SIZE);
        assert_eq!(parse(&not_dollar), Err(ProtocolError::TooBigBulkCount));
        // Measured from the current argument's header, not the command's start.
        let second = padded(b"*2\r\n$1\r\na\r\n$", b'1', INLINE_MAX_SIZE - 1);
        assert_eq!(parse(&second), Ok(Parsed::Incomplete));
    }

    #[test]
    fn too_big_bulk_count_string_incomplete() {
        let at_limit = padded(b"*1\r\n$", b'1', INLINE_MAX_SIZE - 1);
        prefixes_incomplete(&at_limit, at_limit.len() - 8);
    }

    #[test]
    fn nul_hides_the_header_terminator() {
        // Redis's strchr stops at NUL: the header is never found, the client waits, then the
        // 64 KB limit rejects the request.
        assert_eq!(parse(b"*1\0\r\n$4\r\nPING\r\n"), Ok(Parsed::Incomplete));
        assert_eq!(parse(b"*1\r\n\0\r\n"), Ok(Parsed::Incomplete));
        let over = padded(b"*1\0\r\n", b'x', INLINE_MAX_SIZE);
        assert_eq!(parse(&over), Err(ProtocolError::TooBigMultibulkCount));
    }

    #[test]
    fn inline() {
        assert_eq!(
            parse(b"SET a \"b c\"\r\n"),
            inl(&[b"SET", b"a", b"b c"], 13)
        );
        assert_eq!(parse(b"PING\n"), inl(&[b"PING"], 5), "LF alone ends a line");
        assert_eq!(
            parse(b"PI\rNG\r\n"),
            inl(&[b"PI", b"NG"], 7),
            "a CR inside the line separates"
        );
        assert_eq!(parse(b"\r\nPING\r\n"), inl(&[], 2), "blank line");
        assert_eq!(parse(b"\nPING\r\n"), inl(&[], 1));
        assert_eq!(parse(b"   \t\r\n"), inl(&[], 6));
        assert_eq!(
            parse(b"ECHO\ta\x0bb\r\n"),
            inl(&[b"ECHO", b"a\x0bb"], 10),
            "\\v does not end an unquoted argument"
        );
        assert_eq!(
            parse(b"\x0bECHO \"a\"\x0c\r\n"),
            inl(&[b"ECHO", b"a"], 12),
            "but it is a blank between arguments and after a quote"
        );
    }

    #[test]
    fn inline_incomplete() {
        prefixes_incomplete(b"SET a \"b c\"\r\n", 0);
        prefixes_incomplete(b"PING\n", 0);
    }

    const UNBALANCED: &[&[u8]] = &[
        b"SET a \"b\r\n",
        b"SET a 'b\r\n",
        b"SET a \"b\"c\r\n",
        b"SET a 'b'c\r\n",
        b"ECHO \"a\\\"\r\n",
    ];

    #[test]
    fn unbalanced_quotes() {
        for b in UNBALANCED {
            assert_eq!(parse(b), Err(ProtocolError::UnbalancedQuotes), "{b:?}");
        }
    }

    #[test]
    fn unbalanced_quotes_incomplete() {
        for b in UNBALANCED {
            prefixes_incomplete(b, 0);
        }
    }

    #[test]
    fn too_big_inline_request() {
        let at_limit = padded(b"PING", b' ', INLINE_MAX_SIZE - 4);
        assert_eq!(parse(&at_limit), Ok(Parsed::Incomplete));
        let over = padded(b"PING", b' ', INLINE_MAX_SIZE - 3);
        assert_eq!(parse(&over), Err(ProtocolError::TooBigInline));
        // A long line whose newline is already there is accepted (Redis reads it whole).
        let mut whole = padded(b"PING", b' ', 70_000);
        whole.extend_from_slice(b"\r\n");
        assert_eq!(parse(&whole), inl(&[b"PING"], whole.len()));
        // A NUL hides the newline from Redis.
        assert_eq!(parse(b"PI\0NG\r\nPING\r\n"), Ok(Parsed::Incomplete));
        let nul = padded(b"PING\0\r\n", b' ', INLINE_MAX_SIZE);
        assert_eq!(parse(&nul), Err(ProtocolError::TooBigInline));
    }

    #[test]
    fn too_big_inline_request_incomplete() {
        let at_limit = padded(b"PING", b' ', INLINE_MAX_SIZE - 4);
        prefixes_incomplete(&at_limit, at_limit.len() - 8);
    }

    #[test]
    fn split_args_like_sdssplitargs() {
        assert_eq!(
            split_args(b"'it\\'s' \"\\x41\\n\" x\"y z\""),
            Some(vec![b"it's".to_vec(), b"A\n".to_vec(), b"xy z".to_vec()])
        );
        assert_eq!(
            split_args(b"\"a\\x4g\\q\\t\""),
            Some(vec![b"ax4gq\t".to_vec()]),
            "a bad \\x escape is a plain escaped x"
        );
        assert_eq!(split_args(b"'a\\nb'"), Some(vec![b"a\\nb".to_vec()]));
        assert_eq!(
            split_args(b"a\0b c"),
            Some(vec![b"a".to_vec()]),
            "NUL ends the line"
        );
        assert_eq!(split_args(b""), Some(vec![]));
        assert_eq!(split_args(b"\"\""), Some(vec![b"".to_vec()]));
        assert_eq!(split_args(b"\"a"), None);
        assert_eq!(split_args(b"\"a\\"), None);
    }

    #[test]
    fn strict_integers() {
        assert_eq!(parse_i64_strict(b"-12"), Some(-12));
        assert_eq!(parse_i64_strict(b"0"), Some(0));
        assert_eq!(parse_i64_strict(b"012"), None);
        assert_eq!(parse_i64_strict(b"-0"), None);
        assert_eq!(parse_i64_strict(b"-"), None);
        assert_eq!(parse_i64_strict(b""), None);
        assert_eq!(parse_i64_strict(b"+1"), None);
        assert_eq!(parse_i64_strict(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64_strict(b"9223372036854775808"), None);
        assert_eq!(parse_i64_strict(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64_strict(b"-9223372036854775809"), None);
        assert_eq!(parse_i64_strict(b"00000000000000000001"), None);
    }

    #[test]
    fn incomplete_payload_gives_the_request_length_so_far() {
        let head = b"*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\n";
        let mut b = head.to_vec();
        b.extend_from_slice(b"abc");
        let end = head.len() + 100_000 + 2;
        let got = parse_request_into(&b, &Limits::default(), &mut Vec::new());
        assert_eq!(got, Ok(ParsedInto::Incomplete { needed: Some(end) }));
        // Within a header line, nothing is known yet.
        let cut = &head[..head.len() - 3];
        let got = parse_request_into(cut, &Limits::default(), &mut Vec::new());
        assert_eq!(got, Ok(ParsedInto::Incomplete { needed: None }));
        // The payload complete, the request waits for its fourth argument's header.
        b.resize(end, b'x');
        let got = parse_request_into(&b, &Limits::default(), &mut Vec::new());
        assert_eq!(got, Ok(ParsedInto::Incomplete { needed: None }));
    }
}
