//! Persistence commands (SAVE, LASTSAVE) and the engine-level save and load they share with
//! SHUTDOWN, the server's signal handling and start-up.
//!
//! [`save`] takes every shard lock, serializes the whole keyspace into memory through
//! [`rdb::file`], releases the locks, then writes the file (temp file, fsync, rename, directory
//! fsync) — the server is stalled only while the bytes are built, never during disk I/O. One
//! save runs at a time (they share the temp file name); a second waits for the first.
//!
//! Why SAVE locks by itself, against the rule that handlers never lock: the same function serves
//! SHUTDOWN and the signal path, which run outside any command, and SAVE is flagged `no-multi`
//! and `noscript` (as in Redis), so it never runs inside EXEC or a script that already holds the
//! shards. Its row names no keys, so the dispatcher locks nothing for it.
//!
//! BGSAVE is deliberately absent: without fork, a background save that does not stall writers
//! needs copy-on-write of the values touched during the save (see DESIGN.md), which is a change
//! to the keyspace, not to this module. The `save <seconds> <changes>` points are therefore not
//! acted on while running either (they would stall the server like SAVE); they only decide
//! whether SHUTDOWN and SIGTERM save, as in Redis.
//!
//! Logs go through [`Persistence::set_logger`], which the server connects to its log; the
//! embedded engine has none and stays quiet.

use crate::command::{Args, CommandSpec, ACL_ADMIN, ACL_DANGEROUS, ADMIN, FAST, LOADING};
use crate::command::{NONDETERMINISTIC, NOSCRIPT, NO_KEYS, NO_MULTI, STALE};
use crate::config::Config;
use crate::dispatch::Ctx;
use crate::engine::Engine;
use crate::error::OpError;
use crate::keyspace::Entry;
use crate::rdb::file::{self, Event, Header};
use fastkv_resp::Frame;
use parking_lot::{Mutex, RwLock};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// How loud a persistence log line is (Redis's `*` notice and `#` warning).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Notice,
    Warning,
}

/// Where persistence writes its log lines.
pub type LogFn = Arc<dyn Fn(Severity, &str) + Send + Sync>;

/// The engine's persistence state (INFO persistence, LASTSAVE).
#[derive(Default)]
pub struct Persistence {
    /// Held for the whole of a save: saves share the temp file name.
    save_lock: Mutex<()>,
    /// Unix time of the last successful save; 0 = none yet (LASTSAVE then says the start time).
    last_save_s: AtomicU64,
    /// Save attempts (INFO `rdb_saves`; Redis counts failed attempts too).
    saves: AtomicU64,
    /// Keys loaded / skipped as expired by the last load.
    pub last_load_keys_loaded: AtomicU64,
    pub last_load_keys_expired: AtomicU64,
    logger: RwLock<Option<LogFn>>,
}

impl Persistence {
    /// Sends persistence log lines to `f` from now on.
    pub fn set_logger(&self, f: LogFn) {
        *self.logger.write() = Some(f);
    }

    fn log(&self, severity: Severity, msg: &str) {
        let f = self.logger.read().clone();
        if let Some(f) = f {
            f(severity, msg);
        }
    }

    /// Unix time of the last successful save, 0 if none.
    pub fn last_save_s(&self) -> u64 {
        self.last_save_s.load(Ordering::Relaxed)
    }

    pub fn saves(&self) -> u64 {
        self.saves.load(Ordering::Relaxed)
    }
}

/// LASTSAVE's answer: the last successful save, or the start time before any.
pub fn last_save_time(engine: &Engine) -> u64 {
    match engine.persistence.last_save_s() {
        0 => engine.start_ms / 1000,
        t => t,
    }
}

/// The dump file's directory and name, from `dir` and `dbfilename`.
pub fn rdb_location(config: &Config) -> (PathBuf, String) {
    let dir = if config.dir.is_empty() {
        PathBuf::from(".")
    } else {
        PathBuf::from(&config.dir)
    };
    let name = if config.dbfilename.is_empty() {
        "dump.rdb".to_string()
    } else {
        config.dbfilename.clone()
    };
    (dir, name)
}

/// What one save did.
#[derive(Debug, Clone, Copy)]
pub struct SaveStats {
    pub keys: u64,
    pub bytes: usize,
    /// How long every shard was locked.
    pub locked: std::time::Duration,
}

/// Writes the whole keyspace to `dir/dbfilename` (SAVE). On success the dirty counter drops by
/// the changes the snapshot covers and the last-save time moves; failures are logged with
/// Redis's texts and returned.
pub fn save(engine: &Engine) -> Result<SaveStats, String> {
    let p = &engine.persistence;
    let _one_at_a_time = p.save_lock.lock();
    p.saves.fetch_add(1, Ordering::Relaxed);
    let (dir, name) = rdb_location(&engine.config.read());
    let now = crate::time::now_ms();
    let mut out = file::begin(&Header {
        ctime_s: now / 1000,
        used_mem: resident_bytes(),
    });
    let started = Instant::now();
    let (keys, dirty_covered) = {
        let mut ks = engine.keyspace.lock_all();
        // Writers add to `dirty` before releasing their shards, so this is exactly the count
        // of changes the snapshot contains.
        let dirty = engine.stats.dirty.load(Ordering::SeqCst);
        (file::write_dbs(&mut out, &mut ks, now), dirty)
    };
    let locked = started.elapsed();
    let bytes = file::finish(out);
    if let Err(e) = file::write_atomically(&dir, &name, &bytes) {
        p.log(Severity::Warning, &e);
        return Err(e);
    }
    let _ = engine
        .stats
        .dirty
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |d| {
            Some(d.saturating_sub(dirty_covered))
        });
    p.last_save_s.store(now / 1000, Ordering::Relaxed);
    p.log(Severity::Notice, "DB saved on disk");
    Ok(SaveStats {
        keys,
        bytes: bytes.len(),
        locked,
    })
}

/// The process's resident set size (the `used-mem` AUX field) until a counting allocator
/// gives the true figure; 0 where `/proc` is unreadable.
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// What a load did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadStats {
    pub loaded: u64,
    pub expired: u64,
}

/// Loads `dir/dbfilename` into the (empty) keyspace at start-up, if the file exists. Logs as
/// Redis does; a file that does not load is an error naming the file and the offset.
pub fn load_at_startup(engine: &Engine) -> Result<Option<LoadStats>, String> {
    let (dir, name) = rdb_location(&engine.config.read());
    load_file(engine, &dir.join(name))
}

/// Loads an RDB file into the keyspace. `Ok(None)`: there is no such file.
pub fn load_file(engine: &Engine, path: &Path) -> Result<Option<LoadStats>, String> {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(format!(
                "Fatal error loading the DB from {}: {e}. Exiting.",
                path.display()
            ))
        }
    };
    let started = Instant::now();
    let config = engine.config.read().clone();
    let databases = engine.keyspace.databases();
    let now = crate::time::now_ms();
    let p = &engine.persistence;
    let mut stats = LoadStats {
        loaded: 0,
        expired: 0,
    };
    let read = {
        let mut ks = engine.keyspace.lock_all();
        file::read_rdb(std::io::BufReader::with_capacity(1 << 16, f), |ev| {
            match ev {
                Event::Aux(k, v) => log_aux(p, &k, &v, now),
                Event::Key(k) => {
                    let db = usize::try_from(k.db)
                        .ok()
                        .filter(|&d| d < databases)
                        .ok_or_else(|| format!("FATAL: Data file was created with a Redis server configured to handle more than {databases} databases"))?;
                    let deadline = match k.expire_at_ms {
                        // Expired keys are not loaded, as a master does.
                        Some(at) if at <= now as i64 => {
                            stats.expired += 1;
                            return Ok(());
                        }
                        Some(at) => at as u64,
                        None => 0,
                    };
                    let mut value = k.value;
                    value.fit_loaded_encoding(&config);
                    let mut entry = Entry::with_expire(value, deadline);
                    if let Some(idle) = k.idle_s {
                        entry.lru = crate::time::lru_from_idle_secs(idle, now);
                    }
                    if ks.insert_entry(db, &k.key, entry, now).is_some() {
                        return Err(format!(
                            "RDB has duplicated key '{}' in DB {db}",
                            crate::dispatch::truncate_lossy(&k.key, 128)
                        ));
                    }
                    stats.loaded += 1;
                }
            }
            Ok(())
        })
    };
    if let Err(e) = read {
        return Err(format!(
            "Error loading RDB file {}: {e}. Exiting.",
            path.display()
        ));
    }
    p.last_load_keys_loaded
        .store(stats.loaded, Ordering::Relaxed);
    p.last_load_keys_expired
        .store(stats.expired, Ordering::Relaxed);
    p.log(
        Severity::Notice,
        &format!(
            "Done loading RDB, keys loaded: {}, keys expired: {}.",
            stats.loaded, stats.expired
        ),
    );
    p.log(
        Severity::Notice,
        &format!(
            "DB loaded from disk: {:.3} seconds",
            started.elapsed().as_secs_f64()
        ),
    );
    Ok(Some(stats))
}

/// Whether a shutdown saves: SAVE / NOSAVE say so, otherwise only when `save` points are
/// configured (Redis's rule for SHUTDOWN without arguments, SIGTERM and SIGINT).
pub fn shutdown_saves(engine: &Engine, explicit: Option<bool>) -> bool {
    explicit.unwrap_or_else(|| !engine.config.read().save.is_empty())
}

/// The save before a shutdown, with Redis's log lines. Returns whether the shutdown may go on:
/// false when the save failed without `force` (with `force` a failure is only logged).
pub fn save_before_shutdown(engine: &Engine, force: bool) -> bool {
    let p = &engine.persistence;
    p.log(
        Severity::Notice,
        "Saving the final RDB snapshot before exiting.",
    );
    match save(engine) {
        Ok(_) => true,
        Err(_) if force => {
            p.log(
                Severity::Warning,
                "Error trying to save the DB. Exit anyway.",
            );
            true
        }
        Err(_) => {
            p.log(
                Severity::Warning,
                "Error trying to save the DB, can't exit.",
            );
            p.log(
                Severity::Warning,
                "Errors trying to shut down the server. Check the logs for more information.",
            );
            false
        }
    }
}

/// The start-up lines Redis logs for some AUX fields.
fn log_aux(p: &Persistence, key: &[u8], value: &[u8], now_ms: u64) {
    let text = String::from_utf8_lossy(value);
    let number = text.parse::<u64>().ok();
    match key {
        b"redis-ver" => p.log(
            Severity::Notice,
            &format!("Loading RDB produced by version {text}"),
        ),
        b"ctime" => {
            if let Some(ctime) = number {
                let age = (now_ms / 1000).saturating_sub(ctime);
                p.log(Severity::Notice, &format!("RDB age {age} seconds"));
            }
        }
        b"used-mem" => {
            if let Some(bytes) = number {
                p.log(
                    Severity::Notice,
                    &format!(
                        "RDB memory usage when created {:.2} Mb",
                        bytes as f64 / (1024.0 * 1024.0)
                    ),
                );
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

/// `SAVE` — writes the dump file synchronously; `OK`, or Redis's bare `ERR` when the save
/// failed (the reason is in the log).
fn cmd_save(ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    save(ctx.engine).map_err(|_| OpError::raw("ERR"))?;
    Ok(Frame::OK)
}

/// `LASTSAVE` — unix time of the last successful save (the start time before any).
fn cmd_lastsave(ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    Ok(Frame::Integer(last_save_time(ctx.engine) as i64))
}

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("save", 1, ADMIN | NOSCRIPT | NO_MULTI, NO_KEYS, cmd_save).doc(
        "server",
        "1.0.0",
        "Synchronously saves the database(s) to disk.",
    ),
    CommandSpec::new(
        "lastsave",
        1,
        LOADING | STALE | FAST | NONDETERMINISTIC,
        NO_KEYS,
        cmd_lastsave,
    )
    .acl(ACL_ADMIN | ACL_DANGEROUS)
    .doc(
        "server",
        "1.0.0",
        "Get the UNIX time stamp of the last successful save to disk",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;

    /// A session whose `dir` is a fresh temporary directory.
    fn session_in(tag: &str) -> (Session, PathBuf) {
        let dir = std::env::temp_dir().join(format!("fastkv-persist-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::create_dir_all(&dir);
        let s = Session::new();
        s.engine.config.write().dir = dir.to_string_lossy().into_owned();
        (s, dir)
    }

    #[test]
    fn save_then_load_in_a_fresh_engine() {
        let (mut s, dir) = session_in("roundtrip");
        assert_eq!(s.run(&["SET", "a", "1"]), Frame::OK);
        assert_eq!(s.run(&["SET", "b", "hello", "EX", "1000"]), Frame::OK);
        assert_eq!(s.run(&["SELECT", "5"]), Frame::OK);
        assert_eq!(s.run(&["SET", "c", "x"]), Frame::OK);
        assert_eq!(s.run(&["SET", "short", "x", "PX", "1"]), Frame::OK);
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(s.engine.stats.dirty.load(Ordering::Relaxed) >= 4);
        assert_eq!(s.run(&["SAVE"]), Frame::OK);
        assert_eq!(s.engine.stats.dirty.load(Ordering::Relaxed), 0);
        let saved = s.run(&["LASTSAVE"]);
        assert!(matches!(saved, Frame::Integer(t) if t as u64 >= s.engine.start_ms / 1000));
        assert!(dir.join("dump.rdb").exists());

        let mut t = Session::new();
        t.engine.config.write().dir = dir.to_string_lossy().into_owned();
        let stats = load_at_startup(&t.engine).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(stats.map(|s| s.loaded), Some(3));
        assert_eq!(t.run(&["GET", "a"]), bulk("1"));
        assert_eq!(t.run(&["OBJECT", "ENCODING", "a"]), bulk("int"));
        assert!(matches!(t.run(&["TTL", "b"]), Frame::Integer(n) if (990..=1000).contains(&n)));
        assert_eq!(t.run(&["DBSIZE"]), int(2));
        assert_eq!(t.run(&["SELECT", "5"]), Frame::OK);
        assert_eq!(t.run(&["GET", "c"]), bulk("x"));
        assert_eq!(t.run(&["DBSIZE"]), int(1));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn missing_file_loads_nothing_and_lastsave_is_start_time() {
        let (mut s, dir) = session_in("missing");
        assert_eq!(load_at_startup(&s.engine), Ok(None));
        assert_eq!(s.run(&["LASTSAVE"]), int((s.engine.start_ms / 1000) as i64));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn failed_save_is_bare_err_and_keeps_dirty() {
        let (mut s, dir) = session_in("fail");
        assert_eq!(s.run(&["SET", "a", "1"]), Frame::OK);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(s.run(&["SAVE"]), err("ERR"));
        assert_eq!(s.engine.stats.dirty.load(Ordering::Relaxed), 1);
        assert_eq!(s.engine.persistence.last_save_s(), 0);
        assert_eq!(s.engine.persistence.saves(), 1);
    }

    #[test]
    fn corrupt_files_name_the_file_and_offset() {
        let (mut s, dir) = session_in("corrupt");
        assert_eq!(s.run(&["SET", "a", "1"]), Frame::OK);
        assert_eq!(s.run(&["SAVE"]), Frame::OK);
        let path = dir.join("dump.rdb");
        let bytes = std::fs::read(&path).unwrap_or_default();
        let _ = std::fs::write(&path, &bytes[..bytes.len() - 3]);
        let t = Session::new();
        t.engine.config.write().dir = dir.to_string_lossy().into_owned();
        let e = load_at_startup(&t.engine).err().unwrap_or_default();
        assert!(
            e.contains(&path.display().to_string())
                && e.contains(&format!("at byte offset {}", bytes.len() - 3)),
            "{e}"
        );
        // Duplicate keys and too-high databases are refused too.
        let mut dup = file::begin(&Header {
            ctime_s: 0,
            used_mem: 0,
        });
        for _ in 0..2 {
            file::write_entry(
                &mut dup,
                b"k",
                &crate::types::Value::Str(crate::types::Str::Int(1)),
                None,
            );
        }
        let _ = std::fs::write(&path, file::finish(dup));
        let e = load_at_startup(&t.engine).err().unwrap_or_default();
        assert!(e.contains("duplicated key 'k' in DB 0"), "{e}");
        let mut far = file::begin(&Header {
            ctime_s: 0,
            used_mem: 0,
        });
        far.extend_from_slice(&[file::OP_SELECTDB, 20]);
        file::write_entry(
            &mut far,
            b"k",
            &crate::types::Value::Str(crate::types::Str::Int(1)),
            None,
        );
        let _ = std::fs::write(&path, file::finish(far));
        let u = Session::new();
        u.engine.config.write().dir = dir.to_string_lossy().into_owned();
        let e = load_at_startup(&u.engine).err().unwrap_or_default();
        assert!(e.contains("more than 16 databases"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn shutdown_saves_as_redis() {
        let (mut s, dir) = session_in("shutdown");
        s.engine.servers.store(1, Ordering::SeqCst);
        let dump = dir.join("dump.rdb");
        assert_eq!(s.run(&["SET", "a", "1"]), Frame::OK);
        // No argument and no save points: no file.
        assert_eq!(s.run(&["CONFIG", "SET", "save", ""]), Frame::OK);
        assert_eq!(s.run(&["SHUTDOWN"]), Frame::OK);
        assert!(!dump.exists());
        // No argument with save points, or SAVE: a file.
        assert_eq!(s.run(&["CONFIG", "SET", "save", "3600 1"]), Frame::OK);
        assert_eq!(s.run(&["SHUTDOWN"]), Frame::OK);
        assert!(dump.exists());
        let _ = std::fs::remove_file(&dump);
        assert_eq!(s.run(&["SHUTDOWN", "NOSAVE"]), Frame::OK);
        assert!(!dump.exists());
        assert_eq!(s.run(&["SHUTDOWN", "SAVE"]), Frame::OK);
        assert!(dump.exists());
        // A failed save aborts, unless FORCE.
        let _ = std::fs::remove_dir_all(&dir);
        s.engine.shutdown.reset();
        assert_eq!(
            s.run(&["SHUTDOWN", "SAVE"]),
            err("ERR Errors trying to SHUTDOWN. Check logs.")
        );
        assert!(!s.engine.shutdown.is_fired());
        assert_eq!(s.run(&["SHUTDOWN", "FORCE"]), Frame::OK);
        assert!(s.engine.shutdown.is_fired());
    }

    /// `cargo test -p fastkv-core stall_with_a_million_keys -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn stall_with_a_million_keys() {
        let (mut s, dir) = session_in("million");
        for i in 0..1_000_000 {
            let (k, v) = (format!("key:{i}"), format!("value:{i}"));
            if i % 10 == 0 {
                s.run(&["SET", &k, &v, "EX", "10000"]);
            } else {
                s.run(&["SET", &k, &v]);
            }
        }
        for _ in 0..3 {
            let t = Instant::now();
            let st = save(&s.engine).unwrap_or_else(|e| panic!("{e}"));
            eprintln!(
                "{} keys, {} bytes: shards locked {:?}, whole save {:?}",
                st.keys,
                st.bytes,
                st.locked,
                t.elapsed()
            );
        }
        let t = Instant::now();
        let fresh = Session::new();
        fresh.engine.config.write().dir = dir.to_string_lossy().into_owned();
        let loaded = load_at_startup(&fresh.engine).unwrap_or_else(|e| panic!("{e}"));
        eprintln!("load {:?}: {:?}", loaded, t.elapsed());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn commands_in_the_table() {
        let mut s = Session::new();
        assert_eq!(
            s.run(&["SAVE", "x"]),
            err("ERR wrong number of arguments for 'save' command")
        );
        assert_eq!(
            s.run(&["LASTSAVE", "x"]),
            err("ERR wrong number of arguments for 'lastsave' command")
        );
    }
}
