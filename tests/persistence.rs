//! RDB persistence end to end: SAVE/BGSAVE files that redis-server loads, restart durability,
//! a fork-free BGSAVE that captures exactly the state at its start while writers keep going,
//! refusal of corrupt files, MISCONF after a failed save.

mod common;
use common::*;
use redis::Commands;
use std::process::Command;
use std::time::Duration;

fn wait_bgsave_done(c: &mut redis::Connection) {
    assert!(
        wait_until(Duration::from_secs(60), || info_field(
            c,
            "persistence",
            "rdb_bgsave_in_progress"
        )
        .unwrap_or_default()
            == "0"),
        "BGSAVE did not finish"
    );
}

/// Starts resplica with `dir` as its working directory (for files that must survive restarts).
fn start_in(dir: &std::path::Path, extra: &[&str]) -> Server {
    let mut args = vec!["--dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    Server::start(&args)
}

fn fill_every_type(c: &mut redis::Connection) {
    let _: () = c.set("s", "hello").unwrap();
    let _: () = c.set("n", 12345).unwrap();
    let _: () = redis::cmd("SET")
        .arg("ttl")
        .arg("x")
        .arg("EX")
        .arg(1000)
        .query(c)
        .unwrap();
    let _: () = c.rpush("l", &["a", "b", "c"]).unwrap();
    let _: () = c.hset_multiple("h", &[("f1", "v1"), ("f2", "v2")]).unwrap();
    let _: () = c.sadd("si", &[1, 2, 3]).unwrap();
    let _: () = c.sadd("ss", &["x", "y"]).unwrap();
    let _: () = c.zadd_multiple("z", &[(1.5, "m1"), (2.0, "m2")]).unwrap();
    let big: Vec<String> = (0..300).map(|i| format!("member-{i}")).collect();
    let _: () = c.sadd("bigset", &big).unwrap();
    let _: () = redis::cmd("SELECT").arg(3).query(c).unwrap();
    let _: () = c.set("in-db3", "yes").unwrap();
    let _: () = redis::cmd("SELECT").arg(0).query(c).unwrap();
}

fn check_every_type(c: &mut redis::Connection) {
    assert_eq!(c.get::<_, String>("s").unwrap(), "hello");
    assert_eq!(c.get::<_, i64>("n").unwrap(), 12345);
    let ttl: i64 = c.ttl("ttl").unwrap();
    assert!(ttl > 900 && ttl <= 1000, "ttl {ttl}");
    assert_eq!(
        c.lrange::<_, Vec<String>>("l", 0, -1).unwrap(),
        vec!["a", "b", "c"]
    );
    assert_eq!(c.hget::<_, _, String>("h", "f2").unwrap(), "v2");
    assert_eq!(c.scard::<_, i64>("si").unwrap(), 3);
    assert!(c.sismember::<_, _, bool>("ss", "y").unwrap());
    assert_eq!(c.zscore::<_, _, f64>("z", "m1").unwrap(), 1.5);
    assert_eq!(c.scard::<_, i64>("bigset").unwrap(), 300);
    let _: () = redis::cmd("SELECT").arg(3).query(c).unwrap();
    assert_eq!(c.get::<_, String>("in-db3").unwrap(), "yes");
    let _: () = redis::cmd("SELECT").arg(0).query(c).unwrap();
}

#[test]
fn save_and_restart_keep_every_type_and_redis_loads_our_file() {
    if !have_tool("redis-server") {
        return;
    }
    let dir = scratch_dir("persist");
    {
        let server = start_in(&dir, &[]);
        let mut c = server.conn();
        fill_every_type(&mut c);
        let _: () = redis::cmd("SAVE").query(&mut c).unwrap();
        assert_eq!(
            info_field(&mut c, "persistence", "rdb_changes_since_last_save").unwrap_or_default(),
            "0"
        );
        assert_eq!(
            info_field(&mut c, "persistence", "rdb_saves").unwrap_or_default(),
            "1"
        );
    }
    let file = dir.join("dump.rdb");
    assert!(file.exists());
    let check = Command::new("redis-check-rdb").arg(&file).output().unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    // Our server loads it back at startup.
    let again = start_in(&dir, &[]);
    check_every_type(&mut again.conn());
    assert!(again
        .log()
        .iter()
        .any(|l| l.contains("DB loaded from disk")));
    // And so does redis-server 7.0.
    let real =
        RealRedis::start(&["--dir", dir.to_str().unwrap(), "--dbfilename", "dump.rdb"]).unwrap();
    let mut rc = redis::Client::open(format!("redis://127.0.0.1:{}/", real.port))
        .unwrap()
        .get_connection()
        .unwrap();
    check_every_type(&mut rc);
}

#[test]
fn shutdown_and_sigterm_save_when_save_points_exist() {
    let dir = scratch_dir("shutdown");
    {
        let mut server = start_in(&dir, &["--save", "3600 1"]);
        let mut c = server.conn();
        let _: () = c.set("k", "from-shutdown").unwrap();
        let _: redis::RedisResult<()> = redis::cmd("SHUTDOWN").query(&mut c);
        assert_eq!(server.wait_exit(Duration::from_secs(20)), Some(0));
    }
    {
        let mut server = start_in(&dir, &["--save", "3600 1"]);
        let mut c = server.conn();
        assert_eq!(c.get::<_, String>("k").unwrap(), "from-shutdown");
        let _: () = c.set("k2", "from-sigterm").unwrap();
        let st = Command::new("kill")
            .arg("-TERM")
            .arg(server.child.id().to_string())
            .status()
            .unwrap();
        assert!(st.success());
        assert_eq!(server.wait_exit(Duration::from_secs(20)), Some(0));
    }
    {
        let mut server = start_in(&dir, &["--save", ""]);
        let mut c = server.conn();
        assert_eq!(c.get::<_, String>("k2").unwrap(), "from-sigterm");
        // SHUTDOWN NOSAVE loses what was written since.
        let _: () = c.set("k3", "lost").unwrap();
        let _: redis::RedisResult<()> = redis::cmd("SHUTDOWN").arg("NOSAVE").query(&mut c);
        assert_eq!(server.wait_exit(Duration::from_secs(20)), Some(0));
    }
    let server = start_in(&dir, &[]);
    let v: Option<String> = server.conn().get("k3").unwrap();
    assert_eq!(v, None);
}

#[test]
fn bgsave_captures_exactly_the_state_at_its_start_while_writers_run() {
    let dir = scratch_dir("bgsave");
    let server = start_in(&dir, &["--save", ""]);
    let mut c = server.conn();
    // A large base so the snapshot walk takes many chunks while the writers keep going.
    let mut p = redis::pipe();
    for i in 0..60_000 {
        p.set(format!("base:{i}"), i).ignore();
    }
    let _: () = p.query(&mut c).unwrap();
    let port = server.port;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Writer 0 follows a model the test can recompute from `seq`; writer 1 adds unrelated keys
    // (counted by DBSIZE at the cut) so two clients write during the save.
    let writers: Vec<_> = (0..2)
        .map(|id| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut w = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
                    .unwrap()
                    .get_connection()
                    .unwrap();
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    if id == 1 {
                        let _: () = w.set(format!("other:{n}"), n).unwrap();
                        n += 1;
                        continue;
                    }
                    // One atomic step: bump seq, add key:<seq>, overwrite slot:<seq % 50>,
                    // delete key:<seq - 100>, overwrite a base key.
                    let s: i64 = redis::cmd("INCR").arg("seq").query(&mut w).unwrap();
                    let _: () = redis::pipe()
                        .atomic()
                        .set(format!("key:{s}"), s)
                        .ignore()
                        .set(format!("slot:{}", s % 50), s)
                        .ignore()
                        .del(format!("key:{}", s - 100))
                        .ignore()
                        .set(format!("base:{}", s % 60_000), -s)
                        .ignore()
                        .query(&mut w)
                        .unwrap();
                    n += 1;
                }
                n
            })
        })
        .collect();
    // Let the writers get going, then take the snapshot atomically with reading the base state.
    assert!(wait_until(Duration::from_secs(10), || c
        .get::<_, Option<i64>>("seq")
        .unwrap()
        .unwrap_or(0)
        > 200));
    let (cut_seq, keys_at_cut): (i64, i64) = {
        let (seq, size, _): (i64, i64, String) = redis::pipe()
            .atomic()
            .get("seq")
            .cmd("DBSIZE")
            .cmd("BGSAVE")
            .query(&mut c)
            .unwrap();
        (seq, size)
    };
    wait_bgsave_done(&mut c);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let ops: i64 = writers.into_iter().map(|w| w.join().unwrap()).sum();
    assert!(ops > 0);
    assert_eq!(
        info_field(&mut c, "persistence", "rdb_last_bgsave_status").unwrap_or_default(),
        "ok"
    );
    let after: i64 = c.get("seq").unwrap();
    assert!(after > cut_seq, "writers made no progress during the save");
    // Load the file into a fresh server and compare with the state at the cut.
    let snap_dir = scratch_dir("bgsave-load");
    std::fs::copy(dir.join("dump.rdb"), snap_dir.join("dump.rdb")).unwrap();
    let loaded = start_in(&snap_dir, &["--save", ""]);
    let mut l = loaded.conn();
    let size: i64 = redis::cmd("DBSIZE").query(&mut l).unwrap();
    assert_eq!(
        size, keys_at_cut,
        "the snapshot does not have the cut's number of keys"
    );
    let seq: i64 = l.get("seq").unwrap();
    // INCR runs before its transaction: at the cut seq may be one ahead of the last complete step.
    let last_full: i64 = (cut_seq - 1..=cut_seq)
        .rev()
        .find(|s| l.exists::<_, bool>(format!("key:{s}")).unwrap())
        .unwrap();
    assert_eq!(seq, cut_seq);
    for s in (last_full - 99).max(1)..=last_full {
        assert!(
            l.exists::<_, bool>(format!("key:{s}")).unwrap(),
            "key:{s} missing"
        );
    }
    assert!(!l
        .exists::<_, bool>(format!("key:{}", last_full + 1))
        .unwrap());
    if last_full > 100 {
        assert!(!l
            .exists::<_, bool>(format!("key:{}", last_full - 100))
            .unwrap());
    }
    for slot in 0..50i64 {
        let expect = (1..=last_full).rev().find(|s| s % 50 == slot);
        let got: Option<i64> = l.get(format!("slot:{slot}")).unwrap();
        assert_eq!(got, expect, "slot:{slot}");
    }
    for i in [0i64, 1, 777, 59_999] {
        let expect = (1..=last_full)
            .rev()
            .find(|s| s % 60_000 == i)
            .map_or(i, |s| -s);
        let got: i64 = l.get(format!("base:{i}")).unwrap();
        assert_eq!(got, expect, "base:{i}");
    }
}

#[test]
fn corrupt_file_is_refused_and_left_untouched() {
    let dir = scratch_dir("corrupt");
    {
        let server = start_in(&dir, &[]);
        let mut c = server.conn();
        let _: () = c.set("k", "v".repeat(100)).unwrap();
        let _: () = redis::cmd("SAVE").query(&mut c).unwrap();
    }
    let path = dir.join("dump.rdb");
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xFF;
    std::fs::write(&path, &bytes).unwrap();
    let port = free_port();
    let out = Command::new(env!("CARGO_BIN_EXE_resplica"))
        .args(["--port", &port.to_string(), "--dir", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(log.contains("Fatal error loading the DB"), "{log}");
    assert!(log.contains("RDB error at byte"), "{log}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes,
        "the refused file was modified"
    );
}

#[test]
fn failed_background_save_refuses_writes_with_misconf() {
    let dir = scratch_dir("misconf");
    let server = start_in(&dir, &["--save", "3600 1"]);
    let mut c = server.conn();
    let _: () = c.set("a", 1).unwrap();
    // A directory where the file should go makes the final rename fail.
    std::fs::create_dir_all(dir.join("dump.rdb")).unwrap();
    let _: String = redis::cmd("BGSAVE").query(&mut c).unwrap();
    wait_bgsave_done(&mut c);
    assert_eq!(
        info_field(&mut c, "persistence", "rdb_last_bgsave_status").unwrap_or_default(),
        "err"
    );
    let err = c.set::<_, _, ()>("b", 2).unwrap_err();
    assert!(err.to_string().contains("MISCONF"), "{err}");
    // PING too, as redis-server 7.0 answers it (health checks see the failing saves).
    let err = redis::cmd("PING").query::<String>(&mut c).unwrap_err();
    assert_eq!(err.code(), Some("MISCONF"), "{err}");
    let v: i64 = c.get("a").unwrap();
    assert_eq!(v, 1);
    // Once saving works again, writes are accepted.
    std::fs::remove_dir_all(dir.join("dump.rdb")).unwrap();
    let _: String = redis::cmd("BGSAVE").query(&mut c).unwrap();
    wait_bgsave_done(&mut c);
    let _: () = c.set("b", 2).unwrap();
}

#[test]
fn debug_reload_round_trips_through_the_file() {
    let dir = scratch_dir("reload");
    let server = start_in(&dir, &["--enable-debug-command", "yes"]);
    let mut c = server.conn();
    fill_every_type(&mut c);
    let _: () = redis::cmd("DEBUG").arg("RELOAD").query(&mut c).unwrap();
    check_every_type(&mut c);
}

#[test]
fn redis_cli_rdb_downloads_a_file_redis_check_rdb_accepts() {
    if !have_tool("redis-cli") || !have_tool("redis-check-rdb") {
        return;
    }
    let server = Server::start(&[]);
    let mut c = server.conn();
    fill_every_type(&mut c);
    let out = scratch_dir("cli-rdb").join("out.rdb");
    let st = Command::new("redis-cli")
        .args([
            "-p",
            &server.port.to_string(),
            "--rdb",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let check = Command::new("redis-check-rdb").arg(&out).output().unwrap();
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{text}");
    assert!(text.contains("keys read"), "{text}");
}

#[test]
fn flushall_with_save_points_saves_the_empty_dataset_and_resets_the_counter() {
    let dir = scratch_dir("flushall");
    let server = start_in(&dir, &["--save", "3600 1000"]);
    let mut c = server.conn();
    let _: () = c.set("a", 1).unwrap();
    let _: () = redis::cmd("SAVE").query(&mut c).unwrap();
    let _: () = c.set("b", 2).unwrap();
    let _: () = redis::cmd("FLUSHALL").query(&mut c).unwrap();
    assert_eq!(
        info_field(&mut c, "persistence", "rdb_changes_since_last_save").unwrap_or_default(),
        "1"
    );
    // The file on disk is the empty dataset now.
    drop(c);
    drop(server);
    let again = start_in(&dir, &["--save", ""]);
    let n: i64 = redis::cmd("DBSIZE").query(&mut again.conn()).unwrap();
    assert_eq!(n, 0);
}

/// While a large RDB loads at startup, clients are accepted and answered `-LOADING` (INFO
/// shows `loading:1` and the `loading_*` progress); once it is in place every key is there.
#[test]
fn clients_get_loading_while_the_dataset_loads() {
    const KEYS: i64 = 3_000_000;
    let source = Server::start(&["--enable-debug-command", "yes"]);
    let mut c = source.conn();
    let _: () = redis::cmd("DEBUG")
        .arg("POPULATE")
        .arg(KEYS)
        .arg("key")
        .arg(64)
        .query(&mut c)
        .unwrap();
    let _: () = redis::cmd("SAVE").query(&mut c).unwrap();
    let dir = scratch_dir("loading");
    std::fs::copy(source.dir.join("dump.rdb"), dir.join("dump.rdb")).unwrap();
    drop(source);
    let size = std::fs::metadata(dir.join("dump.rdb")).unwrap().len();
    struct KillOnDrop(std::process::Child);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    // Starts the binary on `dir` (not through the rig, which waits for "Ready") and connects
    // as soon as it listens, while the file is still loading.
    let start_loading = || {
        let port = free_port();
        let server = KillOnDrop(
            std::process::Command::new(env!("CARGO_BIN_EXE_resplica"))
                .args(["--port", &port.to_string(), "--dir", dir.to_str().unwrap()])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("spawn resplica"),
        );
        let mut raw = None;
        assert!(wait_until(Duration::from_secs(10), || {
            raw = Raw::try_connect(port).ok();
            raw.is_some()
        }));
        (server, port, raw.unwrap())
    };
    let (_server, port, mut raw) = start_loading();
    let reply = raw.call(&["GET", "key:1"]);
    let text = format!("{:?}", reply.value);
    assert!(
        text.contains("LOADING") && text.contains("Redis is loading the dataset in memory"),
        "{text}"
    );
    let info = format!("{:?}", raw.call(&["INFO", "persistence"]).value);
    assert!(info.contains("loading:1"), "{info}");
    assert!(
        info.contains(&format!("loading_total_bytes:{size}")),
        "{info}"
    );
    assert!(info.contains("loading_loaded_perc:"), "{info}");
    let mut c = conn(port);
    assert!(wait_until(Duration::from_secs(60), || {
        redis::cmd("DBSIZE").query::<i64>(&mut c).ok() == Some(KEYS)
    }));
    assert_eq!(
        info_field(&mut c, "persistence", "loading").as_deref(),
        Some("0")
    );
    let v: Vec<u8> = redis::cmd("GET").arg("key:1").query(&mut c).unwrap();
    assert!(v.starts_with(b"value:1") && v.len() == 64);
    drop(_server);

    // SHUTDOWN during the load (save points are configured) must not save the partial dataset
    // over the file it is loading.
    let before = std::fs::read(dir.join("dump.rdb")).unwrap();
    let (mut server, _, mut raw) = start_loading();
    let info = format!("{:?}", raw.call(&["INFO", "persistence"]).value);
    assert!(info.contains("loading:1"), "{info}");
    raw.send(&["SHUTDOWN"]);
    assert!(wait_until(Duration::from_secs(30), || matches!(
        server.0.try_wait(),
        Ok(Some(_))
    )));
    assert!(std::fs::read(dir.join("dump.rdb")).unwrap() == before);
}
