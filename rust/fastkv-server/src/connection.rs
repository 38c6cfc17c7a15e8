//! One client connection: read, parse every complete command, execute, write once.
//!
//! The loop, per read:
//! 1. Read what the socket has into the query buffer (`inbuf`).
//! 2. Parse and run every complete command in it, encoding the replies into `out`
//!    (pipelining for free: 10,000 commands in one read produce one write). CLIENT REPLY
//!    OFF/SKIP are honoured here, reply by reply.
//! 3. Write `out`. Replies past [`OUT_FLUSH`] are written before parsing goes on, so a
//!    pipeline of big GETs never holds more than that in memory; a slow reader only stalls
//!    its own task (tokio parks it on the socket), never other clients.
//! 4. Publish the buffer sizes and last command to the client's shared info (one lock).
//!
//! Blocking commands (BLPOP...): `run_one` uses `Engine::execute_or_block`. When the client
//! blocks, the replies so far are written and the task waits for the first of: the reply
//! (delivered on a oneshot by whichever thread serves the waiter), the deadline (then
//! `unblock` decides between the timeout reply and a reply delivered concurrently), the server
//! stopping, CLIENT KILL, or the peer closing. Meanwhile it keeps reading only to notice a
//! disconnect: further commands stay buffered, unparsed, until the reply is out, as in Redis.
//! A blocked client that goes away is unregistered before the task ends.
//!
//! The task also ends, at once and even while idle, when the server stops, when CLIENT KILL
//! fires the client's kill signal, or when `timeout` seconds pass without a command. A
//! malformed request gets `-ERR Protocol error: ...` and closes this connection only; so does
//! an unparsed request longer than `client-query-buffer-limit` (with a log line).

use crate::server::Shared;
use fastkv_core::blocking::{Deliver, Outcome, WaiterId};
use fastkv_core::client::{ClientInfo, IoStats, NetAddr};
use fastkv_core::Client;
use fastkv_resp::{encode, parse_request, Frame, Limits, Parsed};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Room kept free in the query buffer before each read.
const READ_CHUNK: usize = 16 * 1024;
/// Output written before the rest of a pipeline is parsed.
const OUT_FLUSH: usize = 1024 * 1024;
/// A query buffer whose unused capacity exceeds this (after a big request) is shrunk.
const SHRINK_ABOVE: usize = 256 * 1024;

pub async fn run(shared: Arc<Shared>, sock: TcpStream, peer: SocketAddr) {
    let engine = shared.engine.clone();
    let net = NetAddr {
        addr: peer.to_string(),
        laddr: sock.local_addr().map(|a| a.to_string()).unwrap_or_default(),
        fd: raw_fd(&sock),
    };
    let client = engine.new_network_client(net);
    serve_client(&shared, sock, client).await;
    engine
        .stats
        .connected_clients
        .fetch_sub(1, Ordering::SeqCst);
    shared.connection_ended();
}

#[cfg(unix)]
fn raw_fd(sock: &TcpStream) -> i64 {
    use std::os::fd::AsRawFd;
    i64::from(sock.as_raw_fd())
}

#[cfg(not(unix))]
fn raw_fd(_sock: &TcpStream) -> i64 {
    -1
}

/// Per-batch settings read from the live configuration.
struct Settings {
    limits: Limits,
    timeout: Option<Duration>,
    query_limit: usize,
}

fn settings(shared: &Shared) -> Settings {
    let c = shared.engine.config.read();
    Settings {
        limits: Limits {
            max_bulk_len: c.proto_max_bulk_len,
        },
        timeout: (c.timeout > 0).then(|| Duration::from_secs(c.timeout)),
        query_limit: usize::try_from(c.client_query_buffer_limit).unwrap_or(usize::MAX),
    }
}

/// Serves until the peer goes, the server stops, the client is killed or times out, or a
/// command closes it.
async fn serve_client(shared: &Shared, mut sock: TcpStream, mut client: Client) {
    let engine = &shared.engine;
    let stats = &engine.stats;
    let info = client.info.clone();
    let mut stop = shared.stopping();
    let mut inbuf: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    let mut out: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    let mut start = 0usize;
    let mut peak = 0usize;
    let mut timeouts = shared.timeout_changes();
    let mut last_active = tokio::time::Instant::now();
    loop {
        let cfg = settings(shared);
        if inbuf.capacity() - inbuf.len() < READ_CHUNK / 2 {
            inbuf.reserve(READ_CHUNK);
        }
        let idle = async {
            match cfg.timeout {
                Some(t) => tokio::time::sleep_until(last_active + t).await,
                None => std::future::pending().await,
            }
        };
        let n = tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = info.kill.wait() => return,
            // CONFIG SET timeout: recompute the deadline from the last command.
            _ = timeouts.changed() => continue,
            _ = idle => {
                shared.log.verbose("Closing idle client");
                return;
            }
            r = sock.read_buf(&mut inbuf) => match r {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
        };
        last_active = tokio::time::Instant::now();
        stats
            .total_net_input_bytes
            .fetch_add(n as u64, Ordering::Relaxed);
        peak = peak.max(inbuf.len());
        {
            // Visible to CLIENT LIST while this batch runs, as Redis shows the live buffer.
            let mut s = info.state.lock();
            s.last_interaction_ms = fastkv_core::time::now_ms();
            s.io = IoStats {
                qbuf: (inbuf.len() - start) as u64,
                qbuf_free: (inbuf.capacity() - inbuf.len()) as u64,
                argv_mem: 0,
                rbs: inbuf.capacity() as u64,
                rbp: peak as u64,
                obl: 0,
            };
        }

        let mut close = false;
        loop {
            let parsed = parse_request(&inbuf[start..], &cfg.limits);
            let (consumed, pending) = match parsed {
                Ok(Parsed::Incomplete) => break,
                Ok(Parsed::Command { args, consumed }) => {
                    let pending = if args.is_empty() {
                        None
                    } else {
                        run_one(engine, &mut client, &args, &mut out)
                    };
                    (consumed, pending)
                }
                Ok(Parsed::Inline { args, consumed }) => {
                    let pending = if args.is_empty() {
                        None
                    } else {
                        let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
                        run_one(engine, &mut client, &refs, &mut out)
                    };
                    (consumed, pending)
                }
                Err(e) => {
                    encode(&Frame::error(format!("ERR {e}")), client.resp3(), &mut out);
                    shared.log.verbose(&format!(
                        "Protocol error ({e}) from client: id={}",
                        client.id
                    ));
                    close = true;
                    break;
                }
            };
            start += consumed;
            if let Some(p) = pending {
                // Replies so far go out first; the blocked reply follows when it comes.
                if !flush(&mut sock, &mut out, shared, &info).await {
                    engine.blocking.unblock(p.id);
                    return;
                }
                let skip = p.skip;
                let Some(reply) = wait_blocked(shared, &mut sock, &mut inbuf, &info, &cfg, p).await
                else {
                    return;
                };
                if client.take_reply_permission(skip) {
                    encode(&reply, client.resp3(), &mut out);
                }
                last_active = tokio::time::Instant::now();
            }
            if client.close_after_reply || info.kill.is_fired() {
                close = true;
                break;
            }
            if out.len() >= OUT_FLUSH && !flush(&mut sock, &mut out, shared, &info).await {
                return;
            }
        }

        // Keep only the unparsed tail.
        if start == inbuf.len() {
            inbuf.clear();
            start = 0;
        } else if start > 0 {
            inbuf.drain(..start);
            start = 0;
        }
        if inbuf.is_empty() && inbuf.capacity() > SHRINK_ABOVE {
            inbuf = Vec::with_capacity(READ_CHUNK);
        }

        if !flush(&mut sock, &mut out, shared, &info).await || close {
            return;
        }
        if inbuf.len() > cfg.query_limit {
            let head = String::from_utf8_lossy(&inbuf[..inbuf.len().min(64)]).into_owned();
            shared.log.warning(&format!(
                "Closing client that reached max query buffer length: id={} addr={} (qbuf initial bytes: {head:?})",
                client.id, info.addr
            ));
            return;
        }
        client.publish();
    }
}

/// A command that blocked: its waiter, deadline (ms since the epoch) and reply channel.
struct Pending {
    id: WaiterId,
    deadline_ms: Option<u64>,
    rx: tokio::sync::oneshot::Receiver<Frame>,
    /// CLIENT REPLY SKIP state from before the command.
    skip: bool,
}

/// Runs one command and encodes its reply unless CLIENT REPLY says otherwise; or, if it
/// blocked, returns what the caller needs to wait for its reply.
fn run_one(
    engine: &fastkv_core::Engine,
    client: &mut Client,
    args: &[&[u8]],
    out: &mut Vec<u8>,
) -> Option<Pending> {
    let skip = client.arm_reply_skip();
    let mut rx = None;
    // The channel is made only if the command blocks.
    let mut waker = || -> Deliver {
        let (tx, r) = tokio::sync::oneshot::channel();
        rx = Some(r);
        Box::new(move |f| {
            // The receiver is gone only if the connection ended meanwhile.
            let _ = tx.send(f);
        })
    };
    match engine.execute_or_block(client, args, &mut waker) {
        Outcome::Reply(reply) => {
            if client.take_reply_permission(skip) {
                encode(&reply, client.resp3(), out);
            }
            None
        }
        Outcome::Blocked { id, deadline_ms } => match rx {
            Some(rx) => Some(Pending {
                id,
                deadline_ms,
                rx,
                skip,
            }),
            None => {
                // Cannot happen (blocking calls the waker); never leave a waiter behind.
                engine.blocking.unblock(id);
                None
            }
        },
    }
}

/// Waits for a blocked command's reply; `None` if the connection must end (peer gone, server
/// stopping, CLIENT KILL, query buffer over its limit), with the waiter unregistered.
async fn wait_blocked(
    shared: &Shared,
    sock: &mut TcpStream,
    inbuf: &mut Vec<u8>,
    info: &ClientInfo,
    cfg: &Settings,
    p: Pending,
) -> Option<Frame> {
    let blocking = &shared.engine.blocking;
    let mut stop = shared.stopping();
    let Pending {
        id,
        deadline_ms,
        mut rx,
        ..
    } = p;
    let timer = async {
        match deadline_ms {
            Some(at) => {
                // Deadlines are whole ms from a clock read at the command's start: wait until
                // the clock is past it (as Redis checks `timeout < now`), never early.
                let left = (at + 1).saturating_sub(fastkv_core::time::now_ms());
                tokio::time::sleep(Duration::from_millis(left)).await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::pin!(timer);
    loop {
        if inbuf.capacity() - inbuf.len() < READ_CHUNK / 2 {
            inbuf.reserve(READ_CHUNK);
        }
        tokio::select! {
            r = &mut rx => return Some(r.unwrap_or(Frame::NullArray)),
            _ = &mut timer => {
                if let Some(timeout_reply) = blocking.unblock(id) {
                    return Some(timeout_reply);
                }
                // Served while the timer fired: its reply is on the way.
                break;
            }
            _ = stop.wait_for(|s| *s) => {
                blocking.unblock(id);
                return None;
            }
            _ = info.kill.wait() => {
                blocking.unblock(id);
                return None;
            }
            r = sock.read_buf(inbuf) => match r {
                Ok(0) | Err(_) => {
                    blocking.unblock(id);
                    return None;
                }
                Ok(n) => {
                    shared
                        .engine
                        .stats
                        .total_net_input_bytes
                        .fetch_add(n as u64, Ordering::Relaxed);
                    if inbuf.len() > cfg.query_limit {
                        blocking.unblock(id);
                        return None;
                    }
                }
            },
        }
    }
    Some(rx.await.unwrap_or(Frame::NullArray))
}

/// Writes and clears `out`; false if the peer is gone.
/// A write the peer does not drain is abandoned when the server stops or the client is
/// killed.
async fn flush(
    sock: &mut TcpStream,
    out: &mut Vec<u8>,
    shared: &Shared,
    info: &ClientInfo,
) -> bool {
    if out.is_empty() {
        return true;
    }
    let mut stop = shared.stopping();
    let written = tokio::select! {
        r = sock.write_all(out) => r.is_ok(),
        _ = stop.wait_for(|s| *s) => false,
        _ = info.kill.wait() => false,
    };
    if !written {
        return false;
    }
    shared
        .engine
        .stats
        .total_net_output_bytes
        .fetch_add(out.len() as u64, Ordering::Relaxed);
    // A huge reply leaves a huge buffer behind: give it back.
    if out.capacity() > OUT_FLUSH * 2 {
        *out = Vec::with_capacity(READ_CHUNK);
    } else {
        out.clear();
    }
    true
}
