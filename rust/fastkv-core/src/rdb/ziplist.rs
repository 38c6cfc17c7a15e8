//! Redis's ziplist blob (read only): the node format of lists in RDB files written by Redis
//! 3.2 to 6.2 (`quicklist`, type 14) and of even older `ziplist` lists (type 10). Redis 7.0
//! still loads them, so a `dump.rdb` from an older Redis must load here too.
//!
//! Layout: `<zlbytes: u32 LE> <zltail: u32 LE> <zllen: u16 LE> <entries> 0xFF`. Each entry is
//! `<prevlen> <encoding> <data>`: prevlen is one byte, or 0xFE and a u32 LE when the previous
//! entry is 254 bytes or longer. Encodings, by the first byte: `00pppppp` string of up to 63
//! bytes; `01pppppp qqqqqqqq` string with a 14-bit big-endian length; `10000000` + u32 BE
//! length; `11000000` i16; `11010000` i32; `11100000` i64; `11110000` 24-bit int; `11111110`
//! i8; `1111xxxx` (xxxx in 0001..1101) the integer xxxx - 1. Integers are little endian.
//!
//! The blob is untrusted: every length is checked against the bytes that remain.

use super::RdbError;

const HEADER_LEN: usize = 10;
const END: u8 = 0xFF;

fn corrupt() -> RdbError {
    RdbError::Corrupt("invalid ziplist")
}

/// Every entry of a ziplist, integers formatted as decimal text.
pub fn decode(blob: &[u8]) -> Result<Vec<Vec<u8>>, RdbError> {
    let total = blob
        .get(0..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or_else(corrupt)?;
    if total != blob.len() || total < HEADER_LEN + 1 || blob.last() != Some(&END) {
        return Err(corrupt());
    }
    let mut out = Vec::new();
    let mut pos = HEADER_LEN;
    let take = |pos: &mut usize, n: usize| -> Result<&[u8], RdbError> {
        let end = pos.checked_add(n).ok_or_else(corrupt)?;
        // The terminator is not part of any entry.
        let s = blob
            .get(*pos..end)
            .filter(|_| end < blob.len())
            .ok_or_else(corrupt)?;
        *pos = end;
        Ok(s)
    };
    while blob.get(pos) != Some(&END) {
        // prevlen: not needed for a forward walk, only skipped.
        let first = *take(&mut pos, 1)?.first().ok_or_else(corrupt)?;
        if first == 0xFE {
            take(&mut pos, 4)?;
        }
        let enc = *take(&mut pos, 1)?.first().ok_or_else(corrupt)?;
        let item = match enc >> 6 {
            0 => take(&mut pos, usize::from(enc & 0x3F))?.to_vec(),
            1 => {
                let lo = *take(&mut pos, 1)?.first().ok_or_else(corrupt)?;
                let len = (usize::from(enc & 0x3F) << 8) | usize::from(lo);
                take(&mut pos, len)?.to_vec()
            }
            2 => {
                let b = take(&mut pos, 4)?;
                let len = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
                take(&mut pos, len)?.to_vec()
            }
            _ => {
                let n: i64 = match enc {
                    0xC0 => {
                        let b = take(&mut pos, 2)?;
                        i64::from(i16::from_le_bytes([b[0], b[1]]))
                    }
                    0xD0 => {
                        let b = take(&mut pos, 4)?;
                        i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    }
                    0xE0 => {
                        let b = take(&mut pos, 8)?;
                        let mut a = [0u8; 8];
                        a.copy_from_slice(b);
                        i64::from_le_bytes(a)
                    }
                    0xF0 => {
                        let b = take(&mut pos, 3)?;
                        // Sign-extend 24 bits.
                        i64::from(i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8)
                    }
                    0xFE => {
                        let b = take(&mut pos, 1)?;
                        i64::from(i8::from_le_bytes([b[0]]))
                    }
                    0xF1..=0xFD => i64::from(enc & 0x0F) - 1,
                    _ => return Err(corrupt()),
                };
                n.to_string().into_bytes()
            }
        };
        out.push(item);
    }
    if pos + 1 != blob.len() {
        return Err(corrupt());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ziplist as Redis 6.2 writes `RPUSH l a 12 -300 hello 70000`.
    fn sample() -> Vec<u8> {
        let mut entries = Vec::new();
        // "a": prevlen 0, 00000001, 'a'
        entries.extend_from_slice(&[0x00, 0x01, b'a']);
        // 12: prevlen 3, immediate 1111 1101 (12 + 1 = 13)
        entries.extend_from_slice(&[0x03, 0xFD]);
        // -300: prevlen 2, i16
        entries.extend_from_slice(&[0x02, 0xC0]);
        entries.extend_from_slice(&(-300i16).to_le_bytes());
        // "hello"
        entries.extend_from_slice(&[0x04, 0x05]);
        entries.extend_from_slice(b"hello");
        // 70000: 24-bit
        entries.extend_from_slice(&[0x07, 0xF0]);
        entries.extend_from_slice(&70000i32.to_le_bytes()[..3]);
        let total = (HEADER_LEN + entries.len() + 1) as u32;
        let mut blob = total.to_le_bytes().to_vec();
        blob.extend_from_slice(&0u32.to_le_bytes());
        blob.extend_from_slice(&5u16.to_le_bytes());
        blob.extend_from_slice(&entries);
        blob.push(END);
        blob
    }

    #[test]
    fn decodes_every_encoding() {
        let got = decode(&sample()).unwrap();
        let want: Vec<&[u8]> = vec![b"a", b"12", b"-300", b"hello", b"70000"];
        assert_eq!(got, want);
    }

    #[test]
    fn rejects_truncation_anywhere() {
        let blob = sample();
        for cut in 0..blob.len() {
            assert!(decode(&blob[..cut]).is_err(), "cut {cut}");
        }
        let mut bad = blob.clone();
        bad[HEADER_LEN + 1] = 0x3F; // a 63-byte string that is not there
        assert!(decode(&bad).is_err());
    }
}
