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

    /// A string computed by a command rather than written whole (INCRBYFLOAT's result):
    /// `embstr` or `raw` by length, never `int` — Redis's `createStringObject`, which skips
    /// `tryObjectEncoding`.
    pub fn from_computed(v: Vec<u8>) -> Str {
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

    /// Appends `tail` in place (APPEND); the value becomes `raw`, as in Redis even when
    /// `tail` is empty. Returns the new length.
    pub fn append(&mut self, tail: &[u8]) -> usize {
        let v = self.make_raw();
        v.extend_from_slice(tail);
        v.len()
    }

    /// Writes `part` at `offset`, zero-padding any gap (SETRANGE); the value becomes `raw`.
    /// The caller has checked `offset + part.len()` against the size limit. Returns the new
    /// length.
    pub fn set_range(&mut self, offset: usize, part: &[u8]) -> usize {
        let v = self.make_raw();
        let end = offset + part.len();
        if v.len() < end {
            v.resize(end, 0);
        }
        v[offset..end].copy_from_slice(part);
        v.len()
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
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn from_bytes_round_trips(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(Str::from_bytes(&b).as_bytes().into_owned(), b.clone());
            prop_assert_eq!(Str::from_vec(b.clone()).as_bytes().into_owned(), b.clone());
            prop_assert_eq!(Str::from_bytes(&b).len(), b.len());
        }

        #[test]
        fn integers_round_trip(n in any::<i64>()) {
            let text = n.to_string();
            let s = Str::from_bytes(text.as_bytes());
            prop_assert_eq!(&s, &Str::Int(n));
            prop_assert_eq!(s.to_vec(), text.clone().into_bytes());
            prop_assert_eq!(s.len(), text.len());
        }

        #[test]
        fn set_range_matches_a_model(
            init in proptest::collection::vec(any::<u8>(), 0..16),
            offset in 0usize..24,
            part in proptest::collection::vec(any::<u8>(), 0..8),
        ) {
            let mut model = init.clone();
            if model.len() < offset + part.len() {
                model.resize(offset + part.len(), 0);
            }
            model[offset..offset + part.len()].copy_from_slice(&part);
            let mut s = Str::from_bytes(&init);
            prop_assert_eq!(s.set_range(offset, &part), model.len());
            prop_assert_eq!(s.to_vec(), model);
        }
    }

    #[test]
    fn computed_strings_are_never_int() {
        assert_eq!(Str::from_computed(b"11".to_vec()).encoding_name(), "embstr");
        assert_eq!(Str::from_computed(vec![b'1'; 45]).encoding_name(), "raw");
        let mut s = Str::Int(12);
        assert_eq!(s.append(b""), 2);
        assert_eq!(s.encoding_name(), "raw");
    }

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
