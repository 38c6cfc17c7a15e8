//! Value types, one file each, layered like Redis's `t_*.c`: the structure, its encodings and
//! their conversions, then the type API the commands use.

pub mod ldouble;
pub mod string;

pub use string::Str;

use crate::error::OpError;

/// A stored value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(Str),
}

impl Value {
    /// TYPE's answer.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
        }
    }

    /// OBJECT ENCODING's answer.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding_name(),
        }
    }

    /// The value as a string, or WRONGTYPE. String commands go through this (and
    /// [`Value::as_str_mut`]) so that new types only need a new arm here.
    pub fn as_str(&self) -> Result<&Str, OpError> {
        match self {
            Value::Str(s) => Ok(s),
        }
    }

    pub fn as_str_mut(&mut self) -> Result<&mut Str, OpError> {
        match self {
            Value::Str(s) => Ok(s),
        }
    }
}
