//! Strings: binary-safe bytes, stored as an integer when the bytes are a canonical integer
//! (so INCR stays cheap and `OBJECT ENCODING` says `int`, as Redis does).
//!
//! Encodings, as Redis reports them:
//! - `int`: canonical decimal of an i64 (no leading zeros or '+', at most 20 chars).
//! - `embstr`: at most [`EMBSTR_MAX`] bytes, written whole by SET-like commands.
//! - `raw`: longer strings, and every string modified in place (APPEND, SETRANGE).

use fastkv_resp::request::parse_i64_strict;
use std::borrow::Cow;

/// Redis's `OBJ_ENCODING_EMBSTR_SIZE_LIMIT`: strings up to 44 bytes share one allocation with
/// their object header, so Redis reports them as `embstr`.
pub const EMBSTR_MAX: usize = 44;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Str {
    Int(i64),
    /// Short and never modified in place.
    Emb(Box<[u8]>),
    Raw(Vec<u8>),
}

impl Str {
    /// The encoding Redis's `tryObjectEncoding` picks for a freshly written value.
    pub fn from_bytes(b: &[u8]) -> Str {
        if b.len() <= 20 {
            if let Some(n) = parse_i64_strict(b) {
                return Str::Int(n);
            }
        }
        if b.len() <= EMBSTR_MAX {
            Str::Emb(b.into())
        } else {
            Str::Raw(b.to_vec())
        }
    }

    pub fn from_vec(v: Vec<u8>) -> Str {
        if v.len() <= 20 {
            if let Some(n) = parse_i64_strict(&v) {
                return Str::Int(n);
            }
        }
        if v.len() <= EMBSTR_MAX {
            Str::Emb(v.into_boxed_slice())
        } else {
            Str::Raw(v)
        }
    }

    pub fn as_bytes(&self) -> Cow<'_, [u8]> {
        match self {
            Str::Int(n) => Cow::Owned(n.to_string().into_bytes()),
            Str::Emb(b) => Cow::Borrowed(b),
            Str::Raw(v) => Cow::Borrowed(v),
        }
    }

    pub fn to_vec(&self) -> Vec<u8> {
        self.as_bytes().into_owned()
    }

    pub fn len(&self) -> usize {
        match self {
            Str::Int(n) => decimal_len(*n),
            Str::Emb(b) => b.len(),
            Str::Raw(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value as an integer, if it is one (INCR's view).
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Str::Int(n) => Some(*n),
            Str::Emb(b) => parse_i64_strict(b),
            Str::Raw(v) if v.len() <= 20 => parse_i64_strict(v),
            Str::Raw(_) => None,
        }
    }

    /// A mutable byte buffer for in-place edits (APPEND, SETRANGE); the value becomes `raw`.
    pub fn make_raw(&mut self) -> &mut Vec<u8> {
        if !matches!(self, Str::Raw(_)) {
            let v = self.to_vec();
            *self = Str::Raw(v);
        }
        match self {
            Str::Raw(v) => v,
            // Just converted above.
            _ => unreachable!("string converted to raw"),
        }
    }

    pub fn encoding_name(&self) -> &'static str {
        match self {
            Str::Int(_) => "int",
            Str::Emb(_) => "embstr",
            Str::Raw(_) => "raw",
        }
    }
}

fn decimal_len(n: i64) -> usize {
    let mut u = n.unsigned_abs();
    let mut len = if n < 0 { 2 } else { 1 };
    while u >= 10 {
        u /= 10;
        len += 1;
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        assert_eq!(Str::from_bytes(b"123"), Str::Int(123));
        assert_eq!(Str::from_bytes(b"0123").encoding_name(), "embstr");
        assert_eq!(Str::from_bytes(&[b'x'; 45]).encoding_name(), "raw");
        assert_eq!(Str::Int(-120).len(), 4);
        assert_eq!(Str::Int(i64::MIN).len(), 20);
        let mut s = Str::from_bytes(b"5");
        s.make_raw().push(b'1');
        assert_eq!(s.as_bytes().as_ref(), b"51");
        assert_eq!(s.encoding_name(), "raw");
    }
}
