"""Scripting against the server under test: redis-py's Lock and register_script (which
lean on EVALSHA/EVAL and SCRIPT LOAD), atomicity, keys not declared in KEYS, and a busy
script stopped by SCRIPT KILL while other clients get -BUSY.
"""

from __future__ import annotations

import threading
import time

import pytest
import redis
from helpers import Redis, ServerHandle


def test_register_script(r: Redis) -> None:
    incr_by = r.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    assert incr_by(keys=["counter"], args=[5]) == 5
    assert incr_by(keys=["counter"], args=[2]) == 7
    # After SCRIPT FLUSH the script object reloads itself (NOSCRIPT -> EVAL / LOAD).
    r.script_flush()
    assert incr_by(keys=["counter"], args=[1]) == 8
    assert r.script_exists(incr_by.sha) == [True]


def test_register_script_in_pipeline(r: Redis) -> None:
    s = r.register_script("return {KEYS[1], ARGV[1]}")
    r.script_flush()
    pipe = r.pipeline()
    s(keys=["a"], args=["b"], client=pipe)
    s(keys=["c"], args=["d"], client=pipe)
    assert pipe.execute() == [[b"a", b"b"], [b"c", b"d"]]


def test_lock_acquire_extend_release(r: Redis) -> None:
    lock = r.lock("res", timeout=5)
    assert lock.acquire(blocking=False)
    assert lock.owned()
    assert lock.extend(5)
    assert 5000 < r.pttl("res") <= 10000
    assert lock.reacquire()
    lock.release()
    assert not lock.owned()
    assert r.exists("res") == 0
    with pytest.raises(redis.exceptions.LockError):
        lock.release()


def test_lock_contention(r: Redis, r2: Redis) -> None:
    a = r.lock("res", timeout=10)
    b = r2.lock("res", timeout=10, blocking_timeout=0.2)
    assert a.acquire()
    assert not b.acquire()
    # b cannot release or extend a lock it does not own.
    with pytest.raises(redis.exceptions.LockError):
        b.extend(1)
    acquired: list[bool] = []

    def waiter() -> None:
        acquired.append(r2.lock("res", timeout=10, blocking_timeout=5).acquire())

    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(0.3)
    a.release()
    t.join(10)
    assert acquired == [True]


def test_undeclared_keys_and_atomicity(r: Redis) -> None:
    r.set("other", "1")
    assert r.eval("return redis.call('get', 'other')", 0) == b"1"
    script = "local v = redis.call('incr', KEYS[1]) redis.call('incr', KEYS[1]) return v"
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(100):
                v = r.eval(script, 1, "x")
                assert isinstance(v, int) and v % 2 == 1
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert r.get("x") == b"600"


def test_busy_script_killed(server: ServerHandle, r: Redis, r2: Redis) -> None:
    r2.config_set("busy-reply-threshold", 100)
    try:
        assert r2.config_get("lua-time-limit") == {"lua-time-limit": "100"}
        with pytest.raises(redis.exceptions.ResponseError, match="No scripts in execution"):
            r2.script_kill()
        out: list[str] = []

        def run() -> None:
            try:
                r.eval("while true do end", 0)
            except redis.exceptions.ResponseError as e:
                out.append(str(e))

        t = threading.Thread(target=run)
        t.start()
        deadline = time.monotonic() + 5
        busy = ""
        while time.monotonic() < deadline:
            try:
                r2.get("k")
            except redis.exceptions.ResponseError as e:
                busy = str(e)
                break
            time.sleep(0.05)
        assert busy == (
            "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
        )
        assert r2.script_kill()
        t.join(5)
        assert not t.is_alive()
        assert len(out) == 1
        assert "Script killed by user with SCRIPT KILL... script: " in out[0]
        assert r2.ping()
    finally:
        r2.config_set("busy-reply-threshold", 5000)


def test_busy_script_that_wrote_is_unkillable(r: Redis, r2: Redis) -> None:
    r2.config_set("busy-reply-threshold", 100)
    try:
        done: list[object] = []

        def run() -> None:
            # Bounded: ends by itself within ~1.5 s (TIME reads the real clock).
            done.append(
                r.eval(
                    "redis.call('set','w','1') "
                    "local function us() local t = redis.call('time') "
                    "return tonumber(t[1]) * 1000000 + tonumber(t[2]) end "
                    "local stop = us() + 1500000 "
                    "while us() < stop do end return 1",
                    0,
                )
            )

        t = threading.Thread(target=run)
        t.start()
        time.sleep(0.4)
        with pytest.raises(redis.exceptions.ResponseError, match="UNKILLABLE|already executed"):
            r2.script_kill()
        t.join(60)
        assert done == [1]
        assert r.get("w") == b"1"
    finally:
        r2.config_set("busy-reply-threshold", 5000)


LIB = (
    "#!lua name=lib1\n"
    "redis.register_function('f1', function(keys, args) return 'one' end)\n"
    "redis.register_function{function_name='f2', callback=function(keys) "
    "return redis.call('get', keys[1]) end, flags={'no-writes'}}"
)


def restore(r: Redis, payload: bytes, *policy: str) -> bool:
    """FUNCTION RESTORE (redis-py's stub wants str; the payload is binary)."""
    return bool(r.execute_command("FUNCTION", "RESTORE", payload, *policy))


def test_function_dump_restore_round_trip(r: Redis) -> None:
    r.function_flush()
    assert r.function_load(LIB) == b"lib1"
    payload = r.function_dump()
    r.function_flush()
    with pytest.raises(redis.exceptions.ResponseError, match="Function not found"):
        r.fcall("f1", 0)
    assert restore(r, payload)
    assert r.fcall("f1", 0) == b"one"
    with pytest.raises(redis.exceptions.ResponseError, match="already exists"):
        restore(r, payload)
    assert restore(r, payload, "REPLACE")
    assert restore(r, payload, "FLUSH")
    r.set("k", "v")
    assert r.fcall_ro("f2", 1, "k") == b"v"
    r.function_flush()


def test_function_restore_from_redis_payload(r: Redis, redis_oracle: ServerHandle) -> None:
    # A payload written by redis-server (its library code LZF-compressed) loads here.
    o = redis_oracle.client()
    try:
        o.function_flush()
        o.function_load(LIB)
        payload = o.function_dump()
        o.function_flush()
    finally:
        o.close()
    r.function_flush()
    assert restore(r, payload)
    assert r.fcall("f1", 0) == b"one"
    r.function_flush()


def test_busy_function_killed(r: Redis, r2: Redis) -> None:
    r.function_flush()
    r.function_load(
        "#!lua name=busy\nredis.register_function('spin', function() while true do end end)"
    )
    r2.config_set("busy-reply-threshold", 100)
    try:
        out: list[str] = []

        def run() -> None:
            try:
                r.fcall("spin", 0)
            except redis.exceptions.ResponseError as e:
                out.append(str(e))

        t = threading.Thread(target=run)
        t.start()
        deadline = time.monotonic() + 5
        busy = ""
        while time.monotonic() < deadline and not busy:
            try:
                r2.get("k")
                time.sleep(0.05)
            except redis.exceptions.ResponseError as e:
                busy = str(e)
        assert busy == (
            "BUSY Redis is busy running a script. "
            "You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
        )
        with pytest.raises(redis.exceptions.ResponseError, match="FUNCTION KILL"):
            r2.script_kill()
        assert r2.function_kill()
        t.join(5)
        assert not t.is_alive()
        assert len(out) == 1
        killed = "Script killed by user with SCRIPT KILL... script: spin, on @user_function:2."
        assert killed in out[0]
    finally:
        r2.config_set("busy-reply-threshold", 5000)
        r2.function_flush()
