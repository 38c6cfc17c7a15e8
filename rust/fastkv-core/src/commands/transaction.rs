//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! Queuing happens in the dispatcher (`prepare` calls [`queue`] for a client in MULTI): a
//! command that would be refused (unknown, wrong arity, `no-multi`) gets its error now and
//! makes EXEC answer EXECABORT; any other is queued and answered `+QUEUED`. EXEC is a
//! `LOCKS_ITSELF` row: it takes every shard lock through [`crate::Engine::atomic`], checks
//! the client's WATCHes under that hold, and runs the queue with blocking commands answering
//! their timeout reply at once, as Redis runs them. See [`crate::watch`] for WATCH.

use crate::client::Client;
use crate::command::{
    Args, CommandSpec, ALLOW_BUSY, FAST, LOADING, LOCKS_ITSELF, NOSCRIPT, NO_KEYS, NO_MULTI,
    SKIP_SLOWLOG, STALE,
};
use crate::dispatch::Ctx;
use crate::error::OpError;
use fastkv_resp::Frame;

/// The commands a client in MULTI runs at once instead of queuing (Redis's list).
fn runs_in_multi(spec: &CommandSpec) -> bool {
    matches!(
        spec.name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

/// Called by the dispatcher for a client in MULTI, once the command's row is found and its
/// arity checked: `Some(reply)` if the command is queued (`+QUEUED`) or refused; `None` if
/// it runs now (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET).
pub(crate) fn queue(
    client: &mut Client,
    spec: &'static CommandSpec,
    argv: &[&[u8]],
) -> Option<Frame> {
    if runs_in_multi(spec) {
        return None;
    }
    if spec.has(NO_MULTI) {
        client.tx.flag_error();
        return Some(Frame::error("ERR Command not allowed inside a transaction"));
    }
    client.tx.queue(argv);
    // CLIENT LIST `cmd=` shows a queued command, as in Redis.
    client.last_cmd = spec.name;
    Some(Frame::simple("QUEUED"))
}

/// `MULTI` — OK; later commands are queued until EXEC or DISCARD.
fn cmd_multi(ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    if !ctx.client.tx.begin() {
        return Err(OpError::err("MULTI calls can not be nested"));
    }
    Ok(Frame::OK)
}

/// EXEC's reply when memory is over `maxmemory`, nothing can be evicted and a queued command
/// is `denyoom` (the dispatcher refuses it; the transaction is discarded).
pub(crate) const EXECABORT_OOM: &str = "EXECABORT Transaction discarded because of: OOM command \
                                        not allowed when used memory > 'maxmemory'.";

/// `EXEC` — the array of the queued commands' replies (errors in place); a null array if a
/// WATCHed key changed; EXECABORT if a command was refused while queuing.
fn cmd_exec(ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    let Some(multi) = ctx.client.tx.take_multi() else {
        return Err(OpError::err("EXEC without MULTI"));
    };
    if multi.aborted {
        ctx.client.tx.unwatch();
        return Err(OpError::raw(
            "EXECABORT Transaction discarded because of previous errors.",
        ));
    }
    if ctx.ks.holds_all() {
        // Run under locks already held (a script's call): taking them again would deadlock.
        ctx.client.tx.unwatch();
        return Err(OpError::err(
            "This Redis command is not allowed from script",
        ));
    }
    let engine = ctx.engine;
    let mut at = engine.atomic();
    // Under the hold of every shard: no write can come between this check and the queue.
    if ctx.client.tx.watch_broken(ctx.now) {
        ctx.client.tx.unwatch();
        return Ok(Frame::NullArray);
    }
    ctx.client.tx.unwatch();
    let client = &mut *ctx.client;
    let no_block = std::mem::replace(&mut client.no_block, true);
    let mut replies = Vec::with_capacity(multi.queue.len());
    for cmd in &multi.queue {
        let argv: Vec<&[u8]> = cmd.iter().map(Vec::as_slice).collect();
        replies.push(at.execute(client, &argv));
    }
    client.no_block = no_block;
    // Releases the locks, then serves clients blocked on keys the queue filled.
    drop(at);
    Ok(Frame::Array(replies))
}

/// `DISCARD` — OK; drops the queue and unwatches every key.
fn cmd_discard(ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    if ctx.client.tx.take_multi().is_none() {
        return Err(OpError::err("DISCARD without MULTI"));
    }
    ctx.client.tx.unwatch();
    Ok(Frame::OK)
}

/// `WATCH key [key ...]` — OK; EXEC will fail if any of the keys changes before it.
fn cmd_watch(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    if ctx.client.tx.in_multi() {
        return Err(OpError::err("WATCH inside MULTI is not allowed"));
    }
    for key in args.rest() {
        crate::watch::watch_key(ctx, key);
    }
    Ok(Frame::OK)
}

/// `UNWATCH` — OK; forgets every watched key.
fn cmd_unwatch(ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    ctx.client.tx.unwatch();
    Ok(Frame::OK)
}

const TX: u32 = NOSCRIPT | LOADING | STALE;

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("multi", 1, TX | FAST | ALLOW_BUSY, NO_KEYS, cmd_multi).doc(
        "transactions",
        "1.2.0",
        "Mark the start of a transaction block",
    ),
    CommandSpec::new(
        "exec",
        1,
        TX | SKIP_SLOWLOG | LOCKS_ITSELF,
        NO_KEYS,
        cmd_exec,
    )
    .doc(
        "transactions",
        "1.2.0",
        "Execute all commands issued after MULTI",
    ),
    CommandSpec::new("discard", 1, TX | FAST | ALLOW_BUSY, NO_KEYS, cmd_discard).doc(
        "transactions",
        "2.0.0",
        "Discard all commands issued after MULTI",
    ),
    CommandSpec::new(
        "watch",
        -2,
        TX | FAST | ALLOW_BUSY,
        crate::command::ALL_ARGS,
        cmd_watch,
    )
    .doc(
        "transactions",
        "2.2.0",
        "Watch the given keys to determine execution of the MULTI/EXEC block",
    ),
    CommandSpec::new("unwatch", 1, TX | FAST | ALLOW_BUSY, NO_KEYS, cmd_unwatch).doc(
        "transactions",
        "2.2.0",
        "Forget about all watched keys",
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::{bulk, err, int, Session};
    use crate::{Client, Frame};

    fn run(s: &Session, c: &mut Client, argv: &[&str]) -> Frame {
        let args: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
        s.engine.execute(c, &args)
    }

    fn queued() -> Frame {
        Frame::simple("QUEUED")
    }

    const EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";

    #[test]
    fn exec_under_oom_is_refused_when_a_queued_command_may_grow_memory() {
        let mut s = Session::new();
        let mut admin = s.engine.new_client();
        let mut limit = |engine: &crate::Engine, v: &str| {
            let argv: [&[u8]; 4] = [b"CONFIG", b"SET", b"maxmemory", v.as_bytes()];
            assert_eq!(engine.execute(&mut admin, &argv), Frame::OK);
        };
        s.run(&["SET", "k", "v"]);
        // Only reads queued: EXEC runs them.
        assert_eq!(s.run(&["MULTI"]), Frame::OK);
        assert_eq!(s.run(&["GET", "k"]), queued());
        limit(&s.engine, "1");
        assert_eq!(s.run(&["EXEC"]), Frame::Array(vec![bulk("v")]));
        limit(&s.engine, "0");
        // A write queued: EXEC is refused and the transaction discarded.
        assert_eq!(s.run(&["MULTI"]), Frame::OK);
        assert_eq!(s.run(&["SET", "k", "w"]), queued());
        limit(&s.engine, "1");
        assert_eq!(s.run(&["EXEC"]), err(super::EXECABORT_OOM));
        assert_eq!(s.run(&["EXEC"]), err("ERR EXEC without MULTI"));
        limit(&s.engine, "0");
        assert_eq!(s.run(&["GET", "k"]), bulk("v"));
        assert!(super::EXECABORT_OOM.ends_with(crate::evict::OOM_ERROR));
    }

    #[test]
    fn multi_exec_runs_the_queue_with_errors_in_place() {
        let mut s = Session::new();
        assert_eq!(s.run(&["MULTI"]), Frame::OK);
        assert_eq!(s.run(&["SET", "k", "v"]), queued());
        assert_eq!(s.run(&["LPUSH", "k", "x"]), queued());
        assert_eq!(s.run(&["APPEND", "k", "w"]), queued());
        assert_eq!(
            s.run(&["EXEC"]),
            Frame::Array(vec![
                Frame::OK,
                err("WRONGTYPE Operation against a key holding the wrong kind of value"),
                int(2),
            ])
        );
        assert_eq!(s.run(&["GET", "k"]), bulk("vw"));
        assert_eq!(s.run(&["MULTI"]), Frame::OK);
        assert_eq!(s.run(&["EXEC"]), Frame::Array(vec![]));
    }

    #[test]
    fn control_errors() {
        let mut s = Session::new();
        assert_eq!(s.run(&["EXEC"]), err("ERR EXEC without MULTI"));
        assert_eq!(s.run(&["DISCARD"]), err("ERR DISCARD without MULTI"));
        assert_eq!(s.run(&["MULTI"]), Frame::OK);
        assert_eq!(s.run(&["MULTI"]), err("ERR MULTI calls can not be nested"));
        assert_eq!(
            s.run(&["WATCH", "k"]),
            err("ERR WATCH inside MULTI is not allowed")
        );
        assert_eq!(s.run(&["SET", "k", "1"]), queued());
        // Neither error aborts the transaction.
        assert_eq!(s.run(&["EXEC"]), Frame::Array(vec![Frame::OK]));
        assert_eq!(s.run(&["MULTI"]), Frame::OK);
        assert_eq!(s.run(&["SET", "k", "2"]), queued());
        assert_eq!(s.run(&["DISCARD"]), Frame::OK);
        assert_eq!(s.run(&["GET", "k"]), bulk("1"));
    }

    #[test]
    fn refused_commands_abort_exec() {
        let mut s = Session::new();
        for bad in [
            &["NOSUCH", "a"][..],
            &["GET"][..],
            &["CLIENT", "NOSUCH"][..],
            &["SAVE"][..],
        ] {
            assert_eq!(s.run(&["MULTI"]), Frame::OK);
            assert_eq!(s.run(&["SET", "k", "v"]), queued());
            let reply = s.run(bad);
            assert!(matches!(reply, Frame::Error(_)), "{bad:?}: {reply:?}");
            assert_eq!(s.run(&["EXEC"]), err(EXECABORT));
            assert_eq!(s.run(&["EXISTS", "k"]), int(0));
        }
        assert_eq!(s.run(&["MULTI"]), Frame::OK);
        assert_eq!(
            s.run(&["SAVE"]),
            err("ERR Command not allowed inside a transaction")
        );
        assert_eq!(s.run(&["DISCARD"]), Frame::OK);
    }

    #[test]
    fn blocking_commands_answer_at_once() {
        let mut s = Session::new();
        assert_eq!(s.run(&["MULTI"]), Frame::OK);
        assert_eq!(s.run(&["BLPOP", "nolist", "0"]), queued());
        assert_eq!(s.run(&["RPUSH", "l", "a"]), queued());
        assert_eq!(s.run(&["BLPOP", "l", "0"]), queued());
        assert_eq!(
            s.run(&["EXEC"]),
            Frame::Array(vec![
                Frame::NullArray,
                int(1),
                Frame::Array(vec![bulk("l"), bulk("a")]),
            ])
        );
        assert!(!s.client.no_block);
    }

    #[test]
    fn watch_race_with_another_client() {
        let mut s = Session::new();
        let mut b = s.engine.new_client();
        assert_eq!(s.run(&["WATCH", "k"]), Frame::OK);
        assert_eq!(run(&s, &mut b, &["SET", "k", "other"]), Frame::OK);
        assert_eq!(s.run(&["MULTI"]), Frame::OK);
        assert_eq!(s.run(&["SET", "k", "mine"]), queued());
        assert_eq!(s.run(&["EXEC"]), Frame::NullArray);
        assert_eq!(s.run(&["GET", "k"]), bulk("other"));
        // EXEC unwatched: the next transaction runs.
        assert_eq!(run(&s, &mut b, &["SET", "k", "again"]), Frame::OK);
        assert_eq!(s.run(&["MULTI"]), Frame::OK);
        assert_eq!(s.run(&["SET", "k", "mine"]), queued());
        assert_eq!(s.run(&["EXEC"]), Frame::Array(vec![Frame::OK]));
        assert!(s.engine.watches.is_empty());
    }

    #[test]
    fn writes_that_change_nothing_do_not_touch() {
        let mut s = Session::new();
        let mut b = s.engine.new_client();
        s.run(&["SET", "k", "1"]);
        s.run(&["SADD", "src", "a"]);
        assert_eq!(s.run(&["WATCH", "k", "missing", "src"]), Frame::OK);
        run(&s, &mut b, &["SET", "k", "2", "NX"]);
        run(&s, &mut b, &["SET", "other", "2"]);
        run(&s, &mut b, &["GET", "k"]);
        run(&s, &mut b, &["DEL", "missing", "other"]);
        run(&s, &mut b, &["SINTERSTORE", "dst", "src"]);
        run(&s, &mut b, &["SREM", "src", "nope"]);
        run(&s, &mut b, &["WATCH", "k"]);
        run(&s, &mut b, &["UNWATCH"]);
        // Another database.
        run(&s, &mut b, &["SELECT", "1"]);
        run(&s, &mut b, &["SET", "k", "x"]);
        assert_eq!(s.run(&["MULTI"]), Frame::OK);
        assert_eq!(s.run(&["EXEC"]), Frame::Array(vec![]));
    }

    /// Runs `touch` from a second client between WATCH `key` and EXEC: whether EXEC aborted.
    fn aborts(setup: &[&[&str]], key: &str, touch: &[&str]) -> bool {
        let mut s = Session::new();
        let mut b = s.engine.new_client();
        for cmd in setup {
            s.run(cmd);
        }
        assert_eq!(s.run(&["WATCH", key]), Frame::OK);
        run(&s, &mut b, touch);
        assert_eq!(s.run(&["MULTI"]), Frame::OK);
        match s.run(&["EXEC"]) {
            Frame::NullArray => true,
            Frame::Array(_) => false,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_kind_of_write_touches() {
        let str_k: &[&[&str]] = &[&["SET", "k", "1"]];
        assert!(aborts(str_k, "k", &["DEL", "k"]));
        assert!(aborts(str_k, "k", &["INCR", "k"]));
        assert!(aborts(str_k, "k", &["APPEND", "k", "x"]));
        assert!(aborts(str_k, "k", &["EXPIRE", "k", "100"]));
        assert!(aborts(
            &[&["SET", "k", "1", "EX", "100"]],
            "k",
            &["PERSIST", "k"]
        ));
        assert!(aborts(str_k, "k", &["RENAME", "k", "j"]));
        assert!(aborts(str_k, "j", &["RENAME", "k", "j"]));
        assert!(aborts(str_k, "j", &["COPY", "k", "j"]));
        assert!(aborts(str_k, "k", &["MOVE", "k", "1"]));
        assert!(aborts(&[], "k", &["MSET", "a", "1", "k", "2"]));
        assert!(aborts(&[], "k", &["LPUSH", "k", "a"]));
        assert!(aborts(&[&["RPUSH", "k", "a"]], "k", &["LPOP", "k"]));
        assert!(aborts(
            &[&["RPUSH", "k", "a"]],
            "k",
            &["LMOVE", "k", "d", "LEFT", "LEFT"]
        ));
        assert!(aborts(
            &[&["RPUSH", "s", "a"]],
            "k",
            &["LMOVE", "s", "k", "LEFT", "LEFT"]
        ));
        assert!(aborts(&[], "k", &["HSET", "k", "f", "v"]));
        assert!(aborts(&[], "k", &["ZADD", "k", "1", "m"]));
        assert!(aborts(
            &[&["SADD", "s", "a"]],
            "k",
            &["SUNIONSTORE", "k", "s"]
        ));
        assert!(aborts(str_k, "k", &["FLUSHDB"]));
        assert!(aborts(str_k, "k", &["FLUSHALL"]));
        assert!(aborts(str_k, "k", &["SWAPDB", "0", "1"]));
        // Nothing to flush or swap: nothing changes for the watched key.
        assert!(!aborts(&[&["SET", "j", "1"]], "k", &["FLUSHDB"]));
        assert!(!aborts(&[&["SET", "j", "1"]], "k", &["SWAPDB", "0", "1"]));
        assert!(!aborts(str_k, "k", &["FLUSHDB"][..0]));
    }

    #[test]
    fn swapdb_touches_keys_existing_in_the_other_db() {
        let mut s = Session::new();
        let mut b = s.engine.new_client();
        run(&s, &mut b, &["SELECT", "1"]);
        run(&s, &mut b, &["SET", "k", "in1"]);
        assert_eq!(s.run(&["WATCH", "k"]), Frame::OK);
        run(&s, &mut b, &["SWAPDB", "0", "1"]);
        assert_eq!(s.run(&["MULTI"]), Frame::OK);
        assert_eq!(s.run(&["EXEC"]), Frame::NullArray);
    }

    #[test]
    fn own_write_before_multi_aborts() {
        let mut s = Session::new();
        assert_eq!(s.run(&["WATCH", "k"]), Frame::OK);
        assert_eq!(s.run(&["SET", "k", "1"]), Frame::OK);
        assert_eq!(s.run(&["MULTI"]), Frame::OK);
        assert_eq!(s.run(&["GET", "k"]), queued());
        assert_eq!(s.run(&["EXEC"]), Frame::NullArray);
        // UNWATCH forgets the change.
        assert_eq!(s.run(&["WATCH", "k"]), Frame::OK);
        assert_eq!(s.run(&["SET", "k", "2"]), Frame::OK);
        assert_eq!(s.run(&["UNWATCH"]), Frame::OK);
        assert_eq!(s.run(&["MULTI"]), Frame::OK);
        assert_eq!(s.run(&["EXEC"]), Frame::Array(vec![]));
    }

    #[test]
    fn expiry_between_watch_and_exec_aborts() {
        let mut s = Session::new();
        s.run(&["SET", "k", "v", "PX", "30"]);
        assert_eq!(s.run(&["WATCH", "k"]), Frame::OK);
        std::thread::sleep(std::time::Duration::from_millis(60));
        assert_eq!(s.run(&["MULTI"]), Frame::OK);
        assert_eq!(s.run(&["EXEC"]), Frame::NullArray);
        // Already expired at WATCH: no change.
        s.run(&["SET", "k", "v", "PX", "10"]);
        std::thread::sleep(std::time::Duration::from_millis(30));
        assert_eq!(s.run(&["WATCH", "k"]), Frame::OK);
        assert_eq!(s.run(&["MULTI"]), Frame::OK);
        assert_eq!(s.run(&["EXEC"]), Frame::Array(vec![]));
    }

    #[test]
    fn reset_and_drop_discard_and_unwatch() {
        let mut s = Session::new();
        let mut b = s.engine.new_client();
        assert_eq!(run(&s, &mut b, &["WATCH", "k", "j"]), Frame::OK);
        assert_eq!(run(&s, &mut b, &["MULTI"]), Frame::OK);
        assert_eq!(s.engine.watches.len(), 2);
        assert_eq!(run(&s, &mut b, &["RESET"]), Frame::simple("RESET"));
        assert!(s.engine.watches.is_empty());
        assert_eq!(run(&s, &mut b, &["EXEC"]), err("ERR EXEC without MULTI"));
        assert_eq!(run(&s, &mut b, &["WATCH", "k"]), Frame::OK);
        assert_eq!(s.run(&["WATCH", "k"]), Frame::OK);
        assert_eq!(s.engine.watches.len(), 1);
        drop(b);
        assert_eq!(s.engine.watches.len(), 1);
        assert_eq!(s.run(&["UNWATCH"]), Frame::OK);
        assert!(s.engine.watches.is_empty());
    }

    #[test]
    fn exec_is_atomic_across_shards() {
        let s = Session::new();
        let engine = s.engine.clone();
        let mut writers = Vec::new();
        for t in 0..2 {
            let e = engine.clone();
            writers.push(std::thread::spawn(move || {
                let mut c = e.new_client();
                for _ in 0..200 {
                    e.execute(&mut c, &[b"MULTI"]);
                    for k in 0..8 {
                        let key = format!("key{k}");
                        let v = format!("{t}");
                        e.execute(&mut c, &[b"SET", key.as_bytes(), v.as_bytes()]);
                    }
                    e.execute(&mut c, &[b"EXEC"]);
                }
            }));
        }
        let mut c = engine.new_client();
        let keys: Vec<String> = (0..8).map(|k| format!("key{k}")).collect();
        for _ in 0..200 {
            let mut argv: Vec<&[u8]> = vec![b"MGET"];
            argv.extend(keys.iter().map(|k| k.as_bytes()));
            if let Frame::Array(vals) = engine.execute(&mut c, &argv) {
                // Every key holds the same writer's value (or none yet).
                assert!(vals.windows(2).all(|w| w[0] == w[1]), "{vals:?}");
            }
        }
        for w in writers {
            assert!(w.join().is_ok());
        }
    }
}

/// `cargo test -p fastkv-core watch_hook_cost -- --ignored --nocapture`: what the WATCH hook
/// costs a write (SET) when nobody watches, beside the cost when some other key is watched.
#[cfg(test)]
mod cost {
    use crate::testing::Session;
    use std::hint::black_box;
    use std::time::Instant;

    fn set_ns(s: &mut Session, n: usize) -> f64 {
        let keys: Vec<String> = (0..1000).map(|i| format!("key:{i}")).collect();
        let started = Instant::now();
        for i in 0..n {
            let k = keys[i % keys.len()].as_bytes();
            black_box(s.engine.execute(&mut s.client, &[b"SET", k, b"value"]));
        }
        started.elapsed().as_nanos() as f64 / n as f64
    }

    #[test]
    #[ignore]
    fn watch_hook_cost() {
        let n = 200_000;
        let mut s = Session::new();
        let mut watcher = s.engine.new_client();
        set_ns(&mut s, n);
        let (mut idle, mut active) = (Vec::new(), Vec::new());
        for _ in 0..5 {
            idle.push(set_ns(&mut s, n));
            s.engine.execute(&mut watcher, &[b"WATCH", b"elsewhere"]);
            active.push(set_ns(&mut s, n));
            s.engine.execute(&mut watcher, &[b"UNWATCH"]);
        }
        let started = Instant::now();
        for _ in 0..n {
            black_box(black_box(&s.engine.watches).active());
        }
        let load = started.elapsed().as_nanos() as f64 / n as f64;
        let min = |v: &[f64]| v.iter().cloned().fold(f64::MAX, f64::min);
        println!(
            "SET ns/op, nobody watching: {:.0} (runs {idle:.0?}); one other key watched: {:.0} \
             (runs {active:.0?}); the hook's check alone: {load:.2} ns",
            min(&idle),
            min(&active)
        );
    }
}
