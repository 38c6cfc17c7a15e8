"""Pauses while `maxmemory` is absorbed: how long other clients wait while a server evicts a
large part of its keys, and what eviction costs under a write flood, on fastkv-server and
redis-server alike (issue 6: "no pause of more than a few milliseconds while a large limit
change or a big write is absorbed").

Each server starts empty (`--save "" --appendonly no`, allkeys-lru) and is loaded with
`--keys` keys of 100 B. Then, per scenario, a probe connection sends PING, waits for +PONG and
sleeps 0.5 ms, over and over, and records each round trip:

- `limit-drop`: CONFIG SET maxmemory to a quarter of used_memory; a monitor connection polls
  INFO memory every 10 ms (as monitoring does) until used_memory is within 1% of the limit.
  The pings sent from the CONFIG SET until then count.
- `big-write`: maxmemory = used_memory + 1 MB, then one SET of a `--big-mb` MB value, which
  forces the eviction of about that many bytes of keys. The pings from the SET until 1 s after
  its reply count.

And what eviction costs under load (`flood`): on a fresh server with maxmemory 50 MB,
redis-benchmark sends SETs of new keys (100 B values, -P 16, 50 clients) until the limit is
reached and 200,000 past it, then `--flood` more, each of which evicts about one key;
reported per policy: req/s, latency, the server's CPU microseconds per request (all its
threads) and the keys evicted meanwhile.

Prints a table and writes bench/results/pauses.json. Not a test: nothing here fails on timing.
A busy machine moves the figures; compare the two servers within one run.

    python bench/pauses.py [--quick] [--keys N] [--big-mb MB] [--flood N] [--fastkv-server PATH]
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import subprocess
import sys
import threading
import time
from typing import Any

from common import (
    HOST,
    fastkv_server_cmd,
    machine_facts,
    need_tool,
    redis_server_cmd,
    running_server,
    write_results,
)
from eviction import Conn, command
from server import process_cpu_s

PROBE_SLEEP_S = 0.0005
POLL_S = 0.01
ABSORB_TIMEOUT_S = 60.0
AFTER_REPLY_S = 1.0
LOAD_CHUNK = 1_000
VALUE = b"v" * 100


class Probe:
    """A connection that pings in a loop on its own thread, recording (start, round trip)."""

    def __init__(self, port: int) -> None:
        self.conn = Conn(port)
        self.samples: list[tuple[float, float]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            t = time.perf_counter()
            self.conn.call("PING")
            self.samples.append((t, time.perf_counter() - t))
            time.sleep(PROBE_SLEEP_S)

    def __enter__(self) -> Probe:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(30)
        self.conn.close()

    def between(self, lo: float, hi: float) -> list[float]:
        """Round trips (ms) of the pings sent in [lo, hi]."""
        return [1000 * d for t, d in list(self.samples) if lo <= t <= hi]


def load(c: Conn, keys: int) -> None:
    for lo in range(0, keys, LOAD_CHUNK):
        n = min(LOAD_CHUNK, keys - lo)
        c.send(b"".join(command(b"SET", b"key:%d" % i, VALUE) for i in range(lo, lo + n)))
        for _ in range(n):
            c.reply()


def summary(lat: list[float]) -> dict[str, Any]:
    if not lat:
        return {"pings": 0}
    s = sorted(lat)
    return {
        "pings": len(s),
        "p50_ms": round(statistics.median(s), 3),
        "p99_ms": round(s[min(len(s) - 1, int(len(s) * 0.99))], 3),
        "max_ms": round(s[-1], 3),
        "over_10ms": sum(1 for x in s if x > 10),
    }


def limit_drop(port: int) -> dict[str, Any]:
    c = Conn(port)
    used = c.used_memory()
    limit = used // 4
    evicted0 = int(c.info("stats")["evicted_keys"])
    with Probe(port) as probe:
        time.sleep(0.2)
        t0 = time.perf_counter()
        c.call("CONFIG", "SET", "maxmemory", limit)
        now = c.used_memory()
        while now > limit * 1.01 and time.perf_counter() - t0 < ABSORB_TIMEOUT_S:
            time.sleep(POLL_S)
            now = c.used_memory()
        t1 = time.perf_counter()
        lat = probe.between(t0, t1)
    out = {
        "used_before": used,
        "maxmemory": limit,
        "absorbed": now <= limit * 1.01,
        "absorb_ms": round(1000 * (t1 - t0)),
        "evicted_keys": int(c.info("stats")["evicted_keys"]) - evicted0,
        **summary(lat),
    }
    c.close()
    return out


def big_write(port: int, big_mb: int) -> dict[str, Any]:
    c = Conn(port)
    used = c.used_memory()
    c.call("CONFIG", "SET", "maxmemory", used + 1_000_000)
    evicted0 = int(c.info("stats")["evicted_keys"])
    # Built before the probe starts: building it holds Python's GIL long enough to stall the
    # probe's thread, which would be counted as a server pause (sending releases the GIL).
    payload = command(b"SET", b"big", b"b" * (big_mb << 20))
    with Probe(port) as probe:
        time.sleep(0.2)
        t0 = time.perf_counter()
        c.send(payload)
        reply = c.reply()
        t1 = time.perf_counter()
        if reply != b"OK":
            raise RuntimeError(f"SET of {big_mb} MB: {reply!r}")
        time.sleep(AFTER_REPLY_S)
        lat = probe.between(t0, t1 + AFTER_REPLY_S)
    out = {
        "value_mb": big_mb,
        "set_ms": round(1000 * (t1 - t0), 1),
        "evicted_keys": int(c.info("stats")["evicted_keys"]) - evicted0,
        **summary(lat),
    }
    c.close()
    return out


SCENARIOS = ("limit-drop", "big-write")
FLOOD_POLICIES = ("allkeys-lru", "allkeys-lfu")
FLOOD_LIMIT = "50mb"


def benchmark(port: int, requests: int) -> dict[str, float]:
    """redis-benchmark SETs of fresh keys (100 B, -P 16, 50 clients): its CSV figures."""
    cmd = [
        "redis-benchmark", "-h", HOST, "-p", str(port), "-c", "50", "-P", "16", "-d", "100",
        "-n", str(requests), "-r", "100000000", "-t", "set", "--csv",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    rows = [r for r in csv.DictReader(io.StringIO(done.stdout)) if r.get("test") == "SET"]
    if done.returncode != 0 or len(rows) != 1 or "error" in done.stdout.lower():
        raise RuntimeError(f"redis-benchmark: {done.returncode} {done.stdout} {done.stderr}")
    r = rows[0]
    return {
        "rps": float(r["rps"]),
        "p50_ms": float(r["p50_latency_ms"]),
        "p99_ms": float(r["p99_latency_ms"]),
    }


def flood(name: str, cmd: list[str], policy: str, requests: int) -> dict[str, Any]:
    with running_server(name, cmd) as s:
        c = Conn(s.port)
        c.call("CONFIG", "SET", "maxmemory", FLOOD_LIMIT, "maxmemory-policy", policy)
        # Up to the limit, then one more round so that evicting is the steady state (Redis
        # frees some memory of its own once the first round's clients are gone).
        fill = 0
        while int(c.info("stats")["evicted_keys"]) == 0 and fill < 5_000_000:
            benchmark(s.port, 200_000)
            fill += 200_000
        benchmark(s.port, 200_000)
        evicted0 = int(c.info("stats")["evicted_keys"])
        cpu0 = process_cpu_s(s.pid)
        out = benchmark(s.port, requests)
        cpu1 = process_cpu_s(s.pid)
        out["server_cpu_us"] = round((cpu1 - cpu0) * 1e6 / requests, 2)
        out["evicted_keys"] = int(c.info("stats")["evicted_keys"]) - evicted0
        held = c.call("DBSIZE")
        out["keys_held"] = held if isinstance(held, int) else 0
        c.close()
    print(
        f"{name:7} flood {policy:11} {out['rps']:>10,.0f} req/s  p50 {out['p50_ms']:.2f}  "
        f"p99 {out['p99_ms']:.2f} ms  server CPU {out['server_cpu_us']:.2f} us/req  "
        f"evicted {out['evicted_keys']:,}  held {out['keys_held']:,}",
        flush=True,
    )
    return out


def run(name: str, cmd: list[str], keys: int, big_mb: int) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for scenario in SCENARIOS:
        # A fresh server per scenario: the second must not start from the first's heap.
        with running_server(name, cmd) as s:
            c = Conn(s.port)
            c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
            load(c, keys)
            c.close()
            out[scenario] = (
                limit_drop(s.port) if scenario == "limit-drop" else big_write(s.port, big_mb)
            )
        r = out[scenario]
        extra = (
            f"absorbed in {r['absorb_ms']:,} ms"
            if scenario == "limit-drop"
            else f"SET of {big_mb} MB answered in {r['set_ms']:,.0f} ms"
        )
        print(
            f"{name:7} {scenario:11} pings {r.get('pings', 0):5,}  p50 {r.get('p50_ms', 0):6.2f}"
            f"  p99 {r.get('p99_ms', 0):6.2f}  max {r.get('max_ms', 0):7.2f} ms"
            f"  >10 ms: {r.get('over_10ms', 0):3}  evicted {r['evicted_keys']:,}; {extra}",
            flush=True,
        )
    return out


def markdown(data: dict[str, Any]) -> list[str]:
    cfg = data["config"]
    out = [
        "## Pauses while maxmemory is absorbed (issue 6)",
        "",
        f"`bench/pauses.py`: {cfg['keys']:,} keys of 100 B, allkeys-lru; a probe connection "
        "pings every 0.5 ms. `limit-drop`: maxmemory set to a quarter of used_memory, INFO "
        "memory polled every 10 ms until used_memory is within 1% of it. `big-write`: maxmemory "
        f"= used + 1 MB, then one SET of {cfg['big_mb']} MB; pings until 1 s after its reply. "
        "Round trips in ms.",
        "",
        "| scenario | server | pings | p50 | p99 | max | pings > 10 ms | keys evicted | time |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for scenario in SCENARIOS:
        for srv in ("redis", "fastkv"):
            r = data["servers"].get(srv, {}).get(scenario)
            if not r:
                continue
            took = (
                f"absorbed in {r['absorb_ms']:,} ms"
                if scenario == "limit-drop"
                else f"SET answered in {r['set_ms']:,.0f} ms"
            )
            out.append(
                f"| {scenario} | {srv} | {r.get('pings', 0):,} | {r.get('p50_ms', 0):.2f} "
                f"| {r.get('p99_ms', 0):.2f} | {r.get('max_ms', 0):.2f} | {r.get('over_10ms', 0)} "
                f"| {r['evicted_keys']:,} | {took} |"
            )
    floods = [
        (srv, policy, r)
        for policy in FLOOD_POLICIES
        for srv in ("redis", "fastkv")
        if (r := data["servers"].get(srv, {}).get("flood", {}).get(policy))
    ]
    if floods:
        out += [
            "",
            f"`flood`: SETs of new keys at maxmemory {cfg.get('flood_limit', FLOOD_LIMIT)} "
            f"(100 B values, -P 16, 50 clients), {cfg.get('flood', 0):,} requests once evicting "
            "is the steady state: each evicts about one key.",
            "",
            "| policy | server | req/s | p50 ms | p99 ms | server CPU us/req | keys evicted "
            "| keys held |",
            "|---|---|--:|--:|--:|--:|--:|--:|",
        ]
        for srv, policy, r in floods:
            out.append(
                f"| {policy} | {srv} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} "
                f"| {r['server_cpu_us']:.2f} | {r['evicted_keys']:,} | {r['keys_held']:,} |"
            )
    return [*out, ""]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="200,000 keys and an 8 MB write")
    ap.add_argument("--keys", type=int, default=None, help="keys loaded (default 1000000)")
    ap.add_argument("--big-mb", type=int, default=None, help="the big write's MB (default 32)")
    ap.add_argument(
        "--flood", type=int, default=None, help="SETs at the limit per policy (default 1000000)"
    )
    ap.add_argument("--servers", default="redis,fastkv")
    ap.add_argument("--fastkv-server", default=None, help="fastkv-server command to run")
    a = ap.parse_args(argv)
    keys = a.keys or (200_000 if a.quick else 1_000_000)
    big_mb = a.big_mb or (8 if a.quick else 32)
    flood_n = a.flood or (200_000 if a.quick else 1_000_000)
    need_tool("redis-benchmark")
    cmds: dict[str, list[str]] = {}
    for srv in (s.strip() for s in a.servers.split(",") if s.strip()):
        if srv == "redis":
            cmds[srv] = redis_server_cmd()
        elif srv == "fastkv":
            cmds[srv] = fastkv_server_cmd(a.fastkv_server)
        else:
            raise SystemExit(f"unknown server {srv!r} (known: redis, fastkv)")
    t0 = time.monotonic()
    servers: dict[str, dict[str, Any]] = {
        srv: dict(run(srv, cmd, keys, big_mb)) for srv, cmd in cmds.items()
    }
    for policy in FLOOD_POLICIES:
        for srv, cmd in cmds.items():
            servers[srv].setdefault("flood", {})[policy] = flood(srv, cmd, policy, flood_n)
    data = {
        "machine": machine_facts(cmds.get("fastkv")),
        "config": {
            "keys": keys,
            "big_mb": big_mb,
            "probe_sleep_s": PROBE_SLEEP_S,
            "flood": flood_n,
            "flood_limit": FLOOD_LIMIT,
        },
        "servers": servers,
        "elapsed_s": round(time.monotonic() - t0, 1),
    }
    path = write_results("pauses", data)
    print()
    print("\n".join(markdown(data)))
    print(f"wrote {path} in {data['elapsed_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
