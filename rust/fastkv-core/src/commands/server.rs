//! Server commands: COMMAND, INFO, CONFIG, DBSIZE, TIME, DEBUG, SHUTDOWN...

use crate::command::{Args, CommandSpec, ALL_KEYS, FAST, READONLY};
use crate::dispatch::Ctx;
use crate::error::OpError;
use fastkv_resp::Frame;

/// `DBSIZE` — keys in the selected database.
fn cmd_dbsize(ctx: &mut Ctx<'_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    let db = ctx.db();
    Ok(Frame::Integer(ctx.ks.dbsize(db) as i64))
}

pub(crate) const COMMANDS: &[CommandSpec] = &[CommandSpec::new(
    "dbsize",
    1,
    READONLY | FAST | ALL_KEYS,
    crate::command::NO_KEYS,
    cmd_dbsize,
)
.doc(
    "server",
    "1.0.0",
    "Returns the number of keys in the database.",
)];
