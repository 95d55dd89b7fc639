//! The server: listeners, the shared state every connection sees, the periodic cron, and
//! graceful shutdown.

mod blocking;
mod client;
mod connection;
pub mod introspection;
pub mod memory;
pub mod metrics;
pub mod persistence;
pub mod pubsub;

pub use blocking::{BlockedClient, BlockedClients, TimeoutReply};
pub use client::{
    ClientHandle, ClientInfo, ClientKind, ClientState, Push, ReplyMode, Subscriptions,
};
pub use introspection::{CmdStat, Introspection};

use crate::commands::CommandTable;
use crate::config::Config;
use crate::store::{EncodingLimits, Keyspace};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tracing::{info, warn};

/// The version Resplica reports as `redis_version`: the behaviour it is compatible with.
pub const REDIS_VERSION: &str = "7.0.15";
/// Resplica's own version.
pub const RESPLICA_VERSION: &str = env!("CARGO_PKG_VERSION");

/// State guarded by the one keyspace lock: the data and what is updated with every command.
pub struct Core {
    /// The databases.
    pub ks: Keyspace,
    /// Per-command statistics and the slow log.
    pub intro: Introspection,
    /// Clients parked by blocking commands.
    pub blocked: BlockedClients,
    /// Pub/sub subscriptions.
    pub pubsub: pubsub::PubSub,
    /// Save state (INFO persistence).
    pub persistence: persistence::Persistence,
    /// Replication identity, backlog and attached replicas.
    pub repl: crate::replication::Replication,
}

/// Server-wide counters read by INFO.
#[derive(Default)]
pub struct Stats {
    pub total_connections_received: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub total_commands_processed: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    /// Bytes read from our master (transfer and stream), kept apart from client traffic as
    /// Redis 7.0 does (`total_net_repl_input_bytes`).
    pub net_repl_input_bytes: AtomicU64,
    /// Bytes written to our replicas (snapshots and stream): `total_net_repl_output_bytes`.
    pub net_repl_output_bytes: AtomicU64,
}

/// Settings read by every command, cached as atomics so the hot path never takes the config
/// lock; refreshed whenever the configuration is written (see [`ConfigWriteGuard`]).
#[derive(Default)]
pub struct HotSettings {
    /// `slowlog-log-slower-than` in microseconds (-1 disables the slow log).
    pub slowlog_slower_than: AtomicI64,
    /// `slowlog-max-len`.
    pub slowlog_max_len: AtomicI64,
    /// `timeout` (idle client timeout, seconds).
    pub idle_timeout: AtomicI64,
    /// `min-replicas-to-write` and `min-replicas-max-lag`.
    pub min_replicas: (AtomicI64, AtomicI64),
    /// `notify-keyspace-events` as a bit per class letter (see [`notify_bit`]).
    pub notify_flags: std::sync::atomic::AtomicU32,
    /// The collection encoding thresholds, in [`EncodingLimits`] field order.
    encoding: [AtomicI64; 6],
    /// The access-tracking policy: 0 for LRU, else an LFU flag bit with `lfu-log-factor` and
    /// `lfu-decay-time` (31 bits each).
    access_policy: AtomicI64,
    /// `maxmemory` in bytes (0: no limit).
    maxmemory: AtomicU64,
    /// `maxmemory-policy` (the config's spelling, parsed once per change).
    maxmemory_policy: AtomicU8,
    /// `maxmemory-samples`.
    maxmemory_samples: AtomicI64,
    /// `replica-ignore-maxmemory`.
    replica_ignore_maxmemory: AtomicBool,
    /// `lazyfree-lazy-eviction`: evictions reach replicas as UNLINK instead of DEL.
    lazy_eviction: AtomicBool,
    /// `lazyfree-lazy-user-del`: DEL frees large values in the background, as UNLINK does.
    lazy_user_del: AtomicBool,
}

/// The memory limit in force, read before each command when `maxmemory` is set.
#[derive(Debug, Clone, Copy)]
pub struct MemoryLimit {
    pub bytes: u64,
    pub policy: crate::store::evict::EvictionPolicy,
    pub samples: usize,
    pub ignored_on_replica: bool,
    /// Propagate evictions as UNLINK (`lazyfree-lazy-eviction`).
    pub lazy: bool,
}

/// Marks an LFU policy in `HotSettings::access_policy`.
const LFU_FLAG: i64 = 1 << 62;

impl HotSettings {
    /// The `maxmemory` limit, or `None` when there is none (the usual case: one atomic load).
    pub fn memory_limit(&self) -> Option<MemoryLimit> {
        let bytes = self.maxmemory.load(Ordering::Relaxed);
        (bytes > 0).then(|| MemoryLimit {
            bytes,
            policy: crate::store::evict::EvictionPolicy::from_u8(
                self.maxmemory_policy.load(Ordering::Relaxed),
            ),
            samples: self.maxmemory_samples.load(Ordering::Relaxed).max(1) as usize,
            ignored_on_replica: self.replica_ignore_maxmemory.load(Ordering::Relaxed),
            lazy: self.lazy_eviction.load(Ordering::Relaxed),
        })
    }

    /// True when DEL frees like UNLINK (`lazyfree-lazy-user-del`).
    pub fn lazy_user_del(&self) -> bool {
        self.lazy_user_del.load(Ordering::Relaxed)
    }

    /// How keys' access fields are maintained (LRU clock or LFU counter).
    pub fn access_policy(&self) -> crate::store::access::AccessPolicy {
        let v = self.access_policy.load(Ordering::Relaxed);
        if v & LFU_FLAG == 0 {
            return crate::store::access::AccessPolicy::Lru;
        }
        crate::store::access::AccessPolicy::Lfu {
            log_factor: (v >> 31 & 0x7FFF_FFFF) as u32,
            decay_minutes: (v & 0x7FFF_FFFF) as u32,
        }
    }

    fn refresh(&self, cfg: &Config) {
        self.slowlog_slower_than
            .store(cfg.int("slowlog-log-slower-than"), Ordering::Relaxed);
        self.slowlog_max_len
            .store(cfg.int("slowlog-max-len"), Ordering::Relaxed);
        crate::logging::set_level(cfg.get("loglevel"));
        self.idle_timeout
            .store(cfg.int("timeout"), Ordering::Relaxed);
        self.min_replicas
            .0
            .store(cfg.int("min-replicas-to-write"), Ordering::Relaxed);
        self.min_replicas
            .1
            .store(cfg.int("min-replicas-max-lag"), Ordering::Relaxed);
        let flags = cfg
            .get("notify-keyspace-events")
            .bytes()
            .fold(0, |m, c| m | notify_bit(c));
        self.notify_flags.store(flags, Ordering::Relaxed);
        let eviction = crate::store::evict::EvictionPolicy::parse(cfg.get("maxmemory-policy"));
        let policy = if eviction.is_lfu() {
            LFU_FLAG
                | (cfg.int("lfu-log-factor") & 0x7FFF_FFFF) << 31
                | (cfg.int("lfu-decay-time") & 0x7FFF_FFFF)
        } else {
            0
        };
        self.access_policy.store(policy, Ordering::Relaxed);
        self.maxmemory
            .store(cfg.int("maxmemory").max(0) as u64, Ordering::Relaxed);
        self.maxmemory_policy
            .store(eviction as u8, Ordering::Relaxed);
        self.maxmemory_samples
            .store(cfg.int("maxmemory-samples"), Ordering::Relaxed);
        self.replica_ignore_maxmemory
            .store(cfg.bool("replica-ignore-maxmemory"), Ordering::Relaxed);
        self.lazy_eviction
            .store(cfg.bool("lazyfree-lazy-eviction"), Ordering::Relaxed);
        self.lazy_user_del
            .store(cfg.bool("lazyfree-lazy-user-del"), Ordering::Relaxed);
        let names = [
            "hash-max-listpack-entries",
            "hash-max-listpack-value",
            "zset-max-listpack-entries",
            "zset-max-listpack-value",
            "set-max-intset-entries",
            "list-max-listpack-size",
        ];
        for (slot, name) in self.encoding.iter().zip(names) {
            slot.store(cfg.int(name), Ordering::Relaxed);
        }
    }
}

/// The bit of one `notify-keyspace-events` letter; `A` stands for every event class.
pub fn notify_bit(c: u8) -> u32 {
    const CLASSES: &[u8] = b"g$lshzxetdmnKE";
    match c {
        b'A' => b"g$lshzxetd".iter().fold(0, |m, &x| m | notify_bit(x)),
        _ => CLASSES.iter().position(|&x| x == c).map_or(0, |i| 1 << i),
    }
}

impl HotSettings {
    /// The current collection encoding thresholds.
    pub fn encoding_limits(&self) -> EncodingLimits {
        let v = |i: usize| self.encoding[i].load(Ordering::Relaxed);
        let u = |i: usize| v(i).max(0) as usize;
        EncodingLimits {
            hash_max_listpack_entries: u(0),
            hash_max_listpack_value: u(1),
            zset_max_listpack_entries: u(2),
            zset_max_listpack_value: u(3),
            set_max_intset_entries: u(4),
            list_max_listpack_size: v(5),
        }
    }
}

/// Write access to the configuration; on drop the cached [`HotSettings`] and the log level are
/// refreshed, so no caller can forget to apply a change.
pub struct ConfigWriteGuard<'a> {
    guard: RwLockWriteGuard<'a, Config>,
    hot: &'a HotSettings,
}

impl std::ops::Deref for ConfigWriteGuard<'_> {
    type Target = Config;
    fn deref(&self) -> &Config {
        &self.guard
    }
}

impl std::ops::DerefMut for ConfigWriteGuard<'_> {
    fn deref_mut(&mut self) -> &mut Config {
        &mut self.guard
    }
}

impl Drop for ConfigWriteGuard<'_> {
    fn drop(&mut self) {
        self.hot.refresh(&self.guard);
    }
}

/// Wall-clock milliseconds derived from the monotonic clock, so the per-command time costs one
/// clock read (the one that also times the command for the slow log).
pub struct Clock {
    base: Instant,
    base_unix_ms: i64,
}

impl Clock {
    fn new() -> Self {
        Clock {
            base: Instant::now(),
            base_unix_ms: crate::store::now_ms(),
        }
    }

    /// Unix milliseconds at `t`.
    pub fn unix_ms(&self, t: Instant) -> i64 {
        self.base_unix_ms + t.saturating_duration_since(self.base).as_millis() as i64
    }
}

/// CLIENT PAUSE state.
#[derive(Clone, Copy, Debug)]
pub struct Pause {
    /// When the pause ends.
    pub until: Instant,
    /// `ALL` pauses every command; `WRITE` only writes.
    pub all: bool,
}

/// Everything shared by the connection tasks and the cron.
pub struct Shared {
    core: Mutex<Core>,
    config: RwLock<Config>,
    /// Commands by name, after rename-command.
    pub commands: CommandTable,
    clients: Mutex<BTreeMap<u64, Arc<ClientHandle>>>,
    /// INFO stats counters.
    pub stats: Stats,
    /// INFO's `instantaneous_*` rates, sampled by the cron.
    metrics: Mutex<metrics::Metrics>,
    /// Process start.
    pub started: Instant,
    /// INFO `run_id`: 40 random hex characters, new at every start.
    pub run_id: String,
    /// The TCP port we listen on.
    pub port: u16,
    next_client_id: AtomicU64,
    shutting_down: AtomicBool,
    shutdown: Notify,
    /// Number of clients in MONITOR mode (so the hot path skips the feed when zero).
    pub monitor_count: AtomicUsize,
    monitors: Mutex<Vec<Arc<ClientHandle>>>,
    pause: Mutex<Option<Pause>>,
    /// Woken by CLIENT UNPAUSE and the end of a failover's write pause.
    pub unpaused: Notify,
    /// Writes are paused by a coordinated failover (FAILOVER), independently of CLIENT PAUSE.
    failover_pause: AtomicBool,
    /// Set while either pause may be in effect: the per-batch check is one atomic load.
    any_pause: AtomicBool,
    /// Woken when a replica ACKs (WAIT).
    pub acks: Notify,
    /// The startup load's progress (`-LOADING`, INFO `loading_*`).
    pub loading: persistence::Loading,
    /// Path of the running executable (INFO `executable`).
    pub executable: String,
    /// Settings the hot path reads without locking.
    pub hot: HotSettings,
    /// The clock commands read their time from.
    pub clock: Clock,
    /// This value's own `Arc`, for work a command hands to a background thread (BGSAVE).
    me: std::sync::Weak<Shared>,
    /// The runtime, for tasks started from background threads (a scheduled BGSAVE).
    pub runtime: tokio::runtime::Handle,
    /// SHUTDOWN already wrote the final RDB (or was told not to): exit without saving again.
    final_save_done: AtomicBool,
}

/// Recovers a guard from a poisoned lock: a panicking handler must not take the server down.
fn relock<T>(r: Result<T, std::sync::PoisonError<T>>) -> T {
    r.unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    /// Counts bytes written to a replica (INFO `total_net_repl_output_bytes`).
    pub fn count_repl_output(&self, n: usize) {
        self.stats
            .net_repl_output_bytes
            .fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Counts bytes read from our master (INFO `total_net_repl_input_bytes`).
    pub fn count_repl_input(&self, n: usize) {
        self.stats
            .net_repl_input_bytes
            .fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Builds the shared state from the startup configuration.
    pub fn new(config: Config) -> Result<Arc<Self>, String> {
        let commands = CommandTable::new(&config.rename_commands)?;
        let dbs = config.int("databases").max(1) as usize;
        let port = config.int("port") as u16;
        let hot = HotSettings::default();
        hot.refresh(&config);
        Ok(Arc::new_cyclic(|me| Shared {
            core: Mutex::new(Core {
                ks: Keyspace::new(dbs),
                intro: Introspection::new(crate::store::now_ms() / 1000),
                blocked: BlockedClients::default(),
                pubsub: pubsub::PubSub::default(),
                persistence: persistence::Persistence::default(),
                repl: crate::replication::Replication::default(),
            }),
            config: RwLock::new(config),
            commands,
            clients: Mutex::new(BTreeMap::new()),
            stats: Stats::default(),
            metrics: Mutex::default(),
            started: Instant::now(),
            run_id: random_hex(40),
            port,
            next_client_id: AtomicU64::new(1),
            shutting_down: AtomicBool::new(false),
            shutdown: Notify::new(),
            loading: persistence::Loading::default(),
            monitor_count: AtomicUsize::new(0),
            monitors: Mutex::new(Vec::new()),
            pause: Mutex::new(None),
            unpaused: Notify::new(),
            failover_pause: AtomicBool::new(false),
            any_pause: AtomicBool::new(false),
            acks: Notify::new(),
            executable: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            hot,
            clock: Clock::new(),
            me: me.clone(),
            runtime: tokio::runtime::Handle::current(),
            final_save_done: AtomicBool::new(false),
        }))
    }

    /// Takes the keyspace lock. Never hold it across an `.await`.
    pub fn core(&self) -> MutexGuard<'_, Core> {
        relock(self.core.lock())
    }

    /// INFO's `instantaneous_*` rates.
    pub fn metrics(&self) -> MutexGuard<'_, metrics::Metrics> {
        relock(self.metrics.lock())
    }

    /// Reads the configuration.
    pub fn config(&self) -> RwLockReadGuard<'_, Config> {
        relock(self.config.read())
    }

    /// Changes the configuration; cached settings are refreshed when the guard drops.
    pub fn config_mut(&self) -> ConfigWriteGuard<'_> {
        ConfigWriteGuard {
            guard: relock(self.config.write()),
            hot: &self.hot,
        }
    }

    /// The registry of connected clients.
    pub fn clients(&self) -> MutexGuard<'_, BTreeMap<u64, Arc<ClientHandle>>> {
        relock(self.clients.lock())
    }

    /// Allocates the next CLIENT ID.
    pub fn next_client_id(&self) -> u64 {
        self.next_client_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The `Arc` this value lives in (`None` only while it is being dropped).
    pub fn self_arc(&self) -> Option<Arc<Shared>> {
        self.me.upgrade()
    }

    /// SHUTDOWN took care of the final save.
    pub fn mark_final_save_done(&self) {
        self.final_save_done.store(true, Ordering::SeqCst);
    }

    /// Starts a graceful shutdown.
    pub fn request_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        self.shutdown.notify_waiters();
        self.shutdown.notify_one();
    }

    /// True once shutdown started.
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    /// Adds a client to the MONITOR feed.
    pub fn add_monitor(&self, client: Arc<ClientHandle>) {
        let mut m = relock(self.monitors.lock());
        m.push(client);
        self.monitor_count.store(m.len(), Ordering::SeqCst);
    }

    /// Removes a client from the MONITOR feed (it disconnected).
    pub fn remove_monitor(&self, id: u64) {
        let mut m = relock(self.monitors.lock());
        m.retain(|c| c.id != id);
        self.monitor_count.store(m.len(), Ordering::SeqCst);
    }

    /// Sends one MONITOR line to every monitor.
    pub fn feed_monitors(&self, line: bytes::Bytes) {
        for m in relock(self.monitors.lock()).iter() {
            m.push(line.clone());
        }
    }

    /// The pause in effect, if any: CLIENT PAUSE while it lasts, else a failover's write pause
    /// (which lasts until the failover ends).
    pub fn pause(&self) -> Option<Pause> {
        if !self.any_pause.load(Ordering::Acquire) {
            return None;
        }
        let mut p = relock(self.pause.lock());
        match *p {
            Some(pause) if pause.until > Instant::now() => return Some(pause),
            Some(_) => {
                *p = None;
                self.any_pause.store(
                    self.failover_pause.load(Ordering::Acquire),
                    Ordering::Release,
                );
            }
            None => {}
        }
        self.failover_pause.load(Ordering::Acquire).then(|| Pause {
            until: Instant::now() + Duration::from_secs(3600),
            all: false,
        })
    }

    /// Whether writes are paused right now: expiry, replica PINGs and GETACKs then wait too,
    /// so the stream does not move while a failover waits for a replica to catch up.
    pub fn writes_paused(&self) -> bool {
        self.pause().is_some()
    }

    /// Starts or ends a failover's write pause.
    pub fn set_failover_pause(&self, on: bool) {
        let p = relock(self.pause.lock());
        self.failover_pause.store(on, Ordering::Release);
        self.any_pause.store(on || p.is_some(), Ordering::Release);
        drop(p);
        if !on {
            self.unpaused.notify_waiters();
        }
    }

    /// Sets or clears CLIENT PAUSE.
    pub fn set_pause(&self, pause: Option<Pause>) {
        let mut p = relock(self.pause.lock());
        *p = pause;
        self.any_pause.store(
            pause.is_some() || self.failover_pause.load(Ordering::Acquire),
            Ordering::Release,
        );
        drop(p);
        if pause.is_none() {
            self.unpaused.notify_waiters();
        }
    }
}

/// `n` random lowercase hex characters (run ids, replication ids).
pub fn random_hex(n: usize) -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..n)
        .map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap_or('0'))
        .collect()
}

/// Parses one `bind` entry into an address; `*` and `::*` mean every IPv4 / IPv6 interface.
fn bind_addr(entry: &str) -> Option<IpAddr> {
    match entry {
        "*" => Some(IpAddr::from([0, 0, 0, 0])),
        "::*" => Some(IpAddr::from([0u16; 8])),
        _ => entry.parse().ok(),
    }
}

/// Binds one listening socket with the configured `tcp-backlog` (tokio's `bind` would fix it).
fn listen(addr: SocketAddr, backlog: i32) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    TcpListener::from_std(socket.into())
}

/// Binds every `bind` address; entries prefixed with `-` are optional.
async fn bind_all(cfg: &Config) -> Result<Vec<TcpListener>, String> {
    let port = cfg.int("port") as u16;
    let backlog = cfg.int("tcp-backlog").clamp(1, i32::MAX as i64) as i32;
    let mut listeners = Vec::new();
    for entry in cfg.get("bind").split_whitespace() {
        let (optional, addr) = match entry.strip_prefix('-') {
            Some(a) => (true, a),
            None => (false, entry),
        };
        let Some(ip) = bind_addr(addr) else {
            return Err(format!("Invalid bind address '{addr}'"));
        };
        match listen(SocketAddr::new(ip, port), backlog) {
            Ok(l) => listeners.push(l),
            Err(e) if optional => info!("Skipping optional bind address {addr}:{port}: {e}"),
            Err(e) => {
                return Err(format!(
                    "Warning: Could not create server TCP listening socket {addr}:{port}: {e}"
                ))
            }
        }
    }
    if listeners.is_empty() {
        return Err(format!("Failed listening on port {port} (tcp), aborting."));
    }
    Ok(listeners)
}

/// Runs the server until SHUTDOWN or a signal; returns the process exit status.
pub async fn run(config: Config) -> i32 {
    info!("oO0OoO0OoO0Oo Resplica is starting oO0OoO0OoO0Oo");
    info!(
        "Resplica version={RESPLICA_VERSION}, redis_version={REDIS_VERSION}, bits=64, pid={}, just started",
        std::process::id()
    );
    match &config.file {
        Some(f) => info!("Configuration loaded from {}", f.display()),
        None => warn!("Warning: no config file specified, using the default config. In order to specify a config file use resplica /path/to/redis.conf"),
    }
    let listeners = match bind_all(&config).await {
        Ok(l) => l,
        Err(e) => {
            warn!("{e}");
            return 1;
        }
    };
    let shared = match Shared::new(config) {
        Ok(s) => s,
        Err(e) => {
            warn!("Fatal: {e}");
            return 1;
        }
    };
    crate::logging::set_role(b'M');
    info!(
        "Running mode=standalone, port={}. PID: {}",
        shared.port,
        std::process::id()
    );
    info!("Server initialized");
    // Clients are accepted while the dataset loads; they get -LOADING until it is in place.
    let rdb_file = persistence::rdb_path(&shared.config());
    if let Ok(meta) = std::fs::metadata(&rdb_file) {
        shared.loading.begin(meta.len());
    }
    for listener in listeners {
        tokio::spawn(connection::accept_loop(shared.clone(), listener));
    }
    tokio::spawn(cron(shared.clone()));
    // Installed before "Ready": a SIGTERM right after it must shut down gracefully, not kill.
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(term), Ok(int)) => {
            tokio::spawn(signals(shared.clone(), term, int));
        }
        _ => warn!("Could not install signal handlers"),
    }
    match load_at_startup(&shared).await {
        Some(0) => {}
        Some(code) => return code,
        None => {
            warn!("Shutdown requested while loading the dataset: exiting without saving.");
            return 0;
        }
    }
    info!("Ready to accept connections");
    loop {
        while !shared.is_shutting_down() {
            shared.shutdown.notified().await;
        }
        if shared.final_save_done.load(Ordering::SeqCst) || signal_shutdown_save(&shared) {
            break;
        }
        // As Redis: a failed final save keeps the server running, so no write is lost.
        warn!("Errors trying to shut down the server. Check the logs for more information.");
        shared.shutting_down.store(false, Ordering::SeqCst);
    }
    for client in shared.clients().values() {
        client.kill();
    }
    info!("Resplica is now ready to exit, bye bye...");
    0
}

/// The final save of a shutdown started by a signal: done when save points exist. Returns
/// whether the server may exit.
fn signal_shutdown_save(shared: &Arc<Shared>) -> bool {
    let cfg = shared.config().clone();
    if !persistence::has_save_points(&cfg) || shared.loading.is_active() {
        return true;
    }
    let mut core = shared.core();
    let core = &mut *core;
    persistence::kill_bgsave(&mut core.ks, &mut core.persistence);
    info!("Saving the final RDB snapshot before exiting.");
    let repl = core.repl.rdb_aux();
    match persistence::save_foreground(
        &mut core.ks,
        &mut core.persistence,
        &mut core.intro.last_save,
        &cfg,
        repl,
    ) {
        Ok(()) => true,
        Err(e) => {
            warn!("Error trying to save the DB, can't exit: {e}");
            false
        }
    }
}

/// The periodic task Redis calls `serverCron`: active expiry and incremental rehashing, `hz`
/// times per second.
async fn cron(shared: Arc<Shared>) {
    loop {
        let hz = shared.config().int("hz").clamp(1, 500) as u64;
        tokio::time::sleep(Duration::from_millis(1000 / hz)).await;
        let budget = Duration::from_micros(1_000_000 / hz / 4);
        let mut core = shared.core();
        let core = &mut *core;
        if !shared.writes_paused() {
            core.ks.active_expire_cycle(budget);
        }
        if !core.ks.expired_log.is_empty() {
            // Active expiry: one bare DEL per key, never wrapped.
            for (db, key) in std::mem::take(&mut core.ks.expired_log) {
                use crate::commands::{announce_deletion, Deletion};
                announce_deletion(
                    &shared,
                    &core.pubsub,
                    &mut core.repl,
                    db,
                    key,
                    Deletion::Expired,
                );
                core.repl.flush_unit();
            }
        }
        replication_cron(&shared, core);
        shared.metrics().sample(&shared.stats);
        memory::note_peak();
        core.repl.flush_outbox();
        enforce_output_limits(&shared);
        core.ks.rehash_step();
        persistence::check_save_points(&shared, core);
    }
}

/// Master-side replication housekeeping: the counted PING every `repl-ping-replica-period`,
/// freeing the backlog after `repl-backlog-ttl` without replicas, output-buffer limits.
/// `client-output-buffer-limit <class> <hard> <soft> <soft-seconds>` for replicas and pub/sub
/// clients: a client whose undelivered output exceeds the hard limit, or stays above the soft
/// limit for the soft period, is disconnected (logged as Redis does) instead of growing memory.
/// A replica's hard limit is never below the backlog size, as in Redis.
fn enforce_output_limits(shared: &Arc<Shared>) {
    let (limits, backlog) = {
        let cfg = shared.config();
        let v: Vec<i64> = cfg
            .get("client-output-buffer-limit")
            .split_whitespace()
            .filter_map(|v| v.parse().ok())
            .collect();
        (v, cfg.int("repl-backlog-size"))
    };
    // normal h s t slave h s t pubsub h s t (class names are not numbers).
    let class = |i: usize| -> (i64, i64, i64) {
        let at = |j: usize| limits.get(i * 3 + j).copied().unwrap_or(0);
        (at(0), at(1), at(2))
    };
    let now = crate::store::now_ms();
    for c in shared.clients().values() {
        let (kind, flag) = match c.info().kind {
            ClientKind::Replica => (1, 'S'),
            ClientKind::PubSub => (2, 'P'),
            _ => continue,
        };
        let (mut hard, soft, secs) = class(kind);
        if kind == 1 {
            hard = hard.max(backlog);
        }
        let queued = c.queued() as i64;
        let over_hard = hard > 0 && queued > hard;
        let over_soft_too_long = soft > 0 && queued > soft && c.over_soft_for(now) > secs * 1000;
        if soft > 0 && queued <= soft {
            c.clear_over_soft();
        }
        if (over_hard || over_soft_too_long) && !c.is_killed() {
            warn!(
                "Client id={} addr={} flags={flag} omem={queued} scheduled to be closed ASAP for overcoming of output buffer limits.",
                c.id, c.addr
            );
            c.kill();
        }
    }
}

fn replication_cron(shared: &Arc<Shared>, core: &mut Core) {
    let (period, ttl) = {
        let cfg = shared.config();
        (
            cfg.int("repl-ping-replica-period").max(1) as u64,
            cfg.int("repl-backlog-ttl"),
        )
    };
    crate::replication::failover::update(shared, &mut core.repl, &mut core.ks);
    core.repl.tick_rate();
    let now = crate::store::now_ms() / 1000;
    let paused = shared.writes_paused();
    if (now as u64).is_multiple_of(period) && core.repl.last_ping != now && !paused {
        core.repl.last_ping = now;
        core.repl.ping_replicas();
    }
    if let (Some(since), true) = (
        core.repl.alone_since,
        core.repl.backlog.is_some() && ttl > 0,
    ) {
        if since.elapsed().as_secs() >= ttl as u64 {
            core.repl.free_backlog();
            core.repl.replid = random_hex(40);
            core.repl.replid2 = crate::replication::NO_REPLID.to_string();
            core.repl.second_replid_offset = -1;
            info!("Replication backlog freed after {ttl} seconds without connected replicas.");
        }
    }
}

/// Loads the RDB file on a blocking thread into a staging keyspace (clients meanwhile get
/// `-LOADING`), swaps it in, restores the replication position and starts `replicaof`.
/// Returns the exit code to stop with (`Some(0)` to carry on), or `None` when a shutdown was
/// requested during the load.
async fn load_at_startup(shared: &Arc<Shared>) -> Option<i32> {
    let (path, limits, replicaof, backlog_size, dbs) = {
        let cfg = shared.config();
        (
            persistence::rdb_path(&cfg),
            shared.hot.encoding_limits(),
            cfg.replicaof.clone(),
            cfg.backlog_size(),
            cfg.int("databases").max(1) as usize,
        )
    };
    let is_replica = replicaof.is_some();
    let loader = shared.clone();
    let load_path = path.clone();
    let load = tokio::task::spawn_blocking(move || {
        let mut staging = Keyspace::new(dbs);
        staging.is_replica = is_replica;
        let result =
            persistence::load_file(&mut staging, &load_path, limits, Some(&loader.loading));
        (staging, result)
    });
    tokio::pin!(load);
    let result = loop {
        tokio::select! {
            r = &mut load => break r.map_err(|e| e.to_string()).and_then(|(staging, loaded)| {
                loaded.map(|l| (staging, l))
            }),
            _ = shared.shutdown.notified() => {
                if shared.is_shutting_down() {
                    return None;
                }
            }
        }
    };
    let (staging, loaded) = match result {
        Ok(done) => done,
        Err(e) => {
            warn!(
                "Fatal error loading the DB ({}): {e}. Exiting.",
                path.display()
            );
            return Some(1);
        }
    };
    let mut core = shared.core();
    let core = &mut *core;
    core.ks.replace_all(staging);
    core.ks.dirty = 0;
    core.ks.is_replica = is_replica;
    if let Some(persistence::Loaded {
        repl: Some((id, offset)),
        ..
    }) = loaded
    {
        core.repl
            .restore_from_rdb(id, offset, is_replica, backlog_size);
    }
    if let Some((host, port)) = replicaof {
        crate::replication::replica::become_replica(
            shared,
            &mut core.repl,
            &mut core.ks,
            host,
            port,
        );
    }
    shared.loading.end();
    Some(0)
}

/// SIGTERM and SIGINT start a graceful shutdown.
async fn signals(
    shared: Arc<Shared>,
    mut term: tokio::signal::unix::Signal,
    mut int: tokio::signal::unix::Signal,
) {
    let name = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    };
    warn!("Received {name} scheduling shutdown...");
    shared.request_shutdown();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hot_settings_follow_the_config() {
        let mut cfg = Config::default();
        cfg.set_many(
            &[
                ("notify-keyspace-events".into(), "Kx".into()),
                ("hash-max-listpack-entries".into(), "7".into()),
            ],
            false,
        )
        .unwrap();
        let hot = HotSettings::default();
        hot.refresh(&cfg);
        let limits = hot.encoding_limits();
        assert_eq!(limits.hash_max_listpack_entries, 7);
        assert_eq!(limits.zset_max_listpack_entries, 128);
        assert_eq!(limits.list_max_listpack_size, -2);
        let flags = hot.notify_flags.load(Ordering::Relaxed);
        assert_eq!(flags, notify_bit(b'K') | notify_bit(b'x'));
        assert_eq!(notify_bit(b'A') & notify_bit(b'm'), 0);
    }
}
