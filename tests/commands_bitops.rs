//! SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and BITFIELD_RO, checked differentially
//! against a real redis-server 7.0 (every reply and every change to the dirty counter must be
//! identical), plus explicit checks of the exact error texts that run without redis-server.

mod common;
use common::*;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

// ---------------------------------------------------------------------------------------------
// A real redis-server to compare against.
// ---------------------------------------------------------------------------------------------

/// A reference `redis-server` on a free loopback port, killed when dropped.
struct Reference {
    port: u16,
    child: Child,
    dir: PathBuf,
}

impl Reference {
    /// Starts redis-server without persistence; `None` (loudly) when it is not installed.
    fn start() -> Option<Reference> {
        if !have_tool("redis-server") {
            return None;
        }
        for _ in 0..5 {
            let port = free_port();
            let dir = scratch_dir("bitops-ref");
            let child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
                .args(["--dir", dir.to_str().expect("utf-8 scratch dir")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn redis-server");
            let mut r = Reference { port, child, dir };
            let up = wait_until(Duration::from_secs(10), || {
                if matches!(r.child.try_wait(), Ok(Some(_))) {
                    return true;
                }
                r.client()
                    .get_connection()
                    .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
                    .is_ok()
            });
            if up && matches!(r.child.try_wait(), Ok(None)) {
                return Some(r);
            }
        }
        panic!("redis-server did not start");
    }

    fn client(&self) -> redis::Client {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port)).expect("client")
    }

    fn conn(&self) -> redis::Connection {
        self.client()
            .get_connection()
            .expect("connect to redis-server")
    }

    fn conn3(&self) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{}/?protocol=resp3", self.port))
            .expect("client")
            .get_connection()
            .expect("connect to redis-server (resp3)")
    }
}

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

// ---------------------------------------------------------------------------------------------
// Running commands and comparing replies.
// ---------------------------------------------------------------------------------------------

/// A reply, with server errors as their full text (`ERR ...`, `WRONGTYPE ...`).
type Reply = Result<redis::Value, String>;

fn error_text(e: &redis::RedisError) -> String {
    match (e.code(), e.detail()) {
        (Some(code), Some(detail)) => format!("{code} {detail}"),
        (Some(code), None) => code.to_string(),
        _ => e.to_string(),
    }
}

fn run(c: &mut redis::Connection, args: &[Vec<u8>]) -> Reply {
    let name = String::from_utf8_lossy(&args[0]).into_owned();
    let mut cmd = redis::cmd(&name);
    for a in &args[1..] {
        cmd.arg(&a[..]);
    }
    cmd.query::<redis::Value>(c).map_err(|e| error_text(&e))
}

/// Splits a command line on spaces; `\xNN` escapes a byte, `""` is an empty argument.
fn parse_line(line: &str) -> Vec<Vec<u8>> {
    line.split_whitespace()
        .map(|tok| {
            if tok == "\"\"" {
                return Vec::new();
            }
            let b = tok.as_bytes();
            let mut out = Vec::new();
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'\\' && b.get(i + 1) == Some(&b'x') && i + 3 < b.len() {
                    let hex = std::str::from_utf8(&b[i + 2..i + 4]).expect("hex");
                    out.push(u8::from_str_radix(hex, 16).expect("hex escape"));
                    i += 4;
                } else {
                    out.push(b[i]);
                    i += 1;
                }
            }
            out
        })
        .collect()
}

/// `rdb_changes_since_last_save` from INFO persistence.
fn dirty(c: &mut redis::Connection) -> i64 {
    let info: String = redis::cmd("INFO")
        .arg("persistence")
        .query(c)
        .expect("INFO persistence");
    info.lines()
        .find_map(|l| l.strip_prefix("rdb_changes_since_last_save:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("rdb_changes_since_last_save in INFO")
}

/// Whether a command's effect on the dirty counter is compared (the writing bit commands).
fn is_bit_write(args: &[Vec<u8>]) -> bool {
    let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
    ["setbit", "bitop", "bitfield"]
        .iter()
        .any(|p| name.starts_with(p))
}

/// TTLs differ by timing; only their sign is compared.
fn normalise(args: &[Vec<u8>], reply: Reply) -> Reply {
    if args[0].eq_ignore_ascii_case(b"ttl") {
        if let Ok(redis::Value::Int(n)) = reply {
            return Ok(redis::Value::Int(n.signum()));
        }
    }
    reply
}

/// Both servers side by side.
struct Pair {
    ours: redis::Connection,
    real: redis::Connection,
}

impl Pair {
    /// Runs one command on both servers and asserts identical replies and dirty-counter deltas.
    fn check(&mut self, args: &[Vec<u8>], label: &str) {
        let track = is_bit_write(args);
        let before = track.then(|| (dirty(&mut self.ours), dirty(&mut self.real)));
        let ours = normalise(args, run(&mut self.ours, args));
        let real = normalise(args, run(&mut self.real, args));
        let shown: Vec<String> = args
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        assert_eq!(ours, real, "[{label}] reply to {shown:?}");
        if let Some((o0, r0)) = before {
            let (o1, r1) = (dirty(&mut self.ours), dirty(&mut self.real));
            assert_eq!(
                o1 - o0,
                r1 - r0,
                "[{label}] dirty-counter change after {shown:?}"
            );
        }
    }

    fn line(&mut self, line: &str, label: &str) {
        self.check(&parse_line(line), label);
    }

    /// Runs a script on freshly flushed servers, then compares every key's value and TTL sign.
    fn script(&mut self, label: &str, script: &str) {
        self.flush();
        for line in script.lines().map(str::trim).filter(|l| !l.is_empty()) {
            self.line(line, label);
        }
        self.compare_keyspace(label);
    }

    fn flush(&mut self) {
        let _: () = redis::cmd("FLUSHALL").query(&mut self.ours).expect("flush");
        let _: () = redis::cmd("FLUSHALL").query(&mut self.real).expect("flush");
    }

    fn compare_keyspace(&mut self, label: &str) {
        let mut ours: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*").query(&mut self.ours).unwrap();
        let mut real: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*").query(&mut self.real).unwrap();
        ours.sort();
        real.sort();
        assert_eq!(ours, real, "[{label}] key sets differ");
        for k in real {
            for cmd in ["GET", "TTL"] {
                self.check(&[cmd.as_bytes().to_vec(), k.clone()], label);
            }
        }
    }
}

/// Both servers, or `None` when redis-server is missing (the skip is announced by `have_tool`).
fn pair() -> Option<(Server, Reference, Pair)> {
    let real = Reference::start()?;
    let ours = Server::start(&[]);
    let p = Pair {
        ours: ours.conn(),
        real: real.conn(),
    };
    Some((ours, real, p))
}

// ---------------------------------------------------------------------------------------------
// Differential tests.
// ---------------------------------------------------------------------------------------------

#[test]
fn setbit_getbit_match_redis() {
    let Some((_s, _r, mut p)) = pair() else {
        return;
    };
    p.script(
        "setbit basics",
        r#"
        SETBIT k 7 1
        GETBIT k 7
        GETBIT k 6
        GET k
        SETBIT k 7 1
        SETBIT k 7 0
        SETBIT k 7 0
        GET k
        SETBIT k 100 1
        STRLEN k
        GETBIT k 100
        GETBIT k 101
        GETBIT k 100000
        SETBIT k 0 0
        SETBIT k 103 0
        STRLEN k
        GETBIT nokey 0
        setbit lower 3 1
        GetBit lower 3
        "#,
    );
    p.script(
        "setbit errors",
        r#"
        SET k a
        SETBIT k -1 1
        SETBIT k 1 2
        SETBIT k 1 -1
        SETBIT k 1 a
        SETBIT k 1 ""
        SETBIT k 1 01
        SETBIT k abc 1
        SETBIT k "" 1
        SETBIT k 1.5 1
        SETBIT k 01 1
        SETBIT k +1 1
        SETBIT k #1 1
        SETBIT k -1 9
        SETBIT k 4294967296 1
        SETBIT k 4294967303 1
        SETBIT k 9223372036854775807 1
        SETBIT k 9223372036854775808 1
        GETBIT k -1
        GETBIT k a
        GETBIT k #1
        GETBIT k 4294967296
        GETBIT k 4294967295
        GETBIT nokey -1
        SETBIT nokey2 -1 1
        SETBIT k
        SETBIT k 1
        SETBIT k 1 1 1
        GETBIT k
        GETBIT k 1 1
        "#,
    );
    p.script(
        "setbit on integers and ttl",
        r#"
        SET n 12
        GETBIT n 2
        GETBIT n 3
        GETBIT n 15
        SETBIT n 15 1
        GET n
        INCR n
        SETBIT n 6 0
        GET n
        SET neg -5
        SETBIT neg 2 1
        GET neg
        SET t abc EX 1000
        SETBIT t 1 1
        TTL t
        SETBIT t 1000 1
        TTL t
        GET t
        SET e ""
        GETBIT e 0
        SETBIT e 0 0
        GET e
        "#,
    );
}

#[test]
fn bitcount_matches_redis() {
    let Some((_s, _r, mut p)) = pair() else {
        return;
    };
    p.script(
        "bitcount",
        r#"
        SET s foobar
        BITCOUNT s
        BITCOUNT s 0 0
        BITCOUNT s 1 1
        BITCOUNT s 1 1 BYTE
        BITCOUNT s 1 1 byte
        BITCOUNT s 5 30 BIT
        BITCOUNT s 5 30 bit
        BITCOUNT s 0 -1 bit
        BITCOUNT s -1 -2 foo
        BITCOUNT s 1 2 foo
        BITCOUNT s 1
        BITCOUNT s 1 2 3 4
        BITCOUNT s 1 2 bit 4
        BITCOUNT s a 1
        BITCOUNT s 1 a
        BITCOUNT s a 1 foo
        BITCOUNT s 1.0 2
        BITCOUNT nokey
        BITCOUNT nokey 1
        BITCOUNT nokey a b c d
        BITCOUNT nokey 0 -1 foo
        BITCOUNT s -100 100
        BITCOUNT s 100 200
        BITCOUNT s -3 -1 bit
        BITCOUNT s 9223372036854775807 -9223372036854775808
        BITCOUNT s -9223372036854775808 9223372036854775807
        BITCOUNT s -9223372036854775808 9223372036854775807 bit
        BITCOUNT s 9223372036854775808 1
        SET e ""
        BITCOUNT e
        BITCOUNT e 0 -1
        BITCOUNT e 0 -1 bit
        BITCOUNT e -1 -2 bit
        SET n 1234567
        BITCOUNT n
        BITCOUNT n 2 4
        BITCOUNT n 3 20 bit
        SET n -9223372036854775808
        BITCOUNT n
        BITCOUNT
        "#,
    );
    // Every small range in both units over an irregular string.
    p.flush();
    p.line(
        r"SET s \x00\xff\x66\x0f\xf0\x81\x00\xff\x01\x80\xaa",
        "ranges",
    );
    for unit in ["", " BYTE", " BIT"] {
        let (span, step) = if unit == " BIT" { (95, 3) } else { (13, 1) };
        for start in (-span..=span).step_by(step) {
            for end in (-span..=span).step_by(step.min(2)) {
                p.line(
                    &format!("BITCOUNT s {start} {end}{unit}"),
                    "bitcount ranges",
                );
            }
        }
    }
}

#[test]
fn bitpos_matches_redis() {
    let Some((_s, _r, mut p)) = pair() else {
        return;
    };
    p.script(
        "bitpos",
        r#"
        SET s foobar
        BITPOS s 1
        BITPOS s 0
        BITPOS s 2
        BITPOS s -1
        BITPOS s a
        BITPOS s 1 a
        BITPOS s 1 1 a
        BITPOS s 1 1 2 foo
        BITPOS s 1 1 b foo
        BITPOS s 1 a 2 foo
        BITPOS s 1 2 1 2 3
        BITPOS s 0 1 2 bit
        BITPOS s 1 7 15 bit
        BITPOS s 1 7 15 BYTE
        BITPOS nokey 1
        BITPOS nokey 0
        BITPOS nokey 1 a
        BITPOS nokey 0 1 2 foo
        BITPOS nokey 2
        BITPOS nokey a
        SET e ""
        BITPOS e 0
        BITPOS e 1
        BITPOS e 0 0
        BITPOS e 0 0 -1
        BITPOS e 0 0 -1 bit
        SET ones \xff\xff\xff
        BITPOS ones 0
        BITPOS ones 0 1
        BITPOS ones 0 1 -1
        BITPOS ones 0 10 -1 bit
        BITPOS ones 0 10 bit foo
        BITPOS ones 1 -1
        SET zeros \x00\x00\x00
        BITPOS zeros 1
        BITPOS zeros 0
        BITPOS zeros 1 1
        BITPOS zeros 0 5
        SET n 99
        BITPOS n 1
        BITPOS n 0 1
        BITPOS s 1 -9223372036854775808 9223372036854775807 bit
        BITPOS s 0 9223372036854775807
        BITPOS
        BITPOS s
        "#,
    );
    p.flush();
    p.line(r"SET s \x00\xff\x66\x0f\xf0\x81\x00\xff\x01\x80", "ranges");
    p.line(r"SET f \xff\xff\xf0\x00", "ranges");
    for key in ["s", "f"] {
        for bit in [0, 1] {
            for start in -12..=12 {
                p.line(&format!("BITPOS {key} {bit} {start}"), "bitpos start");
                for end in -12..=12 {
                    p.line(&format!("BITPOS {key} {bit} {start} {end}"), "bitpos");
                    p.line(&format!("BITPOS {key} {bit} {start} {end} byte"), "bitpos");
                }
            }
            for start in (-85..=85).step_by(5) {
                for end in (-85..=85).step_by(2) {
                    p.line(
                        &format!("BITPOS {key} {bit} {start} {end} BIT"),
                        "bitpos bit",
                    );
                }
            }
        }
    }
}

#[test]
fn bitop_matches_redis() {
    let Some((_s, _r, mut p)) = pair() else {
        return;
    };
    p.script(
        "bitop",
        r#"
        SET a \x0f\xf0\xff
        SET b \xff
        SET c abcdef
        BITOP AND d a b c
        GET d
        BITOP OR d a b c
        GET d
        BITOP XOR d a b c
        GET d
        BITOP NOT d a
        GET d
        BITOP NOT d c
        GET d
        BITOP and d c a
        BITOP Or d b
        GET d
        BITOP xOr d c c
        GET d
        BITOP AND d a
        GET d
        BITOP AND d a nokey
        GET d
        BITOP OR d nokey a
        GET d
        BITOP NOT d a b
        BITOP NOT d
        BITOP NOT d nokey
        EXISTS d
        BITOP foo d a
        BITOP foo d
        BITOP andx d a
        BITOP "" d a
        BITOP and d2 nokey1 nokey2
        EXISTS d2
        SET d2 x
        BITOP or d2 nokey
        EXISTS d2
        SET e ""
        BITOP or d3 e e
        EXISTS d3
        SET t x EX 1000
        BITOP OR t a
        TTL t
        GET t
        SET n 12
        BITOP XOR n n n
        GET n
        SET m 7
        BITOP OR out m
        GET out
        INCR out
        BITOP AND a a b
        GET a
        BITOP
        BITOP AND
        BITOP AND d
        "#,
    );
}

#[test]
fn bitfield_matches_redis() {
    let Some((_s, _r, mut p)) = pair() else {
        return;
    };
    p.script(
        "bitfield",
        r#"
        BITFIELD k
        BITFIELD_RO k
        EXISTS k
        BITFIELD k GET u8 0
        EXISTS k
        BITFIELD k SET u8 0 255 GET u8 0 GET i8 0
        BITFIELD k INCRBY u2 100 1 OVERFLOW SAT INCRBY u2 102 1
        GET k
        BITFIELD k SET i8 #1 -100 GET i8 #1 GET u8 8
        BITFIELD k INCRBY i5 100 1 GET u4 0
        BITFIELD k OVERFLOW WRAP INCRBY u2 102 1 OVERFLOW SAT incrby u2 102 5 OVERFLOW fail incrby u2 102 1 incrby u2 102 -1
        BITFIELD k overflow FAIL SET u2 0 4 SET u2 0 3 SET i2 0 -3 SET i2 0 -2
        BITFIELD k set u8 0 1 set u8 0 1 incrby u8 0 0
        BITFIELD k GET i64 0 INCRBY i64 0 -1 OVERFLOW SAT INCRBY i64 0 -9223372036854775807 INCRBY i64 0 -1 OVERFLOW FAIL INCRBY i64 0 -1
        BITFIELD k GET u63 1 GET i64 1 GET u1 7 GET i1 7 GET u8 #100000
        GET k
        BITFIELD_RO k GET u8 0 GET i16 #2
        BITFIELD_RO k OVERFLOW SAT GET u8 0
        BITFIELD_RO nokey GET u8 0 GET i64 1000
        BITFIELD nk2 OVERFLOW FAIL INCRBY u2 0 10
        EXISTS nk2
        GET nk2
        BITFIELD nk3 OVERFLOW FAIL INCRBY u2 23 10 GET u8 0
        STRLEN nk3
        SET t abc EX 1000
        BITFIELD t SET u8 0 65 SET u8 100 1
        TTL t
        GET t
        SET n 12
        BITFIELD n GET u8 0 INCRBY u8 8 1
        GET n
        SET n 12
        BITFIELD n INCRBY u8 8 0
        GET n
        "#,
    );
    p.script(
        "bitfield errors",
        r#"
        SET k ab
        BITFIELD k GET u64 0
        BITFIELD k GET i65 0
        BITFIELD k GET u0 0
        BITFIELD k GET i0 0
        BITFIELD k GET U8 0
        BITFIELD k GET I8 0
        BITFIELD k GET x 0
        BITFIELD k GET u 0
        BITFIELD k GET "" 0
        BITFIELD k GET u08 0
        BITFIELD k GET u-1 0
        BITFIELD k GET u8 -1
        BITFIELD k GET u8 #-1
        BITFIELD k GET u8 #
        BITFIELD k GET u8 #a
        BITFIELD k GET u8 ##1
        BITFIELD k GET u8 #01
        BITFIELD k GET u8 ""
        BITFIELD k GET u8 4294967296
        BITFIELD k GET u8 4294967295
        BITFIELD k GET u8 #536870911
        BITFIELD k GET u8 #536870912
        BITFIELD k GET u8 #2305843009213693952
        BITFIELD k GET u8 #2305843009213693951
        BITFIELD k GET i64 #67108864
        BITFIELD k GET i64 #67108863
        BITFIELD k GET i64 #9223372036854775807
        BITFIELD k GET u8
        BITFIELD k SET u8 0
        BITFIELD k INCRBY u8 0
        BITFIELD k SET u8 0 a
        BITFIELD k SET u8 0 1.5
        BITFIELD k SET u8 0 ""
        BITFIELD k INCRBY u8 0 99999999999999999999
        BITFIELD k INCRBY u8 a 1
        BITFIELD k INCRBY u99 a 1
        BITFIELD k OVERFLOW
        BITFIELD k OVERFLOW foo GET u8 0
        BITFIELD k OVERFLOW foo
        BITFIELD k GET u8 0 OVERFLOW
        BITFIELD k FOO
        BITFIELD k GET u8 0 FOO
        BITFIELD k GET u8 0 GET u64 0
        BITFIELD k SET u8 0 1 GET u64 0
        GET k
        BITFIELD_RO k SET u8 0 1
        BITFIELD_RO k INCRBY u8 0 1
        BITFIELD_RO k GET u8 0 SET u8 0 1
        BITFIELD_RO k SET u8 0 a
        BITFIELD_RO k SET u64 0 1
        BITFIELD_RO k FOO
        BITFIELD_RO k OVERFLOW BAD
        BITFIELD_RO nokey SET u8 0 1
        EXISTS nokey
        BITFIELD
        BITFIELD_RO
        "#,
    );
}

#[test]
fn bitfield_arithmetic_matches_redis() {
    let Some((_s, _r, mut p)) = pair() else {
        return;
    };
    p.flush();
    let types = [
        "i1", "i2", "i3", "i7", "i8", "i9", "i16", "i31", "i32", "i33", "i63", "i64", "u1", "u2",
        "u3", "u7", "u8", "u9", "u16", "u31", "u32", "u33", "u62", "u63",
    ];
    let values = [
        "0",
        "1",
        "-1",
        "2",
        "-2",
        "3",
        "127",
        "128",
        "-128",
        "-129",
        "255",
        "256",
        "2147483647",
        "2147483648",
        "-2147483649",
        "4294967295",
        "4294967296",
        "4611686018427387903",
        "4611686018427387904",
        "9223372036854775807",
        "-9223372036854775807",
        "-9223372036854775808",
    ];
    for (n, ty) in types.iter().enumerate() {
        let key = format!("f{n}");
        for ow in ["WRAP", "SAT", "FAIL"] {
            for offset in ["0", "5", "#1"] {
                for v in values {
                    p.line(
                        &format!(
                            "BITFIELD {key} OVERFLOW {ow} SET {ty} {offset} {v} GET {ty} {offset} GET u8 0"
                        ),
                        "bitfield set",
                    );
                    p.line(
                        &format!(
                            "BITFIELD {key} OVERFLOW {ow} INCRBY {ty} {offset} {v} GET {ty} {offset}"
                        ),
                        "bitfield incrby",
                    );
                    p.line(
                        &format!("BITFIELD {key} OVERFLOW {ow} INCRBY {ty} {offset} {v} INCRBY {ty} {offset} {v}"),
                        "bitfield incrby twice",
                    );
                }
            }
        }
    }
    p.compare_keyspace("bitfield arithmetic");
}

#[test]
fn wrong_type_matches_redis() {
    let Some((_s, _r, mut p)) = pair() else {
        return;
    };
    // Only strings may exist yet; use whichever other type this build supports.
    let candidates = [
        ("LPUSH", "a"),
        ("SADD", "a"),
        ("HSET", "f v"),
        ("ZADD", "1 a"),
        ("XADD", "* f v"),
    ];
    let maker = candidates.iter().find(|(name, _)| {
        let info: redis::Value = redis::cmd("COMMAND")
            .arg("INFO")
            .arg(*name)
            .query(&mut p.ours)
            .expect("COMMAND INFO");
        matches!(info, redis::Value::Array(ref v) if v.first().is_some_and(|x| *x != redis::Value::Nil))
    });
    let Some((name, rest)) = maker else {
        eprintln!(
            "\n!!! SKIPPING wrong_type_matches_redis: no non-string type is implemented yet !!!\n"
        );
        return;
    };
    let script = format!(
        r#"
        {name} w {rest}
        SETBIT w 0 1
        SETBIT w -1 1
        GETBIT w 0
        GETBIT w x
        BITCOUNT w
        BITCOUNT w 0 1 foo
        BITCOUNT w 0
        BITPOS w 1
        BITPOS w 2
        BITPOS w 1 a
        BITOP AND d w
        BITOP AND d nokey w
        BITOP NOT d w
        EXISTS d
        SET s x
        BITOP OR w s
        TYPE w
        GET w
        {name} w2 {rest}
        BITOP AND w2 nokey
        EXISTS w2
        {name} w3 {rest}
        BITFIELD w3 GET u8 0
        BITFIELD w3 SET u8 0 1
        BITFIELD w3 GET u64 0
        BITFIELD_RO w3 GET u8 0
        BITFIELD_RO w3 SET u8 0 1
        BITFIELD w3
        TYPE w3
        "#
    );
    p.script("wrong type", &script);
}

#[test]
fn proto_max_bulk_len_limits_match_redis() {
    let Some((_s, _r, mut p)) = pair() else {
        return;
    };
    p.script(
        "proto-max-bulk-len",
        r#"
        CONFIG SET proto-max-bulk-len 1048576
        SETBIT big 8388608 1
        SETBIT big 8388607 1
        STRLEN big
        BITCOUNT big
        BITPOS big 1
        GETBIT big 8388608
        BITFIELD big2 SET i64 8388607 -1
        STRLEN big2
        BITFIELD big2 GET i64 8388607 GET u8 8388604
        BITFIELD big2 GET u8 #1048576
        BITFIELD big2 GET u8 #1048575
        BITFIELD big2 SET u8 #1048576 1
        BITOP NOT big3 big2
        BITCOUNT big3
        BITOP AND big3 big big2
        BITCOUNT big3
        BITPOS big3 1
        DEL big big2 big3
        CONFIG SET proto-max-bulk-len 536870912
        "#,
    );
}

#[test]
fn resp3_replies_match_redis() {
    let Some(real) = Reference::start() else {
        return;
    };
    let ours = Server::start(&[]);
    let mut p = Pair {
        ours: ours.conn3(),
        real: real.conn3(),
    };
    p.script(
        "resp3",
        r#"
        SETBIT k 3 1
        GETBIT k 3
        BITCOUNT k
        BITPOS k 1
        BITOP NOT d k
        BITFIELD k OVERFLOW FAIL INCRBY u2 0 9 GET u8 0 SET i8 0 -1
        BITFIELD_RO k GET i8 0
        BITFIELD_RO k SET i8 0 1
        "#,
    );
}

#[test]
fn command_metadata_matches_redis() {
    let Some((_s, _r, mut p)) = pair() else {
        return;
    };
    for name in [
        "setbit",
        "getbit",
        "bitcount",
        "bitpos",
        "bitop",
        "bitfield",
        "bitfield_ro",
    ] {
        let head = |c: &mut redis::Connection| -> Vec<redis::Value> {
            let info: Vec<Vec<redis::Value>> = redis::cmd("COMMAND")
                .arg("INFO")
                .arg(name)
                .query(c)
                .expect("COMMAND INFO");
            // name, arity, flags, first key, last key, step
            info[0][..6].to_vec()
        };
        assert_eq!(head(&mut p.ours), head(&mut p.real), "COMMAND INFO {name}");
    }
}

// ---------------------------------------------------------------------------------------------
// Explicit checks (no redis-server needed).
// ---------------------------------------------------------------------------------------------

fn err_of(c: &mut redis::Connection, line: &str) -> String {
    match run(c, &parse_line(line)) {
        Err(e) => e,
        Ok(v) => panic!("{line}: expected an error, got {v:?}"),
    }
}

fn ok_of(c: &mut redis::Connection, line: &str) -> redis::Value {
    run(c, &parse_line(line)).unwrap_or_else(|e| panic!("{line}: {e}"))
}

#[test]
fn error_texts_are_exact() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    let offset = "ERR bit offset is not an integer or out of range";
    let bit = "ERR bit is not an integer or out of range";
    let ty = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
    let cases: &[(&str, &str)] = &[
        ("SETBIT k -1 1", offset),
        ("SETBIT k x 1", offset),
        ("SETBIT k 4294967296 1", offset),
        ("GETBIT k 4294967296", offset),
        ("GETBIT k #3", offset),
        ("SETBIT k 0 2", bit),
        ("SETBIT k 0 x", bit),
        ("BITFIELD k GET u64 0", ty),
        ("BITFIELD k GET i65 0", ty),
        ("BITFIELD k GET u0 0", ty),
        ("BITFIELD k GET foo 0", ty),
        ("BITFIELD k GET u8 #-1", offset),
        ("BITFIELD k GET i64 #67108864", offset),
        (
            "BITFIELD_RO k SET u8 0 1",
            "ERR BITFIELD_RO only supports the GET subcommand",
        ),
        (
            "BITFIELD_RO k GET u8 0 INCRBY u8 0 1",
            "ERR BITFIELD_RO only supports the GET subcommand",
        ),
        (
            "BITFIELD k OVERFLOW nope GET u8 0",
            "ERR Invalid OVERFLOW type specified",
        ),
        ("BITFIELD k GET u8", "ERR syntax error"),
        ("BITFIELD k BOGUS", "ERR syntax error"),
        (
            "BITFIELD k SET u8 0 x",
            "ERR value is not an integer or out of range",
        ),
        (
            "BITOP NOT d a b",
            "ERR BITOP NOT must be called with a single source key.",
        ),
        ("BITOP NAND d a b", "ERR syntax error"),
        (
            "BITOP AND d",
            "ERR wrong number of arguments for 'bitop' command",
        ),
        ("BITPOS k 2", "ERR The bit argument must be 1 or 0."),
        (
            "SETBIT k 1",
            "ERR wrong number of arguments for 'setbit' command",
        ),
        (
            "BITFIELD_RO",
            "ERR wrong number of arguments for 'bitfield_ro' command",
        ),
    ];
    for (line, want) in cases {
        assert_eq!(&err_of(&mut c, line), want, "{line}");
    }
    // Range errors need an existing key (Redis 7.0 answers 0 / -1 for a missing one first).
    ok_of(&mut c, "SET s foobar");
    assert_eq!(err_of(&mut c, "BITCOUNT s 0 1 bits"), "ERR syntax error");
    assert_eq!(err_of(&mut c, "BITCOUNT s 0"), "ERR syntax error");
    assert_eq!(
        err_of(&mut c, "BITCOUNT s x 1"),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(err_of(&mut c, "BITPOS s 1 0 1 bytes"), "ERR syntax error");
    assert_eq!(ok_of(&mut c, "BITCOUNT missing 0"), redis::Value::Int(0));
    assert_eq!(ok_of(&mut c, "BITPOS missing 1 x"), redis::Value::Int(-1));
    // A failed command leaves no key behind.
    assert_eq!(ok_of(&mut c, "EXISTS k d"), redis::Value::Int(0));
}

#[test]
fn explicit_results() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    let int = redis::Value::Int;
    let bulk = |b: &[u8]| redis::Value::BulkString(b.to_vec());
    assert_eq!(ok_of(&mut c, "SETBIT k 1 1"), int(0));
    assert_eq!(ok_of(&mut c, "SETBIT k 1 1"), int(1));
    assert_eq!(ok_of(&mut c, "GET k"), bulk(b"\x40"));
    assert_eq!(ok_of(&mut c, "SETBIT k 23 1"), int(0));
    assert_eq!(ok_of(&mut c, "GET k"), bulk(b"\x40\x00\x01"));
    assert_eq!(ok_of(&mut c, "BITCOUNT k"), int(2));
    assert_eq!(ok_of(&mut c, "BITCOUNT k 2 23 BIT"), int(1));
    assert_eq!(ok_of(&mut c, "BITPOS k 1 2"), int(23));
    assert_eq!(ok_of(&mut c, "BITPOS k 0"), int(0));
    assert_eq!(ok_of(&mut c, "SET ones \\xff"), redis::Value::Okay);
    assert_eq!(ok_of(&mut c, "BITPOS ones 0"), int(8));
    assert_eq!(ok_of(&mut c, "BITPOS ones 0 0 -1"), int(-1));
    assert_eq!(ok_of(&mut c, "BITOP XOR d k ones"), int(3));
    assert_eq!(ok_of(&mut c, "GET d"), bulk(b"\xbf\x00\x01"));
    // An integer-looking result is an integer again (so INCR and OBJECT ENCODING agree).
    assert_eq!(ok_of(&mut c, "SET n 12"), redis::Value::Okay);
    assert_eq!(ok_of(&mut c, "SETBIT n 15 1"), int(0));
    assert_eq!(ok_of(&mut c, "INCR n"), int(14));
    assert_eq!(
        ok_of(
            &mut c,
            "BITFIELD f SET i8 0 -100 GET u8 0 OVERFLOW FAIL INCRBY i8 0 -100"
        ),
        redis::Value::Array(vec![int(0), int(156), redis::Value::Nil])
    );
    assert_eq!(
        ok_of(&mut c, "BITFIELD f OVERFLOW SAT INCRBY u4 #1 100 GET u8 0"),
        redis::Value::Array(vec![int(15), int(159)])
    );
    assert_eq!(
        ok_of(&mut c, "BITFIELD_RO f GET i8 0 GET u4 #1"),
        redis::Value::Array(vec![int(-97), int(15)])
    );
}
