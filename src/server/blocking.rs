//! Clients blocked on keys (BLPOP, BLMOVE, BZPOPMIN, ...): who waits on what, in arrival order,
//! and which keys received a write while someone waits on them.
//!
//! Serving happens on the writer's side, under the same lock acquisition as the write: after a
//! command (or a whole EXEC) changes a key somebody waits on, the waiters' commands are run again
//! in arrival order and their replies pushed to their connections. So waiters are served in the
//! order they blocked, atomically with the write that satisfied them, with no polling.

use super::ClientHandle;
use crate::protocol::Resp;
use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

/// What a blocked client receives when its timeout passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutReply {
    /// `*-1` (RESP3 `_`): every blocking list and sorted-set command in Redis 7.0.15, BLMOVE
    /// and BRPOPLPUSH included.
    NullArray,
}

/// A client waiting for one of `keys` to receive data.
#[derive(Debug, Clone)]
pub struct BlockedClient {
    /// The waiting connection.
    pub handle: Arc<ClientHandle>,
    /// Database the keys live in.
    pub db: usize,
    /// Protocol of the waiting client, for the reply it will get.
    pub resp: Resp,
    /// The command to run again when a key is ready.
    pub args: Vec<Bytes>,
    /// Keys waited on.
    pub keys: Vec<Bytes>,
    /// When to give up; `None` waits forever.
    pub deadline: Option<Instant>,
    /// The reply when the deadline passes.
    pub on_timeout: TimeoutReply,
}

/// Every blocked client.
#[derive(Default, Debug)]
pub struct BlockedClients {
    by_key: HashMap<(usize, Vec<u8>), VecDeque<u64>>,
    clients: HashMap<u64, BlockedClient>,
    ready: Vec<(usize, Vec<u8>)>,
}

impl BlockedClients {
    /// Number of blocked clients (INFO `blocked_clients`).
    pub fn len(&self) -> usize {
        self.clients.len()
    }

    /// True when nobody is blocked.
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    /// Registers a client at the back of every key's queue (or the front, when it was just
    /// served and must block again without losing its place).
    pub fn add(&mut self, client: BlockedClient, front: bool) {
        let id = client.handle.id;
        for key in &client.keys {
            let queue = self.by_key.entry((client.db, key.to_vec())).or_default();
            if !queue.contains(&id) {
                if front {
                    queue.push_front(id);
                } else {
                    queue.push_back(id);
                }
            }
        }
        self.clients.insert(id, client);
    }

    /// Unregisters a client (served, timed out, unblocked or disconnected).
    pub fn remove(&mut self, id: u64) -> Option<BlockedClient> {
        let client = self.clients.remove(&id)?;
        for key in &client.keys {
            let k = (client.db, key.to_vec());
            if let Some(queue) = self.by_key.get_mut(&k) {
                queue.retain(|&c| c != id);
                if queue.is_empty() {
                    self.by_key.remove(&k);
                }
            }
        }
        Some(client)
    }

    /// The registration of a blocked client.
    pub fn get(&self, id: u64) -> Option<&BlockedClient> {
        self.clients.get(&id)
    }

    /// A key was written: if somebody waits on it, remember it for serving.
    pub fn signal(&mut self, db: usize, key: &[u8]) {
        if self.by_key.is_empty() {
            return;
        }
        let k = (db, key.to_vec());
        if self.by_key.contains_key(&k) && !self.ready.contains(&k) {
            self.ready.push(k);
        }
    }

    /// A whole database changed (SWAPDB, MOVE into it...): every key waited on in it is ready.
    pub fn signal_db(&mut self, db: usize) {
        let keys: Vec<_> = self
            .by_key
            .keys()
            .filter(|(d, _)| *d == db)
            .cloned()
            .collect();
        for k in keys {
            if !self.ready.contains(&k) {
                self.ready.push(k);
            }
        }
    }

    /// Takes the keys signalled since the last call.
    pub fn take_ready(&mut self) -> Vec<(usize, Vec<u8>)> {
        std::mem::take(&mut self.ready)
    }

    /// True if keys are waiting to be served.
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Clients waiting on `key`, in arrival order.
    pub fn waiters(&self, db: usize, key: &[u8]) -> Vec<u64> {
        self.by_key
            .get(&(db, key.to_vec()))
            .map(|q| q.iter().copied().collect())
            .unwrap_or_default()
    }
}
