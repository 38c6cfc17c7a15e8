//! The libraries Redis loads into every script's Lua state besides Lua's own: `cjson`,
//! `cmsgpack`, `struct` and `bit`, written here in Rust.
