//! Value types, one file each, layered like Redis's `t_*.c`: the structure, its encodings and
//! their conversions, then the type API the commands use.

pub mod string;

pub use string::Str;

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

    pub fn as_str(&self) -> Option<&Str> {
        match self {
            Value::Str(s) => Some(s),
        }
    }
}
