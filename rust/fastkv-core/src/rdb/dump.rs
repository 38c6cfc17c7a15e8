//! DUMP payloads: `<type byte> <body> <RDB version: 2 bytes LE> <CRC-64/Jones: 8 bytes LE>`,
//! the checksum covering everything before it. RESTORE accepts any version up to ours and
//! refuses a payload whose checksum does not match, as Redis does.

use super::crc64::crc64;
use super::encoding::Reader;
use super::object::{read_body, value_type, write_body};
use super::{RdbError, RDB_VERSION};
use crate::types::Value;

/// Version (2) and checksum (8).
const TRAILER_LEN: usize = 10;

/// Why a payload was refused; each maps to one of RESTORE's error texts.
#[derive(Debug)]
pub enum PayloadError {
    /// Too short, a newer RDB version, or a checksum mismatch.
    VersionOrChecksum,
    /// The trailer checks out but the body does not decode.
    BadData(RdbError),
}

/// Serializes `value` as DUMP does.
pub fn dump(value: &Value) -> Vec<u8> {
    let mut out = vec![value_type(value)];
    write_body(&mut out, value);
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Checks the trailer and returns the RDB version and the part before it.
pub fn verify(payload: &[u8]) -> Result<(u16, &[u8]), PayloadError> {
    let body_len = payload
        .len()
        .checked_sub(TRAILER_LEN)
        .ok_or(PayloadError::VersionOrChecksum)?;
    let (body, trailer) = payload.split_at(body_len);
    let version = u16::from_le_bytes([trailer[0], trailer[1]]);
    if version > RDB_VERSION {
        return Err(PayloadError::VersionOrChecksum);
    }
    let mut crc = [0u8; 8];
    crc.copy_from_slice(&trailer[2..]);
    if crc64(0, &payload[..body_len + 2]) != u64::from_le_bytes(crc) {
        return Err(PayloadError::VersionOrChecksum);
    }
    Ok((version, body))
}

/// Decodes a DUMP payload into a value.
pub fn restore(payload: &[u8]) -> Result<Value, PayloadError> {
    let (_, body) = verify(payload)?;
    let mut r = Reader::new(body);
    let ty = r.read_u8().map_err(PayloadError::BadData)?;
    read_body(&mut r, ty).map_err(PayloadError::BadData)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Str;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or_else(|e| panic!("{e}")))
            .collect()
    }

    fn restored(payload: &str) -> Value {
        restore(&hex(payload)).unwrap_or_else(|e| panic!("{payload}: {e:?}"))
    }

    fn s(v: Value) -> Str {
        v.as_str().cloned().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Payloads captured with `redis-cli --no-raw dump k` from redis-server 7.0.15, with what
    /// they hold, and whether fastkv's DUMP of that value is byte-identical (it is except where
    /// Redis LZF-compressed).
    const REDIS: &[(&str, &str, bool)] = &[
        ("00c07b0a0048e253e1007a67b9", "123", true),
        ("00c0fb0a0049c4c6f4d7263f68", "-5", true),
        ("00c1e8030a0089d1478ebac4b764", "1000", true),
        ("00c2701101000a0001a408fe953095a5", "70000", true),
        (
            "000a333030303030303030300a00e7076b7954bb7947",
            "3000000000",
            true,
        ),
        (
            "00142d393232333337323033363835343737353830380a00ede2b956eb709e81",
            "-9223372036854775808",
            true,
        ),
        ("0004303132330a000ae40c929e3b6422", "0123", true),
        ("000568656c6c6f0a006372df766534200a", "hello", true),
        ("00000a005d9b5c400f7fa2da", "", true),
    ];

    #[test]
    fn redis_string_payloads() {
        for &(payload, text, identical) in REDIS {
            let v = restored(payload);
            assert_eq!(s(v.clone()).to_vec(), text.as_bytes(), "{payload}");
            if identical {
                assert_eq!(dump(&v), hex(payload), "{text}");
            }
        }
        // Int-encoded payloads come back int-encoded, short strings embstr.
        assert_eq!(s(restored(REDIS[0].0)), Str::Int(123));
        assert_eq!(s(restored(REDIS[7].0)).encoding_name(), "embstr");
    }

    #[test]
    fn redis_long_payloads() {
        // 100 random bytes (Python `random.seed(7)`; `random.getrandbits(8)` each): raw.
        let incompressible = "00406452f22665a60c12d289185d950ee8813609166f6b113d178d6c0fd3901ff2\
            39a1a095f20f9395650cf9380b8edb224a6b248a1e924e8fd0ae2e1a9492a3305f188cb610900f9e347f\
            ae886dc6507795ec745c4c3fcb2eb2c73e14934c867ee057ba72499b0a00db0e6fc8069baca0";
        let v = restored(incompressible);
        let bytes = s(v.clone()).to_vec();
        assert_eq!(bytes.len(), 100);
        assert_eq!(&bytes[..4], &[0x52, 0xf2, 0x26, 0x65]);
        assert_eq!(dump(&v), hex(incompressible));

        // LZF-compressed by Redis: "abcdefghij" x 30, "a" x 1000, a repeated phrase.
        let v =
            restored("00c315412c0a6162636465666768696a61e0ff09e10e0d01696a0a0038ca025adaf54090");
        assert_eq!(s(v).to_vec(), b"abcdefghij".repeat(30));
        let v = restored("00c31243e8016161e0ff00e0ff00e0ff00e0c3000161610a0086c212db54819e3c");
        assert_eq!(s(v).to_vec(), vec![b'a'; 1000]);
        let v = restored(
            "00c32140870d68656c6c6f20776f726c642c2068600c06666173746b7621a00de05b1a0121200a00c704\
             ba0dc2f49851",
        );
        assert_eq!(
            s(v.clone()).to_vec(),
            b"hello world, hello fastkv! ".repeat(5)
        );
        // Our uncompressed form of the same value restores to the same value.
        assert_eq!(
            s(restore(&dump(&v)).unwrap_or_else(|e| panic!("{e:?}"))).to_vec(),
            s(v).to_vec()
        );
    }

    #[test]
    fn bad_payloads() {
        let good = hex(REDIS[7].0);
        assert!(matches!(
            restore(&good[..9]),
            Err(PayloadError::VersionOrChecksum)
        ));
        let mut flipped = good.clone();
        flipped[2] ^= 1;
        assert!(matches!(
            restore(&flipped),
            Err(PayloadError::VersionOrChecksum)
        ));
        // Version 11 with a correct checksum: still refused.
        let mut newer = good[..good.len() - 10].to_vec();
        newer.extend_from_slice(&11u16.to_le_bytes());
        let crc = crc64(0, &newer);
        newer.extend_from_slice(&crc.to_le_bytes());
        assert!(matches!(
            restore(&newer),
            Err(PayloadError::VersionOrChecksum)
        ));
        // An older version is fine.
        let mut older = good[..good.len() - 10].to_vec();
        older.extend_from_slice(&9u16.to_le_bytes());
        let crc = crc64(0, &older);
        older.extend_from_slice(&crc.to_le_bytes());
        assert!(restore(&older).is_ok());
        // Valid trailer, unknown type / truncated body.
        for body in [&[0x63u8, 0x00][..], &[0x00, 0x05, b'a'], &[]] {
            let mut p = body.to_vec();
            p.extend_from_slice(&RDB_VERSION.to_le_bytes());
            let crc = crc64(0, &p);
            p.extend_from_slice(&crc.to_le_bytes());
            assert!(
                matches!(restore(&p), Err(PayloadError::BadData(_))),
                "{body:?}"
            );
        }
    }
}
