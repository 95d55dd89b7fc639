//! Replication commands a master serves: REPLCONF, PSYNC, SYNC, ROLE, WAIT.

use super::table::{cmd, flags::*, CommandSpec};
use super::{arg_i64, arg_str, is_opt, CmdError, CmdResult, Ctx};
use crate::replication::failover::{self, FailoverState};
use crate::replication::{master, replica, ReplicaState};
use crate::server::ClientKind;
use bytes::Bytes;
use std::time::{Duration, Instant};

/// The replication commands.
pub static COMMANDS: &[CommandSpec] = &[
    cmd("replconf", -1, ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY, (0, 0, 0), "server", "3.0.0", "An internal command for configuring the replication stream", replconf),
    cmd("psync", -3, ADMIN | NOSCRIPT | NO_MULTI, (0, 0, 0), "server", "2.8.0", "Internal command used for replication", psync),
    cmd("sync", 1, ADMIN | NOSCRIPT | NO_MULTI, (0, 0, 0), "server", "1.0.0", "Internal command used for replication", sync),
    cmd("role", 1, NOSCRIPT | LOADING | STALE | FAST, (0, 0, 0), "server", "2.8.12", "Return the role of the instance in the context of replication", role),
    cmd("wait", 3, NOSCRIPT, (0, 0, 0), "generic", "3.0.0", "Wait for the synchronous replication of all the write commands sent in the context of the current connection", wait),
    cmd("replicaof", 3, ADMIN | NOSCRIPT | STALE, (0, 0, 0), "server", "5.0.0", "Make the server a replica of another instance, or promote it as master.", replicaof),
    cmd("slaveof", 3, ADMIN | NOSCRIPT | STALE, (0, 0, 0), "server", "1.0.0", "Make the server a replica of another instance, or promote it as master.", replicaof),
    cmd("failover", -1, ADMIN | NOSCRIPT | STALE, (0, 0, 0), "server", "6.2.0", "Start a coordinated failover between this server and one of its replicas.", failover),
];

/// `FAILOVER [TO host port [FORCE]] [TIMEOUT ms] | FAILOVER ABORT`, checked as Redis checks it.
fn failover(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if args.len() == 2 && is_opt(&args[1], "abort") {
        if ctx.repl.failover.state == FailoverState::None {
            return Err(CmdError::err("No failover in progress."));
        }
        failover::abort(ctx.shared, ctx.repl, ctx.ks, "Failover manually aborted");
        ctx.out.ok();
        return Ok(());
    }
    let (mut timeout_ms, mut force, mut target) = (0i64, false, None);
    let mut j = 1;
    while j < args.len() {
        if is_opt(&args[j], "timeout") && j + 1 < args.len() && timeout_ms == 0 {
            timeout_ms = arg_i64(&args[j + 1])?;
            if timeout_ms <= 0 {
                return Err(CmdError::err("FAILOVER timeout must be greater than 0"));
            }
            j += 2;
        } else if is_opt(&args[j], "to") && j + 2 < args.len() && target.is_none() {
            let port = arg_i64(&args[j + 2])?;
            target = Some((arg_str(&args[j + 1]).into_owned(), port));
            j += 3;
        } else if is_opt(&args[j], "force") && !force {
            force = true;
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if ctx.repl.failover.state != FailoverState::None {
        return Err(CmdError::err("FAILOVER already in progress."));
    }
    if ctx.repl.master.is_some() {
        return Err(CmdError::err(
            "FAILOVER is not valid when server is a replica.",
        ));
    }
    if ctx.repl.replicas.is_empty() {
        return Err(CmdError::err("FAILOVER requires connected replicas."));
    }
    if force && (timeout_ms == 0 || target.is_none()) {
        return Err(CmdError::err(
            "FAILOVER with force option requires both a timeout and target HOST and IP.",
        ));
    }
    let target = match target {
        None => None,
        Some((host, port)) => {
            let replica = ctx
                .repl
                .replicas
                .iter()
                .find(|r| r.ip.eq_ignore_ascii_case(&host) && i64::from(r.port) == port)
                .ok_or_else(|| CmdError::err("FAILOVER target HOST and PORT is not a replica."))?;
            if replica.state != ReplicaState::Online {
                return Err(CmdError::err("FAILOVER target replica is not online."));
            }
            Some((replica.ip.clone(), replica.port))
        }
    };
    let deadline =
        (timeout_ms > 0).then(|| Instant::now() + Duration::from_millis(timeout_ms as u64));
    failover::begin(
        ctx.shared,
        ctx.repl,
        failover::Failover {
            target,
            deadline,
            force,
            ..Default::default()
        },
    );
    ctx.out.ok();
    Ok(())
}

fn replicaof(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if ctx.client.kind == ClientKind::Replica {
        return Err(CmdError::err(
            "Command is not valid when client is a replica.",
        ));
    }
    if is_opt(&args[1], "no") && is_opt(&args[2], "one") {
        if ctx.repl.master.is_some() {
            let why = format!(
                "user request from 'id={} addr={}'",
                ctx.client.id(),
                ctx.client.handle.addr
            );
            replica::become_master(ctx.shared, ctx.repl, ctx.ks, &why);
        }
        ctx.out.ok();
        return Ok(());
    }
    let host = arg_str(&args[1]).into_owned();
    let port = match arg_i64(&args[2]) {
        Ok(p) if (0..=65535).contains(&p) => p as u16,
        _ => return Err(CmdError::err("Invalid master port")),
    };
    if ctx
        .repl
        .master
        .as_ref()
        .is_some_and(|m| m.host.eq_ignore_ascii_case(&host) && m.port == port)
    {
        ctx.out.simple("OK Already connected to specified master");
        return Ok(());
    }
    tracing::info!(
        "REPLICAOF {host}:{port} enabled (user request from 'id={} addr={}')",
        ctx.client.id(),
        ctx.client.handle.addr
    );
    replica::become_replica(ctx.shared, ctx.repl, ctx.ks, host, port);
    ctx.out.ok();
    Ok(())
}

fn replconf(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if args.len().is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    for pair in args[1..].chunks(2) {
        let (opt, val) = (&pair[0], &pair[1]);
        if is_opt(opt, "listening-port") {
            let port = arg_i64(val)?;
            ctx.client.replconf.listening_port = u16::try_from(port).unwrap_or(0);
        } else if is_opt(opt, "ip-address") {
            if val.len() >= 256 {
                return Err(CmdError::err(format!(
                    "REPLCONF ip-address provided by replica instance is too long: {} bytes",
                    val.len()
                )));
            }
            ctx.client.replconf.ip_address = Some(arg_str(val).into_owned());
        } else if is_opt(opt, "capa") {
            if is_opt(val, "eof") {
                ctx.client.replconf.capa_eof = true;
            } else if is_opt(val, "psync2") {
                ctx.client.replconf.capa_psync2 = true;
            }
        } else if is_opt(opt, "ack") {
            // ACKs on a replica link are read by the replica task; here there is no reply, ever.
            if ctx.client.kind == ClientKind::Replica {
                if let Some(off) = crate::num::parse_i64(val) {
                    let id = ctx.client.id();
                    ctx.repl.ack(id, off);
                    ctx.shared.acks.notify_waiters();
                }
            }
            ctx.client.suppress_reply = true;
            return Ok(());
        } else if is_opt(opt, "getack") {
            ctx.client.suppress_reply = true;
            return Ok(());
        } else if is_opt(opt, "rdb-only") || is_opt(opt, "rdb-filter-only") {
            // Accepted (redis-cli --rdb); the full sync sends the whole RDB either way.
        } else {
            return Err(CmdError::err(format!(
                "Unrecognized REPLCONF option: {}",
                arg_str(opt)
            )));
        }
    }
    ctx.out.ok();
    Ok(())
}

fn start_sync(ctx: &mut Ctx, req_id: &str, req_off: i64, legacy: bool) -> CmdResult {
    if ctx.client.kind == ClientKind::Replica {
        return Ok(());
    }
    if ctx.repl.failover.state != FailoverState::None {
        return Err(CmdError::Msg(
            "NOMASTERLINK Can't SYNC while failing over".into(),
        ));
    }
    if ctx
        .repl
        .master
        .as_ref()
        .is_some_and(|m| m.state != replica::LinkState::Connected)
    {
        return Err(CmdError::Msg(
            "NOMASTERLINK Can't SYNC while not connected with my master".into(),
        ));
    }
    let backlog_size = ctx.shared.config().backlog_size();
    let conf = ctx.client.replconf.clone();
    let plan = if legacy {
        ctx.repl.stats.sync_full += 1;
        *ctx.repl
            .stats
            .full_reasons
            .entry("sync_command")
            .or_default() += 1;
        if ctx.repl.backlog.is_none() {
            ctx.repl.create_backlog(backlog_size);
        }
        master::SyncPlan::Full { legacy: true, conf }
    } else {
        master::decide(
            ctx.repl,
            &ctx.client.handle,
            &conf,
            req_id,
            req_off,
            backlog_size,
        )
    };
    ctx.client.kind = ClientKind::Replica;
    ctx.client.handle.update(|i| i.kind = ClientKind::Replica);
    ctx.client.sync_plan = Some(plan);
    Ok(())
}

fn psync(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let off = arg_i64(&args[2])?;
    if args.len() > 3 && !(args.len() == 4 && is_opt(&args[3], "failover")) {
        return Err(CmdError::Syntax);
    }
    let id = arg_str(&args[1]).into_owned();
    if args.len() == 4 && ctx.client.kind != ClientKind::Replica {
        // Our master hands over to us (FAILOVER): promote, then answer as the new master.
        if ctx.repl.master.is_none() {
            return Err(CmdError::err("PSYNC FAILOVER can't be sent to a master."));
        }
        if !id.eq_ignore_ascii_case(&ctx.repl.replid) {
            return Err(CmdError::err("PSYNC FAILOVER replid must match my replid."));
        }
        let why = format!(
            "failover request from 'id={} addr={}'",
            ctx.client.id(),
            ctx.client.handle.addr
        );
        replica::become_master(ctx.shared, ctx.repl, ctx.ks, &why);
    }
    start_sync(ctx, &id, off, false)
}

fn sync(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    start_sync(ctx, "?", -1, true)
}

fn role(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    if let Some(m) = &ctx.repl.master {
        let connected = m.state == crate::replication::replica::LinkState::Connected;
        ctx.out.array(5);
        ctx.out.bulk(b"slave");
        ctx.out.bulk(m.host.as_bytes());
        ctx.out.int(m.port as i64);
        ctx.out.bulk(m.state.name().as_bytes());
        ctx.out.int(if connected { ctx.repl.offset } else { -1 });
        return Ok(());
    }
    let online: Vec<(String, u16, i64)> = ctx
        .repl
        .replicas
        .iter()
        .filter(|r| r.state == ReplicaState::Online)
        .map(|r| (r.ip.clone(), r.port, r.ack_off))
        .collect();
    ctx.out.array(3);
    ctx.out.bulk(b"master");
    ctx.out.int(ctx.repl.offset);
    ctx.out.array(online.len());
    for (ip, port, off) in online {
        ctx.out.array(3);
        ctx.out.bulk(ip.as_bytes());
        ctx.out.bulk(port.to_string().as_bytes());
        ctx.out.bulk(off.to_string().as_bytes());
    }
    Ok(())
}

fn wait(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if ctx.repl.master.is_some() {
        return Err(CmdError::err("WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated."));
    }
    let wanted = arg_i64(&args[1])?;
    let timeout = arg_i64(&args[2])
        .map_err(|_| CmdError::err("timeout is not an integer or out of range"))?;
    if timeout < 0 {
        return Err(CmdError::err("timeout is negative"));
    }
    let target = ctx.client.woff;
    let acked = ctx.repl.acked(target);
    if acked as i64 >= wanted || ctx.client.in_exec {
        ctx.out.int(acked as i64);
        return Ok(());
    }
    // Ask every replica for an ACK now rather than waiting for their one-second tick (not while
    // writes are paused: the stream must not move then).
    if !ctx.shared.writes_paused() {
        ctx.repl.request_acks(target);
    }
    let deadline = (timeout > 0).then(|| Instant::now() + Duration::from_millis(timeout as u64));
    ctx.client.waiting = Some((target, wanted.max(0) as usize, deadline));
    Ok(())
}
