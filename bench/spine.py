"""The spine's headline figures, from one run on one machine.

- `redis-benchmark -t set,get -c 50 -n N -P 16 -q` against fastkv-server and redis-server
  (same settings: no persistence, loopback), alternating the two for `--rounds` rounds;
- `Store.get` / `Store.set` operations per second from a Python loop, beside a `dict`'s.

Prints a table and writes bench/results/spine.json. Not a test: nothing here fails on timing.

    python bench/spine.py [--requests 1000000] [--rounds 1] [--ops 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from typing import Any

from common import HOST, RESULTS, cpu_model, free_port, start, stop, wait_ready

# Re-exported for scripts that import them from here (zset_rank.py, older ones).
__all__ = ["HOST", "RESULTS", "cpu_model", "free_port", "start", "stop", "wait_ready"]


LINE = re.compile(r"^(\S+): ([\d.]+) requests per second(?:, p50=([\d.]+) msec)?")


def redis_benchmark(port: int, requests: int) -> dict[str, dict[str, float]]:
    out = subprocess.run(
        [
            "redis-benchmark",
            "-h",
            HOST,
            "-p",
            str(port),
            "-t",
            "set,get",
            "-c",
            "50",
            "-n",
            str(requests),
            "-P",
            "16",
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    ).stdout
    rows: dict[str, dict[str, float]] = {}
    for raw in out.replace("\r", "\n").splitlines():
        m = LINE.match(raw.strip())
        if m:
            rows[m.group(1)] = {"rps": float(m.group(2)), "p50_ms": float(m.group(3) or "nan")}
    return rows


def embedded(ops: int) -> dict[str, float]:
    import fastkv

    store = fastkv.Store()
    d: dict[bytes, bytes] = {}
    keys = [b"key:%d" % (i % 1000) for i in range(1000)]
    val = b"x" * 10
    res: dict[str, float] = {}
    for name, fn in (
        ("Store.set", lambda k: store.set(k, val)),
        ("Store.get", store.get),
        ("dict set", lambda k: d.__setitem__(k, val)),
        ("dict get", d.get),
    ):
        n = ops
        t0 = time.perf_counter()
        i = 0
        while i < n:
            fn(keys[i % 1000])
            i += 1
        res[name] = n / (time.perf_counter() - t0)
    return res


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--ops", type=int, default=1_000_000)
    a = ap.parse_args()

    fastkv_cmd = os.environ.get("FASTKV_SERVER", shutil.which("fastkv-server") or "")
    redis_cmd = shutil.which("redis-server")
    if not fastkv_cmd or not redis_cmd or not shutil.which("redis-benchmark"):
        print("need fastkv-server, redis-server and redis-benchmark on PATH", file=sys.stderr)
        return 2

    server: dict[str, list[dict[str, dict[str, float]]]] = {"fastkv": [], "redis": []}
    for _ in range(a.rounds):
        for name, cmd in (("redis", [redis_cmd]), ("fastkv", fastkv_cmd.split())):
            port = free_port()
            proc = start(cmd, port)
            try:
                server[name].append(redis_benchmark(port, a.requests))
            finally:
                stop(proc)

    summary: dict[str, Any] = {
        "machine": {
            "cores": os.cpu_count(),
            "cpu": cpu_model(),
            "python": platform.python_version(),
        },
        "server": {},
        "embedded": embedded(a.ops),
    }
    print(f"redis-benchmark -t set,get -c 50 -n {a.requests} -P 16 -q  (median of {a.rounds})")
    for test in ("SET", "GET"):
        f = statistics.median(r[test]["rps"] for r in server["fastkv"])
        r = statistics.median(r[test]["rps"] for r in server["redis"])
        summary["server"][test] = {"fastkv_rps": f, "redis_rps": r, "ratio": f / r}
        print(f"  {test:4} fastkv {f:>12,.0f}/s   redis {r:>12,.0f}/s   ratio {f / r:.2f}")
    print(f"embedded, Python loop of {a.ops} ops:")
    for k, v in summary["embedded"].items():
        print(f"  {k:10} {v:>12,.0f}/s")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "spine.json").write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
