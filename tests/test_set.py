"""Set commands through `any_client` (RESP3, RESP2, embedded): emptied sets
deleted, WRONGTYPE, SPOP/SRANDMEMBER counts, the store variants, SINTERCARD,
intset/hashtable encodings, DUMP/RESTORE against a real redis-server both ways.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from helpers import Client, Redis, ServerHandle, raw_redis

OK = b"OK"
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INT = "ERR value is not an integer or out of range"
SYNTAX = "ERR syntax error"


def arity(cmd: str) -> str:
    return f"ERR wrong number of arguments for '{cmd}' command"


def members(reply: Any) -> list[bytes]:
    """A set reply (RESP3 set, RESP2 array, embedded set) as a sorted list."""
    return sorted(reply)


@pytest.fixture
def oracle(redis_oracle: ServerHandle) -> Iterator[Redis]:
    c = raw_redis(redis_oracle.host, redis_oracle.port, 2)
    c.execute_command("FLUSHALL")
    yield c
    c.execute_command("FLUSHALL")
    c.close()


def test_sadd_srem_basics(any_client: Client) -> None:
    c = any_client
    assert c("SADD", "s", "a", "b", "a", "1") == 3
    assert c("SADD", "s", "a", "c") == 1
    assert members(c("SMEMBERS", "s")) == [b"1", b"a", b"b", b"c"]
    assert c("SCARD", "s") == 4
    assert c("SISMEMBER", "s", "a") == 1
    assert c("SISMEMBER", "s", "zz") == 0
    assert c("SISMEMBER", "missing", "a") == 0
    assert c("SMISMEMBER", "s", "a", "zz", "1") == [1, 0, 1]
    assert c("SMISMEMBER", "missing", "a") == [0]
    assert c("SREM", "s", "a", "zz", "a") == 1
    assert c("TYPE", "s") == b"set"
    assert members(c("SMEMBERS", "missing")) == []
    assert c.error("SADD", "s") == arity("sadd")
    assert c.error("SMISMEMBER", "s") == arity("smismember")


def test_emptied_set_is_deleted(any_client: Client) -> None:
    c = any_client
    c("SADD", "s", "a", "b")
    assert c("SREM", "s", "a", "b") == 2
    assert c("EXISTS", "s") == 0
    c("SADD", "s", "x")
    assert c("SPOP", "s") == b"x"
    assert c("EXISTS", "s") == 0
    c("SADD", "s", "x", "y")
    assert members(c("SPOP", "s", 5)) == [b"x", b"y"]
    assert c("EXISTS", "s") == 0
    c("SADD", "src", "m")
    assert c("SMOVE", "src", "dst", "m") == 1
    assert c("EXISTS", "src") == 0
    assert members(c("SMEMBERS", "dst")) == [b"m"]


@pytest.mark.parametrize(
    "cmd",
    [
        ("SADD", "k", "m"),
        ("SREM", "k", "m"),
        ("SMEMBERS", "k"),
        ("SISMEMBER", "k", "m"),
        ("SMISMEMBER", "k", "m"),
        ("SCARD", "k"),
        ("SPOP", "k"),
        ("SRANDMEMBER", "k"),
        ("SMOVE", "k", "other", "m"),
        ("SINTER", "k"),
        ("SUNION", "k"),
        ("SDIFF", "k"),
        ("SINTERCARD", 1, "k"),
        ("SINTERSTORE", "dst", "k"),
        ("SUNIONSTORE", "dst", "k"),
        ("SDIFFSTORE", "dst", "k"),
        ("SSCAN", "k", 0),
    ],
)
def test_wrongtype(any_client: Client, cmd: tuple[object, ...]) -> None:
    any_client("SET", "k", "string")
    any_client("SADD", "other", "x")
    assert any_client.error(*cmd) == WRONGTYPE
    assert any_client("GET", "k") == b"string"


def test_wrongtype_in_later_keys_and_destinations(any_client: Client) -> None:
    c = any_client
    c("SET", "str", "v")
    c("SADD", "s", "a")
    assert c.error("SUNION", "s", "str") == WRONGTYPE
    assert c.error("SINTER", "missing", "str") == WRONGTYPE
    # SDIFF skips nothing: a wrong-type later key is an error even if the first is empty.
    assert c.error("SDIFF", "missing", "str") == WRONGTYPE
    # A store overwrites a destination of any type.
    assert c("SUNIONSTORE", "str", "s") == 1
    assert c("TYPE", "str") == b"set"
    c("SET", "str2", "v")
    assert c.error("SMOVE", "s", "str2", "a") == WRONGTYPE
    assert c("SISMEMBER", "s", "a") == 1


def test_algebra(any_client: Client) -> None:
    c = any_client
    c("SADD", "x", "a", "b", "c", "d")
    c("SADD", "y", "c", "d", "e")
    c("SADD", "z", "d", "f")
    assert members(c("SINTER", "x", "y")) == [b"c", b"d"]
    assert members(c("SINTER", "x", "y", "z")) == [b"d"]
    assert members(c("SINTER", "x", "missing")) == []
    assert members(c("SUNION", "x", "z", "missing")) == [b"a", b"b", b"c", b"d", b"f"]
    assert members(c("SDIFF", "x", "y")) == [b"a", b"b"]
    assert members(c("SDIFF", "x", "y", "z")) == [b"a", b"b"]
    assert members(c("SDIFF", "missing", "x")) == []
    assert c("SINTERCARD", 2, "x", "y") == 2
    assert c("SINTERCARD", 2, "x", "y", "LIMIT", 1) == 1
    assert c("SINTERCARD", 2, "x", "y", "LIMIT", 0) == 2  # 0: no limit
    assert c("SINTERCARD", 1, "missing") == 0
    assert c.error("SINTERCARD", 0, "x") == "ERR numkeys should be greater than 0"
    assert (
        c.error("SINTERCARD", 3, "x") == "ERR Number of keys can't be greater than number of args"
    )
    assert c.error("SINTERCARD", 1, "x", "LIMIT", -1) == "ERR LIMIT can't be negative"
    assert c.error("SINTERCARD", 1, "x", "FOO") == SYNTAX
    assert c.error("SINTERCARD", "x", "x") == "ERR numkeys should be greater than 0"


def test_store_variants(any_client: Client) -> None:
    c = any_client
    c("SADD", "x", "1", "2", "3")
    c("SADD", "y", "2", "3", "4")
    assert c("SINTERSTORE", "d", "x", "y") == 2
    assert members(c("SMEMBERS", "d")) == [b"2", b"3"]
    assert c("SUNIONSTORE", "d", "x", "y") == 4
    assert c("SDIFFSTORE", "d", "x", "y") == 1
    assert members(c("SMEMBERS", "d")) == [b"1"]
    assert c("SDIFFSTORE", "x", "x", "x") == 0  # the destination may be a source
    assert c("EXISTS", "x") == 0
    c("SET", "d", "str")
    assert c("SINTERSTORE", "d", "y", "missing") == 0  # an empty result deletes the key
    assert c("EXISTS", "d") == 0
    assert c("SUNIONSTORE", "d2", "y") == 3
    assert c("OBJECT", "ENCODING", "d2") == b"intset"


def test_smove(any_client: Client) -> None:
    c = any_client
    c("SADD", "src", "a", "b")
    c("SADD", "dst", "a")
    assert c("SMOVE", "src", "dst", "a") == 1  # already there: removed from src only
    assert members(c("SMEMBERS", "src")) == [b"b"]
    assert c("SMOVE", "src", "dst", "zz") == 0
    assert c("SMOVE", "missing", "dst", "a") == 0
    assert c("SMOVE", "src", "src", "b") == 1  # same key, member present
    assert c("SMOVE", "src", "src", "zz") == 0
    assert c.error("SMOVE", "src", "dst") == arity("smove")


def test_spop_srandmember(any_client: Client) -> None:
    c = any_client
    assert c("SPOP", "missing") is None
    assert c("SRANDMEMBER", "missing") is None
    assert members(c("SPOP", "missing", 2)) == []
    assert c("SRANDMEMBER", "missing", 2) == []
    everything = [f"m{i}".encode() for i in range(10)]
    c("SADD", "s", *everything)
    assert c("SRANDMEMBER", "s") in everything
    assert sorted(c("SRANDMEMBER", "s", 20)) == everything
    five = c("SRANDMEMBER", "s", 5)
    assert len(set(five)) == 5 and set(five) <= set(everything)
    many = c("SRANDMEMBER", "s", -30)
    assert len(many) == 30 and set(many) <= set(everything)
    assert c("SRANDMEMBER", "s", 0) == []
    popped = members(c("SPOP", "s", 3))
    assert len(set(popped)) == 3 and set(popped) <= set(everything)
    assert c("SCARD", "s") == 7
    assert not set(popped) & set(c("SMEMBERS", "s"))
    assert members(c("SPOP", "s", 0)) == []
    assert c.error("SPOP", "s", -1) == "ERR value is out of range, must be positive"
    assert c.error("SPOP", "s", "x") == "ERR value is out of range, must be positive"
    assert c.error("SRANDMEMBER", "s", "x") == NOT_INT
    assert c.error("SPOP", "s", 1, 2) == SYNTAX
    assert c.error("SRANDMEMBER", "s", 1, 2) == SYNTAX


def test_sscan(any_client: Client) -> None:
    c = any_client
    c("SADD", "s", *[f"m{i}" for i in range(600)])
    cursor, seen = b"0", set()
    for _ in range(1000):
        cursor, items = c("SSCAN", "s", cursor, "MATCH", "m1?", "COUNT", 50)
        seen.update(items)
        if cursor == b"0":
            break
    assert seen == {f"m{i}".encode() for i in range(10, 20)}
    assert c("SSCAN", "missing", 0) == [b"0", []]
    assert c.error("SSCAN", "s", "x") == "ERR invalid cursor"


@pytest.mark.parametrize(
    ("adds", "encoding"),
    [
        (["1", "2", "-3"], b"intset"),
        (["9223372036854775807", "-9223372036854775808"], b"intset"),
        (["1", "a"], b"hashtable"),
        (["01"], b"hashtable"),  # not a canonical integer
        (["1.0"], b"hashtable"),
        ([str(i) for i in range(512)], b"intset"),
        ([str(i) for i in range(513)], b"hashtable"),
    ],
)
def test_encodings(any_client: Client, adds: list[str], encoding: bytes) -> None:
    any_client("SADD", "s", *adds)
    assert any_client("OBJECT", "ENCODING", "s") == encoding


def test_intset_converts_for_good(any_client: Client) -> None:
    c = any_client
    c("SADD", "s", "1", "2")
    c("SADD", "s", "x")
    c("SREM", "s", "x")
    assert c("OBJECT", "ENCODING", "s") == b"hashtable"


@pytest.mark.parametrize("elems", [["1", "2", "3"], ["a", "b", "1"], [str(i) for i in range(600)]])
def test_dump_restore_with_real_redis(any_client: Client, oracle: Redis, elems: list[str]) -> None:
    c = any_client
    oracle.execute_command("SADD", "s", *elems)
    payload = oracle.execute_command("DUMP", "s")
    assert c("RESTORE", "s", 0, payload) == OK
    assert members(c("SMEMBERS", "s")) == sorted(e.encode() for e in elems)
    assert c("OBJECT", "ENCODING", "s") == oracle.execute_command("OBJECT", "ENCODING", "s")
    assert oracle.execute_command("RESTORE", "back", 0, c("DUMP", "s")) == b"OK"
    assert members(oracle.execute_command("SMEMBERS", "back")) == sorted(e.encode() for e in elems)
