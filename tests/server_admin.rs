//! Operator-facing behaviour end to end: MONITOR, CLIENT PAUSE, CONFIG REWRITE, logfile,
//! SIGTERM, SCAN while the table grows, active expiry, TCP keepalive.

mod common;
use common::*;
use redis::Commands;
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

#[test]
fn monitor_streams_commands() {
    let server = Server::start(&[]);
    let mut mon = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    mon.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    mon.write_all(b"MONITOR\r\n").unwrap();
    let mut reader = BufReader::new(mon.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert_eq!(line, "+OK\r\n");
    let mut c = server.conn();
    let _: () = c.set("mk", "a b").unwrap();
    line.clear();
    reader.read_line(&mut line).unwrap();
    // +1700000000.123456 [0 127.0.0.1:5555] "SET" "mk" "a b"
    assert!(line.starts_with('+'), "{line}");
    assert!(line.contains("[0 127.0.0.1:"), "{line}");
    assert!(
        line.trim_end().ends_with("\"SET\" \"mk\" \"a b\""),
        "{line}"
    );
}

#[test]
fn client_pause_write_holds_writes_but_not_reads() {
    let server = Server::start(&[]);
    let mut admin = server.conn();
    let _: () = admin.set("p", "1").unwrap();
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(400)
        .arg("WRITE")
        .query(&mut admin)
        .unwrap();
    let port = server.port;
    let start = Instant::now();
    let reader = std::thread::spawn(move || {
        let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
            .unwrap()
            .get_connection()
            .unwrap();
        let v: String = c.get("p").unwrap();
        (v, start.elapsed())
    });
    let (v, read_took) = reader.join().unwrap();
    assert_eq!(v, "1");
    assert!(
        read_took < Duration::from_millis(300),
        "reads must not wait: {read_took:?}"
    );
    let mut w = server.conn();
    let _: () = w.set("p", "2").unwrap();
    assert!(
        start.elapsed() >= Duration::from_millis(350),
        "write went through during the pause"
    );
    // UNPAUSE releases at once.
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(10_000)
        .arg("WRITE")
        .query(&mut admin)
        .unwrap();
    let t = Instant::now();
    let writer = std::thread::spawn(move || {
        let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
            .unwrap()
            .get_connection()
            .unwrap();
        let _: () = c.set("p", "3").unwrap();
    });
    assert!(wait_until(Duration::from_secs(2), || {
        let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut admin).unwrap();
        list.lines().count() >= 3
    }));
    let _: () = redis::cmd("CLIENT")
        .arg("UNPAUSE")
        .query(&mut admin)
        .unwrap();
    writer.join().unwrap();
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[test]
fn config_rewrite_updates_the_file_in_place() {
    let dir = scratch_dir("rewrite");
    let conf = dir.join("redis.conf");
    std::fs::write(
        &conf,
        "# my settings\nhz 10\n\n# keep this comment\nmaxclients 100\n",
    )
    .unwrap();
    let server = Server::start_with_config(Some(&conf), &[]);
    let mut c = server.conn();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("hz")
        .arg("25")
        .arg("slowlog-max-len")
        .arg("7")
        .query(&mut c)
        .unwrap();
    let _: () = redis::cmd("CONFIG").arg("REWRITE").query(&mut c).unwrap();
    let text = std::fs::read_to_string(&conf).unwrap();
    assert!(
        text.starts_with("# my settings\nhz 25\n\n# keep this comment\nmaxclients 100\n"),
        "{text}"
    );
    assert!(text.contains("slowlog-max-len 7"), "{text}");
    // The rewritten file starts a server with the same settings.
    let again = Server::start_with_config(Some(&conf), &[]);
    let mut c2 = again.conn();
    let v: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("hz")
        .query(&mut c2)
        .unwrap();
    assert_eq!(v, vec!["hz".to_string(), "25".to_string()]);
    // Without a config file REWRITE refuses.
    let bare = Server::start(&[]);
    let mut c3 = bare.conn();
    let err = redis::cmd("CONFIG")
        .arg("REWRITE")
        .query::<()>(&mut c3)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("The server is running without a config file"),
        "{err}"
    );
}

#[test]
fn logfile_receives_redis_format_lines() {
    let dir = scratch_dir("logfile");
    let log = dir.join("resplica.log");
    let port = free_port();
    // Logging to a file leaves stdout silent, so readiness is polled with PING.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_resplica"))
        .args([
            "--port",
            &port.to_string(),
            "--logfile",
            log.to_str().unwrap(),
        ])
        .spawn()
        .unwrap();
    let up = wait_until(Duration::from_secs(20), || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        text.contains("Ready to accept connections")
    });
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = child.kill();
    let _ = child.wait();
    assert!(up, "no ready line in the log file: {text}");
    let ready = text
        .lines()
        .find(|l| l.contains("Ready to accept connections"))
        .unwrap();
    // <pid>:M <dd Mon yyyy HH:MM:SS.mmm> * Ready to accept connections
    let (pid_role, rest) = ready.split_once(' ').unwrap();
    assert_eq!(pid_role, format!("{}:M", child.id()));
    let parts: Vec<&str> = rest.splitn(5, ' ').collect();
    assert_eq!(parts[0].len(), 2);
    assert_eq!(parts[1].len(), 3);
    assert_eq!(parts[3].len(), "HH:MM:SS.mmm".len());
    assert_eq!(parts[4], "* Ready to accept connections");
}

#[test]
fn sigterm_shuts_down_gracefully() {
    let mut server = Server::start(&[]);
    let status = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(server.child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(server.wait_exit(Duration::from_secs(10)), Some(0));
    assert!(server.wait_log(
        "Received SIGTERM scheduling shutdown",
        Duration::from_secs(2)
    ));
}

#[test]
fn scan_returns_every_key_present_throughout_while_the_table_grows() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    let stable: Vec<String> = (0..2000).map(|i| format!("stable:{i}")).collect();
    let mut p = redis::pipe();
    for k in &stable {
        p.set(k, 1).ignore();
    }
    let _: () = p.query(&mut c).unwrap();
    let mut seen = HashSet::new();
    let mut cursor = 0u64;
    let mut round = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("COUNT")
            .arg(50)
            .query(&mut c)
            .unwrap();
        seen.extend(keys);
        // Grow the table (forcing rehashes) while the scan is in progress.
        let mut p = redis::pipe();
        for i in 0..200 {
            p.set(format!("grow:{round}:{i}"), 1).ignore();
        }
        let _: () = p.query(&mut c).unwrap();
        round += 1;
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    for k in &stable {
        assert!(seen.contains(k), "SCAN missed {k}");
    }
}

#[test]
fn active_expiry_reclaims_keys_nobody_reads() {
    let server = Server::start(&["--hz", "50"]);
    let mut c = server.conn();
    let mut p = redis::pipe();
    for i in 0..3000 {
        p.cmd("SET")
            .arg(format!("tmp:{i}"))
            .arg(1)
            .arg("PX")
            .arg(100)
            .ignore();
    }
    for i in 0..100 {
        p.set(format!("keep:{i}"), 1).ignore();
    }
    let _: () = p.query(&mut c).unwrap();
    // DBSIZE counts keys still stored; only the cron can bring it down, since nobody reads them.
    assert!(
        wait_until(Duration::from_secs(10), || {
            let n: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
            n == 100
        }),
        "expired keys were not reclaimed"
    );
    let info: String = redis::cmd("INFO").arg("stats").query(&mut c).unwrap();
    assert!(info.contains("expired_keys:3000"), "{info}");
}

#[test]
fn debug_is_gated_and_set_active_expire_works() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    let err = redis::cmd("DEBUG")
        .arg("SLEEP")
        .arg(0)
        .query::<()>(&mut c)
        .unwrap_err();
    assert!(
        err.to_string().contains("DEBUG command not allowed"),
        "{err}"
    );
    let server = Server::start(&["--enable-debug-command", "local", "--hz", "100"]);
    let mut c = server.conn();
    let _: () = redis::cmd("DEBUG")
        .arg("SET-ACTIVE-EXPIRE")
        .arg(0)
        .query(&mut c)
        .unwrap();
    let _: () = redis::cmd("SET")
        .arg("e")
        .arg(1)
        .arg("PX")
        .arg(1)
        .query(&mut c)
        .unwrap();
    // With active expiry off the key stays stored until someone touches it.
    std::thread::sleep(Duration::from_millis(100)); // give the cron several chances to (wrongly) reclaim it
    let n: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(n, 1);
    let v: Option<String> = c.get("e").unwrap();
    assert_eq!(v, None);
    let n: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(n, 0);
}

#[test]
fn tcp_keepalive_is_set_on_client_sockets() {
    if std::process::Command::new("ss").arg("-V").output().is_err() {
        eprintln!("!!! SKIPPING keepalive check: `ss` (iproute2) is not installed !!!");
        return;
    }
    let server = Server::start(&["--tcp-keepalive", "77"]);
    let _c = server.conn();
    let filter = format!("( sport = :{} )", server.port);
    assert!(
        wait_until(Duration::from_secs(5), || {
            let out = std::process::Command::new("ss")
                .args(["-tnoH", "state", "established", &filter])
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).contains("keepalive")
        }),
        "no keepalive timer on the server side of the connection"
    );
}
