//! Master-side replication: the replication identity and offset, the backlog, the attached
//! replicas, and the propagation of every write's deterministic effect, in execution order.
//!
//! All of it lives under the keyspace lock ([`crate::server::Core`]), so the stream order is the
//! execution order. A write's encoded bytes are produced once and shared by the backlog and
//! every replica's queue.

pub mod backlog;
pub mod failover;
pub mod master;
pub mod propagate;
pub mod psync;
pub mod replica;

use crate::server::ClientHandle;
use backlog::Backlog;
use bytes::{Bytes, BytesMut};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// Size of the blocks the stream is encoded into (see [`Replication::append_encoded`]): the
/// 16 KiB Redis's shared replication buffer uses.
const OUTBOX_BLOCK: usize = 16 * 1024;

/// At least the bytes of a SELECT (or MULTI, or EXEC) in the stream.
const SMALL_COMMAND_BOUND: usize = 64;

/// The 40 zeros of an unset replid2.
pub const NO_REPLID: &str = "0000000000000000000000000000000000000000";

/// A replica's progress as INFO shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaState {
    /// Waiting for (or receiving) the snapshot.
    WaitBgsave,
    /// Disk framing: the RDB is being sent.
    SendBulk,
    /// Receiving the command stream.
    Online,
}

impl ReplicaState {
    fn name(self) -> &'static str {
        match self {
            ReplicaState::WaitBgsave => "wait_bgsave",
            ReplicaState::SendBulk => "send_bulk",
            ReplicaState::Online => "online",
        }
    }
}

/// An attached replica.
#[derive(Debug)]
pub struct Replica {
    pub handle: Arc<ClientHandle>,
    /// Address shown in INFO and ROLE (REPLCONF ip-address, else the peer address).
    pub ip: String,
    /// REPLCONF listening-port.
    pub port: u16,
    pub state: ReplicaState,
    /// Last acknowledged offset (0 before any ACK).
    pub ack_off: i64,
    pub ack_time: Instant,
}

/// Replication counters for INFO stats.
#[derive(Debug, Default, Clone)]
pub struct ReplStats {
    pub sync_full: u64,
    pub sync_partial_ok: u64,
    pub sync_partial_err: u64,
    /// Full syncs per reason (`sync_full_reason_<name>`).
    pub full_reasons: BTreeMap<&'static str, u64>,
    /// Stream bytes produced (for `repl_backlog_covers_ms`).
    pub stream_bytes: u64,
}

/// The replication state of this node.
#[derive(Debug)]
pub struct Replication {
    pub replid: String,
    pub replid2: String,
    pub second_replid_offset: i64,
    /// `master_repl_offset`: bytes of stream produced.
    pub offset: i64,
    pub backlog: Option<Backlog>,
    pub replicas: Vec<Replica>,
    pub stats: ReplStats,
    /// Database of the last command written to the stream; -1 forces a SELECT.
    seldb: i64,
    /// Commands of the execution unit in progress, with their databases.
    pending: Vec<(usize, Vec<Bytes>)>,
    /// Stream bytes not yet handed to the backlog and the replicas (see
    /// [`Replication::flush_outbox`]): the tail of a block that batches are split off.
    outbox: BytesMut,
    /// Nesting of `call` (EXEC runs commands inside a command).
    pub depth: u32,
    /// Set by a handler whose effect cannot be derived from its arguments (SPOP's members, a
    /// served BLPOP): what to propagate instead.
    pub override_args: Option<Vec<Vec<Bytes>>>,
    /// Stream offset just before the last GETACK written (see [`Replication::request_acks`]).
    getack_at: i64,
    /// Since when no replica is attached (for `repl-backlog-ttl`).
    pub alone_since: Option<Instant>,
    /// Unix second of the last periodic PING (so it is sent once per period).
    pub last_ping: i64,
    /// Set while this node replicates from a master (REPLICAOF host port).
    pub master: Option<replica::MasterLink>,
    /// The replid/offset describe data we hold (after a full sync, or a master's own history),
    /// so a (re)connection can ask for a partial resynchronization.
    pub has_history: bool,
    /// Database the master's stream starts in after a full sync (`repl-stream-db`).
    pub master_db: usize,
    /// Source of REPLICAOF generations.
    pub next_generation: u64,
    /// Write rate estimate for `repl_backlog_covers_ms`: (window start, `stream_bytes` at the
    /// start, bytes per second over the last window).
    rate_window: (Instant, u64, f64),
    /// A coordinated failover in progress (FAILOVER).
    pub failover: failover::Failover,
    /// Replicas waiting to share the next full-sync snapshot.
    pub pending_sync: Option<master::PendingSync>,
}

impl Default for Replication {
    fn default() -> Self {
        Replication {
            replid: crate::server::random_hex(40),
            replid2: NO_REPLID.to_string(),
            second_replid_offset: -1,
            offset: 0,
            backlog: None,
            replicas: Vec::new(),
            stats: ReplStats::default(),
            seldb: -1,
            pending: Vec::new(),
            outbox: BytesMut::new(),
            getack_at: -1,
            depth: 0,
            override_args: None,
            alone_since: Some(Instant::now()),
            last_ping: 0,
            master: None,
            has_history: false,
            master_db: 0,
            next_generation: 1,
            rate_window: (Instant::now(), 0, 0.0),
            failover: failover::Failover::default(),
            pending_sync: None,
        }
    }
}

impl Replication {
    /// Creates the backlog (with a fresh replication id, as Redis does when the first replica
    /// attaches).
    pub fn create_backlog(&mut self, size: usize) {
        self.replid = crate::server::random_hex(40);
        self.replid2 = NO_REPLID.to_string();
        self.second_replid_offset = -1;
        self.install_backlog(size, self.offset);
        tracing::info!(
            "Replication backlog created, my new replication IDs are '{}' and '{}'",
            self.replid,
            self.replid2
        );
    }

    /// The `repl-*` AUX fields an RDB saved now carries (a master with a backlog, or a replica
    /// with its master's history), so a restart can resume with a partial resynchronization.
    pub fn rdb_aux(&self) -> Option<crate::rdb::ReplAux> {
        (self.backlog.is_some() || self.has_history).then(|| crate::rdb::ReplAux {
            stream_db: self.master_db as i64,
            id: self.replid.clone(),
            offset: self.offset,
        })
    }

    /// Restores the replication position saved in the RDB loaded at startup (Redis 7.0): a
    /// replica resumes its master's history as is; a master keeps it as its previous id, with a
    /// fresh id and an empty backlog starting after the saved offset, so replicas that come back
    /// get +CONTINUE.
    pub fn restore_from_rdb(
        &mut self,
        id: String,
        offset: i64,
        as_replica: bool,
        backlog_size: usize,
    ) {
        if as_replica {
            self.replid = id;
        } else {
            self.replid2 = id;
            self.second_replid_offset = offset + 1;
            self.replid = crate::server::random_hex(40);
        }
        self.offset = offset;
        self.has_history = true;
        self.install_backlog(backlog_size, offset);
        tracing::info!(
            "Restored replication position from the RDB: ids {} / {}, offset {offset}",
            self.replid,
            self.replid2
        );
    }

    /// Starts a fresh backlog whose next byte is `offset + 1`. Stream bytes still pending
    /// belong to the history before it, so they go out (to the old backlog and the replicas
    /// attached so far) first.
    pub fn install_backlog(&mut self, size: usize, offset: i64) {
        self.flush_outbox();
        self.backlog = Some(Backlog::new(size, offset));
        self.getack_at = -1;
    }

    /// Frees the backlog (`repl-backlog-ttl` without replicas): nothing is propagated until
    /// a replica attaches again.
    pub fn free_backlog(&mut self) {
        self.flush_outbox();
        self.backlog = None;
    }

    /// True once a backlog exists, i.e. writes must be propagated.
    pub fn streaming(&self) -> bool {
        self.backlog.is_some()
    }

    /// Queues a command of the current execution unit.
    pub fn push(&mut self, db: usize, args: Vec<Bytes>) {
        if self.backlog.is_some() {
            self.pending.push((db, args));
        }
    }

    /// Writes a command that is a whole execution unit by itself (the common case: a write
    /// outside MULTI and scripts) straight to the stream, borrowing its arguments; a command of
    /// a larger unit is queued like [`Replication::push`].
    pub fn push_unit_of_one(&mut self, db: usize, args: &[Bytes]) {
        if self.backlog.is_none() {
            return;
        }
        if !self.pending.is_empty() {
            self.pending.push((db, args.to_vec()));
            return;
        }
        let bound = SMALL_COMMAND_BOUND + propagate::encoded_bound(args);
        self.append_encoded(bound, |seldb, out| {
            select_into(seldb, db, out);
            propagate::encode(args, out);
        });
    }

    /// Ends an execution unit: writes its commands to the stream (wrapped in MULTI/EXEC when
    /// there is more than one, with SELECTs as needed).
    pub fn flush_unit(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let cmds = std::mem::take(&mut self.pending);
        let bound = cmds
            .iter()
            .map(|(_, args)| 2 * SMALL_COMMAND_BOUND + propagate::encoded_bound(args))
            .sum();
        self.append_encoded(bound, |seldb, out| {
            let wrap = cmds.len() > 1;
            for (i, (db, args)) in cmds.iter().enumerate() {
                select_into(seldb, *db, out);
                if wrap && i == 0 {
                    out.extend_from_slice(b"*1\r\n$5\r\nMULTI\r\n");
                }
                propagate::encode(args, out);
            }
            if wrap {
                out.extend_from_slice(b"*1\r\n$4\r\nEXEC\r\n");
            }
        });
        // Hand the (emptied) command list back so its allocation is reused too.
        self.pending = cmds;
        self.pending.clear();
    }

    /// Appends bytes to the stream: the backlog and every replica's queue, sharing one buffer.
    pub fn write_stream(&mut self, bytes: &[u8]) {
        self.append_encoded(bytes.len(), |_, out| out.extend_from_slice(bytes));
    }

    /// Appends what `fill` encodes (given the stream's current database; at most `bound`
    /// bytes) to the stream: into the outbox, which the backlog and every replica then share.
    /// The outbox is a block of OUTBOX_BLOCK bytes that batches are split off; when the next
    /// write does not fit, what the block holds goes out as it is and the write starts a fresh
    /// block, so blocks are used to their end (the backlog holds them) and never copied.
    fn append_encoded(&mut self, bound: usize, fill: impl FnOnce(&mut i64, &mut BytesMut)) {
        if self.backlog.is_none() {
            return;
        }
        self.make_room(bound);
        let start = self.outbox.len();
        fill(&mut self.seldb, &mut self.outbox);
        let written = (self.outbox.len() - start) as u64;
        self.offset += written as i64;
        self.stats.stream_bytes += written;
    }

    /// Makes room for `bound` more bytes in the outbox without growing its block: when they do
    /// not fit, what the block holds goes out as it is and a fresh block starts.
    fn make_room(&mut self, bound: usize) {
        if self.outbox.capacity() - self.outbox.len() < bound {
            self.flush_outbox();
            self.outbox.reserve(bound.max(OUTBOX_BLOCK));
        }
    }

    /// Bytes queued for replicas (INFO `mem_clients_slaves`): memory that, as in Redis, does not
    /// count against `maxmemory`, or a slow replica would make the master evict its dataset.
    pub fn replica_buffers(&self) -> u64 {
        self.replicas.iter().map(|r| r.handle.queued() as u64).sum()
    }

    /// Updates the write-rate estimate behind `repl_backlog_covers_ms` (called by the cron, so
    /// the per-write path reads no clock).
    pub fn tick_rate(&mut self) {
        let elapsed = self.rate_window.0.elapsed().as_secs_f64();
        if elapsed >= 1.0 {
            let bytes = self.stats.stream_bytes - self.rate_window.1;
            self.rate_window = (
                Instant::now(),
                self.stats.stream_bytes,
                bytes as f64 / elapsed,
            );
        }
    }

    /// Hands the stream bytes produced since the last call to the backlog and every replica
    /// as one shared buffer. Called before the keyspace lock is released (end of a batch, cron,
    /// replica link) and before the backlog is read, so replicas get one push (one wakeup, one
    /// socket write) per batch rather than per command, in execution order.
    pub fn flush_outbox(&mut self) {
        if self.outbox.is_empty() {
            return;
        }
        if self.outbox.len() >= backlog::SHARE_FROM {
            let bytes = self.outbox.split().freeze();
            self.push_to_replicas(&bytes);
            if let Some(b) = self.backlog.as_mut() {
                b.append(bytes);
            }
            return;
        }
        // A small batch (a lone write) is copied, into the backlog's tail and (when a replica
        // is there to take it) out for the replicas, and its room in the block reused at once,
        // so the blocks the backlog keeps hold nothing twice.
        if let Some(b) = self.backlog.as_mut() {
            b.append_copy(&self.outbox);
        }
        if self.replicas.iter().any(|r| !r.handle.is_killed()) {
            self.push_to_replicas(&Bytes::copy_from_slice(&self.outbox));
        }
        self.outbox.clear();
    }

    /// A replica forwards the bytes it applied to its own backlog and sub-replicas (copied
    /// into the outbox, so the blocks the backlog keeps hold nothing else; sharing the read
    /// buffer would keep its other bytes alive too); its offset advances separately, once
    /// commands complete ([`Replication::offset_applied`]).
    pub fn write_stream_applied(&mut self, bytes: &[u8]) {
        if self.backlog.is_some() {
            self.make_room(bytes.len());
            self.outbox.extend_from_slice(bytes);
        }
    }

    /// Queues `bytes` for every replica (no copy: they share it). A killed replica (CLIENT
    /// KILL, output limits) gets nothing more, even before its connection task has removed it:
    /// it must resume from where the kill cut it off.
    fn push_to_replicas(&self, bytes: &Bytes) {
        for r in self.replicas.iter().filter(|r| !r.handle.is_killed()) {
            r.handle.push(bytes.clone());
        }
    }

    /// A replica's offset after applying `n` more bytes of the master's stream.
    pub fn offset_applied(&mut self, n: i64) {
        self.offset += n;
    }

    /// Drops every sub-replica (after a full sync or an id change they must resync).
    pub fn disconnect_replicas(&mut self) {
        for r in &self.replicas {
            r.handle.kill();
        }
    }

    /// Promotion (REPLICAOF NO ONE): the old history stays valid as replid2 up to our offset, so
    /// siblings re-pointed at us resume with +CONTINUE.
    pub fn shift_replication_id(&mut self) {
        self.replid2 = std::mem::replace(&mut self.replid, crate::server::random_hex(40));
        self.second_replid_offset = self.offset + 1;
        tracing::info!(
            "Setting secondary replication ID to {}, valid up to offset: {}. New replication ID is {}",
            self.replid2,
            self.second_replid_offset,
            self.replid
        );
    }

    /// The periodic PING a master sends its replicas (counted in the offset).
    /// Only a top-level master pings: a replica forwards its master's stream (PINGs included)
    /// byte for byte, so its own PINGs would move its offset past its master's.
    pub fn ping_replicas(&mut self) {
        if self.master.is_none() && !self.replicas.is_empty() {
            self.write_stream(b"*1\r\n$4\r\nping\r\n");
        }
    }

    /// `REPLCONF GETACK *` to every replica (WAIT for the write ending at `target`), unless
    /// one already in the stream follows that write: the replicas' answers to it cover
    /// `target`. So clients waiting on the same writes cost one GETACK, not one each (Redis
    /// sends one per event-loop iteration however many clients wait).
    pub fn request_acks(&mut self, target: i64) {
        let covered = target <= self.getack_at && self.getack_at <= self.offset;
        if !self.replicas.is_empty() && !covered {
            self.getack_at = self.offset;
            self.write_stream(b"*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n");
        }
    }

    /// Forces a SELECT before the next command (after a full-sync setup).
    pub fn reset_selected_db(&mut self) {
        self.seldb = -1;
    }

    /// Records an ACK from replica `id`.
    pub fn ack(&mut self, id: u64, offset: i64) {
        if let Some(r) = self.replicas.iter_mut().find(|r| r.handle.id == id) {
            r.ack_off = r.ack_off.max(offset);
            r.ack_time = Instant::now();
            if r.state != ReplicaState::Online {
                r.state = ReplicaState::Online;
            }
        }
    }

    /// Online replicas whose ACK reached `offset` (WAIT).
    pub fn acked(&self, offset: i64) -> usize {
        self.replicas
            .iter()
            .filter(|r| r.state == ReplicaState::Online && r.ack_off >= offset)
            .count()
    }

    /// Online replicas that ACKed within `max_lag` seconds (min-replicas-to-write).
    pub fn good_replicas(&self, max_lag: u64) -> usize {
        self.replicas
            .iter()
            .filter(|r| {
                r.state == ReplicaState::Online && r.ack_time.elapsed().as_secs() <= max_lag
            })
            .count()
    }

    /// Forgets a replica (disconnected).
    pub fn remove_replica(&mut self, id: u64) -> bool {
        let before = self.replicas.len();
        self.replicas.retain(|r| r.handle.id != id);
        if self.replicas.is_empty() && before > 0 {
            self.alone_since = Some(Instant::now());
        }
        self.replicas.len() != before
    }

    /// How many milliseconds of the current write rate the backlog holds.
    pub fn backlog_covers_ms(&self) -> i64 {
        match (&self.backlog, self.rate_window.2) {
            (Some(b), rate) if rate > 0.0 => (b.histlen() as f64 / rate * 1000.0) as i64,
            (Some(_), _) => -1,
            (None, _) => 0,
        }
    }

    /// The `# Replication` section of INFO for a master. Pending stream bytes go out first, so
    /// the backlog fields count every write made so far.
    pub fn info(&mut self, cfg: &crate::config::Config) -> String {
        self.flush_outbox();
        let mut s = String::from("# Replication\r\n");
        match &self.master {
            None => s.push_str("role:master\r\n"),
            Some(m) => {
                let up = m.state == replica::LinkState::Connected;
                s.push_str("role:slave\r\n");
                s.push_str(&format!(
                    "master_host:{}\r\nmaster_port:{}\r\n",
                    m.host, m.port
                ));
                s.push_str(&format!(
                    "master_link_status:{}\r\n",
                    if up { "up" } else { "down" }
                ));
                let io = match (up, m.last_io) {
                    (true, Some(t)) => t.elapsed().as_secs() as i64,
                    _ => -1,
                };
                s.push_str(&format!("master_last_io_seconds_ago:{io}\r\n"));
                s.push_str(&format!(
                    "master_sync_in_progress:{}\r\n",
                    (m.state == replica::LinkState::Sync) as i32
                ));
                let off = if self.has_history { self.offset } else { 1 };
                s.push_str(&format!(
                    "slave_read_repl_offset:{}\r\n",
                    if self.has_history {
                        m.read_offset.max(off)
                    } else {
                        1
                    }
                ));
                s.push_str(&format!("slave_repl_offset:{off}\r\n"));
                if m.state == replica::LinkState::Sync {
                    s.push_str(&m.transfer.info());
                }
                if !up {
                    let since = match m.down_since {
                        Some(Some(t)) => t.elapsed().as_secs() as i64,
                        _ => -1,
                    };
                    s.push_str(&format!("master_link_down_since_seconds:{since}\r\n"));
                }
                s.push_str(&format!(
                    "slave_priority:{}\r\n",
                    cfg.int("replica-priority")
                ));
                s.push_str(&format!(
                    "slave_read_only:{}\r\n",
                    cfg.bool("replica-read-only") as i32
                ));
                s.push_str(&format!(
                    "replica_announced:{}\r\n",
                    cfg.bool("replica-announced") as i32
                ));
            }
        }
        s.push_str(&format!("connected_slaves:{}\r\n", self.replicas.len()));
        let (min_w, max_lag) = (
            cfg.int("min-replicas-to-write"),
            cfg.int("min-replicas-max-lag"),
        );
        if min_w > 0 && max_lag > 0 {
            s.push_str(&format!(
                "min_slaves_good_slaves:{}\r\n",
                self.good_replicas(max_lag as u64)
            ));
        }
        for (i, r) in self.replicas.iter().enumerate() {
            let lag = if r.state == ReplicaState::Online {
                r.ack_time.elapsed().as_secs()
            } else {
                0
            };
            s.push_str(&format!(
                "slave{i}:ip={},port={},state={},offset={},lag={lag}\r\n",
                r.ip,
                r.port,
                r.state.name(),
                r.ack_off
            ));
        }
        s.push_str(&format!(
            "master_failover_state:{}\r\n",
            self.failover.state.name()
        ));
        s.push_str(&format!("master_replid:{}\r\n", self.replid));
        s.push_str(&format!("master_replid2:{}\r\n", self.replid2));
        s.push_str(&format!("master_repl_offset:{}\r\n", self.offset));
        s.push_str(&format!(
            "second_repl_offset:{}\r\n",
            self.second_replid_offset
        ));
        let (active, first, hist) = match &self.backlog {
            Some(b) => (1, b.first_offset(), b.histlen()),
            None => (0, 0, 0),
        };
        s.push_str(&format!("repl_backlog_active:{active}\r\n"));
        s.push_str(&format!(
            "repl_backlog_size:{}\r\n",
            cfg.int("repl-backlog-size")
        ));
        s.push_str(&format!("repl_backlog_first_byte_offset:{first}\r\n"));
        s.push_str(&format!("repl_backlog_histlen:{hist}\r\n"));
        s
    }
}

/// A SELECT into `out` when the stream's current database `seldb` is not `db`.
fn select_into(seldb: &mut i64, db: usize, out: &mut BytesMut) {
    if *seldb != db as i64 {
        propagate::encode(
            &[Bytes::from_static(b"SELECT"), Bytes::from(db.to_string())],
            out,
        );
        *seldb = db as i64;
    }
}
