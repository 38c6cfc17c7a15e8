//! Conversions between replies ([`Frame`]) and Lua values, as Redis documents them ("Scripting
//! with Lua", "Lua API": data type conversion).
//!
//! Reply -> Lua depends on the protocol the script chose with `redis.setresp` (2 by default):
//! in RESP2 a reply is seen as a RESP2 client would see it (maps flattened, doubles as bulk
//! strings, booleans as 1/0, nulls as `false`); in RESP3 maps, sets, doubles, big numbers,
//! verbatim strings, booleans and nulls get their own Lua shapes (`{map=...}`, `{set=...}`,
//! `{double=n}`, `{big_number=s}`, `{verbatim_string={format=,string=}}`, `true`/`false`, `nil`).
//!
//! Lua -> reply: numbers are truncated to integers; strings are bulk strings; tables are arrays
//! up to their first `nil`, unless they carry one of the fields `err`, `ok`, `double`,
//! `big_number`, `verbatim_string`, `map`, `set`; booleans are 1/nil with RESP2 scripts and
//! RESP3 booleans with RESP3 ones. RESP3-only frames are downgraded by the encoder for RESP2
//! clients, as Redis does.

use fastkv_resp::float::fmt_g17;
use fastkv_resp::Frame;
use mlua::{Lua, Table, Value};

/// Nesting deeper than this is cut (Redis stops at its Lua stack limit).
const MAX_DEPTH: usize = 1000;

/// A reply as the script sees it.
pub fn frame_to_lua(lua: &Lua, f: &Frame, resp3: bool) -> mlua::Result<Value> {
    to_lua(lua, f, resp3, 0)
}

fn to_lua(lua: &Lua, f: &Frame, resp3: bool, depth: usize) -> mlua::Result<Value> {
    if depth > MAX_DEPTH {
        return Ok(Value::Nil);
    }
    Ok(match f {
        Frame::Simple(s) => {
            let t = lua.create_table()?;
            t.raw_set("ok", lua.create_string(s.as_bytes())?)?;
            Value::Table(t)
        }
        Frame::Error(e) => {
            let t = lua.create_table()?;
            t.raw_set("err", lua.create_string(e.trim_end_matches(['\r', '\n']))?)?;
            Value::Table(t)
        }
        Frame::Integer(n) => Value::Number(*n as f64),
        Frame::Bulk(b) => Value::String(lua.create_string(b)?),
        Frame::Null | Frame::NullArray => {
            if resp3 {
                Value::Nil
            } else {
                Value::Boolean(false)
            }
        }
        Frame::Array(items) | Frame::Push(items) => {
            Value::Table(seq(lua, items.iter(), resp3, depth)?)
        }
        Frame::Bulks(items) => {
            let t = lua.create_table()?;
            for (i, b) in items.iter().enumerate() {
                t.raw_set(i + 1, lua.create_string(b)?)?;
            }
            Value::Table(t)
        }
        Frame::Set(items) => {
            if resp3 {
                let inner = lua.create_table()?;
                for it in items {
                    let k = to_lua(lua, it, resp3, depth + 1)?;
                    if !k.is_nil() {
                        inner.raw_set(k, true)?;
                    }
                }
                wrap(lua, "set", Value::Table(inner))?
            } else {
                Value::Table(seq(lua, items.iter(), resp3, depth)?)
            }
        }
        Frame::Map(pairs) => {
            if resp3 {
                let inner = lua.create_table()?;
                for (k, v) in pairs {
                    let k = to_lua(lua, k, resp3, depth + 1)?;
                    if !k.is_nil() {
                        inner.raw_set(k, to_lua(lua, v, resp3, depth + 1)?)?;
                    }
                }
                wrap(lua, "map", Value::Table(inner))?
            } else {
                let flat = pairs.iter().flat_map(|(k, v)| [k, v]);
                Value::Table(seq(lua, flat, resp3, depth)?)
            }
        }
        Frame::Double(d) => {
            if resp3 {
                wrap(lua, "double", Value::Number(*d))?
            } else {
                Value::String(lua.create_string(fmt_g17(*d))?)
            }
        }
        Frame::Boolean(b) => {
            if resp3 {
                Value::Boolean(*b)
            } else {
                Value::Number(if *b { 1.0 } else { 0.0 })
            }
        }
        Frame::BigNumber(s) => {
            if resp3 {
                wrap(lua, "big_number", Value::String(lua.create_string(s)?))?
            } else {
                Value::String(lua.create_string(s)?)
            }
        }
        Frame::Verbatim { format, text } => {
            if resp3 {
                let inner = lua.create_table()?;
                inner.raw_set("format", lua.create_string(format)?)?;
                inner.raw_set("string", lua.create_string(text)?)?;
                wrap(lua, "verbatim_string", Value::Table(inner))?
            } else {
                Value::String(lua.create_string(text)?)
            }
        }
    })
}

/// `{name = v}`.
fn wrap(lua: &Lua, name: &str, v: Value) -> mlua::Result<Value> {
    let t = lua.create_table()?;
    t.raw_set(name, v)?;
    Ok(Value::Table(t))
}

fn seq<'f>(
    lua: &Lua,
    items: impl Iterator<Item = &'f Frame>,
    resp3: bool,
    depth: usize,
) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    for (i, it) in items.enumerate() {
        t.raw_set(i + 1, to_lua(lua, it, resp3, depth + 1)?)?;
    }
    Ok(t)
}

/// A script's return value as a reply. `resp3`: the script's `redis.setresp` protocol.
pub fn lua_to_frame(v: &Value, resp3: bool) -> mlua::Result<Frame> {
    to_frame(v, resp3, 0)
}

/// An error or status text made one line.
fn one_line(s: &mlua::LuaString) -> String {
    s.to_string_lossy().replace(['\r', '\n'], " ")
}

fn to_frame(v: &Value, resp3: bool, depth: usize) -> mlua::Result<Frame> {
    if depth > MAX_DEPTH {
        return Ok(Frame::error("ERR reached lua stack limit"));
    }
    Ok(match v {
        Value::Nil => Frame::Null,
        Value::Boolean(b) => {
            if resp3 {
                Frame::Boolean(*b)
            } else if *b {
                Frame::Integer(1)
            } else {
                Frame::Null
            }
        }
        Value::Integer(n) => Frame::Integer(*n),
        Value::Number(n) => Frame::Integer(*n as i64),
        Value::String(s) => Frame::Bulk(s.as_bytes().to_vec()),
        Value::Table(t) => table_to_frame(t, resp3, depth)?,
        _ => Frame::Null,
    })
}

fn table_to_frame(t: &Table, resp3: bool, depth: usize) -> mlua::Result<Frame> {
    if let Value::String(e) = t.raw_get::<Value>("err")? {
        return Ok(Frame::error(one_line(&e)));
    }
    if let Value::String(s) = t.raw_get::<Value>("ok")? {
        return Ok(Frame::Simple(one_line(&s).into()));
    }
    match t.raw_get::<Value>("double")? {
        Value::Number(d) => return Ok(Frame::Double(d)),
        Value::Integer(d) => return Ok(Frame::Double(d as f64)),
        _ => {}
    }
    if let Value::String(s) = t.raw_get::<Value>("big_number")? {
        return Ok(Frame::BigNumber(one_line(&s)));
    }
    if let Value::Table(m) = t.raw_get::<Value>("map")? {
        let mut pairs = Vec::new();
        for pair in m.pairs::<Value, Value>() {
            let (k, v) = pair?;
            pairs.push((
                to_frame(&k, resp3, depth + 1)?,
                to_frame(&v, resp3, depth + 1)?,
            ));
        }
        return Ok(Frame::Map(pairs));
    }
    if let Value::Table(s) = t.raw_get::<Value>("set")? {
        let mut items = Vec::new();
        for pair in s.pairs::<Value, Value>() {
            let (k, _) = pair?;
            items.push(to_frame(&k, resp3, depth + 1)?);
        }
        return Ok(Frame::Set(items));
    }
    if let Value::Table(vt) = t.raw_get::<Value>("verbatim_string")? {
        if let (Value::String(fmt), Value::String(s)) = (
            vt.raw_get::<Value>("format")?,
            vt.raw_get::<Value>("string")?,
        ) {
            let fb = fmt.as_bytes();
            if fb.len() == 3 {
                let mut format = [0u8; 3];
                format.copy_from_slice(&fb);
                return Ok(Frame::Verbatim {
                    format,
                    text: s.as_bytes().to_vec(),
                });
            }
        }
    }
    let mut items = Vec::new();
    let mut i = 1usize;
    loop {
        let v = t.raw_get::<Value>(i)?;
        if v.is_nil() {
            break;
        }
        items.push(to_frame(&v, resp3, depth + 1)?);
        i += 1;
    }
    Ok(Frame::Array(items))
}
