"""`fastkv.Redis`: redis-py's `Redis` running commands in-process against a `fastkv.Store`.

The reply shapes are checked differentially: the same redis-py calls go to `fastkv.Redis`
and to a plain `redis.Redis` connected to a real redis-server, for RESP2 and RESP3, with and
without `decode_responses`, and must give equal results (or equal exception types and
texts). Then what only an in-process client has to get right: blocking commands with the GIL
released, several clients on one store, a served store, pipelines, and (once the core has
them) transactions, WATCH, pub/sub, scripts and `Lock`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
import redis
from helpers import ServerHandle

pytestmark = pytest.mark.fastkv_only

Op = Callable[[redis.Redis], Any]


@pytest.fixture
def fk(fastkv_module: ModuleType) -> ModuleType:
    pytest.importorskip("fastkv.client")
    return fastkv_module


def has_command(fk: ModuleType, name: str) -> bool:
    """Whether this build's engine knows `name` (features other engineers are adding)."""
    info = fk.Store().execute_command("COMMAND", "INFO", name)
    return bool(info) and info[0] is not None


def needs(name: str) -> pytest.MarkDecorator:
    try:
        import fastkv

        present = has_command(fastkv, name)
    except ImportError:
        present = False
    return pytest.mark.skipif(not present, reason=f"{name.upper()} not in this build's engine")


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def protocol(request: pytest.FixtureRequest) -> int:
    p: int = request.param
    return p


@pytest.fixture
def rc(fk: ModuleType, protocol: int) -> Iterator[redis.Redis]:
    client = fk.Redis(protocol=protocol)
    yield client
    client.close()


# --------------------------------------------------------------------------
# Differential: fastkv.Redis against redis.Redis on a real redis-server
# --------------------------------------------------------------------------


def outcome(op: Op, client: redis.Redis) -> Any:
    try:
        return ("ok", op(client))
    except redis.exceptions.RedisError as e:
        # The class redis-py's parser picked (ResponseError, NoScriptError, ...) and text.
        base = type(e)
        while base.__module__ == "fastkv":
            base = base.__mro__[1]
        return ("error", base.__name__, str(e))


STRINGS: list[Op] = [
    lambda r: r.set("s", "hello"),
    lambda r: r.get("s"),
    lambda r: r.get("missing"),
    lambda r: r.set("s", "x", nx=True),
    lambda r: r.set("s", "world", xx=True, get=True),
    lambda r: r.append("s", "!"),
    lambda r: r.strlen("s"),
    lambda r: r.getrange("s", 1, 3),
    lambda r: r.setrange("s", 2, "__"),
    lambda r: r.incr("n"),
    lambda r: r.incrby("n", 41),
    lambda r: r.decr("n", 2),
    lambda r: r.incrbyfloat("f", 1.5),
    lambda r: r.incrbyfloat("f", "2.25"),
    lambda r: r.mset({"a": 1, "b": "two", "c": 3.5}),
    lambda r: r.mget("a", "b", "c", "nope"),
    lambda r: r.msetnx({"a": 1, "z": 2}),
    lambda r: r.getdel("c"),
    lambda r: r.set("a", "one", get=True),
    lambda r: r.execute_command("SETNX", "a", "x"),
    lambda r: r.set("e", "v", ex=100),
    lambda r: r.ttl("e"),
    lambda r: r.lcs("s", "a"),
    lambda r: r.set("bin", b"\x00\xff\xfe"),
    lambda r: r.get("bin") if not r.get_encoder().decode_responses else None,
    lambda r: r.set("u", "h\u00e9llo \u2603"),
    lambda r: r.get("u"),
    lambda r: r.exists("a", "b", "nope"),
    lambda r: r.type("a"),
    lambda r: r.delete("a", "b", "nope"),
    lambda r: r.dbsize(),
]

HASHES: list[Op] = [
    lambda r: r.hset("h", mapping={"f1": "v1", "f2": 2, "f3": 3.5}),
    lambda r: r.hset("h", "f4", "v4"),
    lambda r: r.hget("h", "f1"),
    lambda r: r.hget("h", "nope"),
    lambda r: r.hgetall("h"),
    lambda r: r.hmget("h", ["f1", "nope", "f2"]),
    lambda r: r.hincrby("h", "f2", 5),
    lambda r: r.hincrbyfloat("h", "f3", 0.25),
    lambda r: sorted(r.hkeys("h")),
    lambda r: sorted(r.hvals("h")),
    lambda r: r.hlen("h"),
    lambda r: r.hexists("h", "f1"),
    lambda r: r.hsetnx("h", "f1", "x"),
    lambda r: r.hdel("h", "f1", "nope"),
    lambda r: r.hstrlen("h", "f4"),
    lambda r: r.hgetall("missing"),
]

LISTS: list[Op] = [
    lambda r: r.rpush("l", "a", "b", "c", 1, 2.5),
    lambda r: r.lpush("l", "z"),
    lambda r: r.lrange("l", 0, -1),
    lambda r: r.llen("l"),
    lambda r: r.lindex("l", 2),
    lambda r: r.lpop("l"),
    lambda r: r.rpop("l", 2),
    lambda r: r.lpop("missing", 2),
    lambda r: r.linsert("l", "before", "b", "bb"),
    lambda r: r.lpos("l", "b"),
    lambda r: r.lset("l", 0, "A"),
    lambda r: r.lrem("l", 0, "bb"),
    lambda r: r.ltrim("l", 0, 1),
    lambda r: r.lmove("l", "l2", "LEFT", "RIGHT"),
    lambda r: r.lrange("l2", 0, -1),
    lambda r: r.lmpop(2, "nope", "l", direction="LEFT", count=5),
    lambda r: r.blpop(["l2"], timeout=1),
    lambda r: r.blpop(["empty"], timeout=0.05),
    lambda r: r.blmove("empty", "x", 0.05),
]

SETS: list[Op] = [
    lambda r: r.sadd("s1", "a", "b", "c", 1),
    lambda r: r.sadd("s2", "b", "c", "d"),
    lambda r: r.smembers("s1"),
    lambda r: r.sismember("s1", "a"),
    lambda r: r.smismember("s1", ["a", "nope"]),
    lambda r: r.scard("s1"),
    lambda r: r.sinter("s1", "s2"),
    lambda r: r.sunion("s1", "s2"),
    lambda r: r.sdiff("s1", "s2"),
    lambda r: r.sinterstore("s3", ["s1", "s2"]),
    lambda r: r.smembers("missing"),
    lambda r: r.srem("s1", "a"),
    lambda r: r.smove("s1", "s2", "b"),
]

ZSETS: list[Op] = [
    lambda r: r.zadd("z", {"a": 1, "b": 2.5, "c": -3}),
    lambda r: r.zadd("z", {"a": 5}, incr=True),
    lambda r: r.zscore("z", "b"),
    lambda r: r.zscore("z", "nope"),
    lambda r: r.zrange("z", 0, -1),
    lambda r: r.zrange("z", 0, -1, withscores=True),
    lambda r: r.zrevrange("z", 0, 1, withscores=True),
    lambda r: r.zrangebyscore("z", "-inf", "+inf", withscores=True),
    lambda r: r.zincrby("z", 0.5, "b"),
    lambda r: r.zrank("z", "b"),
    lambda r: r.zcard("z"),
    lambda r: r.zcount("z", 0, 10),
    lambda r: r.zmscore("z", ["a", "nope"]),
    lambda r: r.zpopmin("z"),
    lambda r: r.zpopmax("z", 2),
    lambda r: r.zadd("z2", {"x": 1, "y": 2}),
    lambda r: r.zunionstore("z3", ["z", "z2"]),
    lambda r: r.zrange("z3", 0, -1, withscores=True),
    lambda r: r.bzpopmin(["z2"], timeout=1),
    lambda r: r.bzpopmax(["empty"], timeout=0.05),
    lambda r: r.zrandmember("missing"),
    lambda r: r.zadd("inf", {"m": float("inf")}),
    lambda r: r.zscore("inf", "m"),
]

KEYS: list[Op] = [
    lambda r: r.set("k", "v"),
    lambda r: r.expire("k", 100),
    lambda r: r.ttl("k"),
    lambda r: r.pexpire("k", 500_000, gt=True),
    lambda r: r.persist("k"),
    lambda r: r.ttl("k"),
    lambda r: r.pttl("missing"),
    lambda r: r.expire("missing", 10),
    lambda r: r.rename("k", "k2"),
    lambda r: r.renamenx("k2", "k2"),
    lambda r: r.copy("k2", "k3"),
    lambda r: sorted(r.keys("*")),
    lambda r: r.scan(0, match="k*", count=100)[0],
    lambda r: sorted(r.scan_iter("k*")),
    lambda r: r.object("encoding", "k2"),
    lambda r: r.unlink("k2", "k3"),
    lambda r: r.echo("hi"),
    lambda r: r.ping(),
    lambda r: r.config_get("maxmemory-policy"),
    lambda r: r.select(0),
    lambda r: r.swapdb(0, 1),
    lambda r: r.swapdb(0, 1),
    lambda r: r.flushdb(),
]

ERRORS: list[Op] = [
    lambda r: r.set("str", "v"),
    lambda r: r.lpush("str", "x"),
    lambda r: r.incr("str"),
    lambda r: r.hget("str", "f"),
    lambda r: r.execute_command("NOSUCHCOMMAND", "x"),
    lambda r: r.execute_command("GET"),
    lambda r: r.execute_command("SET", "k", "v", "BADOPT"),
    lambda r: r.expire("str", "abc"),
    lambda r: r.zadd("zz", {"m": "notanumber"}),
    lambda r: r.incrbyfloat("str", 1),
    lambda r: r.select(99),
    lambda r: r.config_set("nosuchparam", "1"),
]

FAMILIES = {
    "strings": STRINGS,
    "hashes": HASHES,
    "lists": LISTS,
    "sets": SETS,
    "zsets": ZSETS,
    "keys": KEYS,
    "errors": ERRORS,
}


@pytest.mark.parametrize("decode", [False, True], ids=["bytes", "decoded"])
@pytest.mark.parametrize("family", list(FAMILIES))
def test_same_results_as_redis_py_on_redis_server(
    fk: ModuleType, redis_oracle: ServerHandle, protocol: int, decode: bool, family: str
) -> None:
    ours = fk.Redis(protocol=protocol, decode_responses=decode)
    theirs = redis.Redis(port=redis_oracle.port, protocol=protocol, decode_responses=decode)
    theirs.flushall()
    try:
        for i, op in enumerate(FAMILIES[family]):
            expected = outcome(op, theirs)
            got = outcome(op, ours)
            assert got == expected, f"{family}[{i}] protocol={protocol} decode={decode}"
    finally:
        theirs.flushall()
        theirs.close()
        ours.close()


@pytest.mark.parametrize("decode", [False, True], ids=["bytes", "decoded"])
def test_raw_reply_shapes_match_redis_py_parser(
    fk: ModuleType, redis_oracle: ServerHandle, protocol: int, decode: bool
) -> None:
    """Without response callbacks: exactly what redis-py's parser builds (RESP3 maps,
    doubles, booleans-as-ints in RESP2, nested errors...)."""

    def raw(r: redis.Redis) -> Callable[..., Any]:
        def run(*args: Any) -> Any:
            from fastkv.client import _POOL_WANTS_NAME

            pool = r.connection_pool
            conn = pool.get_connection(args[0]) if _POOL_WANTS_NAME else pool.get_connection()
            try:
                conn.send_command(*args)
                return conn.read_response()
            except redis.exceptions.ResponseError as e:
                return ("error", str(e))
            finally:
                pool.release(conn)

        return run

    ours = fk.Redis(protocol=protocol, decode_responses=decode)
    theirs = redis.Redis(port=redis_oracle.port, protocol=protocol, decode_responses=decode)
    theirs.flushall()
    commands: list[tuple[Any, ...]] = [
        ("SET", "k", "v"),
        ("GET", "k"),
        ("ZADD", "z", "1.5", "a", "2", "b"),
        ("ZRANGE", "z", "0", "-1", "WITHSCORES"),
        ("ZSCORE", "z", "a"),
        ("ZINCRBY", "z", "0.1", "a"),
        ("HSET", "h", "f", "v", "g", "w"),
        ("HGETALL", "h"),
        ("SADD", "s", "x"),
        ("SMEMBERS", "s"),
        ("SMISMEMBER", "s", "x", "y"),
        ("CONFIG", "GET", "maxmemory"),
        ("CONFIG GET", "maxmemory"),
        ("LPUSH", "k", "x"),
        ("INCRBYFLOAT", "n", "1e3"),
        ("XXX",),
        ("MGET", "k", "h", "nope"),
        ("OBJECT", "ENCODING", "z"),
        ("TYPE", "z"),
        ("LPOS", "nope", "x"),
        ("EXISTS", "k"),
        ("COMMAND", "COUNT"),
    ]
    try:
        for args in commands:
            expected = raw(theirs)(*args)
            got = raw(ours)(*args)
            if args == ("COMMAND", "COUNT"):
                assert isinstance(got, int) and got > 100
                continue
            assert got == expected, args
            assert type(got) is type(expected), args
    finally:
        theirs.flushall()
        theirs.close()
        ours.close()


# --------------------------------------------------------------------------
# Construction, handshake, stores
# --------------------------------------------------------------------------


def test_private_store_by_default(fk: ModuleType) -> None:
    a, b = fk.Redis(), fk.Redis()
    a.set("k", "1")
    assert b.get("k") is None
    assert isinstance(a, redis.Redis)


def test_clients_of_one_store_share_it(fk: ModuleType, protocol: int) -> None:
    store = fk.Store()
    a = fk.Redis(store, protocol=protocol)
    b = fk.Redis(store, protocol=5 - protocol, decode_responses=True)
    a.set("k", "v")
    assert b.get("k") == "v"
    b.hset("h", "f", "1")
    assert a.hgetall("h") == {b"f": b"1"}
    assert store.get("k") == b"v"
    store.set("from-store", "x")
    assert a.get("from-store") == b"x"


def test_db_argument_selects_the_database(fk: ModuleType) -> None:
    store = fk.Store()
    r1 = fk.Redis(store, db=1)
    r0 = fk.Redis(store)
    r1.set("k", "in-db1")
    assert r0.get("k") is None
    assert r1.get("k") == b"in-db1"
    assert r0.execute_command("SELECT", 1) is True or r0.get("k") == b"in-db1"


def test_handshake_name_protocol_and_lib_info(fk: ModuleType, protocol: int) -> None:
    store = fk.Store()
    r = fk.Redis(store, protocol=protocol, client_name="worker-7")
    assert r.client_getname() in (b"worker-7", "worker-7")
    info = r.client_info()
    assert info["name"] == "worker-7"
    assert int(info["resp"]) == protocol
    assert info["lib-name"].startswith("redis-py")
    assert info["lib-ver"] == redis.__version__
    # Every connection is its own engine client.
    other = fk.Redis(store)
    other.ping()
    names = {c["name"] for c in r.client_list()}
    assert "worker-7" in names
    assert len(r.client_list()) >= 2


def test_connection_close_unregisters_client(fk: ModuleType) -> None:
    store = fk.Store()
    watcher = fk.Redis(store)
    r = fk.Redis(store, client_name="gone-soon")
    r.ping()
    assert any(c["name"] == "gone-soon" for c in watcher.client_list())
    r.close()
    r.connection_pool.disconnect()
    assert not any(c["name"] == "gone-soon" for c in watcher.client_list())


def test_single_connection_client(fk: ModuleType) -> None:
    r = fk.Redis(single_connection_client=True)
    assert r.select(2)
    r.set("k", "v")
    assert r.get("k") == b"v"
    assert r.client_info()["db"] == "2" or int(r.client_info()["db"]) == 2
    r.close()


def test_from_url(fk: ModuleType) -> None:
    r = fk.Redis.from_url("fastkv:///3", decode_responses=True)
    r.set("k", "v")
    assert r.get("k") == "v"
    assert int(r.client_info()["db"]) == 3


def test_network_kwargs_refused(fk: ModuleType) -> None:
    with pytest.raises(TypeError, match="in-process"):
        fk.Redis(host="localhost")


def test_served_store_seen_over_tcp(fk: ModuleType, protocol: int) -> None:
    store = fk.Store()
    handle = store.serve()
    try:
        local = fk.Redis(store, protocol=protocol)
        remote = redis.Redis(port=handle.port, protocol=protocol)
        local.set("k", "from-process")
        local.zadd("z", {"a": 1})
        assert remote.get("k") == b"from-process"
        assert remote.zrange("z", 0, -1, withscores=True) == local.zrange(
            "z", 0, -1, withscores=True
        )
        remote.rpush("l", "from-socket")
        assert local.lrange("l", 0, -1) == [b"from-socket"]
        remote.close()
    finally:
        handle.close()


# --------------------------------------------------------------------------
# decode_responses and encodings
# --------------------------------------------------------------------------


def test_decode_responses(fk: ModuleType, protocol: int) -> None:
    r = fk.Redis(protocol=protocol, decode_responses=True)
    r.set("k", "v\u00e9")
    assert r.get("k") == "v\u00e9"
    r.hset("h", mapping={"a": "1"})
    assert r.hgetall("h") == {"a": "1"}
    r.set("bad", b"\xff")
    with pytest.raises(UnicodeDecodeError):
        r.get("bad")
    # The connection survives a decode error, as redis-py's does.
    assert r.get("k") == "v\u00e9"


def test_other_encoding(fk: ModuleType, protocol: int) -> None:
    r = fk.Redis(protocol=protocol, decode_responses=True, encoding="latin-1")
    r.set("k", "caf\u00e9")
    raw = fk.Redis(r.store)
    assert raw.get("k") == b"caf\xe9"
    assert r.get("k") == "caf\u00e9"
    lax = fk.Redis(r.store, decode_responses=True, encoding_errors="replace")
    r.set("bad", b"\xff")
    assert lax.get("bad") == "\ufffd"


def test_argument_types(fk: ModuleType) -> None:
    r = fk.Redis()
    r.set("i", 10)
    r.set("f", 1.5)
    r.set("b", bytearray(b"ba"))
    r.set("m", memoryview(b"mv"))
    assert r.mget("i", "f", "b", "m") == [b"10", b"1.5", b"ba", b"mv"]
    with pytest.raises(redis.exceptions.DataError):
        r.set("k", None)  # type: ignore[arg-type]
    with pytest.raises(redis.exceptions.DataError):
        r.set("k", True)  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


def test_error_classes(fk: ModuleType, protocol: int) -> None:
    r = fk.Redis(protocol=protocol)
    r.set("s", "v")
    with pytest.raises(redis.exceptions.ResponseError, match="^WRONGTYPE Operation"):
        r.lpush("s", "x")
    with pytest.raises(redis.exceptions.ResponseError, match="unknown command"):
        r.execute_command("FOO")
    # After errors the connection is still in sync.
    assert r.get("s") == b"v"


# --------------------------------------------------------------------------
# Pipelines
# --------------------------------------------------------------------------


def test_pipeline_without_transaction(fk: ModuleType, protocol: int) -> None:
    r = fk.Redis(protocol=protocol)
    pipe = r.pipeline(transaction=False)
    pipe.set("a", 1).incr("a").get("a").lpush("a", "x").zadd("z", {"m": 2}).zscore("z", "m")
    results = pipe.execute(raise_on_error=False)
    assert results[:3] == [True, 2, b"2"]
    assert isinstance(results[3], redis.exceptions.ResponseError)
    assert str(results[3]).startswith("WRONGTYPE")
    assert results[4:] == [1, 2.0]
    with pytest.raises(redis.exceptions.ResponseError):
        r.pipeline(transaction=False).set("b", 1).lpush("b", 1).execute()
    # Commands after the failing one ran: the pipeline was sent as a whole.
    assert r.get("b") == b"1"


def test_pipeline_many_commands(fk: ModuleType) -> None:
    r = fk.Redis()
    with r.pipeline(transaction=False) as pipe:
        for i in range(500):
            pipe.set(f"k{i}", i)
        for i in range(500):
            pipe.get(f"k{i}")
        out = pipe.execute()
    assert out[:500] == [True] * 500
    assert out[500:] == [str(i).encode() for i in range(500)]


# --------------------------------------------------------------------------
# Blocking commands
# --------------------------------------------------------------------------


def test_blocking_pop_times_out(fk: ModuleType, protocol: int) -> None:
    r = fk.Redis(protocol=protocol)
    t0 = time.monotonic()
    assert r.blpop(["empty"], timeout=0.2) is None
    elapsed = time.monotonic() - t0
    assert 0.19 <= elapsed < 2
    assert r.bzpopmin(["emptyz"], timeout=0.1) is None
    assert r.blmove("empty", "dst", 0.1) is None


def test_blocking_pop_woken_by_another_thread(fk: ModuleType, protocol: int) -> None:
    store = fk.Store()
    r = fk.Redis(store, protocol=protocol)
    pusher = fk.Redis(store)
    got: list[Any] = []

    def waiter() -> None:
        got.append(r.blpop(["q1", "q2"], timeout=5))

    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(0.1)
    # The waiter holds no lock while it waits: other threads run commands meanwhile.
    for _ in range(50):
        pusher.incr("counter")
    assert pusher.get("counter") == b"50"
    t0 = time.monotonic()
    pusher.rpush("q2", "job")
    t.join(5)
    assert not t.is_alive()
    assert time.monotonic() - t0 < 1
    expected: Any = (b"q2", b"job") if protocol == 2 else [b"q2", b"job"]
    assert got == [expected] or got == [[b"q2", b"job"]] or got == [(b"q2", b"job")]
    assert store.llen("q2") == 0


def test_blocking_pop_woken_by_embedded_store_and_network(fk: ModuleType) -> None:
    store = fk.Store()
    handle = store.serve()
    try:
        r = fk.Redis(store)
        remote = redis.Redis(port=handle.port)
        results: list[Any] = []
        t = threading.Thread(target=lambda: results.append(r.brpop(["q"], timeout=5)))
        t.start()
        time.sleep(0.1)
        remote.lpush("q", "over-tcp")
        t.join(5)
        assert results and results[0] is not None
        assert list(results[0]) == [b"q", b"over-tcp"]
        remote.close()
    finally:
        handle.close()


# --------------------------------------------------------------------------
# Transactions (MULTI/EXEC/WATCH come with the core's transaction family)
# --------------------------------------------------------------------------


TRANSACTION_ERRORS: list[Op] = [
    lambda r: r.execute_command("EXEC"),
    lambda r: r.execute_command("DISCARD"),
    lambda r: r.execute_command("MULTI", "x"),
    lambda r: r.execute_command("UNWATCH"),
]


@needs("multi")
def test_transaction_errors_as_redis(
    fk: ModuleType, redis_oracle: ServerHandle, protocol: int
) -> None:
    ours = fk.Redis(protocol=protocol)
    theirs = redis.Redis(port=redis_oracle.port, protocol=protocol)
    for i, op in enumerate(TRANSACTION_ERRORS):
        assert outcome(op, ours) == outcome(op, theirs), i
    theirs.close()


@needs("multi")
def test_transaction_pipeline(fk: ModuleType, protocol: int) -> None:
    r = fk.Redis(protocol=protocol)
    with r.pipeline() as pipe:
        pipe.set("a", "1").incr("a").lpush("a", "x").get("a")
        out = pipe.execute(raise_on_error=False)
    assert out[:2] == [True, 2]
    assert isinstance(out[2], redis.exceptions.ResponseError)
    assert out[3] == b"2"


@needs("multi")
def test_transaction_execabort(fk: ModuleType) -> None:
    r = fk.Redis()
    pipe = r.pipeline()
    pipe.set("a", 1)
    pipe.execute_command("NOSUCHCMD")
    with pytest.raises(redis.exceptions.ResponseError):
        pipe.execute()
    assert r.get("a") is None


@needs("watch")
def test_watch_detects_concurrent_write(fk: ModuleType) -> None:
    store = fk.Store()
    r = fk.Redis(store)
    other = fk.Redis(store)
    r.set("balance", 10)
    with r.pipeline() as pipe:
        pipe.watch("balance")
        current = int(pipe.get("balance") or 0)
        other.set("balance", 100)  # another client changes it
        pipe.multi()
        pipe.set("balance", current - 1)
        with pytest.raises(redis.exceptions.WatchError):
            pipe.execute()
    assert r.get("balance") == b"100"


@needs("watch")
def test_transaction_helper_retries(fk: ModuleType) -> None:
    store = fk.Store()
    r = fk.Redis(store)
    other = fk.Redis(store)
    r.set("n", 0)
    attempts = []

    def incr(pipe: Any) -> None:
        value = int(pipe.get("n"))
        if not attempts:
            other.set("n", 10)
        attempts.append(value)
        pipe.multi()
        pipe.set("n", value + 1)

    r.transaction(incr, "n")
    assert attempts == [0, 10]
    assert r.get("n") == b"11"


@needs("watch")
def test_watch_races_between_threads(fk: ModuleType) -> None:
    store = fk.Store()
    r = fk.Redis(store)
    r.set("n", 0)

    def work() -> None:
        for _ in range(50):
            r.transaction(lambda p: (p.multi(), p.incr("n")) and None, "n")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert r.get("n") == b"200"


# --------------------------------------------------------------------------
# Pub/Sub
# --------------------------------------------------------------------------


@needs("subscribe")
def test_pubsub_get_message(fk: ModuleType, protocol: int) -> None:
    store = fk.Store()
    r = fk.Redis(store, protocol=protocol)
    p = r.pubsub()
    p.subscribe("news")
    msg = p.get_message(timeout=1)
    assert msg is not None and msg["type"] == "subscribe" and msg["channel"] == b"news"
    assert p.get_message(timeout=0.05) is None
    assert fk.Redis(store).publish("news", "hello") == 1
    msg = p.get_message(timeout=1)
    assert msg == {"type": "message", "pattern": None, "channel": b"news", "data": b"hello"}
    p.psubscribe("n*")
    assert p.get_message(timeout=1)["type"] == "psubscribe"  # type: ignore[index]
    store.publish("other", "x")
    r.publish("nx", "y")
    msg = p.get_message(timeout=1)
    assert msg is not None and msg["type"] == "pmessage" and msg["data"] == b"y"
    p.close()


@needs("subscribe")
def test_pubsub_blocking_wait_is_woken(fk: ModuleType) -> None:
    store = fk.Store()
    r = fk.Redis(store, decode_responses=True)
    p = r.pubsub(ignore_subscribe_messages=True)
    p.subscribe("jobs")
    got: list[Any] = []

    def listen() -> None:
        for msg in p.listen():
            if msg["type"] == "message":
                got.append(msg["data"])
                return

    t = threading.Thread(target=listen)
    t.start()
    time.sleep(0.1)
    fk.Redis(store).publish("jobs", "j1")
    t.join(5)
    assert got == ["j1"]
    t0 = time.monotonic()
    assert p.get_message(timeout=0.2) is None
    assert 0.15 < time.monotonic() - t0 < 2
    p.close()


@needs("subscribe")
def test_pubsub_network_publisher(fk: ModuleType) -> None:
    store = fk.Store()
    handle = store.serve()
    try:
        p = fk.Redis(store).pubsub(ignore_subscribe_messages=True)
        p.subscribe("ch")
        p.get_message(timeout=0.1)
        remote = redis.Redis(port=handle.port)
        assert remote.publish("ch", "over-tcp") == 1
        msg = p.get_message(timeout=1)
        assert msg is not None and msg["data"] == b"over-tcp"
        remote.close()
        p.close()
    finally:
        handle.close()


def pubsub_transcript(r: redis.Redis) -> list[Any]:
    """A fixed pub/sub session; every message received, in order."""
    got: list[Any] = []
    publisher = r.__class__(connection_pool=r.connection_pool)

    def drain() -> None:
        while True:
            m = p.get_message(timeout=0.2)
            if m is None:
                return
            got.append(m)

    p = r.pubsub()
    p.subscribe("a", "b")
    p.psubscribe("h?llo", "x*")
    drain()
    got.append(("published", publisher.publish("a", "1")))
    got.append(("published", publisher.publish("hello", "2")))
    got.append(("published", publisher.publish("xa", "3")))
    got.append(("published", publisher.publish("nobody", "4")))
    drain()
    got.append(("numsub", sorted(publisher.pubsub_numsub("a", "b", "c"))))
    got.append(("numpat", publisher.pubsub_numpat()))
    got.append(("channels", sorted(publisher.pubsub_channels())))
    p.unsubscribe("a")
    p.punsubscribe()
    drain()
    got.append(("published", publisher.publish("a", "5")))
    got.append(("published", publisher.publish("b", "6")))
    drain()
    p.unsubscribe()
    drain()
    p.close()
    return got


@needs("subscribe")
@pytest.mark.parametrize("decode", [False, True], ids=["bytes", "decoded"])
def test_pubsub_same_as_redis_server(
    fk: ModuleType, redis_oracle: ServerHandle, protocol: int, decode: bool
) -> None:
    theirs = redis.Redis(port=redis_oracle.port, protocol=protocol, decode_responses=decode)
    ours = fk.Redis(protocol=protocol, decode_responses=decode)
    assert pubsub_transcript(ours) == pubsub_transcript(theirs)
    theirs.close()


@needs("subscribe")
def test_pubsub_run_in_thread(fk: ModuleType, protocol: int) -> None:
    r = fk.Redis(protocol=protocol, decode_responses=True)
    got: list[str] = []
    p = r.pubsub()
    p.subscribe(**{"events": lambda m: got.append(m["data"])})
    worker = p.run_in_thread(sleep_time=0.01, daemon=True)
    try:
        for i in range(5):
            r.publish("events", f"e{i}")
        deadline = time.monotonic() + 5
        while len(got) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert got == [f"e{i}" for i in range(5)]
    finally:
        worker.stop()
        worker.join(5)
    p.close()


@needs("subscribe")
def test_keyspace_notifications(fk: ModuleType, protocol: int) -> None:
    r = fk.Redis(protocol=protocol)
    r.config_set("notify-keyspace-events", "KEA")
    p = r.pubsub(ignore_subscribe_messages=True)
    p.psubscribe("__keyspace@0__:*")
    p.get_message(timeout=0.1)
    r.set("watched", "v")
    r.expire("watched", 100)
    r.delete("watched")
    events = []
    while (m := p.get_message(timeout=0.5)) is not None:
        events.append(m["data"])
    assert events == [b"set", b"expire", b"del"]
    p.close()


@needs("subscribe")
def test_resp2_subscriber_mode_refuses_other_commands(fk: ModuleType) -> None:
    r = fk.Redis(protocol=2)
    p = r.pubsub()
    p.subscribe("ch")
    assert p.get_message(timeout=1)["type"] == "subscribe"  # type: ignore[index]
    p.execute_command("GET", "k")
    with pytest.raises(redis.exceptions.ResponseError, match="only .*allowed in this context"):
        p.get_message(timeout=1)
    p.ping()
    assert p.get_message(timeout=1)["type"] == "pong"  # type: ignore[index]
    p.close()


@needs("multi")
def test_blocking_command_inside_multi_does_not_block(fk: ModuleType) -> None:
    r = fk.Redis()
    t0 = time.monotonic()
    with r.pipeline() as pipe:
        pipe.blpop(["empty"], timeout=5).rpush("q", "x").blpop(["q"], timeout=5)
        assert pipe.execute() == [None, 1, [b"q", b"x"]]
    assert time.monotonic() - t0 < 1


@needs("watch")
def test_watch_sees_embedded_store_writes(fk: ModuleType) -> None:
    store = fk.Store()
    r = fk.Redis(store)
    with r.pipeline() as pipe:
        pipe.watch("k")
        store.set("k", "changed in-process")
        pipe.multi()
        pipe.set("k", "mine")
        with pytest.raises(redis.exceptions.WatchError):
            pipe.execute()
    assert store.get("k") == b"changed in-process"


# --------------------------------------------------------------------------
# Scripts and Lock
# --------------------------------------------------------------------------


@needs("evalsha")
def test_noscript_error(fk: ModuleType, redis_oracle: ServerHandle, protocol: int) -> None:
    ours = fk.Redis(protocol=protocol)
    theirs = redis.Redis(port=redis_oracle.port, protocol=protocol)
    for r in (ours, theirs):
        with pytest.raises(redis.exceptions.NoScriptError) as info:
            r.evalsha("0" * 40, 0)
        assert str(info.value) == "No matching script. Please use EVAL."
    theirs.close()


@needs("evalsha")
def test_register_script(fk: ModuleType, protocol: int) -> None:
    r = fk.Redis(protocol=protocol)
    add = r.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    assert add(keys=["n"], args=[5]) == 5
    assert add(keys=["n"], args=[2]) == 7
    r.script_flush()
    assert add(keys=["n"], args=[1]) == 8  # NOSCRIPT -> SCRIPT LOAD -> EVALSHA
    with r.pipeline() as pipe:
        add(keys=["n"], args=[1], client=pipe)
        pipe.get("n")
        assert pipe.execute() == [9, b"9"]


@needs("evalsha")
def test_lock(fk: ModuleType) -> None:
    store = fk.Store()
    a = fk.Redis(store)
    b = fk.Redis(store)
    lock_a = a.lock("resource", timeout=5, blocking_timeout=0.2)
    lock_b = b.lock("resource", timeout=5, blocking_timeout=0.2)
    assert lock_a.acquire()
    assert not lock_b.acquire()  # contention: b gives up after blocking_timeout
    assert lock_a.owned()
    assert lock_a.extend(10)
    assert 5 < a.pttl("resource") / 1000 <= 15
    lock_a.release()
    assert lock_b.acquire()
    with pytest.raises(redis.exceptions.LockError):
        lock_a.release()  # released already
    lock_b.release()
    # An expired lock taken over by another client: the owner's release is refused by the
    # Lua script (token mismatch).
    short = a.lock("res2", timeout=0.1)
    assert short.acquire()
    time.sleep(0.2)
    taker = b.lock("res2", timeout=5)
    assert taker.acquire(blocking=False)
    with pytest.raises(redis.exceptions.LockNotOwnedError):
        short.extend(1)
    with pytest.raises(redis.exceptions.LockNotOwnedError):
        short.release()
    assert taker.locked() and taker.owned()
    taker.release()
    with a.lock("ctx", timeout=1):
        assert a.exists("ctx")
    assert not a.exists("ctx")


@needs("evalsha")
def test_lock_contention_in_process_and_over_tcp(fk: ModuleType, protocol: int) -> None:
    store = fk.Store()
    handle = store.serve()
    try:
        local = fk.Redis(store, protocol=protocol)
        remote = redis.Redis(port=handle.port, protocol=protocol)
        mine = local.lock("job", timeout=5, blocking_timeout=0.1)
        theirs = remote.lock("job", timeout=5, blocking_timeout=0.1)
        assert mine.acquire()
        assert not theirs.acquire()
        mine.release()
        assert theirs.acquire()
        assert not mine.acquire()
        assert theirs.extend(5)
        theirs.release()
        script = remote.register_script("return redis.call('GET', KEYS[1])")
        local.set("k", "v")
        assert script(keys=["k"]) == b"v"
        assert local.register_script("return redis.call('GET', KEYS[1])")(keys=["k"]) == b"v"
        remote.close()
    finally:
        handle.close()


# --------------------------------------------------------------------------
# Housekeeping
# --------------------------------------------------------------------------


def test_client_works_from_many_threads(fk: ModuleType) -> None:
    r = fk.Redis()
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(200):
                r.set(f"{n}:{i}", i)
                assert r.get(f"{n}:{i}") == str(i).encode()
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert r.dbsize() == 800
