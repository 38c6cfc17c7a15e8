"""Transactions through redis-py against the server under test: pipelines with
transaction=True, WATCH with WatchError on a concurrent change, the
`transaction()` retry helper under contention, EXECABORT, errors inside EXEC,
blocking commands inside MULTI, and WATCH invalidation by expiry, FLUSHALL and
SWAPDB. (Exact replies against redis-server: test_differential_transactions.py.)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import redis
from helpers import Redis, ServerHandle, raw_redis


@pytest.fixture
def other(server: ServerHandle, r: Redis) -> Iterator[Redis]:
    """A second client (RESP2) to the same server, for concurrent changes."""
    client = server.client(protocol=2)
    yield client
    client.close()


def test_pipeline_transaction(r: Redis) -> None:
    with r.pipeline(transaction=True) as pipe:
        pipe.set("k", "1")
        pipe.incr("k")
        pipe.incrby("k", 5)
        pipe.get("k")
        assert pipe.execute() == [True, 2, 7, b"7"]


def test_pipeline_transaction_resp2(r2: Redis) -> None:
    with r2.pipeline(transaction=True) as pipe:
        pipe.rpush("l", "a", "b")
        pipe.lrange("l", 0, -1)
        pipe.exists("l", "nope")
        assert pipe.execute() == [2, [b"a", b"b"], 1]


def test_watch_error_on_concurrent_change(r: Redis, other: Redis) -> None:
    r.set("balance", 10)
    with r.pipeline(transaction=True) as pipe:
        pipe.watch("balance")  # type: ignore[no-untyped-call]
        current = int(pipe.get("balance") or 0)
        other.set("balance", 100)  # another client gets in between
        pipe.multi()
        pipe.set("balance", current - 1)
        with pytest.raises(redis.WatchError):
            pipe.execute()
    assert r.get("balance") == b"100"


def test_watch_without_change_commits(r: Redis, other: Redis) -> None:
    r.set("balance", 10)
    with r.pipeline(transaction=True) as pipe:
        pipe.watch("balance")  # type: ignore[no-untyped-call]
        current = int(pipe.get("balance") or 0)
        other.set("unrelated", 1)
        other.get("balance")
        pipe.multi()
        pipe.set("balance", current - 1)
        assert pipe.execute() == [True]
    assert r.get("balance") == b"9"


def test_transaction_helper_retries_under_contention(server: ServerHandle, r: Redis) -> None:
    r.set("counter", 0)
    threads, per_thread = 4, 40
    failures: list[BaseException] = []

    def work() -> None:
        client = server.client(protocol=2)
        try:
            for _ in range(per_thread):

                def incr(pipe: redis.client.Pipeline) -> None:
                    value = int(pipe.get("counter") or 0)
                    pipe.multi()
                    pipe.set("counter", value + 1)

                client.transaction(incr, "counter")
        except BaseException as e:  # surfaced below
            failures.append(e)
        finally:
            client.close()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert not failures
    assert int(r.get("counter") or 0) == threads * per_thread


def test_execabort_on_queuing_error(server: ServerHandle, r: Redis) -> None:
    c = raw_redis(server.host, server.port, 2, single_connection_client=True)
    try:
        assert c.execute_command("MULTI") == b"OK"
        assert c.execute_command("SET", "k", "v") == b"QUEUED"
        with pytest.raises(redis.ResponseError, match="unknown command"):
            c.execute_command("NOSUCH", "x")
        with pytest.raises(redis.ResponseError) as info:
            c.execute_command("EXEC")
        assert str(info.value) == "Transaction discarded because of previous errors."
        assert c.execute_command("EXISTS", "k") == 0
    finally:
        c.close()


def test_pipeline_with_bad_arity_raises(r: Redis) -> None:
    with r.pipeline(transaction=True) as pipe:
        pipe.set("k", "v")
        pipe.execute_command("GET")  # type: ignore[no-untyped-call]
        with pytest.raises(redis.ResponseError):
            pipe.execute()
    assert r.exists("k") == 0


def test_errors_inside_exec_stay_in_place(r: Redis) -> None:
    with r.pipeline(transaction=True) as pipe:
        pipe.set("k", "v")
        pipe.lpush("k", "x")
        pipe.append("k", "w")
        replies = pipe.execute(raise_on_error=False)
    assert replies[0] is True
    assert isinstance(replies[1], redis.ResponseError)
    assert "Operation against a key holding the wrong kind" in str(replies[1])
    assert replies[2] == 2
    assert r.get("k") == b"vw"


def test_blocking_commands_in_multi_answer_at_once(r: Redis) -> None:
    start = time.monotonic()
    with r.pipeline(transaction=True) as pipe:
        pipe.blpop(["empty"], timeout=0)
        pipe.rpush("l", "a")
        pipe.blpop(["l"], timeout=0)
        pipe.bzpopmin(["zempty"], timeout=0)
        replies = pipe.execute()
    assert time.monotonic() - start < 2
    assert replies[0] is None
    assert replies[1] == 1
    assert list(replies[2]) == [b"l", b"a"]
    assert replies[3] is None


def test_exec_wakes_blocked_clients(server: ServerHandle, r: Redis) -> None:
    got: list[object] = []
    waiter = server.client(protocol=2)

    def wait() -> None:
        got.append(waiter.blpop(["q"], timeout=10))

    t = threading.Thread(target=wait)
    t.start()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        clients = r.client_list()
        if any(c.get("cmd") == "blpop" for c in clients):
            break
        time.sleep(0.02)
    with r.pipeline(transaction=True) as pipe:
        pipe.rpush("q", "job")
        pipe.llen("q")
        assert pipe.execute() == [1, 1]
    t.join(timeout=10)
    waiter.close()
    assert got == [(b"q", b"job")] or got == [[b"q", b"job"]]


def test_expiry_between_watch_and_exec_aborts(r: Redis) -> None:
    r.set("k", "v", px=100)
    with r.pipeline(transaction=True) as pipe:
        pipe.watch("k")  # type: ignore[no-untyped-call]
        time.sleep(0.3)
        pipe.multi()
        pipe.set("k", "new")
        with pytest.raises(redis.WatchError):
            pipe.execute()
    assert r.get("k") is None


@pytest.mark.parametrize(
    "change",
    [
        ["FLUSHALL"],
        ["FLUSHDB"],
        ["SWAPDB", "0", "1"],
        ["DEL", "k"],
        ["RENAME", "k", "k2"],
        ["MOVE", "k", "2"],
        ["EXPIRE", "k", "100"],
    ],
)
def test_invalidation(r: Redis, other: Redis, change: list[str]) -> None:
    r.set("k", "v")
    with r.pipeline(transaction=True) as pipe:
        pipe.watch("k")  # type: ignore[no-untyped-call]
        other.execute_command(*change)
        pipe.multi()
        pipe.set("k", "new")
        with pytest.raises(redis.WatchError):
            pipe.execute()


def test_flushall_of_missing_key_does_not_invalidate(r: Redis, other: Redis) -> None:
    r.set("j", "v")
    with r.pipeline(transaction=True) as pipe:
        pipe.watch("k")  # type: ignore[no-untyped-call]
        other.flushall()
        pipe.multi()
        pipe.set("k", "new")
        assert pipe.execute() == [True]


def test_swapdb_brings_in_watched_key(r: Redis, other: Redis) -> None:
    other.execute_command("SELECT", "1")
    other.set("k", "from-db1")
    with r.pipeline(transaction=True) as pipe:
        pipe.watch("k")  # type: ignore[no-untyped-call]
        other.swapdb(0, 1)
        pipe.multi()
        pipe.set("k", "new")
        with pytest.raises(redis.WatchError):
            pipe.execute()
    assert r.get("k") == b"from-db1"


def test_discard_and_reset(server: ServerHandle, r: Redis, other: Redis) -> None:
    c = raw_redis(server.host, server.port, 2, single_connection_client=True)
    try:
        c.execute_command("WATCH", "k")
        c.execute_command("MULTI")
        assert c.execute_command("SET", "k", "1") == b"QUEUED"
        assert c.execute_command("RESET") == b"RESET"
        other.set("k", "changed")  # no longer watched: nothing to abort
        c.execute_command("MULTI")
        assert c.execute_command("EXEC") == []
        assert r.get("k") == b"changed"
    finally:
        c.close()


def test_disconnect_in_multi_discards(server: ServerHandle, r: Redis) -> None:
    c = raw_redis(server.host, server.port, 2, single_connection_client=True)
    c.execute_command("WATCH", "k")
    c.execute_command("MULTI")
    c.execute_command("SET", "k", "1")
    c.close()
    time.sleep(0.1)
    assert r.exists("k") == 0


def test_client_list_shows_multi_and_dirty(server: ServerHandle, r: Redis, other: Redis) -> None:
    c = raw_redis(server.host, server.port, 2, single_connection_client=True)

    def flags_and_multi_now() -> tuple[str, str]:
        info = other.client_list(client_id=[cid])[0]
        return (info["flags"], info["multi"])

    def flags_and_multi() -> tuple[str, str]:
        # A server may publish a client's state just after writing its reply: give it a
        # moment to settle (at most a second) before the comparison.
        seen = flags_and_multi_now()
        deadline = time.monotonic() + 1
        while time.monotonic() < deadline:
            time.sleep(0.02)
            again = flags_and_multi_now()
            if again == seen:
                break
            seen = again
        return seen

    try:
        cid = int(c.execute_command("CLIENT", "ID"))
        assert flags_and_multi() == ("N", "-1")
        c.execute_command("MULTI")
        c.execute_command("SET", "k", "2")
        c.execute_command("GET", "k")
        assert flags_and_multi() == ("x", "2")
        c.execute_command("DISCARD")
        c.execute_command("WATCH", "k")
        other.set("k", "1")
        assert flags_and_multi() == ("d", "-1")
        c.execute_command("MULTI")
        c.execute_command("SET", "k", "2")
        # Once EXEC is bound to fail, Redis stops queuing.
        assert flags_and_multi() == ("xd", "0")
        assert c.execute_command("EXEC") is None
        assert flags_and_multi() == ("N", "-1")
    finally:
        c.close()
