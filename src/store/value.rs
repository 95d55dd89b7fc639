//! What a key holds. Strings that look like integers are stored as integers, as Redis's `int`
//! encoding does, which makes counters small and INCR cheap.

use super::compact::CompactBytes;
use super::{EncodingLimits, Hash, List, Set, ZSet};
use crate::num::parse_i64;

/// Strings up to this length report `embstr` in OBJECT ENCODING, as in Redis.
const EMBSTR_LIMIT: usize = 44;

/// A key's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A string stored as bytes (inline when short).
    Str(CompactBytes),
    /// A string whose text is the canonical decimal form of this integer.
    Int(i64),
    /// A list.
    List(Box<List>),
    /// A hash.
    Hash(Box<Hash>),
    /// A set.
    Set(Box<Set>),
    /// A sorted set.
    ZSet(Box<ZSet>),
}

impl Value {
    /// Builds a string value, choosing the integer form when the text round-trips exactly.
    pub fn string(bytes: &[u8]) -> Value {
        if bytes.len() <= 20 {
            if let Some(n) = parse_i64(bytes) {
                return Value::Int(n);
            }
        }
        Value::Str(CompactBytes::new(bytes))
    }

    /// A string edited in place (APPEND, SETRANGE, bit commands): kept as bytes and reported as
    /// `raw`, as Redis does, even when it looks like an integer or is short.
    pub fn raw_string(bytes: &[u8]) -> Value {
        Value::Str(CompactBytes::new_raw(bytes))
    }

    /// Builds a string value from an owned buffer without copying long strings again.
    pub fn string_from_vec(bytes: Vec<u8>) -> Value {
        if bytes.len() <= 20 {
            if let Some(n) = parse_i64(&bytes) {
                return Value::Int(n);
            }
        }
        Value::Str(CompactBytes::from(bytes))
    }

    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) | Value::Int(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
        }
    }

    /// The name OBJECT ENCODING reports; collection encodings depend on the configured limits.
    pub fn encoding(&self, limits: &EncodingLimits) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Str(s) if s.len() <= EMBSTR_LIMIT && !s.is_raw() => "embstr",
            Value::Str(_) => "raw",
            Value::List(l) => l.encoding(),
            Value::Hash(h) => h.encoding(),
            Value::Set(s) => s.encoding(limits),
            Value::ZSet(z) => z.encoding(limits),
        }
    }

    /// The string bytes of a string value (integers rendered), `None` for other types.
    pub fn as_bytes(&self) -> Option<std::borrow::Cow<'_, [u8]>> {
        match self {
            Value::Str(s) => Some(std::borrow::Cow::Borrowed(s)),
            Value::Int(n) => Some(std::borrow::Cow::Owned(n.to_string().into_bytes())),
            _ => None,
        }
    }

    /// How many allocations freeing the value releases, as Redis's `lazyfreeGetFreeEffort`
    /// estimates it: a compact encoding is one block, other collections one per member.
    pub fn free_effort(&self) -> usize {
        match self {
            Value::Str(_) | Value::Int(_) => 1,
            Value::List(l) => l.len(),
            Value::Hash(h) if h.is_compact() => 1,
            Value::Hash(h) => h.len(),
            Value::Set(s) if s.is_intset() => 1,
            Value::Set(s) => s.len(),
            Value::ZSet(z) if z.is_skiplist() => z.len(),
            Value::ZSet(_) => 1,
        }
    }

    /// True when the value is a collection whose members live in a hash table, so that
    /// [`Value::prefetch_member`] has something to load.
    pub fn has_member_table(&self) -> bool {
        match self {
            Value::Hash(h) => !h.is_compact(),
            Value::Set(s) => !s.is_intset(),
            Value::ZSet(z) => z.is_skiplist(),
            _ => false,
        }
    }

    /// Starts loading what looking `member` up in this collection's table will touch, one hop
    /// per `level` (see [`super::Dict::prefetch`]); a no-op for other values.
    pub fn prefetch_member(&self, member: &[u8], level: u8) {
        match self {
            Value::Hash(h) => h.prefetch(member, level),
            Value::Set(s) => s.prefetch(member, level),
            Value::ZSet(z) => z.prefetch(member, level),
            _ => {}
        }
    }

    /// Approximate heap bytes used, for MEMORY USAGE and INFO memory.
    pub fn heap_size(&self) -> usize {
        match self {
            Value::Str(s) => s.heap_size(),
            Value::Int(_) => 0,
            Value::List(l) => l.heap_size(),
            Value::Hash(h) => h.heap_size(),
            Value::Set(s) => s.heap_size(),
            Value::ZSet(z) => z.heap_size(),
        }
    }
}
