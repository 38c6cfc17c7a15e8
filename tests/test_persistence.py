"""RDB persistence: SAVE, LASTSAVE, INFO persistence, SHUTDOWN/SIGTERM saves, loading at
start-up, and the migration path both ways — a dump written by fastkv loads in a real
redis-server, and a dump written by redis-server loads in fastkv, with the same answers.

Every test also runs against real Redis (`FASTKV_SERVER=redis-server`), which is how the
expectations here were checked; only log texts are fastkv-specific.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import SERVER_CMD, ServerFactory
from helpers import (
    ServerHandle,
    encode_command,
    free_port,
    oracle_command,
    server_args,
    start_server,
    stop_server,
    wait_until,
)

# Databases the data set spreads over.
DBS = (0, 1, 5)
# The TTL given to volatile keys (seconds); loaded TTLs must stay within a few seconds of it.
TTL = 1000


def _shutdown(handle: ServerHandle, *args: str) -> bytes:
    with handle.raw() as c:
        c.send(encode_command("SHUTDOWN", *args))
        return c.read_until_closed(5)


# The command that creates each collection type.
COLLECTIONS = ("hset", "sadd", "zadd", "rpush")


def collections(handle: ServerHandle) -> set[str]:
    """The collection types the server knows (they land in fastkv one at a time)."""
    with handle.raw() as c:
        # One entry per name: an array for a known command, a null for an unknown one.
        return {
            cmd
            for cmd in COLLECTIONS
            if c.command("COMMAND", "INFO", cmd).split(b"\r\n")[1] not in (b"*-1", b"$-1", b"_")
        }


def fill(handle: ServerHandle, kinds: set[str]) -> None:
    """Strings with and without TTLs in several databases, plus the collection types in
    `kinds`, in small (compact) and large (full) encodings."""
    for db in DBS:
        c = handle.client(protocol=2, db=db)
        c.set(f"s:{db}", f"plain-{db}")
        c.set(f"ttl:{db}", f"volatile-{db}", ex=TTL)
        c.set(f"int:{db}", 12345 + db)
        c.set(f"big-int:{db}", 3_000_000_000 + db)
        c.set(f"neg:{db}", -7)
        c.set(f"empty:{db}", "")
        c.set(f"bin:{db}", b"\x00\x01\xff\r\n" * 3)
        c.set(f"long:{db}", "abcdefghij" * 300)  # Redis LZF-compresses this
        c.set(str(4242 + db), "numeric key")
        c.set(f"ms:{db}", "px", px=TTL * 1000 + 500)
    c = handle.client(protocol=2, db=0)
    if "hset" in kinds:
        c.hset("h:small", mapping={"f1": "v1", "f2": "2"})
        c.hset("h:big", mapping={f"f{i}": f"v{i}" for i in range(300)})
        c.expire("h:small", TTL)
    if "sadd" in kinds:
        c.sadd("set:ints", *range(10))
        c.sadd("set:many-ints", *range(1000))
        c.sadd("set:strs", "a", "b", "c")
        c.sadd("set:many-strs", *[f"m{i}" for i in range(300)])
    if "zadd" in kinds:
        c.zadd("z:small", {"a": 1, "b": 2.5, "c": -3})
        c.zadd("z:big", {f"m{i}": i / 3 for i in range(300)})
        c.zadd("z:inf", {"lo": float("-inf"), "hi": float("inf")})
    if "rpush" in kinds:
        c.rpush("l:small", "a", "b", 1, 2)
        c.rpush("l:big", *[f"e{i}" for i in range(1000)])


def _value(c: Any, key: bytes, kind: str) -> Any:
    if kind == "string":
        return c.get(key)
    if kind == "hash":
        return sorted(c.hgetall(key).items())
    if kind == "set":
        return sorted(c.smembers(key))
    if kind == "zset":
        return c.zrange(key, 0, -1, withscores=True)
    if kind == "list":
        return c.lrange(key, 0, -1)
    raise AssertionError(f"unexpected type {kind} for {key!r}")


def snapshot(handle: ServerHandle) -> dict[int, dict[bytes, tuple[str, Any, int]]]:
    """Every key of every database: (type, value, TTL in seconds or -1)."""
    out: dict[int, dict[bytes, tuple[str, Any, int]]] = {}
    for db in range(16):
        c = handle.client(protocol=2, db=db)
        keys = c.keys("*")
        if not keys:
            continue
        entries = {}
        for k in keys:
            kind = c.type(k).decode()
            entries[k] = (kind, _value(c, k, kind), c.ttl(k))
        out[db] = entries
    return out


def assert_same_data(
    before: dict[int, dict[bytes, tuple[str, Any, int]]],
    after: dict[int, dict[bytes, tuple[str, Any, int]]],
) -> None:
    assert sorted(after) == sorted(before), "databases with keys"
    for db, entries in before.items():
        got = after[db]
        assert sorted(got) == sorted(entries), f"keys of db {db}"
        for k, (kind, value, ttl) in entries.items():
            gkind, gvalue, gttl = got[k]
            assert (gkind, gvalue) == (kind, value), f"db {db} key {k!r}"
            if ttl == -1:
                assert gttl == -1, f"db {db} key {k!r} gained a TTL"
            else:
                # Loaded deadlines are absolute: time passed, never more.
                assert ttl - 10 <= gttl <= ttl, f"db {db} key {k!r}: TTL {ttl} -> {gttl}"


def info_persistence(handle: ServerHandle) -> dict[str, Any]:
    return dict(handle.client(protocol=2).info("persistence"))


@pytest.fixture
def redis_cmd(redis_oracle: ServerHandle) -> list[str]:
    """The redis-server command line (skips, or fails in CI, when it is missing)."""
    cmd = oracle_command()
    assert cmd is not None
    return cmd


@pytest.fixture
def redis_servers(tmp_path: Path) -> Iterator[list[ServerHandle]]:
    """Real redis-servers a test starts itself; stopped afterwards."""
    started: list[ServerHandle] = []
    yield started
    for h in started:
        stop_server(h)


# --------------------------------------------------------------------------
# SAVE, LASTSAVE, INFO
# --------------------------------------------------------------------------


def test_lastsave_is_start_time_then_save_time(server_factory: ServerFactory) -> None:
    before = int(time.time())
    srv = server_factory()
    c = srv.client(protocol=2)
    start = int(c.lastsave().timestamp())
    assert before - 1 <= start <= int(time.time()) + 1
    info = info_persistence(srv)
    assert info["rdb_last_save_time"] == start
    assert info["rdb_changes_since_last_save"] == 0
    assert info["rdb_last_bgsave_status"] == "ok"

    c.set("a", "1")
    c.set("b", "2")
    assert info_persistence(srv)["rdb_changes_since_last_save"] == 2
    time.sleep(1.1)
    assert c.execute_command("SAVE") is True
    saved = int(c.lastsave().timestamp())
    assert saved > start
    info = info_persistence(srv)
    assert info["rdb_changes_since_last_save"] == 0
    assert info["rdb_last_save_time"] == saved
    assert info["rdb_saves"] == 1
    dump = srv.cwd / "dump.rdb"
    assert dump.read_bytes().startswith(b"REDIS0010")
    assert not list(srv.cwd.glob("temp-*.rdb"))


def test_save_arity_and_failure(server_factory: ServerFactory, tmp_path: Path) -> None:
    target = tmp_path / "vanishing"
    target.mkdir()
    srv = server_factory(["--dir", str(target)])
    with srv.raw() as c:
        assert c.command("SAVE", "x") == (b"-ERR wrong number of arguments for 'save' command\r\n")
        assert c.command("SET", "k", "v") == b"+OK\r\n"
        shutil.rmtree(target)
        # Redis answers a failed SAVE with a bare ERR; the reason is in the log.
        assert c.command("SAVE") == b"-ERR\r\n"
        assert c.command("INFO", "persistence").count(b"rdb_changes_since_last_save:1\r\n") == 1


@pytest.mark.fastkv_only
def test_save_logs_like_redis(server_factory: ServerFactory) -> None:
    srv = server_factory()
    srv.client(protocol=2).execute_command("SAVE")
    assert wait_until(lambda: "* DB saved on disk" in srv.log(), 5)


# --------------------------------------------------------------------------
# SHUTDOWN and signals
# --------------------------------------------------------------------------


def test_shutdown_save_then_restart_loads(server_factory: ServerFactory) -> None:
    srv = server_factory()
    fill(srv, collections(srv))
    expected = snapshot(srv)
    assert _shutdown(srv, "SAVE") == b""
    assert srv.proc.wait(5) == 0
    again = server_factory(["--dir", str(srv.cwd)])
    assert_same_data(expected, snapshot(again))
    info = info_persistence(again)
    assert info["rdb_last_load_keys_loaded"] == sum(len(v) for v in expected.values())
    assert info["rdb_last_load_keys_expired"] == 0


def test_shutdown_without_argument_follows_save_points(server_factory: ServerFactory) -> None:
    # The suite starts servers with `--save ""`: no save points, no dump.
    srv = server_factory()
    srv.client(protocol=2).set("k", "v")
    assert _shutdown(srv) == b""
    assert srv.proc.wait(5) == 0
    assert not (srv.cwd / "dump.rdb").exists()

    srv = server_factory(["--save", "3600", "1"])
    srv.client(protocol=2).set("k", "v")
    assert _shutdown(srv) == b""
    assert srv.proc.wait(5) == 0
    assert (srv.cwd / "dump.rdb").exists()


def test_failed_shutdown_save_keeps_running(server_factory: ServerFactory, tmp_path: Path) -> None:
    target = tmp_path / "vanishing"
    target.mkdir()
    srv = server_factory(["--dir", str(target)])
    srv.client(protocol=2).set("k", "v")
    shutil.rmtree(target)
    with srv.raw() as c:
        assert c.command("SHUTDOWN", "SAVE") == b"-ERR Errors trying to SHUTDOWN. Check logs.\r\n"
        assert c.command("GET", "k") == b"$1\r\nv\r\n"
    assert srv.alive()
    assert _shutdown(srv, "SAVE", "FORCE") == b""
    assert srv.proc.wait(5) == 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_saves_with_save_points(server_factory: ServerFactory, sig: signal.Signals) -> None:
    srv = server_factory(["--save", "3600", "1"])
    srv.client(protocol=2).set("k", "v")
    srv.proc.send_signal(sig)
    assert srv.proc.wait(10) == 0
    again = server_factory(["--dir", str(srv.cwd)])
    assert again.client(protocol=2).get("k") == b"v"


def test_signal_without_save_points_does_not_save(server_factory: ServerFactory) -> None:
    srv = server_factory()
    srv.client(protocol=2).set("k", "v")
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.proc.wait(10) == 0
    assert not (srv.cwd / "dump.rdb").exists()


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------


def test_keys_expired_at_load_are_skipped(server_factory: ServerFactory) -> None:
    srv = server_factory()
    c = srv.client(protocol=2)
    c.set("short", "x", px=300)
    c.set("long", "y", ex=TTL)
    c.execute_command("SAVE")
    time.sleep(0.5)
    again = server_factory(["--dir", str(srv.cwd)])
    c = again.client(protocol=2)
    assert c.keys("*") == [b"long"]
    info = info_persistence(again)
    assert (info["rdb_last_load_keys_loaded"], info["rdb_last_load_keys_expired"]) == (1, 1)


def _start_expecting_failure(workdir: Path, extra: list[str]) -> subprocess.CompletedProcess[str]:
    real = "redis-server" in Path(SERVER_CMD[0]).name
    argv = [*SERVER_CMD, *server_args(free_port(), extra, real_redis=real)]
    return subprocess.run(
        argv,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=20,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("damage", ["truncate", "flip", "version"])
def test_damaged_file_stops_start_up(
    server_factory: ServerFactory, tmp_path: Path, damage: str, is_real_redis: bool
) -> None:
    srv = server_factory()
    srv.client(protocol=2).set("key", "unique-value")
    srv.client(protocol=2).execute_command("SAVE")
    dump = srv.cwd / "dump.rdb"
    data = bytearray(dump.read_bytes())
    if damage == "truncate":
        data = data[: len(data) - 12]
    elif damage == "flip":
        data[data.index(b"unique-value") + 3] ^= 0x01
    else:
        data[5:9] = b"0011"
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "dump.rdb").write_bytes(bytes(data))
    done = _start_expecting_failure(broken, ["--dir", str(broken)])
    assert done.returncode == 1, done.stdout + done.stderr
    if not is_real_redis:
        out = done.stdout + done.stderr
        assert str(broken / "dump.rdb") in out and "offset" in out, out
        expected = {
            "truncate": "Unexpected EOF",
            "flip": "Wrong RDB checksum",
            "version": "Can't handle RDB format version 11",
        }[damage]
        assert expected in out, out


# --------------------------------------------------------------------------
# Interoperability with real Redis
# --------------------------------------------------------------------------


def test_dump_written_here_loads_in_redis(
    server_factory: ServerFactory,
    redis_cmd: list[str],
    redis_servers: list[ServerHandle],
    tmp_path: Path,
) -> None:
    srv = server_factory()
    fill(srv, collections(srv))
    expected = snapshot(srv)
    srv.client(protocol=2).execute_command("SAVE")
    moved = tmp_path / "to-redis"
    moved.mkdir()
    shutil.copy(srv.cwd / "dump.rdb", moved / "from-server.rdb")
    check = shutil.which("redis-check-rdb")
    if check:
        out = subprocess.run(
            [check, str(moved / "from-server.rdb")], capture_output=True, text=True, timeout=30
        )
        assert "RDB looks OK" in out.stdout, out.stdout + out.stderr
    redis = start_server(
        redis_cmd, tmp_path / "redis", ["--dir", str(moved), "--dbfilename", "from-server.rdb"]
    )
    redis_servers.append(redis)
    assert_same_data(expected, snapshot(redis))
    # Encodings Redis chose on load are the ones it would choose for the same data.
    c = redis.client(protocol=2)
    assert c.object("encoding", "int:0") == b"int"


def test_dump_written_by_redis_loads_here(
    server_factory: ServerFactory,
    redis_cmd: list[str],
    redis_servers: list[ServerHandle],
    tmp_path: Path,
) -> None:
    src_dir = tmp_path / "redis-src"
    redis = start_server(redis_cmd, src_dir, ["--dir", str(src_dir)])
    redis_servers.append(redis)
    # Only the types fastkv has: a dump holding a type it lacks is refused as a whole.
    fill(redis, collections(server_factory()))
    expected = snapshot(redis)
    assert redis.client(protocol=2).execute_command("SAVE") is True
    here = tmp_path / "from-redis"
    here.mkdir()
    shutil.copy(src_dir / "dump.rdb", here / "dump.rdb")
    loaded = server_factory(["--dir", str(here)])
    assert_same_data(expected, snapshot(loaded))
