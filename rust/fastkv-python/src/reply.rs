//! Reply [`Frame`]s -> Python objects, without RESP text in between.
//!
//! [`to_py`] is `execute_command`'s conversion (RESP3 types as Python types: simple string ->
//! `str`, bulk -> `bytes` or `str` under `decode_responses`, map -> `dict`, set -> `set`, ...).
//! The helpers below it give the native methods redis-py's return conventions (what redis-py
//! returns after its RESP3 response callbacks: `bool_ok`, `bool`, `float`, `parse_info`, ...).
//!
//! An error reply at the top raises `fastkv.ResponseError`; one nested in an array becomes an
//! exception instance in the list, as redis-py returns them from EXEC.

use crate::errors;
use fastkv_core::Frame;
use pyo3::exceptions::{PyTypeError, PyUnicodeDecodeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PySet, PyString, PyTuple};

/// Converts one reply; raises on an error reply.
pub(crate) fn to_py(py: Python<'_>, frame: Frame, decode: bool) -> PyResult<Py<PyAny>> {
    match frame {
        Frame::Error(e) => Err(errors::response_error(py, &e)),
        other => value(py, other, decode),
    }
}

/// Converts one value; an error becomes an exception instance (for nested replies).
fn value(py: Python<'_>, frame: Frame, decode: bool) -> PyResult<Py<PyAny>> {
    Ok(match frame {
        Frame::Simple(s) => PyString::new(py, &s).into_any().unbind(),
        Frame::Error(e) => errors::response_error_value(py, &e)?,
        Frame::Integer(n) => n.into_pyobject(py)?.into_any().unbind(),
        Frame::Bulk(b) => bytes_or_str(py, &b, decode)?,
        Frame::Verbatim { text, .. } => bytes_or_str(py, &text, decode)?,
        Frame::Null | Frame::NullArray => py.None(),
        Frame::Array(items) | Frame::Push(items) => list(py, items, decode)?.into_any().unbind(),
        Frame::Bulks(items) => {
            let out = PyList::empty(py);
            for b in items.iter() {
                out.append(bytes_or_str(py, b, decode)?)?;
            }
            out.into_any().unbind()
        }
        Frame::Set(items) => {
            let items = items
                .into_iter()
                .map(|f| value(py, f, decode))
                .collect::<PyResult<Vec<_>>>()?;
            match PySet::new(py, &items) {
                Ok(set) => set.into_any().unbind(),
                // An unhashable member (a nested array): keep every element, in a list.
                Err(e) if e.is_instance_of::<PyTypeError>(py) => {
                    PyList::new(py, items)?.into_any().unbind()
                }
                Err(e) => return Err(e),
            }
        }
        Frame::Map(pairs) => map(py, pairs, decode)?,
        Frame::Double(d) => PyFloat::new(py, d).into_any().unbind(),
        Frame::Boolean(b) => PyBool::new(py, b).to_owned().into_any().unbind(),
        Frame::BigNumber(s) => py.get_type::<PyInt>().call1((s,))?.unbind(),
    })
}

fn list(py: Python<'_>, items: Vec<Frame>, decode: bool) -> PyResult<Bound<'_, PyList>> {
    let out = PyList::empty(py);
    for f in items {
        out.append(value(py, f, decode)?)?;
    }
    Ok(out)
}

fn map(py: Python<'_>, pairs: Vec<(Frame, Frame)>, decode: bool) -> PyResult<Py<PyAny>> {
    let dict = PyDict::new(py);
    let mut converted = Vec::with_capacity(pairs.len());
    for (k, v) in pairs {
        converted.push((value(py, k, decode)?, value(py, v, decode)?));
    }
    let mut unhashable = false;
    for (k, v) in &converted {
        match dict.set_item(k, v) {
            Ok(()) => {}
            Err(e) if e.is_instance_of::<PyTypeError>(py) => {
                unhashable = true;
                break;
            }
            Err(e) => return Err(e),
        }
    }
    if !unhashable {
        return Ok(dict.into_any().unbind());
    }
    // An unhashable key: a list of (key, value) pairs instead.
    let out = PyList::empty(py);
    for (k, v) in converted {
        out.append(PyTuple::new(py, [k, v])?)?;
    }
    Ok(out.into_any().unbind())
}

/// Bulk bytes as `bytes`, or as `str` (strict UTF-8, like redis-py) under `decode_responses`.
pub(crate) fn bytes_or_str(py: Python<'_>, b: &[u8], decode: bool) -> PyResult<Py<PyAny>> {
    if decode {
        let s = std::str::from_utf8(b)
            .map_err(|e| PyUnicodeDecodeError::new_err_from_utf8(py, b, e))?;
        Ok(PyString::new(py, s).into_any().unbind())
    } else {
        Ok(PyBytes::new(py, b).into_any().unbind())
    }
}

/// Raises an error reply, passes anything else through.
pub(crate) fn check(py: Python<'_>, frame: Frame) -> PyResult<Frame> {
    match frame {
        Frame::Error(e) => Err(errors::response_error(py, &e)),
        other => Ok(other),
    }
}

/// redis-py's `bool_ok`: `response == "OK"`.
pub(crate) fn bool_ok(py: Python<'_>, frame: Frame) -> PyResult<bool> {
    Ok(match check(py, frame)? {
        Frame::Simple(s) => s == "OK",
        Frame::Bulk(b) => b == b"OK",
        _ => false,
    })
}

/// redis-py's `bool(response)` on an integer reply.
pub(crate) fn int_bool(py: Python<'_>, frame: Frame) -> PyResult<bool> {
    Ok(match check(py, frame)? {
        Frame::Integer(n) => n != 0,
        Frame::Boolean(b) => b,
        Frame::Null | Frame::NullArray => false,
        Frame::Bulk(b) => !b.is_empty(),
        Frame::Simple(s) => !s.is_empty(),
        Frame::Array(v) | Frame::Set(v) | Frame::Push(v) => !v.is_empty(),
        Frame::Map(v) => !v.is_empty(),
        Frame::Bulks(v) => !v.is_empty(),
        Frame::Double(d) => d != 0.0,
        _ => true,
    })
}

/// An integer reply as `int`.
pub(crate) fn int(py: Python<'_>, frame: Frame) -> PyResult<Py<PyAny>> {
    match check(py, frame)? {
        Frame::Integer(n) => Ok(n.into_pyobject(py)?.into_any().unbind()),
        other => value(py, other, false),
    }
}

/// redis-py's `float(response)` (INCRBYFLOAT): a bulk number or a RESP3 double.
pub(crate) fn float(py: Python<'_>, frame: Frame) -> PyResult<Py<PyAny>> {
    match check(py, frame)? {
        Frame::Double(d) => Ok(PyFloat::new(py, d).into_any().unbind()),
        Frame::Bulk(b) => {
            let text = std::str::from_utf8(&b)
                .map_err(|e| PyUnicodeDecodeError::new_err_from_utf8(py, &b, e))?;
            Ok(py.get_type::<PyFloat>().call1((text,))?.unbind())
        }
        Frame::Integer(n) => Ok(PyFloat::new(py, n as f64).into_any().unbind()),
        Frame::Null | Frame::NullArray => Ok(py.None()),
        other => value(py, other, false),
    }
}

/// A status reply as redis-py gives it without a callback (TYPE): `bytes`, or `str` when
/// decoding.
pub(crate) fn status(py: Python<'_>, frame: Frame, decode: bool) -> PyResult<Py<PyAny>> {
    match check(py, frame)? {
        Frame::Simple(s) => bytes_or_str(py, s.as_bytes(), decode),
        other => value(py, other, decode),
    }
}

/// redis-py's `parse_scan`: `(int(cursor), keys)`.
pub(crate) fn scan(py: Python<'_>, frame: Frame, decode: bool) -> PyResult<(u64, Py<PyAny>)> {
    match check(py, frame)? {
        Frame::Array(mut parts) if parts.len() == 2 => {
            let keys = parts.pop().unwrap_or(Frame::NullArray);
            let cursor = parts.pop().unwrap_or(Frame::Null);
            let cursor = match cursor {
                Frame::Bulk(b) => std::str::from_utf8(&b)
                    .ok()
                    .and_then(|s| s.parse::<u64>().ok()),
                Frame::Simple(s) => s.parse::<u64>().ok(),
                Frame::Integer(n) => u64::try_from(n).ok(),
                _ => None,
            }
            .ok_or_else(|| PyValueError::new_err("SCAN reply with an invalid cursor"))?;
            Ok((cursor, value(py, keys, decode)?))
        }
        _ => Err(PyValueError::new_err("unexpected SCAN reply")),
    }
}

/// redis-py's TIME callback: `(int(seconds), int(microseconds))`.
pub(crate) fn time(py: Python<'_>, frame: Frame) -> PyResult<(i64, i64)> {
    let parse = |f: &Frame| match f {
        Frame::Bulk(b) => std::str::from_utf8(b).ok().and_then(|s| s.parse().ok()),
        Frame::Integer(n) => Some(*n),
        _ => None,
    };
    match check(py, frame)? {
        Frame::Array(parts) => match parts.as_slice() {
            [s, us] => match (parse(s), parse(us)) {
                (Some(s), Some(us)) => Ok((s, us)),
                _ => Err(PyValueError::new_err("unexpected TIME reply")),
            },
            _ => Err(PyValueError::new_err("unexpected TIME reply")),
        },
        _ => Err(PyValueError::new_err("unexpected TIME reply")),
    }
}

/// redis-py's CONFIG GET callback on RESP3: a `dict[str, str]` whatever `decode_responses`.
pub(crate) fn config_get(py: Python<'_>, frame: Frame) -> PyResult<Py<PyAny>> {
    let to_str = |f: Frame| -> PyResult<Py<PyAny>> {
        match f {
            Frame::Bulk(b) => Ok(PyString::new(py, &String::from_utf8_lossy(&b))
                .into_any()
                .unbind()),
            other => value(py, other, true),
        }
    };
    let dict = PyDict::new(py);
    match check(py, frame)? {
        Frame::Map(pairs) => {
            for (k, v) in pairs {
                dict.set_item(to_str(k)?, to_str(v)?)?;
            }
        }
        // A RESP2-shaped flat array, should a future reply use one.
        Frame::Array(items) => {
            let mut it = items.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                dict.set_item(to_str(k)?, to_str(v)?)?;
            }
        }
        _ => {}
    }
    Ok(dict.into_any().unbind())
}

/// redis-py's `parse_info`: INFO's text as a dict. Values that look like numbers become
/// `int`/`float` (through Python's own `int()`/`float()`, so edge cases match); `a=1,b=2`
/// values become dicts, `a,b` values lists; lines without `:` collect under `__raw__`.
pub(crate) fn info(py: Python<'_>, frame: Frame) -> PyResult<Py<PyAny>> {
    let text = match check(py, frame)? {
        Frame::Bulk(b) | Frame::Verbatim { text: b, .. } => {
            String::from_utf8_lossy(&b).into_owned()
        }
        Frame::Simple(s) => s.into_owned(),
        _ => String::new(),
    };
    let dict = PyDict::new(py);
    for line in text.split(['\r', '\n']) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once(':') {
            Some((key, val)) => {
                let (key, val) = if key == "cmdstat_host" {
                    line.rsplit_once(':').unwrap_or((key, val))
                } else {
                    (key, val)
                };
                let parsed = info_value(py, val)?;
                if key == "module" {
                    let modules = match dict.get_item("modules")? {
                        Some(m) => m,
                        None => {
                            let m = PyList::empty(py).into_any();
                            dict.set_item("modules", &m)?;
                            m
                        }
                    };
                    modules.call_method1("append", (parsed,))?;
                } else {
                    dict.set_item(key, parsed)?;
                }
            }
            None => {
                let raw = match dict.get_item("__raw__")? {
                    Some(r) => r,
                    None => {
                        let r = PyList::empty(py).into_any();
                        dict.set_item("__raw__", &r)?;
                        r
                    }
                };
                raw.call_method1("append", (line,))?;
            }
        }
    }
    Ok(dict.into_any().unbind())
}

fn info_value(py: Python<'_>, v: &str) -> PyResult<Py<PyAny>> {
    if !v.contains(',') && !v.contains('=') {
        let ty = if v.contains('.') {
            py.get_type::<PyFloat>().into_any()
        } else {
            py.get_type::<PyInt>().into_any()
        };
        return match ty.call1((v,)) {
            Ok(n) => Ok(n.unbind()),
            Err(e) if e.is_instance_of::<PyValueError>(py) => {
                Ok(PyString::new(py, v).into_any().unbind())
            }
            Err(e) => Err(e),
        };
    }
    if !v.contains('=') {
        let out = PyList::empty(py);
        for part in v.split(',').filter(|p| !p.is_empty()) {
            out.append(info_value(py, part)?)?;
        }
        return Ok(out.into_any().unbind());
    }
    let sub = PyDict::new(py);
    for item in v.split(',').filter(|p| !p.is_empty()) {
        match item.rsplit_once('=') {
            Some((k, val)) => sub.set_item(k, info_value(py, val)?)?,
            None => sub.set_item(item, true)?,
        }
    }
    Ok(sub.into_any().unbind())
}
