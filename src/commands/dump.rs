//! DUMP and RESTORE (Redis's `cluster.c`): a key's value in the RDB serialization, with the
//! RDB version and a CRC64 appended (see [`crate::rdb::payload`]).

use super::table::{cmd, flags::*, CommandSpec};
use super::{arg_i64, is_opt, CmdError, CmdResult, Ctx};
use crate::rdb;
use bytes::Bytes;

/// DUMP and RESTORE.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "dump",
        2,
        READONLY,
        (1, 1, 1),
        "generic",
        "2.6.0",
        "Return a serialized version of the value stored at the specified key.",
        dump,
    ),
    cmd(
        "restore",
        -4,
        WRITE | DENYOOM,
        (1, 1, 1),
        "generic",
        "2.6.0",
        "Create a key using the provided serialized value, previously obtained using DUMP.",
        restore,
    ),
];

fn dump(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let compression = ctx.shared.config().bool("rdbcompression");
    let db = ctx.db();
    match ctx.ks.get(db, &args[1]) {
        Some(value) => {
            let payload = rdb::dump_payload(value, compression);
            ctx.out.bulk(&payload);
        }
        None => ctx.out.null(),
    }
    Ok(())
}

/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
///
/// IDLETIME sets the key's idle time under an LRU (or the default) policy, FREQ its access counter
/// under an LFU policy; the other one is ignored, as in Redis.
fn restore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut replace = false;
    let mut absttl = false;
    let mut idle: Option<i64> = None;
    let mut freq: Option<i64> = None;
    let mut j = 4;
    while j < args.len() {
        let additional = args.len() - j - 1;
        if is_opt(&args[j], "replace") {
            replace = true;
        } else if is_opt(&args[j], "absttl") {
            absttl = true;
        } else if is_opt(&args[j], "idletime") && additional >= 1 && freq.is_none() {
            let v = arg_i64(&args[j + 1])?;
            if v < 0 {
                return Err(CmdError::err("Invalid IDLETIME value, must be >= 0"));
            }
            idle = Some(v);
            j += 1;
        } else if is_opt(&args[j], "freq") && additional >= 1 && idle.is_none() {
            let v = arg_i64(&args[j + 1])?;
            if !(0..=255).contains(&v) {
                return Err(CmdError::err("Invalid FREQ value, must be >= 0 and <= 255"));
            }
            freq = Some(v);
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let db = ctx.db();
    let key = &args[1];
    if !replace && ctx.ks.exists(db, key) {
        return Err(CmdError::Msg(
            "BUSYKEY Target key name already exists.".into(),
        ));
    }
    let mut ttl = arg_i64(&args[2])?;
    if ttl < 0 {
        return Err(CmdError::err("Invalid TTL value, must be >= 0"));
    }
    let payload = &args[3];
    if !rdb::verify_payload(payload) {
        return Err(CmdError::err("DUMP payload version or checksum are wrong"));
    }
    let limits = ctx.limits();
    let Ok(value) = rdb::restore_payload(payload, &limits) else {
        return Err(CmdError::err("Bad data format"));
    };
    let deleted = replace && ctx.ks.delete(db, key);
    if ttl != 0 && !absttl {
        ttl = ttl.saturating_add(ctx.ks.now);
    }
    if ttl != 0 && ttl <= ctx.ks.now && !ctx.ks.is_replica {
        // Already expired: the key is not created (a replaced key is deleted).
        if deleted {
            ctx.wrote(b'g', "del", key);
        }
        ctx.out.ok();
        return Ok(());
    }
    ctx.ks.set(db, key, value, false);
    ctx.ks.restore_access(db, key, idle, freq);
    if ttl != 0 {
        ctx.ks.set_expire(db, key, ttl);
    }
    ctx.wrote(b'g', "restore", key);
    ctx.out.ok();
    Ok(())
}
