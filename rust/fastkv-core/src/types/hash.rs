//! Hashes: field -> value maps of byte strings, in Redis 7.0's two encodings.
//!
//! - `listpack`: a [`Listpack`] of field, value, field, value… in insertion order, searched
//!   linearly — Redis's own bytes: one allocation for the whole hash, canonical integers stored
//!   as integers, the same reply order as Redis (HGETALL, HKEYS, HSCAN list fields in insertion
//!   order; HDEL closes the gap), and DUMP copies the bytes as they are. Used while the hash
//!   has at most `hash-max-listpack-entries` fields, no field or value longer than
//!   `hash-max-listpack-value` bytes, and the listpack stays under its safety size (1 GiB, as
//!   Redis's `lpSafeToAdd`).
//! - `hashtable`: a [`Dict`], past either threshold. Our own table rather than `HashMap`
//!   because HSCAN needs Redis's guarantee (every field present for the whole iteration is
//!   returned, even across resizes), which the reverse-binary cursor over [`Dict`]'s
//!   power-of-two buckets gives, and HRANDFIELD needs O(1) random sampling.
//!
//! Conversion is one-way, as in Redis: a hash that became a `hashtable` stays one even after
//! HDEL brings it back under the thresholds. The thresholds are read at each write from the
//! caller's [`HashLimits`] (CONFIG SET applies to later writes, as in Redis).
//!
//! Fields and values are read as [`EntryBytes`]: a borrowed slice, or an integer entry rendered
//! in place (no allocation); both deref to `[u8]`.
//!
//! Invariant: field names are unique; a listpack holds an even number of entries; a stored
//! hash is never empty (the commands delete the key when the last field goes).

use crate::dict::{hash_key, Dict};
use crate::types::listpack::{Entry, EntryBytes, Listpack};

/// The encoding thresholds, from `hash-max-listpack-entries` / `hash-max-listpack-value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashLimits {
    /// Most fields a `listpack` hash may hold.
    pub max_entries: usize,
    /// Longest field or value (bytes) a `listpack` hash may hold.
    pub max_value: usize,
}

impl Default for HashLimits {
    /// Redis 7.0.15's compiled-in defaults (what `CONFIG GET` answers with no config file).
    fn default() -> Self {
        HashLimits {
            max_entries: 512,
            max_value: 64,
        }
    }
}

impl HashLimits {
    pub fn from_config(c: &crate::config::Config) -> Self {
        HashLimits {
            max_entries: c.hash_max_listpack_entries,
            max_value: c.hash_max_listpack_value,
        }
    }
}

/// A field or value as read from a hash.
pub type HashStr<'a> = EntryBytes<'a>;

/// A hash value.
pub enum Hash {
    /// Small: field, value, field, value… in insertion order.
    Listpack(Listpack),
    /// Big: a hash table from field to value.
    Table(Box<Dict<Box<[u8]>>>),
}

impl Default for Hash {
    fn default() -> Self {
        Hash::new()
    }
}

impl Hash {
    /// An empty `listpack` hash (the caller fills it before storing it).
    pub fn new() -> Self {
        Hash::Listpack(Listpack::new())
    }

    pub fn len(&self) -> usize {
        match self {
            Hash::Listpack(lp) => lp.len() / 2,
            Hash::Table(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// OBJECT ENCODING's answer.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            Hash::Listpack(_) => "listpack",
            Hash::Table(_) => "hashtable",
        }
    }

    pub fn get(&self, field: &[u8]) -> Option<HashStr<'_>> {
        match self {
            Hash::Listpack(lp) => {
                let f = lp.find(None, field, 1)?;
                lp.get(lp.next(f)?).map(Entry::bytes)
            }
            Hash::Table(d) => d.get(hash_key(field), field).map(|v| borrowed(v)),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Sets `field` to `value`; returns true if the field is new. Converts to `hashtable` first
    /// if the field or value is longer than the limit, and after if the count passes it —
    /// Redis 7.0's `hashTypeSet`, which checks lengths on updates too (HINCRBYFLOAT's long
    /// result converts). A listpack that would pass its safety size converts too.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: &HashLimits) -> bool {
        let too_long = field.len() > limits.max_value || value.len() > limits.max_value;
        if too_long
            || matches!(self, Hash::Listpack(lp) if !lp.safe_to_add(field.len() + value.len()))
        {
            self.convert_to_table();
        }
        let new = match self {
            Hash::Listpack(lp) => match lp.find(None, field, 1).and_then(|f| lp.next(f)) {
                Some(v) => {
                    lp.replace(v, value);
                    false
                }
                None => {
                    lp.push(field);
                    lp.push(value);
                    true
                }
            },
            Hash::Table(d) => d.insert(hash_key(field), field, value.into()).is_none(),
        };
        if self.len() > limits.max_entries {
            self.convert_to_table();
        }
        new
    }

    /// Removes `field`; returns whether it was there. Never converts back.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Listpack(lp) => match lp.find(None, field, 1) {
                Some(f) => {
                    lp.remove_range(f, 2);
                    true
                }
                None => false,
            },
            Hash::Table(d) => d.remove(hash_key(field), field).is_some(),
        }
    }

    /// Every (field, value), in listpack order or table order.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (HashStr<'_>, HashStr<'_>)> + '_> {
        match self {
            Hash::Listpack(lp) => Box::new(lp.pairs().map(|(f, v)| (f.bytes(), v.bytes()))),
            Hash::Table(d) => Box::new(d.iter().map(|(f, v)| (borrowed(f), borrowed(v)))),
        }
    }

    /// A uniformly random (field, value) of a listpack; a table's
    /// [`Dict::random_entry`]. `None` when empty. `rnd` supplies random numbers.
    pub fn random_pair(&self, mut rnd: impl FnMut() -> u64) -> Option<(HashStr<'_>, HashStr<'_>)> {
        match self {
            Hash::Listpack(lp) => {
                let n = self.len();
                if n == 0 {
                    return None;
                }
                let i = (rnd() % n as u64) as usize;
                let f = lp.pos(2 * i)?;
                let v = lp.next(f)?;
                Some((lp.get(f)?.bytes(), lp.get(v)?.bytes()))
            }
            Hash::Table(d) => d.random_entry(rnd).map(|(f, v)| (borrowed(f), borrowed(v))),
        }
    }

    /// One HSCAN step: a listpack is returned whole with the final cursor 0 (as Redis does
    /// for its compact encodings); a table visits one bucket per [`Dict::scan_step`].
    pub fn scan_step(&self, cursor: u64, mut f: impl FnMut(&[u8], &[u8])) -> u64 {
        match self {
            Hash::Listpack(lp) => {
                for (k, val) in lp.pairs() {
                    f(&k.bytes(), &val.bytes());
                }
                0
            }
            Hash::Table(d) => d.scan_step(cursor, |k, val| f(k, val)),
        }
    }

    /// Moves a listpack's pairs into a table (no-op for a table).
    pub fn convert_to_table(&mut self) {
        if let Hash::Listpack(lp) = self {
            let mut d = Dict::new();
            for (f, val) in lp.pairs() {
                let f = f.bytes();
                d.insert_new(hash_key(&f), Box::from(&*f), Box::from(&*val.bytes()));
            }
            *self = Hash::Table(Box::new(d));
        }
    }

    /// A `hashtable` hash of `pairs`, as an RDB `hash` (type 4) body gives them; `None` on a
    /// duplicate field. Follow with [`Hash::fit_loaded_encoding`].
    pub fn loaded_table(pairs: Vec<(Vec<u8>, Vec<u8>)>) -> Option<Hash> {
        Self::table_from(pairs).map(|d| Hash::Table(Box::new(d)))
    }

    /// A `listpack` hash of `pairs`, as an RDB `hash listpack` (type 16) body gives them;
    /// `None` on a duplicate field. Follow with [`Hash::fit_loaded_encoding`].
    pub fn loaded_listpack(pairs: Vec<(Vec<u8>, Vec<u8>)>) -> Option<Hash> {
        Self::listpack_from(pairs)
    }

    /// Picks the encoding Redis 7.0 gives a hash it has just loaded: a `hash` body (loaded
    /// here as a table) becomes a listpack if the count and every length are within the
    /// limits; a `hash listpack` body stays one unless the count is over the limit (lengths
    /// are not rechecked). Only for freshly decoded values: elsewhere conversion is one-way.
    pub fn fit_loaded_encoding(&mut self, limits: &HashLimits) {
        match self {
            Hash::Listpack(_) => {
                if self.len() > limits.max_entries {
                    self.convert_to_table();
                }
            }
            Hash::Table(d) => {
                let small = d.len() <= limits.max_entries
                    && d.iter()
                        .all(|(f, v)| f.len() <= limits.max_value && v.len() <= limits.max_value);
                if small {
                    let mut lp = Listpack::new();
                    for (f, v) in d.iter() {
                        lp.push(f);
                        lp.push(&**v);
                    }
                    *self = Hash::Listpack(lp);
                }
            }
        }
    }

    /// A listpack of `pairs` in their order; `None` on a duplicate field.
    fn listpack_from(pairs: Vec<(Vec<u8>, Vec<u8>)>) -> Option<Hash> {
        // Duplicates are found through a table whatever the size, so a corrupt payload with
        // many fields does not cost a quadratic scan.
        let mut seen: Dict<()> = Dict::new();
        let mut out = Listpack::new();
        for (f, v) in pairs {
            let h = hash_key(&f);
            if seen.get(h, &f).is_some() {
                return None;
            }
            out.push(&f[..]);
            out.push(&v[..]);
            seen.insert_new(h, f.into_boxed_slice(), ());
        }
        Some(Hash::Listpack(out))
    }

    fn table_from(pairs: Vec<(Vec<u8>, Vec<u8>)>) -> Option<Dict<Box<[u8]>>> {
        let mut d = Dict::new();
        for (f, v) in pairs {
            let h = hash_key(&f);
            if d.get(h, &f).is_some() {
                return None;
            }
            d.insert_new(h, f.into_boxed_slice(), v.into_boxed_slice());
        }
        Some(d)
    }
}

/// A table's bytes as a [`HashStr`].
fn borrowed(b: &[u8]) -> HashStr<'_> {
    EntryBytes::Borrowed(b)
}

impl Clone for Hash {
    fn clone(&self) -> Self {
        match self {
            Hash::Listpack(v) => Hash::Listpack(v.clone()),
            Hash::Table(d) => {
                let mut out = Dict::new();
                for (f, v) in d.iter() {
                    out.insert_new(hash_key(f), f.into(), v.clone());
                }
                Hash::Table(Box::new(out))
            }
        }
    }
}

impl PartialEq for Hash {
    /// Same encoding and same content (order does not matter).
    fn eq(&self, other: &Self) -> bool {
        self.encoding_name() == other.encoding_name()
            && self.len() == other.len()
            && self.iter().all(|(f, v)| other.get(&f) == Some(v))
    }
}

impl std::fmt::Debug for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in self.iter() {
            m.entry(&String::from_utf8_lossy(&k), &String::from_utf8_lossy(&v));
        }
        m.finish()?;
        write!(f, " ({})", self.encoding_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn limits(max_entries: usize, max_value: usize) -> HashLimits {
        HashLimits {
            max_entries,
            max_value,
        }
    }

    fn content(h: &Hash) -> BTreeMap<Vec<u8>, Vec<u8>> {
        h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect()
    }

    proptest! {
        /// Random writes against a model map: the content always matches, and the encoding is
        /// `listpack` exactly until a write first exceeds a threshold, then `hashtable` for
        /// good (deletes never convert back).
        #[test]
        fn writes_match_a_model_and_the_thresholds(
            ops in proptest::collection::vec(
                (any::<bool>(), 0u8..24, 0usize..12), 0..80),
            max_entries in 0usize..12,
            max_value in 0usize..10,
        ) {
            let lim = limits(max_entries, max_value);
            let mut h = Hash::new();
            let mut model = BTreeMap::new();
            let mut should_be_table = false;
            for (is_set, field, vlen) in ops {
                let field = format!("f{field}").into_bytes();
                if is_set {
                    let value = vec![b'v'; vlen];
                    if field.len() > max_value || vlen > max_value {
                        should_be_table = true;
                    }
                    let new = h.set(&field, &value, &lim);
                    prop_assert_eq!(new, model.insert(field, value).is_none());
                    if model.len() > max_entries {
                        should_be_table = true;
                    }
                } else {
                    prop_assert_eq!(h.remove(&field), model.remove(&field).is_some());
                }
                prop_assert_eq!(&content(&h), &model);
                prop_assert_eq!(h.len(), model.len());
                let want = if should_be_table { "hashtable" } else { "listpack" };
                prop_assert_eq!(h.encoding_name(), want);
            }
            // A table converted from the listpack, and a full scan of it, see the same pairs.
            let mut t = h.clone();
            t.convert_to_table();
            prop_assert_eq!(&content(&t), &model);
            let mut scanned = BTreeMap::new();
            let mut cursor = 0;
            loop {
                cursor = t.scan_step(cursor, |f, v| {
                    scanned.insert(f.to_vec(), v.to_vec());
                });
                if cursor == 0 {
                    break;
                }
            }
            prop_assert_eq!(&scanned, &model);
        }

        /// Loading picks the encoding Redis picks for each RDB body type, keeping content.
        #[test]
        fn loading_follows_the_thresholds(
            n in 1usize..20, vlen in 0usize..10, max_entries in 0usize..20, max_value in 0usize..10,
        ) {
            let lim = limits(max_entries, max_value);
            let pairs: Vec<(Vec<u8>, Vec<u8>)> =
                (0..n).map(|i| (i.to_string().into_bytes(), vec![b'x'; vlen])).collect();
            let model: BTreeMap<_, _> = pairs.iter().cloned().collect();
            let longest_field = (n - 1).to_string().len();
            let small = n <= max_entries && vlen <= max_value && longest_field <= max_value;
            let mut h = Hash::loaded_table(pairs.clone()).unwrap_or_default();
            h.fit_loaded_encoding(&lim);
            prop_assert_eq!(h.encoding_name(), if small { "listpack" } else { "hashtable" });
            prop_assert_eq!(&content(&h), &model);
            let mut lp = Hash::loaded_listpack(pairs).unwrap_or_default();
            lp.fit_loaded_encoding(&lim);
            let small = n <= max_entries;
            prop_assert_eq!(lp.encoding_name(), if small { "listpack" } else { "hashtable" });
            prop_assert_eq!(&content(&lp), &model);
        }
    }

    #[test]
    fn listpack_is_redis_bytes_with_integers_compact() {
        let lim = HashLimits::default();
        let mut h = Hash::new();
        h.set(b"a", b"1", &lim);
        // The listpack inside `DUMP` of `HSET h a 1` on redis-server 7.0.15: the value is a
        // 1-byte integer entry.
        let Hash::Listpack(lp) = &h else {
            panic!("not a listpack: {h:?}")
        };
        assert_eq!(
            lp.as_bytes(),
            [0x0c, 0, 0, 0, 2, 0, 0x81, b'a', 2, 1, 1, 0xff]
        );
        // Integer entries read back as their text, wherever they are.
        h.set(b"-7", b"9223372036854775807", &lim);
        h.set(b"a", b"01", &lim);
        assert_eq!(h.get(b"-7").as_deref(), Some(&b"9223372036854775807"[..]));
        assert_eq!(h.get(b"a").as_deref(), Some(&b"01"[..]));
        assert!(h.contains(b"-7") && !h.contains(b"-07"));
    }

    #[test]
    fn listpack_keeps_insertion_order_and_duplicates_are_refused() {
        let lim = HashLimits::default();
        let mut h = Hash::new();
        for f in ["c", "a", "b"] {
            h.set(f.as_bytes(), b"1", &lim);
        }
        h.remove(b"a");
        h.set(b"d", b"2", &lim);
        let fields: Vec<Vec<u8>> = h.iter().map(|(f, _)| f.to_vec()).collect();
        assert_eq!(fields, [b"c".to_vec(), b"b".to_vec(), b"d".to_vec()]);
        let dup = vec![
            (b"a".to_vec(), b"1".to_vec()),
            (b"a".to_vec(), b"2".to_vec()),
        ];
        assert!(Hash::loaded_table(dup.clone()).is_none());
        assert!(Hash::loaded_listpack(dup).is_none());
    }
}
