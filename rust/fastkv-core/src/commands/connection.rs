//! Connection commands: PING, ECHO, SELECT, HELLO, CLIENT, QUIT, RESET.

use crate::command::{Args, CommandSpec, FAST, LOADING, NO_KEYS, STALE};
use crate::dispatch::Ctx;
use crate::error::OpError;
use fastkv_resp::Frame;

/// `PING [message]` — `PONG`, or the message as a bulk string.
fn cmd_ping(_ctx: &mut Ctx<'_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    match args.remaining() {
        0 => Ok(Frame::simple("PONG")),
        1 => Ok(Frame::bulk(args.next_bytes()?)),
        _ => Err(OpError::Arity("ping".into())),
    }
}

/// `ECHO message`
fn cmd_echo(_ctx: &mut Ctx<'_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    Ok(Frame::bulk(args.next_bytes()?))
}

/// `SELECT index`
fn cmd_select(ctx: &mut Ctx<'_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let db = args
        .next_i64()
        .map_err(|_| OpError::err("invalid DB index"))?;
    if db < 0 || db as usize >= ctx.engine.keyspace.databases() {
        return Err(OpError::DbIndex);
    }
    ctx.client.db = db as usize;
    Ok(Frame::OK)
}

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("ping", -1, FAST | STALE, NO_KEYS, cmd_ping).doc(
        "connection",
        "1.0.0",
        "Returns the server's liveliness response.",
    ),
    CommandSpec::new("echo", 2, FAST | LOADING | STALE, NO_KEYS, cmd_echo).doc(
        "connection",
        "1.0.0",
        "Returns the given string.",
    ),
    CommandSpec::new("select", 2, FAST | LOADING | STALE, NO_KEYS, cmd_select).doc(
        "connection",
        "1.0.0",
        "Changes the selected database.",
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::*;

    #[test]
    fn ping_echo_select() {
        let mut s = Session::new();
        assert_eq!(s.run(&["PING"]), fastkv_resp::Frame::simple("PONG"));
        assert_eq!(s.run(&["ping", "hi"]), bulk("hi"));
        assert_eq!(
            s.run(&["PING", "a", "b"]),
            err("ERR wrong number of arguments for 'ping' command")
        );
        assert_eq!(
            s.run(&["ECHO"]),
            err("ERR wrong number of arguments for 'echo' command")
        );
        assert_eq!(
            s.run(&["SELECT", "16"]),
            err("ERR DB index is out of range")
        );
        assert_eq!(s.run(&["SELECT", "x"]), err("ERR invalid DB index"));
        assert_eq!(
            s.run(&["NOPE", "a", "b"]),
            err("ERR unknown command 'NOPE', with args beginning with: 'a' 'b' ")
        );
    }
}
