//! The real `redis-cli` (7.0) against the server: mass insertion with `--pipe`, `--scan`, database
//! selection, RESP3 output and the human (`--no-raw`) reply formatting. Every test is skipped
//! loudly when redis-cli is not installed (and fails under CI).

mod common;
use common::*;
use std::io::Write;
use std::process::{Command, Stdio};

/// Runs redis-cli against `server` with `stdin` fed in; returns (exit code, stdout, stderr).
fn cli_with_stdin(server: &Server, args: &[&str], stdin: &[u8]) -> (Option<i32>, String, String) {
    let mut child = Command::new("redis-cli")
        .arg("-p")
        .arg(server.port.to_string())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run redis-cli");
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("redis-cli output");
    feeder.join().expect("stdin feeder");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn resp_command(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

#[test]
fn pipe_mode_mass_insertion() {
    if !have_tool("redis-cli") {
        return;
    }
    let server = Server::start(&[]);
    let mut input = Vec::new();
    for i in 0..10_000 {
        input.extend(resp_command(&[
            "SET",
            &format!("mass:{i}"),
            &format!("value-{i}"),
        ]));
    }
    let (code, out, err) = cli_with_stdin(&server, &["--pipe"], &input);
    assert_eq!(code, Some(0), "stdout: {out}\nstderr: {err}");
    assert!(
        out.contains("All data transferred. Waiting for the last reply...")
            && out.contains("Last reply received from server."),
        "{out}"
    );
    assert!(out.contains("errors: 0, replies: 10000"), "{out}");
    assert_eq!(server.cli(&["DBSIZE"]).trim(), "10000");
    assert_eq!(server.cli(&["GET", "mass:9999"]).trim(), "value-9999");

    // Errors are counted (and printed), and the exit status reports them.
    let mut input = resp_command(&["SET", "n", "1"]);
    input.extend(resp_command(&["INCR", "mass:0"]));
    input.extend(resp_command(&["INCR", "n"]));
    let (code, out, err) = cli_with_stdin(&server, &["--pipe"], &input);
    assert!(out.contains("errors: 1, replies: 3"), "{out}");
    assert!(
        format!("{out}{err}").contains("ERR value is not an integer or out of range"),
        "{out}{err}"
    );
    assert_eq!(code, Some(1), "stdout: {out}\nstderr: {err}");
    assert_eq!(server.cli(&["GET", "n"]).trim(), "2");
}

#[test]
fn scan_with_pattern() {
    if !have_tool("redis-cli") {
        return;
    }
    let server = Server::start(&[]);
    let mut c = server.conn();
    let mut pipe = redis::pipe();
    for i in 0..2000 {
        pipe.cmd("SET").arg(format!("user:{i}")).arg(i).ignore();
        pipe.cmd("SET").arg(format!("item:{i}")).arg(i).ignore();
    }
    pipe.query::<()>(&mut c).unwrap();

    let mut keys: Vec<String> = server
        .cli(&["--scan", "--pattern", "user:1?9"])
        .lines()
        .map(str::to_string)
        .collect();
    keys.sort();
    let mut want: Vec<String> = (0..10).map(|d| format!("user:1{d}9")).collect();
    want.sort();
    assert_eq!(keys, want);

    // Every matching key exactly once, across many SCAN calls.
    let all = server.cli(&["--scan", "--pattern", "item:*"]);
    let mut all: Vec<&str> = all.lines().collect();
    assert_eq!(all.len(), 2000);
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 2000);
    assert!(all.iter().all(|k| k.starts_with("item:")));

    // No pattern lists everything.
    assert_eq!(server.cli(&["--scan"]).lines().count(), 4000);
    assert_eq!(server.cli(&["--scan", "--pattern", "nomatch*"]), "");
}

#[test]
fn database_selection_with_n() {
    if !have_tool("redis-cli") {
        return;
    }
    let server = Server::start(&[]);
    assert_eq!(
        server.cli(&["-n", "3", "SET", "where", "three"]).trim(),
        "OK"
    );
    assert_eq!(server.cli(&["-n", "3", "GET", "where"]).trim(), "three");
    // Not in db 0; an empty (nil) reply prints as an empty line in raw mode.
    assert_eq!(server.cli(&["GET", "where"]), "\n");
    assert_eq!(server.cli(&["-n", "3", "--scan"]).trim(), "where");
    assert_eq!(server.cli(&["-n", "3", "DBSIZE"]).trim(), "1");
    assert_eq!(server.cli(&["-n", "0", "DBSIZE"]).trim(), "0");
    let info = server.cli(&["INFO", "keyspace"]);
    assert!(info.contains("db3:keys=1,expires=0,avg_ttl=0"), "{info}");
    // A database out of range: redis-cli reports the SELECT failure.
    let out = Command::new("redis-cli")
        .args(["-p", &server.port.to_string(), "-n", "16", "PING"])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("ERR DB index is out of range"), "{text}");
}

#[test]
fn resp3_hello_output() {
    if !have_tool("redis-cli") {
        return;
    }
    let server = Server::start(&[]);
    // Human formatting of the RESP3 map HELLO returns (redis-cli -3 sends HELLO 3 first).
    let out = server.cli(&["-3", "--no-raw", "HELLO"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 7, "{out}");
    assert_eq!(lines[0], "1# \"server\" => \"redis\"");
    assert_eq!(lines[1], "2# \"version\" => \"7.0.15\"");
    assert_eq!(lines[2], "3# \"proto\" => (integer) 3");
    assert!(lines[3].starts_with("4# \"id\" => (integer) "), "{out}");
    assert_eq!(lines[4], "5# \"mode\" => \"standalone\"");
    assert_eq!(lines[5], "6# \"role\" => \"master\"");
    assert_eq!(lines[6], "7# \"modules\" => (empty array)");

    // Raw mode (stdout is not a terminal): one "key value" line per pair.
    let raw = server.cli(&["-3", "HELLO"]);
    let raw: Vec<&str> = raw.lines().collect();
    assert_eq!(raw[..3], ["server redis", "version 7.0.15", "proto 3"]);
    assert_eq!(raw[4..], ["mode standalone", "role master", "modules "]);

    // RESP3 types as redis-cli prints them.
    assert_eq!(server.cli(&["-3", "--no-raw", "GET", "missing"]), "(nil)\n");
    server.cli(&["SET", "n", "10"]);
    assert_eq!(
        server.cli(&["-3", "--no-raw", "INCRBYFLOAT", "n", "0.5"]),
        "\"10.5\"\n"
    );
    // RESP2 stays the default.
    let out = server.cli(&["--no-raw", "HELLO"]);
    assert!(out.starts_with(" 1) \"server\"\n 2) \"redis\"\n"), "{out}");
}

#[test]
fn no_raw_formatting_of_get() {
    if !have_tool("redis-cli") {
        return;
    }
    let server = Server::start(&[]);
    let mut c = server.conn();
    redis::cmd("SET")
        .arg("bin")
        .arg(&b"x\ny\x01\"q\"\\ \xff"[..])
        .query::<()>(&mut c)
        .unwrap();
    redis::cmd("SET")
        .arg("plain")
        .arg("a b")
        .query::<()>(&mut c)
        .unwrap();
    redis::cmd("SET")
        .arg("empty")
        .arg("")
        .query::<()>(&mut c)
        .unwrap();
    assert_eq!(
        server.cli(&["--no-raw", "GET", "bin"]),
        "\"x\\ny\\x01\\\"q\\\"\\\\ \\xff\"\n"
    );
    assert_eq!(server.cli(&["--no-raw", "GET", "plain"]), "\"a b\"\n");
    assert_eq!(server.cli(&["--no-raw", "GET", "empty"]), "\"\"\n");
    assert_eq!(server.cli(&["--no-raw", "GET", "nope"]), "(nil)\n");
    assert_eq!(
        server.cli(&["--no-raw", "STRLEN", "plain"]),
        "(integer) 3\n"
    );
    assert_eq!(server.cli(&["--no-raw", "SET", "x", "1"]), "OK\n");
    let err = server.cli(&["--no-raw", "INCR", "plain"]);
    assert_eq!(err, "(error) ERR value is not an integer or out of range\n");
    // Raw mode prints the bytes as they are.
    assert_eq!(server.cli(&["--raw", "GET", "plain"]), "a b\n");
}

#[test]
fn info_reports_redis_version() {
    if !have_tool("redis-cli") {
        return;
    }
    let server = Server::start(&[]);
    let info = server.cli(&["info"]);
    assert!(
        info.lines().any(|l| l.trim_end() == "redis_version:7.0.15"),
        "{info}"
    );
    assert!(info.contains("# Server"), "{info}");
    assert!(info.contains("redis_mode:standalone"), "{info}");
    assert!(
        info.contains(&format!("tcp_port:{}", server.port)),
        "{info}"
    );
    // INFO lines end in CRLF on the wire; redis-cli prints them verbatim.
    let server_only = server.cli(&["info", "server"]);
    assert!(!server_only.contains("# Clients"), "{server_only}");
}
