//! Clocks. Deadlines are milliseconds since the Unix epoch, as Redis stores them.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Microseconds since the epoch.
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
