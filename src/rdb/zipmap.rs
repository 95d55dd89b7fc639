//! Zipmaps (rdb.md §4.4): the hash blob of Redis ≤ 2.4 (type 9). Read-only.

/// A field and its value, borrowed from the blob.
pub type Pair<'a> = (&'a [u8], &'a [u8]);

/// Decodes a zipmap into (field, value) pairs, validating every length against the blob.
pub fn decode(blob: &[u8]) -> Result<Vec<Pair<'_>>, String> {
    let bad = |what: &str| Err(format!("zipmap {what}"));
    if blob.len() < 2 {
        return bad("shorter than its header");
    }
    let mut pos = 1usize;
    let mut pairs = Vec::new();
    let read_len = |pos: &mut usize| -> Result<usize, String> {
        let Some(&b) = blob.get(*pos) else {
            return Err("zipmap length past the end".into());
        };
        if b < 254 {
            *pos += 1;
            Ok(b as usize)
        } else if b == 254 {
            let Some(s) = blob.get(*pos + 1..*pos + 5) else {
                return Err("zipmap length past the end".into());
            };
            *pos += 5;
            Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
        } else {
            Err("zipmap unexpected end marker".into())
        }
    };
    loop {
        match blob.get(pos) {
            None => return bad("without its end marker"),
            Some(0xff) => {
                if pos + 1 != blob.len() {
                    return bad("has bytes after its end marker");
                }
                break;
            }
            Some(_) => {}
        }
        let klen = read_len(&mut pos)?;
        let Some(key) = blob.get(pos..pos.saturating_add(klen)) else {
            return bad("key past the end");
        };
        pos += klen;
        let vlen = read_len(&mut pos)?;
        let Some(&free) = blob.get(pos) else {
            return bad("free byte past the end");
        };
        pos += 1;
        let Some(value) = blob.get(pos..pos.saturating_add(vlen)) else {
            return bad("value past the end");
        };
        pos += vlen + free as usize;
        pairs.push((key, value));
    }
    if blob[0] < 254 && blob[0] as usize != pairs.len() {
        return bad("pair count mismatch");
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_vector() {
        let blob = [
            2, 3, b'f', b'o', b'o', 3, 0, b'b', b'a', b'r', 5, b'h', b'e', b'l', b'l', b'o', 5, 0,
            b'w', b'o', b'r', b'l', b'd', 0xff,
        ];
        let pairs = decode(&blob).unwrap();
        assert_eq!(
            pairs,
            vec![(&b"foo"[..], &b"bar"[..]), (&b"hello"[..], &b"world"[..])]
        );
        assert!(decode(&blob[..blob.len() - 1]).is_err());
    }
}
