//! Python exception classes the native code raises.
//!
//! The classes themselves are defined in `fastkv/__init__.py`, because their bases depend on
//! whether redis-py is importable: `fastkv.ResponseError` subclasses
//! `redis.exceptions.ResponseError` when it is (so `except redis.exceptions.ResponseError`
//! catches fastkv's errors) and `Exception` otherwise; `fastkv.DataError` likewise subclasses
//! `redis.exceptions.DataError` and `TypeError`. The native side looks them up by name once
//! and caches them; importing `fastkv._fastkv` always imports the `fastkv` package first, so
//! they exist by the time any command runs.

use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

static RESPONSE_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static DATA_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

fn class<'py>(
    py: Python<'py>,
    cell: &'static PyOnceLock<Py<PyType>>,
    name: &'static str,
) -> Option<Bound<'py, PyType>> {
    cell.import(py, "fastkv", name).ok().cloned()
}

/// `fastkv.ResponseError(message)`: an error reply. `message` is the whole error line
/// without its `-` (`ERR wrong number of arguments for 'get' command`, `WRONGTYPE ...`).
pub(crate) fn response_error(py: Python<'_>, message: &str) -> PyErr {
    match class(py, &RESPONSE_ERROR, "ResponseError") {
        Some(ty) => PyErr::from_type(ty, message.to_string()),
        None => PyRuntimeError::new_err(message.to_string()),
    }
}

/// An error reply nested in an array (EXEC, pipelines) becomes an exception *instance* in
/// the returned list, as redis-py does, rather than being raised.
pub(crate) fn response_error_value(py: Python<'_>, message: &str) -> PyResult<Py<PyAny>> {
    Ok(response_error(py, message).into_value(py).into_any())
}

/// `fastkv.DataError(message)`: an argument redis-py would refuse to encode.
pub(crate) fn data_error(py: Python<'_>, message: String) -> PyErr {
    match class(py, &DATA_ERROR, "DataError") {
        Some(ty) => PyErr::from_type(ty, message),
        None => PyTypeError::new_err(message),
    }
}
