//! RDB persistence: SAVE (foreground), fork-free BGSAVE, save points, loading at startup, and
//! the figures INFO persistence reports.
//!
//! BGSAVE takes a point-in-time snapshot under the keyspace lock in one step
//! ([`Keyspace::begin_snapshot`]), then a background thread pulls the snapshot in small chunks
//! (briefly taking the lock per chunk) and encodes them outside the lock. Files are written to
//! a temporary name in `dir`, fsynced and renamed, so a crash mid-save leaves the previous file.

use super::{Core, Shared};
use crate::atomic_file::AtomicFile;
use crate::config::Config;
use crate::rdb::{self, Aux, Options, ReplAux, Writer};
use crate::store::{ItemValue, Keyspace, SnapshotBatch, SnapshotItem};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use tracing::{info, warn};

/// Entries pulled from the snapshot per lock acquisition.
const CHUNK: usize = 256;
/// Seconds between progress log lines during long saves and loads.
const PROGRESS_EVERY_SECS: u64 = 5;
/// After a failed background save, automatic saves wait this long before retrying (Redis's
/// CONFIG_BGSAVE_RETRY_DELAY).
const RETRY_DELAY_SECS: i64 = 5;

/// Progress of the startup load, readable without the keyspace lock: while it is active, clients
/// are served `-LOADING` (commands without the `loading` flag) and INFO shows `loading_*`.
#[derive(Debug, Default)]
pub struct Loading {
    active: std::sync::atomic::AtomicBool,
    /// Unix seconds the load started.
    started: std::sync::atomic::AtomicI64,
    total_bytes: std::sync::atomic::AtomicU64,
    loaded_bytes: std::sync::atomic::AtomicU64,
}

impl Loading {
    /// Whether the dataset is still being loaded.
    pub fn is_active(&self) -> bool {
        self.active.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Marks a load of `total` bytes as started (before clients are accepted).
    pub fn begin(&self, total: u64) {
        use std::sync::atomic::Ordering::Relaxed;
        self.started.store(crate::store::now_ms() / 1000, Relaxed);
        self.total_bytes.store(total, Relaxed);
        self.loaded_bytes.store(0, Relaxed);
        self.active
            .store(true, std::sync::atomic::Ordering::Release);
    }

    fn progress(&self, loaded: u64) {
        self.loaded_bytes
            .store(loaded, std::sync::atomic::Ordering::Relaxed);
    }

    /// The load is over (loaded or failed).
    pub fn end(&self) {
        self.active
            .store(false, std::sync::atomic::Ordering::Release);
    }

    /// INFO persistence's `loading_*` lines, as Redis prints them during a load.
    pub fn info(&self, rdb_used_mem: u64) -> String {
        use std::sync::atomic::Ordering::Relaxed;
        let (started, total, loaded) = (
            self.started.load(Relaxed),
            self.total_bytes.load(Relaxed),
            self.loaded_bytes.load(Relaxed),
        );
        let perc = if total > 0 {
            loaded as f64 / total as f64 * 100.0
        } else {
            0.0
        };
        let elapsed = (crate::store::now_ms() / 1000 - started).max(0) as u64;
        let eta = if loaded > 0 && elapsed > 0 {
            (total.saturating_sub(loaded) as f64 / (loaded as f64 / elapsed as f64)) as i64
        } else {
            1
        };
        format!(
            "loading_start_time:{started}\r\nloading_total_bytes:{total}\r\nloading_rdb_used_mem:{rdb_used_mem}\r\nloading_loaded_bytes:{loaded}\r\nloading_loaded_perc:{perc:.2}\r\nloading_eta_seconds:{eta}\r\n"
        )
    }
}

/// Persistence state kept under the keyspace lock.
#[derive(Debug)]
pub struct Persistence {
    /// When the running background save started.
    pub bgsave_started: Option<Instant>,
    /// Whether the last background save succeeded (INFO `rdb_last_bgsave_status`).
    pub last_bgsave_ok: bool,
    /// Duration of the last background save in seconds, -1 before any.
    pub last_bgsave_secs: i64,
    /// Successful saves since start (INFO `rdb_saves`).
    pub saves: u64,
    /// `dirty` when the running background save began (subtracted when it succeeds).
    dirty_at_start: u64,
    /// Unix seconds of the last save attempt (for the retry delay).
    pub last_try: i64,
    /// BGSAVE SCHEDULE asked for a save once the running one ends.
    pub scheduled: bool,
    /// Snapshot id of the running background save.
    snapshot_id: u64,
}

impl Default for Persistence {
    fn default() -> Self {
        Persistence {
            bgsave_started: None,
            last_bgsave_ok: true,
            last_bgsave_secs: -1,
            saves: 0,
            dirty_at_start: 0,
            last_try: 0,
            scheduled: false,
            snapshot_id: 0,
        }
    }
}

/// Where the RDB file lives: `dbfilename` inside the working directory (`dir`).
pub fn rdb_path(cfg: &Config) -> PathBuf {
    PathBuf::from(cfg.get("dbfilename"))
}

fn options(cfg: &Config) -> Options {
    Options {
        compression: cfg.bool("rdbcompression"),
        checksum: cfg.bool("rdbchecksum"),
    }
}

/// Lowers the calling thread's scheduling priority (nice 19): BGSAVE's encoder then takes only
/// the CPU that clients leave idle, so a save slows down under load instead of the clients. The
/// snapshot-on-write design keeps a longer save's memory bounded by what changes meanwhile. (A
/// full sync's encoder keeps normal priority: see `replication::master`.)
fn background_priority() {
    // SAFETY: plain syscalls on the calling thread's own id; failure only leaves the priority.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 19);
    }
}

/// The entries of a snapshot, cut on the event loop and handed to an encoder thread.
///
/// The keyspace lock is only ever taken by the feeder task, which runs among the client tasks and
/// yields after each step: the encoder thread never holds the lock, so it cannot be descheduled
/// while clients wait for it, and it never competes with them for it.
pub struct SnapshotFeed {
    rx: tokio::sync::mpsc::Receiver<Option<(SnapshotBatch, bool)>>,
    /// Written chunks go back to the feeder to be filled again.
    recycle: std::sync::mpsc::Sender<SnapshotBatch>,
    /// Database sizes at the cut (RESIZEDB hints).
    sizes: Vec<crate::store::DbSizes>,
    /// The database the last entry written belongs to.
    current_db: Option<usize>,
}

/// Feed batches queued ahead of the encoder.
const FEED_AHEAD: usize = 8;

/// How a snapshot's walk shares the event loop with busy clients.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Walk {
    /// Yields to them ([`WalkPacer`]): a BGSAVE may take longer, clients must not notice it.
    Background,
    /// Full speed: until a full sync ends the replica is out of date and the master buffers its
    /// stream, so finishing it sooner beats sparing clients.
    Urgent,
}

/// Clients that spend at least this share of the time between two walk steps executing
/// commands keep the server busy.
const BUSY_CLIENTS: f64 = 0.15;
/// The walk's share of the time while clients keep the server busy.
const BUSY_SHARE: f64 = 0.06;
/// The walk's rest between steps while clients keep the server busy.
const BUSY_REST: std::time::Duration = std::time::Duration::from_millis(1);
/// Bounds of a paced step, in entries: some progress always, and no long hold of the lock.
const BUSY_STEP_MIN: usize = 64;
const BUSY_STEP_MAX: usize = 2048;

/// Paces a snapshot's walk against client load. The walk runs among the client tasks, and on a
/// saturated machine every entry it cuts is time taken from clients (and from whatever shares
/// the cores with the server). While clients keep the server busy, the walk takes about
/// `BUSY_SHARE` of the time in steps with rests between them: a save under heavy load takes
/// longer instead of costing clients (Dragonfly runs its snapshot at background priority for
/// the same reason). When clients are idle or light, it walks at full speed.
#[derive(Default)]
struct WalkPacer {
    /// When the last step ended, with the clients' execution time (`Introspection::exec_nanos`)
    /// then.
    last: Option<(Instant, u64)>,
    /// When the current step started.
    started: Option<Instant>,
    /// Nanoseconds the last step took per entry of its budget.
    entry_ns: f64,
    /// Whether clients kept the server busy since the last step.
    busy: bool,
}

impl WalkPacer {
    /// Entries to cut in the step starting `now`; `exec_nanos` is the clients' execution time
    /// so far, `step` the unpaced size.
    fn begin(&mut self, now: Instant, exec_nanos: u64, step: usize) -> usize {
        self.started = Some(now);
        let Some((at, exec_then)) = self.last else {
            return step;
        };
        let gap = now.duration_since(at).as_nanos() as f64;
        let clients = exec_nanos.saturating_sub(exec_then) as f64;
        self.busy = clients >= BUSY_CLIENTS * gap;
        if !self.busy || self.entry_ns <= 0.0 {
            return step;
        }
        ((BUSY_SHARE * gap / self.entry_ns) as usize).clamp(BUSY_STEP_MIN, BUSY_STEP_MAX)
    }

    /// The step of `budget` entries ended at `now`.
    fn end(&mut self, now: Instant, budget: usize, exec_nanos: u64) {
        if let (Some(started), true) = (self.started, budget > 0) {
            self.entry_ns = now.duration_since(started).as_nanos() as f64 / budget as f64;
        }
        self.last = Some((now, exec_nanos));
    }
}

impl SnapshotFeed {
    /// Starts the feeder task of snapshot `id`, whose databases had `sizes` at the cut.
    pub fn start(
        shared: &Arc<Shared>,
        id: u64,
        sizes: Vec<crate::store::DbSizes>,
        step: usize,
        walk: Walk,
    ) -> SnapshotFeed {
        let (tx, rx) = tokio::sync::mpsc::channel(FEED_AHEAD);
        let (recycle, recycled) = std::sync::mpsc::channel::<SnapshotBatch>();
        let feeder = shared.clone();
        shared.runtime.spawn(async move {
            // Only a background walk is paced.
            let mut pacer = (walk == Walk::Background).then(WalkPacer::default);
            loop {
                let mut batch = recycled.try_recv().unwrap_or_default();
                let done = {
                    let mut core = feeder.core();
                    let core = &mut *core;
                    let exec = core.intro.exec_nanos;
                    let budget = pacer
                        .as_mut()
                        .map_or(step, |p| p.begin(Instant::now(), exec, step));
                    let done = core.ks.snapshot_step(id, budget, &mut batch);
                    if let Some(p) = pacer.as_mut() {
                        p.end(Instant::now(), budget, exec);
                    }
                    done
                };
                let last = matches!(done, None | Some(true));
                if tx.send(done.map(|d| (batch, d))).await.is_err() || last {
                    return;
                }
                if pacer.as_ref().is_some_and(|p| p.busy) {
                    tokio::time::sleep(BUSY_REST).await;
                } else {
                    tokio::task::yield_now().await;
                }
            }
        });
        SnapshotFeed {
            rx,
            recycle,
            sizes,
            current_db: None,
        }
    }

    /// Encoder side (blocking): writes the next entries to `w`, starting each database with
    /// SELECTDB/RESIZEDB. Returns how many were written and whether the snapshot is complete; an
    /// error when it was aborted.
    pub fn write_next<W: std::io::Write>(
        &mut self,
        w: &mut Writer<W>,
    ) -> std::io::Result<(usize, bool)> {
        let Some((items, done)) = self.rx.blocking_recv().flatten() else {
            return Err(std::io::Error::other("the snapshot was aborted"));
        };
        let written = items.len();
        for SnapshotItem {
            db,
            key,
            value,
            expire_ms,
        } in items.iter()
        {
            if self.current_db != Some(db) {
                let s = self.sizes.get(db).copied().unwrap_or_default();
                w.select_db(db, s.keys, s.expires)?;
                self.current_db = Some(db);
            }
            match value {
                ItemValue::Str(s) => w.string_entry(key, s, expire_ms)?,
                ItemValue::Value(v) => w.entry(key, v, expire_ms)?,
            }
        }
        if let Some(empty) = items.recycle() {
            // The feeder may be gone (last chunk): the chunk is then simply freed.
            let _ = self.recycle.send(empty);
        }
        Ok((written, done))
    }
}

/// The temporary file a save (or a replica's kept transfer) writes before renaming it over
/// `path`.
pub fn temp_path(path: &Path) -> PathBuf {
    path.with_file_name(format!(
        "temp-{}-{}.rdb",
        std::process::id(),
        crate::store::now_ms()
    ))
}

/// Writes `path` atomically through `fill`, which streams the RDB into the writer.
fn write_file(
    path: &Path,
    opts: Options,
    list_fill: i64,
    repl: Option<ReplAux>,
    fill: impl FnOnce(&mut Writer<AtomicFile>) -> std::io::Result<()>,
) -> std::io::Result<u64> {
    let file = AtomicFile::create(path, temp_path(path))?;
    let mut w = Writer::new(file, opts).with_list_fill(list_fill);
    w.header(&Aux {
        used_mem: super::memory::used(),
        repl,
        ..Aux::default()
    })?;
    fill(&mut w)?;
    let bytes = w.bytes_written();
    w.finish()?.commit()?;
    Ok(bytes)
}

/// SAVE: writes every database now, holding the lock (Redis's SAVE blocks the server too).
/// `last_save` is LASTSAVE's time, updated on success.
pub fn save_foreground(
    ks: &mut Keyspace,
    p: &mut Persistence,
    last_save: &mut i64,
    cfg: &Config,
    repl: Option<ReplAux>,
) -> Result<(), String> {
    if p.bgsave_started.is_some() {
        return Err("Background save already in progress".into());
    }
    let path = rdb_path(cfg);
    let ks_ref = &*ks;
    let result = write_file(
        &path,
        options(cfg),
        cfg.int("list-max-listpack-size"),
        repl,
        |w| {
            for db in 0..ks_ref.db_count() {
                let d = ks_ref.db(db);
                if d.keys.is_empty() {
                    continue;
                }
                w.select_db(db, d.keys.len(), d.expires.len())?;
                for (key, entry) in d.keys.iter() {
                    w.entry(key, &entry.value, d.expires.get(key).copied())?;
                }
            }
            Ok(())
        },
    );
    match result {
        Ok(_) => {
            info!("DB saved on disk");
            ks.dirty = 0;
            *last_save = crate::store::now_ms() / 1000;
            p.saves += 1;
            Ok(())
        }
        Err(e) => {
            warn!("Failed opening the temp RDB file or writing it: {e}");
            Err(e.to_string())
        }
    }
}

/// BGSAVE: takes the snapshot now and encodes it on a background thread.
pub fn start_bgsave(
    shared: &Arc<Shared>,
    ks: &mut Keyspace,
    p: &mut Persistence,
    repl: Option<ReplAux>,
) -> Result<(), String> {
    if p.bgsave_started.is_some() {
        return Err("Background save already in progress".into());
    }
    // A replica's full sync may hold the one snapshot slot.
    let Some((snap_id, sizes)) = ks.begin_snapshot() else {
        return Err("Background save already in progress".into());
    };
    let cfg = shared.config().clone();
    p.snapshot_id = snap_id;
    p.bgsave_started = Some(Instant::now());
    p.dirty_at_start = ks.dirty;
    p.last_try = crate::store::now_ms() / 1000;
    info!("Background saving started");
    let shared = shared.clone();
    let mut feed = SnapshotFeed::start(&shared, snap_id, sizes, CHUNK, Walk::Background);
    let spawned = std::thread::Builder::new()
        .name("bgsave".into())
        .spawn(move || {
            background_priority();
            let started = Instant::now();
            let path = rdb_path(&cfg);
            let mut last_progress = Instant::now();
            let result = write_file(
                &path,
                options(&cfg),
                cfg.int("list-max-listpack-size"),
                repl,
                |w| {
                    let mut written = 0;
                    loop {
                        let (n, done) = feed.write_next(w)?;
                        written += n;
                        if last_progress.elapsed().as_secs() >= PROGRESS_EVERY_SECS {
                            info!(
                                "Background saving in progress: {written} keys written, {:.1} MB",
                                w.bytes_written() as f64 / 1e6
                            );
                            last_progress = Instant::now();
                        }
                        if done {
                            return Ok(());
                        }
                    }
                },
            );
            finish_bgsave(&shared, snap_id, result.map_err(|e| e.to_string()), started);
        });
    if let Err(e) = spawned {
        ks.abort_snapshot();
        p.bgsave_started = None;
        return Err(format!("Can't save in background: {e}"));
    }
    Ok(())
}

fn finish_bgsave(
    shared: &Arc<Shared>,
    snap_id: u64,
    result: Result<u64, String>,
    started: Instant,
) {
    let mut core = shared.core();
    let core = &mut *core;
    core.ks.abort_snapshot_id(snap_id);
    let p = &mut core.persistence;
    if p.bgsave_started.is_none() || p.snapshot_id != snap_id {
        // Killed (FLUSHALL, SHUTDOWN): its partial file was discarded; not an error.
        info!("Background saving terminated by request");
        return;
    }
    p.bgsave_started = None;
    p.last_bgsave_secs = started.elapsed().as_secs() as i64;
    match result {
        Ok(bytes) => {
            info!(
                "Background saving terminated with success ({:.1} MB in {:.3} s)",
                bytes as f64 / 1e6,
                started.elapsed().as_secs_f64()
            );
            p.last_bgsave_ok = true;
            p.saves += 1;
            core.ks.dirty = core.ks.dirty.saturating_sub(p.dirty_at_start);
            core.intro.last_save = crate::store::now_ms() / 1000;
        }
        Err(e) => {
            warn!("Background saving error: {e}");
            p.last_bgsave_ok = false;
        }
    }
    if std::mem::take(&mut core.persistence.scheduled) {
        let repl = core.repl.rdb_aux();
        if let Err(e) = start_bgsave(shared, &mut core.ks, &mut core.persistence, repl) {
            warn!("Scheduled background save failed to start: {e}");
        }
    }
}

/// Kills the running background save, if any (FLUSHALL, SHUTDOWN): its snapshot is dropped, its
/// thread discards the partial file, and the last save status is left as it was.
pub fn kill_bgsave(ks: &mut Keyspace, p: &mut Persistence) {
    if p.bgsave_started.take().is_some() {
        warn!("Killing the running background save");
        ks.abort_snapshot_id(p.snapshot_id);
    }
}

/// Called from the cron: starts a background save when a `save` point is reached.
pub fn check_save_points(shared: &Arc<Shared>, core: &mut Core) {
    if core.persistence.bgsave_started.is_some() || core.ks.dirty == 0 {
        return;
    }
    let points: Vec<i64> = shared
        .config()
        .get("save")
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    let now = crate::store::now_ms() / 1000;
    let since_save = now - core.intro.last_save;
    let retry_ok =
        core.persistence.last_bgsave_ok || now - core.persistence.last_try > RETRY_DELAY_SECS;
    for pair in points.chunks(2) {
        let [secs, changes] = pair else { continue };
        if core.ks.dirty as i64 >= *changes && since_save >= *secs && retry_ok {
            info!("{changes} changes in {secs} seconds. Saving...");
            let repl = core.repl.rdb_aux();
            if let Err(e) = start_bgsave(shared, &mut core.ks, &mut core.persistence, repl) {
                warn!("{e}");
            }
            return;
        }
    }
}

/// True when `save` has at least one save point.
pub fn has_save_points(cfg: &Config) -> bool {
    !cfg.get("save").trim().is_empty()
}

/// What loading a file found.
#[derive(Debug, Default)]
pub struct Loaded {
    pub keys: u64,
    pub expired: u64,
    /// `repl-id` / `repl-offset` aux fields, for resuming replication.
    pub repl: Option<(String, i64)>,
}

/// Loads `path` into the (empty) keyspace. Keys whose time already passed are skipped on a
/// master, as Redis does. A missing file is not an error.
pub fn load_file(
    ks: &mut Keyspace,
    path: &Path,
    limits: crate::store::EncodingLimits,
    progress: Option<&Loading>,
) -> Result<Option<Loaded>, String> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("Can't open {}: {e}", path.display())),
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let started = Instant::now();
    let mut reader = rdb::Reader::with_len(BufReader::with_capacity(1 << 20, file), len)
        .map_err(|e| e.to_string())?
        .with_limits(limits)
        .with_databases(ks.db_count());
    if let Some(v) = reader.aux_field("redis-ver") {
        info!(
            "Loading RDB produced by version {}",
            String::from_utf8_lossy(v)
        );
    }
    let now = crate::store::now_ms();
    // Loading is Redis's dbAddRDBLoad: no `new` events (DEBUG RELOAD runs inside a command).
    ks.log_new = false;
    let mut loaded = Loaded::default();
    let mut last_progress = Instant::now();
    let is_replica = ks.is_replica;
    let (mut seen, mut expired) = (0u64, 0u64);
    loaded.keys = rdb::load_into(&mut reader, ks, |e, offset| {
        if e.expire_ms.is_some_and(|at| at <= now) && !is_replica {
            expired += 1;
            return false;
        }
        seen += 1;
        if seen % 1024 == 0 {
            if let Some(p) = progress {
                p.progress(offset);
            }
            if last_progress.elapsed().as_secs() >= PROGRESS_EVERY_SECS {
                info!(
                    "Loading in progress: {seen} keys loaded, {:.1} MB of {:.1} MB",
                    offset as f64 / 1e6,
                    len as f64 / 1e6
                );
                last_progress = Instant::now();
            }
        }
        true
    })
    .map_err(|e| e.to_string())?;
    loaded.expired = expired;
    if let Some(note) = reader.not_loaded() {
        warn!("{note}");
    }
    if let (Some(id), Some(off)) = (reader.repl_id(), reader.repl_offset()) {
        loaded.repl = Some((id, off));
    }
    info!(
        "Done loading RDB, keys loaded: {}, keys expired: {}.",
        loaded.keys, loaded.expired
    );
    info!(
        "DB loaded from disk: {:.3} seconds",
        started.elapsed().as_secs_f64()
    );
    ks.dirty = 0;
    Ok(Some(loaded))
}

/// Error text for writes refused after a failed background save (`stop-writes-on-bgsave-error`).
pub const MISCONF: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

/// Writes are refused when the last background save failed, save points exist and
/// `stop-writes-on-bgsave-error` is on.
pub fn writes_refused(p: &Persistence, cfg: &Config) -> bool {
    !p.last_bgsave_ok && has_save_points(cfg) && cfg.bool("stop-writes-on-bgsave-error")
}

#[cfg(test)]
mod tests {
    use super::{WalkPacer, BUSY_SHARE, BUSY_STEP_MAX, BUSY_STEP_MIN};
    use std::time::{Duration, Instant};

    /// Runs one step of `pacer` starting `gap` after the previous one ended, clients having
    /// executed for `clients` meanwhile; returns the step size it chose.
    fn step(
        pacer: &mut WalkPacer,
        t: &mut Instant,
        exec: &mut u64,
        gap_us: u64,
        clients_us: u64,
    ) -> usize {
        *t += Duration::from_micros(gap_us);
        *exec += clients_us * 1000;
        let n = pacer.begin(*t, *exec, 256);
        // Each entry takes 100 ns.
        *t += Duration::from_nanos(100 * n as u64);
        pacer.end(*t, n, *exec);
        n
    }

    #[test]
    fn walk_is_paced_only_while_clients_keep_the_server_busy() {
        let mut p = WalkPacer::default();
        let (mut t, mut exec) = (Instant::now(), 0);
        // First step, and idle clients: full steps, no rest.
        assert_eq!(step(&mut p, &mut t, &mut exec, 0, 0), 256);
        assert_eq!(step(&mut p, &mut t, &mut exec, 5, 0), 256);
        assert!(!p.busy);
        // Light load (5% of the time executing): still full speed.
        assert_eq!(step(&mut p, &mut t, &mut exec, 1000, 50), 256);
        assert!(!p.busy);
        // Clients busy half of a 2 ms rest: a step of BUSY_SHARE of it, at 100 ns per entry.
        let n = step(&mut p, &mut t, &mut exec, 2000, 1000);
        assert!(p.busy);
        assert_eq!(n, (BUSY_SHARE * 2_000_000.0 / 100.0) as usize);
        // A very short or very long rest stays within bounds.
        assert_eq!(step(&mut p, &mut t, &mut exec, 10, 10), BUSY_STEP_MIN);
        assert_eq!(
            step(&mut p, &mut t, &mut exec, 100_000, 90_000),
            BUSY_STEP_MAX
        );
        // Load gone: full speed again.
        assert_eq!(step(&mut p, &mut t, &mut exec, 5, 0), 256);
        assert!(!p.busy);
    }
}
