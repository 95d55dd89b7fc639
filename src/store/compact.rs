//! [`CompactBytes`]: the byte string used for keys and string values. It is 16 bytes: strings of
//! up to 15 bytes live inline (no allocation at all), longer ones on the heap behind a thin
//! pointer plus a 32-bit length. Together with the 8-byte entry metadata this keeps a keyspace
//! node at 56 bytes (one 64-byte allocation) and makes small keys free of a second allocation,
//! which is how resident memory stays at or below Redis's for the same data.

use std::fmt;
use std::ops::Deref;
use std::ptr::NonNull;

/// Longest string stored inline.
const INLINE_MAX: usize = 15;
/// Marker in the last byte for the heap form (inline lengths are 0..=15).
const HEAP_TAG: u8 = 0xFF;
/// Set in the inline length byte of a string edited in place (see [`CompactBytes::is_raw`]).
const RAW_FLAG: u8 = 0x40;
/// Mask of the inline length.
const LEN_MASK: u8 = 0x0F;

/// An immutable byte string of at most `u32::MAX` bytes, 16 bytes in size.
///
/// Layout: inline form: `data[0..15]` bytes, `data[15]` = length (low 4 bits) plus `RAW_FLAG`.
/// Heap form: `data[0..8]` the pointer of a leaked `Box<[u8]>`, `data[8..12]` its length,
/// `data[12]` the raw flag, `data[15]` = `HEAP_TAG`.
pub struct CompactBytes {
    data: [u8; 16],
}

// SAFETY: the heap form exclusively owns its allocation (like `Box<[u8]>`), so the value can be
// sent and shared across threads exactly as a `Box<[u8]>` can.
unsafe impl Send for CompactBytes {}
// SAFETY: see `Send`; there is no interior mutability.
unsafe impl Sync for CompactBytes {}

impl CompactBytes {
    /// Copies `bytes` into a new string. Panics only if `bytes` exceeds 4 GiB, which the
    /// protocol limits (proto-max-bulk-len) make impossible for client data.
    pub fn new(bytes: &[u8]) -> Self {
        if bytes.len() <= INLINE_MAX {
            let mut data = [0u8; 16];
            data[..bytes.len()].copy_from_slice(bytes);
            data[15] = bytes.len() as u8;
            return CompactBytes { data };
        }
        Self::from_box(bytes.into())
    }

    fn from_box(boxed: Box<[u8]>) -> Self {
        let len = u32::try_from(boxed.len()).expect("string longer than 4 GiB");
        let ptr = Box::into_raw(boxed) as *mut u8 as usize;
        let mut data = [0u8; 16];
        data[..8].copy_from_slice(&ptr.to_ne_bytes());
        data[8..12].copy_from_slice(&len.to_ne_bytes());
        data[15] = HEAP_TAG;
        CompactBytes { data }
    }

    fn is_heap(&self) -> bool {
        self.data[15] == HEAP_TAG
    }

    fn heap_parts(&self) -> (NonNull<u8>, usize) {
        let mut p = [0u8; 8];
        p.copy_from_slice(&self.data[..8]);
        let mut l = [0u8; 4];
        l.copy_from_slice(&self.data[8..12]);
        let ptr = usize::from_ne_bytes(p) as *mut u8;
        // The heap form always holds the pointer of a live Box (never null).
        (
            NonNull::new(ptr).unwrap_or(NonNull::dangling()),
            u32::from_ne_bytes(l) as usize,
        )
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        if self.is_heap() {
            let (ptr, len) = self.heap_parts();
            // SAFETY: `ptr`/`len` come from a leaked `Box<[u8]>` this value owns; it stays alive
            // until `drop`, and nothing mutates it.
            unsafe { std::slice::from_raw_parts(ptr.as_ptr(), len) }
        } else {
            &self.data[..(self.data[15] & LEN_MASK) as usize]
        }
    }

    /// Address of the first byte (for cache prefetching).
    pub fn as_ptr(&self) -> *const u8 {
        self.as_slice().as_ptr()
    }

    /// A copy marked as edited in place: Redis reports such strings (the result of APPEND,
    /// SETRANGE, SETBIT, ...) as `raw` whatever their length or content.
    pub fn new_raw(bytes: &[u8]) -> Self {
        let mut s = CompactBytes::new(bytes);
        s.set_raw();
        s
    }

    fn set_raw(&mut self) {
        if self.is_heap() {
            self.data[12] = 1;
        } else {
            self.data[15] |= RAW_FLAG;
        }
    }

    /// True for strings edited in place (OBJECT ENCODING `raw`).
    pub fn is_raw(&self) -> bool {
        if self.is_heap() {
            self.data[12] == 1
        } else {
            self.data[15] & RAW_FLAG != 0
        }
    }

    /// Length in bytes, without building the slice.
    pub fn len(&self) -> usize {
        if self.is_heap() {
            self.heap_parts().1
        } else {
            (self.data[15] & LEN_MASK) as usize
        }
    }

    /// True for the empty string.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Equality with a byte slice, tuned for the keyspace's hot path: lengths first, then short
    /// strings up to 32 bytes as overlapping word loads (no `memcmp` or copy call).
    #[inline]
    pub fn eq_bytes(&self, other: &[u8]) -> bool {
        let mine = self.as_slice();
        let n = mine.len();
        if n != other.len() {
            return false;
        }
        let word8 = |s: &[u8], at: usize| {
            u64::from_ne_bytes([
                s[at],
                s[at + 1],
                s[at + 2],
                s[at + 3],
                s[at + 4],
                s[at + 5],
                s[at + 6],
                s[at + 7],
            ])
        };
        let word4 =
            |s: &[u8], at: usize| u32::from_ne_bytes([s[at], s[at + 1], s[at + 2], s[at + 3]]);
        match n {
            0 => true,
            1..=3 => {
                mine[0] == other[0] && mine[n / 2] == other[n / 2] && mine[n - 1] == other[n - 1]
            }
            4..=7 => word4(mine, 0) == word4(other, 0) && word4(mine, n - 4) == word4(other, n - 4),
            8..=16 => {
                word8(mine, 0) == word8(other, 0) && word8(mine, n - 8) == word8(other, n - 8)
            }
            // Members such as `element:000000012345` (17..=32 bytes): four word loads, the
            // last two overlapping the first two as needed.
            17..=32 => {
                word8(mine, n - 8) == word8(other, n - 8)
                    && word8(mine, n - 16) == word8(other, n - 16)
                    && word8(mine, 0) == word8(other, 0)
                    && word8(mine, 8) == word8(other, 8)
            }
            _ => mine == other,
        }
    }

    /// Bytes allocated on the heap for this string (0 when inline).
    pub fn heap_size(&self) -> usize {
        if self.is_heap() {
            self.heap_parts().1
        } else {
            0
        }
    }
}

impl Drop for CompactBytes {
    fn drop(&mut self) {
        if self.is_heap() {
            let (ptr, len) = self.heap_parts();
            // SAFETY: reconstructs the `Box<[u8]>` leaked in `from_box`, exactly once.
            unsafe {
                drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(
                    ptr.as_ptr(),
                    len,
                )));
            }
        }
    }
}

impl Clone for CompactBytes {
    fn clone(&self) -> Self {
        let mut c = CompactBytes::new(self.as_slice());
        if self.is_raw() {
            c.set_raw();
        }
        c
    }
}

impl Deref for CompactBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for CompactBytes {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl PartialEq for CompactBytes {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for CompactBytes {}

impl From<&[u8]> for CompactBytes {
    fn from(b: &[u8]) -> Self {
        CompactBytes::new(b)
    }
}

impl From<Vec<u8>> for CompactBytes {
    fn from(v: Vec<u8>) -> Self {
        if v.len() <= INLINE_MAX {
            CompactBytes::new(&v)
        } else {
            Self::from_box(v.into_boxed_slice())
        }
    }
}

impl fmt::Debug for CompactBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", crate::num::repr(self.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::CompactBytes;

    #[test]
    fn eq_bytes_sees_a_difference_at_every_position() {
        for len in 0..40usize {
            let src: Vec<u8> = (0..len).map(|i| (i * 7 + 1) as u8).collect();
            let a = CompactBytes::new(&src);
            assert!(a.eq_bytes(&src), "len {len}");
            for at in 0..len {
                let mut other = src.clone();
                other[at] ^= 0x80;
                assert!(!a.eq_bytes(&other), "len {len}, byte {at}");
            }
        }
    }

    #[test]
    fn inline_and_heap_round_trip() {
        assert_eq!(std::mem::size_of::<CompactBytes>(), 16);
        for len in [0usize, 1, 15, 16, 100, 70_000] {
            let src: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let a = CompactBytes::new(&src);
            let b = a.clone();
            let c = CompactBytes::from(src.clone());
            assert_eq!(&*a, &src[..]);
            assert_eq!(a, b);
            assert_eq!(&*c, &src[..]);
            assert_eq!(a.heap_size(), if len > 15 { len } else { 0 });
            assert_eq!(a.len(), len);
            assert!(a.eq_bytes(&src));
            let mut other = src.clone();
            if let Some(last) = other.last_mut() {
                *last ^= 1;
                assert!(!a.eq_bytes(&other));
            }
            assert!(!a.eq_bytes(&[&src[..], b"x"].concat()));
            let raw = CompactBytes::new_raw(&src);
            assert!(raw.is_raw() && !a.is_raw());
            assert_eq!(&*raw, &src[..]);
            assert_eq!(raw.len(), len);
            assert!(raw.clone().is_raw());
        }
        let moved = std::thread::spawn(move || CompactBytes::new(&[7u8; 40]).to_vec())
            .join()
            .unwrap();
        assert_eq!(moved, vec![7u8; 40]);
    }
}
