//! Value bodies: one writer and one reader per value type, chosen by the RDB type byte.
//!
//! The DUMP payload and an RDB file's key entries share this layer: a type byte, then the body.
//! Adding a type means one `RDB_TYPE_*` arm in [`value_type`], [`write_body`] and
//! [`read_body`], each calling that type's pair of functions (`write_<type>` / `read_<type>`).

use super::encoding::{write_int_string, write_string, RdbString, Reader};
use super::{RdbError, TYPE_STRING};
use crate::types::{Str, Value};
use std::io::Read;

/// The RDB type byte fastkv writes for `value`.
pub fn value_type(value: &Value) -> u8 {
    match value {
        Value::Str(_) => TYPE_STRING,
    }
}

/// Appends the body of `value` (without its type byte).
pub fn write_body(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Str(s) => write_str(out, s),
    }
}

/// Reads the body of a value of RDB type `ty`.
pub fn read_body<R: Read>(r: &mut Reader<R>, ty: u8) -> Result<Value, RdbError> {
    match ty {
        TYPE_STRING => read_str(r).map(Value::Str),
        other => Err(RdbError::UnknownType(other)),
    }
}

// --- strings --------------------------------------------------------------------------------

fn write_str(out: &mut Vec<u8>, s: &Str) {
    match s {
        Str::Int(n) => write_int_string(out, *n),
        Str::Emb(b) => write_string(out, b),
        Str::Raw(v) => write_string(out, v),
    }
}

fn read_str<R: Read>(r: &mut Reader<R>) -> Result<Str, RdbError> {
    Ok(match r.read_string()? {
        RdbString::Int(n) => Str::Int(n),
        // The encoding Redis's `tryObjectEncoding` would pick after loading.
        RdbString::Bytes(b) => Str::from_vec(b),
    })
}
