//! The server starts with embedded defaults, answers real clients, and refuses bad config the way
//! redis-server does.

mod common;
use common::*;
use redis::Commands;
use std::process::Command;
use std::time::Duration;

#[test]
fn starts_and_answers_resp2_and_resp3() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    let pong: String = redis::cmd("PING").query(&mut c).unwrap();
    assert_eq!(pong, "PONG");
    let _: () = c.set("k", "v").unwrap();
    let v: String = c.get("k").unwrap();
    assert_eq!(v, "v");
    let mut c3 = server.conn3();
    let v: String = c3.get("k").unwrap();
    assert_eq!(v, "v");
    let missing: redis::Value = redis::cmd("GET").arg("nope").query(&mut c3).unwrap();
    assert_eq!(missing, redis::Value::Nil);
    assert!(
        server.log().iter().any(|l| l.contains(" PID: ")),
        "startup info line missing"
    );
}

#[test]
fn fatal_config_error_names_the_line() {
    let dir = scratch_dir("badconf");
    let conf = dir.join("bad.conf");
    std::fs::write(&conf, "port 7000\nnot-a-directive yes\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_resplica"))
        .arg(&conf)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("*** FATAL CONFIG FILE ERROR"), "{err}");
    assert!(err.contains("at line 2"), "{err}");
    assert!(err.contains(">>> 'not-a-directive yes'"), "{err}");
    assert!(
        err.contains("Bad directive or wrong number of arguments"),
        "{err}"
    );
}

#[test]
fn version_and_help_flags() {
    for flag in ["-v", "--version"] {
        let out = Command::new(env!("CARGO_BIN_EXE_resplica"))
            .arg(flag)
            .output()
            .unwrap();
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains("v=0."));
    }
    let out = Command::new(env!("CARGO_BIN_EXE_resplica"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("redis.conf"));
}

#[test]
fn shutdown_exits_cleanly() {
    let mut server = Server::start(&[]);
    let mut c = server.conn();
    let _: redis::RedisResult<()> = redis::cmd("SHUTDOWN").arg("NOSAVE").query(&mut c);
    assert_eq!(server.wait_exit(Duration::from_secs(10)), Some(0));
}
