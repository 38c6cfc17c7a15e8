"""String commands, run through `any_client` (RESP3, RESP2, embedded).

Replies are raw (no redis-py callbacks) and normalized: simple strings compare as
b"OK"; errors are Redis's full text via `c.error(...)`.
"""

from __future__ import annotations

import time

import pytest
from helpers import Client, as_map

OK = b"OK"
NOT_INT = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
SYNTAX = "ERR syntax error"


def arity(cmd: str) -> str:
    return f"ERR wrong number of arguments for '{cmd}' command"


def ttl_between(c: Client, key: str, lo: int, hi: int) -> None:
    ttl = c("TTL", key)
    assert lo <= ttl <= hi, ttl


# --------------------------------------------------------------------------
# GET / SET
# --------------------------------------------------------------------------


def test_set_get_roundtrip(any_client: Client) -> None:
    c = any_client
    assert c("GET", "k") is None
    assert c("SET", "k", "v") == OK
    assert c("GET", "k") == b"v"
    assert c("SET", "k", "v2") == OK
    assert c("GET", "k") == b"v2"


def test_set_binary_and_empty_values(any_client: Client) -> None:
    c = any_client
    blob = bytes(range(256))
    assert c("SET", b"\x00key\xff", blob) == OK
    assert c("GET", b"\x00key\xff") == blob
    assert c("SET", "", "") == OK
    assert c("GET", "") == b""
    assert c("EXISTS", "") == 1


def test_set_numbers_are_stored_as_their_text(any_client: Client) -> None:
    c = any_client
    c("SET", "i", 42)
    c("SET", "f", 1.5)
    assert c("GET", "i") == b"42"
    assert c("GET", "f") == b"1.5"


def test_get_arity(any_client: Client) -> None:
    assert any_client.error("GET") == arity("get")
    assert any_client.error("GET", "a", "b") == arity("get")
    assert any_client.error("SET", "a") == arity("set")


def test_set_nx_xx(any_client: Client) -> None:
    c = any_client
    assert c("SET", "k", "1", "XX") is None
    assert c("EXISTS", "k") == 0
    assert c("SET", "k", "1", "NX") == OK
    assert c("SET", "k", "2", "nx") is None
    assert c("GET", "k") == b"1"
    assert c("SET", "k", "3", "XX") == OK
    assert c("GET", "k") == b"3"
    assert c.error("SET", "k", "4", "NX", "XX") == SYNTAX


def test_set_get_option(any_client: Client) -> None:
    c = any_client
    assert c("SET", "k", "1", "GET") is None
    assert c("SET", "k", "2", "GET") == b"1"
    assert c("GET", "k") == b"2"
    # Redis 7: GET combines with NX (returns the old value, does not set) ...
    assert c("SET", "k", "3", "NX", "GET") == b"2"
    assert c("GET", "k") == b"2"
    # ... and with XX on a missing key (nil, nothing set).
    assert c("SET", "missing", "x", "XX", "GET") is None
    assert c("EXISTS", "missing") == 0


def test_set_ex_px(any_client: Client) -> None:
    c = any_client
    assert c("SET", "k", "v", "EX", 100) == OK
    ttl_between(c, "k", 99, 100)
    assert c("SET", "k", "v", "PX", 5000) == OK
    assert 4000 < c("PTTL", "k") <= 5000
    assert c("SET", "k", "v", "ex", 10, "ex", 20) == OK  # a repeated option: the last wins
    ttl_between(c, "k", 19, 20)
    assert c("SET", "k", "v") == OK  # a plain SET clears the TTL
    assert c("TTL", "k") == -1


def test_set_exat_pxat(any_client: Client) -> None:
    c = any_client
    now = time.time()
    assert c("SET", "k", "v", "EXAT", int(now) + 100) == OK
    ttl_between(c, "k", 98, 100)
    assert c("SET", "k", "v", "PXAT", int(now * 1000) + 50_000) == OK
    assert 45_000 < c("PTTL", "k") <= 50_000
    # A deadline in the past: the SET succeeds and the key is gone at once.
    assert c("SET", "k", "v", "EXAT", 1) == OK
    assert c("EXISTS", "k") == 0
    assert c("SET", "k", "v", "PXAT", 1) == OK
    assert c("GET", "k") is None


def test_set_keepttl(any_client: Client) -> None:
    c = any_client
    c("SET", "k", "v", "EX", 100)
    assert c("SET", "k", "v2", "KEEPTTL") == OK
    ttl_between(c, "k", 99, 100)
    assert c("GET", "k") == b"v2"
    assert c("SET", "nottl", "v", "KEEPTTL") == OK
    assert c("TTL", "nottl") == -1


@pytest.mark.parametrize(
    "opts",
    [
        ("EX", 0),
        ("EX", -1),
        ("PX", 0),
        ("PX", -5),
        ("EXAT", 0),
        ("PXAT", -1),
        ("EX", 9_999_999_999_999_999),
    ],
)
def test_set_invalid_expire(any_client: Client, opts: tuple[str, int]) -> None:
    assert any_client.error("SET", "k", "v", *opts) == "ERR invalid expire time in 'set' command"
    assert any_client("EXISTS", "k") == 0


@pytest.mark.parametrize(
    "opts",
    [
        ("EX", 10, "PX", 100),
        ("EX", 10, "KEEPTTL"),
        ("KEEPTTL", "PX", 100),
        ("PX", 10, "EXAT", 100),
        ("EXAT", 10, "PXAT", 100),
        ("NX", "XX"),
        ("EX",),
        ("FOO",),
        ("GET", "GETX"),
    ],
)
def test_set_syntax_errors(any_client: Client, opts: tuple[object, ...]) -> None:
    assert any_client.error("SET", "k", "v", *opts) == SYNTAX


def test_set_non_integer_expire(any_client: Client) -> None:
    assert any_client.error("SET", "k", "v", "EX", "abc") == NOT_INT
    assert any_client.error("SET", "k", "v", "PX", "1.5") == NOT_INT


# --------------------------------------------------------------------------
# SETNX SETEX PSETEX GETSET GETDEL GETEX
# --------------------------------------------------------------------------


def test_setnx(any_client: Client) -> None:
    c = any_client
    assert c("SETNX", "k", "1") == 1
    assert c("SETNX", "k", "2") == 0
    assert c("GET", "k") == b"1"
    assert c.error("SETNX", "k") == arity("setnx")


def test_setex_psetex(any_client: Client) -> None:
    c = any_client
    assert c("SETEX", "k", 100, "v") == OK
    assert c("GET", "k") == b"v"
    ttl_between(c, "k", 99, 100)
    assert c("PSETEX", "p", 100_000, "v") == OK
    assert 99_000 < c("PTTL", "p") <= 100_000
    assert c.error("SETEX", "k", 0, "v") == "ERR invalid expire time in 'setex' command"
    assert c.error("SETEX", "k", -3, "v") == "ERR invalid expire time in 'setex' command"
    assert c.error("PSETEX", "k", -5, "v") == "ERR invalid expire time in 'psetex' command"
    assert c.error("SETEX", "k", "abc", "v") == NOT_INT
    assert c.error("SETEX", "k", 10) == arity("setex")


def test_getset(any_client: Client) -> None:
    c = any_client
    assert c("GETSET", "k", "1") is None
    c("EXPIRE", "k", 100)
    assert c("GETSET", "k", "2") == b"1"
    assert c("GET", "k") == b"2"
    assert c("TTL", "k") == -1  # GETSET discards the TTL


def test_getdel(any_client: Client) -> None:
    c = any_client
    assert c("GETDEL", "k") is None
    c("SET", "k", "v")
    assert c("GETDEL", "k") == b"v"
    assert c("EXISTS", "k") == 0
    assert c.error("GETDEL") == arity("getdel")


def test_getex_options(any_client: Client) -> None:
    c = any_client
    c("SET", "k", "v")
    assert c("GETEX", "k") == b"v"
    assert c("TTL", "k") == -1
    assert c("GETEX", "k", "EX", 100) == b"v"
    ttl_between(c, "k", 99, 100)
    assert c("GETEX", "k", "PX", 50_000) == b"v"
    assert 45_000 < c("PTTL", "k") <= 50_000
    assert c("GETEX", "k", "EXAT", int(time.time()) + 200) == b"v"
    ttl_between(c, "k", 198, 200)
    assert c("GETEX", "k", "PXAT", int(time.time() * 1000) + 300_000) == b"v"
    ttl_between(c, "k", 298, 300)
    assert c("GETEX", "k", "PERSIST") == b"v"
    assert c("TTL", "k") == -1
    assert c("GETEX", "missing", "EX", 10) is None


def test_getex_past_deadline_deletes(any_client: Client) -> None:
    c = any_client
    c("SET", "k", "v")
    assert c("GETEX", "k", "EXAT", 1) == b"v"
    assert c("EXISTS", "k") == 0
    c("SET", "k", "w")
    assert c("GETEX", "k", "PXAT", 1) == b"w"
    assert c("EXISTS", "k") == 0


def test_getex_errors(any_client: Client) -> None:
    c = any_client
    c("SET", "k", "v")
    assert c.error("GETEX", "k", "PERSIST", "EX", 10) == SYNTAX
    assert c.error("GETEX", "k", "EX", 10, "PX", 10) == SYNTAX
    assert c.error("GETEX", "k", "FOO") == SYNTAX
    assert c.error("GETEX", "k", "EX") == SYNTAX
    assert c.error("GETEX", "k", "EX", 0) == "ERR invalid expire time in 'getex' command"
    assert c.error("GETEX", "k", "PX", -1) == "ERR invalid expire time in 'getex' command"
    assert c.error("GETEX", "k", "EX", "x") == NOT_INT
    # Redis checks the key before the expire value: a missing key gives nil.
    assert c("GETEX", "missing", "EX", 0) is None
    assert c.error("GETEX", "missing", "FOO") == SYNTAX


# --------------------------------------------------------------------------
# MGET MSET MSETNX
# --------------------------------------------------------------------------


def test_mget_mset(any_client: Client) -> None:
    c = any_client
    assert c("MSET", "a", "1", "b", "2", "a", "3") == OK
    assert c("MGET", "a", "b", "missing", "a") == [b"3", b"2", None, b"3"]
    assert c.error("MSET", "a") == arity("mset")
    assert c.error("MSET", "a", "1", "b") == arity("mset")
    assert c.error("MGET") == arity("mget")


def test_msetnx(any_client: Client) -> None:
    c = any_client
    assert c("MSETNX", "a", "1", "b", "2") == 1
    assert c("MSETNX", "b", "x", "c", "3") == 0
    assert c("MGET", "a", "b", "c") == [b"1", b"2", None]
    assert c.error("MSETNX", "a", "1", "b") == arity("msetnx")


def test_mset_clears_ttl(any_client: Client) -> None:
    c = any_client
    c("SET", "a", "1", "EX", 100)
    c("MSET", "a", "2")
    assert c("TTL", "a") == -1


# --------------------------------------------------------------------------
# INCR family
# --------------------------------------------------------------------------


def test_incr_decr(any_client: Client) -> None:
    c = any_client
    assert c("INCR", "n") == 1
    assert c("INCRBY", "n", 10) == 11
    assert c("DECR", "n") == 10
    assert c("DECRBY", "n", 15) == -5
    assert c("INCRBY", "n", -5) == -10
    assert c("GET", "n") == b"-10"
    assert c("DECR", "fresh") == -1


def test_incr_keeps_ttl(any_client: Client) -> None:
    c = any_client
    c("SET", "n", "1", "EX", 100)
    c("INCR", "n")
    ttl_between(c, "n", 99, 100)


@pytest.mark.parametrize(
    "value", ["abc", "1.5", " 1", "1 ", "+1", "-0", "007", "", "99999999999999999999"]
)
def test_incr_rejects_non_canonical_integers(any_client: Client, value: str) -> None:
    any_client("SET", "n", value)
    assert any_client.error("INCR", "n") == NOT_INT
    assert any_client("GET", "n") == value.encode()


def test_incrby_argument_errors(any_client: Client) -> None:
    c = any_client
    assert c.error("INCRBY", "n", "1.5") == NOT_INT
    assert c.error("INCRBY", "n", "abc") == NOT_INT
    assert c.error("DECRBY", "n", "") == NOT_INT
    assert c.error("INCRBY", "n") == arity("incrby")
    assert c.error("INCR") == arity("incr")


def test_integer_overflow(any_client: Client) -> None:
    c = any_client
    c("SET", "n", "9223372036854775807")
    assert c.error("INCR", "n") == "ERR increment or decrement would overflow"
    assert c.error("INCRBY", "n", 1) == "ERR increment or decrement would overflow"
    assert c("GET", "n") == b"9223372036854775807"
    c("SET", "n", "-9223372036854775808")
    assert c.error("DECR", "n") == "ERR increment or decrement would overflow"
    c("SET", "n", "0")
    assert c.error("DECRBY", "n", "-9223372036854775808") == "ERR decrement would overflow"
    assert c("INCRBY", "n", "-9223372036854775808") == -9223372036854775808
    assert c.error("INCRBY", "n", "9223372036854775808") == NOT_INT


@pytest.mark.parametrize(
    ("start", "incr", "expected"),
    [
        ("10.5", "0.1", b"10.6"),
        ("0.1", "0.2", b"0.3"),  # long double arithmetic: not 0.30000000000000004
        ("1", "0.1", b"1.1"),
        ("3.0e3", "1", b"3001"),
        ("5.0e3", "0", b"5000"),
        ("10", "-10", b"0"),
        ("0", "-0.0", b"0"),
        ("1", "1.5e-3", b"1.0015"),
        ("-1.5", "0.5", b"-1"),
        ("100", "-0.25", b"99.75"),
        (None, "5", b"5"),
        (None, "-2.5", b"-2.5"),
        ("7", "0x10", b"23"),  # strtold accepts hex
    ],
)
def test_incrbyfloat_formatting(
    any_client: Client, start: str | None, incr: str, expected: bytes
) -> None:
    c = any_client
    if start is not None:
        c("SET", "f", start)
    assert c("INCRBYFLOAT", "f", incr) == expected
    assert c("GET", "f") == expected


def test_incrbyfloat_errors(any_client: Client) -> None:
    c = any_client
    c("SET", "f", "1")
    assert c.error("INCRBYFLOAT", "f", "inf") == "ERR increment would produce NaN or Infinity"
    assert c.error("INCRBYFLOAT", "f", "-inf") == "ERR increment would produce NaN or Infinity"
    assert c.error("INCRBYFLOAT", "f", "nan") == NOT_FLOAT
    assert c.error("INCRBYFLOAT", "f", "abc") == NOT_FLOAT
    assert c.error("INCRBYFLOAT", "f", " 1") == NOT_FLOAT
    assert c.error("INCRBYFLOAT", "f", "") == NOT_FLOAT
    c("SET", "s", "abc")
    assert c.error("INCRBYFLOAT", "s", "1") == NOT_FLOAT
    assert c.error("INCRBYFLOAT", "f") == arity("incrbyfloat")
    assert c("GET", "f") == b"1"


# --------------------------------------------------------------------------
# APPEND STRLEN GETRANGE SUBSTR SETRANGE
# --------------------------------------------------------------------------


def test_append_strlen(any_client: Client) -> None:
    c = any_client
    assert c("STRLEN", "k") == 0
    assert c("APPEND", "k", "ab") == 2
    assert c("APPEND", "k", "") == 2
    assert c("APPEND", "k", b"\x00c") == 4
    assert c("GET", "k") == b"ab\x00c"
    assert c("STRLEN", "k") == 4
    c("SET", "n", 12345)
    assert c("STRLEN", "n") == 5
    assert c("APPEND", "n", 6) == 6
    assert c("INCR", "n") == 123457
    assert c("APPEND", "e", "") == 0
    assert c("EXISTS", "e") == 1  # APPEND creates the key even with an empty suffix


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (0, -1, b"abcdef"),
        (0, 0, b"a"),
        (-3, -1, b"def"),
        (1, 3, b"bcd"),
        (5, 2, b""),
        (0, 100, b"abcdef"),
        (10, 20, b""),
        (-1, -100, b""),
        # Redis 7.0 clamps a negative end to 0 here, returning the first byte.
        (-100, -50, b"a"),
        (0, -100, b"a"),
        (-100, 2, b"abc"),
    ],
)
def test_getrange(any_client: Client, start: int, end: int, expected: bytes) -> None:
    any_client("SET", "k", "abcdef")
    assert any_client("GETRANGE", "k", start, end) == expected
    assert any_client("SUBSTR", "k", start, end) == expected


def test_getrange_missing_and_errors(any_client: Client) -> None:
    c = any_client
    assert c("GETRANGE", "missing", 0, -1) == b""
    c("SET", "n", 1234)
    assert c("GETRANGE", "n", 1, 2) == b"23"
    assert c.error("GETRANGE", "n", "a", 1) == NOT_INT
    assert c.error("GETRANGE", "n", 0) == arity("getrange")


def test_setrange(any_client: Client) -> None:
    c = any_client
    c("SET", "k", "Hello World")
    assert c("SETRANGE", "k", 6, "Redis") == 11
    assert c("GET", "k") == b"Hello Redis"
    assert c("SETRANGE", "pad", 3, "ab") == 5
    assert c("GET", "pad") == b"\x00\x00\x00ab"
    assert c("SETRANGE", "k", 13, "!") == 14
    assert c("GET", "k") == b"Hello Redis\x00\x00!"
    c("SET", "n", 100)
    assert c("SETRANGE", "n", 0, "2") == 3
    assert c("GET", "n") == b"200"


def test_setrange_empty_value(any_client: Client) -> None:
    c = any_client
    assert c("SETRANGE", "missing", 0, "") == 0
    assert c("SETRANGE", "missing", 100, "") == 0
    assert c("EXISTS", "missing") == 0  # no key created
    c("SET", "k", "abc")
    assert c("SETRANGE", "k", 100, "") == 3
    # The size limit applies only when bytes would be written.
    assert c("SETRANGE", "k", 536_870_911, "") == 3


def test_setrange_limits(any_client: Client) -> None:
    c = any_client
    assert c.error("SETRANGE", "k", -1, "a") == "ERR offset is out of range"
    assert (
        c.error("SETRANGE", "k", 536_870_912, "a")
        == "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    )
    assert (
        c.error("SETRANGE", "k", 536_870_911, "ab")
        == "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    )
    assert c.error("SETRANGE", "k", "x", "a") == NOT_INT
    assert c("EXISTS", "k") == 0


# --------------------------------------------------------------------------
# LCS
# --------------------------------------------------------------------------


@pytest.fixture
def lcs_keys(any_client: Client) -> Client:
    any_client("MSET", "key1", "ohmytext", "key2", "mynewtext")
    return any_client


def test_lcs_plain_and_len(lcs_keys: Client) -> None:
    c = lcs_keys
    assert c("LCS", "key1", "key2") == b"mytext"
    assert c("LCS", "key1", "key2", "LEN") == 6
    assert c("LCS", "key1", "missing") == b""
    assert c("LCS", "m1", "m2", "LEN") == 0
    # WITHMATCHLEN / MINMATCHLEN without IDX are accepted and ignored.
    assert c("LCS", "key1", "key2", "WITHMATCHLEN") == b"mytext"
    assert c("LCS", "key1", "key2", "LEN", "MINMATCHLEN", 3) == 6


def test_lcs_idx(lcs_keys: Client) -> None:
    c = lcs_keys
    reply = as_map(c("LCS", "key1", "key2", "IDX"))
    assert reply == {b"matches": [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], b"len": 6}
    reply = as_map(c("LCS", "key1", "key2", "IDX", "MINMATCHLEN", 4, "WITHMATCHLEN"))
    assert reply == {b"matches": [[[4, 7], [5, 8], 4]], b"len": 6}
    reply = as_map(c("LCS", "key1", "key2", "IDX", "WITHMATCHLEN"))
    assert reply == {b"matches": [[[4, 7], [5, 8], 4], [[2, 3], [0, 1], 2]], b"len": 6}
    # A negative MINMATCHLEN counts as 0.
    reply = as_map(c("LCS", "key1", "key2", "MINMATCHLEN", -1, "IDX"))
    assert reply[b"len"] == 6 and len(reply[b"matches"]) == 2
    assert as_map(c("LCS", "key1", "missing", "IDX")) == {b"matches": [], b"len": 0}


def test_lcs_errors(lcs_keys: Client) -> None:
    c = lcs_keys
    assert (
        c.error("LCS", "key1", "key2", "LEN", "IDX")
        == "ERR If you want both the length and indexes, please just use IDX."
    )
    assert c.error("LCS", "key1", "key2", "FOO") == SYNTAX
    assert c.error("LCS", "key1", "key2", "MINMATCHLEN") == SYNTAX
    assert c.error("LCS", "key1", "key2", "MINMATCHLEN", "abc") == NOT_INT
    assert c.error("LCS", "key1") == arity("lcs")
