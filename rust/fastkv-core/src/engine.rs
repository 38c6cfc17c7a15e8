//! [`Engine`]: one store — keyspace, configuration, statistics, command table — shared by every
//! front door (network connections, the embedded Python API, AOF replay, scripts).

use crate::client::{Client, ClientInfo, ClientKind, NetAddr, Registry, Signal};
use crate::command::CommandSpec;
use crate::commands;
use crate::config::Config;
use crate::keyspace::{Keyspace, DEFAULT_SHARD_BITS};
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// The Redis version fastkv speaks (HELLO, INFO `redis_version`): clients pick features by it.
pub const REDIS_VERSION: &str = "7.0.15";
/// fastkv's own version.
pub const FASTKV_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Counters behind INFO stats.
#[derive(Default)]
pub struct Stats {
    pub commands_processed: AtomicU64,
    pub expired_keys: AtomicU64,
    /// Keys removed by `maxmemory` eviction (see [`crate::evict::evict_key`]).
    pub evicted_keys: AtomicU64,
    /// Clients closed by `maxmemory-clients` (see [`Engine::track_client_memory`]).
    pub evicted_clients: AtomicU64,
    pub keyspace_hits: AtomicU64,
    pub keyspace_misses: AtomicU64,
    /// Changes since the last save (`rdb_changes_since_last_save`).
    pub dirty: AtomicU64,
    pub connected_clients: AtomicU64,
    pub total_connections_received: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub total_net_input_bytes: AtomicU64,
    pub total_net_output_bytes: AtomicU64,
    /// Error replies sent (INFO `total_error_replies`), and by error code (INFO errorstats).
    pub total_error_replies: AtomicU64,
    pub error_codes: parking_lot::Mutex<std::collections::BTreeMap<String, u64>>,
}

/// `maxmemory-clients` in bytes: the setting itself, or its percentage of `maxmemory` (none
/// without a `maxmemory`); 0 turns client eviction off.
fn client_memory_limit(setting: i64, maxmemory: u64) -> u64 {
    if setting >= 0 {
        return setting.unsigned_abs();
    }
    let share = u128::from(maxmemory) * u128::from(setting.unsigned_abs()) / 100;
    u64::try_from(share).unwrap_or(u64::MAX)
}

/// One command's counters (INFO commandstats).
#[derive(Default)]
pub struct CmdStat {
    pub calls: AtomicU64,
    /// Microseconds spent in the runs that were timed (see `timed`).
    pub usec: AtomicU64,
    /// Runs whose duration was measured: every run of a command that is not `fast`, and one
    /// in [`crate::dispatch::FAST_TIMING_SAMPLE`] runs of a `fast` one per client (reading
    /// the clock costs more than a fast command itself).
    pub timed: AtomicU64,
    /// Refused before running (arity).
    pub rejected: AtomicU64,
    /// Ran and answered an error.
    pub failed: AtomicU64,
}

impl CmdStat {
    /// INFO's `usec`: the time of the timed runs scaled to every call (exact when every run
    /// was timed; for a `fast` command an unbiased estimate, as the per-run microsecond
    /// truncation already made it).
    pub fn usec_total(&self) -> u64 {
        let usec = self.usec.load(Ordering::Relaxed);
        let timed = self.timed.load(Ordering::Relaxed);
        let calls = self.calls.load(Ordering::Relaxed);
        if timed == 0 || timed >= calls {
            return usec;
        }
        let scaled = u128::from(usec) * u128::from(calls) / u128::from(timed);
        u64::try_from(scaled).unwrap_or(u64::MAX)
    }
}

impl Stats {
    /// Counts an error reply under its code (the first word: `ERR`, `WRONGTYPE`...).
    pub fn count_error(&self, line: &str) {
        self.total_error_replies.fetch_add(1, Ordering::Relaxed);
        let code = line.split(' ').next().unwrap_or("ERR");
        let mut codes = self.error_codes.lock();
        // Redis caps the table at 128 codes so that odd error texts cannot grow it forever.
        if let Some(n) = codes.get_mut(code) {
            *n += 1;
        } else if codes.len() < 128 {
            codes.insert(code.to_string(), 1);
        }
    }

    /// CONFIG RESETSTAT: zeroes the counters (not the gauges: connected clients, dirty).
    pub fn reset(&self) {
        for c in [
            &self.commands_processed,
            &self.expired_keys,
            &self.evicted_keys,
            &self.evicted_clients,
            &self.keyspace_hits,
            &self.keyspace_misses,
            &self.total_connections_received,
            &self.rejected_connections,
            &self.total_net_input_bytes,
            &self.total_net_output_bytes,
            &self.total_error_replies,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        self.error_codes.lock().clear();
    }
}

/// A command row resolved once, with the place of its counters: the embedded API resolves
/// one per method when a store is made, and runs it with [`Engine::execute_prepared`], which
/// skips the name lookup (a hash of the name per call) but keeps every check the dispatcher
/// makes. Every engine numbers its counters alike (one per row of the static tables, in table
/// order), so a handle is valid with any engine.
#[derive(Clone, Copy)]
pub struct Prepared {
    pub(crate) spec: &'static CommandSpec,
    /// Index of the row's counters in the engine's `cmdstats`.
    pub(crate) stat: usize,
}

impl Prepared {
    /// The command's row.
    pub fn spec(&self) -> &'static CommandSpec {
        self.spec
    }
}

/// How SHUTDOWN asked the server to stop.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShutdownRequest {
    /// `Some(true)` SAVE, `Some(false)` NOSAVE, `None` as configured.
    pub save: Option<bool>,
    pub now: bool,
    pub force: bool,
}

pub struct Engine {
    pub keyspace: Keyspace,
    pub config: RwLock<Config>,
    pub stats: Stats,
    /// DEBUG SET-ACTIVE-EXPIRE.
    pub active_expire: AtomicBool,
    next_client_id: AtomicU64,
    /// When the engine started (INFO uptime), ms since the epoch.
    pub start_ms: u64,
    /// 40 hex characters, random per process (INFO run_id).
    pub run_id: String,
    /// Name -> row and its counters. Looked up once per command: ahash, not the default
    /// SipHash (which cost more than the rest of a GET's dispatch in callgrind). The embedded
    /// API resolves its rows once instead (see [`Prepared`]).
    table: HashMap<Vec<u8>, Prepared, ahash::RandomState>,
    /// INFO commandstats: one entry per command row, subcommands included.
    cmdstats: Box<[CmdStat]>,
    /// Row address (rows are statics) -> its index in `cmdstats`: for rows reached otherwise
    /// than by name (subcommands, INFO).
    cmdstat_index: HashMap<usize, usize, ahash::RandomState>,
    /// Every live client (CLIENT LIST/KILL, INFO clients).
    clients: Arc<Registry>,
    /// Fired by SHUTDOWN; network servers await it and stop.
    pub shutdown: Signal,
    /// The request behind the last `shutdown` firing.
    pub shutdown_request: parking_lot::Mutex<Option<ShutdownRequest>>,
    /// Network servers currently serving this engine (SHUTDOWN needs one to stop).
    pub servers: AtomicUsize,
    /// Blocked clients (BLPOP...) and the keys they wait on.
    pub blocking: crate::blocking::Blocking,
    /// Last save, save count, load figures, the persistence log (SAVE, LASTSAVE, INFO).
    pub persistence: crate::commands::persistence::Persistence,
    /// Channel, pattern and shard-channel subscriptions (see [`crate::pubsub`]).
    pub pubsub: Arc<crate::pubsub::PubSub>,
    /// WATCHed keys and their clients' dirty flags (see [`crate::watch`]).
    pub watches: Arc<crate::watch::Watches>,
    /// Lua: the script cache, function libraries, the running script (see [`crate::scripting`]).
    pub scripting: crate::scripting::Scripting,
    /// The enabled keyspace-notification classes (see [`crate::notify`]), cached from the
    /// configuration by [`Engine::config_applied`].
    pub notify_flags: std::sync::atomic::AtomicU32,
    /// `maxmemory` eviction: cached settings, the candidate pool (see [`crate::evict`]).
    pub evict: crate::evict::Eviction,
}

impl Engine {
    pub fn new(config: Config) -> Arc<Engine> {
        let rows: Vec<&'static CommandSpec> = commands::FAMILIES
            .iter()
            .flat_map(|f| f.iter())
            .flat_map(|c| std::iter::once(c).chain(c.subcommands.iter()))
            .collect();
        let cmdstat_index: HashMap<usize, usize, ahash::RandomState> = rows
            .iter()
            .enumerate()
            .map(|(i, &c)| (c as *const CommandSpec as usize, i))
            .collect();
        let table = commands::table()
            .into_iter()
            .filter_map(|(name, spec)| {
                let stat = *cmdstat_index.get(&(spec as *const CommandSpec as usize))?;
                Some((name, Prepared { spec, stat }))
            })
            .collect();
        let engine = Arc::new(Engine {
            keyspace: Keyspace::new(config.databases, DEFAULT_SHARD_BITS),
            config: RwLock::new(config),
            stats: Stats::default(),
            active_expire: AtomicBool::new(true),
            next_client_id: AtomicU64::new(1),
            start_ms: crate::time::now_ms(),
            run_id: random_run_id(),
            table,
            cmdstats: rows.iter().map(|_| CmdStat::default()).collect(),
            cmdstat_index,
            clients: Arc::new(Registry::default()),
            shutdown: Signal::default(),
            shutdown_request: parking_lot::Mutex::new(None),
            servers: AtomicUsize::new(0),
            blocking: Default::default(),
            persistence: Default::default(),
            pubsub: Default::default(),
            watches: Default::default(),
            scripting: Default::default(),
            notify_flags: Default::default(),
            evict: Default::default(),
        });
        engine.config_applied();
        crate::expire::start_active_expiry(&engine);
        engine.evict.attach(&engine);
        engine
    }

    /// Refreshes what the engine caches from its configuration; called at start and after
    /// every CONFIG SET.
    pub fn config_applied(&self) {
        let config = self.config.read();
        let flags = crate::notify::parse(&config.notify_keyspace_events).unwrap_or(0);
        self.notify_flags.store(flags, Ordering::Relaxed);
        self.clients.set_memory_limit(client_memory_limit(
            config.maxmemory_clients,
            config.maxmemory,
        ));
    }

    /// Client eviction, for front ends: records that a network client's buffers now hold
    /// `bytes` and, when every client's total has reached `maxmemory-clients`, closes the
    /// clients holding the most (their kill signal fires) until it is below again. Returns
    /// the CLIENT LIST line of each evicted client, for the log. A few atomics when nothing
    /// is evicted.
    pub fn track_client_memory(&self, info: &ClientInfo, bytes: u64) -> Vec<String> {
        if self.clients.track(info, bytes) {
            self.evict_clients()
        } else {
            Vec::new()
        }
    }

    /// Evicts clients while their total memory is at or over `maxmemory-clients` (see
    /// [`crate::client::Registry::evict`]); returns their CLIENT LIST lines.
    pub fn evict_clients(&self) -> Vec<String> {
        let evicted = self.clients.evict(crate::time::now_ms());
        self.stats
            .evicted_clients
            .fetch_add(evicted.len() as u64, Ordering::Relaxed);
        evicted
    }

    /// Whether every client's buffers together are at or over `maxmemory-clients`.
    pub fn client_memory_over_limit(&self) -> bool {
        let limit = self.clients.memory_limit();
        limit > 0 && self.clients.memory() >= limit
    }

    /// Bytes held by every network client's buffers (INFO `mem_clients_normal`).
    pub fn client_memory(&self) -> u64 {
        self.clients.memory()
    }

    /// A new in-process caller with a fresh id, registered (CLIENT LIST shows it with
    /// `addr=embedded:0 fd=-1`) until dropped.
    pub fn new_client(&self) -> Client {
        let id = self.next_client_id.fetch_add(1, Ordering::Relaxed);
        self.clients
            .register(ClientInfo::new(id, ClientKind::Embedded, None))
    }

    /// A new network client, registered until dropped.
    pub fn new_network_client(&self, net: NetAddr) -> Client {
        let id = self.next_client_id.fetch_add(1, Ordering::Relaxed);
        self.clients
            .register(ClientInfo::new(id, ClientKind::Network, Some(net)))
    }

    /// Registered clients (network and embedded).
    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    /// A snapshot of every registered client, in id order.
    pub fn client_infos(&self) -> Vec<Arc<ClientInfo>> {
        self.clients.all()
    }

    /// The client with this id, if registered.
    pub fn client_info(&self, id: u64) -> Option<Arc<ClientInfo>> {
        self.clients.get(id)
    }

    /// Asks every network server of this engine to stop (SHUTDOWN).
    pub fn request_shutdown(&self, req: ShutdownRequest) {
        *self.shutdown_request.lock() = Some(req);
        self.shutdown.fire();
    }

    /// The command named `name` (any case).
    pub fn command(&self, name: &[u8]) -> Option<&'static CommandSpec> {
        self.prepared(name).map(|p| p.spec)
    }

    /// The command named `name` (any case), resolved for repeated runs: see [`Prepared`].
    pub fn prepared(&self, name: &[u8]) -> Option<Prepared> {
        if name.len() > 64 {
            return None;
        }
        let mut buf = [0u8; 64];
        let lower = &mut buf[..name.len()];
        lower.copy_from_slice(name);
        lower.make_ascii_lowercase();
        self.table.get(&lower[..]).copied()
    }

    /// PUBLISH: delivers `message` to the subscribers of `channel` and of every pattern
    /// matching it; returns the number of deliveries, counted as Redis counts them. Never
    /// blocks: a subscriber over its output buffer limit is dropped instead.
    pub fn publish(&self, channel: &[u8], message: &[u8]) -> usize {
        if self.pubsub.is_idle() {
            return 0;
        }
        self.refresh_pubsub_limit();
        self.pubsub.publish(channel, message)
    }

    /// SPUBLISH: delivers to the subscribers of shard channel `channel`.
    pub fn spublish(&self, channel: &[u8], message: &[u8]) -> usize {
        if self.pubsub.is_idle() {
            return 0;
        }
        self.refresh_pubsub_limit();
        self.pubsub.spublish(channel, message)
    }

    /// Copies `client-output-buffer-limit pubsub` into the registry, unless the config is
    /// being written right now (then the cached value serves: a publisher never waits).
    fn refresh_pubsub_limit(&self) {
        if let Some(c) = self.config.try_read() {
            if let Some(l) = c.client_output_buffer_limit.get(2) {
                self.pubsub.set_limit(*l);
            }
        }
    }

    /// The counters of a command row.
    pub fn cmdstat(&self, spec: &'static CommandSpec) -> Option<&CmdStat> {
        self.cmdstats.get(self.cmdstat_index(spec)?)
    }

    /// Where a row's counters are in `cmdstats`.
    pub(crate) fn cmdstat_index(&self, spec: &'static CommandSpec) -> Option<usize> {
        self.cmdstat_index
            .get(&(spec as *const CommandSpec as usize))
            .copied()
    }

    /// The counters of a resolved command, without hashing.
    pub(crate) fn prepared_stat(&self, cmd: Prepared) -> Option<&CmdStat> {
        self.cmdstats.get(cmd.stat)
    }

    /// CONFIG RESETSTAT: zeroes the INFO stats counters and every command's commandstats
    /// (Redis's `resetServerStats` + `resetCommandTableStats`).
    pub fn reset_stats(&self) {
        self.stats.reset();
        for st in self.cmdstats.iter() {
            for c in [&st.calls, &st.usec, &st.timed, &st.rejected, &st.failed] {
                c.store(0, Ordering::Relaxed);
            }
        }
    }

    /// Every command row with its counters, subcommands included.
    pub fn cmdstats(&self) -> impl Iterator<Item = (&'static CommandSpec, &CmdStat)> + '_ {
        self.commands()
            .flat_map(|c| std::iter::once(c).chain(c.subcommands.iter()))
            .filter_map(move |c| self.cmdstat(c).map(|st| (c, st)))
    }

    /// Every top-level command.
    pub fn commands(&self) -> impl Iterator<Item = &'static CommandSpec> + '_ {
        self.table.values().map(|p| p.spec)
    }
}

fn random_run_id() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..40)
        .map(|_| char::from(b"0123456789abcdef"[rng.gen_range(0..16)]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::client_memory_limit;

    #[test]
    fn client_memory_limit_is_bytes_or_a_share_of_maxmemory() {
        assert_eq!(client_memory_limit(0, 1 << 30), 0);
        assert_eq!(client_memory_limit(5000, 0), 5000);
        assert_eq!(client_memory_limit(-10, 1000), 100);
        // A percentage without maxmemory sets no limit.
        assert_eq!(client_memory_limit(-10, 0), 0);
        assert_eq!(client_memory_limit(-100, u64::MAX), u64::MAX);
    }
}
