//! [`Dict`]: the chained hash table behind the keyspace and big hashes, sets and sorted sets.
//!
//! Why our own table and not `HashMap`: SCAN. Redis promises that a full SCAN returns every
//! key present for the whole iteration, even while the table grows or shrinks between calls.
//! That promise needs a table whose buckets are addressable by index and whose sizes are powers
//! of two, so that the reverse-binary cursor (increment the *reversed* bucket index) visits,
//! after a resize, exactly the buckets that hold the not-yet-visited keys. Open-addressing
//! tables move keys between unrelated slots on resize; a chained table with power-of-two sizes
//! splits bucket `i` into `i` and `i + old_size`, which the cursor order already accounts for.
//!
//! # Layout: a dense slab with `u32` links
//!
//! Every entry costs what its node costs, so the node is kept as small as the data allows.
//! Nodes do not get a heap block each (a block costs the allocator's rounding and a pointer to
//! reach it); they live in a per-table *slab*: chunks of at most [`CHUNK`] (256) nodes, node `i`
//! being at offset `i % CHUNK` of chunk `i / CHUNK`. Every chunk but the last is full; the
//! last one grows by doubling (from [`FIRST_CHUNK`] nodes), each step allocated at its exact
//! capacity; deletes trim it back once a quarter of its length is spare. A bucket is the `u32`
//! index of its chain's first node ([`NIL`] = empty), and each node holds the `u32` index of
//! the next one in its chain. The link lives *inside* the value ([`DictValue`]): a `u32` after
//! a struct that ends in a `u32` field fills its padding rather than adding a padded word (the
//! keyspace's [`crate::keyspace::Entry`] keeps its link next to its `lru`).
//!
//! The slab stays dense: removing node `i` moves the last node into slot `i` and repoints the
//! link that reached it (found by rehashing the moved key and walking its chain, which is short
//! at our load factor). So memory falls as keys are deleted — eviction, which deletes until
//! `used_memory` is under the limit, relies on it — and a uniformly random entry is one random
//! index (RANDOMKEY, eviction sampling, SRANDMEMBER), with no bias toward short chains.
//!
//! Resizing is done at once, not incrementally: the keyspace is split into many shards, so each
//! table is a small fraction of the data and one resize is short. It rebuilds the bucket array
//! only; nodes stay where they are.
//!
//! Limits: at most `u32::MAX - 1` entries per table (indexes are `u32`): some 200 GiB of nodes
//! in one shard or one collection, far past any memory this engine runs in.
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

/// The "no node" link: an empty bucket or the end of a chain.
pub const NIL: u32 = u32::MAX;

/// log2 of [`CHUNK`].
const CHUNK_BITS: u32 = 8;
/// Nodes per full slab chunk. Large enough that the chunk list costs little (a 24-byte `Vec`
/// per 256 nodes) and one allocation is amortised over many nodes; small enough that the last
/// chunk's spare room (up to half of it) stays small next to a table of a few thousand
/// entries: the keyspace is 64 shards, so 100,000 keys are some 1,500 per table, and 1,024-node
/// chunks cost up to 30 bytes per key there (measured with `bench/memory.py`).
const CHUNK: usize = 1 << CHUNK_BITS;
/// Capacity of a newly started chunk (a table of a few entries stays small).
const FIRST_CHUNK: usize = 4;

/// A value type a [`Dict`] can hold, and where its node keeps the chain link.
///
/// `Stored` is what a node holds besides the key: the value plus a `u32` link. A type whose
/// own layout has four spare bytes (the keyspace's `Entry`) stores the link in a field of its
/// own and is its own `Stored`; any other type is wrapped in [`Linked`] (implement the marker
/// [`Plain`] for it).
pub trait DictValue: Sized {
    type Stored;
    /// The value, stored with its link.
    fn store(self, link: u32) -> Self::Stored;
    /// The value, without its link.
    fn unstore(s: Self::Stored) -> Self;
    fn value(s: &Self::Stored) -> &Self;
    /// The value, for the caller to modify. A type that is its own `Stored` must not let the
    /// caller overwrite the link through it (see `Entry`).
    fn value_mut(s: &mut Self::Stored) -> &mut Self;
    fn link(s: &Self::Stored) -> u32;
    fn set_link(s: &mut Self::Stored, link: u32);
}

/// Marker for value types stored in a [`Linked`] wrapper.
pub trait Plain {}

impl Plain for () {}
impl Plain for f64 {}
impl Plain for u32 {}
impl Plain for Box<[u8]> {}

/// A value and its chain link.
pub struct Linked<T> {
    val: T,
    link: u32,
}

impl<T: Plain> DictValue for T {
    type Stored = Linked<T>;

    #[inline]
    fn store(self, link: u32) -> Linked<T> {
        Linked { val: self, link }
    }
    #[inline]
    fn unstore(s: Linked<T>) -> T {
        s.val
    }
    #[inline]
    fn value(s: &Linked<T>) -> &T {
        &s.val
    }
    #[inline]
    fn value_mut(s: &mut Linked<T>) -> &mut T {
        &mut s.val
    }
    #[inline]
    fn link(s: &Linked<T>) -> u32 {
        s.link
    }
    #[inline]
    fn set_link(s: &mut Linked<T>, link: u32) {
        s.link = link;
    }
}

/// One entry. Keys of at most [`crate::types::string::INLINE_MAX`] bytes live inside the
/// node ([`SmallBytes`]), so a short key costs no block of its own.
struct Node<V: DictValue> {
    key: SmallBytes,
    slot: V::Stored,
}

impl<V: DictValue> Node<V> {
    #[inline]
    fn next(&self) -> u32 {
        V::link(&self.slot)
    }

    fn into_pair(self) -> (Box<[u8]>, V) {
        (self.key.into_boxed(), V::unstore(self.slot))
    }
}

/// A chained hash table from byte-string keys to `V`.
pub struct Dict<V: DictValue> {
    /// Each bucket's first node ([`NIL`] = empty); a power of two in length, or empty.
    buckets: Vec<u32>,
    /// The slab: every chunk but the last holds exactly [`CHUNK`] nodes; the last one is not
    /// empty. No chunks when the table is empty.
    chunks: Vec<Vec<Node<V>>>,
    len: usize,
}

/// Smallest non-empty table (Redis's `DICT_HT_INITIAL_SIZE`).
const INITIAL_SIZE: usize = 4;

impl<V: DictValue> Default for Dict<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: DictValue> Dict<V> {
    pub const fn new() -> Self {
        Dict {
            buckets: Vec::new(),
            chunks: Vec::new(),
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

    #[inline]
    fn index(&self, hash: u64) -> usize {
        (hash as usize) & self.buckets.len().wrapping_sub(1)
    }

    /// The first node of the bucket `hash` addresses ([`NIL`] when none).
    #[inline]
    fn head(&self, hash: u64) -> u32 {
        self.buckets.get(self.index(hash)).copied().unwrap_or(NIL)
    }

    #[inline]
    fn node(&self, i: u32) -> Option<&Node<V>> {
        let i = i as usize;
        self.chunks.get(i >> CHUNK_BITS)?.get(i & (CHUNK - 1))
    }

    #[inline]
    fn node_mut(&mut self, i: u32) -> Option<&mut Node<V>> {
        let i = i as usize;
        self.chunks
            .get_mut(i >> CHUNK_BITS)?
            .get_mut(i & (CHUNK - 1))
    }

    /// `key`'s node and its (chunk, offset) place in the slab.
    #[inline]
    fn find(&self, hash: u64, key: &[u8]) -> Option<(&Node<V>, usize, usize)> {
        let mut i = self.head(hash) as usize;
        loop {
            let (c, o) = (i >> CHUNK_BITS, i & (CHUNK - 1));
            let node = self.chunks.get(c)?.get(o)?;
            if &*node.key == key {
                return Some((node, c, o));
            }
            i = node.next() as usize;
        }
    }

    pub fn get(&self, hash: u64, key: &[u8]) -> Option<&V> {
        self.find(hash, key).map(|(n, _, _)| V::value(&n.slot))
    }

    pub fn get_mut(&mut self, hash: u64, key: &[u8]) -> Option<&mut V> {
        self.get_node_mut(hash, key)
            .map(|n| V::value_mut(&mut n.slot))
    }

    /// `key`'s node, for writing.
    fn get_node_mut(&mut self, hash: u64, key: &[u8]) -> Option<&mut Node<V>> {
        let (_, c, o) = self.find(hash, key)?;
        self.chunks.get_mut(c)?.get_mut(o)
    }

    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, hash: u64, key: &[u8], val: V) -> Option<V> {
        if let Some(node) = self.get_node_mut(hash, key) {
            let link = node.next();
            let old = std::mem::replace(&mut node.slot, val.store(link));
            return Some(V::unstore(old));
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
        // Indexes are u32 and NIL is reserved (see the module's limits).
        let idx = match u32::try_from(self.len) {
            Ok(i) if i != NIL => i,
            _ => panic!("Dict: more than {} entries in one table", NIL - 1),
        };
        let b = self.index(hash);
        let head = self.buckets[b];
        self.push(Node {
            key,
            slot: val.store(head),
        });
        self.buckets[b] = idx;
        self.len += 1;
    }

    /// Appends a node at slab index `len`.
    fn push(&mut self, node: Node<V>) {
        match self.chunks.last_mut() {
            Some(c) if c.len() < c.capacity().min(CHUNK) => c.push(node),
            Some(c) if c.len() < CHUNK => {
                // Double the last chunk (up to CHUNK), to an exact capacity.
                c.reserve_exact((c.len() * 2).clamp(FIRST_CHUNK, CHUNK) - c.len());
                c.push(node);
            }
            _ => {
                let mut c = Vec::with_capacity(FIRST_CHUNK);
                c.push(node);
                self.chunks.push(c);
            }
        }
    }

    /// Removes the slab's last node (index `len - 1`), releasing the last chunk when it
    /// empties and trimming it when a quarter of its length is spare (the chunk list when
    /// it is a quarter used).
    fn pop(&mut self) -> Option<Node<V>> {
        let c = self.chunks.last_mut()?;
        let node = c.pop()?;
        if c.is_empty() {
            self.chunks.pop();
            if self.chunks.len() * 4 <= self.chunks.capacity() {
                self.chunks.shrink_to(self.chunks.capacity() / 2);
            }
        } else if c.capacity() - c.len() >= (c.len() / 4).max(FIRST_CHUNK) {
            // Give the spare room back soon, so that memory falls with each key deleted
            // (eviction deletes until used_memory is under the limit), keeping an eighth
            // as headroom so that alternating inserts and deletes do not reallocate each time.
            c.shrink_to(c.len() + c.len() / 8);
        }
        self.len -= 1;
        Some(node)
    }

    /// Takes node `i` out of the slab; it must already be unlinked from its chain. The last
    /// node moves into its slot, and the link that reached the last node is repointed.
    fn take(&mut self, i: u32) -> Option<Node<V>> {
        let last = u32::try_from(self.len.checked_sub(1)?).ok()?;
        let moved = self.pop()?;
        if i == last {
            return Some(moved);
        }
        let b = self.index(hash_key(&moved.key));
        let slot = self.node_mut(i)?;
        let removed = std::mem::replace(slot, moved);
        if self.buckets.get(b) == Some(&last) {
            self.buckets[b] = i;
        } else {
            let mut at = self.buckets.get(b).copied().unwrap_or(NIL);
            while let Some(node) = self.node_mut(at) {
                let next = node.next();
                if next == last {
                    V::set_link(&mut node.slot, i);
                    break;
                }
                at = next;
            }
        }
        Some(removed)
    }

    /// Unlinks node `i` from bucket `b`'s chain, `prev` being the node before it ([`NIL`]
    /// when `i` is the bucket's first).
    fn unlink(&mut self, b: usize, prev: u32, i: u32) {
        let next = self.node(i).map_or(NIL, Node::next);
        if prev == NIL {
            if let Some(head) = self.buckets.get_mut(b) {
                *head = next;
            }
        } else if let Some(p) = self.node_mut(prev) {
            V::set_link(&mut p.slot, next);
        }
    }

    /// Removes a key; returns its owned key and value.
    pub fn remove(&mut self, hash: u64, key: &[u8]) -> Option<(Box<[u8]>, V)> {
        let b = self.index(hash);
        let mut prev = NIL;
        let mut i = self.head(hash);
        loop {
            let node = self.node(i)?;
            if &*node.key == key {
                break;
            }
            prev = i;
            i = node.next();
        }
        self.unlink(b, prev, i);
        let node = self.take(i)?;
        self.maybe_shrink();
        Some(node.into_pair())
    }

    /// Keeps the entries for which `keep` is true, in bucket `bucket` only. Returns how many
    /// were removed. Used by sweeps that visit a table bucket by bucket.
    pub fn retain_bucket(
        &mut self,
        bucket: usize,
        mut keep: impl FnMut(&[u8], &mut V) -> bool,
    ) -> usize {
        let Some(&first) = self.buckets.get(bucket) else {
            return 0;
        };
        let mut removed = 0;
        let mut prev = NIL;
        let mut i = first;
        while let Some(node) = self.node_mut(i) {
            let next = node.next();
            if keep(&node.key, V::value_mut(&mut node.slot)) {
                prev = i;
                i = next;
                continue;
            }
            self.unlink(bucket, prev, i);
            let last = (self.len - 1) as u32;
            drop(self.take(i));
            removed += 1;
            // The last node now sits at `i`: rename it if the walk still refers to it.
            if prev == last {
                prev = i;
            }
            i = if next == last { i } else { next };
        }
        removed
    }

    /// Shrinks the bucket array after removals (frees everything once empty).
    pub fn maybe_shrink(&mut self) {
        let size = self.buckets.len();
        if self.len == 0 {
            if size > 0 || self.chunks.capacity() > 0 {
                self.buckets = Vec::new();
                self.chunks = Vec::new();
            }
        } else if size > INITIAL_SIZE && self.len * 8 < size {
            self.resize((self.len.next_power_of_two() * 2).max(INITIAL_SIZE));
        }
    }

    pub fn clear(&mut self) {
        self.buckets = Vec::new();
        self.chunks = Vec::new();
        self.len = 0;
    }

    /// Rebuilds the bucket array at `new_size` buckets; nodes keep their slab indexes.
    fn resize(&mut self, new_size: usize) {
        debug_assert!(new_size.is_power_of_two());
        let mut buckets = vec![NIL; new_size];
        let mask = new_size - 1;
        for (ci, chunk) in self.chunks.iter_mut().enumerate() {
            for (off, node) in chunk.iter_mut().enumerate() {
                let b = (hash_key(&node.key) as usize) & mask;
                V::set_link(&mut node.slot, buckets[b]);
                buckets[b] = ((ci << CHUNK_BITS) | off) as u32;
            }
        }
        self.buckets = buckets;
    }

    /// Visits one step of a SCAN: every entry of the bucket addressed by `cursor`, then returns
    /// the next cursor (0 when the iteration is complete).
    pub fn scan_step(&self, cursor: u64, mut f: impl FnMut(&[u8], &V)) -> u64 {
        if self.buckets.is_empty() {
            return 0;
        }
        let mask = (self.buckets.len() - 1) as u64;
        for (k, v) in self.bucket_iter((cursor & mask) as usize) {
            f(k, v);
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
        let mut cur = self.buckets.get(i).copied().unwrap_or(NIL);
        std::iter::from_fn(move || {
            let node = self.node(cur)?;
            cur = node.next();
            Some((&*node.key, V::value(&node.slot)))
        })
    }

    /// A uniformly random entry: a random slab index, O(1). `rnd` supplies random numbers.
    pub fn random_entry(&self, mut rnd: impl FnMut() -> u64) -> Option<(&[u8], &V)> {
        if self.len == 0 {
            return None;
        }
        let i = (rnd() % self.len as u64) as u32;
        self.node(i).map(|n| (&*n.key, V::value(&n.slot)))
    }

    /// Bytes the table itself costs beyond keys' heap bytes and values' heap data: the bucket
    /// array, the slab's nodes (key or key pointer, inline value, link) including the last
    /// chunk's spare room, and the chunk list (INFO memory's overhead, MEMORY STATS).
    pub fn overhead_bytes(&self) -> usize {
        let slots = match self.chunks.last() {
            Some(last) => (self.chunks.len() - 1) * CHUNK + last.capacity(),
            None => 0,
        };
        self.buckets.capacity() * std::mem::size_of::<u32>()
            + slots * Self::node_size()
            + self.chunks.capacity() * std::mem::size_of::<Vec<Node<V>>>()
    }

    /// The size of one node: key (inline when short), inline value and link.
    pub const fn node_size() -> usize {
        std::mem::size_of::<Node<V>>()
    }

    /// The bytes one bucket slot costs.
    pub const fn bucket_size() -> usize {
        std::mem::size_of::<u32>()
    }

    /// Every entry, in slab order (not bucket order).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &V)> {
        self.chunks
            .iter()
            .flatten()
            .map(|n| (&*n.key, V::value(&n.slot)))
    }

    /// Checks the table's invariants (every chain reaches each node exactly once, in the
    /// bucket its hash addresses; the slab's shape). O(n): for tests.
    #[cfg(test)]
    fn check(&self) {
        let full = self.chunks.iter().rev().skip(1).all(|c| c.len() == CHUNK);
        assert!(full, "a chunk before the last is not full");
        assert!(self.chunks.last().is_none_or(|c| !c.is_empty()));
        let in_slab: usize = self.chunks.iter().map(Vec::len).sum();
        assert_eq!(in_slab, self.len);
        let mut seen = vec![false; self.len];
        for b in 0..self.buckets.len() {
            let mut i = self.buckets[b];
            while i != NIL {
                let node = self.node(i).expect("link to a missing node");
                assert_eq!(
                    self.index(hash_key(&node.key)),
                    b,
                    "node in the wrong bucket"
                );
                assert!(
                    !std::mem::replace(&mut seen[i as usize], true),
                    "node reached twice"
                );
                i = node.next();
            }
        }
        assert!(seen.iter().all(|s| *s), "node unreachable");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    fn put(d: &mut Dict<u32>, k: &str, v: u32) {
        d.insert(hash_key(k.as_bytes()), k.as_bytes(), v);
    }

    fn del(d: &mut Dict<u32>, k: &str) -> Option<u32> {
        d.remove(hash_key(k.as_bytes()), k.as_bytes())
            .map(|(_, v)| v)
    }

    #[test]
    fn insert_get_remove() {
        let mut d = Dict::new();
        for i in 0..1000 {
            put(&mut d, &format!("k{i}"), i);
        }
        d.check();
        assert_eq!(d.len(), 1000);
        assert_eq!(d.get(hash_key(b"k7"), b"k7"), Some(&7));
        assert_eq!(del(&mut d, "k7"), Some(7));
        assert_eq!(d.get(hash_key(b"k7"), b"k7"), None);
        assert_eq!(del(&mut d, "k7"), None);
        for i in 0..1000 {
            del(&mut d, &format!("k{i}"));
            if i % 97 == 0 {
                d.check();
            }
        }
        assert!(d.is_empty());
        assert_eq!(d.buckets(), 0);
        assert_eq!(d.overhead_bytes(), 0);
    }

    #[test]
    fn replace_keeps_the_chain() {
        let mut d = Dict::new();
        for i in 0..100 {
            put(&mut d, &format!("k{i}"), i);
        }
        for i in 0..100 {
            let k = format!("k{i}");
            assert_eq!(
                d.insert(hash_key(k.as_bytes()), k.as_bytes(), i + 1),
                Some(i)
            );
        }
        d.check();
        for i in 0..100 {
            let k = format!("k{i}");
            assert_eq!(d.get(hash_key(k.as_bytes()), k.as_bytes()), Some(&(i + 1)));
        }
    }

    /// Every key in one bucket (a constant hash): removals from the head, the middle and the
    /// tail of one chain, with the moved last node in that same chain.
    #[test]
    fn swap_remove_relinks_under_collisions() {
        // A hash that addresses bucket 0 at every table size; `take` rehashes moved keys with
        // `hash_key`, so use keys whose real hash also lands in bucket 0 of the table size.
        let mut d: Dict<u32> = Dict::new();
        let mut model = HashMap::new();
        let mut keys = Vec::new();
        let mut n = 0u32;
        while keys.len() < 40 {
            let k = format!("c{n}");
            if hash_key(k.as_bytes()) & 63 == 0 {
                keys.push(k);
            }
            n += 1;
        }
        for (i, k) in keys.iter().enumerate() {
            d.insert(hash_key(k.as_bytes()), k.as_bytes(), i as u32);
            model.insert(k.clone(), i as u32);
        }
        d.check();
        // Remove in an order that exercises head, tail and middle positions.
        let order: Vec<usize> = (0..40).map(|i| (i * 17) % 40).collect();
        for (step, &j) in order.iter().enumerate() {
            let k = &keys[j];
            assert_eq!(del(&mut d, k), model.remove(k));
            d.check();
            for (mk, mv) in &model {
                assert_eq!(
                    d.get(hash_key(mk.as_bytes()), mk.as_bytes()),
                    Some(mv),
                    "{step}"
                );
            }
        }
        assert!(d.is_empty());
    }

    #[test]
    fn random_operations_match_a_model() {
        let mut d: Dict<u32> = Dict::new();
        let mut model: HashMap<String, u32> = HashMap::new();
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for step in 0..20_000u32 {
            let k = format!("k{}", rnd() % 3000);
            if rnd() % 3 == 0 {
                assert_eq!(del(&mut d, &k), model.remove(&k));
            } else {
                assert_eq!(
                    d.insert(hash_key(k.as_bytes()), k.as_bytes(), step),
                    model.insert(k, step)
                );
            }
            if step % 2000 == 0 {
                d.check();
            }
        }
        d.check();
        assert_eq!(d.len(), model.len());
        let got: HashMap<String, u32> = d
            .iter()
            .map(|(k, v)| (String::from_utf8(k.to_vec()).unwrap(), *v))
            .collect();
        assert_eq!(got, model);
    }

    /// Every key a full SCAN of `d` returns, with `between(d, step)` run after each call.
    fn scan_while(
        d: &mut Dict<u32>,
        mut between: impl FnMut(&mut Dict<u32>, usize),
    ) -> HashSet<Vec<u8>> {
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut step = 0;
        loop {
            cursor = d.scan_step(cursor, |k, _| {
                seen.insert(k.to_vec());
            });
            between(d, step);
            step += 1;
            assert!(step < 100_000, "scan does not terminate");
            if cursor == 0 {
                return seen;
            }
        }
    }

    #[test]
    fn scan_survives_growth() {
        let mut d = Dict::new();
        for i in 0..100 {
            put(&mut d, &format!("old{i}"), i);
        }
        let seen = scan_while(&mut d, |d, step| {
            // Grow the table a lot between the first calls.
            if step < 20 {
                for j in 0..50 {
                    put(d, &format!("new{step}-{j}"), 0);
                }
            }
        });
        for i in 0..100 {
            assert!(seen.contains(format!("old{i}").as_bytes()), "missed old{i}");
        }
    }

    #[test]
    fn scan_survives_shrinking() {
        let mut d = Dict::new();
        for i in 0..2000 {
            put(&mut d, &format!("k{i}"), i);
        }
        let seen = scan_while(&mut d, |d, step| {
            // Delete the "gone" keys (not the kept k0..k99) over the first calls: the table
            // shrinks several times and the kept keys move between slab slots.
            if step < 40 {
                for j in 0..50 {
                    del(d, &format!("k{}", 100 + step * 50 + j));
                }
            }
        });
        assert_eq!(d.len(), 100);
        assert!(d.buckets() < 2048);
        for i in 0..100 {
            assert!(seen.contains(format!("k{i}").as_bytes()), "missed k{i}");
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
            d.check();
        }
        assert_eq!(removed, 32);
        assert_eq!(d.len(), 32);
        for i in (0..64).step_by(2) {
            let k = format!("k{i}");
            assert_eq!(d.get(hash_key(k.as_bytes()), k.as_bytes()), Some(&i));
        }
    }

    /// Whole chains removed by `retain_bucket` while the moved last node is in that chain.
    #[test]
    fn retain_bucket_under_collisions() {
        let mut d: Dict<u32> = Dict::new();
        let mut n = 0u32;
        let mut count = 0;
        while count < 30 {
            let k = format!("c{n}");
            if hash_key(k.as_bytes()) & 63 == 5 {
                put(&mut d, &k, n);
                count += 1;
            }
            n += 1;
        }
        // A few keys elsewhere, inserted last: they are the ones moved into holes. "Elsewhere"
        // whatever the table's size (8 buckets or more): their low three hash bits are not 5's
        // (the hash seed is random per process, so names alone could land in bucket 5).
        let others: Vec<String> = (0..)
            .map(|i| format!("other{i}"))
            .filter(|k| hash_key(k.as_bytes()) & 7 != 5)
            .take(3)
            .collect();
        for k in &others {
            put(&mut d, k, u32::MAX);
        }
        let b = 5 & (d.buckets() - 1);
        let mut visited = 0;
        let removed = d.retain_bucket(b, |_, v| {
            visited += 1;
            *v % 3 == 0
        });
        d.check();
        assert_eq!(visited, d.bucket_iter(b).count() + removed);
        assert!(d.bucket_iter(b).all(|(_, v)| *v % 3 == 0 || *v == u32::MAX));
        let removed_all = d.retain_bucket(b, |_, _| false);
        d.check();
        assert_eq!(d.len(), 33 - removed - removed_all);
        for k in &others {
            assert_eq!(d.get(hash_key(k.as_bytes()), k.as_bytes()), Some(&u32::MAX));
        }
    }

    #[test]
    fn random_entry_reaches_every_entry() {
        let mut d = Dict::new();
        assert!(d.random_entry(|| 7).is_none());
        for i in 0..50 {
            put(&mut d, &format!("k{i}"), i);
        }
        let mut n = 0u64;
        let seen: HashSet<u32> = (0..50)
            .filter_map(|_| {
                n += 1;
                d.random_entry(|| n - 1).map(|(_, v)| *v)
            })
            .collect();
        assert_eq!(seen.len(), 50);
    }

    #[test]
    fn memory_falls_after_removes() {
        let mut d: Dict<u32> = Dict::new();
        for i in 0..5000 {
            put(&mut d, &format!("k{i}"), i);
        }
        let full = d.overhead_bytes();
        for i in 0..4900 {
            del(&mut d, &format!("k{i}"));
        }
        d.check();
        let after = d.overhead_bytes();
        assert!(after * 10 < full, "{after} vs {full}");
        // The last chunk halves when a quarter full: 100 nodes in at most 256 slots; the
        // buckets shrink below an eighth full: at most 512 for 100 keys.
        assert!(after <= 256 * Dict::<u32>::node_size() + 512 * 4 + 8 * 24);
        d.clear();
        assert_eq!(d.overhead_bytes(), 0);
    }

    #[test]
    fn node_sizes() {
        // The link fills the padding of a value that ends in 4 spare bytes (or adds them).
        assert_eq!(Dict::<()>::node_size(), 32);
        assert_eq!(Dict::<u32>::node_size(), 32);
        assert_eq!(Dict::<f64>::node_size(), 40);
        assert_eq!(Dict::<Box<[u8]>>::node_size(), 48);
    }
}
