//! String commands (Redis's `t_string.c`): GET/SET and friends, counters, ranges.

use super::table::{cmd, flags::*, CommandSpec};
use super::{arg_i64, is_opt, CmdError, CmdResult, Ctx};
use crate::store::{CompactBytes, Value};
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
    cmd(
        "lcs",
        -3,
        READONLY,
        (1, 2, 1),
        "string",
        "7.0.0",
        "Find longest common substring",
        lcs,
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

/// The options of SET and GETEX, parsed exactly like Redis's
/// `parseExtendedStringArgumentsOrReply`: every option is checked for syntax first (repeating an
/// option is allowed, conflicting ones are a syntax error), amounts are validated afterwards.
#[derive(Default)]
struct StringOpts<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    /// EX/PX/EXAT/PXAT: (unit in ms, absolute, the amount argument).
    expire: Option<(i64, bool, &'a [u8])>,
}

fn parse_string_opts<'a>(
    args: &'a [Bytes],
    first: usize,
    is_set: bool,
) -> Result<StringOpts<'a>, CmdError> {
    let mut o = StringOpts::default();
    let mut j = first;
    while j < args.len() {
        let a = &args[j];
        let next = args.get(j + 1);
        let kind = |unit: i64, abs: bool| (unit, abs);
        let expire_opt = if is_opt(a, "ex") {
            Some(kind(1000, false))
        } else if is_opt(a, "px") {
            Some(kind(1, false))
        } else if is_opt(a, "exat") {
            Some(kind(1000, true))
        } else if is_opt(a, "pxat") {
            Some(kind(1, true))
        } else {
            None
        };
        if is_set && is_opt(a, "nx") && !o.xx {
            o.nx = true;
        } else if is_set && is_opt(a, "xx") && !o.nx {
            o.xx = true;
        } else if is_set && is_opt(a, "get") {
            o.get = true;
        } else if is_set && is_opt(a, "keepttl") && !o.persist && o.expire.is_none() {
            o.keepttl = true;
        } else if !is_set && is_opt(a, "persist") && o.expire.is_none() && !o.keepttl {
            o.persist = true;
        } else if let (Some((unit, abs)), Some(amount)) = (expire_opt, next) {
            // The same option may repeat (the last amount wins); a different one may not.
            let conflict =
                o.keepttl || o.persist || o.expire.is_some_and(|(u, b, _)| (u, b) != (unit, abs));
            if conflict {
                return Err(CmdError::Syntax);
            }
            o.expire = Some((unit, abs, amount));
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok(o)
}

/// Writes a string value with an expiry, the shared tail of every SET variant.
pub fn store_string(ctx: &mut Ctx, key: &[u8], value: &[u8], expiry: Expiry) {
    let db = ctx.db();
    ctx.ks
        .set(db, key, Value::string(value), expiry == Expiry::Keep);
    if let Expiry::At(at) = expiry {
        ctx.ks.set_expire(db, key, at);
    }
    ctx.wrote(b'$', "set", key);
    if let Expiry::At(_) = expiry {
        ctx.notify(b'g', "expire", key);
    }
}

fn set(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let o = parse_string_opts(args, 3, true)?;
    let expiry = match o.expire {
        Some((unit, abs, amount)) => Expiry::At(expire_time(ctx, amount, unit, abs, "set")?),
        None if o.keepttl => Expiry::Keep,
        None => Expiry::None,
    };
    let key = &args[1];
    let old: Option<Vec<u8>> = if o.get {
        read_string(ctx, key)?.map(|v| v.into_owned())
    } else {
        None
    };
    let db = ctx.db();
    // Only NX / XX need to know whether the key exists; a plain SET skips the lookup.
    let exists = if o.get {
        old.is_some()
    } else {
        (o.nx || o.xx) && ctx.ks.exists(db, key)
    };
    if (o.nx && exists) || (o.xx && !exists) {
        reply_opt(ctx, old);
        return Ok(());
    }
    store_string(ctx, key, &args[2], expiry);
    if o.get {
        reply_opt(ctx, old);
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
        ctx.wrote(b'g', "del", &args[1]);
    }
    reply_opt(ctx, old);
    Ok(())
}

fn getex(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let o = parse_string_opts(args, 2, false)?;
    let Some(value) = read_string(ctx, &args[1])?.map(|v| v.into_owned()) else {
        ctx.out.null();
        return Ok(());
    };
    let expiry = match o.expire {
        Some((unit, abs, amount)) => {
            Some(Expiry::At(expire_time(ctx, amount, unit, abs, "getex")?))
        }
        None if o.persist => Some(Expiry::Persist),
        None => None,
    };
    let db = ctx.db();
    match expiry {
        Some(Expiry::At(at)) if at <= ctx.ks.now && !ctx.ks.is_replica => {
            ctx.ks.delete(db, &args[1]);
            ctx.wrote(b'g', "del", &args[1]);
        }
        Some(Expiry::At(at)) => {
            ctx.ks.set_expire(db, &args[1], at);
            ctx.wrote(b'g', "expire", &args[1]);
        }
        Some(Expiry::Persist) if ctx.ks.persist(db, &args[1]) => {
            ctx.wrote(b'g', "persist", &args[1]);
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
            *v = Value::raw_string(&bytes);
            n
        }
    };
    ctx.wrote(b'$', "append", &args[1]);
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
    ctx.wrote(b'$', "incrby", key);
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
    let db = ctx.db();
    let current = match ctx.ks.get(db, &args[1]) {
        None => long_double::from_i64(0),
        Some(Value::Int(n)) => long_double::from_i64(*n),
        Some(v) => match v.as_bytes() {
            Some(b) => long_double::parse(&b).ok_or(CmdError::NotFloat)?,
            None => return Err(CmdError::WrongType),
        },
    };
    let delta = long_double::parse(&args[2]).ok_or(CmdError::NotFloat)?;
    let new = match long_double::add(current, delta) {
        Some(v @ long_double::Ld::Finite { .. }) => v,
        _ => return Err(CmdError::err("increment would produce NaN or Infinity")),
    };
    let text = long_double::format_human(new);
    // Redis stores the printed text as a plain string object, never int-encoded.
    ctx.ks.set(
        db,
        &args[1],
        Value::Str(CompactBytes::new(text.as_bytes())),
        true,
    );
    ctx.wrote(b'$', "incrbyfloat", &args[1]);
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
    let db = ctx.db();
    ctx.ks.set(db, &args[1], Value::raw_string(&bytes), true);
    ctx.wrote(b'$', "setrange", &args[1]);
    ctx.out.int(n as i64);
    Ok(())
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN] (Redis 7.0's `lcsCommand`, same
/// dynamic-programming table, same backward walk, so ranges come out in the same order).
fn lcs(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let not_strings = || CmdError::err("The specified keys must contain string values");
    let a = read_string(ctx, &args[1])
        .map_err(|_| not_strings())?
        .map(|v| v.into_owned());
    let b = read_string(ctx, &args[2])
        .map_err(|_| not_strings())?
        .map(|v| v.into_owned());
    let (a, b) = (a.unwrap_or_default(), b.unwrap_or_default());
    let (mut getlen, mut getidx, mut withmatchlen, mut minmatchlen) = (false, false, false, 0i64);
    let mut j = 3;
    while j < args.len() {
        let opt = &args[j];
        if is_opt(opt, "idx") {
            getidx = true;
        } else if is_opt(opt, "len") {
            getlen = true;
        } else if is_opt(opt, "withmatchlen") {
            withmatchlen = true;
        } else if is_opt(opt, "minmatchlen") && j + 1 < args.len() {
            minmatchlen = arg_i64(&args[j + 1])?.max(0);
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    if getidx && getlen {
        return Err(CmdError::err(
            "If you want both the length and indexes, please just use IDX.",
        ));
    }
    if a.len() as u64 >= u32::MAX as u64 - 1 || b.len() as u64 >= u32::MAX as u64 - 1 {
        return Err(CmdError::err("String too long for LCS"));
    }
    let (alen, blen) = (a.len(), b.len());
    let too_big = || {
        CmdError::err("Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
    };
    let cells = (alen + 1).checked_mul(blen + 1).ok_or_else(too_big)?;
    let limit = ctx.shared.config().int("proto-max-bulk-len").max(0) as u64;
    if (cells as u64).saturating_mul(4) > limit {
        return Err(too_big());
    }
    let mut dp: Vec<u32> = Vec::new();
    dp.try_reserve_exact(cells).map_err(|_| too_big())?;
    dp.resize(cells, 0);
    let at = |i: usize, j: usize| j + i * (blen + 1);
    for i in 1..=alen {
        for j in 1..=blen {
            dp[at(i, j)] = if a[i - 1] == b[j - 1] {
                dp[at(i - 1, j - 1)] + 1
            } else {
                dp[at(i - 1, j)].max(dp[at(i, j - 1)])
            };
        }
    }
    let total = dp[at(alen, blen)] as usize;
    let compute = getidx || !getlen;
    let mut result = vec![0u8; if compute { total } else { 0 }];
    // Ranges as (a_start, a_end, b_start, b_end); `None` while no range is open.
    let mut ranges: Vec<(usize, usize, usize, usize)> = Vec::new();
    let mut open: Option<(usize, usize, usize, usize)> = None;
    let (mut i, mut j, mut idx) = (alen, blen, total);
    while compute && i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            result[idx - 1] = a[i - 1];
            open = match open {
                None => Some((i - 1, i - 1, j - 1, j - 1)),
                Some((as_, ae, bs, be)) if as_ == i && bs == j => Some((as_ - 1, ae, bs - 1, be)),
                Some(r) => {
                    emit = true;
                    Some(r)
                }
            };
            if let Some((as_, _, bs, _)) = open {
                if as_ == 0 || bs == 0 {
                    emit = true;
                }
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if dp[at(i - 1, j)] > dp[at(i, j - 1)] {
                i -= 1;
            } else {
                j -= 1;
            }
            if open.is_some() {
                emit = true;
            }
        }
        if emit {
            if let Some(r) = open.take() {
                let match_len = (r.1 - r.0 + 1) as i64;
                if minmatchlen == 0 || match_len >= minmatchlen {
                    ranges.push(r);
                }
            }
        }
    }
    if getidx {
        let out = &mut *ctx.out;
        out.map(2);
        out.bulk(b"matches");
        out.array(ranges.len());
        for (as_, ae, bs, be) in ranges {
            out.array(2 + withmatchlen as usize);
            out.array(2);
            out.int(as_ as i64);
            out.int(ae as i64);
            out.array(2);
            out.int(bs as i64);
            out.int(be as i64);
            if withmatchlen {
                out.int((ae - as_ + 1) as i64);
            }
        }
        out.bulk(b"len");
        out.int(total as i64);
    } else if getlen {
        ctx.out.int(total as i64);
    } else {
        ctx.out.bulk(&result);
    }
    Ok(())
}

/// Software x87 80-bit `long double` (64-bit significand, round to nearest even), just enough
/// of it for INCRBYFLOAT to reproduce Redis exactly: `strtold` parsing, one addition, and
/// `%.17Lf` printing with Redis's trailing-zero trimming. Arithmetic is exact on big integers,
/// then rounded once, which is what the hardware does.
pub(crate) mod long_double {
    /// Little-endian base-2^32 unsigned big integer.
    #[derive(Clone, Debug, PartialEq, Eq)]
    struct Big(Vec<u32>);

    impl Big {
        fn from_u128(mut v: u128) -> Big {
            let mut limbs = Vec::new();
            while v != 0 {
                limbs.push(v as u32);
                v >>= 32;
            }
            Big(limbs)
        }
        fn trim(mut self) -> Big {
            while self.0.last() == Some(&0) {
                self.0.pop();
            }
            self
        }
        fn is_zero(&self) -> bool {
            self.0.iter().all(|&l| l == 0)
        }
        fn bitlen(&self) -> u64 {
            match self.0.iter().rposition(|&l| l != 0) {
                None => 0,
                Some(i) => i as u64 * 32 + (32 - self.0[i].leading_zeros() as u64),
            }
        }
        fn bit(&self, i: u64) -> bool {
            self.0
                .get((i / 32) as usize)
                .is_some_and(|l| (l >> (i % 32)) & 1 == 1)
        }
        /// True if any bit below position `i` is set.
        fn any_below(&self, i: u64) -> bool {
            let whole = (i / 32) as usize;
            if self.0.iter().take(whole).any(|&l| l != 0) {
                return true;
            }
            let rest = i % 32;
            rest > 0
                && self
                    .0
                    .get(whole)
                    .is_some_and(|&l| l & ((1u32 << rest) - 1) != 0)
        }
        fn mul_add_small(&mut self, mul: u32, add: u32) {
            let mut carry = add as u64;
            for l in self.0.iter_mut() {
                let v = *l as u64 * mul as u64 + carry;
                *l = v as u32;
                carry = v >> 32;
            }
            if carry != 0 {
                self.0.push(carry as u32);
            }
        }
        fn shl(&self, bits: u64) -> Big {
            let (words, rest) = ((bits / 32) as usize, bits % 32);
            let mut out = vec![0u32; words];
            let mut carry = 0u32;
            for &l in &self.0 {
                if rest == 0 {
                    out.push(l);
                } else {
                    out.push((l << rest) | carry);
                    carry = l >> (32 - rest);
                }
            }
            if carry != 0 {
                out.push(carry);
            }
            Big(out).trim()
        }
        /// The bits from position `from` upwards (at most 128 of them are kept).
        fn bits_from(&self, from: u64) -> u128 {
            let mut v = 0u128;
            for i in (from..self.bitlen()).rev().take(128) {
                v = (v << 1) | self.bit(i) as u128;
            }
            v
        }
        fn cmp(&self, o: &Big) -> std::cmp::Ordering {
            let (a, b) = (self.clone().trim(), o.clone().trim());
            a.0.len()
                .cmp(&b.0.len())
                .then_with(|| a.0.iter().rev().cmp(b.0.iter().rev()))
        }
        /// `self - o`, requires `self >= o`.
        fn sub(&self, o: &Big) -> Big {
            let mut out = self.0.clone();
            let mut borrow = 0i64;
            for (i, l) in out.iter_mut().enumerate() {
                let v = *l as i64 - o.0.get(i).copied().unwrap_or(0) as i64 - borrow;
                borrow = (v < 0) as i64;
                *l = v.rem_euclid(1 << 32) as u32;
            }
            Big(out).trim()
        }
        fn add(&self, o: &Big) -> Big {
            let n = self.0.len().max(o.0.len());
            let mut out = Vec::with_capacity(n + 1);
            let mut carry = 0u64;
            for i in 0..n {
                let v = self.0.get(i).copied().unwrap_or(0) as u64
                    + o.0.get(i).copied().unwrap_or(0) as u64
                    + carry;
                out.push(v as u32);
                carry = v >> 32;
            }
            out.push(carry as u32);
            Big(out).trim()
        }
        fn pow10(n: u32) -> Big {
            let mut b = Big(vec![1]);
            for _ in 0..n / 9 {
                b.mul_add_small(1_000_000_000, 0);
            }
            for _ in 0..n % 9 {
                b.mul_add_small(10, 0);
            }
            b
        }
        fn to_decimal(&self) -> String {
            let mut limbs = self.clone().trim().0;
            let mut chunks = Vec::new();
            while !limbs.is_empty() {
                let mut rem = 0u64;
                for l in limbs.iter_mut().rev() {
                    let cur = (rem << 32) | *l as u64;
                    *l = (cur / 1_000_000_000) as u32;
                    rem = cur % 1_000_000_000;
                }
                chunks.push(rem as u32);
                while limbs.last() == Some(&0) {
                    limbs.pop();
                }
            }
            let mut s = chunks.pop().map_or("0".to_string(), |c| c.to_string());
            for c in chunks.iter().rev() {
                s.push_str(&format!("{c:09}"));
            }
            s
        }
    }

    /// A finite value `(-1)^neg * m * 2^e` (m = 0 for zero), or an infinity.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub enum Ld {
        Finite { neg: bool, m: u64, e: i64 },
        Inf { neg: bool },
    }

    /// Exponent of the leading bit of the largest finite value, and of the smallest normal one.
    const MAX_EXP: i64 = 16383;
    const MIN_EXP: i64 = -16382;

    /// Rounds `n * 2^e` (plus a sticky "something nonzero below" flag) to 64 significant bits.
    /// `None` on underflow below the normal range.
    fn round(neg: bool, n: &Big, e: i64, sticky: bool) -> Option<Ld> {
        let len = n.bitlen() as i64;
        if len == 0 {
            return Some(Ld::Finite { neg, m: 0, e: 0 });
        }
        let (mut m, mut e) = if len <= 64 {
            ((n.bits_from(0) as u64) << (64 - len), e - (64 - len))
        } else {
            let shift = (len - 64) as u64;
            let mut m = n.bits_from(shift) as u64;
            let half = n.bit(shift - 1);
            let below = sticky || n.any_below(shift - 1);
            let mut e = e + shift as i64;
            if half && (below || m & 1 == 1) {
                m = m.wrapping_add(1);
                if m == 0 {
                    m = 1 << 63;
                    e += 1;
                }
            }
            (m, e)
        };
        if e + 63 > MAX_EXP {
            return Some(Ld::Inf { neg });
        }
        if e + 63 < MIN_EXP {
            return None;
        }
        if m == 0 {
            (m, e) = (0, 0);
        }
        Some(Ld::Finite { neg, m, e })
    }

    /// `strtold` as Redis's `string2ld` uses it: the whole text must parse, no leading space,
    /// NaN and out-of-range (overflow, or underflow to zero) refused.
    pub fn parse(s: &[u8]) -> Option<Ld> {
        if s.is_empty() || s.len() >= 5 * 1024 || s[0].is_ascii_whitespace() || s[0] == 0x0b {
            return None;
        }
        let (neg, body) = match s[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let lower = body.to_ascii_lowercase();
        if lower == b"inf" || lower == b"infinity" {
            return Some(Ld::Inf { neg });
        }
        if lower.len() > 2 && lower.starts_with(b"0x") {
            return parse_hex(neg, &lower[2..]);
        }
        parse_dec(neg, body)
    }

    fn parse_dec(neg: bool, s: &[u8]) -> Option<Ld> {
        let mut digits = Big(Vec::new());
        let (mut ndigits, mut sig_digits, mut exp10) = (0usize, 0i64, 0i64);
        let mut i = 0;
        let mut seen_point = false;
        while i < s.len() {
            match s[i] {
                c @ b'0'..=b'9' => {
                    ndigits += 1;
                    if c != b'0' || sig_digits > 0 {
                        sig_digits += 1;
                    }
                    digits.mul_add_small(10, (c - b'0') as u32);
                    if seen_point {
                        exp10 -= 1;
                    }
                }
                b'.' if !seen_point => seen_point = true,
                _ => break,
            }
            i += 1;
        }
        if ndigits == 0 {
            return None;
        }
        if i < s.len() {
            if s[i] != b'e' && s[i] != b'E' {
                return None;
            }
            let rest = &s[i + 1..];
            let (eneg, edigits) = match rest.first() {
                Some(b'-') => (true, &rest[1..]),
                Some(b'+') => (false, &rest[1..]),
                _ => (false, rest),
            };
            if edigits.is_empty() || !edigits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let mut e: i64 = 0;
            for &d in edigits {
                e = (e * 10 + (d - b'0') as i64).min(1 << 40);
            }
            exp10 += if eneg { -e } else { e };
        }
        if digits.is_zero() {
            return Some(Ld::Finite { neg, m: 0, e: 0 });
        }
        // Magnitude in decimal: between 10^(mag-1) and 10^mag.
        let mag = sig_digits + exp10;
        if mag > 4934 {
            return None;
        }
        if mag < -4952 {
            return None;
        }
        let r = if exp10 >= 0 {
            let n = digits.clone();
            let mut n = n;
            let p = Big::pow10(exp10 as u32);
            n = mul(&n, &p);
            round(neg, &n, 0, false)
        } else {
            let p = Big::pow10((-exp10) as u32);
            let k = (p.bitlen() as i64 - digits.bitlen() as i64 + 68).max(0) as u64;
            let num = digits.shl(k);
            let (q, rem_nonzero) = div_small_quotient(&num, &p);
            round(neg, &Big::from_u128(q), -(k as i64), rem_nonzero)
        };
        match r {
            Some(Ld::Inf { .. }) | None => None,
            v => v,
        }
    }

    fn parse_hex(neg: bool, s: &[u8]) -> Option<Ld> {
        let mut n = Big(Vec::new());
        let (mut ndigits, mut exp2, mut seen_point, mut i) = (0, 0i64, false, 0);
        while i < s.len() {
            match s[i] {
                c @ (b'0'..=b'9' | b'a'..=b'f') => {
                    let d = if c <= b'9' { c - b'0' } else { c - b'a' + 10 };
                    n.mul_add_small(16, d as u32);
                    ndigits += 1;
                    if seen_point {
                        exp2 -= 4;
                    }
                }
                b'.' if !seen_point => seen_point = true,
                _ => break,
            }
            i += 1;
        }
        if ndigits == 0 {
            return None;
        }
        if i < s.len() {
            if s[i] != b'p' {
                return None;
            }
            let rest = &s[i + 1..];
            let (eneg, edigits) = match rest.first() {
                Some(b'-') => (true, &rest[1..]),
                Some(b'+') => (false, &rest[1..]),
                _ => (false, rest),
            };
            if edigits.is_empty() || !edigits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let mut e: i64 = 0;
            for &d in edigits {
                e = (e * 10 + (d - b'0') as i64).min(1 << 40);
            }
            exp2 += if eneg { -e } else { e };
        }
        match round(neg, &n, exp2, false) {
            Some(Ld::Inf { .. }) | None if !n.is_zero() => None,
            v => v,
        }
    }

    fn mul(a: &Big, b: &Big) -> Big {
        let mut out = vec![0u32; a.0.len() + b.0.len() + 1];
        for (i, &x) in a.0.iter().enumerate() {
            let mut carry = 0u64;
            for (j, &y) in b.0.iter().enumerate() {
                let v = out[i + j] as u64 + x as u64 * y as u64 + carry;
                out[i + j] = v as u32;
                carry = v >> 32;
            }
            let mut k = i + b.0.len();
            while carry != 0 {
                let v = out[k] as u64 + carry;
                out[k] = v as u32;
                carry = v >> 32;
                k += 1;
            }
        }
        Big(out).trim()
    }

    /// `num / p` when the quotient fits in 128 bits, and whether a remainder is left.
    fn div_small_quotient(num: &Big, p: &Big) -> (u128, bool) {
        let top = num.bitlen().saturating_sub(p.bitlen());
        let mut rem = num.clone();
        let mut q = 0u128;
        for bit in (0..=top.min(127)).rev() {
            let t = p.shl(bit);
            if rem.cmp(&t) != std::cmp::Ordering::Less {
                rem = rem.sub(&t);
                q |= 1u128 << bit;
            }
        }
        (q, !rem.is_zero())
    }

    /// An exact integer as a long double (every i64 fits in 64 significant bits).
    pub fn from_i64(v: i64) -> Ld {
        let neg = v < 0;
        let n = Big::from_u128(v.unsigned_abs() as u128);
        round(neg, &n, 0, false).unwrap_or(Ld::Finite { neg, m: 0, e: 0 })
    }

    /// `a + b`, rounded once; `None` for NaN (inf - inf).
    pub fn add(a: Ld, b: Ld) -> Option<Ld> {
        let (an, am, ae, bn, bm, be) = match (a, b) {
            (Ld::Inf { neg: x }, Ld::Inf { neg: y }) if x != y => return None,
            (Ld::Inf { neg }, _) | (_, Ld::Inf { neg }) => return Some(Ld::Inf { neg }),
            (
                Ld::Finite {
                    neg: an,
                    m: am,
                    e: ae,
                },
                Ld::Finite {
                    neg: bn,
                    m: bm,
                    e: be,
                },
            ) => (an, am, ae, bn, bm, be),
        };
        if am == 0 {
            return Some(if bm == 0 {
                Ld::Finite {
                    neg: an && bn,
                    m: 0,
                    e: 0,
                }
            } else {
                b
            });
        }
        if bm == 0 {
            return Some(a);
        }
        let base = ae.min(be);
        let x = Big::from_u128(am as u128).shl((ae - base) as u64);
        let y = Big::from_u128(bm as u128).shl((be - base) as u64);
        let (neg, n) = if an == bn {
            (an, x.add(&y))
        } else {
            match x.cmp(&y) {
                std::cmp::Ordering::Less => (bn, y.sub(&x)),
                std::cmp::Ordering::Greater => (an, x.sub(&y)),
                std::cmp::Ordering::Equal => {
                    return Some(Ld::Finite {
                        neg: false,
                        m: 0,
                        e: 0,
                    })
                }
            }
        };
        Some(round(neg, &n, base, false).unwrap_or(Ld::Finite { neg, m: 0, e: 0 }))
    }

    /// `%.17Lf`, then Redis's `ld2string(LD_STR_HUMAN)` trimming of trailing zeros and `-0`.
    pub fn format_human(v: Ld) -> String {
        let (neg, m, e) = match v {
            Ld::Inf { neg } => return if neg { "-inf".into() } else { "inf".into() },
            Ld::Finite { neg, m, e } => (neg, m, e),
        };
        let scaled = mul(&Big::from_u128(m as u128), &Big::pow10(17));
        let n = if e >= 0 {
            scaled.shl(e as u64)
        } else {
            let s = (-e) as u64;
            let mut q = Big(Vec::new());
            if scaled.bitlen() > s {
                // q = scaled >> s
                let words = (s / 32) as usize;
                let rest = s % 32;
                let mut out = Vec::new();
                for i in words..scaled.0.len() {
                    let lo = scaled.0[i] as u64;
                    let hi = scaled.0.get(i + 1).copied().unwrap_or(0) as u64;
                    out.push((((hi << 32) | lo) >> rest) as u32);
                }
                q = Big(out).trim();
            }
            let half = scaled.bit(s - 1);
            let below = scaled.any_below(s - 1);
            let odd = q.bit(0);
            if half && (below || odd) {
                q = q.add(&Big(vec![1]));
            }
            q
        };
        let digits = n.to_decimal();
        let digits = if digits.len() < 18 {
            format!("{}{}", "0".repeat(18 - digits.len()), digits)
        } else {
            digits
        };
        let (int, frac) = digits.split_at(digits.len() - 17);
        let mut s = format!("{}{int}.{frac}", if neg { "-" } else { "" });
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
        if s == "-0" {
            s = "0".into();
        }
        s
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn incr(a: &str, b: &str) -> String {
            let x = parse(a.as_bytes()).unwrap();
            let y = parse(b.as_bytes()).unwrap();
            format_human(add(x, y).unwrap())
        }

        #[test]
        fn matches_redis_long_double_results() {
            assert_eq!(incr("10.5", "0.1"), "10.6");
            assert_eq!(incr("5.0e3", "2.0e2"), "5200");
            assert_eq!(incr("0.1", "0.2"), "0.3");
            assert_eq!(incr("0", "1e-20"), "0");
            assert_eq!(incr("0", "123456789012345678"), "123456789012345678");
            assert_eq!(
                incr("3.00001", "1.23456789012345678"),
                "4.23457789012345678"
            );
            assert_eq!(incr("1", "0x10"), "17");
            assert_eq!(incr("-0.5", "0.25"), "-0.25");
            assert_eq!(incr("1.5", "-1.5"), "0");
            assert!(parse(b"nan").is_none());
            assert!(parse(b" 1").is_none());
            assert!(parse(b"1e").is_none());
            assert!(parse(b"1e-6000").is_none());
            assert!(parse(b"1e6000").is_none());
            assert_eq!(
                parse(b"0e6000"),
                Some(Ld::Finite {
                    neg: false,
                    m: 0,
                    e: 0
                })
            );
            assert_eq!(parse(b"inf"), Some(Ld::Inf { neg: false }));
        }
    }
}
