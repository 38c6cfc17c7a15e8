//! Pub/Sub commands: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, SSUBSCRIBE,
//! SUNSUBSCRIBE, PUBLISH, SPUBLISH, and PUBSUB with its subcommands.
//!
//! The registry and the sinks live in [`crate::pubsub`]. The (un)subscribe handlers queue
//! their confirmations in the client's sink (under the registry lock, so that no message can
//! overtake them) and reply nothing themselves: the front end sends what the sink holds before
//! each reply. The dispatcher enforces RESP2 subscriber mode with
//! [`subscriber_mode_refusal`] and [`subscriber_pong`].

use crate::command::{Args, CommandSpec, FAST, LOADING, NOSCRIPT, NO_KEYS, PUBSUB, STALE};
use crate::commands::connection::help_reply;
use crate::dispatch::Ctx;
use crate::error::OpError;
use crate::pubsub::{Sink, Space, Subscription};
use fastkv_resp::Frame;

/// The commands a RESP2 client in subscriber mode may send (Redis checks the same list).
const SUBSCRIBER_MODE_COMMANDS: &[&str] = &[
    "subscribe",
    "unsubscribe",
    "psubscribe",
    "punsubscribe",
    "ssubscribe",
    "sunsubscribe",
    "ping",
    "quit",
    "reset",
];

/// For a RESP2 client in subscriber mode: the error refusing `spec`, or `None` if allowed.
pub fn subscriber_mode_refusal(spec: &CommandSpec) -> Option<Frame> {
    if SUBSCRIBER_MODE_COMMANDS.contains(&spec.name) {
        return None;
    }
    Some(Frame::error(format!(
        "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET \
         are allowed in this context",
        spec.name
    )))
}

/// PING's reply in RESP2 subscriber mode: `["pong", message or ""]` instead of `+PONG`.
pub fn subscriber_pong(reply: Frame) -> Frame {
    match reply {
        Frame::Simple(_) => Frame::Array(vec![Frame::bulk("pong"), Frame::bulk("")]),
        Frame::Bulk(msg) => Frame::Array(vec![Frame::bulk("pong"), Frame::Bulk(msg)]),
        other => other,
    }
}

/// The client's subscription state, made (with a sink, unless the front end installed one)
/// on first use.
fn subscription<'c>(ctx: &'c mut Ctx<'_, '_>) -> &'c mut Subscription {
    let client = &mut *ctx.client;
    let hub = &ctx.engine.pubsub;
    let sink = client.sink.get_or_insert_with(Sink::new).clone();
    client
        .subs
        .get_or_insert_with(|| Subscription::new(client.id, hub.clone(), sink))
}

/// After a (un)subscribe: the reply is in the sink; show the new counts in CLIENT LIST.
fn confirmed(ctx: &mut Ctx<'_, '_>) -> Result<Frame, OpError> {
    ctx.client.no_reply = true;
    ctx.client.publish();
    Ok(Frame::Null)
}

fn subscribe_generic(
    ctx: &mut Ctx<'_, '_>,
    args: &mut Args<'_>,
    space: Space,
) -> Result<Frame, OpError> {
    let subs = subscription(ctx);
    for name in args.rest() {
        subs.subscribe(space, name);
    }
    confirmed(ctx)
}

fn unsubscribe_generic(
    ctx: &mut Ctx<'_, '_>,
    args: &mut Args<'_>,
    space: Space,
) -> Result<Frame, OpError> {
    let subs = subscription(ctx);
    let names = args.rest();
    if names.is_empty() {
        subs.unsubscribe_all(space);
    } else {
        for name in names {
            subs.unsubscribe(space, name);
        }
    }
    confirmed(ctx)
}

/// `SUBSCRIBE channel [channel ...]` — one `subscribe` push per channel, with the client's
/// channel + pattern count after it.
fn cmd_subscribe(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    subscribe_generic(ctx, args, Space::Channel)
}

/// `UNSUBSCRIBE [channel [channel ...]]` — one `unsubscribe` push per channel (every
/// subscribed channel when none is named; `[unsubscribe, nil, count]` if there is none).
fn cmd_unsubscribe(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    unsubscribe_generic(ctx, args, Space::Channel)
}

/// `PSUBSCRIBE pattern [pattern ...]`
fn cmd_psubscribe(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    subscribe_generic(ctx, args, Space::Pattern)
}

/// `PUNSUBSCRIBE [pattern [pattern ...]]`
fn cmd_punsubscribe(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    unsubscribe_generic(ctx, args, Space::Pattern)
}

/// `SSUBSCRIBE shardchannel [shardchannel ...]` — counts are of shard channels only.
fn cmd_ssubscribe(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    subscribe_generic(ctx, args, Space::Shard)
}

/// `SUNSUBSCRIBE [shardchannel [shardchannel ...]]`
fn cmd_sunsubscribe(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    unsubscribe_generic(ctx, args, Space::Shard)
}

/// `PUBLISH channel message` — the number of deliveries (channel subscribers plus, per
/// matching pattern, its subscribers).
fn cmd_publish(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let channel = args.next_bytes()?;
    let message = args.next_bytes()?;
    Ok(Frame::Integer(ctx.engine.publish(channel, message) as i64))
}

/// `SPUBLISH shardchannel message` — the number of shard channel subscribers reached.
fn cmd_spublish(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let channel = args.next_bytes()?;
    let message = args.next_bytes()?;
    Ok(Frame::Integer(ctx.engine.spublish(channel, message) as i64))
}

/// PUBSUB CHANNELS / SHARDCHANNELS with at most one pattern argument.
fn list_channels(
    ctx: &mut Ctx<'_, '_>,
    args: &mut Args<'_>,
    sub: &str,
    shard: bool,
) -> Result<Frame, OpError> {
    let rest = args.rest();
    if rest.len() > 1 {
        return Err(OpError::msg(format!(
            "unknown subcommand or wrong number of arguments for '{sub}'. Try PUBSUB HELP."
        )));
    }
    let pattern = rest.first().copied();
    let names = ctx.engine.pubsub.channels(shard, pattern);
    Ok(Frame::Array(names.into_iter().map(Frame::Bulk).collect()))
}

/// `PUBSUB CHANNELS [pattern]` — active channels (with at least one subscriber).
fn cmd_pubsub_channels(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let sub = pubsub_subcommand_text(args);
    list_channels(ctx, args, &sub, false)
}

/// `PUBSUB SHARDCHANNELS [pattern]`
fn cmd_pubsub_shardchannels(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let sub = pubsub_subcommand_text(args);
    list_channels(ctx, args, &sub, true)
}

/// The subcommand as the client typed it (Redis quotes it so in its errors).
fn pubsub_subcommand_text(args: &Args<'_>) -> String {
    args.argv()
        .get(1)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .unwrap_or_default()
}

fn numsub_generic(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>, shard: bool) -> Frame {
    let mut out = Vec::new();
    for ch in args.rest() {
        out.push(Frame::Bulk(ch.to_vec()));
        out.push(Frame::Integer(ctx.engine.pubsub.numsub(shard, ch) as i64));
    }
    // A flat array in RESP2 and RESP3 alike, as Redis 7.0 replies.
    Frame::Array(out)
}

/// `PUBSUB NUMSUB [channel ...]` — `[channel, count, ...]` (pattern subscribers excluded).
fn cmd_pubsub_numsub(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    Ok(numsub_generic(ctx, args, false))
}

/// `PUBSUB SHARDNUMSUB [shardchannel ...]`
fn cmd_pubsub_shardnumsub(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    Ok(numsub_generic(ctx, args, true))
}

/// `PUBSUB NUMPAT` — distinct patterns subscribed to by any client.
fn cmd_pubsub_numpat(ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    Ok(Frame::Integer(ctx.engine.pubsub.numpat() as i64))
}

const PUBSUB_HELP: &[&str] = &[
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
];

/// `PUBSUB HELP`
fn cmd_pubsub_help(_ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    Ok(help_reply(PUBSUB_HELP))
}

/// The PUBSUB container's handler is never called (the dispatcher picks a subcommand).
fn cmd_pubsub(_ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    Err(OpError::Arity("pubsub".into()))
}

/// Flags of the (un)subscribe commands, as Redis 7.0 declares them.
const SUB: u32 = PUBSUB | NOSCRIPT | LOADING | STALE;
/// PUBSUB's introspection subcommands.
const INTRO: u32 = PUBSUB | LOADING | STALE;

/// SSUBSCRIBE / SUNSUBSCRIBE: every argument is a (shard) channel "key".
const SHARD_ALL: crate::command::KeySpec = crate::command::keys(1, -1, 1);

const fn pubsub_sub(
    name: &'static str,
    arity: i32,
    flags: u32,
    handler: crate::command::Handler,
    since: &'static str,
    summary: &'static str,
) -> CommandSpec {
    CommandSpec::new(name, arity, flags, NO_KEYS, handler).doc("pubsub", since, summary)
}

const PUBSUB_SUBCOMMANDS: &[CommandSpec] = &[
    pubsub_sub(
        "pubsub|channels",
        -2,
        INTRO,
        cmd_pubsub_channels,
        "2.8.0",
        "Returns the active channels.",
    ),
    pubsub_sub(
        "pubsub|numpat",
        2,
        INTRO,
        cmd_pubsub_numpat,
        "2.8.0",
        "Returns a count of unique pattern subscriptions.",
    ),
    pubsub_sub(
        "pubsub|numsub",
        -2,
        INTRO,
        cmd_pubsub_numsub,
        "2.8.0",
        "Returns a count of subscribers to channels.",
    ),
    pubsub_sub(
        "pubsub|shardchannels",
        -2,
        INTRO,
        cmd_pubsub_shardchannels,
        "7.0.0",
        "Returns the active shard channels.",
    ),
    pubsub_sub(
        "pubsub|shardnumsub",
        -2,
        INTRO,
        cmd_pubsub_shardnumsub,
        "7.0.0",
        "Returns the count of subscribers of shard channels.",
    ),
    pubsub_sub(
        "pubsub|help",
        2,
        LOADING | STALE,
        cmd_pubsub_help,
        "6.2.0",
        "Returns helpful text about the different subcommands.",
    )
    // Only @slow, as in Redis: HELP is not a pub/sub operation.
    .acl(crate::command::ACL_NO_GROUP),
];

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("subscribe", -2, SUB, NO_KEYS, cmd_subscribe).doc(
        "pubsub",
        "2.0.0",
        "Listens for messages published to channels.",
    ),
    CommandSpec::new("unsubscribe", -1, SUB, NO_KEYS, cmd_unsubscribe).doc(
        "pubsub",
        "2.0.0",
        "Stops listening to messages posted to channels.",
    ),
    CommandSpec::new("psubscribe", -2, SUB, NO_KEYS, cmd_psubscribe).doc(
        "pubsub",
        "2.0.0",
        "Listens for messages published to channels that match one or more patterns.",
    ),
    CommandSpec::new("punsubscribe", -1, SUB, NO_KEYS, cmd_punsubscribe).doc(
        "pubsub",
        "2.0.0",
        "Stops listening to messages published to channels that match one or more patterns.",
    ),
    CommandSpec::new("ssubscribe", -2, SUB, SHARD_ALL, cmd_ssubscribe).doc(
        "pubsub",
        "7.0.0",
        "Listens for messages published to shard channels.",
    ),
    CommandSpec::new("sunsubscribe", -1, SUB, SHARD_ALL, cmd_sunsubscribe).doc(
        "pubsub",
        "7.0.0",
        "Stops listening to messages posted to shard channels.",
    ),
    CommandSpec::new(
        "publish",
        3,
        PUBSUB | LOADING | STALE | FAST,
        NO_KEYS,
        cmd_publish,
    )
    .doc("pubsub", "2.0.0", "Posts a message to a channel."),
    CommandSpec::new(
        "spublish",
        3,
        PUBSUB | LOADING | STALE | FAST,
        crate::command::KEY1,
        cmd_spublish,
    )
    .doc("pubsub", "7.0.0", "Post a message to a shard channel"),
    CommandSpec::new("pubsub", -2, 0, NO_KEYS, cmd_pubsub)
        .subcommands(PUBSUB_SUBCOMMANDS)
        .doc("pubsub", "2.8.0", "A container for Pub/Sub commands."),
];

#[cfg(test)]
mod tests {
    use crate::pubsub::PushMessage;
    use crate::testing::*;
    use fastkv_resp::Frame;

    /// Everything queued in the session client's sink, as frames.
    fn pushes(s: &mut Session) -> Vec<Frame> {
        let Some(sink) = s.client.sink.clone() else {
            return Vec::new();
        };
        std::iter::from_fn(|| sink.pop())
            .map(|m: PushMessage| m.to_frame())
            .collect()
    }

    fn push(items: Vec<Frame>) -> Frame {
        Frame::Push(items)
    }

    #[test]
    fn subscribe_confirms_each_channel() {
        let mut s = Session::new();
        assert_eq!(s.run(&["SUBSCRIBE", "a", "b", "a"]), Frame::Null);
        assert!(!s.client.take_reply_permission(false));
        assert_eq!(
            pushes(&mut s),
            vec![
                push(vec![bulk("subscribe"), bulk("a"), int(1)]),
                push(vec![bulk("subscribe"), bulk("b"), int(2)]),
                push(vec![bulk("subscribe"), bulk("a"), int(2)]),
            ]
        );
        assert_eq!(s.client.subscriptions(), 2);
    }

    #[test]
    fn unsubscribe_from_nothing_is_one_nil_push() {
        let mut s = Session::new();
        s.run(&["UNSUBSCRIBE"]);
        s.run(&["PUNSUBSCRIBE"]);
        s.run(&["SUNSUBSCRIBE"]);
        assert_eq!(
            pushes(&mut s),
            vec![
                push(vec![bulk("unsubscribe"), Frame::Null, int(0)]),
                push(vec![bulk("punsubscribe"), Frame::Null, int(0)]),
                push(vec![bulk("sunsubscribe"), Frame::Null, int(0)]),
            ]
        );
        // Not in subscriber mode.
        assert_eq!(s.run(&["GET", "x"]), Frame::Null);
    }

    #[test]
    fn resp2_subscriber_mode() {
        let mut s = Session::new();
        s.run(&["SUBSCRIBE", "a"]);
        assert_eq!(
            s.run(&["GET", "x"]),
            err("ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
        );
        assert_eq!(
            s.run(&["CLIENT", "LIST"]),
            err("ERR Can't execute 'client|list': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
        );
        // Unknown commands and arity errors come first.
        assert_eq!(
            s.run(&["GET"]),
            err("ERR wrong number of arguments for 'get' command")
        );
        assert_eq!(s.run(&["PING"]), Frame::Array(vec![bulk("pong"), bulk("")]));
        assert_eq!(
            s.run(&["PING", "hi"]),
            Frame::Array(vec![bulk("pong"), bulk("hi")])
        );
        // Shard subscriptions keep the client in subscriber mode.
        s.run(&["SSUBSCRIBE", "s"]);
        s.run(&["UNSUBSCRIBE"]);
        assert!(matches!(s.run(&["GET", "x"]), Frame::Error(_)));
        s.run(&["SUNSUBSCRIBE", "s"]);
        assert_eq!(s.run(&["GET", "x"]), Frame::Null);
        // RESET leaves everything, silently.
        s.run(&["PSUBSCRIBE", "p*"]);
        pushes(&mut s);
        assert_eq!(s.run(&["RESET"]), Frame::simple("RESET"));
        assert_eq!(s.run(&["PUBSUB", "NUMPAT"]), int(0));
        assert!(pushes(&mut s).is_empty());
    }

    #[test]
    fn resp3_mixes_commands_and_pushes() {
        let mut s = Session::new();
        s.run(&["HELLO", "3"]);
        s.run(&["SUBSCRIBE", "a"]);
        assert_eq!(s.run(&["GET", "x"]), Frame::Null);
        assert_eq!(s.run(&["PING"]), Frame::simple("PONG"));
        pushes(&mut s);
        assert_eq!(s.run(&["PUBLISH", "a", "m"]), int(1));
        assert_eq!(
            pushes(&mut s),
            vec![push(vec![bulk("message"), bulk("a"), bulk("m")])]
        );
    }

    #[test]
    fn publish_reaches_other_clients_and_patterns() {
        let mut s = Session::new();
        let mut other = s.engine.new_client();
        let e = s.engine.clone();
        let run = |c: &mut crate::Client, argv: &[&str]| {
            let args: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
            e.execute(c, &args)
        };
        run(&mut other, &["SUBSCRIBE", "news.1"]);
        run(&mut other, &["PSUBSCRIBE", "news.*", "n[eo]ws.?"]);
        let sink = other.sink.clone();
        assert_eq!(s.run(&["PUBLISH", "news.1", "hello"]), int(3));
        assert_eq!(s.run(&["PUBLISH", "news.10", "x"]), int(1));
        assert_eq!(s.run(&["SPUBLISH", "news.1", "x"]), int(0));
        assert_eq!(s.run(&["PUBSUB", "NUMPAT"]), int(2));
        assert_eq!(
            s.run(&["PUBSUB", "NUMSUB", "news.1", "zz"]),
            Frame::Array(vec![bulk("news.1"), int(1), bulk("zz"), int(0)])
        );
        assert_eq!(
            s.run(&["PUBSUB", "CHANNELS"]),
            Frame::Array(vec![bulk("news.1")])
        );
        assert_eq!(s.run(&["PUBSUB", "CHANNELS", "x*"]), Frame::Array(vec![]));
        assert_eq!(
            s.run(&["PUBSUB", "CHANNELS", "a", "b"]),
            err("ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.")
        );
        let got: Vec<Frame> = sink
            .map(|k| {
                std::iter::from_fn(move || k.pop())
                    .map(|m| m.to_frame())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(got.len(), 3 + 4);
        assert_eq!(
            got.get(3),
            Some(&push(vec![bulk("message"), bulk("news.1"), bulk("hello")]))
        );
        assert_eq!(
            got.get(4),
            Some(&push(vec![
                bulk("pmessage"),
                bulk("news.*"),
                bulk("news.1"),
                bulk("hello")
            ]))
        );
        // CLIENT LIST shows the counts and the P flag.
        let list = match s.run(&["CLIENT", "LIST", "TYPE", "pubsub"]) {
            Frame::Bulk(b) | Frame::Verbatim { text: b, .. } => {
                String::from_utf8_lossy(&b).into_owned()
            }
            f => panic!("{f:?}"),
        };
        assert!(list.contains("flags=P "), "{list}");
        assert!(list.contains("sub=1 psub=2 ssub=0"), "{list}");
        drop(other);
        assert_eq!(s.run(&["PUBLISH", "news.1", "x"]), int(0));
        assert_eq!(s.run(&["PUBSUB", "NUMPAT"]), int(0));
    }

    #[test]
    fn shard_channels() {
        let mut s = Session::new();
        s.run(&["HELLO", "3"]);
        s.run(&["SSUBSCRIBE", "a", "b"]);
        s.run(&["SUBSCRIBE", "c"]);
        assert_eq!(
            pushes(&mut s),
            vec![
                push(vec![bulk("ssubscribe"), bulk("a"), int(1)]),
                push(vec![bulk("ssubscribe"), bulk("b"), int(2)]),
                push(vec![bulk("subscribe"), bulk("c"), int(1)]),
            ]
        );
        assert_eq!(s.run(&["SPUBLISH", "a", "m"]), int(1));
        assert_eq!(s.run(&["PUBLISH", "a", "m"]), int(0));
        assert_eq!(
            s.run(&["PUBSUB", "SHARDNUMSUB", "a", "c"]),
            Frame::Array(vec![bulk("a"), int(1), bulk("c"), int(0)])
        );
        assert_eq!(
            pushes(&mut s),
            vec![push(vec![bulk("smessage"), bulk("a"), bulk("m")])]
        );
    }
}
