//! The RDB format against a real Redis 7.0.15 on both sides:
//!
//! * files our writer produces pass `redis-check-rdb` and load into `redis-server` with every key,
//!   value, TTL and encoding as we had them;
//! * files `redis-server` saves (and hand-built old-format files it accepts) read back through our
//!   reader exactly as Redis reports them;
//! * corrupt input (flipped bytes, truncation at every boundary, bad CRC, unknown types, absurd
//!   lengths, seeded random mutations) gives clean errors and never a panic.

mod common;
use common::*;
use redis::Commands;
use resplica::rdb::listpack::Builder;
use resplica::rdb::writer::{put_len, put_string};
use resplica::rdb::{self, Aux, ErrorKind, Options, ReplAux, Writer};
use resplica::store::{EncodingLimits, Hash, List, Set, Value, ZSet};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Canonical contents, comparable between our values and what redis-server reports.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Canon {
    Str(Vec<u8>),
    List(Vec<Vec<u8>>),
    Set(Vec<Vec<u8>>),
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
    ZSet(Vec<(Vec<u8>, f64)>),
}

/// Contents, absolute expiry, OBJECT ENCODING.
type Snap = BTreeMap<(usize, Vec<u8>), (Canon, Option<i64>, String)>;

fn canon(v: &Value) -> Canon {
    match v {
        Value::Str(_) | Value::Int(_) => Canon::Str(v.as_bytes().unwrap_or_default().into_owned()),
        Value::List(l) => Canon::List(l.iter().map(|i| i.to_vec()).collect()),
        Value::Set(s) => {
            let mut m: Vec<Vec<u8>> = s.iter().map(|m| m.to_vec()).collect();
            m.sort();
            Canon::Set(m)
        }
        Value::Hash(h) => {
            let mut p: Vec<(Vec<u8>, Vec<u8>)> =
                h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
            p.sort();
            Canon::Hash(p)
        }
        Value::ZSet(z) => Canon::ZSet(z.iter().map(|(m, s)| (m.to_vec(), s)).collect()),
    }
}

fn parse_score(b: &[u8]) -> f64 {
    match b {
        b"inf" => f64::INFINITY,
        b"-inf" => f64::NEG_INFINITY,
        _ => std::str::from_utf8(b).unwrap().parse().unwrap(),
    }
}

fn fetch(con: &mut redis::Connection, key: &[u8]) -> (Canon, Option<i64>, String) {
    let t: String = redis::cmd("TYPE").arg(key).query(con).unwrap();
    let c = match t.as_str() {
        "string" => Canon::Str(con.get(key).unwrap()),
        "list" => Canon::List(con.lrange(key, 0, -1).unwrap()),
        "set" => {
            let mut m: Vec<Vec<u8>> = con.smembers(key).unwrap();
            m.sort();
            Canon::Set(m)
        }
        "hash" => {
            let flat: Vec<Vec<u8>> = redis::cmd("HGETALL").arg(key).query(con).unwrap();
            let mut p: Vec<(Vec<u8>, Vec<u8>)> = flat
                .chunks(2)
                .map(|c| (c[0].clone(), c[1].clone()))
                .collect();
            p.sort();
            Canon::Hash(p)
        }
        "zset" => {
            let flat: Vec<Vec<u8>> = redis::cmd("ZRANGE")
                .arg(key)
                .arg(0)
                .arg(-1)
                .arg("WITHSCORES")
                .query(con)
                .unwrap();
            Canon::ZSet(
                flat.chunks(2)
                    .map(|c| (c[0].clone(), parse_score(&c[1])))
                    .collect(),
            )
        }
        other => panic!("unexpected type {other}"),
    };
    let at: i64 = redis::cmd("PEXPIRETIME").arg(key).query(con).unwrap();
    let enc: String = redis::cmd("OBJECT")
        .arg("ENCODING")
        .arg(key)
        .query(con)
        .unwrap();
    (c, (at >= 0).then_some(at), enc)
}

fn snapshot(port: u16) -> Snap {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
    let mut con = client.get_connection().unwrap();
    let mut out = Snap::new();
    for db in 0..16usize {
        redis::cmd("SELECT").arg(db).query::<()>(&mut con).unwrap();
        let keys: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*").query(&mut con).unwrap();
        for k in keys {
            let v = fetch(&mut con, &k);
            out.insert((db, k), v);
        }
    }
    out
}

fn snap_of(entries: &[(usize, Vec<u8>, Value, Option<i64>)]) -> Snap {
    let limits = EncodingLimits::default();
    entries
        .iter()
        .map(|(db, k, v, ttl)| {
            (
                (*db, k.clone()),
                (canon(v), *ttl, v.encoding(&limits).to_string()),
            )
        })
        .collect()
}

fn assert_same(ours: &Snap, real: &Snap, what: &str) {
    let show = |k: &(usize, Vec<u8>)| format!("db{} {:?}", k.0, String::from_utf8_lossy(&k.1));
    let mut diffs = Vec::new();
    for (k, v) in ours {
        match real.get(k) {
            None => diffs.push(format!("{} missing in {what}", show(k))),
            Some(r) if r != v => {
                let brief = |x: &(Canon, Option<i64>, String)| {
                    let mut s = format!("{:?}", x);
                    s.truncate(300);
                    s
                };
                diffs.push(format!(
                    "{}:\n   expected {}\n   got      {}",
                    show(k),
                    brief(v),
                    brief(r)
                ))
            }
            _ => {}
        }
    }
    for k in real.keys() {
        if !ours.contains_key(k) {
            diffs.push(format!("{} unexpected in {what}", show(k)));
        }
    }
    assert!(diffs.is_empty(), "{what}:\n{}", diffs.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// A dataset of every type and encoding.
// ---------------------------------------------------------------------------------------------

fn list_of<I: IntoIterator<Item = Vec<u8>>>(items: I) -> Value {
    let mut l = List::new();
    for i in items {
        l.push_back(&i);
    }
    Value::List(Box::new(l))
}

fn set_of<I: IntoIterator<Item = Vec<u8>>>(items: I) -> Value {
    let mut s = Set::new();
    for i in items {
        s.insert(&i, 512);
    }
    Value::Set(Box::new(s))
}

fn hash_of(pairs: Vec<(Vec<u8>, Vec<u8>)>) -> Value {
    let flat: Vec<Vec<u8>> = pairs.into_iter().flat_map(|(f, v)| [f, v]).collect();
    Value::Hash(Hash::from_pairs(&flat, &EncodingLimits::default()))
}

fn zset_of(entries: Vec<(&[u8], f64)>) -> Value {
    let limits = EncodingLimits::default();
    let mut z = ZSet::new();
    for (m, s) in entries {
        z.insert(m, s, &limits);
    }
    Value::ZSet(Box::new(z))
}

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn pseudo_random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn dataset() -> Vec<(usize, Vec<u8>, Value, Option<i64>)> {
    let future = resplica::store::now_ms() + 3_600_000;
    let mut d: Vec<(usize, Vec<u8>, Value, Option<i64>)> = Vec::new();
    let mut add =
        |db: usize, k: &[u8], v: Value, ttl: Option<i64>| d.push((db, k.to_vec(), v, ttl));
    // Strings.
    add(0, b"str:small", Value::string(b"hello"), None);
    add(0, b"str:empty", Value::string(b""), None);
    add(0, b"str:int8", Value::string(b"-5"), None);
    add(0, b"str:int16", Value::string(b"12345"), None);
    add(0, b"str:int32", Value::string(b"-2147483648"), None);
    add(0, b"str:int64", Value::string(b"12345678901234"), None);
    add(0, b"str:min", Value::string(b"-9223372036854775808"), None);
    add(0, b"str:zeros", Value::string(b"007"), None);
    add(0, b"str:lzf", Value::string(&[b'a'; 100]), None);
    add(0, b"str:44", Value::string(&[b'e'; 44]), None);
    add(
        0,
        b"str:45",
        Value::string(&pseudo_random_bytes(45, 1)),
        None,
    );
    add(
        0,
        b"str:big",
        Value::string(&b"0123456789".repeat(2000)),
        Some(future),
    );
    add(
        0,
        b"str:random",
        Value::string(&pseudo_random_bytes(20_000, 2)),
        None,
    );
    add(
        0,
        b"bin\0\xff\r\nkey",
        Value::string(&[0, 1, 0xfe, 0xff]),
        None,
    );
    add(
        0,
        &[b'k'; 100],
        Value::string(b"long key"),
        Some(future + 5),
    );
    // Lists.
    add(
        0,
        b"list:small",
        list_of(["a", "b", "1", "2", "-100", "70000"].map(b)),
        None,
    );
    add(
        0,
        b"list:empty-elem",
        list_of([b(""), b("x"), b("")]),
        Some(future),
    );
    add(
        0,
        b"list:big",
        list_of((0..20_000).map(|i| b(&i.to_string()))),
        None,
    );
    add(
        0,
        b"list:wide",
        list_of((0..40).map(|i| {
            let mut v = pseudo_random_bytes(3000, i);
            v.extend_from_slice(&[b'z'; 3000]);
            v
        })),
        None,
    );
    // Hashes.
    add(
        0,
        b"hash:small",
        hash_of(vec![
            (b("f1"), b("v1")),
            (b("f2"), b("2")),
            (b("f3"), b("-3")),
        ]),
        None,
    );
    add(
        0,
        b"hash:big",
        hash_of(
            (0..1000)
                .map(|i| (b(&format!("field:{i}")), b(&i.to_string())))
                .collect(),
        ),
        Some(future),
    );
    add(
        0,
        b"hash:longvalue",
        hash_of(vec![(b("a"), vec![b'v'; 100]), (b("b"), b(""))]),
        None,
    );
    // Sets.
    add(0, b"set:i16", set_of(["1", "2", "3"].map(b)), None);
    add(0, b"set:i32", set_of(["-3", "5", "70000"].map(b)), None);
    add(
        0,
        b"set:i64",
        set_of(["1", "-7", "70000", "5000000000"].map(b)),
        None,
    );
    add(0, b"set:str", set_of(["a", "b", "c", ""].map(b)), None);
    add(
        0,
        b"set:bigint",
        set_of((0..600).map(|i| b(&i.to_string()))),
        None,
    );
    add(
        0,
        b"set:big",
        set_of((0..5000).map(|i| b(&format!("member-{i}")))),
        Some(future),
    );
    // Sorted sets.
    add(
        0,
        b"zset:small",
        zset_of(vec![
            (b"a", 1.0),
            (b"b", 2.5),
            (b"c", f64::NEG_INFINITY),
            (b"d", f64::INFINITY),
            (b"e", 0.0),
            (b"f", 0.1),
            (b"g", 1e17),
            (b"h", 1e300),
            (b"i", -4611686018427387904.0),
            (b"12", 3.0),
        ]),
        None,
    );
    let names: Vec<Vec<u8>> = (0..200).map(|i| b(&format!("m{i}"))).collect();
    add(
        0,
        b"zset:big",
        zset_of(
            names
                .iter()
                .enumerate()
                .map(|(i, m)| (m.as_slice(), i as f64 + 0.5))
                .collect(),
        ),
        None,
    );
    let long = [b'm'; 100];
    add(
        0,
        b"zset:longmember",
        zset_of(vec![(&long[..], 1.0), (b"x", f64::INFINITY)]),
        Some(future),
    );
    // Other databases.
    add(1, b"db1:str", Value::string(b"one"), None);
    add(
        1,
        b"str:small",
        Value::string(b"same key, other db"),
        Some(future),
    );
    add(15, b"db15:list", list_of(["x"].map(b)), None);
    d
}

fn write_file(path: &Path, data: &[(usize, Vec<u8>, Value, Option<i64>)], opts: Options) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = Writer::new(std::io::BufWriter::new(file), opts);
    w.header(&Aux {
        used_mem: 1_234_567,
        repl: Some(ReplAux {
            stream_db: 0,
            id: "3618650f589137f3af155da975c470ab29b3039d".into(),
            offset: 12345,
        }),
        ..Aux::default()
    })
    .unwrap();
    let mut dbs: Vec<usize> = data.iter().map(|e| e.0).collect();
    dbs.dedup();
    for db in dbs {
        let keys: Vec<_> = data.iter().filter(|e| e.0 == db).collect();
        let expires = keys.iter().filter(|e| e.3.is_some()).count();
        w.select_db(db, keys.len(), expires).unwrap();
        for (_, k, v, ttl) in keys {
            w.entry(k, v, *ttl).unwrap();
        }
    }
    let mut sink = w.finish().unwrap();
    std::io::Write::flush(&mut sink).unwrap();
}

fn check_rdb(path: &Path) {
    let out = Command::new("redis-check-rdb").arg(path).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && text.contains("RDB looks OK"),
        "redis-check-rdb rejected {}:\n{text}",
        path.display()
    );
}

#[test]
fn writer_output_loads_into_redis() {
    if !have_tool("redis-check-rdb") {
        return;
    }
    let data = dataset();
    let expected = snap_of(&data);
    for (name, opts) in [
        (
            "compressed.rdb",
            Options {
                compression: true,
                checksum: true,
            },
        ),
        (
            "plain.rdb",
            Options {
                compression: false,
                checksum: false,
            },
        ),
    ] {
        let dir = scratch_dir("rdb-writer");
        let path = dir.join(name);
        write_file(&path, &data, opts);
        check_rdb(&path);
        // Our own reader agrees with what we wrote.
        let bytes = std::fs::read(&path).unwrap();
        let read: Vec<_> = rdb::Reader::from_slice(&bytes)
            .unwrap()
            .entries()
            .map(|e| e.map(|e| (e.db, e.key, e.value, e.expire_ms)))
            .collect::<Result<_, _>>()
            .unwrap();
        assert_same(&expected, &snap_of(&read), "our reader");
        let Some(real) = RealRedis::start(&["--dir", dir.to_str().unwrap(), "--dbfilename", name])
        else {
            return;
        };
        assert_same(&expected, &snapshot(real.port), "redis-server");
    }
}

#[test]
fn writer_is_byte_identical_to_redis_for_deterministic_encodings() {
    // Same contents built in redis-server: DUMP payloads must match our encoding byte for byte
    // wherever Redis's layout does not depend on hash-table order.
    let Some(real) = RealRedis::start(&[]) else {
        return;
    };
    let client = redis::Client::open(format!("redis://127.0.0.1:{}/", real.port)).unwrap();
    let mut con = client.get_connection().unwrap();
    let mut checked = 0;
    for (db, key, value, _) in dataset() {
        let deterministic = match &value {
            Value::Hash(h) => h.is_compact(),
            Value::Set(s) => s.is_intset(),
            _ => true,
        };
        if db != 0 || !deterministic {
            continue;
        }
        let payload = rdb::dump_payload(&value, true);
        let restored: redis::RedisResult<()> = redis::cmd("RESTORE")
            .arg(&key)
            .arg(0)
            .arg(&payload)
            .arg("REPLACE")
            .query(&mut con);
        restored.unwrap_or_else(|e| panic!("RESTORE {:?}: {e}", String::from_utf8_lossy(&key)));
        let theirs: Vec<u8> = redis::cmd("DUMP").arg(&key).query(&mut con).unwrap();
        assert_eq!(
            theirs,
            payload,
            "DUMP of {:?} differs",
            String::from_utf8_lossy(&key)
        );
        checked += 1;
    }
    assert!(checked >= 25, "only {checked} keys compared");
}

// ---------------------------------------------------------------------------------------------
// Reader: files written by redis-server.
// ---------------------------------------------------------------------------------------------

fn redis_saved_file(real: &RealRedis, dir: &Path) -> Vec<u8> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{}/", real.port)).unwrap();
    let mut con = client.get_connection().unwrap();
    redis::cmd("SAVE").query::<()>(&mut con).unwrap();
    std::fs::read(dir.join("dump.rdb")).unwrap()
}

fn populate_real(con: &mut redis::Connection) {
    let q = |con: &mut redis::Connection, args: &[&[u8]]| {
        let mut c = redis::cmd(std::str::from_utf8(args[0]).unwrap());
        for a in &args[1..] {
            c.arg(*a);
        }
        c.query::<redis::Value>(con).unwrap();
    };
    let big = "x".repeat(20_000);
    let hundred = "a".repeat(100);
    let random = pseudo_random_bytes(3000, 9);
    let cmds: Vec<Vec<&[u8]>> = vec![
        vec![b"SET", b"str:small", b"hello"],
        vec![b"SET", b"str:int", b"12345"],
        vec![b"SET", b"str:bigint", b"12345678901234"],
        vec![b"SET", b"str:zeros", b"007"],
        vec![b"SET", b"str:lzf", hundred.as_bytes()],
        vec![b"SET", b"str:big", big.as_bytes()],
        vec![b"SET", b"str:random", &random],
        vec![b"SET", b"bin\0\xffkey", b"\x00\x01\xfe\xff"],
        vec![b"SET", b"str:ttl", b"v", b"PX", b"3600000"],
        vec![
            b"RPUSH",
            b"list:small",
            b"a",
            b"b",
            b"1",
            b"2",
            b"-100",
            b"70000",
        ],
        vec![b"LPUSH", b"list:lpushed", b"c", b"b", b"a"],
        vec![
            b"HSET",
            b"hash:small",
            b"f1",
            b"v1",
            b"f2",
            b"2",
            b"f3",
            b"-3",
        ],
        vec![b"HSET", b"hash:long", b"f", hundred.as_bytes()],
        vec![b"SADD", b"set:i16", b"1", b"2", b"3"],
        vec![b"SADD", b"set:i64", b"1", b"-7", b"70000", b"5000000000"],
        vec![b"SADD", b"set:str", b"a", b"b", b"c"],
        vec![
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
        ],
        vec![b"SELECT", b"3"],
        vec![b"SET", b"db3:str", b"three"],
        vec![b"SELECT", b"15"],
        vec![b"RPUSH", b"db15:list", b"x"],
        vec![b"SELECT", b"0"],
    ];
    for c in &cmds {
        q(con, c);
    }
    let mut pipe = redis::pipe();
    for i in 0..10_000 {
        pipe.cmd("RPUSH").arg("list:big").arg(i).ignore();
    }
    for i in 0..1000 {
        pipe.cmd("HSET")
            .arg("hash:big")
            .arg(format!("field:{i}"))
            .arg(i)
            .ignore();
        pipe.cmd("SADD").arg("set:bigint").arg(i).ignore();
        pipe.cmd("SADD")
            .arg("set:big")
            .arg(format!("m-{i}"))
            .ignore();
    }
    for i in 0..200 {
        pipe.cmd("ZADD")
            .arg("zset:big")
            .arg(i as f64 + 0.5)
            .arg(format!("m{i}"))
            .ignore();
    }
    pipe.cmd("PEXPIRE").arg("hash:big").arg(7_200_000).ignore();
    pipe.query::<()>(con).unwrap();
}

fn read_all(bytes: &[u8]) -> Vec<(usize, Vec<u8>, Value, Option<i64>)> {
    rdb::Reader::from_slice(bytes)
        .unwrap()
        .entries()
        .map(|e| e.map(|e| (e.db, e.key, e.value, e.expire_ms)))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("reading failed: {e}"))
}

#[test]
fn reader_loads_what_redis_saves() {
    let dir = scratch_dir("rdb-reader");
    let Some(real) = RealRedis::start(&["--dir", dir.to_str().unwrap()]) else {
        return;
    };
    let client = redis::Client::open(format!("redis://127.0.0.1:{}/", real.port)).unwrap();
    let mut con = client.get_connection().unwrap();
    populate_real(&mut con);
    let lib =
        "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return 1 end)";
    redis::cmd("FUNCTION")
        .arg("LOAD")
        .arg(lib)
        .query::<String>(&mut con)
        .unwrap();
    let bytes = redis_saved_file(&real, &dir);
    // The crc64 crate computes Redis's CRC-64/Jones: the trailer of a real dump matches.
    let n = bytes.len();
    let mut trailer = [0u8; 8];
    trailer.copy_from_slice(&bytes[n - 8..]);
    assert_eq!(rdb::crc64(0, &bytes[..n - 8]), u64::from_le_bytes(trailer));
    let mut reader = rdb::Reader::from_slice(&bytes).unwrap();
    let mut entries = Vec::new();
    while let Some(e) = reader.next_entry().unwrap() {
        entries.push((e.db, e.key, e.value, e.expire_ms));
    }
    assert_eq!(reader.version(), 10);
    assert_eq!(reader.aux_field("redis-ver"), Some(&b"7.0.15"[..]));
    assert_eq!(reader.aux_field("redis-bits"), Some(&b"64"[..]));
    assert!(reader.aux_field("ctime").is_some());
    assert_eq!(reader.functions(), &[lib.as_bytes().to_vec()]);
    assert_same(&snapshot(real.port), &snap_of(&entries), "our reader");
}

#[test]
fn reader_gets_replication_aux_from_a_replica_dump() {
    // A replica's SAVE carries repl-stream-db / repl-id / repl-offset.
    let Some(master) = RealRedis::start(&[]) else {
        return;
    };
    let dir = scratch_dir("rdb-replica");
    let port = master.port.to_string();
    let Some(replica) = RealRedis::start(&[
        "--dir",
        dir.to_str().unwrap(),
        "--replicaof",
        "127.0.0.1",
        &port,
    ]) else {
        return;
    };
    let mclient = redis::Client::open(format!("redis://127.0.0.1:{}/", master.port)).unwrap();
    let mut mcon = mclient.get_connection().unwrap();
    redis::cmd("SET")
        .arg("k")
        .arg("v")
        .query::<()>(&mut mcon)
        .unwrap();
    let rclient = redis::Client::open(format!("redis://127.0.0.1:{}/", replica.port)).unwrap();
    let mut rcon = rclient.get_connection().unwrap();
    assert!(wait_until(Duration::from_secs(10), || {
        rcon.get::<_, Option<String>>("k").ok().flatten().as_deref() == Some("v")
    }));
    let info: String = redis::cmd("INFO")
        .arg("replication")
        .query(&mut rcon)
        .unwrap();
    let replid = info
        .lines()
        .find_map(|l| l.strip_prefix("master_replid:"))
        .unwrap()
        .trim()
        .to_string();
    let bytes = redis_saved_file(&replica, &dir);
    let mut reader = rdb::Reader::from_slice(&bytes).unwrap();
    while reader.next_entry().unwrap().is_some() {}
    assert_eq!(reader.repl_id(), Some(replid));
    // The offset is 0 when the SET was already in the replica's initial snapshot, positive when
    // it arrived through the stream: both are right, depending on timing.
    assert!(reader.repl_offset().is_some_and(|o| o >= 0));
    assert_eq!(reader.repl_stream_db(), Some(0));
}

// ---------------------------------------------------------------------------------------------
// Old formats, built by hand (rdb.md §3–4, §8) and loaded by both redis-server and our reader.
// ---------------------------------------------------------------------------------------------

/// A ziplist of `items` (integers for canonical decimals, as old Redis stored them).
fn ziplist(items: &[&[u8]]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut prev = 0usize;
    let mut last = 0usize;
    for item in items {
        let start = body.len();
        last = start;
        if prev < 254 {
            body.push(prev as u8);
        } else {
            body.push(254);
            body.extend_from_slice(&(prev as u32).to_le_bytes());
        }
        match resplica::num::parse_i64(item) {
            Some(v @ 0..=12) => body.push(0xf1 + v as u8),
            Some(v) if i8::try_from(v).is_ok() => body.extend_from_slice(&[0xfe, v as u8]),
            Some(v) if i16::try_from(v).is_ok() => {
                body.push(0xc0);
                body.extend_from_slice(&(v as i16).to_le_bytes());
            }
            Some(v) if (-(1 << 23)..(1 << 23)).contains(&v) => {
                body.push(0xf0);
                body.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            }
            Some(v) if i32::try_from(v).is_ok() => {
                body.push(0xd0);
                body.extend_from_slice(&(v as i32).to_le_bytes());
            }
            Some(v) => {
                body.push(0xe0);
                body.extend_from_slice(&v.to_le_bytes());
            }
            None if item.len() < 64 => {
                body.push(item.len() as u8);
                body.extend_from_slice(item);
            }
            None if item.len() < 16384 => {
                body.push(0x40 | (item.len() >> 8) as u8);
                body.push(item.len() as u8);
                body.extend_from_slice(item);
            }
            None => {
                body.push(0x80);
                body.extend_from_slice(&(item.len() as u32).to_be_bytes());
                body.extend_from_slice(item);
            }
        }
        prev = body.len() - start;
    }
    let mut out = Vec::new();
    out.extend_from_slice(&((10 + body.len() + 1) as u32).to_le_bytes());
    out.extend_from_slice(&((10 + last) as u32).to_le_bytes());
    out.extend_from_slice(&(items.len().min(65535) as u16).to_le_bytes());
    out.extend_from_slice(&body);
    out.push(0xff);
    out
}

fn zipmap(pairs: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut out = vec![pairs.len() as u8];
    for (k, v) in pairs {
        out.push(k.len() as u8);
        out.extend_from_slice(k);
        out.push(v.len() as u8);
        out.push(2); // two free bytes of padding
        out.extend_from_slice(v);
        out.extend_from_slice(b"..");
    }
    out.push(0xff);
    out
}

fn record(out: &mut Vec<u8>, t: u8, key: &[u8]) {
    out.push(t);
    put_string(out, key, false);
}

fn blob(out: &mut Vec<u8>, t: u8, key: &[u8], data: &[u8]) {
    record(out, t, key);
    put_string(out, data, false);
}

fn finish_file(mut out: Vec<u8>, version: u32) -> Vec<u8> {
    out.push(0xff);
    if version >= 5 {
        let crc = rdb::crc64(0, &out);
        out.extend_from_slice(&crc.to_le_bytes());
    }
    out
}

/// A version-9 file holding every legacy type and encoding 7.0.15 still loads.
fn legacy_file() -> Vec<u8> {
    let mut out = b"REDIS0009".to_vec();
    out.push(0xfa);
    put_string(&mut out, b"redis-ver", false);
    put_string(&mut out, b"5.0.0", false);
    out.extend_from_slice(&[0xfe, 0]);
    // Type 1 list, non-minimal lengths (9-byte key length, 5-byte value length).
    out.push(1);
    out.extend_from_slice(&[0x81, 0, 0, 0, 0, 0, 0, 0, 7]);
    out.extend_from_slice(b"list:v1");
    put_len(&mut out, 3);
    out.extend_from_slice(&[0x80, 0, 0, 0, 1, b'a']);
    put_string(&mut out, b"", false);
    put_string(&mut out, b"42", false);
    // Int-encoded key.
    record(&mut out, 0, b"7");
    put_string(&mut out, b"int key", false);
    // Type 10 ziplist list with every int width, a 300-byte entry and a 20 000-byte entry.
    let long = vec![b'L'; 300];
    let huge = vec![b'H'; 20_000];
    let items: Vec<&[u8]> = vec![
        b"2",
        b"12",
        b"13",
        b"-1",
        b"-128",
        b"300",
        b"-32768",
        b"70000",
        b"-8388608",
        b"2147483647",
        b"5000000000",
        b"-9223372036854775808",
        &long,
        b"after-long",
        &huge,
        b"last",
    ];
    blob(&mut out, 10, b"list:ziplist", &ziplist(&items));
    // Type 14 quicklist of two ziplist nodes.
    record(&mut out, 14, b"list:quicklist1");
    put_len(&mut out, 2);
    put_string(&mut out, &ziplist(&[b"a", b"b"]), false);
    put_string(&mut out, &ziplist(&[b"c", b"1000"]), false);
    // Type 9 zipmap, type 13 ziplist hash.
    blob(
        &mut out,
        9,
        b"hash:zipmap",
        &zipmap(&[(b"foo", b"bar"), (b"hello", b"world")]),
    );
    blob(
        &mut out,
        13,
        b"hash:ziplist",
        &ziplist(&[b"f1", b"v1", b"f2", b"2"]),
    );
    // Type 11 intset (32-bit) and an LZF-compressed 64-bit intset.
    let is = resplica::rdb::intset::encode(&[-3, 5, 70000], 4);
    blob(&mut out, 11, b"set:intset", &is);
    let is64 = resplica::rdb::intset::encode(&(0..20).collect::<Vec<i64>>(), 8);
    record(&mut out, 11, b"set:intset-lzf");
    put_string(&mut out, &is64, true);
    assert_eq!(out[out.len() - is64.len()..].len(), is64.len());
    // Type 12 ziplist zset, type 3 string-double zset.
    blob(
        &mut out,
        12,
        b"zset:ziplist",
        &ziplist(&[b"a", b"1", b"b", b"2.5", b"c", b"inf"]),
    );
    record(&mut out, 3, b"zset:v1");
    put_len(&mut out, 3);
    put_string(&mut out, b"x", false);
    out.extend_from_slice(&[3, b'1', b'.', b'5']);
    put_string(&mut out, b"y", false);
    out.push(0xfe);
    put_string(&mut out, b"z", false);
    out.push(0xff);
    // Type 2 set, type 4 hash, type 5 zset2.
    record(&mut out, 2, b"set:plain");
    put_len(&mut out, 2);
    put_string(&mut out, b"p", false);
    put_string(&mut out, b"5000000000", false);
    record(&mut out, 4, b"hash:plain");
    put_len(&mut out, 1);
    put_string(&mut out, b"f", false);
    put_string(&mut out, b"", false);
    record(&mut out, 5, b"zset:plain");
    put_len(&mut out, 2);
    put_string(&mut out, b"n", false);
    out.extend_from_slice(&f64::NEG_INFINITY.to_le_bytes());
    put_string(&mut out, b"p", false);
    out.extend_from_slice(&200.5f64.to_le_bytes());
    // Seconds-precision expiry (2033) and an LZF string value.
    out.push(0xfd);
    out.extend_from_slice(&2_000_000_000i32.to_le_bytes());
    record(&mut out, 0, b"str:expire-seconds");
    put_string(&mut out, &[b'a'; 100], true);
    // A later database, quicklist-2 with a PLAIN node, listpack hash/zset.
    out.extend_from_slice(&[0xfe, 5]);
    record(&mut out, 18, b"list:quicklist2");
    put_len(&mut out, 3);
    let mut lp = Builder::new();
    lp.push_bytes(b"small");
    put_len(&mut out, 2);
    put_string(&mut out, &lp.finish(), false);
    put_len(&mut out, 1);
    put_string(&mut out, &[b'x'; 150], true);
    let mut lp = Builder::new();
    lp.push_bytes(b"small2");
    put_len(&mut out, 2);
    put_string(&mut out, &lp.finish(), false);
    let mut lp = Builder::new();
    for s in [&b"f"[..], b"1", b"g", b"two"] {
        lp.push_bytes(s);
    }
    blob(&mut out, 16, b"hash:listpack", &lp.finish());
    let mut lp = Builder::new();
    for s in [
        &b"c"[..],
        b"-inf",
        b"e",
        b"0",
        b"a",
        b"1",
        b"b",
        b"2.5",
        b"d",
        b"inf",
    ] {
        lp.push_bytes(s);
    }
    blob(&mut out, 17, b"zset:listpack", &lp.finish());
    finish_file(out, 9)
}

/// A version-4 file: no checksum trailer.
fn v4_file() -> Vec<u8> {
    let mut out = b"REDIS0004".to_vec();
    out.extend_from_slice(&[0xfe, 0]);
    record(&mut out, 0, b"old");
    put_string(&mut out, b"value", false);
    blob(&mut out, 9, b"zm", &zipmap(&[(b"a", b"1")]));
    finish_file(out, 4)
}

#[test]
fn old_formats_read_like_redis_loads_them() {
    if !have_tool("redis-check-rdb") {
        return;
    }
    for (name, bytes) in [("legacy.rdb", legacy_file()), ("v4.rdb", v4_file())] {
        let dir = scratch_dir("rdb-legacy");
        let path = dir.join(name);
        std::fs::write(&path, &bytes).unwrap();
        check_rdb(&path);
        let ours = snap_of(&read_all(&bytes));
        let Some(real) = RealRedis::start(&["--dir", dir.to_str().unwrap(), "--dbfilename", name])
        else {
            return;
        };
        assert_same(&snapshot(real.port), &ours, name);
    }
}

#[test]
fn newer_formats_read() {
    // Version 11 (Redis 7.2): a listpack set, which 7.0.15 refuses but we read.
    let mut out = b"REDIS0011".to_vec();
    let mut lp = Builder::new();
    for m in [&b"a"[..], b"b", b"3"] {
        lp.push_bytes(m);
    }
    blob(&mut out, 20, b"set:listpack", &lp.finish());
    // Version-12 cluster slot info is skipped.
    out.extend_from_slice(&[0xf4, 5, 1, 0]);
    let entries = read_all(&finish_file(out, 11));
    assert_eq!(entries.len(), 1);
    assert_eq!(
        canon(&entries[0].2),
        Canon::Set(vec![b("3"), b("a"), b("b")])
    );
    // Hash field expiration (7.4) fails loudly, naming the type and the key.
    let mut out = b"REDIS0012".to_vec();
    record(&mut out, 24, b"hfe");
    out.extend_from_slice(&[0; 8]);
    let file = finish_file(out, 12);
    let err = rdb::Reader::from_slice(&file)
        .unwrap()
        .next_entry()
        .unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Unsupported(_)), "{err}");
    assert!(err.to_string().contains("type 24"), "{err}");
    assert_eq!(err.key.as_deref(), Some(&b"hfe"[..]));
    // Valkey 9's magic is refused clearly.
    let err = rdb::Reader::from_slice(b"VALKEY080\xff").err().unwrap();
    assert!(err.to_string().contains("Valkey"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Corrupt input.
// ---------------------------------------------------------------------------------------------

fn small_valid_file() -> Vec<u8> {
    let future = 1_900_000_000_000;
    let data: Vec<(usize, Vec<u8>, Value, Option<i64>)> = vec![
        (0, b("s"), Value::string(b"hello"), None),
        (0, b("n"), Value::string(b"12345"), Some(future)),
        (0, b("lzf"), Value::string(&[b'q'; 60]), None),
        (0, b("l"), list_of(["a", "1", "-300"].map(b)), None),
        (
            0,
            b("h"),
            hash_of(vec![(b("f"), b("v")), (b("g"), b("7"))]),
            None,
        ),
        (0, b("i"), set_of(["1", "70000"].map(b)), None),
        (0, b("t"), set_of(["x", "y"].map(b)), None),
        (
            1,
            b("z"),
            zset_of(vec![(b"a", 1.5), (b"b", f64::INFINITY)]),
            None,
        ),
        (1, b("Z"), zset_of(vec![(b"m", 0.0)]), None),
    ];
    let mut w = Writer::new(Vec::new(), Options::default());
    w.header(&Aux::default()).unwrap();
    w.select_db(0, 7, 1).unwrap();
    for (_, k, v, ttl) in data.iter().filter(|e| e.0 == 0) {
        w.entry(k, v, *ttl).unwrap();
    }
    w.select_db(1, 2, 0).unwrap();
    for (_, k, v, ttl) in data.iter().filter(|e| e.0 == 1) {
        w.entry(k, v, *ttl).unwrap();
    }
    w.function(b"#!lua name=x\nreturn 1").unwrap();
    w.finish().unwrap()
}

fn read_to_end(bytes: &[u8]) -> Result<usize, rdb::Error> {
    let mut r = rdb::Reader::from_slice(bytes)?;
    let mut n = 0;
    while r.next_entry()?.is_some() {
        n += 1;
    }
    Ok(n)
}

#[test]
fn truncation_anywhere_is_a_clean_error() {
    let file = small_valid_file();
    assert_eq!(read_to_end(&file).unwrap(), 9);
    for n in 0..file.len() {
        let err = read_to_end(&file[..n]).unwrap_err();
        let expected = if n < 9 {
            ErrorKind::BadMagic
        } else {
            ErrorKind::Truncated
        };
        assert_eq!(err.kind, expected, "prefix of {n} bytes: {err}");
        assert!(
            err.offset <= n as u64,
            "prefix of {n}: offset {}",
            err.offset
        );
    }
    // The same through a stream of unknown length.
    for n in [10, 100, file.len() - 9, file.len() - 1] {
        let cur = std::io::Cursor::new(file[..n].to_vec());
        let mut r = rdb::Reader::new(cur).unwrap();
        let err = loop {
            match r.next_entry() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("prefix of {n} bytes read to the end"),
                Err(e) => break e,
            }
        };
        assert_eq!(err.kind, ErrorKind::Truncated);
    }
    // Every record boundary of the big dataset too.
    let dir = scratch_dir("rdb-trunc");
    let path = dir.join("d.rdb");
    write_file(&path, &dataset(), Options::default());
    let big = std::fs::read(&path).unwrap();
    let mut r = rdb::Reader::from_slice(&big).unwrap();
    let mut bounds = vec![r.offset()];
    while r.next_entry().unwrap().is_some() {
        bounds.push(r.offset());
    }
    for &b in &bounds {
        for cut in [b.saturating_sub(1), b, b + 1] {
            let cut = (cut as usize).min(big.len() - 1);
            assert!(read_to_end(&big[..cut]).is_err(), "cut at {cut}");
        }
    }
}

#[test]
fn flipped_bytes_and_bad_checksums_are_detected() {
    let file = small_valid_file();
    for i in 0..file.len() {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut c = file.clone();
            c[i] ^= mask;
            assert!(
                read_to_end(&c).is_err(),
                "flipping byte {i} with {mask:#04x} went unnoticed"
            );
        }
    }
    let mut c = file.clone();
    let n = c.len();
    c[n - 1] ^= 0x10;
    let err = read_to_end(&c).unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Checksum { .. }), "{err}");
    assert_eq!(err.offset, (n - 8) as u64);
    assert!(err.to_string().contains("checksum"), "{err}");
    // A zero checksum means "not computed": accepted.
    c[n - 8..].fill(0);
    assert_eq!(read_to_end(&c).unwrap(), 9);
    // Verification can be turned off.
    let mut c = file.clone();
    c[n - 2] ^= 1;
    let mut r = rdb::Reader::from_slice(&c)
        .unwrap()
        .with_checksum_verification(false);
    while r.next_entry().unwrap().is_some() {}
}

#[test]
fn unknown_and_unsupported_types_name_themselves() {
    for t in [8u8, 26, 100, 0xf3] {
        let mut out = b"REDIS0010".to_vec();
        record(&mut out, t, b"mykey");
        put_string(&mut out, b"whatever", false);
        let err = read_to_end(&finish_file(out, 10)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::UnknownType(t));
        assert_eq!(err.key.as_deref(), Some(&b"mykey"[..]));
        let text = err.to_string();
        assert!(
            text.contains("mykey") && text.contains(&format!("type {t}")),
            "{text}"
        );
    }
    // A module value names its module.
    let mut out = b"REDIS0010".to_vec();
    record(&mut out, 7, b"modkey");
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let id = b"ReJSON-RL".iter().fold(0u64, |id, c| {
        (id << 6) | alphabet.iter().position(|a| a == c).unwrap() as u64
    });
    put_len(&mut out, (id << 10) | 3);
    let err = read_to_end(&finish_file(out, 10)).unwrap_err();
    assert!(err.to_string().contains("ReJSON-RL"), "{err}");
    // Module aux data is skipped.
    let mut out = b"REDIS0010".to_vec();
    out.push(0xf7);
    put_len(&mut out, (id << 10) | 3);
    put_len(&mut out, 2);
    put_len(&mut out, 2);
    for (op, payload) in [(2u64, vec![0x05u8]), (4, vec![0; 8]), (5, vec![0x01, b'x'])] {
        put_len(&mut out, op);
        out.extend_from_slice(&payload);
    }
    put_len(&mut out, 0);
    record(&mut out, 0, b"after");
    put_string(&mut out, b"aux", false);
    let file = finish_file(out, 10);
    let mut r = rdb::Reader::from_slice(&file).unwrap();
    assert_eq!(r.next_entry().unwrap().unwrap().key, b"after");
    assert_eq!(r.module_aux_skipped(), 1);
    // SELECTDB beyond the databases.
    let mut out = b"REDIS0010".to_vec();
    out.extend_from_slice(&[0xfe, 16]);
    let err = read_to_end(&finish_file(out, 10)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::DbIndex(16));
}

#[test]
fn streams_from_redis_fail_loudly() {
    let Some(real) = RealRedis::start(&[]) else {
        return;
    };
    let client = redis::Client::open(format!("redis://127.0.0.1:{}/", real.port)).unwrap();
    let mut con = client.get_connection().unwrap();
    redis::cmd("XADD")
        .arg("mystream")
        .arg("*")
        .arg("f")
        .arg("v")
        .query::<String>(&mut con)
        .unwrap();
    let payload: Vec<u8> = redis::cmd("DUMP").arg("mystream").query(&mut con).unwrap();
    let err = rdb::restore_payload(&payload, &EncodingLimits::default()).unwrap_err();
    assert!(err.to_string().contains("stream (RDB type 19)"), "{err}");
    let mut out = b"REDIS0010".to_vec();
    record(&mut out, payload[0], b"mystream");
    out.extend_from_slice(&payload[1..payload.len() - 10]);
    let err = read_to_end(&finish_file(out, 10)).unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Unsupported(_)), "{err}");
    assert_eq!(err.key.as_deref(), Some(&b"mystream"[..]));
}

#[test]
fn absurd_lengths_fail_without_allocating() {
    let start = Instant::now();
    let cases: Vec<Vec<u8>> = vec![
        // A 2^60-byte key.
        {
            let mut o = b"REDIS0010\x00".to_vec();
            o.push(0x81);
            o.extend_from_slice(&(1u64 << 60).to_be_bytes());
            o
        },
        // A 2^62-element list with one element present.
        {
            let mut o = b"REDIS0010".to_vec();
            record(&mut o, 1, b"l");
            o.push(0x81);
            o.extend_from_slice(&(1u64 << 62).to_be_bytes());
            put_string(&mut o, b"x", false);
            o
        },
        // An LZF string claiming 4 GiB of output.
        {
            let mut o = b"REDIS0010".to_vec();
            record(&mut o, 0, b"s");
            o.push(0xc3);
            put_len(&mut o, 2);
            put_len(&mut o, u32::MAX as u64);
            o.extend_from_slice(&[0x00, b'a']);
            o
        },
        // A hash of 2^32 pairs.
        {
            let mut o = b"REDIS0010".to_vec();
            record(&mut o, 4, b"h");
            put_len(&mut o, u32::MAX as u64);
            o
        },
    ];
    for case in &cases {
        assert!(read_to_end(case).is_err());
        let mut r = rdb::Reader::new(std::io::Cursor::new(case.clone())).unwrap();
        assert!(r.next_entry().is_err());
    }
    assert!(start.elapsed() < Duration::from_secs(5));
}

/// A tiny deterministic generator (xorshift), so the fuzz needs no extra dependency setup.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut c = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = c.len();
        match rng.below(7) {
            0 => {
                let i = rng.below(len);
                c[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = rng.below(len);
                c[i] = rng.next() as u8;
            }
            2 => {
                let i = rng.below(len);
                c[i] = [0x00, 0x3f, 0x40, 0x7f, 0x80, 0x81, 0xc0, 0xc3, 0xfe, 0xff][rng.below(10)];
            }
            3 => {
                let i = rng.below(len + 1);
                c.insert(i, rng.next() as u8);
            }
            4 if len > 10 => {
                let i = rng.below(len);
                c.remove(i);
            }
            5 => {
                let i = rng.below(len);
                let n = rng.below(16).min(len - i);
                let chunk: Vec<u8> = c[i..i + n].to_vec();
                let j = rng.below(c.len() + 1);
                c.splice(j..j, chunk);
            }
            _ => {
                let n = rng.below(len + 1);
                c.truncate(n.max(9));
            }
        }
    }
    // Re-seal the checksum half of the time, so parsing reaches everything past the mutation.
    if rng.below(2) == 0 && c.len() > 8 {
        let n = c.len();
        let crc = rdb::crc64(0, &c[..n - 8]);
        c[n - 8..].copy_from_slice(&crc.to_le_bytes());
    }
    c
}

#[test]
fn fuzz_random_mutations_never_panic() {
    let mut seeds: Vec<Vec<u8>> = vec![small_valid_file(), legacy_file(), v4_file()];
    let limits = EncodingLimits::default();
    let payloads: Vec<Vec<u8>> = dataset()
        .iter()
        .filter(|e| e.0 == 0)
        .take(30)
        .map(|e| rdb::dump_payload(&e.2, true))
        .filter(|p| p.len() < 4000)
        .collect();
    seeds.extend(payloads.iter().map(|p| {
        let mut o = b"REDIS0010".to_vec();
        record(&mut o, p[0], b"k");
        o.extend_from_slice(&p[1..p.len() - 10]);
        finish_file(o, 10)
    }));
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let deadline = Instant::now() + Duration::from_secs(4);
    let (mut runs, mut ok) = (0u64, 0u64);
    while Instant::now() < deadline {
        let seed = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, seed);
        if read_to_end(&input).is_ok() {
            ok += 1;
        }
        let p = &payloads[rng.below(payloads.len())];
        let mp = mutate(&mut rng, p);
        let _ = rdb::verify_payload(&mp);
        let _ = rdb::restore_payload(&mp, &limits);
        runs += 1;
    }
    assert!(runs > 500, "only {runs} runs");
    eprintln!("fuzz: {runs} mutated inputs, {ok} still read fully");
}
