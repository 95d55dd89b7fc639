//! Wire-level protocol behaviour over raw TCP: Redis 7.0.15's exact protocol error replies (after
//! which the connection is closed), ordering of replies before an error, inline commands, a huge
//! pipeline answered in order, and bounded server memory for a client that never reads.
//!
//! Every test can be pointed at another server to check the expectations themselves, e.g. a real
//! `redis-server --port 7777 --proto-max-bulk-len 1mb --save ''`:
//! `RESPLICA_PROTO_TEST_PORT=7777 cargo test --release --test protocol_errors`.

mod common;
use common::*;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

const PROTO_MAX_BULK: usize = 1024 * 1024;

/// The server under test: our binary started with `--proto-max-bulk-len 1mb`, or an external one.
struct Target {
    server: Option<Server>,
    port: u16,
}

fn target() -> Target {
    if let Some(port) = std::env::var("RESPLICA_PROTO_TEST_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
    {
        return Target { server: None, port };
    }
    let server = Server::start(&["--proto-max-bulk-len", "1mb"]);
    Target {
        port: server.port,
        server: Some(server),
    }
}

impl Target {
    fn raw(&self) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        s.set_nodelay(true).ok();
        s
    }

    /// The server's pid: the rig's child, or INFO's process_id for an external server.
    fn pid(&self) -> u32 {
        if let Some(s) = &self.server {
            return s.child.id();
        }
        let mut s = self.raw();
        s.write_all(b"INFO server\r\n").unwrap();
        let text =
            String::from_utf8_lossy(&read_for(&mut s, Duration::from_millis(500)).0).into_owned();
        text.lines()
            .find_map(|l| l.strip_prefix("process_id:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("process_id in INFO")
    }
}

/// Reads until the peer closes the connection or `timeout` passes; returns the bytes read and
/// whether the connection was closed (EOF or reset).
fn read_for(s: &mut TcpStream, timeout: Duration) -> (Vec<u8>, bool) {
    let deadline = Instant::now() + timeout;
    let mut out = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (out, false);
        }
        s.set_read_timeout(Some(left)).unwrap();
        match s.read(&mut buf) {
            Ok(0) => return (out, true),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return (out, false)
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return (out, true),
        }
    }
}

/// Reads until exactly `n` bytes arrived (or the deadline passes, returning what came).
fn read_n(s: &mut TcpStream, n: usize, timeout: Duration) -> Vec<u8> {
    let deadline = Instant::now() + timeout;
    let mut out = Vec::with_capacity(n);
    let mut buf = vec![0u8; 256 * 1024];
    while out.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        s.set_read_timeout(Some(left)).unwrap();
        match s.read(&mut buf[..(n - out.len()).min(256 * 1024)]) {
            Ok(0) => break,
            Ok(k) => out.extend_from_slice(&buf[..k]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    out
}

/// Sends `input` on a fresh connection (tolerating the server closing early) and asserts that
/// exactly `expected` comes back, followed by the server closing the connection.
fn expect_reply_then_close(t: &Target, input: &[u8], expected: &[u8]) {
    let mut s = t.raw();
    let _ = s.write_all(input);
    let (got, closed) = read_for(&mut s, Duration::from_secs(10));
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(expected),
        "reply to {:?}",
        String::from_utf8_lossy(&input[..input.len().min(80)])
    );
    assert!(closed, "connection left open after a protocol error");
}

fn proto_err(msg: &str) -> Vec<u8> {
    format!("-ERR Protocol error: {msg}\r\n").into_bytes()
}

/// A request that the server answers with a reply, to prove a connection still works.
fn ping(t: &Target) {
    let mut s = t.raw();
    s.write_all(b"PING\r\n").unwrap();
    assert_eq!(read_n(&mut s, 7, Duration::from_secs(10)), b"+PONG\r\n");
}

#[test]
fn invalid_multibulk_length() {
    let t = target();
    let e = proto_err("invalid multibulk length");
    for input in [
        &b"*x\r\n"[..],
        b"*\r\n",
        b"*+1\r\n",
        b"*01\r\n",
        b"*1x\r\n",
        b"* 1\r\n",
        b"*2147483648\r\n",
        b"*99999999999999999999999\r\n",
    ] {
        expect_reply_then_close(&t, input, &e);
    }
    // Zero and negative counts are skipped silently, as in Redis.
    let mut s = t.raw();
    s.write_all(b"*0\r\n*-1\r\n*-100\r\nPING\r\n").unwrap();
    assert_eq!(read_n(&mut s, 7, Duration::from_secs(10)), b"+PONG\r\n");
}

#[test]
fn invalid_bulk_length() {
    let t = target();
    let e = proto_err("invalid bulk length");
    for input in [
        &b"*1\r\n$-1\r\n"[..],
        b"*1\r\n$-0\r\n",
        b"*1\r\n$\r\n",
        b"*1\r\n$01\r\n",
        b"*2\r\n$3\r\nGET\r\n$x\r\n",
        b"*1\r\n$1048577\r\n",
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2097152\r\n",
        b"*1\r\n$9223372036854775808\r\n",
    ] {
        expect_reply_then_close(&t, input, &e);
    }
    // Exactly proto-max-bulk-len is accepted.
    let value = vec![b'v'; PROTO_MAX_BULK];
    let mut req = format!("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n${}\r\n", value.len()).into_bytes();
    req.extend_from_slice(&value);
    req.extend_from_slice(b"\r\nSTRLEN big\r\n");
    let mut s = t.raw();
    s.write_all(&req).unwrap();
    assert_eq!(
        read_n(&mut s, 15, Duration::from_secs(10)),
        b"+OK\r\n:1048576\r\n"
    );
}

#[test]
fn expected_dollar() {
    let t = target();
    expect_reply_then_close(&t, b"*1\r\nx\r\n", &proto_err("expected '$', got 'x'"));
    expect_reply_then_close(
        &t,
        b"*2\r\n$3\r\nGET\r\n:1\r\n",
        &proto_err("expected '$', got ':'"),
    );
    // A CR is reported the way Redis's error formatting prints it: as a space.
    expect_reply_then_close(&t, b"*1\r\n\r\n", &proto_err("expected '$', got ' '"));
    // The '$' is only checked once the header line is complete: an incomplete one waits.
    let mut s = t.raw();
    s.write_all(b"*1\r\nPING").unwrap();
    let (got, closed) = read_for(&mut s, Duration::from_millis(300));
    assert!(got.is_empty() && !closed, "{got:?} closed={closed}");
    s.write_all(b"\r\n").unwrap();
    let (got, closed) = read_for(&mut s, Duration::from_secs(10));
    assert_eq!(got, proto_err("expected '$', got 'P'"));
    assert!(closed);
}

#[test]
fn unbalanced_quotes() {
    let t = target();
    let e = proto_err("unbalanced quotes in request");
    for input in [
        &b"SET a \"b\r\n"[..],
        b"SET a 'b\r\n",
        b"SET a \"b\"c\r\n",
        b"SET a 'b'c\r\n",
        b"\"\r\n",
        b"ECHO \"abc\\\"\n",
    ] {
        expect_reply_then_close(&t, input, &e);
    }
}

#[test]
fn too_big_inline_and_count_strings() {
    let t = target();
    // One byte over PROTO_INLINE_MAX_SIZE (64 KB) without a line end; sending no more than the
    // server needs to read keeps the close clean (no reset over unread data).
    let mut inline = b"SET k ".to_vec();
    inline.resize(64 * 1024 + 1, b'a');
    expect_reply_then_close(&t, &inline, &proto_err("too big inline request"));

    let mut count = b"*".to_vec();
    count.resize(64 * 1024 + 1, b'1');
    expect_reply_then_close(&t, &count, &proto_err("too big mbulk count string"));

    let mut bulk = b"*1\r\n$".to_vec();
    bulk.resize(4 + 64 * 1024 + 1, b'1');
    expect_reply_then_close(&t, &bulk, &proto_err("too big bulk count string"));

    // Just under the limit is still only "incomplete".
    let mut s = t.raw();
    let mut almost = b"ECHO ".to_vec();
    almost.resize(64 * 1024, b'b');
    s.write_all(&almost).unwrap();
    let (got, closed) = read_for(&mut s, Duration::from_millis(300));
    assert!(got.is_empty() && !closed, "{got:?} closed={closed}");
    s.write_all(b"\r\n").unwrap();
    let reply = read_n(&mut s, 64 * 1024 - 5 + 10, Duration::from_secs(10));
    assert!(reply.starts_with(b"$65531\r\nbbb"), "{:?}", &reply[..20]);
}

#[test]
fn replies_before_the_error_arrive_first() {
    let t = target();
    let tag = format!("after-{}", std::process::id());
    let mut input = b"PING\r\n*3\r\n$3\r\nSET\r\n$6\r\nbefore\r\n$1\r\n1\r\nECHO hi\r\n".to_vec();
    input.extend_from_slice(b"*1\r\n+oops\r\n");
    input.extend_from_slice(format!("SET {tag} 1\r\n").as_bytes());
    let mut expected = b"+PONG\r\n+OK\r\n$2\r\nhi\r\n".to_vec();
    expected.extend_from_slice(&proto_err("expected '$', got '+'"));
    expect_reply_then_close(&t, &input, &expected);

    // The command after the error was dropped; the ones before it ran.
    let mut s = t.raw();
    s.write_all(format!("EXISTS before {tag}\r\n").as_bytes())
        .unwrap();
    assert_eq!(read_n(&mut s, 4, Duration::from_secs(10)), b":1\r\n");

    // Same when the error arrives in a later read than the good commands.
    let mut s = t.raw();
    s.write_all(b"PING\r\n").unwrap();
    assert_eq!(read_n(&mut s, 7, Duration::from_secs(10)), b"+PONG\r\n");
    s.write_all(b"ECHO x\r\n*z\r\n").unwrap();
    let (got, closed) = read_for(&mut s, Duration::from_secs(10));
    let mut expected = b"$1\r\nx\r\n".to_vec();
    expected.extend_from_slice(&proto_err("invalid multibulk length"));
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&expected)
    );
    assert!(closed);
}

#[test]
fn inline_commands() {
    let t = target();
    let mut s = t.raw();
    let k = format!("inline-{}", std::process::id());
    let script = format!(
        "PING\r\nPING\n\r\n\n   \r\nSET {k} \"b c\"\r\nGET {k}\r\nSET {k} 'it\\'s'\r\nGET {k}\r\n\
         SET {k} \"\\x41\\x42\\n\\t\"\r\nGET {k}\r\nECHO \"\"\r\n  ping   \r\n"
    );
    s.write_all(script.as_bytes()).unwrap();
    let expected = b"+PONG\r\n+PONG\r\n+OK\r\n$3\r\nb c\r\n+OK\r\n$4\r\nit's\r\n+OK\r\n$4\r\nAB\n\t\r\n$0\r\n\r\n+PONG\r\n";
    let got = read_n(&mut s, expected.len(), Duration::from_secs(10));
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(expected)
    );
    // Nothing more was sent: empty lines produce no reply.
    let (extra, closed) = read_for(&mut s, Duration::from_millis(200));
    assert!(extra.is_empty() && !closed);

    // Inline and multibulk requests can be mixed in one write.
    s.write_all(b"*1\r\n$4\r\nPING\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$1\r\nz\r\n")
        .unwrap();
    assert_eq!(
        read_n(&mut s, 21, Duration::from_secs(10)),
        b"+PONG\r\n+PONG\r\n$1\r\nz\r\n"
    );
}

#[test]
fn pipeline_longer_than_one_batch_in_a_single_read() {
    let t = target();
    let mut s = t.raw();
    s.write_all(&b"PING\r\n".repeat(1000)).unwrap();
    let want = b"+PONG\r\n".repeat(1000);
    let got = read_n(&mut s, want.len(), Duration::from_secs(10));
    assert_eq!(
        got.len() / 7,
        1000,
        "PONGs received for 1000 pipelined PINGs"
    );
}

#[test]
fn pipeline_of_100k_commands_in_order() {
    let t = target();
    const N: usize = 100_000;
    let prefix = format!("pipe-{}-", std::process::id());
    let mut input = Vec::with_capacity(N * 40);
    let mut expected = Vec::with_capacity(N * 20);
    for i in 0..N {
        let key = format!("{prefix}{}", i / 2);
        match i % 4 {
            0 => {
                let val = format!("v{i}");
                input.extend_from_slice(
                    format!(
                        "*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n${}\r\n{val}\r\n",
                        key.len(),
                        val.len()
                    )
                    .as_bytes(),
                );
                expected.extend_from_slice(b"+OK\r\n");
            }
            1 | 3 => {
                input.extend_from_slice(format!("GET {key}\r\n").as_bytes());
                let val = format!("v{}", i - i % 4);
                expected.extend_from_slice(format!("${}\r\n{val}\r\n", val.len()).as_bytes());
            }
            _ => {
                input.extend_from_slice(format!("SET {key} v{}\r\n", i - 2).as_bytes());
                expected.extend_from_slice(b"+OK\r\n");
            }
        }
    }
    let mut s = t.raw();
    let mut w = s.try_clone().unwrap();
    let writer = std::thread::spawn(move || w.write_all(&input));
    let got = read_n(&mut s, expected.len(), Duration::from_secs(60));
    writer.join().unwrap().unwrap();
    if got != expected {
        let at = got
            .iter()
            .zip(&expected)
            .position(|(a, b)| a != b)
            .unwrap_or(got.len().min(expected.len()));
        panic!(
            "replies differ at byte {at} (got {} of {} bytes): got {:?}, expected {:?}",
            got.len(),
            expected.len(),
            String::from_utf8_lossy(&got[at.saturating_sub(20)..(at + 40).min(got.len())]),
            String::from_utf8_lossy(
                &expected[at.saturating_sub(20)..(at + 40).min(expected.len())]
            ),
        );
    }
    let (extra, _) = read_for(&mut s, Duration::from_millis(100));
    assert!(extra.is_empty());
}

fn vm_rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn client_that_never_reads_does_not_grow_server_memory() {
    if !std::path::Path::new("/proc/self/status").exists() {
        eprintln!("!!! SKIPPING: no /proc on this system !!!");
        return;
    }
    let t = target();
    let pid = t.pid();
    // Every 9-byte request below asks for a 16 KB reply: a server that keeps reading without
    // writing would buffer ~1800 times what the client sends.
    let mut s = t.raw();
    let key = format!("fat-{}", std::process::id());
    let set = format!("SET {key} {}\r\n", "x".repeat(16 * 1024));
    s.write_all(set.as_bytes()).unwrap();
    assert_eq!(read_n(&mut s, 5, Duration::from_secs(10)), b"+OK\r\n");
    let base = vm_rss_kb(pid);
    assert!(base > 0);

    let request = format!("GET {key}\r\n").repeat(8 * 1024).into_bytes();
    let limit_kb = base + 256 * 1024;
    let mut writer = t.raw();
    writer
        .set_write_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut written = 0usize;
    let mut off = 0usize;
    let mut stalled_since: Option<Instant> = None;
    let start = Instant::now();
    let mut peak = base;
    loop {
        match writer.write(&request[off..]) {
            Ok(n) => {
                written += n;
                off = (off + n) % request.len();
                stalled_since = None;
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                stalled_since.get_or_insert_with(Instant::now);
            }
            Err(e) => panic!("server dropped the writer after {written} bytes: {e}"),
        }
        let rss = vm_rss_kb(pid);
        peak = peak.max(rss);
        assert!(
            rss < limit_kb,
            "server RSS grew from {base} kB to {rss} kB after {written} request bytes"
        );
        // The server stopped reading: backpressure reached the client.
        if stalled_since.is_some_and(|t| t.elapsed() > Duration::from_secs(1)) {
            break;
        }
        // Enough requests to have buffered many GB of replies without backpressure.
        if written > 32 * 1024 * 1024 || start.elapsed() > Duration::from_secs(20) {
            break;
        }
    }
    eprintln!(
        "never-reading client: wrote {written} bytes, server RSS {base} kB -> peak {peak} kB"
    );
    assert!(
        written < 32 * 1024 * 1024,
        "server kept reading {written} bytes of requests without its replies being read"
    );
    drop(writer);
    // The server is still healthy once the client goes away.
    ping(&t);
    let _ = s.shutdown(Shutdown::Both);
}
