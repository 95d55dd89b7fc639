//! The sorted-set type: `listpack` while small (zset-max-listpack-entries / -value), `skiplist`
//! after, ordered by (score, member).

use super::compact::CompactBytes;
use super::EncodingLimits;

/// A sorted-set value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZSet {
    /// Members in (score, member) order.
    entries: Vec<(f64, CompactBytes)>,
}

impl ZSet {
    /// An empty sorted set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when empty (an empty sorted set is never stored).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// OBJECT ENCODING for these contents under `limits`.
    pub fn encoding(&self, limits: &EncodingLimits) -> &'static str {
        let small = self.entries.len() <= limits.zset_max_listpack_entries
            && self
                .entries
                .iter()
                .all(|(_, m)| m.len() <= limits.zset_max_listpack_value);
        if small {
            "listpack"
        } else {
            "skiplist"
        }
    }

    /// Approximate heap bytes, for MEMORY USAGE.
    pub fn heap_size(&self) -> usize {
        self.entries.capacity() * 24
            + self
                .entries
                .iter()
                .map(|(_, m)| m.heap_size())
                .sum::<usize>()
    }

    /// Members with scores, lowest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&[u8], f64)> {
        self.entries.iter().map(|(s, m)| (m.as_slice(), *s))
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.entries
            .iter()
            .find(|(_, m)| m.as_slice() == member)
            .map(|(s, _)| *s)
    }

    /// Sets `member`'s score; true if it was new.
    pub fn insert(&mut self, member: &[u8], score: f64) -> bool {
        let existed = self.remove(member);
        let pos = self
            .entries
            .partition_point(|(s, m)| (*s, m.as_slice()) < (score, member));
        self.entries.insert(pos, (score, CompactBytes::new(member)));
        !existed
    }

    /// Removes `member`; true if it was present.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self
            .entries
            .iter()
            .position(|(_, m)| m.as_slice() == member)
        {
            Some(i) => {
                self.entries.remove(i);
                true
            }
            None => false,
        }
    }
}
