//! The hash type, in Redis's two encodings:
//!
//! * `listpack` while the hash has at most `hash-max-listpack-entries` fields and every field and
//!   value is at most `hash-max-listpack-value` bytes: one exact-size heap buffer of packed
//!   field/value pairs, scanned linearly (small hashes are read far more often than they are
//!   large, and the buffer is what keeps millions of them cheaper than Redis's own listpacks);
//! * `hashtable` beyond that: a [`Dict`] of field → value, which also gives HSCAN its stable
//!   cursors. As in Redis a hash never converts back.
//!
//! # Layout
//!
//! [`Hash`] is an unsized type over its own bytes, so `Box<Hash>` (what [`super::Value`] holds) is
//! a single allocation for the compact encoding: no separate header object.
//!
//! * Byte 0 is `0xFF` for the hashtable encoding, followed by the address of a boxed [`Dict`]
//!   (native-endian, pointer-sized).
//! * Otherwise byte 0 is the number of fields (`0xFE` meaning "254 or more: count them"), followed
//!   by the pairs. A pair starts with one header byte: field length in the high nibble, value
//!   length in the low nibble, where 15 means "the length follows as a LEB128 varint" (field's
//!   first). Then the field bytes, then the value bytes.
//!
//! Ten pairs like `f0`/`v0` take 51 bytes, one 64-byte malloc chunk, against Redis's 16-byte
//! object plus an 87-byte listpack.

use super::compact::CompactBytes;
use super::dict::Dict;
use super::shared::cow_mut;
use super::EncodingLimits;
use rand::Rng;
use std::fmt;
use std::sync::Arc;

type Table = Dict<CompactBytes>;

/// Byte 0 of a hashtable-encoded hash.
const TABLE_TAG: u8 = 0xFF;
/// Byte 0 of a compact hash with this many fields or more (the count must be recomputed).
const COUNT_SATURATED: u8 = 0xFE;
/// Nibble meaning "length too large for the nibble; a varint follows".
const LONG: usize = 15;
/// Redis refuses to grow a listpack beyond 1 GiB and converts instead (`lpSafeToAdd`).
const PACK_SAFETY_LIMIT: usize = 1 << 30;
const PTR: usize = std::mem::size_of::<usize>();

/// A hash value; always handled as `Box<Hash>`.
#[repr(transparent)]
pub struct Hash {
    bytes: [u8],
}

// ---------------------------------------------------------------------------------------------
// The compact encoding.
// ---------------------------------------------------------------------------------------------

fn varint_len(mut n: usize) -> usize {
    let mut l = 1;
    while n >= 0x80 {
        n >>= 7;
        l += 1;
    }
    l
}

fn put_varint(out: &mut [u8], mut n: usize) -> usize {
    let mut i = 0;
    while n >= 0x80 {
        out[i] = (n as u8 & 0x7F) | 0x80;
        n >>= 7;
        i += 1;
    }
    out[i] = n as u8;
    i + 1
}

fn get_varint(buf: &[u8], pos: &mut usize) -> usize {
    let mut n = 0usize;
    let mut shift = 0;
    loop {
        let b = buf[*pos];
        *pos += 1;
        n |= ((b & 0x7F) as usize) << shift;
        if b & 0x80 == 0 {
            return n;
        }
        shift += 7;
    }
}

fn ext_len(len: usize) -> usize {
    if len >= LONG {
        varint_len(len)
    } else {
        0
    }
}

/// Encoded size of one pair.
fn pair_size(flen: usize, vlen: usize) -> usize {
    1 + ext_len(flen) + ext_len(vlen) + flen + vlen
}

/// Writes one pair at the start of `out`, which has room for exactly `pair_size` bytes or more.
fn encode_pair(out: &mut [u8], field: &[u8], value: &[u8]) {
    let nib = |l: usize| l.min(LONG) as u8;
    out[0] = (nib(field.len()) << 4) | nib(value.len());
    let mut pos = 1;
    if field.len() >= LONG {
        pos += put_varint(&mut out[pos..], field.len());
    }
    if value.len() >= LONG {
        pos += put_varint(&mut out[pos..], value.len());
    }
    out[pos..pos + field.len()].copy_from_slice(field);
    pos += field.len();
    out[pos..pos + value.len()].copy_from_slice(value);
}

/// Where one pair lies in the buffer.
#[derive(Clone, Copy, Debug)]
struct Slot {
    start: usize,
    field: usize,
    value: usize,
    end: usize,
}

impl Slot {
    fn field<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        &buf[self.field..self.value]
    }
    fn value<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        &buf[self.value..self.end]
    }
}

fn decode(buf: &[u8], start: usize) -> Slot {
    let h = buf[start];
    let mut pos = start + 1;
    let mut flen = (h >> 4) as usize;
    if flen == LONG {
        flen = get_varint(buf, &mut pos);
    }
    let mut vlen = (h & 0x0F) as usize;
    if vlen == LONG {
        vlen = get_varint(buf, &mut pos);
    }
    Slot {
        start,
        field: pos,
        value: pos + flen,
        end: pos + flen + vlen,
    }
}

/// The pairs of a compact buffer (byte 0 included).
struct PackIter<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for PackIter<'a> {
    type Item = Slot;
    fn next(&mut self) -> Option<Slot> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let s = decode(self.buf, self.pos);
        self.pos = s.end;
        Some(s)
    }
}

fn slots(buf: &[u8]) -> PackIter<'_> {
    PackIter { buf, pos: 1 }
}

fn pack_find(buf: &[u8], field: &[u8]) -> Option<Slot> {
    slots(buf).find(|s| s.value - s.field == field.len() && s.field(buf) == field)
}

fn pack_count(buf: &[u8]) -> usize {
    match buf.first() {
        None => 0,
        Some(&c) if c < COUNT_SATURATED => c as usize,
        Some(_) => slots(buf).count(),
    }
}

fn set_count(buf: &mut [u8], n: usize) {
    buf[0] = n.min(COUNT_SATURATED as usize) as u8;
}

/// Replaces the pair at `s` by `field`/`value`, moving the tail as needed.
fn replace_pair(v: &mut Vec<u8>, s: Slot, field: &[u8], value: &[u8]) {
    let new = pair_size(field.len(), value.len());
    let old = s.end - s.start;
    let len = v.len();
    if new > old {
        v.resize(len + new - old, 0);
        v.copy_within(s.end..len, s.end + new - old);
    } else if new < old {
        v.copy_within(s.end..len, s.end - (old - new));
        v.truncate(len - (old - new));
    }
    encode_pair(&mut v[s.start..s.start + new], field, value);
}

fn append_pair(v: &mut Vec<u8>, field: &[u8], value: &[u8]) {
    let start = v.len();
    v.resize(start + pair_size(field.len(), value.len()), 0);
    encode_pair(&mut v[start..], field, value);
}

/// Redis's `hashTypeTryConversion`: false when one of the arguments is longer than
/// hash-max-listpack-value or the buffer would pass the safety limit.
fn fits<A: AsRef<[u8]>>(current: usize, args: &[A], limits: &EncodingLimits) -> bool {
    let mut sum = current;
    for a in args {
        let l = a.as_ref().len();
        if l > limits.hash_max_listpack_value {
            return false;
        }
        sum += l;
    }
    sum <= PACK_SAFETY_LIMIT
}

/// Sets the pairs of `flat` (field, value, field, value, ...) in a compact buffer, stopping
/// after the insertion that makes the hash exceed hash-max-listpack-entries. Returns the number
/// of new fields and how many elements of `flat` were consumed.
fn pack_set_pairs<A: AsRef<[u8]>>(
    v: &mut Vec<u8>,
    flat: &[A],
    limits: &EncodingLimits,
) -> (usize, usize) {
    let mut count = pack_count(v);
    let mut created = 0;
    let mut reserved = false;
    let mut i = 0;
    while i + 1 < flat.len() {
        let (f, val) = (flat[i].as_ref(), flat[i + 1].as_ref());
        i += 2;
        match pack_find(v, f) {
            Some(s) if s.end - s.value == val.len() => v[s.value..s.end].copy_from_slice(val),
            Some(s) => replace_pair(v, s, f, val),
            None => {
                if !reserved {
                    let need: usize = flat[i - 2..]
                        .chunks_exact(2)
                        .map(|p| pair_size(p[0].as_ref().len(), p[1].as_ref().len()))
                        .sum();
                    v.reserve_exact(need);
                    reserved = true;
                }
                append_pair(v, f, val);
                count += 1;
                created += 1;
                if count > limits.hash_max_listpack_entries {
                    break;
                }
            }
        }
    }
    set_count(v, count);
    (created, i)
}

// ---------------------------------------------------------------------------------------------
// The table encoding.
// ---------------------------------------------------------------------------------------------

fn table_set(t: &mut Table, field: &[u8], value: &[u8]) -> bool {
    if let Some(slot) = t.get_mut(field) {
        *slot = CompactBytes::new(value);
        return false;
    }
    t.insert_absent(field, CompactBytes::new(value));
    true
}

/// Inserts a field known to be absent, finishing any rehash a growth starts at once (bulk loads:
/// the dict otherwise only rehashes on lookups, and a long chain of inserts would pile up in one
/// table).
fn table_insert_new(t: &mut Table, field: &[u8], value: CompactBytes) {
    t.insert_absent(field, value);
    if t.is_rehashing() {
        t.rehash(64);
    }
}

// ---------------------------------------------------------------------------------------------
// Box plumbing.
// ---------------------------------------------------------------------------------------------

fn boxed(b: Box<[u8]>) -> Box<Hash> {
    // SAFETY: `Hash` is `repr(transparent)` over `[u8]`: same layout, same pointer metadata.
    unsafe { Box::from_raw(Box::into_raw(b) as *mut Hash) }
}

/// A hash in the hashtable encoding. The table is reference-counted and copied on write
/// ([`Hash::table_mut`]): a snapshot takes a hash under the keyspace lock by reference,
/// whatever its size, and encodes it outside; only a write to the hash while the snapshot
/// still holds it copies the table.
fn boxed_table(t: Table) -> Box<Hash> {
    boxed_table_ptr(Arc::into_raw(Arc::new(t)))
}

/// The tagged buffer of a hash whose table is the `Arc` behind `p` (one strong count owned).
fn boxed_table_ptr(p: *const Table) -> Box<Hash> {
    let mut b = [0u8; 1 + PTR];
    b[0] = TABLE_TAG;
    b[1..].copy_from_slice(&(p as usize).to_ne_bytes());
    boxed(Box::from(&b[..]))
}

/// Moves a compact hash's buffer out (leaving an empty, allocation-free placeholder).
fn take_pack(this: &mut Box<Hash>) -> Vec<u8> {
    debug_assert!(!this.is_table());
    let h = std::mem::replace(this, boxed(Box::default()));
    // SAFETY: inverse of `boxed`; the buffer holds no table (checked by callers), so skipping
    // `Hash::drop` leaks nothing.
    let bytes = unsafe { Box::from_raw(Box::into_raw(h) as *mut [u8]) };
    bytes.into_vec()
}

fn put_pack(this: &mut Box<Hash>, v: Vec<u8>) {
    *this = boxed(v.into_boxed_slice());
}

impl Drop for Hash {
    fn drop(&mut self) {
        if let Some(p) = self.table_ptr() {
            // SAFETY: the address came from `Arc::into_raw` (`boxed_table`, `table_mut`) and
            // this hash owns one strong count of it, released exactly once, here.
            drop(unsafe { Arc::from_raw(p) });
        }
    }
}

impl Clone for Box<Hash> {
    fn clone(&self) -> Self {
        match self.table_ptr() {
            None => boxed(Box::from(&self.bytes)),
            Some(p) => {
                // SAFETY: `p` is this hash's live table; the copy owns the strong count taken
                // here and releases it in its own `Drop`.
                unsafe { Arc::increment_strong_count(p) };
                boxed_table_ptr(p)
            }
        }
    }
}

impl PartialEq for Hash {
    fn eq(&self, other: &Hash) -> bool {
        self.len() == other.len() && self.iter().all(|(f, v)| other.get(f) == Some(v))
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.iter()
                    .map(|(k, v)| (crate::num::repr(k), crate::num::repr(v))),
            )
            .finish()
    }
}

// ---------------------------------------------------------------------------------------------
// The public interface.
// ---------------------------------------------------------------------------------------------

impl Hash {
    /// An empty hash in the compact encoding (an empty hash is never stored in the keyspace).
    pub fn new() -> Box<Hash> {
        boxed(Box::new([0u8]))
    }

    /// A hash holding the pairs of `flat` (field, value, field, value, ...; a later duplicate
    /// field wins), encoded as Redis would encode it after `HSET key <flat...>`.
    pub fn from_pairs<A: AsRef<[u8]>>(flat: &[A], limits: &EncodingLimits) -> Box<Hash> {
        if !fits(0, flat, limits) {
            let mut h = boxed_table(Table::new());
            h.set_pairs(flat, limits);
            return h;
        }
        let need: usize = flat
            .chunks_exact(2)
            .map(|p| pair_size(p[0].as_ref().len(), p[1].as_ref().len()))
            .sum();
        let mut v = Vec::with_capacity(1 + need);
        v.push(0);
        let (_, done) = pack_set_pairs(&mut v, flat, limits);
        let over = pack_count(&v) > limits.hash_max_listpack_entries;
        let mut h = boxed(v.into_boxed_slice());
        if done < flat.len() || over {
            h.convert();
            h.set_pairs(&flat[done..], limits);
        }
        h
    }

    fn table_ptr(&self) -> Option<*const Table> {
        if self.bytes.first() != Some(&TABLE_TAG) {
            return None;
        }
        let mut a = [0u8; PTR];
        a.copy_from_slice(&self.bytes[1..1 + PTR]);
        Some(usize::from_ne_bytes(a) as *const Table)
    }

    fn table(&self) -> Option<&Table> {
        // SAFETY: this hash holds a strong count of the table (see `Drop`), so it lives as
        // long as the borrow; tables are only mutated through `table_mut`, when unshared.
        self.table_ptr().map(|p| unsafe { &*p })
    }

    /// The table for writing: copied first if a copy of this hash (a snapshot's) shares it.
    fn table_mut(&mut self) -> Option<&mut Table> {
        let p = self.table_ptr()?;
        // SAFETY: `p` came from `Arc::into_raw` and this hash owns one strong count; it is
        // taken back here and handed out again below, so the count stays balanced.
        let mut arc = unsafe { Arc::from_raw(p) };
        cow_mut(&mut arc);
        let unique = Arc::into_raw(arc);
        if unique != p {
            self.bytes[1..1 + PTR].copy_from_slice(&(unique as usize).to_ne_bytes());
        }
        // SAFETY: after `cow_mut` this hash holds the only count, and the exclusive borrow
        // of the hash makes this borrow of the table unique.
        Some(unsafe { &mut *(unique as *mut Table) })
    }

    fn is_table(&self) -> bool {
        self.bytes.first() == Some(&TABLE_TAG)
    }

    /// Converts to the hashtable encoding (never undone).
    fn convert(self: &mut Box<Self>) {
        if self.is_table() {
            return;
        }
        let mut t = Table::new();
        for s in slots(&self.bytes) {
            table_insert_new(
                &mut t,
                s.field(&self.bytes),
                CompactBytes::new(s.value(&self.bytes)),
            );
        }
        *self = boxed_table(t);
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        match self.table() {
            Some(t) => t.len(),
            None => pack_count(&self.bytes),
        }
    }

    /// True when empty (an empty hash is never stored).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// OBJECT ENCODING: `listpack` or `hashtable`.
    pub fn encoding(&self) -> &'static str {
        if self.is_table() {
            "hashtable"
        } else {
            "listpack"
        }
    }

    /// True while in the compact (`listpack`) encoding.
    pub fn is_compact(&self) -> bool {
        !self.is_table()
    }

    /// Approximate heap bytes, for MEMORY USAGE.
    pub fn heap_size(&self) -> usize {
        match self.table() {
            None => self.bytes.len(),
            Some(t) => {
                self.bytes.len()
                    + std::mem::size_of::<Table>()
                    + t.buckets() * PTR
                    + t.iter()
                        .map(|(k, v)| 48 + k.len().saturating_sub(15) + v.heap_size())
                        .sum::<usize>()
            }
        }
    }

    /// Prefetches a lookup of `field` in the hashtable encoding (see [`Dict::prefetch`]).
    pub fn prefetch(&self, field: &[u8], level: u8) {
        if let Some(t) = self.table() {
            t.prefetch(field, level);
        }
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self.table() {
            Some(t) => t.get(field).map(|v| v.as_slice()),
            None => pack_find(&self.bytes, field).map(|s| s.value(&self.bytes)),
        }
    }

    /// True if `field` exists.
    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Every field and value: insertion order for the compact encoding, table order otherwise.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        let (pack, table) = match self.table() {
            Some(t) => (None, Some(t.iter().map(|(k, v)| (k, v.as_slice())))),
            None => {
                let buf = &self.bytes;
                (Some(slots(buf).map(|s| (s.field(buf), s.value(buf)))), None)
            }
        };
        pack.into_iter()
            .flatten()
            .chain(table.into_iter().flatten())
    }

    /// Sets `field` to `value`; true if the field is new. Converts to the hashtable encoding when
    /// either is longer than hash-max-listpack-value or the fields become too many (Redis's
    /// `hashTypeSet`).
    pub fn set(self: &mut Box<Self>, field: &[u8], value: &[u8], limits: &EncodingLimits) -> bool {
        self.set_pairs(&[field, value], limits) == 1
    }

    /// Sets every pair of `flat` (field, value, field, value, ...), as HSET does: a too-long
    /// argument converts first, then each insertion may convert on the entry count. Returns the
    /// number of new fields.
    pub fn set_pairs<A: AsRef<[u8]>>(
        self: &mut Box<Self>,
        flat: &[A],
        limits: &EncodingLimits,
    ) -> usize {
        if !self.is_table() && !fits(self.bytes.len(), flat, limits) {
            self.convert();
        }
        if let Some(t) = self.table_mut() {
            return flat
                .chunks_exact(2)
                .filter(|p| table_set(t, p[0].as_ref(), p[1].as_ref()))
                .count();
        }
        // Overwriting one value with one of the same length (counters, benchmarks): in place.
        if let [f, val] = flat {
            let (f, val) = (f.as_ref(), val.as_ref());
            if let Some(s) = pack_find(&self.bytes, f) {
                if s.end - s.value == val.len() {
                    // The compact bytes are plain data: writing a value in place is safe.
                    self.bytes[s.value..s.end].copy_from_slice(val);
                    return 0;
                }
            }
        }
        let mut v = take_pack(self);
        let (created, done) = pack_set_pairs(&mut v, flat, limits);
        put_pack(self, v);
        if done < flat.len() || self.len() > limits.hash_max_listpack_entries {
            self.convert();
            return created + self.set_pairs(&flat[done..], limits);
        }
        created
    }

    /// Removes `field`; true if it existed.
    pub fn remove(self: &mut Box<Self>, field: &[u8]) -> bool {
        self.remove_fields(&[field]) == 1
    }

    /// Removes every field of `fields` that exists; returns how many did.
    pub fn remove_fields<A: AsRef<[u8]>>(self: &mut Box<Self>, fields: &[A]) -> usize {
        if let Some(t) = self.table_mut() {
            let n = fields
                .iter()
                .filter(|f| t.remove(f.as_ref()).is_some())
                .count();
            if n > 0 {
                t.shrink_if_needed();
            }
            return n;
        }
        if !fields
            .iter()
            .any(|f| pack_find(&self.bytes, f.as_ref()).is_some())
        {
            return 0;
        }
        let mut v = take_pack(self);
        let mut count = pack_count(&v);
        let mut removed = 0;
        for f in fields {
            if let Some(s) = pack_find(&v, f.as_ref()) {
                let len = v.len();
                v.copy_within(s.end..len, s.start);
                v.truncate(len - (s.end - s.start));
                count -= 1;
                removed += 1;
            }
        }
        set_count(&mut v, count);
        put_pack(self, v);
        removed
    }

    /// A uniformly random field and its value.
    pub fn random(&self, rng: &mut impl Rng) -> Option<(&[u8], &[u8])> {
        match self.table() {
            Some(t) => t.random_entry(rng).map(|(k, v)| (k, v.as_slice())),
            None => {
                let n = self.len();
                if n == 0 {
                    return None;
                }
                self.iter().nth(rng.gen_range(0..n))
            }
        }
    }

    /// One HSCAN step: visits the pairs of the bucket(s) at `cursor` and returns the next cursor
    /// (0 when done). The compact encoding visits everything at once and returns 0, as Redis.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], &[u8])) -> u64 {
        match self.table() {
            Some(t) => t.scan(cursor, |k, v| f(k, v)),
            None => {
                for (k, v) in self.iter() {
                    f(k, v);
                }
                0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::SmallRng, SeedableRng};
    use std::collections::HashMap;

    /// A copy shares the table until one side writes: each then sees only its own changes,
    /// and dropping both in any order frees the table once.
    #[test]
    fn copies_share_the_table_until_written() {
        let l = limits(4, 64);
        let mut a = Hash::new();
        for i in 0..100 {
            a.set(format!("f{i}").as_bytes(), b"v", &l);
        }
        assert_eq!(a.encoding(), "hashtable");
        let mut b = a.clone();
        assert_eq!(a.table_ptr(), b.table_ptr(), "shared after the copy");
        b.set(b"f1", b"changed", &l);
        assert_ne!(a.table_ptr(), b.table_ptr(), "copied on write");
        a.remove(b"f2");
        assert_eq!(a.get(b"f1"), Some(&b"v"[..]));
        assert_eq!(b.get(b"f1"), Some(&b"changed"[..]));
        assert_eq!(a.get(b"f2"), None);
        assert_eq!(b.get(b"f2"), Some(&b"v"[..]));
        // A copy nobody writes to is dropped first, then the last owner writes in place.
        let c = a.clone();
        drop(c);
        let before = a.table_ptr();
        a.set(b"f3", b"w", &l);
        assert_eq!(a.table_ptr(), before, "unshared again: no copy");
        drop(a);
        assert_eq!(b.len(), 100);
    }

    fn limits(entries: usize, value: usize) -> EncodingLimits {
        EncodingLimits {
            hash_max_listpack_entries: entries,
            hash_max_listpack_value: value,
            ..EncodingLimits::default()
        }
    }

    fn contents(h: &Hash) -> HashMap<Vec<u8>, Vec<u8>> {
        h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect()
    }

    #[test]
    fn compact_layout_is_tight() {
        let flat: Vec<String> = (0..10)
            .flat_map(|i| [format!("f{i}"), format!("v{i}")])
            .collect();
        let h = Hash::from_pairs(&flat, &EncodingLimits::default());
        assert_eq!(h.encoding(), "listpack");
        assert_eq!(std::mem::size_of_val(&*h), 51);
        assert_eq!(h.len(), 10);
        assert_eq!(h.get(b"f7"), Some(&b"v7"[..]));
        assert_eq!(h.get(b"f10"), None);
        let order: Vec<&[u8]> = h.iter().map(|(f, _)| f).collect();
        assert_eq!(order[0], b"f0");
        assert_eq!(order[9], b"f9");
    }

    #[test]
    fn varint_lengths_round_trip() {
        for len in [0usize, 1, 14, 15, 16, 127, 128, 300, 70_000] {
            let f = vec![b'f'; len];
            let v = vec![b'v'; len / 2 + 1];
            let mut h = Hash::new();
            let lim = limits(128, usize::MAX);
            assert!(h.set(&f, &v, &lim));
            assert!(h.set(b"x", b"y", &lim));
            assert_eq!(h.encoding(), "listpack");
            assert_eq!(h.get(&f), Some(&v[..]));
            assert_eq!(h.get(b"x"), Some(&b"y"[..]));
            let v2 = vec![b'w'; len + 20];
            assert!(!h.set(&f, &v2, &lim));
            assert_eq!(h.get(&f), Some(&v2[..]));
            assert_eq!(h.get(b"x"), Some(&b"y"[..]));
            assert!(h.remove(&f));
            assert_eq!(h.len(), 1);
            assert_eq!(h.get(b"x"), Some(&b"y"[..]));
        }
    }

    #[test]
    fn converts_like_redis() {
        let lim = limits(4, 8);
        let mut h = Hash::new();
        for i in 0..4 {
            h.set(format!("f{i}").as_bytes(), b"v", &lim);
        }
        assert_eq!(h.encoding(), "listpack");
        assert!(!h.set(b"f0", b"12345678", &lim));
        assert_eq!(h.encoding(), "listpack");
        h.set(b"f4", b"v", &lim);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 5);
        for i in 0..5 {
            h.remove(format!("f{i}").as_bytes());
        }
        assert!(h.is_empty());
        assert_eq!(h.encoding(), "hashtable");

        let mut h = Hash::new();
        h.set(b"f", b"123456789", &lim);
        assert_eq!(h.encoding(), "hashtable");
        let h = Hash::from_pairs(&["a", "1", "b", "2", "a", "3"], &limits(2, 8));
        assert_eq!(h.encoding(), "listpack");
        assert_eq!(h.len(), 2);
        assert_eq!(h.get(b"a"), Some(&b"3"[..]));
        let h = Hash::from_pairs(&["a", "1", "b", "2", "c", "3"], &limits(2, 8));
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 3);
        let h = Hash::from_pairs(&["a", "1"], &limits(0, 8));
        assert_eq!(h.encoding(), "hashtable");
        let h = Hash::from_pairs(&["", ""], &limits(1, 0));
        assert_eq!(h.encoding(), "listpack");
    }

    #[test]
    fn count_saturates_and_recovers() {
        let lim = limits(1000, 64);
        let mut h = Hash::new();
        for i in 0..300 {
            assert!(h.set(format!("{i}").as_bytes(), b"x", &lim));
        }
        assert_eq!(h.len(), 300);
        for i in 0..100 {
            assert!(h.remove(format!("{i}").as_bytes()));
        }
        assert_eq!(h.len(), 200);
        assert_eq!(h.bytes[0], 200);
    }

    #[test]
    fn random_model_check() {
        let mut rng = SmallRng::seed_from_u64(7);
        for lim in [limits(16, 12), limits(128, 64), limits(3, 100)] {
            let mut h = Hash::new();
            let mut model: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
            for _ in 0..4000 {
                let f = format!("f{}", rng.gen_range(0..40)).into_bytes();
                let v = vec![b'a' + rng.gen_range(0..26u8); rng.gen_range(0..20)];
                match rng.gen_range(0..4) {
                    0 | 1 => assert_eq!(h.set(&f, &v, &lim), model.insert(f, v).is_none()),
                    2 => assert_eq!(h.remove(&f), model.remove(&f).is_some()),
                    _ => {
                        let f2 = format!("g{}", rng.gen_range(0..5)).into_bytes();
                        let n = h.set_pairs(&[&f[..], &v, &f2, &v, &f, b"z"], &lim);
                        let mut c = 0;
                        c += model.insert(f.clone(), v.clone()).is_none() as usize;
                        c += model.insert(f2, v.clone()).is_none() as usize;
                        model.insert(f.clone(), b"z".to_vec());
                        assert_eq!(n, c);
                    }
                }
                assert_eq!(h.len(), model.len());
            }
            assert_eq!(contents(&h), model);
            let copy = h.clone();
            assert!(copy == h);
            assert_eq!(contents(&copy), model);
            if !h.is_empty() {
                let (f, v) = h.random(&mut rng).unwrap();
                assert_eq!(model.get(f).map(|x| &x[..]), Some(v));
            }
        }
    }

    #[test]
    fn scan_visits_everything() {
        let lim = limits(8, 64);
        for n in [5usize, 500] {
            let flat: Vec<String> = (0..n)
                .flat_map(|i| [format!("f{i}"), format!("{i}")])
                .collect();
            let h = Hash::from_pairs(&flat, &lim);
            let mut seen = HashMap::new();
            let mut cursor = 0;
            let mut calls = 0;
            loop {
                cursor = h.scan(cursor, |f, v| {
                    seen.insert(f.to_vec(), v.to_vec());
                });
                calls += 1;
                if cursor == 0 {
                    break;
                }
            }
            assert_eq!(seen.len(), n);
            assert_eq!(calls > 1, n > 8);
        }
    }
}
