//! Redis's serialization format (RDB): DUMP/RESTORE payloads and `dump.rdb` files.
//!
//! Being byte-compatible with Redis is the point: a payload from `DUMP` on redis-server
//! restores here and ours restores there, and (later) a `dump.rdb` moves either way. The
//! format is Redis's, documented in its `rdb.h`/`rdb.c` and on redis.io; this module is
//! written from that description.
//!
//! Layers, low to high:
//! - [`crc64`]: CRC-64/Jones, the checksum of payloads and files.
//! - [`lzf`]: LZF decompression (Redis compresses long strings).
//! - [`encoding`]: lengths and strings (raw, int8/16/32, LZF) — the primitives every body uses.
//! - [`object`]: one writer/reader pair per value type, picked by the RDB type byte.
//! - [`dump`]: the DUMP payload framing (type, body, version, checksum).
//! - [`file`]: whole `dump.rdb` files (header, AUX fields, databases, EOF, checksum).
//!
//! Invariant: readers treat every byte as untrusted. Corrupt input is an [`RdbError`], never
//! a panic, an out-of-bounds read, or an allocation sized by a lying length.

pub mod crc64;
pub mod dump;
pub mod encoding;
pub mod file;
pub mod intset;
pub mod listpack;
pub mod lzf;
pub mod object;
pub mod ziplist;

/// The RDB version Redis 7.0 writes (and the newest this reader accepts).
pub const RDB_VERSION: u16 = 10;

// Value type bytes (Redis's `RDB_TYPE_*`). Only strings are loaded so far; the rest are listed
// so the collection types plug in by number.
pub const TYPE_STRING: u8 = 0;
pub const TYPE_LIST: u8 = 1;
pub const TYPE_SET: u8 = 2;
pub const TYPE_ZSET: u8 = 3;
pub const TYPE_HASH: u8 = 4;
pub const TYPE_ZSET_2: u8 = 5;
pub const TYPE_MODULE_2: u8 = 7;
pub const TYPE_HASH_ZIPMAP: u8 = 9;
pub const TYPE_LIST_ZIPLIST: u8 = 10;
pub const TYPE_SET_INTSET: u8 = 11;
pub const TYPE_ZSET_ZIPLIST: u8 = 12;
pub const TYPE_HASH_ZIPLIST: u8 = 13;
pub const TYPE_LIST_QUICKLIST: u8 = 14;
pub const TYPE_STREAM_LISTPACKS: u8 = 15;
pub const TYPE_HASH_LISTPACK: u8 = 16;
pub const TYPE_ZSET_LISTPACK: u8 = 17;
pub const TYPE_LIST_QUICKLIST_2: u8 = 18;
pub const TYPE_STREAM_LISTPACKS_2: u8 = 19;

/// Why RDB bytes did not decode.
#[derive(Debug)]
pub enum RdbError {
    /// The input ended inside a value.
    Truncated,
    /// Bytes no valid writer produces.
    Corrupt(&'static str),
    /// A value type this build does not load (yet).
    UnknownType(u8),
    /// The underlying reader failed (files).
    Io(std::io::Error),
}

impl RdbError {
    fn from_io(e: std::io::Error) -> RdbError {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            RdbError::Truncated
        } else {
            RdbError::Io(e)
        }
    }
}

impl std::fmt::Display for RdbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RdbError::Truncated => f.write_str("unexpected end of RDB data"),
            RdbError::Corrupt(what) => write!(f, "corrupt RDB data: {what}"),
            RdbError::UnknownType(t) => write!(f, "unknown RDB value type {t}"),
            RdbError::Io(e) => write!(f, "I/O error reading RDB data: {e}"),
        }
    }
}

impl std::error::Error for RdbError {}
