"""`fastkv.asyncio.Redis`: redis-py's asyncio client running commands in-process.

pytest-asyncio is not required: each test drives its coroutine with `asyncio.run`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import Any, TypeVar

import pytest
import redis
import redis.asyncio
from helpers import ServerHandle

pytestmark = pytest.mark.fastkv_only

T = TypeVar("T")


@pytest.fixture
def fk(fastkv_module: ModuleType) -> ModuleType:
    pytest.importorskip("fastkv.asyncio")
    return fastkv_module


def needs(name: str) -> pytest.MarkDecorator:
    try:
        import fastkv

        info = fastkv.Store().execute_command("COMMAND", "INFO", name)
        present = bool(info) and info[0] is not None
    except ImportError:
        present = False
    return pytest.mark.skipif(not present, reason=f"{name.upper()} not in this build's engine")


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def protocol(request: pytest.FixtureRequest) -> int:
    p: int = request.param
    return p


AsyncOp = Callable[[Any], Awaitable[Any]]

OPS: list[AsyncOp] = [
    lambda r: r.set("s", "v"),
    lambda r: r.get("s"),
    lambda r: r.incr("n", 5),
    lambda r: r.incrbyfloat("f", 0.5),
    lambda r: r.hset("h", mapping={"a": 1, "b": "x"}),
    lambda r: r.hgetall("h"),
    lambda r: r.rpush("l", 1, 2, 3),
    lambda r: r.lrange("l", 0, -1),
    lambda r: r.sadd("st", "a", "b"),
    lambda r: r.smembers("st"),
    lambda r: r.zadd("z", {"a": 1.5, "b": 3}),
    lambda r: r.zrange("z", 0, -1, withscores=True),
    lambda r: r.zscore("z", "a"),
    lambda r: r.expire("s", 100),
    lambda r: r.ttl("s"),
    lambda r: r.blpop(["l"], timeout=1),
    lambda r: r.blpop(["empty"], timeout=0.05),
    lambda r: r.lpush("s", "x"),
    lambda r: r.execute_command("NOPE"),
    lambda r: r.config_get("maxmemory"),
]


async def outcome(op: AsyncOp, client: Any) -> Any:
    try:
        return ("ok", await op(client))
    except redis.exceptions.RedisError as e:
        base = type(e)
        while base.__module__ == "fastkv":
            base = base.__mro__[1]
        return ("error", base.__name__, str(e))


@pytest.mark.parametrize("decode", [False, True], ids=["bytes", "decoded"])
def test_same_results_as_redis_asyncio_on_redis_server(
    fk: ModuleType, redis_oracle: ServerHandle, protocol: int, decode: bool
) -> None:
    async def main() -> None:
        ours = fk.asyncio.Redis(protocol=protocol, decode_responses=decode)
        theirs = redis.asyncio.Redis(
            port=redis_oracle.port, protocol=protocol, decode_responses=decode
        )
        await theirs.flushall()
        try:
            for i, op in enumerate(OPS):
                assert await outcome(op, ours) == await outcome(op, theirs), i
        finally:
            await theirs.flushall()
            await theirs.aclose()
            await ours.aclose()

    asyncio.run(main())


def test_shared_store_with_sync_client(fk: ModuleType, protocol: int) -> None:
    store = fk.Store()
    sync = fk.Redis(store)

    async def main() -> None:
        r = fk.asyncio.Redis(store, protocol=protocol, decode_responses=True)
        await r.set("k", "from-async")
        assert sync.get("k") == b"from-async"
        sync.hset("h", "f", "v")
        assert await r.hgetall("h") == {"f": "v"}
        assert isinstance(r, redis.asyncio.Redis)
        await r.aclose()

    asyncio.run(main())


def test_pipeline(fk: ModuleType, protocol: int) -> None:
    async def main() -> None:
        r = fk.asyncio.Redis(protocol=protocol)
        async with r.pipeline(transaction=False) as pipe:
            pipe.set("a", 1).incr("a").lpush("a", "x").get("a")
            out = await pipe.execute(raise_on_error=False)
        assert out[:2] == [True, 2]
        assert isinstance(out[2], redis.exceptions.ResponseError)
        assert out[3] == b"2"
        await r.aclose()

    asyncio.run(main())


def test_blocking_pop_does_not_block_the_loop(fk: ModuleType, protocol: int) -> None:
    async def main() -> None:
        store = fk.Store()
        r = fk.asyncio.Redis(store, protocol=protocol)
        pusher = fk.asyncio.Redis(store)
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        tick_task = asyncio.create_task(ticker())
        pop = asyncio.create_task(r.blpop(["q"], timeout=5))
        await asyncio.sleep(0.2)
        assert not pop.done()
        assert ticks >= 5  # the loop kept running while BLPOP waited
        await pusher.rpush("q", "job")
        result = await asyncio.wait_for(pop, 2)
        assert list(result) == [b"q", b"job"]
        t0 = time.monotonic()
        assert await r.blpop(["q"], timeout=0.2) is None
        assert 0.19 <= time.monotonic() - t0 < 2
        tick_task.cancel()
        await r.aclose()
        await pusher.aclose()

    asyncio.run(main())


def test_cancelled_blocking_pop_takes_nothing(fk: ModuleType) -> None:
    async def main() -> None:
        store = fk.Store()
        r = fk.asyncio.Redis(store)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(r.blpop(["q"], timeout=0), 0.1)
        # The cancelled waiter is gone: a later push stays in the list.
        await asyncio.sleep(0.05)
        store.rpush("q", "kept")
        await asyncio.sleep(0.05)
        assert store.lrange("q", 0, -1) == [b"kept"]
        assert await r.lpop("q") == b"kept"  # the client still works
        await r.aclose()

    asyncio.run(main())


def test_concurrent_tasks(fk: ModuleType) -> None:
    async def main() -> None:
        r = fk.asyncio.Redis()

        async def work(n: int) -> None:
            for i in range(50):
                await r.set(f"{n}:{i}", i)
                assert await r.get(f"{n}:{i}") == str(i).encode()

        await asyncio.gather(*(work(n) for n in range(8)))
        assert await r.dbsize() == 400
        await r.aclose()

    asyncio.run(main())


@needs("multi")
def test_transaction_and_watch(fk: ModuleType) -> None:
    async def main() -> None:
        store = fk.Store()
        r = fk.asyncio.Redis(store)
        other = fk.Redis(store)
        await r.set("n", 1)
        async with r.pipeline() as pipe:
            await pipe.watch("n")
            value = int(await pipe.get("n"))
            other.set("n", 50)
            pipe.multi()
            pipe.set("n", value + 1)
            with pytest.raises(redis.exceptions.WatchError):
                await pipe.execute()
        async with r.pipeline() as pipe:
            pipe.incr("n").incr("n")
            assert await pipe.execute() == [51, 52]
        await r.aclose()

    asyncio.run(main())


@needs("subscribe")
def test_pubsub(fk: ModuleType, protocol: int) -> None:
    async def main() -> None:
        store = fk.Store()
        r = fk.asyncio.Redis(store, protocol=protocol)
        p = r.pubsub()
        await p.subscribe("ch")
        msg = await p.get_message(timeout=1)
        assert msg is not None and msg["type"] == "subscribe"
        assert await p.get_message(timeout=0.05) is None

        async def later() -> None:
            await asyncio.sleep(0.1)
            await r.publish("ch", "hi")

        task = asyncio.create_task(later())
        msg = await p.get_message(ignore_subscribe_messages=True, timeout=2)
        assert msg is not None and msg["data"] == b"hi"
        await task
        await p.aclose()
        await r.aclose()

    asyncio.run(main())


@needs("evalsha")
def test_script_and_lock(fk: ModuleType) -> None:
    async def main() -> None:
        store = fk.Store()
        a = fk.asyncio.Redis(store)
        b = fk.asyncio.Redis(store)
        script = a.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        assert await script(keys=["n"], args=[3]) == 3
        lock_a = a.lock("res", timeout=5, blocking_timeout=0.2)
        lock_b = b.lock("res", timeout=5, blocking_timeout=0.2)
        assert await lock_a.acquire()
        assert not await lock_b.acquire()
        await lock_a.release()
        assert await lock_b.acquire()
        await lock_b.release()
        await a.aclose()
        await b.aclose()

    asyncio.run(main())
