//! Scripting commands: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT. The Lua side (the
//! state, sandbox, `redis.*` API, conversions, busy scripts) lives in [`crate::scripting`].
//!
//! EVAL rows are [`LOCKS_ITSELF`]: the dispatcher locks no shard for them; the script takes
//! every shard for its whole run (a script may touch keys it did not declare, as job-queue
//! libraries do).

use crate::command::{
    Args, CommandSpec, ACL_SCRIPTING, ALLOW_BUSY, LOADING, LOCKS_ITSELF, NOSCRIPT, NO_KEYS,
    READONLY, SKIP_MONITOR, STALE,
};
use crate::dispatch::Ctx;
use crate::error::OpError;
use crate::scripting::{parse_shebang, Invocation, Kind, FLAG_NO_WRITES};
use fastkv_resp::Frame;

/// EVAL script numkeys [key ...] [arg ...]
///
/// Runs `script`; it is cached under its SHA-1 for EVALSHA.
fn cmd_eval(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    eval_generic(ctx, args, false, false)
}

/// EVAL_RO script numkeys [key ...] [arg ...]
///
/// EVAL for scripts that only read: a write command from them is an error.
fn cmd_eval_ro(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    eval_generic(ctx, args, false, true)
}

/// EVALSHA sha1 numkeys [key ...] [arg ...]
///
/// Runs a cached script; `-NOSCRIPT` if it is not cached.
fn cmd_evalsha(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    eval_generic(ctx, args, true, false)
}

/// EVALSHA_RO sha1 numkeys [key ...] [arg ...]
fn cmd_evalsha_ro(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    eval_generic(ctx, args, true, true)
}

/// Splits `numkeys key... arg...` (after the script or function name), with Redis's errors.
/// Argument slices (keys, then args).
type Split<'a> = (&'a [&'a [u8]], &'a [&'a [u8]]);

pub(crate) fn keys_and_args<'a>(args: &mut Args<'a>) -> Result<Split<'a>, OpError> {
    let n = args.next_i64()?;
    let rest = args.rest();
    if n < 0 {
        return Err(OpError::err("Number of keys can't be negative"));
    }
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    if n > rest.len() {
        return Err(OpError::err(
            "Number of keys can't be greater than number of args",
        ));
    }
    Ok(rest.split_at(n))
}

fn eval_generic(
    ctx: &mut Ctx<'_, '_>,
    args: &mut Args<'_>,
    by_sha: bool,
    read_only: bool,
) -> Result<Frame, OpError> {
    let first = args.next_bytes()?;
    let (keys, argv) = keys_and_args(args)?;
    let scripting = &ctx.engine.scripting;
    let (sha, body) = if by_sha {
        let sha = String::from_utf8_lossy(first).to_ascii_lowercase();
        match scripting.cached(&sha) {
            Some(body) if sha.len() == 40 => (sha, body),
            _ => return Err(noscript()),
        }
    } else {
        let sha = scripting.cache_script(first);
        (sha, std::sync::Arc::from(first))
    };
    let flags = parse_shebang(&body)?;
    let inv = Invocation {
        name: &sha,
        kind: Kind::Eval,
        keys,
        args: argv,
        read_only: read_only || flags.is_some_and(|f| f & FLAG_NO_WRITES != 0),
        flags,
    };
    scripting.eval(ctx, &body, &inv)
}

fn noscript() -> OpError {
    OpError::raw("NOSCRIPT No matching script. Please use EVAL.")
}

/// EVAL-family key positions: `numkeys` keys after the script (COMMAND GETKEYS).
pub(crate) fn eval_keys(argv: &[&[u8]]) -> Vec<usize> {
    let Some(n) = argv
        .get(2)
        .and_then(|n| crate::command::parse_int(n).ok())
        .and_then(|n| usize::try_from(n).ok())
    else {
        return Vec::new();
    };
    (3..argv.len()).take(n).collect()
}

/// SCRIPT LOAD script
///
/// Caches a script (it must compile) and answers its SHA-1.
fn cmd_script_load(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let body = args.next_bytes()?;
    let scripting = &ctx.engine.scripting;
    parse_shebang(body)?;
    let sha = crate::scripting::sha1::sha1_hex(body);
    scripting.compile_check(&sha, &crate::scripting::strip_shebang(body))?;
    scripting.cache_script(body);
    Ok(Frame::bulk(sha))
}

/// SCRIPT EXISTS sha1 [sha1 ...]
///
/// An array of 1/0, one per SHA-1.
fn cmd_script_exists(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let scripting = &ctx.engine.scripting;
    Ok(Frame::Array(
        args.rest()
            .iter()
            .map(|s| {
                let sha = String::from_utf8_lossy(s);
                Frame::Integer(i64::from(scripting.cached(&sha).is_some()))
            })
            .collect(),
    ))
}

/// SCRIPT FLUSH [ASYNC|SYNC]
fn cmd_script_flush(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    if args.remaining() > 1 || (!args.is_empty() && !args.eat("ASYNC") && !args.eat("SYNC")) {
        return Err(OpError::err("SCRIPT FLUSH only support SYNC|ASYNC option"));
    }
    ctx.engine.scripting.flush_scripts();
    Ok(Frame::OK)
}

/// SCRIPT KILL
///
/// Stops the running script if it has not written: `-NOTBUSY` when none runs,
/// `-UNKILLABLE` when it wrote.
fn cmd_script_kill(ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    ctx.engine.scripting.running.kill(false)?;
    Ok(Frame::OK)
}

/// SCRIPT DEBUG YES|SYNC|NO
///
/// The Lua debugger is not available: only NO is accepted.
fn cmd_script_debug(_ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    if args.eat("NO") {
        return Ok(Frame::OK);
    }
    if args.eat("YES") || args.eat("SYNC") {
        return Err(OpError::err("SCRIPT DEBUG is not supported by fastkv"));
    }
    Err(OpError::err("Use SCRIPT DEBUG YES/SYNC/NO"))
}

const SCRIPT_HELP: &[&str] = &[
    "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
    "HELP",
    "    Prints this help.",
];

/// SCRIPT HELP
fn cmd_script_help(_ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    Ok(help(SCRIPT_HELP))
}

pub(crate) fn help(lines: &[&'static str]) -> Frame {
    Frame::Array(lines.iter().map(|l| Frame::simple(l)).collect())
}

/// Container rows answer only through their subcommands.
fn cmd_container(_ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    Err(OpError::Syntax)
}

const EVAL_FLAGS: u32 = NOSCRIPT | STALE | SKIP_MONITOR | LOCKS_ITSELF;

const SCRIPT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("script|debug", 3, NOSCRIPT, NO_KEYS, cmd_script_debug)
        .acl(ACL_SCRIPTING)
        .doc(
            "scripting",
            "3.2.0",
            "Sets the debug mode of server-side Lua scripts.",
        ),
    CommandSpec::new("script|exists", -3, NOSCRIPT, NO_KEYS, cmd_script_exists)
        .acl(ACL_SCRIPTING)
        .doc(
            "scripting",
            "2.6.0",
            "Determines whether server-side Lua scripts exist in the script cache.",
        ),
    CommandSpec::new("script|flush", -2, NOSCRIPT, NO_KEYS, cmd_script_flush)
        .acl(ACL_SCRIPTING)
        .doc(
            "scripting",
            "2.6.0",
            "Removes all server-side Lua scripts from the script cache.",
        ),
    CommandSpec::new("script|help", 2, LOADING | STALE, NO_KEYS, cmd_script_help)
        .acl(ACL_SCRIPTING)
        .doc(
            "scripting",
            "5.0.0",
            "Returns helpful text about the different subcommands.",
        ),
    CommandSpec::new(
        "script|kill",
        2,
        NOSCRIPT | ALLOW_BUSY,
        NO_KEYS,
        cmd_script_kill,
    )
    .acl(ACL_SCRIPTING)
    .doc(
        "scripting",
        "2.6.0",
        "Terminates a server-side Lua script during execution.",
    ),
    CommandSpec::new("script|load", 3, NOSCRIPT | STALE, NO_KEYS, cmd_script_load)
        .acl(ACL_SCRIPTING)
        .doc(
            "scripting",
            "2.6.0",
            "Loads a server-side Lua script to the script cache.",
        ),
];

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("eval", -3, EVAL_FLAGS, NO_KEYS, cmd_eval)
        .keys_fn(eval_keys)
        .doc("scripting", "2.6.0", "Executes a server-side Lua script."),
    CommandSpec::new("evalsha", -3, EVAL_FLAGS, NO_KEYS, cmd_evalsha)
        .keys_fn(eval_keys)
        .doc(
            "scripting",
            "2.6.0",
            "Executes a server-side Lua script by SHA1 digest.",
        ),
    CommandSpec::new("eval_ro", -3, EVAL_FLAGS | READONLY, NO_KEYS, cmd_eval_ro)
        .keys_fn(eval_keys)
        .doc(
            "scripting",
            "7.0.0",
            "Executes a read-only server-side Lua script.",
        ),
    CommandSpec::new(
        "evalsha_ro",
        -3,
        EVAL_FLAGS | READONLY,
        NO_KEYS,
        cmd_evalsha_ro,
    )
    .keys_fn(eval_keys)
    .doc(
        "scripting",
        "7.0.0",
        "Executes a read-only server-side Lua script by SHA1 digest.",
    ),
    CommandSpec::new("script", -2, 0, NO_KEYS, cmd_container)
        .subcommands(SCRIPT_SUBCOMMANDS)
        .doc(
            "scripting",
            "2.6.0",
            "A container for Lua scripts management commands.",
        ),
];

#[cfg(test)]
mod tests {
    use crate::testing::{bulk, err, int, Session};
    use crate::Frame;

    #[test]
    fn eval_basics_and_conversions() {
        let mut s = Session::new();
        assert_eq!(s.run(&["EVAL", "return 1", "0"]), int(1));
        assert_eq!(s.run(&["EVAL", "return 3.99", "0"]), int(3));
        assert_eq!(s.run(&["EVAL", "return -3.7", "0"]), int(-3));
        assert_eq!(s.run(&["EVAL", "return false", "0"]), Frame::Null);
        assert_eq!(s.run(&["EVAL", "return true", "0"]), int(1));
        assert_eq!(
            s.run(&["EVAL", "return {1,2,nil,4}", "0"]),
            Frame::Array(vec![int(1), int(2)])
        );
        assert_eq!(
            s.run(&["EVAL", "return {ok='fine'}", "0"]),
            Frame::simple("fine")
        );
        assert_eq!(
            s.run(&["EVAL", "return {err='bad thing'}", "0"]),
            err("bad thing")
        );
        assert_eq!(
            s.run(&["EVAL", "return KEYS[1]..ARGV[1]", "1", "k", "a"]),
            bulk("ka")
        );
        assert_eq!(
            s.run(&[
                "EVAL",
                "redis.call('set', KEYS[1], 'v') return redis.call('get', KEYS[1])",
                "1",
                "k"
            ]),
            bulk("v")
        );
        assert_eq!(s.run(&["GET", "k"]), bulk("v"));
        // Keys not declared in KEYS are reachable too.
        assert_eq!(
            s.run(&["EVAL", "return redis.call('get', 'k')", "0"]),
            bulk("v")
        );
        assert_eq!(
            s.run(&["EVAL", "redis.setresp(3) return true", "0"]),
            Frame::Boolean(true)
        );
        assert_eq!(
            s.run(&["EVAL", "return {double=3.5}", "0"]),
            Frame::Double(3.5)
        );
    }

    #[test]
    fn error_texts() {
        let mut s = Session::new();
        assert_eq!(
            s.run(&["EVAL", "return x", "0"]),
            err("ERR user_script:1: Script attempted to access nonexistent global variable 'x' script: 03c387736bb5cc009ff35151572cee04677aa374, on @user_script:1.")
        );
        assert_eq!(
            s.run(&["EVAL", "return redis.call('get')", "0"]),
            err("ERR Wrong number of args calling Redis command from script script: f187dee77f607f7cff00bbabc9df38507582c78d, on @user_script:1.")
        );
        assert_eq!(
            s.run(&["EVAL", "return redis.pcall('get')", "0"]),
            err("ERR Wrong number of args calling Redis command from script")
        );
        assert_eq!(
            s.run(&["EVAL", "return 1 +", "0"]),
            err("ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'")
        );
        assert_eq!(
            s.run(&["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"]),
            err("NOSCRIPT No matching script. Please use EVAL.")
        );
        assert_eq!(
            s.run(&["EVAL", "x = 1", "0"]),
            err("ERR user_script:1: Attempt to modify a readonly table script: 34bce5f775de97f557a34088509c8bfe1ea17e52, on @user_script:1.")
        );
        assert_eq!(
            s.run(&["EVAL_RO", "return redis.call('set','a','b')", "0"]),
            err("ERR Write commands are not allowed from read-only scripts. script: ff967d0ae0e68b4f9e360fa91c54598bc25ad9b6, on @user_script:1.")
        );
        assert_eq!(
            s.run(&["EVAL", "error('boom')", "0"]),
            err("ERR user_script:1: boom script: 82903a0434f1503e152f89c03c9acd881a0e8150, on @user_script:1.")
        );
    }

    #[test]
    fn eval_under_a_held_atomic_reuses_its_locks() {
        // EXEC runs queued commands through `Atomic::execute`, holding every shard: a script
        // there must run under that hold instead of locking again (which would deadlock).
        let mut s = Session::new();
        let engine = s.engine.clone();
        let mut at = engine.atomic();
        let argv: Vec<&[u8]> = vec![
            b"EVAL",
            b"redis.call('set','a','1') return redis.call('incr','a')",
            b"0",
        ];
        assert_eq!(at.execute(&mut s.client, &argv), int(2));
        let get: Vec<&[u8]> = vec![b"GET", b"a"];
        assert_eq!(at.execute(&mut s.client, &get), bulk("2"));
        drop(at);
        assert_eq!(s.run(&["GET", "a"]), bulk("2"));
    }

    #[test]
    fn script_cache() {
        let mut s = Session::new();
        let sha = "e0e1f9fabfc9d4800c877a703b823ac0578ff8db";
        assert_eq!(s.run(&["SCRIPT", "LOAD", "return 1"]), bulk(sha));
        assert_eq!(
            s.run(&["SCRIPT", "EXISTS", sha, "nope"]),
            Frame::Array(vec![int(1), int(0)])
        );
        assert_eq!(s.run(&["EVALSHA", sha, "0"]), int(1));
        assert_eq!(s.run(&["SCRIPT", "FLUSH"]), Frame::OK);
        assert_eq!(
            s.run(&["EVALSHA", sha, "0"]),
            err("NOSCRIPT No matching script. Please use EVAL.")
        );
        assert_eq!(
            s.run(&["SCRIPT", "KILL"]),
            err("NOTBUSY No scripts in execution right now.")
        );
    }

    #[test]
    fn maxmemory_applies_to_scripts_as_in_redis() {
        const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";
        let mut s = Session::new();
        s.run(&["SET", "k", "v"]);
        assert_eq!(s.run(&["CONFIG", "SET", "maxmemory", "1"]), Frame::OK);
        // No shebang: reads run; the first denyoom call before any write is refused.
        assert_eq!(
            s.run(&["EVAL", "return redis.call('get', 'k')", "0"]),
            bulk("v")
        );
        assert_eq!(
            s.run(&["EVAL", "return redis.pcall('set', 'k', 'w')", "0"]),
            err(OOM)
        );
        // After a write (DEL is not denyoom) the script may go on.
        assert_eq!(
            s.run(&[
                "EVAL",
                "redis.call('del', 'x'); return redis.call('set', 'k', 'w')",
                "0"
            ]),
            Frame::OK
        );
        // Declared flags: refused whole unless allow-oom or no-writes.
        assert_eq!(s.run(&["EVAL", "#!lua\nreturn 1", "0"]), err(OOM));
        assert_eq!(
            s.run(&["EVAL", "#!lua flags=no-writes\nreturn 1", "0"]),
            int(1)
        );
        assert_eq!(
            s.run(&[
                "EVAL",
                "#!lua flags=allow-oom\nreturn redis.call('set', 'k', 'x')",
                "0"
            ]),
            Frame::OK
        );
        assert_eq!(s.run(&["CONFIG", "SET", "maxmemory", "0"]), Frame::OK);
        assert_eq!(s.run(&["GET", "k"]), bulk("x"));
    }
}
