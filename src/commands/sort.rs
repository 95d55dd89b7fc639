//! SORT and SORT_RO (Redis's sort.c): sorting lists, sets and sorted sets numerically or
//! lexicographically, by the elements themselves or by weights found in other keys (`BY`),
//! fetching related keys (`GET`), with `LIMIT`, and storing the result as a list (`STORE`).
//!
//! Redis's exact order is reproduced, ties included:
//! - numeric sorting compares the scores, ties broken by the elements' bytes;
//! - `ALPHA` compares bytes (`strcoll` in the C locale, which stops at a NUL byte; with `STORE`
//!   Redis compares whole binary strings instead), and with `BY` a missing weight sorts first;
//! - a full sort is glibc's `qsort`, which is a stable merge sort, so equal elements keep their
//!   load order; with `BY` and a `LIMIT` that does not cover everything Redis runs its own
//!   partial quicksort, which [`partial_sort`] follows step by step, since it decides the order
//!   of equal elements there.
//!
//! Scores are read the way Redis reads them with `strtod` (see [`strtod_score`]): leading
//! spaces, hexadecimal floats, `inf` and the empty string are accepted; trailing garbage, NaN,
//! overflow and inexact underflow are "One or more scores can't be converted into double".

use super::table::{cmd, flags::*, CommandSpec};
use super::{arg_i64, is_opt, CmdError, CmdResult, Ctx};
use crate::store::{Keyspace, List, Value};
use bytes::Bytes;
use std::cmp::Ordering;

/// The commands of this family.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "sort",
        -2,
        WRITE | DENYOOM | MOVABLE_KEYS,
        (1, 1, 1),
        "generic",
        "1.0.0",
        "Sort the elements in a list, set or sorted set",
        sort,
    ),
    cmd(
        "sort_ro",
        -2,
        READONLY | MOVABLE_KEYS,
        (1, 1, 1),
        "generic",
        "7.0.0",
        "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
        sort_ro,
    ),
];

/// Where SORT's `STORE` destination sits in `args` (COMMAND GETKEYS), found as Redis's
/// `sortGetKeys` does: options are scanned skipping the arguments of `LIMIT` (2), `GET` and `BY`
/// (1), and the last `STORE` followed by an argument wins.
pub fn store_key_position(args: &[Bytes]) -> Option<usize> {
    let mut found = None;
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        if is_opt(a, "limit") {
            i += 2;
        } else if is_opt(a, "get") || is_opt(a, "by") {
            i += 1;
        } else if is_opt(a, "store") && i + 1 < args.len() {
            found = Some(i + 1);
        }
        i += 1;
    }
    found
}

fn sort(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    sort_generic(ctx, args, false)
}

fn sort_ro(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    sort_generic(ctx, args, true)
}

/// The parsed options.
struct Options<'a> {
    desc: bool,
    alpha: bool,
    limit_start: i64,
    limit_count: i64,
    /// The last `BY` pattern.
    by: Option<&'a [u8]>,
    /// Some `BY` pattern had no `*`: nothing is sorted (it is never reset by a later `BY`).
    dontsort: bool,
    gets: Vec<&'a [u8]>,
    store: Option<&'a Bytes>,
}

fn parse_options(args: &[Bytes], readonly: bool) -> Result<Options<'_>, CmdError> {
    let mut o = Options {
        desc: false,
        alpha: false,
        limit_start: 0,
        limit_count: -1,
        by: None,
        dontsort: false,
        gets: Vec::new(),
        store: None,
    };
    let mut j = 2;
    while j < args.len() {
        let left = args.len() - j - 1;
        let a = &args[j];
        if is_opt(a, "asc") {
            o.desc = false;
        } else if is_opt(a, "desc") {
            o.desc = true;
        } else if is_opt(a, "alpha") {
            o.alpha = true;
        } else if is_opt(a, "limit") && left >= 2 {
            o.limit_start = arg_i64(&args[j + 1])?;
            o.limit_count = arg_i64(&args[j + 2])?;
            j += 2;
        } else if !readonly && is_opt(a, "store") && left >= 1 {
            o.store = Some(&args[j + 1]);
            j += 1;
        } else if is_opt(a, "by") && left >= 1 {
            let pattern = &args[j + 1][..];
            if !cstr(pattern).contains(&b'*') {
                o.dontsort = true;
            }
            o.by = Some(pattern);
            j += 1;
        } else if is_opt(a, "get") && left >= 1 {
            o.gets.push(&args[j + 1][..]);
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok(o)
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    List,
    Set,
    ZSet,
}

/// One element being sorted with its weight.
struct Item {
    obj: Vec<u8>,
    score: f64,
    /// The `BY` weight for `ALPHA` sorting (`None`: missing).
    cmp: Option<Vec<u8>>,
}

impl Item {
    fn new(obj: &[u8]) -> Item {
        Item {
            obj: obj.to_vec(),
            score: 0.0,
            cmp: None,
        }
    }
}

fn sort_generic(ctx: &mut Ctx, args: &[Bytes], readonly: bool) -> CmdResult {
    let mut o = parse_options(args, readonly)?;
    let db = ctx.db();
    let key = &args[1];
    let (kind, len) = match ctx.ks.get(db, key) {
        None => (Kind::List, 0usize),
        Some(Value::List(l)) => (Kind::List, l.len()),
        Some(Value::Set(s)) => (Kind::Set, s.len()),
        Some(Value::ZSet(z)) => (Kind::ZSet, z.len()),
        Some(_) => return Err(CmdError::WrongType),
    };

    // An unsorted set would be stored in hash-table order: Redis sorts it alphabetically then.
    if o.dontsort && kind == Kind::Set && o.store.is_some() {
        o.dontsort = false;
        o.alpha = true;
        o.by = None;
    }

    let vlen = len as i64;
    let mut start = o.limit_start.max(0).min(vlen);
    let count = o.limit_count.max(-1).min(vlen);
    let mut end = if count < 0 {
        vlen - 1
    } else {
        start + count - 1
    };
    if start >= vlen {
        start = vlen - 1;
        end = vlen - 2;
    }
    if end >= vlen {
        end = vlen - 1;
    }

    // Load the elements. Unsorted lists and sorted sets load only the requested range, in the
    // requested direction.
    let mut items: Vec<Item> = Vec::new();
    if o.dontsort && kind != Kind::Set {
        if end >= start {
            let (s, e) = (start as usize, end as usize);
            match ctx.ks.peek(db, key) {
                Some(Value::List(l)) if o.desc => {
                    items.extend(l.range(len - 1 - e, len - 1 - s).rev().map(Item::new));
                }
                Some(Value::List(l)) => items.extend(l.range(s, e).map(Item::new)),
                Some(Value::ZSet(z)) => {
                    let first = if o.desc { len - 1 - s } else { s };
                    items.extend(
                        z.range_iter(first, o.desc)
                            .take(e - s + 1)
                            .map(|(m, _)| Item::new(m)),
                    );
                }
                _ => {}
            }
            end -= start;
            start = 0;
        }
    } else {
        match ctx.ks.peek(db, key) {
            Some(Value::List(l)) => items.extend(l.iter().map(Item::new)),
            Some(Value::Set(s)) => items.extend(s.iter().map(|m| Item::new(&m))),
            Some(Value::ZSet(z)) => items.extend(z.iter().map(|(m, _)| Item::new(m))),
            _ => {}
        }
    }

    let mut conversion_error = false;
    if !o.dontsort {
        for it in items.iter_mut() {
            let looked;
            let weight: &[u8] = match o.by {
                Some(pattern) => match lookup_by_pattern(ctx.ks, db, pattern, &it.obj) {
                    Some(v) => {
                        looked = v;
                        &looked
                    }
                    None => continue,
                },
                None => &it.obj,
            };
            if o.alpha {
                if o.by.is_some() {
                    it.cmp = Some(weight.to_vec());
                }
            } else {
                match strtod_score(weight) {
                    Some(v) => it.score = v,
                    None => conversion_error = true,
                }
            }
        }
        if !conversion_error {
            let key = SortKey {
                desc: o.desc,
                alpha: o.alpha,
                by_pattern: o.by.is_some(),
                store: o.store.is_some(),
            };
            let cmp = |a: &Item, b: &Item| key.compare(a, b);
            if o.by.is_some() && (start != 0 || end != items.len() as i64 - 1) {
                partial_sort(&mut items, &cmp, start, end);
            } else {
                items.sort_by(cmp);
            }
        }
    }
    if conversion_error {
        return Err(CmdError::err(
            "One or more scores can't be converted into double",
        ));
    }

    let range = if end >= start {
        items.get(start as usize..=end as usize).unwrap_or(&[])
    } else {
        &[]
    };
    let output_len = range.len() * o.gets.len().max(1);
    match o.store {
        None => {
            ctx.out.array(output_len);
            for it in range {
                if o.gets.is_empty() {
                    ctx.out.bulk(&it.obj);
                }
                for pattern in &o.gets {
                    match lookup_by_pattern(ctx.ks, db, pattern, &it.obj) {
                        Some(v) => ctx.out.bulk(&v),
                        None => ctx.out.null(),
                    }
                }
            }
        }
        Some(dest) => {
            let mut list = List::with_capacity(output_len);
            for it in range {
                if o.gets.is_empty() {
                    list.push_back(&it.obj);
                }
                for pattern in &o.gets {
                    match lookup_by_pattern(ctx.ks, db, pattern, &it.obj) {
                        Some(v) => list.push_back(&v),
                        None => list.push_back(b""),
                    }
                }
            }
            if output_len > 0 {
                ctx.ks.set(db, dest, Value::List(Box::new(list)), false);
                ctx.wrote(b'l', "sortstore", dest);
                ctx.dirty(output_len as u64 - 1);
            } else if ctx.ks.delete(db, dest) {
                ctx.wrote(b'g', "del", dest);
            }
            ctx.out.int(output_len as i64);
        }
    }
    Ok(())
}

/// The comparison Redis's `sortCompare` makes, given the options of this SORT.
struct SortKey {
    desc: bool,
    alpha: bool,
    by_pattern: bool,
    store: bool,
}

impl SortKey {
    fn compare(&self, a: &Item, b: &Item) -> Ordering {
        let ord = if !self.alpha {
            match a.score.partial_cmp(&b.score) {
                Some(Ordering::Equal) | None => a.obj.cmp(&b.obj),
                Some(o) => o,
            }
        } else if self.by_pattern {
            match (&a.cmp, &b.cmp) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(x), Some(y)) => self.strings(x, y),
            }
        } else {
            self.strings(&a.obj, &b.obj)
        };
        if self.desc {
            ord.reverse()
        } else {
            ord
        }
    }

    /// `strcoll` (C locale: bytes up to the first NUL) or, when storing, a binary comparison.
    fn strings(&self, a: &[u8], b: &[u8]) -> Ordering {
        if self.store {
            a.cmp(b)
        } else {
            cstr(a).cmp(cstr(b))
        }
    }
}

/// The bytes of `s` a C string function sees: up to the first NUL.
fn cstr(s: &[u8]) -> &[u8] {
    match s.iter().position(|&c| c == 0) {
        Some(i) => &s[..i],
        None => s,
    }
}

/// Redis's `lookupKeyByPattern`: `#` is the element itself; otherwise the first `*` of the
/// pattern is replaced by the element to name a key, whose string value is returned, or, when
/// the pattern goes on with `->field` after the `*`, that field of the hash at the key.
/// Patterns are C strings here (a NUL byte ends the search for `*` and `->`).
fn lookup_by_pattern(
    ks: &mut Keyspace,
    db: usize,
    pattern: &[u8],
    subst: &[u8],
) -> Option<Vec<u8>> {
    if pattern.first() == Some(&b'#') && pattern.get(1).is_none_or(|&c| c == 0) {
        return Some(subst.to_vec());
    }
    let c = cstr(pattern);
    let star = c.iter().position(|&b| b == b'*')?;
    let arrow = c[star + 1..]
        .windows(2)
        .position(|w| w == b"->")
        .map(|i| star + 1 + i)
        .filter(|&f| c.len() > f + 2);
    let (postfix, field) = match arrow {
        Some(f) => (&pattern[star + 1..f], Some(&pattern[f + 2..])),
        None => (&pattern[star + 1..], None),
    };
    let mut name = Vec::with_capacity(star + subst.len() + postfix.len());
    name.extend_from_slice(&pattern[..star]);
    name.extend_from_slice(subst);
    name.extend_from_slice(postfix);
    let value = ks.get(db, &name)?;
    match field {
        Some(f) => match value {
            Value::Hash(h) => h.get(f).map(|v| v.to_vec()),
            _ => None,
        },
        None => value.as_bytes().map(|b| b.into_owned()),
    }
}

// ---------------------------------------------------------------------------------------------
// Scores
// ---------------------------------------------------------------------------------------------

/// A weight read as SORT reads it: C `strtod` over the C string (up to a NUL byte), which must
/// consume everything; NaN and `ERANGE` (overflow, or an underflow that loses precision) are
/// refused. The empty string is 0, leading white space is skipped, `inf`/`infinity` and
/// hexadecimal floats (`0x1.8p3`) are accepted.
fn strtod_score(s: &[u8]) -> Option<f64> {
    let s = cstr(s);
    if s.is_empty() {
        return Some(0.0);
    }
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let rest = &s[i..];
    let head = |n: usize| rest.get(..n).map(|p| p.to_ascii_lowercase());
    let v = if head(3).as_deref() == Some(b"inf") {
        let tail = &rest[3..];
        if !tail.is_empty() && !tail.eq_ignore_ascii_case(b"inity") {
            return None;
        }
        f64::INFINITY
    } else if head(3).as_deref() == Some(b"nan") {
        return None;
    } else if head(2).as_deref() == Some(b"0x") && hex_start(&rest[2..]) {
        parse_hex(&rest[2..])?
    } else {
        parse_decimal(rest)?
    };
    Some(if neg { -v } else { v })
}

/// True when hexadecimal digits follow `0x` (else strtod reads just the `0`).
fn hex_start(h: &[u8]) -> bool {
    match h.first() {
        Some(c) if c.is_ascii_hexdigit() => true,
        Some(b'.') => h.get(1).is_some_and(|c| c.is_ascii_hexdigit()),
        _ => false,
    }
}

/// Length of the run of ASCII digits at the start of `s`.
fn digits(s: &[u8], hex: bool) -> usize {
    s.iter()
        .take_while(|c| {
            if hex {
                c.is_ascii_hexdigit()
            } else {
                c.is_ascii_digit()
            }
        })
        .count()
}

/// Length of an exponent (`e`/`p`, optional sign, digits) at the start of `s`, 0 if none.
fn exponent_len(s: &[u8], letter: u8) -> usize {
    if s.first().map(|c| c.to_ascii_lowercase()) != Some(letter) {
        return 0;
    }
    let sign = usize::from(matches!(s.get(1), Some(b'+' | b'-')));
    let n = digits(&s[1 + sign..], false);
    if n == 0 {
        0
    } else {
        1 + sign + n
    }
}

/// An unsigned decimal that must make up all of `s`.
fn parse_decimal(s: &[u8]) -> Option<f64> {
    let int = digits(s, false);
    let mut k = int;
    let mut frac = 0;
    if s.get(k) == Some(&b'.') {
        frac = digits(&s[k + 1..], false);
        k += 1 + frac;
    }
    if int + frac == 0 {
        return None;
    }
    k += exponent_len(&s[k..], b'e');
    if k != s.len() {
        return None;
    }
    let v: f64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    let nonzero = s[..int + usize::from(frac > 0) + frac]
        .iter()
        .any(|c| (b'1'..=b'9').contains(c));
    if v.is_infinite() || v.is_subnormal() || (v == 0.0 && nonzero) {
        return None;
    }
    Some(v)
}

/// An unsigned hexadecimal float (after `0x`) that must make up all of `h`, rounded to
/// nearest; `None` on overflow or inexact underflow (`ERANGE`).
fn parse_hex(h: &[u8]) -> Option<f64> {
    let mut mant: u128 = 0;
    let mut sticky = false;
    let mut exp2: i64 = 0;
    let mut k = 0;
    let mut seen_point = false;
    while k < h.len() {
        let c = h[k];
        if c == b'.' && !seen_point {
            seen_point = true;
            k += 1;
            continue;
        }
        let Some(d) = (c as char).to_digit(16) else {
            break;
        };
        if mant >> 120 == 0 {
            mant = mant * 16 + d as u128;
            if seen_point {
                exp2 -= 4;
            }
        } else {
            sticky |= d != 0;
            if !seen_point {
                exp2 += 4;
            }
        }
        k += 1;
    }
    if let Some(b'p' | b'P') = h.get(k) {
        let n = exponent_len(&h[k..], b'p');
        if n > 0 {
            let text = &h[k + 1..k + n];
            let (neg, num) = match text[0] {
                b'-' => (true, &text[1..]),
                b'+' => (false, &text[1..]),
                _ => (false, text),
            };
            let mut e: i64 = 0;
            for &c in num {
                e = (e * 10 + (c - b'0') as i64).min(1 << 40);
            }
            exp2 += if neg { -e } else { e };
            k += n;
        }
    }
    if k != h.len() {
        return None;
    }
    if mant == 0 {
        return Some(0.0);
    }
    let bitlen = 128 - mant.leading_zeros() as i64;
    let top = bitlen - 1 + exp2;
    if top > 1023 {
        return None;
    }
    // Significant bits available at this magnitude (fewer below the normal range).
    let precision = if top >= -1022 { 53 } else { top + 1075 };
    if precision <= 0 {
        return None;
    }
    let shift = bitlen - precision;
    let (m, e, inexact) = if shift > 0 {
        let dropped = mant & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        let mut m = mant >> shift;
        if dropped > half || (dropped == half && (sticky || m & 1 == 1)) {
            m += 1;
        }
        (m, exp2 + shift, dropped != 0 || sticky)
    } else {
        (mant, exp2, sticky)
    };
    if top < -1022 && inexact {
        return None;
    }
    let v = scale(m as f64, e);
    if v.is_infinite() {
        return None;
    }
    Some(v)
}

/// `x * 2^e` in steps that stay exact while the result is representable.
fn scale(mut x: f64, mut e: i64) -> f64 {
    while e > 1000 {
        x *= 2f64.powi(1000);
        e -= 1000;
    }
    while e < -1000 {
        x *= 2f64.powi(-1000);
        e += 1000;
    }
    x * 2f64.powi(e as i32)
}

// ---------------------------------------------------------------------------------------------
// Redis's partial quicksort
// ---------------------------------------------------------------------------------------------

/// Sorts `v` enough for positions `lo..=hi` to hold what a full sort would put there, exactly
/// as Redis 7.0's `pqsort` does (Bentley and McIlroy's quicksort from "Engineering a Sort
/// Function", which skips partitions outside the range; this version has no switch to
/// insertion sort for runs that need no exchange). Equal elements end up in the same places
/// as in Redis, which matters for `ALPHA` sorts by weights.
fn partial_sort<T>(v: &mut [T], cmp: &dyn Fn(&T, &T) -> Ordering, lo: i64, hi: i64) {
    // Whether the run `base..base+n` shares a position with `lo..=hi`.
    let overlaps = |base: usize, n: usize| {
        let (s, e) = (base as i64, (base + n) as i64);
        !((lo < s && hi < s) || (lo >= e && hi >= e))
    };
    let mut base = 0usize;
    let mut n = v.len();
    loop {
        if n < 7 {
            insertion_sort(v, cmp, base, n);
            return;
        }
        let mut pm = base + n / 2;
        if n > 7 {
            let mut pl = base;
            let mut pn = base + n - 1;
            if n > 40 {
                let d = n / 8;
                pl = median3(v, cmp, pl, pl + d, pl + 2 * d);
                pm = median3(v, cmp, pm - d, pm, pm + d);
                pn = median3(v, cmp, pn - 2 * d, pn - d, pn);
            }
            pm = median3(v, cmp, pl, pm, pn);
        }
        v.swap(base, pm);
        let (mut pa, mut pb) = (base + 1, base + 1);
        let (mut pc, mut pd) = (base + n - 1, base + n - 1);
        loop {
            while pb <= pc {
                let r = cmp(&v[pb], &v[base]);
                if r == Ordering::Greater {
                    break;
                }
                if r == Ordering::Equal {
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let r = cmp(&v[pc], &v[base]);
                if r == Ordering::Less {
                    break;
                }
                if r == Ordering::Equal {
                    v.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        let pn = base + n;
        let r = (pa - base).min(pb - pa);
        swap_runs(v, base, pb - r, r);
        let r = (pd - pc).min(pn - pd - 1);
        swap_runs(v, pb, pn - r, r);
        let r = pb - pa;
        if r > 1 && overlaps(base, r) {
            partial_sort_from(v, cmp, lo, hi, base, r);
        }
        let r = pd - pc;
        if r <= 1 {
            return;
        }
        base = pn - r;
        n = r;
        if !overlaps(base, n) {
            return;
        }
    }
}

/// [`partial_sort`] of the run `base..base+n` of `v` (the recursion on the left part).
fn partial_sort_from<T>(
    v: &mut [T],
    cmp: &dyn Fn(&T, &T) -> Ordering,
    lo: i64,
    hi: i64,
    base: usize,
    n: usize,
) {
    let off = base as i64;
    partial_sort(&mut v[base..base + n], cmp, lo - off, hi - off);
}

fn insertion_sort<T>(v: &mut [T], cmp: &dyn Fn(&T, &T) -> Ordering, base: usize, n: usize) {
    for m in base + 1..base + n {
        let mut l = m;
        while l > base && cmp(&v[l - 1], &v[l]) == Ordering::Greater {
            v.swap(l, l - 1);
            l -= 1;
        }
    }
}

fn median3<T>(v: &[T], cmp: &dyn Fn(&T, &T) -> Ordering, a: usize, b: usize, c: usize) -> usize {
    use Ordering::{Greater, Less};
    if cmp(&v[a], &v[b]) == Less {
        if cmp(&v[b], &v[c]) == Less {
            b
        } else if cmp(&v[a], &v[c]) == Less {
            c
        } else {
            a
        }
    } else if cmp(&v[b], &v[c]) == Greater {
        b
    } else if cmp(&v[a], &v[c]) == Less {
        a
    } else {
        c
    }
}

/// Exchanges the `n` elements at `a` with the `n` at `b` (the runs do not overlap).
fn swap_runs<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        v.swap(a + i, b + i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtod_rules() {
        assert_eq!(strtod_score(b""), Some(0.0));
        assert_eq!(strtod_score(b" \t5"), Some(5.0));
        assert_eq!(strtod_score(b"5 "), None);
        assert_eq!(strtod_score(b"   "), None);
        assert_eq!(strtod_score(b"+"), None);
        assert_eq!(strtod_score(b"-.5e+1"), Some(-5.0));
        assert_eq!(strtod_score(b"5."), Some(5.0));
        assert_eq!(strtod_score(b"1e"), None);
        assert_eq!(strtod_score(b"12\0junk"), Some(12.0));
        assert_eq!(strtod_score(b"inf"), Some(f64::INFINITY));
        assert_eq!(strtod_score(b"-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(strtod_score(b"infinit"), None);
        assert_eq!(strtod_score(b"nan"), None);
        assert_eq!(strtod_score(b"1e308"), Some(1e308));
        assert_eq!(strtod_score(b"1.8e308"), None);
        assert_eq!(strtod_score(b"1e-310"), None);
        assert_eq!(strtod_score(b"0e-999"), Some(0.0));
        assert_eq!(
            strtod_score(b"2.2250738585072014e-308"),
            Some(f64::MIN_POSITIVE)
        );
        assert_eq!(strtod_score(b"0x10"), Some(16.0));
        assert_eq!(strtod_score(b"0X1.8p1"), Some(3.0));
        assert_eq!(strtod_score(b"0x1P+3"), Some(8.0));
        assert_eq!(strtod_score(b"0x"), None);
        assert_eq!(strtod_score(b"0x1p"), None);
        assert_eq!(strtod_score(b"0x1p-1074"), Some(f64::from_bits(1)));
        assert_eq!(strtod_score(b"0x1p-1080"), None);
        assert_eq!(strtod_score(b"0x1p1024"), None);
        assert_eq!(strtod_score(b"0x1.fffffffffffff8p1023"), None);
        assert_eq!(strtod_score(b"0x1.fffffffffffff7p1023"), Some(f64::MAX));
    }

    #[test]
    fn partial_sort_sorts_the_range() {
        let mut seed = 12345u64;
        for n in 0..120usize {
            for _ in 0..5 {
                let v: Vec<u32> = (0..n)
                    .map(|_| {
                        seed = seed
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        ((seed >> 33) % 10) as u32
                    })
                    .collect();
                let mut full = v.clone();
                full.sort();
                let lo = (seed >> 40) as usize % (n + 1);
                let hi = lo + (seed >> 20) as usize % 5;
                let mut part = v.clone();
                partial_sort(
                    &mut part,
                    &|a: &u32, b: &u32| a.cmp(b),
                    lo as i64,
                    hi as i64,
                );
                for i in lo..=hi.min(n.saturating_sub(1)) {
                    if i < n {
                        assert_eq!(part[i], full[i], "n={n} lo={lo} hi={hi}");
                    }
                }
            }
        }
    }

    #[test]
    fn store_position() {
        let a = |s: &[&str]| {
            s.iter()
                .map(|x| Bytes::from(x.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(store_key_position(&a(&["sort", "k"])), None);
        assert_eq!(
            store_key_position(&a(&["sort", "k", "store", "d"])),
            Some(3)
        );
        assert_eq!(store_key_position(&a(&["sort", "k", "store"])), None);
        assert_eq!(
            store_key_position(&a(&["sort", "k", "get", "store", "limit", "0", "1"])),
            None
        );
        assert_eq!(
            store_key_position(&a(&["sort", "k", "STORE", "a", "by", "x", "store", "b"])),
            Some(7)
        );
    }
}
