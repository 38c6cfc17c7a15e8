"""Server throughput and latency: the redis-benchmark matrix against redis-server and
fastkv-server, started with the same settings (no persistence, 127.0.0.1).

Rows: PING_MBULK, SET, GET, INCR, LPUSH, RPOP, SADD, HSET, ZADD, LRANGE_100, MSET (10 keys), each
with `-c 50 -r 1000000`, at `-P 1` and `-P 16`. Each round starts both servers fresh and runs
every row on each, alternating which server goes first (by round and by row), so drift from
other load on the machine falls on both. Reported per row: the median over rounds of
requests/s, p50 and p99 (from `--csv`), and the ratio fastkv/Redis.

Also recorded per row, for both servers alike: CPU microseconds per request of the server
(run time of all its threads, from /proc/<pid>/task/*/schedstat around the run) and of
redis-benchmark (its rusage; for LRANGE_100 that includes the LPUSH run that fills the list,
against both servers). Wall-clock rates move with whatever else runs on the machine; CPU
per request moves much less, and at -P 1 redis-benchmark's own CPU per request is what sets
the rate (it uses a whole core, either server less), so these columns say whether a difference
in req/s is the server's doing or noise.

Any error reply, non-zero exit or missing row from redis-benchmark aborts the run: nothing
questionable is recorded. Not a test: nothing here fails on timing.

    python bench/server.py [--rounds 3] [--scale 1.0] [--quick] [--fastkv-server PATH]
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import resource
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from common import (
    HOST,
    Server,
    fastkv_server_cmd,
    machine_facts,
    need_tool,
    redis_server_cmd,
    running_server,
    write_results,
)

CLIENTS = 50
KEYSPACE = 1_000_000
PIPELINES = (1, 16)


@dataclass(frozen=True)
class Row:
    """One matrix row: the `-t` name, the test's title in the CSV, and -n at P1 / P16."""

    flag: str
    title: str
    n_p1: int
    n_p16: int

    @property
    def label(self) -> str:
        return self.title.split(" ")[0]

    def requests(self, pipeline: int, scale: float) -> int:
        base = self.n_p1 if pipeline == 1 else self.n_p16
        return max(1000, int(base * scale))


# -n per row: about 2 s per run on a busy 2-core machine (P1 ~25k/s, P16 ~250k/s there), so
# the whole matrix (11 rows x 2 pipelines x 2 servers x 3 rounds) takes about 4-5 minutes.
ROWS: tuple[Row, ...] = (
    Row("ping_mbulk", "PING_MBULK", 50_000, 400_000),
    Row("set", "SET", 50_000, 400_000),
    Row("get", "GET", 50_000, 400_000),
    Row("incr", "INCR", 50_000, 400_000),
    Row("lpush", "LPUSH", 50_000, 400_000),
    Row("rpop", "RPOP", 50_000, 400_000),
    Row("sadd", "SADD", 50_000, 400_000),
    Row("hset", "HSET", 50_000, 400_000),
    Row("zadd", "ZADD", 50_000, 300_000),
    Row("lrange_100", "LRANGE_100 (first 100 elements)", 20_000, 60_000),
    Row("mset", "MSET (10 keys)", 25_000, 80_000),
)

Sample = dict[str, float]  # rps, p50_ms, p99_ms, server_cpu_us, client_cpu_us (per request)
SAMPLE_KEYS = ("rps", "p50_ms", "p99_ms", "server_cpu_us", "client_cpu_us")


class BenchmarkError(RuntimeError):
    """redis-benchmark failed or printed something we cannot trust."""


def run_row(server: Server, row: Row, pipeline: int, requests: int) -> Sample:
    """Runs one redis-benchmark test against `server` and returns its figures."""
    cmd = [
        "redis-benchmark", "-h", HOST, "-p", str(server.port), "-c", str(CLIENTS),
        "-n", str(requests), "-P", str(pipeline), "-r", str(KEYSPACE), "-t", row.flag, "--csv",
    ]  # fmt: skip
    server_cpu0 = process_cpu_s(server.pid)
    # Only redis-benchmark is reaped meanwhile (the servers are reaped when they stop).
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
    except subprocess.TimeoutExpired as e:
        raise BenchmarkError(f"{server.name} {row.label} P{pipeline}: timed out") from e
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu1 = process_cpu_s(server.pid)
    client_cpu = (children1.ru_utime + children1.ru_stime) - (
        children0.ru_utime + children0.ru_stime
    )
    out, err = done.stdout, done.stderr
    where = f"{server.name} {row.label} -P {pipeline}"
    if done.returncode != 0 or "error" in out.lower():
        raise BenchmarkError(
            f"{where}: redis-benchmark exit {done.returncode}\n{out.strip()}\n{err.strip()}"
        )
    found = [r for r in csv.DictReader(io.StringIO(out)) if r.get("test") == row.title]
    if len(found) != 1:
        raise BenchmarkError(f"{where}: no row {row.title!r} in output:\n{out.strip()}")
    rec = found[0]
    try:
        sample = {
            "rps": float(rec["rps"]),
            "p50_ms": float(rec["p50_latency_ms"]),
            "p99_ms": float(rec["p99_latency_ms"]),
            "server_cpu_us": (server_cpu1 - server_cpu0) * 1e6 / requests,
            "client_cpu_us": client_cpu * 1e6 / requests,
        }
    except (KeyError, TypeError, ValueError) as e:
        raise BenchmarkError(f"{where}: unreadable CSV row {rec!r}") from e
    if not sample["rps"] > 0:
        raise BenchmarkError(f"{where}: zero throughput: {rec!r}")
    return sample


def process_cpu_s(pid: int) -> float:
    """CPU seconds a running process has used so far: the sum over its threads of
    /proc/<pid>/task/<tid>/schedstat's run time (ns; threads that already exited are not
    counted), else utime + stime from /proc/<pid>/stat (10 ms ticks)."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        tids = []
    total_ns, counted = 0, 0
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat", encoding="ascii") as f:
                total_ns += int(f.read().split()[0])
            counted += 1
        except (OSError, ValueError, IndexError):
            continue  # the thread just exited, or no schedstat
    if counted:
        return total_ns / 1e9
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        # The command name (field 2) may hold spaces: count fields after its closing ')'.
        fields = f.read().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def median_sample(samples: list[Sample]) -> Sample:
    return {k: statistics.median(s[k] for s in samples) for k in SAMPLE_KEYS}


def matrix(
    fastkv_cmd: list[str], rounds: int, scale: float, rows: tuple[Row, ...], verbose: bool = True
) -> dict[str, Any]:
    """Runs the whole matrix; returns the raw samples and the per-row medians."""
    cmds = {"redis": redis_server_cmd(), "fastkv": fastkv_cmd}
    raw: dict[str, dict[str, list[Sample]]] = {"redis": {}, "fastkv": {}}
    t0 = time.monotonic()
    for rnd in range(rounds):
        with ExitStack() as stack:
            servers = {
                name: stack.enter_context(running_server(name, c)) for name, c in cmds.items()
            }
            for i, row in enumerate(rows):
                for pipeline in PIPELINES:
                    n = row.requests(pipeline, scale)
                    order = ("redis", "fastkv") if (rnd + i) % 2 == 0 else ("fastkv", "redis")
                    for name in order:
                        s = run_row(servers[name], row, pipeline, n)
                        raw[name].setdefault(f"{row.label}/P{pipeline}", []).append(s)
                        if verbose:
                            print(
                                f"  round {rnd + 1} {row.label:10} P{pipeline:<2} {name:6} "
                                f"{s['rps']:>12,.0f}/s  p50 {s['p50_ms']:.3f}  "
                                f"p99 {s['p99_ms']:.3f} ms  CPU us/req server "
                                f"{s['server_cpu_us']:.2f} client {s['client_cpu_us']:.2f}",
                                flush=True,
                            )
        if verbose:
            print(f"round {rnd + 1}/{rounds} done at {time.monotonic() - t0:.0f} s", flush=True)

    table: list[dict[str, Any]] = []
    for row in rows:
        for pipeline in PIPELINES:
            key = f"{row.label}/P{pipeline}"
            red, fkv = median_sample(raw["redis"][key]), median_sample(raw["fastkv"][key])
            table.append(
                {
                    "test": row.label,
                    "pipeline": pipeline,
                    "requests": row.requests(pipeline, scale),
                    "redis": red,
                    "fastkv": fkv,
                    "ratio": fkv["rps"] / red["rps"],
                    "p99_ratio": fkv["p99_ms"] / red["p99_ms"] if red["p99_ms"] else None,
                }
            )
    summary: dict[str, Any] = {}
    for scope, sel in (("P1", (1,)), ("P16", (16,)), ("all", PIPELINES)):
        ratios = [r["ratio"] for r in table if r["pipeline"] in sel]
        p99_worse = [
            f"{r['test']}/P{r['pipeline']}"
            for r in table
            if r["pipeline"] in sel and r["fastkv"]["p99_ms"] > r["redis"]["p99_ms"]
        ]
        summary[scope] = {
            "min_ratio": min(ratios),
            "median_ratio": statistics.median(ratios),
            "rows_below_1": sum(1 for x in ratios if x < 1.0),
            "rows_p99_worse_than_redis": p99_worse,
        }
    return {
        "raw": raw,
        "rows": table,
        "summary": summary,
        "elapsed_s": time.monotonic() - t0,
    }


def print_table(result: dict[str, Any]) -> None:
    print(
        f"{'test':11} {'P':>3} {'redis rps':>12} {'fastkv rps':>12} {'ratio':>6} "
        f"{'p50 r/f ms':>13} {'p99 r/f ms':>15} {'srv us/req r/f':>15} {'cli us/req r/f':>15}"
    )
    for r in result["rows"]:
        red, fkv = r["redis"], r["fastkv"]
        print(
            f"{r['test']:11} {r['pipeline']:>3} {red['rps']:>12,.0f} {fkv['rps']:>12,.0f} "
            f"{r['ratio']:>6.2f} {red['p50_ms']:>6.3f}/{fkv['p50_ms']:<6.3f} "
            f"{red['p99_ms']:>7.3f}/{fkv['p99_ms']:<7.3f} "
            f"{red['server_cpu_us']:>7.2f}/{fkv['server_cpu_us']:<7.2f} "
            f"{red['client_cpu_us']:>7.2f}/{fkv['client_cpu_us']:<7.2f}"
        )
    for scope, s in result["summary"].items():
        print(f"{scope:4} median ratio {s['median_ratio']:.2f}, min {s['min_ratio']:.2f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3, help="rounds (each server per row per round)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every -n")
    ap.add_argument("--quick", action="store_true", help="-n x0.2 (a rough look in ~1 minute)")
    ap.add_argument("--only", default="", help="comma-separated -t names (default: all rows)")
    ap.add_argument("--fastkv-server", default=None, help="fastkv-server command to run")
    a = ap.parse_args(argv)
    need_tool("redis-benchmark")
    fastkv_cmd = fastkv_server_cmd(a.fastkv_server)
    scale = a.scale * (0.2 if a.quick else 1.0)
    only = {s.strip().lower() for s in a.only.split(",") if s.strip()}
    rows = tuple(r for r in ROWS if not only or r.flag in only)
    if not rows:
        print(f"no rows match --only {a.only!r}", file=sys.stderr)
        return 2
    print(f"server matrix: {len(rows)} rows x P{PIPELINES} x {a.rounds} rounds, -c {CLIENTS}")
    try:
        result = matrix(fastkv_cmd, a.rounds, scale, rows)
    except BenchmarkError as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return 1
    data = {
        "machine": machine_facts(fastkv_cmd),
        "config": {
            "tool": "redis-benchmark",
            "clients": CLIENTS,
            "keyspace": KEYSPACE,
            "pipelines": list(PIPELINES),
            "rounds": a.rounds,
            "scale": scale,
            "fastkv_server": fastkv_cmd,
            "server_args": "--bind 127.0.0.1 --save '' --appendonly no",
            "statistic": "median over rounds of requests/s, p50 and p99 (ms), and CPU us per "
            "request of the server and of redis-benchmark",
        },
        **result,
    }
    path = write_results("server", data)
    print_table(result)
    print(f"wrote {path} ({result['elapsed_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
