//! Serving one replica connection after its PSYNC/SYNC: the partial or full synchronization,
//! then the command stream and the ACKs coming back.

use super::{psync, Replica, ReplicaState};
use crate::protocol::{ParseLimits, Parser};
use crate::rdb::{self, Aux, Options, ReplAux, Writer};
use crate::server::{ClientHandle, Push, Shared};
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tracing::{info, warn};

/// Snapshot entries encoded per lock acquisition.
const CHUNK: usize = 256;

/// What REPLCONF told us about the replica.
#[derive(Debug, Clone, Default)]
pub struct ReplConf {
    pub listening_port: u16,
    pub ip_address: Option<String>,
    pub capa_eof: bool,
    pub capa_psync2: bool,
}

/// How a PSYNC/SYNC is to be served, decided by the command under the lock.
#[derive(Debug)]
pub enum SyncPlan {
    /// `+CONTINUE`: the reply line and backlog bytes are already queued; stream from now on.
    Partial,
    /// A full synchronization (`legacy` for SYNC: no `+FULLRESYNC` line).
    Full { legacy: bool, conf: ReplConf },
}

/// A `Write` sink whose bytes the async task drains between chunks.
#[derive(Clone, Default)]
struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl SharedBuf {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// The address a replica is listed under.
fn replica_ip(handle: &ClientHandle, conf: &ReplConf) -> String {
    conf.ip_address
        .clone()
        .unwrap_or_else(|| handle.addr.ip().to_string())
}

/// Decides PSYNC under the lock: a partial sync is registered and its bytes queued right away;
/// a full sync is only planned (its snapshot is cut by the connection task).
pub fn decide(
    repl: &mut super::Replication,
    handle: &Arc<ClientHandle>,
    conf: &ReplConf,
    req_id: &str,
    req_off: i64,
    backlog_size: usize,
) -> SyncPlan {
    if repl.backlog.is_none() {
        repl.create_backlog(backlog_size);
    }
    // Bytes already produced belong to the backlog read below, not to this replica's queue.
    repl.flush_outbox();
    let history = psync::History {
        replid: &repl.replid,
        replid2: &repl.replid2,
        second_replid_offset: repl.second_replid_offset,
        backlog: repl
            .backlog
            .as_ref()
            .map(|b| (b.first_offset(), b.histlen() as i64)),
    };
    let who = format!("{}:{}", replica_ip(handle, conf), conf.listening_port);
    match psync::decide(req_id, req_off, history) {
        psync::Decision::Continue => {
            let data = repl
                .backlog
                .as_ref()
                .and_then(|b| b.read_from(req_off))
                .unwrap_or_default();
            let line = if conf.capa_psync2 {
                format!("+CONTINUE {}\r\n", repl.replid)
            } else {
                "+CONTINUE\r\n".to_string()
            };
            let mut bytes = line.into_bytes();
            bytes.extend_from_slice(&data);
            handle.push(Bytes::from(bytes));
            repl.replicas.push(Replica {
                handle: handle.clone(),
                ip: replica_ip(handle, conf),
                port: conf.listening_port,
                state: ReplicaState::Online,
                ack_off: 0,
                ack_time: Instant::now(),
            });
            repl.alone_since = None;
            repl.stats.sync_partial_ok += 1;
            info!("Replica {who} asks for synchronization");
            info!(
                "Partial resynchronization request from {who} accepted. Sending {} bytes of backlog starting from offset {req_off}.",
                data.len()
            );
            SyncPlan::Partial
        }
        psync::Decision::Full(reason) => {
            if req_id != "?" {
                repl.stats.sync_partial_err += 1;
            }
            info!("Replica {who} asks for synchronization");
            info!(
                "Full resync requested by replica {who} (reason: {}; requested {req_id} {req_off}, my ids {} {}, backlog {:?})",
                reason.name(),
                repl.replid,
                repl.replid2,
                repl.backlog.as_ref().map(|b| (b.first_offset(), b.histlen()))
            );
            repl.stats.sync_full += 1;
            *repl.stats.full_reasons.entry(reason.name()).or_default() += 1;
            SyncPlan::Full {
                legacy: false,
                conf: conf.clone(),
            }
        }
    }
}

/// Runs the replica side of the connection until it closes. `pending_out` holds bytes already
/// encoded for the client (replies before PSYNC).
pub async fn serve(
    shared: Arc<Shared>,
    stream: &mut TcpStream,
    push_rx: &mut mpsc::UnboundedReceiver<Push>,
    handle: Arc<ClientHandle>,
    plan: SyncPlan,
) -> Result<(), String> {
    let id = handle.id;
    let result = serve_inner(&shared, stream, push_rx, &handle, plan).await;
    {
        let mut core = shared.core();
        core.repl.remove_replica(id);
    }
    let why = match &result {
        Ok(()) => "connection closed".to_string(),
        Err(e) => e.clone(),
    };
    info!("Connection with replica {} lost ({why}).", handle.addr);
    result
}

async fn write(shared: &Shared, stream: &mut TcpStream, data: &[u8]) -> Result<(), String> {
    stream.write_all(data).await.map_err(|e| e.to_string())?;
    shared.count_repl_output(data.len());
    Ok(())
}

async fn serve_inner(
    shared: &Arc<Shared>,
    stream: &mut TcpStream,
    push_rx: &mut mpsc::UnboundedReceiver<Push>,
    handle: &Arc<ClientHandle>,
    plan: SyncPlan,
) -> Result<(), String> {
    let mut wait_first_ack = false;
    if let SyncPlan::Full { legacy, conf } = plan {
        wait_first_ack = full_sync(shared, stream, handle, legacy, conf).await?;
    }
    stream_loop(shared, stream, push_rx, handle, wait_first_ack).await
}

/// What the snapshot producer sends each replica of its group.
#[derive(Debug)]
enum SyncMsg {
    /// The snapshot was cut: the replica is registered at `offset` of `replid`.
    Start { replid: String, offset: i64 },
    /// The next piece of the RDB payload (shared by every replica of the group, not copied).
    Chunk(Bytes),
    /// The payload is complete.
    Done,
    /// The snapshot could not be produced.
    Failed(String),
}

/// A replica waiting for the next snapshot.
#[derive(Debug)]
struct Member {
    handle: Arc<ClientHandle>,
    conf: ReplConf,
    tx: mpsc::Sender<SyncMsg>,
}

/// Replicas that asked for a full sync and will share the next snapshot (replication.md §7.4):
/// those arriving during `repl-diskless-sync-delay` join the same one.
#[derive(Debug)]
pub struct PendingSync {
    members: Vec<Member>,
    /// Woken when a replica joins (for `repl-diskless-sync-max-replicas`).
    joined: Arc<tokio::sync::Notify>,
}

/// Chunks of payload a replica may have queued before the producer waits for it.
const CHUNKS_IN_FLIGHT: usize = 16;

/// Joins (or opens) the group for the next snapshot, streams the RDB as the producer hands it
/// out, and returns whether the stream must wait for the replica's first ACK (EOF framing).
async fn full_sync(
    shared: &Arc<Shared>,
    stream: &mut TcpStream,
    handle: &Arc<ClientHandle>,
    legacy: bool,
    conf: ReplConf,
) -> Result<bool, String> {
    let (diskless, delay, max_replicas) = {
        let cfg = shared.config();
        (
            cfg.bool("repl-diskless-sync"),
            cfg.int("repl-diskless-sync-delay").max(0) as u64,
            cfg.int("repl-diskless-sync-max-replicas").max(0) as usize,
        )
    };
    let eof = conf.capa_eof && diskless && !legacy;
    let who = format!("{}:{}", replica_ip(handle, &conf), conf.listening_port);
    let (tx, mut rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
    {
        let mut core = shared.core();
        let member = Member {
            handle: handle.clone(),
            conf,
            tx,
        };
        match core.repl.pending_sync.as_mut() {
            Some(group) => {
                group.members.push(member);
                group.joined.notify_one();
            }
            None => {
                let joined = Arc::new(tokio::sync::Notify::new());
                core.repl.pending_sync = Some(PendingSync {
                    members: vec![member],
                    joined: joined.clone(),
                });
                // Diskless syncs wait for more replicas to share the snapshot; disk syncs
                // start at once, as in Redis.
                let wait = if diskless {
                    Duration::from_secs(delay)
                } else {
                    Duration::ZERO
                };
                let shared = shared.clone();
                tokio::spawn(start_producer(shared, wait, max_replicas, joined));
            }
        }
    }
    // Newline keep-alives until the snapshot is cut (replication.md §4).
    let (replid, offset) = loop {
        tokio::select! {
            msg = rx.recv() => match msg {
                Some(SyncMsg::Start { replid, offset }) => break (replid, offset),
                Some(SyncMsg::Failed(e)) => return Err(format!("full sync failed: {e}")),
                _ => return Err("full sync failed: the snapshot producer stopped".into()),
            },
            _ = tokio::time::sleep(Duration::from_secs(1)) => write(shared, stream, b"\n").await?,
        }
    };
    let started = Instant::now();
    if !legacy {
        write(
            shared,
            stream,
            format!("+FULLRESYNC {replid} {offset}\r\n").as_bytes(),
        )
        .await?;
    }
    let mark = rdb::framing::new_eof_mark();
    if eof {
        write(shared, stream, &rdb::framing::eof_preamble(&mark)).await?;
    }
    // Disk framing needs the length first: collect the payload (Redis reads it from the file).
    let mut disk_payload = Vec::new();
    loop {
        match rx.recv().await {
            Some(SyncMsg::Chunk(chunk)) if eof => write(shared, stream, &chunk).await?,
            Some(SyncMsg::Chunk(chunk)) => disk_payload.extend_from_slice(&chunk),
            Some(SyncMsg::Done) => break,
            Some(SyncMsg::Failed(e)) => return Err(format!("full sync failed: {e}")),
            Some(SyncMsg::Start { .. }) | None => {
                return Err("full sync failed: the snapshot producer stopped".into())
            }
        }
    }
    if eof {
        write(shared, stream, &mark).await?;
    } else {
        write(
            shared,
            stream,
            &rdb::framing::len_preamble(disk_payload.len() as u64),
        )
        .await?;
        write(shared, stream, &disk_payload).await?;
    }
    {
        let mut core = shared.core();
        if let Some(r) = core
            .repl
            .replicas
            .iter_mut()
            .find(|r| r.handle.id == handle.id)
        {
            // Online as soon as the payload is out, as Redis shows it (`state=online,offset=0`),
            // even though a diskless replica gets no stream before its first ACK; the ACK clock
            // starts now.
            r.state = ReplicaState::Online;
            r.ack_time = Instant::now();
        }
    }
    info!(
        "Synchronization with replica {who} succeeded (full sync, {} in {:.3} s)",
        if eof { "diskless" } else { "disk framing" },
        started.elapsed().as_secs_f64()
    );
    Ok(eof)
}

/// Waits out the sync delay (ended early once `max_replicas` have joined), then cuts the
/// snapshot for every replica of the group and encodes it on a thread of its own, so clients
/// and the replicas' socket writes keep the event loop.
async fn start_producer(
    shared: Arc<Shared>,
    wait: Duration,
    max_replicas: usize,
    joined: Arc<tokio::sync::Notify>,
) {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let members = shared
            .core()
            .repl
            .pending_sync
            .as_ref()
            .map_or(0, |g| g.members.len());
        if max_replicas > 0 && members >= max_replicas {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => break,
            _ = joined.notified() => {}
        }
    }
    // One snapshot at a time: a running BGSAVE delays the cut (replicas keep getting
    // keep-alives); the group keeps accepting replicas meanwhile.
    let (members, replid, offset, snap_id, sizes) = loop {
        {
            let mut core = shared.core();
            let core = &mut *core;
            if let Some((snap_id, sizes)) = core.ks.begin_snapshot() {
                let members = core
                    .repl
                    .pending_sync
                    .take()
                    .map(|g| g.members)
                    .unwrap_or_default();
                let repl = &mut core.repl;
                repl.flush_outbox();
                repl.reset_selected_db();
                let mut live = Vec::with_capacity(members.len());
                for m in members {
                    // A replica that left while waiting is not registered.
                    if m.tx.is_closed() {
                        continue;
                    }
                    repl.replicas.push(Replica {
                        handle: m.handle.clone(),
                        ip: replica_ip(&m.handle, &m.conf),
                        port: m.conf.listening_port,
                        state: ReplicaState::WaitBgsave,
                        ack_off: 0,
                        ack_time: Instant::now(),
                    });
                    let _ = m.tx.try_send(SyncMsg::Start {
                        replid: repl.replid.clone(),
                        offset: repl.offset,
                    });
                    live.push(m);
                }
                if !live.is_empty() {
                    repl.alone_since = None;
                }
                break (live, repl.replid.clone(), repl.offset, snap_id, sizes);
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    if members.is_empty() {
        shared.core().ks.abort_snapshot_id(snap_id);
        return;
    }
    let targets: Vec<String> = members
        .iter()
        .map(|m| {
            format!(
                "{}:{}",
                replica_ip(&m.handle, &m.conf),
                m.conf.listening_port
            )
        })
        .collect();
    info!(
        "Starting BGSAVE for SYNC with target: replicas sockets ({}; offset {offset})",
        targets.join(", ")
    );
    let cfg = shared.config().clone();
    let cut = Cut {
        feed: crate::server::persistence::SnapshotFeed::start(
            &shared,
            snap_id,
            sizes,
            CHUNK,
            crate::server::persistence::Walk::Urgent,
        ),
        replid,
        offset,
        snap_id,
    };
    let encoder = shared.clone();
    let producer = std::thread::Builder::new()
        .name("sync-snapshot".into())
        .spawn(move || produce(&encoder, &cfg, members, cut));
    if let Err(e) = producer {
        warn!("Can't start the full sync snapshot: {e}");
        shared.core().ks.abort_snapshot_id(snap_id);
    }
}

/// A snapshot cut for a group of replicas: its entries' feed and the stream position it is at.
struct Cut {
    feed: crate::server::persistence::SnapshotFeed,
    replid: String,
    offset: i64,
    snap_id: u64,
}

/// Encodes the snapshot and hands each chunk to every replica of the group; the slowest one
/// sets the pace (as Redis's diskless transfer does). Stops, releasing the snapshot, when
/// every replica is gone.
fn produce(shared: &Arc<Shared>, cfg: &crate::config::Config, mut members: Vec<Member>, cut: Cut) {
    let Cut {
        mut feed,
        replid,
        offset,
        snap_id,
    } = cut;
    // Normal priority, unlike BGSAVE's encoder: until the sync ends the replica is out of date
    // and its stream piles up here. At nice 19 on a loaded core, a full sync of 1M keys under a
    // P=1 SET load took 36 s and the master's RSS doubled; at nice 0, 4 s and 1.11x.
    let buf = SharedBuf::default();
    let opts = Options {
        compression: cfg.bool("rdbcompression"),
        checksum: cfg.bool("rdbchecksum"),
    };
    let mut w = Writer::new(buf.clone(), opts).with_list_fill(cfg.int("list-max-listpack-size"));
    let send = |members: &mut Vec<Member>, msg: &dyn Fn() -> SyncMsg| {
        members.retain(|m| m.tx.blocking_send(msg()).is_ok());
        !members.is_empty()
    };
    let outcome: Result<(), String> = (|| {
        let aux = Aux {
            used_mem: crate::server::memory::used(),
            repl: Some(ReplAux {
                stream_db: 0,
                id: replid,
                offset,
            }),
            ..Aux::default()
        };
        w.header(&aux).map_err(|e| e.to_string())?;
        loop {
            let (_, done) = feed.write_next(&mut w).map_err(|e| e.to_string())?;
            let chunk = Bytes::from(buf.take());
            if !chunk.is_empty() && !send(&mut members, &|| SyncMsg::Chunk(chunk.clone())) {
                return Err("every replica of the sync left".to_string());
            }
            if done {
                break;
            }
        }
        w.finish().map_err(|e| e.to_string())?;
        let tail = Bytes::from(buf.take());
        if !send(&mut members, &|| SyncMsg::Chunk(tail.clone())) {
            return Err("every replica of the sync left".to_string());
        }
        Ok(())
    })();
    match outcome {
        Ok(()) => {
            send(&mut members, &|| SyncMsg::Done);
        }
        Err(e) => {
            shared.core().ks.abort_snapshot_id(snap_id);
            info!("Full sync snapshot stopped: {e}");
            send(&mut members, &|| SyncMsg::Failed(e.clone()));
        }
    }
}

/// Writes every buffer of `out` (emptying it), as few system calls as the socket allows; returns
/// the bytes written.
async fn write_all_vectored(
    stream: &mut TcpStream,
    out: &mut VecDeque<Bytes>,
) -> std::io::Result<usize> {
    /// Buffers per system call (Linux accepts up to 1024).
    const MAX_SLICES: usize = 64;
    let mut written = 0;
    while !out.is_empty() {
        let mut slices = [std::io::IoSlice::new(&[]); MAX_SLICES];
        let count = out.len().min(MAX_SLICES);
        for (slice, buf) in slices.iter_mut().zip(out.iter()) {
            *slice = std::io::IoSlice::new(buf);
        }
        let mut n = stream.write_vectored(&slices[..count]).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        written += n;
        while n > 0 {
            let Some(front) = out.front_mut() else { break };
            if n >= front.len() {
                n -= front.len();
                out.pop_front();
            } else {
                bytes::Buf::advance(front, n);
                n = 0;
            }
        }
    }
    Ok(written)
}

/// Forwards the stream and reads ACKs until the connection ends. The loop runs once per batch
/// of writes, so it keeps its timer and kill watch across iterations instead of creating them
/// each time round.
async fn stream_loop(
    shared: &Arc<Shared>,
    stream: &mut TcpStream,
    push_rx: &mut mpsc::UnboundedReceiver<Push>,
    handle: &Arc<ClientHandle>,
    mut wait_first_ack: bool,
) -> Result<(), String> {
    let mut parser = Parser::new(ParseLimits::default());
    let mut rbuf = BytesMut::with_capacity(1024);
    // The stream's buffers as the master produced them, shared with the backlog and every other
    // replica: written with vectored writes, never copied per replica.
    let mut out: VecDeque<Bytes> = VecDeque::new();
    // `repl-timeout` after the last ACK (or the start of the stream); re-read at each ACK, so a
    // CONFIG SET applies from the next one.
    let ack_deadline = |shared: &Shared| {
        let timeout = shared.config().int("repl-timeout").max(1) as u64;
        tokio::time::Instant::now() + Duration::from_secs(timeout)
    };
    let timeout = tokio::time::sleep_until(ack_deadline(shared));
    tokio::pin!(timeout);
    let killed = handle.killed();
    tokio::pin!(killed);
    loop {
        if !wait_first_ack && !out.is_empty() {
            // A replica that stops reading blocks this write; the output-buffer limit (checked
            // by the cron against what is still queued) kills it and ends the wait.
            tokio::select! {
                r = write_all_vectored(stream, &mut out) => {
                    let written = r.map_err(|e| e.to_string())?;
                    // Queued until written: output limits and maxmemory see every byte held.
                    handle.dequeued(written);
                    shared.count_repl_output(written);
                }
                _ = &mut killed => return Err("killed".into()),
            }
        }
        tokio::select! {
            r = stream.read_buf(&mut rbuf) => match r {
                Ok(0) => return Ok(()),
                Ok(_) => {
                    while let Ok(Some(args)) = parser.next(&mut rbuf) {
                        if args.len() >= 3 && args[0].eq_ignore_ascii_case(b"replconf") && args[1].eq_ignore_ascii_case(b"ack") {
                            let off = crate::num::parse_i64(&args[2]).unwrap_or(0);
                            shared.core().repl.ack(handle.id, off);
                            shared.acks.notify_waiters();
                            timeout.as_mut().reset(ack_deadline(shared));
                            wait_first_ack = false;
                        }
                        // Nothing a replica sends after PSYNC gets a reply.
                    }
                }
                Err(e) => return Err(e.to_string()),
            },
            // Until the first ACK (EOF framing) the stream stays queued, counted against the
            // output-buffer limit.
            msg = push_rx.recv(), if !wait_first_ack => {
                let mut take = |m: Push| {
                    let (Push::Data(b) | Push::Unblocked(b)) = m;
                    out.push_back(b);
                };
                match msg {
                    Some(m) => take(m),
                    None => return Ok(()),
                }
                // Let the clients that are ready run first: their writes join this one in a
                // single socket write instead of one write (and wakeup) per command, as Redis
                // batches replica output per event-loop iteration.
                tokio::task::yield_now().await;
                while let Ok(m) = push_rx.try_recv() {
                    take(m);
                }
            }
            _ = &mut killed => return Err("killed".into()),
            _ = &mut timeout => {
                warn!("Disconnecting timedout replica (streaming sync): {}", handle.addr);
                return Err("timeout".into());
            }
        }
    }
}
