"""Shared helpers for the fastkv test suite: starting servers, raw RESP sockets,
a uniform client face over redis-py (RESP2/RESP3) and the embedded store, and
small normalizers so one assertion holds for every way of talking to the engine.

Environment contract (see conftest.py):
  FASTKV_SERVER  a command line (shlex-split) used instead of `fastkv-server`;
                 `FASTKV_SERVER=redis-server` runs the whole suite against real Redis.
  CI             when truthy, missing prerequisites (redis-server, the fastkv
                 package) are errors instead of skips.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

HOST = "127.0.0.1"
# Settings every server under test gets (the brief: nothing else for fastkv).
BASE_ARGS: tuple[str, ...] = ("--save", "", "--appendonly", "no")
# Real Redis 7 refuses DEBUG unless enabled at start-up; fastkv is expected to
# allow it without the flag (see the report), so this only goes to redis-server.
REDIS_ONLY_ARGS: tuple[str, ...] = ("--enable-debug-command", "yes")
READY_TIMEOUT = 10.0


class Redis(redis.Redis):
    """redis.Redis with a typed execute_command (redis-py's is unannotated)."""

    def execute_command(self, *args: Any, **options: Any) -> Any:
        return super().execute_command(*args, **options)  # type: ignore[no-untyped-call]


def ci_mode() -> bool:
    """True when running in CI: missing prerequisites must fail, not skip."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


# --------------------------------------------------------------------------
# Locating and running servers
# --------------------------------------------------------------------------


def server_command() -> list[str]:
    """The command that starts the server under test (without arguments)."""
    override = os.environ.get("FASTKV_SERVER")
    if override:
        return shlex.split(override)
    exe = shutil.which("fastkv-server")
    if exe:
        return [exe]
    return [sys.executable, "-m", "fastkv"]


def is_redis_command(cmd: Sequence[str]) -> bool:
    """Whether `cmd` starts a real redis-server (the oracle)."""
    return bool(cmd) and Path(cmd[0]).name.startswith("redis-server")


def oracle_command() -> list[str] | None:
    exe = shutil.which("redis-server")
    return [exe] if exe else None


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class ServerHandle:
    host: str
    port: int
    proc: subprocess.Popen[bytes]
    argv: list[str]
    cwd: Path
    log_path: Path
    is_real_redis: bool
    extra: dict[str, Any] = field(default_factory=dict)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def client(self, protocol: int = 3, **kwargs: Any) -> Redis:
        """redis-py with its usual response callbacks."""
        return Redis(host=self.host, port=self.port, protocol=protocol, **kwargs)

    def raw(self, timeout: float = 5.0) -> RawConn:
        return RawConn(self.host, self.port, timeout=timeout)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def rss_kb(self) -> int:
        """Resident set size of the server process (Linux only)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("VmRSS not found")


def server_args(port: int, extra: Sequence[str] = (), *, real_redis: bool) -> list[str]:
    args = ["--port", str(port), "--bind", HOST, *BASE_ARGS]
    if real_redis:
        args += REDIS_ONLY_ARGS
    return args + list(extra)


def wait_for_ping(host: str, port: int, deadline: float, proc: subprocess.Popen[bytes]) -> bool:
    """Poll until the server answers PING, the process dies, or the deadline passes."""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=0.5) as s:
                s.sendall(b"*1\r\n$4\r\nPING\r\n")
                s.settimeout(1.0)
                if s.recv(64).startswith(b"+PONG"):
                    return True
        except OSError:
            pass
        time.sleep(0.02)
    return False


def start_server(
    cmd: Sequence[str],
    workdir: Path,
    extra_args: Sequence[str] = (),
    *,
    port: int | None = None,
    config_file: Path | None = None,
    ready_timeout: float = READY_TIMEOUT,
    attempts: int = 3,
) -> ServerHandle:
    """Start `cmd` on a free port in `workdir` and wait until it answers PING.

    Retries on another port if the process dies early (a port race), then raises
    with the server's log.
    """
    real = is_redis_command(cmd)
    workdir.mkdir(parents=True, exist_ok=True)
    last_log = ""
    for attempt in range(attempts):
        p = port if port is not None else free_port()
        argv = list(cmd)
        if config_file is not None:
            argv.append(str(config_file))
        argv += server_args(p, extra_args, real_redis=real)
        log_path = workdir / f"server-{p}-{attempt}.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                argv,
                cwd=workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        handle = ServerHandle(HOST, p, proc, argv, workdir, log_path, real)
        if wait_for_ping(HOST, p, time.monotonic() + ready_timeout, proc):
            return handle
        stop_server(handle)
        last_log = handle.log()
        if port is not None:
            break
    raise RuntimeError(f"server {list(cmd)} did not start; log:\n{last_log[-4000:]}")


def stop_server(handle: ServerHandle, timeout: float = 5.0) -> int | None:
    """Terminate (then kill) the server; returns its exit code."""
    proc = handle.proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)
    return proc.returncode


def wait_until(pred: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    """Bounded poll: True as soon as pred() holds, False after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if pred():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


# --------------------------------------------------------------------------
# Raw RESP sockets
# --------------------------------------------------------------------------


def encode_command(*args: bytes | str | int) -> bytes:
    """RESP multibulk encoding of one command."""
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(parts)


class RawConn:
    """A blocking socket with exact-bytes helpers and a small RESP reader."""

    def __init__(self, host: str, port: int, timeout: float = 5.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def __enter__(self) -> RawConn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed by server")
        self.buf += chunk

    def read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_line(self) -> bytes:
        """One line including its CRLF."""
        while b"\r\n" not in self.buf:
            self._fill()
        i = self.buf.index(b"\r\n") + 2
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def read_raw_reply(self) -> bytes:
        """The exact bytes of one complete RESP2/RESP3 reply."""
        line = self.read_line()
        kind = line[:1]
        if kind in b"$=!" and kind:
            n = int(line[1:-2])
            return line if n < 0 else line + self.read_exact(n + 2)
        if kind in (b"*", b"%", b"~", b">", b"|"):
            n = int(line[1:-2])
            if n < 0:
                return line
            count = n * 2 if kind in (b"%", b"|") else n
            return line + b"".join(self.read_raw_reply() for _ in range(count))
        return line

    def command(self, *args: bytes | str | int) -> bytes:
        self.send(encode_command(*args))
        return self.read_raw_reply()

    def read_until_closed(self, timeout: float = 5.0) -> bytes:
        """Everything the server sends until it closes the connection.

        Raises TimeoutError if the connection is still open after `timeout`.
        """
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                break
            except socket.timeout:  # not a TimeoutError subclass before Python 3.10
                raise TimeoutError("server did not close the connection") from None
            if not chunk:
                break
            self.buf += chunk
        else:
            raise TimeoutError("server did not close the connection")
        out, self.buf = self.buf, b""
        return out

    def is_closed(self, timeout: float = 2.0) -> bool:
        """True if the server closes the connection within `timeout`."""
        try:
            self.read_until_closed(timeout)
        except TimeoutError:
            return False
        return True


# --------------------------------------------------------------------------
# A uniform client face (resp3 / resp2 / embedded)
# --------------------------------------------------------------------------


class ReplyError(Exception):
    """An error reply, carrying Redis's full text (e.g. "ERR syntax error")."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def error_text(exc: BaseException) -> str:
    """Redis's full error text from a redis-py or fastkv exception.

    redis-py strips a known leading code (ERR, NOPERM, ...) into `status_code`;
    fastkv.ResponseError keeps the text whole. Either way we return the wire text
    without the leading '-'.
    """
    text = str(exc)
    code = getattr(exc, "status_code", None)
    if code and not text.startswith(f"{code} ") and text != code:
        return f"{code} {text}"
    return text


def normalize(value: Any) -> Any:
    """Make replies comparable across transports: str -> bytes, recursively.

    The embedded store returns simple strings as str; redis-py without decoding
    returns them as bytes.
    """
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, list):
        return [normalize(v) for v in value]
    if isinstance(value, tuple):
        return [normalize(v) for v in value]
    if isinstance(value, dict):
        return {normalize(k): normalize(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return {normalize(v) for v in value}
    return value


def as_map(reply: Any) -> dict[Any, Any]:
    """A RESP3 map, or the flat RESP2 list encoding of one, as a dict."""
    if isinstance(reply, dict):
        return reply
    assert isinstance(reply, list) and len(reply) % 2 == 0, reply
    return dict(zip(reply[::2], reply[1::2]))


def as_float(reply: Any) -> float:
    """A RESP3 double or its RESP2 bulk-string form."""
    if isinstance(reply, bytes):
        return float(reply)
    assert isinstance(reply, (int, float)), reply
    return float(reply)


class Client:
    """Anything that runs commands: `execute_command` returns normalized replies
    and raises ReplyError(full redis text) on error replies."""

    kind: str = ""
    resp: int = 3

    def _run(self, *args: Any) -> Any:
        raise NotImplementedError

    def execute_command(self, *args: Any) -> Any:
        try:
            return normalize(self._run(*args))
        except redis.exceptions.ResponseError as e:
            raise ReplyError(error_text(e)) from None

    def __call__(self, *args: Any) -> Any:
        return self.execute_command(*args)

    def error(self, *args: Any) -> str:
        """Run a command that must fail; return its full error text."""
        try:
            reply = self.execute_command(*args)
        except ReplyError as e:
            return e.text
        raise AssertionError(f"{args!r} did not fail, replied {reply!r}")

    def close(self) -> None:
        pass


class SocketClient(Client):
    """redis-py over TCP with all response callbacks removed (raw replies)."""

    def __init__(self, host: str, port: int, protocol: int) -> None:
        self.kind = f"resp{protocol}"
        self.resp = protocol
        self.redis = raw_redis(host, port, protocol)

    def _run(self, *args: Any) -> Any:
        return self.redis.execute_command(*args)

    def close(self) -> None:
        self.redis.close()


class EmbeddedClient(Client):
    """fastkv.Store in-process; replies are RESP3-shaped Python values."""

    kind = "embedded"
    resp = 3

    def __init__(self, store: Any) -> None:
        self.store = store

    def _run(self, *args: Any) -> Any:
        return self.store.execute_command(*args)


def raw_redis(host: str, port: int, protocol: int, **kwargs: Any) -> Redis:
    """A redis-py client whose execute_command returns unparsed (raw) replies."""
    r = Redis(host=host, port=port, protocol=protocol, **kwargs)
    r.response_callbacks.clear()
    return r


# --------------------------------------------------------------------------
# DUMP payloads (RDB string encoding) — to build RESTORE inputs independently
# --------------------------------------------------------------------------

RDB_VERSION = 10  # Redis 7.0
_CRC64_POLY_REFLECTED = 0x95AC9329AC4BC9B5  # Jones polynomial 0xad93d23594c935a9, reflected


def _crc64_table() -> list[int]:
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ _CRC64_POLY_REFLECTED if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC64_TABLE = _crc64_table()


def crc64(data: bytes, crc: int = 0) -> int:
    """Redis's crc64 (Jones, reflected, no final xor).

    crc64(b"123456789") == 0xE9C6D914C4B8D9CA
    """
    for b in data:
        crc = _CRC64_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


def _rdb_len(n: int) -> bytes:
    if n < 1 << 6:
        return bytes([n])
    if n < 1 << 14:
        return bytes([0x40 | (n >> 8), n & 0xFF])
    if n <= 0xFFFFFFFF:
        return b"\x80" + n.to_bytes(4, "big")
    return b"\x81" + n.to_bytes(8, "big")


def _rdb_string(value: bytes) -> bytes:
    """RDB string encoding without LZF (DUMP compresses only values > 20 bytes)."""
    try:
        text = value.decode("ascii")
        n = int(text)
        canonical = str(n) == text and len(value) <= 11
    except (UnicodeDecodeError, ValueError):
        canonical = False
    if canonical:
        if -(1 << 7) <= n < 1 << 7:
            return b"\xc0" + n.to_bytes(1, "little", signed=True)
        if -(1 << 15) <= n < 1 << 15:
            return b"\xc1" + n.to_bytes(2, "little", signed=True)
        if -(1 << 31) <= n < 1 << 31:
            return b"\xc2" + n.to_bytes(4, "little", signed=True)
    return _rdb_len(len(value)) + value


def dump_string_payload(value: bytes, *, rdb_version: int = RDB_VERSION) -> bytes:
    """The DUMP payload Redis 7.0 produces for a short string value."""
    body = b"\x00" + _rdb_string(value) + rdb_version.to_bytes(2, "little")
    return body + crc64(body).to_bytes(8, "little")


@contextlib.contextmanager
def closing_all(*clients: Any) -> Iterator[None]:
    try:
        yield
    finally:
        for c in clients:
            with contextlib.suppress(Exception):
                c.close()


# --------------------------------------------------------------------------
# Differential runs: the same commands against real Redis and the server under test
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class At:
    """A deadline resolved when the command runs: now + offset (s or ms)."""

    offset: int
    ms: bool = False

    def resolve(self) -> str:
        now = time.time()
        return str(int(now * 1000) + self.offset if self.ms else int(now) + self.offset)


Outcome = tuple[str, Any]  # ("ok", reply) | ("err", full error text)


def run_outcome(conn: Redis, args: Sequence[Any]) -> Outcome:
    try:
        return ("ok", conn.execute_command(*args))
    except redis.exceptions.ResponseError as e:
        return ("err", error_text(e))


def resolve_args(args: Sequence[Any]) -> list[Any]:
    return [a.resolve() if isinstance(a, At) else a for a in args]


def _near(a: Outcome, b: Outcome, tolerance: int) -> bool:
    if a[0] != "ok" or b[0] != "ok" or not isinstance(a[1], int) or not isinstance(b[1], int):
        return a == b
    if a[1] < 0 or b[1] < 0:
        return a == b  # -1 / -2 are exact
    return abs(a[1] - b[1]) <= tolerance


def _sorted_reply(o: Outcome) -> Outcome:
    return (o[0], sorted(o[1])) if o[0] == "ok" and isinstance(o[1], list) else o


TOLERANCE = {
    "TTL": 2,
    "PTTL": 2000,
    "EXPIRETIME": 2,
    "PEXPIRETIME": 2000,
}


class Differential:
    """Runs command sequences on an oracle and a server under test, step by step,
    and reports the first reply that differs (with the whole transcript)."""

    def __init__(
        self,
        oracle: ServerHandle,
        sut: ServerHandle,
        protocol: int,
    ) -> None:
        self.protocol = protocol
        self.o = raw_redis(oracle.host, oracle.port, protocol)
        self.s = raw_redis(sut.host, sut.port, protocol)
        # Side connections for DUMP cross-checks, on a database sequences never use.
        self.o_aux = raw_redis(oracle.host, oracle.port, protocol, db=15)
        self.s_aux = raw_redis(sut.host, sut.port, protocol, db=15)

    def close(self) -> None:
        for c in (self.o, self.s, self.o_aux, self.s_aux):
            c.close()

    def reset(self) -> None:
        for c in (self.o, self.s):
            c.execute_command("FLUSHALL")
            c.execute_command("SELECT", 0)

    def run(self, commands: Sequence[Sequence[Any]]) -> None:
        self.reset()
        transcript: list[str] = []
        for raw_args in commands:
            args = resolve_args(raw_args)
            name = str(args[0]).upper()
            if name == "SCAN*":
                o, s = (
                    self._full_scan(self.o, args[1:]),
                    self._full_scan(self.s, args[1:]),
                )
                same = o == s
            else:
                o, s = run_outcome(self.o, args), run_outcome(self.s, args)
                same = self._compare(name, args, o, s)
            transcript.append(f"{args!r}\n    redis: {o!r}\n    sut:   {s!r}")
            if not same:
                raise AssertionError(
                    f"RESP{self.protocol} replies differ at step {len(transcript)}:\n"
                    + "\n".join(transcript)
                )

    def _compare(self, name: str, args: list[Any], o: Outcome, s: Outcome) -> bool:
        if name in TOLERANCE:
            return _near(o, s, TOLERANCE[name])
        if name == "KEYS":
            return _sorted_reply(o) == _sorted_reply(s)
        if name == "SCAN":
            # Cursors are implementation-defined; a finished one-call scan must
            # return the same keys.
            if o[0] != "ok" or s[0] != "ok":
                return o == s
            (oc, ok), (sc, sk) = o[1], s[1]
            if oc == sc == b"0":
                return sorted(ok) == sorted(sk)
            return isinstance(ok, list) and isinstance(sk, list)
        if name == "OBJECT" and len(args) > 1 and str(args[1]).upper() == "IDLETIME":
            return _near(o, s, 2)
        if name == "RANDOMKEY":
            if o[0] != "ok" or s[0] != "ok":
                return o == s
            if (o[1] is None) != (s[1] is None):
                return False
            return o[1] is None or (
                self.o.execute_command("EXISTS", o[1]) == 1
                and self.s.execute_command("EXISTS", s[1]) == 1
            )
        if name == "DUMP":
            return self._compare_dump(o, s)
        return o == s

    def _compare_dump(self, o: Outcome, s: Outcome) -> bool:
        """Payloads may differ (LZF): each must restore on the other side to the
        same value."""
        if o[0] != "ok" or s[0] != "ok" or o[1] is None or s[1] is None:
            return o == s
        restored: list[Outcome] = []
        for conn, payload in ((self.s_aux, o[1]), (self.o_aux, s[1])):
            out = run_outcome(conn, ["RESTORE", "__dump_check__", 0, payload, "REPLACE"])
            restored.append(
                out if out[0] == "err" else run_outcome(conn, ["GET", "__dump_check__"])
            )
            conn.execute_command("DEL", "__dump_check__")
        return restored[0] == restored[1] and restored[0][0] == "ok"

    @staticmethod
    def _full_scan(conn: Redis, opts: Sequence[Any]) -> Outcome:
        cursor: Any = 0
        seen: set[bytes] = set()
        for _ in range(10_000):
            out = run_outcome(conn, ["SCAN", cursor, *opts])
            if out[0] == "err":
                return out
            cursor, keys = out[1]
            seen.update(keys)
            if cursor in (b"0", 0):
                return ("ok", sorted(seen))
        raise AssertionError("SCAN did not terminate")
