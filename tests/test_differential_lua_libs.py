"""Differential tests for the Lua libraries scripts use (`cjson`, `cmsgpack`, `struct`,
`bit`): each snippet runs with EVAL on a real redis-server and on the server under test,
over RESP2 and RESP3, and the raw reply bytes must be identical — values, types, error
texts (with their `user_script:1:` positions and `script: <sha1>` suffix) included.

Snippets that change a library setting (cjson's encode_max_depth, ...) restore it before
returning, because Redis keeps those settings in the Lua state across scripts.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers import RawConn, ServerHandle

BIT = [
    "return {bit.tobit(0xffffffff), bit.tobit(2^32+5), bit.tobit(-1), bit.tobit(1.5),"
    " bit.tobit(2.5), bit.tobit(-2.5), bit.tobit('10'), bit.tobit(2^60+3), bit.tobit(1e300)}",
    "return {bit.band(7,3,1), bit.bor(1,2,4), bit.bxor(1,3), bit.bnot(0), bit.lshift(1,31),"
    " bit.lshift(1,32), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.rol(0x80000001, 1),"
    " bit.ror(1, 1), bit.bswap(0x12345678), bit.lshift(1,-1)}",
    "return {bit.tohex(255), bit.tohex(-1,-4), bit.tohex(255, 2), bit.tohex(1,0),"
    " bit.tohex(1,20), bit.tohex(0x12345678, -2147483648), bit.tohex(0xabcdef, -20)}",
    "return {bit.tobit('0x10'), bit.tobit(' 5 '), bit.tobit(4294967295.5), bit.tobit(-0.5)}",
    "return bit.tobit()",
    "return bit.tobit('x')",
    "return bit.band(1, 'x', {})",
    "return bit.tohex(1, nil)",
    "return bit:tobit()",
    "local f = bit.band return f('a')",
    "return select(2, pcall(bit.band, 'a'))",
    "local t = {} for k in pairs(bit) do t[#t+1] = k end table.sort(t) return t",
]

CJSON = [
    "return cjson.encode({1,2,3})",
    "return cjson.encode({})",
    "return cjson.encode({1,2,nil,4})",
    "return cjson.encode({a=1})",
    "return cjson.encode({a=1,b=2,c=3,d=4,e=5,f=6,g=7,hello=8,world=9})",
    "return cjson.encode('a/b\"\\\\\\1\\127\\128\\t\\n\\r\\b\\f')",
    "return {cjson.encode(0.1), cjson.encode(1/3), cjson.encode(1e300), cjson.encode(-0),"
    " cjson.encode(2^53), cjson.encode(100000000000005), cjson.encode(1e-5)}",
    "return cjson.encode({[1e10]=1})",
    "return cjson.encode({[1.5]=1, [0]=2})",
    "return cjson.encode({1,2,[5]=3})",
    "return cjson.encode({[3]=1})",
    "return cjson.encode({[1]=1,[2]=2,[20]=3})",
    "return cjson.encode(1/0)",
    "return cjson.encode({[true]=1})",
    "return cjson.encode(redis.call)",
    "return cjson.encode()",
    "return cjson.encode({['a']=cjson.null, b=false})",
    "return cjson.encode(cjson.decode('{\"x\":[]}'))",
    "local t = {} t[1] = t return cjson.encode(t)",
    "return cjson.decode('[1,2,3.5]')",
    'return cjson.decode(\'{"a":{"b":[1,{"c":"x"}]}}\').a.b[2].c',
    "return cjson.decode('\"\\\\u00e9\\\\ud83d\\\\ude00\"')",
    "return {cjson.decode('01'), cjson.decode('+1'), cjson.decode('0x10'), cjson.decode(1)}",
    "return tostring(cjson.decode('nan'))",
    "return type(cjson.decode('null'))",
    "return cjson.decode('')",
    "return cjson.decode('[1,2')",
    "return cjson.decode('{\"a\":1,}')",
    "return cjson.decode('[1] x')",
    "return cjson.decode('\"\\\\ud83d\"')",
    "return cjson.decode('\"\\\\q\"')",
    "return cjson.decode('\"abc')",
    "return cjson.decode({})",
    "return cjson.decode('tru')",
    "return cjson.decode('{1:2}')",
    "return cjson.decode('{\"a\" 1}')",
    "return cjson.decode(string.rep('[', 1001)..string.rep(']', 1001))",
    "return select(2, pcall(cjson.decode, 'x'))",
    "return {cjson.encode_max_depth(), cjson.decode_max_depth(), cjson.encode_number_precision(),"
    " cjson.encode_keep_buffer(), cjson.decode_invalid_numbers()}",
    "return {cjson.encode_sparse_array()}",
    "local r = {cjson.encode_number_precision(3), cjson.encode(1/3)}"
    " cjson.encode_number_precision(14) return r",
    "local r = {cjson.encode_invalid_numbers('null'), cjson.encode({1/0})}"
    " cjson.encode_invalid_numbers(false) return r",
    "local r = cjson.encode({[11]=1, [12]=cjson.encode_sparse_array(true)})"
    " cjson.encode_sparse_array(false) return r",
    "return cjson.encode_max_depth(0)",
    "return cjson.encode_sparse_array('x')",
    "return cjson.encode_max_depth(1, 2)",
    "local c = cjson.new() c.encode_max_depth(3)"
    " return {c.encode_max_depth(), cjson.encode_max_depth()}",
    "return {cjson._NAME, cjson._VERSION, type(cjson.null)}",
    "return type(cjson.decode_array_with_array_mt)",
]

CMSGPACK = [
    "return cmsgpack.pack(1,2,-1,-32,-33,127,128,255,256,65535,65536,2^32-1,2^32,-128,-129,"
    "-32768,-32769,-2^31,-2^31-1,2^53,-2^63,2^63,2^64)",
    "return cmsgpack.pack(0.5, 0.1, 1/0, -1/0, -0, 1e300, 3.4e38, 1.5)",
    "return cmsgpack.pack(nil, true, false, '', 'abc', string.rep('x',31), string.rep('x',32))",
    "return cmsgpack.pack(string.rep('x',256)):sub(1,4)",
    "return cmsgpack.pack({}, {1,2}, {a=1}, {1,nil,3}, {[2]=1}, {[1.5]=1}, {[0]=1})",
    "local t = {} t[1] = t return cmsgpack.pack(t)",
    "return cmsgpack.pack(redis.call, cjson.null)",
    "return cmsgpack.pack()",
    "return {cmsgpack.unpack(cmsgpack.pack(1,'a',{1,2},{a=5}))}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(10,20,30))}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(10,20,30), 2)}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(10,20,30), 3)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(10,20,30), 2, 1)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(10,20,30), 0)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(10,20,30), -1)}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(10,20,30), 4)}",
    "return {cmsgpack.unpack('\\193')}",
    "return {cmsgpack.unpack('\\146\\1')}",
    "return {cmsgpack.unpack('\\196\\3abc')}",
    "return {cmsgpack.unpack('\\129\\192\\1')}",
    "return {cmsgpack.unpack({})}",
    "return {cmsgpack.unpack('\\217\\3abc\\218\\0\\1x\\219\\0\\0\\0\\1y')}",
    "return {cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255\\203\\63\\185\\153"
    "\\153\\153\\153\\153\\154')}",
    "local t = cmsgpack.unpack('\\147\\1\\192\\3') return {#t, t[3]}",
    "return select(2, pcall(cmsgpack.unpack, string.rep('\\145', 4000)..'\\1'))",
    "local t = {} for k, v in pairs(cmsgpack) do t[#t+1] = k end table.sort(t) return t",
]

STRUCT = [
    "return struct.pack('>i2<hBbsxc3', 1, 2, 255, -1, 'ab', 'xyz')",
    "return {struct.pack('!4bi', 1, 2), struct.pack('b!i', 1, 2), struct.pack('bd', 1, 2.5)}",
    "return {struct.pack('<f', 1.1), struct.pack('>I3', 70000), struct.pack('i16', -2)}",
    "return {struct.pack('b', 300), struct.pack('B', -1), struct.pack('L', 2^64),"
    " struct.pack('l', -2^63)}",
    "return struct.pack('i33', 1)",
    "return struct.pack('!3', 1)",
    "return struct.pack('z', 1)",
    "return struct.pack('c5', 'abc')",
    "return struct.pack('i')",
    "return struct.pack('i99999999999', 1)",
    "return {struct.unpack('>i2<hBbsxc3', struct.pack('>i2<hBbsxc3', 1, 2, 255, -1, 'ab', 'xyz'))}",
    "return {struct.unpack('b', 'ab', 2)}",
    "return {struct.unpack('bc0', '\\3abcd')}",
    "return {struct.unpack('i16', string.rep('\\255', 16))}",
    "return {struct.unpack('<f>d', struct.pack('<f>d', 1.5, 0.1))}",
    "return struct.unpack('b', '')",
    "return struct.unpack('b', 'a', 0)",
    "return struct.unpack('c0', 'abcd')",
    "return struct.unpack('s', 'abc')",
    "return {struct.size('!4bi'), struct.size('bz'), struct.size('c'), struct.size('b!8d')}",
    "return struct.size('s')",
]

# Edge cases: number syntax, escapes, settings, C casts, offsets, malformed input.
EDGE = [
    'return {cjson.decode("1e5"), cjson.decode("-0"), cjson.decode("1.5e-3"), '
    'cjson.decode("1E+2"), cjson.decode("0.0")}',
    'return cjson.decode("-")',
    'return cjson.decode("[-]")',
    'return tostring(cjson.decode("Infinity"))',
    'return tostring(cjson.decode("-Infinity"))',
    'return tostring(cjson.decode("NaN"))',
    'return tostring(cjson.decode("-nan"))',
    'return tostring(cjson.decode("inf"))',
    'return cjson.decode("infx")',
    'return cjson.decode("nul")',
    'return cjson.decode("+")',
    'return cjson.decode("0x")',
    'return cjson.decode("0x1p4")',
    'return cjson.decode("1.")',
    'return cjson.decode("-.5")',
    'return cjson.decode(".5")',
    'return cjson.decode("[1,]")',
    'return cjson.decode("[,1]")',
    'return cjson.decode("{,}")',
    'return cjson.decode("{\\"a\\":}")',
    'return cjson.decode("{\\"a\\"")',
    'return cjson.decode("{\\"a\\":1")',
    'return cjson.decode("{\\"a\\":1 \\"b\\":2}")',
    'return #cjson.decode("\\"\\\\u0000\\"")',
    'return cjson.decode("\\"\\\\u00\\"")',
    'return cjson.decode("\\"\\\\u00zz\\"")',
    'return cjson.decode("\\"\\\\udc00\\"")',
    'return cjson.decode("\\"\\\\ud800\\\\u0041\\"")',
    'return cjson.decode("\\"\\\\/\\\\b\\\\f\\\\n\\\\r\\\\t\\"")',
    'return cjson.decode("\\"\\195\\169\\255\\"")',
    'return cjson.decode("\\"a\\"\\0garbage")',
    'return cjson.decode("\\0")',
    'return cjson.decode("1\\0")',
    'return cjson.decode("a\\0")',
    'return cjson.decode(" \\f1")',
    'return cjson.decode("1 \\f")',
    'return cjson.decode("\\t\\r\\n 5 \\t")',
    'return cjson.decode("[true,false,null]")',
    'return cjson.decode("{\\"a\\":null}").a == cjson.null',
    'return cjson.decode("[[],{}]")',
    'return cjson.decode("{\\"a\\":1, \\"a\\":2}").a',
    'return cjson.decode("")',
    'return cjson.decode(" ")',
    'return {cjson.decode_invalid_numbers(false), pcall(cjson.decode, "0x10"), '
    'pcall(cjson.decode, "+1"), pcall(cjson.decode, "inf"), pcall(cjson.decode, "01"), '
    'pcall(cjson.decode, "-inf"), cjson.decode_invalid_numbers(true)}',
    'return {select(2, pcall(cjson.decode, "01")), cjson.decode_invalid_numbers(false), '
    'select(2, pcall(cjson.decode, "01")), select(2, pcall(cjson.decode, "[1,0x5]")), '
    'select(2, pcall(cjson.decode, "NaN")), cjson.decode_invalid_numbers("on")}',
    "return cjson.encode({1e21, 123.456, -1e-300, 5e-324, 2^63, -2^63, 1e15, 1e16, "
    "12345678901234567890})",
    'return cjson.encode({["a\\"b"]=1})',
    "return cjson.encode({[-5]=1})",
    "return cjson.encode({[2^31]=1, [1]=2})",
    "return cjson.encode({[2^40]=1})",
    "return cjson.encode({nil, nil, 3})",
    "return cjson.encode({[1]=1, [3]=3})",
    "return cjson.encode({[1]=1, [4]=3})",
    "return cjson.encode({1,2,3,4,5,6,7,8,9,10,[30]=1})",
    "return cjson.encode({[100]=1})",
    'return cjson.encode({true, false, "x", {a={}}})',
    "return cjson.encode(setmetatable({}, {__index = function() return 1 end}))",
    'return cjson.encode("\\0")',
    'return cjson.encode("\\226\\130\\172")',
    "return cjson.encode({[{}]=1})",
    "return cjson.encode({f=print})",
    "return cjson.encode({1, print})",
    "return cjson.encode(cjson.null)",
    "return cjson.encode(nil)",
    "return cjson.encode(true)",
    "return cjson.encode(-1/0)",
    "return {cjson.encode_invalid_numbers(true), cjson.encode(0/0), cjson.encode(-0/0), "
    "cjson.encode({[1/0]=1}), cjson.encode_invalid_numbers(false)}",
    "return {cjson.encode_number_precision(1), cjson.encode(2.5), cjson.encode(15), "
    "cjson.encode({[1.25]=1}), cjson.encode_number_precision(14)}",
    "return {cjson.encode_max_depth(2), pcall(cjson.encode, {{1}}), pcall(cjson.encode, "
    "{{{1}}}), cjson.encode_max_depth(1000)}",
    'return {cjson.decode_max_depth(2), pcall(cjson.decode, "[[1]]"), select(2, '
    'pcall(cjson.decode, "[[[1]]]")), cjson.decode_max_depth(1000)}',
    "return {cjson.encode_sparse_array(false, 0), cjson.encode({[1000]=1}), "
    "cjson.encode_sparse_array(false, 2, 10)}",
    "return {cjson.encode_sparse_array(true, 1, 0), cjson.encode({1, [3]=3}), "
    "cjson.encode_sparse_array(false, 2, 10)}",
    'return {cjson.encode_keep_buffer("off"), cjson.encode_keep_buffer("on")}',
    'return cjson.encode_keep_buffer("maybe")',
    "return cjson.encode_max_depth(2^32 + 5)",
    "return {cjson.encode_max_depth(2^32 + 1005), cjson.encode_max_depth(1000)}",
    "return cjson.encode_max_depth(1e300)",
    "return cjson.encode_max_depth({})",
    "return cjson.decode_max_depth(-1)",
    'return cjson.encode_invalid_numbers("x")',
    "return cjson.encode_invalid_numbers(1)",
    'return cjson.encode_sparse_array(true, "x")',
    "return cjson.new().encode({1})",
    'return cjson.decode("[1]", 2)',
    "return cjson.decode()",
    "return cjson.decode(nil)",
    "return cjson.decode(true)",
    "return cjson:decode()",
    "return cjson.encode(cjson)",
    "return cmsgpack.pack({a=1,b=2,c=3,d=4,e=5,f=6,g=7,hello=8,world=9})",
    'return cmsgpack.pack({a={b={c={1,2,{x="y"}}}}})',
    "return cmsgpack.pack({[1]=1,[2]=2,[3]=3,[2^31]=4})",
    "return cmsgpack.pack({[-1]=1})",
    "return cmsgpack.pack({[2^31-1]=1})",
    "return cmsgpack.pack(setmetatable({}, {__index=function(t,k) return k*2 end}))",
    "return cmsgpack.pack(setmetatable({1,2,3}, {__index=function(t,k) return k*2 end}))",
    "return cmsgpack.pack(2^63 - 1024, -2^63 + 1024, 2^62, 1e19, -1e19)",
    "return cmsgpack.pack(0/0, -(0/0))",
    "return cmsgpack.pack(1e-40, 1e-45, 2^-149, 16777217, 16777216.5)",
    'return cmsgpack.pack("abc", 12, "xyz")',
    'return cmsgpack.pack(string.rep("a", 65535)):sub(1,3)',
    'return #cmsgpack.pack({string.rep("a", 100)})',
    "return cmsgpack.pack(coroutine.create(function() end))",
    'return {cmsgpack.unpack(cmsgpack.pack({a={b={c={1,2,{x="y"}}}}}))}',
    'return cmsgpack.unpack(cmsgpack.pack({a={b={c={1,2,{x="y"}}}}})).a.b.c[3].x',
    'return tostring(cmsgpack.unpack("\\202\\255\\128\\0\\0"))',
    'return tostring(cmsgpack.unpack("\\203\\127\\240\\0\\0\\0\\0\\0\\0"))',
    'return {cmsgpack.unpack("\\211\\255\\255\\255\\255\\255\\255\\255\\255")}',
    'return {cmsgpack.unpack("\\210\\255\\255\\255\\255", "x", "y")}',
    'return {cmsgpack.unpack("\\209\\255\\1")}',
    'return {cmsgpack.unpack("\\208\\1")}',
    'return {cmsgpack.unpack("\\220\\0\\0\\221\\0\\0\\0\\0\\222\\0\\0\\223\\0\\0\\0\\0")}',
    'return {cmsgpack.unpack("\\220\\0")}',
    'return {cmsgpack.unpack("\\221\\0\\0\\0\\5\\1")}',
    'return {cmsgpack.unpack("\\219\\255\\255\\255\\255abc")}',
    'return {cmsgpack.unpack("\\163ab")}',
    'return {cmsgpack.unpack("\\200\\1\\1\\1")}',
    'return {cmsgpack.unpack("\\213\\1\\1\\1")}',
    'return {cmsgpack.unpack("\\197\\0\\1x")}',
    'return {cmsgpack.unpack("\\1\\193")}',
    'return {cmsgpack.unpack("\\129\\1\\193")}',
    'return {cmsgpack.unpack("\\129\\192")}',
    'return {cmsgpack.unpack("\\129\\192\\193")}',
    'return {cmsgpack.unpack("\\130\\192\\1\\1")}',
    'return {cmsgpack.unpack("\\130\\1\\1\\192\\1")}',
    'return {cmsgpack.unpack("\\145\\129\\192\\1\\193")}',
    'return {cmsgpack.unpack_one("\\1\\2\\3", 0)}',
    'return {cmsgpack.unpack_one("\\1\\2\\3", nil)}',
    'return {cmsgpack.unpack_one("\\1\\2\\3", "2")}',
    'return {cmsgpack.unpack_one("\\1\\2\\3", {})}',
    "return {cmsgpack.unpack_one()}",
    'return {cmsgpack.unpack_one("\\1\\2\\3", -2^40)}',
    'return {cmsgpack.unpack_limit("\\1\\2\\3", 5, 1)}',
    'return {cmsgpack.unpack_limit("\\1\\2\\3", 1, 3)}',
    'return {cmsgpack.unpack_limit("\\1\\2\\3", 0, 1)}',
    'return {cmsgpack.unpack_limit("\\1\\2\\3", 1e300)}',
    'return {cmsgpack.unpack_limit("\\1\\2\\3", -0.5)}',
    'return {cmsgpack.unpack_limit("\\1\\2\\3", 0/0)}',
    "return {cmsgpack.unpack_limit({}, 1)}",
    'return {cmsgpack.unpack_one("\\146\\1", 0)}',
    'return select("#", cmsgpack.unpack(string.rep("\\1", 3000)))',
    "return cmsgpack.pack(1, nil, 2)",
    "return {cmsgpack.unpack(cmsgpack.pack(1, nil, 2))}",
    "local t = cmsgpack.unpack(cmsgpack.pack({1,2,nil,4})) return t[4]",
    'return {struct.unpack("c1c0", "3abc")}',
    'return {struct.unpack("c1c0", "xabc")}',
    'return {struct.unpack("bc0", "\\0abc")}',
    'return {struct.unpack("bc0", "\\9abc")}',
    'return {struct.unpack("dc0", struct.pack("d", 2.5).."abc")}',
    'return struct.pack("s", "a\\0b")',
    'return struct.pack("c2", "abc")',
    'return {struct.unpack(">h", "\\255\\254")}',
    'return struct.pack("i0", 5)',
    'return {struct.unpack("i0", "")}',
    'return {struct.unpack("I0I1", "\\5")}',
    'return struct.pack("<i3>i3", -1, 65536)',
    'return {struct.unpack("<i3>I3", struct.pack("<i3>i3", -1, 65536))}',
    'return struct.pack("!2bhbibd", 1, 2, 3, 4, 5, 6)',
    'return struct.pack("!bxd", 1, 2)',
    'return struct.pack("! b", 1)',
    'return struct.pack("  ", 1)',
    'return struct.pack("")',
    "return struct.pack()",
    "return struct.pack(5, 1)",
    'return struct.pack("x", 1)',
    'return struct.pack("f", 1e40)',
    'return struct.pack(">d", 0/0)',
    'return {struct.unpack("f", struct.pack("f", 0.1))}',
    'return struct.pack("b", "12")',
    'return struct.pack("b", "x1")',
    'return struct.pack("b", 2^70)',
    'return struct.pack("h", -2^70)',
    'return struct.pack("I8", 2^63 + 2^11)',
    'return struct.pack("c", 5)',
    'return struct.pack("c0", {})',
    'return {struct.unpack("b", "ab", 2.9)}',
    'return {struct.unpack("b", "ab", "2")}',
    'return {struct.unpack("b", "ab", -1)}',
    'return {struct.unpack("b", "ab", 2^63)}',
    'return {struct.unpack("s", "ab\\0cd\\0", 4)}',
    'return {struct.unpack("z", "ab")}',
    'return {struct.unpack("!3", "ab")}',
    'return {struct.unpack("x", "")}',
    'return {struct.unpack("", "")}',
    'return {struct.unpack("b")}',
    'return {struct.unpack("b", {})}',
    'return struct.size("i33")',
    'return struct.size("z!3")',
    'return struct.size("c5i")',
    'return struct.size("!i3d")',
    'return struct.size(">")',
    "return struct.size()",
    'return {bit.tobit("1e3"), bit.tobit("  0x1F  "), bit.tobit(-2^31), bit.tobit(2^31), '
    "bit.tobit(-2^31-1), bit.tobit(0/0), bit.tobit(1/0), bit.tobit(-1/0)}",
    "return {bit.tohex(-1), bit.tohex(0x7fffffff, 3), bit.tohex(1, -1), bit.tohex(2^40)}",
    "return {bit.band(0xffffffff, 0x0f0f0f0f, 0xff), bit.bor(2^32, 1), bit.bxor(-1, 1)}",
    "return {bit.lshift(1, 2^32+3), bit.rshift(1, -31), bit.arshift(0x80000000, 31), "
    "bit.rol(0x12345678, 36), bit.ror(0x12345678, -4)}",
    "return bit.lshift(1)",
    "return bit.tohex()",
    'return bit.tohex(1, "x")',
    "return bit.bswap()",
    "return {bit.bnot(-1), bit.bnot(0x7fffffff), bit.bswap(-1), bit.bswap(1)}",
    "return bit.band(1, 2, 3, nil)",
    "return bit.bxor(1, {}, nil)",
]

SNIPPETS = [*BIT, *CJSON, *CMSGPACK, *STRUCT, *EDGE]


@pytest.fixture(params=[2, 3])
def conns(
    request: pytest.FixtureRequest, redis_oracle: ServerHandle, server: ServerHandle
) -> Iterator[tuple[RawConn, RawConn]]:
    """Raw connections to the oracle and the server under test, in one protocol."""
    pair = (redis_oracle.raw(timeout=30.0), server.raw(timeout=30.0))
    for conn in pair:
        if request.param == 3:
            assert conn.command("HELLO", "3").startswith(b"%")
    yield pair
    for conn in pair:
        conn.close()


@pytest.mark.parametrize("script", SNIPPETS)
def test_eval_matches_redis(conns: tuple[RawConn, RawConn], script: str) -> None:
    oracle, sut = conns
    want = oracle.command("EVAL", script, 0)
    got = sut.command("EVAL", script, 0)
    assert got == want, f"{script}\n  redis: {want!r}\n  sut:   {got!r}"
