"""Fixtures: the server under test, a real redis-server oracle, redis-py clients,
the embedded store, and `any_client` — one test body run over RESP3, RESP2 and
embedded.

Markers:
  fastkv_only  the test checks something only fastkv promises (its log lines, the
               embedded API, ...); skipped when FASTKV_SERVER is a real redis-server.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from helpers import (
    Client,
    EmbeddedClient,
    Redis,  # noqa: E402
    ServerHandle,
    SocketClient,
    ci_mode,
    is_redis_command,
    oracle_command,
    server_command,
    start_server,
    stop_server,
)

SERVER_CMD = server_command()
IS_REAL_REDIS = is_redis_command(SERVER_CMD)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "fastkv_only: checks fastkv-specific behaviour; skipped against real Redis",
    )
    # Hypothesis imports libcst when it reports a failure; libcst (through
    # mypy_extensions) warns on import, which `filterwarnings = error` turns into
    # an INTERNALERROR that hides the real failure.
    config.addinivalue_line(
        "filterwarnings",
        "ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not IS_REAL_REDIS:
        return
    skip = pytest.mark.skip(reason="fastkv-only test (FASTKV_SERVER is a real redis-server)")
    for item in items:
        if item.get_closest_marker("fastkv_only"):
            item.add_marker(skip)


def pytest_report_header(config: pytest.Config) -> str:
    return f"server under test: {SERVER_CMD} (real redis: {IS_REAL_REDIS}); CI mode: {ci_mode()}"


# --------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def is_real_redis() -> bool:
    """True when the server under test is a real redis-server
    (FASTKV_SERVER=redis-server)."""
    return IS_REAL_REDIS


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    """The server under test on a free port, shared by the session.

    Tests must leave it as they found it (config, active expiry, clients); tests
    that need a changed or disposable server use `server_factory`.
    """
    handle = start_server(SERVER_CMD, tmp_path_factory.mktemp("server"))
    yield handle
    stop_server(handle)


ServerFactory = Callable[..., ServerHandle]


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[ServerFactory]:
    """Start extra, disposable servers under test: factory(extra_args=(), **kw)."""
    started: list[ServerHandle] = []

    def factory(extra_args: Sequence[str] = (), **kwargs: Any) -> ServerHandle:
        h = start_server(SERVER_CMD, tmp_path / f"srv{len(started)}", extra_args, **kwargs)
        started.append(h)
        return h

    yield factory
    for h in started:
        stop_server(h)


def _require_redis_server() -> list[str]:
    cmd = oracle_command()
    if cmd is None:
        msg = "redis-server is not on PATH: differential tests need the real Redis oracle"
        if ci_mode():
            pytest.fail(msg + " (CI is set, so this is a failure, not a skip)")
        pytest.skip(msg)
    return cmd


@pytest.fixture(scope="session")
def redis_oracle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    """A real redis-server on a free port with the same settings as `server`."""
    cmd = _require_redis_server()
    handle = start_server(cmd, tmp_path_factory.mktemp("oracle"))
    yield handle
    stop_server(handle)


# --------------------------------------------------------------------------
# Clients
# --------------------------------------------------------------------------


def _flushall(handle: ServerHandle) -> None:
    c = handle.client(protocol=2)
    try:
        c.flushall()
    finally:
        c.close()


@pytest.fixture
def r(server: ServerHandle) -> Iterator[Redis]:
    """redis-py (RESP3, with redis-py's response callbacks) to the server under test;
    all databases flushed before the test."""
    _flushall(server)
    client = server.client(protocol=3)
    yield client
    client.close()


@pytest.fixture
def r2(server: ServerHandle) -> Iterator[Redis]:
    """redis-py (RESP2) to the server under test; all databases flushed first."""
    _flushall(server)
    client = server.client(protocol=2)
    yield client
    client.close()


def import_fastkv() -> ModuleType:
    """Import the fastkv package: skip locally if absent, error in CI."""
    if ci_mode():
        import fastkv  # type: ignore[import-not-found,unused-ignore]

        module: ModuleType = fastkv
        return module
    skipped: ModuleType = pytest.importorskip("fastkv", reason="fastkv package not built/installed")
    return skipped


@pytest.fixture
def fastkv_module() -> ModuleType:
    return import_fastkv()


@pytest.fixture
def store(fastkv_module: ModuleType) -> Any:
    """A fresh embedded fastkv.Store (bytes replies)."""
    return fastkv_module.Store()


@pytest.fixture(params=["resp3", "resp2", "embedded"])
def any_client(request: pytest.FixtureRequest) -> Iterator[Client]:
    """The same test over RESP3, RESP2 (raw redis-py replies) and the embedded store.

    Replies are normalized (str -> bytes); errors raise helpers.ReplyError with
    Redis's full text. Socket variants start with every database flushed.
    """
    client: Client
    if request.param == "embedded":
        client = EmbeddedClient(import_fastkv().Store())
    else:
        handle: ServerHandle = request.getfixturevalue("server")
        _flushall(handle)
        client = SocketClient(handle.host, handle.port, 3 if request.param == "resp3" else 2)
    yield client
    client.close()


@pytest.fixture(params=["resp3", "resp2"])
def socket_client(request: pytest.FixtureRequest, server: ServerHandle) -> Iterator[Client]:
    """Like any_client but only over the network (for connection-level commands)."""
    _flushall(server)
    client = SocketClient(server.host, server.port, 3 if request.param == "resp3" else 2)
    yield client
    client.close()
