"""Memory per key: the same datasets loaded into fastkv-server and redis-server.

For each dataset both servers start empty (no persistence, 127.0.0.1); we read `used_memory`
(INFO memory) and the process RSS (/proc/<pid>/status VmRSS) of the empty server, load the
data as raw RESP over one socket (5,000 commands per write, every reply checked byte for byte),
read both figures again and report (after - empty) / keys, and fastkv/Redis ratios.

fastkv's `used_memory` is whatever its INFO reports (an RSS figure until its counting
allocator lands; `used_memory_looks_like_rss` flags that case). RSS is comparable either way.

    python bench/memory.py [--scale 1.0] [--quick] [--only strings_10b,hashes_5_fields]

Prints a table and writes bench/results/memory.json. Not a test.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from dataclasses import dataclass
from typing import Any

import redis
from common import (
    HOST,
    Server,
    fastkv_server_cmd,
    machine_facts,
    redis_server_cmd,
    rss_bytes,
    running_server,
    write_results,
)

CHUNK = 5_000
TTL_S = 100_000


def bulk(b: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(b), b)


@dataclass(frozen=True)
class Dataset:
    """`keys` commands, the i-th being `template % i` (the key name holds the only `%`); each
    must be answered by exactly `reply`."""

    name: str
    keys: int
    template: bytes
    reply: bytes
    note: str


def _key_cmd(name_fmt: bytes, name_len: int, *rest: bytes) -> bytes:
    """A command whose second part is a key name `name_fmt % i` of fixed length `name_len`."""
    verb, *tail = rest
    return (
        b"*%d\r\n" % (2 + len(tail))
        + bulk(verb)
        + b"$%d\r\n" % name_len
        + name_fmt
        + b"\r\n"
        + b"".join(bulk(t) for t in tail)
    )


def datasets() -> list[Dataset]:
    key = b"key:%015d"  # 19 bytes
    v10, v100 = b"v" * 10, b"v" * 100
    fields = [p for f in range(5) for p in (b"f%d" % f, b"value-%d" % f)]
    members = [p for m in range(10) for p in (b"%g" % (m * 1.5), b"member-%d" % m)]
    items = [b"item-%d" % m for m in range(10)]
    return [
        Dataset(
            "strings_10b",
            1_000_000,
            _key_cmd(key, 19, b"SET", v10),
            b"+OK\r\n",
            "1,000,000 SET of 19-byte names, 10-byte values",
        ),
        Dataset(
            "strings_100b",
            1_000_000,
            _key_cmd(key, 19, b"SET", v100),
            b"+OK\r\n",
            "1,000,000 SET of 19-byte names, 100-byte values",
        ),
        Dataset(
            "strings_10b_ttl",
            1_000_000,
            _key_cmd(key, 19, b"SET", v10, b"EX", b"%d" % TTL_S),
            b"+OK\r\n",
            f"as strings_10b, each with EX {TTL_S}",
        ),
        Dataset(
            "hashes_5_fields",
            100_000,
            _key_cmd(b"hash:%012d", 17, b"HSET", *fields),
            b":5\r\n",
            "100,000 hashes, 5 fields (f0..f4 -> value-0..4)",
        ),
        Dataset(
            "zsets_10_members",
            100_000,
            _key_cmd(b"zset:%012d", 17, b"ZADD", *members),
            b":10\r\n",
            "100,000 sorted sets, 10 members (member-0..9)",
        ),
        Dataset(
            "lists_10_items",
            100_000,
            _key_cmd(b"list:%012d", 17, b"RPUSH", *items),
            b":10\r\n",
            "100,000 lists, 10 items (item-0..9)",
        ),
    ]


class LoadError(RuntimeError):
    """A server answered a load command with something other than the expected reply."""


def recv_exact(sock: socket.socket, size: int) -> bytes:
    buf = bytearray()
    while len(buf) < size:
        chunk = sock.recv(min(1 << 20, size - len(buf)))
        if not chunk:
            raise LoadError("connection closed during load")
        buf += chunk
    return bytes(buf)


def load(port: int, ds: Dataset, n: int) -> None:
    """Sends the dataset's n commands, CHUNK at a time, checking every reply."""
    with socket.create_connection((HOST, port), timeout=60) as sock:
        for start in range(0, n, CHUNK):
            end = min(n, start + CHUNK)
            sock.sendall(b"".join(ds.template % i for i in range(start, end)))
            want = ds.reply * (end - start)
            try:
                got = recv_exact(sock, len(want))
            except TimeoutError as e:
                raise LoadError(f"{ds.name}: no full reply to commands {start}..{end}") from e
            if got != want:
                at = next(i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b)
                raise LoadError(f"{ds.name}: unexpected reply near {got[at : at + 80]!r}")


def figures(server: Server, client: redis.Redis) -> tuple[int, int]:
    info = client.info("memory")
    return int(info["used_memory"]), rss_bytes(server.pid)


def measure(name: str, cmd: list[str], ds: Dataset, n: int) -> dict[str, Any]:
    with running_server(name, cmd) as server:
        client = redis.Redis(host=HOST, port=server.port, protocol=2)
        try:
            base_used, base_rss = figures(server, client)
            t0 = time.monotonic()
            load(server.port, ds, n)
            load_s = time.monotonic() - t0
            size = int(client.dbsize())
            if size != n:
                raise LoadError(f"{name} {ds.name}: DBSIZE {size}, expected {n}")
            used, rss = figures(server, client)
        finally:
            client.close()
    return {
        "used_memory_per_key": (used - base_used) / n,
        "rss_per_key": (rss - base_rss) / n,
        "empty_used_memory": base_used,
        "empty_rss": base_rss,
        "used_memory": used,
        "rss": rss,
        "used_memory_looks_like_rss": abs(used - rss) <= 0.02 * rss,
        "load_s": load_s,
    }


def ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every key count")
    ap.add_argument("--quick", action="store_true", help="key counts x0.1")
    ap.add_argument("--only", default="", help="comma-separated dataset names")
    ap.add_argument("--fastkv-server", default=None, help="fastkv-server command to run")
    a = ap.parse_args(argv)
    fastkv_cmd = fastkv_server_cmd(a.fastkv_server)
    cmds = {"redis": redis_server_cmd(), "fastkv": fastkv_cmd}
    scale = a.scale * (0.1 if a.quick else 1.0)
    only = {s for s in a.only.split(",") if s}
    t0 = time.monotonic()
    results: dict[str, Any] = {}
    print(
        f"{'dataset':18} {'keys':>9} {'used/key r':>11} {'used/key f':>11} {'ratio':>6} "
        f"{'rss/key r':>10} {'rss/key f':>10} {'ratio':>6}"
    )
    for ds in datasets():
        if only and ds.name not in only:
            continue
        n = max(1000, int(ds.keys * scale))
        try:
            per = {name: measure(name, cmd, ds, n) for name, cmd in cmds.items()}
        except (LoadError, OSError, redis.RedisError) as e:
            print(f"FAILED: {ds.name}: {e}", file=sys.stderr)
            return 1
        red, fkv = per["redis"], per["fastkv"]
        results[ds.name] = {
            "keys": n,
            "note": ds.note,
            "redis": red,
            "fastkv": fkv,
            "used_memory_ratio": ratio(fkv["used_memory_per_key"], red["used_memory_per_key"]),
            "rss_ratio": ratio(fkv["rss_per_key"], red["rss_per_key"]),
        }
        print(
            f"{ds.name:18} {n:>9,} {red['used_memory_per_key']:>11.1f} "
            f"{fkv['used_memory_per_key']:>11.1f} "
            f"{results[ds.name]['used_memory_ratio'] or float('nan'):>6.2f} "
            f"{red['rss_per_key']:>10.1f} {fkv['rss_per_key']:>10.1f} "
            f"{results[ds.name]['rss_ratio'] or float('nan'):>6.2f}",
            flush=True,
        )
    derived: dict[str, Any] = {}
    if "strings_10b" in results and "strings_10b_ttl" in results:
        plain, ttl = results["strings_10b"], results["strings_10b_ttl"]
        for name in cmds:
            derived[f"{name}_ttl_bytes_per_key"] = {
                m: ttl[name][m] - plain[name][m] for m in ("used_memory_per_key", "rss_per_key")
            }
        print(
            "TTL adds per key (used_memory): redis "
            f"{derived['redis_ttl_bytes_per_key']['used_memory_per_key']:.1f} B, fastkv "
            f"{derived['fastkv_ttl_bytes_per_key']['used_memory_per_key']:.1f} B"
        )
    data = {
        "machine": machine_facts(fastkv_cmd),
        "config": {
            "scale": scale,
            "loader": f"raw RESP, {CHUNK} commands per write, replies checked",
            "fastkv_server": fastkv_cmd,
            "server_args": "--bind 127.0.0.1 --save '' --appendonly no",
            "per_key": "(figure after load - figure of the empty server) / keys",
        },
        "datasets": results,
        "derived": derived,
        "elapsed_s": time.monotonic() - t0,
    }
    path = write_results("memory", data)
    print(f"wrote {path} ({data['elapsed_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
