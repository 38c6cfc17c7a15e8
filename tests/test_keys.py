"""Keyspace commands, run through `any_client` (RESP3, RESP2, embedded) unless they
need a socket (DEBUG, cross-server DUMP/RESTORE).

Embedded assumption: a `fastkv.Store` behaves like one connection for SELECT
(it has a current database, 0 at creation).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from helpers import (
    Client,
    Redis,
    ServerHandle,
    dump_string_payload,
    encode_command,
    raw_redis,
    wait_until,
)

OK = b"OK"
NOT_INT = "ERR value is not an integer or out of range"
SYNTAX = "ERR syntax error"
OUT_OF_RANGE = "ERR DB index is out of range"
SAME_OBJECT = "ERR source and destination objects are the same"


def arity(cmd: str) -> str:
    return f"ERR wrong number of arguments for '{cmd}' command"


def scan_all(c: Client, *opts: object, limit: int = 100_000) -> list[bytes]:
    """Every key a full SCAN iteration returns (with duplicates)."""
    cursor: bytes | int = 0
    seen: list[bytes] = []
    for _ in range(limit):
        cursor, keys = c("SCAN", cursor, *opts)
        seen.extend(keys)
        if cursor == b"0":
            return seen
    raise AssertionError("SCAN did not terminate")


# --------------------------------------------------------------------------
# DEL UNLINK EXISTS TYPE TOUCH
# --------------------------------------------------------------------------


def test_del_unlink(any_client: Client) -> None:
    c = any_client
    c("MSET", "a", 1, "b", 2, "c", 3, "d", 4)
    assert c("DEL", "a", "b", "missing", "a") == 2
    assert c("UNLINK", "c", "missing") == 1
    assert c("DEL", "missing") == 0
    assert c("MGET", "a", "b", "c", "d") == [None, None, None, b"4"]
    assert c.error("DEL") == arity("del")
    assert c.error("UNLINK") == arity("unlink")


def test_exists_counts_duplicates(any_client: Client) -> None:
    c = any_client
    c("SET", "a", "1")
    assert c("EXISTS", "a", "a", "b", "a") == 3
    assert c("EXISTS", "b") == 0
    assert c.error("EXISTS") == arity("exists")


def test_type(any_client: Client) -> None:
    c = any_client
    c("SET", "s", "v")
    c("SET", "i", 10)
    assert c("TYPE", "s") == b"string"
    assert c("TYPE", "i") == b"string"
    assert c("TYPE", "missing") == b"none"
    assert c.error("TYPE") == arity("type")


def test_touch(any_client: Client) -> None:
    c = any_client
    c("MSET", "a", 1, "b", 2)
    assert c("TOUCH", "a", "b", "missing", "a") == 3
    assert c.error("TOUCH") == arity("touch")


# --------------------------------------------------------------------------
# RENAME RENAMENX
# --------------------------------------------------------------------------


def test_rename(any_client: Client) -> None:
    c = any_client
    c("SET", "a", "1", "EX", 100)
    c("SET", "b", "2")
    assert c("RENAME", "a", "b") == OK
    assert c("GET", "b") == b"1"
    assert 99 <= c("TTL", "b") <= 100  # the TTL moves with the value
    assert c("EXISTS", "a") == 0
    assert c("RENAME", "b", "b") == OK
    assert c("GET", "b") == b"1"
    assert c.error("RENAME", "missing", "x") == "ERR no such key"
    assert c.error("RENAME", "b") == arity("rename")


def test_rename_clears_destination_ttl(any_client: Client) -> None:
    c = any_client
    c("SET", "src", "1")
    c("SET", "dst", "2", "EX", 100)
    c("RENAME", "src", "dst")
    assert c("TTL", "dst") == -1


def test_renamenx(any_client: Client) -> None:
    c = any_client
    c("MSET", "a", 1, "b", 2)
    assert c("RENAMENX", "a", "b") == 0
    assert c("RENAMENX", "a", "a") == 0
    assert c("RENAMENX", "a", "c") == 1
    assert c("MGET", "a", "b", "c") == [None, b"2", b"1"]
    assert c.error("RENAMENX", "missing", "x") == "ERR no such key"


# --------------------------------------------------------------------------
# KEYS SCAN RANDOMKEY DBSIZE
# --------------------------------------------------------------------------

GLOB_KEYS = [
    "hello",
    "hallo",
    "hxllo",
    "hllo",
    "heeeello",
    "a*b",
    "a?b",
    "axb",
    "[x]",
    "x",
    "a\\b",
    "-",
    "b",
]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("*", GLOB_KEYS),
        ("h?llo", ["hello", "hallo", "hxllo"]),
        ("h*llo", ["hello", "hallo", "hxllo", "hllo", "heeeello"]),
        ("h[ae]llo", ["hello", "hallo"]),
        ("h[^e]llo", ["hallo", "hxllo"]),
        ("h[a-e]llo", ["hello", "hallo"]),
        ("h[e-a]llo", ["hello", "hallo"]),  # reversed ranges work too
        ("a\\*b", ["a*b"]),
        ("a\\?b", ["a?b"]),
        ("a?b", ["a*b", "a?b", "axb", "a\\b"]),
        ("\\[x\\]", ["[x]"]),
        ("[x]", ["x"]),
        ("a\\\\b", ["a\\b"]),
        ("[\\-]", ["-"]),
        ("nomatch*", []),
        ("?", ["x", "-", "b"]),
    ],
)
def test_keys_glob(any_client: Client, pattern: str, expected: list[str]) -> None:
    c = any_client
    for k in GLOB_KEYS:
        c("SET", k, "v")
    assert sorted(c("KEYS", pattern)) == sorted(k.encode() for k in expected)


def test_keys_skips_expired(any_client: Client) -> None:
    c = any_client
    c("SET", "live", "1")
    c("SET", "dead", "1", "PX", 1)
    time.sleep(0.01)
    assert c("KEYS", "*") == [b"live"]


def test_scan_full_iteration(any_client: Client) -> None:
    c = any_client
    keys = {f"key:{i}".encode() for i in range(500)}
    c("MSET", *[x for k in keys for x in (k, b"v")])
    assert set(scan_all(c)) == keys
    assert set(scan_all(c, "COUNT", 7)) == keys
    assert set(scan_all(c, "MATCH", "key:1*", "COUNT", 50)) == {
        k for k in keys if k.startswith(b"key:1")
    }
    assert set(scan_all(c, "TYPE", "string")) == keys
    assert scan_all(c, "TYPE", "hash") == []
    cursor, page = c("SCAN", 0, "COUNT", 1000)
    assert cursor == b"0" and set(page) == keys


def test_scan_empty_and_errors(any_client: Client) -> None:
    c = any_client
    assert c("SCAN", 0) == [b"0", []]
    assert c.error("SCAN", "x") == "ERR invalid cursor"
    assert c.error("SCAN", 0, "COUNT", 0) == SYNTAX
    assert c.error("SCAN", 0, "COUNT", -1) == SYNTAX
    assert c.error("SCAN", 0, "COUNT", "x") == NOT_INT
    assert c.error("SCAN", 0, "MATCH") == SYNTAX
    assert c.error("SCAN", 0, "FOO", 1) == SYNTAX
    assert c.error("SCAN") == arity("scan")


def test_scan_guarantee_while_keys_are_added(any_client: Client) -> None:
    """Every key present for the whole iteration is returned, even while 10,000
    keys are added between the SCAN calls (the table grows)."""
    c = any_client
    stable = {f"stable:{i}".encode() for i in range(2000)}
    c("MSET", *[x for k in stable for x in (k, b"1")])
    added = 0
    seen: set[bytes] = set()
    cursor: bytes | int = 0
    for _ in range(100_000):
        cursor, page = c("SCAN", cursor, "COUNT", 10)
        seen.update(page)
        if added < 10_000:
            batch = [f"new:{added + j}".encode() for j in range(100)]
            c("MSET", *[x for k in batch for x in (k, b"1")])
            added += len(batch)
        if cursor == b"0":
            break
    else:
        raise AssertionError("SCAN did not terminate")
    assert stable <= seen, f"missing {len(stable - seen)} stable keys"
    assert c("DBSIZE") == 2000 + added


def test_randomkey(any_client: Client) -> None:
    c = any_client
    assert c("RANDOMKEY") is None
    c("MSET", "a", 1, "b", 2, "c", 3)
    got = {c("RANDOMKEY") for _ in range(50)}
    assert got <= {b"a", b"b", b"c"} and got


def test_dbsize_flushdb_flushall(any_client: Client) -> None:
    c = any_client
    c("MSET", "a", 1, "b", 2)
    assert c("DBSIZE") == 2
    assert c("FLUSHDB") == OK
    assert c("DBSIZE") == 0
    c("MSET", "a", 1, "b", 2)
    assert c("FLUSHDB", "ASYNC") == OK
    assert c("DBSIZE") == 0
    c("SET", "a", 1)
    assert c("FLUSHALL", "SYNC") == OK
    assert c("DBSIZE") == 0
    c("SET", "a", 1)
    assert c("FLUSHALL", "async") == OK
    assert c("DBSIZE") == 0
    assert c.error("FLUSHALL", "FOO") == SYNTAX
    assert c.error("FLUSHDB", "FOO") == SYNTAX
    assert c.error("DBSIZE", "x") == arity("dbsize")


# --------------------------------------------------------------------------
# Databases: SELECT SWAPDB MOVE COPY FLUSHALL
# --------------------------------------------------------------------------


def test_select_16_databases(any_client: Client) -> None:
    c = any_client
    c("SET", "k", "db0")
    assert c("SELECT", 15) == OK
    assert c("GET", "k") is None
    c("SET", "k", "db15")
    assert c.error("SELECT", 16) == OUT_OF_RANGE
    assert c.error("SELECT", -1) == OUT_OF_RANGE
    assert c.error("SELECT", "x") == NOT_INT
    assert c("GET", "k") == b"db15"  # a failed SELECT keeps the current db
    c("SELECT", 0)
    assert c("GET", "k") == b"db0"


def test_flushdb_only_current_flushall_every_db(any_client: Client) -> None:
    c = any_client
    c("SET", "k", "0")
    c("SELECT", 3)
    c("SET", "k", "3")
    c("FLUSHDB")
    c("SELECT", 0)
    assert c("GET", "k") == b"0"
    c("SELECT", 3)
    c("SET", "k", "3")
    c("FLUSHALL")
    assert c("DBSIZE") == 0
    c("SELECT", 0)
    assert c("DBSIZE") == 0


def test_swapdb(any_client: Client) -> None:
    c = any_client
    c("SET", "k", "zero")
    c("SELECT", 1)
    c("SET", "k", "one")
    c("SET", "only1", "x")
    assert c("SWAPDB", 0, 1) == OK
    assert c("GET", "k") == b"zero"  # the current db's content changed under us
    assert c("EXISTS", "only1") == 0
    c("SELECT", 0)
    assert c("GET", "k") == b"one"
    assert c("SWAPDB", 0, 0) == OK
    assert c.error("SWAPDB", 0, 16) == OUT_OF_RANGE
    assert c.error("SWAPDB", -1, 0) == OUT_OF_RANGE
    assert c.error("SWAPDB", "a", 0) == "ERR invalid first DB index"
    assert c.error("SWAPDB", 0, "b") == "ERR invalid second DB index"
    assert c.error("SWAPDB", 0) == arity("swapdb")


def test_move(any_client: Client) -> None:
    c = any_client
    c("SET", "k", "v", "EX", 100)
    assert c("MOVE", "k", 2) == 1
    assert c("EXISTS", "k") == 0
    assert c("MOVE", "k", 2) == 0  # missing source
    c("SELECT", 2)
    assert c("GET", "k") == b"v"
    assert 99 <= c("TTL", "k") <= 100
    c("SELECT", 0)
    c("SET", "k", "other")
    assert c("MOVE", "k", 2) == 0  # target exists
    assert c("GET", "k") == b"other"
    assert c.error("MOVE", "k", 0) == SAME_OBJECT
    assert c.error("MOVE", "k", 16) == OUT_OF_RANGE
    assert c.error("MOVE", "k", "x") == NOT_INT


def test_copy(any_client: Client) -> None:
    c = any_client
    c("SET", "src", "v", "EX", 100)
    assert c("COPY", "src", "dst") == 1
    assert c("GET", "dst") == b"v"
    assert 99 <= c("TTL", "dst") <= 100
    c("SET", "src", "v2")
    assert c("COPY", "src", "dst") == 0
    assert c("GET", "dst") == b"v"
    assert c("COPY", "src", "dst", "REPLACE") == 1
    assert c("GET", "dst") == b"v2"
    assert c("TTL", "dst") == -1
    assert c("COPY", "missing", "dst") == 0
    assert c("COPY", "src", "dst", "DB", 5) == 1
    c("SELECT", 5)
    assert c("GET", "dst") == b"v2"
    c("SELECT", 0)
    assert c("COPY", "src", "src", "DB", 5) == 1  # same name, other db: allowed
    assert c("COPY", "src", "src", "DB", 5) == 0  # now it exists there
    assert c.error("COPY", "src", "src") == SAME_OBJECT
    assert c.error("COPY", "src", "x", "DB", 16) == OUT_OF_RANGE
    assert c.error("COPY", "src", "x", "DB", "y") == NOT_INT
    assert c.error("COPY", "src", "x", "FOO") == SYNTAX
    assert c.error("COPY", "src") == arity("copy")


# --------------------------------------------------------------------------
# Expiry: EXPIRE family, TTL, PERSIST
# --------------------------------------------------------------------------


def test_expire_ttl_persist(any_client: Client) -> None:
    c = any_client
    assert c("EXPIRE", "missing", 10) == 0
    assert c("TTL", "missing") == -2
    assert c("PTTL", "missing") == -2
    c("SET", "k", "v")
    assert c("TTL", "k") == -1
    assert c("PTTL", "k") == -1
    assert c("EXPIRE", "k", 100) == 1
    assert 99 <= c("TTL", "k") <= 100
    assert c("PEXPIRE", "k", 200_000) == 1
    assert 199_000 < c("PTTL", "k") <= 200_000
    assert c("PERSIST", "k") == 1
    assert c("PERSIST", "k") == 0
    assert c("PERSIST", "missing") == 0
    assert c("TTL", "k") == -1


def test_expireat_and_expiretime(any_client: Client) -> None:
    c = any_client
    c("SET", "k", "v")
    assert c("EXPIRETIME", "k") == -1
    assert c("PEXPIRETIME", "k") == -1
    assert c("EXPIRETIME", "missing") == -2
    assert c("PEXPIRETIME", "missing") == -2
    at = int(time.time()) + 1000
    assert c("EXPIREAT", "k", at) == 1
    assert c("EXPIRETIME", "k") == at
    assert c("PEXPIRETIME", "k") == at * 1000
    assert c("PEXPIREAT", "k", at * 1000 + 123) == 1
    assert c("PEXPIRETIME", "k") == at * 1000 + 123
    assert c("EXPIRETIME", "k") == at  # rounded down


def test_expire_non_positive_deletes(any_client: Client) -> None:
    c = any_client
    for cmd, arg in [
        ("EXPIRE", 0),
        ("EXPIRE", -5),
        ("PEXPIRE", 0),
        ("EXPIREAT", 1),
        ("PEXPIREAT", 1),
    ]:
        c("SET", "k", "v")
        assert c(cmd, "k", arg) == 1, cmd
        assert c("EXISTS", "k") == 0, cmd


@pytest.mark.parametrize(
    ("has_ttl", "opt", "new", "applied"),
    [
        (False, "NX", 100, 1),
        (True, "NX", 100, 0),
        (False, "XX", 100, 0),
        (True, "XX", 100, 1),
        (True, "GT", 100, 1),
        (True, "GT", 10, 0),
        (False, "GT", 100, 0),  # no TTL counts as infinite
        (True, "LT", 10, 1),
        (True, "LT", 100, 0),
        (False, "LT", 100, 1),
    ],
)
def test_expire_conditions(
    any_client: Client, has_ttl: bool, opt: str, new: int, applied: int
) -> None:
    c = any_client
    c("SET", "k", "v")
    if has_ttl:
        c("EXPIRE", "k", 50)
    assert c("EXPIRE", "k", new, opt) == applied
    expected = new if applied else (50 if has_ttl else -1)
    ttl = c("TTL", "k")
    assert ttl == expected or (expected > 0 and expected - 1 <= ttl <= expected)


def test_expire_option_errors(any_client: Client) -> None:
    c = any_client
    c("SET", "k", "v")
    incompatible = "ERR NX and XX, GT or LT options at the same time are not compatible"
    assert c.error("EXPIRE", "k", 10, "NX", "XX") == incompatible
    assert c.error("EXPIRE", "k", 10, "NX", "GT") == incompatible
    assert c.error("PEXPIRE", "k", 10, "LT", "NX") == incompatible
    assert (
        c.error("EXPIRE", "k", 10, "GT", "LT")
        == "ERR GT and LT options at the same time are not compatible"
    )
    assert c.error("EXPIRE", "k", 10, "FOO") == "ERR Unsupported option FOO"
    assert c.error("EXPIRE", "k", "abc") == NOT_INT
    assert (
        c.error("EXPIRE", "k", 9_999_999_999_999_999)
        == "ERR invalid expire time in 'expire' command"
    )
    assert (
        c.error("PEXPIRE", "k", 9223372036854775807)
        == "ERR invalid expire time in 'pexpire' command"
    )
    assert (
        c.error("EXPIREAT", "k", 9223372036854775807)
        == "ERR invalid expire time in 'expireat' command"
    )
    assert c.error("EXPIRE", "k") == arity("expire")
    assert c("TTL", "k") == -1


def test_expired_key_is_gone_lazily(any_client: Client) -> None:
    c = any_client
    c("SET", "k", "v", "PX", 50)
    assert c("GET", "k") == b"v"
    time.sleep(0.1)
    assert c("GET", "k") is None
    assert c("EXISTS", "k") == 0
    assert c("TTL", "k") == -2
    assert c("DBSIZE") == 0


def test_lazy_expiry_with_active_expiry_off(server: ServerHandle) -> None:
    r = raw_redis(server.host, server.port, 3)
    try:
        r.flushall()
        assert r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0) == b"OK"
        try:
            r.execute_command("SET", "k", "v", "PX", 50)
            time.sleep(0.1)
            assert r.execute_command("GET", "k") is None
            assert r.execute_command("DBSIZE") == 0
        finally:
            r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 1)
    finally:
        r.close()


def test_active_expiry_reclaims_without_access(server: ServerHandle) -> None:
    r = raw_redis(server.host, server.port, 3)
    try:
        r.flushall()
        with server.raw() as c:  # one pipelined write
            c.send(b"".join(encode_command("SET", f"exp:{i}", "v", "PX", 100) for i in range(200)))
            assert c.read_exact(5 * 200) == b"+OK\r\n" * 200
        r.execute_command("SET", "keep", "v")
        assert r.execute_command("DBSIZE") == 201
        # DBSIZE does not touch keys: only the active cycle can make it drop.
        assert wait_until(lambda: r.execute_command("DBSIZE") == 1, timeout=2.0, interval=0.05)
        assert r.execute_command("GET", "keep") == b"v"
    finally:
        r.close()


def test_set_without_ttl_survives(any_client: Client) -> None:
    c = any_client
    c("SET", "k", "v", "PX", 30)
    c("SET", "k", "v2")
    time.sleep(0.06)
    assert c("GET", "k") == b"v2"


# --------------------------------------------------------------------------
# OBJECT
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "encoding"),
    [
        ("12345", b"int"),
        ("-1", b"int"),
        ("0", b"int"),
        ("-9223372036854775808", b"int"),
        ("99999999999", b"int"),
        ("12345678901234567890", b"embstr"),  # beyond i64
        ("01", b"embstr"),  # not canonical
        ("1.5", b"embstr"),
        ("x" * 44, b"embstr"),
        ("x" * 45, b"raw"),
        ("", b"embstr"),
    ],
)
def test_object_encoding_of_set_values(any_client: Client, value: str, encoding: bytes) -> None:
    any_client("SET", "k", value)
    assert any_client("OBJECT", "ENCODING", "k") == encoding


def test_object_encoding_after_edits(any_client: Client) -> None:
    c = any_client
    c("SET", "ap", "a")
    c("APPEND", "ap", "b")
    assert c("OBJECT", "ENCODING", "ap") == b"raw"
    c("INCR", "ic")
    assert c("OBJECT", "ENCODING", "ic") == b"int"
    c("INCRBYFLOAT", "fl", "1.5")
    assert c("OBJECT", "ENCODING", "fl") == b"embstr"
    c("SETRANGE", "sr", 0, "abc")
    assert c("OBJECT", "ENCODING", "sr") == b"raw"
    assert c("OBJECT", "ENCODING", "missing") is None


def test_object_refcount_idletime_freq_help(any_client: Client) -> None:
    c = any_client
    c("SET", "small", "9999")
    c("SET", "big", "10000")
    c("SET", "str", "abc")
    # Redis shares the integers 0..9999: their refcount is INT_MAX.
    assert c("OBJECT", "REFCOUNT", "small") == 2147483647
    assert c("OBJECT", "REFCOUNT", "big") == 1
    assert c("OBJECT", "REFCOUNT", "str") == 1
    assert c("OBJECT", "REFCOUNT", "missing") is None
    assert 0 <= c("OBJECT", "IDLETIME", "str") <= 1
    assert c("OBJECT", "IDLETIME", "missing") is None
    assert c("OBJECT", "FREQ", "missing") is None
    assert c.error("OBJECT", "FREQ", "str") == (
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. "
        "Please note that when switching between policies at runtime LRU and LFU data "
        "will take some time to adjust."
    )
    help_lines = c("OBJECT", "HELP")
    assert isinstance(help_lines, list) and len(help_lines) > 5
    assert help_lines[0].startswith(b"OBJECT <subcommand>")
    assert c.error("OBJECT", "FOO", "k") == "ERR unknown subcommand 'FOO'. Try OBJECT HELP."
    assert c.error("OBJECT", "ENCODING") == arity("object|encoding")
    assert c.error("OBJECT") == arity("object")


def test_object_idletime_grows(any_client: Client) -> None:
    c = any_client
    c("RESTORE", "k", 0, dump_string_payload(b"v"), "IDLETIME", 100)
    assert 100 <= c("OBJECT", "IDLETIME", "k") <= 101
    c("GET", "k")  # an access resets it
    assert c("OBJECT", "IDLETIME", "k") <= 1


# --------------------------------------------------------------------------
# DUMP / RESTORE
# --------------------------------------------------------------------------

PAYLOAD = dump_string_payload(b"hello")


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b"a",
        b"hello world",
        b"123",
        b"-5",
        b"300",
        b"-40000",
        b"2147483648",
        b"007",
        b"\x00\xff\r\n",
    ],
)
def test_dump_matches_redis_encoding(any_client: Client, value: bytes) -> None:
    """Short strings have one canonical DUMP payload (no LZF below 21 bytes)."""
    any_client("SET", "k", value)
    assert any_client("DUMP", "k") == dump_string_payload(value)


def test_dump_restore_roundtrip(any_client: Client) -> None:
    c = any_client
    for value in [b"x" * 100, bytes(range(256)) * 3, b"abc" * 1000, b"42"]:
        c("SET", "src", value)
        payload = c("DUMP", "src")
        assert c("RESTORE", "dst", 0, payload, "REPLACE") == OK
        assert c("GET", "dst") == value
    assert c("DUMP", "missing") is None


def test_restore_options(any_client: Client) -> None:
    c = any_client
    assert c("RESTORE", "a", 0, PAYLOAD) == OK
    assert c("GET", "a") == b"hello"
    assert c("TTL", "a") == -1
    assert c.error("RESTORE", "a", 0, PAYLOAD) == "BUSYKEY Target key name already exists."
    assert c("RESTORE", "a", 0, dump_string_payload(b"new"), "REPLACE") == OK
    assert c("GET", "a") == b"new"
    assert c("RESTORE", "t", 5000, PAYLOAD) == OK
    assert 4000 < c("PTTL", "t") <= 5000
    at = int(time.time() * 1000) + 100_000
    assert c("RESTORE", "abs", at, PAYLOAD, "ABSTTL") == OK
    assert c("PEXPIRETIME", "abs") == at
    assert c("RESTORE", "past", 1, PAYLOAD, "ABSTTL") == OK
    assert c("EXISTS", "past") == 0  # already expired: not created
    assert c("RESTORE", "abs0", 0, PAYLOAD, "ABSTTL") == OK
    assert c("TTL", "abs0") == -1
    assert c("RESTORE", "f", 0, PAYLOAD, "FREQ", 5) == OK  # accepted without an LFU policy
    assert c("RESTORE", "old", 0, dump_string_payload(b"v9", rdb_version=9)) == OK
    assert c("GET", "old") == b"v9"


def test_restore_errors(any_client: Client) -> None:
    c = any_client
    bad = "ERR DUMP payload version or checksum are wrong"
    assert c.error("RESTORE", "k", 0, b"garbage") == bad
    assert c.error("RESTORE", "k", 0, b"") == bad
    assert c.error("RESTORE", "k", 0, PAYLOAD[:-1] + bytes([PAYLOAD[-1] ^ 1])) == bad
    assert c.error("RESTORE", "k", 0, dump_string_payload(b"hello", rdb_version=11)) == bad
    assert c.error("RESTORE", "k", -1, PAYLOAD) == "ERR Invalid TTL value, must be >= 0"
    assert c.error("RESTORE", "k", "x", PAYLOAD) == NOT_INT
    assert (
        c.error("RESTORE", "k", 0, PAYLOAD, "IDLETIME", -1)
        == "ERR Invalid IDLETIME value, must be >= 0"
    )
    assert c.error("RESTORE", "k", 0, PAYLOAD, "IDLETIME", "x") == NOT_INT
    freq = "ERR Invalid FREQ value, must be >= 0 and <= 255"
    assert c.error("RESTORE", "k", 0, PAYLOAD, "FREQ", 256) == freq
    assert c.error("RESTORE", "k", 0, PAYLOAD, "FREQ", -1) == freq
    assert c.error("RESTORE", "k", 0, PAYLOAD, "IDLETIME", 1, "FREQ", 1) == SYNTAX
    assert c.error("RESTORE", "k", 0, PAYLOAD, "IDLETIME") == SYNTAX
    assert c.error("RESTORE", "k", 0, PAYLOAD, "FOO") == SYNTAX
    assert c.error("RESTORE", "k", 0) == arity("restore")
    assert c("EXISTS", "k") == 0


@pytest.fixture
def oracle_raw(redis_oracle: ServerHandle) -> Iterator[Redis]:
    r = raw_redis(redis_oracle.host, redis_oracle.port, 2)
    r.flushall()
    yield r
    r.close()


@pytest.fixture
def sut_raw(server: ServerHandle) -> Iterator[Redis]:
    r = raw_redis(server.host, server.port, 2)
    r.flushall()
    yield r
    r.close()


CROSS_VALUES = [
    b"",
    b"7",
    b"-123456",
    b"4294967296",
    b"short",
    b"x" * 64,
    b"ab" * 500,
    bytes(range(256)) * 20,
]


@pytest.mark.parametrize("value", CROSS_VALUES, ids=lambda v: f"len{len(v)}")
def test_dump_from_redis_restores_here(oracle_raw: Redis, sut_raw: Redis, value: bytes) -> None:
    oracle_raw.execute_command("SET", "k", value)
    payload = oracle_raw.execute_command("DUMP", "k")
    assert sut_raw.execute_command("RESTORE", "k", 0, payload) == b"OK"
    assert sut_raw.execute_command("GET", "k") == value


@pytest.mark.parametrize("value", CROSS_VALUES, ids=lambda v: f"len{len(v)}")
def test_dump_from_here_restores_in_redis(oracle_raw: Redis, sut_raw: Redis, value: bytes) -> None:
    sut_raw.execute_command("SET", "k", value)
    payload = sut_raw.execute_command("DUMP", "k")
    assert oracle_raw.execute_command("RESTORE", "k", 0, payload) == b"OK"
    assert oracle_raw.execute_command("GET", "k") == value
