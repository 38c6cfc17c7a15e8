//! [`OpError`]: the one closed set of failures a handler can report, mapped to Redis's error
//! texts in one place.

use fastkv_resp::Frame;
use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpError {
    /// `WRONGTYPE Operation against a key holding the wrong kind of value`
    WrongType,
    /// `ERR value is not an integer or out of range`
    NotInteger,
    /// `ERR value is not a valid float`
    NotFloat,
    /// `ERR syntax error`
    Syntax,
    /// `ERR no such key`
    NoSuchKey,
    /// `ERR increment or decrement would overflow`
    Overflow,
    /// `ERR index out of range`
    OutOfRange,
    /// `ERR DB index is out of range`
    DbIndex,
    /// `ERR wrong number of arguments for '<name>' command`
    Arity(String),
    /// Any other `ERR <text>`.
    Err(Cow<'static, str>),
    /// A complete error line with its own code (`BUSYKEY ...`, `NOPROTO ...`, `OOM ...`).
    Raw(Cow<'static, str>),
}

impl OpError {
    /// `ERR <text>` from a static string.
    pub const fn err(text: &'static str) -> OpError {
        OpError::Err(Cow::Borrowed(text))
    }

    /// `ERR <text>` from a formatted string.
    pub fn msg(text: impl Into<String>) -> OpError {
        OpError::Err(Cow::Owned(text.into()))
    }

    /// A full error line including its code.
    pub fn raw(line: impl Into<Cow<'static, str>>) -> OpError {
        OpError::Raw(line.into())
    }

    /// The error line as sent after `-`.
    pub fn text(&self) -> Cow<'static, str> {
        match self {
            OpError::WrongType => {
                "WRONGTYPE Operation against a key holding the wrong kind of value".into()
            }
            OpError::NotInteger => "ERR value is not an integer or out of range".into(),
            OpError::NotFloat => "ERR value is not a valid float".into(),
            OpError::Syntax => "ERR syntax error".into(),
            OpError::NoSuchKey => "ERR no such key".into(),
            OpError::Overflow => "ERR increment or decrement would overflow".into(),
            OpError::OutOfRange => "ERR index out of range".into(),
            OpError::DbIndex => "ERR DB index is out of range".into(),
            OpError::Arity(name) => {
                format!("ERR wrong number of arguments for '{name}' command").into()
            }
            OpError::Err(t) => format!("ERR {t}").into(),
            OpError::Raw(t) => t.clone(),
        }
    }
}

impl From<OpError> for Frame {
    fn from(e: OpError) -> Frame {
        Frame::Error(e.text())
    }
}

impl std::fmt::Display for OpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text())
    }
}

impl std::error::Error for OpError {}
