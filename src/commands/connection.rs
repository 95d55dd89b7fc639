//! Connection commands: PING, ECHO, QUIT, RESET, AUTH, HELLO and the CLIENT container.

use super::table::{cmd, flags::*, sub, CommandSpec};
use super::{
    arg_i64, arg_str, is_opt, reply_help, subcommand_syntax_error, unknown_subcommand, CmdError,
    CmdResult, Ctx,
};
use crate::protocol::Resp;
use crate::server::{ClientKind, Pause, ReplyMode, REDIS_VERSION};
use bytes::Bytes;
use std::time::{Duration, Instant};

/// The connection commands.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "ping",
        -1,
        FAST,
        (0, 0, 0),
        "connection",
        "1.0.0",
        "Ping the server",
        ping,
    ),
    cmd(
        "echo",
        2,
        LOADING | STALE | FAST,
        (0, 0, 0),
        "connection",
        "1.0.0",
        "Echo the given string",
        echo,
    ),
    cmd(
        "quit",
        -1,
        ALLOW_BUSY | NO_AUTH | LOADING | STALE | FAST,
        (0, 0, 0),
        "connection",
        "1.0.0",
        "Close the connection",
        quit,
    ),
    cmd(
        "reset",
        1,
        NOSCRIPT | LOADING | STALE | NO_AUTH | FAST | ALLOW_BUSY,
        (0, 0, 0),
        "connection",
        "6.2.0",
        "Reset the connection",
        reset,
    ),
    cmd(
        "auth",
        -2,
        NOSCRIPT | LOADING | STALE | SKIP_MONITOR | SKIP_SLOWLOG | FAST | NO_AUTH | ALLOW_BUSY,
        (0, 0, 0),
        "connection",
        "1.0.0",
        "Authenticate to the server",
        auth,
    ),
    cmd(
        "hello",
        -1,
        NOSCRIPT | LOADING | STALE | SKIP_MONITOR | SKIP_SLOWLOG | FAST | NO_AUTH | ALLOW_BUSY,
        (0, 0, 0),
        "connection",
        "6.0.0",
        "Handshake with Redis",
        hello,
    ),
    cmd(
        "client",
        -2,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        "2.4.0",
        "A container for client connection commands",
        client,
    )
    .subcommands(&[
        sub("client|caching", 3),
        sub("client|getname", 2),
        sub("client|getredir", 2),
        sub("client|help", 2),
        sub("client|id", 2),
        sub("client|info", 2),
        sub("client|kill", -3),
        sub("client|list", -2),
        sub("client|no-evict", 3),
        sub("client|pause", -3),
        sub("client|reply", 3),
        sub("client|setname", 3),
        sub("client|tracking", -3),
        sub("client|trackinginfo", 2),
        sub("client|unblock", -3),
        sub("client|unpause", 2),
    ]),
];

fn ping(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if args.len() > 2 {
        return Err(CmdError::Arity("ping".into()));
    }
    // A RESP2 subscriber gets PING's answer in the shape of a pub/sub message.
    if ctx.client.subs.total() > 0 && ctx.out.resp == Resp::V2 {
        ctx.out.array(2);
        ctx.out.bulk(b"pong");
        ctx.out.bulk(args.get(1).map_or(&b""[..], |m| &m[..]));
        return Ok(());
    }
    match args.get(1) {
        None => ctx.out.simple("PONG"),
        Some(msg) => ctx.out.bulk(msg),
    }
    Ok(())
}

fn echo(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    ctx.out.bulk(&args[1]);
    Ok(())
}

fn quit(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    ctx.out.ok();
    ctx.client.close_after_reply = true;
    Ok(())
}

fn reset(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    let id = ctx.client.id();
    ctx.client.multi = None;
    ctx.client.handle.update(|i| i.multi = -1);
    ctx.ks.unwatch_all(id);
    ctx.pubsub.remove_client(id);
    ctx.client.subs = Default::default();
    if ctx.client.kind == ClientKind::PubSub {
        ctx.client.kind = ClientKind::Normal;
    }
    let kind = ctx.client.kind;
    ctx.client.handle.update(|i| {
        i.kind = kind;
        i.subs = (0, 0, 0);
    });
    ctx.client.db = 0;
    ctx.client.reply_mode = ReplyMode::On;
    ctx.out.resp = Resp::V2;
    ctx.client.authenticated = ctx.shared.config().get("requirepass").is_empty();
    ctx.client.handle.update(|i| i.name.clear());
    if ctx.client.monitor {
        ctx.client.monitor = false;
        ctx.shared.remove_monitor(ctx.client.id());
    }
    ctx.out.simple("RESET");
    Ok(())
}

/// Compares without an early exit, so response time does not reveal how much of a password
/// matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= (x ^ y) as usize;
    }
    diff == 0
}

/// Checks `user`/`pass` against `requirepass` (the default user is the only user).
fn check_credentials(ctx: &mut Ctx, user: &[u8], pass: &[u8]) -> CmdResult {
    let required = ctx.shared.config().get("requirepass").to_string();
    if user == b"default" && (required.is_empty() || constant_time_eq(pass, required.as_bytes())) {
        ctx.client.authenticated = true;
        return Ok(());
    }
    tracing::debug!("Failed authentication from {}", ctx.client.handle.addr);
    Err(CmdError::Msg(
        "WRONGPASS invalid username-password pair or user is disabled.".into(),
    ))
}

fn auth(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (user, pass): (&[u8], &[u8]) = match args {
        [_, pass] => (b"default", pass),
        [_, user, pass] => (user, pass),
        _ => return Err(CmdError::Syntax),
    };
    if args.len() == 2 && ctx.shared.config().get("requirepass").is_empty() {
        return Err(CmdError::err("AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"));
    }
    check_credentials(ctx, user, pass)?;
    ctx.out.ok();
    Ok(())
}

fn hello(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut resp = ctx.out.resp;
    if let Some(ver) = args.get(1) {
        let v = arg_i64(ver)
            .map_err(|_| CmdError::err("Protocol version is not an integer or out of range"))?;
        resp = match v {
            2 => Resp::V2,
            3 => Resp::V3,
            _ => return Err(CmdError::Msg("NOPROTO unsupported protocol version".into())),
        };
    }
    let mut name = None;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - i - 1;
        if is_opt(&args[i], "auth") && more >= 2 {
            check_credentials(ctx, &args[i + 1], &args[i + 2])?;
            i += 3;
        } else if is_opt(&args[i], "setname") && more >= 1 {
            validate_name(&args[i + 1])?;
            name = Some(arg_str(&args[i + 1]).into_owned());
            i += 2;
        } else {
            return Err(CmdError::err(format!(
                "Syntax error in HELLO option '{}'",
                arg_str(&args[i])
            )));
        }
    }
    if !ctx.client.authenticated {
        return Err(CmdError::Msg("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time".into()));
    }
    if let Some(name) = name {
        ctx.client.handle.update(|i| i.name = name);
    }
    ctx.out.resp = resp;
    let out = &mut *ctx.out;
    out.map(7);
    out.bulk(b"server");
    out.bulk(b"redis");
    out.bulk(b"version");
    out.bulk(REDIS_VERSION.as_bytes());
    out.bulk(b"proto");
    out.int(if resp == Resp::V3 { 3 } else { 2 });
    out.bulk(b"id");
    out.int(ctx.client.id() as i64);
    out.bulk(b"mode");
    out.bulk(b"standalone");
    out.bulk(b"role");
    out.bulk(if ctx.ks.is_replica {
        b"replica" as &[u8]
    } else {
        b"master"
    });
    out.bulk(b"modules");
    out.array(0);
    Ok(())
}

fn validate_name(name: &[u8]) -> CmdResult {
    if name.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(CmdError::err(
            "Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    Ok(())
}

const CLIENT_HELP: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CACHING (YES|NO)",
    "    Not supported by Resplica.",
    "GETNAME",
    "    Return the name of the current connection.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "    * ID <client-id>",
    "      Kill connections by client id.",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "TRACKING (ON|OFF)",
    "    Not supported by Resplica.",
    "HELP",
    "    Prints this help.",
];

/// One CLIENT LIST line (without the trailing newline), fields as Redis 7.0 prints them.
fn client_line(handle: &crate::server::ClientHandle, current_cmd: Option<&str>) -> String {
    let info = handle.info();
    let mut flags = String::new();
    match info.kind {
        ClientKind::Replica => flags.push('S'),
        ClientKind::Master => flags.push('M'),
        ClientKind::PubSub => flags.push('P'),
        ClientKind::Normal => {}
    }
    if info.monitor {
        flags.push('O');
    }
    if info.multi >= 0 {
        flags.push('x');
    }
    if info.blocked {
        flags.push('b');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    let now = Instant::now();
    format!(
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem={} tot-mem=0 events=r cmd={} user=default redir=-1 resp={}",
        handle.id,
        handle.addr,
        handle.laddr,
        handle.id + 7,
        info.name,
        now.duration_since(handle.created).as_secs(),
        now.duration_since(info.last_active).as_secs(),
        flags,
        info.db,
        info.subs.0,
        info.subs.1,
        info.subs.2,
        info.multi,
        info.qbuf,
        info.omem,
        current_cmd.unwrap_or(info.last_cmd),
        if info.resp == Resp::V3 { 3 } else { 2 },
    )
}

fn kind_from_name(name: &[u8]) -> Result<ClientKind, CmdError> {
    match arg_str(name).to_ascii_lowercase().as_str() {
        "normal" => Ok(ClientKind::Normal),
        "master" => Ok(ClientKind::Master),
        "replica" | "slave" => Ok(ClientKind::Replica),
        "pubsub" => Ok(ClientKind::PubSub),
        _ => Err(CmdError::err(format!(
            "Unknown client type '{}'",
            arg_str(name)
        ))),
    }
}

fn client_list(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut kind = None;
    let mut ids: Option<Vec<u64>> = None;
    match args.get(2) {
        None => {}
        Some(opt) if is_opt(opt, "type") && args.len() == 4 => {
            kind = Some(kind_from_name(&args[3])?)
        }
        Some(opt) if is_opt(opt, "id") && args.len() > 3 => {
            let mut list = Vec::new();
            for a in &args[3..] {
                // Any integer is accepted; ids that match no client are skipped.
                match arg_i64(a) {
                    Ok(n) if n > 0 => list.push(n as u64),
                    Ok(_) => {}
                    Err(_) => return Err(CmdError::err("Invalid client ID")),
                }
            }
            ids = Some(list);
        }
        Some(_) => return Err(CmdError::Syntax),
    }
    let me = ctx.client.id();
    let clients: Vec<_> = ctx.shared.clients().values().cloned().collect();
    let mut text = String::new();
    for c in clients {
        if kind.is_some_and(|k| c.info().kind != k)
            || ids.as_ref().is_some_and(|l| !l.contains(&c.id))
        {
            continue;
        }
        let cur = (c.id == me).then_some("client|list");
        text.push_str(&client_line(&c, cur));
        text.push('\n');
    }
    ctx.out.verbatim(&text);
    Ok(())
}

fn client_kill(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let clients: Vec<_> = ctx.shared.clients().values().cloned().collect();
    let me = ctx.client.id();
    if args.len() == 3 {
        let addr = arg_str(&args[2]).into_owned();
        return match clients.iter().find(|c| c.addr.to_string() == addr) {
            Some(c) => {
                kill_client(ctx, c, me);
                ctx.out.ok();
                Ok(())
            }
            None => Err(CmdError::err("No such client")),
        };
    }
    if !args.len().is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    let (mut id, mut addr, mut laddr, mut kind, mut user, mut skipme) =
        (None, None, None, None, None, true);
    for pair in args[2..].chunks(2) {
        let (opt, val) = (&pair[0], &pair[1]);
        if is_opt(opt, "id") {
            match arg_i64(val) {
                Ok(n) if n > 0 => id = Some(n as u64),
                _ => return Err(CmdError::err("client-id should be greater than 0")),
            }
        } else if is_opt(opt, "addr") {
            addr = Some(arg_str(val).into_owned());
        } else if is_opt(opt, "laddr") {
            laddr = Some(arg_str(val).into_owned());
        } else if is_opt(opt, "type") {
            kind = Some(kind_from_name(val)?);
        } else if is_opt(opt, "user") {
            if &val[..] != b"default" {
                return Err(CmdError::err(format!("No such user '{}'", arg_str(val))));
            }
            user = Some(arg_str(val).into_owned());
        } else if is_opt(opt, "skipme") {
            skipme = match arg_str(val).to_ascii_lowercase().as_str() {
                "yes" => true,
                "no" => false,
                _ => return Err(CmdError::Syntax),
            };
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let mut killed = 0;
    for c in &clients {
        let info = c.info();
        let matches = id.is_none_or(|i| c.id == i)
            && addr.as_ref().is_none_or(|a| c.addr.to_string() == *a)
            && laddr.as_ref().is_none_or(|a| c.laddr.to_string() == *a)
            && kind.is_none_or(|k| info.kind == k)
            && user.as_ref().is_none_or(|u| u == "default")
            && !(skipme && c.id == me);
        if matches {
            kill_client(ctx, c, me);
            killed += 1;
        }
    }
    ctx.out.int(killed);
    Ok(())
}

/// Kills another client now, or this one after its reply is written.
fn kill_client(ctx: &mut Ctx, c: &crate::server::ClientHandle, me: u64) {
    if c.id == me {
        ctx.client.close_after_reply = true;
    } else {
        c.kill();
    }
}

fn client(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    // Unknown subcommands and argument counts outside the arity were refused by the dispatcher.
    let sub = arg_str(&args[1]).to_ascii_lowercase();
    match sub.as_str() {
        "id" => {
            ctx.out.int(ctx.client.id() as i64);
        }
        "getname" => {
            let name = ctx.client.handle.info().name;
            if name.is_empty() {
                ctx.out.null();
            } else {
                ctx.out.bulk(name.as_bytes());
            }
        }
        "setname" => {
            validate_name(&args[2])?;
            let name = arg_str(&args[2]).into_owned();
            ctx.client.handle.update(|i| i.name = name);
            ctx.out.ok();
        }
        "info" => {
            let mut line = client_line(&ctx.client.handle, Some("client|info"));
            line = line.replacen(
                &format!("db={}", ctx.client.handle.info().db),
                &format!("db={}", ctx.client.db),
                1,
            );
            line.push('\n');
            ctx.out.verbatim(&line);
        }
        "list" => client_list(ctx, args)?,
        "kill" => {
            client_kill(ctx, args)?;
        }
        "reply" => {
            if is_opt(&args[2], "on") {
                ctx.client.reply_mode = ReplyMode::On;
                ctx.out.ok();
            } else if is_opt(&args[2], "off") {
                ctx.client.reply_mode = ReplyMode::Off;
            } else if is_opt(&args[2], "skip") {
                if ctx.client.reply_mode != ReplyMode::Off {
                    ctx.client.reply_mode = ReplyMode::SkipNext;
                }
            } else {
                return Err(CmdError::Syntax);
            }
        }
        "pause" => {
            if args.len() > 4 {
                return Err(subcommand_syntax_error(args));
            }
            let ms = arg_i64(&args[2])
                .map_err(|_| CmdError::err("timeout is not an integer or out of range"))?;
            if ms < 0 {
                return Err(CmdError::err("timeout is negative"));
            }
            let all = match args.get(3) {
                None => true,
                Some(m) if is_opt(m, "all") => true,
                Some(m) if is_opt(m, "write") => false,
                Some(_) => return Err(CmdError::err("CLIENT PAUSE mode must be WRITE or ALL")),
            };
            ctx.shared.set_pause(Some(Pause {
                until: Instant::now() + Duration::from_millis(ms as u64),
                all,
            }));
            ctx.out.ok();
        }
        "unpause" => {
            ctx.shared.set_pause(None);
            ctx.out.ok();
        }
        "no-evict" => {
            if !(is_opt(&args[2], "on") || is_opt(&args[2], "off")) {
                return Err(CmdError::Syntax);
            }
            ctx.out.ok();
        }
        "unblock" => {
            if args.len() > 4 {
                return Err(subcommand_syntax_error(args));
            }
            let id = arg_i64(&args[2])?;
            let as_error = match args.get(3) {
                None => false,
                Some(m) if is_opt(m, "timeout") => false,
                Some(m) if is_opt(m, "error") => true,
                Some(_) => {
                    return Err(CmdError::err(
                        "CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
                    ))
                }
            };
            match u64::try_from(id).ok().and_then(|id| ctx.blocked.remove(id)) {
                Some(waiter) => {
                    let mut out = crate::protocol::Out::with_capacity(waiter.resp, 64);
                    if as_error {
                        out.error("UNBLOCKED client unblocked via CLIENT UNBLOCK");
                    } else {
                        crate::commands::write_timeout_reply(&mut out, waiter.on_timeout);
                    }
                    waiter.handle.unblock(out.buf.freeze());
                    ctx.out.int(1);
                }
                None => ctx.out.int(0),
            }
        }
        "getredir" => {
            ctx.out.int(-1);
        }
        "tracking" | "caching" | "trackinginfo" => {
            return Err(CmdError::err(format!(
                "CLIENT {} is not supported by Resplica",
                sub.to_ascii_uppercase()
            )));
        }
        "help" => reply_help(ctx, CLIENT_HELP),
        _ => return Err(unknown_subcommand(args)),
    }
    Ok(())
}
