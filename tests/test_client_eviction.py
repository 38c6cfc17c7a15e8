"""Client eviction (`maxmemory-clients`): when the memory held by every client's buffers
reaches the limit, the clients holding the most are closed until it is below again; CLIENT
NO-EVICT exempts a client; the limit may be a percentage of `maxmemory`; INFO counts the
evictions (`evicted_clients`).

Every test here passes against a real redis-server too (FASTKV_SERVER=redis-server). Sizes
keep wide margins, because the two servers count a client's buffers differently: Redis
reserves a big argument's announced length at once, fastkv grows its query buffer as bytes
come (by doubling, so up to twice what was received).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from conftest import ServerFactory
from helpers import Redis, ServerHandle, wait_until

# Sizes of the query buffers the tests build up (bytes of one unfinished SET argument).
BIG = 1_000_000
SMALL = 200_000
# Between BIG alone (plus a control client) and BIG + SMALL, on both servers.
LIMIT = 1_150_000


# Sockets the running test opened, closed after it whatever its outcome.
_OPEN: list[socket.socket] = []


@pytest.fixture(autouse=True)
def _close_sockets() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def connect(h: ServerHandle) -> socket.socket:
    s = socket.create_connection((h.host, h.port), timeout=5)
    _OPEN.append(s)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def command(s: socket.socket, *args: bytes) -> bytes:
    """Sends one command and returns the first bytes of its reply."""
    s.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
    return s.recv(1024)


def hold_query_buffer(h: ServerHandle, size: int, key: bytes = b"k") -> socket.socket:
    """A client that sends a SET whose value of `size` bytes lacks its last byte: the server
    holds about `size` bytes for it and runs nothing yet."""
    s = connect(h)
    s.sendall(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n" % (len(key), key, size))
    try:
        s.sendall(b"x" * (size - 1))
    except OSError:
        pass  # already evicted while sending
    return s


def is_closed(s: socket.socket, timeout: float) -> bool:
    """True once the server has closed this connection (EOF or reset) within `timeout`."""
    s.settimeout(timeout)
    try:
        return s.recv(1024) == b""
    except TimeoutError:
        return False
    except OSError:
        return True


def evicted_clients(r: Redis) -> int:
    return int(r.info("stats")["evicted_clients"])


@pytest.fixture
def limited(server_factory: ServerFactory) -> Iterator[tuple[ServerHandle, Redis]]:
    """A disposable server with `maxmemory-clients` at LIMIT, and a control client exempt from
    client eviction."""
    h = server_factory(["--maxmemory-clients", str(LIMIT)])
    r = h.client(protocol=2)
    r.client_no_evict("on")
    yield h, r
    r.close()


def test_maxmemory_clients_config_matches_redis(r: Redis, redis_oracle: ServerHandle) -> None:
    oracle = redis_oracle.client(protocol=2)
    values = (
        "10% 0% 100% 101% -5% % 10%% 1mb% 010% 1.5% 5k 1mb 1gb 0 100 abc -1 "
        "18446744073709551615 9223372036854775808 9223372036854775807"
    ).split() + [" 5%"]
    try:
        for v in values:
            replies: list[tuple[str, object]] = []
            for c in (oracle, r):
                try:
                    replies.append(("ok", c.config_set("maxmemory-clients", v)))
                except Exception as e:  # the error text is what is compared
                    replies.append(("err", str(e)))
                replies.append(("get", c.config_get("maxmemory-clients")))
            assert replies[:2] == replies[2:], v
    finally:
        r.config_set("maxmemory-clients", 0)
        oracle.config_set("maxmemory-clients", 0)
        oracle.close()


def test_client_with_big_query_buffer_is_evicted(limited: tuple[ServerHandle, Redis]) -> None:
    h, r = limited
    assert evicted_clients(r) == 0
    s = hold_query_buffer(h, 2 * BIG)
    assert is_closed(s, 5)
    s.close()
    assert evicted_clients(r) == 1
    # Its command never ran; the server and the exempt client go on.
    assert r.exists("k") == 0
    assert r.ping()
    assert int(r.info("memory")["mem_clients_normal"]) < LIMIT
    r.config_resetstat()
    assert evicted_clients(r) == 0


def test_no_evict_client_is_spared_and_its_command_runs(
    limited: tuple[ServerHandle, Redis],
) -> None:
    h, r = limited
    s = connect(h)
    assert command(s, b"CLIENT", b"NO-EVICT", b"on") == b"+OK\r\n"
    # Over the limit on its own, and never closed for it.
    s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n" % (2 * BIG) + b"y" * (2 * BIG))
    assert not is_closed(s, 0.3)
    assert evicted_clients(r) == 0
    s.settimeout(5)
    s.sendall(b"\r\n")
    assert s.recv(1024) == b"+OK\r\n"
    assert r.strlen("k") == 2 * BIG
    assert evicted_clients(r) == 0
    s.close()


def test_largest_client_goes_first_and_only_until_below(
    limited: tuple[ServerHandle, Redis],
) -> None:
    h, r = limited
    big = hold_query_buffer(h, BIG, b"big")
    assert not is_closed(big, 0.3)  # under the limit on its own
    small = hold_query_buffer(h, SMALL, b"small")
    assert is_closed(big, 5)
    assert not is_closed(small, 0.3)
    assert evicted_clients(r) == 1
    # The survivor finishes its command.
    small.settimeout(5)
    small.sendall(b"x\r\n")
    assert small.recv(1024) == b"+OK\r\n"
    assert r.strlen("small") == SMALL
    big.close()
    small.close()


def test_lowering_the_limit_at_run_time_evicts(server_factory: ServerFactory) -> None:
    h = server_factory()
    r = h.client(protocol=2)
    s = hold_query_buffer(h, BIG)
    assert not is_closed(s, 0.3)  # no limit yet
    r.config_set("maxmemory-clients", "512kb")
    assert is_closed(s, 5)
    assert evicted_clients(r) == 1
    assert r.ping()
    s.close()
    r.close()


def test_limit_as_a_percentage_of_maxmemory(server_factory: ServerFactory) -> None:
    # 5% of 20 MB is 1 MB: a client holding 2 MB goes.
    h = server_factory(["--maxmemory", "20mb", "--maxmemory-clients", "5%"])
    r = h.client(protocol=2)
    assert r.config_get("maxmemory-clients") == {"maxmemory-clients": "5%"}
    r.client_no_evict("on")
    s = hold_query_buffer(h, 2 * BIG)
    assert is_closed(s, 5)
    assert evicted_clients(r) == 1
    s.close()
    # Without maxmemory a percentage sets no limit.
    r.config_set("maxmemory", 0)
    s = hold_query_buffer(h, 2 * BIG)
    assert not is_closed(s, 0.3)
    s.close()
    r.close()


def test_client_that_does_not_read_its_replies_is_evicted(
    limited: tuple[ServerHandle, Redis],
) -> None:
    h, r = limited
    r.set("big", b"v" * BIG)
    s = connect(h)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    # 40 MB of replies asked for, none read: more than the socket buffers take.
    s.sendall(b"*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n" * 40)
    assert wait_until(lambda: evicted_clients(r) == 1, 10)
    assert r.ping()
    s.close()
