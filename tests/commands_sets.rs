//! Set commands, differentially against a real Redis 7.0 (RESP2 and RESP3): deterministic replies
//! must match value for value, unordered ones as sorted lists, random ones by shape and
//! membership. A seeded random sequence over a few keys compares every reply and the final
//! contents.

#[macro_use]
mod common;
use common::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use redis::Value as V;
use std::collections::BTreeSet;

#[test]
fn basic_membership_and_errors() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[
        &[
            &["SADD", "s", "a", "b", "c", "a"],
            &["SADD", "s", "a"],
            &["SCARD", "s"],
            &["SCARD", "nokey"],
            &["SISMEMBER", "s", "a"],
            &["SISMEMBER", "s", "z"],
            &["SISMEMBER", "nokey", "a"],
            &["SMISMEMBER", "s", "a", "z", "b"],
            &["SMISMEMBER", "nokey", "a", "b"],
            &["~sorted", "SMEMBERS", "s"],
            &["SMEMBERS", "nokey"],
            &["SREM", "s", "a", "z"],
            &["SREM", "s", "z"],
            &["SREM", "nokey", "a"],
            &["SREM", "s", "b", "c", "d"],
            &["EXISTS", "s"],
            &["TYPE", "s"],
            &["SET", "str", "x"],
            &["SADD", "str", "a"],
            &["SREM", "str", "a"],
            &["SISMEMBER", "str", "a"],
            &["SMISMEMBER", "str", "a"],
            &["SMEMBERS", "str"],
            &["SCARD", "str"],
            &["SPOP", "str"],
            &["SPOP", "str", "1"],
            &["SPOP", "str", "0"],
            &["SRANDMEMBER", "str"],
            &["SRANDMEMBER", "str", "2"],
            &["SRANDMEMBER", "str", "0"],
            &["SSCAN", "str", "0"],
            &["SADD", "s"],
            &["SREM", "s"],
            &["SISMEMBER", "s"],
            &["SISMEMBER", "s", "a", "b"],
            &["SMISMEMBER", "s"],
            &["SMEMBERS"],
            &["SMEMBERS", "a", "b"],
            &["SCARD"],
            &["SPOP"],
            &["SRANDMEMBER"],
            &["SMOVE", "a", "b"],
            &["SINTER"],
            &["SINTERSTORE", "d"],
            &["SUNIONSTORE", "d"],
            &["SDIFFSTORE", "d"],
            &["SINTERCARD", "1"],
            &["SSCAN", "s"],
            &["sadd", "MiXeD", "1"],
            &["SmEmBeRs", "MiXeD"],
        ],
        &[
            &["SADD", "i", "1", "2", "3", "-5", "9223372036854775807"],
            &["OBJECT", "ENCODING", "i"],
            &["SMEMBERS", "i"],
            &["SADD", "i", "-9223372036854775808"],
            &["SMEMBERS", "i"],
            &["OBJECT", "ENCODING", "i"],
            &["SISMEMBER", "i", "01"],
            &["SISMEMBER", "i", "+1"],
            &["SISMEMBER", "i", "1"],
            &["SISMEMBER", "i", "9223372036854775808"],
            &["SADD", "i", "01"],
            &["OBJECT", "ENCODING", "i"],
            &["SREM", "i", "01"],
            &["OBJECT", "ENCODING", "i"],
            &["~sorted", "SMEMBERS", "i"],
            &["SADD", "j", "-0"],
            &["OBJECT", "ENCODING", "j"],
            &["SADD", "k", " 1"],
            &["OBJECT", "ENCODING", "k"],
            &["SADD", "l", "12345678901234567890"],
            &["OBJECT", "ENCODING", "l"],
            &["SADD", "m", ""],
            &["OBJECT", "ENCODING", "m"],
            &["SISMEMBER", "m", ""],
            &["SADD", "n", "a"],
            &["SADD", "n", "1"],
            &["SREM", "n", "a"],
            &["OBJECT", "ENCODING", "n"],
            &["SADD", "bin", "a\u{0}b", "\u{ff}"],
            &["SISMEMBER", "bin", "a\u{0}b"],
            &["~sorted", "SMEMBERS", "bin"],
        ],
    ];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn intset_limit_and_conversion() {
    let p = pair!();
    let many: Vec<String> = (0..520).map(|i| (i * 3 - 700).to_string()).collect();
    let mut sadd: Vec<&str> = vec!["SADD", "big"];
    sadd.extend(many[..512].iter().map(|s| s.as_str()));
    let mut sadd_more: Vec<&str> = vec!["SADD", "big"];
    sadd_more.extend(many[511..].iter().map(|s| s.as_str()));
    let seqs: &[&[&[&str]]] = &[
        &[
            &sadd,
            &["OBJECT", "ENCODING", "big"],
            &["SCARD", "big"],
            &["SMEMBERS", "big"],
            &["SADD", "big", "0"],
            &["OBJECT", "ENCODING", "big"],
            &sadd_more,
            &["OBJECT", "ENCODING", "big"],
            &["SCARD", "big"],
            &[
                "SREM", "big", "-700", "-697", "-694", "-691", "-688", "-685", "-682",
            ],
            &[
                "SREM", "big", "-679", "-676", "-673", "-670", "-667", "-664", "-661",
            ],
            &["OBJECT", "ENCODING", "big"],
            &["~sorted", "SMEMBERS", "big"],
        ],
        &[
            &["CONFIG", "SET", "set-max-intset-entries", "3"],
            &["SADD", "a", "1", "2", "3"],
            &["OBJECT", "ENCODING", "a"],
            &["SADD", "a", "4"],
            &["OBJECT", "ENCODING", "a"],
            &["SREM", "a", "4", "3"],
            &["OBJECT", "ENCODING", "a"],
            &["SADD", "b", "1", "2", "3", "4"],
            &["OBJECT", "ENCODING", "b"],
            &["SADD", "c", "1", "2"],
            &["CONFIG", "SET", "set-max-intset-entries", "1"],
            &["OBJECT", "ENCODING", "c"],
            &["SADD", "c", "2"],
            &["OBJECT", "ENCODING", "c"],
            &["SADD", "c", "3"],
            &["OBJECT", "ENCODING", "c"],
            &["CONFIG", "SET", "set-max-intset-entries", "0"],
            &["SADD", "z", "1"],
            &["OBJECT", "ENCODING", "z"],
            &["SINTERSTORE", "zz", "z"],
            &["OBJECT", "ENCODING", "zz"],
            &["CONFIG", "SET", "set-max-intset-entries", "512"],
        ],
    ];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn smove_cases() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[&[
        &["SADD", "src", "a", "b", "1"],
        &["SADD", "dst", "x"],
        &["SMOVE", "src", "dst", "a"],
        &["SMOVE", "src", "dst", "a"],
        &["SMOVE", "src", "dst", "zz"],
        &["~sorted", "SMEMBERS", "src"],
        &["~sorted", "SMEMBERS", "dst"],
        &["SMOVE", "src", "src", "b"],
        &["SMOVE", "src", "src", "zz"],
        &["SMOVE", "nokey", "dst", "a"],
        &["SMOVE", "src", "new", "1"],
        &["OBJECT", "ENCODING", "new"],
        &["SMOVE", "src", "new", "b"],
        &["EXISTS", "src"],
        &["OBJECT", "ENCODING", "new"],
        &["~sorted", "SMEMBERS", "new"],
        &["SADD", "ints", "1", "2"],
        &["SADD", "ints2", "3"],
        &["SMOVE", "new", "ints2", "b"],
        &["OBJECT", "ENCODING", "ints2"],
        &["SMOVE", "ints", "ints2", "1"],
        &["SMOVE", "ints", "ints2", "1"],
        &["SADD", "dup", "2"],
        &["SMOVE", "ints", "dup", "2"],
        &["EXISTS", "ints"],
        &["SMEMBERS", "dup"],
        &["SET", "str", "v"],
        &["SMOVE", "str", "dst", "a"],
        &["SMOVE", "dst", "str", "a"],
        &["SMOVE", "dst", "str", "nomember"],
        &["SMOVE", "nokey", "str", "a"],
        &["SMOVE", "str", "str", "a"],
        &["SMOVE", "str", "nokey", "a"],
        &["~sorted", "SMEMBERS", "dst"],
        &["SMOVE", "a", "b", "c", "d"],
    ]];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn algebra_and_store() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[
        &[
            &["SADD", "a", "1", "2", "3", "4", "x"],
            &["SADD", "b", "2", "3", "y"],
            &["SADD", "c", "3", "4", "5"],
            &["SADD", "i1", "1", "2", "3"],
            &["SADD", "i2", "2", "3", "4"],
            &["~sorted", "SINTER", "a", "b"],
            &["~sorted", "SINTER", "a", "b", "c"],
            &["SINTER", "a", "nokey"],
            &["SINTER", "nokey", "a"],
            &["~sorted", "SINTER", "a"],
            &["~sorted", "SINTER", "a", "a"],
            &["SINTER", "i1", "i2"],
            &["~sorted", "SUNION", "a", "b", "c"],
            &["~sorted", "SUNION", "nokey", "b"],
            &["SUNION", "nokey"],
            &["SUNION", "i1", "i2"],
            &["~sorted", "SDIFF", "a", "b"],
            &["~sorted", "SDIFF", "a", "b", "c"],
            &["SDIFF", "a", "a"],
            &["SDIFF", "a", "b", "a"],
            &["~sorted", "SDIFF", "a", "nokey"],
            &["SDIFF", "nokey", "a"],
            &["SDIFF", "i1", "i2"],
            &["SINTERSTORE", "d", "a", "b"],
            &["~sorted", "SMEMBERS", "d"],
            &["OBJECT", "ENCODING", "d"],
            &["SINTERSTORE", "d", "i1", "i2"],
            &["OBJECT", "ENCODING", "d"],
            &["SMEMBERS", "d"],
            &["SINTERSTORE", "d", "a", "nokey"],
            &["EXISTS", "d"],
            &["SINTERSTORE", "d", "a", "nokey"],
            &["SUNIONSTORE", "d", "a", "b"],
            &["OBJECT", "ENCODING", "d"],
            &["SCARD", "d"],
            &["SUNIONSTORE", "d", "i1", "i2"],
            &["OBJECT", "ENCODING", "d"],
            &["SUNIONSTORE", "d", "nokey"],
            &["EXISTS", "d"],
            &["SDIFFSTORE", "d", "a", "b"],
            &["~sorted", "SMEMBERS", "d"],
            &["OBJECT", "ENCODING", "d"],
            &["SDIFFSTORE", "d", "a", "x", "y", "z"],
            &["OBJECT", "ENCODING", "d"],
            &["SDIFFSTORE", "d", "a", "a"],
            &["EXISTS", "d"],
            &["SUNIONSTORE", "a", "a", "c"],
            &["~sorted", "SMEMBERS", "a"],
            &["SINTERSTORE", "a", "a", "c"],
            &["~sorted", "SMEMBERS", "a"],
            &["SET", "str", "v"],
            &["SINTER", "a", "str"],
            &["SINTER", "nokey", "str"],
            &["SINTER", "str", "nokey"],
            &["SUNION", "a", "str"],
            &["SDIFF", "nokey", "str"],
            &["SDIFF", "a", "str"],
            &["SINTERSTORE", "d", "a", "str"],
            &["SUNIONSTORE", "d", "str"],
            &["SDIFFSTORE", "d", "nokey", "str"],
            &["SINTERSTORE", "str", "a", "c"],
            &["TYPE", "str"],
            &["SET", "str", "v"],
            &["SUNIONSTORE", "str", "nokey"],
            &["EXISTS", "str"],
            &["SET", "str", "v", "EX", "100"],
            &["SADD", "tt", "1"],
            &["EXPIRE", "tt", "100"],
            &["SUNIONSTORE", "tt", "a"],
            &["TTL", "tt"],
        ],
        &[
            &["SADD", "a", "1", "2", "3", "4", "5", "6"],
            &["SADD", "b", "1", "2"],
            &["SADD", "c", "3", "x"],
            &["SINTERCARD", "2", "a", "b"],
            &["SINTERCARD", "1", "a"],
            &["SINTERCARD", "1", "a", "LIMIT", "3"],
            &["SINTERCARD", "1", "a", "limit", "0"],
            &["SINTERCARD", "1", "a", "LIMIT", "100"],
            &["SINTERCARD", "2", "a", "c", "LIMIT", "1"],
            &["SINTERCARD", "2", "a", "nokey"],
            &["SINTERCARD", "3", "a", "b", "c"],
            &["SINTERCARD", "1", "a", "LIMIT", "1", "LIMIT", "2"],
            &["SINTERCARD", "0", "a"],
            &["SINTERCARD", "-1", "a"],
            &["SINTERCARD", "x", "a"],
            &["SINTERCARD", "3", "a", "b"],
            &["SINTERCARD", "1", "a", "LIMIT"],
            &["SINTERCARD", "1", "a", "LIMIT", "-1"],
            &["SINTERCARD", "1", "a", "LIMIT", "x"],
            &["SINTERCARD", "1", "a", "FOO", "1"],
            &["SINTERCARD", "1", "a", "b"],
            &["SINTERCARD", "9223372036854775807", "a"],
            &["SINTERCARD", "99999999999999999999", "a"],
            &["SET", "str", "v"],
            &["SINTERCARD", "2", "a", "str"],
            &["SINTERCARD", "2", "nokey", "str"],
            &["SINTERCARD", "2", "str", "nokey"],
        ],
    ];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn diff_store_encoding_follows_redis_algorithm() {
    // SDIFFSTORE either filters the first set (the result is built by inserts only) or copies it
    // and removes (so a large first set leaves a hashtable behind even if the result is small).
    let p = pair!();
    let first: Vec<String> = (0..600).map(|i| i.to_string()).collect();
    let mut add_first: Vec<&str> = vec!["SADD", "a"];
    add_first.extend(first.iter().map(|s| s.as_str()));
    let mut add_b: Vec<&str> = vec!["SADD", "b"];
    add_b.extend(first[..599].iter().map(|s| s.as_str()));
    let mut add_c: Vec<&str> = vec!["SADD", "c"];
    add_c.extend(first[..550].iter().map(|s| s.as_str()));
    let seqs: &[&[&[&str]]] = &[&[
        &add_first,
        &add_b,
        &add_c,
        &["SDIFFSTORE", "d", "a", "b"],
        &["OBJECT", "ENCODING", "d"],
        &["SDIFFSTORE", "d", "a", "b", "c", "nokey"],
        &["OBJECT", "ENCODING", "d"],
        &["SDIFFSTORE", "d", "a", "c"],
        &["OBJECT", "ENCODING", "d"],
        &["SDIFFSTORE", "d", "c", "b"],
        &["EXISTS", "d"],
        &["SINTERSTORE", "d", "a", "c"],
        &["OBJECT", "ENCODING", "d"],
        &["SREM", "c", "0"],
        &["SINTERSTORE", "d", "a", "c"],
        &["OBJECT", "ENCODING", "d"],
        &["SUNIONSTORE", "d", "c"],
        &["OBJECT", "ENCODING", "d"],
        &["SCARD", "d"],
    ]];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn spop_srandmember_arguments() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[&[
        &["SADD", "s", "a", "b", "c"],
        &["SPOP", "nokey"],
        &["SPOP", "nokey", "3"],
        &["SPOP", "nokey", "0"],
        &["SPOP", "nokey", "-1"],
        &["SPOP", "s", "-1"],
        &["SPOP", "s", "x"],
        &["SPOP", "s", "1.5"],
        &["SPOP", "s", "0"],
        &["SPOP", "s", "1", "2"],
        &["SPOP", "s", "9223372036854775808"],
        &["SRANDMEMBER", "nokey"],
        &["SRANDMEMBER", "nokey", "3"],
        &["SRANDMEMBER", "nokey", "-3"],
        &["SRANDMEMBER", "nokey", "x"],
        &["SRANDMEMBER", "s", "x"],
        &["SRANDMEMBER", "s", "0"],
        &["SRANDMEMBER", "s", "-9223372036854775808"],
        &["SRANDMEMBER", "s", "1", "2"],
        &["~sorted", "SRANDMEMBER", "s", "3"],
        &["~sorted", "SRANDMEMBER", "s", "10"],
        &["~sorted", "SRANDMEMBER", "s", "9223372036854775807"],
        &["~sorted", "SPOP", "s", "3"],
        &["EXISTS", "s"],
        &["SADD", "s", "a", "b"],
        &["~sorted", "SPOP", "s", "100"],
        &["EXISTS", "s"],
        &["SADD", "one", "x"],
        &["SPOP", "one"],
        &["EXISTS", "one"],
        &["SADD", "one", "1"],
        &["SRANDMEMBER", "one"],
        &["SRANDMEMBER", "one", "1"],
        &["SRANDMEMBER", "one", "-3"],
        &["SRANDMEMBER", "one", "5"],
        &["SPOP", "one", "1"],
        &["EXISTS", "one"],
        &["SADD", "i", "1", "2", "3"],
        &["~sorted", "SPOP", "i", "3"],
        &["SADD", "i", "1", "2", "3"],
        &["~any", "SPOP", "i"],
        &["~any", "SPOP", "i", "1"],
        &["SCARD", "i"],
    ]];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn sscan_arguments_and_intset() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[&[
        &["SADD", "i", "5", "1", "3", "10", "-2"],
        &["SSCAN", "i", "0"],
        &["SSCAN", "i", "0", "COUNT", "1"],
        &["SSCAN", "i", "7", "COUNT", "1"],
        &["SSCAN", "i", "0", "MATCH", "1*"],
        &["SSCAN", "i", "0", "MATCH", "*", "COUNT", "2"],
        &["SSCAN", "i", "0", "match", "-*", "count", "100"],
        &["SSCAN", "i", "abc"],
        &["SSCAN", "i", "-1"],
        &["SSCAN", "i", "18446744073709551616"],
        &["SSCAN", "i", "0", "COUNT", "0"],
        &["SSCAN", "i", "0", "COUNT", "-1"],
        &["SSCAN", "i", "0", "COUNT", "x"],
        &["SSCAN", "i", "0", "COUNT"],
        &["SSCAN", "i", "0", "MATCH"],
        &["SSCAN", "i", "0", "TYPE", "set"],
        &["SSCAN", "i", "0", "FOO", "bar"],
        &["SSCAN", "nokey", "0"],
        &["SSCAN", "nokey", "0", "FOO"],
        &["SSCAN", "nokey", "0", "COUNT", "0"],
        &["SSCAN", "nokey", "abc"],
        &["SET", "str", "v"],
        &["SSCAN", "str", "0"],
        &["SSCAN", "str", "x"],
        &["SADD", "h", "a", "b", "c"],
        &["~sorted", "SSCAN", "h", "0"],
        &["~sorted", "SSCAN", "h", "0", "MATCH", "a"],
        &["SSCAN", "h", "0", "COUNT", "0"],
    ]];
    assert_no_diffs(p.diff(seqs));
}

/// Full SSCAN walk: every member exactly as in Redis (order and cursors differ by hash function).
fn sscan_all(raw: &mut Raw, key: &str, extra: &[&str]) -> BTreeSet<Vec<u8>> {
    let mut seen = BTreeSet::new();
    let mut cursor = "0".to_string();
    for _ in 0..100_000 {
        let mut cmd = vec!["SSCAN", key, cursor.as_str()];
        cmd.extend_from_slice(extra);
        let r = raw.call(&cmd).value;
        let V::Array(parts) = r else {
            panic!("bad SSCAN reply {}", show(&r));
        };
        let next = text_of(&parts[0]).expect("cursor");
        let V::Array(items) = &parts[1] else {
            panic!("bad SSCAN items");
        };
        for it in items {
            let V::BulkString(b) = it else {
                panic!("bad item")
            };
            seen.insert(b.clone());
        }
        if next == "0" {
            return seen;
        }
        cursor = next;
    }
    panic!("SSCAN never finished");
}

#[test]
fn sscan_hashtable_walks() {
    let p = pair!();
    let mut ours = Raw::connect(p.ours.port);
    let mut real = Raw::connect(p.real.port);
    for r in [&mut ours, &mut real] {
        for chunk in 0..10 {
            let mut cmd = vec!["SADD".to_string(), "big".to_string()];
            cmd.extend((0..300).map(|i| format!("member:{}", chunk * 300 + i)));
            r.call(&cmd);
        }
        let mut cmd = vec!["SADD".to_string(), "mixed".to_string()];
        cmd.extend((0..600).map(|i| i.to_string()));
        r.call(&cmd);
    }
    for extra in [
        &[][..],
        &["COUNT", "1"][..],
        &["COUNT", "1000"][..],
        &["MATCH", "member:1*"][..],
        &["MATCH", "*7", "COUNT", "3"][..],
        &["MATCH", "nomatch*"][..],
    ] {
        for key in ["big", "mixed"] {
            let a = sscan_all(&mut ours, key, extra);
            let b = sscan_all(&mut real, key, extra);
            assert_eq!(a, b, "SSCAN {key} {extra:?}");
        }
    }
    // Members added and removed during the walk: those present throughout are all returned.
    let mut seen = BTreeSet::new();
    let mut cursor = "0".to_string();
    let mut step = 0;
    loop {
        let r = ours
            .call(&["SSCAN", "big", cursor.as_str(), "COUNT", "5"])
            .value;
        let V::Array(parts) = r else { panic!() };
        if let V::Array(items) = &parts[1] {
            for it in items {
                if let V::BulkString(b) = it {
                    seen.insert(String::from_utf8_lossy(b).into_owned());
                }
            }
        }
        step += 1;
        if step == 10 {
            let mut cmd = vec!["SADD".to_string(), "big".to_string()];
            cmd.extend((0..5000).map(|i| format!("extra:{i}")));
            ours.call(&cmd);
        }
        if step == 200 {
            let mut cmd = vec!["SREM".to_string(), "big".to_string()];
            cmd.extend((0..5000).map(|i| format!("extra:{i}")));
            ours.call(&cmd);
        }
        cursor = text_of(&parts[0]).unwrap();
        if cursor == "0" {
            break;
        }
    }
    for i in 0..3000 {
        assert!(seen.contains(&format!("member:{i}")), "missed member:{i}");
    }
}

fn members_of(v: &V) -> Vec<Vec<u8>> {
    match v {
        V::Array(a) | V::Set(a) => a
            .iter()
            .map(|x| match x {
                V::BulkString(b) => b.clone(),
                other => panic!("not a bulk: {}", show(other)),
            })
            .collect(),
        other => panic!("not an array: {}", show(other)),
    }
}

#[test]
fn random_replies_by_shape_and_membership() {
    let p = pair!();
    for proto in [2, 3] {
        let mut ours = Raw::connect(p.ours.port);
        ours.call(&["FLUSHALL"]);
        if proto == 3 {
            ours.call(&["HELLO", "3"]);
        }
        let mut real = Raw::connect(p.real.port);
        if proto == 3 {
            real.call(&["HELLO", "3"]);
        }
        for (key, n, strings) in [
            ("small_int", 5, false),
            ("int", 200, false),
            ("small_str", 5, true),
            ("str", 2000, true),
        ] {
            let all: Vec<String> = (0..n)
                .map(|i| {
                    if strings {
                        format!("m{i}")
                    } else {
                        i.to_string()
                    }
                })
                .collect();
            let mut cmd = vec!["SADD".to_string(), key.to_string()];
            cmd.extend(all.iter().cloned());
            ours.call(&cmd);
            let all: BTreeSet<Vec<u8>> = all.into_iter().map(String::into_bytes).collect();
            // SRANDMEMBER with positive counts: distinct members, min(count, size) of them.
            for count in [
                1i64, 2, 3, 4, 5, 6, 50, 150, 199, 200, 201, 1000, 1999, 5000,
            ] {
                let c = count.to_string();
                let r = ours.call(&["SRANDMEMBER", key, &c]);
                assert!(r.sig.starts_with('*'), "SRANDMEMBER count is an array");
                let got = members_of(&r.value);
                let set: BTreeSet<Vec<u8>> = got.iter().cloned().collect();
                assert_eq!(got.len(), (count as usize).min(n), "{key} {count}");
                assert_eq!(set.len(), got.len(), "repeats in SRANDMEMBER {key} {count}");
                assert!(set.is_subset(&all));
            }
            // Negative counts: exactly |count| members, repeats allowed.
            for count in [-1i64, -3, -10, -1000] {
                let c = count.to_string();
                let got = members_of(&ours.call(&["SRANDMEMBER", key, &c]).value);
                assert_eq!(got.len(), count.unsigned_abs() as usize);
                assert!(got.iter().all(|m| all.contains(m)));
            }
            let one = ours.call(&["SRANDMEMBER", key]).value;
            let V::BulkString(m) = one else { panic!() };
            assert!(all.contains(&m));
            // Every member shows up eventually.
            if n <= 5 {
                let mut seen = BTreeSet::new();
                for _ in 0..200 {
                    if let V::BulkString(m) = ours.call(&["SRANDMEMBER", key]).value {
                        seen.insert(m);
                    }
                }
                assert_eq!(seen, all, "SRANDMEMBER never returned some members");
            }
            // SPOP with counts in all three strategies, then single pops until empty.
            let mut left = all.clone();
            for count in [1usize, n / 10, n / 2] {
                let r = ours.call(&["SPOP", key, &count.to_string()]);
                let want_sig = if proto == 3 { '~' } else { '*' };
                assert!(
                    r.sig.starts_with(want_sig),
                    "SPOP count reply type {}",
                    r.sig
                );
                let got = members_of(&r.value);
                assert_eq!(got.len(), count.min(left.len()));
                for m in got {
                    assert!(left.remove(&m), "SPOP returned a non-member or a repeat");
                }
                let card = ours.call(&["SCARD", key]).value;
                assert_eq!(card, V::Int(left.len() as i64));
            }
            let r = ours.call(&["SPOP", key, &(left.len() - 2).to_string()]);
            for m in members_of(&r.value) {
                assert!(left.remove(&m), "SPOP returned a non-member or a repeat");
            }
            assert_eq!(left.len(), 2);
            let remaining = members_of(&ours.call(&["SMEMBERS", key]).value);
            assert_eq!(remaining.into_iter().collect::<BTreeSet<_>>(), left);
            while let V::BulkString(m) = ours.call(&["SPOP", key]).value {
                assert!(left.remove(&m));
            }
            assert!(left.is_empty());
            assert_eq!(ours.call(&["EXISTS", key]).value, V::Int(0));
        }
        // SPOP that rebuilds the set re-chooses the encoding, as Redis does: a hashtable set whose
        // survivors are all integers becomes an intset.
        for r in [&mut ours, &mut real] {
            r.call(&["FLUSHALL"]);
            r.call(&[
                "SADD", "h", "x", "1", "2", "3", "4", "5", "6", "7", "8", "9",
            ]);
            r.call(&["SREM", "h", "x"]);
            r.call(&["SADD", "h", "10"]);
        }
        // 10 members; popping 9 leaves one integer.
        ours.call(&["SPOP", "h", "9"]);
        real.call(&["SPOP", "h", "9"]);
        let a = ours.call(&["OBJECT", "ENCODING", "h"]).value;
        let b = real.call(&["OBJECT", "ENCODING", "h"]).value;
        assert_eq!(a, b, "encoding after a rebuilding SPOP");
    }
}

/// A seeded random sequence of set commands over a few keys, run on both servers. SPOP and
/// SRANDMEMBER replies are checked against Redis's contents before the command, and the pops are
/// then replayed on Redis as SREM so both stay identical.
fn random_sequence(p: &Pair, proto: u8, seed: u64, steps: usize) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut ours = Raw::connect(p.ours.port);
    let mut real = Raw::connect(p.real.port);
    for r in [&mut ours, &mut real] {
        r.call(&["FLUSHALL"]);
        r.call(&["CONFIG", "SET", "set-max-intset-entries", "16"]);
        if proto == 3 {
            r.call(&["HELLO", "3"]);
        }
    }
    let keys = ["s1", "s2", "s3", "str"];
    for r in [&mut ours, &mut real] {
        r.call(&["SET", "str", "v"]);
    }
    let pool: Vec<String> = (0..24)
        .map(|i| i.to_string())
        .chain(["-7", "007", "a", "b", "c", "", "9223372036854775807", "-1"].map(String::from))
        .collect();
    // Keys whose encoding may legitimately differ (a rebuilding SPOP re-chooses it).
    let mut tainted: BTreeSet<&str> = BTreeSet::new();
    let mut log: Vec<String> = Vec::new();
    for step in 0..steps {
        let key = keys[rng.gen_range(0..keys.len())];
        let key2 = keys[rng.gen_range(0..keys.len())];
        let key3 = keys[rng.gen_range(0..3)];
        let m = |rng: &mut StdRng| pool[rng.gen_range(0..pool.len())].clone();
        let nmembers = rng.gen_range(1..6);
        let members: Vec<String> = (0..nmembers).map(|_| m(&mut rng)).collect();
        let op = rng.gen_range(0..20);
        let mut cmd: Vec<String> = Vec::new();
        let mut sorted_cmp = false;
        let push =
            |cmd: &mut Vec<String>, parts: &[&str]| cmd.extend(parts.iter().map(|s| s.to_string()));
        match op {
            0..=3 => {
                push(&mut cmd, &["SADD", key3]);
                cmd.extend(members.iter().cloned());
            }
            4 | 5 => {
                push(&mut cmd, &["SREM", key]);
                cmd.extend(members.iter().cloned());
            }
            6 => push(&mut cmd, &["SISMEMBER", key, &members[0]]),
            7 => {
                push(&mut cmd, &["SMISMEMBER", key]);
                cmd.extend(members.iter().cloned());
            }
            8 => {
                push(&mut cmd, &["SMEMBERS", key]);
                sorted_cmp = true;
            }
            9 => push(&mut cmd, &["SCARD", key]),
            10 => push(&mut cmd, &["SMOVE", key, key2, &members[0]]),
            11 => {
                let name = ["SINTER", "SUNION", "SDIFF"][rng.gen_range(0..3)];
                push(&mut cmd, &[name, key, key2, key3]);
                sorted_cmp = true;
            }
            12 => {
                let name = ["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"][rng.gen_range(0..3)];
                push(&mut cmd, &[name, key3, key, key2]);
            }
            13 => {
                let limit = rng.gen_range(0..4).to_string();
                push(&mut cmd, &["SINTERCARD", "2", key, key2, "LIMIT", &limit]);
            }
            14 | 15 => push(&mut cmd, &["OBJECT", "ENCODING", key]),
            16 => {
                // SPOP, compared by membership, replayed on Redis as SREM.
                let with_count = rng.gen_bool(0.5);
                let count = rng.gen_range(0..8);
                let before = real.call(&["SMEMBERS", key]);
                let mut c = vec!["SPOP", key];
                let cs = count.to_string();
                if with_count {
                    c.push(&cs);
                }
                let a = ours.call(&c);
                log.push(c.join(" "));
                let members_before: Option<BTreeSet<Vec<u8>>> = match &before.value {
                    V::Array(_) | V::Set(_) => {
                        Some(members_of(&before.value).into_iter().collect())
                    }
                    _ => None,
                };
                let Some(before_set) = members_before else {
                    // Wrong type: the error must be the same.
                    let b = real.call(&c);
                    assert_eq!(a.value, b.value, "seed {seed} step {step}: {log:?}");
                    continue;
                };
                let popped: Vec<Vec<u8>> = match &a.value {
                    V::Nil => Vec::new(),
                    V::BulkString(b) => vec![b.clone()],
                    other => members_of(other),
                };
                if !with_count && before_set.is_empty() {
                    assert_eq!(a.value, V::Nil);
                }
                let want = if with_count {
                    count.min(before_set.len())
                } else {
                    before_set.len().min(1)
                };
                assert_eq!(popped.len(), want, "seed {seed} step {step}: {log:?}");
                let distinct: BTreeSet<Vec<u8>> = popped.iter().cloned().collect();
                assert_eq!(distinct.len(), popped.len());
                assert!(distinct.is_subset(&before_set), "seed {seed} step {step}");
                if !popped.is_empty() {
                    let mut srem: Vec<Vec<u8>> = vec![b"SREM".to_vec(), key.as_bytes().to_vec()];
                    srem.extend(popped);
                    real.call(&srem);
                }
                if with_count {
                    tainted.insert(key);
                }
                continue;
            }
            17 => {
                let count: i64 = rng.gen_range(-6..7);
                let before = real.call(&["SMEMBERS", key]);
                let cs = count.to_string();
                let c = ["SRANDMEMBER", key, &cs];
                let a = ours.call(&c);
                let b = real.call(&c);
                log.push(c.join(" "));
                if let (V::Array(_) | V::Set(_), V::Array(_)) = (&before.value, &a.value) {
                    let before_set: BTreeSet<Vec<u8>> =
                        members_of(&before.value).into_iter().collect();
                    let got = members_of(&a.value);
                    let want = members_of(&b.value).len();
                    assert_eq!(got.len(), want, "seed {seed} step {step}: {log:?}");
                    assert!(got.iter().all(|m| before_set.contains(m)));
                    if count > 0 {
                        assert_eq!(got.iter().collect::<BTreeSet<_>>().len(), got.len());
                    }
                } else {
                    assert_eq!(a.value, b.value, "seed {seed} step {step}: {log:?}");
                }
                continue;
            }
            18 => push(&mut cmd, &["EXISTS", key]),
            _ => push(&mut cmd, &["SSCAN", key, "0", "COUNT", "1000"]),
        }
        if cmd[0] == "SSCAN" {
            sorted_cmp = true;
        }
        let is_encoding = cmd[0] == "OBJECT";
        let a = ours.call(&cmd);
        let b = real.call(&cmd);
        log.push(cmd.join(" "));
        // A store or a deletion gives the key a fresh encoding history.
        if cmd[0].ends_with("STORE") {
            tainted.remove(cmd[1].as_str());
        }
        if is_encoding && tainted.contains(key) {
            continue;
        }
        let (av, bv) = if sorted_cmp {
            (sorted(a.value.clone()), sorted(b.value.clone()))
        } else {
            (a.value.clone(), b.value.clone())
        };
        assert_eq!(
            (show(&av), &a.sig),
            (show(&bv), &b.sig),
            "seed {seed} proto {proto} step {step}: {}\nlast: {:?}",
            cmd.join(" "),
            &log[log.len().saturating_sub(8)..]
        );
        if ours.call(&["EXISTS", key]).value == V::Int(0) {
            tainted.remove(key);
        }
    }
    // Final contents identical.
    for key in keys {
        let a = ours.call(&["SMEMBERS", key]);
        let b = real.call(&["SMEMBERS", key]);
        assert_eq!(sorted(a.value), sorted(b.value), "final contents of {key}");
    }
    for r in [&mut ours, &mut real] {
        r.call(&["CONFIG", "SET", "set-max-intset-entries", "512"]);
    }
}

#[test]
fn seeded_random_sequences() {
    let p = pair!();
    for seed in 1..=6u64 {
        random_sequence(&p, if seed % 2 == 0 { 3 } else { 2 }, seed, 1500);
    }
}

#[test]
fn command_info_matches() {
    let p = pair!();
    let names = [
        "sadd",
        "srem",
        "sismember",
        "smismember",
        "smembers",
        "scard",
        "spop",
        "srandmember",
        "smove",
        "sinter",
        "sintercard",
        "sinterstore",
        "sunion",
        "sunionstore",
        "sdiff",
        "sdiffstore",
        "sscan",
    ];
    let mut ours = Raw::connect(p.ours.port);
    let mut real = Raw::connect(p.real.port);
    for name in names {
        let a = ours.call(&["COMMAND", "INFO", name]).value;
        let b = real.call(&["COMMAND", "INFO", name]).value;
        // Name, arity, flags, first, last, step.
        let head = |v: &V| -> String {
            let V::Array(outer) = v else { return show(v) };
            let Some(V::Array(info)) = outer.first() else {
                return show(v);
            };
            let mut parts: Vec<String> = info.iter().take(6).map(show).collect();
            if let Some(V::Array(flags)) = info.get(2) {
                let mut f: Vec<String> = flags.iter().map(show).collect();
                f.sort();
                parts[2] = f.join(",");
            }
            parts.join(" ")
        };
        assert_eq!(head(&a), head(&b), "COMMAND INFO {name}");
    }
    let seqs: &[&[&[&str]]] = &[&[
        &[
            "COMMAND",
            "GETKEYS",
            "SINTERCARD",
            "2",
            "a",
            "b",
            "LIMIT",
            "1",
        ],
        &["COMMAND", "GETKEYS", "SINTERSTORE", "d", "a", "b"],
        &["COMMAND", "GETKEYS", "SMOVE", "a", "b", "m"],
        &["COMMAND", "GETKEYS", "SSCAN", "a", "0"],
    ]];
    assert_no_diffs(p.diff(seqs));
}
