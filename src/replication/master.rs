//! Serving one replica connection after its PSYNC/SYNC: the partial or full synchronization,
//! then the command stream and the ACKs coming back.

use super::{psync, Replica, ReplicaState};
use crate::protocol::{ParseLimits, Parser};
use crate::rdb::{self, Aux, Options, ReplAux, Writer};
use crate::server::{ClientHandle, Push, Shared};
use bytes::{Bytes, BytesMut};
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

async fn write(stream: &mut TcpStream, data: &[u8]) -> Result<(), String> {
    stream.write_all(data).await.map_err(|e| e.to_string())
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

/// Cuts a snapshot, registers the replica at exactly that offset, and streams the RDB. Returns
/// whether the stream must wait for the replica's first ACK (EOF framing).
async fn full_sync(
    shared: &Arc<Shared>,
    stream: &mut TcpStream,
    handle: &Arc<ClientHandle>,
    legacy: bool,
    conf: ReplConf,
) -> Result<bool, String> {
    let cfg = shared.config().clone();
    let eof = conf.capa_eof && cfg.bool("repl-diskless-sync") && !legacy;
    let who = format!("{}:{}", replica_ip(handle, &conf), conf.listening_port);
    if eof {
        // repl-diskless-sync-delay: wait for more replicas, with newline keep-alives.
        let delay = cfg.int("repl-diskless-sync-delay").max(0) as u64;
        for _ in 0..delay {
            write(stream, b"\n").await?;
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    // One snapshot at a time: wait (with keep-alives) while a save is running.
    let (replid, offset, snap_id, sizes) = loop {
        {
            let mut core = shared.core();
            let core = &mut *core;
            if let Some((snap_id, sizes)) = core.ks.begin_snapshot() {
                let repl = &mut core.repl;
                repl.flush_outbox();
                repl.reset_selected_db();
                repl.replicas.push(Replica {
                    handle: handle.clone(),
                    ip: replica_ip(handle, &conf),
                    port: conf.listening_port,
                    state: ReplicaState::WaitBgsave,
                    ack_off: 0,
                    ack_time: Instant::now(),
                });
                repl.alone_since = None;
                break (repl.replid.clone(), repl.offset, snap_id, sizes);
            }
        }
        write(stream, b"\n").await?;
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let started = Instant::now();
    info!(
        "Starting BGSAVE for SYNC with target: {} (replica {who}, offset {offset})",
        if eof { "replicas sockets" } else { "disk" }
    );
    if !legacy {
        write(
            stream,
            format!("+FULLRESYNC {replid} {offset}\r\n").as_bytes(),
        )
        .await?;
    }
    let buf = SharedBuf::default();
    let opts = Options {
        compression: cfg.bool("rdbcompression"),
        checksum: cfg.bool("rdbchecksum"),
    };
    let mut w = Writer::new(buf.clone(), opts).with_list_fill(cfg.int("list-max-listpack-size"));
    let aux = Aux {
        used_mem: crate::server::used_memory(),
        repl: Some(ReplAux {
            stream_db: 0,
            id: replid.clone(),
            offset,
        }),
        ..Aux::default()
    };
    w.header(&aux).map_err(|e| e.to_string())?;
    let mark = rdb::framing::new_eof_mark();
    let mut disk_payload = Vec::new();
    if eof {
        write(stream, &rdb::framing::eof_preamble(&mark)).await?;
    }
    let mut current_db = None;
    let outcome: Result<(), String> = async {
        loop {
            let step = shared.core().ks.snapshot_step(snap_id, CHUNK);
            let Some((items, done)) = step else {
                return Err("snapshot aborted".to_string());
            };
            for it in items {
                if current_db != Some(it.db) {
                    let s = sizes.get(it.db).copied().unwrap_or_default();
                    w.select_db(it.db, s.keys, s.expires)
                        .map_err(|e| e.to_string())?;
                    current_db = Some(it.db);
                }
                w.entry(&it.key, &it.value, it.expire_ms)
                    .map_err(|e| e.to_string())?;
            }
            let chunk = buf.take();
            if eof {
                write(stream, &chunk).await?;
            } else {
                disk_payload.extend_from_slice(&chunk);
            }
            if done {
                return Ok(());
            }
        }
    }
    .await;
    if let Err(e) = outcome {
        shared.core().ks.abort_snapshot_id(snap_id);
        return Err(format!("full sync failed: {e}"));
    }
    w.finish().map_err(|e| e.to_string())?;
    let tail = buf.take();
    if eof {
        write(stream, &tail).await?;
        write(stream, &mark).await?;
    } else {
        disk_payload.extend_from_slice(&tail);
        write(
            stream,
            &rdb::framing::len_preamble(disk_payload.len() as u64),
        )
        .await?;
        write(stream, &disk_payload).await?;
    }
    {
        let mut core = shared.core();
        if let Some(r) = core
            .repl
            .replicas
            .iter_mut()
            .find(|r| r.handle.id == handle.id)
        {
            r.state = if eof {
                ReplicaState::WaitBgsave
            } else {
                ReplicaState::Online
            };
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

/// Forwards the stream and reads ACKs until the connection ends.
async fn stream_loop(
    shared: &Arc<Shared>,
    stream: &mut TcpStream,
    push_rx: &mut mpsc::UnboundedReceiver<Push>,
    handle: &Arc<ClientHandle>,
    mut wait_first_ack: bool,
) -> Result<(), String> {
    let mut parser = Parser::new(ParseLimits::default());
    let mut rbuf = BytesMut::with_capacity(1024);
    let mut out = Vec::with_capacity(64 * 1024);
    let mut last_ack = Instant::now();
    loop {
        let timeout = Duration::from_secs(shared.config().int("repl-timeout").max(1) as u64);
        if !wait_first_ack && !out.is_empty() {
            // A replica that stops reading blocks this write; the output-buffer limit (checked
            // by the cron against what is still queued) kills it and ends the wait.
            tokio::select! {
                r = stream.write_all(&out) => r.map_err(|e| e.to_string())?,
                _ = handle.killed() => return Err("killed".into()),
            }
            out.clear();
        }
        let until_timeout = timeout.saturating_sub(last_ack.elapsed());
        tokio::select! {
            r = stream.read_buf(&mut rbuf) => match r {
                Ok(0) => return Ok(()),
                Ok(_) => {
                    while let Ok(Some(args)) = parser.next(&mut rbuf) {
                        if args.len() >= 3 && args[0].eq_ignore_ascii_case(b"replconf") && args[1].eq_ignore_ascii_case(b"ack") {
                            let off = crate::num::parse_i64(&args[2]).unwrap_or(0);
                            shared.core().repl.ack(handle.id, off);
                            shared.acks.notify_waiters();
                            last_ack = Instant::now();
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
                    handle.dequeued(b.len());
                    out.extend_from_slice(&b);
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
            _ = handle.killed() => return Err("killed".into()),
            _ = tokio::time::sleep(until_timeout) => {
                warn!("Disconnecting timedout replica (streaming sync): {}", handle.addr);
                return Err("timeout".into());
            }
        }
    }
}
