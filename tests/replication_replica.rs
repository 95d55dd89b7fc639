//! Resplica as a replica: of a real redis-server 7.0 master (full sync of every type, the live
//! stream, +CONTINUE after a link drop, read-only rules), as the middle of a chain feeding a
//! redis-server sub-replica, and promoted with REPLICAOF NO ONE so a sibling resumes with
//! +CONTINUE.

mod common;
use common::*;
use redis::Commands;
use std::collections::BTreeMap;
use std::time::Duration;

fn dataset(c: &mut redis::Connection) -> BTreeMap<(u8, String), String> {
    let mut out = BTreeMap::new();
    for db in 0..16u8 {
        let _: () = redis::cmd("SELECT").arg(db).query(c).unwrap();
        let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(c).unwrap();
        for k in keys {
            let dump: Option<Vec<u8>> = redis::cmd("DUMP").arg(&k).query(c).unwrap();
            let t: String = redis::cmd("TYPE").arg(&k).query(c).unwrap();
            let v = match t.as_str() {
                "string" => c.get::<_, String>(&k).unwrap(),
                "list" => c.lrange::<_, Vec<String>>(&k, 0, -1).unwrap().join(","),
                "hash" => {
                    let mut v: Vec<(String, String)> = c.hgetall(&k).unwrap();
                    v.sort();
                    format!("{v:?}")
                }
                "set" => {
                    let mut v: Vec<String> = c.smembers(&k).unwrap();
                    v.sort();
                    v.join(",")
                }
                "zset" => format!(
                    "{:?}",
                    c.zrange_withscores::<_, Vec<(String, String)>>(&k, 0, -1)
                        .unwrap()
                ),
                _ => format!("{dump:?}"),
            };
            let exp: i64 = redis::cmd("PEXPIRETIME").arg(&k).query(c).unwrap();
            out.insert((db, k), format!("{t}|{v}|{exp}"));
        }
    }
    let _: () = redis::cmd("SELECT").arg(0).query(c).unwrap();
    out
}

fn caught_up(master: &mut redis::Connection, replica: &mut redis::Connection) -> bool {
    wait_until(Duration::from_secs(30), || {
        let m = info_field(master, "replication", "master_repl_offset");
        let r = info_field(replica, "replication", "slave_repl_offset");
        m.is_some() && m == r
    })
}

fn fill(c: &mut redis::Connection) {
    let mut p = redis::pipe();
    for i in 0..200 {
        p.set(format!("s:{i}"), i).ignore();
        p.cmd("SET")
            .arg(format!("t:{i}"))
            .arg("v")
            .arg("EX")
            .arg(5000)
            .ignore();
    }
    let _: () = p.query(c).unwrap();
    let _: () = c.rpush("list", (0..500).collect::<Vec<i32>>()).unwrap();
    let big: Vec<(String, i32)> = (0..300).map(|i| (format!("f{i}"), i)).collect();
    let _: () = c.hset_multiple("hash", &big).unwrap();
    let _: () = c.hset("hsmall", "a", "b").unwrap();
    let _: () = c.sadd("ints", (0..50).collect::<Vec<i32>>()).unwrap();
    let _: () = c.sadd("words", &["a", "b"]).unwrap();
    let z: Vec<(f64, String)> = (0..300).map(|i| (i as f64, format!("m{i}"))).collect();
    let _: () = c.zadd_multiple("zset", &z).unwrap();
    for db in 1..16 {
        let _: () = redis::cmd("SELECT").arg(db).query(c).unwrap();
        let _: () = c.set(format!("in-db{db}"), db).unwrap();
        let _: () = c.hset(format!("h-db{db}"), "f", db).unwrap();
    }
    let _: () = redis::cmd("SELECT").arg(0).query(c).unwrap();
}

fn writes(c: &mut redis::Connection, n: usize) {
    for i in 0..n {
        let mut p = redis::pipe();
        p.incr("counter", 1).ignore();
        p.lpush("list", i).ignore();
        p.cmd("SPOP").arg("ints").ignore();
        p.cmd("EXPIRE")
            .arg(format!("s:{}", i % 200))
            .arg(9000)
            .ignore();
        p.cmd("ZINCRBY")
            .arg("zset")
            .arg(1)
            .arg(format!("m{}", i % 300))
            .ignore();
        if i % 10 == 0 {
            p.atomic();
        }
        let _: () = p.query(c).unwrap();
    }
}

#[test]
fn replica_of_a_real_redis_master() {
    let Some(master) = RealRedis::start(&["--repl-diskless-sync-delay", "0"]) else {
        return;
    };
    let mut m = conn(master.port);
    fill(&mut m);
    let replica = Server::start(&["--replicaof", "127.0.0.1", &master.port.to_string()]);
    let mut r = replica.conn();
    assert!(replica.wait_log(
        "MASTER <-> REPLICA sync: Finished with success",
        Duration::from_secs(30)
    ));
    assert!(caught_up(&mut m, &mut r));
    assert_eq!(dataset(&mut m), dataset(&mut r));
    // 2000 pipelines of 5 writes: 10k live writes, some wrapped in MULTI/EXEC.
    writes(&mut m, 2000);
    assert!(caught_up(&mut m, &mut r));
    assert_eq!(dataset(&mut m), dataset(&mut r));
    // Read-only, and WAIT refused, as on a redis-server replica.
    let err = r.set::<_, _, ()>("x", 1).unwrap_err();
    assert!(
        err.to_string()
            .contains("You can't write against a read only replica"),
        "{err}"
    );
    let role: Vec<redis::Value> = redis::cmd("ROLE").query(&mut r).unwrap();
    assert_eq!(role.len(), 5);
    // The master drops the link: we come back with +CONTINUE.
    client_kill_type(&mut m, "replica");
    writes(&mut m, 50);
    assert!(replica.wait_log(
        "Successful partial resynchronization with master.",
        Duration::from_secs(20)
    ));
    assert!(caught_up(&mut m, &mut r));
    assert_eq!(dataset(&mut m), dataset(&mut r));
    assert_eq!(
        info_field(&mut m, "stats", "sync_full").as_deref(),
        Some("1")
    );
    assert_repl_traffic_counted(&mut m, &mut r);
}

#[test]
fn chain_and_promotion_keep_partial_resyncs() {
    let Some(top) = RealRedis::start(&["--repl-diskless-sync-delay", "0"]) else {
        return;
    };
    let mut t = conn(top.port);
    fill(&mut t);
    // redis-server -> resplica -> redis-server
    let middle = Server::start(&[
        "--replicaof",
        "127.0.0.1",
        &top.port.to_string(),
        "--repl-diskless-sync-delay",
        "0",
    ]);
    let mut mid = middle.conn();
    assert!(caught_up(&mut t, &mut mid), "{:#?}", middle.log());
    let Some(leaf) = RealRedis::start(&["--replicaof", "127.0.0.1", &middle.port.to_string()])
    else {
        return;
    };
    let mut l = conn(leaf.port);
    writes(&mut t, 100);
    assert!(caught_up(&mut t, &mut mid));
    assert!(caught_up(&mut mid, &mut l));
    assert_eq!(dataset(&mut t), dataset(&mut l));
    // Offsets and ids are the same all along the chain.
    assert_eq!(
        info_field(&mut t, "replication", "master_replid"),
        info_field(&mut l, "replication", "master_replid")
    );
    // Promote the middle node; the leaf keeps following it with a partial resync.
    let _: () = redis::cmd("REPLICAOF")
        .arg("NO")
        .arg("ONE")
        .query(&mut mid)
        .unwrap();
    assert_eq!(
        info_field(&mut mid, "replication", "role").as_deref(),
        Some("master")
    );
    let _: () = mid.set("after-promotion", 1).unwrap();
    assert!(wait_until(Duration::from_secs(20), || l
        .get::<_, Option<i64>>("after-promotion")
        .unwrap()
        == Some(1)));
    assert_eq!(
        info_field(&mut mid, "stats", "sync_full").as_deref(),
        Some("1"),
        "the leaf needed a second full sync"
    );
    assert!(info_field(&mut mid, "stats", "sync_partial_ok").is_some_and(|v| v != "0"));
}

#[test]
fn replica_restart_from_its_rdb_resumes_with_continue() {
    let Some(master) = RealRedis::start(&["--repl-diskless-sync-delay", "0"]) else {
        return;
    };
    let mut m = conn(master.port);
    fill(&mut m);
    let dir = scratch_dir("replica-restart");
    let mp = master.port.to_string();
    let args = [
        "--replicaof",
        "127.0.0.1",
        mp.as_str(),
        "--dir",
        dir.to_str().unwrap(),
    ];
    {
        let mut replica = Server::start(&args);
        let mut r = replica.conn();
        assert!(caught_up(&mut m, &mut r));
        let _: redis::RedisResult<()> = redis::cmd("SHUTDOWN").arg("SAVE").query(&mut r);
        assert_eq!(replica.wait_exit(Duration::from_secs(20)), Some(0));
    }
    writes(&mut m, 20);
    let replica = Server::start(&args);
    let mut r = replica.conn();
    assert!(replica.wait_log(
        "Successful partial resynchronization with master.",
        Duration::from_secs(30)
    ));
    assert!(caught_up(&mut m, &mut r));
    assert_eq!(dataset(&mut m), dataset(&mut r));
    assert_eq!(
        info_field(&mut m, "stats", "sync_full").as_deref(),
        Some("1")
    );
}

#[test]
fn replica_announces_the_configured_address() {
    let Some(master) = RealRedis::start(&["--repl-diskless-sync-delay", "0"]) else {
        return;
    };
    let mut m = conn(master.port);
    let replica = Server::start(&[
        "--replicaof",
        "127.0.0.1",
        &master.port.to_string(),
        "--replica-announce-ip",
        "10.9.8.7",
        "--replica-announce-port",
        "4444",
    ]);
    assert!(replica.wait_log(
        "MASTER <-> REPLICA sync: Finished with success",
        Duration::from_secs(30)
    ));
    assert!(wait_until(Duration::from_secs(10), || {
        let info: String = redis::cmd("INFO").arg("replication").query(&mut m).unwrap();
        info.contains("slave0:ip=10.9.8.7,port=4444,state=online")
    }));
}

/// `repl-diskless-load`: `disabled` (the default) keeps the transfer as dump.rdb, `swapdb`
/// does not, `on-empty-db` does only when the replica held keys; `rdb-del-sync-files yes`
/// removes the kept file when the replica has no persistence. Every mode ends with the
/// master's data.
#[test]
fn diskless_load_modes_decide_whether_the_transfer_is_kept_on_disk() {
    let master = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let mut m = master.conn();
    fill(&mut m);
    let want = dataset(&mut m);
    let port = master.port.to_string();
    let cases: &[(&[&str], bool, bool, &str)] = &[
        // (extra args, replica holds keys first, file expected, log word)
        (&[], false, true, "to disk"),
        (
            &["--repl-diskless-load", "swapdb"],
            true,
            false,
            "to parser",
        ),
        (
            &["--repl-diskless-load", "on-empty-db"],
            false,
            false,
            "to parser",
        ),
        (
            &["--repl-diskless-load", "on-empty-db"],
            true,
            true,
            "to disk",
        ),
        (
            &["--save", "", "--rdb-del-sync-files", "yes"],
            false,
            false,
            "to disk",
        ),
    ];
    for (extra, has_keys, file_expected, word) in cases {
        let replica = Server::start(extra);
        let mut r = replica.conn();
        if *has_keys {
            let _: () = r.set("local-only", 1).unwrap();
        }
        let _: () = redis::cmd("REPLICAOF")
            .arg("127.0.0.1")
            .arg(&port)
            .query(&mut r)
            .unwrap();
        assert!(
            replica.wait_log(
                "MASTER <-> REPLICA sync: Finished with success",
                Duration::from_secs(30)
            ),
            "{extra:?}"
        );
        assert!(
            replica
                .log()
                .iter()
                .any(|l| l.contains("from master") && l.contains(word)),
            "{extra:?}: no 'receiving ... {word}' line"
        );
        assert!(caught_up(&mut m, &mut r), "{extra:?}");
        assert_eq!(dataset(&mut r), want, "{extra:?}");
        let file = replica.dir.join("dump.rdb");
        assert_eq!(file.exists(), *file_expected, "{extra:?}: dump.rdb");
        if *file_expected {
            // The kept file is the master's snapshot: a fresh server loads the same data.
            let copy = scratch_dir("kept-sync-rdb");
            std::fs::copy(&file, copy.join("dump.rdb")).unwrap();
            let loaded = Server::start(&["--dir", copy.to_str().unwrap()]);
            assert_eq!(dataset(&mut loaded.conn()), want, "{extra:?}: kept file");
        }
    }
}

#[test]
fn the_master_link_is_a_client_that_client_kill_type_master_closes() {
    let master = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let mut m = master.conn();
    let _: () = m.set("k", 1).unwrap();
    let replica = Server::start(&["--replicaof", "127.0.0.1", &master.port.to_string()]);
    let mut r = replica.conn();
    assert!(caught_up(&mut m, &mut r));
    // As on redis-server: CLIENT LIST shows the link with flags=M and the master's address.
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut r).unwrap();
    let line = list
        .lines()
        .find(|l| l.contains(" flags=M "))
        .unwrap_or_else(|| panic!("no master client in CLIENT LIST:\n{list}"));
    assert!(
        line.contains(&format!(" addr=127.0.0.1:{} ", master.port)),
        "{line}"
    );
    let normal = client_kill_type(&mut r, "normal");
    assert_eq!(normal, 0, "TYPE normal must not match the master link");
    let killed = client_kill_type(&mut r, "master");
    assert_eq!(killed, 1);
    // The link comes back and resumes with +CONTINUE.
    assert!(
        wait_until(Duration::from_secs(10), || info_field(
            &mut m,
            "stats",
            "sync_partial_ok"
        )
        .as_deref()
            == Some("1")),
        "no partial resync after CLIENT KILL TYPE master"
    );
    let _: () = m.set("k", 2).unwrap();
    assert!(caught_up(&mut m, &mut r));
    assert_eq!(r.get::<_, i64>("k").unwrap(), 2);
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut r).unwrap();
    assert_eq!(list.lines().filter(|l| l.contains(" flags=M ")).count(), 1);
}

#[test]
fn stale_replica_with_serve_stale_data_no_answers_like_redis() {
    // A master that is never reachable: the link stays down.
    let dead = free_port().to_string();
    let args = [
        "--replicaof",
        "127.0.0.1",
        &dead,
        "--replica-serve-stale-data",
        "no",
    ];
    let Some(real) = RealRedis::start(&args) else {
        return;
    };
    let ours = Server::start(&args);
    let mut a = Raw::connect(ours.port);
    let mut b = Raw::connect(real.port);
    // PING is not allowed on a stale replica in 7.0 (Sentinel counts -MASTERDOWN as alive);
    // ECHO, ROLE and the like are.
    for cmd in [
        &["PING"][..],
        &["ECHO", "x"],
        &["GET", "k"],
        &["SET", "k", "v"],
        &["DBSIZE"],
        &["ROLE"],
        &["SELECT", "1"],
    ] {
        let (x, y) = (a.call(cmd), b.call(cmd));
        let norm = |v: &redis::Value| {
            // ROLE's state and offset depend on timing; compare the role and the shape.
            let s = show(v);
            if cmd[0] == "ROLE" {
                s.split(',').next().unwrap_or("").to_string()
            } else {
                s
            }
        };
        assert_eq!(norm(&x.value), norm(&y.value), "{cmd:?}");
    }
    // The flags COMMAND INFO reports match too.
    let flags = |port: u16| -> Vec<String> {
        let mut r = Raw::connect(port);
        match r.call(&["COMMAND", "INFO", "ping", "echo"]).value {
            redis::Value::Array(cmds) => cmds
                .iter()
                .map(|c| match c {
                    redis::Value::Array(f) => f.get(2).map(show).unwrap_or_default(),
                    other => show(other),
                })
                .collect(),
            other => vec![show(&other)],
        }
    };
    assert_eq!(flags(ours.port), flags(real.port));
}

/// Resplica → Resplica → Resplica: data, replication id and offsets equal at every hop; then
/// the top (a redis-server master in front of the chain) restarts from its RDB and the chain
/// resumes and stays equal.
#[test]
fn resplica_chain_follows_a_restarted_redis_master() {
    let Some(mut top) = RealRedis::start(&["--repl-diskless-sync-delay", "0"]) else {
        return;
    };
    let mut t = conn(top.port);
    fill(&mut t);
    let a = Server::start(&["--replicaof", "127.0.0.1", &top.port.to_string()]);
    let b = Server::start(&["--replicaof", "127.0.0.1", &a.port.to_string()]);
    let c = Server::start(&["--replicaof", "127.0.0.1", &b.port.to_string()]);
    let (mut ca, mut cb, mut cc) = (a.conn(), b.conn(), c.conn());
    writes(&mut t, 200);
    assert!(caught_up(&mut t, &mut ca), "{:#?}", a.log());
    assert!(caught_up(&mut ca, &mut cb), "{:#?}", b.log());
    assert!(caught_up(&mut cb, &mut cc), "{:#?}", c.log());
    let want = dataset(&mut t);
    for (name, conn) in [("a", &mut ca), ("b", &mut cb), ("c", &mut cc)] {
        assert_eq!(dataset(conn), want, "hop {name}");
        assert_eq!(
            info_field(conn, "replication", "master_replid"),
            info_field(&mut t, "replication", "master_replid"),
            "hop {name}"
        );
    }
    top.restart();
    let mut t = conn(top.port);
    writes(&mut t, 200);
    let _: () = t.set("after-restart", 1).unwrap();
    assert!(
        wait_until(Duration::from_secs(30), || cc
            .get::<_, Option<i64>>("after-restart")
            .unwrap()
            == Some(1)),
        "{:#?}",
        a.log()
    );
    assert!(caught_up(&mut t, &mut ca));
    assert!(caught_up(&mut ca, &mut cb));
    assert!(caught_up(&mut cb, &mut cc));
    let want = dataset(&mut t);
    assert_eq!(dataset(&mut cc), want);
}
