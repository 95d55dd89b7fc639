//! LZF, the compressor Redis applies to RDB strings (`C3` strings, rdb.md §4.5).
//!
//! [`compress`] is a port of liblzf 3.6's `lzf_compress` with Redis's settings (`HLOG` 16,
//! `VERY_FAST`, offsets in the hash table) and its exact output-bound checks, so a string is
//! compressed to the same bytes, and refused in the same cases, as 7.0.15 does. The only
//! difference: liblzf leaves its hash table uninitialised (`INIT_HTAB 0`), which can very rarely
//! let it find a match through stale stack contents; ours starts zeroed, which is what liblzf
//! does with `INIT_HTAB 1`.
//!
//! [`decompress`] is strict: every back-reference must point into the output already produced
//! and the result must be exactly `ulen` bytes. It never allocates more than the data justifies.

const HLOG: u32 = 16;
const HSIZE: usize = 1 << HLOG;
const MAX_LIT: usize = 1 << 5;
const MAX_OFF: usize = 1 << 13;
const MAX_REF: usize = (1 << 8) + (1 << 3);

#[inline]
fn idx(h: u32) -> usize {
    ((h >> (3 * 8 - HLOG)).wrapping_sub(h.wrapping_mul(5)) as usize) & (HSIZE - 1)
}

#[inline]
fn frst(data: &[u8], p: usize) -> u32 {
    ((data[p] as u32) << 8) | data[p + 1] as u32
}

#[inline]
fn next(v: u32, data: &[u8], p: usize) -> u32 {
    (v << 8) | data[p + 2] as u32
}

/// Compresses `input` into at most `out_len` bytes; `None` when it does not fit (or the input is
/// empty), exactly when `lzf_compress` returns 0.
pub fn compress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let in_len = input.len();
    // liblzf takes `unsigned int` lengths.
    if in_len == 0 || out_len == 0 || in_len > u32::MAX as usize {
        return None;
    }
    HTAB.with(|t| {
        let mut t = t.borrow_mut();
        t.generation = t.generation.wrapping_add(1);
        if t.generation == 0 || t.slots.is_empty() {
            t.slots = vec![0u64; HSIZE];
            t.generation = 1;
        }
        let table = &mut *t;
        compress_with(input, out_len, &mut Htab(table))
    })
}

/// The hash table, kept per thread: an entry is `generation << 32 | position` and only counts
/// for the call of its generation, so no call pays for clearing 512 KB.
struct Table {
    generation: u32,
    slots: Vec<u64>,
}

thread_local! {
    static HTAB: std::cell::RefCell<Table> = const {
        std::cell::RefCell::new(Table { generation: 0, slots: Vec::new() })
    };
}

/// One call's view of the table: the last position of each hash (0 = none: liblzf stores
/// `ip - in_data` and then refuses `ref == in_data`, so position 0 is never referenced anyway).
struct Htab<'a>(&'a mut Table);

impl Htab<'_> {
    #[inline]
    fn get(&self, slot: usize) -> usize {
        let e = self.0.slots[slot];
        if (e >> 32) as u32 == self.0.generation {
            (e & 0xffff_ffff) as usize
        } else {
            0
        }
    }

    #[inline]
    fn set(&mut self, slot: usize, pos: usize) {
        self.0.slots[slot] = ((self.0.generation as u64) << 32) | pos as u64;
    }
}

fn compress_with(input: &[u8], out_len: usize, htab: &mut Htab) -> Option<Vec<u8>> {
    let in_len = input.len();
    let mut out = vec![0u8; out_len];
    let mut ip = 0usize;
    let mut op = 0usize;
    let mut lit: usize = 0;
    op += 1; // start run

    if in_len < 2 {
        // liblzf reads two bytes for the first hash; with one byte the main loop is skipped.
        return finish_literals(input, ip, &mut out, op, lit, out_len);
    }
    let mut hval = frst(input, ip);
    while ip + 2 < in_len {
        hval = next(hval, input, ip);
        let slot = idx(hval);
        let r = htab.get(slot);
        htab.set(slot, ip);
        let matched = r > 0 && {
            let off = ip - r - 1;
            off < MAX_OFF && input[r + 2] == input[ip + 2] && input[r..r + 2] == input[ip..ip + 2]
        };
        if matched {
            let off = ip - r - 1;
            let mut len = 2usize;
            let mut maxlen = in_len - ip - len;
            if maxlen > MAX_REF {
                maxlen = MAX_REF;
            }
            if op + 3 + 1 >= out_len && op - usize::from(lit == 0) + 3 + 1 >= out_len {
                return None;
            }
            out[op - lit - 1] = (lit as u8).wrapping_sub(1); // stop run
            op -= usize::from(lit == 0); // undo run if length is zero
            let mut done = false;
            if maxlen > 16 {
                for _ in 0..16 {
                    len += 1;
                    if input[r + len] != input[ip + len] {
                        done = true;
                        break;
                    }
                }
            }
            if !done {
                loop {
                    len += 1;
                    if !(len < maxlen && input[r + len] == input[ip + len]) {
                        break;
                    }
                }
            }
            len -= 2; // len is now #octets - 1
            ip += 1;
            if len < 7 {
                out[op] = ((off >> 8) + (len << 5)) as u8;
                op += 1;
            } else {
                out[op] = ((off >> 8) + (7 << 5)) as u8;
                out[op + 1] = (len - 7) as u8;
                op += 2;
            }
            out[op] = off as u8;
            op += 1;
            lit = 0;
            op += 1; // start run
            ip += len + 1;
            if ip + 2 >= in_len {
                break;
            }
            // VERY_FAST: hash the two positions before the new one.
            ip -= 2;
            hval = frst(input, ip);
            hval = next(hval, input, ip);
            htab.set(idx(hval), ip);
            ip += 1;
            hval = next(hval, input, ip);
            htab.set(idx(hval), ip);
            ip += 1;
        } else {
            if op >= out_len {
                return None;
            }
            lit += 1;
            out[op] = input[ip];
            op += 1;
            ip += 1;
            if lit == MAX_LIT {
                out[op - lit - 1] = (lit - 1) as u8;
                lit = 0;
                op += 1;
            }
        }
    }
    finish_literals(input, ip, &mut out, op, lit, out_len)
}

fn finish_literals(
    input: &[u8],
    mut ip: usize,
    out: &mut Vec<u8>,
    mut op: usize,
    mut lit: usize,
    out_len: usize,
) -> Option<Vec<u8>> {
    if op + 3 > out_len {
        return None;
    }
    while ip < input.len() {
        lit += 1;
        out[op] = input[ip];
        op += 1;
        ip += 1;
        if lit == MAX_LIT {
            out[op - lit - 1] = (lit - 1) as u8;
            lit = 0;
            op += 1;
        }
    }
    out[op - lit - 1] = (lit as u8).wrapping_sub(1); // end run
    op -= usize::from(lit == 0);
    out.truncate(op);
    Some(std::mem::take(out))
}

/// Decompresses `input`, which must produce exactly `ulen` bytes.
pub fn decompress(input: &[u8], ulen: usize) -> Result<Vec<u8>, &'static str> {
    // A 3-byte back-reference yields at most 264 bytes: anything claiming more is corrupt, and
    // the output only grows as data really decompresses.
    if ulen / 88 > input.len() + 1 {
        return Err("LZF uncompressed length is impossible for its compressed length");
    }
    // Bounded by the check above (at most 88 output bytes per input byte).
    let mut out: Vec<u8> = Vec::with_capacity(ulen);
    let mut ip = 0usize;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < 32 {
            let n = ctrl + 1;
            if ip + n > input.len() {
                return Err("LZF literal run past the end of the input");
            }
            if out.len() + n > ulen {
                return Err("LZF output longer than declared");
            }
            out.extend_from_slice(&input[ip..ip + n]);
            ip += n;
        } else {
            let mut n = ctrl >> 5;
            if n == 7 {
                let Some(&b) = input.get(ip) else {
                    return Err("LZF back-reference truncated");
                };
                n += b as usize;
                ip += 1;
            }
            let Some(&b) = input.get(ip) else {
                return Err("LZF back-reference truncated");
            };
            ip += 1;
            let dist = ((ctrl & 0x1f) << 8) + b as usize + 1;
            n += 2;
            if dist > out.len() {
                return Err("LZF back-reference before the start of the output");
            }
            if out.len() + n > ulen {
                return Err("LZF output longer than declared");
            }
            // The copy may overlap what it produces (dist < n): the run from `start` repeats
            // with period `dist`, so copying from `start` whatever exists so far is exact, and
            // each step doubles the chunk.
            let start = out.len() - dist;
            let mut left = n;
            while left > 0 {
                let chunk = left.min(out.len() - start);
                out.extend_from_within(start..start + chunk);
                left -= chunk;
            }
        }
    }
    if out.len() != ulen {
        return Err("LZF output shorter than declared");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_vector_decompresses() {
        let data = [0x01, 0x61, 0x61, 0xe0, 0x57, 0x00, 0x01, 0x61, 0x61];
        assert_eq!(decompress(&data, 100).unwrap(), vec![b'a'; 100]);
        assert!(decompress(&data, 99).is_err());
        assert!(decompress(&data, 101).is_err());
    }

    #[test]
    fn compress_matches_redis_for_runs() {
        // 7.0.15 writes "a" x 100 as `01 61 61 e0 57 00 01 61 61` (rdb.md §2.2).
        let c = compress(&[b'a'; 100], 96).unwrap();
        assert_eq!(c, [0x01, 0x61, 0x61, 0xe0, 0x57, 0x00, 0x01, 0x61, 0x61]);
        let c = compress(&[b'x'; 63], 59).unwrap();
        assert_eq!(c, [0x01, 0x78, 0x78, 0xe0, 0x32, 0x00, 0x01, 0x78, 0x78]);
    }

    #[test]
    fn round_trips_and_refuses_incompressible() {
        let mut seed = 12345u64;
        for len in [1usize, 2, 3, 4, 20, 21, 100, 1000, 70_000] {
            let data: Vec<u8> = (0..len)
                .map(|i| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                    if i % 7 < 4 {
                        b"abcd"[i % 4]
                    } else {
                        (seed >> 56) as u8
                    }
                })
                .collect();
            if let Some(c) = compress(&data, len + 64) {
                assert_eq!(decompress(&c, len).unwrap(), data);
            }
        }
        assert!(compress(b"abcdefghijklmnopqrstuvwxyz", 22).is_none());
    }

    #[test]
    fn overlapping_back_references_repeat_their_period() {
        // Back-references shorter than their length (dist < n) copy what they produce.
        for period in 1..=12usize {
            for len in [period + 3, 50, 264, 1000, 9000] {
                let data: Vec<u8> = (0..len).map(|i| b'a' + (i % period) as u8).collect();
                let c = compress(&data, len + 64).unwrap();
                assert_eq!(
                    decompress(&c, len).unwrap(),
                    data,
                    "period {period} len {len}"
                );
            }
        }
        // A hand-built stream: literal "abc", then one reference of 8 bytes at distance 3.
        let data = [0x02, b'a', b'b', b'c', 0xc0, 0x02];
        assert_eq!(decompress(&data, 11).unwrap(), b"abcabcabcab");
    }
}
