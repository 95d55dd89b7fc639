//! Writing RDB version 10 exactly as Redis 7.0.15 encodes the same data (rdb.md §1–4):
//! strings with integer and LZF encodings, lists as quicklist-2 of listpack nodes, compact
//! hashes and sorted sets as listpacks, integer sets as intsets, big collections in the plain
//! forms (ZSET_2 with binary scores).
//!
//! The [`Writer`] streams into any `io::Write` (a file, a socket buffer, a channel adapter) and
//! computes the CRC64 as bytes go by, so nothing is buffered beyond one value's encoding.

use super::listpack::Builder;
use super::{intset, lzf, opcode, rtype, CONTAINER_PACKED, CONTAINER_PLAIN, RDB_VERSION};
use crate::num::{format_g17, parse_i64};
use crate::store::{Hash, List, Set, Value, ZSet};
use std::io::{self, Write};

/// Writer settings (`rdbcompression`, `rdbchecksum`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// LZF-compress strings longer than 20 bytes when that saves at least 4 bytes.
    pub compression: bool,
    /// Write the CRC64 trailer (else 8 zero bytes, "checksum disabled").
    pub checksum: bool,
}

impl Default for Options {
    /// Redis's defaults: both on.
    fn default() -> Self {
        Options {
            compression: true,
            checksum: true,
        }
    }
}

/// Replication state written as `repl-stream-db`, `repl-id`, `repl-offset`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplAux {
    /// Database the replication stream had selected.
    pub stream_db: i64,
    /// The 40-hex-character replication id.
    pub id: String,
    /// The replication offset the snapshot corresponds to.
    pub offset: i64,
}

/// The AUX fields Redis 7.0.15 writes after the magic, in its order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Aux {
    /// `ctime`: Unix seconds of the save.
    pub ctime: i64,
    /// `used-mem`: bytes in use.
    pub used_mem: u64,
    /// The `repl-*` fields, written only when there is replication state (a replica, or a
    /// master with a backlog), as Redis does.
    pub repl: Option<ReplAux>,
    /// `aof-base`: true when the file is the base of a multi-part AOF.
    pub aof_base: bool,
}

impl Default for Aux {
    /// `ctime` now, everything else empty.
    fn default() -> Self {
        Aux {
            ctime: crate::store::now_ms() / 1000,
            used_mem: 0,
            repl: None,
            aof_base: false,
        }
    }
}

/// Redis's `packed_threshold`: list elements this big get a PLAIN quicklist node of their own.
const PACKED_THRESHOLD: usize = 1 << 30;
/// `list-max-listpack-size` size classes (fill -1 .. -5).
const OPTIMIZATION_LEVEL: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// Node size cap when the fill is a count.
const SIZE_SAFETY_LIMIT: usize = 8192;
/// Redis's per-entry overestimate when deciding whether an element fits a node.
const SIZE_ESTIMATE_OVERHEAD: usize = 8;
/// Redis's default `list-max-listpack-size`.
pub const DEFAULT_LIST_FILL: i64 = -2;

/// A sink that keeps the running CRC64 and the byte count.
struct CrcSink<W: Write> {
    inner: W,
    crc: u64,
    written: u64,
}

impl<W: Write> Write for CrcSink<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc = super::crc64(self.crc, &buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Streams an RDB file: `header`, then per database `select_db` and its `entry`s, then `finish`.
pub struct Writer<W: Write> {
    sink: CrcSink<W>,
    opts: Options,
    list_fill: i64,
    started: bool,
    buf: Vec<u8>,
}

impl<W: Write> Writer<W> {
    /// A writer into `sink`; nothing is written until the first call.
    pub fn new(sink: W, opts: Options) -> Self {
        Writer {
            sink: CrcSink {
                inner: sink,
                crc: 0,
                written: 0,
            },
            opts,
            list_fill: DEFAULT_LIST_FILL,
            started: false,
            buf: Vec::new(),
        }
    }

    /// Uses this `list-max-listpack-size` to split lists into quicklist nodes (default -2, 8 KB).
    pub fn with_list_fill(mut self, fill: i64) -> Self {
        self.list_fill = fill;
        self
    }

    /// Bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.sink.written
    }

    fn start(&mut self) -> io::Result<()> {
        if !self.started {
            self.started = true;
            self.sink
                .write_all(format!("REDIS{RDB_VERSION:04}").as_bytes())?;
        }
        Ok(())
    }

    /// Writes the magic `REDIS0010` and the AUX fields Redis writes: `redis-ver`, `redis-bits`,
    /// `ctime`, `used-mem`, the `repl-*` fields when given, `aof-base`.
    pub fn header(&mut self, aux: &Aux) -> io::Result<()> {
        self.start()?;
        self.aux(b"redis-ver", super::REDIS_VER.as_bytes())?;
        self.aux(b"redis-bits", b"64")?;
        self.aux(b"ctime", aux.ctime.to_string().as_bytes())?;
        self.aux(b"used-mem", aux.used_mem.to_string().as_bytes())?;
        if let Some(r) = &aux.repl {
            self.aux(b"repl-stream-db", r.stream_db.to_string().as_bytes())?;
            self.aux(b"repl-id", r.id.as_bytes())?;
            self.aux(b"repl-offset", r.offset.to_string().as_bytes())?;
        }
        self.aux(b"aof-base", if aux.aof_base { b"1" } else { b"0" })
    }

    /// Writes one AUX record.
    pub fn aux(&mut self, key: &[u8], value: &[u8]) -> io::Result<()> {
        self.start()?;
        self.buf.clear();
        self.buf.push(opcode::AUX);
        put_string(&mut self.buf, key, self.opts.compression);
        put_string(&mut self.buf, value, self.opts.compression);
        self.sink.write_all(&self.buf)
    }

    /// Writes a FUNCTION2 record: one library's full source (`#!lua name=...`).
    pub fn function(&mut self, code: &[u8]) -> io::Result<()> {
        self.start()?;
        self.buf.clear();
        self.buf.push(opcode::FUNCTION2);
        put_string(&mut self.buf, code, self.opts.compression);
        self.sink.write_all(&self.buf)
    }

    /// Starts a database: SELECTDB `db`, then RESIZEDB with its key and TTL counts.
    pub fn select_db(&mut self, db: usize, keys_len: usize, expires_len: usize) -> io::Result<()> {
        self.start()?;
        self.buf.clear();
        self.buf.push(opcode::SELECTDB);
        put_len(&mut self.buf, db as u64);
        self.buf.push(opcode::RESIZEDB);
        put_len(&mut self.buf, keys_len as u64);
        put_len(&mut self.buf, expires_len as u64);
        self.sink.write_all(&self.buf)
    }

    /// Writes one key: EXPIRETIME_MS when it has a TTL, then the type, the key and the value.
    pub fn entry(&mut self, key: &[u8], value: &Value, expire_ms: Option<i64>) -> io::Result<()> {
        let list_fill = self.list_fill;
        self.put_entry(key, expire_ms, object_type(value), |buf, compression| {
            put_object(buf, value, compression, list_fill)
        })
    }

    /// A string entry given as bytes (snapshot chunks keep string values that way): the same
    /// record [`Writer::entry`] writes for a string value.
    pub fn string_entry(
        &mut self,
        key: &[u8],
        value: &[u8],
        expire_ms: Option<i64>,
    ) -> io::Result<()> {
        self.put_entry(key, expire_ms, rtype::STRING, |buf, compression| {
            put_string(buf, value, compression)
        })
    }

    fn put_entry(
        &mut self,
        key: &[u8],
        expire_ms: Option<i64>,
        value_type: u8,
        put_value: impl FnOnce(&mut Vec<u8>, bool),
    ) -> io::Result<()> {
        self.start()?;
        self.buf.clear();
        if let Some(at) = expire_ms {
            self.buf.push(opcode::EXPIRETIME_MS);
            self.buf.extend_from_slice(&at.to_le_bytes());
        }
        self.buf.push(value_type);
        put_string(&mut self.buf, key, self.opts.compression);
        put_value(&mut self.buf, self.opts.compression);
        let r = self.sink.write_all(&self.buf);
        if self.buf.capacity() > 1 << 20 {
            self.buf = Vec::new();
        }
        r
    }

    /// Writes EOF and the CRC64 trailer (8 zero bytes without checksums), flushes, and hands the
    /// sink back.
    pub fn finish(mut self) -> io::Result<W> {
        self.start()?;
        self.sink.write_all(&[opcode::EOF])?;
        let crc = if self.opts.checksum { self.sink.crc } else { 0 };
        self.sink.write_all(&crc.to_le_bytes())?;
        self.sink.flush()?;
        Ok(self.sink.inner)
    }
}

/// The RDB type byte Redis 7.0 uses for this value's current encoding.
pub fn object_type(value: &Value) -> u8 {
    match value {
        Value::Str(_) | Value::Int(_) => rtype::STRING,
        Value::List(_) => rtype::LIST_QUICKLIST_2,
        Value::Hash(h) if h.is_compact() => rtype::HASH_LISTPACK,
        Value::Hash(_) => rtype::HASH,
        Value::Set(s) if s.is_intset() => rtype::SET_INTSET,
        Value::Set(_) => rtype::SET,
        Value::ZSet(z) if z.encoding(&Default::default()) == "listpack" => rtype::ZSET_LISTPACK,
        Value::ZSet(_) => rtype::ZSET_2,
    }
}

/// Appends a length in the smallest form (§2.1).
pub fn put_len(out: &mut Vec<u8>, n: u64) {
    if n < 64 {
        out.push(n as u8);
    } else if n < 16384 {
        out.push(0x40 | (n >> 8) as u8);
        out.push(n as u8);
    } else if n <= u32::MAX as u64 {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// Appends `v` as an integer string encoding if it fits 32 bits (Redis's `rdbEncodeInteger`).
fn put_encoded_int(out: &mut Vec<u8>, v: i64) -> bool {
    if let Ok(b) = i8::try_from(v) {
        out.extend_from_slice(&[0xc0, b as u8]);
    } else if let Ok(h) = i16::try_from(v) {
        out.push(0xc1);
        out.extend_from_slice(&h.to_le_bytes());
    } else if let Ok(w) = i32::try_from(v) {
        out.push(0xc2);
        out.extend_from_slice(&w.to_le_bytes());
    } else {
        return false;
    }
    true
}

/// Appends a string as `rdbSaveRawString` does: integer encoding for short canonical decimals
/// within 32 bits, LZF for strings over 20 bytes when it saves 4 bytes or more, else raw.
pub fn put_string(out: &mut Vec<u8>, s: &[u8], compression: bool) {
    if s.len() <= 11 {
        if let Some(v) = parse_i64(s) {
            if put_encoded_int(out, v) {
                return;
            }
        }
    }
    if compression && s.len() > 20 {
        if let Some(c) = lzf::compress(s, s.len() - 4) {
            out.push(0xc3);
            put_len(out, c.len() as u64);
            put_len(out, s.len() as u64);
            out.extend_from_slice(&c);
            return;
        }
    }
    put_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// Appends an integer string value as `rdbSaveLongLongAsStringObject` does.
fn put_int_string(out: &mut Vec<u8>, v: i64) {
    if !put_encoded_int(out, v) {
        let text = v.to_string();
        put_len(out, text.len() as u64);
        out.extend_from_slice(text.as_bytes());
    }
}

/// Appends the value part of a record (no type byte, no key).
pub fn put_object(out: &mut Vec<u8>, value: &Value, compression: bool, list_fill: i64) {
    match value {
        Value::Int(v) => put_int_string(out, *v),
        Value::Str(s) => put_string(out, s, compression),
        Value::List(l) => put_list(out, l, compression, list_fill),
        Value::Hash(h) => put_hash(out, h, compression),
        Value::Set(s) => put_set(out, s, compression),
        Value::ZSet(z) => put_zset(out, z, compression),
    }
}

/// Whether a node of `sz` bytes and `count` items takes one more element of `elem` bytes
/// (Redis 7.0's `_quicklistNodeAllowInsert`).
fn node_allows(sz: usize, count: usize, elem: usize, fill: i64) -> bool {
    let new_sz = sz + elem + SIZE_ESTIMATE_OVERHEAD;
    if fill < 0 {
        let level = ((-fill - 1) as usize).min(OPTIMIZATION_LEVEL.len() - 1);
        new_sz <= OPTIMIZATION_LEVEL[level]
    } else {
        new_sz <= SIZE_SAFETY_LIMIT && (count as i64) < fill
    }
}

fn put_list(out: &mut Vec<u8>, list: &List, compression: bool, fill: i64) {
    // Nodes as a list built by RPUSH would have them.
    enum Node<'a> {
        Packed(Vec<u8>),
        Plain(&'a [u8]),
    }
    let mut nodes: Vec<Node> = Vec::new();
    let mut cur: Option<Builder> = None;
    for item in list.iter() {
        if item.len() >= PACKED_THRESHOLD {
            if let Some(b) = cur.take() {
                nodes.push(Node::Packed(b.finish()));
            }
            nodes.push(Node::Plain(item));
            continue;
        }
        let fits = cur
            .as_ref()
            .is_some_and(|b| node_allows(b.bytes(), b.len(), item.len(), fill));
        if !fits {
            if let Some(b) = cur.take() {
                nodes.push(Node::Packed(b.finish()));
            }
            cur = Some(Builder::new());
        }
        if let Some(b) = cur.as_mut() {
            b.push_bytes(item);
        }
    }
    if let Some(b) = cur.take() {
        nodes.push(Node::Packed(b.finish()));
    }
    put_len(out, nodes.len() as u64);
    for node in &nodes {
        match node {
            Node::Packed(lp) => {
                put_len(out, CONTAINER_PACKED);
                put_string(out, lp, compression);
            }
            Node::Plain(item) => {
                put_len(out, CONTAINER_PLAIN);
                put_string(out, item, compression);
            }
        }
    }
}

fn put_hash(out: &mut Vec<u8>, hash: &Hash, compression: bool) {
    if hash.is_compact() {
        let mut b = Builder::new();
        for (f, v) in hash.iter() {
            b.push_bytes(f);
            b.push_bytes(v);
        }
        put_string(out, &b.finish(), compression);
    } else {
        put_len(out, hash.len() as u64);
        for (f, v) in hash.iter() {
            put_string(out, f, compression);
            put_string(out, v, compression);
        }
    }
}

fn put_set(out: &mut Vec<u8>, set: &Set, compression: bool) {
    if let Some((width, members)) = set.intset_parts() {
        let values: Vec<i64> = members.collect();
        let width = width.max(intset::width_for(&values));
        put_string(out, &intset::encode(&values, width), compression);
        return;
    }
    put_len(out, set.len() as u64);
    for m in set.iter() {
        put_string(out, &m, compression);
    }
}

/// A score as Redis 7.0 stores it in a zset listpack: an integer entry when integral within
/// ±2^62, else the `%.17g` text (`inf`/`-inf` for infinities).
fn push_score(b: &mut Builder, score: f64) {
    let limit = (i64::MAX / 2) as f64;
    if score.is_finite() && score >= -limit && score <= limit && score == (score as i64) as f64 {
        b.push_int(score as i64);
    } else {
        b.push_bytes(format_g17(score).as_bytes());
    }
}

fn put_zset(out: &mut Vec<u8>, zset: &ZSet, compression: bool) {
    if zset.encoding(&Default::default()) == "listpack" {
        let mut b = Builder::new();
        for (m, s) in zset.iter() {
            b.push_bytes(m);
            push_score(&mut b, s);
        }
        put_string(out, &b.finish(), compression);
        return;
    }
    // ZSET_2, from the highest score to the lowest as Redis writes it.
    put_len(out, zset.len() as u64);
    if zset.is_empty() {
        return;
    }
    for (m, s) in zset.range_iter(zset.len() - 1, true) {
        put_string(out, m, compression);
        out.extend_from_slice(&s.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string_bytes(s: &[u8], compression: bool) -> Vec<u8> {
        let mut out = Vec::new();
        put_string(&mut out, s, compression);
        out
    }

    #[test]
    fn length_and_string_vectors() {
        for (n, expect) in [
            (63u64, vec![0x3f]),
            (64, vec![0x40, 0x40]),
            (16383, vec![0x7f, 0xff]),
            (16384, vec![0x80, 0, 0, 0x40, 0]),
            (1 << 32, vec![0x81, 0, 0, 0, 1, 0, 0, 0, 0]),
        ] {
            let mut out = Vec::new();
            put_len(&mut out, n);
            assert_eq!(out, expect, "len {n}");
        }
        assert_eq!(string_bytes(b"12345", true), [0xc1, 0x39, 0x30]);
        assert_eq!(string_bytes(b"-2147483648", true), [0xc2, 0, 0, 0, 0x80]);
        assert_eq!(string_bytes(b"007", true), [3, b'0', b'0', b'7']);
        assert_eq!(string_bytes(b"-5", true), [0xc0, 0xfb]);
        assert_eq!(
            string_bytes(&[b'a'; 100], true),
            [0xc3, 0x09, 0x40, 0x64, 0x01, 0x61, 0x61, 0xe0, 0x57, 0x00, 0x01, 0x61, 0x61]
        );
        assert_eq!(string_bytes(&[b'a'; 100], false).len(), 102);
    }

    #[test]
    fn empty_file_matches_redis() {
        let w = Writer::new(Vec::new(), Options::default());
        let out = w.finish().unwrap();
        assert_eq!(
            out,
            [
                0x52, 0x45, 0x44, 0x49, 0x53, 0x30, 0x30, 0x31, 0x30, 0xff, 0xa9, 0xfd, 0x37, 0xfe,
                0x89, 0xa7, 0x7e, 0xeb
            ]
        );
        assert_eq!(crc64(0, b"123456789"), 0xE9C6D914C4B8D9CA);
    }

    use super::super::crc64;

    #[test]
    fn spec_sample_file() {
        // rdb.md §5.3: one string with expiry + one set, 49 bytes.
        let mut w = Writer::new(Vec::new(), Options::default());
        w.select_db(0, 2, 1).unwrap();
        w.entry(b"foo", &Value::string(b"bar"), Some(1893456000000))
            .unwrap();
        let mut set = Set::new();
        set.insert(b"x", 512);
        set.insert(b"y", 512);
        // The set converts to a hashtable; its table order may differ from {x, y}.
        let mut buf = Vec::new();
        put_object(&mut buf, &Value::Set(Box::new(set)), true, -2);
        assert_eq!(buf.len(), 5);
        let out = w.finish().unwrap();
        assert_eq!(&out[9..14], &[0xfe, 0, 0xfb, 2, 1]);
        assert_eq!(
            &out[14..32],
            &[
                0xfc, 0x00, 0xb4, 0xc5, 0xda, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x03, b'f', b'o', b'o',
                0x03, b'b', b'a', b'r'
            ]
        );
    }
}
