//! SORT and SORT_RO, differentially against a real Redis 7.0: every option on lists, sets
//! (intset and hashtable) and sorted sets (listpack and skiplist), in RESP2 and RESP3. Orders
//! Redis itself leaves to its hash tables (an unsorted hashtable set, ALPHA ties by weight on a
//! set or sorted set) are avoided or compared as sets.

#[macro_use]
mod common;
use common::*;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Runs owned sequences through [`Pair::diff`].
fn diff_owned(p: &Pair, seqs: &[Vec<Vec<String>>]) -> Vec<String> {
    let l2: Vec<Vec<Vec<&str>>> = seqs
        .iter()
        .map(|s| {
            s.iter()
                .map(|c| c.iter().map(|x| x.as_str()).collect())
                .collect()
        })
        .collect();
    let l1: Vec<Vec<&[&str]>> = l2
        .iter()
        .map(|s| s.iter().map(|c| c.as_slice()).collect())
        .collect();
    let l0: Vec<&[&[&str]]> = l1.iter().map(|s| s.as_slice()).collect();
    p.diff(&l0)
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn errors_and_syntax() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[&[
        &["SORT"],
        &["SORT_RO"],
        &["RPUSH", "l", "3", "1", "2"],
        &["SET", "str", "x"],
        &["HSET", "h", "f", "1"],
        &["SORT", "l", "LIMIT"],
        &["SORT", "l", "LIMIT", "1"],
        &["SORT", "l", "LIMIT", "x", "1"],
        &["SORT", "l", "LIMIT", "1", "x"],
        &["SORT", "l", "LIMIT", "1.5", "1"],
        &["SORT", "l", "LIMIT", "0", "99999999999999999999"],
        &["SORT", "l", "foo"],
        &["SORT", "l", "BY"],
        &["SORT", "l", "GET"],
        &["SORT", "l", "STORE"],
        &["SORT", "l", "ASC", "DESC", "bogus"],
        &["SORT_RO", "l", "STORE", "d"],
        &["SORT_RO", "l", "store"],
        &["SORT_RO", "l", "LIMIT", "0", "1", "DESC"],
        &["SORT", "str"],
        &["SORT", "h"],
        &["SORT", "str", "BY", "nosort"],
        &["SORT_RO", "h", "ALPHA"],
        &["SORT", "str", "LIMIT", "x", "1"],
        &["SORT", "str", "bogus"],
        &["SORT", "str", "STORE", "d"],
        &["EXISTS", "d"],
        &["RPUSH", "bad", "1", "x", "2"],
        &["SORT", "bad"],
        &["SORT", "bad", "STORE", "d"],
        &["EXISTS", "d"],
        &["SORT", "bad", "ALPHA"],
        &["SORT", "bad", "BY", "nosort"],
        &["SORT", "bad", "LIMIT", "0", "0"],
        &["SORT", "missing"],
        &["SORT", "missing", "GET", "#", "BY", "w_*"],
        &["SORT_RO", "missing", "ALPHA", "DESC"],
        &["SET", "d", "old"],
        &["SORT", "missing", "STORE", "d"],
        &["EXISTS", "d"],
        &["SORT", "missing", "STORE", "d"],
        &["sort", "l", "desc", "limit", "0", "2", "alpha"],
    ]];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn lists_every_option() {
    let p = pair!();
    let setup: &[&[&str]] = &[
        &[
            "RPUSH", "l", "3", "10", "-2", "1.5", "3", "0", "2e1", "-inf", "007", "7",
        ],
        &[
            "RPUSH", "a", "banana", "apple", "Cherry", "date", "apple", "10", "9", "",
        ],
        &[
            "MSET", "w_3", "30", "w_10", "5", "w_-2", "7", "w_1.5", "7", "w_0", "-1",
        ],
        &[
            "MSET", "w_007", "x", "w_banana", "b", "w_apple", "a", "w_date", "a",
        ],
        &["HSET", "h_3", "f", "1", "g", "zz"],
        &["HSET", "h_10", "f", "2", "g", "aa"],
        &["HSET", "h_-2", "f", "2"],
        &["HSET", "h_7", "f", "-5", "g", "mm"],
        &["HSET", "h_banana", "f", "3", "g", "x"],
        &["RPUSH", "w_0", "not-a-string"],
        &["SET", "h_0", "string-not-hash"],
    ];
    let mut cmds: Vec<Vec<String>> = setup.iter().map(|c| strs(c)).collect();
    let lists = ["l", "a"];
    let bys: &[&[&str]] = &[
        &[],
        &["BY", "w_*"],
        &["BY", "h_*->f"],
        &["BY", "h_*->g"],
        &["BY", "nosort"],
        &["BY", "missing_*"],
        &["BY", "h_*->"],
        &["BY", "*"],
    ];
    let limits: &[&[&str]] = &[
        &[],
        &["LIMIT", "0", "3"],
        &["LIMIT", "2", "4"],
        &["LIMIT", "1", "0"],
        &["LIMIT", "-5", "2"],
        &["LIMIT", "3", "-1"],
        &["LIMIT", "9", "100"],
        &["LIMIT", "100", "5"],
    ];
    let gets: &[&[&str]] = &[
        &[],
        &["GET", "#"],
        &["GET", "w_*", "GET", "#", "GET", "h_*->g"],
        &["GET", "nosuch"],
    ];
    for l in lists {
        for by in bys {
            for (li, limit) in limits.iter().enumerate() {
                for alpha in [false, true] {
                    for desc in [false, true] {
                        for get in gets {
                            // Keep the product small: every LIMIT with every BY, GET
                            // variations on a subset.
                            if !get.is_empty() && li % 3 != 0 {
                                continue;
                            }
                            let mut c = strs(&["SORT", l]);
                            c.extend(strs(by));
                            c.extend(strs(limit));
                            if alpha {
                                c.push("ALPHA".into());
                            }
                            if desc {
                                c.push("DESC".into());
                            }
                            c.extend(strs(get));
                            cmds.push(c.clone());
                            c[0] = "SORT_RO".into();
                            if li == 1 {
                                cmds.push(c);
                            }
                        }
                    }
                }
            }
        }
    }
    assert_no_diffs(diff_owned(&p, &[cmds]));
}

#[test]
fn store_writes_lists() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[
        &[
            &["RPUSH", "l", "3", "1", "2", "b", "a"],
            &["SET", "w_1", "10"],
            &["SET", "dest", "string"],
            &["EXPIRE", "dest", "100"],
            &["SORT", "l", "ALPHA", "STORE", "dest"],
            &["TYPE", "dest"],
            &["TTL", "dest"],
            &["LRANGE", "dest", "0", "-1"],
            &["OBJECT", "ENCODING", "dest"],
            &[
                "SORT", "l", "ALPHA", "GET", "#", "GET", "w_*", "STORE", "dest",
            ],
            &["LRANGE", "dest", "0", "-1"],
            &[
                "SORT", "l", "BY", "nosort", "DESC", "LIMIT", "1", "2", "STORE", "dest",
            ],
            &["LRANGE", "dest", "0", "-1"],
            &["SORT", "l", "ALPHA", "LIMIT", "0", "0", "STORE", "dest"],
            &["EXISTS", "dest"],
            &["SORT", "l", "ALPHA", "STORE", "l"],
            &["LRANGE", "l", "0", "-1"],
            &["SORT", "l", "ALPHA", "STORE", "a", "STORE", "b"],
            &["EXISTS", "a", "b"],
            &["LRANGE", "b", "0", "-1"],
            &["SORT", "l", "STORE", "x"],
            &["EXISTS", "x"],
        ],
        &[
            // An unsorted hashtable set is stored sorted alphabetically (Redis forces it).
            &["SADD", "s", "pear", "fig", "apple", "10", "9", "kiwi"],
            &["SORT", "s", "BY", "nosort", "STORE", "d"],
            &["LRANGE", "d", "0", "-1"],
            &[
                "SORT", "s", "BY", "nosort", "DESC", "LIMIT", "1", "3", "STORE", "d",
            ],
            &["LRANGE", "d", "0", "-1"],
            &[
                "SORT", "s", "BY", "nosort", "GET", "#", "GET", "w_*", "STORE", "d",
            ],
            &["LRANGE", "d", "0", "-1"],
            &["SADD", "i", "5", "-3", "100", "7"],
            &["SORT", "i", "BY", "nosort", "STORE", "d"],
            &["LRANGE", "d", "0", "-1"],
            &["SORT", "i", "BY", "nosort", "LIMIT", "1", "2"],
            &["SORT", "i", "BY", "nosort", "DESC"],
            &["ZADD", "z", "3", "c", "1", "a", "2", "b"],
            &["SORT", "z", "BY", "nosort", "DESC", "STORE", "d"],
            &["LRANGE", "d", "0", "-1"],
        ],
        &[
            // BLPOP on the destination is served by the stored list.
            &["RPUSH", "src", "2", "1"],
            &["MULTI"],
            &["SORT", "src", "STORE", "dst"],
            &["LRANGE", "dst", "0", "-1"],
            &["EXEC"],
            &["BLPOP", "dst", "1"],
        ],
    ];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn sets_and_sorted_sets() {
    let p = pair!();
    let mut seqs: Vec<Vec<Vec<String>>> = Vec::new();
    let setups: &[&[&[&str]]] = &[
        &[&["SADD", "k", "5", "-3", "100", "7", "0", "12"]],
        &[&["SADD", "k", "5", "-3", "1.5", "abc", "0", "1e2", "x y"]],
        &[&[
            "ZADD", "k", "3", "5", "1", "-3", "2", "100", "2", "7", "0", "0.5",
        ]],
        &[&[
            "ZADD", "k", "1", "b", "1", "a", "-1", "c", "5", "d", "0", "e",
        ]],
    ];
    for (i, setup) in setups.iter().enumerate() {
        let mut seq: Vec<Vec<String>> = setup.iter().map(|c| strs(c)).collect();
        seq.push(strs(&[
            "MSET", "w_5", "1", "w_-3", "2", "w_100", "3", "w_7", "4",
        ]));
        seq.push(strs(&[
            "MSET", "w_0", "5", "w_12", "6", "w_1.5", "7", "w_abc", "8",
        ]));
        seq.push(strs(&[
            "MSET", "w_a", "9", "w_b", "10", "w_c", "11", "w_d", "12",
        ]));
        seq.push(strs(&[
            "MSET", "w_e", "13", "w_0.5", "14", "w_1e2", "15", "w_x y", "16",
        ]));
        seq.push(strs(&["HSET", "h_5", "f", "z"]));
        seq.push(strs(&["HSET", "h_-3", "f", "y"]));
        if i >= 2 {
            seq.push(strs(&["CONFIG", "SET", "zset-max-listpack-entries", "128"]));
        }
        let numeric = i != 1 && i != 3;
        let mut variants: Vec<Vec<&str>> = vec![
            vec!["ALPHA"],
            vec!["ALPHA", "DESC"],
            vec!["ALPHA", "LIMIT", "1", "3"],
            vec!["BY", "w_*"],
            vec!["BY", "w_*", "DESC", "LIMIT", "2", "2"],
            vec!["BY", "w_*", "ALPHA", "LIMIT", "0", "3"],
            vec!["BY", "w_*", "GET", "#", "GET", "h_*->f"],
            vec!["ALPHA", "GET", "w_*", "GET", "#"],
            vec!["ALPHA", "STORE", "d"],
        ];
        if numeric {
            variants.extend([
                vec![],
                vec!["DESC"],
                vec!["LIMIT", "2", "3"],
                vec!["DESC", "LIMIT", "0", "1"],
            ]);
        } else {
            variants.push(vec![]);
        }
        if i != 1 {
            // Unsorted: intset order, or the sorted set's own order (both deterministic).
            variants.extend([
                vec!["BY", "nosort"],
                vec!["BY", "nosort", "DESC"],
                vec!["BY", "nosort", "LIMIT", "1", "2"],
                vec!["BY", "nosort", "DESC", "LIMIT", "2", "10"],
                vec!["BY", "nosort", "GET", "w_*", "LIMIT", "-1", "1"],
            ]);
        }
        for v in variants {
            for cmd in ["SORT", "SORT_RO"] {
                if cmd == "SORT_RO" && v.contains(&"STORE") {
                    continue;
                }
                let mut c = strs(&[cmd, "k"]);
                c.extend(strs(&v));
                seq.push(c);
            }
            seq.push(strs(&["LRANGE", "d", "0", "-1"]));
        }
        seqs.push(seq.clone());
        if i >= 2 {
            // The same with a skiplist-encoded sorted set.
            seq.insert(
                0,
                strs(&["CONFIG", "SET", "zset-max-listpack-entries", "0"]),
            );
            seqs.push(seq);
        }
    }
    assert_no_diffs(diff_owned(&p, &seqs));
}

/// Unsorted hashtable sets come out in hash-table order: compared as sets.
#[test]
fn unsorted_hashtable_set_membership() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[&[
        &["SADD", "s", "pear", "fig", "apple", "10", "9", "kiwi"],
        &["~sorted", "SORT", "s", "BY", "nosort"],
        &["~sorted", "SORT", "s", "BY", "nosort", "DESC"],
        &["~sorted", "SORT", "s", "BY", "nosort", "GET", "#"],
        &["SORT", "s", "BY", "nosort", "LIMIT", "0", "0"],
    ]];
    assert_no_diffs(p.diff(seqs));
}

/// Weights read as C `strtod` reads them.
#[test]
fn weight_conversions() {
    let p = pair!();
    let weights = [
        "1e-310",
        "1e-400",
        "4.9e-324",
        "0x10",
        " 5",
        "\t7",
        "5 ",
        "",
        "inf",
        "-infinity",
        "INF",
        "nan",
        "-nan",
        "0x",
        "1e",
        ".5",
        "5.",
        "+.5e+1",
        "0x1p-1074",
        "0x1.8p1",
        "2.2250738585072014e-308",
        "2.2250738585072011e-308",
        "1e308",
        "1.8e308",
        "0e-999",
        "0x1p-1080",
        "   ",
        "+",
        "infinit",
        "7\n",
        "0x1P+3",
        "1E3",
        "0X10",
        "1e99999999999999999999",
        "-0",
        "0x.8",
        "9007199254740993",
    ];
    // One sequence (so one connection) per weight: Redis does not clear `errno` before its
    // `strtod`, so after an out-of-range weight its later SORTs may fail as well until
    // something else resets `errno` (accepting a connection does); that is not reproduced.
    let mut seqs = Vec::new();
    for w in weights {
        let mut seq: Vec<Vec<String>> = vec![strs(&["RPUSH", "l", "a", "b", "c"])];
        seq.push(strs(&["SET", "w_a", "1"]));
        seq.push(strs(&["SET", "w_c", "2"]));
        seq.push(strs(&["SET", "w_b", w]));
        seq.push(strs(&["SORT", "l", "BY", "w_*"]));
        seq.push(strs(&["SORT", "l", "BY", "w_*", "DESC", "LIMIT", "0", "2"]));
        seq.push(strs(&["DEL", "e"]));
        seq.push(strs(&["RPUSH", "e", "1", w, "0"]));
        seq.push(strs(&["SORT", "e"]));
        seqs.push(seq);
    }
    assert_no_diffs(diff_owned(&p, &seqs));
}

/// ALPHA sorting by weights with many ties and a LIMIT: Redis's partial quicksort decides
/// where equal elements go, on lists long enough for every branch of it.
#[test]
fn alpha_ties_with_limit() {
    let p = pair!();
    let mut seqs: Vec<Vec<Vec<String>>> = Vec::new();
    for n in [5usize, 7, 8, 12, 40, 41, 60, 130] {
        let mut seq: Vec<Vec<String>> = Vec::new();
        let mut push = strs(&["RPUSH", "l"]);
        push.extend((0..n).map(|i| format!("e{i}")));
        seq.push(push);
        for i in 0..n {
            // Weights with few distinct values, some missing.
            if i % 5 != 3 {
                seq.push(vec![
                    "SET".into(),
                    format!("w_e{i}"),
                    ["b", "a", "c", "b", "a", "b"][(i * 7 + i / 3) % 6].into(),
                ]);
            }
        }
        for (start, count) in [
            (0, 1),
            (0, 3),
            (1, 2),
            (2, 5),
            (n / 2, 3),
            (0, n - 1),
            (1, n),
        ] {
            for desc in [false, true] {
                for store in [false, true] {
                    let mut c = strs(&["SORT", "l", "BY", "w_*", "ALPHA", "LIMIT"]);
                    c.push(start.to_string());
                    c.push(count.to_string());
                    if desc {
                        c.push("DESC".into());
                    }
                    if store {
                        c.extend(strs(&["STORE", "d"]));
                        seq.push(c);
                        seq.push(strs(&["LRANGE", "d", "0", "-1"]));
                    } else {
                        seq.push(c);
                    }
                }
            }
        }
        // Full sorts are stable.
        seq.push(strs(&["SORT", "l", "BY", "w_*", "ALPHA"]));
        seq.push(strs(&["SORT", "l", "BY", "w_*", "ALPHA", "DESC"]));
        seq.push(strs(&[
            "SORT",
            "l",
            "BY",
            "missing_*",
            "ALPHA",
            "LIMIT",
            "1",
            "3",
        ]));
        seq.push(strs(&["SORT", "l", "BY", "w_*", "LIMIT", "1", "4"]));
        seqs.push(seq);
    }
    assert_no_diffs(diff_owned(&p, &seqs));
}

/// Elements and weights with NUL bytes: `strcoll` stops at the NUL, STORE compares binary.
#[test]
fn binary_elements() {
    let Some(real) = RealRedis::start(&[]) else {
        return;
    };
    let ours = Server::start(&[]);
    let script: Vec<Vec<&[u8]>> = vec![
        vec![
            b"RPUSH", b"l", b"a\0c", b"a\0b", b"a", b"a\0a", b"b\0", b"\xff", b"A",
        ],
        vec![b"SORT", b"l", b"ALPHA"],
        vec![b"SORT", b"l", b"ALPHA", b"DESC"],
        vec![b"SORT", b"l", b"ALPHA", b"STORE", b"d"],
        vec![b"LRANGE", b"d", b"0", b"-1"],
        vec![b"SET", b"w_a\0c", b"x\0b"],
        vec![b"SET", b"w_a\0b", b"x\0a"],
        vec![b"SET", b"w_a", b"x"],
        vec![b"SET", b"w_A", b"12\0x"],
        vec![b"SORT", b"l", b"BY", b"w_*", b"ALPHA"],
        vec![b"SORT", b"l", b"BY", b"w_*", b"ALPHA", b"STORE", b"d"],
        vec![b"LRANGE", b"d", b"0", b"-1"],
        vec![b"SORT", b"l", b"BY", b"w_*", b"GET", b"#"],
        vec![b"RPUSH", b"n", b"3", b"A"],
        vec![b"SORT", b"n", b"BY", b"w_*"],
        vec![b"SORT", b"n", b"BY", b"w_\0*"],
        vec![
            b"SORT", b"n", b"GET", b"w_*\0", b"GET", b"#\0x", b"BY", b"nosort",
        ],
    ];
    for resp3 in [false, true] {
        let mut conns: Vec<Raw> = [ours.port, real.port]
            .iter()
            .map(|&port| {
                let mut c = Raw::connect(port);
                c.call(&["FLUSHALL"]);
                if resp3 {
                    c.call(&["HELLO", "3"]);
                }
                c
            })
            .collect();
        for cmd in &script {
            let a = conns[0].call(cmd);
            let b = conns[1].call(cmd);
            assert_eq!(
                (show(&a.value), &a.sig),
                (show(&b.value), &b.sig),
                "RESP{} {:?}",
                if resp3 { 3 } else { 2 },
                cmd.iter()
                    .map(|x| String::from_utf8_lossy(x).into_owned())
                    .collect::<Vec<_>>()
            );
        }
    }
}

#[test]
fn command_metadata() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[&[
        &["COMMAND", "GETKEYS", "SORT", "k"],
        &["COMMAND", "GETKEYS", "SORT", "k", "STORE", "d"],
        &[
            "COMMAND", "GETKEYS", "SORT", "k", "LIMIT", "0", "1", "STORE", "d", "ALPHA",
        ],
        &[
            "COMMAND", "GETKEYS", "SORT", "k", "STORE", "d1", "BY", "x", "store", "d2",
        ],
        &["COMMAND", "GETKEYS", "SORT", "k", "GET", "STORE", "x"],
        &["COMMAND", "GETKEYS", "SORT", "k", "STORE"],
        &["COMMAND", "GETKEYS", "SORT_RO", "k", "ALPHA"],
    ]];
    assert_no_diffs(p.diff(seqs));
    // Name, arity, flags and key range of COMMAND INFO (the first six fields).
    for name in ["sort", "sort_ro"] {
        let info = |port: u16| {
            let r = Raw::connect(port).call(&["COMMAND", "INFO", name]);
            match r.value {
                redis::Value::Array(mut a) => match a.pop() {
                    Some(redis::Value::Array(f)) => {
                        f.iter().take(6).map(show).collect::<Vec<_>>().join(" ")
                    }
                    other => format!("{other:?}"),
                },
                other => format!("{other:?}"),
            }
        };
        assert_eq!(info(p.ours.port), info(p.real.port), "COMMAND INFO {name}");
    }
}

/// `sortstore` / `del` keyspace events and the dirty counter.
#[test]
fn events_and_dirty_counter() {
    let p = pair!();
    fn transcript(port: u16) -> Vec<String> {
        let mut admin = Raw::connect(port);
        admin.call(&["FLUSHALL"]);
        admin.call(&["CONFIG", "SET", "notify-keyspace-events", "Elg"]);
        let mut sub = Raw::connect(port);
        sub.call(&["PSUBSCRIBE", "__keyevent@0__:*"]);
        let dirty = |c: &mut Raw| -> i64 {
            let r = c.call(&["INFO", "persistence"]);
            let text = text_of(&r.value).unwrap_or_default();
            text.lines()
                .find_map(|l| l.strip_prefix("rdb_changes_since_last_save:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(-1)
        };
        let cmds: &[&[&str]] = &[
            &["RPUSH", "l", "3", "1", "2"],
            &["SORT", "l", "STORE", "d"],
            &["SORT", "l", "GET", "#", "GET", "x_*", "STORE", "d"],
            &["SORT", "l", "LIMIT", "0", "0", "STORE", "d"],
            &["SORT", "l", "LIMIT", "0", "0", "STORE", "d"],
            &["SORT", "l"],
            &["SORT_RO", "l"],
            &["PUBLISH", "__keyevent@0__:end", "x"],
        ];
        let mut t = Vec::new();
        for c in cmds {
            let before = dirty(&mut admin);
            admin.call(c);
            let after = dirty(&mut admin);
            t.push(format!("{}: dirty +{}", c.join(" "), after - before));
        }
        t.extend(read_until_end_marker(&mut sub));
        admin.call(&["CONFIG", "SET", "notify-keyspace-events", ""]);
        t
    }
    let real = transcript(p.real.port);
    let ours = transcript(p.ours.port);
    assert_eq!(ours, real, "transcripts differ (left: ours, right: Redis)");
    assert!(real.iter().any(|l| l.contains("sortstore")));
}

/// WATCHed destination keys are touched by STORE (and by its deletion), not by a plain SORT.
#[test]
fn store_breaks_watch() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[&[
        &["RPUSH", "l", "2", "1"],
        &["SET", "d", "x"],
        &["WATCH", "d", "l"],
        &["SORT", "l"],
        &["MULTI"],
        &["PING"],
        &["EXEC"],
        &["WATCH", "d"],
        &["SORT", "l", "STORE", "d"],
        &["MULTI"],
        &["PING"],
        &["EXEC"],
        &["WATCH", "d"],
        &["SORT", "l", "LIMIT", "0", "0", "STORE", "d"],
        &["MULTI"],
        &["PING"],
        &["EXEC"],
        &["WATCH", "d"],
        &["SORT", "l", "LIMIT", "0", "0", "STORE", "d"],
        &["MULTI"],
        &["PING"],
        &["EXEC"],
    ]];
    assert_no_diffs(p.diff(seqs));
}

/// Random data and random option combinations, every reply compared with Redis.
#[test]
fn random_sorts_match_redis() {
    let p = pair!();
    let seed: u64 = std::env::var("SORT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_5047);
    let mut rng = SmallRng::seed_from_u64(seed);
    let values = [
        "0", "1", "-1", "2", "10", "3.5", "-0", "1e3", "007", "abc", "Abc", "b", "", "x y", "9",
        "100", "-7.25", "inf", "zz", "a",
    ];
    let numeric_values = [
        "0", "1", "-1", "2", "10", "3.5", "-0", "1e3", "007", "9", "-7.25",
    ];
    let mut seqs: Vec<Vec<Vec<String>>> = Vec::new();
    for round in 0..40 {
        let mut seq: Vec<Vec<String>> = Vec::new();
        // kind: 0 list, 1 intset, 2 hashtable set, 3 zset (small), 4 zset (skiplist).
        let kind = round % 5;
        let n = rng.gen_range(0..30);
        let mut members: Vec<String> = Vec::new();
        match kind {
            0 => {
                for _ in 0..n {
                    let v = if rng.gen_bool(0.5) {
                        numeric_values[rng.gen_range(0..numeric_values.len())]
                    } else {
                        values[rng.gen_range(0..values.len())]
                    };
                    members.push(v.to_string());
                }
                if !members.is_empty() {
                    let mut c = strs(&["RPUSH", "k"]);
                    c.extend(members.iter().cloned());
                    seq.push(c);
                }
            }
            1 | 2 => {
                for _ in 0..n {
                    let v = if kind == 1 || rng.gen_bool(0.3) {
                        rng.gen_range(-50..50).to_string()
                    } else {
                        format!("m{}", rng.gen_range(0..60))
                    };
                    if !members.contains(&v) {
                        members.push(v);
                    }
                }
                if !members.is_empty() {
                    let mut c = strs(&["SADD", "k"]);
                    c.extend(members.iter().cloned());
                    seq.push(c);
                }
            }
            _ => {
                let max = if kind == 4 { "2" } else { "128" };
                seq.push(strs(&["CONFIG", "SET", "zset-max-listpack-entries", max]));
                let mut c = strs(&["ZADD", "k"]);
                for _ in 0..n {
                    let m = if rng.gen_bool(0.5) {
                        rng.gen_range(-20..20).to_string()
                    } else {
                        format!("z{}", rng.gen_range(0..40))
                    };
                    if !members.contains(&m) {
                        c.push(rng.gen_range(-5..5).to_string());
                        c.push(m.clone());
                        members.push(m);
                    }
                }
                if !members.is_empty() {
                    seq.push(c);
                }
            }
        }
        // Weights: `w_*` strings (some missing, repeated, non-numeric on lists), `h_*->f`
        // hash fields, and `u_*` with a distinct value for every member.
        for (i, m) in members.iter().enumerate() {
            if kind == 0 || rng.gen_bool(0.8) {
                let w = if kind == 0 {
                    values[rng.gen_range(0..values.len())]
                } else {
                    numeric_values[rng.gen_range(0..numeric_values.len())]
                };
                if rng.gen_bool(0.85) {
                    seq.push(vec!["SET".into(), format!("w_{m}"), w.into()]);
                }
            }
            if rng.gen_bool(0.7) {
                seq.push(vec![
                    "HSET".into(),
                    format!("h_{m}"),
                    "f".into(),
                    numeric_values[rng.gen_range(0..numeric_values.len())].into(),
                ]);
            }
            seq.push(vec![
                "SET".into(),
                format!("u_{m}"),
                format!("u{:03}", i * 7 % 101),
            ]);
        }
        let ordered_load = kind == 0 || kind == 1;
        for _ in 0..25 {
            let ro = rng.gen_bool(0.3);
            let mut c = strs(&[if ro { "SORT_RO" } else { "SORT" }, "k"]);
            let alpha = rng.gen_bool(0.4);
            let by = match rng.gen_range(0..6) {
                0 => Some("w_*"),
                1 => Some("h_*->f"),
                2 => Some("nosort"),
                3 => Some("u_*"),
                _ => None,
            };
            // Ties between weights come out in load order, which is the hash table's for
            // hashtable sets and sorted sets: only distinct weights there.
            let by = match by {
                Some("w_*" | "h_*->f") if alpha && !ordered_load => Some("u_*"),
                b => b,
            };
            let mut store = !ro && rng.gen_bool(0.3);
            let unordered = by == Some("nosort") && kind == 2 && !store;
            let mut opts: Vec<Vec<String>> = Vec::new();
            if let Some(b) = by {
                opts.push(strs(&["BY", b]));
            }
            if alpha {
                opts.push(strs(&["ALPHA"]));
            }
            if rng.gen_bool(0.4) {
                opts.push(strs(&[if rng.gen_bool(0.5) { "DESC" } else { "ASC" }]));
            }
            if !unordered && rng.gen_bool(0.5) {
                let start = rng.gen_range(-3..n as i64 + 3);
                let count = rng.gen_range(-2..n as i64 + 3);
                opts.push(vec!["LIMIT".into(), start.to_string(), count.to_string()]);
            }
            for _ in 0..rng.gen_range(0..3) {
                let g = ["#", "w_*", "h_*->f", "u_*", "nosuch_*", "const"][rng.gen_range(0..6)];
                opts.push(strs(&["GET", g]));
            }
            if store && rng.gen_bool(0.2) {
                // A second STORE: the last one wins.
                opts.push(strs(&["STORE", "other"]));
            }
            // Options in random order.
            while !opts.is_empty() {
                let i = rng.gen_range(0..opts.len());
                c.extend(opts.remove(i));
            }
            if store {
                c.extend(strs(&["STORE", "dest"]));
            }
            if unordered {
                c.insert(0, "~sorted".into());
                store = false;
            }
            seq.push(c);
            if store {
                seq.push(strs(&["LRANGE", "dest", "0", "-1"]));
                seq.push(strs(&["EXISTS", "other"]));
            }
        }
        seqs.push(seq);
    }
    let diffs = diff_owned(&p, &seqs);
    assert!(diffs.is_empty(), "seed {seed}: {}", diffs.join("\n"));
}
