"""Differential tests for the string family: hypothesis generates command
sequences over a tiny key space; each command runs on a real redis-server and on
the server under test (RESP3 and RESP2, raw replies) and the replies must match
(errors by full text; TTLs within a tolerance).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from helpers import At, Differential, ServerHandle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

KEYS = ["a", "b", "c", "d", "e"]
VALUES: list[str | bytes] = [
    "",
    "0",
    "1",
    "-1",
    "10",
    "9999",
    "10000",
    "42",
    "-9223372036854775808",
    "9223372036854775807",
    "9223372036854775808",
    "3.5",
    "0.1",
    "1e3",
    "abc",
    "hello world",
    " 7",
    "007",
    "+1",
    b"\x00\xff\r\n",
    "x" * 44,
    "y" * 45,
    "ohmytext",
    "mynewtext",
]
INTS = [
    "0",
    "1",
    "-1",
    "5",
    "100",
    "-100",
    "9223372036854775807",
    "-9223372036854775808",
    "1.5",
    "abc",
    "",
]
FLOATS = [
    "0",
    "1",
    "0.1",
    "-0.1",
    "1.5",
    "-2.25",
    "3.0e3",
    "1e-3",
    "10",
    "-10",
    "inf",
    "-inf",
    "nan",
    "abc",
    "5e",
]
OFFSETS = [0, 1, 2, 3, 5, 10, 20, -1, -2, -5, -100, 100, 536_870_912, "x"]

key = st.sampled_from(KEYS)
value = st.sampled_from(VALUES)

# Expire arguments: deterministic for both servers (far future, past, zero,
# negative, overflow, junk) — no short TTL that could lapse between the two runs.
secs = st.sampled_from(["100", "1000", "86400", "0", "-1", "9999999999999999", "x"])
millis = st.sampled_from(["100000", "5000000", "0", "-5", "9223372036854775807", "1.5"])
abs_secs = st.sampled_from([At(100), At(10_000), "1", "0", "-1"])
abs_millis = st.sampled_from([At(100_000, ms=True), "1", "0", "-1"])

set_option = st.one_of(
    st.sampled_from([["NX"], ["XX"], ["GET"], ["KEEPTTL"], ["nx"], ["FOO"], ["EX"]]),
    secs.map(lambda v: ["EX", v]),
    millis.map(lambda v: ["PX", v]),
    abs_secs.map(lambda v: ["EXAT", v]),
    abs_millis.map(lambda v: ["PXAT", v]),
)
getex_option = st.one_of(
    st.sampled_from([["PERSIST"], ["FOO"], ["EX"]]),
    secs.map(lambda v: ["EX", v]),
    millis.map(lambda v: ["PX", v]),
    abs_secs.map(lambda v: ["EXAT", v]),
    abs_millis.map(lambda v: ["PXAT", v]),
)
lcs_option = st.one_of(
    st.sampled_from([["LEN"], ["IDX"], ["WITHMATCHLEN"], ["FOO"], ["MINMATCHLEN"]]),
    st.sampled_from(["0", "1", "2", "4", "-1", "x"]).map(lambda v: ["MINMATCHLEN", v]),
)


def flat(opts: list[list[Any]]) -> list[Any]:
    return [x for o in opts for x in o]


def with_opts(
    head: st.SearchStrategy[list[Any]], option: st.SearchStrategy[list[Any]], n: int
) -> Any:
    return st.tuples(head, st.lists(option, max_size=n)).map(lambda t: [*t[0], *flat(t[1])])


pairs = st.lists(st.tuples(key, value), min_size=1, max_size=3).map(
    lambda ps: [x for p in ps for x in p]
)

STRING_COMMANDS = [
    "GET",
    "SET",
    "SETNX",
    "SETEX",
    "PSETEX",
    "GETSET",
    "GETDEL",
    "GETEX",
    "MGET",
    "MSET",
    "MSETNX",
    "INCR",
    "DECR",
    "INCRBY",
    "DECRBY",
    "INCRBYFLOAT",
    "APPEND",
    "STRLEN",
    "GETRANGE",
    "SUBSTR",
    "SETRANGE",
    "LCS",
]

# Wrong arity and junk arguments: any command with 0-4 arbitrary arguments.
fuzz = st.tuples(
    st.sampled_from(STRING_COMMANDS),
    st.lists(st.one_of(key, value, st.sampled_from(INTS)), max_size=4),
).map(lambda t: [t[0], *t[1]])

command = st.one_of(
    key.map(lambda k: ["GET", k]),
    with_opts(st.tuples(key, value).map(lambda t: ["SET", *t]), set_option, 3),
    st.tuples(key, value).map(lambda t: ["SETNX", *t]),
    st.tuples(key, secs, value).map(lambda t: ["SETEX", *t]),
    st.tuples(key, millis, value).map(lambda t: ["PSETEX", *t]),
    st.tuples(key, value).map(lambda t: ["GETSET", *t]),
    key.map(lambda k: ["GETDEL", k]),
    with_opts(key.map(lambda k: ["GETEX", k]), getex_option, 2),
    st.lists(key, min_size=1, max_size=4).map(lambda ks: ["MGET", *ks]),
    pairs.map(lambda p: ["MSET", *p]),
    pairs.map(lambda p: ["MSETNX", *p]),
    key.map(lambda k: ["INCR", k]),
    key.map(lambda k: ["DECR", k]),
    st.tuples(key, st.sampled_from(INTS)).map(lambda t: ["INCRBY", *t]),
    st.tuples(key, st.sampled_from(INTS)).map(lambda t: ["DECRBY", *t]),
    st.tuples(key, st.sampled_from(FLOATS)).map(lambda t: ["INCRBYFLOAT", *t]),
    st.tuples(key, value).map(lambda t: ["APPEND", *t]),
    key.map(lambda k: ["STRLEN", k]),
    st.tuples(
        st.sampled_from(["GETRANGE", "SUBSTR"]),
        key,
        st.sampled_from(OFFSETS),
        st.sampled_from(OFFSETS),
    ).map(list),
    st.tuples(key, st.sampled_from(OFFSETS), value).map(lambda t: ["SETRANGE", *t]),
    with_opts(st.tuples(key, key).map(lambda t: ["LCS", *t]), lcs_option, 3),
    # Observers: expiry state and encodings.
    st.tuples(st.sampled_from(["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"]), key).map(list),
    key.map(lambda k: ["OBJECT", "ENCODING", k]),
    fuzz,
)


@pytest.fixture(scope="module", params=[3, 2], ids=["resp3", "resp2"])
def diff(
    request: pytest.FixtureRequest, redis_oracle: ServerHandle, server: ServerHandle
) -> Iterator[Differential]:
    d = Differential(redis_oracle, server, request.param)
    yield d
    d.close()


@settings(
    max_examples=1000,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(commands=st.lists(command, min_size=1, max_size=25))
def test_string_commands_match_redis(diff: Differential, commands: list[list[Any]]) -> None:
    diff.run(commands)


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    commands=st.lists(
        st.one_of(
            st.tuples(
                key,
                st.sampled_from(["0", "10.5", "1", "-3", "1e2", "0.1", "1.5e300", "1e-10"]),
            ).map(lambda t: ["SET", *t]),
            st.tuples(
                key,
                st.sampled_from(FLOATS + ["0.2", "1e308", "-1e308", "0x10", "1e-20", "7.0e-1"]),
            ).map(lambda t: ["INCRBYFLOAT", *t]),
            key.map(lambda k: ["GET", k]),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_incrbyfloat_arithmetic_matches_redis(
    diff: Differential, commands: list[list[Any]]
) -> None:
    """Redis computes INCRBYFLOAT in long double and prints it with %.17Lf,
    trailing zeros trimmed."""
    diff.run(commands)


# Lengths around fastkv's representation boundaries (15 bytes inline, longer ones on the heap)
# and Redis's (44 bytes embstr).
BOUNDARY_LENGTHS = [0, 1, 14, 15, 16, 20, 22, 23, 44, 45, 100]


@pytest.mark.parametrize("n", BOUNDARY_LENGTHS)
def test_encodings_at_representation_boundaries_match_redis(diff: Differential, n: int) -> None:
    """OBJECT ENCODING, reads and in-place edits of strings of each boundary length, and of
    digit strings (int, or too long for one) of the same length."""
    text = "".join(chr(ord("a") + i % 26) for i in range(n))
    digits = "".join(str(1 + i % 9) for i in range(n))
    commands: list[list[Any]] = []
    for k, v in (("s", text), ("d", digits)):
        commands += [
            ["SET", k, v],
            ["OBJECT", "ENCODING", k],
            ["GET", k],
            ["STRLEN", k],
            ["GETRANGE", k, 1, -2],
            ["DUMP", k],
            ["INCR", k],
            ["OBJECT", "ENCODING", k],
            ["SET", k, v],
            ["APPEND", k, ""],
            ["OBJECT", "ENCODING", k],
            ["GET", k],
            ["SET", k, v],
            ["SETRANGE", k, max(n - 1, 0), "Z"],
            ["OBJECT", "ENCODING", k],
            ["GET", k],
            ["SETRANGE", k, n + 3, "!"],
            ["GET", k],
            ["SET", k, v, "GET"],
            ["GETDEL", k],
        ]
    diff.run(commands)


class _Diverging(Differential):
    """A runner whose server under test starts with extra state."""

    def reset(self) -> None:
        super().reset()
        self.s.execute_command("SET", "a", "only-in-sut")
        self.s.execute_command("SET", "t", "v", "EX", 50)
        self.o.execute_command("SET", "t", "v", "EX", 100)


@pytest.mark.parametrize(
    ("commands", "step"),
    [
        ([["STRLEN", "b"], ["GET", "a"]], 2),
        ([["TTL", "t"]], 1),
        ([["KEYS", "*"]], 1),
        ([["DUMP", "a"]], 1),
    ],
)
def test_runner_detects_differences(
    redis_oracle: ServerHandle,
    server: ServerHandle,
    commands: list[list[Any]],
    step: int,
) -> None:
    """The harness itself must be able to fail."""
    d = _Diverging(redis_oracle, server, 3)
    try:
        with pytest.raises(AssertionError, match=f"replies differ at step {step}:"):
            d.run(commands)
    finally:
        d.close()


def test_runner_tolerates_ttl_jitter_and_key_order(
    redis_oracle: ServerHandle, server: ServerHandle
) -> None:
    d = Differential(redis_oracle, server, 2)
    try:
        d.run(
            [
                ["MSET", *[x for k in KEYS for x in (k, "v")]],
                ["KEYS", "*"],
                ["EXPIRE", "a", 100],
                ["TTL", "a"],
            ]
        )
    finally:
        d.close()
