//! Hash commands, differentially against a real Redis 7.0: replies value for value in RESP2 and
//! RESP3, OBJECT ENCODING included. Orders Redis leaves unspecified (hashtable-encoded HGETALL,
//! HKEYS, HVALS; HRANDFIELD; HSCAN of a hashtable) are compared as sets, by shape and membership.

mod common;
use common::*;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use redis::Value as V;

macro_rules! pair {
    () => {
        pair!(&[], &[])
    };
    ($ours:expr, $real:expr) => {
        match Pair::start_with($ours, $real) {
            Some(p) => p,
            None => return,
        }
    };
}

/// Order-insensitive view of a reply: a flat array becomes sorted (field, value) pairs when the
/// command returns pairs, other arrays and maps are sorted.
fn unordered(cmd: &str, v: V) -> V {
    let pairs = |flat: Vec<V>| {
        let mut out: Vec<V> = flat
            .chunks(2)
            .map(|c| V::Array(c.to_vec()))
            .collect::<Vec<_>>();
        out.sort_by_key(show);
        V::Array(out)
    };
    match (cmd.to_ascii_lowercase().as_str(), v) {
        ("hgetall", V::Array(a)) => pairs(a),
        ("hgetall", V::Map(m)) => pairs(m.into_iter().flat_map(|(k, v)| [k, v]).collect()),
        (_, v) => sorted(v),
    }
}

/// Lower-case `hgetall`, `hkeys`, `hvals` in a sequence mean "compare as a set" (hashtable
/// encoding); upper-case ones are compared in order (listpack keeps insertion order in both).
fn norm(cmd: &[&str], v: V) -> V {
    match cmd.first() {
        Some(&c) if ["hgetall", "hkeys", "hvals"].contains(&c) => unordered(c, v),
        _ => v,
    }
}

#[test]
fn basic_reads_and_writes() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[
        &[
            &["HSET", "h", "f1", "v1"],
            &["HSET", "h", "f1", "v1b", "f2", "v2", "f3", "v3"],
            &["HSET", "h", "f4", "v4", "f4", "v4b"],
            &["HGET", "h", "f1"],
            &["HGET", "h", "nope"],
            &["HGET", "missing", "f1"],
            &["HMGET", "h", "f1", "nope", "f4"],
            &["HMGET", "missing", "a", "b"],
            &["HLEN", "h"],
            &["HLEN", "missing"],
            &["HSTRLEN", "h", "f1"],
            &["HSTRLEN", "h", "nope"],
            &["HSTRLEN", "missing", "nope"],
            &["HEXISTS", "h", "f2"],
            &["HEXISTS", "h", "nope"],
            &["HEXISTS", "missing", "nope"],
            &["HGETALL", "h"],
            &["HKEYS", "h"],
            &["HVALS", "h"],
            &["HGETALL", "missing"],
            &["HKEYS", "missing"],
            &["HVALS", "missing"],
            &["OBJECT", "ENCODING", "h"],
            &["TYPE", "h"],
            &["HMSET", "h", "f5", "v5", "f1", "x"],
            &["HGETALL", "h"],
            &["HSETNX", "h", "f1", "y"],
            &["HSETNX", "h", "f6", "y"],
            &["HSETNX", "new", "f", "v"],
            &["HGETALL", "new"],
            &["HDEL", "h", "f1", "f1", "nope", "f3"],
            &["HGETALL", "h"],
            &["HDEL", "h", "nope"],
            &["HDEL", "missing", "a"],
            &["HDEL", "new", "f", "g"],
            &["EXISTS", "new"],
            &["HDEL", "h", "f2", "f4", "f5", "f6", "zz"],
            &["EXISTS", "h"],
            &["HSET", "e", "", ""],
            &["HGET", "e", ""],
            &["HSTRLEN", "e", ""],
            &["HGETALL", "e"],
            &["HSET", "bin", "a\r\nb", "\u{0}\u{1}", "é", "ü"],
            &["HGETALL", "bin"],
        ],
        &[
            &["SET", "s", "x"],
            &["LPUSH", "l", "x"],
            &["HSET", "s", "f", "v"],
            &["HSETNX", "s", "f", "v"],
            &["HMSET", "s", "f", "v"],
            &["HGET", "s", "f"],
            &["HMGET", "s", "f"],
            &["HDEL", "s", "f"],
            &["HLEN", "s"],
            &["HSTRLEN", "s", "f"],
            &["HEXISTS", "s", "f"],
            &["HKEYS", "s"],
            &["HVALS", "s"],
            &["HGETALL", "s"],
            &["HINCRBY", "s", "f", "1"],
            &["HINCRBYFLOAT", "s", "f", "1"],
            &["HRANDFIELD", "s"],
            &["HRANDFIELD", "s", "2"],
            &["HRANDFIELD", "s", "2", "WITHVALUES"],
            &["HSCAN", "s", "0"],
            &["HGET", "l", "f"],
            &["GET", "s"],
            &["HSET", "h", "f", "v"],
            &["GET", "h"],
            &["LPUSH", "h", "x"],
        ],
        &[
            &["HSET"],
            &["HSET", "h"],
            &["HSET", "h", "f"],
            &["HSET", "h", "f", "v", "g"],
            &["HMSET", "h", "f"],
            &["HMSET", "h", "f", "v", "g"],
            &["HSETNX", "h", "f"],
            &["HSETNX", "h", "f", "v", "x"],
            &["HGET", "h"],
            &["HGET", "h", "f", "g"],
            &["HMGET", "h"],
            &["HDEL", "h"],
            &["HLEN"],
            &["HLEN", "h", "x"],
            &["HSTRLEN", "h"],
            &["HEXISTS", "h"],
            &["HKEYS"],
            &["HVALS", "a", "b"],
            &["HGETALL"],
            &["HINCRBY", "h", "f"],
            &["HINCRBYFLOAT", "h", "f"],
            &["HRANDFIELD"],
            &["HSCAN", "h"],
            &["EXISTS", "h"],
            &["hset", "h", "F", "V"],
            &["HsEt", "h", "F", "W"],
            &["hget", "h", "F"],
            &["HGET", "h", "f"],
        ],
    ];
    assert_no_diffs(p.diff_norm(seqs, &norm));
}

#[test]
fn encodings_follow_redis() {
    let p = pair!();
    let long65 = "x".repeat(65);
    let long64 = "y".repeat(64);
    let many: Vec<String> = (0..129).map(|i| format!("f{i}")).collect();
    let mut fill: Vec<&str> = vec!["HSET", "big"];
    for f in &many[..128] {
        fill.push(f);
        fill.push("v");
    }
    let seqs: &[&[&[&str]]] = &[
        &[
            // Redis 7.0's built-in default is 512 (redis.conf suggests 128): pin it.
            &["CONFIG", "SET", "hash-max-listpack-entries", "128"],
            &fill,
            &["OBJECT", "ENCODING", "big"],
            &["HLEN", "big"],
            &["HSET", "big", "f0", "again"],
            &["OBJECT", "ENCODING", "big"],
            &["HSET", "big", &many[128], "v"],
            &["OBJECT", "ENCODING", "big"],
            &["HLEN", "big"],
            &["hkeys", "big"],
            &["HDEL", "big", "f0", "f1", "f2"],
            &["OBJECT", "ENCODING", "big"],
            &["HSET", "v64", "f", &long64],
            &["OBJECT", "ENCODING", "v64"],
            &["HSET", "v64", &long64, "v"],
            &["OBJECT", "ENCODING", "v64"],
            &["HSET", "v65", "f", &long65],
            &["OBJECT", "ENCODING", "v65"],
            &["HSET", "f65", &long65, "v"],
            &["OBJECT", "ENCODING", "f65"],
            &["HSET", "nx", "f", "v"],
            &["HSETNX", "nx", "f", &long65],
            &["OBJECT", "ENCODING", "nx"],
            &["HSETNX", "nx", "g", &long65],
            &["OBJECT", "ENCODING", "nx"],
            &["hgetall", "nx"],
            &["HSET", "ex", "f", "v"],
            &["HSET", "ex", "f", &long65],
            &["HSET", "ex", "f", "v"],
            &["OBJECT", "ENCODING", "ex"],
            &["HDEL", "ex", "f"],
            &["EXISTS", "ex"],
            &["HINCRBY", "ib", &long65, "5"],
            &["OBJECT", "ENCODING", "ib"],
            &["HINCRBYFLOAT", "ibf", &long65, "1.5"],
            &["OBJECT", "ENCODING", "ibf"],
            &["HSET", "hm", "a", "1", "b", &long65],
            &["OBJECT", "ENCODING", "hm"],
            &["HMSET", "hm2", "a", "1"],
            &["OBJECT", "ENCODING", "hm2"],
        ],
        &[
            &["CONFIG", "SET", "hash-max-listpack-entries", "2"],
            &["CONFIG", "SET", "hash-max-listpack-value", "3"],
            &["HSET", "a", "f1", "1", "f2", "2"],
            &["OBJECT", "ENCODING", "a"],
            &["HSET", "a", "f3", "3"],
            &["OBJECT", "ENCODING", "a"],
            &["HSET", "b", "f1", "1", "f1", "2", "f2", "3"],
            &["OBJECT", "ENCODING", "b"],
            &["HGETALL", "b"],
            &["HSET", "c", "f1", "1234"],
            &["OBJECT", "ENCODING", "c"],
            &["HSET", "d", "f1", "999"],
            &["HINCRBY", "d", "f1", "1"],
            &["OBJECT", "ENCODING", "d"],
            &["HSET", "d2", "abc", "1"],
            &["HINCRBYFLOAT", "d2", "abc", "0.5"],
            &["OBJECT", "ENCODING", "d2"],
            &["CONFIG", "SET", "hash-max-listpack-entries", "0"],
            &["HSET", "z", "f", "v"],
            &["OBJECT", "ENCODING", "z"],
            &["CONFIG", "SET", "hash-max-listpack-entries", "128"],
            &["OBJECT", "ENCODING", "a"],
            &["HDEL", "a", "f1", "f2"],
            &["OBJECT", "ENCODING", "a"],
            &["CONFIG", "SET", "hash-max-listpack-value", "0"],
            &["HSET", "e", "", ""],
            &["OBJECT", "ENCODING", "e"],
            &["HSET", "e", "x", ""],
            &["OBJECT", "ENCODING", "e"],
            &["CONFIG", "SET", "hash-max-listpack-value", "64"],
        ],
    ];
    assert_no_diffs(p.diff_norm(seqs, &norm));
}

#[test]
fn counters() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[
        &[
            &["HINCRBY", "h", "n", "5"],
            &["HINCRBY", "h", "n", "-7"],
            &["HGET", "h", "n"],
            &["HINCRBY", "h", "n", "x"],
            &["HINCRBY", "h", "n", "1.5"],
            &["HINCRBY", "h", "n", "9223372036854775808"],
            &[
                "HSET",
                "h",
                "max",
                "9223372036854775807",
                "min",
                "-9223372036854775808",
            ],
            &["HINCRBY", "h", "max", "1"],
            &["HINCRBY", "h", "max", "0"],
            &["HINCRBY", "h", "max", "-1"],
            &["HINCRBY", "h", "min", "-1"],
            &["HINCRBY", "h", "min", "9223372036854775807"],
            &[
                "HSET", "h", "s", "abc", "sp", " 1", "z", "007", "neg0", "-0", "e", "",
            ],
            &["HINCRBY", "h", "s", "1"],
            &["HINCRBY", "h", "sp", "1"],
            &["HINCRBY", "h", "z", "1"],
            &["HINCRBY", "h", "neg0", "1"],
            &["HINCRBY", "h", "e", "1"],
            &["HINCRBY", "new", "f", "x"],
            &["EXISTS", "new"],
            &["HINCRBY", "new", "f", "0"],
            &["HGETALL", "new"],
            &["HGETALL", "h"],
        ],
        &[
            &["HINCRBYFLOAT", "h", "f", "1.5"],
            &["HINCRBYFLOAT", "h", "f", "2.25"],
            &["HINCRBYFLOAT", "h", "f", "-3.75"],
            &["HINCRBYFLOAT", "h", "f", "10.5"],
            &["HINCRBYFLOAT", "h", "f", "5.0e3"],
            &["HINCRBYFLOAT", "h", "f", "-5010.5"],
            &["HGET", "h", "f"],
            &["HINCRBYFLOAT", "h", "f", "abc"],
            &["HINCRBYFLOAT", "h", "f", ""],
            &["HINCRBYFLOAT", "h", "f", " 1"],
            &["HINCRBYFLOAT", "h", "f", "nan"],
            &["HINCRBYFLOAT", "h", "f", "inf"],
            &["HINCRBYFLOAT", "h", "f", "-inf"],
            &["HSET", "h", "s", "abc", "i", "inf", "n", "17", "sp", "1 "],
            &["HINCRBYFLOAT", "h", "s", "1"],
            &["HINCRBYFLOAT", "h", "sp", "1"],
            &["HINCRBYFLOAT", "h", "i", "1"],
            &["HINCRBYFLOAT", "h", "n", "0.5"],
            &["HINCRBYFLOAT", "h", "n", "-17.5"],
            &["HINCRBY", "h", "n", "1"],
            &["HINCRBYFLOAT", "new", "f", "x"],
            &["EXISTS", "new"],
            &["HINCRBYFLOAT", "new", "f", "-0.0"],
            &["HGETALL", "new"],
            &["HGETALL", "h"],
        ],
    ];
    assert_no_diffs(p.diff_norm(seqs, &norm));
}

/// Results where Redis's `long double` arithmetic differs from `f64` (hashes.rs uses the
/// long-double model of strings.rs, as INCRBYFLOAT does).
#[test]
fn hincrbyfloat_long_double() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[&[
        &["HINCRBYFLOAT", "h", "f", "0.1"],
        &["HINCRBYFLOAT", "h", "f", "0.2"],
        &["HINCRBYFLOAT", "h", "g", "0x10"],
        &["HINCRBYFLOAT", "h", "g", "1e400"],
        &["OBJECT", "ENCODING", "h"],
        &["HSET", "h", "n", "9223372036854775806"],
        &["HINCRBYFLOAT", "h", "n", "1"],
    ]];
    assert_no_diffs(p.diff_norm(seqs, &norm));
}

#[test]
fn hrandfield_and_hscan_errors() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[&[
        &["HRANDFIELD", "missing"],
        &["HRANDFIELD", "missing", "3"],
        &["HRANDFIELD", "missing", "-3", "WITHVALUES"],
        &["HRANDFIELD", "missing", "x"],
        &["HSET", "h", "a", "1"],
        &["HRANDFIELD", "h", "x"],
        &["HRANDFIELD", "h", "1.5"],
        &["HRANDFIELD", "h", "1", "foo"],
        &["HRANDFIELD", "h", "1", "WITHVALUES", "x"],
        &["HRANDFIELD", "h", "-9223372036854775808"],
        &["HRANDFIELD", "h", "9223372036854775807", "WITHVALUES"],
        &["HRANDFIELD", "h", "-4611686018427387904", "withvalues"],
        &["HRANDFIELD", "h", "4611686018427387904", "WITHVALUES"],
        &["HRANDFIELD", "h", "9223372036854775807"],
        &["HRANDFIELD", "h", "0"],
        &["HRANDFIELD", "h", "0", "WITHVALUES"],
        &["HRANDFIELD", "h"],
        &["HRANDFIELD", "h", "1"],
        &["HRANDFIELD", "h", "-2"],
        &["HRANDFIELD", "h", "3", "WITHVALUES"],
        &["HRANDFIELD", "h", "-2", "withvalues"],
        &["HSCAN", "missing", "0"],
        &["HSCAN", "missing", "0", "COUNT", "0"],
        &["HSCAN", "missing", "x"],
        &["HSCAN", "h", "x"],
        &["HSCAN", "h", "-1"],
        &["HSCAN", "h", "18446744073709551616"],
        &["HSCAN", "h", "0", "COUNT", "0"],
        &["HSCAN", "h", "0", "COUNT", "x"],
        &["HSCAN", "h", "0", "COUNT"],
        &["HSCAN", "h", "0", "MATCH"],
        &["HSCAN", "h", "0", "TYPE", "string"],
        &["HSCAN", "h", "0", "FOO", "bar"],
        &["HSCAN", "h", "0"],
        &["HSCAN", "h", "123", "COUNT", "1"],
        &["HSCAN", "h", "0", "MATCH", "b*"],
        &[
            "HSCAN", "h", "0", "MATCH", "a*", "COUNT", "100", "match", "*",
        ],
        &["SET", "s", "1"],
        &["HSCAN", "s", "0", "COUNT", "0"],
        &["HSCAN", "s", "x"],
        &["HSET", "lp", "a1", "1", "b1", "2", "a2", "3", "ab", "4"],
        &["HSCAN", "lp", "0", "MATCH", "a*"],
        &["HSCAN", "lp", "0", "MATCH", "*1"],
    ]];
    assert_no_diffs(p.diff(seqs));
}

/// Shape check of one HRANDFIELD reply against the hash's contents.
fn check_rand(
    reply: &V,
    contents: &std::collections::HashMap<Vec<u8>, Vec<u8>>,
    count: i64,
    withvalues: bool,
    resp3: bool,
) -> Result<(), String> {
    let items = match reply {
        V::Array(a) => a,
        other => return Err(format!("not an array: {}", show(other))),
    };
    let pairs: Vec<(Vec<u8>, Option<Vec<u8>>)> = if !withvalues {
        items
            .iter()
            .map(|v| match v {
                V::BulkString(b) => Ok((b.clone(), None)),
                o => Err(format!("not a bulk: {}", show(o))),
            })
            .collect::<Result<_, _>>()?
    } else if resp3 {
        items
            .iter()
            .map(|v| match v {
                V::Array(p) => match &p[..] {
                    [V::BulkString(f), V::BulkString(v)] => Ok((f.clone(), Some(v.clone()))),
                    _ => Err(format!("bad pair {}", show(v))),
                },
                o => Err(format!("not a pair: {}", show(o))),
            })
            .collect::<Result<_, _>>()?
    } else {
        if items.len() % 2 != 0 {
            return Err("odd flat reply".into());
        }
        items
            .chunks(2)
            .map(|c| match c {
                [V::BulkString(f), V::BulkString(v)] => Ok((f.clone(), Some(v.clone()))),
                _ => Err("bad flat pair".to_string()),
            })
            .collect::<Result<_, _>>()?
    };
    let expect_len = if count >= 0 {
        (count as usize).min(contents.len())
    } else {
        count.unsigned_abs() as usize
    };
    if pairs.len() != expect_len {
        return Err(format!("{} elements, expected {expect_len}", pairs.len()));
    }
    let mut seen = std::collections::HashSet::new();
    for (f, v) in &pairs {
        match contents.get(f) {
            None => return Err(format!("unknown field {:?}", String::from_utf8_lossy(f))),
            Some(val) => {
                if let Some(v) = v {
                    if v != val {
                        return Err("wrong value".into());
                    }
                }
            }
        }
        if count > 0 && !seen.insert(f.clone()) {
            return Err("repeated field with a positive count".into());
        }
    }
    Ok(())
}

fn hgetall_map(c: &mut Raw, key: &str) -> std::collections::HashMap<Vec<u8>, Vec<u8>> {
    let flat = match c.call(&["HGETALL", key]).value {
        V::Array(a) => a,
        V::Map(m) => m.into_iter().flat_map(|(k, v)| [k, v]).collect(),
        other => panic!("HGETALL: {}", show(&other)),
    };
    flat.chunks(2)
        .map(|c| match c {
            [V::BulkString(f), V::BulkString(v)] => (f.clone(), v.clone()),
            _ => panic!("bad HGETALL"),
        })
        .collect()
}

#[test]
fn hrandfield_shapes_and_membership() {
    let p = pair!();
    for resp3 in [false, true] {
        for (key, n) in [("small", 5usize), ("big", 300)] {
            let mut conns = Vec::new();
            for port in [p.ours.port, p.real.port] {
                let mut c = Raw::connect(port);
                if resp3 {
                    c.call(&["HELLO", "3"]);
                }
                c.call(&["DEL", key]);
                let mut args = vec!["HSET".to_string(), key.to_string()];
                for i in 0..n {
                    args.push(format!("field:{i}"));
                    args.push(format!("value:{i}"));
                }
                c.call(&args);
                conns.push(c);
            }
            let contents = hgetall_map(&mut conns[1], key);
            assert_eq!(hgetall_map(&mut conns[0], key), contents);
            for count in [1i64, 2, 3, 5, 6, 50, 299, 300, 1000, -1, -3, -5, -20, -700] {
                for withvalues in [false, true] {
                    let cnt = count.to_string();
                    let mut cmd = vec!["HRANDFIELD", key, &cnt];
                    if withvalues {
                        cmd.push("WITHVALUES");
                    }
                    for (i, name) in ["ours", "real"].into_iter().enumerate() {
                        let r = conns[i].call(&cmd);
                        if let Err(e) = check_rand(&r.value, &contents, count, withvalues, resp3) {
                            panic!("{name} RESP{} {:?}: {e}", 2 + resp3 as u8, cmd);
                        }
                    }
                }
            }
            // Without a count: one field, and every field shows up eventually.
            let mut seen = std::collections::HashSet::new();
            for _ in 0..2000 {
                match conns[0].call(&["HRANDFIELD", key]).value {
                    V::BulkString(f) => {
                        assert!(contents.contains_key(&f));
                        seen.insert(f);
                    }
                    other => panic!("HRANDFIELD: {}", show(&other)),
                }
                if seen.len() == contents.len() {
                    break;
                }
            }
            if n <= 5 {
                assert_eq!(seen.len(), n);
            }
            // Positive counts below the size pick distinct fields, spread over the hash.
            let mut seen = std::collections::HashSet::new();
            for _ in 0..200 {
                if let V::Array(a) = conns[0].call(&["HRANDFIELD", key, "3"]).value {
                    seen.extend(a.into_iter().map(|v| show(&v)));
                }
            }
            assert!(
                seen.len() >= n.min(50),
                "only {} distinct fields",
                seen.len()
            );
        }
    }
}

#[test]
fn hscan_full_iteration() {
    let p = pair!();
    for resp3 in [false, true] {
        for (key, n) in [("small", 20usize), ("big", 1000)] {
            for (name, port) in [("ours", p.ours.port), ("real", p.real.port)] {
                let mut c = Raw::connect(port);
                if resp3 {
                    c.call(&["HELLO", "3"]);
                }
                c.call(&["DEL", key]);
                let mut args = vec!["HSET".to_string(), key.to_string()];
                for i in 0..n {
                    args.push(format!("f{i}"));
                    args.push(format!("v{i}"));
                }
                c.call(&args);
                for (pattern, count) in
                    [(None, None), (Some("f1*"), Some("7")), (None, Some("100"))]
                {
                    let mut seen = std::collections::HashMap::new();
                    let mut cursor = "0".to_string();
                    let mut calls = 0;
                    loop {
                        let mut cmd = vec!["HSCAN".to_string(), key.to_string(), cursor.clone()];
                        if let Some(p) = pattern {
                            cmd.extend(["MATCH".to_string(), p.to_string()]);
                        }
                        if let Some(c) = count {
                            cmd.extend(["COUNT".to_string(), c.to_string()]);
                        }
                        let r = c.call(&cmd).value;
                        let V::Array(parts) = r else {
                            panic!("{name}: HSCAN reply {}", show(&r))
                        };
                        let (Some(V::BulkString(next)), Some(V::Array(items))) =
                            (parts.first(), parts.get(1))
                        else {
                            panic!("{name}: HSCAN shape {}", show(&V::Array(parts.clone())))
                        };
                        assert_eq!(items.len() % 2, 0);
                        for ch in items.chunks(2) {
                            let (V::BulkString(f), V::BulkString(v)) = (&ch[0], &ch[1]) else {
                                panic!("{name}: HSCAN items")
                            };
                            let f = String::from_utf8_lossy(f).into_owned();
                            assert_eq!(
                                format!("v{}", &f[1..]),
                                String::from_utf8_lossy(v),
                                "{name}"
                            );
                            seen.insert(f, ());
                        }
                        cursor = String::from_utf8_lossy(next).into_owned();
                        calls += 1;
                        if cursor == "0" {
                            break;
                        }
                        assert!(calls < 10_000, "{name}: HSCAN does not terminate");
                    }
                    let expected = (0..n)
                        .map(|i| format!("f{i}"))
                        .filter(|f| pattern.is_none() || f.starts_with("f1"))
                        .count();
                    assert_eq!(seen.len(), expected, "{name} {key} {pattern:?}");
                    assert_eq!(calls == 1, n <= 128, "{name} {key} calls");
                }
            }
        }
    }
}

/// Random command sequences over a few keys with small encoding limits (so conversions happen
/// mid-way), every reply compared with Redis, then the final contents.
#[test]
fn random_sequences_match_redis() {
    let p = pair!();
    let seed: u64 = std::env::var("HASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_4a54);
    let mut rng = SmallRng::seed_from_u64(seed);
    let keys = ["h1", "h2", "h3", "str"];
    let fields = ["a", "b", "c", "d", "e", "f", "g", "h", "longfield12", ""];
    let values = [
        "",
        "1",
        "-5",
        "10",
        "x",
        "abc",
        "3.5",
        "007",
        "longvalue1234",
    ];
    for resp3 in [false, true] {
        let mut conns: Vec<Raw> = [p.ours.port, p.real.port]
            .iter()
            .map(|&port| {
                let mut c = Raw::connect(port);
                c.call(&["FLUSHALL"]);
                if resp3 {
                    c.call(&["HELLO", "3"]);
                }
                c.call(&["CONFIG", "SET", "hash-max-listpack-entries", "6"]);
                c.call(&["CONFIG", "SET", "hash-max-listpack-value", "10"]);
                c.call(&["SET", "str", "x"]);
                c
            })
            .collect();
        let mut transcript: Vec<String> = Vec::new();
        for step in 0..1500 {
            let key = keys[rng.gen_range(0..keys.len())];
            let field = |rng: &mut SmallRng| fields[rng.gen_range(0..fields.len())].to_string();
            let value = |rng: &mut SmallRng| values[rng.gen_range(0..values.len())].to_string();
            let k = key.to_string();
            let cmd: Vec<String> = match rng.gen_range(0..20) {
                0..=3 => {
                    let mut c = vec!["HSET".into(), k];
                    for _ in 0..rng.gen_range(1..4) {
                        c.push(field(&mut rng));
                        c.push(value(&mut rng));
                    }
                    c
                }
                4 => vec!["HSETNX".into(), k, field(&mut rng), value(&mut rng)],
                5 | 6 => {
                    let mut c = vec!["HDEL".into(), k];
                    for _ in 0..rng.gen_range(1..4) {
                        c.push(field(&mut rng));
                    }
                    c
                }
                7 => vec!["HGET".into(), k, field(&mut rng)],
                8 => vec!["HMGET".into(), k, field(&mut rng), field(&mut rng)],
                9 => vec!["HLEN".into(), k],
                10 => vec!["HSTRLEN".into(), k, field(&mut rng)],
                11 => vec!["HEXISTS".into(), k, field(&mut rng)],
                12 => {
                    // (No huge increments: beyond 2^53 HINCRBYFLOAT needs Redis's long double.)
                    let incr = ["1", "-3", "100", "x", "1.5"][rng.gen_range(0..5)];
                    vec!["HINCRBY".into(), k, field(&mut rng), incr.into()]
                }
                13 => {
                    let incr = ["1.5", "-0.25", "2", "y", "1e3"][rng.gen_range(0..5)];
                    vec!["HINCRBYFLOAT".into(), k, field(&mut rng), incr.into()]
                }
                14 => vec!["OBJECT".into(), "ENCODING".into(), k],
                15 => vec!["HGETALL".into(), k],
                16 => vec![["HKEYS", "HVALS"][rng.gen_range(0..2)].into(), k],
                17 => vec!["EXISTS".into(), k],
                18 => vec!["HRANDFIELD".into(), k, "-2".into()],
                _ => {
                    if rng.gen_range(0..10) == 0 {
                        vec!["DEL".into(), k]
                    } else {
                        vec!["TYPE".into(), k]
                    }
                }
            };
            transcript.push(cmd.join(" "));
            // Listpack-encoded replies keep Redis's order; hashtable ones are compared as sets.
            let listpack = conns[1].call(&["OBJECT", "ENCODING", key]).value
                == V::BulkString(b"listpack".to_vec());
            let a = conns[0].call(&cmd).value;
            let b = conns[1].call(&cmd).value;
            let name = cmd[0].as_str();
            let (a, b) = match name {
                "HGETALL" | "HKEYS" | "HVALS" if !listpack => {
                    (unordered(name, a), unordered(name, b))
                }
                "HRANDFIELD" => {
                    // Random: same shape only.
                    let shape = |v: &V| match v {
                        V::Array(x) => format!("array {}", x.len()),
                        o => show(o),
                    };
                    (V::SimpleString(shape(&a)), V::SimpleString(shape(&b)))
                }
                _ => (a, b),
            };
            assert!(
                a == b,
                "RESP{} step {step} (seed {seed}) {:?}\n ours: {}\n real: {}\n last: {}",
                2 + resp3 as u8,
                cmd.join(" "),
                show(&a),
                show(&b),
                transcript[transcript.len().saturating_sub(8)..].join(" | ")
            );
        }
        for key in keys {
            let t0 = conns[0].call(&["TYPE", key]).value;
            assert_eq!(t0, conns[1].call(&["TYPE", key]).value, "TYPE {key}");
            if t0 == V::SimpleString("hash".into()) {
                let (a, b) = (
                    hgetall_map(&mut conns[0], key),
                    hgetall_map(&mut conns[1], key),
                );
                assert_eq!(a, b, "final contents of {key}");
                let e = ["OBJECT", "ENCODING", key];
                assert_eq!(
                    conns[0].call(&e).value,
                    conns[1].call(&e).value,
                    "encoding of {key}"
                );
            }
        }
        assert_eq!(
            conns[0].call(&["DBSIZE"]).value,
            conns[1].call(&["DBSIZE"]).value
        );
    }
}

#[test]
fn command_metadata() {
    let p = pair!();
    let names = [
        "hset",
        "hsetnx",
        "hget",
        "hmget",
        "hmset",
        "hdel",
        "hlen",
        "hstrlen",
        "hexists",
        "hkeys",
        "hvals",
        "hgetall",
        "hincrby",
        "hincrbyfloat",
        "hrandfield",
        "hscan",
    ];
    let mut ours = Raw::connect(p.ours.port);
    let mut real = Raw::connect(p.real.port);
    for name in names {
        let head = |v: V| match v {
            // name, arity, flags, first, last, step
            V::Array(mut outer) => match outer.pop() {
                Some(V::Array(info)) => info.into_iter().take(6).collect::<Vec<_>>(),
                other => panic!("COMMAND INFO {name}: {other:?}"),
            },
            other => panic!("COMMAND INFO {name}: {other:?}"),
        };
        let a = head(ours.call(&["COMMAND", "INFO", name]).value);
        let b = head(real.call(&["COMMAND", "INFO", name]).value);
        assert_eq!(
            sorted(V::Array(a)),
            sorted(V::Array(b)),
            "COMMAND INFO {name}"
        );
    }
}

/// The keyspace events of every hash command, in order, as Redis publishes them.
fn events(port: u16) -> Vec<String> {
    let mut admin = Raw::connect(port);
    admin.call(&["FLUSHALL"]);
    admin.call(&["CONFIG", "SET", "notify-keyspace-events", "Ehg"]);
    let mut sub = Raw::connect(port);
    sub.call(&["PSUBSCRIBE", "__keyevent@0__:*"]);
    let cmds: &[&[&str]] = &[
        &["HSET", "h", "a", "1", "b", "2"],
        &["HSET", "h", "a", "1"],
        &["HMSET", "h", "c", "3"],
        &["HSETNX", "h", "a", "x"],
        &["HSETNX", "h", "d", "4"],
        &["HINCRBY", "h", "n", "5"],
        &["HINCRBY", "h", "a", "x"],
        &["HINCRBY", "h", "b", "x"],
        &["HINCRBYFLOAT", "h", "f", "1.5"],
        &["HINCRBYFLOAT", "h", "f", "nan"],
        &["HDEL", "h", "zz"],
        &["HDEL", "h", "a", "b"],
        &["HGET", "h", "c"],
        &["HDEL", "h", "c", "d", "n", "f", "zz"],
        &["HSET", "s", "a", "1"],
        &["SET", "str", "x"],
        &["HSET", "str", "a", "1"],
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
    let real = events(p.real.port);
    let ours = events(p.ours.port);
    assert_eq!(ours, real, "transcripts differ (left: ours, right: Redis)");
    assert!(real.iter().any(|l| l.contains("hincrbyfloat")));
}
