//! `cmsgpack`: lua-cmsgpack 0.4.0 as Redis 7.0 ships it.
//!
//! Packing: integral numbers in the int64 range become the smallest MessagePack integer,
//! other numbers a float32 when that is exact, else a float64; strings use fixstr/str8/16/32;
//! a table whose keys are exactly 1..n (each fitting a C `int`) is an array, any other table a
//! map in `lua_next` order; tables nested 16 deep, functions and other values pack as nil.
//! Unpacking reads nil, booleans, all integer and float formats, str8/16/32, arrays and maps
//! (bin and ext formats are "Bad data format"); uint64 values go through a signed cast as in
//! the C code. Nesting and result counts fail where the C code's `luaL_checkstack` calls do,
//! with its messages, by counting the Lua stack slots it would use.

use mlua::{Lua, Table, Value};

use super::{
    c_f64_to_i64, check_bytes, check_integer, one, opt_integer, wrap, Builder, Fail, Item,
    LibResult, MAX_ALL_RESULTS, MAX_C_STACK, MAX_RESULTS,
};

/// lua-cmsgpack's `LUACMSGPACK_MAX_NESTING`: deeper tables are packed as nil.
const MAX_NESTING: usize = 16;

const TOO_MANY: &str =
    "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)";

/// The `cmsgpack` table.
pub(crate) fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("pack", wrap(lua, pack)?)?;
    t.set(
        "unpack",
        wrap(lua, |l, a| {
            let nargs = a.len();
            unpack_full(l, a, 0, 0, nargs)
        })?,
    )?;
    t.set(
        "unpack_one",
        wrap(lua, |l, a| {
            let offset = opt_integer(l, a, 2, 0)?;
            unpack_full(l, a, 1, offset, 1)
        })?,
    )?;
    t.set(
        "unpack_limit",
        wrap(lua, |l, a| {
            let limit = check_integer(l, a, 2)?;
            let offset = opt_integer(l, a, 3, 0)?;
            unpack_full(l, a, limit, offset, 1)
        })?,
    )?;
    t.set("_NAME", "cmsgpack")?;
    t.set("_VERSION", "lua-cmsgpack 0.4.0")?;
    t.set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    t.set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    Ok(t)
}

// --------------------------------------------------------------------------
// Packing
// --------------------------------------------------------------------------

fn pack(lua: &Lua, a: &[Value]) -> LibResult {
    if a.is_empty() {
        return Err(Fail::arg(0, "MessagePack pack needs input."));
    }
    if a.len().saturating_mul(2) > MAX_C_STACK {
        return Err(Fail::arg(0, "Too many arguments for MessagePack pack."));
    }
    let mut out = Vec::new();
    for v in a {
        encode(&mut out, v, 0)?;
    }
    one(Value::String(lua.create_string(&out)?))
}

fn encode(out: &mut Vec<u8>, v: &Value, level: usize) -> Result<(), Fail> {
    match v {
        Value::String(s) => encode_bytes(out, &s.as_bytes()),
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(i) => encode_int(out, *i),
        Value::Number(n) => encode_number(out, *n),
        Value::Table(t) if level < MAX_NESTING => encode_table(out, t, level)?,
        _ => out.push(0xc0),
    }
    Ok(())
}

fn encode_bytes(out: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if len <= 0xff {
        out.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

fn encode_number(out: &mut Vec<u8>, n: f64) {
    // IS_INT64_EQUIVALENT: `(int64_t)n == n` with x86's cast.
    if !n.is_infinite() && c_f64_to_i64(n) as f64 == n {
        encode_int(out, c_f64_to_i64(n));
        return;
    }
    let f = n as f32;
    if f64::from(f) == n {
        out.push(0xca);
        out.extend_from_slice(&f.to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_int(out: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        if n <= 127 {
            out.push(n as u8);
        } else if n <= 0xff {
            out.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_len(out: &mut Vec<u8>, n: usize, fix: u8, b16: u8, b32: u8) {
    if n <= 15 {
        out.push(fix | n as u8);
    } else if n <= 0xffff {
        out.push(b16);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(b32);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// lua-cmsgpack's `table_is_an_array`: keys exactly 1..count, each an exact C `int`.
fn is_array(t: &Table) -> mlua::Result<bool> {
    let mut count: i64 = 0;
    let mut max: i64 = 0;
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair?;
        let n = match k {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => return Ok(false),
        };
        if n <= 0.0 || n.is_infinite() || f64::from(super::c_f64_to_i32(n)) != n {
            return Ok(false);
        }
        max = max.max(n as i64);
        count += 1;
    }
    Ok(max == count)
}

fn encode_table(out: &mut Vec<u8>, t: &Table, level: usize) -> Result<(), Fail> {
    if is_array(t)? {
        let len = t.raw_len();
        encode_len(out, len, 0x90, 0xdc, 0xdd);
        for j in 1..=len {
            let v: Value = t.get(j)?;
            encode(out, &v, level + 1)?;
        }
    } else {
        let mut len = 0usize;
        for pair in t.pairs::<Value, Value>() {
            pair?;
            len += 1;
        }
        encode_len(out, len, 0x80, 0xde, 0xdf);
        for pair in t.pairs::<Value, Value>() {
            let (k, v) = pair?;
            encode(out, &k, level + 1)?;
            encode(out, &v, level + 1)?;
        }
    }
    Ok(())
}

// --------------------------------------------------------------------------
// Unpacking
// --------------------------------------------------------------------------

enum MpErr {
    Eof,
    BadFormat,
    Fail(Fail),
}

/// What a finished value was, for the map-key checks `lua_settable` makes.
#[derive(Clone, Copy, PartialEq)]
enum Done {
    Nil,
    NaN,
    Other,
}

struct Cont {
    map: bool,
    /// Values still to read (2 per map entry).
    left: usize,
    key: Done,
}

struct Reader<'a> {
    s: &'a [u8],
    at: usize,
    /// Lua stack slots the C decoder would hold (arguments, results, open tables, keys).
    slots: usize,
    items: Vec<Item<'a>>,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], MpErr> {
        let end = self.at.checked_add(n).ok_or(MpErr::Eof)?;
        let s = self.s.get(self.at..end).ok_or(MpErr::Eof)?;
        self.at = end;
        Ok(s)
    }

    fn be(&mut self, n: usize) -> Result<u64, MpErr> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |a, &b| (a << 8) | u64::from(b)))
    }

    fn check_stack(&self, what: &str) -> Result<(), MpErr> {
        if self.slots + 1 > MAX_C_STACK {
            return Err(MpErr::Fail(Fail::error(format!("stack overflow ({what})"))));
        }
        Ok(())
    }

    fn scalar(&mut self, item: Item<'a>) -> Done {
        let done = match &item {
            Item::Nil => Done::Nil,
            Item::Num(n) if n.is_nan() => Done::NaN,
            _ => Done::Other,
        };
        self.items.push(item);
        self.slots += 1;
        done
    }

    /// Reads one value's header: a finished scalar, or an opened container (Ok(None)).
    fn header(&mut self, stack: &mut Vec<Cont>) -> Result<Option<Done>, MpErr> {
        let Some(&b) = self.s.get(self.at) else {
            return Err(MpErr::Eof);
        };
        if self.slots + 1 > MAX_C_STACK {
            return Err(MpErr::Fail(Fail::error(TOO_MANY)));
        }
        let num = |v: f64| Item::Num(v);
        let done = match b {
            0x00..=0x7f => {
                self.at += 1;
                self.scalar(num(f64::from(b)))
            }
            0xe0..=0xff => {
                self.at += 1;
                self.scalar(num(f64::from(b as i8)))
            }
            0xa0..=0xbf => {
                let s = self.take(1 + usize::from(b & 0x1f))?;
                self.scalar(Item::Str(s[1..].into()))
            }
            0x90..=0x9f => {
                self.at += 1;
                return self.open(false, usize::from(b & 0xf), stack);
            }
            0x80..=0x8f => {
                self.at += 1;
                return self.open(true, usize::from(b & 0xf), stack);
            }
            0xc0 => {
                self.at += 1;
                self.scalar(Item::Nil)
            }
            0xc2 | 0xc3 => {
                self.at += 1;
                self.scalar(Item::Bool(b == 0xc3))
            }
            0xca => {
                let v = self.take(5)?;
                let f = f32::from_be_bytes([v[1], v[2], v[3], v[4]]);
                self.scalar(num(f64::from(f)))
            }
            0xcb => {
                let v = self.peek_int(8)?;
                self.scalar(num(f64::from_bits(v)))
            }
            0xcc..=0xd3 => {
                let size = 1usize << (b & 3);
                let raw = self.peek_int(size)?;
                let v = if b >= 0xd0 {
                    let shift = 64 - 8 * size as u32;
                    (((raw << shift) as i64) >> shift) as f64
                } else {
                    // lua_pushinteger of the unsigned value: a signed 64-bit cast.
                    raw as i64 as f64
                };
                self.scalar(num(v))
            }
            0xd9..=0xdb => {
                let size = match b {
                    0xd9 => 1,
                    0xda => 2,
                    _ => 4,
                };
                let len = self.peek_int(size)?;
                let len = usize::try_from(len).map_err(|_| MpErr::Eof)?;
                let s = self.take(len)?;
                self.scalar(Item::Str(s.into()))
            }
            0xdc..=0xdf => {
                let size = if b & 1 == 0 { 2 } else { 4 };
                let len = usize::try_from(self.peek_int(size)?).map_err(|_| MpErr::Eof)?;
                return self.open(b >= 0xde, len, stack);
            }
            _ => return Err(MpErr::BadFormat),
        };
        Ok(Some(done))
    }

    /// The big-endian integer of `size` bytes after the type byte (consumed with it).
    fn peek_int(&mut self, size: usize) -> Result<u64, MpErr> {
        if self.s.len().saturating_sub(self.at) < 1 + size {
            return Err(MpErr::Eof);
        }
        self.at += 1;
        self.be(size)
    }

    fn open(
        &mut self,
        map: bool,
        len: usize,
        stack: &mut Vec<Cont>,
    ) -> Result<Option<Done>, MpErr> {
        self.items.push(Item::Open { map });
        self.slots += 1;
        if !map {
            self.check_stack("in function mp_decode_to_lua_array")?;
        }
        if len == 0 {
            self.items.push(Item::Close);
            return Ok(Some(Done::Other));
        }
        if !map {
            self.slots += 1; // the index of the first element
        }
        stack.push(Cont {
            map,
            left: if map { len.saturating_mul(2) } else { len },
            key: Done::Other,
        });
        Ok(None)
    }

    /// Decodes one top-level value.
    fn value(&mut self) -> Result<(), MpErr> {
        let mut stack: Vec<Cont> = Vec::new();
        loop {
            let Some(mut done) = self.header(&mut stack)? else {
                continue;
            };
            // A value finished: let its containers take it, closing those that are full.
            loop {
                let Some(top) = stack.last_mut() else {
                    return Ok(());
                };
                top.left = top.left.saturating_sub(1);
                if top.map {
                    if top.left % 2 == 1 {
                        top.key = done;
                        break;
                    }
                    match top.key {
                        Done::Nil => {
                            return Err(MpErr::Fail(Fail::Raw(b"table index is nil".to_vec())))
                        }
                        Done::NaN => {
                            return Err(MpErr::Fail(Fail::Raw(b"table index is NaN".to_vec())))
                        }
                        Done::Other => {}
                    }
                    self.slots = self.slots.saturating_sub(2);
                } else {
                    self.slots = self.slots.saturating_sub(2);
                }
                if top.left > 0 {
                    if !top.map {
                        self.slots += 1;
                    }
                    break;
                }
                stack.pop();
                self.items.push(Item::Close);
                done = Done::Other;
            }
        }
    }
}

fn unpack_full(lua: &Lua, a: &[Value], limit: i64, offset: i64, base_slots: usize) -> LibResult {
    let s = check_bytes(a, 1)?;
    let len = s.len();
    let decode_all = limit == 0 && offset == 0;
    if offset < 0 || limit < 0 {
        return Err(Fail::error(format!(
            "Invalid request to unpack with offset of {} and limit of {}.",
            offset as i32, len as i32
        )));
    }
    let start = usize::try_from(offset).unwrap_or(usize::MAX);
    if start > len {
        return Err(Fail::error(format!(
            "Start offset {} greater than input length {}.",
            offset as i32, len as i32
        )));
    }
    let limit = if decode_all {
        i64::from(i32::MAX)
    } else {
        limit
    };
    let mut r = Reader {
        s: &s,
        at: start,
        slots: base_slots,
        items: Vec::new(),
    };
    let mut count: i64 = 0;
    while r.at < len && count < limit {
        match r.value() {
            Ok(()) => {}
            Err(MpErr::Eof) => return Err(Fail::error("Missing bytes in input.")),
            Err(MpErr::BadFormat) => return Err(Fail::error("Bad data format in input.")),
            Err(MpErr::Fail(f)) => return Err(f),
        }
        count += 1;
    }
    let mut out = Vec::new();
    if !decode_all {
        if r.slots + 1 > MAX_C_STACK {
            return Err(Fail::error("stack overflow (in function mp_unpack_full)"));
        }
        let next = if r.at >= len { -1.0 } else { r.at as f64 };
        out.push(Value::Number(next));
    }
    let mut b = Builder::new(lua);
    let mut refs = 0usize;
    for item in std::mem::take(&mut r.items) {
        if let Some(v) = b.feed(item)? {
            if matches!(v, Value::String(_) | Value::Table(_)) {
                refs += 1;
                if refs > MAX_RESULTS {
                    return Err(Fail::error(TOO_MANY));
                }
            }
            out.push(v);
            if out.len() > MAX_ALL_RESULTS {
                return Err(Fail::error(TOO_MANY));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{bytes, lua, run};

    // Expected bytes captured from redis-server 7.0.15 (EVAL "return cmsgpack.pack(...)" 0).
    #[test]
    fn pack() {
        let l = lua();
        let cases: [(&str, &[u8]); 6] = [
            (
                "return cmsgpack.pack(1,2,-1,-32,-33,127,128,255,256,65535,65536,2^32-1,2^32,-128,-129,-32768,-32769,-2^31,-2^31-1,2^53,-2^63,2^63,2^64)",
                b"\x01\x02\xff\xe0\xd0\xdf\x7f\xcc\x80\xcc\xff\xcd\x01\x00\xcd\xff\xff\xce\x00\x01\x00\x00\xce\xff\xff\xff\xff\xcf\x00\x00\x00\x01\x00\x00\x00\x00\xd0\x80\xd1\xff\x7f\xd1\x80\x00\xd2\xff\xff\x7f\xff\xd2\x80\x00\x00\x00\xd3\xff\xff\xff\xff\x7f\xff\xff\xff\xcf\x00 \x00\x00\x00\x00\x00\x00\xd3\x80\x00\x00\x00\x00\x00\x00\x00\xca_\x00\x00\x00\xca_\x80\x00\x00",
            ),
            (
                "return cmsgpack.pack(0.5, 0.1, 1/0, -1/0, -0, 1e300, 3.4e38, 1.5)",
                b"\xca?\x00\x00\x00\xcb?\xb9\x99\x99\x99\x99\x99\x9a\xca\x7f\x80\x00\x00\xca\xff\x80\x00\x00\x00\xcb~7\xe4<\x88\x00u\x9c\xcbG\xef\xf93\xc7\x8c\xdf\xad\xca?\xc0\x00\x00",
            ),
            (
                "return cmsgpack.pack(nil, true, false, '', 'abc', string.rep('x',31), string.rep('x',32))",
                b"\xc0\xc3\xc2\xa0\xa3abc\xbfxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\xd9 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            ),
            (
                "return cmsgpack.pack({}, {1,2}, {a=1}, {1,nil,3}, {[2]=1}, {[1.5]=1}, {[0]=1})",
                b"\x90\x92\x01\x02\x81\xa1a\x01\x82\x01\x01\x03\x03\x81\x02\x01\x81\xca?\xc0\x00\x00\x01\x81\x00\x01",
            ),
            ("local t = {} t[1]=t return cmsgpack.pack(t)", b"\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\xc0"),
            ("return cmsgpack.pack(print, cjson.null)", b"\xc0\xc0"),
        ];
        for (code, want) in cases {
            assert_eq!(bytes(&l, code), want.to_vec(), "{code}");
        }
        assert_eq!(
            bytes(&l, "return cmsgpack.pack(string.rep('x',256)):sub(1,4)"),
            b"\xda\x01\x00x".to_vec()
        );
        assert_eq!(
            run(
                &l,
                "local t = {} for i=1,16 do t[i]=i end return #cmsgpack.pack(t)"
            ),
            "19"
        );
        assert_eq!(
            run(&l, "return #cmsgpack.pack(string.rep('x',65536))"),
            "65541"
        );
        assert_eq!(
            run(&l, "return cmsgpack.pack()"),
            "ERR user_script:1: bad argument #0 to 'pack' (MessagePack pack needs input.)"
        );
    }

    #[test]
    fn unpack() {
        let l = lua();
        let cases = [
            ("return {cmsgpack.unpack(cmsgpack.pack(1,'a',{1,2}))}", r#"{1,"a",{1,2}}"#),
            ("return {cmsgpack.unpack_one(cmsgpack.pack(10,20,30))}", "{1,10}"),
            ("return {cmsgpack.unpack_one(cmsgpack.pack(10,20,30), 2)}", "{-1,30}"),
            ("return {cmsgpack.unpack_one(cmsgpack.pack(10,20,30), 3)}", "{-1}"),
            ("return {cmsgpack.unpack_limit(cmsgpack.pack(10,20,30), 2)}", "{2,10,20}"),
            ("return {cmsgpack.unpack_limit(cmsgpack.pack(10,20,30), 2, 1)}", "{-1,20,30}"),
            ("return {cmsgpack.unpack_limit(cmsgpack.pack(10,20,30), 0)}", "{10,20,30}"),
            ("return {cmsgpack.unpack_limit(cmsgpack.pack(10,20,30), 2^32)}", "{-1,10,20,30}"),
            ("return {cmsgpack.unpack_one(cmsgpack.pack(10,20,30), 1.7)}", "{2,20}"),
            ("return {cmsgpack.unpack_one(cmsgpack.pack(10,20,30), '1')}", "{2,20}"),
            ("return select('#', cmsgpack.unpack(''))", "0"),
            ("return {cmsgpack.unpack(5)}", "{53}"),
            ("return {cmsgpack.unpack('\\217\\3abc')}", r#"{"abc"}"#),
            ("return {cmsgpack.unpack('\\218\\0\\3abc\\219\\0\\0\\0\\3abc')}", r#"{"abc","abc"}"#),
            ("return tostring(cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255'))", r#""-1""#),
            ("return tostring(cmsgpack.unpack('\\207\\128\\0\\0\\0\\0\\0\\0\\1'))", r#""-9.2233720368548e+18""#),
            ("return {cmsgpack.unpack('\\204\\200\\205\\1\\0\\206\\0\\1\\0\\0\\208\\128\\209\\128\\0\\210\\128\\0\\0\\0\\224')}", "{200,256,65536,-128,-32768,-2147483648,-32}"),
            ("return tostring(cmsgpack.unpack('\\202\\63\\185\\153\\154'))", r#""1.4500000476837""#),
            ("local t = cmsgpack.unpack('\\147\\1\\192\\3') return {#t, t[3]}", "{1,3}"),
            ("return cmsgpack.unpack(cmsgpack.pack({a={b={1,2}}})).a.b[2]", "2"),
            ("return select('#', cmsgpack.unpack(string.rep('\\1', 3000)))", "3000"),
        ];
        for (code, want) in cases {
            assert_eq!(run(&l, code), want, "{code}");
        }
    }

    #[test]
    fn unpack_errors() {
        let l = lua();
        let cases = [
            (
                "return cmsgpack.unpack_limit(cmsgpack.pack(10,20,30), -1)",
                "user_script:1: Invalid request to unpack with offset of 0 and limit of 3.",
            ),
            (
                "return cmsgpack.unpack_one(cmsgpack.pack(10,20,30), -1)",
                "user_script:1: Invalid request to unpack with offset of -1 and limit of 3.",
            ),
            (
                "return cmsgpack.unpack_one(cmsgpack.pack(10,20,30), 4)",
                "user_script:1: Start offset 4 greater than input length 3.",
            ),
            (
                "return cmsgpack.unpack_one(cmsgpack.pack(10,20,30), 2^32+1)",
                "user_script:1: Start offset 1 greater than input length 3.",
            ),
            (
                "return cmsgpack.unpack('\\193')",
                "user_script:1: Bad data format in input.",
            ),
            (
                "return cmsgpack.unpack('\\196\\3abc')",
                "user_script:1: Bad data format in input.",
            ),
            (
                "return cmsgpack.unpack('\\212\\1\\1')",
                "user_script:1: Bad data format in input.",
            ),
            (
                "return cmsgpack.unpack('\\146\\1')",
                "user_script:1: Missing bytes in input.",
            ),
            (
                "return cmsgpack.unpack('\\205\\1')",
                "user_script:1: Missing bytes in input.",
            ),
            (
                "return cmsgpack.unpack()",
                "user_script:1: bad argument #1 to 'unpack' (string expected, got no value)",
            ),
            (
                "return cmsgpack.unpack({})",
                "user_script:1: bad argument #1 to 'unpack' (string expected, got table)",
            ),
            (
                "return cmsgpack.unpack_one('', 'x')",
                "user_script:1: bad argument #2 to 'unpack_one' (number expected, got string)",
            ),
            (
                "return cmsgpack.unpack_limit('')",
                "user_script:1: bad argument #2 to 'unpack_limit' (number expected, got no value)",
            ),
            (
                "return cmsgpack.unpack('\\129\\192\\1')",
                "table index is nil",
            ),
            (
                "return cmsgpack.unpack('\\129\\202\\127\\192\\0\\0\\1')",
                "table index is NaN",
            ),
        ];
        for (code, msg) in cases {
            assert_eq!(run(&l, code), format!("ERR {msg}"), "{code}");
        }
    }

    #[test]
    fn nesting_limits() {
        let l = lua();
        let first_failure = |body: &str| {
            run(&l, &format!("for n=3990,4010 do if not pcall(cmsgpack.unpack, {body}) then return n end end return 0"))
        };
        assert_eq!(first_failure("string.rep('\\145', n)..'\\1'"), "4000");
        assert_eq!(first_failure("string.rep('\\129\\1', n)..'\\1'"), "4000");
        assert!(run(
            &l,
            "return tostring(select(2, pcall(cmsgpack.unpack, string.rep('\\145', 4000)..'\\1')))"
        )
        .contains("stack overflow (in function mp_decode_to_lua_array)"));
    }
}
