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
//! - [`conn`]: `Connection`, one in-process connection with its own engine client: the
//!   transport under `fastkv.Redis` (redis-py replies, RESP2 or RESP3).
//! - [`pubsub`]: `PubSub` (`Store.pubsub()`), `Store.publish`; the sink API other front ends
//!   use to receive pushes.
//! - [`errors`]: the Python exception classes raised (defined in `fastkv/__init__.py`).
//!
//! Panics unwind (the workspace never sets `panic = "abort"`): a bug in the engine surfaces
//! as `pyo3_runtime.PanicException`, and the interpreter lives on.

mod args;
mod collections;
mod conn;
mod errors;
mod pubsub;
mod reply;
mod server;
mod store;

use pyo3::prelude::*;

/// Every allocation is counted: `used_memory` (INFO memory) and the `maxmemory` limit are
/// measured, not estimated (see `fastkv_core::memory`).
#[global_allocator]
static ALLOC: fastkv_core::memory::CountingAlloc = fastkv_core::memory::CountingAlloc;

#[pymodule]
fn _fastkv(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<store::PyStore>()?;
    m.add_class::<store::ScanIterator>()?;
    m.add_class::<collections::CollectionScanIterator>()?;
    m.add_class::<server::PyServerHandle>()?;
    m.add_class::<conn::PyConnection>()?;
    m.add_class::<pubsub::PyPubSub>()?;
    m.add_function(wrap_pyfunction!(server::server_main, m)?)?;
    Ok(())
}
