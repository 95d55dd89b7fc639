//! The RDB file format (Redis 7.0.15 writes version 10), as a self-contained module: the
//! [`Writer`] streams a snapshot into any `io::Write` sink, the [`Reader`] loads files of
//! versions 1 through 12, and [`payload`] holds the DUMP/RESTORE serialization. The byte-level
//! reference is `docs/rdb.md` (section numbers below point there).
//!
//! * [`writer`]: header + AUX fields, SELECTDB/RESIZEDB, key records, EOF + CRC64.
//! * [`reader`]: the record loop of §1.2 with every type and encoding of §3–4.
//! * [`lzf`], [`listpack`], [`ziplist`], [`intset`], [`zipmap`]: the embedded blob formats.
//! * [`framing`]: the `$<len>` / `$EOF:<mark>` wrappers of a full-sync payload (§1.8).

pub mod framing;
pub mod intset;
pub mod listpack;
pub mod lzf;
pub mod payload;
pub mod reader;
pub mod writer;
pub mod ziplist;
pub mod zipmap;

pub use payload::{dump_payload, restore_payload, verify_payload};
pub use reader::{Entry, Reader};
pub use writer::{Aux, Options, ReplAux, Writer};

/// Loads every remaining key of `reader` into `ks`, sizing each database from the file's
/// RESIZEDB hints before its keys arrive (no rehashing, one probe per key). `keep` sees each
/// entry first, with the input offset reached, and may skip it (keys already expired at startup);
/// it also serves progress reports. Returns the keys loaded.
pub fn load_into<R: std::io::Read>(
    reader: &mut Reader<R>,
    ks: &mut crate::store::Keyspace,
    mut keep: impl FnMut(&Entry, u64) -> bool,
) -> Result<u64, Error> {
    let mut hints = 0;
    let mut loaded = 0;
    while let Some(e) = reader.next_entry()? {
        let all = reader.resize_hints();
        if all.len() > hints {
            for &(db, keys, expires) in &all[hints..] {
                ks.reserve(
                    db,
                    reader.plausible_count(keys),
                    reader.plausible_count(expires),
                );
            }
            hints = all.len();
        }
        if keep(&e, reader.offset()) {
            ks.load_entry(e.db, &e.key, e.value, e.expire_ms);
            loaded += 1;
        }
    }
    Ok(loaded)
}

/// The version this server writes (Redis 7.0's).
pub const RDB_VERSION: u16 = 10;
/// Newest version the reader accepts (Redis 7.4's).
pub const MAX_READ_VERSION: u16 = 12;
/// What `redis-ver` says.
pub const REDIS_VER: &str = "7.0.15";

/// Record opcodes (§1.3).
pub mod opcode {
    pub const SLOT_INFO: u8 = 0xF4;
    pub const FUNCTION2: u8 = 0xF5;
    pub const FUNCTION_PRE_GA: u8 = 0xF6;
    pub const MODULE_AUX: u8 = 0xF7;
    pub const IDLE: u8 = 0xF8;
    pub const FREQ: u8 = 0xF9;
    pub const AUX: u8 = 0xFA;
    pub const RESIZEDB: u8 = 0xFB;
    pub const EXPIRETIME_MS: u8 = 0xFC;
    pub const EXPIRETIME: u8 = 0xFD;
    pub const SELECTDB: u8 = 0xFE;
    pub const EOF: u8 = 0xFF;
}

/// Value type ids (§3).
pub mod rtype {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const MODULE_PRE_GA: u8 = 6;
    pub const MODULE_2: u8 = 7;
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const STREAM_LISTPACKS: u8 = 15;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const STREAM_LISTPACKS_2: u8 = 19;
    pub const SET_LISTPACK: u8 = 20;
    pub const STREAM_LISTPACKS_3: u8 = 21;
    pub const HASH_METADATA_PRE_GA: u8 = 22;
    pub const HASH_LISTPACK_EX_PRE_GA: u8 = 23;
    pub const HASH_METADATA: u8 = 24;
    pub const HASH_LISTPACK_EX: u8 = 25;
}

/// Quicklist-2 node containers.
pub(crate) const CONTAINER_PLAIN: u64 = 1;
pub(crate) const CONTAINER_PACKED: u64 = 2;

/// CRC-64 as Redis computes it (Jones polynomial, reflected, init 0, no final xor: §1.7),
/// chaining across chunks.
pub fn crc64(crc: u64, data: &[u8]) -> u64 {
    ::crc64::crc64(crc, data)
}

/// Why reading failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input ended early (truncated file or short socket read).
    Truncated,
    /// Not `REDIS` + 4 digits.
    BadMagic,
    /// A version outside 1..=12.
    Version(u32),
    /// The trailer does not match the computed CRC64.
    Checksum { expected: u64, computed: u64 },
    /// A type byte that is no value type known to any Redis.
    UnknownType(u8),
    /// A type this server cannot hold (streams, modules, hash field TTLs).
    Unsupported(String),
    /// A SELECTDB beyond the configured number of databases.
    DbIndex(u64),
    /// Anything else malformed.
    Corrupt(String),
    /// The underlying reader failed.
    Io(String),
}

/// A reading error: where (byte offset of the record or field), which key when known, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub offset: u64,
    pub key: Option<Vec<u8>>,
    pub kind: ErrorKind,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RDB error at byte {}", self.offset)?;
        if let Some(k) = &self.key {
            write!(f, " (key {})", crate::num::repr(k))?;
        }
        f.write_str(": ")?;
        match &self.kind {
            ErrorKind::Truncated => f.write_str("unexpected end of input"),
            ErrorKind::BadMagic => f.write_str("wrong signature, not an RDB file"),
            ErrorKind::Version(v) => write!(f, "can't handle RDB format version {v}"),
            ErrorKind::Checksum { expected, computed } => write!(
                f,
                "wrong RDB checksum, expected {expected:#018x} but computed {computed:#018x}"
            ),
            ErrorKind::UnknownType(t) => write!(f, "unknown RDB encoding type {t}"),
            ErrorKind::Unsupported(what) => write!(f, "unsupported: {what}"),
            ErrorKind::DbIndex(db) => write!(f, "database index {db} is out of range"),
            ErrorKind::Corrupt(why) => f.write_str(why),
            ErrorKind::Io(e) => write!(f, "read error: {e}"),
        }
    }
}

impl std::error::Error for Error {}
