"""maxmemory and eviction: every policy (which keys go, which never go), the OOM error with
reads still working, OBJECT FREQ / IDLETIME, CONFIG SET maxmemory at run time, the limit
holding under a write flood from 50 clients, and the embedded Store's settings.

Each test that sets a limit uses its own disposable server (`server_factory`): `used_memory`
is the whole process's, so tests must not share one. Deterministic replies (error texts,
CONFIG GET replies) are compared with a real redis-server.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from conftest import ServerFactory, import_fastkv
from helpers import EVICTING_POLICIES, Redis, ServerHandle, wait_until

OOM = "OOM command not allowed when used memory > 'maxmemory'."
FREQ_ERROR = (
    "An LFU maxmemory policy is not selected, access frequency not tracked. Please note that "
    "when switching between policies at runtime LRU and LFU data will take some time to adjust."
)
IDLE_ERROR = (
    "An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
    "switching between policies at runtime LRU and LFU data will take some time to adjust."
)
POLICIES = EVICTING_POLICIES
VALUE = b"v" * 200


def used(r: Redis) -> int:
    return int(r.info("memory")["used_memory"])


def fill(r: Redis, keys: range, prefix: str = "k", ex: int | None = None) -> None:
    """Writes `prefix<i>` for i in keys, pipelined, tolerating OOM replies."""
    p = r.pipeline(transaction=False)
    for n, i in enumerate(keys, 1):
        p.set(f"{prefix}{i}", VALUE, ex=ex)
        if n % 500 == 0:
            p.execute(raise_on_error=False)
    p.execute(raise_on_error=False)


def present(r: Redis, names: list[str]) -> set[str]:
    p = r.pipeline(transaction=False)
    for n in names:
        p.exists(n)
    return {n for n, e in zip(names, p.execute(), strict=False) if e}


def query_buffer(r: Redis) -> int:
    """The bytes this connection's query buffer holds, used or free (CLIENT INFO)."""
    info = r.client_info()
    return int(info["qbuf"]) + int(info["qbuf-free"])


def reset_limit(r: Redis) -> None:
    r.config_set("maxmemory", 0)
    r.config_set("maxmemory-policy", "noeviction")


@pytest.fixture
def fresh(server_factory: ServerFactory) -> Iterator[Redis]:
    """A client of a disposable server under test."""
    h = server_factory()
    c = h.client(protocol=2)
    yield c
    c.close()


def limit_for(r: Redis, keys: int) -> int:
    """A maxmemory that holds about `keys` more keys of VALUE than now."""
    return used(r) + keys * 400


# --------------------------------------------------------------------------
# Errors and configuration, compared with Redis
# --------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["fastkv", "redis"])
def test_oom_under_noeviction_and_reads_keep_working(
    which: str, fresh: Redis, redis_oracle: ServerHandle
) -> None:
    r = fresh if which == "fastkv" else redis_oracle.client(protocol=2)
    try:
        r.flushall()
        r.set("k", "v")
        r.config_set("maxmemory", 1)
        with pytest.raises(redis.exceptions.OutOfMemoryError) as e:
            r.set("k2", "v")
        # redis-py maps the `OOM` code to the exception class and strips it.
        assert "OOM " + str(e.value) == OOM
        with pytest.raises(redis.exceptions.OutOfMemoryError):
            r.lpush("l", "x")
        assert r.get("k") == b"v"
        assert r.exists("k") == 1
        assert r.delete("k") == 1  # not denyoom
    finally:
        reset_limit(r)
        r.flushall()
        if which == "redis":
            r.close()


def test_config_replies_match_redis(r: Redis, redis_oracle: ServerHandle) -> None:
    o = redis_oracle.client(protocol=3)
    try:
        for pattern in [
            "maxmemory",
            "maxmemory-policy",
            "maxmemory-samples",
            "maxmemory-eviction-tenacity",
            "lfu-log-factor",
            "lfu-decay-time",
        ]:
            assert r.config_get(pattern) == o.config_get(pattern), pattern
        for name, value in [
            ("maxmemory", "100mb"),
            ("maxmemory", "1gb"),
            ("maxmemory", "12345"),
            ("maxmemory-samples", "10"),
            ("maxmemory-eviction-tenacity", "50"),
            ("lfu-log-factor", "3"),
            ("lfu-decay-time", "0"),
        ] + [("maxmemory-policy", p) for p in POLICIES]:
            try:
                assert r.config_set(name, value) == o.config_set(name, value)
                assert r.config_get(name) == o.config_get(name), (name, value)
            finally:
                for c in (r, o):
                    reset_limit(c)
                    c.config_set("maxmemory-samples", 5)
                    c.config_set("maxmemory-eviction-tenacity", 10)
                    c.config_set("lfu-log-factor", 10)
                    c.config_set("lfu-decay-time", 1)
        for name, value in [
            ("maxmemory", "1xb"),
            ("maxmemory", "-1"),
            ("maxmemory-policy", "lru"),
            ("maxmemory-samples", "0"),
            ("maxmemory-eviction-tenacity", "101"),
            ("lfu-log-factor", "-1"),
        ]:
            errors = []
            for c in (r, o):
                with pytest.raises(redis.ResponseError) as e:
                    c.config_set(name, value)
                errors.append(str(e.value))
            assert errors[0] == errors[1], (name, value)
    finally:
        o.close()


def test_object_freq_and_idletime_errors_match_redis(r: Redis, redis_oracle: ServerHandle) -> None:
    o = redis_oracle.client(protocol=2)
    try:
        o.flushall()
        for c in (r, o):
            c.set("k", "v")
            assert c.object("freq", "nokey") is None
            with pytest.raises(redis.ResponseError) as e:
                c.object("freq", "k")
            assert str(e.value) == FREQ_ERROR
            assert c.object("idletime", "k") == 0
            c.config_set("maxmemory-policy", "allkeys-lfu")
            try:
                with pytest.raises(redis.ResponseError) as e:
                    c.object("idletime", "k")
                assert str(e.value) == IDLE_ERROR
                assert isinstance(c.object("freq", "k"), int)
                c.set("new", "v")
                assert c.object("freq", "new") == 5  # LFU_INIT_VAL
            finally:
                reset_limit(c)
    finally:
        o.flushall()
        o.close()


# --------------------------------------------------------------------------
# INFO and MEMORY
# --------------------------------------------------------------------------


def test_info_memory_fields_and_memory_usage(fresh: Redis) -> None:
    info = fresh.info("memory")
    for field in [
        "used_memory",
        "used_memory_human",
        "used_memory_rss",
        "used_memory_peak",
        "used_memory_peak_human",
        "used_memory_peak_perc",
        "used_memory_overhead",
        "used_memory_startup",
        "used_memory_dataset",
        "used_memory_dataset_perc",
        "maxmemory",
        "maxmemory_human",
        "maxmemory_policy",
        "mem_fragmentation_ratio",
        "mem_clients_normal",
        "mem_allocator",
    ]:
        assert field in info, field
    assert info["maxmemory_policy"] == "noeviction"
    # Redis allocates some structures on their first use (the keyspace's tables, ...): use
    # them once so that the baseline below holds them already.
    fresh.set("warm", "x")
    fresh.memory_usage("warm")
    fresh.execute_command("MEMORY", "STATS")
    fresh.delete("warm")
    before = used(fresh)
    fresh.set("big", b"x" * 1_000_000)
    assert used(fresh) - before >= 1_000_000
    usage = fresh.memory_usage("big")
    assert usage is not None and 1_000_000 <= usage < 1_100_000
    assert fresh.memory_usage("nokey") is None
    stats = fresh.execute_command("MEMORY", "STATS")
    assert b"keys.count" in stats or "keys.count" in stats
    fresh.delete("big")
    # Redis keeps a connection's query buffer as large as the last big argument (it hands the
    # buffer itself to the value and allocates a new one of the same size for the next), and
    # trims it later in its client cron: wait for that (fastkv's is trimmed at once, so this
    # returns immediately), then the memory of the deleted value must be gone.
    assert wait_until(lambda: query_buffer(fresh) < 100_000, 5)
    assert used(fresh) < before + 100_000
    stats_info = fresh.info("stats")
    assert {"evicted_keys", "expired_keys", "keyspace_hits", "keyspace_misses"} <= set(stats_info)


# --------------------------------------------------------------------------
# Which keys go
# --------------------------------------------------------------------------


@pytest.mark.parametrize("policy", POLICIES)
def test_policy_keeps_the_limit_and_spares_persistent_keys(fresh: Redis, policy: str) -> None:
    """Half the keys have a TTL. Filling past the limit evicts; under volatile-* the keys
    without a TTL never go (once only they remain, writes fail with OOM)."""
    fresh.config_set("maxmemory-policy", policy)
    persistent = [f"p{i}" for i in range(1000)]
    fill(fresh, range(1000), "p")
    limit = limit_for(fresh, 2000)
    fresh.config_set("maxmemory", limit)
    fill(fresh, range(6000), "t", ex=100_000)
    assert used(fresh) <= limit * 1.05
    evicted = int(fresh.info("stats")["evicted_keys"])
    assert evicted > 0
    if policy.startswith("volatile"):
        assert present(fresh, persistent) == set(persistent)
        # Fill with persistent keys until only they are left: then OOM.
        with pytest.raises(redis.exceptions.OutOfMemoryError):
            for i in range(20_000):
                fresh.set(f"q{i}", VALUE)
        assert fresh.get("p1") == VALUE  # reads keep working
    else:
        assert len(present(fresh, persistent)) < 1000


def test_volatile_ttl_takes_the_nearest_deadline_first(fresh: Redis) -> None:
    fresh.config_set("maxmemory-policy", "volatile-ttl")
    fresh.config_set("maxmemory-samples", 10)
    base = used(fresh)
    n = 4000
    p = fresh.pipeline(transaction=False)
    for i in range(n):
        p.set(f"t{i}", VALUE, ex=100_000 + i * 10)  # deadline grows with i
    p.execute()
    per_key = (used(fresh) - base) / n
    # Keep about half.
    fresh.config_set("maxmemory", int(base + per_key * n / 2))
    fresh.ping()
    assert wait_until(lambda: int(fresh.info("stats")["evicted_keys"]) >= n // 3, 5)
    names = [f"t{i}" for i in range(n)]
    left = present(fresh, names)
    gone = [i for i in range(n) if f"t{i}" not in left]
    near_half = sum(1 for i in gone if i < n // 2)
    # Sampled, not exact: Redis 7.0 gets about 86% here, fastkv over 90%.
    assert near_half / len(gone) > 0.8, (len(gone), near_half)


def test_lru_keeps_recently_read_keys(fresh: Redis) -> None:
    fresh.config_set("maxmemory-policy", "allkeys-lru")
    fresh.config_set("maxmemory-samples", 10)
    base = used(fresh)
    n = 4000
    fill(fresh, range(n))
    per_key = (used(fresh) - base) / n
    time.sleep(2.1)  # the access clock has a one-second resolution
    hot = [f"k{i}" for i in range(0, n, 10)]
    p = fresh.pipeline(transaction=False)
    for k in hot:
        p.get(k)
    p.execute()
    assert fresh.object("idletime", "k1") >= 2
    assert fresh.object("idletime", "k0") == 0
    fresh.config_set("maxmemory", int(base + per_key * n / 2))
    fresh.ping()
    assert wait_until(lambda: int(fresh.info("stats")["evicted_keys"]) >= n // 3, 5)
    assert len(present(fresh, hot)) >= len(hot) * 0.97


def test_lfu_keeps_frequently_read_keys(fresh: Redis) -> None:
    fresh.config_set("maxmemory-policy", "allkeys-lfu")
    fresh.config_set("maxmemory-samples", 10)
    base = used(fresh)
    n = 4000
    fill(fresh, range(n))
    per_key = (used(fresh) - base) / n
    hot = [f"k{i}" for i in range(0, n, 10)]
    p = fresh.pipeline(transaction=False)
    for _ in range(30):
        for k in hot:
            p.get(k)
    p.execute()
    assert fresh.object("freq", "k0") > 5
    assert fresh.object("freq", "k1") == 5
    fresh.config_set("maxmemory", int(base + per_key * n / 2))
    fresh.ping()
    assert wait_until(lambda: int(fresh.info("stats")["evicted_keys"]) >= n // 3, 5)
    assert len(present(fresh, hot)) >= len(hot) * 0.97


def test_config_set_maxmemory_lower_at_runtime(fresh: Redis) -> None:
    fresh.config_set("maxmemory-policy", "allkeys-random")
    base = used(fresh)
    fill(fresh, range(20_000))
    limit = base + (used(fresh) - base) // 4
    fresh.config_set("maxmemory", limit)
    # No further command needed: the background pass absorbs the drop in slices.
    # (INFO's own reply buffer is counted too: allow 1%.)
    assert wait_until(lambda: used(fresh) <= limit * 1.01, 10)
    size = fresh.dbsize()
    assert 2000 < size < 10_000
    # Each command's latency stays small while it happens (slices, not one pause).
    fresh.config_set("maxmemory", base + 1000 * 400)
    worst = 0.0
    for _ in range(50):
        t = time.perf_counter()
        fresh.ping()
        worst = max(worst, time.perf_counter() - t)
    assert worst < 0.25


# --------------------------------------------------------------------------
# The limit under load
# --------------------------------------------------------------------------


def test_limit_holds_under_a_write_flood(server_factory: ServerFactory) -> None:
    h = server_factory()
    admin = h.client(protocol=2)
    admin.config_set("maxmemory-policy", "allkeys-lru")
    limit = used(admin) + 8 * 1024 * 1024
    admin.config_set("maxmemory", limit)
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        c = h.client(protocol=2)
        try:
            i = 0
            while not stop.is_set():
                p = c.pipeline(transaction=False)
                for _ in range(20):
                    p.set(f"w{n}:{i}", VALUE)
                    i += 1
                p.execute(raise_on_error=False)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            c.close()

    samples: list[int] = []
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(50)]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 4.0
        while time.monotonic() < deadline:
            samples.append(used(admin))
            time.sleep(0.01)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    assert not errors, errors[:3]
    assert int(admin.info("stats")["evicted_keys"]) > 0
    worst = max(samples)
    assert worst <= limit * 1.05, (worst, limit, statistics.mean(samples))
    admin.close()


# --------------------------------------------------------------------------
# Embedded
# --------------------------------------------------------------------------


def test_embedded_store_takes_the_settings() -> None:
    fastkv: Any = import_fastkv()
    try:
        s = fastkv.Store(maxmemory="100mb", maxmemory_policy="allkeys-lru")
    except ValueError as e:  # an old build that refused maxmemory
        pytest.skip(f"fastkv build without eviction: {e}")
    assert s.execute_command("CONFIG", "GET", "maxmemory") == {b"maxmemory": b"104857600"}
    assert s.execute_command("CONFIG", "GET", "maxmemory-policy") == {
        b"maxmemory-policy": b"allkeys-lru"
    }
    s.execute_command("CONFIG", "SET", "maxmemory", "1")
    s.execute_command("CONFIG", "SET", "maxmemory-policy", "noeviction")
    with pytest.raises(Exception, match="OOM command not allowed"):
        s.set("k", "v")
    s.execute_command("CONFIG", "SET", "maxmemory", "0")
    s.set("k", "v")
    assert s.get("k") == b"v"
