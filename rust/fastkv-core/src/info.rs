//! INFO's text: `# Section` blocks of `field:value` lines, each line ended by `\r\n`, blocks
//! separated by an empty line — Redis 7.0's layout and field names.
//!
//! Only true figures are reported: a field fastkv cannot measure yet is left out rather than
//! filled with a made-up value (a field that is truly constant here, like `loading:0` or
//! `role:master`, is kept). Process figures come from `/proc` (Linux); where it is unreadable
//! those fields are omitted. The keyspace section counts keys under the shard locks the
//! dispatcher took for INFO (the row is flagged `ALL_KEYS`).
//!
//! Memory: `used_memory` is counted by the global allocator (see [`crate::memory`]); the
//! overhead/dataset split is [`crate::commands::memory::overhead`]'s.

use crate::dispatch::Ctx;
use crate::engine::{Engine, FASTKV_VERSION, REDIS_VERSION};
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::fmt::{Display, Write as _};
use std::sync::atomic::Ordering;

/// Sections in output order, and which of them `INFO` / `INFO default` includes. `all` and
/// `everything` include every section (fastkv has no commandstats or latencystats yet, so they add
/// nothing beyond the defaults).
const SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "cluster",
    "keyspace",
];

/// Linux reports process times in `USER_HZ` ticks, which the kernel ABI fixes at 100.
const USER_HZ: f64 = 100.0;

/// The INFO reply text for the requested section names (no names = the defaults).
pub fn info_string(ctx: &mut Ctx<'_, '_>, args: &[&[u8]]) -> String {
    // `INFO`, `INFO default`: every section but commandstats; `all`/`everything`: every one.
    let default: [bool; SECTIONS.len()] = std::array::from_fn(|i| SECTIONS[i] != "commandstats");
    let mut wanted = if args.is_empty() {
        default
    } else {
        [false; SECTIONS.len()]
    };
    for a in args {
        let a = a.to_ascii_lowercase();
        if matches!(a.as_slice(), b"all" | b"everything") {
            wanted = [true; SECTIONS.len()];
        } else if a.as_slice() == b"default" {
            for (w, d) in wanted.iter_mut().zip(default) {
                *w |= d;
            }
        } else if let Some(i) = SECTIONS.iter().position(|s| s.as_bytes() == a.as_slice()) {
            if let Some(w) = wanted.get_mut(i) {
                *w = true;
            }
        }
    }
    let mut out = Info::default();
    for (name, _) in SECTIONS.iter().zip(wanted).filter(|(_, w)| *w) {
        match *name {
            "server" => server(&mut out, ctx.engine),
            "clients" => clients(&mut out, ctx.engine),
            "memory" => memory(&mut out, ctx),
            "persistence" => persistence(&mut out, ctx.engine),
            "stats" => stats(&mut out, ctx.engine, ctx.now),
            "replication" => replication(&mut out, ctx.engine),
            "cpu" => cpu(&mut out),
            "modules" => out.section("Modules"),
            "errorstats" => errorstats(&mut out, ctx.engine),
            "commandstats" => commandstats(&mut out, ctx.engine),
            "cluster" => {
                out.section("Cluster");
                out.field("cluster_enabled", 0);
            }
            "keyspace" => keyspace(&mut out, ctx),
            _ => {}
        }
    }
    out.text
}

fn commandstats(out: &mut Info, engine: &Engine) {
    out.section("Commandstats");
    let mut rows: Vec<(&str, u64, u64, u64, u64)> = engine
        .cmdstats()
        .map(|(c, st)| {
            let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
            (
                c.name,
                get(&st.calls),
                st.usec_total(),
                get(&st.rejected),
                get(&st.failed),
            )
        })
        .filter(|r| r.1 > 0 || r.3 > 0)
        .collect();
    rows.sort_unstable_by_key(|r| r.0);
    for (name, calls, usec, rejected, failed) in rows {
        let per_call = if calls > 0 {
            usec as f64 / calls as f64
        } else {
            0.0
        };
        out.field(
            &format!("cmdstat_{name}"),
            format_args!(
                "calls={calls},usec={usec},usec_per_call={per_call:.2},rejected_calls={rejected},failed_calls={failed}"
            ),
        );
    }
}

fn errorstats(out: &mut Info, engine: &Engine) {
    out.section("Errorstats");
    for (code, n) in engine.stats.error_codes.lock().iter() {
        out.field(&format!("errorstat_{code}"), format_args!("count={n}"));
    }
}

/// The text being built.
#[derive(Default)]
struct Info {
    text: String,
    sections: usize,
}

impl Info {
    fn section(&mut self, title: &str) {
        if self.sections > 0 {
            self.text.push_str("\r\n");
        }
        self.sections += 1;
        let _ = write!(self.text, "# {title}\r\n");
    }

    fn field(&mut self, name: &str, value: impl Display) {
        let _ = write!(self.text, "{name}:{value}\r\n");
    }
}

fn server(out: &mut Info, engine: &Engine) {
    let now_ms = crate::time::now_ms();
    let uptime = now_ms.saturating_sub(engine.start_ms) / 1000;
    let (hz, port, config_file) = {
        let c = engine.config.read();
        (c.hz, c.port, c.config_file.clone().unwrap_or_default())
    };
    out.section("Server");
    out.field("redis_version", REDIS_VERSION);
    out.field("fastkv_version", FASTKV_VERSION);
    out.field("redis_mode", "standalone");
    out.field("os", os_name());
    out.field("arch_bits", usize::BITS);
    out.field("process_id", std::process::id());
    out.field("run_id", &engine.run_id);
    out.field("tcp_port", port);
    out.field("server_time_usec", crate::time::now_us());
    out.field("uptime_in_seconds", uptime);
    out.field("uptime_in_days", uptime / 86_400);
    out.field("hz", hz);
    out.field("configured_hz", hz);
    // Redis's LRU clock: seconds, 24 bits (fastkv's access clock is finer, see time.rs).
    let lru_clock = (crate::time::now_ms() / 1000) & ((1 << 24) - 1);
    out.field("lru_clock", lru_clock);
    if let Ok(exe) = std::env::current_exe() {
        out.field("executable", exe.display());
    }
    out.field("config_file", config_file);
}

/// `uname -srm`'s answer, as Redis prints it.
fn os_name() -> String {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .ok()
            .map(|s| s.trim().to_string())
    };
    match (
        read("/proc/sys/kernel/ostype"),
        read("/proc/sys/kernel/osrelease"),
    ) {
        (Some(sys), Some(rel)) => format!("{sys} {rel} {}", std::env::consts::ARCH),
        _ => format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
    }
}

fn clients(out: &mut Info, engine: &Engine) {
    out.section("Clients");
    // Every registered caller: network connections and embedded clients.
    out.field("connected_clients", engine.client_count());
    out.field("cluster_connections", 0);
    out.field("maxclients", engine.config.read().maxclients);
    out.field("blocked_clients", engine.blocking.blocked_clients());
    out.field("tracking_clients", 0);
}

fn memory(out: &mut Info, ctx: &mut Ctx<'_, '_>) {
    // See `crate::memory`: `used_memory` is the counting allocator's live bytes (or the RSS
    // when a program linked the engine without it); the overhead is start-up memory plus the
    // keyspace tables, the dataset the rest, as Redis splits them.
    let o = crate::commands::memory::overhead(ctx);
    let engine = ctx.engine;
    out.section("Memory");
    out.field("used_memory", o.used);
    out.field("used_memory_human", bytes_to_human(o.used));
    if let Some(rss) = o.rss {
        out.field("used_memory_rss", rss);
        out.field("used_memory_rss_human", bytes_to_human(rss));
    }
    out.field("used_memory_peak", o.peak);
    out.field("used_memory_peak_human", bytes_to_human(o.peak));
    out.field("used_memory_peak_perc", format!("{:.2}%", o.peak_perc()));
    out.field("used_memory_overhead", o.total);
    out.field("used_memory_startup", o.startup);
    out.field("used_memory_dataset", o.dataset());
    out.field(
        "used_memory_dataset_perc",
        format!("{:.2}%", o.dataset_perc()),
    );
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    if let Some(total) = kb_field(&meminfo, "MemTotal:") {
        out.field("total_system_memory", total);
        out.field("total_system_memory_human", bytes_to_human(total));
    }
    let (maxmemory, policy) = {
        let c = engine.config.read();
        (c.maxmemory, c.maxmemory_policy.clone())
    };
    // Signed, as Redis prints it (`%lld`): past i64::MAX it shows negative; CONFIG GET and
    // `maxmemory_human` show it unsigned.
    out.field("maxmemory", maxmemory as i64);
    out.field("maxmemory_human", bytes_to_human(maxmemory));
    out.field("maxmemory_policy", policy);
    if let Some((ratio, bytes)) = o.fragmentation() {
        out.field("mem_fragmentation_ratio", format!("{ratio:.2}"));
        out.field("mem_fragmentation_bytes", bytes);
    }
    out.field("mem_not_counted_for_evict", 0);
    out.field("mem_replication_backlog", 0);
    out.field("mem_clients_normal", engine.client_memory());
    out.field("mem_allocator", crate::memory::ALLOCATOR_NAME);
}

/// A `Name:   123 kB` line of a `/proc` status file, in bytes.
fn kb_field(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(name))?;
    let kb: u64 = line
        .get(name.len()..)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kb.saturating_mul(1024))
}

/// Redis's `bytesToHuman`: `123B`, `1.50K`, `2.00M`...
pub fn bytes_to_human(n: u64) -> String {
    const UNITS: [(&str, u64); 5] = [
        ("K", 1 << 10),
        ("M", 1 << 20),
        ("G", 1 << 30),
        ("T", 1 << 40),
        ("P", 1 << 50),
    ];
    if n < 1024 {
        return format!("{n}B");
    }
    for (unit, size) in UNITS {
        if n < size.saturating_mul(1024) {
            return format!("{:.2}{unit}", n as f64 / size as f64);
        }
    }
    format!("{n}B")
}

fn persistence(out: &mut Info, engine: &Engine) {
    // RDB: synchronous saves and start-up loading exist (loading ends before the server
    // listens, so `loading` is always 0 for clients); BGSAVE does not, so its fields keep the
    // values Redis shows before any BGSAVE ran. No AOF yet.
    let p = &engine.persistence;
    out.section("Persistence");
    out.field("loading", 0);
    out.field("async_loading", 0);
    out.field(
        "rdb_changes_since_last_save",
        engine.stats.dirty.load(Ordering::Relaxed),
    );
    out.field("rdb_bgsave_in_progress", 0);
    out.field(
        "rdb_last_save_time",
        crate::commands::persistence::last_save_time(engine),
    );
    out.field("rdb_last_bgsave_status", "ok");
    out.field("rdb_last_bgsave_time_sec", -1);
    out.field("rdb_current_bgsave_time_sec", -1);
    out.field("rdb_saves", p.saves());
    out.field(
        "rdb_last_load_keys_expired",
        p.last_load_keys_expired.load(Ordering::Relaxed),
    );
    out.field(
        "rdb_last_load_keys_loaded",
        p.last_load_keys_loaded.load(Ordering::Relaxed),
    );
    out.field("aof_enabled", 0);
    out.field("aof_rewrite_in_progress", 0);
    out.field("aof_rewrite_scheduled", 0);
    out.field("aof_last_bgrewrite_status", "ok");
    out.field("aof_last_write_status", "ok");
}

fn stats(out: &mut Info, engine: &Engine, now_ms: u64) {
    let s = &engine.stats;
    let get = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
    let processed = get(&s.commands_processed);
    out.section("Stats");
    out.field(
        "total_connections_received",
        get(&s.total_connections_received),
    );
    out.field("total_commands_processed", processed);
    out.field(
        "instantaneous_ops_per_sec",
        ops_per_sec(engine, now_ms, processed),
    );
    out.field("total_net_input_bytes", get(&s.total_net_input_bytes));
    out.field("total_net_output_bytes", get(&s.total_net_output_bytes));
    out.field("rejected_connections", get(&s.rejected_connections));
    out.field("expired_keys", get(&s.expired_keys));
    out.field("evicted_keys", get(&s.evicted_keys));
    out.field("evicted_clients", get(&s.evicted_clients));
    out.field("keyspace_hits", get(&s.keyspace_hits));
    out.field("keyspace_misses", get(&s.keyspace_misses));
    let (channels, patterns, shard) = engine.pubsub.counts();
    out.field("pubsub_channels", channels);
    out.field("pubsub_patterns", patterns);
    out.field("pubsubshard_channels", shard);
    out.field("total_error_replies", get(&s.total_error_replies));
}

/// Samples `(ms, commands processed)` per engine (keyed by run id), taken when INFO runs.
/// Redis samples in its 100 ms cron; fastkv has no cron to hang it on, so the rate is taken
/// between now and the newest sample at least [`OPS_MIN_WINDOW_MS`] old — with INFO polled
/// every second, the last second's rate.
static OPS_SAMPLES: Mutex<Vec<OpsHistory>> = Mutex::new(Vec::new());

/// One engine's samples, oldest first.
struct OpsHistory {
    run_id: String,
    /// `(ms since the epoch, commands processed)`.
    samples: VecDeque<(u64, u64)>,
}
/// Shortest window a rate is computed over (Redis's sampling period).
const OPS_MIN_WINDOW_MS: u64 = 100;
/// Samples kept per engine (Redis keeps 16).
const OPS_SAMPLES_KEPT: usize = 16;
/// Engines remembered (tests create many); the oldest is forgotten first.
const OPS_ENGINES_KEPT: usize = 64;

fn ops_per_sec(engine: &Engine, now_ms: u64, processed: u64) -> u64 {
    let mut all = OPS_SAMPLES.lock();
    let idx = match all.iter().position(|h| h.run_id == engine.run_id) {
        Some(i) => i,
        None => {
            if all.len() >= OPS_ENGINES_KEPT {
                all.remove(0);
            }
            all.push(OpsHistory {
                run_id: engine.run_id.clone(),
                samples: VecDeque::new(),
            });
            all.len() - 1
        }
    };
    let Some(OpsHistory { samples, .. }) = all.get_mut(idx) else {
        return 0;
    };
    let rate = samples
        .iter()
        .rev()
        .find(|(at, _)| now_ms.saturating_sub(*at) >= OPS_MIN_WINDOW_MS)
        .map(|&(at, count)| processed.saturating_sub(count) * 1000 / (now_ms - at).max(1))
        .unwrap_or(0);
    let newest_recent = samples
        .back()
        .is_some_and(|(at, _)| now_ms.saturating_sub(*at) < OPS_MIN_WINDOW_MS);
    if !newest_recent {
        samples.push_back((now_ms, processed));
        if samples.len() > OPS_SAMPLES_KEPT {
            samples.pop_front();
        }
    }
    rate
}

fn replication(out: &mut Info, engine: &Engine) {
    // No replication exists yet: a master with no replicas and no backlog. The replication
    // id is the run id until replication gives it a life of its own.
    out.section("Replication");
    out.field("role", "master");
    out.field("connected_slaves", 0);
    out.field("master_failover_state", "no-failover");
    out.field("master_replid", &engine.run_id);
    out.field("master_replid2", "0000000000000000000000000000000000000000");
    out.field("master_repl_offset", 0);
    out.field("second_repl_offset", -1);
    out.field("repl_backlog_active", 0);
    out.field("repl_backlog_first_byte_offset", 0);
    out.field("repl_backlog_histlen", 0);
}

/// `(utime, stime, cutime, cstime)` in seconds, from `/proc/self/stat`.
fn cpu_times() -> Option<[f64; 4]> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Field 2 (the command name) is parenthesised and may contain spaces: count fields after
    // the last ')'. Fields 14-17 (utime, stime, cutime, cstime) are then at 11-14.
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| -> Option<f64> { Some(f.get(i)?.parse::<u64>().ok()? as f64 / USER_HZ) };
    Some([tick(11)?, tick(12)?, tick(13)?, tick(14)?])
}

fn cpu(out: &mut Info) {
    out.section("CPU");
    if let Some([user, sys, cuser, csys]) = cpu_times() {
        out.field("used_cpu_sys", format!("{sys:.6}"));
        out.field("used_cpu_user", format!("{user:.6}"));
        out.field("used_cpu_sys_children", format!("{csys:.6}"));
        out.field("used_cpu_user_children", format!("{cuser:.6}"));
    }
}

fn keyspace(out: &mut Info, ctx: &mut Ctx<'_, '_>) {
    out.section("Keyspace");
    let dbs = ctx.engine.keyspace.databases();
    let mut counts = vec![(0usize, 0usize); dbs];
    for (_, shard) in ctx.ks.shards_mut() {
        for (c, db) in counts.iter_mut().zip(shard.dbs.iter()) {
            c.0 += db.dict.len();
            c.1 += db.volatile;
        }
    }
    for (i, (keys, expires)) in counts.into_iter().enumerate() {
        if keys > 0 {
            // avg_ttl is Redis's sampled estimate; fastkv does not sample TTLs yet and reports
            // 0, which Redis also reports before it has a sample.
            out.field(
                &format!("db{i}"),
                format!("keys={keys},expires={expires},avg_ttl=0"),
            );
        }
    }
}
