"""Differential tests for the memory family: maxmemory and the eviction settings (CONFIG
SET/GET with units, every policy, the numeric knobs and their error texts), OBJECT FREQ /
IDLETIME under LRU and LFU, MEMORY USAGE / STATS / DOCTOR / PURGE / HELP, the INFO memory and
stats fields, the OOM error under noeviction (reads, MULTI/EXEC), CLIENT NO-EVICT and the
arity errors of CONFIG / OBJECT / MEMORY subcommands.

The same raw command lines go to a real redis-server and to the server under test over RESP3
and RESP2, and the typed replies are compared (see helpers.TypedDifferential): exactly where
Redis's reply is deterministic; by shape where the value is the implementation's own (byte
counts, the allocator's figures); CONFIG GET with a pattern as a map without order; OBJECT
IDLETIME within a second.

Both servers are the session's shared ones: every test puts the memory settings back to
Redis's defaults (see `restore`), and only databases 0 and 15 are used.

LFU counters are compared exactly with `lfu-log-factor 0` (every access increments the
counter: Redis's probability is 1/((counter-5)*factor+1)), `lfu-decay-time 0` (no decay when a
minute boundary passes mid-test) and a non-zero maxmemory (with maxmemory 0 Redis stores
small integers as shared objects, whose counter is meaningless).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from helpers import (
    EVICTING_POLICIES,
    Outcome,
    ServerHandle,
    Tagged,
    TypedDifferential,
    resolve_args,
    unordered,
)

OOM = "OOM command not allowed when used memory > 'maxmemory'."
POLICIES = [*EVICTING_POLICIES, "noeviction"]
# Redis 7.0's defaults, restored after every test.
DEFAULTS: list[tuple[str, str]] = [
    ("maxmemory", "0"),
    ("maxmemory-policy", "noeviction"),
    ("maxmemory-samples", "5"),
    ("maxmemory-eviction-tenacity", "10"),
    ("lfu-log-factor", "10"),
    ("lfu-decay-time", "1"),
]
# Deterministic LFU counting (see the module docstring).
LFU_EXACT: list[list[Any]] = [
    ["CONFIG", "SET", "maxmemory", "1gb", "maxmemory-policy", "allkeys-lfu"],
    ["CONFIG", "SET", "lfu-log-factor", "0", "lfu-decay-time", "0"],
]
LFU_INIT_VAL = 5


@dataclass(frozen=True)
class Shape:
    """A step whose reply is the implementation's own: both sides must succeed (or fail
    with the same error) with a reply of the same RESP type; `check` (if given) must hold
    for each side's reply."""

    args: tuple[Any, ...]
    check: str = ""


def shape(*args: Any, check: str = "") -> Shape:
    return Shape(tuple(args), check)


def _kind(v: Any) -> str:
    if isinstance(v, Tagged):
        return v.kind
    return type(v).__name__


def _check(name: str, v: Any) -> bool:
    if name == "positive-int":
        return isinstance(v, int) and v > 0
    if name == "text":
        return isinstance(v, bytes) and len(v) > 0
    return True


class MemoryDifferential(TypedDifferential):
    """TypedDifferential with this family's comparison modes (see the module docstring)."""

    def compare(self, name: str, args: list[Any], o: Outcome, s: Outcome) -> bool:
        sub = str(args[1]).upper() if len(args) > 1 else ""
        if o[0] == s[0] == "ok" and name == "CONFIG" and sub == "GET":
            chunk = 2 if self.protocol == 2 else 1
            return bool(unordered(o[1], chunk) == unordered(s[1], chunk))
        if o[0] == s[0] == "ok" and name == "OBJECT" and sub == "IDLETIME":
            a, b = o[1], s[1]
            if isinstance(a, int) and isinstance(b, int):
                return abs(a - b) <= 1
        return super().compare(name, args, o, s)

    def steps(self, commands: Sequence[Sequence[Any] | Shape], *, flush: bool = True) -> None:
        """Like run(), with Shape steps; `flush=False` keeps the keyspace."""
        if flush:
            self.reset()
        transcript: list[str] = []
        for step in commands:
            raw = step.args if isinstance(step, Shape) else step
            args = resolve_args(raw)
            o, s = self.call(self.o, *args), self.call(self.s, *args)
            if isinstance(step, Shape):
                same = self._same_shape(step, o, s)
            else:
                same = self.compare(str(args[0]).upper(), args, o, s)
            transcript.append(f"{args!r}\n    redis: {o!r}\n    sut:   {s!r}")
            if not same:
                raise AssertionError(
                    f"RESP{self.protocol} replies differ at step {len(transcript)}:\n"
                    + "\n".join(transcript)
                )

    @staticmethod
    def _same_shape(step: Shape, o: Outcome, s: Outcome) -> bool:
        if o[0] == "err" or s[0] == "err":
            return o == s
        checked = _check(step.check, o[1]) and _check(step.check, s[1])
        return _kind(o[1]) == _kind(s[1]) and checked

    def both(self, *args: Any) -> tuple[Any, Any]:
        """One command on each side; both must succeed. Returns (redis, sut) replies."""
        return self.ok(self.o, *args), self.ok(self.s, *args)

    def restore(self) -> None:
        for conn in (self.o, self.s, self.o_aux, self.s_aux):
            for c in ("DISCARD", "UNWATCH"):
                self.call(conn, c)
            self.call(conn, "CLIENT", "NO-EVICT", "off")
        for conn in (self.o, self.s):
            for name, value in DEFAULTS:
                self.ok(conn, "CONFIG", "SET", name, value)


@pytest.fixture(scope="module", params=[3, 2], ids=["resp3", "resp2"])
def diff_conn(
    request: pytest.FixtureRequest, redis_oracle: ServerHandle, server: ServerHandle
) -> Iterator[MemoryDifferential]:
    d = MemoryDifferential(redis_oracle, server, request.param)
    yield d
    d.close()


@pytest.fixture
def diff(diff_conn: MemoryDifferential) -> Iterator[MemoryDifferential]:
    diff_conn.restore()
    yield diff_conn
    diff_conn.restore()
    diff_conn.reset()


def info_fields(reply: Any) -> dict[str, str]:
    """INFO's text (bulk or verbatim) as field -> value."""
    text = (reply.value if isinstance(reply, Tagged) else reply).decode()
    out: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith("#") and ":" in line:
            k, _, v = line.partition(":")
            out[k] = v
    return out


def map_of(reply: Any) -> dict[bytes, Any]:
    """A RESP3 map (Tagged "%") or the RESP2 flat array of one, as a dict."""
    if isinstance(reply, Tagged):
        assert reply.kind == "%", reply
        return {k: v for k, v in reply.value}
    assert isinstance(reply, list) and len(reply) % 2 == 0, reply
    return dict(zip(reply[::2], reply[1::2], strict=True))


# --------------------------------------------------------------------------
# CONFIG: maxmemory and the eviction settings
# --------------------------------------------------------------------------

MAXMEMORY_GOOD = ["100mb", "1gb", "1GB", "1G", "1k", "1kb", "100b", "100MB", "12345", "0"]
# Redis's memtoull: no digits reads as 0, past u64::MAX saturates, the unit's product wraps.
MAXMEMORY_ODD = ["mb", "", "18446744073709551615", "18446744073709551616", "17179869184gb"]
MAXMEMORY_BAD = ["-1", "abc", "10%", "1xb", "1.5mb", " 100", "100 mb", "1e6", "1" * 128]


def test_config_maxmemory_units_and_bad_values_match_redis(diff: MemoryDifferential) -> None:
    steps: list[list[Any]] = [["CONFIG", "GET", "maxmemory"]]
    for v in MAXMEMORY_GOOD + MAXMEMORY_ODD:
        steps += [["CONFIG", "SET", "maxmemory", v], ["CONFIG", "GET", "maxmemory"]]
    steps.append(["CONFIG", "SET", "maxmemory", "100mb"])
    for v in MAXMEMORY_BAD:
        steps += [["CONFIG", "SET", "maxmemory", v], ["CONFIG", "GET", "maxmemory"]]
    steps.append(["CONFIG", "SET", "MAXMEMORY", "2mb"])
    steps.append(["CONFIG", "GET", "MaxMemory"])
    diff.steps(steps)


def test_config_set_is_all_or_nothing_and_counts_its_arguments(
    diff: MemoryDifferential,
) -> None:
    diff.steps(
        [
            ["CONFIG", "SET", "maxmemory", "100mb", "maxmemory-policy", "allkeys-lru"],
            ["CONFIG", "GET", "maxmemory*"],
            # A bad value anywhere: nothing changes.
            ["CONFIG", "SET", "maxmemory", "1mb", "maxmemory-policy", "bogus"],
            ["CONFIG", "SET", "maxmemory-samples", "7", "maxmemory", "x"],
            ["CONFIG", "GET", "maxmemory*"],
            # The same parameter twice.
            ["CONFIG", "SET", "maxmemory", "1mb", "maxmemory", "2mb"],
            ["CONFIG", "SET", "maxmemory", "1mb", "MAXMEMORY", "2mb"],
            # A parameter without its value.
            ["CONFIG", "SET", "maxmemory", "1mb", "maxmemory-policy"],
            ["CONFIG", "SET", "maxmemory"],
            ["CONFIG", "GET", "maxmemory*"],
        ]
    )


def test_config_maxmemory_policy_names_match_redis(diff: MemoryDifferential) -> None:
    steps: list[list[Any]] = [["CONFIG", "GET", "maxmemory-policy"]]
    for p in POLICIES + ["ALLKEYS-LRU", "Volatile-TTL", "NoEviction"]:
        steps += [["CONFIG", "SET", "maxmemory-policy", p], ["CONFIG", "GET", "maxmemory-policy"]]
    for bad in ["lru", "allkeys", "", "allkeys-lru ", "volatile_lru", "noeviction,allkeys-lru"]:
        steps += [["CONFIG", "SET", "maxmemory-policy", bad], ["CONFIG", "GET", "maxmemory-policy"]]
    diff.steps(steps)


NUMERIC_SETTINGS: dict[str, list[str]] = {
    "maxmemory-samples": ["1", "64", "10", "0", "65", "-1", "x", "1.5", "", "1k", "5"],
    "maxmemory-eviction-tenacity": ["0", "100", "50", "101", "-1", "x", "10"],
    "lfu-log-factor": ["0", "2147483647", "100", "2147483648", "-1", "x", "1.5", "10"],
    "lfu-decay-time": ["0", "2147483647", "60", "2147483648", "-1", "x", " 1", "1"],
}


@pytest.mark.parametrize("name", list(NUMERIC_SETTINGS))
def test_config_numeric_eviction_settings_match_redis(diff: MemoryDifferential, name: str) -> None:
    steps: list[list[Any]] = [["CONFIG", "GET", name]]
    for v in NUMERIC_SETTINGS[name]:
        steps += [["CONFIG", "SET", name, v], ["CONFIG", "GET", name]]
    steps.append(["CONFIG", "SET", name.upper(), NUMERIC_SETTINGS[name][0]])
    steps.append(["CONFIG", "GET", name.upper()])
    diff.steps(steps)


def test_config_get_patterns_match_redis(diff: MemoryDifferential) -> None:
    diff.steps(
        [
            ["CONFIG", "GET", "maxmemory*"],
            ["CONFIG", "GET", "lfu-*"],
            ["CONFIG", "GET", "*eviction*"],
            ["CONFIG", "GET", "maxmemory", "maxmemory-policy", "maxmemory"],
            ["CONFIG", "GET", "maxmemory-polic?"],
            ["CONFIG", "GET", "nosuchconfig"],
        ]
    )


# --------------------------------------------------------------------------
# OBJECT FREQ / IDLETIME
# --------------------------------------------------------------------------


def test_object_freq_and_idletime_under_lru_match_redis(diff: MemoryDifferential) -> None:
    steps: list[list[Any]] = [["SET", "k", "v"], ["RPUSH", "l", "a"]]
    for policy in ["noeviction", "allkeys-lru", "volatile-lru", "allkeys-random", "volatile-ttl"]:
        steps += [
            ["CONFIG", "SET", "maxmemory-policy", policy],
            ["OBJECT", "FREQ", "k"],
            ["OBJECT", "FREQ", "l"],
            ["OBJECT", "IDLETIME", "k"],
            ["GET", "k"],
            ["OBJECT", "IDLETIME", "k"],
            ["OBJECT", "FREQ", "nokey"],
            ["OBJECT", "IDLETIME", "nokey"],
        ]
    diff.steps(steps)


def test_object_freq_and_idletime_under_lfu_match_redis(diff: MemoryDifferential) -> None:
    steps: list[list[Any]] = []
    for policy in ["allkeys-lfu", "volatile-lfu"]:
        steps += [
            ["FLUSHALL"],
            ["CONFIG", "SET", "maxmemory", "1gb", "maxmemory-policy", policy],
            ["CONFIG", "SET", "lfu-decay-time", "0"],
            # A fresh key starts at LFU_INIT_VAL; the first access always counts.
            ["SET", "k", "v"],
            ["OBJECT", "FREQ", "k"],
            ["OBJECT", "FREQ", "k"],  # OBJECT itself is not an access
            ["GET", "k"],
            ["OBJECT", "FREQ", "k"],
            ["OBJECT", "IDLETIME", "k"],
            ["OBJECT", "IDLETIME", "nokey"],
            ["OBJECT", "FREQ", "nokey"],
            # With lfu-log-factor 0 every access counts.
            ["CONFIG", "SET", "lfu-log-factor", "0"],
            ["GET", "k"],
            ["GET", "k"],
            ["GET", "k"],
            ["OBJECT", "FREQ", "k"],
            ["SET", "n", "12"],
            ["INCR", "n"],
            ["OBJECT", "FREQ", "n"],
            ["RPUSH", "l", "a", "b"],
            ["OBJECT", "FREQ", "l"],
            ["LRANGE", "l", "0", "-1"],
            ["OBJECT", "FREQ", "l"],
            ["CONFIG", "SET", "lfu-log-factor", "10"],
        ]
    diff.steps(steps)
    diff.steps([*LFU_EXACT, ["SET", "fresh", "v"]])
    assert diff.both("OBJECT", "FREQ", "fresh") == (LFU_INIT_VAL, LFU_INIT_VAL)


def test_lfu_counter_saturates_at_255(diff: MemoryDifferential) -> None:
    diff.steps([*LFU_EXACT, ["SET", "k", "v"]])
    for _ in range(260):
        diff.both("GET", "k")
    diff.steps([["OBJECT", "FREQ", "k"]], flush=False)


# Commands over a string, a counter, a list, a hash, two sets and a sorted set: with
# deterministic LFU counting, OBJECT FREQ of every key afterwards says how many accesses each
# server counted (Redis: one per lookup; a new key starts at LFU_INIT_VAL).
LFU_SETUP: list[list[Any]] = [
    ["SET", "s", "abc"],
    ["SET", "n", "100"],
    ["RPUSH", "l", "a", "b", "c"],
    ["HSET", "h", "f", "1", "g", "2"],
    ["SADD", "t", "a", "b"],
    ["SADD", "t2", "b", "c"],
    ["ZADD", "z", "1", "a", "2", "b"],
]
LFU_KEYS = ["s", "n", "l", "h", "t", "t2", "z", "z2", "s9", "d"]
LFU_COMMANDS = [
    "GET s",
    "SET s x",
    "SET s x GET",
    "GETSET s y",
    "GETDEL s",
    "GETEX s EX 100",
    "GETRANGE s 0 1",
    "STRLEN s",
    "APPEND s q",
    "SETRANGE s 1 zz",
    "INCR n",
    "INCRBYFLOAT n 1.5",
    "MGET s n nokey",
    "LPUSH l x",
    "LPOP l",
    "RPOP l 2",
    "LMPOP 1 l LEFT",
    "BLPOP l 0",
    "LLEN l",
    "LRANGE l 0 -1",
    "LSET l 0 q",
    "LMOVE l l LEFT RIGHT",
    "HSET h f 3",
    "HGET h f",
    "HDEL h f",
    "HGETALL h",
    "HINCRBY h f 1",
    "SADD t c",
    "SREM t a",
    "SPOP t 1",
    "SPOP t 5",
    "SCARD t",
    "SISMEMBER t a",
    "SINTER t t2",
    "SUNION t t2",
    "SDIFF t t2",
    "SINTERCARD 2 t t2",
    "SINTERSTORE d t t2",
    "SUNIONSTORE d t t2",
    "SMOVE t t2 a",
    "SMOVE t t2 zz",
    "SMOVE t t a",
    "SMOVE nos t2 a",
    "ZADD z 3 c",
    "ZADD z2 1 a",
    "ZINCRBY z 1 a",
    "ZREM z a",
    "ZPOPMIN z",
    "ZSCORE z a",
    "ZRANGE z 0 -1",
    "ZUNIONSTORE d 2 z t",
    "ZINTER 1 z",
    "ZDIFF 2 z t",
    "ZRANGESTORE d z 0 -1",
    "EXISTS s",
    "TYPE s",
    "TTL s",
    "EXPIRE s 100",
    "TOUCH s",
    "RENAME s s9",
    "COPY s s9",
    "OBJECT ENCODING s",
    "DEL s",
    "SORT l ALPHA",
]
# Their replies are the implementation's own (a byte count; a payload, which the harness
# would check by reading the key back: another access).
LFU_COMMANDS_SHAPED = ["MEMORY USAGE s", "DUMP s"]
# Compared by shape only: those, and random replies.
LFU_REPLY_NOT_COMPARED = {*LFU_COMMANDS_SHAPED, "SPOP t 1", "SPOP t 5"}


def _lfu_run(diff: MemoryDifferential, command: str) -> None:
    args = command.split()
    step: list[Any] | Shape = shape(*args) if command in LFU_REPLY_NOT_COMPARED else args
    diff.steps([*LFU_EXACT, *LFU_SETUP, step] + [["OBJECT", "FREQ", k] for k in LFU_KEYS])


@pytest.mark.parametrize("command", LFU_COMMANDS + LFU_COMMANDS_SHAPED)
def test_lfu_accesses_per_command_match_redis(diff: MemoryDifferential, command: str) -> None:
    _lfu_run(diff, command)


# --------------------------------------------------------------------------
# MEMORY
# --------------------------------------------------------------------------


def test_memory_usage_matches_redis(diff: MemoryDifferential) -> None:
    diff.steps(
        [
            ["SET", "k", "v" * 100],
            ["RPUSH", "l", *[f"e{i}" for i in range(50)]],
            ["MEMORY", "USAGE", "nokey"],
            ["MEMORY", "USAGE", "nokey", "SAMPLES", "5"],
            ["MEMORY", "usage", "nokey", "samples", "0"],
            shape("MEMORY", "USAGE", "k", check="positive-int"),
            shape("MEMORY", "USAGE", "k", "SAMPLES", "0", check="positive-int"),
            shape("MEMORY", "USAGE", "l", "SAMPLES", "1", check="positive-int"),
            shape("MEMORY", "USAGE", "l", "SAMPLES", "5", "SAMPLES", "0", check="positive-int"),
            # SAMPLES is checked before the key is looked up.
            ["MEMORY", "USAGE", "nokey", "SAMPLES"],
            ["MEMORY", "USAGE", "k", "SAMPLES"],
            ["MEMORY", "USAGE", "k", "SAMPLES", "x"],
            ["MEMORY", "USAGE", "k", "SAMPLES", "-1"],
            ["MEMORY", "USAGE", "nokey", "SAMPLES", "-1"],
            ["MEMORY", "USAGE", "k", "SAMPLES", "1.5"],
            ["MEMORY", "USAGE", "k", "SAMPLES", "99999999999999999999"],
            ["MEMORY", "USAGE", "k", "FOO"],
            ["MEMORY", "USAGE", "k", "SAMPLES", "5", "FOO"],
            ["MEMORY", "USAGE"],
        ]
    )
    # The figure covers at least the value's bytes on both servers.
    for usage in diff.both("MEMORY", "USAGE", "k"):
        assert isinstance(usage, int) and usage >= 100


def test_memory_subcommands_match_redis(diff: MemoryDifferential) -> None:
    diff.steps(
        [
            ["MEMORY", "HELP"],
            ["MEMORY", "help"],
            ["MEMORY", "PURGE"],
            ["MEMORY", "FOO"],
            ["MEMORY", "foo", "bar"],
            ["MEMORY", ""],
            ["MEMORY"],
            ["MEMORY", "HELP", "x"],
            ["MEMORY", "PURGE", "x"],
            ["MEMORY", "STATS", "x"],
            ["MEMORY", "DOCTOR", "x"],
            ["MEMORY", "MALLOC-STATS", "x"],
            # The allocators differ (jemalloc's report, or glibc's one line): a text either way.
            shape("MEMORY", "MALLOC-STATS", check="text"),
        ]
    )


DOCTOR_OPENINGS = (
    b"Hi Sam, I can't find any memory issue",
    b"Hi Sam, this instance is empty or is using very little memory",
    b"Sam, I detected a few issues in this Redis instance memory implants",
)


def test_memory_doctor_reply_type_matches_redis(diff: MemoryDifferential) -> None:
    replies = [c.command("MEMORY", "DOCTOR") for c in (diff.o, diff.s)]
    # A verbatim string ("=len\r\ntxt:...") in RESP3, a bulk string in RESP2.
    prefix = b"=" if diff.protocol == 3 else b"$"
    for reply in replies:
        head, _, body = reply.partition(b"\r\n")
        assert head[:1] == prefix, replies
        if diff.protocol == 3:
            assert body.startswith(b"txt:"), replies
            body = body[4:]
        assert body.startswith(DOCTOR_OPENINGS), replies


# Keys of Redis 7.0's MEMORY STATS that fastkv leaves out, as documented in
# rust/fastkv-core/src/commands/memory.rs ("fields fastkv cannot measure"): the script and
# function caches, and jemalloc's figures with the ratios derived from them (glibc's only
# source, mallinfo2, walks every free chunk under the arena locks: see src/memory.rs).
MEMORY_STATS_NOT_IN_FASTKV = {
    b"lua.caches",
    b"functions.caches",
    b"allocator.allocated",
    b"allocator.active",
    b"allocator-fragmentation.ratio",
    b"allocator-fragmentation.bytes",
    b"allocator.resident",
    b"allocator-rss.ratio",
    b"allocator-rss.bytes",
    b"rss-overhead.ratio",
    b"rss-overhead.bytes",
}


def test_memory_stats_keys_match_redis(diff: MemoryDifferential) -> None:
    diff.steps([["SET", "k", "v"], ["SELECT", "15"], ["SET", "k", "v"], ["SELECT", "0"]])
    o, s = (map_of(r) for r in diff.both("MEMORY", "STATS"))
    missing = set(o) - set(s)
    assert missing <= MEMORY_STATS_NOT_IN_FASTKV, sorted(missing - MEMORY_STATS_NOT_IN_FASTKV)
    extra = set(s) - set(o)
    assert not extra, sorted(extra)
    # The same order for the keys both have (Redis's fixed order).
    common = [k for k in o if k in s]
    assert [k for k in s if k in o] == common
    # The same reply types (integers, doubles, the per-database maps with the same fields).
    for k in common:
        assert _kind(o[k]) == _kind(s[k]), (k, o[k], s[k])
    for db in (b"db.0", b"db.15"):
        assert set(map_of(o[db])) == set(map_of(s[db])), db
    for k in (b"keys.count",):
        assert isinstance(o[k], int) and o[k] >= 2 and isinstance(s[k], int) and s[k] >= 2


INFO_MEMORY_FIELDS = [
    "used_memory",
    "used_memory_human",
    "used_memory_rss",
    "used_memory_peak",
    "used_memory_peak_human",
    "used_memory_dataset",
    "maxmemory",
    "maxmemory_human",
    "maxmemory_policy",
    "mem_fragmentation_ratio",
    "mem_allocator",
]
# Not listed: Redis's allocator_* fields. They come from jemalloc; fastkv has no cheap true
# source for them on glibc (see src/memory.rs) and leaves them out ("where true").
INFO_STATS_FIELDS = ["evicted_keys", "expired_keys", "keyspace_hits", "keyspace_misses"]
HUMAN = re.compile(r"^(\d+B|\d+\.\d\d[KMGTP])$")


def test_info_memory_and_stats_fields_match_redis(diff: MemoryDifferential) -> None:
    diff.steps([["CONFIG", "SET", "maxmemory", "100mb", "maxmemory-policy", "allkeys-lru"]])
    mem = [info_fields(r) for r in diff.both("INFO", "memory")]
    for fields in mem:
        missing = [f for f in INFO_MEMORY_FIELDS if f not in fields]
        assert not missing, missing
        assert HUMAN.match(fields["used_memory_human"]), fields["used_memory_human"]
        assert float(fields["mem_fragmentation_ratio"]) > 0
    for f in ["maxmemory", "maxmemory_human", "maxmemory_policy"]:
        assert mem[0][f] == mem[1][f], f
    assert mem[1]["maxmemory_human"] == "100.00M"
    stats = [info_fields(r) for r in diff.both("INFO", "stats")]
    for fields in stats:
        missing = [f for f in INFO_STATS_FIELDS if f not in fields]
        assert not missing, missing
    # INFO everything has them too.
    for r in diff.both("INFO", "everything"):
        fields = info_fields(r)
        missing = [f for f in INFO_MEMORY_FIELDS + INFO_STATS_FIELDS if f not in fields]
        assert not missing, missing


@pytest.mark.parametrize(
    "limit", ["0", "1000", "12345", "100mb", "1gb", "3gb", "18446744073709551615"]
)
def test_info_maxmemory_human_matches_redis(diff: MemoryDifferential, limit: str) -> None:
    diff.steps([["CONFIG", "SET", "maxmemory", limit]])
    o, s = (info_fields(r) for r in diff.both("INFO", "memory"))
    assert (o["maxmemory"], o["maxmemory_human"]) == (s["maxmemory"], s["maxmemory_human"])


def _stats(diff: MemoryDifferential) -> list[dict[str, str]]:
    out = []
    for r in diff.both("INFO", "stats"):
        f = info_fields(r)
        out.append({k: f[k] for k in INFO_STATS_FIELDS})
    return out


# Reads that count one keyspace hit or miss per key on both servers.
COUNTED_READS: list[list[Any] | Shape] = [
    ["GET", "k"],
    ["GET", "nokey"],
    ["EXISTS", "k", "nokey"],
    ["TYPE", "k"],
    ["MGET", "k", "nokey", "k"],
    ["STRLEN", "k"],
    ["TOUCH", "k", "nokey"],
    ["LRANGE", "l", "0", "-1"],
    ["LRANGE", "nol", "0", "-1"],
    ["SCARD", "nos"],
    ["HGET", "h", "f"],
    shape("DUMP", "k", check="text"),  # (not read back: that would count more hits)
    ["TTL", "k"],
    ["OBJECT", "ENCODING", "k"],
    ["OBJECT", "ENCODING", "nokey"],
    ["OBJECT", "FREQ", "nokey"],
    ["OBJECT", "IDLETIME", "k"],
    ["OBJECT", "REFCOUNT", "k"],
    # Not counted by either: writes, and MEMORY USAGE (Redis reads the table directly).
    ["SET", "k2", "v"],
    ["INCR", "cnt"],
    ["EXPIRE", "nokey", "1"],
    shape("MEMORY", "USAGE", "k", check="positive-int"),
    ["MEMORY", "USAGE", "nokey"],
]


def test_keyspace_hits_and_misses_match_redis(diff: MemoryDifferential) -> None:
    diff.steps([["SET", "k", "v"], ["RPUSH", "l", "a"], ["CONFIG", "RESETSTAT"]])
    assert _stats(diff)[0] == _stats(diff)[1]
    for cmd in COUNTED_READS:
        diff.steps([cmd], flush=False)
        o, s = _stats(diff)
        assert o == s, (cmd, o, s)


# Writes that read a key as Redis's lookupKeyRead does: a hit or miss each.
WRITES_THAT_READ: list[list[str]] = [
    ["GETSET", "k", "x"],
    ["GETDEL", "k"],
    ["GETDEL", "nokey"],
    ["GETEX", "k", "EX", "100"],
    ["SET", "k", "x", "GET"],
    ["SET", "nokey", "x", "GET"],
    ["COPY", "k", "k9"],
    ["COPY", "nokey", "k9"],
    ["SORT", "l"],
    ["SORT", "l", "BY", "w_*", "GET", "#", "GET", "w_*", "STORE", "d"],
    ["SINTERSTORE", "d", "t", "t"],
    ["SUNIONSTORE", "d", "t", "nos"],
    ["SDIFFSTORE", "d", "t", "nos"],
    ["ZUNIONSTORE", "d", "2", "z", "noz"],
    ["ZINTERSTORE", "d", "2", "z", "t"],
    ["ZDIFFSTORE", "d", "2", "z", "t"],
    ["ZRANGESTORE", "d", "z", "0", "-1"],
    ["ZRANGESTORE", "d", "noz", "0", "-1"],
]
# Reads of several keys: one hit or miss each (not one more per internal pass).
MULTI_KEY_READS: list[list[str]] = [
    ["SINTER", "t", "t", "nos"],
    ["SUNION", "t", "nos"],
    ["SDIFF", "t", "t"],
    ["SINTERCARD", "2", "t", "nos"],
    ["ZUNION", "2", "z", "noz"],
    ["ZINTER", "2", "z", "t"],
    ["ZDIFF", "2", "z", "t"],
    ["ZINTERCARD", "2", "z", "t"],
]


def _hits_after(diff: MemoryDifferential, cmd: list[str]) -> None:
    setup = [["SET", "k", "v"], ["RPUSH", "l", "1", "2"], ["SET", "w_1", "5"], ["SADD", "t", "a"]]
    diff.steps([*setup, ["ZADD", "z", "1", "a"], ["CONFIG", "RESETSTAT"], cmd])
    o, s = _stats(diff)
    assert o == s, (o, s)


@pytest.mark.parametrize("cmd", WRITES_THAT_READ + MULTI_KEY_READS, ids=" ".join)
def test_keyspace_hits_per_command_match_redis(diff: MemoryDifferential, cmd: list[str]) -> None:
    _hits_after(diff, cmd)


def test_expired_and_evicted_keys_match_redis(diff: MemoryDifferential) -> None:
    diff.steps([["CONFIG", "RESETSTAT"], ["SET", "e", "1", "PX", "1"]])
    time.sleep(0.02)  # past the 1 ms deadline; nothing below depends on how far past
    diff.steps(
        [
            ["GET", "e"],
            ["MSET", "a", "1", "b", "2", "c", "3", "d", "4"],
            ["CONFIG", "SET", "maxmemory-policy", "allkeys-random"],
            # A limit below anything: every key goes, then writes are refused.
            ["CONFIG", "SET", "maxmemory", "1"],
            ["DBSIZE"],
            ["SET", "z", "1"],
            ["GET", "z"],
        ],
        flush=False,
    )
    o, s = _stats(diff)
    assert o == s, (o, s)
    assert s["expired_keys"] == "1" and s["evicted_keys"] == "4"


# --------------------------------------------------------------------------
# OOM under noeviction
# --------------------------------------------------------------------------


def test_oom_under_noeviction_matches_redis(diff: MemoryDifferential) -> None:
    diff.steps(
        [
            ["SET", "k", "v"],
            ["RPUSH", "l", "a"],
            ["CONFIG", "SET", "maxmemory", "1"],
            ["SET", "k2", "v"],
            ["SET", "k", "v2"],
            ["INCR", "n"],
            ["LPUSH", "l", "x"],
            ["APPEND", "k", "x"],
            ["HSET", "h", "f", "v"],
            ["SADD", "s", "m"],
            ["ZADD", "z", "1", "m"],
            ["MSET", "a", "1"],
            ["COPY", "k", "k3"],
            # Reads and commands that free memory keep working.
            ["GET", "k"],
            ["EXISTS", "k", "l"],
            ["LRANGE", "l", "0", "-1"],
            ["MEMORY", "USAGE", "nokey"],
            ["OBJECT", "ENCODING", "k"],
            ["CONFIG", "GET", "maxmemory"],
            ["LPOP", "l"],
            ["EXPIRE", "k", "100"],
            ["TTL", "k"],
            ["PERSIST", "k"],
            ["RENAME", "k", "k4"],
            ["DEL", "k4", "nokey"],
            ["FLUSHDB"],
            ["EVAL", "return 1", "0"],
            # Inside MULTI every command but EXEC/DISCARD is refused at queue time, and EXEC
            # then aborts.
            ["MULTI"],
            ["GET", "k"],
            ["SET", "k", "v"],
            ["EXEC"],
            ["MULTI"],
            ["DISCARD"],
            ["CONFIG", "SET", "maxmemory", "0"],
            ["SET", "k", "back"],
            ["GET", "k"],
        ]
    )
    # The text itself (the wording), not only the same as Redis's.
    diff.steps([["CONFIG", "SET", "maxmemory", "1"]], flush=False)
    assert diff.call(diff.s, "SET", "k", "v") == ("err", OOM)


def test_oom_reached_while_a_transaction_is_queued_matches_redis(
    diff: MemoryDifferential,
) -> None:
    """The limit drops between queueing and EXEC (set by another client)."""
    for denyoom in (True, False):
        diff.steps(
            [
                ["MULTI"],
                ["SET", "k", "v"] if denyoom else ["GET", "k"],
                ["DEL", "k"],
            ]
        )
        for conn in (diff.o_aux, diff.s_aux):
            diff.ok(conn, "CONFIG", "SET", "maxmemory", "1")
        try:
            diff.steps([["EXEC"], ["GET", "k"]], flush=False)
        finally:
            for conn in (diff.o_aux, diff.s_aux):
                diff.ok(conn, "CONFIG", "SET", "maxmemory", "0")


OOM_LIBRARY = """#!lua name=oomlib
redis.register_function('w', function(k, a) return redis.call('set', 'k', 'v') end)
redis.register_function{function_name='ro', callback=function(k, a)
  return redis.call('get', 'k') end, flags={'no-writes'}}
redis.register_function{function_name='ao', callback=function(k, a)
  return redis.call('set', 'k', 'v') end, flags={'allow-oom'}}
"""


def test_oom_inside_scripts_matches_redis(diff: MemoryDifferential) -> None:
    """A script without a shebang runs, but its first denyoom call before any write is
    refused; code that declares flags is refused whole unless allow-oom or no-writes."""
    try:
        diff.steps(
            [
                ["FUNCTION", "LOAD", "REPLACE", OOM_LIBRARY],
                ["SET", "k", "v0"],
                ["CONFIG", "SET", "maxmemory", "1"],
                ["EVAL", "return redis.call('get', 'k')", "0"],
                ["EVAL", "return redis.call('set', 'k', 'v')", "0"],
                ["EVAL", "return redis.pcall('set', 'k', 'v')", "0"],
                ["EVAL", "local e = redis.pcall('incr', 'n'); return e['err']", "0"],
                ["EVAL", "redis.call('del', 'x'); return redis.call('set', 'k', 'v2')", "0"],
                ["EVAL", "return redis.call('del', 'x')", "0"],
                ["EVAL", "#!lua\nreturn 1", "0"],
                ["EVAL", "#!lua flags=no-writes\nreturn redis.call('get', 'k')", "0"],
                ["EVAL", "#!lua flags=allow-oom\nreturn redis.call('set', 'k', 'v3')", "0"],
                ["EVAL_RO", "return redis.call('get', 'k')", "0"],
                ["EVAL_RO", "#!lua\nreturn 1", "0"],
                ["FCALL", "w", "0"],
                ["FCALL", "ro", "0"],
                ["FCALL_RO", "ro", "0"],
                ["FCALL", "ao", "0"],
                ["GET", "k"],
                ["CONFIG", "SET", "maxmemory", "0"],
            ]
        )
    finally:
        for conn in (diff.o, diff.s):
            diff.call(conn, "CONFIG", "SET", "maxmemory", "0")
            diff.call(conn, "FUNCTION", "DELETE", "oomlib")


# --------------------------------------------------------------------------
# CLIENT NO-EVICT and arity
# --------------------------------------------------------------------------


def _client_flags(diff: MemoryDifferential) -> list[bytes]:
    out = []
    for r in diff.both("CLIENT", "INFO"):
        text = r.value if isinstance(r, Tagged) else r
        m = re.search(rb" flags=(\S*) ", text)
        assert m, text
        out.append(m.group(1))
    return out


def test_client_no_evict_matches_redis(diff: MemoryDifferential) -> None:
    for arg, flags in [("on", b"e"), ("OFF", b"N"), ("On", b"e"), ("off", b"N")]:
        diff.steps([["CLIENT", "NO-EVICT", arg]], flush=False)
        assert _client_flags(diff) == [flags, flags]
    diff.steps(
        [
            ["CLIENT", "NO-EVICT", "maybe"],
            ["CLIENT", "NO-EVICT", ""],
            ["CLIENT", "NO-EVICT", "1"],
            ["CLIENT", "NO-EVICT"],
            ["CLIENT", "NO-EVICT", "on", "x"],
            ["CLIENT", "no-evict", "ON"],
        ],
        flush=False,
    )


def test_arity_and_unknown_subcommand_errors_match_redis(diff: MemoryDifferential) -> None:
    diff.steps(
        [
            ["CONFIG"],
            ["CONFIG", "GET"],
            ["CONFIG", "SET"],
            ["CONFIG", "SET", "maxmemory"],
            ["CONFIG", "FOO"],
            ["CONFIG", "RESETSTAT", "x"],
            ["CONFIG", "HELP", "x"],
            ["OBJECT"],
            ["OBJECT", "FREQ"],
            ["OBJECT", "FREQ", "a", "b"],
            ["OBJECT", "IDLETIME"],
            ["OBJECT", "IDLETIME", "a", "b"],
            ["OBJECT", "ENCODING"],
            ["OBJECT", "REFCOUNT", "a", "b"],
            ["OBJECT", "FOO", "k"],
            ["OBJECT", "HELP"],
            ["OBJECT", "HELP", "x"],
            ["MEMORY"],
            ["MEMORY", "USAGE"],
            ["MEMORY", "STATS", "x"],
            ["CLIENT", "NO-EVICT"],
        ]
    )
