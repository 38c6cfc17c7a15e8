//! Value types, one file each, layered like Redis's `t_*.c`: the structure, its encodings and
//! their conversions, then the type API the commands use.

pub mod hash;
pub mod ldouble;
pub mod list;
pub mod listpack;
pub mod set;
pub mod string;
pub mod zset;

pub use hash::Hash;
pub use list::List;
pub use set::Set;
pub use string::Str;
pub use zset::ZSet;

use crate::error::OpError;

/// A stored value. The collections are boxed so that the enum (and so every keyspace entry)
/// stays as small as a [`Str`]: 16 bytes, against 48 with a `List` inline. The collection
/// variants need no tag word of their own: they take values of [`Str`]'s inline length byte
/// that no string uses (see [`string`]). Build one with `Value::from(collection)`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(Str),
    ZSet(Box<ZSet>),
    Hash(Box<Hash>),
    Set(Box<Set>),
    List(Box<List>),
}

// Every key pays for these bytes: a change of layout that grows them must be a decision.
const _: () = assert!(std::mem::size_of::<Str>() == 16);
const _: () = assert!(std::mem::size_of::<Value>() == 16);

impl From<Str> for Value {
    fn from(s: Str) -> Self {
        Value::Str(s)
    }
}

impl From<ZSet> for Value {
    fn from(z: ZSet) -> Self {
        Value::ZSet(Box::new(z))
    }
}

impl From<Hash> for Value {
    fn from(h: Hash) -> Self {
        Value::Hash(Box::new(h))
    }
}

impl From<Set> for Value {
    fn from(s: Set) -> Self {
        Value::Set(Box::new(s))
    }
}

impl From<List> for Value {
    fn from(l: List) -> Self {
        Value::List(Box::new(l))
    }
}

impl Value {
    /// TYPE's answer.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::ZSet(_) => "zset",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::List(_) => "list",
        }
    }

    /// OBJECT ENCODING's answer.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding_name(),
            Value::ZSet(z) => z.encoding_name(),
            Value::Hash(h) => h.encoding_name(),
            Value::Set(s) => s.encoding_name(),
            Value::List(l) => l.encoding_name(),
        }
    }

    /// The value as a string, or WRONGTYPE. String commands go through this (and
    /// [`Value::as_str_mut`]) so that new types only need a new arm here.
    pub fn as_str(&self) -> Result<&Str, OpError> {
        match self {
            Value::Str(s) => Ok(s),
            _ => Err(OpError::WrongType),
        }
    }

    pub fn as_str_mut(&mut self) -> Result<&mut Str, OpError> {
        match self {
            Value::Str(s) => Ok(s),
            _ => Err(OpError::WrongType),
        }
    }

    /// The value as a sorted set, or WRONGTYPE.
    pub fn as_zset(&self) -> Result<&ZSet, OpError> {
        match self {
            Value::ZSet(z) => Ok(&**z),
            _ => Err(OpError::WrongType),
        }
    }

    pub fn as_zset_mut(&mut self) -> Result<&mut ZSet, OpError> {
        match self {
            Value::ZSet(z) => Ok(&mut **z),
            _ => Err(OpError::WrongType),
        }
    }

    /// The value as a hash, or WRONGTYPE.
    pub fn as_hash(&self) -> Result<&Hash, OpError> {
        match self {
            Value::Hash(h) => Ok(&**h),
            _ => Err(OpError::WrongType),
        }
    }

    pub fn as_hash_mut(&mut self) -> Result<&mut Hash, OpError> {
        match self {
            Value::Hash(h) => Ok(&mut **h),
            _ => Err(OpError::WrongType),
        }
    }

    /// The value as a set, or WRONGTYPE.
    pub fn as_set(&self) -> Result<&Set, OpError> {
        match self {
            Value::Set(s) => Ok(&**s),
            _ => Err(OpError::WrongType),
        }
    }

    pub fn as_set_mut(&mut self) -> Result<&mut Set, OpError> {
        match self {
            Value::Set(s) => Ok(&mut **s),
            _ => Err(OpError::WrongType),
        }
    }

    /// The value as a list, or WRONGTYPE.
    pub fn as_list(&self) -> Result<&List, OpError> {
        match self {
            Value::List(l) => Ok(&**l),
            _ => Err(OpError::WrongType),
        }
    }

    pub fn as_list_mut(&mut self) -> Result<&mut List, OpError> {
        match self {
            Value::List(l) => Ok(&mut **l),
            _ => Err(OpError::WrongType),
        }
    }

    /// After a value was decoded from RDB bytes (RESTORE, loading a file): picks the encoding
    /// Redis would have after loading, given the current `*-max-listpack-*` limits.
    pub fn fit_loaded_encoding(&mut self, config: &crate::config::Config) {
        match self {
            Value::ZSet(z) => z.fit_loaded_encoding(zset::Limits::from_config(config)),
            Value::Hash(h) => h.fit_loaded_encoding(&hash::HashLimits::from_config(config)),
            Value::Set(s) => s.fit_loaded_encoding(config.set_max_intset_entries),
            Value::Str(_) | Value::List(_) => {}
        }
    }
}

/// A collection type a key can hold: created by its first write, deleted when a write empties
/// it, so no key ever holds an empty collection (see [`crate::dispatch::Ctx::update_collection`]).
pub trait Collection: Sized {
    fn empty() -> Self;
    fn is_empty(&self) -> bool;
    /// The collection held by `value`, or WRONGTYPE.
    fn of(value: &mut Value) -> Result<&mut Self, OpError>;
    fn into_value(self) -> Value;
}

impl Collection for Hash {
    fn empty() -> Self {
        Hash::new()
    }
    fn is_empty(&self) -> bool {
        Hash::is_empty(self)
    }
    fn of(value: &mut Value) -> Result<&mut Self, OpError> {
        value.as_hash_mut()
    }
    fn into_value(self) -> Value {
        Value::from(self)
    }
}

impl Collection for Set {
    fn empty() -> Self {
        Set::new()
    }
    fn is_empty(&self) -> bool {
        Set::is_empty(self)
    }
    fn of(value: &mut Value) -> Result<&mut Self, OpError> {
        value.as_set_mut()
    }
    fn into_value(self) -> Value {
        Value::from(self)
    }
}

#[cfg(test)]
mod size_tests {
    use super::*;
    use std::mem::size_of;

    /// The per-key layout: a regression here costs bytes on every key.
    #[test]
    fn layout_sizes() {
        assert_eq!(size_of::<string::SmallBytes>(), 24);
        assert_eq!(size_of::<Str>(), 16);
        assert_eq!(size_of::<Value>(), 16);
        assert_eq!(size_of::<Option<Value>>(), 16);
        assert_eq!(size_of::<Hash>(), 24);
        assert_eq!(size_of::<Set>(), 24);
        assert_eq!(size_of::<ZSet>(), 24);
        assert_eq!(size_of::<crate::keyspace::Entry>(), 32);
        // Inline key (24) + entry (32: value 16, expire_at, lru, and the u32 chain link in the padding after `lru`).
        assert_eq!(crate::dict::Dict::<crate::keyspace::Entry>::node_size(), 56);
    }

    #[test]
    fn short_strings_are_inline() {
        let s = Str::from_bytes(b"0123456789abcde");
        assert!(matches!(&s, Str::Inline(b) if b.len() == 15));
        assert_eq!(s.encoding_name(), "embstr");
        let s = Str::from_bytes(b"0123456789abcdef");
        assert!(matches!(&s, Str::Heap(_)));
        assert_eq!(s.encoding_name(), "embstr");
        assert_eq!(s.as_bytes().as_ref(), b"0123456789abcdef");
        let k = string::SmallBytes::new(b"0123456789abcdefghijkl");
        assert!(k.is_inline());
        assert!(!string::SmallBytes::new(&[b'x'; 23]).is_inline());
    }

    /// Each variant survives a round trip through the niche-packed layout.
    #[test]
    fn every_variant_keeps_its_identity() {
        let values = [
            Value::Str(Str::from_bytes(b"")),
            Value::Str(Str::from_bytes(b"abc")),
            Value::Str(Str::from_bytes(&[b'y'; 15])),
            Value::Str(Str::Int(i64::MAX)),
            Value::Str(Str::from_bytes(&[b'z'; 40])),
            Value::Str(Str::Raw(Box::new(b"raw".to_vec()))),
            Value::from(ZSet::default()),
            Value::from(Hash::new()),
            Value::from(Set::new()),
            Value::from(List::default()),
        ];
        let names = [
            "string", "string", "string", "string", "string", "string", "zset", "hash", "set",
            "list",
        ];
        for (v, name) in values.iter().zip(names) {
            assert_eq!(v.type_name(), name);
            assert_eq!(&v.clone(), v);
        }
        assert_eq!(values[2].as_str().map(Str::len), Ok(15));
        assert_eq!(values[3].as_str().map(Str::as_int), Ok(Some(i64::MAX)));
    }
}
