//! Hash commands (Redis's t_hash.c): HSET and friends, counters, HRANDFIELD, HSCAN.

use super::keys::parse_cursor;
use super::table::{cmd, flags::*, CommandSpec, MemberArg};
use super::{arg_i64, is_opt, CmdError, CmdResult, Ctx};
use crate::store::glob::glob_match;
use crate::store::{Hash, Keyspace, Value};
use bytes::Bytes;
use rand::seq::SliceRandom;
use rand::Rng;

/// The commands of this family.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "hset",
        -4,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "hash",
        "2.0.0",
        "Set the string value of a hash field",
        hset,
    )
    .member(MemberArg::At(2)),
    cmd(
        "hsetnx",
        4,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "hash",
        "2.0.0",
        "Set the value of a hash field, only if the field does not exist",
        hsetnx,
    )
    .member(MemberArg::At(2)),
    cmd(
        "hget",
        3,
        READONLY | FAST,
        (1, 1, 1),
        "hash",
        "2.0.0",
        "Get the value of a hash field",
        hget,
    )
    .member(MemberArg::At(2)),
    cmd(
        "hmget",
        -3,
        READONLY | FAST,
        (1, 1, 1),
        "hash",
        "2.0.0",
        "Get the values of all the given hash fields",
        hmget,
    )
    .member(MemberArg::At(2)),
    cmd(
        "hmset",
        -4,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "hash",
        "2.0.0",
        "Set multiple hash fields to multiple values",
        hmset,
    )
    .member(MemberArg::At(2)),
    cmd(
        "hdel",
        -3,
        WRITE | FAST,
        (1, 1, 1),
        "hash",
        "2.0.0",
        "Delete one or more hash fields",
        hdel,
    )
    .member(MemberArg::At(2)),
    cmd(
        "hlen",
        2,
        READONLY | FAST,
        (1, 1, 1),
        "hash",
        "2.0.0",
        "Get the number of fields in a hash",
        hlen,
    ),
    cmd(
        "hstrlen",
        3,
        READONLY | FAST,
        (1, 1, 1),
        "hash",
        "3.2.0",
        "Get the length of the value of a hash field",
        hstrlen,
    )
    .member(MemberArg::At(2)),
    cmd(
        "hexists",
        3,
        READONLY | FAST,
        (1, 1, 1),
        "hash",
        "2.0.0",
        "Determine if a hash field exists",
        hexists,
    )
    .member(MemberArg::At(2)),
    cmd(
        "hkeys",
        2,
        READONLY,
        (1, 1, 1),
        "hash",
        "2.0.0",
        "Get all the fields in a hash",
        hkeys,
    ),
    cmd(
        "hvals",
        2,
        READONLY,
        (1, 1, 1),
        "hash",
        "2.0.0",
        "Get all the values in a hash",
        hvals,
    ),
    cmd(
        "hgetall",
        2,
        READONLY,
        (1, 1, 1),
        "hash",
        "2.0.0",
        "Get all the fields and values in a hash",
        hgetall,
    ),
    cmd(
        "hincrby",
        4,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "hash",
        "2.0.0",
        "Increment the integer value of a hash field by the given number",
        hincrby,
    )
    .member(MemberArg::At(2)),
    cmd(
        "hincrbyfloat",
        4,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "hash",
        "2.6.0",
        "Increment the float value of a hash field by the given amount",
        hincrbyfloat,
    )
    .member(MemberArg::At(2)),
    cmd(
        "hrandfield",
        -2,
        READONLY,
        (1, 1, 1),
        "hash",
        "6.2.0",
        "Get one or multiple random fields from a hash",
        hrandfield,
    ),
    cmd(
        "hscan",
        -3,
        READONLY,
        (1, 1, 1),
        "hash",
        "2.8.0",
        "Incrementally iterate hash fields and associated values",
        hscan,
    ),
];

/// The hash at `key` for reading (counts a hit or miss), `None` if absent, WRONGTYPE otherwise.
fn read_hash<'a>(
    ks: &'a mut Keyspace,
    db: usize,
    key: &[u8],
) -> Result<Option<&'a Hash>, CmdError> {
    match ks.get(db, key) {
        None => Ok(None),
        Some(Value::Hash(h)) => Ok(Some(h)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// The hash at `key` for modification, `None` if absent, WRONGTYPE otherwise.
fn write_hash<'a>(
    ks: &'a mut Keyspace,
    db: usize,
    key: &[u8],
) -> Result<Option<&'a mut Box<Hash>>, CmdError> {
    match ks.get_mut(db, key) {
        None => Ok(None),
        Some(Value::Hash(h)) => Ok(Some(h)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// Sets the pairs of `flat` in the hash at `key`, creating it; returns the number of new fields.
fn set_pairs(ctx: &mut Ctx, key: &[u8], flat: &[Bytes]) -> Result<usize, CmdError> {
    let db = ctx.db();
    let limits = ctx.limits();
    let created = match write_hash(ctx.ks, db, key)? {
        Some(h) => h.set_pairs(flat, &limits),
        None => {
            let h = Hash::from_pairs(flat, &limits);
            let n = h.len();
            ctx.ks.set(db, key, Value::Hash(h), false);
            n
        }
    };
    ctx.wrote(b'h', "hset", key);
    ctx.dirty((flat.len() / 2) as u64 - 1);
    Ok(created)
}

fn hset(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if args.len() % 2 == 1 {
        return Err(CmdError::Arity("hset".into()));
    }
    let created = set_pairs(ctx, &args[1], &args[2..])?;
    ctx.out.int(created as i64);
    Ok(())
}

fn hmset(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if args.len() % 2 == 1 {
        return Err(CmdError::Arity("hmset".into()));
    }
    set_pairs(ctx, &args[1], &args[2..])?;
    ctx.out.ok();
    Ok(())
}

fn hsetnx(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let limits = ctx.limits();
    let (key, field, value) = (&args[1], &args[2], &args[3]);
    match write_hash(ctx.ks, db, key)? {
        Some(h) if h.contains(field) => {
            ctx.out.int(0);
            return Ok(());
        }
        Some(h) => {
            h.set(field, value, &limits);
        }
        None => {
            let h = Hash::from_pairs(&args[2..4], &limits);
            ctx.ks.set(db, key, Value::Hash(h), false);
        }
    }
    ctx.wrote(b'h', "hset", key);
    ctx.out.int(1);
    Ok(())
}

fn hget(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    match read_hash(ctx.ks, db, &args[1])?.and_then(|h| h.get(&args[2])) {
        Some(v) => ctx.out.bulk(v),
        None => ctx.out.null(),
    }
    Ok(())
}

fn hmget(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let h = read_hash(ctx.ks, db, &args[1])?;
    ctx.out.array(args.len() - 2);
    for f in &args[2..] {
        match h.and_then(|h| h.get(f)) {
            Some(v) => ctx.out.bulk(v),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

fn hdel(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let key = &args[1];
    let (deleted, emptied) = match write_hash(ctx.ks, db, key)? {
        None => (0, false),
        Some(h) => {
            let n = h.remove_fields(&args[2..]);
            (n, h.is_empty())
        }
    };
    if deleted > 0 {
        if emptied {
            ctx.ks.delete(db, key);
        }
        ctx.wrote(b'h', "hdel", key);
        if emptied {
            ctx.notify(b'g', "del", key);
        }
        ctx.dirty(deleted as u64 - 1);
    }
    ctx.out.int(deleted as i64);
    Ok(())
}

fn hlen(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let n = read_hash(ctx.ks, db, &args[1])?.map_or(0, |h| h.len());
    ctx.out.int(n as i64);
    Ok(())
}

fn hstrlen(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let n = read_hash(ctx.ks, db, &args[1])?
        .and_then(|h| h.get(&args[2]))
        .map_or(0, |v| v.len());
    ctx.out.int(n as i64);
    Ok(())
}

fn hexists(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let found = read_hash(ctx.ks, db, &args[1])?.is_some_and(|h| h.contains(&args[2]));
    ctx.out.int(found as i64);
    Ok(())
}

/// HKEYS, HVALS, HGETALL (Redis's `genericHgetallCommand`).
fn getall(ctx: &mut Ctx, args: &[Bytes], keys: bool, values: bool) -> CmdResult {
    let db = ctx.db();
    let out = &mut *ctx.out;
    let Some(h) = read_hash(ctx.ks, db, &args[1])? else {
        if keys && values {
            out.map(0);
        } else {
            out.array(0);
        }
        return Ok(());
    };
    if keys && values {
        out.map(h.len());
    } else {
        out.array(h.len());
    }
    for (f, v) in h.iter() {
        if keys {
            out.bulk(f);
        }
        if values {
            out.bulk(v);
        }
    }
    Ok(())
}

fn hkeys(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    getall(ctx, args, true, false)
}

fn hvals(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    getall(ctx, args, false, true)
}

fn hgetall(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    getall(ctx, args, true, true)
}

/// Stores `value` under `field` of the hash at `key` (created when missing).
fn store_field(ctx: &mut Ctx, key: &[u8], field: &[u8], value: &[u8]) -> CmdResult {
    let db = ctx.db();
    let limits = ctx.limits();
    match write_hash(ctx.ks, db, key)? {
        Some(h) => {
            h.set(field, value, &limits);
        }
        None => {
            let h = Hash::from_pairs(&[field, value], &limits);
            ctx.ks.set(db, key, Value::Hash(h), false);
        }
    }
    Ok(())
}

fn hincrby(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let incr = arg_i64(&args[3])?;
    let db = ctx.db();
    let (key, field) = (&args[1], &args[2]);
    let current = match write_hash(ctx.ks, db, key)?.and_then(|h| h.get(field)) {
        None => 0,
        Some(v) => {
            crate::num::parse_i64(v).ok_or_else(|| CmdError::err("hash value is not an integer"))?
        }
    };
    let new = current.checked_add(incr).ok_or(CmdError::Overflow)?;
    store_field(ctx, key, field, new.to_string().as_bytes())?;
    ctx.wrote(b'h', "hincrby", key);
    ctx.out.int(new);
    Ok(())
}

fn hincrbyfloat(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let incr = float::parse(&args[3]).ok_or(CmdError::NotFloat)?;
    if !float::is_finite(&incr) {
        return Err(CmdError::err("value is NaN or Infinity"));
    }
    let db = ctx.db();
    let (key, field) = (&args[1], &args[2]);
    let current = match write_hash(ctx.ks, db, key)?.and_then(|h| h.get(field)) {
        None => float::zero(),
        Some(v) => float::parse(v).ok_or_else(|| CmdError::err("hash value is not a float"))?,
    };
    let text = float::add(current, incr)
        .filter(float::is_finite)
        .map(float::format)
        .ok_or_else(|| CmdError::err("increment would produce NaN or Infinity"))?;
    store_field(ctx, key, field, text.as_bytes())?;
    ctx.wrote(b'h', "hincrbyfloat", key);
    ctx.out.bulk(text.as_bytes());
    Ok(())
}

/// HINCRBYFLOAT arithmetic: Redis computes in `long double` (parsed with `strtold`, printed
/// with `%.17Lf` and trimmed), exactly as INCRBYFLOAT does, so this is the software model of
/// that in strings.rs.
mod float {
    use crate::commands::strings::long_double::{self, Ld};

    pub type F = Ld;

    pub fn parse(s: &[u8]) -> Option<F> {
        long_double::parse(s)
    }

    pub fn zero() -> F {
        long_double::from_i64(0)
    }

    pub fn add(a: F, b: F) -> Option<F> {
        long_double::add(a, b)
    }

    pub fn is_finite(v: &F) -> bool {
        matches!(v, Ld::Finite { .. })
    }

    pub fn format(v: F) -> String {
        long_double::format_human(v)
    }
}

/// Largest reply HRANDFIELD builds: Redis streams any count it is given (a huge negative count
/// exhausts its memory); past this many elements we answer "value is out of range" instead.
const MAX_RANDOM_REPLY: u64 = 1 << 24;

fn hrandfield(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    if args.len() == 2 {
        let mut rng = rand::thread_rng();
        match read_hash(ctx.ks, db, &args[1])?.and_then(|h| h.random(&mut rng)) {
            Some((f, _)) => ctx.out.bulk(f),
            None => ctx.out.null(),
        }
        return Ok(());
    }
    let l = arg_i64(&args[2])?;
    if l == i64::MIN {
        return Err(CmdError::err(
            "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ));
    }
    let withvalues = match args.get(3) {
        None => false,
        Some(a) if args.len() == 4 && is_opt(a, "withvalues") => true,
        Some(_) => return Err(CmdError::Syntax),
    };
    if withvalues && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
        return Err(CmdError::err("value is out of range"));
    }
    let out = &mut *ctx.out;
    let Some(h) = read_hash(ctx.ks, db, &args[1])? else {
        out.array(0);
        return Ok(());
    };
    let (count, uniq) = (l.unsigned_abs(), l >= 0);
    if count == 0 || h.is_empty() {
        out.array(0);
        return Ok(());
    }
    let size = h.len() as u64;
    let reply_len = if uniq { count.min(size) } else { count };
    if reply_len * (1 + withvalues as u64) > MAX_RANDOM_REPLY {
        return Err(CmdError::err("value is out of range"));
    }
    let resp3 = out.resp == crate::protocol::Resp::V3;
    let emit = |out: &mut crate::protocol::Out, f: &[u8], v: &[u8]| {
        if withvalues && resp3 {
            out.array(2);
        }
        out.bulk(f);
        if withvalues {
            out.bulk(v);
        }
    };
    out.array(if withvalues && !resp3 {
        reply_len as usize * 2
    } else {
        reply_len as usize
    });
    let mut rng = rand::thread_rng();
    if !uniq || count == 1 {
        // Repeats allowed: independent draws.
        if h.is_compact() {
            let all: Vec<(&[u8], &[u8])> = h.iter().collect();
            for _ in 0..count {
                let (f, v) = all[rng.gen_range(0..all.len())];
                emit(out, f, v);
            }
        } else {
            for _ in 0..count {
                if let Some((f, v)) = h.random(&mut rng) {
                    emit(out, f, v);
                }
            }
        }
        return Ok(());
    }
    if count >= size {
        for (f, v) in h.iter() {
            emit(out, f, v);
        }
        return Ok(());
    }
    let count = count as usize;
    if h.is_compact() || count * 3 > size as usize {
        // A good share of the hash: pick from a copy of the whole.
        let mut all: Vec<(&[u8], &[u8])> = h.iter().collect();
        let (picked, _) = all.partial_shuffle(&mut rng, count);
        for (f, v) in picked.iter() {
            emit(out, f, v);
        }
    } else {
        // A small share of a large table: draw until enough distinct fields.
        let mut seen = std::collections::HashSet::with_capacity(count);
        let mut picked = Vec::with_capacity(count);
        while picked.len() < count {
            if let Some((f, v)) = h.random(&mut rng) {
                if seen.insert(f.as_ptr()) {
                    picked.push((f, v));
                }
            }
        }
        for (f, v) in picked {
            emit(out, f, v);
        }
    }
    Ok(())
}

fn hscan(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut cursor = parse_cursor(&args[2])?;
    let db = ctx.db();
    let out = &mut *ctx.out;
    let Some(h) = read_hash(ctx.ks, db, &args[1])? else {
        out.array(2);
        out.bulk(b"0");
        out.array(0);
        return Ok(());
    };
    let mut pattern: Option<&[u8]> = None;
    let mut count: i64 = 10;
    let mut i = 3;
    while i < args.len() {
        let more = args.len() - i >= 2;
        if more && is_opt(&args[i], "count") {
            count = arg_i64(&args[i + 1])?;
            if count < 1 {
                return Err(CmdError::Syntax);
            }
        } else if more && is_opt(&args[i], "match") {
            let p = &args[i + 1][..];
            pattern = (p != b"*").then_some(p);
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    let mut items: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    if h.is_compact() {
        for (f, v) in h.iter() {
            items.push((f.to_vec(), v.to_vec()));
        }
        cursor = 0;
    } else {
        let mut budget = count.saturating_mul(10);
        loop {
            cursor = h.scan(cursor, |f, v| items.push((f.to_vec(), v.to_vec())));
            let go_on = cursor != 0 && budget != 0 && (items.len() as i64) * 2 < count;
            budget -= 1;
            if !go_on {
                break;
            }
        }
    }
    if let Some(p) = pattern {
        items.retain(|(f, _)| glob_match(p, f, false));
    }
    out.array(2);
    out.bulk(cursor.to_string().as_bytes());
    out.array(items.len() * 2);
    for (f, v) in &items {
        out.bulk(f);
        out.bulk(v);
    }
    Ok(())
}
