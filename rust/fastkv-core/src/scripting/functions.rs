//! Redis functions: libraries loaded with FUNCTION LOAD (`#!lua name=<lib>` code that calls
//! `redis.register_function`), called with FCALL / FCALL_RO.
//!
//! Libraries live in the shared Lua state next to EVAL scripts ([`super::Vm::libraries`]),
//! each keeping its code (FUNCTION LIST WITHCODE, FUNCTION DUMP) and its functions' callbacks.
//! Loading runs the library code with `redis` temporarily swapped for the load-time API
//! (`register_function`, `log`, the constants): touching `redis.call` while loading is an
//! error, as in Redis. Callbacks look `redis` up when they run, so they see the full API.

use super::{raise, Vm, FLAG_NAMES, INTERNAL_CHUNK};
use crate::error::OpError;
use mlua::{Function, Lua, MultiValue, Table, Value};
use std::sync::{Arc, Mutex};

/// One function of a library.
#[derive(Clone)]
pub struct FunctionDef {
    pub name: String,
    pub description: Option<String>,
    pub flags: u32,
    pub callback: Function,
}

/// One library.
#[derive(Clone)]
pub struct Library {
    pub name: String,
    pub code: Vec<u8>,
    pub functions: Vec<FunctionDef>,
}

/// Whether `s` is a valid library or function name: letters, digits, underscores.
fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The library name from the `#!lua name=<lib>` first line.
pub fn library_name(code: &[u8]) -> Result<String, OpError> {
    if !code.starts_with(b"#!") {
        return Err(OpError::err("Missing library metadata"));
    }
    let end = code.iter().position(|&b| b == b'\n').unwrap_or(code.len());
    let line = String::from_utf8_lossy(code.get(..end).unwrap_or(b""));
    let mut parts = line.split(' ').filter(|p| !p.is_empty());
    let invalid = || OpError::err("Invalid library metadata");
    if parts.next() != Some("#!lua") {
        return Err(invalid());
    }
    let mut name = None;
    for p in parts {
        match p.strip_prefix("name=") {
            Some(n) if name.is_none() => name = Some(n.to_string()),
            _ => return Err(invalid()),
        }
    }
    match name {
        Some(n) if valid_name(&n) => Ok(n),
        _ => Err(invalid()),
    }
}

impl Vm {
    /// FUNCTION LOAD: compiles and runs a library's code, collecting its functions. Does not
    /// install it (see [`Vm::install`]).
    pub(crate) fn load_library(&mut self, code: &[u8]) -> Result<Library, OpError> {
        let name = library_name(code)?;
        let body = super::strip_shebang(code);
        let registering = |e: String| OpError::msg(format!("Error registering functions: {e}"));
        let chunk = self
            .lua
            .load(&*body)
            .set_name("@user_function")
            .set_environment(self.proxy.clone())
            .into_function()
            .map_err(|e| {
                OpError::msg(format!(
                    "Error compiling function: {}",
                    super::lua_error_text(&e)
                ))
            })?;
        let collected: Arc<Mutex<Vec<FunctionDef>>> = Arc::default();
        let api = self
            .load_api(collected.clone())
            .map_err(|e| registering(format!("ERR {e}")))?;
        let saved: Value = self.real.raw_get("redis").map_err(lua_err)?;
        self.real.raw_set("redis", api).map_err(lua_err)?;
        let out: mlua::Result<MultiValue> = self.runner.call(chunk);
        self.real.raw_set("redis", saved).map_err(lua_err)?;
        let out = out.map_err(lua_err)?;
        let mut out = out.into_iter();
        if !matches!(out.next(), Some(Value::Boolean(true))) {
            let text = match out.next() {
                Some(Value::Table(t)) => match t.raw_get::<Value>("err") {
                    Ok(Value::String(s)) => s.to_string_lossy(),
                    _ => "ERR unknown error".to_string(),
                },
                _ => "ERR unknown error".to_string(),
            };
            return Err(registering(text));
        }
        let functions = collected.lock().map(|v| v.clone()).unwrap_or_default();
        if functions.is_empty() {
            return Err(OpError::err("No functions registered"));
        }
        Ok(Library {
            name,
            code: code.to_vec(),
            functions,
        })
    }

    /// Installs `lib` (replacing a library of the same name only if `replace`), checking
    /// that its function names are free.
    pub(crate) fn install(&mut self, lib: Library, replace: bool) -> Result<(), OpError> {
        if !replace && self.libraries.iter().any(|l| l.name == lib.name) {
            return Err(OpError::msg(format!(
                "Library '{}' already exists",
                lib.name
            )));
        }
        for f in &lib.functions {
            if self
                .libraries
                .iter()
                .filter(|l| l.name != lib.name)
                .any(|l| l.functions.iter().any(|g| g.name == f.name))
            {
                return Err(OpError::msg(format!("Function {} already exists", f.name)));
            }
        }
        match self.libraries.iter_mut().find(|l| l.name == lib.name) {
            Some(slot) => *slot = lib,
            None => self.libraries.push(lib),
        }
        Ok(())
    }

    /// The function named `name`.
    pub(crate) fn function(&self, name: &str) -> Option<&FunctionDef> {
        self.libraries
            .iter()
            .flat_map(|l| l.functions.iter())
            .find(|f| f.name == name)
    }

    /// The `redis` table library code sees while it loads.
    fn load_api(&self, collected: Arc<Mutex<Vec<FunctionDef>>>) -> mlua::Result<Table> {
        let lua = &self.lua;
        let api = lua.create_table()?;
        let real_redis: Table = self.real.raw_get("redis")?;
        for k in [
            "log",
            "LOG_DEBUG",
            "LOG_VERBOSE",
            "LOG_NOTICE",
            "LOG_WARNING",
            "REDIS_VERSION",
            "REDIS_VERSION_NUM",
        ] {
            api.raw_set(k, real_redis.raw_get::<Value>(k)?)?;
        }
        api.raw_set(
            "register_function",
            lua.create_function(move |lua, args: MultiValue| {
                let def = register_args(lua, args)?;
                let mut v = collected.lock().map_err(|_| raise("ERR internal error"))?;
                if v.iter().any(|f| f.name == def.name) {
                    return Err(raise("ERR Function already exists in the library"));
                }
                v.push(def);
                Ok(())
            })?,
        )?;
        let meta: Table = lua
            .load(
                r#"return {
  __index = function(_, k)
    error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
  end,
  __newindex = function() error('Attempt to modify a readonly table', 2) end,
  __metatable = false,
}"#,
            )
            .set_name(INTERNAL_CHUNK)
            .eval()?;
        api.set_metatable(Some(meta))?;
        Ok(api)
    }
}

fn lua_err(e: mlua::Error) -> OpError {
    OpError::msg(super::lua_error_text(&e))
}

/// Parses `redis.register_function`'s arguments (positional or named).
fn register_args(lua: &Lua, args: MultiValue) -> mlua::Result<FunctionDef> {
    let string_of = |v: &Value| -> Option<String> {
        match v {
            Value::String(s) => Some(s.to_string_lossy()),
            Value::Integer(_) | Value::Number(_) => lua
                .coerce_string(v.clone())
                .ok()
                .flatten()
                .map(|s| s.to_string_lossy()),
            _ => None,
        }
    };
    let (name, callback, description, flags) = match args.len() {
        2 => {
            let mut it = args.into_iter();
            let name = it.next().unwrap_or(Value::Nil);
            let Some(name) = string_of(&name) else {
                return Err(raise(
                    "ERR first argument to redis.register_function must be a string",
                ));
            };
            let Some(Value::Function(cb)) = it.next() else {
                return Err(raise(
                    "ERR second argument to redis.register_function must be a function",
                ));
            };
            (name, cb, None, 0)
        }
        1 => {
            let Some(Value::Table(t)) = args.into_iter().next() else {
                return Err(raise(
                    "ERR calling redis.register_function with a single argument is only \
                     applicable to Lua table (representing named arguments).",
                ));
            };
            let (mut name, mut cb, mut desc, mut flags) = (None, None, None, 0);
            for pair in t.pairs::<Value, Value>() {
                let (k, v) = pair?;
                let key = match &k {
                    Value::String(s) => s.to_string_lossy(),
                    _ => String::new(),
                };
                match key.as_str() {
                    "function_name" => match string_of(&v) {
                        Some(n) => name = Some(n),
                        None => {
                            return Err(raise(
                                "ERR function_name argument given to redis.register_function \
                                 must be a string",
                            ))
                        }
                    },
                    "description" => match string_of(&v) {
                        Some(d) => desc = Some(d),
                        None => {
                            return Err(raise(
                                "ERR description argument given to redis.register_function \
                                 must be a string",
                            ))
                        }
                    },
                    "callback" => match v {
                        Value::Function(f) => cb = Some(f),
                        _ => {
                            return Err(raise(
                                "ERR callback argument given to redis.register_function must \
                                 be a function",
                            ))
                        }
                    },
                    "flags" => {
                        let Value::Table(ft) = v else {
                            return Err(raise("ERR flags argument to redis.register_function must be a table representing function flags"));
                        };
                        for f in ft.sequence_values::<Value>() {
                            let f = f?;
                            let name = string_of(&f).unwrap_or_default();
                            match FLAG_NAMES.iter().find(|(n, _)| *n == name) {
                                Some((_, bit)) => flags |= bit,
                                None => return Err(raise("ERR unknown flag given")),
                            }
                        }
                    }
                    _ => {
                        return Err(raise(
                            "ERR unknown argument given to redis.register_function",
                        ))
                    }
                }
            }
            let Some(name) = name else {
                return Err(raise(
                    "ERR redis.register_function must get a function name argument",
                ));
            };
            let Some(cb) = cb else {
                return Err(raise(
                    "ERR redis.register_function must get a callback argument",
                ));
            };
            (name, cb, desc, flags)
        }
        _ => {
            return Err(raise(
                "ERR wrong number of arguments to redis.register_function",
            ))
        }
    };
    if !valid_name(&name) {
        // Redis 7.0 reports a bad function name with the library-name text.
        return Err(raise(
            "ERR Library names can only contain letters, numbers, or underscores(_) and must \
             be at least one character long",
        ));
    }
    Ok(FunctionDef {
        name,
        description,
        flags,
        callback,
    })
}

/// FUNCTION DUMP's payload: each library as opcode 0xf5 and its code as an RDB string, then
/// the RDB version and CRC-64, as Redis writes it.
pub fn dump(libs: &[Library]) -> Vec<u8> {
    use crate::rdb::{crc64::crc64, encoding::write_string, RDB_VERSION};
    let mut out = Vec::new();
    for l in libs {
        out.push(RDB_OPCODE_FUNCTION2);
        write_string(&mut out, &l.code);
    }
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// RDB opcode of a function library (Redis 7.0's `RDB_OPCODE_FUNCTION2`).
const RDB_OPCODE_FUNCTION2: u8 = 0xf5;

/// The library codes in a FUNCTION DUMP payload (Redis's payloads too: strings may be LZF).
pub fn undump(payload: &[u8]) -> Result<Vec<Vec<u8>>, OpError> {
    use crate::rdb::encoding::Reader;
    let (_, body) = crate::rdb::dump::verify(payload)
        .map_err(|_| OpError::err("DUMP payload version or checksum are wrong"))?;
    let mut rest: &[u8] = body;
    let mut codes = Vec::new();
    while !rest.is_empty() {
        let mut r = Reader::new(rest);
        let op = r
            .read_u8()
            .map_err(|_| OpError::err("given type is not a function"))?;
        if op != RDB_OPCODE_FUNCTION2 {
            return Err(OpError::err("given type is not a function"));
        }
        let code = r
            .read_string()
            .map_err(|_| OpError::err("payload version or checksum are wrong"))?
            .into_bytes();
        codes.push(code);
        rest = r.into_inner();
    }
    Ok(codes)
}

/// FUNCTION LIST's view of one library.
pub struct LibraryInfo {
    pub name: String,
    pub code: Vec<u8>,
    /// (name, description, flags)
    pub functions: Vec<(String, Option<String>, u32)>,
}

impl super::Scripting {
    /// FUNCTION LOAD [REPLACE]: answers the library name.
    pub fn function_load(&self, code: &[u8], replace: bool) -> Result<String, OpError> {
        let mut guard = self.vm.lock();
        let vm = super::vm_of(&mut guard)?;
        let lib = vm.load_library(code)?;
        let name = lib.name.clone();
        vm.install(lib, replace)?;
        Ok(name)
    }

    /// FCALL / FCALL_RO.
    pub fn fcall(
        &self,
        ctx: &mut crate::dispatch::Ctx<'_, '_>,
        name: &str,
        keys: &[&[u8]],
        args: &[&[u8]],
        ro_command: bool,
    ) -> Result<fastkv_resp::Frame, OpError> {
        // Checked before taking any lock, as the errors need no data.
        let flags = {
            let mut guard = self.vm.lock();
            let vm = super::vm_of(&mut guard)?;
            match vm.function(name) {
                Some(f) => f.flags,
                None => return Err(OpError::err("Function not found")),
            }
        };
        let no_writes = flags & super::FLAG_NO_WRITES != 0;
        if ro_command && !no_writes {
            return Err(OpError::err(
                "Can not execute a script with write flag using *_ro command.",
            ));
        }
        let inv = super::Invocation {
            name,
            kind: super::Kind::Function,
            keys,
            args,
            read_only: ro_command || no_writes,
            flags: Some(flags),
        };
        self.run(ctx, &inv, |vm| {
            vm.function(name)
                .map(|f| f.callback.clone())
                .ok_or_else(|| OpError::err("Function not found"))
        })
    }

    /// FUNCTION LIST's data.
    pub fn function_list(&self) -> Result<Vec<LibraryInfo>, OpError> {
        let mut guard = self.vm.lock();
        let vm = super::vm_of(&mut guard)?;
        Ok(vm
            .libraries
            .iter()
            .map(|l| LibraryInfo {
                name: l.name.clone(),
                code: l.code.clone(),
                functions: l
                    .functions
                    .iter()
                    .map(|f| (f.name.clone(), f.description.clone(), f.flags))
                    .collect(),
            })
            .collect())
    }

    /// FUNCTION DELETE.
    pub fn function_delete(&self, name: &str) -> Result<(), OpError> {
        let mut guard = self.vm.lock();
        let vm = super::vm_of(&mut guard)?;
        let before = vm.libraries.len();
        vm.libraries.retain(|l| l.name != name);
        if vm.libraries.len() == before {
            return Err(OpError::err("Library not found"));
        }
        Ok(())
    }

    /// FUNCTION FLUSH.
    pub fn function_flush(&self) {
        if let Some(vm) = self.vm.lock().as_mut() {
            vm.libraries.clear();
        }
    }

    /// FUNCTION DUMP.
    pub fn function_dump(&self) -> Result<Vec<u8>, OpError> {
        let mut guard = self.vm.lock();
        let vm = super::vm_of(&mut guard)?;
        Ok(dump(&vm.libraries))
    }

    /// FUNCTION RESTORE payload with a policy: "FLUSH", "APPEND" or "REPLACE". All or nothing.
    pub fn function_restore(&self, payload: &[u8], policy: &str) -> Result<(), OpError> {
        let codes = undump(payload)?;
        let mut guard = self.vm.lock();
        let vm = super::vm_of(&mut guard)?;
        let mut libs = Vec::new();
        for code in &codes {
            libs.push(vm.load_library(code)?);
        }
        let saved = vm.libraries.clone();
        if policy == "FLUSH" {
            vm.libraries.clear();
        }
        for lib in libs {
            if let Err(e) = vm.install(lib, policy == "REPLACE") {
                vm.libraries = saved;
                return Err(e);
            }
        }
        Ok(())
    }

    /// (libraries, functions) for FUNCTION STATS.
    pub fn function_counts(&self) -> (usize, usize) {
        match self.vm.lock().as_ref() {
            Some(vm) => (
                vm.libraries.len(),
                vm.libraries.iter().map(|l| l.functions.len()).sum(),
            ),
            None => (0, 0),
        }
    }
}
