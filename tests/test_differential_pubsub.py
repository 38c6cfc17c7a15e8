"""Differential tests for Pub/Sub: scripted sessions of several raw connections run on a
real redis-server and on the server under test, and every byte each connection receives
must match — subscription confirmations, messages, pushes (RESP3) and arrays (RESP2),
subscriber-mode errors, PUBSUB introspection, arities and error texts.

Each step sends one command on one connection; then every open connection is sent
`PING sync-N` and read up to its reply, so whatever a step delivered anywhere (a
PUBLISH reaching three subscribers) is collected without sleeping: both servers queue
a message for its subscribers before the PUBLISH reply is sent, and write a
connection's output in order.

Redis iterates hash tables in an order that is random per process: a client's channels
when it unsubscribes from all of them, and the patterns a message matches (one client
matching several patterns gets its pmessages in that order). Steps that depend on it
are marked unordered and compared as multisets.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from helpers import (
    RawConn,
    ServerHandle,
    encode_command,
    oracle_command,
    server_command,
    start_server,
    stop_server,
)

Arg = str | bytes


@dataclass
class Step:
    conn: int
    args: Sequence[Arg]
    unordered: bool = False
    # The reply is not compared (HELLO's carries the client id).
    ignore: bool = False


def s(conn: int, *args: Arg) -> Step:
    return Step(conn, args)


def unordered(conn: int, *args: Arg) -> Step:
    return Step(conn, args, unordered=True)


def ignored(conn: int, *args: Arg) -> Step:
    return Step(conn, args, ignore=True)


@dataclass
class Session:
    handle: ServerHandle
    conns: dict[int, RawConn] = field(default_factory=dict)
    closed: set[int] = field(default_factory=set)

    def conn(self, i: int) -> RawConn:
        if i not in self.conns:
            self.conns[i] = self.handle.raw(timeout=5)
        return self.conns[i]

    def close(self) -> None:
        for c in self.conns.values():
            c.close()


def is_sync_reply(frame: bytes, token: bytes) -> bool:
    bulk = b"$%d\r\n%s\r\n" % (len(token), token)
    return frame == bulk or frame == b"*2\r\n$4\r\npong\r\n" + bulk


def unordered_view(frames: list[bytes]) -> list[bytes]:
    """Frames as a multiset. Confirmations' counts depend on the order they come in:
    compared as a multiset of their own, apart from the frames."""
    bodies, counts = [], []
    for f in frames:
        m = re.fullmatch(rb"(.*\r\n)(:\d+\r\n)", f, re.S)
        if m and f.startswith((b"*3\r\n$11\r\nunsubscribe", b">3\r\n$11\r\nunsubscribe")):
            bodies.append(m.group(1))
            counts.append(m.group(2))
        else:
            bodies.append(f)
    return sorted(bodies) + sorted(counts)


def run_session(handle: ServerHandle, steps: Sequence[Step]) -> list[str]:
    """The transcript: per step, what each connection received."""
    sess = Session(handle)
    out: list[str] = []
    try:
        for n, step in enumerate(steps):
            c = sess.conn(step.conn)
            c.send(encode_command(*step.args))
            if [a.upper() if isinstance(a, str) else a for a in step.args[:1]] == ["QUIT"]:
                out.append(f"{n} c{step.conn} {step.args!r} -> {c.read_until_closed()!r}")
                sess.closed.add(step.conn)
            token = b"sync-%d" % n
            # The step's own connection first: its sync reply proves the command ran.
            order = sorted(sess.conns, key=lambda i: (i != step.conn, i))
            lines: dict[int, str] = {}
            for i in order:
                if i in sess.closed:
                    continue
                conn = sess.conns[i]
                conn.send(encode_command("PING", token))
                frames: list[bytes] = []
                while True:
                    f = conn.read_raw_reply()
                    if is_sync_reply(f, token):
                        break
                    frames.append(f)
                if step.ignore and i == step.conn:
                    frames = frames[1:]
                if step.unordered:
                    frames = unordered_view(frames)
                lines[i] = f"{n} c{i} after {step.args!r}: {frames!r}"
            out.extend(line for _, line in sorted(lines.items()))
    finally:
        sess.close()
    return out


@pytest.fixture(scope="module")
def servers(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServerHandle, ServerHandle]]:
    """A private redis-server and server under test (PUBSUB NUMPAT and CHANNELS are
    global: no other test's subscribers may be around)."""
    oracle_cmd = oracle_command()
    if oracle_cmd is None:
        pytest.skip("redis-server is not on PATH: differential tests need the real Redis oracle")
    base: Path = tmp_path_factory.mktemp("pubsub-diff")
    oracle = start_server(oracle_cmd, base / "oracle")
    under_test = start_server(server_command(), base / "fastkv")
    yield oracle, under_test
    stop_server(oracle)
    stop_server(under_test)


SCENARIOS: dict[str, list[Step]] = {
    "resp2_subscribe_unsubscribe": [
        s(0, "SUBSCRIBE", "a", "b", "a"),
        s(1, "PUBLISH", "a", "x"),
        s(1, "PUBLISH", "b", "y"),
        s(1, "PUBLISH", "c", "z"),
        s(0, "GET", "k"),
        s(0, "CLIENT", "LIST"),
        s(0, "PUBLISH", "a", "self"),
        s(0, "PING"),
        s(0, "PING", "hi"),
        s(0, "PING", "a", "b"),
        s(0, "GET"),
        s(0, "NOSUCHCMD", "x"),
        s(0, "UNSUBSCRIBE", "b"),
        s(0, "UNSUBSCRIBE", "zz", "b"),
        s(0, "PSUBSCRIBE", "a*", "[b]*", "a*"),
        s(1, "PUBLISH", "a", "z"),
        s(1, "PUBLISH", "b", "w"),
        s(1, "PUBLISH", "abc", "v"),
        s(0, "PUNSUBSCRIBE", "a*"),
        s(0, "UNSUBSCRIBE"),
        s(0, "PUNSUBSCRIBE"),
        s(0, "GET", "k"),
        s(0, "UNSUBSCRIBE"),
        s(0, "PUNSUBSCRIBE"),
        s(0, "SUNSUBSCRIBE"),
    ],
    "resp3_pushes_interleave": [
        ignored(0, "HELLO", "3"),
        s(0, "SUBSCRIBE", "ch"),
        s(0, "SET", "k", "v"),
        s(1, "PUBLISH", "ch", "m"),
        s(0, "GET", "k"),
        s(0, "PUBLISH", "ch", "self"),
        s(0, "PSUBSCRIBE", "c*"),
        s(1, "PUBLISH", "ch", "m2"),
        s(0, "PING"),
        s(0, "UNSUBSCRIBE"),
        s(0, "PUNSUBSCRIBE"),
        s(0, "PUNSUBSCRIBE"),
        s(0, "SSUBSCRIBE", "ch"),
        s(1, "SPUBLISH", "ch", "sm"),
        s(0, "SUNSUBSCRIBE"),
    ],
    "several_subscribers_and_patterns": [
        s(0, "SUBSCRIBE", "news.tech"),
        s(1, "PSUBSCRIBE", "news.*", "*.tech", "n?ws.[a-t]ech", "news.\\*"),
        s(2, "SUBSCRIBE", "news.tech", "news.*"),
        unordered(3, "PUBLISH", "news.tech", "one"),
        unordered(3, "PUBLISH", "news.*", "two"),
        unordered(3, "PUBLISH", "NEWS.tech", "three"),
        unordered(3, "PUBLISH", "news.sport", ""),
        unordered(3, "PUBLISH", "x.tech", b"\x00\xff\r\n"),
        s(3, "PUBSUB", "NUMSUB", "news.tech", "news.*", "nope"),
        s(3, "PUBSUB", "NUMPAT"),
        s(3, "PUBSUB", "CHANNELS", "news.t*"),
        s(3, "PUBSUB", "CHANNELS", "zzz*"),
        s(1, "PUNSUBSCRIBE", "*.tech"),
        s(3, "PUBLISH", "x.tech", "gone"),
        s(3, "PUBSUB", "NUMPAT"),
        unordered(2, "UNSUBSCRIBE"),
        s(3, "PUBSUB", "NUMSUB", "news.tech", "news.*"),
    ],
    "binary_names": [
        s(0, "SUBSCRIBE", b"\x00\xff", b"a b\r\n"),
        s(1, "PSUBSCRIBE", b"*\r\n*"),
        s(2, "PUBLISH", b"\x00\xff", b"\x01"),
        s(2, "PUBLISH", b"a b\r\n", b"m"),
        s(2, "PUBLISH", b"x\r\ny", b"m"),
        s(2, "PUBSUB", "NUMSUB", b"\x00\xff"),
    ],
    "shard_channels": [
        s(0, "SSUBSCRIBE", "s1", "s2", "s1"),
        s(0, "SUBSCRIBE", "c"),
        s(1, "SPUBLISH", "s1", "m"),
        s(1, "PUBLISH", "s1", "m"),
        s(1, "SPUBLISH", "c", "m"),
        s(1, "PUBSUB", "SHARDCHANNELS", "s1"),
        s(1, "PUBSUB", "SHARDCHANNELS", "x*"),
        s(1, "PUBSUB", "SHARDNUMSUB", "s1", "s2", "s3"),
        s(1, "PUBSUB", "SHARDNUMSUB"),
        s(0, "UNSUBSCRIBE", "c"),
        s(0, "GET", "x"),
        s(0, "SUNSUBSCRIBE", "s1", "nope"),
        s(0, "SUNSUBSCRIBE"),
        s(0, "GET", "x"),
    ],
    "reset_and_quit": [
        s(0, "SUBSCRIBE", "a"),
        s(0, "PSUBSCRIBE", "p*"),
        s(0, "SSUBSCRIBE", "s"),
        s(0, "RESET"),
        s(1, "PUBLISH", "a", "m"),
        s(1, "PUBLISH", "pp", "m"),
        s(1, "SPUBLISH", "s", "m"),
        s(1, "PUBSUB", "NUMPAT"),
        s(0, "GET", "k"),
        s(2, "SUBSCRIBE", "q"),
        s(2, "QUIT"),
        s(1, "PUBSUB", "NUMSUB", "q"),
    ],
    "errors_and_arity": [
        s(0, "PUBSUB"),
        s(0, "PUBSUB", "HELP"),
        s(0, "PUBSUB", "help", "x"),
        s(0, "PUBSUB", "FOO"),
        s(0, "PUBSUB", "NUMPAT", "x"),
        s(0, "PUBSUB", "CHANNELS", "a", "b"),
        s(0, "PUBSUB", "SHARDCHANNELS", "a", "b"),
        s(0, "PUBSUB", "NUMSUB"),
        s(0, "PUBSUB", "CHANNELS"),
        s(0, "PUBLISH", "a"),
        s(0, "PUBLISH", "a", "b", "c"),
        s(0, "SPUBLISH", "a"),
        s(0, "SUBSCRIBE"),
        s(0, "PSUBSCRIBE"),
        s(0, "SSUBSCRIBE"),
    ],
    "command_info": [
        s(0, "COMMAND", "INFO", "subscribe", "unsubscribe", "psubscribe", "punsubscribe"),
        s(0, "COMMAND", "INFO", "publish", "pubsub|help", "pubsub|numpat"),
        s(0, "COMMAND", "INFO", "pubsub|channels", "pubsub|numsub", "pubsub|shardnumsub"),
        s(0, "COMMAND", "INFO", "pubsub|shardchannels"),
    ],
    "output_buffer_limit_config": [
        s(0, "CONFIG", "GET", "client-output-buffer-limit"),
        s(
            0,
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "normal 1mb 2mb 3 replica 4mb 5mb 6 pubsub 7mb 8mb 9",
        ),
        s(0, "CONFIG", "GET", "client-output-buffer-limit"),
        s(0, "CONFIG", "SET", "client-output-buffer-limit", "pubsub 1 2"),
        s(0, "CONFIG", "SET", "client-output-buffer-limit", "bogus 1 2 3"),
        s(0, "CONFIG", "SET", "client-output-buffer-limit", "pubsub x 2 3"),
        s(0, "CONFIG", "SET", "client-output-buffer-limit", "slave 1gb 512mb 0 PUBSUB 0 0 0"),
        s(0, "CONFIG", "GET", "client-output-buffer-limit"),
        s(
            0,
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "normal 0 0 0 slave 256mb 64mb 60 pubsub 32mb 8mb 60",
        ),
        s(0, "CONFIG", "GET", "client-output-buffer-limit"),
    ],
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_pubsub_session_matches_redis(
    servers: tuple[ServerHandle, ServerHandle], name: str
) -> None:
    oracle, under_test = servers
    expected = run_session(oracle, SCENARIOS[name])
    got = run_session(under_test, SCENARIOS[name])
    assert got == expected
