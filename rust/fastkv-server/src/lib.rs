//! fastkv's network server: a tokio listener in front of a shared [`Engine`].
//!
//! Layout:
//! - [`serve`]: binds, accepts, and runs one task per connection; [`ServerHandle`] stops it.
//! - [`connection`]: the per-connection loop — read into a buffer, run every complete command
//!   in it, write all replies with one write (pipelining for free).
//! - [`main_with_args`]: the `fastkv-server` command line.

pub mod connection;

use fastkv_core::Engine;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// A running server; dropping it does not stop it, `close()` does.
pub struct ServerHandle {
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ServerHandle {
    /// Stops accepting, closes connections, and waits for the server thread to end.
    pub fn close(&mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Serves `engine` on `host:port` from background threads (port 0 picks a free port).
pub fn spawn(engine: Arc<Engine>, host: &str, port: u16) -> std::io::Result<ServerHandle> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let listener = rt.block_on(TcpListener::bind((host, port)))?;
    let addr = listener.local_addr()?;
    let (stop, stop_rx) = watch::channel(false);
    let thread = std::thread::Builder::new()
        .name("fastkv-server".into())
        .spawn(move || {
            rt.block_on(accept_loop(engine, listener, stop_rx));
            rt.shutdown_timeout(std::time::Duration::from_secs(1));
        })?;
    Ok(ServerHandle {
        addr,
        stop,
        thread: Some(thread),
    })
}

async fn accept_loop(engine: Arc<Engine>, listener: TcpListener, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            accepted = listener.accept() => {
                if let Ok((sock, _peer)) = accepted {
                    let _ = sock.set_nodelay(true);
                    let engine = engine.clone();
                    let stop = stop.clone();
                    tokio::spawn(connection::run(engine, sock, stop));
                }
            }
        }
    }
}

/// The `fastkv-server` command line; returns the process exit code.
pub fn main_with_args(args: &[String]) -> i32 {
    let mut port: u16 = 6379;
    let mut bind = "127.0.0.1".to_string();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--port" => {
                port = args.get(i + 1).and_then(|p| p.parse().ok()).unwrap_or(6379);
                i += 2;
            }
            "--bind" => {
                bind = args.get(i + 1).cloned().unwrap_or(bind);
                i += 2;
            }
            _ => i += 1,
        }
    }
    let engine = Engine::new(fastkv_core::Config::default());
    let mut handle = match spawn(engine, &bind, port) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("Could not create server TCP listening socket {bind}:{port}: {e}");
            return 1;
        }
    };
    println!("Ready to accept connections tcp");
    if let Some(t) = handle.thread.take() {
        let _ = t.join();
    }
    0
}
