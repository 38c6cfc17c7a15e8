"""Differential tests for the set family: hypothesis-generated command sequences
run on a real redis-server and on the server under test (RESP3 and RESP2, typed
raw replies, see helpers.TypedDifferential), replies compared exactly except
SMEMBERS / SINTER / SUNION / SDIFF (order-free), SPOP / SRANDMEMBER (random:
shape and membership; after SPOP the oracle adopts the server's choice) and
SSCAN (compared over a full iteration).

Members mix integers (intset) and strings; sequences end by reading every key's
type, encoding (intset -> hashtable past 512 entries or on a non-integer) and
members.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from helpers import ServerHandle, TypedDifferential
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

KEYS = ["a", "b", "c", "d"]
MEMBERS: list[str | bytes] = [
    "0",
    "1",
    "2",
    "-1",
    "10",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "01",
    "1.0",
    " 1",
    "",
    "a",
    "b",
    "inf",
    b"\x00\xff",
    "m" * 70,
]
SPOP_COUNTS = ["0", "1", "2", "3", "5", "10", "1000", "-1", "x", "1.5"]
RAND_COUNTS = ["0", "1", "2", "5", "1000", "-1", "-3", "-20", "x", "-9223372036854775808"]
NUMKEYS = ["1", "2", "3", "0", "-1", "x", "5"]
PATTERNS = ["*", "1*", "?", "[ab]", "*0*", "nomatch", "\\a", "["]

key = st.sampled_from(KEYS)
member = st.sampled_from(MEMBERS)
members = st.lists(member, min_size=1, max_size=5)
keys = st.lists(key, min_size=1, max_size=4)


def flat(opts: list[list[Any]]) -> list[Any]:
    return [x for o in opts for x in o]


scan_option = st.one_of(
    st.sampled_from(PATTERNS).map(lambda p: ["MATCH", p]),
    st.sampled_from(["1", "2", "10", "1000", "0", "-1", "x"]).map(lambda n: ["COUNT", n]),
    st.sampled_from([["FOO"], ["MATCH"]]),
)
# Many members in one command: ints around set-max-intset-entries (512), or strings.
bulk = st.tuples(
    key,
    st.integers(min_value=500, max_value=520),
    st.sampled_from(["", "s"]),
).map(lambda t: ["SADD", t[0], *[f"{t[2]}{i}" for i in range(t[1])]])
sintercard = st.tuples(
    st.sampled_from(NUMKEYS),
    keys,
    st.lists(
        st.sampled_from(
            [
                ["LIMIT", "0"],
                ["LIMIT", "1"],
                ["LIMIT", "2"],
                ["LIMIT", "-1"],
                ["LIMIT", "x"],
                ["LIMIT"],
                ["FOO"],
            ]
        ),
        max_size=2,
    ),
).map(lambda t: ["SINTERCARD", t[0], *t[1], *flat(t[2])])

SET_COMMANDS = [
    "SADD",
    "SREM",
    "SMEMBERS",
    "SISMEMBER",
    "SMISMEMBER",
    "SCARD",
    "SPOP",
    "SRANDMEMBER",
    "SMOVE",
    "SINTER",
    "SINTERCARD",
    "SUNION",
    "SDIFF",
    "SINTERSTORE",
    "SUNIONSTORE",
    "SDIFFSTORE",
    "SSCAN",
]

fuzz = st.tuples(
    st.sampled_from(SET_COMMANDS),
    st.lists(st.one_of(key, member, st.sampled_from(NUMKEYS)), max_size=4),
).map(lambda t: [t[0], *t[1]])

command = st.one_of(
    st.tuples(key, members).map(lambda t: ["SADD", t[0], *t[1]]),
    st.tuples(key, members).map(lambda t: ["SREM", t[0], *t[1]]),
    key.map(lambda k: ["SMEMBERS", k]),
    st.tuples(key, member).map(lambda t: ["SISMEMBER", *t]),
    st.tuples(key, members).map(lambda t: ["SMISMEMBER", t[0], *t[1]]),
    key.map(lambda k: ["SCARD", k]),
    st.tuples(key, st.lists(st.sampled_from(SPOP_COUNTS), max_size=1)).map(
        lambda t: ["SPOP", t[0], *t[1]]
    ),
    st.tuples(key, st.lists(st.sampled_from(RAND_COUNTS), max_size=1)).map(
        lambda t: ["SRANDMEMBER", t[0], *t[1]]
    ),
    st.tuples(key, key, member).map(lambda t: ["SMOVE", *t]),
    st.tuples(st.sampled_from(["SINTER", "SUNION", "SDIFF"]), keys).map(lambda t: [t[0], *t[1]]),
    st.tuples(st.sampled_from(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), key, keys).map(
        lambda t: [t[0], t[1], *t[2]]
    ),
    sintercard,
    st.tuples(key, st.lists(scan_option, max_size=3)).map(lambda t: ["SSCAN*", t[0], *flat(t[1])]),
    st.tuples(key, st.sampled_from(["0", "x", "-1.5"])).map(lambda t: ["SSCAN", *t]),
    bulk,
    # Other types, so WRONGTYPE paths are compared.
    st.tuples(key, member).map(lambda t: ["SET", *t]),
    st.tuples(key, member).map(lambda t: ["HSET", t[0], "f", t[1]]),
    st.lists(key, min_size=1, max_size=2).map(lambda ks: ["DEL", *ks]),
    st.tuples(st.sampled_from(["TYPE", "EXISTS", "DUMP"]), key).map(list),
    key.map(lambda k: ["OBJECT", "ENCODING", k]),
    st.tuples(key, key).map(lambda t: ["COPY", *t, "REPLACE"]),
    fuzz,
)


def epilogue() -> list[list[Any]]:
    return [
        cmd
        for k in KEYS
        for cmd in (["TYPE", k], ["OBJECT", "ENCODING", k], ["SMEMBERS", k], ["SCARD", k])
    ]


@pytest.fixture(scope="module", params=[3, 2], ids=["resp3", "resp2"])
def diff(
    request: pytest.FixtureRequest, redis_oracle: ServerHandle, server: ServerHandle
) -> Iterator[TypedDifferential]:
    d = TypedDifferential(redis_oracle, server, request.param)
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
def test_set_commands_match_redis(diff: TypedDifferential, commands: list[list[Any]]) -> None:
    diff.run(commands + epilogue())


@settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    n=st.integers(min_value=505, max_value=520),
    commands=st.lists(command, min_size=1, max_size=10),
)
def test_large_sets_match_redis(diff: TypedDifferential, n: int, commands: list[list[Any]]) -> None:
    """Sets around the intset limit and big hashtable sets (SPOP's rebuild path)."""
    diff.run(
        [
            ["SADD", "a", *range(n)],
            ["SADD", "b", *[f"s{i}" for i in range(n // 4)]],
            ["SADD", "c", *range(0, 2 * n, 2)],
            *commands,
            ["SSCAN*", "a"],
            ["SSCAN*", "b", "COUNT", "3"],
            *epilogue(),
        ]
    )


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(
    size=st.integers(min_value=1, max_value=40),
    ints=st.booleans(),
    count=st.integers(min_value=0, max_value=45),
)
def test_spop_count_paths_match_redis(
    diff: TypedDifferential, size: int, ints: bool, count: int
) -> None:
    """SPOP with a count: whole set, one by one, and the rebuild of the remainder."""
    elems = [str(i) if ints or i % 3 else f"m{i}" for i in range(size)]
    diff.run(
        [
            ["SADD", "a", *elems],
            ["SPOP", "a", count],
            ["SCARD", "a"],
            ["OBJECT", "ENCODING", "a"],
            ["SMEMBERS", "a"],
            ["SPOP", "a"],
            ["SCARD", "a"],
        ]
    )


class _Diverging(TypedDifferential):
    def reset(self) -> None:
        super().reset()
        self.ok(self.s, "SADD", "a", "only-in-sut")


@pytest.mark.parametrize(
    "commands",
    [
        [["SMEMBERS", "a"]],
        [["SRANDMEMBER", "a", "-20"]],
        [["SSCAN*", "a"]],
        [["DUMP", "a"]],
        [["SPOP", "a", "2"]],
    ],
)
def test_runner_detects_differences(
    redis_oracle: ServerHandle, server: ServerHandle, commands: list[list[Any]]
) -> None:
    """The harness itself must be able to fail."""
    for protocol in (3, 2):
        d = _Diverging(redis_oracle, server, protocol)
        try:
            with pytest.raises(AssertionError, match="replies differ at step 2:"):
                d.run([["SADD", "a", "x"], *commands])
        finally:
            d.close()
