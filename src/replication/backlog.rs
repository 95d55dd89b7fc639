//! The replication backlog: a fixed-capacity ring holding the most recent bytes of the
//! replication stream, so a replica that reconnects can resume with `+CONTINUE`.

/// A byte ring addressed by replication offsets (stream bytes are numbered from 1).
#[derive(Debug, Clone)]
pub struct Backlog {
    buf: Vec<u8>,
    /// Index in `buf` where the next byte goes.
    head: usize,
    /// Bytes held (at most the capacity).
    histlen: usize,
    /// Offset of the last byte appended (`master_repl_offset`).
    end_offset: i64,
}

impl Backlog {
    /// An empty ring of `capacity` bytes whose next byte will be `offset + 1`.
    pub fn new(capacity: usize, offset: i64) -> Self {
        Backlog {
            buf: vec![0; capacity.max(16 * 1024)],
            head: 0,
            histlen: 0,
            end_offset: offset,
        }
    }

    /// Capacity in bytes (`repl-backlog-size`, at least 16 KiB as in Redis).
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Bytes held (INFO `repl_backlog_histlen`).
    pub fn histlen(&self) -> usize {
        self.histlen
    }

    /// Offset of the first byte held (INFO `repl_backlog_first_byte_offset`).
    pub fn first_offset(&self) -> i64 {
        self.end_offset - self.histlen as i64 + 1
    }

    /// Appends stream bytes, overwriting the oldest when full.
    pub fn append(&mut self, mut data: &[u8]) {
        self.end_offset += data.len() as i64;
        let cap = self.buf.len();
        if data.len() >= cap {
            data = &data[data.len() - cap..];
            self.buf.copy_from_slice(data);
            self.head = 0;
            self.histlen = cap;
            return;
        }
        let first = (cap - self.head).min(data.len());
        self.buf[self.head..self.head + first].copy_from_slice(&data[..first]);
        let rest = data.len() - first;
        self.buf[..rest].copy_from_slice(&data[first..]);
        self.head = (self.head + data.len()) % cap;
        self.histlen = (self.histlen + data.len()).min(cap);
    }

    /// The bytes from `offset` (inclusive) to the end, if `offset` is still held; `offset` may
    /// be one past the end (nothing to send).
    pub fn read_from(&self, offset: i64) -> Option<Vec<u8>> {
        if offset < self.first_offset() || offset > self.end_offset + 1 {
            return None;
        }
        let skip = (offset - self.first_offset()) as usize;
        let len = self.histlen - skip;
        let cap = self.buf.len();
        let start = (self.head + cap - self.histlen + skip) % cap;
        let mut out = Vec::with_capacity(len);
        let first = (cap - start).min(len);
        out.extend_from_slice(&self.buf[start..start + first]);
        out.extend_from_slice(&self.buf[..len - first]);
        Some(out)
    }

    /// Changes the capacity keeping the newest bytes that fit (CONFIG SET repl-backlog-size).
    pub fn resize(&mut self, capacity: usize) {
        let keep = self.read_from(self.first_offset()).unwrap_or_default();
        let end = self.end_offset;
        *self = Backlog::new(capacity, end - keep.len() as i64);
        self.append(&keep);
    }
}

#[cfg(test)]
mod tests {
    use super::Backlog;

    #[test]
    fn ring_keeps_the_newest_bytes_and_answers_by_offset() {
        let mut b = Backlog::new(16 * 1024, 100);
        assert_eq!(b.first_offset(), 101);
        assert_eq!(b.read_from(101), Some(vec![]));
        assert_eq!(b.read_from(102), None);
        let data: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
        b.append(&data[..10_000]);
        assert_eq!(b.read_from(101).unwrap(), &data[..10_000]);
        b.append(&data[10_000..]);
        assert_eq!(b.histlen(), 16 * 1024);
        let first = b.first_offset();
        assert_eq!(first, 100 + 40_000 - 16 * 1024 + 1);
        assert_eq!(b.read_from(first).unwrap(), &data[40_000 - 16 * 1024..]);
        assert_eq!(b.read_from(first - 1), None);
        assert_eq!(b.read_from(100 + 40_000 + 1), Some(vec![]));
        assert_eq!(b.read_from(100 + 40_000 - 5).unwrap(), &data[40_000 - 6..]);
        b.resize(20_000);
        assert_eq!(
            b.read_from(b.first_offset()).unwrap(),
            &data[40_000 - 16 * 1024..]
        );
        b.resize(16 * 1024);
        for _ in 0..10 {
            b.append(b"*1\r\n$4\r\nping\r\n");
        }
        assert_eq!(b.read_from(100 + 40_000 + 1).unwrap().len(), 140);
    }
}
