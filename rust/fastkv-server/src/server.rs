//! Listeners, the accept loop, and the shutdown protocol.
//!
//! Shutdown is a documented protocol, in this order:
//! 1. Something asks to stop: [`Shared::stop`] (a signal, `ServerHandle::close`) or SHUTDOWN,
//!    which fires the engine's shutdown signal that [`serve`] awaits.
//! 2. `serve` flips the `stop` watch channel. Every accept loop and every connection task
//!    holds a receiver and selects on it next to its socket: accept loops return at once (the
//!    listeners close), connection tasks return and drop their sockets.
//! 3. `serve` waits until the live-connection count reaches zero (bounded by
//!    [`DRAIN_TIMEOUT`]) and returns; the caller logs and exits.
//!
//! Connections are counted in `engine.stats.connected_clients`; the accept loop refuses a
//! connection past `maxclients` with Redis's error line, and, in protected mode without a
//! password, any connection from outside loopback.

use crate::connection;
use crate::log::Logger;
use fastkv_core::Engine;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};

/// How long `serve` waits for connection tasks to finish after stopping.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

const MAX_CLIENTS_ERR: &[u8] = b"-ERR max number of clients reached\r\n";

const DENIED_ERR: &[u8] = b"-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// What every task of one server shares.
pub struct Shared {
    pub engine: Arc<Engine>,
    pub log: Logger,
    /// `true` once the server is stopping.
    stop_tx: watch::Sender<bool>,
    /// Woken whenever a connection task ends (drain tracking).
    conn_ended: Notify,
    /// The live `timeout` directive, republished by the cron task when CONFIG SET changes
    /// it, so idle connections re-arm their deadline without polling the config.
    timeout_tx: watch::Sender<u64>,
}

impl Shared {
    pub fn new(engine: Arc<Engine>, log: Logger) -> Arc<Shared> {
        let (stop_tx, _) = watch::channel(false);
        let (timeout_tx, _) = watch::channel(engine.config.read().timeout);
        Arc::new(Shared {
            engine,
            log,
            stop_tx,
            conn_ended: Notify::new(),
            timeout_tx,
        })
    }

    /// Begins stopping: accept loops and connections end.
    pub fn stop(&self) {
        self.stop_tx.send_replace(true);
    }

    /// Whether the server is stopping (a check, where [`Shared::stopping`] is a wait).
    pub fn is_stopping(&self) -> bool {
        *self.stop_tx.borrow()
    }

    pub fn stopping(&self) -> watch::Receiver<bool> {
        self.stop_tx.subscribe()
    }

    /// Changes of the `timeout` directive.
    pub fn timeout_changes(&self) -> watch::Receiver<u64> {
        self.timeout_tx.subscribe()
    }

    /// Called by a connection task as it ends.
    pub(crate) fn connection_ended(&self) {
        self.conn_ended.notify_waiters();
    }
}

/// Resolves one `bind` entry: `*` is every IPv4 address, `::*` every IPv6 one; a leading `-`
/// (returned as `optional`) means a failure to bind it is not fatal.
pub fn bind_addrs(entry: &str, port: u16) -> (bool, std::io::Result<Vec<SocketAddr>>) {
    let (optional, host) = match entry.strip_prefix('-') {
        Some(h) => (true, h),
        None => (false, entry),
    };
    let host = match host {
        "*" => "0.0.0.0",
        "::*" => "::",
        h => h,
    };
    let resolved = (host, port).to_socket_addrs().map(|a| a.collect());
    (optional, resolved)
}

/// Opens a listening socket with Redis's options: SO_REUSEADDR, IPv6-only for IPv6
/// addresses (so `0.0.0.0` and `::` can both be bound), the configured backlog.
pub fn listen(addr: SocketAddr, backlog: u32) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(i32::try_from(backlog.max(1)).unwrap_or(i32::MAX))?;
    Ok(socket.into())
}

/// Binds every address of `bind` on `port` (port 0: the first listener's port is reused for
/// the others). Returns the listeners, or the first fatal error as Redis words it.
pub fn bind_all(
    bind: &[String],
    port: u16,
    backlog: u32,
    log: &Logger,
) -> Result<Vec<std::net::TcpListener>, String> {
    let mut out: Vec<std::net::TcpListener> = Vec::new();
    let mut port = port;
    for entry in bind {
        let (optional, resolved) = bind_addrs(entry, port);
        let result = resolved.and_then(|addrs| {
            let addr = addrs
                .into_iter()
                .next()
                .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no address"))?;
            listen(addr, backlog)
        });
        match result {
            Ok(l) => {
                if port == 0 {
                    port = l.local_addr().map(|a| a.port()).unwrap_or(0);
                }
                out.push(l);
            }
            Err(e) => {
                let host = entry.trim_start_matches('-');
                let msg = format!(
                    "Warning: Could not create server TCP listening socket {host}:{port}: bind: {}",
                    io_text(&e)
                );
                log.warning(&msg);
                if !optional {
                    return Err(format!("Failed listening on port {port} (tcp), aborting."));
                }
            }
        }
    }
    if out.is_empty() {
        return Err(format!("Failed listening on port {port} (tcp), aborting."));
    }
    Ok(out)
}

/// An I/O error's text without Rust's ` (os error N)` suffix.
pub fn io_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Serves until [`Shared::stop`] is called or SHUTDOWN fires, then drains connections.
/// Must run inside a tokio runtime; `listeners` must be non-blocking.
pub async fn serve(shared: Arc<Shared>, listeners: Vec<std::net::TcpListener>) {
    let engine = shared.engine.clone();
    let mut stop = shared.stopping();
    for l in listeners {
        match TcpListener::from_std(l) {
            Ok(l) => {
                tokio::spawn(accept_loop(shared.clone(), l));
            }
            Err(e) => shared
                .log
                .warning(&format!("Listener could not be registered: {e}")),
        }
    }
    tokio::spawn(cron(shared.clone()));
    tokio::select! {
        _ = stop.wait_for(|s| *s) => {}
        _ = engine.shutdown.wait() => {
            shared.log.warning("User requested shutdown...");
            shared.stop();
        }
    }
    drain(&shared).await;
}

/// How often the cron task looks at the configuration.
const CRON_PERIOD: Duration = Duration::from_millis(100);

/// Periodic server work (Redis's `serverCron`, for the parts that live in the server):
/// republishes the `timeout` directive when CONFIG SET changed it.
async fn cron(shared: Arc<Shared>) {
    let mut stop = shared.stopping();
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(CRON_PERIOD) => {}
        }
        let timeout = shared.engine.config.read().timeout;
        shared.timeout_tx.send_if_modified(|t| {
            let changed = *t != timeout;
            *t = timeout;
            changed
        });
    }
}

/// Waits until every connection task has ended, at most [`DRAIN_TIMEOUT`].
async fn drain(shared: &Shared) {
    let deadline = tokio::time::Instant::now() + DRAIN_TIMEOUT;
    loop {
        let ended = shared.conn_ended.notified();
        if shared.engine.stats.connected_clients.load(Ordering::SeqCst) == 0 {
            return;
        }
        if tokio::time::timeout_at(deadline, ended).await.is_err() {
            return;
        }
    }
}

async fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
    let mut stop = shared.stopping();
    loop {
        let accepted = tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            a = listener.accept() => a,
        };
        match accepted {
            Ok((sock, peer)) => {
                tokio::spawn(admit(shared.clone(), sock, peer));
            }
            Err(e) => {
                // EMFILE and friends: say so and back off instead of spinning.
                shared
                    .log
                    .warning(&format!("Accepting client connection: {}", io_text(&e)));
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// A client that closed just before another connected may not be counted out yet (its task
/// has not read the EOF). At `maxclients`, a new connection waits this long for a slot to
/// free up before it is refused, so a client that reconnects at once is not turned away by
/// its own previous connection.
const MAXCLIENTS_GRACE: Duration = Duration::from_millis(50);

/// Applies the admission rules (maxclients, protected mode), then runs the connection.
async fn admit(shared: Arc<Shared>, mut sock: TcpStream, peer: SocketAddr) {
    let engine = &shared.engine;
    let (maxclients, protected, keepalive) = {
        let c = engine.config.read();
        (
            c.maxclients,
            c.protected_mode && c.requirepass.is_empty(),
            c.tcp_keepalive,
        )
    };
    let stats = &engine.stats;
    // Take a slot atomically, so that concurrent admissions cannot overshoot the limit.
    let deadline = tokio::time::Instant::now() + MAXCLIENTS_GRACE;
    let mut refusal = None;
    loop {
        let ended = shared.conn_ended.notified();
        let took = stats
            .connected_clients
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < maxclients).then_some(n + 1)
            });
        if took.is_ok() {
            break;
        }
        if tokio::time::timeout_at(deadline, ended).await.is_err() {
            refusal = Some(MAX_CLIENTS_ERR);
            break;
        }
    }
    if refusal.is_none() && protected && !peer.ip().is_loopback() {
        stats.connected_clients.fetch_sub(1, Ordering::SeqCst);
        refusal = Some(DENIED_ERR);
    }
    if let Some(line) = refusal {
        stats.rejected_connections.fetch_add(1, Ordering::Relaxed);
        shared.log.verbose(&format!(
            "Error registering fd event for the new client connection from {peer}"
        ));
        let _ = sock.write_all(line).await;
        let _ = sock.shutdown().await;
        return;
    }
    let _ = sock.set_nodelay(true);
    if keepalive > 0 {
        let ka = socket2::TcpKeepalive::new().with_time(Duration::from_secs(keepalive));
        let _ = socket2::SockRef::from(&sock).set_tcp_keepalive(&ka);
    }
    stats
        .total_connections_received
        .fetch_add(1, Ordering::Relaxed);
    shared.log.verbose(&format!("Accepted {peer}"));
    connection::run(shared.clone(), sock, peer).await;
}
