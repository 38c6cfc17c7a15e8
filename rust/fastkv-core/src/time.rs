//! Clocks. Deadlines are milliseconds since the Unix epoch, as Redis stores them.

#[cfg(not(unix))]
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    now_us() / 1000
}

/// Microseconds since the epoch. Read for every command (its clock and its commandstats
/// duration): on Unix straight from `clock_gettime`, which costs a fraction of
/// `SystemTime::now().duration_since(UNIX_EPOCH)` (its `Timespec` checks and 128-bit
/// conversions were a visible share of an embedded GET in callgrind).
#[cfg(unix)]
pub fn now_us() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable `timespec` for the call's duration, and
    // CLOCK_REALTIME is always supported; on the impossible failure `ts` stays zero.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    if rc != 0 {
        return 0;
    }
    // Before 1970 (a broken clock) reads as the epoch, as `duration_since` made it.
    let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
    let micros = u64::try_from(ts.tv_nsec).unwrap_or(0) / 1000;
    secs.saturating_mul(1_000_000).saturating_add(micros)
}

/// Microseconds since the epoch.
#[cfg(not(unix))]
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// Seconds since the epoch, truncated to 32 bits: the per-key access clock (OBJECT IDLETIME,
/// LRU). Wraps after 136 years.
pub fn lru_clock() -> u32 {
    (now_ms() / 1000) as u32
}
