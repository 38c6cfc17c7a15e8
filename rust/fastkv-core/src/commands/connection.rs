//! Connection commands: PING, ECHO, SELECT, HELLO, RESET, QUIT, and CLIENT with its
//! subcommands.
//!
//! These work on the caller's own [`crate::Client`] (and, for CLIENT LIST/KILL, on the engine's
//! client registry); none touches the keyspace. Whatever changes what other clients can see
//! of this one (name, db, protocol, flags) is published to its shared `ClientInfo` at once.

use crate::client::{ClientInfo, ClientKind, ReplyMode};
use crate::command::{
    parse_int, Args, CommandSpec, ADMIN, ALLOW_BUSY, FAST, LOADING, NOSCRIPT, NO_AUTH, NO_KEYS,
    STALE,
};
use crate::dispatch::Ctx;
use crate::engine::REDIS_VERSION;
use crate::error::OpError;
use fastkv_resp::Frame;
use std::sync::Arc;

/// `PING [message]` — `PONG`, or the message as a bulk string.
fn cmd_ping(_ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    match args.remaining() {
        0 => Ok(Frame::simple("PONG")),
        1 => Ok(Frame::bulk(args.next_bytes()?)),
        _ => Err(OpError::Arity("ping".into())),
    }
}

/// `ECHO message`
fn cmd_echo(_ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    Ok(Frame::bulk(args.next_bytes()?))
}

/// `SELECT index`
fn cmd_select(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    // Redis 7.0 answers a non-integer index with the generic integer error.
    let db = args.next_i64()?;
    if db < 0 || db as usize >= ctx.engine.keyspace.databases() {
        return Err(OpError::DbIndex);
    }
    ctx.client.db = db as usize;
    ctx.client.publish();
    Ok(Frame::OK)
}

/// Redis accepts client names (and library names) made of printable ASCII without spaces.
fn valid_name(name: &[u8]) -> bool {
    name.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

const BAD_NAME: OpError =
    OpError::err("Client names cannot contain spaces, newlines or special characters.");

/// `HELLO [protover [AUTH username password] [SETNAME clientname]]` — switches the protocol
/// (2 or 3) and replies with a map describing the server: server, version, proto, id, mode,
/// role, modules. Options are all checked before anything changes.
fn cmd_hello(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let mut proto = ctx.client.proto;
    if let Some(v) = args.peek() {
        args.next_bytes()?;
        let v = parse_int(v)
            .map_err(|_| OpError::err("Protocol version is not an integer or out of range"))?;
        if !(2..=3).contains(&v) {
            return Err(OpError::raw("NOPROTO unsupported protocol version"));
        }
        proto = v as u8;
    }
    let mut name = None;
    while let Some(opt) = args.peek() {
        args.next_bytes()?;
        let bad = || {
            OpError::msg(format!(
                "Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(opt)
            ))
        };
        if opt.eq_ignore_ascii_case(b"AUTH") && args.remaining() >= 2 {
            let user = args.next_bytes()?;
            let pass = args.next_bytes()?;
            // No users or passwords yet (requirepass is refused at start-up): the default
            // user takes any password, as Redis's `nopass` default user does.
            let _ = pass;
            if user != b"default" {
                return Err(OpError::raw(
                    "WRONGPASS invalid username-password pair or user is disabled.",
                ));
            }
        } else if opt.eq_ignore_ascii_case(b"SETNAME") && args.remaining() >= 1 {
            let n = args.next_bytes()?;
            if !valid_name(n) {
                return Err(BAD_NAME);
            }
            name = Some(n);
        } else {
            return Err(bad());
        }
    }
    ctx.client.proto = proto;
    if let Some(n) = name {
        ctx.client.name = if n.is_empty() { None } else { Some(n.to_vec()) };
    }
    ctx.client.publish();
    let kv = |k: &'static str, v: Frame| (Frame::bulk(k), v);
    Ok(Frame::Map(vec![
        kv("server", Frame::bulk("redis")),
        kv("version", Frame::bulk(REDIS_VERSION)),
        kv("proto", Frame::Integer(i64::from(proto))),
        kv("id", Frame::Integer(ctx.client.id as i64)),
        kv("mode", Frame::bulk("standalone")),
        kv("role", Frame::bulk("master")),
        kv("modules", Frame::Array(Vec::new())),
    ]))
}

/// `RESET` — back to a fresh connection's state: RESP2, db 0, no name, replies on. Replies
/// `+RESET`.
fn cmd_reset(ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    ctx.client.reset();
    Ok(Frame::simple("RESET"))
}

/// `QUIT` — `+OK`, then the connection closes.
fn cmd_quit(ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    ctx.client.close_after_reply = true;
    Ok(Frame::OK)
}

// --- CLIENT -------------------------------------------------------------------------------

/// `CLIENT ID`
fn cmd_client_id(ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    Ok(Frame::Integer(ctx.client.id as i64))
}

/// `CLIENT SETNAME name` — an empty name clears it.
fn cmd_client_setname(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let n = args.next_bytes()?;
    if !valid_name(n) {
        return Err(BAD_NAME);
    }
    ctx.client.name = if n.is_empty() { None } else { Some(n.to_vec()) };
    ctx.client.publish();
    Ok(Frame::OK)
}

/// `CLIENT GETNAME` — the name, or null.
fn cmd_client_getname(ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    Ok(Frame::opt_bulk(ctx.client.name.clone()))
}

/// Text replies of CLIENT LIST/INFO: a verbatim string in RESP3, bulk in RESP2.
fn verbatim(text: String) -> Frame {
    Frame::Verbatim {
        format: *b"txt",
        text: text.into_bytes(),
    }
}

/// `CLIENT INFO` — this connection's CLIENT LIST line.
fn cmd_client_info(ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    ctx.client.publish();
    let mut line = ctx.client.info.line(ctx.now);
    line.push('\n');
    Ok(verbatim(line))
}

/// The client types CLIENT LIST/KILL TYPE accept.
fn client_type(t: &[u8]) -> Result<&'static str, OpError> {
    let lower = t.to_ascii_lowercase();
    match lower.as_slice() {
        b"normal" => Ok("normal"),
        b"master" => Ok("master"),
        b"slave" | b"replica" => Ok("replica"),
        b"pubsub" => Ok("pubsub"),
        _ => Err(OpError::msg(format!(
            "Unknown client type '{}'",
            String::from_utf8_lossy(t)
        ))),
    }
}

/// `CLIENT LIST [TYPE normal|master|replica|pubsub] [ID id [id ...]]` — one line per client,
/// in id order.
fn cmd_client_list(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let mut want_type = None;
    let mut want_ids: Option<Vec<u64>> = None;
    if args.remaining() == 2 && args.eat("TYPE") {
        want_type = Some(client_type(args.next_bytes()?)?);
    } else if args.remaining() >= 2 && args.eat("ID") {
        let mut ids = Vec::new();
        for a in args.rest() {
            match parse_int(a) {
                Ok(id) if id > 0 => ids.push(id as u64),
                _ => return Err(OpError::err("Invalid client ID")),
            }
        }
        want_ids = Some(ids);
    }
    args.finish()?;
    ctx.client.publish();
    let mut out = String::new();
    for info in ctx.engine.client_infos() {
        if want_type.is_some_and(|t| info.type_name() != t) {
            continue;
        }
        if want_ids.as_ref().is_some_and(|ids| !ids.contains(&info.id)) {
            continue;
        }
        out.push_str(&info.line(ctx.now));
        out.push('\n');
    }
    Ok(verbatim(out))
}

/// Fires a client's kill signal; its connection closes at once, even if idle. The calling
/// client closes after its reply instead.
fn kill(ctx: &mut Ctx<'_, '_>, info: &ClientInfo) {
    if info.id == ctx.client.id {
        ctx.client.close_after_reply = true;
    } else {
        info.kill.fire();
    }
}

/// `CLIENT KILL ip:port` (old form: `+OK` or `ERR No such client`) or
/// `CLIENT KILL [ID id] [TYPE type] [USER user] [ADDR ip:port] [LADDR ip:port] [SKIPME yes|no]`
/// (new form: the number of clients killed). Embedded (in-process) clients cannot be killed.
fn cmd_client_kill(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let killable = |i: &Arc<ClientInfo>| i.kind == ClientKind::Network;
    if args.remaining() == 1 {
        let addr = args.next_bytes()?;
        let target = ctx
            .engine
            .client_infos()
            .into_iter()
            .find(|i| killable(i) && i.addr.as_bytes() == addr);
        return match target {
            Some(info) => {
                kill(ctx, &info);
                Ok(Frame::OK)
            }
            None => Err(OpError::err("No such client")),
        };
    }
    let (mut id, mut typ, mut addr, mut laddr, mut skipme) = (None, None, None, None, true);
    while !args.is_empty() {
        let opt = args.next_bytes()?.to_ascii_lowercase();
        let val = args.next_bytes()?;
        match opt.as_slice() {
            b"id" => match parse_int(val) {
                Ok(n) if n > 0 => id = Some(n as u64),
                _ => return Err(OpError::err("client-id should be greater than 0")),
            },
            b"type" => typ = Some(client_type(val)?),
            b"user" => {
                if val != b"default" {
                    return Err(OpError::msg(format!(
                        "No such user '{}'",
                        String::from_utf8_lossy(val)
                    )));
                }
            }
            b"addr" => addr = Some(val),
            b"laddr" => laddr = Some(val),
            b"skipme" => {
                skipme = if val.eq_ignore_ascii_case(b"yes") {
                    true
                } else if val.eq_ignore_ascii_case(b"no") {
                    false
                } else {
                    return Err(OpError::Syntax);
                }
            }
            _ => return Err(OpError::Syntax),
        }
    }
    let mut killed = 0;
    for info in ctx.engine.client_infos() {
        let matches = killable(&info)
            && id.is_none_or(|id| info.id == id)
            && typ.is_none_or(|t| info.type_name() == t)
            && addr.is_none_or(|a| info.addr.as_bytes() == a)
            && laddr.is_none_or(|a| info.laddr.as_bytes() == a)
            && !(skipme && info.id == ctx.client.id);
        if matches {
            kill(ctx, &info);
            killed += 1;
        }
    }
    Ok(Frame::Integer(killed))
}

/// `CLIENT REPLY ON|OFF|SKIP` — OFF and SKIP reply nothing; SKIP silences the next command's
/// reply too. Front ends honour it through `Client::take_reply_permission`.
fn cmd_client_reply(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let mode = args.next_bytes()?;
    if mode.eq_ignore_ascii_case(b"on") {
        ctx.client.reply_mode = ReplyMode::On;
        Ok(Frame::OK)
    } else if mode.eq_ignore_ascii_case(b"off") {
        ctx.client.reply_mode = ReplyMode::Off;
        ctx.client.no_reply = true;
        Ok(Frame::OK)
    } else if mode.eq_ignore_ascii_case(b"skip") {
        if ctx.client.reply_mode != ReplyMode::Off {
            ctx.client.reply_mode = ReplyMode::Skip;
        }
        ctx.client.no_reply = true;
        Ok(Frame::OK)
    } else {
        Err(OpError::Syntax)
    }
}

/// `on` / `off`, any case; anything else is a syntax error.
fn on_off(args: &mut Args<'_>) -> Result<bool, OpError> {
    let v = args.next_bytes()?;
    if v.eq_ignore_ascii_case(b"on") {
        Ok(true)
    } else if v.eq_ignore_ascii_case(b"off") {
        Ok(false)
    } else {
        Err(OpError::Syntax)
    }
}

/// `CLIENT NO-EVICT ON|OFF` — exempt this client from client eviction (flag `e`).
fn cmd_client_no_evict(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    ctx.client.no_evict = on_off(args)?;
    ctx.client.publish();
    Ok(Frame::OK)
}

/// `CLIENT NO-TOUCH ON|OFF` — this client's reads do not update keys' LRU/LFU (flag `T`).
fn cmd_client_no_touch(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    ctx.client.no_touch = on_off(args)?;
    ctx.client.publish();
    Ok(Frame::OK)
}

/// `CLIENT SETINFO LIB-NAME name | LIB-VER version` (Redis 7.2) — shown in CLIENT LIST.
fn cmd_client_setinfo(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let attr = args.next_bytes()?;
    let val = args.next_bytes()?;
    args.finish()
        .map_err(|_| OpError::Arity("client|setinfo".into()))?;
    let is_name = attr.eq_ignore_ascii_case(b"lib-name");
    if !is_name && !attr.eq_ignore_ascii_case(b"lib-ver") {
        return Err(OpError::msg(format!(
            "Unrecognized option '{}'",
            String::from_utf8_lossy(attr)
        )));
    }
    if !valid_name(val) {
        return Err(OpError::msg(format!(
            "{} cannot contain spaces, newlines or special characters.",
            if is_name { "lib-name" } else { "lib-ver" }
        )));
    }
    let mut s = ctx.client.info.state.lock();
    if is_name {
        s.lib_name = val.to_vec();
    } else {
        s.lib_ver = val.to_vec();
    }
    Ok(Frame::OK)
}

/// `CLIENT GETREDIR` — client-side caching is not implemented: always -1.
fn cmd_client_getredir(_ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    Ok(Frame::Integer(-1))
}

const CLIENT_HELP: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "SETINFO <option> <value>",
    "    Set client meta attr. Options are:",
    "    * LIB-NAME: the client lib name.",
    "    * LIB-VER: the client lib version.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "NO-TOUCH (ON|OFF)",
    "    Will not touch LRU/LFU stats when this mode is on.",
    "HELP",
    "    Prints this help.",
];

/// A HELP reply: one status line per text line, as Redis's `addReplyHelp`.
pub(crate) fn help_reply(lines: &[&'static str]) -> Frame {
    Frame::Array(lines.iter().map(|l| Frame::simple(l)).collect())
}

/// `CLIENT HELP`
fn cmd_client_help(_ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    Ok(help_reply(CLIENT_HELP))
}

/// The CLIENT container's handler is never called (the dispatcher picks a subcommand).
fn cmd_client(_ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    Err(OpError::Arity("client".into()))
}

const CONN: u32 = NOSCRIPT | LOADING | STALE;

const fn client_sub(
    name: &'static str,
    arity: i32,
    flags: u32,
    handler: crate::command::Handler,
    since: &'static str,
    summary: &'static str,
) -> CommandSpec {
    CommandSpec::new(name, arity, flags, NO_KEYS, handler).doc("connection", since, summary)
}

const CLIENT_SUBCOMMANDS: &[CommandSpec] = &[
    client_sub(
        "client|id",
        2,
        CONN,
        cmd_client_id,
        "5.0.0",
        "Returns the unique client ID of the connection.",
    ),
    client_sub(
        "client|setname",
        3,
        CONN,
        cmd_client_setname,
        "2.6.9",
        "Sets the connection name.",
    ),
    client_sub(
        "client|getname",
        2,
        CONN,
        cmd_client_getname,
        "2.6.9",
        "Returns the name of the connection.",
    ),
    client_sub(
        "client|info",
        2,
        CONN,
        cmd_client_info,
        "6.2.0",
        "Returns information about the connection.",
    ),
    client_sub(
        "client|list",
        -2,
        ADMIN | CONN,
        cmd_client_list,
        "2.4.0",
        "Lists open connections.",
    ),
    client_sub(
        "client|kill",
        -3,
        ADMIN | CONN,
        cmd_client_kill,
        "2.4.0",
        "Terminates open connections.",
    ),
    client_sub(
        "client|reply",
        3,
        CONN,
        cmd_client_reply,
        "3.2.0",
        "Instructs the server whether to reply to commands.",
    ),
    client_sub(
        "client|no-evict",
        3,
        ADMIN | CONN,
        cmd_client_no_evict,
        "7.0.0",
        "Sets the client eviction mode of the connection.",
    ),
    client_sub(
        "client|no-touch",
        3,
        CONN,
        cmd_client_no_touch,
        "7.2.0",
        "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.",
    ),
    client_sub(
        "client|setinfo",
        -4,
        CONN,
        cmd_client_setinfo,
        "7.2.0",
        "Sets information specific to the client or connection.",
    ),
    client_sub(
        "client|getredir",
        2,
        CONN,
        cmd_client_getredir,
        "6.0.0",
        "Returns the client ID to which the connection's tracking notifications are redirected.",
    ),
    client_sub(
        "client|help",
        2,
        LOADING | STALE,
        cmd_client_help,
        "5.0.0",
        "Returns helpful text about the different subcommands.",
    ),
];

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
    CommandSpec::new(
        "hello",
        -1,
        FAST | NO_AUTH | ALLOW_BUSY | CONN,
        NO_KEYS,
        cmd_hello,
    )
    .doc("connection", "6.0.0", "Handshakes with the Redis server."),
    CommandSpec::new(
        "reset",
        1,
        FAST | NO_AUTH | ALLOW_BUSY | CONN,
        NO_KEYS,
        cmd_reset,
    )
    .doc("connection", "6.2.0", "Resets the connection."),
    CommandSpec::new(
        "quit",
        -1,
        FAST | NO_AUTH | ALLOW_BUSY | CONN,
        NO_KEYS,
        cmd_quit,
    )
    .doc("connection", "1.0.0", "Closes the connection."),
    CommandSpec::new("client", -2, 0, NO_KEYS, cmd_client)
        .subcommands(CLIENT_SUBCOMMANDS)
        .doc(
            "connection",
            "2.4.0",
            "A container for client connection commands.",
        ),
];

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use fastkv_resp::Frame;

    fn text(f: Frame) -> String {
        match f {
            Frame::Verbatim { text, .. } | Frame::Bulk(text) => {
                String::from_utf8_lossy(&text).into_owned()
            }
            other => format!("{other:?}"),
        }
    }

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
        assert_eq!(
            s.run(&["SELECT", "x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            s.run(&["NOPE", "a", "b"]),
            err("ERR unknown command 'NOPE', with args beginning with: 'a' 'b' ")
        );
    }

    #[test]
    fn hello() {
        let mut s = Session::new();
        let id = s.client.id as i64;
        let reply = s.run(&["HELLO", "3"]);
        let kv = |k: &str, v: Frame| (bulk(k), v);
        assert_eq!(
            reply,
            Frame::Map(vec![
                kv("server", bulk("redis")),
                kv("version", bulk("7.0.15")),
                kv("proto", int(3)),
                kv("id", int(id)),
                kv("mode", bulk("standalone")),
                kv("role", bulk("master")),
                kv("modules", Frame::Array(vec![])),
            ])
        );
        assert_eq!(s.client.proto, 3);
        assert_eq!(
            s.run(&["HELLO", "4"]),
            err("NOPROTO unsupported protocol version")
        );
        assert_eq!(
            s.run(&["HELLO", "abc"]),
            err("ERR Protocol version is not an integer or out of range")
        );
        assert_eq!(
            s.run(&["HELLO", "3", "AUTH", "foo", "bar"]),
            err("WRONGPASS invalid username-password pair or user is disabled.")
        );
        assert_eq!(
            s.run(&["HELLO", "3", "SETNAME", "a b"]),
            err("ERR Client names cannot contain spaces, newlines or special characters.")
        );
        assert_eq!(
            s.run(&["HELLO", "3", "foo"]),
            err("ERR Syntax error in HELLO option 'foo'")
        );
        assert_eq!(
            s.run(&["HELLO", "2", "AUTH", "x"]),
            err("ERR Syntax error in HELLO option 'AUTH'")
        );
        assert_eq!(s.client.proto, 3, "failed HELLO changes nothing");
        assert!(!s
            .run(&["HELLO", "2", "AUTH", "default", "pw", "SETNAME", "me"])
            .is_error());
        assert_eq!(s.client.proto, 2);
        assert_eq!(s.run(&["CLIENT", "GETNAME"]), bulk("me"));
    }

    #[test]
    fn reset_and_quit() {
        let mut s = Session::new();
        s.run(&["HELLO", "3", "SETNAME", "x"]);
        s.run(&["SELECT", "3"]);
        assert_eq!(s.run(&["RESET"]), Frame::simple("RESET"));
        assert_eq!(
            (s.client.proto, s.client.db, s.client.name.is_none()),
            (2, 0, true)
        );
        assert_eq!(s.run(&["QUIT"]), Frame::OK);
        assert!(s.client.close_after_reply);
    }

    #[test]
    fn client_names_and_ids() {
        let mut s = Session::new();
        assert_eq!(s.run(&["CLIENT", "ID"]), int(s.client.id as i64));
        assert_eq!(s.run(&["CLIENT", "GETNAME"]), Frame::Null);
        assert_eq!(
            s.run(&["CLIENT", "SETNAME", "a b"]),
            err("ERR Client names cannot contain spaces, newlines or special characters.")
        );
        assert_eq!(s.run(&["CLIENT", "SETNAME", "worker"]), Frame::OK);
        assert_eq!(s.run(&["CLIENT", "GETNAME"]), bulk("worker"));
        assert_eq!(s.run(&["CLIENT", "SETNAME", ""]), Frame::OK);
        assert_eq!(s.run(&["CLIENT", "GETNAME"]), Frame::Null);
        assert_eq!(
            s.run(&["CLIENT", "FOO"]),
            err("ERR unknown subcommand 'FOO'. Try CLIENT HELP.")
        );
        assert_eq!(
            s.run(&["CLIENT", "MAINT_NOTIFICATIONS", "ON"]),
            err("ERR unknown subcommand 'MAINT_NOTIFICATIONS'. Try CLIENT HELP.")
        );
        assert_eq!(
            s.run(&["CLIENT", "SETNAME"]),
            err("ERR wrong number of arguments for 'client|setname' command")
        );
        assert_eq!(
            s.run(&["CLIENT", "SETINFO", "LIB-NAME", "redis-py"]),
            Frame::OK
        );
        assert_eq!(s.run(&["CLIENT", "SETINFO", "lib-ver", "8.1.0"]), Frame::OK);
        assert_eq!(
            s.run(&["CLIENT", "SETINFO", "foo", "x"]),
            err("ERR Unrecognized option 'foo'")
        );
        assert_eq!(
            s.run(&["CLIENT", "NO-EVICT", "maybe"]),
            err("ERR syntax error")
        );
        assert_eq!(s.run(&["CLIENT", "NO-EVICT", "on"]), Frame::OK);
        assert_eq!(s.run(&["CLIENT", "REPLY", "foo"]), err("ERR syntax error"));
        assert_eq!(s.run(&["CLIENT", "GETREDIR"]), int(-1));
        assert!(matches!(s.run(&["CLIENT", "HELP"]), Frame::Array(_)));
    }

    #[test]
    fn client_list_and_info() {
        let mut s = Session::new();
        s.run(&["CLIENT", "SETNAME", "me"]);
        s.run(&["SELECT", "2"]);
        s.run(&["CLIENT", "SETINFO", "LIB-NAME", "py"]);
        let line = text(s.run(&["CLIENT", "INFO"]));
        let id = s.client.id;
        assert!(
            line.starts_with(&format!("id={id} addr=embedded:0 laddr=embedded:0 fd=-1 name=me age=0 idle=0 flags=N db=2 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=")),
            "{line}"
        );
        assert!(
            line.ends_with(
                " events=r cmd=client|info user=default redir=-1 resp=2 lib-name=py lib-ver=\n"
            ),
            "{line}"
        );
        let other = s.engine.new_client();
        let list = text(s.run(&["CLIENT", "LIST"]));
        assert_eq!(list.lines().count(), 2);
        let list = text(s.run(&["CLIENT", "LIST", "ID", &other.id.to_string()]));
        assert!(list.starts_with(&format!("id={} ", other.id)) && list.lines().count() == 1);
        assert_eq!(text(s.run(&["CLIENT", "LIST", "ID", "99999"])), "");
        assert_eq!(text(s.run(&["CLIENT", "LIST", "TYPE", "pubsub"])), "");
        assert_eq!(
            text(s.run(&["CLIENT", "LIST", "TYPE", "normal"]))
                .lines()
                .count(),
            2
        );
        assert_eq!(
            s.run(&["CLIENT", "LIST", "TYPE", "foo"]),
            err("ERR Unknown client type 'foo'")
        );
        assert_eq!(
            s.run(&["CLIENT", "LIST", "ID", "abc"]),
            err("ERR Invalid client ID")
        );
        assert_eq!(s.run(&["CLIENT", "LIST", "foo"]), err("ERR syntax error"));
        drop(other);
        assert_eq!(text(s.run(&["CLIENT", "LIST"])).lines().count(), 1);
    }

    #[test]
    fn client_kill() {
        let mut s = Session::new();
        let victim = s.engine.new_network_client(crate::client::NetAddr {
            addr: "127.0.0.1:5555".into(),
            laddr: "127.0.0.1:6379".into(),
            fd: 9,
        });
        assert_eq!(
            s.run(&["CLIENT", "KILL", "1.2.3.4:5"]),
            err("ERR No such client")
        );
        assert_eq!(s.run(&["CLIENT", "KILL", "ID", "999"]), int(0));
        assert_eq!(
            s.run(&["CLIENT", "KILL", "foo", "bar"]),
            err("ERR syntax error")
        );
        assert_eq!(
            s.run(&["CLIENT", "KILL", "ID", "abc"]),
            err("ERR client-id should be greater than 0")
        );
        assert_eq!(
            s.run(&["CLIENT", "KILL", "TYPE", "foo"]),
            err("ERR Unknown client type 'foo'")
        );
        assert_eq!(
            s.run(&["CLIENT", "KILL", "SKIPME", "maybe"]),
            err("ERR syntax error")
        );
        assert_eq!(
            s.run(&["CLIENT", "KILL", "USER", "bob"]),
            err("ERR No such user 'bob'")
        );
        assert!(!victim.info.kill.is_fired());
        assert_eq!(
            s.run(&[
                "CLIENT",
                "KILL",
                "LADDR",
                "127.0.0.1:6379",
                "TYPE",
                "normal"
            ]),
            int(1)
        );
        assert!(victim.info.kill.is_fired());
        assert_eq!(s.run(&["CLIENT", "KILL", "127.0.0.1:5555"]), Frame::OK);
        // The embedded caller itself is never killed.
        assert_eq!(s.run(&["CLIENT", "KILL", "SKIPME", "no"]), int(1));
        assert!(!s.client.close_after_reply);
    }

    #[test]
    fn client_reply_modes() {
        let mut s = Session::new();
        s.run(&["CLIENT", "REPLY", "SKIP"]);
        assert!(s.client.no_reply);
        assert_eq!(s.client.reply_mode, crate::client::ReplyMode::Skip);
        s.client.no_reply = false;
        s.run(&["CLIENT", "REPLY", "OFF"]);
        assert_eq!(s.client.reply_mode, crate::client::ReplyMode::Off);
        assert_eq!(s.run(&["CLIENT", "REPLY", "ON"]), Frame::OK);
        assert_eq!(s.client.reply_mode, crate::client::ReplyMode::On);
    }
}
