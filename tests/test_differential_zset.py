"""Differential tests for the sorted-set family: hypothesis-generated command
sequences run on a real redis-server and on the server under test (RESP3 and
RESP2, typed raw replies, see helpers.TypedDifferential). Replies are compared
exactly — scores by their wire text (Redis 7.0 prints doubles with %.17g, and
`inf`/`-inf`) — except ZRANDMEMBER (random: shape, membership and scores) and
ZSCAN (compared over a full iteration).

Lexicographic ranges are only specified when all scores are equal, so the lex
commands run in their own test over equal-score sets. Set and string keys are
mixed in (sets are valid ZUNION/ZINTER/ZDIFF inputs; strings give WRONGTYPE).
Sequences end by reading each key's type, encoding (listpack -> skiplist past
128 entries or a 64-byte member) and contents.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from helpers import ServerHandle, TypedDifferential
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

KEYS = ["a", "b", "c", "d"]
MEMBERS: list[str | bytes] = ["a", "b", "c", "d1", "aa", "B", "1", "", b"\xff\x00", "m" * 70]
SCORES = [
    "0",
    "1",
    "-1",
    "2",
    "3",
    "10",
    "1.5",
    "-2.5",
    "0.1",
    "0.3",
    "1e3",
    "1e-300",
    "123456789.123456789",
    "-0",
    "inf",
    "-inf",
    "+inf",
    "0x10",
    "nan",
    "abc",
    "",
    "1e400",
    " 1",
]
SCORE_RANGES = [
    "-inf",
    "+inf",
    "inf",
    "0",
    "(0",
    "1",
    "(1",
    "1.5",
    "(1.5",
    "-1",
    "3",
    "(3",
    "10",
    "(inf",
    "abc",
    "(",
    "((1",
    "nan",
]
LEX_RANGES: list[str | bytes] = [
    "-",
    "+",
    "[a",
    "(a",
    "[aa",
    "(b",
    "[b",
    "[c",
    "(d",
    "[",
    "(",
    "[\xff",
    b"[\xff\x00",
    "a",
    "",
]
RANKS = ["0", "1", "2", "3", "-1", "-2", "-100", "100", "x", "9223372036854775807"]
OFFSETS = ["0", "1", "2", "-1", "x"]
LIMIT_COUNTS = ["0", "1", "2", "5", "-1", "x"]
COUNTS = ["0", "1", "2", "3", "100", "-1", "-2", "-5", "x"]
WEIGHTS = ["1", "2", "0", "-1", "1.5", "inf", "-inf", "x"]
PATTERNS = ["*", "a*", "?", "[ab]", "*1*", "nomatch", "["]

key = st.sampled_from(KEYS)
member = st.sampled_from(MEMBERS)
members = st.lists(member, min_size=1, max_size=4)
score = st.sampled_from(SCORES)


def flat(opts: list[list[Any]]) -> list[Any]:
    return [x for o in opts for x in o]


def any_order(*options: st.SearchStrategy[list[Any]]) -> st.SearchStrategy[list[Any]]:
    """Up to three of the options (repeats allowed), in any order, flattened."""
    return st.lists(st.one_of(*options), max_size=3).map(flat)


limit = st.tuples(st.sampled_from(OFFSETS), st.sampled_from(LIMIT_COUNTS)).map(
    lambda t: ["LIMIT", *t]
)
bad_option = st.sampled_from([["FOO"], ["LIMIT"], ["LIMIT", "0"]])
withscores = st.sampled_from([["WITHSCORES"], ["withscores"]])

zadd = st.tuples(
    key,
    st.lists(st.sampled_from(["NX", "XX", "GT", "LT", "CH", "INCR", "nx", "ch"]), max_size=3),
    st.lists(st.tuples(score, member), min_size=1, max_size=3),
).map(lambda t: ["ZADD", t[0], *t[1], *flat([list(p) for p in t[2]])])

zrange = st.sampled_from(["", "BYSCORE"]).flatmap(
    lambda mode: st.tuples(
        key,
        st.sampled_from(SCORE_RANGES if mode else RANKS),
        st.sampled_from(SCORE_RANGES if mode else RANKS),
        any_order(
            st.just([mode] if mode else ["REV"]),
            st.just(["REV"]),
            limit,
            withscores,
            bad_option,
        ),
    ).map(lambda t: ["ZRANGE", t[0], t[1], t[2], *t[3]])
)
zrangestore = st.tuples(key, zrange).map(lambda t: ["ZRANGESTORE", t[0], *t[1][1:]])


def multi_key(
    name: str, options: st.SearchStrategy[list[Any]], dst: bool
) -> st.SearchStrategy[list[Any]]:
    """NAME [dst] numkeys key... options: numkeys usually right, sometimes not."""
    return st.tuples(
        key,
        st.lists(key, min_size=1, max_size=3),
        st.sampled_from(["ok", "ok", "ok", "0", "-1", "x", "5"]),
        options,
    ).map(
        lambda t: [
            name,
            *([t[0]] if dst else []),
            str(len(t[1])) if t[2] == "ok" else t[2],
            *t[1],
            *t[3],
        ]
    )


weights = st.lists(st.sampled_from(WEIGHTS), min_size=1, max_size=3).map(
    lambda ws: ["WEIGHTS", *ws]
)
aggregate = st.sampled_from(["SUM", "MIN", "MAX", "min", "AVG"]).map(lambda a: ["AGGREGATE", a])
set_ops = st.one_of(
    multi_key("ZUNION", any_order(weights, aggregate, withscores, bad_option), dst=False),
    multi_key("ZINTER", any_order(weights, aggregate, withscores, bad_option), dst=False),
    multi_key("ZDIFF", any_order(withscores, bad_option), dst=False),
    multi_key("ZUNIONSTORE", any_order(weights, aggregate, bad_option), dst=True),
    multi_key("ZINTERSTORE", any_order(weights, aggregate, bad_option), dst=True),
    multi_key("ZDIFFSTORE", any_order(bad_option), dst=True),
    multi_key(
        "ZINTERCARD",
        st.sampled_from(
            [[], ["LIMIT", "0"], ["LIMIT", "1"], ["LIMIT", "-1"], ["LIMIT", "x"], ["FOO"]]
        ),
        dst=False,
    ),
    multi_key(
        "ZMPOP",
        st.tuples(
            st.sampled_from([["MIN"], ["MAX"], ["max"], [], ["FOO"]]),
            st.sampled_from([[], ["COUNT", "1"], ["COUNT", "3"], ["COUNT", "0"], ["COUNT", "x"]]),
        ).map(lambda t: [*t[0], *t[1]]),
        dst=False,
    ),
)
scan_option = st.one_of(
    st.sampled_from(PATTERNS).map(lambda p: ["MATCH", p]),
    st.sampled_from(["1", "2", "10", "0", "x"]).map(lambda n: ["COUNT", n]),
    st.sampled_from([["FOO"], ["MATCH"]]),
)
# Many members in one command (past zset-max-listpack-entries = 128).
bulk = st.tuples(key, st.integers(min_value=120, max_value=135)).map(
    lambda t: ["ZADD", t[0], *flat([[str(i % 7), f"e{i}"] for i in range(t[1])])]
)

ZSET_COMMANDS = [
    "ZADD",
    "ZINCRBY",
    "ZREM",
    "ZCARD",
    "ZCOUNT",
    "ZLEXCOUNT",
    "ZSCORE",
    "ZMSCORE",
    "ZRANK",
    "ZREVRANK",
    "ZRANGE",
    "ZRANGESTORE",
    "ZREVRANGE",
    "ZRANGEBYSCORE",
    "ZREVRANGEBYSCORE",
    "ZRANGEBYLEX",
    "ZREVRANGEBYLEX",
    "ZREMRANGEBYRANK",
    "ZREMRANGEBYSCORE",
    "ZREMRANGEBYLEX",
    "ZPOPMIN",
    "ZPOPMAX",
    "ZMPOP",
    "ZRANDMEMBER",
    "ZUNION",
    "ZINTER",
    "ZDIFF",
    "ZUNIONSTORE",
    "ZINTERSTORE",
    "ZDIFFSTORE",
    "ZINTERCARD",
    "ZSCAN",
]

# Wrong arity and junk arguments (members and scores only, so a lex range is
# never well-formed here).
fuzz = st.tuples(
    st.sampled_from(ZSET_COMMANDS),
    st.lists(st.one_of(key, member, score), max_size=4),
).map(lambda t: [t[0], *t[1]])

command = st.one_of(
    zadd,
    zadd,
    st.tuples(key, score, member).map(lambda t: ["ZINCRBY", *t]),
    st.tuples(key, members).map(lambda t: ["ZREM", t[0], *t[1]]),
    key.map(lambda k: ["ZCARD", k]),
    st.tuples(key, st.sampled_from(SCORE_RANGES), st.sampled_from(SCORE_RANGES)).map(
        lambda t: ["ZCOUNT", *t]
    ),
    st.tuples(key, member).map(lambda t: ["ZSCORE", *t]),
    st.tuples(key, members).map(lambda t: ["ZMSCORE", t[0], *t[1]]),
    st.tuples(st.sampled_from(["ZRANK", "ZREVRANK"]), key, member).map(list),
    zrange,
    zrangestore,
    st.tuples(
        key,
        st.sampled_from(RANKS),
        st.sampled_from(RANKS),
        st.sampled_from([[], ["WITHSCORES"], ["FOO"]]),
    ).map(lambda t: ["ZREVRANGE", t[0], t[1], t[2], *t[3]]),
    st.tuples(
        st.sampled_from(["ZRANGEBYSCORE", "ZREVRANGEBYSCORE"]),
        key,
        st.sampled_from(SCORE_RANGES),
        st.sampled_from(SCORE_RANGES),
        any_order(limit, withscores, bad_option),
    ).map(lambda t: [*t[:4], *t[4]]),
    st.tuples(key, st.sampled_from(RANKS), st.sampled_from(RANKS)).map(
        lambda t: ["ZREMRANGEBYRANK", *t]
    ),
    st.tuples(key, st.sampled_from(SCORE_RANGES), st.sampled_from(SCORE_RANGES)).map(
        lambda t: ["ZREMRANGEBYSCORE", *t]
    ),
    st.tuples(
        st.sampled_from(["ZPOPMIN", "ZPOPMAX"]),
        key,
        st.lists(st.sampled_from(COUNTS), max_size=1),
    ).map(lambda t: [t[0], t[1], *t[2]]),
    st.tuples(
        key,
        st.lists(st.sampled_from(COUNTS + ["-9223372036854775808"]), max_size=1),
        st.lists(st.sampled_from(["WITHSCORES", "FOO"]), max_size=2),
    ).map(lambda t: ["ZRANDMEMBER", t[0], *t[1], *(t[2] if t[1] else [])]),
    set_ops,
    set_ops,
    st.tuples(key, st.lists(scan_option, max_size=3)).map(lambda t: ["ZSCAN*", t[0], *flat(t[1])]),
    st.tuples(key, st.sampled_from(["0", "x"])).map(lambda t: ["ZSCAN", *t]),
    bulk,
    # Sets (valid inputs of ZUNION & co) and strings (WRONGTYPE).
    st.tuples(key, members).map(lambda t: ["SADD", t[0], *t[1]]),
    st.tuples(key, member).map(lambda t: ["SET", *t]),
    st.lists(key, min_size=1, max_size=2).map(lambda ks: ["DEL", *ks]),
    st.tuples(st.sampled_from(["TYPE", "EXISTS", "DUMP"]), key).map(list),
    key.map(lambda k: ["OBJECT", "ENCODING", k]),
    st.tuples(key, key).map(lambda t: ["COPY", *t, "REPLACE"]),
    fuzz,
)

# Lexicographic commands over equal-score sets (their only specified use).
lex_range = st.sampled_from(LEX_RANGES)
lex_command = st.one_of(
    st.tuples(key, members).map(lambda t: ["ZADD", t[0], *flat([["0", m] for m in t[1]])]),
    st.tuples(key, members).map(lambda t: ["ZREM", t[0], *t[1]]),
    st.tuples(key, lex_range, lex_range).map(lambda t: ["ZLEXCOUNT", *t]),
    st.tuples(
        st.sampled_from(["ZRANGEBYLEX", "ZREVRANGEBYLEX"]),
        key,
        lex_range,
        lex_range,
        any_order(limit, bad_option, st.just(["WITHSCORES"])),
    ).map(lambda t: [*t[:4], *t[4]]),
    st.tuples(
        key,
        lex_range,
        lex_range,
        any_order(st.just(["BYLEX"]), st.just(["BYLEX"]), st.just(["REV"]), limit, withscores),
    ).map(lambda t: ["ZRANGE", *t[:3], *t[3]]),
    st.tuples(key, key, lex_range, lex_range, any_order(st.just(["REV"]), limit)).map(
        lambda t: ["ZRANGESTORE", *t[:4], "BYLEX", *t[4]]
    ),
    st.tuples(key, lex_range, lex_range).map(lambda t: ["ZREMRANGEBYLEX", *t]),
    st.tuples(st.sampled_from(["ZPOPMIN", "ZPOPMAX"]), key).map(list),
    st.tuples(key, key).map(lambda t: ["ZUNIONSTORE", t[0], "2", t[0], t[1], "WEIGHTS", 0, 0]),
    st.tuples(key, member).map(lambda t: ["SET", *t]),
    key.map(lambda k: ["ZRANGE", k, 0, -1]),
)


def epilogue() -> list[list[Any]]:
    return [
        cmd
        for k in KEYS
        for cmd in (
            ["TYPE", k],
            ["OBJECT", "ENCODING", k],
            ["ZRANGE", k, 0, -1, "WITHSCORES"],
            ["ZCARD", k],
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
    max_examples=900,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(commands=st.lists(command, min_size=1, max_size=25))
def test_zset_commands_match_redis(diff: TypedDifferential, commands: list[list[Any]]) -> None:
    diff.run(commands + epilogue())


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(commands=st.lists(lex_command, min_size=1, max_size=20))
def test_zset_lex_commands_match_redis(diff: TypedDifferential, commands: list[list[Any]]) -> None:
    diff.run(commands + epilogue())


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    n=st.integers(min_value=124, max_value=132),
    commands=st.lists(command, min_size=1, max_size=10),
)
def test_large_zsets_match_redis(
    diff: TypedDifferential, n: int, commands: list[list[Any]]
) -> None:
    """Sorted sets around the listpack limit, converted or not, then any commands."""
    diff.run(
        [
            ["ZADD", "a", *flat([[str(i / 4), f"e{i}"] for i in range(n)])],
            ["ZADD", "b", "1", "m" * 65],
            ["ZUNIONSTORE", "c", "2", "a", "b", "WEIGHTS", "2", "1"],
            *commands,
            ["ZSCAN*", "a"],
            ["ZRANGE", "a", "(10", "+inf", "BYSCORE", "REV", "LIMIT", "1", "5", "WITHSCORES"],
            ["ZRANK", "a", "e77"],
            *epilogue(),
        ]
    )


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    commands=st.lists(
        st.one_of(
            st.tuples(score, st.sampled_from(["a", "b"])).map(lambda t: ["ZINCRBY", "k", *t]),
            st.tuples(
                st.sampled_from([["INCR"], ["INCR", "GT"], ["INCR", "LT"], ["INCR", "NX"]]),
                score,
            ).map(lambda t: ["ZADD", "k", *t[0], t[1], "a"]),
            st.just(["ZSCORE", "k", "a"]),
            st.just(["ZRANGE", "k", 0, -1, "WITHSCORES"]),
            st.tuples(
                st.sampled_from(["SUM", "MIN", "MAX"]),
                st.sampled_from(WEIGHTS),
            ).map(
                lambda t: [
                    "ZUNION",
                    2,
                    "k",
                    "k",
                    "WEIGHTS",
                    t[1],
                    1,
                    "AGGREGATE",
                    t[0],
                    "WITHSCORES",
                ]
            ),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_score_arithmetic_matches_redis(diff: TypedDifferential, commands: list[list[Any]]) -> None:
    """Score arithmetic and formatting: inf, NaN results, 17 significant digits."""
    diff.run(commands)


class _Diverging(TypedDifferential):
    def reset(self) -> None:
        super().reset()
        self.ok(self.s, "ZADD", "a", "1", "only-in-sut")


@pytest.mark.parametrize(
    "commands",
    [
        [["ZRANGE", "a", "0", "-1"]],
        [["ZRANDMEMBER", "a", "-20"]],
        [["ZSCAN*", "a"]],
        [["DUMP", "a"]],
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
                d.run([["ZADD", "a", "0.1", "x"], *commands])
        finally:
            d.close()


def test_scores_compare_by_wire_text(redis_oracle: ServerHandle, server: ServerHandle) -> None:
    """0.1 is `,0.10000000000000001` in Redis 7.0's RESP3: a server printing the
    shortest form would differ; the typed runner compares the text."""
    d = TypedDifferential(redis_oracle, server, 3)
    try:
        d.run([["ZADD", "a", "0.1", "x"], ["ZSCORE", "a", "x"]])
        out = d.call(d.o, "ZSCORE", "a", "x")
        assert repr(out[1]) == ",b'0.10000000000000001'"
    finally:
        d.close()
