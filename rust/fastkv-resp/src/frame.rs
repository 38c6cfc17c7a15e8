//! [`Frame`]: one reply value, in RESP3's vocabulary.
//!
//! Handlers build frames; the encoder writes them as RESP2 or RESP3; the embedded Python API
//! converts them straight into Python objects without ever producing RESP text.

use crate::encode;
use std::borrow::Cow;

/// A reply (or, for the decoder, any RESP value).
///
/// Equality is by value: a [`Frame::Bulks`] equals the [`Frame::Array`] of [`Frame::Bulk`]s
/// it stands for.
#[derive(Debug, Clone)]
pub enum Frame {
    /// `+OK`: a status line. Must not contain CR or LF.
    Simple(Cow<'static, str>),
    /// `-ERR ...`: the whole error line including its code (`ERR`, `WRONGTYPE`, ...).
    Error(Cow<'static, str>),
    /// `:42`
    Integer(i64),
    /// `$3\r\nfoo`: binary-safe bytes.
    Bulk(Vec<u8>),
    /// RESP3 `_`; RESP2 null bulk `$-1`.
    Null,
    /// RESP3 `_`; RESP2 null array `*-1` (BLPOP timeout, EXEC aborted by WATCH...).
    NullArray,
    /// `*N`
    Array(Vec<Frame>),
    /// `*N` of bulk strings, stored flat ([`BulkArray`]): an array of byte strings built
    /// without an allocation per element (LRANGE). Encodes, converts and compares exactly as
    /// the `Array` of `Bulk`s it stands for.
    Bulks(BulkArray),
    /// RESP3 `%N`; RESP2 flat array of 2N elements.
    Map(Vec<(Frame, Frame)>),
    /// RESP3 `~N`; RESP2 array.
    Set(Vec<Frame>),
    /// RESP3 `,1.5`; RESP2 bulk string formatted as Redis 7.0 does (`%.17g`).
    Double(f64),
    /// RESP3 `#t`; RESP2 integer 1/0.
    Boolean(bool),
    /// RESP3 `(123...`; RESP2 bulk string.
    BigNumber(String),
    /// RESP3 `=N\r\ntxt:...`; RESP2 bulk string of the text alone.
    Verbatim { format: [u8; 3], text: Vec<u8> },
    /// RESP3 `>N` out-of-band push; RESP2 array.
    Push(Vec<Frame>),
}

impl Frame {
    pub const OK: Frame = Frame::Simple(Cow::Borrowed("OK"));

    /// A status reply from a static string.
    pub const fn simple(s: &'static str) -> Frame {
        Frame::Simple(Cow::Borrowed(s))
    }

    /// An error reply. The text must start with the error code (`ERR`, `WRONGTYPE`...).
    pub fn error(s: impl Into<Cow<'static, str>>) -> Frame {
        Frame::Error(s.into())
    }

    pub fn bulk(b: impl Into<Vec<u8>>) -> Frame {
        Frame::Bulk(b.into())
    }

    /// A bulk reply or null, from an optional value.
    pub fn opt_bulk(b: Option<impl Into<Vec<u8>>>) -> Frame {
        match b {
            Some(b) => Frame::Bulk(b.into()),
            None => Frame::Null,
        }
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Frame::Error(_))
    }
}

impl PartialEq for Frame {
    fn eq(&self, other: &Frame) -> bool {
        use Frame::*;
        match (self, other) {
            (Simple(a), Simple(b)) | (Error(a), Error(b)) => a == b,
            (Integer(a), Integer(b)) => a == b,
            (Bulk(a), Bulk(b)) => a == b,
            (Null, Null) | (NullArray, NullArray) => true,
            (Array(a), Array(b)) | (Set(a), Set(b)) | (Push(a), Push(b)) => a == b,
            (Bulks(a), Bulks(b)) => a == b,
            (Bulks(a), Array(b)) | (Array(b), Bulks(a)) => a.eq_frames(b),
            (Map(a), Map(b)) => a == b,
            (Double(a), Double(b)) => a == b,
            (Boolean(a), Boolean(b)) => a == b,
            (BigNumber(a), BigNumber(b)) => a == b,
            (
                Verbatim {
                    format: fa,
                    text: ta,
                },
                Verbatim {
                    format: fb,
                    text: tb,
                },
            ) => fa == fb && ta == tb,
            _ => false,
        }
    }
}

/// An array of byte strings kept as their RESP encoding (`$len\r\nbytes\r\n` each, the
/// same in RESP2 and RESP3), so that a reply of many small elements costs two allocations
/// and is written with one copy. Built only through [`BulkArray::push`], so the bytes always
/// hold exactly `len()` well-formed bulk strings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkArray {
    encoded: Vec<u8>,
    len: usize,
}

impl BulkArray {
    pub fn new() -> BulkArray {
        BulkArray::default()
    }

    /// Room for `n` elements of about `each` bytes.
    pub fn with_capacity(n: usize, each: usize) -> BulkArray {
        BulkArray {
            // `$` + up to 3 length digits + two CRLFs per element, for short elements.
            encoded: Vec::with_capacity(n.saturating_mul(each.saturating_add(8))),
            len: 0,
        }
    }

    pub fn push(&mut self, b: &[u8]) {
        encode::bulk(&mut self.encoded, b);
        self.len += 1;
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The elements' RESP encoding, without the array header.
    pub fn encoded(&self) -> &[u8] {
        &self.encoded
    }

    /// The elements, in order.
    pub fn iter(&self) -> BulkIter<'_> {
        BulkIter {
            rest: &self.encoded,
        }
    }

    /// The equivalent `Frame::Array` of `Frame::Bulk`s.
    pub fn to_frames(&self) -> Vec<Frame> {
        self.iter().map(|b| Frame::Bulk(b.to_vec())).collect()
    }

    fn eq_frames(&self, frames: &[Frame]) -> bool {
        self.len == frames.len()
            && self
                .iter()
                .zip(frames)
                .all(|(a, f)| matches!(f, Frame::Bulk(b) if b.as_slice() == a))
    }
}

impl<'a> FromIterator<&'a [u8]> for BulkArray {
    fn from_iter<I: IntoIterator<Item = &'a [u8]>>(iter: I) -> BulkArray {
        let mut a = BulkArray::new();
        for b in iter {
            a.push(b);
        }
        a
    }
}

/// The elements of a [`BulkArray`].
pub struct BulkIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for BulkIter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        // `$<digits>\r\n<bytes>\r\n`, as `push` wrote it; anything else ends the iteration.
        let rest = self.rest.strip_prefix(b"$")?;
        let digits_end = rest.iter().position(|&c| c == b'\r')?;
        let (digits, rest) = rest.split_at(digits_end);
        let mut n = 0usize;
        for &d in digits {
            n = n
                .checked_mul(10)?
                .checked_add(usize::from(d.wrapping_sub(b'0')))?;
        }
        let rest = rest.get(2..)?;
        let item = rest.get(..n)?;
        self.rest = rest.get(n.checked_add(2)?..)?;
        Some(item)
    }
}
