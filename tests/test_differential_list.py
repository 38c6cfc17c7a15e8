"""Differential tests for the list family: hypothesis generates command sequences
over a few keys; each command runs on a real redis-server and on the server under
test (RESP3 and RESP2, typed raw replies, see helpers.TypedDifferential) and the
replies must match exactly — null kinds included (LPOP with a count answers a
null array, without one a null bulk).

Blocking commands appear with short timeouts only (never 0 on keys that may be
empty): they are compared on their immediate path and on their timeout reply.
String and hash commands are mixed in so WRONGTYPE paths and the order of
argument checks against type checks are compared; every sequence ends by reading
each key's type, encoding (`quicklist` for every list in Redis 7.0) and contents.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from helpers import ServerHandle, TypedDifferential
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

KEYS = ["a", "b", "c"]
ELEMENTS: list[str | bytes] = ["x", "y", "z", "1", "-1", "", "007", b"\x00\xff\r\n", "e" * 70]
INDEXES = [
    "0",
    "1",
    "2",
    "-1",
    "-2",
    "-3",
    "5",
    "-100",
    "100",
    "x",
    "9223372036854775807",
    "-9223372036854775808",
]
COUNTS = ["0", "1", "2", "3", "-1", "-2", "10", "x", "-9223372036854775808"]
ENDS = ["LEFT", "RIGHT", "left", "Right", "UP"]
# Never "0": it would block forever on an empty list.
TIMEOUTS = ["0.01", "0.001", "-1", "x", "inf", "nan", "1e20", "-0.5"]

key = st.sampled_from(KEYS)
element = st.sampled_from(ELEMENTS)
index = st.sampled_from(INDEXES)
count = st.sampled_from(COUNTS)
end = st.sampled_from(ENDS)
timeout = st.sampled_from(TIMEOUTS)
elements = st.lists(element, min_size=1, max_size=5)
keys = st.lists(key, min_size=1, max_size=3)


def flat(opts: list[list[Any]]) -> list[Any]:
    return [x for o in opts for x in o]


lpos_option = st.one_of(
    st.tuples(
        st.sampled_from(["RANK", "rank"]),
        st.sampled_from(["1", "2", "-1", "-2", "0", "x", "-9223372036854775808"]),
    ),
    st.tuples(st.just("COUNT"), st.sampled_from(["0", "1", "2", "-1"])),
    st.tuples(st.just("MAXLEN"), st.sampled_from(["0", "1", "3", "-1"])),
    st.just(("FOO", "1")),
).map(list)
mpop_tail = st.tuples(end, st.lists(st.tuples(st.just("COUNT"), count).map(list), max_size=2))
numkeys = st.sampled_from(["1", "2", "3", "0", "-1", "x", "9"])

LIST_COMMANDS = [
    "LPUSH",
    "RPUSH",
    "LPUSHX",
    "RPUSHX",
    "LPOP",
    "RPOP",
    "LLEN",
    "LRANGE",
    "LINDEX",
    "LSET",
    "LINSERT",
    "LREM",
    "LTRIM",
    "LPOS",
    "LMOVE",
    "RPOPLPUSH",
    "LMPOP",
]
# Wrong arity and junk arguments.
fuzz = st.tuples(
    st.sampled_from(LIST_COMMANDS),
    st.lists(st.one_of(key, element, index, end), max_size=4),
).map(lambda t: [t[0], *t[1]])

command = st.one_of(
    st.tuples(st.sampled_from(["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]), key, elements).map(
        lambda t: [t[0], t[1], *t[2]]
    ),
    st.tuples(st.sampled_from(["LPOP", "RPOP"]), key, st.lists(count, max_size=1)).map(
        lambda t: [t[0], t[1], *t[2]]
    ),
    key.map(lambda k: ["LLEN", k]),
    st.tuples(key, index, index).map(lambda t: ["LRANGE", *t]),
    st.tuples(key, index).map(lambda t: ["LINDEX", *t]),
    st.tuples(key, index, element).map(lambda t: ["LSET", *t]),
    st.tuples(key, st.sampled_from(["BEFORE", "after", "MIDDLE"]), element, element).map(
        lambda t: ["LINSERT", *t]
    ),
    st.tuples(key, count, element).map(lambda t: ["LREM", *t]),
    st.tuples(key, index, index).map(lambda t: ["LTRIM", *t]),
    st.tuples(key, element, st.lists(lpos_option, max_size=3)).map(
        lambda t: ["LPOS", t[0], t[1], *flat(t[2])]
    ),
    st.tuples(key, key, end, end).map(lambda t: ["LMOVE", *t]),
    st.tuples(key, key).map(lambda t: ["RPOPLPUSH", *t]),
    st.tuples(numkeys, keys, mpop_tail).map(
        lambda t: ["LMPOP", t[0], *t[1], t[2][0], *flat(t[2][1])]
    ),
    st.tuples(st.sampled_from(["BLPOP", "BRPOP"]), keys, timeout).map(
        lambda t: [t[0], *t[1], t[2]]
    ),
    st.tuples(key, key, end, end, timeout).map(lambda t: ["BLMOVE", *t]),
    st.tuples(key, key, timeout).map(lambda t: ["BRPOPLPUSH", *t]),
    st.tuples(timeout, numkeys, keys, mpop_tail).map(
        lambda t: ["BLMPOP", t[0], t[1], *t[2], t[3][0], *flat(t[3][1])]
    ),
    # Other types, so WRONGTYPE paths are compared.
    st.tuples(key, element).map(lambda t: ["SET", *t]),
    st.tuples(key, element).map(lambda t: ["HSET", t[0], "f", t[1]]),
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
            ["LRANGE", k, "0", "-1"],
            ["LLEN", k],
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
    max_examples=400,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(commands=st.lists(command, min_size=1, max_size=25))
def test_list_commands_match_redis(diff: TypedDifferential, commands: list[list[Any]]) -> None:
    diff.run(commands + epilogue())


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    n=st.integers(min_value=1000, max_value=3000),
    commands=st.lists(command, min_size=1, max_size=10),
)
def test_long_lists_match_redis(diff: TypedDifferential, n: int, commands: list[list[Any]]) -> None:
    """Lists of many quicklist nodes (DUMP spans several listpacks), then any commands."""
    big = ["RPUSH", "a", *[f"element-{i}" for i in range(n)]]
    diff.run([big, ["DUMP", "a"], *commands, ["LRANGE", "a", "-5", "-1"], *epilogue()])
