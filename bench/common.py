"""Shared helpers for the benchmark scripts: locating and running servers, machine facts,
writing results. Nothing here measures anything.

Every server started through `running_server` listens on 127.0.0.1 only, has no persistence
(`--save '' --appendonly no`) and is stopped when the `with` block ends, whatever happens
(exceptions, Ctrl-C).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
SERVER_ARGS = ["--bind", HOST, "--save", "", "--appendonly", "no"]


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def wait_ready(
    port: int, proc: subprocess.Popen[bytes] | None = None, deadline_s: float = 20.0
) -> None:
    """Waits until the server on `port` answers PING (raises if it exits or never answers)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server for port {port} exited with code {proc.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5) as c:
                c.sendall(b"PING\r\n")
                if c.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not become ready in {deadline_s:.0f} s")


def start(cmd: list[str], port: int) -> subprocess.Popen[bytes]:
    """Starts `cmd` as a server on `port` with the common settings; waits until it answers."""
    args = [*cmd, "--port", str(port), *SERVER_ARGS]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port, proc)
    except BaseException:
        stop(proc)
        raise
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stops a server we started: SIGTERM, then SIGKILL after 10 s."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass
class Server:
    """A running server: its name ("redis" / "fastkv"), port and process."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.proc.pid


@contextmanager
def running_server(name: str, cmd: list[str]) -> Iterator[Server]:
    """Starts a fresh server on a free port for the duration of the `with` block."""
    port = free_port()
    proc = start(cmd, port)
    try:
        yield Server(name, port, proc)
    finally:
        stop(proc)


def fastkv_server_cmd(explicit: str | None = None) -> list[str]:
    """The fastkv-server command: `explicit`, else $FASTKV_SERVER, else the one installed beside
    this Python (skipping pyenv's shim, whose extra process would distort RSS), else PATH."""
    chosen = explicit or os.environ.get("FASTKV_SERVER")
    if not chosen:
        beside = Path(sys.executable).parent / "fastkv-server"
        chosen = str(beside) if beside.exists() else shutil.which("fastkv-server")
    if not chosen:
        raise SystemExit("fastkv-server not found: pass --fastkv-server PATH")
    return chosen.split()


def redis_server_cmd() -> list[str]:
    found = shutil.which("redis-server")
    if not found:
        raise SystemExit("redis-server not found on PATH")
    return [found]


def need_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not found on PATH")
    return found


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version_of(cmd: list[str]) -> str:
    try:
        out = subprocess.run(
            [*cmd, "--version"], capture_output=True, text=True, timeout=20, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unknown ({e})"
    return out.strip().splitlines()[0] if out.strip() else "unknown"


def _dist_version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine_facts(fastkv_cmd: list[str] | None = None) -> dict[str, Any]:
    """Cores, CPU model, kernel and the versions of everything measured."""
    try:
        import fastkv

        fastkv_version = str(getattr(fastkv, "__version__", "unknown"))
    except ImportError:
        fastkv_version = "not importable"
    return {
        "cores": os.cpu_count(),
        "cpu": cpu_model(),
        "kernel": platform.release(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "redis_server": _version_of(redis_server_cmd()),
        "fastkv_server": _version_of(fastkv_cmd or fastkv_server_cmd()),
        "fastkv": fastkv_version,
        "redis_py": _dist_version("redis"),
        "fakeredis": _dist_version("fakeredis"),
        "pydirs": _dist_version("pydirs"),
        "when_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def write_results(name: str, data: dict[str, Any]) -> Path:
    """Writes bench/results/<name>.json and returns its path."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def rss_bytes(pid: int) -> int:
    """Resident set size of process `pid` (VmRSS), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")
