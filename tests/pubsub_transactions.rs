//! Pub/sub, keyspace notifications, MULTI/EXEC/WATCH and blocked-client plumbing, end to end.

mod common;
use common::*;
use redis::Commands;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A raw connection that reads whole replies as text, for exact byte checks.
struct Raw(TcpStream);

impl Raw {
    fn new(port: u16) -> Raw {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Raw(s)
    }

    fn send(&mut self, req: &str) {
        self.0.write_all(req.as_bytes()).unwrap();
    }

    /// Reads until `expected` bytes arrived (or times out) and returns them.
    fn read_exact_text(&mut self, expected: usize) -> String {
        let mut buf = vec![0u8; expected];
        let mut got = 0;
        while got < expected {
            match self.0.read(&mut buf[got..]) {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
        String::from_utf8_lossy(&buf[..got]).into_owned()
    }

    fn expect(&mut self, req: &str, reply: &str) {
        self.send(req);
        assert_eq!(self.read_exact_text(reply.len()), reply, "reply to {req:?}");
    }
}

#[test]
fn publish_reaches_channel_and_pattern_subscribers() {
    let server = Server::start(&[]);
    let mut sub = Raw::new(server.port);
    sub.expect(
        "SUBSCRIBE news\r\n",
        "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n",
    );
    sub.expect(
        "PSUBSCRIBE n*\r\n",
        "*3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:2\r\n",
    );
    let mut c = server.conn();
    let n: i64 = c.publish("news", "hello").unwrap();
    assert_eq!(n, 2);
    let expected = "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$5\r\nhello\r\n";
    assert_eq!(sub.read_exact_text(expected.len()), expected);
    // RESP2 subscriber mode refuses other commands with Redis's text.
    sub.expect(
        "GET x\r\n",
        "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n",
    );
    let numsub: Vec<redis::Value> = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg("news")
        .arg("none")
        .query(&mut c)
        .unwrap();
    assert_eq!(numsub.len(), 4);
    let numpat: i64 = redis::cmd("PUBSUB").arg("NUMPAT").query(&mut c).unwrap();
    assert_eq!(numpat, 1);
    let channels: Vec<String> = redis::cmd("PUBSUB").arg("CHANNELS").query(&mut c).unwrap();
    assert_eq!(channels, vec!["news".to_string()]);
    sub.expect(
        "UNSUBSCRIBE\r\n",
        "*3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:1\r\n",
    );
    sub.expect(
        "PUNSUBSCRIBE\r\n",
        "*3\r\n$12\r\npunsubscribe\r\n$2\r\nn*\r\n:0\r\n",
    );
    sub.expect(
        "UNSUBSCRIBE\r\n",
        "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n",
    );
    let n: i64 = c.publish("news", "again").unwrap();
    assert_eq!(n, 0);
}

#[test]
fn resp3_subscribers_get_push_messages_and_shard_channels_work() {
    let server = Server::start(&[]);
    let mut sub = Raw::new(server.port);
    sub.send("HELLO 3\r\n");
    std::thread::sleep(Duration::from_millis(1)); // let the HELLO map arrive before we drain it
    let mut hello = [0u8; 4096];
    let _ = sub.0.read(&mut hello);
    sub.expect(
        "SSUBSCRIBE orders\r\n",
        ">3\r\n$10\r\nssubscribe\r\n$6\r\norders\r\n:1\r\n",
    );
    let mut c = server.conn();
    let n: i64 = redis::cmd("SPUBLISH")
        .arg("orders")
        .arg("x1")
        .query(&mut c)
        .unwrap();
    assert_eq!(n, 1);
    let expected = ">3\r\n$8\r\nsmessage\r\n$6\r\norders\r\n$2\r\nx1\r\n";
    assert_eq!(sub.read_exact_text(expected.len()), expected);
    // RESP3 clients may run ordinary commands while subscribed.
    sub.expect("SET k v\r\n", "+OK\r\n");
}

#[test]
fn keyspace_notifications_follow_the_config() {
    let server = Server::start(&["--notify-keyspace-events", "KEA"]);
    let mut sub = Raw::new(server.port);
    sub.expect(
        "PSUBSCRIBE __key*__:*\r\n",
        "*3\r\n$10\r\npsubscribe\r\n$10\r\n__key*__:*\r\n:1\r\n",
    );
    let mut c = server.conn();
    let _: () = c.set("k1", "v").unwrap();
    let a =
        "*4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$17\r\n__keyspace@0__:k1\r\n$3\r\nset\r\n";
    let b =
        "*4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$18\r\n__keyevent@0__:set\r\n$2\r\nk1\r\n";
    assert_eq!(sub.read_exact_text(a.len() + b.len()), format!("{a}{b}"));
    let got: String = redis::cmd("CONFIG")
        .arg("GET")
        .arg("notify-keyspace-events")
        .query::<Vec<String>>(&mut c)
        .unwrap()[1]
        .clone();
    assert_eq!(got, "AKE");
}

#[test]
fn multi_exec_discard_and_errors() {
    let server = Server::start(&[]);
    let mut r = Raw::new(server.port);
    r.expect("EXEC\r\n", "-ERR EXEC without MULTI\r\n");
    r.expect("DISCARD\r\n", "-ERR DISCARD without MULTI\r\n");
    r.expect("MULTI\r\n", "+OK\r\n");
    r.expect("MULTI\r\n", "-ERR MULTI calls can not be nested\r\n");
    r.expect("SET a 1\r\n", "+QUEUED\r\n");
    r.expect("INCR a\r\n", "+QUEUED\r\n");
    r.expect("WATCH a\r\n", "-ERR WATCH inside MULTI is not allowed\r\n");
    r.expect("EXEC\r\n", "*2\r\n+OK\r\n:2\r\n");
    // A queue-time error aborts the whole transaction.
    r.expect("MULTI\r\n", "+OK\r\n");
    r.expect("SET a 5\r\n", "+QUEUED\r\n");
    r.expect(
        "NOSUCH x\r\n",
        "-ERR unknown command 'NOSUCH', with args beginning with: 'x' \r\n",
    );
    r.expect(
        "GET\r\n",
        "-ERR wrong number of arguments for 'get' command\r\n",
    );
    r.expect(
        "EXEC\r\n",
        "-EXECABORT Transaction discarded because of previous errors.\r\n",
    );
    r.expect("GET a\r\n", "$1\r\n2\r\n");
    // Runtime errors inside EXEC are reported in place; the rest still runs.
    r.expect("MULTI\r\n", "+OK\r\n");
    r.expect("SET s abc\r\n", "+QUEUED\r\n");
    r.expect("INCR s\r\n", "+QUEUED\r\n");
    r.expect("INCR a\r\n", "+QUEUED\r\n");
    r.expect(
        "EXEC\r\n",
        "*3\r\n+OK\r\n-ERR value is not an integer or out of range\r\n:3\r\n",
    );
    r.expect("MULTI\r\n", "+OK\r\n");
    r.expect("SET a 9\r\n", "+QUEUED\r\n");
    r.expect("DISCARD\r\n", "+OK\r\n");
    r.expect("GET a\r\n", "$1\r\n3\r\n");
}

#[test]
fn watch_is_broken_by_other_clients_flush_and_expiry() {
    let server = Server::start(&[]);
    let mut a = Raw::new(server.port);
    let mut other = server.conn();
    // A write by another client breaks the transaction.
    a.expect("WATCH k\r\n", "+OK\r\n");
    let _: () = other.set("k", "x").unwrap();
    a.expect("MULTI\r\n", "+OK\r\n");
    a.expect("SET k mine\r\n", "+QUEUED\r\n");
    a.expect("EXEC\r\n", "*-1\r\n");
    let v: String = other.get("k").unwrap();
    assert_eq!(v, "x");
    // Without interference EXEC runs.
    a.expect("WATCH k\r\n", "+OK\r\n");
    a.expect("MULTI\r\n", "+OK\r\n");
    a.expect("SET k mine\r\n", "+QUEUED\r\n");
    a.expect("EXEC\r\n", "*1\r\n+OK\r\n");
    // FLUSHALL breaks it too.
    a.expect("WATCH k\r\n", "+OK\r\n");
    let _: () = redis::cmd("FLUSHALL").query(&mut other).unwrap();
    a.expect("MULTI\r\n", "+OK\r\n");
    a.expect("PING\r\n", "+QUEUED\r\n");
    a.expect("EXEC\r\n", "*-1\r\n");
    // A watched key that expires before EXEC breaks it.
    a.expect("SET t 1 PX 50\r\n", "+OK\r\n");
    a.expect("WATCH t\r\n", "+OK\r\n");
    assert!(wait_until(Duration::from_secs(5), || {
        let n: i64 = redis::cmd("PTTL").arg("t").query(&mut other).unwrap();
        n == -2
    }));
    a.expect("MULTI\r\n", "+OK\r\n");
    a.expect("PING\r\n", "+QUEUED\r\n");
    a.expect("EXEC\r\n", "*-1\r\n");
    // UNWATCH forgets.
    a.expect("WATCH k\r\n", "+OK\r\n");
    let _: () = other.set("k", "y").unwrap();
    a.expect("UNWATCH\r\n", "+OK\r\n");
    a.expect("MULTI\r\n", "+OK\r\n");
    a.expect("PING\r\n", "+QUEUED\r\n");
    a.expect("EXEC\r\n", "*1\r\n+PONG\r\n");
}

#[test]
fn exec_is_atomic_against_concurrent_writers() {
    let server = Server::start(&[]);
    let port = server.port;
    let writers: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
                let mut c = client.get_connection().unwrap();
                for _ in 0..200 {
                    let (a, b): (i64, i64) = redis::pipe()
                        .atomic()
                        .incr("x", 1)
                        .incr("y", 1)
                        .query(&mut c)
                        .unwrap();
                    assert_eq!(a, b, "another client interleaved inside EXEC");
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let mut c = server.conn();
    let (x, y): (i64, i64) = (c.get("x").unwrap(), c.get("y").unwrap());
    assert_eq!((x, y), (800, 800));
}

/// Number of clients CLIENT LIST shows as blocked (flag `b`).
fn blocked_count(c: &mut redis::Connection) -> usize {
    let list: String = redis::cmd("CLIENT").arg("LIST").query(c).unwrap();
    list.lines()
        .filter(|l| {
            l.split(' ')
                .any(|f| f.starts_with("flags=") && f.contains('b'))
        })
        .count()
}

#[test]
fn blocked_clients_keep_order_ignore_wrong_types_and_can_be_unblocked() {
    let server = Server::start(&[]);
    let mut admin = server.conn();
    let mut a = Raw::new(server.port);
    let mut b = Raw::new(server.port);
    a.send("BLPOP q 0\r\n");
    assert!(wait_until(Duration::from_secs(5), || blocked_count(
        &mut admin
    ) == 1));
    b.send("BLPOP q 0\r\n");
    assert!(wait_until(Duration::from_secs(5), || blocked_count(
        &mut admin
    ) == 2));
    // A string under the key serves nobody.
    let _: () = admin.set("q", "not a list").unwrap();
    let _: String = redis::cmd("PING").query(&mut admin).unwrap();
    assert_eq!(blocked_count(&mut admin), 2);
    let _: () = redis::cmd("DEL").arg("q").query(&mut admin).unwrap();
    // Both elements pushed inside one EXEC: served in arrival order after the EXEC.
    let (): () = redis::pipe()
        .atomic()
        .rpush("q", "first")
        .rpush("q", "second")
        .ignore()
        .query(&mut admin)
        .unwrap();
    let ra = "*2\r\n$1\r\nq\r\n$5\r\nfirst\r\n";
    let rb = "*2\r\n$1\r\nq\r\n$6\r\nsecond\r\n";
    assert_eq!(a.read_exact_text(ra.len()), ra);
    assert_eq!(b.read_exact_text(rb.len()), rb);
    // CLIENT UNBLOCK with TIMEOUT and ERROR.
    let mut c = Raw::new(server.port);
    c.expect("CLIENT ID\r\n", "");
    let id: i64 = {
        let mut s = String::new();
        let mut byte = [0u8; 1];
        while !s.ends_with("\r\n") {
            let _ = c.0.read(&mut byte);
            s.push(byte[0] as char);
        }
        s.trim_start_matches(':').trim().parse().unwrap()
    };
    c.send("BLPOP none 0\r\n");
    assert!(wait_until(Duration::from_secs(5), || blocked_count(
        &mut admin
    ) == 1));
    let n: i64 = redis::cmd("CLIENT")
        .arg("UNBLOCK")
        .arg(id)
        .query(&mut admin)
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(c.read_exact_text(5), "*-1\r\n");
    c.send("BLPOP none 0\r\n");
    assert!(wait_until(Duration::from_secs(5), || blocked_count(
        &mut admin
    ) == 1));
    let n: i64 = redis::cmd("CLIENT")
        .arg("UNBLOCK")
        .arg(id)
        .arg("ERROR")
        .query(&mut admin)
        .unwrap();
    assert_eq!(n, 1);
    let err = "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n";
    assert_eq!(c.read_exact_text(err.len()), err);
    let n: i64 = redis::cmd("CLIENT")
        .arg("UNBLOCK")
        .arg(id)
        .query(&mut admin)
        .unwrap();
    assert_eq!(n, 0);
}

/// Subscribes a client that then never reads, floods its channel with 64 KB messages (`batch`
/// per round trip) until the server logs the output-buffer disconnection, and returns the
/// server, a publishing connection and how long it took; panics if it never happens.
fn flood_silent_subscriber(limit: &str, batch: usize) -> (Server, redis::Connection, Duration) {
    let server = Server::start(&["--client-output-buffer-limit", limit]);
    let mut sub = Raw::new(server.port);
    sub.expect(
        "SUBSCRIBE flood\r\n",
        "*3\r\n$9\r\nsubscribe\r\n$5\r\nflood\r\n:1\r\n",
    );
    let mut c = server.conn();
    let payload = "z".repeat(64 * 1024);
    let started = std::time::Instant::now();
    let cut = wait_until(Duration::from_secs(30), || {
        let mut p = redis::pipe();
        for _ in 0..batch {
            p.cmd("PUBLISH").arg("flood").arg(&payload).ignore();
        }
        let _: () = p.query(&mut c).unwrap();
        server
            .log()
            .iter()
            .any(|l| l.contains("overcoming of output buffer limits"))
    });
    assert!(cut, "the slow subscriber was never disconnected");
    let took = started.elapsed();
    (server, c, took)
}

#[test]
fn slow_subscriber_is_cut_at_its_output_buffer_limit() {
    let (_server, mut c, _) = flood_silent_subscriber("pubsub 1mb 512kb 60", 32);
    let n: i64 = c.publish("flood", "x").unwrap();
    assert!(
        wait_until(Duration::from_secs(5), || c
            .publish::<_, _, i64>("flood", "x")
            .unwrap()
            == 0),
        "still subscribed: {n}"
    );
}

#[test]
fn subscriber_over_the_soft_limit_for_its_period_is_cut() {
    // No hard limit: only the soft one (256kb for 1 s) can disconnect the subscriber.
    let (_server, _c, took) = flood_silent_subscriber("pubsub 0 256kb 1", 1);
    assert!(
        took >= Duration::from_millis(900),
        "cut before the soft period passed"
    );
}

/// Every keyspace event (class `n` included) of commands that create keys, in order.
fn new_key_events(port: u16) -> Vec<String> {
    let mut admin = common::Raw::connect(port);
    admin.call(&["FLUSHALL"]);
    admin.call(&["CONFIG", "SET", "notify-keyspace-events", "KEAn"]);
    let mut sub = common::Raw::connect(port);
    sub.call(&["PSUBSCRIBE", "__key*@*__:*"]);
    let cmds: &[&[&str]] = &[
        &["SET", "a", "1"],
        &["SET", "a", "2"],
        &["LPUSH", "l", "x", "y"],
        &["SADD", "s1", "m"],
        &["SMOVE", "s1", "s2", "m"],
        &["RPUSH", "src", "a", "b"],
        &["LMOVE", "src", "dst", "LEFT", "RIGHT"],
        &["RENAME", "a", "b"],
        &["COPY", "b", "c"],
        &["MOVE", "c", "1"],
        &["INCR", "counter"],
        &["HSET", "h", "f", "v"],
        &["ZADD", "z", "1", "m"],
        &["SUNIONSTORE", "u", "s2"],
        &["APPEND", "ap", "x"],
        &["SORT", "l", "ALPHA", "STORE", "sorted"],
        &["SET", "e", "1", "PX", "1"],
    ];
    for c in cmds {
        admin.call(c);
    }
    std::thread::sleep(Duration::from_millis(50));
    admin.call(&["SET", "e", "2"]);
    let dump = admin.call(&["DUMP", "l"]);
    let redis::Value::BulkString(payload) = dump.value else {
        panic!("DUMP: {:?}", dump.value);
    };
    admin.call(&[&b"RESTORE"[..], b"l2", b"0", &payload]);
    admin.call(&["PUBLISH", "__keyevent@0__:end", "x"]);
    let t = read_until_end_marker(&mut sub);
    admin.call(&["CONFIG", "SET", "notify-keyspace-events", ""]);
    t
}

#[test]
fn new_key_events_match_redis() {
    let Some(p) = Pair::start() else {
        return;
    };
    let real = new_key_events(p.real.port);
    let ours = new_key_events(p.ours.port);
    assert_eq!(ours, real, "transcripts differ (left: ours, right: Redis)");
    assert!(real.iter().any(|l| l.contains("__keyevent@1__:new")));
}

#[test]
fn messages_queued_for_a_slow_subscriber_cost_their_size() {
    // A subscriber that stops reading: what waits for it must cost about the messages' bytes
    // (each message used to pin a 16 KiB reply buffer, 250 times its size).
    let s = Server::start(&[]);
    let mut stalled = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    stalled.write_all(b"SUBSCRIBE ch\r\n").unwrap();
    let mut ack = [0u8; 64];
    let _ = stalled.read(&mut ack).unwrap();
    let mut c = s.conn();
    let used = |c: &mut redis::Connection| -> u64 {
        info_field(c, "memory", "used_memory")
            .unwrap()
            .parse()
            .unwrap()
    };
    let before = used(&mut c);
    for _ in 0..20 {
        let mut p = redis::pipe();
        for i in 0..5000 {
            p.publish("ch", format!("message {i:08}")).ignore();
        }
        let _: () = p.query(&mut c).unwrap();
    }
    let grown = used(&mut c).saturating_sub(before);
    // 100k messages of ~45 bytes on the wire: a few MB, whatever the kernel buffers took.
    assert!(
        grown < 20_000_000,
        "100k queued messages took {grown} bytes"
    );
    drop(stalled);
}

#[test]
fn server_state_refusals_happen_at_queue_time_and_abort_exec_like_redis() {
    // Checked byte for byte against redis-server 7.0.15: a write refused for the server's state
    // (here too few replicas) is refused when queued and aborts the transaction; if the state
    // changes between queueing and EXEC, EXEC itself is refused and discards the transaction.
    let server = Server::start(&[]);
    let (mut a, mut b) = (Raw::new(server.port), Raw::new(server.port));
    let noreplicas = "NOREPLICAS Not enough good replicas to write.";
    b.expect("CONFIG SET min-replicas-to-write 1\r\n", "+OK\r\n");
    a.expect("MULTI\r\n", "+OK\r\n");
    a.expect("SET k v\r\n", &format!("-{noreplicas}\r\n"));
    a.expect("GET k\r\n", "+QUEUED\r\n");
    a.expect(
        "EXEC\r\n",
        "-EXECABORT Transaction discarded because of previous errors.\r\n",
    );
    b.expect("CONFIG SET min-replicas-to-write 0\r\n", "+OK\r\n");
    a.expect("MULTI\r\n", "+OK\r\n");
    a.expect("SET k v\r\n", "+QUEUED\r\n");
    b.expect("CONFIG SET min-replicas-to-write 1\r\n", "+OK\r\n");
    a.expect(
        "EXEC\r\n",
        &format!("-EXECABORT Transaction discarded because of: {noreplicas}\r\n"),
    );
    a.expect("EXEC\r\n", "-ERR EXEC without MULTI\r\n");
    // Reads still run in a transaction.
    a.expect("MULTI\r\n", "+OK\r\n");
    a.expect("GET k\r\n", "+QUEUED\r\n");
    a.expect("EXEC\r\n", "*1\r\n$-1\r\n");
}
