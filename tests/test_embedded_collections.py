"""`fastkv.Store`'s native collection methods (hashes, sets, sorted sets, lists, SORT)
against redis-py.

Every call runs twice with the same arguments: on an embedded `fastkv.Store` and on
`redis.Redis(protocol=3)` connected to a real redis-server (`redis_oracle`), both with
and both without `decode_responses`. The return values must be equal *and* of the same
types all the way down (a `bool` is not an `int`, a tuple not a list, a set not a list);
errors must be of the same kind (`DataError` raised before sending, `ResponseError` from
the server, ...) with the same text; warnings (redis-py's deprecation of `hmset`) the
same. Replies Redis leaves unordered (HKEYS, SSCAN pages, ...) are compared as multisets;
random ones (SPOP, SRANDMEMBER, HRANDFIELD, ZRANDMEMBER) on inputs where the result is
forced.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest
import redis
from helpers import Redis, ServerHandle, error_text

# --------------------------------------------------------------------------
# The harness
# --------------------------------------------------------------------------


def canon(value: Any, order_free: bool = False) -> str:
    """A repr that keeps every type and ignores the order of dicts and sets (and of
    lists, with `order_free`)."""
    if isinstance(value, dict):
        items = sorted(f"{canon(k)}: {canon(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, (set, frozenset)):
        return f"{type(value).__name__}({sorted(canon(v) for v in value)})"
    if isinstance(value, (list, tuple)):
        parts = [canon(v) for v in value]
        if order_free:
            parts.sort()
        open_, close = ("[", "]") if isinstance(value, list) else ("(", ")")
        return open_ + ", ".join(parts) + close
    return repr(value)


def outcome(client: Any, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """What a call did: ("ok", value) or ("error", kind, text), plus the warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result: Any = ("ok", getattr(client, method)(*args, **kwargs))
        except redis.exceptions.DataError as e:
            result = ("error", "DataError", str(e))
        except redis.exceptions.ResponseError as e:
            result = ("error", "ResponseError", error_text(e))
        except UnicodeDecodeError as e:
            # Python's reason text ("invalid start byte") is not Rust's; the offset is.
            result = ("error", "UnicodeDecodeError", e.start)
        except (TypeError, ValueError) as e:
            result = ("error", type(e).__name__, str(e))
    return result, [(w.category.__name__, str(w.message)) for w in caught]


@dataclass
class Both:
    """An embedded store and redis-py on a real Redis, driven in lockstep."""

    store: Any
    oracle: Redis
    decode: bool

    def __call__(self, method: str, *args: Any, order_free: bool = False, **kwargs: Any) -> Any:
        """Calls `method` on both; asserts the same outcome; returns the store's value."""
        got, got_warnings = outcome(self.store, method, args, kwargs)
        want, want_warnings = outcome(self.oracle, method, args, kwargs)
        call = f"{method}{args!r} {kwargs!r}"
        if got[0] == "ok" and want[0] == "ok":
            assert canon(got[1], order_free) == canon(want[1], order_free), call
        else:
            assert got == want, call
        assert got_warnings == want_warnings, call
        return got[1] if got[0] == "ok" else None

    def each(self, method: str, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        """Calls `method` on both without comparing (random replies); returns both values."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return (
                getattr(self.store, method)(*args, **kwargs),
                getattr(self.oracle, method)(*args, **kwargs),
            )

    def s(self, text: str) -> Any:
        """`text` as the clients return it (str when decoding, else bytes)."""
        return text if self.decode else text.encode()


@pytest.fixture(params=[False, True], ids=["bytes", "decoded"])
def both(
    request: pytest.FixtureRequest, redis_oracle: ServerHandle, fastkv_module: ModuleType
) -> Iterator[Both]:
    decode: bool = request.param
    oracle = redis_oracle.client(protocol=3, decode_responses=decode)
    oracle.flushall()
    yield Both(fastkv_module.Store(decode_responses=decode), oracle, decode)
    oracle.close()


def lists_available(store: Any) -> bool:
    try:
        store.execute_command("LLEN", "probe")
    except redis.exceptions.ResponseError:
        return False
    return True


# --------------------------------------------------------------------------
# Hashes
# --------------------------------------------------------------------------


def test_hset_forms(both: Both) -> None:
    both("hset", "h", "f1", "v1")
    both("hset", "h", "f1", "v2")
    both("hset", "h", mapping={"a": 1, "b": 2.5, b"c\xff": b"\x00"})
    both("hset", "h", items=["i1", "x", "i2", 7])
    both("hset", "h", "k", "v", mapping={"m": "n"}, items=["i3", "y"])
    both("hset", "h", items=[])
    both("hset", "h", mapping={})
    both("hset", "h", "only-key")  # value None: redis-py cannot encode it
    both("hset", "h", "f", True)  # nor a bool
    both("hset", "h", "f", [1])
    both("hset", "h", items=["odd"])
    both("hgetall", "h")  # b"c\xff" fails to decode alike in decoded mode
    both("set", "s", "x")
    both("hset", "s", "f", "v")


def test_hash_reads(both: Both) -> None:
    both("hset", "h", mapping={"a": "1", "b": "two", "c": "3.5", 7: 8})
    both("hget", "h", "a")
    both("hget", "h", "missing")
    both("hget", "nokey", "a")
    both("hget", "h", 7)
    both("hmget", "h", ["a", "b", "zz"])
    both("hmget", "h", "a")
    both("hmget", "h", "a", "b", "c")
    both("hmget", "h", ("a", "c"), "b")
    both("hmget", "nokey", ["a"])
    both("hgetall", "h")
    both("hgetall", "nokey")
    both("hexists", "h", "a")
    both("hexists", "h", "zz")
    both("hexists", "nokey", "a")
    both("hlen", "h")
    both("hlen", "nokey")
    both("hstrlen", "h", "b")
    both("hstrlen", "h", "zz")
    both("hkeys", "h", order_free=True)
    both("hvals", "h", order_free=True)
    both("hkeys", "nokey")
    both("hvals", "nokey")
    both("set", "s", "x")
    for method, args in [
        ("hget", ("s", "a")),
        ("hmget", ("s", ["a"])),
        ("hgetall", ("s",)),
        ("hexists", ("s", "a")),
        ("hlen", ("s",)),
        ("hkeys", ("s",)),
        ("hvals", ("s",)),
        ("hstrlen", ("s", "a")),
    ]:
        both(method, *args)


def test_hash_writes(both: Both) -> None:
    both("hsetnx", "h", "a", "1")
    both("hsetnx", "h", "a", "2")
    both("hget", "h", "a")
    both("hdel", "h", "a", "zz")
    both("hdel", "h", "a")
    both("hdel", "nokey", "a")
    both("hdel", "h")
    both("hincrby", "h", "n")
    both("hincrby", "h", "n", 10)
    both("hincrby", "h", "n", -3)
    both("hincrby", "h", "n", "5")
    both("hincrby", "h", "n", 1.5)
    both("hset", "h", "t", "text")
    both("hincrby", "h", "t")
    both("hincrbyfloat", "h", "f")
    both("hincrbyfloat", "h", "f", 2.25)
    both("hincrbyfloat", "h", "f", "-0.5")
    both("hincrbyfloat", "h", "f", 1e20)
    both("hincrbyfloat", "h", "n", 0.1)
    both("hincrbyfloat", "h", "t")
    both("hgetall", "h")


def test_hmset_is_deprecated_but_works(both: Both) -> None:
    both("hmset", "h", {"a": 1, "b": "x"})
    both("hmset", "h", {})
    both("hgetall", "h")
    both("set", "s", "x")
    both("hmset", "s", {"a": 1})


def test_hrandfield(both: Both) -> None:
    both("hrandfield", "nokey")
    both("hrandfield", "nokey", 2)
    both("hrandfield", "nokey", 2, withvalues=True)
    both("hset", "one", "f", "v")
    both("hrandfield", "one")
    both("hrandfield", "one", 1)
    both("hrandfield", "one", 3)
    both("hrandfield", "one", -3)
    both("hrandfield", "one", 1, withvalues=True)
    both("hrandfield", "one", -2, withvalues=True)
    both("hrandfield", "one", withvalues=True)  # WITHVALUES without a count: an error
    both("hset", "h", mapping={"a": 1, "b": 2, "c": 3})
    both("hrandfield", "h", 10, order_free=True)
    got, want = both.each("hrandfield", "h", 10, withvalues=True)
    assert sorted(map(tuple, got)) == sorted(map(tuple, want))
    got, want = both.each("hrandfield", "h")
    assert type(got) is type(want) and got in both.store.hkeys("h")


def test_hscan(both: Both) -> None:
    both("hscan", "nokey")
    fields = {f"f{i}": i for i in range(20)}
    both("hset", "h", mapping=fields)
    both("hscan", "h")  # a small hash comes back whole
    both("hscan", "h", 0, match="f1*")
    both("hscan", "h", cursor=0, match=b"f2", count=5)
    both("hscan", "h", no_values=True)  # NOVALUES is Redis 7.4: both fail alike
    both("hscan", "h", no_values=False)
    both("hscan", "h", "notanumber")
    both("set", "s", "x")
    both("hscan", "s")
    got = sorted(both.store.hscan_iter("h"))
    assert got == sorted(both.oracle.hscan_iter("h"))
    assert len(got) == 20 and all(type(p) is tuple for p in got)
    got = sorted(both.store.hscan_iter("h", match="f1*", count=3))
    assert got == sorted(both.oracle.hscan_iter("h", match="f1*", count=3))
    assert list(both.store.hscan_iter("nokey")) == []


def test_hscan_big_hash_pages(both: Both) -> None:
    both("hset", "h", mapping={f"field:{i}": i for i in range(600)})
    cursor, page = both.store.hscan("h", count=50)
    assert cursor != 0 and isinstance(page, dict)
    seen = dict(both.store.hscan_iter("h", count=50))
    assert seen == dict(both.oracle.hscan_iter("h", count=50))
    assert len(seen) == 600


# --------------------------------------------------------------------------
# Sets
# --------------------------------------------------------------------------


def test_set_basics(both: Both) -> None:
    both("sadd", "s", "a", "b", "c", 1, 2.5, b"\x00")
    both("sadd", "s", "a")
    both("sadd", "s")
    both("srem", "s", "a", "zz")
    both("srem", "nokey", "a")
    both("smembers", "s")
    both("smembers", "nokey")
    both("sismember", "s", "b")
    both("sismember", "s", "zz")
    both("sismember", "nokey", "b")
    both("smismember", "s", ["b", "zz", "c"])
    both("smismember", "s", "b")
    both("smismember", "s", "b", "zz")
    both("smismember", "nokey", ["b"])
    both("scard", "s")
    both("scard", "nokey")
    both("sadd", "ints", 3, 1, 2)
    both("smembers", "ints")
    both("set", "str", "x")
    for method, args in [
        ("sadd", ("str", "a")),
        ("smembers", ("str",)),
        ("sismember", ("str", "a")),
        ("scard", ("str",)),
        ("srem", ("str", "a")),
    ]:
        both(method, *args)


def test_spop_and_srandmember(both: Both) -> None:
    both("spop", "nokey")
    both("spop", "nokey", 2)
    both("srandmember", "nokey")
    both("srandmember", "nokey", 2)
    both("sadd", "one", "m")
    both("srandmember", "one")
    both("srandmember", "one", 1)
    both("srandmember", "one", -3)
    both("srandmember", "one", 0)
    both("srandmember", "one", "x")
    both("spop", "one", 0)
    both("spop", "one", -1)
    both("spop", "one")
    both("sadd", "s", "a", "b", "c")
    both("srandmember", "s", 5, order_free=True)
    both("spop", "s", 10, order_free=True)  # every member: a list (RESP3 sets are lists)
    both("exists", "s")
    both("sadd", "s", "a", "b", "c")
    got, want = both.each("spop", "s", 2)
    assert type(got) is type(want) is list and len(got) == len(want) == 2
    got, want = both.each("spop", "s")
    assert type(got) is type(want) and got not in both.store.smembers("s")


def test_smove(both: Both) -> None:
    both("sadd", "a", "x", "y")
    both("smove", "a", "b", "x")
    both("smove", "a", "b", "zz")
    both("smove", "nokey", "b", "x")
    both("smembers", "b")
    both("set", "str", "v")
    both("smove", "a", "str", "y")
    both("smove", "str", "a", "y")


def test_set_algebra(both: Both) -> None:
    both("sadd", "a", "1", "2", "3", "x")
    both("sadd", "b", "2", "3", "4")
    both("sadd", "c", "3", "x")
    for method in ("sinter", "sunion", "sdiff"):
        both(method, ["a", "b"])
        both(method, "a", "b", "c")
        both(method, "a")
        both(method, ("a", "c"), "nokey")
        both(method, [])
    both("sinterstore", "d", ["a", "b"])
    both("smembers", "d")
    both("sunionstore", "d", "a", "b")
    both("sdiffstore", "d", ["a", "b", "c"])
    both("smembers", "d")
    both("sinterstore", "d", ["a", "nokey"])
    both("exists", "d")
    both("sintercard", 2, ["a", "b"])
    both("sintercard", 3, ["a", "b", "c"])
    both("sintercard", 2, ["a", "b"], limit=1)
    both("sintercard", 2, ["a", "b"], 1)
    both("sintercard", 3, ["a", "b"])
    both("sintercard", 1, ["a"], limit=-1)
    both("set", "str", "v")
    both("sinter", "a", "str")
    both("sunionstore", "d", "a", "str")


def test_sscan(both: Both) -> None:
    both("sscan", "nokey")
    both("sadd", "s", *[f"m{i}" for i in range(30)])
    # Cursors and pages are the engine's own past one page (Redis 7.0 keeps a set of
    # strings in a hash table); an intset comes back whole, in order, from both.
    both("sadd", "ints", *range(10))
    both("sscan", "ints")
    both("sscan", "ints", 0, match="1*", count=3)
    both("sscan", "ints", cursor=0, match=b"2", count=100)
    both("sscan", "ints", 0, count=0)
    both("sscan", "ints", "x")
    cursor, page = both.store.sscan("s", count=5)
    assert type(cursor) is int and type(page) is list
    both("set", "str", "v")
    both("sscan", "str")
    assert sorted(both.store.sscan_iter("s")) == sorted(both.oracle.sscan_iter("s"))
    assert sorted(both.store.sscan_iter("s", match="m1*", count=2)) == sorted(
        both.oracle.sscan_iter("s", match="m1*", count=2)
    )
    both("sadd", "big", *range(1000))
    members = list(both.store.sscan_iter("big", count=20))
    assert len(members) == 1000
    assert set(members) == set(both.oracle.sscan_iter("big", count=20))


# --------------------------------------------------------------------------
# Sorted sets
# --------------------------------------------------------------------------


def test_zadd(both: Both) -> None:
    both("zadd", "z", {"a": 1, "b": 2.5, "c": "3", b"\xffd": -1})
    both("zadd", "z", {"a": 5}, nx=True)
    both("zadd", "z", {"a": 5, "e": 0}, xx=True)
    both("zadd", "z", {"a": 6, "e": 0}, ch=True)
    both("zadd", "z", {"a": 1}, incr=True)
    both("zadd", "z", {"a": 1}, incr=True, nx=True)  # not applied: None
    both("zadd", "z", {"a": 1}, gt=True, ch=True)
    both("zadd", "z", {"a": 100}, lt=True, ch=True)
    both("zadd", "z", {"inf": "inf", "ninf": "-inf"})
    both("zadd", "z", {"bad": "abc"})
    both("zadd", "z", {"bad": "nan"})
    both("zadd", "z", {})
    both("zadd", "z", {"a": 1}, nx=True, xx=True)
    both("zadd", "z", {"a": 1}, gt=True, lt=True)
    both("zadd", "z", {"a": 1, "b": 2}, incr=True)
    both("zadd", "z", {"a": 1}, nx=True, gt=True)
    both("zadd", "z", {"a": None})
    both("zrange", "z", 0, -1, withscores=True)
    both("set", "str", "v")
    both("zadd", "str", {"a": 1})


def test_zset_reads(both: Both) -> None:
    both("zadd", "z", {"a": 1, "b": 2, "c": 2, "d": 3.5, "e": 10})
    both("zincrby", "z", 1, "a")
    both("zincrby", "z", -0.5, "new")
    both("zincrby", "z", "x", "a")
    both("zincrby", "nokey", 2, "m")
    both("zrem", "z", "new", "zz")
    both("zrem", "nokey", "a")
    both("zcard", "z")
    both("zcard", "nokey")
    both("zcount", "z", 2, 3.5)
    both("zcount", "z", "(2", "+inf")
    both("zcount", "z", "-inf", "(10")
    both("zcount", "z", "x", 1)
    both("zscore", "z", "d")
    both("zscore", "z", "zz")
    both("zscore", "nokey", "a")
    both("zmscore", "z", ["a", "zz", "e"])
    both("zmscore", "nokey", ["a"])
    both("zmscore", "z", [])
    for method in ("zrank", "zrevrank"):
        both(method, "z", "c")
        both(method, "z", "zz")
        both(method, "nokey", "a")
        both(method, "z", "c", withscore=True)  # WITHSCORE is Redis 7.2: both fail alike
    both("zadd", "lex", {m: 0 for m in ["a", "b", "c", "d", "e"]})
    both("zlexcount", "lex", "-", "+")
    both("zlexcount", "lex", "[b", "(d")
    both("zlexcount", "lex", "b", "d")
    both("set", "str", "v")
    for method, args in [
        ("zscore", ("str", "a")),
        ("zcard", ("str",)),
        ("zrank", ("str", "a")),
        ("zmscore", ("str", ["a"])),
        ("zincrby", ("str", 1, "a")),
    ]:
        both(method, *args)


def test_zrange(both: Both) -> None:
    both("zadd", "z", {"a": 1, "b": 2, "c": 2.5, "d": 3, "e": -1, "f": 1e20})
    both("zrange", "z", 0, -1)
    both("zrange", "z", 0, -1, withscores=True)
    both("zrange", "z", 1, 3, desc=True)
    both("zrange", "z", 0, -1, desc=True, withscores=True)
    both("zrange", "z", 0, -1, withscores=True, score_cast_func=int)
    both("zrange", "z", 0, -1, withscores=True, score_cast_func=str)
    both("zrange", "z", 0, -1, withscores=True, score_cast_func=lambda s: s * 2)
    both("zrange", "z", 1, "(3", byscore=True)
    both("zrange", "z", "-inf", "+inf", byscore=True, withscores=True)
    both("zrange", "z", "+inf", "-inf", byscore=True, desc=True)
    both("zrange", "z", "-inf", "+inf", byscore=True, offset=1, num=2)
    both("zrange", "z", 0, -1, offset=1, num=2)  # LIMIT without BY*: an error
    both("zrange", "z", 0, -1, desc=True, offset=0, num=1, byscore=True)
    both("zrange", "z", 0, -1, byscore=True, bylex=True)
    both("zrange", "z", 0, -1, offset=1)
    both("zrange", "z", 0, -1, num=1)
    both("zrange", "z", "-", "+", bylex=True, withscores=True)
    both("zrange", "z", 5, 1)
    both("zrange", "nokey", 0, -1, withscores=True)
    both("zrange", "z", "a", 1)
    both("zadd", "lex", {m: 0 for m in ["a", "b", "c", "d"]})
    both("zrange", "lex", "[b", "+", bylex=True)
    both("zrange", "lex", "+", "(b", bylex=True, desc=True, offset=0, num=1)
    both("zrevrange", "z", 0, 2)
    both("zrevrange", "z", 0, -1, withscores=True)
    both("zrevrange", "z", 0, -1, True, int)
    both("zrevrange", "nokey", 0, -1)


def test_zrange_by_score_and_lex(both: Both) -> None:
    both("zadd", "z", {"a": 1, "b": 2, "c": 2.5, "d": 3, "e": -1})
    both("zrangebyscore", "z", 1, 3)
    both("zrangebyscore", "z", "(1", "+inf", withscores=True)
    both("zrangebyscore", "z", "-inf", "+inf", 1, 2)
    both("zrangebyscore", "z", "-inf", "+inf", start=1, num=2, withscores=True)
    both("zrangebyscore", "z", "-inf", "+inf", withscores=True, score_cast_func=int)
    both("zrangebyscore", "z", "-inf", "+inf", start=1)
    both("zrangebyscore", "z", "x", 3)
    both("zrevrangebyscore", "z", 3, 1)
    both("zrevrangebyscore", "z", "+inf", "(1", withscores=True)
    both("zrevrangebyscore", "z", "+inf", "-inf", 0, 2, True, str)
    both("zrevrangebyscore", "z", "+inf", "-inf", num=2)
    both("zrangebyscore", "nokey", 0, 1)
    both("zadd", "lex", {m: 0 for m in ["a", "b", "c", "d", "e"]})
    both("zrangebylex", "lex", "-", "+")
    both("zrangebylex", "lex", "[b", "(e", 1, 1)
    both("zrangebylex", "lex", "b", "c")
    both("zrangebylex", "lex", "-", "+", start=0)
    both("zrevrangebylex", "lex", "+", "-")
    both("zrevrangebylex", "lex", "(e", "[b", start=0, num=2)
    both("zrevrangebylex", "lex", "+", "-", num=2)
    both("zrangebylex", "nokey", "-", "+")


def test_zrangestore_and_removals(both: Both) -> None:
    both("zadd", "z", {m: i for i, m in enumerate("abcdefgh")})
    both("zrangestore", "d", "z", 0, 2)
    both("zrange", "d", 0, -1, withscores=True)
    both("zrangestore", "d", "z", 2, 5, byscore=True, offset=1, num=2)
    both("zrangestore", "d", "z", "+", "[c", bylex=True, desc=True)
    both("zrangestore", "d", "z", 0, -1, desc=True)
    both("zrangestore", "d", "z", 0, -1, byscore=True, bylex=True)
    both("zrangestore", "d", "nokey", 0, -1)
    both("exists", "d")
    both("zremrangebyrank", "z", 0, 1)
    both("zremrangebyscore", "z", "(5", "+inf")
    both("zremrangebyscore", "z", "x", 1)
    both("zrange", "z", 0, -1)
    both("zadd", "lex", {m: 0 for m in "abcdef"})
    both("zremrangebylex", "lex", "[b", "(e")
    both("zremrangebylex", "lex", "b", "e")
    both("zrange", "lex", 0, -1)
    both("zremrangebyrank", "nokey", 0, -1)


def test_zpop(both: Both) -> None:
    both("zpopmin", "nokey")
    both("zpopmin", "nokey", 2)
    both("zadd", "z", {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5})
    both("zpopmin", "z")
    both("zpopmax", "z")
    both("zpopmin", "z", 2)
    both("zpopmax", "z", 1)
    both("zpopmax", "z", 0)
    both("zpopmin", "z", -1)
    both("zpopmax", "z", 10)
    both("exists", "z")
    both("zadd", "z1", {"a": 1, "b": 2})
    both("zadd", "z2", {"c": 3, "d": 4, "e": 5})
    both("zmpop", 2, ["nokey", "z2"], min=True)
    both("zmpop", 2, ["z1", "z2"], max=True, count=5)
    both("zmpop", 1, ["z2"], max=True, count=1)
    both("zmpop", 1, ["nokey"], min=True)
    both("zmpop", 1, ["z2"])
    both("zmpop", 1, ["z2"], min=True, max=True)
    both("zmpop", 2, ["z2"], min=True)
    both("zmpop", 1, ["z2"], min=True, count=0)
    both("set", "str", "v")
    both("zpopmin", "str")
    both("zmpop", 1, ["str"], min=True)


def test_zrandmember(both: Both) -> None:
    both("zrandmember", "nokey")
    both("zrandmember", "nokey", 2)
    both("zrandmember", "nokey", 2, withscores=True)
    both("zadd", "one", {"m": 1.5})
    both("zrandmember", "one")
    both("zrandmember", "one", 1)
    both("zrandmember", "one", -3)
    both("zrandmember", "one", 2, withscores=True)
    both("zrandmember", "one", -2, withscores=True)
    both("zrandmember", "one", withscores=True)  # WITHSCORES without a count: an error
    both("zadd", "z", {"a": 1, "b": 2, "c": 3})
    got, want = both.each("zrandmember", "z", 5, withscores=True)
    assert sorted(got) == sorted(want) and all(type(p) is list for p in got)


def test_zset_algebra(both: Both) -> None:
    both("zadd", "a", {"x": 1, "y": 2, "z": 3})
    both("zadd", "b", {"y": 10, "z": 20, "w": 30})
    both("sadd", "s", "x", "w")
    for method in ("zunion", "zinter"):
        both(method, ["a", "b"])
        both(method, ["a", "b"], withscores=True)
        both(method, ["a", "b", "s"], aggregate="MAX", withscores=True)
        both(method, {"a": 2, "b": 0.5}, withscores=True)
        both(method, {"a": 2, "b": 0.5}, "min", True)
        both(method, ["a", "b"], aggregate="avg")
        both(method, ["a", "b"], aggregate="")
        both(method, ["nokey"], withscores=True)
    both("zunion", ["a", "b"], withscores=True, score_cast_func=int)
    both("zdiff", ["a", "b"])
    both("zdiff", ["b", "a"], withscores=True)
    both("zdiff", ["nokey", "a"], withscores=True)
    both("zunionstore", "d", ["a", "b"])
    both("zrange", "d", 0, -1, withscores=True)
    both("zunionstore", "d", {"a": 1, "b": -1}, aggregate="SUM")
    both("zinterstore", "d", ["a", "b"], aggregate="max")
    both("zrange", "d", 0, -1, withscores=True)
    both("zinterstore", "d", {"a": 3, "s": 1})
    both("zinterstore", "d", ["a", "b"], aggregate="bogus")
    both("zdiffstore", "d", ["a", "b"])
    both("zrange", "d", 0, -1, withscores=True)
    both("zdiffstore", "d", ["nokey"])
    both("zintercard", 2, ["a", "b"])
    both("zintercard", 2, ["a", "b"], limit=1)
    both("zintercard", 2, ["a", "s"], 0)
    both("zintercard", 3, ["a", "b"])
    both("set", "str", "v")
    both("zunion", ["a", "str"])
    both("zinterstore", "d", ["a", "str"])


def test_zscan(both: Both) -> None:
    both("zscan", "nokey")
    both("zadd", "z", {f"m{i}": i / 4 for i in range(20)})
    both("zscan", "z")
    both("zscan", "z", 0, match="m1*")
    both("zscan", "z", cursor=0, count=5, score_cast_func=int)
    both("zscan", "z", score_cast_func=str)
    both("zscan", "z", score_cast_func=lambda s: s)
    both("zadd", "inf", {"a": "inf", "b": "-inf", "c": 1e300})
    both("zscan", "inf")
    both("set", "str", "v")
    both("zscan", "str")
    assert sorted(both.store.zscan_iter("z")) == sorted(both.oracle.zscan_iter("z"))
    got = sorted(both.store.zscan_iter("z", match="m1*", count=2, score_cast_func=int))
    want = sorted(both.oracle.zscan_iter("z", match="m1*", count=2, score_cast_func=int))
    assert canon(got) == canon(want)
    both("zadd", "big", {f"m{i}": i for i in range(500)})
    pairs = list(both.store.zscan_iter("big", count=30))
    assert len(pairs) == 500 and all(type(p) is tuple and type(p[1]) is float for p in pairs)
    assert sorted(pairs) == sorted(both.oracle.zscan_iter("big", count=30))


# --------------------------------------------------------------------------
# SORT
# --------------------------------------------------------------------------


def test_sort(both: Both) -> None:
    both("sadd", "s", 3, 1, 2, 10)
    both("mset", {"w_1": 4, "w_2": 3, "w_3": 2, "w_10": 1})
    both("mset", {"o_1": "one", "o_2": "two", "o_3": "three", "o_10": "ten"})
    both("hset", "h_1", "f", "x1")
    both("sort", "s")
    both("sort", "s", desc=True)
    both("sort", "s", alpha=True)
    both("sort", "s", 1, 2)
    both("sort", "s", start=0, num=2, desc=True)
    both("sort", "s", start=1)
    both("sort", "s", by="w_*")
    both("sort", "s", by="nosort")
    both("sort", "s", get="o_*")
    both("sort", "s", get=["#", "o_*", "h_*->f"])
    both("sort", "s", get=["#", "o_*"], groups=True)
    both("sort", "s", by="w_*", get=("o_*", "#", "w_*"), groups=True)
    both("sort", "s", get="o_*", groups=True)
    both("sort", "s", get=["#"], groups=True)
    both("sort", "s", groups=True)
    both("sort", "nokey")
    both("sadd", "words", "b", "a", "c")
    both("sort", "words")
    both("sort", "words", alpha=True, desc=True)
    both("zadd", "z", {"x": 3, "y": 1, "z": 2})
    both("sort", "z", alpha=True)
    both("sort_ro", "s")
    both("sort_ro", "s", 0, 2, by="w_*", get=["#", "o_*"], desc=True)
    both("sort_ro", "words", alpha=True)
    both("sort_ro", "s", num=1)
    both("set", "str", "v")
    both("sort", "str")


# --------------------------------------------------------------------------
# Lists (while the list family lands, these run only once LLEN is known)
# --------------------------------------------------------------------------


def test_lists(both: Both) -> None:
    if not lists_available(both.store):
        pytest.skip("the list family is not in this build yet")
    both("lpush", "l", "a", "b", 1)
    both("rpush", "l", "c", 2.5, b"\x00")
    both("lpushx", "l", "x")
    both("rpushx", "l", "y")
    both("lpushx", "nokey", "x")
    both("rpushx", "nokey", "x")
    both("llen", "l")
    both("llen", "nokey")
    both("lrange", "l", 0, -1)
    both("lrange", "l", 2, 1)
    both("lindex", "l", 0)
    both("lindex", "l", -1)
    both("lindex", "l", 100)
    both("lset", "l", 0, "X")
    both("lset", "l", 100, "X")
    both("lset", "nokey", 0, "X")
    both("linsert", "l", "BEFORE", "X", "before-X")
    both("linsert", "l", "after", "c", "after-c")
    both("linsert", "l", "AFTER", "zz", "v")
    both("linsert", "l", "middle", "c", "v")
    both("rpush", "l", "c", "c")
    both("lrem", "l", 1, "c")
    both("lrem", "l", -1, "c")
    both("lrem", "l", 0, "zz")
    both("lpos", "l", "c")
    both("lpos", "l", "zz")
    both("rpush", "p", *"abcabcabc")
    both("lpos", "p", "c", rank=2)
    both("lpos", "p", "c", rank=-1)
    both("lpos", "p", "c", count=0)
    both("lpos", "p", "c", count=2, maxlen=6)
    both("lpos", "p", "c", rank=0)
    both("ltrim", "l", 1, -2)
    both("lrange", "l", 0, -1)
    both("lpop", "l")
    both("rpop", "l")
    both("lpop", "l", 2)
    both("rpop", "l", 0)
    both("lpop", "nokey")
    both("lpop", "nokey", 2)
    both("lmove", "p", "q")
    both("lmove", "p", "q", "RIGHT", "LEFT")
    both("lmove", "p", "q", "UP", "LEFT")
    both("rpoplpush", "p", "q")
    both("rpoplpush", "nokey", "q")
    both("lrange", "q", 0, -1)
    both("lmpop", 2, "nokey", "p", direction="LEFT")
    both("lmpop", 1, "q", direction="RIGHT", count=2)
    both("lmpop", 1, "nokey", direction="RIGHT")
    both("set", "str", "v")
    both("lpush", "str", "a")
    both("lrange", "str", 0, -1)


def test_sort_lists_and_store(both: Both) -> None:
    if not lists_available(both.store):
        pytest.skip("the list family is not in this build yet")
    both.store.rpush("probe", 1)
    try:
        both.store.sort("probe")
    except redis.exceptions.ResponseError:
        pytest.skip("SORT does not take lists in this build yet")
    both.store.delete("probe")
    both("sadd", "nums", 3, 1, 2)
    both("rpush", "nl", 3, 1, 2)
    both("sort", "nl")
    both("sort", "nl", desc=True, store="nl2")
    both("lrange", "nl2", 0, -1)
    both("sort", "nums", store="dst")
    both("sort", "nums", get=["#", "nokey_*"], store="dst2")
    both("lrange", "dst2", 0, -1)


def test_blocking_list_pops(both: Both) -> None:
    if not lists_available(both.store):
        pytest.skip("the list family is not in this build yet")
    both("rpush", "l", *"abcdefgh")
    both("blpop", ["nokey", "l"], 1)
    both("brpop", "l", timeout=1)
    both("brpop", ("nokey", "l"))
    both("brpoplpush", "l", "m", 1)
    both("blmove", "l", "m", 1)
    both("blmove", "l", "m", 1, "RIGHT", "LEFT")
    both("blmpop", 1, 2, "nokey", "l", direction="LEFT")
    both("blmpop", 1, 1, "m", direction="RIGHT", count=5)
    both("lrange", "l", 0, -1)
    # Timeouts: None from both.
    both("blpop", "nokey", 0.05)
    both("brpop", ["nokey", "other"], 0.05)
    both("brpoplpush", "nokey", "m", 0.05)
    both("blmove", "nokey", "m", 0.05, "LEFT", "RIGHT")
    both("blmpop", 0.05, 1, "nokey", direction="LEFT")
    both("blpop", "nokey", -1)
    both("blpop", "nokey", "x")
    both("set", "str", "v")
    both("blpop", "str", 0.05)


@pytest.mark.fastkv_only
def test_blocking_pop_waits_without_the_gil(fastkv_module: ModuleType) -> None:
    store = fastkv_module.Store()
    if not lists_available(store):
        pytest.skip("the list family is not in this build yet")
    ticks = 0
    done = threading.Event()

    def spin() -> None:  # runs only if the waiting thread let go of the GIL
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            time.sleep(0.001)

    spinner = threading.Thread(target=spin)
    spinner.start()
    pusher = threading.Timer(0.2, lambda: store.rpush("q", "job"))
    started = time.monotonic()  # before the timer starts: the push is >= 0.2 s after this
    pusher.start()
    try:
        assert store.blpop("q", timeout=None) == [b"q", b"job"]  # None: wait forever
        assert 0.15 < time.monotonic() - started < 5
        assert ticks > 10
        started = time.monotonic()
        assert store.blmove("nokey", "dst", 0.1) is None
        assert 0.05 < time.monotonic() - started < 5
    finally:
        done.set()
        spinner.join()
        pusher.cancel()
