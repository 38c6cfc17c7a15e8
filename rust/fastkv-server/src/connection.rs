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
//! Client eviction (`maxmemory-clients`): after each read, before a mid-pipeline flush and
//! before each write, the connection reports what its buffers hold if that changed (see
//! [`MemReport`]); when all clients together are at or over the limit, the engine closes the
//! ones holding the most, this one possibly included. While only CLIENT NO-EVICT clients keep
//! the total over the limit, every report looks for a client to evict and finds none: a walk
//! of the client list per batch, as Redis also retries on every command.
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

use crate::gate::Gated;
use crate::server::Shared;
use fastkv_core::blocking::{Deliver, Outcome, WaiterId};
use fastkv_core::client::{ClientInfo, IoStats, NetAddr};
use fastkv_core::pubsub::Sink;
use fastkv_core::Client;
use fastkv_resp::{encode, parse_request_into, Frame, Limits, ParsedInto};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Room kept free in the query buffer before each read.
const READ_CHUNK: usize = 16 * 1024;
/// Output written before the rest of a pipeline is parsed.
const OUT_FLUSH: usize = 1024 * 1024;
/// A query buffer whose unused capacity exceeds this (after a big request) is shrunk.
const SHRINK_ABOVE: usize = 256 * 1024;
/// An argument of at least this many bytes gets its whole room in the query buffer before it
/// arrives (Redis's `PROTO_MBULK_BIG_ARG`).
const BIG_ARG: usize = 32 * 1024;
/// A command of at least this many bytes on the wire runs off the worker (see `run_one`).
const BIG_COMMAND: usize = 1024 * 1024;

pub async fn run(shared: Arc<Shared>, sock: TcpStream, peer: SocketAddr) {
    let engine = shared.engine.clone();
    let net = NetAddr {
        addr: peer.to_string(),
        laddr: sock.local_addr().map(|a| a.to_string()).unwrap_or_default(),
        fd: raw_fd(&sock),
    };
    let mut client = engine.new_network_client(net);
    // Pub/sub pushes wait in this sink; over `client-output-buffer-limit pubsub` it fires the
    // client's kill signal (the publisher never waits for this connection).
    let sink = {
        let info = client.info.clone();
        Sink::with_close_hook(Box::new(move || info.kill.fire()))
    };
    client.sink = Some(sink.clone());
    let info = client.info.clone();
    serve_client(&shared, sock, client).await;
    if sink.is_closed() {
        shared.log.warning(&format!(
            "Client {} scheduled to be closed ASAP for overcoming of output buffer limits.",
            info.line(fastkv_core::time::now_ms())
        ));
    }
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
    let mut inbuf: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    let mut out: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    let mut start = 0usize;
    let mut peak = 0usize;
    let mut mem = MemReport::default();
    // When the last command came (ms since the epoch), for the idle timeout.
    // (Atomics only because the task must be `Send`: one thread uses them.)
    let last_active_ms = AtomicU64::new(fastkv_core::time::now_ms());
    let sink = client.sink.clone().unwrap_or_else(Sink::new);
    // Everything but the socket, in one future that stays armed across turns of the loop and
    // is polled only when one of its parts woke it (see [`crate::gate`]).
    // The idle limit in ms, 0 for none.
    let idle_limit_ms = AtomicU64::new(0);
    let mut stop = shared.stopping();
    let mut stop_wait = pin!(stop.wait_for(|s| *s));
    let mut timeout_wait = pin!(next_change(shared.timeout_changes()));
    let mut idle_sleep = pin!(tokio::time::sleep(Duration::ZERO));
    let mut idle_armed: Option<tokio::time::Instant> = None;
    let mut others = Gated::new(std::future::poll_fn(|cx| {
        if stop_wait.as_mut().poll(cx).is_ready() || pin!(info.kill.wait()).poll(cx).is_ready() {
            return Poll::Ready(Wake::End);
        }
        // CONFIG SET timeout: the loop recomputes the idle limit.
        if let Poll::Ready(rx) = timeout_wait.as_mut().poll(cx) {
            timeout_wait.set(next_change(rx));
            return Poll::Ready(Wake::Recheck);
        }
        let limit_ms = idle_limit_ms.load(Ordering::Relaxed);
        if limit_ms > 0 {
            let deadline_ms = last_active_ms
                .load(Ordering::Relaxed)
                .saturating_add(limit_ms);
            let left = deadline_ms.saturating_sub(fastkv_core::time::now_ms());
            if left == 0 {
                return Poll::Ready(Wake::Idle);
            }
            // The timer is armed at most as late as the deadline; when it fires early (the
            // client was active since) it is armed again for the later deadline.
            let at = tokio::time::Instant::now() + Duration::from_millis(left);
            if idle_armed.is_none_or(|armed| armed > at) {
                idle_sleep.as_mut().reset(at);
                idle_armed = Some(at);
            }
            if idle_sleep.as_mut().poll(cx).is_ready() {
                idle_armed = None;
                return Poll::Ready(Wake::Recheck);
            }
        }
        // Pub/sub messages for an idle client go out at once. A subscriber's pushes that come
        // while it sends commands go out before each reply (`run_one`).
        if pin!(sink.wait()).poll(cx).is_ready() {
            return Poll::Ready(Wake::Pushes);
        }
        Poll::Pending
    }));
    // One argument vector for every command of the connection (see [`recycle`]).
    let mut spare_argv: Vec<&'static [u8]> = Vec::new();
    // The query buffer's length the unparsed request needs at least, when a big payload of
    // it (`BIG_ARG` or more still to come) is arriving, else 0; the request starts at 0
    // whenever this is set.
    let mut awaited = 0usize;
    loop {
        // The select below tries the socket first, so a client that keeps sending is not
        // checked for these there.
        if shared.is_stopping() || info.kill.is_fired() {
            return;
        }
        let cfg = settings(shared);
        // While a big argument arrives into the room made for it (below), no growing.
        if inbuf.capacity() - inbuf.len() < READ_CHUNK / 2 && inbuf.len() >= awaited {
            inbuf.reserve(READ_CHUNK);
        }
        // Subscribers are never closed for idleness (Redis).
        let limit_ms = cfg
            .timeout
            .filter(|_| client.subscriptions() == 0)
            .map_or(0, |t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX));
        if idle_limit_ms.swap(limit_ms, Ordering::Relaxed) != limit_ms {
            others.open();
        }
        let n = tokio::select! {
            // Fixed order: no random start (a thread-local RNG draw per read). The socket
            // first: woken because it is readable (the usual case), the task polls nothing
            // else.
            biased;
            r = sock.read_buf(&mut inbuf) => match r {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            w = &mut others => match w {
                Wake::End => return,
                Wake::Recheck => continue,
                Wake::Idle => {
                    shared.log.verbose("Closing idle client");
                    return;
                }
                // Written below, after the select: the other branches' outputs must not live
                // across that write.
                Wake::Pushes => PUSHES_READY,
            },
        };
        if n == PUSHES_READY {
            if sink.is_closed()
                || !write_pushes(&sink, client.resp3(), &mut sock, &mut out, shared, &info).await
            {
                return;
            }
            continue;
        }
        let now = fastkv_core::time::now_ms();
        last_active_ms.store(now, Ordering::Relaxed);
        stats
            .total_net_input_bytes
            .fetch_add(n as u64, Ordering::Relaxed);
        peak = peak.max(inbuf.len());
        {
            // Visible to CLIENT LIST while this batch runs, as Redis shows the live buffer.
            let mut s = info.state.lock();
            s.last_interaction_ms = now;
            s.io = IoStats {
                qbuf: (inbuf.len() - start) as u64,
                qbuf_free: (inbuf.capacity() - inbuf.len()) as u64,
                argv_mem: 0,
                rbs: inbuf.capacity() as u64,
                rbp: peak as u64,
                obl: 0,
            };
        }
        // maxmemory-clients: a growing query buffer may close this client (or others)
        // before any of its commands run, as Redis evicts before processing.
        if mem.update(shared, &info, held(&inbuf, &out, &client, &sink)) {
            return;
        }

        let mut close = false;
        awaited = 0;
        loop {
            let mut argv = recycle(std::mem::take(&mut spare_argv));
            let parsed = parse_request_into(&inbuf[start..], &cfg.limits, &mut argv);
            let (consumed, pending) = match parsed {
                Ok(ParsedInto::Incomplete { needed }) => {
                    // Only for a big payload still to come: a long request of small
                    // arguments grows as usual.
                    let arrived = inbuf.len() - start;
                    awaited = needed
                        .filter(|&n| n.saturating_sub(arrived) >= BIG_ARG)
                        .unwrap_or(0);
                    spare_argv = recycle(argv);
                    break;
                }
                Ok(ParsedInto::Command { consumed }) => {
                    let pending = if argv.is_empty() {
                        None
                    } else {
                        run_one(engine, &mut client, &argv, consumed, &mut out)
                    };
                    (consumed, pending)
                }
                Ok(ParsedInto::Inline { args, consumed }) => {
                    let pending = if args.is_empty() {
                        None
                    } else {
                        let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
                        run_one(engine, &mut client, &refs, consumed, &mut out)
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
            spare_argv = recycle(argv);
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
                last_active_ms.store(fastkv_core::time::now_ms(), Ordering::Relaxed);
            }
            if client.close_after_reply || info.kill.is_fired() {
                close = true;
                break;
            }
            if out.len() >= OUT_FLUSH
                && (mem.update(shared, &info, held(&inbuf, &out, &client, &sink))
                    || !flush(&mut sock, &mut out, shared, &info).await)
            {
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
        // A big argument on its way gets its whole room now (plus a read's worth for the
        // arguments after it), as Redis sizes its query buffer for a big bulk: growing by
        // doubling would copy it again and again while it arrives.
        if awaited > 0 && inbuf.capacity() < awaited + READ_CHUNK {
            inbuf.reserve_exact(awaited + READ_CHUNK - inbuf.len());
        }

        // The replies waiting to go out count too (a reader that does not drain them).
        if mem.update(shared, &info, held(&inbuf, &out, &client, &sink)) {
            return;
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

/// What a connection costs besides its buffers (its task, its `Client`), for
/// `maxmemory-clients`.
const CLIENT_BASE_BYTES: usize = 1024;

/// What this connection's buffers hold, for client eviction: the query buffer, the replies
/// not yet written and, for a subscriber, its queued pushes.
fn held(inbuf: &Vec<u8>, out: &Vec<u8>, client: &Client, sink: &Sink) -> usize {
    let pushes = if client.subs.is_some() {
        sink.bytes()
    } else {
        0
    };
    CLIENT_BASE_BYTES + inbuf.capacity() + out.capacity() + pushes
}

/// Client eviction, per connection: the figure it last reported.
#[derive(Default)]
struct MemReport {
    reported: usize,
}

impl MemReport {
    /// Reports `bytes` if they changed, or whenever every client's total is at or over
    /// `maxmemory-clients` (a limit just lowered), and logs the clients that closes; true if
    /// this client is among them. Usually two shared reads and a comparison.
    fn update(&mut self, shared: &Shared, info: &ClientInfo, bytes: usize) -> bool {
        if bytes == self.reported && !shared.engine.client_memory_over_limit() {
            return false;
        }
        self.reported = bytes;
        report_memory(shared, info, bytes);
        info.kill.is_fired()
    }
}

#[inline(never)]
fn report_memory(shared: &Shared, info: &ClientInfo, bytes: usize) {
    let bytes = u64::try_from(bytes).unwrap_or(u64::MAX);
    for line in shared.engine.track_client_memory(info, bytes) {
        shared.log.verbose(&format!("Evicting client: {line}"));
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
/// Runs one parsed command of `wire_len` bytes on the wire.
fn run_one(
    engine: &fastkv_core::Engine,
    client: &mut Client,
    args: &[&[u8]],
    wire_len: usize,
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
    // A script (or a command waiting for one) may hold this thread for long, and so does a
    // command that copies megabytes (storing a big value copies it into fresh pages: 32 MB took
    // 40-50 ms here, page faults included): hand the worker's other tasks to another thread
    // first, so connections keep being served (SCRIPT KILL, -BUSY replies, everyone else's
    // commands). One atomic load and a name check otherwise.
    let outcome = if wire_len >= BIG_COMMAND || fastkv_core::scripting::may_run_long(engine, args) {
        tokio::task::block_in_place(|| engine.execute_or_block(client, args, &mut waker))
    } else {
        engine.execute_or_block(client, args, &mut waker)
    };
    if client.subs.is_some() {
        // Pushes queued by this command (its subscribe confirmations, a message it published
        // to itself) or meanwhile go before its reply, as Redis orders them.
        if let Some(sink) = &client.sink {
            sink.drain_into(client.resp3(), out, usize::MAX);
        }
    }
    match outcome {
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

/// An empty vector with `v`'s allocation, for borrows of another lifetime: the connection's
/// argument vector outlives each borrow of the read buffer it holds, and this hands its
/// allocation from one borrow to the next (the in-place `collect` keeps the buffer; the map
/// never runs on an empty vector).
fn recycle<'b>(mut v: Vec<&[u8]>) -> Vec<&'b [u8]> {
    v.clear();
    v.into_iter().map(|_| -> &'b [u8] { &[] }).collect()
}

/// Waits for the next change of a `watch` channel and hands the receiver back, so that the
/// wait can stay armed across loop turns. A closed channel never changes again.
async fn next_change<T>(
    mut rx: tokio::sync::watch::Receiver<T>,
) -> tokio::sync::watch::Receiver<T> {
    if rx.changed().await.is_err() {
        std::future::pending::<()>().await;
    }
    rx
}

/// What, besides its socket, wakes a connection between batches.
enum Wake {
    /// The server is stopping or the client was killed.
    End,
    /// Idle longer than `timeout`.
    Idle,
    /// Pub/sub pushes are queued.
    Pushes,
    /// The `timeout` changed or the idle timer fired early: look again.
    Recheck,
}

/// What the main select yields when the pub/sub sink has pushes (no read returns this many
/// bytes).
const PUSHES_READY: usize = usize::MAX;
/// Pushes written per round while the sink keeps filling, before commands get a turn.
const PUSH_CHUNK: usize = 64 * 1024;
const PUSH_ROUNDS: usize = 16;

/// Writes the sink's pushes, a chunk at a time (so at most [`PUSH_CHUNK`] leaves the counted
/// sink for the uncounted output buffer while a slow reader stalls the write); false if the
/// peer is gone or the client was killed (the sink over its limit kills it).
async fn write_pushes(
    sink: &Sink,
    resp3: bool,
    sock: &mut TcpStream,
    out: &mut Vec<u8>,
    shared: &Shared,
    info: &ClientInfo,
) -> bool {
    for _ in 0..PUSH_ROUNDS {
        if sink.drain_into(resp3, out, PUSH_CHUNK) == 0 {
            break;
        }
        if !flush(sock, out, shared, info).await {
            return false;
        }
    }
    true
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
    // Usually the socket takes it all at once: no future, no stop or kill wait to arm.
    let done = match sock.try_write(out) {
        Ok(n) => n,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => 0,
        Err(_) => return false,
    };
    if let Some(rest) = out.get(done..).filter(|r| !r.is_empty()) {
        let mut stop = shared.stopping();
        let written = tokio::select! {
            r = sock.write_all(rest) => r.is_ok(),
            _ = stop.wait_for(|s| *s) => false,
            _ = info.kill.wait() => false,
        };
        if !written {
            return false;
        }
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

#[cfg(test)]
mod recycle_tests {
    use super::recycle;

    #[test]
    fn recycle_keeps_the_allocation() {
        let buf = b"abc".to_vec();
        let mut v: Vec<&[u8]> = Vec::with_capacity(8);
        v.push(&buf[..1]);
        let cap = v.capacity();
        let ptr = v.as_ptr() as usize;
        let w: Vec<&'static [u8]> = recycle(v);
        assert!(w.is_empty());
        assert_eq!(w.capacity(), cap);
        assert_eq!(w.as_ptr() as usize, ptr);
    }
}
