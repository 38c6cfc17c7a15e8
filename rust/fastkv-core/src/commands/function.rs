//! Redis functions: FUNCTION LOAD|LIST|DELETE|FLUSH|DUMP|RESTORE|STATS|KILL|HELP, FCALL,
//! FCALL_RO. Libraries and their Lua side live in [`crate::scripting::functions`].

use crate::command::{
    Args, CommandSpec, ACL_SCRIPTING, ALLOW_BUSY, DENYOOM, LOADING, LOCKS_ITSELF, NOSCRIPT,
    NO_KEYS, READONLY, SKIP_MONITOR, STALE, WRITE,
};
use crate::commands::scripting::{eval_keys, help, keys_and_args};
use crate::dispatch::Ctx;
use crate::error::OpError;
use crate::scripting::FLAG_NAMES;
use fastkv_resp::Frame;

/// FCALL function numkeys [key ...] [arg ...]
fn cmd_fcall(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    fcall_generic(ctx, args, false)
}

/// FCALL_RO function numkeys [key ...] [arg ...]
///
/// Only functions flagged `no-writes` may be called this way.
fn cmd_fcall_ro(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    fcall_generic(ctx, args, true)
}

fn fcall_generic(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>, ro: bool) -> Result<Frame, OpError> {
    let name = String::from_utf8_lossy(args.next_bytes()?).into_owned();
    let (keys, argv) = keys_and_args(args)?;
    ctx.engine.scripting.fcall(ctx, &name, keys, argv, ro)
}

/// FUNCTION LOAD [REPLACE] function-code
///
/// Answers the library's name.
fn cmd_function_load(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let replace = args.remaining() > 1 && args.eat("REPLACE");
    let code = args.next_bytes()?;
    if !args.is_empty() {
        return Err(OpError::msg(format!(
            "Unknown option given: {}",
            String::from_utf8_lossy(args.next_bytes()?)
        )));
    }
    let name = ctx.engine.scripting.function_load(code, replace)?;
    Ok(Frame::bulk(name))
}

/// FUNCTION LIST [LIBRARYNAME library-name-pattern] [WITHCODE]
///
/// One map per library: name, engine, functions (name, description, flags), code.
fn cmd_function_list(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let mut with_code = false;
    let mut pattern: Option<&[u8]> = None;
    while let Some(a) = args.peek() {
        if args.eat("WITHCODE") {
            if with_code {
                return Err(OpError::err("Unknown argument withcode"));
            }
            with_code = true;
        } else if args.eat("LIBRARYNAME") {
            if pattern.is_some() {
                return Err(OpError::err("library name can be given once"));
            }
            match args.next_bytes() {
                Ok(p) => pattern = Some(p),
                Err(_) => return Err(OpError::err("library name argument was not given")),
            }
        } else {
            return Err(OpError::msg(format!(
                "Unknown argument {}",
                String::from_utf8_lossy(a)
            )));
        }
    }
    let libs = ctx.engine.scripting.function_list()?;
    let mut out = Vec::new();
    for lib in libs {
        if let Some(p) = pattern {
            if !crate::glob::glob_match(p, lib.name.as_bytes(), false) {
                continue;
            }
        }
        let functions = lib
            .functions
            .iter()
            .map(|(name, desc, flags)| {
                Frame::Map(vec![
                    (Frame::bulk("name"), Frame::bulk(name.as_str())),
                    (
                        Frame::bulk("description"),
                        desc.as_ref()
                            .map_or(Frame::Null, |d| Frame::bulk(d.as_str())),
                    ),
                    (
                        Frame::bulk("flags"),
                        Frame::Set(
                            FLAG_NAMES
                                .iter()
                                .filter(|(_, bit)| flags & bit != 0)
                                .map(|(n, _)| Frame::simple(n))
                                .collect(),
                        ),
                    ),
                ])
            })
            .collect();
        let mut entry = vec![
            (Frame::bulk("library_name"), Frame::bulk(lib.name.as_str())),
            (Frame::bulk("engine"), Frame::bulk("LUA")),
            (Frame::bulk("functions"), Frame::Array(functions)),
        ];
        if with_code {
            entry.push((Frame::bulk("library_code"), Frame::Bulk(lib.code)));
        }
        out.push(Frame::Map(entry));
    }
    Ok(Frame::Array(out))
}

/// FUNCTION DELETE library-name
fn cmd_function_delete(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let name = String::from_utf8_lossy(args.next_bytes()?).into_owned();
    ctx.engine.scripting.function_delete(&name)?;
    Ok(Frame::OK)
}

/// FUNCTION FLUSH [ASYNC|SYNC]
fn cmd_function_flush(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    if args.remaining() > 1 || (!args.is_empty() && !args.eat("ASYNC") && !args.eat("SYNC")) {
        return Err(OpError::err(
            "FUNCTION FLUSH only supports SYNC|ASYNC option",
        ));
    }
    ctx.engine.scripting.function_flush();
    Ok(Frame::OK)
}

/// FUNCTION DUMP
///
/// Every library as one payload for FUNCTION RESTORE.
fn cmd_function_dump(ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    Ok(Frame::Bulk(ctx.engine.scripting.function_dump()?))
}

/// FUNCTION RESTORE serialized-value [FLUSH|APPEND|REPLACE]
fn cmd_function_restore(ctx: &mut Ctx<'_, '_>, args: &mut Args<'_>) -> Result<Frame, OpError> {
    let payload = args.next_bytes()?;
    let policy = match args.next_bytes() {
        Err(_) => "APPEND",
        Ok(p) if p.eq_ignore_ascii_case(b"FLUSH") => "FLUSH",
        Ok(p) if p.eq_ignore_ascii_case(b"APPEND") => "APPEND",
        Ok(p) if p.eq_ignore_ascii_case(b"REPLACE") => "REPLACE",
        Ok(_) => {
            return Err(OpError::err(
                "Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
            ))
        }
    };
    ctx.engine.scripting.function_restore(payload, policy)?;
    Ok(Frame::OK)
}

/// FUNCTION STATS
///
/// The running function (none: a script runs only while this command would wait) and the
/// engine's library and function counts.
fn cmd_function_stats(ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    let (libs, funcs) = ctx.engine.scripting.function_counts();
    Ok(Frame::Map(vec![
        (Frame::bulk("running_script"), Frame::Null),
        (
            Frame::bulk("engines"),
            Frame::Map(vec![(
                Frame::bulk("LUA"),
                Frame::Map(vec![
                    (Frame::bulk("libraries_count"), Frame::Integer(libs as i64)),
                    (Frame::bulk("functions_count"), Frame::Integer(funcs as i64)),
                ]),
            )]),
        ),
    ]))
}

/// FUNCTION KILL
///
/// Stops the running function if it has not written.
fn cmd_function_kill(ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    ctx.engine.scripting.running.kill(true)?;
    Ok(Frame::OK)
}

const FUNCTION_HELP: &[&str] = &[
    "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
    "      in case of functions name collision with another library).",
    "HELP",
    "    Prints this help.",
];

/// FUNCTION HELP
fn cmd_function_help(_ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    Ok(help(FUNCTION_HELP))
}

/// Container rows answer only through their subcommands.
fn cmd_container(_ctx: &mut Ctx<'_, '_>, _args: &mut Args<'_>) -> Result<Frame, OpError> {
    Err(OpError::Syntax)
}

const FCALL_FLAGS: u32 = NOSCRIPT | STALE | SKIP_MONITOR | LOCKS_ITSELF;

const FUNCTION_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "function|delete",
        3,
        WRITE | NOSCRIPT,
        NO_KEYS,
        cmd_function_delete,
    )
    .acl(ACL_SCRIPTING)
    .doc("scripting", "7.0.0", "Deletes a library and its functions."),
    CommandSpec::new("function|dump", 2, NOSCRIPT, NO_KEYS, cmd_function_dump)
        .acl(ACL_SCRIPTING)
        .doc(
            "scripting",
            "7.0.0",
            "Dumps all libraries into a serialized binary payload.",
        ),
    CommandSpec::new(
        "function|flush",
        -2,
        WRITE | NOSCRIPT,
        NO_KEYS,
        cmd_function_flush,
    )
    .acl(ACL_SCRIPTING)
    .doc("scripting", "7.0.0", "Deletes all libraries and functions."),
    CommandSpec::new(
        "function|help",
        2,
        LOADING | STALE,
        NO_KEYS,
        cmd_function_help,
    )
    .acl(ACL_SCRIPTING)
    .doc(
        "scripting",
        "7.0.0",
        "Returns helpful text about the different subcommands.",
    ),
    CommandSpec::new(
        "function|kill",
        2,
        NOSCRIPT | ALLOW_BUSY,
        NO_KEYS,
        cmd_function_kill,
    )
    .acl(ACL_SCRIPTING)
    .doc(
        "scripting",
        "7.0.0",
        "Terminates a function during execution.",
    ),
    CommandSpec::new("function|list", -2, NOSCRIPT, NO_KEYS, cmd_function_list)
        .acl(ACL_SCRIPTING)
        .doc(
            "scripting",
            "7.0.0",
            "Returns information about all libraries.",
        ),
    CommandSpec::new(
        "function|load",
        -3,
        WRITE | DENYOOM | NOSCRIPT,
        NO_KEYS,
        cmd_function_load,
    )
    .acl(ACL_SCRIPTING)
    .doc("scripting", "7.0.0", "Creates a library."),
    CommandSpec::new(
        "function|restore",
        -3,
        WRITE | DENYOOM | NOSCRIPT,
        NO_KEYS,
        cmd_function_restore,
    )
    .acl(ACL_SCRIPTING)
    .doc(
        "scripting",
        "7.0.0",
        "Restores all libraries from a payload.",
    ),
    CommandSpec::new("function|stats", 2, NOSCRIPT, NO_KEYS, cmd_function_stats)
        .acl(ACL_SCRIPTING)
        .doc(
            "scripting",
            "7.0.0",
            "Returns information about a function during execution.",
        ),
];

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("fcall", -3, FCALL_FLAGS, NO_KEYS, cmd_fcall)
        .keys_fn(eval_keys)
        .doc("scripting", "7.0.0", "Invokes a function."),
    CommandSpec::new(
        "fcall_ro",
        -3,
        FCALL_FLAGS | READONLY,
        NO_KEYS,
        cmd_fcall_ro,
    )
    .keys_fn(eval_keys)
    .doc("scripting", "7.0.0", "Invokes a read-only function."),
    CommandSpec::new("function", -2, 0, NO_KEYS, cmd_container)
        .subcommands(FUNCTION_SUBCOMMANDS)
        .doc("scripting", "7.0.0", "A container for function commands."),
];

#[cfg(test)]
mod tests {
    use crate::testing::{bulk, err, int, Session};
    use crate::Frame;

    const LIB: &str = "#!lua name=mylib\n\
        redis.register_function('echo', function(keys, args) return args[1] end)\n\
        redis.register_function{function_name='get', callback=function(keys) \
        return redis.call('get', keys[1]) end, flags={'no-writes'}}";

    #[test]
    fn load_call_list_delete() {
        let mut s = Session::new();
        assert_eq!(s.run(&["FUNCTION", "LOAD", LIB]), bulk("mylib"));
        assert_eq!(
            s.run(&["FUNCTION", "LOAD", LIB]),
            err("ERR Library 'mylib' already exists")
        );
        assert_eq!(s.run(&["FUNCTION", "LOAD", "REPLACE", LIB]), bulk("mylib"));
        assert_eq!(s.run(&["FCALL", "echo", "0", "hi"]), bulk("hi"));
        s.run(&["SET", "k", "v"]);
        assert_eq!(s.run(&["FCALL_RO", "get", "1", "k"]), bulk("v"));
        assert_eq!(
            s.run(&["FCALL_RO", "echo", "0", "x"]),
            err("ERR Can not execute a script with write flag using *_ro command.")
        );
        assert_eq!(
            s.run(&["FCALL", "nope", "0"]),
            err("ERR Function not found")
        );
        let Frame::Array(list) = s.run(&["FUNCTION", "LIST"]) else {
            panic!("list")
        };
        assert_eq!(list.len(), 1);
        let dump = match s.run(&["FUNCTION", "DUMP"]) {
            Frame::Bulk(b) => b,
            other => panic!("{other:?}"),
        };
        assert_eq!(s.run(&["FUNCTION", "DELETE", "mylib"]), Frame::OK);
        assert_eq!(
            s.run(&["FUNCTION", "DELETE", "mylib"]),
            err("ERR Library not found")
        );
        let args: Vec<&[u8]> = vec![b"FUNCTION", b"RESTORE", &dump];
        assert_eq!(s.engine.execute(&mut s.client, &args), Frame::OK);
        assert_eq!(s.run(&["FCALL", "echo", "0", "back"]), bulk("back"));
        assert_eq!(
            s.engine.execute(&mut s.client, &args),
            err("ERR Library 'mylib' already exists")
        );
        let Frame::Map(stats) = s.run(&["FUNCTION", "STATS"]) else {
            panic!("stats")
        };
        assert_eq!(stats.len(), 2);
        assert_eq!(s.run(&["FUNCTION", "FLUSH"]), Frame::OK);
        assert_eq!(
            s.run(&["FCALL", "echo", "0"]),
            err("ERR Function not found")
        );
        assert_eq!(int(1), int(1));
    }

    #[test]
    fn load_errors() {
        let mut s = Session::new();
        assert_eq!(
            s.run(&["FUNCTION", "LOAD", "return 1"]),
            err("ERR Missing library metadata")
        );
        assert_eq!(
            s.run(&["FUNCTION", "LOAD", "#!lua name=e\nredis.call('ping')"]),
            err("ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'")
        );
        assert_eq!(
            s.run(&["FUNCTION", "LOAD", "#!lua name=e\nlocal x = 1"]),
            err("ERR No functions registered")
        );
        assert_eq!(
            s.run(&[
                "FUNCTION",
                "LOAD",
                "#!lua name=e\nredis.register_function('f', function() return y end)"
            ]),
            bulk("e")
        );
        assert_eq!(
            s.run(&["FCALL", "f", "0"]),
            err("ERR user_function:2: Script attempted to access nonexistent global variable 'y' script: f, on @user_function:2.")
        );
    }
}
