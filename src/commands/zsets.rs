//! Sorted-set commands (Redis's t_zset.c), including the blocking pops.

use super::keys::parse_cursor;
use super::table::{cmd, flags::*, CommandSpec, MemberArg};
use super::{arg_i64, is_opt, parse_timeout, CmdError, CmdResult, Ctx};
use crate::protocol::{Out, Resp};
use crate::server::TimeoutReply;
use crate::store::glob::glob_match;
use crate::store::{CompactBytes, Keyspace, SetMember, Value, ZSet};
use bytes::Bytes;
use std::borrow::Cow;
use std::collections::HashMap;

const G: &str = "sorted-set";

/// The commands of this family.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "zadd",
        -4,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        G,
        "1.2.0",
        "Add one or more members to a sorted set, or update its score if it already exists",
        zadd,
    )
    .member(MemberArg::Last),
    cmd(
        "zincrby",
        4,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        G,
        "1.2.0",
        "Increment the score of a member in a sorted set",
        zincrby,
    )
    .member(MemberArg::Last),
    cmd(
        "zrem",
        -3,
        WRITE | FAST,
        (1, 1, 1),
        G,
        "1.2.0",
        "Remove one or more members from a sorted set",
        zrem,
    )
    .member(MemberArg::At(2)),
    cmd(
        "zcard",
        2,
        READONLY | FAST,
        (1, 1, 1),
        G,
        "1.2.0",
        "Get the number of members in a sorted set",
        zcard,
    ),
    cmd(
        "zcount",
        4,
        READONLY | FAST,
        (1, 1, 1),
        G,
        "2.0.0",
        "Count the members in a sorted set with scores within the given values",
        zcount,
    ),
    cmd(
        "zlexcount",
        4,
        READONLY | FAST,
        (1, 1, 1),
        G,
        "2.8.9",
        "Count the number of members in a sorted set between a given lexicographical range",
        zlexcount,
    ),
    cmd(
        "zscore",
        3,
        READONLY | FAST,
        (1, 1, 1),
        G,
        "1.2.0",
        "Get the score associated with the given member in a sorted set",
        zscore,
    )
    .member(MemberArg::At(2)),
    cmd(
        "zmscore",
        -3,
        READONLY | FAST,
        (1, 1, 1),
        G,
        "6.2.0",
        "Get the score associated with the given members in a sorted set",
        zmscore,
    )
    .member(MemberArg::At(2)),
    cmd(
        "zrank",
        3,
        READONLY | FAST,
        (1, 1, 1),
        G,
        "2.0.0",
        "Determine the index of a member in a sorted set",
        zrank,
    )
    .member(MemberArg::At(2)),
    cmd(
        "zrevrank",
        3,
        READONLY | FAST,
        (1, 1, 1),
        G,
        "2.0.0",
        "Determine the index of a member in a sorted set, with scores ordered from high to low",
        zrevrank,
    )
    .member(MemberArg::At(2)),
    cmd(
        "zrange",
        -4,
        READONLY,
        (1, 1, 1),
        G,
        "1.2.0",
        "Return a range of members in a sorted set",
        zrange,
    ),
    cmd(
        "zrangestore",
        -5,
        WRITE | DENYOOM,
        (1, 2, 1),
        G,
        "6.2.0",
        "Store a range of members from sorted set into another key",
        zrangestore,
    ),
    cmd(
        "zrangebyscore",
        -4,
        READONLY,
        (1, 1, 1),
        G,
        "1.0.5",
        "Return a range of members in a sorted set, by score",
        zrangebyscore,
    ),
    cmd(
        "zrevrangebyscore",
        -4,
        READONLY,
        (1, 1, 1),
        G,
        "2.2.0",
        "Return a range of members in a sorted set, by score, with scores ordered from high to low",
        zrevrangebyscore,
    ),
    cmd(
        "zrangebylex",
        -4,
        READONLY,
        (1, 1, 1),
        G,
        "2.8.9",
        "Return a range of members in a sorted set, by lexicographical range",
        zrangebylex,
    ),
    cmd(
        "zrevrangebylex",
        -4,
        READONLY,
        (1, 1, 1),
        G,
        "2.8.9",
        "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.",
        zrevrangebylex,
    ),
    cmd(
        "zrevrange",
        -4,
        READONLY,
        (1, 1, 1),
        G,
        "1.2.0",
        "Return a range of members in a sorted set, by index, with scores ordered from high to low",
        zrevrange,
    ),
    cmd(
        "zremrangebyrank",
        4,
        WRITE,
        (1, 1, 1),
        G,
        "2.0.0",
        "Remove all members in a sorted set within the given indexes",
        zremrangebyrank,
    ),
    cmd(
        "zremrangebyscore",
        4,
        WRITE,
        (1, 1, 1),
        G,
        "1.2.0",
        "Remove all members in a sorted set within the given scores",
        zremrangebyscore,
    ),
    cmd(
        "zremrangebylex",
        4,
        WRITE,
        (1, 1, 1),
        G,
        "2.8.9",
        "Remove all members in a sorted set between the given lexicographical range",
        zremrangebylex,
    ),
    cmd(
        "zpopmin",
        -2,
        WRITE | FAST,
        (1, 1, 1),
        G,
        "5.0.0",
        "Remove and return members with the lowest scores in a sorted set",
        zpopmin,
    )
    .member(MemberArg::Pop { max: false }),
    cmd(
        "zpopmax",
        -2,
        WRITE | FAST,
        (1, 1, 1),
        G,
        "5.0.0",
        "Remove and return members with the highest scores in a sorted set",
        zpopmax,
    )
    .member(MemberArg::Pop { max: true }),
    cmd(
        "zmpop",
        -4,
        WRITE | MOVABLE_KEYS,
        (0, 0, 0),
        G,
        "7.0.0",
        "Remove and return members with scores in a sorted set",
        zmpop,
    ),
    cmd(
        "bzpopmin",
        -3,
        WRITE | NOSCRIPT | BLOCKING | FAST,
        (1, -2, 1),
        G,
        "5.0.0",
        "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available",
        bzpopmin,
    ),
    cmd(
        "bzpopmax",
        -3,
        WRITE | NOSCRIPT | BLOCKING | FAST,
        (1, -2, 1),
        G,
        "5.0.0",
        "Remove and return the member with the highest score from one or more sorted sets, or block until one is available",
        bzpopmax,
    ),
    cmd(
        "bzmpop",
        -5,
        WRITE | BLOCKING | MOVABLE_KEYS,
        (0, 0, 0),
        G,
        "7.0.0",
        "Remove and return members with scores in a sorted set or block until one is available",
        bzmpop,
    ),
    cmd(
        "zunion",
        -3,
        READONLY | MOVABLE_KEYS,
        (0, 0, 0),
        G,
        "6.2.0",
        "Add multiple sorted sets",
        zunion,
    ),
    cmd(
        "zinter",
        -3,
        READONLY | MOVABLE_KEYS,
        (0, 0, 0),
        G,
        "6.2.0",
        "Intersect multiple sorted sets",
        zinter,
    ),
    cmd(
        "zdiff",
        -3,
        READONLY | MOVABLE_KEYS,
        (0, 0, 0),
        G,
        "6.2.0",
        "Subtract multiple sorted sets",
        zdiff,
    ),
    cmd(
        "zunionstore",
        -4,
        WRITE | DENYOOM | MOVABLE_KEYS,
        (1, 1, 1),
        G,
        "2.0.0",
        "Add multiple sorted sets and store the resulting sorted set in a new key",
        zunionstore,
    ),
    cmd(
        "zinterstore",
        -4,
        WRITE | DENYOOM | MOVABLE_KEYS,
        (1, 1, 1),
        G,
        "2.0.0",
        "Intersect multiple sorted sets and store the resulting sorted set in a new key",
        zinterstore,
    ),
    cmd(
        "zdiffstore",
        -4,
        WRITE | DENYOOM | MOVABLE_KEYS,
        (1, 1, 1),
        G,
        "6.2.0",
        "Subtract multiple sorted sets and store the resulting sorted set in a new key",
        zdiffstore,
    ),
    cmd(
        "zintercard",
        -3,
        READONLY | MOVABLE_KEYS,
        (0, 0, 0),
        G,
        "7.0.0",
        "Intersect multiple sorted sets and return the cardinality of the result",
        zintercard,
    ),
    cmd(
        "zrandmember",
        -2,
        READONLY,
        (1, 1, 1),
        G,
        "6.2.0",
        "Get one or multiple random elements from a sorted set",
        zrandmember,
    ),
    cmd(
        "zscan",
        -3,
        READONLY,
        (1, 1, 1),
        G,
        "2.8.0",
        "Incrementally iterate sorted sets elements and associated scores",
        zscan,
    ),
];

// ---------------------------------------------------------------------------------------------
// Number and range parsing with Redis's exact rules.
// ---------------------------------------------------------------------------------------------

fn c_isspace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// What C's `strtod` reads from the start of `s`.
struct Strtod {
    value: f64,
    /// Bytes consumed (0: no conversion).
    used: usize,
    /// The value overflowed, or underflowed to zero (`errno == ERANGE` with a huge or zero result).
    range_error: bool,
}

fn starts_with_ci(s: &[u8], word: &[u8]) -> bool {
    s.len() >= word.len() && s[..word.len()].eq_ignore_ascii_case(word)
}

/// Emulates glibc `strtod`: leading spaces, sign, `inf`/`infinity`, `nan`, hex floats and
/// decimal numbers with an optional exponent.
fn strtod(s: &[u8]) -> Strtod {
    let none = Strtod {
        value: 0.0,
        used: 0,
        range_error: false,
    };
    let mut i = 0;
    while i < s.len() && c_isspace(s[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let sign = if neg { -1.0 } else { 1.0 };
    let rest = &s[i..];
    if starts_with_ci(rest, b"inf") {
        let n = if starts_with_ci(rest, b"infinity") {
            8
        } else {
            3
        };
        return Strtod {
            value: sign * f64::INFINITY,
            used: i + n,
            range_error: false,
        };
    }
    if starts_with_ci(rest, b"nan") {
        let mut n = 3;
        if rest.get(3) == Some(&b'(') {
            if let Some(close) = rest[4..]
                .iter()
                .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_'))
            {
                if rest[4 + close] == b')' {
                    n = 4 + close + 1;
                }
            }
        }
        return Strtod {
            value: f64::NAN,
            used: i + n,
            range_error: false,
        };
    }
    if starts_with_ci(rest, b"0x") {
        let h = &rest[2..];
        let mut j = 0;
        let mut mant = 0.0f64;
        let mut digits = 0;
        let mut exp: i64 = 0;
        while j < h.len() && h[j].is_ascii_hexdigit() {
            mant = mant * 16.0 + (h[j] as char).to_digit(16).unwrap_or(0) as f64;
            j += 1;
            digits += 1;
        }
        if j < h.len() && h[j] == b'.' {
            j += 1;
            while j < h.len() && h[j].is_ascii_hexdigit() {
                mant = mant * 16.0 + (h[j] as char).to_digit(16).unwrap_or(0) as f64;
                exp -= 4;
                j += 1;
                digits += 1;
            }
        }
        if digits > 0 {
            if j < h.len() && (h[j] == b'p' || h[j] == b'P') {
                let mut k = j + 1;
                let mut eneg = false;
                if k < h.len() && (h[k] == b'+' || h[k] == b'-') {
                    eneg = h[k] == b'-';
                    k += 1;
                }
                let start = k;
                let mut e: i64 = 0;
                while k < h.len() && h[k].is_ascii_digit() {
                    e = (e * 10 + (h[k] - b'0') as i64).min(100_000);
                    k += 1;
                }
                if k > start {
                    exp += if eneg { -e } else { e };
                    j = k;
                }
            }
            let value = sign * mant * 2f64.powi(exp.clamp(-100_000, 100_000) as i32);
            let range_error = value.is_infinite() || (value == 0.0 && mant != 0.0);
            return Strtod {
                value,
                used: i + 2 + j,
                range_error,
            };
        }
        // "0x" without digits reads as "0".
        return Strtod {
            value: 0.0 * sign,
            used: i + 1,
            range_error: false,
        };
    }
    let mut j = 0;
    let mut digits = 0;
    let mut nonzero = false;
    while j < rest.len() && rest[j].is_ascii_digit() {
        nonzero |= rest[j] != b'0';
        j += 1;
        digits += 1;
    }
    if j < rest.len() && rest[j] == b'.' {
        j += 1;
        while j < rest.len() && rest[j].is_ascii_digit() {
            nonzero |= rest[j] != b'0';
            j += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return none;
    }
    if j < rest.len() && (rest[j] == b'e' || rest[j] == b'E') {
        let mut k = j + 1;
        if k < rest.len() && (rest[k] == b'+' || rest[k] == b'-') {
            k += 1;
        }
        let start = k;
        while k < rest.len() && rest[k].is_ascii_digit() {
            k += 1;
        }
        if k > start {
            j = k;
        }
    }
    let text = std::str::from_utf8(&rest[..j]).unwrap_or("0");
    let mag: f64 = text.parse().unwrap_or(0.0);
    let value = sign * mag;
    Strtod {
        value,
        used: i + j,
        range_error: mag.is_infinite() || (mag == 0.0 && nonzero),
    }
}

/// Parses a score the way Redis's `getDoubleFromObject` does: the whole argument, no leading
/// space, no NaN, no overflow or underflow to zero.
fn parse_score(arg: &[u8]) -> Option<f64> {
    if arg.is_empty() || c_isspace(arg[0]) {
        return None;
    }
    let r = strtod(arg);
    if r.used != arg.len() || r.range_error || r.value.is_nan() {
        return None;
    }
    Some(r.value)
}

/// A score interval (`(` makes a bound exclusive).
#[derive(Clone, Copy, Debug)]
struct ScoreRange {
    min: f64,
    min_ex: bool,
    max: f64,
    max_ex: bool,
}

impl ScoreRange {
    fn ge_min(&self, v: f64) -> bool {
        if self.min_ex {
            v > self.min
        } else {
            v >= self.min
        }
    }

    fn le_max(&self, v: f64) -> bool {
        if self.max_ex {
            v < self.max
        } else {
            v <= self.max
        }
    }

    fn span(&self, z: &ZSet) -> (usize, usize) {
        z.score_span(|v| self.ge_min(v), |v| self.le_max(v))
    }
}

/// One bound of a score range, as Redis's `zslParseRange` reads it with `strtod`.
fn parse_score_bound(arg: &[u8]) -> Option<(f64, bool)> {
    let (ex, text) = match arg.first() {
        Some(b'(') => (true, &arg[1..]),
        _ => (false, arg),
    };
    let r = strtod(text);
    let end_ok = r.used == text.len() || text[r.used] == 0;
    if !end_ok || r.value.is_nan() {
        return None;
    }
    Some((r.value, ex))
}

fn parse_score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
    let err = || CmdError::err("min or max is not a float");
    let (min, min_ex) = parse_score_bound(min).ok_or_else(err)?;
    let (max, max_ex) = parse_score_bound(max).ok_or_else(err)?;
    Ok(ScoreRange {
        min,
        min_ex,
        max,
        max_ex,
    })
}

/// One end of a lexicographic range.
#[derive(Clone, Debug, PartialEq)]
enum LexBound {
    Min,
    Max,
    Incl(Vec<u8>),
    Excl(Vec<u8>),
}

#[derive(Clone, Debug)]
struct LexRange {
    min: LexBound,
    max: LexBound,
}

impl LexRange {
    fn ge_min(&self, m: &[u8]) -> bool {
        match &self.min {
            LexBound::Min => true,
            LexBound::Max => false,
            LexBound::Incl(x) => m >= &x[..],
            LexBound::Excl(x) => m > &x[..],
        }
    }

    fn le_max(&self, m: &[u8]) -> bool {
        match &self.max {
            LexBound::Max => true,
            LexBound::Min => false,
            LexBound::Incl(x) => m <= &x[..],
            LexBound::Excl(x) => m < &x[..],
        }
    }

    /// False for ranges empty whatever the contents (Redis's `sdscmplex` test).
    fn can_match(&self) -> bool {
        use std::cmp::Ordering::*;
        let min_ex = !matches!(self.min, LexBound::Incl(_));
        let max_ex = !matches!(self.max, LexBound::Incl(_));
        let cmp = match (&self.min, &self.max) {
            (a, b) if a == b => Equal,
            (LexBound::Min, _) | (_, LexBound::Max) => Less,
            (LexBound::Max, _) | (_, LexBound::Min) => Greater,
            (LexBound::Incl(a) | LexBound::Excl(a), LexBound::Incl(b) | LexBound::Excl(b)) => {
                a.cmp(b)
            }
        };
        !(cmp == Greater || (cmp == Equal && (min_ex || max_ex)))
    }

    fn span(&self, z: &ZSet, rev: bool) -> (usize, usize) {
        if !self.can_match() {
            return (0, 0);
        }
        z.lex_span(|m| self.ge_min(m), |m| self.le_max(m), rev)
    }
}

fn parse_lex_bound(arg: &[u8]) -> Option<LexBound> {
    match arg.first()? {
        b'+' if arg.len() == 1 || arg[1] == 0 => Some(LexBound::Max),
        b'-' if arg.len() == 1 || arg[1] == 0 => Some(LexBound::Min),
        b'(' => Some(LexBound::Excl(arg[1..].to_vec())),
        b'[' => Some(LexBound::Incl(arg[1..].to_vec())),
        _ => None,
    }
}

fn parse_lex_range(min: &[u8], max: &[u8]) -> Result<LexRange, CmdError> {
    let err = || CmdError::err("min or max not valid string range item");
    Ok(LexRange {
        min: parse_lex_bound(min).ok_or_else(err)?,
        max: parse_lex_bound(max).ok_or_else(err)?,
    })
}

/// Orders entries as a sorted set does: by score, then member bytes.
fn cmp_entry(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> std::cmp::Ordering {
    match s1.partial_cmp(&s2) {
        Some(std::cmp::Ordering::Equal) | None => m1.cmp(m2),
        Some(o) => o,
    }
}

/// Redis's `getRangeLongFromObjectOrReply` with a custom message for every failure.
fn arg_range(arg: &[u8], min: i64, msg: &str) -> Result<i64, CmdError> {
    match crate::num::parse_i64(arg) {
        Some(v) if v >= min => Ok(v),
        _ => Err(CmdError::err(msg)),
    }
}

// ---------------------------------------------------------------------------------------------
// Keyspace access and replies.
// ---------------------------------------------------------------------------------------------

fn zset_ref<'a>(ks: &'a mut Keyspace, db: usize, key: &[u8]) -> Result<Option<&'a ZSet>, CmdError> {
    match ks.get(db, key) {
        None => Ok(None),
        Some(Value::ZSet(z)) => Ok(Some(z)),
        Some(_) => Err(CmdError::WrongType),
    }
}

fn zset_mut<'a>(
    ks: &'a mut Keyspace,
    db: usize,
    key: &[u8],
) -> Result<Option<&'a mut ZSet>, CmdError> {
    match ks.get_mut(db, key) {
        None => Ok(None),
        Some(Value::ZSet(z)) => Ok(Some(z)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// Records a change of a sorted set by `event`, deleting the key when it became empty.
fn after_write(ctx: &mut Ctx, key: &[u8], event: &'static str, now_empty: bool) {
    ctx.wrote(b'z', event, key);
    if now_empty {
        let db = ctx.db();
        ctx.ks.delete(db, key);
        ctx.wrote(b'g', "del", key);
    }
}

/// Writes `n` entries: a flat array (member, score, ...) in RESP2, (member, score) pairs in
/// RESP3 when `withscores`.
fn reply_entries<'a>(
    out: &mut Out,
    n: usize,
    withscores: bool,
    entries: impl Iterator<Item = (&'a [u8], f64)>,
) {
    let nested = withscores && out.resp != Resp::V2;
    out.array(if withscores && !nested { n * 2 } else { n });
    for (m, s) in entries.take(n) {
        if nested {
            out.array(2);
        }
        out.bulk(m);
        if withscores {
            out.double(s);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// ZADD, ZINCRBY, ZREM and the simple reads.
// ---------------------------------------------------------------------------------------------

fn zadd(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zadd_generic(ctx, args, false)
}

fn zincrby(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zadd_generic(ctx, args, true)
}

fn zadd_generic(ctx: &mut Ctx, args: &[Bytes], mut incr: bool) -> CmdResult {
    let (mut nx, mut xx, mut gt, mut lt, mut ch) = (false, false, false, false, false);
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        if is_opt(a, "nx") {
            nx = true;
        } else if is_opt(a, "xx") {
            xx = true;
        } else if is_opt(a, "ch") {
            ch = true;
        } else if is_opt(a, "incr") {
            incr = true;
        } else if is_opt(a, "gt") {
            gt = true;
        } else if is_opt(a, "lt") {
            lt = true;
        } else {
            break;
        }
        i += 1;
    }
    let elements = args.len() - i;
    if !elements.is_multiple_of(2) || elements == 0 {
        return Err(CmdError::Syntax);
    }
    let elements = elements / 2;
    if nx && xx {
        return Err(CmdError::err(
            "XX and NX options at the same time are not compatible",
        ));
    }
    if (nx && (gt || lt)) || (gt && lt) {
        return Err(CmdError::err(
            "GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if incr && elements > 1 {
        return Err(CmdError::err(
            "INCR option supports a single increment-element pair",
        ));
    }
    let mut scores = Vec::with_capacity(elements);
    for j in 0..elements {
        scores.push(parse_score(&args[i + j * 2]).ok_or(CmdError::NotFloat)?);
    }
    let key = &args[1];
    let db = ctx.db();
    let limits = ctx.limits();
    let exists = zset_mut(ctx.ks, db, key)?.is_some();
    if !exists {
        if xx {
            if incr {
                ctx.out.null();
            } else {
                ctx.out.int(0);
            }
            return Ok(());
        }
        ctx.ks.set(db, key, Value::ZSet(Box::default()), false);
    }
    let Ok(Some(z)) = zset_mut(ctx.ks, db, key) else {
        return Err(CmdError::WrongType);
    };
    let (mut added, mut updated, mut processed) = (0i64, 0i64, 0i64);
    let mut last = 0.0;
    let mut nan = false;
    for (j, &score0) in scores.iter().enumerate() {
        let member = &args[i + 1 + j * 2];
        z.upsert(member, &limits, |cur| {
            let mut score = score0;
            let Some(cur) = cur else {
                if xx {
                    return None;
                }
                added += 1;
                processed += 1;
                last = score;
                return Some(score);
            };
            if nx {
                return None;
            }
            if incr {
                score += cur;
                if score.is_nan() {
                    nan = true;
                    return None;
                }
            }
            if (lt && score >= cur) || (gt && score <= cur) {
                return None;
            }
            processed += 1;
            last = score;
            if score != cur {
                updated += 1;
            }
            Some(score)
        });
        if nan {
            break;
        }
    }
    let empty = z.is_empty();
    if empty {
        ctx.ks.delete(db, key);
    }
    if added > 0 || updated > 0 {
        ctx.wrote(b'z', if incr { "zincr" } else { "zadd" }, key);
    }
    if nan {
        return Err(CmdError::err("resulting score is not a number (NaN)"));
    }
    if incr {
        if processed > 0 {
            ctx.out.double(last);
        } else {
            ctx.out.null();
        }
    } else {
        ctx.out.int(if ch { added + updated } else { added });
    }
    Ok(())
}

fn zrem(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let Some(z) = zset_mut(ctx.ks, db, &args[1])? else {
        ctx.out.int(0);
        return Ok(());
    };
    let mut deleted = 0;
    for m in &args[2..] {
        if z.remove(m).is_some() {
            deleted += 1;
            if z.is_empty() {
                break;
            }
        }
    }
    let empty = z.is_empty();
    if deleted > 0 {
        after_write(ctx, &args[1], "zrem", empty);
    }
    ctx.out.int(deleted);
    Ok(())
}

fn zcard(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let n = zset_ref(ctx.ks, db, &args[1])?.map_or(0, |z| z.len());
    ctx.out.int(n as i64);
    Ok(())
}

fn zcount(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let range = parse_score_range(&args[2], &args[3])?;
    let db = ctx.db();
    let n = zset_ref(ctx.ks, db, &args[1])?.map_or(0, |z| {
        let (a, b) = range.span(z);
        b - a
    });
    ctx.out.int(n as i64);
    Ok(())
}

fn zlexcount(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let range = parse_lex_range(&args[2], &args[3])?;
    let db = ctx.db();
    let n = zset_ref(ctx.ks, db, &args[1])?.map_or(0, |z| {
        let (a, b) = range.span(z, false);
        b - a
    });
    ctx.out.int(n as i64);
    Ok(())
}

fn zscore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    match zset_ref(ctx.ks, db, &args[1])?.and_then(|z| z.score(&args[2])) {
        Some(s) => ctx.out.double(s),
        None => ctx.out.null(),
    }
    Ok(())
}

fn zmscore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let z = zset_ref(ctx.ks, db, &args[1])?;
    ctx.out.array(args.len() - 2);
    for m in &args[2..] {
        match z.and_then(|z| z.score(m)) {
            Some(s) => ctx.out.double(s),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

fn zrank_generic(ctx: &mut Ctx, args: &[Bytes], rev: bool) -> CmdResult {
    let db = ctx.db();
    let rank = zset_ref(ctx.ks, db, &args[1])?.and_then(|z| {
        z.rank(&args[2])
            .map(|r| if rev { z.len() - 1 - r } else { r })
    });
    match rank {
        Some(r) => ctx.out.int(r as i64),
        None => ctx.out.null(),
    }
    Ok(())
}

fn zrank(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zrank_generic(ctx, args, false)
}

fn zrevrank(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zrank_generic(ctx, args, true)
}

// ---------------------------------------------------------------------------------------------
// ZRANGE and its variants.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Auto,
    Rank,
    Score,
    Lex,
}

/// A parsed range query: which ranks to visit, in which direction.
enum Query {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

/// Resolves a query on `z` to (first rank visited, number of entries), walking downwards from
/// the first rank when `rev`.
fn resolve(z: &ZSet, q: &Query, rev: bool, offset: i64, limit: i64) -> (usize, usize) {
    let llen = z.len() as i64;
    let (a, b) = match q {
        Query::Rank(start, end) => {
            let (mut start, mut end) = (*start, *end);
            if start < 0 {
                start += llen;
            }
            if end < 0 {
                end += llen;
            }
            if start < 0 {
                start = 0;
            }
            if start > end || start >= llen {
                return (0, 0);
            }
            if end >= llen {
                end = llen - 1;
            }
            let n = (end - start + 1) as usize;
            return if rev {
                ((llen - 1 - start) as usize, n)
            } else {
                (start as usize, n)
            };
        }
        Query::Score(r) => r.span(z),
        Query::Lex(r) => r.span(z, rev),
    };
    if a >= b || offset < 0 || (offset > 0 && offset >= llen) {
        return (0, 0);
    }
    let avail = (b - a).saturating_sub(offset as usize);
    let n = if limit < 0 {
        avail
    } else {
        avail.min(limit as usize)
    };
    if n == 0 {
        return (0, 0);
    }
    let first = if rev {
        b - 1 - offset as usize
    } else {
        a + offset as usize
    };
    (first, n)
}

/// Redis's `zrangeGenericCommand`: `src` is the index of the source key, `dst` the destination
/// for ZRANGESTORE.
fn zrange_generic(
    ctx: &mut Ctx,
    args: &[Bytes],
    src: usize,
    dst: Option<&Bytes>,
    mut kind: Kind,
    mut rev: Option<bool>,
) -> CmdResult {
    let store = dst.is_some();
    let (mut withscores, mut offset, mut limit) = (false, 0i64, -1i64);
    let mut j = src + 3;
    while j < args.len() {
        let left = args.len() - j - 1;
        let a = &args[j];
        if !store && is_opt(a, "withscores") {
            withscores = true;
        } else if is_opt(a, "limit") && left >= 2 {
            offset = arg_i64(&args[j + 1])?;
            limit = arg_i64(&args[j + 2])?;
            j += 2;
        } else if rev.is_none() && is_opt(a, "rev") {
            rev = Some(true);
        } else if kind == Kind::Auto && is_opt(a, "bylex") {
            kind = Kind::Lex;
        } else if kind == Kind::Auto && is_opt(a, "byscore") {
            kind = Kind::Score;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let rev = rev.unwrap_or(false);
    if kind == Kind::Auto {
        kind = Kind::Rank;
    }
    if limit != -1 && kind == Kind::Rank {
        return Err(CmdError::err(
            "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && kind == Kind::Lex {
        return Err(CmdError::err(
            "syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    let (mut lo, mut hi) = (&args[src + 1], &args[src + 2]);
    if rev && kind != Kind::Rank {
        std::mem::swap(&mut lo, &mut hi);
    }
    let query = match kind {
        Kind::Score => Query::Score(parse_score_range(lo, hi)?),
        Kind::Lex => Query::Lex(parse_lex_range(lo, hi)?),
        _ => Query::Rank(arg_i64(lo)?, arg_i64(hi)?),
    };
    let db = ctx.db();
    let z = zset_ref(ctx.ks, db, &args[src])?;
    let Some(dst) = dst else {
        match z {
            None => ctx.out.array(0),
            Some(z) => {
                let (first, n) = resolve(z, &query, rev, offset, limit);
                reply_entries(ctx.out, n, withscores, z.range_iter(first, rev));
            }
        }
        return Ok(());
    };
    let entries: Vec<(f64, CompactBytes)> = match z {
        None => Vec::new(),
        Some(z) => {
            let (first, n) = resolve(z, &query, rev, offset, limit);
            z.range_iter(first, rev)
                .take(n)
                .map(|(m, s)| (s, CompactBytes::new(m)))
                .collect()
        }
    };
    store_result(ctx, dst, entries, "zrangestore");
    Ok(())
}

/// Stores a computed sorted set at `dst` (deleting it when the result is empty) and replies
/// with its size.
fn store_result(ctx: &mut Ctx, dst: &[u8], entries: Vec<(f64, CompactBytes)>, event: &'static str) {
    let db = ctx.db();
    let n = entries.len();
    if n > 0 {
        let limits = ctx.limits();
        let z = ZSet::from_entries(entries, &limits);
        ctx.ks.set(db, dst, Value::ZSet(Box::new(z)), false);
        ctx.wrote(b'z', event, dst);
    } else if ctx.ks.delete(db, dst) {
        ctx.wrote(b'g', "del", dst);
    }
    ctx.out.int(n as i64);
}

fn zrange(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, args, 1, None, Kind::Auto, None)
}

fn zrangestore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, args, 2, Some(&args[1]), Kind::Auto, None)
}

fn zrangebyscore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, args, 1, None, Kind::Score, Some(false))
}

fn zrevrangebyscore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, args, 1, None, Kind::Score, Some(true))
}

fn zrangebylex(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, args, 1, None, Kind::Lex, Some(false))
}

fn zrevrangebylex(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, args, 1, None, Kind::Lex, Some(true))
}

fn zrevrange(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, args, 1, None, Kind::Rank, Some(true))
}

// ---------------------------------------------------------------------------------------------
// ZREMRANGEBY*
// ---------------------------------------------------------------------------------------------

fn zremrange_generic(ctx: &mut Ctx, args: &[Bytes], kind: Kind) -> CmdResult {
    let query = match kind {
        Kind::Score => Query::Score(parse_score_range(&args[2], &args[3])?),
        Kind::Lex => Query::Lex(parse_lex_range(&args[2], &args[3])?),
        _ => Query::Rank(arg_i64(&args[2])?, arg_i64(&args[3])?),
    };
    let db = ctx.db();
    let Some(z) = zset_mut(ctx.ks, db, &args[1])? else {
        ctx.out.int(0);
        return Ok(());
    };
    let (first, n) = resolve(z, &query, false, 0, -1);
    let removed = z.remove_range(first, first + n);
    let empty = z.is_empty();
    if removed > 0 {
        let event = match kind {
            Kind::Score => "zremrangebyscore",
            Kind::Lex => "zremrangebylex",
            _ => "zremrangebyrank",
        };
        after_write(ctx, &args[1], event, empty);
    }
    ctx.out.int(removed as i64);
    Ok(())
}

fn zremrangebyrank(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zremrange_generic(ctx, args, Kind::Rank)
}

fn zremrangebyscore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zremrange_generic(ctx, args, Kind::Score)
}

fn zremrangebylex(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zremrange_generic(ctx, args, Kind::Lex)
}

// ---------------------------------------------------------------------------------------------
// Pops, blocking pops.
// ---------------------------------------------------------------------------------------------

/// Redis's `genericZpopCommand`: pops from the first existing key among `keys`. `count` -1 is a
/// plain single pop; `emit_key` prefixes the key (BZPOP*, ZMPOP); `nested` groups (member,
/// score) pairs; `nil_when_empty` answers a null array when no key exists.
fn zpop_generic(
    ctx: &mut Ctx,
    keys: &[Bytes],
    max: bool,
    emit_key: bool,
    count: i64,
    nested: bool,
    nil_when_empty: bool,
) -> CmdResult {
    let db = ctx.db();
    let mut found = None;
    for key in keys {
        if zset_mut(ctx.ks, db, key)?.is_some() {
            found = Some(key);
            break;
        }
    }
    let Some(key) = found else {
        if nil_when_empty {
            ctx.out.null_array();
        } else {
            ctx.out.array(0);
        }
        return Ok(());
    };
    if count == 0 {
        ctx.out.array(0);
        return Ok(());
    }
    let count = if count == -1 { 1 } else { count as u64 };
    let Ok(Some(z)) = zset_mut(ctx.ks, db, key) else {
        return Err(CmdError::WrongType);
    };
    let n = (z.len() as u64).min(count) as usize;
    let out = &mut *ctx.out;
    match (nested, emit_key) {
        (false, false) => out.array(n * 2),
        (true, false) => out.array(n),
        (false, true) => {
            out.array(n * 2 + 1);
            out.bulk(key);
        }
        (true, true) => {
            out.array(2);
            out.bulk(key);
            out.array(n);
        }
    }
    for _ in 0..n {
        let Some((m, s)) = z.pop(max) else { break };
        if nested {
            out.array(2);
        }
        out.bulk(&m);
        out.double(s);
    }
    let empty = z.is_empty();
    after_write(ctx, key, if max { "zpopmax" } else { "zpopmin" }, empty);
    Ok(())
}

fn zpop_cmd(ctx: &mut Ctx, args: &[Bytes], max: bool) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let mut count = -1;
    if args.len() == 3 {
        count = arg_range(&args[2], 0, "value is out of range, must be positive")?;
    }
    let nested = ctx.out.resp != Resp::V2 && count != -1;
    zpop_generic(ctx, &args[1..2], max, false, count, nested, false)
}

fn zpopmin(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zpop_cmd(ctx, args, false)
}

fn zpopmax(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zpop_cmd(ctx, args, true)
}

/// Redis's `blockingGenericZpopCommand`: pops from the first non-empty key, or blocks.
#[allow(clippy::too_many_arguments)]
fn blocking_zpop(
    ctx: &mut Ctx,
    args: &[Bytes],
    keys: &[Bytes],
    timeout_arg: &[u8],
    max: bool,
    count: i64,
    nested: bool,
    nil_when_empty: bool,
) -> CmdResult {
    let timeout = parse_timeout(ctx, timeout_arg)?;
    let db = ctx.db();
    for key in keys {
        if zset_mut(ctx.ks, db, key)?.is_some() {
            // Replicas run the plain pop on the key that was served.
            let mut effect = vec![
                Bytes::from_static(if max { b"ZPOPMAX" } else { b"ZPOPMIN" }),
                key.clone(),
            ];
            if count > 0 {
                effect.push(Bytes::from(count.to_string()));
            }
            ctx.repl.override_args = Some(vec![effect]);
            return zpop_generic(
                ctx,
                std::slice::from_ref(key),
                max,
                true,
                count,
                nested,
                nil_when_empty,
            );
        }
    }
    ctx.block(args, keys, timeout, TimeoutReply::NullArray);
    Ok(())
}

fn bzpopmin(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let n = args.len();
    blocking_zpop(
        ctx,
        args,
        &args[1..n - 1],
        &args[n - 1],
        false,
        -1,
        false,
        false,
    )
}

fn bzpopmax(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let n = args.len();
    blocking_zpop(
        ctx,
        args,
        &args[1..n - 1],
        &args[n - 1],
        true,
        -1,
        false,
        false,
    )
}

/// Redis's `zmpopGenericCommand`: `numkeys_idx` is where numkeys sits.
fn zmpop_generic(ctx: &mut Ctx, args: &[Bytes], numkeys_idx: usize, block: bool) -> CmdResult {
    let numkeys = arg_range(&args[numkeys_idx], 1, "numkeys should be greater than 0")?;
    let where_idx = (numkeys as u64).saturating_add(numkeys_idx as u64 + 1);
    if where_idx >= args.len() as u64 {
        return Err(CmdError::Syntax);
    }
    let where_idx = where_idx as usize;
    let max = if is_opt(&args[where_idx], "min") {
        false
    } else if is_opt(&args[where_idx], "max") {
        true
    } else {
        return Err(CmdError::Syntax);
    };
    let mut count = -1;
    let mut j = where_idx + 1;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if count == -1 && is_opt(&args[j], "count") && more > 0 {
            j += 1;
            count = arg_range(&args[j], 1, "count should be greater than 0")?;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    if count == -1 {
        count = 1;
    }
    let keys = &args[numkeys_idx + 1..where_idx];
    if block {
        blocking_zpop(ctx, args, keys, &args[1], max, count, true, true)
    } else {
        zpop_generic(ctx, keys, max, true, count, true, true)
    }
}

fn zmpop(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zmpop_generic(ctx, args, 1, false)
}

fn bzmpop(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zmpop_generic(ctx, args, 2, true)
}

// ---------------------------------------------------------------------------------------------
// ZUNION, ZINTER, ZDIFF (and STORE), ZINTERCARD.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

fn aggregate(target: &mut f64, val: f64, how: Aggregate) {
    match how {
        Aggregate::Sum => {
            *target += val;
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if val < *target {
                *target = val;
            }
        }
        Aggregate::Max => {
            if val > *target {
                *target = val;
            }
        }
    }
}

/// One input of a set operation: a sorted set, a plain set (every score 1) or nothing.
#[derive(Clone, Copy)]
enum Src<'a> {
    None,
    Z(&'a ZSet),
    S(&'a crate::store::Set),
}

impl<'a> Src<'a> {
    fn len(&self) -> usize {
        match self {
            Src::None => 0,
            Src::Z(z) => z.len(),
            Src::S(s) => s.len(),
        }
    }

    fn find(&self, m: &[u8]) -> Option<f64> {
        match self {
            Src::None => None,
            Src::Z(z) => z.score(m),
            Src::S(s) => s.contains(m).then_some(1.0),
        }
    }

    fn entries(&self) -> Box<dyn Iterator<Item = (Cow<'a, [u8]>, f64)> + 'a> {
        match *self {
            Src::None => Box::new(std::iter::empty()),
            Src::Z(z) => Box::new(z.iter().map(|(m, s)| (Cow::Borrowed(m), s))),
            Src::S(s) => Box::new(s.iter().map(|m| {
                let m = match m {
                    SetMember::Ref(b) => Cow::Borrowed(b),
                    other => Cow::Owned(other.to_vec()),
                };
                (m, 1.0)
            })),
        }
    }

    fn same(&self, other: &Src) -> bool {
        match (self, other) {
            (Src::Z(a), Src::Z(b)) => std::ptr::eq(*a, *b),
            (Src::S(a), Src::S(b)) => std::ptr::eq(*a, *b),
            _ => false,
        }
    }
}

/// Redis's `zunionInterDiffGenericCommand`.
fn zsetop(
    ctx: &mut Ctx,
    args: &[Bytes],
    name: &str,
    dst: Option<&Bytes>,
    numkeys_idx: usize,
    op: Op,
    card_only: bool,
) -> CmdResult {
    let setnum = arg_i64(&args[numkeys_idx])?;
    if setnum < 1 {
        return Err(CmdError::err(format!(
            "at least 1 input key is needed for '{name}' command"
        )));
    }
    if setnum as u64 > (args.len() - (numkeys_idx + 1)) as u64 {
        return Err(CmdError::Syntax);
    }
    let setnum = setnum as usize;
    let keys = &args[numkeys_idx + 1..numkeys_idx + 1 + setnum];
    let db = ctx.db();
    for k in keys {
        match ctx.ks.get(db, k) {
            None | Some(Value::ZSet(_)) | Some(Value::Set(_)) => {}
            Some(_) => return Err(CmdError::WrongType),
        }
    }
    let mut weights = vec![1.0f64; setnum];
    let mut how = Aggregate::Sum;
    let mut withscores = false;
    let mut limit = 0i64;
    let mut j = numkeys_idx + 1 + setnum;
    while j < args.len() {
        let remaining = args.len() - j;
        let a = &args[j];
        if op != Op::Diff && !card_only && remaining > setnum && is_opt(a, "weights") {
            j += 1;
            for w in weights.iter_mut() {
                *w = parse_score(&args[j])
                    .ok_or_else(|| CmdError::err("weight value is not a float"))?;
                j += 1;
            }
        } else if op != Op::Diff && !card_only && remaining >= 2 && is_opt(a, "aggregate") {
            let v = &args[j + 1];
            how = if is_opt(v, "sum") {
                Aggregate::Sum
            } else if is_opt(v, "min") {
                Aggregate::Min
            } else if is_opt(v, "max") {
                Aggregate::Max
            } else {
                return Err(CmdError::Syntax);
            };
            j += 2;
        } else if dst.is_none() && !card_only && is_opt(a, "withscores") {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && is_opt(a, "limit") {
            limit = arg_range(&args[j + 1], 0, "LIMIT can't be negative")?;
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let ks = &*ctx.ks;
    let dbref = ks.db(db);
    let mut srcs: Vec<(Src, f64)> = keys
        .iter()
        .zip(&weights)
        .map(|(k, &w)| {
            let v = if ks.is_logically_expired(db, k) {
                None
            } else {
                dbref.keys.get(k).map(|e| &e.value)
            };
            let src = match v {
                Some(Value::ZSet(z)) => Src::Z(z),
                Some(Value::Set(s)) => Src::S(s),
                _ => Src::None,
            };
            (src, w)
        })
        .collect();
    let mut result: Vec<(f64, Cow<[u8]>)> = Vec::new();
    let mut cardinality = 0u64;
    match op {
        Op::Inter => {
            srcs.sort_by_key(|(s, _)| s.len());
            let (first, w0) = srcs[0];
            if first.len() > 0 {
                for (m, s) in first.entries() {
                    let mut score = w0 * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    let mut all = true;
                    for (other, w) in &srcs[1..] {
                        let value = if other.same(&first) {
                            s * w
                        } else if let Some(v) = other.find(&m) {
                            v * w
                        } else {
                            all = false;
                            break;
                        };
                        aggregate(&mut score, value, how);
                    }
                    if !all {
                        continue;
                    }
                    if card_only {
                        cardinality += 1;
                        if limit > 0 && cardinality >= limit as u64 {
                            break;
                        }
                    } else {
                        result.push((score, m));
                    }
                }
            }
        }
        Op::Union => {
            srcs.sort_by_key(|(s, _)| s.len());
            let mut acc: HashMap<Cow<[u8]>, f64> = HashMap::new();
            for (src, w) in &srcs {
                for (m, s) in src.entries() {
                    let mut score = w * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    match acc.get_mut(&m) {
                        Some(t) => aggregate(t, score, how),
                        None => {
                            acc.insert(m, score);
                        }
                    }
                }
            }
            result = acc.into_iter().map(|(m, s)| (s, m)).collect();
        }
        Op::Diff => {
            let (first, _) = srcs[0];
            for (m, s) in first.entries() {
                if srcs[1..].iter().all(|(o, _)| o.find(&m).is_none()) {
                    result.push((s, m));
                }
            }
        }
    }
    if card_only {
        ctx.out.int(cardinality as i64);
        return Ok(());
    }
    if let Some(dst) = dst {
        let owned: Vec<(f64, CompactBytes)> = result
            .into_iter()
            .map(|(s, m)| (s, CompactBytes::new(&m)))
            .collect();
        let event = match op {
            Op::Union => "zunionstore",
            Op::Inter => "zinterstore",
            Op::Diff => "zdiffstore",
        };
        store_result(ctx, dst, owned, event);
        return Ok(());
    }
    result.sort_unstable_by(|a, b| cmp_entry(a.0, &a.1, b.0, &b.1));
    let n = result.len();
    reply_entries(
        ctx.out,
        n,
        withscores,
        result.iter().map(|(s, m)| (&m[..], *s)),
    );
    Ok(())
}

fn zunion(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zsetop(ctx, args, "zunion", None, 1, Op::Union, false)
}

fn zinter(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zsetop(ctx, args, "zinter", None, 1, Op::Inter, false)
}

fn zdiff(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zsetop(ctx, args, "zdiff", None, 1, Op::Diff, false)
}

fn zunionstore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zsetop(
        ctx,
        args,
        "zunionstore",
        Some(&args[1]),
        2,
        Op::Union,
        false,
    )
}

fn zinterstore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zsetop(
        ctx,
        args,
        "zinterstore",
        Some(&args[1]),
        2,
        Op::Inter,
        false,
    )
}

fn zdiffstore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zsetop(ctx, args, "zdiffstore", Some(&args[1]), 2, Op::Diff, false)
}

fn zintercard(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zsetop(ctx, args, "zintercard", None, 1, Op::Inter, true)
}

// ---------------------------------------------------------------------------------------------
// ZRANDMEMBER, ZSCAN.
// ---------------------------------------------------------------------------------------------

fn zrandmember(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let mut rng = rand::thread_rng();
    if args.len() < 3 {
        match zset_ref(ctx.ks, db, &args[1])?.and_then(|z| z.random(&mut rng)) {
            Some((m, _)) => ctx.out.bulk(m),
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
    if args.len() > 4 || (args.len() == 4 && !is_opt(&args[3], "withscores")) {
        return Err(CmdError::Syntax);
    }
    let withscores = args.len() == 4;
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
        return Err(CmdError::err("value is out of range"));
    }
    let Some(z) = zset_ref(ctx.ks, db, &args[1])? else {
        ctx.out.array(0);
        return Ok(());
    };
    let size = z.len();
    let (count, uniq) = (l.unsigned_abs(), l >= 0);
    if count == 0 {
        ctx.out.array(0);
        return Ok(());
    }
    if !uniq || count == 1 {
        let count = count as usize;
        reply_entries(
            ctx.out,
            count,
            withscores,
            std::iter::repeat_with(|| z.random(&mut rng)).map_while(|e| e),
        );
        return Ok(());
    }
    if count as usize >= size {
        // Redis 7.0 answers the whole set highest first here.
        reply_entries(ctx.out, size, withscores, z.range_iter(size - 1, true));
        return Ok(());
    }
    let picks = rand::seq::index::sample(&mut rng, size, count as usize);
    reply_entries(
        ctx.out,
        picks.len(),
        withscores,
        picks.into_iter().filter_map(|i| z.get(i)),
    );
    Ok(())
}

fn zscan(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let cursor = parse_cursor(&args[2])?;
    let db = ctx.db();
    let Some(z) = zset_ref(ctx.ks, db, &args[1])? else {
        ctx.out.array(2);
        ctx.out.bulk(b"0");
        ctx.out.array(0);
        return Ok(());
    };
    let mut count = 10i64;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 3;
    while i < args.len() {
        let left = args.len() - i;
        if is_opt(&args[i], "count") && left >= 2 {
            count = arg_i64(&args[i + 1])?;
            if count < 1 {
                return Err(CmdError::Syntax);
            }
        } else if is_opt(&args[i], "match") && left >= 2 {
            let p = &args[i + 1][..];
            pattern = if p == b"*" { None } else { Some(p) };
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    let mut found: Vec<(Vec<u8>, f64)> = Vec::new();
    let next = z.scan(cursor, count as usize, &mut |m, s| {
        if pattern.is_none_or(|p| glob_match(p, m, false)) {
            found.push((m.to_vec(), s));
        }
    });
    ctx.out.array(2);
    ctx.out.bulk(next.to_string().as_bytes());
    ctx.out.array(found.len() * 2);
    for (m, s) in found {
        ctx.out.bulk(&m);
        ctx.out.bulk(crate::num::format_g17(s).as_bytes());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_parse_like_strtod() {
        assert_eq!(parse_score(b"1.5"), Some(1.5));
        assert_eq!(parse_score(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_score(b"+Infinity"), Some(f64::INFINITY));
        assert_eq!(parse_score(b"0x10"), Some(16.0));
        assert_eq!(parse_score(b"0x1p-2"), Some(0.25));
        assert_eq!(parse_score(b"1e3"), Some(1000.0));
        assert_eq!(parse_score(b".5"), Some(0.5));
        assert_eq!(parse_score(b"5."), Some(5.0));
        assert!(parse_score(b"1e-310").is_some_and(|v| v > 0.0));
        for bad in [
            &b""[..],
            b" 1",
            b"1 ",
            b"nan",
            b"1e400",
            b"1e-400",
            b"abc",
            b"1e",
            b"--1",
            b"0x",
        ] {
            assert_eq!(parse_score(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
        // Range bounds: strtod with leading spaces and an empty text allowed.
        assert_eq!(parse_score_bound(b"(1"), Some((1.0, true)));
        assert_eq!(parse_score_bound(b""), Some((0.0, false)));
        assert_eq!(parse_score_bound(b"("), Some((0.0, true)));
        assert_eq!(parse_score_bound(b" 2"), Some((2.0, false)));
        assert_eq!(parse_score_bound(b"1e400"), Some((f64::INFINITY, false)));
        assert_eq!(parse_score_bound(b" "), None);
        assert_eq!(parse_score_bound(b"nan"), None);
        assert_eq!(parse_score_bound(b"1x"), None);
    }

    #[test]
    fn lex_ranges() {
        let r = parse_lex_range(b"[b", b"(d").unwrap();
        assert!(r.can_match() && r.ge_min(b"b") && !r.le_max(b"d"));
        assert!(!parse_lex_range(b"+", b"-").unwrap().can_match());
        assert!(!parse_lex_range(b"(a", b"[a").unwrap().can_match());
        assert!(parse_lex_range(b"[a", b"[a").unwrap().can_match());
        assert!(parse_lex_range(b"a", b"+").is_err());
        assert!(parse_lex_range(b"+x", b"+").is_err());
        assert!(parse_lex_range(b"", b"+").is_err());
    }
}
