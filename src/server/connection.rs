//! One task per client: read, parse every complete request already buffered, execute the batch
//! under one lock acquisition, write the replies, repeat. While replies are being written the
//! task does not read, so a client that pipelines without reading cannot grow server memory.

use super::{ClientHandle, ClientKind, ClientState, Push, ReplyMode, Shared};
use crate::commands::{self, CommandSpec, Ctx, MemberArg};
use crate::protocol::{Out, ParseLimits, Parser};
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

/// Most requests executed under one lock acquisition, so one deep pipeline cannot monopolise the
/// keyspace for long.
const MAX_BATCH: usize = 512;
/// Read buffer growth step.
const READ_CHUNK: usize = 16 * 1024;

/// Redis's protected-mode refusal, sent to non-loopback clients when no password is set.
const DENIED: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// Accepts connections forever, applying maxclients and protected mode before a client may
/// send anything.
pub async fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
    loop {
        let (mut stream, addr) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                warn!("Accepting client connection: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        shared
            .stats
            .total_connections_received
            .fetch_add(1, Ordering::Relaxed);
        let _ = stream.set_nodelay(true);
        let (maxclients, protected, needs_auth, keepalive) = {
            let cfg = shared.config();
            (
                cfg.int("maxclients") as usize,
                cfg.bool("protected-mode"),
                !cfg.get("requirepass").is_empty(),
                cfg.int("tcp-keepalive"),
            )
        };
        if keepalive > 0 {
            set_keepalive(&stream, keepalive as u64);
        }
        if shared.clients().len() >= maxclients {
            shared
                .stats
                .rejected_connections
                .fetch_add(1, Ordering::Relaxed);
            let _ = stream
                .write_all(b"-ERR max number of clients reached\r\n")
                .await;
            continue;
        }
        if protected && !needs_auth && !addr.ip().is_loopback() {
            shared
                .stats
                .rejected_connections
                .fetch_add(1, Ordering::Relaxed);
            let _ = stream.write_all(DENIED.as_bytes()).await;
            continue;
        }
        let laddr = stream.local_addr().unwrap_or(addr);
        tokio::spawn(serve(shared.clone(), stream, addr, laddr, !needs_auth));
    }
}

/// `tcp-keepalive`: probe an idle peer after `secs`, then every `secs / 3`, as Redis does, so
/// dead peers are noticed and middleboxes keep the connection open.
fn set_keepalive(stream: &TcpStream, secs: u64) {
    let ka = socket2::TcpKeepalive::new()
        .with_time(Duration::from_secs(secs))
        .with_interval(Duration::from_secs((secs / 3).max(1)))
        .with_retries(3);
    if let Err(e) = socket2::SockRef::from(stream).set_tcp_keepalive(&ka) {
        debug!("Setting TCP keepalive: {e}");
    }
}

async fn serve(
    shared: Arc<Shared>,
    stream: TcpStream,
    addr: SocketAddr,
    laddr: SocketAddr,
    authenticated: bool,
) {
    let id = shared.next_client_id();
    let (handle, push_rx) = ClientHandle::new(id, addr, laddr);
    shared.clients().insert(id, handle.clone());
    debug!("Accepted {addr}");
    let mut conn = Connection {
        state: ClientState::new(handle.clone(), authenticated),
        out: Out::default(),
        shared: shared.clone(),
        pending: VecDeque::new(),
        spare: Vec::new(),
        specs: Vec::new(),
    };
    if let Err(reason) = conn.run(stream, push_rx).await {
        debug!("Client id={id} addr={addr} closed: {reason}");
    }
    {
        // Leave the blocked set (and every other registry) before the client registry, so no
        // writer can serve an element to a connection that is already gone.
        let mut core = shared.core();
        core.blocked.remove(id);
        core.ks.unwatch_all(id);
        core.pubsub.remove_client(id);
    }
    shared.clients().remove(&id);
    if conn.state.monitor {
        shared.remove_monitor(id);
    }
    if conn.state.shutdown_requested {
        shared.request_shutdown();
    }
}

struct Connection {
    state: ClientState,
    out: Out,
    shared: Arc<Shared>,
    /// Parsed requests not executed yet (the rest of a batch after a blocking command).
    pending: VecDeque<Vec<Bytes>>,
    /// Emptied argument vectors of executed requests, reused by the parser so a pipelined
    /// request costs no allocation of its own.
    spare: Vec<Vec<Bytes>>,
    /// The command of each pending request, looked up once per batch.
    specs: Vec<Option<&'static CommandSpec>>,
}

impl Connection {
    async fn run(
        &mut self,
        mut stream: TcpStream,
        mut push_rx: mpsc::UnboundedReceiver<Push>,
    ) -> Result<(), String> {
        let handle = self.state.handle.clone();
        let (limits, query_limit) = {
            let cfg = self.shared.config();
            (
                ParseLimits {
                    max_bulk_len: cfg.int("proto-max-bulk-len") as usize,
                },
                cfg.int("client-query-buffer-limit") as usize,
            )
        };
        let mut parser = Parser::new(limits);
        let mut rbuf = BytesMut::with_capacity(READ_CHUNK);
        let mut protocol_error = None;
        loop {
            let blocked = self.block_deadline().is_some() || self.state.waiting.is_some();
            // True when parsing stopped at MAX_BATCH: complete requests may still be buffered.
            let mut capped = false;
            if !blocked && protocol_error.is_none() {
                loop {
                    if self.pending.len() >= MAX_BATCH {
                        capped = true;
                        break;
                    }
                    let mut args = self.spare.pop().unwrap_or_default();
                    match parser.next_into(&mut rbuf, &mut args) {
                        Ok(true) => self.pending.push_back(args),
                        Ok(false) => {
                            self.spare.push(args);
                            break;
                        }
                        Err(e) => {
                            protocol_error = Some(e);
                            break;
                        }
                    }
                }
            }
            if !blocked && !self.pending.is_empty() {
                self.wait_while_paused().await;
                self.execute();
            }
            if let (Some(e), true) = (&protocol_error, self.pending.is_empty()) {
                info!(
                    "Protocol error ({}) from client: id={} addr={}",
                    e.0, handle.id, handle.addr
                );
                self.out.error(&format!("ERR {e}"));
                self.state.close_after_reply = true;
            }
            if !self.out.buf.is_empty() {
                self.flush(&mut stream).await?;
            }
            if self.state.close_after_reply || handle.is_killed() {
                return Ok(());
            }
            if let Some(plan) = self.state.sync_plan.take() {
                // PSYNC/SYNC: from now on this connection is a replica link.
                return crate::replication::master::serve(
                    self.shared.clone(),
                    &mut stream,
                    &mut push_rx,
                    handle.clone(),
                    plan,
                )
                .await;
            }
            if self.state.waiting.is_some() {
                self.wait_for_acks(&mut stream, &mut rbuf).await?;
                continue;
            }
            if parser.pending_bytes() > query_limit || rbuf.len() > query_limit {
                warn!(
                    "Closing client that reached max query buffer length: id={} addr={}",
                    handle.id, handle.addr
                );
                return Err("query buffer limit".into());
            }
            let deadline = self.block_deadline();
            if deadline.is_none() && (capped || !self.pending.is_empty()) {
                // More complete requests are buffered than one batch took: run them first.
                continue;
            }
            let idle = if deadline.is_some() {
                None
            } else {
                self.idle_timeout()
            };
            if rbuf.capacity() - rbuf.len() < READ_CHUNK / 2 {
                // Half a chunk: once every parsed request is dropped, the unparsed tail moves
                // to the front of the same allocation instead of a new one being made (a large
                // malloc also makes glibc consolidate every small chunk freed meanwhile).
                rbuf.reserve(READ_CHUNK / 2);
            }
            tokio::select! {
                r = stream.read_buf(&mut rbuf) => match r {
                    Ok(0) => return Ok(()),
                    Ok(n) => {
                        self.shared.stats.net_input_bytes.fetch_add(n as u64, Ordering::Relaxed);
                    }
                    Err(e) => return Err(e.to_string()),
                },
                msg = push_rx.recv() => {
                    if let Some(msg) = msg {
                        self.take_push(msg);
                        while let Ok(more) = push_rx.try_recv() {
                            self.take_push(more);
                        }
                    }
                }
                _ = handle.killed() => return Ok(()),
                _ = sleep_or_forever(idle) => {
                    info!("Closing idle client id={} addr={}", handle.id, handle.addr);
                    return Ok(());
                }
                _ = sleep_until_or_forever(deadline) => self.block_timed_out(),
            }
        }
    }

    /// WAIT: sleeps until enough replicas ACKed the client's last write or the timeout passes,
    /// woken by every ACK (no polling), then answers the count.
    async fn wait_for_acks(
        &mut self,
        stream: &mut TcpStream,
        rbuf: &mut BytesMut,
    ) -> Result<(), String> {
        while let Some((target, wanted, deadline)) = self.state.waiting {
            let notified = self.shared.acks.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let count = self.shared.core().repl.acked(target);
            let expired = deadline.is_some_and(|d| Instant::now() >= d);
            if count >= wanted || expired {
                self.state.waiting = None;
                self.out.int(count as i64);
                return Ok(());
            }
            tokio::select! {
                _ = notified => {}
                _ = sleep_until_or_forever(Some(deadline)) => {}
                _ = self.state.handle.killed() => return Err("killed".into()),
                r = stream.read_buf(rbuf) => match r {
                    Ok(0) => return Err("closed while waiting".into()),
                    Ok(_) => {}
                    Err(e) => return Err(e.to_string()),
                },
            }
        }
        Ok(())
    }

    /// When the current blocking command gives up, if the client is blocked.
    fn block_deadline(&self) -> Option<Option<Instant>> {
        self.state.blocked.as_ref().map(|b| b.deadline)
    }

    fn take_push(&mut self, msg: Push) {
        match msg {
            Push::Data(bytes) => {
                self.state.handle.dequeued(bytes.len());
                self.out.raw(&bytes);
            }
            Push::Unblocked(reply) => {
                self.state.blocked = None;
                self.state.handle.update(|i| i.blocked = false);
                self.out.raw(&reply);
            }
        }
    }

    /// The blocking command's time is up: answer its timeout reply, unless a writer served it
    /// in the meantime (then its reply is already on the way through the push channel).
    fn block_timed_out(&mut self) {
        let removed = self.shared.core().blocked.remove(self.state.id());
        if let Some(waiter) = removed {
            self.state.blocked = None;
            self.state.handle.update(|i| i.blocked = false);
            commands::write_timeout_reply(&mut self.out, waiter.on_timeout);
        }
    }

    /// `timeout` applies to normal clients only, as in Redis.
    fn idle_timeout(&self) -> Option<Duration> {
        let secs = self.shared.hot.idle_timeout.load(Ordering::Relaxed);
        (secs > 0 && self.state.kind == ClientKind::Normal && !self.state.monitor)
            .then(|| Duration::from_secs(secs as u64))
    }

    async fn flush(&mut self, stream: &mut TcpStream) -> Result<(), String> {
        let n = self.out.buf.len();
        // A client that stopped reading blocks this write; CLIENT KILL or an output-buffer limit
        // must still be able to end it.
        let handle = self.state.handle.clone();
        if handle.is_killed() {
            return Err("killed".into());
        }
        tokio::select! {
            r = stream.write_all(&self.out.buf) => r.map_err(|e| e.to_string())?,
            _ = handle.killed() => return Err("killed".into()),
        }
        self.shared
            .stats
            .net_output_bytes
            .fetch_add(n as u64, Ordering::Relaxed);
        self.out.buf.clear();
        if self.out.buf.capacity() > 1024 * 1024 {
            self.out.buf = BytesMut::with_capacity(READ_CHUNK);
        }
        Ok(())
    }

    /// CLIENT PAUSE: hold the batch while a pause covering it is in effect.
    async fn wait_while_paused(&self) {
        if self.shared.pause().is_none() {
            return;
        }
        loop {
            // Registered before the check, so an unpause in between is not missed.
            let unpaused = self.shared.unpaused.notified();
            tokio::pin!(unpaused);
            unpaused.as_mut().enable();
            let Some(pause) = self.shared.pause() else {
                return;
            };
            let affected = pause.all
                || self.pending.iter().any(|args| {
                    self.shared.commands.lookup(&args[0]).is_some_and(|c| {
                        c.is_write() || c.flags & commands::table::flags::MAY_REPLICATE != 0
                    })
                });
            if !affected {
                return;
            }
            let wait = pause.until.saturating_duration_since(Instant::now());
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = unpaused => {}
            }
        }
    }

    /// Runs the pending requests under one acquisition of the keyspace lock, stopping early at
    /// a command that blocks the client.
    fn execute(&mut self) {
        let shared = self.shared.clone();
        let mut last_cmd = None;
        let mut executed = 0;
        {
            let mut core = shared.core();
            let core = &mut *core;
            let batch = self.pending.make_contiguous();
            self.specs.clear();
            self.specs
                .extend(batch.iter().map(|args| shared.commands.lookup(&args[0])));
            if batch.len() > 1 {
                prefetch_keys(&core.ks, self.state.db, batch, &self.specs);
            }
            core.intro.clock_mark = None;
            let mut specs = self.specs.iter().copied();
            while let Some(args) = self.pending.pop_front() {
                let spec = specs.next().flatten();
                let mark = self.out.buf.len();
                let mode = self.state.reply_mode;
                let mut ctx = Ctx::new(core, &mut self.state, &shared, &mut self.out);
                if let Some(name) = commands::call_spec(&mut ctx, spec, &args) {
                    last_cmd = Some(name);
                    executed += 1;
                }
                // CLIENT REPLY: OFF drops every reply; SKIP drops the reply of the command
                // after it (Redis's CLIENT_REPLY_SKIP_NEXT then CLIENT_REPLY_SKIP).
                let now = self.state.reply_mode;
                if now == ReplyMode::Off || (mode == ReplyMode::Skip && now == ReplyMode::Skip) {
                    self.out.buf.truncate(mark);
                }
                self.state.reply_mode = match (mode, now) {
                    (ReplyMode::Skip, ReplyMode::Skip) => ReplyMode::On,
                    (_, ReplyMode::SkipNext) => ReplyMode::Skip,
                    (_, now) => now,
                };
                if core.blocked.has_ready() {
                    commands::serve_blocked(core, &shared);
                }
                if std::mem::take(&mut self.state.suppress_reply) {
                    self.out.buf.truncate(mark);
                }
                if let Some(waiter) = &self.state.blocked {
                    core.blocked.add(waiter.clone(), false);
                    break;
                }
                if self.state.sync_plan.is_some() || self.state.waiting.is_some() {
                    break;
                }
                if self.state.close_after_reply || self.state.shutdown_requested {
                    self.pending.clear();
                    break;
                }
                recycle(&mut self.spare, args);
            }
            core.repl.flush_outbox();
        }
        let db = self.state.db;
        let resp = self.out.resp;
        let monitor = self.state.monitor;
        let blocked = self.state.blocked.is_some();
        self.state.handle.update(|info| {
            info.blocked = blocked;
            info.db = db;
            info.resp = resp;
            info.monitor = monitor;
            info.last_active = Instant::now();
            if let Some(name) = last_cmd {
                info.last_cmd = name;
            }
        });
        shared
            .stats
            .total_commands_processed
            .fetch_add(executed, Ordering::Relaxed);
        if self.state.shutdown_requested {
            shared.request_shutdown();
        }
    }
}

/// Most emptied argument vectors a connection keeps (at most 8 KiB of them at 16 arguments).
const MAX_SPARE: usize = 64;

/// Keeps an executed request's argument vector for the next one, unless it is unusually large
/// (a long MSET's) or enough are kept already.
fn recycle(spare: &mut Vec<Vec<Bytes>>, mut args: Vec<Bytes>) {
    if args.capacity() <= 16 && spare.len() < MAX_SPARE {
        args.clear();
        spare.push(args);
    }
}

/// Overlaps the cache misses of a pipelined batch: first the bucket slots of every command's
/// first key, then the nodes they point to; then, for commands naming a member of a large hash,
/// set or sorted set, the same walk through that collection's own table (slot, node, member
/// bytes). Commands after a SELECT may use another database; their prefetch is merely wasted,
/// never wrong.
fn prefetch_keys(
    ks: &crate::store::Keyspace,
    db: usize,
    batch: &[Vec<Bytes>],
    specs: &[Option<&'static CommandSpec>],
) {
    for level in 0..2 {
        for (args, spec) in batch.iter().zip(specs) {
            if let Some(key) = args.get(1) {
                ks.prefetch(db, key, level);
            }
            // The other keys of a multi-key command (MSET, MGET, DEL, SINTER, ...): without
            // them each MSET of 10 keys missed the cache nine times in a row.
            if let Some(spec) = spec {
                for key in more_keys(spec, args) {
                    ks.prefetch(db, key, level);
                }
            }
        }
    }
    use crate::store::Value;
    let mut targets: Vec<(&Value, &[u8])> = Vec::new();
    let mut last: Option<(&[u8], Option<&Value>)> = None;
    // Runs of pops from one end of one sorted set, and how many members each run removes:
    // the members to prefetch are the first that many from that end.
    let mut pops: Vec<(&[u8], &Value, bool, usize)> = Vec::new();
    for (args, spec) in batch.iter().zip(specs) {
        let Some(target) = spec.and_then(|spec| member_target(spec.member, args)) else {
            continue;
        };
        let key = &args[1][..];
        let value = match last {
            Some((k, v)) if k == key => v,
            _ => {
                let v = ks.value_for_prefetch(db, key);
                last = Some((key, v));
                v
            }
        };
        let Some(v) = value.filter(|v| v.has_member_table()) else {
            continue;
        };
        match (target, v) {
            (Target::Member(member), _) => targets.push((v, member)),
            (Target::Pop(max, count), Value::ZSet(_)) => match pops.last_mut() {
                Some((k, _, m, n)) if *k == key && *m == max => *n += count,
                _ => pops.push((key, v, max, count)),
            },
            _ => {}
        }
    }
    for (_, v, max, n) in pops {
        if let Value::ZSet(z) = v {
            let from = if max { z.len().saturating_sub(1) } else { 0 };
            for (member, _) in z.range_iter(from, max).take(n.min(MAX_BATCH)) {
                targets.push((v, member));
            }
        }
    }
    for level in 0..4 {
        for (v, member) in &targets {
            v.prefetch_member(member, level);
        }
    }
    // ZADD key score member: the tree leaves the update moves the member between (found
    // through the member's current score, now cached), by runs of one sorted set.
    let mut run: Option<(&[u8], &Value)> = None;
    let mut updates: Vec<(&[u8], f64)> = Vec::new();
    for (args, spec) in batch.iter().zip(specs) {
        let [_, key, score, member] = &args[..] else {
            continue;
        };
        if spec.is_none_or(|spec| spec.name != "zadd") {
            continue;
        }
        let Some(score) = std::str::from_utf8(score)
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
        else {
            continue;
        };
        if run.is_none_or(|(k, _)| k != &key[..]) {
            if let Some((_, Value::ZSet(z))) = run {
                z.prefetch_updates(&updates);
            }
            updates.clear();
            run = ks.value_for_prefetch(db, key).map(|v| (&key[..], v));
        }
        updates.push((member, score));
    }
    if let Some((_, Value::ZSet(z))) = run {
        z.prefetch_updates(&updates);
    }
}

/// What a command of a batch will look up inside a collection.
enum Target<'a> {
    /// This member.
    Member(&'a [u8]),
    /// The members at one end of a sorted set (highest when true): that many of them.
    Pop(bool, usize),
}

/// Keys after the first at the command's fixed key positions (first, last, step), at most
/// `MAX_MORE_KEYS` of them: prefetching far more than a cache holds would evict what it
/// fetched before use.
fn more_keys<'a>(spec: &CommandSpec, args: &'a [Bytes]) -> impl Iterator<Item = &'a Bytes> {
    const MAX_MORE_KEYS: usize = 32;
    let (first, last, step) = spec.keys;
    let last = if last < 0 {
        args.len() as i32 + last
    } else {
        last
    };
    let (from, to) = if first > 0 && step > 0 && last > first {
        (
            (first + step) as usize,
            (last as usize).min(args.len().saturating_sub(1)),
        )
    } else {
        (1, 0)
    };
    args.get(from..=to)
        .unwrap_or(&[])
        .iter()
        .step_by(step.max(1) as usize)
        .take(MAX_MORE_KEYS)
}

/// What a command's [`MemberArg`] names in `args`: the member to look up, or the pops of a
/// sorted set with their count.
fn member_target(member: MemberArg, args: &[Bytes]) -> Option<Target<'_>> {
    match member {
        MemberArg::None => None,
        MemberArg::At(pos) => args.get(pos).map(|m| Target::Member(&m[..])),
        MemberArg::Last => args.get(3).and(args.last()).map(|m| Target::Member(&m[..])),
        MemberArg::Pop { max } => {
            let count = match args.get(2) {
                Some(c) => {
                    crate::num::parse_i64(c).map_or(1, |n| n.clamp(0, MAX_BATCH as i64) as usize)
                }
                None => 1,
            };
            Some(Target::Pop(max, count))
        }
    }
}

async fn sleep_until_or_forever(deadline: Option<Option<Instant>>) {
    match deadline {
        Some(Some(at)) => tokio::time::sleep_until(at.into()).await,
        _ => std::future::pending().await,
    }
}

async fn sleep_or_forever(d: Option<Duration>) {
    match d {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::{member_target, more_keys, Target};
    use crate::commands::CommandTable;
    use bytes::Bytes;

    fn args(words: &[&str]) -> Vec<Bytes> {
        words.iter().map(|w| Bytes::from(w.to_string())).collect()
    }

    #[test]
    fn more_keys_follows_the_key_positions_of_the_command() {
        let table = CommandTable::new(&[]).unwrap();
        let more = |words: &[&str]| -> Vec<String> {
            let a = args(words);
            let spec = table.lookup(&a[0]).unwrap();
            more_keys(spec, &a)
                .map(|k| String::from_utf8_lossy(k).into_owned())
                .collect()
        };
        assert_eq!(more(&["MSET", "a", "1", "b", "2", "c", "3"]), ["b", "c"]);
        assert_eq!(more(&["del", "a", "b", "c"]), ["b", "c"]);
        assert_eq!(more(&["MGET", "a"]), Vec::<String>::new());
        assert_eq!(more(&["SET", "a", "1"]), Vec::<String>::new());
        assert_eq!(
            more(&["HSET", "h", "f", "v", "g", "w"]),
            Vec::<String>::new()
        );
        // SINTERSTORE dest k1 k2: every key; RPOPLPUSH src dst: both.
        assert_eq!(more(&["sinterstore", "d", "a", "b"]), ["a", "b"]);
        assert_eq!(more(&["rpoplpush", "s", "d"]), ["d"]);
        // Capped however many keys a command names.
        let many: Vec<String> = (0..100).map(|i| format!("k{i}")).collect();
        let mut words = vec!["del"];
        words.extend(many.iter().map(String::as_str));
        assert_eq!(more(&words).len(), 32);
    }

    #[test]
    fn member_targets_come_from_the_command_table() {
        let table = CommandTable::new(&[]).unwrap();
        let target = |words: &[&str]| -> String {
            let a = args(words);
            let spec = table.lookup(&a[0]).unwrap();
            match member_target(spec.member, &a) {
                Some(Target::Member(m)) => String::from_utf8_lossy(m).into_owned(),
                Some(Target::Pop(max, n)) => format!("pop max={max} n={n}"),
                None => "-".into(),
            }
        };
        assert_eq!(target(&["hset", "h", "f", "v"]), "f");
        assert_eq!(target(&["HMGET", "h", "a", "b"]), "a");
        assert_eq!(target(&["sismember", "s", "m"]), "m");
        assert_eq!(target(&["zscore", "z", "m"]), "m");
        assert_eq!(target(&["zadd", "z", "NX", "1", "m"]), "m");
        assert_eq!(target(&["zincrby", "z", "2", "m"]), "m");
        assert_eq!(target(&["zpopmax", "z", "3"]), "pop max=true n=3");
        assert_eq!(target(&["zpopmin", "z"]), "pop max=false n=1");
        assert_eq!(target(&["get", "k"]), "-");
        assert_eq!(target(&["smembers", "s"]), "-");
    }
}
