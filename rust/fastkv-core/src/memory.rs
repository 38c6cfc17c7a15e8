//! Memory accounting: [`CountingAlloc`], a global allocator that wraps the system allocator and
//! counts the bytes it holds live, and the figures INFO memory, MEMORY and eviction read.
//!
//! Why count rather than estimate: `maxmemory` is a promise about the process, and every
//! estimate (per-type size formulas, RSS) is either blind to some allocations or lags behind
//! them. Like Redis's `zmalloc`, the counter adds the allocator's *usable* size of each block
//! (`malloc_usable_size` on Linux), so it includes the allocator's rounding, as Redis's
//! `used_memory` does with jemalloc's size classes.
//!
//! Installing it is the binary's choice (`#[global_allocator]` in `fastkv-server`'s `main.rs`
//! and in the Python extension's `lib.rs`; this crate's own unit tests install it too). A
//! program that links the engine without it still gets a sane `used_memory`: the resident set
//! size from `/proc/self/statm` (coarse: it does not fall when memory is freed back to a
//! fragmented heap), see [`used_memory`].
//!
//! The counter is process-wide: several engines in one process (several `fastkv.Store`s) share
//! it, as they share the process's memory.
//!
//! Cost: one relaxed atomic add per allocation and per free, plus a thread-local add (for
//! [`measure`]); the peak is updated when a figure is read, not on every allocation.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Bytes currently allocated through [`CountingAlloc`] (usable sizes).
static USED: AtomicUsize = AtomicUsize::new(0);
/// The highest [`USED`] seen by a reader of the figures.
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// Set by the first allocation through [`CountingAlloc`]: it is the global allocator.
static INSTALLED: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Net bytes this thread allocated through [`CountingAlloc`] (for [`measure`]). A `const`
    /// initialiser and a type without `Drop`: accessing it never allocates (which would recurse
    /// into the allocator) and never registers a destructor.
    static THREAD_NET: Cell<isize> = const { Cell::new(0) };
}

/// The counting global allocator: [`System`] plus a live-byte counter.
pub struct CountingAlloc;

/// The usable size of a block returned by [`System`].
///
/// # Safety
/// `ptr` must be a live, non-null block allocated by [`System`] (not yet freed).
#[cfg(all(target_os = "linux", any(target_env = "gnu", target_env = "musl")))]
#[inline]
unsafe fn usable_size(ptr: *mut u8, _layout: Layout) -> usize {
    // SAFETY: on Linux (glibc and musl) `System` obtains every block from `malloc`,
    // `calloc`, `realloc`, `posix_memalign` or `aligned_alloc`, all of which return heap chunks
    // that `malloc_usable_size` accepts; the caller guarantees the block is live. The function
    // only reads the chunk header.
    unsafe { libc::malloc_usable_size(ptr.cast()) }
}

/// Elsewhere the requested size stands in for the usable size.
///
/// # Safety
/// No requirement; `unsafe` only to match the Linux signature.
#[cfg(not(all(target_os = "linux", any(target_env = "gnu", target_env = "musl"))))]
#[inline]
unsafe fn usable_size(_ptr: *mut u8, layout: Layout) -> usize {
    layout.size()
}

#[inline]
fn add(n: usize) {
    USED.fetch_add(n, Ordering::Relaxed);
    let _ = THREAD_NET.try_with(|c| c.set(c.get().wrapping_add(n as isize)));
}

#[inline]
fn sub(n: usize) {
    USED.fetch_sub(n, Ordering::Relaxed);
    let _ = THREAD_NET.try_with(|c| c.set(c.get().wrapping_sub(n as isize)));
}

// SAFETY: every method forwards to `System` with the caller's own arguments, so `System`'s
// guarantees (and the caller's obligations) carry over unchanged. The bookkeeping around the
// calls only reads the usable size of blocks that are live at that moment (returned just
// before, or about to be freed), touches atomics and a no-drop `const` thread-local, and never
// allocates or panics (`try_with` instead of `with`), so it cannot recurse into the allocator.
unsafe impl GlobalAlloc for CountingAlloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract (non-zero size).
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            // SAFETY: `p` was just returned by `System` and is live.
            add(unsafe { usable_size(p, layout) });
        }
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            // SAFETY: `p` was just returned by `System` and is live.
            add(unsafe { usable_size(p, layout) });
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller guarantees `ptr` is a live block from this allocator (hence from
        // `System`) with this layout; it is measured before it is freed.
        sub(unsafe { usable_size(ptr, layout) });
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` is live (caller's contract) until `System.realloc` succeeds.
        let old = unsafe { usable_size(ptr, layout) };
        // SAFETY: forwarded unchanged.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // On success the old block is gone and `p` is live. On failure nothing changed.
            // SAFETY: `p` was just returned by `System` and is live; the layout argument is
            // only used off Linux, where it must carry the new size.
            let new_layout = Layout::from_size_align(new_size, layout.align()).unwrap_or(layout);
            let new = unsafe { usable_size(p, new_layout) };
            add(new);
            sub(old);
        }
        p
    }
}

/// Notes that the counting allocator is the global one. Called from the binaries' `main` (a
/// first allocation would also prove it, but an allocation may come from `System` directly).
fn counted() -> bool {
    if INSTALLED.load(Ordering::Relaxed) {
        return true;
    }
    // Probe: allocate through the global allocator and see whether the counter moved on this
    // thread. Cheap and done until it succeeds once.
    let before = THREAD_NET.try_with(Cell::get).unwrap_or(0);
    let probe = std::hint::black_box(Box::new(0u64));
    let after = THREAD_NET.try_with(Cell::get).unwrap_or(0);
    drop(probe);
    let yes = after != before;
    if yes {
        INSTALLED.store(true, Ordering::Relaxed);
    }
    yes
}

/// Whether `used_memory` comes from the counting allocator (true) or from the RSS fallback.
pub fn is_counting() -> bool {
    counted()
}

/// `used_memory`: bytes allocated and not freed (usable sizes), or, if the counting allocator
/// is not installed, the resident set size. Also moves the peak.
pub fn used_memory() -> u64 {
    let used = if counted() {
        USED.load(Ordering::Relaxed) as u64
    } else {
        rss().unwrap_or(0)
    };
    if used > PEAK.load(Ordering::Relaxed) as u64 {
        PEAK.fetch_max(used as usize, Ordering::Relaxed);
    }
    used
}

/// `used_memory_peak`: the highest `used_memory` seen so far.
pub fn peak_memory() -> u64 {
    let used = used_memory();
    (PEAK.load(Ordering::Relaxed) as u64).max(used)
}

/// The process's resident set size in bytes (`/proc/self/statm`), on Linux.
pub fn rss() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages.saturating_mul(page_size()))
}

fn page_size() -> u64 {
    // The kernel ABI on every Linux target Rust supports except a few (ppc64 64 KiB pages);
    // `/proc/self/smaps` would tell, but reading it costs far more than the precision is worth.
    4096
}

/// Runs `f` and returns the net bytes it allocated on this thread through the counting
/// allocator (allocations minus frees), or `None` if the counting allocator is not installed.
/// MEMORY USAGE measures a value by cloning it inside `f`.
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, Option<i64>) {
    if !counted() {
        return (f(), None);
    }
    let before = THREAD_NET.try_with(Cell::get).ok();
    let out = f();
    let after = THREAD_NET.try_with(Cell::get).ok();
    let net = before.zip(after).map(|(b, a)| a.wrapping_sub(b) as i64);
    (out, net)
}

/// `mem_allocator`: what Redis prints for a libc-malloc build.
pub const ALLOCATOR_NAME: &str = "libc";

// No `allocator_*` figures: glibc's only source, `mallinfo2`, walks every free chunk of every
// arena under the arena's lock. Measured on a server that had evicted 750,000 of 1,000,000 keys:
// the first INFO memory took 367 ms and later ones 7-10 ms (Redis: 0.1 ms), and every thread
// allocating meanwhile waited; a monitor polling INFO every 10 ms raised the p99 of PING from
// 2 ms to 28 ms. INFO is polled by monitoring, so nothing on its path may cost that.

/// MEMORY PURGE: returns free heap memory to the system where the allocator allows it.
/// Returns whether anything could be attempted.
pub fn purge() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `malloc_trim` has no preconditions; it only walks glibc's own arenas under
        // their locks and returns unused pages to the kernel. It never frees live blocks.
        unsafe { libc::malloc_trim(0) };
        true
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

/// Installs the counting allocator in this crate's own test binary, so that engine unit tests
/// see true figures (eviction tests depend on memory going down when keys are deleted).
#[cfg(test)]
#[global_allocator]
static TEST_ALLOC: CountingAlloc = CountingAlloc;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_allocations_and_frees() {
        assert!(is_counting());
        let (v, net) = measure(|| vec![0u8; 100_000]);
        let net = net.unwrap_or(0);
        assert!((100_000..101_000).contains(&net), "net {net}");
        let (_, net) = measure(|| drop(v));
        assert!(net.unwrap_or(0) <= -100_000);
        // Read in this order: other tests allocate in parallel, so a figure read after the
        // peak may exceed it; reading `used_memory` first also raises the peak to it.
        let used = used_memory();
        assert!(used > 0);
        assert!(peak_memory() >= used);
    }

    #[test]
    fn realloc_is_counted() {
        let (_, net) = measure(|| {
            let mut v: Vec<u8> = Vec::with_capacity(16);
            v.resize(50_000, 1);
            v.shrink_to_fit();
            std::hint::black_box(&v);
        });
        assert_eq!(net, Some(0));
    }
}
