//! fastkv's engine: everything about data and commands, nothing about sockets or Python.
//!
//! Layout, in the order a command travels:
//! - [`engine`]: [`Engine`], one store — keyspace, config, stats, the command table.
//! - [`dispatch`]: `Engine::execute`, the one entry for every caller; [`dispatch::Ctx`].
//! - [`command`]: [`command::CommandSpec`] rows, flags, key positions, the [`command::Args`]
//!   cursor.
//! - [`commands`]: one module per command family, each ending in its `COMMANDS` table.
//! - [`keyspace`]: shards, databases, entries, lazy expiry; [`dict`]: the hash table.
//! - [`types`]: value types and their encodings.
//! - [`expire`]: the active expiry cycle. [`glob`]: pattern matching. [`time`]: clocks.
//! - [`info`]: INFO's text.
//! - [`memory`]: the counting allocator and memory figures; [`evict`]: `maxmemory` eviction.
//! - [`client`], [`config`], [`error`].
//!
//! Depends on `fastkv-resp` for [`Frame`]; never on tokio or pyo3.

pub mod blocking;
pub mod client;
pub mod command;
pub mod commands;
pub mod config;
pub mod dict;
pub mod dispatch;
pub mod engine;
pub mod error;
pub mod evict;
pub mod expire;
pub mod glob;
pub mod info;
pub mod keyspace;
pub mod memory;
pub mod notify;
pub mod pubsub;
pub mod rdb;
pub mod scripting;
pub mod time;
pub mod types;
pub mod watch;

#[cfg(test)]
pub(crate) mod testing;

pub use client::Client;
pub use config::Config;
pub use engine::Engine;
pub use error::OpError;
pub use fastkv_resp::Frame;
