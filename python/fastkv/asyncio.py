"""``fastkv.asyncio.Redis``: a ``redis.asyncio.Redis`` whose connections run commands
in-process against a :class:`fastkv.Store`, as :class:`fastkv.Redis` does for redis-py's
synchronous client::

    import fastkv.asyncio

    r = fastkv.asyncio.Redis()
    await r.set("k", "v")
    await r.get("k")                         # b'v'

Ordinary commands run inline (they take microseconds; a thread hop would cost more).
Blocking commands (BLPOP, BLMOVE, BZPOPMIN, XREAD BLOCK...) run in a worker thread so the
event loop keeps going; cancelling the awaiting task stops the wait. Waiting for pub/sub
messages never blocks the loop either.
"""

from __future__ import annotations

import asyncio
import builtins
import math
from collections.abc import Iterable
from typing import Any

import redis.asyncio
from redis.asyncio.connection import AbstractConnection, ConnectionPool
from redis.exceptions import ConnectionError, TimeoutError

from ._fastkv import Connection as _NativeConnection
from ._fastkv import Store
from .client import (
    RESP3_SETS_AS_SETS,
    _InProcessIdentity,
    _InProcessParser,
    _native_encoding,
    _no_maint_notifications,
    _observed,
    _pool_wants_command_name,
    _retries,
    connection_pool_kwargs,
)

try:
    import inspect as _inspect

    from redis.asyncio.retry import Retry as _AsyncRetry

    _retry_counts_failures = (
        "with_failure_count" in _inspect.signature(_AsyncRetry.call_with_retry).parameters
    )
except ImportError:  # pragma: no cover - older redis-py
    _retry_counts_failures = False

__all__ = ["FastkvConnection", "FastkvConnectionPool", "Redis"]

# How often a pub/sub wait looks for a message without blocking the event loop.
_POLL_INTERVAL = 0.001
_POLL_INTERVAL_MAX = 0.02


class _AsyncInProcessParser(_InProcessParser):
    async def can_read_destructive(self) -> bool:
        return False

    async def read_response(self, disable_decoding: bool = False) -> Any:
        raise NotImplementedError


class FastkvConnection(_InProcessIdentity, AbstractConnection):
    """A ``redis.asyncio`` connection whose "socket" is an in-process
    :class:`fastkv._fastkv.Connection` to ``store``."""

    def __init__(self, store: Store, **kwargs: Any) -> None:
        kwargs.setdefault("parser_class", _AsyncInProcessParser)
        _no_maint_notifications(AbstractConnection, kwargs)
        self._store = store
        self._native: _NativeConnection | None = None
        super().__init__(**kwargs)
        enc = self.encoder
        self._encode_natively = _native_encoding(enc.encoding, enc.encoding_errors)

    @property
    def is_connected(self) -> bool:
        return self._native is not None

    async def _connect(self) -> None:
        enc = self.encoder
        self._native = _NativeConnection(
            self._store,
            decode_responses=enc.decode_responses,
            encoding=enc.encoding,
            encoding_errors=enc.encoding_errors,
            error_factory=self._parser.parse_error,
            resp3_sets=RESP3_SETS_AS_SETS,
        )

    def _close(self) -> None:
        native = self._native
        self._native = None
        if native is not None:
            native.close()

    async def disconnect(self, *args: Any, **kwargs: Any) -> None:
        reset = getattr(self, "reset_should_reconnect", None)
        if reset is not None:
            reset()
        self._close()

    def __del__(self, *args: Any) -> None:
        try:
            self._close()
        except Exception:
            pass

    async def check_health(self) -> None:
        return None

    async def _get_native(self) -> _NativeConnection:
        native = self._native
        if native is None:
            untyped: Any = self
            await untyped.connect()
            native = self._native
            if native is None:  # pragma: no cover - connect() raises instead
                raise ConnectionError("fastkv connection not open")
        return native

    def _encode_args(self, args: Iterable[Any]) -> tuple[Any, ...]:
        if self._encode_natively:
            return tuple(args)
        encode: Any = self.encoder.encode
        return tuple(encode(a) for a in args)

    async def _run(self, native: _NativeConnection, args: tuple[Any, ...]) -> None:
        if native.try_send(*args):
            return
        # A blocking command: wait in a worker thread; cancelling stops the wait.
        loop = asyncio.get_running_loop()
        fut = loop.run_in_executor(None, lambda: native.send(*args))
        try:
            await asyncio.shield(fut)
        except asyncio.CancelledError:
            native.cancel()
            try:
                await fut
            except Exception:
                pass
            # The command's reply (if any) belongs to nobody now: drop the connection,
            # as a cancelled read on a socket does.
            self._close()
            raise

    async def send_command(self, *args: Any, **kwargs: Any) -> None:
        native = self._native
        if native is None:
            native = await self._get_native()
        await self._run(native, self._encode_args(args))

    def pack_command(self, *args: Any) -> list[tuple[Any, ...]]:  # type: ignore[override]
        return [self._encode_args(args)]

    def pack_commands(  # type: ignore[override]
        self, commands: Iterable[Any]
    ) -> list[tuple[Any, ...]]:
        return [self._encode_args(cmd) for cmd in commands]

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        native = await self._get_native()
        if isinstance(command, tuple):
            command = [command]
        for cmd in command:
            await self._run(native, cmd)

    async def can_read_destructive(self) -> bool:
        return await self.can_read()

    async def can_read(self) -> bool:
        native = self._native
        return native is not None and native.can_read(0)

    async def read_response(
        self,
        disable_decoding: bool = False,
        timeout: float | None = None,
        *,
        disconnect_on_error: bool = True,
        push_request: bool | None = False,
    ) -> Any:
        native = self._native
        if native is None:
            raise ConnectionError(f"Error while reading from {self._host_error()}: closed")
        # Queued replies are read at once; otherwise only pub/sub pushes can still
        # arrive: wait for one without blocking the loop, until the timeout passes.
        wait = timeout if timeout is not None else self.socket_timeout
        if wait == math.inf:
            wait = None
        response = await self._wait_read(native, disable_decoding, wait, bool(push_request))
        if response is _TIMED_OUT:
            if timeout is not None:
                return None
            raise TimeoutError(f"Timeout reading from {self._host_error()}")
        if self.health_check_interval:
            self.next_health_check = asyncio.get_running_loop().time() + self.health_check_interval
        if isinstance(response, Exception):
            raise response
        if push_request and isinstance(response, list) and self.protocol in (3, "3"):
            handler = getattr(self._parser, "pubsub_push_handler_func", None)
            if handler is not None:
                result = handler(response)
                return await result if asyncio.iscoroutine(result) else result
        return response

    async def _wait_read(
        self,
        native: _NativeConnection,
        disable_decoding: bool,
        wait: float | None,
        push_request: bool,
    ) -> Any:
        loop = asyncio.get_running_loop()
        deadline = None if wait is None else loop.time() + wait
        delay = _POLL_INTERVAL
        while True:
            if native.can_read(0):
                try:
                    return native.read(disable_decoding, 0, push_request)
                except builtins.TimeoutError:
                    pass  # only a RESP3 push was queued, and it was not asked for
            now = loop.time()
            if deadline is not None and now >= deadline:
                return _TIMED_OUT
            if not native.can_wait():
                if deadline is None:
                    raise ConnectionError("no reply pending on this fastkv connection")
                await asyncio.sleep(max(0.0, deadline - now))
                return _TIMED_OUT
            step = delay if deadline is None else min(delay, deadline - now)
            await asyncio.sleep(step)
            delay = min(delay * 2, _POLL_INTERVAL_MAX)


_TIMED_OUT = object()


_POOL_WANTS_NAME = _pool_wants_command_name(ConnectionPool)


class FastkvConnectionPool(ConnectionPool):
    """``redis.asyncio``'s ``ConnectionPool`` with a lean hand-out of free, connected
    connections (see ``fastkv.client.FastkvConnectionPool``). Pops and appends happen between
    awaits, so they need no lock within the event loop."""

    async def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        try:
            conn = self._available_connections.pop()
        except IndexError:
            base: Any = super()
            return await base.get_connection(*args, **kwargs)
        self._in_use_connections.add(conn)
        untyped: Any = conn
        native = untyped._native
        if native is None or native.can_read(0):
            try:
                await untyped.disconnect()
                await untyped.connect()
            except BaseException:
                await self.release(conn)
                raise
        return conn

    async def release(self, connection: Any) -> None:
        try:
            self._in_use_connections.remove(connection)
        except KeyError:
            return
        if getattr(connection, "should_reconnect", bool)():
            await connection.disconnect()
        self._available_connections.append(connection)


class Redis(redis.asyncio.Redis):
    """``redis.asyncio.Redis`` running every command in-process against a
    :class:`fastkv.Store` (a new private one when ``store`` is omitted); arguments as for
    :class:`fastkv.Redis`."""

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

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        # As fastkv.Redis: skip redis-py's retry and metrics bookkeeping unless configured.
        untyped: Any = self
        if self.single_connection_client or _observed():
            return await untyped._redis_execute_command(*args, **options)
        pool: Any = self.connection_pool
        conn = await (pool.get_connection(args[0]) if _POOL_WANTS_NAME else pool.get_connection())
        try:
            if _retries(conn):
                return await conn.retry.call_with_retry(
                    lambda: untyped._send_command_parse_response(conn, args[0], *args, **options),
                    lambda error, *_: conn.disconnect(error=error),
                    **({"with_failure_count": True} if _retry_counts_failures else {}),
                )
            return await untyped._send_command_parse_response(conn, args[0], *args, **options)
        except (ConnectionError, TimeoutError):
            await conn.disconnect()
            raise
        finally:
            await pool.release(conn)

    _redis_execute_command = redis.asyncio.Redis.execute_command

    def __repr__(self) -> str:
        return f"<fastkv.asyncio.Redis(store=0x{id(self.store):x})>"
