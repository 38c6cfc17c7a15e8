"""Differential tests for the hash family: hypothesis generates command sequences
over a few keys and fields; each command runs on a real redis-server and on the
server under test (RESP3 and RESP2, typed raw replies, see
helpers.TypedDifferential) and the replies must match exactly — except HGETALL /
HKEYS / HVALS (order-free), HRANDFIELD (random: shape and membership) and HSCAN
(cursors: compared over a full iteration).

String commands are mixed in so WRONGTYPE paths are compared; every sequence
ends by reading each key's type, encoding (listpack -> hashtable past 512
entries — hash-max-listpack-entries without a config file — or a 64-byte
field/value) and contents.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from helpers import ServerHandle, TypedDifferential
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

KEYS = ["a", "b", "c", "d"]
FIELDS: list[str | bytes] = ["f", "g", "h", "1", "", b"\x00\xff", "field:x"]
LONG = "v" * 65  # past hash-max-listpack-value (64)
VALUES: list[str | bytes] = [
    "",
    "0",
    "1",
    "-1",
    "10",
    "007",
    " 1",
    "9223372036854775807",
    "-9223372036854775808",
    "1.5",
    "3.0e3",
    "0.1",
    "inf",
    "-inf",
    "abc",
    b"\x00\xff\r\n",
    "x" * 64,
    LONG,
]
INTS = ["0", "1", "-1", "5", "-100", "9223372036854775807", "-9223372036854775808", "1.5", "x", ""]
FLOATS = ["0", "1", "0.1", "-1.5", "1e3", "3.0e-2", "1e308", "inf", "-inf", "nan", "x", "5e", ""]
COUNTS = ["0", "1", "2", "3", "5", "100", "-1", "-2", "-5", "x", "-9223372036854775808"]
PATTERNS = ["*", "f*", "?", "[fg]", "*x*", "nomatch", "\\f", "["]

key = st.sampled_from(KEYS)
hfield = st.sampled_from(FIELDS)
value = st.sampled_from(VALUES)


def flat(opts: list[list[Any]]) -> list[Any]:
    return [x for o in opts for x in o]


field_values = st.lists(st.tuples(hfield, value), min_size=1, max_size=4).map(
    lambda ps: flat([list(p) for p in ps])
)
fields = st.lists(hfield, min_size=1, max_size=4)
scan_option = st.one_of(
    st.sampled_from(PATTERNS).map(lambda p: ["MATCH", p]),
    st.sampled_from(["1", "2", "10", "1000", "0", "-1", "x"]).map(lambda n: ["COUNT", n]),
    st.sampled_from([["FOO"], ["MATCH"], ["NOVALUES"]]),
)
# Many entries (past hash-max-listpack-entries = 512) in one command.
bulk = st.tuples(key, st.integers(min_value=505, max_value=520), st.sampled_from(["", "v"])).map(
    lambda t: ["HSET", t[0], *flat([[f"f{i}", f"{t[2]}{i}"] for i in range(t[1])])]
)

HASH_COMMANDS = [
    "HSET",
    "HSETNX",
    "HGET",
    "HMGET",
    "HMSET",
    "HGETALL",
    "HDEL",
    "HEXISTS",
    "HLEN",
    "HSTRLEN",
    "HKEYS",
    "HVALS",
    "HINCRBY",
    "HINCRBYFLOAT",
    "HRANDFIELD",
    "HSCAN",
]

# Wrong arity and junk arguments: any hash command with 0-4 arbitrary arguments.
fuzz = st.tuples(
    st.sampled_from(HASH_COMMANDS),
    st.lists(st.one_of(key, hfield, value, st.sampled_from(COUNTS)), max_size=4),
).map(lambda t: [t[0], *t[1]])

command = st.one_of(
    st.tuples(key, field_values).map(lambda t: ["HSET", t[0], *t[1]]),
    st.tuples(key, field_values).map(lambda t: ["HMSET", t[0], *t[1]]),
    st.tuples(key, hfield, value).map(lambda t: ["HSETNX", *t]),
    st.tuples(key, hfield).map(lambda t: ["HGET", *t]),
    st.tuples(key, fields).map(lambda t: ["HMGET", t[0], *t[1]]),
    key.map(lambda k: ["HGETALL", k]),
    st.tuples(key, fields).map(lambda t: ["HDEL", t[0], *t[1]]),
    st.tuples(key, hfield).map(lambda t: ["HEXISTS", *t]),
    key.map(lambda k: ["HLEN", k]),
    st.tuples(key, hfield).map(lambda t: ["HSTRLEN", *t]),
    key.map(lambda k: ["HKEYS", k]),
    key.map(lambda k: ["HVALS", k]),
    st.tuples(key, hfield, st.sampled_from(INTS)).map(lambda t: ["HINCRBY", *t]),
    st.tuples(key, hfield, st.sampled_from(FLOATS)).map(lambda t: ["HINCRBYFLOAT", *t]),
    st.tuples(
        key,
        st.lists(st.sampled_from(COUNTS), max_size=1),
        st.lists(st.sampled_from(["WITHVALUES", "withvalues", "FOO"]), max_size=2),
    ).map(lambda t: ["HRANDFIELD", t[0], *t[1], *(t[2] if t[1] else [])]),
    st.tuples(key, st.lists(scan_option, max_size=3)).map(lambda t: ["HSCAN*", t[0], *flat(t[1])]),
    st.tuples(key, st.sampled_from(["0", "x", "-1.5", "18446744073709551616"])).map(
        lambda t: ["HSCAN", *t]
    ),
    bulk,
    # Other types, so WRONGTYPE paths are compared.
    st.tuples(key, value).map(lambda t: ["SET", *t]),
    key.map(lambda k: ["GET", k]),
    st.tuples(key, value).map(lambda t: ["SADD", *t]),
    st.lists(key, min_size=1, max_size=2).map(lambda ks: ["DEL", *ks]),
    st.tuples(st.sampled_from(["TYPE", "EXISTS", "DUMP"]), key).map(list),
    key.map(lambda k: ["OBJECT", "ENCODING", k]),
    st.tuples(key, key).map(lambda t: ["COPY", *t, "REPLACE"]),
    st.tuples(key, key).map(lambda t: ["RENAME", *t]),
    fuzz,
)


def epilogue() -> list[list[Any]]:
    return [
        cmd
        for k in KEYS
        for cmd in (
            ["TYPE", k],
            ["OBJECT", "ENCODING", k],
            ["HGETALL", k],
            ["HLEN", k],
        )
    ]


@pytest.fixture(scope="module", params=[3, 2], ids=["resp3", "resp2"])
def diff(
    request: pytest.FixtureRequest, redis_oracle: ServerHandle, server: ServerHandle
) -> Iterator[TypedDifferential]:
    d = TypedDifferential(redis_oracle, server, request.param)
    yield d
    d.close()


@settings(
    max_examples=600,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(commands=st.lists(command, min_size=1, max_size=25))
def test_hash_commands_match_redis(diff: TypedDifferential, commands: list[list[Any]]) -> None:
    diff.run(commands + epilogue())


@settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    n=st.integers(min_value=505, max_value=520),
    commands=st.lists(command, min_size=1, max_size=10),
)
def test_large_hashes_match_redis(
    diff: TypedDifferential, n: int, commands: list[list[Any]]
) -> None:
    """Hashes around the listpack entry limit, converted or not, then any commands."""
    big = ["HSET", "a", *flat([[f"f{i}", str(i)] for i in range(n)])]
    diff.run([big, ["HSET", "b", "f", LONG], *commands, ["HSCAN*", "a"], *epilogue()])


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    commands=st.lists(
        st.one_of(
            st.tuples(st.sampled_from(["1", "0.1", "-3", "1e2", "1.5e300", "abc", "7"])).map(
                lambda t: ["HSET", "a", "f", *t]
            ),
            st.sampled_from(FLOATS + ["0.2", "1e-10", "-1e308", "0x10", "7.0e-1"]).map(
                lambda v: ["HINCRBYFLOAT", "a", "f", v]
            ),
            st.sampled_from(INTS).map(lambda v: ["HINCRBY", "a", "f", v]),
            st.just(["HGET", "a", "f"]),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_hincrbyfloat_arithmetic_matches_redis(
    diff: TypedDifferential, commands: list[list[Any]]
) -> None:
    """HINCRBYFLOAT uses a long double and %.17Lf with trailing zeros trimmed."""
    diff.run(commands)


class _Diverging(TypedDifferential):
    def reset(self) -> None:
        super().reset()
        self.ok(self.s, "HSET", "a", "only-in-sut", "1")


@pytest.mark.parametrize(
    ("commands", "step"),
    [
        ([["HLEN", "b"], ["HGETALL", "a"]], 2),
        ([["HRANDFIELD", "a", "-20"]], 1),
        ([["HSCAN*", "a"]], 1),
        ([["DUMP", "a"]], 1),
    ],
)
def test_runner_detects_differences(
    redis_oracle: ServerHandle, server: ServerHandle, commands: list[list[Any]], step: int
) -> None:
    """The harness itself must be able to fail."""
    for protocol in (3, 2):
        d = _Diverging(redis_oracle, server, protocol)
        try:
            with pytest.raises(AssertionError, match=f"replies differ at step {step + 1}:"):
                d.run([["HSET", "a", "x", "1"], *commands])
        finally:
            d.close()
