//! String commands, differentially against a real Redis 7.0: every reply must match value for
//! value, in RESP2 and RESP3.

#[macro_use]
mod common;
use common::*;

#[test]
fn get_set_options_and_errors() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[
        &[
            &["GET", "k"],
            &["SET", "k", "v"],
            &["GET", "k"],
            &["SET", "k", "v2", "NX"],
            &["SET", "k", "v3", "XX"],
            &["GET", "k"],
            &["SET", "nx", "1", "XX"],
            &["GET", "nx"],
            &["SET", "nx", "1", "NX"],
            &["SET", "k", "v", "NX", "XX"],
            &["SET", "k", "v", "XX", "NX"],
            &["SET", "k", "v", "NX", "NX"],
            &["SET", "k", "v", "xx", "xx"],
            &["SET", "k", "v", "EX", "0"],
            &["SET", "k", "v", "EX", "-1"],
            &["SET", "k", "v", "EX", "abc"],
            &["SET", "k", "v", "PX", "0"],
            &["SET", "k", "v", "EXAT", "0"],
            &["SET", "k", "v", "PXAT", "-5"],
            &["SET", "k", "v", "EX"],
            &["SET", "k", "v", "PX"],
            &["SET", "k", "v", "EX", "10", "PX", "100"],
            &["SET", "k", "v", "EX", "10", "EX", "10"],
            &["SET", "k", "v", "KEEPTTL", "EX", "10"],
            &["SET", "k", "v", "EX", "10", "KEEPTTL"],
            &["SET", "k", "v", "KEEPTTL", "KEEPTTL"],
            &["SET", "k", "v", "PXAT", "100", "EXAT", "100"],
            &["SET", "k", "v", "EX", "9223372036854775807"],
            &["SET", "k", "v", "PX", "9223372036854775807"],
            &["SET", "k", "v", "EXAT", "9223372036854775807"],
            &["SET", "k", "v", "EX", "1.5"],
            &["SET", "k", "v", "FOO"],
            &["SET", "k", "v", "EX", "abc", "FOO"],
            &["SET", "k", "v", "EX", "0", "NX", "XX"],
            &["SET", "k", "v", "EX", "abc", "EX"],
            &["SET", "k", "v", "KEEPTTL", "PERSIST"],
            &["SET", "k", "v", "EX", "1", "EX", "100"],
            &["TTL", "k"],
            &["SET", "k", "v", "NX", "GET", "GET", "NX"],
            &["SET", "k", "v", "GET", "GET"],
            &["SET", "k"],
            &["SET"],
            &["GET"],
            &["GET", "a", "b"],
            &["GET", "k"],
        ],
        &[
            &["SET", "k", "v", "EX", "100"],
            &["TTL", "k"],
            &["SET", "k", "v2", "KEEPTTL"],
            &["TTL", "k"],
            &["SET", "k", "v3"],
            &["TTL", "k"],
            &["SET", "k", "v", "PX", "100000"],
            &["~approx", "PTTL", "k"],
            &["SET", "k", "v", "EXAT", "4000000000"],
            &["TTL", "k"] as &[&str],
            &["EXPIRETIME", "k"],
            &["SET", "k", "v", "PXAT", "4000000000123"],
            &["PEXPIRETIME", "k"],
            &["SET", "k", "v", "XX", "KEEPTTL", "GET"],
            &["PEXPIRETIME", "k"],
            &["SET", "k", "v", "EXAT", "1"],
            &["EXISTS", "k"],
            &["SET", "k", "v", "PXAT", "1", "GET"],
            &["EXISTS", "k"],
        ],
        &[
            &["SET", "k", "old", "GET"],
            &["SET", "k", "new", "GET"],
            &["SET", "k", "newer", "GET", "NX"],
            &["GET", "k"],
            &["SET", "k2", "x", "GET", "XX"],
            &["EXISTS", "k2"],
            &["SET", "k", "y", "GET", "XX", "EX", "100"],
            &["TTL", "k"],
            &["SET", "k", "z", "NX", "GET"],
            &["SET", "missing", "z", "NX", "GET"],
            &["GET", "missing"],
            &["SET", "int", "123", "GET"],
            &["SET", "int", "456", "GET"],
            &["SET", "", ""],
            &["GET", ""],
            &["set", "MiXeD", "1", "ex", "10", "nx"],
            &["ttl", "MiXeD"],
        ],
    ];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn set_variants() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[
        &[
            &["SETNX", "k", "a"],
            &["SETNX", "k", "b"],
            &["GET", "k"],
            &["SETNX", "k"],
            &["SETEX", "k", "100", "v"],
            &["TTL", "k"],
            &["GET", "k"],
            &["SETEX", "k", "0", "v"],
            &["SETEX", "k", "-1", "v"],
            &["SETEX", "k", "abc", "v"],
            &["SETEX", "k", "9223372036854775807", "v"],
            &["SETEX", "k", "1.5", "v"],
            &["SETEX", "k", "10"],
            &["PSETEX", "k", "100000", "v"],
            &["~approx", "PTTL", "k"],
            &["PSETEX", "k", "0", "v"],
            &["PSETEX", "k", "-10", "v"],
            &["PSETEX", "k", "x", "v"],
            &["PSETEX", "k", "9223372036854775807", "v"],
            &["GET", "k"],
        ],
        &[
            &["GETSET", "k", "a"],
            &["GETSET", "k", "b"],
            &["SETEX", "t", "100", "v"],
            &["GETSET", "t", "w"],
            &["TTL", "t"],
            &["GETDEL", "k"],
            &["GETDEL", "k"],
            &["EXISTS", "k"],
            &["GETDEL"],
            &["GETDEL", "a", "b"],
        ],
        &[
            &["SET", "k", "v"],
            &["GETEX", "k"],
            &["GETEX", "missing"],
            &["GETEX", "missing", "EX", "10"],
            &["GETEX", "k", "EX", "100"],
            &["TTL", "k"],
            &["GETEX", "k", "PX", "200000"],
            &["TTL", "k"],
            &["GETEX", "k", "EXAT", "4000000000"],
            &["EXPIRETIME", "k"],
            &["GETEX", "k", "PXAT", "4000000001000"],
            &["EXPIRETIME", "k"],
            &["GETEX", "k", "PERSIST"],
            &["TTL", "k"],
            &["GETEX", "k", "PERSIST"],
            &["GETEX", "k", "EX", "0"],
            &["GETEX", "k", "EX", "-1"],
            &["GETEX", "k", "EX", "abc"],
            &["GETEX", "k", "EX"],
            &["GETEX", "k", "EX", "10", "PX", "10"],
            &["GETEX", "k", "PERSIST", "EX", "10"],
            &["GETEX", "k", "EX", "10", "PERSIST"],
            &["GETEX", "k", "PERSIST", "PERSIST"],
            &["GETEX", "k", "KEEPTTL"],
            &["GETEX", "k", "FOO"],
            &["GETEX", "k", "NX"],
            &["GETEX", "k", "EX", "9223372036854775807"],
            &["GETEX", "missing", "FOO"],
            &["GETEX", "missing", "EX", "abc"],
            &["GETEX", "missing", "EX", "0"],
            &["GETEX", "k", "EX", "abc", "FOO"],
            &["GETEX", "k", "EX", "1", "EX", "100"],
            &["TTL", "k"],
            &["GETEX", "k", "PERSIST"],
            &["GETEX", "k", "EX", "1", "PX", "100"],
            &["GETEX", "k", "EXAT", "1"],
            &["EXISTS", "k"],
        ],
    ];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn multi_key() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[&[
        &["MSET", "a", "1", "b", "2"],
        &["MGET", "a", "b", "c"],
        &["MSET", "a"],
        &["MSET", "a", "1", "b"],
        &["MSET"],
        &["MSETNX", "a", "9", "z", "9"],
        &["MGET", "a", "z"],
        &["MSETNX", "x", "1", "y", "2"],
        &["MGET", "x", "y"],
        &["MSETNX", "x"],
        &["MSETNX", "p", "1", "q"],
        &["MSETNX", "dup", "1", "dup", "2"],
        &["GET", "dup"],
        &["MSET", "dup", "3", "dup", "4"],
        &["GET", "dup"],
        &["MGET", "a", "l", "nope"],
        &["MGET"],
    ]];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn append_strlen_counters() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[
        &[
            &["APPEND", "k", "hello"],
            &["APPEND", "k", " world"],
            &["GET", "k"],
            &["STRLEN", "k"],
            &["STRLEN", "missing"],
            &["APPEND", "k", ""],
            &["APPEND", "e", ""],
            &["EXISTS", "e"],
            &["SET", "n", "12"],
            &["APPEND", "n", "34"],
            &["INCR", "n"],
            &["STRLEN", "n"],
            &["SET", "neg", "-5"],
            &["STRLEN", "neg"],
        ],
        &[
            &["INCR", "c"],
            &["INCR", "c"],
            &["DECR", "c"],
            &["DECR", "d"],
            &["INCRBY", "c", "10"],
            &["INCRBY", "c", "-20"],
            &["DECRBY", "c", "5"],
            &["DECRBY", "c", "-5"],
            &["INCRBY", "c", "abc"],
            &["INCRBY", "c", "1.5"],
            &["INCRBY", "c", ""],
            &["INCRBY", "c", " 1"],
            &["INCRBY", "c", "+1"],
            &["INCRBY", "c", "01"],
            &["INCRBY", "c", "9223372036854775808"],
            &["DECRBY", "c", "-9223372036854775808"],
            &["DECRBY", "c", "9223372036854775807"],
            &["SET", "max", "9223372036854775807"],
            &["INCR", "max"],
            &["INCRBY", "max", "0"],
            &["SET", "min", "-9223372036854775808"],
            &["DECR", "min"],
            &["DECRBY", "min", "1"],
            &["INCRBY", "min", "-1"],
            &["SET", "s", "abc"],
            &["INCR", "s"],
            &["SET", "s", " 1"],
            &["INCR", "s"],
            &["SET", "s", "1 "],
            &["INCR", "s"],
            &["SET", "s", "01"],
            &["INCR", "s"],
            &["SET", "s", "1.0"],
            &["INCR", "s"],
            &["SET", "s", "99999999999999999999"],
            &["INCR", "s"],
            &["SET", "s", ""],
            &["INCR", "s"],
            &["SETEX", "t", "100", "5"],
            &["INCR", "t"],
            &["TTL", "t"],
            &["INCR"],
            &["INCRBY", "c"],
        ],
        &[
            &["INCRBYFLOAT", "f", "10.5"],
            &["INCRBYFLOAT", "f", "0.1"],
            &["SET", "f", "5.0e3"],
            &["INCRBYFLOAT", "f", "2.0e2"],
            &["INCRBYFLOAT", "f", "-5200"],
            &["INCRBYFLOAT", "f", "1e-5"],
            &["INCRBYFLOAT", "f", "3"],
            &["INCRBYFLOAT", "f", "1.23456789012345678"],
            &["SET", "f", "1"],
            &["INCRBYFLOAT", "f", "1e20"],
            &["INCRBYFLOAT", "f", "-1e20"],
            &["INCRBYFLOAT", "f", "inf"],
            &["INCRBYFLOAT", "f", "-inf"],
            &["INCRBYFLOAT", "f", "nan"],
            &["INCRBYFLOAT", "f", "abc"],
            &["INCRBYFLOAT", "f", ""],
            &["INCRBYFLOAT", "f", " 1"],
            &["INCRBYFLOAT", "f", "1 "],
            &["INCRBYFLOAT", "f", "0x10"],
            &["INCRBYFLOAT", "f", "1e400"],
            &["GET", "f"],
            &["SET", "f", "abc"],
            &["INCRBYFLOAT", "f", "1"],
            &["SET", "f", "1e400"],
            &["INCRBYFLOAT", "f", "1"],
            &["SET", "f", " 1"],
            &["INCRBYFLOAT", "f", "1"],
            &["SET", "f", "1.5"],
            &["INCRBYFLOAT", "f", "-1.5"],
            &["GET", "f"],
            &["OBJECT", "ENCODING", "f"],
            &["INCRBYFLOAT", "g", "3.0"],
            &["OBJECT", "ENCODING", "g"],
            &["INCRBYFLOAT", "g", "0.0000001"],
            &["INCRBYFLOAT", "h", "1.7976931348623157e308"],
            &["INCRBYFLOAT", "h", "1.7976931348623157e308"],
            &["INCRBYFLOAT", "i", "-0.5"],
            &["INCRBYFLOAT", "i", "0.25"],
            &["INCRBYFLOAT", "j", "0.1"],
            &["INCRBYFLOAT", "j", "0.2"],
            &["INCRBYFLOAT", "k", "1e-20"],
            &["INCRBYFLOAT", "m", "123456789012345678"],
            &["SETEX", "t", "100", "1.5"],
            &["INCRBYFLOAT", "t", "1"],
            &["TTL", "t"],
        ],
    ];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn ranges() {
    let p = pair!();
    let mut seqs: Vec<Vec<Vec<String>>> = Vec::new();
    let idx = [
        "0", "1", "3", "4", "5", "100", "-1", "-2", "-5", "-6", "-100",
    ];
    let mut seq = vec![vec!["SET".to_string(), "k".into(), "Hello".into()]];
    for a in idx {
        for b in idx {
            seq.push(vec!["GETRANGE".into(), "k".into(), a.into(), b.into()]);
        }
    }
    for (a, b) in [("0", "-1"), ("-1", "0"), ("2", "1"), ("0", "0")] {
        seq.push(vec!["SUBSTR".into(), "k".into(), a.into(), b.into()]);
        seq.push(vec![
            "GETRANGE".into(),
            "missing".into(),
            a.into(),
            b.into(),
        ]);
    }
    seqs.push(seq);
    let owned: Vec<Vec<Vec<&str>>> = seqs
        .iter()
        .map(|s| {
            s.iter()
                .map(|c| c.iter().map(|x| x.as_str()).collect())
                .collect()
        })
        .collect();
    let mut refs: Vec<Vec<&[&str]>> = owned
        .iter()
        .map(|s| s.iter().map(|c| c.as_slice()).collect())
        .collect();
    let extra: &[&[&str]] = &[
        &["SET", "e", ""],
        &["GETRANGE", "e", "0", "-1"],
        &["GETRANGE", "e", "0", "0"],
        &["SET", "n", "12345"],
        &["GETRANGE", "n", "1", "2"],
        &["GETRANGE", "n", "-2", "-1"],
        &["GETRANGE", "n", "a", "1"],
        &["GETRANGE", "n", "1", "b"],
        &["GETRANGE", "n", "0", "9223372036854775807"],
        &["GETRANGE", "n", "-9223372036854775808", "-1"],
        &["GETRANGE", "n", "0"],
        &["SETRANGE", "s", "0", "abc"],
        &["SETRANGE", "s", "5", "xy"],
        &["GET", "s"],
        &["SETRANGE", "s", "1", "ZZ"],
        &["GET", "s"],
        &["SETRANGE", "s", "100", ""],
        &["GET", "s"],
        &["SETRANGE", "missing", "5", ""],
        &["EXISTS", "missing"],
        &["SETRANGE", "missing", "0", ""],
        &["SETRANGE", "s", "-1", "x"],
        &["SETRANGE", "s", "-1", ""],
        &["SETRANGE", "s", "x", "x"],
        &["CONFIG", "SET", "proto-max-bulk-len", "1048576"],
        &["SETRANGE", "s", "1048575", "x"],
        &["STRLEN", "s"],
        &["SETRANGE", "s", "1048576", "x"],
        &["SETRANGE", "s2", "1048576", ""],
        &["SETRANGE", "s2", "1048576", "x"],
        &["APPEND", "s", "y"],
        &["STRLEN", "s"],
        &["DEL", "s"],
        &["CONFIG", "SET", "proto-max-bulk-len", "536870912"],
        &["SETRANGE", "s", "1", "abc"],
        &["GET", "s"],
        &["SETRANGE", "n", "0", "9"],
        &["GET", "n"],
        &["INCR", "n"],
        &["SETEX", "t", "100", "abc"],
        &["SETRANGE", "t", "1", "X"],
        &["TTL", "t"],
    ];
    refs.push(extra.to_vec());
    let seq_refs: Vec<&[&[&str]]> = refs.iter().map(|s| s.as_slice()).collect();
    assert_no_diffs(p.diff(&seq_refs));
}

#[test]
fn object_encoding_boundaries() {
    let p = pair!();
    let s44 = "a".repeat(44);
    let s45 = "a".repeat(45);
    let s20 = "1".repeat(19);
    let seq: Vec<Vec<&str>> = vec![
        vec!["SET", "k", &s44],
        vec!["OBJECT", "ENCODING", "k"],
        vec!["SET", "k", &s45],
        vec!["OBJECT", "ENCODING", "k"],
        vec!["APPEND", "k", "d"],
        vec!["OBJECT", "ENCODING", "k"],
        vec!["SET", "k", "abc"],
        vec!["OBJECT", "ENCODING", "k"],
        vec!["SET", "k", "123"],
        vec!["OBJECT", "ENCODING", "k"],
        vec!["INCR", "k"],
        vec!["OBJECT", "ENCODING", "k"],
        vec!["SET", "k", &s20],
        vec!["OBJECT", "ENCODING", "k"],
        vec!["SET", "k", "9223372036854775807"],
        vec!["OBJECT", "ENCODING", "k"],
        vec!["SET", "k", "9223372036854775808"],
        vec!["OBJECT", "ENCODING", "k"],
        vec!["SET", "k", "-1"],
        vec!["OBJECT", "ENCODING", "k"],
        vec!["SET", "k", "01"],
        vec!["OBJECT", "ENCODING", "k"],
        vec!["SET", "k", "1.5"],
        vec!["OBJECT", "ENCODING", "k"],
        vec!["INCRBYFLOAT", "k", "1.5"],
        vec!["OBJECT", "ENCODING", "k"],
        vec!["INCRBYFLOAT", "k", "0.5"],
        vec!["OBJECT", "ENCODING", "k"],
        vec!["INCR", "k"],
        vec!["OBJECT", "ENCODING", "k"],
        vec!["APPEND", "new2", "abc"],
        vec!["OBJECT", "ENCODING", "new2"],
        vec!["APPEND", "new3", "123"],
        vec!["OBJECT", "ENCODING", "new3"],
        vec!["SETRANGE", "big", "0", &s45],
        vec!["OBJECT", "ENCODING", "big"],
        vec!["MSET", "m1", "1", "m2", "abc"],
        vec!["OBJECT", "ENCODING", "m1"],
        vec!["OBJECT", "ENCODING", "m2"],
        vec!["SETEX", "e", "100", "12"],
        vec!["OBJECT", "ENCODING", "e"],
        vec!["GETSET", "e", "13"],
        vec!["OBJECT", "ENCODING", "e"],
        vec!["SET", "k", "10", "EX", "100"],
        vec!["OBJECT", "REFCOUNT", "k"],
        vec!["SET", "k", "10"],
        vec!["OBJECT", "REFCOUNT", "k"],
        vec!["SET", "k", "abc"],
        vec!["OBJECT", "REFCOUNT", "k"],
    ];
    let seq: Vec<&[&str]> = seq.iter().map(|c| c.as_slice()).collect();
    assert_no_diffs(p.diff(&[&seq]));
}

/// APPEND and SETRANGE leave a `raw` string in Redis whatever its length or content.
#[test]
fn object_encoding_raw_after_in_place_edits() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[&[
        &["SET", "k", "abc"],
        &["APPEND", "k", "d"],
        &["OBJECT", "ENCODING", "k"],
        &["SET", "k", "abc"],
        &["SETRANGE", "k", "0", "x"],
        &["OBJECT", "ENCODING", "k"],
        &["SET", "k", "123"],
        &["APPEND", "k", "4"],
        &["OBJECT", "ENCODING", "k"],
        &["SETRANGE", "new", "0", "abc"],
        &["OBJECT", "ENCODING", "new"],
        &["SETRANGE", "new4", "0", "123"],
        &["OBJECT", "ENCODING", "new4"],
    ]];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn lcs() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[
        &[
            &["MSET", "key1", "ohmytext", "key2", "mynewtext"],
            &["LCS", "key1", "key2"],
            &["LCS", "key1", "key2", "LEN"],
            &["LCS", "key1", "key2", "IDX"],
            &["LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4"],
            &[
                "LCS",
                "key1",
                "key2",
                "IDX",
                "MINMATCHLEN",
                "4",
                "WITHMATCHLEN",
            ],
            &["LCS", "key1", "key2", "IDX", "WITHMATCHLEN"],
            &["LCS", "key1", "key2", "IDX", "LEN"],
            &["LCS", "key1", "key2", "LEN", "IDX"],
            &["LCS", "key1", "key2", "WITHMATCHLEN"],
            &["LCS", "key1", "key2", "MINMATCHLEN", "2"],
            &["LCS", "key1", "key2", "LEN", "MINMATCHLEN", "2"],
            &["LCS", "key1", "key2", "MINMATCHLEN"],
            &["LCS", "key1", "key2", "MINMATCHLEN", "x"],
            &["LCS", "key1", "key2", "IDX", "MINMATCHLEN", "-1"],
            &["LCS", "key1", "key2", "IDX", "MINMATCHLEN", "0"],
            &["LCS", "key1", "key2", "FOO"],
            &["LCS", "key1", "missing"],
            &["LCS", "missing", "missing2", "IDX"],
            &["LCS", "missing", "missing2", "LEN"],
            &["LCS", "key1", "missing", "IDX", "WITHMATCHLEN"],
            &["LCS", "key1", "key1"],
            &["LCS", "key1", "key1", "IDX", "WITHMATCHLEN"],
            &["LCS", "key1"],
            &["LCS", "key1", "l"],
            &["SET", "n1", "12345"],
            &["SET", "n2", "2x4y5"],
            &["LCS", "n1", "n2", "IDX", "WITHMATCHLEN"],
            &["LCS", "n1", "n2"],
            &["SET", "e", ""],
            &["LCS", "e", "key1", "IDX"],
            &[
                "lcs",
                "key1",
                "key2",
                "idx",
                "minmatchlen",
                "1",
                "withmatchlen",
            ],
        ],
        &[
            &[
                "MSET",
                "a",
                "ACCGGTCGAGTGCGCGGAAGCCGGCCGAA",
                "b",
                "GTCGTTCGGAATGCCGTTGCTCTGTAAA",
            ],
            &["LCS", "a", "b"],
            &["LCS", "a", "b", "LEN"],
            &["LCS", "a", "b", "IDX", "WITHMATCHLEN"],
            &["LCS", "a", "b", "IDX", "MINMATCHLEN", "3", "WITHMATCHLEN"],
            &["LCS", "b", "a", "IDX"],
        ],
    ];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn arity_and_unknown_texts() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[&[
        &["SETNX", "a"],
        &["SETEX", "a", "1"],
        &["PSETEX", "a"],
        &["GETSET", "a"],
        &["GETEX"],
        &["MGET"],
        &["APPEND", "a"],
        &["STRLEN"],
        &["INCR", "a", "b"],
        &["DECR"],
        &["INCRBY", "a"],
        &["DECRBY", "a", "1", "2"],
        &["INCRBYFLOAT", "a"],
        &["GETRANGE", "a", "1"],
        &["SUBSTR", "a"],
        &["SETRANGE", "a", "1"],
        &["LCS", "a"],
    ]];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn wrong_type_replies() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[&[
        &["RPUSH", "l", "a"],
        &["SET", "l", "v", "GET"],
        &["SET", "l", "v", "GET", "NX"],
        &["SET", "l", "v", "GET", "XX"],
        &["TYPE", "l"],
        &["GET", "l"],
        &["GETSET", "l", "y"],
        &["GETDEL", "l"],
        &["GETEX", "l"],
        &["GETEX", "l", "EX", "10"],
        &["GETEX", "l", "FOO"],
        &["MGET", "a", "l"],
        &["APPEND", "l", "x"],
        &["STRLEN", "l"],
        &["INCR", "l"],
        &["DECRBY", "l", "x"],
        &["INCRBY", "l", "1"],
        &["INCRBYFLOAT", "l", "1"],
        &["INCRBYFLOAT", "l", "x"],
        &["GETRANGE", "l", "0", "1"],
        &["SETRANGE", "l", "0", "x"],
        &["SETRANGE", "l", "0", ""],
        &["SET", "s", "x"],
        &["LCS", "s", "l"],
        &["LCS", "l", "s", "LEN"],
        &["SET", "l", "v"],
        &["GET", "l"],
        &["RPUSH", "l2", "a"],
        &["MSET", "l2", "v"],
        &["GET", "l2"],
    ]];
    assert_no_diffs(p.diff(seqs));
}
