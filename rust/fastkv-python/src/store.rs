//! `fastkv.Store`: an in-process engine with redis-py's method names and return conventions,
//! `execute_command` for every command, and a mapping face.
//!
//! Every call goes through `Engine::execute`, the dispatcher every front door shares, with the
//! store's own [`Client`] (selected database, RESP3). Arguments are borrowed from the Python
//! objects where possible ([`crate::args`]); replies are converted straight from [`Frame`]s
//! ([`crate::reply`]).
//!
//! GIL policy: small commands keep the GIL (releasing and re-taking it costs more than they
//! do). Commands that can run long on big keyspaces (KEYS, FLUSHALL, FLUSHDB, SCAN with a big
//! COUNT, DEBUG, SAVE) release it, as does any call that finds the store's client busy in
//! another thread: it waits for the client lock without holding the GIL.

use crate::args::{self, Arg, Argv};
use crate::errors;
use crate::reply;
use crate::server::PyServerHandle;
use fastkv_core::command::Args;
use fastkv_core::dispatch::Ctx;
use fastkv_core::engine::Prepared;
use fastkv_core::{Client, Config, Engine, Frame, OpError};
use pyo3::exceptions::{PyKeyError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyList, PyString, PyTuple};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError, TryLockError};

/// A SCAN COUNT above which the GIL is released while the scan runs.
const LONG_SCAN_COUNT: u64 = 1000;

/// Room for the longest native command line built on the stack (SET with every option).
const MAX_FIXED_ARGS: usize = 16;

/// An in-process fastkv store.
#[pyclass(name = "Store", module = "fastkv._fastkv", frozen)]
pub(crate) struct PyStore {
    engine: Arc<Engine>,
    /// The store's caller state (selected database, protocol). A std `Mutex`, not a shard
    /// lock: it is held for one command at a time, never across a call into Python, and a
    /// thread that finds it taken waits with the GIL released (see [`PyStore::run`]).
    /// Poisoning is ignored: a panic inside a command leaves the `Client` valid.
    client: Mutex<Client>,
    pub(crate) decode: bool,
    /// The rows of the commands behind the hottest methods, resolved once.
    pub(crate) hot: Hot,
}

/// Command rows resolved when the store is made, for the methods called in tight loops:
/// running one skips the dispatcher's name lookup (see [`Prepared`]), nothing else.
pub(crate) struct Hot {
    pub(crate) get: Prepared,
    pub(crate) set: Prepared,
    pub(crate) incrby: Prepared,
    pub(crate) decrby: Prepared,
    pub(crate) hset: Prepared,
    pub(crate) hget: Prepared,
    pub(crate) zadd: Prepared,
}

impl Hot {
    fn resolve(engine: &Engine) -> PyResult<Hot> {
        let row = |name: &str| {
            engine.prepared(name.as_bytes()).ok_or_else(|| {
                pyo3::exceptions::PySystemError::new_err(format!("fastkv: no command {name}"))
            })
        };
        Ok(Hot {
            get: row("get")?,
            set: row("set")?,
            incrby: row("incrby")?,
            decrby: row("decrby")?,
            hset: row("hset")?,
            hget: row("hget")?,
            zadd: row("zadd")?,
        })
    }
}

/// Room for a value copied out of the keyspace on the stack ([`BulkCopy`]); longer values
/// take one heap block. 128 bytes: most cached values in loops are short, and the buffer is
/// initialized on every call.
const INLINE_BULK: usize = 128;

/// A bulk value copied out while its shard is locked, turned into `bytes` after the lock is
/// released (no Python object is made under a shard lock).
pub(crate) struct BulkCopy {
    len: usize,
    inline: [u8; INLINE_BULK],
    heap: Vec<u8>,
}

impl BulkCopy {
    pub(crate) fn new() -> Self {
        BulkCopy {
            len: 0,
            inline: [0; INLINE_BULK],
            heap: Vec::new(),
        }
    }

    pub(crate) fn fill(&mut self, v: &[u8]) {
        self.len = v.len();
        match self.inline.get_mut(..v.len()) {
            Some(dst) => dst.copy_from_slice(v),
            None => self.heap = v.to_vec(),
        }
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        self.inline.get(..self.len).unwrap_or(&self.heap)
    }
}

impl PyStore {
    /// The engine this store drives (shared with `Connection`s and served sockets).
    pub(crate) fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Runs one command, keeping the GIL unless another thread holds the client.
    pub(crate) fn run(&self, py: Python<'_>, argv: &[&[u8]]) -> Frame {
        match self.client.try_lock() {
            Ok(mut c) => self.engine.execute(&mut c, argv),
            Err(TryLockError::Poisoned(p)) => self.engine.execute(&mut p.into_inner(), argv),
            Err(TryLockError::WouldBlock) => self.run_detached(py, argv),
        }
    }

    /// Runs a command resolved once ([`Hot`]), keeping the GIL unless another thread holds
    /// the client.
    pub(crate) fn run_prepared(&self, py: Python<'_>, cmd: Prepared, argv: &[&[u8]]) -> Frame {
        match self.client.try_lock() {
            Ok(mut c) => self.engine.execute_prepared(&mut c, cmd, argv),
            Err(TryLockError::Poisoned(p)) => {
                self.engine.execute_prepared(&mut p.into_inner(), cmd, argv)
            }
            Err(TryLockError::WouldBlock) => py.detach(|| {
                let mut c = self.client.lock().unwrap_or_else(PoisonError::into_inner);
                self.engine.execute_prepared(&mut c, cmd, argv)
            }),
        }
    }

    /// Runs a command resolved once with a typed variant of its handler (see
    /// [`Engine::execute_prepared_with`]); `Err` is a reply frame (refusal, error, QUEUED).
    pub(crate) fn run_with<T: Send>(
        &self,
        py: Python<'_>,
        cmd: Prepared,
        argv: &[&[u8]],
        handler: impl FnOnce(&mut Ctx<'_, '_>, &mut Args<'_>) -> Result<T, OpError> + Send,
    ) -> Result<T, Frame> {
        match self.client.try_lock() {
            Ok(mut c) => self
                .engine
                .execute_prepared_with(&mut c, cmd, argv, handler),
            Err(TryLockError::Poisoned(p)) => {
                self.engine
                    .execute_prepared_with(&mut p.into_inner(), cmd, argv, handler)
            }
            Err(TryLockError::WouldBlock) => py.detach(|| {
                let mut c = self.client.lock().unwrap_or_else(PoisonError::into_inner);
                self.engine
                    .execute_prepared_with(&mut c, cmd, argv, handler)
            }),
        }
    }

    /// GET: the value (`None` if missing), or the reply converted when the command did not
    /// run (QUEUED in MULTI; errors raise).
    fn get_value(&self, py: Python<'_>, key: &[u8]) -> PyResult<Option<Py<PyAny>>> {
        // The value is copied out under the shard lock, and becomes `bytes` after: no reply
        // frame (and no heap block for a short value) in between.
        let mut value = BulkCopy::new();
        let found = self.run_with(py, self.hot.get, &[b"GET", key], |ctx, args| {
            fastkv_core::commands::string::get_with(ctx, args, |v| value.fill(v))
        });
        match found {
            Ok(Some(())) => reply::bytes_or_str(py, value.bytes(), self.decode).map(Some),
            Ok(None) => Ok(None),
            Err(frame) => self.to_py(py, frame).map(Some),
        }
    }

    /// Runs one command with the GIL released (long commands, or a busy client).
    pub(crate) fn run_detached(&self, py: Python<'_>, argv: &[&[u8]]) -> Frame {
        py.detach(|| {
            let mut c = self.client.lock().unwrap_or_else(PoisonError::into_inner);
            self.engine.execute(&mut c, argv)
        })
    }

    /// Whether `argv` names a blocking command (BLPOP, BLMOVE, BZPOPMIN, XREAD...). Cheap for
    /// everything else: only names starting with b, x or w are looked up.
    fn may_block(&self, argv: &[&[u8]]) -> bool {
        let Some(name) = argv.first() else {
            return false;
        };
        matches!(name.first(), Some(b'b' | b'B' | b'x' | b'X' | b'w' | b'W'))
            && self
                .engine
                .command(name)
                .is_some_and(|c| c.has(fastkv_core::command::BLOCKING))
    }

    /// Runs a blocking command. If it blocks, the store's client lock is released (other
    /// threads may use the store, and their pushes are what wakes it) and this thread waits on
    /// a channel with the GIL released, in slices so that Ctrl-C (a pending signal) can
    /// interrupt it; the waiter is unregistered before the exception propagates. On the
    /// deadline, `unblock` picks the timeout reply or a reply delivered meanwhile.
    pub(crate) fn run_blocking(&self, py: Python<'_>, argv: &[&[u8]]) -> PyResult<Frame> {
        use fastkv_core::blocking::{Deliver, Outcome};
        use std::sync::mpsc::{self, RecvTimeoutError};
        /// How long one wait lasts before signals are checked.
        const SLICE_MS: u64 = 100;
        let (tx, mut rx) = mpsc::channel::<Frame>();
        let outcome = py.detach(|| {
            let mut tx = Some(tx);
            let mut waker = || -> Deliver {
                let tx = tx.take();
                Box::new(move |f| {
                    if let Some(tx) = tx {
                        let _ = tx.send(f);
                    }
                })
            };
            let mut c = self.client.lock().unwrap_or_else(PoisonError::into_inner);
            self.engine.execute_or_block(&mut c, argv, &mut waker)
        });
        let (id, deadline_ms) = match outcome {
            Outcome::Reply(f) => return Ok(f),
            Outcome::Blocked { id, deadline_ms } => (id, deadline_ms),
        };
        let blocking = &self.engine.blocking;
        loop {
            let now = fastkv_core::time::now_ms();
            // Deadlines are whole ms from a clock read at the command's start: wait until the
            // clock is past it (as Redis checks `timeout < now`), never early.
            let slice =
                deadline_ms.map_or(SLICE_MS, |at| (at + 1).saturating_sub(now).min(SLICE_MS));
            // The receiver travels into the GIL-free closure and back (it is not `Sync`).
            let got;
            (got, rx) = py.detach(move || {
                let got = rx.recv_timeout(std::time::Duration::from_millis(slice));
                (got, rx)
            });
            match got {
                Ok(f) => return Ok(f),
                Err(RecvTimeoutError::Disconnected) => return Ok(Frame::NullArray),
                Err(RecvTimeoutError::Timeout) => {}
            }
            if deadline_ms.is_some_and(|at| fastkv_core::time::now_ms() > at) {
                return Ok(match blocking.unblock(id) {
                    Some(timeout_reply) => timeout_reply,
                    // Served as the deadline passed: the reply is on its way.
                    None => py.detach(move || rx.recv()).unwrap_or(Frame::NullArray),
                });
            }
            if let Err(e) = py.check_signals() {
                blocking.unblock(id);
                return Err(e);
            }
        }
    }

    /// Runs `head` followed by `rest`.
    pub(crate) fn run_args(&self, py: Python<'_>, head: &[&[u8]], rest: &[Arg<'_>]) -> Frame {
        let mut argv: Vec<&[u8]> = Vec::with_capacity(head.len() + rest.len());
        argv.extend_from_slice(head);
        argv.extend(rest.iter().map(|a| &**a));
        self.run(py, &argv)
    }

    /// Runs `name` (resolved once) followed by `rest`; the command line on the stack when
    /// short.
    pub(crate) fn run_args_prepared(
        &self,
        py: Python<'_>,
        cmd: Prepared,
        name: &'static [u8],
        rest: &[Arg<'_>],
    ) -> Frame {
        let mut stack: [&[u8]; MAX_FIXED_ARGS] = [&[]; MAX_FIXED_ARGS];
        let heap: Vec<&[u8]>;
        let argv: &[&[u8]] = match stack.get_mut(..rest.len() + 1) {
            Some(slots) => {
                for (slot, a) in slots
                    .iter_mut()
                    .zip(std::iter::once(name).chain(rest.iter().map(|a| &**a)))
                {
                    *slot = a;
                }
                slots
            }
            None => {
                heap = std::iter::once(name)
                    .chain(rest.iter().map(|a| &**a))
                    .collect();
                &heap
            }
        };
        self.run_prepared(py, cmd, argv)
    }

    pub(crate) fn to_py(&self, py: Python<'_>, frame: Frame) -> PyResult<Py<PyAny>> {
        reply::to_py(py, frame, self.decode)
    }

    /// EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT with redis-py's flags.
    #[allow(clippy::too_many_arguments)]
    fn expire_generic(
        &self,
        py: Python<'_>,
        cmd: &'static [u8],
        name: &Bound<'_, PyAny>,
        time: Arg<'_>,
        nx: bool,
        xx: bool,
        gt: bool,
        lt: bool,
    ) -> PyResult<bool> {
        let key = Arg::new(name)?;
        let mut argv = Argv::<'_, 8>::new(cmd);
        argv.push(&key)?;
        argv.push(&time)?;
        for (on, flag) in [(nx, b"NX"), (xx, b"XX"), (gt, b"GT"), (lt, b"LT")] {
            if on {
                argv.push(flag)?;
            }
        }
        reply::int_bool(py, self.run(py, argv.as_slice()))
    }

    /// MSET / MSETNX from a mapping's `items()`.
    fn mset_generic(
        &self,
        py: Python<'_>,
        cmd: &'static [u8],
        mapping: &Bound<'_, PyAny>,
    ) -> PyResult<Frame> {
        let mut items = Vec::new();
        for pair in mapping.call_method0("items")?.try_iter()? {
            for part in pair?.try_iter()? {
                items.push(Arg::owned(part?)?);
            }
        }
        Ok(self.run_args(py, &[cmd], &items))
    }

    /// One SCAN call; the reply frame as is.
    fn scan_frame(
        &self,
        py: Python<'_>,
        cursor: &Arg<'_>,
        pattern: Option<&Arg<'_>>,
        count: Option<(&Arg<'_>, bool)>,
        kind: Option<&Arg<'_>>,
    ) -> PyResult<Frame> {
        let mut argv = Argv::<'_, 8>::new(b"SCAN");
        argv.push(cursor)?;
        if let Some(p) = pattern {
            argv.push(b"MATCH")?;
            argv.push(p)?;
        }
        let mut long = false;
        if let Some((c, big)) = count {
            argv.push(b"COUNT")?;
            argv.push(c)?;
            long = big;
        }
        if let Some(t) = kind {
            argv.push(b"TYPE")?;
            argv.push(t)?;
        }
        Ok(if long {
            self.run_detached(py, argv.as_slice())
        } else {
            self.run(py, argv.as_slice())
        })
    }

    /// SET with redis-py's options (shared by `set` and `__setitem__`).
    #[allow(clippy::too_many_arguments)]
    fn set_generic(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
        ex: Option<&Bound<'_, PyAny>>,
        px: Option<&Bound<'_, PyAny>>,
        nx: bool,
        xx: bool,
        keepttl: bool,
        get: bool,
        exat: Option<&Bound<'_, PyAny>>,
        pxat: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let expiries = [
            ex.is_some(),
            px.is_some(),
            exat.is_some(),
            pxat.is_some(),
            keepttl,
        ];
        if expiries.iter().filter(|&&b| b).count() > 1 {
            return Err(errors::data_error(
                py,
                "``ex``, ``px``, ``exat``, ``pxat``, and ``keepttl`` are mutually exclusive."
                    .into(),
            ));
        }
        if nx && xx {
            return Err(errors::data_error(
                py,
                "``nx``, ``xx``, ``ifeq``, ``ifne``, ``ifdeq``, ``ifdne`` are mutually exclusive."
                    .into(),
            ));
        }
        let key = Arg::new(name)?;
        let val = Arg::new(value)?;
        let expiry: Option<(&'static [u8], Arg<'static>)> = if let Some(o) = ex {
            Some((b"EX", args::set_expiry(o, false)?))
        } else if let Some(o) = px {
            Some((b"PX", args::set_expiry(o, true)?))
        } else if let Some(o) = exat {
            Some((b"EXAT", args::absolute_time(o, false)?))
        } else if let Some(o) = pxat {
            Some((b"PXAT", args::absolute_time(o, true)?))
        } else {
            None
        };
        let mut argv = Argv::<'_, MAX_FIXED_ARGS>::new(b"SET");
        argv.push(&key)?;
        argv.push(&val)?;
        if nx {
            argv.push(b"NX")?;
        } else if xx {
            argv.push(b"XX")?;
        }
        if get {
            argv.push(b"GET")?;
        }
        if let Some((token, v)) = &expiry {
            argv.push(token)?;
            argv.push(v)?;
        }
        if keepttl {
            argv.push(b"KEEPTTL")?;
        }
        let frame = self.run_prepared(py, self.hot.set, argv.as_slice());
        if get {
            return self.to_py(py, frame);
        }
        set_result(py, frame)
    }
}

/// redis-py's parse_set_result for SET without GET: None stays None, otherwise `== "OK"`.
fn set_result(py: Python<'_>, frame: Frame) -> PyResult<Py<PyAny>> {
    match reply::check(py, frame)? {
        Frame::Null | Frame::NullArray => Ok(py.None()),
        other => Ok(PyBool::new(py, reply::bool_ok(py, other)?)
            .to_owned()
            .into_any()
            .unbind()),
    }
}

/// Is this command line one to run with the GIL released?
fn is_long(argv: &[&[u8]]) -> bool {
    let Some(name) = argv.first() else {
        return false;
    };
    const LONG: [&[u8]; 6] = [
        b"keys",
        b"flushall",
        b"flushdb",
        b"debug",
        b"save",
        b"bgsave",
    ];
    if LONG.iter().any(|l| name.eq_ignore_ascii_case(l)) {
        return true;
    }
    if name.eq_ignore_ascii_case(b"scan") {
        let mut it = argv.iter().skip(2);
        while let Some(tok) = it.next() {
            if tok.eq_ignore_ascii_case(b"count") {
                let n = it
                    .next()
                    .and_then(|v| std::str::from_utf8(v).ok())
                    .and_then(|v| v.parse::<u64>().ok());
                return n.is_some_and(|n| n > LONG_SCAN_COUNT);
            }
        }
    }
    false
}

/// A config keyword's value as redis.conf text: `True`/`False` -> `yes`/`no`, a list or tuple
/// -> its items joined by spaces (`save=["3600 1", "300 100"]`), bytes -> UTF-8, else `str()`.
fn directive_value(v: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(b) = v.cast::<PyBool>() {
        return Ok(if b.is_true() { "yes" } else { "no" }.to_string());
    }
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(s.to_cow()?.into_owned());
    }
    if let Ok(b) = v.cast::<PyBytes>() {
        return Ok(String::from_utf8_lossy(b.as_bytes()).into_owned());
    }
    if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() {
        let parts = v
            .try_iter()?
            .map(|item| directive_value(&item?))
            .collect::<PyResult<Vec<_>>>()?;
        return Ok(parts.join(" "));
    }
    Ok(v.str()?.to_cow()?.into_owned())
}

/// The engine config from `Store(**config)` keywords (`_` stands for `-`).
fn build_config(config: Option<&Bound<'_, PyDict>>) -> PyResult<Config> {
    let mut cfg = Config::default();
    if let Some(kw) = config {
        for (k, v) in kw.iter() {
            let name = k.extract::<String>()?.replace('_', "-");
            let value = directive_value(&v)?;
            cfg.set_directive(&name, &value)
                .map_err(PyValueError::new_err)?;
        }
    }
    Ok(cfg)
}

#[pymethods]
impl PyStore {
    #[new]
    #[pyo3(signature = (decode_responses = false, **config))]
    fn new(decode_responses: bool, config: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let engine = Engine::new(build_config(config)?);
        let mut client = engine.new_client();
        // Typed replies (maps, sets, doubles, booleans) for the Python conversion.
        client.proto = 3;
        Ok(PyStore {
            hot: Hot::resolve(&engine)?,
            engine,
            client: Mutex::new(client),
            decode: decode_responses,
        })
    }

    /// Whether bulk replies are decoded to `str` (UTF-8).
    #[getter]
    fn decode_responses(&self) -> bool {
        self.decode
    }

    fn __repr__(&self) -> String {
        let db = self
            .client
            .try_lock()
            .map(|c| c.db.to_string())
            .unwrap_or_else(|_| "?".into());
        format!(
            "<fastkv.Store db={db} decode_responses={}>",
            if self.decode { "True" } else { "False" }
        )
    }

    /// Runs any command; returns the reply converted to Python objects (RESP3 types).
    #[pyo3(signature = (*args))]
    fn execute_command(&self, py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<Py<PyAny>> {
        let mut owned: Vec<Arg<'static>> = Vec::with_capacity(args.len() + 1);
        for (i, a) in args.iter().enumerate() {
            let arg = Arg::owned(a)?;
            // As redis-py does: a first argument with spaces ("CONFIG GET") is several words.
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
        let mut stack: [&[u8]; MAX_FIXED_ARGS] = [&[]; MAX_FIXED_ARGS];
        let heap: Vec<&[u8]>;
        let argv: &[&[u8]] = if owned.len() <= MAX_FIXED_ARGS {
            for (slot, a) in stack.iter_mut().zip(&owned) {
                *slot = a;
            }
            stack.get(..owned.len()).unwrap_or(&[])
        } else {
            heap = owned.iter().map(|a| &**a).collect();
            &heap
        };
        let frame = if self.may_block(argv) {
            self.run_blocking(py, argv)?
        } else if is_long(argv) {
            self.run_detached(py, argv)
        } else {
            self.run(py, argv)
        };
        self.to_py(py, frame)
    }

    // ----------------------------------------------------------------------------------
    // Strings
    // ----------------------------------------------------------------------------------

    /// GET name
    fn get(&self, py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        Ok(self
            .get_value(py, &Arg::new(name)?)?
            .unwrap_or_else(|| py.None()))
    }

    /// SET name value [NX|XX] [GET] [EX|PX|EXAT|PXAT t] [KEEPTTL]
    #[pyo3(signature = (name, value, ex=None, px=None, nx=false, xx=false, keepttl=false, get=false, exat=None, pxat=None))]
    #[allow(clippy::too_many_arguments)]
    fn set(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
        ex: Option<&Bound<'_, PyAny>>,
        px: Option<&Bound<'_, PyAny>>,
        nx: bool,
        xx: bool,
        keepttl: bool,
        get: bool,
        exat: Option<&Bound<'_, PyAny>>,
        pxat: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let plain = !(nx || xx || keepttl || get)
            && ex.is_none()
            && px.is_none()
            && exat.is_none()
            && pxat.is_none();
        if plain {
            // `set(k, v)`, the loop case: no option to check or encode.
            let (key, val) = (Arg::new(name)?, Arg::new(value)?);
            return set_result(
                py,
                self.run_prepared(py, self.hot.set, &[b"SET", &key, &val]),
            );
        }
        self.set_generic(py, name, value, ex, px, nx, xx, keepttl, get, exat, pxat)
    }

    /// DEL name [name ...]
    #[pyo3(signature = (*names))]
    fn delete(&self, py: Python<'_>, names: &Bound<'_, PyTuple>) -> PyResult<Py<PyAny>> {
        let keys = args::owned_all(names.iter())?;
        reply::int(py, self.run_args(py, &[b"DEL"], &keys))
    }

    /// EXISTS name [name ...]
    #[pyo3(signature = (*names))]
    fn exists(&self, py: Python<'_>, names: &Bound<'_, PyTuple>) -> PyResult<Py<PyAny>> {
        let keys = args::owned_all(names.iter())?;
        reply::int(py, self.run_args(py, &[b"EXISTS"], &keys))
    }

    /// INCRBY name amount (redis-py's `incr`)
    #[pyo3(signature = (name, amount=None), text_signature = "($self, name, amount=1)")]
    fn incr(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        amount: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        self.incrby(py, name, amount)
    }

    /// INCRBY name amount
    #[pyo3(signature = (name, amount=None), text_signature = "($self, name, amount=1)")]
    fn incrby(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        amount: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let key = Arg::new(name)?;
        let by = match amount {
            Some(a) => Arg::new(a)?,
            None => Arg::Static(b"1"),
        };
        reply::int(
            py,
            self.run_prepared(py, self.hot.incrby, &[b"INCRBY", &key, &by]),
        )
    }

    /// DECRBY name amount (redis-py's `decr`)
    #[pyo3(signature = (name, amount=None), text_signature = "($self, name, amount=1)")]
    fn decr(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        amount: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        self.decrby(py, name, amount)
    }

    /// DECRBY name amount
    #[pyo3(signature = (name, amount=None), text_signature = "($self, name, amount=1)")]
    fn decrby(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        amount: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let key = Arg::new(name)?;
        let by = match amount {
            Some(a) => Arg::new(a)?,
            None => Arg::Static(b"1"),
        };
        reply::int(
            py,
            self.run_prepared(py, self.hot.decrby, &[b"DECRBY", &key, &by]),
        )
    }

    /// INCRBYFLOAT name amount -> float
    #[pyo3(signature = (name, amount=None), text_signature = "($self, name, amount=1.0)")]
    fn incrbyfloat(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        amount: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let key = Arg::new(name)?;
        let by = match amount {
            Some(a) => Arg::new(a)?,
            None => Arg::Static(b"1.0"),
        };
        reply::float(py, self.run(py, &[b"INCRBYFLOAT", &key, &by]))
    }

    /// MGET keys... (`keys` may be one key or an iterable of keys; `args` are appended)
    #[pyo3(signature = (keys, *args))]
    fn mget(
        &self,
        py: Python<'_>,
        keys: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
    ) -> PyResult<Py<PyAny>> {
        let all = args::owned_all(args::list_or_args(keys, args)?)?;
        if all.is_empty() {
            // redis-py answers an empty MGET itself.
            return Ok(PyList::empty(py).into_any().unbind());
        }
        let frame = self.run_args(py, &[b"MGET"], &all);
        self.to_py(py, frame)
    }

    /// MSET from a mapping -> True
    fn mset(&self, py: Python<'_>, mapping: &Bound<'_, PyAny>) -> PyResult<bool> {
        let frame = self.mset_generic(py, b"MSET", mapping)?;
        reply::bool_ok(py, frame)
    }

    /// MSETNX from a mapping -> bool
    fn msetnx(&self, py: Python<'_>, mapping: &Bound<'_, PyAny>) -> PyResult<bool> {
        let frame = self.mset_generic(py, b"MSETNX", mapping)?;
        reply::int_bool(py, frame)
    }

    /// SETNX name value -> bool
    fn setnx(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let (key, val) = (Arg::new(name)?, Arg::new(value)?);
        reply::int_bool(py, self.run(py, &[b"SETNX", &key, &val]))
    }

    /// SETEX name time value (`time`: seconds or a timedelta) -> True
    fn setex(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        time: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let (key, t, val) = (
            Arg::new(name)?,
            args::relative_time(time, false)?,
            Arg::new(value)?,
        );
        reply::bool_ok(py, self.run(py, &[b"SETEX", &key, &t, &val]))
    }

    /// PSETEX name time_ms value (`time_ms`: milliseconds or a timedelta) -> True
    fn psetex(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        time_ms: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let (key, t, val) = (
            Arg::new(name)?,
            args::relative_time(time_ms, true)?,
            Arg::new(value)?,
        );
        reply::bool_ok(py, self.run(py, &[b"PSETEX", &key, &t, &val]))
    }

    /// GETSET name value -> old value
    fn getset(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let (key, val) = (Arg::new(name)?, Arg::new(value)?);
        let frame = self.run(py, &[b"GETSET", &key, &val]);
        self.to_py(py, frame)
    }

    /// GETDEL name
    fn getdel(&self, py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let key = Arg::new(name)?;
        let frame = self.run(py, &[b"GETDEL", &key]);
        self.to_py(py, frame)
    }

    /// GETEX name [EX|PX|EXAT|PXAT t | PERSIST]
    #[pyo3(signature = (name, ex=None, px=None, exat=None, pxat=None, persist=false))]
    #[allow(clippy::too_many_arguments)]
    fn getex(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        ex: Option<&Bound<'_, PyAny>>,
        px: Option<&Bound<'_, PyAny>>,
        exat: Option<&Bound<'_, PyAny>>,
        pxat: Option<&Bound<'_, PyAny>>,
        persist: bool,
    ) -> PyResult<Py<PyAny>> {
        let set = [
            ex.is_some(),
            px.is_some(),
            exat.is_some(),
            pxat.is_some(),
            persist,
        ];
        if set.iter().filter(|&&b| b).count() > 1 {
            return Err(errors::data_error(
                py,
                "``ex``, ``px``, ``exat``, ``pxat``, and ``persist`` are mutually exclusive."
                    .into(),
            ));
        }
        let key = Arg::new(name)?;
        let option: Option<(&'static [u8], Arg<'static>)> = if let Some(o) = ex {
            Some((b"EX", args::set_expiry(o, false)?))
        } else if let Some(o) = px {
            Some((b"PX", args::set_expiry(o, true)?))
        } else if let Some(o) = exat {
            Some((b"EXAT", args::absolute_time(o, false)?))
        } else if let Some(o) = pxat {
            Some((b"PXAT", args::absolute_time(o, true)?))
        } else {
            None
        };
        let mut argv = Argv::<'_, 4>::new(b"GETEX");
        argv.push(&key)?;
        if let Some((token, v)) = &option {
            argv.push(token)?;
            argv.push(v)?;
        }
        if persist {
            argv.push(b"PERSIST")?;
        }
        let frame = self.run(py, argv.as_slice());
        self.to_py(py, frame)
    }

    /// APPEND key value -> new length
    fn append(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let (k, v) = (Arg::new(key)?, Arg::new(value)?);
        reply::int(py, self.run(py, &[b"APPEND", &k, &v]))
    }

    /// STRLEN name
    fn strlen(&self, py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let key = Arg::new(name)?;
        reply::int(py, self.run(py, &[b"STRLEN", &key]))
    }

    /// GETRANGE key start end
    fn getrange(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        start: &Bound<'_, PyAny>,
        end: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let (k, s, e) = (Arg::new(key)?, Arg::new(start)?, Arg::new(end)?);
        let frame = self.run(py, &[b"GETRANGE", &k, &s, &e]);
        self.to_py(py, frame)
    }

    /// SETRANGE name offset value -> new length
    fn setrange(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        offset: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let (k, o, v) = (Arg::new(name)?, Arg::new(offset)?, Arg::new(value)?);
        reply::int(py, self.run(py, &[b"SETRANGE", &k, &o, &v]))
    }

    // ----------------------------------------------------------------------------------
    // Keys and expiry
    // ----------------------------------------------------------------------------------

    /// EXPIRE name seconds [NX|XX|GT|LT] (`time`: seconds or a timedelta) -> bool
    #[pyo3(signature = (name, time, nx=false, xx=false, gt=false, lt=false))]
    #[allow(clippy::too_many_arguments)]
    fn expire(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        time: &Bound<'_, PyAny>,
        nx: bool,
        xx: bool,
        gt: bool,
        lt: bool,
    ) -> PyResult<bool> {
        let t = args::relative_time(time, false)?;
        self.expire_generic(py, b"EXPIRE", name, t, nx, xx, gt, lt)
    }

    /// PEXPIRE name milliseconds [NX|XX|GT|LT] (`time`: ms or a timedelta) -> bool
    #[pyo3(signature = (name, time, nx=false, xx=false, gt=false, lt=false))]
    #[allow(clippy::too_many_arguments)]
    fn pexpire(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        time: &Bound<'_, PyAny>,
        nx: bool,
        xx: bool,
        gt: bool,
        lt: bool,
    ) -> PyResult<bool> {
        let t = args::relative_time(time, true)?;
        self.expire_generic(py, b"PEXPIRE", name, t, nx, xx, gt, lt)
    }

    /// EXPIREAT name unix-seconds [NX|XX|GT|LT] (`when`: int or a datetime) -> bool
    #[pyo3(signature = (name, when, nx=false, xx=false, gt=false, lt=false))]
    #[allow(clippy::too_many_arguments)]
    fn expireat(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        when: &Bound<'_, PyAny>,
        nx: bool,
        xx: bool,
        gt: bool,
        lt: bool,
    ) -> PyResult<bool> {
        let t = args::absolute_time(when, false)?;
        self.expire_generic(py, b"EXPIREAT", name, t, nx, xx, gt, lt)
    }

    /// PEXPIREAT name unix-ms [NX|XX|GT|LT] (`when`: int or a datetime) -> bool
    #[pyo3(signature = (name, when, nx=false, xx=false, gt=false, lt=false))]
    #[allow(clippy::too_many_arguments)]
    fn pexpireat(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        when: &Bound<'_, PyAny>,
        nx: bool,
        xx: bool,
        gt: bool,
        lt: bool,
    ) -> PyResult<bool> {
        let t = args::absolute_time(when, true)?;
        self.expire_generic(py, b"PEXPIREAT", name, t, nx, xx, gt, lt)
    }

    /// TTL name -> seconds, -1 (no expiry) or -2 (no key)
    fn ttl(&self, py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let key = Arg::new(name)?;
        reply::int(py, self.run(py, &[b"TTL", &key]))
    }

    /// PTTL name -> milliseconds, -1 or -2
    fn pttl(&self, py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let key = Arg::new(name)?;
        reply::int(py, self.run(py, &[b"PTTL", &key]))
    }

    /// PERSIST name -> bool
    fn persist(&self, py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<bool> {
        let key = Arg::new(name)?;
        reply::int_bool(py, self.run(py, &[b"PERSIST", &key]))
    }

    /// TYPE name -> b"string", b"none", ... (`str` when decoding)
    #[pyo3(name = "type")]
    fn type_(&self, py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let key = Arg::new(name)?;
        reply::status(py, self.run(py, &[b"TYPE", &key]), self.decode)
    }

    /// RENAME src dst -> True
    fn rename(
        &self,
        py: Python<'_>,
        src: &Bound<'_, PyAny>,
        dst: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let (s, d) = (Arg::new(src)?, Arg::new(dst)?);
        reply::bool_ok(py, self.run(py, &[b"RENAME", &s, &d]))
    }

    /// RENAMENX src dst -> bool
    fn renamenx(
        &self,
        py: Python<'_>,
        src: &Bound<'_, PyAny>,
        dst: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let (s, d) = (Arg::new(src)?, Arg::new(dst)?);
        reply::int_bool(py, self.run(py, &[b"RENAMENX", &s, &d]))
    }

    /// KEYS pattern (runs with the GIL released)
    #[pyo3(signature = (pattern=None), text_signature = "($self, pattern='*')")]
    fn keys(&self, py: Python<'_>, pattern: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let pat = match pattern {
            Some(p) => Arg::new(p)?,
            None => Arg::Static(b"*"),
        };
        let frame = self.run_detached(py, &[b"KEYS", &pat]);
        self.to_py(py, frame)
    }

    /// SCAN cursor [MATCH m] [COUNT c] [TYPE t] -> (cursor, keys)
    #[pyo3(
        signature = (cursor=None, r#match=None, count=None, _type=None),
        text_signature = "($self, cursor=0, match=None, count=None, _type=None)"
    )]
    fn scan(
        &self,
        py: Python<'_>,
        cursor: Option<&Bound<'_, PyAny>>,
        r#match: Option<&Bound<'_, PyAny>>,
        count: Option<&Bound<'_, PyAny>>,
        _type: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(u64, Py<PyAny>)> {
        let cur = match cursor {
            Some(c) => Arg::new(c)?,
            None => Arg::Static(b"0"),
        };
        let pat = r#match.map(Arg::new).transpose()?;
        let cnt = count.map(Arg::new).transpose()?;
        let big = count
            .and_then(|c| c.extract::<u64>().ok())
            .is_some_and(|n| n > LONG_SCAN_COUNT);
        let kind = _type.map(Arg::new).transpose()?;
        let frame = self.scan_frame(
            py,
            &cur,
            pat.as_ref(),
            cnt.as_ref().map(|c| (c, big)),
            kind.as_ref(),
        )?;
        reply::scan(py, frame, self.decode)
    }

    /// An iterator over every key, page by page (SCAN); keys may repeat, as with SCAN.
    #[pyo3(signature = (r#match=None, count=None, _type=None))]
    fn scan_iter(
        slf: &Bound<'_, Self>,
        r#match: Option<&Bound<'_, PyAny>>,
        count: Option<&Bound<'_, PyAny>>,
        _type: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<ScanIterator> {
        let owned = |o: Option<&Bound<'_, PyAny>>| -> PyResult<Option<Vec<u8>>> {
            o.map(|v| Arg::new(v).map(|a| a.to_vec())).transpose()
        };
        let big = count
            .and_then(|c| c.extract::<u64>().ok())
            .is_some_and(|n| n > LONG_SCAN_COUNT);
        Ok(ScanIterator {
            store: slf.clone().unbind(),
            state: Mutex::new(ScanState {
                cursor: Some(0),
                pending: VecDeque::new(),
            }),
            pattern: owned(r#match)?,
            count: owned(count)?.map(|c| (c, big)),
            kind: owned(_type)?,
        })
    }

    /// DBSIZE
    fn dbsize(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        reply::int(py, self.run(py, &[b"DBSIZE"]))
    }

    /// FLUSHDB [ASYNC] -> True (runs with the GIL released)
    #[pyo3(signature = (asynchronous=false))]
    fn flushdb(&self, py: Python<'_>, asynchronous: bool) -> PyResult<bool> {
        let frame = if asynchronous {
            self.run_detached(py, &[b"FLUSHDB", b"ASYNC"])
        } else {
            self.run_detached(py, &[b"FLUSHDB"])
        };
        reply::bool_ok(py, frame)
    }

    /// FLUSHALL [ASYNC] -> True (runs with the GIL released)
    #[pyo3(signature = (asynchronous=false))]
    fn flushall(&self, py: Python<'_>, asynchronous: bool) -> PyResult<bool> {
        let frame = if asynchronous {
            self.run_detached(py, &[b"FLUSHALL", b"ASYNC"])
        } else {
            self.run_detached(py, &[b"FLUSHALL"])
        };
        reply::bool_ok(py, frame)
    }

    // ----------------------------------------------------------------------------------
    // Connection and server
    // ----------------------------------------------------------------------------------

    /// PING -> True
    fn ping(&self, py: Python<'_>) -> PyResult<bool> {
        Ok(match reply::check(py, self.run(py, &[b"PING"]))? {
            Frame::Simple(s) => s == "PONG",
            Frame::Bulk(b) => b == b"PONG",
            _ => false,
        })
    }

    /// ECHO value
    fn echo(&self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let v = Arg::new(value)?;
        let frame = self.run(py, &[b"ECHO", &v]);
        self.to_py(py, frame)
    }

    /// TIME -> (seconds, microseconds)
    fn time(&self, py: Python<'_>) -> PyResult<(i64, i64)> {
        reply::time(py, self.run(py, &[b"TIME"]))
    }

    /// INFO [section ...] -> dict, parsed as redis-py's `parse_info` does
    #[pyo3(signature = (section=None, *args))]
    fn info(
        &self,
        py: Python<'_>,
        section: Option<&Bound<'_, PyAny>>,
        args: &Bound<'_, PyTuple>,
    ) -> PyResult<Py<PyAny>> {
        let mut rest = Vec::new();
        if let Some(s) = section {
            rest.push(Arg::owned(s.clone())?);
            rest.extend(args::owned_all(args.iter())?);
        }
        reply::info(py, self.run_args(py, &[b"INFO"], &rest))
    }

    /// CONFIG GET pattern [pattern ...] -> dict[str, str]
    #[pyo3(signature = (pattern=None, *args), text_signature = "($self, pattern='*', *args)")]
    fn config_get(
        &self,
        py: Python<'_>,
        pattern: Option<&Bound<'_, PyAny>>,
        args: &Bound<'_, PyTuple>,
    ) -> PyResult<Py<PyAny>> {
        let mut rest = vec![match pattern {
            Some(p) => Arg::owned(p.clone())?,
            None => Arg::Static(b"*"),
        }];
        rest.extend(args::owned_all(args.iter())?);
        reply::config_get(py, self.run_args(py, &[b"CONFIG", b"GET"], &rest))
    }

    /// CONFIG SET name value [name value ...] -> True
    #[pyo3(signature = (name, value, *args))]
    fn config_set(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
    ) -> PyResult<bool> {
        let mut rest = vec![Arg::owned(name.clone())?, Arg::owned(value.clone())?];
        rest.extend(args::owned_all(args.iter())?);
        reply::bool_ok(py, self.run_args(py, &[b"CONFIG", b"SET"], &rest))
    }

    /// Serves this store's keyspace over RESP on `host:port` (0: a free port) from
    /// background threads. The handle's `close()` stops the server; dropping it does not.
    #[pyo3(signature = (host="127.0.0.1", port=0))]
    fn serve(&self, py: Python<'_>, host: &str, port: u16) -> PyResult<PyServerHandle> {
        let engine = self.engine.clone();
        let host = host.to_string();
        let handle = py.detach(|| fastkv_server::spawn(engine, &host, port))?;
        Ok(PyServerHandle::new(host, handle))
    }

    // ----------------------------------------------------------------------------------
    // Mapping face
    // ----------------------------------------------------------------------------------

    /// `store[name]`: GET, `KeyError` if missing.
    fn __getitem__(&self, py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        match self.get_value(py, &Arg::new(name)?)? {
            Some(v) => Ok(v),
            None => Err(PyKeyError::new_err(name.clone().unbind())),
        }
    }

    /// `store[name] = value`: SET.
    fn __setitem__(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let (key, val) = (Arg::new(name)?, Arg::new(value)?);
        reply::check(
            py,
            self.run_prepared(py, self.hot.set, &[b"SET", &key, &val]),
        )?;
        Ok(())
    }

    /// `del store[name]`: DEL, `KeyError` if missing.
    fn __delitem__(&self, py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<()> {
        let key = Arg::new(name)?;
        match reply::check(py, self.run(py, &[b"DEL", &key]))? {
            Frame::Integer(0) => Err(PyKeyError::new_err(name.clone().unbind())),
            _ => Ok(()),
        }
    }

    /// `name in store`: EXISTS.
    fn __contains__(&self, py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<bool> {
        let key = Arg::new(name)?;
        reply::int_bool(py, self.run(py, &[b"EXISTS", &key]))
    }

    /// `len(store)`: DBSIZE of the selected database.
    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        match reply::check(py, self.run(py, &[b"DBSIZE"]))? {
            Frame::Integer(n) => Ok(usize::try_from(n).unwrap_or(0)),
            _ => Ok(0),
        }
    }

    /// `iter(store)`: every key of the selected database (SCAN).
    fn __iter__(slf: &Bound<'_, Self>) -> PyResult<ScanIterator> {
        Self::scan_iter(slf, None, None, None)
    }
}

struct ScanState {
    /// The next cursor to ask for; `None` once SCAN has returned 0.
    cursor: Option<u64>,
    /// Keys of the last page not yet yielded.
    pending: VecDeque<Py<PyAny>>,
}

/// What `Store.scan_iter()` returns: keys page by page, one SCAN per page.
#[pyclass(name = "ScanIterator", module = "fastkv._fastkv", frozen)]
pub(crate) struct ScanIterator {
    store: Py<PyStore>,
    state: Mutex<ScanState>,
    pattern: Option<Vec<u8>>,
    /// COUNT, and whether it is big enough to release the GIL.
    count: Option<(Vec<u8>, bool)>,
    kind: Option<Vec<u8>>,
}

#[pymethods]
impl ScanIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let store = self.store.get();
        loop {
            let cursor = {
                let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(k) = st.pending.pop_front() {
                    return Ok(Some(k));
                }
                match st.cursor {
                    Some(c) => c,
                    None => return Ok(None),
                }
            };
            let cur = Arg::Owned(cursor.to_string().into_bytes());
            let pat = self.pattern.as_deref().map(Arg::Slice);
            let cnt = self.count.as_ref().map(|(c, big)| (Arg::Slice(c), *big));
            let kind = self.kind.as_deref().map(Arg::Slice);
            let frame = store.scan_frame(
                py,
                &cur,
                pat.as_ref(),
                cnt.as_ref().map(|(c, big)| (c, *big)),
                kind.as_ref(),
            )?;
            let (next, keys) = reply::scan(py, frame, store.decode)?;
            let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            for k in keys.bind(py).try_iter()? {
                st.pending.push_back(k?.unbind());
            }
            st.cursor = (next != 0).then_some(next);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_long;

    #[test]
    fn long_commands() {
        assert!(is_long(&[b"KEYS", b"*"]));
        assert!(is_long(&[b"flushall"]));
        assert!(is_long(&[b"SCAN", b"0", b"COUNT", b"100000"]));
        assert!(!is_long(&[b"SCAN", b"0", b"COUNT", b"10"]));
        assert!(!is_long(&[b"SCAN", b"0"]));
        assert!(!is_long(&[b"GET", b"k"]));
        assert!(!is_long(&[]));
    }
}
