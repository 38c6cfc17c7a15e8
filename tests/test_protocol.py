"""The wire protocol over raw sockets: exact bytes in, exact bytes out.

Texts here are Redis 7.0's; `test_*_oracle_agrees` run the same bytes against a
real redis-server so the literals themselves are checked.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
import redis
from helpers import RawConn, ServerHandle, encode_command, wait_until


@pytest.fixture
def srv(server: ServerHandle) -> Iterator[ServerHandle]:
    """The server under test with every database flushed."""
    c = server.client(protocol=2)
    c.flushall()
    c.close()
    yield server


def exchange(handle: ServerHandle, data: bytes, wait: float = 2.0) -> tuple[bytes, bool]:
    """Send `data`; return (everything received, whether the server closed)."""
    with handle.raw(timeout=wait) as c:
        c.send(data)
        try:
            return c.read_until_closed(wait), True
        except TimeoutError:
            return c.buf, False


def no_more_data(c: RawConn, wait: float = 0.2) -> bool:
    """True if nothing more arrives within `wait` and the connection stays open."""
    if c.buf:
        return False
    c.sock.settimeout(wait)
    try:
        c.sock.recv(1)
    except TimeoutError:
        return True
    return False  # data, or b"" because the server closed the connection


# --------------------------------------------------------------------------
# Well-formed requests
# --------------------------------------------------------------------------


def test_ping_multibulk(srv: ServerHandle) -> None:
    with srv.raw() as c:
        c.send(b"*1\r\n$4\r\nPING\r\n")
        assert c.read_exact(7) == b"+PONG\r\n"
        assert no_more_data(c)


def test_ping_with_argument_is_bulk(srv: ServerHandle) -> None:
    with srv.raw() as c:
        assert c.command("PING", "hello") == b"$5\r\nhello\r\n"


def test_inline_ping(srv: ServerHandle) -> None:
    with srv.raw() as c:
        c.send(b"PING\r\n")
        assert c.read_exact(7) == b"+PONG\r\n"
        c.send(b"  PING   \n")  # extra blanks and a bare LF are accepted inline
        assert c.read_exact(7) == b"+PONG\r\n"
        assert no_more_data(c)


def test_inline_quoted_arguments(srv: ServerHandle) -> None:
    with srv.raw() as c:
        c.send(b'SET a "b c"\r\n')
        assert c.read_line() == b"+OK\r\n"
        assert c.command("GET", "a") == b"$3\r\nb c\r\n"
        c.send(b'SET x "\\x41\\n\\t"\r\n')  # escapes inside double quotes
        assert c.read_line() == b"+OK\r\n"
        assert c.command("GET", "x") == b"$3\r\nA\n\t\r\n"
        c.send(b"SET y 'it\\'s'\r\n")  # single quotes, escaped quote
        assert c.read_line() == b"+OK\r\n"
        assert c.command("GET", "y") == b"$4\r\nit's\r\n"
        c.send(b'SET "" empty\r\nGET ""\r\n')  # an empty quoted key
        assert c.read_line() == b"+OK\r\n"
        assert c.read_raw_reply() == b"$5\r\nempty\r\n"


def test_empty_requests_are_ignored(srv: ServerHandle) -> None:
    with srv.raw() as c:
        c.send(b"*0\r\n*-1\r\n\r\n\r\nPING\r\n")
        assert c.read_exact(7) == b"+PONG\r\n"
        assert no_more_data(c)


def test_pipeline_10000_sets_in_one_write(srv: ServerHandle) -> None:
    n = 10_000
    payload = b"".join(encode_command("SET", f"k{i}", f"v{i}") for i in range(n))
    with srv.raw(timeout=30) as c:
        c.send(payload)
        assert c.read_exact(5 * n) == b"+OK\r\n" * n
        assert no_more_data(c)
        assert c.command("DBSIZE") == b":10000\r\n"
        assert c.command("GET", "k9999") == b"$5\r\nv9999\r\n"


def test_pipeline_mixed_inline_and_multibulk(srv: ServerHandle) -> None:
    with srv.raw() as c:
        c.send(
            b"SET a 1\r\n"
            + encode_command("INCR", "a")
            + b"GET a\r\n"
            + encode_command("GET", "zz")
        )
        assert (
            c.read_exact(len(b"+OK\r\n:2\r\n$1\r\n2\r\n$-1\r\n"))
            == b"+OK\r\n:2\r\n$1\r\n2\r\n$-1\r\n"
        )


def test_command_split_across_writes(srv: ServerHandle) -> None:
    cmd = encode_command("SET", "split", "value-split")
    with srv.raw() as c:
        c.send(cmd[: len(cmd) // 2])
        time.sleep(0.3)
        assert no_more_data(c, 0.05), "server replied to half a command"
        c.send(cmd[len(cmd) // 2 :])
        assert c.read_exact(5) == b"+OK\r\n"
        assert no_more_data(c)
        assert c.command("GET", "split") == b"$11\r\nvalue-split\r\n"


def test_command_sent_byte_by_byte(srv: ServerHandle) -> None:
    cmd = encode_command("SET", "k", "v" * 20) + b"GET k\r\n"
    with srv.raw() as c:
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(cmd)):
            c.send(cmd[i : i + 1])
        assert c.read_line() == b"+OK\r\n"
        assert c.read_raw_reply() == b"$20\r\n" + b"v" * 20 + b"\r\n"


def test_big_argument_arriving_in_pieces_then_more_arguments(srv: ServerHandle) -> None:
    """A big payload (the server makes its room when the header comes) split across writes,
    arguments after it, and a pipelined command behind: all parsed as sent."""
    value = bytes(range(256)) * 1200  # 300 KB, every byte value
    cmd = encode_command("SET", "bigsplit", value, "EX", "100") + encode_command("GET", "bigsplit")
    head = cmd.index(value)
    cuts = [0, head - 2, head + 10, head + 150_000, len(cmd) - 20, len(cmd)]
    with srv.raw(timeout=20) as c:
        for lo, hi in zip(cuts, cuts[1:], strict=False):
            c.send(cmd[lo:hi])
            time.sleep(0.05)
        assert c.read_line() == b"+OK\r\n"
        assert c.read_raw_reply() == b"$%d\r\n%s\r\n" % (len(value), value)
        ttl = c.command("TTL", "bigsplit")
        assert ttl in (b":100\r\n", b":99\r\n")


def test_binary_safe_large_value(srv: ServerHandle) -> None:
    value = bytes(range(256)) * 4096  # 1 MiB, every byte value incl. CR LF NUL
    with srv.raw(timeout=20) as c:
        assert c.command("SET", b"bin\x00key\r\n", value) == b"+OK\r\n"
        assert c.command("GET", b"bin\x00key\r\n") == b"$%d\r\n%s\r\n" % (
            len(value),
            value,
        )


def test_resp3_null_and_resp2_null(srv: ServerHandle) -> None:
    with srv.raw() as c:
        assert c.command("GET", "missing") == b"$-1\r\n"
        hello = c.command("HELLO", "3")
        assert hello.startswith(b"%7\r\n$6\r\nserver\r\n")
        assert c.command("GET", "missing") == b"_\r\n"
        assert c.command("HELLO", "2").startswith(b"*14\r\n$6\r\nserver\r\n")
        assert c.command("GET", "missing") == b"$-1\r\n"


def test_quit_replies_ok_then_closes(srv: ServerHandle) -> None:
    out, closed = exchange(srv, encode_command("GET", "nokey") + b"QUIT\r\nPING\r\n")
    assert closed
    assert out == b"$-1\r\n+OK\r\n"


# --------------------------------------------------------------------------
# Errors that keep the connection open
# --------------------------------------------------------------------------

UNKNOWN_AND_ARITY_CASES = [
    (
        encode_command("foo", "a", "b"),
        b"-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n",
    ),
    (
        b"foo a b\r\n",
        b"-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n",
    ),
    (
        encode_command("FOO"),
        b"-ERR unknown command 'FOO', with args beginning with: \r\n",
    ),
    (encode_command(""), b"-ERR unknown command '', with args beginning with: \r\n"),
    (encode_command("GET"), b"-ERR wrong number of arguments for 'get' command\r\n"),
    (
        encode_command("get", "a", "b"),
        b"-ERR wrong number of arguments for 'get' command\r\n",
    ),
    (
        encode_command("PING", "a", "b"),
        b"-ERR wrong number of arguments for 'ping' command\r\n",
    ),
    (
        encode_command("CONFIG", "GET"),
        b"-ERR wrong number of arguments for 'config|get' command\r\n",
    ),
    (
        encode_command("CONFIG"),
        b"-ERR wrong number of arguments for 'config' command\r\n",
    ),
    (
        encode_command("CONFIG", "FOO"),
        b"-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n",
    ),
]


@pytest.mark.parametrize(("request_bytes", "expected"), UNKNOWN_AND_ARITY_CASES)
def test_command_errors_keep_connection(
    srv: ServerHandle, request_bytes: bytes, expected: bytes
) -> None:
    with srv.raw() as c:
        c.send(request_bytes)
        assert c.read_line() == expected
        assert c.command("PING") == b"+PONG\r\n"


LONG_UNKNOWN_CASES = [
    encode_command("foo", "x" * 200, "y"),
    encode_command("f" * 200, "a"),
    encode_command("foo", *["a" * 40] * 5),
]


@pytest.mark.parametrize("request_bytes", LONG_UNKNOWN_CASES)
def test_unknown_command_truncation_matches_oracle(
    srv: ServerHandle, redis_oracle: ServerHandle, request_bytes: bytes
) -> None:
    """Names and arguments are cut at 128 characters, exactly as Redis does."""
    expected, _ = exchange(redis_oracle, request_bytes, wait=0.3)
    got, _ = exchange(srv, request_bytes, wait=0.3)
    assert expected.startswith(b"-ERR unknown command")
    assert got == expected


@pytest.mark.parametrize(("request_bytes", "expected"), UNKNOWN_AND_ARITY_CASES)
def test_command_error_texts_oracle_agrees(
    redis_oracle: ServerHandle, request_bytes: bytes, expected: bytes
) -> None:
    out, closed = exchange(redis_oracle, request_bytes, wait=0.3)
    assert not closed
    assert out == expected


# --------------------------------------------------------------------------
# Protocol errors: reply, then close; the server keeps serving others
# --------------------------------------------------------------------------

PROTO_ERROR_CASES = [
    (b"*abc\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*1\r\n+foo\r\n", b"-ERR Protocol error: expected '$', got '+'\r\n"),
    (b"*2\r\n$4\r\nPING\r\n:1\r\n", b"-ERR Protocol error: expected '$', got ':'\r\n"),
    (b"*1\r\n$-5\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*1\r\n$abc\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    # proto-max-bulk-len is 512 MiB: one byte more is rejected up front.
    (b"*1\r\n$536870913\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b'SET a "b c\r\n', b"-ERR Protocol error: unbalanced quotes in request\r\n"),
    (b'GET "a"b\r\n', b"-ERR Protocol error: unbalanced quotes in request\r\n"),
    (b"a" * 70_000, b"-ERR Protocol error: too big inline request\r\n"),
    (b"*" + b"1" * 70_000, b"-ERR Protocol error: too big mbulk count string\r\n"),
    # Replies to complete commands before the bad one are still sent.
    (
        b"PING\r\n*1\r\n+x\r\n",
        b"+PONG\r\n-ERR Protocol error: expected '$', got '+'\r\n",
    ),
]


@pytest.mark.parametrize(("request_bytes", "expected"), PROTO_ERROR_CASES)
def test_protocol_error_closes_connection(
    srv: ServerHandle, request_bytes: bytes, expected: bytes
) -> None:
    with srv.raw() as bystander:
        assert bystander.command("SET", "k", "v") == b"+OK\r\n"
        out, closed = exchange(srv, request_bytes)
        assert out == expected
        assert closed, "connection must be closed after a protocol error"
        assert bystander.command("GET", "k") == b"$1\r\nv\r\n"
    assert srv.alive()


@pytest.mark.parametrize(("request_bytes", "expected"), PROTO_ERROR_CASES)
def test_protocol_error_texts_oracle_agrees(
    redis_oracle: ServerHandle, request_bytes: bytes, expected: bytes
) -> None:
    out, closed = exchange(redis_oracle, request_bytes)
    assert (out, closed) == (expected, True)


def test_max_bulk_len_itself_is_accepted_as_a_header(srv: ServerHandle) -> None:
    """Exactly proto-max-bulk-len (512 MiB) is a valid header: no error, still open."""
    with srv.raw() as c:
        c.send(b"*2\r\n$4\r\nECHO\r\n$536870912\r\n")
        assert no_more_data(c, 0.3)


def test_huge_declared_bulk_is_not_allocated(srv: ServerHandle) -> None:
    """Declaring 400 MB without sending it must not make the server allocate it."""
    before = srv.rss_kb()
    conns = [srv.raw() for _ in range(3)]
    try:
        for c in conns:
            c.send(b"*3\r\n$3\r\nSET\r\n$4\r\nhuge\r\n$400000000\r\n" + b"x" * 1000)
        time.sleep(0.5)
        with srv.raw() as other:
            assert other.command("PING") == b"+PONG\r\n"
            assert other.command("SET", "small", "1") == b"+OK\r\n"
        grown_mb = (srv.rss_kb() - before) / 1024
        assert grown_mb < 50, f"server RSS grew by {grown_mb:.0f} MB"
    finally:
        for c in conns:
            c.close()
    with srv.raw() as other:
        assert other.command("EXISTS", "huge") == b":0\r\n"


def test_client_disconnect_mid_command_does_not_affect_server(
    srv: ServerHandle,
) -> None:
    c = srv.raw()
    c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nabc")
    c.close()
    assert wait_until(lambda: srv.alive(), 0.2)
    r = srv.client()
    try:
        assert r.ping() is True
        assert r.exists("k") == 0
    finally:
        r.close()


def test_many_concurrent_connections(srv: ServerHandle) -> None:
    conns = [srv.raw() for _ in range(50)]
    try:
        for i, c in enumerate(conns):
            c.send(encode_command("SET", f"c{i}", str(i)))
        for c in conns:
            assert c.read_line() == b"+OK\r\n"
        for i, c in enumerate(conns):
            assert c.command("GET", f"c{i}") == b"$%d\r\n%d\r\n" % (len(str(i)), i)
    finally:
        for c in conns:
            c.close()


def test_redis_py_sees_unknown_command_error(srv: ServerHandle) -> None:
    """A sanity check of the error class the ecosystem sees for an unknown command."""
    r = srv.client()
    try:
        with pytest.raises(redis.ResponseError, match="unknown command 'NOPE'"):
            r.execute_command("NOPE")
    finally:
        r.close()
