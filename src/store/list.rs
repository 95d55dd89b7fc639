//! The list type. Redis 7.0 stores every list as a quicklist (OBJECT ENCODING `quicklist`).
//!
//! Here a list is a ring buffer of [`CompactBytes`]: 16 bytes per element, elements of up to 15
//! bytes inline (no allocation of their own), O(1) pushes and pops at both ends and O(1) access
//! by index (LINDEX/LSET), O(n) middle edits (LINSERT/LREM) done with one pass of moves. The
//! buffer gives memory back when a list shrinks to a quarter of its capacity.

use super::compact::CompactBytes;
use super::shared::cow_mut;
use std::collections::VecDeque;
use std::sync::Arc;

/// Capacity below which a shrinking list keeps its buffer.
const SHRINK_MIN_CAPACITY: usize = 64;

/// A list value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct List {
    /// Shared on copy and copied on write (see `store::shared`): a snapshot takes the list
    /// under the keyspace lock by reference, whatever its length.
    items: Arc<VecDeque<CompactBytes>>,
}

impl List {
    /// Resolves a Redis `start..=end` pair (negative = from the tail) against the length, as
    /// LRANGE/LTRIM do: `None` when the range is empty, else in-bounds `(start, end)` inclusive.
    pub fn resolve_range(&self, start: i64, end: i64) -> Option<(usize, usize)> {
        resolve_range(start, end, self.items.len())
    }
}

fn resolve_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { len + start } else { start };
    let mut end = if end < 0 { len + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= len {
        return None;
    }
    if end >= len {
        end = len - 1;
    }
    Some((start as usize, end as usize))
}

impl List {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty list with room for `n` elements.
    pub fn with_capacity(n: usize) -> Self {
        List {
            items: Arc::new(VecDeque::with_capacity(n)),
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when empty (an empty list is never stored: the key is deleted).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// OBJECT ENCODING.
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    /// Approximate heap bytes, for MEMORY USAGE.
    pub fn heap_size(&self) -> usize {
        self.items.capacity() * std::mem::size_of::<CompactBytes>()
            + self.items.iter().map(|i| i.heap_size()).sum::<usize>()
    }

    /// The elements, head to tail.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> + ExactSizeIterator {
        self.items.iter().map(|i| i.as_slice())
    }

    /// The elements `start..=end` (both in bounds, `start <= end`), head to tail.
    pub fn range(
        &self,
        start: usize,
        end: usize,
    ) -> impl DoubleEndedIterator<Item = &[u8]> + ExactSizeIterator + Clone {
        self.items.range(start..=end).map(|i| i.as_slice())
    }

    /// Appends at the tail.
    pub fn push_back(&mut self, item: &[u8]) {
        self.items_mut().push_back(CompactBytes::new(item));
    }

    /// Prepends at the head.
    pub fn push_front(&mut self, item: &[u8]) {
        self.items_mut().push_front(CompactBytes::new(item));
    }

    /// Pushes an element at the head (`front`) or the tail, without copying it.
    pub fn push(&mut self, item: CompactBytes, front: bool) {
        if front {
            self.items_mut().push_front(item);
        } else {
            self.items_mut().push_back(item);
        }
    }

    /// Removes the head.
    pub fn pop_front(&mut self) -> Option<CompactBytes> {
        let v = self.items_mut().pop_front();
        self.maybe_shrink();
        v
    }

    /// Removes the tail.
    pub fn pop_back(&mut self) -> Option<CompactBytes> {
        let v = self.items_mut().pop_back();
        self.maybe_shrink();
        v
    }

    /// Removes the head (`front`) or the tail.
    pub fn pop(&mut self, front: bool) -> Option<CompactBytes> {
        if front {
            self.pop_front()
        } else {
            self.pop_back()
        }
    }

    /// Resolves a Redis index (negative counts from the tail) to a position.
    pub fn resolve_index(&self, index: i64) -> Option<usize> {
        let len = self.items.len() as i64;
        let i = if index < 0 {
            len.checked_add(index)?
        } else {
            index
        };
        (0..len).contains(&i).then_some(i as usize)
    }

    /// The element at a Redis index (negative counts from the tail).
    pub fn get(&self, index: i64) -> Option<&[u8]> {
        let i = self.resolve_index(index)?;
        self.items.get(i).map(|v| v.as_slice())
    }

    /// Replaces the element at a Redis index; false when out of range.
    pub fn set(&mut self, index: i64, item: &[u8]) -> bool {
        match self
            .resolve_index(index)
            .and_then(|i| self.items_mut().get_mut(i))
        {
            Some(slot) => {
                *slot = CompactBytes::new(item);
                true
            }
            None => false,
        }
    }

    /// Position of the first element equal to `item`, from the head.
    pub fn find(&self, item: &[u8]) -> Option<usize> {
        self.items.iter().position(|v| v.as_slice() == item)
    }

    /// Inserts `item` at position `pos` (0..=len).
    pub fn insert(&mut self, pos: usize, item: &[u8]) {
        self.items_mut().insert(pos, CompactBytes::new(item));
    }

    /// Removes up to `count` elements equal to `item` (0 = all), scanning from the tail when
    /// `from_tail`; returns how many went.
    pub fn remove_matching(&mut self, item: &[u8], count: u64, from_tail: bool) -> usize {
        let limit = if count == 0 {
            usize::MAX
        } else {
            usize::try_from(count).unwrap_or(usize::MAX)
        };
        // With a limit from the tail, only matches at or after this position go.
        let mut first_pos = 0;
        if from_tail && limit != usize::MAX {
            let mut seen = 0;
            for (i, v) in self.items.iter().enumerate().rev() {
                if v.as_slice() == item {
                    seen += 1;
                    first_pos = i;
                    if seen == limit {
                        break;
                    }
                }
            }
            if seen == 0 {
                return 0;
            }
        }
        let before = self.items.len();
        let mut removed = 0usize;
        let mut pos = 0usize;
        self.items_mut().retain(|v| {
            let here = pos;
            pos += 1;
            if here >= first_pos && removed < limit && v.as_slice() == item {
                removed += 1;
                false
            } else {
                true
            }
        });
        self.maybe_shrink();
        before - self.items.len()
    }

    /// Drops `left` elements from the head and `right` from the tail.
    pub fn trim(&mut self, left: usize, right: usize) {
        let items = self.items_mut();
        let len = items.len();
        if left.saturating_add(right) >= len {
            items.clear();
        } else {
            items.truncate(len - right);
            items.drain(..left);
        }
        self.maybe_shrink();
    }

    /// The elements for writing: copied first while a snapshot shares them.
    fn items_mut(&mut self) -> &mut VecDeque<CompactBytes> {
        cow_mut(&mut self.items)
    }

    /// Gives memory back when the buffer is mostly empty (amortised O(1) per removal).
    fn maybe_shrink(&mut self) {
        let cap = self.items.capacity();
        if cap > SHRINK_MIN_CAPACITY && self.items.len() < cap / 4 {
            let keep = (self.items.len() * 2).max(SHRINK_MIN_CAPACITY / 2);
            self.items_mut().shrink_to(keep);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A copy shares the elements until one side writes; then each sees only its own.
    #[test]
    fn copies_share_until_written() {
        let mut a = list(&["a", "b", "c"]);
        let mut b = a.clone();
        assert!(Arc::ptr_eq(&a.items, &b.items));
        b.push_back(b"d");
        assert!(!Arc::ptr_eq(&a.items, &b.items));
        assert_eq!(a.pop_front().map(|v| v.to_vec()), Some(b"a".to_vec()));
        assert_eq!((a.len(), b.len()), (2, 4));
        assert_eq!(b.get(0), Some(&b"a"[..]));
        assert_eq!(b.get(-1), Some(&b"d"[..]));
    }

    fn list(items: &[&str]) -> List {
        let mut l = List::new();
        for i in items {
            l.push_back(i.as_bytes());
        }
        l
    }

    fn contents(l: &List) -> Vec<String> {
        l.iter()
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .collect()
    }

    #[test]
    fn push_pop_both_ends() {
        let mut l = List::new();
        l.push_back(b"b");
        l.push_front(b"a");
        l.push_back(&[b'x'; 40]);
        assert_eq!(l.len(), 3);
        assert_eq!(l.encoding(), "quicklist");
        assert_eq!(&*l.pop_front().unwrap(), b"a");
        assert_eq!(&*l.pop_back().unwrap(), &[b'x'; 40][..]);
        assert_eq!(&*l.pop(true).unwrap(), b"b");
        assert!(l.pop(false).is_none());
        assert!(l.is_empty());
    }

    #[test]
    fn index_and_set() {
        let mut l = list(&["a", "b", "c"]);
        assert_eq!(l.get(0), Some(&b"a"[..]));
        assert_eq!(l.get(-1), Some(&b"c"[..]));
        assert_eq!(l.get(-3), Some(&b"a"[..]));
        assert_eq!(l.get(3), None);
        assert_eq!(l.get(-4), None);
        assert_eq!(l.get(i64::MIN), None);
        assert_eq!(l.get(i64::MAX), None);
        assert!(l.set(-1, b"z"));
        assert!(!l.set(5, b"z"));
        assert_eq!(contents(&l), ["a", "b", "z"]);
    }

    #[test]
    fn ranges_resolve_like_redis() {
        assert_eq!(resolve_range(0, -1, 3), Some((0, 2)));
        assert_eq!(resolve_range(-100, 100, 3), Some((0, 2)));
        assert_eq!(resolve_range(2, 1, 3), None);
        assert_eq!(resolve_range(3, 5, 3), None);
        assert_eq!(resolve_range(0, -4, 3), None);
        assert_eq!(resolve_range(i64::MIN, i64::MAX, 3), Some((0, 2)));
        assert_eq!(resolve_range(0, 0, 0), None);
        let l = list(&["a", "b", "c", "d"]);
        let got: Vec<_> = l.range(1, 2).collect();
        assert_eq!(got, [&b"b"[..], &b"c"[..]]);
    }

    #[test]
    fn remove_matching_counts_and_directions() {
        let mut l = list(&["a", "b", "a", "c", "a"]);
        assert_eq!(l.remove_matching(b"a", 1, false), 1);
        assert_eq!(contents(&l), ["b", "a", "c", "a"]);
        let mut l = list(&["a", "b", "a", "c", "a"]);
        assert_eq!(l.remove_matching(b"a", 2, true), 2);
        assert_eq!(contents(&l), ["a", "b", "c"]);
        let mut l = list(&["a", "b", "a", "c", "a"]);
        assert_eq!(l.remove_matching(b"a", 0, true), 3);
        assert_eq!(contents(&l), ["b", "c"]);
        assert_eq!(l.remove_matching(b"zz", 0, false), 0);
        assert_eq!(l.remove_matching(b"zz", 3, true), 0);
        assert_eq!(l.remove_matching(b"b", u64::MAX, true), 1);
        assert_eq!(contents(&l), ["c"]);
    }

    #[test]
    fn trim_insert_find() {
        let mut l = list(&["a", "b", "c", "d", "e"]);
        l.trim(1, 1);
        assert_eq!(contents(&l), ["b", "c", "d"]);
        l.insert(l.find(b"c").unwrap() + 1, b"x");
        l.insert(0, b"h");
        assert_eq!(contents(&l), ["h", "b", "c", "x", "d"]);
        assert_eq!(l.find(b"nope"), None);
        l.trim(3, 3);
        assert!(l.is_empty());
    }

    #[test]
    fn shrinks_after_mass_pops() {
        let mut l = List::new();
        for i in 0..10_000u32 {
            l.push_back(&i.to_le_bytes());
        }
        let big = l.heap_size();
        while l.len() > 10 {
            l.pop_front();
        }
        assert!(l.heap_size() < big / 10);
        assert_eq!(l.get(0), Some(&9_990u32.to_le_bytes()[..]));
    }
}
