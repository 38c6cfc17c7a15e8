//! `fastkv._fastkv`: the native module behind the `fastkv` Python package. A thin layer over
//! the engine: no command logic lives here.
//!
//! Layout:
//! - [`store`]: `Store` (in-process engine, redis-py-style methods, `execute_command`, the
//!   mapping face) and its `ScanIterator`.
//! - [`collections`]: `Store`'s hash, set, sorted-set, list and SORT methods (a second
//!   `#[pymethods]` block) and their `CollectionScanIterator`.
//! - [`args`]: Python arguments -> command arguments, encoded as redis-py encodes them.
//! - [`reply`]: reply frames -> Python objects, and redis-py's response conventions.
//! - [`server`]: `Store.serve()`'s `ServerHandle` and `server_main` (the `fastkv-server`
//!   console script).
//! - [`errors`]: the Python exception classes raised (defined in `fastkv/__init__.py`).
//!
//! Panics unwind (the workspace never sets `panic = "abort"`): a bug in the engine surfaces
//! as `pyo3_runtime.PanicException`, and the interpreter lives on.

mod args;
mod collections;
mod errors;
mod reply;
mod server;
mod store;

use pyo3::prelude::*;

#[pymodule]
fn _fastkv(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<store::PyStore>()?;
    m.add_class::<store::ScanIterator>()?;
    m.add_class::<collections::CollectionScanIterator>()?;
    m.add_class::<server::PyServerHandle>()?;
    m.add_function(wrap_pyfunction!(server::server_main, m)?)?;
    Ok(())
}
