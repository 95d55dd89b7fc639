//! Reading RDB files of versions 1 through 12 (rdb.md §1.2 record loop, §3–4 every type and
//! encoding) into store values.
//!
//! Nothing from the input is trusted: every length is checked against the input left (when it
//! is known, as for a slice) before anything is allocated, collection capacities are capped,
//! blobs are fully validated, and every failure is an [`Error`] naming the byte offset, the key
//! when known, and the reason. Streams, module values and hashes with field TTLs are types this
//! server cannot hold: they fail loudly, naming the type.

use super::{
    intset, listpack, lzf, opcode, rtype, ziplist, zipmap, Error, ErrorKind, CONTAINER_PACKED,
    CONTAINER_PLAIN, MAX_READ_VERSION,
};
use crate::store::{CompactBytes, EncodingLimits, Hash, List, Set, Value, ZSet};
use std::io::Read;

/// One key read from the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Database index (from the last SELECTDB; 0 before any).
    pub db: usize,
    pub key: Vec<u8>,
    pub value: Value,
    /// Absolute expiry in Unix milliseconds.
    pub expire_ms: Option<i64>,
    /// LRU idle time in seconds (IDLE opcode), when the saver had an LRU policy.
    pub idle_secs: Option<u64>,
    /// LFU counter (FREQ opcode), when the saver had an LFU policy.
    pub freq: Option<u8>,
}

/// A failure inside a record, before the key is attached.
pub(crate) type Res<T> = Result<T, ErrorKind>;

fn corrupt<T>(why: impl Into<String>) -> Res<T> {
    Err(ErrorKind::Corrupt(why.into()))
}

/// The byte source: tracks the offset and the running CRC, and knows how much input is left
/// when that is known.
pub(crate) struct Input<R: Read> {
    r: R,
    pub(crate) pos: u64,
    crc: u64,
    crc_on: bool,
    total: Option<u64>,
}

/// Chunk size when reading a string of unknown-trust length from a stream.
const READ_CHUNK: u64 = 1 << 20;

impl<R: Read> Input<R> {
    pub(crate) fn new(r: R, total: Option<u64>) -> Self {
        Input {
            r,
            pos: 0,
            crc: 0,
            crc_on: true,
            total,
        }
    }

    /// Bytes left, when known.
    fn remaining(&self) -> Option<u64> {
        self.total.map(|t| t.saturating_sub(self.pos))
    }

    /// A capacity for `n` items of at least `min_size` bytes each that the input can justify.
    fn cap(&self, n: u64, min_size: u64) -> usize {
        let by_input = self.remaining().map_or(4096, |r| r / min_size.max(1));
        n.min(by_input).min(1 << 20) as usize
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Res<()> {
        if let Err(e) = self.r.read_exact(buf) {
            return Err(match e.kind() {
                std::io::ErrorKind::UnexpectedEof => ErrorKind::Truncated,
                _ => ErrorKind::Io(e.to_string()),
            });
        }
        if self.crc_on {
            self.crc = super::crc64(self.crc, buf);
        }
        self.pos += buf.len() as u64;
        Ok(())
    }

    pub(crate) fn u8(&mut self) -> Res<u8> {
        let mut b = [0u8; 1];
        self.read_exact(&mut b)?;
        Ok(b[0])
    }

    fn array<const N: usize>(&mut self) -> Res<[u8; N]> {
        let mut b = [0u8; N];
        self.read_exact(&mut b)?;
        Ok(b)
    }

    /// Reads exactly `n` bytes without allocating more than the input really holds.
    fn bytes(&mut self, n: u64) -> Res<Vec<u8>> {
        if let Some(rem) = self.remaining() {
            if n > rem {
                return Err(ErrorKind::Truncated);
            }
            let mut v = vec![0u8; n as usize];
            self.read_exact(&mut v)?;
            return Ok(v);
        }
        let mut v = Vec::new();
        let mut left = n;
        while left > 0 {
            let chunk = left.min(READ_CHUNK) as usize;
            let start = v.len();
            v.resize(start + chunk, 0);
            self.read_exact(&mut v[start..])?;
            left -= chunk as u64;
        }
        Ok(v)
    }

    /// A length (§2.1): `(value, true)` for a `11xxxxxx` special-encoding tag.
    fn len_or_enc(&mut self) -> Res<(u64, bool)> {
        let b = self.u8()?;
        Ok(match b >> 6 {
            0 => ((b & 0x3f) as u64, false),
            1 => ((((b & 0x3f) as u64) << 8) | self.u8()? as u64, false),
            2 => match b {
                0x80 => (u32::from_be_bytes(self.array()?) as u64, false),
                0x81 => (u64::from_be_bytes(self.array()?), false),
                _ => return corrupt(format!("unknown length encoding {b:#04x}")),
            },
            _ => ((b & 0x3f) as u64, true),
        })
    }

    /// A plain length; a special-encoding tag here is corrupt.
    pub(crate) fn len(&mut self) -> Res<u64> {
        match self.len_or_enc()? {
            (n, false) => Ok(n),
            (_, true) => corrupt("string encoding where a length was expected"),
        }
    }

    /// A string (§2.2) in any of its encodings.
    pub(crate) fn string(&mut self) -> Res<Vec<u8>> {
        let (n, enc) = self.len_or_enc()?;
        if !enc {
            return self.bytes(n);
        }
        match n {
            0 => Ok((self.u8()? as i8).to_string().into_bytes()),
            1 => Ok(i16::from_le_bytes(self.array()?).to_string().into_bytes()),
            2 => Ok(i32::from_le_bytes(self.array()?).to_string().into_bytes()),
            3 => {
                let clen = self.len()?;
                let ulen = self.len()?;
                let data = self.bytes(clen)?;
                let ulen = usize::try_from(ulen)
                    .map_err(|_| ErrorKind::Corrupt("LZF length too large".into()))?;
                lzf::decompress(&data, ulen).map_err(|e| ErrorKind::Corrupt(e.into()))
            }
            t => corrupt(format!("unknown RDB string encoding type {t}")),
        }
    }

    fn f64_le(&mut self) -> Res<f64> {
        Ok(f64::from_le_bytes(self.array()?))
    }

    /// A legacy string-encoded double (type 3 zsets).
    fn string_double(&mut self) -> Res<f64> {
        let n = self.u8()?;
        match n {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            _ => {
                let b = self.bytes(n as u64)?;
                std::str::from_utf8(&b)
                    .ok()
                    .and_then(parse_c_double)
                    .ok_or_else(|| ErrorKind::Corrupt("invalid string-encoded double".into()))
            }
        }
    }
}

/// What `%lg` accepts for the values Redis wrote (`%.17g`, `inf`, `nan`).
fn parse_c_double(s: &str) -> Option<f64> {
    let t = s.trim();
    match t.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        "nan" | "-nan" => Some(f64::NAN),
        _ => t.parse().ok(),
    }
}

/// Parses a zset score held in a ziplist/listpack item (`zzlStrtod`).
fn item_score(item: &listpack::Item) -> Res<f64> {
    match item {
        listpack::Item::Int(v) => Ok(*v as f64),
        listpack::Item::Str(s) => match std::str::from_utf8(s).ok().and_then(parse_c_double) {
            Some(v) if !v.is_nan() => Ok(v),
            Some(_) => corrupt("Zset with NAN score detected"),
            None => corrupt("invalid zset score in a listpack/ziplist"),
        },
    }
}

/// The module name packed in a module type id (§1.5).
fn module_name(id: u64) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut name = String::with_capacity(9);
    for i in 0..9 {
        let c = (id >> (64 - 6 * (i + 1))) & 63;
        name.push(ALPHABET[c as usize] as char);
    }
    format!("{name} (encoding version {})", id & 1023)
}

/// Skips a module opcode stream up to its EOF opcode (what redis-check-rdb does).
fn skip_module_opcodes<R: Read>(inp: &mut Input<R>) -> Res<()> {
    loop {
        match inp.len()? {
            0 => return Ok(()),
            1 | 2 => {
                inp.len()?;
            }
            3 => {
                inp.array::<4>()?;
            }
            4 => {
                inp.array::<8>()?;
            }
            5 => {
                inp.string()?;
            }
            op => return corrupt(format!("unknown module opcode {op}")),
        }
    }
}

/// Builds a hash from field/value pairs, refusing duplicate fields.
fn build_hash(flat: Vec<Vec<u8>>, limits: &EncodingLimits) -> Res<Option<Value>> {
    if flat.is_empty() {
        return Ok(None);
    }
    let h = Hash::from_pairs(&flat, limits);
    if h.len() * 2 != flat.len() {
        return corrupt("Duplicate hash fields detected");
    }
    Ok(Some(Value::Hash(h)))
}

/// Builds a sorted set, refusing NaN scores and duplicate members.
fn build_zset(entries: Vec<(f64, CompactBytes)>, limits: &EncodingLimits) -> Res<Option<Value>> {
    if entries.is_empty() {
        return Ok(None);
    }
    if entries.iter().any(|(s, _)| s.is_nan()) {
        return corrupt("Zset with NAN score detected");
    }
    {
        let mut seen = std::collections::HashSet::with_capacity(entries.len());
        if !entries.iter().all(|(_, m)| seen.insert(m.as_slice())) {
            return corrupt("Duplicate zset fields detected");
        }
    }
    Ok(Some(Value::ZSet(Box::new(ZSet::from_entries(
        entries, limits,
    )))))
}

fn set_insert(set: &mut Set, member: &[u8], limits: &EncodingLimits) -> Res<()> {
    if set.insert(member, limits.set_max_intset_entries) {
        Ok(())
    } else {
        corrupt("Duplicate set members detected")
    }
}

fn items_to_pairs(items: &[listpack::Item], what: &str) -> Res<Vec<Vec<u8>>> {
    if !items.len().is_multiple_of(2) {
        return corrupt(format!("{what} with an odd number of items"));
    }
    Ok(items.iter().map(|i| i.to_vec()).collect())
}

fn items_to_zset(items: &[listpack::Item], limits: &EncodingLimits) -> Res<Option<Value>> {
    if !items.len().is_multiple_of(2) {
        return corrupt("zset listpack/ziplist with an odd number of items");
    }
    let mut entries = Vec::with_capacity(items.len() / 2);
    for pair in items.chunks_exact(2) {
        entries.push((item_score(&pair[1])?, CompactBytes::from(pair[0].to_vec())));
    }
    build_zset(entries, limits)
}

/// Reads the value of a record of type `t` (the type byte and key already consumed).
/// `Ok(None)` for an empty collection, which Redis skips with a warning.
pub(crate) fn read_object<R: Read>(
    inp: &mut Input<R>,
    t: u8,
    limits: &EncodingLimits,
) -> Res<Option<Value>> {
    use rtype::*;
    let blob_err = |e: String| ErrorKind::Corrupt(e);
    match t {
        STRING => Ok(Some(Value::string_from_vec(inp.string()?))),
        LIST => {
            let n = inp.len()?;
            let mut list = List::with_capacity(inp.cap(n, 1));
            for _ in 0..n {
                list.push_back(&inp.string()?);
            }
            Ok((!list.is_empty()).then(|| Value::List(Box::new(list))))
        }
        SET => {
            let n = inp.len()?;
            let mut set = Set::new();
            for _ in 0..n {
                set_insert(&mut set, &inp.string()?, limits)?;
            }
            Ok((!set.is_empty()).then(|| Value::Set(Box::new(set))))
        }
        ZSET | ZSET_2 => {
            let n = inp.len()?;
            let mut entries = Vec::with_capacity(inp.cap(n, 2));
            for _ in 0..n {
                let member = inp.string()?;
                let score = if t == ZSET {
                    inp.string_double()?
                } else {
                    inp.f64_le()?
                };
                if score.is_nan() {
                    return corrupt("Zset with NAN score detected");
                }
                entries.push((score, CompactBytes::from(member)));
            }
            build_zset(entries, limits)
        }
        HASH => {
            let n = inp.len()?;
            let mut flat = Vec::with_capacity(inp.cap(n.saturating_mul(2), 1));
            for _ in 0..n {
                flat.push(inp.string()?);
                flat.push(inp.string()?);
            }
            build_hash(flat, limits)
        }
        MODULE_PRE_GA => Err(ErrorKind::Unsupported(
            "module value (RDB type 6, pre-GA modules format)".into(),
        )),
        MODULE_2 => {
            let id = inp.len()?;
            Err(ErrorKind::Unsupported(format!(
                "module value (RDB type 7) of module {}",
                module_name(id)
            )))
        }
        HASH_ZIPMAP => {
            let blob = inp.string()?;
            let pairs = zipmap::decode(&blob).map_err(blob_err)?;
            let flat = pairs
                .iter()
                .flat_map(|(k, v)| [k.to_vec(), v.to_vec()])
                .collect();
            build_hash(flat, limits)
        }
        LIST_ZIPLIST => {
            let blob = inp.string()?;
            let items = ziplist::decode(&blob).map_err(blob_err)?;
            let mut list = List::with_capacity(items.len());
            for i in &items {
                list.push_back(&i.to_vec());
            }
            Ok((!list.is_empty()).then(|| Value::List(Box::new(list))))
        }
        SET_INTSET => {
            let blob = inp.string()?;
            let (width, values) = intset::decode_with_width(&blob).map_err(blob_err)?;
            if values.is_empty() {
                return Ok(None);
            }
            if values.len() <= limits.set_max_intset_entries {
                // Kept as is, width included, as Redis keeps the blob.
                return Ok(Some(Value::Set(Box::new(Set::from_intset(width, &values)))));
            }
            let mut set = Set::new();
            for v in values {
                set_insert(&mut set, v.to_string().as_bytes(), limits)?;
            }
            Ok(Some(Value::Set(Box::new(set))))
        }
        SET_LISTPACK => {
            let blob = inp.string()?;
            let items = listpack::decode(&blob).map_err(blob_err)?;
            let mut set = Set::new();
            for i in &items {
                set_insert(&mut set, &i.to_vec(), limits)?;
            }
            Ok((!set.is_empty()).then(|| Value::Set(Box::new(set))))
        }
        ZSET_ZIPLIST | ZSET_LISTPACK => {
            let blob = inp.string()?;
            let items = if t == ZSET_ZIPLIST {
                ziplist::decode(&blob)
            } else {
                listpack::decode(&blob)
            }
            .map_err(blob_err)?;
            if t == ZSET_LISTPACK {
                // Redis keeps a loaded listpack unless it has too many entries, whatever the
                // element sizes.
                let relaxed = EncodingLimits {
                    zset_max_listpack_value: usize::MAX,
                    ..*limits
                };
                return items_to_zset(&items, &relaxed);
            }
            items_to_zset(&items, limits)
        }
        HASH_ZIPLIST | HASH_LISTPACK => {
            let blob = inp.string()?;
            let items = if t == HASH_ZIPLIST {
                ziplist::decode(&blob)
            } else {
                listpack::decode(&blob)
            }
            .map_err(blob_err)?;
            let pairs = items_to_pairs(&items, "hash listpack/ziplist")?;
            if t == HASH_LISTPACK {
                // As for zsets: only the entry count makes Redis convert a loaded listpack.
                let relaxed = EncodingLimits {
                    hash_max_listpack_value: usize::MAX,
                    ..*limits
                };
                return build_hash(pairs, &relaxed);
            }
            build_hash(pairs, limits)
        }
        LIST_QUICKLIST | LIST_QUICKLIST_2 => {
            let nodes = inp.len()?;
            let mut list = List::new();
            for _ in 0..nodes {
                let container = if t == LIST_QUICKLIST_2 {
                    inp.len()?
                } else {
                    CONTAINER_PACKED
                };
                let blob = inp.string()?;
                if blob.is_empty() {
                    return corrupt("empty quicklist node");
                }
                match container {
                    CONTAINER_PLAIN => list.push_back(&blob),
                    CONTAINER_PACKED => {
                        let items = if t == LIST_QUICKLIST {
                            ziplist::decode(&blob)
                        } else {
                            listpack::decode(&blob)
                        }
                        .map_err(blob_err)?;
                        for i in &items {
                            list.push_back(&i.to_vec());
                        }
                    }
                    c => return corrupt(format!("unknown quicklist node container {c}")),
                }
            }
            Ok((!list.is_empty()).then(|| Value::List(Box::new(list))))
        }
        STREAM_LISTPACKS | STREAM_LISTPACKS_2 | STREAM_LISTPACKS_3 => Err(ErrorKind::Unsupported(
            format!("stream (RDB type {t}): this server has no streams"),
        )),
        HASH_METADATA_PRE_GA | HASH_LISTPACK_EX_PRE_GA | HASH_METADATA | HASH_LISTPACK_EX => {
            Err(ErrorKind::Unsupported(format!(
                "hash with field expiration (RDB type {t}, Redis 7.4+)"
            )))
        }
        _ => Err(ErrorKind::UnknownType(t)),
    }
}

/// Loads an RDB stream record by record.
///
/// ```no_run
/// # fn f(data: &[u8]) -> Result<(), resplica::rdb::Error> {
/// let mut r = resplica::rdb::Reader::from_slice(data)?;
/// while let Some(e) = r.next_entry()? {
///     println!("db {} key {:?} ttl {:?}", e.db, e.key, e.expire_ms);
/// }
/// println!("repl-id {:?}", r.repl_id());
/// # Ok(()) }
/// ```
pub struct Reader<R: Read> {
    inp: Input<R>,
    version: u16,
    limits: EncodingLimits,
    databases: usize,
    verify_checksum: bool,
    db: usize,
    done: bool,
    aux: Vec<(Vec<u8>, Vec<u8>)>,
    functions: Vec<Vec<u8>>,
    resize_hints: Vec<(usize, u64, u64)>,
    skipped_empty: u64,
    module_aux_skipped: u64,
}

impl<'a> Reader<&'a [u8]> {
    /// A reader over a whole file in memory.
    pub fn from_slice(data: &'a [u8]) -> Result<Self, Error> {
        Self::start(Input::new(data, Some(data.len() as u64)))
    }
}

impl<R: Read> Reader<R> {
    /// A reader over a stream of unknown length (a socket); reads and checks the header.
    pub fn new(r: R) -> Result<Self, Error> {
        Self::start(Input::new(r, None))
    }

    /// A reader over a stream of `len` bytes (a file, a `$<len>` payload).
    pub fn with_len(r: R, len: u64) -> Result<Self, Error> {
        Self::start(Input::new(r, Some(len)))
    }

    fn start(mut inp: Input<R>) -> Result<Self, Error> {
        let at = |kind| Error {
            offset: 0,
            key: None,
            kind,
        };
        let mut magic = [0u8; 9];
        inp.read_exact(&mut magic).map_err(|k| match k {
            ErrorKind::Truncated => at(ErrorKind::BadMagic),
            k => at(k),
        })?;
        if &magic[..5] != b"REDIS" || !magic[5..].iter().all(u8::is_ascii_digit) {
            return Err(at(if magic.starts_with(b"VALKEY") {
                ErrorKind::Unsupported("Valkey 9 RDB format (VALKEY magic)".into())
            } else {
                ErrorKind::BadMagic
            }));
        }
        let version = magic[5..]
            .iter()
            .fold(0u32, |v, d| v * 10 + (d - b'0') as u32);
        if version < 1 || version > MAX_READ_VERSION as u32 {
            return Err(at(ErrorKind::Version(version)));
        }
        Ok(Reader {
            inp,
            version: version as u16,
            limits: EncodingLimits::default(),
            databases: 16,
            verify_checksum: true,
            db: 0,
            done: false,
            aux: Vec::new(),
            functions: Vec::new(),
            resize_hints: Vec::new(),
            skipped_empty: 0,
            module_aux_skipped: 0,
        })
    }

    /// Encoding thresholds for the loaded values (default: Redis's defaults).
    pub fn with_limits(mut self, limits: EncodingLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Number of databases: a SELECTDB at or beyond it is an error (default 16).
    pub fn with_databases(mut self, n: usize) -> Self {
        self.databases = n;
        self
    }

    /// Whether to compare the CRC64 trailer (`rdbchecksum`; default true). The trailer is
    /// consumed either way.
    pub fn with_checksum_verification(mut self, on: bool) -> Self {
        self.verify_checksum = on;
        self
    }

    /// The file's format version.
    pub fn version(&self) -> u16 {
        self.version
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.inp.pos
    }

    /// Every AUX field met so far, in file order.
    pub fn aux(&self) -> &[(Vec<u8>, Vec<u8>)] {
        &self.aux
    }

    /// The value of the last AUX field named `name`.
    pub fn aux_field(&self, name: &str) -> Option<&[u8]> {
        self.aux
            .iter()
            .rev()
            .find(|(k, _)| k == name.as_bytes())
            .map(|(_, v)| v.as_slice())
    }

    fn aux_int(&self, name: &str) -> Option<i64> {
        crate::num::parse_i64(self.aux_field(name)?)
    }

    /// `repl-id`, when present and exactly 40 bytes (Redis ignores it otherwise).
    pub fn repl_id(&self) -> Option<String> {
        let v = self.aux_field("repl-id")?;
        (v.len() == 40)
            .then(|| String::from_utf8(v.to_vec()).ok())
            .flatten()
    }

    /// `repl-offset`.
    pub fn repl_offset(&self) -> Option<i64> {
        self.aux_int("repl-offset")
    }

    /// `repl-stream-db`.
    pub fn repl_stream_db(&self) -> Option<i64> {
        self.aux_int("repl-stream-db")
    }

    /// Function libraries (FUNCTION2 records, and pre-GA FUNCTION records rebuilt as
    /// `#!<engine> name=<name>\n<code>`), in file order. Loading them is up to the caller.
    pub fn functions(&self) -> &[Vec<u8>] {
        &self.functions
    }

    /// What the file held that a keyspace load does not keep (function libraries, module aux
    /// data), worded for a warning log line; `None` when nothing was left out.
    pub fn not_loaded(&self) -> Option<String> {
        let mut parts = Vec::new();
        if !self.functions.is_empty() {
            let names: Vec<String> = self
                .functions
                .iter()
                .map(|code| library_name(code))
                .collect();
            parts.push(format!(
                "{} function librar{} ({}): FUNCTION is not supported, FCALL will not find them",
                names.len(),
                if names.len() == 1 { "y" } else { "ies" },
                names.join(", ")
            ));
        }
        if self.module_aux_skipped > 0 {
            parts.push(format!(
                "{} module aux record(s): modules are not supported",
                self.module_aux_skipped
            ));
        }
        (!parts.is_empty()).then(|| format!("RDB data not loaded: {}", parts.join("; ")))
    }

    /// RESIZEDB hints met so far: `(db, keys, expires)`.
    pub fn resize_hints(&self) -> &[(usize, u64, u64)] {
        &self.resize_hints
    }

    /// `n` (a RESIZEDB count) bounded by what the rest of the input could hold (3 bytes per key
    /// at least), so a lying hint cannot make a loader allocate without bound.
    pub fn plausible_count(&self, n: u64) -> usize {
        let by_input = self.inp.remaining().map_or(1 << 20, |r| r / 3);
        n.min(by_input).min(1 << 32) as usize
    }

    /// Keys skipped because their collection was empty (Redis warns and skips them too).
    pub fn skipped_empty(&self) -> u64 {
        self.skipped_empty
    }

    /// MODULE_AUX records skipped.
    pub fn module_aux_skipped(&self) -> u64 {
        self.module_aux_skipped
    }

    /// True once EOF (and the checksum) has been read.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The underlying reader, positioned after what was consumed (after the checksum once
    /// [`is_done`](Self::is_done)): e.g. to read a diskless payload's EOF mark.
    pub fn into_inner(self) -> R {
        self.inp.r
    }

    fn fail(&self, offset: u64, key: Option<&[u8]>, kind: ErrorKind) -> Error {
        Error {
            offset,
            key: key.map(|k| k.to_vec()),
            kind,
        }
    }

    /// The next key, `None` after EOF (the checksum has then been verified).
    pub fn next_entry(&mut self) -> Result<Option<Entry>, Error> {
        if self.done {
            return Ok(None);
        }
        let mut expire_ms: Option<i64> = None;
        let mut idle_secs: Option<u64> = None;
        let mut freq: Option<u8> = None;
        loop {
            let at = self.inp.pos;
            let t = self.inp.u8().map_err(|k| self.fail(at, None, k))?;
            let r: Res<()> = match t {
                opcode::EXPIRETIME => self.inp.array::<4>().map(|b| {
                    expire_ms = Some(i32::from_le_bytes(b) as i64 * 1000);
                }),
                opcode::EXPIRETIME_MS => self.inp.array::<8>().map(|b| {
                    expire_ms = Some(i64::from_le_bytes(b));
                }),
                opcode::FREQ => self.inp.u8().map(|f| freq = Some(f)),
                opcode::IDLE => self.inp.len().map(|i| idle_secs = Some(i)),
                opcode::EOF => {
                    return self.read_trailer().map(|_| None);
                }
                opcode::SELECTDB => match self.inp.len() {
                    Ok(db) if db >= self.databases as u64 => Err(ErrorKind::DbIndex(db)),
                    Ok(db) => {
                        self.db = db as usize;
                        Ok(())
                    }
                    Err(e) => Err(e),
                },
                opcode::RESIZEDB => (|| {
                    let keys = self.inp.len()?;
                    let expires = self.inp.len()?;
                    self.resize_hints.push((self.db, keys, expires));
                    Ok(())
                })(),
                opcode::AUX => (|| {
                    let k = self.inp.string()?;
                    let v = self.inp.string()?;
                    self.aux.push((k, v));
                    Ok(())
                })(),
                opcode::MODULE_AUX => (|| {
                    let _id = self.inp.len()?;
                    if self.inp.len()? != 2 {
                        return corrupt("module aux without its 'when' opcode");
                    }
                    let _when = self.inp.len()?;
                    skip_module_opcodes(&mut self.inp)?;
                    self.module_aux_skipped += 1;
                    Ok(())
                })(),
                opcode::FUNCTION2 => self.inp.string().map(|code| self.functions.push(code)),
                opcode::FUNCTION_PRE_GA => (|| {
                    let name = self.inp.string()?;
                    let engine = self.inp.string()?;
                    if self.inp.len()? != 0 {
                        self.inp.string()?;
                    }
                    let code = self.inp.string()?;
                    let mut lib = b"#!".to_vec();
                    lib.extend_from_slice(&engine);
                    lib.extend_from_slice(b" name=");
                    lib.extend_from_slice(&name);
                    lib.push(b'\n');
                    lib.extend_from_slice(&code);
                    self.functions.push(lib);
                    Ok(())
                })(),
                opcode::SLOT_INFO => (|| {
                    for _ in 0..3 {
                        self.inp.len()?;
                    }
                    Ok(())
                })(),
                _ => {
                    let key = self.inp.string().map_err(|k| self.fail(at, None, k))?;
                    let value = read_object(&mut self.inp, t, &self.limits);
                    let pos = self.inp.pos;
                    match value {
                        Err(k) => return Err(self.fail(pos, Some(&key), k)),
                        Ok(None) => {
                            self.skipped_empty += 1;
                            expire_ms = None;
                            idle_secs = None;
                            freq = None;
                            continue;
                        }
                        Ok(Some(value)) => {
                            return Ok(Some(Entry {
                                db: self.db,
                                key,
                                value,
                                expire_ms,
                                idle_secs,
                                freq,
                            }))
                        }
                    }
                }
            };
            if let Err(k) = r {
                let pos = self.inp.pos;
                return Err(self.fail(pos, None, k));
            }
        }
    }

    fn read_trailer(&mut self) -> Result<(), Error> {
        self.done = true;
        if self.version < 5 {
            return Ok(());
        }
        let computed = self.inp.crc;
        self.inp.crc_on = false;
        let at = self.inp.pos;
        let stored = u64::from_le_bytes(self.inp.array::<8>().map_err(|k| self.fail(at, None, k))?);
        if self.verify_checksum && stored != 0 && stored != computed {
            return Err(self.fail(
                at,
                None,
                ErrorKind::Checksum {
                    expected: stored,
                    computed,
                },
            ));
        }
        Ok(())
    }

    /// The remaining keys as an iterator of results (it ends after the first error).
    pub fn entries(&mut self) -> Entries<'_, R> {
        Entries {
            reader: self,
            failed: false,
        }
    }

    /// Reads every remaining key into `f`, stopping at the first error (from the file or `f`).
    pub fn for_each(&mut self, mut f: impl FnMut(Entry) -> Result<(), Error>) -> Result<(), Error> {
        while let Some(e) = self.next_entry()? {
            f(e)?;
        }
        Ok(())
    }
}

/// The `name=` of a library's `#!<engine> name=<name> ...` shebang line, or `?`.
fn library_name(code: &[u8]) -> String {
    let first = code.split(|&b| b == b'\n').next().unwrap_or_default();
    String::from_utf8_lossy(first)
        .split_whitespace()
        .find_map(|w| w.strip_prefix("name=").map(str::to_string))
        .unwrap_or_else(|| "?".to_string())
}

/// The iterator of [`Reader::entries`]: yields each key, then ends after EOF or the first error.
pub struct Entries<'a, R: Read> {
    reader: &'a mut Reader<R>,
    failed: bool,
}

impl<R: Read> Iterator for Entries<'_, R> {
    type Item = Result<Entry, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.reader.next_entry() {
            Ok(Some(e)) => Some(Ok(e)),
            Ok(None) => None,
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_files() {
        let v10 = [
            0x52, 0x45, 0x44, 0x49, 0x53, 0x30, 0x30, 0x31, 0x30, 0xff, 0xa9, 0xfd, 0x37, 0xfe,
            0x89, 0xa7, 0x7e, 0xeb,
        ];
        let mut r = Reader::from_slice(&v10).unwrap();
        assert_eq!(r.next_entry().unwrap(), None);
        assert!(r.is_done());
        let v9 = [
            0x52, 0x45, 0x44, 0x49, 0x53, 0x30, 0x30, 0x30, 0x39, 0xff, 0x9a, 0xac, 0x7a, 0xbc,
            0xfb, 0x0f, 0xad, 0x74,
        ];
        assert_eq!(Reader::from_slice(&v9).unwrap().next_entry().unwrap(), None);
        let mut bad = v10;
        bad[12] ^= 1;
        let e = Reader::from_slice(&bad).unwrap().next_entry().unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Checksum { .. }), "{e}");
        assert_eq!(e.offset, 10);
        let e = Reader::from_slice(b"REDIS0013\xff").err().unwrap();
        assert_eq!(e.kind, ErrorKind::Version(13));
    }

    #[test]
    fn spec_sample_file_and_replication_aux() {
        let file = [
            0x52, 0x45, 0x44, 0x49, 0x53, 0x30, 0x30, 0x31, 0x30, 0xfe, 0x00, 0xfb, 0x02, 0x01,
            0xfc, 0x00, 0xb4, 0xc5, 0xda, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x03, 0x66, 0x6f, 0x6f,
            0x03, 0x62, 0x61, 0x72, 0x02, 0x01, 0x73, 0x02, 0x01, 0x78, 0x01, 0x79, 0xff, 0x68,
            0x79, 0xf4, 0xa0, 0x46, 0x51, 0x61, 0xe4,
        ];
        let entries: Vec<Entry> = Reader::from_slice(&file)
            .unwrap()
            .entries()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].key, b"foo");
        assert_eq!(entries[0].value, Value::string(b"bar"));
        assert_eq!(entries[0].expire_ms, Some(1893456000000));
        assert_eq!(entries[1].value.type_name(), "set");
        assert_eq!(entries[1].expire_ms, None);
    }

    #[test]
    fn function_libraries_are_reported_not_loaded() {
        use crate::rdb::writer::{Options, Writer};
        let mut w = Writer::new(Vec::new(), Options::default());
        w.function(b"#!lua name=mylib\nredis.register_function('f', function() return 1 end)")
            .unwrap();
        w.select_db(0, 1, 0).unwrap();
        w.entry(b"k", &Value::string(b"v"), None).unwrap();
        let file = w.finish().unwrap();
        let mut r = Reader::from_slice(&file).unwrap();
        let entries: Vec<Entry> = r.entries().collect::<Result<_, _>>().unwrap();
        assert_eq!(entries.len(), 1);
        let note = r.not_loaded().unwrap();
        assert!(note.contains("1 function library (mylib)"), "{note}");
        let plain = Writer::new(Vec::new(), Options::default())
            .finish()
            .unwrap();
        let mut r = Reader::from_slice(&plain).unwrap();
        assert_eq!(r.next_entry().unwrap(), None);
        assert_eq!(r.not_loaded(), None);
    }

    #[test]
    fn module_names_decode() {
        // "mymodtype" with encoding version 1, as RedisModule_CreateDataType would pack it.
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut id = 0u64;
        for c in b"mymodtype" {
            id = (id << 6) | alphabet.iter().position(|a| a == c).unwrap() as u64;
        }
        id = (id << 10) | 1;
        assert_eq!(module_name(id), "mymodtype (encoding version 1)");
    }
}
