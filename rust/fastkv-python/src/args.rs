//! Python arguments -> command arguments (byte strings), encoded exactly as redis-py's `Encoder`
//! does, so a value written through `fastkv.Store` reads back byte-for-byte as if redis-py had
//! written it:
//!
//! - `bytes`: borrowed, never copied; `memoryview` and `bytearray`: copied once.
//! - `str` (and subclasses): UTF-8. Zero-copy where the stable ABI allows it (Python >= 3.10
//!   builds); the `abi3-py39` build encodes once into a temporary `bytes`.
//! - `int`, `float`: `repr(value)` (`1.5`, `1e+20`); exact `int`s in the `i64` range are
//!   formatted on the stack without touching Python.
//! - `bool` and anything else: `fastkv.DataError` with redis-py's message.
//!
//! [`Argv`] collects a command line without heap allocation for the fixed-shape native methods.

use crate::errors;
use pyo3::prelude::*;
use pyo3::pybacked::{PyBackedBytes, PyBackedStr};
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyFloat, PyInt, PyMemoryView, PyString};
use std::ops::Deref;

/// Room for `i64::MIN` in decimal (20 characters) with a margin.
const INT_BUF: usize = 24;

/// One command argument, owned or borrowed from a Python object the caller keeps alive.
pub(crate) enum Arg<'a> {
    /// Bytes borrowed from a `bytes` object the caller holds a reference to.
    Slice(&'a [u8]),
    /// A command word or option token.
    Static(&'static [u8]),
    /// Bytes kept alive by their Python object (or copied from a `bytearray`).
    Bytes(PyBackedBytes),
    /// UTF-8 text kept alive by its Python object.
    Str(PyBackedStr),
    /// A formatted integer, on the stack.
    Int { buf: [u8; INT_BUF], len: u8 },
    /// Anything that had to be built (float reprs, big ints, memoryview copies).
    Owned(Vec<u8>),
}

impl Deref for Arg<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Arg::Slice(s) => s,
            Arg::Static(s) => s,
            Arg::Bytes(b) => b,
            Arg::Str(s) => s.as_bytes(),
            Arg::Int { buf, len } => buf.get(..usize::from(*len)).unwrap_or(&[]),
            Arg::Owned(v) => v,
        }
    }
}

impl Arg<'static> {
    /// A decimal integer.
    pub(crate) fn int(n: i64) -> Self {
        let mut buf = [0u8; INT_BUF];
        let mut tmp = [0u8; INT_BUF];
        let mut i = 0;
        let neg = n < 0;
        let mut v = n.unsigned_abs();
        loop {
            if let Some(slot) = tmp.get_mut(i) {
                *slot = b'0' + (v % 10) as u8;
            }
            i += 1;
            v /= 10;
            if v == 0 || i >= INT_BUF - 1 {
                break;
            }
        }
        let mut len = 0;
        if neg {
            buf[0] = b'-';
            len = 1;
        }
        for d in tmp.iter().take(i).rev() {
            if let Some(slot) = buf.get_mut(len) {
                *slot = *d;
            }
            len += 1;
        }
        Arg::Int {
            buf,
            len: len as u8,
        }
    }

    /// Converts an object the caller does not keep borrowed (tuple items, dict items).
    pub(crate) fn owned(obj: Bound<'_, PyAny>) -> PyResult<Arg<'static>> {
        match obj.cast_into::<PyBytes>() {
            Ok(b) => Ok(Arg::Bytes(PyBackedBytes::from(b))),
            Err(e) => scalar(&e.into_inner()),
        }
    }
}

impl<'a> Arg<'a> {
    /// Converts `obj`, borrowing its buffer when it is `bytes`.
    pub(crate) fn new(obj: &'a Bound<'_, PyAny>) -> PyResult<Arg<'a>> {
        if let Ok(b) = obj.cast::<PyBytes>() {
            return Ok(Arg::Slice(b.as_bytes()));
        }
        scalar(obj)
    }
}

/// Every accepted type but `bytes`.
fn scalar(obj: &Bound<'_, PyAny>) -> PyResult<Arg<'static>> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Arg::Str(PyBackedStr::try_from(s.clone())?));
    }
    if obj.is_exact_instance_of::<PyInt>() {
        if let Ok(n) = obj.extract::<i64>() {
            return Ok(Arg::int(n));
        }
        return repr_arg(obj);
    }
    if obj.is_instance_of::<PyBool>() {
        return Err(invalid_input(obj));
    }
    if obj.is_instance_of::<PyInt>() || obj.is_instance_of::<PyFloat>() {
        // redis-py sends `repr(value)`, subclasses included.
        return repr_arg(obj);
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(Arg::Owned(b.to_vec()));
    }
    if obj.is_instance_of::<PyMemoryView>() {
        let bytes = obj.call_method0("tobytes")?.cast_into::<PyBytes>()?;
        return Ok(Arg::Bytes(PyBackedBytes::from(bytes)));
    }
    Err(invalid_input(obj))
}

fn repr_arg(obj: &Bound<'_, PyAny>) -> PyResult<Arg<'static>> {
    let r = obj.repr()?;
    Ok(Arg::Owned(r.to_cow()?.as_bytes().to_vec()))
}

/// redis-py's `DataError` text for an argument it cannot encode.
fn invalid_input(obj: &Bound<'_, PyAny>) -> PyErr {
    let name = obj
        .get_type()
        .name()
        .and_then(|n| n.repr())
        .map(|r| r.to_string())
        .unwrap_or_else(|_| "'object'".to_string());
    errors::data_error(
        obj.py(),
        format!("Invalid input of type: {name}. Convert to a bytes, string, int or float first."),
    )
}

/// A command line of at most `N` arguments, on the stack.
pub(crate) struct Argv<'a, const N: usize> {
    items: [&'a [u8]; N],
    len: usize,
}

impl<'a, const N: usize> Argv<'a, N> {
    pub(crate) fn new(name: &'static [u8]) -> Self {
        let mut items: [&'a [u8]; N] = [&[]; N];
        if let Some(first) = items.first_mut() {
            *first = name;
        }
        Argv { items, len: 1 }
    }

    /// Appends one argument. The native methods size `N` for their longest form, so an
    /// overflow is a bug in this crate, reported as a Python exception rather than a panic.
    pub(crate) fn push(&mut self, arg: &'a [u8]) -> PyResult<()> {
        match self.items.get_mut(self.len) {
            Some(slot) => {
                *slot = arg;
                self.len += 1;
                Ok(())
            }
            None => Err(pyo3::exceptions::PySystemError::new_err(
                "fastkv: argument buffer overflow",
            )),
        }
    }

    pub(crate) fn as_slice(&self) -> &[&'a [u8]] {
        self.items.get(..self.len).unwrap_or(&[])
    }
}

/// A relative expiry (`ex`, `px`, `time`): an `int`, a digit string, or a `datetime.timedelta`
/// (whole seconds, or whole milliseconds when `millis`), as redis-py accepts them.
pub(crate) fn relative_time(obj: &Bound<'_, PyAny>, millis: bool) -> PyResult<Arg<'static>> {
    if is_timedelta(obj)? {
        let secs: f64 = obj.call_method0("total_seconds")?.extract()?;
        let v = if millis { secs * 1000.0 } else { secs };
        return Ok(Arg::int(v.trunc() as i64));
    }
    Arg::owned(obj.clone())
}

/// An absolute expiry (`exat`, `pxat`, `when`): an `int` or a `datetime.datetime`
/// (`int(dt.timestamp())`, or `int(dt.timestamp() * 1000)` when `millis`).
pub(crate) fn absolute_time(obj: &Bound<'_, PyAny>, millis: bool) -> PyResult<Arg<'static>> {
    if is_datetime(obj)? {
        let ts: f64 = obj.call_method0("timestamp")?.extract()?;
        let v = if millis { ts * 1000.0 } else { ts };
        return Ok(Arg::int(v.trunc() as i64));
    }
    Arg::owned(obj.clone())
}

/// `ex`/`px` for SET and GETEX: like [`relative_time`] but with redis-py's type check and
/// message (`ex must be datetime.timedelta or int`).
pub(crate) fn set_expiry(obj: &Bound<'_, PyAny>, millis: bool) -> PyResult<Arg<'static>> {
    if is_timedelta(obj)? {
        return relative_time(obj, millis);
    }
    let digit_str = !millis
        && obj
            .cast::<PyString>()
            .ok()
            .and_then(|s| s.to_cow().ok().map(|c| is_digits(&c)))
            .unwrap_or(false);
    if obj.is_instance_of::<PyInt>() || digit_str {
        return Arg::owned(obj.clone());
    }
    let which = if millis { "px" } else { "ex" };
    Err(errors::data_error(
        obj.py(),
        format!("{which} must be datetime.timedelta or int"),
    ))
}

/// Python's `str.isdigit()` for ASCII text (what redis-py checks on a string `ex`).
fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_timedelta(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    obj.is_instance(&datetime_type(obj.py(), "timedelta")?)
}

fn is_datetime(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    obj.is_instance(&datetime_type(obj.py(), "datetime")?)
}

fn datetime_type<'py>(py: Python<'py>, name: &'static str) -> PyResult<Bound<'py, PyAny>> {
    use pyo3::sync::PyOnceLock;
    use pyo3::types::PyType;
    static TIMEDELTA: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    static DATETIME: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    let cell = if name == "timedelta" {
        &TIMEDELTA
    } else {
        &DATETIME
    };
    Ok(cell.import(py, "datetime", name)?.clone().into_any())
}

/// redis-py's `list_or_args(keys, args)`: a single key (str/bytes-like or not iterable)
/// becomes a one-element list; any other iterable is expanded; `args` are appended.
pub(crate) fn list_or_args<'py>(
    keys: &Bound<'py, PyAny>,
    args: &Bound<'py, pyo3::types::PyTuple>,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let single = keys.is_instance_of::<PyBytes>()
        || keys.is_instance_of::<PyString>()
        || keys.is_instance_of::<PyByteArray>()
        || keys.is_instance_of::<PyMemoryView>();
    let mut out = Vec::new();
    if single {
        out.push(keys.clone());
    } else {
        match keys.try_iter() {
            Ok(it) => {
                for k in it {
                    out.push(k?);
                }
            }
            Err(e) if e.is_instance_of::<pyo3::exceptions::PyTypeError>(keys.py()) => {
                out.push(keys.clone())
            }
            Err(e) => return Err(e),
        }
    }
    out.extend(args.iter());
    Ok(out)
}

/// Converts every item (owned conversion: the items are temporaries).
pub(crate) fn owned_all<'py>(
    items: impl IntoIterator<Item = Bound<'py, PyAny>>,
) -> PyResult<Vec<Arg<'static>>> {
    items.into_iter().map(Arg::owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_format_like_python() {
        for n in [0i64, 7, -7, 10, 1234567890, i64::MAX, i64::MIN, -1] {
            assert_eq!(&*Arg::int(n), n.to_string().as_bytes());
        }
    }

    #[test]
    fn digits() {
        assert!(is_digits("10"));
        assert!(!is_digits(""));
        assert!(!is_digits("-1"));
    }
}
