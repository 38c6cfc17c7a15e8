//! [`Client`]: the per-caller state every command runs with — a network connection, the
//! embedded Python store, AOF replay or a script all have one.
//!
//! A `Client` is owned by its caller and passed `&mut` to every command, so handlers read and
//! change it without locks. What *other* clients must see (CLIENT LIST, CLIENT KILL, INFO
//! clients) lives in a shared [`ClientInfo`], registered in the engine's [`Registry`] for as
//! long as the `Client` lives (dropping it unregisters it). The owner publishes its state there
//! at moments that are cheap to reach — once per network read, and in the handlers that change
//! the name, database or protocol — never on every command.
//!
//! [`Signal`] is a tiny runtime-agnostic one-shot event (the core has no tokio): the network
//! server awaits a client's `kill` signal next to its socket read, and the engine's shutdown
//! signal, so CLIENT KILL and SHUTDOWN take effect at once even on idle connections.

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};

/// RESP protocol version a client speaks.
pub type Proto = u8;

/// CLIENT REPLY mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    /// Skip the reply of the next command only.
    Skip,
}

/// Where a client comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    /// A TCP connection.
    Network,
    /// An in-process caller (the Python `Store`): no socket, cannot be killed.
    Embedded,
}

/// Per-caller state.
#[derive(Debug)]
pub struct Client {
    pub id: u64,
    /// Selected database.
    pub db: usize,
    /// 2 or 3 (HELLO).
    pub proto: Proto,
    pub name: Option<Vec<u8>>,
    pub reply_mode: ReplyMode,
    /// Set by QUIT: the connection closes after this reply is written.
    pub close_after_reply: bool,
    /// Set by a handler whose own reply must not be sent (CLIENT REPLY OFF/SKIP, SHUTDOWN).
    /// Front ends consult [`Client::take_reply_permission`].
    pub no_reply: bool,
    /// CLIENT NO-EVICT.
    pub no_evict: bool,
    /// CLIENT NO-TOUCH.
    pub no_touch: bool,
    /// Blocking commands must not block (inside MULTI, a script, a waiter's re-run): they
    /// answer their timeout reply at once. Checked by the dispatcher.
    pub no_block: bool,
    /// The last command's table name (`get`, `client|list`), set by the dispatcher.
    pub last_cmd: &'static str,
    /// What other clients see of this one.
    pub info: Arc<ClientInfo>,
    registry: Weak<Registry>,
    /// Where this client's pub/sub pushes go: installed by the front end (a network
    /// connection, the Python `PubSub`) or made by the first SUBSCRIBE. See [`crate::pubsub`].
    pub sink: Option<Arc<crate::pubsub::Sink>>,
    /// Its channel, pattern and shard-channel subscriptions; dropping them unsubscribes.
    pub subs: Option<crate::pubsub::Subscription>,
    /// MULTI's queue and the WATCHed keys (see [`crate::watch`]); dropping it unwatches.
    pub tx: crate::watch::TxState,
    /// Runs of `fast` commands, for timing one in [`crate::dispatch::FAST_TIMING_SAMPLE`].
    pub(crate) fast_runs: u32,
}

impl Client {
    /// An unregistered client (AOF replay, scripts, tests): invisible to CLIENT LIST.
    pub fn new(id: u64) -> Self {
        Client::with_info(
            Arc::new(ClientInfo::new(id, ClientKind::Embedded, None)),
            Weak::new(),
        )
    }

    fn with_info(info: Arc<ClientInfo>, registry: Weak<Registry>) -> Self {
        Client {
            id: info.id,
            db: 0,
            proto: 2,
            name: None,
            reply_mode: ReplyMode::On,
            close_after_reply: false,
            no_reply: false,
            no_evict: false,
            no_touch: false,
            no_block: false,
            last_cmd: "",
            info,
            registry,
            sink: None,
            subs: None,
            tx: Default::default(),
            fast_runs: 0,
        }
    }

    pub fn resp3(&self) -> bool {
        self.proto >= 3
    }

    /// Subscriptions of every kind (channels, patterns, shard channels): non-zero puts a
    /// RESP2 client in subscriber mode.
    pub fn subscriptions(&self) -> usize {
        self.subs.as_ref().map_or(0, |s| s.total())
    }

    /// Called by a front end once per command, after it ran: whether its reply is sent.
    /// Implements CLIENT REPLY OFF/SKIP (and handlers that reply nothing, like SHUTDOWN).
    pub fn take_reply_permission(&mut self, skip_armed_before: bool) -> bool {
        let send = !skip_armed_before && !self.no_reply && self.reply_mode != ReplyMode::Off;
        self.no_reply = false;
        send
    }

    /// Called by a front end before each command: whether an earlier CLIENT REPLY SKIP
    /// silences this one (pass the result to [`Client::take_reply_permission`]).
    pub fn arm_reply_skip(&mut self) -> bool {
        if self.reply_mode == ReplyMode::Skip {
            self.reply_mode = ReplyMode::On;
            true
        } else {
            false
        }
    }

    /// Copies the state other clients see (name, db, protocol, flags, last command) into
    /// [`ClientInfo`].
    pub fn publish(&self) {
        let mut s = self.info.state.lock();
        s.db = self.db;
        s.proto = self.proto;
        s.last_cmd = self.last_cmd;
        s.no_evict = self.no_evict;
        s.no_touch = self.no_touch;
        (s.sub, s.psub, s.ssub) = self.subs.as_ref().map_or((0, 0, 0), |p| p.counts());
        s.multi = self.tx.queued();
        s.watch = self.tx.flag();
        if s.name != self.name {
            s.name.clone_from(&self.name);
        }
    }

    /// Back to a fresh connection's state (RESET): RESP2, db 0, no name, replies on.
    pub fn reset(&mut self) {
        self.db = 0;
        self.proto = 2;
        self.name = None;
        self.reply_mode = ReplyMode::On;
        self.no_evict = false;
        self.no_touch = false;
        // Leaves every channel, pattern and shard channel, without confirmations (Redis).
        self.subs = None;
        // Discards MULTI and unwatches every key.
        self.tx.reset();
        self.publish();
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if let Some(r) = self.registry.upgrade() {
            r.clients.lock().remove(&self.id);
            r.untrack(&self.info);
        }
    }
}

/// What the network server measures about a connection's buffers (CLIENT LIST fields).
#[derive(Debug, Default, Clone, Copy)]
pub struct IoStats {
    /// Unparsed bytes in the query buffer.
    pub qbuf: u64,
    /// Free room in the query buffer.
    pub qbuf_free: u64,
    /// Bytes held by the arguments of the command being run (`argv-mem`).
    pub argv_mem: u64,
    /// Read buffer size and its peak.
    pub rbs: u64,
    pub rbp: u64,
    /// Output bytes waiting to be written.
    pub obl: u64,
}

/// The mutable part of [`ClientInfo`].
#[derive(Debug, Default)]
pub struct SharedState {
    pub name: Option<Vec<u8>>,
    pub db: usize,
    pub proto: Proto,
    pub last_cmd: &'static str,
    /// ms since the epoch of the last command (idle=).
    pub last_interaction_ms: u64,
    pub lib_name: Vec<u8>,
    pub lib_ver: Vec<u8>,
    pub no_evict: bool,
    pub no_touch: bool,
    pub io: IoStats,
    /// Subscribed channels, patterns, shard channels (CLIENT LIST `sub=`/`psub=`/`ssub=`).
    pub sub: usize,
    pub psub: usize,
    pub ssub: usize,
    /// Commands queued in MULTI, `None` outside it (CLIENT LIST `multi=`, flag `x`).
    pub multi: Option<usize>,
    /// The client's WATCH flag, read live: a WATCHed key changed (CLIENT LIST flag `d`).
    pub watch: Option<Arc<crate::watch::WatchFlag>>,
}

/// A client as the rest of the engine sees it: shared, read by CLIENT LIST/KILL and INFO.
#[derive(Debug)]
pub struct ClientInfo {
    pub id: u64,
    pub kind: ClientKind,
    /// Peer and local address (`ip:port`), network clients only.
    pub addr: String,
    pub laddr: String,
    /// The socket's file descriptor (-1 for embedded clients).
    pub fd: i64,
    /// ms since the epoch.
    pub created_ms: u64,
    pub state: Mutex<SharedState>,
    /// Fired by CLIENT KILL; the connection awaits it and closes.
    pub kill: Signal,
    /// Bytes its buffers hold, as its front end last reported them (network clients; see
    /// [`Registry::track`]), summed in the registry for `maxmemory-clients`.
    mem: AtomicU64,
}

/// A network client's addresses.
#[derive(Debug, Clone)]
pub struct NetAddr {
    pub addr: String,
    pub laddr: String,
    pub fd: i64,
}

impl ClientInfo {
    pub fn new(id: u64, kind: ClientKind, net: Option<NetAddr>) -> Self {
        let now = crate::time::now_ms();
        let net = net.unwrap_or(NetAddr {
            addr: String::new(),
            laddr: String::new(),
            fd: -1,
        });
        ClientInfo {
            id,
            kind,
            addr: net.addr,
            laddr: net.laddr,
            fd: net.fd,
            created_ms: now,
            state: Mutex::new(SharedState {
                proto: 2,
                last_interaction_ms: now,
                ..SharedState::default()
            }),
            kill: Signal::default(),
            mem: AtomicU64::new(0),
        }
    }

    /// Bytes held by this client's buffers, as last reported (0 for embedded clients).
    pub fn memory(&self) -> u64 {
        self.mem.load(Ordering::Relaxed)
    }

    /// The client's type for CLIENT LIST/KILL TYPE: `normal` (pubsub, master, replica later).
    pub fn type_name(&self) -> &'static str {
        let s = self.state.lock();
        if s.sub + s.psub + s.ssub > 0 {
            "pubsub"
        } else {
            "normal"
        }
    }

    /// One CLIENT LIST / CLIENT INFO line (without the trailing newline), Redis 7 format,
    /// plus the 7.2 `lib-name`/`lib-ver` fields.
    pub fn line(&self, now_ms: u64) -> String {
        let s = self.state.lock();
        let mut flags = String::new();
        if s.sub + s.psub + s.ssub > 0 {
            flags.push('P');
        }
        if s.multi.is_some() {
            flags.push('x');
        }
        if s.watch.as_ref().is_some_and(|w| w.is_dirty()) {
            flags.push('d');
        }
        if s.no_evict {
            flags.push('e');
        }
        if s.no_touch {
            flags.push('T');
        }
        if flags.is_empty() {
            flags.push('N');
        }
        let (addr, laddr) = match self.kind {
            ClientKind::Network => (self.addr.as_str(), self.laddr.as_str()),
            // Embedded callers have no socket; shown like Redis's socketless clients.
            ClientKind::Embedded => ("embedded:0", "embedded:0"),
        };
        let name = String::from_utf8_lossy(s.name.as_deref().unwrap_or(b""));
        let cmd = if s.last_cmd.is_empty() {
            "NULL"
        } else {
            s.last_cmd
        };
        let io = s.io;
        // Roughly what Redis counts: the client struct, its buffers.
        // What client eviction counts, once the front end reported it (see
        // [`Registry::track`]); an estimate from the buffer sizes otherwise.
        let tot_mem = match self.memory() {
            0 => 1024 + io.rbs + io.qbuf + io.argv_mem + io.obl,
            m => m,
        };
        format!(
            "id={} addr={addr} laddr={laddr} fd={} name={name} age={} idle={} flags={flags} \
             db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free={} argv-mem={} multi-mem=0 \
             rbs={} rbp={} obl={} oll=0 omem=0 tot-mem={tot_mem} events=r cmd={cmd} \
             user=default redir=-1 resp={} lib-name={} lib-ver={}",
            self.id,
            self.fd,
            now_ms.saturating_sub(self.created_ms) / 1000,
            now_ms.saturating_sub(s.last_interaction_ms) / 1000,
            s.db,
            s.sub,
            s.psub,
            s.ssub,
            s.multi.map_or(-1, |n| n as i64),
            io.qbuf,
            io.qbuf_free,
            io.argv_mem,
            io.rbs,
            io.rbp,
            io.obl,
            s.proto,
            String::from_utf8_lossy(&s.lib_name),
            String::from_utf8_lossy(&s.lib_ver),
        )
    }
}

/// Every registered client, by id (so CLIENT LIST comes out in id order).
///
/// A `parking_lot::Mutex`, not an async one: it is held for a map insert or removal on
/// connect/disconnect, or while cloning the `Arc`s for CLIENT LIST — never across I/O.
#[derive(Debug, Default)]
pub struct Registry {
    clients: Mutex<BTreeMap<u64, Arc<ClientInfo>>>,
    /// Client eviction (`maxmemory-clients`): the sum of every client's [`ClientInfo::memory`]
    /// and the limit in bytes (0: off).
    mem_total: AtomicU64,
    mem_limit: AtomicU64,
    /// Held by the one thread choosing clients to evict.
    evicting: Mutex<()>,
}

/// Redis's floor for the effective `maxmemory-clients`: a smaller setting would leave no room
/// to talk to the server at all.
pub const MIN_CLIENT_MEMORY_LIMIT: u64 = 128 * 1024;

impl Registry {
    /// Registers a new client; it unregisters itself when dropped.
    pub fn register(self: &Arc<Self>, info: ClientInfo) -> Client {
        let info = Arc::new(info);
        self.clients.lock().insert(info.id, info.clone());
        Client::with_info(info, Arc::downgrade(self))
    }

    pub fn len(&self) -> usize {
        self.clients.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A snapshot of every client, in id order.
    pub fn all(&self) -> Vec<Arc<ClientInfo>> {
        self.clients.lock().values().cloned().collect()
    }

    pub fn get(&self, id: u64) -> Option<Arc<ClientInfo>> {
        self.clients.lock().get(&id).cloned()
    }

    /// Sets the client-eviction limit in bytes (0: off); below [`MIN_CLIENT_MEMORY_LIMIT`]
    /// the floor applies.
    pub fn set_memory_limit(&self, bytes: u64) {
        let limit = if bytes == 0 {
            0
        } else {
            bytes.max(MIN_CLIENT_MEMORY_LIMIT)
        };
        self.mem_limit.store(limit, Ordering::Relaxed);
    }

    /// The client-eviction limit in bytes (0: off).
    pub fn memory_limit(&self) -> u64 {
        self.mem_limit.load(Ordering::Relaxed)
    }

    /// Bytes held by every client's buffers (INFO `mem_clients_normal`).
    pub fn memory(&self) -> u64 {
        self.mem_total.load(Ordering::Relaxed)
    }

    /// Records that `client`'s buffers now hold `bytes`; true when every client's total has
    /// reached the limit (then [`Registry::evict`] picks the clients to close). A client
    /// already killed is not counted again.
    pub fn track(&self, client: &ClientInfo, bytes: u64) -> bool {
        if client.kill.is_fired() {
            return false;
        }
        let limit = self.memory_limit();
        // Usually unchanged since the last batch: then only shared reads (the total's cache
        // line is not written by every connection on every batch).
        if client.mem.load(Ordering::Relaxed) == bytes {
            return limit > 0 && self.memory() >= limit;
        }
        // Every change of a client's figure goes into the total as the difference from the
        // figure it replaced, so the total stays the sum whatever the interleaving.
        let old = client.mem.swap(bytes, Ordering::Relaxed);
        let total = if bytes >= old {
            let d = bytes - old;
            self.mem_total.fetch_add(d, Ordering::Relaxed) + d
        } else {
            let d = old - bytes;
            self.mem_total.fetch_sub(d, Ordering::Relaxed) - d
        };
        limit > 0 && total >= limit
    }

    /// Takes a leaving (or evicted) client's figure out of the total.
    fn untrack(&self, client: &ClientInfo) {
        let m = client.mem.swap(0, Ordering::Relaxed);
        self.mem_total.fetch_sub(m, Ordering::Relaxed);
    }

    /// Client eviction: while every client's memory is at or over the limit, fires the kill
    /// signal of the client holding the most, skipping clients with CLIENT NO-EVICT on and
    /// embedded ones. Returns the CLIENT LIST line of each evicted client (for the log).
    pub fn evict(&self, now_ms: u64) -> Vec<String> {
        let limit = self.memory_limit();
        // One thread at a time: another one evicting now already sees this total.
        let Some(_turn) = self.evicting.try_lock() else {
            return Vec::new();
        };
        if limit == 0 || self.memory() < limit {
            return Vec::new();
        }
        let mut victims: Vec<(u64, Arc<ClientInfo>)> = self
            .all()
            .into_iter()
            .filter(|c| c.kind == ClientKind::Network && !c.kill.is_fired())
            .filter(|c| !c.state.lock().no_evict)
            .map(|c| (c.memory(), c))
            .filter(|(m, _)| *m > 0)
            .collect();
        victims.sort_by_key(|v| std::cmp::Reverse(v.0));
        let mut evicted = Vec::new();
        for (_, c) in victims {
            if self.memory() < limit {
                break;
            }
            evicted.push(c.line(now_ms));
            self.untrack(&c);
            c.kill.fire();
        }
        evicted
    }
}

/// A one-shot event that async code can await without any particular runtime.
#[derive(Debug, Default)]
pub struct Signal {
    fired: AtomicBool,
    wakers: Mutex<Vec<Waker>>,
}

impl Signal {
    /// Fires the event and wakes every waiter.
    pub fn fire(&self) {
        self.fired.store(true, Ordering::SeqCst);
        let wakers = std::mem::take(&mut *self.wakers.lock());
        for w in wakers {
            w.wake();
        }
    }

    pub fn is_fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }

    /// Arms the event again.
    pub fn reset(&self) {
        self.fired.store(false, Ordering::SeqCst);
    }

    /// A future that completes once the event has fired.
    pub fn wait(&self) -> SignalWait<'_> {
        SignalWait(self)
    }
}

/// The future returned by [`Signal::wait`].
pub struct SignalWait<'a>(&'a Signal);

impl Future for SignalWait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let sig = self.0;
        if sig.is_fired() {
            return Poll::Ready(());
        }
        {
            let mut ws = sig.wakers.lock();
            if !ws.iter().any(|w| w.will_wake(cx.waker())) {
                ws.push(cx.waker().clone());
            }
        }
        // Checked again after registering: a fire() in between has either seen our waker
        // or set the flag we read now.
        if sig.is_fired() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_unregisters_on_drop() {
        let r = Arc::new(Registry::default());
        let c = r.register(ClientInfo::new(7, ClientKind::Embedded, None));
        assert_eq!(r.len(), 1);
        assert!(r.get(7).is_some());
        drop(c);
        assert!(r.is_empty());
    }

    fn network(r: &Arc<Registry>, id: u64) -> Client {
        let net = NetAddr {
            addr: format!("127.0.0.1:{id}"),
            laddr: String::new(),
            fd: -1,
        };
        r.register(ClientInfo::new(id, ClientKind::Network, Some(net)))
    }

    #[test]
    fn client_memory_is_summed_and_leaves_with_the_client() {
        let r = Arc::new(Registry::default());
        let a = network(&r, 1);
        let b = network(&r, 2);
        assert!(!r.track(&a.info, 1000));
        assert!(!r.track(&b.info, 500));
        assert!(!r.track(&a.info, 300));
        assert_eq!(r.memory(), 800);
        drop(a);
        assert_eq!(r.memory(), 500);
        // No limit: nothing is ever over it.
        assert!(!r.track(&b.info, u64::MAX / 2));
        assert!(r.evict(0).is_empty());
    }

    #[test]
    fn eviction_takes_the_largest_until_below_and_spares_no_evict() {
        let r = Arc::new(Registry::default());
        r.set_memory_limit(1_000_000);
        let small = network(&r, 1);
        let big = network(&r, 2);
        let exempt = network(&r, 3);
        let embedded = r.register(ClientInfo::new(4, ClientKind::Embedded, None));
        exempt.info.state.lock().no_evict = true;
        assert!(!r.track(&small.info, 200_000));
        assert!(!r.track(&exempt.info, 700_000));
        assert!(r.track(&big.info, 400_000));
        let gone = r.evict(0);
        assert_eq!(gone.len(), 1);
        assert!(gone[0].starts_with("id=2 "), "{gone:?}");
        assert!(big.info.kill.is_fired());
        assert!(!small.info.kill.is_fired() && !exempt.info.kill.is_fired());
        assert!(!embedded.info.kill.is_fired());
        assert_eq!(r.memory(), 900_000);
        // A killed client's later reports are not counted again.
        assert!(!r.track(&big.info, 400_000));
        assert_eq!(r.memory(), 900_000);
        // Only the exempt client left over the limit: nobody else to close.
        assert!(r.track(&exempt.info, 2_000_000));
        let gone = r.evict(0);
        assert_eq!(gone.len(), 1);
        assert!(small.info.kill.is_fired());
        assert!(!exempt.info.kill.is_fired());
        assert!(r.evict(0).is_empty());
    }

    #[test]
    fn a_tiny_limit_is_raised_to_the_floor() {
        let r = Registry::default();
        r.set_memory_limit(1);
        assert_eq!(r.memory_limit(), MIN_CLIENT_MEMORY_LIMIT);
        r.set_memory_limit(0);
        assert_eq!(r.memory_limit(), 0);
    }

    #[test]
    fn reply_skip_and_off() {
        let mut c = Client::new(1);
        // CLIENT REPLY SKIP: its own reply and the next one are dropped.
        let armed = c.arm_reply_skip();
        c.reply_mode = ReplyMode::Skip;
        c.no_reply = true;
        assert!(!c.take_reply_permission(armed));
        let armed = c.arm_reply_skip();
        assert!(!c.take_reply_permission(armed));
        let armed = c.arm_reply_skip();
        assert!(c.take_reply_permission(armed));
        c.reply_mode = ReplyMode::Off;
        let armed = c.arm_reply_skip();
        assert!(!c.take_reply_permission(armed));
    }

    #[test]
    fn signal_wakes() {
        use std::task::Wake;
        struct Flag(AtomicBool);
        impl Wake for Flag {
            fn wake(self: Arc<Self>) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let flag = Arc::new(Flag(AtomicBool::new(false)));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        let sig = Signal::default();
        let mut fut = sig.wait();
        assert!(Pin::new(&mut fut).poll(&mut cx).is_pending());
        sig.fire();
        assert!(flag.0.load(Ordering::SeqCst));
        assert!(Pin::new(&mut fut).poll(&mut cx).is_ready());
    }
}
