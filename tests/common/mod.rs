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

// ---------------------------------------------------------------------------------------------
// Differential testing against a real redis-server.
// ---------------------------------------------------------------------------------------------

use std::io::{Read, Write};
use std::net::TcpStream;

/// A real `redis-server` on a free loopback port (no persistence), killed when dropped.
pub struct RealRedis {
    pub port: u16,
    child: Child,
    dir: PathBuf,
    bin: String,
    extra: Vec<String>,
}

/// Whether a server on `port` answers (any reply will do: with requirepass set, PING answers
/// NOAUTH).
fn answers(port: u16) -> bool {
    Raw::try_connect(port)
        .map(|mut r| {
            r.send(&["PING"]);
            r.try_read(Duration::from_secs(2)).is_some()
        })
        .unwrap_or(false)
}

/// `bin --port N --save '' --appendonly no ... extra`, logging to `server.log` in `dir`.
fn spawn_server(bin: &str, port: u16, dir: &Path, extra: &[String]) -> Child {
    Command::new(bin)
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .args(["--dir", dir.to_str().unwrap()])
        .args(["--logfile", dir.join("server.log").to_str().unwrap()])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {bin}: {e}"))
}

impl RealRedis {
    /// Starts `redis-server --port N --save '' --appendonly no` plus `extra`, waiting until it
    /// answers PING. `None` (after a loud notice) when redis-server is not installed.
    pub fn start(extra: &[&str]) -> Option<RealRedis> {
        if !have_tool("redis-server") {
            return None;
        }
        Some(Self::start_binary("redis-server", extra))
    }

    /// A redis-server replica of the server on `master`, with its link up, and a connection to
    /// it. `None` (after a loud notice) when redis-server is not installed.
    pub fn replica_of(master: u16) -> Option<(RealRedis, redis::Connection)> {
        let real = Self::start(&["--replicaof", "127.0.0.1", &master.to_string()])?;
        let mut c = conn(real.port);
        wait_link_up(&mut c);
        Some((real, c))
    }

    /// The same with another Redis-compatible server binary (valkey-server), logging to
    /// `server.log` in its directory.
    pub fn start_binary(bin: &str, extra: &[&str]) -> RealRedis {
        let extra: Vec<String> = extra.iter().map(|a| a.to_string()).collect();
        for _ in 0..5 {
            let (port, dir) = (free_port(), scratch_dir("real-redis"));
            let mut real = RealRedis {
                port,
                child: spawn_server(bin, port, &dir, &extra),
                dir,
                bin: bin.to_string(),
                extra: extra.clone(),
            };
            let up = wait_until(Duration::from_secs(10), || {
                matches!(real.child.try_wait(), Ok(Some(_))) || answers(port)
            });
            if up && matches!(real.child.try_wait(), Ok(None)) {
                return real;
            }
            let _ = real.child.kill();
        }
        panic!("{bin} did not start");
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    /// `SHUTDOWN SAVE`, then starts again on the same port and directory (it loads its RDB).
    pub fn restart(&mut self) {
        let mut c = conn(self.port);
        let _: redis::RedisResult<()> = redis::cmd("SHUTDOWN").arg("SAVE").query(&mut c);
        let _ = self.child.wait();
        self.child = spawn_server(&self.bin, self.port, &self.dir, &self.extra);
        let port = self.port;
        assert!(
            wait_until(Duration::from_secs(20), || answers(port)),
            "{} did not restart",
            self.bin
        );
    }

    /// The process id (tests stop and resume it with SIGSTOP/SIGCONT).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for RealRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One reply: the value as the `redis` crate models it plus a signature of the RESP type bytes
/// seen (so `$-1` and `*-1`, `+OK` and `$2 OK` stay distinguishable).
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub value: redis::Value,
    pub sig: String,
}

/// A raw RESP connection: send any argument vector, read replies one at a time, with timeouts.
pub struct Raw {
    reader: std::io::BufReader<TcpStream>,
    writer: TcpStream,
}

impl Raw {
    /// Connects to a loopback port.
    pub fn connect(port: u16) -> Raw {
        Self::try_connect(port).expect("connect")
    }

    pub fn try_connect(port: u16) -> std::io::Result<Raw> {
        let s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        s.set_nodelay(true)?;
        Ok(Raw {
            reader: std::io::BufReader::new(s.try_clone()?),
            writer: s,
        })
    }

    /// Sends one command without waiting for its reply.
    pub fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) {
        let mut buf = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            let a = a.as_ref();
            buf.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            buf.extend_from_slice(a);
            buf.extend_from_slice(b"\r\n");
        }
        self.writer.write_all(&buf).expect("write command");
    }

    /// Reads one reply, panicking after 10 s.
    pub fn read(&mut self) -> Reply {
        self.try_read(Duration::from_secs(10))
            .expect("timed out waiting for a reply")
    }

    /// Reads one reply, `None` if nothing arrives within `timeout` or the peer closed.
    pub fn try_read(&mut self, timeout: Duration) -> Option<Reply> {
        if self.reader.buffer().is_empty() {
            self.writer.set_read_timeout(Some(timeout)).ok()?;
            let got = std::io::BufRead::fill_buf(&mut self.reader)
                .map(|b| !b.is_empty())
                .unwrap_or(false);
            self.writer
                .set_read_timeout(Some(Duration::from_secs(10)))
                .ok()?;
            if !got {
                return None;
            }
        }
        let mut sig = String::new();
        let value = parse_reply(&mut self.reader, &mut sig).ok()?;
        Some(Reply { value, sig })
    }

    /// Sends a command and reads its reply.
    pub fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Reply {
        self.send(args);
        self.read()
    }
}

fn read_line(r: &mut impl std::io::BufRead) -> std::io::Result<String> {
    let mut line = Vec::new();
    r.read_until(b'\n', &mut line)?;
    if line.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "closed",
        ));
    }
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    Ok(String::from_utf8_lossy(&line).into_owned())
}

/// Parses one RESP2/RESP3 reply.
fn parse_reply(r: &mut impl std::io::BufRead, sig: &mut String) -> std::io::Result<redis::Value> {
    use redis::Value as V;
    let line = read_line(r)?;
    let (kind, rest) = line.split_at(1);
    sig.push_str(kind);
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "bad reply");
    let n = || rest.parse::<i64>().map_err(|_| bad());
    let bulk = |r: &mut dyn std::io::BufRead, len: i64| -> std::io::Result<Vec<u8>> {
        let mut data = vec![0u8; len as usize + 2];
        r.read_exact(&mut data)?;
        data.truncate(len as usize);
        Ok(data)
    };
    let items = |r: &mut dyn std::io::BufRead, count: i64, sig: &mut String| {
        let mut v = Vec::new();
        for _ in 0..count {
            v.push(parse_reply_dyn(r, sig)?);
        }
        Ok::<_, std::io::Error>(v)
    };
    Ok(match kind {
        "+" if rest == "OK" => V::Okay,
        "+" => V::SimpleString(rest.to_string()),
        "-" => redis::parse_redis_value(format!("-{rest}\r\n").as_bytes()).map_err(|_| bad())?,
        ":" => V::Int(n()?),
        "$" if n()? < 0 => V::Nil,
        "$" => V::BulkString(bulk(r, n()?)?),
        "*" if n()? < 0 => V::Nil,
        "*" => V::Array(items(r, n()?, sig)?),
        "~" => V::Set(items(r, n()?, sig)?),
        ">" => V::Push {
            kind: redis::PushKind::Other(String::new()),
            data: items(r, n()?, sig)?,
        },
        "%" => {
            let flat = items(r, n()? * 2, sig)?;
            let mut it = flat.into_iter();
            let mut pairs = Vec::new();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                pairs.push((k, v));
            }
            V::Map(pairs)
        }
        "_" => V::Nil,
        "#" => V::Boolean(rest == "t"),
        "," => V::Double(match rest {
            "inf" => f64::INFINITY,
            "-inf" => f64::NEG_INFINITY,
            t => t.parse().map_err(|_| bad())?,
        }),
        "(" => V::SimpleString(format!("bignum:{rest}")),
        "=" => {
            let data = bulk(r, n()?)?;
            let text = String::from_utf8_lossy(&data).into_owned();
            let (fmt, body) = text.split_at(4.min(text.len()));
            V::VerbatimString {
                format: redis::VerbatimFormat::Unknown(fmt.trim_end_matches(':').to_string()),
                text: body.to_string(),
            }
        }
        _ => return Err(bad()),
    })
}

fn parse_reply_dyn(
    r: &mut dyn std::io::BufRead,
    sig: &mut String,
) -> std::io::Result<redis::Value> {
    parse_reply(&mut BufReaderRef(r), sig)
}

struct BufReaderRef<'a>(&'a mut dyn std::io::BufRead);
impl Read for BufReaderRef<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}
impl std::io::BufRead for BufReaderRef<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.0.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.0.consume(amt)
    }
}

/// Readable rendering of a reply for mismatch reports.
pub fn show(v: &redis::Value) -> String {
    use redis::Value as V;
    match v {
        V::Nil => "nil".into(),
        V::Int(n) => format!("(int) {n}"),
        V::BulkString(b) => format!("{:?}", String::from_utf8_lossy(b)),
        V::SimpleString(s) => format!("+{s}"),
        V::Okay => "+OK".into(),
        V::Array(a) => format!("[{}]", a.iter().map(show).collect::<Vec<_>>().join(", ")),
        V::Set(a) => format!(
            "set{{{}}}",
            a.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
        V::Push { data, .. } => format!(
            "push[{}]",
            data.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
        V::Map(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{} => {}", show(k), show(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        V::Double(d) => format!("(double) {d}"),
        V::Boolean(b) => format!("(bool) {b}"),
        V::VerbatimString { format, text } => format!("verbatim({format:?}) {text:?}"),
        V::ServerError(e) => format!("-{} {}", e.code(), e.details().unwrap_or("")),
        other => format!("{other:?}"),
    }
}

/// Applies `f` to every value of a reply tree, bottom-up.
pub fn map_values(v: redis::Value, f: &dyn Fn(redis::Value) -> redis::Value) -> redis::Value {
    use redis::Value as V;
    let v = match v {
        V::Array(a) => V::Array(a.into_iter().map(|x| map_values(x, f)).collect()),
        V::Set(a) => V::Set(a.into_iter().map(|x| map_values(x, f)).collect()),
        V::Map(m) => V::Map(
            m.into_iter()
                .map(|(k, x)| (map_values(k, f), map_values(x, f)))
                .collect(),
        ),
        other => other,
    };
    f(v)
}

/// Sorts arrays and sets (for replies whose order is unspecified, like KEYS).
pub fn sorted(v: redis::Value) -> redis::Value {
    use redis::Value as V;
    map_values(v, &|v| match v {
        V::Array(mut a) => {
            a.sort_by_key(show);
            V::Array(a)
        }
        V::Set(mut a) => {
            a.sort_by_key(show);
            V::Set(a)
        }
        V::Map(mut m) => {
            m.sort_by_key(|(k, _)| show(k));
            V::Map(m)
        }
        other => other,
    })
}

/// The text of a bulk, simple or verbatim string reply.
pub fn text_of(v: &redis::Value) -> Option<String> {
    use redis::Value as V;
    match v {
        V::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        V::SimpleString(s) => Some(s.clone()),
        V::Okay => Some("OK".into()),
        V::VerbatimString { text, .. } => Some(text.clone()),
        _ => None,
    }
}

/// A normaliser: gets the command and its reply, returns what should be compared.
pub type Norm<'a> = &'a dyn Fn(&[&str], redis::Value) -> redis::Value;

/// Resplica and a real Redis 7.0 side by side, for differential tests.
///
/// A sequence is a list of commands. A command's first word may be a marker:
/// `~any` compares only the top-level reply type, `~skip` runs without comparing, `~approx`
/// lets integers differ by up to 1500 (TTLs in ms, times), `~sorted` sorts arrays first,
/// `~noreply` sends without reading (CLIENT REPLY OFF/SKIP; the sequence ends with a marker ECHO
/// that catches stray replies).
pub struct Pair {
    pub ours: Server,
    pub real: RealRedis,
}

impl Pair {
    /// Both servers with default settings; `None` if redis-server is not installed.
    pub fn start() -> Option<Pair> {
        Self::start_with(&[], &[])
    }

    pub fn start_with(ours: &[&str], real: &[&str]) -> Option<Pair> {
        let real = RealRedis::start(real)?;
        Some(Pair {
            ours: Server::start(ours),
            real,
        })
    }

    /// Runs every sequence in RESP2 and in RESP3, on fresh connections after FLUSHALL, and
    /// returns a description of each reply that differs.
    pub fn diff(&self, seqs: &[&[&[&str]]]) -> Vec<String> {
        self.diff_norm(seqs, &|_, v| v)
    }

    pub fn diff_norm(&self, seqs: &[&[&[&str]]], norm: Norm) -> Vec<String> {
        let mut diffs = Vec::new();
        for proto in [2, 3] {
            for seq in seqs {
                diffs.extend(self.run_seq(proto, seq, norm));
            }
        }
        diffs
    }

    fn setup(port: u16, proto: u8) -> Raw {
        let mut c = Raw::connect(port);
        let r = c.call(&["FLUSHALL"]);
        assert_eq!(r.value, redis::Value::Okay, "FLUSHALL failed");
        if proto == 3 {
            c.call(&["HELLO", "3"]);
        }
        c
    }

    fn run_seq(&self, proto: u8, seq: &[&[&str]], norm: Norm) -> Vec<String> {
        let mut ours = Self::setup(self.ours.port, proto);
        let mut real = Self::setup(self.real.port, proto);
        let mut diffs = Vec::new();
        let mut transcript = Vec::new();
        let mut pending = 0;
        for step in seq {
            let (marker, cmd) = match step.first() {
                Some(m) if m.starts_with('~') => (*m, &step[1..]),
                _ => ("", *step),
            };
            transcript.push(cmd.join(" "));
            if marker == "~noreply" {
                ours.send(cmd);
                real.send(cmd);
                pending += 1;
                continue;
            }
            ours.send(cmd);
            real.send(cmd);
            let wait = Duration::from_secs(5);
            let (a, b) = match (ours.try_read(wait), real.try_read(wait)) {
                (Some(a), Some(b)) => (a, b),
                (a, b) => {
                    diffs.push(format!(
                        "RESP{proto} {:?}: no reply from {} (ours: {:?}, real: {:?})",
                        cmd.join(" "),
                        if a.is_none() { "ours" } else { "real" },
                        a.map(|r| show(&r.value)),
                        b.map(|r| show(&r.value)),
                    ));
                    return diffs;
                }
            };
            let (av, bv) = (norm(cmd, a.value.clone()), norm(cmd, b.value.clone()));
            let same = match marker {
                "~skip" => true,
                "~any" => a.sig.get(..1) == b.sig.get(..1),
                "~approx" => approx_eq(&av, &bv),
                "~sorted" => sorted(av.clone()) == sorted(bv.clone()),
                _ => av == bv && (a.sig == b.sig || a.value != av),
            };
            if !same {
                diffs.push(format!(
                    "RESP{proto} {:?}\n    ours: {} [{}]\n    real: {} [{}]\n    after: {}",
                    cmd.join(" "),
                    show(&av),
                    a.sig,
                    show(&bv),
                    b.sig,
                    {
                        let before = &transcript[..transcript.len() - 1];
                        before[before.len().saturating_sub(4)..].join(" | ")
                    }
                ));
            }
        }
        // Stray or missing replies show up as a misplaced end marker.
        let end = ["ECHO", "__end_of_sequence__"];
        let _ = pending;
        for (name, c) in [("ours", &mut ours), ("real", &mut real)] {
            let r = c.call(&end);
            if r.value != redis::Value::BulkString(end[1].as_bytes().to_vec()) {
                diffs.push(format!(
                    "RESP{proto} {name}: stray reply {} at the end of [{}]",
                    show(&r.value),
                    transcript.join(" | ")
                ));
            }
        }
        diffs
    }
}

fn approx_eq(a: &redis::Value, b: &redis::Value) -> bool {
    use redis::Value as V;
    match (a, b) {
        (V::Int(x), V::Int(y)) => (x - y).abs() <= 1500,
        (V::Array(x), V::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| approx_eq(p, q))
        }
        (V::BulkString(x), V::BulkString(y)) => {
            let p = std::str::from_utf8(x)
                .ok()
                .and_then(|s| s.parse::<i64>().ok());
            let q = std::str::from_utf8(y)
                .ok()
                .and_then(|s| s.parse::<i64>().ok());
            match (p, q) {
                (Some(p), Some(q)) => (p - q).abs() <= 1500,
                _ => x == y,
            }
        }
        _ => a == b,
    }
}

/// Fails with every difference listed.
pub fn assert_no_diffs(diffs: Vec<String>) {
    if !diffs.is_empty() {
        panic!(
            "{} difference(s) from Redis 7.0:\n{}",
            diffs.len(),
            diffs.join("\n")
        );
    }
}

/// Starts a Resplica / redis-server pair for a differential test, or returns from the test
/// (after have_tool's loud notice) when redis-server is missing. Use with `#[macro_use] mod common;`.
#[allow(unused_macros)]
macro_rules! pair {
    () => {
        match Pair::start() {
            Some(p) => p,
            None => return,
        }
    };
}

/// A RESP2 connection to any server on a loopback port.
pub fn conn(port: u16) -> redis::Connection {
    redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .unwrap()
        .get_connection()
        .unwrap()
}

/// One field of an INFO section, `None` when absent or the server does not answer.
pub fn info_field(c: &mut redis::Connection, section: &str, field: &str) -> Option<String> {
    let info: String = redis::cmd("INFO").arg(section).query(c).ok()?;
    info.lines().find_map(|l| {
        l.strip_prefix(&format!("{field}:"))
            .map(|v| v.trim().to_string())
    })
}

/// An integer field of an INFO section; panics when it is absent (the test needs it).
pub fn info_int(c: &mut redis::Connection, section: &str, field: &str) -> i64 {
    info_field(c, section, field)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("INFO {section} has no integer {field}"))
}

/// Reads pub/sub messages from `sub` until the `__keyevent@0__:end` marker a keyspace-event test
/// publishes last, as display lines; a 5 s silence is recorded as `<timeout>` and ends the read.
pub fn read_until_end_marker(sub: &mut Raw) -> Vec<String> {
    let mut t = Vec::new();
    loop {
        let Some(r) = sub.try_read(Duration::from_secs(5)) else {
            t.push("<timeout>".into());
            break;
        };
        let line = show(&r.value);
        let done = line.contains("__keyevent@0__:end");
        t.push(line);
        if done {
            break;
        }
    }
    t
}

/// Replication traffic is counted apart from client traffic, as Redis 7.0 does: the replica read
/// what its master counts as sent (the handshake replies aside), a full sync's worth at least.
pub fn assert_repl_traffic_counted(
    master: &mut redis::Connection,
    replica: &mut redis::Connection,
) {
    let bytes = |c: &mut redis::Connection, f: &str| -> u64 {
        info_field(c, "stats", f).unwrap().parse().unwrap()
    };
    let sent = bytes(master, "total_net_repl_output_bytes");
    let read = bytes(replica, "total_net_repl_input_bytes");
    assert!(
        read > 100_000 && read <= sent,
        "replica read {read}, master sent {sent}"
    );
}

/// CLIENT KILL TYPE `kind` (normal, master, replica, pubsub): how many connections it closed.
pub fn client_kill_type(c: &mut redis::Connection, kind: &str) -> i64 {
    redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg(kind)
        .query(c)
        .unwrap()
}

/// Waits (30 s at most) until a replica reports `master_link_status:up`.
pub fn wait_link_up(replica: &mut redis::Connection) {
    assert!(
        wait_until(Duration::from_secs(30), || info_field(
            replica,
            "replication",
            "master_link_status"
        )
        .as_deref()
            == Some("up")),
        "replica link did not come up"
    );
}
