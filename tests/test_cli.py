"""The server executable: start-up from a config file and flags, configuration
errors, signals, and the stock Redis tools (redis-cli, redis-benchmark) against it.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import redis
from conftest import SERVER_CMD, ServerFactory
from helpers import (
    HOST,
    REDIS_ONLY_ARGS,
    ServerHandle,
    ci_mode,
    free_port,
    is_redis_command,
    stop_server,
    wait_for_ping,
    wait_until,
)

REAL_REDIS = is_redis_command(SERVER_CMD)


def tool(name: str) -> str:
    exe = shutil.which(name)
    if exe is None:
        if ci_mode():
            pytest.fail(f"{name} is not on PATH (CI is set)")
        pytest.skip(f"{name} is not on PATH")
    return exe


def run_to_exit(
    args: list[str], cwd: Path, timeout: float = 15.0
) -> subprocess.CompletedProcess[str]:
    """Run the server with `args`, expecting it to exit by itself (bad config)."""
    try:
        return subprocess.run(
            [*SERVER_CMD, *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"server with {args} did not exit within {timeout}s")


def spawn_with_config(conf: Path, cwd: Path, port: int) -> ServerHandle:
    """Start the server from a config file only (plus DEBUG for real Redis)."""
    argv = [*SERVER_CMD, str(conf), *(REDIS_ONLY_ARGS if REAL_REDIS else ())]
    log_path = cwd / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    handle = ServerHandle(HOST, port, proc, argv, cwd, log_path, REAL_REDIS)
    if not wait_for_ping(HOST, port, time.monotonic() + 10, proc):
        stop_server(handle)
        pytest.fail(f"server did not start from {conf}; log:\n{handle.log()[-3000:]}")
    return handle


# --------------------------------------------------------------------------
# Start-up and configuration
# --------------------------------------------------------------------------


def test_starts_from_config_file(tmp_path: Path) -> None:
    port = free_port()
    conf = tmp_path / "fastkv.conf"
    conf.write_text(
        "# a comment, then a blank line\n\n"
        f"port {port}\n"
        "bind 127.0.0.1\n"
        "databases 4\n"
        'save ""\n'
        "appendonly no\n"
    )
    handle = spawn_with_config(conf, tmp_path, port)
    try:
        r = handle.client(protocol=2)
        try:
            assert r.config_get("databases") == {"databases": "4"}
            assert r.config_get("port") == {"port": str(port)}
            assert r.execute_command("SELECT", 3) is True
            with pytest.raises(redis.ResponseError, match="DB index is out of range"):
                r.execute_command("SELECT", 4)
        finally:
            r.close()
        assert wait_until(lambda: "Ready to accept connections" in handle.log(), timeout=5)
    finally:
        stop_server(handle)


def test_flags_override(server_factory: ServerFactory) -> None:
    handle = server_factory(["--databases", "4", "--hz", "20"])
    r = handle.client(protocol=3)
    try:
        assert r.config_get("databases") == {"databases": "4"}
        assert r.config_get("hz") == {"hz": "20"}
        assert r.config_get("bind") == {"bind": "127.0.0.1"}
        with pytest.raises(redis.ResponseError, match="DB index is out of range"):
            r.execute_command("SELECT", 4)
    finally:
        r.close()


def test_ready_line_is_logged(server_factory: ServerFactory) -> None:
    handle = server_factory()
    assert wait_until(lambda: "Ready to accept connections" in handle.log(), timeout=5), (
        handle.log()
    )


def test_unknown_directive_in_file(tmp_path: Path) -> None:
    conf = tmp_path / "bad.conf"
    conf.write_text(f"# comment\n\nport {free_port()}\nbind 127.0.0.1\nfoobar yes\n")
    result = run_to_exit([str(conf)], tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "foobar" in out
    assert re.search(r"\bline 5\b", out), out
    if not REAL_REDIS:  # Redis names the line but not the file; fastkv names both
        assert "bad.conf" in out, out


def test_unknown_directive_flag(tmp_path: Path) -> None:
    result = run_to_exit(["--port", str(free_port()), "--nosuchdirective", "1"], tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "nosuchdirective" in out


@pytest.mark.parametrize(
    ("directive", "value"), [("port", "abc"), ("databases", "x"), ("maxclients", "-5")]
)
def test_invalid_value(tmp_path: Path, directive: str, value: str) -> None:
    args = (
        ["--port", str(free_port()), f"--{directive}", value]
        if directive != "port"
        else ["--port", value]
    )
    result = run_to_exit(args, tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert directive in out and value in out


def test_port_in_use(server: ServerHandle, tmp_path: Path) -> None:
    result = run_to_exit(["--port", str(server.port), "--bind", HOST, "--save", ""], tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert str(server.port) in out
    assert server.alive()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_shuts_down_cleanly(server_factory: ServerFactory, sig: signal.Signals) -> None:
    handle = server_factory()
    handle.proc.send_signal(sig)
    assert handle.proc.wait(10) == 0


# --------------------------------------------------------------------------
# Stock Redis tools
# --------------------------------------------------------------------------


def cli(server: ServerHandle, *args: str) -> str:
    result = subprocess.run(
        [tool("redis-cli"), "-h", server.host, "-p", str(server.port), *args],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_redis_cli(server: ServerHandle) -> None:
    cli(server, "flushall")
    assert cli(server, "ping") == "PONG\n"
    assert cli(server, "set", "a", "b") == "OK\n"
    assert cli(server, "get", "a") == "b\n"
    assert cli(server, "--no-raw", "get", "missing") == "(nil)\n"
    assert cli(server, "incr", "n") == "1\n"
    assert cli(server, "--no-raw", "mget", "a", "missing") == '1) "b"\n2) (nil)\n'
    assert (
        cli(server, "--no-raw", "get")
        == "(error) ERR wrong number of arguments for 'get' command\n"
    )
    assert cli(server, "config", "get", "save") == "save\n\n"
    assert cli(server, "dbsize") == "2\n"


def test_redis_cli_resp3_and_pipe(server: ServerHandle) -> None:
    cli(server, "flushall")
    assert cli(server, "-3", "--no-raw", "hello", "3").startswith('1# "server" => ')
    piped = subprocess.run(
        [tool("redis-cli"), "-h", server.host, "-p", str(server.port), "--pipe"],
        input=b"".join(b"SET p%d %d\r\n" % (i, i) for i in range(1000)),
        capture_output=True,
        timeout=30,
    )
    assert piped.returncode == 0, piped.stderr
    assert b"errors: 0, replies: 1000" in piped.stdout
    assert cli(server, "dbsize") == "1000\n"


def test_redis_benchmark_smoke(server: ServerHandle) -> None:
    cli(server, "flushall")
    result = subprocess.run(
        [tool("redis-benchmark"), "-h", server.host, "-p", str(server.port),
         "-t", "set,get,incr,mset", "-n", "2000", "-P", "16", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [ln.strip() for ln in re.split(r"[\r\n]+", result.stdout) if ln.strip()]
    final = [ln for ln in lines if "requests per second" in ln]
    assert {ln.split(":")[0] for ln in final} == {
        "SET",
        "GET",
        "INCR",
        "MSET (10 keys)",
    }, result.stdout
    bad = [
        ln
        for ln in lines + result.stderr.splitlines()
        if re.search(r"error|ERR", ln, re.IGNORECASE)
    ]
    assert not bad, bad
    assert int(cli(server, "dbsize")) >= 1
