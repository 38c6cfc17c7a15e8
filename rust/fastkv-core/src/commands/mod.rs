//! Command families. Each module ends in `pub(crate) const COMMANDS: &[CommandSpec]`; the list
//! below is the whole command table.

use crate::command::CommandSpec;
use std::collections::HashMap;

pub mod config;
pub mod connection;
pub mod function;
pub mod hash;
pub mod keys;
pub mod list;
pub mod memory;
pub mod persistence;
pub mod pubsub;
pub mod scripting;
pub mod server;
pub mod set;
pub mod sort;
pub mod string;
pub mod transaction;
pub mod zset;

/// Every family's table, in one greppable list.
/// A `static`, not a `const`: rows are identified by address (INFO commandstats), and every
/// use of a `const` may get its own copy.
pub static FAMILIES: &[&[CommandSpec]] = &[
    connection::COMMANDS,
    config::COMMANDS,
    string::COMMANDS,
    keys::COMMANDS,
    server::COMMANDS,
    memory::COMMANDS,
    persistence::COMMANDS,
    hash::COMMANDS,
    set::COMMANDS,
    list::COMMANDS,
    zset::COMMANDS,
    sort::COMMANDS,
    scripting::COMMANDS,
    function::COMMANDS,
    pubsub::COMMANDS,
    transaction::COMMANDS,
];

/// The lookup table: lower-case name -> row.
pub fn table() -> HashMap<Vec<u8>, &'static CommandSpec> {
    let mut t = HashMap::new();
    for family in FAMILIES {
        for spec in family.iter() {
            t.insert(spec.name.as_bytes().to_vec(), spec);
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{READONLY, WRITE};
    use std::collections::HashSet;

    #[test]
    fn table_is_sane() {
        let mut names = HashSet::new();
        for family in FAMILIES {
            for spec in family.iter() {
                assert!(names.insert(spec.name), "duplicate command {}", spec.name);
                assert_eq!(
                    spec.name,
                    spec.name.to_ascii_lowercase(),
                    "{} not lower-case",
                    spec.name
                );
                assert_ne!(spec.arity, 0, "{} has arity 0", spec.name);
                assert!(
                    !(spec.has(WRITE) && spec.has(READONLY)),
                    "{} is both write and readonly",
                    spec.name
                );
                if spec.has(WRITE) && spec.subcommands.is_empty() {
                    assert!(
                        spec.keys.first > 0
                            || spec.keys_fn.is_some()
                            || spec.has(crate::command::ALL_KEYS),
                        "write command {} has no key positions",
                        spec.name
                    );
                }
                for sub in spec.subcommands {
                    assert!(
                        sub.name.starts_with(&format!("{}|", spec.name)),
                        "{}",
                        sub.name
                    );
                    assert_ne!(sub.arity, 0, "{} has arity 0", sub.name);
                }
            }
        }
    }
}
