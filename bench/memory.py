"""Memory per key: the same datasets loaded into fastkv-server and redis-server.

For each dataset, both servers start empty (no persistence, loopback), the data is loaded
through pipelined redis-py, and we read `used_memory` from INFO memory and the process RSS
(/proc/<pid>/status VmRSS), each minus the empty server's figure, divided by the key count.

Until fastkv's counting allocator lands, its `used_memory` is its RSS, so compare RSS with
RSS (the honest figure for both) and read `used_memory` as Redis's own accounting.

    python bench/memory.py [--scale 1.0] [--only hashes,zsets]

Prints a table and writes bench/results/memory.json. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
from spine import RESULTS, free_port, start, stop  # noqa: E402

Loader = Callable[[redis.client.Pipeline, int], None]


def strings(value_len: int, ttl: bool) -> Loader:
    value = b"v" * value_len

    def load(p: redis.client.Pipeline, i: int) -> None:
        if ttl:
            p.set(b"key:%016d" % i, value, ex=100_000)
        else:
            p.set(b"key:%016d" % i, value)

    return load


def hashes(p: redis.client.Pipeline, i: int) -> None:
    p.hset(b"hash:%012d" % i, mapping={b"f%d" % f: b"value-%d" % f for f in range(5)})


def zsets(p: redis.client.Pipeline, i: int) -> None:
    p.zadd(b"zset:%012d" % i, {b"member-%d" % m: m * 1.5 for m in range(10)})


def lists(p: redis.client.Pipeline, i: int) -> None:
    p.rpush(b"list:%012d" % i, *[b"item-%d" % m for m in range(10)])


DATASETS: dict[str, tuple[int, Loader]] = {
    "strings_10b": (1_000_000, strings(10, False)),
    "strings_100b": (1_000_000, strings(100, False)),
    "strings_10b_ttl": (1_000_000, strings(10, True)),
    "hashes_5_fields": (100_000, hashes),
    "zsets_10_members": (100_000, zsets),
    "lists_10_items": (100_000, lists),
}


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def figures(r: redis.Redis, pid: int) -> tuple[int, int]:
    info = r.info("memory")
    return int(info["used_memory"]), rss(pid)


def measure(cmd: list[str], n: int, load: Loader) -> dict[str, float]:
    port = free_port()
    proc = start(cmd, port)
    try:
        r = redis.Redis(port=port, protocol=2)
        base_used, base_rss = figures(r, proc.pid)
        p = r.pipeline(transaction=False)
        for i in range(n):
            load(p, i)
            if i % 1000 == 999:
                p.execute()
        p.execute()
        if r.dbsize() != n:
            raise RuntimeError(f"{cmd[0]}: loaded {r.dbsize()} keys, expected {n}")
        used, resident = figures(r, proc.pid)
        return {
            "used_memory_per_key": (used - base_used) / n,
            "rss_per_key": (resident - base_rss) / n,
        }
    finally:
        stop(proc)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every key count")
    ap.add_argument("--only", default="", help="comma-separated dataset names")
    a = ap.parse_args()
    fastkv_cmd = os.environ.get("FASTKV_SERVER", shutil.which("fastkv-server") or "")
    redis_cmd = shutil.which("redis-server")
    if not fastkv_cmd or not redis_cmd:
        print("need fastkv-server and redis-server on PATH", file=sys.stderr)
        return 2
    only = {s for s in a.only.split(",") if s}
    results: dict[str, Any] = {}
    print(f"{'dataset':18} {'keys':>9} {'redis used/key':>15} {'redis rss/key':>14} "
          f"{'fastkv rss/key':>15} {'rss ratio':>10}")
    for name, (n, load) in DATASETS.items():
        if only and name not in only:
            continue
        n = max(1, int(n * a.scale))
        try:
            red = measure([redis_cmd], n, load)
            fkv = measure(fastkv_cmd.split(), n, load)
        except (RuntimeError, redis.ResponseError) as e:
            print(f"{name:18} skipped: {e}")
            continue
        ratio = fkv["rss_per_key"] / red["rss_per_key"] if red["rss_per_key"] else float("nan")
        results[name] = {"keys": n, "redis": red, "fastkv": fkv, "rss_ratio": ratio}
        print(f"{name:18} {n:>9} {red['used_memory_per_key']:>15.1f} {red['rss_per_key']:>14.1f} "
              f"{fkv['rss_per_key']:>15.1f} {ratio:>10.2f}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "memory.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
