//! Lists: sequences of byte strings with O(1) pushes and pops at both ends.
//!
//! # Representation
//!
//! A [`List`] is a `VecDeque<Box<[u8]>>`: a ring buffer of owned, exactly-sized byte strings.
//! Redis 7.0 keeps a quicklist (a doubly linked list of listpack nodes of about 8 KB each,
//! `list-max-listpack-size -2`, optionally LZF-compressed away from the ends by
//! `list-compress-depth`). We chose the ring buffer, for now, because:
//!
//! - every command the family has is O(1) at the ends (LPUSH/RPOP/LMOVE/the blocking pops) and
//!   O(1) by index (LINDEX, LSET, the start of LRANGE), where a quicklist walks its nodes
//!   (O(N / node size)); inserts and removals in the middle are one `memmove` of pointers;
//! - it is simple enough to be obviously right, which matters more at this stage than bytes.
//!
//! The cost is memory: 16 bytes of slot plus one allocation (allocator rounding, ~8-16 bytes)
//! per element, against 2-10 bytes per small element in a listpack. A list of a million
//! three-byte elements takes about 40 MB here, 12 MB in Redis. The way forward, when memory
//! measurements call for it, is chunking: a `VecDeque` of packed nodes (one byte buffer each,
//! length-prefixed entries, sized by `list-max-listpack-size`), keeping O(1) ends and making
//! indexing O(nodes). The type API below hides the layout so that change touches this file only.
//!
//! Encoding: Redis 7.0 reports `quicklist` for every list (the small-list `listpack` encoding
//! arrived in 7.2); so do we. The RDB form is quicklist2 (type 18) of listpack nodes, written
//! in `rdb::object`.
//!
//! Invariant: a stored list is never empty (the commands delete the key with its last element).

use std::collections::VecDeque;

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

/// A list value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct List {
    items: VecDeque<Box<[u8]>>,
}

impl List {
    pub fn new() -> Self {
        List::default()
    }

    /// A list holding `items` in order.
    pub fn from_items(items: impl IntoIterator<Item = Vec<u8>>) -> Self {
        List {
            items: items.into_iter().map(Vec::into_boxed_slice).collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// OBJECT ENCODING's answer: always `quicklist`, as Redis 7.0 reports.
    pub fn encoding_name(&self) -> &'static str {
        "quicklist"
    }

    pub fn push(&mut self, end: End, item: &[u8]) {
        let item: Box<[u8]> = item.into();
        match end {
            End::Left => self.items.push_front(item),
            End::Right => self.items.push_back(item),
        }
    }

    /// Pushes an element already owned (LMOVE hands over what it popped without a copy).
    pub fn push_owned(&mut self, end: End, item: Box<[u8]>) {
        match end {
            End::Left => self.items.push_front(item),
            End::Right => self.items.push_back(item),
        }
    }

    pub fn pop(&mut self, end: End) -> Option<Box<[u8]>> {
        match end {
            End::Left => self.items.pop_front(),
            End::Right => self.items.pop_back(),
        }
    }

    /// The element at `index` (negative counts from the tail), if in range.
    pub fn get(&self, index: i64) -> Option<&[u8]> {
        self.resolve(index)
            .and_then(|i| self.items.get(i))
            .map(|b| &**b)
    }

    /// Replaces the element at `index`; false if out of range.
    pub fn set(&mut self, index: i64, item: &[u8]) -> bool {
        match self.resolve(index).and_then(|i| self.items.get_mut(i)) {
            Some(slot) => {
                *slot = item.into();
                true
            }
            None => false,
        }
    }

    /// `index` (negative counts from the tail) as a position, if in range.
    fn resolve(&self, index: i64) -> Option<usize> {
        let len = self.items.len() as i64;
        let i = if index < 0 { len + index } else { index };
        (0..len).contains(&i).then_some(i as usize)
    }

    /// The positions `start..=stop` (Redis's inclusive, negative-from-the-tail indexes) as a
    /// half-open range clipped to the list, or `None` if it selects nothing (LRANGE, LTRIM).
    pub fn clip_range(&self, start: i64, stop: i64) -> Option<std::ops::Range<usize>> {
        let len = self.items.len() as i64;
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

    /// Every element, head to tail.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> + ExactSizeIterator + '_ {
        self.items.iter().map(|b| &**b)
    }

    /// The elements in `range` (positions from [`List::clip_range`]).
    pub fn iter_range(
        &self,
        range: std::ops::Range<usize>,
    ) -> impl DoubleEndedIterator<Item = &[u8]> + '_ {
        self.items.range(range).map(|b| &**b)
    }

    /// Keeps only the positions in `range` (None: keeps nothing).
    pub fn retain_range(&mut self, range: Option<std::ops::Range<usize>>) {
        match range {
            Some(r) => {
                self.items.truncate(r.end);
                self.items.drain(..r.start);
            }
            None => self.items.clear(),
        }
    }

    /// Inserts `item` next to the first element equal to `pivot` (before it, or after with
    /// `after`). Returns false if there is no such element.
    pub fn insert_at_pivot(&mut self, pivot: &[u8], item: &[u8], after: bool) -> bool {
        match self.items.iter().position(|e| **e == *pivot) {
            Some(i) => {
                self.items.insert(i + usize::from(after), item.into());
                true
            }
            None => false,
        }
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
        if count >= 0 {
            self.items.retain(|e| {
                if removed < limit && **e == *item {
                    removed += 1;
                    false
                } else {
                    true
                }
            });
        } else {
            // From the tail: mark positions walking backwards, then drop them in one pass.
            let mut doomed = Vec::new();
            for (i, e) in self.items.iter().enumerate().rev() {
                if doomed.len() >= limit {
                    break;
                }
                if **e == *item {
                    doomed.push(i);
                }
            }
            removed = doomed.len();
            if removed > 0 {
                let mut pos = 0;
                // `doomed` is descending; compare against its tail (the smallest index).
                self.items.retain(|_| {
                    let drop = doomed.last() == Some(&pos);
                    if drop {
                        doomed.pop();
                    }
                    pos += 1;
                    !drop
                });
            }
        }
        removed
    }

    /// A rough heap footprint in bytes (MEMORY USAGE): slots plus element allocations.
    pub fn heap_size(&self) -> usize {
        let slots = self.items.capacity() * std::mem::size_of::<Box<[u8]>>();
        slots
            + self
                .items
                .iter()
                .map(|e| e.len().max(1).next_multiple_of(8))
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> List {
        List::from_items(items.iter().map(|s| s.as_bytes().to_vec()))
    }

    fn items(l: &List) -> Vec<String> {
        l.iter()
            .map(|e| String::from_utf8_lossy(e).into_owned())
            .collect()
    }

    #[test]
    fn ends_and_indexes() {
        let mut l = List::new();
        l.push(End::Right, b"b");
        l.push(End::Left, b"a");
        l.push(End::Right, b"c");
        assert_eq!(items(&l), ["a", "b", "c"]);
        assert_eq!(l.get(-1), Some(&b"c"[..]));
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
}
