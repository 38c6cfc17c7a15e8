//! The RDB format's two primitives: lengths and strings. Every value body is built from them.
//!
//! Lengths (`rdbSaveLen` / `rdbLoadLen` in Redis), by the top two bits of the first byte:
//! - `00xxxxxx`: 6-bit length.
//! - `01xxxxxx xxxxxxxx`: 14-bit length, big-endian.
//! - `10000000` + 4 bytes: 32-bit length, big-endian; `10000001` + 8 bytes: 64-bit.
//! - `11xxxxxx`: not a length but a *special string encoding* in the low six bits:
//!   0 = int8, 1 = int16, 2 = int32 (little-endian, signed), 3 = LZF-compressed.
//!
//! Strings: a length then the bytes, or one of the special encodings. A writer stores integers
//! that fit 32 bits in the int encodings (as Redis does for int-encoded values and for short
//! strings that are canonical integers), everything else raw. It does not LZF-compress: the
//! output is valid for every reader, only larger than Redis's for long repetitive strings.

use super::lzf;
use super::RdbError;
use std::io::Read;

/// First byte of a 32-bit length.
const LEN_32BIT: u8 = 0x80;
/// First byte of a 64-bit length.
const LEN_64BIT: u8 = 0x81;
/// Top two bits of a special string encoding.
const ENCVAL: u8 = 0xc0;
const ENC_INT8: u8 = 0;
const ENC_INT16: u8 = 1;
const ENC_INT32: u8 = 2;
const ENC_LZF: u8 = 3;

/// Longest string Redis tries to store in an int encoding: "-2147483648" is 11 bytes.
const MAX_INT_ENCODABLE_LEN: usize = 11;

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// Appends a length in the shortest form.
pub fn write_len(out: &mut Vec<u8>, len: u64) {
    if len < 1 << 6 {
        out.push(len as u8);
    } else if len < 1 << 14 {
        out.push(0x40 | (len >> 8) as u8);
        out.push(len as u8);
    } else if len <= u64::from(u32::MAX) {
        out.push(LEN_32BIT);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    } else {
        out.push(LEN_64BIT);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

/// Appends `n` in an int encoding if it fits 32 bits; returns false (writing nothing) if not.
fn write_int_encoded(out: &mut Vec<u8>, n: i64) -> bool {
    if let Ok(v) = i8::try_from(n) {
        out.push(ENCVAL | ENC_INT8);
        out.extend_from_slice(&v.to_le_bytes());
    } else if let Ok(v) = i16::try_from(n) {
        out.push(ENCVAL | ENC_INT16);
        out.extend_from_slice(&v.to_le_bytes());
    } else if let Ok(v) = i32::try_from(n) {
        out.push(ENCVAL | ENC_INT32);
        out.extend_from_slice(&v.to_le_bytes());
    } else {
        return false;
    }
    true
}

/// Appends an integer string value: int-encoded when it fits 32 bits, else as its decimal text.
pub fn write_int_string(out: &mut Vec<u8>, n: i64) {
    if !write_int_encoded(out, n) {
        write_raw_string(out, n.to_string().as_bytes());
    }
}

/// Appends a byte string, int-encoded when it is a short canonical integer (so that a reader
/// gets the same bytes back: "0123" or "+1" stay raw).
pub fn write_string(out: &mut Vec<u8>, s: &[u8]) {
    if s.len() <= MAX_INT_ENCODABLE_LEN {
        if let Some(n) = fastkv_resp::request::parse_i64_strict(s) {
            if n.to_string().as_bytes() == s && write_int_encoded(out, n) {
                return;
            }
        }
    }
    write_raw_string(out, s);
}

fn write_raw_string(out: &mut Vec<u8>, s: &[u8]) {
    write_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/// What a length field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Len {
    Plain(u64),
    /// A special string encoding (`ENC_*`).
    Encoded(u8),
}

/// A cursor over RDB bytes: a DUMP payload (`&[u8]`) or a file.
pub struct Reader<R> {
    inner: R,
    /// Longest string this reader accepts (after decompression). Lengths are untrusted input:
    /// the bound keeps a corrupt length from asking for an absurd allocation.
    pub max_string: u64,
}

/// Redis's own ceiling for one string (`proto-max-bulk-len` default, 512 MB).
pub const DEFAULT_MAX_STRING: u64 = 512 * 1024 * 1024;

impl<R: Read> Reader<R> {
    pub fn new(inner: R) -> Self {
        Reader {
            inner,
            max_string: DEFAULT_MAX_STRING,
        }
    }

    pub fn into_inner(self) -> R {
        self.inner
    }

    fn read_array<const N: usize>(&mut self) -> Result<[u8; N], RdbError> {
        let mut buf = [0u8; N];
        self.inner.read_exact(&mut buf).map_err(RdbError::from_io)?;
        Ok(buf)
    }

    pub fn read_u8(&mut self) -> Result<u8, RdbError> {
        Ok(self.read_array::<1>()?[0])
    }

    /// `n` bytes. Reads in pieces, so a lying length runs out of input instead of memory.
    pub fn read_bytes(&mut self, n: u64) -> Result<Vec<u8>, RdbError> {
        let mut buf = Vec::with_capacity(n.min(64 * 1024) as usize);
        (&mut self.inner)
            .take(n)
            .read_to_end(&mut buf)
            .map_err(RdbError::from_io)?;
        if buf.len() as u64 == n {
            Ok(buf)
        } else {
            Err(RdbError::Truncated)
        }
    }

    /// A length or a special-encoding marker.
    pub fn read_len_or_enc(&mut self) -> Result<Len, RdbError> {
        let first = self.read_u8()?;
        match first >> 6 {
            0 => Ok(Len::Plain(u64::from(first & 0x3f))),
            1 => {
                let second = self.read_u8()?;
                Ok(Len::Plain(u64::from(first & 0x3f) << 8 | u64::from(second)))
            }
            2 => match first {
                LEN_32BIT => Ok(Len::Plain(u64::from(u32::from_be_bytes(
                    self.read_array()?,
                )))),
                LEN_64BIT => Ok(Len::Plain(u64::from_be_bytes(self.read_array()?))),
                _ => Err(RdbError::Corrupt("unknown length encoding")),
            },
            _ => Ok(Len::Encoded(first & 0x3f)),
        }
    }

    /// A plain length (a special encoding here is corruption).
    pub fn read_len(&mut self) -> Result<u64, RdbError> {
        match self.read_len_or_enc()? {
            Len::Plain(n) => Ok(n),
            Len::Encoded(_) => Err(RdbError::Corrupt("string encoding where a length belongs")),
        }
    }

    /// A string in any encoding, as the integer it holds when it was int-encoded.
    pub fn read_string(&mut self) -> Result<RdbString, RdbError> {
        match self.read_len_or_enc()? {
            Len::Plain(n) => {
                if n > self.max_string {
                    return Err(RdbError::Corrupt("string longer than the limit"));
                }
                Ok(RdbString::Bytes(self.read_bytes(n)?))
            }
            Len::Encoded(ENC_INT8) => Ok(RdbString::Int(i64::from(i8::from_le_bytes(
                self.read_array()?,
            )))),
            Len::Encoded(ENC_INT16) => Ok(RdbString::Int(i64::from(i16::from_le_bytes(
                self.read_array()?,
            )))),
            Len::Encoded(ENC_INT32) => Ok(RdbString::Int(i64::from(i32::from_le_bytes(
                self.read_array()?,
            )))),
            Len::Encoded(ENC_LZF) => {
                let clen = self.read_len()?;
                let ulen = self.read_len()?;
                if ulen > self.max_string || clen > self.max_string {
                    return Err(RdbError::Corrupt("string longer than the limit"));
                }
                let blob = self.read_bytes(clen)?;
                let ulen = usize::try_from(ulen)
                    .map_err(|_| RdbError::Corrupt("string longer than the limit"))?;
                lzf::decompress(&blob, ulen)
                    .map(RdbString::Bytes)
                    .map_err(|_| RdbError::Corrupt("invalid LZF data"))
            }
            Len::Encoded(_) => Err(RdbError::Corrupt("unknown string encoding")),
        }
    }
}

/// A decoded string: int encodings come back as integers, so an int-encoded value stays one
/// without a round trip through decimal text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RdbString {
    Int(i64),
    Bytes(Vec<u8>),
}

impl RdbString {
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            RdbString::Int(n) => n.to_string().into_bytes(),
            RdbString::Bytes(b) => b,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_back(bytes: &[u8]) -> RdbString {
        Reader::new(bytes)
            .read_string()
            .unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn lengths_round_trip() {
        for n in [
            0,
            1,
            63,
            64,
            16383,
            16384,
            u64::from(u32::MAX),
            u64::from(u32::MAX) + 1,
        ] {
            let mut out = Vec::new();
            write_len(&mut out, n);
            let mut r = Reader::new(&out[..]);
            assert_eq!(r.read_len().ok(), Some(n));
            assert!(r.into_inner().is_empty());
        }
        let mut out = Vec::new();
        write_len(&mut out, 300);
        assert_eq!(out, [0x41, 0x2c]);
    }

    #[test]
    fn strings_round_trip() {
        for s in [
            &b""[..],
            b"0",
            b"-1",
            b"127",
            b"128",
            b"-32768",
            b"2147483647",
            b"-2147483648",
            b"2147483648",
            b"0123",
            b"+1",
            b"hello",
            &[b'x'; 100],
        ] {
            let mut out = Vec::new();
            write_string(&mut out, s);
            assert_eq!(read_back(&out).into_bytes(), s);
        }
        let mut out = Vec::new();
        write_string(&mut out, b"123");
        assert_eq!(out, [0xc0, 0x7b]);
        out.clear();
        write_int_string(&mut out, 3_000_000_000);
        assert_eq!(out[0], 10);
        assert_eq!(read_back(&out).into_bytes(), b"3000000000");
    }

    #[test]
    fn corrupt_strings_are_errors() {
        // Truncated raw string, truncated int, unknown encodings, lying lengths.
        for bad in [
            &[0x05, b'a'][..],
            &[0xc1, 0x01],
            &[0xc4],
            &[0x82],
            &[0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            &[0xc3, 0x02, 0x05, 0x00],
            &[
                0xc3, 0x01, 0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00,
            ],
            &[],
        ] {
            assert!(Reader::new(bad).read_string().is_err(), "{bad:?}");
        }
    }
}
