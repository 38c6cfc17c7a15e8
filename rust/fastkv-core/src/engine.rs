//! [`Engine`]: one store — keyspace, configuration, statistics, command table — shared by every
//! front door (network connections, the embedded Python API, AOF replay, scripts).

use crate::client::Client;
use crate::command::CommandSpec;
use crate::commands;
use crate::config::Config;
use crate::keyspace::{Keyspace, DEFAULT_SHARD_BITS};
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// Counters behind INFO stats.
#[derive(Default)]
pub struct Stats {
    pub commands_processed: AtomicU64,
    pub expired_keys: AtomicU64,
    pub keyspace_hits: AtomicU64,
    pub keyspace_misses: AtomicU64,
    /// Changes since the last save (`rdb_changes_since_last_save`).
    pub dirty: AtomicU64,
    pub connected_clients: AtomicU64,
    pub total_connections_received: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub total_net_input_bytes: AtomicU64,
    pub total_net_output_bytes: AtomicU64,
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
    table: HashMap<Vec<u8>, &'static CommandSpec>,
}

impl Engine {
    pub fn new(config: Config) -> Arc<Engine> {
        let engine = Arc::new(Engine {
            keyspace: Keyspace::new(config.databases, DEFAULT_SHARD_BITS),
            config: RwLock::new(config),
            stats: Stats::default(),
            active_expire: AtomicBool::new(true),
            next_client_id: AtomicU64::new(1),
            start_ms: crate::time::now_ms(),
            run_id: random_run_id(),
            table: commands::table(),
        });
        crate::expire::start_active_expiry(&engine);
        engine
    }

    /// A new caller with a fresh id.
    pub fn new_client(&self) -> Client {
        Client::new(self.next_client_id.fetch_add(1, Ordering::Relaxed))
    }

    /// The command named `name` (any case).
    pub fn command(&self, name: &[u8]) -> Option<&'static CommandSpec> {
        if name.len() > 64 {
            return None;
        }
        let mut buf = [0u8; 64];
        let lower = &mut buf[..name.len()];
        lower.copy_from_slice(name);
        lower.make_ascii_lowercase();
        self.table.get(&lower[..]).copied()
    }

    /// Every top-level command.
    pub fn commands(&self) -> impl Iterator<Item = &'static CommandSpec> + '_ {
        self.table.values().copied()
    }
}

fn random_run_id() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..40)
        .map(|_| char::from(b"0123456789abcdef"[rng.gen_range(0..16)]))
        .collect()
}
