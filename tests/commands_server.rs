//! Server commands, differentially against a real Redis 7.0, in RESP2 and RESP3. Times, sizes and
//! other values that legitimately differ are normalised; INFO is compared by field names.

#[macro_use]
mod common;
use common::*;
use redis::Value as V;
use std::collections::BTreeSet;
use std::time::Duration;

#[test]
fn config_get_set_errors() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[&[
        &["CONFIG", "GET", "maxmemory"],
        &["CONFIG", "GET", "nosuchoption"],
        &["~sorted", "CONFIG", "GET", "maxmemory", "hz"],
        &["~sorted", "CONFIG", "GET", "maxmemory-p*"],
        &["CONFIG", "GET"],
        &["CONFIG", "SET", "maxmemory", "10mb"],
        &["CONFIG", "GET", "maxmemory"],
        &["CONFIG", "SET", "maxmemory", "0", "hz", "15"],
        &["~sorted", "CONFIG", "GET", "maxmemory", "hz"],
        &["CONFIG", "SET", "hz", "10"],
        &["CONFIG", "SET", "nosuchoption", "1"],
        &["CONFIG", "SET", "hz", "10", "nosuchoption", "1"],
        &["CONFIG", "SET", "hz", "10", "hz", "11"],
        &["CONFIG", "SET", "hz", "abc"],
        &["CONFIG", "SET", "maxmemory", "abc"],
        &["CONFIG", "SET", "maxmemory-policy", "bogus"],
        &["CONFIG", "SET", "appendonly", "maybe"],
        &["CONFIG", "SET", "daemonize", "yes"],
        &["CONFIG", "SET", "databases", "4"],
        &["CONFIG", "SET", "dir", "/tmp"],
        &["CONFIG", "SET", "hz"],
        &["CONFIG", "SET", "hz", "10", "maxmemory"],
        &["CONFIG", "SET"],
        &["CONFIG", "SET", "slowlog-log-slower-than", "-1"],
        &["CONFIG", "SET", "slowlog-log-slower-than", "10000"],
        &["CONFIG", "RESETSTAT"],
        &["CONFIG", "RESETSTAT", "x"],
        &["CONFIG", "FOO"],
        &["CONFIG"],
        &["~any", "CONFIG", "HELP"],
    ]];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn command_introspection() {
    let p = pair!();
    // Count and shapes differ while families are missing; compare shapes of common commands.
    let seqs: &[&[&[&str]]] = &[&[
        &["~any", "COMMAND", "COUNT"],
        &["COMMAND", "INFO", "get"],
        &["COMMAND", "INFO", "nosuchcommand"],
        &["COMMAND", "INFO", "GET", "nosuchcommand"],
        &["COMMAND", "GETKEYS", "GET", "k"],
        &["COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"],
        &["COMMAND", "GETKEYS", "SET", "k", "v", "EX", "10"],
        &["COMMAND", "GETKEYS", "RENAME", "a", "b"],
        &["COMMAND", "GETKEYS", "PING"],
        &["COMMAND", "GETKEYS", "nosuch", "a"],
        &["COMMAND", "GETKEYS", "GET"],
        &["COMMAND", "GETKEYS"],
        &["COMMAND", "FOO"],
        &["~any", "COMMAND", "DOCS", "get"],
        &["COMMAND", "DOCS", "nosuchcommand"],
        &["COMMAND", "COUNT", "x"],
    ]];
    assert_no_diffs(p.diff_norm(seqs, &command_norm));
}

/// COMMAND INFO: keep name, arity, flags, key spec positions; drop ACL categories, tips, key
/// specs and subcommands (Resplica reports less of those).
fn command_norm(cmd: &[&str], v: V) -> V {
    if cmd.len() >= 2
        && cmd[0].eq_ignore_ascii_case("COMMAND")
        && cmd[1].eq_ignore_ascii_case("INFO")
    {
        if let V::Array(items) = v {
            return V::Array(
                items
                    .into_iter()
                    .map(|c| match c {
                        V::Array(f) => V::Array(f.into_iter().take(6).collect()),
                        other => other,
                    })
                    .collect(),
            );
        }
    }
    v
}

#[test]
fn command_docs_shape() {
    let p = pair!();
    for port in [p.ours.port, p.real.port] {
        let mut c = Raw::connect(port);
        c.call(&["HELLO", "3"]);
        let r = c.call(&["COMMAND", "DOCS", "get", "set"]).value;
        let V::Map(entries) = r else {
            panic!("COMMAND DOCS is not a map on port {port}: {}", show(&r))
        };
        assert_eq!(entries.len(), 2);
        for (name, doc) in entries {
            let V::Map(fields) = doc else {
                panic!("doc of {} is not a map", show(&name))
            };
            let keys: BTreeSet<String> = fields.iter().filter_map(|(k, _)| text_of(k)).collect();
            for k in ["summary", "since", "group"] {
                assert!(
                    keys.contains(k),
                    "{k} missing for {} on {port}",
                    show(&name)
                );
            }
        }
    }
}

#[test]
fn time_slowlog_memory_debug() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[&[
        &["~approx", "TIME"],
        &["TIME", "x"],
        &["SLOWLOG", "RESET"],
        &["SLOWLOG", "LEN"],
        &["SLOWLOG", "GET"],
        &["SLOWLOG", "GET", "-1"],
        &["SLOWLOG", "GET", "-2"],
        &["SLOWLOG", "GET", "0"],
        &["SLOWLOG", "GET", "abc"],
        &["SLOWLOG", "GET", "1", "2"],
        &["SLOWLOG", "LEN", "x"],
        &["SLOWLOG", "FOO"],
        &["SLOWLOG"],
        &["~any", "SLOWLOG", "HELP"],
        &["SET", "k", "v"],
        &["~any", "MEMORY", "USAGE", "k"],
        &["MEMORY", "USAGE", "missing"],
        &["~any", "MEMORY", "USAGE", "k", "SAMPLES", "5"],
        &["MEMORY", "USAGE", "k", "SAMPLES"],
        &["MEMORY", "USAGE", "k", "SAMPLES", "x"],
        &["MEMORY", "USAGE", "k", "FOO", "1"],
        &["MEMORY", "USAGE"],
        &["MEMORY", "FOO"],
        &["MEMORY"],
        &["DEBUG", "SLEEP", "0"],
        &["DEBUG", "OBJECT", "k"],
        &["DEBUG"],
        &["~any", "LASTSAVE"],
        &["LASTSAVE", "x"],
    ]];
    assert_no_diffs(p.diff(seqs));
}

/// Container commands look their subcommand up with the command itself, as Redis 7.0 does: an
/// unknown one (printed to 128 bytes), a wrong count for a known one ('pubsub|numpat'), and
/// a count a subcommand's own parser refuses each get Redis's text; INFO commandstats counts
/// each subcommand on its own line and an unknown one on none.
#[test]
fn container_subcommands_answer_as_redis() {
    let p = pair!();
    let long = "s".repeat(200);
    let mut seqs: Vec<Vec<&str>> = Vec::new();
    for container in [
        "OBJECT", "CLIENT", "CONFIG", "SLOWLOG", "MEMORY", "COMMAND", "PUBSUB",
    ] {
        seqs.push(vec![container, &long]);
        seqs.push(vec![container, &long, "x", "y"]);
        seqs.push(vec![container, "HELP", "x"]);
    }
    for cmd in [
        &["PUBSUB", "NUMPAT", "x"][..],
        &["PUBSUB", "CHANNELS", "a", "b"],
        &["MEMORY", "DOCTOR", "x"],
        &["MEMORY", "PURGE"],
        &["MEMORY", "PURGE", "x"],
        &["CLIENT", "TRACKING"],
        &["CLIENT", "UNBLOCK", "1", "TIMEOUT", "x"],
        &["CLIENT", "PAUSE", "1", "ALL", "x"],
        &["SLOWLOG", "GET", "1", "2"],
        &["OBJECT", "ENCODING"],
        &["OBJECT", "Encoding", "missing"],
        &["DEBUG", &long, "x"],
    ] {
        seqs.push(cmd.to_vec());
    }
    let seq: Vec<&[&str]> = seqs.iter().map(|c| &c[..]).collect();
    assert_no_diffs(p.diff(&[&seq]));

    // The same calls on both servers, then their commandstats lines without the timings.
    let stats = |port: u16| -> BTreeSet<String> {
        let mut c = conn(port);
        let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query(&mut c).unwrap();
        for args in [
            &["OBJECT", "ENCODING", "missing"][..],
            &["OBJECT", "ENCODING"],
            &["OBJECT", "NOSUCH"],
            &["CLIENT", "ID"],
            &["CLIENT", "ID"],
            &["PUBSUB", "NUMPAT", "x"],
            &["SLOWLOG", "GET", "1", "2"],
        ] {
            let mut cmd = redis::cmd(args[0]);
            for a in &args[1..] {
                cmd.arg(*a);
            }
            let _ = cmd.query::<redis::Value>(&mut c);
        }
        let info: String = redis::cmd("INFO")
            .arg("commandstats")
            .query(&mut c)
            .unwrap();
        info.lines()
            .filter(|l| l.starts_with("cmdstat_") && !l.starts_with("cmdstat_config|"))
            .map(|l| {
                let (name, fields) = l.split_once(':').unwrap();
                let kept: Vec<&str> = fields
                    .split(',')
                    .filter(|f| !f.starts_with("usec"))
                    .collect();
                format!("{name}:{}", kept.join(","))
            })
            .collect()
    };
    let ours = stats(p.ours.port);
    assert_eq!(ours, stats(p.real.port));
    assert!(ours.contains("cmdstat_client|id:calls=2,rejected_calls=0,failed_calls=0"));
    assert!(ours.contains("cmdstat_object|encoding:calls=1,rejected_calls=1,failed_calls=0"));
}

#[test]
fn slowlog_records_commands() {
    let p = pair!();
    for port in [p.ours.port, p.real.port] {
        let mut c = Raw::connect(port);
        c.call(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
        c.call(&["SLOWLOG", "RESET"]);
        c.call(&["SET", "slowkey", "v"]);
        let V::Array(entries) = c.call(&["SLOWLOG", "GET", "1"]).value else {
            panic!("SLOWLOG GET")
        };
        assert_eq!(
            entries.len(),
            1,
            "port {port} (real: {}): {}",
            p.real.port,
            entries.iter().map(show).collect::<Vec<_>>().join(" / ")
        );
        let V::Array(fields) = &entries[0] else {
            panic!("entry")
        };
        assert_eq!(fields.len(), 6, "port {port}");
        assert!(matches!(fields[0], V::Int(_)));
        assert!(matches!(fields[1], V::Int(_)));
        assert!(matches!(fields[2], V::Int(_)));
        // The newest entry is the SET itself (SLOWLOG RESET ran before it).
        assert_eq!(
            fields[3],
            V::Array(vec![
                V::BulkString(b"SET".to_vec()),
                V::BulkString(b"slowkey".to_vec()),
                V::BulkString(b"v".to_vec())
            ]),
            "port {port}"
        );
        c.call(&["CONFIG", "SET", "slowlog-log-slower-than", "10000"]);
    }
}

fn info_fields(port: u16, section: &str) -> BTreeSet<String> {
    let mut c = Raw::connect(port);
    c.call(&["SET", "somekey", "v"]);
    let text = text_of(&c.call(&["INFO", section]).value).unwrap_or_default();
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split(':').next().unwrap_or("").to_string())
        .map(|name| {
            // db0 and errorstat names are data, not schema.
            if name.starts_with("db") && name[2..].chars().all(|c| c.is_ascii_digit()) {
                "db<N>".to_string()
            } else {
                name
            }
        })
        .collect()
}

#[test]
fn info_sections_have_redis_field_names() {
    let p = pair!();
    let mut problems = Vec::new();
    for section in [
        "server",
        "clients",
        "memory",
        "persistence",
        "stats",
        "replication",
        "keyspace",
    ] {
        let ours = info_fields(p.ours.port, section);
        let real = info_fields(p.real.port, section);
        let missing: Vec<_> = real.difference(&ours).collect();
        let extra: Vec<_> = ours
            .difference(&real)
            // Resplica's documented additions beyond Redis's fields.
            .filter(|f| {
                !f.starts_with("resplica_")
                    && !f.starts_with("sync_full_reason_")
                    && f.as_str() != "repl_backlog_covers_ms"
            })
            .collect();
        if !missing.is_empty() || !extra.is_empty() {
            problems.push(format!(
                "INFO {section}: missing {missing:?}, extra {extra:?}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn info_section_selection() {
    let p = pair!();
    let headers = |port: u16, args: &[&str]| -> Vec<String> {
        let mut c = Raw::connect(port);
        let mut cmd = vec!["INFO"];
        cmd.extend_from_slice(args);
        let text = text_of(&c.call(&cmd).value).unwrap_or_default();
        text.lines()
            .filter(|l| l.starts_with('#'))
            .map(|l| l.to_string())
            .collect()
    };
    for args in [
        &[][..],
        &["default"],
        &["server"],
        &["SERVER"],
        &["server", "clients"],
        &["nosuchsection"],
        &["everything"],
        &["all"],
        &["commandstats"],
        &["keyspace"],
    ] {
        assert_eq!(
            headers(p.ours.port, args),
            headers(p.real.port, args),
            "INFO {args:?}"
        );
    }
}

#[test]
fn info_reply_type() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[&[&["~any", "INFO"], &["~any", "INFO", "server"]]];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn instantaneous_rates_follow_the_load() {
    // INFO's instantaneous_* fields are what redis-cli --stat style monitors graph: they must
    // move with the traffic and fall back to 0 when it stops.
    let s = Server::start(&[]);
    let mut c = s.conn();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let (stop, mut w) = (stop.clone(), s.conn());
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let mut p = redis::pipe();
                for i in 0..100 {
                    p.set(format!("k{i}"), "v").ignore();
                }
                let _: () = p.query(&mut w).unwrap();
            }
        })
    };
    let rate = |c: &mut redis::Connection, f: &str| -> f64 {
        info_field(c, "stats", f).unwrap().parse().unwrap()
    };
    let busy = wait_until(Duration::from_secs(10), || {
        rate(&mut c, "instantaneous_ops_per_sec") > 1000.0
            && rate(&mut c, "instantaneous_input_kbps") > 10.0
            && rate(&mut c, "instantaneous_output_kbps") > 1.0
    });
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    load.join().unwrap();
    assert!(
        busy,
        "rates never rose: {:?}",
        info_field(&mut c, "stats", "instantaneous_ops_per_sec")
    );
    // Our own INFO calls keep a trickle going: idle means well under the load's rate.
    assert!(wait_until(Duration::from_secs(10), || rate(
        &mut c,
        "instantaneous_ops_per_sec"
    ) < 100.0));
    assert_eq!(rate(&mut c, "instantaneous_input_repl_kbps"), 0.0);
}
