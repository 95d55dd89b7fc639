//! Ziplists (rdb.md §4.2), found in files written by Redis 2.6–6.2: list, hash and zset blobs and
//! quicklist-1 nodes. Read-only; every field is validated before use.

use super::listpack::Item;

const HEADER_SIZE: usize = 10;
const EOF: u8 = 0xFF;
const COUNT_UNKNOWN: u16 = u16::MAX;

fn need(blob: &[u8], pos: usize, n: usize) -> Result<(), String> {
    if pos.checked_add(n).is_none_or(|end| end > blob.len() - 1) {
        return Err(format!("ziplist entry at {pos} runs past the end"));
    }
    Ok(())
}

fn le(b: &[u8]) -> u64 {
    b.iter().rev().fold(0u64, |acc, &x| (acc << 8) | x as u64)
}

/// Decodes and validates a ziplist.
pub fn decode(blob: &[u8]) -> Result<Vec<Item<'_>>, String> {
    if blob.len() < HEADER_SIZE + 1 {
        return Err("ziplist shorter than its header".into());
    }
    let zlbytes = le(&blob[0..4]) as usize;
    let zltail = le(&blob[4..8]) as usize;
    let declared = le(&blob[8..10]) as u16;
    if zlbytes != blob.len() {
        return Err(format!(
            "ziplist zlbytes {zlbytes} differs from its length {}",
            blob.len()
        ));
    }
    if blob[blob.len() - 1] != EOF {
        return Err("ziplist does not end with 0xFF".into());
    }
    let end = blob.len() - 1;
    let mut items = Vec::with_capacity((declared as usize).min(blob.len() / 2));
    let mut pos = HEADER_SIZE;
    let mut prev_size = 0usize;
    let mut last_start = HEADER_SIZE;
    while pos < end {
        let start = pos;
        // prevlen
        let prevlen = if blob[pos] < 254 {
            pos += 1;
            blob[start] as usize
        } else if blob[pos] == 254 {
            need(blob, pos, 5)?;
            pos += 5;
            le(&blob[start + 1..start + 5]) as usize
        } else {
            return Err(format!("invalid ziplist prevlen at {start}"));
        };
        if prevlen != prev_size {
            return Err(format!("ziplist prevlen mismatch at {start}"));
        }
        need(blob, pos, 1)?;
        let b = blob[pos];
        let item = match b >> 6 {
            0 => {
                let len = (b & 0x3f) as usize;
                need(blob, pos + 1, len)?;
                pos += 1 + len;
                Item::Str(&blob[pos - len..pos])
            }
            1 => {
                need(blob, pos, 2)?;
                let len = (((b & 0x3f) as usize) << 8) | blob[pos + 1] as usize;
                need(blob, pos + 2, len)?;
                pos += 2 + len;
                Item::Str(&blob[pos - len..pos])
            }
            2 => {
                if b != 0x80 {
                    return Err(format!("invalid ziplist string encoding {b:#04x}"));
                }
                need(blob, pos, 5)?;
                let len = u32::from_be_bytes([
                    blob[pos + 1],
                    blob[pos + 2],
                    blob[pos + 3],
                    blob[pos + 4],
                ]) as usize;
                need(blob, pos + 5, len)?;
                pos += 5 + len;
                Item::Str(&blob[pos - len..pos])
            }
            _ => {
                let width = match b {
                    0xc0 => 2,
                    0xd0 => 4,
                    0xe0 => 8,
                    0xf0 => 3,
                    0xfe => 1,
                    0xf1..=0xfd => 0,
                    _ => return Err(format!("invalid ziplist int encoding {b:#04x}")),
                };
                need(blob, pos, 1 + width)?;
                let raw = le(&blob[pos + 1..pos + 1 + width]);
                let v = match width {
                    0 => (b & 0x0f) as i64 - 1,
                    1 => raw as u8 as i8 as i64,
                    2 => raw as u16 as i16 as i64,
                    3 => ((raw as u32) << 8) as i32 as i64 >> 8,
                    4 => raw as u32 as i32 as i64,
                    _ => raw as i64,
                };
                pos += 1 + width;
                Item::Int(v)
            }
        };
        items.push(item);
        prev_size = pos - start;
        last_start = start;
    }
    if !items.is_empty() && zltail != last_start {
        return Err(format!(
            "ziplist zltail {zltail} does not point at the last entry"
        ));
    }
    if declared != COUNT_UNKNOWN && declared as usize != items.len() {
        return Err(format!(
            "ziplist declares {declared} entries but holds {}",
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
        let blob = [0x0f, 0, 0, 0, 0x0c, 0, 0, 0, 2, 0, 0, 0xf3, 2, 0xf6, 0xff];
        assert_eq!(decode(&blob).unwrap(), vec![Item::Int(2), Item::Int(5)]);
        let mut bad = blob;
        bad[12] = 3;
        assert!(decode(&bad).is_err());
    }

    #[test]
    fn every_int_width_and_long_prevlen() {
        let mut body: Vec<u8> = Vec::new();
        let mut sizes = Vec::new();
        let mut push = |body: &mut Vec<u8>, enc: &[u8]| {
            let prev: usize = sizes.last().copied().unwrap_or(0);
            let start = body.len();
            if prev < 254 {
                body.push(prev as u8);
            } else {
                body.push(254);
                body.extend_from_slice(&(prev as u32).to_le_bytes());
            }
            body.extend_from_slice(enc);
            sizes.push(body.len() - start);
            start
        };
        push(&mut body, &[0xfe, 0x80]);
        push(&mut body, &[0xc0, 0x39, 0x30]);
        push(&mut body, &[0xf0, 0x70, 0x11, 0x01]);
        push(&mut body, &[0xd0, 0, 0, 0, 0x80]);
        push(&mut body, &[0xe0, 1, 0, 0, 0, 0, 0, 0, 0x80]);
        let mut s = vec![0x41, 0x2c];
        s.extend_from_slice(&[b'x'; 300]);
        push(&mut body, &s);
        let last = push(&mut body, &[0x01, b'y']);
        let mut blob = Vec::new();
        let total = HEADER_SIZE + body.len() + 1;
        blob.extend_from_slice(&(total as u32).to_le_bytes());
        blob.extend_from_slice(&((HEADER_SIZE + last) as u32).to_le_bytes());
        blob.extend_from_slice(&7u16.to_le_bytes());
        blob.extend_from_slice(&body);
        blob.push(0xff);
        let items = decode(&blob).unwrap();
        assert_eq!(items[0], Item::Int(-128));
        assert_eq!(items[1], Item::Int(12345));
        assert_eq!(items[2], Item::Int(70000));
        assert_eq!(items[3], Item::Int(i32::MIN as i64));
        assert_eq!(items[4], Item::Int(i64::MIN + 1));
        assert_eq!(items[5], Item::Str(&[b'x'; 300]));
        assert_eq!(items[6], Item::Str(b"y"));
    }
}
