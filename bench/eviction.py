"""Hit ratio under `maxmemory`: the same cache traces replayed against fastkv-server (each of its
eight `maxmemory-policy` values) and redis-server (the same policies), at cache sizes of 1% and
10% of the key space.

Traces (seeded, identical for every run):

- `zipf`: Zipf(0.99) over the key space (key ids shuffled once, so popularity is not ordered);
- `scan`: the same Zipf trace interrupted by one-time scans: bursts of keys never seen before
  or after, 10% of all requests, spread evenly after the first tenth;
- `shift`: Zipf(0.99) whose popular set moves every `requests / phases` requests (the rank ->
  key mapping is rotated by a large offset at each phase).

Replay as a cache, in batches of `--batch` requests: the batch's GETs are pipelined, then one
SET per distinct key that missed (value of `--value-size` bytes; under `volatile-*` policies
`SET ... EX 100000`, so every key is evictable and none expires during the run). Batching
changes recency slightly (a key missed twice in one batch misses twice); both servers see the
same batches. Hits are counted after a warm-up (the first tenth of each trace).

Cache size: both servers must hold the same number of keys (1% / 10% of the key space), but
bytes per key under a limit are neither equal between the servers nor constant over a run:
table sizes step with the key count (Redis: one table of 1,024 or 2,048 buckets around 1,000
keys; fastkv: 64 shard tables), and Redis's query buffer grows past 16 KB when a pipeline
exceeds it. So the limit is found per run, by iteration:
(1) a first guess per server, key kind (with or without TTL) and cache size: bytes per key
loaded without a limit, then corrected once under a limit (fill twice the cache size through
the replay's own pattern, (maxmemory - U0) / DBSIZE); U0 = used_memory after a warm-up batch;
(2) each row is replayed on a fresh server with maxmemory = U0 + limit, sampling DBSIZE every
`HELD_EVERY` batches over the counted part; if the mean keys held is off the cache size by
more than `--tolerance` (1%), the run is repeated with the limit scaled by target / held (at
most `--attempts` runs; the next row of the same server, kind and size starts from the limit
that worked). The table reports that mean; the JSON also the min, max, DBSIZE at the end and
the number of attempts.

Time: Redis keeps LRU time in seconds (fastkv in milliseconds), so the replay's speed changes
the LRU resolution a trace sees. When one server is much slower (a debug build), pace
both with `--rate`.

    python bench/eviction.py [--quick] [--fastkv-server PATH] [--servers redis,fastkv]
                             [--policies allkeys-lru,allkeys-lfu] [--traces zipf,scan]
                             [--requests N] [--rate REQ_PER_S] [--tolerance F] [--from-json]

Prints a table and writes bench/results/eviction.json and bench/results/eviction.png. Not a
test: nothing here fails on hit ratio. 127.0.0.1 only; every server is stopped on exit.
"""

from __future__ import annotations

import argparse
import bisect
import heapq
import itertools
import json
import random
import socket
import sys
import time
from collections import Counter, OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

from common import (
    HOST,
    RESULTS,
    fastkv_server_cmd,
    machine_facts,
    redis_server_cmd,
    running_server,
    write_results,
)

POLICIES = (
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "noeviction",
)
TRACES = ("zipf", "scan", "shift")
SERVERS = ("redis", "fastkv")
# Policies where both servers run the same algorithm (a random choice, the nearest deadline, no
# eviction): Redis runs them twice, as "redis-repeat", so that the table shows how far two
# runs of the same server fall apart (the yardstick for a small difference between servers).
SAME_ALGORITHM = ("allkeys-random", "volatile-random", "volatile-ttl", "noeviction")
REPEAT = "redis-repeat"
SEED = 20261126
ZIPF_S = 0.99
TTL_S = 100_000
SAMPLES = 5
SCAN_FRACTION = 0.10
SCAN_BURSTS = 10
SHIFT_PHASES = 6
WARMUP_FRACTION = 0.10
LOAD_CHUNK = 1_000
SOCKET_TIMEOUT_S = 120.0
TARGET_SCAN_MARGIN = 0.03
HELD_EVERY = 20  # batches between two DBSIZE samples


# ---------------------------------------------------------------------------------------------
# A minimal RESP2 client over one socket (pipelines, no per-command overhead).


class RespError:
    """An error reply (returned, not raised, where the caller counts them)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"RespError({self.text!r})"


Reply: TypeAlias = bytes | int | None | RespError | list["Reply"]


def command(*parts: bytes) -> bytes:
    return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)


class Conn:
    """One RESP connection to 127.0.0.1:`port`."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection((HOST, port), timeout=SOCKET_TIMEOUT_S)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.pos = 0

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Conn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _more(self) -> None:
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("server closed the connection")
        self.buf = self.buf[self.pos :] + chunk
        self.pos = 0

    def _line(self) -> bytes:
        for _ in range(1_000_000):
            end = self.buf.find(b"\r\n", self.pos)
            if end >= 0:
                line = self.buf[self.pos : end]
                self.pos = end + 2
                return line
            self._more()
        raise RuntimeError("reply line never ended")

    def reply(self) -> Reply:
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            for _ in range(1_000_000):
                if len(self.buf) - self.pos >= n + 2:
                    break
                self._more()
            value = self.buf[self.pos : self.pos + n]
            self.pos += n + 2
            return value
        if kind == b"+":
            return rest
        if kind == b":":
            return int(rest)
        if kind == b"-":
            return RespError(rest.decode(errors="replace"))
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise RuntimeError(f"unexpected reply line {line[:60]!r}")

    def call(self, *parts: bytes | str | int) -> Reply:
        """One command; an error reply raises."""
        self.send(command(*(p if isinstance(p, bytes) else str(p).encode() for p in parts)))
        r = self.reply()
        if isinstance(r, RespError):
            raise RuntimeError(f"{parts!r}: {r.text}")
        return r

    def info(self, section: str) -> dict[str, str]:
        raw = self.call("INFO", section)
        if not isinstance(raw, bytes):
            raise RuntimeError(f"INFO {section}: {raw!r}")
        out: dict[str, str] = {}
        for line in raw.decode().splitlines():
            if ":" in line and not line.startswith("#"):
                k, v = line.split(":", 1)
                out[k] = v
        return out

    def used_memory(self) -> int:
        return int(self.info("memory")["used_memory"])


# ---------------------------------------------------------------------------------------------
# Traces.


@dataclass(frozen=True)
class Trace:
    name: str
    keys: list[int]  # key ids; ids >= keyspace are one-time scan keys
    description: str


def zipf_ranks(rng: random.Random, n: int, count: int) -> list[int]:
    """`count` ranks in [0, n) drawn from Zipf(ZIPF_S): P(rank r) ~ 1 / (r + 1)^s."""
    cdf = list(itertools.accumulate(1.0 / (r + 1) ** ZIPF_S for r in range(n)))
    total = cdf[-1]
    last = n - 1
    return [min(bisect.bisect_left(cdf, rng.random() * total), last) for _ in range(count)]


def make_traces(keyspace: int, requests: int) -> dict[str, Trace]:
    rng = random.Random(SEED)
    perm = list(range(keyspace))
    rng.shuffle(perm)
    zipf = [perm[r] for r in zipf_ranks(rng, keyspace, requests)]

    # scan: SCAN_FRACTION of the final trace in SCAN_BURSTS bursts of fresh ids.
    scan_total = round(requests * SCAN_FRACTION / (1 - SCAN_FRACTION))
    burst = max(1, scan_total // SCAN_BURSTS)
    start = requests // 10
    step = (requests - start) // SCAN_BURSTS
    at = {start + i * step for i in range(SCAN_BURSTS)}
    scan: list[int] = []
    fresh = keyspace
    for i, k in enumerate(zipf):
        if i in at:
            scan.extend(range(fresh, fresh + burst))
            fresh += burst
        scan.append(k)

    # shift: a new Zipf sequence; at each phase the rank -> key mapping moves by `offset`.
    offset = keyspace // SHIFT_PHASES + 7919
    period = max(1, requests // SHIFT_PHASES)
    shift = [
        (perm[r] + (i // period) * offset) % keyspace
        for i, r in enumerate(zipf_ranks(rng, keyspace, requests))
    ]
    return {
        "zipf": Trace("zipf", zipf, f"Zipf({ZIPF_S}) over {keyspace:,} keys"),
        "scan": Trace(
            "scan",
            scan,
            f"the zipf trace + {SCAN_BURSTS} one-time scans of {burst:,} new keys "
            f"({SCAN_FRACTION:.0%} of requests)",
        ),
        "shift": Trace(
            "shift",
            shift,
            f"Zipf({ZIPF_S}); the popular set moves every {period:,} requests "
            f"({SHIFT_PHASES} phases)",
        ),
    }


def exact_lru_hit_ratio(keys: list[int], capacity: int, warmup: int) -> float:
    """Hit ratio of a true LRU cache of `capacity` keys on `keys`, one request at a time."""
    cache: OrderedDict[int, None] = OrderedDict()
    hits = 0
    for i, k in enumerate(keys):
        if k in cache:
            cache.move_to_end(k)
            if i >= warmup:
                hits += 1
        else:
            cache[k] = None
            if len(cache) > capacity:
                cache.popitem(last=False)
    return hits / max(1, len(keys) - warmup)


# ---------------------------------------------------------------------------------------------
# Replay.


def perfect_lfu_hit_ratio(keys: list[int], capacity: int, warmup: int, batch: int) -> float:
    """Hit ratio of an LFU without the approximations of Redis's and fastkv's: an exact count of
    every request of every key since the start (kept for keys evicted too: unlimited history),
    the whole cache searched for the victim (no sampling). Replayed like the servers: a batch's
    GETs, then each missed key stored once and the least-counted key (ties: least recent)
    evicted, which may be the key just stored (an admission filter, as W-TinyLFU has)."""
    counts: dict[int, int] = {}
    cached: dict[int, tuple[int, int]] = {}  # key -> its (count, last access) in the heap
    heap: list[tuple[int, int, int]] = []  # (count, last access, key), stale entries skipped
    clock = hits = 0
    for lo in range(0, len(keys), batch):
        missed: dict[int, None] = {}
        for i in range(lo, min(lo + batch, len(keys))):
            k = keys[i]
            clock += 1
            n = counts.get(k, 0) + 1
            counts[k] = n
            if k in cached:
                cached[k] = (n, clock)
                heapq.heappush(heap, (n, clock, k))
                if i >= warmup:
                    hits += 1
            else:
                missed[k] = None
        for k in missed:
            clock += 1
            cached[k] = (counts[k], clock)
            heapq.heappush(heap, (counts[k], clock, k))
            while len(cached) > capacity:
                n, at, v = heapq.heappop(heap)
                if cached.get(v) == (n, at):
                    del cached[v]
    return hits / max(1, len(keys) - warmup)


def hindsight_hit_ratio(keys: list[int], capacity: int, warmup: int) -> float:
    """Hit ratio of the best fixed set of `capacity` keys, chosen knowing the whole trace (the
    most requested keys), each stored at its first request (that one is a miss)."""
    chosen = {k for k, _ in Counter(keys).most_common(capacity)}
    seen: set[int] = set()
    hits = 0
    for i, k in enumerate(keys):
        if k in chosen:
            if k in seen and i >= warmup:
                hits += 1
            seen.add(k)
    return hits / max(1, len(keys) - warmup)


def belady_hit_ratio(keys: list[int], capacity: int, warmup: int) -> float:
    """Hit ratio of Belady's MIN, which knows the future: on a miss the key is stored unless it
    is never requested again, and the key requested furthest ahead goes (possibly the new one).
    Per request, not in batches, so no policy replayed in batches can beat it."""
    never = len(keys)
    next_use = [never] * len(keys)
    last: dict[int, int] = {}
    for i in range(len(keys) - 1, -1, -1):
        next_use[i] = last.get(keys[i], never)
        last[keys[i]] = i
    cached: dict[int, int] = {}  # key -> its next request
    heap: list[tuple[int, int]] = []  # (-next request, key), stale entries skipped
    hits = 0
    for i, k in enumerate(keys):
        if k in cached and i >= warmup:
            hits += 1
        nxt = next_use[i]
        if nxt == never:
            cached.pop(k, None)
            continue
        cached[k] = nxt
        heapq.heappush(heap, (-nxt, k))
        while len(cached) > capacity:
            neg, v = heapq.heappop(heap)
            if cached.get(v) == -neg:
                del cached[v]
    return hits / max(1, len(keys) - warmup)


def references(trace: Trace, capacity: int, batch: int) -> dict[str, Any]:
    """What policies outside the servers get on a trace: exact LRU, perfect LFU, the best
    fixed set in hindsight and Belady's MIN (see their functions)."""
    warm = int(len(trace.keys) * WARMUP_FRACTION)
    return {
        "capacity": capacity,
        "hit_ratio": exact_lru_hit_ratio(trace.keys, capacity, warm),
        "perfect_lfu": perfect_lfu_hit_ratio(trace.keys, capacity, warm, batch),
        "hindsight": hindsight_hit_ratio(trace.keys, capacity, warm),
        "belady": belady_hit_ratio(trace.keys, capacity, warm),
    }


def key_name(i: int) -> bytes:
    return b"key:%08d" % i


# The replay's commands as templates (key id, then the value): `key:%08d` is 12 bytes for ids
# below 10**8.
GET_T = b"*2\r\n$3\r\nGET\r\n$12\r\nkey:%08d\r\n"
DBSIZE_C = b"*1\r\n$6\r\nDBSIZE\r\n"


def set_template(value: bytes, ttl: bool) -> bytes:
    """`SET key:<id> value [EX TTL_S]` with the key id left as `%08d`."""
    head = b"*%d\r\n$3\r\nSET\r\n$12\r\nkey:%%08d\r\n" % (5 if ttl else 3)
    body = b"$%d\r\n" % len(value) + value.replace(b"%", b"%%") + b"\r\n"
    tail = command(b"EX", b"%d" % TTL_S)[4:] if ttl else b""
    return head + body + tail


@dataclass
class RunResult:
    trace: str
    size: str
    cache_keys_target: int
    server: str
    policy: str
    hit_ratio: float
    hit_ratio_excl_scan: float | None
    hits: int
    counted_requests: int
    sets: int
    oom_errors: int
    other_errors: int
    keys_held: int  # DBSIZE at the end
    keys_held_mean: float  # DBSIZE sampled over the counted part: the cache size the run had
    keys_held_min: int
    keys_held_max: int
    attempts: int  # runs until keys_held_mean was within the tolerance (see replay_sized)
    evicted_keys: int
    bytes_per_key: float
    maxmemory: int
    used_memory_start: int
    used_memory_end: int
    elapsed_s: float
    requests_per_s: int


def set_cmd(name: bytes, value: bytes, ttl: bool) -> bytes:
    if ttl:
        return command(b"SET", name, value, b"EX", b"%d" % TTL_S)
    return command(b"SET", name, value)


def measure_bytes_per_key(
    cmd: list[str], counts: list[int], ttl: bool, value: bytes
) -> dict[int, float]:
    """used_memory per key after loading each of `counts` keys (cumulative, ascending) into a
    fresh server, the loading connection closed before each reading."""
    out: dict[int, float] = {}
    with running_server("probe", cmd) as srv, Conn(srv.port) as probe:
        # First uses allocate for good (about 60 KB in Redis): make them before the baseline.
        with Conn(srv.port) as warm:
            warm.call("SET", "warm:key", value)
            warm.call("DEL", "warm:key")
        time.sleep(0.05)
        base = probe.used_memory()
        loaded = 0
        for target in sorted(counts):
            with Conn(srv.port) as loader:
                for lo in range(loaded, target, LOAD_CHUNK):
                    hi = min(target, lo + LOAD_CHUNK)
                    loader.send(
                        b"".join(set_cmd(b"pre:%08d" % i, value, ttl) for i in range(lo, hi))
                    )
                    for _ in range(lo, hi):
                        r = loader.reply()
                        if r != b"OK":
                            raise RuntimeError(f"preload SET: {r!r}")
            loaded = target
            time.sleep(0.05)
            out[target] = (probe.used_memory() - base) / target
    return out


@dataclass
class Counts:
    """What one pass over a trace saw (hits counted from request index `warmup` on)."""

    hits: int = 0
    counted: int = 0
    hits_hot: int = 0  # requests for keys of the key space (not scan keys)
    counted_hot: int = 0
    sets: int = 0
    oom: int = 0
    other_errors: int = 0
    held: list[int] = field(default_factory=list)  # DBSIZE samples over the counted part


def prepare(c: Conn, policy: str, value: bytes, ttl: bool, batch: int) -> int:
    """Sets the policy and samples, grows the connection's buffers as the replay will (one batch
    of GETs and of SETs), and returns the baseline used_memory."""
    c.call("CONFIG", "SET", "maxmemory-policy", policy)
    c.call("CONFIG", "SET", "maxmemory-samples", SAMPLES)
    warm = b"warm:key"
    c.send(
        b"".join(command(b"GET", warm) for _ in range(batch))
        + b"".join(set_cmd(warm, value, ttl) for _ in range(batch))
        + command(b"DEL", warm)
    )
    for _ in range(2 * batch + 1):
        c.reply()
    time.sleep(0.05)
    return c.used_memory()


def drive(
    c: Conn,
    keys: list[int],
    keyspace: int,
    warmup: int,
    value: bytes,
    ttl: bool,
    batch: int,
    rate: float = 0.0,
    held_every: int = 0,
) -> Counts:
    """Replays `keys` as a cache: per batch, the GETs (pipelined with the previous batch's SETs,
    one round trip for both), then one SET per distinct key of the batch that missed. With
    `rate` > 0, batch i is not sent before i * batch / rate seconds from the start. With
    `held_every` > 0, every that many batches from `warmup` on a DBSIZE follows the GETs (same
    round trip): the keys held over the counted part."""
    n = Counts()
    set_t = set_template(value, ttl)
    pending = b""
    pending_sets = 0
    t0 = time.monotonic()
    for lo in range(0, len(keys) + batch, batch):
        if rate > 0:
            ahead = t0 + lo / rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
        chunk = keys[lo : lo + batch]
        probe = held_every > 0 and lo >= warmup and chunk and (lo // batch) % held_every == 0
        c.send(pending + b"".join([GET_T % k for k in chunk]) + (DBSIZE_C if probe else b""))
        for _ in range(pending_sets):
            r = c.reply()
            if isinstance(r, RespError):
                if r.text.startswith("OOM"):
                    n.oom += 1
                else:
                    n.other_errors += 1
        missed: dict[int, None] = {}
        for j, k in enumerate(chunk):
            r = c.reply()
            hit = isinstance(r, bytes)
            if not hit:
                if r is not None:
                    raise RuntimeError(f"GET: {r!r}")
                missed[k] = None
            if lo + j >= warmup:
                n.counted += 1
                n.hits += hit
                if k < keyspace:
                    n.counted_hot += 1
                    n.hits_hot += hit
        if probe:
            held = c.reply()
            if not isinstance(held, int):
                raise RuntimeError(f"DBSIZE: {held!r}")
            n.held.append(held)
        pending = b"".join([set_t % k for k in missed])
        pending_sets = len(missed)
        n.sets += pending_sets
        if not chunk:
            break
    return n


def calibrate(
    cmd: list[str], cache_keys: int, guess: float, ttl: bool, value: bytes, batch: int
) -> tuple[float, int]:
    """Effective bytes per key under a limit: a fresh server with `maxmemory` = baseline +
    `cache_keys` * `guess` (allkeys-lru) is filled through the replay's own pattern with twice
    that many new keys; returns (limit - baseline) / keys held, and the keys held."""
    with running_server("calibrate", cmd) as srv, Conn(srv.port) as c:
        u0 = prepare(c, "allkeys-lru", value, ttl, batch)
        limit = int(cache_keys * guess)
        c.call("CONFIG", "SET", "maxmemory", u0 + limit)
        fill = list(range(10**7, 10**7 + 2 * cache_keys))
        drive(c, fill, 10**7, len(fill), value, ttl, batch)
        held = c.call("DBSIZE")
    if not isinstance(held, int) or held <= 0:
        return guess, 0
    return limit / held, held


def replay(
    server: str,
    cmd: list[str],
    trace: Trace,
    keyspace: int,
    size: str,
    cache_keys: int,
    limit: int,
    policy: str,
    value: bytes,
    batch: int,
    rate: float,
) -> RunResult:
    """One replay on a fresh server with maxmemory = baseline + `limit`."""
    ttl = policy.startswith("volatile-")
    warmup = int(len(trace.keys) * WARMUP_FRACTION)
    with running_server(server, cmd) as srv, Conn(srv.port) as c:
        u0 = prepare(c, policy, value, ttl, batch)
        maxmemory = u0 + limit
        c.call("CONFIG", "SET", "maxmemory", maxmemory)
        t0 = time.monotonic()
        n = drive(c, trace.keys, keyspace, warmup, value, ttl, batch, rate, HELD_EVERY)
        elapsed = time.monotonic() - t0
        dbsize = c.call("DBSIZE")
        evicted = int(c.info("stats").get("evicted_keys", "0"))
        u1 = c.used_memory()
    scan_keys = any(k >= keyspace for k in trace.keys)
    held = n.held or ([int(dbsize)] if isinstance(dbsize, int) else [0])
    return RunResult(
        trace=trace.name,
        size=size,
        cache_keys_target=cache_keys,
        server=server,
        policy=policy,
        hit_ratio=n.hits / max(1, n.counted),
        hit_ratio_excl_scan=n.hits_hot / max(1, n.counted_hot) if scan_keys else None,
        hits=n.hits,
        counted_requests=n.counted,
        sets=n.sets,
        oom_errors=n.oom,
        other_errors=n.other_errors,
        keys_held=int(dbsize) if isinstance(dbsize, int) else -1,
        evicted_keys=evicted,
        keys_held_mean=round(sum(held) / len(held), 1),
        keys_held_min=min(held),
        keys_held_max=max(held),
        attempts=1,
        bytes_per_key=round(limit / cache_keys, 2),
        maxmemory=maxmemory,
        used_memory_start=u0,
        used_memory_end=u1,
        elapsed_s=round(elapsed, 3),
        requests_per_s=round(len(trace.keys) / max(elapsed, 1e-9)),
    )


def replay_sized(
    server: str,
    cmd: list[str],
    trace: Trace,
    keyspace: int,
    size: str,
    cache_keys: int,
    limit: int,
    policy: str,
    value: bytes,
    batch: int,
    rate: float,
    tolerance: float,
    attempts: int,
) -> RunResult:
    """Replays until the mean keys held over the counted part is within `tolerance` of
    `cache_keys`: each attempt is a full run on a fresh server, and the next one scales the
    limit by target / held. Returns the closest attempt (normally the last)."""
    best: RunResult | None = None
    for i in range(max(1, attempts)):
        r = replay(
            server, cmd, trace, keyspace, size, cache_keys, limit, policy, value, batch, rate
        )
        r.attempts = i + 1
        off = abs(r.keys_held_mean - cache_keys)
        if best is None or off < abs(best.keys_held_mean - cache_keys):
            best = r
        if off <= tolerance * cache_keys or r.keys_held_mean <= 0:
            break
        limit = round(limit * cache_keys / r.keys_held_mean)
    if best is None:
        raise RuntimeError("no replay ran")
    best.attempts = i + 1
    return best


# ---------------------------------------------------------------------------------------------
# Report.


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}"


def _held(r: dict[str, Any] | None) -> str:
    """Keys held: the mean over the counted part (older results: DBSIZE at the end)."""
    if not r:
        return "-"
    return f"{r.get('keys_held_mean', r['keys_held']):,.0f}"


def _index(data: dict[str, Any]) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    return {(r["trace"], r["size"], r["server"], r["policy"]): r for r in data["runs"]}


def targets(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's two targets, checked per (trace, size) present in both servers' runs."""
    idx = _index(data)
    combos = sorted({(r["trace"], r["size"]) for r in data["runs"]})
    out: list[dict[str, Any]] = []
    for trace, size in combos:
        for policy in POLICIES:
            f, r = idx.get((trace, size, "fastkv", policy)), idx.get((trace, size, "redis", policy))
            again = idx.get((trace, size, REPEAT, policy))
            if f and r:
                out.append(
                    {
                        "target": "fastkv policy >= Redis's same-named policy",
                        "trace": trace,
                        "size": size,
                        "policy": policy,
                        "fastkv": f["hit_ratio"],
                        "redis": r["hit_ratio"],
                        "met": f["hit_ratio"] >= r["hit_ratio"],
                        **({"redis_again": again["hit_ratio"]} if again else {}),
                    }
                )
    for trace, size in combos:
        if trace != "scan":
            continue
        best: dict[str, tuple[float, str]] = {}
        for srv in SERVERS:
            runs = [
                (v["hit_ratio"], p)
                for (t, s, sv, p), v in idx.items()
                if (t, s, sv) == (trace, size, srv)
            ]
            if runs:
                best[srv] = max(runs)
        if len(best) == 2:
            out.append(
                {
                    "target": "best fastkv >= best Redis + 3 points (scan trace)",
                    "trace": trace,
                    "size": size,
                    "policy": f"fastkv {best['fastkv'][1]} vs Redis {best['redis'][1]}",
                    "fastkv": best["fastkv"][0],
                    "redis": best["redis"][0],
                    "met": best["fastkv"][0] >= best["redis"][0] + TARGET_SCAN_MARGIN,
                    "needed": best["redis"][0] + TARGET_SCAN_MARGIN,
                    "references": data.get("exact_lru", {}).get(f"{trace}/{size}", {}),
                }
            )
    return out


def table(data: dict[str, Any]) -> list[str]:
    """Markdown table: one row per (trace, size, policy), both servers side by side."""
    idx = _index(data)
    ref = data.get("exact_lru", {})
    out = [
        "| trace | cache | policy | Redis hit % (second run) | fastkv hit % | fastkv - Redis "
        "| keys held Redis / fastkv (mean) | OOM errors Redis / fastkv | req/s Redis / fastkv |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for trace in TRACES:
        for size in data["config"]["sizes"]:
            for policy in POLICIES:
                r, f = (
                    idx.get((trace, size, "redis", policy)),
                    idx.get((trace, size, "fastkv", policy)),
                )
                if not r and not f:
                    continue
                diff = ""
                if r and f:
                    d = 100 * (f["hit_ratio"] - r["hit_ratio"])
                    diff = f"{d:+.1f}" if d >= 0 else f"**{d:+.1f}**"
                again = idx.get((trace, size, REPEAT, policy))
                redis_cell = _pct(r["hit_ratio"]) if r else "-"
                if again:
                    redis_cell += f" ({_pct(again['hit_ratio'])})"
                out.append(
                    f"| {trace} | {size} | {policy} | {redis_cell} "
                    f"| {_pct(f['hit_ratio']) if f else '-'} | {diff} "
                    f"| {_held(r)} / {_held(f)} "
                    f"| {r['oom_errors'] if r else '-'} / {f['oom_errors'] if f else '-'} "
                    f"| {r['requests_per_s'] if r else '-'} / {f['requests_per_s'] if f else '-'} |"
                )
            for label, ratio in _reference_rows(ref.get(f"{trace}/{size}")):
                out.append(f"| {trace} | {size} | *{label}* | {_pct(ratio)} | | | | | |")
    return out


REFERENCE_LABELS = (
    ("hit_ratio", "exact LRU"),
    ("perfect_lfu", "perfect LFU, all history"),
    ("hindsight", "best fixed set, hindsight"),
    ("belady", "Belady's MIN (knows the future)"),
)


def _reference_rows(ref: dict[str, Any] | None) -> list[tuple[str, float]]:
    """(label, hit ratio) of each reference policy present (older results: exact LRU only)."""
    if not ref:
        return []
    return [
        (f"{label}, {ref['capacity']:,} keys", ref[k]) for k, label in REFERENCE_LABELS if k in ref
    ]


def markdown(data: dict[str, Any]) -> list[str]:
    """The SUMMARY.md section: config, the table, the targets with verdicts, the chart."""
    cfg = data["config"]
    out = [
        "## Hit ratio under maxmemory (issue 6)",
        "",
        f"`bench/eviction.py`: {cfg['requests']:,} requests per trace over {cfg['keyspace']:,} "
        f"keys, values of {cfg['value_size']} B, batches of {cfg['batch']} GETs then one SET "
        f"per missed key (`EX {TTL_S}` under volatile-*), maxmemory-samples {SAMPLES}; hit "
        f"ratio over the last {1 - WARMUP_FRACTION:.0%} of each trace. maxmemory = baseline + "
        "a limit found per row by repeating the run until the keys held (DBSIZE sampled over "
        f"the counted part, mean) are within {cfg.get('tolerance', 0.01):.0%} of the cache size. "
        + (f"Replay paced at {cfg['rate']:,.0f} requests/s. " if cfg.get("rate") else "")
        + f"fastkv-server: `{cfg['fastkv_server']}`.",
        "",
    ]
    for t in data["traces"].values():
        out.append(f"- `{t['name']}`: {t['description']} ({t['requests']:,} requests)")
    for srv, kinds in data.get("bytes_per_key_under_limit", {}).items():
        per = "; ".join(
            f"{kind} " + ", ".join(f"{v:.0f} B at {int(n):,} keys" for n, v in d.items())
            for kind, d in kinds.items()
        )
        out.append(f"- {srv} bytes per key under the limit, first guess (rows iterate on): {per}")
    out += ["", *table(data), ""]
    tg = data.get("targets", [])
    if tg:
        out += [
            "| target | trace | cache | policy | Redis | fastkv | |",
            "|---|---|---|---|--:|--:|---|",
        ]
        for t in tg:
            out.append(
                f"| {t['target']} | {t['trace']} | {t['size']} | {t['policy']} "
                f"| {_pct(t['redis'])} | {_pct(t['fastkv'])} | {_verdict(t)} |"
            )
        n_met = sum(1 for t in tg if t["met"])
        out += ["", f"Targets met: {n_met} of {len(tg)}.", ""]
        out += [line for t in tg for line in _ceiling(t)]
    out += ["![eviction](eviction.png)", ""]
    return out


def _verdict(t: dict[str, Any]) -> str:
    """Met or not; a miss smaller than the gap between Redis's own two runs says so."""
    if t["met"]:
        return "met"
    again = t.get("redis_again")
    if again is None:
        return "**not met**"
    spread = abs(t["redis"] - again)
    within = t["redis"] - t["fastkv"] <= spread
    return (
        f"**not met** ({'within' if within else 'beyond'} Redis's own spread: its second run "
        f"{_pct(again)})"
    )


def _ceiling(t: dict[str, Any]) -> list[str]:
    """A sentence setting a margin target beside the reference policies of its trace: whether
    any policy that sees only the past (perfect LFU stands for them) could reach it."""
    ref = t.get("references") or {}
    if "needed" not in t or "perfect_lfu" not in ref:
        return []
    need, lfu = t["needed"], ref["perfect_lfu"]
    verdict = (
        "above what perfect LFU gets: no frequency-based policy reaches it on this trace"
        if need > lfu
        else "within what perfect LFU gets"
    )
    return [
        f"- {t['trace']} {t['size']}: the margin target needs {_pct(need)}; perfect LFU with "
        f"all history gets {_pct(lfu)}, the best fixed set chosen in hindsight "
        f"{_pct(ref.get('hindsight'))}, Belady's MIN {_pct(ref.get('belady'))}: {verdict}.",
        "",
    ]


def chart(data: dict[str, Any]) -> Path:
    """bench/results/eviction.png: a panel per (trace, size), bars per policy, both servers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    idx = _index(data)
    sizes: list[str] = data["config"]["sizes"]
    traces = [t for t in TRACES if t in data["traces"]]
    fig, axes = plt.subplots(
        len(traces), len(sizes), figsize=(7 * len(sizes), 3.6 * len(traces)), squeeze=False
    )
    colors = {"redis": "#c0392b", "fastkv": "#2471a3"}
    w = 0.4
    for i, trace in enumerate(traces):
        for j, size in enumerate(sizes):
            ax = axes[i][j]
            xs = list(range(len(POLICIES)))
            for n, srv in enumerate(SERVERS):
                pts = [
                    (x, 100 * idx[(trace, size, srv, p)]["hit_ratio"])
                    for x, p in zip(xs, POLICIES, strict=False)
                    if (trace, size, srv, p) in idx
                ]
                if pts:
                    bars = ax.bar(
                        [x - w / 2 + n * w for x, _ in pts],
                        [y for _, y in pts],
                        w,
                        label=f"{srv}-server",
                        color=colors[srv],
                    )
                    ax.bar_label(bars, fmt="%.0f", fontsize=6, padding=1)
            ref = data.get("exact_lru", {}).get(f"{trace}/{size}")
            if ref:
                ax.axhline(100 * ref["hit_ratio"], color="gray", ls="--", lw=1, label="exact LRU")
                if "perfect_lfu" in ref:
                    ax.axhline(
                        100 * ref["perfect_lfu"], color="green", ls=":", lw=1, label="perfect LFU"
                    )
            ax.set_xticks(xs)
            ax.set_xticklabels([p.replace("-", "\n") for p in POLICIES], fontsize=7)
            ax.set_ylabel("hit %")
            ax.set_ylim(0, 100)
            ax.set_title(f"{trace}, cache {size} of the key space", fontsize=10)
            ax.grid(axis="y", alpha=0.3)
            if i == 0 and j == 0:
                ax.legend(fontsize=8)
    m = data.get("machine", {})
    fig.suptitle(
        f"Hit ratio per maxmemory-policy — {m.get('cores', '?')} cores, {m.get('when_utc', '')}",
        fontsize=10,
    )
    fig.tight_layout()
    path = RESULTS / "eviction.png"
    RESULTS.mkdir(exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


# ---------------------------------------------------------------------------------------------


def _csv(s: str, allowed: tuple[str, ...], what: str) -> list[str]:
    items = [x.strip() for x in s.split(",") if x.strip()]
    bad = [x for x in items if x not in allowed]
    if bad:
        raise SystemExit(f"unknown {what}: {bad} (known: {', '.join(allowed)})")
    return items


def main(argv: list[str] | None = None) -> int:
    global SAMPLES
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small key space and traces")
    ap.add_argument("--keyspace", type=int, default=None, help="keys (default 100000; quick 20000)")
    ap.add_argument(
        "--requests",
        type=int,
        default=None,
        help="requests per trace (default 200000; quick 40000)",
    )
    ap.add_argument("--batch", type=int, default=100, help="GETs per pipeline")
    ap.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="pace the replay at this many requests/s (0: as fast as it goes). LRU clocks tick\n"
        "once a second in both servers, so a slower replay sees finer LRU: pace both servers\n"
        "alike when one is much slower (a debug build)",
    )
    ap.add_argument("--value-size", type=int, default=100)
    ap.add_argument(
        "--tolerance",
        type=float,
        default=0.01,
        help="keys held (mean over the counted part) may differ from the cache size by this\n"
        "fraction; a run outside it is repeated with maxmemory scaled (default 0.01)",
    )
    ap.add_argument(
        "--attempts", type=int, default=5, help="runs per row at most to reach the tolerance"
    )
    ap.add_argument("--sizes", default="0.01,0.1", help="cache sizes, fractions of the key space")
    ap.add_argument("--servers", default=",".join(SERVERS))
    ap.add_argument(
        "--no-redis-repeat",
        dest="redis_repeat",
        action="store_false",
        help=f"do not run Redis twice on {', '.join(SAME_ALGORITHM)}",
    )
    ap.add_argument("--policies", default=",".join(POLICIES))
    ap.add_argument("--redis-policies", default=None, help="Redis's policies if not --policies")
    ap.add_argument("--traces", default=",".join(TRACES))
    ap.add_argument("--fastkv-server", default=None, help="fastkv-server command to run")
    ap.add_argument("--out", default="eviction", help="results name (bench/results/NAME.json)")
    ap.add_argument(
        "--samples",
        type=int,
        default=SAMPLES,
        help=f"maxmemory-samples for both servers (default {SAMPLES})",
    )
    ap.add_argument(
        "--from-json", action="store_true", help="only redraw the chart and table from the JSON"
    )
    a = ap.parse_args(argv)
    SAMPLES = a.samples
    if a.from_json:
        data: dict[str, Any] = json.loads((RESULTS / f"{a.out}.json").read_text())
        data["targets"] = targets(data)
        print("\n".join(markdown(data)))
        if a.out == "eviction":  # the chart is always eviction.png
            print(f"wrote {chart(data)}")
        return 0

    keyspace = a.keyspace or (20_000 if a.quick else 100_000)
    requests = a.requests or (40_000 if a.quick else 200_000)
    fractions = [float(x) for x in a.sizes.split(",") if x.strip()]
    sizes = {f"{100 * f:g}%": max(1, round(f * keyspace)) for f in fractions}
    servers = _csv(a.servers, SERVERS, "servers")
    policies = _csv(a.policies, POLICIES, "policies")
    redis_policies = _csv(a.redis_policies, POLICIES, "policies") if a.redis_policies else policies
    trace_names = _csv(a.traces, TRACES, "traces")
    value = b"v" * a.value_size
    cmds = {"redis": redis_server_cmd()}
    if "fastkv" in servers:
        cmds["fastkv"] = fastkv_server_cmd(a.fastkv_server)

    t_start = time.monotonic()
    all_traces = make_traces(keyspace, requests)
    traces = {n: all_traces[n] for n in trace_names}
    exact = {
        f"{t.name}/{size}": references(t, cap, a.batch)
        for t in traces.values()
        for size, cap in sizes.items()
    }
    print(f"traces ready in {time.monotonic() - t_start:.1f} s", flush=True)

    bpk: dict[str, dict[str, dict[int, float]]] = {}
    eff_bpk: dict[str, dict[str, dict[int, float]]] = {}
    for srv in servers:
        bpk[srv] = {}
        eff_bpk[srv] = {"plain": {}, "ttl": {}}
        for kind, ttl in (("plain", False), ("ttl", True)):
            bpk[srv][kind] = measure_bytes_per_key(cmds[srv], list(sizes.values()), ttl, value)
            per = ", ".join(f"{n:,} keys: {v:.1f} B" for n, v in bpk[srv][kind].items())
            print(f"{srv} bytes/key, no limit ({kind}): {per}", flush=True)
            for cap in sizes.values():
                eff, held = calibrate(cmds[srv], cap, bpk[srv][kind][cap], ttl, value, a.batch)
                eff_bpk[srv][kind][cap] = eff
                print(
                    f"{srv} bytes/key under a limit ({kind}, {cap:,} keys): {eff:.1f} B "
                    f"(the first guess held {held:,} keys)",
                    flush=True,
                )

    runs: list[RunResult] = []
    # The limit that gave the target cache size last, per (server, key kind, cache keys): the
    # next run of the same kind starts from it.
    limits: dict[tuple[str, str, int], int] = {}
    header = (
        f"{'trace':6} {'size':4} {'server':7} {'policy':16} {'hit%':>6} {'held':>8} {'end':>7} "
        f"{'OOM':>7} tries"
    )
    print(header)
    for t in traces.values():
        for size, cap in sizes.items():
            jobs = [
                (srv, srv, policy)
                for srv in servers
                for policy in (redis_policies if srv == "redis" else policies)
            ]
            if "redis" in servers and a.redis_repeat:
                jobs += [("redis", REPEAT, p) for p in redis_policies if p in SAME_ALGORITHM]
            for srv, label, policy in jobs:
                kind = "ttl" if policy.startswith("volatile-") else "plain"
                start = limits.get((srv, kind, cap), round(cap * eff_bpk[srv][kind][cap]))
                r = replay_sized(
                    label,
                    cmds[srv],
                    t,
                    keyspace,
                    size,
                    cap,
                    start,
                    policy,
                    value,
                    a.batch,
                    a.rate,
                    a.tolerance,
                    a.attempts,
                )
                if policy != "noeviction":
                    limits[(srv, kind, cap)] = r.maxmemory - r.used_memory_start
                runs.append(r)
                print(
                    f"{t.name:6} {size:4} {label:7} {policy:16} {100 * r.hit_ratio:6.1f} "
                    f"{r.keys_held_mean:8,.0f} {r.keys_held:7,} {r.oom_errors:7,} "
                    f"{r.attempts:5}  ({r.elapsed_s:.1f} s, {r.requests_per_s:,} req/s)",
                    flush=True,
                )
            for ref_label, ratio in _reference_rows(exact[f"{t.name}/{size}"]):
                print(f"{t.name:6} {size:4} {'(ref)':7} {ref_label:33} {100 * ratio:6.1f}")

    data = {
        "machine": machine_facts(cmds.get("fastkv")),
        "config": {
            "keyspace": keyspace,
            "requests": requests,
            "batch": a.batch,
            "rate": a.rate,
            "value_size": a.value_size,
            "sizes": list(sizes),
            "cache_keys": sizes,
            "maxmemory_samples": SAMPLES,
            "ttl_s": TTL_S,
            "seed": SEED,
            "zipf_s": ZIPF_S,
            "warmup_fraction": WARMUP_FRACTION,
            "fastkv_server": " ".join(cmds.get("fastkv", [])),
            "quick": a.quick,
            "tolerance": a.tolerance,
            "attempts": a.attempts,
            "held_every_batches": HELD_EVERY,
        },
        "traces": {
            t.name: {"name": t.name, "description": t.description, "requests": len(t.keys)}
            for t in traces.values()
        },
        "bytes_per_key": {
            srv: {kind: {str(n): round(v, 2) for n, v in d.items()} for kind, d in kinds.items()}
            for srv, kinds in bpk.items()
        },
        "bytes_per_key_under_limit": {
            srv: {kind: {str(n): round(v, 2) for n, v in d.items()} for kind, d in kinds.items()}
            for srv, kinds in eff_bpk.items()
        },
        "exact_lru": exact,
        "runs": [asdict(r) for r in runs],
        "elapsed_s": round(time.monotonic() - t_start, 1),
    }
    data["targets"] = targets(data)
    path = write_results(a.out, data)
    png = chart(data) if a.out == "eviction" else None
    print()
    print("\n".join(markdown(data)))
    print(f"wrote {path}" + (f" and {png}" if png else "") + f" in {data['elapsed_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
