"""``fastkv.Redis``: a ``redis.Redis`` whose connections run commands in-process.

Code written for redis-py runs unchanged against a :class:`fastkv.Store` living in the same
process: every command method, pipelines (with and without MULTI/EXEC), ``watch``,
``pubsub()``, ``lock()``, ``register_script()``, ``decode_responses``, RESP2 and RESP3::

    import fastkv

    r = fastkv.Redis()                       # a private store
    r.set("k", "v"); r.get("k")              # b'v'

    store = fastkv.Store()
    a = fastkv.Redis(store, decode_responses=True)
    b = fastkv.Redis(store, protocol=2)      # same keyspace, another connection
    store.serve(port=6380)                   # and other processes over TCP

Each pooled connection is a :class:`fastkv._fastkv.Connection` with its own engine client (its
own database, protocol, name, MULTI state and subscriptions), as a socket to a server would
be. Commands reach the engine as bytes (str, int and float arguments encoded as redis-py's
``Encoder`` encodes them), never as RESP text, and replies come back as redis-py's parser
would have built them. redis-py is needed only for this module (``pip install fastkv[redis]``).
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import redis
from redis._parsers import BaseParser
from redis.connection import AbstractConnection, ConnectionPool
from redis.exceptions import ConnectionError, TimeoutError

from ._fastkv import Connection as _NativeConnection
from ._fastkv import Store

if TYPE_CHECKING:
    _RedisBase = redis.Redis
else:
    _RedisBase = redis.Redis

__all__ = ["FastkvConnection", "FastkvConnectionPool", "Redis", "connection_pool_kwargs"]

_MaintConfig: Any
try:  # redis-py >= 6.1: RESP3 pools enable maintenance notifications by default.
    from redis.maint_notifications import MaintNotificationsConfig as _MaintConfig
except ImportError:  # pragma: no cover - older redis-py
    _MaintConfig = None

_UTF8 = frozenset({"utf-8", "utf8", "utf_8"})
# read_response's "no timeout given" (redis-py's SENTINEL): use the socket timeout.
_UNSET: Any = object()


def _retry_takes_failure_count() -> bool:
    import inspect

    from redis.retry import Retry

    return "with_failure_count" in inspect.signature(Retry.call_with_retry).parameters


_retry_counts_failures = _retry_takes_failure_count()


def _retries(conn: Any) -> int:
    """How many retries the connection's ``Retry`` allows (``get_retries`` is redis-py 5.1+)."""
    retry = conn.retry
    get = getattr(retry, "get_retries", None)
    return int(get() if get is not None else getattr(retry, "_retries", 0))


def _pool_wants_command_name(pool_class: Any) -> bool:
    """redis-py < 5.3's ``get_connection(command_name, ...)`` requires the name; later ones
    deprecate passing it."""
    import inspect

    param = inspect.signature(pool_class.get_connection).parameters.get("command_name")
    return param is not None and param.default is inspect.Parameter.empty


_POOL_WANTS_NAME = _pool_wants_command_name(ConnectionPool)


def _no_maint_notifications(cls: type, kwargs: dict[str, Any]) -> None:
    """Turns maintenance notifications (a redis-py >= 6 RESP3 feature for managed servers'
    failovers, needing a socket parser) off for an in-process connection, whatever the
    pool passed."""
    if _MaintConfig is None:
        return
    import inspect

    if "maint_notifications_config" not in inspect.signature(cls).parameters:
        return  # pragma: no cover - a redis-py without them on this class
    kwargs["maint_notifications_config"] = _MaintConfig(enabled=False)
    kwargs.pop("maint_notifications_pool_handler", None)
    kwargs.pop("oss_cluster_maint_notifications_handler", None)


# Keyword arguments of redis.Redis that configure a connection and still mean something
# in-process; they go to the pool's connections. Networking ones are refused.
_CONNECTION_KWARGS = frozenset(
    {
        "password",
        "username",
        "socket_timeout",
        "socket_connect_timeout",
        "encoding",
        "encoding_errors",
        "health_check_interval",
        "client_name",
        "lib_name",
        "lib_version",
        "driver_info",
        "retry",
        "retry_on_error",
        "retry_on_timeout",
        "redis_connect_func",
        "credential_provider",
        "legacy_responses",
    }
)
_NETWORK_KWARGS = frozenset(
    {
        "host",
        "port",
        "unix_socket_path",
        "ssl",
        "socket_keepalive",
        "socket_keepalive_options",
    }
)


class _InProcessParser(BaseParser):
    """Stands where redis-py's socket parser would: the connection reads replies from its
    native half directly, so this keeps only what callers reach through ``conn._parser``
    (error classes, push-handler setters)."""

    def __init__(self, socket_read_size: int = 0) -> None:
        self.pubsub_push_handler_func: Any = None
        self.invalidation_push_handler_func: Any = None

    def on_connect(self, connection: Any) -> None:
        pass

    def on_disconnect(self) -> None:
        pass

    def can_read(self, timeout: float = 0) -> bool:
        return False

    def set_pubsub_push_handler(self, func: Any) -> None:
        self.pubsub_push_handler_func = func

    def set_invalidation_push_handler(self, func: Any) -> None:
        self.invalidation_push_handler_func = func

    def set_node_moving_push_handler(self, func: Any) -> None:
        pass

    def set_maintenance_push_handler(self, func: Any) -> None:
        pass

    def set_oss_cluster_maint_push_handler(self, func: Any) -> None:
        pass


def _resp3_sets_as_sets() -> bool:
    """Whether this redis-py's RESP3 parser turns set replies into Python ``set``s (redis-py
    < 5.1 did) rather than lists. Found by feeding its parser a tiny set reply."""

    class _Lines:
        def __init__(self, lines: list[bytes]) -> None:
            self.lines = lines

        def readline(self, *args: Any, **kwargs: Any) -> bytes:
            return self.lines.pop(0)

        read = readline

    try:
        from redis._parsers import resp3

        parser_class: Any = resp3._RESP3Parser
        parser: Any = parser_class(socket_read_size=1)
        parser._buffer = _Lines([b"~1", b"+a"])
        return isinstance(parser._read_response(disable_decoding=True), set)
    except Exception:  # pragma: no cover - a parser we cannot probe: today's behaviour
        return False


RESP3_SETS_AS_SETS = _resp3_sets_as_sets()


def _native_encoding(encoding: str, errors: str) -> bool:
    """Whether the native side encodes arguments exactly as this ``Encoder`` would."""
    return encoding.lower() in _UTF8 and errors == "strict"


class _InProcessIdentity:
    """What a connection says about its "peer", shared by the sync and asyncio connection
    classes: the store it runs against, no host, no port, no socket address."""

    _store: Store

    @property
    def store(self) -> Store:
        """The store this connection's commands run against."""
        return self._store

    @property
    def host(self) -> str:
        return "fastkv"

    @host.setter
    def host(self, value: str) -> None:
        pass

    @property
    def port(self) -> int:
        return 0

    def repr_pieces(self) -> list[tuple[str, Any]]:
        # `db` and `client_name` belong to redis-py's connection classes, the other base.
        pieces: list[tuple[str, Any]] = [
            ("store", f"0x{id(self._store):x}"),
            ("db", getattr(self, "db", 0)),
        ]
        name = getattr(self, "client_name", None)
        if name:
            pieces.append(("client_name", name))
        return pieces

    def _host_error(self) -> str:
        return "fastkv in-process store"

    def getpeername(self) -> str | None:
        return None

    def get_resolved_ip(self) -> str | None:
        return None


class FastkvConnection(_InProcessIdentity, AbstractConnection):
    """A redis-py connection whose "socket" is an in-process
    :class:`fastkv._fastkv.Connection` to ``store``: ``send_command`` runs the command at once
    and ``read_response`` returns its reply, converted as redis-py's parser would."""

    def __init__(self, store: Store, **kwargs: Any) -> None:
        kwargs.setdefault("parser_class", _InProcessParser)
        _no_maint_notifications(AbstractConnection, kwargs)
        self._store = store
        super().__init__(**kwargs)
        enc = self.encoder
        self._encode_natively = _native_encoding(enc.encoding, enc.encoding_errors)

    # -- connect / disconnect -----------------------------------------------------------

    def _connect(self) -> _NativeConnection:
        enc = self.encoder
        return _NativeConnection(
            self._store,
            decode_responses=enc.decode_responses,
            encoding=enc.encoding,
            encoding_errors=enc.encoding_errors,
            error_factory=self._parser.parse_error,
            resp3_sets=RESP3_SETS_AS_SETS,
        )

    def disconnect(self, *args: Any, **kwargs: Any) -> None:
        native = self._sock
        self._sock = None
        reset = getattr(self, "reset_should_reconnect", None)
        if reset is not None:
            reset()
        if native is not None:
            native.close()

    def check_health(self) -> None:
        # Nothing can go stale in-process: no PING round trip.
        return None

    # -- commands -------------------------------------------------------------------------

    def _native(self) -> _NativeConnection:
        native = self._sock
        if native is None:
            untyped: Any = self
            untyped.connect()
            native = self._sock
            if native is None:  # pragma: no cover - connect() raises instead
                raise ConnectionError("fastkv connection not open")
        return native

    def _encode_args(self, args: Iterable[Any]) -> tuple[Any, ...]:
        if self._encode_natively:
            return tuple(args)
        encode: Any = self.encoder.encode
        return tuple(encode(a) for a in args)

    def send_command(self, *args: Any, **kwargs: Any) -> None:
        native = self._sock
        if native is None:
            native = self._native()
        if self._encode_natively:
            native.send(*args)
        else:
            native.send(*self._encode_args(args))

    def pack_command(self, *args: Any) -> list[tuple[Any, ...]]:
        return [self._encode_args(args)]

    def pack_commands(self, commands: Iterable[Any]) -> list[tuple[Any, ...]]:
        return [self._encode_args(cmd) for cmd in commands]

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        native = self._native()
        if isinstance(command, tuple):
            command = [command]
        native.send_many(command)

    def can_read(self, timeout: float | None = 0) -> bool:
        return self._native().can_read(timeout)

    def read_response(
        self,
        disable_decoding: bool = False,
        *,
        timeout: Any = _UNSET,
        disconnect_on_error: bool = True,
        push_request: bool = False,
    ) -> Any:
        native = self._sock
        if native is None:
            raise ConnectionError(f"Error while reading from {self._host_error()}: closed")
        # redis-py's rule: no timeout given -> the socket timeout; None -> wait for good
        # (the native side refuses to wait when nothing can arrive).
        wait = timeout if timeout is None or isinstance(timeout, (int, float)) else None
        if timeout is _UNSET:
            wait = self.socket_timeout
        try:
            response = native.read(disable_decoding, wait, push_request)
        except builtins.TimeoutError:
            raise TimeoutError(f"Timeout reading from {self._host_error()}") from None
        except ConnectionError:
            if disconnect_on_error:
                self.disconnect()
            raise
        if self.health_check_interval:
            self.next_health_check = time.monotonic() + self.health_check_interval
        if isinstance(response, Exception):
            raise response
        if push_request and isinstance(response, list) and self.protocol in (3, "3"):
            handler = self._parser.pubsub_push_handler_func
            if handler is not None:
                return handler(response)
        return response


_observability: Any
try:  # redis-py >= 7.1: OpenTelemetry metrics, recorded by redis.Redis.execute_command.
    from redis.observability.providers import (
        get_observability_instance as _observability,
    )
except ImportError:  # pragma: no cover - older redis-py
    _observability = None


def _observed() -> bool:
    """Whether redis-py's observability (metrics) is switched on."""
    if _observability is None:
        return False
    try:
        return _observability().get_provider_manager() is not None
    except Exception:  # pragma: no cover - an observability API we do not know
        return True


class FastkvConnectionPool(ConnectionPool):
    """redis-py's ``ConnectionPool`` with a lean hand-out for in-process connections: a
    free, connected connection with nothing unread is handed out and taken back under the
    pool's lock only (redis-py's version also records metrics and dispatches events on
    every command, which costs more than running the command here). Creating, connecting
    and everything else is redis-py's own."""

    def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            try:
                conn = self._available_connections.pop()
            except IndexError:
                conn = None
            else:
                self._in_use_connections.add(conn)
        if conn is None:
            return super().get_connection(*args, **kwargs)
        native = conn._sock
        if native is None or native.can_read(0):
            # Closed, or a reply left unread by an interrupted caller: start afresh, as
            # redis-py reconnects a connection that "has data".
            conn.disconnect()
            try:
                conn.connect()
            except BaseException:
                self.release(conn)
                raise
        return conn

    def release(self, connection: Any) -> None:
        with self._lock:
            try:
                self._in_use_connections.remove(connection)
            except KeyError:
                return
            if getattr(connection, "should_reconnect", bool)():
                connection.disconnect()
            self._available_connections.append(connection)


def connection_pool_kwargs(
    store: Store, kwargs: dict[str, Any], *, decode_responses: bool, protocol: int, db: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Splits ``fastkv.Redis``'s keyword arguments into the pool's (connection settings)
    and redis-py's ``Redis`` own (``single_connection_client``...)."""
    for name in _NETWORK_KWARGS & kwargs.keys():
        raise TypeError(f"fastkv.Redis runs in-process: {name!r} does not apply")
    pool: dict[str, Any] = {
        "store": store,
        "decode_responses": decode_responses,
        "protocol": protocol,
        "db": db,
    }
    max_connections = kwargs.pop("max_connections", None)
    if max_connections is not None:
        pool["max_connections"] = max_connections
    for name in list(kwargs):
        if name in _CONNECTION_KWARGS:
            pool[name] = kwargs.pop(name)
    if _MaintConfig is not None and protocol == 3:
        pool["maint_notifications_config"] = _MaintConfig(enabled=False)
    return pool, kwargs


class Redis(_RedisBase):
    """``redis.Redis`` running every command in-process against a :class:`fastkv.Store`.

    ``store``: the store to use (clients made from the same store share its keyspace); a
    new private one when omitted. ``protocol`` is 3 (RESP3) unless told otherwise. Other
    keyword arguments are redis-py's (``client_name``, ``health_check_interval``,
    ``single_connection_client``, ``encoding``...); networking ones are refused.
    """

    def __init__(
        self,
        store: Store | None = None,
        *,
        decode_responses: bool = False,
        protocol: int = 3,
        db: int = 0,
        **kwargs: Any,
    ) -> None:
        self.store: Store = store if store is not None else Store()
        if "connection_pool" in kwargs:
            super().__init__(**kwargs)
            return
        pool_kwargs, rest = connection_pool_kwargs(
            self.store, kwargs, decode_responses=decode_responses, protocol=protocol, db=db
        )
        pool = FastkvConnectionPool(connection_class=FastkvConnection, **pool_kwargs)
        super().__init__(connection_pool=pool, **rest)
        self.auto_close_connection_pool = True

    def execute_command(self, *args: Any, **options: Any) -> Any:
        # redis-py's own path wraps every command in retry and metrics bookkeeping that
        # costs several times what the command does in-process. Without configured
        # retries or metrics, run it directly (same send/parse, same pool hand-out).
        conn = self.connection
        if conn is not None:
            lock = getattr(self, "single_connection_lock", None)  # redis-py 5.1+
            if lock is None:
                return self._run_in_process(conn, args, options)
            with lock:
                return self._run_in_process(conn, args, options)
        pool = self.connection_pool
        conn = pool.get_connection(args[0]) if _POOL_WANTS_NAME else pool.get_connection()
        try:
            return self._run_in_process(conn, args, options)
        finally:
            pool.release(conn)

    def _run_in_process(self, conn: Any, args: tuple[Any, ...], options: dict[str, Any]) -> Any:
        if _retries(conn) or _observed():
            return self._execute_on(conn, args, options)
        untyped: Any = self
        try:
            return untyped._send_command_parse_response(conn, args[0], *args, **options)
        except (ConnectionError, TimeoutError):
            conn.disconnect()
            raise

    def _execute_on(self, conn: Any, args: tuple[Any, ...], options: dict[str, Any]) -> Any:
        """redis-py's retrying path, on a connection already taken from the pool."""
        untyped: Any = self
        return conn.retry.call_with_retry(
            lambda: untyped._send_command_parse_response(conn, args[0], *args, **options),
            lambda error, *_: conn.disconnect(error=error),
            **({"with_failure_count": True} if _retry_counts_failures else {}),
        )

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Redis:
        """``fastkv://`` (a private store) or ``fastkv:///<db>``; keyword arguments as for
        the constructor."""
        from urllib.parse import urlparse

        parsed = urlparse(url)
        if parsed.scheme != "fastkv":
            raise ValueError("fastkv.Redis.from_url expects a fastkv:// URL")
        path = parsed.path.strip("/")
        if path:
            kwargs.setdefault("db", int(path))
        return cls(**kwargs)

    def __repr__(self) -> str:
        return f"<fastkv.Redis(store=0x{id(self.store):x})>"
