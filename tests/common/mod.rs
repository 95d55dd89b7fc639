//! Test rig shared by the integration tests: start the real `resplica` binary on a free loopback
//! port, wait until it is ready, talk to it with the `redis` crate or `redis-cli`, stop it on drop.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running server process, killed when dropped.
pub struct Server {
    pub port: u16,
    pub child: Child,
    pub dir: PathBuf,
    /// Lines the server logged so far are collected here by a background thread.
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port")
}

/// A fresh scratch directory under the target dir.
pub fn scratch_dir(tag: &str) -> PathBuf {
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let dir = base.join(format!("{tag}-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed) * 1_000_003
        + std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() as u64)
            .unwrap_or(0)
}

/// Polls `f` every 10 ms until it returns true or `timeout` passes.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    f()
}

impl Server {
    /// Starts resplica with `args` (after `--port N --dir <scratch>`), waiting for
    /// "Ready to accept connections". Retries on a port race.
    pub fn start(args: &[&str]) -> Server {
        Self::start_with_config(None, args)
    }

    /// Starts resplica with a config file first, as `resplica file --port N ...`.
    pub fn start_with_config(config: Option<&Path>, args: &[&str]) -> Server {
        for _ in 0..5 {
            let port = free_port();
            let dir = scratch_dir("server");
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_resplica"));
            if let Some(c) = config {
                cmd.arg(c);
            }
            cmd.args(["--port", &port.to_string(), "--dir", dir.to_str().unwrap()])
                .args(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let mut child = cmd.spawn().expect("spawn resplica");
            let stdout = child.stdout.take().unwrap();
            let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let (tx, rx) = mpsc::channel();
            let sink = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if line.contains("Ready to accept connections") {
                        let _ = tx.send(true);
                    }
                    sink.lock().unwrap().push(line);
                }
                let _ = tx.send(false);
            });
            match rx.recv_timeout(Duration::from_secs(20)) {
                Ok(true) => {
                    return Server {
                        port,
                        child,
                        dir,
                        log,
                    }
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
        }
        panic!("resplica did not start");
    }

    /// A connection speaking RESP2.
    pub fn conn(&self) -> redis::Connection {
        self.client().get_connection().expect("connect")
    }

    /// A connection speaking RESP3.
    pub fn conn3(&self) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{}/?protocol=resp3", self.port))
            .unwrap()
            .get_connection()
            .expect("connect resp3")
    }

    /// A client for this server.
    pub fn client(&self) -> redis::Client {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port)).unwrap()
    }

    /// The log lines seen so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Waits until a log line contains `needle`.
    pub fn wait_log(&self, needle: &str, timeout: Duration) -> bool {
        wait_until(timeout, || self.log().iter().any(|l| l.contains(needle)))
    }

    /// Runs `redis-cli -p <port> args...`, returning stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .arg("-p")
            .arg(self.port.to_string())
            .args(args)
            .output()
            .expect("run redis-cli");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits for the process to exit, returning its status code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// True if `tool` runs. When it is missing the test says so loudly and is skipped, except under
/// CI (the `CI` variable set), where a missing tool is a failure.
pub fn have_tool(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!("{tool} is required under CI but is not installed");
        }
        eprintln!("\n!!! SKIPPING: {tool} is not installed; install redis-server and redis-tools to run this test !!!\n");
    }
    ok
}
