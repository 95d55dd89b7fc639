//! The set type: `intset` while every member is an integer (up to set-max-intset-entries),
//! `hashtable` otherwise.

use super::compact::CompactBytes;
use super::EncodingLimits;
use crate::num::parse_i64;

/// A set value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Set {
    members: Vec<CompactBytes>,
}

impl Set {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// True when empty (an empty set is never stored).
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// OBJECT ENCODING for these contents under `limits`.
    pub fn encoding(&self, limits: &EncodingLimits) -> &'static str {
        let ints = self.members.len() <= limits.set_max_intset_entries
            && self.members.iter().all(|m| parse_i64(m).is_some());
        if ints {
            "intset"
        } else {
            "hashtable"
        }
    }

    /// Approximate heap bytes, for MEMORY USAGE.
    pub fn heap_size(&self) -> usize {
        self.members.capacity() * 16 + self.members.iter().map(|m| m.heap_size()).sum::<usize>()
    }

    /// Every member.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.members.iter().map(|m| m.as_slice())
    }

    /// True if `member` is in the set.
    pub fn contains(&self, member: &[u8]) -> bool {
        self.members.iter().any(|m| m.as_slice() == member)
    }

    /// Adds `member`; true if it was new.
    pub fn insert(&mut self, member: &[u8]) -> bool {
        if self.contains(member) {
            return false;
        }
        self.members.push(CompactBytes::new(member));
        true
    }

    /// Removes `member`; true if it was present.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self.members.iter().position(|m| m.as_slice() == member) {
            Some(i) => {
                self.members.swap_remove(i);
                true
            }
            None => false,
        }
    }
}
