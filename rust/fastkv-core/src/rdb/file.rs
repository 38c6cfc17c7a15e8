//! Whole RDB files (`dump.rdb`): the writer SAVE and SHUTDOWN use, the reader start-up uses.
//!
//! # Layout
//!
//! ```text
//! "REDIS" + 4 ASCII digits of version     REDIS0010
//! AUX   (0xFA) key string, value string   redis-ver, redis-bits, ctime, used-mem, aof-base
//! per non-empty database:
//!   SELECTDB (0xFE) db length
//!   RESIZEDB (0xFB) keys length, keys-with-deadline length    (a sizing hint only)
//!   per key: [EXPIRETIME_MS (0xFC) 8 bytes LE ms] [IDLE / FREQ] type byte, key string, body
//! EOF (0xFF)
//! CRC-64/Jones of every byte before it, 8 bytes LE (version >= 5; 0 = checksum disabled)
//! ```
//!
//! Value bodies are not this module's business: they go through [`super::object`]'s per-type
//! writer and reader, so a value type added there is saved and loaded here without a change.
//!
//! # Writing
//!
//! The caller holds every shard lock ([`write_dbs`] takes a [`Locked`] that holds them all), so
//! the snapshot is consistent across databases, exactly as Redis's synchronous SAVE is. The
//! bytes are built in memory under the locks (serializing is a pass over the values, about as
//! cheap as copying them would be), the locks are released, and only then does the file work
//! happen: [`write_atomically`] writes `temp-<pid>.rdb` in the target directory, fsyncs it,
//! renames it over the final name and fsyncs the directory, so a crash leaves either the old
//! dump or the new one, never half of one. The price is a second copy of the dataset's
//! serialized size in memory for the length of the save; a non-stalling, streaming BGSAVE is
//! future work.
//!
//! # Reading
//!
//! [`read_rdb`] streams from any `Read` through a wrapper that counts bytes and folds them into
//! the CRC as they pass, and reports each AUX field and each key to a callback, which decides
//! what to do with it (start-up loading skips expired keys and inserts the rest). Every length
//! is untrusted: strings are read through [`Reader`], which never allocates more than it has
//! read, and sizing hints (RESIZEDB) are ignored. Any failure — truncation, corruption, a
//! checksum mismatch, an unsupported feature — is a [`LoadError`] carrying the byte offset where
//! reading stopped, never a panic.

use super::crc64::crc64;
use super::encoding::{write_len, write_string, RdbString, Reader};
use super::object::{read_body, value_type, write_body};
use super::{RdbError, RDB_VERSION};
use crate::keyspace::Locked;
use crate::types::Value;
use std::io::{self, Read, Write};
use std::path::Path;

// Opcodes (Redis's `RDB_OPCODE_*`): bytes that take a type byte's place in the stream.
/// A Redis function library (Redis 7.0).
pub const OP_FUNCTION2: u8 = 245;
/// The same, as written by 7.0 release candidates.
pub const OP_FUNCTION_PRE_GA: u8 = 246;
/// Module auxiliary data.
pub const OP_MODULE_AUX: u8 = 247;
/// LRU idle time of the next key, in seconds.
pub const OP_IDLE: u8 = 248;
/// LFU counter of the next key.
pub const OP_FREQ: u8 = 249;
/// An auxiliary field: two strings.
pub const OP_AUX: u8 = 250;
/// Database size hints: two lengths.
pub const OP_RESIZEDB: u8 = 251;
/// Deadline of the next key, ms since the epoch, 8 bytes LE.
pub const OP_EXPIRETIME_MS: u8 = 252;
/// Deadline of the next key, seconds since the epoch, 4 bytes LE (versions before 3).
pub const OP_EXPIRETIME: u8 = 253;
/// Switch database: a length.
pub const OP_SELECTDB: u8 = 254;
/// End of the data; the checksum follows.
pub const OP_EOF: u8 = 255;

const MAGIC: &[u8; 5] = b"REDIS";
/// The first version that ends with a checksum.
const FIRST_VERSION_WITH_CHECKSUM: u16 = 5;

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// What the AUX fields say about the writer.
#[derive(Debug, Clone, Copy)]
pub struct Header {
    /// Creation time, seconds since the epoch (`ctime`).
    pub ctime_s: u64,
    /// Memory in use when written, bytes (`used-mem`).
    pub used_mem: u64,
}

/// Starts a file: signature, version and the AUX fields Redis 7.0 writes.
pub fn begin(header: &Header) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 * 1024);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(format!("{RDB_VERSION:04}").as_bytes());
    let aux: [(&str, String); 5] = [
        ("redis-ver", crate::engine::REDIS_VERSION.to_string()),
        ("redis-bits", usize::BITS.to_string()),
        ("ctime", header.ctime_s.to_string()),
        ("used-mem", header.used_mem.to_string()),
        ("aof-base", "0".to_string()),
    ];
    for (key, value) in aux {
        write_aux(&mut out, key.as_bytes(), value.as_bytes());
    }
    out
}

fn write_aux(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    out.push(OP_AUX);
    write_string(out, key);
    write_string(out, value);
}

/// Appends one key entry: its deadline if it has one, then type byte, key and body.
pub fn write_entry(out: &mut Vec<u8>, key: &[u8], value: &Value, expire_at_ms: Option<u64>) {
    if let Some(at) = expire_at_ms {
        out.push(OP_EXPIRETIME_MS);
        out.extend_from_slice(&at.to_le_bytes());
    }
    out.push(value_type(value));
    write_string(out, key);
    write_body(out, value);
}

/// Appends every database of a keyspace whose shards `ks` all holds; keys already expired at
/// `now_ms` are left out. Returns the number of keys written.
pub fn write_dbs(out: &mut Vec<u8>, ks: &mut Locked<'_>, now_ms: u64) -> u64 {
    debug_assert!(ks.holds_all(), "a snapshot needs every shard");
    let mut written = 0;
    for db in 0..ks.keyspace().databases() {
        let (mut size, mut volatile) = (0usize, 0usize);
        for (_, shard) in ks.shards_mut() {
            if let Some(d) = shard.dbs.get(db) {
                size += d.dict.len();
                volatile += d.volatile;
            }
        }
        if size == 0 {
            continue;
        }
        out.push(OP_SELECTDB);
        write_len(out, db as u64);
        // Hints for the reader's table sizes; they may count a few expired keys we skip.
        out.push(OP_RESIZEDB);
        write_len(out, size as u64);
        write_len(out, volatile as u64);
        for (_, shard) in ks.shards_mut() {
            let Some(d) = shard.dbs.get(db) else { continue };
            for (key, entry) in d.dict.iter() {
                if entry.is_expired(now_ms) {
                    continue;
                }
                write_entry(out, key, &entry.value, entry.expire_at());
                written += 1;
            }
        }
    }
    written
}

/// Ends a file: EOF and the checksum of everything before it.
pub fn finish(mut out: Vec<u8>) -> Vec<u8> {
    out.push(OP_EOF);
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// The temporary file a save writes before renaming it into place (Redis's name).
pub fn temp_name() -> String {
    format!("temp-{}.rdb", std::process::id())
}

/// Writes `bytes` to `dir/name` so that a crash never leaves a partial file under `name`:
/// temp file, fsync, rename, fsync of the directory. Errors carry Redis's log texts.
pub fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), String> {
    let temp = temp_name();
    let temp_path = dir.join(&temp);
    let shown_dir = dir.display();
    let mut file = std::fs::File::create(&temp_path).map_err(|e| {
        format!(
            "Failed opening the temp RDB file {temp} (in server root dir {shown_dir}) for saving: {}",
            io_text(&e)
        )
    })?;
    let written = file.write_all(bytes).and_then(|_| file.sync_all());
    drop(file);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp_path);
        return Err(format!("Write error saving DB on disk: {}", io_text(&e)));
    }
    if let Err(e) = std::fs::rename(&temp_path, dir.join(name)) {
        let _ = std::fs::remove_file(&temp_path);
        return Err(format!(
            "Error moving temp DB file {temp} on the final destination {name} (in server root dir {shown_dir}): {}",
            io_text(&e)
        ));
    }
    // The rename is durable only once the directory entry is.
    #[cfg(unix)]
    {
        let synced = std::fs::File::open(dir).and_then(|d| d.sync_all());
        if let Err(e) = synced {
            return Err(format!(
                "Failed to fsync directory {shown_dir}: {}",
                io_text(&e)
            ));
        }
    }
    Ok(())
}

/// An I/O error as strerror would say it ("No such file or directory").
fn io_text(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s.get(..i).unwrap_or(&s).to_string(),
        None => s,
    }
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/// One key as the file holds it. The reader applies no policy: expiry and duplicates are the
/// caller's to judge.
#[derive(Debug)]
pub struct LoadedKey {
    pub db: u64,
    pub key: Vec<u8>,
    pub value: Value,
    /// Deadline in ms since the epoch (signed, as Redis stores it: old or hostile files may
    /// hold values before 1970).
    pub expire_at_ms: Option<i64>,
    /// LRU idle time in seconds, when the writer recorded it.
    pub idle_s: Option<u64>,
    /// LFU counter, when the writer recorded it.
    pub freq: Option<u8>,
}

/// What the reader reports, in file order.
#[derive(Debug)]
pub enum Event {
    Aux(Vec<u8>, Vec<u8>),
    Key(LoadedKey),
}

/// How the checksum turned out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    Verified,
    /// The writer had `rdbchecksum no` (a stored 0).
    Disabled,
    /// Versions before 5 have none.
    Absent,
}

/// A successful read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub version: u16,
    pub checksum: Checksum,
}

/// Why a file did not load, and where reading stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// Bytes consumed when the problem was found.
    pub offset: u64,
    pub reason: String,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at byte offset {})", self.reason, self.offset)
    }
}

/// Counts and checksums the bytes the decoder consumes.
struct Tracked<R> {
    inner: R,
    crc: u64,
    offset: u64,
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?.min(buf.len());
        let got = buf.get(..n).unwrap_or_default();
        self.crc = crc64(self.crc, got);
        self.offset += n as u64;
        Ok(n)
    }
}

/// What one step of the main loop found.
enum Step {
    Continue,
    End,
}

/// Metadata collected for the next key (opcodes that precede a key).
#[derive(Default)]
struct Pending {
    expire_at_ms: Option<i64>,
    idle_s: Option<u64>,
    freq: Option<u8>,
}

/// Reads a whole RDB file, calling `on` for every AUX field and every key. `on` may refuse an
/// event with a reason, which stops the read with that reason and the current offset.
pub fn read_rdb<R: Read>(
    input: R,
    mut on: impl FnMut(Event) -> Result<(), String>,
) -> Result<Summary, LoadError> {
    let mut t = Tracked {
        inner: input,
        crc: 0,
        offset: 0,
    };
    let fail = |t: &Tracked<R>, reason: String| LoadError {
        offset: t.offset,
        reason,
    };
    let version = read_signature(&mut t).map_err(|r| fail(&t, r))?;
    let mut db = 0u64;
    let mut pending = Pending::default();
    loop {
        match step(&mut t, &mut db, &mut pending, &mut on) {
            Ok(Step::Continue) => {}
            Ok(Step::End) => break,
            Err(reason) => return Err(fail(&t, reason)),
        }
    }
    if version < FIRST_VERSION_WITH_CHECKSUM {
        return Ok(Summary {
            version,
            checksum: Checksum::Absent,
        });
    }
    let computed = t.crc;
    let mut stored = [0u8; 8];
    t.read_exact(&mut stored)
        .map_err(|e| fail(&t, describe(&RdbError::from_io(e))))?;
    let stored = u64::from_le_bytes(stored);
    let checksum = if stored == 0 {
        Checksum::Disabled
    } else if stored == computed {
        Checksum::Verified
    } else {
        return Err(fail(
            &t,
            format!("Wrong RDB checksum expected: ({computed:016x}) got ({stored:016x})"),
        ));
    };
    Ok(Summary { version, checksum })
}

/// Checks `REDISnnnn` and returns the version.
fn read_signature<R: Read>(t: &mut Tracked<R>) -> Result<u16, String> {
    let mut sig = [0u8; 9];
    t.read_exact(&mut sig)
        .map_err(|e| describe(&RdbError::from_io(e)))?;
    let (magic, digits) = sig.split_at(MAGIC.len());
    if magic != MAGIC || !digits.iter().all(u8::is_ascii_digit) {
        return Err("Wrong signature trying to load DB from file".into());
    }
    let version = digits
        .iter()
        .fold(0u16, |v, d| v * 10 + u16::from(d - b'0'));
    if !(1..=RDB_VERSION).contains(&version) {
        return Err(format!(
            "Can't handle RDB format version {version} (this build reads versions 1 to {RDB_VERSION})"
        ));
    }
    Ok(version)
}

/// Reads one opcode and what belongs to it.
fn step<R: Read>(
    t: &mut Tracked<R>,
    db: &mut u64,
    pending: &mut Pending,
    on: &mut impl FnMut(Event) -> Result<(), String>,
) -> Result<Step, String> {
    let mut r = Reader::new(&mut *t);
    let d = |e: RdbError| describe(&e);
    let op = r.read_u8().map_err(d)?;
    match op {
        OP_EOF => return Ok(Step::End),
        OP_EXPIRETIME_MS => {
            let b = read_fixed::<_, 8>(&mut r)?;
            pending.expire_at_ms = Some(i64::from_le_bytes(b));
        }
        OP_EXPIRETIME => {
            let b = read_fixed::<_, 4>(&mut r)?;
            pending.expire_at_ms = Some(i64::from(i32::from_le_bytes(b)) * 1000);
        }
        OP_IDLE => pending.idle_s = Some(r.read_len().map_err(d)?),
        OP_FREQ => pending.freq = Some(r.read_u8().map_err(d)?),
        OP_SELECTDB => *db = r.read_len().map_err(d)?,
        OP_RESIZEDB => {
            // Sizing hints: read and ignored (never allocate from an unverified count).
            r.read_len().map_err(d)?;
            r.read_len().map_err(d)?;
        }
        OP_AUX => {
            let key = r.read_string().map_err(d)?.into_bytes();
            let value = r.read_string().map_err(d)?.into_bytes();
            on(Event::Aux(key, value))?;
        }
        OP_MODULE_AUX => {
            return Err(
                "The RDB file contains module auxiliary data (opcode 247); fastkv has no module support and cannot load it".into(),
            )
        }
        OP_FUNCTION2 | OP_FUNCTION_PRE_GA => {
            return Err(format!(
                "The RDB file contains Redis functions (opcode {op}); fastkv does not support functions: remove them in Redis with FUNCTION FLUSH, SAVE again, then load"
            ))
        }
        ty => {
            let key = match r.read_string().map_err(d)? {
                RdbString::Int(n) => n.to_string().into_bytes(),
                RdbString::Bytes(b) => b,
            };
            let value = read_body(&mut r, ty).map_err(|e| match e {
                RdbError::UnknownType(t) => unsupported_type(t, &key),
                other => format!(
                    "reading key '{}' in DB {db}: {}",
                    crate::dispatch::truncate_lossy(&key, 128),
                    describe(&other)
                ),
            })?;
            let p = std::mem::take(pending);
            on(Event::Key(LoadedKey {
                db: *db,
                key,
                value,
                expire_at_ms: p.expire_at_ms,
                idle_s: p.idle_s,
                freq: p.freq,
            }))?;
        }
    }
    Ok(Step::Continue)
}

fn read_fixed<R: Read, const N: usize>(r: &mut Reader<R>) -> Result<[u8; N], String> {
    let v = r.read_bytes(N as u64).map_err(|e| describe(&e))?;
    let mut out = [0u8; N];
    if v.len() != N {
        return Err(describe(&RdbError::Truncated));
    }
    out.copy_from_slice(&v);
    Ok(out)
}

fn describe(e: &RdbError) -> String {
    match e {
        RdbError::Truncated => "Unexpected EOF reading RDB file (truncated?)".into(),
        other => other.to_string(),
    }
}

/// The message for a value type this build cannot load: named when Redis defines it.
fn unsupported_type(ty: u8, key: &[u8]) -> String {
    let name = match ty {
        1 => "list",
        2 => "set",
        3 | 5 => "sorted set",
        4 => "hash",
        6 | 7 => "module value",
        9 => "hash (zipmap)",
        10 => "list (ziplist)",
        11 => "set (intset)",
        12 => "sorted set (ziplist)",
        13 => "hash (ziplist)",
        14 | 18 => "list (quicklist)",
        15 | 19 => "stream",
        16 => "hash (listpack)",
        17 => "sorted set (listpack)",
        20 => "set (listpack)",
        _ => {
            return format!(
            "Unknown RDB value type {ty} for key '{}' (corrupt file, or written by a newer Redis)",
            crate::dispatch::truncate_lossy(key, 128)
        )
        }
    };
    format!(
        "key '{}' holds a {name} (RDB value type {ty}), which this build of fastkv cannot load",
        crate::dispatch::truncate_lossy(key, 128)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::{Entry, Keyspace};
    use crate::types::Str;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .filter_map(|i| s.get(i..i + 2))
            .map(|b| u8::from_str_radix(b, 16).unwrap_or_else(|e| panic!("{e}")))
            .collect()
    }

    fn read_all(bytes: &[u8]) -> Result<(Summary, Vec<Event>), LoadError> {
        let mut events = Vec::new();
        let summary = read_rdb(bytes, |e| {
            events.push(e);
            Ok(())
        })?;
        Ok((summary, events))
    }

    fn keys(events: &[Event]) -> Vec<(u64, String, String, Option<i64>)> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Key(k) => Some((
                    k.db,
                    String::from_utf8_lossy(&k.key).into_owned(),
                    k.value
                        .as_str()
                        .map(|s| String::from_utf8_lossy(&s.to_vec()).into_owned())
                        .unwrap_or_default(),
                    k.expire_at_ms,
                )),
                Event::Aux(..) => None,
            })
            .collect()
    }

    fn str_value(s: &str) -> Value {
        Value::Str(Str::from_vec(s.as_bytes().to_vec()))
    }

    /// A small file written the way SAVE writes it: two databases, deadlines, an int value.
    fn sample() -> Vec<u8> {
        let ks = Keyspace::new(16, 2);
        {
            let mut l = ks.lock_all();
            l.insert_entry(0, b"a", Entry::new(Value::Str(Str::Int(1))), 1);
            l.insert_entry(
                0,
                b"b",
                Entry::with_expire(str_value("hello"), 9_000_000_000_000),
                1,
            );
            l.insert_entry(0, b"gone", Entry::with_expire(str_value("x"), 5), 1);
            l.insert_entry(3, b"c", Entry::new(str_value("3000000000")), 1);
        }
        let mut out = begin(&Header {
            ctime_s: 1_700_000_000,
            used_mem: 1_000_000,
        });
        let n = write_dbs(&mut out, &mut ks.lock_all(), 10);
        assert_eq!(n, 3, "the key expired at write time is left out");
        finish(out)
    }

    #[test]
    fn round_trip() {
        let bytes = sample();
        assert!(bytes.starts_with(b"REDIS0010\xfa\x09redis-ver\x067.0.15"));
        let (summary, events) = read_all(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            summary,
            Summary {
                version: 10,
                checksum: Checksum::Verified
            }
        );
        let mut got = keys(&events);
        got.sort();
        assert_eq!(
            got,
            vec![
                (0, "a".into(), "1".into(), None),
                (0, "b".into(), "hello".into(), Some(9_000_000_000_000)),
                (3, "c".into(), "3000000000".into(), None),
            ]
        );
        let aux: Vec<String> = events
            .iter()
            .filter_map(|e| match e {
                Event::Aux(k, v) => Some(format!(
                    "{}={}",
                    String::from_utf8_lossy(k),
                    String::from_utf8_lossy(v)
                )),
                Event::Key(_) => None,
            })
            .collect();
        assert_eq!(
            aux,
            [
                "redis-ver=7.0.15",
                "redis-bits=64",
                "ctime=1700000000",
                "used-mem=1000000",
                "aof-base=0"
            ]
        );
    }

    /// `SET a 1; SET b hello PX 100000000; SELECT 3; SET c 3000000000; SAVE` on redis-server
    /// 7.0.15 (`xxd dump.rdb`).
    const REDIS_FILE: &str =
        "524544495330303130fa0972656469732d76657206372e302e3135fa0a72656469732d62697473c040fa0563\
        74696d65c246a5076bfa08757365642d6d656dc2a0d70f00fa08616f662d62617365c000fe00fb0201000161\
        c001fc507cd31ba20100000001620568656c6c6ffe03fb01000001630a33303030303030303030ffd990bf7d\
        8cae5cb1";

    fn redis_file() -> Vec<u8> {
        hex(REDIS_FILE)
    }

    #[test]
    fn reads_a_redis_file() {
        let (summary, events) = read_all(&redis_file()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(summary.checksum, Checksum::Verified);
        assert_eq!(
            keys(&events),
            vec![
                (0, "a".into(), "1".into(), None),
                (0, "b".into(), "hello".into(), Some(1_795_763_174_480)),
                (3, "c".into(), "3000000000".into(), None),
            ]
        );
    }

    #[test]
    fn every_truncation_is_an_error() {
        for bytes in [sample(), redis_file()] {
            for cut in 0..bytes.len() {
                let err = read_all(&bytes[..cut]).err();
                let Some(err) = err else {
                    panic!("a file cut at {cut} loaded")
                };
                assert_eq!(err.offset, cut as u64, "{err}");
            }
        }
    }

    #[test]
    fn every_flipped_byte_is_an_error() {
        let bytes = sample();
        for i in 0..bytes.len() {
            for bit in [0x01u8, 0x80] {
                let mut bad = bytes.clone();
                if let Some(b) = bad.get_mut(i) {
                    *b ^= bit;
                }
                assert!(read_all(&bad).is_err(), "flip {bit:#x} at {i} loaded");
            }
        }
        // A flip inside a value's bytes decodes fine and only the checksum catches it.
        let at = bytes
            .windows(5)
            .position(|w| w == b"hello")
            .unwrap_or_else(|| panic!("no value bytes"));
        let mut bad = bytes.clone();
        if let Some(b) = bad.get_mut(at) {
            *b ^= 0x20;
        }
        let err = read_all(&bad).err().map(|e| e.reason).unwrap_or_default();
        assert!(err.starts_with("Wrong RDB checksum"), "{err}");
    }

    #[test]
    fn checksum_zero_means_disabled() {
        let mut bytes = sample();
        let n = bytes.len();
        bytes.truncate(n - 8);
        bytes.extend_from_slice(&[0; 8]);
        assert_eq!(
            read_all(&bytes).map(|(s, _)| s.checksum),
            Ok(Checksum::Disabled)
        );
    }

    fn with_trailer(mut body: Vec<u8>) -> Vec<u8> {
        let crc = crc64(0, &body);
        body.extend_from_slice(&crc.to_le_bytes());
        body
    }

    #[test]
    fn versions_and_signatures() {
        let e = read_all(b"REDIS0011\xff\0\0\0\0\0\0\0\0").err();
        assert!(e.is_some_and(|e| e.reason.starts_with("Can't handle RDB format version 11")));
        let e = read_all(b"REDIS0000\xff").err();
        assert!(e.is_some_and(|e| e.reason.starts_with("Can't handle RDB format version 0")));
        let e = read_all(b"REDIX0010\xff").err();
        assert!(e.is_some_and(|e| e.reason == "Wrong signature trying to load DB from file"));
        // Version 3 (no checksum) with an old seconds deadline.
        let mut old = b"REDIS0003\xfe\x00\xfd".to_vec();
        old.extend_from_slice(&2_000_000_000i32.to_le_bytes());
        old.extend_from_slice(b"\x00\x01k\x01v\xff");
        let (summary, events) = read_all(&old).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(summary.checksum, Checksum::Absent);
        assert_eq!(
            keys(&events),
            vec![(0, "k".into(), "v".into(), Some(2_000_000_000_000))]
        );
        // IDLE and FREQ attach to the next key.
        let f = with_trailer(b"REDIS0009\xf8\x05\xf9\x07\x00\x01k\x01v\xff".to_vec());
        let (_, events) = read_all(&f).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            events.first(),
            Some(Event::Key(LoadedKey {
                idle_s: Some(5),
                freq: Some(7),
                ..
            }))
        ));
    }

    #[test]
    fn refused_features_say_why() {
        for (body, want) in [
            (&b"REDIS0010\xf7\x01"[..], "module auxiliary data"),
            (b"REDIS0010\xf5\x03abc", "Redis functions"),
            (b"REDIS0010\x07\x01k", "module value"),
            (b"REDIS0010\x63\x01k", "Unknown RDB value type 99"),
        ] {
            let e = read_all(&with_trailer(body.to_vec()))
                .err()
                .map(|e| e.reason)
                .unwrap_or_default();
            assert!(e.contains(want), "{e}");
        }
        // A lying string length runs out of input, it is not allocated.
        let e = read_all(b"REDIS0010\x00\x81\xff\xff\xff\xff\xff\xff\xff\xff").err();
        assert!(e.is_some());
        // The callback's refusal stops the read with its reason.
        let e = read_rdb(&sample()[..], |ev| match ev {
            Event::Key(_) => Err("no thanks".to_string()),
            Event::Aux(..) => Ok(()),
        })
        .err();
        assert!(e.is_some_and(|e| e.reason == "no thanks"));
    }

    #[test]
    fn atomic_write_replaces_the_file() {
        let dir = std::env::temp_dir().join(format!("fastkv-rdb-file-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let bytes = sample();
        assert_eq!(write_atomically(&dir, "x.rdb", b"old"), Ok(()));
        assert_eq!(write_atomically(&dir, "x.rdb", &bytes), Ok(()));
        assert_eq!(std::fs::read(dir.join("x.rdb")).ok(), Some(bytes));
        assert!(!dir.join(temp_name()).exists());
        let missing = dir.join("missing");
        let e = write_atomically(&missing, "x.rdb", b"x")
            .err()
            .unwrap_or_default();
        assert!(
            e.starts_with("Failed opening the temp RDB file temp-")
                && e.ends_with("for saving: No such file or directory"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
