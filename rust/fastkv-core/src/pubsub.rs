//! Pub/Sub: the registry of channel, pattern and shard-channel subscriptions, and the
//! [`Sink`] every subscriber receives its pushes through.
//!
//! # Parts
//!
//! - [`PubSub`] (one per engine, `engine.pubsub`): channel -> subscribers, pattern ->
//!   subscribers, shard channel -> subscribers, each subscriber being a client id and its sink.
//!   Publishing takes the read lock; subscribing and unsubscribing take the write lock.
//! - [`Subscription`] (owned by a [`crate::Client`], `client.subs`): what one client is
//!   subscribed to. Dropping it (RESET, disconnect, dropping the client) removes every one of
//!   the client's subscriptions from the registry, without confirmation pushes, as Redis does.
//! - [`Sink`]: a client's queue of pending pushes ([`PushMessage`]: messages and the
//!   (un)subscribe confirmations). Runtime-agnostic: a tokio connection awaits
//!   [`Sink::wait`]; an embedded (Python) subscriber calls [`Sink::pop_timeout`] with the GIL
//!   released. Both are woken by each push.
//!
//! # Ordering
//!
//! The (un)subscribe handlers push their confirmations into the sink *while holding the
//! registry's write lock*, and publishers push messages under its read lock, so a client sees
//! "subscribe" strictly before the first message of that channel, and "unsubscribe" after the
//! last one. The handlers therefore reply nothing themselves (`client.no_reply`): a front end
//! drains the sink before encoding each command's reply and whenever the sink wakes it, which
//! also puts a message a client publishes to itself before the PUBLISH reply, as in Redis.
//!
//! # Never slowing the publisher
//!
//! A push is a short critical section on the sink's own mutex (append, add bytes, wake): it
//! never waits for the subscriber. Each sink counts the bytes it holds (their RESP size) and
//! applies `client-output-buffer-limit pubsub <hard> <soft> <seconds>`: over the hard limit,
//! or over the soft limit for more than `seconds`, the sink is *closed* — its queue is freed,
//! later pushes are dropped, and its close hook runs (the network server fires the client's
//! kill signal). Memory per subscriber is thus bounded by the hard limit plus one message.
//!
//! # The sink API for other front ends (`fastkv.Redis`, the Python `PubSub`)
//!
//! A front end that wants to receive pushes for a client:
//! 1. optionally installs its own sink before the first SUBSCRIBE
//!    (`client.sink = Some(Sink::new())`, or [`Sink::with_close_hook`]); otherwise SUBSCRIBE
//!    creates one and the front end reads it from `client.sink` afterwards;
//! 2. runs (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE through `Engine::execute` like any command (their
//!    reply is empty: `take_reply_permission` says no, the confirmations are in the sink);
//! 3. takes pushes with [`Sink::pop`] (non-blocking), [`Sink::pop_timeout`] (blocking, release
//!    the GIL around it) or [`Sink::drain_into`] / [`Sink::wait`] (async), converting each with
//!    [`PushMessage::to_frame`] (RESP3 push frame; RESP2 clients get the same as an array) or
//!    reading its fields directly;
//! 4. treats [`Sink::is_closed`] as "the server dropped this subscriber" (output buffer limit);
//! 5. drops the client, or sends RESET, to leave every subscription.

use crate::config::OutputLimit;
use crate::glob::glob_match;
use fastkv_resp::Frame;
use parking_lot::{Condvar, Mutex, RwLock};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Bytes counted per queued push beyond its RESP text: Redis's reply list node and object
/// headers cost about this much, so many tiny messages still count toward the limit.
const PUSH_OVERHEAD: usize = 16;

/// One published message, shared by every sink it reaches (the payload is not copied per
/// subscriber).
#[derive(Debug, PartialEq, Eq)]
pub struct Published {
    pub channel: Vec<u8>,
    pub payload: Vec<u8>,
}

/// What a subscriber receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushMessage {
    /// `message` (channel subscription), `smessage` (shard channel) or `pmessage` (pattern:
    /// `pattern` is set).
    Message {
        kind: MessageKind,
        pattern: Option<Arc<[u8]>>,
        body: Arc<Published>,
    },
    /// A confirmation: `subscribe`, `unsubscribe`, `psubscribe`, `punsubscribe`,
    /// `ssubscribe`, `sunsubscribe`, with the channel or pattern (`None`: nil, for an
    /// UNSUBSCRIBE with no arguments from nothing) and the client's subscription count after it.
    Confirm {
        kind: &'static str,
        channel: Option<Vec<u8>>,
        count: i64,
    },
}

/// The kind of a delivered message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    Message,
    PMessage,
    SMessage,
}

impl MessageKind {
    pub fn name(self) -> &'static str {
        match self {
            MessageKind::Message => "message",
            MessageKind::PMessage => "pmessage",
            MessageKind::SMessage => "smessage",
        }
    }
}

impl PushMessage {
    /// The push type as redis-py names it (`message`, `pmessage`, `subscribe`...).
    pub fn kind_name(&self) -> &'static str {
        match self {
            PushMessage::Message { kind, .. } => kind.name(),
            PushMessage::Confirm { kind, .. } => kind,
        }
    }

    /// As a RESP3 push frame (the encoder writes it as an array for RESP2 clients).
    pub fn to_frame(&self) -> Frame {
        match self {
            PushMessage::Message {
                kind,
                pattern,
                body,
            } => {
                let mut items = Vec::with_capacity(4);
                items.push(Frame::bulk(kind.name()));
                if let Some(p) = pattern {
                    items.push(Frame::Bulk(p.to_vec()));
                }
                items.push(Frame::Bulk(body.channel.clone()));
                items.push(Frame::Bulk(body.payload.clone()));
                Frame::Push(items)
            }
            PushMessage::Confirm {
                kind,
                channel,
                count,
            } => Frame::Push(vec![
                Frame::bulk(*kind),
                channel
                    .as_ref()
                    .map_or(Frame::Null, |c| Frame::Bulk(c.clone())),
                Frame::Integer(*count),
            ]),
        }
    }

    /// Appends the RESP encoding (`>` push for RESP3, `*` array for RESP2) without building a
    /// frame: the payload is copied once, straight into the output buffer.
    pub fn encode_into(&self, resp3: bool, out: &mut Vec<u8>) {
        let head = if resp3 { b'>' } else { b'*' };
        match self {
            PushMessage::Message {
                kind,
                pattern,
                body,
            } => {
                let n = if pattern.is_some() { 4 } else { 3 };
                out.push(head);
                push_decimal(out, n);
                out.extend_from_slice(b"\r\n");
                put_bulk(out, kind.name().as_bytes());
                if let Some(p) = pattern {
                    put_bulk(out, p);
                }
                put_bulk(out, &body.channel);
                put_bulk(out, &body.payload);
            }
            PushMessage::Confirm { .. } => fastkv_resp::encode(&self.to_frame(), resp3, out),
        }
    }

    /// What this push counts toward the output buffer limit: its RESP size, roughly.
    pub fn cost(&self) -> usize {
        let bulk = |n: usize| n + 16;
        PUSH_OVERHEAD
            + match self {
                PushMessage::Message { pattern, body, .. } => {
                    8 + bulk(8)
                        + pattern.as_ref().map_or(0, |p| bulk(p.len()))
                        + bulk(body.channel.len())
                        + bulk(body.payload.len())
                }
                PushMessage::Confirm { channel, .. } => {
                    8 + bulk(12) + channel.as_ref().map_or(5, |c| bulk(c.len())) + 24
                }
            }
    }
}

fn push_decimal(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(n.to_string().as_bytes());
}

fn put_bulk(out: &mut Vec<u8>, b: &[u8]) {
    out.push(b'$');
    push_decimal(out, b.len());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
}

// ---------------------------------------------------------------------------------------------
// The sink
// ---------------------------------------------------------------------------------------------

/// Runs once when a sink is closed for going over its output buffer limit.
pub type CloseHook = Box<dyn Fn() + Send + Sync>;

#[derive(Default)]
struct SinkState {
    queue: VecDeque<PushMessage>,
    /// Sum of the queued pushes' [`PushMessage::cost`].
    bytes: usize,
    /// When the queue went over the soft limit (reset when it falls under).
    soft_since: Option<u64>,
    closed: bool,
    /// The async consumer waiting for a push (one consumer per sink).
    waker: Option<Waker>,
}

/// A subscriber's queue of pending pushes (see the module doc). Shared (`Arc`) between the
/// registry, which pushes, and the client's front end, which pops.
pub struct Sink {
    state: Mutex<SinkState>,
    /// Wakes threads blocked in [`Sink::pop_timeout`].
    cond: Condvar,
    on_close: Option<CloseHook>,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.state.lock();
        f.debug_struct("Sink")
            .field("queued", &s.queue.len())
            .field("bytes", &s.bytes)
            .field("closed", &s.closed)
            .finish()
    }
}

impl Sink {
    pub fn new() -> Arc<Sink> {
        Arc::new(Sink {
            state: Mutex::new(SinkState::default()),
            cond: Condvar::new(),
            on_close: None,
        })
    }

    /// A sink that calls `hook` (once) when it is closed for going over its limit.
    pub fn with_close_hook(hook: CloseHook) -> Arc<Sink> {
        Arc::new(Sink {
            state: Mutex::new(SinkState::default()),
            cond: Condvar::new(),
            on_close: Some(hook),
        })
    }

    /// Queues a push, never waiting. With a `limit`, closes the sink instead when the queue
    /// would go over the hard limit, or has stayed over the soft one longer than allowed (0 in
    /// a field disables it). False if the sink is (now) closed and the push was dropped.
    pub fn push(&self, msg: PushMessage, limit: Option<OutputLimit>, now_ms: u64) -> bool {
        let cost = msg.cost();
        let waker;
        {
            let mut s = self.state.lock();
            if s.closed {
                return false;
            }
            let after = s.bytes + cost;
            if let Some(l) = limit {
                let over_hard = l.hard > 0 && after as u64 > l.hard;
                let mut over_soft = false;
                if l.soft > 0 && after as u64 > l.soft {
                    let since = *s.soft_since.get_or_insert(now_ms);
                    over_soft = now_ms.saturating_sub(since) > l.soft_seconds * 1000;
                } else {
                    s.soft_since = None;
                }
                if over_hard || over_soft {
                    drop(s);
                    self.close();
                    return false;
                }
            }
            s.queue.push_back(msg);
            s.bytes = after;
            waker = s.waker.take();
        }
        self.cond.notify_all();
        if let Some(w) = waker {
            w.wake();
        }
        true
    }

    /// Closes the sink: frees its queue, drops later pushes, wakes its consumers and runs the
    /// close hook (first time only).
    pub fn close(&self) {
        let waker = {
            let mut s = self.state.lock();
            if s.closed {
                return;
            }
            s.closed = true;
            s.queue = VecDeque::new();
            s.bytes = 0;
            s.waker.take()
        };
        self.cond.notify_all();
        if let Some(w) = waker {
            w.wake();
        }
        if let Some(h) = &self.on_close {
            h();
        }
    }

    /// Whether the sink was closed (its subscriber is being dropped).
    pub fn is_closed(&self) -> bool {
        self.state.lock().closed
    }

    /// The next push, if one is queued.
    pub fn pop(&self) -> Option<PushMessage> {
        let mut s = self.state.lock();
        let m = s.queue.pop_front()?;
        s.bytes = s.bytes.saturating_sub(m.cost());
        if s.queue.is_empty() {
            s.soft_since = None;
        }
        Some(m)
    }

    /// The next push, waiting up to `timeout` (`None`: forever) for one. Returns `None` on
    /// timeout or when the sink is closed. Blocks the thread: release the GIL around it.
    pub fn pop_timeout(&self, timeout: Option<Duration>) -> Option<PushMessage> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut s = self.state.lock();
        loop {
            if let Some(m) = s.queue.pop_front() {
                s.bytes = s.bytes.saturating_sub(m.cost());
                if s.queue.is_empty() {
                    s.soft_since = None;
                }
                return Some(m);
            }
            if s.closed {
                return None;
            }
            match deadline {
                None => self.cond.wait(&mut s),
                Some(d) => {
                    if self.cond.wait_until(&mut s, d).timed_out() && s.queue.is_empty() {
                        return None;
                    }
                }
            }
        }
    }

    /// Encodes queued pushes into `out` until it holds at least `max_bytes` more (at least one
    /// push is taken if any is queued). Returns how many were taken.
    pub fn drain_into(&self, resp3: bool, out: &mut Vec<u8>, max_bytes: usize) -> usize {
        let start = out.len();
        let mut n = 0;
        let mut s = self.state.lock();
        while out.len() - start < max_bytes {
            let Some(m) = s.queue.pop_front() else {
                break;
            };
            s.bytes = s.bytes.saturating_sub(m.cost());
            m.encode_into(resp3, out);
            n += 1;
        }
        if s.queue.is_empty() {
            s.soft_since = None;
        }
        n
    }

    /// Queued pushes.
    pub fn len(&self) -> usize {
        self.state.lock().queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes counted toward the output buffer limit (CLIENT LIST `omem`).
    pub fn bytes(&self) -> usize {
        self.state.lock().bytes
    }

    /// A future that completes when a push is queued (or at once if one is) or the sink is
    /// closed. For one consumer at a time.
    pub fn wait(&self) -> SinkWait<'_> {
        SinkWait(self)
    }
}

/// The future returned by [`Sink::wait`].
pub struct SinkWait<'a>(&'a Sink);

impl Future for SinkWait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = self.0.state.lock();
        if !s.queue.is_empty() || s.closed {
            return Poll::Ready(());
        }
        match &s.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => s.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

// ---------------------------------------------------------------------------------------------
// The registry
// ---------------------------------------------------------------------------------------------

/// Subscribers of one channel or pattern, in subscription order.
type Subscribers = Vec<(u64, Arc<Sink>)>;

#[derive(Default)]
struct Inner {
    channels: HashMap<Vec<u8>, Subscribers>,
    /// Patterns in the order first subscribed (a small list: every publish scans it).
    patterns: Vec<(Arc<[u8]>, Subscribers)>,
    shard: HashMap<Vec<u8>, Subscribers>,
}

/// The three namespaces of subscriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Space {
    Channel,
    Pattern,
    Shard,
}

/// The engine's subscription registry.
pub struct PubSub {
    inner: RwLock<Inner>,
    /// Subscriptions of every kind: publishing skips the lock when there are none (keyspace
    /// notifications publish on every write).
    total: AtomicUsize,
    /// `client-output-buffer-limit pubsub`, cached (hard, soft, seconds): publishers refresh it
    /// with a `try_read` of the config, so they never wait on CONFIG SET.
    hard: AtomicU64,
    soft: AtomicU64,
    soft_seconds: AtomicU64,
}

impl Default for PubSub {
    fn default() -> Self {
        PubSub {
            inner: RwLock::new(Inner::default()),
            total: AtomicUsize::new(0),
            // Redis's defaults: 32mb 8mb 60.
            hard: AtomicU64::new(32 * 1024 * 1024),
            soft: AtomicU64::new(8 * 1024 * 1024),
            soft_seconds: AtomicU64::new(60),
        }
    }
}

impl PubSub {
    /// Sets the output buffer limit applied to subscribers' sinks.
    pub fn set_limit(&self, l: OutputLimit) {
        self.hard.store(l.hard, Ordering::Relaxed);
        self.soft.store(l.soft, Ordering::Relaxed);
        self.soft_seconds.store(l.soft_seconds, Ordering::Relaxed);
    }

    pub fn limit(&self) -> OutputLimit {
        OutputLimit {
            hard: self.hard.load(Ordering::Relaxed),
            soft: self.soft.load(Ordering::Relaxed),
            soft_seconds: self.soft_seconds.load(Ordering::Relaxed),
        }
    }

    /// Whether anyone is subscribed to anything (a cheap check).
    pub fn is_idle(&self) -> bool {
        self.total.load(Ordering::Acquire) == 0
    }

    /// Delivers `message` on `channel` to channel and pattern subscribers; returns how many
    /// deliveries were made (Redis's count: a client reached by its channel subscription and
    /// two patterns counts three times).
    pub fn publish(&self, channel: &[u8], message: &[u8]) -> usize {
        if self.is_idle() {
            return 0;
        }
        let inner = self.inner.read();
        // Built on the first delivery: a publish nobody hears allocates nothing.
        let mut body: Option<Arc<Published>> = None;
        let mut shared_body = || {
            body.get_or_insert_with(|| {
                Arc::new(Published {
                    channel: channel.to_vec(),
                    payload: message.to_vec(),
                })
            })
            .clone()
        };
        let limit = Some(self.limit());
        let now = crate::time::now_ms();
        let mut n = 0;
        for (_, sink) in inner.channels.get(channel).into_iter().flatten() {
            let msg = PushMessage::Message {
                kind: MessageKind::Message,
                pattern: None,
                body: shared_body(),
            };
            sink.push(msg, limit, now);
            n += 1;
        }
        for (pat, subs) in &inner.patterns {
            if !glob_match(pat, channel, false) {
                continue;
            }
            for (_, sink) in subs {
                let msg = PushMessage::Message {
                    kind: MessageKind::PMessage,
                    pattern: Some(pat.clone()),
                    body: shared_body(),
                };
                sink.push(msg, limit, now);
                n += 1;
            }
        }
        n
    }

    /// SPUBLISH: delivers to the shard channel's subscribers only.
    pub fn spublish(&self, channel: &[u8], message: &[u8]) -> usize {
        if self.is_idle() {
            return 0;
        }
        let inner = self.inner.read();
        let Some(subs) = inner.shard.get(channel) else {
            return 0;
        };
        let body = Arc::new(Published {
            channel: channel.to_vec(),
            payload: message.to_vec(),
        });
        let limit = Some(self.limit());
        let now = crate::time::now_ms();
        for (_, sink) in subs {
            sink.push(
                PushMessage::Message {
                    kind: MessageKind::SMessage,
                    pattern: None,
                    body: body.clone(),
                },
                limit,
                now,
            );
        }
        subs.len()
    }

    /// Adds `id` to `name`'s subscribers in `space` (the caller checked it was not there).
    /// Then, still under the registry lock, runs `confirm` (which queues the confirmation
    /// push, so no message can overtake it).
    fn add(&self, space: Space, name: &[u8], id: u64, sink: &Arc<Sink>, confirm: impl FnOnce()) {
        let mut inner = self.inner.write();
        let entry = (id, sink.clone());
        match space {
            Space::Channel => inner.channels.entry(name.to_vec()).or_default().push(entry),
            Space::Shard => inner.shard.entry(name.to_vec()).or_default().push(entry),
            Space::Pattern => match inner.patterns.iter_mut().find(|(p, _)| **p == *name) {
                Some((_, subs)) => subs.push(entry),
                None => inner.patterns.push((Arc::from(name), vec![entry])),
            },
        }
        self.total.fetch_add(1, Ordering::Release);
        confirm();
    }

    /// Removes `id` from `name`'s subscribers in `space`, then runs `confirm` under the lock.
    fn remove(&self, space: Space, name: &[u8], id: u64, confirm: impl FnOnce()) {
        let mut inner = self.inner.write();
        if Self::remove_locked(&mut inner, space, name, id) {
            self.total.fetch_sub(1, Ordering::Release);
        }
        confirm();
    }

    fn remove_locked(inner: &mut Inner, space: Space, name: &[u8], id: u64) -> bool {
        fn take(subs: &mut Subscribers, id: u64) -> bool {
            match subs.iter().position(|(c, _)| *c == id) {
                Some(i) => {
                    subs.remove(i);
                    true
                }
                None => false,
            }
        }
        let map = match space {
            Space::Channel => &mut inner.channels,
            Space::Shard => &mut inner.shard,
            Space::Pattern => {
                let Some(i) = inner.patterns.iter().position(|(p, _)| **p == *name) else {
                    return false;
                };
                let Some((_, subs)) = inner.patterns.get_mut(i) else {
                    return false;
                };
                let found = take(subs, id);
                if subs.is_empty() {
                    inner.patterns.remove(i);
                }
                return found;
            }
        };
        let Some(subs) = map.get_mut(name) else {
            return false;
        };
        let found = take(subs, id);
        if subs.is_empty() {
            map.remove(name);
        }
        found
    }

    /// PUBSUB CHANNELS / SHARDCHANNELS: active channels matching `pattern` (all if `None`).
    pub fn channels(&self, shard: bool, pattern: Option<&[u8]>) -> Vec<Vec<u8>> {
        let inner = self.inner.read();
        let map = if shard { &inner.shard } else { &inner.channels };
        map.keys()
            .filter(|c| pattern.is_none_or(|p| glob_match(p, c, false)))
            .cloned()
            .collect()
    }

    /// PUBSUB NUMSUB / SHARDNUMSUB: subscribers of one channel.
    pub fn numsub(&self, shard: bool, channel: &[u8]) -> usize {
        let inner = self.inner.read();
        let map = if shard { &inner.shard } else { &inner.channels };
        map.get(channel).map_or(0, Vec::len)
    }

    /// PUBSUB NUMPAT: distinct patterns subscribed to.
    pub fn numpat(&self) -> usize {
        self.inner.read().patterns.len()
    }

    /// INFO `pubsub_channels`, `pubsub_patterns`, `pubsubshard_channels`.
    pub fn counts(&self) -> (usize, usize, usize) {
        let inner = self.inner.read();
        (
            inner.channels.len(),
            inner.patterns.len(),
            inner.shard.len(),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// One client's subscriptions
// ---------------------------------------------------------------------------------------------

/// What one client is subscribed to, owned by its [`crate::Client`] (no lock: only its owner
/// changes it). Dropping it leaves every subscription.
pub struct Subscription {
    id: u64,
    hub: Arc<PubSub>,
    sink: Arc<Sink>,
    /// Channel -> subscription sequence number (UNSUBSCRIBE with no arguments confirms in
    /// subscription order).
    channels: HashMap<Vec<u8>, u64>,
    /// In subscription order (Redis keeps a client's patterns in a list).
    patterns: Vec<Vec<u8>>,
    shard: HashMap<Vec<u8>, u64>,
    seq: u64,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.id)
            .field("channels", &self.channels.len())
            .field("patterns", &self.patterns.len())
            .field("shard", &self.shard.len())
            .finish()
    }
}

impl Subscription {
    pub fn new(id: u64, hub: Arc<PubSub>, sink: Arc<Sink>) -> Self {
        Subscription {
            id,
            hub,
            sink,
            channels: HashMap::new(),
            patterns: Vec::new(),
            shard: HashMap::new(),
            seq: 0,
        }
    }

    pub fn sink(&self) -> &Arc<Sink> {
        &self.sink
    }

    /// (channels, patterns, shard channels).
    pub fn counts(&self) -> (usize, usize, usize) {
        (self.channels.len(), self.patterns.len(), self.shard.len())
    }

    /// Channels plus patterns: the count (un)subscribe confirmations carry.
    pub fn count(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    /// Every kind of subscription.
    pub fn total(&self) -> usize {
        self.count() + self.shard.len()
    }

    fn has(&self, space: Space, name: &[u8]) -> bool {
        match space {
            Space::Channel => self.channels.contains_key(name),
            Space::Shard => self.shard.contains_key(name),
            Space::Pattern => self.patterns.iter().any(|p| p == name),
        }
    }

    /// The confirmation count for `space`.
    fn count_for(&self, space: Space) -> i64 {
        match space {
            Space::Shard => self.shard.len() as i64,
            _ => self.count() as i64,
        }
    }

    /// Subscribes to `name` (no-op if already) and queues the confirmation push.
    pub fn subscribe(&mut self, space: Space, name: &[u8]) {
        let kind = match space {
            Space::Channel => "subscribe",
            Space::Pattern => "psubscribe",
            Space::Shard => "ssubscribe",
        };
        if self.has(space, name) {
            let count = self.count_for(space);
            self.confirm(kind, Some(name), count);
            return;
        }
        self.seq += 1;
        match space {
            Space::Channel => {
                self.channels.insert(name.to_vec(), self.seq);
            }
            Space::Shard => {
                self.shard.insert(name.to_vec(), self.seq);
            }
            Space::Pattern => self.patterns.push(name.to_vec()),
        }
        let count = self.count_for(space);
        let sink = &self.sink;
        self.hub.add(space, name, self.id, sink, || {
            confirm_into(sink, kind, Some(name), count)
        });
    }

    /// Unsubscribes from `name` (the confirmation is queued even if it was not subscribed).
    pub fn unsubscribe(&mut self, space: Space, name: &[u8]) {
        let kind = unsub_kind(space);
        let was = match space {
            Space::Channel => self.channels.remove(name).is_some(),
            Space::Shard => self.shard.remove(name).is_some(),
            Space::Pattern => match self.patterns.iter().position(|p| p == name) {
                Some(i) => {
                    self.patterns.remove(i);
                    true
                }
                None => false,
            },
        };
        let count = self.count_for(space);
        if !was {
            self.confirm(kind, Some(name), count);
            return;
        }
        let sink = &self.sink;
        self.hub.remove(space, name, self.id, || {
            confirm_into(sink, kind, Some(name), count)
        });
    }

    /// Unsubscribes from everything in `space`, confirming each; from nothing, one
    /// confirmation with a nil channel.
    pub fn unsubscribe_all(&mut self, space: Space) {
        let in_order = |m: &HashMap<Vec<u8>, u64>| {
            let mut v: Vec<(u64, Vec<u8>)> = m.iter().map(|(k, &n)| (n, k.clone())).collect();
            v.sort_unstable();
            v.into_iter().map(|(_, k)| k).collect()
        };
        let names: Vec<Vec<u8>> = match space {
            Space::Channel => in_order(&self.channels),
            Space::Shard => in_order(&self.shard),
            Space::Pattern => self.patterns.clone(),
        };
        if names.is_empty() {
            let count = self.count_for(space);
            self.confirm(unsub_kind(space), None, count);
            return;
        }
        for n in names {
            self.unsubscribe(space, &n);
        }
    }

    fn confirm(&self, kind: &'static str, name: Option<&[u8]>, count: i64) {
        confirm_into(&self.sink, kind, name, count);
    }
}

fn unsub_kind(space: Space) -> &'static str {
    match space {
        Space::Channel => "unsubscribe",
        Space::Pattern => "punsubscribe",
        Space::Shard => "sunsubscribe",
    }
}

fn confirm_into(sink: &Sink, kind: &'static str, name: Option<&[u8]>, count: i64) {
    // The client's own replies are not limited here (Redis counts them, but they are bounded
    // by what the client asks for).
    sink.push(
        PushMessage::Confirm {
            kind,
            channel: name.map(<[u8]>::to_vec),
            count,
        },
        None,
        0,
    );
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if self.total() == 0 {
            return;
        }
        let mut inner = self.hub.inner.write();
        let mut removed = 0;
        for c in self.channels.keys() {
            removed += usize::from(PubSub::remove_locked(
                &mut inner,
                Space::Channel,
                c,
                self.id,
            ));
        }
        for p in &self.patterns {
            removed += usize::from(PubSub::remove_locked(
                &mut inner,
                Space::Pattern,
                p,
                self.id,
            ));
        }
        for c in self.shard.keys() {
            removed += usize::from(PubSub::remove_locked(&mut inner, Space::Shard, c, self.id));
        }
        self.hub.total.fetch_sub(removed, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Vec<u8> {
        s.as_bytes().to_vec()
    }

    fn confirm(kind: &'static str, ch: Option<&str>, count: i64) -> PushMessage {
        PushMessage::Confirm {
            kind,
            channel: ch.map(b),
            count,
        }
    }

    #[test]
    fn publish_counts_channel_and_patterns() {
        let hub = Arc::new(PubSub::default());
        let s1 = Sink::new();
        let mut a = Subscription::new(1, hub.clone(), s1.clone());
        a.subscribe(Space::Channel, b"news");
        a.subscribe(Space::Pattern, b"n*");
        a.subscribe(Space::Pattern, b"*s");
        assert_eq!(s1.pop(), Some(confirm("subscribe", Some("news"), 1)));
        assert_eq!(s1.pop(), Some(confirm("psubscribe", Some("n*"), 2)));
        assert_eq!(s1.pop(), Some(confirm("psubscribe", Some("*s"), 3)));
        assert_eq!(hub.publish(b"news", b"hi"), 3);
        assert_eq!(hub.publish(b"other", b"hi"), 0);
        let kinds: Vec<_> = std::iter::from_fn(|| s1.pop())
            .map(|m| m.kind_name())
            .collect();
        assert_eq!(kinds, ["message", "pmessage", "pmessage"]);
        assert_eq!(hub.numpat(), 2);
        assert_eq!(hub.numsub(false, b"news"), 1);
        drop(a);
        assert!(hub.is_idle());
        assert_eq!(hub.publish(b"news", b"hi"), 0);
        assert_eq!(hub.counts(), (0, 0, 0));
    }

    #[test]
    fn unsubscribe_confirms_and_counts() {
        let hub = Arc::new(PubSub::default());
        let s = Sink::new();
        let mut a = Subscription::new(1, hub.clone(), s.clone());
        a.unsubscribe_all(Space::Channel);
        assert_eq!(s.pop(), Some(confirm("unsubscribe", None, 0)));
        a.subscribe(Space::Channel, b"x");
        a.subscribe(Space::Channel, b"x");
        a.subscribe(Space::Shard, b"s");
        assert_eq!(s.pop(), Some(confirm("subscribe", Some("x"), 1)));
        assert_eq!(s.pop(), Some(confirm("subscribe", Some("x"), 1)));
        assert_eq!(s.pop(), Some(confirm("ssubscribe", Some("s"), 1)));
        assert_eq!(hub.spublish(b"s", b"m"), 1);
        assert_eq!(hub.publish(b"s", b"m"), 0);
        assert_eq!(s.pop().map(|m| m.kind_name()), Some("smessage"));
        a.unsubscribe(Space::Channel, b"nope");
        assert_eq!(s.pop(), Some(confirm("unsubscribe", Some("nope"), 1)));
        a.unsubscribe_all(Space::Channel);
        assert_eq!(s.pop(), Some(confirm("unsubscribe", Some("x"), 0)));
        assert_eq!(a.total(), 1);
        a.unsubscribe_all(Space::Shard);
        assert_eq!(s.pop(), Some(confirm("sunsubscribe", Some("s"), 0)));
        assert!(hub.is_idle());
    }

    #[test]
    fn hard_limit_closes_sink_and_frees_queue() {
        let hub = Arc::new(PubSub::default());
        hub.set_limit(OutputLimit {
            hard: 1000,
            soft: 0,
            soft_seconds: 0,
        });
        let fired = Arc::new(AtomicUsize::new(0));
        let f2 = fired.clone();
        let s = Sink::with_close_hook(Box::new(move || {
            f2.fetch_add(1, Ordering::SeqCst);
        }));
        let mut a = Subscription::new(1, hub.clone(), s.clone());
        a.subscribe(Space::Channel, b"c");
        for _ in 0..100 {
            hub.publish(b"c", &[b'x'; 100]);
        }
        assert!(s.is_closed());
        assert_eq!(s.bytes(), 0);
        assert_eq!(s.pop(), None);
        assert_eq!(fired.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn soft_limit_needs_time() {
        let s = Sink::new();
        let l = Some(OutputLimit {
            hard: 0,
            soft: 100,
            soft_seconds: 2,
        });
        let body = Arc::new(Published {
            channel: b("c"),
            payload: vec![0; 200],
        });
        let m = PushMessage::Message {
            kind: MessageKind::Message,
            pattern: None,
            body,
        };
        assert!(s.push(m.clone(), l, 10_000));
        assert!(s.push(m.clone(), l, 11_000));
        assert!(s.push(m.clone(), l, 12_000));
        assert!(!s.push(m, l, 12_001));
        assert!(s.is_closed());
    }

    #[test]
    fn pop_timeout_wakes_on_push() {
        let s = Sink::new();
        let s2 = s.clone();
        let t = std::thread::spawn(move || s2.pop_timeout(Some(Duration::from_secs(5))));
        std::thread::sleep(Duration::from_millis(20));
        s.push(confirm("subscribe", Some("a"), 1), None, 0);
        assert_eq!(
            t.join().ok().flatten(),
            Some(confirm("subscribe", Some("a"), 1))
        );
        assert_eq!(s.pop_timeout(Some(Duration::from_millis(5))), None);
    }

    #[test]
    fn encodes_like_redis() {
        let body = Arc::new(Published {
            channel: b("ch"),
            payload: b("hi"),
        });
        let m = PushMessage::Message {
            kind: MessageKind::PMessage,
            pattern: Some(Arc::from(&b"c*"[..])),
            body,
        };
        let mut out = Vec::new();
        m.encode_into(false, &mut out);
        assert_eq!(
            out,
            b"*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$2\r\nhi\r\n"
        );
        out.clear();
        confirm("unsubscribe", None, 0).encode_into(true, &mut out);
        assert_eq!(out, b">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n");
        out.clear();
        confirm("unsubscribe", None, 0).encode_into(false, &mut out);
        assert_eq!(out, b"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n");
    }
}
