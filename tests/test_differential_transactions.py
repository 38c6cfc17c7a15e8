"""Differential tests for transactions: the same raw command sequences, from two
clients (A and B) interleaved step by step, against a real redis-server and the
server under test, with the exact reply bytes compared at every step.

Client A WATCHes, queues and EXECs; client B writes in between (WATCH races), so
every step lands deterministically between the other client's. Written scenarios
cover each kind of modification; generated ones (hypothesis) mix them at random.
Databases used: 0 and 1.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pytest
from helpers import RawConn, ServerHandle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

Step = tuple[str, Sequence[str]]  # ("A" | "B", argv), or ("sleep", [ms])


@dataclass
class Pair:
    """Two connections (A, B) to one server."""

    a: RawConn
    b: RawConn

    def close(self) -> None:
        self.a.close()
        self.b.close()


def connect(handle: ServerHandle, protocol: int) -> Pair:
    pair = Pair(handle.raw(), handle.raw())
    for c in (pair.a, pair.b):
        if protocol == 3:
            c.command("HELLO", "3")
    return pair


class TwoClientDifferential:
    def __init__(self, oracle: ServerHandle, sut: ServerHandle, protocol: int) -> None:
        self.protocol = protocol
        self.o = connect(oracle, protocol)
        self.s = connect(sut, protocol)

    def close(self) -> None:
        self.o.close()
        self.s.close()

    def run(self, steps: Sequence[Step]) -> None:
        for pair in (self.o, self.s):
            for c in (pair.a, pair.b):
                c.command("RESET")
                if self.protocol == 3:
                    c.command("HELLO", "3")
            pair.a.command("FLUSHALL")
        transcript: list[str] = []
        for who, argv in steps:
            if who == "sleep":
                time.sleep(int(argv[0]) / 1000)
                transcript.append(f"sleep {argv[0]} ms")
                continue
            o = getattr(self.o, who.lower()).command(*argv)
            s = getattr(self.s, who.lower()).command(*argv)
            transcript.append(f"{who}: {list(argv)!r}\n    redis: {o!r}\n    sut:   {s!r}")
            if o != s:
                raise AssertionError(
                    f"RESP{self.protocol} replies differ at step {len(transcript)}:\n"
                    + "\n".join(transcript)
                )


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def diff(
    request: pytest.FixtureRequest, redis_oracle: ServerHandle, server: ServerHandle
) -> Iterator[TwoClientDifferential]:
    d = TwoClientDifferential(redis_oracle, server, int(request.param))
    yield d
    d.close()


def A(*argv: str) -> Step:
    return ("A", argv)


def B(*argv: str) -> Step:
    return ("B", argv)


def sleep(ms: int) -> Step:
    return ("sleep", [str(ms)])


def watch_race(setup: Sequence[Step], key: str, touch: Sequence[Step]) -> list[Step]:
    """A WATCHes `key`, B runs `touch`, A runs a transaction that reads and writes it."""
    return [
        *setup,
        A("WATCH", key),
        *touch,
        A("MULTI"),
        A("GET", key),
        A("SET", key, "from-a"),
        A("EXEC"),
        A("GET", key),
        B("GET", key),
    ]


SCENARIOS: dict[str, list[Step]] = {
    "basic": [
        A("MULTI"),
        A("SET", "k", "1"),
        A("INCR", "k"),
        A("LPUSH", "k", "x"),
        A("GET", "k"),
        A("EXEC"),
        A("MULTI"),
        A("EXEC"),
    ],
    "control-errors": [
        A("EXEC"),
        A("DISCARD"),
        A("MULTI"),
        A("MULTI"),
        A("WATCH", "k"),
        A("SET", "k", "1"),
        A("EXEC"),
        A("MULTI"),
        A("SET", "k", "2"),
        A("DISCARD"),
        A("GET", "k"),
        A("UNWATCH"),
    ],
    "execabort-unknown": [
        A("MULTI"),
        A("SET", "k", "1"),
        A("NOSUCH", "x"),
        A("EXEC"),
        A("EXISTS", "k"),
    ],
    "execabort-arity": [A("MULTI"), A("SET", "k"), A("GET", "k"), A("EXEC"), A("EXEC")],
    "execabort-subcommand": [A("MULTI"), A("CLIENT", "NOSUCH"), A("EXEC")],
    "execabort-no-multi": [A("MULTI"), A("SAVE"), A("PING"), A("EXEC")],
    "execabort-unwatches": [
        A("WATCH", "k"),
        A("MULTI"),
        A("NOSUCH"),
        A("EXEC"),
        B("SET", "k", "1"),
        A("MULTI"),
        A("EXEC"),
    ],
    "blocking-in-multi": [
        A("MULTI"),
        A("BLPOP", "none", "0"),
        A("BZPOPMIN", "none", "0"),
        A("RPUSH", "l", "a", "b"),
        A("BLPOP", "l", "0"),
        A("BLMOVE", "l", "m", "LEFT", "RIGHT", "0"),
        A("BLMPOP", "0", "1", "none", "LEFT"),
        A("EXEC"),
        A("LRANGE", "m", "0", "-1"),
    ],
    "select-in-multi": [
        A("MULTI"),
        A("SELECT", "1"),
        A("SET", "k", "db1"),
        A("SELECT", "0"),
        A("EXEC"),
        A("GET", "k"),
        A("SELECT", "1"),
        A("GET", "k"),
    ],
    "unwatch-in-multi-is-queued": [
        A("WATCH", "k"),
        B("SET", "k", "1"),
        A("MULTI"),
        A("UNWATCH"),
        A("EXEC"),
    ],
    "discard-unwatches": [
        A("WATCH", "k"),
        B("SET", "k", "1"),
        A("MULTI"),
        A("DISCARD"),
        A("MULTI"),
        A("EXEC"),
    ],
    "reset-discards": [
        A("WATCH", "k"),
        A("MULTI"),
        A("SET", "k", "1"),
        A("RESET"),
        A("EXEC"),
        A("EXISTS", "k"),
    ],
    "own-write": watch_race([], "k", [A("SET", "k", "mine")]),
    "other-key": watch_race([], "k", [B("SET", "j", "1")]),
    "other-db": watch_race([], "k", [B("SELECT", "1"), B("SET", "k", "1"), B("SELECT", "0")]),
    "read-only": watch_race([B("SET", "k", "1")], "k", [B("GET", "k"), B("EXISTS", "k")]),
    "set": watch_race([], "k", [B("SET", "k", "1")]),
    "set-nx-fails": watch_race([B("SET", "k", "0")], "k", [B("SET", "k", "1", "NX")]),
    "set-same-value": watch_race([B("SET", "k", "v")], "k", [B("SET", "k", "v")]),
    "del": watch_race([B("SET", "k", "1")], "k", [B("DEL", "k")]),
    "del-missing": watch_race([B("SET", "j", "1")], "k", [B("DEL", "k", "j")]),
    "incr": watch_race([], "k", [B("INCR", "k")]),
    "append": watch_race([], "k", [B("APPEND", "k", "x")]),
    "expire": watch_race([B("SET", "k", "1")], "k", [B("EXPIRE", "k", "100")]),
    "expire-missing": watch_race([], "k", [B("EXPIRE", "k", "100")]),
    "persist": watch_race([B("SET", "k", "1", "EX", "100")], "k", [B("PERSIST", "k")]),
    "persist-noop": watch_race([B("SET", "k", "1")], "k", [B("PERSIST", "k")]),
    "rename-src": watch_race([B("SET", "k", "1")], "k", [B("RENAME", "k", "j")]),
    "rename-dst": watch_race([B("SET", "j", "1")], "k", [B("RENAME", "j", "k")]),
    "move": watch_race([B("SET", "k", "1")], "k", [B("MOVE", "k", "1")]),
    "move-into-watched-db": [
        B("SELECT", "1"),
        B("SET", "k", "1"),
        A("SELECT", "0"),
        A("WATCH", "k"),
        B("MOVE", "k", "0"),
        A("MULTI"),
        A("GET", "k"),
        A("EXEC"),
    ],
    "copy-dst": watch_race([B("SET", "j", "1")], "k", [B("COPY", "j", "k")]),
    "lpush": watch_race([], "k", [B("LPUSH", "k", "a")]),
    "lpop": watch_race([B("RPUSH", "k", "a", "b")], "k", [B("LPOP", "k")]),
    "lpop-empty": watch_race([], "k", [B("LPOP", "k")]),
    "lmove-src": watch_race([B("RPUSH", "k", "a")], "k", [B("LMOVE", "k", "d", "LEFT", "LEFT")]),
    "lmove-dst": watch_race([B("RPUSH", "s", "a")], "k", [B("LMOVE", "s", "k", "LEFT", "LEFT")]),
    "lrem-noop": watch_race([B("RPUSH", "k", "a")], "k", [B("LREM", "k", "0", "z")]),
    "hset": watch_race([], "k", [B("HSET", "k", "f", "v")]),
    "hdel-noop": watch_race([B("HSET", "k", "f", "v")], "k", [B("HDEL", "k", "g")]),
    "sadd": watch_race([], "k", [B("SADD", "k", "m")]),
    "sadd-existing": watch_race([B("SADD", "k", "m")], "k", [B("SADD", "k", "m")]),
    "srem-noop": watch_race([B("SADD", "k", "m")], "k", [B("SREM", "k", "x")]),
    "sinterstore-dst": watch_race([B("SADD", "s", "a")], "k", [B("SINTERSTORE", "k", "s")]),
    "zadd": watch_race([], "k", [B("ZADD", "k", "1", "m")]),
    "zincrby": watch_race([B("ZADD", "k", "1", "m")], "k", [B("ZINCRBY", "k", "1", "m")]),
    "mset": watch_race([], "k", [B("MSET", "a", "1", "k", "2")]),
    "msetnx-fails": watch_race([B("SET", "a", "1")], "k", [B("MSETNX", "a", "1", "k", "2")]),
    "flushdb": watch_race([B("SET", "k", "1")], "k", [B("FLUSHDB")]),
    "flushdb-key-missing": watch_race([B("SET", "j", "1")], "k", [B("FLUSHDB")]),
    "flushall": watch_race([B("SET", "k", "1")], "k", [B("FLUSHALL")]),
    "flushall-other-db": watch_race(
        [B("SELECT", "1"), B("SET", "j", "1"), B("SELECT", "0")], "k", [B("FLUSHALL")]
    ),
    "swapdb-key-here": watch_race([B("SET", "k", "1")], "k", [B("SWAPDB", "0", "1")]),
    "swapdb-key-there": watch_race(
        [B("SELECT", "1"), B("SET", "k", "1"), B("SELECT", "0")], "k", [B("SWAPDB", "0", "1")]
    ),
    "swapdb-key-nowhere": watch_race([B("SET", "j", "1")], "k", [B("SWAPDB", "0", "1")]),
    "swapdb-other-dbs": watch_race([B("SET", "k", "1")], "k", [B("SWAPDB", "1", "2")]),
    "exec-by-other": watch_race([], "k", [B("MULTI"), B("SET", "k", "1"), B("EXEC")]),
    "discard-by-other": watch_race([], "k", [B("MULTI"), B("SET", "k", "1"), B("DISCARD")]),
    "eval-write": watch_race(
        [], "k", [B("EVAL", "return redis.call('set', KEYS[1], 'x')", "1", "k")]
    ),
    "eval-read": watch_race(
        [B("SET", "k", "1")], "k", [B("EVAL", "return redis.call('get', KEYS[1])", "1", "k")]
    ),
    "eval-undeclared-key": watch_race(
        [], "k", [B("EVAL", "return redis.call('set', 'k', 'x')", "0")]
    ),
    "eval-in-multi": [
        A("MULTI"),
        A("EVAL", "return redis.call('incr', KEYS[1])", "1", "n"),
        A("INCR", "n"),
        A("EVAL", "return redis.call('nosuch')", "0"),
        A("EXEC"),
    ],
    "two-watchers": [
        A("WATCH", "k"),
        B("WATCH", "k"),
        A("MULTI"),
        A("INCR", "k"),
        A("EXEC"),
        B("MULTI"),
        B("INCR", "k"),
        B("EXEC"),
        B("GET", "k"),
    ],
    "watch-twice-and-many-keys": [
        A("WATCH", "a", "b", "a"),
        A("WATCH", "c"),
        B("SET", "c", "1"),
        A("MULTI"),
        A("EXEC"),
        A("WATCH", "a", "b"),
        A("MULTI"),
        A("EXEC"),
    ],
    "expiry-between-watch-and-exec": [
        B("SET", "k", "1", "PX", "100"),
        A("WATCH", "k"),
        sleep(250),
        A("MULTI"),
        A("SET", "k", "2"),
        A("EXEC"),
        A("GET", "k"),
    ],
    "already-expired-at-watch": [
        B("SET", "k", "1", "PX", "20"),
        sleep(100),
        A("WATCH", "k"),
        A("MULTI"),
        A("SET", "k", "2"),
        A("EXEC"),
        A("GET", "k"),
    ],
    "expiry-seen-by-a-read": [
        B("SET", "k", "1", "PX", "100"),
        A("WATCH", "k"),
        sleep(250),
        B("GET", "k"),
        A("MULTI"),
        A("EXEC"),
    ],
    "not-yet-expired": [
        B("SET", "k", "1", "EX", "100"),
        A("WATCH", "k"),
        A("MULTI"),
        A("TTL", "k"),
        A("EXEC"),
    ],
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario(diff: TwoClientDifferential, name: str) -> None:
    diff.run(SCENARIOS[name])


def test_blocking_move_in_multi(diff: TwoClientDifferential) -> None:
    diff.run(
        [
            A("MULTI"),
            A("BRPOPLPUSH", "none", "dst", "0"),
            A("BLMOVE", "none", "dst", "LEFT", "RIGHT", "0"),
            A("EXEC"),
        ]
    )


# ----------------------------------------------------------------------------
# Generated interleavings
# ----------------------------------------------------------------------------

KEYS = ["a", "b", "c"]
key = st.sampled_from(KEYS)
val = st.sampled_from(["1", "2", "x"])

b_write = st.one_of(
    st.tuples(st.just("SET"), key, val),
    st.tuples(st.just("SET"), key, val, st.just("NX")),
    st.tuples(st.just("SET"), key, val, st.just("XX")),
    st.tuples(st.just("DEL"), key, key),
    st.tuples(st.just("INCR"), key),
    st.tuples(st.just("RPUSH"), key, val),
    st.tuples(st.just("LPOP"), key),
    st.tuples(st.just("SADD"), key, val),
    st.tuples(st.just("SREM"), key, val),
    st.tuples(st.just("HSET"), key, st.just("f"), val),
    st.tuples(st.just("EXPIRE"), key, st.just("100")),
    st.tuples(st.just("PERSIST"), key),
    st.tuples(st.just("RENAME"), key, key),
    st.tuples(st.just("COPY"), key, key),
    st.tuples(st.just("MOVE"), key, st.sampled_from(["0", "1"])),
    st.tuples(st.just("SELECT"), st.sampled_from(["0", "1"])),
    st.tuples(st.just("FLUSHDB")),
    st.tuples(st.just("SWAPDB"), st.just("0"), st.just("1")),
    st.tuples(st.just("GET"), key),
)
a_step = st.one_of(
    st.tuples(st.just("WATCH"), key),
    st.tuples(st.just("WATCH"), key, key),
    st.tuples(st.just("UNWATCH")),
    st.tuples(st.just("MULTI")),
    st.tuples(st.just("EXEC")),
    st.tuples(st.just("DISCARD")),
    st.tuples(st.just("GET"), key),
    st.tuples(st.just("INCR"), key),
    st.tuples(st.just("SET"), key, val),
    st.tuples(st.just("LPUSH"), key, val),
    st.tuples(st.just("SELECT"), st.sampled_from(["0", "1"])),
    st.tuples(st.just("NOSUCH")),
    st.tuples(st.just("GET")),
)
step = st.one_of(
    st.tuples(st.just("A"), a_step),
    st.tuples(st.just("B"), b_write),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(step, min_size=1, max_size=25))
def test_generated_interleavings(
    diff: TwoClientDifferential, steps: list[tuple[str, tuple[str, ...]]]
) -> None:
    # Always finish with a transaction, so the last WATCHes are judged.
    tail: list[Step] = [A("MULTI"), A("GET", "a"), A("EXEC"), A("EXEC")]
    diff.run([(who, list(argv)) for who, argv in steps] + tail)
