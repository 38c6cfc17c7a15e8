//! [`Frame`]: one reply value, in RESP3's vocabulary.
//!
//! Handlers build frames; the encoder writes them as RESP2 or RESP3; the embedded Python API
//! converts them straight into Python objects without ever producing RESP text.

use std::borrow::Cow;

/// A reply (or, for the decoder, any RESP value).
#[derive(Debug, Clone, PartialEq)]
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
