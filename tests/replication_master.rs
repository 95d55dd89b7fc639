//! Resplica as a master with real redis-server 7.0 replicas attached: full sync of every type,
//! the live stream, partial resynchronization, full sync past the backlog, disk framing, WAIT,
//! min-replicas, a chain of two redis-server levels, a replica that stops reading, and one that
//! stops acknowledging.

mod common;
use common::*;
use redis::Commands;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::time::Duration;

/// Every key of databases 0..4 with its type, a normalised value and its PEXPIRETIME.
fn dataset(c: &mut redis::Connection) -> BTreeMap<(u8, String), (String, String, i64)> {
    let mut out = BTreeMap::new();
    for db in 0..4u8 {
        let _: () = redis::cmd("SELECT").arg(db).query(c).unwrap();
        let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(c).unwrap();
        for k in keys {
            let t: String = redis::cmd("TYPE").arg(&k).query(c).unwrap();
            let v = match t.as_str() {
                "string" => c.get::<_, String>(&k).unwrap(),
                "list" => c.lrange::<_, Vec<String>>(&k, 0, -1).unwrap().join(","),
                "hash" => {
                    let mut v: Vec<(String, String)> =
                        c.hgetall::<_, Vec<(String, String)>>(&k).unwrap();
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
                other => other.to_string(),
            };
            let exp: i64 = redis::cmd("PEXPIRETIME").arg(&k).query(c).unwrap();
            out.insert((db, k), (t, v, exp));
        }
    }
    let _: () = redis::cmd("SELECT").arg(0).query(c).unwrap();
    out
}

fn fill(c: &mut redis::Connection) {
    let mut p = redis::pipe();
    for i in 0..300 {
        p.set(format!("s:{i}"), format!("v{i}")).ignore();
        p.cmd("SET")
            .arg(format!("t:{i}"))
            .arg(i)
            .arg("EX")
            .arg(10_000 + i)
            .ignore();
    }
    let _: () = p.query(c).unwrap();
    let _: () = c.rpush("list", (0..1000).collect::<Vec<i32>>()).unwrap();
    let _: () = c
        .hset_multiple("hsmall", &[("a", "1"), ("b", "2")])
        .unwrap();
    let big: Vec<(String, String)> = (0..600)
        .map(|i| (format!("f{i}"), format!("{i}")))
        .collect();
    let _: () = c.hset_multiple("hbig", &big).unwrap();
    let _: () = c.sadd("ints", (0..100).collect::<Vec<i32>>()).unwrap();
    let _: () = c.sadd("words", &["x", "y", "z"]).unwrap();
    let z: Vec<(f64, String)> = (0..200)
        .map(|i| (i as f64 * 1.5, format!("m{i}")))
        .collect();
    let _: () = c.zadd_multiple("zbig", &z).unwrap();
    let _: () = c.zadd("zsmall", "a", 1).unwrap();
    for db in 1..4 {
        let _: () = redis::cmd("SELECT").arg(db).query(c).unwrap();
        let _: () = c.set(format!("in-db{db}"), db).unwrap();
        let _: () = redis::cmd("PEXPIRE")
            .arg(format!("in-db{db}"))
            .arg(500_000)
            .query(c)
            .unwrap();
    }
    let _: () = redis::cmd("SELECT").arg(0).query(c).unwrap();
}

/// Mixed writes whose replication needs the 7.0 rewrite rules.
fn churn(c: &mut redis::Connection, n: usize, seed: u64) {
    let mut x = seed;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..n {
        let r = next();
        let k = format!("c:{}", r % 50);
        let _: redis::RedisResult<redis::Value> = match r % 14 {
            0 => redis::cmd("SET")
                .arg(&k)
                .arg(i)
                .arg("PX")
                .arg(100_000)
                .query(c),
            1 => redis::cmd("INCRBYFLOAT")
                .arg(format!("f:{}", r % 5))
                .arg("1.25")
                .query(c),
            2 => redis::cmd("SADD").arg("spopme").arg(i).query(c),
            3 => redis::cmd("SPOP").arg("spopme").query(c),
            4 => redis::cmd("SPOP").arg("spopme").arg(3).query(c),
            5 => redis::cmd("EXPIRE")
                .arg(format!("s:{}", r % 300))
                .arg(20_000)
                .query(c),
            6 => redis::cmd("LPUSH").arg("list").arg(i).query(c),
            7 => redis::cmd("RPOP").arg("list").query(c),
            8 => redis::cmd("HINCRBYFLOAT")
                .arg("hsmall")
                .arg("a")
                .arg("0.5")
                .query(c),
            9 => redis::cmd("ZINCRBY")
                .arg("zbig")
                .arg(2)
                .arg(format!("m{}", r % 200))
                .query(c),
            10 => redis::cmd("DEL").arg(&k).query(c),
            11 => redis::pipe()
                .atomic()
                .incr("tx:a", 1)
                .incr("tx:b", 1)
                .query(c),
            12 => redis::cmd("GETEX")
                .arg(format!("t:{}", r % 300))
                .arg("EX")
                .arg(30_000)
                .query(c),
            // Already expired when set: both sides must read it as missing.
            _ => redis::cmd("SET")
                .arg(format!("exp:{i}"))
                .arg(1)
                .arg("PXAT")
                .arg(1)
                .query(c),
        };
    }
}

/// Waits until the replica applied everything the master produced, then compares datasets.
/// The `slaveN:ip=..,port=..,state=..,offset=..,lag=..` lines of INFO replication, joined.
fn slave_lines(m: &mut redis::Connection) -> String {
    let info: String = redis::cmd("INFO").arg("replication").query(m).unwrap();
    info.lines()
        .filter(|l| l.starts_with("slave"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn assert_in_sync(master: &mut redis::Connection, replica: &mut redis::Connection) {
    let caught_up = wait_until(Duration::from_secs(30), || {
        let m = info_field(master, "replication", "master_repl_offset");
        let r = info_field(replica, "replication", "slave_repl_offset");
        m.is_some() && m == r
    });
    assert!(caught_up, "replica did not catch up");
    let ours = dataset(master);
    let theirs = dataset(replica);
    let only_ours: Vec<_> = ours.keys().filter(|k| !theirs.contains_key(*k)).collect();
    let only_theirs: Vec<_> = theirs.keys().filter(|k| !ours.contains_key(*k)).collect();
    assert!(
        only_ours.is_empty() && only_theirs.is_empty(),
        "only on master: {only_ours:?}; only on replica: {only_theirs:?}"
    );
    for (k, v) in &ours {
        assert_eq!(theirs.get(k), Some(v), "key {k:?} differs");
    }
}

#[test]
fn real_replica_full_sync_stream_and_partial_resync() {
    let master = Server::start(&["--repl-diskless-sync-delay", "0", "--save", ""]);
    let mut m = master.conn();
    fill(&mut m);
    let Some((_replica, mut r)) = RealRedis::replica_of(master.port) else {
        return;
    };
    assert_in_sync(&mut m, &mut r);
    churn(&mut m, 10_000, 7);
    assert_in_sync(&mut m, &mut r);
    // Within the backlog: the replica comes back with +CONTINUE.
    client_kill_type(&mut m, "replica");
    churn(&mut m, 200, 11);
    assert!(wait_until(Duration::from_secs(20), || info_field(
        &mut m,
        "stats",
        "sync_partial_ok"
    )
    .as_deref()
        == Some("1")));
    wait_link_up(&mut r);
    assert_in_sync(&mut m, &mut r);
    assert_eq!(
        info_field(&mut m, "stats", "sync_full").as_deref(),
        Some("1")
    );
    // ROLE and INFO list the replica.
    let info: String = redis::cmd("INFO").arg("replication").query(&mut m).unwrap();
    assert!(info.contains("slave0:ip=127.0.0.1,port="), "{info}");
    assert!(info.contains("state=online"), "{info}");
    // WAIT returns once the replica ACKed the last write.
    let _: () = m.set("waited", 1).unwrap();
    let n: i64 = redis::cmd("WAIT").arg(1).arg(5000).query(&mut m).unwrap();
    assert_eq!(n, 1);
    assert_repl_traffic_counted(&mut m, &mut r);
}

#[test]
fn chain_resplica_redis_redis_stays_equal_and_lists_its_replica() {
    let master = Server::start(&["--repl-diskless-sync-delay", "0", "--save", ""]);
    let mut m = master.conn();
    fill(&mut m);
    let Some((middle, mut mid)) = RealRedis::replica_of(master.port) else {
        return;
    };
    let Some((_leaf, mut leaf)) = RealRedis::replica_of(middle.port) else {
        return;
    };
    churn(&mut m, 3000, 5);
    assert_in_sync(&mut m, &mut mid);
    assert_in_sync(&mut m, &mut leaf);
    // The whole chain shares our replication id.
    let replid = info_field(&mut m, "replication", "master_replid");
    assert_eq!(
        info_field(&mut leaf, "replication", "master_replid"),
        replid
    );
    // Our replica is a client with flag S; its own replica is not ours.
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut m).unwrap();
    let replicas: Vec<&str> = list.lines().filter(|l| l.contains(" flags=S ")).collect();
    assert_eq!(replicas.len(), 1, "{list}");
    assert_eq!(
        info_field(&mut m, "replication", "connected_slaves").as_deref(),
        Some("1")
    );
}

#[test]
fn reconnect_past_the_backlog_and_new_replid_force_full_syncs() {
    let master = Server::start(&[
        "--repl-diskless-sync-delay",
        "0",
        "--repl-backlog-size",
        "16kb",
        "--save",
        "",
        "--enable-debug-command",
        "yes",
    ]);
    let mut m = master.conn();
    let _: () = m.set("a", 1).unwrap();
    let Some((_replica, mut r)) = RealRedis::replica_of(master.port) else {
        return;
    };
    // Drop the link and write far more than the backlog holds before it comes back.
    let big = "x".repeat(1000);
    let mut p = redis::pipe();
    p.cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("replica")
        .ignore();
    for i in 0..200 {
        p.set(format!("big:{i}"), &big).ignore();
    }
    let _: () = p.query(&mut m).unwrap();
    assert!(
        wait_until(Duration::from_secs(20), || {
            info_field(&mut m, "stats", "sync_full_reason_offset_before_backlog").as_deref()
                == Some("1")
        }),
        "{:#?}",
        master.log()
    );
    wait_link_up(&mut r);
    assert_in_sync(&mut m, &mut r);
    // A new replication id: the next reconnect cannot continue.
    let _: () = redis::cmd("DEBUG")
        .arg("CHANGE-REPL-ID")
        .query(&mut m)
        .unwrap();
    client_kill_type(&mut m, "replica");
    assert!(wait_until(Duration::from_secs(20), || {
        info_field(&mut m, "stats", "sync_full_reason_replid_mismatch").as_deref() == Some("1")
    }));
    wait_link_up(&mut r);
    let _: () = m.set("after", "new-id").unwrap();
    assert_in_sync(&mut m, &mut r);
}

#[test]
fn disk_framing_and_two_replicas() {
    let master = Server::start(&["--repl-diskless-sync", "no", "--save", ""]);
    let mut m = master.conn();
    fill(&mut m);
    let Some(a) = RealRedis::start(&["--replicaof", "127.0.0.1", &master.port.to_string()]) else {
        return;
    };
    let Some(b) = RealRedis::start(&["--replicaof", "127.0.0.1", &master.port.to_string()]) else {
        return;
    };
    let (mut ra, mut rb) = (conn(a.port), conn(b.port));
    wait_link_up(&mut ra);
    wait_link_up(&mut rb);
    churn(&mut m, 2000, 3);
    assert_in_sync(&mut m, &mut ra);
    assert_in_sync(&mut m, &mut rb);
    assert_eq!(
        info_field(&mut m, "replication", "connected_slaves").as_deref(),
        Some("2")
    );
    let _: () = m.set("w", 1).unwrap();
    let n: i64 = redis::cmd("WAIT").arg(2).arg(5000).query(&mut m).unwrap();
    assert_eq!(n, 2);
}

#[test]
fn min_replicas_to_write_refuses_then_accepts() {
    let master = Server::start(&[
        "--repl-diskless-sync-delay",
        "0",
        "--min-replicas-to-write",
        "1",
        "--min-replicas-max-lag",
        "10",
    ]);
    let mut m = master.conn();
    let err = m.set::<_, _, ()>("k", 1).unwrap_err();
    assert!(err.to_string().contains("NOREPLICAS"), "{err}");
    let Some((_replica, _link_up)) = RealRedis::replica_of(master.port) else {
        return;
    };
    assert!(wait_until(Duration::from_secs(10), || m
        .set::<_, _, ()>("k", 1)
        .is_ok()));
    // WAIT with no replica able to satisfy it times out with the count it had.
    let n: i64 = redis::cmd("WAIT").arg(2).arg(200).query(&mut m).unwrap();
    assert_eq!(n, 1);
}

#[test]
fn waits_on_writes_already_asked_for_share_one_getack() {
    let master = Server::start(&[
        "--repl-diskless-sync-delay",
        "0",
        "--repl-ping-replica-period",
        "3600",
    ]);
    let Some((_replica, _link_up)) = RealRedis::replica_of(master.port) else {
        return;
    };
    let getack_len = "*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n".len() as i64;
    let mut probe = master.conn();
    let mut offset = || info_int(&mut probe, "replication", "master_repl_offset");
    let wait_for_two = |c: &mut redis::Connection| {
        let n: i64 = redis::cmd("WAIT").arg(2).arg(50).query(c).unwrap();
        assert_eq!(n, 1, "one replica acknowledged");
    };
    let mut clients: Vec<redis::Connection> = (0..3).map(|_| master.conn()).collect();
    for (i, c) in clients.iter_mut().enumerate() {
        let _: () = c.set(format!("k{i}"), i).unwrap();
    }
    // Three clients wait (for more replicas than there are) on writes already in the stream:
    // the first WAIT's GETACK follows all three writes, so the others add nothing.
    let before = offset();
    for c in clients.iter_mut() {
        wait_for_two(c);
    }
    assert_eq!(offset(), before + getack_len, "one GETACK for three WAITs");
    // A write after that GETACK needs a new one.
    let _: () = clients[0].set("k0", "again").unwrap();
    let after_write = offset();
    wait_for_two(&mut clients[0]);
    assert_eq!(offset(), after_write + getack_len);
}

#[test]
fn backlog_memory_stays_close_to_its_size() {
    let master = Server::start(&[
        "--repl-diskless-sync-delay",
        "0",
        "--repl-backlog-size",
        "4mb",
    ]);
    let Some((_replica, _link_up)) = RealRedis::replica_of(master.port) else {
        return;
    };
    let mut m = master.conn();
    // Single writes (copied into the backlog's tail) alternate with pipelined batches (shared
    // with the replica's queue) until twice the backlog's size went through.
    let value = "v".repeat(100);
    for round in 0..900 {
        for i in 0..16 {
            let _: () = m.set(format!("single:{round}:{i}"), &value).unwrap();
        }
        let mut pipe = redis::pipe();
        for i in 0..32 {
            pipe.set(format!("batch:{round}:{i}"), &value).ignore();
        }
        let _: () = pipe.query(&mut m).unwrap();
    }
    let used = |m: &mut redis::Connection| info_int(m, "memory", "used_memory");
    let histlen = info_field(&mut m, "replication", "repl_backlog_histlen");
    assert_eq!(histlen.as_deref(), Some("4194304"), "the backlog is full");
    let before = used(&mut m);
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("repl-backlog-size")
        .arg("16kb")
        .query(&mut m)
        .unwrap();
    let freed = (before - used(&mut m)) as f64;
    let released = (4 * 1024 * 1024 - 16 * 1024) as f64;
    assert!(
        (0.97..=1.10).contains(&(freed / released)),
        "shrinking the backlog freed {freed} bytes for {released} of stream"
    );
}

#[test]
fn replconf_and_psync_bad_input_get_redis_errors() {
    let master = Server::start(&[]);
    let mut s = std::net::TcpStream::connect(("127.0.0.1", master.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut ask = |req: &str, expect: &str| {
        s.write_all(req.as_bytes()).unwrap();
        let mut buf = vec![0u8; expect.len()];
        s.read_exact(&mut buf).unwrap();
        assert_eq!(String::from_utf8_lossy(&buf), expect, "reply to {req:?}");
    };
    ask("REPLCONF listening-port\r\n", "-ERR syntax error\r\n");
    ask(
        "REPLCONF listening-port abc\r\n",
        "-ERR value is not an integer or out of range\r\n",
    );
    ask(
        "REPLCONF foo bar\r\n",
        "-ERR Unrecognized REPLCONF option: foo\r\n",
    );
    ask("REPLCONF capa eof capa psync2\r\n", "+OK\r\n");
    ask(
        "PSYNC ? notanumber\r\n",
        "-ERR value is not an integer or out of range\r\n",
    );
    // ACK from a non-replica gets no reply at all: the PING after it is answered next.
    ask("REPLCONF ACK 10\r\nPING\r\n", "+PONG\r\n");
}

#[test]
fn replica_that_stops_reading_is_cut_and_the_master_keeps_serving() {
    let master = Server::start(&[
        "--repl-diskless-sync-delay",
        "0",
        "--repl-backlog-size",
        "16kb",
        "--client-output-buffer-limit",
        "replica 256kb 128kb 10",
    ]);
    let mut s = std::net::TcpStream::connect(("127.0.0.1", master.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"REPLCONF capa eof\r\nPSYNC ? -1\r\n").unwrap();
    let mut first = [0u8; 64];
    let n = s.read(&mut first).unwrap();
    assert!(n > 0);
    // Now never read again, and never ACK: the master must drop us, not grow without bound.
    let mut m = master.conn();
    let big = "y".repeat(10_000);
    for round in 0..100 {
        let mut p = redis::pipe();
        for i in 0..20 {
            p.set(format!("k:{round}:{i}"), &big).ignore();
        }
        let _: () = p.query(&mut m).unwrap();
        if master
            .log()
            .iter()
            .any(|l| l.contains("overcoming of output buffer limits"))
        {
            break;
        }
    }
    assert!(master.wait_log(
        "overcoming of output buffer limits",
        Duration::from_secs(20)
    ));
    assert!(wait_until(Duration::from_secs(10), || info_field(
        &mut m,
        "replication",
        "connected_slaves"
    )
    .as_deref()
        == Some("0")));
    let pong: String = redis::cmd("PING").query(&mut m).unwrap();
    assert_eq!(pong, "PONG");
}

#[test]
fn replica_silent_for_repl_timeout_is_dropped_and_an_acking_one_stays() {
    let master = Server::start(&["--repl-diskless-sync-delay", "0", "--repl-timeout", "2"]);
    let mut m = master.conn();
    let _: () = m.set("k", "v").unwrap();
    // Two hand-made replicas with disk framing: streaming (and the ACK clock) starts right
    // after the payload, which is small enough to sit unread in the socket buffers.
    let attach = |port: &str| {
        let mut r = Raw::connect(master.port);
        assert_eq!(r.call(&["REPLCONF", "listening-port", port]).sig, "+");
        assert_eq!(r.call(&["REPLCONF", "capa", "psync2"]).sig, "+");
        r.send(&["PSYNC", "?", "-1"]);
        r
    };
    let mut acking = attach("1111");
    let _silent = attach("2222");
    assert!(wait_until(Duration::from_secs(10), || {
        let s = slave_lines(&mut m);
        s.contains("port=1111,state=online") && s.contains("port=2222,state=online")
    }));
    // ACK every 300 ms for twice the timeout: the silent one is cut, the other stays.
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(4) {
        acking.send(&["REPLCONF", "ACK", "0"]);
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(master.wait_log(
        "Disconnecting timedout replica (streaming sync)",
        Duration::from_secs(5)
    ));
    let s = slave_lines(&mut m);
    assert!(s.contains("port=1111") && !s.contains("port=2222"), "{s}");
    assert_eq!(
        info_field(&mut m, "replication", "connected_slaves").as_deref(),
        Some("1")
    );
}

#[test]
fn diskless_replica_is_online_at_once_but_streamed_only_after_its_first_ack() {
    let master = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let mut m = master.conn();
    let _: () = m.set("before", "1").unwrap();
    let mut s = std::net::TcpStream::connect(("127.0.0.1", master.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"REPLCONF listening-port 3333\r\nREPLCONF capa eof capa psync2\r\nPSYNC ? -1\r\n")
        .unwrap();
    // +OK +OK +FULLRESYNC <replid> <offset>, then $EOF:<mark> and a payload ending in the mark.
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let payload_done = |got: &[u8]| -> bool {
        let text = String::from_utf8_lossy(got);
        let Some(at) = text.find("$EOF:") else {
            return false;
        };
        let mark = &got[at + 5..];
        mark.len() >= 42 && got.ends_with(&mark[..40]) && got.len() > at + 5 + 42 + 40
    };
    while !payload_done(&got) {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "master closed the link");
        got.extend_from_slice(&buf[..n]);
    }
    assert!(
        wait_until(Duration::from_secs(5), || slave_lines(&mut m)
            .contains("slave0:ip=127.0.0.1,port=3333,state=online,offset=0")),
        "{}",
        slave_lines(&mut m)
    );
    // Nothing of the stream before the first ACK ...
    let _: () = m.set("a", "1").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    assert!(
        s.read(&mut buf).is_err(),
        "stream sent before the first ACK"
    );
    // ... and the buffered write right after it, as the client sent it.
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$1\r\n0\r\n")
        .unwrap();
    let expected = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n";
    let mut stream = Vec::new();
    while stream.len() < expected.len() {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "master closed the link");
        stream.extend_from_slice(&buf[..n]);
    }
    assert_eq!(
        String::from_utf8_lossy(&stream[..expected.len()]),
        String::from_utf8_lossy(expected)
    );
}

#[test]
fn master_restart_from_its_rdb_lets_the_replica_continue() {
    let dir = scratch_dir("master-restart");
    let port = free_port();
    let args = |d: &std::path::Path| -> Vec<String> {
        vec![
            "--port".into(),
            port.to_string(),
            "--dir".into(),
            d.to_str().unwrap().into(),
            "--repl-diskless-sync-delay".into(),
            "0".into(),
        ]
    };
    let start = |d: &std::path::Path| {
        let a = args(d);
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_resplica"))
            .args(&a)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let up = wait_until(Duration::from_secs(20), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        if !up {
            let _ = child.kill();
            panic!("master did not start");
        }
        child
    };
    let mut master = start(&dir);
    let mut m = conn(port);
    let _: () = m.set("before", 1).unwrap();
    let Some(real) = RealRedis::start(&["--replicaof", "127.0.0.1", &port.to_string()]) else {
        let _ = master.kill();
        let _ = master.wait();
        return;
    };
    let mut r = conn(real.port);
    wait_link_up(&mut r);
    assert_in_sync(&mut m, &mut r);
    // SHUTDOWN SAVE writes repl-id/repl-offset; the restarted master offers that history.
    let _: redis::RedisResult<()> = redis::cmd("SHUTDOWN").arg("SAVE").query(&mut m);
    let _ = master.wait();
    let mut master = start(&dir);
    let mut m = conn(port);
    assert!(
        wait_until(Duration::from_secs(30), || info_field(
            &mut m,
            "stats",
            "sync_partial_ok"
        )
        .as_deref()
            == Some("1")),
        "the replica did not resume with +CONTINUE"
    );
    assert_eq!(
        info_field(&mut m, "stats", "sync_full").as_deref(),
        Some("0")
    );
    let _: () = m.set("after", 2).unwrap();
    wait_link_up(&mut r);
    assert_in_sync(&mut m, &mut r);
    let _ = master.kill();
    let _ = master.wait();
}

#[test]
fn config_set_repl_backlog_size_resizes_the_live_backlog() {
    let master = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let mut m = master.conn();
    let Some((_replica, _link_up)) = RealRedis::replica_of(master.port) else {
        return;
    };
    let big = "b".repeat(1000);
    let mut p = redis::pipe();
    for i in 0..100 {
        p.set(format!("k{i}"), &big).ignore();
    }
    let _: () = p.query(&mut m).unwrap();
    let hist = |m: &mut redis::Connection| -> i64 {
        info_field(m, "replication", "repl_backlog_histlen")
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(hist(&mut m) > 100_000);
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("repl-backlog-size")
        .arg("32kb")
        .query(&mut m)
        .unwrap();
    assert_eq!(
        info_field(&mut m, "replication", "repl_backlog_size").as_deref(),
        Some("32768")
    );
    assert_eq!(
        hist(&mut m),
        32 * 1024,
        "the resized backlog keeps the newest bytes that fit"
    );
    // The kept tail still serves a partial resync.
    client_kill_type(&mut m, "replica");
    assert!(wait_until(Duration::from_secs(20), || info_field(
        &mut m,
        "stats",
        "sync_partial_ok"
    )
    .as_deref()
        == Some("1")));
}

/// Replicas arriving during `repl-diskless-sync-delay` share one snapshot, and
/// `repl-diskless-sync-max-replicas` starts it as soon as that many have arrived (here long
/// before the 60-second delay).
#[test]
fn replicas_share_one_snapshot_started_at_max_replicas() {
    let master = Server::start(&[
        "--repl-diskless-sync-delay",
        "60",
        "--repl-diskless-sync-max-replicas",
        "2",
    ]);
    let mut m = master.conn();
    fill(&mut m);
    let port = master.port.to_string();
    let Some(a) = RealRedis::start(&["--replicaof", "127.0.0.1", &port]) else {
        return;
    };
    let Some(b) = RealRedis::start(&["--replicaof", "127.0.0.1", &port]) else {
        return;
    };
    let (mut ra, mut rb) = (conn(a.port), conn(b.port));
    wait_link_up(&mut ra);
    wait_link_up(&mut rb);
    let starts: Vec<String> = master
        .log()
        .into_iter()
        .filter(|l| l.contains("Starting BGSAVE for SYNC"))
        .collect();
    assert_eq!(starts.len(), 1, "{starts:?}");
    assert!(
        starts[0].contains(&format!(":{}", a.port)) && starts[0].contains(&format!(":{}", b.port)),
        "{starts:?}"
    );
    assert_eq!(
        info_field(&mut m, "stats", "sync_full").as_deref(),
        Some("2")
    );
    churn(&mut m, 500, 9);
    assert_in_sync(&mut m, &mut ra);
    assert_in_sync(&mut m, &mut rb);
}

/// A replica that vanishes in the middle of its snapshot leaves the master serving, and the
/// snapshot slot free for the next BGSAVE and the next full sync.
#[test]
fn replica_leaving_mid_snapshot_leaves_the_master_clean() {
    let master = Server::start(&[
        "--repl-diskless-sync-delay",
        "0",
        "--save",
        "",
        "--enable-debug-command",
        "yes",
    ]);
    let mut m = master.conn();
    let _: () = redis::cmd("DEBUG")
        .arg("POPULATE")
        .arg(300_000)
        .arg("key")
        .arg(100)
        .query(&mut m)
        .unwrap();
    {
        let mut fake = Raw::connect(master.port);
        fake.call(&["REPLCONF", "capa", "eof", "capa", "psync2"]);
        fake.send(&["PSYNC", "?", "-1"]);
        assert!(master.wait_log("Starting BGSAVE for SYNC", Duration::from_secs(10)));
        // Leave without reading the payload.
    }
    assert!(master.wait_log("Connection with replica", Duration::from_secs(20)));
    assert!(master.wait_log(
        "Full sync snapshot stopped: every replica of the sync left",
        Duration::from_secs(20)
    ));
    let _: () = m.set("still", "serving").unwrap();
    // The snapshot slot was released: BGSAVE can run and finish.
    assert!(wait_until(Duration::from_secs(20), || {
        redis::cmd("BGSAVE").query::<String>(&mut m).is_ok()
    }));
    assert!(wait_until(Duration::from_secs(60), || info_field(
        &mut m,
        "persistence",
        "rdb_bgsave_in_progress"
    )
    .as_deref()
        == Some("0")));
    assert_eq!(
        info_field(&mut m, "persistence", "rdb_last_bgsave_status").as_deref(),
        Some("ok")
    );
    let Some((_replica, mut rc)) = RealRedis::replica_of(master.port) else {
        return;
    };
    assert_eq!(rc.get::<_, String>("still").unwrap(), "serving");
    let n: i64 = redis::cmd("DBSIZE").query(&mut rc).unwrap();
    assert_eq!(n, 300_001);
}
