//! Strings: binary-safe bytes, stored as an integer when the bytes are a canonical integer
//! (so INCR stays cheap and `OBJECT ENCODING` says `int`, as Redis does).
//!
//! Encodings, as Redis reports them:
//! - `int`: canonical decimal of an i64 (no leading zeros or '+', at most 20 chars).
//! - `embstr`: at most [`EMBSTR_MAX`] bytes, written whole by SET-like commands.
//! - `raw`: longer strings, and every string modified in place (APPEND, SETRANGE).
//!
//! Layout: a [`Str`] is 24 bytes. An `embstr` of at most [`INLINE_MAX`] bytes lives inside the
//! enum itself ([`SmallBytes`], no heap block); a longer one is one exact-size block; a `raw`
//! string is a boxed `Vec` (8 bytes in the enum, spare capacity for APPEND's growth).

use fastkv_resp::request::parse_i64_strict;
use std::borrow::Cow;

/// Redis's `OBJ_ENCODING_EMBSTR_SIZE_LIMIT`: strings up to 44 bytes share one allocation with
/// their object header, so Redis reports them as `embstr`.
pub const EMBSTR_MAX: usize = 44;

/// Longest byte string [`SmallBytes`] keeps inline (with its length byte and the enum's tag,
/// 24 bytes in all).
pub const INLINE_MAX: usize = 22;

/// An immutable byte string that keeps short contents inline: up to [`INLINE_MAX`] bytes in
/// the value itself, longer ones in one exact-size heap block. 24 bytes; derefs to `[u8]`.
/// Used for `embstr` values and for [`crate::dict::Dict`] keys.
#[derive(Clone)]
pub enum SmallBytes {
    Inline { len: u8, buf: [u8; INLINE_MAX] },
    Heap(Box<[u8]>),
}

impl SmallBytes {
    pub fn new(b: &[u8]) -> Self {
        match Self::inline(b) {
            Some(s) => s,
            None => SmallBytes::Heap(b.into()),
        }
    }

    fn inline(b: &[u8]) -> Option<Self> {
        let mut buf = [0u8; INLINE_MAX];
        buf.get_mut(..b.len())?.copy_from_slice(b);
        Some(SmallBytes::Inline {
            len: u8::try_from(b.len()).ok()?,
            buf,
        })
    }

    /// Whether the bytes live inline (no heap block).
    pub fn is_inline(&self) -> bool {
        matches!(self, SmallBytes::Inline { .. })
    }

    /// The bytes as a boxed slice (allocates when inline).
    pub fn into_boxed(self) -> Box<[u8]> {
        match self {
            SmallBytes::Heap(b) => b,
            inline => Box::from(&*inline),
        }
    }
}

impl std::ops::Deref for SmallBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            SmallBytes::Inline { len, buf } => buf.get(..*len as usize).unwrap_or(buf),
            SmallBytes::Heap(b) => b,
        }
    }
}

impl AsRef<[u8]> for SmallBytes {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl From<&[u8]> for SmallBytes {
    fn from(b: &[u8]) -> Self {
        SmallBytes::new(b)
    }
}

impl From<Box<[u8]>> for SmallBytes {
    fn from(b: Box<[u8]>) -> Self {
        Self::inline(&b).unwrap_or(SmallBytes::Heap(b))
    }
}

impl From<Vec<u8>> for SmallBytes {
    fn from(v: Vec<u8>) -> Self {
        Self::inline(&v).unwrap_or_else(|| SmallBytes::Heap(v.into_boxed_slice()))
    }
}

impl PartialEq for SmallBytes {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for SmallBytes {}

impl std::fmt::Debug for SmallBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Str {
    Int(i64),
    /// Short and never modified in place.
    Emb(SmallBytes),
    /// Modified in place: a growable buffer, boxed so that the enum stays 24 bytes (a `Vec`
    /// is 24 on its own).
    Raw(Box<Vec<u8>>),
    /// Longer than [`EMBSTR_MAX`] and written whole: one exact-size block (no `Vec` header
    /// block). Redis calls it `raw` too; the first in-place edit turns it into [`Str::Raw`].
    Long(Box<[u8]>),
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
            Str::Emb(SmallBytes::new(b))
        } else {
            Str::Long(b.into())
        }
    }

    pub fn from_vec(v: Vec<u8>) -> Str {
        if v.len() <= 20 {
            if let Some(n) = parse_i64_strict(&v) {
                return Str::Int(n);
            }
        }
        if v.len() <= EMBSTR_MAX {
            Str::Emb(v.into())
        } else {
            Str::Long(v.into_boxed_slice())
        }
    }

    /// A string computed by a command rather than written whole (INCRBYFLOAT's result):
    /// `embstr` or `raw` by length, never `int` — Redis's `createStringObject`, which skips
    /// `tryObjectEncoding`.
    pub fn from_computed(v: Vec<u8>) -> Str {
        if v.len() <= EMBSTR_MAX {
            Str::Emb(v.into())
        } else {
            Str::Long(v.into_boxed_slice())
        }
    }

    pub fn as_bytes(&self) -> Cow<'_, [u8]> {
        match self {
            Str::Int(n) => Cow::Owned(n.to_string().into_bytes()),
            Str::Emb(b) => Cow::Borrowed(&**b),
            Str::Raw(v) => Cow::Borrowed(v.as_slice()),
            Str::Long(b) => Cow::Borrowed(&**b),
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
            Str::Long(b) => b.len(),
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
            Str::Raw(_) | Str::Long(_) => None,
        }
    }

    /// A mutable byte buffer for in-place edits (APPEND, SETRANGE); the value becomes `raw`.
    pub fn make_raw(&mut self) -> &mut Vec<u8> {
        if !matches!(self, Str::Raw(_)) {
            let v = match std::mem::replace(self, Str::Int(0)) {
                Str::Long(b) => b.into_vec(),
                other => other.to_vec(),
            };
            *self = Str::Raw(Box::new(v));
        }
        match self {
            Str::Raw(v) => v.as_mut(),
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
            Str::Raw(_) | Str::Long(_) => "raw",
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
        let mut long = Str::from_bytes(&[b'x'; 45]);
        assert!(matches!(long, Str::Long(_)));
        assert_eq!(long.append(b"y"), 46);
        assert!(matches!(long, Str::Raw(_)));
        assert_eq!(long.encoding_name(), "raw");
        assert_eq!(Str::Int(-120).len(), 4);
        assert_eq!(Str::Int(i64::MIN).len(), 20);
        let mut s = Str::from_bytes(b"5");
        s.make_raw().push(b'1');
        assert_eq!(s.as_bytes().as_ref(), b"51");
        assert_eq!(s.encoding_name(), "raw");
    }
}
