//! LZF decompression: Redis compresses strings longer than 20 bytes in RDB files and DUMP
//! payloads with LZF when that saves at least 4 bytes, so every loader must expand it.
//!
//! The format is a sequence of chunks, each introduced by a control byte `c`:
//! - `c < 32` (top three bits 0): a literal run; the next `c + 1` bytes are copied as they are.
//! - otherwise a back reference: `len = c >> 5` (1..=7; 7 means "add the next byte"), then
//!   `offset = ((c & 0x1f) << 8 | next byte) + 1`. It copies `len + 2` bytes starting `offset`
//!   bytes back in the output. Source and destination may overlap (a run of one repeated
//!   byte is a reference with offset 1), so the copy goes byte by byte, front to back.
//!
//! The expanded length is stored beside the compressed blob; the decoder checks that the
//! output comes out at exactly that size and never reads or references outside its buffers,
//! so corrupt input is an error, never a panic.

/// Why a blob did not decompress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LzfError {
    /// A literal run or a reference needs more input than there is.
    Truncated,
    /// A reference points before the start of the output.
    BadReference,
    /// The output does not have the announced length.
    WrongLength,
}

/// Expands `input`, which must decompress to exactly `expected_len` bytes.
pub fn decompress(input: &[u8], expected_len: usize) -> Result<Vec<u8>, LzfError> {
    // The announced length is untrusted: reserve at most what the input could plausibly need
    // up front (a reference of 3 bytes yields at most 264) and let the vector grow otherwise.
    let mut out: Vec<u8> = Vec::with_capacity(expected_len.min(input.len().saturating_mul(88)));
    let mut i = 0;
    while i < input.len() {
        let ctrl = usize::from(input[i]);
        i += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            let lit = input.get(i..i + run).ok_or(LzfError::Truncated)?;
            if out.len() + run > expected_len {
                return Err(LzfError::WrongLength);
            }
            out.extend_from_slice(lit);
            i += run;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += usize::from(*input.get(i).ok_or(LzfError::Truncated)?);
                i += 1;
            }
            let low = usize::from(*input.get(i).ok_or(LzfError::Truncated)?);
            i += 1;
            let offset = ((ctrl & 0x1f) << 8 | low) + 1;
            let len = len + 2;
            let start = out
                .len()
                .checked_sub(offset)
                .ok_or(LzfError::BadReference)?;
            if out.len() + len > expected_len {
                return Err(LzfError::WrongLength);
            }
            for k in start..start + len {
                // `k < out.len()` always holds: `start + offset == out.len()` at the start and
                // both grow by one per step.
                let b = out[k];
                out.push(b);
            }
        }
    }
    if out.len() == expected_len {
        Ok(out)
    } else {
        Err(LzfError::WrongLength)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_and_overlapping_reference() {
        // "ab" literal, then a reference of length 2+4=6 at offset 2 -> "abababab".
        let blob = [0x01, b'a', b'b', 0x80, 0x01];
        assert_eq!(decompress(&blob, 8).as_deref(), Ok(&b"abababab"[..]));
    }

    #[test]
    fn long_reference() {
        // "a", then len 7+3 = 10 -> 12 bytes copied at offset 1.
        let blob = [0x00, b'a', 0xe0, 0x03, 0x00];
        assert_eq!(decompress(&blob, 13), Ok(vec![b'a'; 13]));
    }

    #[test]
    fn corrupt_inputs_are_errors() {
        assert_eq!(decompress(&[0x05, b'a'], 6), Err(LzfError::Truncated));
        assert_eq!(decompress(&[0x20, 0x00], 3), Err(LzfError::BadReference));
        assert_eq!(decompress(&[0x00, b'a'], 2), Err(LzfError::WrongLength));
        assert_eq!(
            decompress(&[0x01, b'a', b'b'], 1),
            Err(LzfError::WrongLength)
        );
        assert_eq!(
            decompress(&[0x00, b'a', 0xe0], 10),
            Err(LzfError::Truncated)
        );
        assert_eq!(decompress(&[], 0), Ok(vec![]));
    }

    #[test]
    fn redis_blob() {
        // The LZF part of `DUMP` of "abcdefghij" x 30 from redis-server 7.0.
        let blob = [
            0x0a, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x61, 0xe0, 0xff,
            0x09, 0xe1, 0x0e, 0x0d, 0x01, 0x69, 0x6a,
        ];
        assert_eq!(decompress(&blob, 300), Ok(b"abcdefghij".repeat(30)));
    }
}
