//! Value bodies: one writer and one reader per value type, chosen by the RDB type byte.
//!
//! The DUMP payload and an RDB file's key entries share this layer: a type byte, then the body.
//! Adding a type means one `RDB_TYPE_*` arm in [`value_type`], [`write_body`] and
//! [`read_body`], each calling that type's pair of functions (`write_<type>` / `read_<type>`).

use super::encoding::{write_int_string, write_string, RdbString, Reader};
use super::{RdbError, TYPE_STRING};
use super::{TYPE_HASH, TYPE_HASH_LISTPACK, TYPE_SET, TYPE_SET_INTSET};
use super::{TYPE_LIST, TYPE_LIST_QUICKLIST, TYPE_LIST_QUICKLIST_2, TYPE_LIST_ZIPLIST};
use super::{TYPE_ZSET, TYPE_ZSET_2, TYPE_ZSET_LISTPACK};
use crate::types::listpack::{Entry, Listpack};
use crate::types::zset::{self, Item, ItemRef};
use crate::types::List;
use crate::types::{Hash, Set};
use crate::types::{Str, Value, ZSet};
use std::io::Read;

/// The RDB type byte fastkv writes for `value`.
pub fn value_type(value: &Value) -> u8 {
    match value {
        Value::Str(_) => TYPE_STRING,
        Value::ZSet(z) => match **z {
            ZSet::Listpack(_) => TYPE_ZSET_LISTPACK,
            ZSet::Skiplist(_) => TYPE_ZSET_2,
        },
        Value::Hash(h) => match **h {
            Hash::Listpack(_) => TYPE_HASH_LISTPACK,
            Hash::Table(_) => TYPE_HASH,
        },
        Value::Set(s) => match **s {
            Set::Intset(_) => TYPE_SET_INTSET,
            Set::Table(_) => TYPE_SET,
        },
        Value::List(_) => TYPE_LIST_QUICKLIST_2,
    }
}

/// Appends the body of `value` (without its type byte).
pub fn write_body(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Str(s) => write_str(out, s),
        Value::ZSet(z) => write_zset(out, z),
        Value::Hash(h) => write_hash(out, h),
        Value::Set(s) => write_set(out, s),
        Value::List(l) => write_list(out, l),
    }
}

/// Reads the body of a value of RDB type `ty`.
pub fn read_body<R: Read>(r: &mut Reader<R>, ty: u8) -> Result<Value, RdbError> {
    match ty {
        TYPE_STRING => read_str(r).map(Value::Str),
        TYPE_ZSET | TYPE_ZSET_2 | TYPE_ZSET_LISTPACK => read_zset(r, ty).map(Value::from),
        TYPE_HASH | TYPE_HASH_LISTPACK => read_hash(r, ty).map(Value::from),
        TYPE_SET | TYPE_SET_INTSET => read_set(r, ty).map(Value::from),
        TYPE_LIST | TYPE_LIST_ZIPLIST | TYPE_LIST_QUICKLIST | TYPE_LIST_QUICKLIST_2 => {
            read_list(r, ty).map(Value::from)
        }
        other => Err(RdbError::UnknownType(other)),
    }
}

// --- strings --------------------------------------------------------------------------------

fn write_str(out: &mut Vec<u8>, s: &Str) {
    match s {
        Str::Int(n) => write_int_string(out, *n),
        Str::Inline(b) => write_string(out, b),
        Str::Heap(b) => write_string(out, b),
        Str::Raw(v) => write_string(out, v),
    }
}

fn read_str<R: Read>(r: &mut Reader<R>) -> Result<Str, RdbError> {
    Ok(match r.read_string()? {
        RdbString::Int(n) => Str::Int(n),
        // The encoding Redis's `tryObjectEncoding` would pick after loading.
        RdbString::Bytes(b) => Str::from_vec(b),
    })
}

// --- sorted sets ----------------------------------------------------------------------------
//
// `zset listpack` (17): one string holding a listpack of member, score, member, score... in
// order, scores as Redis 7.0 writes them (integers when integral within ±2^62, else `%.17g`
// text) — the in-memory listpack itself, written as it is. `zset2` (5): a count, then member
// strings each followed by an 8-byte little-endian binary double, written
// from the highest item down, as Redis does. `zset` (3, read only): like 5 with scores as
// length-prefixed text (253 = NaN, 254 = +inf, 255 = -inf). The loaded set keeps the payload's
// encoding; the caller applies the current limits (`Value::fit_loaded_encoding`).

fn write_zset(out: &mut Vec<u8>, z: &ZSet) {
    match z {
        // The in-memory listpack is already the RDB body (scores as Redis writes them):
        // copied as it is.
        ZSet::Listpack(lp) => write_string(out, lp.as_bytes()),
        ZSet::Skiplist(_) => {
            super::encoding::write_len(out, z.len() as u64);
            if let Some(last) = z.len().checked_sub(1) {
                for it in z.iter_at(last, true) {
                    write_string(out, &it.member);
                    out.extend_from_slice(&it.score.to_le_bytes());
                }
            }
        }
    }
}

fn read_zset<R: Read>(r: &mut Reader<R>, ty: u8) -> Result<ZSet, RdbError> {
    let bad_score = RdbError::Corrupt("invalid sorted set score");
    let mut items: Vec<Item> = Vec::new();
    if ty == TYPE_ZSET_LISTPACK {
        let blob = r.read_string()?.into_bytes();
        let entries = super::listpack::decode(&blob)?;
        if entries.len() % 2 != 0 {
            return Err(RdbError::Corrupt("odd sorted set listpack"));
        }
        let mut it = entries.into_iter();
        while let (Some(m), Some(s)) = (it.next(), it.next()) {
            let score = match s {
                super::listpack::LpEntry::Int(n) => n as f64,
                super::listpack::LpEntry::Bytes(b) => {
                    crate::command::parse_float(&b).ok_or(RdbError::Corrupt("bad score"))?
                }
            };
            items.push(Item {
                member: m.into_bytes().into(),
                score,
            });
        }
    } else {
        let n = r.read_len()?;
        for _ in 0..n {
            let member = r.read_string()?.into_bytes();
            let score = if ty == TYPE_ZSET_2 {
                let b = r.read_bytes(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(&b);
                f64::from_le_bytes(a)
            } else {
                match r.read_u8()? {
                    253 => f64::NAN,
                    254 => f64::INFINITY,
                    255 => f64::NEG_INFINITY,
                    len => {
                        let text = r.read_bytes(u64::from(len))?;
                        crate::command::parse_float(&text).unwrap_or(f64::NAN)
                    }
                }
            };
            if score.is_nan() {
                return Err(bad_score);
            }
            items.push(Item {
                member: member.into(),
                score,
            });
        }
    }
    if items.is_empty() {
        return Err(RdbError::Corrupt("empty sorted set"));
    }
    let count = items.len();
    if ty == TYPE_ZSET_LISTPACK {
        items.sort_by(|a, b| zset::cmp_key(a.score, &a.member, b));
        let mut seen = std::collections::HashSet::with_capacity(count);
        if !items.iter().all(|it| seen.insert(&it.member)) {
            return Err(RdbError::Corrupt("duplicate sorted set member"));
        }
        // Rebuilt rather than adopted: the payload's order and score spellings are not
        // trusted, and the set must hold its scores in the form it writes them.
        return Ok(ZSet::from_sorted_listpack(items.iter().map(ItemRef::from)));
    }
    let z = ZSet::from_items_skiplist(items);
    if z.len() != count {
        return Err(RdbError::Corrupt("duplicate sorted set member"));
    }
    Ok(z)
}

// --- hashes ---------------------------------------------------------------------------------
//
// `hash listpack` (16): one string holding a listpack of field, value, field, value... in the
// hash's order. `hash` (4): a count, then field and value strings. We write each encoding in
// its own type, as Redis does. The loaded hash keeps the payload's encoding; the caller applies
// the current limits (`Value::fit_loaded_encoding`), which is where Redis's load-time
// conversions happen. Empty hashes and duplicate fields are corrupt.

fn write_hash(out: &mut Vec<u8>, h: &Hash) {
    match h {
        // The in-memory listpack is already the RDB body: copied as it is.
        Hash::Listpack(lp) => write_string(out, lp.as_bytes()),
        Hash::Table(_) => {
            super::encoding::write_len(out, h.len() as u64);
            for (f, v) in h.iter() {
                write_string(out, &f);
                write_string(out, &v);
            }
        }
    }
}

fn read_hash<R: Read>(r: &mut Reader<R>, ty: u8) -> Result<Hash, RdbError> {
    let mut pairs = Vec::new();
    if ty == TYPE_HASH_LISTPACK {
        let blob = r.read_string()?.into_bytes();
        let entries = super::listpack::decode(&blob)?;
        if entries.len() % 2 != 0 {
            return Err(RdbError::Corrupt("odd hash listpack"));
        }
        let mut it = entries.into_iter();
        while let (Some(f), Some(v)) = (it.next(), it.next()) {
            pairs.push((f.into_bytes(), v.into_bytes()));
        }
    } else {
        let n = r.read_len()?;
        for _ in 0..n {
            let f = r.read_string()?.into_bytes();
            let v = r.read_string()?.into_bytes();
            pairs.push((f, v));
        }
    }
    if pairs.is_empty() {
        return Err(RdbError::Corrupt("empty hash"));
    }
    let h = if ty == TYPE_HASH_LISTPACK {
        Hash::loaded_listpack(pairs)
    } else {
        Hash::loaded_table(pairs)
    };
    h.ok_or(RdbError::Corrupt("duplicate hash field"))
}

// --- sets -----------------------------------------------------------------------------------
//
// `intset` (11): one string holding an intset blob (see `rdb::intset`). `set` (2): a count,
// then member strings. As for hashes, the loaded set keeps the payload's encoding until
// `Value::fit_loaded_encoding`. Empty sets, duplicates and unsorted intsets are corrupt.

fn write_set(out: &mut Vec<u8>, s: &Set) {
    match s {
        Set::Intset(ints) => write_string(out, &super::intset::encode(ints)),
        Set::Table(_) => {
            super::encoding::write_len(out, s.len() as u64);
            for m in s.iter() {
                write_string(out, &m.as_bytes());
            }
        }
    }
}

fn read_set<R: Read>(r: &mut Reader<R>, ty: u8) -> Result<Set, RdbError> {
    let set = if ty == TYPE_SET_INTSET {
        let blob = r.read_string()?.into_bytes();
        Set::loaded_intset(super::intset::decode(&blob)?)
            .ok_or(RdbError::Corrupt("unsorted intset"))?
    } else {
        let n = r.read_len()?;
        let mut members = Vec::new();
        for _ in 0..n {
            members.push(r.read_string()?.into_bytes());
        }
        Set::loaded_table(members).ok_or(RdbError::Corrupt("duplicate set member"))?
    };
    if set.is_empty() {
        return Err(RdbError::Corrupt("empty set"));
    }
    Ok(set)
}

// --- lists ----------------------------------------------------------------------------------
//
// `quicklist2` (18), what Redis 7.0 writes: a node count, then per node a container kind
// (1 = plain: the string is one element; 2 = packed: the string is a listpack) and its string
// (LZF-compressed nodes come back decompressed from `read_string`). We write the list's own
// nodes (see `types::list`), packed, never compressed. Read only:
// `quicklist` (14, Redis 3.2-6.2: a node count, then one ziplist per node), `ziplist` (10: one
// ziplist) and `list` (1: a count, then strings). Empty nodes are skipped, as Redis does; an
// empty list is corrupt.

/// Quicklist node container kinds.
const CONTAINER_PLAIN: u64 = 1;
const CONTAINER_PACKED: u64 = 2;

fn write_list(out: &mut Vec<u8>, l: &List) {
    // The list's nodes are listpacks in Redis's format, split where Redis splits them: write
    // their bytes as they are.
    super::encoding::write_len(out, l.nodes().len() as u64);
    for node in l.nodes() {
        super::encoding::write_len(out, CONTAINER_PACKED);
        write_string(out, node.as_bytes());
    }
}

fn read_list<R: Read>(r: &mut Reader<R>, ty: u8) -> Result<List, RdbError> {
    let mut items: Vec<Vec<u8>> = Vec::new();
    match ty {
        TYPE_LIST => {
            let n = r.read_len()?;
            for _ in 0..n {
                items.push(r.read_string()?.into_bytes());
            }
        }
        TYPE_LIST_ZIPLIST => {
            let blob = r.read_string()?.into_bytes();
            items.extend(super::ziplist::decode(&blob)?);
        }
        TYPE_LIST_QUICKLIST => {
            let nodes = r.read_len()?;
            for _ in 0..nodes {
                let blob = r.read_string()?.into_bytes();
                items.extend(super::ziplist::decode(&blob)?);
            }
        }
        _ => {
            // quicklist2: adopt each packed node as it is (validated whole); a plain node (one
            // big element) becomes a node of its own.
            let nodes = r.read_len()?;
            let mut list_nodes = Vec::new();
            for _ in 0..nodes {
                let container = r.read_len()?;
                let blob = r.read_string()?.into_bytes();
                match container {
                    CONTAINER_PLAIN => {
                        list_nodes.push(Listpack::from_entries([Entry::Str(&blob)]));
                    }
                    CONTAINER_PACKED => list_nodes.push(
                        Listpack::from_bytes(blob)
                            .map_err(|_| RdbError::Corrupt("bad listpack"))?,
                    ),
                    _ => return Err(RdbError::Corrupt("unknown quicklist container")),
                }
            }
            let list = List::from_nodes(list_nodes);
            if list.is_empty() {
                return Err(RdbError::Corrupt("empty list"));
            }
            return Ok(list);
        }
    }
    if items.is_empty() {
        return Err(RdbError::Corrupt("empty list"));
    }
    Ok(List::from_items(items))
}
