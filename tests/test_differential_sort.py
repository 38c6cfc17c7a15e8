"""Differential tests for SORT and SORT_RO over sets and sorted sets (and, once
the server under test has them, lists): BY (patterns, `*->field`, nosort), LIMIT,
GET (`#`, patterns, hash fields), ASC/DESC, ALPHA, STORE, with weight strings and
hashes around. Replies must match a real redis-server exactly (RESP3 and RESP2),
except where Redis leaves the order open — BY nosort over a set, and ALPHA with a
BY pattern (qsort's ties) — see helpers.TypedDifferential._sort_order_open.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from helpers import ServerHandle, TypedDifferential
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SOURCES = ["s", "z", "l", "t", "none"]
NUMS = ["1", "2", "3", "10", "-1", "1.5", "0", "07", "1e1"]
WORDS: list[str | bytes] = ["a", "b", "c", "B", "aa", "", b"\xc3\xa9", b"\xff"]
ELEMS: list[str | bytes] = [*NUMS, *WORDS]
WEIGHTS = ["1", "2", "5", "-1", "1.5", "10", "0", "x", "", "inf"]
BY = ["w_*", "h_*->f", "nosort", "NOSORT", "nokey", "w_*->f", "h_*", "*", "h_*->g", "h_*->"]
GETS = ["#", "w_*", "h_*->f", "h_*->g", "nokey", "*", "h_*->"]

elem = st.sampled_from(ELEMS)
num = st.sampled_from(NUMS)


def wkey(e: str | bytes) -> bytes:
    return b"w_" + (e if isinstance(e, bytes) else e.encode())


def hkey(e: str | bytes) -> bytes:
    return b"h_" + (e if isinstance(e, bytes) else e.encode())


def sort_options(store: bool) -> st.SearchStrategy[list[Any]]:
    option = st.one_of(
        st.sampled_from(BY).map(lambda p: ["BY", p]),
        st.tuples(
            st.sampled_from(["0", "1", "2", "-1", "10", "x"]),
            st.sampled_from(["0", "1", "3", "-1", "x"]),
        ).map(lambda t: ["LIMIT", *t]),
        st.sampled_from(GETS).map(lambda p: ["GET", p]),
        st.sampled_from(GETS).map(lambda p: ["GET", p]),
        st.sampled_from([["ASC"], ["DESC"], ["ALPHA"], ["alpha"], ["desc"]]),
        st.sampled_from([["ALPHA"], ["ALPHA"]]),
        st.sampled_from([["FOO"], ["BY"], ["LIMIT", "0"], ["GET"]]),
        *([st.sampled_from(["dst", "s", "t"]).map(lambda k: ["STORE", k])] if store else []),
    )
    return st.lists(option, max_size=5).map(lambda os: [x for o in os for x in o])


sort = st.one_of(
    st.tuples(st.sampled_from(SOURCES), sort_options(store=True)).map(
        lambda t: ["SORT", t[0], *t[1]]
    ),
    st.tuples(st.sampled_from(SOURCES), sort_options(store=False)).map(
        lambda t: ["SORT_RO", t[0], *t[1]]
    ),
    st.sampled_from(SOURCES).map(lambda k: ["SORT_RO", k, "STORE", "dst"]),
)

setup = st.one_of(
    st.lists(st.sampled_from(NUMS), min_size=1, max_size=6).map(lambda es: ["SADD", "s", *es]),
    st.lists(elem, min_size=1, max_size=4).map(lambda es: ["SADD", "s", *es]),
    st.lists(st.tuples(st.sampled_from(["0", "1", "2", "-1", "1.5"]), elem), max_size=5).map(
        lambda ps: ["ZADD", "z", "0", "0", *[x for p in ps for x in p]]
    ),
    st.lists(elem, min_size=1, max_size=3).map(lambda es: ["SREM", "s", *es]),
    st.lists(elem, min_size=1, max_size=3).map(lambda es: ["ZREM", "z", *es]),
    st.tuples(elem, st.sampled_from(WEIGHTS)).map(lambda t: ["SET", wkey(t[0]), t[1]]),
    st.tuples(elem, st.sampled_from(["f", "g"]), st.sampled_from(WEIGHTS)).map(
        lambda t: ["HSET", hkey(t[0]), t[1], t[2]]
    ),
    elem.map(lambda e: ["DEL", wkey(e)]),
    st.just(["SET", "t", "1"]),
)
command = st.one_of(setup, sort, sort, st.sampled_from(SOURCES).map(lambda k: ["TYPE", k]))


def epilogue() -> list[list[Any]]:
    return [
        cmd
        for k in ["s", "z", "t", "dst"]
        for cmd in (["TYPE", k], ["OBJECT", "ENCODING", k], ["EXISTS", k])
    ]


# Every sequence starts with a set, a sorted set and some weights.
PRELUDE: list[list[Any]] = [
    ["SADD", "s", "3", "1", "2", "10"],
    ["ZADD", "z", "2", "a", "1", "b", "3", "c", "0", "B"],
    ["MSET", "w_1", "5", "w_2", "-1", "w_a", "2", "w_b", "1"],
    ["HSET", "h_1", "f", "3"],
    ["HSET", "h_3", "f", "1.5", "g", "z"],
    ["HSET", "h_a", "f", "b", "g", "1"],
]


@pytest.fixture(scope="module", params=[3, 2], ids=["resp3", "resp2"])
def diff(
    request: pytest.FixtureRequest, redis_oracle: ServerHandle, server: ServerHandle
) -> Iterator[TypedDifferential]:
    d = TypedDifferential(redis_oracle, server, request.param)
    yield d
    d.close()


@settings(
    max_examples=700,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(commands=st.lists(command, min_size=1, max_size=20))
def test_sort_matches_redis(diff: TypedDifferential, commands: list[list[Any]]) -> None:
    diff.run(PRELUDE + commands + epilogue())


@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(
    n=st.integers(min_value=100, max_value=600),
    opts=sort_options(store=True),
    zset=st.booleans(),
)
def test_sort_large_sources_match_redis(
    diff: TypedDifferential, n: int, opts: list[Any], zset: bool
) -> None:
    """Bigger inputs: a hashtable set / skiplist zset, LIMIT (partial sort) paths."""
    fill = (
        ["ZADD", "z", *[x for i in range(n) for x in (i % 13, f"{(i * 7919) % n}")]]
        if zset
        else ["SADD", "s", *[str((i * 7919) % n) for i in range(n)]]
    )
    src = "z" if zset else "s"
    diff.run(
        [
            fill,
            ["MSET", *[x for i in range(0, n, 3) for x in (f"w_{i}", str(n - i))]],
            ["SORT", src, *opts],
            ["SORT", src, "LIMIT", "5", "10"],
            ["SORT", src, "BY", "w_*", "LIMIT", "0", "20", "GET", "#", "GET", "w_*"],
            *epilogue(),
        ]
    )


@pytest.fixture(scope="module")
def lists_supported(diff: TypedDifferential) -> TypedDifferential:
    """Skip list cases while the server under test has no list commands."""
    out = diff.call(diff.s, "LPUSH", "__lists_probe__", "x")
    diff.call(diff.s, "DEL", "__lists_probe__")
    if out[0] == "err" and str(out[1]).startswith("ERR unknown command"):
        pytest.skip(f"the server under test has no lists yet (LPUSH: {out[1]})")
    return diff


list_setup = st.one_of(
    st.tuples(st.sampled_from(["RPUSH", "LPUSH"]), st.lists(elem, min_size=1, max_size=6)).map(
        lambda t: [t[0], "l", *t[1]]
    ),
    st.tuples(elem, st.sampled_from(WEIGHTS)).map(lambda t: ["SET", wkey(t[0]), t[1]]),
    st.just(["LRANGE", "dst", 0, -1]),
    st.just(["LRANGE", "l", 0, -1]),
)


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(commands=st.lists(st.one_of(list_setup, sort), min_size=1, max_size=15))
def test_sort_lists_match_redis(
    lists_supported: TypedDifferential, commands: list[list[Any]]
) -> None:
    """Lists: native order under BY nosort, duplicates, STORE read back with LRANGE."""
    lists_supported.run(
        [
            ["RPUSH", "l", "3", "1", "2", "1", "10"],
            *PRELUDE,
            *commands,
            ["SORT", "s", "STORE", "dst"],
            ["LRANGE", "dst", 0, -1],
            ["SORT", "l", "BY", "nosort", "DESC", "LIMIT", 1, 2],
            ["LRANGE", "l", 0, -1],
            *epilogue(),
        ]
    )


class _Diverging(TypedDifferential):
    def reset(self) -> None:
        super().reset()
        self.ok(self.s, "SET", "w_2", "100")


@pytest.mark.parametrize(
    ("commands", "step"),
    [
        ([["SORT", "s", "BY", "w_*"]], 2),
        ([["SORT", "s", "BY", "w_*", "ALPHA"]], 2),
        ([["SORT", "s", "GET", "w_*", "BY", "nosort"]], 2),
    ],
)
def test_runner_detects_differences(
    redis_oracle: ServerHandle, server: ServerHandle, commands: list[list[Any]], step: int
) -> None:
    """The harness itself must be able to fail, also in its order-free cases."""
    for protocol in (3, 2):
        d = _Diverging(redis_oracle, server, protocol)
        try:
            with pytest.raises(AssertionError, match=f"replies differ at step {step}:"):
                d.run([["SADD", "s", "1", "2", "3"], *commands])
        finally:
            d.close()
