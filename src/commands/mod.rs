//! Command execution: the table of every command (name, arity, flags, key positions, handler)
//! and one file per command family. Handlers receive a [`Ctx`] holding the locked keyspace, the
//! calling client and the server, and write their reply straight into the client's output.

pub mod bitops;
pub mod connection;
pub mod dump;
pub mod hashes;
pub mod keys;
pub mod lists;
pub mod pubsub;
pub mod replication;
pub mod server_cmds;
pub mod sets;
pub mod sort;
pub mod strings;
pub mod table;
pub mod transactions;
pub mod zsets;

use crate::protocol::Out;
use crate::server::{
    BlockedClient, BlockedClients, ClientState, Core, Introspection, Shared, TimeoutReply,
};
use crate::store::Keyspace;
use bytes::Bytes;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use table::{arity_allows, flags};
pub use table::{CommandSpec, CommandTable, MemberArg};

/// Everything a handler may touch while the keyspace lock is held.
pub struct Ctx<'a> {
    /// The keyspace (locked).
    pub ks: &'a mut Keyspace,
    /// Command statistics and the slow log.
    pub intro: &'a mut Introspection,
    /// Clients parked by blocking commands.
    pub blocked: &'a mut BlockedClients,
    /// Pub/sub subscriptions.
    pub pubsub: &'a mut crate::server::pubsub::PubSub,
    /// Save state (SAVE, BGSAVE, INFO persistence).
    pub persistence: &'a mut crate::server::persistence::Persistence,
    /// Replication state: the stream every write is propagated into.
    pub repl: &'a mut crate::replication::Replication,
    /// The client issuing the command.
    pub client: &'a mut ClientState,
    /// Server-wide state: config, client registry, statistics.
    pub shared: &'a Shared,
    /// Where the reply goes.
    pub out: &'a mut Out,
}

impl<'a> Ctx<'a> {
    /// A context over the locked `core` for `client`.
    pub fn new(
        core: &'a mut Core,
        client: &'a mut ClientState,
        shared: &'a Shared,
        out: &'a mut Out,
    ) -> Self {
        Ctx {
            ks: &mut core.ks,
            intro: &mut core.intro,
            blocked: &mut core.blocked,
            pubsub: &mut core.pubsub,
            persistence: &mut core.persistence,
            repl: &mut core.repl,
            client,
            shared,
            out,
        }
    }

    /// Records a successful change of `key`, whose keyspace event is `event` of class `class`
    /// (the `notify-keyspace-events` letter: `$` strings, `l` lists, `h` hashes, `s` sets, `z`
    /// sorted sets, `g` generic): counts it for persistence, breaks WATCHes on the key and wakes
    /// clients blocked on it. Every write handler calls this once per key it changed.
    pub fn wrote(&mut self, class: u8, event: &'static str, key: &[u8]) {
        self.ks.dirty += 1;
        let db = self.db();
        self.ks.signal_modified(db, key);
        self.blocked.signal(db, key);
        self.notify(class, event, key);
    }

    /// Publishes a keyspace notification (`__keyspace@<db>__:<key>` → event and
    /// `__keyevent@<db>__:<event>` → key) when `notify-keyspace-events` enables its class.
    pub fn notify(&mut self, class: u8, event: &str, key: &[u8]) {
        self.publish_logged_events();
        let db = self.db();
        notify_keyspace_event(self.shared, self.pubsub, db, class, event, key);
    }

    /// Publishes what the keyspace logged since the last event: `expired` for keys whose time
    /// passed during a lookup (with the DEL replicas need), then `new` for keys created. Run
    /// before every other event and after each command, so they come out in Redis's order
    /// (`expired`, `new`, then the command's own event).
    pub fn publish_logged_events(&mut self) {
        if !self.ks.expired_log.is_empty() {
            publish_expired(self.ks, self.pubsub, self.repl, self.shared);
        }
        for (db, key) in std::mem::take(&mut self.ks.new_log) {
            notify_keyspace_event(self.shared, self.pubsub, db, b'n', "new", &key);
        }
    }

    /// Parks the client until one of `keys` receives data or `timeout` passes (`None`: forever);
    /// `args` is the command to run again then. Inside EXEC nothing blocks: the timeout reply is
    /// sent at once, as Redis does. The handler writes no reply when it blocks.
    pub fn block(
        &mut self,
        args: &[Bytes],
        keys: &[Bytes],
        timeout: Option<Duration>,
        on_timeout: TimeoutReply,
    ) {
        if self.client.in_exec {
            write_timeout_reply(self.out, on_timeout);
            return;
        }
        self.client.blocked = Some(BlockedClient {
            handle: self.client.handle.clone(),
            db: self.client.db,
            resp: self.out.resp,
            args: args.to_vec(),
            keys: keys.to_vec(),
            deadline: timeout.map(|d| Instant::now() + d),
            on_timeout,
        });
    }

    pub fn db(&self) -> usize {
        self.client.db
    }

    /// Counts `n` changes for persistence (`rdb_changes_since_last_save`).
    pub fn dirty(&mut self, n: u64) {
        self.ks.dirty += n;
    }

    /// The collection encoding thresholds currently configured.
    pub fn limits(&self) -> crate::store::EncodingLimits {
        self.shared.hot.encoding_limits()
    }
}

/// Publishes one keyspace notification if its class is enabled (shared by command handlers
/// and the expiry paths that run outside any command).
pub fn notify_keyspace_event(
    shared: &Shared,
    pubsub: &crate::server::pubsub::PubSub,
    db: usize,
    class: u8,
    event: &str,
    key: &[u8],
) {
    use crate::server::notify_bit;
    use crate::server::pubsub::Kind;
    let flags = shared.hot.notify_flags.load(Ordering::Relaxed);
    if flags & notify_bit(class) == 0 || pubsub.is_empty() {
        return;
    }
    if flags & notify_bit(b'K') != 0 {
        let mut channel = format!("__keyspace@{db}__:").into_bytes();
        channel.extend_from_slice(key);
        pubsub.publish(Kind::Channel, &channel, event.as_bytes());
    }
    if flags & notify_bit(b'E') != 0 {
        let channel = format!("__keyevent@{db}__:{event}");
        pubsub.publish(Kind::Channel, channel.as_bytes(), key);
    }
}

/// Turns the keys expiry removed into `expired` notifications and empties the log.
/// Turns the keys expiry removed into `expired` notifications and, for replicas (which never
/// expire keys themselves), DELs in the current execution unit; empties the log.
pub fn publish_expired(
    ks: &mut Keyspace,
    pubsub: &crate::server::pubsub::PubSub,
    repl: &mut crate::replication::Replication,
    shared: &Shared,
) {
    for (db, key) in std::mem::take(&mut ks.expired_log) {
        announce_deletion(shared, pubsub, repl, db, key, Deletion::Expired);
    }
}

/// Why the server deleted a key on its own.
#[derive(Clone, Copy)]
pub enum Deletion {
    Expired,
    /// Evicted for `maxmemory`; `lazy` under `lazyfree-lazy-eviction`.
    Evicted {
        lazy: bool,
    },
}

/// Announces a key the server deleted on its own, as Redis's `propagateDeletion` plus the
/// notification: the `expired` / `evicted` keyspace event, then DEL (UNLINK for a lazy
/// eviction) in the replication stream's current unit.
pub fn announce_deletion(
    shared: &Shared,
    pubsub: &crate::server::pubsub::PubSub,
    repl: &mut crate::replication::Replication,
    db: usize,
    key: Vec<u8>,
    why: Deletion,
) {
    let (class, event, cmd): (u8, &str, &'static [u8]) = match why {
        Deletion::Expired => (b'x', "expired", b"DEL"),
        Deletion::Evicted { lazy: false } => (b'e', "evicted", b"DEL"),
        Deletion::Evicted { lazy: true } => (b'e', "evicted", b"UNLINK"),
    };
    notify_keyspace_event(shared, pubsub, db, class, event, &key);
    repl.push(db, vec![Bytes::from_static(cmd), Bytes::from(key)]);
}

/// Before a command runs with `maxmemory` set, evicts keys while the memory in use (less what is
/// queued for replicas, as Redis counts it) is over the limit, announcing each eviction as Redis
/// does (`evicted` event, a DEL, or UNLINK under `lazyfree-lazy-eviction`, to replicas). True
/// when still over the limit because nothing could be evicted (`noeviction`, or no candidate
/// left).
fn over_memory_after_evicting(ctx: &mut Ctx, limit: crate::server::MemoryLimit) -> bool {
    /// Evictions per command at most: past that the command runs and the next one continues
    /// (Redis bounds each eviction round by time the same way).
    const MAX_EVICTIONS: usize = 10_000;
    let used = |repl: &crate::replication::Replication| {
        crate::server::memory::used().saturating_sub(repl.replica_buffers())
    };
    for _ in 0..MAX_EVICTIONS {
        if used(ctx.repl) <= limit.bytes {
            return false;
        }
        let Some((db, key)) = ctx.ks.evict_one(limit.policy, limit.samples) else {
            return true;
        };
        let why = Deletion::Evicted { lazy: limit.lazy };
        announce_deletion(ctx.shared, ctx.pubsub, ctx.repl, db, key, why);
        ctx.repl.flush_unit();
    }
    false
}

/// Why the server refuses to run `spec` now, in Redis 7.0's order: out of memory (after
/// evicting what `maxmemory-policy` allows), the last background save failed (MISCONF), too few
/// good replicas, a read-only replica, a replica whose master is down, the dataset loading.
fn refusal(ctx: &mut Ctx, spec: &table::CommandSpec) -> Option<String> {
    use crate::server::ClientKind;
    // EXEC takes the flags of what it queued.
    let mut cmd_flags = spec.flags;
    if spec.name == "exec" {
        if let Some(m) = ctx.client.multi.as_ref() {
            for args in &m.queued {
                if let Some(q) = ctx.shared.commands.lookup(&args[0]) {
                    cmd_flags |= q.flags;
                }
            }
        }
    }
    let write = cmd_flags & flags::WRITE != 0;
    let from_master = ctx.client.kind == ClientKind::Master;
    if !from_master {
        if let Some(limit) = ctx.shared.hot.memory_limit() {
            let ignored = limit.ignored_on_replica && ctx.repl.master.is_some();
            if !ignored && over_memory_after_evicting(ctx, limit) && cmd_flags & flags::DENYOOM != 0
            {
                return Some("OOM command not allowed when used memory > 'maxmemory'.".into());
            }
        }
    }
    // PING too, as in Redis, so a health check notices that saves are failing.
    if (write || spec.name == "ping")
        && !from_master
        && !ctx.persistence.last_bgsave_ok
        && crate::server::persistence::writes_refused(ctx.persistence, &ctx.shared.config())
    {
        return Some(crate::server::persistence::MISCONF.into());
    }
    if write && !from_master && ctx.repl.master.is_none() {
        let (min, lag) = (
            ctx.shared.hot.min_replicas.0.load(Ordering::Relaxed),
            ctx.shared.hot.min_replicas.1.load(Ordering::Relaxed),
        );
        if min > 0 && lag > 0 && (ctx.repl.good_replicas(lag as u64) as i64) < min {
            return Some("NOREPLICAS Not enough good replicas to write.".into());
        }
    }
    if ctx.repl.master.is_some() && !from_master {
        if write && ctx.shared.config().bool("replica-read-only") {
            return Some("READONLY You can't write against a read only replica.".into());
        }
        let link_up = ctx
            .repl
            .master
            .as_ref()
            .is_some_and(|m| m.state == crate::replication::replica::LinkState::Connected);
        if !link_up
            && spec.flags & flags::STALE == 0
            && !ctx.shared.config().bool("replica-serve-stale-data")
        {
            return Some(
                "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
                    .into(),
            );
        }
    }
    if spec.flags & flags::LOADING == 0 && ctx.shared.loading.is_active() {
        return Some("LOADING Redis is loading the dataset in memory".into());
    }
    None
}

/// Writes what a blocked client receives when its time is up.
pub fn write_timeout_reply(out: &mut Out, reply: TimeoutReply) {
    match reply {
        TimeoutReply::NullArray => out.null_array(),
    }
}

/// A blocking command's timeout in seconds, exactly as Redis 7.0 reads it: the seconds are
/// turned into whole milliseconds by truncation (so `0.0001` means "forever", like `0`), and
/// values too big for that (`inf`, `1e300`) come out negative, as the C conversion does.
pub fn parse_timeout(ctx: &Ctx, arg: &[u8]) -> Result<Option<Duration>, CmdError> {
    let secs = crate::num::parse_f64(arg)
        .ok_or_else(|| CmdError::err("timeout is not a float or out of range"))?;
    let ms = secs * 1000.0;
    // x86's truncating conversion yields i64::MIN for anything out of range.
    let ms = if ms.is_finite() && ms > -9.223_372_036_854_776e18 && ms < 9.223_372_036_854_776e18 {
        ms as i64
    } else {
        i64::MIN
    };
    if ms < 0 {
        return Err(CmdError::err("timeout is negative"));
    }
    if ms == 0 {
        return Ok(None);
    }
    if ms > i64::MAX - ctx.ks.now.max(0) {
        return Err(CmdError::err("timeout is out of range"));
    }
    Ok(Some(Duration::from_millis(ms as u64)))
}

/// Runs again the commands of clients blocked on keys that received writes, in arrival order,
/// and pushes their replies; repeats while serving makes more keys ready (BLMOVE into a list
/// someone else waits on). Called after each top-level command, under the same lock.
pub fn serve_blocked(core: &mut Core, shared: &Shared) {
    while core.blocked.has_ready() {
        for (db, key) in core.blocked.take_ready() {
            for id in core.blocked.waiters(db, &key) {
                let Some(waiter) = core.blocked.get(id) else {
                    continue;
                };
                // A key that now holds another type (or nothing) serves nobody: the waiters
                // keep waiting, as in Redis, instead of getting WRONGTYPE.
                let wanted = blocking_type(&waiter.args[0]);
                if core.ks.peek(db, &key).map(|v| v.type_name()) != Some(wanted) {
                    break;
                }
                let Some(waiter) = core.blocked.remove(id) else {
                    continue;
                };
                let mut state = ClientState::new(waiter.handle.clone(), true);
                state.db = waiter.db;
                let mut out = Out::with_capacity(waiter.resp, 256);
                let mut ctx = Ctx::new(core, &mut state, shared, &mut out);
                call(&mut ctx, &waiter.args);
                if state.blocked.is_some() {
                    // Nothing left for this waiter, so nothing for those behind it either: it
                    // keeps its place at the head of the queue.
                    core.blocked.add(waiter, true);
                    break;
                }
                waiter.handle.unblock(out.buf.freeze());
            }
        }
    }
}

/// The type of key a blocking command waits for.
fn blocking_type(name: &[u8]) -> &'static str {
    if name.len() > 2 && name[..2].eq_ignore_ascii_case(b"bz") {
        "zset"
    } else {
        "list"
    }
}

/// A command's failure, rendered with Redis's exact text.
#[derive(Debug, Clone, PartialEq)]
pub enum CmdError {
    /// `-WRONGTYPE ...`
    WrongType,
    /// `-ERR syntax error`
    Syntax,
    /// `-ERR value is not an integer or out of range`
    NotInteger,
    /// `-ERR value is not a valid float`
    NotFloat,
    /// `-ERR increment or decrement would overflow`
    Overflow,
    /// `-ERR wrong number of arguments for '<cmd>' command`
    Arity(String),
    /// Any other message, including its code (`ERR ...`, `NOAUTH ...`).
    Msg(String),
}

impl CmdError {
    /// An `ERR`-coded error with the given text.
    pub fn err(text: impl std::fmt::Display) -> CmdError {
        CmdError::Msg(format!("ERR {text}"))
    }
}

impl std::fmt::Display for CmdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CmdError::WrongType => {
                f.write_str("WRONGTYPE Operation against a key holding the wrong kind of value")
            }
            CmdError::Syntax => f.write_str("ERR syntax error"),
            CmdError::NotInteger => f.write_str("ERR value is not an integer or out of range"),
            CmdError::NotFloat => f.write_str("ERR value is not a valid float"),
            CmdError::Overflow => f.write_str("ERR increment or decrement would overflow"),
            CmdError::Arity(cmd) => write!(f, "ERR wrong number of arguments for '{cmd}' command"),
            CmdError::Msg(m) => f.write_str(m),
        }
    }
}

/// What every handler returns; an `Err` is written as the reply.
pub type CmdResult = Result<(), CmdError>;

/// Parses an integer argument (`-ERR value is not an integer or out of range` otherwise).
pub fn arg_i64(arg: &[u8]) -> Result<i64, CmdError> {
    crate::num::parse_i64(arg).ok_or(CmdError::NotInteger)
}

/// Parses a float argument (`-ERR value is not a valid float` otherwise).
pub fn arg_f64(arg: &[u8]) -> Result<f64, CmdError> {
    crate::num::parse_f64(arg).ok_or(CmdError::NotFloat)
}

/// An argument as text for error messages and option matching.
pub fn arg_str(arg: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(arg)
}

/// True when `arg` equals the ASCII option `name`, ignoring case.
pub fn is_opt(arg: &Bytes, name: &str) -> bool {
    arg.eq_ignore_ascii_case(name.as_bytes())
}

/// An argument as Redis's `%.Ns` prints it in an error: at most `max` bytes, ending at a NUL.
fn clipped(arg: &[u8], max: usize) -> &[u8] {
    let end = arg.len().min(max);
    let end = arg[..end].iter().position(|&b| b == 0).unwrap_or(end);
    &arg[..end]
}

/// Redis's refusal of a subcommand a container does not have.
pub fn unknown_subcommand(args: &[Bytes]) -> CmdError {
    CmdError::err(format!(
        "unknown subcommand '{}'. Try {} HELP.",
        arg_str(clipped(&args[1], 128)),
        arg_str(&args[0]).to_uppercase()
    ))
}

/// Redis's `addReplySubcommandSyntaxError`: a subcommand given arguments it cannot take.
pub fn subcommand_syntax_error(args: &[Bytes]) -> CmdError {
    CmdError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        arg_str(clipped(&args[1], 128)),
        arg_str(&args[0]).to_uppercase()
    ))
}

/// A container's HELP reply: its lines as status replies.
pub fn reply_help(ctx: &mut Ctx, lines: &[&str]) {
    ctx.out.array(lines.len());
    for l in lines {
        ctx.out.simple(l);
    }
}

/// Redis's reply to an unknown command: the name and up to 128 bytes of quoted arguments.
fn unknown_command(args: &[Bytes]) -> String {
    // Counted in bytes, as Redis counts them, before any lossy conversion.
    let mut rest = Vec::new();
    for a in &args[1..] {
        if rest.len() >= 128 {
            break;
        }
        let room = 128 - rest.len();
        rest.push(b'\'');
        rest.extend_from_slice(clipped(a, room));
        rest.extend_from_slice(b"' ");
    }
    format!(
        "ERR unknown command '{}', with args beginning with: {}",
        arg_str(clipped(&args[0], 128)),
        arg_str(&rest)
    )
}

/// Formats a MONITOR line: `+<secs>.<micros> [<db> <addr>] "arg" ...`.
fn monitor_line(db: usize, addr: &std::net::SocketAddr, args: &[Bytes]) -> Bytes {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut line = format!(
        "+{}.{:06} [{} {}]",
        now.as_secs(),
        now.subsec_micros(),
        db,
        addr
    );
    for a in args {
        line.push(' ');
        line.push_str(&crate::num::repr(a));
    }
    line.push_str("\r\n");
    Bytes::from(line)
}

/// Queues what replicas must run for a command that just executed (its deterministic form when
/// it changed the dataset, PUBLISH always), and ends the execution unit at top level.
fn propagate(ctx: &mut Ctx, spec: &'static CommandSpec, args: &[Bytes], dirty_before: u64) {
    // A replica forwards its master's stream as received; its own clients' writes stay local.
    if !ctx.repl.streaming() || ctx.repl.master.is_some() {
        // Nobody ever attached: there is no stream to write (and no offset to advance).
        ctx.repl.override_args = None;
        return;
    }
    let db = ctx.db();
    let changed = ctx.ks.dirty > dirty_before && spec.name != "exec";
    if changed || matches!(spec.name, "publish" | "spublish") {
        match ctx.repl.override_args.take() {
            Some(cmds) => cmds.into_iter().for_each(|c| ctx.repl.push(db, c)),
            None => match crate::replication::propagate::rewrite(spec.name, args, ctx.ks, db) {
                Some(cmds) => cmds.into_iter().for_each(|c| ctx.repl.push(db, c)),
                None if ctx.repl.depth == 0 => ctx.repl.push_unit_of_one(db, args),
                None => ctx.repl.push(db, args.to_vec()),
            },
        }
    }
    ctx.repl.override_args = None;
    if ctx.repl.depth == 0 {
        ctx.repl.flush_unit();
        ctx.client.woff = ctx.repl.offset;
    }
}

/// A command refused while queueing makes the transaction's EXEC fail with EXECABORT.
fn flag_multi_error(ctx: &mut Ctx) {
    if let Some(m) = ctx.client.multi.as_mut() {
        m.errored = true;
    }
}

/// Commands a RESP2 client in subscriber mode may still send.
fn allowed_in_subscriber_mode(name: &str) -> bool {
    matches!(
        name,
        "subscribe"
            | "ssubscribe"
            | "unsubscribe"
            | "sunsubscribe"
            | "psubscribe"
            | "punsubscribe"
            | "ping"
            | "quit"
            | "reset"
    )
}

/// Looks the command up, checks arity and authentication, runs it, and records statistics, the
/// slow log and the MONITOR feed. Returns the command's name when it ran.
pub fn call(ctx: &mut Ctx, args: &[Bytes]) -> Option<&'static str> {
    let spec = ctx.shared.commands.lookup(&args[0]);
    call_spec(ctx, spec, args)
}

/// [`call`] with the command already looked up: a connection looks up every command of a
/// pipelined batch before running it, to prefetch the keys each one names.
pub fn call_spec(
    ctx: &mut Ctx,
    spec: Option<&'static CommandSpec>,
    args: &[Bytes],
) -> Option<&'static str> {
    let Some(spec) = spec else {
        let msg = unknown_command(args);
        ctx.intro.count_error(&msg);
        flag_multi_error(ctx);
        ctx.out.error(&msg);
        return None;
    };
    if !spec.arity_ok(args.len()) {
        flag_multi_error(ctx);
        let msg = CmdError::Arity(spec.name.to_string()).to_string();
        ctx.intro.count_error(&msg);
        ctx.intro.stat(spec.stat_key()).rejected_calls += 1;
        ctx.out.error(&msg);
        return None;
    }
    // A container's subcommand is looked up (and its arity checked) with the command itself,
    // as in Redis: an unknown one is refused without counting on any command's line.
    let mut stat_key = spec.stat_key();
    if let Some(name) = args.get(1).filter(|_| !spec.subcommands.is_empty()) {
        let Some(sub) = spec.subcommand(name) else {
            let msg = unknown_subcommand(args).to_string();
            flag_multi_error(ctx);
            ctx.intro.count_error(&msg);
            ctx.out.error(&msg);
            return None;
        };
        stat_key = sub.stat_key();
        if !arity_allows(sub.arity, args.len()) {
            let msg = CmdError::Arity(sub.full_name.to_string()).to_string();
            flag_multi_error(ctx);
            ctx.intro.count_error(&msg);
            ctx.intro.stat(stat_key).rejected_calls += 1;
            ctx.out.error(&msg);
            return None;
        }
    }
    if !ctx.client.authenticated && spec.flags & flags::NO_AUTH == 0 {
        let msg = "NOAUTH Authentication required.";
        flag_multi_error(ctx);
        ctx.intro.count_error(msg);
        ctx.intro.stat(stat_key).rejected_calls += 1;
        ctx.out.error(msg);
        return None;
    }
    if ctx.client.subs.total() > 0
        && ctx.out.resp == crate::protocol::Resp::V2
        && !allowed_in_subscriber_mode(spec.name)
    {
        let msg = format!(
            "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
            spec.name
        );
        ctx.intro.count_error(&msg);
        ctx.out.error(&msg);
        return None;
    }
    // The server-state refusals, in Redis's order and before a command is queued in MULTI; EXEC
    // counts as a write (or denyoom) when it queued one, and is then aborted as a whole. Inside
    // EXEC nothing is checked again.
    if !ctx.client.in_exec {
        if let Some(msg) = refusal(ctx, spec) {
            ctx.intro.count_error(&msg);
            ctx.intro.stat(stat_key).rejected_calls += 1;
            if spec.name == "exec" && ctx.client.multi.is_some() {
                transactions::abort_exec(ctx, &msg);
            } else {
                flag_multi_error(ctx);
                ctx.out.error(&msg);
            }
            return None;
        }
    }
    if ctx.client.multi.is_some() && !transactions::runs_inside_multi(spec.name) {
        if spec.flags & flags::NO_MULTI != 0 {
            flag_multi_error(ctx);
            ctx.out
                .error("ERR Command not allowed inside a transaction");
            return None;
        }
        if let Some(m) = ctx.client.multi.as_mut() {
            m.queued.push(args.to_vec());
            let n = m.queued.len() as i64;
            ctx.client.handle.update(|i| i.multi = n);
        }
        ctx.out.simple("QUEUED");
        return Some(spec.name);
    }
    let start = ctx.intro.clock_mark.take().unwrap_or_else(Instant::now);
    ctx.ks.now = ctx.shared.clock.unix_ms(start);
    ctx.ks.access_policy = ctx.shared.hot.access_policy();
    let dirty_before = ctx.ks.dirty;
    let notify = ctx.shared.hot.notify_flags.load(Ordering::Relaxed);
    ctx.ks.log_new = notify & crate::server::notify_bit(b'n') != 0 && !ctx.pubsub.is_empty();
    ctx.repl.depth += 1;
    let result = (spec.handler)(ctx, args);
    ctx.repl.depth -= 1;
    let end = Instant::now();
    ctx.intro.clock_mark = Some(end);
    let took = end.duration_since(start);
    ctx.intro.exec_nanos += took.as_nanos() as u64;
    let micros = took.as_micros() as u64;
    ctx.publish_logged_events();
    propagate(ctx, spec, args, dirty_before);
    let stat = ctx.intro.stat(stat_key);
    stat.calls += 1;
    stat.usec += micros;
    if let Err(e) = result {
        stat.failed_calls += 1;
        let msg = e.to_string();
        ctx.intro.count_error(&msg);
        ctx.out.error(&msg);
    }
    let threshold = ctx.shared.hot.slowlog_slower_than.load(Ordering::Relaxed);
    if threshold >= 0 && micros >= threshold as u64 && spec.flags & flags::SKIP_SLOWLOG == 0 {
        let max_len = ctx
            .shared
            .hot
            .slowlog_max_len
            .load(Ordering::Relaxed)
            .max(0) as usize;
        let handle = &ctx.client.handle;
        let name = handle.info().name;
        ctx.intro
            .log_slow(args, micros, handle.addr.to_string(), name, max_len);
    }
    if ctx.shared.monitor_count.load(Ordering::Relaxed) > 0
        && spec.flags & (flags::SKIP_MONITOR | flags::ADMIN) == 0
    {
        let db = ctx.client.db;
        ctx.shared
            .feed_monitors(monitor_line(db, &ctx.client.handle.addr, args));
    }
    Some(spec.name)
}
