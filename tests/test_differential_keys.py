"""Differential tests for the keyspace family (and databases, expiry, OBJECT,
DUMP/RESTORE): generated sequences run on a real redis-server and on the server
under test, replies compared step by step (see helpers.Differential).

Order-dependent or random replies: KEYS is compared sorted, SCAN through a full
iteration ("SCAN*", compared as a set), RANDOMKEY by nil-ness and membership,
DUMP by restoring each side's payload on the other. TTL-like replies within a
tolerance. Databases used: 0-3 (db 15 is the harness's scratch space).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from helpers import At, Differential, ServerHandle, dump_string_payload
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

KEYS = ["a", "b", "c", "d", "e"]
VALUES: list[str | bytes] = [
    "",
    "0",
    "1",
    "-1",
    "9999",
    "10000",
    "3.5",
    "abc",
    b"\x00\xff",
    "x" * 50,
    "ab" * 30,
]
DBS = ["0", "1", "2", "3", "16", "-1", "x"]
PATTERNS = [
    "*",
    "a*",
    "?",
    "[a-c]",
    "[^a]",
    "[c-a]",
    "\\a",
    "nomatch",
    "[",
    "*[",
    "b?",
    "[ab]*",
    "*e",
]

key = st.sampled_from(KEYS)
value = st.sampled_from(VALUES)
db = st.sampled_from(DBS)

secs = st.sampled_from(["100", "1000", "86400", "0", "-1", "9999999999999999", "x"])
millis = st.sampled_from(["100000", "5000000", "0", "-5", "9223372036854775807", "1.5"])
abs_secs = st.sampled_from([At(100), At(10_000), "1", "0", "9223372036854775807"])
abs_millis = st.sampled_from([At(100_000, ms=True), At(3_000_000, ms=True), "1", "-1"])
expire_flags = st.lists(st.sampled_from(["NX", "XX", "GT", "LT", "gt", "FOO"]), max_size=2)

PAYLOADS = [
    dump_string_payload(b"restored"),
    dump_string_payload(b"12"),
    dump_string_payload(b"z" * 30),
    dump_string_payload(b"old", rdb_version=9),
    dump_string_payload(b"new", rdb_version=11),
    dump_string_payload(b"flip")[:-1] + b"\x00",
    b"garbage",
    b"",
]
restore_key = st.sampled_from(["r1", "r2", *KEYS])
restore_ttl = st.sampled_from(["0", "100000", "-1", "x", At(200_000, ms=True), "1"])
restore_option = st.sampled_from(
    [
        ["REPLACE"],
        ["ABSTTL"],
        ["IDLETIME", "1000"],
        ["IDLETIME", "-1"],
        ["FREQ", "5"],
        ["FREQ", "256"],
        ["FOO"],
        ["IDLETIME"],
    ]
)
scan_option = st.one_of(
    st.sampled_from(PATTERNS).map(lambda p: ["MATCH", p]),
    st.sampled_from(["1", "3", "10", "1000", "0", "-1", "x"]).map(lambda n: ["COUNT", n]),
    st.sampled_from(["string", "STRING", "hash", "nosuchtype"]).map(lambda t: ["TYPE", t]),
    st.sampled_from([["FOO"], ["MATCH"]]),
)


def flat(opts: list[list[Any]]) -> list[Any]:
    return [x for o in opts for x in o]


KEY_COMMANDS = [
    "DEL",
    "UNLINK",
    "EXISTS",
    "TYPE",
    "RENAME",
    "RENAMENX",
    "KEYS",
    "SCAN",
    "RANDOMKEY",
    "DBSIZE",
    "FLUSHDB",
    "FLUSHALL",
    "SWAPDB",
    "MOVE",
    "COPY",
    "EXPIRE",
    "PEXPIRE",
    "EXPIREAT",
    "PEXPIREAT",
    "TTL",
    "PTTL",
    "EXPIRETIME",
    "PEXPIRETIME",
    "PERSIST",
    "TOUCH",
    "OBJECT",
    "DUMP",
    "RESTORE",
    "SELECT",
]

fuzz = st.tuples(
    st.sampled_from(KEY_COMMANDS),
    st.lists(st.one_of(key, db, st.sampled_from(["NX", "REPLACE", "DB"])), max_size=4),
).map(lambda t: [t[0], *t[1]])

command = st.one_of(
    # Producers (from the string family) so the keyspace has content.
    st.tuples(key, value).map(lambda t: ["SET", *t]),
    st.tuples(key, value, st.sampled_from(["100", "86400"])).map(
        lambda t: ["SET", t[0], t[1], "EX", t[2]]
    ),
    st.lists(st.tuples(key, value), min_size=1, max_size=5).map(
        lambda ps: ["MSET", *flat([list(p) for p in ps])]
    ),
    st.tuples(key, value).map(lambda t: ["APPEND", *t]),
    key.map(lambda k: ["INCR", k]),
    key.map(lambda k: ["GET", k]),
    # The keyspace family.
    st.tuples(
        st.sampled_from(["DEL", "UNLINK", "EXISTS", "TOUCH"]),
        st.lists(key, min_size=1, max_size=4),
    ).map(lambda t: [t[0], *t[1]]),
    key.map(lambda k: ["TYPE", k]),
    st.tuples(st.sampled_from(["RENAME", "RENAMENX"]), key, key).map(list),
    st.sampled_from(PATTERNS).map(lambda p: ["KEYS", p]),
    st.lists(scan_option, max_size=3).map(lambda o: ["SCAN*", *flat(o)]),
    st.just(["RANDOMKEY"]),
    st.just(["DBSIZE"]),
    st.sampled_from(
        [
            ["FLUSHDB"],
            ["FLUSHDB", "ASYNC"],
            ["FLUSHDB", "SYNC"],
            ["FLUSHALL", "ASYNC"],
            ["FLUSHDB", "x"],
        ]
    ),
    st.tuples(db, db).map(lambda t: ["SWAPDB", *t]),
    st.tuples(key, db).map(lambda t: ["MOVE", *t]),
    st.tuples(
        key,
        key,
        st.lists(
            st.sampled_from([["REPLACE"], ["DB", "1"], ["DB", "0"], ["DB", "16"], ["FOO"]]),
            max_size=2,
        ),
    ).map(lambda t: ["COPY", t[0], t[1], *flat(t[2])]),
    db.map(lambda d: ["SELECT", d]),
    st.tuples(key, secs, expire_flags).map(lambda t: ["EXPIRE", t[0], t[1], *t[2]]),
    st.tuples(key, millis, expire_flags).map(lambda t: ["PEXPIRE", t[0], t[1], *t[2]]),
    st.tuples(key, abs_secs, expire_flags).map(lambda t: ["EXPIREAT", t[0], t[1], *t[2]]),
    st.tuples(key, abs_millis, expire_flags).map(lambda t: ["PEXPIREAT", t[0], t[1], *t[2]]),
    st.tuples(st.sampled_from(["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME", "PERSIST"]), key).map(
        list
    ),
    st.tuples(st.sampled_from(["ENCODING", "FREQ", "IDLETIME", "encoding", "NOSUCH"]), key).map(
        lambda t: ["OBJECT", *t]
    ),
    key.map(lambda k: ["DUMP", k]),
    st.tuples(
        restore_key,
        restore_ttl,
        st.sampled_from(PAYLOADS),
        st.lists(restore_option, max_size=2),
    ).map(lambda t: ["RESTORE", t[0], t[1], t[2], *flat(t[3])]),
    fuzz,
)


# Every sequence starts from a populated db 0 and db 1 (one key with a TTL).
PRELUDE: list[list[Any]] = [
    ["MSET", "a", "1", "b", "abc", "c", "x" * 50],
    ["SET", "d", "9999", "EX", "1000"],
    ["SELECT", "1"],
    ["MSET", "a", "one", "e", "12345"],
    ["SELECT", "0"],
]


@pytest.fixture(scope="module", params=[3, 2], ids=["resp3", "resp2"])
def diff(
    request: pytest.FixtureRequest, redis_oracle: ServerHandle, server: ServerHandle
) -> Iterator[Differential]:
    d = Differential(redis_oracle, server, request.param)
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
def test_key_commands_match_redis(diff: Differential, commands: list[list[Any]]) -> None:
    diff.run(PRELUDE + commands)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    n=st.integers(min_value=0, max_value=300),
    opts=st.lists(
        scan_option.filter(lambda o: o[0] != "COUNT" or o[1] in ("1", "3", "10")),
        max_size=2,
    ),
)
def test_scan_over_larger_keyspace_matches_redis(
    diff: Differential, n: int, opts: list[list[str]]
) -> None:
    """SCAN with MATCH/COUNT/TYPE over a table that has grown past small sizes."""
    diff.run(
        [
            ["MSET", *[x for i in range(n) for x in (f"k{i}", i)]] if n else ["DBSIZE"],
            ["SCAN*", *flat(opts)],
            ["KEYS", "k1*"],
            ["DBSIZE"],
        ]
    )
