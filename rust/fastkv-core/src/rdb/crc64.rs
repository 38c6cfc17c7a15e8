//! CRC-64/Jones, the checksum Redis puts at the end of DUMP payloads and RDB files.
//!
//! Parameters (as Redis documents them in `crc64.c`): polynomial 0xad93d23594c935a9, input and
//! output reflected, initial value 0, no final xor. A reflected CRC processes the least
//! significant bit first, so the table-driven form shifts right and xors with the
//! *bit-reversed* polynomial. Check value: `crc64(0, "123456789") == 0xe9c6d914c4b8d9ca`.
//!
//! One byte per step through a 256-entry table built at compile time: DUMP payloads are small
//! and RDB files are written by a background thread, so the simple form is fast enough; a
//! slicing-by-8 variant can replace it behind the same function if a profile ever says so.

/// The Jones polynomial, normal (MSB-first) form.
pub const POLY: u64 = 0xad93_d235_94c9_35a9;

/// The table for the reflected, LSB-first algorithm.
const TABLE: [u64; 256] = build_table();

const fn build_table() -> [u64; 256] {
    let rpoly = POLY.reverse_bits();
    let mut table = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u64;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ rpoly
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// Continues a CRC-64/Jones over `data`, starting from `crc` (0 for a fresh checksum).
pub fn crc64(mut crc: u64, data: &[u8]) -> u64 {
    for &b in data {
        crc = TABLE[((crc ^ u64::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::crc64;

    #[test]
    fn check_value() {
        assert_eq!(crc64(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
        assert_eq!(crc64(0, b""), 0);
    }

    #[test]
    fn incremental_equals_one_shot() {
        let data = b"The quick brown fox jumps over the lazy dog";
        let (a, b) = data.split_at(17);
        assert_eq!(crc64(crc64(0, a), b), crc64(0, data));
    }
}
