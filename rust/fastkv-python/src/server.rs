//! Serving from Python: `Store.serve()`'s [`PyServerHandle`] and the `fastkv-server` entry
//! point [`server_main`], both thin wrappers over `fastkv_server` that release the GIL while
//! they wait.

use pyo3::prelude::*;
use std::sync::{Mutex, PoisonError};

/// A running server started by `Store.serve()`.
#[pyclass(name = "ServerHandle", module = "fastkv._fastkv", frozen)]
pub(crate) struct PyServerHandle {
    host: String,
    port: u16,
    /// `None` once closed. Held only to take the handle out, never while waiting.
    inner: Mutex<Option<fastkv_server::ServerHandle>>,
}

impl PyServerHandle {
    pub(crate) fn new(host: String, handle: fastkv_server::ServerHandle) -> Self {
        PyServerHandle {
            host,
            port: handle.addr.port(),
            inner: Mutex::new(Some(handle)),
        }
    }
}

#[pymethods]
impl PyServerHandle {
    /// The host the server was asked to bind.
    #[getter]
    fn host(&self) -> &str {
        &self.host
    }

    /// The port it listens on (the one picked when `port=0` was asked).
    #[getter]
    fn port(&self) -> u16 {
        self.port
    }

    /// Whether `close()` has been called.
    #[getter]
    fn closed(&self) -> bool {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none()
    }

    /// Stops accepting, closes the connections and waits for the server threads (with the
    /// GIL released). Idempotent.
    fn close(&self, py: Python<'_>) {
        let handle = self
            .inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(mut h) = handle {
            py.detach(move || h.close());
        }
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close(py);
        false
    }

    fn __repr__(&self) -> String {
        let state = if self.closed() { " closed" } else { "" };
        format!("<fastkv.ServerHandle {}:{}{state}>", self.host, self.port)
    }
}

/// Runs the `fastkv-server` command line (`argv` without the program name) with the GIL
/// released; returns its exit code. The server installs its own SIGINT/SIGTERM handling.
#[pyfunction]
pub(crate) fn server_main(py: Python<'_>, argv: Vec<String>) -> i32 {
    py.detach(move || fastkv_server::main_with_args(&argv))
}
