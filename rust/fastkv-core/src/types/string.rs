//! Strings: binary-safe bytes, stored as an integer when the bytes are a canonical integer
//! (so INCR stays cheap and `OBJECT ENCODING` says `int`, as Redis does).
//!
//! Encodings, as Redis reports them:
//! - `int`: canonical decimal of an i64 (no leading zeros or '+', at most 20 chars).
//! - `embstr`: at most [`EMBSTR_MAX`] bytes, written whole by SET-like commands.
//! - `raw`: longer strings, and every string modified in place (APPEND, SETRANGE).
//!
//! Layout: a [`Str`] is 16 bytes, and so is a keyspace [`crate::types::Value`]. A string of
//! at most [`STR_INLINE_MAX`] bytes lives inside the enum itself ([`InlineBytes`]: a length
//! byte and the bytes, no heap block); a longer one written whole is one exact-size block, as
//! a `Box<[u8]>` would hold it ([`HeapBytes`]: the pointer and a 56-bit length packed in the
//! 15 bytes after the tag), `embstr` or `raw` by its length; a string edited in place is a
//! boxed `Vec` (one word in the enum, spare capacity for APPEND's growth).
//!
//! How 16 bytes hold it all: the inline length is an enum of 16 values, so the other 240
//! values of that first byte are free (a niche). The compiler tags [`Str`]'s other variants
//! with some of them, their payloads in bytes 1..16 (`HeapBytes`, unaligned) or 8..16 (`Int`,
//! `Raw`), and [`crate::types::Value`] tags its collections with more of them.
//!
//! Memory against a 24-byte `Str` (which kept 22 bytes inline): a 16..=22-byte string now
//! takes a 32-byte heap chunk (24 usable); other lengths cost what they did.

use fastkv_resp::request::parse_i64_strict;
use std::borrow::Cow;

pub use packed::HeapBytes;

/// Redis's `OBJ_ENCODING_EMBSTR_SIZE_LIMIT`: strings up to 44 bytes share one allocation with
/// their object header, so Redis reports them as `embstr`.
pub const EMBSTR_MAX: usize = 44;

/// Longest byte string [`SmallBytes`] (a dict key) keeps inline (with its length byte and the
/// enum's tag, 24 bytes in all).
pub const INLINE_MAX: usize = 22;

/// Longest string value kept inside a [`Str`]: 16 bytes less the length byte.
pub const STR_INLINE_MAX: usize = 15;

/// An immutable byte string that keeps short contents inline: up to [`INLINE_MAX`] bytes in
/// the value itself, longer ones in one exact-size heap block. 24 bytes; derefs to `[u8]`.
/// Used for [`crate::dict::Dict`] keys.
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

/// The length of an [`InlineBytes`]. An enum rather than a `u8` so that the 240 byte values
/// it never takes are a niche: [`Str`]'s other variants and [`crate::types::Value`]'s are
/// told apart by them, which is what keeps both enums at 16 bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum InlineLen {
    L0,
    L1,
    L2,
    L3,
    L4,
    L5,
    L6,
    L7,
    L8,
    L9,
    L10,
    L11,
    L12,
    L13,
    L14,
    L15,
}

/// [`InlineLen`] by value (a table, so that building one needs no `unsafe` transmute).
const INLINE_LENS: [InlineLen; STR_INLINE_MAX + 1] = {
    use InlineLen::*;
    [
        L0, L1, L2, L3, L4, L5, L6, L7, L8, L9, L10, L11, L12, L13, L14, L15,
    ]
};

/// Up to [`STR_INLINE_MAX`] bytes stored in place: a length byte and the bytes, 16 bytes.
#[derive(Clone, Copy)]
pub struct InlineBytes {
    len: InlineLen,
    buf: [u8; STR_INLINE_MAX],
}

impl InlineBytes {
    /// `b` inline, or `None` when it is longer than [`STR_INLINE_MAX`].
    pub fn new(b: &[u8]) -> Option<Self> {
        let len = *INLINE_LENS.get(b.len())?;
        let mut buf = [0u8; STR_INLINE_MAX];
        buf.get_mut(..b.len())?.copy_from_slice(b);
        Some(InlineBytes { len, buf })
    }
}

impl std::ops::Deref for InlineBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // `len` is at most STR_INLINE_MAX by its type: the fallback is never taken.
        self.buf.get(..self.len as usize).unwrap_or(&self.buf)
    }
}

impl PartialEq for InlineBytes {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for InlineBytes {}

impl std::fmt::Debug for InlineBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

/// The one `unsafe` corner of the string type: a `Box<[u8]>` packed into 15 bytes. A
/// `Box<[u8]>` is 16 bytes (pointer and length) and 8-aligned, which leaves no room beside
/// [`Str`]'s tag byte in 16; packed, with a 56-bit length, it fits in the 15 bytes after it.
mod packed {
    use std::mem::ManuallyDrop;
    use std::ptr::NonNull;

    /// Bytes of the length field: 56 bits, more than any allocation can hold.
    const LEN_BYTES: usize = 7;

    /// Immutable bytes in one exact-size heap block, as a `Box<[u8]>` holds them (so it costs
    /// the same block), stored as a 7-byte little-endian length and the block's pointer, with
    /// no alignment (the pointer is read and written whole, by copy, never by reference).
    /// Derefs to the bytes.
    ///
    /// Invariant (what every `unsafe` block below relies on): `ptr` and the length are
    /// those of a `Box<[u8]>` (the block) that was leaked by [`HeapBytes::from_box`] and that
    /// this value owns alone; neither field is written after that.
    #[repr(C, packed)]
    pub struct HeapBytes {
        len: [u8; LEN_BYTES],
        ptr: NonNull<u8>,
    }

    // SAFETY: a `HeapBytes` owns its block exclusively and never mutates it, exactly like the
    // `Box<[u8]>` it was made from, which is `Send`.
    unsafe impl Send for HeapBytes {}
    // SAFETY: as above; `&HeapBytes` only ever reads the block, as `&Box<[u8]>` may (`Sync`).
    unsafe impl Sync for HeapBytes {}

    impl HeapBytes {
        /// Takes the block over; `Err` gives it back when its length does not fit 56 bits
        /// (which no allocation reaches on the 64-bit targets fastkv runs on).
        pub fn from_box(block: Box<[u8]>) -> Result<Self, Box<[u8]>> {
            let Some(len) = u64::try_from(block.len()).ok().filter(|&n| n >> 56 == 0) else {
                return Err(block);
            };
            let [l0, l1, l2, l3, l4, l5, l6, _] = len.to_le_bytes();
            Ok(HeapBytes {
                len: [l0, l1, l2, l3, l4, l5, l6],
                ptr: NonNull::from(Box::leak(block)).cast::<u8>(),
            })
        }

        /// The block back, as the `Box<[u8]>` it was.
        pub fn into_box(self) -> Box<[u8]> {
            let this = ManuallyDrop::new(self);
            // SAFETY: by the invariant this rebuilds the leaked `Box<[u8]>` with its own
            // pointer and length; `this` is never dropped, so the box is rebuilt only once.
            unsafe { Box::from_raw(this.raw()) }
        }

        /// The block's pointer and length as a raw slice.
        #[inline]
        fn raw(&self) -> *mut [u8] {
            let [l0, l1, l2, l3, l4, l5, l6] = self.len;
            // Lossless: the length was a `usize` when stored (see `from_box`).
            let len = u64::from_le_bytes([l0, l1, l2, l3, l4, l5, l6, 0]) as usize;
            let ptr = self.ptr; // a copy: fields of a packed struct are never borrowed
            std::ptr::slice_from_raw_parts_mut(ptr.as_ptr(), len)
        }
    }

    impl std::ops::Deref for HeapBytes {
        type Target = [u8];
        #[inline]
        fn deref(&self) -> &[u8] {
            // SAFETY: by the invariant `raw()` is a live block of initialised bytes that
            // `self` owns and that nothing writes while `self` is borrowed.
            unsafe { &*self.raw() }
        }
    }

    impl Drop for HeapBytes {
        fn drop(&mut self) {
            // SAFETY: by the invariant this rebuilds the leaked `Box<[u8]>` once, here;
            // `self` is not used after.
            drop(unsafe { Box::from_raw(self.raw()) });
        }
    }

    impl Clone for HeapBytes {
        fn clone(&self) -> Self {
            // Same length as `self`, so it fits.
            match Self::from_box(Box::from(&**self)) {
                Ok(copy) => copy,
                Err(_) => unreachable!("a copy has the length of its original"),
            }
        }
    }

    impl PartialEq for HeapBytes {
        fn eq(&self, other: &Self) -> bool {
            **self == **other
        }
    }

    impl Eq for HeapBytes {}

    impl std::fmt::Debug for HeapBytes {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            (**self).fmt(f)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Str {
    Int(i64),
    /// At most [`STR_INLINE_MAX`] bytes, never modified in place: `embstr`.
    Inline(InlineBytes),
    /// Longer, written whole (never modified in place): one exact-size block.
    /// `embstr` up to [`EMBSTR_MAX`] bytes, `raw` past it, as in Redis; the first in-place
    /// edit turns it into [`Str::Raw`].
    Heap(HeapBytes),
    /// Modified in place: a growable buffer, boxed so that the
    /// enum stays 16 bytes (a `Vec` is 24 on its own).
    Raw(Box<Vec<u8>>),
}

impl Str {
    /// The encoding Redis's `tryObjectEncoding` picks for a freshly written value.
    pub fn from_bytes(b: &[u8]) -> Str {
        if b.len() <= 20 {
            if let Some(n) = parse_i64_strict(b) {
                return Str::Int(n);
            }
        }
        Str::from_computed_bytes(b)
    }

    pub fn from_vec(v: Vec<u8>) -> Str {
        if v.len() <= 20 {
            if let Some(n) = parse_i64_strict(&v) {
                return Str::Int(n);
            }
        }
        Str::from_computed(v)
    }

    /// A string computed by a command rather than written whole (INCRBYFLOAT's result):
    /// `embstr` or `raw` by length, never `int` — Redis's `createStringObject`, which skips
    /// `tryObjectEncoding`.
    pub fn from_computed(v: Vec<u8>) -> Str {
        match InlineBytes::new(&v) {
            Some(inline) => Str::Inline(inline),
            None => Str::heap(v.into_boxed_slice()),
        }
    }

    /// `b` as written whole, without the integer check: inline, else one exact-size block.
    fn from_computed_bytes(b: &[u8]) -> Str {
        match InlineBytes::new(b) {
            Some(inline) => Str::Inline(inline),
            None => Str::heap(b.into()),
        }
    }

    fn heap(block: Box<[u8]>) -> Str {
        match HeapBytes::from_box(block) {
            Ok(heap) => Str::Heap(heap),
            Err(block) => Str::Raw(Box::new(block.into_vec())),
        }
    }

    pub fn as_bytes(&self) -> Cow<'_, [u8]> {
        match self {
            Str::Int(n) => Cow::Owned(n.to_string().into_bytes()),
            Str::Inline(b) => Cow::Borrowed(b),
            Str::Heap(b) => Cow::Borrowed(b),
            Str::Raw(v) => Cow::Borrowed(v.as_slice()),
        }
    }

    pub fn to_vec(&self) -> Vec<u8> {
        self.as_bytes().into_owned()
    }

    pub fn len(&self) -> usize {
        match self {
            Str::Int(n) => decimal_len(*n),
            Str::Inline(b) => b.len(),
            Str::Heap(b) => b.len(),
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
            Str::Inline(b) => parse_i64_strict(b),
            Str::Heap(b) if b.len() <= 20 => parse_i64_strict(b),
            Str::Raw(v) if v.len() <= 20 => parse_i64_strict(v),
            Str::Heap(_) | Str::Raw(_) => None,
        }
    }

    /// A mutable byte buffer for in-place edits (APPEND, SETRANGE); the value becomes `raw`.
    pub fn make_raw(&mut self) -> &mut Vec<u8> {
        if !matches!(self, Str::Raw(_)) {
            let v = match std::mem::replace(self, Str::Int(0)) {
                Str::Heap(b) => b.into_box().into_vec(),
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
            Str::Inline(_) => "embstr",
            Str::Heap(b) if b.len() <= EMBSTR_MAX => "embstr",
            Str::Heap(_) | Str::Raw(_) => "raw",
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
        fn from_bytes_round_trips(b in proptest::collection::vec(any::<u8>(), 0..300)) {
            prop_assert_eq!(Str::from_bytes(&b).as_bytes().into_owned(), b.clone());
            prop_assert_eq!(Str::from_vec(b.clone()).as_bytes().into_owned(), b.clone());
            prop_assert_eq!(Str::from_bytes(&b).len(), b.len());
            let copy = Str::from_bytes(&b).clone();
            prop_assert_eq!(copy.as_bytes().into_owned(), b.clone());
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
        assert!(matches!(long, Str::Heap(_)));
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

    /// Which representation each length gets, and what OBJECT ENCODING answers (Redis 7.0:
    /// `embstr` up to 44 bytes, `raw` past it, whatever the representation here).
    #[test]
    fn representation_by_length() {
        for n in [
            0, 1, 14, 15, 16, 20, 22, 23, 44, 45, 100, 127, 128, 300, 16383, 16384,
        ] {
            let b: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
            let s = Str::from_bytes(&b);
            match n {
                0..=STR_INLINE_MAX => assert!(matches!(s, Str::Inline(_)), "{n}"),
                _ => assert!(matches!(s, Str::Heap(_)), "{n}"),
            }
            let want = if n <= EMBSTR_MAX { "embstr" } else { "raw" };
            assert_eq!(s.encoding_name(), want, "{n}");
            assert_eq!(s.len(), n);
            assert_eq!(s.as_bytes().as_ref(), &b[..]);
            assert_eq!(s.clone(), s);
            assert_eq!(Str::from_computed(b.clone()), s);
            assert_eq!(Str::from_vec(b.clone()), s);
            assert_eq!(s.as_int(), None);
            let mut raw = s.clone();
            assert_eq!(raw.append(b"!"), n + 1);
            assert!(matches!(raw, Str::Raw(_)));
            assert_eq!(raw.encoding_name(), "raw");
            assert_eq!(raw.as_bytes().get(..n), Some(&b[..]));
        }
    }

    #[test]
    fn integers_and_their_neighbours() {
        assert_eq!(Str::from_bytes(b"-9223372036854775808"), Str::Int(i64::MIN));
        assert_eq!(Str::from_bytes(b"0"), Str::Int(0));
        // Not canonical, or out of range: bytes, kept as written.
        for text in [&b"9223372036854775808"[..], b"+1", b"01", b"-0", b" 1", b""] {
            let s = Str::from_bytes(text);
            assert!(!matches!(s, Str::Int(_)));
            assert_eq!(s.as_bytes().as_ref(), text);
            assert_eq!(s.encoding_name(), "embstr");
        }
        // A computed integer-looking string is not `int`, but INCR reads it.
        let s = Str::from_computed(b"12345678901234567".to_vec());
        assert!(matches!(s, Str::Heap(_)));
        assert_eq!(s.as_int(), Some(12345678901234567));
        assert_eq!(Str::from_computed(b"42".to_vec()).as_int(), Some(42));
        let mut s = Str::Int(-7);
        assert_eq!(s.set_range(3, b"x"), 4);
        assert_eq!(s.as_bytes().as_ref(), b"-7\0x");
        assert_eq!(s.as_int(), None);
    }

    #[test]
    fn heap_bytes_round_trip() {
        for n in [16, 100, 1 << 16, (1 << 21) + 1] {
            let b: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
            let h = match HeapBytes::from_box(b.clone().into_boxed_slice()) {
                Ok(h) => h,
                Err(_) => panic!("{n} bytes fit"),
            };
            assert_eq!(h.len(), n);
            let c = h.clone();
            drop(h);
            assert_eq!(&*c, &b[..]);
            assert_eq!(c.into_box().into_vec(), b);
        }
    }

    /// A written-whole string costs what a bare `Box<[u8]>` of its bytes would: nothing for
    /// an inline one, else the same block. Needs this crate's counting allocator (the test
    /// binary installs it).
    #[test]
    fn heap_blocks_cost_like_a_boxed_slice() {
        // glibc may hand out a block 16 bytes bigger than asked when the free chunk it splits
        // would leave a sliver (the jitter 39e8567 met): the smallest of a few tries is the cost.
        let cost = |f: &dyn Fn() -> Box<dyn std::any::Any>| {
            (0..4)
                .map(|_| match crate::memory::measure(f).1 {
                    Some(n) => n,
                    None => panic!("the counting allocator is installed in unit tests"),
                })
                .min()
                .unwrap_or(0)
        };
        for n in 0..=1100usize {
            let b = vec![b'x'; n];
            // Each measured inside a Box of its own: a 16-byte Str, a 16-byte fat pointer.
            let ours = cost(&|| Box::new(Str::from_bytes(&b)));
            let boxed = cost(&|| Box::new(b.clone().into_boxed_slice()));
            if n <= STR_INLINE_MAX {
                assert_eq!(ours, cost(&|| Box::new(0u128)), "{n}");
            } else {
                assert_eq!(ours, boxed, "{n}");
            }
        }
    }
}
