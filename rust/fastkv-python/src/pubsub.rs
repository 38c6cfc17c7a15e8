//! `fastkv._fastkv.PubSub` and `Store.publish` / `Store.pubsub`: Pub/Sub from Python,
//! in-process, sharing channels with every network client of the same engine.
//!
//! A `PubSub` owns its own engine [`Client`] (registered: CLIENT LIST shows it, PUBSUB NUMSUB
//! counts it) and that client's [`Sink`], where the engine queues the subscription
//! confirmations and the messages (see `fastkv_core::pubsub`). (Un)subscribing runs the
//! ordinary commands through the dispatcher; `get_message` pops the sink, waiting with the GIL
//! released, in slices so that Ctrl-C interrupts it. Messages become dicts shaped as redis-py's
//! `PubSub.get_message` returns them: `{"type", "pattern", "channel", "data"}`.
//!
//! # The sink API, for other Python front ends (`fastkv.Redis`'s connection)
//!
//! Any holder of an engine `Client` can receive pushes the same way this file does:
//! - before the first SUBSCRIBE, install a sink: `client.sink = Some(Sink::new())` (keep an
//!   `Arc` clone); without one, SUBSCRIBE makes one, readable from `client.sink` afterwards;
//! - run `SUBSCRIBE`/`PSUBSCRIBE`/`SSUBSCRIBE`/`UNSUBSCRIBE`/... through `Engine::execute`:
//!   their own reply is empty (`client.take_reply_permission(..)` is false; the returned frame
//!   is a placeholder `Null`); every confirmation and message arrives in the sink, in order;
//! - pop with `sink.pop()` (non-blocking) or `sink.pop_timeout(Some(d))` inside `py.detach`;
//!   convert with `PushMessage::to_frame()` (a `Frame::Push` of `[kind, (pattern,) channel,
//!   data]` / `[kind, channel or Null, count]`, i.e. what redis-py's parser would return for
//!   the wire push) or read the enum's fields as [`message_dict`] does;
//! - `sink.is_closed()`: the engine dropped this subscriber (over `client-output-buffer-limit
//!   pubsub`); its subscriptions stay until the client is dropped or sent RESET;
//! - a RESP2 client (`client.proto == 2`) with subscriptions is in subscriber mode: the
//!   dispatcher refuses other commands with Redis's error, PING answers `["pong", ""]`.

use crate::args::Arg;
use crate::reply;
use crate::store::PyStore;
use fastkv_core::pubsub::{PushMessage, Sink};
use fastkv_core::{Client, Engine};
use pyo3::exceptions::{PyConnectionError, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long one slice of a blocking wait lasts before signals are checked.
const SLICE: Duration = Duration::from_millis(100);

/// A Pub/Sub subscriber, in-process (`Store.pubsub()`).
#[pyclass(name = "PubSub", module = "fastkv._fastkv", frozen)]
pub(crate) struct PyPubSub {
    engine: Arc<Engine>,
    /// `None` once closed. A std `Mutex`: held for one (un)subscribe at a time, never while
    /// waiting for a message (that waits on the sink alone).
    client: Mutex<Option<Client>>,
    sink: Arc<Sink>,
    decode: bool,
    ignore_subscribe_messages: bool,
}

impl PyPubSub {
    pub(crate) fn new(engine: Arc<Engine>, decode: bool, ignore_subscribe_messages: bool) -> Self {
        let mut client = engine.new_client();
        // RESP3: pushes and replies mix freely; no subscriber-mode restrictions to apply.
        client.proto = 3;
        let sink = Sink::new();
        client.sink = Some(sink.clone());
        PyPubSub {
            engine,
            client: Mutex::new(Some(client)),
            sink,
            decode,
            ignore_subscribe_messages,
        }
    }

    /// Runs `name channels...` for the subscriber's client.
    fn run(&self, py: Python<'_>, name: &[u8], channels: &Bound<'_, PyTuple>) -> PyResult<()> {
        let args: Vec<Arg<'static>> = channels.iter().map(Arg::owned).collect::<PyResult<_>>()?;
        let mut argv: Vec<&[u8]> = Vec::with_capacity(args.len() + 1);
        argv.push(name);
        argv.extend(args.iter().map(|a| &**a));
        let mut guard = self.client.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(client) = guard.as_mut() else {
            return Err(PyRuntimeError::new_err("PubSub is closed"));
        };
        let frame = self.engine.execute(client, &argv);
        client.take_reply_permission(false);
        drop(guard);
        reply::check(py, frame).map(|_| ())
    }

    fn subscribed_now(&self) -> bool {
        self.client
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .is_some_and(|c| c.subscriptions() > 0)
    }

    /// The next push, waiting until `deadline` (`None`: forever) with the GIL released.
    fn next_push(
        &self,
        py: Python<'_>,
        deadline: Option<Instant>,
    ) -> PyResult<Option<PushMessage>> {
        loop {
            if let Some(m) = self.sink.pop() {
                return Ok(Some(m));
            }
            if self.sink.is_closed() {
                return Err(PyConnectionError::new_err(
                    "subscriber dropped: client-output-buffer-limit pubsub reached",
                ));
            }
            let slice = match deadline {
                None => SLICE,
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Ok(None);
                    }
                    left.min(SLICE)
                }
            };
            let sink = &self.sink;
            if let Some(m) = py.detach(|| sink.pop_timeout(Some(slice))) {
                return Ok(Some(m));
            }
            py.check_signals()?;
        }
    }
}

/// A push as redis-py's `PubSub.get_message` returns it.
pub(crate) fn message_dict(py: Python<'_>, m: &PushMessage, decode: bool) -> PyResult<Py<PyAny>> {
    let d = PyDict::new(py);
    d.set_item("type", m.kind_name())?;
    match m {
        PushMessage::Message { pattern, body, .. } => {
            match pattern {
                Some(p) => d.set_item("pattern", reply::bytes_or_str(py, p, decode)?)?,
                None => d.set_item("pattern", py.None())?,
            }
            d.set_item("channel", reply::bytes_or_str(py, &body.channel, decode)?)?;
            d.set_item("data", reply::bytes_or_str(py, &body.payload, decode)?)?;
        }
        PushMessage::Confirm { channel, count, .. } => {
            d.set_item("pattern", py.None())?;
            match channel {
                Some(c) => d.set_item("channel", reply::bytes_or_str(py, c, decode)?)?,
                None => d.set_item("channel", py.None())?,
            }
            d.set_item("data", count)?;
        }
    }
    Ok(d.into_any().unbind())
}

#[pymethods]
impl PyPubSub {
    /// SUBSCRIBE channel [channel ...]
    #[pyo3(signature = (*channels))]
    fn subscribe(&self, py: Python<'_>, channels: &Bound<'_, PyTuple>) -> PyResult<()> {
        self.run(py, b"SUBSCRIBE", channels)
    }

    /// PSUBSCRIBE pattern [pattern ...]
    #[pyo3(signature = (*patterns))]
    fn psubscribe(&self, py: Python<'_>, patterns: &Bound<'_, PyTuple>) -> PyResult<()> {
        self.run(py, b"PSUBSCRIBE", patterns)
    }

    /// SSUBSCRIBE shardchannel [shardchannel ...]
    #[pyo3(signature = (*channels))]
    fn ssubscribe(&self, py: Python<'_>, channels: &Bound<'_, PyTuple>) -> PyResult<()> {
        self.run(py, b"SSUBSCRIBE", channels)
    }

    /// UNSUBSCRIBE [channel ...] (every channel when none is named)
    #[pyo3(signature = (*channels))]
    fn unsubscribe(&self, py: Python<'_>, channels: &Bound<'_, PyTuple>) -> PyResult<()> {
        self.run(py, b"UNSUBSCRIBE", channels)
    }

    /// PUNSUBSCRIBE [pattern ...]
    #[pyo3(signature = (*patterns))]
    fn punsubscribe(&self, py: Python<'_>, patterns: &Bound<'_, PyTuple>) -> PyResult<()> {
        self.run(py, b"PUNSUBSCRIBE", patterns)
    }

    /// SUNSUBSCRIBE [shardchannel ...]
    #[pyo3(signature = (*channels))]
    fn sunsubscribe(&self, py: Python<'_>, channels: &Bound<'_, PyTuple>) -> PyResult<()> {
        self.run(py, b"SUNSUBSCRIBE", channels)
    }

    /// Whether any channel, pattern or shard channel is subscribed.
    #[getter]
    fn subscribed(&self) -> bool {
        self.subscribed_now()
    }

    /// The next message as a dict (`type`, `pattern`, `channel`, `data`), waiting up to
    /// `timeout` seconds (`None`: until one comes; `0`: not at all); `None` if none came.
    /// Subscription confirmations are skipped with `ignore_subscribe_messages`.
    #[pyo3(
        signature = (timeout = Some(0.0), *, ignore_subscribe_messages = false),
        text_signature = "(self, /, timeout=0.0, *, ignore_subscribe_messages=False)"
    )]
    fn get_message(
        &self,
        py: Python<'_>,
        timeout: Option<f64>,
        ignore_subscribe_messages: bool,
    ) -> PyResult<Option<Py<PyAny>>> {
        let deadline = match timeout {
            None => None,
            Some(t) => {
                let t = if t.is_finite() { t.max(0.0) } else { 0.0 };
                Some(Instant::now() + Duration::from_secs_f64(t.min(1e9)))
            }
        };
        let ignore = ignore_subscribe_messages || self.ignore_subscribe_messages;
        loop {
            let Some(m) = self.next_push(py, deadline)? else {
                return Ok(None);
            };
            if ignore && matches!(m, PushMessage::Confirm { .. }) {
                continue;
            }
            return message_dict(py, &m, self.decode).map(Some);
        }
    }

    /// An iterator over messages, blocking for each, that ends once nothing is subscribed
    /// and every queued message was read (as redis-py's `listen()`).
    fn listen(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        loop {
            if self.sink.is_empty() && !self.subscribed_now() {
                return Ok(None);
            }
            let Some(m) = self.next_push(py, None)? else {
                return Ok(None);
            };
            if self.ignore_subscribe_messages && matches!(m, PushMessage::Confirm { .. }) {
                continue;
            }
            return message_dict(py, &m, self.decode).map(Some);
        }
    }

    /// Leaves every subscription and releases the subscriber (idempotent).
    fn close(&self) {
        let client = self
            .client
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        drop(client);
        // Drops what was queued; a thread waiting in get_message wakes up.
        self.sink.close();
    }

    /// Alias of `close()` (redis-py's name).
    fn reset(&self) {
        self.close();
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, _exc: &Bound<'_, PyTuple>) -> bool {
        self.close();
        false
    }

    fn __repr__(&self) -> String {
        let (c, p, s) = self
            .client
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .and_then(|c| c.subs.as_ref().map(|s| s.counts()))
            .unwrap_or((0, 0, 0));
        format!("<fastkv.PubSub channels={c} patterns={p} shard_channels={s}>")
    }
}

#[pymethods]
impl PyStore {
    /// PUBLISH channel message -> the number of subscribers that received it (network and
    /// in-process alike).
    fn publish(&self, channel: &Bound<'_, PyAny>, message: &Bound<'_, PyAny>) -> PyResult<i64> {
        let ch = Arg::new(channel)?;
        let msg = Arg::new(message)?;
        Ok(self.engine().publish(&ch, &msg) as i64)
    }

    /// SPUBLISH shardchannel message -> the number of shard-channel subscribers reached.
    fn spublish(&self, channel: &Bound<'_, PyAny>, message: &Bound<'_, PyAny>) -> PyResult<i64> {
        let ch = Arg::new(channel)?;
        let msg = Arg::new(message)?;
        Ok(self.engine().spublish(&ch, &msg) as i64)
    }

    /// A new subscriber on this store's engine.
    #[pyo3(signature = (ignore_subscribe_messages = false))]
    fn pubsub(&self, ignore_subscribe_messages: bool) -> PyPubSub {
        PyPubSub::new(
            self.engine().clone(),
            self.decode,
            ignore_subscribe_messages,
        )
    }
}
