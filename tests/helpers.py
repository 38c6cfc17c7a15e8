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
# Redis's maxmemory policies that evict (its own order); `noeviction` is the eighth.
EVICTING_POLICIES = [
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
]
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
            except TimeoutError:  # not a TimeoutError subclass before Python 3.10
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
    return dict(zip(reply[::2], reply[1::2], strict=False))


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


# --------------------------------------------------------------------------
# Typed differential runs (hash / set / sorted-set / SORT families)
#
# Replies are read from raw sockets and kept with their RESP wire type, so a
# RESP3 set (~) is not equal to an array (*), a double (,) is compared by its
# exact text (Redis 7.0 prints %.17g), a simple string (+) is not a bulk string.
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Tagged:
    """A reply that is not a bulk string, an integer or an array, with its wire type.

    kind: "+" simple string, "," double (value: its text), "#" boolean, "_" RESP3
    null, "$-1" / "*-1" RESP2 nulls, "~" set / "%" map / ">" push (value: list of
    items; a map's items are [key, value] lists), "-" an error nested in an array.
    """

    kind: str
    value: Any = None

    def __repr__(self) -> str:
        return self.kind if self.value is None else f"{self.kind}{self.value!r}"


def read_typed(conn: RawConn) -> Any:
    """One reply from `conn` as bytes / int / list / Tagged; top-level errors as
    Tagged("-", text)."""
    line = conn.read_line()
    kind, rest = line[:1], line[1:-2]
    if kind == b"$":
        n = int(rest)
        return Tagged("$-1") if n < 0 else conn.read_exact(n + 2)[:-2]
    if kind == b":":
        return int(rest)
    if kind in (b"*", b"~", b">"):
        n = int(rest)
        if n < 0:
            return Tagged("*-1")
        items = [read_typed(conn) for _ in range(n)]
        return items if kind == b"*" else Tagged(kind.decode(), items)
    if kind == b"%":
        return Tagged("%", [[read_typed(conn), read_typed(conn)] for _ in range(int(rest))])
    if kind == b"-":
        return Tagged("-", rest.decode(errors="replace"))
    if kind == b"!":
        return Tagged("-", conn.read_exact(int(rest) + 2)[:-2].decode(errors="replace"))
    if kind in (b"+", b",", b"("):
        return Tagged(kind.decode(), rest)
    if kind == b"#":
        return Tagged("#", rest == b"t")
    if kind == b"_":
        return Tagged("_")
    if kind == b"=":
        return conn.read_exact(int(rest) + 2)[4:-2]
    raise AssertionError(f"unexpected RESP line {line!r}")


def is_nil(v: Any) -> bool:
    return isinstance(v, Tagged) and v.kind in ("_", "$-1", "*-1")


def _sort_key(v: Any) -> str:
    return repr(v)


def unordered(v: Any, chunk: int = 1) -> Any:
    """An order-free form of a collection reply: arrays are cut into `chunk`-sized
    groups (field/value pairs, SORT GET groups) and sorted; sets and maps sorted."""
    if isinstance(v, Tagged) and v.kind in ("~", "%"):
        return Tagged(v.kind, sorted(v.value, key=_sort_key))
    if isinstance(v, list):
        groups = [v[i : i + chunk] for i in range(0, len(v), chunk)]
        return sorted(groups, key=_sort_key)
    return v


def shape(v: Any) -> Any:
    """A reply with its strings replaced by '$': the structure random replies share."""
    if isinstance(v, bytes):
        return "$"
    if isinstance(v, list):
        return [shape(x) for x in v]
    if isinstance(v, Tagged):
        if isinstance(v.value, list):
            return Tagged(v.kind, sorted((shape(x) for x in v.value), key=_sort_key))
        return v.kind if v.kind == "," else v
    return v


def pairs_of(v: Any) -> list[tuple[Any, Any]]:
    """Field/value (member/score) pairs from a RESP3 map, a RESP3 array of pairs
    or a RESP2 flat array."""
    items = v.value if isinstance(v, Tagged) else v
    assert isinstance(items, list), v
    if items and isinstance(items[0], list):
        assert all(len(p) == 2 for p in items), v
        return [(p[0], p[1]) for p in items]
    assert len(items) % 2 == 0, v
    return list(zip(items[::2], items[1::2], strict=False))


def elements_of(v: Any) -> list[Any]:
    items = v.value if isinstance(v, Tagged) else v
    assert isinstance(items, list), v
    return items


def _int_or_none(x: Any) -> int | None:
    try:
        return int(x)
    except (TypeError, ValueError):
        return None


@dataclass
class KeyContents:
    """A key's type and contents, read on one connection: set members, hash
    fields -> values, zset members -> score replies (in that protocol's form)."""

    type: str
    members: list[Any] = field(default_factory=list)
    mapping: dict[Any, Any] = field(default_factory=dict)
    raw: Any = None


# Commands whose replies are collections without a defined order.
UNORDERED_REPLIES: dict[str, int] = {
    "SMEMBERS": 1,
    "SINTER": 1,
    "SUNION": 1,
    "SDIFF": 1,
    "HKEYS": 1,
    "HVALS": 1,
    "HGETALL": 2,
}
RANDOM_REPLIES = ("SPOP", "SRANDMEMBER", "HRANDFIELD", "ZRANDMEMBER")
SCAN_PAIRS = {"SSCAN": 1, "HSCAN": 2, "ZSCAN": 2}


class TypedDifferential:
    """Like Differential, on raw sockets with typed replies (see Tagged), plus
    comparison modes for the collection families:

      - order-free replies (UNORDERED_REPLIES) are compared as sorted groups;
      - random replies (SPOP SRANDMEMBER HRANDFIELD ZRANDMEMBER) must have the
        oracle's shape and hold only members (with their values/scores) of the
        key as it was; distinct unless the count is negative. After SPOP the
        oracle is brought to the server under test's state;
      - "SSCAN*" / "HSCAN*" / "ZSCAN*" key [opts]: a full iteration on each side,
        compared as a set; a plain xSCAN is compared when both cursors are 0;
      - SORT / SORT_RO: exact, except where Redis itself leaves the order open
        (BY nosort over a set; ALPHA with a BY pattern, whose ties qsort leaves
        unordered): then as sorted GET groups (or only by length with LIMIT);
      - DUMP: each side's payload must RESTORE on the other to the same contents.
    """

    def __init__(self, oracle: ServerHandle, sut: ServerHandle, protocol: int) -> None:
        self.protocol = protocol
        self.o = self._connect(oracle)
        self.s = self._connect(sut)
        self.o_aux = self._connect(oracle, db=15)
        self.s_aux = self._connect(sut, db=15)

    def _connect(self, handle: ServerHandle, db: int = 0) -> RawConn:
        conn = handle.raw(timeout=30.0)
        if self.protocol == 3:
            self.call(conn, "HELLO", "3")
        if db:
            self.call(conn, "SELECT", db)
        return conn

    def close(self) -> None:
        for c in (self.o, self.s, self.o_aux, self.s_aux):
            c.close()

    @staticmethod
    def call(conn: RawConn, *args: Any) -> Outcome:
        conn.send(encode_command(*args))
        v = read_typed(conn)
        if isinstance(v, Tagged) and v.kind == "-":
            return ("err", v.value)
        return ("ok", v)

    def ok(self, conn: RawConn, *args: Any) -> Any:
        out = self.call(conn, *args)
        assert out[0] == "ok", (args, out)
        return out[1]

    def reset(self) -> None:
        for c in (self.o, self.s):
            self.ok(c, "FLUSHALL")
            self.ok(c, "SELECT", 0)

    def run(self, commands: Sequence[Sequence[Any]]) -> None:
        self.reset()
        transcript: list[str] = []
        for raw_args in commands:
            args = resolve_args(raw_args)
            o, s, same = self.step(args)
            transcript.append(f"{args!r}\n    redis: {o!r}\n    sut:   {s!r}")
            if not same:
                raise AssertionError(
                    f"RESP{self.protocol} replies differ at step {len(transcript)}:\n"
                    + "\n".join(transcript)
                )

    def step(self, args: list[Any]) -> tuple[Any, Any, bool]:
        name = str(args[0]).upper()
        if name.endswith("SCAN*"):
            o, s = self._full_scan(self.o, args), self._full_scan(self.s, args)
            return o, s, o == s
        if name in RANDOM_REPLIES:
            return self._random(name, args)
        o, s = self.call(self.o, *args), self.call(self.s, *args)
        return o, s, self.compare(name, args, o, s)

    def compare(self, name: str, args: list[Any], o: Outcome, s: Outcome) -> bool:
        if o[0] != "ok" or s[0] != "ok":
            return o == s
        if name in UNORDERED_REPLIES:
            chunk = UNORDERED_REPLIES[name] if self.protocol == 2 else 1
            return bool(unordered(o[1], chunk) == unordered(s[1], chunk))
        if name in SCAN_PAIRS:
            return self._compare_scan_step(name, o[1], s[1])
        if name in ("SORT", "SORT_RO"):
            return o == s or self._sort_order_open(args, o[1], s[1])
        if name == "DUMP":
            return self._compare_dump(args, o, s)
        return o == s

    # -- contents -----------------------------------------------------------

    def contents(self, conn: RawConn, key: Any) -> KeyContents:
        t = self.ok(conn, "TYPE", key)
        typ = t.value.decode() if isinstance(t, Tagged) else str(t)
        kc = KeyContents(typ)
        if typ == "set":
            reply = self.ok(conn, "SMEMBERS", key)
            kc.members = elements_of(reply)
            kc.raw = unordered(reply)
        elif typ == "hash":
            kc.raw = self.ok(conn, "HGETALL", key)
            kc.mapping = dict(pairs_of(kc.raw))
            kc.raw = sorted(kc.mapping.items(), key=_sort_key)
        elif typ == "zset":
            kc.raw = self.ok(conn, "ZRANGE", key, 0, -1, "WITHSCORES")
            kc.mapping = dict(pairs_of(kc.raw))
            kc.members = list(kc.mapping)
        elif typ == "string":
            kc.raw = self.ok(conn, "GET", key)
        elif typ == "list":
            kc.raw = self.ok(conn, "LRANGE", key, 0, -1)
        return kc

    # -- random replies -------------------------------------------------------

    def _random(self, name: str, args: list[Any]) -> tuple[Any, Any, bool]:
        key = args[1] if len(args) > 1 else None
        before = self.contents(self.o, key) if key is not None else KeyContents("none")
        o, s = self.call(self.o, *args), self.call(self.s, *args)
        if o[0] != "ok" or s[0] != "ok":
            return o, s, o == s
        same = shape(o[1]) == shape(s[1])
        if same:
            reason = self._check_random(name, args, o[1], before) or self._check_random(
                name, args, s[1], before
            )
            if reason:
                s = ("ok", (s[1], f"INVALID: {reason}"))
                same = False
        if same and name == "SPOP" and before.type == "set":
            self._resync_spop(key, args, before, o[1], s[1])
        return o, s, same

    @staticmethod
    def _check_random(name: str, args: list[Any], reply: Any, before: KeyContents) -> str:
        """'' if `reply` is a valid answer of the random command on `before`."""
        if is_nil(reply):
            return "" if before.type == "none" else "nil from an existing key"
        count = _int_or_none(args[2]) if len(args) > 2 else None
        with_values = len(args) > 3
        if count is None:
            items = [reply]
        elif with_values:
            items = pairs_of(reply)
        else:
            items = elements_of(reply)
        if before.type == "set":
            bad = [m for m in items if m not in before.members]
        elif with_values:
            bad = [m for m in items if before.mapping.get(m[0], object()) != m[1]]
        else:
            bad = [m for m in items if m not in before.mapping]
        if bad:
            return f"not in the key: {bad!r}"
        distinct = count is not None and (count >= 0 or name == "SPOP")
        keys = [m[0] if with_values else m for m in items]
        if distinct and len({repr(k) for k in keys}) != len(keys):
            return "repeated elements with a non-negative count"
        return ""

    def _resync_spop(
        self, key: Any, args: list[Any], before: KeyContents, o_reply: Any, s_reply: Any
    ) -> None:
        """Make the oracle's set what the server under test kept.

        Redis's SPOP with a count either removes members one by one (the
        encoding stays) or, when few remain (remaining*5 <= count), rebuilds the
        set from the remaining members; mirror whichever happened.
        """
        popped_o = [o_reply] if len(args) < 3 else elements_of(o_reply)
        popped_s = [s_reply] if len(args) < 3 else elements_of(s_reply)
        size = len(before.members)
        count = _int_or_none(args[2]) if len(args) > 2 else 1
        assert count is not None
        remaining = [m for m in before.members if m not in popped_s]
        if len(args) > 2 and count < size and (size - count) * 5 <= count:
            self.ok(self.o, "DEL", key)
            if remaining:
                self.ok(self.o, "SADD", key, *remaining)
            return
        if popped_o:
            self.ok(self.o, "SADD", key, *popped_o)
        if popped_s:
            self.ok(self.o, "SREM", key, *popped_s)

    # -- SCAN -----------------------------------------------------------------

    def _full_scan(self, conn: RawConn, args: list[Any]) -> Outcome:
        real = str(args[0]).upper().rstrip("*")
        chunk = SCAN_PAIRS[real]
        cursor: Any = b"0"
        seen: dict[str, Any] = {}
        for _ in range(100_000):
            out = self.call(conn, real, args[1], cursor, *args[2:])
            if out[0] == "err":
                return out
            cursor, items = out[1]
            for i in range(0, len(items), chunk):
                group = items[i : i + chunk]
                seen[repr(group)] = group
            if cursor == b"0":
                return ("ok", [seen[k] for k in sorted(seen)])
        raise AssertionError(f"{real} did not terminate")

    def _compare_scan_step(self, name: str, o: Any, s: Any) -> bool:
        if not (isinstance(s, list) and len(s) == 2 and isinstance(s[1], list)):
            return False
        if o[0] == s[0] == b"0":
            chunk = SCAN_PAIRS[name]
            return bool(unordered(o[1], chunk) == unordered(s[1], chunk))
        return isinstance(s[0], bytes) and int(s[0]) >= 0

    # -- SORT ------------------------------------------------------------------

    def _sort_order_open(self, args: list[Any], o: Any, s: Any) -> bool:
        """SORT replies that Redis does not order: compare what is defined.

        BY nosort over a set: the same GET groups (only the length with LIMIT).
        ALPHA with a BY pattern: ties keep no order, so when the elements can be
        read back (no GET, or GET #) both replies must have the same sequence of
        sort keys (each looked up on its own side) and, without LIMIT, the same groups.
        """
        if not (isinstance(o, list) and isinstance(s, list)):
            return False
        by: Any = None
        alpha = limit = store = dontsort = False
        gets: list[Any] = []
        i = 2
        while i < len(args):
            w = args[i].decode(errors="replace") if isinstance(args[i], bytes) else str(args[i])
            w = w.upper()
            if w == "BY" and i + 1 < len(args):
                by, i = args[i + 1], i + 1
                pattern = by.encode() if isinstance(by, str) else by
                dontsort = dontsort or b"*" not in pattern  # sticks, as in Redis
            elif w == "GET" and i + 1 < len(args):
                gets, i = [*gets, args[i + 1]], i + 1
            elif w == "LIMIT":
                limit, i = True, i + 2
            elif w == "STORE":
                store, i = True, i + 1
            elif w == "ALPHA":
                alpha = True
            i += 1
        by_b = by.encode() if isinstance(by, str) else by
        nosort = dontsort
        chunk = max(len(gets), 1)
        if store or len(o) != len(s):
            return False
        same_groups = unordered(o, chunk) == unordered(s, chunk)
        if nosort and self.ok(self.o, "TYPE", args[1]) == Tagged("+", b"set"):
            return limit or same_groups
        if not (alpha and by_b is not None and not nosort):
            return False
        gets_b = [g.encode() if isinstance(g, str) else g for g in gets]
        if gets_b and b"#" not in gets_b:
            return limit or same_groups
        at = gets_b.index(b"#") if gets_b else 0
        keys_o = [self._sort_key_of(self.o, by_b, e) for e in o[at::chunk]]
        keys_s = [self._sort_key_of(self.s, by_b, e) for e in s[at::chunk]]
        return keys_o == keys_s and (limit or same_groups)

    def _sort_key_of(self, conn: RawConn, pattern: bytes, elem: Any) -> Any:
        """What SORT's BY `pattern` looks up for `elem`, read through `conn`."""
        if not isinstance(elem, bytes):
            return elem
        key_part, _, fld = pattern.partition(b"->")
        star = key_part.find(b"*")
        name = key_part[:star] + elem + key_part[star + 1 :]
        if fld:
            out = self.call(conn, "HGET", name, fld)
        else:
            out = self.call(conn, "GET", name)
        return out[1] if out[0] == "ok" and not is_nil(out[1]) else None

    # -- DUMP ------------------------------------------------------------------

    def _compare_dump(self, args: list[Any], o: Outcome, s: Outcome) -> bool:
        """Each side's payload must restore on the other side to the key's contents."""
        if is_nil(o[1]) or is_nil(s[1]):
            return o == s
        expected = self.contents(self.o, args[1])
        for conn, payload in ((self.s_aux, o[1]), (self.o_aux, s[1])):
            out = self.call(conn, "RESTORE", "__dump_check__", 0, payload, "REPLACE")
            got = self.contents(conn, "__dump_check__") if out[0] == "ok" else None
            self.call(conn, "DEL", "__dump_check__")
            if got is None or (got.type, got.raw) != (expected.type, expected.raw):
                return False
        return True
