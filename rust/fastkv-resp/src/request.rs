//! The incremental request decoder.
//!
//! A server appends what it reads to a buffer and calls [`parse_request`] on the unparsed
//! tail until it answers [`Parsed::Incomplete`]. Incomplete input is never an error and costs
//! nothing but a rescan of the command's header lines next time. Nothing is reserved for a
//! declared length before its bytes arrive: a client announcing `$400000000` and then going
//! quiet costs the server only what it actually sent.
//!
//! Errors carry Redis's exact texts; the server replies `-ERR <text>` and closes the
//! connection, as Redis does.

use std::fmt;

/// Longest inline command, and longest `*N` / `$N` header line, before the request is
/// rejected (Redis's `PROTO_INLINE_MAX_SIZE`).
pub const INLINE_MAX_SIZE: usize = 64 * 1024;

/// Redis's default `proto-max-bulk-len`: 512 MB.
pub const DEFAULT_MAX_BULK_LEN: u64 = 512 * 1024 * 1024;

/// Redis rejects multibulk counts above `INT_MAX`.
pub const MAX_MULTIBULK_LEN: i64 = i32::MAX as i64;

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
                write!(f, "Protocol error: expected '$', got '{}'", *c as char)
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

/// Finds the `\r\n`-terminated line starting at `from`; returns the line's end (index of `\r`).
fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    let rest = buf.get(from..)?;
    let nl = rest.iter().position(|&b| b == b'\n')?;
    // Redis looks for '\r' and requires it to be followed by '\n'; a bare '\n' inside a header
    // line is part of the number and makes it invalid.
    let end = from + nl;
    if end > from && buf[end - 1] == b'\r' {
        Some(end - 1)
    } else {
        // A header line without '\r' before '\n': treat the whole line as the number text,
        // which then fails to parse as an integer.
        Some(end)
    }
}

/// Parses a strict decimal integer as Redis's `string2ll` does: optional '-', no '+', no
/// leading zeros (except "0"), no spaces, fits in i64.
pub fn parse_i64_strict(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || (digits[0] == b'0' && (digits.len() > 1 || neg)) {
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

fn parse_multibulk<'a>(buf: &'a [u8], limits: &Limits) -> Result<Parsed<'a>, ProtocolError> {
    let Some(end) = find_crlf(buf, 1) else {
        if buf.len() > INLINE_MAX_SIZE {
            return Err(ProtocolError::TooBigMultibulkCount);
        }
        return Ok(Parsed::Incomplete);
    };
    let count = parse_i64_strict(&buf[1..end]).ok_or(ProtocolError::InvalidMultibulkLength)?;
    if count > MAX_MULTIBULK_LEN {
        return Err(ProtocolError::InvalidMultibulkLength);
    }
    let mut pos = line_next(buf, end);
    if count <= 0 {
        return Ok(Parsed::Command {
            args: Vec::new(),
            consumed: pos,
        });
    }
    // Reserve for what is plausible, not for what was announced.
    let mut args = Vec::with_capacity((count as usize).min(64));
    for _ in 0..count {
        let Some(&tag) = buf.get(pos) else {
            return Ok(Parsed::Incomplete);
        };
        if tag != b'$' {
            return Err(ProtocolError::ExpectedDollar(tag));
        }
        let Some(end) = find_crlf(buf, pos + 1) else {
            if buf.len() - pos > INLINE_MAX_SIZE {
                return Err(ProtocolError::TooBigBulkCount);
            }
            return Ok(Parsed::Incomplete);
        };
        let len = parse_i64_strict(&buf[pos + 1..end]).ok_or(ProtocolError::InvalidBulkLength)?;
        if len < 0 || len as u64 > limits.max_bulk_len {
            return Err(ProtocolError::InvalidBulkLength);
        }
        let start = line_next(buf, end);
        let len = len as usize;
        let Some(stop) = start.checked_add(len) else {
            return Err(ProtocolError::InvalidBulkLength);
        };
        if buf.len() < stop + 2 {
            return Ok(Parsed::Incomplete);
        }
        args.push(&buf[start..stop]);
        // Redis skips the two bytes after the payload without checking them.
        pos = stop + 2;
    }
    Ok(Parsed::Command {
        args,
        consumed: pos,
    })
}

/// Index just past the line whose `\r` (or `\n`) is at `end`.
fn line_next(buf: &[u8], end: usize) -> usize {
    if buf.get(end) == Some(&b'\r') {
        end + 2
    } else {
        end + 1
    }
}

fn parse_inline(buf: &[u8]) -> Result<Parsed<'static>, ProtocolError> {
    let Some(nl) = buf.iter().position(|&b| b == b'\n') else {
        if buf.len() > INLINE_MAX_SIZE {
            return Err(ProtocolError::TooBigInline);
        }
        return Ok(Parsed::Incomplete);
    };
    if nl > INLINE_MAX_SIZE {
        return Err(ProtocolError::TooBigInline);
    }
    let mut line = &buf[..nl];
    if let Some(stripped) = line.strip_suffix(b"\r") {
        line = stripped;
    }
    let args = split_args(line).ok_or(ProtocolError::UnbalancedQuotes)?;
    Ok(Parsed::Inline {
        args,
        consumed: nl + 1,
    })
}

/// Splits an inline command line into arguments the way `redis-cli` and Redis do: blanks
/// separate arguments; `"..."` understands `\n \r \t \b \a \xHH` and `\<any>`; `'...'`
/// understands only `\'`; a closing quote must be followed by a blank or the end of the line.
/// Returns `None` for unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut args = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && is_blank(line[i]) {
            i += 1;
        }
        if i >= n {
            return Some(args);
        }
        let mut cur = Vec::new();
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            if in_dq {
                let c = *line.get(i)?;
                if c == b'\\'
                    && i + 3 < n
                    && line[i + 1] == b'x'
                    && is_hex(line[i + 2])
                    && is_hex(line[i + 3])
                {
                    cur.push(hex(line[i + 2]) * 16 + hex(line[i + 3]));
                    i += 4;
                    continue;
                } else if c == b'\\' && i + 1 < n {
                    cur.push(match line[i + 1] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                    i += 2;
                    continue;
                } else if c == b'"' {
                    if i + 1 < n && !is_blank(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                }
                cur.push(c);
                i += 1;
            } else if in_sq {
                let c = *line.get(i)?;
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    cur.push(b'\'');
                    i += 2;
                    continue;
                } else if c == b'\'' {
                    if i + 1 < n && !is_blank(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                }
                cur.push(c);
                i += 1;
            } else {
                match line.get(i) {
                    None => break,
                    Some(&c) if is_blank(c) => break,
                    Some(b'"') => in_dq = true,
                    Some(b'\'') => in_sq = true,
                    Some(&c) => cur.push(c),
                }
                i += 1;
            }
        }
        args.push(cur);
    }
}

fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\r' | b'\t' | 0x0b | 0x0c | 0)
}

fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

fn hex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(b: &[u8]) -> Result<Parsed<'_>, ProtocolError> {
        parse_request(b, &Limits::default())
    }

    #[test]
    fn multibulk() {
        let b = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
        assert_eq!(
            parse(b),
            Ok(Parsed::Command {
                args: vec![&b"GET"[..], &b"k"[..]],
                consumed: b.len()
            })
        );
    }

    #[test]
    fn multibulk_incomplete() {
        let b = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
        for cut in 0..b.len() {
            assert_eq!(parse(&b[..cut]), Ok(Parsed::Incomplete), "cut at {cut}");
        }
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse(b"*abc\r\n"),
            Err(ProtocolError::InvalidMultibulkLength)
        );
        assert_eq!(
            parse(b"*1\r\n+foo\r\n"),
            Err(ProtocolError::ExpectedDollar(b'+'))
        );
        assert_eq!(
            parse(b"*1\r\n$-5\r\n"),
            Err(ProtocolError::InvalidBulkLength)
        );
        assert_eq!(
            parse(b"*1\r\n$600000000\r\n"),
            Err(ProtocolError::InvalidBulkLength)
        );
        assert_eq!(
            ProtocolError::ExpectedDollar(b'+').to_string(),
            "Protocol error: expected '$', got '+'"
        );
    }

    #[test]
    fn huge_declared_bulk_is_incomplete_not_allocated() {
        assert_eq!(parse(b"*1\r\n$400000000\r\nabc"), Ok(Parsed::Incomplete));
    }

    #[test]
    fn inline() {
        assert_eq!(
            parse(b"SET a \"b c\"\r\n"),
            Ok(Parsed::Inline {
                args: vec![b"SET".to_vec(), b"a".to_vec(), b"b c".to_vec()],
                consumed: 13
            })
        );
        assert_eq!(parse(b"PING"), Ok(Parsed::Incomplete));
        assert_eq!(
            parse(b"SET a \"b\r\n"),
            Err(ProtocolError::UnbalancedQuotes)
        );
        assert_eq!(
            split_args(b"'it\\'s' \"\\x41\\n\" x\"y z\""),
            Some(vec![b"it's".to_vec(), b"A\n".to_vec(), b"xy z".to_vec()])
        );
    }

    #[test]
    fn strict_integers() {
        assert_eq!(parse_i64_strict(b"-12"), Some(-12));
        assert_eq!(parse_i64_strict(b"012"), None);
        assert_eq!(parse_i64_strict(b"+1"), None);
        assert_eq!(parse_i64_strict(b"9223372036854775808"), None);
        assert_eq!(parse_i64_strict(b"-9223372036854775808"), Some(i64::MIN));
    }
}
