//! WATCH bookkeeping: which clients watch which keys, and which of them saw a watched key change
//! (their next EXEC fails). Lives with the keyspace because every write path must reach it.

use super::Keyspace;
use std::collections::{HashMap, HashSet};

/// Watchers per `(db, key)` and clients whose transaction is already broken.
#[derive(Default, Debug)]
pub struct Watches {
    by_key: HashMap<(usize, Vec<u8>), Vec<u64>>,
    /// Per client: the watched keys and whether each was already expired when watched.
    by_client: HashMap<u64, Vec<(usize, Vec<u8>, bool)>>,
    broken: HashSet<u64>,
}

impl Watches {
    fn touch(&mut self, db: usize, key: &[u8]) {
        if self.by_key.is_empty() {
            return;
        }
        if let Some(ids) = self.by_key.get(&(db, key.to_vec())) {
            self.broken.extend(ids.iter().copied());
        }
    }

    fn touch_db(&mut self, db: usize) {
        for ((d, _), ids) in &self.by_key {
            if *d == db {
                self.broken.extend(ids.iter().copied());
            }
        }
    }
}

impl Keyspace {
    /// WATCH: `client` now watches `key` in `db`.
    pub fn watch(&mut self, client: u64, db: usize, key: &[u8]) {
        let ids = self.watches.by_key.entry((db, key.to_vec())).or_default();
        if ids.contains(&client) {
            return;
        }
        ids.push(client);
        let expired = self.is_logically_expired(db, key);
        self.watches
            .by_client
            .entry(client)
            .or_default()
            .push((db, key.to_vec(), expired));
    }

    /// True if a key `client` watches has expired since it was watched, even though nobody
    /// touched it (Redis 7.0 checks this at EXEC).
    pub fn watched_key_expired(&self, client: u64) -> bool {
        self.watches.by_client.get(&client).is_some_and(|keys| {
            keys.iter()
                .any(|(db, key, was)| !was && self.is_logically_expired(*db, key))
        })
    }

    /// UNWATCH / EXEC / DISCARD / disconnect: forget everything `client` watched.
    pub fn unwatch_all(&mut self, client: u64) {
        self.watches.broken.remove(&client);
        let Some(keys) = self.watches.by_client.remove(&client) else {
            return;
        };
        for (db, key, _) in keys {
            let k = (db, key);
            if let Some(ids) = self.watches.by_key.get_mut(&k) {
                ids.retain(|&c| c != client);
                if ids.is_empty() {
                    self.watches.by_key.remove(&k);
                }
            }
        }
    }

    /// True if a key `client` watches changed since it started watching.
    pub fn watch_broken(&self, client: u64) -> bool {
        self.watches.broken.contains(&client)
    }

    /// A key changed: break the transactions watching it (Redis's `signalModifiedKey`).
    pub fn signal_modified(&mut self, db: usize, key: &[u8]) {
        self.watches.touch(db, key);
    }

    /// A whole database changed (FLUSHDB, FLUSHALL, SWAPDB).
    pub fn signal_flushed(&mut self, db: usize) {
        self.watches.touch_db(db);
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Keyspace, Value};

    #[test]
    fn writes_and_flushes_break_watchers() {
        let mut ks = Keyspace::new(2);
        ks.watch(7, 0, b"a");
        ks.watch(8, 1, b"b");
        ks.signal_modified(0, b"other");
        assert!(!ks.watch_broken(7));
        ks.signal_modified(0, b"a");
        assert!(ks.watch_broken(7));
        assert!(!ks.watch_broken(8));
        ks.signal_flushed(1);
        assert!(ks.watch_broken(8));
        ks.unwatch_all(7);
        assert!(!ks.watch_broken(7));
        // Expiry counts as a change.
        ks.set(0, b"t", Value::Int(1), false);
        ks.set_expire(0, b"t", ks.now - 1);
        ks.watch(9, 0, b"t");
        assert!(ks.get(0, b"t").is_none());
        assert!(ks.watch_broken(9));
    }
}
