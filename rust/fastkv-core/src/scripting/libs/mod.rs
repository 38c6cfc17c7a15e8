//! The libraries Redis loads into every script's Lua state besides Lua's own: `cjson`,
//! `cmsgpack`, `struct` and `bit`, written here in Rust.
//!
//! Redis 7.0 links C libraries (lua-cjson 2.1.0, lua-cmsgpack 0.4.0, lua-struct 0.2, LuaBitOp
//! 1.0.2); scripts in the wild depend on their exact outputs and error texts, so each module
//! here reproduces the C behaviour observed on redis-server 7.0.15, quirks included (C casts of
//! out-of-range doubles, the Lua C stack limit that bounds nesting, `%.14g` numbers).
//!
//! How errors keep Redis's text. A C library raises errors with `luaL_error`, which prefixes the
//! position of the calling Lua code (`user_script:1: ...`), or `luaL_argerror`, which names the
//! function the way the caller spelled it (`bad argument #1 to 'tobit'`). The Rust functions
//! here are C functions to Lua, so both are read from the same debug information the C code
//! reads, and the full text is the message of the `mlua::Error::RuntimeError` they fail with
//! (see [`error_text`] for the engine's side).
//!
//! `mlua` can hold only about 8000 live references, so no code here keeps one reference per
//! element or per nesting level: decoders parse into plain Rust items first and build Lua
//! tables with [`Builder`], which parks open ancestors in a Lua table; multiple results are
//! capped at [`MAX_RESULTS`].

pub mod bit;
pub mod cjson;
pub mod cmsgpack;
pub mod structlib;

use std::borrow::Cow;

use mlua::{Function, Lua, MultiValue, Table, Value};

/// `LUAI_MAXCSTACK` of Lua 5.1: the number of stack slots a C function may use. The C
/// libraries' nesting and result limits are where `lua_checkstack` refuses to pass it.
pub(crate) const MAX_C_STACK: usize = 8000;

/// Installs `cjson`, `cmsgpack`, `struct` and `bit` as globals of `lua`.
pub fn register(lua: &Lua) -> mlua::Result<()> {
    let globals = lua.globals();
    globals.set("bit", bit::module(lua)?)?;
    globals.set("cjson", cjson::module(lua)?)?;
    globals.set("cmsgpack", cmsgpack::module(lua)?)?;
    globals.set("struct", structlib::module(lua)?)?;
    install_pcall_strings(lua)
}

/// `pcall` as scripts see it, with errors these libraries raise turned into their message
/// strings (C libraries raise strings; an `mlua` callback can only raise an error object).
/// Other error objects pass through unchanged.
const PCALL_LUA: &str = r#"
local rawpcall, conv = ...
local function fix(ok, ...)
  if ok then return ok, ... end
  return false, conv((...))
end
return function(...) return fix(rawpcall(...)) end
"#;

fn install_pcall_strings(lua: &Lua) -> mlua::Result<()> {
    let globals = lua.globals();
    let rawpcall: Value = globals.raw_get("pcall")?;
    if !matches!(rawpcall, Value::Function(_)) {
        return Ok(());
    }
    let conv = lua.create_function(|lua, v: Value| match &v {
        Value::Error(e) => match runtime_message(e) {
            Some(m) => Ok(Value::String(lua.create_string(m)?)),
            None => Ok(v),
        },
        _ => Ok(v),
    })?;
    let pcall: Function = lua
        .load(PCALL_LUA)
        .set_name("=pcall")
        .call((rawpcall, conv))?;
    globals.raw_set("pcall", pcall)
}

/// The text of a runtime error (what the libraries here raise) inside callback wrapping.
fn runtime_message(e: &mlua::Error) -> Option<&str> {
    match e {
        mlua::Error::RuntimeError(m) => Some(m),
        mlua::Error::CallbackError { cause, .. } | mlua::Error::WithContext { cause, .. } => {
            runtime_message(cause)
        }
        _ => None,
    }
}

// --------------------------------------------------------------------------
// Errors and results of library functions
// --------------------------------------------------------------------------

/// Why a library function failed, in the shape the C library would have raised it.
pub(crate) enum Fail {
    /// `luaL_error`: the message gets the calling line's position as prefix.
    Error(Vec<u8>),
    /// An error Lua's VM raises inside the C function (e.g. "table index is nil"): no prefix.
    Raw(Vec<u8>),
    /// `luaL_argerror(narg, msg)`.
    Arg(i32, Vec<u8>),
    /// An `mlua` failure (memory), passed through.
    Lua(mlua::Error),
}

impl From<mlua::Error> for Fail {
    fn from(e: mlua::Error) -> Self {
        Fail::Lua(e)
    }
}

impl Fail {
    pub(crate) fn error(msg: impl Into<Vec<u8>>) -> Self {
        Fail::Error(msg.into())
    }
    pub(crate) fn arg(narg: i32, msg: impl Into<Vec<u8>>) -> Self {
        Fail::Arg(narg, msg.into())
    }
}

/// What a library function returns: its results, in order.
pub(crate) type LibResult = Result<Vec<Value>, Fail>;

pub(crate) fn one(v: Value) -> LibResult {
    Ok(vec![v])
}

/// Most string or table results a function returns at once. Lua 5.1 allows a C function about
/// [`MAX_C_STACK`] results; `mlua` needs one reference per string or table result and has
/// about as many in all, so the cap is lower and reported with the C libraries' overflow
/// message.
pub(crate) const MAX_RESULTS: usize = 4000;

/// Most results of any kind a function returns at once: a little below the Lua limit, which
/// `pcall` (whose result needs one more slot) would otherwise hit.
pub(crate) const MAX_ALL_RESULTS: usize = 7900;

/// A Lua function running `f`, whose failures are Lua errors with the C library's text.
pub(crate) fn wrap<F>(lua: &Lua, f: F) -> mlua::Result<Function>
where
    F: Fn(&Lua, &[Value]) -> LibResult + Send + 'static,
{
    lua.create_function(move |lua, args: MultiValue| {
        let args = args.into_vec();
        match f(lua, &args) {
            Ok(v) => Ok(MultiValue::from_vec(v)),
            Err(Fail::Lua(e)) => Err(e),
            Err(Fail::Error(m)) => {
                let mut text = where_prefix(lua).into_bytes();
                text.extend_from_slice(&m);
                Err(runtime_error(text))
            }
            Err(Fail::Raw(m)) => Err(runtime_error(m)),
            Err(Fail::Arg(narg, m)) => {
                let mut text = where_prefix(lua).into_bytes();
                text.extend_from_slice(&arg_error_text(lua, narg, &m));
                Err(runtime_error(text))
            }
        }
    })
}

fn runtime_error(text: Vec<u8>) -> mlua::Error {
    mlua::Error::RuntimeError(String::from_utf8_lossy(&text).into_owned())
}

/// The text of an error raised by these libraries (or any Lua runtime error), as Redis would
/// show it: the message without `mlua`'s callback wrapping and traceback.
pub fn error_text(e: &mlua::Error) -> String {
    match e {
        mlua::Error::RuntimeError(m) => m.clone(),
        mlua::Error::CallbackError { cause, .. } => error_text(cause),
        other => other.to_string(),
    }
}

/// `luaL_where(L, 1)`: "chunk:line: " of the Lua code that called the running function.
fn where_prefix(lua: &Lua) -> String {
    lua.inspect_stack(1, |d| {
        let line = d.current_line()?;
        let src = d.source().short_src?.into_owned();
        Some(format!("{src}:{line}: "))
    })
    .flatten()
    .unwrap_or_default()
}

/// `luaL_argerror`'s text: the function is named as its caller spelled it.
fn arg_error_text(lua: &Lua, narg: i32, msg: &[u8]) -> Vec<u8> {
    let (name, what) = lua
        .inspect_stack(0, |d| {
            let n = d.names();
            (n.name.map(|s| s.into_owned()), n.name_what)
        })
        .unwrap_or((None, None));
    let name = name.unwrap_or_else(|| "?".to_string());
    let mut narg = narg;
    if what == Some("method") {
        narg -= 1;
        if narg == 0 {
            let mut out = format!("calling '{name}' on bad self (").into_bytes();
            out.extend_from_slice(msg);
            out.push(b')');
            return out;
        }
    }
    let mut out = format!("bad argument #{narg} to '{name}' (").into_bytes();
    out.extend_from_slice(msg);
    out.push(b')');
    out
}

// --------------------------------------------------------------------------
// Argument checks with the Lua 5.1 auxiliary library's semantics
// --------------------------------------------------------------------------

/// `luaL_typename`: the type of argument `i` (1-based), "no value" past the end.
pub(crate) fn type_name(args: &[Value], i: usize) -> &'static str {
    match arg(args, i) {
        None => "no value",
        Some(v) => value_type_name(v),
    }
}

pub(crate) fn value_type_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "nil",
        Value::Boolean(_) => "boolean",
        Value::Integer(_) | Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Table(_) => "table",
        Value::Function(_) => "function",
        Value::Thread(_) => "thread",
        _ => "userdata",
    }
}

pub(crate) fn arg(args: &[Value], i: usize) -> Option<&Value> {
    i.checked_sub(1).and_then(|j| args.get(j))
}

/// `luaL_typerror`.
pub(crate) fn type_error(args: &[Value], i: usize, expected: &str) -> Fail {
    Fail::arg(
        narg(i),
        format!("{expected} expected, got {}", type_name(args, i)),
    )
}

pub(crate) fn narg(i: usize) -> i32 {
    i32::try_from(i).unwrap_or(i32::MAX)
}

/// `lua_tonumber`: numbers, and strings Lua converts to numbers.
pub(crate) fn to_number(lua: &Lua, v: Option<&Value>) -> Option<f64> {
    match v {
        Some(Value::Number(n)) => Some(*n),
        Some(Value::Integer(i)) => Some(*i as f64),
        Some(v @ Value::String(_)) => lua.coerce_number(v.clone()).ok().flatten(),
        _ => None,
    }
}

/// `luaL_checknumber`.
pub(crate) fn check_number(lua: &Lua, args: &[Value], i: usize) -> Result<f64, Fail> {
    to_number(lua, arg(args, i)).ok_or_else(|| type_error(args, i, "number"))
}

/// `luaL_checkinteger` (a C cast of the number to `lua_Integer`).
pub(crate) fn check_integer(lua: &Lua, args: &[Value], i: usize) -> Result<i64, Fail> {
    check_number(lua, args, i).map(c_f64_to_i64)
}

/// `luaL_optinteger`.
pub(crate) fn opt_integer(lua: &Lua, args: &[Value], i: usize, def: i64) -> Result<i64, Fail> {
    match arg(args, i) {
        None | Some(Value::Nil) => Ok(def),
        Some(_) => check_integer(lua, args, i),
    }
}

/// `luaL_checklstring`: strings, and numbers converted the way Lua prints them.
pub(crate) fn check_bytes<'a>(args: &'a [Value], i: usize) -> Result<Cow<'a, [u8]>, Fail> {
    match arg(args, i) {
        Some(Value::String(s)) => Ok(Cow::Owned(s.as_bytes().to_vec())),
        Some(Value::Integer(n)) => Ok(Cow::Owned(fmt_g(*n as f64, 14).into_bytes())),
        Some(Value::Number(n)) => Ok(Cow::Owned(lua_number_text(*n).into_bytes())),
        _ => Err(type_error(args, i, "string")),
    }
}

/// How Lua 5.1 prints a number (`LUAI_NUMFFORMAT`, "%.14g").
pub(crate) fn lua_number_text(n: f64) -> String {
    fmt_g(n, 14)
}

// --------------------------------------------------------------------------
// C conversions the libraries rely on (x86-64 semantics)
// --------------------------------------------------------------------------

const TWO_63: f64 = 9_223_372_036_854_775_808.0;

/// `(int64_t)d` as x86-64 computes it: truncation, or `INT64_MIN` when out of range or NaN.
pub(crate) fn c_f64_to_i64(d: f64) -> i64 {
    if !(-TWO_63..TWO_63).contains(&d) {
        i64::MIN
    } else {
        d as i64
    }
}

/// `(int)d` as x86-64 computes it: truncation, or `INT_MIN` when out of range or NaN.
pub(crate) fn c_f64_to_i32(d: f64) -> i32 {
    if d.is_nan() || d >= 2_147_483_648.0 || d <= -2_147_483_649.0 {
        i32::MIN
    } else {
        d as i32
    }
}

/// `(uint64_t)d` as gcc compiles it on x86-64 (values from 2^63 go through a subtraction).
pub(crate) fn c_f64_to_u64(d: f64) -> u64 {
    if d.is_nan() || d < TWO_63 {
        c_f64_to_i64(d) as u64
    } else {
        (c_f64_to_i64(d - TWO_63) as u64) ^ (1u64 << 63)
    }
}

/// C's `printf("%.*g", prec, x)`.
pub(crate) fn fmt_g(x: f64, prec: usize) -> String {
    if x.is_nan() {
        return if x.is_sign_negative() { "-nan" } else { "nan" }.to_string();
    }
    if x.is_infinite() {
        return if x < 0.0 { "-inf" } else { "inf" }.to_string();
    }
    let p = prec.max(1);
    // The exponent after rounding to `p` significant digits decides the style.
    let e_form = format!("{:.*e}", p - 1, x);
    let (mantissa, exp) = match e_form.split_once('e') {
        Some((m, e)) => (m.to_string(), e.parse::<i32>().unwrap_or(0)),
        None => (e_form.clone(), 0),
    };
    let p_i = i32::try_from(p).unwrap_or(i32::MAX);
    if exp < -4 || exp >= p_i {
        let m = strip_zeros(&mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", exp.unsigned_abs())
    } else {
        let decimals = usize::try_from(p_i - 1 - exp).unwrap_or(0);
        strip_zeros(&format!("{x:.decimals$}")).to_string()
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

// --------------------------------------------------------------------------
// Building decoded Lua values
// --------------------------------------------------------------------------

/// One step of a decoded value, in the order the C decoder creates it.
pub(crate) enum Item<'a> {
    Nil,
    /// `cjson.null`: a NULL light userdata.
    Null,
    Bool(bool),
    Num(f64),
    Str(Cow<'a, [u8]>),
    /// A new table; array elements are set at 1, 2, ... and map entries alternate key, value.
    Open {
        map: bool,
    },
    Close,
}

/// The light userdata `cjson.null` is, and that cjson decodes `null` to.
pub(crate) fn null_value() -> Value {
    Value::LightUserData(mlua::LightUserData(std::ptr::null_mut()))
}

/// Builds Lua values from [`Item`]s, holding only the innermost open table (ancestors wait in
/// a Lua table), so nesting depth costs no `mlua` references.
pub(crate) struct Builder<'l> {
    lua: &'l Lua,
    frames: Vec<Frame>,
    cur: Option<Table>,
    key: Option<Value>,
    parked: Option<Table>,
}

struct Frame {
    map: bool,
    index: i64,
    have_key: bool,
}

impl<'l> Builder<'l> {
    pub(crate) fn new(lua: &'l Lua) -> Self {
        Builder {
            lua,
            frames: Vec::new(),
            cur: None,
            key: None,
            parked: None,
        }
    }

    /// Feeds one item; returns a finished top-level value.
    pub(crate) fn feed(&mut self, item: Item<'_>) -> mlua::Result<Option<Value>> {
        let v = match item {
            Item::Nil => Value::Nil,
            Item::Null => null_value(),
            Item::Bool(b) => Value::Boolean(b),
            Item::Num(n) => Value::Number(n),
            Item::Str(s) => Value::String(self.lua.create_string(&s)?),
            Item::Open { map } => {
                let t = self.lua.create_table()?;
                if let Some(parent) = self.cur.take() {
                    let depth = i64::try_from(self.frames.len()).unwrap_or(i64::MAX);
                    let parked = match &self.parked {
                        Some(p) => p.clone(),
                        None => {
                            let p = self.lua.create_table()?;
                            self.parked = Some(p.clone());
                            p
                        }
                    };
                    parked.raw_set(2 * depth - 1, parent)?;
                    parked.raw_set(2 * depth, self.key.take().unwrap_or(Value::Nil))?;
                }
                self.cur = Some(t);
                self.frames.push(Frame {
                    map,
                    index: 1,
                    have_key: false,
                });
                return Ok(None);
            }
            Item::Close => {
                let done = self.cur.take().map(Value::Table).unwrap_or(Value::Nil);
                self.frames.pop();
                if !self.frames.is_empty() {
                    let depth = i64::try_from(self.frames.len()).unwrap_or(i64::MAX);
                    if let Some(p) = &self.parked {
                        self.cur = Some(p.raw_get(2 * depth - 1)?);
                        let key: Value = p.raw_get(2 * depth)?;
                        self.key = Some(key);
                        p.raw_set(2 * depth - 1, Value::Nil)?;
                        p.raw_set(2 * depth, Value::Nil)?;
                    }
                }
                done
            }
        };
        self.deliver(v)
    }

    fn deliver(&mut self, v: Value) -> mlua::Result<Option<Value>> {
        let Some(frame) = self.frames.last_mut() else {
            return Ok(Some(v));
        };
        let Some(t) = &self.cur else {
            return Ok(None);
        };
        if !frame.map {
            t.raw_set(frame.index, v)?;
            frame.index += 1;
        } else if !frame.have_key {
            self.key = Some(v);
            frame.have_key = true;
        } else {
            t.raw_set(self.key.take().unwrap_or(Value::Nil), v)?;
            frame.have_key = false;
        }
        Ok(None)
    }
}

#[cfg(test)]
pub(crate) mod test_util {
    use mlua::{Lua, Value};

    /// A Lua state with the libraries, as scripts see it.
    pub(crate) fn lua() -> Lua {
        let lua = Lua::new();
        super::register(&lua).expect("register");
        lua
    }

    /// Runs `code` as a script chunk named like Redis's (`user_script`) and renders the first
    /// result (or the error message) as text.
    pub(crate) fn run(lua: &Lua, code: &str) -> String {
        match lua.load(code).set_name("@user_script").eval::<Value>() {
            Ok(v) => show(&v),
            Err(e) => format!("ERR {}", error_text(&e)),
        }
    }

    pub(crate) use super::error_text;

    /// Renders a value: strings in Rust-escaped form, tables as `{a,b,...}` of their array part.
    pub(crate) fn show(v: &Value) -> String {
        match v {
            Value::Nil => "nil".into(),
            Value::Boolean(b) => b.to_string(),
            Value::Integer(i) => i.to_string(),
            Value::Number(n) => super::fmt_g(*n, 17),
            Value::String(s) => format!("{:?}", String::from_utf8_lossy(&s.as_bytes())),
            Value::Table(t) => {
                let parts: Vec<String> = t
                    .clone()
                    .sequence_values::<Value>()
                    .map(|x| show(&x.unwrap_or(Value::Nil)))
                    .collect();
                format!("{{{}}}", parts.join(","))
            }
            other => other.type_name().to_string(),
        }
    }

    /// Runs `code` and returns the bytes of its string result.
    pub(crate) fn bytes(lua: &Lua, code: &str) -> Vec<u8> {
        match lua.load(code).set_name("@user_script").eval::<Value>() {
            Ok(Value::String(s)) => s.as_bytes().to_vec(),
            other => panic!("{code}: not a string: {other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_util::{lua, run};
    use super::*;

    #[test]
    fn printf_g() {
        assert_eq!(fmt_g(0.1, 14), "0.1");
        assert_eq!(fmt_g(1.0 / 3.0, 14), "0.33333333333333");
        assert_eq!(fmt_g(1e300, 14), "1e+300");
        assert_eq!(fmt_g(-0.0, 14), "-0");
        assert_eq!(fmt_g(9007199254740992.0, 14), "9.007199254741e+15");
        assert_eq!(fmt_g(100000000000005.0, 14), "1e+14");
        assert_eq!(fmt_g(1e-5, 14), "1e-05");
        assert_eq!(fmt_g(0.0001, 14), "0.0001");
        assert_eq!(fmt_g(123456789012345678.0, 14), "1.2345678901235e+17");
        assert_eq!(fmt_g(0.5f64.powi(20), 14), "9.5367431640625e-07");
        assert_eq!(fmt_g(100.0, 14), "100");
        assert_eq!(fmt_g(1e14, 14), "1e+14");
        assert_eq!(fmt_g(12345678901234.0, 14), "12345678901234");
        assert_eq!(fmt_g(2.5, 1), "2");
    }

    #[test]
    fn c_casts() {
        assert_eq!(c_f64_to_i64(1e300), i64::MIN);
        assert_eq!(c_f64_to_i64(-3.7), -3);
        assert_eq!(c_f64_to_i32(3e9), i32::MIN);
        assert_eq!(c_f64_to_u64(2f64.powi(64)), 0);
        assert_eq!(c_f64_to_u64(1e30), 0);
        assert_eq!(c_f64_to_u64(f64::NAN), 1 << 63);
        assert_eq!(c_f64_to_u64(2f64.powi(63)), 1 << 63);
    }

    #[test]
    fn error_positions_and_names() {
        let l = lua();
        assert_eq!(
            run(&l, "return bit.tobit()"),
            "ERR user_script:1: bad argument #1 to 'tobit' (number expected, got no value)"
        );
        assert_eq!(
            run(&l, "local f = bit.band return f('a')"),
            "ERR user_script:1: bad argument #1 to 'f' (number expected, got string)"
        );
        assert_eq!(
            run(&l, "return select(2, pcall(bit.band, 'a'))"),
            "\"bad argument #1 to '?' (number expected, got string)\""
        );
        assert_eq!(
            run(&l, "return select(2, pcall(cjson.decode, 'x'))"),
            "\"Expected value but found invalid token at character 1\""
        );
        assert_eq!(run(&l, "return select('#', pcall(cjson.encode, {}))"), "2");
        assert_eq!(
            run(&l, "return select(2, pcall(error, 'plain', 0))"),
            "\"plain\""
        );
        assert_eq!(
            run(&l, "return bit:tobit()"),
            "ERR user_script:1: calling 'tobit' on bad self (number expected, got table)"
        );
        assert_eq!(
            run(&l, "\nreturn cjson.decode('x')"),
            "ERR user_script:2: Expected value but found invalid token at character 1"
        );
    }
}
