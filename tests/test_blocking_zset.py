"""The blocking sorted-set pops BZPOPMIN, BZPOPMAX and BZMPOP: the paths that need
not wait through `any_client` (RESP3, RESP2, embedded); reply bytes and error texts
against a real redis-server in both protocols; waiters across clients (FIFO, the
name of the key that received members, timeouts); the embedded `Store` methods
against redis-py, and an embedded waiter woken from another thread and a socket.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from functools import partial
from types import ModuleType
from typing import Any

import pytest
from helpers import Client, ServerHandle, as_float, raw_redis, wait_until
from test_embedded_collections import Both

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
SYNTAX = "ERR syntax error"
NOT_FLOAT = "ERR timeout is not a float or out of range"
NEGATIVE = "ERR timeout is negative"


def arity(cmd: str) -> str:
    return f"ERR wrong number of arguments for '{cmd}' command"


# --------------------------------------------------------------------------
# Without waiting
# --------------------------------------------------------------------------


def test_immediate_pops_and_timeouts(any_client: Client) -> None:
    c = any_client
    c("ZADD", "b", 1, "x", 2.5, "y", 3, "z")
    key, member, score = c("BZPOPMIN", "a", "b", 0)
    assert (key, member, as_float(score)) == (b"b", b"x", 1.0)
    key, member, score = c("BZPOPMAX", "a", "b", 0)
    assert (key, member, as_float(score)) == (b"b", b"z", 3.0)
    c("ZADD", "b", 5, "w")
    key, pairs = c("BZMPOP", 0, 2, "a", "b", "MAX", "COUNT", 5)
    assert key == b"b"
    assert [(m, as_float(s)) for m, s in pairs] == [(b"w", 5.0), (b"y", 2.5)]
    assert c("EXISTS", "b") == 0
    start = time.monotonic()
    assert c("BZPOPMIN", "a", 0.05) is None
    assert c("BZPOPMAX", "a", "b", 0.05) is None
    assert c("BZMPOP", 0.05, 1, "a", "MIN") is None
    assert time.monotonic() - start >= 0.15


def test_errors(any_client: Client) -> None:
    c = any_client
    assert c.error("BZPOPMIN", "a", "x") == NOT_FLOAT
    assert c.error("BZPOPMIN", "a", "nan") == NOT_FLOAT
    assert c.error("BZPOPMAX", "a", -1) == NEGATIVE
    assert c.error("BZPOPMAX", "a", "inf") == NEGATIVE
    assert c.error("BZPOPMIN", "a") == arity("bzpopmin")
    assert c.error("BZMPOP", "x", 1, "a", "MIN") == NOT_FLOAT
    assert c.error("BZMPOP", -1, 1, "a", "MIN") == NEGATIVE
    # numkeys, MIN/MAX and COUNT come before the timeout.
    assert c.error("BZMPOP", "x", 0, "a", "MIN") == "ERR numkeys should be greater than 0"
    assert c.error("BZMPOP", "x", 5, "a", "MIN") == SYNTAX
    assert c.error("BZMPOP", "x", 1, "a", "UP") == SYNTAX
    assert c.error("BZMPOP", "x", 1, "a", "MIN", "COUNT", 0) == (
        "ERR count should be greater than 0"
    )
    assert c.error("BZMPOP", 0, 1, "a", "MIN", "COUNT") == SYNTAX
    assert c.error("BZMPOP", 0, 1, "a") == arity("bzmpop")
    c("SET", "s", "v")
    assert c.error("BZPOPMIN", "a", "s", 0) == WRONGTYPE
    assert c.error("BZMPOP", 0, 2, "a", "s", "MIN") == WRONGTYPE
    assert c.error("BZPOPMIN", "s", "x") == NOT_FLOAT


@pytest.mark.parametrize("proto", [2, 3])
def test_reply_bytes_match_redis(
    server: ServerHandle, redis_oracle: ServerHandle, proto: int
) -> None:
    """The exact bytes, scores included (a bulk string in RESP2, a double in RESP3)."""
    lines = [
        ("ZADD", "z", "1", "a", "2.5", "b", "3", "c", "-inf", "lo", "0.1", "t", "1e300", "hi"),
        ("BZPOPMIN", "nokey", "z", "0"),
        ("BZPOPMIN", "z", "0"),
        ("BZPOPMAX", "z", "0"),
        ("BZMPOP", "0", "2", "nokey", "z", "MIN", "COUNT", "2"),
        ("BZMPOP", "0", "1", "z", "MAX"),
        ("BZPOPMIN", "z", "0.01"),
        ("BZMPOP", "0.01", "1", "z", "MIN"),
        ("BZPOPMIN", "z", "x"),
        ("BZMPOP", "0", "0", "z", "MIN"),
    ]
    got: list[list[bytes]] = []
    for handle in (server, redis_oracle):
        with handle.raw() as conn:
            conn.command("FLUSHALL")
            if proto == 3:
                conn.command("HELLO", 3)
            got.append([conn.command(*line) for line in lines])
    assert got[0] == got[1]


# --------------------------------------------------------------------------
# Waiting across clients
# --------------------------------------------------------------------------


def blocked_count(r: Any) -> int:
    return int(r.execute_command("INFO", "clients").split(b"blocked_clients:")[1].split(b"\r")[0])


def has_blocked(r: Any, n: int) -> bool:
    return blocked_count(r) == n


def in_thread(fn: Any) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        out["reply"] = fn()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out


def test_waiters_are_served_in_order_with_the_key_that_got_members(
    server: ServerHandle,
) -> None:
    w = raw_redis(server.host, server.port, 3)
    w.execute_command("DEL", "za", "zb")
    waiters = [raw_redis(server.host, server.port, 3) for _ in range(3)]
    commands: list[tuple[Any, ...]] = [
        ("BZPOPMIN", "za", "zb", 5),
        ("BZPOPMAX", "zb", "za", 5),
        ("BZMPOP", 5, 2, "za", "zb", "MIN", "COUNT", 10),
    ]
    threads = []
    for i, (r, cmd) in enumerate(zip(waiters, commands, strict=False)):
        threads.append(in_thread(lambda r=r, cmd=cmd: r.execute_command(*cmd)))
        assert wait_until(partial(has_blocked, w, i + 1), 5)
    # ZADD to the second key of two: each waiter answers with that key, in order.
    assert w.execute_command("ZADD", "zb", 1, "m1", 2, "m2", 3, "m3", 4, "m4") == 4
    replies = []
    for t, out in threads:
        t.join(5)
        replies.append(out["reply"])
    assert replies == [
        [b"zb", b"m1", 1.0],
        [b"zb", b"m4", 4.0],
        [b"zb", [[b"m2", 2.0], [b"m3", 3.0]]],
    ]
    assert blocked_count(w) == 0
    assert w.execute_command("EXISTS", "zb") == 0
    for r in (w, *waiters):
        r.close()


def test_resp2_waiter_gets_a_bulk_score_and_timeouts_are_null(server: ServerHandle) -> None:
    w = raw_redis(server.host, server.port, 2)
    w.execute_command("DEL", "zq")
    r = raw_redis(server.host, server.port, 2)
    t, out = in_thread(lambda: r.execute_command("BZPOPMAX", "zq", 5))
    assert wait_until(lambda: blocked_count(w) == 1, 5)
    w.execute_command("ZADD", "zq", 7.5, "m")
    t.join(5)
    assert out["reply"] == [b"zq", b"m", b"7.5"]
    start = time.monotonic()
    assert r.execute_command("BZPOPMIN", "zq", 0.1) is None
    assert r.execute_command("BZMPOP", 0.1, 1, "zq", "MIN") is None
    assert 0.2 <= time.monotonic() - start < 3
    assert blocked_count(w) == 0
    for c in (w, r):
        c.close()


def test_a_list_push_does_not_serve_a_sorted_set_waiter(server: ServerHandle) -> None:
    """Redis 7.0 keeps the waiter blocked and serves a list waiter queued behind it."""
    w = raw_redis(server.host, server.port, 3)
    w.execute_command("DEL", "mixed")
    zr, lr = raw_redis(server.host, server.port, 3), raw_redis(server.host, server.port, 3)
    zt, zout = in_thread(lambda: zr.execute_command("BZPOPMIN", "mixed", 1))
    assert wait_until(lambda: blocked_count(w) == 1, 5)
    lt, lout = in_thread(lambda: lr.execute_command("BLPOP", "mixed", 5))
    assert wait_until(lambda: blocked_count(w) == 2, 5)
    w.execute_command("RPUSH", "mixed", "x")
    lt.join(5)
    assert lout["reply"] == [b"mixed", b"x"]
    zt.join(5)
    assert zout["reply"] is None
    for c in (w, zr, lr):
        c.close()


# --------------------------------------------------------------------------
# The embedded Store
# --------------------------------------------------------------------------


@pytest.fixture(params=[False, True], ids=["bytes", "decoded"])
def both(
    request: pytest.FixtureRequest, redis_oracle: ServerHandle, fastkv_module: ModuleType
) -> Iterator[Both]:
    decode: bool = request.param
    oracle = redis_oracle.client(protocol=3, decode_responses=decode)
    oracle.flushall()
    yield Both(fastkv_module.Store(decode_responses=decode), oracle, decode)
    oracle.close()


def test_store_methods_match_redis_py(both: Both) -> None:
    both("zadd", "z", {"a": 1, "b": 2.5, "c": 3, "d": 4, "e": 5})
    both("bzpopmin", "z", 1)
    both("bzpopmax", ["nokey", "z"], 1)
    both("bzpopmin", ("nokey", "z"))
    both("bzpopmax", "z", timeout=None)
    both("bzmpop", 1, 2, ["nokey", "z"], min=True)
    both("zadd", "z", {"a": 1, "b": 2.5, "c": 3})
    both("bzmpop", 1, 1, ["z"], max=True, count=2)
    both("bzmpop", 1, 1, ["z"], min=1, count=5)
    # Timeouts: None from both.
    both("bzpopmin", "nokey", 0.05)
    both("bzpopmax", ["nokey", "other"], 0.05)
    both("bzmpop", 0.05, 1, ["nokey"], max=True)
    # redis-py's own checks, then the server's errors.
    both("bzmpop", 1, 1, ["z"])
    both("bzmpop", 1, 1, ["z"], min=True, max=True)
    both("bzmpop", 1, 1, ["z"], min=True, count=None)
    both("bzmpop", 1, 1, ["z"], min=True, count=0)
    both("bzmpop", 1, 0, ["z"], min=True)
    both("bzmpop", -1, 1, ["z"], min=True)
    both("bzpopmin", "nokey", -1)
    both("bzpopmin", "nokey", "x")
    both("set", "str", "v")
    both("bzpopmin", "str", 0.05)
    both("bzmpop", 0.05, 1, ["str"], min=True)


@pytest.mark.fastkv_only
def test_embedded_waiters_are_woken_by_threads_and_sockets(fastkv_module: ModuleType) -> None:
    store = fastkv_module.Store()

    def blocked() -> int:
        n: int = store.info("clients")["blocked_clients"]
        return n

    # Woken by another thread, with the GIL released meanwhile.
    t, out = in_thread(lambda: store.bzpopmin(["z1", "z2"], timeout=None))
    assert wait_until(lambda: blocked() == 1, 5)
    store.zadd("z2", {"m": 2})
    t.join(5)
    assert out["reply"] == [b"z2", b"m", 2.0]
    handle = store.serve("127.0.0.1", 0)
    try:
        r = raw_redis("127.0.0.1", handle.port, 2)
        # Woken by a socket client.
        t, out = in_thread(lambda: store.bzmpop(0, 2, ["z1", "z2"], max=True, count=3))
        assert wait_until(lambda: blocked() == 1, 5)
        assert r.execute_command("ZADD", "z1", 1, "a", 2, "b") == 2
        t.join(5)
        assert out["reply"] == [b"z1", [[b"b", 2.0], [b"a", 1.0]]]
        # A socket waiter woken by the embedded store.
        t, out = in_thread(lambda: r.execute_command("BZPOPMAX", "z3", 0))
        assert wait_until(lambda: blocked() == 1, 5)
        store.zadd("z3", {"x": 1.5})
        t.join(5)
        assert out["reply"] == [b"z3", b"x", b"1.5"]
        r.close()
    finally:
        handle.close()
    start = time.monotonic()
    assert store.bzpopmax("none", 0.1) is None
    assert 0.1 <= time.monotonic() - start < 1
    assert blocked() == 0
