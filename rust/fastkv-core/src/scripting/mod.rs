//! Lua scripting: EVAL, EVALSHA, SCRIPT, FUNCTION and FCALL run Lua 5.1 (through `mlua`, with
//! Lua vendored) inside a sandbox, with the libraries Redis scripts rely on.

pub mod libs;
