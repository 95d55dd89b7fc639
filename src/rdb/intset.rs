//! Intsets (rdb.md §4.3): the blob of a small all-integer set (type 11).

/// Encodes ascending, distinct `values` at `width` bytes each (2, 4 or 8), which must hold them.
pub fn encode(values: &[i64], width: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + values.len() * width as usize);
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(values.len() as u32).to_le_bytes());
    for &v in values {
        match width {
            2 => out.extend_from_slice(&(v as i16).to_le_bytes()),
            4 => out.extend_from_slice(&(v as i32).to_le_bytes()),
            _ => out.extend_from_slice(&v.to_le_bytes()),
        }
    }
    out
}

/// The narrowest width holding every value.
pub fn width_for(values: &[i64]) -> u8 {
    values.iter().fold(2u8, |w, &v| {
        let need = if i16::try_from(v).is_ok() {
            2
        } else if i32::try_from(v).is_ok() {
            4
        } else {
            8
        };
        w.max(need)
    })
}

/// Decodes and validates an intset: known width, exact size, strictly ascending members.
pub fn decode(blob: &[u8]) -> Result<Vec<i64>, String> {
    decode_with_width(blob).map(|(_, v)| v)
}

/// [`decode`], also returning the element width.
pub fn decode_with_width(blob: &[u8]) -> Result<(u8, Vec<i64>), String> {
    if blob.len() < 8 {
        return Err("intset shorter than its header".into());
    }
    let width = u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
    let count = u32::from_le_bytes([blob[4], blob[5], blob[6], blob[7]]) as usize;
    if !matches!(width, 2 | 4 | 8) {
        return Err(format!("intset with invalid encoding {width}"));
    }
    if (blob.len() - 8) / width != count || !(blob.len() - 8).is_multiple_of(width) {
        return Err(format!(
            "intset of {count} x {width} bytes has {} bytes of data",
            blob.len() - 8
        ));
    }
    let mut out: Vec<i64> = Vec::with_capacity(count);
    for chunk in blob[8..].chunks_exact(width) {
        let v = match width {
            2 => i16::from_le_bytes([chunk[0], chunk[1]]) as i64,
            4 => i32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]) as i64,
            _ => {
                let mut a = [0u8; 8];
                a.copy_from_slice(chunk);
                i64::from_le_bytes(a)
            }
        };
        if out.last().is_some_and(|&p| p >= v) {
            return Err("intset members not strictly ascending".into());
        }
        out.push(v);
    }
    Ok((width as u8, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_vector() {
        let blob = encode(&[-3, 5, 70000], width_for(&[-3, 5, 70000]));
        assert_eq!(
            blob,
            [4, 0, 0, 0, 3, 0, 0, 0, 0xfd, 0xff, 0xff, 0xff, 5, 0, 0, 0, 0x70, 0x11, 1, 0]
        );
        assert_eq!(decode(&blob).unwrap(), vec![-3, 5, 70000]);
        assert_eq!(width_for(&[1, -7, 70000, 5_000_000_000]), 8);
        assert!(decode(&blob[..19]).is_err());
        let mut unsorted = blob.clone();
        unsorted[15] = 0x7f;
        assert!(decode(&unsorted).is_err());
    }
}
