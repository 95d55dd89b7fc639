//! Coordinated failover (`FAILOVER`, replication.md §8.8): the master pauses writes, waits until a
//! replica has acknowledged every byte of the stream, then becomes a replica of it with
//! `PSYNC <replid> <offset+1> FAILOVER`, which makes the target promote itself and answer
//! `+CONTINUE`. No acknowledged write is lost and nobody needs a full sync.
//!
//! The state lives in [`super::Replication`] (under the keyspace lock); the write pause is
//! [`crate::server::Shared::set_failover_pause`], separate from CLIENT PAUSE.

use super::Replication;
use crate::server::Shared;
use crate::store::Keyspace;
use std::time::Instant;
use tracing::info;

/// Where a coordinated failover is (`master_failover_state` in INFO).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailoverState {
    #[default]
    None,
    /// Writes are paused until the target has acknowledged our whole stream.
    WaitingForSync,
    /// We are connecting to the target as its replica with `PSYNC ... FAILOVER`.
    InProgress,
}

impl FailoverState {
    /// INFO's word for it.
    pub fn name(self) -> &'static str {
        match self {
            FailoverState::None => "no-failover",
            FailoverState::WaitingForSync => "waiting-for-sync",
            FailoverState::InProgress => "failover-in-progress",
        }
    }
}

/// A requested failover and its options.
#[derive(Debug, Default)]
pub struct Failover {
    pub state: FailoverState,
    /// `TO host port`, or the replica chosen once it caught up.
    pub target: Option<(String, u16)>,
    /// `TIMEOUT ms`, as a deadline.
    pub deadline: Option<Instant>,
    /// `FORCE`: fail over at the deadline even if the target has not caught up.
    pub force: bool,
}

impl Failover {
    fn describe_target(&self) -> String {
        match &self.target {
            Some((host, port)) => format!("{host}:{port}"),
            None => "any replica".to_string(),
        }
    }
}

/// Starts a failover: writes pause until [`update`] sees the target caught up.
pub fn begin(shared: &Shared, repl: &mut Replication, failover: Failover) {
    match &failover.target {
        Some((host, port)) => info!("FAILOVER requested to {host}:{port}."),
        None => info!("FAILOVER requested to any replica."),
    }
    repl.failover = Failover {
        state: FailoverState::WaitingForSync,
        ..failover
    };
    shared.set_failover_pause(true);
}

/// Called by the cron while waiting: fails over once the target (or, without `TO`, any
/// replica) has acknowledged `master_repl_offset`; at the deadline, fails over anyway with
/// FORCE or gives up without it.
pub fn update(shared: &Shared, repl: &mut Replication, ks: &mut Keyspace) {
    if repl.failover.state != FailoverState::WaitingForSync {
        return;
    }
    if repl.failover.deadline.is_some_and(|d| d <= Instant::now()) {
        if repl.failover.force {
            info!(
                "FAILOVER to {} time out exceeded, failing over.",
                repl.failover.describe_target()
            );
            switch_to_target(shared, repl, ks);
        } else {
            abort(shared, repl, ks, "Replica never caught up before timeout");
        }
        return;
    }
    let offset = repl.offset;
    let caught_up = repl.replicas.iter().find(|r| {
        r.ack_off == offset
            && repl
                .failover
                .target
                .as_ref()
                .is_none_or(|(host, port)| host.eq_ignore_ascii_case(&r.ip) && *port == r.port)
    });
    if let Some(r) = caught_up {
        repl.failover.target = Some((r.ip.clone(), r.port));
        info!(
            "Failover target {} is synced, failing over.",
            repl.failover.describe_target()
        );
        switch_to_target(shared, repl, ks);
    }
}

fn switch_to_target(shared: &Shared, repl: &mut Replication, ks: &mut Keyspace) {
    repl.failover.state = FailoverState::InProgress;
    if let Some((host, port)) = repl.failover.target.clone() {
        super::replica::become_replica(shared, repl, ks, host, port);
    }
}

/// Gives up: a node already following the target becomes a master again; writes resume.
pub fn abort(shared: &Shared, repl: &mut Replication, ks: &mut Keyspace, why: &str) {
    if repl.failover.state == FailoverState::None {
        return;
    }
    info!(
        "FAILOVER to {} aborted: {why}",
        repl.failover.describe_target()
    );
    if repl.failover.state == FailoverState::InProgress {
        super::replica::become_master(shared, repl, ks, "failover aborted");
    }
    clear(shared, repl);
}

/// The failover is over (the target accepted our PSYNC, or it was aborted): writes resume.
pub fn clear(shared: &Shared, repl: &mut Replication) {
    repl.failover = Failover::default();
    shared.set_failover_pause(false);
}
