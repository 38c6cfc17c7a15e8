"""Embedded: operations per second of get, set, incr, hset and zadd from a plain Python loop.

Backends: `fastkv.Store`; a Python `dict` (the floor: get = dict.get, set = __setitem__, incr /
hset / zadd as small functions on a dict and dicts of dicts); `fakeredis.FakeRedis`; `pydirs`
(its public `Cache`, and its native class beside it for reference; it has no sorted sets); redis-py
to a redis-server on 127.0.0.1 with protocol=3, unpipelined and pipelined by 100; and
`fastkv.Redis` (the redis-py surface, in-process) when the installed fastkv has it.

Every backend runs the same loops over 1,000 keys (bytes names, 10-byte values): each trial is
at most `--ops` operations and at most `--budget` seconds (ops/s = operations done / time);
the best of `--trials` trials is reported. A backend that is missing is recorded with the reason.

    python bench/embedded.py [--ops 300000] [--trials 3] [--budget 1.5] [--quick]

Prints a table and writes bench/results/embedded.json. Not a test.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from common import HOST, fastkv_server_cmd, machine_facts, redis_server_cmd, running_server
from common import write_results as write_json

OPS = ("get", "set", "incr", "hset", "zadd")
NKEYS = 1_000
VALUE = b"x" * 10
FIELD = b"f"

Fn = Callable[..., Any]


@dataclass
class Backend:
    """The callables for each operation (None: not offered), and how to batch them."""

    name: str
    fns: dict[str, Fn | None]
    flush: Callable[[], Any] | None = None  # called after every `batch` operations
    batch: int = NKEYS
    note: str = ""
    missing: dict[str, str] = field(default_factory=dict)  # op -> why it is not measured


def dict_backend() -> Backend:
    d: dict[bytes, Any] = {}

    def incr(k: bytes) -> int:
        v: int = d.get(k, 0) + 1
        d[k] = v
        return v

    def hset(k: bytes, f: bytes, v: bytes) -> None:
        d.setdefault(k, {})[f] = v

    def zadd(k: bytes, mapping: dict[bytes, float]) -> None:
        d.setdefault(k, {}).update(mapping)

    return Backend(
        "dict",
        {"get": d.get, "set": d.__setitem__, "incr": incr, "hset": hset, "zadd": zadd},
        note="floor: dict.get / dict.__setitem__; incr, hset, zadd as 2-line Python functions",
    )


def redis_like(name: str, client: Any, note: str = "") -> Backend:
    """A backend for anything with redis-py's method names."""
    return Backend(
        name,
        {op: getattr(client, op, None) for op in OPS},
        note=note,
    )


def pipelined(name: str, client: Any, batch: int) -> Backend:
    pipe = client.pipeline(transaction=False)
    return Backend(
        name,
        {op: getattr(pipe, op) for op in OPS},
        flush=pipe.execute,
        batch=batch,
        note=f"redis-py pipeline(transaction=False), execute() every {batch} commands",
    )


@contextmanager
def backends(with_redis: bool) -> Iterator[tuple[list[Backend], dict[str, str]]]:
    """Builds every backend available; yields them and the skipped ones with reasons."""
    out: list[Backend] = [dict_backend()]
    skipped: dict[str, str] = {}
    with ExitStack() as stack:
        import fastkv

        out.append(redis_like("fastkv.Store", fastkv.Store(), "fastkv.Store(), in-process"))
        if hasattr(fastkv, "Redis"):
            try:
                out.append(redis_like("fastkv.Redis", fastkv.Redis(), "fastkv.Redis(), in-process"))
            except Exception as e:  # noqa: BLE001 - record whatever stops it
                skipped["fastkv.Redis"] = f"fastkv.Redis() failed: {e!r}"
        else:
            skipped["fastkv.Redis"] = (
                f"not in the installed fastkv {getattr(fastkv, '__version__', '?')} "
                "(being built this session)"
            )
        try:
            import pydirs
            from pydirs import _pydirs

            out.append(
                redis_like("pydirs", pydirs.Cache(), "pydirs.Cache(), its public in-process API")
            )
            out.append(
                redis_like(
                    "pydirs native",
                    _pydirs.Cache(),
                    "pydirs._pydirs.Cache, the Rust class under pydirs.Cache (reference)",
                )
            )
        except ImportError as e:
            skipped["pydirs"] = f"not installed ({e}); pip install pydirs"
        try:
            import fakeredis

            out.append(redis_like("fakeredis", fakeredis.FakeRedis(), "fakeredis.FakeRedis()"))
        except ImportError as e:
            skipped["fakeredis"] = f"not installed ({e})"
        if with_redis:
            import redis

            server = stack.enter_context(running_server("redis", redis_server_cmd()))
            client = redis.Redis(host=HOST, port=server.port, protocol=3)
            stack.callback(client.close)
            out.append(
                redis_like(
                    "redis-py RESP3",
                    client,
                    "redis-py to redis-server on 127.0.0.1, protocol=3, one round trip per op",
                )
            )
            out.append(pipelined("redis-py RESP3 pipe100", client, 100))
        else:
            skipped["redis-py RESP3"] = "--no-redis"
        for b in out:
            for op in OPS:
                if b.fns.get(op) is None:
                    b.missing[op] = f"{b.name} has no {op}"
        yield out, skipped


def run_op(b: Backend, op: str, max_ops: int, budget_s: float) -> tuple[int, float]:
    """One trial of `op` on `b`: (operations done, seconds)."""
    fn = b.fns[op]
    if fn is None:
        raise ValueError(f"{b.name} has no {op}")
    prefix = {"get": b"key:", "set": b"key:", "incr": b"n:", "hset": b"h:", "zadd": b"z:"}[op]
    keys = [prefix + b"%d" % i for i in range(NKEYS)]
    batches = [keys[i : i + b.batch] for i in range(0, NKEYS, b.batch)]
    maps = [[(k, {b"m": float(i)}) for i, k in enumerate(bk)] for bk in batches]
    flush = b.flush
    gc.collect()
    done = 0
    t0 = time.perf_counter()
    deadline = t0 + budget_s
    while True:
        for j, bk in enumerate(batches):
            if op == "get" or op == "incr":
                for k in bk:
                    fn(k)
            elif op == "set":
                for k in bk:
                    fn(k, VALUE)
            elif op == "hset":
                for k in bk:
                    fn(k, FIELD, VALUE)
            else:
                for k, m in maps[j]:
                    fn(k, m)
            if flush is not None:
                flush()
            done += len(bk)
            if done >= max_ops or time.perf_counter() > deadline:
                return done, time.perf_counter() - t0


def prefill(b: Backend) -> None:
    """Writes the keys `get` reads, so every get is a hit."""
    fn = b.fns.get("set")
    if fn is None:
        return
    for i in range(NKEYS):
        fn(b"key:%d" % i, VALUE)
        if b.flush is not None and i % b.batch == b.batch - 1:
            b.flush()
    if b.flush is not None:
        b.flush()


def measure(
    bks: list[Backend], max_ops: int, trials: int, budget_s: float
) -> dict[str, dict[str, Any]]:
    res: dict[str, dict[str, Any]] = {}
    for b in bks:
        prefill(b)
        entry: dict[str, Any] = {"note": b.note, "ops": {}}
        for op in OPS:
            if op in b.missing:
                entry["ops"][op] = {"ops_per_s": None, "missing": b.missing[op]}
                continue
            runs = [run_op(b, op, max_ops, budget_s) for _ in range(trials)]
            rates = [n / s for n, s in runs]
            entry["ops"][op] = {
                "ops_per_s": max(rates),
                "trials_ops_per_s": rates,
                "ops_per_trial": [n for n, _ in runs],
            }
        res[b.name] = entry
        shown = "  ".join(
            f"{v['ops_per_s']:>11,.0f}" if v["ops_per_s"] else f"{'n/a':>11}"
            for v in entry["ops"].values()
        )
        print(f"  {b.name:24} {shown}", flush=True)
    return res


def ratios(res: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """fastkv.Store (and fastkv.Redis) over each other backend, per op."""
    out: dict[str, Any] = {}
    for mine in ("fastkv.Store", "fastkv.Redis"):
        if mine not in res:
            continue
        for other, entry in res.items():
            if other == mine:
                continue
            row = {}
            for op in OPS:
                a = res[mine]["ops"][op]["ops_per_s"]
                b = entry["ops"][op]["ops_per_s"]
                row[op] = a / b if a and b else None
            out[f"{mine} / {other}"] = row
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--ops", type=int, default=300_000, help="max operations per trial")
    ap.add_argument("--trials", type=int, default=3, help="trials per op (best is reported)")
    ap.add_argument("--budget", type=float, default=1.5, help="max seconds per trial")
    ap.add_argument("--quick", action="store_true", help="--ops 50000 --trials 1 --budget 0.5")
    ap.add_argument("--no-redis", action="store_true", help="skip redis-py to redis-server")
    a = ap.parse_args(argv)
    if a.quick:
        a.ops, a.trials, a.budget = 50_000, 1, 0.5
    t0 = time.monotonic()
    print(f"embedded ops/s: best of {a.trials}, <= {a.ops:,} ops and <= {a.budget} s per trial")
    print(f"  {'backend':24} " + "  ".join(f"{op:>11}" for op in OPS))
    with backends(not a.no_redis) as (bks, skipped):
        res = measure(bks, a.ops, a.trials, a.budget)
    for name, why in skipped.items():
        print(f"  {name:24} skipped: {why}")
    data = {
        "machine": machine_facts(fastkv_server_cmd()),
        "config": {
            "keys": NKEYS,
            "value_bytes": len(VALUE),
            "max_ops_per_trial": a.ops,
            "trials": a.trials,
            "budget_s_per_trial": a.budget,
            "statistic": "best trial's operations / second",
            "loops": {
                "get": "for k in keys: fn(k)  (keys prefilled: every get hits)",
                "set": "for k in keys: fn(k, value)",
                "incr": "for k in keys: fn(k)",
                "hset": "for k in keys: fn(k, b'f', value)",
                "zadd": "for k, m in pairs: fn(k, {b'm': score})",
            },
        },
        "backends": res,
        "skipped": skipped,
        "ratios": ratios(res),
        "elapsed_s": time.monotonic() - t0,
    }
    path = write_json("embedded", data)
    print(f"wrote {path} ({data['elapsed_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
