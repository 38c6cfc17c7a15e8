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
//! As in Redis 7.0, small sets are `listpack`: member, score, member, score... in
//! `(score, member)` order in one [`Listpack`] (Redis's own byte format, one allocation for
//! the whole set), walked linearly for a member or a rank — at most
//! `zset-max-listpack-entries` pairs (128 by default), where a walk costs less than the
//! pointers it saves. A score is stored exactly as Redis 7.0 writes it (an integer entry when
//! integral and within ±2^62, else its `%.17g` text, see `ScoreEntry`), so the listpack IS
//! the body of an RDB `zset listpack` value and DUMP copies it; reads hand out [`ItemRef`]s
//! that borrow the member from the buffer. A set converts, one way, to `skiplist` (the map + index above; `OBJECT
//! ENCODING` keeps Redis's name) when an insert would pass `zset-max-listpack-entries` or add
//! a member longer than `zset-max-listpack-value`. Commands that build a new set whole (the
//! STORE variants, RESTORE) pick the encoding for the final content
//! ([`ZSet::fit_encoding`]), as Redis does.
//!
//! A listpack stores an integral score as an integer, which loses the sign of zero: `-0` in a
//! listpack reads back as `0`, while the skiplist keeps `-0`. We reproduce that (see
//! [`normalize_listpack_score`]) so ZSCORE agrees with Redis under both encodings.
//!
//! Invariants: no score is NaN; members are unique; items are sorted by `(score, member)` with
//! scores compared numerically (`-0 == 0`) and members bytewise; in the skiplist encoding the
//! map and the index hold exactly the same `(member, score)` pairs; no chunk is empty.

use crate::dict::{hash_key, Dict};
use crate::types::listpack::{Entry, EntryBytes, Listpack, Pos};
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
// The listpack encoding: member, score, member, score... in one listpack
// =============================================================================================

/// A member and its score, borrowed from the set: an item of the skiplist, or a pair of a
/// listpack (whose member may be an integer entry, rendered in place).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ItemRef<'a> {
    pub member: EntryBytes<'a>,
    pub score: f64,
}

impl ItemRef<'_> {
    /// An owned copy.
    pub fn to_item(&self) -> Item {
        Item {
            member: self.member.to_vec().into_boxed_slice(),
            score: self.score,
        }
    }
}

impl<'a> From<&'a Item> for ItemRef<'a> {
    fn from(it: &'a Item) -> Self {
        ItemRef {
            member: EntryBytes::Borrowed(&it.member),
            score: it.score,
        }
    }
}

/// Whether `(score, member)` sorts after the item `it`.
fn after_ref(score: f64, member: &[u8], it: &ItemRef<'_>) -> bool {
    match score.partial_cmp(&it.score) {
        Some(Ordering::Equal) | None => member > &*it.member,
        Some(o) => o == Ordering::Greater,
    }
}

/// A score as a listpack stores it, as Redis 7.0's `zzlInsertAt` writes it: an integral score
/// within `±LLONG_MAX / 2` (Redis's `double2ll`) as an integer entry — so `-0` becomes `0`, a
/// listpack drops the sign of zero — and any other as its `%.17g` text (`d2string`: `inf`,
/// `-inf`, `1e+300`, `0.10000000000000001`). `%.17g` is exact, so the text parses back to the
/// same double.
enum ScoreEntry {
    Int(i64),
    Text(String),
}

/// `(double)(LLONG_MAX / 2)`, which rounds to 2^62.
const SCORE_INT_MAX: f64 = (i64::MAX / 2) as f64;

impl ScoreEntry {
    fn new(score: f64) -> Self {
        if (-SCORE_INT_MAX..=SCORE_INT_MAX).contains(&score) && score.trunc() == score {
            ScoreEntry::Int(score as i64)
        } else {
            ScoreEntry::Text(fastkv_resp::float::fmt_g17(score))
        }
    }

    fn entry(&self) -> Entry<'_> {
        match self {
            ScoreEntry::Int(n) => Entry::Int(*n),
            ScoreEntry::Text(t) => Entry::Str(t.as_bytes()),
        }
    }
}

/// The score of a listpack entry. Every listpack we hold was written by [`ScoreEntry`] (a
/// loaded one is rebuilt), so the text always parses.
fn entry_score(e: Entry<'_>) -> f64 {
    match e {
        Entry::Int(n) => n as f64,
        Entry::Str(s) => crate::command::parse_float(s).unwrap_or(0.0),
    }
}

/// The pairs of a sorted set listpack from `p` (a member's position) up.
fn lp_items_at(lp: &Listpack, p: Pos) -> impl Iterator<Item = ItemRef<'_>> + '_ {
    let mut it = lp.iter_at(p);
    std::iter::from_fn(move || {
        let member = it.next()?.bytes();
        let score = entry_score(it.next()?);
        Some(ItemRef { member, score })
    })
}

/// The pairs of a sorted set listpack from the one at rank `rank` down to the first.
fn lp_items_down(lp: &Listpack, rank: usize) -> impl Iterator<Item = ItemRef<'_>> + '_ {
    // The score of the pair at `rank`; walking down yields score, member, score, member...
    let start = rank
        .checked_mul(2)
        .and_then(|i| i.checked_add(1))
        .filter(|&i| i < lp.len())
        .and_then(|i| lp.pos(i));
    let mut it = start.map(|p| lp.iter_down_from(p));
    std::iter::from_fn(move || {
        let it = it.as_mut()?;
        let score = entry_score(it.next()?);
        let member = it.next()?.bytes();
        Some(ItemRef { member, score })
    })
}

/// The position of the pair at rank `rank` (the end for `rank == len`).
fn lp_rank_pos(lp: &Listpack, rank: usize) -> Option<Pos> {
    lp.pos(rank.checked_mul(2)?)
}

/// Inserts a pair in order into a sorted set listpack that does not hold `member`.
fn lp_insert(lp: &mut Listpack, member: &[u8], score: f64) {
    let mut at = lp.end();
    let mut p = lp.first();
    while let Some(mp) = p {
        let Some(sp) = lp.next(mp) else { break };
        let (Some(m), Some(s)) = (lp.get(mp), lp.get(sp)) else {
            break;
        };
        let here = ItemRef {
            member: m.bytes(),
            score: entry_score(s),
        };
        if !after_ref(score, member, &here) {
            at = mp;
            break;
        }
        p = lp.next(sp);
    }
    let s = ScoreEntry::new(score);
    lp.insert_pair(at, member, s.entry());
}

/// Removes `member` from a sorted set listpack; returns its score.
fn lp_remove(lp: &mut Listpack, member: &[u8]) -> Option<f64> {
    let p = lp.find(None, member, 1)?;
    let score = entry_score(lp.get(lp.next(p)?)?);
    lp.remove_range(p, 2);
    Some(score)
}

// =============================================================================================
// The sorted set type
// =============================================================================================

/// A sorted set in one of Redis's two encodings.
#[derive(Debug, Clone)]
pub enum ZSet {
    /// Small: (member, score) pairs in order in one listpack, Redis's own layout.
    Listpack(Listpack),
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
        ZSet::Listpack(Listpack::new())
    }
}

impl ZSet {
    /// An empty set in the encoding Redis creates for a new key: `listpack`, unless the
    /// thresholds are zero or the first member is already too long.
    pub fn new_for(limits: Limits, first_member_len: usize) -> ZSet {
        if limits.max_entries == 0 || first_member_len > limits.max_value {
            ZSet::Skiplist(Box::default())
        } else {
            ZSet::Listpack(Listpack::new())
        }
    }

    /// A skiplist-encoded set from items in any order (duplicates: the last one wins).
    pub fn from_items_skiplist(items: impl IntoIterator<Item = Item>) -> ZSet {
        let mut z = ZSet::Skiplist(Box::default());
        for it in items {
            z.insert_unchecked(&it.member, it.score);
        }
        z
    }

    /// A listpack-encoded set from items already in `(score, member)` order with distinct
    /// members (scores stored as a listpack stores them).
    pub fn from_sorted_listpack<'a>(items: impl IntoIterator<Item = ItemRef<'a>>) -> ZSet {
        let mut lp = Listpack::new();
        for it in items {
            let s = ScoreEntry::new(it.score);
            lp.push_pair(&*it.member, s.entry());
        }
        ZSet::Listpack(lp)
    }

    /// The listpack of a `listpack`-encoded set: exactly the body of an RDB
    /// `zset listpack` value.
    pub fn listpack_bytes(&self) -> Option<&[u8]> {
        match self {
            ZSet::Listpack(lp) => Some(lp.as_bytes()),
            ZSet::Skiplist(_) => None,
        }
    }

    pub fn encoding_name(&self) -> &'static str {
        match self {
            ZSet::Listpack(_) => "listpack",
            ZSet::Skiplist(_) => "skiplist",
        }
    }

    pub fn len(&self) -> usize {
        match self {
            ZSet::Listpack(lp) => lp.len() / 2,
            ZSet::Skiplist(b) => b.index.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Listpack(lp) => {
                let p = lp.find(None, member, 1)?;
                lp.get(lp.next(p)?).map(entry_score)
            }
            ZSet::Skiplist(b) => b.map.get(hash_key(member), member).copied(),
        }
    }

    /// The ascending rank of `member` and its score.
    pub fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        match self {
            ZSet::Listpack(lp) => lp
                .pairs()
                .enumerate()
                .find(|(_, (m, _))| *m.bytes() == *member)
                .map(|(r, (_, s))| (r, entry_score(s))),
            ZSet::Skiplist(b) => {
                let score = *b.map.get(hash_key(member), member)?;
                b.index.rank(score, member).map(|r| (r, score))
            }
        }
    }

    /// The item at ascending rank `rank`.
    pub fn get(&self, rank: usize) -> Option<ItemRef<'_>> {
        match self {
            ZSet::Listpack(lp) => {
                let p = lp_rank_pos(lp, rank)?;
                lp_items_at(lp, p).next()
            }
            ZSet::Skiplist(b) => b.index.get(rank).map(ItemRef::from),
        }
    }

    /// The number of leading items (in ascending order) for which `pred` holds; `pred` must
    /// hold on a prefix of the order.
    pub fn partition_point(&self, pred: impl Fn(&ItemRef<'_>) -> bool) -> usize {
        match self {
            ZSet::Listpack(lp) => lp_items_at(lp, lp.first().unwrap_or(lp.end()))
                .take_while(|it| pred(it))
                .count(),
            ZSet::Skiplist(b) => b.index.partition_point(|it| pred(&ItemRef::from(it))),
        }
    }

    /// Items in ascending order from rank `rank` (or descending from it with `down`).
    pub fn iter_at(&self, rank: usize, down: bool) -> Box<dyn Iterator<Item = ItemRef<'_>> + '_> {
        match (self, down) {
            (ZSet::Listpack(lp), false) => match lp_rank_pos(lp, rank) {
                Some(p) => Box::new(lp_items_at(lp, p)),
                None => Box::new(std::iter::empty()),
            },
            (ZSet::Listpack(lp), true) => Box::new(lp_items_down(lp, rank)),
            (ZSet::Skiplist(b), false) => Box::new(b.index.iter_from(rank).map(ItemRef::from)),
            (ZSet::Skiplist(b), true) => Box::new(b.index.iter_down_from(rank).map(ItemRef::from)),
        }
    }

    /// Every item in ascending order.
    pub fn iter(&self) -> Box<dyn Iterator<Item = ItemRef<'_>> + '_> {
        self.iter_at(0, false)
    }

    /// Converts to `skiplist` (one way; also used by loaders and tests).
    pub fn convert_to_skiplist(&mut self) {
        if let ZSet::Listpack(lp) = self {
            let mut big = Big::default();
            for it in lp_items_at(lp, lp.first().unwrap_or(lp.end())) {
                let it = it.to_item();
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
            let z = ZSet::from_sorted_listpack(b.index.iter().map(ItemRef::from));
            *self = z;
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
            ZSet::Listpack(_) if self.len() > limits.max_entries => self.convert_to_skiplist(),
            ZSet::Listpack(_) => {}
            ZSet::Skiplist(_) => self.fit_encoding(limits),
        }
    }

    /// Inserts or updates `member` without any flag logic, converting to `skiplist` when the
    /// listpack limits would be passed. Returns the previous score.
    pub fn insert(&mut self, member: &[u8], score: f64, limits: Limits) -> Option<f64> {
        if let ZSet::Listpack(lp) = self {
            let grows = lp.find(None, member, 1).is_none();
            if grows
                && (lp.len() / 2 + 1 > limits.max_entries
                    || member.len() > limits.max_value
                    || !lp.safe_to_add(member.len() + 32))
            {
                self.convert_to_skiplist();
            }
        }
        self.insert_unchecked(member, score)
    }

    /// Inserts or updates in the current encoding.
    fn insert_unchecked(&mut self, member: &[u8], score: f64) -> Option<f64> {
        match self {
            ZSet::Listpack(lp) => {
                let old = lp_remove(lp, member);
                lp_insert(lp, member, score);
                old
            }
            ZSet::Skiplist(b) => {
                let old = b.map.insert(hash_key(member), member, score);
                if let Some(o) = old {
                    if o.to_bits() == score.to_bits() {
                        return old;
                    }
                    b.index.remove(o, member);
                }
                b.index.insert(Item {
                    member: member.into(),
                    score,
                });
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
            ZSet::Listpack(lp) => lp_remove(lp, member),
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
            ZSet::Listpack(lp) => {
                let Some(p) = lp_rank_pos(lp, start) else {
                    return Vec::new();
                };
                let out: Vec<Item> = lp_items_at(lp, p)
                    .take(end - start)
                    .map(|it| it.to_item())
                    .collect();
                lp.remove_range(p, 2 * out.len());
                out
            }
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
            ZSet::Listpack(_) => {
                for it in self.iter() {
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
            ZSet::Listpack(lp) => {
                assert_eq!(lp.len() % 2, 0);
                let items: Vec<Item> = self.iter().map(|it| it.to_item()).collect();
                assert_eq!(items.len(), self.len());
                for w in items.windows(2) {
                    assert_eq!(cmp_key(w[1].score, &w[1].member, &w[0]), Ordering::Greater);
                }
                // Every score is stored as Redis writes it.
                let rebuilt = ZSet::from_sorted_listpack(items.iter().map(ItemRef::from));
                assert_eq!(rebuilt.listpack_bytes(), Some(lp.as_bytes()));
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
            let before: Vec<Item> = z.iter().map(|it| it.to_item()).collect();
            prop_assert_eq!(z.encoding_name(), "listpack");
            z.convert_to_skiplist();
            z.check();
            prop_assert_eq!(z.encoding_name(), "skiplist");
            let after: Vec<Item> = z.iter().map(|it| it.to_item()).collect();
            prop_assert_eq!(&before, &after);
            z.fit_encoding(big);
            prop_assert_eq!(z.encoding_name(), "listpack");
            let back: Vec<Item> = z.iter().map(|it| it.to_item()).collect();
            prop_assert_eq!(&before, &back);
        }
    }

    proptest! {
        /// Any score survives the listpack exactly (but for the sign of zero), stored as the
        /// `%.17g` text Redis writes (an integer entry when that text is one).
        #[test]
        fn listpack_scores_round_trip_as_redis_writes_them(
            scores in proptest::collection::vec(
                prop_oneof![
                    any::<f64>().prop_filter("not NaN", |f| !f.is_nan()),
                    (-1i64 << 60..1i64 << 60).prop_map(|n| n as f64),
                    proptest::sample::select(vec![
                        0.0, -0.0, 1e17, -1e17, 99_999_999_999_999_984.0, 4_503_599_627_370_496.0,
                        9_007_199_254_740_993.0, 1e300, 5e-324, f64::INFINITY, f64::NEG_INFINITY,
                        2f64.powi(62), -(2f64.powi(62)), 2f64.powi(63), 1e19, -1e19,
                        f64::MAX, f64::MIN, 0.1, -1.5,
                    ]),
                ],
                1..20,
            )
        ) {
            let lim = Limits { max_entries: 128, max_value: 64 };
            let mut z = ZSet::new_for(lim, 3);
            let mut model = std::collections::BTreeMap::new();
            for (i, sc) in scores.iter().enumerate() {
                let m = format!("m{}", i % 7);
                z.insert(m.as_bytes(), *sc, lim);
                model.insert(m.into_bytes(), normalize_listpack_score(*sc));
            }
            z.check();
            for (m, sc) in &model {
                prop_assert_eq!(z.score(m).map(f64::to_bits), Some(sc.to_bits()));
            }
            let mut want = Listpack::new();
            for (m, sc) in model_sorted(&model) {
                want.push(&m[..]);
                if sc.trunc() == sc && sc.abs() <= 2f64.powi(62) {
                    want.push(Entry::Int(sc as i64));
                } else {
                    want.push(fastkv_resp::float::fmt_g17(sc).as_bytes());
                }
            }
            prop_assert_eq!(z.listpack_bytes(), Some(want.as_bytes()));
        }
    }

    /// Whole-listpack reads agree with the skiplist on every rank, both ways.
    #[test]
    fn listpack_ranks_and_ranges_agree_with_the_skiplist() {
        let lim = Limits {
            max_entries: 128,
            max_value: 64,
        };
        let mut small = ZSet::new_for(lim, 1);
        for i in 0..40i32 {
            let m = if i % 3 == 0 {
                (i * 11).to_string()
            } else {
                format!("m{i}")
            };
            small.insert(m.as_bytes(), f64::from(i % 5) * 0.25, lim);
        }
        let mut big = small.clone();
        big.convert_to_skiplist();
        assert_eq!(small.encoding_name(), "listpack");
        let items = |it: Box<dyn Iterator<Item = ItemRef<'_>> + '_>| -> Vec<Item> {
            it.map(|i| i.to_item()).collect()
        };
        for r in 0..=41 {
            for down in [false, true] {
                assert_eq!(items(small.iter_at(r, down)), items(big.iter_at(r, down)));
            }
            assert_eq!(
                small.get(r).map(|i| i.to_item()),
                big.get(r).map(|i| i.to_item())
            );
        }
        for it in items(big.iter()) {
            assert_eq!(small.rank(&it.member), big.rank(&it.member));
        }
        let (a, b) = (small.remove_range(5, 12), big.remove_range(5, 12));
        assert_eq!(a, b);
        small.check();
        assert_eq!(items(small.iter()), items(big.iter()));
        assert_eq!(small.rank(b"nope"), None);
        assert_eq!(small.score(b"nope"), None);
    }

    #[test]
    fn listpack_bytes_match_redis() {
        // DUMP (rdbcompression no) on redis-server 7.0.15 after `ZADD z -0 a 1.5 b 3 c 1e20 d
        // 0.1 e 9007199254740993 f 4503599627370496 g -4503599627370495 h inf i -inf j
        // 123456789012 k -1e17 l 4611686018427387904 m -4611686018427387904 n
        // 4611686018427388928 o 1e-300 p`: the listpack inside the payload. Integral scores
        // up to 2^62 are integer entries, others `%.17g` text.
        let hex =
            "cd0000002000816a02842d696e6605816e02f400000000000000c009816c02f4000076a287ba9cfe0981\
            6802f4010000000000f0ff0981610200018170028631652d3330300781650293302e3130303030303030\
            3030303030303030311481620283312e35048163020301816b02f4141a99be1c00000009816702f40000\
            00000000100009816602f4000000000000200009816d02f4000000000000004009816f0296342e363131\
            36383630313834323733383839652b3138178164028531652b32300681690283696e6604ff";
        let want: Vec<u8> = (0..hex.len() / 2)
            .filter_map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
            .collect();
        let lim = Limits {
            max_entries: 128,
            max_value: 64,
        };
        let mut z = ZSet::new_for(lim, 1);
        for (s, m) in [
            (-0.0, "a"),
            (1.5, "b"),
            (3.0, "c"),
            (1e20, "d"),
            (0.1, "e"),
            (9_007_199_254_740_993.0, "f"),
            (4_503_599_627_370_496.0, "g"),
            (-4_503_599_627_370_495.0, "h"),
            (f64::INFINITY, "i"),
            (f64::NEG_INFINITY, "j"),
            (123_456_789_012.0, "k"),
            (-1e17, "l"),
            (4_611_686_018_427_387_904.0, "m"),
            (-4_611_686_018_427_387_904.0, "n"),
            (4_611_686_018_427_388_928.0, "o"),
            (1e-300, "p"),
        ] {
            z.insert(m.as_bytes(), s, lim);
        }
        assert_eq!(z.listpack_bytes(), Some(&want[..]));
        assert_eq!(z.score(b"o"), Some(4_611_686_018_427_388_928.0));
        assert_eq!(z.score(b"n"), Some(-4_611_686_018_427_387_904.0));
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
