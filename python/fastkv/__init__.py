"""fastkv: a Redis-compatible in-memory data store with a Rust core.

Use it embedded, in-process::

    import fastkv

    store = fastkv.Store()
    store.set("greeting", "hello", ex=60)
    store.get("greeting")            # b'hello'
    store.execute_command("INCR", "n")

or serve the same keyspace to any Redis client with ``store.serve(port=6379)``, or run
the standalone server with the ``fastkv-server`` command.

With redis-py installed (``pip install fastkv[redis]``), ``fastkv.Redis(store)`` and
``fastkv.asyncio.Redis(store)`` are redis-py clients whose commands run in-process.

Errors replied by the store raise :class:`ResponseError`, a subclass of
``redis.exceptions.ResponseError`` when redis-py is installed (so code written for
redis-py catches them unchanged). Arguments redis-py would refuse to encode (``bool``,
``None``, containers) raise :class:`DataError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._fastkv import CollectionScanIterator, ScanIterator, ServerHandle, Store, __version__

if TYPE_CHECKING:
    from .client import Redis as Redis

    _ResponseErrorBase = Exception
    _DataErrorBase = TypeError
else:
    try:
        import redis.exceptions as _redis_exceptions
    except ImportError:
        _ResponseErrorBase = Exception
        _DataErrorBase = TypeError
    else:
        _ResponseErrorBase = _redis_exceptions.ResponseError

        class _DataErrorBase(_redis_exceptions.DataError, TypeError):
            pass


class ResponseError(_ResponseErrorBase):
    """An error reply from the store.

    ``str(error)`` is the whole error line: ``"ERR wrong number of arguments for 'get'
    command"``, ``"WRONGTYPE Operation against a key holding the wrong kind of value"``.
    Subclasses ``redis.exceptions.ResponseError`` when redis-py is importable.
    """


class DataError(_DataErrorBase):
    """An argument that cannot be sent as a command argument (``bool``, ``None``, a list,
    ...) or conflicting options, with redis-py's message. Subclasses both
    ``redis.exceptions.DataError`` (when redis-py is importable) and ``TypeError``.
    """


ResponseError.__module__ = DataError.__module__ = "fastkv"


def __getattr__(name: str) -> Any:
    # `fastkv.Redis` imports redis-py on first use only: `import fastkv` works without it.
    if name == "Redis":
        try:
            from .client import Redis
        except ImportError as e:
            raise ImportError("fastkv.Redis needs redis-py: pip install 'fastkv[redis]'") from e
        return Redis
    raise AttributeError(f"module 'fastkv' has no attribute {name!r}")


__all__ = [
    "CollectionScanIterator",
    "DataError",
    "ResponseError",
    "ScanIterator",
    "ServerHandle",
    "Store",
    "__version__",
]
