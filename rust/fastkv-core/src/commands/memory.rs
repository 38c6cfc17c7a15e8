//! MEMORY: USAGE, STATS, DOCTOR, PURGE, MALLOC-STATS, HELP — Redis 7.0's reply shapes and
//! texts, over the figures of [`crate::memory`] (the counting allocator).
//!
//! [`overhead`] is shared with INFO memory: the engine's own costs (memory in use at start-up
//! plus the keyspace tables' bucket arrays and node headers), from which the dataset figure is
//! derived as Redis derives it (`used - overhead`).

use crate::command::{keys, Args, CommandSpec, ALL_KEYS, NO_KEYS, READONLY};
use crate::dict::Dict;
use crate::dispatch::Ctx;
use crate::error::OpError;
use crate::keyspace::Entry;
use crate::memory;
use crate::types::string::INLINE_MAX;
use crate::types::{Str, Value};
use fastkv_resp::Frame;
use std::sync::atomic::Ordering;

/// Redis's MEMORY DOCTOR threshold for "too little data to judge" (`5 MB`).
const DOCTOR_EMPTY_BYTES: u64 = 5 * 1024 * 1024;
/// Redis's MEMORY DOCTOR thresholds: peak over 150% of now; RSS over 1.4x used and 10 MB more.
const DOCTOR_BIG_PEAK: f64 = 1.5;
const DOCTOR_HIGH_FRAG: f64 = 1.4;
const DOCTOR_HIGH_FRAG_BYTES: u64 = 10 << 20;

/// The engine's memory figures (Redis's `redisMemOverhead`).
pub struct Overhead {
    pub used: u64,
    pub peak: u64,
    pub startup: u64,
    /// Keyspace tables per database that has keys: (db, bytes).
    pub dbs: Vec<(usize, u64)>,
    /// startup + tables.
    pub total: u64,
    pub keys: u64,
    pub rss: Option<u64>,
}

impl Overhead {
    pub fn dataset(&self) -> u64 {
        self.used.saturating_sub(self.total)
    }

    /// Memory added since start-up (Redis's `net_usage`).
    pub fn net(&self) -> u64 {
        self.used.saturating_sub(self.startup)
    }

    pub fn dataset_perc(&self) -> f64 {
        percent(self.dataset(), self.net())
    }

    pub fn peak_perc(&self) -> f64 {
        percent(self.used, self.peak)
    }

    /// `mem_fragmentation_ratio` and `_bytes`: RSS against used memory. Only meaningful when
    /// `used` is the allocator's count (not the RSS fallback).
    pub fn fragmentation(&self) -> Option<(f64, i64)> {
        let rss = self.rss?;
        if !memory::is_counting() || self.used == 0 {
            return None;
        }
        Some((rss as f64 / self.used as f64, rss as i64 - self.used as i64))
    }
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// Computes the figures. Reads every held shard: call with every shard locked (INFO, MEMORY
/// STATS/DOCTOR are `ALL_KEYS`).
pub fn overhead(ctx: &mut Ctx<'_, '_>) -> Overhead {
    let dbs_n = ctx.engine.keyspace.databases();
    let mut tables = vec![0u64; dbs_n];
    let mut keys = vec![0u64; dbs_n];
    for (_, shard) in ctx.ks.shards_mut() {
        for (i, d) in shard.dbs.iter().enumerate() {
            if let (Some(t), Some(k)) = (tables.get_mut(i), keys.get_mut(i)) {
                *t += d.dict.overhead_bytes() as u64;
                *k += d.dict.len() as u64;
            }
        }
    }
    let used = memory::used_memory();
    let startup = ctx.engine.evict.startup.load(Ordering::Relaxed);
    let dbs: Vec<(usize, u64)> = tables
        .iter()
        .zip(&keys)
        .enumerate()
        .filter(|(_, (_, k))| **k > 0)
        .map(|(i, (t, _))| (i, *t))
        .collect();
    let total = startup + dbs.iter().map(|(_, t)| t).sum::<u64>();
    Overhead {
        used,
        peak: memory::peak_memory(),
        startup,
        dbs,
        total,
        keys: keys.iter().sum(),
        rss: memory::rss(),
    }
}

/// `MEMORY USAGE key [SAMPLES count]` — the bytes `key` costs: its value's heap data, the key's
/// allocation (none when inline in the node), its table node and bucket slot; null if the key
/// does not exist.
///
/// The value is measured, not estimated: it is cloned under the counting allocator and the
/// bytes the clone allocated are counted (plus a string's spare capacity, which a clone does
/// not copy). That is exact for the value's layout, at O(n) in its elements: SAMPLES is
/// validated as Redis does but every element is counted. Without the counting allocator (a
/// program that did not install it) the value's bytes are its payload length.
fn cmd_memory_usage(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    while !args.is_empty() {
        if args.eat("SAMPLES") && !args.is_empty() {
            let n = args.next_i64()?;
            if n < 0 {
                return Err(OpError::Syntax);
            }
        } else {
            return Err(OpError::Syntax);
        }
    }
    let (db, now) = (ctx.db(), ctx.now);
    let Some(e) = ctx.ks.get(db, key, now) else {
        return Ok(Frame::Null);
    };
    let value = value_bytes(&e.value);
    // A short key lives inside the node; a longer one has a block of its own.
    let key_bytes = if key.len() <= INLINE_MAX {
        0
    } else {
        alloc_size(key.len())
    };
    // The node sits in its table's slab (no block of its own), reached from a u32 bucket.
    let node = Dict::<Entry>::node_size() as u64;
    let slot = Dict::<Entry>::bucket_size() as u64;
    Ok(Frame::Integer(
        (value + key_bytes + node + slot)
            .try_into()
            .unwrap_or(i64::MAX),
    ))
}

/// The heap bytes of a value (see [`cmd_memory_usage`]).
pub fn value_bytes(v: &Value) -> u64 {
    let spare = match v {
        Value::Str(Str::Raw(b)) => b.capacity() - b.len(),
        _ => 0,
    } as u64;
    match memory::measure(|| v.clone()) {
        (_, Some(n)) => n.max(0) as u64 + spare,
        (_, None) => match v {
            Value::Str(Str::Int(_)) => 0,
            Value::Str(Str::Raw(b)) => b.capacity() as u64,
            Value::Str(s) => s.len() as u64,
            _ => 0,
        },
    }
}

/// What the allocator hands out for a request of `n` bytes (0 for 0).
fn alloc_size(n: usize) -> u64 {
    if n == 0 {
        return 0;
    }
    match memory::measure(|| vec![0u8; n].into_boxed_slice()) {
        (_, Some(m)) => m.max(0) as u64,
        (_, None) => n as u64,
    }
}

/// `MEMORY STATS` — Redis's map of memory figures. Fields fastkv cannot measure (script
/// caches, the allocator's own figures: see [`crate::memory`]) are left out; those that are
/// truly zero here (no replication backlog, replicas, cluster links, AOF buffer) are kept.
fn cmd_memory_stats(ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    let o = overhead(ctx);
    let int = |n: u64| Frame::Integer(n.try_into().unwrap_or(i64::MAX));
    let mut m: Vec<(Frame, Frame)> = vec![
        (Frame::bulk("peak.allocated"), int(o.peak)),
        (Frame::bulk("total.allocated"), int(o.used)),
        (Frame::bulk("startup.allocated"), int(o.startup)),
        (Frame::bulk("replication.backlog"), int(0)),
        (Frame::bulk("clients.slaves"), int(0)),
        (
            Frame::bulk("clients.normal"),
            int(ctx.engine.client_memory()),
        ),
        (Frame::bulk("cluster.links"), int(0)),
        (Frame::bulk("aof.buffer"), int(0)),
    ];
    for (db, bytes) in &o.dbs {
        m.push((
            Frame::bulk(format!("db.{db}")),
            Frame::Map(vec![
                (Frame::bulk("overhead.hashtable.main"), int(*bytes)),
                (Frame::bulk("overhead.hashtable.expires"), int(0)),
                // Redis 7.0 lists it outside cluster mode too, as 0 (there is no cluster).
                (Frame::bulk("overhead.hashtable.slot-to-keys"), int(0)),
            ]),
        ));
    }
    let per_key = o.net().checked_div(o.keys).unwrap_or(0);
    m.extend([
        (Frame::bulk("overhead.total"), int(o.total)),
        (Frame::bulk("keys.count"), int(o.keys)),
        (Frame::bulk("keys.bytes-per-key"), int(per_key)),
        (Frame::bulk("dataset.bytes"), int(o.dataset())),
        (
            Frame::bulk("dataset.percentage"),
            Frame::Double(o.dataset_perc()),
        ),
        (Frame::bulk("peak.percentage"), Frame::Double(o.peak_perc())),
    ]);
    if let Some((ratio, bytes)) = o.fragmentation() {
        m.push((Frame::bulk("fragmentation"), Frame::Double(ratio)));
        m.push((Frame::bulk("fragmentation.bytes"), Frame::Integer(bytes)));
    }
    Ok(Frame::Map(m))
}

/// `MEMORY DOCTOR` — Redis's report (its texts), from the checks that apply here: a peak well
/// above current use, and RSS much larger than the allocated bytes.
fn cmd_memory_doctor(ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    let o = overhead(ctx);
    let text = doctor_report(&o);
    Ok(Frame::Verbatim {
        format: *b"txt",
        text: text.into_bytes(),
    })
}

fn doctor_report(o: &Overhead) -> String {
    let mut reports = 0;
    let mut empty = false;
    let mut big_peak = false;
    let mut high_frag = false;
    if o.used < DOCTOR_EMPTY_BYTES {
        empty = true;
        reports += 1;
    } else {
        if o.peak as f64 / o.used as f64 > DOCTOR_BIG_PEAK {
            big_peak = true;
            reports += 1;
        }
        if let Some((ratio, bytes)) = o.fragmentation() {
            if ratio > DOCTOR_HIGH_FRAG && bytes > DOCTOR_HIGH_FRAG_BYTES as i64 {
                high_frag = true;
                reports += 1;
            }
        }
    }
    if reports == 0 {
        return "Hi Sam, I can't find any memory issue in your instance. I can only account for \
                what occurs on this base.\n"
            .into();
    }
    if empty {
        return "Hi Sam, this instance is empty or is using very little memory, my issues \
                detector can't be used in these conditions. Please, leave for your mission on \
                Earth and fill it with some data. The new Sam and I will be back to our \
                programming as soon as I finished rebooting.\n"
            .into();
    }
    let mut s =
        String::from("Sam, I detected a few issues in this Redis instance memory implants:\n\n");
    if big_peak {
        s.push_str(" * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n");
    }
    if high_frag {
        s.push_str(&format!(" * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"{}\".\n\n", memory::ALLOCATOR_NAME));
    }
    s.push_str("I'm here to keep you safe, Sam. I want to help you.\n");
    s
}

/// `MEMORY PURGE` — returns free heap pages to the system (glibc's `malloc_trim`).
fn cmd_memory_purge(_ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    memory::purge();
    Ok(Frame::OK)
}

/// `MEMORY MALLOC-STATS` — Redis's answer for allocators without a stats report.
fn cmd_memory_malloc_stats(_ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    Ok(Frame::bulk("Stats not supported for the current allocator"))
}

/// `MEMORY HELP`
fn cmd_memory_help(_ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    const LINES: &[&str] = &[
        "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR",
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
        "HELP",
        "    Prints this help.",
    ];
    Ok(Frame::Array(
        LINES.iter().map(|l| Frame::simple(l)).collect(),
    ))
}

/// The container's handler never runs: MEMORY's arity requires a subcommand.
fn cmd_memory(_ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    Err(OpError::Arity("memory".into()))
}

const MEMORY_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("memory|doctor", 2, ALL_KEYS, NO_KEYS, cmd_memory_doctor).doc(
        "server",
        "4.0.0",
        "Outputs a memory problems report.",
    ),
    CommandSpec::new("memory|help", 2, LOADING_STALE, NO_KEYS, cmd_memory_help).doc(
        "server",
        "4.0.0",
        "Returns helpful text about the different subcommands.",
    ),
    CommandSpec::new(
        "memory|malloc-stats",
        2,
        0,
        NO_KEYS,
        cmd_memory_malloc_stats,
    )
    .doc("server", "4.0.0", "Returns the allocator statistics."),
    CommandSpec::new("memory|purge", 2, 0, NO_KEYS, cmd_memory_purge).doc(
        "server",
        "4.0.0",
        "Asks the allocator to release memory.",
    ),
    CommandSpec::new("memory|stats", 2, ALL_KEYS, NO_KEYS, cmd_memory_stats).doc(
        "server",
        "4.0.0",
        "Returns details about memory usage.",
    ),
    CommandSpec::new(
        "memory|usage",
        -3,
        READONLY,
        keys(2, 2, 1),
        cmd_memory_usage,
    )
    .doc("server", "4.0.0", "Estimates the memory usage of a key."),
];

/// MEMORY HELP is allowed while loading and on stale replicas, as in Redis.
const LOADING_STALE: u32 = crate::command::LOADING | crate::command::STALE;

pub(crate) const COMMANDS: &[CommandSpec] =
    &[CommandSpec::new("memory", -2, 0, NO_KEYS, cmd_memory)
        .subcommands(MEMORY_SUBCOMMANDS)
        .doc(
            "server",
            "4.0.0",
            "A container for memory diagnostics commands.",
        )];

#[cfg(test)]
mod tests {
    use crate::testing::{err, Session};
    use crate::Frame;

    fn int(f: Frame) -> i64 {
        match f {
            Frame::Integer(n) => n,
            f => panic!("not an integer: {f:?}"),
        }
    }

    #[test]
    fn usage_counts_the_value() {
        let mut s = Session::new();
        s.run(&["SET", "small", "v"]);
        s.run(&["SET", "big", &"x".repeat(10_000)]);
        let small = int(s.run(&["MEMORY", "USAGE", "small"]));
        let big = int(s.run(&["MEMORY", "USAGE", "big"]));
        assert!((40..200).contains(&small), "{small}");
        assert!((10_000..10_300).contains(&big), "{big}");
        assert_eq!(s.run(&["MEMORY", "USAGE", "nokey"]), Frame::Null);
        // SAMPLES changes nothing for a string; the figure is measured again, and glibc may
        // hand the copy a block of another usable size (seen: 16 bytes apart).
        let again = int(s.run(&["MEMORY", "USAGE", "big", "SAMPLES", "0"]));
        assert!(again.abs_diff(big) <= 64, "{again} vs {big}");
        assert_eq!(
            s.run(&["MEMORY", "USAGE", "big", "SAMPLES", "-1"]),
            err("ERR syntax error")
        );
        assert_eq!(
            s.run(&["MEMORY", "USAGE", "big", "SAMPLES", "x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            s.run(&["MEMORY", "USAGE", "big", "bar"]),
            err("ERR syntax error")
        );
        for i in 0..100 {
            s.run(&["HSET", "h", &format!("f{i}"), &"v".repeat(50)]);
        }
        assert!(int(s.run(&["MEMORY", "USAGE", "h"])) > 100 * 50);
    }

    #[test]
    fn other_subcommands() {
        let mut s = Session::new();
        assert_eq!(s.run(&["MEMORY", "PURGE"]), Frame::OK);
        assert_eq!(
            s.run(&["MEMORY", "FOO"]),
            err("ERR unknown subcommand 'FOO'. Try MEMORY HELP.")
        );
        assert_eq!(
            s.run(&["MEMORY"]),
            err("ERR wrong number of arguments for 'memory' command")
        );
        match s.run(&["MEMORY", "HELP"]) {
            Frame::Array(v) => assert_eq!(v.len(), 14),
            f => panic!("{f:?}"),
        }
        s.run(&["SET", "a", "1"]);
        match s.run(&["MEMORY", "STATS"]) {
            Frame::Map(m) => {
                let names: Vec<String> = m
                    .iter()
                    .filter_map(|(k, _)| match k {
                        Frame::Bulk(b) => Some(String::from_utf8_lossy(b).into_owned()),
                        _ => None,
                    })
                    .collect();
                assert_eq!(names.first().map(String::as_str), Some("peak.allocated"));
                assert!(names.contains(&"db.0".to_string()), "{names:?}");
                assert!(names.contains(&"keys.count".to_string()));
            }
            f => panic!("{f:?}"),
        }
        match s.run(&["MEMORY", "DOCTOR"]) {
            Frame::Verbatim { text, .. } => {
                assert!(text.starts_with(b"Hi Sam") || text.starts_with(b"Sam"))
            }
            f => panic!("{f:?}"),
        }
    }
}
