//! Generic keyspace commands.

use crate::command::{Args, CommandSpec, ALL_ARGS, WRITE};
use crate::dispatch::Ctx;
use crate::error::OpError;
use fastkv_resp::Frame;

/// `DEL key [key ...]` — how many existed.
fn cmd_del(ctx: &mut Ctx<'_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let mut n = 0;
    for key in args.rest() {
        if ctx.remove(key).is_some() {
            n += 1;
        }
    }
    Ok(Frame::Integer(n))
}

pub(crate) const COMMANDS: &[CommandSpec] = &[CommandSpec::new(
    "del", -2, WRITE, ALL_ARGS, cmd_del,
)
.doc("generic", "1.0.0", "Deletes one or more keys.")];
