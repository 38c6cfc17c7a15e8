//! `fastkv._fastkv`: the native module. A thin layer: it converts Python arguments to bytes,
//! calls the engine, and converts [`Frame`] replies straight into Python objects.

use fastkv_core::{Client, Config, Engine, Frame};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};
use std::sync::Arc;

pyo3::create_exception!(_fastkv, ResponseError, pyo3::exceptions::PyException);

/// An in-process store.
#[pyclass(name = "Store", module = "fastkv._fastkv")]
struct PyStore {
    engine: Arc<Engine>,
    client: parking_client::Slot,
}

mod parking_client {
    use fastkv_core::Client;
    use std::sync::Mutex;
    /// The store's own caller state (selected db, protocol).
    pub struct Slot(pub Mutex<Client>);
}

fn arg_bytes(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(s) = obj.extract::<String>() {
        return Ok(s.into_bytes());
    }
    if let Ok(i) = obj.extract::<i64>() {
        return Ok(i.to_string().into_bytes());
    }
    if let Ok(f) = obj.extract::<f64>() {
        return Ok(obj
            .repr()
            .map(|r| r.to_string())
            .unwrap_or_else(|_| f.to_string())
            .into_bytes());
    }
    Err(pyo3::exceptions::PyTypeError::new_err(
        "arguments must be str, bytes, int or float",
    ))
}

fn frame_to_py(py: Python<'_>, f: Frame) -> PyResult<Py<PyAny>> {
    Ok(match f {
        Frame::Simple(s) => s.into_owned().into_pyobject(py)?.into_any().unbind(),
        Frame::Error(e) => return Err(ResponseError::new_err(e.into_owned())),
        Frame::Integer(n) => n.into_pyobject(py)?.into_any().unbind(),
        Frame::Bulk(b) => PyBytes::new(py, &b).into_any().unbind(),
        Frame::Null | Frame::NullArray => py.None(),
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
            let list = PyList::empty(py);
            for i in items {
                list.append(frame_to_py(py, i)?)?;
            }
            list.into_any().unbind()
        }
        Frame::Map(pairs) => {
            let d = PyDict::new(py);
            for (k, v) in pairs {
                d.set_item(frame_to_py(py, k)?, frame_to_py(py, v)?)?;
            }
            d.into_any().unbind()
        }
        Frame::Double(d) => d.into_pyobject(py)?.into_any().unbind(),
        Frame::Boolean(b) => pyo3::types::PyBool::new(py, b)
            .to_owned()
            .into_any()
            .unbind(),
        Frame::BigNumber(s) => s.into_pyobject(py)?.into_any().unbind(),
        Frame::Verbatim { text, .. } => PyBytes::new(py, &text).into_any().unbind(),
    })
}

#[pymethods]
impl PyStore {
    #[new]
    fn new() -> Self {
        let engine = Engine::new(Config::default());
        let client = engine.new_client();
        PyStore {
            engine,
            client: parking_client::Slot(std::sync::Mutex::new(client)),
        }
    }

    /// Runs any command; returns the reply as Python objects.
    #[pyo3(signature = (*args))]
    fn execute_command(&self, py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<Py<PyAny>> {
        let owned: Vec<Vec<u8>> = args
            .iter()
            .map(|a| arg_bytes(&a))
            .collect::<PyResult<_>>()?;
        let refs: Vec<&[u8]> = owned.iter().map(|a| a.as_slice()).collect();
        let reply = {
            let mut c: std::sync::MutexGuard<'_, Client> = self
                .client
                .0
                .lock()
                .map_err(|_| PyRuntimeError::new_err("store lock poisoned"))?;
            self.engine.execute(&mut c, &refs)
        };
        frame_to_py(py, reply)
    }
}

#[pymodule]
fn _fastkv(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyStore>()?;
    m.add("ResponseError", m.py().get_type::<ResponseError>())?;
    Ok(())
}
