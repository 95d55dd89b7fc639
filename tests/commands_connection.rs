//! Connection commands, differentially against a real Redis 7.0, in RESP2 and RESP3. Client ids,
//! addresses and ages legitimately differ and are normalised.

#[macro_use]
mod common;
use common::*;
use redis::Value as V;

/// CLIENT LIST / CLIENT INFO lines reduced to their field names; HELLO's id zeroed; CLIENT ID
/// replaced by a marker.
fn normalise(cmd: &[&str], v: V) -> V {
    let first = cmd
        .first()
        .map(|s| s.to_ascii_uppercase())
        .unwrap_or_default();
    let second = cmd
        .get(1)
        .map(|s| s.to_ascii_uppercase())
        .unwrap_or_default();
    match (first.as_str(), second.as_str()) {
        ("CLIENT", "ID") => match v {
            V::Int(_) => V::Int(0),
            other => other,
        },
        ("CLIENT", "LIST" | "INFO") => match text_of(&v) {
            Some(text) if !matches!(v, V::ServerError(_)) => V::Array(
                text.lines()
                    .map(|line| {
                        V::BulkString(
                            line.split(' ')
                                .map(|f| f.split('=').next().unwrap_or(""))
                                .collect::<Vec<_>>()
                                .join(" ")
                                .into_bytes(),
                        )
                    })
                    .collect(),
            ),
            _ => v,
        },
        ("HELLO", _) => map_hello(v),
        _ => v,
    }
}

fn map_hello(v: V) -> V {
    let fix = |pairs: Vec<(V, V)>| {
        pairs
            .into_iter()
            .map(|(k, val)| {
                if text_of(&k).as_deref() == Some("id") {
                    (k, V::Int(0))
                } else {
                    (k, val)
                }
            })
            .collect::<Vec<_>>()
    };
    match v {
        V::Map(pairs) => V::Map(fix(pairs)),
        V::Array(items) => {
            let mut out = Vec::new();
            let mut it = items.into_iter();
            while let (Some(k), Some(val)) = (it.next(), it.next()) {
                let is_id = text_of(&k).as_deref() == Some("id");
                out.push(k);
                out.push(if is_id { V::Int(0) } else { val });
            }
            V::Array(out)
        }
        other => other,
    }
}

#[test]
fn ping_echo_unknown_and_arity() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[&[
        &["PING"],
        &["PING", "hello"],
        &["PING", ""],
        &["PING", "a", "b"],
        &["ping"],
        &["ECHO", "x y"],
        &["ECHO"],
        &["ECHO", "a", "b"],
        &["NOSUCHCOMMAND"],
        &["NOSUCHCOMMAND", "a", "b c", ""],
        &["nosuch", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "b"],
        &["GET"],
        &["get", "a", "b"],
        &["SeT", "a"],
    ]];
    assert_no_diffs(p.diff(seqs));
}

#[test]
fn hello_and_auth() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[
        &[
            &["HELLO"],
            &["HELLO", "2"],
            &["HELLO", "3"],
            &["PING"],
            &["HELLO", "2"],
            &["HELLO", "4"],
            &["HELLO", "1"],
            &["HELLO", "0"],
            &["HELLO", "-1"],
            &["HELLO", "abc"],
            &["HELLO", "3.0"],
            &["HELLO", "2", "FOO"],
            &["HELLO", "2", "SETNAME"],
            &["HELLO", "2", "SETNAME", "a b"],
            &["HELLO", "2", "SETNAME", "myname"],
            &["CLIENT", "GETNAME"],
            &["HELLO", "2", "AUTH", "default"],
            &["HELLO", "2", "AUTH", "default", "whatever"],
            &["HELLO", "2", "AUTH", "nobody", "x"],
            &["HELLO", "2", "AUTH", "nobody", "x", "SETNAME", "n2"],
            &["CLIENT", "GETNAME"],
            &["HELLO", "4", "AUTH", "nobody", "x"],
            &["HELLO", "2", "SETNAME", "a", "SETNAME", "b"],
            &["CLIENT", "GETNAME"],
        ],
        &[
            &["AUTH", "pass"],
            &["AUTH", "default", "pass"],
            &["AUTH", "nobody", "pass"],
            &["AUTH", "a", "b", "c"],
            &["AUTH"],
            &["AUTH", "default", ""],
        ],
    ];
    assert_no_diffs(p.diff_norm(seqs, &normalise));
}

#[test]
fn auth_with_requirepass() {
    let p = match Pair::start_with(&["--requirepass", "secret"], &["--requirepass", "secret"]) {
        Some(p) => p,
        None => return,
    };
    let run = |port: u16| {
        let mut c = Raw::connect(port);
        let mut got: Vec<String> = [
            &["GET", "x"][..],
            &["HELLO", "3"],
            &["AUTH", "wrong"],
            &["AUTH", "nobody", "secret"],
            &["HELLO", "2", "AUTH", "default", "wrong"],
            &["PING"],
            &["AUTH", "secret"],
            &["PING"],
            &["AUTH", "default", "secret"],
            &["AUTH", "wrong"],
            &["PING"],
        ]
        .iter()
        .map(|cmd| show(&c.call(cmd).value))
        .collect();
        let mut c2 = Raw::connect(port);
        let m = c2.call(&["HELLO", "3", "AUTH", "default", "secret"]);
        got.push(show(&normalise(&["HELLO"], m.value)));
        got.push(show(&c2.call(&["PING"]).value));
        got
    };
    assert_eq!(run(p.ours.port), run(p.real.port));
}

#[test]
fn client_subcommands() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[
        &[
            &["CLIENT", "ID"],
            &["CLIENT", "ID", "x"],
            &["CLIENT", "GETNAME"],
            &["CLIENT", "SETNAME", "conn-1"],
            &["CLIENT", "GETNAME"],
            &["CLIENT", "SETNAME", "has space"],
            &["CLIENT", "SETNAME", "new\nline"],
            &["CLIENT", "SETNAME", ""],
            &["CLIENT", "GETNAME"],
            &["CLIENT", "SETNAME"],
            &["CLIENT", "SETNAME", "a", "b"],
            &["CLIENT", "GETNAME", "x"],
            &["CLIENT", "INFO"],
            &["CLIENT", "INFO", "x"],
            &["CLIENT", "LIST"],
            &["CLIENT", "LIST", "TYPE", "normal"],
            &["CLIENT", "LIST", "TYPE", "master"],
            &["CLIENT", "LIST", "TYPE", "replica"],
            &["CLIENT", "LIST", "TYPE", "pubsub"],
            &["CLIENT", "LIST", "TYPE", "bogus"],
            &["CLIENT", "LIST", "TYPE"],
            &["CLIENT", "LIST", "ID", "abc"],
            &["CLIENT", "LIST", "ID", "0"],
            &["CLIENT", "LIST", "ID", "999999"],
            &["CLIENT", "LIST", "FOO"],
            &["CLIENT", "GETREDIR"],
            &["CLIENT", "NO-EVICT", "on"],
            &["CLIENT", "NO-EVICT", "off"],
            &["CLIENT", "NO-EVICT", "maybe"],
            &["CLIENT", "NO-EVICT"],
            &["CLIENT", "FOO"],
            &["CLIENT", "FOO", "bar"],
            &["CLIENT"],
            &["~any", "CLIENT", "HELP"],
        ],
        &[
            &["CLIENT", "KILL", "1.2.3.4:5"],
            &["CLIENT", "KILL", "ID", "999999"],
            &["CLIENT", "KILL", "ID", "abc"],
            &["CLIENT", "KILL", "ID", "0"],
            &["CLIENT", "KILL", "ID", "-1"],
            &["CLIENT", "KILL", "ADDR", "1.2.3.4:5"],
            &["CLIENT", "KILL", "LADDR", "1.2.3.4:5"],
            &["CLIENT", "KILL", "TYPE", "bogus"],
            &["CLIENT", "KILL", "TYPE", "master"],
            &["CLIENT", "KILL", "TYPE", "pubsub"],
            &["CLIENT", "KILL", "USER", "nobody"],
            &["CLIENT", "KILL", "SKIPME", "maybe"],
            &["CLIENT", "KILL", "SKIPME", "yes"],
            &["CLIENT", "KILL", "FOO", "bar"],
            &["CLIENT", "KILL", "ID"],
            &["CLIENT", "KILL", "ID", "1", "ADDR"],
            &["CLIENT", "KILL"],
        ],
        &[
            &["CLIENT", "REPLY", "ON"],
            &["CLIENT", "REPLY", "FOO"],
            &["CLIENT", "REPLY"],
            &["~noreply", "CLIENT", "REPLY", "OFF"],
            &["~noreply", "SET", "a", "1"],
            &["~noreply", "GET", "a"],
            &["~noreply", "NOSUCHCOMMAND"],
            &["~noreply", "CLIENT", "REPLY", "FOO"],
            &["CLIENT", "REPLY", "ON"],
            &["GET", "a"],
        ],
        &[
            &["CLIENT", "PAUSE", "abc"],
            &["CLIENT", "PAUSE", "-1"],
            &["CLIENT", "PAUSE", "1.5"],
            &["CLIENT", "PAUSE", "10", "FOO"],
            &["CLIENT", "PAUSE", "10", "WRITE", "ALL"],
            &["CLIENT", "PAUSE"],
            &["CLIENT", "PAUSE", "0"],
            &["CLIENT", "PAUSE", "100000", "WRITE"],
            &["GET", "a"],
            &["CLIENT", "UNPAUSE"],
            &["SET", "a", "1"],
            &["CLIENT", "UNPAUSE", "x"],
            &["CLIENT", "UNPAUSE"],
        ],
    ];
    assert_no_diffs(p.diff_norm(seqs, &normalise));
}

#[test]
fn client_kill_other_connections() {
    let p = pair!();
    for port in [p.ours.port, p.real.port] {
        let mut victim = Raw::connect(port);
        let mut killer = Raw::connect(port);
        let V::Int(id) = victim.call(&["CLIENT", "ID"]).value else {
            panic!("CLIENT ID")
        };
        let info = text_of(&victim.call(&["CLIENT", "INFO"]).value).unwrap();
        let addr = info
            .split(' ')
            .find_map(|f| f.strip_prefix("addr="))
            .unwrap()
            .to_string();
        // Old form: by address, +OK.
        assert_eq!(killer.call(&["CLIENT", "KILL", &addr]).value, V::Okay);
        assert!(victim.try_read(std::time::Duration::from_secs(5)).is_none());
        // New form: by id, counts.
        let mut v2 = Raw::connect(port);
        let V::Int(id2) = v2.call(&["CLIENT", "ID"]).value else {
            panic!("CLIENT ID")
        };
        assert!(id2 > id);
        assert_eq!(
            killer
                .call(&["CLIENT", "KILL", "ID", &id2.to_string()])
                .value,
            V::Int(1)
        );
        assert_eq!(
            killer
                .call(&["CLIENT", "KILL", "ID", &id2.to_string()])
                .value,
            V::Int(0)
        );
        // SKIPME no kills the caller too.
        let V::Int(me) = killer.call(&["CLIENT", "ID"]).value else {
            panic!("CLIENT ID")
        };
        assert_eq!(
            killer
                .call(&["CLIENT", "KILL", "ID", &me.to_string(), "SKIPME", "yes"])
                .value,
            V::Int(0)
        );
        assert_eq!(
            killer
                .call(&["CLIENT", "KILL", "ID", &me.to_string(), "SKIPME", "no"])
                .value,
            V::Int(1)
        );
    }
}

#[test]
fn client_reply_skip() {
    let p = pair!();
    let seqs: &[&[&[&str]]] = &[&[
        &["SET", "a", "1"],
        &["~noreply", "CLIENT", "REPLY", "SKIP"],
        &["~noreply", "SET", "a", "2"],
        &["GET", "a"],
        &["~noreply", "CLIENT", "REPLY", "SKIP"],
        &["~noreply", "CLIENT", "REPLY", "SKIP"],
        &["~noreply", "PING"],
        &["PING"],
        &["~noreply", "CLIENT", "REPLY", "SKIP"],
        &["~noreply", "CLIENT", "REPLY", "OFF"],
        &["~noreply", "PING"],
        &["CLIENT", "REPLY", "ON"],
        &["~noreply", "CLIENT", "REPLY", "SKIP"],
        &["CLIENT", "REPLY", "ON"],
        &["PING"],
    ]];
    assert_no_diffs(p.diff(seqs));
}
