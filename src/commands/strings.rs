//! String commands (Redis's `t_string.c`): GET/SET and friends, counters, ranges.

use super::table::{cmd, flags::*, CommandSpec};
use super::{arg_f64, arg_i64, is_opt, CmdError, CmdResult, Ctx};
use crate::num::format_human;
use crate::store::Value;
use bytes::Bytes;
use std::borrow::Cow;

/// The string commands.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "get",
        2,
        READONLY | FAST,
        (1, 1, 1),
        "string",
        "1.0.0",
        "Get the value of a key",
        get,
    ),
    cmd(
        "set",
        -3,
        WRITE | DENYOOM,
        (1, 1, 1),
        "string",
        "1.0.0",
        "Set the string value of a key",
        set,
    ),
    cmd(
        "setnx",
        3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "string",
        "1.0.0",
        "Set the value of a key, only if the key does not exist",
        setnx,
    ),
    cmd(
        "setex",
        4,
        WRITE | DENYOOM,
        (1, 1, 1),
        "string",
        "2.0.0",
        "Set the value and expiration of a key",
        setex,
    ),
    cmd(
        "psetex",
        4,
        WRITE | DENYOOM,
        (1, 1, 1),
        "string",
        "2.6.0",
        "Set the value and expiration in milliseconds of a key",
        psetex,
    ),
    cmd(
        "getset",
        3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "string",
        "1.0.0",
        "Set the string value of a key and return its old value",
        getset,
    ),
    cmd(
        "getdel",
        2,
        WRITE | FAST,
        (1, 1, 1),
        "string",
        "6.2.0",
        "Get the value of a key and delete the key",
        getdel,
    ),
    cmd(
        "getex",
        -2,
        WRITE | FAST,
        (1, 1, 1),
        "string",
        "6.2.0",
        "Get the value of a key and optionally set its expiration",
        getex,
    ),
    cmd(
        "mget",
        -2,
        READONLY | FAST,
        (1, -1, 1),
        "string",
        "1.0.0",
        "Get the values of all the given keys",
        mget,
    ),
    cmd(
        "mset",
        -3,
        WRITE | DENYOOM,
        (1, -1, 2),
        "string",
        "1.0.1",
        "Set multiple keys to multiple values",
        mset,
    ),
    cmd(
        "msetnx",
        -3,
        WRITE | DENYOOM,
        (1, -1, 2),
        "string",
        "1.0.1",
        "Set multiple keys to multiple values, only if none of the keys exist",
        msetnx,
    ),
    cmd(
        "append",
        3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "string",
        "2.0.0",
        "Append a value to a key",
        append,
    ),
    cmd(
        "strlen",
        2,
        READONLY | FAST,
        (1, 1, 1),
        "string",
        "2.2.0",
        "Get the length of the value stored in a key",
        strlen,
    ),
    cmd(
        "incr",
        2,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "string",
        "1.0.0",
        "Increment the integer value of a key by one",
        incr,
    ),
    cmd(
        "decr",
        2,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "string",
        "1.0.0",
        "Decrement the integer value of a key by one",
        decr,
    ),
    cmd(
        "incrby",
        3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "string",
        "1.0.0",
        "Increment the integer value of a key by the given amount",
        incrby,
    ),
    cmd(
        "decrby",
        3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "string",
        "1.0.0",
        "Decrement the integer value of a key by the given number",
        decrby,
    ),
    cmd(
        "incrbyfloat",
        3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "string",
        "2.6.0",
        "Increment the float value of a key by the given amount",
        incrbyfloat,
    ),
    cmd(
        "getrange",
        4,
        READONLY,
        (1, 1, 1),
        "string",
        "2.4.0",
        "Get a substring of the string stored at a key",
        getrange,
    ),
    cmd(
        "substr",
        4,
        READONLY,
        (1, 1, 1),
        "string",
        "1.0.0",
        "Get a substring of the string stored at a key",
        getrange,
    ),
    cmd(
        "setrange",
        4,
        WRITE | DENYOOM,
        (1, 1, 1),
        "string",
        "2.2.0",
        "Overwrite part of a string at key starting at the specified offset",
        setrange,
    ),
];

const TOO_BIG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

/// The string stored at `key`, `None` if absent, WRONGTYPE for other types.
pub fn read_string<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<Option<Cow<'a, [u8]>>, CmdError> {
    let db = ctx.db();
    match ctx.ks.get(db, key) {
        None => Ok(None),
        Some(v) => v.as_bytes().map(Some).ok_or(CmdError::WrongType),
    }
}

/// Checks a would-be string length against `proto-max-bulk-len`.
pub fn check_string_size(ctx: &Ctx, len: u64) -> CmdResult {
    if len > ctx.shared.config().int("proto-max-bulk-len") as u64 {
        return Err(CmdError::Msg(TOO_BIG.into()));
    }
    Ok(())
}

fn get(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    match ctx.ks.get(db, &args[1]) {
        None => ctx.out.null(),
        Some(Value::Str(s)) => ctx.out.bulk(s),
        Some(Value::Int(n)) => ctx.out.bulk_int(*n),
        #[allow(unreachable_patterns)]
        Some(_) => return Err(CmdError::WrongType),
    }
    Ok(())
}

/// When a key written by SET-like commands should expire.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Expiry {
    /// Drop any TTL.
    None,
    /// Keep the existing TTL (KEEPTTL).
    Keep,
    /// Expire at this Unix time in ms.
    At(i64),
    /// Remove the TTL (GETEX PERSIST).
    Persist,
}

/// Turns an EX/PX/EXAT/PXAT amount into an absolute ms time, with Redis's validation.
pub fn expire_time(
    ctx: &Ctx,
    amount: &[u8],
    unit_ms: i64,
    absolute: bool,
    cmd: &str,
) -> Result<i64, CmdError> {
    let invalid = || CmdError::err(format!("invalid expire time in '{cmd}' command"));
    let n = arg_i64(amount)?;
    if n <= 0 {
        return Err(invalid());
    }
    let ms = n.checked_mul(unit_ms).ok_or_else(invalid)?;
    if absolute {
        Ok(ms)
    } else {
        ctx.ks.now.checked_add(ms).ok_or_else(invalid)
    }
}

/// Parses EX/PX/EXAT/PXAT (and KEEPTTL / PERSIST where allowed) at `args[*i]`. Returns
/// `Ok(None)` when the argument is not an expiry option.
fn parse_expiry_opt(
    ctx: &Ctx,
    args: &[Bytes],
    i: &mut usize,
    cmd: &str,
    allow_keep: bool,
    allow_persist: bool,
) -> Result<Option<Expiry>, CmdError> {
    let a = &args[*i];
    let unit = if is_opt(a, "ex") {
        Some((1000, false))
    } else if is_opt(a, "px") {
        Some((1, false))
    } else if is_opt(a, "exat") {
        Some((1000, true))
    } else if is_opt(a, "pxat") {
        Some((1, true))
    } else {
        None
    };
    if let Some((unit_ms, absolute)) = unit {
        let Some(amount) = args.get(*i + 1) else {
            return Err(CmdError::Syntax);
        };
        *i += 1;
        return expire_time(ctx, amount, unit_ms, absolute, cmd).map(|at| Some(Expiry::At(at)));
    }
    if allow_keep && is_opt(a, "keepttl") {
        return Ok(Some(Expiry::Keep));
    }
    if allow_persist && is_opt(a, "persist") {
        return Ok(Some(Expiry::Persist));
    }
    Ok(None)
}

/// Writes a string value with an expiry, the shared tail of every SET variant.
pub fn store_string(ctx: &mut Ctx, key: &[u8], value: &[u8], expiry: Expiry) {
    let db = ctx.db();
    ctx.ks
        .set(db, key, Value::string(value), expiry == Expiry::Keep);
    if let Expiry::At(at) = expiry {
        ctx.ks.set_expire(db, key, at);
    }
    ctx.dirty(1);
}

fn set(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (mut nx, mut xx, mut want_get) = (false, false, false);
    let mut expiry = Expiry::None;
    let mut i = 3;
    while i < args.len() {
        let a = &args[i];
        if is_opt(a, "nx") && !xx {
            nx = true;
        } else if is_opt(a, "xx") && !nx {
            xx = true;
        } else if is_opt(a, "get") {
            want_get = true;
        } else if expiry == Expiry::None {
            match parse_expiry_opt(ctx, args, &mut i, "set", true, false) {
                Ok(Some(e)) => expiry = e,
                Ok(None) => return Err(CmdError::Syntax),
                // A missing amount or a second expiry option is a syntax error first.
                Err(e) => return Err(e),
            }
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    let key = &args[1];
    let old: Option<Vec<u8>> = if want_get {
        read_string(ctx, key)?.map(|v| v.into_owned())
    } else {
        None
    };
    let db = ctx.db();
    let exists = if want_get {
        old.is_some()
    } else {
        ctx.ks.exists(db, key)
    };
    if (nx && exists) || (xx && !exists) {
        if want_get {
            match old {
                Some(v) => ctx.out.bulk(&v),
                None => ctx.out.null(),
            }
        } else {
            ctx.out.null();
        }
        return Ok(());
    }
    store_string(ctx, key, &args[2], expiry);
    if want_get {
        match old {
            Some(v) => ctx.out.bulk(&v),
            None => ctx.out.null(),
        }
    } else {
        ctx.out.ok();
    }
    Ok(())
}

fn setnx(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    if ctx.ks.exists(db, &args[1]) {
        ctx.out.int(0);
    } else {
        store_string(ctx, &args[1], &args[2], Expiry::None);
        ctx.out.int(1);
    }
    Ok(())
}

fn setex_generic(ctx: &mut Ctx, args: &[Bytes], unit_ms: i64, name: &str) -> CmdResult {
    let at = expire_time(ctx, &args[2], unit_ms, false, name)?;
    store_string(ctx, &args[1], &args[3], Expiry::At(at));
    ctx.out.ok();
    Ok(())
}

fn setex(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    setex_generic(ctx, args, 1000, "setex")
}

fn psetex(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    setex_generic(ctx, args, 1, "psetex")
}

fn reply_opt(ctx: &mut Ctx, v: Option<Vec<u8>>) {
    match v {
        Some(v) => ctx.out.bulk(&v),
        None => ctx.out.null(),
    }
}

fn getset(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let old = read_string(ctx, &args[1])?.map(|v| v.into_owned());
    store_string(ctx, &args[1], &args[2], Expiry::None);
    reply_opt(ctx, old);
    Ok(())
}

fn getdel(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let old = read_string(ctx, &args[1])?.map(|v| v.into_owned());
    if old.is_some() {
        let db = ctx.db();
        ctx.ks.delete(db, &args[1]);
        ctx.dirty(1);
    }
    reply_opt(ctx, old);
    Ok(())
}

fn getex(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut expiry = None;
    let mut i = 2;
    while i < args.len() {
        match (
            expiry,
            parse_expiry_opt(ctx, args, &mut i, "getex", false, true)?,
        ) {
            (None, Some(e)) => expiry = Some(e),
            _ => return Err(CmdError::Syntax),
        }
        i += 1;
    }
    let Some(value) = read_string(ctx, &args[1])?.map(|v| v.into_owned()) else {
        ctx.out.null();
        return Ok(());
    };
    let db = ctx.db();
    match expiry {
        Some(Expiry::At(at)) if at <= ctx.ks.now && !ctx.ks.is_replica => {
            ctx.ks.delete(db, &args[1]);
            ctx.dirty(1);
        }
        Some(Expiry::At(at)) => {
            ctx.ks.set_expire(db, &args[1], at);
            ctx.dirty(1);
        }
        Some(Expiry::Persist) if ctx.ks.persist(db, &args[1]) => {
            ctx.dirty(1);
        }
        _ => {}
    }
    ctx.out.bulk(&value);
    Ok(())
}

fn mget(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    ctx.out.array(args.len() - 1);
    let db = ctx.db();
    for key in &args[1..] {
        match ctx.ks.get(db, key) {
            Some(Value::Str(s)) => ctx.out.bulk(s),
            Some(Value::Int(n)) => ctx.out.bulk_int(*n),
            #[allow(unreachable_patterns)]
            _ => ctx.out.null(),
        }
    }
    Ok(())
}

fn mset_generic(ctx: &mut Ctx, args: &[Bytes], nx: bool, name: &str) -> Result<bool, CmdError> {
    if args.len().is_multiple_of(2) {
        return Err(CmdError::Arity(name.into()));
    }
    let db = ctx.db();
    if nx && args[1..].chunks(2).any(|kv| ctx.ks.exists(db, &kv[0])) {
        return Ok(false);
    }
    for kv in args[1..].chunks(2) {
        store_string(ctx, &kv[0], &kv[1], Expiry::None);
    }
    Ok(true)
}

fn mset(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    mset_generic(ctx, args, false, "mset")?;
    ctx.out.ok();
    Ok(())
}

fn msetnx(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let done = mset_generic(ctx, args, true, "msetnx")?;
    ctx.out.int(done as i64);
    Ok(())
}

fn append(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let current = read_string(ctx, &args[1])?.map(|v| v.len());
    let new_len = match current {
        None => {
            ctx.ks.set(db, &args[1], Value::string(&args[2]), false);
            args[2].len()
        }
        Some(len) => {
            check_string_size(ctx, (len + args[2].len()) as u64)?;
            let Some(v) = ctx.ks.get_mut(db, &args[1]) else {
                return Err(CmdError::WrongType);
            };
            let mut bytes = v.as_bytes().map(|b| b.into_owned()).unwrap_or_default();
            bytes.extend_from_slice(&args[2]);
            let n = bytes.len();
            *v = Value::string_from_vec(bytes);
            n
        }
    };
    ctx.dirty(1);
    ctx.out.int(new_len as i64);
    Ok(())
}

fn strlen(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let n = read_string(ctx, &args[1])?.map_or(0, |v| v.len());
    ctx.out.int(n as i64);
    Ok(())
}

/// Adds `delta` to the integer at `key` (created as 0), Redis's `incrDecrCommand`.
fn incr_by(ctx: &mut Ctx, key: &[u8], delta: i64) -> CmdResult {
    let db = ctx.db();
    let current = match ctx.ks.get_mut(db, key) {
        None => 0,
        Some(Value::Int(n)) => *n,
        Some(v) => match v.as_bytes() {
            Some(b) => crate::num::parse_i64(&b).ok_or(CmdError::NotInteger)?,
            None => return Err(CmdError::WrongType),
        },
    };
    let new = current.checked_add(delta).ok_or(CmdError::Overflow)?;
    match ctx.ks.get_mut(db, key) {
        Some(v) => *v = Value::Int(new),
        None => ctx.ks.set(db, key, Value::Int(new), false),
    }
    ctx.dirty(1);
    ctx.out.int(new);
    Ok(())
}

fn incr(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    incr_by(ctx, &args[1], 1)
}

fn decr(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    incr_by(ctx, &args[1], -1)
}

fn incrby(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let delta = arg_i64(&args[2])?;
    incr_by(ctx, &args[1], delta)
}

fn decrby(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let delta = arg_i64(&args[2])?;
    if delta == i64::MIN {
        return Err(CmdError::err("decrement would overflow"));
    }
    incr_by(ctx, &args[1], -delta)
}

fn incrbyfloat(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let delta = arg_f64(&args[2])?;
    let current = match read_string(ctx, &args[1])? {
        None => 0.0,
        Some(b) => crate::num::parse_f64(&b).ok_or(CmdError::NotFloat)?,
    };
    let new = current + delta;
    if new.is_nan() || new.is_infinite() {
        return Err(CmdError::err("increment would produce NaN or Infinity"));
    }
    let text = format_human(new);
    store_string(ctx, &args[1], text.as_bytes(), Expiry::Keep);
    ctx.out.bulk(text.as_bytes());
    Ok(())
}

fn getrange(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let start = arg_i64(&args[2])?;
    let end = arg_i64(&args[3])?;
    let value = read_string(ctx, &args[1])?
        .map(|v| v.into_owned())
        .unwrap_or_default();
    let len = value.len() as i64;
    if start < 0 && end < 0 && start > end {
        ctx.out.bulk(b"");
        return Ok(());
    }
    let fix = |i: i64| if i < 0 { (len + i).max(0) } else { i };
    let (s, mut e) = (fix(start), fix(end));
    if e >= len {
        e = len - 1;
    }
    if s > e || len == 0 {
        ctx.out.bulk(b"");
    } else {
        ctx.out.bulk(&value[s as usize..=e as usize]);
    }
    Ok(())
}

fn setrange(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let offset = arg_i64(&args[2])?;
    if offset < 0 {
        return Err(CmdError::err("offset is out of range"));
    }
    let patch = &args[3];
    let current = read_string(ctx, &args[1])?.map(|v| v.into_owned());
    let Some(mut bytes) = current.or_else(|| (!patch.is_empty()).then(Vec::new)) else {
        ctx.out.int(0);
        return Ok(());
    };
    if patch.is_empty() {
        ctx.out.int(bytes.len() as i64);
        return Ok(());
    }
    let end = offset as u64 + patch.len() as u64;
    check_string_size(ctx, end)?;
    let end = end as usize;
    if bytes.len() < end {
        bytes.resize(end, 0);
    }
    bytes[offset as usize..end].copy_from_slice(patch);
    let n = bytes.len();
    store_string(ctx, &args[1], &bytes, Expiry::Keep);
    ctx.out.int(n as i64);
    Ok(())
}
