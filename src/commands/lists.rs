//! List commands (Redis's t_list.c): pushes, pops, ranges, moves and the blocking variants.
//!
//! Argument checks happen in the same order as in Redis 7.0, so that a command with several
//! problems reports the same one. Blocking commands first try the non-blocking path and only
//! park the client when nothing is available; when a write wakes them they run again.

use super::table::{cmd, flags::*, CommandSpec};
use super::{arg_i64, is_opt, parse_timeout, CmdError, CmdResult, Ctx};
use crate::server::TimeoutReply;
use crate::store::{CompactBytes, List, Value};
use bytes::{BufMut, Bytes, BytesMut};

/// The commands of this family.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "lpush",
        -3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "list",
        "1.0.0",
        "Prepend one or multiple elements to a list",
        lpush,
    ),
    cmd(
        "rpush",
        -3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "list",
        "1.0.0",
        "Append one or multiple elements to a list",
        rpush,
    ),
    cmd(
        "lpushx",
        -3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "list",
        "2.2.0",
        "Prepend an element to a list, only if the list exists",
        lpushx,
    ),
    cmd(
        "rpushx",
        -3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "list",
        "2.2.0",
        "Append an element to a list, only if the list exists",
        rpushx,
    ),
    cmd(
        "lpop",
        -2,
        WRITE | FAST,
        (1, 1, 1),
        "list",
        "1.0.0",
        "Remove and get the first elements in a list",
        lpop,
    ),
    cmd(
        "rpop",
        -2,
        WRITE | FAST,
        (1, 1, 1),
        "list",
        "1.0.0",
        "Remove and get the last elements in a list",
        rpop,
    ),
    cmd(
        "llen",
        2,
        READONLY | FAST,
        (1, 1, 1),
        "list",
        "1.0.0",
        "Get the length of a list",
        llen,
    ),
    cmd(
        "lrange",
        4,
        READONLY,
        (1, 1, 1),
        "list",
        "1.0.0",
        "Get a range of elements from a list",
        lrange,
    ),
    cmd(
        "lindex",
        3,
        READONLY,
        (1, 1, 1),
        "list",
        "1.0.0",
        "Get an element from a list by its index",
        lindex,
    ),
    cmd(
        "lset",
        4,
        WRITE | DENYOOM,
        (1, 1, 1),
        "list",
        "1.0.0",
        "Set the value of an element in a list by its index",
        lset,
    ),
    cmd(
        "linsert",
        5,
        WRITE | DENYOOM,
        (1, 1, 1),
        "list",
        "2.2.0",
        "Insert an element before or after another element in a list",
        linsert,
    ),
    cmd(
        "lrem",
        4,
        WRITE,
        (1, 1, 1),
        "list",
        "1.0.0",
        "Remove elements from a list",
        lrem,
    ),
    cmd(
        "ltrim",
        4,
        WRITE,
        (1, 1, 1),
        "list",
        "1.0.0",
        "Trim a list to the specified range",
        ltrim,
    ),
    cmd(
        "lpos",
        -3,
        READONLY,
        (1, 1, 1),
        "list",
        "6.0.6",
        "Return the index of matching elements on a list",
        lpos,
    ),
    cmd(
        "lmove",
        5,
        WRITE | DENYOOM,
        (1, 2, 1),
        "list",
        "6.2.0",
        "Pop an element from a list, push it to another list and return it",
        lmove,
    ),
    cmd(
        "rpoplpush",
        3,
        WRITE | DENYOOM,
        (1, 2, 1),
        "list",
        "1.2.0",
        "Remove the last element in a list, prepend it to another list and return it",
        rpoplpush,
    ),
    cmd(
        "lmpop",
        -4,
        WRITE | MOVABLE_KEYS,
        (0, 0, 0),
        "list",
        "7.0.0",
        "Pop elements from a list",
        lmpop,
    ),
    cmd(
        "blpop",
        -3,
        WRITE | NOSCRIPT | BLOCKING,
        (1, -2, 1),
        "list",
        "2.0.0",
        "Remove and get the first element in a list, or block until one is available",
        blpop,
    ),
    cmd(
        "brpop",
        -3,
        WRITE | NOSCRIPT | BLOCKING,
        (1, -2, 1),
        "list",
        "2.0.0",
        "Remove and get the last element in a list, or block until one is available",
        brpop,
    ),
    cmd(
        "blmove",
        6,
        WRITE | DENYOOM | NOSCRIPT | BLOCKING,
        (1, 2, 1),
        "list",
        "6.2.0",
        "Pop an element from a list, push it to another list and return it; or block until one \
         is available",
        blmove,
    ),
    cmd(
        "brpoplpush",
        4,
        WRITE | DENYOOM | NOSCRIPT | BLOCKING,
        (1, 2, 1),
        "list",
        "2.2.0",
        "Pop an element from a list, push it to another list and return it; or block until one \
         is available",
        brpoplpush,
    ),
    cmd(
        "blmpop",
        -5,
        WRITE | BLOCKING | MOVABLE_KEYS,
        (0, 0, 0),
        "list",
        "7.0.0",
        "Pop elements from a list, or block until one is available",
        blmpop,
    ),
];

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// The list at `key` for reading (counts a keyspace hit or miss); WRONGTYPE for other types.
fn read_list<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a List>, CmdError> {
    let db = ctx.db();
    match ctx.ks.get(db, key) {
        None => Ok(None),
        Some(Value::List(l)) => Ok(Some(l)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// The list at `key` for modification; WRONGTYPE for other types.
fn write_list<'a>(
    ks: &'a mut crate::store::Keyspace,
    db: usize,
    key: &[u8],
) -> Result<Option<&'a mut List>, CmdError> {
    match ks.get_mut(db, key) {
        None => Ok(None),
        Some(Value::List(l)) => Ok(Some(l)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// True when `key` holds something other than a list (without touching statistics).
fn is_other_type(ctx: &mut Ctx, key: &[u8]) -> bool {
    let db = ctx.db();
    matches!(ctx.ks.peek(db, key), Some(v) if !matches!(v, Value::List(_)))
}

/// Records elements removed from `key` by a pop from one end: the pop event, then the key's
/// deletion when the list became empty.
fn popped(ctx: &mut Ctx, key: &[u8], front: bool, count: usize, emptied: bool) {
    ctx.wrote(b'l', if front { "lpop" } else { "rpop" }, key);
    if count > 1 {
        ctx.dirty(count as u64 - 1);
    }
    if emptied {
        deleted(ctx, key);
    }
}

/// Deletes a list that became empty and records it.
fn deleted(ctx: &mut Ctx, key: &[u8]) {
    let db = ctx.db();
    ctx.ks.delete(db, key);
    ctx.wrote(b'g', "del", key);
}

/// `getPositiveLongFromObjectOrReply`: every failure says "must be positive".
fn arg_positive(arg: &[u8]) -> Result<i64, CmdError> {
    arg_at_least(arg, 0, "value is out of range, must be positive")
}

/// An integer argument whose every failure (not a number, or below `min`) reports `msg`.
fn arg_at_least(arg: &[u8], min: i64, msg: &str) -> Result<i64, CmdError> {
    match crate::num::parse_i64(arg) {
        Some(v) if v >= min => Ok(v),
        _ => Err(CmdError::err(msg)),
    }
}

/// Writes bulk strings back to back with one reservation (LRANGE's hot loop; `Out::bulk` per
/// element spends most of its time on the length line).
fn put_bulks<'a>(buf: &mut BytesMut, items: impl Iterator<Item = &'a [u8]> + Clone) {
    let total: usize = items.clone().map(|v| v.len() + 16).sum();
    buf.reserve(total);
    for v in items {
        let n = v.len();
        if n < 10 {
            buf.put_slice(&[b'$', b'0' + n as u8, b'\r', b'\n']);
        } else if n < 100 {
            buf.put_slice(&[
                b'$',
                b'0' + (n / 10) as u8,
                b'0' + (n % 10) as u8,
                b'\r',
                b'\n',
            ]);
        } else {
            let mut digits = [0u8; 20];
            let mut i = digits.len();
            let mut m = n;
            while m > 0 {
                i -= 1;
                digits[i] = b'0' + (m % 10) as u8;
                m /= 10;
            }
            buf.put_u8(b'$');
            buf.put_slice(&digits[i..]);
            buf.put_slice(b"\r\n");
        }
        buf.put_slice(v);
        buf.put_slice(b"\r\n");
    }
}

/// LEFT / RIGHT → true for the head.
fn arg_side(arg: &Bytes) -> Result<bool, CmdError> {
    if is_opt(arg, "left") {
        Ok(true)
    } else if is_opt(arg, "right") {
        Ok(false)
    } else {
        Err(CmdError::Syntax)
    }
}

// ---------------------------------------------------------------------------------------------
// Pushes
// ---------------------------------------------------------------------------------------------

fn push_generic(ctx: &mut Ctx, args: &[Bytes], front: bool, only_existing: bool) -> CmdResult {
    let db = ctx.db();
    let key = &args[1];
    let items = &args[2..];
    let len = match write_list(ctx.ks, db, key)? {
        Some(l) => {
            for v in items {
                l.push(CompactBytes::new(v), front);
            }
            l.len()
        }
        None if only_existing => {
            ctx.out.int(0);
            return Ok(());
        }
        None => {
            let mut l = List::with_capacity(items.len());
            for v in items {
                l.push(CompactBytes::new(v), front);
            }
            let len = l.len();
            ctx.ks.set(db, key, Value::List(Box::new(l)), false);
            len
        }
    };
    ctx.out.int(len as i64);
    ctx.wrote(b'l', if front { "lpush" } else { "rpush" }, key);
    if items.len() > 1 {
        ctx.dirty(items.len() as u64 - 1);
    }
    Ok(())
}

fn lpush(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    push_generic(ctx, args, true, false)
}

fn rpush(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    push_generic(ctx, args, false, false)
}

fn lpushx(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    push_generic(ctx, args, true, true)
}

fn rpushx(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    push_generic(ctx, args, false, true)
}

// ---------------------------------------------------------------------------------------------
// Pops
// ---------------------------------------------------------------------------------------------

fn pop_generic(ctx: &mut Ctx, args: &[Bytes], front: bool) -> CmdResult {
    let name = if front { "lpop" } else { "rpop" };
    if args.len() > 3 {
        return Err(CmdError::Arity(name.into()));
    }
    let count = match args.get(2) {
        Some(a) => Some(arg_positive(a)?),
        None => None,
    };
    let db = ctx.db();
    let key = &args[1];
    let Some(l) = write_list(ctx.ks, db, key)? else {
        if count.is_some() {
            ctx.out.null_array();
        } else {
            ctx.out.null();
        }
        return Ok(());
    };
    if count == Some(0) {
        ctx.out.array(0);
        return Ok(());
    }
    let n = reply_pops(ctx.out, l, front, count);
    let emptied = l.is_empty();
    popped(ctx, key, front, n, emptied);
    Ok(())
}

/// Pops from one end and replies: one element (bulk) without `count`, else an array of up to
/// `count`. Returns how many were popped.
fn reply_pops(
    out: &mut crate::protocol::Out,
    l: &mut List,
    front: bool,
    count: Option<i64>,
) -> usize {
    let Some(c) = count else {
        match l.pop(front) {
            Some(v) => out.bulk(&v),
            None => out.null(),
        }
        return 1;
    };
    let n = l.len().min(usize::try_from(c).unwrap_or(usize::MAX));
    out.array(n);
    for _ in 0..n {
        if let Some(v) = l.pop(front) {
            out.bulk(&v);
        }
    }
    n
}

fn lpop(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    pop_generic(ctx, args, true)
}

fn rpop(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    pop_generic(ctx, args, false)
}

/// Pops up to `count` elements from the first non-empty list of `keys` and replies
/// `[key, [elements]]` (LMPOP/BLMPOP), or `[key, element]` when `count` is `None`
/// (BLPOP/BRPOP). Returns false, with no reply, when every list is empty.
fn pop_first_nonempty(
    ctx: &mut Ctx,
    keys: &[Bytes],
    front: bool,
    count: Option<i64>,
) -> Result<bool, CmdError> {
    let db = ctx.db();
    for key in keys {
        let Some(l) = write_list(ctx.ks, db, key)? else {
            continue;
        };
        if l.is_empty() {
            continue;
        }
        ctx.out.array(2);
        ctx.out.bulk(key);
        let n = reply_pops(ctx.out, l, front, count);
        let emptied = l.is_empty();
        popped(ctx, key, front, n, emptied);
        // Replicas run the plain pop on the key that was served (Redis rewrites BLPOP, BRPOP,
        // LMPOP and BLMPOP the same way).
        let mut effect = vec![
            Bytes::from_static(if front { b"LPOP" } else { b"RPOP" }),
            key.clone(),
        ];
        if count.is_some() {
            effect.push(Bytes::from(n.to_string()));
        }
        ctx.repl.override_args = Some(vec![effect]);
        return Ok(true);
    }
    Ok(false)
}

/// Parses `numkeys key... LEFT|RIGHT [COUNT n]` starting at `numkeys_idx`: (keys, front, count).
fn parse_mpop(args: &[Bytes], numkeys_idx: usize) -> Result<(&[Bytes], bool, i64), CmdError> {
    let numkeys = arg_at_least(&args[numkeys_idx], 1, "numkeys should be greater than 0")?;
    let first = numkeys_idx + 1;
    let where_idx = usize::try_from(numkeys)
        .ok()
        .and_then(|n| first.checked_add(n))
        .filter(|&i| i < args.len())
        .ok_or(CmdError::Syntax)?;
    let front = arg_side(&args[where_idx])?;
    let mut count = None;
    let mut j = where_idx + 1;
    while j < args.len() {
        if count.is_none() && is_opt(&args[j], "count") && j + 1 < args.len() {
            j += 1;
            count = Some(arg_at_least(&args[j], 1, "count should be greater than 0")?);
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok((&args[first..where_idx], front, count.unwrap_or(1)))
}

fn lmpop(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (keys, front, count) = parse_mpop(args, 1)?;
    if !pop_first_nonempty(ctx, keys, front, Some(count))? {
        ctx.out.null_array();
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------------

fn llen(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let len = read_list(ctx, &args[1])?.map_or(0, |l| l.len());
    ctx.out.int(len as i64);
    Ok(())
}

fn lrange(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let start = arg_i64(&args[2])?;
    let end = arg_i64(&args[3])?;
    let db = ctx.db();
    let out = &mut *ctx.out;
    match ctx.ks.get(db, &args[1]) {
        None => out.array(0),
        Some(Value::List(l)) => match l.resolve_range(start, end) {
            None => out.array(0),
            Some((s, e)) => {
                out.array(e - s + 1);
                put_bulks(&mut out.buf, l.range(s, e));
            }
        },
        Some(_) => return Err(CmdError::WrongType),
    }
    Ok(())
}

fn lindex(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let out = &mut *ctx.out;
    match ctx.ks.get(db, &args[1]) {
        None => out.null(),
        Some(Value::List(l)) => {
            let index = arg_i64(&args[2])?;
            match l.get(index) {
                Some(v) => out.bulk(v),
                None => out.null(),
            }
        }
        Some(_) => return Err(CmdError::WrongType),
    }
    Ok(())
}

fn lpos(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut rank: i64 = 1;
    let mut count: Option<i64> = None;
    let mut maxlen: i64 = 0;
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        if is_opt(&args[j], "rank") && more {
            j += 1;
            rank = arg_i64(&args[j])?;
            if rank == 0 {
                return Err(CmdError::err(
                    "RANK can't be zero: use 1 to start from the first match, 2 from the second \
                     ... or use negative to start from the end of the list",
                ));
            }
        } else if is_opt(&args[j], "count") && more {
            j += 1;
            count = Some(arg_at_least(&args[j], 0, "COUNT can't be negative")?);
        } else if is_opt(&args[j], "maxlen") && more {
            j += 1;
            maxlen = arg_at_least(&args[j], 0, "MAXLEN can't be negative")?;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    // A negative rank searches from the tail. Like Redis, the most negative rank wraps to
    // itself, which then matches from the first hit on.
    let from_tail = rank < 0;
    if from_tail {
        rank = rank.wrapping_neg();
    }
    let elem = &args[2];
    let Some(l) = read_list(ctx, &args[1])? else {
        match count {
            Some(_) => ctx.out.array(0),
            None => ctx.out.null(),
        }
        return Ok(());
    };
    let len = l.len();
    let limit = if maxlen == 0 {
        len
    } else {
        len.min(usize::try_from(maxlen).unwrap_or(usize::MAX))
    };
    let mut found: Vec<i64> = Vec::new();
    let mut matches: i64 = 0;
    let mut check = |index: usize, v: &[u8]| -> bool {
        if v != &elem[..] {
            return false;
        }
        matches += 1;
        if matches < rank {
            return false;
        }
        let pos = if from_tail { len - index - 1 } else { index };
        found.push(pos as i64);
        match count {
            None => true,
            Some(c) => c != 0 && matches.wrapping_sub(rank).wrapping_add(1) >= c,
        }
    };
    if from_tail {
        for (i, v) in l.iter().rev().take(limit).enumerate() {
            if check(i, v) {
                break;
            }
        }
    } else {
        for (i, v) in l.iter().take(limit).enumerate() {
            if check(i, v) {
                break;
            }
        }
    }
    match count {
        Some(_) => {
            ctx.out.array(found.len());
            for p in found {
                ctx.out.int(p);
            }
        }
        None => match found.first() {
            Some(&p) => ctx.out.int(p),
            None => ctx.out.null(),
        },
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// In-place edits
// ---------------------------------------------------------------------------------------------

fn lset(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let key = &args[1];
    let Some(l) = write_list(ctx.ks, db, key)? else {
        return Err(CmdError::err("no such key"));
    };
    let index = arg_i64(&args[2])?;
    if !l.set(index, &args[3]) {
        return Err(CmdError::err("index out of range"));
    }
    ctx.out.ok();
    ctx.wrote(b'l', "lset", key);
    Ok(())
}

fn linsert(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let after = if is_opt(&args[2], "after") {
        true
    } else if is_opt(&args[2], "before") {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    let db = ctx.db();
    let key = &args[1];
    let Some(l) = write_list(ctx.ks, db, key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let Some(pos) = l.find(&args[3]) else {
        ctx.out.int(-1);
        return Ok(());
    };
    l.insert(pos + after as usize, &args[4]);
    let len = l.len();
    ctx.out.int(len as i64);
    ctx.wrote(b'l', "linsert", key);
    Ok(())
}

fn lrem(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let count = arg_i64(&args[2])?;
    let db = ctx.db();
    let key = &args[1];
    let Some(l) = write_list(ctx.ks, db, key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let removed = l.remove_matching(&args[3], count.unsigned_abs(), count < 0);
    let emptied = l.is_empty();
    ctx.out.int(removed as i64);
    if removed > 0 {
        ctx.wrote(b'l', "lrem", key);
        if removed > 1 {
            ctx.dirty(removed as u64 - 1);
        }
    }
    if emptied {
        deleted(ctx, key);
    }
    Ok(())
}

fn ltrim(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let start = arg_i64(&args[2])?;
    let end = arg_i64(&args[3])?;
    let db = ctx.db();
    let key = &args[1];
    let Some(l) = write_list(ctx.ks, db, key)? else {
        ctx.out.ok();
        return Ok(());
    };
    let len = l.len();
    let (left, right) = match l.resolve_range(start, end) {
        None => (len, 0),
        Some((s, e)) => (s, len - e - 1),
    };
    l.trim(left, right);
    let emptied = l.is_empty();
    ctx.out.ok();
    ctx.wrote(b'l', "ltrim", key);
    if emptied {
        deleted(ctx, key);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Moves
// ---------------------------------------------------------------------------------------------

/// Pops from `src` and pushes onto `dst`, replying with the element. Returns false, with no
/// reply, when `src` does not exist.
fn lmove_generic(
    ctx: &mut Ctx,
    src: &Bytes,
    dst: &Bytes,
    from_front: bool,
    to_front: bool,
) -> Result<bool, CmdError> {
    let db = ctx.db();
    let pop_event = if from_front { "lpop" } else { "rpop" };
    let push_event = if to_front { "lpush" } else { "rpush" };
    if src == dst {
        let Some(l) = write_list(ctx.ks, db, src)? else {
            return Ok(false);
        };
        let Some(v) = l.pop(from_front) else {
            return Ok(false);
        };
        ctx.out.bulk(&v);
        l.push(v, to_front);
        ctx.wrote(b'l', push_event, dst);
        ctx.wrote(b'l', pop_event, src);
        return Ok(true);
    }
    match write_list(ctx.ks, db, src)? {
        Some(l) if !l.is_empty() => {}
        _ => return Ok(false),
    }
    if is_other_type(ctx, dst) {
        return Err(CmdError::WrongType);
    }
    let Some(l) = write_list(ctx.ks, db, src)? else {
        return Ok(false);
    };
    let Some(v) = l.pop(from_front) else {
        return Ok(false);
    };
    let emptied = l.is_empty();
    ctx.out.bulk(&v);
    match write_list(ctx.ks, db, dst)? {
        Some(d) => d.push(v, to_front),
        None => {
            let mut d = List::new();
            d.push(v, to_front);
            ctx.ks.set(db, dst, Value::List(Box::new(d)), false);
        }
    }
    ctx.wrote(b'l', push_event, dst);
    ctx.wrote(b'l', pop_event, src);
    if emptied {
        deleted(ctx, src);
    }
    Ok(true)
}

fn lmove(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let from_front = arg_side(&args[3])?;
    let to_front = arg_side(&args[4])?;
    if !lmove_generic(ctx, &args[1], &args[2], from_front, to_front)? {
        ctx.out.null();
    }
    Ok(())
}

fn rpoplpush(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if !lmove_generic(ctx, &args[1], &args[2], false, true)? {
        ctx.out.null();
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Blocking variants
// ---------------------------------------------------------------------------------------------

fn bpop_generic(ctx: &mut Ctx, args: &[Bytes], front: bool) -> CmdResult {
    let timeout = parse_timeout(ctx, &args[args.len() - 1])?;
    let keys = &args[1..args.len() - 1];
    if !pop_first_nonempty(ctx, keys, front, None)? {
        ctx.block(args, keys, timeout, TimeoutReply::NullArray);
    }
    Ok(())
}

fn blpop(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    bpop_generic(ctx, args, true)
}

fn brpop(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    bpop_generic(ctx, args, false)
}

fn blmpop(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (keys, front, count) = parse_mpop(args, 2)?;
    let timeout = parse_timeout(ctx, &args[1])?;
    if !pop_first_nonempty(ctx, keys, front, Some(count))? {
        ctx.block(args, keys, timeout, TimeoutReply::NullArray);
    }
    Ok(())
}

fn blmove_generic(
    ctx: &mut Ctx,
    args: &[Bytes],
    from_front: bool,
    to_front: bool,
    timeout_arg: &[u8],
) -> CmdResult {
    let timeout = parse_timeout(ctx, timeout_arg)?;
    let side = |front: bool| Bytes::from_static(if front { b"LEFT" } else { b"RIGHT" });
    let effect = vec![
        Bytes::from_static(b"LMOVE"),
        args[1].clone(),
        args[2].clone(),
        side(from_front),
        side(to_front),
    ];
    if lmove_generic(ctx, &args[1], &args[2], from_front, to_front)? {
        ctx.repl.override_args = Some(vec![effect]);
    } else {
        if ctx.client.in_exec {
            // Not allowed to block: Redis answers a null bulk here...
            ctx.out.null();
        } else {
            // ...but a null array when the wait times out.
            ctx.block(args, &args[1..2], timeout, TimeoutReply::NullArray);
        }
    }
    Ok(())
}

fn blmove(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let from_front = arg_side(&args[3])?;
    let to_front = arg_side(&args[4])?;
    blmove_generic(ctx, args, from_front, to_front, &args[5])
}

fn brpoplpush(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    blmove_generic(ctx, args, false, true, &args[3])
}
