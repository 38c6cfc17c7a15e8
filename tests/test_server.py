"""Server and connection commands: PING ECHO HELLO SELECT CLIENT CONFIG INFO
COMMAND TIME DBSIZE DEBUG SHUTDOWN RESET QUIT, and the maxclients / timeout limits.

Commands without connection state run through `any_client` (incl. embedded);
connection-level ones through `socket_client` or raw sockets.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from conftest import ServerFactory
from helpers import (
    Client,
    RawConn,
    Redis,
    ServerHandle,
    as_map,
    ci_mode,
    encode_command,
    oracle_command,
    raw_redis,
    start_server,
    stop_server,
    wait_until,
)
from redis.backoff import NoBackoff
from redis.retry import Retry

OK = b"OK"
SYNTAX = "ERR syntax error"


def arity(cmd: str) -> str:
    return f"ERR wrong number of arguments for '{cmd}' command"


def parse_info(text: bytes) -> dict[str, dict[str, str]]:
    """INFO text -> {section: {field: value}}; also checks the line format."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in text.decode().split("\r\n"):
        if not line:
            continue
        if line.startswith("# "):
            current = sections.setdefault(line[2:], {})
            continue
        assert current is not None, f"field before any section: {line!r}"
        key, sep, value = line.partition(":")
        assert sep, f"malformed INFO line {line!r}"
        current[key] = value
    return sections


def client_fields(line: bytes) -> dict[str, str]:
    """One CLIENT LIST / CLIENT INFO line -> {field: value}."""
    return dict(f.split("=", 1) for f in line.decode().strip().split(" "))


@pytest.fixture
def raw(server: ServerHandle) -> Iterator[RawConn]:
    c = server.client(protocol=2)
    c.flushall()
    c.close()
    conn = server.raw()
    yield conn
    conn.close()


# --------------------------------------------------------------------------
# PING ECHO TIME DBSIZE
# --------------------------------------------------------------------------


def test_ping_echo(any_client: Client) -> None:
    c = any_client
    assert c("PING") == b"PONG"
    assert c("PING", "hi") == b"hi"
    assert c("ECHO", b"\x00bin\r\n") == b"\x00bin\r\n"
    assert c("ECHO", "") == b""
    assert c.error("PING", "a", "b") == arity("ping")
    assert c.error("ECHO") == arity("echo")
    assert c.error("ECHO", "a", "b") == arity("echo")


def test_time(any_client: Client) -> None:
    before = time.time()
    secs, micros = any_client("TIME")
    after = time.time()
    assert isinstance(secs, bytes) and isinstance(micros, bytes)
    t = int(secs) + int(micros) / 1e6
    assert 0 <= int(micros) < 1_000_000
    assert before - 1 <= t <= after + 1
    assert any_client.error("TIME", "x") == arity("time")


def test_dbsize(any_client: Client) -> None:
    c = any_client
    assert c("DBSIZE") == 0
    c("MSET", "a", 1, "b", 2)
    assert c("DBSIZE") == 2
    c("SELECT", 1)
    assert c("DBSIZE") == 0


# --------------------------------------------------------------------------
# INFO
# --------------------------------------------------------------------------

DEFAULT_SECTIONS = [
    "Server", "Clients", "Memory", "Persistence", "Stats", "Replication",
    "CPU", "Modules", "Errorstats", "Cluster", "Keyspace",
]  # fmt: skip


def test_info_sections(socket_client: Client, server: ServerHandle) -> None:
    c = socket_client
    c("SET", "k", "v")
    c("SET", "t", "v", "EX", 100)
    info = parse_info(c("INFO"))
    assert list(info) == DEFAULT_SECTIONS
    srv = info["Server"]
    assert srv["redis_version"].startswith("7.0.")
    assert srv["redis_mode"] == "standalone"
    assert int(srv["tcp_port"]) == server.port
    assert int(srv["process_id"]) == server.proc.pid
    assert int(srv["uptime_in_seconds"]) >= 0
    assert int(srv["hz"]) > 0
    assert int(info["Clients"]["connected_clients"]) >= 1
    assert int(info["Clients"]["maxclients"]) > 0
    assert int(info["Memory"]["used_memory"]) > 0
    assert int(info["Stats"]["total_commands_processed"]) > 0
    assert int(info["Stats"]["total_connections_received"]) >= 1
    assert info["Replication"]["role"] == "master"
    assert float(info["CPU"]["used_cpu_user"]) >= 0
    assert re.fullmatch(r"keys=2,expires=1,avg_ttl=\d+", info["Keyspace"]["db0"])


def test_info_single_and_multiple_sections(socket_client: Client) -> None:
    c = socket_client
    assert list(parse_info(c("INFO", "server"))) == ["Server"]
    assert list(parse_info(c("INFO", "SERVER", "clients"))) == ["Server", "Clients"]
    assert c("INFO", "nosuchsection") == b""
    everything = parse_info(c("INFO", "everything"))
    assert set(DEFAULT_SECTIONS) <= set(everything)
    assert "Commandstats" in everything
    assert set(parse_info(c("INFO", "all"))) >= set(DEFAULT_SECTIONS) - {"Keyspace"}


def test_info_keyspace_lists_nonempty_dbs(socket_client: Client) -> None:
    c = socket_client
    assert parse_info(c("INFO", "keyspace")) == {"Keyspace": {}}
    c("SET", "a", "1")
    c("SELECT", 3)
    c("MSET", "a", "1", "b", "2")
    ks = parse_info(c("INFO", "keyspace"))["Keyspace"]
    assert ks == {
        "db0": "keys=1,expires=0,avg_ttl=0",
        "db3": "keys=2,expires=0,avg_ttl=0",
    }


def test_info_stats_count_hits_and_misses(socket_client: Client) -> None:
    c = socket_client
    assert c("CONFIG", "RESETSTAT") == OK
    stats = parse_info(c("INFO", "stats"))["Stats"]
    assert stats["keyspace_hits"] == "0" and stats["keyspace_misses"] == "0"
    c("SET", "k", "v")
    c("GET", "k")
    c("GET", "k")
    c("GET", "missing")
    stats = parse_info(c("INFO", "stats"))["Stats"]
    assert (stats["keyspace_hits"], stats["keyspace_misses"]) == ("2", "1")
    assert int(stats["total_commands_processed"]) >= 5


# --------------------------------------------------------------------------
# COMMAND
# --------------------------------------------------------------------------


def test_command_count_and_info(any_client: Client) -> None:
    c = any_client
    count = c("COMMAND", "COUNT")
    assert isinstance(count, int) and count > 20
    assert len(c("COMMAND")) == count
    get = c("COMMAND", "INFO", "get")
    assert len(get) == 1
    name, arity_, flags, first, last, step, categories = get[0][:7]
    assert (name, arity_, first, last, step) == (b"get", 2, 1, 1, 1)
    assert set(flags) == {b"readonly", b"fast"}
    assert set(categories) == {b"@read", b"@string", b"@fast"}
    mset = c("COMMAND", "INFO", "MSET")[0]
    assert mset[:2] == [b"mset", -3] and mset[3:6] == [1, -1, 2]
    assert b"write" in mset[2] and b"denyoom" in mset[2]
    assert c("COMMAND", "INFO", "nosuchcommand") == [None]
    several = c("COMMAND", "INFO", "set", "nope", "del")
    assert [x[0] if x is not None else None for x in several] == [b"set", None, b"del"]


def test_command_getkeys(any_client: Client) -> None:
    c = any_client
    assert c("COMMAND", "GETKEYS", "set", "a", "b") == [b"a"]
    assert c("COMMAND", "GETKEYS", "MSET", "a", "1", "c", "2") == [b"a", b"c"]
    assert c("COMMAND", "GETKEYS", "copy", "a", "b") == [b"a", b"b"]
    assert c.error("COMMAND", "GETKEYS", "ping", "x") == "ERR The command has no key arguments"
    assert c.error("COMMAND", "GETKEYS", "nope", "x") == "ERR Invalid command specified"
    assert (
        c.error("COMMAND", "GETKEYS", "get", "a", "b")
        == "ERR Invalid number of arguments specified for command"
    )
    assert c.error("COMMAND", "GETKEYS", "get") == arity("command|getkeys")


def test_command_list_and_docs(any_client: Client) -> None:
    c = any_client
    names = set(c("COMMAND", "LIST"))
    assert {b"get", b"set", b"object|encoding", b"config|get", b"client|id"} <= names
    assert sorted(c("COMMAND", "LIST", "FILTERBY", "PATTERN", "mset*")) == [
        b"mset",
        b"msetnx",
    ]
    keyspace = set(c("COMMAND", "LIST", "FILTERBY", "ACLCAT", "keyspace"))
    assert {
        b"del",
        b"expire",
        b"rename",
        b"scan",
    } <= keyspace and b"get" not in keyspace
    assert c("COMMAND", "LIST", "FILTERBY", "MODULE", "nosuchmodule") == []
    assert c.error("COMMAND", "LIST", "FILTERBY", "FOO", "x") == SYNTAX
    docs = as_map(c("COMMAND", "DOCS", "get"))
    get_doc = as_map(docs[b"get"])
    assert get_doc[b"group"] == b"string"
    assert get_doc[b"since"] == b"1.0.0"
    assert get_doc[b"summary"]
    assert c.error("COMMAND", "FOO") == "ERR unknown subcommand 'FOO'. Try COMMAND HELP."


# --------------------------------------------------------------------------
# CONFIG
# --------------------------------------------------------------------------


def test_config_get(socket_client: Client, server: ServerHandle) -> None:
    c = socket_client
    conf = as_map(c("CONFIG", "GET", "maxmemory*"))
    assert {b"maxmemory", b"maxmemory-policy", b"maxmemory-samples"} <= set(conf)
    assert all(k.startswith(b"maxmemory") for k in conf)
    assert conf[b"maxmemory"] == b"0" and conf[b"maxmemory-policy"] == b"noeviction"
    assert as_map(c("CONFIG", "GET", "port", "bind")) == {
        b"port": str(server.port).encode(),
        b"bind": b"127.0.0.1",
    }
    assert as_map(c("CONFIG", "GET", "save")) == {b"save": b""}
    assert as_map(c("CONFIG", "GET", "appendonly")) == {b"appendonly": b"no"}
    assert as_map(c("CONFIG", "GET", "databases")) == {b"databases": b"16"}
    assert as_map(c("CONFIG", "GET", "nosuchparam")) == {}
    assert set(as_map(c("CONFIG", "GET", "*max-*-entries*"))) >= {b"hash-max-listpack-entries"}
    assert c.error("CONFIG", "GET") == arity("config|get")


def test_config_set(socket_client: Client) -> None:
    c = socket_client
    old = as_map(c("CONFIG", "GET", "hz"))[b"hz"]
    try:
        assert c("CONFIG", "SET", "hz", "5") == OK
        assert as_map(c("CONFIG", "GET", "hz")) == {b"hz": b"5"}
        assert (
            c("CONFIG", "SET", "hz", "7", "maxmemory-samples", "6") == OK
        )  # several at once (7.0)
        assert as_map(c("CONFIG", "GET", "hz", "maxmemory-samples")) == {
            b"hz": b"7",
            b"maxmemory-samples": b"6",
        }
    finally:
        c("CONFIG", "SET", "hz", old, "maxmemory-samples", "5")
    assert (
        c.error("CONFIG", "SET", "nosuchparam", "1")
        == "ERR Unknown option or number of arguments for CONFIG SET - 'nosuchparam'"
    )
    assert c.error("CONFIG", "SET", "maxclients", "abc") == (
        "ERR CONFIG SET failed (possibly related to argument 'maxclients') - "
        "argument couldn't be parsed into an integer"
    )
    assert c.error("CONFIG", "SET", "hz", "10", "hz", "11") == (
        "ERR CONFIG SET failed (possibly related to argument 'hz') - duplicate parameter"
    )
    assert c.error("CONFIG", "SET", "maxmemory-policy", "foo") == (
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - "
        "argument(s) must be one of the following: volatile-lru, volatile-lfu, "
        "volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, "
        "noeviction"
    )
    assert c.error("CONFIG", "SET", "timeout", "-1") == (
        "ERR CONFIG SET failed (possibly related to argument 'timeout') - "
        "argument must be between 0 and 2147483647 inclusive"
    )
    assert c.error("CONFIG", "SET", "hz") == arity("config|set")
    assert c.error("CONFIG", "FOO") == "ERR unknown subcommand 'FOO'. Try CONFIG HELP."


def test_config_resetstat(socket_client: Client) -> None:
    c = socket_client
    c("GET", "missing")
    assert c("CONFIG", "RESETSTAT") == OK
    stats = parse_info(c("INFO", "stats"))["Stats"]
    assert stats["keyspace_misses"] == "0"
    assert int(stats["total_commands_processed"]) <= 2


# --------------------------------------------------------------------------
# DEBUG
# --------------------------------------------------------------------------


def test_debug(socket_client: Client) -> None:
    c = socket_client
    assert c("DEBUG", "SLEEP", 0) == OK
    t0 = time.monotonic()
    assert c("DEBUG", "SLEEP", "0.2") == OK
    assert time.monotonic() - t0 >= 0.19
    c("SET", "k", "hello")
    obj = c("DEBUG", "OBJECT", "k")
    assert re.fullmatch(
        rb"Value at:0x[0-9a-f]+ refcount:1 encoding:embstr serializedlength:6 "
        rb"lru:\d+ lru_seconds_idle:\d+",
        obj,
    ), obj
    c("SET", "n", "12345")
    assert b" encoding:int " in c("DEBUG", "OBJECT", "n")
    assert c.error("DEBUG", "OBJECT", "missing") == "ERR no such key"
    assert c("DEBUG", "SET-ACTIVE-EXPIRE", 0) == OK
    assert c("DEBUG", "SET-ACTIVE-EXPIRE", 1) == OK
    assert c.error("DEBUG", "NOSUCH") == (
        "ERR unknown subcommand or wrong number of arguments for 'NOSUCH'. Try DEBUG HELP."
    )
    assert c.error("DEBUG") == arity("debug")


# --------------------------------------------------------------------------
# HELLO RESET QUIT SELECT
# --------------------------------------------------------------------------


def test_hello_2_and_3(server: ServerHandle) -> None:
    for proto in (2, 3):
        r = raw_redis(server.host, server.port, proto)
        try:
            reply = r.execute_command("HELLO", proto)
            fields = as_map(reply)
            assert isinstance(reply, dict) == (proto == 3)
            assert list(fields) == [
                b"server",
                b"version",
                b"proto",
                b"id",
                b"mode",
                b"role",
                b"modules",
            ]
            assert fields[b"proto"] == proto
            assert fields[b"id"] == r.execute_command("CLIENT", "ID")
            assert isinstance(fields[b"server"], bytes) and fields[b"server"]
            info = parse_info(r.execute_command("INFO", "server"))["Server"]
            assert fields[b"version"] == info["redis_version"].encode()
            assert fields[b"mode"] == b"standalone"
            assert fields[b"role"] == b"master"
            assert fields[b"modules"] == []
        finally:
            r.close()


def test_hello_errors_and_setname(raw: RawConn) -> None:
    assert raw.command("HELLO", "4") == b"-NOPROTO unsupported protocol version\r\n"
    assert raw.command("HELLO", "1") == b"-NOPROTO unsupported protocol version\r\n"
    assert (
        raw.command("HELLO", "x") == b"-ERR Protocol version is not an integer or out of range\r\n"
    )
    assert raw.command("HELLO", "3", "FOO") == b"-ERR Syntax error in HELLO option 'FOO'\r\n"
    assert raw.command("GET", "missing") == b"$-1\r\n"  # still RESP2 after failed HELLOs
    assert raw.command("HELLO", "3", "SETNAME", "named").startswith(b"%7\r\n")
    assert raw.command("CLIENT", "GETNAME") == b"$5\r\nnamed\r\n"
    assert raw.command("HELLO").startswith(b"%7\r\n")  # no version: current protocol
    assert raw.command("GET", "missing") == b"_\r\n"


def test_reset(raw: RawConn) -> None:
    raw.send(
        encode_command("HELLO", "3")
        + encode_command("CLIENT", "SETNAME", "n")
        + encode_command("SELECT", "2")
        + encode_command("SET", "k", "in-db2")
    )
    raw.read_raw_reply()
    assert [raw.read_raw_reply() for _ in range(3)] == [b"+OK\r\n"] * 3
    assert raw.command("RESET") == b"+RESET\r\n"
    info = client_fields(raw.command("CLIENT", "INFO").split(b"\r\n")[1])
    assert (info["name"], info["db"], info["resp"]) == ("", "0", "2")
    assert raw.command("GET", "k") == b"$-1\r\n"


def test_quit(raw: RawConn) -> None:
    raw.send(b"QUIT\r\n")
    assert raw.read_until_closed(3) == b"+OK\r\n"


def test_select_is_per_connection(server: ServerHandle, r: Redis) -> None:
    a = raw_redis(server.host, server.port, 3)
    try:
        a.execute_command("SELECT", 9)
        a.execute_command("SET", "k", "nine")
        assert r.get("k") is None
        assert a.execute_command("GET", "k") == b"nine"
    finally:
        a.close()


# --------------------------------------------------------------------------
# CLIENT
# --------------------------------------------------------------------------


def test_client_id_name_info(socket_client: Client) -> None:
    c = socket_client
    cid = c("CLIENT", "ID")
    assert isinstance(cid, int) and cid > 0
    assert c("CLIENT", "GETNAME") is None
    assert c("CLIENT", "SETNAME", "worker-1") == OK
    assert c("CLIENT", "GETNAME") == b"worker-1"
    info = client_fields(c("CLIENT", "INFO"))
    assert info["id"] == str(cid)
    assert info["name"] == "worker-1"
    assert info["db"] == "0"
    assert info["resp"] == str(c.resp)
    assert info["cmd"] == "client|info"
    assert re.fullmatch(r"127\.0\.0\.1:\d+", info["addr"])
    assert c("CLIENT", "SETNAME", "") == OK
    assert c("CLIENT", "GETNAME") is None
    bad = "ERR Client names cannot contain spaces, newlines or special characters."
    assert c.error("CLIENT", "SETNAME", "a b") == bad
    assert c.error("CLIENT", "SETNAME", "a\nb") == bad
    assert c.error("CLIENT", "FOO") == "ERR unknown subcommand 'FOO'. Try CLIENT HELP."


def test_client_ids_increase(server: ServerHandle) -> None:
    ids = []
    for _ in range(3):
        r = raw_redis(server.host, server.port, 2)
        ids.append(r.execute_command("CLIENT", "ID"))
        r.close()
    assert ids == sorted(ids) and len(set(ids)) == 3


def test_client_list(server: ServerHandle, socket_client: Client) -> None:
    c = socket_client
    c("CLIENT", "SETNAME", "lister")
    other = raw_redis(server.host, server.port, 2)
    try:
        other.execute_command("CLIENT", "SETNAME", "other")
        other_id = other.execute_command("CLIENT", "ID")
        lines = c("CLIENT", "LIST").decode().strip().split("\n")
        clients = [client_fields(line.encode()) for line in lines]
        names = {f["name"] for f in clients}
        assert {"lister", "other"} <= names
        for f in clients:
            assert {
                "id",
                "addr",
                "laddr",
                "fd",
                "name",
                "age",
                "idle",
                "flags",
                "db",
                "cmd",
                "resp",
            } <= set(f)
        only = c("CLIENT", "LIST", "ID", other_id).decode().strip().split("\n")
        assert len(only) == 1 and client_fields(only[0].encode())["name"] == "other"
        assert c("CLIENT", "LIST", "ID", 999_999_999) == b""
        assert b"name=lister" in c("CLIENT", "LIST", "TYPE", "normal")
        assert c.error("CLIENT", "LIST", "TYPE", "foo") == "ERR Unknown client type 'foo'"
    finally:
        other.close()


def test_client_kill_by_id_closes_connection(server: ServerHandle, socket_client: Client) -> None:
    c = socket_client
    with server.raw() as victim:
        vid = int(victim.command("CLIENT", "ID")[1:-2])
        assert c("CLIENT", "KILL", "ID", vid) == 1
        assert victim.is_closed(3.0)
    assert c("CLIENT", "KILL", "ID", vid) == 0
    assert c("CLIENT", "KILL", "ID", 999_999_999) == 0
    assert c.error("CLIENT", "KILL", "ID", "abc") == "ERR client-id should be greater than 0"
    own = c("CLIENT", "ID")
    assert c("CLIENT", "KILL", "ID", own) == 0  # SKIPME yes is the default
    assert c("PING") == b"PONG"


def test_client_kill_by_addr(server: ServerHandle, socket_client: Client) -> None:
    c = socket_client
    with server.raw() as victim:
        addr = client_fields(victim.command("CLIENT", "INFO").split(b"\r\n")[1])["addr"]
        assert c("CLIENT", "KILL", "ADDR", addr) == 1
        assert victim.is_closed(3.0)
    assert c("CLIENT", "KILL", "ADDR", addr) == 0
    with server.raw() as victim2:
        addr2 = client_fields(victim2.command("CLIENT", "INFO").split(b"\r\n")[1])["addr"]
        assert c("CLIENT", "KILL", addr2) == OK  # the old form
        assert victim2.is_closed(3.0)
    assert c.error("CLIENT", "KILL", "127.0.0.1:1") == "ERR No such client"
    assert c.error("CLIENT", "KILL", "FOO", "x") == SYNTAX
    assert c.error("CLIENT", "KILL", "ADDR", addr, "SKIPME", "maybe") == SYNTAX


def test_client_kill_self_with_skipme_no(raw: RawConn) -> None:
    cid = int(raw.command("CLIENT", "ID")[1:-2])
    raw.send(encode_command("CLIENT", "KILL", "ID", cid, "SKIPME", "no"))
    assert raw.read_until_closed(3) == b":1\r\n"


def test_client_no_evict(socket_client: Client) -> None:
    c = socket_client
    assert c("CLIENT", "NO-EVICT", "on") == OK
    assert c("CLIENT", "NO-EVICT", "off") == OK
    assert c.error("CLIENT", "NO-EVICT", "maybe") == SYNTAX


def test_client_reply_off_on_skip(raw: RawConn) -> None:
    raw.send(
        encode_command("CLIENT", "REPLY", "OFF")
        + encode_command("PING")
        + encode_command("SET", "k", "v")
        + encode_command("CLIENT", "REPLY", "ON")
        + encode_command("PING")
        + encode_command("CLIENT", "REPLY", "SKIP")
        + encode_command("ECHO", "skipped")
        + encode_command("ECHO", "shown")
    )
    expected = b"+OK\r\n+PONG\r\n$5\r\nshown\r\n"
    assert raw.read_exact(len(expected)) == expected
    assert raw.command("GET", "k") == b"$1\r\nv\r\n"  # commands ran while replies were off
    assert raw.command("CLIENT", "REPLY", "FOO") == b"-ERR syntax error\r\n"


@pytest.mark.fastkv_only
def test_client_setinfo(socket_client: Client) -> None:
    """Redis 7.0.15 does not have CLIENT SETINFO (7.2 added it); redis-py 8 sends it
    on connect. fastkv implements the 7.2 behaviour."""
    c = socket_client
    assert c("CLIENT", "SETINFO", "LIB-NAME", "mylib") == OK
    assert c("CLIENT", "SETINFO", "lib-ver", "1.2.3") == OK
    info = client_fields(c("CLIENT", "INFO"))
    assert (info["lib-name"], info["lib-ver"]) == ("mylib", "1.2.3")
    assert c.error("CLIENT", "SETINFO", "LIB-NAME", "x y").startswith("ERR ")
    assert c.error("CLIENT", "SETINFO", "NOSUCH", "x").startswith("ERR ")


def test_client_setinfo_redis_70(socket_client: Client, is_real_redis: bool) -> None:
    """Documents the oracle: in Redis 7.0.15 SETINFO is an unknown subcommand."""
    if not is_real_redis:
        pytest.skip("documents real Redis 7.0 only")
    assert (
        socket_client.error("CLIENT", "SETINFO", "LIB-NAME", "x")
        == "ERR unknown subcommand 'SETINFO'. Try CLIENT HELP."
    )


# --------------------------------------------------------------------------
# Limits: maxclients, timeout
# --------------------------------------------------------------------------


def _rejected_by_maxclients(handle: ServerHandle) -> bool:
    """Connect and PING: True if refused with Redis's text (then closed), False
    if served."""
    with handle.raw(timeout=3) as extra:
        extra.send(encode_command("PING"))
        first = extra.read_line()
        if first == b"+PONG\r\n":
            return False
        assert first == b"-ERR max number of clients reached\r\n"
        assert extra.is_closed(3.0)
        return True


def test_maxclients_flag(server_factory: ServerFactory) -> None:
    srv = server_factory(["--maxclients", "2"])
    a, b = srv.raw(), srv.raw()
    try:
        assert a.command("PING") == b"+PONG\r\n"
        assert b.command("PING") == b"+PONG\r\n"
        assert _rejected_by_maxclients(srv)
        b.close()
        # Once a slot frees up, a new client gets in.
        assert wait_until(lambda: not _rejected_by_maxclients(srv), timeout=3.0, interval=0.05)
    finally:
        a.close()
        b.close()


def test_maxclients_config_set(server_factory: ServerFactory) -> None:
    srv = server_factory()
    with srv.raw() as a, srv.raw() as b:
        assert a.command("CONFIG", "SET", "maxclients", "2") == b"+OK\r\n"
        assert b.command("PING") == b"+PONG\r\n"
        assert _rejected_by_maxclients(srv)
        with pytest.raises(redis.exceptions.ConnectionError, match="max number of clients reached"):
            srv.client(protocol=2, retry=Retry(NoBackoff(), 0)).ping()
        assert a.command("CONFIG", "GET", "maxclients") == b"*2\r\n$10\r\nmaxclients\r\n$1\r\n2\r\n"


def test_idle_timeout_closes_client(server_factory: ServerFactory) -> None:
    srv = server_factory(["--timeout", "1"])
    with srv.raw() as idle, srv.raw() as busy:
        assert idle.command("PING") == b"+PONG\r\n"
        t0 = time.monotonic()
        closed = False
        while not closed and time.monotonic() - t0 < 5.0:
            assert busy.command("PING") == b"+PONG\r\n"  # an active client stays
            closed = idle.is_closed(0.25)
        assert closed, "idle client was not disconnected"
        assert time.monotonic() - t0 >= 0.9
        assert busy.command("PING") == b"+PONG\r\n"


def test_idle_timeout_set_at_runtime_reaches_idle_clients(server_factory: ServerFactory) -> None:
    """CONFIG SET timeout applies to a client already idle (it counts from its last command),
    and a lower value shortens a deadline already running."""
    srv = server_factory()
    with srv.raw() as idle, srv.raw() as admin:
        assert idle.command("PING") == b"+PONG\r\n"
        assert admin.command("CONFIG", "SET", "timeout", "100") == b"+OK\r\n"
        assert not idle.is_closed(0.3)
        t0 = time.monotonic()
        assert admin.command("CONFIG", "SET", "timeout", "1") == b"+OK\r\n"
        closed = False
        while not closed and time.monotonic() - t0 < 5.0:
            assert admin.command("PING") == b"+PONG\r\n"
            closed = idle.is_closed(0.25)
        assert closed, "idle client was not disconnected"


# --------------------------------------------------------------------------
# SHUTDOWN
# --------------------------------------------------------------------------


def _shutdown(handle: ServerHandle, *args: str) -> bytes:
    with handle.raw() as c:
        c.send(encode_command("SHUTDOWN", *args))
        return c.read_until_closed(5)


def test_shutdown_nosave(server_factory: ServerFactory) -> None:
    srv = server_factory()
    srv.client(protocol=2).set("k", "v")
    assert _shutdown(srv, "NOSAVE") == b""
    assert srv.proc.wait(5) == 0
    assert not (srv.cwd / "dump.rdb").exists()


def test_shutdown_save_writes_rdb(server_factory: ServerFactory) -> None:
    srv = server_factory()
    srv.client(protocol=2).set("k", "v")
    assert _shutdown(srv, "SAVE") == b""
    assert srv.proc.wait(5) == 0
    dump = srv.cwd / "dump.rdb"
    assert dump.exists() and dump.read_bytes().startswith(b"REDIS00")


def test_shutdown_syntax_error(server_factory: ServerFactory) -> None:
    srv = server_factory()
    with srv.raw() as c:
        assert c.command("SHUTDOWN", "FOO") == b"-ERR syntax error\r\n"
        assert c.command("PING") == b"+PONG\r\n"
    assert srv.alive()


def test_config_resetstat_clears_commandstats_as_redis_does(
    server_factory: ServerFactory, tmp_path: Path
) -> None:
    """After CONFIG RESETSTAT, INFO commandstats lists only the RESETSTAT itself (both servers:
    disposable ones, as the reset would disturb the shared servers' counters)."""
    cmd = oracle_command()
    if cmd is None:
        if ci_mode():
            pytest.fail("redis-server is not on PATH (CI is set, so this is a failure)")
        pytest.skip("redis-server is not on PATH: this test compares with the real Redis")
    oracle = start_server(cmd, tmp_path / "oracle")
    try:
        seen = []
        for handle in (oracle, server_factory()):
            c = handle.client(protocol=2)
            try:
                c.set("a", "1")
                c.get("a")
                assert c.info("commandstats")["cmdstat_get"]["calls"] == 1
                assert c.config_resetstat()
                stats = c.info("commandstats")
                seen.append(sorted(stats))
                assert stats["cmdstat_config|resetstat"]["calls"] == 1
            finally:
                c.close()
        assert seen[0] == seen[1] == ["cmdstat_config|resetstat"]
    finally:
        stop_server(oracle)
