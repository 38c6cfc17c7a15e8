"""Hash commands through `any_client` (RESP3, RESP2, embedded): the notable edge
cases — empty hashes deleted, WRONGTYPE, integer/float increments, reply shapes
per protocol, encodings, DUMP/RESTORE against a real redis-server both ways.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers import Client, Redis, ServerHandle, as_map, raw_redis

OK = b"OK"
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INT = "ERR value is not an integer or out of range"
SYNTAX = "ERR syntax error"


def arity(cmd: str) -> str:
    return f"ERR wrong number of arguments for '{cmd}' command"


@pytest.fixture
def oracle(redis_oracle: ServerHandle) -> Iterator[Redis]:
    """Raw RESP2 client to the real redis-server, flushed before and after."""
    c = raw_redis(redis_oracle.host, redis_oracle.port, 2)
    c.execute_command("FLUSHALL")
    yield c
    c.execute_command("FLUSHALL")
    c.close()


def test_hset_hget_basics(any_client: Client) -> None:
    c = any_client
    assert c("HSET", "h", "f1", "v1", "f2", "v2") == 2
    assert c("HSET", "h", "f1", "new", "f3", "v3") == 1  # counts only new fields
    assert c("HGET", "h", "f1") == b"new"
    assert c("HGET", "h", "nope") is None
    assert c("HGET", "missing", "f") is None
    assert c("HMGET", "h", "f1", "nope", "f3") == [b"new", None, b"v3"]
    assert c("HMGET", "missing", "a", "b") == [None, None]
    assert c("HLEN", "h") == 3
    assert c("HEXISTS", "h", "f2") == 1
    assert c("HEXISTS", "h", "zz") == 0
    assert c("HSTRLEN", "h", "f1") == 3
    assert c("HSTRLEN", "h", "zz") == 0
    assert c("TYPE", "h") == b"hash"


def test_hset_arity_and_hmset(any_client: Client) -> None:
    c = any_client
    assert c.error("HSET", "h", "f") == arity("hset")
    assert c.error("HSET", "h", "f", "v", "g") == arity("hset")
    assert c.error("HMSET", "h", "f") == arity("hmset")
    assert c("HMSET", "h", "f", "v", "g", "w") == OK
    assert c("HSETNX", "h", "f", "x") == 0
    assert c("HSETNX", "h", "n", "x") == 1
    assert c("HGET", "h", "f") == b"v"
    assert c.error("HSETNX", "h", "f") == arity("hsetnx")
    assert c.error("HGETALL") == arity("hgetall")


def test_binary_and_empty_fields(any_client: Client) -> None:
    c = any_client
    blob = bytes(range(256))
    assert c("HSET", "h", b"", b"", b"\x00\xff", blob) == 2
    assert c("HGET", "h", b"") == b""
    assert c("HGET", "h", b"\x00\xff") == blob
    assert as_map(c("HGETALL", "h")) == {b"": b"", b"\x00\xff": blob}


def test_hgetall_shape_per_protocol(any_client: Client) -> None:
    c = any_client
    c("HSET", "h", "a", "1", "b", "2")
    reply = c("HGETALL", "h")
    if c.resp == 3:
        assert reply == {b"a": b"1", b"b": b"2"}
    else:
        assert sorted(zip(reply[::2], reply[1::2], strict=False)) == [(b"a", b"1"), (b"b", b"2")]
    assert sorted(c("HKEYS", "h")) == [b"a", b"b"]
    assert sorted(c("HVALS", "h")) == [b"1", b"2"]
    empty = c("HGETALL", "missing")
    assert empty in ({}, [])
    assert c("HKEYS", "missing") == [] and c("HVALS", "missing") == []


def test_emptied_hash_is_deleted(any_client: Client) -> None:
    c = any_client
    c("HSET", "h", "a", "1", "b", "2")
    assert c("HDEL", "h", "a", "a", "zz") == 1
    assert c("EXISTS", "h") == 1
    assert c("HDEL", "h", "b") == 1
    assert c("EXISTS", "h") == 0
    assert c("TYPE", "h") == b"none"
    assert c("HDEL", "h", "b") == 0
    assert c("HLEN", "h") == 0
    assert c.error("HDEL", "h") == arity("hdel")


@pytest.mark.parametrize(
    "cmd",
    [
        ("HSET", "s", "f", "v"),
        ("HGET", "s", "f"),
        ("HMGET", "s", "f"),
        ("HGETALL", "s"),
        ("HDEL", "s", "f"),
        ("HLEN", "s"),
        ("HEXISTS", "s", "f"),
        ("HSTRLEN", "s", "f"),
        ("HKEYS", "s"),
        ("HVALS", "s"),
        ("HINCRBY", "s", "f", 1),
        ("HINCRBYFLOAT", "s", "f", 1),
        ("HSETNX", "s", "f", "v"),
        ("HRANDFIELD", "s"),
        ("HSCAN", "s", 0),
    ],
)
def test_wrongtype(any_client: Client, cmd: tuple[object, ...]) -> None:
    any_client("SET", "s", "string")
    assert any_client.error(*cmd) == WRONGTYPE
    any_client("SADD", "set", "m")
    assert any_client.error(cmd[0], "set", *cmd[2:]) == WRONGTYPE
    assert any_client("GET", "s") == b"string"


def test_hincrby(any_client: Client) -> None:
    c = any_client
    assert c("HINCRBY", "h", "n", 5) == 5
    assert c("HINCRBY", "h", "n", -7) == -2
    assert c("HGET", "h", "n") == b"-2"
    c("HSET", "h", "big", "9223372036854775807", "s", "abc", "f", "1.5", "sp", " 1")
    assert c.error("HINCRBY", "h", "big", 1) == "ERR increment or decrement would overflow"
    assert c.error("HINCRBY", "h", "s", 1) == "ERR hash value is not an integer"
    assert c.error("HINCRBY", "h", "f", 1) == "ERR hash value is not an integer"
    assert c.error("HINCRBY", "h", "sp", 1) == "ERR hash value is not an integer"
    assert c.error("HINCRBY", "h", "n", "1.5") == NOT_INT
    assert c.error("HINCRBY", "h", "n") == arity("hincrby")
    assert c("HGET", "h", "big") == b"9223372036854775807"


@pytest.mark.parametrize(
    ("start", "incr", "expected"),
    [
        ("10.5", "0.1", b"10.6"),
        ("0.1", "0.2", b"0.3"),  # long double: not 0.30000000000000004
        ("5.0e3", "2.0e2", b"5200"),
        ("1", "-1", b"0"),
        (None, "3", b"3"),
        ("7", "0x10", b"23"),
        ("-1.5", "0.5", b"-1"),
    ],
)
def test_hincrbyfloat(any_client: Client, start: str | None, incr: str, expected: bytes) -> None:
    c = any_client
    if start is not None:
        c("HSET", "h", "f", start)
    assert c("HINCRBYFLOAT", "h", "f", incr) == expected  # a bulk string, also in RESP3
    assert c("HGET", "h", "f") == expected


def test_hincrbyfloat_errors(any_client: Client) -> None:
    c = any_client
    c("HSET", "h", "f", "1", "s", "abc")
    # Unlike INCRBYFLOAT, the increment itself is checked first.
    assert c.error("HINCRBYFLOAT", "h", "f", "inf") == "ERR value is NaN or Infinity"
    assert c.error("HINCRBYFLOAT", "h", "f", "-inf") == "ERR value is NaN or Infinity"
    assert c.error("HINCRBYFLOAT", "h", "f", "nan") == "ERR value is not a valid float"
    assert c.error("HINCRBYFLOAT", "h", "f", "x") == "ERR value is not a valid float"
    assert c.error("HINCRBYFLOAT", "h", "s", "1") == "ERR hash value is not a float"
    assert c("HGET", "h", "f") == b"1"


def test_hrandfield(any_client: Client) -> None:
    c = any_client
    assert c("HRANDFIELD", "missing") is None
    assert c("HRANDFIELD", "missing", 3) == []
    assert c("HRANDFIELD", "missing", 3, "WITHVALUES") == []
    data = {b"a": b"1", b"b": b"2", b"c": b"3"}
    c("HSET", "h", *[x for kv in data.items() for x in kv])
    assert c("HRANDFIELD", "h") in data
    got = c("HRANDFIELD", "h", 10)
    assert sorted(got) == sorted(data)  # count >= size: every field once
    assert len(set(c("HRANDFIELD", "h", 2))) == 2
    dup = c("HRANDFIELD", "h", -7)
    assert len(dup) == 7 and set(dup) <= set(data)
    assert c("HRANDFIELD", "h", 0) == []
    pairs = c("HRANDFIELD", "h", -5, "WITHVALUES")
    if c.resp == 3:  # an array of [field, value] pairs
        assert len(pairs) == 5 and all(data[f] == v for f, v in pairs)
    else:  # flat
        assert len(pairs) == 10 and all(
            data[f] == v for f, v in zip(pairs[::2], pairs[1::2], strict=False)
        )
    assert c.error("HRANDFIELD", "h", 1, "FOO") == SYNTAX
    assert c.error("HRANDFIELD", "h", "x") == NOT_INT
    assert c.error("HRANDFIELD", "h", -9223372036854775808).startswith("ERR value is out of range")


def test_hscan(any_client: Client) -> None:
    c = any_client
    c("HSET", "h", *[x for i in range(600) for x in (f"f{i}", i)])
    cursor, seen = b"0", dict[bytes, bytes]()
    for _ in range(1000):
        cursor, items = c("HSCAN", "h", cursor, "MATCH", "f1*", "COUNT", 20)
        seen.update(zip(items[::2], items[1::2], strict=False))
        if cursor == b"0":
            break
    expected = {f"f{i}".encode(): str(i).encode() for i in range(600) if str(i).startswith("1")}
    assert seen == expected
    assert c("HSCAN", "missing", 0) == [b"0", []]
    assert c.error("HSCAN", "h", "x") == "ERR invalid cursor"
    assert c.error("HSCAN", "h", 0, "COUNT", 0) == SYNTAX
    assert c.error("HSCAN", "h", 0, "FOO") == SYNTAX


def test_encodings(any_client: Client) -> None:
    c = any_client
    c("HSET", "small", "f", "v")
    assert c("OBJECT", "ENCODING", "small") == b"listpack"
    # hash-max-listpack-entries is 512 when redis-server starts without a config
    # file (redis.conf's example sets 128).
    c("HSET", "big", *[x for i in range(512) for x in (f"f{i}", "v")])
    assert c("OBJECT", "ENCODING", "big") == b"listpack"
    c("HSET", "big", "f512", "v")
    assert c("OBJECT", "ENCODING", "big") == b"hashtable"
    c("HDEL", "big", *[f"f{i}" for i in range(500)])
    assert c("OBJECT", "ENCODING", "big") == b"hashtable"  # never converts back
    c("HSET", "long", "f", "x" * 64)
    assert c("OBJECT", "ENCODING", "long") == b"listpack"
    c("HSET", "long", "g", "x" * 65)
    assert c("OBJECT", "ENCODING", "long") == b"hashtable"
    c("HSET", "longfield", "y" * 65, "v")
    assert c("OBJECT", "ENCODING", "longfield") == b"hashtable"


@pytest.mark.parametrize("n", [3, 600])
def test_dump_restore_with_real_redis(any_client: Client, oracle: Redis, n: int) -> None:
    """Payloads (listpack and hashtable encodings) restore both ways."""
    c = any_client
    fields = [x for i in range(n) for x in (f"f{i}", f"v{i}" * (i % 3))]
    expected = dict(
        zip([f.encode() for f in fields[::2]], [v.encode() for v in fields[1::2]], strict=False)
    )
    oracle.execute_command("HSET", "h", *fields)
    payload = oracle.execute_command("DUMP", "h")
    assert c("RESTORE", "h", 0, payload) == OK
    assert as_map(c("HGETALL", "h")) == expected
    assert c("OBJECT", "ENCODING", "h") == oracle.execute_command("OBJECT", "ENCODING", "h")
    assert c.error("RESTORE", "h", 0, payload) == "BUSYKEY Target key name already exists."
    mine = c("DUMP", "h")
    assert oracle.execute_command("RESTORE", "back", 0, mine) == b"OK"
    assert as_map(oracle.execute_command("HGETALL", "back")) == expected
