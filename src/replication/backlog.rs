//! The replication backlog: the most recent bytes of the replication stream, so a replica that
//! reconnects can resume with `+CONTINUE`.
//!
//! It holds the very buffers handed to the replicas (Redis 7.0's shared replication buffer):
//! appending a batch of the stream takes a reference to it, never a copy, so on a busy master
//! the stream is written to memory once however many replicas there are and the backlog adds
//! no copy and no cache traffic of its own. Only small batches (a lone write from an idle
//! client, say) are copied, into a tail block, so the backlog never holds more than one
//! reference per `SHARE_FROM` bytes. The oldest buffers are released (or trimmed at the front)
//! as soon as the newest `capacity` bytes no longer need them: it answers exactly as a byte
//! ring of `capacity` bytes would.

use bytes::{Buf, Bytes, BytesMut};
use std::collections::VecDeque;

/// Redis's floor for `repl-backlog-size`.
const MIN_CAPACITY: usize = 16 * 1024;

/// Batches at least this long are shared; shorter ones are copied into the tail, whose copy
/// costs less than a reference of its own would take (32 bytes, a deque slot each).
pub const SHARE_FROM: usize = 512;

/// Size of the tail's blocks: a small batch that does not fit in what is left of one seals
/// the tail (the rest of the block, under SHARE_FROM bytes, is all that is lost) and starts
/// the next.
const TAIL_BLOCK: usize = 16 * 1024;

/// The newest stream bytes, addressed by replication offsets (stream bytes are numbered from 1).
#[derive(Debug)]
pub struct Backlog {
    /// Stream buffers, oldest first; with `tail` after them, the last `histlen` bytes of the
    /// stream.
    chunks: VecDeque<Bytes>,
    /// Small batches copied since the last buffer in `chunks`.
    tail: BytesMut,
    capacity: usize,
    /// Bytes held (at most the capacity).
    histlen: usize,
    /// Offset of the last byte appended.
    end_offset: i64,
}

impl Backlog {
    /// An empty backlog of `capacity` bytes whose next byte will be `offset + 1`.
    pub fn new(capacity: usize, offset: i64) -> Self {
        Backlog {
            chunks: VecDeque::new(),
            tail: BytesMut::new(),
            capacity: capacity.max(MIN_CAPACITY),
            histlen: 0,
            end_offset: offset,
        }
    }

    /// Capacity in bytes (`repl-backlog-size`, at least 16 KiB as in Redis).
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes held (INFO `repl_backlog_histlen`).
    pub fn histlen(&self) -> usize {
        self.histlen
    }

    /// Offset of the first byte held (INFO `repl_backlog_first_byte_offset`).
    pub fn first_offset(&self) -> i64 {
        self.end_offset - self.histlen as i64 + 1
    }

    /// Appends a buffer of stream bytes (shared with the replicas' queues), dropping the oldest
    /// bytes beyond the capacity.
    pub fn append(&mut self, data: Bytes) {
        if data.len() < SHARE_FROM {
            return self.append_copy(&data);
        }
        self.end_offset += data.len() as i64;
        self.histlen += data.len();
        self.seal_tail();
        self.chunks.push_back(data);
        self.trim();
    }

    /// Appends stream bytes by copying them into the tail (a small batch).
    pub fn append_copy(&mut self, data: &[u8]) {
        self.end_offset += data.len() as i64;
        self.histlen += data.len();
        if self.tail.capacity() - self.tail.len() < data.len() {
            self.seal_tail();
            self.tail.reserve(TAIL_BLOCK.max(data.len()));
        }
        self.tail.extend_from_slice(data);
        self.trim();
    }

    /// Moves the tail's bytes into `chunks` (the tail's block is shared, not copied).
    fn seal_tail(&mut self) {
        if !self.tail.is_empty() {
            self.chunks.push_back(self.tail.split().freeze());
        }
    }

    /// The bytes from `offset` (inclusive) to the end, if `offset` is still held; `offset` may
    /// be one past the end (nothing to send).
    pub fn read_from(&self, offset: i64) -> Option<Vec<u8>> {
        if offset < self.first_offset() || offset > self.end_offset + 1 {
            return None;
        }
        let mut skip = (offset - self.first_offset()) as usize;
        let mut out = Vec::with_capacity(self.histlen - skip);
        for chunk in self.chunks.iter().map(|c| &c[..]).chain([&self.tail[..]]) {
            if skip >= chunk.len() {
                skip -= chunk.len();
                continue;
            }
            out.extend_from_slice(&chunk[skip..]);
            skip = 0;
        }
        Some(out)
    }

    /// Changes the capacity keeping the newest bytes that fit (CONFIG SET repl-backlog-size).
    pub fn resize(&mut self, capacity: usize) {
        self.capacity = capacity.max(MIN_CAPACITY);
        self.trim();
    }

    /// Releases whole buffers, then the front of the oldest, until `capacity` bytes are held.
    fn trim(&mut self) {
        while self.histlen > self.capacity {
            let excess = self.histlen - self.capacity;
            let Some(front) = self.chunks.front_mut() else {
                // Only the tail is left (not reached: it is never longer than the minimum
                // capacity).
                self.tail.advance(excess.min(self.tail.len()));
                self.histlen -= excess;
                break;
            };
            if front.len() <= excess {
                self.histlen -= front.len();
                self.chunks.pop_front();
            } else {
                front.advance(excess);
                self.histlen -= excess;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Backlog;
    use bytes::Bytes;

    /// Appends `data` in buffers of `piece` bytes, as batches of the stream arrive.
    fn append_in_pieces(b: &mut Backlog, data: &[u8], piece: usize) {
        for part in data.chunks(piece) {
            b.append(Bytes::copy_from_slice(part));
        }
    }

    #[test]
    fn keeps_the_newest_bytes_and_answers_by_offset() {
        for piece in [1, 7, 511, 512, 1000, 40_000] {
            let mut b = Backlog::new(16 * 1024, 100);
            assert_eq!(b.first_offset(), 101);
            assert_eq!(b.read_from(101), Some(vec![]));
            assert_eq!(b.read_from(102), None);
            let data: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
            append_in_pieces(&mut b, &data[..10_000], piece);
            assert_eq!(b.read_from(101).unwrap(), &data[..10_000]);
            append_in_pieces(&mut b, &data[10_000..], piece);
            assert_eq!(b.histlen(), 16 * 1024);
            let first = b.first_offset();
            assert_eq!(first, 100 + 40_000 - 16 * 1024 + 1);
            assert_eq!(b.read_from(first).unwrap(), &data[40_000 - 16 * 1024..]);
            assert_eq!(b.read_from(first - 1), None);
            assert_eq!(b.read_from(100 + 40_000 + 1), Some(vec![]));
            assert_eq!(b.read_from(100 + 40_000 + 2), None);
            assert_eq!(b.read_from(100 + 40_000 - 5).unwrap(), &data[40_000 - 6..]);
            assert_eq!(
                b.read_from(first + 5000).unwrap(),
                &data[40_000 - 16 * 1024 + 5000..]
            );
            // One reference per SHARE_FROM bytes at most, however small the batches.
            assert!(
                b.chunks.len() <= 16 * 1024 / super::SHARE_FROM + 2,
                "{piece}"
            );
        }
    }

    /// Random batch sizes, resizes and reads against a plain byte deque of the newest
    /// `capacity` bytes (what a ring holds).
    #[test]
    fn answers_as_a_ring_would_under_random_use() {
        use rand::{rngs::SmallRng, Rng, SeedableRng};
        let mut rng = SmallRng::seed_from_u64(7);
        let mut b = Backlog::new(16 * 1024, 1000);
        let (mut model, mut cap, mut end) = (std::collections::VecDeque::new(), 16 * 1024, 1000);
        for step in 0..20_000u32 {
            match rng.gen_range(0..100) {
                0 => {
                    cap = rng.gen_range(16 * 1024..64 * 1024);
                    b.resize(cap);
                }
                1..=79 => {
                    let len = if rng.gen_bool(0.9) {
                        rng.gen_range(0..600)
                    } else {
                        rng.gen_range(0..20_000)
                    };
                    let data: Vec<u8> = (0..len).map(|i| (step as usize + i) as u8).collect();
                    b.append(Bytes::from(data.clone()));
                    model.extend(data);
                    end += len as i64;
                }
                _ => {
                    let first = end - model.len().min(cap) as i64 + 1;
                    let at = rng.gen_range(first - 3..=end + 3);
                    let want = (at >= first && at <= end + 1).then(|| {
                        model
                            .iter()
                            .skip(model.len() - (end + 1 - at) as usize)
                            .copied()
                            .collect()
                    });
                    assert_eq!(b.read_from(at), want, "step {step}, offset {at}");
                }
            }
            while model.len() > cap {
                model.pop_front();
            }
            assert_eq!(b.histlen(), model.len());
            assert_eq!(b.first_offset(), end - model.len() as i64 + 1);
        }
    }

    #[test]
    fn resize_keeps_what_fits_and_never_goes_below_16k() {
        let mut b = Backlog::new(64 * 1024, 0);
        let data: Vec<u8> = (0..50_000u32).map(|i| (i % 253) as u8).collect();
        append_in_pieces(&mut b, &data, 3000);
        b.resize(20_000);
        assert_eq!(b.capacity(), 20_000);
        assert_eq!(b.read_from(b.first_offset()).unwrap(), &data[30_000..]);
        b.resize(1);
        assert_eq!(b.capacity(), 16 * 1024);
        assert_eq!(b.histlen(), 16 * 1024);
        b.resize(1 << 20);
        assert_eq!(b.histlen(), 16 * 1024, "growing keeps what is held");
        for _ in 0..10 {
            b.append(Bytes::from_static(b"*1\r\n$4\r\nping\r\n"));
        }
        assert_eq!(b.read_from(50_000 + 1).unwrap().len(), 140);
        assert_eq!(b.first_offset(), 50_000 - 16 * 1024 + 1);
    }
}
