//! Generic key commands, differentially against a real Redis 7.0, in RESP2 and RESP3.

#[macro_use]
mod common;
use common::*;
use std::time::Duration;

#[test]
fn del_exists_type_keys() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[&[
        &[
            "MSET", "a", "1", "b", "2", "c", "3", "hello", "x", "hallo", "x", "hxllo", "x",
        ],
        &[
            "MSET", "hllo", "x", "heeeello", "x", "h*llo", "x", "h[a]llo", "x", "Hello", "x",
        ],
        &["EXISTS", "a", "a", "nope", "b"],
        &["EXISTS", "nope"],
        &["DEL", "a", "a", "nope"],
        &["UNLINK", "b", "nope"],
        &["EXISTS", "a", "b"],
        &["DEL"],
        &["UNLINK"],
        &["EXISTS"],
        &["TYPE", "c"],
        &["TYPE", "nope"],
        &["TYPE"],
        &["TYPE", "a", "b"],
        &["~sorted", "KEYS", "*"],
        &["~sorted", "KEYS", "h?llo"],
        &["~sorted", "KEYS", "h*llo"],
        &["~sorted", "KEYS", "h[ae]llo"],
        &["~sorted", "KEYS", "h[^e]llo"],
        &["~sorted", "KEYS", "h[a-b]llo"],
        &["~sorted", "KEYS", "h\\*llo"],
        &["~sorted", "KEYS", "h\\[a\\]llo"],
        &["~sorted", "KEYS", "[Hh]ello"],
        &["~sorted", "KEYS", "nomatch*"],
        &["~sorted", "KEYS", ""],
        &["~sorted", "KEYS", "c"],
        &["~sorted", "KEYS", "h[a"],
        &["~sorted", "KEYS", "h[]llo"],
        &["KEYS"],
        &["KEYS", "a", "b"],
        &["TOUCH", "c", "nope", "c"],
        &["SET", "t", "v", "PX", "1"],
        &["SET", "ok", "v"],
        &["DEBUG", "SLEEP", "0"],
    ]];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn scan_options_and_errors() {
    let p = pair!();
    let mut setup: Vec<String> = vec!["MSET".into()];
    for i in 0..30 {
        setup.push(format!("key:{i}"));
        setup.push(i.to_string());
    }
    setup.push("other".into());
    setup.push("x".into());
    let setup_ref: Vec<&str> = setup.iter().map(|s| s.as_str()).collect();
    let seq: Vec<&[&str]> = vec![
        &setup_ref,
        // A full iteration with a huge COUNT returns everything at once (order differs).
        &["~sorted", "SCAN", "0", "COUNT", "1000"],
        &["~sorted", "SCAN", "0", "COUNT", "1000", "MATCH", "key:1*"],
        &["~sorted", "SCAN", "0", "MATCH", "oth*", "COUNT", "1000"],
        &["~sorted", "SCAN", "0", "COUNT", "1000", "TYPE", "string"],
        &["~sorted", "SCAN", "0", "COUNT", "1000", "TYPE", "STRING"],
        &["~sorted", "SCAN", "0", "COUNT", "1000", "TYPE", "list"],
        &[
            "~sorted",
            "SCAN",
            "0",
            "COUNT",
            "1000",
            "TYPE",
            "nosuchtype",
        ],
        &[
            "~sorted", "SCAN", "0", "COUNT", "1000", "MATCH", "*", "MATCH", "other",
        ],
        &["~any", "SCAN", "0"],
        &["SCAN", "abc"],
        &["~any", "SCAN", "-1"],
        &["SCAN", "1.5"],
        &["~any", "SCAN", ""],
        &["~any", "SCAN", "+0"],
        &["~any", "SCAN", "-0"],
        &["SCAN", " 0"],
        &["SCAN", "0 "],
        &["SCAN", "-"],
        &["SCAN", "+"],
        &["~any", "SCAN", "18446744073709551615"],
        &["~any", "SCAN", "-18446744073709551615"],
        &["SCAN", "-18446744073709551616"],
        &["SCAN", "18446744073709551616"],
        &["SCAN", "0", "COUNT", "0"],
        &["SCAN", "0", "COUNT", "-1"],
        &["SCAN", "0", "COUNT", "abc"],
        &["SCAN", "0", "COUNT"],
        &["SCAN", "0", "MATCH"],
        &["SCAN", "0", "TYPE"],
        &["SCAN", "0", "FOO", "bar"],
        &["SCAN", "0", "FOO"],
        &["SCAN"],
    ];
    assert_no_diffs(p.diff(&[&seq]));
}

#[test]
fn scan_full_iteration_finds_every_key() {
    let p = pair!();
    for port in [p.ours.port, p.real.port] {
        let mut c = Raw::connect(port);
        c.call(&["FLUSHALL"]);
        for i in 0..200 {
            c.call(&["SET", &format!("k{i}"), "v"]);
        }
        let mut cursor = "0".to_string();
        let mut seen = std::collections::HashSet::new();
        loop {
            let r = c.call(&["SCAN", &cursor, "COUNT", "7"]).value;
            let redis::Value::Array(parts) = r else {
                panic!("bad scan reply")
            };
            cursor = text_of(&parts[0]).unwrap();
            if let redis::Value::Array(keys) = &parts[1] {
                for k in keys {
                    seen.insert(text_of(k).unwrap());
                }
            }
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 200, "port {port}");
    }
}

#[test]
fn rename_copy_move() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[
        &[
            &["SET", "a", "1"],
            &["RENAME", "a", "b"],
            &["EXISTS", "a", "b"],
            &["RENAME", "a", "b"],
            &["RENAME", "b", "b"],
            &["RENAMENX", "b", "b"],
            &["RENAME", "missing", "missing"],
            &["RENAMENX", "missing", "x"],
            &["SET", "c", "3"],
            &["RENAMENX", "b", "c"],
            &["RENAMENX", "b", "d"],
            &["MGET", "b", "c", "d"],
            &["SET", "e", "5", "EX", "100"],
            &["RENAME", "e", "f"],
            &["TTL", "f"],
            &["SET", "g", "7"],
            &["RENAME", "g", "f"],
            &["TTL", "f"],
            &["RENAME", "a"],
            &["RENAMENX", "a", "b", "c"],
        ],
        &[
            &["SET", "a", "1", "EX", "100"],
            &["COPY", "a", "b"],
            &["TTL", "b"],
            &["COPY", "a", "b"],
            &["COPY", "a", "b", "REPLACE"],
            &["COPY", "a", "a"],
            &["COPY", "a", "a", "REPLACE"],
            &["COPY", "missing", "x"],
            &["COPY", "a", "a", "DB", "0"],
            &["COPY", "a", "a", "DB", "1"],
            &["COPY", "a", "a", "DB", "1"],
            &["COPY", "a", "a", "DB", "1", "REPLACE"],
            &["COPY", "a", "z", "DB", "16"],
            &["COPY", "a", "z", "DB", "-1"],
            &["COPY", "a", "z", "DB", "abc"],
            &["COPY", "a", "z", "DB"],
            &["COPY", "a", "z", "FOO"],
            &["COPY", "a", "z", "REPLACE", "REPLACE"],
            &["COPY", "a", "z", "DB", "2", "DB", "3"],
            &["SELECT", "1"],
            &["GET", "a"],
            &["TTL", "a"],
            &["SELECT", "3"],
            &["GET", "z"],
            &["SELECT", "0"],
            &["COPY", "a"],
        ],
        &[
            &["SET", "a", "1", "EX", "100"],
            &["MOVE", "a", "1"],
            &["EXISTS", "a"],
            &["MOVE", "a", "1"],
            &["SELECT", "1"],
            &["TTL", "a"],
            &["MOVE", "a", "1"],
            &["MOVE", "a", "16"],
            &["MOVE", "a", "-1"],
            &["MOVE", "a", "abc"],
            &["MOVE", "missing", "0"],
            &["SET", "b", "x"],
            &["SELECT", "0"],
            &["SET", "b", "y"],
            &["MOVE", "b", "1"],
            &["MOVE", "missing", "1"],
            &["MOVE", "a"],
            &["SELECT", "16"],
            &["SELECT", "-1"],
            &["SELECT", "abc"],
            &["SELECT", "1.0"],
            &["SELECT"],
        ],
    ];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn databases_and_flush() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[&[
        &["SET", "a", "0"],
        &["SELECT", "1"],
        &["SET", "b", "1"],
        &["SET", "c", "1"],
        &["DBSIZE"],
        &["SWAPDB", "0", "1"],
        &["DBSIZE"],
        &["GET", "a"],
        &["SELECT", "0"],
        &["DBSIZE"],
        &["SWAPDB", "0", "16"],
        &["SWAPDB", "-1", "0"],
        &["SWAPDB", "abc", "0"],
        &["SWAPDB", "0", "abc"],
        &["SWAPDB", "0", "0"],
        &["SWAPDB", "0"],
        &["DBSIZE", "x"],
        &["~any", "RANDOMKEY"],
        &["FLUSHDB", "SYNC"],
        &["DBSIZE"],
        &["RANDOMKEY"],
        &["SELECT", "1"],
        &["DBSIZE"],
        &["FLUSHDB", "ASYNC"],
        &["FLUSHDB", "FOO"],
        &["FLUSHDB", "ASYNC", "SYNC"],
        &["FLUSHALL", "FOO"],
        &["FLUSHALL", "ASYNC", "ASYNC"],
        &["SET", "x", "1"],
        &["FLUSHALL", "ASYNC"],
        &["DBSIZE"],
        &["SET", "x", "1"],
        &["FLUSHALL", "sync"],
        &["FLUSHALL"],
        &["FLUSHDB"],
        &["SET", "only", "1"],
        &["RANDOMKEY"],
    ]];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn expire_family() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[
        &[
            &["SET", "k", "v"],
            &["EXPIRE", "k", "100"],
            &["TTL", "k"],
            &["~approx", "PTTL", "k"],
            &["EXPIRE", "k", "200", "NX"],
            &["EXPIRE", "k", "200", "XX"],
            &["TTL", "k"],
            &["EXPIRE", "k", "100", "GT"],
            &["EXPIRE", "k", "300", "GT"],
            &["TTL", "k"],
            &["EXPIRE", "k", "400", "LT"],
            &["EXPIRE", "k", "50", "LT"],
            &["TTL", "k"],
            &["PERSIST", "k"],
            &["PERSIST", "k"],
            &["TTL", "k"],
            &["EXPIRE", "k", "100", "XX"],
            &["EXPIRE", "k", "100", "GT"],
            &["EXPIRE", "k", "100", "LT"],
            &["TTL", "k"],
            &["PERSIST", "k"],
            &["EXPIRE", "k", "100", "NX"],
            &["EXPIRE", "k", "100", "NX", "XX"],
            &["EXPIRE", "k", "100", "NX", "GT"],
            &["EXPIRE", "k", "100", "GT", "LT"],
            &["EXPIRE", "k", "50", "XX", "GT"],
            &["EXPIRE", "k", "50", "XX", "LT"],
            &["TTL", "k"],
            &["EXPIRE", "k", "100", "FOO"],
            &["EXPIRE", "k", "100", "nx", "nx"],
            &["EXPIRE", "k", "abc"],
            &["EXPIRE", "k", "1.5", "BOGUS"],
            &["PEXPIREAT", "k", "abc", "NX", "XX"],
            &["EXPIRE", "k", "1.5"],
            &["EXPIRE", "k", "9223372036854775807"],
            &["EXPIRE", "k", "-9223372036854775808"],
            &["PEXPIRE", "k", "9223372036854775807"],
            &["EXPIREAT", "k", "9223372036854775807"],
            &["PEXPIREAT", "k", "9223372036854775807"],
            &["EXPIRE", "k", "922337203685477580"],
            &["EXPIRE", "missing", "100"],
            &["EXPIRE", "missing", "abc"],
            &["EXPIRE", "missing", "100", "FOO"],
            &["TTL", "missing"],
            &["PTTL", "missing"],
            &["EXPIRETIME", "missing"],
            &["PEXPIRETIME", "missing"],
            &["PERSIST", "missing"],
            &["EXPIRE", "k"],
            &["TTL"],
            &["PERSIST", "a", "b"],
        ],
        &[
            &["SET", "k", "v"],
            &["EXPIREAT", "k", "4000000000"],
            &["EXPIRETIME", "k"],
            &["PEXPIRETIME", "k"],
            &["PEXPIREAT", "k", "4000000000500"],
            &["EXPIRETIME", "k"],
            &["PEXPIRETIME", "k"],
            &["PEXPIRE", "k", "100000"],
            &["~approx", "PTTL", "k"],
            &["TTL", "k"],
            &["EXPIRETIME", "k"] as &[&str],
            &["PEXPIREAT", "k", "4000000000500", "LT"],
            &["PEXPIREAT", "k", "4000000000500", "GT"],
            &["PEXPIRETIME", "k"],
            &["EXPIRE", "k", "0"],
            &["EXISTS", "k"],
            &["SET", "k", "v"],
            &["EXPIRE", "k", "-1"],
            &["EXISTS", "k"],
            &["SET", "k", "v"],
            &["PEXPIRE", "k", "-100"],
            &["EXISTS", "k"],
            &["SET", "k", "v"],
            &["EXPIREAT", "k", "1"],
            &["EXISTS", "k"],
            &["SET", "k", "v"],
            &["EXPIREAT", "k", "0", "GT"],
            &["EXISTS", "k"],
            &["EXPIREAT", "k", "0", "LT"],
            &["EXISTS", "k"],
            &["SET", "k", "v", "EX", "100"],
            &["EXPIRE", "k", "-1", "GT"],
            &["TTL", "k"],
            &["EXPIRE", "k", "-1", "LT"],
            &["EXISTS", "k"],
            &["SET", "k", "v"],
            &["EXPIRE", "k", "-1", "XX"],
            &["EXISTS", "k"],
            &["EXPIRE", "k", "-1", "NX"],
            &["EXISTS", "k"],
        ],
    ];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn object_subcommands() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[&[
        &["SET", "k", "abc"],
        &["OBJECT", "ENCODING", "k"],
        &["OBJECT", "ENCODING", "missing"],
        &["OBJECT", "REFCOUNT", "k"],
        &["OBJECT", "REFCOUNT", "missing"],
        &["OBJECT", "IDLETIME", "k"],
        &["OBJECT", "IDLETIME", "missing"],
        &["OBJECT", "FREQ", "k"],
        &["OBJECT", "FREQ", "missing"],
        &["OBJECT", "HELP"],
        &["OBJECT", "help"],
        &["OBJECT", "HELP", "x"],
        &["OBJECT", "FOO"],
        &["OBJECT", "FOO", "k"],
        &["OBJECT", "ENCODING"],
        &["OBJECT", "ENCODING", "k", "x"],
        &["OBJECT", "IDLETIME"],
        &["OBJECT"],
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
        &["~any", "OBJECT", "FREQ", "k"],
        &["OBJECT", "FREQ", "missing"],
        &["OBJECT", "IDLETIME", "k"],
        &["OBJECT", "IDLETIME", "missing"],
        &["CONFIG", "SET", "maxmemory-policy", "noeviction"],
        &["SET", "n", "5"],
        &["OBJECT", "REFCOUNT", "n"],
        &["SET", "n", "10000"],
        &["OBJECT", "REFCOUNT", "n"],
    ]];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn arity_texts() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[&[
        &["RENAME"],
        &["COPY", "a"],
        &["MOVE"],
        &["EXPIRE"],
        &["PEXPIRE", "a"],
        &["EXPIREAT", "a"],
        &["PEXPIREAT"],
        &["PTTL"],
        &["EXPIRETIME"],
        &["PEXPIRETIME", "a", "b"],
        &["SWAPDB"],
        &["RANDOMKEY", "x"],
        &["TOUCH"],
        &["SCAN"],
    ]];
    assert_no_diffs(p.diff(seqs));
}

/// FLUSHALL and FLUSHDB free the old data before replying unless asked for ASYNC (or
/// `lazyfree-lazy-user-flush yes`), as Redis does.
#[test]
fn flush_frees_before_replying_unless_async() {
    let server = Server::start(&["--enable-debug-command", "yes"]);
    let mut c = server.conn();
    let used = |c: &mut redis::Connection| info_int(c, "memory", "used_memory");
    let empty = used(&mut c);
    for (flush, mode) in [("FLUSHALL", None), ("FLUSHDB", Some("SYNC"))] {
        let _: () = redis::cmd("DEBUG")
            .arg("POPULATE")
            .arg(200_000)
            .query(&mut c)
            .unwrap();
        let full = used(&mut c);
        assert!(full > empty + 10_000_000, "{full} after populating");
        let mut cmd = redis::cmd(flush);
        if let Some(m) = mode {
            cmd.arg(m);
        }
        let _: () = cmd.query(&mut c).unwrap();
        let after = used(&mut c);
        assert!(
            after < empty + (full - empty) / 10,
            "{flush} {mode:?} replied with {after} bytes in use ({empty} empty, {full} full)"
        );
    }
    // ASYNC (and the lazy config) still empty the keyspace at once.
    for (config, flush) in [("no", vec!["FLUSHALL", "ASYNC"]), ("yes", vec!["FLUSHDB"])] {
        let _: () = redis::cmd("CONFIG")
            .arg("SET")
            .arg("lazyfree-lazy-user-flush")
            .arg(config)
            .query(&mut c)
            .unwrap();
        let _: () = redis::cmd("DEBUG")
            .arg("POPULATE")
            .arg(50_000)
            .query(&mut c)
            .unwrap();
        let _: () = redis::cmd(flush[0]).arg(&flush[1..]).query(&mut c).unwrap();
        let n: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
        assert_eq!(n, 0, "{flush:?} with lazyfree-lazy-user-flush {config}");
    }
}

/// UNLINK, FLUSHALL ASYNC and DEL under `lazyfree-lazy-user-del yes` hand large values to the
/// lazyfree thread, and INFO `lazyfreed_objects` counts what it freed exactly as Redis 7.0
/// counts it (a value of more than 64 allocations; a flushed database's keys); DEL and a plain
/// FLUSHALL free before replying, and a small value is freed in place. Before, UNLINK freed a
/// big set on the event loop (186 ms for 2M members while every client waited) and the
/// counters read 0.
#[test]
fn unlink_and_async_flush_free_large_values_in_the_background() {
    let p = pair!();
    let members: Vec<String> = (0..1000).map(|i| format!("member:{i}")).collect();
    let steps: &[&[&str]] = &[
        &["SADD", "small", "a", "b", "c"],
        &["UNLINK", "small"],
        &["SADD", "big", "@members"],
        &["UNLINK", "big"],
        &["SADD", "big", "@members"],
        &["DEL", "big"],
        &["CONFIG", "SET", "lazyfree-lazy-user-del", "yes"],
        &["SADD", "big", "@members"],
        &["DEL", "big"],
        &["SADD", "big", "@members"],
        &["MSET", "a", "1", "b", "2", "c", "3"],
        &["FLUSHALL", "ASYNC"],
        &["SADD", "big", "@members"],
        &["FLUSHALL"],
    ];
    let readings = |port: u16| -> Vec<i64> {
        let mut c = conn(port);
        let mut seen = Vec::new();
        for step in steps {
            let mut cmd = redis::cmd(step[0]);
            for a in &step[1..] {
                match *a {
                    "@members" => cmd.arg(&members),
                    a => cmd.arg(a),
                };
            }
            let _: redis::Value = cmd.query(&mut c).unwrap();
            // Wait for the lazyfree thread to finish what it was handed.
            assert!(wait_until(Duration::from_secs(5), || info_int(
                &mut c,
                "memory",
                "lazyfree_pending_objects"
            ) == 0));
            seen.push(info_int(&mut c, "memory", "lazyfreed_objects"));
        }
        seen
    };
    let ours = readings(p.ours.port);
    assert_eq!(ours, readings(p.real.port));
    assert_eq!(
        ours.last(),
        Some(&6),
        "UNLINK, lazy DEL, FLUSHALL ASYNC of 4 keys"
    );
}
