//! Clocks. Deadlines are milliseconds since the Unix epoch, as Redis stores them.
//!
//! The per-key access clock ([`crate::keyspace::Entry::lru`] under LRU policies and
//! `noeviction`) ticks every [`LRU_TICK_MS`] milliseconds on 32 bits, where Redis keeps seconds
//! on 24. Seconds are too coarse for eviction: a cache of a thousand keys under 100,000
//! requests a second turns over in a few tens of milliseconds, so with a seconds clock every
//! key it holds looks equally old and sampled LRU degrades to random choice. What a client sees
//! stays in seconds (OBJECT IDLETIME, DEBUG OBJECT, INFO `lru_clock`), computed as Redis does.
//!
//! Wrap-around: 2^32 ticks of 1 ms is 49.7 days ([`LRU_WRAP_MS`]). Idle times are taken modulo
//! that span, assuming at most one wrap since the access (Redis makes the same assumption for
//! its 194-day clock): a key idle for longer reads as idle for less. Idle times set from
//! outside (RESTORE IDLETIME, an RDB file's idle opcode) are capped just below it.

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

/// Milliseconds per tick of the access clock.
pub const LRU_TICK_MS: u64 = 1;

/// The span of the access clock before it wraps (2^32 ticks).
pub const LRU_WRAP_MS: u64 = (1u64 << 32) * LRU_TICK_MS;

/// The access clock at `now_ms`: ticks since the epoch, modulo 2^32.
#[inline]
pub fn lru_clock_at(now_ms: u64) -> u32 {
    (now_ms / LRU_TICK_MS) as u32
}

/// The access clock now.
pub fn lru_clock() -> u32 {
    lru_clock_at(now_ms())
}

/// Milliseconds since the access stamped `lru`, modulo [`LRU_WRAP_MS`] (a stamp from the
/// future, as a clock stepping back leaves, reads as nearly a whole wrap).
#[inline]
pub fn lru_idle_ms(lru: u32, now_ms: u64) -> u64 {
    u64::from(lru_clock_at(now_ms).wrapping_sub(lru)) * LRU_TICK_MS
}

/// Idle seconds as Redis reports them (OBJECT IDLETIME, DEBUG OBJECT's `lru_seconds_idle`):
/// the difference of the two times in whole seconds, Redis's clock having 1 s resolution.
pub fn lru_idle_secs(lru: u32, now_ms: u64) -> u64 {
    let idle = lru_idle_ms(lru, now_ms);
    now_ms / 1000 - now_ms.saturating_sub(idle) / 1000
}

/// The stamp of an access `idle_s` seconds before `now_ms` (RESTORE IDLETIME, loading an RDB
/// file), capped below one wrap of the clock.
pub fn lru_from_idle_secs(idle_s: u64, now_ms: u64) -> u32 {
    let idle_ms = idle_s.saturating_mul(1000).min(LRU_WRAP_MS - LRU_TICK_MS);
    lru_clock_at(now_ms).wrapping_sub((idle_ms / LRU_TICK_MS) as u32)
}

/// The time of an access stamped `lru`, in seconds since the epoch modulo 2^24: what Redis
/// shows as DEBUG OBJECT's `lru` (and INFO's `lru_clock` for now).
pub fn lru_secs24(lru: u32, now_ms: u64) -> u32 {
    let at_ms = now_ms.saturating_sub(lru_idle_ms(lru, now_ms));
    ((at_ms / 1000) & ((1 << 24) - 1)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_time_has_millisecond_resolution() {
        let t0 = 1_700_000_000_123u64;
        let stamp = lru_clock_at(t0);
        assert_eq!(lru_idle_ms(stamp, t0), 0);
        assert_eq!(lru_idle_ms(stamp, t0 + 1), 1);
        assert_eq!(lru_idle_ms(stamp, t0 + 37), 37);
        assert!(lru_idle_ms(lru_clock_at(t0 + 5), t0 + 40) < lru_idle_ms(stamp, t0 + 40));
    }

    #[test]
    fn idle_time_survives_the_wrap() {
        // An access just before the 32-bit tick counter wraps, read just after it.
        let wrap_at = LRU_WRAP_MS * 395; // some multiple of the span, in 2026-ish epoch ms
        let before = wrap_at - 1_500;
        let stamp = lru_clock_at(before);
        assert!(stamp > u32::MAX - 2_000);
        let now = wrap_at + 2_700;
        assert!(lru_clock_at(now) < 3_000);
        assert_eq!(lru_idle_ms(stamp, now), 4_200);
        assert_eq!(lru_idle_secs(stamp, now), now / 1000 - before / 1000);
        // A whole wrap later the idle time aliases (at most one wrap is assumed).
        assert_eq!(lru_idle_ms(stamp, now + LRU_WRAP_MS), 4_200);
    }

    #[test]
    fn idle_seconds_are_redis_whole_second_differences() {
        // Accessed at x.900 s, read at (x+1).100 s: 1 s idle in Redis (its clock has
        // whole seconds), although only 200 ms passed; 1.9 s later still 1.
        let t = 1_700_000_000_900u64;
        let stamp = lru_clock_at(t);
        assert_eq!(lru_idle_secs(stamp, t), 0);
        assert_eq!(lru_idle_secs(stamp, t + 99), 0);
        assert_eq!(lru_idle_secs(stamp, t + 200), 1);
        assert_eq!(lru_idle_secs(stamp, t + 1_099), 1);
        assert_eq!(lru_idle_secs(stamp, t + 1_100), 2);
    }

    #[test]
    fn idle_seconds_set_from_outside_round_trip() {
        let now = 1_700_000_000_456u64;
        for idle in [0u64, 1, 100, 86_400, 40 * 86_400] {
            let stamp = lru_from_idle_secs(idle, now);
            assert_eq!(lru_idle_ms(stamp, now), idle * 1000, "{idle}");
            assert_eq!(lru_idle_secs(stamp, now), idle, "{idle}");
        }
        // Beyond one wrap: capped just below it, the longest idle time the clock can tell.
        let stamp = lru_from_idle_secs(u64::MAX, now);
        assert_eq!(lru_idle_ms(stamp, now), LRU_WRAP_MS - LRU_TICK_MS);
        assert_eq!(
            lru_secs24(lru_clock_at(now), now),
            ((now / 1000) & 0xFF_FFFF) as u32
        );
    }
}
