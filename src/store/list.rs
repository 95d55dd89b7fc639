//! The list type. Redis 7.0 stores every list as a quicklist (OBJECT ENCODING `quicklist`).

use super::compact::CompactBytes;
use std::collections::VecDeque;

/// A list value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct List {
    items: VecDeque<CompactBytes>,
}

impl List {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
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
        self.items.capacity() * 16 + self.items.iter().map(|i| i.heap_size()).sum::<usize>()
    }

    /// The elements, head to tail.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> + ExactSizeIterator {
        self.items.iter().map(|i| i.as_slice())
    }

    /// Appends at the tail.
    pub fn push_back(&mut self, item: &[u8]) {
        self.items.push_back(CompactBytes::new(item));
    }

    /// Prepends at the head.
    pub fn push_front(&mut self, item: &[u8]) {
        self.items.push_front(CompactBytes::new(item));
    }

    /// Removes the head.
    pub fn pop_front(&mut self) -> Option<CompactBytes> {
        self.items.pop_front()
    }

    /// Removes the tail.
    pub fn pop_back(&mut self) -> Option<CompactBytes> {
        self.items.pop_back()
    }
}
