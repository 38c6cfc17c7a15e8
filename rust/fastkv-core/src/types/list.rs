//! Lists: sequences of byte strings with O(1) pushes and pops at both ends, stored compactly.
//!
//! # Representation
//!
//! A [`List`] is a quicklist, as in Redis 7.0: a `VecDeque` of nodes, each a [`Listpack`] (one
//! `Vec<u8>` in Redis's listpack format, see `types/listpack.rs`) holding a run of consecutive
//! elements. A small element costs 2-10 bytes inside its node instead of a 16-byte slot plus
//! its own allocation, and a canonical integer such as `"42"` is stored in one or two bytes.
//!
//! Node size is bounded by `list-max-listpack-size` (the list's `fill`, taken from the config
//! when the list is created): -1..-5 limit a node's bytes to 4/8/16/32/64 KB (default -2, 8 KB);
//! a positive value limits its entry count (and its bytes to 8 KB). The admission test is
//! Redis 7.0's `_quicklistNodeAllowInsert` (the node's bytes, plus the element's raw length,
//! plus an overhead estimate), so pushes split nodes where Redis does and a DUMP carries the
//! same node bytes. A node that outgrows the limit in place (LSET with a longer value, LINSERT
//! into a full node) is split in halves; removals in the middle (LREM) merge neighbours whose
//! sum fits. An element longer than a node's limit gets a node of its own.
//!
//! Costs: push and pop at either end are O(1) amortised (an append to, or a removal at the
//! front of, a small buffer; a front removal moves at most one node's bytes); index access
//! walks node counts from the nearer end (O(nodes), each count an O(1) header read) and then
//! one node; LINSERT/LREM/LPOS are O(N). The total length is kept, so LLEN is O(1).
//!
//! Elements come back as [`EntryBytes`] (deref to `[u8]`): an integer entry is rendered into
//! the value itself, with no allocation.
//!
//! Encoding: Redis 7.0 reports `quicklist` for every list (the small-list `listpack` encoding
//! arrived in 7.2); so do we. The RDB form is quicklist2 (type 18): `rdb::object` writes
//! [`List::nodes`] verbatim and adopts loaded nodes with [`List::from_nodes`].
//!
//! Invariants: no node is empty; `len` is the sum of the node counts; a stored list is never
//! empty (the commands delete the key with its last element).

use super::listpack::{self, Entry, EntryBytes, Listpack};
use std::collections::VecDeque;
use std::ops::Range;

/// Node byte limits for `list-max-listpack-size` -1..-5 (Redis's `optimization_level`).
const FILL_BYTES: [usize; 5] = [4096, 8192, 16 * 1024, 32 * 1024, 64 * 1024];
/// Byte cap of a count-limited node (Redis's `SIZE_SAFETY_LIMIT`).
const SIZE_SAFETY_LIMIT: usize = 8192;
/// Largest count limit (Redis's `FILL_MAX`); larger settings are clamped, as are those below -5.
const FILL_MAX: i64 = (1 << 15) - 1;
/// `list-max-listpack-size`'s default: 8 KB nodes.
pub const DEFAULT_FILL: i64 = -2;
/// Redis's estimate of an entry's overhead in a node (`SIZE_ESTIMATE_OVERHEAD`): an element of
/// `sz` bytes may join a node when `node bytes + sz + 8` is within the limit.
const SIZE_ESTIMATE_OVERHEAD: usize = 8;
/// The estimate can undercount a long string's entry (up to 5 + 5 bytes of encoding and
/// backlen); a node that little over its limit is not "oversized" (see [`List::oversized`]).
const ESTIMATE_SLACK: usize = 16;
/// Header and terminator of a listpack, counted once when two nodes merge.
const LP_OVERHEAD: usize = 7;

/// Which end of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The head (LPUSH, LPOP, LEFT).
    Left,
    /// The tail (RPUSH, RPOP, RIGHT).
    Right,
}

impl End {
    /// `LEFT` / `RIGHT` in any case (LMOVE, BLMOVE, LMPOP).
    pub fn parse(arg: &[u8]) -> Option<End> {
        if arg.eq_ignore_ascii_case(b"left") {
            Some(End::Left)
        } else if arg.eq_ignore_ascii_case(b"right") {
            Some(End::Right)
        } else {
            None
        }
    }
}

/// A list value: a quicklist of listpack nodes (see the module essay).
#[derive(Debug, Clone)]
pub struct List {
    nodes: VecDeque<Listpack>,
    /// Elements in all nodes.
    len: usize,
    /// `list-max-listpack-size` when the list was made, clamped to -5..=FILL_MAX.
    fill: i32,
}

impl Default for List {
    fn default() -> Self {
        List::with_fill(DEFAULT_FILL)
    }
}

/// Lists are equal when their elements are, whatever their node layout.
impl PartialEq for List {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl Eq for List {}

impl List {
    /// An empty list with the default node size.
    pub fn new() -> Self {
        List::default()
    }

    /// An empty list whose nodes follow `list-max-listpack-size` = `fill`.
    pub fn with_fill(fill: i64) -> Self {
        List {
            nodes: VecDeque::new(),
            len: 0,
            fill: fill.clamp(-5, FILL_MAX) as i32,
        }
    }

    /// A list holding `items` in order (default node size).
    pub fn from_items(items: impl IntoIterator<Item = Vec<u8>>) -> Self {
        let mut l = List::new();
        for it in items {
            l.push(End::Right, &it);
        }
        l
    }

    /// A list made of these nodes as they are (an RDB quicklist's, already validated by
    /// [`Listpack::from_bytes`]); empty nodes are dropped, as Redis skips them.
    pub fn from_nodes(nodes: impl IntoIterator<Item = Listpack>) -> Self {
        let mut l = List::new();
        for n in nodes {
            if !n.is_empty() {
                l.len += n.len();
                l.nodes.push_back(n);
            }
        }
        l
    }

    /// The nodes, head to tail (each a valid listpack: what RDB's quicklist2 carries).
    pub fn nodes(&self) -> impl ExactSizeIterator<Item = &Listpack> + '_ {
        self.nodes.iter()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// OBJECT ENCODING's answer: always `quicklist`, as Redis 7.0 reports.
    pub fn encoding_name(&self) -> &'static str {
        "quicklist"
    }

    // --- node limits ----------------------------------------------------------------------------

    /// Whether a node of `bytes` bytes and `count` entries is within the fill limit.
    fn size_ok(&self, bytes: usize, count: usize) -> bool {
        if self.fill < 0 {
            let i = usize::try_from(-1 - self.fill).unwrap_or(0);
            bytes <= FILL_BYTES.get(i).copied().unwrap_or(SIZE_SAFETY_LIMIT)
        } else {
            bytes <= SIZE_SAFETY_LIMIT && count <= self.fill as usize
        }
    }

    /// Redis 7.0's `_quicklistNodeAllowInsert`: whether an element of `sz` bytes may join
    /// `node`, estimating its encoded size as its raw length plus [`SIZE_ESTIMATE_OVERHEAD`].
    fn allow_insert(&self, node: &Listpack, sz: usize) -> bool {
        self.size_ok(
            node.bytes_len()
                .saturating_add(sz)
                .saturating_add(SIZE_ESTIMATE_OVERHEAD),
            node.len() + 1,
        )
    }

    /// Redis's `_quicklistNodeAllowMerge`: whether `a` and `b` fit one node.
    fn allow_merge(&self, a: &Listpack, b: &Listpack) -> bool {
        self.size_ok(
            (a.bytes_len() + b.bytes_len()).saturating_sub(LP_OVERHEAD),
            a.len() + b.len(),
        )
    }

    /// A node of two or more entries clearly over the limit (one entry may be any size).
    fn oversized(&self, node: &Listpack) -> bool {
        node.len() >= 2
            && !self.size_ok(node.bytes_len().saturating_sub(ESTIMATE_SLACK), node.len())
    }

    /// Splits node `ni` in halves until every part is within the limit.
    fn split_oversized(&mut self, ni: usize) {
        let Some(node) = self.nodes.get(ni) else {
            return;
        };
        if !self.oversized(node) {
            return;
        }
        let half = node.len() / 2;
        let right = Listpack::from_entries(node.iter().skip(half));
        if let Some(node) = self.nodes.get_mut(ni) {
            if let Some(p) = node.pos(half) {
                node.remove_range(p, usize::MAX);
            }
        }
        self.nodes.insert(ni + 1, right);
        self.split_oversized(ni + 1);
        self.split_oversized(ni);
    }

    /// After removals in nodes `lo..=hi`: drops the empty ones and merges neighbours (from
    /// `lo - 1` to `hi + 1`) whose sum fits one node.
    fn tidy(&mut self, lo: usize, hi: usize) {
        let mut hi = hi.min(self.nodes.len().saturating_sub(1));
        let mut i = lo;
        while i <= hi && i < self.nodes.len() {
            if self.nodes.get(i).is_some_and(Listpack::is_empty) {
                self.nodes.remove(i);
                if hi == 0 {
                    break;
                }
                hi -= 1;
            } else {
                i += 1;
            }
        }
        let mut i = lo.saturating_sub(1);
        let stop = (hi + 1).min(self.nodes.len().saturating_sub(1));
        let mut stop = stop;
        while i < stop {
            let fits = match (self.nodes.get(i), self.nodes.get(i + 1)) {
                (Some(a), Some(b)) => self.allow_merge(a, b),
                _ => false,
            };
            if !fits {
                i += 1;
                continue;
            }
            if let (Some(b), Some(a)) = (self.nodes.remove(i + 1), self.nodes.get_mut(i)) {
                for e in b.iter() {
                    a.push(e);
                }
            }
            stop -= 1;
        }
    }

    // --- ends -----------------------------------------------------------------------------------

    pub fn push(&mut self, end: End, item: &[u8]) {
        let edge = match end {
            End::Left => self.nodes.front(),
            End::Right => self.nodes.back(),
        };
        if !edge.is_some_and(|n| self.allow_insert(n, item.len())) {
            if self.nodes.capacity() == 0 {
                // Most lists fit one node: one slot, not the deque's default first four.
                self.nodes.reserve_exact(1);
            }
            match end {
                End::Left => self.nodes.push_front(Listpack::new()),
                End::Right => self.nodes.push_back(Listpack::new()),
            }
        }
        let node = match end {
            End::Left => self.nodes.front_mut(),
            End::Right => self.nodes.back_mut(),
        };
        if let Some(node) = node {
            match end {
                End::Left => {
                    let p = node.first().unwrap_or_else(|| node.end());
                    node.insert(p, item);
                }
                End::Right => node.push(item),
            }
            self.len += 1;
        }
    }

    /// Pushes an element already owned (LMOVE hands over what it popped).
    pub fn push_owned(&mut self, end: End, item: Box<[u8]>) {
        self.push(end, &item);
    }

    pub fn pop(&mut self, end: End) -> Option<Box<[u8]>> {
        let node = match end {
            End::Left => self.nodes.front_mut(),
            End::Right => self.nodes.back_mut(),
        }?;
        let p = match end {
            End::Left => node.first(),
            End::Right => node.last(),
        }?;
        let item = node.get(p)?.to_vec().into_boxed_slice();
        node.remove(p);
        if node.is_empty() {
            match end {
                End::Left => self.nodes.pop_front(),
                End::Right => self.nodes.pop_back(),
            };
        }
        self.len -= 1;
        Some(item)
    }

    // --- indexes --------------------------------------------------------------------------------

    /// `index` (negative counts from the tail) as a position, if in range.
    fn resolve(&self, index: i64) -> Option<usize> {
        let len = self.len as i64;
        let i = if index < 0 { len + index } else { index };
        (0..len).contains(&i).then_some(i as usize)
    }

    /// The node holding position `index` and the offset in it, walking node counts from the
    /// nearer end.
    fn locate(&self, index: usize) -> Option<(usize, usize)> {
        if index >= self.len {
            return None;
        }
        if index < self.len / 2 {
            let mut i = index;
            for (ni, n) in self.nodes.iter().enumerate() {
                let c = n.len();
                if i < c {
                    return Some((ni, i));
                }
                i -= c;
            }
        } else {
            let mut back = self.len - index;
            for (ni, n) in self.nodes.iter().enumerate().rev() {
                let c = n.len();
                if back <= c {
                    return Some((ni, c - back));
                }
                back -= c;
            }
        }
        None
    }

    /// The element at `index` (negative counts from the tail), if in range.
    pub fn get(&self, index: i64) -> Option<EntryBytes<'_>> {
        let (ni, off) = self.locate(self.resolve(index)?)?;
        self.nodes.get(ni)?.get_index(off).map(Entry::bytes)
    }

    /// Replaces the element at `index`; false if out of range.
    pub fn set(&mut self, index: i64, item: &[u8]) -> bool {
        let Some((ni, off)) = self.resolve(index).and_then(|i| self.locate(i)) else {
            return false;
        };
        let Some(node) = self.nodes.get_mut(ni) else {
            return false;
        };
        let Some(p) = node.pos(off) else {
            return false;
        };
        node.replace(p, item);
        self.split_oversized(ni);
        true
    }

    /// The positions `start..=stop` (Redis's inclusive, negative-from-the-tail indexes) as a
    /// half-open range clipped to the list, or `None` if it selects nothing (LRANGE, LTRIM).
    pub fn clip_range(&self, start: i64, stop: i64) -> Option<Range<usize>> {
        let len = self.len as i64;
        let start = if start < 0 {
            (len + start).max(0)
        } else {
            start
        };
        let stop = if stop < 0 { len + stop } else { stop };
        if start > stop || start >= len {
            return None;
        }
        let stop = stop.min(len - 1);
        Some(start as usize..(stop + 1) as usize)
    }

    // --- iteration ------------------------------------------------------------------------------

    /// Every element, head to tail.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            nodes: self.nodes.range(..),
            front: None,
            back: None,
            remaining: self.len,
        }
    }

    /// The elements in `range` (positions from [`List::clip_range`]).
    pub fn iter_range(&self, range: Range<usize>) -> impl Iterator<Item = EntryBytes<'_>> + '_ {
        let n = range.end.min(self.len).saturating_sub(range.start);
        let start = self.locate(range.start).and_then(|(ni, off)| {
            let node = self.nodes.get(ni)?;
            Some((ni, node.iter_at(node.pos(off)?)))
        });
        match start {
            Some((ni, first)) => Iter {
                nodes: self.nodes.range(ni + 1..),
                front: Some(first),
                back: None,
                remaining: n,
            },
            None => Iter {
                nodes: self.nodes.range(0..0),
                front: None,
                back: None,
                remaining: 0,
            },
        }
    }

    // --- changes in the middle ------------------------------------------------------------------

    /// Removes `n` elements from the head.
    fn remove_front(&mut self, mut n: usize) {
        while n > 0 {
            let Some(node) = self.nodes.front_mut() else {
                return;
            };
            let c = node.len();
            if c <= n {
                self.nodes.pop_front();
                self.len -= c;
                n -= c;
            } else {
                if let Some(p) = node.first() {
                    node.remove_range(p, n);
                }
                self.len -= n;
                n = 0;
            }
        }
    }

    /// Removes `n` elements from the tail.
    fn remove_back(&mut self, mut n: usize) {
        while n > 0 {
            let Some(node) = self.nodes.back_mut() else {
                return;
            };
            let c = node.len();
            if c <= n {
                self.nodes.pop_back();
                self.len -= c;
                n -= c;
            } else {
                if let Some(p) = node.pos(c - n) {
                    node.remove_range(p, n);
                }
                self.len -= n;
                n = 0;
            }
        }
    }

    /// Keeps only the positions in `range` (None: keeps nothing).
    pub fn retain_range(&mut self, range: Option<Range<usize>>) {
        match range {
            Some(r) => {
                let end = r.end.min(self.len);
                self.remove_back(self.len - end);
                self.remove_front(r.start.min(self.len));
            }
            None => {
                self.nodes.clear();
                self.len = 0;
            }
        }
    }

    /// Inserts `item` next to the first element equal to `pivot` (before it, or after with
    /// `after`). Returns false if there is no such element.
    pub fn insert_at_pivot(&mut self, pivot: &[u8], item: &[u8], after: bool) -> bool {
        let found = self
            .nodes
            .iter()
            .enumerate()
            .find_map(|(ni, n)| n.find(None, pivot, 0).map(|p| (ni, p)));
        let Some((ni, p)) = found else {
            return false;
        };
        let Some(node) = self.nodes.get(ni) else {
            return false;
        };
        if !self.allow_insert(node, item.len()) {
            // A full node: at its edge, the neighbour takes the item if it has room, else a
            // new node does (Redis's `_quicklistInsert`); in the middle, the node splits below.
            if after && node.next(p).is_none() {
                let next_ok = self
                    .nodes
                    .get(ni + 1)
                    .is_some_and(|n| self.allow_insert(n, item.len()));
                if !next_ok {
                    self.nodes.insert(ni + 1, Listpack::new());
                }
                if let Some(n) = self.nodes.get_mut(ni + 1) {
                    let at = n.first().unwrap_or_else(|| n.end());
                    n.insert(at, item);
                    self.len += 1;
                }
                return true;
            }
            if !after && node.prev(p).is_none() {
                let prev_ok = ni
                    .checked_sub(1)
                    .and_then(|i| self.nodes.get(i))
                    .is_some_and(|n| self.allow_insert(n, item.len()));
                let target = if prev_ok {
                    ni - 1
                } else {
                    self.nodes.insert(ni, Listpack::new());
                    ni
                };
                if let Some(n) = self.nodes.get_mut(target) {
                    n.push(item);
                    self.len += 1;
                }
                return true;
            }
        }
        if let Some(node) = self.nodes.get_mut(ni) {
            let at = if after {
                node.next(p).unwrap_or_else(|| node.end())
            } else {
                p
            };
            node.insert(at, item);
            self.len += 1;
            self.split_oversized(ni);
        }
        true
    }

    /// Removes elements equal to `item`: the first `count` from the head (count > 0), the
    /// first `-count` from the tail (count < 0), or all (0). Returns how many went.
    pub fn remove_matching(&mut self, item: &[u8], count: i64) -> usize {
        let limit = if count == 0 {
            usize::MAX
        } else {
            usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX)
        };
        let mut removed = 0;
        let mut touched: Option<(usize, usize)> = None;
        let n_nodes = self.nodes.len();
        for k in 0..n_nodes {
            if removed >= limit {
                break;
            }
            let ni = if count >= 0 { k } else { n_nodes - 1 - k };
            let Some(node) = self.nodes.get_mut(ni) else {
                break;
            };
            let before = removed;
            if count >= 0 {
                let mut from = None;
                while removed < limit {
                    let Some(p) = node.find(from, item, 0) else {
                        break;
                    };
                    from = Some(node.remove(p));
                    removed += 1;
                }
            } else {
                let mut at = node.last();
                while let Some(p) = at {
                    if removed >= limit {
                        break;
                    }
                    if node.get(p).is_some_and(|e| *e.bytes() == *item) {
                        let next = node.remove(p);
                        removed += 1;
                        at = node.prev(next);
                    } else {
                        at = node.prev(p);
                    }
                }
            }
            if removed > before {
                touched = Some(match touched {
                    None => (ni, ni),
                    Some((lo, hi)) => (lo.min(ni), hi.max(ni)),
                });
            }
        }
        self.len -= removed;
        if let Some((lo, hi)) = touched {
            self.tidy(lo, hi);
        }
        removed
    }

    /// A rough heap footprint in bytes (MEMORY USAGE): node slots plus node buffers.
    pub fn heap_size(&self) -> usize {
        let slots = self.nodes.capacity() * std::mem::size_of::<Listpack>();
        slots
            + self
                .nodes
                .iter()
                .map(|n| n.bytes_len().next_multiple_of(16))
                .sum::<usize>()
    }
}

/// The elements of a [`List`] (or of a range of it), head to tail; reversible for a whole
/// list.
#[derive(Clone)]
pub struct Iter<'a> {
    nodes: std::collections::vec_deque::Iter<'a, Listpack>,
    front: Option<listpack::Iter<'a>>,
    back: Option<listpack::Iter<'a>>,
    remaining: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = EntryBytes<'a>;

    fn next(&mut self) -> Option<EntryBytes<'a>> {
        if self.remaining == 0 {
            return None;
        }
        loop {
            if let Some(e) = self.front.as_mut().and_then(Iterator::next) {
                self.remaining -= 1;
                return Some(e.bytes());
            }
            match self.nodes.next() {
                Some(n) => self.front = Some(n.iter()),
                None => {
                    let e = self.back.as_mut()?.next()?;
                    self.remaining -= 1;
                    return Some(e.bytes());
                }
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        loop {
            if let Some(e) = self.back.as_mut().and_then(DoubleEndedIterator::next_back) {
                self.remaining -= 1;
                return Some(e.bytes());
            }
            match self.nodes.next_back() {
                Some(n) => self.back = Some(n.iter()),
                None => {
                    let e = self.front.as_mut()?.next_back()?;
                    self.remaining -= 1;
                    return Some(e.bytes());
                }
            }
        }
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn list(items: &[&str]) -> List {
        List::from_items(items.iter().map(|s| s.as_bytes().to_vec()))
    }

    fn items(l: &List) -> Vec<String> {
        l.iter()
            .map(|e| String::from_utf8_lossy(&e).into_owned())
            .collect()
    }

    /// No empty node, the counts add up, and every node of several entries is within limits.
    fn check_nodes(l: &List) -> Result<(), String> {
        let mut total = 0;
        for (i, n) in l.nodes.iter().enumerate() {
            if n.is_empty() {
                return Err(format!("node {i} is empty"));
            }
            if l.oversized(n) {
                return Err(format!(
                    "node {i} oversized: {} bytes, {} entries, fill {}",
                    n.bytes_len(),
                    n.len(),
                    l.fill
                ));
            }
            total += n.len();
        }
        if total != l.len {
            return Err(format!("len {} but nodes hold {total}", l.len));
        }
        Ok(())
    }

    #[test]
    fn ends_and_indexes() {
        let mut l = List::new();
        l.push(End::Right, b"b");
        l.push(End::Left, b"a");
        l.push(End::Right, b"c");
        assert_eq!(items(&l), ["a", "b", "c"]);
        assert_eq!(l.get(-1).as_deref(), Some(&b"c"[..]));
        assert_eq!(l.get(3), None);
        assert_eq!(l.get(-4), None);
        assert!(l.set(-3, b"z"));
        assert!(!l.set(5, b"z"));
        assert_eq!(l.pop(End::Left).as_deref(), Some(&b"z"[..]));
        assert_eq!(l.pop(End::Right).as_deref(), Some(&b"c"[..]));
    }

    #[test]
    fn ranges_clip_like_redis() {
        let l = list(&["a", "b", "c", "d"]);
        assert_eq!(l.clip_range(0, -1), Some(0..4));
        assert_eq!(l.clip_range(-100, 100), Some(0..4));
        assert_eq!(l.clip_range(2, 1), None);
        assert_eq!(l.clip_range(4, 10), None);
        assert_eq!(l.clip_range(-2, -1), Some(2..4));
        assert_eq!(l.clip_range(i64::MIN, i64::MAX), Some(0..4));
        let mut t = l.clone();
        t.retain_range(t.clip_range(1, 2));
        assert_eq!(items(&t), ["b", "c"]);
    }

    #[test]
    fn remove_matching_both_directions() {
        let mut l = list(&["a", "b", "a", "c", "a"]);
        assert_eq!(l.remove_matching(b"a", -2), 2);
        assert_eq!(items(&l), ["a", "b", "c"]);
        let mut l = list(&["a", "b", "a", "c", "a"]);
        assert_eq!(l.remove_matching(b"a", 2), 2);
        assert_eq!(items(&l), ["b", "c", "a"]);
        assert_eq!(l.remove_matching(b"x", 0), 0);
        assert_eq!(l.remove_matching(b"a", i64::MIN), 1);
    }

    #[test]
    fn insert_at_pivot() {
        let mut l = list(&["a", "b"]);
        assert!(l.insert_at_pivot(b"b", b"x", false));
        assert!(l.insert_at_pivot(b"b", b"y", true));
        assert!(!l.insert_at_pivot(b"q", b"y", true));
        assert_eq!(items(&l), ["a", "x", "b", "y"]);
    }

    #[test]
    fn nodes_split_at_the_fill_limit() {
        // 8 KB nodes: 100-byte elements take 103 bytes each after the 7-byte header.
        let mut l = List::new();
        let item = [b'x'; 100];
        for _ in 0..1000 {
            l.push(End::Right, &item);
        }
        let counts: Vec<usize> = l.nodes().map(Listpack::len).collect();
        assert_eq!(counts.first(), Some(&79));
        assert!(counts.iter().all(|&c| c <= 79));
        assert_eq!(counts.iter().sum::<usize>(), 1000);
        assert!(l.nodes().all(|n| n.bytes_len() <= 8192));
        // Count limits.
        let mut l = List::with_fill(3);
        for i in 0..10 {
            l.push(End::Left, i.to_string().as_bytes());
        }
        let counts: Vec<usize> = l.nodes().map(Listpack::len).collect();
        assert_eq!(counts, [1, 3, 3, 3]);
        // An element bigger than a node gets its own.
        let mut l = List::with_fill(-1);
        l.push(End::Right, b"a");
        l.push(End::Right, &[b'y'; 5000]);
        l.push(End::Right, b"b");
        assert_eq!(l.nodes().len(), 3);
        // Integers are stored compactly.
        let l = List::from_items((0..100).map(|i: i32| i.to_string().into_bytes()));
        assert_eq!(
            l.nodes().map(Listpack::bytes_len).sum::<usize>(),
            7 + 100 * 2
        );
    }

    #[derive(Debug, Clone)]
    enum Op {
        Push(bool, Vec<u8>),
        Pop(bool),
        Get(i64),
        Set(i64, Vec<u8>),
        Insert(Vec<u8>, Vec<u8>, bool),
        Rem(Vec<u8>, i64),
        Trim(i64, i64),
        Range(i64, i64),
    }

    /// Small texts that repeat (so LREM/LINSERT find them), integers, and long strings that
    /// fill nodes quickly.
    fn value() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            4 => prop::sample::select(vec!["a", "b", "c", "12", "-7", "300000"])
                .prop_map(|s| s.as_bytes().to_vec()),
            2 => any::<i64>().prop_map(|n| n.to_string().into_bytes()),
            2 => (0usize..300, any::<u8>()).prop_map(|(n, b)| vec![b; n]),
            1 => (1000usize..5000).prop_map(|n| vec![b'L'; n]),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        let idx = -40i64..40;
        prop_oneof![
            6 => (any::<bool>(), value()).prop_map(|(l, v)| Op::Push(l, v)),
            2 => any::<bool>().prop_map(Op::Pop),
            1 => idx.clone().prop_map(Op::Get),
            2 => (idx.clone(), value()).prop_map(|(i, v)| Op::Set(i, v)),
            2 => (value(), value(), any::<bool>()).prop_map(|(p, v, a)| Op::Insert(p, v, a)),
            1 => (value(), -3i64..3).prop_map(|(v, c)| Op::Rem(v, c)),
            1 => (idx.clone(), idx.clone()).prop_map(|(a, b)| Op::Trim(a, b)),
            1 => (idx.clone(), idx).prop_map(|(a, b)| Op::Range(a, b)),
        ]
    }

    fn model_index(m: &VecDeque<Vec<u8>>, i: i64) -> Option<usize> {
        let len = m.len() as i64;
        let i = if i < 0 { len + i } else { i };
        (0..len).contains(&i).then_some(i as usize)
    }

    fn model_clip(m: &VecDeque<Vec<u8>>, start: i64, stop: i64) -> Option<Range<usize>> {
        let len = m.len() as i64;
        let start = if start < 0 {
            (len + start).max(0)
        } else {
            start
        };
        let stop = if stop < 0 { len + stop } else { stop }.min(len - 1);
        (start <= stop && start < len).then(|| start as usize..stop as usize + 1)
    }

    fn run(fill: i64, ops: Vec<Op>) -> Result<(), TestCaseError> {
        let mut l = List::with_fill(fill);
        let mut m: VecDeque<Vec<u8>> = VecDeque::new();
        for op in ops {
            match op {
                Op::Push(left, v) => {
                    if left {
                        l.push(End::Left, &v);
                        m.push_front(v);
                    } else {
                        l.push_owned(End::Right, v.clone().into_boxed_slice());
                        m.push_back(v);
                    }
                }
                Op::Pop(left) => {
                    let (got, want) = if left {
                        (l.pop(End::Left), m.pop_front())
                    } else {
                        (l.pop(End::Right), m.pop_back())
                    };
                    prop_assert_eq!(got.map(Vec::from), want);
                }
                Op::Get(i) => {
                    let want = model_index(&m, i).and_then(|i| m.get(i));
                    let got = l.get(i).map(|e| e.to_vec());
                    prop_assert_eq!(got.as_ref(), want);
                }
                Op::Set(i, v) => {
                    let slot = model_index(&m, i).and_then(|i| m.get_mut(i));
                    let want = slot.is_some();
                    if let Some(s) = slot {
                        *s = v.clone();
                    }
                    prop_assert_eq!(l.set(i, &v), want);
                }
                Op::Insert(pivot, v, after) => {
                    let at = m.iter().position(|e| *e == pivot);
                    if let Some(i) = at {
                        m.insert(i + usize::from(after), v.clone());
                    }
                    prop_assert_eq!(l.insert_at_pivot(&pivot, &v, after), at.is_some());
                }
                Op::Rem(v, count) => {
                    let limit = if count == 0 {
                        usize::MAX
                    } else {
                        count.unsigned_abs() as usize
                    };
                    let mut hits: Vec<usize> = m
                        .iter()
                        .enumerate()
                        .filter(|(_, e)| **e == v)
                        .map(|(i, _)| i)
                        .collect();
                    if count < 0 {
                        hits.reverse();
                    }
                    hits.truncate(limit);
                    hits.sort_unstable();
                    for &i in hits.iter().rev() {
                        m.remove(i);
                    }
                    prop_assert_eq!(l.remove_matching(&v, count), hits.len());
                }
                Op::Trim(a, b) => {
                    let r = model_clip(&m, a, b);
                    prop_assert_eq!(l.clip_range(a, b), r.clone());
                    match r {
                        Some(r) => {
                            m.truncate(r.end);
                            m.drain(..r.start);
                        }
                        None => m.clear(),
                    }
                    l.retain_range(l.clip_range(a, b));
                }
                Op::Range(a, b) => {
                    let want: Vec<Vec<u8>> = model_clip(&m, a, b)
                        .map(|r| m.range(r).cloned().collect())
                        .unwrap_or_default();
                    let got: Vec<Vec<u8>> = l
                        .clip_range(a, b)
                        .map(|r| l.iter_range(r).map(|e| e.to_vec()).collect())
                        .unwrap_or_default();
                    prop_assert_eq!(got, want);
                }
            }
            prop_assert_eq!(l.len(), m.len());
            let all: Vec<Vec<u8>> = l.iter().map(|e| e.to_vec()).collect();
            prop_assert_eq!(&all, &Vec::from(m.clone()));
            let back: Vec<Vec<u8>> = l.iter().rev().map(|e| e.to_vec()).collect();
            prop_assert!(back.iter().rev().eq(all.iter()));
            if let Err(e) = check_nodes(&l) {
                return Err(TestCaseError::fail(e));
            }
        }
        // The nodes survive an RDB-style round trip as bytes.
        let copy = List::from_nodes(
            l.nodes()
                .map(|n| Listpack::from_bytes(n.as_bytes().to_vec()).unwrap_or_default()),
        );
        prop_assert_eq!(&copy, &l);
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn matches_a_vecdeque_model(
            fill in prop::sample::select(vec![-5i64, -2, -1, 0, 1, 2, 5, 100]),
            ops in prop::collection::vec(op(), 1..120),
        ) {
            run(fill, ops)?;
        }

        /// Many small elements around node boundaries, with a tiny count limit.
        #[test]
        fn boundaries_with_small_nodes(
            fill in 1i64..4,
            ops in prop::collection::vec(
                prop_oneof![
                    3 => (any::<bool>(), prop::sample::select(vec!["a", "b", "1"]))
                        .prop_map(|(l, v)| Op::Push(l, v.as_bytes().to_vec())),
                    1 => (prop::sample::select(vec!["a", "b", "1"]), -2i64..3)
                        .prop_map(|(v, c)| Op::Rem(v.as_bytes().to_vec(), c)),
                    1 => (prop::sample::select(vec!["a", "b", "1"]), any::<bool>())
                        .prop_map(|(p, a)| Op::Insert(p.as_bytes().to_vec(), b"x".to_vec(), a)),
                    1 => (-8i64..8, -8i64..8).prop_map(|(a, b)| Op::Range(a, b)),
                    1 => (-8i64..8, -8i64..8).prop_map(|(a, b)| Op::Trim(a, b)),
                    1 => any::<bool>().prop_map(Op::Pop),
                ],
                1..200,
            ),
        ) {
            run(fill, ops)?;
        }
    }
}
