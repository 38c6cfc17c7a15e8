//! fastkv's network server: a tokio listener in front of a shared [`Engine`].
//!
//! Layout:
//! - [`main_with_args`]: the `fastkv-server [config-file] [--directive value ...]` command
//!   line: configuration, logs, signals, exit codes.
//! - [`spawn`]: serves an existing engine from background threads ([`ServerHandle`] stops
//!   it) — what Python's `Store.serve` uses.
//! - [`server`]: listeners, the accept loop (maxclients, protected mode), the shutdown
//!   protocol.
//! - [`connection`]: the per-connection loop — read into a buffer, run every complete command
//!   in it, write all replies with one write (pipelining for free).
//! - `gate`: the connection's rare waits (stop, kill, idle, pushes) kept armed and polled only
//!   when one of them fired, so a readable socket is all a busy connection polls.
//! - [`log`]: Redis-style log lines.
//!
//! Runtime: a multi-thread tokio runtime with one worker per two cores, at least one
//! (`server-threads N` overrides). Handlers never block on I/O and hold shard locks only
//! briefly, so one shared pool balances uneven connections better than one current-thread
//! runtime per core. Measured on 2 cores with redis-benchmark on the same machine (it takes a
//! core): 1 worker beat 2 on every row (P1 SET 51.8k vs 38.7k req/s, GET 53.3k vs 47.5k; P16
//! SET 396k vs 361k), because a second worker only fights the clients for the CPU.

pub mod connection;
mod gate;
pub mod log;
pub mod server;

use crate::log::Logger;
use crate::server::Shared;
use fastkv_core::commands::persistence::{self, Severity};
use fastkv_core::engine::{FASTKV_VERSION, REDIS_VERSION};
use fastkv_core::{Config, Engine};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// A running server; dropping it does not stop it, `close()` does.
pub struct ServerHandle {
    /// The first listening address (with the real port when 0 was asked for).
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ServerHandle {
    /// Stops accepting, closes connections, and waits for the server thread to end.
    pub fn close(&mut self) {
        self.shared.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Whether the server has stopped (closed, or stopped by SHUTDOWN).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }
}

/// The tokio runtime: `threads` workers, 0 = one per two cores (at least one).
fn runtime(threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1)),
        n => n,
    };
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("fastkv-io")
        .enable_all()
        .build()
}

/// Counts a running server on the engine (SHUTDOWN needs one) and re-arms the shutdown
/// signal when it is the first.
fn server_started(engine: &Engine) {
    if engine.servers.fetch_add(1, Ordering::SeqCst) == 0 {
        engine.shutdown.reset();
    }
}

/// Serves `engine` on `host:port` from background threads (port 0 picks a free port).
/// Logs only warnings, to standard error. SHUTDOWN over the socket stops this server (the
/// engine lives on); `close()` is still the way to wait for it.
pub fn spawn(engine: Arc<Engine>, host: &str, port: u16) -> std::io::Result<ServerHandle> {
    let (threads, backlog) = {
        let c = engine.config.read();
        (c.server_threads, c.tcp_backlog)
    };
    let rt = runtime(threads)?;
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&(host, port))?
        .next()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no address"))?;
    let listener = server::listen(addr, backlog)?;
    let addr = listener.local_addr()?;
    let shared = Shared::new(engine.clone(), Logger::quiet());
    shared.log.attach(&engine);
    server_started(&engine);
    let task_shared = shared.clone();
    let thread = std::thread::Builder::new()
        .name("fastkv-server".into())
        .spawn(move || {
            rt.block_on(async {
                server::serve(task_shared, vec![listener]).await;
            });
            rt.shutdown_timeout(std::time::Duration::from_secs(1));
            engine.servers.fetch_sub(1, Ordering::SeqCst);
        })?;
    Ok(ServerHandle {
        addr,
        shared,
        thread: Some(thread),
    })
}

const USAGE: &str = "Usage: ./fastkv-server [/path/to/redis.conf] [options] [-]
       ./fastkv-server - (read config from stdin)
       ./fastkv-server -v or --version
       ./fastkv-server -h or --help

Examples:
       ./fastkv-server (run the server with default conf)
       ./fastkv-server /etc/redis/6379.conf
       ./fastkv-server --port 7777
       ./fastkv-server /etc/myredis.conf --loglevel verbose
       ./fastkv-server --save \"\" --appendonly no
";

/// The `fastkv-server` command line; returns the process exit code.
pub fn main_with_args(args: &[String]) -> i32 {
    match args.first().map(String::as_str) {
        Some("-v") | Some("--version") => {
            println!(
                "fastkv-server v={FASTKV_VERSION} redis_version={REDIS_VERSION} bits={}",
                usize::BITS
            );
            return 0;
        }
        Some("-h") | Some("--help") => {
            print!("{USAGE}");
            return 0;
        }
        _ => {}
    }
    let (file, rest) = match args.first() {
        Some(f) if !f.starts_with("--") => (Some(f.as_str()), args.get(1..).unwrap_or(&[])),
        _ => (None, args),
    };
    let config = match Config::from_file_and_args(file, rest) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let log = match Logger::open(&config.logfile) {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "Can't open the log file: {} ({})",
                config.logfile,
                server::io_text(&e)
            );
            return 1;
        }
    };
    let pid = std::process::id();
    log.warning("oO0OoO0OoO0Oo fastkv is starting oO0OoO0OoO0Oo");
    log.warning(&format!(
        "fastkv version={FASTKV_VERSION}, redis_version={REDIS_VERSION}, bits={}, pid={pid}, just started",
        usize::BITS
    ));
    if file.is_some() {
        log.warning("Configuration loaded");
    } else {
        log.warning("Warning: no config file specified, using the default config. In order to specify a config file use fastkv-server /path/to/redis.conf");
    }
    if let Err(e) = config.check_supported() {
        log.warning(&format!("FATAL: {e}"));
        eprintln!("FATAL: {e}");
        return 1;
    }
    if config.port == 0 {
        // Redis's port 0 means "no TCP listener"; without unix sockets that is nowhere.
        log.warning("Configured to not listen anywhere, exiting.");
        return 1;
    }
    let rt = match runtime(config.server_threads) {
        Ok(rt) => rt,
        Err(e) => {
            log.warning(&format!("Can't start the runtime: {e}"));
            return 1;
        }
    };
    let (bind, port, backlog, pidfile) = (
        config.bind.clone(),
        config.port,
        config.tcp_backlog,
        config.pidfile.clone(),
    );
    let engine = Engine::new(config);
    let shared = Shared::new(engine.clone(), log);
    shared.log.attach(&engine);
    connect_persistence_log(&shared);
    let listeners = match server::bind_all(&bind, port, backlog, &shared.log) {
        Ok(l) => l,
        Err(e) => {
            shared.log.warning(&e);
            return 1;
        }
    };
    let port = listeners
        .first()
        .and_then(|l| l.local_addr().ok())
        .map_or(port, |a| a.port());
    if !pidfile.is_empty() {
        if let Err(e) = std::fs::write(&pidfile, format!("{pid}\n")) {
            shared.log.warning(&format!(
                "Failed to write PID file: {}",
                server::io_text(&e)
            ));
        }
    }
    shared.log.notice(&format!(
        "Running mode=standalone, port={port}, threads={}.",
        rt.metrics().num_workers()
    ));
    shared.log.warning("Server initialized");
    // Load the dump before listening: a file that does not load stops the server.
    if let Err(e) = persistence::load_at_startup(&engine) {
        shared.log.warning(&e);
        if !pidfile.is_empty() {
            let _ = std::fs::remove_file(&pidfile);
        }
        return 1;
    }
    shared.log.notice("Ready to accept connections tcp");
    server_started(&engine);

    let log_shared = shared.clone();
    let by_signal = rt.block_on(serve_until_stopped(shared, listeners));
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    engine.servers.fetch_sub(1, Ordering::SeqCst);
    final_save(&engine, by_signal);
    if !pidfile.is_empty() {
        log_shared.log.notice("Removing the pid file.");
        let _ = std::fs::remove_file(&pidfile);
    }
    log_shared
        .log
        .warning("Redis is now ready to exit, bye bye...");
    0
}

/// Sends the engine's persistence log lines (DB saved on disk, loading...) to the server log.
fn connect_persistence_log(shared: &Arc<Shared>) {
    // Weak: the engine outlives nothing it logs to, and must not keep the server alive.
    let weak = Arc::downgrade(shared);
    shared
        .engine
        .persistence
        .set_logger(Arc::new(move |severity, msg| {
            if let Some(s) = weak.upgrade() {
                match severity {
                    Severity::Notice => s.log.notice(msg),
                    Severity::Warning => s.log.warning(msg),
                }
            }
        }));
}

/// Serves until SHUTDOWN or a signal stops the server; returns true when a signal did.
///
/// SIGTERM / SIGINT follow SHUTDOWN's no-argument rule: with save points configured the dump is
/// written *before* the server stops, and if that fails the server keeps running (Redis 7.0
/// does the same), so the signal can be retried once the disk is fixed.
async fn serve_until_stopped(shared: Arc<Shared>, listeners: Vec<std::net::TcpListener>) -> bool {
    let serving = server::serve(shared.clone(), listeners);
    tokio::pin!(serving);
    loop {
        tokio::select! {
            _ = &mut serving => return false,
            _ = wait_for_signal(shared.clone()) => {}
        }
        shared.log.warning("User requested shutdown...");
        let engine = shared.engine.clone();
        if persistence::shutdown_saves(&engine, None) {
            let saved = tokio::task::spawn_blocking(move || {
                persistence::save_before_shutdown(&engine, false)
            })
            .await;
            if !matches!(saved, Ok(true)) {
                continue;
            }
        }
        shared.stop();
        // `serve` sees the stop and drains the connections.
        serving.await;
        return true;
    }
}

/// After the connections are gone: if this shutdown saves and writes landed between the save
/// that preceded the stop and the last connection closing, save once more so that no
/// acknowledged write is left out of the dump. Failures here are only logged (the shutdown was
/// already accepted).
fn final_save(engine: &Engine, by_signal: bool) {
    let explicit = if by_signal {
        None
    } else {
        match *engine.shutdown_request.lock() {
            Some(req) => req.save,
            None => Some(false),
        }
    };
    if persistence::shutdown_saves(engine, explicit)
        && engine.stats.dirty.load(Ordering::SeqCst) > 0
    {
        let _ = persistence::save_before_shutdown(engine, true);
    }
}

/// Completes on SIGINT or SIGTERM, logging it as Redis's signal handler does.
async fn wait_for_signal(shared: Arc<Shared>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        match (term, int) {
            (Ok(mut term), Ok(mut int)) => {
                let name = tokio::select! {
                    _ = term.recv() => "SIGTERM",
                    _ = int.recv() => "SIGINT",
                };
                shared
                    .log
                    .signal_line(&format!("Received {name} scheduling shutdown..."));
            }
            _ => std::future::pending().await,
        }
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_ok() {
            shared
                .log
                .signal_line("Received SIGINT scheduling shutdown...");
        } else {
            std::future::pending::<()>().await;
        }
    }
}
