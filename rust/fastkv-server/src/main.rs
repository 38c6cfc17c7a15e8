//! `fastkv-server [config-file] [--directive value ...]`

/// Every allocation is counted: `used_memory` (INFO memory) and the `maxmemory` limit are
/// measured, not estimated (see `fastkv_core::memory`).
#[global_allocator]
static ALLOC: fastkv_core::memory::CountingAlloc = fastkv_core::memory::CountingAlloc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(fastkv_server::main_with_args(&args));
}
