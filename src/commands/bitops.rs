//! Bit commands (Redis's `bitops.c`): SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and
//! BITFIELD_RO. Bit 0 is the most significant bit of the first byte; bytes past the end of a
//! string read as zero.
//!
//! Argument checks run in Redis 7.0's order, which is observable: BITCOUNT and BITPOS look the
//! key up before validating their range arguments (a missing key answers 0 / -1 even for a
//! malformed range), BITFIELD validates every subcommand before touching the key.

use super::table::{cmd, flags::*, CommandSpec};
use super::{arg_i64, is_opt, CmdError, CmdResult, Ctx};
use crate::num::parse_i64;
use crate::server::ClientKind;
use crate::store::{Keyspace, Value};
use bytes::Bytes;
use std::borrow::Cow;

/// The bit commands.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "setbit",
        4,
        WRITE | DENYOOM,
        (1, 1, 1),
        "bitmap",
        "2.2.0",
        "Sets or clears the bit at offset in the string value stored at key",
        setbit,
    ),
    cmd(
        "getbit",
        3,
        READONLY | FAST,
        (1, 1, 1),
        "bitmap",
        "2.2.0",
        "Returns the bit value at offset in the string value stored at key",
        getbit,
    ),
    cmd(
        "bitcount",
        -2,
        READONLY,
        (1, 1, 1),
        "bitmap",
        "2.6.0",
        "Count set bits in a string",
        bitcount,
    ),
    cmd(
        "bitpos",
        -3,
        READONLY,
        (1, 1, 1),
        "bitmap",
        "2.8.7",
        "Find first bit set or clear in a string",
        bitpos,
    ),
    cmd(
        "bitop",
        -4,
        WRITE | DENYOOM,
        (2, -1, 1),
        "bitmap",
        "2.6.0",
        "Perform bitwise operations between strings",
        bitop,
    ),
    cmd(
        "bitfield",
        -2,
        WRITE | DENYOOM,
        (1, 1, 1),
        "bitmap",
        "3.2.0",
        "Perform arbitrary bitfield integer operations on strings",
        bitfield,
    ),
    cmd(
        "bitfield_ro",
        -2,
        READONLY | FAST,
        (1, 1, 1),
        "bitmap",
        "6.0.0",
        "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
        bitfield_ro,
    ),
];

const BIT_OFFSET_ERR: &str = "ERR bit offset is not an integer or out of range";
const BIT_VALUE_ERR: &str = "ERR bit is not an integer or out of range";
const BIT_ARG_ERR: &str = "ERR The bit argument must be 1 or 0.";
const BITFIELD_TYPE_ERR: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
const BITFIELD_RO_ERR: &str = "ERR BITFIELD_RO only supports the GET subcommand";
const OVERFLOW_TYPE_ERR: &str = "ERR Invalid OVERFLOW type specified";
const BITOP_NOT_ERR: &str = "ERR BITOP NOT must be called with a single source key.";
/// Our strings are limited to 4 GiB; only reachable when `proto-max-bulk-len` is raised past it
/// (or for the master link, which Redis exempts from the limit).
const TOO_BIG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

fn msg(text: &str) -> CmdError {
    CmdError::Msg(text.to_string())
}

// ---------------------------------------------------------------------------------------------
// Pure bit arithmetic.
// ---------------------------------------------------------------------------------------------

/// The bit at `offset` (0 past the end).
fn get_bit(bytes: &[u8], offset: u64) -> bool {
    let Ok(byte) = usize::try_from(offset >> 3) else {
        return false;
    };
    bytes
        .get(byte)
        .is_some_and(|b| b & (0x80 >> (offset & 7)) != 0)
}

/// Sets or clears the bit at `offset`; offsets past the end are ignored (callers grow first).
fn set_bit(bytes: &mut [u8], offset: u64, on: bool) {
    let Ok(byte) = usize::try_from(offset >> 3) else {
        return;
    };
    if let Some(b) = bytes.get_mut(byte) {
        let mask = 0x80u8 >> (offset & 7);
        if on {
            *b |= mask;
        } else {
            *b &= !mask;
        }
    }
}

/// Number of set bits in `bytes`.
fn popcount(bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(8);
    let mut n: u64 = 0;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        n += u64::from_ne_bytes(w).count_ones() as u64;
    }
    n + chunks
        .remainder()
        .iter()
        .map(|b| b.count_ones() as u64)
        .sum::<u64>()
}

/// Set bits among bit positions `first..=last`, both inside `bytes`.
fn count_bits(bytes: &[u8], first: u64, last: u64) -> u64 {
    let (fb, lb) = ((first >> 3) as usize, (last >> 3) as usize);
    let Some(span) = bytes.get(fb..=lb) else {
        return 0;
    };
    let mut n = popcount(span);
    // Subtract the bits of the edge bytes that lie outside the range.
    let head = !(0xFFu8 >> (first & 7));
    let tail = 0xFFu8.checked_shr(((last & 7) + 1) as u32).unwrap_or(0);
    n -= (span[0] & head).count_ones() as u64;
    n -= (span[span.len() - 1] & tail).count_ones() as u64;
    n
}

/// Position of the first bit equal to `bit` among positions `first..=last` (inside `bytes`).
fn find_bit(bytes: &[u8], bit: bool, first: u64, last: u64) -> Option<u64> {
    let (fb, lb) = ((first >> 3) as usize, (last >> 3) as usize);
    let span = bytes.get(fb..=lb)?;
    let skip = if bit { 0x00 } else { 0xFF };
    let n = span.len();
    // Bits of the edge bytes that lie outside the range.
    let head = !(0xFFu8 >> (first & 7));
    let tail = 0xFFu8.checked_shr(((last & 7) + 1) as u32).unwrap_or(0);
    let wanted = |i: usize, b: u8| -> u8 {
        let mut v = if bit { b } else { !b };
        if i == 0 {
            v &= !head;
        }
        if i == n - 1 {
            v &= !tail;
        }
        v
    };
    let hit = |i: usize| {
        let v = wanted(i, span[i]);
        (v != 0).then(|| (fb + i) as u64 * 8 + v.leading_zeros() as u64)
    };
    if let Some(p) = hit(0) {
        return Some(p);
    }
    if n == 1 {
        return None;
    }
    // Whole bytes in between: skip the ones holding no candidate at all.
    if n > 2 {
        if let Some(i) = span[1..n - 1].iter().position(|&b| b != skip) {
            return hit(i + 1);
        }
    }
    hit(n - 1)
}

/// Redis's range normalisation for BITCOUNT/BITPOS over `total` units (bytes or bits): negative
/// indexes count from the end, both ends are clamped. `None` for an empty range.
fn clamp_range(start: i64, end: i64, total: i64) -> Option<(u64, u64)> {
    let fix = |i: i64| if i < 0 { (total + i).max(0) } else { i };
    let (s, mut e) = (fix(start), fix(end));
    if e >= total {
        e = total - 1;
    }
    (s <= e).then_some((s as u64, e as u64))
}

/// Reads a `bits`-wide unsigned integer at bit `offset`, bits past the end reading as 0.
fn get_unsigned(bytes: &[u8], offset: u64, bits: u32) -> u64 {
    let mut value = 0u64;
    for j in 0..bits as u64 {
        value = (value << 1) | get_bit(bytes, offset + j) as u64;
    }
    value
}

/// Reads a `bits`-wide two's complement integer at bit `offset`.
fn get_signed(bytes: &[u8], offset: u64, bits: u32) -> i64 {
    let mut value = get_unsigned(bytes, offset, bits);
    if bits < 64 && value & (1u64 << (bits - 1)) != 0 {
        value |= u64::MAX << bits;
    }
    value as i64
}

/// Writes the low `bits` bits of `value` at bit `offset`.
fn set_unsigned(bytes: &mut [u8], offset: u64, bits: u32, value: u64) {
    for j in 0..bits as u64 {
        let on = value & (1u64 << (bits as u64 - 1 - j)) != 0;
        set_bit(bytes, offset + j, on);
    }
}

/// BITFIELD's OVERFLOW behaviour.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

/// Whether `value + incr` fits a `bits`-wide unsigned integer: `0` if it does, `1` on overflow,
/// `-1` on underflow, with the value to store instead (wrapped or saturated; 0 for FAIL).
fn check_unsigned_overflow(value: u64, incr: i64, bits: u32, ow: Overflow) -> (i32, u64) {
    let max = if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = 0u64.wrapping_sub(value) as i64;
    let wrap = || value.wrapping_add(incr as u64) & !u64::MAX.checked_shl(bits).unwrap_or(0);
    if value > max || (incr > 0 && incr > maxincr) {
        let limit = match ow {
            Overflow::Wrap => wrap(),
            Overflow::Sat => max,
            Overflow::Fail => 0,
        };
        (1, limit)
    } else if incr < 0 && incr < minincr {
        let limit = match ow {
            Overflow::Wrap => wrap(),
            _ => 0,
        };
        (-1, limit)
    } else {
        (0, 0)
    }
}

/// The signed counterpart of [`check_unsigned_overflow`].
fn check_signed_overflow(value: i64, incr: i64, bits: u32, ow: Overflow) -> (i32, i64) {
    let max = if bits >= 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
    let minincr = min.wrapping_sub(value);
    let wrap = || {
        let msb = 1u64 << (bits - 1);
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & msb != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    if value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
        let limit = match ow {
            Overflow::Wrap => wrap(),
            Overflow::Sat => max,
            Overflow::Fail => 0,
        };
        (1, limit)
    } else if value < min
        || (bits != 64 && incr < minincr)
        || (value < 0 && incr < 0 && incr < minincr)
    {
        let limit = match ow {
            Overflow::Wrap => wrap(),
            Overflow::Sat => min,
            Overflow::Fail => 0,
        };
        (-1, limit)
    } else {
        (0, 0)
    }
}

/// BITOP's operations.
#[derive(Clone, Copy, Debug, PartialEq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// Folds one more source into a BITOP result; `first` starts it. Shorter operands are treated
/// as zero-padded to the longest one.
fn bitop_fold(res: &mut Vec<u8>, src: &[u8], op: BitOp, first: bool) {
    if first {
        res.clear();
        res.extend_from_slice(src);
        if op == BitOp::Not {
            res.iter_mut().for_each(|b| *b = !*b);
        }
        return;
    }
    let n = res.len().min(src.len());
    match op {
        BitOp::And => {
            res[..n]
                .iter_mut()
                .zip(&src[..n])
                .for_each(|(r, s)| *r &= s);
            res[n..].iter_mut().for_each(|r| *r = 0);
            if src.len() > res.len() {
                res.resize(src.len(), 0);
            }
        }
        BitOp::Or | BitOp::Xor => {
            let f: fn(u8, u8) -> u8 = if op == BitOp::Or {
                |a, b| a | b
            } else {
                |a, b| a ^ b
            };
            res[..n]
                .iter_mut()
                .zip(&src[..n])
                .for_each(|(r, s)| *r = f(*r, *s));
            if src.len() > res.len() {
                res.extend_from_slice(&src[n..]);
            }
        }
        // NOT takes exactly one source, so it never folds a second one.
        BitOp::Not => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Argument parsing and key access.
// ---------------------------------------------------------------------------------------------

/// A string value for reading (counts a keyspace hit or miss); WRONGTYPE for other types.
fn lookup_read<'k>(
    ks: &'k mut Keyspace,
    db: usize,
    key: &[u8],
) -> Result<Option<Cow<'k, [u8]>>, CmdError> {
    match ks.get(db, key) {
        None => Ok(None),
        Some(v) => v.as_bytes().map(Some).ok_or(CmdError::WrongType),
    }
}

/// Redis's `getBitOffsetFromArgument`: a non-negative bit offset whose byte lies below
/// `proto-max-bulk-len` (the master link is exempt). With `hash_bits`, `#N` means `N * bits`.
fn parse_bit_offset(ctx: &Ctx, arg: &[u8], hash_bits: Option<u32>) -> Result<u64, CmdError> {
    let (digits, mult) = match hash_bits {
        Some(bits) if arg.first() == Some(&b'#') => (&arg[1..], bits as i64),
        _ => (arg, 1),
    };
    let n = parse_i64(digits).ok_or_else(|| msg(BIT_OFFSET_ERR))?;
    // Redis multiplies without an overflow check; a wrapped product is then range-checked.
    let n = n.wrapping_mul(mult);
    if n < 0 {
        return Err(msg(BIT_OFFSET_ERR));
    }
    if ctx.client.kind != ClientKind::Master {
        let limit = ctx.shared.config().int("proto-max-bulk-len");
        if (n >> 3) >= limit {
            return Err(msg(BIT_OFFSET_ERR));
        }
    }
    Ok(n as u64)
}

/// Bytes needed to address bit `max_bit`, refused past what a string can hold.
fn bytes_for_bit(max_bit: u64) -> Result<usize, CmdError> {
    let need = (max_bit >> 3) + 1;
    if need > u32::MAX as u64 {
        return Err(msg(TOO_BIG));
    }
    Ok(need as usize)
}

/// `BIT` / `BYTE` (case-insensitive): true for bit units.
fn parse_unit(arg: &Bytes) -> Result<bool, CmdError> {
    if is_opt(arg, "bit") {
        Ok(true)
    } else if is_opt(arg, "byte") {
        Ok(false)
    } else {
        Err(CmdError::Syntax)
    }
}

// ---------------------------------------------------------------------------------------------
// Commands.
// ---------------------------------------------------------------------------------------------

/// SETBIT key offset value
fn setbit(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let offset = parse_bit_offset(ctx, &args[2], None)?;
    let on = match parse_i64(&args[3]) {
        Some(0) => false,
        Some(1) => true,
        _ => return Err(msg(BIT_VALUE_ERR)),
    };
    let need = bytes_for_bit(offset)?;
    let db = ctx.db();
    let key = &args[1];
    let (old, changed) = match ctx.ks.get_mut(db, key) {
        Some(v) => {
            let cur = v.as_bytes().ok_or(CmdError::WrongType)?;
            let old = get_bit(&cur, offset);
            let grow = cur.len() < need;
            if grow || old != on {
                let mut buf = cur.into_owned();
                if grow {
                    buf.resize(need, 0);
                }
                set_bit(&mut buf, offset, on);
                *v = Value::raw_string(&buf);
            }
            (old, grow || old != on)
        }
        None => {
            let mut buf = vec![0u8; need];
            set_bit(&mut buf, offset, on);
            ctx.ks.set(db, key, Value::raw_string(&buf), false);
            (false, true)
        }
    };
    if changed {
        ctx.wrote(b'$', "setbit", key);
    }
    ctx.out.int(old as i64);
    Ok(())
}

/// GETBIT key offset
fn getbit(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let offset = parse_bit_offset(ctx, &args[2], None)?;
    let db = ctx.db();
    let bit = lookup_read(ctx.ks, db, &args[1])?.is_some_and(|b| get_bit(&b, offset));
    ctx.out.int(bit as i64);
    Ok(())
}

/// BITCOUNT key [start end [BYTE|BIT]]
fn bitcount(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    // Redis 7.0 answers 0 for a missing key before looking at the other arguments.
    let Some(bytes) = lookup_read(ctx.ks, db, &args[1])? else {
        ctx.out.int(0);
        return Ok(());
    };
    let len = bytes.len() as i64;
    let range = match args.len() {
        2 => clamp_range(0, len - 1, len).map(|(s, e)| (s * 8, e * 8 + 7)),
        4 | 5 => {
            let start = arg_i64(&args[2])?;
            let end = arg_i64(&args[3])?;
            // Checked before the unit, so `BITCOUNT k -1 -2 junk` answers 0.
            if start < 0 && end < 0 && start > end {
                ctx.out.int(0);
                return Ok(());
            }
            let is_bit = match args.get(4) {
                Some(unit) => parse_unit(unit)?,
                None => false,
            };
            if is_bit {
                clamp_range(start, end, len * 8)
            } else {
                clamp_range(start, end, len).map(|(s, e)| (s * 8, e * 8 + 7))
            }
        }
        _ => return Err(CmdError::Syntax),
    };
    let n = range.map_or(0, |(first, last)| count_bits(&bytes, first, last));
    ctx.out.int(n as i64);
    Ok(())
}

/// BITPOS key bit [start [end [BYTE|BIT]]]
fn bitpos(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let bit = match arg_i64(&args[2])? {
        0 => false,
        1 => true,
        _ => return Err(msg(BIT_ARG_ERR)),
    };
    let db = ctx.db();
    // A missing key is an infinite run of zeros, whatever the range arguments say (Redis 7.0).
    let Some(bytes) = lookup_read(ctx.ks, db, &args[1])? else {
        ctx.out.int(if bit { -1 } else { 0 });
        return Ok(());
    };
    let len = bytes.len() as i64;
    let (range, end_given) = match args.len() {
        3 => (
            clamp_range(0, len - 1, len).map(|(s, e)| (s * 8, e * 8 + 7)),
            false,
        ),
        4..=6 => {
            let start = arg_i64(&args[3])?;
            // The unit is checked before the end, as Redis does.
            let is_bit = match args.get(5) {
                Some(unit) => parse_unit(unit)?,
                None => false,
            };
            let end = match args.get(4) {
                Some(e) => Some(arg_i64(e)?),
                None => None,
            };
            let range = if is_bit {
                clamp_range(start, end.unwrap_or(len * 8 + 7), len * 8)
            } else {
                clamp_range(start, end.unwrap_or(len - 1), len).map(|(s, e)| (s * 8, e * 8 + 7))
            };
            (range, end.is_some())
        }
        _ => return Err(CmdError::Syntax),
    };
    let pos = match range {
        None => -1,
        Some((first, last)) => match find_bit(&bytes, bit, first, last) {
            Some(p) => p as i64,
            // Without an explicit end the string counts as zero-padded on the right.
            None if !bit && !end_given => last as i64 + 1,
            None => -1,
        },
    };
    ctx.out.int(pos);
    Ok(())
}

/// BITOP AND|OR|XOR|NOT destkey key [key ...]
fn bitop(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let op = if is_opt(&args[1], "and") {
        BitOp::And
    } else if is_opt(&args[1], "or") {
        BitOp::Or
    } else if is_opt(&args[1], "xor") {
        BitOp::Xor
    } else if is_opt(&args[1], "not") {
        BitOp::Not
    } else {
        return Err(CmdError::Syntax);
    };
    if op == BitOp::Not && args.len() != 4 {
        return Err(msg(BITOP_NOT_ERR));
    }
    let db = ctx.db();
    let mut res = Vec::new();
    for (i, key) in args[3..].iter().enumerate() {
        let src = lookup_read(ctx.ks, db, key)?;
        bitop_fold(&mut res, src.as_deref().unwrap_or(&[]), op, i == 0);
    }
    let dest = &args[2];
    let len = res.len();
    if len > 0 {
        ctx.ks.set(db, dest, Value::raw_string(&res), false);
        ctx.wrote(b'$', "set", dest);
    } else if ctx.ks.delete(db, dest) {
        ctx.wrote(b'g', "del", dest);
    }
    ctx.out.int(len as i64);
    Ok(())
}

/// What one BITFIELD subcommand does.
#[derive(Clone, Copy, Debug, PartialEq)]
enum FieldOp {
    Get,
    Set(i64),
    IncrBy(i64),
}

/// One parsed BITFIELD subcommand.
#[derive(Clone, Copy, Debug)]
struct Field {
    op: FieldOp,
    signed: bool,
    bits: u32,
    offset: u64,
    overflow: Overflow,
}

/// `i1`..`i64` or `u1`..`u63` (the sign letter is case-sensitive, as in Redis).
fn parse_field_type(arg: &[u8]) -> Result<(bool, u32), CmdError> {
    let err = || msg(BITFIELD_TYPE_ERR);
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(err()),
    };
    let bits = parse_i64(&arg[1..]).ok_or_else(err)?;
    let max = if signed { 64 } else { 63 };
    if !(1..=max).contains(&bits) {
        return Err(err());
    }
    Ok((signed, bits as u32))
}

/// Parses every subcommand; returns them and whether any writes.
fn parse_fields(ctx: &Ctx, args: &[Bytes]) -> Result<(Vec<Field>, bool), CmdError> {
    let mut fields = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut writes = false;
    let mut j = 2;
    while j < args.len() {
        let remaining = args.len() - j - 1;
        let sub = &args[j];
        let is_get = if is_opt(sub, "get") && remaining >= 2 {
            true
        } else if (is_opt(sub, "set") || is_opt(sub, "incrby")) && remaining >= 3 {
            false
        } else if is_opt(sub, "overflow") && remaining >= 1 {
            let kind = &args[j + 1];
            overflow = if is_opt(kind, "wrap") {
                Overflow::Wrap
            } else if is_opt(kind, "sat") {
                Overflow::Sat
            } else if is_opt(kind, "fail") {
                Overflow::Fail
            } else {
                return Err(msg(OVERFLOW_TYPE_ERR));
            };
            j += 2;
            continue;
        } else {
            return Err(CmdError::Syntax);
        };
        let (signed, bits) = parse_field_type(&args[j + 1])?;
        let offset = parse_bit_offset(ctx, &args[j + 2], Some(bits))?;
        let op = if is_get {
            FieldOp::Get
        } else {
            writes = true;
            let v = arg_i64(&args[j + 3])?;
            if is_opt(sub, "set") {
                FieldOp::Set(v)
            } else {
                FieldOp::IncrBy(v)
            }
        };
        fields.push(Field {
            op,
            signed,
            bits,
            offset,
            overflow,
        });
        j += if is_get { 3 } else { 4 };
    }
    Ok((fields, writes))
}

/// Applies one SET/INCRBY to `buf`: the reply (`None` when OVERFLOW FAIL refused it) and whether
/// the stored value changed.
fn apply_field(buf: &mut [u8], f: &Field) -> (Option<i64>, bool) {
    let (off, bits, ow) = (f.offset, f.bits, f.overflow);
    if f.signed {
        let old = get_signed(buf, off, bits);
        let (flow, new, reply) = match f.op {
            FieldOp::IncrBy(incr) => {
                let (flow, limit) = check_signed_overflow(old, incr, bits, ow);
                let new = if flow != 0 {
                    limit
                } else {
                    old.wrapping_add(incr)
                };
                (flow, new, new)
            }
            FieldOp::Set(v) => {
                let (flow, limit) = check_signed_overflow(v, 0, bits, ow);
                (flow, if flow != 0 { limit } else { v }, old)
            }
            FieldOp::Get => (0, old, old),
        };
        if flow != 0 && ow == Overflow::Fail {
            return (None, false);
        }
        set_unsigned(buf, off, bits, new as u64);
        (Some(reply), old != new)
    } else {
        let old = get_unsigned(buf, off, bits);
        let (flow, new, reply) = match f.op {
            FieldOp::IncrBy(incr) => {
                let (flow, limit) = check_unsigned_overflow(old, incr, bits, ow);
                let new = if flow != 0 {
                    limit
                } else {
                    old.wrapping_add(incr as u64)
                };
                (flow, new, new)
            }
            FieldOp::Set(v) => {
                let v = v as u64;
                let (flow, limit) = check_unsigned_overflow(v, 0, bits, ow);
                (flow, if flow != 0 { limit } else { v }, old)
            }
            FieldOp::Get => (0, old, old),
        };
        if flow != 0 && ow == Overflow::Fail {
            return (None, false);
        }
        set_unsigned(buf, off, bits, new);
        (Some(reply as i64), old != new)
    }
}

/// GET of one field from `bytes` (zero-padded).
fn read_field(bytes: &[u8], f: &Field) -> i64 {
    if f.signed {
        get_signed(bytes, f.offset, f.bits)
    } else {
        get_unsigned(bytes, f.offset, f.bits) as i64
    }
}

/// BITFIELD and BITFIELD_RO.
fn bitfield_generic(ctx: &mut Ctx, args: &[Bytes], read_only_cmd: bool) -> CmdResult {
    let (fields, writes) = parse_fields(ctx, args)?;
    let db = ctx.db();
    let key = &args[1];
    if !writes {
        let src = lookup_read(ctx.ks, db, key)?;
        let bytes: &[u8] = src.as_deref().unwrap_or(&[]);
        ctx.out.array(fields.len());
        for f in &fields {
            ctx.out.int(read_field(bytes, f));
        }
        return Ok(());
    }
    if read_only_cmd {
        return Err(msg(BITFIELD_RO_ERR));
    }
    // Make room up to the farthest bit any write reaches, creating the key if needed: Redis
    // keeps the created / grown string even when every write is refused by OVERFLOW FAIL.
    let max_bit = fields
        .iter()
        .filter(|f| f.op != FieldOp::Get)
        .map(|f| f.offset + f.bits as u64 - 1)
        .max()
        .unwrap_or(0);
    let need = bytes_for_bit(max_bit)?;
    let (mut buf, existed) = match ctx.ks.get_mut(db, key) {
        Some(v) => (v.as_bytes().ok_or(CmdError::WrongType)?.into_owned(), true),
        None => (Vec::new(), false),
    };
    let grown = buf.len() < need;
    if grown {
        buf.resize(need, 0);
    }
    ctx.out.array(fields.len());
    let mut changes = 0u64;
    for f in &fields {
        if f.op == FieldOp::Get {
            ctx.out.int(read_field(&buf, f));
            continue;
        }
        match apply_field(&mut buf, f) {
            (Some(reply), changed) => {
                ctx.out.int(reply);
                if grown || changed {
                    changes += 1;
                }
            }
            (None, _) => ctx.out.null(),
        }
    }
    if grown || changes > 0 {
        ctx.ks.set(db, key, Value::raw_string(&buf), existed);
    }
    if changes > 0 {
        // One notification for the key; the dirty counter still counts every changed field.
        ctx.wrote(b'$', "setbit", key);
        ctx.dirty(changes - 1);
    }
    Ok(())
}

/// BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset increment]
/// [OVERFLOW WRAP|SAT|FAIL] ...
fn bitfield(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    bitfield_generic(ctx, args, false)
}

/// BITFIELD_RO key [GET type offset] ...
fn bitfield_ro(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    bitfield_generic(ctx, args, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit-by-bit reference for `count_bits` / `find_bit`.
    fn naive_bits(bytes: &[u8]) -> Vec<bool> {
        (0..bytes.len() as u64 * 8)
            .map(|i| get_bit(bytes, i))
            .collect()
    }

    fn sample() -> Vec<u8> {
        vec![
            0x00, 0xFF, 0x66, 0x0F, 0xF0, 0x81, 0x00, 0xFF, 0x01, 0x80, 0xAA,
        ]
    }

    #[test]
    fn get_and_set_bits_msb_first() {
        let mut b = vec![0u8; 2];
        set_bit(&mut b, 0, true);
        set_bit(&mut b, 15, true);
        assert_eq!(b, [0x80, 0x01]);
        assert!(get_bit(&b, 0) && get_bit(&b, 15) && !get_bit(&b, 1));
        assert!(!get_bit(&b, 16), "past the end reads 0");
        assert!(!get_bit(&b, u64::MAX));
        set_bit(&mut b, 99, true); // ignored, no panic
        set_bit(&mut b, 0, false);
        assert_eq!(b, [0x00, 0x01]);
    }

    #[test]
    fn popcount_matches_naive() {
        let data: Vec<u8> = (0..=255u8).chain(0..37).collect();
        let naive: u64 = data.iter().map(|b| b.count_ones() as u64).sum();
        assert_eq!(popcount(&data), naive);
        assert_eq!(popcount(&[]), 0);
    }

    #[test]
    fn count_bits_matches_naive_for_every_range() {
        let data = sample();
        let bits = naive_bits(&data);
        for first in 0..bits.len() as u64 {
            for last in first..bits.len() as u64 {
                let want = bits[first as usize..=last as usize]
                    .iter()
                    .filter(|&&b| b)
                    .count() as u64;
                assert_eq!(count_bits(&data, first, last), want, "{first}..={last}");
            }
        }
    }

    #[test]
    fn find_bit_matches_naive_for_every_range() {
        let data = sample();
        let bits = naive_bits(&data);
        for bit in [false, true] {
            for first in 0..bits.len() as u64 {
                for last in first..bits.len() as u64 {
                    let want = (first..=last).find(|&i| bits[i as usize] == bit);
                    assert_eq!(
                        find_bit(&data, bit, first, last),
                        want,
                        "bit {bit} {first}..={last}"
                    );
                }
            }
        }
    }

    #[test]
    fn clamp_range_follows_redis() {
        assert_eq!(clamp_range(0, -1, 6), Some((0, 5)));
        assert_eq!(clamp_range(-100, 100, 6), Some((0, 5)));
        assert_eq!(clamp_range(4, 2, 6), None);
        assert_eq!(clamp_range(0, -1, 0), None);
        assert_eq!(clamp_range(i64::MIN, i64::MAX, 6), Some((0, 5)));
        assert_eq!(clamp_range(-2, -1, 6), Some((4, 5)));
        assert_eq!(clamp_range(-100, -50, 6), Some((0, 0)));
    }

    #[test]
    fn bitfield_get_set_round_trip() {
        // Redis's doc example: u5 = 23 at offset 7 into zeros gives 00000001 01110000.
        let mut b = vec![0u8; 2];
        set_unsigned(&mut b, 7, 5, 23);
        assert_eq!(b, [0b0000_0001, 0b0111_0000]);
        assert_eq!(get_unsigned(&b, 7, 5), 23);
        assert_eq!(get_signed(&b, 7, 5), 23 - 32);
        let mut b = vec![0u8; 9];
        set_unsigned(&mut b, 3, 64, (-5i64) as u64);
        assert_eq!(get_signed(&b, 3, 64), -5);
        assert_eq!(get_unsigned(&b, 3, 63), ((-5i64) as u64) >> 1);
        // Reads past the end are zero-padded.
        assert_eq!(get_unsigned(&[0xFF], 4, 8), 0xF0);
    }

    #[test]
    fn unsigned_overflow() {
        use Overflow::*;
        assert_eq!(check_unsigned_overflow(250, 5, 8, Wrap), (0, 0));
        assert_eq!(check_unsigned_overflow(250, 10, 8, Wrap), (1, 4));
        assert_eq!(check_unsigned_overflow(250, 10, 8, Sat), (1, 255));
        assert_eq!(check_unsigned_overflow(5, -10, 8, Wrap), (-1, 251));
        assert_eq!(check_unsigned_overflow(5, -10, 8, Sat), (-1, 0));
        assert_eq!(check_unsigned_overflow(5, -10, 8, Fail).0, -1);
        // SET of a negative value is a huge unsigned value: overflow, not underflow.
        assert_eq!(check_unsigned_overflow(u64::MAX, 0, 8, Sat), (1, 255));
        assert_eq!(check_unsigned_overflow(u64::MAX, 0, 8, Wrap), (1, 255));
        assert_eq!(check_unsigned_overflow(300, 0, 8, Wrap), (1, 44));
        let max63 = (1u64 << 63) - 1;
        assert_eq!(check_unsigned_overflow(max63, 1, 63, Wrap), (1, 0));
        assert_eq!(check_unsigned_overflow(0, i64::MIN, 63, Sat), (-1, 0));
    }

    #[test]
    fn signed_overflow() {
        use Overflow::*;
        assert_eq!(check_signed_overflow(100, 27, 8, Wrap), (0, 0));
        assert_eq!(check_signed_overflow(100, 28, 8, Wrap), (1, -128));
        assert_eq!(check_signed_overflow(100, 28, 8, Sat), (1, 127));
        assert_eq!(check_signed_overflow(-100, -29, 8, Wrap), (-1, 127));
        assert_eq!(check_signed_overflow(-100, -29, 8, Sat), (-1, -128));
        assert_eq!(check_signed_overflow(200, 0, 8, Wrap), (1, -56));
        assert_eq!(check_signed_overflow(i64::MAX, 1, 64, Wrap), (1, i64::MIN));
        assert_eq!(check_signed_overflow(i64::MAX, 1, 64, Sat), (1, i64::MAX));
        assert_eq!(check_signed_overflow(i64::MIN, -1, 64, Sat), (-1, i64::MIN));
        assert_eq!(
            check_signed_overflow(i64::MIN, -1, 64, Wrap),
            (-1, i64::MAX)
        );
        assert_eq!(check_signed_overflow(-1, i64::MIN, 64, Sat), (-1, i64::MIN));
        assert_eq!(check_signed_overflow(-1, i64::MAX, 64, Sat), (0, 0));
        assert_eq!(check_signed_overflow(0, 0, 1, Wrap), (0, 0));
        assert_eq!(check_signed_overflow(0, 1, 1, Wrap), (1, -1));
    }

    #[test]
    fn apply_field_reports_old_or_new_and_fail() {
        let mut buf = vec![0u8; 1];
        let f = |op, signed, bits, overflow| Field {
            op,
            signed,
            bits,
            offset: 0,
            overflow,
        };
        assert_eq!(
            apply_field(&mut buf, &f(FieldOp::Set(200), false, 8, Overflow::Wrap)),
            (Some(0), true)
        );
        assert_eq!(
            apply_field(&mut buf, &f(FieldOp::IncrBy(100), false, 8, Overflow::Fail)),
            (None, false)
        );
        assert_eq!(buf, [200]);
        assert_eq!(
            apply_field(&mut buf, &f(FieldOp::IncrBy(100), false, 8, Overflow::Sat)),
            (Some(255), true)
        );
        assert_eq!(
            apply_field(&mut buf, &f(FieldOp::Set(-1), true, 8, Overflow::Wrap)),
            (Some(-1), false)
        );
        assert_eq!(
            apply_field(&mut buf, &f(FieldOp::IncrBy(1), true, 4, Overflow::Wrap)),
            (Some(0), true)
        );
        assert_eq!(buf, [0x0F]);
    }

    #[test]
    fn bitop_fold_pads_shorter_operands() {
        let mut r = Vec::new();
        bitop_fold(&mut r, b"\xFF\xFF\x0F", BitOp::And, true);
        bitop_fold(&mut r, b"\x0F", BitOp::And, false);
        assert_eq!(r, b"\x0F\x00\x00");
        bitop_fold(&mut r, b"\xF0\xF0\xF0\xF0", BitOp::And, false);
        assert_eq!(r, b"\x00\x00\x00\x00");

        bitop_fold(&mut r, b"\x01", BitOp::Or, true);
        bitop_fold(&mut r, b"\x10\x22", BitOp::Or, false);
        assert_eq!(r, b"\x11\x22");

        bitop_fold(&mut r, b"\xFF\x0F", BitOp::Xor, true);
        bitop_fold(&mut r, b"\x0F", BitOp::Xor, false);
        bitop_fold(&mut r, b"", BitOp::Xor, false);
        assert_eq!(r, b"\xF0\x0F");

        bitop_fold(&mut r, b"\x0F\x00", BitOp::Not, true);
        assert_eq!(r, b"\xF0\xFF");
    }

    #[test]
    fn field_types() {
        assert_eq!(parse_field_type(b"i64"), Ok((true, 64)));
        assert_eq!(parse_field_type(b"u63"), Ok((false, 63)));
        assert_eq!(parse_field_type(b"u1"), Ok((false, 1)));
        for bad in [
            &b"u64"[..],
            b"i65",
            b"i0",
            b"U8",
            b"u",
            b"",
            b"u08",
            b"i-1",
            b"x8",
        ] {
            assert!(parse_field_type(bad).is_err(), "{bad:?}");
        }
    }
}
