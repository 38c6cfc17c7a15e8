//! Keyspace notifications (`notify-keyspace-events`): commands report what they did to which
//! key through [`crate::dispatch::Ctx::notify`], and the engine publishes it on
//! `__keyspace@<db>__:<key>` (message: the event) and `__keyevent@<db>__:<event>` (message:
//! the key), for the classes the configuration enables — as Redis's `notifyKeyspaceEvent`.
//!
//! The enabled classes are cached in an atomic on the engine, so a command pays one relaxed
//! load per event when notifications are off (the default).

use crate::engine::Engine;
use std::sync::atomic::Ordering;

/// `K`: publish on `__keyspace@<db>__:<key>`.
pub const KEYSPACE: u32 = 1 << 0;
/// `E`: publish on `__keyevent@<db>__:<event>`.
pub const KEYEVENT: u32 = 1 << 1;
/// `g`: generic commands (DEL, EXPIRE, RENAME...).
pub const GENERIC: u32 = 1 << 2;
/// `$`: string commands.
pub const STRING: u32 = 1 << 3;
/// `l`: list commands.
pub const LIST: u32 = 1 << 4;
/// `s`: set commands.
pub const SET: u32 = 1 << 5;
/// `h`: hash commands.
pub const HASH: u32 = 1 << 6;
/// `z`: sorted set commands.
pub const ZSET: u32 = 1 << 7;
/// `x`: a key expired (lazily or by the active cycle).
pub const EXPIRED: u32 = 1 << 8;
/// `e`: a key was evicted for maxmemory.
pub const EVICTED: u32 = 1 << 9;
/// `t`: stream commands.
pub const STREAM: u32 = 1 << 10;
/// `d`: module key types.
pub const MODULE: u32 = 1 << 11;
/// `n`: a key was created (not part of `A`).
pub const NEW: u32 = 1 << 12;
/// `m`: a read found no key (not part of `A`).
pub const KEY_MISS: u32 = 1 << 13;
/// `A`: `g$lshzxetd`.
pub const ALL: u32 =
    GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

/// The classes in the order Redis prints them (after `A`), with their letters.
const LETTERS: [(u32, char); 11] = [
    (GENERIC, 'g'),
    (STRING, '$'),
    (LIST, 'l'),
    (SET, 's'),
    (HASH, 'h'),
    (ZSET, 'z'),
    (EXPIRED, 'x'),
    (EVICTED, 'e'),
    (STREAM, 't'),
    (MODULE, 'd'),
    (NEW, 'n'),
];

/// Parses a `notify-keyspace-events` value; `None` for a character that names no class.
pub fn parse(s: &str) -> Option<u32> {
    let mut flags = 0;
    for ch in s.chars() {
        flags |= match ch {
            'A' => ALL,
            'K' => KEYSPACE,
            'E' => KEYEVENT,
            'm' => KEY_MISS,
            _ => LETTERS.iter().find(|(_, c)| *c == ch)?.0,
        };
    }
    Some(flags)
}

/// The canonical spelling CONFIG GET answers: `A` or the class letters, then `K`, `E`, `m`.
pub fn format(flags: u32) -> String {
    let mut out = String::new();
    let letters = if flags & ALL == ALL {
        out.push('A');
        &LETTERS[LETTERS.len() - 1..]
    } else {
        &LETTERS[..]
    };
    for (bit, ch) in letters {
        if flags & bit != 0 {
            out.push(*ch);
        }
    }
    for (bit, ch) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
        if flags & bit != 0 {
            out.push(ch);
        }
    }
    out
}

impl Engine {
    /// Publishes event `event` of class `class` on key `key` of database `db`, if that class
    /// is enabled.
    pub fn notify(&self, class: u32, event: &str, db: usize, key: &[u8]) {
        let flags = self.notify_flags.load(Ordering::Relaxed);
        if flags & class == 0 || flags & (KEYSPACE | KEYEVENT) == 0 {
            return;
        }
        if flags & KEYSPACE != 0 {
            let mut channel = format!("__keyspace@{db}__:").into_bytes();
            channel.extend_from_slice(key);
            self.publish(&channel, event.as_bytes());
        }
        if flags & KEYEVENT != 0 {
            let channel = format!("__keyevent@{db}__:{event}");
            self.publish(channel.as_bytes(), key);
        }
    }

    /// Publishes the `expired` event of each (db, key) deleted on expiry, in order.
    pub fn announce_expired(&self, keys: impl IntoIterator<Item = (usize, Box<[u8]>)>) {
        for (db, key) in keys {
            self.notify(EXPIRED, "expired", db, &key);
        }
    }

    /// Whether any event of `class` would be published (to skip building what only an event
    /// needs).
    pub fn notifies(&self, class: u32) -> bool {
        let flags = self.notify_flags.load(Ordering::Relaxed);
        flags & class != 0 && flags & (KEYSPACE | KEYEVENT) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_as_redis() {
        // Pairs checked against redis-server 7.0.15 (CONFIG SET, then CONFIG GET).
        for (set, get) in [
            ("KEA", "AKE"),
            ("Kg", "gK"),
            ("Exnm", "xnEm"),
            ("AKEm", "AKEm"),
            ("g$lshzxetdKE", "AKE"),
            ("", ""),
            ("Kgn", "gnK"),
            ("K", "K"),
        ] {
            assert_eq!(parse(set).map(format).as_deref(), Some(get), "{set}");
        }
        assert_eq!(parse("KEq"), None);
    }
}
