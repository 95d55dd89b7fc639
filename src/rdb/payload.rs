//! The DUMP/RESTORE payload (rdb.md §7): the type byte and value exactly as in an RDB record
//! (no key), then the RDB version as 2 bytes LE, then the CRC64 LE of everything before it.

use super::reader::{read_object, Input};
use super::writer::{object_type, put_object, DEFAULT_LIST_FILL};
use super::{Error, ErrorKind, RDB_VERSION};
use crate::store::{EncodingLimits, Value};

/// Serializes a value as DUMP does (`compression` is `rdbcompression`).
pub fn dump_payload(value: &Value, compression: bool) -> Vec<u8> {
    let mut out = vec![object_type(value)];
    put_object(&mut out, value, compression, DEFAULT_LIST_FILL);
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = super::crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Redis's `verifyDumpPayload`: at least 10 bytes, a version this server knows, and a matching
/// CRC64 (a zero CRC is not special here).
pub fn verify_payload(p: &[u8]) -> bool {
    if p.len() < 10 {
        return false;
    }
    let footer = &p[p.len() - 10..];
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    if version > RDB_VERSION {
        return false;
    }
    let mut crc = [0u8; 8];
    crc.copy_from_slice(&footer[2..]);
    super::crc64(0, &p[..p.len() - 8]) == u64::from_le_bytes(crc)
}

/// Decodes a payload (already checked with [`verify_payload`]) into a value. An empty
/// collection is an error here, as RESTORE answers "Bad data format" for it. Like Redis, the
/// value is parsed from the whole payload: a value may run into the 10-byte footer, and bytes
/// left over are ignored.
pub fn restore_payload(p: &[u8], limits: &EncodingLimits) -> Result<Value, Error> {
    let mut inp = Input::new(p, Some(p.len() as u64));
    let fail = |offset, kind| Error {
        offset,
        key: None,
        kind,
    };
    let t = inp.u8().map_err(|k| fail(0, k))?;
    match read_object(&mut inp, t, limits) {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(fail(inp.pos, ErrorKind::Corrupt("empty collection".into()))),
        Err(k) => Err(fail(inp.pos, k)),
    }
}
