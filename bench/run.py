"""Runs every benchmark part in one go (about 8 minutes on 2 cores: 461 s on a quiet run), then
draws the charts and writes bench/results/SUMMARY.md:

    python bench/run.py [--quick] [--rounds 3] [--fastkv-server PATH] [--skip memory,embedded]

Parts, each also runnable alone: server.py (redis-benchmark matrix), memory.py (bytes per key),
embedded.py (Python-loop ops/s), eviction.py (hit ratio per maxmemory-policy), pauses.py (other
clients' round trips while maxmemory is absorbed), charts.py (PNGs from the JSON), summary.py
(SUMMARY.md).
A part that fails is reported and the others still run; the exit code is then 1.
Not a test: nothing here fails on timing.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import charts
import embedded
import eviction
import memory
import pauses
import server
import summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="every part in its --quick form")
    ap.add_argument("--rounds", type=int, default=3, help="server matrix rounds")
    ap.add_argument("--fastkv-server", default=None, help="fastkv-server command to run")
    ap.add_argument(
        "--skip",
        default="",
        help="comma-separated parts: server,memory,embedded,eviction,pauses",
    )
    a = ap.parse_args(argv)
    skip = {s.strip() for s in a.skip.split(",") if s.strip()}
    quick = ["--quick"] if a.quick else []
    fkv = ["--fastkv-server", a.fastkv_server] if a.fastkv_server else []
    parts: list[tuple[str, Callable[[list[str]], int], list[str]]] = [
        ("server", server.main, [*quick, "--rounds", str(a.rounds), *fkv]),
        ("memory", memory.main, [*quick, *fkv]),
        ("embedded", embedded.main, quick),
        ("eviction", eviction.main, [*quick, *fkv]),
        ("pauses", pauses.main, [*quick, *fkv]),
        ("charts", charts.main, []),
        ("summary", summary.main, []),
    ]
    t0 = time.monotonic()
    failed: list[str] = []
    for name, fn, args in parts:
        if name in skip:
            print(f"== {name}: skipped")
            continue
        print(f"== {name} {' '.join(args)}  (at {time.monotonic() - t0:.0f} s)", flush=True)
        try:
            rc = fn(args)
        except SystemExit as e:  # a part that cannot start (missing tool) says why and exits
            rc = e.code if isinstance(e.code, int) else 1
            print(f"{name}: {e}", file=sys.stderr)
        if rc:
            failed.append(name)
    print(f"== done in {time.monotonic() - t0:.0f} s" + (f"; FAILED: {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
