//! Coordinated failover (FAILOVER): between Resplica nodes, from Resplica to a redis-server
//! replica and from a redis-server master to a Resplica replica — no acknowledged write lost,
//! no full sync — plus the timeout, FORCE and ABORT paths and Redis's error texts.

mod common;
use common::*;
use redis::Commands;
use std::process::Command;
use std::time::Duration;

fn role(c: &mut redis::Connection) -> String {
    info_field(c, "replication", "role").unwrap_or_default()
}

fn failover_state(c: &mut redis::Connection) -> String {
    info_field(c, "replication", "master_failover_state").unwrap_or_default()
}

fn stat(c: &mut redis::Connection, field: &str) -> i64 {
    info_field(c, "stats", field)
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1)
}

fn link_up(replica: &mut redis::Connection) -> bool {
    wait_until(Duration::from_secs(30), || {
        info_field(replica, "replication", "master_link_status").as_deref() == Some("up")
    })
}

fn caught_up(master: &mut redis::Connection, replica: &mut redis::Connection) -> bool {
    wait_until(Duration::from_secs(30), || {
        let m = info_field(master, "replication", "master_repl_offset");
        let r = info_field(replica, "replication", "slave_repl_offset");
        m.is_some() && m == r
    })
}

/// Waits until `master` lists a replica on `port` as online (FAILOVER TO requires it; a
/// redis-server master marks a diskless replica online only once its transfer is reaped).
fn replica_online(master: &mut redis::Connection, port: u16) -> bool {
    wait_until(Duration::from_secs(30), || {
        let info: String = redis::cmd("INFO")
            .arg("replication")
            .query(master)
            .unwrap_or_default();
        info.lines()
            .any(|l| l.contains(&format!("port={port},state=online")))
    })
}

fn failover_cmd(c: &mut redis::Connection, args: &[&str]) -> redis::RedisResult<String> {
    redis::cmd("FAILOVER").arg(args).query(c)
}

fn err_text(r: redis::RedisResult<String>) -> String {
    match r {
        Ok(v) => format!("OK {v}"),
        Err(e) => {
            let code = e.code().unwrap_or("").to_string();
            let detail = e.detail().unwrap_or("").to_string();
            format!("{code} {detail}").trim().to_string()
        }
    }
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "kill {sig} {pid} failed");
}

fn replica_of(port: u16) -> Server {
    Server::start(&["--replicaof", "127.0.0.1", &port.to_string()])
}

fn write_some(c: &mut redis::Connection, prefix: &str, n: usize) {
    let mut p = redis::pipe();
    for i in 0..n {
        p.set(format!("{prefix}:{i}"), i).ignore();
    }
    let _: () = p.query(c).unwrap();
}

fn count(c: &mut redis::Connection, prefix: &str) -> usize {
    let keys: Vec<String> = c.keys(format!("{prefix}:*")).unwrap();
    keys.len()
}

#[test]
fn failover_errors_match_redis() {
    let master = Server::start(&[]);
    let mut m = master.conn();
    let cases: &[(&[&str], &str)] = &[
        (&["ABORT"], "ERR No failover in progress."),
        (&[], "ERR FAILOVER requires connected replicas."),
        (
            &["TIMEOUT", "0"],
            "ERR FAILOVER timeout must be greater than 0",
        ),
        (
            &["TIMEOUT", "-5"],
            "ERR FAILOVER timeout must be greater than 0",
        ),
        (
            &["TIMEOUT", "x"],
            "ERR value is not an integer or out of range",
        ),
        (&["BOGUS"], "ERR syntax error"),
        (&["FORCE", "FORCE"], "ERR syntax error"),
        (&["TO", "127.0.0.1"], "ERR syntax error"),
    ];
    for (args, want) in cases {
        assert_eq!(
            err_text(failover_cmd(&mut m, args)),
            *want,
            "FAILOVER {args:?}"
        );
    }
    let replica = replica_of(master.port);
    let mut r = replica.conn();
    assert!(link_up(&mut r));
    let cases: &[(&[&str], &str)] = &[
        (
            &["TO", "127.0.0.1", "1"],
            "ERR FAILOVER target HOST and PORT is not a replica.",
        ),
        (
            &["FORCE", "TIMEOUT", "100"],
            "ERR FAILOVER with force option requires both a timeout and target HOST and IP.",
        ),
        (
            &["TO", "127.0.0.1", &replica.port.to_string(), "FORCE"],
            "ERR FAILOVER with force option requires both a timeout and target HOST and IP.",
        ),
    ];
    for (args, want) in cases {
        assert_eq!(
            err_text(failover_cmd(&mut m, args)),
            *want,
            "FAILOVER {args:?}"
        );
    }
    assert_eq!(
        err_text(failover_cmd(&mut r, &[])),
        "ERR FAILOVER is not valid when server is a replica."
    );
    // PSYNC ... FAILOVER sent to a master, or with someone else's replid.
    let mut raw = Raw::connect(master.port);
    let reply = raw.call(&["PSYNC", "?", "-1", "FAILOVER"]);
    assert!(
        format!("{:?}", reply.value).contains("PSYNC FAILOVER can't be sent to a master."),
        "{reply:?}"
    );
    let mut raw = Raw::connect(replica.port);
    let reply = raw.call(&["PSYNC", &"a".repeat(40), "1", "FAILOVER"]);
    assert!(
        format!("{:?}", reply.value).contains("PSYNC FAILOVER replid must match my replid."),
        "{reply:?}"
    );
    assert_eq!(failover_state(&mut m), "no-failover");
}

/// Resplica master A with a Resplica replica B and a redis-server replica C: FAILOVER TO B
/// hands over with partial syncs only; A follows B, C keeps following A (now a chain).
#[test]
fn failover_between_resplica_nodes_keeps_every_write() {
    let a = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let mut ca = a.conn();
    write_some(&mut ca, "before", 500);
    let b = replica_of(a.port);
    let mut cb = b.conn();
    let Some(c) = RealRedis::start(&["--replicaof", "127.0.0.1", &a.port.to_string()]) else {
        return;
    };
    let mut cc = conn(c.port);
    assert!(link_up(&mut cb) && link_up(&mut cc));
    assert!(replica_online(&mut ca, b.port) && replica_online(&mut ca, c.port));
    let acked: i64 = redis::cmd("WAIT").arg(2).arg(5000).query(&mut ca).unwrap();
    assert_eq!(acked, 2);
    write_some(&mut ca, "late", 100);
    let full_before = stat(&mut ca, "sync_full");
    assert_eq!(
        failover_cmd(&mut ca, &["TO", "127.0.0.1", &b.port.to_string()]).unwrap(),
        "OK"
    );
    assert!(
        wait_until(Duration::from_secs(20), || role(&mut cb) == "master"
            && role(&mut ca) == "slave"
            && failover_state(&mut ca) == "no-failover"),
        "roles did not swap: a={} b={} state={}",
        role(&mut ca),
        role(&mut cb),
        failover_state(&mut ca)
    );
    assert!(a.wait_log("is synced, failing over.", Duration::from_secs(5)));
    assert!(b.wait_log(
        "MASTER MODE enabled (failover request from",
        Duration::from_secs(5)
    ));
    // Nothing was lost and nobody needed a full sync.
    assert_eq!(count(&mut cb, "before"), 500);
    assert_eq!(count(&mut cb, "late"), 100);
    assert_eq!(
        stat(&mut cb, "sync_full"),
        0,
        "the new master served a full sync"
    );
    assert!(stat(&mut cb, "sync_partial_ok") >= 1);
    assert_eq!(stat(&mut ca, "sync_full"), full_before);
    // The old master is read-only now and follows the new one; C follows through A.
    let err = ca.set::<_, _, ()>("x", 1).unwrap_err();
    assert_eq!(err.code(), Some("READONLY"));
    write_some(&mut cb, "after", 50);
    assert!(link_up(&mut ca));
    assert!(caught_up(&mut cb, &mut ca));
    assert!(wait_until(Duration::from_secs(20), || count(
        &mut cc, "after"
    ) == 50));
    assert_eq!(count(&mut ca, "after"), 50);
}

/// Resplica master hands over to a redis-server replica, which handles PSYNC FAILOVER itself.
#[test]
fn failover_from_resplica_to_a_redis_replica() {
    let a = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let mut ca = a.conn();
    let Some(r) = RealRedis::start(&["--replicaof", "127.0.0.1", &a.port.to_string()]) else {
        return;
    };
    let mut cr = conn(r.port);
    assert!(link_up(&mut cr));
    assert!(replica_online(&mut ca, r.port));
    write_some(&mut ca, "k", 300);
    assert_eq!(
        failover_cmd(&mut ca, &["TO", "127.0.0.1", &r.port.to_string()]).unwrap(),
        "OK"
    );
    assert!(wait_until(Duration::from_secs(20), || role(&mut cr)
        == "master"
        && role(&mut ca) == "slave"
        && failover_state(&mut ca) == "no-failover"));
    assert_eq!(count(&mut cr, "k"), 300);
    assert_eq!(stat(&mut cr, "sync_full"), 0);
    assert!(wait_until(Duration::from_secs(10), || stat(
        &mut cr,
        "sync_partial_ok"
    ) >= 1));
    let _: () = cr.set("from-new-master", 1).unwrap();
    assert!(wait_until(Duration::from_secs(20), || ca
        .get::<_, Option<i64>>("from-new-master")
        .unwrap()
        == Some(1)));
}

/// A redis-server master hands over to a Resplica replica (our side of PSYNC FAILOVER).
#[test]
fn failover_from_a_redis_master_to_resplica() {
    let Some(m) = RealRedis::start(&["--repl-diskless-sync-delay", "0"]) else {
        return;
    };
    let mut cm = conn(m.port);
    write_some(&mut cm, "k", 300);
    let b = replica_of(m.port);
    let mut cb = b.conn();
    assert!(link_up(&mut cb));
    assert!(caught_up(&mut cm, &mut cb));
    assert!(replica_online(&mut cm, b.port));
    assert_eq!(
        failover_cmd(&mut cm, &["TO", "127.0.0.1", &b.port.to_string()]).unwrap(),
        "OK"
    );
    assert!(wait_until(Duration::from_secs(20), || role(&mut cb)
        == "master"
        && role(&mut cm) == "slave"
        && failover_state(&mut cm) == "no-failover"));
    assert!(b.wait_log(
        "MASTER MODE enabled (failover request from",
        Duration::from_secs(5)
    ));
    assert_eq!(count(&mut cb, "k"), 300);
    assert_eq!(stat(&mut cb, "sync_full"), 0);
    assert_eq!(stat(&mut cb, "sync_partial_ok"), 1);
    let _: () = cb.set("from-new-master", 1).unwrap();
    assert!(wait_until(Duration::from_secs(20), || cm
        .get::<_, Option<i64>>("from-new-master")
        .unwrap()
        == Some(1)));
}

/// While waiting for the replica, writes are held (reads are not); a timeout without FORCE,
/// or ABORT, gives up and releases them; FORCE fails over at the deadline anyway.
#[test]
fn failover_timeout_abort_and_force() {
    let a = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let mut ca = a.conn();
    let Some(r) = RealRedis::start(&["--replicaof", "127.0.0.1", &a.port.to_string()]) else {
        return;
    };
    let mut cr = conn(r.port);
    assert!(link_up(&mut cr));
    let target = ["TO", "127.0.0.1", &r.port.to_string()].map(String::from);
    // A stopped replica never acknowledges the write below.
    signal(r.pid(), "-STOP");
    let _: () = ca.set("pending", 1).unwrap();
    assert_eq!(failover_cmd(&mut ca, &["TIMEOUT", "500"]).unwrap(), "OK");
    assert_eq!(failover_state(&mut ca), "waiting-for-sync");
    assert!(wait_until(Duration::from_secs(10), || failover_state(
        &mut ca
    ) == "no-failover"));
    assert!(a.wait_log(
        "FAILOVER to any replica aborted: Replica never caught up before timeout",
        Duration::from_secs(5)
    ));
    assert_eq!(role(&mut ca), "master");
    let _: () = ca.set("writable-again", 1).unwrap();

    // Writes wait during the failover and go through after ABORT.
    let t: Vec<&str> = target.iter().map(String::as_str).collect();
    assert_eq!(failover_cmd(&mut ca, &t).unwrap(), "OK");
    assert_eq!(
        err_text(failover_cmd(&mut ca, &[])),
        "ERR FAILOVER already in progress."
    );
    let mut writer = Raw::connect(a.port);
    writer.send(&["SET", "held", "1"]);
    assert!(
        writer.try_read(Duration::from_millis(300)).is_none(),
        "a write was served while the failover waits"
    );
    assert_eq!(ca.get::<_, Option<i64>>("pending").unwrap(), Some(1));
    assert_eq!(failover_cmd(&mut ca, &["ABORT"]).unwrap(), "OK");
    let reply = writer
        .try_read(Duration::from_secs(5))
        .expect("write released");
    assert_eq!(reply.sig, "+", "{reply:?}");
    assert!(a.wait_log("FAILOVER to 127.0.0.1:", Duration::from_secs(5)));

    // FORCE: fail over at the deadline even though the replica never caught up.
    let mut t = t.clone();
    t.extend(["FORCE", "TIMEOUT", "300"]);
    assert_eq!(failover_cmd(&mut ca, &t).unwrap(), "OK");
    assert!(a.wait_log("time out exceeded, failing over.", Duration::from_secs(10)));
    assert_eq!(failover_state(&mut ca), "failover-in-progress");
    signal(r.pid(), "-CONT");
    assert!(wait_until(Duration::from_secs(20), || role(&mut cr)
        == "master"
        && role(&mut ca) == "slave"
        && failover_state(&mut ca) == "no-failover"));
    // The stopped replica got everything once resumed: the old master's stream was complete.
    assert!(wait_until(Duration::from_secs(10), || cr
        .get::<_, Option<i64>>("held")
        .unwrap()
        == Some(1)));
}
