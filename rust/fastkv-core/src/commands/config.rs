//! CONFIG (GET, SET, RESETSTAT, REWRITE, HELP) and SHUTDOWN.
//!
//! The directive table and all parsing live in [`crate::config`]; these handlers only shape
//! replies. SHUTDOWN cannot stop anything itself (the core has no sockets): it records the
//! request and fires the engine's shutdown signal, which every network server serving this
//! engine awaits.

use crate::command::{
    Args, CommandSpec, ADMIN, ALLOW_BUSY, LOADING, NOSCRIPT, NO_KEYS, NO_MULTI, STALE,
};
use crate::commands::connection::help_reply;
use crate::commands::persistence;
use crate::config::{lookup, Config, DIRECTIVES, MULTI_ARG};
use crate::dispatch::Ctx;
use crate::engine::ShutdownRequest;
use crate::error::OpError;
use fastkv_resp::Frame;
use std::sync::atomic::Ordering;

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `CONFIG GET parameter [parameter ...]` — every directive matching any of the glob
/// patterns, each once: a map in RESP3, a flat name/value array in RESP2. A parameter without
/// glob characters is looked up directly and answered under the name as given (Redis 7.0:
/// `CONFIG GET MAXMEMORY` replies `MAXMEMORY`); names repeat in no case.
fn cmd_config_get(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let config = ctx.engine.config.read();
    let mut seen = std::collections::HashSet::new();
    let mut pairs = Vec::new();
    for pat in args.rest() {
        let pat = lossy(pat);
        if !pat.contains(['[', '*', '?']) {
            if let Some(d) = lookup(&pat) {
                if seen.insert(pat.to_ascii_lowercase()) {
                    let value = config.get(d.name).unwrap_or_default();
                    pairs.push((Frame::bulk(pat), Frame::bulk(value)));
                }
            }
            continue;
        }
        for (name, value) in config.get_matching(&pat) {
            if seen.insert(name.to_ascii_lowercase()) {
                pairs.push((Frame::bulk(name), Frame::bulk(value)));
            }
        }
    }
    Ok(Frame::Map(pairs))
}

/// `CONFIG SET parameter value [parameter value ...]` — all pairs or none.
fn cmd_config_set(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let rest = args.rest();
    // Past the arity check (at least one pair), an unpaired parameter is a syntax error.
    if !rest.len().is_multiple_of(2) {
        return Err(OpError::Syntax);
    }
    let owned: Vec<(String, String)> = rest
        .chunks(2)
        .map(|p| {
            (
                lossy(p.first().copied().unwrap_or_default()),
                lossy(p.get(1).copied().unwrap_or_default()),
            )
        })
        .collect();
    let pairs: Vec<(&str, &str)> = owned
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    ctx.engine
        .config
        .write()
        .config_set(&pairs)
        .map_err(OpError::msg)?;
    ctx.engine.config_applied();
    Ok(Frame::OK)
}

/// `CONFIG RESETSTAT` — zeroes the INFO stats counters and commandstats.
fn cmd_config_resetstat(ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    ctx.engine.reset_stats();
    Ok(Frame::OK)
}

/// `CONFIG REWRITE` — rewrites the file the server started with so that it holds the running
/// configuration: lines of known directives are replaced in place (comments and unknown lines
/// kept), directives that differ from their defaults and were not in the file are appended.
fn cmd_config_rewrite(ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    let config = ctx.engine.config.read().clone();
    let Some(path) = config.config_file.clone() else {
        return Err(OpError::err("The server is running without a config file"));
    };
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    let text = rewrite_text(&config, &old);
    let tmp = format!("{path}.tmp-{}", std::process::id());
    let written = std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, &path));
    match written {
        Ok(()) => Ok(Frame::OK),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(OpError::msg(format!("Rewriting config file: {e}")))
        }
    }
}

/// A directive's current value as config-file words (quoted where needed).
fn conf_line(config: &Config, name: &str) -> Option<String> {
    let d = lookup(name)?;
    let value = config.get(d.name)?;
    let words = if d.flags & MULTI_ARG != 0 && !value.is_empty() {
        value
    } else {
        quote(&value)
    };
    Some(format!("{} {}", d.name, words))
}

fn quote(v: &str) -> String {
    let plain = !v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\'' && b != b'\\');
    if plain {
        return v.to_string();
    }
    let mut out = String::from("\"");
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn rewrite_text(config: &Config, old: &str) -> String {
    let defaults = Config::default();
    let mut written = std::collections::HashSet::new();
    let mut out = String::new();
    for line in old.lines() {
        let t = line.trim();
        let name = t.split_whitespace().next().unwrap_or("");
        let known = !t.starts_with('#') && !name.is_empty() && lookup(name).is_some();
        if !known {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let Some(d) = lookup(name) else { continue };
        // The first line of a directive carries its value; repeats (several `save`s) go.
        if written.insert(d.name) {
            if let Some(l) = conf_line(config, d.name) {
                out.push_str(&l);
                out.push('\n');
            }
        }
    }
    let mut header = false;
    for d in DIRECTIVES {
        if written.contains(d.name) || config.get(d.name) == defaults.get(d.name) {
            continue;
        }
        if !header {
            out.push_str("# Generated by CONFIG REWRITE\n");
            header = true;
        }
        if let Some(l) = conf_line(config, d.name) {
            out.push_str(&l);
            out.push('\n');
        }
    }
    out
}

const CONFIG_HELP: &[&str] = &[
    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
    "HELP",
    "    Prints this help.",
];

/// `CONFIG HELP`
fn cmd_config_help(_ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    Ok(help_reply(CONFIG_HELP))
}

/// The CONFIG container's handler is never called (the dispatcher picks a subcommand).
fn cmd_config(_ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    Err(OpError::Arity("config".into()))
}

/// `SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]` — stops every network server serving this
/// engine; no reply is sent on success (the connection just closes, as with Redis).
///
/// SAVE always writes the dump file first, NOSAVE never, neither only when save points are
/// configured (as Redis). The save happens here, before the stop, so that a failure can abort
/// the shutdown with Redis's error (`ERR Errors trying to SHUTDOWN. Check logs.`); FORCE goes
/// on regardless. NOW only matters with lagging replicas, which cannot exist yet. Nothing is
/// ever "in progress" (the stop is immediate), so ABORT always answers
/// `ERR No shutdown in progress.`.
fn cmd_shutdown(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let mut req = ShutdownRequest::default();
    let mut abort = false;
    while !args.is_empty() {
        let a = args.next_bytes()?.to_ascii_lowercase();
        match a.as_slice() {
            b"nosave" if req.save != Some(true) => req.save = Some(false),
            b"save" if req.save != Some(false) => req.save = Some(true),
            b"now" => req.now = true,
            b"force" => req.force = true,
            b"abort" => abort = true,
            _ => return Err(OpError::Syntax),
        }
    }
    if abort {
        if req != ShutdownRequest::default() {
            return Err(OpError::Syntax);
        }
        return Err(OpError::err("No shutdown in progress."));
    }
    if ctx.engine.servers.load(Ordering::SeqCst) == 0 {
        return Err(OpError::err(
            "SHUTDOWN has no server to stop: this store is embedded and not serving",
        ));
    }
    if persistence::shutdown_saves(ctx.engine, req.save)
        && !persistence::save_before_shutdown(ctx.engine, req.force)
    {
        return Err(OpError::err("Errors trying to SHUTDOWN. Check logs."));
    }
    ctx.engine.request_shutdown(req);
    ctx.client.no_reply = true;
    ctx.client.close_after_reply = true;
    Ok(Frame::OK)
}

const CFG: u32 = ADMIN | NOSCRIPT | LOADING | STALE;

const CONFIG_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("config|get", -3, CFG, NO_KEYS, cmd_config_get).doc(
        "server",
        "2.0.0",
        "Returns the effective values of configuration parameters.",
    ),
    CommandSpec::new("config|set", -4, CFG, NO_KEYS, cmd_config_set).doc(
        "server",
        "2.0.0",
        "Sets configuration parameters in-flight.",
    ),
    CommandSpec::new("config|resetstat", 2, CFG, NO_KEYS, cmd_config_resetstat).doc(
        "server",
        "2.0.0",
        "Resets the server's statistics.",
    ),
    CommandSpec::new("config|rewrite", 2, CFG, NO_KEYS, cmd_config_rewrite).doc(
        "server",
        "2.8.0",
        "Persists the effective configuration to file.",
    ),
    CommandSpec::new("config|help", 2, LOADING | STALE, NO_KEYS, cmd_config_help).doc(
        "server",
        "5.0.0",
        "Returns helpful text about the different subcommands.",
    ),
];

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("config", -2, 0, NO_KEYS, cmd_config)
        .subcommands(CONFIG_SUBCOMMANDS)
        .doc(
            "server",
            "2.0.0",
            "A container for server configuration commands.",
        ),
    CommandSpec::new(
        "shutdown",
        -1,
        CFG | NO_MULTI | ALLOW_BUSY,
        NO_KEYS,
        cmd_shutdown,
    )
    .doc(
        "server",
        "1.0.0",
        "Synchronously saves the database(s) to disk and shuts down the Redis server.",
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use fastkv_resp::Frame;
    use std::sync::atomic::Ordering;

    #[test]
    fn config_get() {
        let mut s = Session::new();
        assert_eq!(
            s.run(&["CONFIG", "GET", "save"]),
            Frame::Map(vec![(bulk("save"), bulk("3600 1 300 100 60 10000"))])
        );
        assert_eq!(
            s.run(&["CONFIG", "GET", "appendonly", "APPENDONLY", "nonexist"]),
            Frame::Map(vec![(bulk("appendonly"), bulk("no"))])
        );
        assert_eq!(s.run(&["CONFIG", "GET", "nonexist"]), Frame::Map(vec![]));
        // Without glob characters: the name as given (Redis 7.0).
        assert_eq!(
            s.run(&["CONFIG", "GET", "MAXMEMORY", "maxmemory"]),
            Frame::Map(vec![(bulk("MAXMEMORY"), bulk("0"))])
        );
        assert_eq!(
            s.run(&["CONFIG", "GET"]),
            err("ERR wrong number of arguments for 'config|get' command")
        );
        match s.run(&["CONFIG", "GET", "*"]) {
            Frame::Map(pairs) => assert!(pairs.len() > 60),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn config_set() {
        let mut s = Session::new();
        assert_eq!(
            s.run(&["CONFIG", "SET", "hz", "20", "proto-max-bulk-len", "10mb"]),
            Frame::OK
        );
        assert_eq!(s.engine.config.read().hz, 20);
        assert_eq!(
            s.run(&["CONFIG", "GET", "proto-max-bulk-len"]),
            Frame::Map(vec![(bulk("proto-max-bulk-len"), bulk("10485760"))])
        );
        // maxmemory is enforced (see crate::evict).
        assert_eq!(s.run(&["CONFIG", "SET", "maxmemory", "10mb"]), Frame::OK);
        assert_eq!(s.run(&["CONFIG", "SET", "maxmemory", "0"]), Frame::OK);
        assert_eq!(
            s.run(&["CONFIG", "SET", "foo", "1"]),
            err("ERR Unknown option or number of arguments for CONFIG SET - 'foo'")
        );
        assert_eq!(
            s.run(&["CONFIG", "SET", "port", "70000"]),
            err("ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config")
        );
        assert_eq!(
            s.run(&["CONFIG", "SET", "hz", "5", "maxmemory", "1xb"]),
            err("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value")
        );
        assert_eq!(s.engine.config.read().hz, 20, "atomic");
        assert_eq!(
            s.run(&["CONFIG", "SET", "hz", "5", "maxmemory"]),
            err("ERR syntax error")
        );
        assert_eq!(
            s.run(&["CONFIG", "SET", "hz"]),
            err("ERR wrong number of arguments for 'config|set' command")
        );
        assert_eq!(s.run(&["CONFIG", "SET", "save", ""]), Frame::OK);
        assert_eq!(
            s.run(&["CONFIG", "GET", "save"]),
            Frame::Map(vec![(bulk("save"), bulk(""))])
        );
        assert_eq!(
            s.run(&["CONFIG", "FOO"]),
            err("ERR unknown subcommand 'FOO'. Try CONFIG HELP.")
        );
        assert!(matches!(s.run(&["CONFIG", "HELP"]), Frame::Array(l) if l.len() == 11));
        assert_eq!(
            s.run(&["CONFIG", "REWRITE"]),
            err("ERR The server is running without a config file")
        );
    }

    #[test]
    fn resetstat() {
        let mut s = Session::new();
        s.run(&["PING"]);
        assert!(s.engine.stats.commands_processed.load(Ordering::Relaxed) > 0);
        assert_eq!(s.run(&["CONFIG", "RESETSTAT"]), Frame::OK);
        assert!(s.engine.stats.commands_processed.load(Ordering::Relaxed) <= 1);
    }

    #[test]
    fn resetstat_clears_commandstats() {
        let mut s = Session::new();
        s.run(&["SET", "a", "1"]);
        s.run(&["GET", "a"]);
        let text = |s: &mut Session| match s.run(&["INFO", "commandstats"]) {
            Frame::Bulk(b) | Frame::Verbatim { text: b, .. } => {
                String::from_utf8_lossy(&b).into_owned()
            }
            other => panic!("{other:?}"),
        };
        assert!(text(&mut s).contains("cmdstat_get:calls=1,"));
        assert_eq!(s.run(&["CONFIG", "RESETSTAT"]), Frame::OK);
        // As in Redis: only the RESETSTAT itself is left, counted after the reset.
        let after = text(&mut s);
        assert!(!after.contains("cmdstat_get:"), "{after}");
        assert!(!after.contains("cmdstat_set:"), "{after}");
        assert!(
            after.contains("cmdstat_config|resetstat:calls=1,"),
            "{after}"
        );
    }

    #[test]
    fn rewrite_keeps_comments_and_replaces_values() {
        let mut c = crate::Config::default();
        let _ = c.set_directive("port", "7000");
        let _ = c.set_directive("save", "900 1");
        let _ = c.set_directive("logfile", "my log");
        let text = super::rewrite_text(&c, "# top\nport 6379\nsave 1 1\nsave 2 2\nfoo bar\n");
        assert_eq!(
            text,
            "# top\nport 7000\nsave 900 1\nfoo bar\n# Generated by CONFIG REWRITE\nlogfile \"my log\"\n"
        );
        let back = crate::config::Config::from_file_and_args(None, &[])
            .map(|mut b| {
                for line in text
                    .lines()
                    .filter(|l| !l.starts_with('#') && !l.starts_with("foo"))
                {
                    let (n, v) = line.split_once(' ').unwrap_or((line, ""));
                    let v = v.trim_matches('"');
                    let _ = b.set_directive(n, v);
                }
                b
            })
            .unwrap_or_default();
        assert_eq!(back.port, 7000);
        assert_eq!(back.logfile, "my log");
    }

    #[test]
    fn shutdown_arguments() {
        let mut s = Session::new();
        assert_eq!(
            s.run(&["SHUTDOWN", "ABORT"]),
            err("ERR No shutdown in progress.")
        );
        assert_eq!(s.run(&["SHUTDOWN", "foo"]), err("ERR syntax error"));
        assert_eq!(
            s.run(&["SHUTDOWN", "SAVE", "NOSAVE"]),
            err("ERR syntax error")
        );
        assert_eq!(
            s.run(&["SHUTDOWN", "NOSAVE", "ABORT"]),
            err("ERR syntax error")
        );
        assert!(s.run(&["SHUTDOWN"]).is_error(), "no server to stop");
        s.engine.servers.store(1, Ordering::SeqCst);
        assert_eq!(s.run(&["SHUTDOWN", "NOSAVE", "NOW"]), Frame::OK);
        assert!(s.engine.shutdown.is_fired());
        assert!(s.client.no_reply && s.client.close_after_reply);
        assert_eq!(
            *s.engine.shutdown_request.lock(),
            Some(crate::engine::ShutdownRequest {
                save: Some(false),
                now: true,
                force: false
            })
        );
    }
}
