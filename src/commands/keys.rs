//! Generic key commands (Redis's `db.c` and `expire.c`): existence, deletion, renaming, TTLs,
//! iteration, and database-level operations.

use super::table::{cmd, flags::*, sub, CommandSpec};
use super::{arg_i64, arg_str, is_opt, reply_help, CmdError, CmdResult, Ctx};
use crate::store::glob::glob_match;
use bytes::Bytes;

/// The generic key commands.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "del",
        -2,
        WRITE,
        (1, -1, 1),
        "generic",
        "1.0.0",
        "Delete a key",
        del,
    ),
    cmd(
        "unlink",
        -2,
        WRITE | FAST,
        (1, -1, 1),
        "generic",
        "4.0.0",
        "Delete a key asynchronously in another thread",
        unlink,
    ),
    cmd(
        "exists",
        -2,
        READONLY | FAST,
        (1, -1, 1),
        "generic",
        "1.0.0",
        "Determine if a key exists",
        exists,
    ),
    cmd(
        "type",
        2,
        READONLY | FAST,
        (1, 1, 1),
        "generic",
        "1.0.0",
        "Determine the type stored at key",
        type_cmd,
    ),
    cmd(
        "keys",
        2,
        READONLY,
        (0, 0, 0),
        "generic",
        "1.0.0",
        "Find all keys matching the given pattern",
        keys,
    ),
    cmd(
        "scan",
        -2,
        READONLY,
        (0, 0, 0),
        "generic",
        "2.8.0",
        "Incrementally iterate the keys space",
        scan,
    ),
    cmd(
        "randomkey",
        1,
        READONLY,
        (0, 0, 0),
        "generic",
        "1.0.0",
        "Return a random key from the keyspace",
        randomkey,
    ),
    cmd(
        "rename",
        3,
        WRITE,
        (1, 2, 1),
        "generic",
        "1.0.0",
        "Rename a key",
        rename,
    ),
    cmd(
        "renamenx",
        3,
        WRITE | FAST,
        (1, 2, 1),
        "generic",
        "1.0.0",
        "Rename a key, only if the new key does not exist",
        renamenx,
    ),
    cmd(
        "copy",
        -3,
        WRITE | DENYOOM,
        (1, 2, 1),
        "generic",
        "6.2.0",
        "Copy a key",
        copy,
    ),
    cmd(
        "move",
        3,
        WRITE | FAST,
        (1, 1, 1),
        "generic",
        "1.0.0",
        "Move a key to another database",
        move_cmd,
    ),
    cmd(
        "touch",
        -2,
        READONLY | FAST,
        (1, -1, 1),
        "generic",
        "3.2.1",
        "Alters the last access time of a key(s). Returns the number of existing keys specified.",
        touch,
    ),
    cmd(
        "object",
        -2,
        READONLY,
        (2, 2, 1),
        "generic",
        "2.2.3",
        "A container for object introspection commands",
        object,
    )
    .subcommands(&[
        sub("object|encoding", 3),
        sub("object|freq", 3),
        sub("object|help", 2),
        sub("object|idletime", 3),
        sub("object|refcount", 3),
    ]),
    cmd(
        "expire",
        -3,
        WRITE | FAST,
        (1, 1, 1),
        "generic",
        "1.0.0",
        "Set a key's time to live in seconds",
        expire,
    ),
    cmd(
        "pexpire",
        -3,
        WRITE | FAST,
        (1, 1, 1),
        "generic",
        "2.6.0",
        "Set a key's time to live in milliseconds",
        pexpire,
    ),
    cmd(
        "expireat",
        -3,
        WRITE | FAST,
        (1, 1, 1),
        "generic",
        "1.2.0",
        "Set the expiration for a key as a UNIX timestamp",
        expireat,
    ),
    cmd(
        "pexpireat",
        -3,
        WRITE | FAST,
        (1, 1, 1),
        "generic",
        "2.6.0",
        "Set the expiration for a key as a UNIX timestamp specified in milliseconds",
        pexpireat,
    ),
    cmd(
        "ttl",
        2,
        READONLY | FAST,
        (1, 1, 1),
        "generic",
        "1.0.0",
        "Get the time to live for a key in seconds",
        ttl,
    ),
    cmd(
        "pttl",
        2,
        READONLY | FAST,
        (1, 1, 1),
        "generic",
        "2.6.0",
        "Get the time to live for a key in milliseconds",
        pttl,
    ),
    cmd(
        "expiretime",
        2,
        READONLY | FAST,
        (1, 1, 1),
        "generic",
        "7.0.0",
        "Get the expiration Unix timestamp for a key",
        expiretime,
    ),
    cmd(
        "pexpiretime",
        2,
        READONLY | FAST,
        (1, 1, 1),
        "generic",
        "7.0.0",
        "Get the expiration Unix timestamp for a key in milliseconds",
        pexpiretime,
    ),
    cmd(
        "persist",
        2,
        WRITE | FAST,
        (1, 1, 1),
        "generic",
        "2.2.0",
        "Remove the expiration from a key",
        persist,
    ),
    cmd(
        "dbsize",
        1,
        READONLY | FAST,
        (0, 0, 0),
        "server",
        "1.0.0",
        "Return the number of keys in the selected database",
        dbsize,
    ),
    cmd(
        "select",
        2,
        LOADING | STALE | FAST,
        (0, 0, 0),
        "connection",
        "1.0.0",
        "Change the selected database for the current connection",
        select,
    ),
    cmd(
        "swapdb",
        3,
        WRITE | FAST,
        (0, 0, 0),
        "server",
        "4.0.0",
        "Swaps two Redis databases",
        swapdb,
    ),
    cmd(
        "flushdb",
        -1,
        WRITE,
        (0, 0, 0),
        "server",
        "1.0.0",
        "Remove all keys from the current database",
        flushdb,
    ),
    cmd(
        "flushall",
        -1,
        WRITE,
        (0, 0, 0),
        "server",
        "1.0.0",
        "Remove all keys from all databases",
        flushall,
    ),
];

fn del(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let lazy = ctx.shared.hot.lazy_user_del();
    delete_keys(ctx, args, lazy)
}

fn unlink(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    delete_keys(ctx, args, true)
}

/// DEL and UNLINK: `lazy` hands large values to the lazyfree thread instead of freeing them
/// before the reply.
fn delete_keys(ctx: &mut Ctx, args: &[Bytes], lazy: bool) -> CmdResult {
    let db = ctx.db();
    let mut n = 0;
    for key in &args[1..] {
        let deleted = if lazy {
            ctx.ks.unlink(db, key)
        } else {
            ctx.ks.delete(db, key)
        };
        if deleted {
            ctx.wrote(b'g', "del", key);
            n += 1;
        }
    }
    ctx.out.int(n);
    Ok(())
}

fn exists(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let n = args[1..].iter().filter(|k| ctx.ks.exists(db, k)).count();
    ctx.out.int(n as i64);
    Ok(())
}

fn touch(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let n = args[1..]
        .iter()
        .filter(|k| ctx.ks.get(db, k).is_some())
        .count();
    ctx.out.int(n as i64);
    Ok(())
}

fn type_cmd(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let name = ctx.ks.peek(db, &args[1]).map_or("none", |v| v.type_name());
    ctx.out.simple(name);
    Ok(())
}

fn keys(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let pattern = &args[1];
    let all = &pattern[..] == b"*";
    let found: Vec<Vec<u8>> = ctx
        .ks
        .keys(db)
        .filter(|k| all || glob_match(pattern, k, false))
        .map(|k| k.to_vec())
        .collect();
    let live: Vec<Vec<u8>> = found
        .into_iter()
        .filter(|k| !ctx.ks.is_logically_expired(db, k))
        .collect();
    ctx.out.array(live.len());
    for k in &live {
        ctx.out.bulk(k);
    }
    Ok(())
}

/// Parses a SCAN-family cursor the way Redis 7.0 does with `strtoul`: an optional sign, decimal
/// digits (none at all reads as 0), a negative value wraps around, and leading spaces, trailing
/// garbage or overflow give `ERR invalid cursor`.
pub fn parse_cursor(arg: &[u8]) -> Result<u64, CmdError> {
    let invalid = || CmdError::err("invalid cursor");
    if arg.is_empty() {
        return Ok(0);
    }
    let (neg, digits) = match arg[0] {
        b'-' => (true, &arg[1..]),
        b'+' => (false, &arg[1..]),
        _ => (false, arg),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(invalid());
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add((d - b'0') as u64))
            .ok_or_else(invalid)?;
    }
    Ok(if neg { v.wrapping_neg() } else { v })
}

fn scan(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut cursor = parse_cursor(&args[1])?;
    let (mut pattern, mut count, mut type_filter): (Option<&[u8]>, i64, Option<String>) =
        (None, 10, None);
    let mut i = 2;
    while i < args.len() {
        let Some(value) = args.get(i + 1) else {
            return Err(CmdError::Syntax);
        };
        if is_opt(&args[i], "match") {
            pattern = Some(value);
        } else if is_opt(&args[i], "count") {
            count = arg_i64(value)?;
            if count < 1 {
                return Err(CmdError::Syntax);
            }
        } else if is_opt(&args[i], "type") {
            type_filter = Some(arg_str(value).to_ascii_lowercase());
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    let db = ctx.db();
    let mut found = Vec::new();
    let mut iterations = count * 10;
    loop {
        cursor = ctx.ks.scan(db, cursor, &mut found);
        iterations -= 1;
        if cursor == 0 || iterations <= 0 || found.len() as i64 >= count {
            break;
        }
    }
    let mut keys = Vec::with_capacity(found.len());
    for k in found {
        // MATCH * means no filter at all (so even the empty key is returned), as in Redis.
        if pattern.is_some_and(|p| p != b"*" && !glob_match(p, &k, false)) {
            continue;
        }
        let Some(v) = ctx.ks.peek(db, &k) else {
            continue;
        };
        if type_filter.as_deref().is_some_and(|t| t != v.type_name()) {
            continue;
        }
        keys.push(k);
    }
    ctx.out.array(2);
    ctx.out.bulk(cursor.to_string().as_bytes());
    ctx.out.array(keys.len());
    for k in &keys {
        ctx.out.bulk(k);
    }
    Ok(())
}

fn randomkey(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    match ctx.ks.random_key(db) {
        Some(k) => ctx.out.bulk(&k),
        None => ctx.out.null(),
    }
    Ok(())
}

fn rename_generic(ctx: &mut Ctx, args: &[Bytes], nx: bool) -> Result<bool, CmdError> {
    let db = ctx.db();
    let (src, dst) = (&args[1], &args[2]);
    if !ctx.ks.exists(db, src) {
        return Err(CmdError::err("no such key"));
    }
    if src == dst {
        return Ok(!nx);
    }
    if nx && ctx.ks.exists(db, dst) {
        return Ok(false);
    }
    let Some((value, ttl)) = ctx.ks.take(db, src) else {
        return Err(CmdError::err("no such key"));
    };
    ctx.ks.delete(db, dst);
    ctx.ks.set(db, dst, value, false);
    if let Some(at) = ttl {
        ctx.ks.set_expire(db, dst, at);
    }
    ctx.ks.signal_modified(db, src);
    ctx.notify(b'g', "rename_from", src);
    ctx.wrote(b'g', "rename_to", dst);
    Ok(true)
}

fn rename(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    rename_generic(ctx, args, false)?;
    ctx.out.ok();
    Ok(())
}

fn renamenx(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let done = rename_generic(ctx, args, true)?;
    ctx.out.int(done as i64);
    Ok(())
}

/// Parses a database index argument against the configured number of databases.
fn db_index(ctx: &Ctx, arg: &[u8], invalid: Option<&str>) -> Result<usize, CmdError> {
    let n = match (arg_i64(arg), invalid) {
        (Ok(n), _) => n,
        (Err(_), Some(msg)) => return Err(CmdError::err(msg)),
        (Err(e), None) => return Err(e),
    };
    if n < 0 || n as usize >= ctx.ks.db_count() {
        return Err(CmdError::err("DB index is out of range"));
    }
    Ok(n as usize)
}

fn copy(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let src_db = ctx.db();
    let mut dst_db = src_db;
    let mut replace = false;
    let mut i = 3;
    while i < args.len() {
        if is_opt(&args[i], "replace") {
            replace = true;
        } else if is_opt(&args[i], "db") && i + 1 < args.len() {
            dst_db = db_index(ctx, &args[i + 1], None)?;
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    let (src, dst) = (&args[1], &args[2]);
    if src_db == dst_db && src == dst {
        return Err(CmdError::err("source and destination objects are the same"));
    }
    let Some(value) = ctx.ks.peek(src_db, src).cloned() else {
        ctx.out.int(0);
        return Ok(());
    };
    let ttl = ctx.ks.expire_at(src_db, src);
    if ctx.ks.exists(dst_db, dst) {
        if !replace {
            ctx.out.int(0);
            return Ok(());
        }
        ctx.ks.delete(dst_db, dst);
    }
    ctx.ks.set(dst_db, dst, value, false);
    if let Some(at) = ttl {
        ctx.ks.set_expire(dst_db, dst, at);
    }
    wrote_in(ctx, dst_db, "copy_to", dst);
    ctx.out.int(1);
    Ok(())
}

/// [`Ctx::wrote`] for a key in another database than the client's (COPY DB, MOVE).
fn wrote_in(ctx: &mut Ctx, db: usize, event: &str, key: &[u8]) {
    ctx.ks.dirty += 1;
    ctx.ks.signal_modified(db, key);
    ctx.blocked.signal(db, key);
    notify_in(ctx, db, event, key);
}

/// [`Ctx::notify`] of a generic event for a key in another database than the client's.
fn notify_in(ctx: &mut Ctx, db: usize, event: &str, key: &[u8]) {
    ctx.publish_logged_events();
    super::notify_keyspace_event(ctx.shared, ctx.pubsub, db, b'g', event, key);
}

fn move_cmd(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let src_db = ctx.db();
    let dst_db = db_index(ctx, &args[2], None)?;
    if src_db == dst_db {
        return Err(CmdError::err("source and destination objects are the same"));
    }
    let key = &args[1];
    if !ctx.ks.exists(src_db, key) || ctx.ks.exists(dst_db, key) {
        ctx.out.int(0);
        return Ok(());
    }
    if let Some((value, ttl)) = ctx.ks.take(src_db, key) {
        ctx.ks.set(dst_db, key, value, false);
        if let Some(at) = ttl {
            ctx.ks.set_expire(dst_db, key, at);
        }
    }
    ctx.ks.signal_modified(src_db, key);
    notify_in(ctx, src_db, "move_from", key);
    wrote_in(ctx, dst_db, "move_to", key);
    ctx.out.int(1);
    Ok(())
}

fn object(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let sub = arg_str(&args[1]).to_ascii_lowercase();
    if sub == "help" {
        reply_help(
            ctx,
            &[
                "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "ENCODING <key>",
                "    Return the kind of internal representation used in order to store the value",
                "    associated with a <key>.",
                "FREQ <key>",
                "    Return the access frequency index of the <key>. The returned integer is",
                "    proportional to the logarithm of the recent access frequency of the key.",
                "IDLETIME <key>",
                "    Return the idle time of the <key>, that is the approximated number of",
                "    seconds elapsed since the last access to the key.",
                "REFCOUNT <key>",
                "    Return the number of references of the value associated with the specified",
                "    <key>.",
                "HELP",
                "    Prints this help.",
            ],
        );
        return Ok(());
    }
    let policy = ctx.ks.access_policy;
    let lfu = matches!(policy, crate::store::access::AccessPolicy::Lfu { .. });
    let db = ctx.db();
    let limits = ctx.limits();
    let now = ctx.ks.now;
    let Some(entry) = ctx.ks.peek_entry(db, &args[2]) else {
        ctx.out.null();
        return Ok(());
    };
    match sub.as_str() {
        "encoding" => {
            let enc = entry.value.encoding(&limits);
            ctx.out.bulk(enc.as_bytes());
        }
        "refcount" => {
            // Redis shares the integers 0..9999 and reports them with INT_MAX references.
            let shared =
                matches!(entry.value, crate::store::Value::Int(n) if (0..10_000).contains(&n));
            ctx.out.int(if shared { i32::MAX as i64 } else { 1 });
        }
        "idletime" if lfu => {
            return Err(CmdError::err("An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
        }
        "idletime" => {
            let idle = crate::store::access::AccessPolicy::idle_seconds(entry.access, now);
            ctx.out.int(idle as i64);
        }
        _ if !lfu => {
            return Err(CmdError::err("An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
        }
        _ => ctx.out.int(policy.frequency(entry.access, now) as i64),
    }
    Ok(())
}

/// Which EXPIRE condition (Redis 7.0's NX | XX | GT | LT) applies.
#[derive(Default)]
struct ExpireFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

fn parse_expire_flags(args: &[Bytes]) -> Result<ExpireFlags, CmdError> {
    let mut f = ExpireFlags::default();
    for a in args {
        if is_opt(a, "nx") {
            f.nx = true;
        } else if is_opt(a, "xx") {
            f.xx = true;
        } else if is_opt(a, "gt") {
            f.gt = true;
        } else if is_opt(a, "lt") {
            f.lt = true;
        } else {
            return Err(CmdError::err(format!("Unsupported option {}", arg_str(a))));
        }
    }
    if f.nx && (f.xx || f.gt || f.lt) {
        return Err(CmdError::err(
            "NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if f.gt && f.lt {
        return Err(CmdError::err(
            "GT and LT options at the same time are not compatible",
        ));
    }
    Ok(f)
}

/// EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT (Redis's `expireGenericCommand`).
fn expire_generic(
    ctx: &mut Ctx,
    args: &[Bytes],
    unit_ms: i64,
    absolute: bool,
    name: &str,
) -> CmdResult {
    // Redis reads the flags before the number: with both wrong, the flag's error wins.
    let flags = parse_expire_flags(&args[3..])?;
    let n = arg_i64(&args[2])?;
    let invalid = || CmdError::err(format!("invalid expire time in '{name}' command"));
    let mut when = n.checked_mul(unit_ms).ok_or_else(invalid)?;
    if !absolute {
        when = when.checked_add(ctx.ks.now).ok_or_else(invalid)?;
    }
    let db = ctx.db();
    let key = &args[1];
    if !ctx.ks.exists(db, key) {
        ctx.out.int(0);
        return Ok(());
    }
    let current = ctx.ks.expire_at(db, key);
    let allowed = match current {
        Some(cur) => !flags.nx && (!flags.gt || when > cur) && (!flags.lt || when < cur),
        // No TTL counts as infinite: GT never beats it, LT always does.
        None => !flags.xx && !flags.gt,
    };
    if !allowed {
        ctx.out.int(0);
        return Ok(());
    }
    if when <= ctx.ks.now && !ctx.ks.is_replica {
        ctx.ks.delete(db, key);
        ctx.wrote(b'g', "del", key);
    } else {
        ctx.ks.set_expire(db, key, when);
        ctx.wrote(b'g', "expire", key);
    }
    ctx.out.int(1);
    Ok(())
}

fn expire(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    expire_generic(ctx, args, 1000, false, "expire")
}

fn pexpire(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    expire_generic(ctx, args, 1, false, "pexpire")
}

fn expireat(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    expire_generic(ctx, args, 1000, true, "expireat")
}

fn pexpireat(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    expire_generic(ctx, args, 1, true, "pexpireat")
}

/// TTL / PTTL / EXPIRETIME / PEXPIRETIME (Redis's `ttlGenericCommand`).
fn ttl_generic(ctx: &mut Ctx, key: &[u8], output_ms: bool, absolute: bool) -> CmdResult {
    let db = ctx.db();
    if !ctx.ks.exists(db, key) {
        ctx.out.int(-2);
        return Ok(());
    }
    let Some(at) = ctx.ks.expire_at(db, key) else {
        ctx.out.int(-1);
        return Ok(());
    };
    let t = if absolute {
        at
    } else {
        (at - ctx.ks.now).max(0)
    };
    ctx.out.int(if output_ms { t } else { (t + 500) / 1000 });
    Ok(())
}

fn ttl(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, &args[1], false, false)
}

fn pttl(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, &args[1], true, false)
}

fn expiretime(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, &args[1], false, true)
}

fn pexpiretime(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, &args[1], true, true)
}

fn persist(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let removed = ctx.ks.persist(db, &args[1]);
    if removed {
        ctx.wrote(b'g', "persist", &args[1]);
    }
    ctx.out.int(removed as i64);
    Ok(())
}

fn dbsize(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    let n = ctx.ks.dbsize(ctx.db());
    ctx.out.int(n as i64);
    Ok(())
}

fn select(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = db_index(ctx, &args[1], None)?;
    ctx.client.db = db;
    ctx.out.ok();
    Ok(())
}

fn swapdb(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let a = db_index(ctx, &args[1], Some("invalid first DB index"))?;
    let b = db_index(ctx, &args[2], Some("invalid second DB index"))?;
    ctx.ks.swap_dbs(a, b);
    ctx.dirty(1);
    // Clients blocked on keys of either database may now find data.
    ctx.blocked.signal_db(a);
    ctx.blocked.signal_db(b);
    ctx.out.ok();
    Ok(())
}

/// FLUSHDB / FLUSHALL take an optional ASYNC or SYNC; without one `lazyfree-lazy-user-flush`
/// decides, as in Redis. True when the old data is freed in the background (by the lazyfree
/// thread, see `store::lazyfree`); a synchronous flush frees it before replying.
fn flush_mode(ctx: &Ctx, args: &[Bytes]) -> Result<bool, CmdError> {
    match args.len() {
        1 => Ok(ctx.shared.config().bool("lazyfree-lazy-user-flush")),
        2 if is_opt(&args[1], "async") => Ok(true),
        2 if is_opt(&args[1], "sync") => Ok(false),
        _ => Err(CmdError::Syntax),
    }
}

fn flushdb(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let lazy = flush_mode(ctx, args)?;
    let db = ctx.db();
    let n = ctx.ks.flush_db(db, lazy);
    ctx.dirty(n as u64);
    ctx.out.ok();
    Ok(())
}

fn flushall(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let lazy = flush_mode(ctx, args)?;
    let n = ctx.ks.flush_all(lazy);
    ctx.dirty(n as u64);
    // As Redis: a running background save is killed, and with save points the (now empty)
    // dataset is saved at once, which resets the change counter.
    use crate::server::persistence;
    persistence::kill_bgsave(ctx.ks, ctx.persistence);
    let cfg = ctx.shared.config().clone();
    if persistence::has_save_points(&cfg) {
        let repl = ctx.repl.rdb_aux();
        if let Err(e) = persistence::save_foreground(
            ctx.ks,
            ctx.persistence,
            &mut ctx.intro.last_save,
            &cfg,
            repl,
        ) {
            tracing::warn!("FLUSHALL could not save the empty dataset: {e}");
        }
    }
    ctx.dirty(1);
    ctx.out.ok();
    Ok(())
}
