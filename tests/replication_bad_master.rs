//! Bad masters: a fake master (a small TCP server here) that sends a corrupt RDB, a wrong CRC,
//! a truncated transfer, garbage after +FULLRESYNC, or stalls mid-transfer. The replica logs
//! the reason, keeps serving its previous data, retries, and never panics; INFO shows the
//! transfer's progress (`master_sync_*`) while it is under way.

mod common;
use common::*;
use redis::Commands;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const REPLID: &str = "0123456789abcdef0123456789abcdef01234567";

/// What the fake master does after `+FULLRESYNC` on the n-th connection (0-based).
type Script = dyn Fn(usize, &mut TcpStream) + Send + Sync;

struct FakeMaster {
    port: u16,
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl FakeMaster {
    /// Answers the handshake (PING, AUTH, REPLCONF, PSYNC) like a master, then runs `script`.
    fn start(script: Box<Script>) -> FakeMaster {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, halt) = (connections.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if halt.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let n = count.fetch_add(1, Ordering::SeqCst);
                if handshake(&mut stream) {
                    script(n, &mut stream);
                }
            }
        });
        FakeMaster {
            port,
            connections,
            stop,
        }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for FakeMaster {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Reads one RESP array command; `None` when the peer closed.
fn read_command(r: &mut BufReader<&TcpStream>) -> Option<Vec<String>> {
    let mut line = String::new();
    r.read_line(&mut line).ok().filter(|&n| n > 0)?;
    let n: usize = line.trim().strip_prefix('*')?.parse().ok()?;
    let mut args = Vec::new();
    for _ in 0..n {
        line.clear();
        r.read_line(&mut line).ok()?;
        let len: usize = line.trim().strip_prefix('$')?.parse().ok()?;
        let mut arg = vec![0; len + 2];
        r.read_exact(&mut arg).ok()?;
        arg.truncate(len);
        args.push(String::from_utf8_lossy(&arg).to_uppercase());
    }
    Some(args)
}

/// Plays a master up to `+FULLRESYNC`; false if the replica went away first.
fn handshake(stream: &mut TcpStream) -> bool {
    let reader_side = stream.try_clone().expect("clone");
    let mut r = BufReader::new(&reader_side);
    while let Some(cmd) = read_command(&mut r) {
        let reply = match cmd[0].as_str() {
            "PING" => "+PONG\r\n".to_string(),
            "PSYNC" => format!("+FULLRESYNC {REPLID} 0\r\n"),
            _ => "+OK\r\n".to_string(),
        };
        if stream.write_all(reply.as_bytes()).is_err() {
            return false;
        }
        if cmd[0] == "PSYNC" {
            return true;
        }
    }
    false
}

/// A valid RDB holding `fresh=1` in db 0, written by a Resplica server's SAVE.
fn valid_rdb() -> Vec<u8> {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let _: () = c.set("fresh", 1).unwrap();
    let _: () = redis::cmd("SAVE").query(&mut c).unwrap();
    std::fs::read(s.dir.join("dump.rdb")).expect("dump.rdb")
}

fn bulk(payload: &[u8]) -> Vec<u8> {
    let mut out = format!("${}\r\n", payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out
}

/// A server holding `old:*` keys that is then pointed at the fake master.
fn replica_with_data(master: &FakeMaster) -> (Server, redis::Connection) {
    let s = Server::start(&["--repl-timeout", "2"]);
    let mut c = s.conn();
    for i in 0..50 {
        let _: () = c.set(format!("old:{i}"), i).unwrap();
    }
    let _: () = redis::cmd("REPLICAOF")
        .arg("127.0.0.1")
        .arg(master.port)
        .query(&mut c)
        .unwrap();
    (s, c)
}

/// The replica logged `reason`, retried, and still serves every old key.
fn assert_survived(s: &Server, c: &mut redis::Connection, master: &FakeMaster, reason: &str) {
    assert!(
        s.wait_log(reason, Duration::from_secs(20)),
        "no log line containing {reason:?}; log: {:?}",
        s.log()
    );
    assert!(
        wait_until(Duration::from_secs(20), || master.connections() >= 2),
        "the replica did not retry"
    );
    let keys: Vec<String> = c.keys("old:*").unwrap();
    assert_eq!(keys.len(), 50, "previous data lost");
    assert_eq!(c.get::<_, Option<i64>>("old:7").unwrap(), Some(7));
    assert_eq!(
        info_field(c, "replication", "master_link_status").as_deref(),
        Some("down")
    );
    // Each refused transfer's temp file (disk mode, the default) is removed: at most the one
    // of a retry in flight exists, however many failed before.
    assert!(wait_until(Duration::from_secs(20), || master.connections() >= 3));
    let temps = std::fs::read_dir(&s.dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("temp-"))
        .count();
    assert!(temps <= 1, "{temps} temp files left in {:?}", s.dir);
}

#[test]
fn corrupt_rdb_is_refused_and_old_data_kept() {
    let mut rdb = valid_rdb();
    let mid = rdb.len() / 2;
    rdb[9..mid].iter_mut().for_each(|b| *b ^= 0x5a);
    let master = FakeMaster::start(Box::new(move |_, s| {
        let _ = s.write_all(&bulk(&rdb));
    }));
    let (s, mut c) = replica_with_data(&master);
    assert_survived(
        &s,
        &mut c,
        &master,
        "Failed trying to load the MASTER synchronization DB from socket",
    );
}

#[test]
fn wrong_crc_is_refused_then_a_good_transfer_replaces_the_data() {
    let good = valid_rdb();
    let mut bad = good.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0xff;
    let master = FakeMaster::start(Box::new(move |n, s| {
        let payload = if n == 0 { &bad } else { &good };
        let _ = s.write_all(&bulk(payload));
        // Keep the link open like a master streaming nothing yet.
        let mut sink = [0u8; 1024];
        while matches!(s.read(&mut sink), Ok(k) if k > 0) {}
    }));
    let (s, mut c) = replica_with_data(&master);
    assert!(s.wait_log(
        "Failed trying to load the MASTER synchronization DB from socket",
        Duration::from_secs(20)
    ));
    // The retry loads the good snapshot, which replaces the old data as a whole.
    assert!(wait_until(Duration::from_secs(20), || c
        .get::<_, Option<i64>>("fresh")
        .unwrap()
        == Some(1)));
    let keys: Vec<String> = c.keys("old:*").unwrap();
    assert!(keys.is_empty());
    assert!(master.connections() >= 2);
}

#[test]
fn truncated_transfer_is_refused() {
    let rdb = valid_rdb();
    let master = FakeMaster::start(Box::new(move |_, s| {
        let full = bulk(&rdb);
        let _ = s.write_all(&full[..full.len() / 2]);
    }));
    let (s, mut c) = replica_with_data(&master);
    assert_survived(&s, &mut c, &master, "connection lost");
}

#[test]
fn garbage_after_fullresync_is_refused() {
    let master = FakeMaster::start(Box::new(|_, s| {
        let _ = s.write_all(b"hello there\r\n");
    }));
    let (s, mut c) = replica_with_data(&master);
    assert_survived(&s, &mut c, &master, "Bad protocol from MASTER");
}

#[test]
fn stalled_transfer_shows_progress_then_times_out() {
    let master = FakeMaster::start(Box::new(|_, s| {
        let _ = s.write_all(b"$1000\r\n");
        let _ = s.write_all(&[b'x'; 100]);
        // Then nothing: hold the socket until the replica gives up.
        let mut sink = [0u8; 1024];
        while matches!(s.read(&mut sink), Ok(k) if k > 0) {}
    }));
    let (s, mut c) = replica_with_data(&master);
    assert!(
        wait_until(Duration::from_secs(10), || info_field(
            &mut c,
            "replication",
            "master_sync_read_bytes"
        )
        .as_deref()
            == Some("100")),
        "no transfer progress in INFO"
    );
    assert_eq!(
        info_field(&mut c, "replication", "master_sync_total_bytes").as_deref(),
        Some("1000")
    );
    assert_eq!(
        info_field(&mut c, "replication", "master_sync_left_bytes").as_deref(),
        Some("900")
    );
    assert_eq!(
        info_field(&mut c, "replication", "master_sync_perc").as_deref(),
        Some("10.00")
    );
    assert_eq!(
        info_field(&mut c, "replication", "master_sync_in_progress").as_deref(),
        Some("1")
    );
    assert_survived(
        &s,
        &mut c,
        &master,
        "Timeout receiving bulk data from MASTER",
    );
}
