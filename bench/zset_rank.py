"""Sorted-set rank queries must not slow down with size: ZRANK and ZRANGE by rank on a
1,000,000-member sorted set against a 1,000-member one (target: within 2x), on fastkv and
on redis-server in the same run.

    python bench/zset_rank.py [--big 1000000] [--small 1000] [--requests 200000]

Prints a table and writes bench/results/zset_rank.json. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys

import redis
from common import HOST, RESULTS, free_port, start, stop

RPS = re.compile(r"([\d.]+) requests per second")


def load(r: redis.Redis, key: str, n: int) -> None:
    p = r.pipeline(transaction=False)
    for start_i in range(0, n, 1000):
        p.zadd(key, {f"m:{i}": i for i in range(start_i, min(n, start_i + 1000))})
        if start_i % 50_000 == 0:
            p.execute()
    p.execute()


def bench(port: int, requests: int, *cmd: str) -> float:
    out = subprocess.run(
        [
            "redis-benchmark",
            "-h",
            HOST,
            "-p",
            str(port),
            "-n",
            str(requests),
            "-c",
            "50",
            "-P",
            "16",
            "-q",
            *cmd,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    ).stdout
    m = RPS.search(out.replace("\r", "\n").splitlines()[-1] if out else "")
    return float(m.group(1)) if m else float("nan")


def run(cmd: list[str], big: int, small: int, requests: int) -> dict[str, float]:
    port = free_port()
    proc = start(cmd, port)
    try:
        r = redis.Redis(port=port)
        load(r, "big", big)
        load(r, "small", small)
        res = {}
        for name, key, n in (("big", "big", big), ("small", "small", small)):
            mid = f"m:{n // 2}"
            res[f"zrank_{name}"] = bench(port, requests, "ZRANK", key, mid)
            res[f"zrange_{name}"] = bench(
                port, requests, "ZRANGE", key, str(n // 2), str(n // 2 + 9)
            )
        return res
    finally:
        stop(proc)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--big", type=int, default=1_000_000)
    ap.add_argument("--small", type=int, default=1_000)
    ap.add_argument("--requests", type=int, default=200_000)
    a = ap.parse_args()
    fastkv_cmd = os.environ.get("FASTKV_SERVER", shutil.which("fastkv-server") or "")
    redis_cmd = shutil.which("redis-server")
    if not fastkv_cmd or not redis_cmd or not shutil.which("redis-benchmark"):
        print("need fastkv-server, redis-server and redis-benchmark on PATH", file=sys.stderr)
        return 2
    results = {
        "redis": run([redis_cmd], a.big, a.small, a.requests),
        "fastkv": run(fastkv_cmd.split(), a.big, a.small, a.requests),
    }
    print(f"requests/s, -c 50 -P 16; sorted sets of {a.big:,} (big) and {a.small:,} (small)")
    for server, res in results.items():
        for q in ("zrank", "zrange"):
            b, s = res[f"{q}_big"], res[f"{q}_small"]
            print(f"  {server:6} {q:6} big {b:>12,.0f}  small {s:>12,.0f}  small/big {s / b:.2f}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "zset_rank.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
