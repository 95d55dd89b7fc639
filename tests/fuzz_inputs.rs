//! Seeded random and mutation-based fuzzing that runs inside `cargo test`:
//!
//! * the request parser against an independent, whole-buffer model of Redis's
//!   `processMultibulkBuffer` / `processInlineBuffer` (never panics, never frames a request out of
//!   bytes Redis would not frame, same result however the bytes are split across reads);
//! * `split_args` against a transcription of `sdssplitargs`, `glob_match` against a transcription
//!   of `stringmatchlen` (plus a time bound on pathological patterns), `parse_i64`/`parse_f64`
//!   properties, and random configuration text through `parse_startup`;
//! * a network fuzz: thousands of random and mutated request streams over fresh connections to a
//!   running server, which must stay up, keep its data and never panic.
//!
//! Reproduce or extend a run with `RESPLICA_FUZZ_SEED=<u64>` (the seed is printed on failure) and
//! `RESPLICA_FUZZ_ITERS=<n>` (multiplies every iteration count; default 1), e.g.
//! `RESPLICA_FUZZ_ITERS=50 cargo test --release --test fuzz_inputs`.

mod common;
use bytes::BytesMut;
use common::*;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use resplica::config::parse_startup;
use resplica::num::{format_g17, parse_f64, parse_i64};
use resplica::protocol::{split_args, ParseLimits, Parser};
use resplica::store::glob::glob_match;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

// ------------------------------------------------------------------------------------------------
// Seeds and iteration counts
// ------------------------------------------------------------------------------------------------

const DEFAULT_SEED: u64 = 0x5eed_7015_2024_0001;

fn base_seed() -> u64 {
    std::env::var("RESPLICA_FUZZ_SEED")
        .ok()
        .and_then(|s| {
            let s = s.trim();
            s.strip_prefix("0x")
                .map(|h| u64::from_str_radix(h, 16).ok())
                .unwrap_or_else(|| s.parse().ok())
        })
        .unwrap_or(DEFAULT_SEED)
}

fn iters(base: usize) -> usize {
    let mul = std::env::var("RESPLICA_FUZZ_ITERS")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    base * mul
}

/// A generator for one test: the base seed mixed with the test's name, so tests are independent
/// but all reproducible from one printed seed.
fn rng_for(test: &str) -> (SmallRng, u64) {
    let mut h = base_seed();
    for b in test.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
    }
    (SmallRng::seed_from_u64(h), base_seed())
}

fn show(b: &[u8]) -> String {
    let mut s = String::new();
    for &c in b.iter().take(400) {
        match c {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    if b.len() > 400 {
        s.push_str(&format!("...({} bytes)", b.len()));
    }
    s
}

/// A random byte of `alphabet`.
fn pick(rng: &mut SmallRng, alphabet: &[u8]) -> u8 {
    alphabet[rng.gen_range(0..alphabet.len())]
}

// ------------------------------------------------------------------------------------------------
// Models of the Redis 7.0 C code
// ------------------------------------------------------------------------------------------------

const INLINE_MAX: usize = 64 * 1024;

/// `string2ll`: exactly the canonical decimal form of an i64.
fn model_string2ll(s: &[u8]) -> Option<i64> {
    let v: i64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    (v.to_string().as_bytes() == s).then_some(v)
}

fn c_isspace(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hexval(c: u8) -> u8 {
    (c as char).to_digit(16).unwrap_or(0) as u8
}

/// `sdssplitargs`, transcribed statement by statement over a NUL-terminated view of `line`.
fn model_splitargs(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let end = line.iter().position(|&b| b == 0).unwrap_or(line.len());
    let s = &line[..end];
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut p = 0;
    let mut out = Vec::new();
    loop {
        while at(p) != 0 && c_isspace(at(p)) {
            p += 1;
        }
        if at(p) == 0 {
            return Some(out);
        }
        let (mut inq, mut insq, mut done) = (false, false, false);
        let mut cur = Vec::new();
        while !done {
            if inq {
                if at(p) == b'\\'
                    && at(p + 1) == b'x'
                    && at(p + 2).is_ascii_hexdigit()
                    && at(p + 3).is_ascii_hexdigit()
                {
                    cur.push(hexval(at(p + 2)) * 16 + hexval(at(p + 3)));
                    p += 3;
                } else if at(p) == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    cur.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        c => c,
                    });
                } else if at(p) == b'"' {
                    if at(p + 1) != 0 && !c_isspace(at(p + 1)) {
                        return None;
                    }
                    done = true;
                } else if at(p) == 0 {
                    return None;
                } else {
                    cur.push(at(p));
                }
            } else if insq {
                if at(p) == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    cur.push(b'\'');
                } else if at(p) == b'\'' {
                    if at(p + 1) != 0 && !c_isspace(at(p + 1)) {
                        return None;
                    }
                    done = true;
                } else if at(p) == 0 {
                    return None;
                } else {
                    cur.push(at(p));
                }
            } else {
                match at(p) {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => done = true,
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    c => cur.push(c),
                }
            }
            if at(p) != 0 {
                p += 1;
            }
        }
        out.push(cur);
    }
}

type Requests = Vec<Vec<Vec<u8>>>;

/// What Redis makes of a whole buffer: the requests it runs, then either a protocol error or
/// "waiting for more" (`None`). Lines are found with `strchr`, so a NUL hides a terminator.
fn model_parse(input: &[u8], max_bulk: usize) -> (Requests, Option<String>) {
    let find = |from: usize, target: u8| -> Option<usize> {
        let rel = input[from..].iter().position(|&b| b == target || b == 0)?;
        (input[from + rel] == target).then_some(from + rel)
    };
    let mut reqs = Vec::new();
    let mut pos = 0;
    let err = |reqs: Requests, m: &str| (reqs, Some(m.to_string()));
    while pos < input.len() {
        if input[pos] != b'*' {
            let Some(nl) = find(pos, b'\n') else {
                if input.len() - pos > INLINE_MAX {
                    return err(reqs, "too big inline request");
                }
                return (reqs, None);
            };
            let mut line = &input[pos..nl];
            if line.last() == Some(&b'\r') {
                line = &line[..line.len() - 1];
            }
            let Some(args) = model_splitargs(line) else {
                return err(reqs, "unbalanced quotes in request");
            };
            pos = nl + 1;
            if !args.is_empty() {
                reqs.push(args);
            }
            continue;
        }
        let Some(cr) = find(pos, b'\r') else {
            if input.len() - pos > INLINE_MAX {
                return err(reqs, "too big mbulk count string");
            }
            return (reqs, None);
        };
        if cr + 1 >= input.len() {
            return (reqs, None);
        }
        let count = match model_string2ll(&input[pos + 1..cr]) {
            Some(n) if n <= i32::MAX as i64 => n,
            _ => return err(reqs, "invalid multibulk length"),
        };
        pos = cr + 2;
        if count <= 0 {
            continue;
        }
        let mut args = Vec::new();
        for _ in 0..count {
            let Some(cr) = find(pos, b'\r') else {
                if input.len() - pos > INLINE_MAX {
                    return err(reqs, "too big bulk count string");
                }
                return (reqs, None);
            };
            if cr + 1 >= input.len() {
                return (reqs, None);
            }
            if input[pos] != b'$' {
                return err(reqs, &format!("expected '$', got '{}'", input[pos] as char));
            }
            let len = match model_string2ll(&input[pos + 1..cr]) {
                Some(l) if l >= 0 && l as u64 <= max_bulk as u64 => l as usize,
                _ => return err(reqs, "invalid bulk length"),
            };
            pos = cr + 2;
            if input.len() - pos < len + 2 {
                return (reqs, None);
            }
            args.push(input[pos..pos + len].to_vec());
            pos += len + 2;
        }
        reqs.push(args);
    }
    (reqs, None)
}

/// `stringmatchlen` of Redis 7.0.15 (with the `skipLongerMatches` bound), transcribed with
/// indices; bytes past the end read as the C string's terminating NUL.
fn model_glob(pat: &[u8], s: &[u8], nocase: bool) -> bool {
    fn imp(
        pat: &[u8],
        mut p: usize,
        s: &[u8],
        mut i: usize,
        nocase: bool,
        skip: &mut bool,
    ) -> bool {
        let pa = |k: usize| pat.get(k).copied().unwrap_or(0);
        let lower = |c: u8| if nocase { c.to_ascii_lowercase() } else { c };
        let mut plen = pat.len() - p;
        let mut slen = s.len() - i;
        while plen > 0 && slen > 0 {
            match pa(p) {
                b'*' => {
                    while plen > 0 && pa(p + 1) == b'*' {
                        p += 1;
                        plen -= 1;
                    }
                    if plen == 1 {
                        return true;
                    }
                    while slen > 0 {
                        if imp(pat, p + 1, s, i, nocase, skip) {
                            return true;
                        }
                        if *skip {
                            return false;
                        }
                        i += 1;
                        slen -= 1;
                    }
                    *skip = true;
                    return false;
                }
                b'?' => {
                    i += 1;
                    slen -= 1;
                }
                b'[' => {
                    p += 1;
                    plen -= 1;
                    let not = pa(p) == b'^';
                    if not {
                        p += 1;
                        plen -= 1;
                    }
                    let mut matched = false;
                    loop {
                        if pa(p) == b'\\' && plen >= 2 {
                            p += 1;
                            plen -= 1;
                            if pa(p) == s[i] {
                                matched = true;
                            }
                        } else if pa(p) == b']' {
                            break;
                        } else if plen == 0 {
                            p -= 1;
                            plen += 1;
                            break;
                        } else if plen >= 3 && pa(p + 1) == b'-' {
                            let (mut a, mut z) = (pa(p), pa(p + 2));
                            if a > z {
                                std::mem::swap(&mut a, &mut z);
                            }
                            let c = lower(s[i]);
                            let (a, z) = (lower(a), lower(z));
                            p += 2;
                            plen -= 2;
                            if c >= a && c <= z {
                                matched = true;
                            }
                        } else if lower(pa(p)) == lower(s[i]) {
                            matched = true;
                        }
                        p += 1;
                        plen -= 1;
                    }
                    if not {
                        matched = !matched;
                    }
                    if !matched {
                        return false;
                    }
                    i += 1;
                    slen -= 1;
                }
                c => {
                    let c = if c == b'\\' && plen >= 2 {
                        p += 1;
                        plen -= 1;
                        pa(p)
                    } else {
                        c
                    };
                    if lower(c) != lower(s[i]) {
                        return false;
                    }
                    i += 1;
                    slen -= 1;
                }
            }
            p += 1;
            plen -= 1;
            if slen == 0 {
                while pa(p) == b'*' {
                    p += 1;
                    plen -= 1;
                }
                break;
            }
        }
        plen == 0 && slen == 0
    }
    let mut skip = false;
    imp(pat, 0, s, 0, nocase, &mut skip)
}

// ------------------------------------------------------------------------------------------------
// Generators and mutators
// ------------------------------------------------------------------------------------------------

const INTERESTING: &[&[u8]] = &[
    b"\r\n",
    b"\r",
    b"\n",
    b"*",
    b"$",
    b"-1",
    b"0",
    b"-",
    b"+",
    b"\x00",
    b"\"",
    b"'",
    b"\\",
    b"\\x",
    b"\\x4",
    b" ",
    b"\t",
    b"\x0b",
    b"*2147483648\r\n",
    b"*2147483647\r\n",
    b"$-1\r\n",
    b"*0\r\n",
    b"*-1\r\n",
    b"$0\r\n\r\n",
    b"99999999999999999999",
    b"9223372036854775807",
    b"1048577",
    b"01",
    b"PING",
    b"*1\r\n$4\r\nPING\r\n",
    b"\"\\\"",
    b"'\\''",
    b"\xff",
    b"$16\r\n",
    b"*3\r\n",
];

fn gen_arg(rng: &mut SmallRng) -> Vec<u8> {
    let len = match rng.gen_range(0..10) {
        0 => 0,
        1..=6 => rng.gen_range(1..8),
        7 | 8 => rng.gen_range(8..40),
        _ => rng.gen_range(40..300),
    };
    match rng.gen_range(0..4) {
        0 => (0..len).map(|_| rng.gen()).collect(),
        1 => (0..len)
            .map(|_| pick(rng, b"\r\n\"'\\ \t*$x0\x00a"))
            .collect(),
        _ => (0..len).map(|_| rng.gen_range(b'a'..=b'z')).collect(),
    }
}

/// An argument as Redis's inline syntax can carry it: double-quoted, `\xHH` for the rest.
fn inline_quote(arg: &[u8], rng: &mut SmallRng) -> Vec<u8> {
    let plain = !arg.is_empty()
        && arg
            .iter()
            .all(|&c| c.is_ascii_graphic() && c != b'"' && c != b'\'' && c != b'\\');
    if plain && rng.gen_bool(0.7) {
        return arg.to_vec();
    }
    let mut out = vec![b'"'];
    for &c in arg {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' if rng.gen_bool(0.5) => out.extend_from_slice(b"\\n"),
            0x20..=0x7e => out.push(c),
            _ => out.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
        }
    }
    out.push(b'"');
    out
}

/// A valid request stream, the requests it carries, and the offset where each one completes.
fn gen_valid_stream(rng: &mut SmallRng, max_requests: usize) -> (Vec<u8>, Requests, Vec<usize>) {
    let mut bytes = Vec::new();
    let mut reqs = Vec::new();
    let mut ends = Vec::new();
    for _ in 0..rng.gen_range(1..=max_requests) {
        // Requests that carry nothing: skipped by the server.
        if rng.gen_ratio(1, 8) {
            let filler: &[u8] =
                [&b"*0\r\n"[..], b"*-1\r\n", b"\r\n", b"\n", b"  \t \r\n"][rng.gen_range(0..5)];
            bytes.extend_from_slice(filler);
        }
        let args: Vec<Vec<u8>> = (0..rng.gen_range(1..6)).map(|_| gen_arg(rng)).collect();
        if rng.gen_bool(0.7) {
            bytes.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
            for a in &args {
                bytes.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
                bytes.extend_from_slice(a);
                bytes.extend_from_slice(b"\r\n");
            }
        } else {
            // Inline requests cannot start with '*' (that would be multibulk).
            if rng.gen_bool(0.3) {
                bytes.push(b' ');
            } else if args[0].first() == Some(&b'*') {
                bytes.extend_from_slice(b"\t");
            }
            for (k, a) in args.iter().enumerate() {
                if k > 0 {
                    bytes.extend_from_slice(if rng.gen_bool(0.8) { b" " } else { b" \t " });
                }
                bytes.extend_from_slice(&inline_quote(a, rng));
            }
            bytes.extend_from_slice(if rng.gen_bool(0.8) { b"\r\n" } else { b"\n" });
        }
        reqs.push(args);
        ends.push(bytes.len());
    }
    (bytes, reqs, ends)
}

fn mutate(rng: &mut SmallRng, input: &mut Vec<u8>, donor: &[u8]) {
    for _ in 0..rng.gen_range(1..=6) {
        let len = input.len();
        match rng.gen_range(0..9) {
            0 if len > 0 => {
                let i = rng.gen_range(0..len);
                input[i] ^= 1 << rng.gen_range(0..8);
            }
            1 if len > 0 => {
                let i = rng.gen_range(0..len);
                input[i] = pick(rng, b"*$\r\n-0123456789\"'\\ \x00x");
            }
            2 | 3 => {
                let tok = INTERESTING[rng.gen_range(0..INTERESTING.len())];
                let i = rng.gen_range(0..=len);
                input.splice(i..i, tok.iter().copied());
            }
            4 if len > 0 => {
                let a = rng.gen_range(0..len);
                let b = (a + rng.gen_range(1..16)).min(len);
                input.drain(a..b);
            }
            5 if len > 0 => {
                let a = rng.gen_range(0..len);
                let b = (a + rng.gen_range(1..32)).min(len);
                let piece = input[a..b].to_vec();
                let i = rng.gen_range(0..=len);
                input.splice(i..i, piece);
            }
            6 if len > 0 => input.truncate(rng.gen_range(0..len)),
            7 if !donor.is_empty() => {
                let a = rng.gen_range(0..donor.len());
                let b = (a + rng.gen_range(1..64)).min(donor.len());
                let i = rng.gen_range(0..=len);
                input.splice(i..i, donor[a..b].iter().copied());
            }
            _ => {
                // Rewrite a number in place.
                if let Some(i) = (0..len).find(|&k| input[k].is_ascii_digit() && rng.gen_bool(0.2))
                {
                    let n: &[u8] = [
                        &b"0"[..],
                        b"-1",
                        b"2147483648",
                        b"18446744073709551616",
                        b"00",
                    ][rng.gen_range(0..5)];
                    input.splice(i..i + 1, n.iter().copied());
                }
            }
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Driving the real parser
// ------------------------------------------------------------------------------------------------

/// Feeds `input` to a fresh parser in pieces ending at `cuts` (then the rest), the way reads
/// arrive; stops at the first protocol error, as the server does.
fn run_parser(input: &[u8], max_bulk: usize, cuts: &[usize]) -> (Requests, Option<String>) {
    let mut parser = Parser::new(ParseLimits {
        max_bulk_len: max_bulk,
    });
    let mut buf = BytesMut::new();
    let mut reqs: Requests = Vec::new();
    let mut last = 0;
    for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
        let cut = cut.clamp(last, input.len());
        buf.extend_from_slice(&input[last..cut]);
        last = cut;
        loop {
            match parser.next(&mut buf) {
                Ok(Some(args)) => {
                    assert!(!args.is_empty(), "parser returned an empty request");
                    reqs.push(args.iter().map(|a| a.to_vec()).collect());
                }
                Ok(None) => break,
                Err(e) => return (reqs, Some(e.0)),
            }
        }
    }
    (reqs, None)
}

fn guarded<T>(seed: u64, what: &str, input: &[u8], f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(_) => panic!(
            "{what} panicked (RESPLICA_FUZZ_SEED={seed}) on input \"{}\"",
            show(input)
        ),
    }
}

fn random_cuts(rng: &mut SmallRng, len: usize) -> Vec<usize> {
    let mut cuts: Vec<usize> = (0..rng.gen_range(0..8))
        .map(|_| rng.gen_range(0..=len))
        .collect();
    cuts.sort_unstable();
    cuts
}

// ------------------------------------------------------------------------------------------------
// Parser fuzzing
// ------------------------------------------------------------------------------------------------

#[test]
fn parser_valid_streams_split_at_every_point() {
    let (mut rng, seed) = rng_for("valid_split");
    const MAX_BULK: usize = 1 << 20;
    for _ in 0..iters(600) {
        let (input, expected, ends) = gen_valid_stream(&mut rng, 6);
        let ctx = || format!("RESPLICA_FUZZ_SEED={seed} input \"{}\"", show(&input));
        assert_eq!(
            model_parse(&input, MAX_BULK),
            (expected.clone(), None),
            "model disagrees with the generator: {}",
            ctx()
        );
        let whole = guarded(seed, "parser", &input, || run_parser(&input, MAX_BULK, &[]));
        assert_eq!(whole, (expected.clone(), None), "{}", ctx());
        // Two reads, split at every point.
        for k in 0..=input.len() {
            let got = guarded(seed, "parser", &input, || {
                run_parser(&input, MAX_BULK, &[k])
            });
            assert_eq!(got, (expected.clone(), None), "split at {k}: {}", ctx());
        }
        // One byte per read.
        let all: Vec<usize> = (1..input.len()).collect();
        assert_eq!(
            run_parser(&input, MAX_BULK, &all),
            (expected.clone(), None),
            "byte at a time: {}",
            ctx()
        );
        // Every prefix yields exactly the requests that are complete in it, never a partial one.
        for k in 0..=input.len() {
            let complete = ends.iter().filter(|&&e| e <= k).count();
            let got = run_parser(&input[..k], MAX_BULK, &random_cuts(&mut rng, k));
            assert_eq!(
                got,
                (expected[..complete].to_vec(), None),
                "prefix of {k} bytes: {}",
                ctx()
            );
        }
    }
}

#[test]
fn parser_mutated_streams_match_redis_model() {
    let (mut rng, seed) = rng_for("mutated");
    let mut donor = Vec::new();
    let mut errors = 0usize;
    let n = iters(40_000);
    for round in 0..n {
        let (mut input, _, _) = gen_valid_stream(&mut rng, 4);
        mutate(&mut rng, &mut input, &donor);
        if round % 50 == 0 {
            donor = input.clone();
        }
        let max_bulk = if rng.gen_ratio(1, 4) {
            rng.gen_range(0..20)
        } else {
            1 << 20
        };
        let want = model_parse(&input, max_bulk);
        errors += want.1.is_some() as usize;
        let ctx = || {
            format!(
                "RESPLICA_FUZZ_SEED={seed} max_bulk={max_bulk} input \"{}\"",
                show(&input)
            )
        };
        let whole = guarded(seed, "parser", &input, || run_parser(&input, max_bulk, &[]));
        assert_eq!(whole, want, "whole buffer: {}", ctx());
        let cuts = random_cuts(&mut rng, input.len());
        let split = guarded(seed, "parser", &input, || {
            run_parser(&input, max_bulk, &cuts)
        });
        assert_eq!(split, want, "cut at {cuts:?}: {}", ctx());
        if input.len() <= 64 {
            for k in 0..=input.len() {
                assert_eq!(
                    run_parser(&input, max_bulk, &[k]),
                    want,
                    "split at {k}: {}",
                    ctx()
                );
            }
        }
    }
    // The mutations must actually reach the error paths.
    assert!(
        errors > n / 10,
        "only {errors} of {n} mutated inputs were errors"
    );
}

#[test]
fn parser_random_garbage_matches_redis_model() {
    let (mut rng, seed) = rng_for("garbage");
    for _ in 0..iters(40_000) {
        let len = rng.gen_range(0..200);
        let input: Vec<u8> = match rng.gen_range(0..3) {
            0 => (0..len).map(|_| rng.gen()).collect(),
            1 => (0..len)
                .map(|_| pick(&mut rng, b"*$\r\n-0123456789"))
                .collect(),
            _ => {
                let mut v = b"*".to_vec();
                v.extend((0..len).map(|_| pick(&mut rng, b"*$\r\n1x\"' ")));
                v
            }
        };
        let want = model_parse(&input, 1 << 20);
        let got = guarded(seed, "parser", &input, || {
            run_parser(&input, 1 << 20, &random_cuts(&mut rng, input.len()))
        });
        assert_eq!(
            got,
            want,
            "RESPLICA_FUZZ_SEED={seed} input \"{}\"",
            show(&input)
        );
    }
    // A multibulk header that cannot be framed never yields a request, whatever follows.
    for _ in 0..iters(2_000) {
        let bad: u8 = loop {
            let c: u8 = rng.gen();
            if !c.is_ascii_digit() && c != b'-' && c != b'\r' && c != 0 {
                break c;
            }
        };
        let mut input = vec![b'*', bad];
        input.extend((0..rng.gen_range(0..50)).map(|_| rng.gen::<u8>()));
        input.extend_from_slice(b"\r\n*1\r\n$4\r\nPING\r\n");
        let cr = input
            .iter()
            .position(|&b| b == b'\r' || b == 0)
            .unwrap_or(0);
        if input[cr] != b'\r' {
            continue;
        }
        let (reqs, err) = run_parser(&input, 1 << 20, &random_cuts(&mut rng, input.len()));
        assert!(
            reqs.is_empty() && err.as_deref() == Some("invalid multibulk length"),
            "RESPLICA_FUZZ_SEED={seed} input \"{}\": {reqs:?} {err:?}",
            show(&input)
        );
    }
}

#[test]
fn parser_oversized_lines_error_at_the_limit() {
    let (mut rng, seed) = rng_for("oversized");
    for _ in 0..iters(40) {
        let (prefix, msg): (&[u8], &str) = [
            (&b""[..], "too big inline request"),
            (b"*", "too big mbulk count string"),
            (b"*1\r\n$", "too big bulk count string"),
        ][rng.gen_range(0..3)];
        let mut input = prefix.to_vec();
        // Redis's own prefix offset: the inline/bulk limit counts from where the line starts.
        let start = if prefix.starts_with(b"*1") { 4 } else { 0 };
        let fill = if prefix.is_empty() { b'a' } else { b'1' };
        input.resize(start + INLINE_MAX, fill);
        let cuts = random_cuts(&mut rng, input.len());
        assert_eq!(run_parser(&input, 1 << 20, &cuts), (vec![], None));
        input.push(fill);
        let cuts = random_cuts(&mut rng, input.len());
        assert_eq!(
            run_parser(&input, 1 << 20, &cuts),
            (vec![], Some(msg.to_string())),
            "RESPLICA_FUZZ_SEED={seed}"
        );
    }
}

// ------------------------------------------------------------------------------------------------
// split_args, glob, numbers, config
// ------------------------------------------------------------------------------------------------

#[test]
fn split_args_matches_sdssplitargs() {
    let (mut rng, seed) = rng_for("split_args");
    for _ in 0..iters(50_000) {
        let len = rng.gen_range(0..40);
        let line: Vec<u8> = match rng.gen_range(0..3) {
            0 => (0..len).map(|_| rng.gen()).collect(),
            _ => (0..len)
                .map(|_| pick(&mut rng, b"ab \t\r\n\x0b\x0c\"'\\x4f\x00n"))
                .collect(),
        };
        let got = guarded(seed, "split_args", &line, || split_args(&line));
        assert_eq!(
            got,
            model_splitargs(&line),
            "RESPLICA_FUZZ_SEED={seed} line \"{}\"",
            show(&line)
        );
    }
    // Quoting any arguments and splitting them back is the identity.
    for _ in 0..iters(5_000) {
        let args: Vec<Vec<u8>> = (0..rng.gen_range(0..5))
            .map(|_| gen_arg(&mut rng))
            .collect();
        let mut line = Vec::new();
        for a in &args {
            line.extend(inline_quote(a, &mut rng));
            line.push(b' ');
        }
        assert_eq!(
            split_args(&line),
            Some(args),
            "RESPLICA_FUZZ_SEED={seed} line \"{}\"",
            show(&line)
        );
    }
}

#[test]
fn glob_matches_stringmatchlen() {
    let (mut rng, seed) = rng_for("glob");
    for _ in 0..iters(100_000) {
        let plen = rng.gen_range(0..10);
        let pat: Vec<u8> = (0..plen).map(|_| pick(&mut rng, b"ab*?[]^-\\A")).collect();
        // The empty string is left to `glob_empty_string_matches_only_empty_pattern`.
        let slen = rng.gen_range(1..8);
        let s: Vec<u8> = (0..slen).map(|_| pick(&mut rng, b"abAB]-^\\*")).collect();
        // Case-insensitive classes are left to `glob_nocase_classes_like_redis`.
        let nocase = rng.gen_bool(0.3) && !pat.contains(&b'[');
        let got = guarded(seed, "glob_match", &pat, || glob_match(&pat, &s, nocase));
        assert_eq!(
            got,
            model_glob(&pat, &s, nocase),
            "RESPLICA_FUZZ_SEED={seed} pattern \"{}\" string \"{}\" nocase={nocase}",
            show(&pat),
            show(&s)
        );
    }
}

#[test]
fn glob_empty_string_matches_only_empty_pattern() {
    for pat in [&b"**"[..], b"*?", b"?", b"[a]", b"\\", b"[", b"*", b"***"] {
        assert_eq!(
            glob_match(pat, b"", false),
            model_glob(pat, b"", false),
            "pattern \"{}\"",
            show(pat)
        );
    }
    assert!(glob_match(b"", b"", false));
}

#[test]
fn glob_nocase_classes_like_redis() {
    let (mut rng, seed) = rng_for("glob_nocase_classes");
    for _ in 0..iters(20_000) {
        let pat: Vec<u8> = (0..rng.gen_range(1..8))
            .map(|_| pick(&mut rng, b"aZ[]-^\\A_*?"))
            .collect();
        let s: Vec<u8> = (0..rng.gen_range(1..6))
            .map(|_| pick(&mut rng, b"azAZ_^\\"))
            .collect();
        assert_eq!(
            glob_match(&pat, &s, true),
            model_glob(&pat, &s, true),
            "RESPLICA_FUZZ_SEED={seed} pattern \"{}\" string \"{}\"",
            show(&pat),
            show(&s)
        );
    }
}

#[test]
fn glob_time_is_bounded_on_pathological_patterns() {
    let (mut rng, seed) = rng_for("glob_time");
    let bound = Duration::from_millis(if cfg!(debug_assertions) { 2_000 } else { 250 });
    let mut cases: Vec<(Vec<u8>, Vec<u8>)> = vec![
        (
            format!("{}b", "a*".repeat(100)).into_bytes(),
            vec![b'a'; 20_000],
        ),
        ("*?".repeat(200).into_bytes(), vec![b'x'; 20_000]),
        (
            format!("{}z", "*[a-y]".repeat(100)).into_bytes(),
            vec![b'q'; 20_000],
        ),
        (
            format!("{}\\", "*a".repeat(100)).into_bytes(),
            vec![b'a'; 20_000],
        ),
    ];
    for _ in 0..iters(30) {
        let pat: Vec<u8> = (0..rng.gen_range(1..300))
            .map(|_| pick(&mut rng, b"**?a[b]"))
            .collect();
        let s: Vec<u8> = (0..rng.gen_range(1..10_000))
            .map(|_| pick(&mut rng, b"aab"))
            .collect();
        cases.push((pat, s));
    }
    for (pat, s) in &cases {
        let t = Instant::now();
        let _ = glob_match(pat, s, false);
        let _ = glob_match(pat, s, true);
        assert!(
            t.elapsed() < bound,
            "glob_match took {:?} (RESPLICA_FUZZ_SEED={seed}) on pattern \"{}\" and a {}-byte key",
            t.elapsed(),
            show(pat),
            s.len()
        );
    }
}

#[test]
fn number_parsers_are_strict_and_round_trip() {
    let (mut rng, seed) = rng_for("numbers");
    for _ in 0..iters(100_000) {
        let s: Vec<u8> = match rng.gen_range(0..4) {
            0 => (0..rng.gen_range(0..24))
                .map(|_| pick(&mut rng, b"-+0123456789 x.e"))
                .collect(),
            1 => (0..rng.gen_range(0..24)).map(|_| rng.gen()).collect(),
            2 => rng.gen::<i64>().to_string().into_bytes(),
            _ => {
                let edge = [i64::MIN, i64::MAX, 0, -1, 1][rng.gen_range(0..5)] as i128
                    + rng.gen_range(-2i128..=2);
                edge.to_string().into_bytes()
            }
        };
        let got = guarded(seed, "parse_i64", &s, || parse_i64(&s));
        assert_eq!(
            got,
            model_string2ll(&s),
            "RESPLICA_FUZZ_SEED={seed} \"{}\"",
            show(&s)
        );
        let f = guarded(seed, "parse_f64", &s, || parse_f64(&s));
        assert!(
            !f.is_some_and(f64::is_nan),
            "NaN accepted from \"{}\"",
            show(&s)
        );
        if let (Some(i), Some(f)) = (got, f) {
            assert_eq!(f, i as f64, "\"{}\"", show(&s));
        }
    }
    // %.17g output reads back to the same double.
    for _ in 0..iters(50_000) {
        let v = f64::from_bits(rng.gen());
        if v.is_nan() {
            continue;
        }
        let text = format_g17(v);
        let back = parse_f64(text.as_bytes());
        assert!(
            back.is_some_and(|b| b == v && b.is_sign_negative() == v.is_sign_negative()),
            "RESPLICA_FUZZ_SEED={seed}: {v:e} formatted as {text} reads back as {back:?}"
        );
    }
}

fn gen_config_value(rng: &mut SmallRng) -> String {
    match rng.gen_range(0..12) {
        0 => rng.gen_range(-5i64..100_000).to_string(),
        1 => rng.gen::<i64>().to_string(),
        2 => format!(
            "{}{}",
            rng.gen_range(0..5000),
            ["", "b", "k", "kb", "m", "mb", "g", "gb", "GB", "tb", "x"][rng.gen_range(0..11)]
        ),
        3 => ["yes", "no", "YES", "maybe", ""][rng.gen_range(0..5)].to_string(),
        4 => [
            "notice",
            "allkeys-lru",
            "noeviction",
            "everysec",
            "KEA",
            "Ex$",
            "normal",
            "replica",
        ][rng.gen_range(0..8)]
        .to_string(),
        5 => format!(
            "\"{}\"",
            String::from_utf8_lossy(&gen_arg(rng)).replace('"', "\\\"")
        ),
        6 => "\"unbalanced".to_string(),
        7 => "'a'b".to_string(),
        8 => "\"\\x4".to_string(),
        9 => "99999999999999999999999".to_string(),
        10 => String::from_utf8_lossy(&gen_arg(rng))
            .replace(['\n', '\r'], " ")
            .to_string(),
        _ => "-".to_string(),
    }
}

fn gen_config_line(rng: &mut SmallRng, names: &[&str]) -> String {
    let mut name = match rng.gen_range(0..10) {
        0 => "rename-command".to_string(),
        1 => ["replicaof", "slaveof"][rng.gen_range(0..2)].to_string(),
        2 => String::from_utf8_lossy(&gen_arg(rng)).replace(['\n', '\r'], ""),
        _ => names[rng.gen_range(0..names.len())].to_string(),
    };
    if rng.gen_ratio(1, 5) {
        name = name.to_ascii_uppercase();
    }
    // `include` would read arbitrary files and `dir` names a directory: keep the fuzz hermetic.
    let lname = name.trim().to_ascii_lowercase();
    if lname.starts_with("include") || lname.starts_with("dir") {
        name = "hz".to_string();
    }
    let mut line = name;
    for _ in 0..rng.gen_range(0..6) {
        line.push(' ');
        line.push_str(&gen_config_value(rng));
    }
    line
}

#[test]
fn config_text_and_overrides_never_panic() {
    let (mut rng, seed) = rng_for("config");
    let names: Vec<&str> = resplica::config::table::DIRECTIVES
        .iter()
        .flat_map(|d| std::iter::once(d.name).chain(d.alias))
        .collect();
    let dir = scratch_dir("fuzz-config");
    let path = dir.join("fuzz.conf");
    let mut accepted = 0usize;
    let n = iters(3_000);
    for _ in 0..n {
        let mut text = String::new();
        for _ in 0..rng.gen_range(0..8) {
            match rng.gen_range(0..10) {
                0 => text.push_str("# comment \"unbalanced"),
                1 => {}
                _ => text.push_str(&gen_config_line(&mut rng, &names)),
            }
            text.push_str(if rng.gen_bool(0.9) { "\n" } else { "\r\n" });
        }
        std::fs::write(&path, &text).unwrap();
        let mut args = vec![path.to_string_lossy().into_owned()];
        for _ in 0..rng.gen_range(0..3) {
            let line = gen_config_line(&mut rng, &names);
            let mut words = line.split(' ');
            args.push(format!("--{}", words.next().unwrap_or("hz")));
            args.extend(words.map(str::to_string));
        }
        if rng.gen_bool(0.3) {
            args.remove(0);
            if args.first().is_some_and(|a| !a.starts_with("--")) {
                continue;
            }
        }
        let result = guarded(seed, "parse_startup", text.as_bytes(), || {
            parse_startup(&args)
        });
        accepted += result.is_ok() as usize;
    }
    // Mostly refused, but the generator also produces valid files.
    assert!(accepted > 0 && accepted < n, "{accepted} of {n} accepted");
    let _ = std::fs::remove_dir_all(&dir);
}

// ------------------------------------------------------------------------------------------------
// Network fuzz
// ------------------------------------------------------------------------------------------------

/// Commands whose mutations cannot harm the rest of the run (no FLUSHALL, SHUTDOWN, DEBUG,
/// CONFIG SET, blocking commands, or huge allocations by design).
const CORPUS: &[&[&str]] = &[
    &["PING"],
    &["PING", "hello"],
    &["ECHO", "fuzz"],
    &["SET", "fz:a", "1"],
    &["SET", "fz:b", "hello world", "EX", "100"],
    &["GET", "fz:a"],
    &["INCR", "fz:n"],
    &["INCRBY", "fz:n", "10"],
    &["MSET", "fz:c", "1", "fz:d", "2"],
    &["MGET", "fz:a", "fz:b", "fz:zz"],
    &["APPEND", "fz:s", "abc"],
    &["STRLEN", "fz:s"],
    &["GETRANGE", "fz:s", "0", "-1"],
    &["EXISTS", "fz:a", "fz:b"],
    &["DEL", "fz:c"],
    &["TYPE", "fz:a"],
    &["TTL", "fz:b"],
    &["EXPIRE", "fz:d", "100"],
    &["SCAN", "0", "MATCH", "fz:*", "COUNT", "10"],
    &["KEYS", "fz:[ab]*"],
    &["DBSIZE"],
    &["HELLO", "3"],
    &["HELLO", "2"],
    &["CLIENT", "SETNAME", "fuzzer"],
    &["CLIENT", "GETNAME"],
    &["SELECT", "1"],
    &["COMMAND", "COUNT"],
    &["INFO", "server"],
    &["MULTI"],
    &["EXEC"],
    &["QUIT"],
];

fn corpus_stream(rng: &mut SmallRng) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..rng.gen_range(1..6) {
        let cmd = CORPUS[rng.gen_range(0..CORPUS.len())];
        if rng.gen_bool(0.7) {
            out.extend_from_slice(format!("*{}\r\n", cmd.len()).as_bytes());
            for a in cmd {
                out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
            }
        } else {
            out.extend_from_slice(cmd.join(" ").as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

/// Reads until EOF or `timeout`; true when the server closed the connection.
fn drain(s: &mut TcpStream, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; 16 * 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        let _ = s.set_read_timeout(Some(left));
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false
            }
            Err(_) => return true,
        }
    }
}

fn ping(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 7];
    s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}

#[test]
fn network_fuzz_server_survives_and_keeps_data() {
    let (mut rng, seed) = rng_for("network");
    let mut server = Server::start(&[]);
    // Collect stderr, where a panicking connection task would report.
    let stderr = server.child.stderr.take().map(|mut e| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = e.read_to_string(&mut text);
            text
        })
    });
    let port = server.port;
    let sentinel_key = format!("fuzz-sentinel-{seed:x}");
    let sentinel_val = "kept \r\n\x00 intact".repeat(10);
    let mut c = server.conn();
    redis::cmd("SET")
        .arg(&sentinel_key)
        .arg(&sentinel_val)
        .query::<()>(&mut c)
        .unwrap();

    let n = iters(4_000);
    let threads = 4;
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let mut rng = SmallRng::seed_from_u64(rng.gen::<u64>() ^ t as u64);
            std::thread::spawn(move || {
                let mut donor = Vec::new();
                let mut hung = Vec::new();
                for round in 0..n / threads {
                    let input: Vec<u8> = match rng.gen_range(0..10) {
                        0 => (0..rng.gen_range(1..300)).map(|_| rng.gen()).collect(),
                        1 => gen_valid_stream(&mut rng, 3).0,
                        _ => {
                            let mut v = corpus_stream(&mut rng);
                            mutate(&mut rng, &mut v, &donor);
                            v
                        }
                    };
                    if round % 20 == 0 {
                        donor = input.clone();
                    }
                    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
                        panic!("RESPLICA_FUZZ_SEED={seed}: connect failed at round {round}");
                    };
                    let _ = s.set_nodelay(true);
                    // Sometimes in several writes, to cross read boundaries on the server.
                    let mut last = 0;
                    for cut in random_cuts(&mut rng, input.len()) {
                        if s.write_all(&input[last..cut]).is_err() {
                            break;
                        }
                        last = cut;
                    }
                    let _ = s.write_all(&input[last..]);
                    // End of input: the server must finish with the connection promptly.
                    let _ = s.shutdown(Shutdown::Write);
                    if !drain(&mut s, Duration::from_secs(10)) {
                        hung.push(input);
                    }
                }
                hung
            })
        })
        .collect();
    let mut hung = Vec::new();
    for w in workers {
        hung.extend(w.join().expect("fuzz worker panicked"));
    }
    assert!(
        server.child.try_wait().ok().flatten().is_none(),
        "RESPLICA_FUZZ_SEED={seed}: the server exited during the network fuzz"
    );
    assert!(
        ping(port),
        "RESPLICA_FUZZ_SEED={seed}: no PONG after fuzzing"
    );
    assert!(
        hung.is_empty(),
        "RESPLICA_FUZZ_SEED={seed}: {} connections were not closed after EOF, first: \"{}\"",
        hung.len(),
        show(&hung[0])
    );
    let mut c = server.conn();
    let kept: Option<String> = redis::cmd("GET").arg(&sentinel_key).query(&mut c).unwrap();
    assert_eq!(kept.as_deref(), Some(sentinel_val.as_str()));
    let _: () = redis::cmd("PING").query(&mut c).unwrap();

    // A panic inside a connection task would be printed on stderr.
    let _ = server.child.kill();
    let _ = server.child.wait();
    if let Some(h) = stderr {
        let text = h.join().unwrap_or_default();
        assert!(
            !text.contains("panicked"),
            "RESPLICA_FUZZ_SEED={seed}: the server panicked:\n{text}"
        );
    }
}
