"""The embedded API: `fastkv.Store` — execute_command's reply shapes, the native
redis-py-style methods, the mapping face, `serve()` sharing the keyspace, threads.

All tests here are fastkv-only by nature: they need the `fastkv` package (skipped
locally when it is not built, an error in CI).
"""

from __future__ import annotations

import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
import redis
from helpers import HOST, Redis, ServerHandle, wait_until

# --------------------------------------------------------------------------
# execute_command: RESP3-shaped Python values, no response callbacks
# --------------------------------------------------------------------------


def test_reply_types(store: Any) -> None:
    ok = store.execute_command("SET", "k", "v")
    assert ok == "OK" and isinstance(ok, str)  # simple string -> str
    assert store.execute_command("GET", "k") == b"v"  # bulk -> bytes
    assert store.execute_command("GET", "missing") is None  # null -> None
    assert store.execute_command("INCR", "n") == 1  # integer -> int
    assert store.execute_command("MGET", "k", "missing") == [
        b"v",
        None,
    ]  # array -> list
    assert store.execute_command("PING") == "PONG"
    store.execute_command("MSET", "key1", "ohmytext", "key2", "mynewtext")
    assert store.execute_command("LCS", "key1", "key2", "IDX", "MINMATCHLEN", 4) == {
        b"matches": [[[4, 7], [5, 8]]],
        b"len": 6,
    }  # map -> dict
    assert store.execute_command("TYPE", "k") == "string"  # TYPE is a simple string
    assert store.execute_command("INCRBYFLOAT", "f", "1.5") == b"1.5"  # bulk, not a double


def test_arguments_of_any_scalar_type(store: Any) -> None:
    assert store.execute_command("SET", b"bin\x00", 42) == "OK"
    assert store.execute_command("GET", b"bin\x00") == b"42"
    store.execute_command("SET", "f", 1.5)
    assert store.execute_command("GET", "f") == b"1.5"
    assert store.execute_command("INCRBY", "n", 5) == 5
    assert store.execute_command("set", "lower", "case") == "OK"


def test_errors_are_response_errors(fastkv_module: ModuleType, store: Any) -> None:
    err = fastkv_module.ResponseError
    assert issubclass(err, redis.exceptions.ResponseError)
    with pytest.raises(err) as info:
        store.execute_command("GET")
    assert str(info.value) == "ERR wrong number of arguments for 'get' command"
    with pytest.raises(err) as info:
        store.execute_command("NOSUCH", "a")
    assert str(info.value) == "ERR unknown command 'NOSUCH', with args beginning with: 'a' "
    store.execute_command("SET", "s", "abc")
    with pytest.raises(err) as info:
        store.execute_command("INCR", "s")
    assert str(info.value) == "ERR value is not an integer or out of range"
    with pytest.raises(redis.exceptions.ResponseError):  # catchable as redis-py's class
        store.execute_command("SET", "k", "v", "EX", 0)
    with pytest.raises(err) as info:
        store.execute_command("RESTORE", "k", 0, b"junk")
    assert str(info.value) == "ERR DUMP payload version or checksum are wrong"


def test_decode_responses(fastkv_module: ModuleType) -> None:
    s = fastkv_module.Store(decode_responses=True)
    assert s.execute_command("SET", "k", "vé") == "OK"
    assert s.execute_command("GET", "k") == "vé"
    assert s.get("k") == "vé"
    s.mset({"a": 1, "b": 2})
    assert sorted(s.keys()) == ["a", "b", "k"]
    assert s.mget("a", "b", "c") == ["1", "2", None]
    assert s.execute_command("INCR", "a") == 2


def test_store_config(fastkv_module: ModuleType) -> None:
    s = fastkv_module.Store(databases=4)
    assert s.execute_command("SELECT", 3) == "OK"
    with pytest.raises(fastkv_module.ResponseError, match="DB index is out of range"):
        s.execute_command("SELECT", 4)


def test_stores_are_independent(fastkv_module: ModuleType) -> None:
    a, b = fastkv_module.Store(), fastkv_module.Store()
    a.set("k", "a")
    assert b.get("k") is None
    assert len(a) == 1 and len(b) == 0


# --------------------------------------------------------------------------
# Native methods
# --------------------------------------------------------------------------


def test_get_set_options(store: Any) -> None:
    s = store
    assert s.get("k") is None
    assert s.set("k", "v") is True
    assert s.set("k", "w", get=True) == b"v"
    assert s.set("k", "x", nx=True) is None
    assert s.set("new", "x", xx=True) is None
    assert s.set("k", "y", xx=True, ex=100) is True
    assert 99 <= s.ttl("k") <= 100
    assert s.set("k", "z", keepttl=True) is True
    assert 99 <= s.ttl("k") <= 100
    assert s.set("k", "p", px=50_000) is True
    assert 49_000 < s.pttl("k") <= 50_000
    assert s.set("k", "e", exat=int(time.time()) + 200) is True
    assert 198 <= s.ttl("k") <= 200
    assert s.set("k", "q", pxat=int(time.time() * 1000) + 300_000) is True
    assert 298 <= s.ttl("k") <= 300
    assert s.get("k") == b"q"
    with pytest.raises(
        redis.exceptions.ResponseError, match="invalid expire time in 'set' command"
    ):
        s.set("k", "v", ex=0)


def test_value_encoding_like_redis_py(store: Any) -> None:
    s = store
    for value, stored in [
        (10, b"10"),
        (-3, b"-3"),
        (1.5, b"1.5"),
        (1e20, b"1e+20"),
        ("é", "é".encode()),
        (b"\x00", b"\x00"),
    ]:
        s.set("k", value)
        assert s.get("k") == stored, value


def test_counters(store: Any) -> None:
    s = store
    assert s.incr("n") == 1
    assert s.incr("n", 5) == 6
    assert s.incrby("n", 4) == 10
    assert s.decr("n") == 9
    assert s.decr("n", 4) == 5
    assert s.incrbyfloat("f", 1.5) == 1.5
    assert s.incrbyfloat("f") == 2.5
    s.set("str", "abc")
    with pytest.raises(redis.exceptions.ResponseError, match="not an integer"):
        s.incr("str")


def test_multi_key_methods(store: Any) -> None:
    s = store
    assert s.mset({"a": 1, "b": "two", "c": b"3"}) is True
    assert s.mget(["a", "b", "missing"]) == [b"1", b"two", None]
    assert s.mget("a", "c") == [b"1", b"3"]
    assert s.exists("a", "b", "missing", "a") == 3
    assert s.delete("a", "missing") == 1
    assert s.dbsize() == 2
    assert sorted(s.keys()) == [b"b", b"c"]
    assert s.keys("b*") == [b"b"]
    assert s.flushdb() is True
    assert s.dbsize() == 0
    s.set("x", 1)
    assert s.flushall() is True
    assert s.dbsize() == 0


def test_expiry_methods(store: Any) -> None:
    s = store
    s.set("k", "v")
    assert s.ttl("k") == -1
    assert s.ttl("missing") == -2
    assert s.expire("k", 100) is True
    assert s.expire("missing", 100) is False
    assert s.expire("k", 50, nx=True) is False
    assert s.expire("k", 50, xx=True) is True
    assert s.expire("k", 10, gt=True) is False
    assert s.expire("k", 10, lt=True) is True
    assert 9 <= s.ttl("k") <= 10
    assert 9_000 < s.pttl("k") <= 10_000
    assert s.persist("k") is True
    assert s.persist("k") is False
    assert s.ttl("k") == -1


def test_lazy_expiry(store: Any) -> None:
    store.set("k", "v", px=50)
    assert store.get("k") == b"v"
    time.sleep(0.1)
    assert store.get("k") is None
    assert "k" not in store
    assert len(store) == 0


def test_string_methods(store: Any) -> None:
    s = store
    assert s.type("k") == b"none"
    assert s.append("k", "ab") == 2
    assert s.type("k") == b"string"
    assert s.strlen("k") == 2
    assert s.setrange("k", 1, "ZZ") == 3
    assert s.getrange("k", 0, 1) == b"aZ"
    assert s.rename("k", "k2") is True
    assert s.getdel("k2") == b"aZZ"
    assert s.getdel("k2") is None
    assert s.setnx("n", 1) is True
    assert s.setnx("n", 2) is False
    assert s.setex("se", 100, "v") is True
    assert 99 <= s.ttl("se") <= 100
    assert s.psetex("pse", 100_000, "v") is True
    assert 99_000 < s.pttl("pse") <= 100_000
    assert s.getset("se", "new") == b"v"
    assert s.ttl("se") == -1
    assert s.getex("n", ex=100) == b"1"
    assert 99 <= s.ttl("n") <= 100
    assert s.getex("n", persist=True) == b"1"
    assert s.ttl("n") == -1


def test_scan(store: Any) -> None:
    s = store
    keys = {f"k{i}".encode() for i in range(300)}
    s.mset({k: b"v" for k in keys})
    cursor, page = s.scan()
    assert isinstance(cursor, int)
    seen = set(page)
    for _ in range(10_000):
        if cursor == 0:
            break
        cursor, page = s.scan(cursor, count=25)
        seen.update(page)
    assert cursor == 0 and seen == keys
    assert set(s.scan_iter()) == keys
    assert set(s.scan_iter(match="k1*")) == {k for k in keys if k.startswith(b"k1")}
    cursor, page = s.scan(0, match="k29*", count=1000, _type="string")
    assert cursor == 0 and set(page) == {
        b"k29",
        *(f"k29{i}".encode() for i in range(10)),
    }
    assert s.scan(0, _type="list", count=1000) == (0, [])


def _call(target: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    try:
        with warnings.catch_warnings():  # redis-py deprecates setex/psetex/getset/setnx
            warnings.simplefilter("ignore", DeprecationWarning)
            return ("ok", getattr(target, name)(*args, **kwargs))
    except redis.exceptions.ResponseError as e:
        return ("error", str(e).removeprefix("ERR "))


METHOD_SCRIPT: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("set", ("k", "v"), {}),
    ("set", ("k", "w"), {"get": True}),
    ("set", ("k", "x"), {"nx": True}),
    ("set", ("k", "x"), {"xx": True, "px": 100_000}),
    ("set", ("k2", 7), {"keepttl": True}),
    ("get", ("k",), {}),
    ("get", ("nope",), {}),
    ("exists", ("k", "nope", "k"), {}),
    ("incr", ("n",), {}),
    ("incr", ("n", 5), {}),
    ("decr", ("n", 2), {}),
    ("incrby", ("n", 3), {}),
    ("incr", ("k",), {}),
    ("incrbyfloat", ("f", 1.25), {}),
    ("incrbyfloat", ("f",), {}),
    ("mset", ({"a": 1, "b": 2.5, "c": b"\xff"},), {}),
    ("mget", (["a", "b", "c", "zz"],), {}),
    ("expire", ("a", 100), {}),
    ("expire", ("a", 100), {"nx": True}),
    ("expire", ("zz", 100), {}),
    ("persist", ("a",), {}),
    ("persist", ("a",), {}),
    ("ttl", ("a",), {}),
    ("pttl", ("zz",), {}),
    ("dbsize", (), {}),
    ("type", ("a",), {}),
    ("type", ("zz",), {}),
    ("rename", ("a", "a2"), {}),
    ("rename", ("zz", "a3"), {}),
    ("append", ("a2", "x"), {}),
    ("strlen", ("a2",), {}),
    ("getrange", ("a2", 0, -1), {}),
    ("setrange", ("a2", 1, "ZZ"), {}),
    ("getdel", ("a2",), {}),
    ("getex", ("b",), {"ex": 100}),
    ("getex", ("b",), {"persist": True}),
    ("setnx", ("s", 1), {}),
    ("setnx", ("s", 1), {}),
    ("setex", ("se", 100, "v"), {}),
    ("psetex", ("pse", 100_000, "v"), {}),
    ("getset", ("se", "new"), {}),
    ("set", ("k", "v"), {"ex": 0}),
    ("delete", ("k", "nope", "s"), {}),
    ("flushdb", (), {}),
    ("flushall", (), {}),
]


def test_native_methods_match_redis_py(store: Any, redis_oracle: ServerHandle) -> None:
    """Every native method returns exactly what redis-py (RESP3, callbacks on)
    returns for the same call against real Redis."""
    ref = redis_oracle.client(protocol=3)
    try:
        ref.flushall()
        for name, args, kwargs in METHOD_SCRIPT:
            assert _call(store, name, args, kwargs) == _call(ref, name, args, kwargs), (
                name,
                args,
                kwargs,
            )
    finally:
        ref.close()


# --------------------------------------------------------------------------
# Mapping face
# --------------------------------------------------------------------------


def test_mapping_face(store: Any) -> None:
    s = store
    with pytest.raises(KeyError):
        s["missing"]
    s["k"] = "v"
    s["n"] = 5
    assert s["k"] == b"v"
    assert s["n"] == b"5"
    assert "k" in s and b"k" in s
    assert "missing" not in s
    assert len(s) == 2
    del s["k"]
    assert "k" not in s
    assert len(s) == 1


# --------------------------------------------------------------------------
# serve(): the same keyspace over RESP
# --------------------------------------------------------------------------


@pytest.fixture
def served(store: Any) -> Iterator[tuple[Any, Any]]:
    handle = store.serve(host=HOST, port=0)
    try:
        yield store, handle
    finally:
        handle.close()


def _port_closed(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return False
    except OSError:
        return True


def test_serve_shares_keyspace(served: tuple[Any, Any]) -> None:
    store, handle = served
    assert handle.host == HOST and isinstance(handle.port, int) and handle.port > 0
    for proto in (2, 3):
        r = Redis(host=handle.host, port=handle.port, protocol=proto)
        try:
            assert r.set(f"from-net-{proto}", "1") is True
            assert store.get(f"from-net-{proto}") == b"1"
            store.set(f"from-store-{proto}", "2")
            assert r.get(f"from-store-{proto}") == b"2"
            store.incr("counter")
            assert r.incr("counter") == store.incr("counter") - 1
            r.delete("from-store-2")
            assert "from-store-2" not in store
        finally:
            r.close()


def test_serve_context_manager_and_close(store: Any) -> None:
    with store.serve(host=HOST, port=0) as handle:
        port = handle.port
        r = Redis(host=HOST, port=port, protocol=3)
        assert r.ping() is True
        r.close()
    assert wait_until(lambda: _port_closed(HOST, port), timeout=5.0)
    store.set("still", "works")  # the store outlives its server
    assert store.get("still") == b"works"


def test_serve_while_python_threads_write(served: tuple[Any, Any]) -> None:
    store, handle = served
    r = Redis(host=handle.host, port=handle.port, protocol=3)
    try:
        for i in range(200):
            store.set(f"k{i}", i)
            assert r.get(f"k{i}") == str(i).encode()
        assert r.dbsize() == len(store) == 200
    finally:
        r.close()


# --------------------------------------------------------------------------
# Threads
# --------------------------------------------------------------------------


def _run_threads(n: int, target: Callable[[int], None]) -> None:
    errors: list[BaseException] = []

    def wrap(i: int) -> None:
        try:
            target(i)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=wrap, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors


def test_concurrent_increments(store: Any) -> None:
    def work(_: int) -> None:
        for _ in range(2000):
            store.incr("counter")

    _run_threads(4, work)
    assert store.get("counter") == b"8000"


def test_concurrent_mixed_commands(store: Any) -> None:
    def work(i: int) -> None:
        for j in range(500):
            store.set(f"t{i}:{j}", j)
            store.execute_command("APPEND", "shared", "x")
            assert store.get(f"t{i}:{j}") == str(j).encode()

    _run_threads(4, work)
    assert store.strlen("shared") == 2000
    assert store.dbsize() == 2001
