"""Type stubs for the native module ``fastkv._fastkv``."""

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal, TypeAlias, TypeVar, final

from typing_extensions import Self, deprecated

# What a command argument may be, encoded as redis-py encodes it: bytes-like as is,
# str as UTF-8, int and float as ``repr()``. ``bool`` and anything else raise DataError.
_Encodable: TypeAlias = bytes | bytearray | memoryview | str | int | float
_Key: TypeAlias = _Encodable
# A relative expiry: seconds (or milliseconds for the ``p`` variants), or a timedelta.
_Expiry: TypeAlias = int | timedelta
# An absolute expiry: a unix time in seconds (or milliseconds), or a datetime.
_AbsExpiry: TypeAlias = int | datetime
# A bulk reply: bytes, or str when the store decodes responses.
_Value: TypeAlias = bytes | str
# A mapping's key type (Mapping is invariant in it, so a TypeVar, not the union).
_MK = TypeVar("_MK", bound=_Encodable)
# A score or score bound: a number, or Redis's text for one ("(1.5", "-inf", "+inf").
_Score: TypeAlias = float | str | bytes
# redis-py's ``score_cast_func``: called with each score (a float; bytes or str for ZSCAN).
_ScoreCast: TypeAlias = Callable[[Any], Any]
# A set reply (SMEMBERS, SINTER, ...); an alias because ``Store.set`` shadows the builtin.
_ValueSet: TypeAlias = set[_Value]

__all__ = [
    "CollectionScanIterator",
    "Connection",
    "PubSub",
    "ScanIterator",
    "ServerHandle",
    "Store",
    "__version__",
    "server_main",
]

__version__: str

@final
class Store:
    """An in-process fastkv store.

    ``Store(decode_responses=False, **config)``: config keywords are redis.conf directive
    names with ``_`` for ``-`` (``Store(databases=4, hz=20, maxmemory="100mb")``); a bad
    directive raises ``ValueError``.
    """

    def __new__(cls, decode_responses: bool = False, **config: object) -> Self: ...
    @property
    def decode_responses(self) -> bool: ...
    def execute_command(self, *args: _Encodable) -> Any:
        """Runs any command; RESP3 reply types as Python types. Error replies raise
        ``fastkv.ResponseError``."""

    # Strings
    def get(self, name: _Key) -> _Value | None: ...
    def set(
        self,
        name: _Key,
        value: _Encodable,
        ex: _Expiry | str | None = None,
        px: _Expiry | None = None,
        nx: bool = False,
        xx: bool = False,
        keepttl: bool = False,
        get: bool = False,
        exat: _AbsExpiry | None = None,
        pxat: _AbsExpiry | None = None,
    ) -> bool | _Value | None: ...
    def delete(self, *names: _Key) -> int: ...
    def exists(self, *names: _Key) -> int: ...
    def incr(self, name: _Key, amount: int = 1) -> int: ...
    def incrby(self, name: _Key, amount: int = 1) -> int: ...
    def decr(self, name: _Key, amount: int = 1) -> int: ...
    def decrby(self, name: _Key, amount: int = 1) -> int: ...
    def incrbyfloat(self, name: _Key, amount: float = 1.0) -> float: ...
    def mget(self, keys: _Key | Iterable[_Key], *args: _Key) -> list[_Value | None]: ...
    def mset(self, mapping: Mapping[_Key, _Encodable]) -> bool: ...
    def msetnx(self, mapping: Mapping[_Key, _Encodable]) -> bool: ...
    def setnx(self, name: _Key, value: _Encodable) -> bool: ...
    def setex(self, name: _Key, time: _Expiry, value: _Encodable) -> bool: ...
    def psetex(self, name: _Key, time_ms: _Expiry, value: _Encodable) -> bool: ...
    def getset(self, name: _Key, value: _Encodable) -> _Value | None: ...
    def getdel(self, name: _Key) -> _Value | None: ...
    def getex(
        self,
        name: _Key,
        ex: _Expiry | str | None = None,
        px: _Expiry | None = None,
        exat: _AbsExpiry | None = None,
        pxat: _AbsExpiry | None = None,
        persist: bool = False,
    ) -> _Value | None: ...
    def append(self, key: _Key, value: _Encodable) -> int: ...
    def strlen(self, name: _Key) -> int: ...
    def getrange(self, key: _Key, start: int, end: int) -> _Value: ...
    def setrange(self, name: _Key, offset: int, value: _Encodable) -> int: ...

    # Keys and expiry
    def expire(
        self,
        name: _Key,
        time: _Expiry,
        nx: bool = False,
        xx: bool = False,
        gt: bool = False,
        lt: bool = False,
    ) -> bool: ...
    def pexpire(
        self,
        name: _Key,
        time: _Expiry,
        nx: bool = False,
        xx: bool = False,
        gt: bool = False,
        lt: bool = False,
    ) -> bool: ...
    def expireat(
        self,
        name: _Key,
        when: _AbsExpiry,
        nx: bool = False,
        xx: bool = False,
        gt: bool = False,
        lt: bool = False,
    ) -> bool: ...
    def pexpireat(
        self,
        name: _Key,
        when: _AbsExpiry,
        nx: bool = False,
        xx: bool = False,
        gt: bool = False,
        lt: bool = False,
    ) -> bool: ...
    def ttl(self, name: _Key) -> int: ...
    def pttl(self, name: _Key) -> int: ...
    def persist(self, name: _Key) -> bool: ...
    def type(self, name: _Key) -> _Value: ...
    def rename(self, src: _Key, dst: _Key) -> bool: ...
    def renamenx(self, src: _Key, dst: _Key) -> bool: ...
    def keys(self, pattern: _Encodable = "*") -> list[_Value]: ...
    def scan(
        self,
        cursor: int = 0,
        match: _Encodable | None = None,
        count: int | None = None,
        _type: str | None = None,
    ) -> tuple[int, list[_Value]]: ...
    def scan_iter(
        self,
        match: _Encodable | None = None,
        count: int | None = None,
        _type: str | None = None,
    ) -> ScanIterator: ...
    def dbsize(self) -> int: ...
    def flushdb(self, asynchronous: bool = False) -> bool: ...
    def flushall(self, asynchronous: bool = False) -> bool: ...

    # Connection and server
    def ping(self) -> bool: ...
    def echo(self, value: _Encodable) -> _Value: ...
    def time(self) -> tuple[int, int]: ...
    def info(self, section: str | None = None, *args: str) -> dict[str, Any]: ...
    def config_get(self, pattern: _Encodable = "*", *args: _Encodable) -> dict[str, str]: ...
    def config_set(self, name: _Encodable, value: _Encodable, *args: _Encodable) -> bool: ...
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> ServerHandle:
        """Serves this store's keyspace over RESP from background threads."""

    # Pub/Sub
    def publish(self, channel: _Encodable, message: _Encodable) -> int:
        """PUBLISH: the number of subscribers reached (network and in-process)."""
    def spublish(self, channel: _Encodable, message: _Encodable) -> int:
        """SPUBLISH: the number of shard-channel subscribers reached."""
    def pubsub(self, ignore_subscribe_messages: bool = False) -> PubSub:
        """A new subscriber on this store (its own engine client)."""

    # Hashes
    def hset(
        self,
        name: _Key,
        key: _Encodable | None = None,
        value: _Encodable | None = None,
        mapping: Mapping[_MK, _Encodable] | None = None,
        items: Iterable[_Encodable] | None = None,
    ) -> int: ...
    def hsetnx(self, name: _Key, key: _Encodable, value: _Encodable) -> int: ...
    def hget(self, name: _Key, key: _Encodable) -> _Value | None: ...
    def hmget(
        self, name: _Key, keys: _Encodable | Iterable[_Encodable], *args: _Encodable
    ) -> list[_Value | None]: ...
    @deprecated("Use 'hset' instead.")
    def hmset(self, name: _Key, mapping: Mapping[_MK, _Encodable]) -> bool: ...
    def hgetall(self, name: _Key) -> dict[_Value, _Value]: ...
    def hdel(self, name: _Key, *keys: _Encodable) -> int: ...
    def hexists(self, name: _Key, key: _Encodable) -> bool: ...
    def hlen(self, name: _Key) -> int: ...
    def hstrlen(self, name: _Key, key: _Encodable) -> int: ...
    def hkeys(self, name: _Key) -> list[_Value]: ...
    def hvals(self, name: _Key) -> list[_Value]: ...
    def hincrby(self, name: _Key, key: _Encodable, amount: int | str = 1) -> int: ...
    def hincrbyfloat(self, name: _Key, key: _Encodable, amount: float | str = 1.0) -> float: ...
    def hrandfield(
        self, key: _Key, count: int | None = None, withvalues: bool = False
    ) -> _Value | list[_Value] | list[list[_Value]] | None:
        """One field (or None); with ``count``, a list of fields, or of ``[field, value]``
        pairs with ``withvalues``."""
    def hscan(
        self,
        name: _Key,
        cursor: int | str = 0,
        match: _Encodable | None = None,
        count: int | None = None,
        no_values: bool | None = None,
    ) -> tuple[int, dict[_Value, _Value] | list[_Value]]:
        """``(cursor, {field: value})``; ``(cursor, [field, ...])`` with ``no_values``."""
    def hscan_iter(
        self,
        name: _Key,
        match: _Encodable | None = None,
        count: int | None = None,
        no_values: bool | None = None,
    ) -> CollectionScanIterator:
        """``(field, value)`` tuples (fields alone with ``no_values``), page by page."""

    # Sets
    def sadd(self, name: _Key, *values: _Encodable) -> int: ...
    def srem(self, name: _Key, *values: _Encodable) -> int: ...
    def smembers(self, name: _Key) -> _ValueSet: ...
    def sismember(self, name: _Key, value: _Encodable) -> Literal[0, 1]: ...
    def smismember(
        self, name: _Key, values: _Encodable | Iterable[_Encodable], *args: _Encodable
    ) -> list[Literal[0, 1]]: ...
    def scard(self, name: _Key) -> int: ...
    def spop(self, name: _Key, count: int | None = None) -> _Value | list[_Value] | None: ...
    def srandmember(
        self, name: _Key, number: int | None = None
    ) -> _Value | list[_Value] | None: ...
    def smove(self, src: _Key, dst: _Key, value: _Encodable) -> bool: ...
    def sinter(self, keys: _Key | Iterable[_Key], *args: _Key) -> _ValueSet: ...
    def sintercard(self, numkeys: int, keys: Iterable[_Key], limit: int = 0) -> int: ...
    def sunion(self, keys: _Key | Iterable[_Key], *args: _Key) -> _ValueSet: ...
    def sdiff(self, keys: _Key | Iterable[_Key], *args: _Key) -> _ValueSet: ...
    def sinterstore(self, dest: _Key, keys: _Key | Iterable[_Key], *args: _Key) -> int: ...
    def sunionstore(self, dest: _Key, keys: _Key | Iterable[_Key], *args: _Key) -> int: ...
    def sdiffstore(self, dest: _Key, keys: _Key | Iterable[_Key], *args: _Key) -> int: ...
    def sscan(
        self,
        name: _Key,
        cursor: int | str = 0,
        match: _Encodable | None = None,
        count: int | None = None,
    ) -> tuple[int, list[_Value]]: ...
    def sscan_iter(
        self, name: _Key, match: _Encodable | None = None, count: int | None = None
    ) -> CollectionScanIterator:
        """A set's members, page by page."""

    # Sorted sets. Scores are floats unless a ``score_cast_func`` is given (``None``
    # stands for ``float``, redis-py's default). ``min``/``max`` bounds are numbers or
    # Redis range strings (``"(1"``, ``"-inf"``, ``"[a"`` for lex ranges).
    def zadd(
        self,
        name: _Key,
        mapping: Mapping[_MK, _Encodable],
        nx: bool = False,
        xx: bool = False,
        ch: bool = False,
        incr: bool = False,
        gt: bool = False,
        lt: bool = False,
    ) -> int | float | None:
        """The number of members added (changed, with ``ch``); with ``incr``, the new score,
        or None when the update was not applied."""
    def zincrby(self, name: _Key, amount: _Score, value: _Encodable) -> float: ...
    def zrem(self, name: _Key, *values: _Encodable) -> int: ...
    def zcard(self, name: _Key) -> int: ...
    def zcount(self, name: _Key, min: _Score, max: _Score) -> int: ...
    def zlexcount(self, name: _Key, min: _Encodable, max: _Encodable) -> int: ...
    def zscore(self, name: _Key, value: _Encodable) -> float | None: ...
    def zmscore(self, key: _Key, members: Iterable[_Encodable]) -> list[float | None]: ...
    def zrank(
        self,
        name: _Key,
        value: _Encodable,
        withscore: bool = False,
        score_cast_func: _ScoreCast | None = None,
    ) -> int | list[Any] | None: ...
    def zrevrank(
        self,
        name: _Key,
        value: _Encodable,
        withscore: bool = False,
        score_cast_func: _ScoreCast | None = None,
    ) -> int | list[Any] | None: ...
    def zrange(
        self,
        name: _Key,
        start: _Score,
        end: _Score,
        desc: bool = False,
        withscores: bool = False,
        score_cast_func: _ScoreCast | None = None,
        byscore: bool = False,
        bylex: bool = False,
        offset: int | None = None,
        num: int | None = None,
    ) -> list[Any]:
        """Members; with ``withscores``, ``[member, score]`` lists."""
    def zrangestore(
        self,
        dest: _Key,
        name: _Key,
        start: _Score,
        end: _Score,
        byscore: bool = False,
        bylex: bool = False,
        desc: bool = False,
        offset: int | None = None,
        num: int | None = None,
    ) -> int: ...
    def zrevrange(
        self,
        name: _Key,
        start: int,
        end: int,
        withscores: bool = False,
        score_cast_func: _ScoreCast | None = None,
    ) -> list[Any]: ...
    def zrangebyscore(
        self,
        name: _Key,
        min: _Score,
        max: _Score,
        start: int | None = None,
        num: int | None = None,
        withscores: bool = False,
        score_cast_func: _ScoreCast | None = None,
    ) -> list[Any]: ...
    def zrevrangebyscore(
        self,
        name: _Key,
        max: _Score,
        min: _Score,
        start: int | None = None,
        num: int | None = None,
        withscores: bool = False,
        score_cast_func: _ScoreCast | None = None,
    ) -> list[Any]: ...
    def zrangebylex(
        self,
        name: _Key,
        min: _Encodable,
        max: _Encodable,
        start: int | None = None,
        num: int | None = None,
    ) -> list[_Value]: ...
    def zrevrangebylex(
        self,
        name: _Key,
        max: _Encodable,
        min: _Encodable,
        start: int | None = None,
        num: int | None = None,
    ) -> list[_Value]: ...
    def zremrangebyrank(self, name: _Key, min: int, max: int) -> int: ...
    def zremrangebyscore(self, name: _Key, min: _Score, max: _Score) -> int: ...
    def zremrangebylex(self, name: _Key, min: _Encodable, max: _Encodable) -> int: ...
    def zpopmin(self, name: _Key, count: int | None = None) -> list[Any]:
        """``[member, score]``; with ``count``, a list of them."""
    def zpopmax(self, name: _Key, count: int | None = None) -> list[Any]:
        """``[member, score]``; with ``count``, a list of them."""
    def zmpop(
        self,
        num_keys: int,
        keys: Iterable[_Key],
        min: bool | None = False,
        max: bool | None = False,
        count: int | None = 1,
    ) -> list[Any] | None:
        """``[key, [[member, score], ...]]``, or None when every key is empty."""
    def zrandmember(
        self, key: _Key, count: int | None = None, withscores: bool = False
    ) -> _Value | list[Any] | None: ...
    def zunion(
        self,
        keys: Iterable[_Key] | Mapping[_MK, float],
        aggregate: str | None = None,
        withscores: bool = False,
        score_cast_func: _ScoreCast | None = None,
    ) -> list[Any]: ...
    def zinter(
        self,
        keys: Iterable[_Key] | Mapping[_MK, float],
        aggregate: str | None = None,
        withscores: bool = False,
    ) -> list[Any]: ...
    def zdiff(self, keys: Collection[_Key], withscores: bool = False) -> list[Any]: ...
    def zunionstore(
        self,
        dest: _Key,
        keys: Iterable[_Key] | Mapping[_MK, float],
        aggregate: str | None = None,
    ) -> int: ...
    def zinterstore(
        self,
        dest: _Key,
        keys: Iterable[_Key] | Mapping[_MK, float],
        aggregate: str | None = None,
    ) -> int: ...
    def zdiffstore(self, dest: _Key, keys: Collection[_Key]) -> int: ...
    def zintercard(self, numkeys: int, keys: Iterable[_Key], limit: int = 0) -> int: ...
    def zscan(
        self,
        name: _Key,
        cursor: int | str = 0,
        match: _Encodable | None = None,
        count: int | None = None,
        score_cast_func: _ScoreCast | None = None,
    ) -> tuple[int, list[tuple[_Value, Any]]]: ...
    def zscan_iter(
        self,
        name: _Key,
        match: _Encodable | None = None,
        count: int | None = None,
        score_cast_func: _ScoreCast | None = None,
    ) -> CollectionScanIterator:
        """``(member, score)`` tuples, page by page."""

    # Lists
    def lpush(self, name: _Key, *values: _Encodable) -> int: ...
    def rpush(self, name: _Key, *values: _Encodable) -> int: ...
    def lpushx(self, name: _Key, *values: _Encodable) -> int: ...
    def rpushx(self, name: _Key, *values: _Encodable) -> int: ...
    def lpop(self, name: _Key, count: int | None = None) -> _Value | list[_Value] | None: ...
    def rpop(self, name: _Key, count: int | None = None) -> _Value | list[_Value] | None: ...
    def llen(self, name: _Key) -> int: ...
    def lrange(self, name: _Key, start: int, end: int) -> list[_Value]: ...
    def lindex(self, name: _Key, index: int) -> _Value | None: ...
    def lset(self, name: _Key, index: int, value: _Encodable) -> bool: ...
    def linsert(self, name: _Key, where: str, refvalue: _Encodable, value: _Encodable) -> int: ...
    def lrem(self, name: _Key, count: int, value: _Encodable) -> int: ...
    def ltrim(self, name: _Key, start: int, end: int) -> bool: ...
    def lpos(
        self,
        name: _Key,
        value: _Encodable,
        rank: int | None = None,
        count: int | None = None,
        maxlen: int | None = None,
    ) -> int | list[int] | None: ...
    def lmove(
        self, first_list: _Key, second_list: _Key, src: str = "LEFT", dest: str = "RIGHT"
    ) -> _Value | None: ...
    def rpoplpush(self, src: _Key, dst: _Key) -> _Value | None: ...
    def lmpop(
        self, num_keys: int, *args: _Key, direction: str, count: int | None = 1
    ) -> list[Any] | None:
        """``[key, [value, ...]]``, or None when every list is empty."""

    # Blocking list pops: the calling thread waits with the GIL released; ``timeout`` is
    # in seconds, 0 or None waits forever.
    def blpop(
        self, keys: _Key | Iterable[_Key], timeout: float | None = 0
    ) -> list[_Value] | None: ...
    def brpop(
        self, keys: _Key | Iterable[_Key], timeout: float | None = 0
    ) -> list[_Value] | None: ...
    def brpoplpush(self, src: _Key, dst: _Key, timeout: float | None = 0) -> _Value | None: ...
    def blmove(
        self,
        first_list: _Key,
        second_list: _Key,
        timeout: float,
        src: str = "LEFT",
        dest: str = "RIGHT",
    ) -> _Value | None: ...
    def blmpop(
        self, timeout: float, numkeys: int, *args: _Key, direction: str, count: int | None = 1
    ) -> list[Any] | None: ...

    # Blocking sorted-set pops: as the blocking list pops.
    def bzpopmin(self, keys: _Key | Iterable[_Key], timeout: float | None = 0) -> list[Any] | None:
        """``[key, member, score]``, or None on timeout."""
    def bzpopmax(self, keys: _Key | Iterable[_Key], timeout: float | None = 0) -> list[Any] | None:
        """``[key, member, score]``, or None on timeout."""
    def bzmpop(
        self,
        timeout: float,
        numkeys: int,
        keys: Iterable[_Key],
        min: bool | None = False,
        max: bool | None = False,
        count: int | None = 1,
    ) -> list[Any] | None:
        """``[key, [[member, score], ...]]``, or None on timeout."""

    # SORT
    def sort(
        self,
        name: _Key,
        start: int | None = None,
        num: int | None = None,
        by: _Encodable | None = None,
        get: _Encodable | Iterable[_Encodable] | None = None,
        desc: bool = False,
        alpha: bool = False,
        store: _Key | None = None,
        groups: bool | None = False,
    ) -> list[Any] | int:
        """The sorted elements (tuples of ``len(get)`` items with ``groups``), or the
        number stored with ``store``."""
    def sort_ro(
        self,
        key: _Key,
        start: int | None = None,
        num: int | None = None,
        by: _Encodable | None = None,
        get: _Encodable | Iterable[_Encodable] | None = None,
        desc: bool = False,
        alpha: bool = False,
    ) -> list[Any]: ...

    # Mapping face
    def __getitem__(self, key: _Key, /) -> _Value: ...
    def __setitem__(self, key: _Key, value: _Encodable, /) -> None: ...
    def __delitem__(self, key: _Key, /) -> None: ...
    def __contains__(self, key: _Key, /) -> bool: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> ScanIterator: ...

@final
class ScanIterator(Iterator[_Value]):
    """The keys of a store, page by page (SCAN); a key may be yielded more than once."""

    def __iter__(self) -> Self: ...
    def __next__(self) -> _Value: ...

@final
class CollectionScanIterator(Iterator[Any]):
    """What ``hscan_iter``, ``sscan_iter`` and ``zscan_iter`` return: a key's elements,
    one HSCAN/SSCAN/ZSCAN per page."""

    def __iter__(self) -> Self: ...
    def __next__(self) -> Any: ...

# A message as redis-py's ``PubSub.get_message`` returns it: ``type`` (str: "message",
# "pmessage", "smessage", "subscribe", "unsubscribe", ...), ``pattern`` (pmessage only,
# else None), ``channel`` and ``data`` (bytes, or str when decoding; ``data`` is the
# subscription count, an int, for confirmations).
_Message: TypeAlias = dict[str, Any]

@final
class PubSub(Iterator[_Message]):
    """An in-process subscriber (``Store.pubsub()``): receives what network clients and
    the store publish. Iterating (or ``listen()``) blocks for each message and ends once
    nothing is subscribed and every queued message was read. ``close()`` (or leaving a
    ``with`` block) leaves every subscription."""

    def subscribe(self, *channels: _Encodable) -> None: ...
    def psubscribe(self, *patterns: _Encodable) -> None: ...
    def ssubscribe(self, *channels: _Encodable) -> None: ...
    def unsubscribe(self, *channels: _Encodable) -> None: ...
    def punsubscribe(self, *patterns: _Encodable) -> None: ...
    def sunsubscribe(self, *channels: _Encodable) -> None: ...
    @property
    def subscribed(self) -> bool: ...
    def get_message(
        self, timeout: float | None = 0.0, *, ignore_subscribe_messages: bool = False
    ) -> _Message | None:
        """The next message, waiting up to ``timeout`` seconds (``None``: until one comes)
        with the GIL released; ``None`` if none came. Raises ``ConnectionError`` if the
        subscriber was dropped for going over ``client-output-buffer-limit pubsub``."""
    def listen(self) -> Self: ...
    def __iter__(self) -> Self: ...
    def __next__(self) -> _Message: ...
    def close(self) -> None: ...
    def reset(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> bool: ...

@final
class ServerHandle:
    """A server started by ``Store.serve()``; ``close()`` (or leaving a ``with`` block)
    stops it. Dropping the handle does not."""

    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def closed(self) -> bool: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> bool: ...

@final
class Connection:
    """One in-process connection to a store, with its own engine client (database,
    protocol, name, MULTI state, subscriptions): the transport under ``fastkv.Redis``.

    ``send`` runs a command at once and queues its reply; ``read`` returns it converted as
    redis-py's parser would for the protocol spoken (RESP2 or RESP3, after ``HELLO 3``),
    error replies as exception instances built by ``error_factory(message)`` (redis-py's
    ``parse_error``; ``fastkv.ResponseError`` by default), returned, not raised. RESP3 set
    replies become lists, or ``set``s with ``resp3_sets`` (as redis-py < 5.1 made them).
    """

    def __new__(
        cls,
        store: Store,
        *,
        decode_responses: bool = False,
        encoding: str = "utf-8",
        encoding_errors: str = "strict",
        error_factory: Callable[[str], BaseException] | None = None,
        resp3_sets: bool = False,
    ) -> Self: ...
    def send(self, *args: _Encodable) -> None:
        """Runs one command now (a blocking command waits here, GIL released) and queues
        its reply."""
    def try_send(self, *args: _Encodable) -> bool:
        """Like ``send``, but a blocking command is not run: ``False`` for it."""
    def send_many(self, commands: Iterable[tuple[_Encodable, ...]]) -> None:
        """Runs each command line in order, queueing every reply (a pipeline)."""
    def read(
        self,
        disable_decoding: bool = False,
        timeout: float | None = None,
        push_request: bool = False,
    ) -> Any:
        """The next reply or pub/sub push; ``TimeoutError`` if none arrives within
        ``timeout`` (``None``: as long as one can arrive). RESP3 pushes are skipped unless
        ``push_request``."""
    def can_read(self, timeout: float | None = 0.0) -> bool:
        """Whether a reply or push is queued (waiting up to ``timeout`` seconds for a
        push)."""
    def can_wait(self) -> bool:
        """Whether a reply can arrive without a command (pub/sub messages)."""
    def may_block(self, *args: _Encodable) -> bool:
        """Whether this command line is a blocking command (BLPOP, BZPOPMIN, ...)."""
    def cancel(self) -> None:
        """Stops a blocking command waiting in another thread."""
    def close(self) -> None:
        """Drops the engine client and unread replies; later sends raise
        ``ConnectionError``."""
    @property
    def closed(self) -> bool: ...
    @property
    def id(self) -> int: ...
    @property
    def protocol(self) -> int: ...

def server_main(argv: list[str]) -> int:
    """Runs the ``fastkv-server`` command line (without the program name) with the GIL
    released; returns the exit code."""
