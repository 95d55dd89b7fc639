//! bind / protected-mode / requirepass / rename-command / maxclients / timeout, end to end.

mod common;
use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

fn raw(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Sends `req` and reads one reply line (up to CRLF).
fn roundtrip(s: &mut TcpStream, req: &str) -> String {
    s.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    let mut byte = [0u8; 1];
    while !out.ends_with(b"\r\n") {
        match s.read(&mut byte) {
            Ok(1) => out.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn requirepass_gates_commands() {
    let server = Server::start(&["--requirepass", "s3cret"]);
    let mut s = raw(server.port);
    assert_eq!(
        roundtrip(&mut s, "GET a\r\n"),
        "-NOAUTH Authentication required.\r\n"
    );
    assert_eq!(
        roundtrip(&mut s, "AUTH wrong\r\n"),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(
        roundtrip(&mut s, "AUTH nobody s3cret\r\n"),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(roundtrip(&mut s, "AUTH s3cret\r\n"), "+OK\r\n");
    assert_eq!(roundtrip(&mut s, "SET a 1\r\n"), "+OK\r\n");

    let mut h = raw(server.port);
    assert!(roundtrip(&mut h, "HELLO 3\r\n")
        .starts_with("-NOAUTH HELLO must be called with the client already authenticated"));
    assert!(roundtrip(&mut h, "HELLO 3 AUTH default s3cret\r\n").starts_with("%7"));

    let client =
        redis::Client::open(format!("redis://:s3cret@127.0.0.1:{}/", server.port)).unwrap();
    let mut c = client.get_connection().unwrap();
    let v: String = redis::cmd("GET").arg("a").query(&mut c).unwrap();
    assert_eq!(v, "1");
}

#[test]
fn auth_without_password_configured() {
    let server = Server::start(&[]);
    let mut s = raw(server.port);
    assert_eq!(
        roundtrip(&mut s, "AUTH foo\r\n"),
        "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n"
    );
}

#[test]
fn rename_command_renames_and_disables() {
    let dir = scratch_dir("rename");
    let conf = dir.join("r.conf");
    std::fs::write(
        &conf,
        "rename-command FLUSHALL \"\"\nrename-command CONFIG cfg-9f2\n",
    )
    .unwrap();
    let server = Server::start_with_config(Some(&conf), &[]);
    let mut s = raw(server.port);
    assert_eq!(
        roundtrip(&mut s, "FLUSHALL\r\n"),
        "-ERR unknown command 'FLUSHALL', with args beginning with: \r\n"
    );
    assert_eq!(
        roundtrip(&mut s, "CONFIG GET port\r\n"),
        "-ERR unknown command 'CONFIG', with args beginning with: 'GET' 'port' \r\n"
    );
    assert_eq!(roundtrip(&mut s, "cfg-9f2 GET maxclients\r\n"), "*2\r\n");
}

#[test]
fn maxclients_refuses_extra_connections() {
    let server = Server::start(&["--maxclients", "2"]);
    let mut a = raw(server.port);
    let mut b = raw(server.port);
    assert_eq!(roundtrip(&mut a, "PING\r\n"), "+PONG\r\n");
    assert_eq!(roundtrip(&mut b, "PING\r\n"), "+PONG\r\n");
    let mut c = raw(server.port);
    assert_eq!(
        roundtrip(&mut c, "PING\r\n"),
        "-ERR max number of clients reached\r\n"
    );
    drop(b);
    // The slot frees up once the server notices the close.
    assert!(wait_until(Duration::from_secs(5), || {
        let mut d = raw(server.port);
        roundtrip(&mut d, "PING\r\n") == "+PONG\r\n"
    }));
    assert_eq!(roundtrip(&mut a, "PING\r\n"), "+PONG\r\n");
}

#[test]
fn idle_timeout_closes_clients() {
    let server = Server::start(&["--timeout", "1"]);
    let mut s = raw(server.port);
    assert_eq!(roundtrip(&mut s, "PING\r\n"), "+PONG\r\n");
    let mut buf = [0u8; 16];
    // The server closes the idle connection after about a second: read returns 0 (EOF).
    let n = s.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0);
    assert!(server.wait_log("Closing idle client", Duration::from_secs(5)));
}

/// A local address that is not loopback, to play a remote client; `None` on an isolated box.
fn non_loopback_ip() -> Option<std::net::IpAddr> {
    let sock = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    sock.connect("10.255.255.1:9").ok()?;
    let ip = sock.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[test]
fn protected_mode_denies_remote_clients_without_password() {
    let Some(ip) = non_loopback_ip() else {
        eprintln!("!!! SKIPPING protected-mode test: this machine has no non-loopback address !!!");
        return;
    };
    let server = Server::start(&["--bind", "*"]);
    let mut s = TcpStream::connect((ip, server.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let reply = roundtrip(&mut s, "PING\r\n");
    assert!(
        reply.starts_with("-DENIED Redis is running in protected mode"),
        "{reply}"
    );
    // Loopback clients are still served.
    let mut local = raw(server.port);
    assert_eq!(roundtrip(&mut local, "PING\r\n"), "+PONG\r\n");

    let open = Server::start(&["--bind", "*", "--protected-mode", "no"]);
    let mut s = TcpStream::connect((ip, open.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    assert_eq!(roundtrip(&mut s, "PING\r\n"), "+PONG\r\n");
}
