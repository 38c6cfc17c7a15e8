//! Configuration: one table of directives, [`DIRECTIVES`], read by every way in — a
//! `redis.conf`-syntax file, `--directive value` command-line flags, `CONFIG SET`, and the
//! Python binding's `Store(**config)` — and by `CONFIG GET`.
//!
//! Each row names a directive (plus its old aliases, such as `hash-max-ziplist-entries`), its
//! [`Kind`] (which decides how a value is parsed, validated and printed, with Redis's error
//! texts), its default (as text, parsed through the same code at start-up, so the table and
//! the typed fields can never disagree), whether `CONFIG SET` may change it, and a getter and a
//! setter for the typed field of [`Config`] the rest of the engine reads. Directives that Redis
//! knows but fastkv does not act on yet are still accepted, validated and reported (tools and
//! config files use them); their values live in [`Config::extra`].
//!
//! Invariant: a `Config` only ever holds values that passed their directive's validation;
//! `CONFIG SET` with several pairs is applied to a copy and swapped in only if all succeed.

use crate::engine::REDIS_VERSION;
use crate::glob::glob_match;
use fastkv_resp::request::split_args;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bumped every time an eviction directive (`maxmemory`, `maxmemory-policy`,
/// `maxmemory-samples`, `maxmemory-eviction-tenacity`, `lfu-log-factor`, `lfu-decay-time`) is
/// set on any `Config`. Engines cache these settings in atomics for the per-command path
/// ([`crate::evict`]) and re-read their `Config` when this moves: two relaxed loads per
/// command instead of a lock. Process-wide, so a change in one engine makes every engine
/// re-read its own (cheap and rare).
pub static MEMORY_CONFIG_GEN: AtomicU64 = AtomicU64::new(1);

/// How a directive's value is parsed and shown.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// `yes` / `no`.
    Bool,
    /// An integer within bounds (inclusive).
    Int { min: i64, max: i64 },
    /// Bytes, with optional units (`1k`=1000, `1kb`=1024, `m`, `mb`, `g`, `gb`), within bounds
    /// (unsigned, as Redis checks them for its memory directives).
    Memory { min: u64, max: u64 },
    /// One of a fixed set of lower-case names (given in any case).
    Enum(&'static [&'static str]),
    /// Free text.
    Str,
    /// Parsed by the directive's own setter (save, bind, client-output-buffer-limit...).
    Special,
}

/// `CONFIG SET` may change it.
pub const RUNTIME: u8 = 0;
/// Start-up only: `CONFIG SET` answers `can't set immutable config`.
pub const IMMUTABLE: u8 = 1;
/// Redis's "protected" configs (`enable-protected-configs no`): `can't set protected config`.
pub const PROTECTED: u8 = 2;
/// Takes several arguments on one line (`bind a b`, `save 3600 1 300 100`).
pub const MULTI_ARG: u8 = 4;

/// A validated value, handed to a directive's setter.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    Bool(bool),
    Int(i64),
    Str(String),
    /// The arguments of a [`Kind::Special`] directive, unvalidated.
    Args(Vec<String>),
}

impl Parsed {
    fn as_bool(&self) -> bool {
        matches!(self, Parsed::Bool(true))
    }

    fn as_int(&self) -> i64 {
        match self {
            Parsed::Int(n) => *n,
            _ => 0,
        }
    }

    fn into_string(self) -> String {
        match self {
            Parsed::Str(s) => s,
            Parsed::Bool(b) => yes_no(b).to_string(),
            Parsed::Int(n) => n.to_string(),
            Parsed::Args(a) => a.join(" "),
        }
    }

    /// The arguments of a multi-argument directive (`save`, `bind`). As Redis does for these,
    /// a single argument holding spaces (`--save "3600 1"`, `CONFIG SET save "3600 1"`) is
    /// split into words.
    fn into_args(self) -> Vec<String> {
        let args = match self {
            Parsed::Args(a) => a,
            other => vec![other.into_string()],
        };
        match args.as_slice() {
            [one] if one.contains(' ') => one
                .split(' ')
                .filter(|w| !w.is_empty())
                .map(String::from)
                .collect(),
            _ => args,
        }
    }
}

type Getter = fn(&Config) -> String;
type Setter = fn(&mut Config, Parsed) -> Result<(), String>;

/// One row of the directive table.
pub struct Directive {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub kind: Kind,
    /// The default, as a config file would spell it.
    pub default: &'static str,
    /// [`RUNTIME`], or a mix of [`IMMUTABLE`], [`PROTECTED`], [`MULTI_ARG`].
    pub flags: u8,
    get: Getter,
    set: Setter,
}

impl Directive {
    pub fn runtime_settable(&self) -> bool {
        self.flags & (IMMUTABLE | PROTECTED) == 0
    }

    fn multi_arg(&self) -> bool {
        self.flags & MULTI_ARG != 0
    }

    /// Validates `args` (the words after the directive name) and stores them in `c`.
    /// Errors are Redis's texts (`argument must be 'yes' or 'no'`...).
    fn apply(&self, c: &mut Config, args: Vec<String>) -> Result<(), String> {
        if !self.multi_arg() && args.len() != 1 {
            return Err("wrong number of arguments".into());
        }
        let value = match self.kind {
            Kind::Special => Parsed::Args(args),
            kind => parse_value(kind, args.first().map(String::as_str).unwrap_or(""))?,
        };
        (self.set)(c, value)
    }
}

/// Parses one value of a non-special kind, with Redis's error texts.
fn parse_value(kind: Kind, v: &str) -> Result<Parsed, String> {
    match kind {
        Kind::Bool => {
            if v.eq_ignore_ascii_case("yes") {
                Ok(Parsed::Bool(true))
            } else if v.eq_ignore_ascii_case("no") {
                Ok(Parsed::Bool(false))
            } else {
                Err("argument must be 'yes' or 'no'".into())
            }
        }
        Kind::Int { min, max } => {
            let n = fastkv_resp::request::parse_i64_strict(v.as_bytes())
                .ok_or("argument couldn't be parsed into an integer")?;
            check_bounds(n, min, max)
        }
        Kind::Memory { min, max } => {
            let n = parse_memory(v).ok_or("argument must be a memory value")?;
            if n < min || n > max {
                return Err(format!(
                    "argument must be between {min} and {max} inclusive"
                ));
            }
            // Two's complement past i64::MAX, as Redis keeps the figure in a `long long`
            // (only `maxmemory` goes that far; its setter reads it back as unsigned).
            Ok(Parsed::Int(n as i64))
        }
        Kind::Enum(names) => names
            .iter()
            .find(|n| n.eq_ignore_ascii_case(v))
            .map(|n| Parsed::Str((*n).to_string()))
            .ok_or_else(|| {
                format!(
                    "argument(s) must be one of the following: {}",
                    names.join(", ")
                )
            }),
        Kind::Str => Ok(Parsed::Str(v.to_string())),
        Kind::Special => Ok(Parsed::Args(vec![v.to_string()])),
    }
}

fn check_bounds(n: i64, min: i64, max: i64) -> Result<Parsed, String> {
    if n < min || n > max {
        Err(format!(
            "argument must be between {min} and {max} inclusive"
        ))
    } else {
        Ok(Parsed::Int(n))
    }
}

/// Redis's `memtoull`: digits then an optional unit — `b`, `k` (1000), `kb` (1024), `m`, `mb`,
/// `g`, `gb`, any case. No sign, no spaces, no fraction. Its quirks are kept: no digits reads
/// as 0 (`mb`, the empty string), a number past `u64::MAX` as `u64::MAX` (`strtoull`), the
/// unit's product wraps, and 128 digits or more are refused.
pub fn parse_memory(v: &str) -> Option<u64> {
    let digits = v.bytes().take_while(u8::is_ascii_digit).count();
    let (num, unit) = v.split_at(digits);
    if num.len() >= 128 {
        return None;
    }
    let mul: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    let n = if num.is_empty() {
        0
    } else {
        num.parse::<u64>().unwrap_or(u64::MAX)
    };
    Some(n.wrapping_mul(mul))
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// The `maxmemory-policy` names, in Redis's order.
pub const EVICTION_POLICIES: &[&str] = &[
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "noeviction",
];

/// The `loglevel` names, most verbose first.
pub const LOG_LEVELS: &[&str] = &["debug", "verbose", "notice", "warning"];

/// `appendfsync` names.
pub const APPENDFSYNC: &[&str] = &["everysec", "always", "no"];

/// A `save <seconds> <changes>` point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SavePoint {
    pub seconds: u64,
    pub changes: u64,
}

/// One class of `client-output-buffer-limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputLimit {
    pub hard: u64,
    pub soft: u64,
    pub soft_seconds: u64,
}

/// The engine's settings: typed fields for everything fastkv acts on.
#[derive(Debug, Clone)]
pub struct Config {
    // --- network (read by fastkv-server) ---
    /// Addresses to listen on; a leading `-` makes one optional (skipped if unavailable).
    pub bind: Vec<String>,
    pub port: u16,
    pub tcp_backlog: u32,
    pub unixsocket: String,
    pub protected_mode: bool,
    /// Close clients idle this many seconds (0 = never).
    pub timeout: u64,
    pub tcp_keepalive: u64,
    pub maxclients: u64,
    /// fastkv's own: tokio worker threads (0 = one per two cores, at least one).
    pub server_threads: usize,
    pub client_query_buffer_limit: u64,
    /// normal, replica, pubsub.
    pub client_output_buffer_limit: [OutputLimit; 3],
    pub proto_max_bulk_len: u64,

    // --- general ---
    pub databases: usize,
    /// Background task frequency (active expiry cycles per second); used clamped to 1..=500.
    pub hz: u32,
    pub daemonize: bool,
    pub supervised: String,
    pub pidfile: String,
    /// One of [`LOG_LEVELS`].
    pub loglevel: String,
    /// Empty: standard output.
    pub logfile: String,
    pub requirepass: String,
    /// Absolute path of the working directory for dump and AOF files.
    pub dir: String,

    // --- persistence ---
    pub save: Vec<SavePoint>,
    pub dbfilename: String,
    pub appendonly: bool,
    pub appendfilename: String,
    pub appenddirname: String,
    /// One of [`APPENDFSYNC`].
    pub appendfsync: String,

    // --- memory ---
    pub maxmemory: u64,
    /// One of [`EVICTION_POLICIES`].
    pub maxmemory_policy: String,
    pub maxmemory_samples: u32,
    /// 0..=100: how long one eviction pass may run before it yields (see [`crate::evict`]).
    pub maxmemory_eviction_tenacity: u32,
    /// `maxmemory-clients`: bytes, or a percentage of `maxmemory` when negative (-10 is
    /// `10%`), as Redis stores it; 0 turns client eviction off (see [`crate::client`]).
    pub maxmemory_clients: i64,
    pub lfu_log_factor: u32,
    pub lfu_decay_time: u32,
    pub active_expire_effort: u32,

    // --- encodings ---
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    pub set_max_intset_entries: usize,
    pub zset_max_listpack_entries: usize,
    pub zset_max_listpack_value: usize,
    pub list_max_listpack_size: i64,
    pub list_compress_depth: u32,

    // --- misc ---
    pub slowlog_log_slower_than: i64,
    pub slowlog_max_len: u64,
    pub notify_keyspace_events: String,

    /// Directives accepted for compatibility that nothing reads yet, by name, as `CONFIG GET`
    /// shows them.
    pub extra: BTreeMap<&'static str, String>,
    /// The file the server was started with (CONFIG REWRITE), if any.
    pub config_file: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        let mut c = Config {
            bind: Vec::new(),
            port: 0,
            tcp_backlog: 0,
            unixsocket: String::new(),
            protected_mode: false,
            timeout: 0,
            tcp_keepalive: 0,
            maxclients: 0,
            server_threads: 0,
            client_query_buffer_limit: 0,
            client_output_buffer_limit: [OutputLimit {
                hard: 0,
                soft: 0,
                soft_seconds: 0,
            }; 3],
            proto_max_bulk_len: 0,
            databases: 0,
            hz: 0,
            daemonize: false,
            supervised: String::new(),
            pidfile: String::new(),
            loglevel: String::new(),
            logfile: String::new(),
            requirepass: String::new(),
            dir: String::new(),
            save: Vec::new(),
            dbfilename: String::new(),
            appendonly: false,
            appendfilename: String::new(),
            appenddirname: String::new(),
            appendfsync: String::new(),
            maxmemory: 0,
            maxmemory_policy: String::new(),
            maxmemory_samples: 0,
            maxmemory_eviction_tenacity: 0,
            maxmemory_clients: 0,
            lfu_log_factor: 0,
            lfu_decay_time: 0,
            active_expire_effort: 0,
            hash_max_listpack_entries: 0,
            hash_max_listpack_value: 0,
            set_max_intset_entries: 0,
            zset_max_listpack_entries: 0,
            zset_max_listpack_value: 0,
            list_max_listpack_size: 0,
            list_compress_depth: 0,
            slowlog_log_slower_than: 0,
            slowlog_max_len: 0,
            notify_keyspace_events: String::new(),
            extra: BTreeMap::new(),
            config_file: None,
        };
        // The table's defaults are the only defaults: parse each through its own setter.
        for d in DIRECTIVES {
            let args = if d.multi_arg() {
                split_words(d.default)
            } else {
                vec![d.default.to_string()]
            };
            let applied = d.apply(&mut c, args);
            debug_assert!(applied.is_ok(), "bad default for {}", d.name);
        }
        c
    }
}

/// The words of a multi-argument value given as one string (`CONFIG SET save "3600 1"`).
fn split_words(v: &str) -> Vec<String> {
    split_args(v.as_bytes())
        .unwrap_or_default()
        .into_iter()
        .map(|w| String::from_utf8_lossy(&w).into_owned())
        .collect()
}

/// The directive named `name` (or one of its aliases), any case.
pub fn lookup(name: &str) -> Option<&'static Directive> {
    DIRECTIVES.iter().find(|d| {
        d.name.eq_ignore_ascii_case(name) || d.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    })
}

impl Config {
    /// Sets one directive from a single string value, with start-up semantics: immutable
    /// directives may be set (the engine is not running yet). Multi-argument directives
    /// (`save`, `bind`) take their words in one string, as `CONFIG SET` does.
    ///
    /// Errors carry Redis's `CONFIG SET` texts without the `ERR ` prefix:
    /// `Unknown option or number of arguments for CONFIG SET - 'foo'` and
    /// `CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed
    /// into an integer`.
    pub fn set_directive(&mut self, name: &str, value: &str) -> Result<(), String> {
        let d = lookup(name).ok_or_else(|| unknown_option(name))?;
        let args = if d.multi_arg() {
            split_words(value)
        } else {
            vec![value.to_string()]
        };
        d.apply(self, args).map_err(|e| set_failed(name, &e))
    }

    /// `CONFIG SET name value [name value ...]`: every pair or none (Redis 7). Unlike
    /// [`Config::set_directive`], refuses start-up-only directives. Errors are the full
    /// reply lines without the `ERR ` prefix.
    pub fn config_set(&mut self, pairs: &[(&str, &str)]) -> Result<(), String> {
        let mut seen: Vec<&'static str> = Vec::new();
        let mut next = self.clone();
        for (name, _) in pairs {
            let d = lookup(name).ok_or_else(|| unknown_option(name))?;
            if seen.contains(&d.name) {
                return Err(set_failed(name, "duplicate parameter"));
            }
            seen.push(d.name);
            if d.flags & PROTECTED != 0 {
                return Err(set_failed(name, "can't set protected config"));
            }
            if d.flags & IMMUTABLE != 0 {
                return Err(set_failed(name, "can't set immutable config"));
            }
        }
        for (name, value) in pairs {
            next.set_directive(name, value)?;
        }
        next.check_runtime()
            .map_err(|(name, e)| set_failed(name, &e))?;
        *self = next;
        Ok(())
    }

    /// What fastkv cannot do yet, refused at run time rather than silently ignored.
    fn check_runtime(&self) -> Result<(), (&'static str, String)> {
        if let Some(why) = self.unimplemented() {
            return Err(why);
        }
        if !self.requirepass.is_empty() {
            return Err((
                "requirepass",
                "requirepass is not supported yet (AUTH is not implemented); refusing to run without the password check".into(),
            ));
        }
        Ok(())
    }

    /// What a server started with this configuration cannot honour yet: a clear message
    /// rather than a setting silently ignored.
    /// Settings whose machinery has not landed yet: accepting them would promise work that
    /// is not done.
    fn unimplemented(&self) -> Option<(&'static str, String)> {
        if self.appendonly {
            return Some((
                "appendonly",
                "appendonly yes is not supported yet (AOF is not implemented): use SAVE / RDB snapshots".into(),
            ));
        }
        None
    }

    pub fn check_supported(&self) -> Result<(), String> {
        if let Some((_, why)) = self.unimplemented() {
            return Err(why);
        }
        if self.daemonize {
            return Err("daemonize yes is not supported: fastkv-server runs in the foreground (use your service manager to background it)".into());
        }
        if !self.unixsocket.is_empty() {
            return Err(format!(
                "unixsocket '{}' is not supported: fastkv-server listens on TCP only",
                self.unixsocket
            ));
        }
        if !self.requirepass.is_empty() {
            return Err("requirepass is set but AUTH is not implemented yet: refusing to start an unprotected server".into());
        }
        if let Some(r) = self.extra.get("replicaof") {
            if !r.is_empty() {
                return Err("replicaof is not supported yet".into());
            }
        }
        Ok(())
    }

    /// `CONFIG GET pattern`: every directive (and alias) whose name matches the glob, with
    /// its value as Redis prints it. In table order; aliases follow their directive.
    pub fn get_matching(&self, pattern: &str) -> Vec<(String, String)> {
        let pat = pattern.as_bytes();
        let mut out = Vec::new();
        for d in DIRECTIVES {
            let names = std::iter::once(d.name).chain(d.aliases.iter().copied());
            let mut value = None;
            for n in names {
                if glob_match(pat, n.as_bytes(), true) {
                    let v = value.get_or_insert_with(|| (d.get)(self)).clone();
                    out.push((n.to_string(), v));
                }
            }
        }
        out
    }

    /// The value of one directive, as `CONFIG GET` shows it.
    pub fn get(&self, name: &str) -> Option<String> {
        lookup(name).map(|d| (d.get)(self))
    }

    /// Builds a configuration from an optional `redis.conf`-syntax file and `--directive
    /// value...` arguments, as `redis-server` does: the arguments become extra lines after
    /// the file's (so they win), each value quoted. Errors are the multi-line text Redis
    /// prints (`*** FATAL CONFIG FILE ERROR ...`), naming the line, and the file. A `path`
    /// of `-` reads the configuration from standard input.
    pub fn from_file_and_args(path: Option<&str>, args: &[String]) -> Result<Config, String> {
        let mut c = Config::default();
        let mut text = String::new();
        if let Some("-") = path {
            // `fastkv-server -`: the configuration comes from standard input.
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(|e| {
                format!(
                    "Fatal error, can't read config from stdin: {}",
                    io_error_text(&e)
                )
            })?;
        } else if let Some(p) = path {
            text = std::fs::read_to_string(p).map_err(|e| {
                format!(
                    "Fatal error, can't open config file '{p}': {}",
                    io_error_text(&e)
                )
            })?;
            c.config_file = Some(absolute(p));
        }
        let file_lines = text.lines().count();
        text.push('\n');
        text.push_str(&args_to_lines(args));
        c.load_string(&text, |line| {
            if line <= file_lines {
                path.map(|p| format!("'{p}'"))
            } else {
                Some("the command line".into())
            }
        })?;
        Ok(c)
    }

    /// Applies `redis.conf`-syntax text. `origin(line)` names where line N came from.
    fn load_string(
        &mut self,
        text: &str,
        origin: impl Fn(usize) -> Option<String>,
    ) -> Result<(), String> {
        // The first `save` line replaces the default points; later ones add to them.
        let mut save_seen = false;
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fail = |msg: &str| {
                let from = origin(i + 1)
                    .map(|o| format!(" of {o}"))
                    .unwrap_or_default();
                format!(
                    "\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\n\
                     Reading the configuration file, at line {}{from}\n>>> '{line}'\n{msg}",
                    i + 1
                )
            };
            let words = split_args(line.as_bytes())
                .ok_or_else(|| fail("Unbalanced quotes in configuration line"))?;
            let mut words: Vec<String> = words
                .into_iter()
                .map(|w| String::from_utf8_lossy(&w).into_owned())
                .collect();
            let name = words.remove(0);
            let Some(d) = lookup(&name) else {
                return Err(fail("Bad directive or wrong number of arguments"));
            };
            if words.is_empty() {
                return Err(fail("wrong number of arguments"));
            }
            if d.name == "save" && save_seen && !(words.len() == 1 && words[0].is_empty()) {
                let mut all: Vec<String> = self
                    .save
                    .iter()
                    .flat_map(|p| [p.seconds.to_string(), p.changes.to_string()])
                    .collect();
                all.extend(words);
                words = all;
            }
            if d.name == "save" {
                save_seen = true;
            }
            d.apply(self, words).map_err(|e| fail(&e))?;
        }
        Ok(())
    }
}

/// `--port 7000 --save ""` as config lines `port "7000"` / `save ""`, as redis-server
/// builds them: each `--name` starts a line, every other argument is a quoted value.
fn args_to_lines(args: &[String]) -> String {
    let mut out = String::new();
    for a in args {
        if let Some(name) = a.strip_prefix("--") {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(name);
        } else {
            out.push(' ');
            out.push_str(&repr(a));
        }
    }
    out
}

/// Redis's `sdscatrepr`: a double-quoted string `split_args` reads back unchanged.
fn repr(s: &str) -> String {
    let mut out = String::from("\"");
    for b in s.bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

fn absolute(p: &str) -> String {
    std::path::absolute(p)
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_else(|_| p.to_string())
}

/// `No such file or directory` (without Rust's ` (os error 2)`).
fn io_error_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn unknown_option(name: &str) -> String {
    format!("Unknown option or number of arguments for CONFIG SET - '{name}'")
}

fn set_failed(name: &str, why: &str) -> String {
    format!("CONFIG SET failed (possibly related to argument '{name}') - {why}")
}

// --- special directives -----------------------------------------------------------------

fn set_save(c: &mut Config, v: Parsed) -> Result<(), String> {
    let args = v.into_args();
    // `save ""` (or an empty CONFIG SET value) turns snapshots off.
    let words: Vec<&String> = args.iter().filter(|a| !a.is_empty()).collect();
    if !words.len().is_multiple_of(2) {
        return Err("Invalid save parameters".into());
    }
    let mut points = Vec::new();
    for pair in words.chunks(2) {
        let (Some(s), Some(n)) = (pair.first(), pair.get(1)) else {
            return Err("Invalid save parameters".into());
        };
        let seconds = s.parse::<i64>().map_err(|_| "Invalid save parameters")?;
        let changes = n.parse::<i64>().map_err(|_| "Invalid save parameters")?;
        if seconds < 1 || changes < 0 {
            return Err("Invalid save parameters".into());
        }
        points.push(SavePoint {
            seconds: seconds as u64,
            changes: changes as u64,
        });
    }
    c.save = points;
    Ok(())
}

fn get_save(c: &Config) -> String {
    c.save
        .iter()
        .map(|p| format!("{} {}", p.seconds, p.changes))
        .collect::<Vec<_>>()
        .join(" ")
}

fn set_bind(c: &mut Config, v: Parsed) -> Result<(), String> {
    let addrs: Vec<String> = v
        .into_args()
        .into_iter()
        .filter(|a| !a.is_empty())
        .collect();
    if addrs.is_empty() {
        return Err("No bind address specified.".into());
    }
    if addrs.len() > 16 {
        return Err("Too many bind addresses specified.".into());
    }
    c.bind = addrs;
    Ok(())
}

/// `maxmemory-clients`: a memory value (`1mb`) or a percentage of `maxmemory` (`10%`, at most
/// 100). Like Redis, a memory value past `i64::MAX` wraps into the percentage range.
fn set_maxmemory_clients(c: &mut Config, v: Parsed) -> Result<(), String> {
    const BAD: &str = "argument must be a memory or percent value";
    let v = v.into_string();
    let n = match v.strip_suffix('%') {
        Some(pct) => {
            let p = fastkv_resp::request::parse_i64_strict(pct.as_bytes())
                .filter(|p| *p >= 0)
                .ok_or(BAD)?;
            -p
        }
        // Two's complement, as Redis reads the unsigned figure into a signed field.
        None => parse_memory(&v).ok_or(BAD)? as i64,
    };
    if n < 0 && n.unsigned_abs() > 100 {
        return Err("percentage argument must be less or equal to 100".into());
    }
    c.maxmemory_clients = n;
    MEMORY_CONFIG_GEN.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

fn set_dir(c: &mut Config, v: Parsed) -> Result<(), String> {
    let d = v.into_string();
    let p = std::path::Path::new(&d);
    if !p.is_dir() {
        return Err(format!("No such file or directory: '{d}'"));
    }
    c.dir = absolute(&d);
    Ok(())
}

fn get_dir(c: &Config) -> String {
    if c.dir.is_empty() {
        std::env::current_dir()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default()
    } else {
        c.dir.clone()
    }
}

fn set_output_limit(c: &mut Config, v: Parsed) -> Result<(), String> {
    let args = v.into_args();
    if !args.len().is_multiple_of(4) || args.is_empty() {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut limits = c.client_output_buffer_limit;
    for group in args.chunks(4) {
        let class = match group.first().map(|s| s.to_ascii_lowercase()).as_deref() {
            Some("normal") => 0,
            Some("slave") | Some("replica") => 1,
            Some("pubsub") => 2,
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into())
            }
        };
        let num = |i: usize| group.get(i).and_then(|s| parse_memory(s));
        let bad = "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
        let (Some(hard), Some(soft)) = (num(1), num(2)) else {
            return Err(bad.into());
        };
        let soft_seconds = group
            .get(3)
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or(bad)?;
        if let Some(slot) = limits.get_mut(class) {
            *slot = OutputLimit {
                hard,
                soft,
                soft_seconds,
            };
        }
    }
    c.client_output_buffer_limit = limits;
    Ok(())
}

fn get_output_limit(c: &Config) -> String {
    let [n, r, p] = c.client_output_buffer_limit;
    format!(
        "normal {} {} {} slave {} {} {} pubsub {} {} {}",
        n.hard,
        n.soft,
        n.soft_seconds,
        r.hard,
        r.soft,
        r.soft_seconds,
        p.hard,
        p.soft,
        p.soft_seconds
    )
}

fn set_notify(c: &mut Config, v: Parsed) -> Result<(), String> {
    let Some(flags) = crate::notify::parse(&v.into_string()) else {
        return Err("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".into());
    };
    c.notify_keyspace_events = crate::notify::format(flags);
    Ok(())
}

fn set_dbfilename(c: &mut Config, v: Parsed) -> Result<(), String> {
    let s = v.into_string();
    if s.contains('/') {
        return Err("dbfilename can't be a path, just a filename".into());
    }
    c.dbfilename = s;
    Ok(())
}

fn set_replicaof(c: &mut Config, v: Parsed) -> Result<(), String> {
    let args = v.into_args();
    let s = args.join(" ");
    let value = if s.eq_ignore_ascii_case("no one") {
        String::new()
    } else {
        s
    };
    c.extra.insert("replicaof", value);
    Ok(())
}

// --- the table --------------------------------------------------------------------------

macro_rules! row {
    ($name:literal, $aliases:expr, $kind:expr, $default:literal, $flags:expr, $get:expr, $set:expr) => {
        Directive {
            name: $name,
            aliases: $aliases,
            kind: $kind,
            default: $default,
            flags: $flags,
            get: $get,
            set: $set,
        }
    };
}

/// A yes/no directive stored in a typed field.
macro_rules! boolean {
    ($name:literal, $field:ident, $default:literal, $flags:expr) => {
        row!(
            $name,
            &[],
            Kind::Bool,
            $default,
            $flags,
            |c| yes_no(c.$field).to_string(),
            |c, v| {
                c.$field = v.as_bool();
                Ok(())
            }
        )
    };
}

/// An integer (or memory) directive stored in a typed field of any integer type.
macro_rules! int {
    ($name:literal, $aliases:expr, $field:ident, $kind:expr, $default:literal, $flags:expr) => {
        row!(
            $name,
            $aliases,
            $kind,
            $default,
            $flags,
            |c| c.$field.to_string(),
            |c, v| {
                c.$field = v
                    .as_int()
                    .try_into()
                    .map_err(|_| "argument is out of range".to_string())?;
                Ok(())
            }
        )
    };
}

/// An eviction directive (integer or memory) stored in a typed field; setting it bumps
/// [`MEMORY_CONFIG_GEN`] so that engines refresh their cached eviction settings.
macro_rules! mem_int {
    ($name:literal, $field:ident, $kind:expr, $default:literal) => {
        row!(
            $name,
            &[],
            $kind,
            $default,
            RUNTIME,
            |c| c.$field.to_string(),
            |c, v| {
                c.$field = v
                    .as_int()
                    .try_into()
                    .map_err(|_| "argument is out of range".to_string())?;
                MEMORY_CONFIG_GEN.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
        )
    };
}

/// A string or enum directive stored in a typed `String` field.
macro_rules! text {
    ($name:literal, $field:ident, $kind:expr, $default:literal, $flags:expr) => {
        row!(
            $name,
            &[],
            $kind,
            $default,
            $flags,
            |c| c.$field.clone(),
            |c, v| {
                c.$field = v.into_string();
                Ok(())
            }
        )
    };
}

/// A directive accepted for compatibility: validated by its kind, stored in `extra`.
macro_rules! compat {
    ($name:literal, $aliases:expr, $kind:expr, $default:literal, $flags:expr) => {
        row!(
            $name,
            $aliases,
            $kind,
            $default,
            $flags,
            |c| c.extra.get($name).cloned().unwrap_or_default(),
            |c, v| {
                c.extra.insert($name, v.into_string());
                Ok(())
            }
        )
    };
}

const INT_MAX: i64 = i32::MAX as i64;
const UINT_MAX: i64 = u32::MAX as i64;
const LONG_MAX: i64 = i64::MAX;
/// 1 MB: the smallest `proto-max-bulk-len` and `client-query-buffer-limit` Redis accepts.
const MB: i64 = 1024 * 1024;

const fn int(min: i64, max: i64) -> Kind {
    Kind::Int { min, max }
}

/// Bounds are given as Redis's (non-negative) `long long` limits.
const fn mem(min: i64, max: i64) -> Kind {
    Kind::Memory {
        min: min as u64,
        max: max as u64,
    }
}

/// Every directive fastkv knows, with Redis 7.0's names, bounds and defaults (except `bind`,
/// which defaults to loopback only).
pub static DIRECTIVES: &[Directive] = &[
    // Network.
    row!(
        "bind",
        &[],
        Kind::Special,
        "127.0.0.1",
        IMMUTABLE | MULTI_ARG,
        |c| c.bind.join(" "),
        set_bind
    ),
    int!("port", &[], port, int(0, 65535), "6379", IMMUTABLE),
    int!(
        "tcp-backlog",
        &[],
        tcp_backlog,
        int(0, INT_MAX),
        "511",
        IMMUTABLE
    ),
    text!("unixsocket", unixsocket, Kind::Str, "", IMMUTABLE),
    compat!("unixsocketperm", &[], int(0, 0o777), "0", IMMUTABLE),
    boolean!("protected-mode", protected_mode, "yes", RUNTIME),
    int!("timeout", &[], timeout, int(0, INT_MAX), "0", RUNTIME),
    int!(
        "tcp-keepalive",
        &[],
        tcp_keepalive,
        int(0, INT_MAX),
        "300",
        RUNTIME
    ),
    int!(
        "maxclients",
        &[],
        maxclients,
        int(1, UINT_MAX),
        "10000",
        RUNTIME
    ),
    int!(
        "server-threads",
        &[],
        server_threads,
        int(0, 1024),
        "0",
        IMMUTABLE
    ),
    compat!("io-threads", &[], int(1, 128), "1", IMMUTABLE),
    compat!("io-threads-do-reads", &[], Kind::Bool, "no", IMMUTABLE),
    int!(
        "client-query-buffer-limit",
        &[],
        client_query_buffer_limit,
        mem(MB, LONG_MAX),
        "1gb",
        RUNTIME
    ),
    row!(
        "client-output-buffer-limit",
        &[],
        Kind::Special,
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        MULTI_ARG,
        get_output_limit,
        set_output_limit
    ),
    int!(
        "proto-max-bulk-len",
        &[],
        proto_max_bulk_len,
        mem(MB, LONG_MAX),
        "512mb",
        RUNTIME
    ),
    // General.
    int!(
        "databases",
        &[],
        databases,
        int(1, INT_MAX),
        "16",
        IMMUTABLE
    ),
    int!("hz", &[], hz, int(0, INT_MAX), "10", RUNTIME),
    compat!("dynamic-hz", &[], Kind::Bool, "yes", RUNTIME),
    boolean!("daemonize", daemonize, "no", IMMUTABLE),
    text!(
        "supervised",
        supervised,
        Kind::Enum(&["upstart", "systemd", "auto", "no"]),
        "no",
        IMMUTABLE
    ),
    text!("pidfile", pidfile, Kind::Str, "", IMMUTABLE),
    text!(
        "loglevel",
        loglevel,
        Kind::Enum(LOG_LEVELS),
        "notice",
        RUNTIME
    ),
    text!("logfile", logfile, Kind::Str, "", IMMUTABLE),
    compat!("syslog-enabled", &[], Kind::Bool, "no", IMMUTABLE),
    compat!("always-show-logo", &[], Kind::Bool, "no", IMMUTABLE),
    compat!("set-proc-title", &[], Kind::Bool, "yes", IMMUTABLE),
    text!("requirepass", requirepass, Kind::Str, "", RUNTIME),
    row!("dir", &[], Kind::Str, ".", PROTECTED, get_dir, set_dir),
    compat!(
        "enable-protected-configs",
        &[],
        Kind::Enum(&["no", "yes", "local"]),
        "no",
        IMMUTABLE
    ),
    compat!(
        "enable-debug-command",
        &[],
        Kind::Enum(&["no", "yes", "local"]),
        "no",
        IMMUTABLE
    ),
    compat!("cluster-enabled", &[], Kind::Bool, "no", IMMUTABLE),
    row!(
        "replicaof",
        &["slaveof"],
        Kind::Special,
        "",
        IMMUTABLE | MULTI_ARG,
        |c| c.extra.get("replicaof").cloned().unwrap_or_default(),
        set_replicaof
    ),
    // Persistence.
    row!(
        "save",
        &[],
        Kind::Special,
        "3600 1 300 100 60 10000",
        MULTI_ARG,
        get_save,
        set_save
    ),
    row!(
        "dbfilename",
        &[],
        Kind::Str,
        "dump.rdb",
        PROTECTED,
        |c| c.dbfilename.clone(),
        set_dbfilename
    ),
    compat!("rdbcompression", &[], Kind::Bool, "yes", RUNTIME),
    compat!("rdbchecksum", &[], Kind::Bool, "yes", IMMUTABLE),
    compat!(
        "stop-writes-on-bgsave-error",
        &[],
        Kind::Bool,
        "yes",
        RUNTIME
    ),
    boolean!("appendonly", appendonly, "no", RUNTIME),
    text!(
        "appendfilename",
        appendfilename,
        Kind::Str,
        "appendonly.aof",
        IMMUTABLE
    ),
    text!(
        "appenddirname",
        appenddirname,
        Kind::Str,
        "appendonlydir",
        IMMUTABLE
    ),
    text!(
        "appendfsync",
        appendfsync,
        Kind::Enum(APPENDFSYNC),
        "everysec",
        RUNTIME
    ),
    compat!("no-appendfsync-on-rewrite", &[], Kind::Bool, "no", RUNTIME),
    compat!(
        "auto-aof-rewrite-percentage",
        &[],
        int(0, INT_MAX),
        "100",
        RUNTIME
    ),
    compat!(
        "auto-aof-rewrite-min-size",
        &[],
        mem(0, LONG_MAX),
        "67108864",
        RUNTIME
    ),
    compat!("aof-load-truncated", &[], Kind::Bool, "yes", RUNTIME),
    compat!("aof-use-rdb-preamble", &[], Kind::Bool, "yes", RUNTIME),
    // Memory.
    // Eviction settings: each setter also bumps `MEMORY_CONFIG_GEN` (see there).
    // Any unsigned 64-bit figure, as in Redis (past i64::MAX it arrives in two's complement).
    row!(
        "maxmemory",
        &[],
        Kind::Memory {
            min: 0,
            max: u64::MAX
        },
        "0",
        RUNTIME,
        |c| c.maxmemory.to_string(),
        |c, v| {
            c.maxmemory = v.as_int() as u64;
            MEMORY_CONFIG_GEN.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
    ),
    row!(
        "maxmemory-policy",
        &[],
        Kind::Enum(EVICTION_POLICIES),
        "noeviction",
        RUNTIME,
        |c| c.maxmemory_policy.clone(),
        |c, v| {
            c.maxmemory_policy = v.into_string();
            MEMORY_CONFIG_GEN.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
    ),
    mem_int!("maxmemory-samples", maxmemory_samples, int(1, INT_MAX), "5"),
    mem_int!(
        "maxmemory-eviction-tenacity",
        maxmemory_eviction_tenacity,
        int(0, 100),
        "10"
    ),
    row!(
        "maxmemory-clients",
        &[],
        Kind::Special,
        "0",
        RUNTIME,
        |c| match c.maxmemory_clients {
            n if n < 0 => format!("{}%", n.unsigned_abs()),
            n => n.to_string(),
        },
        set_maxmemory_clients
    ),
    mem_int!("lfu-log-factor", lfu_log_factor, int(0, INT_MAX), "10"),
    mem_int!("lfu-decay-time", lfu_decay_time, int(0, INT_MAX), "1"),
    int!(
        "active-expire-effort",
        &[],
        active_expire_effort,
        int(1, 10),
        "1",
        RUNTIME
    ),
    compat!("lazyfree-lazy-eviction", &[], Kind::Bool, "no", RUNTIME),
    compat!("lazyfree-lazy-expire", &[], Kind::Bool, "no", RUNTIME),
    compat!("lazyfree-lazy-server-del", &[], Kind::Bool, "no", RUNTIME),
    compat!("lazyfree-lazy-user-del", &[], Kind::Bool, "no", RUNTIME),
    compat!("lazyfree-lazy-user-flush", &[], Kind::Bool, "no", RUNTIME),
    compat!("activerehashing", &[], Kind::Bool, "yes", RUNTIME),
    // Encodings.
    int!(
        "hash-max-listpack-entries",
        &["hash-max-ziplist-entries"],
        hash_max_listpack_entries,
        int(0, LONG_MAX),
        "512",
        RUNTIME
    ),
    int!(
        "hash-max-listpack-value",
        &["hash-max-ziplist-value"],
        hash_max_listpack_value,
        int(0, LONG_MAX),
        "64",
        RUNTIME
    ),
    int!(
        "set-max-intset-entries",
        &[],
        set_max_intset_entries,
        int(0, LONG_MAX),
        "512",
        RUNTIME
    ),
    int!(
        "zset-max-listpack-entries",
        &["zset-max-ziplist-entries"],
        zset_max_listpack_entries,
        int(0, LONG_MAX),
        "128",
        RUNTIME
    ),
    int!(
        "zset-max-listpack-value",
        &["zset-max-ziplist-value"],
        zset_max_listpack_value,
        int(0, LONG_MAX),
        "64",
        RUNTIME
    ),
    int!(
        "list-max-listpack-size",
        &["list-max-ziplist-size"],
        list_max_listpack_size,
        int(i32::MIN as i64, INT_MAX),
        "-2",
        RUNTIME
    ),
    int!(
        "list-compress-depth",
        &[],
        list_compress_depth,
        int(0, INT_MAX),
        "0",
        RUNTIME
    ),
    compat!(
        "hll-sparse-max-bytes",
        &[],
        mem(0, LONG_MAX),
        "3000",
        RUNTIME
    ),
    compat!(
        "stream-node-max-bytes",
        &[],
        mem(0, LONG_MAX),
        "4096",
        RUNTIME
    ),
    compat!(
        "stream-node-max-entries",
        &[],
        int(0, LONG_MAX),
        "100",
        RUNTIME
    ),
    // Misc.
    int!(
        "slowlog-log-slower-than",
        &[],
        slowlog_log_slower_than,
        int(-1, LONG_MAX),
        "10000",
        RUNTIME
    ),
    int!(
        "slowlog-max-len",
        &[],
        slowlog_max_len,
        int(0, LONG_MAX),
        "128",
        RUNTIME
    ),
    compat!(
        "latency-monitor-threshold",
        &[],
        int(0, LONG_MAX),
        "0",
        RUNTIME
    ),
    compat!("latency-tracking", &[], Kind::Bool, "yes", RUNTIME),
    compat!(
        "busy-reply-threshold",
        &["lua-time-limit"],
        int(0, LONG_MAX),
        "5000",
        RUNTIME
    ),
    row!(
        "notify-keyspace-events",
        &[],
        Kind::Str,
        "",
        RUNTIME,
        |c| c.notify_keyspace_events.clone(),
        set_notify
    ),
    compat!(
        "oom-score-adj",
        &[],
        Kind::Enum(&["no", "yes", "relative", "absolute"]),
        "no",
        RUNTIME
    ),
    compat!("oom-score-adj-values", &[], Kind::Str, "0 200 800", RUNTIME),
    compat!("shutdown-timeout", &[], int(0, INT_MAX), "10", RUNTIME),
    compat!("shutdown-on-sigint", &[], Kind::Str, "default", RUNTIME),
    compat!("shutdown-on-sigterm", &[], Kind::Str, "default", RUNTIME),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn write_conf(name: &str, text: &str) -> String {
        let dir = std::env::temp_dir().join(format!("fastkv-config-test-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap_or_default();
        p.to_string_lossy().into_owned()
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_match_redis() {
        let c = Config::default();
        assert_eq!(c.databases, 16);
        assert_eq!(c.hz, 10);
        assert_eq!(c.port, 6379);
        assert_eq!(c.bind, vec!["127.0.0.1".to_string()]);
        assert_eq!(c.proto_max_bulk_len, 512 * 1024 * 1024);
        assert_eq!(c.client_query_buffer_limit, 1024 * 1024 * 1024);
        assert_eq!(c.maxclients, 10000);
        assert_eq!(c.get("save").as_deref(), Some("3600 1 300 100 60 10000"));
        assert_eq!(c.get("appendonly").as_deref(), Some("no"));
        assert_eq!(c.get("maxmemory-policy").as_deref(), Some("noeviction"));
        assert_eq!(
            c.get("client-output-buffer-limit").as_deref(),
            Some("normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60")
        );
        for d in DIRECTIVES {
            let mut c = Config::default();
            let v = (d.get)(&c);
            // Every printed value reads back to itself.
            assert!(
                c.set_directive(d.name, &v).is_ok() || d.name == "dir",
                "{}",
                d.name
            );
            assert_eq!((d.get)(&c), v, "{}", d.name);
        }
    }

    #[test]
    fn values_and_units() {
        let mut c = Config::default();
        c.set_directive("maxmemory", "1k").unwrap_or_default();
        assert_eq!(c.maxmemory, 1000);
        c.set_directive("MAXMEMORY", "1kb").unwrap_or_default();
        assert_eq!(c.maxmemory, 1024);
        c.set_directive("maxmemory", "100mb").unwrap_or_default();
        assert_eq!(c.maxmemory, 100 * 1024 * 1024);
        c.set_directive("maxmemory", "1GB").unwrap_or_default();
        assert_eq!(c.get("maxmemory").as_deref(), Some("1073741824"));
        assert_eq!(parse_memory("5G"), Some(5_000_000_000));
        assert_eq!(parse_memory("1.5gb"), None);
        assert_eq!(parse_memory(" 100"), None);
        assert_eq!(parse_memory("-1"), None);
        // memtoull's quirks.
        assert_eq!(parse_memory("mb"), Some(0));
        assert_eq!(parse_memory(""), Some(0));
        assert_eq!(parse_memory("18446744073709551616"), Some(u64::MAX));
        assert_eq!(parse_memory("17179869184gb"), Some(0));
        assert_eq!(parse_memory(&"1".repeat(128)), None);
        c.set_directive("maxmemory", "18446744073709551615")
            .unwrap_or_default();
        assert_eq!(c.maxmemory, u64::MAX);
        assert_eq!(
            c.set_directive("proto-max-bulk-len", "9223372036854775808"),
            Err("CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1048576 and 9223372036854775807 inclusive".into())
        );
        c.set_directive("maxmemory", "0").unwrap_or_default();
        c.set_directive("protected-mode", "NO").unwrap_or_default();
        assert!(!c.protected_mode);
        c.set_directive("maxmemory-policy", "ALLKEYS-LRU")
            .unwrap_or_default();
        assert_eq!(c.maxmemory_policy, "allkeys-lru");
        c.set_directive("hash-max-ziplist-entries", "7")
            .unwrap_or_default();
        assert_eq!(c.hash_max_listpack_entries, 7);
        c.set_directive("save", "").unwrap_or_default();
        assert!(c.save.is_empty());
        c.set_directive("save", "3600 1 300 100")
            .unwrap_or_default();
        assert_eq!(c.get("save").as_deref(), Some("3600 1 300 100"));
    }

    #[test]
    fn maxmemory_clients_takes_bytes_or_a_percentage() {
        let mut c = Config::default();
        let get = |c: &Config| c.get("maxmemory-clients").unwrap_or_default();
        assert_eq!(get(&c), "0");
        assert_eq!(c.set_directive("maxmemory-clients", "10%"), Ok(()));
        assert_eq!((c.maxmemory_clients, get(&c).as_str()), (-10, "10%"));
        assert_eq!(c.set_directive("maxmemory-clients", "1mb"), Ok(()));
        assert_eq!(
            (c.maxmemory_clients, get(&c).as_str()),
            (1 << 20, "1048576")
        );
        // An unsigned figure past i64::MAX wraps into the percentages, as in Redis.
        assert_eq!(
            c.set_directive("maxmemory-clients", "18446744073709551615"),
            Ok(())
        );
        assert_eq!(get(&c), "1%");
        let bad = "CONFIG SET failed (possibly related to argument 'maxmemory-clients') - \
                   argument must be a memory or percent value";
        for v in ["-5%", "%", "010%", "1.5%", "1mb%", "x"] {
            assert_eq!(
                c.set_directive("maxmemory-clients", v),
                Err(bad.into()),
                "{v}"
            );
        }
        let over = "CONFIG SET failed (possibly related to argument 'maxmemory-clients') - \
                    percentage argument must be less or equal to 100";
        for v in ["101%", "9223372036854775808"] {
            assert_eq!(
                c.set_directive("maxmemory-clients", v),
                Err(over.into()),
                "{v}"
            );
        }
        assert_eq!(get(&c), "1%");
    }

    #[test]
    fn set_errors_are_redis_texts() {
        let mut c = Config::default();
        let e = |c: &mut Config, n: &str, v: &str| c.set_directive(n, v).err().unwrap_or_default();
        assert_eq!(
            e(&mut c, "foo", "1"),
            "Unknown option or number of arguments for CONFIG SET - 'foo'"
        );
        assert_eq!(
            e(&mut c, "hz", "abc"),
            "CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"
        );
        assert_eq!(
            e(&mut c, "hz", "-1"),
            "CONFIG SET failed (possibly related to argument 'hz') - argument must be between 0 and 2147483647 inclusive"
        );
        assert_eq!(
            e(&mut c, "protected-mode", "maybe"),
            "CONFIG SET failed (possibly related to argument 'protected-mode') - argument must be 'yes' or 'no'"
        );
        assert_eq!(
            e(&mut c, "maxmemory-policy", "foo"),
            "CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"
        );
        assert_eq!(
            e(&mut c, "maxmemory", "1xb"),
            "CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"
        );
        assert_eq!(
            e(&mut c, "proto-max-bulk-len", "10"),
            "CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1048576 and 9223372036854775807 inclusive"
        );
        assert_eq!(
            e(&mut c, "save", "100"),
            "CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters"
        );
        assert_eq!(
            e(&mut c, "save", "0 0"),
            "CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters"
        );
    }

    #[test]
    fn config_set_is_atomic_and_checks_mutability() {
        let mut c = Config::default();
        assert_eq!(
            c.config_set(&[("hz", "5"), ("maxmemory", "1xb")]),
            Err("CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value".into())
        );
        assert_eq!(c.hz, 10, "nothing applied");
        assert_eq!(
            c.config_set(&[("hz", "5"), ("HZ", "6")]),
            Err(
                "CONFIG SET failed (possibly related to argument 'HZ') - duplicate parameter"
                    .into()
            )
        );
        assert_eq!(
            c.config_set(&[("daemonize", "yes")]),
            Err("CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config".into())
        );
        assert_eq!(
            c.config_set(&[("dir", "/tmp")]),
            Err("CONFIG SET failed (possibly related to argument 'dir') - can't set protected config".into())
        );
        assert!(c
            .config_set(&[("requirepass", "secret")])
            .err()
            .unwrap_or_default()
            .contains("not supported"));
        assert_eq!(
            c.config_set(&[("hz", "5"), ("proto-max-bulk-len", "1mb")]),
            Ok(())
        );
        assert_eq!((c.hz, c.proto_max_bulk_len), (5, 1024 * 1024));
        // All or nothing: one refused pair leaves the others unapplied.
        assert!(c.config_set(&[("maxmemory", "1mb"), ("hz", "x")]).is_err());
        assert_eq!((c.hz, c.maxmemory), (5, 0));
        // maxmemory is accepted now that eviction exists.
        assert_eq!(c.config_set(&[("maxmemory", "1mb")]), Ok(()));
        assert_eq!(c.maxmemory, 1024 * 1024);
        assert_eq!(c.get("maxmemory-eviction-tenacity").as_deref(), Some("10"));
    }

    #[test]
    fn get_matching_globs_and_aliases() {
        let c = Config::default();
        let got = c.get_matching("port");
        assert_eq!(got, vec![("port".to_string(), "6379".to_string())]);
        let got = c.get_matching("*ziplist-entries");
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["hash-max-ziplist-entries", "zset-max-ziplist-entries"]
        );
        assert!(c.get_matching("maxmemory*").len() >= 4);
        assert!(c.get_matching("nonexist").is_empty());
        assert_eq!(c.get_matching("PORT").len(), 1);
    }

    #[test]
    fn file_lines_quotes_and_args() {
        let p = write_conf(
            "ok.conf",
            "# a comment\n\n  port 7001  \nbind 127.0.0.1 \"::1\"\nlogfile 'my log.txt'\n\
             save 900 1\nsave 300 10\nmaxmemory 2mb\n",
        );
        let c = Config::from_file_and_args(Some(&p), &strings(&["--hz", "20", "--port", "7002"]))
            .unwrap_or_default();
        assert_eq!(c.port, 7002, "arguments come after the file");
        assert_eq!(c.hz, 20);
        assert_eq!(c.bind, strings(&["127.0.0.1", "::1"]));
        assert_eq!(c.logfile, "my log.txt");
        assert_eq!(c.get("save").as_deref(), Some("900 1 300 10"));
        assert_eq!(c.maxmemory, 2 * 1024 * 1024);
        assert_eq!(c.config_file.as_deref(), Some(p.as_str()));

        let c = Config::from_file_and_args(None, &strings(&["--save", "", "--bind", "a", "b"]))
            .unwrap_or_default();
        assert!(c.save.is_empty());
        assert_eq!(c.bind, strings(&["a", "b"]));
    }

    #[test]
    fn file_errors_name_line_and_file() {
        let p = write_conf("bad.conf", "port 1234\n# comment\nhz \"abc\"\n");
        let e = Config::from_file_and_args(Some(&p), &[])
            .err()
            .unwrap_or_default();
        assert_eq!(
            e,
            format!(
                "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 3 of '{p}'\n>>> 'hz \"abc\"'\nargument couldn't be parsed into an integer"
            )
        );
        let p = write_conf("one.conf", "port 1234\n");
        let e = Config::from_file_and_args(Some(&p), &strings(&["--foo", "1"]))
            .err()
            .unwrap_or_default();
        assert!(e.contains("at line 3 of the command line\n>>> 'foo \"1\"'\nBad directive or wrong number of arguments"), "{e}");
        let e = Config::from_file_and_args(None, &strings(&["--port", "1", "2"]))
            .err()
            .unwrap_or_default();
        assert!(
            e.ends_with(
                "at line 2 of the command line\n>>> 'port \"1\" \"2\"'\nwrong number of arguments"
            ),
            "{e}"
        );
        let e = Config::from_file_and_args(None, &strings(&["--port"]))
            .err()
            .unwrap_or_default();
        assert!(e.ends_with(">>> 'port'\nwrong number of arguments"), "{e}");
        let p = write_conf("quotes.conf", "port 1234\nbind \"unbalanced\n");
        let e = Config::from_file_and_args(Some(&p), &[])
            .err()
            .unwrap_or_default();
        assert!(
            e.ends_with("Unbalanced quotes in configuration line"),
            "{e}"
        );
        let e = Config::from_file_and_args(None, &strings(&["--daemonize", "maybe"]))
            .err()
            .unwrap_or_default();
        assert!(e.ends_with("argument must be 'yes' or 'no'"), "{e}");
        let e = Config::from_file_and_args(Some("/nonexist.conf"), &[])
            .err()
            .unwrap_or_default();
        assert_eq!(
            e,
            "Fatal error, can't open config file '/nonexist.conf': No such file or directory"
        );
    }

    #[test]
    fn unsupported_settings_are_refused() {
        let c =
            Config::from_file_and_args(None, &strings(&["--daemonize", "yes"])).unwrap_or_default();
        assert!(c.check_supported().is_err());
        let c = Config::from_file_and_args(None, &strings(&["--unixsocket", "/tmp/x.sock"]))
            .unwrap_or_default();
        assert!(c
            .check_supported()
            .err()
            .unwrap_or_default()
            .contains("not supported"));
        let c =
            Config::from_file_and_args(None, &strings(&["--requirepass", "x"])).unwrap_or_default();
        assert!(c.check_supported().is_err());
        assert!(Config::default().check_supported().is_ok());
    }
}
