//! Lua scripting: EVAL, EVALSHA, SCRIPT, FUNCTION and FCALL run Lua 5.1 (through `mlua`, with
//! Lua vendored) inside a sandbox, with the libraries Redis scripts rely on.
//!
//! # How a script runs
//!
//! One Lua state serves every script, as in Redis: it is built on first use and kept in
//! [`Scripting`] behind a mutex that a script holds for its whole run. A script is atomic
//! because its handler (a [`crate::command::LOCKS_ITSELF`] row: the dispatcher locks nothing
//! for it) takes every shard lock through [`crate::Engine::atomic`] *before* the Lua mutex, and
//! runs each `redis.call` through that hold with a script client of its own (same database as
//! the caller, blocking commands answer at once, the clock frozen at the script's start).
//! Lock order is always shards, then Lua: EXEC, which already holds every shard when it runs a
//! queued EVAL, hands its locks to the script instead of taking new ones.
//!
//! # Busy scripts
//!
//! [`Running`] publishes when the current script started, whether it wrote and whether SCRIPT
//! KILL asked it to stop. The dispatcher consults it before locking anything for another
//! client's command: while a script runs it waits; once the script is older than
//! `busy-reply-threshold` the command gets `-BUSY` instead. An instruction-count hook in the
//! Lua state checks the kill flag, so a runaway `while true do end` can be stopped.
//!
//! # Sandbox
//!
//! The state loads only what Redis 7.0 loads (base, table, string, math, plus `cjson`,
//! `cmsgpack`, `struct`, `bit` from [`libs`]); `print`, `dofile`, `loadfile`, `require`,
//! `module`, `getfenv`, `setfenv`, `newproxy`, `os`, `io`, `debug` are absent. Scripts run with
//! a read-only proxy as their globals table: reading an undefined global and creating one are
//! errors with Redis's texts. Library tables themselves are not made read-only (Redis 7.0's
//! patched Lua can; vanilla Lua cannot without breaking `pairs`). `math.random` is Lua's own:
//! like Redis 7.0, its sequence is not reset between scripts.

pub mod convert;
pub mod functions;
pub mod libs;
pub mod sha1;

use crate::client::Client;
use crate::dispatch::{Atomic, Ctx};
use crate::error::OpError;
use fastkv_resp::Frame;
use mlua::{Function, HookTriggers, Lua, LuaOptions, MultiValue, StdLib, Table, Value, VmState};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// Instructions between two looks at the kill flag (Redis checks every 100000 too).
const HOOK_EVERY: u32 = 100_000;

/// `redis.REDIS_VERSION_NUM`: 7.0.15 as 0x00MMmmpp.
const REDIS_VERSION_NUM: i64 = 0x07_00_0F;

/// The chunk name of internal Lua code: frames with it are skipped when an error's position
/// is reported.
const INTERNAL_CHUNK: &str = "=fastkv";

/// Script flags (shebang `flags=` and `redis.register_function{flags=}`).
pub const FLAG_NO_WRITES: u32 = 1 << 0;
pub const FLAG_ALLOW_OOM: u32 = 1 << 1;
pub const FLAG_ALLOW_STALE: u32 = 1 << 2;
pub const FLAG_NO_CLUSTER: u32 = 1 << 3;
pub const FLAG_ALLOW_CROSS_SLOT: u32 = 1 << 4;

/// Flag names as scripts spell them.
pub const FLAG_NAMES: &[(&str, u32)] = &[
    ("no-writes", FLAG_NO_WRITES),
    ("allow-oom", FLAG_ALLOW_OOM),
    ("allow-stale", FLAG_ALLOW_STALE),
    ("no-cluster", FLAG_NO_CLUSTER),
    ("allow-cross-slot-keys", FLAG_ALLOW_CROSS_SLOT),
];

/// The script currently running, as other clients see it.
#[derive(Debug, Default)]
pub struct Running {
    /// ms since the epoch when it started; 0: none runs.
    started_ms: AtomicU64,
    /// SCRIPT KILL / FUNCTION KILL asked it to stop.
    kill: AtomicBool,
    /// It ran a write command: it cannot be killed any more.
    wrote: AtomicBool,
    /// It is a function (FCALL), not an EVAL script: BUSY and KILL texts differ.
    function: AtomicBool,
    /// Clients waiting for the script to end sleep here (with `ended`): the script's end
    /// notifies them. A `parking_lot` pair, held only to check the flag and to notify.
    ended_lock: Mutex<()>,
    ended: parking_lot::Condvar,
}

impl Running {
    /// When the running script started (ms since the epoch), if one runs.
    pub fn started_ms(&self) -> Option<u64> {
        match self.started_ms.load(Ordering::Acquire) {
            0 => None,
            t => Some(t),
        }
    }

    /// Marks the script ended and wakes the clients waiting for it.
    fn finish(&self) {
        let _g = self.ended_lock.lock();
        self.started_ms.store(0, Ordering::Release);
        self.ended.notify_all();
    }

    pub fn is_function(&self) -> bool {
        self.function.load(Ordering::Relaxed)
    }

    /// SCRIPT KILL / FUNCTION KILL.
    pub fn kill(&self, function: bool) -> Result<(), OpError> {
        if self.started_ms().is_none() {
            return Err(OpError::raw("NOTBUSY No scripts in execution right now."));
        }
        if self.wrote.load(Ordering::Acquire) {
            return Err(OpError::raw(
                "UNKILLABLE Sorry the script already executed write commands against the \
                 dataset. You can either wait the script termination or kill the server in a \
                 hard way using the SHUTDOWN NOSAVE command.",
            ));
        }
        if function != self.is_function() {
            // SCRIPT KILL for a function (or FUNCTION KILL for a script): Redis answers the
            // BUSY text that names the right command.
            if let Frame::Error(t) = self.busy_error() {
                return Err(OpError::raw(t));
            }
        }
        self.kill.store(true, Ordering::Release);
        Ok(())
    }

    /// The `-BUSY` reply other clients get while this script runs too long.
    pub fn busy_error(&self) -> Frame {
        if self.is_function() {
            Frame::error(
                "BUSY Redis is busy running a script. You can only call FUNCTION KILL or \
                 SHUTDOWN NOSAVE.",
            )
        } else {
            Frame::error(
                "BUSY Redis is busy running a script. You can only call SCRIPT KILL or \
                 SHUTDOWN NOSAVE.",
            )
        }
    }
}

/// Scripting's share of the engine: the Lua state, the script cache, the function libraries
/// and the running script's flags.
#[derive(Default)]
pub struct Scripting {
    /// The Lua state, built on first use. A `parking_lot::Mutex` held for a whole script run;
    /// taken only after the shard locks (see the module doc), so it never closes a cycle.
    vm: Mutex<Option<Vm>>,
    /// Script bodies by lower-case SHA-1 (EVAL and SCRIPT LOAD add, SCRIPT FLUSH clears).
    /// Separate from `vm` so SCRIPT EXISTS never waits for a running script.
    cache: Mutex<HashMap<String, Arc<[u8]>>>,
    pub running: Arc<Running>,
}

/// The Lua state and what scripts need from it.
struct Vm {
    lua: Lua,
    /// The real globals (the libraries, KEYS, ARGV); scripts see them through `proxy`.
    real: Table,
    /// The read-only globals table scripts run with.
    proxy: Table,
    /// `xpcall(f, handler)`: returns `true, result` or `false, error table`.
    runner: Function,
    /// Compiled EVAL scripts by SHA-1.
    compiled: HashMap<String, Function>,
    /// Function libraries, in load order.
    libraries: Vec<functions::Library>,
}

/// What kind of code is running, for error texts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Eval,
    Function,
}

/// One script invocation.
pub struct Invocation<'s> {
    /// EVAL: the SHA-1; FCALL: the function name (shown in error texts).
    pub name: &'s str,
    pub kind: Kind,
    pub keys: &'s [&'s [u8]],
    pub args: &'s [&'s [u8]],
    /// EVAL_RO / FCALL_RO, or the `no-writes` flag.
    pub read_only: bool,
    /// The flags the code declares (a shebang, a function's flags); `None` for an EVAL
    /// script without a shebang. They decide how maxmemory applies (see [`Scripting::run`]).
    pub flags: Option<u32>,
}

impl Scripting {
    /// The body of a cached script.
    pub fn cached(&self, sha: &str) -> Option<Arc<[u8]>> {
        self.cache.lock().get(&sha.to_ascii_lowercase()).cloned()
    }

    /// Adds a script to the cache; returns its SHA-1.
    pub fn cache_script(&self, body: &[u8]) -> String {
        let sha = sha1::sha1_hex(body);
        self.cache
            .lock()
            .entry(sha.clone())
            .or_insert_with(|| Arc::from(body));
        sha
    }

    /// SCRIPT FLUSH: forgets every cached script (and its compiled function).
    pub fn flush_scripts(&self) {
        self.cache.lock().clear();
        if let Some(vm) = self.vm.lock().as_mut() {
            vm.compiled.clear();
        }
    }

    /// Number of cached scripts and their total body size (INFO memory).
    pub fn cache_stats(&self) -> (usize, usize) {
        let c = self.cache.lock();
        (c.len(), c.values().map(|b| b.len()).sum())
    }

    /// Compiles a script body (SCRIPT LOAD checks it compiles, as Redis does).
    pub fn compile_check(&self, sha: &str, body: &[u8]) -> Result<(), OpError> {
        let mut guard = self.vm.lock();
        let vm = vm_of(&mut guard)?;
        vm.compile(sha, body)?;
        Ok(())
    }

    /// Runs an EVAL script (already in the cache under `inv.name`) for `ctx`'s client.
    pub fn eval(
        &self,
        ctx: &mut Ctx<'_, '_>,
        body: &[u8],
        inv: &Invocation<'_>,
    ) -> Result<Frame, OpError> {
        let body = strip_shebang(body);
        self.run(ctx, inv, |vm| vm.compile(inv.name, &body))
    }

    /// Runs `find` to get the function, then calls it under every shard lock.
    ///
    /// maxmemory, as Redis applies it to scripts: when memory is over the limit with nothing
    /// to evict at the start, code that declares flags is refused whole (`-OOM`) unless it
    /// has `allow-oom` or `no-writes`; a script without a shebang runs, but its first
    /// `denyoom` call before any write is refused. (Inside MULTI/EXEC the shards are already
    /// held, so the state cannot be taken there: those runs are not checked.)
    fn run(
        &self,
        ctx: &mut Ctx<'_, '_>,
        inv: &Invocation<'_>,
        find: impl FnOnce(&mut Vm) -> Result<Function, OpError>,
    ) -> Result<Frame, OpError> {
        let engine = ctx.engine;
        // EXEC already holds every shard: run under its hold. Otherwise take them all.
        let nested = ctx.ks.holds_all();
        // No shard is held when not nested: the eviction check may run (it locks shards).
        let oom = !nested && engine.evict.check(engine) == crate::evict::Outcome::Fail;
        if oom {
            if let Some(flags) = inv.flags {
                if flags & (FLAG_ALLOW_OOM | FLAG_NO_WRITES) == 0 {
                    return Err(OpError::raw(crate::evict::OOM_ERROR));
                }
            }
        }
        let mut atomic = if nested {
            let held = std::mem::replace(&mut ctx.ks, engine.keyspace.lock(&[]));
            Atomic::from_held(engine, held)
        } else {
            engine.atomic()
        };
        let now = crate::time::now_ms();
        atomic.now = Some(now);
        let reply = {
            let mut guard = self.vm.lock();
            match vm_of(&mut guard) {
                Err(e) => Err(e),
                Ok(vm) => match find(vm) {
                    Err(e) => Err(e),
                    Ok(f) => {
                        let mut client = Client::new(ctx.client.id);
                        client.db = ctx.client.db;
                        client.no_block = true;
                        let mut call = CallCtx {
                            atomic: &mut atomic,
                            client: &mut client,
                            read_only: inv.read_only,
                            deny_oom: oom && inv.flags.is_none(),
                            running: &self.running,
                        };
                        self.running.kill.store(false, Ordering::Relaxed);
                        self.running.wrote.store(false, Ordering::Relaxed);
                        self.running
                            .function
                            .store(inv.kind == Kind::Function, Ordering::Relaxed);
                        self.running.started_ms.store(now.max(1), Ordering::Release);
                        let r = vm.call(f, inv, &mut call, self.running.clone());
                        self.running.finish();
                        Ok(r)
                    }
                },
            }
        };
        if nested {
            let (held, ready) = atomic.into_held();
            if let Some(held) = held {
                ctx.ks = held;
            }
            for (db, key) in ready {
                ctx.signal_ready_in(db, &key);
            }
        } else {
            drop(atomic);
        }
        reply
    }
}

/// `busy-reply-threshold` (alias `lua-time-limit`), ms.
fn busy_threshold_ms(engine: &crate::Engine) -> u64 {
    engine
        .config
        .read()
        .extra
        .get("busy-reply-threshold")
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000)
}

/// Called by the dispatcher before it locks anything for a command: while a script runs,
/// waits for it to end; once it has run past `busy-reply-threshold`, answers the `-BUSY`
/// reply instead. `None`: go ahead. One atomic load when no script runs.
pub fn wait_not_busy(engine: &crate::Engine) -> Option<Frame> {
    let running = &engine.scripting.running;
    running.started_ms()?;
    let threshold = busy_threshold_ms(engine);
    let mut g = running.ended_lock.lock();
    loop {
        // Checked under `ended_lock`: `finish` cannot slip between the look and the wait.
        let started = running.started_ms()?;
        let age = crate::time::now_ms().saturating_sub(started);
        if age >= threshold {
            return Some(running.busy_error());
        }
        let left = std::time::Duration::from_millis(threshold - age);
        running.ended.wait_for(&mut g, left);
    }
}

/// Whether running `argv` may take long because of scripting: a script runs now (the
/// command may wait for it), or the command runs one (EVAL*, FCALL*, EXEC). Front ends on an
/// async runtime move such commands off their reactor threads. Cheap: no table lookup.
pub fn may_run_long(engine: &crate::Engine, argv: &[&[u8]]) -> bool {
    if engine.scripting.running.started_ms().is_some() {
        return true;
    }
    let Some(name) = argv.first() else {
        return false;
    };
    let starts = |p: &[u8]| name.len() >= p.len() && name[..p.len()].eq_ignore_ascii_case(p);
    starts(b"eval") || starts(b"fcall") || name.eq_ignore_ascii_case(b"exec")
}

/// The Lua state, built on first use.
fn vm_of(guard: &mut Option<Vm>) -> Result<&mut Vm, OpError> {
    if guard.is_none() {
        let vm = Vm::build().map_err(|e| OpError::msg(format!("Lua initialization: {e}")))?;
        *guard = Some(vm);
    }
    guard
        .as_mut()
        .ok_or_else(|| OpError::err("Lua initialization failed"))
}

/// A script body without its `#!` line (kept as an empty line so line numbers stay right).
pub fn strip_shebang(body: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if !body.starts_with(b"#!") {
        return body.into();
    }
    match body.iter().position(|&b| b == b'\n') {
        Some(nl) => body.get(nl..).unwrap_or(b"").into(),
        None => (&b""[..]).into(),
    }
}

/// Parses a `#!lua flags=a,b` line. `Ok(None)`: no shebang (Redis then treats the script as
/// having every flag off but being allowed to write, the "legacy" mode).
pub fn parse_shebang(body: &[u8]) -> Result<Option<u32>, OpError> {
    if !body.starts_with(b"#!") {
        return Ok(None);
    }
    let end = body.iter().position(|&b| b == b'\n').unwrap_or(body.len());
    let line = String::from_utf8_lossy(body.get(..end).unwrap_or(b""));
    let mut parts = line.split(' ').filter(|p| !p.is_empty());
    let engine = parts.next().unwrap_or("");
    if engine != "#!lua" {
        return Err(OpError::msg(format!(
            "Unexpected engine in script shebang: {engine}"
        )));
    }
    let mut flags = 0;
    for part in parts {
        let Some(list) = part.strip_prefix("flags=") else {
            return Err(OpError::msg(format!("Unknown lua shebang option: {part}")));
        };
        for f in list.split(',').filter(|f| !f.is_empty()) {
            match FLAG_NAMES.iter().find(|(n, _)| *n == f) {
                Some((_, bit)) => flags |= bit,
                None => {
                    return Err(OpError::msg(format!(
                        "Unexpected flag in script shebang: {f}"
                    )))
                }
            }
        }
    }
    Ok(Some(flags))
}

/// What `redis.call` needs during one run.
struct CallCtx<'r, 'e> {
    atomic: &'r mut Atomic<'e>,
    client: &'r mut Client,
    read_only: bool,
    /// Memory was over `maxmemory` (nothing to evict) when the script started, and it
    /// declared no flags: its first `denyoom` call, before any write, is refused (Redis's
    /// `scriptVerifyOOM`).
    deny_oom: bool,
    running: &'r Running,
}

impl CallCtx<'_, '_> {
    /// Runs one command from the script; `Err` is an error reply text (with its code).
    fn call(&mut self, argv: &[&[u8]]) -> Frame {
        let engine = self.atomic.engine();
        let Some(&name) = argv.first() else {
            return Frame::error(
                "ERR Please specify at least one argument for this redis lib call",
            );
        };
        let Some(mut spec) = engine.command(name) else {
            return Frame::error("ERR Unknown Redis command called from script");
        };
        if !spec.subcommands.is_empty() {
            if let Some(sub) = argv.get(1) {
                match spec.subcommands.iter().find(|s| {
                    let short = s.name.rsplit('|').next().unwrap_or(s.name);
                    short.as_bytes().eq_ignore_ascii_case(sub)
                }) {
                    Some(s) => spec = s,
                    None => return Frame::error("ERR Unknown Redis command called from script"),
                }
            }
        }
        if !spec.arity_ok(argv.len()) {
            return Frame::error("ERR Wrong number of args calling Redis command from script");
        }
        if spec.has(crate::command::NOSCRIPT) {
            return Frame::error("ERR This Redis command is not allowed from script");
        }
        if self.deny_oom
            && spec.has(crate::command::DENYOOM)
            && !self.running.wrote.load(Ordering::Acquire)
        {
            return Frame::error(crate::evict::OOM_ERROR);
        }
        if spec.has(crate::command::WRITE) {
            if self.read_only {
                return Frame::error("ERR Write commands are not allowed from read-only scripts.");
            }
            self.running.wrote.store(true, Ordering::Release);
        }
        self.atomic.execute(self.client, argv)
    }
}

impl Vm {
    fn build() -> mlua::Result<Vm> {
        let lua = Lua::new_with(
            StdLib::TABLE | StdLib::STRING | StdLib::MATH,
            LuaOptions::default(),
        )?;
        // The libraries Redis adds: cjson, cmsgpack, struct, bit.
        libs::register(&lua)?;
        let real = lua.globals();
        for name in [
            "print", "dofile", "loadfile", "require", "module", "getfenv", "setfenv", "newproxy",
            "package", "os", "io", "debug",
        ] {
            real.raw_set(name, Value::Nil)?;
        }
        let hidden = lua.create_table()?;
        let redis = lua.create_table()?;
        redis.raw_set(
            "sha1hex",
            lua.create_function(|lua, args: MultiValue| {
                if args.len() != 1 {
                    return Err(mlua::Error::RuntimeError(
                        "wrong number of arguments".into(),
                    ));
                }
                let s = args
                    .into_iter()
                    .next()
                    .and_then(|v| lua.coerce_string(v).ok().flatten());
                let bytes = s.map(|s| s.as_bytes().to_vec()).unwrap_or_default();
                Ok(sha1::sha1_hex(&bytes))
            })?,
        )?;
        redis.raw_set(
            "log",
            lua.create_function(|_, args: MultiValue| {
                if args.len() < 2 {
                    return Err(raise("ERR redis.log() requires two arguments or more."));
                }
                let level = match args.front() {
                    Some(Value::Integer(n)) => *n as f64,
                    Some(Value::Number(n)) => *n,
                    _ => return Err(raise("ERR First argument must be a number (log level).")),
                };
                if !(0.0..=3.0).contains(&level) {
                    return Err(raise("ERR Invalid debug level."));
                }
                // No server log is reachable from the core: the message is dropped.
                Ok(())
            })?,
        )?;
        redis.raw_set(
            "set_repl",
            lua.create_function(|_, args: MultiValue| {
                if args.len() != 1 {
                    return Err(raise("ERR redis.set_repl() requires one argument."));
                }
                let ok = match args.front() {
                    Some(Value::Integer(n)) => (0..=3).contains(n),
                    Some(Value::Number(n)) => (0.0..=3.0).contains(n),
                    _ => false,
                };
                if !ok {
                    return Err(raise(
                        "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or \
                         REPL_NONE.",
                    ));
                }
                // No replication yet: accepted, nothing to do.
                Ok(())
            })?,
        )?;
        redis.raw_set("REDIS_VERSION", crate::engine::REDIS_VERSION)?;
        redis.raw_set("REDIS_VERSION_NUM", REDIS_VERSION_NUM)?;
        for (name, n) in [
            ("LOG_DEBUG", 0),
            ("LOG_VERBOSE", 1),
            ("LOG_NOTICE", 2),
            ("LOG_WARNING", 3),
            ("REPL_NONE", 0),
            ("REPL_AOF", 1),
            ("REPL_SLAVE", 2),
            ("REPL_REPLICA", 2),
            ("REPL_ALL", 3),
        ] {
            redis.raw_set(name, n)?;
        }
        real.raw_set("redis", redis)?;
        // The error handler: gives every error the shape Redis reports (a table with `err`,
        // plus the source and line of the script frame that raised it).
        let handler = lua.create_function(|lua, err: Value| {
            let t = match err {
                Value::Table(t) => t,
                Value::Error(e) if call_error(&e).is_some() => {
                    let t = lua.create_table()?;
                    t.raw_set("err", call_error(&e).unwrap_or_default())?;
                    t
                }
                other => {
                    let text = match other {
                        Value::Error(e) => innermost_message(&e),
                        Value::String(s) => s.to_string_lossy(),
                        v => lua
                            .coerce_string(v.clone())
                            .ok()
                            .flatten()
                            .map(|s| s.to_string_lossy())
                            .unwrap_or_else(|| v.type_name().to_string()),
                    };
                    let t = lua.create_table()?;
                    t.raw_set("err", format!("ERR {text}"))?;
                    t
                }
            };
            let mut level = 1;
            while level < 64 {
                let found = lua.inspect_stack(level, |d| {
                    let src = d.source();
                    let what = src.what;
                    let source = src.source.map(|s| s.into_owned());
                    (what, source, d.current_line())
                });
                let Some((what, source, line)) = found else {
                    break;
                };
                let internal = source.as_deref() == Some(INTERNAL_CHUNK);
                if what != "C" && what != "tail" && !internal {
                    if let Some(s) = source {
                        t.raw_set("source", s)?;
                    }
                    if let Some(l) = line {
                        t.raw_set("line", l)?;
                    }
                    break;
                }
                level += 1;
            }
            Ok(t)
        })?;
        let boot: Table = lua
            .load(BOOTSTRAP)
            .set_name(INTERNAL_CHUNK)
            .call((hidden.clone(), handler))?;
        let proxy: Table = boot.raw_get("proxy")?;
        let runner: Function = boot.raw_get("run")?;
        Ok(Vm {
            lua,
            real,
            proxy,
            runner,
            compiled: HashMap::new(),
            libraries: Vec::new(),
        })
    }

    /// The compiled function of an EVAL script, compiling it on first use.
    fn compile(&mut self, sha: &str, body: &[u8]) -> Result<Function, OpError> {
        if let Some(f) = self.compiled.get(sha) {
            return Ok(f.clone());
        }
        let f = self
            .lua
            .load(body)
            .set_name("@user_script")
            .set_environment(self.proxy.clone())
            .into_function()
            .map_err(|e| {
                OpError::msg(format!(
                    "Error compiling script (new function): {}",
                    lua_error_text(&e)
                ))
            })?;
        self.compiled.insert(sha.to_string(), f.clone());
        Ok(f)
    }

    /// Calls `f` with KEYS and ARGV set, `redis.call` bound to `call`; converts the result.
    fn call(
        &mut self,
        f: Function,
        inv: &Invocation<'_>,
        call: &mut CallCtx<'_, '_>,
        running: Arc<Running>,
    ) -> Frame {
        match self.call_inner(f, inv, call, running) {
            Ok(frame) => frame,
            Err(e) => Frame::error(format!("ERR {}", lua_error_text(&e))),
        }
    }

    fn call_inner(
        &mut self,
        f: Function,
        inv: &Invocation<'_>,
        call: &mut CallCtx<'_, '_>,
        running: Arc<Running>,
    ) -> mlua::Result<Frame> {
        let lua = &self.lua;
        let strings = |items: &[&[u8]]| -> mlua::Result<Table> {
            lua.create_sequence_from(
                items
                    .iter()
                    .map(|k| lua.create_string(k))
                    .collect::<mlua::Result<Vec<_>>>()?,
            )
        };
        let keys = strings(inv.keys)?;
        let argv = strings(inv.args)?;
        let function = inv.kind == Kind::Function;
        if !function {
            self.real.raw_set("KEYS", keys.clone())?;
            self.real.raw_set("ARGV", argv.clone())?;
        }
        let kill_flag = running.clone();
        lua.set_global_hook(
            HookTriggers::new().every_nth_instruction(HOOK_EVERY),
            move |_, _| {
                if kill_flag.kill.load(Ordering::Relaxed) {
                    Err(mlua::Error::RuntimeError(KILLED.into()))
                } else {
                    Ok(VmState::Continue)
                }
            },
        )?;
        let resp = std::cell::Cell::new(2u8);
        let call = std::cell::RefCell::new(call);
        let run_cmd = |lua: &Lua, args: MultiValue| -> mlua::Result<Frame> {
            let mut owned: Vec<Vec<u8>> = Vec::new();
            let mut bad = false;
            for v in args {
                match v {
                    Value::String(s) => owned.push(s.as_bytes().to_vec()),
                    Value::Integer(_) | Value::Number(_) => match lua.coerce_string(v)? {
                        Some(s) => owned.push(s.as_bytes().to_vec()),
                        None => bad = true,
                    },
                    _ => bad = true,
                }
            }
            Ok(if owned.is_empty() && !bad {
                Frame::error("ERR Please specify at least one argument for this redis lib call")
            } else if bad {
                Frame::error("ERR Lua redis lib command arguments must be strings or integers")
            } else {
                let argv: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
                let mut c = call.borrow_mut();
                c.client.proto = resp.get();
                c.call(&argv)
            })
        };
        let result = lua.scope(|scope| {
            // redis.call is a C function (not a Lua wrapper) so that `return redis.call(...)`
            // keeps the script's frame, whose line the error reports (Lua 5.1 reuses the
            // frame only for tail calls into Lua functions).
            let call_fn = scope.create_function(|lua, args: MultiValue| {
                let frame = run_cmd(lua, args)?;
                if let Frame::Error(e) = &frame {
                    return Err(mlua::Error::external(CallError(e.to_string())));
                }
                convert::frame_to_lua(lua, &frame, resp.get() == 3)
            })?;
            let pcall_fn = scope.create_function(|lua, args: MultiValue| {
                let frame = run_cmd(lua, args)?;
                convert::frame_to_lua(lua, &frame, resp.get() == 3)
            })?;
            let redis: Table = self.real.raw_get("redis")?;
            redis.raw_set("call", call_fn)?;
            redis.raw_set("pcall", pcall_fn)?;
            let setresp = scope.create_function(|_, args: MultiValue| {
                if args.len() != 1 {
                    return Err(raise("ERR redis.setresp() requires one argument."));
                }
                match args.front() {
                    Some(Value::Integer(2)) => resp.set(2),
                    Some(Value::Integer(3)) => resp.set(3),
                    Some(Value::Number(n)) if *n == 2.0 || *n == 3.0 => resp.set(*n as u8),
                    _ => return Err(raise("ERR RESP version must be 2 or 3.")),
                }
                Ok(())
            })?;
            redis.raw_set("setresp", setresp)?;
            let out: MultiValue = if function {
                self.runner.call((f, keys, argv))?
            } else {
                self.runner.call(f)?
            };
            redis.raw_set("setresp", Value::Nil)?;
            redis.raw_set("call", Value::Nil)?;
            redis.raw_set("pcall", Value::Nil)?;
            let mut out = out.into_iter();
            let ok = matches!(out.next(), Some(Value::Boolean(true)));
            let v = out.next().unwrap_or(Value::Nil);
            if ok {
                convert::lua_to_frame(&v, resp.get() == 3)
            } else {
                Ok(error_reply(&v, inv, running.kill.load(Ordering::Relaxed)))
            }
        });
        lua.remove_global_hook();
        self.real.raw_set("KEYS", Value::Nil)?;
        self.real.raw_set("ARGV", Value::Nil)?;
        result
    }
}

/// An error reply of a command run by `redis.call`, raised as the script's error.
#[derive(Debug)]
struct CallError(String);

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CallError {}

/// An error raised to the script as Redis raises its own (`text` with its code).
fn raise(text: &str) -> mlua::Error {
    mlua::Error::external(CallError(text.to_string()))
}

/// The reply text of a [`CallError`] inside an mlua error.
fn call_error(e: &mlua::Error) -> Option<String> {
    match e {
        mlua::Error::CallbackError { cause, .. } | mlua::Error::WithContext { cause, .. } => {
            call_error(cause)
        }
        mlua::Error::ExternalError(x) => x.downcast_ref::<CallError>().map(|c| c.0.clone()),
        _ => None,
    }
}

/// The error a killed script's caller gets (before the position suffix).
const KILLED: &str = "Script killed by user with SCRIPT KILL...";

/// The reply for an error that escaped the script: `<err> script: <name>, on <source>:<line>.`
fn error_reply(err: &Value, inv: &Invocation<'_>, killed: bool) -> Frame {
    let Value::Table(t) = err else {
        return Frame::error(format!("ERR Error running script {}", inv.name));
    };
    let mut text = match t.raw_get::<Value>("err") {
        Ok(Value::String(s)) => s.to_string_lossy(),
        _ => "ERR unknown error".to_string(),
    };
    if killed {
        // Functions too: Redis 7.0 names SCRIPT KILL in both cases.
        text = format!("ERR {KILLED}");
    }
    let source: Option<String> = match t.raw_get::<Value>("source") {
        Ok(Value::String(s)) => Some(s.to_string_lossy()),
        _ => None,
    };
    let line: Option<i64> = t.raw_get::<Option<i64>>("line").ok().flatten();
    let mut line_text = text.replace(['\r', '\n'], " ");
    if let (Some(src), Some(l)) = (source, line) {
        line_text.push_str(&format!(" script: {}, on {src}:{l}.", inv.name));
    }
    Frame::error(line_text)
}

/// The message of a Lua error without mlua's decorations.
fn lua_error_text(e: &mlua::Error) -> String {
    match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        other => innermost_message(other),
    }
}

/// The innermost cause of an mlua error (callback errors wrap the Rust error).
fn innermost_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::CallbackError { cause, .. } => innermost_message(cause),
        mlua::Error::RuntimeError(m) => m.clone(),
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        mlua::Error::WithContext { cause, .. } => innermost_message(cause),
        other => other.to_string(),
    }
}

/// Internal Lua set up once per state: the read-only globals proxy, the error-handling
/// runner, and the parts of `redis.*` written in Lua. Gets `hidden` and the Rust handler.
const BOOTSTRAP: &str = r#"
local hidden, handler = ...
local real = _G
local redis = real.redis
local error, type, select, tostring, xpcall, tonumber = error, type, select, tostring, xpcall, tonumber
local raw_rawset = rawset
local proxy = {}
setmetatable(proxy, {
  __index = function(_, k)
    local v = real[k]
    if v == nil then
      error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
    end
    return v
  end,
  __newindex = function() error('Attempt to modify a readonly table', 2) end,
  __metatable = false,
})
real._G = proxy
real.rawset = function(t, k, v)
  if t == proxy then error({err = 'ERR Attempt to modify a readonly table'}) end
  return raw_rawset(t, k, v)
end
local function error_table(e)
  if e:sub(1, 1) ~= '-' then e = '-' .. e end
  local sp = e:find(' ', 1, true)
  local code, msg
  if sp then code, msg = e:sub(2, sp - 1), e:sub(sp + 1) else code, msg = 'ERR', e:sub(2) end
  msg = msg:gsub('^[\r\n]+', ''):gsub('[\r\n]+$', '')
  return {err = code .. ' ' .. msg}
end
redis.error_reply = function(...)
  local e = ...
  if select('#', ...) ~= 1 or type(e) ~= 'string' then
    return {err = 'ERR wrong number or type of arguments'}
  end
  return error_table(e)
end
redis.status_reply = function(...)
  local s = ...
  if select('#', ...) ~= 1 or type(s) ~= 'string' then
    return {err = 'ERR wrong number or type of arguments'}
  end
  return {ok = s}
end
redis.replicate_commands = function() return true end
redis.breakpoint = function() return false end
redis.debug = function() end
redis.acl_check_cmd = function(...)
  if select('#', ...) < 1 then error({err = 'ERR Please specify at least one argument for this redis lib call'}) end
  return true
end
local function run(f, ...)
  if select('#', ...) == 0 then return xpcall(f, handler) end
  local keys, args = ...
  return xpcall(function() return f(keys, args) end, handler)
end
return {proxy = proxy, run = run}
"#;
