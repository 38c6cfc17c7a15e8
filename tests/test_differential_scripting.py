"""Differential tests for Lua scripting: EVAL/EVALSHA/EVAL_RO replies (Lua -> RESP2/RESP3
conversions, RESP -> Lua with redis.setresp(2|3)), pcall error tables, error texts
(runtime errors, redis.call errors, sandbox, read-only scripts, shebang flags) and SCRIPT
replies must match a real redis-server exactly, in RESP3 and RESP2.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from helpers import ServerHandle, TypedDifferential

SETUP: list[list[Any]] = [
    ["SET", "s", "abc"],
    ["SET", "n", "10"],
    ["RPUSH", "l", "a", "b", "c"],
    ["HSET", "h", "f", "v"],
    ["SADD", "set", "x"],
    ["ZADD", "z", "1.5", "m"],
]

# Lua -> reply.
RETURNS = [
    "return 1",
    "return 3.99",
    "return -3.7",
    "return 'str'",
    "return true",
    "return false",
    "return nil",
    "return {1,2,3,'ciao',{1,2}}",
    "return {1,2,nil,4}",
    "return {}",
    "return {ok='fine'}",
    "return {err='bad thing'}",
    "return {err='x\\r\\ny'}",
    "return {1,'a',{err='e'}}",
    "return redis.error_reply('My Error')",
    "return redis.error_reply('oops')",
    "return redis.error_reply('-X')",
    "return redis.status_reply('A')",
    "return {double=3.5}",
    "return {double='x'}",
    "return {1,{double=2.5}}",
    "return {map={a=1}}",
    "return {set={a=1}}",
    "return {big_number='123'}",
    "return {verbatim_string={format='txt',string='hi'}}",
    "redis.setresp(3) return true",
    "redis.setresp(3) return false",
    "redis.setresp(3) return nil",
    "return redis.sha1hex('')",
    "return redis.sha1hex('abc')",
    "return redis.REDIS_VERSION",
    "return redis.REDIS_VERSION_NUM",
    "return tostring(redis.replicate_commands())",
    "return {redis.LOG_DEBUG,redis.LOG_VERBOSE,redis.LOG_NOTICE,redis.LOG_WARNING}",
    "return {redis.REPL_NONE,redis.REPL_AOF,redis.REPL_SLAVE,redis.REPL_REPLICA,redis.REPL_ALL}",
    "return KEYS[1] .. ARGV[1]",
    "return #KEYS + #ARGV",
]

# Reply -> Lua (RESP2 and RESP3 views), re-encoded on the way out.
CALLS = [
    "return redis.call('get','s')",
    "return redis.call('get','nokey')",
    "return type(redis.call('get','nokey'))",
    "return redis.call('ping')",
    "return redis.call('set','k','v')",
    "return redis.call('incr','n')",
    "return redis.call('lrange','l',0,-1)",
    "return redis.call('hgetall','h')",
    "return redis.call('hgetall','nohash')",
    "return redis.call('smembers','set')",
    "return redis.call('zscore','z','m')",
    "return redis.call('zrange','z',0,-1,'withscores')",
    "return redis.call('set','k',3.5) and redis.call('get','k')",
    "redis.call('set','k',1e20) return redis.call('get','k')",
    "return redis.call('get', 'l')",
    "return redis.pcall('get', 'l')",
    "return redis.pcall('incr','s')",
    "local t = redis.pcall('incr','s') return t['err']",
    "local t = redis.pcall('get') return t['err']",
    "local t = redis.pcall('nosuch') return t.err",
    "return redis.pcall('get')",
    "redis.setresp(3) return redis.call('hgetall','h')",
    "redis.setresp(3) local t = redis.call('hgetall','h') return t['map']['f']",
    "redis.setresp(3) return redis.call('smembers','set')",
    "redis.setresp(3) local t = redis.call('smembers','set') return tostring(t['set']['x'])",
    "redis.setresp(3) return redis.call('zscore','z','m')",
    "redis.setresp(3) local t = redis.call('zscore','z','m') return t['double']",
    "redis.setresp(3) return type(redis.call('get','nokey'))",
    "redis.setresp(3) return redis.call('get','nokey')",
    "redis.setresp(3) return redis.call('zrange','z',0,-1,'withscores')",
    "local t = redis.call('ping') return t['ok']",
]

ERRORS = [
    "return x",
    "x = 1",
    "return type(os)",
    "return type(io)",
    "return type(loadfile)",
    "return type(dofile)",
    "return type(require)",
    "return type(print)",
    "return _G.x",
    "rawset(_G,'x',1) return 1",
    "error('boom')",
    "error({err='tbl'})",
    "local function f() error('deep') end\nf()",
    "return redis.call('get')",
    "return redis.call('nosuch')",
    "return redis.call()",
    "return redis.call('set','k',{})",
    "return redis.call('eval','return 1','0')",
    "return redis.call('incr','s')",
    "return redis.call('lpush','s','a')",
    "\n\nreturn redis.call('lpush','s','a')",
    "return redis.setresp(4)",
    "return redis.setresp()",
    "return 1 +",
    "return nil + 1",
    "#!lua flags=no-writes\nreturn redis.call('set','a','b')",
    "#!lua flags=bad\nreturn 1",
    "#!lua name=x\nreturn 1",
    "#!luax\nreturn 1",
    "#!lua\nreturn x",
    "#!lua\nreturn 7",
    "redis.log(redis.LOG_WARNING, 'hello') return 1",
    "return redis.log(1)",
    "return redis.log(9, 'x')",
    "return redis.set_repl(redis.REPL_ALL)",
    "return redis.set_repl(9)",
    "return type(redis.breakpoint)..type(redis.debug)",
]


def eval_steps(scripts: list[str]) -> list[list[Any]]:
    return [["EVAL", s, "1", "kk", "av"] for s in scripts]


OTHER: list[list[Any]] = [
    ["EVAL", "return 1", "-1"],
    ["EVAL", "return 1", "2", "a"],
    ["EVAL", "return 1", "x"],
    ["EVAL", "return 1"],
    ["EVAL_RO", "return redis.call('set','a','b')", "0"],
    ["EVAL_RO", "return redis.call('get','s')", "0"],
    ["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"],
    ["EVALSHA", "short", "0"],
    ["SCRIPT", "LOAD", "return 'loaded'"],
    ["SCRIPT", "LOAD", "return 1 +"],
    ["SCRIPT", "EXISTS", "b534286061d4b9e4026607613b95c06c06015ae8", "nope"],
    ["SCRIPT", "EXISTS"],
    ["EVALSHA", "b534286061d4b9e4026607613b95c06c06015ae8", "0"],
    ["EVAL", "return 'cached'", "0"],
    ["SCRIPT", "EXISTS", "952f49ffc8f7b098d8ab5da45d3164ca36ed18b1"],
    ["SCRIPT", "FLUSH", "foo"],
    ["SCRIPT", "FLUSH", "SYNC"],
    ["SCRIPT", "FLUSH"],
    ["SCRIPT", "KILL"],
    ["SCRIPT", "HELP"],
    ["SCRIPT", "NOSUCH"],
    ["GET", "k"],
]


@pytest.fixture(scope="module", params=[3, 2], ids=["resp3", "resp2"])
def diff(
    request: pytest.FixtureRequest, redis_oracle: ServerHandle, server: ServerHandle
) -> Iterator[TypedDifferential]:
    d = TypedDifferential(redis_oracle, server, request.param)
    yield d
    d.close()


def test_lua_to_resp(diff: TypedDifferential) -> None:
    diff.run(SETUP + eval_steps(RETURNS))


def test_resp_to_lua(diff: TypedDifferential) -> None:
    diff.run(SETUP + eval_steps(CALLS))


def test_error_texts(diff: TypedDifferential) -> None:
    diff.run(SETUP + eval_steps(ERRORS))


def test_script_commands(diff: TypedDifferential) -> None:
    diff.run(SETUP + OTHER)


LIB = (
    "#!lua name=mylib\n"
    "redis.register_function('myfunc', function(keys, args) return args[1] end)\n"
    "redis.register_function{function_name='ro', callback=function(keys, args) "
    "return redis.call('get', keys[1]) end, flags={'no-writes'}, description='desc'}"
)
ONE = "#!lua name=one\nredis.register_function('only', function(keys, args) return #keys end)"


def lib(body: str, name: str = "t") -> list[Any]:
    return ["FUNCTION", "LOAD", f"#!lua name={name}\n{body}"]


FUNCTIONS: list[list[Any]] = [
    ["FUNCTION", "FLUSH"],
    ["FUNCTION", "LOAD", LIB],
    ["FUNCTION", "LOAD", LIB],
    ["FUNCTION", "LOAD", "REPLACE", LIB],
    ["FCALL", "myfunc", "0", "hello"],
    ["FCALL", "ro", "1", "s"],
    ["FCALL_RO", "ro", "1", "s"],
    ["FCALL_RO", "myfunc", "0", "a"],
    ["FCALL", "nofunc", "0"],
    ["FCALL", "myfunc", "-1"],
    ["FUNCTION", "DELETE", "nolib"],
    ["FUNCTION", "DELETE", "mylib"],
    ["FUNCTION", "LOAD", ONE],
    ["FUNCTION", "LIST"],
    ["FUNCTION", "LIST", "WITHCODE"],
    ["FUNCTION", "LIST", "LIBRARYNAME", "o*"],
    ["FUNCTION", "LIST", "LIBRARYNAME", "x*"],
    ["FUNCTION", "LIST", "LIBRARYNAME"],
    ["FUNCTION", "LIST", "bad"],
    ["FUNCTION", "STATS"],
    ["FCALL", "only", "2", "a", "b"],
    ["FUNCTION", "LOAD", "return 1"],
    ["FUNCTION", "LOAD", "#!lua"],
    ["FUNCTION", "LOAD", "#!lua name=a-b"],
    ["FUNCTION", "LOAD", "#!lua name=x foo=bar"],
    lib("return x"),
    lib("redis.call('ping')"),
    lib("local x = 1"),
    lib("redis.register_function()"),
    lib("redis.register_function('a')"),
    lib("redis.register_function('a', 1)"),
    lib("redis.register_function{function_name='a'}"),
    lib("redis.register_function{callback=function() end}"),
    lib("redis.register_function{function_name='a', callback=function() end, flags={'bad'}}"),
    lib("redis.register_function{function_name='a', callback=function() end, foo=1}"),
    lib("redis.register_function('a-b', function() end)"),
    lib(
        "redis.register_function('a', function() end)\nredis.register_function('a', function() end)"
    ),
    lib("redis.register_function('only', function() end)", "other"),
    lib("redis.register_function('f', function() return y end)", "e"),
    ["FCALL", "f", "0"],
    lib("redis.register_function('w', function(k) return redis.call('set', k[1], 'v') end)", "w"),
    ["FCALL", "w", "1", "fk"],
    ["FCALL_RO", "w", "1", "fk"],
    ["GET", "fk"],
    ["FUNCTION", "RESTORE", "abc"],
    ["FUNCTION", "RESTORE", "abc", "bad"],
    ["FUNCTION", "FLUSH", "x"],
    ["FUNCTION", "KILL"],
    ["FUNCTION", "HELP"],
    ["FUNCTION", "FLUSH", "SYNC"],
    ["FUNCTION", "LIST"],
]


def test_functions(diff: TypedDifferential) -> None:
    diff.run(SETUP + FUNCTIONS)
