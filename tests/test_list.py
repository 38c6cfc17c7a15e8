"""List commands, run through `any_client` (RESP3, RESP2, embedded), plus the
blocking family across clients: socket waiters woken by socket or embedded
writers, and an embedded `Store` waiter woken from another thread.

Replies are raw (no redis-py callbacks) and normalized; errors are Redis's full
text via `c.error(...)`.
"""

from __future__ import annotations

import threading
import time
from functools import partial
from typing import Any

import pytest
from helpers import Client, ServerHandle, raw_redis, wait_until

OK = b"OK"
NOT_INT = "ERR value is not an integer or out of range"
SYNTAX = "ERR syntax error"
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
POSITIVE = "ERR value is out of range, must be positive"


def arity(cmd: str) -> str:
    return f"ERR wrong number of arguments for '{cmd}' command"


# --------------------------------------------------------------------------
# Pushes and pops
# --------------------------------------------------------------------------


def test_push_pop_order_and_empty_lists_are_deleted(any_client: Client) -> None:
    c = any_client
    assert c("LPUSH", "k", "a", "b", "c") == 3
    assert c("RPUSH", "k", "d") == 4
    assert c("LRANGE", "k", 0, -1) == [b"c", b"b", b"a", b"d"]
    assert c("TYPE", "k") == b"list"
    assert c("OBJECT", "ENCODING", "k") == b"quicklist"
    assert c("LPOP", "k") == b"c"
    assert c("RPOP", "k", 2) == [b"d", b"a"]
    assert c("LPOP", "k", 0) == []
    assert c("RPOP", "k", 10) == [b"b"]
    assert c("EXISTS", "k") == 0
    assert c("LPOP", "k") is None
    assert c("LPOP", "k", 3) is None


def test_pushx_and_errors(any_client: Client) -> None:
    c = any_client
    assert c("LPUSHX", "k", "a") == 0
    assert c("RPUSHX", "k", "a") == 0
    assert c("EXISTS", "k") == 0
    c("RPUSH", "k", "a")
    assert c("LPUSHX", "k", "x", "y") == 3
    assert c("RPUSHX", "k", "z") == 4
    assert c.error("LPUSH", "k") == arity("lpush")
    assert c.error("LPOP", "k", 1, 2) == arity("lpop")
    assert c.error("LPOP", "k", -1) == POSITIVE
    assert c.error("RPOP", "nokey", "x") == POSITIVE
    c("SET", "s", "v")
    for args in (("LPUSH", "s", "a"), ("RPUSHX", "s", "a"), ("LPOP", "s"), ("LLEN", "s")):
        assert c.error(*args) == WRONGTYPE


# --------------------------------------------------------------------------
# Reading and editing in place
# --------------------------------------------------------------------------


def test_lindex_lset_lrange_ltrim(any_client: Client) -> None:
    c = any_client
    c("RPUSH", "k", "a", "b", "c", "d", "e")
    assert c("LLEN", "k") == 5
    assert c("LINDEX", "k", -1) == b"e"
    assert c("LINDEX", "k", 5) is None
    assert c("LINDEX", "nokey", "x") is None
    assert c.error("LINDEX", "k", "x") == NOT_INT
    assert c("LSET", "k", 1, "B") == OK
    assert c.error("LSET", "k", 9, "B") == "ERR index out of range"
    assert c.error("LSET", "nokey", 0, "B") == "ERR no such key"
    assert c("LRANGE", "k", -100, 1) == [b"a", b"B"]
    assert c("LRANGE", "k", 3, 1) == []
    assert c("LRANGE", "nokey", 0, -1) == []
    assert c.error("LRANGE", "nokey", "a", 1) == NOT_INT
    assert c("LTRIM", "k", 1, -2) == OK
    assert c("LRANGE", "k", 0, -1) == [b"B", b"c", b"d"]
    assert c("LTRIM", "k", 5, 1) == OK
    assert c("EXISTS", "k") == 0


def test_linsert_lrem(any_client: Client) -> None:
    c = any_client
    c("RPUSH", "k", "a", "b", "a", "c", "a")
    assert c("LINSERT", "k", "BEFORE", "b", "x") == 6
    assert c("LINSERT", "k", "AFTER", "zz", "x") == -1
    assert c("LINSERT", "nokey", "AFTER", "zz", "x") == 0
    assert c.error("LINSERT", "k", "MIDDLE", "a", "x") == SYNTAX
    assert c("LREM", "k", -2, "a") == 2
    assert c("LRANGE", "k", 0, -1) == [b"a", b"x", b"b", b"c"]
    assert c("LREM", "k", 0, "a") == 1
    assert c.error("LREM", "k", "x", "a") == NOT_INT


def test_lpos(any_client: Client) -> None:
    c = any_client
    c("RPUSH", "k", "a", "b", "c", "1", "2", "3", "c", "c")
    assert c("LPOS", "k", "c") == 2
    assert c("LPOS", "k", "c", "RANK", 2) == 6
    assert c("LPOS", "k", "c", "RANK", -1) == 7
    assert c("LPOS", "k", "c", "COUNT", 0) == [2, 6, 7]
    assert c("LPOS", "k", "c", "RANK", -1, "COUNT", 2) == [7, 6]
    assert c("LPOS", "k", "c", "COUNT", 0, "MAXLEN", 3) == [2]
    assert c("LPOS", "k", "zz") is None
    assert c("LPOS", "nokey", "zz", "COUNT", 1) == []
    assert c.error("LPOS", "k", "c", "RANK", 0) == (
        "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second "
        "... or use negative to start from the end of the list"
    )
    assert c.error("LPOS", "k", "c", "COUNT", -1) == "ERR COUNT can't be negative"
    assert c.error("LPOS", "k", "c", "MAXLEN", -1) == "ERR MAXLEN can't be negative"
    assert c.error("LPOS", "k", "c", "FOO") == SYNTAX


# --------------------------------------------------------------------------
# Moves and LMPOP
# --------------------------------------------------------------------------


def test_lmove_rpoplpush(any_client: Client) -> None:
    c = any_client
    c("RPUSH", "src", "a", "b", "c")
    assert c("LMOVE", "src", "dst", "LEFT", "RIGHT") == b"a"
    assert c("RPOPLPUSH", "src", "dst") == b"c"
    assert c("LRANGE", "dst", 0, -1) == [b"c", b"a"]
    assert c("LMOVE", "src", "src", "LEFT", "RIGHT") == b"b"
    assert c("LMOVE", "nokey", "dst", "LEFT", "RIGHT") is None
    assert c.error("LMOVE", "src", "dst", "UP", "LEFT") == SYNTAX
    c("SET", "s", "v")
    assert c.error("LMOVE", "src", "s", "LEFT", "LEFT") == WRONGTYPE
    assert c("LLEN", "src") == 1


def test_lmpop(any_client: Client) -> None:
    c = any_client
    c("RPUSH", "b", "1", "2", "3")
    assert c("LMPOP", 2, "a", "b", "RIGHT", "COUNT", 2) == [b"b", [b"3", b"2"]]
    assert c("LMPOP", 1, "a", "LEFT") is None
    assert c.error("LMPOP", 0, "a", "LEFT") == "ERR numkeys should be greater than 0"
    assert c.error("LMPOP", 5, "a", "LEFT") == SYNTAX
    assert c.error("LMPOP", 1, "a", "LEFT", "COUNT", 0) == "ERR count should be greater than 0"


# --------------------------------------------------------------------------
# Blocking commands that need not wait
# --------------------------------------------------------------------------


def test_blocking_commands_immediate_and_timeout_paths(any_client: Client) -> None:
    c = any_client
    c("RPUSH", "b", "x", "y", "z")
    assert c("BLPOP", "a", "b", 0) == [b"b", b"x"]
    assert c("BRPOP", "a", "b", 0) == [b"b", b"z"]
    assert c("BLMOVE", "b", "d", "LEFT", "LEFT", 0) == b"y"
    assert c("BLMPOP", 0, 2, "a", "d", "LEFT") == [b"d", [b"y"]]
    start = time.monotonic()
    assert c("BLPOP", "a", 0.05) is None
    assert c("BRPOPLPUSH", "a", "d", 0.05) is None
    assert c("BLMPOP", 0.05, 1, "a", "LEFT") is None
    assert time.monotonic() - start >= 0.15
    assert c.error("BLPOP", "a", "x") == "ERR timeout is not a float or out of range"
    assert c.error("BLPOP", "a", -1) == "ERR timeout is negative"
    c("SET", "s", "v")
    assert c.error("BLPOP", "a", "s", 0) == WRONGTYPE


# --------------------------------------------------------------------------
# Blocking across clients
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


def test_blocked_socket_clients_are_served_in_order(server: ServerHandle) -> None:
    w = raw_redis(server.host, server.port, 3)
    w.execute_command("DEL", "bq", "bq2")
    waiters = [raw_redis(server.host, server.port, 3) for _ in range(3)]
    threads = []
    for i, r in enumerate(waiters):
        threads.append(in_thread(lambda r=r: r.execute_command("BLPOP", "bq2", "bq", 5)))
        assert wait_until(partial(has_blocked, w, i + 1), 5)
    assert w.execute_command("RPUSH", "bq", "1", "2", "3") == 3
    for n, (t, out) in enumerate(threads):
        t.join(5)
        assert out["reply"] == [b"bq", str(n + 1).encode()]
    assert blocked_count(w) == 0
    for r in (w, *waiters):
        r.close()


@pytest.mark.fastkv_only
def test_embedded_blpop_is_woken_by_other_threads_and_sockets(fastkv_module: Any) -> None:
    store = fastkv_module.Store()
    t, out = in_thread(lambda: store.execute_command("BLPOP", "q", 0))
    assert wait_until(lambda: store.info("clients")["blocked_clients"] == 1, 5)
    store.execute_command("LPUSH", "q", "v1")
    t.join(5)
    assert out["reply"] == [b"q", b"v1"]
    handle = store.serve("127.0.0.1", 0)
    try:
        r = raw_redis("127.0.0.1", handle.port, 2)
        t, out = in_thread(lambda: store.execute_command("BRPOP", "a", "q", 0))
        assert wait_until(lambda: store.info("clients")["blocked_clients"] == 1, 5)
        assert r.execute_command("RPUSH", "q", "v2") == 1
        t.join(5)
        assert out["reply"] == [b"q", b"v2"]
        # And a socket waiter woken by the embedded store.
        t, out = in_thread(lambda: r.execute_command("BLMOVE", "q", "d", "LEFT", "RIGHT", 0))
        assert wait_until(lambda: store.info("clients")["blocked_clients"] == 1, 5)
        store.execute_command("RPUSH", "q", "v3")
        t.join(5)
        assert out["reply"] == b"v3"
        assert store.execute_command("LRANGE", "d", 0, -1) == [b"v3"]
        r.close()
    finally:
        handle.close()
    start = time.monotonic()
    assert store.execute_command("BLPOP", "none", 0.1) is None
    assert 0.1 <= time.monotonic() - start < 1
    assert store.info("clients")["blocked_clients"] == 0
