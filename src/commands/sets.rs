//! Set commands (Redis 7.0's t_set.c): membership, random picks and pops, moves, the
//! intersection / union / difference family with their STORE variants, and SSCAN.

use super::keys::parse_cursor;
use super::table::{cmd, flags::*, CommandSpec, MemberArg};
use super::{arg_i64, is_opt, CmdError, CmdResult, Ctx};
use crate::store::glob::glob_match;
use crate::store::{Keyspace, Set, Value};
use bytes::Bytes;

/// The commands of this family.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "sadd",
        -3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "set",
        "1.0.0",
        "Add one or more members to a set",
        sadd,
    )
    .member(MemberArg::At(2)),
    cmd(
        "srem",
        -3,
        WRITE | FAST,
        (1, 1, 1),
        "set",
        "1.0.0",
        "Remove one or more members from a set",
        srem,
    )
    .member(MemberArg::At(2)),
    cmd(
        "sismember",
        3,
        READONLY | FAST,
        (1, 1, 1),
        "set",
        "1.0.0",
        "Determine if a given value is a member of a set",
        sismember,
    )
    .member(MemberArg::At(2)),
    cmd(
        "smismember",
        -3,
        READONLY | FAST,
        (1, 1, 1),
        "set",
        "6.2.0",
        "Returns the membership associated with the given elements for a set",
        smismember,
    )
    .member(MemberArg::At(2)),
    cmd(
        "smembers",
        2,
        READONLY,
        (1, 1, 1),
        "set",
        "1.0.0",
        "Get all the members in a set",
        sinter,
    ),
    cmd(
        "scard",
        2,
        READONLY | FAST,
        (1, 1, 1),
        "set",
        "1.0.0",
        "Get the number of members in a set",
        scard,
    ),
    cmd(
        "spop",
        -2,
        WRITE | FAST,
        (1, 1, 1),
        "set",
        "1.0.0",
        "Remove and return one or multiple random members from a set",
        spop,
    ),
    cmd(
        "srandmember",
        -2,
        READONLY,
        (1, 1, 1),
        "set",
        "1.0.0",
        "Get one or multiple random members from a set",
        srandmember,
    ),
    cmd(
        "smove",
        4,
        WRITE | FAST,
        (1, 2, 1),
        "set",
        "1.0.0",
        "Move a member from one set to another",
        smove,
    ),
    cmd(
        "sinter",
        -2,
        READONLY,
        (1, -1, 1),
        "set",
        "1.0.0",
        "Intersect multiple sets",
        sinter,
    ),
    cmd(
        "sintercard",
        -3,
        READONLY | MOVABLE_KEYS,
        (0, 0, 0),
        "set",
        "7.0.0",
        "Intersect multiple sets and return the cardinality of the result",
        sintercard,
    ),
    cmd(
        "sinterstore",
        -3,
        WRITE | DENYOOM,
        (1, -1, 1),
        "set",
        "1.0.0",
        "Intersect multiple sets and store the resulting set in a key",
        sinterstore,
    ),
    cmd(
        "sunion",
        -2,
        READONLY,
        (1, -1, 1),
        "set",
        "1.0.0",
        "Add multiple sets",
        sunion,
    ),
    cmd(
        "sunionstore",
        -3,
        WRITE | DENYOOM,
        (1, -1, 1),
        "set",
        "1.0.0",
        "Add multiple sets and store the resulting set in a key",
        sunionstore,
    ),
    cmd(
        "sdiff",
        -2,
        READONLY,
        (1, -1, 1),
        "set",
        "1.0.0",
        "Subtract multiple sets",
        sdiff,
    ),
    cmd(
        "sdiffstore",
        -3,
        WRITE | DENYOOM,
        (1, -1, 1),
        "set",
        "1.0.0",
        "Subtract multiple sets and store the resulting set in a key",
        sdiffstore,
    ),
    cmd(
        "sscan",
        -3,
        READONLY,
        (1, 1, 1),
        "set",
        "2.8.0",
        "Incrementally iterate Set elements",
        sscan,
    ),
];

/// SPOP with a count pops one by one while at least 1/5 of the set stays behind (Redis's
/// SPOP_MOVE_STRATEGY_MUL); otherwise it rebuilds the set from the few members that remain.
const SPOP_MOVE_STRATEGY_MUL: usize = 5;

/// Looks a set up for reading (counts a keyspace hit or miss).
fn read_set<'a>(ks: &'a mut Keyspace, db: usize, key: &[u8]) -> Result<Option<&'a Set>, CmdError> {
    match ks.get(db, key) {
        None => Ok(None),
        Some(Value::Set(s)) => Ok(Some(s)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// Looks a set up for modification.
fn write_set<'a>(
    ks: &'a mut Keyspace,
    db: usize,
    key: &[u8],
) -> Result<Option<&'a mut Set>, CmdError> {
    match ks.get_mut(db, key) {
        None => Ok(None),
        Some(Value::Set(s)) => Ok(Some(s)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// Looks every key up as Redis does for the multi-key commands (each key once, in order, any
/// wrong type failing the whole command), then hands out shared references to all of them.
fn load_sets<'a>(
    ks: &'a mut Keyspace,
    db: usize,
    keys: &[Bytes],
) -> Result<Vec<Option<&'a Set>>, CmdError> {
    let mut present = Vec::with_capacity(keys.len());
    for k in keys {
        present.push(read_set(ks, db, k)?.is_some());
    }
    let d = ks.db(db);
    Ok(keys
        .iter()
        .zip(present)
        .map(|(k, live)| {
            if !live {
                return None;
            }
            match d.keys.get(k).map(|e| &e.value) {
                Some(Value::Set(s)) => Some(&**s),
                _ => None,
            }
        })
        .collect())
}

/// An integer argument in `min..=max`, `ERR <msg>` otherwise (non-integers included), as Redis's
/// `getRangeLongFromObjectOrReply` with a message.
fn arg_range(arg: &[u8], min: i64, max: i64, msg: &str) -> Result<i64, CmdError> {
    match crate::num::parse_i64(arg) {
        Some(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(CmdError::err(msg)),
    }
}

fn sadd(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let key = &args[1];
    let max = ctx.limits().set_max_intset_entries;
    let mut added = 0;
    match write_set(ctx.ks, db, key)? {
        Some(set) => {
            for m in &args[2..] {
                added += set.insert(m, max) as i64;
            }
        }
        None => {
            let mut set = Set::new();
            for m in &args[2..] {
                added += set.insert(m, max) as i64;
            }
            ctx.ks.set(db, key, Value::Set(Box::new(set)), false);
        }
    }
    if added > 0 {
        ctx.wrote(b's', "sadd", key);
    }
    ctx.out.int(added);
    Ok(())
}

fn srem(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let key = &args[1];
    let Some(set) = write_set(ctx.ks, db, key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let mut removed = 0;
    for m in &args[2..] {
        removed += set.remove(m) as i64;
        if set.is_empty() {
            break;
        }
    }
    let emptied = set.is_empty();
    if removed > 0 {
        ctx.wrote(b's', "srem", key);
        if emptied {
            ctx.ks.delete(db, key);
            ctx.wrote(b'g', "del", key);
        }
    }
    ctx.out.int(removed);
    Ok(())
}

fn sismember(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let found = read_set(ctx.ks, db, &args[1])?.is_some_and(|s| s.contains(&args[2]));
    ctx.out.int(found as i64);
    Ok(())
}

fn smismember(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let set = read_set(ctx.ks, db, &args[1])?;
    ctx.out.array(args.len() - 2);
    for m in &args[2..] {
        ctx.out.int(set.is_some_and(|s| s.contains(m)) as i64);
    }
    Ok(())
}

fn scard(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let n = read_set(ctx.ks, db, &args[1])?.map_or(0, |s| s.len());
    ctx.out.int(n as i64);
    Ok(())
}

fn spop(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    match args.len() {
        2 => {}
        3 => return spop_count(ctx, args),
        _ => return Err(CmdError::Syntax),
    }
    let db = ctx.db();
    let key = &args[1];
    let Some(set) = write_set(ctx.ks, db, key)? else {
        ctx.out.null();
        return Ok(());
    };
    let Some(m) = set.pop_random(&mut rand::thread_rng()) else {
        ctx.out.null();
        return Ok(());
    };
    ctx.out.bulk(&m);
    let emptied = set.is_empty();
    // Replicas must remove the same member: SPOP propagates as SREM (Redis 7.0). Without a
    // replication stream nothing reads it, and building it would cost a copy per pop.
    if ctx.repl.streaming() {
        ctx.repl.override_args = Some(vec![vec![
            Bytes::from_static(b"SREM"),
            key.clone(),
            Bytes::copy_from_slice(&m),
        ]]);
    }
    ctx.wrote(b's', "spop", key);
    if emptied {
        ctx.ks.delete(db, key);
        ctx.wrote(b'g', "del", key);
    }
    Ok(())
}

fn spop_count(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let count = arg_range(
        &args[2],
        0,
        i64::MAX,
        "value is out of range, must be positive",
    )? as u64;
    let db = ctx.db();
    let key = &args[1];
    let max = ctx.limits().set_max_intset_entries;
    let Some(set) = write_set(ctx.ks, db, key)? else {
        ctx.out.set(0);
        return Ok(());
    };
    if count == 0 {
        ctx.out.set(0);
        return Ok(());
    }
    let size = set.len();
    let mut rng = rand::thread_rng();
    if count >= size as u64 {
        // Everything goes: reply with the whole set and delete the key.
        ctx.out.set(size);
        for m in set.iter() {
            ctx.out.bulk(&m);
        }
        ctx.repl.override_args = Some(vec![vec![Bytes::from_static(b"DEL"), key.clone()]]);
        ctx.wrote(b's', "spop", key);
        ctx.ks.delete(db, key);
        ctx.wrote(b'g', "del", key);
        return Ok(());
    }
    let count = count as usize;
    let remaining = size - count;
    ctx.out.set(count);
    // Replicas get one SREM per popped member (wrapped in MULTI/EXEC as one unit).
    let srem = |m: &[u8]| {
        vec![
            Bytes::from_static(b"SREM"),
            key.clone(),
            Bytes::copy_from_slice(m),
        ]
    };
    let mut effects = Vec::with_capacity(count);
    if remaining * SPOP_MOVE_STRATEGY_MUL > count {
        for _ in 0..count {
            if let Some(m) = set.pop_random(&mut rng) {
                ctx.out.bulk(&m);
                effects.push(srem(&m));
            }
        }
    } else {
        // Most of the set goes: move the few survivors into a fresh set (whose encoding is
        // chosen afresh, as Redis does) and reply with what is left in the old one.
        let mut kept = Set::new();
        for _ in 0..remaining {
            if let Some(m) = set.pop_random(&mut rng) {
                kept.insert(&m, max);
            }
        }
        let old = std::mem::replace(set, kept);
        for m in old.iter() {
            ctx.out.bulk(&m);
            effects.push(srem(&m));
        }
    }
    ctx.repl.override_args = Some(effects);
    ctx.wrote(b's', "spop", key);
    Ok(())
}

fn srandmember(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    match args.len() {
        2 => {}
        3 => return srandmember_count(ctx, args),
        _ => return Err(CmdError::Syntax),
    }
    let db = ctx.db();
    let set = read_set(ctx.ks, db, &args[1])?;
    match set.and_then(|s| s.random_member(&mut rand::thread_rng())) {
        Some(m) => ctx.out.bulk(&m),
        None => ctx.out.null(),
    }
    Ok(())
}

fn srandmember_count(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let l = arg_i64(&args[2])?;
    if l == i64::MIN {
        return Err(CmdError::err(
            "value is out of range, value must between -9223372036854775807 and \
             9223372036854775807",
        ));
    }
    let (count, uniq) = (l.unsigned_abs(), l >= 0);
    let db = ctx.db();
    let Some(set) = read_set(ctx.ks, db, &args[1])? else {
        ctx.out.array(0);
        return Ok(());
    };
    if count == 0 {
        ctx.out.array(0);
        return Ok(());
    }
    let mut rng = rand::thread_rng();
    if !uniq || count == 1 {
        // Repeats allowed: sample the whole set every time.
        ctx.out.array(count as usize);
        for _ in 0..count {
            if let Some(m) = set.random_member(&mut rng) {
                ctx.out.bulk(&m);
            }
        }
        return Ok(());
    }
    let picked = set.random_distinct(&mut rng, usize::try_from(count).unwrap_or(usize::MAX));
    ctx.out.array(picked.len());
    for m in &picked {
        ctx.out.bulk(m);
    }
    Ok(())
}

fn smove(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let (src, dst, member) = (&args[1], &args[2], &args[3]);
    let max = ctx.limits().set_max_intset_entries;
    let Some(src_set) = write_set(ctx.ks, db, src)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let in_src = src_set.contains(member);
    // The destination must be a set (or absent) before anything moves.
    write_set(ctx.ks, db, dst)?;
    if src == dst {
        ctx.out.int(in_src as i64);
        return Ok(());
    }
    if !in_src {
        ctx.out.int(0);
        return Ok(());
    }
    if let Some(s) = write_set(ctx.ks, db, src)? {
        s.remove(member);
        let emptied = s.is_empty();
        ctx.wrote(b's', "srem", src);
        if emptied {
            ctx.ks.delete(db, src);
            ctx.wrote(b'g', "del", src);
        }
    }
    match write_set(ctx.ks, db, dst)? {
        Some(d) => {
            d.insert(member, max);
        }
        None => {
            let mut d = Set::new();
            d.insert(member, max);
            ctx.ks.set(db, dst, Value::Set(Box::new(d)), false);
        }
    }
    ctx.wrote(b's', "sadd", dst);
    ctx.out.int(1);
    Ok(())
}

/// Members of the intersection of `sets` (none may be missing), stopping after `limit` when it
/// is non-zero.
fn intersect<'a>(
    sets: &mut [&'a Set],
    limit: usize,
) -> Vec<impl std::ops::Deref<Target = [u8]> + 'a> {
    sets.sort_by_key(|s| s.len());
    let Some((first, rest)) = sets.split_first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for m in first.iter() {
        if rest.iter().all(|s| s.contains(&m)) {
            out.push(m);
            if limit != 0 && out.len() >= limit {
                break;
            }
        }
    }
    out
}

/// Replaces `dst` with `result`, or deletes it when the result is empty; replies with the size.
fn store_result(ctx: &mut Ctx, dst: &[u8], result: Set, event: &'static str) {
    let db = ctx.db();
    let n = result.len();
    if n > 0 {
        ctx.ks.set(db, dst, Value::Set(Box::new(result)), false);
        ctx.wrote(b's', event, dst);
    } else if ctx.ks.delete(db, dst) {
        ctx.wrote(b'g', "del", dst);
    }
    ctx.out.int(n as i64);
}

fn sinter(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let sets = load_sets(ctx.ks, db, &args[1..])?;
    let Some(mut sets) = sets.into_iter().collect::<Option<Vec<&Set>>>() else {
        ctx.out.set(0);
        return Ok(());
    };
    let members = intersect(&mut sets, 0);
    ctx.out.set(members.len());
    for m in &members {
        ctx.out.bulk(m);
    }
    Ok(())
}

fn sintercard(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let numkeys = arg_range(&args[1], 1, i64::MAX, "numkeys should be greater than 0")?;
    if numkeys > args.len() as i64 - 2 {
        return Err(CmdError::err(
            "Number of keys can't be greater than number of args",
        ));
    }
    let numkeys = numkeys as usize;
    let mut limit = 0usize;
    let mut i = 2 + numkeys;
    while i < args.len() {
        if is_opt(&args[i], "limit") && i + 1 < args.len() {
            i += 1;
            limit = arg_range(&args[i], 0, i64::MAX, "LIMIT can't be negative")?
                .try_into()
                .unwrap_or(usize::MAX);
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    let db = ctx.db();
    let sets = load_sets(ctx.ks, db, &args[2..2 + numkeys])?;
    let n = match sets.into_iter().collect::<Option<Vec<&Set>>>() {
        Some(mut sets) => intersect(&mut sets, limit).len(),
        None => 0,
    };
    ctx.out.int(n as i64);
    Ok(())
}

fn sinterstore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let max = ctx.limits().set_max_intset_entries;
    let sets = load_sets(ctx.ks, db, &args[2..])?;
    let mut result = Set::new();
    if let Some(mut sets) = sets.into_iter().collect::<Option<Vec<&Set>>>() {
        for m in intersect(&mut sets, 0) {
            result.insert(&m, max);
        }
    }
    store_result(ctx, &args[1], result, "sinterstore");
    Ok(())
}

#[derive(Clone, Copy, PartialEq)]
enum SetOp {
    Union,
    Diff,
}

/// SUNION / SDIFF over `keys`, built the way Redis builds it (so the resulting encoding matches
/// too: a union only grows; a difference either filters the first set or copies it and then
/// removes, whichever Redis's cost estimate picks).
fn union_diff(ctx: &mut Ctx, keys: &[Bytes], op: SetOp) -> Result<Set, CmdError> {
    let db = ctx.db();
    let max = ctx.limits().set_max_intset_entries;
    let sets = load_sets(ctx.ks, db, keys)?;
    let mut result = Set::new();
    match op {
        SetOp::Union => {
            for s in sets.iter().flatten() {
                for m in s.iter() {
                    result.insert(&m, max);
                }
            }
        }
        SetOp::Diff => {
            let Some(first) = sets[0] else {
                return Ok(result);
            };
            if keys[1..].iter().any(|k| k == &keys[0]) {
                return Ok(result);
            }
            let others: Vec<&Set> = sets[1..].iter().flatten().copied().collect();
            let algo_one = (first.len() * sets.iter().flatten().count()) / 2;
            let algo_two: usize = sets.iter().flatten().map(|s| s.len()).sum();
            if algo_one <= algo_two {
                for m in first.iter() {
                    if !others.iter().any(|s| s.contains(&m)) {
                        result.insert(&m, max);
                    }
                }
            } else {
                for m in first.iter() {
                    result.insert(&m, max);
                }
                for s in others {
                    for m in s.iter() {
                        result.remove(&m);
                    }
                    if result.is_empty() {
                        break;
                    }
                }
            }
        }
    }
    Ok(result)
}

fn reply_members(ctx: &mut Ctx, set: &Set) {
    ctx.out.set(set.len());
    for m in set.iter() {
        ctx.out.bulk(&m);
    }
}

fn sunion(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let r = union_diff(ctx, &args[1..], SetOp::Union)?;
    reply_members(ctx, &r);
    Ok(())
}

fn sdiff(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let r = union_diff(ctx, &args[1..], SetOp::Diff)?;
    reply_members(ctx, &r);
    Ok(())
}

fn sunionstore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let r = union_diff(ctx, &args[2..], SetOp::Union)?;
    store_result(ctx, &args[1], r, "sunionstore");
    Ok(())
}

fn sdiffstore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let r = union_diff(ctx, &args[2..], SetOp::Diff)?;
    store_result(ctx, &args[1], r, "sdiffstore");
    Ok(())
}

fn sscan(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut cursor = parse_cursor(&args[2])?;
    let db = ctx.db();
    let Some(set) = read_set(ctx.ks, db, &args[1])? else {
        ctx.out.array(2);
        ctx.out.bulk(b"0");
        ctx.out.array(0);
        return Ok(());
    };
    let (mut pattern, mut count): (Option<&[u8]>, i64) = (None, 10);
    let mut i = 3;
    while i < args.len() {
        let more = args.len() - i;
        if is_opt(&args[i], "count") && more >= 2 {
            count = arg_i64(&args[i + 1])?;
            if count < 1 {
                return Err(CmdError::Syntax);
            }
        } else if is_opt(&args[i], "match") && more >= 2 {
            let p = &args[i + 1][..];
            pattern = if p == b"*" { None } else { Some(p) };
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    let mut found: Vec<Vec<u8>> = Vec::new();
    let keep = |m: &[u8]| pattern.is_none_or(|p| glob_match(p, m, false));
    if set.is_intset() {
        set.scan(0, |m| {
            if keep(m) {
                found.push(m.to_vec())
            }
        });
        cursor = 0;
    } else {
        let mut iterations = count.saturating_mul(10);
        let mut visited = 0i64;
        loop {
            cursor = set.scan(cursor, |m| {
                visited += 1;
                if keep(m) {
                    found.push(m.to_vec());
                }
            });
            iterations -= 1;
            if cursor == 0 || iterations < 0 || visited >= count {
                break;
            }
        }
    }
    ctx.out.array(2);
    ctx.out.bulk(cursor.to_string().as_bytes());
    ctx.out.array(found.len());
    for m in &found {
        ctx.out.bulk(m);
    }
    Ok(())
}
