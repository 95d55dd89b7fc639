//! List commands, differentially against a real Redis 7.0: every reply must match value for
//! value, in RESP2 and RESP3. Blocking commands run the same multi-client scenario against both
//! servers and compare the transcripts.

#[macro_use]
mod common;
use common::*;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use redis::Value as V;
use std::time::{Duration, Instant};

#[test]
fn push_pop_len_range() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[
        &[
            &["LPUSH", "l", "a"],
            &["LPUSH", "l", "b", "c", "d"],
            &["RPUSH", "l", "x", "y"],
            &["LLEN", "l"],
            &["LRANGE", "l", "0", "-1"],
            &["OBJECT", "ENCODING", "l"],
            &["TYPE", "l"],
            &["LPUSHX", "l", "p1", "p2"],
            &["RPUSHX", "l", "q"],
            &["LPUSHX", "nokey", "a"],
            &["RPUSHX", "nokey", "a", "b"],
            &["EXISTS", "nokey"],
            &["LRANGE", "l", "0", "-1"],
            &["LPOP", "l"],
            &["RPOP", "l"],
            &["LPOP", "l", "2"],
            &["RPOP", "l", "2"],
            &["LPOP", "l", "0"],
            &["RPOP", "l", "0"],
            &["LRANGE", "l", "0", "-1"],
            &["LPOP", "l", "100"],
            &["EXISTS", "l"],
            &["LPOP", "l"],
            &["LPOP", "l", "0"],
            &["LPOP", "l", "3"],
            &["RPOP", "l", "3"],
            &["RPOP", "l"],
            &["LLEN", "l"],
            &["LPOP", "l", "-1"],
            &["LPOP", "l", "abc"],
            &["LPOP", "l", "1", "2"],
            &["RPOP", "l", "1.5"],
            &["RPUSH", "one", "v"],
            &["RPOP", "one", "1"],
            &["EXISTS", "one"],
            &["RPUSH", "one", "v"],
            &["LPOP", "one"],
            &["EXISTS", "one"],
            &["RPUSH", "e", ""],
            &["LRANGE", "e", "0", "-1"],
            &["LPOP", "e"],
        ],
        &[
            &["RPUSH", "l", "a", "b", "c", "d", "e"],
            &["LRANGE", "l", "0", "0"],
            &["LRANGE", "l", "-1", "-1"],
            &["LRANGE", "l", "-100", "100"],
            &["LRANGE", "l", "2", "1"],
            &["LRANGE", "l", "5", "10"],
            &["LRANGE", "l", "1", "-2"],
            &["LRANGE", "l", "-3", "-2"],
            &["LRANGE", "l", "0", "-6"],
            &["LRANGE", "l", "-9223372036854775808", "9223372036854775807"],
            &["LRANGE", "l", "9223372036854775807", "-9223372036854775808"],
            &["LRANGE", "l", "a", "1"],
            &["LRANGE", "l", "0", "b"],
            &["LRANGE", "nokey", "0", "-1"],
            &["LRANGE", "nokey", "x", "-1"],
            &["LRANGE", "l", "0"],
            &["LLEN", "nokey"],
            &["LLEN"],
            &["LLEN", "a", "b"],
            &["LPUSH", "l"],
            &["RPUSH"],
        ],
        &[
            // Long elements (heap form) and binary data.
            &[
                "RPUSH",
                "big",
                "a string that is definitely longer than fifteen bytes",
                "\u{0}\u{1}\r\n",
                "123",
                "-9223372036854775808",
            ],
            &["LRANGE", "big", "0", "-1"],
            &["LINDEX", "big", "0"],
            &["LPOS", "big", "123"],
            &[
                "LREM",
                "big",
                "0",
                "a string that is definitely longer than fifteen bytes",
            ],
            &["LRANGE", "big", "0", "-1"],
        ],
    ];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn index_set_insert_rem_trim() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[
        &[
            &["RPUSH", "l", "a", "b", "c"],
            &["LINDEX", "l", "0"],
            &["LINDEX", "l", "-1"],
            &["LINDEX", "l", "-3"],
            &["LINDEX", "l", "3"],
            &["LINDEX", "l", "-4"],
            &["LINDEX", "l", "x"],
            &["LINDEX", "nokey", "x"],
            &["LINDEX", "nokey", "0"],
            &["LINDEX", "l", "9223372036854775807"],
            &["LINDEX", "l", "-9223372036854775808"],
            &["LSET", "l", "0", "A"],
            &["LSET", "l", "-1", "C"],
            &["LSET", "l", "3", "X"],
            &["LSET", "l", "-4", "X"],
            &["LSET", "l", "x", "X"],
            &["LSET", "nokey", "0", "X"],
            &["LSET", "nokey", "x", "X"],
            &["LSET", "l", "1", "a much longer value than the inline size"],
            &["LRANGE", "l", "0", "-1"],
            &["LINSERT", "l", "BEFORE", "A", "h"],
            &["LINSERT", "l", "after", "C", "t"],
            &["LINSERT", "l", "AFTER", "A", "m"],
            &["LINSERT", "l", "before", "zz", "m"],
            &["LINSERT", "l", "middle", "A", "m"],
            &["LINSERT", "nokey", "BEFORE", "A", "m"],
            &["LINSERT", "nokey", "foo", "A", "m"],
            &["EXISTS", "nokey"],
            &["LRANGE", "l", "0", "-1"],
        ],
        &[
            &["RPUSH", "l", "a", "b", "a", "c", "a", "b", "a"],
            &["LREM", "l", "1", "a"],
            &["LRANGE", "l", "0", "-1"],
            &["LREM", "l", "-2", "a"],
            &["LRANGE", "l", "0", "-1"],
            &["LREM", "l", "0", "b"],
            &["LRANGE", "l", "0", "-1"],
            &["LREM", "l", "5", "zz"],
            &["LREM", "l", "x", "a"],
            &["LREM", "nokey", "x", "a"],
            &["LREM", "nokey", "0", "a"],
            &["RPUSH", "m", "a", "a", "a"],
            &["LREM", "m", "-9223372036854775808", "a"],
            &["EXISTS", "m"],
            &["RPUSH", "m", "a", "b", "a"],
            &["LREM", "m", "9223372036854775807", "a"],
            &["LRANGE", "m", "0", "-1"],
            &["LREM", "m", "0", "b"],
            &["EXISTS", "m"],
        ],
        &[
            &["RPUSH", "l", "a", "b", "c", "d", "e", "f"],
            &["LTRIM", "l", "1", "-2"],
            &["LRANGE", "l", "0", "-1"],
            &["LTRIM", "l", "-100", "100"],
            &["LRANGE", "l", "0", "-1"],
            &["LTRIM", "l", "1", "1"],
            &["LRANGE", "l", "0", "-1"],
            &["LTRIM", "l", "x", "1"],
            &["LTRIM", "l", "0", "y"],
            &["LTRIM", "nokey", "0", "1"],
            &["LTRIM", "nokey", "x", "1"],
            &["LTRIM", "l", "1", "0"],
            &["EXISTS", "l"],
            &["RPUSH", "l", "a", "b"],
            &["LTRIM", "l", "5", "10"],
            &["EXISTS", "l"],
            &["RPUSH", "l", "a", "b"],
            &["LTRIM", "l", "-9223372036854775808", "9223372036854775807"],
            &["LRANGE", "l", "0", "-1"],
            &["LTRIM", "l", "0", "-3"],
            &["EXISTS", "l"],
        ],
    ];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn lpos_options() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[&[
        &["RPUSH", "l", "a", "b", "c", "a", "b", "c", "a", "x", "a"],
        &["LPOS", "l", "a"],
        &["LPOS", "l", "c"],
        &["LPOS", "l", "zz"],
        &["LPOS", "l", "a", "RANK", "2"],
        &["LPOS", "l", "a", "RANK", "-1"],
        &["LPOS", "l", "a", "RANK", "-3"],
        &["LPOS", "l", "a", "RANK", "10"],
        &["LPOS", "l", "a", "RANK", "-10"],
        &["LPOS", "l", "a", "RANK", "0"],
        &["LPOS", "l", "a", "RANK", "x"],
        &["LPOS", "l", "a", "RANK", "-9223372036854775808"],
        &[
            "LPOS",
            "l",
            "a",
            "RANK",
            "-9223372036854775808",
            "COUNT",
            "2",
        ],
        &["LPOS", "l", "a", "RANK", "9223372036854775807"],
        &["LPOS", "l", "a", "COUNT", "0"],
        &["LPOS", "l", "a", "COUNT", "2"],
        &["LPOS", "l", "a", "COUNT", "100"],
        &["LPOS", "l", "zz", "COUNT", "2"],
        &["LPOS", "l", "a", "COUNT", "-1"],
        &["LPOS", "l", "a", "COUNT", "x"],
        &["LPOS", "l", "a", "RANK", "2", "COUNT", "2"],
        &["LPOS", "l", "a", "RANK", "-2", "COUNT", "0"],
        &["LPOS", "l", "a", "MAXLEN", "4"],
        &["LPOS", "l", "x", "MAXLEN", "4"],
        &["LPOS", "l", "a", "RANK", "-1", "MAXLEN", "1"],
        &["LPOS", "l", "a", "RANK", "-1", "MAXLEN", "2", "COUNT", "0"],
        &["LPOS", "l", "a", "COUNT", "0", "MAXLEN", "4"],
        &["LPOS", "l", "a", "MAXLEN", "-1"],
        &["LPOS", "l", "a", "MAXLEN", "x"],
        &["LPOS", "l", "a", "MAXLEN", "0", "COUNT", "0"],
        &["LPOS", "l", "a", "rank", "2", "RANK", "1"],
        &["LPOS", "l", "a", "COUNT"],
        &["LPOS", "l", "a", "RANK"],
        &["LPOS", "l", "a", "FOO", "1"],
        &["LPOS", "l", "a", "COUNT", "1", "FOO"],
        &["LPOS", "nokey", "a"],
        &["LPOS", "nokey", "a", "COUNT", "1"],
        &["LPOS", "nokey", "a", "RANK", "0"],
        &["LPOS", "nokey", "a", "FOO"],
        &["LPOS", "l"],
    ]];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn lmove_rpoplpush_lmpop() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[
        &[
            &["RPUSH", "src", "a", "b", "c"],
            &["LMOVE", "src", "dst", "LEFT", "RIGHT"],
            &["LMOVE", "src", "dst", "right", "left"],
            &["LMOVE", "src", "dst", "LEFT", "LEFT"],
            &["LMOVE", "src", "dst", "LEFT", "LEFT"],
            &["EXISTS", "src"],
            &["LRANGE", "dst", "0", "-1"],
            &["LMOVE", "dst", "dst", "LEFT", "RIGHT"],
            &["LMOVE", "dst", "dst", "RIGHT", "LEFT"],
            &["LMOVE", "dst", "dst", "LEFT", "LEFT"],
            &["LRANGE", "dst", "0", "-1"],
            &["LMOVE", "dst", "dst", "UP", "LEFT"],
            &["LMOVE", "dst", "dst", "LEFT", "DOWN"],
            &["LMOVE", "nokey", "dst", "UP", "LEFT"],
            &["LMOVE", "nokey", "dst", "LEFT", "LEFT"],
            &["RPOPLPUSH", "dst", "other"],
            &["RPOPLPUSH", "dst", "other"],
            &["RPOPLPUSH", "nokey", "other"],
            &["LRANGE", "other", "0", "-1"],
            &["RPUSH", "one", "x"],
            &["RPOPLPUSH", "one", "one"],
            &["LRANGE", "one", "0", "-1"],
            &["SET", "str", "v"],
            &["LMOVE", "one", "str", "LEFT", "LEFT"],
            &["LRANGE", "one", "0", "-1"],
            &["LMOVE", "str", "one", "LEFT", "LEFT"],
            &["RPOPLPUSH", "one", "str"],
            &["RPOPLPUSH", "str", "one"],
            &["LMOVE", "nokey", "str", "LEFT", "LEFT"],
            &["RPOPLPUSH", "nokey", "str"],
            &["LMOVE", "one", "two", "LEFT"],
            &["RPOPLPUSH", "one"],
        ],
        &[
            &["RPUSH", "b", "1", "2", "3", "4", "5"],
            &["RPUSH", "c", "x"],
            &["LMPOP", "2", "a", "b", "LEFT"],
            &["LMPOP", "2", "a", "b", "RIGHT", "COUNT", "2"],
            &["LMPOP", "3", "a", "c", "b", "left", "count", "10"],
            &["EXISTS", "c"],
            &["LMPOP", "2", "a", "b", "RIGHT", "COUNT", "10"],
            &["LMPOP", "2", "a", "b", "LEFT"],
            &["LMPOP", "2", "a", "b", "LEFT", "COUNT", "1"],
            &["LMPOP", "0", "a", "LEFT"],
            &["LMPOP", "-1", "a", "LEFT"],
            &["LMPOP", "x", "a", "LEFT"],
            &["LMPOP", "2", "a", "LEFT"],
            &["LMPOP", "9223372036854775807", "a", "LEFT"],
            &["LMPOP", "1", "a", "MIDDLE"],
            &["LMPOP", "1", "a", "LEFT", "COUNT", "0"],
            &["LMPOP", "1", "a", "LEFT", "COUNT", "-1"],
            &["LMPOP", "1", "a", "LEFT", "COUNT", "x"],
            &["LMPOP", "1", "a", "LEFT", "COUNT"],
            &["LMPOP", "1", "a", "LEFT", "COUNT", "1", "COUNT", "1"],
            &["LMPOP", "1", "a", "LEFT", "FOO"],
            &["LMPOP", "1", "a"],
            &["SET", "s", "v"],
            &["RPUSH", "z", "1"],
            &["LMPOP", "2", "s", "z", "LEFT"],
            &["LMPOP", "2", "z", "s", "LEFT"],
            &["LMPOP", "2", "nokey", "s", "LEFT"],
        ],
    ];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn wrong_type_replies() {
    let p = pair!();
    let cmds: &[&[&str]] = &[
        &["LPUSH", "s", "a"],
        &["RPUSH", "s", "a"],
        &["LPUSHX", "s", "a"],
        &["RPUSHX", "s", "a"],
        &["LPOP", "s"],
        &["RPOP", "s", "2"],
        &["LPOP", "s", "-1"],
        &["LLEN", "s"],
        &["LRANGE", "s", "0", "-1"],
        &["LRANGE", "s", "x", "-1"],
        &["LINDEX", "s", "0"],
        &["LINDEX", "s", "x"],
        &["LSET", "s", "0", "v"],
        &["LSET", "s", "x", "v"],
        &["LINSERT", "s", "BEFORE", "a", "b"],
        &["LREM", "s", "0", "a"],
        &["LTRIM", "s", "0", "1"],
        &["LPOS", "s", "a"],
        &["LPOS", "s", "a", "RANK", "0"],
        &["LMOVE", "s", "d", "LEFT", "LEFT"],
        &["RPOPLPUSH", "s", "d"],
        &["LMPOP", "1", "s", "LEFT"],
        &["BLPOP", "s", "0"],
        &["BRPOP", "nokey", "s", "0"],
        &["BLMOVE", "s", "d", "LEFT", "LEFT", "0"],
        &["BRPOPLPUSH", "s", "d", "0"],
        &["BLMPOP", "0", "1", "s", "LEFT"],
        &["GET", "s"],
    ];
    let mut seq: Vec<&[&str]> = vec![&["SET", "s", "v"]];
    seq.extend_from_slice(cmds);
    let mut hash_seq: Vec<&[&str]> = vec![&["DEL", "s"], &["RPUSH", "l", "a"]];
    hash_seq.push(&["GET", "l"]);
    hash_seq.push(&["INCR", "l"]);
    hash_seq.push(&["APPEND", "l", "x"]);
    assert_no_diffs(p.diff(&[&seq, &hash_seq]));
}

#[test]
fn blocking_commands_when_data_is_there() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[
        &[
            &["RPUSH", "b", "1", "2", "3"],
            &["BLPOP", "a", "b", "0"],
            &["BRPOP", "a", "b", "0"],
            &["BLPOP", "b", "0.5"],
            &["EXISTS", "b"],
            &["RPUSH", "b", "1", "2", "3"],
            &["BLMOVE", "b", "c", "LEFT", "RIGHT", "0"],
            &["BRPOPLPUSH", "b", "c", "0"],
            &["LRANGE", "c", "0", "-1"],
            &["BLMPOP", "0", "2", "a", "c", "RIGHT", "COUNT", "5"],
            &["BLMPOP", "1", "1", "b", "LEFT"],
            &["EXISTS", "b", "c"],
            &["BLPOP", "a", "-1"],
            &["BLPOP", "a", "x"],
            &["BLPOP", "a", "inf"],
            &["BLPOP", "a", "1e300"],
            &["BLPOP", "a", ""],
            &["BLPOP", "a"],
            &["BRPOP", "a"],
            &["BLMOVE", "a", "b", "LEFT", "UP", "0"],
            &["BLMOVE", "a", "b", "LEFT", "LEFT", "x"],
            &["BLMOVE", "a", "b", "LEFT", "LEFT", "-1"],
            &["BLMOVE", "a", "b", "LEFT", "LEFT"],
            &["BRPOPLPUSH", "a", "b", "x"],
            &["BRPOPLPUSH", "a", "b"],
            &["BLMPOP", "x", "0", "a", "LEFT"],
            &["BLMPOP", "-1", "1", "a", "LEFT"],
            &["BLMPOP", "0", "1", "a", "UP"],
            &["BLMPOP", "0", "2", "a", "LEFT"],
            &["BLMPOP", "0", "1", "a", "LEFT", "COUNT", "0"],
            &["BLMPOP", "0", "1", "a"],
        ],
        &[
            // Inside MULTI nothing blocks: an empty source answers like a timeout.
            &["MULTI"],
            &["BLPOP", "a", "0"],
            &["BRPOP", "a", "0"],
            &["BLMOVE", "a", "b", "LEFT", "LEFT", "0"],
            &["BRPOPLPUSH", "a", "b", "0"],
            &["BLMPOP", "0", "1", "a", "LEFT"],
            &["RPUSH", "a", "x", "y"],
            &["BLPOP", "a", "0"],
            &["BLMOVE", "a", "b", "LEFT", "LEFT", "0"],
            &["EXEC"],
            &["LRANGE", "b", "0", "-1"],
        ],
    ];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn command_metadata_matches_redis() {
    let p = pair!();
    let names = [
        "lpush",
        "rpush",
        "lpushx",
        "rpushx",
        "lpop",
        "rpop",
        "llen",
        "lrange",
        "lindex",
        "lset",
        "linsert",
        "lrem",
        "ltrim",
        "lpos",
        "lmove",
        "rpoplpush",
        "lmpop",
        "blpop",
        "brpop",
        "blmove",
        "brpoplpush",
        "blmpop",
    ];
    let head = |v: V| -> Vec<String> {
        let V::Array(outer) = v else {
            panic!("COMMAND INFO reply is not an array")
        };
        let Some(V::Array(info)) = outer.into_iter().next() else {
            panic!("no COMMAND INFO entry")
        };
        let mut fields: Vec<String> = info.iter().take(6).map(show).collect();
        // LMPOP/BLMPOP carry `movablekeys`, which the command table cannot express yet.
        fields[2] = fields[2].replace(", +movablekeys", "");
        fields
    };
    let mut ours = Raw::connect(p.ours.port);
    let mut real = Raw::connect(p.real.port);
    for n in names {
        let a = head(ours.call(&["COMMAND", "INFO", n]).value);
        let b = head(real.call(&["COMMAND", "INFO", n]).value);
        assert_eq!(a, b, "COMMAND INFO {n}");
        let docs = |c: &mut Raw| show(&c.call(&["COMMAND", "DOCS", n]).value);
        let (a, b) = (docs(&mut ours), docs(&mut real));
        for field in ["summary", "since", "group"] {
            let pick = |s: &str| {
                s.split(&format!("\"{field}\" => "))
                    .nth(1)
                    .map(|r| r.split(',').next().unwrap_or("").to_string())
            };
            assert_eq!(pick(&a), pick(&b), "COMMAND DOCS {n} {field}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A seeded random sequence of list commands over a few keys, against both servers.
// ---------------------------------------------------------------------------------------------

fn random_command(rng: &mut SmallRng) -> Vec<String> {
    const KEYS: [&str; 4] = ["a", "b", "c", "s"];
    const VALS: [&str; 6] = [
        "x",
        "y",
        "z",
        "1",
        "",
        "a value long enough to live on the heap",
    ];
    let key = |rng: &mut SmallRng| KEYS[rng.gen_range(0..KEYS.len())].to_string();
    let val = |rng: &mut SmallRng| VALS[rng.gen_range(0..VALS.len())].to_string();
    let idx = |rng: &mut SmallRng| rng.gen_range(-8i64..8).to_string();
    let side = |rng: &mut SmallRng| ["LEFT", "RIGHT"][rng.gen_range(0..2)].to_string();
    let s = |v: &str| v.to_string();
    match rng.gen_range(0..22) {
        0..=2 => {
            let mut c = vec![s(["LPUSH", "RPUSH"][rng.gen_range(0..2)]), key(rng)];
            for _ in 0..rng.gen_range(1..5) {
                c.push(val(rng));
            }
            c
        }
        3 => vec![
            s(["LPUSHX", "RPUSHX"][rng.gen_range(0..2)]),
            key(rng),
            val(rng),
        ],
        4 | 5 => {
            let mut c = vec![s(["LPOP", "RPOP"][rng.gen_range(0..2)]), key(rng)];
            if rng.gen_bool(0.5) {
                c.push(rng.gen_range(-1..6).to_string());
            }
            c
        }
        6 => vec![s("LLEN"), key(rng)],
        7 => vec![s("LRANGE"), key(rng), idx(rng), idx(rng)],
        8 => vec![s("LINDEX"), key(rng), idx(rng)],
        9 => vec![s("LSET"), key(rng), idx(rng), val(rng)],
        10 => vec![
            s("LINSERT"),
            key(rng),
            s(["BEFORE", "AFTER"][rng.gen_range(0..2)]),
            val(rng),
            val(rng),
        ],
        11 => vec![
            s("LREM"),
            key(rng),
            rng.gen_range(-3..4).to_string(),
            val(rng),
        ],
        12 => vec![s("LTRIM"), key(rng), idx(rng), idx(rng)],
        13 => {
            let mut c = vec![s("LPOS"), key(rng), val(rng)];
            if rng.gen_bool(0.5) {
                c.extend([s("RANK"), rng.gen_range(-3..4).to_string()]);
            }
            if rng.gen_bool(0.5) {
                c.extend([s("COUNT"), rng.gen_range(0..4).to_string()]);
            }
            if rng.gen_bool(0.3) {
                c.extend([s("MAXLEN"), rng.gen_range(0..5).to_string()]);
            }
            c
        }
        14 | 15 => vec![s("LMOVE"), key(rng), key(rng), side(rng), side(rng)],
        16 => vec![s("RPOPLPUSH"), key(rng), key(rng)],
        17 => {
            let n = rng.gen_range(1..4);
            let mut c = vec![s("LMPOP"), n.to_string()];
            for _ in 0..n {
                c.push(key(rng));
            }
            c.push(side(rng));
            if rng.gen_bool(0.5) {
                c.extend([s("COUNT"), rng.gen_range(1..5).to_string()]);
            }
            c
        }
        18 => vec![s("BLPOP"), key(rng), key(rng), s("0.01")],
        19 => vec![
            s("BLMOVE"),
            key(rng),
            key(rng),
            side(rng),
            side(rng),
            s("0.01"),
        ],
        20 => vec![s("EXISTS"), key(rng)],
        _ => vec![s("SET"), s("s"), val(rng)],
    }
}

#[test]
fn random_sequences_match_redis() {
    let p = pair!();
    let seed: u64 = std::env::var("LIST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x005E_ED0F_115E);
    let mut rng = SmallRng::seed_from_u64(seed);
    for round in 0..4 {
        let mut cmds: Vec<Vec<String>> = vec![vec!["SET".into(), "s".into(), "str".into()]];
        for _ in 0..400 {
            // Blocking commands with nothing to pop time out after 10 ms on both servers.
            cmds.push(random_command(&mut rng));
        }
        for k in ["a", "b", "c", "s"] {
            cmds.push(vec!["TYPE".into(), k.into()]);
            cmds.push(vec!["LRANGE".into(), k.into(), "0".into(), "-1".into()]);
        }
        let refs: Vec<Vec<&str>> = cmds
            .iter()
            .map(|c| c.iter().map(|s| s.as_str()).collect())
            .collect();
        let seq: Vec<&[&str]> = refs.iter().map(|c| c.as_slice()).collect();
        let diffs = p.diff(&[&seq]);
        assert!(
            diffs.is_empty(),
            "seed {seed} round {round}: {} difference(s):\n{}",
            diffs.len(),
            diffs.join("\n")
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Blocking behaviour with several clients.
// ---------------------------------------------------------------------------------------------

fn client_id(c: &mut Raw) -> i64 {
    match c.call(&["CLIENT", "ID"]).value {
        V::Int(n) => n,
        other => panic!("CLIENT ID: {}", show(&other)),
    }
}

/// The `cmd=` field CLIENT LIST shows for client `id`, `None` when it is not connected.
fn client_cmd(admin: &mut Raw, id: i64) -> Option<String> {
    let list = text_of(&admin.call(&["CLIENT", "LIST"]).value).unwrap_or_default();
    let want = format!("id={id}");
    list.lines()
        .find(|l| l.split(' ').next() == Some(want.as_str()))
        .map(|l| {
            l.split(' ')
                .find_map(|f| f.strip_prefix("cmd="))
                .unwrap_or("")
                .to_string()
        })
}

/// Sends a blocking command on `c` and waits until the server shows it running.
fn send_blocking(admin: &mut Raw, c: &mut Raw, id: i64, args: &[&str]) {
    c.send(args);
    let name = args[0].to_ascii_lowercase();
    assert!(
        wait_until(Duration::from_secs(5), || client_cmd(admin, id).as_deref()
            == Some(name.as_str())),
        "client {id} never ran {name}"
    );
}

/// A fresh connection and its id.
fn blocker(port: u16) -> (Raw, i64) {
    let mut c = Raw::connect(port);
    let id = client_id(&mut c);
    (c, id)
}

fn read_show(c: &mut Raw) -> String {
    match c.try_read(Duration::from_secs(5)) {
        Some(r) => show(&r.value),
        None => "<no reply>".into(),
    }
}

/// Runs `scenario` against both servers; compares the transcripts and returns ours.
fn both(p: &Pair, scenario: fn(u16) -> Vec<String>) -> Vec<String> {
    let real = scenario(p.real.port);
    let ours = scenario(p.ours.port);
    assert_eq!(ours, real, "transcripts differ (left: ours, right: Redis)");
    ours
}

fn arrival_order(port: u16) -> Vec<String> {
    let mut admin = Raw::connect(port);
    admin.call(&["FLUSHALL"]);
    let mut clients: Vec<(Raw, i64)> = (0..4).map(|_| blocker(port)).collect();
    for (i, (c, id)) in clients.iter_mut().enumerate() {
        let cmd: &[&str] = match i {
            0 => &["BLPOP", "k", "0"],
            1 => &["BRPOP", "other", "k", "0"],
            2 => &["BLMPOP", "0", "1", "k", "LEFT", "COUNT", "2"],
            _ => &["BLPOP", "k", "0"],
        };
        send_blocking(&mut admin, c, *id, cmd);
    }
    // One element at a time: each push serves the longest-waiting client.
    let mut t = vec![show(&admin.call(&["RPUSH", "k", "e1"]).value)];
    t.push(read_show(&mut clients[0].0));
    t.push(show(&admin.call(&["RPUSH", "k", "e2"]).value));
    t.push(read_show(&mut clients[1].0));
    // Several at once: served in order while elements last.
    t.push(show(&admin.call(&["RPUSH", "k", "e3", "e4", "e5"]).value));
    t.push(read_show(&mut clients[2].0));
    t.push(read_show(&mut clients[3].0));
    t.push(show(&admin.call(&["LRANGE", "k", "0", "-1"]).value));
    t
}

#[test]
fn blocked_clients_are_served_in_arrival_order() {
    let p = pair!();
    let t = both(&p, arrival_order);
    assert_eq!(t[1], r#"["k", "e1"]"#);
    assert_eq!(t[5], r#"["k", ["e3", "e4"]]"#);
}

fn chain(port: u16) -> Vec<String> {
    let mut admin = Raw::connect(port);
    admin.call(&["FLUSHALL"]);
    let (mut c1, id1) = blocker(port);
    let (mut c2, id2) = blocker(port);
    let (mut c3, id3) = blocker(port);
    send_blocking(
        &mut admin,
        &mut c1,
        id1,
        &["BLMOVE", "a", "b", "LEFT", "RIGHT", "0"],
    );
    send_blocking(&mut admin, &mut c2, id2, &["BRPOPLPUSH", "b", "c", "0"]);
    send_blocking(&mut admin, &mut c3, id3, &["BLPOP", "c", "0"]);
    let mut t = vec![show(&admin.call(&["LPUSH", "a", "v"]).value)];
    t.push(read_show(&mut c1));
    t.push(read_show(&mut c2));
    t.push(read_show(&mut c3));
    t.push(show(&admin.call(&["EXISTS", "a", "b", "c"]).value));
    // A move whose destination turned into another type answers WRONGTYPE when served and
    // leaves the element in the source.
    admin.call(&["SET", "str", "x"]);
    send_blocking(
        &mut admin,
        &mut c1,
        id1,
        &["BLMOVE", "src", "str", "LEFT", "LEFT", "0"],
    );
    t.push(show(&admin.call(&["RPUSH", "src", "w"]).value));
    t.push(read_show(&mut c1));
    t.push(show(&admin.call(&["LRANGE", "src", "0", "-1"]).value));
    t
}

#[test]
fn blmove_chains_move_one_element_through() {
    let p = pair!();
    let t = both(&p, chain);
    assert_eq!(t[3], r#"["c", "v"]"#);
    assert_eq!(t[4], "(int) 0");
}

fn disconnect(port: u16) -> Vec<String> {
    let mut admin = Raw::connect(port);
    admin.call(&["FLUSHALL"]);
    let (mut gone, gone_id) = blocker(port);
    send_blocking(&mut admin, &mut gone, gone_id, &["BLPOP", "k", "0"]);
    let (mut stays, stays_id) = blocker(port);
    send_blocking(
        &mut admin,
        &mut stays,
        stays_id,
        &["BLMOVE", "k2", "d", "LEFT", "LEFT", "0"],
    );
    drop(gone);
    drop(stays);
    assert!(
        wait_until(Duration::from_secs(5), || {
            client_cmd(&mut admin, gone_id).is_none() && client_cmd(&mut admin, stays_id).is_none()
        }),
        "disconnected clients still listed"
    );
    // Any command under the keyspace lock orders us after the disconnect's cleanup.
    admin.call(&["PING"]);
    let mut t = vec![show(&admin.call(&["RPUSH", "k", "v"]).value)];
    t.push(show(&admin.call(&["RPUSH", "k2", "w"]).value));
    t.push(show(&admin.call(&["LRANGE", "k", "0", "-1"]).value));
    t.push(show(&admin.call(&["LRANGE", "k2", "0", "-1"]).value));
    t.push(show(&admin.call(&["EXISTS", "d"]).value));
    // A blocked client that later disconnects does not keep a later waiter from being served.
    let (mut a, ida) = blocker(port);
    let (mut b, idb) = blocker(port);
    send_blocking(&mut admin, &mut a, ida, &["BLPOP", "q", "0"]);
    send_blocking(&mut admin, &mut b, idb, &["BLPOP", "q", "0"]);
    drop(a);
    assert!(wait_until(Duration::from_secs(5), || client_cmd(
        &mut admin, ida
    )
    .is_none()));
    admin.call(&["PING"]);
    t.push(show(&admin.call(&["RPUSH", "q", "x"]).value));
    t.push(read_show(&mut b));
    t
}

#[test]
fn disconnected_blocked_client_does_not_eat_elements() {
    let p = pair!();
    let t = both(&p, disconnect);
    assert_eq!(t[2], r#"["v"]"#);
    assert_eq!(t[6], r#"["q", "x"]"#);
}

#[test]
fn fractional_timeouts_expire_on_time() {
    let Some(real) = RealRedis::start(&[]) else {
        return;
    };
    let ours = Server::start(&[]);
    for port in [ours.port, real.port] {
        let cases: &[(&[&str], &str)] = &[
            (&["BLPOP", "nokey", "0.1"], "nil"),
            (&["BRPOP", "nokey", "other", "0.1"], "nil"),
            (&["BLMOVE", "nokey", "d", "LEFT", "LEFT", "0.1"], "nil"),
            (&["BRPOPLPUSH", "nokey", "d", "0.1"], "nil"),
            (&["BLMPOP", "0.1", "1", "nokey", "LEFT"], "nil"),
        ];
        for proto in [2, 3] {
            let mut c = Raw::connect(port);
            if proto == 3 {
                c.call(&["HELLO", "3"]);
            }
            for (cmd, want) in cases {
                let start = Instant::now();
                let r = c.call(cmd);
                let took = start.elapsed();
                assert_eq!(show(&r.value), *want, "port {port} {cmd:?}");
                // Redis 7.0 times every list command out with a null array, BLMOVE and
                // BRPOPLPUSH included (though they answer a null bulk inside MULTI).
                let sig = if proto == 3 { "_" } else { "*" };
                assert_eq!(r.sig, sig, "port {port} RESP{proto} {cmd:?}");
                assert!(
                    took >= Duration::from_millis(90) && took < Duration::from_secs(2),
                    "port {port} {cmd:?} took {took:?}"
                );
            }
            // Data arriving before the deadline wins.
            let mut admin = Raw::connect(port);
            let id = client_id(&mut c);
            send_blocking(&mut admin, &mut c, id, &["BLPOP", "late", "5"]);
            admin.call(&["RPUSH", "late", "v"]);
            assert_eq!(read_show(&mut c), r#"["late", "v"]"#);
            assert_eq!(show(&admin.call(&["EXISTS", "late"]).value), "(int) 0");
        }
    }
}

#[test]
fn resp3_blocking_reply_shapes() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[&[
        &["RPUSH", "k", "a", "b", "c"],
        &["BLPOP", "k", "0"],
        &["BLMPOP", "0", "1", "k", "RIGHT", "COUNT", "5"],
        &["LMPOP", "1", "k", "LEFT"],
        &["LPOP", "k", "2"],
        &["LPOP", "k"],
        &["LPOS", "k", "a"],
        &["LPOS", "k", "a", "COUNT", "0"],
    ]];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn big_lists_index_and_set_fast() {
    let server = Server::start(&[]);
    let mut c = Raw::connect(server.port);
    let n: i64 = 200_000;
    let chunk: Vec<String> = (0..1000).map(|i| format!("v{i}")).collect();
    let mut args: Vec<&str> = vec!["RPUSH", "big"];
    args.extend(chunk.iter().map(|s| s.as_str()));
    for _ in 0..n / 1000 {
        c.send(&args);
    }
    let mut last = V::Nil;
    for _ in 0..n / 1000 {
        last = c.read().value;
    }
    assert_eq!(last, V::Int(n));
    let start = Instant::now();
    let written: std::collections::HashSet<i64> = (0..2000i64).map(|i| (i * 7919) % n).collect();
    // In pipelined batches of 200 commands.
    for batch in 0..20i64 {
        for i in batch * 100..(batch + 1) * 100 {
            let idx = (i * 7919) % n;
            c.send(&["LSET", "big", &idx.to_string(), "x"]);
            c.send(&["LINDEX", "big", &(-idx - 1).to_string()]);
        }
        for _ in 0..100 {
            assert_eq!(c.read().value, V::Okay);
            c.read();
        }
    }
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "LINDEX/LSET on a big list took {:?}",
        start.elapsed()
    );
    let untouched = (100_000..n).find(|i| !written.contains(i)).unwrap_or(0);
    assert_eq!(
        c.call(&["LINDEX", "big", &untouched.to_string()]).value,
        V::BulkString(format!("v{}", untouched % 1000).into_bytes())
    );
    let touched = 7919 % n;
    assert_eq!(
        c.call(&["LINDEX", "big", &touched.to_string()]).value,
        V::BulkString(b"x".to_vec())
    );
    assert_eq!(c.call(&["LLEN", "big"]).value, V::Int(n));
}

fn events(port: u16) -> Vec<String> {
    let mut admin = Raw::connect(port);
    admin.call(&["FLUSHALL"]);
    admin.call(&["CONFIG", "SET", "notify-keyspace-events", "Elg"]);
    let mut sub = Raw::connect(port);
    sub.call(&["PSUBSCRIBE", "__keyevent@0__:*"]);
    let cmds: &[&[&str]] = &[
        &["RPUSH", "l", "a", "b", "c"],
        &["LPUSH", "l", "z"],
        &["LPUSHX", "nokey", "a"],
        &["LPOP", "l"],
        &["RPOP", "l", "2"],
        &["LPOP", "l", "0"],
        &["LSET", "l", "0", "q"],
        &["LINSERT", "l", "BEFORE", "q", "p"],
        &["LINSERT", "l", "BEFORE", "nothere", "p"],
        &["LREM", "l", "0", "p"],
        &["LREM", "l", "0", "nothere"],
        &["LTRIM", "l", "0", "0"],
        &["LMOVE", "l", "m", "LEFT", "RIGHT"],
        &["RPOPLPUSH", "m", "m"],
        &["LMPOP", "1", "m", "LEFT"],
        &["RPUSH", "x", "1", "2"],
        &["BLMOVE", "x", "y", "RIGHT", "LEFT", "0"],
        &["BLPOP", "x", "0"],
        &["LTRIM", "y", "5", "10"],
        &["PUBLISH", "__keyevent@0__:end", "x"],
    ];
    for c in cmds {
        admin.call(c);
    }
    let t = read_until_end_marker(&mut sub);
    admin.call(&["CONFIG", "SET", "notify-keyspace-events", ""]);
    t
}

#[test]
fn keyspace_events_match_redis() {
    let p = pair!();
    let t = both(&p, events);
    assert!(t.iter().any(|l| l.contains("lpop") && l.contains("\"l\"")));
}
