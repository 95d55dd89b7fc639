//! The replica side: one task per `REPLICAOF host port` that runs the state machine
//! connect → handshake → PSYNC → transfer → load → streaming, and reconnects with a partial
//! resynchronization when the link drops. Every transition is logged, worded as Redis words it.

use super::propagate;
use crate::atomic_file::AtomicFile;
use crate::protocol::{Out, ParseLimits, Parser, Resp};
use crate::server::{ClientHandle, ClientKind, ClientState, Shared};
use bytes::{Bytes, BytesMut};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tracing::{info, warn};

/// The link's state as ROLE / INFO show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Connect,
    Connecting,
    Handshake,
    Sync,
    Connected,
}

impl LinkState {
    /// ROLE's word for it.
    pub fn name(self) -> &'static str {
        match self {
            LinkState::Connect => "connect",
            LinkState::Connecting => "connecting",
            LinkState::Handshake => "handshake",
            LinkState::Sync => "sync",
            LinkState::Connected => "connected",
        }
    }
}

/// Where this node replicates from, and how far it got.
#[derive(Debug, Clone)]
pub struct MasterLink {
    pub host: String,
    pub port: u16,
    pub state: LinkState,
    /// Bumped by every REPLICAOF: a link task whose generation is stale stops.
    pub generation: u64,
    /// Offset of the master stream received (`slave_read_repl_offset`).
    pub read_offset: i64,
    /// When the link last saw data from the master.
    pub last_io: Option<Instant>,
    /// Since when the link is down (`None` while up; `Some(None)` if never up).
    pub down_since: Option<Option<Instant>>,
    /// The RDB transfer in progress, if any.
    pub transfer: Arc<TransferProgress>,
}

/// Progress of an RDB transfer, updated by the link task without taking the keyspace lock, for
/// INFO's `master_sync_*` fields.
#[derive(Debug, Default)]
pub struct TransferProgress {
    /// Bytes announced by `$<len>`, or -1 for an EOF-framed transfer.
    size: AtomicI64,
    read: AtomicI64,
    /// Unix time (seconds) bytes last arrived.
    last_io: AtomicI64,
}

impl TransferProgress {
    fn start(&self, size: i64) {
        self.size.store(size, Ordering::Relaxed);
        self.read.store(0, Ordering::Relaxed);
        self.last_io
            .store(crate::store::now_ms() / 1000, Ordering::Relaxed);
    }

    fn received(&self, n: usize) {
        self.read.fetch_add(n as i64, Ordering::Relaxed);
        self.last_io
            .store(crate::store::now_ms() / 1000, Ordering::Relaxed);
    }

    /// The `master_sync_*` lines, as Redis prints them during a transfer.
    pub fn info(&self) -> String {
        let size = self.size.load(Ordering::Relaxed);
        let read = self.read.load(Ordering::Relaxed);
        let perc = if size != 0 {
            read as f64 / size as f64 * 100.0
        } else {
            0.0
        };
        let idle = crate::store::now_ms() / 1000 - self.last_io.load(Ordering::Relaxed);
        format!(
            "master_sync_total_bytes:{size}\r\nmaster_sync_read_bytes:{read}\r\nmaster_sync_left_bytes:{}\r\nmaster_sync_perc:{perc:.2}\r\nmaster_sync_last_io_seconds_ago:{idle}\r\n",
            size - read
        )
    }
}

/// Makes this node a replica of `host:port` (REPLICAOF, the config file, a failover), starting
/// the link task. A former master keeps its data and offers its own history for a partial
/// resynchronization.
pub fn become_replica(
    shared: &Shared,
    repl: &mut super::Replication,
    ks: &mut crate::store::Keyspace,
    host: String,
    port: u16,
) {
    let generation = repl.next_generation;
    repl.next_generation += 1;
    repl.has_history = repl.has_history || repl.backlog.is_some();
    repl.master = Some(MasterLink {
        host: host.clone(),
        port,
        state: LinkState::Connect,
        generation,
        read_offset: repl.offset,
        last_io: None,
        down_since: Some(None),
        transfer: Arc::default(),
    });
    ks.is_replica = true;
    crate::logging::set_role(b'S');
    shared.config_mut().replicaof = Some((host.clone(), port));
    if let Some(me) = shared.self_arc() {
        tokio::spawn(run(me, host, port, generation));
    }
}

/// Promotes this replica (REPLICAOF NO ONE, PSYNC FAILOVER, an aborted failover): a new
/// replication id with the old one kept as replid2, so siblings re-pointed here get
/// `+CONTINUE`; the backlog is kept; sub-replicas reconnect to learn the new id.
pub fn become_master(
    shared: &Shared,
    repl: &mut super::Replication,
    ks: &mut crate::store::Keyspace,
    why: &str,
) {
    if repl.master.take().is_none() {
        return;
    }
    ks.is_replica = false;
    repl.shift_replication_id();
    if repl.backlog.is_none() {
        let size = shared.config().backlog_size();
        let offset = repl.offset;
        repl.install_backlog(size, offset);
    }
    repl.disconnect_replicas();
    crate::logging::set_role(b'M');
    shared.config_mut().replicaof = None;
    info!("MASTER MODE enabled ({why})");
}

/// Replies the handshake expects.
async fn read_line(stream: &mut TcpStream, buf: &mut BytesMut) -> Result<String, String> {
    loop {
        if let Some(pos) = buf.iter().position(|&b| b == b'\n') {
            let line = buf.split_to(pos + 1);
            let text = String::from_utf8_lossy(&line[..pos])
                .trim_end_matches('\r')
                .to_string();
            return Ok(text);
        }
        if buf.len() > 64 * 1024 {
            return Err("reply line too long".into());
        }
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read_buf(buf))
            .await
            .map_err(|_| "timeout reading from master".to_string())?
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed by master".into());
        }
    }
}

async fn send(stream: &mut TcpStream, args: &[&[u8]]) -> Result<(), String> {
    let mut out = bytes::BytesMut::new();
    let args: Vec<Bytes> = args.iter().map(|a| Bytes::copy_from_slice(a)).collect();
    propagate::encode(&args, &mut out);
    stream.write_all(&out).await.map_err(|e| e.to_string())
}

fn still_current(shared: &Shared, generation: u64) -> bool {
    shared
        .core()
        .repl
        .master
        .as_ref()
        .is_some_and(|m| m.generation == generation)
}

fn set_state(shared: &Shared, generation: u64, state: LinkState) {
    if let Some(m) = shared
        .core()
        .repl
        .master
        .as_mut()
        .filter(|m| m.generation == generation)
    {
        m.state = state;
        if state == LinkState::Connected {
            m.down_since = None;
        } else if m.down_since.is_none() {
            m.down_since = Some(Some(Instant::now()));
        }
    }
}

/// The link task: runs until REPLICAOF changes the target.
pub async fn run(shared: Arc<Shared>, host: String, port: u16, generation: u64) {
    let mut backoff = Duration::from_millis(50);
    while still_current(&shared, generation) {
        info!("Connecting to MASTER {host}:{port}");
        set_state(&shared, generation, LinkState::Connecting);
        match session(&shared, &host, port, generation).await {
            Ok(()) => backoff = Duration::from_millis(50),
            Err(e) => {
                if still_current(&shared, generation) {
                    warn!("MASTER <-> REPLICA link with {host}:{port}: {e}");
                }
            }
        }
        if !still_current(&shared, generation) {
            break;
        }
        set_state(&shared, generation, LinkState::Connect);
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(1));
    }
}

/// One connection to the master, from connect to link loss.
async fn session(
    shared: &Arc<Shared>,
    host: &str,
    port: u16,
    generation: u64,
) -> Result<(), String> {
    let mut stream = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect((host, port)))
        .await
        .map_err(|_| "connection timeout".to_string())?
        .map_err(|e| format!("Error condition on socket for SYNC: {e}"))?;
    let _ = stream.set_nodelay(true);
    info!("MASTER <-> REPLICA sync started");
    set_state(shared, generation, LinkState::Handshake);
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let (auth, user, announce_port, announce_ip) = {
        let cfg = shared.config();
        let p = cfg.int("replica-announce-port");
        (
            cfg.get("masterauth").to_string(),
            cfg.get("masteruser").to_string(),
            if p > 0 { p as u16 } else { shared.port },
            cfg.get("replica-announce-ip").to_string(),
        )
    };
    send(&mut stream, &[b"PING"]).await?;
    let pong = read_line(&mut stream, &mut buf).await?;
    if pong.starts_with('-') && !pong.starts_with("-NOAUTH") {
        return Err(format!("Error reply to PING from master: '{pong}'"));
    }
    info!("Master replied to PING, replication can continue...");
    if !auth.is_empty() {
        if user.is_empty() {
            send(&mut stream, &[b"AUTH", auth.as_bytes()]).await?;
        } else {
            send(&mut stream, &[b"AUTH", user.as_bytes(), auth.as_bytes()]).await?;
        }
        let r = read_line(&mut stream, &mut buf).await?;
        if r.starts_with('-') {
            return Err(format!("Unable to AUTH to MASTER: {r}"));
        }
    }
    send(
        &mut stream,
        &[
            b"REPLCONF",
            b"listening-port",
            announce_port.to_string().as_bytes(),
        ],
    )
    .await?;
    let r = read_line(&mut stream, &mut buf).await?;
    if r.starts_with('-') {
        info!("(Non critical) Master does not understand REPLCONF listening-port: {r}");
    }
    if !announce_ip.is_empty() {
        send(
            &mut stream,
            &[b"REPLCONF", b"ip-address", announce_ip.as_bytes()],
        )
        .await?;
        let r = read_line(&mut stream, &mut buf).await?;
        if r.starts_with('-') {
            info!("(Non critical) Master does not understand REPLCONF ip-address: {r}");
        }
    }
    send(
        &mut stream,
        &[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"],
    )
    .await?;
    let _ = read_line(&mut stream, &mut buf).await?;
    // PSYNC with our history when we have one; a master handing over (FAILOVER) says so.
    let (req_id, req_off, failing_over, transfer) = {
        let core = shared.core();
        let (id, off) = if core.repl.has_history {
            (core.repl.replid.clone(), core.repl.offset + 1)
        } else {
            ("?".to_string(), -1)
        };
        let failing_over = core.repl.failover.state == super::failover::FailoverState::InProgress;
        let transfer = core.repl.master.as_ref().map(|m| m.transfer.clone());
        (id, off, failing_over, transfer.unwrap_or_default())
    };
    if req_id == "?" {
        info!("Partial resynchronization not possible (no cached master)");
    } else {
        info!("Trying a partial resynchronization (request {req_id}:{req_off}).");
    }
    let req_off = req_off.to_string();
    let mut psync: Vec<&[u8]> = vec![b"PSYNC", req_id.as_bytes(), req_off.as_bytes()];
    if failing_over {
        psync.push(b"FAILOVER");
    }
    send(&mut stream, &psync).await?;
    let reply = loop {
        let line = read_line(&mut stream, &mut buf).await?;
        if !line.is_empty() {
            break line;
        }
    };
    if failing_over {
        let mut core = shared.core();
        let core = &mut *core;
        if reply.starts_with("+FULLRESYNC") || reply.starts_with("+CONTINUE") {
            super::failover::clear(shared, &mut core.repl);
        } else {
            super::failover::abort(
                shared,
                &mut core.repl,
                &mut core.ks,
                "Failover target rejected psync request",
            );
            return Err(format!("failover target rejected PSYNC: {reply}"));
        }
    }
    let mut eof_ack = None;
    if let Some(rest) = reply.strip_prefix("+FULLRESYNC ") {
        let mut parts = rest.split_whitespace();
        let id = parts.next().unwrap_or("").to_string();
        let off: i64 = parts.next().and_then(|o| o.parse().ok()).unwrap_or(-1);
        info!("Full resync from master: {id}:{off}");
        set_state(shared, generation, LinkState::Sync);
        let eof = full_sync(shared, &mut stream, &mut buf, &id, off, &transfer).await?;
        if eof {
            eof_ack = Some(off);
        }
    } else if let Some(rest) = reply.strip_prefix("+CONTINUE") {
        let new_id = rest.trim();
        let mut core = shared.core();
        let repl = &mut core.repl;
        if !new_id.is_empty() && !new_id.eq_ignore_ascii_case(&repl.replid) {
            repl.replid2 = std::mem::replace(&mut repl.replid, new_id.to_string());
            repl.second_replid_offset = repl.offset + 1;
            info!("Master replication ID changed to {new_id}");
            repl.disconnect_replicas();
        }
        drop(core);
        info!("Successful partial resynchronization with master.");
        info!("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
    } else if reply.starts_with("-NOMASTERLINK") || reply.starts_with("-LOADING") {
        return Err(format!(
            "Master is currently unable to PSYNC but should be in the future: {reply}"
        ));
    } else {
        return Err(format!("Unexpected reply to PSYNC from master: {reply}"));
    }
    set_state(shared, generation, LinkState::Connected);
    if let Some(off) = eof_ack {
        send(
            &mut stream,
            &[b"REPLCONF", b"ACK", off.to_string().as_bytes()],
        )
        .await?;
    }
    stream_commands(shared, &mut stream, buf, generation).await
}

/// Reads the RDB (either framing), loads it beside the current data and swaps it in. Returns
/// whether it was EOF-framed (an ACK is then due at once).
async fn full_sync(
    shared: &Arc<Shared>,
    stream: &mut TcpStream,
    buf: &mut BytesMut,
    id: &str,
    off: i64,
    transfer: &TransferProgress,
) -> Result<bool, String> {
    let header = loop {
        let line = read_line(stream, buf).await?;
        if line.is_empty() {
            continue; // keep-alive while the master prepares the snapshot
        }
        break line;
    };
    let started = Instant::now();
    let timeout = Duration::from_secs(shared.config().int("repl-timeout").max(1) as u64);
    let to_disk = load_through_disk(shared);
    let target = if to_disk { "disk" } else { "parser" };
    let framing = if let Some(mark) = header.strip_prefix("$EOF:") {
        let mark = mark.as_bytes();
        if mark.len() < 40 {
            return Err("bad EOF mark".into());
        }
        info!("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to {target}");
        transfer.start(-1);
        Framing::Eof(mark[..40].to_vec())
    } else if let Some(len) = header
        .strip_prefix('$')
        .and_then(|l| l.parse::<usize>().ok())
    {
        info!("MASTER <-> REPLICA sync: receiving {len} bytes from master to {target}");
        transfer.start(len as i64);
        Framing::Len(len)
    } else if header.starts_with('-') {
        return Err(format!(
            "MASTER aborted replication with an error: {header}"
        ));
    } else {
        return Err(format!(
            "Bad protocol from MASTER, the first byte is not '$' (we received '{header}')"
        ));
    };
    // The payload is parsed as it arrives, beside the live data (clients keep reading the old
    // dataset until the swap), and in the disk modes also written to the RDB file.
    let (dbs, limits) = (
        shared.config().int("databases").max(1) as usize,
        shared.hot.encoding_limits(),
    );
    let rdb_path = to_disk.then(|| crate::server::persistence::rdb_path(&shared.config()));
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    let len = match framing {
        Framing::Len(n) => Some(n as u64),
        Framing::Eof(_) => None,
    };
    let loader = tokio::task::spawn_blocking(move || load_streamed(rx, len, dbs, limits, rdb_path));
    info!("MASTER <-> REPLICA sync: Loading DB in memory");
    let received = receive_payload(shared, stream, buf, &framing, &tx, timeout, transfer).await;
    drop(tx);
    let loaded = loader.await.map_err(|e| e.to_string())?;
    received?;
    let Loaded {
        staging,
        keys,
        stream_db,
        note,
        rdb_file,
    } = loaded?;
    if let Some(note) = note {
        warn!("MASTER <-> REPLICA sync: {note}");
    }
    {
        let mut core = shared.core();
        let core = &mut *core;
        crate::server::persistence::kill_bgsave(&mut core.ks, &mut core.persistence);
        core.ks.replace_all(staging);
        let repl = &mut core.repl;
        repl.replid = id.to_string();
        repl.replid2 = super::NO_REPLID.to_string();
        repl.second_replid_offset = -1;
        repl.offset = off;
        repl.has_history = true;
        let size = shared.config().backlog_size();
        repl.install_backlog(size, off);
        repl.disconnect_replicas();
        repl.master_db = stream_db;
        if let Some(m) = repl.master.as_mut() {
            m.read_offset = off;
        }
    }
    info!(
        "MASTER <-> REPLICA sync: Finished with success ({keys} keys, {:.3} s)",
        started.elapsed().as_secs_f64()
    );
    if let Some(path) = rdb_file {
        let cfg = shared.config();
        let persistent =
            crate::server::persistence::has_save_points(&cfg) || cfg.bool("appendonly");
        if cfg.bool("rdb-del-sync-files") && !persistent {
            info!("Removing the RDB file obtained from the master. This replica has persistence disabled");
            let _ = std::fs::remove_file(path);
        }
    }
    Ok(matches!(framing, Framing::Eof(_)))
}

/// How the master frames the RDB payload.
enum Framing {
    /// `$EOF:<40 bytes>`: the payload ends with the same 40 bytes.
    Eof(Vec<u8>),
    /// `$<len>`.
    Len(usize),
}

/// Reads the payload from the socket and hands it to the loader in chunks (holding back the last
/// 40 bytes of an EOF transfer until they are known not to be the mark). Bytes after a `$<len>`
/// payload stay in `buf`: they are the start of the command stream.
async fn receive_payload(
    shared: &Shared,
    stream: &mut TcpStream,
    buf: &mut BytesMut,
    framing: &Framing,
    tx: &tokio::sync::mpsc::Sender<Bytes>,
    timeout: Duration,
    transfer: &TransferProgress,
) -> Result<(), String> {
    let loader_gone = || "the loader stopped (see its error)".to_string();
    let mut remaining = match framing {
        Framing::Len(n) => *n,
        Framing::Eof(_) => usize::MAX,
    };
    // EOF framing: bytes held back in `buf` that were already counted as received.
    let mut counted = 0;
    loop {
        match framing {
            Framing::Eof(mark) => {
                transfer.received(buf.len() - counted);
                counted = buf.len();
                if buf.len() >= 40 && buf[buf.len() - 40..] == mark[..] {
                    let body = buf.split_to(buf.len() - 40).freeze();
                    buf.clear();
                    if !body.is_empty() {
                        tx.send(body).await.map_err(|_| loader_gone())?;
                    }
                    return Ok(());
                }
                if buf.len() > 40 {
                    let body = buf.split_to(buf.len() - 40).freeze();
                    counted = buf.len();
                    tx.send(body).await.map_err(|_| loader_gone())?;
                }
            }
            Framing::Len(_) => {
                let take = buf.len().min(remaining);
                if take > 0 {
                    transfer.received(take);
                    remaining -= take;
                    let body = buf.split_to(take).freeze();
                    tx.send(body).await.map_err(|_| loader_gone())?;
                }
                if remaining == 0 {
                    return Ok(());
                }
            }
        }
        buf.reserve(64 * 1024);
        let n = tokio::time::timeout(timeout, stream.read_buf(buf))
            .await
            .map_err(|_| "Timeout receiving bulk data from MASTER".to_string())?
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("I/O error trying to sync with MASTER: connection lost".into());
        }
        shared.count_repl_input(n);
    }
}

/// The payload as a `Read`, fed by [`receive_payload`]; copies every byte to `file` when the
/// transfer is kept on disk.
struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<Bytes>,
    current: Bytes,
    /// The disk modes' copy of the transfer.
    file: Option<AtomicFile>,
}

impl std::io::Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(chunk) => {
                    if let Some(f) = self.file.as_mut() {
                        std::io::Write::write_all(f, &chunk)?;
                    }
                    self.current = chunk;
                }
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.current.len());
        out[..n].copy_from_slice(&self.current[..n]);
        self.current = self.current.slice(n..);
        Ok(n)
    }
}

/// What the loader thread built.
struct Loaded {
    staging: crate::store::Keyspace,
    keys: u64,
    stream_db: usize,
    /// Records of the RDB we could not load (function libraries, module aux), to warn about.
    note: Option<String>,
    /// The RDB file now holding the transfer (disk modes).
    rdb_file: Option<std::path::PathBuf>,
}

/// Loader thread: parses the payload into a staging keyspace as it arrives; in the disk modes
/// also writes it to a temp file that replaces the RDB file once the whole load succeeded.
fn load_streamed(
    rx: tokio::sync::mpsc::Receiver<Bytes>,
    len: Option<u64>,
    dbs: usize,
    limits: crate::store::EncodingLimits,
    rdb_path: Option<std::path::PathBuf>,
) -> Result<Loaded, String> {
    let file = match &rdb_path {
        Some(path) => Some(
            AtomicFile::create(path, crate::server::persistence::temp_path(path)).map_err(|e| {
                format!("Opening the temp file needed for MASTER <-> REPLICA synchronization: {e}")
            })?,
        ),
        None => None,
    };
    let input = ChannelReader {
        rx,
        current: Bytes::new(),
        file,
    };
    let loaded = (|| {
        let fail = |e: crate::rdb::Error| {
            format!("Failed trying to load the MASTER synchronization DB from socket: {e}")
        };
        let reader = match len {
            Some(n) => crate::rdb::Reader::with_len(input, n),
            None => crate::rdb::Reader::new(input),
        };
        let mut reader = reader
            .map_err(fail)?
            .with_limits(limits)
            .with_databases(dbs);
        let mut staging = crate::store::Keyspace::new(dbs);
        staging.is_replica = true;
        let keys = crate::rdb::load_into(&mut reader, &mut staging, |_, _| true).map_err(fail)?;
        let note = reader.not_loaded();
        let stream_db = reader.repl_stream_db().unwrap_or(0).max(0) as usize;
        let mut input = reader.into_inner();
        // Whatever follows the RDB inside the payload is still part of the file.
        std::io::copy(&mut input, &mut std::io::sink()).map_err(|e| e.to_string())?;
        Ok::<_, String>((staging, keys, stream_db, note, input.file.take()))
    })();
    // On an error the copy is dropped with the reader: the RDB file stays as it was.
    let (staging, keys, stream_db, note, file) = loaded?;
    if let Some(file) = file {
        file.commit().map_err(|e| {
            format!("Failed trying to rename the temp DB into the final DB file: {e}")
        })?;
    }
    Ok(Loaded {
        staging,
        keys,
        stream_db,
        note,
        rdb_file: rdb_path,
    })
}

/// `repl-diskless-load`: `disabled` keeps the transfer as the RDB file before loading it, as
/// Redis does; `on-empty-db` does so unless we hold no keys; `swapdb` only loads it. Every
/// mode loads beside the live data and swaps (no empty window).
fn load_through_disk(shared: &Shared) -> bool {
    let mode = shared
        .config()
        .get("repl-diskless-load")
        .to_ascii_lowercase();
    match mode.as_str() {
        "swapdb" => false,
        "on-empty-db" => {
            let core = shared.core();
            (0..core.ks.db_count()).any(|db| core.ks.dbsize(db) > 0)
        }
        _ => true,
    }
}

/// Takes the master link out of the client registry when its session ends.
struct Registered<'a>(&'a Shared, u64);

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.0.clients().remove(&self.1);
    }
}

/// Applies the master's stream: each command runs with no reply, the offset advances once a
/// command (or a whole MULTI/EXEC) has run, sub-replicas get the same bytes, ACKs go upstream.
async fn stream_commands(
    shared: &Arc<Shared>,
    stream: &mut TcpStream,
    mut buf: BytesMut,
    generation: u64,
) -> Result<(), String> {
    // Like Redis's master client, the link is in the client registry: CLIENT LIST shows it with
    // flags=M and CLIENT KILL TYPE master (or ID/ADDR) closes it; the link then reconnects and
    // resumes with PSYNC.
    let id = shared.next_client_id();
    let (handle, _rx) = ClientHandle::new(
        id,
        stream.peer_addr().map_err(|e| e.to_string())?,
        stream.local_addr().map_err(|e| e.to_string())?,
    );
    handle.update(|i| i.kind = ClientKind::Master);
    shared.clients().insert(id, handle.clone());
    let _registered = Registered(shared, id);
    let mut client = ClientState::new(handle.clone(), true);
    client.kind = ClientKind::Master;
    client.db = shared.core().repl.master_db;
    let mut parser = Parser::new(ParseLimits::default());
    let mut out = Out::new(Resp::V2);
    let mut ack_tick = tokio::time::interval(Duration::from_secs(1));
    let timeout = Duration::from_secs(shared.config().int("repl-timeout").max(1) as u64);
    let mut last_io = Instant::now();
    // Bytes consumed but not yet counted (inside MULTI the offset moves only at EXEC).
    let mut uncounted: i64 = 0;
    loop {
        if !still_current(shared, generation) {
            return Ok(());
        }
        if handle.is_killed() {
            return Err("killed by CLIENT KILL".into());
        }
        let mut getack = false;
        let mut getack_bytes = 0;
        {
            let mut core = shared.core();
            let core = &mut *core;
            // Sub-replicas and our backlog get exactly the bytes we applied: the master's own
            // bytes, forwarded once per batch (not re-encoded command by command). Nothing is
            // copied while a large argument is still arriving.
            let batch = if buf.len() < parser.needs() {
                Bytes::new()
            } else {
                Bytes::copy_from_slice(&buf)
            };
            let mut applied = 0usize;
            loop {
                let before = buf.len();
                let args = match parser.next(&mut buf) {
                    Ok(Some(a)) => a,
                    Ok(None) => break,
                    Err(e) => {
                        core.repl.write_stream_applied(&batch[..applied]);
                        return Err(format!("protocol error from master: {}", e.0));
                    }
                };
                let consumed = (before - buf.len()) as i64;
                applied += before - buf.len();
                if args[0].eq_ignore_ascii_case(b"replconf")
                    && args
                        .get(1)
                        .is_some_and(|a| a.eq_ignore_ascii_case(b"getack"))
                {
                    // The ACK it asks for carries the offset before the GETACK itself.
                    getack = true;
                    getack_bytes = consumed;
                    break;
                }
                uncounted += consumed;
                if !args[0].eq_ignore_ascii_case(b"ping") {
                    out.buf.clear();
                    let mut ctx = crate::commands::Ctx::new(core, &mut client, shared, &mut out);
                    crate::commands::call(&mut ctx, &args);
                    if let Some(err) = out
                        .buf
                        .first()
                        .filter(|&&b| b == b'-')
                        .map(|_| String::from_utf8_lossy(&out.buf).trim().to_string())
                    {
                        warn!("== CRITICAL == This replica is sending an error to its master: '{err}' after processing the command '{}'", String::from_utf8_lossy(&args[0]));
                    }
                }
                if client.multi.is_none() {
                    core.repl.offset_applied(uncounted);
                    uncounted = 0;
                }
            }
            core.repl.write_stream_applied(&batch[..applied]);
            if let Some(m) = core.repl.master.as_mut() {
                m.last_io = Some(last_io);
                m.read_offset = core.repl.offset + uncounted;
            }
            if !core.blocked.is_empty() {
                crate::commands::serve_blocked(core, shared);
            }
            core.repl.flush_outbox();
        }
        if getack {
            let off = shared.core().repl.offset;
            send(stream, &[b"REPLCONF", b"ACK", off.to_string().as_bytes()]).await?;
            shared.core().repl.offset_applied(getack_bytes);
            continue;
        }
        // Read in large chunks: one lock and one batch per read.
        if buf.capacity() - buf.len() < 16 * 1024 {
            buf.reserve(64 * 1024);
        }
        tokio::select! {
            r = stream.read_buf(&mut buf) => match r {
                Ok(0) => return Err("connection lost".into()),
                Ok(n) => {
                    last_io = Instant::now();
                    shared.count_repl_input(n);
                }
                Err(e) => return Err(e.to_string()),
            },
            _ = handle.killed() => return Err("killed by CLIENT KILL".into()),
            _ = ack_tick.tick() => {
                if last_io.elapsed() > timeout {
                    return Err("MASTER timeout: no data nor PING received...".into());
                }
                let off = shared.core().repl.offset;
                send(stream, &[b"REPLCONF", b"ACK", off.to_string().as_bytes()]).await?;
            }
        }
    }
}
