//! Sorted sets: members (binary-safe byte strings) with a double score, ordered by
//! `(score, member)`.
//!
//! # Design
//!
//! **What.** A sorted set must answer, fast: the score of a member (ZSCORE, ZADD's update
//! check), the rank of a member (ZRANK), the member at a rank (ZRANGE by index, ZRANDMEMBER),
//! and the first rank at which a score or lex bound is crossed (BYSCORE/BYLEX ranges, ZCOUNT,
//! ZLEXCOUNT). Redis answers the first with a hash table and the rest with a skip list whose
//! links carry spans. We keep the same split of duties — a member -> score map next to an
//! ordered index — but the index is an *order-statistics chunked list*: the items, sorted,
//! cut into chunks of at most [`CHUNK_MAX`] items, plus a Fenwick tree over the chunk sizes.
//!
//! **Why not a pointer skip list.** A skip list in safe Rust means an arena of nodes with
//! index links: one heap allocation per node for its level array, a cache miss per hop, and a
//! fiddly span bookkeeping that is easy to get subtly wrong without `unsafe` to lean on. The
//! chunked list is a two-level B-tree with counts: a binary search over the chunks (by their
//! last item), a binary search inside one contiguous chunk, and the Fenwick tree turns a chunk
//! number into the number of items before it (and back). Every level is a `Vec`, so lookups
//! touch a handful of cache lines and iteration in rank order is a plain slice walk.
//!
//! **Complexity** (n items, c = n / chunk size chunks):
//! - score of a member: O(1) (hash map).
//! - rank of a member, item at a rank, first rank past a bound: O(log n) — O(log c) to find
//!   the chunk, O(log chunk) inside it, O(log c) in the Fenwick tree. This is what keeps ZRANK
//!   and ZRANGE on a 1,000,000-member set within a small factor of a 1,000-member one.
//! - insert / remove: O(log n) to find the spot, plus an O(chunk) `memmove` inside the chunk
//!   (a few KB at most) and O(log c) to update the tree. A chunk that overflows is split and
//!   a chunk that gets small is merged with a neighbour; both rebuild the tree in O(c), which
//!   happens at most once per ~chunk-size/4 updates, so it amortizes away.
//! - a range of k items starting at a rank: O(log n + k).
//!
//! **Trade-off.** Members are stored twice, as map keys and in the index (Redis shares one
//! sds between its dict and skip list); that costs memory on big sets but keeps the code free
//! of `unsafe` and of reference counting on the hot path.
//!
//! # Encodings
//!
//! As in Redis 7.0, small sets are `listpack`: one sorted `Vec` of items, searched linearly for
//! a member (at most `zset-max-listpack-entries` of them, 128 by default) — compact and fast
//! at that size. A set converts, one way, to `skiplist` (the map + index above; `OBJECT
//! ENCODING` keeps Redis's name) when an insert would pass `zset-max-listpack-entries` or add
//! a member longer than `zset-max-listpack-value`. Commands that build a new set whole (the
//! STORE variants, RESTORE) pick the encoding for the final content
//! ([`ZSet::fit_encoding`]), as Redis does.
//!
//! A listpack stores a score as text or an integer, which loses the sign of zero: `-0` in a
//! listpack reads back as `0`, while the skiplist keeps `-0`. We reproduce that (see
//! [`normalize_listpack_score`]) so ZSCORE agrees with Redis under both encodings.
//!
//! Invariants: no score is NaN; members are unique; items are sorted by `(score, member)` with
//! scores compared numerically (`-0 == 0`) and members bytewise; in the skiplist encoding the
//! map and the index hold exactly the same `(member, score)` pairs; no chunk is empty.

use crate::dict::{hash_key, Dict};
use std::cmp::Ordering;

/// Most items in one chunk of the index. Big enough that the per-chunk overhead (a `Vec`
/// header and a tree slot) is small next to the items, small enough that the `memmove` an
/// insert pays inside a chunk (24 bytes an item) stays around a page.
const CHUNK_MAX: usize = 256;

/// A chunk smaller than this after a removal is merged into a neighbour when the two fit in
/// [`CHUNK_MAX`], so a set that shrank does not keep a long tail of near-empty chunks.
const CHUNK_MIN: usize = CHUNK_MAX / 4;

/// One member and its score.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub member: Box<[u8]>,
    pub score: f64,
}

/// The sort order of items: score, then member bytes.
pub fn cmp_key(score: f64, member: &[u8], item: &Item) -> Ordering {
    match score.partial_cmp(&item.score) {
        Some(Ordering::Equal) | None => member.cmp(&item.member),
        Some(o) => o,
    }
}

/// The score a listpack stores for `score`: a listpack keeps scores as integers or text, and
/// Redis's conversion turns `-0` into `0`.
pub fn normalize_listpack_score(score: f64) -> f64 {
    if score == 0.0 {
        0.0
    } else {
        score
    }
}

/// The encoding thresholds, read from the config (`zset-max-listpack-*`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_entries: usize,
    pub max_value: usize,
}

impl Limits {
    pub fn from_config(c: &crate::config::Config) -> Limits {
        Limits {
            max_entries: c.zset_max_listpack_entries,
            max_value: c.zset_max_listpack_value,
        }
    }
}

// =============================================================================================
// The ordered index: sorted chunks + a Fenwick tree over their sizes
// =============================================================================================

/// Items in `(score, member)` order with O(log n) rank queries. See the module essay.
#[derive(Debug, Clone, Default)]
pub struct Index {
    chunks: Vec<Vec<Item>>,
    /// Fenwick (binary indexed) tree over `chunks[i].len()`, 1-based: `tree[i]` sums the
    /// sizes of chunks `i - lowbit(i) .. i`.
    tree: Vec<usize>,
    len: usize,
}

impl Index {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn rebuild_tree(&mut self) {
        let n = self.chunks.len();
        self.tree = vec![0; n + 1];
        for i in 1..=n {
            self.tree[i] += self.chunks[i - 1].len();
            let parent = i + (i & i.wrapping_neg());
            if parent <= n {
                self.tree[parent] += self.tree[i];
            }
        }
    }

    fn tree_add(&mut self, chunk: usize, delta: isize) {
        let mut i = chunk + 1;
        while i < self.tree.len() {
            self.tree[i] = self.tree[i].wrapping_add_signed(delta);
            i += i & i.wrapping_neg();
        }
    }

    /// Items in chunks `0..chunk`.
    fn prefix(&self, chunk: usize) -> usize {
        let mut i = chunk.min(self.chunks.len());
        let mut sum = 0;
        while i > 0 {
            sum += self.tree[i];
            i -= i & i.wrapping_neg();
        }
        sum
    }

    /// The chunk holding rank `rank` and the offset inside it.
    fn locate(&self, rank: usize) -> Option<(usize, usize)> {
        if rank >= self.len {
            return None;
        }
        let n = self.chunks.len();
        let mut pos = 0;
        let mut rem = rank;
        let mut step = if n == 0 {
            0
        } else {
            1 << (usize::BITS - 1 - n.leading_zeros())
        };
        while step > 0 {
            let next = pos + step;
            if next <= n && self.tree[next] <= rem {
                pos = next;
                rem -= self.tree[next];
            }
            step >>= 1;
        }
        Some((pos, rem))
    }

    /// The number of leading items for which `pred` holds (`pred` must be true for a prefix
    /// of the order and false after it).
    pub fn partition_point(&self, pred: impl Fn(&Item) -> bool) -> usize {
        let ci = self.chunks.partition_point(|c| c.last().is_some_and(&pred));
        match self.chunks.get(ci) {
            Some(c) => self.prefix(ci) + c.partition_point(&pred),
            None => self.len,
        }
    }

    pub fn get(&self, rank: usize) -> Option<&Item> {
        let (ci, off) = self.locate(rank)?;
        self.chunks.get(ci)?.get(off)
    }

    /// The rank of `(score, member)` if present.
    pub fn rank(&self, score: f64, member: &[u8]) -> Option<usize> {
        let r = self.partition_point(|it| cmp_key(score, member, it) == Ordering::Greater);
        let it = self.get(r)?;
        (&*it.member == member).then_some(r)
    }

    pub fn insert(&mut self, item: Item) {
        if self.chunks.is_empty() {
            self.chunks.push(vec![item]);
            self.len = 1;
            self.rebuild_tree();
            return;
        }
        let (score, member) = (item.score, &item.member[..]);
        let gt = |it: &Item| cmp_key(score, member, it) == Ordering::Greater;
        // The first chunk whose last item is not below the new one, or the last chunk.
        let ci = self
            .chunks
            .partition_point(|c| c.last().is_some_and(gt))
            .min(self.chunks.len() - 1);
        let Some(chunk) = self.chunks.get_mut(ci) else {
            return;
        };
        let off = chunk.partition_point(gt);
        chunk.insert(off, item);
        self.len += 1;
        if chunk.len() > CHUNK_MAX {
            let tail = chunk.split_off(chunk.len() / 2);
            self.chunks.insert(ci + 1, tail);
            self.rebuild_tree();
        } else {
            self.tree_add(ci, 1);
        }
    }

    /// Removes the item at `rank`.
    pub fn remove_at(&mut self, rank: usize) -> Option<Item> {
        let (ci, off) = self.locate(rank)?;
        let chunk = self.chunks.get_mut(ci)?;
        let item = chunk.remove(off);
        self.len -= 1;
        let small = chunk.len();
        if small == 0 {
            self.chunks.remove(ci);
            self.rebuild_tree();
        } else if small < CHUNK_MIN && self.merge_around(ci) {
            self.rebuild_tree();
        } else {
            self.tree_add(ci, -1);
        }
        Some(item)
    }

    /// Merges chunk `ci` into a neighbour if the two fit one chunk. Returns whether it did.
    fn merge_around(&mut self, ci: usize) -> bool {
        let len = |i: usize| self.chunks.get(i).map_or(usize::MAX, Vec::len);
        let own = len(ci);
        if ci + 1 < self.chunks.len() && own + len(ci + 1) <= CHUNK_MAX {
            let next = self.chunks.remove(ci + 1);
            if let Some(c) = self.chunks.get_mut(ci) {
                c.extend(next);
            }
            return true;
        }
        if ci > 0 && own.saturating_add(len(ci - 1)) <= CHUNK_MAX {
            let this = self.chunks.remove(ci);
            if let Some(c) = self.chunks.get_mut(ci - 1) {
                c.extend(this);
            }
            return true;
        }
        false
    }

    pub fn remove(&mut self, score: f64, member: &[u8]) -> Option<Item> {
        let r = self.rank(score, member)?;
        self.remove_at(r)
    }

    /// Items from rank `rank` upwards.
    pub fn iter_from(&self, rank: usize) -> impl Iterator<Item = &Item> + '_ {
        let (ci, off) = self.locate(rank).unwrap_or((self.chunks.len(), 0));
        let first = self
            .chunks
            .get(ci)
            .and_then(|c| c.get(off..))
            .unwrap_or(&[]);
        let rest = self.chunks.get(ci + 1..).unwrap_or(&[]);
        first.iter().chain(rest.iter().flatten())
    }

    /// Items from rank `rank` downwards.
    pub fn iter_down_from(&self, rank: usize) -> impl Iterator<Item = &Item> + '_ {
        let (ci, off, some) = match self.locate(rank) {
            Some((ci, off)) => (ci, off, true),
            None => (0, 0, false),
        };
        let first = if some {
            self.chunks
                .get(ci)
                .and_then(|c| c.get(..=off))
                .unwrap_or(&[])
        } else {
            &[]
        };
        let rest = if some {
            self.chunks.get(..ci).unwrap_or(&[])
        } else {
            &[]
        };
        first
            .iter()
            .rev()
            .chain(rest.iter().rev().flat_map(|c| c.iter().rev()))
    }

    /// Every item in order.
    pub fn iter(&self) -> impl Iterator<Item = &Item> + '_ {
        self.chunks.iter().flatten()
    }

    /// Checks the structure's invariants (tests).
    #[cfg(test)]
    fn check(&self) {
        let mut prev: Option<&Item> = None;
        let mut count = 0;
        for (i, c) in self.chunks.iter().enumerate() {
            assert!(!c.is_empty(), "empty chunk");
            assert!(c.len() <= CHUNK_MAX);
            assert_eq!(self.prefix(i), count);
            for it in c {
                if let Some(p) = prev {
                    assert_eq!(cmp_key(it.score, &it.member, p), Ordering::Greater);
                }
                prev = Some(it);
                count += 1;
            }
        }
        assert_eq!(count, self.len);
    }
}

/// The `skiplist` encoding: member -> score, plus the ordered index. The map is the
/// keyspace's own [`Dict`], so ZSCAN gets the same reverse-binary cursor guarantee as SCAN
/// (every member present for the whole iteration is returned, whatever resizes happen).
#[derive(Default)]
pub struct Big {
    map: Dict<f64>,
    index: Index,
}

impl Clone for Big {
    fn clone(&self) -> Big {
        let mut map = Dict::new();
        for (m, s) in self.map.iter() {
            map.insert_new(hash_key(m), m.into(), *s);
        }
        Big {
            map,
            index: self.index.clone(),
        }
    }
}

impl std::fmt::Debug for Big {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.index.iter()).finish()
    }
}

// =============================================================================================
// The sorted set type
// =============================================================================================

/// A sorted set in one of Redis's two encodings.
#[derive(Debug, Clone)]
pub enum ZSet {
    /// Small: one sorted vector.
    Listpack(Vec<Item>),
    /// Big: map + order-statistics index (Redis's name for its equivalent).
    Skiplist(Box<Big>),
}

impl PartialEq for ZSet {
    /// Same encoding and same items in the same order.
    fn eq(&self, other: &ZSet) -> bool {
        self.encoding_name() == other.encoding_name()
            && self.len() == other.len()
            && self.iter().zip(other.iter()).all(|(a, b)| a == b)
    }
}

/// What [`ZSet::add`] may do (ZADD's flags).
#[derive(Debug, Clone, Copy, Default)]
pub struct AddFlags {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
    pub incr: bool,
}

/// What [`ZSet::add`] did. The score carried is the one computed (ZADD INCR / ZINCRBY reply
/// with it, as Redis's `newscore`), not the one read back: a listpack stores `-0` as `0`, yet
/// `ZINCRBY k -0 m` on a new member replies `-0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AddOutcome {
    /// A new member, with its score.
    Added(f64),
    /// An existing member whose score changed; the new score.
    Updated(f64),
    /// An existing member whose score is numerically the same; the computed score.
    Unchanged(f64),
    /// Nothing done: NX/XX/GT/LT prevented it (with INCR the reply is null).
    Skipped,
}

/// The increment produced NaN (`inf + -inf`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NanScore;

impl Default for ZSet {
    fn default() -> Self {
        ZSet::Listpack(Vec::new())
    }
}

impl ZSet {
    /// An empty set in the encoding Redis creates for a new key: `listpack`, unless the
    /// thresholds are zero or the first member is already too long.
    pub fn new_for(limits: Limits, first_member_len: usize) -> ZSet {
        if limits.max_entries == 0 || first_member_len > limits.max_value {
            ZSet::Skiplist(Box::default())
        } else {
            ZSet::Listpack(Vec::new())
        }
    }

    /// A skiplist-encoded set from items in any order (duplicates: the last one wins).
    pub fn from_items_skiplist(items: impl IntoIterator<Item = Item>) -> ZSet {
        let mut z = ZSet::Skiplist(Box::default());
        for it in items {
            z.insert_unchecked(it.member, it.score);
        }
        z
    }

    pub fn encoding_name(&self) -> &'static str {
        match self {
            ZSet::Listpack(_) => "listpack",
            ZSet::Skiplist(_) => "skiplist",
        }
    }

    pub fn len(&self) -> usize {
        match self {
            ZSet::Listpack(v) => v.len(),
            ZSet::Skiplist(b) => b.index.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Listpack(v) => v.iter().find(|it| &*it.member == member).map(|it| it.score),
            ZSet::Skiplist(b) => b.map.get(hash_key(member), member).copied(),
        }
    }

    /// The ascending rank of `member` and its score.
    pub fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        match self {
            ZSet::Listpack(v) => v
                .iter()
                .position(|it| &*it.member == member)
                .and_then(|r| v.get(r).map(|it| (r, it.score))),
            ZSet::Skiplist(b) => {
                let score = *b.map.get(hash_key(member), member)?;
                b.index.rank(score, member).map(|r| (r, score))
            }
        }
    }

    /// The item at ascending rank `rank`.
    pub fn get(&self, rank: usize) -> Option<&Item> {
        match self {
            ZSet::Listpack(v) => v.get(rank),
            ZSet::Skiplist(b) => b.index.get(rank),
        }
    }

    /// The number of leading items (in ascending order) for which `pred` holds; `pred` must
    /// hold on a prefix of the order.
    pub fn partition_point(&self, pred: impl Fn(&Item) -> bool) -> usize {
        match self {
            ZSet::Listpack(v) => v.partition_point(pred),
            ZSet::Skiplist(b) => b.index.partition_point(pred),
        }
    }

    /// Items in ascending order from rank `rank` (or descending from it with `down`).
    pub fn iter_at(&self, rank: usize, down: bool) -> Box<dyn Iterator<Item = &Item> + '_> {
        match (self, down) {
            (ZSet::Listpack(v), false) => Box::new(v.get(rank..).unwrap_or(&[]).iter()),
            (ZSet::Listpack(v), true) => {
                let end = if rank < v.len() { rank + 1 } else { 0 };
                Box::new(v.get(..end).unwrap_or(&[]).iter().rev())
            }
            (ZSet::Skiplist(b), false) => Box::new(b.index.iter_from(rank)),
            (ZSet::Skiplist(b), true) => Box::new(b.index.iter_down_from(rank)),
        }
    }

    /// Every item in ascending order.
    pub fn iter(&self) -> Box<dyn Iterator<Item = &Item> + '_> {
        match self {
            ZSet::Listpack(v) => Box::new(v.iter()),
            ZSet::Skiplist(b) => Box::new(b.index.iter()),
        }
    }

    /// Converts to `skiplist` (one way; also used by loaders and tests).
    pub fn convert_to_skiplist(&mut self) {
        if let ZSet::Listpack(v) = self {
            let mut big = Big::default();
            for it in std::mem::take(v) {
                big.map
                    .insert_new(hash_key(&it.member), it.member.clone(), it.score);
                big.index.insert(it);
            }
            *self = ZSet::Skiplist(Box::new(big));
        }
    }

    /// Converts to `listpack` (scores normalized as a listpack stores them).
    fn convert_to_listpack(&mut self) {
        if let ZSet::Skiplist(b) = self {
            let items: Vec<Item> = std::mem::take(&mut b.index)
                .chunks
                .into_iter()
                .flatten()
                .map(|mut it| {
                    it.score = normalize_listpack_score(it.score);
                    it
                })
                .collect();
            *self = ZSet::Listpack(items);
        }
    }

    /// Picks the encoding for a set built whole (STORE results, RESTORE of a `zset2`
    /// payload): `listpack` when the content fits the limits, else `skiplist` — Redis's
    /// `zsetConvertToListpackIfNeeded`.
    pub fn fit_encoding(&mut self, limits: Limits) {
        let fits = self.len() <= limits.max_entries
            && self.iter().all(|it| it.member.len() <= limits.max_value);
        if fits {
            self.convert_to_listpack();
        } else {
            self.convert_to_skiplist();
        }
    }

    /// The encoding after loading from RDB bytes, as Redis 7.0's loader decides: a `zset2`
    /// body (loaded as `skiplist`) becomes `listpack` if it fits ([`ZSet::fit_encoding`]); a
    /// listpack body stays `listpack` unless it has more than `zset-max-listpack-entries`
    /// items (member lengths are not rechecked).
    pub fn fit_loaded_encoding(&mut self, limits: Limits) {
        match self {
            ZSet::Listpack(v) if v.len() > limits.max_entries => self.convert_to_skiplist(),
            ZSet::Listpack(_) => {}
            ZSet::Skiplist(_) => self.fit_encoding(limits),
        }
    }

    /// Inserts or updates `member` without any flag logic, converting to `skiplist` when the
    /// listpack limits would be passed. Returns the previous score.
    pub fn insert(&mut self, member: &[u8], score: f64, limits: Limits) -> Option<f64> {
        if let ZSet::Listpack(v) = self {
            let exists = v.iter().any(|it| &*it.member == member);
            if !exists && (v.len() + 1 > limits.max_entries || member.len() > limits.max_value) {
                self.convert_to_skiplist();
            }
        }
        self.insert_unchecked(member.into(), score)
    }

    /// Inserts or updates in the current encoding.
    fn insert_unchecked(&mut self, member: Box<[u8]>, score: f64) -> Option<f64> {
        match self {
            ZSet::Listpack(v) => {
                let score = normalize_listpack_score(score);
                let old = v
                    .iter()
                    .position(|it| it.member == member)
                    .map(|i| v.remove(i).score);
                let at = v.partition_point(|it| cmp_key(score, &member, it) == Ordering::Greater);
                v.insert(at, Item { member, score });
                old
            }
            ZSet::Skiplist(b) => {
                let old = b.map.insert(hash_key(&member), &member, score);
                if let Some(o) = old {
                    if o.to_bits() == score.to_bits() {
                        return old;
                    }
                    b.index.remove(o, &member);
                }
                b.index.insert(Item { member, score });
                old
            }
        }
    }

    /// ZADD's per-member logic (Redis's `zsetAdd`): NX/XX/GT/LT/INCR decide whether and how
    /// the score changes. `Err(NanScore)` if INCR produced NaN (nothing changed).
    pub fn add(
        &mut self,
        member: &[u8],
        score: f64,
        flags: AddFlags,
        limits: Limits,
    ) -> Result<AddOutcome, NanScore> {
        match self.score(member) {
            Some(cur) => {
                if flags.nx {
                    return Ok(AddOutcome::Skipped);
                }
                let new = if flags.incr {
                    let n = cur + score;
                    if n.is_nan() {
                        return Err(NanScore);
                    }
                    n
                } else {
                    score
                };
                if (flags.lt && new >= cur) || (flags.gt && new <= cur) {
                    return Ok(AddOutcome::Skipped);
                }
                // Numeric comparison, as Redis: -0 and 0 are the same score.
                if new == cur {
                    return Ok(AddOutcome::Unchanged(new));
                }
                self.insert(member, new, limits);
                Ok(AddOutcome::Updated(new))
            }
            None => {
                if flags.xx {
                    return Ok(AddOutcome::Skipped);
                }
                self.insert(member, score, limits);
                Ok(AddOutcome::Added(score))
            }
        }
    }

    /// Removes `member`; returns its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Listpack(v) => {
                let i = v.iter().position(|it| &*it.member == member)?;
                Some(v.remove(i).score)
            }
            ZSet::Skiplist(b) => {
                let (_, score) = b.map.remove(hash_key(member), member)?;
                b.index.remove(score, member);
                Some(score)
            }
        }
    }

    /// Removes the items with ascending ranks `start..end`; returns them in ascending order.
    pub fn remove_range(&mut self, start: usize, end: usize) -> Vec<Item> {
        let end = end.min(self.len());
        if start >= end {
            return Vec::new();
        }
        match self {
            ZSet::Listpack(v) => v.drain(start..end).collect(),
            ZSet::Skiplist(b) => {
                let mut out = Vec::with_capacity(end - start);
                for _ in start..end {
                    if let Some(it) = b.index.remove_at(start) {
                        b.map.remove(hash_key(&it.member), &it.member);
                        out.push(it);
                    }
                }
                out
            }
        }
    }

    /// One ZSCAN step: a listpack is returned whole with the final cursor 0 (as Redis does);
    /// a skiplist visits one bucket of its member table per [`Dict::scan_step`].
    pub fn scan_step(&self, cursor: u64, mut f: impl FnMut(&[u8], f64)) -> u64 {
        match self {
            ZSet::Listpack(v) => {
                for it in v {
                    f(&it.member, it.score);
                }
                0
            }
            ZSet::Skiplist(b) => b.map.scan_step(cursor, |m, s| f(m, *s)),
        }
    }

    /// Checks the invariants (tests).
    #[cfg(test)]
    pub fn check(&self) {
        match self {
            ZSet::Listpack(v) => {
                for w in v.windows(2) {
                    assert_eq!(cmp_key(w[1].score, &w[1].member, &w[0]), Ordering::Greater);
                }
            }
            ZSet::Skiplist(b) => {
                b.index.check();
                assert_eq!(b.map.len(), b.index.len());
                for it in b.index.iter() {
                    let got = b.map.get(hash_key(&it.member), &it.member);
                    assert_eq!(got.map(|s| s.to_bits()), Some(it.score.to_bits()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SMALL: Limits = Limits {
        max_entries: 4,
        max_value: 3,
    };

    fn model_sorted(m: &std::collections::BTreeMap<Vec<u8>, f64>) -> Vec<(Vec<u8>, f64)> {
        let mut v: Vec<(Vec<u8>, f64)> = m.iter().map(|(k, s)| (k.clone(), *s)).collect();
        v.sort_by(|a, b| {
            a.1.partial_cmp(&b.1)
                .unwrap_or(Ordering::Equal)
                .then_with(|| a.0.cmp(&b.0))
        });
        v
    }

    #[derive(Debug, Clone)]
    enum Op {
        Add(Vec<u8>, f64),
        Rem(Vec<u8>),
        Incr(Vec<u8>, f64),
    }

    fn op() -> impl Strategy<Value = Op> {
        let member = proptest::collection::vec(b'a'..b'h', 1..4);
        let score = prop_oneof![(-5i32..5).prop_map(f64::from), -1e3f64..1e3];
        prop_oneof![
            (member.clone(), score.clone()).prop_map(|(m, s)| Op::Add(m, s)),
            member.clone().prop_map(Op::Rem),
            (member, score).prop_map(|(m, s)| Op::Incr(m, s)),
        ]
    }

    fn run_ops(
        z: &mut ZSet,
        ops: &[Op],
        limits: Limits,
    ) -> std::collections::BTreeMap<Vec<u8>, f64> {
        let mut model = std::collections::BTreeMap::new();
        for o in ops {
            match o {
                Op::Add(m, s) => {
                    z.insert(m, *s, limits);
                    model.insert(m.clone(), *s);
                }
                Op::Rem(m) => {
                    assert_eq!(z.remove(m).is_some(), model.remove(m).is_some());
                }
                Op::Incr(m, s) => {
                    let flags = AddFlags {
                        incr: true,
                        ..AddFlags::default()
                    };
                    let r = z.add(m, *s, flags, limits);
                    assert!(r.is_ok());
                    *model.entry(m.clone()).or_insert(0.0) += *s;
                }
            }
        }
        model
    }

    proptest! {
        #[test]
        fn matches_a_sorted_vec_model(ops in proptest::collection::vec(op(), 0..300),
                                      probe in -6.0f64..6.0) {
            for limits in [SMALL, Limits { max_entries: 0, max_value: 0 },
                           Limits { max_entries: 1000, max_value: 64 }] {
                let mut z = ZSet::new_for(limits, 0);
                let model = run_ops(&mut z, &ops, limits);
                z.check();
                let want = model_sorted(&model);
                prop_assert_eq!(z.len(), want.len());
                for (r, (m, s)) in want.iter().enumerate() {
                    let got = z.get(r).map(|it| (it.member.to_vec(), it.score));
                    // Listpack loses -0's sign; compare numerically.
                    prop_assert!(got.as_ref().is_some_and(|g| &g.0 == m && g.1 == *s));
                    prop_assert_eq!(z.rank(m).map(|x| x.0), Some(r));
                }
                let below = z.partition_point(|it| it.score < probe);
                prop_assert_eq!(below, want.iter().filter(|x| x.1 < probe).count());
                let asc: Vec<Vec<u8>> = z.iter_at(0, false).map(|it| it.member.to_vec()).collect();
                let mut desc: Vec<Vec<u8>> = match z.len() {
                    0 => Vec::new(),
                    n => z.iter_at(n - 1, true).map(|it| it.member.to_vec()).collect(),
                };
                desc.reverse();
                prop_assert_eq!(&asc, &desc);
                prop_assert_eq!(asc, want.iter().map(|x| x.0.clone()).collect::<Vec<_>>());
            }
        }

        #[test]
        fn conversion_preserves_content_and_order(ops in proptest::collection::vec(op(), 0..200)) {
            let big = Limits { max_entries: 10_000, max_value: 64 };
            let mut z = ZSet::new_for(big, 0);
            run_ops(&mut z, &ops, big);
            let before: Vec<Item> = z.iter().cloned().collect();
            prop_assert_eq!(z.encoding_name(), "listpack");
            z.convert_to_skiplist();
            z.check();
            prop_assert_eq!(z.encoding_name(), "skiplist");
            let after: Vec<Item> = z.iter().cloned().collect();
            prop_assert_eq!(&before, &after);
            z.fit_encoding(big);
            prop_assert_eq!(z.encoding_name(), "listpack");
            let back: Vec<Item> = z.iter().cloned().collect();
            prop_assert_eq!(&before, &back);
        }
    }

    #[test]
    fn big_index_splits_and_merges() {
        let mut z = ZSet::Skiplist(Box::default());
        let limits = Limits {
            max_entries: 0,
            max_value: 0,
        };
        for i in 0..5000u32 {
            let m = format!("m{:05}", (i * 7919) % 5000);
            z.insert(m.as_bytes(), f64::from(i % 13), limits);
        }
        z.check();
        assert_eq!(z.len(), 5000);
        for i in 0..4900u32 {
            let m = format!("m{:05}", (i * 31) % 5000);
            assert!(z.remove(m.as_bytes()).is_some());
        }
        z.check();
        assert_eq!(z.len(), 100);
        let removed = z.remove_range(10, 60);
        assert_eq!(removed.len(), 50);
        z.check();
        assert_eq!(z.len(), 50);
    }

    #[test]
    fn listpack_drops_the_sign_of_zero() {
        let lim = Limits {
            max_entries: 128,
            max_value: 64,
        };
        let mut z = ZSet::new_for(lim, 1);
        z.insert(b"a", -0.0, lim);
        assert!(z.score(b"a").is_some_and(|s| s.is_sign_positive()));
        let mut z = ZSet::new_for(
            Limits {
                max_entries: 0,
                ..lim
            },
            1,
        );
        z.insert(b"a", -0.0, lim);
        assert!(z.score(b"a").is_some_and(|s| s.is_sign_negative()));
    }
}
