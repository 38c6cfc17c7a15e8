//! Redis's intset blob, the body of the RDB `intset` type (11), carried inside an RDB string.
//!
//! Layout: a 4-byte LE element width (2, 4 or 8), a 4-byte LE count, then the elements, LE,
//! strictly ascending. Redis widens an intset when a wider member arrives and never narrows
//! it; we write the smallest width that holds every element (any width loads the same set).
//! The reader treats the blob as untrusted: a bad width, a size that does not match the count,
//! or elements out of order are `RdbError::Corrupt`.

use super::RdbError;

/// An intset blob of `ints` (ascending), in the smallest width that holds them all.
pub fn encode(ints: &[i64]) -> Vec<u8> {
    let fits = |lo: i64, hi: i64| ints.iter().all(|n| (lo..=hi).contains(n));
    let width: usize = if fits(i16::MIN.into(), i16::MAX.into()) {
        2
    } else if fits(i32::MIN.into(), i32::MAX.into()) {
        4
    } else {
        8
    };
    let mut out = Vec::with_capacity(8 + width * ints.len());
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&u32::try_from(ints.len()).unwrap_or(u32::MAX).to_le_bytes());
    for &n in ints {
        out.extend_from_slice(&n.to_le_bytes()[..width]);
    }
    out
}

/// The elements of an intset blob.
pub fn decode(blob: &[u8]) -> Result<Vec<i64>, RdbError> {
    let corrupt = RdbError::Corrupt;
    let (head, body) = blob
        .split_first_chunk::<8>()
        .ok_or(corrupt("intset too short"))?;
    let width = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let count = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
    if !matches!(width, 2 | 4 | 8) {
        return Err(corrupt("bad intset encoding"));
    }
    if count.checked_mul(width) != Some(body.len()) {
        return Err(corrupt("intset size mismatch"));
    }
    let mut out: Vec<i64> = Vec::with_capacity(count);
    for chunk in body.chunks_exact(width) {
        // Sign-extend `width` little-endian bytes.
        let mut buf = [0u8; 8];
        buf[..width].copy_from_slice(chunk);
        let shift = 64 - 8 * width as u32;
        let n = (i64::from_le_bytes(buf) << shift) >> shift;
        if out.last().is_some_and(|&prev| prev >= n) {
            return Err(corrupt("intset not sorted"));
        }
        out.push(n);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn matches_redis_bytes() {
        // The blobs inside `DUMP` on redis-server 7.0.15 of `SADD si 1 2 -3 70000` (width 4),
        // `SADD si16 300 1` (width 2) and `SADD si64 5000000000 1` (width 8).
        assert_eq!(
            encode(&[-3, 1, 2, 70000]),
            b"\x04\x00\x00\x00\x04\x00\x00\x00\xfd\xff\xff\xff\x01\x00\x00\x00\x02\x00\x00\x00p\x11\x01\x00"
        );
        assert_eq!(
            encode(&[1, 300]),
            b"\x02\x00\x00\x00\x02\x00\x00\x00\x01\x00,\x01"
        );
        assert_eq!(
            encode(&[1, 5_000_000_000]),
            b"\x08\x00\x00\x00\x02\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\xf2\x05*\x01\x00\x00\x00"
        );
    }

    proptest! {
        #[test]
        fn round_trips(mut ints in proptest::collection::vec(any::<i64>(), 0..20)) {
            ints.sort_unstable();
            ints.dedup();
            prop_assert_eq!(decode(&encode(&ints)).ok(), Some(ints));
        }

        #[test]
        fn never_panics(blob in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode(&blob);
        }
    }

    #[test]
    fn corrupt_blobs_are_errors() {
        for bad in [
            &b"\x02\x00\x00\x00\x02\x00\x00\x00\x02\x00\x01\x00"[..],
            b"\x02\x00\x00\x00\x02\x00\x00\x00\x01\x00\x01\x00",
            b"\x03\x00\x00\x00\x00\x00\x00\x00",
            b"\x02\x00\x00\x00\x02\x00\x00\x00\x01\x00",
            b"\x02\x00\x00",
        ] {
            assert!(decode(bad).is_err(), "{bad:?}");
        }
    }
}
