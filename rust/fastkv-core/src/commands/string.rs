//! String commands.

use crate::command::{Args, CommandSpec, DENYOOM, FAST, KEY1, READONLY, WRITE};
use crate::dispatch::Ctx;
use crate::error::OpError;
use crate::types::{Str, Value};
use fastkv_resp::Frame;

/// `GET key` — the value, or null.
fn cmd_get(ctx: &mut Ctx<'_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    match ctx.value(key) {
        None => Ok(Frame::Null),
        Some(v) => Ok(Frame::Bulk(v.as_str()?.to_vec())),
    }
}

/// `SET key value` (options to come).
fn cmd_set(ctx: &mut Ctx<'_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let key = args.next_bytes()?;
    let val = args.next_bytes()?;
    args.finish()?;
    ctx.set(key, Value::Str(Str::from_bytes(val)), false);
    Ok(Frame::OK)
}

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("get", 2, READONLY | FAST, KEY1, cmd_get)
        .doc("string", "1.0.0", "Returns the string value of a key."),
    CommandSpec::new("set", -3, WRITE | DENYOOM, KEY1, cmd_set).doc(
        "string",
        "1.0.0",
        "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use fastkv_resp::Frame;

    #[test]
    fn get_set() {
        let mut s = Session::new();
        assert_eq!(s.run(&["GET", "k"]), Frame::Null);
        assert_eq!(s.run(&["SET", "k", "v"]), Frame::OK);
        assert_eq!(s.run(&["GET", "k"]), bulk("v"));
    }
}
