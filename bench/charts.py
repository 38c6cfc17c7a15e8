"""PNG bar charts drawn from bench/results/{server,memory,embedded}.json (matplotlib, Agg).

- server.png: requests/s of fastkv and Redis per matrix row, at -P 1 and -P 16, with the ratio;
- memory.png: used_memory and RSS bytes per key per dataset, both servers;
- embedded.png: ops/s per operation per backend, log scale;
- eviction.png: hit ratio per maxmemory-policy, trace and cache size (drawn by eviction.py).

A missing JSON file only skips its chart.

    python bench/charts.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from common import RESULTS  # noqa: E402
from eviction import chart as eviction_chart  # noqa: E402

REDIS_COLOR = "#c0392b"
FASTKV_COLOR = "#2471a3"
OTHERS = ["#d62728", "#9467bd", "#8c564b", "#e377c2", "#ff7f0e", "#2ca02c", "#17becf", "#bcbd22"]


def load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    if not path.exists():
        print(f"  no {path.name}: chart skipped")
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def machine_line(data: dict[str, Any]) -> str:
    m = data.get("machine", {})
    return f"{m.get('cores', '?')} cores, {m.get('cpu', '?')}, {m.get('when_utc', '')}"


def server_chart(data: dict[str, Any]) -> Path:
    fig, axes = plt.subplots(2, 1, figsize=(12, 9))
    for ax, pipeline in zip(axes, (1, 16), strict=False):
        rows = [r for r in data["rows"] if r["pipeline"] == pipeline]
        xs = list(range(len(rows)))
        red = [r["redis"]["rps"] for r in rows]
        fkv = [r["fastkv"]["rps"] for r in rows]
        w = 0.4
        ax.bar([x - w / 2 for x in xs], red, w, label="redis-server 7.0.15", color=REDIS_COLOR)
        ax.bar([x + w / 2 for x in xs], fkv, w, label="fastkv-server", color=FASTKV_COLOR)
        for x, r in zip(xs, rows, strict=False):
            top = max(r["redis"]["rps"], r["fastkv"]["rps"])
            ax.annotate(
                f"{r['ratio']:.2f}x",
                (x, top),
                textcoords="offset points",
                xytext=(0, 3),
                ha="center",
                fontsize=8,
                color="green" if r["ratio"] >= 1.0 else "black",
            )
        ax.set_xticks(xs)
        ax.set_xticklabels([r["test"] for r in rows], fontsize=9)
        ax.set_ylabel("requests / s (median)")
        ax.set_title(f"redis-benchmark -c 50 -P {pipeline} -r 1000000 (label: fastkv/Redis)")
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.set_ylim(0, max(red + fkv) * 1.15)
        ax.legend(loc="upper right", fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    rounds = data.get("config", {}).get("rounds", "?")
    fig.suptitle(
        f"Server throughput, median of {rounds} rounds — {machine_line(data)}", fontsize=10
    )
    fig.tight_layout()
    path = RESULTS / "server.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def memory_chart(data: dict[str, Any]) -> Path:
    ds = data["datasets"]
    names = list(ds)
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5))
    for ax, metric, title in (
        (axes[0], "used_memory_per_key", "used_memory / key (INFO memory)"),
        (axes[1], "rss_per_key", "RSS / key (/proc VmRSS)"),
    ):
        xs = list(range(len(names)))
        red = [ds[n]["redis"][metric] for n in names]
        fkv = [ds[n]["fastkv"][metric] for n in names]
        w = 0.4
        ax.bar([x - w / 2 for x in xs], red, w, label="redis-server", color=REDIS_COLOR)
        ax.bar([x + w / 2 for x in xs], fkv, w, label="fastkv-server", color=FASTKV_COLOR)
        for x, r, f in zip(xs, red, fkv, strict=False):
            if r:
                ax.annotate(
                    f"{f / r:.2f}x",
                    (x, max(r, f)),
                    textcoords="offset points",
                    xytext=(0, 3),
                    ha="center",
                    fontsize=8,
                )
        ax.set_xticks(xs)
        ax.set_xticklabels([n.replace("_", "\n", 1) for n in names], fontsize=8)
        ax.set_ylabel("bytes per key (empty server subtracted)")
        ax.set_title(title)
        ax.set_ylim(0, max(red + fkv) * 1.15)
        ax.legend(fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(f"Memory per key (label: fastkv/Redis) — {machine_line(data)}", fontsize=10)
    fig.tight_layout()
    path = RESULTS / "memory.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def embedded_chart(data: dict[str, Any]) -> Path:
    backends = data["backends"]
    names = list(backends)
    ops = ["get", "set", "incr", "hset", "zadd"]
    fig, ax = plt.subplots(figsize=(13, 6))
    w = 0.8 / max(1, len(names))
    others = 0
    for i, name in enumerate(names):
        xs, ys = [], []
        for j, op in enumerate(ops):
            v = backends[name]["ops"].get(op, {}).get("ops_per_s")
            if v:
                xs.append(j - 0.4 + w * (i + 0.5))
                ys.append(v)
        if name == "dict":
            color: Any = "#999999"
        elif name.startswith("fastkv"):
            color = FASTKV_COLOR if name == "fastkv.Store" else "#5dade2"
        else:
            color = OTHERS[others % len(OTHERS)]
            others += 1
        ax.bar(xs, ys, w, label=name, color=color, edgecolor="black", linewidth=0.3)
    ax.set_yscale("log")
    ax.set_xticks(list(range(len(ops))))
    ax.set_xticklabels(ops)
    ax.set_ylabel("operations / s from a Python loop (log scale, best trial)")
    ax.grid(axis="y", which="both", alpha=0.3)
    ax.legend(fontsize=8, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.08))
    skipped = data.get("skipped", {})
    note = ("  Skipped: " + "; ".join(skipped)) if skipped else ""
    ax.set_title(f"Embedded ops/s — {machine_line(data)}.{note}", fontsize=10)
    fig.tight_layout()
    path = RESULTS / "embedded.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    drawn = []
    for name, draw in (
        ("server", server_chart),
        ("memory", memory_chart),
        ("embedded", embedded_chart),
        ("eviction", eviction_chart),
    ):
        data = load(name)
        if data is None:
            continue
        try:
            drawn.append(draw(data))
        except (KeyError, TypeError, ValueError) as e:
            print(f"  {name}.json has an unexpected shape ({e!r}): chart skipped")
    for p in drawn:
        print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
