"""bench/results/SUMMARY.md from bench/results/{server,memory,embedded}.json: Markdown tables
with each issue-4 target beside the measured figure. A missing JSON only leaves out its section.

    python bench/summary.py
"""

from __future__ import annotations

import json
import sys
from typing import Any

from common import RESULTS
from eviction import markdown as eviction_section
from pauses import markdown as pauses_section

OPS = ("get", "set", "incr", "hset", "zadd")


def load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def yes(ok: bool) -> str:
    return "met" if ok else "**not met**"


def num(v: float | None, fmt: str = ",.0f") -> str:
    return "n/a" if v is None else format(v, fmt)


def machine_section(data: dict[str, Any]) -> list[str]:
    m = data["machine"]
    return [
        "## Machine",
        "",
        f"- {m['cores']} cores, CPU `{m['cpu']}`, kernel `{m['kernel']}`",
        f"- redis-server: `{m['redis_server']}`",
        f"- fastkv-server: `{m['fastkv_server']}`; fastkv package {m['fastkv']}",
        f"- Python {m['python']}, redis-py {m['redis_py']}, fakeredis {m['fakeredis']}, "
        f"pydirs {m['pydirs']}",
        f"- run at {m['when_utc']}",
        "",
    ]


def cpu(red: dict[str, float], fkv: dict[str, float], key: str) -> str:
    """`Redis / fastkv` CPU microseconds per request (n/a in results from before they were
    recorded)."""
    if key not in red or key not in fkv:
        return "n/a"
    return f"{red[key]:.2f} / {fkv[key]:.2f}"


def server_section(data: dict[str, Any]) -> list[str]:
    cfg = data["config"]
    out = [
        "## Server throughput and latency",
        "",
        f"redis-benchmark `-c {cfg['clients']} -r {cfg['keyspace']}`, both servers "
        f"`{cfg['server_args']}`; median of {cfg['rounds']} rounds (servers alternated). "
        "Target per row: fastkv/Redis >= 1.0, p99 no worse than Redis.",
        "",
        "CPU columns: microseconds of CPU per request, Redis / fastkv, of the server (all its "
        "threads) and of redis-benchmark (the client). At -P 1 the client uses a whole core "
        "against either server, so its CPU per request sets the rate there.",
        "",
        "| test | -P | -n | Redis req/s | fastkv req/s | ratio (target >= 1.0) "
        "| p50 ms Redis / fastkv | p99 ms Redis / fastkv (target: fastkv <= Redis) "
        "| server CPU us/req | client CPU us/req |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in data["rows"]:
        red, fkv = r["redis"], r["fastkv"]
        ratio = f"{r['ratio']:.2f}" if r["ratio"] >= 1.0 else f"**{r['ratio']:.2f}**"
        p99 = f"{red['p99_ms']:.3f} / {fkv['p99_ms']:.3f}"
        if fkv["p99_ms"] > red["p99_ms"]:
            p99 = f"{red['p99_ms']:.3f} / **{fkv['p99_ms']:.3f}**"
        out.append(
            f"| {r['test']} | {r['pipeline']} | {r['requests']:,} | {red['rps']:,.0f} "
            f"| {fkv['rps']:,.0f} | {ratio} | {red['p50_ms']:.3f} / {fkv['p50_ms']:.3f} | {p99} "
            f"| {cpu(red, fkv, 'server_cpu_us')} | {cpu(red, fkv, 'client_cpu_us')} |"
        )
    s = data["summary"]["all"]
    n = len(data["rows"])
    out += [
        "",
        "| target | measured | |",
        "|---|---|---|",
        f"| fastkv/Redis >= 1.0 on every row | min {s['min_ratio']:.2f}; "
        f"{s['rows_below_1']} of {n} rows below 1.0 | {yes(s['rows_below_1'] == 0)} |",
        f"| >= 1.2 at the median | median {s['median_ratio']:.2f} "
        f"(P1 {data['summary']['P1']['median_ratio']:.2f}, "
        f"P16 {data['summary']['P16']['median_ratio']:.2f}) "
        f"| {yes(s['median_ratio'] >= 1.2)} |",
        f"| p99 no worse than Redis | worse on {len(s['rows_p99_worse_than_redis'])} of {n} rows"
        f" | {yes(not s['rows_p99_worse_than_redis'])} |",
    ]
    cheaper = [
        r for r in data["rows"] if "server_cpu_us" in r["fastkv"] and "server_cpu_us" in r["redis"]
    ]
    if cheaper:
        below = sum(r["fastkv"]["server_cpu_us"] <= r["redis"]["server_cpu_us"] for r in cheaper)
        out.append(
            f"| (not a target) server CPU per request: fastkv <= Redis | on {below} of "
            f"{len(cheaper)} rows | |"
        )
    out += [
        "",
        "![server](server.png)",
        "",
    ]
    return out


MEMORY_TARGETS = {
    "strings_10b": ("used_memory <= 0.6x Redis", 0.6),
    "hashes_5_fields": ("used_memory <= 1.0x Redis", 1.0),
    "zsets_10_members": ("used_memory <= 1.0x Redis", 1.0),
}


def memory_section(data: dict[str, Any]) -> list[str]:
    ds = data["datasets"]
    out = [
        "## Memory per key",
        "",
        "Bytes per key: (figure after loading - figure of the empty server) / keys.",
        "",
        "| dataset | keys | used_memory Redis | used_memory fastkv | ratio "
        "| RSS Redis | RSS fastkv | RSS ratio | target | |",
        "|---|--:|--:|--:|--:|--:|--:|--:|---|---|",
    ]
    rss_proxy = False
    for name, d in ds.items():
        red, fkv = d["redis"], d["fastkv"]
        rss_proxy = rss_proxy or bool(fkv.get("used_memory_looks_like_rss"))
        target, verdict = MEMORY_TARGETS.get(name, ("", 0.0)), ""
        ur = d["used_memory_ratio"]
        if target[0] and ur is not None:
            verdict = yes(ur <= target[1])
        out.append(
            f"| {name} | {d['keys']:,} | {red['used_memory_per_key']:.1f} "
            f"| {fkv['used_memory_per_key']:.1f} | {num(ur, '.2f')} | {red['rss_per_key']:.1f} "
            f"| {fkv['rss_per_key']:.1f} | {num(d['rss_ratio'], '.2f')} | {target[0]} | {verdict} |"
        )
    der = data.get("derived", {})
    if "fastkv_ttl_bytes_per_key" in der:
        f_ttl = der["fastkv_ttl_bytes_per_key"]
        r_ttl = der["redis_ttl_bytes_per_key"]
        out += [
            "",
            "| TTL cost per key (strings_10b_ttl - strings_10b) | Redis | fastkv | target | |",
            "|---|--:|--:|---|---|",
            f"| used_memory | {r_ttl['used_memory_per_key']:.1f} B "
            f"| {f_ttl['used_memory_per_key']:.1f} B | fastkv <= 8 B (Redis ~40) "
            f"| {yes(f_ttl['used_memory_per_key'] <= 8)} |",
            f"| RSS | {r_ttl['rss_per_key']:.1f} B | {f_ttl['rss_per_key']:.1f} B | | |",
        ]
    if rss_proxy:
        out += [
            "",
            "Note: fastkv's `used_memory` is within 2% of its RSS here: it is still an RSS "
            "figure, not an allocator count, so its used_memory ratios compare RSS with "
            "Redis's allocator count.",
        ]
    out += ["", "![memory](memory.png)", ""]
    return out


def embedded_section(data: dict[str, Any]) -> list[str]:
    be = data["backends"]
    cfg = data["config"]
    out = [
        "## Embedded (operations / s from a Python loop)",
        "",
        f"Best of {cfg['trials']} trials, each <= {cfg['max_ops_per_trial']:,} operations and "
        f"<= {cfg['budget_s_per_trial']} s, over {cfg['keys']:,} keys.",
        "",
        "| backend | " + " | ".join(OPS) + " | what |",
        "|---|" + "--:|" * len(OPS) + "---|",
    ]
    for name, e in be.items():
        cells = [num(e["ops"][op]["ops_per_s"]) for op in OPS]
        out.append(f"| {name} | " + " | ".join(cells) + f" | {e['note']} |")
    for name, why in data.get("skipped", {}).items():
        out.append(f"| {name} | " + " | ".join("-" for _ in OPS) + f" | skipped: {why} |")

    def rate(b: str, op: str = "get") -> float | None:
        v = be.get(b, {}).get("ops", {}).get(op, {}).get("ops_per_s")
        return float(v) if v else None

    store = rate("fastkv.Store")
    rows = ["", "| target | measured | |", "|---|---|---|"]
    if store:
        d = rate("dict")
        rows.append(
            f"| `Store.get` >= 4,000,000/s | {store:,.0f}/s (dict.get in the same run: "
            f"{num(d)}/s) | {yes(store >= 4_000_000)} |"
        )
        for other, factor in (("fakeredis", 100), ("pydirs", 2), ("pydirs native", 2)):
            o = rate(other)
            if o:
                rows.append(
                    f"| `Store.get` >= {factor}x {other} | {store / o:.1f}x ({o:,.0f}/s) "
                    f"| {yes(store / o >= factor)} |"
                )
        for other in ("fakeredis", "pydirs"):
            per_op = []
            for op in OPS:
                a, b = rate("fastkv.Store", op), rate(other, op)
                per_op.append(f"{op} {a / b:.1f}x" if a and b else f"{op} n/a")
            rows.append(f"| (all ops, Store / {other}) | {', '.join(per_op)} | |")
    out += rows
    out += ["", "![embedded](embedded.png)", ""]
    return out


def main(argv: list[str] | None = None) -> int:
    server, memory, embedded = load("server"), load("memory"), load("embedded")
    eviction, pauses = load("eviction"), load("pauses")
    lines = [
        "# fastkv benchmark summary (issue 4)",
        "",
        "Generated by `python bench/run.py` (or `python bench/summary.py` from the JSON files in "
        "this directory). Figures come from one machine; a busy machine moves them.",
        "",
    ]
    first = next((d for d in (server, memory, embedded, eviction) if d is not None), None)
    if first is not None:
        lines += machine_section(first)
    for data, section in (
        (server, server_section),
        (memory, memory_section),
        (embedded, embedded_section),
        (eviction, eviction_section),
        (pauses, pauses_section),
    ):
        if data is None:
            continue
        try:
            lines += section(data)
        except (KeyError, TypeError) as e:
            lines += [f"(section skipped: results file has an unexpected shape: {e!r})", ""]
    path = RESULTS / "SUMMARY.md"
    path.write_text("\n".join(lines))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
