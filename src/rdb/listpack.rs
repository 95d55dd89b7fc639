//! Listpacks (rdb.md §4.1): the blob inside hash/zset listpack values, quicklist-2 nodes and
//! stream nodes. [`Builder`] writes them exactly as Redis 7.0's `lpAppend` does; [`decode`]
//! validates every entry (sizes, back-lengths, the item count, the terminator) before trusting
//! anything.

use crate::num::parse_i64;

/// Header: total bytes (u32) + number of items (u16).
pub const HEADER_SIZE: usize = 6;
/// `num_items` value meaning "too many to count in the header".
const COUNT_UNKNOWN: u16 = u16::MAX;
const EOF: u8 = 0xFF;

/// One listpack item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl Item<'_> {
    /// The item as the bytes a client sees (integers in decimal).
    pub fn to_vec(&self) -> Vec<u8> {
        match self {
            Item::Int(v) => v.to_string().into_bytes(),
            Item::Str(s) => s.to_vec(),
        }
    }
}

/// Number of bytes `backlen` takes for an entry of `l` bytes.
fn backlen_size(l: usize) -> usize {
    if l <= 127 {
        1
    } else if l < 16383 {
        2
    } else if l < 2_097_151 {
        3
    } else if l < 268_435_455 {
        4
    } else {
        5
    }
}

fn put_backlen(out: &mut Vec<u8>, l: usize) {
    let n = backlen_size(l);
    // The first byte holds the highest bits with bit 7 clear; the others have bit 7 set.
    for i in (0..n).rev() {
        let chunk = ((l >> (7 * i)) & 127) as u8;
        out.push(if i == n - 1 { chunk } else { chunk | 128 });
    }
}

/// Builds a listpack item by item.
pub struct Builder {
    buf: Vec<u8>,
    count: usize,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    /// An empty listpack.
    pub fn new() -> Self {
        let mut buf = Vec::with_capacity(64);
        buf.extend_from_slice(&[0; HEADER_SIZE]);
        Builder { buf, count: 0 }
    }

    /// Bytes the finished listpack would take now.
    pub fn bytes(&self) -> usize {
        self.buf.len() + 1
    }

    /// Items so far.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when no item was added.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Appends bytes, stored as an integer when they are the canonical decimal of an `i64`
    /// (Redis's `lpStringToInt64`).
    pub fn push_bytes(&mut self, s: &[u8]) {
        match parse_i64(s) {
            Some(v) => self.push_int(v),
            None => self.push_str(s),
        }
    }

    /// Appends an integer in the smallest encoding.
    pub fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        if (0..=127).contains(&v) {
            self.buf.push(v as u8);
        } else if (-4096..=4095).contains(&v) {
            let u = (v as u16) & 0x1fff;
            self.buf.push(0xc0 | (u >> 8) as u8);
            self.buf.push(u as u8);
        } else if (-32768..=32767).contains(&v) {
            self.buf.push(0xf1);
            self.buf.extend_from_slice(&(v as i16).to_le_bytes());
        } else if (-(1 << 23)..(1 << 23)).contains(&v) {
            self.buf.push(0xf2);
            self.buf.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
        } else if i32::try_from(v).is_ok() {
            self.buf.push(0xf3);
            self.buf.extend_from_slice(&(v as i32).to_le_bytes());
        } else {
            self.buf.push(0xf4);
            self.buf.extend_from_slice(&v.to_le_bytes());
        }
        let l = self.buf.len() - start;
        put_backlen(&mut self.buf, l);
        self.count += 1;
    }

    /// Appends bytes as a string entry (no integer detection).
    pub fn push_str(&mut self, s: &[u8]) {
        let start = self.buf.len();
        let len = s.len();
        if len < 64 {
            self.buf.push(0x80 | len as u8);
        } else if len < 4096 {
            self.buf.push(0xe0 | (len >> 8) as u8);
            self.buf.push(len as u8);
        } else {
            self.buf.push(0xf0);
            self.buf.extend_from_slice(&(len as u32).to_le_bytes());
        }
        self.buf.extend_from_slice(s);
        let l = self.buf.len() - start;
        put_backlen(&mut self.buf, l);
        self.count += 1;
    }

    /// The finished blob.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(EOF);
        let total = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&total.to_le_bytes());
        let count = self.count.min(COUNT_UNKNOWN as usize) as u16;
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

fn need(blob: &[u8], pos: usize, n: usize) -> Result<(), String> {
    if pos.checked_add(n).is_none_or(|end| end > blob.len()) {
        return Err(format!("listpack entry at {pos} runs past the end"));
    }
    Ok(())
}

/// Decodes and fully validates a listpack.
pub fn decode(blob: &[u8]) -> Result<Vec<Item<'_>>, String> {
    if blob.len() < HEADER_SIZE + 1 {
        return Err("listpack shorter than its header".into());
    }
    let total = u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
    if total != blob.len() {
        return Err(format!(
            "listpack total_bytes {total} differs from its length {}",
            blob.len()
        ));
    }
    if blob[blob.len() - 1] != EOF {
        return Err("listpack does not end with 0xFF".into());
    }
    let declared = u16::from_le_bytes([blob[4], blob[5]]);
    let end = blob.len() - 1;
    let mut pos = HEADER_SIZE;
    let mut items = Vec::with_capacity((declared as usize).min(blob.len() / 2));
    while pos < end {
        let b = blob[pos];
        let (item, size) = if b & 0x80 == 0 {
            (Item::Int((b & 0x7f) as i64), 1)
        } else if b & 0xc0 == 0x80 {
            let len = (b & 0x3f) as usize;
            need(blob, pos + 1, len)?;
            (Item::Str(&blob[pos + 1..pos + 1 + len]), 1 + len)
        } else if b & 0xe0 == 0xc0 {
            need(blob, pos, 2)?;
            let u = (((b & 0x1f) as u16) << 8) | blob[pos + 1] as u16;
            let v = ((u << 3) as i16 >> 3) as i64;
            (Item::Int(v), 2)
        } else if b & 0xf0 == 0xe0 {
            need(blob, pos, 2)?;
            let len = (((b & 0x0f) as usize) << 8) | blob[pos + 1] as usize;
            need(blob, pos + 2, len)?;
            (Item::Str(&blob[pos + 2..pos + 2 + len]), 2 + len)
        } else {
            match b {
                0xf0 => {
                    need(blob, pos, 5)?;
                    let len = u32::from_le_bytes([
                        blob[pos + 1],
                        blob[pos + 2],
                        blob[pos + 3],
                        blob[pos + 4],
                    ]) as usize;
                    need(blob, pos + 5, len)?;
                    (Item::Str(&blob[pos + 5..pos + 5 + len]), 5 + len)
                }
                0xf1 => {
                    need(blob, pos, 3)?;
                    let v = i16::from_le_bytes([blob[pos + 1], blob[pos + 2]]) as i64;
                    (Item::Int(v), 3)
                }
                0xf2 => {
                    need(blob, pos, 4)?;
                    let v =
                        i32::from_le_bytes([0, blob[pos + 1], blob[pos + 2], blob[pos + 3]]) >> 8;
                    (Item::Int(v as i64), 4)
                }
                0xf3 => {
                    need(blob, pos, 5)?;
                    let v = i32::from_le_bytes([
                        blob[pos + 1],
                        blob[pos + 2],
                        blob[pos + 3],
                        blob[pos + 4],
                    ]);
                    (Item::Int(v as i64), 5)
                }
                0xf4 => {
                    need(blob, pos, 9)?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(&blob[pos + 1..pos + 9]);
                    (Item::Int(i64::from_le_bytes(a)), 9)
                }
                _ => return Err(format!("invalid listpack entry encoding {b:#04x} at {pos}")),
            }
        };
        let bl = backlen_size(size);
        need(blob, pos + size, bl)?;
        if pos + size + bl > end {
            return Err(format!("listpack entry at {pos} overlaps the terminator"));
        }
        // Read the back-length the way a reverse walk would and check it.
        let mut l = 0usize;
        for (i, &c) in blob[pos + size..pos + size + bl].iter().enumerate() {
            let high = i == 0;
            if high == (c & 0x80 != 0) {
                return Err(format!("malformed listpack back-length at {}", pos + size));
            }
            l = (l << 7) | (c & 0x7f) as usize;
        }
        if l != size {
            return Err(format!("listpack back-length mismatch at {}", pos + size));
        }
        items.push(item);
        pos += size + bl;
    }
    if declared != COUNT_UNKNOWN && declared as usize != items.len() {
        return Err(format!(
            "listpack declares {declared} items but holds {}",
            items.len()
        ));
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_vector() {
        let mut b = Builder::new();
        for s in ["a", "1", "-3", "300", "-5000", "70000"] {
            b.push_bytes(s.as_bytes());
        }
        let blob = b.finish();
        let expect = [
            0x1b, 0, 0, 0, 6, 0, 0x81, 0x61, 2, 1, 1, 0xdf, 0xfd, 2, 0xc1, 0x2c, 2, 0xf1, 0x78,
            0xec, 3, 0xf2, 0x70, 0x11, 1, 4, 0xff,
        ];
        assert_eq!(blob, expect);
        let items = decode(&blob).unwrap();
        assert_eq!(
            items,
            vec![
                Item::Str(b"a"),
                Item::Int(1),
                Item::Int(-3),
                Item::Int(300),
                Item::Int(-5000),
                Item::Int(70000)
            ]
        );
    }

    #[test]
    fn backlen_boundaries_and_long_strings() {
        let mut b = Builder::new();
        b.push_str(&[b'x'; 200]);
        let blob = b.finish();
        assert_eq!(&blob[6..8], &[0xe0, 0xc8]);
        assert_eq!(&blob[blob.len() - 3..blob.len() - 1], &[0x01, 0xca]);
        for len in [0usize, 63, 64, 4095, 4096, 16377, 16378, 20_000] {
            let mut b = Builder::new();
            b.push_str(&vec![7u8; len]);
            b.push_int(i64::MIN);
            b.push_int(-4096);
            b.push_int(4095);
            b.push_int(-(1 << 23));
            b.push_int(i32::MIN as i64);
            let blob = b.finish();
            let items = decode(&blob).unwrap();
            assert_eq!(items.len(), 6);
            assert_eq!(items[0], Item::Str(&vec![7u8; len]));
            assert_eq!(items[1], Item::Int(i64::MIN));
            assert_eq!(items[2], Item::Int(-4096));
            assert_eq!(items[5], Item::Int(i32::MIN as i64));
        }
    }

    #[test]
    fn rejects_corruption() {
        let mut b = Builder::new();
        b.push_bytes(b"hello");
        b.push_bytes(b"12");
        let blob = b.finish();
        for i in 0..blob.len() {
            for bit in 0..8 {
                let mut c = blob.clone();
                c[i] ^= 1 << bit;
                let _ = decode(&c);
            }
        }
        let mut c = blob.clone();
        c[4] = 3;
        assert!(decode(&c).is_err());
        assert!(decode(&blob[..blob.len() - 1]).is_err());
    }
}
