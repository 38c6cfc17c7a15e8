"""Pub/Sub over the network (redis-py RESP2 and RESP3, raw sockets) and embedded
(`Store.publish`, `Store.pubsub()`), and both at once: messages cross between them.

Also the slow subscriber: one that never reads is disconnected once over
`client-output-buffer-limit pubsub`, while the publisher's PUBLISH latency stays flat.
"""

from __future__ import annotations

import socket
import statistics
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from helpers import ServerHandle, encode_command, free_port, wait_until

ERR_CONTEXT = (
    b"-ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET"
    b" are allowed in this context\r\n"
)


def next_message(p: Any, timeout: float = 5.0) -> dict[str, Any]:
    """The next message of a redis-py or fastkv PubSub, failing after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = p.get_message(timeout=0.2)
        if m is not None:
            result: dict[str, Any] = m
            return result
    raise AssertionError("no message")


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def protocol(request: pytest.FixtureRequest) -> int:
    proto: int = request.param
    return proto


@pytest.fixture
def clients(server: ServerHandle, protocol: int) -> Iterator[list[Any]]:
    # Any: redis-py's pubsub() and execute_command() are untyped.
    made: list[Any] = [
        redis.Redis(host=server.host, port=server.port, protocol=protocol) for _ in range(3)
    ]
    made[0].flushall()
    yield made
    for c in made:
        c.close()


def test_several_subscribers(clients: list[Any]) -> None:
    pub, a, b = clients
    pa, pb = a.pubsub(), b.pubsub()
    pa.subscribe("news", "sport")
    pb.subscribe("news")
    pb.psubscribe("n*")
    assert [next_message(pa)["data"] for _ in range(2)] == [1, 2]
    assert [next_message(pb)["type"] for _ in range(2)] == ["subscribe", "psubscribe"]
    # news: pa, pb by channel, pb by pattern.
    assert pub.publish("news", "hello") == 3
    assert pub.publish("sport", b"\x00bin\xff") == 1
    assert pub.publish("nothing", "x") == 1
    assert pub.publish("other", "x") == 0
    assert next_message(pa) == {
        "type": "message",
        "pattern": None,
        "channel": b"news",
        "data": b"hello",
    }
    assert next_message(pa)["data"] == b"\x00bin\xff"
    got = [next_message(pb) for _ in range(3)]
    assert got[0] == {"type": "message", "pattern": None, "channel": b"news", "data": b"hello"}
    assert got[1] == {"type": "pmessage", "pattern": b"n*", "channel": b"news", "data": b"hello"}
    assert got[2]["channel"] == b"nothing"
    pa.close()
    pb.close()
    assert wait_until(lambda: pub.publish("news", "x") == 0, 5)


def test_pattern_matching(clients: list[Any]) -> None:
    pub, sub, _ = clients
    p = sub.pubsub()
    patterns = ["h?llo", "h*llo", "h[ae]llo", "h[^e]llo", "h[a-b]llo", r"h\*llo"]
    p.psubscribe(*patterns)
    for _ in patterns:
        next_message(p)
    expected = {
        "hello": 3,  # h?llo h*llo h[ae]llo
        "hallo": 5,  # all but h\*llo
        "hllo": 1,  # h*llo
        "heeeello": 1,  # h*llo
        "h*llo": 4,  # h?llo h*llo h[^e]llo h\*llo
        "xhello": 0,
    }
    for channel, n in expected.items():
        assert pub.publish(channel, "m") == n, channel
    assert pub.pubsub_numpat() == len(patterns)
    p.close()


def test_introspection(clients: list[Any]) -> None:
    pub, sub, sub2 = clients
    p, q = sub.pubsub(), sub2.pubsub()
    p.subscribe("a", "b")
    q.subscribe("a")
    q.psubscribe("x*", "y*")
    p.psubscribe("x*")
    p.ssubscribe("s1")
    for _ in range(4):
        next_message(p)
    for _ in range(3):
        next_message(q)
    assert sorted(pub.pubsub_channels()) == [b"a", b"b"]
    assert pub.pubsub_channels("b*") == [b"b"]
    assert pub.pubsub_numsub("a", "b", "c") == [(b"a", 2), (b"b", 1), (b"c", 0)]
    assert pub.pubsub_numpat() == 2
    assert pub.execute_command("PUBSUB", "SHARDCHANNELS") == [b"s1"]
    assert pub.execute_command("PUBSUB", "SHARDNUMSUB", "s1", "a") == [b"s1", 1, b"a", 0]
    assert pub.execute_command("SPUBLISH", "s1", "m") == 1
    assert pub.publish("s1", "m") == 0
    assert next_message(p) == {"type": "smessage", "pattern": None, "channel": b"s1", "data": b"m"}
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'CHANNELS'"):
        pub.execute_command("PUBSUB", "CHANNELS", "a", "b")
    p.close()
    q.close()
    assert wait_until(lambda: pub.pubsub_numpat() == 0, 5)
    assert wait_until(lambda: pub.pubsub_channels() == [], 5)


def test_resp2_subscriber_mode(server: ServerHandle) -> None:
    with server.raw() as c:
        assert c.command("SUBSCRIBE", "a") == b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
        assert c.command("GET", "x") == ERR_CONTEXT % b"get"
        assert c.command("CLIENT", "LIST") == ERR_CONTEXT % b"client|list"
        assert c.command("PUBLISH", "a", "b") == ERR_CONTEXT % b"publish"
        assert c.command("GET") == b"-ERR wrong number of arguments for 'get' command\r\n"
        assert c.command("PING") == b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
        assert c.command("PING", "hi") == b"*2\r\n$4\r\npong\r\n$2\r\nhi\r\n"
        c.send(encode_command("UNSUBSCRIBE"))
        assert c.read_raw_reply() == b"*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n"
        assert c.command("GET", "x") == b"$-1\r\n"
        # RESET leaves every subscription without confirmations.
        c.command("SSUBSCRIBE", "s")
        assert c.command("RESET") == b"+RESET\r\n"
        assert c.command("GET", "x") == b"$-1\r\n"
        assert c.command("PUBSUB", "SHARDNUMSUB", "s") == b"*2\r\n$1\r\ns\r\n:0\r\n"


def test_resp3_push_while_idle_and_commands_interleave(server: ServerHandle) -> None:
    pub = server.client(protocol=2)
    try:
        with server.raw() as c:
            c.command("HELLO", "3")
            assert c.command("SUBSCRIBE", "ch") == b">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
            assert c.command("GET", "nokey") == b"_\r\n"
            assert c.command("PING") == b"+PONG\r\n"
            # A message to a client that sends nothing arrives promptly.
            assert pub.publish("ch", "hi") == 1
            assert c.read_raw_reply() == b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"
            # Publishing to itself: the push comes before the PUBLISH reply, as in Redis.
            c.send(encode_command("PUBLISH", "ch", "me"))
            assert c.read_raw_reply() == b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nme\r\n"
            assert c.read_raw_reply() == b":1\r\n"
    finally:
        pub.close()


def test_client_list_counts(server: ServerHandle) -> None:
    admin = server.client(protocol=2)
    try:
        with server.raw() as c:
            c.command("CLIENT", "SETNAME", "subber")
            c.command("SUBSCRIBE", "a", "b")
            c.read_raw_reply()
            c.command("PSUBSCRIBE", "p*")
            c.command("SSUBSCRIBE", "s")
            line = next(x for x in admin.client_list() if x["name"] == "subber")
            assert (line["sub"], line["psub"], line["ssub"]) == ("2", "1", "1")
            assert "P" in line["flags"]
            assert [x["name"] for x in admin.client_list(_type="pubsub")] == ["subber"]
    finally:
        admin.close()


def test_output_buffer_limit_config(server_factory: Any) -> None:
    h = server_factory()
    c = h.client(protocol=2)
    try:
        assert c.config_get("client-output-buffer-limit") == {
            "client-output-buffer-limit": "normal 0 0 0 slave 268435456 67108864 60 "
            "pubsub 33554432 8388608 60"
        }
        c.config_set(
            "client-output-buffer-limit", "normal 1mb 2mb 3 replica 4mb 5mb 6 pubsub 7 8 9"
        )
        assert c.config_get("client-output-buffer-limit")["client-output-buffer-limit"] == (
            "normal 1048576 2097152 3 slave 4194304 5242880 6 pubsub 7 8 9"
        )
        with pytest.raises(redis.ResponseError):
            c.config_set("client-output-buffer-limit", "bogus 1 2 3")
    finally:
        c.close()


def test_slow_subscriber_dropped_publisher_unaffected(server_factory: Any) -> None:
    h = server_factory()
    pub = h.client(protocol=2)
    try:
        pub.config_set("client-output-buffer-limit", "pubsub 1mb 256kb 60")
        # A subscriber that never reads, with a tiny receive buffer.
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect((h.host, h.port))
        s.sendall(encode_command("SUBSCRIBE", "slow"))
        assert wait_until(lambda: pub.pubsub_numsub("slow") == [(b"slow", 1)], 5)
        payload = b"x" * 100_000
        latencies: list[float] = []
        dropped_at = None
        for i in range(400):
            t = time.perf_counter()
            n = pub.publish("slow", payload)
            latencies.append(time.perf_counter() - t)
            if n == 0 and dropped_at is None:
                dropped_at = i
        assert dropped_at is not None, "the slow subscriber was never dropped"
        # Dropped after a bounded amount of output (1mb limit + socket buffers).
        assert dropped_at < 200
        assert pub.pubsub_numsub("slow") == [(b"slow", 0)]
        # The connection is closed once what was in flight is read.
        s.settimeout(5)
        got = 0
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            got += len(chunk)
        s.close()
        assert got < 20_000_000
        # A sanity bound, not a benchmark: the publisher never waited for the subscriber.
        before = statistics.median(latencies[:dropped_at])
        after = statistics.median(latencies[dropped_at:])
        assert max(latencies) < 1.0, max(latencies)
        assert before < 0.05 and before < after * 20 + 0.01, (before, after)
        assert pub.ping()
    finally:
        pub.close()


def test_subscriber_not_closed_by_timeout(server_factory: Any) -> None:
    h = server_factory()
    c = h.client(protocol=2)
    try:
        c.config_set("timeout", "1")
        with h.raw() as sub:
            sub.command("SUBSCRIBE", "a")
            time.sleep(2.5)
            assert c.publish("a", "still here") == 1
            assert (
                sub.read_raw_reply() == b"*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$10\r\nstill here\r\n"
            )
    finally:
        c.close()


# --------------------------------------------------------------------------
# Embedded
# --------------------------------------------------------------------------


def test_embedded_pubsub_api(store: Any) -> None:
    assert store.publish("a", "x") == 0
    p = store.pubsub()
    assert not p.subscribed
    assert p.get_message() is None
    p.subscribe("a", "b")
    p.psubscribe("a*")
    assert p.subscribed
    confirmations = [p.get_message() for _ in range(3)]
    assert confirmations == [
        {"type": "subscribe", "pattern": None, "channel": b"a", "data": 1},
        {"type": "subscribe", "pattern": None, "channel": b"b", "data": 2},
        {"type": "psubscribe", "pattern": None, "channel": b"a*", "data": 3},
    ]
    assert store.publish("a", 42) == 2
    assert p.get_message() == {"type": "message", "pattern": None, "channel": b"a", "data": b"42"}
    assert p.get_message() == {
        "type": "pmessage",
        "pattern": b"a*",
        "channel": b"a",
        "data": b"42",
    }
    # A blocking wait, woken by another thread's publish.
    threading.Timer(0.2, lambda: store.publish("b", "late")).start()
    t = time.monotonic()
    assert p.get_message(timeout=None)["data"] == b"late"
    assert time.monotonic() - t < 3
    t = time.monotonic()
    assert p.get_message(timeout=0.2) is None
    assert time.monotonic() - t >= 0.15
    p.unsubscribe()
    p.punsubscribe()
    rest = list(p.listen())
    assert [(m["type"], m["data"]) for m in rest] == [
        ("unsubscribe", 2),
        ("unsubscribe", 1),
        ("punsubscribe", 0),
    ]
    assert store.execute_command("PUBSUB", "NUMPAT") == 0
    p.close()
    p.close()


def test_embedded_pubsub_decode_and_ignore(fastkv_module: Any) -> None:
    store = fastkv_module.Store(decode_responses=True)
    with store.pubsub(ignore_subscribe_messages=True) as p:
        p.subscribe("é")
        p.ssubscribe("s")
        assert store.publish("é", "ü") == 1
        assert store.spublish("s", "m") == 1
        assert p.get_message(timeout=1) == {
            "type": "message",
            "pattern": None,
            "channel": "é",
            "data": "ü",
        }
        assert p.get_message(timeout=1) == {
            "type": "smessage",
            "pattern": None,
            "channel": "s",
            "data": "m",
        }
    assert store.publish("é", "x") == 0
    q = store.pubsub()
    q.subscribe("c")
    assert q.get_message(ignore_subscribe_messages=True, timeout=0) is None
    store.publish("c", "1")
    assert q.get_message(timeout=1)["data"] == "1"


def test_embedded_listen_iterates(store: Any) -> None:
    p = store.pubsub(ignore_subscribe_messages=True)
    p.subscribe("jobs")

    def producer() -> None:
        for i in range(3):
            store.publish("jobs", i)
        store.publish("jobs", "stop")

    threading.Thread(target=producer).start()
    seen = []
    for m in p:
        if m["data"] == b"stop":
            p.unsubscribe()
            continue
        seen.append(m["data"])
    assert seen == [b"0", b"1", b"2"]


@pytest.mark.fastkv_only
def test_embedded_and_network_both_ways(fastkv_module: Any, protocol: int) -> None:
    store = fastkv_module.Store()
    handle = store.serve("127.0.0.1", free_port())
    net: Any = redis.Redis(host="127.0.0.1", port=handle.port, protocol=protocol)
    try:
        # Network subscriber, embedded publisher.
        np = net.pubsub()
        np.subscribe("to-net")
        next_message(np)
        assert store.publish("to-net", "from-embedded") == 1
        assert next_message(np)["data"] == b"from-embedded"
        # Embedded subscriber, network publisher.
        ep = store.pubsub()
        ep.psubscribe("to-emb*")
        ep.get_message(timeout=1)
        assert net.publish("to-embedded", "from-net") == 1
        assert ep.get_message(timeout=5) == {
            "type": "pmessage",
            "pattern": b"to-emb*",
            "channel": b"to-embedded",
            "data": b"from-net",
        }
        # Both kinds are visible to PUBSUB and CLIENT LIST.
        assert net.pubsub_numpat() == 1
        assert net.pubsub_numsub("to-net") == [(b"to-net", 1)]
        ep.close()
        np.close()
        assert wait_until(lambda: net.pubsub_numpat() == 0, 5)
    finally:
        net.close()
        handle.close()


@pytest.mark.fastkv_only
def test_embedded_slow_subscriber_dropped(fastkv_module: Any) -> None:
    store = fastkv_module.Store()
    store.config_set("client-output-buffer-limit", "pubsub 100kb 0 0")
    p = store.pubsub()
    p.subscribe("c")
    for _ in range(100):
        store.publish("c", b"x" * 10_000)
    with pytest.raises(ConnectionError):
        while True:
            p.get_message()
    p.close()
    assert store.publish("c", "x") == 0
