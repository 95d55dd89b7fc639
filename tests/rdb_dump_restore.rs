//! DUMP and RESTORE against a real Redis 7.0.15: payloads DUMPed by Redis RESTORE into Resplica
//! and the other way round for every type and encoding (contents and OBJECT ENCODING compared),
//! payloads are byte-identical wherever Redis's layout is deterministic, and every RESTORE
//! option and error answers as Redis does.

mod common;
use common::*;
use redis::Value as V;
use std::time::Duration;

/// Commands building one key of every type and encoding.
fn population() -> Vec<Vec<Vec<u8>>> {
    let mut cmds: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut c = |args: &[&[u8]]| cmds.push(args.iter().map(|a| a.to_vec()).collect());
    let hundred = vec![b'a'; 100];
    let big = b"0123456789".repeat(3000);
    c(&[b"SET", b"str:small", b"hello"]);
    c(&[b"SET", b"str:empty", b""]);
    c(&[b"SET", b"str:int", b"-12345"]);
    c(&[b"SET", b"str:int64", b"12345678901234"]);
    c(&[b"SET", b"str:zeros", b"007"]);
    c(&[b"SET", b"str:lzf", &hundred]);
    c(&[b"SET", b"str:big", &big]);
    c(&[b"SET", b"str:bin", b"\x00\xff\r\n"]);
    c(&[
        b"RPUSH",
        b"list:small",
        b"a",
        b"b",
        b"1",
        b"2",
        b"-100",
        b"70000",
    ]);
    c(&[b"LPUSH", b"list:long-elem", &hundred, b"", &big]);
    c(&[
        b"HSET",
        b"hash:small",
        b"f1",
        b"v1",
        b"f2",
        b"2",
        b"f3",
        b"-3",
    ]);
    c(&[b"HSET", b"hash:long", b"f", &hundred]);
    c(&[b"SADD", b"set:i16", b"1", b"2", b"3"]);
    c(&[b"SADD", b"set:i64", b"1", b"-7", b"70000", b"5000000000"]);
    c(&[b"SADD", b"set:str", b"a", b"b", b"c"]);
    c(&[
        b"ZADD",
        b"zset:small",
        b"1",
        b"a",
        b"2.5",
        b"b",
        b"-inf",
        b"c",
        b"inf",
        b"d",
        b"0.1",
        b"e",
        b"1e17",
        b"f",
    ]);
    c(&[b"ZADD", b"zset:long", b"1", &hundred, b"2", b"x"]);
    for i in 0..3000 {
        let n = i.to_string();
        c(&[b"RPUSH", b"list:big", n.as_bytes()]);
        if i < 1000 {
            let f = format!("field:{i}");
            c(&[b"HSET", b"hash:big", f.as_bytes(), n.as_bytes()]);
            c(&[b"SADD", b"set:bigint", n.as_bytes()]);
            c(&[b"SADD", b"set:big", f.as_bytes()]);
        }
        if i < 200 {
            let s = format!("{i}.5");
            let m = format!("m{i}");
            c(&[b"ZADD", b"zset:big", s.as_bytes(), m.as_bytes()]);
        }
    }
    // Removing the wide member keeps the intset at 32-bit width, as in Redis.
    c(&[b"SADD", b"set:shrunk", b"1", b"70000"]);
    c(&[b"SREM", b"set:shrunk", b"70000"]);
    cmds
}

const KEYS: &[&str] = &[
    "str:small",
    "str:empty",
    "str:int",
    "str:int64",
    "str:zeros",
    "str:lzf",
    "str:big",
    "str:bin",
    "list:small",
    "list:long-elem",
    "list:big",
    "hash:small",
    "hash:long",
    "hash:big",
    "set:i16",
    "set:i64",
    "set:str",
    "set:bigint",
    "set:big",
    "set:shrunk",
    "zset:small",
    "zset:long",
    "zset:big",
];

/// Keys whose payload depends on hash-table order.
fn unordered(key: &str) -> bool {
    matches!(
        key,
        "hash:long" | "hash:big" | "set:str" | "set:bigint" | "set:big"
    )
}

fn populate(port: u16) {
    let mut raw = Raw::connect(port);
    raw.call(&["FLUSHALL"]);
    let cmds = population();
    for c in &cmds {
        raw.send(c);
    }
    for _ in &cmds {
        raw.read();
    }
}

/// TYPE, sorted contents, OBJECT ENCODING of a key.
fn describe(raw: &mut Raw, key: &[u8]) -> Vec<redis::Value> {
    let t = raw.call(&[&b"TYPE"[..], key]).value;
    let content = match &t {
        V::SimpleString(s) if s == "string" => raw.call(&[&b"GET"[..], key]).value,
        V::SimpleString(s) if s == "list" => raw.call(&[&b"LRANGE"[..], key, b"0", b"-1"]).value,
        V::SimpleString(s) if s == "set" => sorted(raw.call(&[&b"SMEMBERS"[..], key]).value),
        V::SimpleString(s) if s == "hash" => sorted(pairs(raw.call(&[&b"HGETALL"[..], key]).value)),
        V::SimpleString(s) if s == "zset" => {
            raw.call(&[&b"ZRANGE"[..], key, b"0", b"-1", b"WITHSCORES"])
                .value
        }
        _ => V::Nil,
    };
    let enc = raw.call(&[&b"OBJECT"[..], b"ENCODING", key]).value;
    vec![t, content, enc]
}

/// HGETALL's flat array as an array of [field, value] pairs (so sorting keeps pairs together).
fn pairs(v: redis::Value) -> redis::Value {
    match v {
        V::Array(a) => V::Array(a.chunks(2).map(|c| V::Array(c.to_vec())).collect()),
        other => other,
    }
}

fn bulk(v: redis::Value) -> Vec<u8> {
    match v {
        V::BulkString(b) => b,
        other => panic!("expected a bulk string, got {}", show(&other)),
    }
}

fn transfer(from: u16, to: u16, what: &str) {
    let mut src = Raw::connect(from);
    let mut dst = Raw::connect(to);
    dst.call(&["FLUSHALL"]);
    let mut diffs = Vec::new();
    for key in KEYS {
        let payload = bulk(src.call(&["DUMP", key]).value);
        let r = dst.call(&[&b"RESTORE"[..], key.as_bytes(), b"0", &payload]);
        if r.value != V::Okay {
            diffs.push(format!("RESTORE {key}: {}", show(&r.value)));
            continue;
        }
        let a = describe(&mut src, key.as_bytes());
        let b = describe(&mut dst, key.as_bytes());
        if a != b {
            diffs.push(format!(
                "{key}:\n   source {}\n   target {}",
                show(&V::Array(a)),
                show(&V::Array(b))
            ));
        }
        if !unordered(key) {
            let again = bulk(dst.call(&["DUMP", key]).value);
            if again != payload {
                diffs.push(format!(
                    "{key}: DUMP after RESTORE differs from the original"
                ));
            }
        }
    }
    assert!(diffs.is_empty(), "{what}:\n{}", diffs.join("\n"));
}

#[test]
fn redis_payloads_restore_into_resplica() {
    let Some(p) = Pair::start() else {
        return;
    };
    populate(p.real.port);
    transfer(p.real.port, p.ours.port, "Redis -> Resplica");
}

#[test]
fn resplica_payloads_restore_into_redis() {
    let Some(p) = Pair::start() else {
        return;
    };
    populate(p.ours.port);
    transfer(p.ours.port, p.real.port, "Resplica -> Redis");
}

#[test]
fn payloads_are_identical_to_redis() {
    let Some(p) = Pair::start() else {
        return;
    };
    populate(p.ours.port);
    populate(p.real.port);
    let mut ours = Raw::connect(p.ours.port);
    let mut real = Raw::connect(p.real.port);
    let mut compared = 0;
    for key in KEYS.iter().filter(|k| !unordered(k)) {
        let a = ours.call(&["DUMP", key]).value;
        let b = real.call(&["DUMP", key]).value;
        assert_eq!(a, b, "DUMP {key}");
        compared += 1;
    }
    assert_eq!(compared, 18);
    // With rdbcompression off, strings are never LZF-compressed.
    for c in [&mut ours, &mut real] {
        c.call(&["CONFIG", "SET", "rdbcompression", "no"]);
    }
    for key in ["str:lzf", "str:big", "list:long-elem"] {
        assert_eq!(
            ours.call(&["DUMP", key]).value,
            real.call(&["DUMP", key]).value,
            "DUMP {key} without compression"
        );
    }
}

/// Sends the same commands to both servers and compares replies (`pttl`-like integer replies
/// within 1500 when `approx`).
fn compare(p: &Pair, steps: &[(bool, Vec<Vec<u8>>)]) {
    let mut ours = Raw::connect(p.ours.port);
    let mut real = Raw::connect(p.real.port);
    let mut diffs = Vec::new();
    for (approx, cmd) in steps {
        let a = ours.call(cmd).value;
        let b = real.call(cmd).value;
        let same = match (&a, &b) {
            (V::Int(x), V::Int(y)) if *approx => (x - y).abs() <= 1500,
            _ => a == b,
        };
        if !same {
            let text: Vec<String> = cmd
                .iter()
                .map(|a| {
                    let mut s = String::from_utf8_lossy(a).into_owned();
                    s.truncate(40);
                    s
                })
                .collect();
            diffs.push(format!(
                "{}\n   ours: {}\n   real: {}",
                text.join(" "),
                show(&a),
                show(&b)
            ));
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

fn step(approx: bool, args: &[&[u8]]) -> (bool, Vec<Vec<u8>>) {
    (approx, args.iter().map(|a| a.to_vec()).collect())
}

#[test]
fn restore_options_and_errors_match_redis() {
    let Some(p) = Pair::start() else {
        return;
    };
    let mut real = Raw::connect(p.real.port);
    real.call(&["SET", "src", "value"]);
    let good = bulk(real.call(&["DUMP", "src"]).value);
    real.call(&["RPUSH", "l", "x"]);
    let list = bulk(real.call(&["DUMP", "l"]).value);
    real.call(&["FLUSHALL"]);
    let seal = |mut body: Vec<u8>, version: u16| {
        body.extend_from_slice(&version.to_le_bytes());
        let crc = resplica::rdb::crc64(0, &body);
        body.extend_from_slice(&crc.to_le_bytes());
        body
    };
    let v11 = seal(good[..good.len() - 10].to_vec(), 11);
    let v9 = seal(good[..good.len() - 10].to_vec(), 9);
    let mut bad_crc = good.clone();
    let n = bad_crc.len();
    bad_crc[n - 1] ^= 1;
    // A string running into the footer is read from it, as Redis does; past the end it fails.
    let into_footer = seal(vec![0, 10, b'a'], 10);
    let truncated = seal(vec![0, 0x40, 100, b'a'], 10);
    let empty_list = seal(vec![18, 0], 10);
    let unknown = seal(vec![8, 1, b'a'], 10);
    // Listpacks with elements beyond the *-max-listpack-value limits stay listpacks on load.
    let long_lp = |t: u8, items: &[&[u8]]| {
        let mut lp = resplica::rdb::listpack::Builder::new();
        for i in items {
            lp.push_bytes(i);
        }
        let mut body = vec![t];
        resplica::rdb::writer::put_string(&mut body, &lp.finish(), false);
        seal(body, 10)
    };
    let long = [b'v'; 100];
    let long_hash = long_lp(16, &[b"f", &long]);
    let long_zset = long_lp(17, &[&long, b"1.5"]);
    let now_ms = resplica::store::now_ms();
    let future = (now_ms + 100_000).to_string();
    let past = (now_ms - 100_000).to_string();
    let g = &good[..];
    let steps = vec![
        step(false, &[b"RESTORE", b"k", b"0", g]),
        step(false, &[b"GET", b"k"]),
        step(false, &[b"RESTORE", b"k", b"0", g]),
        step(false, &[b"RESTORE", b"k", b"-1", g]),
        step(false, &[b"RESTORE", b"k", b"-1", g, b"REPLACE"]),
        step(false, &[b"RESTORE", b"k", b"abc", g, b"REPLACE"]),
        step(false, &[b"RESTORE", b"k", b"0", b"garbage", b"REPLACE"]),
        step(false, &[b"RESTORE", b"k", b"0", b"", b"REPLACE"]),
        step(false, &[b"RESTORE", b"k", b"0", &bad_crc, b"REPLACE"]),
        step(false, &[b"RESTORE", b"k", b"0", &v11, b"REPLACE"]),
        step(false, &[b"RESTORE", b"k", b"0", &v9, b"REPLACE"]),
        step(false, &[b"RESTORE", b"k", b"0", &into_footer, b"REPLACE"]),
        step(false, &[b"STRLEN", b"k"]),
        step(false, &[b"RESTORE", b"k", b"0", &truncated, b"REPLACE"]),
        step(false, &[b"RESTORE", b"k", b"0", &empty_list, b"REPLACE"]),
        step(false, &[b"RESTORE", b"k", b"0", &unknown, b"REPLACE"]),
        step(false, &[b"RESTORE", b"k", b"0", g, b"REPLACE", b"BOGUS"]),
        step(false, &[b"RESTORE", b"k", b"0", g, b"REPLACE", b"IDLETIME"]),
        step(
            false,
            &[b"RESTORE", b"k", b"0", g, b"REPLACE", b"IDLETIME", b"-1"],
        ),
        step(
            false,
            &[b"RESTORE", b"k", b"0", g, b"REPLACE", b"IDLETIME", b"x"],
        ),
        step(
            false,
            &[b"RESTORE", b"k", b"0", g, b"REPLACE", b"FREQ", b"256"],
        ),
        step(
            false,
            &[b"RESTORE", b"k", b"0", g, b"REPLACE", b"FREQ", b"-1"],
        ),
        step(
            false,
            &[
                b"RESTORE",
                b"k",
                b"0",
                g,
                b"REPLACE",
                b"IDLETIME",
                b"10",
                b"FREQ",
                b"5",
            ],
        ),
        step(
            false,
            &[b"RESTORE", b"k", b"0", g, b"REPLACE", b"IDLETIME", b"10"],
        ),
        step(
            false,
            &[b"RESTORE", b"k", b"0", g, b"FREQ", b"5", b"replace"],
        ),
        step(false, &[b"RESTORE", b"k"]),
        step(false, &[b"RESTORE", b"k", b"0"]),
        step(false, &[b"RESTORE", b"t", b"5000", g]),
        step(true, &[b"PTTL", b"t"]),
        step(false, &[b"RESTORE", b"a", future.as_bytes(), g, b"ABSTTL"]),
        step(true, &[b"PTTL", b"a"]),
        step(
            false,
            &[b"RESTORE", b"a", past.as_bytes(), g, b"ABSTTL", b"REPLACE"],
        ),
        step(false, &[b"EXISTS", b"a"]),
        step(false, &[b"RESTORE", b"b", past.as_bytes(), g, b"ABSTTL"]),
        step(false, &[b"EXISTS", b"b"]),
        step(false, &[b"RESTORE", b"c", b"0", g, b"ABSTTL"]),
        step(false, &[b"TTL", b"c"]),
        step(false, &[b"RESTORE", b"k", b"0", &list, b"REPLACE"]),
        step(false, &[b"TYPE", b"k"]),
        step(false, &[b"LRANGE", b"k", b"0", b"-1"]),
        step(false, &[b"RESTORE", b"lh", b"0", &long_hash]),
        step(false, &[b"OBJECT", b"ENCODING", b"lh"]),
        step(false, &[b"HGETALL", b"lh"]),
        step(false, &[b"HSET", b"lh", b"g", b"short"]),
        step(false, &[b"OBJECT", b"ENCODING", b"lh"]),
        step(false, &[b"DUMP", b"lh"]),
        step(false, &[b"RESTORE", b"lz", b"0", &long_zset]),
        step(false, &[b"OBJECT", b"ENCODING", b"lz"]),
        step(false, &[b"ZRANGE", b"lz", b"0", b"-1", b"WITHSCORES"]),
        step(false, &[b"ZADD", b"lz", b"2", b"short"]),
        step(false, &[b"OBJECT", b"ENCODING", b"lz"]),
        step(false, &[b"DUMP", b"lz"]),
        step(false, &[b"DUMP", b"nokey"]),
        step(false, &[b"DUMP", b"k"]),
        step(false, &[b"DUMP"]),
        step(false, &[b"DUMP", b"k", b"extra"]),
        step(false, &[b"SET", b"plain", b"x"]),
        step(false, &[b"RESTORE", b"plain", b"0", &list]),
        step(false, &[b"GET", b"plain"]),
    ];
    compare(&p, &steps);
}

#[test]
fn restore_signals_watchers_and_keyspace_events() {
    let Some(p) = Pair::start() else {
        return;
    };
    let payload = {
        let mut real = Raw::connect(p.real.port);
        real.call(&["SET", "src", "value"]);
        bulk(real.call(&["DUMP", "src"]).value)
    };
    for port in [p.ours.port, p.real.port] {
        let mut c = Raw::connect(port);
        c.call(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
        let mut sub = Raw::connect(port);
        sub.call(&["SUBSCRIBE", "__keyspace@0__:k"]);
        // WATCH is broken by RESTORE.
        c.call(&["WATCH", "k"]);
        let mut other = Raw::connect(port);
        let r = other.call(&[&b"RESTORE"[..], b"k", b"0", &payload, b"REPLACE"]);
        assert_eq!(r.value, V::Okay, "port {port}");
        c.call(&["MULTI"]);
        c.call(&["GET", "k"]);
        assert_eq!(
            c.call(&["EXEC"]).value,
            V::Nil,
            "port {port}: WATCH not broken"
        );
        let ev = sub.try_read(Duration::from_secs(5)).map(|r| r.value);
        let expected = V::Array(vec![
            V::BulkString(b"message".to_vec()),
            V::BulkString(b"__keyspace@0__:k".to_vec()),
            V::BulkString(b"restore".to_vec()),
        ]);
        assert_eq!(ev, Some(expected), "port {port}");
    }
}

/// RESTORE IDLETIME sets the idle time OBJECT IDLETIME reports (LRU and the default policy);
/// under an LFU policy FREQ sets the counter OBJECT FREQ reports, a new key starts at 5 and its
/// first read lifts it to 6 (a certain step), as in Redis.
#[test]
fn restore_idletime_and_freq_are_applied() {
    let Some(real) = RealRedis::start(&[]) else {
        return;
    };
    let ours = Server::start(&[]);
    for port in [ours.port, real.port] {
        let mut c = conn(port);
        let _: () = redis::cmd("SET").arg("src").arg("v").query(&mut c).unwrap();
        let dump: Vec<u8> = redis::cmd("DUMP").arg("src").query(&mut c).unwrap();
        let _: () = redis::cmd("RESTORE")
            .arg("idle")
            .arg(0)
            .arg(&dump)
            .arg("IDLETIME")
            .arg(1000)
            .query(&mut c)
            .unwrap();
        let idle: i64 = redis::cmd("OBJECT")
            .arg("IDLETIME")
            .arg("idle")
            .query(&mut c)
            .unwrap();
        assert!((1000..=1002).contains(&idle), "port {port}: idle {idle}");
        let _: () = redis::cmd("CONFIG")
            .arg("SET")
            .arg("maxmemory-policy")
            .arg("allkeys-lfu")
            .query(&mut c)
            .unwrap();
        let _: () = redis::cmd("RESTORE")
            .arg("hot")
            .arg(0)
            .arg(&dump)
            .arg("FREQ")
            .arg(100)
            .query(&mut c)
            .unwrap();
        let freq = |c: &mut redis::Connection, k: &str| -> i64 {
            redis::cmd("OBJECT").arg("FREQ").arg(k).query(c).unwrap()
        };
        assert_eq!(freq(&mut c, "hot"), 100, "port {port}");
        let _: () = redis::cmd("SET").arg("new").arg("v").query(&mut c).unwrap();
        assert_eq!(freq(&mut c, "new"), 5, "port {port}");
        let _: String = redis::cmd("GET").arg("new").query(&mut c).unwrap();
        assert_eq!(freq(&mut c, "new"), 6, "port {port}");
    }
}
