//! Sets: unordered collections of unique byte strings, in Redis 7.0's two encodings.
//!
//! - `intset`: a sorted `Vec<i64>` — Redis's intset, for sets whose members are all canonical
//!   integers (`string2ll`'s syntax: no '+', no leading zeros, no "-0") and number at most
//!   `set-max-intset-entries`. Lookups are binary searches; SMEMBERS/SSCAN list it in ascending
//!   order, as Redis does.
//! - `hashtable`: a [`Dict`] with no values, as soon as a non-integer member arrives or the
//!   count passes the limit. Our own table rather than `HashSet` for SSCAN's guarantee (the
//!   reverse-binary cursor over power-of-two buckets survives resizes) and O(1) random
//!   sampling (SPOP, SRANDMEMBER).
//!
//! Redis 7.0 has no `listpack` set encoding (that arrived in 7.2, with
//! `set-max-listpack-entries`); fastkv mirrors 7.0. Conversion is one-way on writes; only
//! rebuilding a set from scratch (loading, SPOP's rebuild, the *STORE commands) picks the
//! encoding afresh, as in Redis.
//!
//! Invariant: members are unique; an intset is sorted ascending; a stored set is never empty.

use crate::dict::{hash_key, Dict};
use fastkv_resp::request::parse_i64_strict;
use std::borrow::Cow;

/// Redis 7.0.15's `set-max-intset-entries` default.
pub const DEFAULT_MAX_INTSET_ENTRIES: usize = 512;

/// A set value.
pub enum Set {
    /// Small and all-integer: sorted, unique.
    Intset(Vec<i64>),
    /// Everything else: a table of members.
    Table(Box<Dict<()>>),
}

impl Default for Set {
    fn default() -> Self {
        Set::new()
    }
}

/// A member as the set holds it: integers of an intset are formatted only when needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Member<'a> {
    Int(i64),
    Bytes(&'a [u8]),
}

impl Member<'_> {
    pub fn to_vec(self) -> Vec<u8> {
        match self {
            Member::Int(n) => n.to_string().into_bytes(),
            Member::Bytes(b) => b.to_vec(),
        }
    }

    pub fn as_bytes(&self) -> Cow<'_, [u8]> {
        match self {
            Member::Int(n) => Cow::Owned(n.to_string().into_bytes()),
            Member::Bytes(b) => Cow::Borrowed(b),
        }
    }
}

impl Set {
    /// An empty `intset` (the caller fills it before storing it).
    pub fn new() -> Self {
        Set::Intset(Vec::new())
    }

    pub fn len(&self) -> usize {
        match self {
            Set::Intset(v) => v.len(),
            Set::Table(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// OBJECT ENCODING's answer.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            Set::Intset(_) => "intset",
            Set::Table(_) => "hashtable",
        }
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        match self {
            Set::Intset(v) => parse_i64_strict(member).is_some_and(|n| v.binary_search(&n).is_ok()),
            Set::Table(d) => d.get(hash_key(member), member).is_some(),
        }
    }

    /// [`Set::contains`] for a member taken from another set (no formatting for int-int).
    pub fn contains_member(&self, m: Member<'_>) -> bool {
        match (self, m) {
            (Set::Intset(v), Member::Int(n)) => v.binary_search(&n).is_ok(),
            (_, m) => self.contains(&m.as_bytes()),
        }
    }

    /// Adds `member`; returns true if it is new. An intset becomes a table when the member is
    /// not a canonical integer or the count passes `max_intset` (Redis's `setTypeAdd`).
    pub fn insert(&mut self, member: &[u8], max_intset: usize) -> bool {
        if let Set::Intset(v) = self {
            match parse_i64_strict(member) {
                Some(n) => {
                    let Err(at) = v.binary_search(&n) else {
                        return false;
                    };
                    v.insert(at, n);
                    if v.len() > max_intset {
                        self.convert_to_table();
                    }
                    return true;
                }
                None => self.convert_to_table(),
            }
        }
        match self {
            Set::Table(d) => {
                let h = hash_key(member);
                if d.get(h, member).is_some() {
                    false
                } else {
                    d.insert_new(h, member.into(), ());
                    true
                }
            }
            // Converted above.
            Set::Intset(_) => false,
        }
    }

    /// Removes `member`; returns whether it was there. Never converts back.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            Set::Intset(v) => match parse_i64_strict(member).map(|n| v.binary_search(&n)) {
                Some(Ok(i)) => {
                    v.remove(i);
                    true
                }
                _ => false,
            },
            Set::Table(d) => d.remove(hash_key(member), member).is_some(),
        }
    }

    /// Every member: ascending for an intset, table order otherwise.
    pub fn iter(&self) -> Box<dyn Iterator<Item = Member<'_>> + '_> {
        match self {
            Set::Intset(v) => Box::new(v.iter().map(|&n| Member::Int(n))),
            Set::Table(d) => Box::new(d.iter().map(|(m, _)| Member::Bytes(m))),
        }
    }

    /// A random member (uniform for an intset, [`Dict::random_entry`] for a table).
    pub fn random_member(&self, mut rnd: impl FnMut() -> u64) -> Option<Member<'_>> {
        match self {
            Set::Intset(v) => {
                if v.is_empty() {
                    return None;
                }
                v.get((rnd() % v.len() as u64) as usize)
                    .map(|&n| Member::Int(n))
            }
            Set::Table(d) => d.random_entry(rnd).map(|(m, _)| Member::Bytes(m)),
        }
    }

    /// One SSCAN step: an intset is returned whole with the final cursor 0 (as Redis does);
    /// a table visits one bucket per [`Dict::scan_step`].
    pub fn scan_step(&self, cursor: u64, mut f: impl FnMut(Member<'_>)) -> u64 {
        match self {
            Set::Intset(v) => {
                for &n in v {
                    f(Member::Int(n));
                }
                0
            }
            Set::Table(d) => d.scan_step(cursor, |m, _| f(Member::Bytes(m))),
        }
    }

    /// Moves an intset's members into a table (no-op for a table).
    pub fn convert_to_table(&mut self) {
        if let Set::Intset(v) = self {
            let mut d = Dict::new();
            for n in std::mem::take(v) {
                let m = n.to_string().into_bytes().into_boxed_slice();
                d.insert_new(hash_key(&m), m, ());
            }
            *self = Set::Table(Box::new(d));
        }
    }

    /// A set of `members` (duplicates ignored), encoded as a set built from scratch is: an
    /// intset while every member is a canonical integer and the count is within `max_intset`.
    pub fn collect<'a>(members: impl IntoIterator<Item = Member<'a>>, max_intset: usize) -> Set {
        let mut s = Set::new();
        for m in members {
            s.insert(&m.as_bytes(), max_intset);
        }
        s
    }

    /// A table of `members`, as an RDB `set` (type 2) body gives them; `None` on a duplicate.
    /// Follow with [`Set::fit_loaded_encoding`].
    pub fn loaded_table(members: Vec<Vec<u8>>) -> Option<Set> {
        let mut d = Dict::new();
        for m in members {
            let h = hash_key(&m);
            if d.get(h, &m).is_some() {
                return None;
            }
            d.insert_new(h, m.into_boxed_slice(), ());
        }
        Some(Set::Table(Box::new(d)))
    }

    /// An intset of `ints`, as an RDB `intset` (type 11) body gives them; `None` unless
    /// strictly ascending. Follow with [`Set::fit_loaded_encoding`].
    pub fn loaded_intset(ints: Vec<i64>) -> Option<Set> {
        if ints.windows(2).any(|w| w[0] >= w[1]) {
            return None;
        }
        Some(Set::Intset(ints))
    }

    /// Picks the encoding Redis 7.0 gives a set it has just loaded: an intset if the count is
    /// within `max_intset` and every member is a canonical integer, else a table. Only for
    /// freshly decoded values: elsewhere conversion is one-way.
    pub fn fit_loaded_encoding(&mut self, max_intset: usize) {
        match self {
            Set::Intset(v) => {
                if v.len() > max_intset {
                    self.convert_to_table();
                }
            }
            Set::Table(d) => {
                if d.len() > max_intset {
                    return;
                }
                let ints: Option<Vec<i64>> = d.iter().map(|(m, _)| parse_i64_strict(m)).collect();
                if let Some(mut ints) = ints {
                    ints.sort_unstable();
                    *self = Set::Intset(ints);
                }
            }
        }
    }
}

impl Clone for Set {
    fn clone(&self) -> Self {
        match self {
            Set::Intset(v) => Set::Intset(v.clone()),
            Set::Table(d) => {
                let mut out = Dict::new();
                for (m, _) in d.iter() {
                    out.insert_new(hash_key(m), m.into(), ());
                }
                Set::Table(Box::new(out))
            }
        }
    }
}

impl PartialEq for Set {
    /// Same encoding and same members.
    fn eq(&self, other: &Self) -> bool {
        self.encoding_name() == other.encoding_name()
            && self.len() == other.len()
            && self.iter().all(|m| other.contains_member(m))
    }
}

impl std::fmt::Debug for Set {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut l = f.debug_set();
        for m in self.iter() {
            l.entry(&String::from_utf8_lossy(&m.as_bytes()));
        }
        l.finish()?;
        write!(f, " ({})", self.encoding_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn content(s: &Set) -> BTreeSet<Vec<u8>> {
        s.iter().map(Member::to_vec).collect()
    }

    /// Members drawn from integers, integer look-alikes that are not canonical, and words.
    fn member() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            4 => (-20i64..20).prop_map(|n| n.to_string().into_bytes()),
            1 => Just(b"-0".to_vec()),
            1 => Just(b"007".to_vec()),
            1 => (0u8..5).prop_map(|c| vec![b'a' + c]),
        ]
    }

    proptest! {
        /// Random adds and removes against a model: content always matches; the encoding is
        /// `intset` until the first non-integer member or the count passing the limit, then
        /// `hashtable` for good.
        #[test]
        fn writes_match_a_model_and_the_thresholds(
            ops in proptest::collection::vec((any::<bool>(), member()), 0..80),
            max_intset in 0usize..12,
        ) {
            let mut s = Set::new();
            let mut model = BTreeSet::new();
            let mut should_be_table = false;
            for (add, m) in ops {
                if add {
                    if parse_i64_strict(&m).is_none() {
                        should_be_table = true;
                    }
                    prop_assert_eq!(s.insert(&m, max_intset), model.insert(m.clone()));
                    if model.len() > max_intset {
                        should_be_table = true;
                    }
                } else {
                    prop_assert_eq!(s.remove(&m), model.remove(&m));
                }
                prop_assert_eq!(&content(&s), &model);
                prop_assert_eq!(s.encoding_name(), if should_be_table { "hashtable" } else { "intset" });
                if let Set::Intset(v) = &s {
                    prop_assert!(v.windows(2).all(|w| w[0] < w[1]));
                }
            }
            for m in &model {
                prop_assert!(s.contains(m));
            }
            // Conversion keeps the members; a full scan sees them all.
            let mut t = s.clone();
            t.convert_to_table();
            prop_assert_eq!(&content(&t), &model);
            let mut scanned = BTreeSet::new();
            let mut cursor = 0;
            loop {
                cursor = t.scan_step(cursor, |m| { scanned.insert(m.to_vec()); });
                if cursor == 0 { break; }
            }
            prop_assert_eq!(&scanned, &model);
            // Rebuilding picks the encoding afresh (back to intset if it fits).
            let rebuilt = Set::collect(t.iter(), max_intset);
            let fits = model.len() <= max_intset
                && model.iter().all(|m| parse_i64_strict(m).is_some());
            prop_assert_eq!(rebuilt.encoding_name(), if fits { "intset" } else { "hashtable" });
            prop_assert_eq!(&content(&rebuilt), &model);
            let mut loaded = Set::loaded_table(model.iter().cloned().collect()).unwrap_or_default();
            loaded.fit_loaded_encoding(max_intset);
            prop_assert_eq!(loaded.encoding_name(), if fits { "intset" } else { "hashtable" });
            prop_assert_eq!(&content(&loaded), &model);
        }

        #[test]
        fn intset_loads_follow_the_limit(n in 0usize..20, max_intset in 0usize..20) {
            let ints: Vec<i64> = (0..n as i64).map(|i| i * 3 - 10).collect();
            let mut s = Set::loaded_intset(ints.clone()).unwrap_or_default();
            s.fit_loaded_encoding(max_intset);
            let want = if n <= max_intset { "intset" } else { "hashtable" };
            prop_assert_eq!(s.encoding_name(), want);
            let model: BTreeSet<Vec<u8>> = ints.iter().map(|i| i.to_string().into_bytes()).collect();
            prop_assert_eq!(content(&s), model);
        }
    }

    #[test]
    fn duplicates_and_disorder_are_refused() {
        assert!(Set::loaded_intset(vec![1, 1]).is_none());
        assert!(Set::loaded_intset(vec![2, 1]).is_none());
        assert!(Set::loaded_table(vec![b"1".to_vec(), b"1".to_vec()]).is_none());
        assert!(Set::loaded_table(vec![b"a".to_vec(), b"a".to_vec()]).is_none());
    }
}
