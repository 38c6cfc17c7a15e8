//! [`Dict`]: the chained hash table behind the keyspace (and, later, big hashes and sets).
//!
//! Why our own table and not `HashMap`: SCAN. Redis promises that a full SCAN returns every
//! key present for the whole iteration, even while the table grows or shrinks between calls.
//! That promise needs a table whose buckets are addressable by index and whose sizes are powers
//! of two, so that the reverse-binary cursor (increment the *reversed* bucket index) visits,
//! after a resize, exactly the buckets that hold the not-yet-visited keys. Open-addressing
//! tables move keys between unrelated slots on resize; a chained table with power-of-two sizes
//! splits bucket `i` into `i` and `i + old_size`, which the cursor order already accounts for.
//! The same bucket addressing gives O(1) random sampling (RANDOMKEY, eviction, expiry).
//!
//! Resizing is done at once, not incrementally: the keyspace is split into many shards, so each
//! table is a small fraction of the data and one resize is short.
//!
//! Hashes come from the caller (the keyspace hashes a key once to pick both the shard and the
//! bucket); [`hash_key`] is the one hash function, seeded randomly per process.

use crate::types::string::SmallBytes;
use std::sync::OnceLock;

/// The process-wide keyed hash of a key.
pub fn hash_key(key: &[u8]) -> u64 {
    static STATE: OnceLock<ahash::RandomState> = OnceLock::new();
    STATE.get_or_init(ahash::RandomState::new).hash_one(key)
}

/// One entry. Keys of at most [`crate::types::string::INLINE_MAX`] bytes live inside the
/// node ([`SmallBytes`]), so a short key costs no block of its own.
struct Node<V> {
    key: SmallBytes,
    val: V,
    next: Option<Box<Node<V>>>,
}

/// A chained hash table from byte-string keys to `V`.
pub struct Dict<V> {
    buckets: Vec<Option<Box<Node<V>>>>,
    len: usize,
}

/// Smallest non-empty table (Redis's `DICT_HT_INITIAL_SIZE`).
const INITIAL_SIZE: usize = 4;

impl<V> Default for Dict<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> Dict<V> {
    pub const fn new() -> Self {
        Dict {
            buckets: Vec::new(),
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of buckets (a power of two, or 0).
    pub fn buckets(&self) -> usize {
        self.buckets.len()
    }

    fn index(&self, hash: u64) -> usize {
        (hash as usize) & (self.buckets.len() - 1)
    }

    pub fn get(&self, hash: u64, key: &[u8]) -> Option<&V> {
        if self.buckets.is_empty() {
            return None;
        }
        let mut cur = self.buckets[self.index(hash)].as_deref();
        while let Some(node) = cur {
            if &*node.key == key {
                return Some(&node.val);
            }
            cur = node.next.as_deref();
        }
        None
    }

    pub fn get_mut(&mut self, hash: u64, key: &[u8]) -> Option<&mut V> {
        if self.buckets.is_empty() {
            return None;
        }
        let i = self.index(hash);
        let mut cur = self.buckets[i].as_deref_mut();
        while let Some(node) = cur {
            if &*node.key == key {
                return Some(&mut node.val);
            }
            cur = node.next.as_deref_mut();
        }
        None
    }

    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, hash: u64, key: &[u8], val: V) -> Option<V> {
        if let Some(slot) = self.get_mut(hash, key) {
            return Some(std::mem::replace(slot, val));
        }
        self.insert_node(hash, SmallBytes::new(key), val);
        None
    }

    /// Inserts a key known to be absent.
    pub fn insert_new(&mut self, hash: u64, key: Box<[u8]>, val: V) {
        self.insert_node(hash, key.into(), val);
    }

    /// Inserts a key known to be absent, copying its bytes (inline when short).
    pub fn insert_new_bytes(&mut self, hash: u64, key: &[u8], val: V) {
        self.insert_node(hash, SmallBytes::new(key), val);
    }

    fn insert_node(&mut self, hash: u64, key: SmallBytes, val: V) {
        if self.len >= self.buckets.len() {
            self.resize((self.buckets.len() * 2).max(INITIAL_SIZE));
        }
        let i = self.index(hash);
        let next = self.buckets[i].take();
        self.buckets[i] = Some(Box::new(Node { key, val, next }));
        self.len += 1;
    }

    /// Removes a key; returns its owned key and value.
    pub fn remove(&mut self, hash: u64, key: &[u8]) -> Option<(Box<[u8]>, V)> {
        if self.buckets.is_empty() {
            return None;
        }
        let i = self.index(hash);
        let mut link = &mut self.buckets[i];
        loop {
            match link {
                None => return None,
                Some(node) if &*node.key == key => {
                    let mut node = link.take()?;
                    *link = node.next.take();
                    self.len -= 1;
                    let out = (node.key.into_boxed(), node.val);
                    self.maybe_shrink();
                    return Some(out);
                }
                Some(node) => link = &mut node.next,
            }
        }
    }

    /// Keeps the entries for which `keep` is true, in bucket `bucket` only. Returns how many
    /// were removed. Used by sweeps that visit a table bucket by bucket.
    pub fn retain_bucket(
        &mut self,
        bucket: usize,
        mut keep: impl FnMut(&[u8], &mut V) -> bool,
    ) -> usize {
        if bucket >= self.buckets.len() {
            return 0;
        }
        let mut removed = 0;
        let mut link = &mut self.buckets[bucket];
        while link.is_some() {
            let drop_it = match link.as_deref_mut() {
                Some(node) => !keep(&node.key, &mut node.val),
                None => false,
            };
            if drop_it {
                if let Some(mut node) = link.take() {
                    *link = node.next.take();
                    removed += 1;
                }
            } else if let Some(node) = link {
                link = &mut node.next;
            }
        }
        self.len -= removed;
        removed
    }

    /// Shrinks after a sweep removed many entries.
    pub fn maybe_shrink(&mut self) {
        let size = self.buckets.len();
        if size > INITIAL_SIZE && self.len * 8 < size {
            self.resize((self.len.next_power_of_two() * 2).max(INITIAL_SIZE));
        } else if self.len == 0 && size > 0 {
            self.buckets = Vec::new();
        }
    }

    pub fn clear(&mut self) {
        // Drop chains iteratively: a long chain dropped recursively could overflow the stack.
        for b in self.buckets.iter_mut() {
            let mut cur = b.take();
            while let Some(mut node) = cur {
                cur = node.next.take();
            }
        }
        self.buckets = Vec::new();
        self.len = 0;
    }

    fn resize(&mut self, new_size: usize) {
        debug_assert!(new_size.is_power_of_two());
        let mut new_buckets: Vec<Option<Box<Node<V>>>> = Vec::with_capacity(new_size);
        new_buckets.resize_with(new_size, || None);
        let mask = new_size - 1;
        for b in self.buckets.iter_mut() {
            let mut cur = b.take();
            while let Some(mut node) = cur {
                cur = node.next.take();
                let i = (hash_key(&node.key) as usize) & mask;
                node.next = new_buckets[i].take();
                new_buckets[i] = Some(node);
            }
        }
        self.buckets = new_buckets;
    }

    /// Visits one step of a SCAN: every entry of the bucket addressed by `cursor`, then returns
    /// the next cursor (0 when the iteration is complete).
    pub fn scan_step(&self, cursor: u64, mut f: impl FnMut(&[u8], &V)) -> u64 {
        if self.buckets.is_empty() {
            return 0;
        }
        let mask = (self.buckets.len() - 1) as u64;
        let mut cur = self.buckets[(cursor & mask) as usize].as_deref();
        while let Some(node) = cur {
            f(&node.key, &node.val);
            cur = node.next.as_deref();
        }
        // Increment the reversed cursor: high bits first, so that a resize between calls
        // neither repeats a whole pass nor skips keys.
        let mut v = cursor | !mask;
        v = v.reverse_bits();
        v = v.wrapping_add(1);
        v.reverse_bits()
    }

    /// The entries of bucket `i` (for sampling and sweeps).
    pub fn bucket_iter(&self, i: usize) -> impl Iterator<Item = (&[u8], &V)> {
        let mut cur = self.buckets.get(i).and_then(|b| b.as_deref());
        std::iter::from_fn(move || {
            let node = cur?;
            cur = node.next.as_deref();
            Some((&*node.key, &node.val))
        })
    }

    /// A uniformly chosen non-empty bucket's random entry, as Redis's `dictGetFairRandomKey`
    /// approximates. `rnd` supplies random numbers.
    pub fn random_entry(&self, mut rnd: impl FnMut() -> u64) -> Option<(&[u8], &V)> {
        if self.len == 0 {
            return None;
        }
        let mask = self.buckets.len() - 1;
        loop {
            let i = (rnd() as usize) & mask;
            let n = self.bucket_iter(i).count();
            if n > 0 {
                let pick = (rnd() as usize) % n;
                return self.bucket_iter(i).nth(pick);
            }
        }
    }

    /// Bytes the table itself costs beyond keys' heap bytes and values' heap data: the bucket
    /// array and one node (key or key pointer, inline value, chain link) per entry (INFO
    /// memory's overhead, MEMORY STATS, MEMORY USAGE).
    pub fn overhead_bytes(&self) -> usize {
        self.buckets.capacity() * std::mem::size_of::<Option<Box<Node<V>>>>()
            + self.len * Self::node_size()
    }

    /// The size of one node: key (inline when short), inline value, chain link.
    pub const fn node_size() -> usize {
        std::mem::size_of::<Node<V>>()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &V)> {
        (0..self.buckets.len()).flat_map(move |i| self.bucket_iter(i))
    }
}

impl<V> Drop for Dict<V> {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn put(d: &mut Dict<u32>, k: &str, v: u32) {
        d.insert(hash_key(k.as_bytes()), k.as_bytes(), v);
    }

    #[test]
    fn insert_get_remove() {
        let mut d = Dict::new();
        for i in 0..1000 {
            put(&mut d, &format!("k{i}"), i);
        }
        assert_eq!(d.len(), 1000);
        assert_eq!(d.get(hash_key(b"k7"), b"k7"), Some(&7));
        assert_eq!(d.remove(hash_key(b"k7"), b"k7").map(|(_, v)| v), Some(7));
        assert_eq!(d.get(hash_key(b"k7"), b"k7"), None);
        for i in 0..1000 {
            let k = format!("k{i}");
            d.remove(hash_key(k.as_bytes()), k.as_bytes());
        }
        assert!(d.is_empty());
        assert_eq!(d.buckets(), 0);
    }

    #[test]
    fn scan_survives_growth() {
        let mut d = Dict::new();
        for i in 0..100 {
            put(&mut d, &format!("old{i}"), i);
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut step = 0;
        loop {
            cursor = d.scan_step(cursor, |k, _| {
                seen.insert(k.to_vec());
            });
            // Grow the table a lot between the first calls.
            if step < 20 {
                for j in 0..50 {
                    put(&mut d, &format!("new{step}-{j}"), 0);
                }
            }
            step += 1;
            assert!(step < 100_000, "scan does not terminate");
            if cursor == 0 {
                break;
            }
        }
        for i in 0..100 {
            assert!(seen.contains(format!("old{i}").as_bytes()), "missed old{i}");
        }
    }

    #[test]
    fn retain_bucket_removes() {
        let mut d = Dict::new();
        for i in 0..64 {
            put(&mut d, &format!("k{i}"), i);
        }
        let mut removed = 0;
        for b in 0..d.buckets() {
            removed += d.retain_bucket(b, |_, v| *v % 2 == 0);
        }
        assert_eq!(removed, 32);
        assert_eq!(d.len(), 32);
    }
}
