"""Sorted-set commands through `any_client` (RESP3, RESP2, embedded): score
parsing and formatting (inf, 17 significant digits), ZADD flags, ranges,
pops, the algebra, WRONGTYPE, emptied keys deleted, encodings, DUMP/RESTORE
against a real redis-server both ways — and the exact RESP bytes of scores over
a raw socket.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from helpers import Client, Redis, ServerHandle, as_float, raw_redis

OK = b"OK"
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_FLOAT = "ERR value is not a valid float"
NOT_INT = "ERR value is not an integer or out of range"
SYNTAX = "ERR syntax error"
NOT_RANGE = "ERR min or max is not a float"
NOT_LEX = "ERR min or max not valid string range item"


def arity(cmd: str) -> str:
    return f"ERR wrong number of arguments for '{cmd}' command"


def with_scores(c: Client, reply: Any) -> list[tuple[bytes, float]]:
    """WITHSCORES replies: RESP3 [[m, score], ...], RESP2 flat [m, "score", ...]."""
    if c.resp == 3:
        return [(m, as_float(s)) for m, s in reply]
    return [(m, as_float(s)) for m, s in zip(reply[::2], reply[1::2], strict=False)]


@pytest.fixture
def oracle(redis_oracle: ServerHandle) -> Iterator[Redis]:
    c = raw_redis(redis_oracle.host, redis_oracle.port, 2)
    c.execute_command("FLUSHALL")
    yield c
    c.execute_command("FLUSHALL")
    c.close()


@pytest.fixture
def z(any_client: Client) -> Client:
    any_client("ZADD", "z", 1, "a", 2, "b", 3, "c", "-inf", "lo", "+inf", "hi")
    return any_client


def test_zadd_basics(any_client: Client) -> None:
    c = any_client
    assert c("ZADD", "z", 1, "a", 2, "b", 1, "a") == 2
    assert c("ZCARD", "z") == 2
    assert as_float(c("ZSCORE", "z", "b")) == 2.0
    assert c("ZSCORE", "z", "nope") is None
    assert c("ZSCORE", "missing", "a") is None
    assert c("ZMSCORE", "z", "a", "nope") in ([1.0, None], [b"1", None])
    assert c("TYPE", "z") == b"zset"
    assert c.error("ZADD", "z", 1, "a", 2) == SYNTAX
    assert c.error("ZADD", "z", 1) == arity("zadd")
    assert c.error("ZADD", "z") == arity("zadd")
    assert c.error("ZADD", "z", "x", "m") == NOT_FLOAT
    assert c.error("ZADD", "z", "nan", "m") == NOT_FLOAT
    assert c.error("ZMSCORE", "z") == arity("zmscore")


def test_zadd_flags(any_client: Client) -> None:
    c = any_client
    c("ZADD", "z", 5, "a")
    assert c("ZADD", "z", "NX", 1, "a", 1, "b") == 1
    assert as_float(c("ZSCORE", "z", "a")) == 5.0
    assert c("ZADD", "z", "XX", 7, "a", 1, "new") == 0
    assert c("ZSCORE", "z", "new") is None
    assert c("ZADD", "z", "XX", "CH", 8, "a") == 1
    assert c("ZADD", "z", "GT", "CH", 3, "a", 9, "b") == 1
    assert as_float(c("ZSCORE", "z", "a")) == 8.0
    assert c("ZADD", "z", "LT", "CH", 3, "a", 0, "c") == 2  # LT still adds new members
    assert as_float(c("ZADD", "z", "INCR", 2, "a")) == 5.0
    assert c("ZADD", "z", "NX", "INCR", 1, "a") is None  # condition failed: nil
    assert c("ZADD", "z", "GT", "INCR", -1, "a") is None
    err_flags = "ERR XX and NX options at the same time are not compatible"
    assert c.error("ZADD", "z", "NX", "XX", 1, "a") == err_flags
    gt_lt = "ERR GT, LT, and/or NX options at the same time are not compatible"
    assert c.error("ZADD", "z", "GT", "LT", 1, "a") == gt_lt
    assert c.error("ZADD", "z", "NX", "GT", 1, "a") == gt_lt
    incr = "ERR INCR option supports a single increment-element pair"
    assert c.error("ZADD", "z", "INCR", 1, "a", 2, "b") == incr


def test_score_arithmetic_limits(any_client: Client) -> None:
    c = any_client
    c("ZADD", "z", "inf", "a")
    nan = "ERR resulting score is not a number (NaN)"
    assert c.error("ZINCRBY", "z", "-inf", "a") == nan
    assert c.error("ZADD", "z", "INCR", "-inf", "a") == nan
    assert as_float(c("ZINCRBY", "z", 1, "a")) == float("inf")
    assert as_float(c("ZINCRBY", "z", 2.5, "new")) == 2.5
    assert c.error("ZINCRBY", "z", "x", "a") == NOT_FLOAT
    assert c.error("ZADD", "z", "1e400", "m") == NOT_FLOAT


def test_score_text_resp2_and_embedded(any_client: Client) -> None:
    c = any_client
    c("ZADD", "z", "0.1", "a", "-1", "b", "1e300", "c", "inf", "d", "123456789.123456789", "e")
    expected = {
        b"a": b"0.10000000000000001",
        b"b": b"-1",
        b"c": b"1.0000000000000001e+300",
        b"d": b"inf",
        b"e": b"123456789.12345679",
    }
    for member, text in expected.items():
        got = c("ZSCORE", "z", member)
        if c.resp == 2:
            assert got == text
        else:
            assert got == float(text) and str(got).startswith("-") == text.startswith(b"-")


@pytest.mark.parametrize("protocol", [2, 3])
def test_score_wire_bytes(server: ServerHandle, protocol: int) -> None:
    """Redis 7.0 writes doubles with %.17g; RESP3 as `,` doubles, RESP2 as bulks."""
    with server.raw() as conn:
        if protocol == 3:
            conn.command("HELLO", "3")
        conn.command("FLUSHALL")
        conn.command("ZADD", "z", "0.1", "a", "-inf", "b", "3", "c", "-2.5e-5", "d")
        cases = {
            "a": b"0.10000000000000001",
            "b": b"-inf",
            "c": b"3",
            "d": b"-2.5000000000000001e-05",
        }
        for member, text in cases.items():
            wire = b",%s\r\n" % text if protocol == 3 else b"$%d\r\n%s\r\n" % (len(text), text)
            assert conn.command("ZSCORE", "z", member) == wire
        assert conn.command("ZINCRBY", "z", "0.2", "a") == (
            b",0.30000000000000004\r\n" if protocol == 3 else b"$19\r\n0.30000000000000004\r\n"
        )
        pairs = conn.command("ZRANGE", "z", 0, 0, "WITHSCORES")
        if protocol == 3:
            assert pairs == b"*1\r\n*2\r\n$1\r\nb\r\n,-inf\r\n"
        else:
            assert pairs == b"*2\r\n$1\r\nb\r\n$4\r\n-inf\r\n"
        # ZSCAN scores are bulk strings in both protocols.
        scan = b"*2\r\n$1\r\n0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n"
        assert conn.command("ZSCAN", "z", 0, "MATCH", "c") == scan
        conn.command("FLUSHALL")


def test_ranges_by_rank(z: Client) -> None:
    c = z
    assert c("ZRANGE", "z", 0, -1) == [b"lo", b"a", b"b", b"c", b"hi"]
    assert c("ZRANGE", "z", 1, 2, "REV") == [b"c", b"b"]
    assert c("ZREVRANGE", "z", 0, 1) == [b"hi", b"c"]
    assert c("ZRANGE", "z", -100, 100) == [b"lo", b"a", b"b", b"c", b"hi"]
    assert c("ZRANGE", "z", 3, 1) == []
    assert with_scores(c, c("ZRANGE", "z", 0, 1, "WITHSCORES")) == [
        (b"lo", float("-inf")),
        (b"a", 1.0),
    ]
    assert c("ZRANK", "z", "b") == 2 and c("ZREVRANK", "z", "b") == 2
    assert c("ZRANK", "z", "nope") is None
    assert c.error("ZRANGE", "z", "x", 1) == NOT_INT
    limit = "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
    assert c.error("ZRANGE", "z", 0, 1, "LIMIT", 0, 1) == limit


def test_ranges_by_score(z: Client) -> None:
    c = z
    assert c("ZRANGE", "z", 1, 3, "BYSCORE") == [b"a", b"b", b"c"]
    assert c("ZRANGE", "z", "(1", "3", "BYSCORE", "LIMIT", 1, 5) == [b"c"]
    assert c("ZRANGE", "z", "+inf", "(2", "BYSCORE", "REV") == [b"hi", b"c"]
    assert c("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", 1, 2) == [b"a", b"b"]
    assert c("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", 1, -1) == [b"a", b"b", b"c", b"hi"]
    assert c("ZREVRANGEBYSCORE", "z", "3", "(1") == [b"c", b"b"]
    assert c("ZCOUNT", "z", "(1", "inf") == 3
    assert c("ZCOUNT", "z", "5", "1") == 0
    assert c.error("ZCOUNT", "z", "x", "1") == NOT_RANGE
    assert c.error("ZRANGEBYSCORE", "z", "1", "((1") == NOT_RANGE
    assert c.error("ZRANGEBYSCORE", "z", "0", "1", "LIMIT", 0) == SYNTAX


def test_ranges_by_lex(any_client: Client) -> None:
    c = any_client
    c("ZADD", "l", 0, "a", 0, "b", 0, "c", 0, "d")
    assert c("ZRANGEBYLEX", "l", "-", "+") == [b"a", b"b", b"c", b"d"]
    assert c("ZRANGEBYLEX", "l", "(a", "[c") == [b"b", b"c"]
    assert c("ZREVRANGEBYLEX", "l", "+", "(b", "LIMIT", 0, 1) == [b"d"]
    assert c("ZRANGE", "l", "[b", "+", "BYLEX", "LIMIT", 1, 1) == [b"c"]
    assert c("ZLEXCOUNT", "l", "[b", "(d") == 2
    assert c.error("ZRANGEBYLEX", "l", "a", "+") == NOT_LEX
    withscores = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
    assert c.error("ZRANGE", "l", "-", "+", "BYLEX", "WITHSCORES") == withscores
    assert c("ZREMRANGEBYLEX", "l", "[b", "[c") == 2
    assert c("ZRANGE", "l", 0, -1) == [b"a", b"d"]


def test_rangestore(z: Client) -> None:
    c = z
    assert c("ZRANGESTORE", "dst", "z", 1, 3, "BYSCORE") == 3
    assert c("ZRANGE", "dst", 0, -1) == [b"a", b"b", b"c"]
    c("SET", "str", "v")
    assert c("ZRANGESTORE", "str", "z", 10, 20) == 0  # empty result: the destination is deleted
    assert c("EXISTS", "str") == 0
    assert c.error("ZRANGESTORE", "dst", "z", 0, 1, "WITHSCORES") == SYNTAX


def test_removal_and_emptied_key(z: Client) -> None:
    c = z
    assert c("ZREM", "z", "a", "nope", "a") == 1
    assert c("ZREMRANGEBYRANK", "z", 0, 0) == 1
    assert c("ZREMRANGEBYSCORE", "z", "(2", "+inf") == 2
    assert c("ZRANGE", "z", 0, -1) == [b"b"]
    assert c("ZREM", "z", "b") == 1
    assert c("EXISTS", "z") == 0
    c("ZADD", "p", 1, "x")
    assert c("ZPOPMIN", "p") == ([b"x", 1.0] if c.resp == 3 else [b"x", b"1"])
    assert c("EXISTS", "p") == 0
    assert c("ZREMRANGEBYSCORE", "missing", "-inf", "+inf") == 0


def test_pops(z: Client) -> None:
    c = z
    if c.resp == 3:
        assert c("ZPOPMIN", "z") == [b"lo", float("-inf")]
        assert c("ZPOPMAX", "z", 2) == [[b"hi", float("inf")], [b"c", 3.0]]
        assert c("ZMPOP", 2, "missing", "z", "MIN", "COUNT", 5) == [
            b"z",
            [[b"a", 1.0], [b"b", 2.0]],
        ]
    else:
        assert c("ZPOPMIN", "z") == [b"lo", b"-inf"]
        assert c("ZPOPMAX", "z", 2) == [b"hi", b"inf", b"c", b"3"]
        assert c("ZMPOP", 2, "missing", "z", "MIN", "COUNT", 5) == [
            b"z",
            [[b"a", b"1"], [b"b", b"2"]],
        ]
    assert c("EXISTS", "z") == 0
    assert c("ZPOPMIN", "z") == []
    assert c("ZMPOP", 1, "z", "MAX") is None
    assert c.error("ZPOPMIN", "z", -1) == "ERR value is out of range, must be positive"
    assert c.error("ZMPOP", 0, "z", "MIN") == "ERR numkeys should be greater than 0"
    assert c.error("ZMPOP", 1, "z", "MIN", "COUNT", 0) == "ERR count should be greater than 0"
    assert c.error("ZMPOP", 1, "z", "FOO") == SYNTAX
    assert c.error("ZMPOP", 1, "z") == arity("zmpop")


def test_zrandmember(z: Client) -> None:
    c = z
    scores = {b"lo": float("-inf"), b"a": 1.0, b"b": 2.0, b"c": 3.0, b"hi": float("inf")}
    assert c("ZRANDMEMBER", "z") in scores
    assert sorted(c("ZRANDMEMBER", "z", 10)) == sorted(scores)
    got = with_scores(c, c("ZRANDMEMBER", "z", -8, "WITHSCORES"))
    assert len(got) == 8 and all(scores[m] == s for m, s in got)
    assert c("ZRANDMEMBER", "missing") is None
    assert c("ZRANDMEMBER", "missing", 2) == []
    assert c.error("ZRANDMEMBER", "z", 1, "FOO") == SYNTAX


def test_algebra(any_client: Client) -> None:
    c = any_client
    c("ZADD", "x", 1, "a", 2, "b", 3, "c")
    c("ZADD", "y", 10, "b", 20, "c", 30, "d")
    c("SADD", "s", "c", "d")  # sets count as score 1
    union = with_scores(c, c("ZUNION", 2, "x", "y", "WITHSCORES"))
    assert union == [(b"a", 1.0), (b"b", 12.0), (b"c", 23.0), (b"d", 30.0)]
    inter = with_scores(
        c, c("ZINTER", 3, "x", "y", "s", "WEIGHTS", 1, 0, 2, "AGGREGATE", "MAX", "WITHSCORES")
    )
    assert inter == [(b"c", 3.0)]
    assert c("ZDIFF", 2, "x", "y") == [b"a"]
    assert c("ZINTERCARD", 2, "x", "y") == 2
    assert c("ZINTERCARD", 2, "x", "y", "LIMIT", 1) == 1
    assert c("ZUNIONSTORE", "u", 2, "x", "s", "AGGREGATE", "MIN") == 4
    assert with_scores(c, c("ZRANGE", "u", 0, -1, "WITHSCORES")) == [
        (b"a", 1.0),
        (b"c", 1.0),
        (b"d", 1.0),
        (b"b", 2.0),
    ]
    assert c("ZINTERSTORE", "i", 2, "x", "missing") == 0
    assert c("EXISTS", "i") == 0
    assert c("ZDIFFSTORE", "d", 1, "x") == 3
    # inf * 0 is NaN: Redis counts it as 0.
    c("ZADD", "inf", "inf", "m")
    assert with_scores(c, c("ZUNION", 1, "inf", "WEIGHTS", 0, "WITHSCORES")) == [(b"m", 0.0)]
    assert c.error("ZUNION", 0, "x") == ("ERR at least 1 input key is needed for 'zunion' command")
    assert c.error("ZUNION", 2, "x") == SYNTAX
    assert c.error("ZUNION", 1, "x", "WEIGHTS", "q") == "ERR weight value is not a float"
    assert c.error("ZUNION", 1, "x", "AGGREGATE", "AVG") == SYNTAX
    assert c.error("ZDIFF", 1, "x", "WEIGHTS", 1) == SYNTAX
    assert c.error("ZUNIONSTORE", "u", 1, "x", "WITHSCORES") == SYNTAX


@pytest.mark.parametrize(
    "cmd",
    [
        ("ZADD", "k", 1, "m"),
        ("ZINCRBY", "k", 1, "m"),
        ("ZREM", "k", "m"),
        ("ZCARD", "k"),
        ("ZSCORE", "k", "m"),
        ("ZRANGE", "k", 0, -1),
        ("ZRANGEBYLEX", "k", "-", "+"),
        ("ZCOUNT", "k", 0, 1),
        ("ZPOPMIN", "k"),
        ("ZMPOP", 1, "k", "MIN"),
        ("ZRANDMEMBER", "k"),
        ("ZUNION", 1, "k"),
        ("ZRANGESTORE", "dst", "k", 0, 1),
        ("ZSCAN", "k", 0),
        ("ZRANK", "k", "m"),
    ],
)
def test_wrongtype(any_client: Client, cmd: tuple[object, ...]) -> None:
    any_client("SET", "k", "string")
    assert any_client.error(*cmd) == WRONGTYPE
    any_client("HSET", "k2", "f", "v")
    assert any_client("GET", "k") == b"string"


def test_encodings(any_client: Client) -> None:
    c = any_client
    c("ZADD", "z", *[x for i in range(128) for x in (i, f"m{i}")])
    assert c("OBJECT", "ENCODING", "z") == b"listpack"
    c("ZADD", "z", 128, "m128")
    assert c("OBJECT", "ENCODING", "z") == b"skiplist"
    c("ZADD", "long", 1, "x" * 64)
    assert c("OBJECT", "ENCODING", "long") == b"listpack"
    c("ZADD", "long", 1, "x" * 65)
    assert c("OBJECT", "ENCODING", "long") == b"skiplist"
    # Stores pick the encoding from the result's size.
    assert c("ZRANGESTORE", "small", "z", 0, 9) == 10
    assert c("OBJECT", "ENCODING", "small") == b"listpack"


@pytest.mark.parametrize("n", [3, 200])
def test_dump_restore_with_real_redis(any_client: Client, oracle: Redis, n: int) -> None:
    c = any_client
    pairs = [x for i in range(n) for x in (str(i / 3), f"m{i}")]
    oracle.execute_command("ZADD", "z", "-inf", "lo", "0.1", "tenth", *pairs)
    expected = oracle.execute_command("ZRANGE", "z", 0, -1, "WITHSCORES")
    payload = oracle.execute_command("DUMP", "z")
    assert c("RESTORE", "z", 0, payload) == OK
    assert c("OBJECT", "ENCODING", "z") == oracle.execute_command("OBJECT", "ENCODING", "z")
    got = c("ZRANGE", "z", 0, -1, "WITHSCORES")
    flat_got = [x for p in got for x in p] if c.resp == 3 else got
    assert flat_got[::2] == expected[::2]
    assert [as_float(s) for s in flat_got[1::2]] == [float(s) for s in expected[1::2]]
    assert oracle.execute_command("RESTORE", "back", 0, c("DUMP", "z")) == b"OK"
    assert oracle.execute_command("ZRANGE", "back", 0, -1, "WITHSCORES") == expected
