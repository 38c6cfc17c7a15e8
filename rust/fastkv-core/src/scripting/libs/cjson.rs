//! `cjson`: lua-cjson 2.1.0 as Redis 7.0 ships it.
//!
//! Encoding: a table is an array when every key is an integer >= 1 (`max` taken through a C
//! `int`, so huge keys make it an object), unless it is "excessively sparse" (max > items *
//! ratio and max > safe: an error by default). Empty tables are objects. Numbers use
//! `%.14g`, strings escape `"` `\` `/`, control characters and DEL. Object keys come in
//! `lua_next` order. Decoding follows the C tokenizer: numbers go through `strtod` (so hex,
//! `inf`, `nan` and a leading `+` are accepted while `decode_invalid_numbers` is on), the
//! input ends at its first NUL byte, and error texts name tokens the way the C code does
//! (`T_END`, `T_OBJ_END`, ...). Configuration lives per module table (`cjson.new()` makes
//! another) and persists across scripts, as in Redis.

use std::borrow::Cow;
use std::sync::Arc;

use mlua::{Function, Lua, Table, Value};
use parking_lot::Mutex;

use super::{
    arg, c_f64_to_i32, check_bytes, check_integer, fmt_g, null_value, one, type_error, wrap,
    Builder, Fail, Item, LibResult, MAX_C_STACK,
};

struct Config {
    sparse_convert: bool,
    sparse_ratio: i32,
    sparse_safe: i32,
    encode_max_depth: i32,
    decode_max_depth: i32,
    precision: i32,
    keep_buffer: bool,
    /// 0 off, 1 on, 2 "null".
    encode_invalid: i32,
    decode_invalid: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            sparse_convert: false,
            sparse_ratio: 2,
            sparse_safe: 10,
            encode_max_depth: 1000,
            decode_max_depth: 1000,
            precision: 14,
            keep_buffer: true,
            encode_invalid: 0,
            decode_invalid: true,
        }
    }
}

type Shared = Arc<Mutex<Config>>;

/// A `cjson` module table with its own configuration.
pub(crate) fn module(lua: &Lua) -> mlua::Result<Table> {
    let cfg: Shared = Arc::new(Mutex::new(Config::default()));
    let t = lua.create_table()?;
    let c = cfg.clone();
    let next: Function = lua.globals().raw_get("next")?;
    t.set("encode", wrap(lua, move |l, a| encode(l, a, &c, &next))?)?;
    let c = cfg.clone();
    t.set("decode", wrap(lua, move |l, a| decode(l, a, &c))?)?;
    let c = cfg.clone();
    t.set(
        "encode_sparse_array",
        wrap(lua, move |l, a| {
            arg_count(a, 3)?;
            let mut g = c.lock();
            let convert = bool_option(a, 1, &mut g.sparse_convert)?;
            let ratio = int_option(l, a, 2, &mut g.sparse_ratio, 0, i32::MAX)?;
            let safe = int_option(l, a, 3, &mut g.sparse_safe, 0, i32::MAX)?;
            Ok(vec![convert, ratio, safe])
        })?,
    )?;
    for (name, which) in [
        ("encode_max_depth", 0),
        ("decode_max_depth", 1),
        ("encode_number_precision", 2),
    ] {
        let c = cfg.clone();
        t.set(
            name,
            wrap(lua, move |l, a| {
                arg_count(a, 1)?;
                let mut g = c.lock();
                let v = match which {
                    0 => int_option(l, a, 1, &mut g.encode_max_depth, 1, i32::MAX)?,
                    1 => int_option(l, a, 1, &mut g.decode_max_depth, 1, i32::MAX)?,
                    _ => int_option(l, a, 1, &mut g.precision, 1, 14)?,
                };
                Ok(vec![v])
            })?,
        )?;
    }
    let c = cfg.clone();
    t.set(
        "encode_keep_buffer",
        wrap(lua, move |_, a| {
            arg_count(a, 1)?;
            Ok(vec![bool_option(a, 1, &mut c.lock().keep_buffer)?])
        })?,
    )?;
    let c = cfg.clone();
    t.set(
        "encode_invalid_numbers",
        wrap(lua, move |l, a| {
            arg_count(a, 1)?;
            let mut g = c.lock();
            match arg(a, 1) {
                None | Some(Value::Nil) => {}
                Some(Value::Boolean(b)) => g.encode_invalid = i32::from(*b),
                Some(_) => {
                    g.encode_invalid = match check_option(a, 1, &["off", "on", "null"])? {
                        0 => 0,
                        1 => 1,
                        _ => 2,
                    }
                }
            }
            Ok(vec![match g.encode_invalid {
                0 => Value::Boolean(false),
                1 => Value::Boolean(true),
                _ => Value::String(l.create_string("null")?),
            }])
        })?,
    )?;
    let c = cfg;
    t.set(
        "decode_invalid_numbers",
        wrap(lua, move |_, a| {
            arg_count(a, 1)?;
            Ok(vec![bool_option(a, 1, &mut c.lock().decode_invalid)?])
        })?,
    )?;
    t.set("new", wrap(lua, |l, _| one(Value::Table(module(l)?)))?)?;
    t.set("null", null_value())?;
    t.set("_NAME", "cjson")?;
    t.set("_VERSION", "2.1.0")?;
    Ok(t)
}

// --------------------------------------------------------------------------
// Configuration arguments
// --------------------------------------------------------------------------

fn arg_count(a: &[Value], max: usize) -> Result<(), Fail> {
    if a.len() > max {
        return Err(Fail::arg(super::narg(max + 1), "found too many arguments"));
    }
    Ok(())
}

/// `luaL_checkoption` without a default.
fn check_option(a: &[Value], i: usize, options: &[&str]) -> Result<usize, Fail> {
    let name = check_bytes(a, i)?;
    options
        .iter()
        .position(|o| o.as_bytes() == &name[..])
        .ok_or_else(|| {
            let mut m = b"invalid option '".to_vec();
            m.extend_from_slice(&name);
            m.push(b'\'');
            Fail::arg(super::narg(i), m)
        })
}

/// lua-cjson's `json_enum_option` for on/off settings (booleans or "off"/"on").
fn bool_option(a: &[Value], i: usize, setting: &mut bool) -> Result<Value, Fail> {
    match arg(a, i) {
        None | Some(Value::Nil) => {}
        Some(Value::Boolean(b)) => *setting = *b,
        Some(_) => *setting = check_option(a, i, &["off", "on"])? == 1,
    }
    Ok(Value::Boolean(*setting))
}

/// lua-cjson's `json_integer_option` (its range error always names argument 1).
fn int_option(
    l: &Lua,
    a: &[Value],
    i: usize,
    setting: &mut i32,
    min: i32,
    max: i32,
) -> Result<Value, Fail> {
    if !matches!(arg(a, i), None | Some(Value::Nil)) {
        let v = check_integer(l, a, i)? as i32;
        if v < min || v > max {
            return Err(Fail::arg(
                1,
                format!("expected integer between {min} and {max}"),
            ));
        }
        *setting = v;
    }
    Ok(Value::Number(f64::from(*setting)))
}

// --------------------------------------------------------------------------
// Encoding
// --------------------------------------------------------------------------

struct Enc<'c> {
    cfg: &'c Config,
    out: Vec<u8>,
}

fn encode(lua: &Lua, a: &[Value], cfg: &Shared, next: &Function) -> LibResult {
    let [v] = a else {
        return Err(Fail::arg(1, "expected 1 argument"));
    };
    let g = cfg.lock();
    let mut e = Enc {
        cfg: &g,
        out: Vec::new(),
    };
    match v {
        Value::Table(t) => e.tables(lua, t, next)?,
        other => e.scalar(other)?,
    }
    one(Value::String(lua.create_string(&e.out)?))
}

fn cannot(v: &Value, reason: &str) -> Fail {
    Fail::error(format!(
        "Cannot serialise {}: {reason}",
        super::value_type_name(v)
    ))
}

/// An open table while encoding: its kind and position, and the Lua stack slots lua-cjson
/// holds for it (1 for the table reached through an array, 2 with its key in an object).
enum Open {
    Array { len: i32, i: i32 },
    Object { first: bool },
}

impl Enc<'_> {
    fn scalar(&mut self, v: &Value) -> Result<(), Fail> {
        match v {
            Value::String(s) => self.string(&s.as_bytes()),
            Value::Integer(i) => self.number(v, *i as f64)?,
            Value::Number(n) => self.number(v, *n)?,
            Value::Boolean(true) => self.out.extend_from_slice(b"true"),
            Value::Boolean(false) => self.out.extend_from_slice(b"false"),
            Value::Nil => self.out.extend_from_slice(b"null"),
            Value::LightUserData(p) if p.0.is_null() => self.out.extend_from_slice(b"null"),
            other => return Err(cannot(other, "type not supported")),
        }
        Ok(())
    }

    /// Encodes a table and everything in it without recursion: only the innermost open table
    /// and its current key are held; ancestors wait in a Lua table.
    fn tables(&mut self, lua: &Lua, root: &Table, next: &Function) -> Result<(), Fail> {
        let parked = lua.create_table()?;
        let mut frames: Vec<(Open, usize)> = Vec::new();
        // Lua stack slots lua-cjson would hold: the argument is the root table.
        let mut slots = 1usize;
        let mut cur = root.clone();
        let mut key = Value::Nil;
        self.open(&cur, 1, slots, &mut frames)?;
        loop {
            let depth = frames.len();
            let Some((open, _)) = frames.last_mut() else {
                return Ok(());
            };
            // The next element of the current table, or None when it is finished.
            let item = match open {
                Open::Array { len, i } => {
                    if *i < *len {
                        *i += 1;
                        if *i > 1 {
                            self.out.push(b',');
                        }
                        Some((cur.raw_get::<Value>(*i)?, 1))
                    } else {
                        self.out.push(b']');
                        None
                    }
                }
                Open::Object { first } => {
                    let (k, v): (Value, Value) = next.call((cur.clone(), key.clone()))?;
                    if k.is_nil() {
                        self.out.push(b'}');
                        None
                    } else {
                        if !*first {
                            self.out.push(b',');
                        }
                        *first = false;
                        self.key(&k)?;
                        key = k;
                        Some((v, 2))
                    }
                }
            };
            match item {
                Some((Value::Table(t), cost)) => {
                    let d = i64::try_from(depth).unwrap_or(i64::MAX);
                    parked.raw_set(2 * d - 1, cur)?;
                    parked.raw_set(2 * d, std::mem::replace(&mut key, Value::Nil))?;
                    slots += cost;
                    self.open(&t, depth + 1, slots, &mut frames)?;
                    if let Some(f) = frames.last_mut() {
                        f.1 = cost;
                    }
                    cur = t;
                }
                Some((v, _)) => self.scalar(&v)?,
                None => {
                    let (_, cost) = frames.pop().unwrap_or((Open::Object { first: true }, 0));
                    slots = slots.saturating_sub(cost);
                    if !frames.is_empty() {
                        let d = i64::try_from(frames.len()).unwrap_or(i64::MAX);
                        cur = parked.raw_get(2 * d - 1)?;
                        key = parked.raw_get(2 * d)?;
                        parked.raw_set(2 * d - 1, Value::Nil)?;
                        parked.raw_set(2 * d, Value::Nil)?;
                    }
                }
            }
        }
    }

    /// Starts table `t` at nesting `depth`: lua-cjson's depth and stack check, then `[` or `{`.
    fn open(
        &mut self,
        t: &Table,
        depth: usize,
        slots: usize,
        frames: &mut Vec<(Open, usize)>,
    ) -> Result<(), Fail> {
        let max = usize::try_from(self.cfg.encode_max_depth).unwrap_or(0);
        if depth > max || slots + 3 > MAX_C_STACK {
            return Err(Fail::error(format!(
                "Cannot serialise, excessive nesting ({depth})"
            )));
        }
        let len = self.array_length(t)?;
        if len > 0 {
            self.out.push(b'[');
            frames.push((Open::Array { len, i: 0 }, 0));
        } else {
            self.out.push(b'{');
            frames.push((Open::Object { first: true }, 0));
        }
        Ok(())
    }

    fn key(&mut self, k: &Value) -> Result<(), Fail> {
        match k {
            Value::Integer(i) => {
                self.out.push(b'"');
                self.number(k, *i as f64)?;
                self.out.extend_from_slice(b"\":");
            }
            Value::Number(n) => {
                self.out.push(b'"');
                self.number(k, *n)?;
                self.out.extend_from_slice(b"\":");
            }
            Value::String(s) => {
                self.string(&s.as_bytes());
                self.out.push(b':');
            }
            other => return Err(cannot(other, "table key must be a number or string")),
        }
        Ok(())
    }

    fn number(&mut self, v: &Value, n: f64) -> Result<(), Fail> {
        if !n.is_finite() {
            match self.cfg.encode_invalid {
                0 => return Err(cannot(v, "must not be NaN or Inf")),
                // NaN is written "nan" whatever its sign; infinities as printf writes them.
                1 if n.is_nan() => self.out.extend_from_slice(b"nan"),
                1 => self.out.extend_from_slice(fmt_g(n, 14).as_bytes()),
                _ => self.out.extend_from_slice(b"null"),
            }
            return Ok(());
        }
        let p = usize::try_from(self.cfg.precision).unwrap_or(14);
        self.out.extend_from_slice(fmt_g(n, p).as_bytes());
        Ok(())
    }

    fn string(&mut self, s: &[u8]) {
        self.out.push(b'"');
        for &c in s {
            match c {
                b'"' => self.out.extend_from_slice(b"\\\""),
                b'\\' => self.out.extend_from_slice(b"\\\\"),
                b'/' => self.out.extend_from_slice(b"\\/"),
                b'\x08' => self.out.extend_from_slice(b"\\b"),
                b'\t' => self.out.extend_from_slice(b"\\t"),
                b'\n' => self.out.extend_from_slice(b"\\n"),
                b'\x0c' => self.out.extend_from_slice(b"\\f"),
                b'\r' => self.out.extend_from_slice(b"\\r"),
                0..=0x1f | 0x7f => self.out.extend_from_slice(format!("\\u{c:04x}").as_bytes()),
                _ => self.out.push(c),
            }
        }
        self.out.push(b'"');
    }

    /// lua-cjson's `lua_array_length`: the array length, or 0 for an object.
    fn array_length(&self, t: &Table) -> Result<i32, Fail> {
        let mut max: i32 = 0;
        let mut items: i32 = 0;
        for pair in t.pairs::<Value, Value>() {
            let (k, _) = pair?;
            let k = match k {
                Value::Integer(i) => i as f64,
                Value::Number(n) => n,
                _ => return Ok(0),
            };
            if k == 0.0 || k.floor() != k || k < 1.0 {
                return Ok(0);
            }
            if k > f64::from(max) {
                max = c_f64_to_i32(k);
            }
            items = items.wrapping_add(1);
        }
        let c = self.cfg;
        if c.sparse_ratio > 0 && max > items.wrapping_mul(c.sparse_ratio) && max > c.sparse_safe {
            if !c.sparse_convert {
                return Err(Fail::error(
                    "Cannot serialise table: excessively sparse array",
                ));
            }
            return Ok(0);
        }
        Ok(max)
    }
}

// --------------------------------------------------------------------------
// Decoding
// --------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum Tok {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str,
    Num,
    Bool,
    Null,
    Colon,
    Comma,
    End,
    Error,
}

impl Tok {
    fn name(self) -> &'static str {
        match self {
            Tok::ObjBegin => "T_OBJ_BEGIN",
            Tok::ObjEnd => "T_OBJ_END",
            Tok::ArrBegin => "T_ARR_BEGIN",
            Tok::ArrEnd => "T_ARR_END",
            Tok::Str => "T_STRING",
            Tok::Num => "T_NUMBER",
            Tok::Bool => "T_BOOLEAN",
            Tok::Null => "T_NULL",
            Tok::Colon => "T_COLON",
            Tok::Comma => "T_COMMA",
            Tok::End => "T_END",
            Tok::Error => "T_ERROR",
        }
    }
}

struct Token<'a> {
    kind: Tok,
    index: usize,
    err: &'static str,
    num: f64,
    boolean: bool,
    text: Cow<'a, [u8]>,
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    decode_invalid: bool,
    max_depth: usize,
    depth: usize,
    /// Lua stack slots lua-cjson's decoder would hold: the argument, each open table, and the
    /// key of each open object while its value is parsed (see `descend`).
    slots: usize,
    items: Vec<Item<'a>>,
}

fn decode(lua: &Lua, a: &[Value], cfg: &Shared) -> LibResult {
    if a.len() != 1 {
        return Err(Fail::arg(1, "expected 1 argument"));
    }
    let owned;
    let s: &[u8] = match &a[0] {
        Value::String(s) => {
            owned = s.as_bytes().to_vec();
            &owned
        }
        Value::Integer(_) | Value::Number(_) => {
            owned = check_bytes(a, 1)?.into_owned();
            &owned
        }
        _ => return Err(type_error(a, 1, "string")),
    };
    if s.len() >= 2 && (s[0] == 0 || s[1] == 0) {
        return Err(Fail::error("JSON parser does not support UTF-16 or UTF-32"));
    }
    // The C parser reads a NUL-terminated string.
    let s = match s.iter().position(|&c| c == 0) {
        Some(n) => &s[..n],
        None => s,
    };
    let (decode_invalid, max_depth) = {
        let g = cfg.lock();
        (
            g.decode_invalid,
            usize::try_from(g.decode_max_depth).unwrap_or(0),
        )
    };
    let mut p = Parser {
        s,
        pos: 0,
        decode_invalid,
        max_depth,
        depth: 0,
        slots: 1,
        items: Vec::new(),
    };
    let tok = p.next_token();
    p.value(tok)?;
    let tok = p.next_token();
    if tok.kind != Tok::End {
        return Err(p.unexpected("the end", &tok));
    }
    let mut b = Builder::new(lua);
    let mut result = Value::Nil;
    for item in std::mem::take(&mut p.items) {
        if let Some(v) = b.feed(item)? {
            result = v;
        }
    }
    one(result)
}

fn hex_value(c: u8) -> Option<u32> {
    (c as char).to_digit(16)
}

impl<'a> Parser<'a> {
    fn at(&self, i: usize) -> u8 {
        self.s.get(i).copied().unwrap_or(0)
    }

    fn token(&self, kind: Tok, index: usize) -> Token<'a> {
        Token {
            kind,
            index,
            err: "",
            num: 0.0,
            boolean: false,
            text: Cow::Borrowed(&[]),
        }
    }

    fn error_token(&self, err: &'static str) -> Token<'a> {
        Token {
            err,
            ..self.token(Tok::Error, self.pos)
        }
    }

    fn next_token(&mut self) -> Token<'a> {
        while matches!(self.at(self.pos), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let start = self.pos;
        let c = self.at(start);
        let single = match c {
            b'{' => Some(Tok::ObjBegin),
            b'}' => Some(Tok::ObjEnd),
            b'[' => Some(Tok::ArrBegin),
            b']' => Some(Tok::ArrEnd),
            b',' => Some(Tok::Comma),
            b':' => Some(Tok::Colon),
            0 => return self.token(Tok::End, start),
            _ => None,
        };
        if let Some(kind) = single {
            self.pos += 1;
            return self.token(kind, start);
        }
        let rest = &self.s[start..];
        if c == b'"' {
            return self.string_token();
        }
        if c == b'-' || c.is_ascii_digit() {
            if !self.decode_invalid && self.is_invalid_number() {
                return self.error_token("invalid number");
            }
            return self.number_token();
        }
        if rest.starts_with(b"true") {
            self.pos += 4;
            return Token {
                boolean: true,
                ..self.token(Tok::Bool, start)
            };
        }
        if rest.starts_with(b"false") {
            self.pos += 5;
            return Token {
                boolean: false,
                ..self.token(Tok::Bool, start)
            };
        }
        if rest.starts_with(b"null") {
            self.pos += 4;
            return self.token(Tok::Null, start);
        }
        if matches!(c, b'i' | b'I' | b'n' | b'N' | b'+')
            && self.decode_invalid
            && self.is_invalid_number()
        {
            return self.number_token();
        }
        self.error_token("invalid token")
    }

    /// lua-cjson's `json_is_invalid_number`: numbers JSON forbids but `strtod` reads.
    fn is_invalid_number(&self) -> bool {
        let mut p = self.pos;
        if self.at(p) == b'+' {
            return true;
        }
        if self.at(p) == b'-' {
            p += 1;
        }
        if self.at(p) == b'0' {
            let c2 = self.at(p + 1);
            return (c2 | 0x20) == b'x' || c2.is_ascii_digit();
        }
        if self.at(p) <= b'9' {
            return false;
        }
        let rest = self.s.get(p..).unwrap_or(&[]);
        let prefix = |w: &[u8]| rest.len() >= 3 && rest[..3].eq_ignore_ascii_case(w);
        prefix(b"inf") || prefix(b"nan")
    }

    fn number_token(&mut self) -> Token<'a> {
        let start = self.pos;
        match strtod(&self.s[start..]) {
            Some((n, used)) if used > 0 => {
                self.pos += used;
                Token {
                    num: n,
                    ..self.token(Tok::Num, start)
                }
            }
            _ => self.error_token("invalid number"),
        }
    }

    fn string_token(&mut self) -> Token<'a> {
        let start = self.pos;
        self.pos += 1;
        let body = self.pos;
        let mut buf: Option<Vec<u8>> = None;
        loop {
            let c = self.at(self.pos);
            if c == b'"' {
                break;
            }
            if c == 0 {
                return self.error_token("unexpected end of string");
            }
            if c == b'\\' {
                let out = buf.get_or_insert_with(|| self.s[body..self.pos].to_vec());
                let e = match self.s.get(self.pos + 1).copied().unwrap_or(0) {
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'/' => b'/',
                    b'b' => 8,
                    b't' => b'\t',
                    b'n' => b'\n',
                    b'f' => 12,
                    b'r' => b'\r',
                    b'u' => match unicode_escape(self.s, self.pos) {
                        Some((bytes, used)) => {
                            out.extend_from_slice(&bytes);
                            self.pos += used;
                            continue;
                        }
                        None => return self.error_token("invalid unicode escape code"),
                    },
                    _ => return self.error_token("invalid escape code"),
                };
                out.push(e);
                self.pos += 2;
                continue;
            }
            if let Some(out) = buf.as_mut() {
                out.push(c);
            }
            self.pos += 1;
        }
        let text = match buf {
            Some(b) => Cow::Owned(b),
            None => Cow::Borrowed(&self.s[body..self.pos]),
        };
        self.pos += 1;
        Token {
            text,
            ..self.token(Tok::Str, start)
        }
    }

    fn unexpected(&self, expected: &str, tok: &Token<'_>) -> Fail {
        let found = if tok.kind == Tok::Error {
            tok.err
        } else {
            tok.kind.name()
        };
        Fail::error(format!(
            "Expected {expected} but found {found} at character {}",
            tok.index + 1
        ))
    }

    /// lua-cjson's `json_decode_descend`: depth and Lua stack checks before a new table.
    fn descend(&mut self, slots: usize) -> Result<(), Fail> {
        self.depth += 1;
        if self.depth <= self.max_depth && self.slots + slots <= MAX_C_STACK {
            return Ok(());
        }
        Err(Fail::error(format!(
            "Found too many nested data structures ({}) at character {}",
            self.depth, self.pos
        )))
    }

    /// Parses one value whose first token is `tok`, iteratively (nesting is bounded only by
    /// the configured depth and the emulated Lua stack).
    fn value(&mut self, tok: Token<'a>) -> Result<(), Fail> {
        // Open containers: true for objects.
        let mut stack: Vec<bool> = Vec::new();
        let mut tok = tok;
        loop {
            // Parse a value starting at `tok`.
            match tok.kind {
                Tok::Str => self.items.push(Item::Str(tok.text)),
                Tok::Num => self.items.push(Item::Num(tok.num)),
                Tok::Bool => self.items.push(Item::Bool(tok.boolean)),
                Tok::Null => self.items.push(Item::Null),
                Tok::ArrBegin => {
                    self.descend(2)?;
                    self.items.push(Item::Open { map: false });
                    self.slots += 1;
                    let next = self.next_token();
                    if next.kind == Tok::ArrEnd {
                        self.close(false);
                    } else {
                        stack.push(false);
                        tok = next;
                        continue;
                    }
                }
                Tok::ObjBegin => {
                    self.descend(3)?;
                    self.items.push(Item::Open { map: true });
                    self.slots += 1;
                    let next = self.next_token();
                    if next.kind == Tok::ObjEnd {
                        self.close(true);
                    } else {
                        stack.push(true);
                        tok = self.object_key(next)?;
                        continue;
                    }
                }
                _ => return Err(self.unexpected("value", &tok)),
            }
            // A value is complete: continue its container, closing as many as end here.
            loop {
                let Some(&is_obj) = stack.last() else {
                    return Ok(());
                };
                let next = self.next_token();
                if is_obj {
                    self.slots = self.slots.saturating_sub(1); // the key, now set with its value
                    if next.kind == Tok::ObjEnd {
                        stack.pop();
                        self.close(true);
                        continue;
                    }
                    if next.kind != Tok::Comma {
                        return Err(self.unexpected("comma or object end", &next));
                    }
                    let key = self.next_token();
                    tok = self.object_key(key)?;
                } else {
                    if next.kind == Tok::ArrEnd {
                        stack.pop();
                        self.close(false);
                        continue;
                    }
                    if next.kind != Tok::Comma {
                        return Err(self.unexpected("comma or array end", &next));
                    }
                    tok = self.next_token();
                }
                break;
            }
        }
    }

    /// An object key (already read as `key`), its colon; returns the value's first token.
    fn object_key(&mut self, key: Token<'a>) -> Result<Token<'a>, Fail> {
        if key.kind != Tok::Str {
            return Err(self.unexpected("object key string", &key));
        }
        self.items.push(Item::Str(key.text));
        let colon = self.next_token();
        if colon.kind != Tok::Colon {
            return Err(self.unexpected("colon", &colon));
        }
        self.slots += 1; // the key, while its value is parsed
        Ok(self.next_token())
    }

    fn close(&mut self, _map: bool) {
        self.items.push(Item::Close);
        self.depth = self.depth.saturating_sub(1);
        self.slots = self.slots.saturating_sub(1);
    }
}

/// `\uXXXX` (with a surrogate pair when needed) at `at` (the backslash): UTF-8 bytes and the
/// escape's length, or None when lua-cjson rejects it.
fn unicode_escape(s: &[u8], at: usize) -> Option<(Vec<u8>, usize)> {
    let hex4 = |i: usize| -> Option<u32> {
        let mut v = 0;
        for k in 0..4 {
            v = (v << 4) | hex_value(*s.get(i + k)?)?;
        }
        Some(v)
    };
    let mut cp = hex4(at + 2)?;
    let mut used = 6;
    if cp & 0xF800 == 0xD800 {
        if cp & 0x400 != 0 {
            return None;
        }
        if s.get(at + 6) != Some(&b'\\') || s.get(at + 7) != Some(&b'u') {
            return None;
        }
        let low = hex4(at + 8)?;
        if low & 0xFC00 != 0xDC00 {
            return None;
        }
        cp = (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
        used = 12;
    }
    let ch = char::from_u32(cp)?;
    let mut buf = [0u8; 4];
    Some((ch.encode_utf8(&mut buf).as_bytes().to_vec(), used))
}

/// C's `strtod` on a byte string (no leading whitespace here): decimal with exponent,
/// `0x` hex (with optional fraction and `p` exponent), `inf`/`infinity`, `nan`/`nan(...)`.
/// Returns the value and the bytes used.
pub(crate) fn strtod(s: &[u8]) -> Option<(f64, usize)> {
    let mut i = 0;
    let neg = match s.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    let sign = if neg { -1.0 } else { 1.0 };
    let rest = &s[i..];
    let ci = |w: &[u8]| rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w);
    if ci(b"infinity") {
        return Some((sign * f64::INFINITY, i + 8));
    }
    if ci(b"inf") {
        return Some((sign * f64::INFINITY, i + 3));
    }
    if ci(b"nan") {
        let mut used = i + 3;
        if s.get(used) == Some(&b'(') {
            let mut j = used + 1;
            while s
                .get(j)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
            {
                j += 1;
            }
            if s.get(j) == Some(&b')') {
                used = j + 1;
            }
        }
        // glibc's strtod("nan") is a positive quiet NaN; "-nan" flips the sign bit.
        let nan = if neg { -f64::NAN } else { f64::NAN };
        return Some((nan, used));
    }
    if rest.len() >= 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x' {
        if let Some((v, used)) = hex_float(&rest[2..]) {
            return Some((sign * v, i + 2 + used));
        }
        // "0x" without hex digits: strtod reads just the "0".
        return Some((sign * 0.0, i + 1));
    }
    let mut j = i;
    let digits_start = j;
    while s.get(j).is_some_and(u8::is_ascii_digit) {
        j += 1;
    }
    let mut mantissa_digits = j - digits_start;
    if s.get(j) == Some(&b'.') {
        let f = j + 1;
        let mut k = f;
        while s.get(k).is_some_and(u8::is_ascii_digit) {
            k += 1;
        }
        mantissa_digits += k - f;
        if mantissa_digits > 0 {
            j = k;
        }
    }
    if mantissa_digits == 0 {
        return None;
    }
    if matches!(s.get(j), Some(b'e' | b'E')) {
        let mut k = j + 1;
        if matches!(s.get(k), Some(b'+' | b'-')) {
            k += 1;
        }
        let ds = k;
        while s.get(k).is_some_and(u8::is_ascii_digit) {
            k += 1;
        }
        if k > ds {
            j = k;
        }
    }
    let text = std::str::from_utf8(&s[..j]).ok()?;
    let text = text.strip_prefix('+').unwrap_or(text);
    let v: f64 = text.parse().ok()?;
    Some((v, j))
}

/// Hex digits with an optional fraction and binary exponent, after "0x".
fn hex_float(s: &[u8]) -> Option<(f64, usize)> {
    let mut i = 0;
    let mut v = 0.0f64;
    let mut any = false;
    while let Some(d) = s.get(i).and_then(|c| hex_value(*c)) {
        v = v * 16.0 + f64::from(d);
        i += 1;
        any = true;
    }
    if s.get(i) == Some(&b'.') {
        let mut k = i + 1;
        let mut scale = 1.0 / 16.0;
        let mut frac_any = false;
        while let Some(d) = s.get(k).and_then(|c| hex_value(*c)) {
            v += f64::from(d) * scale;
            scale /= 16.0;
            k += 1;
            frac_any = true;
        }
        if any || frac_any {
            i = k;
            any = true;
        }
    }
    if !any {
        return None;
    }
    if matches!(s.get(i), Some(b'p' | b'P')) {
        let mut k = i + 1;
        let neg = match s.get(k) {
            Some(b'-') => {
                k += 1;
                true
            }
            Some(b'+') => {
                k += 1;
                false
            }
            _ => false,
        };
        let ds = k;
        let mut e: i32 = 0;
        while let Some(c) = s.get(k).filter(|c| c.is_ascii_digit()) {
            e = e.saturating_mul(10).saturating_add(i32::from(c - b'0'));
            k += 1;
        }
        if k > ds {
            v *= 2f64.powi(if neg { -e } else { e });
            i = k;
        }
    }
    Some((v, i))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{lua, run};

    // Expected texts captured from redis-server 7.0.15 with EVAL.
    #[test]
    fn encode() {
        let l = lua();
        let cases = [
            ("return cjson.encode({1,2,3})", r#""[1,2,3]""#),
            ("return cjson.encode({})", r#""{}""#),
            ("return cjson.encode({1,2,nil,4})", r#""[1,2,null,4]""#),
            ("return cjson.encode({a=1})", r#""{\"a\":1}""#),
            ("return cjson.encode(0.1)", r#""0.1""#),
            ("return cjson.encode(1/3)", r#""0.33333333333333""#),
            ("return cjson.encode(-0)", r#""-0""#),
            ("return cjson.encode(2^53)", r#""9.007199254741e+15""#),
            ("return cjson.encode({[1e10]=1})", r#""{\"10000000000\":1}""#),
            ("return cjson.encode({[1.5]=1})", r#""{\"1.5\":1}""#),
            ("return cjson.encode({[0]=1})", r#""{\"0\":1}""#),
            ("return cjson.encode({1,2,[5]=3})", r#""[1,2,null,null,3]""#),
            ("local r = cjson.encode({[11]=1, [12]=cjson.encode_sparse_array(true)}) cjson.encode_sparse_array(false) return r", r#""{\"11\":1,\"12\":true}""#),
            ("return cjson.encode({[3]=1})", r#""[null,null,1]""#),
            ("return cjson.encode({['a']=cjson.null, b=false})", r#""{\"a\":null,\"b\":false}""#),
            ("return cjson.encode(cjson.decode('{\"x\":[]}'))", r#""{\"x\":{}}""#),
            ("return cjson.encode({{{{}}}})", r#""[[[{}]]]""#),
            (
                "return cjson.encode({a=1,b=2,c=3,d=4,e=5,f=6,g=7,hello=8,world=9})",
                r#""{\"a\":1,\"c\":3,\"b\":2,\"e\":5,\"d\":4,\"g\":7,\"f\":6,\"hello\":8,\"world\":9}""#,
            ),
        ];
        for (code, want) in cases {
            assert_eq!(run(&l, code), want, "{code}");
        }
        assert_eq!(
            super::super::test_util::bytes(
                &l,
                "return cjson.encode('a/b\"\\\\\\1\\127\\128\\t\\n\\r\\b\\f')"
            ),
            b"\"a\\/b\\\"\\\\\\u0001\\u007f\x80\\t\\n\\r\\b\\f\"".to_vec()
        );
    }

    #[test]
    fn encode_errors() {
        let l = lua();
        let cases = [
            (
                "return cjson.encode({[1]=1,[2]=2,[20]=3})",
                "Cannot serialise table: excessively sparse array",
            ),
            (
                "return cjson.encode(1/0)",
                "Cannot serialise number: must not be NaN or Inf",
            ),
            (
                "return cjson.encode({[true]=1})",
                "Cannot serialise boolean: table key must be a number or string",
            ),
            (
                "return cjson.encode(print)",
                "Cannot serialise function: type not supported",
            ),
            (
                "return cjson.encode()",
                "bad argument #1 to 'encode' (expected 1 argument)",
            ),
            (
                "return cjson.encode(1,2)",
                "bad argument #1 to 'encode' (expected 1 argument)",
            ),
            (
                "local t = {} t[1]=t return cjson.encode(t)",
                "Cannot serialise, excessive nesting (1001)",
            ),
        ];
        for (code, msg) in cases {
            assert_eq!(run(&l, code), format!("ERR user_script:1: {msg}"), "{code}");
        }
    }

    #[test]
    fn decode() {
        let l = lua();
        let cases = [
            ("return cjson.decode('[1,2,3.5]')", "{1,2,3.5}"),
            ("return cjson.decode('\"\\\\u00e9\"')", "\"é\""),
            ("return cjson.decode('\"\\\\ud83d\\\\ude00\"')", "\"😀\""),
            ("return cjson.decode('01')", "1"),
            ("return cjson.decode('+1')", "1"),
            ("return cjson.decode('0x10')", "16"),
            ("return cjson.decode(1)", "1"),
            ("return tostring(cjson.decode('nan'))", "\"nan\""),
            ("return type(cjson.decode('null'))", "\"userdata\""),
            ("return cjson.decode('  true ')", "true"),
            (
                "return cjson.decode('{\"a\":{\"b\":[1,{\"c\":2}]}}').a.b[2].c",
                "2",
            ),
        ];
        for (code, want) in cases {
            assert_eq!(run(&l, code), want, "{code}");
        }
    }

    #[test]
    fn decode_errors() {
        let l = lua();
        let cases = [
            (
                "return cjson.decode('')",
                "Expected value but found T_END at character 1",
            ),
            (
                "return cjson.decode('[1,2')",
                "Expected comma or array end but found T_END at character 5",
            ),
            (
                "return cjson.decode('{\"a\":1,}')",
                "Expected object key string but found T_OBJ_END at character 8",
            ),
            (
                "return cjson.decode('[1] x')",
                "Expected the end but found invalid token at character 5",
            ),
            (
                "return cjson.decode('\"\\\\ud83d\"')",
                "Expected value but found invalid unicode escape code at character 2",
            ),
            (
                "return cjson.decode('\"\\\\q\"')",
                "Expected value but found invalid escape code at character 2",
            ),
            (
                "return cjson.decode('\"abc')",
                "Expected value but found unexpected end of string at character 5",
            ),
            (
                "return cjson.decode({})",
                "bad argument #1 to 'decode' (string expected, got table)",
            ),
            (
                "return cjson.decode('tru')",
                "Expected value but found invalid token at character 1",
            ),
            (
                "return cjson.decode('{1:2}')",
                "Expected object key string but found T_NUMBER at character 2",
            ),
            (
                "return cjson.decode('{\"a\" 1}')",
                "Expected colon but found T_NUMBER at character 6",
            ),
            (
                "return cjson.decode('[1 2]')",
                "Expected comma or array end but found T_NUMBER at character 4",
            ),
            (
                "return cjson.decode(string.rep('[', 1001)..string.rep(']', 1001))",
                "Found too many nested data structures (1001) at character 1001",
            ),
            (
                "return cjson.decode('{\"a\":'..string.rep('[', 1000)..string.rep(']', 1000)..'}')",
                "Found too many nested data structures (1001) at character 1005",
            ),
        ];
        for (code, msg) in cases {
            assert_eq!(run(&l, code), format!("ERR user_script:1: {msg}"), "{code}");
        }
    }

    #[test]
    fn deep_nesting_matches_lua_stack_limits() {
        let l = lua();
        let code = |n: usize, open: &str, close: &str| {
            format!(
                "cjson.decode_max_depth(100000) local ok, e = pcall(cjson.decode, string.rep('{open}', {n})..'1'..string.rep('{close}', {n})) cjson.decode_max_depth(1000) return ok"
            )
        };
        assert_eq!(run(&l, &code(7998, "[", "]")), "true");
        assert_eq!(run(&l, &code(7999, "[", "]")), "false");
        assert_eq!(run(&l, &code(3999, "{\"a\":", "}")), "true");
        assert_eq!(run(&l, &code(4000, "{\"a\":", "}")), "false");
        let cyclic = |set: &str| {
            format!(
                "cjson.encode_max_depth(100000) local t = {{}} {set} local ok, e = pcall(cjson.encode, t) cjson.encode_max_depth(1000) return tostring(e)"
            )
        };
        assert!(run(&l, &cyclic("t[1] = t")).contains("Cannot serialise, excessive nesting (7998)"));
        assert!(run(&l, &cyclic("t.a = t")).contains("Cannot serialise, excessive nesting (4000)"));
    }

    #[test]
    fn config() {
        let l = lua();
        let cases = [
            ("return {cjson.encode_max_depth()}", "{1000}"),
            ("return {cjson.encode_max_depth(3.5)}", "{3}"),
            ("return {cjson.encode_max_depth(1000)}", "{1000}"),
            ("return {cjson.encode_number_precision()}", "{14}"),
            ("return {cjson.encode_sparse_array()}", "{false,2,10}"),
            ("return {cjson.encode_sparse_array(true, 3, 4)}", "{true,3,4}"),
            ("return {cjson.encode_sparse_array('off', 2, 10)}", "{false,2,10}"),
            ("return {cjson.encode_keep_buffer()}", "{true}"),
            ("return {cjson.encode_invalid_numbers('null')}", "{\"null\"}"),
            ("return cjson.encode(1/0)", "\"null\""),
            ("return {cjson.encode_invalid_numbers(true)}", "{true}"),
            ("return cjson.encode({0/0, -0/0, -1/0, {[1/0]=1}})", "\"[nan,nan,-inf,{\\\"inf\\\":1}]\""),
            ("return {cjson.encode_invalid_numbers(false)}", "{false}"),
            ("return {cjson.decode_invalid_numbers()}", "{true}"),
            ("local c = cjson.new() c.encode_max_depth(3) return {c.encode_max_depth(), cjson.encode_max_depth(), c._VERSION}", "{3,1000,\"2.1.0\"}"),
        ];
        for (code, want) in cases {
            assert_eq!(run(&l, code), want, "{code}");
        }
        let errs = [
            ("return cjson.encode_max_depth(0)", "bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)"),
            ("return cjson.encode_max_depth('x')", "bad argument #1 to 'encode_max_depth' (number expected, got string)"),
            ("return cjson.encode_number_precision(15)", "bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)"),
            ("return cjson.encode_sparse_array('x')", "bad argument #1 to 'encode_sparse_array' (invalid option 'x')"),
            ("return cjson.encode_sparse_array(nil, nil, -1)", "bad argument #1 to 'encode_sparse_array' (expected integer between 0 and 2147483647)"),
            ("return cjson.encode_max_depth(1,2)", "bad argument #2 to 'encode_max_depth' (found too many arguments)"),
        ];
        for (code, msg) in errs {
            assert_eq!(run(&l, code), format!("ERR user_script:1: {msg}"), "{code}");
        }
    }
}
