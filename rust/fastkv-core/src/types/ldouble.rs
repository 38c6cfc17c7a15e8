//! [`LongDouble`]: C `long double` arithmetic, for INCRBYFLOAT and HINCRBYFLOAT.
//!
//! Redis does these two commands in `long double` — 80-bit x87 extended precision on x86_64 —
//! and prints the result with `%.17Lf`, trailing zeros trimmed. The extra precision changes the
//! digits users see: `SET k 10.5` then `INCRBYFLOAT k 0.1` answers `10.6` in Redis, while f64
//! arithmetic printed the same way gives `10.59999999999999964`. Rust has no `long double`, so
//! the arithmetic lives in a small C file (`csrc/ldouble.c`, compiled by `build.rs`) and Rust
//! carries each value as an opaque 16-byte blob that only the C side interprets.
//!
//! This module is the only caller of that C code. Its API is safe: parsing with Redis's rules
//! ([`LongDouble::parse`], like `string2ld`), addition, a finiteness test, and Redis's
//! human-friendly formatting ([`LongDouble::to_human`], like `ld2string(.., LD_STR_HUMAN)`).

use std::os::raw::{c_char, c_int};

/// Bytes of the blob that carries one `long double`; `csrc/ldouble.c` asserts at compile time
/// that `sizeof(long double)` fits.
const LD_BYTES: usize = 16;

/// Redis's `MAX_LONG_DOUBLE_CHARS`: inputs this long or longer are not floats, and every
/// formatted finite value fits in this many bytes (the largest, about 1.19e4932, prints as
/// 4933 integer digits, a point and 17 decimals).
pub const MAX_LONG_DOUBLE_CHARS: usize = 5 * 1024;

extern "C" {
    fn fastkv_ld_parse(s: *const u8, len: usize, out: *mut u8) -> c_int;
    fn fastkv_ld_add(a: *const u8, b: *const u8, out: *mut u8);
    fn fastkv_ld_is_finite(a: *const u8) -> c_int;
    fn fastkv_ld_format_fixed17(a: *const u8, buf: *mut c_char, cap: usize) -> usize;
    fn fastkv_ld_ceil_millis(a: *const u8) -> i64;
}

/// One C `long double`, held as opaque bytes (only `csrc/ldouble.c` reads them).
#[derive(Clone, Copy)]
pub struct LongDouble {
    blob: [u8; LD_BYTES],
}

impl std::fmt::Debug for LongDouble {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.to_human() {
            Some(text) => write!(f, "LongDouble({})", String::from_utf8_lossy(&text)),
            None => f.write_str("LongDouble(non-finite)"),
        }
    }
}

impl LongDouble {
    /// Parses `s` as Redis's `string2ld` does: `strtold` syntax (decimal, hex, `inf`,
    /// `infinity`, any case, an optional sign), with no leading whitespace, nothing left over
    /// (an embedded NUL counts as left over), shorter than [`MAX_LONG_DOUBLE_CHARS`], no
    /// overflow, no underflow to zero, and not NaN. `None` is Redis's "not a valid float".
    pub fn parse(s: &[u8]) -> Option<LongDouble> {
        if s.is_empty() || s.len() >= MAX_LONG_DOUBLE_CHARS {
            return None;
        }
        let mut out = LongDouble {
            blob: [0; LD_BYTES],
        };
        // SAFETY: `s.as_ptr()` is valid for reads of `s.len()` bytes, and the C function reads
        // exactly that many (it copies them into its own NUL-terminated stack buffer of
        // MAX_LONG_DOUBLE_CHARS bytes after checking `len < MAX_LONG_DOUBLE_CHARS`, so it never
        // needs a terminator from us). `out.blob` is valid for writes of LD_BYTES bytes, which
        // is what the C side writes (it static-asserts sizeof(long double) <= 16). Both
        // pointers are only used during the call and are not retained; no alignment is needed
        // because the C side uses memcpy.
        let ok = unsafe { fastkv_ld_parse(s.as_ptr(), s.len(), out.blob.as_mut_ptr()) };
        (ok == 1).then_some(out)
    }

    /// Neither NaN nor infinite.
    pub fn is_finite(&self) -> bool {
        // SAFETY: reads sizeof(long double) <= LD_BYTES bytes from our own blob via memcpy;
        // the blob came from the C side, so it is a valid long double.
        unsafe { fastkv_ld_is_finite(self.blob.as_ptr()) == 1 }
    }

    /// `(long long) ceill(self * 1000)`: a timeout in seconds as milliseconds, the way Redis's
    /// `getTimeoutFromObjectOrReply` converts it. A result outside `i64` (or NaN) is
    /// `i64::MIN`, which is what Redis gets from its x87 conversion on x86_64.
    pub fn ceil_millis(&self) -> i64 {
        // SAFETY: reads sizeof(long double) <= LD_BYTES bytes from our own blob via memcpy;
        // the blob came from the C side, so it is a valid long double. No pointer is retained.
        unsafe { fastkv_ld_ceil_millis(self.blob.as_ptr()) }
    }

    /// The value as Redis's `ld2string(.., LD_STR_HUMAN)` prints it: `%.17Lf`, then trailing
    /// zeros and a trailing point removed, and `-0` printed as `0`. `None` for NaN or infinity
    /// (callers reject those first, as Redis does).
    pub fn to_human(&self) -> Option<Vec<u8>> {
        if !self.is_finite() {
            return None;
        }
        let mut buf = vec![0u8; MAX_LONG_DOUBLE_CHARS];
        // SAFETY: `buf` is valid for writes of `buf.len()` bytes and we pass that length as
        // the capacity, so snprintf writes at most `buf.len()` bytes including its NUL. The
        // return value is the length the text needs; we only read `buf[..n]` after checking
        // `n < buf.len()`, i.e. when the whole text (and its NUL) fit.
        let n = unsafe {
            fastkv_ld_format_fixed17(self.blob.as_ptr(), buf.as_mut_ptr().cast(), buf.len())
        };
        if n >= buf.len() {
            return None;
        }
        buf.truncate(n);
        if buf.contains(&b'.') {
            while buf.last() == Some(&b'0') {
                buf.pop();
            }
            if buf.last() == Some(&b'.') {
                buf.pop();
            }
        }
        if buf == b"-0" {
            buf = b"0".to_vec();
        }
        Some(buf)
    }
}

impl std::ops::Add for LongDouble {
    type Output = LongDouble;

    /// `self + other`, rounded as C's `long double` addition rounds. May be infinite.
    fn add(self, other: LongDouble) -> LongDouble {
        let mut out = LongDouble {
            blob: [0; LD_BYTES],
        };
        // SAFETY: the three pointers refer to distinct LD_BYTES-byte arrays owned by this
        // frame; the C side reads sizeof(long double) <= LD_BYTES bytes from each input and
        // writes exactly LD_BYTES bytes to the output, through memcpy (no alignment needed).
        // Every blob was produced by the C side itself (parse or add), so it holds a valid
        // long double bit pattern.
        unsafe {
            fastkv_ld_add(
                self.blob.as_ptr(),
                other.blob.as_ptr(),
                out.blob.as_mut_ptr(),
            )
        };
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(a: &str, b: &str) -> Option<String> {
        let a = LongDouble::parse(a.as_bytes())?;
        let b = LongDouble::parse(b.as_bytes())?;
        (a + b)
            .to_human()
            .map(|v| String::from_utf8(v).unwrap_or_default())
    }

    /// The expected digits are x87 80-bit `long double` results, what Redis prints on x86_64.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn long_double_precision_matches_redis() {
        // Each expected text is what redis-server 7.0.15 answered on x86_64.
        assert_eq!(add("10.5", "0.1").as_deref(), Some("10.6"));
        assert_eq!(add("10.6", "0.4").as_deref(), Some("11"));
        assert_eq!(add("0.1", "0.2").as_deref(), Some("0.3"));
        assert_eq!(
            add("0", "1e30").as_deref(),
            Some("1000000000000000000024696061952")
        );
        assert_eq!(add("0", "-1e-3").as_deref(), Some("-0.001"));
        assert_eq!(
            add("0", "-0.00000000000000001").as_deref(),
            Some("-0.00000000000000001")
        );
        assert_eq!(add("0", "-0.000000000000000001").as_deref(), Some("0"));
        assert_eq!(add("0", "-0.0").as_deref(), Some("0"));
        assert_eq!(add("10", "0x10").as_deref(), Some("26"));
        assert_eq!(add("0", ".5").as_deref(), Some("0.5"));
        assert_eq!(add("0", "5.").as_deref(), Some("5"));
        assert_eq!(add("0", "+1").as_deref(), Some("1"));
        assert_eq!(add("100", "0x1p3").as_deref(), Some("108"));
        assert_eq!(add("1e4932", "1e4932"), None);
        assert_eq!(add("1", "inf"), None);
        let huge = add("0", "1e4932").unwrap_or_default();
        assert_eq!(huge.len(), 4933);
        assert!(huge.starts_with("10000000000000000000060189493879638913238"));
    }

    #[test]
    fn parse_follows_string2ld() {
        for bad in [
            "", " 1", "1 ", "\t1", "\x0b1", "1\t", "abc", "1e", "nan", "-nan", "NAN(123)",
            "1\0abc", "1e4933", "1e-5000", "1e-4951",
        ] {
            assert!(LongDouble::parse(bad.as_bytes()).is_none(), "{bad:?}");
        }
        for good in [
            "1", "inf", "-inf", "INF", "infinity", "1e-4950", "-1e-4940", "1E2",
        ] {
            assert!(LongDouble::parse(good.as_bytes()).is_some(), "{good:?}");
        }
        let mut long = vec![b'0'; MAX_LONG_DOUBLE_CHARS - 2];
        long.push(b'1');
        assert!(LongDouble::parse(&long).is_some());
        long.insert(0, b'0');
        assert!(LongDouble::parse(&long).is_none());
        assert!(!LongDouble::parse(b"-inf").is_some_and(|v| v.is_finite()));
    }
}
