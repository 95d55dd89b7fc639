//! Per-client state: what the connection task owns ([`ClientState`]) and what other clients may
//! look at or act on through the registry ([`ClientHandle`]: CLIENT LIST, CLIENT KILL, MONITOR).

use crate::protocol::Resp;
use bytes::Bytes;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{mpsc, Notify};

/// CLIENT REPLY mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyMode {
    /// Replies are sent (default).
    On,
    /// No replies until CLIENT REPLY ON.
    Off,
    /// Set by CLIENT REPLY SKIP: the command after it is skipped.
    SkipNext,
    /// This command's reply is dropped.
    Skip,
}

/// Kind of connection, for CLIENT LIST flags and CLIENT KILL TYPE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientKind {
    /// An ordinary client.
    Normal,
    /// A replica attached to us (flag S).
    Replica,
    /// Our link to our master (flag M).
    Master,
    /// A client in subscriber mode.
    PubSub,
}

/// The parts of a client other connections can read.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    /// CLIENT SETNAME.
    pub name: String,
    /// Selected database.
    pub db: usize,
    /// Last command executed (`cmd=` in CLIENT LIST).
    pub last_cmd: &'static str,
    /// When the client last sent a command.
    pub last_active: Instant,
    /// Protocol version.
    pub resp: Resp,
    /// Connection kind.
    pub kind: ClientKind,
    /// In MONITOR mode.
    pub monitor: bool,
    /// Bytes waiting in the query buffer.
    pub qbuf: usize,
    /// Bytes waiting to be written.
    pub omem: usize,
    /// Subscribed (channels, patterns, shard channels), for CLIENT LIST `sub=`/`psub=`/`ssub=`.
    pub subs: (usize, usize, usize),
    /// Commands queued in MULTI, -1 outside a transaction (CLIENT LIST `multi=`).
    pub multi: i64,
    /// Parked by a blocking command (CLIENT LIST flag `b`).
    pub blocked: bool,
}

/// A client as the registry sees it.
#[derive(Debug)]
pub struct ClientHandle {
    /// CLIENT ID: unique and increasing.
    pub id: u64,
    /// Peer address.
    pub addr: SocketAddr,
    /// Our side of the connection.
    pub laddr: SocketAddr,
    /// Connection time.
    pub created: Instant,
    /// Mutable, shared details.
    pub info: Mutex<ClientInfo>,
    killed: AtomicBool,
    kill: Notify,
    push: mpsc::UnboundedSender<Push>,
    /// Bytes pushed but not yet taken by the connection task (output-buffer limits).
    queued: std::sync::atomic::AtomicUsize,
    /// Unix ms since the queue has been above the soft limit (0: it is not).
    over_soft_since: std::sync::atomic::AtomicI64,
}

/// Bytes delivered to a connection outside its own request/reply flow.
#[derive(Debug)]
pub enum Push {
    /// MONITOR lines, pub/sub messages: written as they come.
    Data(Bytes),
    /// The reply that ends a blocking command (served by a writer, CLIENT UNBLOCK, ...).
    Unblocked(Bytes),
}

impl ClientHandle {
    /// A handle plus the receiving end of its push channel (owned by the connection task).
    pub fn new(
        id: u64,
        addr: SocketAddr,
        laddr: SocketAddr,
    ) -> (Arc<Self>, mpsc::UnboundedReceiver<Push>) {
        let (push, rx) = mpsc::unbounded_channel();
        let now = Instant::now();
        let handle = ClientHandle {
            id,
            addr,
            laddr,
            created: now,
            info: Mutex::new(ClientInfo {
                name: String::new(),
                db: 0,
                last_cmd: "NULL",
                last_active: now,
                resp: Resp::V2,
                kind: ClientKind::Normal,
                monitor: false,
                qbuf: 0,
                omem: 0,
                subs: (0, 0, 0),
                multi: -1,
                blocked: false,
            }),
            killed: AtomicBool::new(false),
            kill: Notify::new(),
            push,
            queued: std::sync::atomic::AtomicUsize::new(0),
            over_soft_since: std::sync::atomic::AtomicI64::new(0),
        };
        (Arc::new(handle), rx)
    }

    /// A copy of the shared details.
    pub fn info(&self) -> ClientInfo {
        self.info.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Runs `f` on the shared details.
    pub fn update(&self, f: impl FnOnce(&mut ClientInfo)) {
        f(&mut self.info.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// Asks the connection task to close (CLIENT KILL, shutdown).
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.kill.notify_one();
    }

    /// True once killed.
    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }

    /// Resolves when the client is killed.
    pub async fn killed(&self) {
        self.kill.notified().await
    }

    /// Queues bytes to be written to this client outside the request/reply flow (MONITOR lines,
    /// pub/sub messages).
    pub fn push(&self, bytes: Bytes) {
        self.queued.fetch_add(bytes.len(), Ordering::Relaxed);
        let _ = self.push.send(Push::Data(bytes));
    }

    /// The connection task took `n` pushed bytes off the queue.
    pub fn dequeued(&self, n: usize) {
        self.queued
            .fetch_sub(n.min(self.queued()), Ordering::Relaxed);
    }

    /// How long (ms) the queue has been above the soft limit, starting the clock now if it
    /// was not.
    pub fn over_soft_for(&self, now_ms: i64) -> i64 {
        match self
            .over_soft_since
            .compare_exchange(0, now_ms, Ordering::Relaxed, Ordering::Relaxed)
        {
            Ok(_) => 0,
            Err(since) => now_ms - since,
        }
    }

    /// The queue is back under the soft limit.
    pub fn clear_over_soft(&self) {
        self.over_soft_since.store(0, Ordering::Relaxed);
    }

    /// Pushed bytes not yet taken by the connection task.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// Ends this client's blocking command with `reply`.
    pub fn unblock(&self, reply: Bytes) {
        let _ = self.push.send(Push::Unblocked(reply));
    }
}

/// A client's pub/sub subscriptions (ordered, so UNSUBSCRIBE without arguments answers in a
/// stable order).
#[derive(Debug, Default)]
pub struct Subscriptions {
    pub channels: BTreeSet<Vec<u8>>,
    pub patterns: BTreeSet<Vec<u8>>,
    pub shards: BTreeSet<Vec<u8>>,
}

impl Subscriptions {
    /// The set for one namespace.
    pub fn set(&mut self, kind: super::pubsub::Kind) -> &mut BTreeSet<Vec<u8>> {
        match kind {
            super::pubsub::Kind::Channel => &mut self.channels,
            super::pubsub::Kind::Pattern => &mut self.patterns,
            super::pubsub::Kind::Shard => &mut self.shards,
        }
    }

    /// Total subscriptions; a RESP2 client with any is in subscriber mode.
    pub fn total(&self) -> usize {
        self.channels.len() + self.patterns.len() + self.shards.len()
    }
}

/// What the connection task owns for its client.
#[derive(Debug)]
pub struct ClientState {
    /// The registry entry.
    pub handle: Arc<ClientHandle>,
    /// Selected database.
    pub db: usize,
    /// True once AUTH/HELLO succeeded or when no password is required.
    pub authenticated: bool,
    /// Close the connection after flushing the replies (QUIT, CLIENT KILL SKIPME no on self).
    pub close_after_reply: bool,
    /// CLIENT REPLY mode.
    pub reply_mode: ReplyMode,
    /// In MONITOR mode: only receives the feed.
    pub monitor: bool,
    /// Set by SHUTDOWN: the server stops after this batch.
    pub shutdown_requested: bool,
    /// Connection kind (normal until it becomes a replica or master link).
    pub kind: ClientKind,
    /// Set by a blocking command that found nothing to do; the connection parks the client.
    pub blocked: Option<super::BlockedClient>,
    /// True while EXEC runs the queued commands: blocking commands then answer at once.
    pub in_exec: bool,
    /// Pub/sub subscriptions.
    pub subs: Subscriptions,
    /// The transaction being queued after MULTI.
    pub multi: Option<crate::commands::transactions::MultiState>,
    /// What REPLCONF told us (a connection that will become a replica).
    pub replconf: crate::replication::master::ReplConf,
    /// Set by PSYNC/SYNC: the connection turns into a replica link after this batch.
    pub sync_plan: Option<crate::replication::master::SyncPlan>,
    /// `master_repl_offset` after this client's last command (WAIT's target).
    pub woff: i64,
    /// The command sends no reply at all (REPLCONF ACK / GETACK).
    pub suppress_reply: bool,
    /// Set by WAIT when it must block: (target offset, replicas wanted, deadline).
    pub waiting: Option<(i64, usize, Option<Instant>)>,
}

impl ClientState {
    /// Fresh state for a newly accepted client.
    pub fn new(handle: Arc<ClientHandle>, authenticated: bool) -> Self {
        ClientState {
            handle,
            db: 0,
            authenticated,
            close_after_reply: false,
            reply_mode: ReplyMode::On,
            monitor: false,
            shutdown_requested: false,
            kind: ClientKind::Normal,
            blocked: None,
            in_exec: false,
            subs: Subscriptions::default(),
            multi: None,
            replconf: Default::default(),
            sync_plan: None,
            woff: 0,
            suppress_reply: false,
            waiting: None,
        }
    }

    /// CLIENT ID.
    pub fn id(&self) -> u64 {
        self.handle.id
    }
}
