//! `fastkv._fastkv.Connection`: one in-process "connection" to a [`PyStore`]'s engine, the
//! transport under `fastkv.Redis` (python/fastkv/client.py) and `fastkv.asyncio.Redis`.
//!
//! Each connection owns its own engine [`Client`] (selected database, protocol, name, and the
//! per-connection state the core keeps there: MULTI queue, WATCHed keys, subscriptions), as a
//! TCP connection to a server would. redis-py's connection protocol is "send, then read":
//! [`PyConnection::send`] runs the command at once (as a server runs a command as soon as it
//! arrives, whether or not the client ever reads the reply) and queues the reply frame;
//! [`PyConnection::read`] pops it and converts it into exactly what redis-py's own parser
//! (`_RESP2Parser` / `_RESP3Parser`) would have produced from the wire for the protocol the
//! client spoke when the command ran — no RESP text in between:
//!
//! | frame            | RESP2                      | RESP3                      |
//! |------------------|----------------------------|----------------------------|
//! | simple, bulk     | `bytes` (or `str` decoding) | `bytes` (or `str`)        |
//! | integer          | `int`                      | `int`                      |
//! | null             | `None`                     | `None`                     |
//! | array, set, push | `list`                     | `list` (a set: `set` for redis-py < 5.1) |
//! | map              | flat `list` `[k, v, ...]`  | `dict`                     |
//! | double           | `bytes` (`%.17g`)          | `float`                    |
//! | boolean          | `int` 1/0                  | `bool`                     |
//! | big number       | `bytes`                    | `int`                      |
//! | verbatim         | `bytes` (text)             | `bytes` (text, no `txt:`)  |
//! | error            | exception *instance*, from the `error_factory` (redis-py's `parse_error`) |
//!
//! Errors are returned, not raised, at every depth, as redis-py's parsers return them: the
//! Python connection raises a top-level one, pipelines and EXEC keep nested ones in place.
//!
//! Pub/sub: the client's [`Sink`] (installed at creation) receives subscription confirmations
//! and messages. Pushes queued when a command finishes are read before its reply, as a server
//! writes them; later ones are read when nothing else is queued, waiting for them with the GIL
//! released (`read`/`can_read` with a timeout), so redis-py's `PubSub.get_message(timeout=)`
//! and `listen()` work unchanged. In RESP2 they are ordinary replies (subscriber mode); in RESP3
//! they are returned only to a read that asks for pushes (`push_request`), as redis-py's
//! parser hands them to its push handler otherwise.
//!
//! Blocking commands (BLPOP, BLMOVE, BZPOPMIN...) wait with the GIL released, the client lock
//! released (so other connections can push what wakes them), in slices so that a pending
//! signal (Ctrl-C) interrupts them, and can be cancelled from another thread
//! ([`PyConnection::cancel`], used when an asyncio task awaiting one is cancelled).

use crate::args::Arg;
use crate::errors;
use crate::store::PyStore;
use fastkv_core::blocking::{Deliver, Outcome, WaiterId};
use fastkv_core::pubsub::{PushMessage, Sink};
use fastkv_core::{Client, Engine, Frame};
use pyo3::exceptions::{PyConnectionError, PyTimeoutError, PyTypeError, PyUnicodeDecodeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PySet, PyString, PyTuple};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long one slice of a blocking wait lasts before signals are checked.
const SLICE_MS: u64 = 100;

/// Room for a command line built on the stack before spilling to the heap.
const STACK_ARGS: usize = 8;

/// What a blocked wait receives: the reply, or `None` when cancelled.
type Wake = Option<Frame>;

/// A reply (or push) not read yet, with the protocol it is to be converted for.
struct Pending {
    frame: Frame,
    resp3: bool,
    /// A pub/sub push from the client's sink, not a command's reply.
    push: bool,
}

/// A command's reply, the protocol it ran under, and whether the reply is sent at all
/// (not for (P|S)SUBSCRIBE and friends, whose confirmations go through the sink, nor under
/// CLIENT REPLY OFF/SKIP).
struct Ran {
    frame: Frame,
    resp3: bool,
    send: bool,
}

/// How bulk strings become `str` under `decode_responses`.
enum Decoding {
    /// Return `bytes`.
    Off,
    /// UTF-8, strict (redis-py's default): decoded natively.
    Utf8,
    /// Another encoding or error handler: `bytes.decode(encoding, errors)`.
    Codec(Py<PyString>, Py<PyString>),
}

/// One in-process connection to a store.
#[pyclass(name = "Connection", module = "fastkv._fastkv", frozen)]
pub(crate) struct PyConnection {
    engine: Arc<Engine>,
    /// `None` once closed. A std `Mutex`, held for one command (never while a blocking
    /// command waits, never across a call into Python).
    client: Mutex<Option<Client>>,
    pending: Mutex<VecDeque<Pending>>,
    /// The client's pub/sub queue: subscription confirmations and messages, in order.
    sink: Arc<Sink>,
    /// Whether the client spoke RESP3 after its last command (for pushes read later).
    resp3: AtomicBool,
    decoding: Decoding,
    /// `callable(message: str) -> Exception`: redis-py's `parse_error`.
    error_factory: Option<Py<PyAny>>,
    /// RESP3 sets become Python `set`s (redis-py < 5.1's parser), not lists.
    resp3_sets: bool,
    /// The wake channel of a blocking command waiting right now (for `cancel`).
    waiting: Mutex<Option<Sender<Wake>>>,
}

impl PyConnection {
    fn closed_error() -> PyErr {
        PyConnectionError::new_err("Connection closed by client")
    }

    /// Runs one non-blocking command with the connection's client.
    fn run(&self, py: Python<'_>, argv: &[&[u8]]) -> PyResult<Ran> {
        let engine = &self.engine;
        let go = |c: &mut Option<Client>| match c.as_mut() {
            Some(c) => {
                let armed = c.arm_reply_skip();
                let frame = engine.execute(c, argv);
                let send = c.take_reply_permission(armed);
                Ok(Ran {
                    frame,
                    resp3: c.resp3(),
                    send,
                })
            }
            None => Err(Self::closed_error()),
        };
        match self.client.try_lock() {
            Ok(mut c) => go(&mut c),
            Err(std::sync::TryLockError::Poisoned(p)) => go(&mut p.into_inner()),
            // Another thread uses this connection (a blocking command's re-check, cancel):
            // wait for it without the GIL.
            Err(std::sync::TryLockError::WouldBlock) => py.detach(|| {
                let mut c = self.client.lock().unwrap_or_else(PoisonError::into_inner);
                go(&mut c)
            }),
        }
    }

    /// Runs a command that may block, waiting for its reply with the GIL released.
    fn run_blocking(&self, py: Python<'_>, argv: &[&[u8]]) -> PyResult<Ran> {
        let (tx, rx) = mpsc::channel::<Wake>();
        *self.waiting.lock().unwrap_or_else(PoisonError::into_inner) = Some(tx.clone());
        // In a mutex only to be `Sync` for the GIL-free closures; never contended.
        let rx = Mutex::new(rx);
        let result = self.wait_blocking(py, argv, tx, &rx);
        *self.waiting.lock().unwrap_or_else(PoisonError::into_inner) = None;
        result
    }

    fn wait_blocking(
        &self,
        py: Python<'_>,
        argv: &[&[u8]],
        tx: Sender<Wake>,
        rx: &Mutex<mpsc::Receiver<Wake>>,
    ) -> PyResult<Ran> {
        let engine = &self.engine;
        let ran = py.detach(|| {
            let mut tx = Some(tx);
            let mut waker = || -> Deliver {
                let tx = tx.take();
                Box::new(move |f| {
                    if let Some(tx) = tx {
                        let _ = tx.send(Some(f));
                    }
                })
            };
            let mut guard = self.client.lock().unwrap_or_else(PoisonError::into_inner);
            match guard.as_mut() {
                Some(c) => {
                    let armed = c.arm_reply_skip();
                    let outcome = engine.execute_or_block(c, argv, &mut waker);
                    Ok((outcome, c.resp3(), c.take_reply_permission(armed)))
                }
                None => Err(()),
            }
        });
        let (outcome, resp3, send) = ran.map_err(|()| Self::closed_error())?;
        let done = |frame| Ok(Ran { frame, resp3, send });
        let (id, deadline_ms) = match outcome {
            Outcome::Reply(f) => return done(f),
            Outcome::Blocked { id, deadline_ms } => (id, deadline_ms),
        };
        loop {
            let now = fastkv_core::time::now_ms();
            // Deadlines are whole ms from the command's clock: wait until the clock is past
            // it (Redis checks `timeout < now`), never early.
            let slice =
                deadline_ms.map_or(SLICE_MS, |at| (at + 1).saturating_sub(now).min(SLICE_MS));
            let got = py.detach(|| {
                rx.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .recv_timeout(Duration::from_millis(slice))
            });
            match got {
                Ok(Some(f)) => return done(f),
                Ok(None) => return done(self.give_up(py, id, rx)),
                Err(RecvTimeoutError::Disconnected) => return done(Frame::NullArray),
                Err(RecvTimeoutError::Timeout) => {}
            }
            if deadline_ms.is_some_and(|at| fastkv_core::time::now_ms() > at) {
                return done(self.give_up(py, id, rx));
            }
            if let Err(e) = py.check_signals() {
                self.give_up(py, id, rx);
                return Err(e);
            }
        }
    }

    /// Stops waiting: the timeout reply, or the reply served concurrently.
    fn give_up(&self, py: Python<'_>, id: WaiterId, rx: &Mutex<mpsc::Receiver<Wake>>) -> Frame {
        match self.engine.blocking.unblock(id) {
            Some(timeout_reply) => timeout_reply,
            // Served as we gave up: its reply is on its way.
            None => py
                .detach(|| loop {
                    match rx.lock().unwrap_or_else(PoisonError::into_inner).recv() {
                        Ok(Some(f)) => break Some(f),
                        Ok(None) => continue,
                        Err(_) => break None,
                    }
                })
                .unwrap_or(Frame::NullArray),
        }
    }

    /// Converts one reply frame the way redis-py's parser for its protocol would.
    fn convert(
        &self,
        py: Python<'_>,
        frame: Frame,
        resp3: bool,
        decode: bool,
    ) -> PyResult<Py<PyAny>> {
        let text = |b: &[u8]| self.text(py, b, decode);
        Ok(match frame {
            Frame::Simple(s) => text(s.as_bytes())?,
            Frame::Bulk(b) => text(&b)?,
            Frame::Verbatim { text: t, .. } => text(&t)?,
            Frame::Error(e) => self.error(py, &e)?,
            Frame::Integer(n) => n.into_pyobject(py)?.into_any().unbind(),
            Frame::Null | Frame::NullArray => py.None(),
            Frame::Set(items) if resp3 && self.resp3_sets => {
                let items = items
                    .into_iter()
                    .map(|f| self.convert(py, f, resp3, decode))
                    .collect::<PyResult<Vec<_>>>()?;
                match PySet::new(py, &items) {
                    Ok(set) => set.into_any().unbind(),
                    // An unhashable member: redis-py keeps the list.
                    Err(e) if e.is_instance_of::<PyTypeError>(py) => {
                        PyList::new(py, items)?.into_any().unbind()
                    }
                    Err(e) => return Err(e),
                }
            }
            Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
                let out = PyList::empty(py);
                for f in items {
                    out.append(self.convert(py, f, resp3, decode)?)?;
                }
                out.into_any().unbind()
            }
            Frame::Bulks(items) => {
                let out = PyList::empty(py);
                for b in items.iter() {
                    out.append(text(b)?)?;
                }
                out.into_any().unbind()
            }
            Frame::Map(pairs) if resp3 => {
                let dict = PyDict::new(py);
                for (k, v) in pairs {
                    dict.set_item(
                        self.convert(py, k, resp3, decode)?,
                        self.convert(py, v, resp3, decode)?,
                    )?;
                }
                dict.into_any().unbind()
            }
            Frame::Map(pairs) => {
                let out = PyList::empty(py);
                for (k, v) in pairs {
                    out.append(self.convert(py, k, resp3, decode)?)?;
                    out.append(self.convert(py, v, resp3, decode)?)?;
                }
                out.into_any().unbind()
            }
            Frame::Double(d) if resp3 => PyFloat::new(py, d).into_any().unbind(),
            Frame::Double(d) => text(fastkv_resp::float::fmt_g17(d).as_bytes())?,
            Frame::Boolean(b) if resp3 => PyBool::new(py, b).to_owned().into_any().unbind(),
            Frame::Boolean(b) => i64::from(b).into_pyobject(py)?.into_any().unbind(),
            Frame::BigNumber(s) if resp3 => py.get_type::<PyInt>().call1((s,))?.unbind(),
            Frame::BigNumber(s) => text(s.as_bytes())?,
        })
    }

    /// A bulk or status string: `bytes`, or `str` when decoding.
    fn text(&self, py: Python<'_>, b: &[u8], decode: bool) -> PyResult<Py<PyAny>> {
        match (&self.decoding, decode) {
            (Decoding::Off, _) | (_, false) => Ok(PyBytes::new(py, b).into_any().unbind()),
            (Decoding::Utf8, true) => match std::str::from_utf8(b) {
                Ok(s) => Ok(PyString::new(py, s).into_any().unbind()),
                Err(e) => Err(PyUnicodeDecodeError::new_err_from_utf8(py, b, e)),
            },
            (Decoding::Codec(enc, errs), true) => Ok(PyBytes::new(py, b)
                .call_method1("decode", (enc.bind(py), errs.bind(py)))?
                .unbind()),
        }
    }

    /// An error reply as an exception instance (not raised).
    fn error(&self, py: Python<'_>, line: &str) -> PyResult<Py<PyAny>> {
        match &self.error_factory {
            Some(f) => Ok(f.bind(py).call1((line,))?.unbind()),
            None => errors::response_error_value(py, line),
        }
    }

    /// Runs `args` (a command line; a first argument with spaces, like `"CONFIG GET"`, is
    /// several words, as redis-py packs it) and queues its reply. With `allow_blocking`
    /// false, a blocking command is not run and `false` is returned.
    fn send_args(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        allow_blocking: bool,
    ) -> PyResult<bool> {
        let items: Vec<Bound<'_, PyAny>> = args.iter().collect();
        let mut owned: Vec<Arg<'_>> = Vec::with_capacity(items.len() + 1);
        for (i, a) in items.iter().enumerate() {
            let arg = Arg::new(a)?;
            if i == 0 && arg.contains(&b' ') {
                for word in arg
                    .split(|b| b.is_ascii_whitespace())
                    .filter(|w| !w.is_empty())
                {
                    owned.push(Arg::Owned(word.to_vec()));
                }
                continue;
            }
            owned.push(arg);
        }
        let mut stack: [&[u8]; STACK_ARGS] = [&[]; STACK_ARGS];
        let heap: Vec<&[u8]>;
        let argv: &[&[u8]] = if owned.len() <= STACK_ARGS {
            for (slot, a) in stack.iter_mut().zip(&owned) {
                *slot = a;
            }
            stack.get(..owned.len()).unwrap_or(&[])
        } else {
            heap = owned.iter().map(|a| &**a).collect();
            &heap
        };
        let ran = if may_block(&self.engine, argv) {
            if !allow_blocking {
                return Ok(false);
            }
            self.run_blocking(py, argv)?
        } else {
            self.run(py, argv)?
        };
        self.resp3.store(ran.resp3, Ordering::Relaxed);
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        // Pushes queued by now come before the reply, as a server writes them.
        self.drain_sink(&mut pending, ran.resp3);
        if ran.send {
            pending.push_back(Pending {
                frame: ran.frame,
                resp3: ran.resp3,
                push: false,
            });
        }
        Ok(true)
    }

    fn has_pending(&self) -> bool {
        !self
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_empty()
    }

    /// Moves every queued push into `pending`.
    fn drain_sink(&self, pending: &mut VecDeque<Pending>, resp3: bool) {
        while let Some(m) = self.sink.pop() {
            pending.push_back(Self::push_entry(&m, resp3));
        }
    }

    fn push_entry(m: &PushMessage, resp3: bool) -> Pending {
        Pending {
            frame: m.to_frame(),
            resp3,
            push: true,
        }
    }

    /// The next reply or push: queued ones first, then the sink's, waiting for one until
    /// `deadline` (`None`: forever) with the GIL released. `Ok(None)` on timeout.
    fn next_entry(&self, py: Python<'_>, deadline: Option<Instant>) -> PyResult<Option<Pending>> {
        let resp3 = self.resp3.load(Ordering::Relaxed);
        loop {
            {
                let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(p) = pending.pop_front() {
                    return Ok(Some(p));
                }
            }
            if let Some(m) = self.sink.pop() {
                return Ok(Some(Self::push_entry(&m, resp3)));
            }
            if self.sink.is_closed() {
                return Err(PyConnectionError::new_err(
                    "subscriber dropped: client-output-buffer-limit pubsub reached",
                ));
            }
            let slice = match deadline {
                None => Duration::from_millis(SLICE_MS),
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Ok(None);
                    }
                    left.min(Duration::from_millis(SLICE_MS))
                }
            };
            let sink = &self.sink;
            if let Some(m) = py.detach(|| sink.pop_timeout(Some(slice))) {
                return Ok(Some(Self::push_entry(&m, resp3)));
            }
            py.check_signals()?;
        }
    }

    /// Whether anything can arrive without a command: queued pushes, or subscriptions.
    fn subscribed_or_queued(&self) -> bool {
        !self.sink.is_empty()
            || self
                .client
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_ref()
                .is_some_and(|c| c.subscriptions() > 0)
    }
}

#[pymethods]
impl PyConnection {
    /// A new connection to `store`'s engine, with its own client (database 0, RESP2 until
    /// HELLO 3). `decode_responses`/`encoding`/`encoding_errors` are redis-py's `Encoder`
    /// settings; `error_factory(message)` builds the exception instance for an error reply
    /// (redis-py's `parse_error`; `fastkv.ResponseError` when omitted).
    #[new]
    #[pyo3(signature = (store, *, decode_responses=false, encoding="utf-8", encoding_errors="strict", error_factory=None, resp3_sets=false))]
    fn new(
        py: Python<'_>,
        store: &Bound<'_, PyStore>,
        decode_responses: bool,
        encoding: &str,
        encoding_errors: &str,
        error_factory: Option<Py<PyAny>>,
        resp3_sets: bool,
    ) -> Self {
        let engine = store.get().engine().clone();
        let utf8 = matches!(
            encoding.to_ascii_lowercase().replace('_', "-").as_str(),
            "utf-8" | "utf8"
        );
        let decoding = if !decode_responses {
            Decoding::Off
        } else if utf8 && encoding_errors == "strict" {
            Decoding::Utf8
        } else {
            Decoding::Codec(
                PyString::new(py, encoding).unbind(),
                PyString::new(py, encoding_errors).unbind(),
            )
        };
        let mut client = engine.new_client();
        let sink = Sink::new();
        client.sink = Some(sink.clone());
        PyConnection {
            engine,
            client: Mutex::new(Some(client)),
            pending: Mutex::new(VecDeque::new()),
            sink,
            resp3: AtomicBool::new(false),
            decoding,
            error_factory,
            resp3_sets,
            waiting: Mutex::new(None),
        }
    }

    /// Runs one command now (blocking commands wait here, GIL released) and queues its
    /// reply for `read`. `args`: `bytes` (or `str`/`int`/`float`, encoded as redis-py does).
    #[pyo3(signature = (*args))]
    fn send(&self, py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<()> {
        self.send_args(py, args, true).map(|_| ())
    }

    /// Like `send`, but a blocking command (BLPOP...) is not run: returns `False` for it (the
    /// asyncio client then runs it with `send` in a worker thread), `True` otherwise.
    #[pyo3(signature = (*args))]
    fn try_send(&self, py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.send_args(py, args, false)
    }

    /// Runs every command line of `commands` (an iterable of tuples) in order, queueing
    /// each reply: a pipeline's send.
    fn send_many(&self, py: Python<'_>, commands: &Bound<'_, PyAny>) -> PyResult<()> {
        for cmd in commands.try_iter()? {
            let cmd = cmd?;
            let t = cmd.cast::<PyTuple>()?;
            self.send_args(py, t, true)?;
        }
        Ok(())
    }

    /// The next reply (or pub/sub push), converted as redis-py's parser would (an error reply
    /// is returned as an exception instance). With nothing queued, waits up to `timeout`
    /// seconds for a push (`None`: for as long as one can come: while subscribed) and raises
    /// `TimeoutError` if none comes. RESP3 pushes are skipped unless `push_request` (redis-py
    /// reads them only from `PubSub`); RESP2 ones are ordinary replies.
    #[pyo3(signature = (disable_decoding=false, timeout=None, push_request=false))]
    fn read(
        &self,
        py: Python<'_>,
        disable_decoding: bool,
        timeout: Option<f64>,
        push_request: bool,
    ) -> PyResult<Py<PyAny>> {
        let deadline = match timeout {
            Some(t) => Some(deadline_after(t)),
            None if self.has_pending() || self.subscribed_or_queued() => None,
            // Nothing sent, nothing subscribed: nothing can ever arrive.
            None => Some(Instant::now()),
        };
        loop {
            let Some(p) = self.next_entry(py, deadline)? else {
                return Err(PyTimeoutError::new_err("no reply to read"));
            };
            if p.push && p.resp3 && !push_request {
                continue;
            }
            return self.convert(py, p.frame, p.resp3, !disable_decoding);
        }
    }

    /// Whether a reply or push is waiting to be read, waiting up to `timeout` seconds for a
    /// push to arrive.
    #[pyo3(signature = (timeout=0.0))]
    fn can_read(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        if self.has_pending() {
            return Ok(true);
        }
        let deadline = timeout.map(deadline_after);
        match self.next_entry(py, deadline)? {
            Some(p) => {
                self.pending
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push_front(p);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Whether anything can arrive without a command being sent (pub/sub pushes: queued,
    /// or subscribed): if not, waiting on an empty connection would wait forever.
    fn can_wait(&self) -> bool {
        self.subscribed_or_queued()
    }

    /// Whether `args` is a blocking command (BLPOP, BLMOVE, BZPOPMIN, XREAD...): the asyncio
    /// client runs those in a worker thread.
    #[pyo3(signature = (*args))]
    fn may_block(&self, args: &Bound<'_, PyTuple>) -> PyResult<bool> {
        let Some(first) = args.iter().next() else {
            return Ok(false);
        };
        let name = Arg::new(&first)?;
        let word = name.split(|b| *b == b' ').next().unwrap_or(&[]);
        Ok(may_block(&self.engine, &[word]))
    }

    /// Stops a blocking command waiting in another thread: it returns its timeout reply
    /// (or the reply served meanwhile). No-op if none waits.
    fn cancel(&self) {
        if let Some(tx) = self
            .waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            let _ = tx.send(None);
        }
    }

    /// Drops the connection's client (as a server does when a socket closes: CLIENT LIST no
    /// longer shows it) and unread replies. Later sends raise `ConnectionError`.
    fn close(&self, py: Python<'_>) {
        self.cancel();
        // Wakes a thread waiting for a push; it raises ConnectionError.
        self.sink.close();
        let client = py.detach(|| {
            self.client
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
        });
        drop(client);
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Whether `close()` has been called.
    #[getter]
    fn closed(&self) -> bool {
        self.client
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none()
    }

    /// The engine client's id (CLIENT ID); 0 once closed.
    #[getter]
    fn id(&self) -> u64 {
        self.client
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map_or(0, |c| c.id)
    }

    /// The protocol the client speaks now: 2, or 3 after HELLO 3.
    #[getter]
    fn protocol(&self) -> u8 {
        self.client
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map_or(2, |c| c.proto)
    }

    fn __repr__(&self) -> String {
        format!("<fastkv._fastkv.Connection id={}>", self.id())
    }
}

/// The instant `seconds` from now (negative: now; NaN, infinite or huge: in 30 years).
fn deadline_after(seconds: f64) -> Instant {
    let secs = if seconds.is_finite() {
        seconds.clamp(0.0, 1e9)
    } else {
        1e9
    };
    Instant::now() + Duration::from_secs_f64(secs)
}

/// Whether `argv` names a blocking command. Cheap for everything else: only names starting
/// with b, x or w are looked up.
fn may_block(engine: &Engine, argv: &[&[u8]]) -> bool {
    let Some(name) = argv.first() else {
        return false;
    };
    matches!(name.first(), Some(b'b' | b'B' | b'x' | b'X' | b'w' | b'W'))
        && engine
            .command(name)
            .is_some_and(|c| c.has(fastkv_core::command::BLOCKING))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocking_names() {
        let engine = Engine::new(fastkv_core::Config::default());
        assert!(may_block(&engine, &[b"BLPOP"]));
        assert!(may_block(&engine, &[b"bzpopmin"]));
        assert!(!may_block(&engine, &[b"LPOP"]));
        assert!(!may_block(&engine, &[b"GET"]));
        assert!(!may_block(&engine, &[]));
    }
}
