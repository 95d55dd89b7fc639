//! `maxmemory`: INFO `used_memory` follows the dataset, the eviction policies keep memory under
//! the limit the way Redis 7.0 does, `noeviction` answers `-OOM`, and evictions reach a real
//! redis-server replica as DELs and subscribers as `evicted` events.

mod common;
use common::*;
use redis::Commands;
use std::time::Duration;

/// Redis's `-OOM` error line (the redis crate shows it as "OOM: command ...").
const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

fn is_oom(e: &redis::RedisError) -> bool {
    e.code() == Some("OOM") && e.to_string().ends_with(&OOM[4..])
}

fn used_memory(c: &mut redis::Connection) -> u64 {
    info_field(c, "memory", "used_memory")
        .unwrap()
        .parse()
        .unwrap()
}

fn evicted(c: &mut redis::Connection) -> u64 {
    info_field(c, "stats", "evicted_keys")
        .unwrap()
        .parse()
        .unwrap()
}

/// Writes `n` keys `prefix:<i>` of `size` bytes, pipelined, optionally with a TTL.
fn fill(c: &mut redis::Connection, prefix: &str, n: usize, size: usize, ttl: Option<u64>) {
    let value = "v".repeat(size);
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let mut p = redis::pipe();
        for i in chunk {
            match ttl {
                Some(s) => p.set_ex(format!("{prefix}:{i}"), &value, s).ignore(),
                None => p.set(format!("{prefix}:{i}"), &value).ignore(),
            };
        }
        let _: () = p.query(c).unwrap();
    }
}

#[test]
fn used_memory_follows_the_dataset() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let empty = used_memory(&mut c);
    fill(&mut c, "k", 20_000, 200, None);
    let full = used_memory(&mut c);
    // 20k x (200-byte value + key + entry): at least 4 MB more, and not wildly more.
    assert!(
        full > empty + 4_000_000 && full < empty + 20_000_000,
        "{empty} -> {full}"
    );
    let _: () = redis::cmd("FLUSHALL").query(&mut c).unwrap();
    assert!(wait_until(Duration::from_secs(5), || used_memory(&mut c)
        < empty + 1_000_000));
}

#[test]
fn allkeys_lru_keeps_memory_under_the_limit_and_spares_hot_keys() {
    let s = Server::start(&["--maxmemory", "8mb", "--maxmemory-policy", "allkeys-lru"]);
    let mut c = s.conn();
    fill(&mut c, "hot", 1000, 200, None);
    // Cold keys written over time while the hot ones keep being read: LRU must pick cold ones.
    for round in 0..20 {
        let _: Vec<Option<String>> = redis::cmd("MGET")
            .arg((0..1000).map(|i| format!("hot:{i}")).collect::<Vec<_>>())
            .query(&mut c)
            .unwrap();
        fill(&mut c, &format!("cold{round}"), 2500, 200, None);
        if round == 10 {
            // The LRU clock counts seconds: let the cold keys of the first rounds age.
            std::thread::sleep(Duration::from_millis(1100));
        }
    }
    let limit = 8 * 1024 * 1024;
    assert!(used_memory(&mut c) <= limit, "over maxmemory");
    assert!(evicted(&mut c) > 10_000);
    let hot: usize = (0..1000)
        .filter(|i| c.exists::<_, bool>(format!("hot:{i}")).unwrap())
        .count();
    let size: usize = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert!(
        hot >= 950,
        "only {hot} of 1000 hot keys survived ({size} keys held)"
    );
    assert!(size < 51_000, "{size} keys held: nothing was evicted");
}

#[test]
fn noeviction_refuses_writes_with_redis_error_but_serves_reads_and_deletes() {
    let s = Server::start(&["--maxmemory", "4mb"]);
    let mut c = s.conn();
    let mut refused = None;
    for i in 0..100_000 {
        if let Err(e) = c.set::<_, _, ()>(format!("k:{i}"), "v".repeat(200)) {
            refused = Some((i, e));
            break;
        }
    }
    let (stored, err) = refused.expect("writes never refused");
    assert!(is_oom(&err), "{err}");
    assert_eq!(evicted(&mut c), 0);
    // Reads and DEL still work; DEL frees memory and writes come back.
    let v: Option<String> = c.get("k:0").unwrap();
    assert!(v.is_some());
    // The exact error line, as clients match on its "OOM" prefix.
    let mut raw = Raw::connect(s.port);
    let reply = raw.call(&["SET", "more", "x"]);
    assert_eq!(show(&reply.value), format!("-{OOM}"));
    let keys: Vec<String> = (0..stored / 2).map(|i| format!("k:{i}")).collect();
    let _: () = c.del(keys).unwrap();
    let _: () = c.set("more", "x").unwrap();
    // A transaction queuing a write is refused at queue time and EXEC aborts, as in Redis.
    fill_until_oom(&mut c);
    let _: () = redis::cmd("MULTI").query(&mut c).unwrap();
    let e = redis::cmd("SET")
        .arg("m")
        .arg("1")
        .query::<()>(&mut c)
        .unwrap_err();
    assert!(is_oom(&e), "{e}");
    let e = redis::cmd("EXEC").query::<()>(&mut c).unwrap_err();
    assert!(e.kind() == redis::ErrorKind::ExecAbortError, "{e}");
}

fn fill_until_oom(c: &mut redis::Connection) {
    for i in 0..100_000 {
        if c.set::<_, _, ()>(format!("f:{i}"), "v".repeat(200))
            .is_err()
        {
            return;
        }
    }
    panic!("never reached maxmemory");
}

#[test]
fn volatile_policies_evict_only_keys_with_a_ttl() {
    for policy in [
        "volatile-lru",
        "volatile-ttl",
        "volatile-random",
        "volatile-lfu",
    ] {
        let s = Server::start(&["--maxmemory", "6mb", "--maxmemory-policy", policy]);
        let mut c = s.conn();
        fill(&mut c, "keep", 5000, 200, None);
        fill(&mut c, "ttl", 20_000, 200, Some(3600));
        let kept: usize = (0..5000)
            .filter(|i| c.exists::<_, bool>(format!("keep:{i}")).unwrap())
            .count();
        assert_eq!(kept, 5000, "{policy} evicted keys without a TTL");
        assert!(evicted(&mut c) > 0, "{policy}");
        // With no volatile key left, writes are refused.
        let mut refused = false;
        for i in 0..100_000 {
            let _: () = c.persist(format!("ttl:{i}")).unwrap_or(());
            if let Err(e) = c.set::<_, _, ()>(format!("more:{i}"), "v".repeat(200)) {
                assert!(is_oom(&e), "{e}");
                refused = true;
                break;
            }
        }
        assert!(
            refused,
            "{policy}: writes never refused once no key had a TTL"
        );
    }
}

#[test]
fn evictions_reach_replicas_as_dels() {
    let master = Server::start(&[
        "--maxmemory",
        "8mb",
        "--maxmemory-policy",
        "allkeys-random",
        "--repl-diskless-sync-delay",
        "0",
    ]);
    let mut m = master.conn();
    let Some((_replica, mut r)) = RealRedis::replica_of(master.port) else {
        return;
    };
    fill(&mut m, "k", 60_000, 200, None);
    assert!(evicted(&mut m) > 0);
    // The replica applied the DELs: the same keys once caught up.
    let synced = wait_until(Duration::from_secs(30), || {
        let mo = info_field(&mut m, "replication", "master_repl_offset");
        mo.is_some() && mo == info_field(&mut r, "replication", "slave_repl_offset")
    });
    assert!(synced, "replica did not catch up");
    let keys = |c: &mut redis::Connection| {
        let mut k: Vec<String> = c.keys("*").unwrap();
        k.sort();
        k
    };
    let ours = keys(&mut m);
    assert!(ours.len() < 60_000);
    assert_eq!(ours, keys(&mut r));
}

#[test]
fn evictions_are_announced_to_subscribers() {
    let s = Server::start(&[
        "--maxmemory",
        "16mb",
        "--maxmemory-policy",
        "allkeys-lru",
        "--notify-keyspace-events",
        "Ee",
    ]);
    let mut c = s.conn();
    // A subscriber reading the `evicted` events as they come: unread ones would count against
    // maxmemory, as any client's output does in Redis.
    let mut sub = s.client().get_connection().unwrap();
    let (ready_tx, ready) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut pubsub = sub.as_pubsub();
        pubsub.subscribe("__keyevent@0__:evicted").unwrap();
        pubsub
            .set_read_timeout(Some(Duration::from_secs(3)))
            .unwrap();
        ready_tx.send(()).unwrap();
        let mut keys = Vec::new();
        while let Ok(msg) = pubsub.get_message() {
            keys.push(msg.get_payload::<String>().unwrap());
        }
        keys
    });
    ready.recv().unwrap();
    fill(&mut c, "k", 70_000, 200, None);
    let n = evicted(&mut c);
    assert!(n > 0);
    let events = reader.join().unwrap();
    assert_eq!(events.len() as u64, n, "one evicted event per eviction");
    assert!(events.iter().all(|k| k.starts_with("k:")));
    for k in events.iter().take(100) {
        assert!(
            !c.exists::<_, bool>(k).unwrap(),
            "{k} announced evicted but present"
        );
    }
}

#[test]
fn exec_over_maxmemory_discards_the_transaction_like_redis() {
    // Memory runs out between queuing a write and EXEC: Redis's execCommandAbort reply, and the
    // transaction is gone (checked against redis-server 7.0.15).
    let s = Server::start(&[]);
    let (mut a, mut b) = (Raw::connect(s.port), Raw::connect(s.port));
    assert_eq!(show(&a.call(&["MULTI"]).value), "+OK");
    assert_eq!(show(&a.call(&["SET", "k", "v"]).value), "+QUEUED");
    assert_eq!(
        show(&b.call(&["CONFIG", "SET", "maxmemory", "1"]).value),
        "+OK"
    );
    assert_eq!(
        show(&a.call(&["EXEC"]).value),
        format!("-EXECABORT Transaction discarded because of: {OOM}")
    );
    assert_eq!(show(&a.call(&["EXEC"]).value), "-ERR EXEC without MULTI");
}

#[test]
fn lazyfree_lazy_eviction_propagates_unlink() {
    let master = Server::start(&[
        "--maxmemory",
        "8mb",
        "--maxmemory-policy",
        "allkeys-random",
        "--lazyfree-lazy-eviction",
        "yes",
        "--repl-diskless-sync-delay",
        "0",
    ]);
    let mut m = master.conn();
    let Some((real, _link_up)) = RealRedis::replica_of(master.port) else {
        return;
    };
    // The replica's MONITOR shows what its master sent.
    let mut monitor = Raw::connect(real.port);
    assert_eq!(show(&monitor.call(&["MONITOR"]).value), "+OK");
    fill(&mut m, "k", 40_000, 200, None);
    assert!(evicted(&mut m) > 0);
    let (mut unlinks, mut dels) = (0, 0);
    while let Some(line) = monitor.try_read(Duration::from_secs(2)) {
        let line = show(&line.value);
        unlinks += usize::from(line.contains("\"UNLINK\""));
        dels += usize::from(line.contains("\"DEL\""));
    }
    assert!(unlinks > 0, "no UNLINK reached the replica");
    assert_eq!(dels, 0);
}
