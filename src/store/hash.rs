//! The hash type: `listpack` while small (hash-max-listpack-entries / -value), `hashtable` after.

use super::compact::CompactBytes;
use super::EncodingLimits;

/// A hash value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Hash {
    fields: Vec<(CompactBytes, CompactBytes)>,
}

impl Hash {
    /// An empty hash.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// True when empty (an empty hash is never stored).
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// OBJECT ENCODING for these contents under `limits`.
    pub fn encoding(&self, limits: &EncodingLimits) -> &'static str {
        let small = self.fields.len() <= limits.hash_max_listpack_entries
            && self.fields.iter().all(|(f, v)| {
                f.len() <= limits.hash_max_listpack_value
                    && v.len() <= limits.hash_max_listpack_value
            });
        if small {
            "listpack"
        } else {
            "hashtable"
        }
    }

    /// Approximate heap bytes, for MEMORY USAGE.
    pub fn heap_size(&self) -> usize {
        self.fields.capacity() * 32
            + self
                .fields
                .iter()
                .map(|(f, v)| f.heap_size() + v.heap_size())
                .sum::<usize>()
    }

    /// Every field and value.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.fields
            .iter()
            .map(|(f, v)| (f.as_slice(), v.as_slice()))
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|(f, _)| f.as_slice() == field)
            .map(|(_, v)| v.as_slice())
    }

    /// Sets `field`; true if it was new.
    pub fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        match self.fields.iter_mut().find(|(f, _)| f.as_slice() == field) {
            Some((_, v)) => {
                *v = CompactBytes::new(value);
                false
            }
            None => {
                self.fields
                    .push((CompactBytes::new(field), CompactBytes::new(value)));
                true
            }
        }
    }

    /// Removes `field`; true if it existed.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self.fields.iter().position(|(f, _)| f.as_slice() == field) {
            Some(i) => {
                self.fields.swap_remove(i);
                true
            }
            None => false,
        }
    }
}
