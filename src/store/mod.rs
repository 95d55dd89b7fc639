//! The in-memory keyspace: databases of keys with values and expiry times.
//!
//! Every mutation goes through [`Keyspace`] methods, which stamp the entry with the current write
//! epoch. That single choke point is where the fork-free point-in-time snapshot hooks in ("hand the
//! old value to the snapshot before changing an entry older than the cut").

pub mod access;
mod compact;
mod dict;
pub mod evict;
mod expire;
pub mod glob;
mod hash;
pub mod lazyfree;
mod list;
mod set;
mod shared;
mod snapshot;
mod value;
mod watch;
mod zset;

pub use compact::CompactBytes;
pub use dict::{hash_bytes, Dict};
pub use hash::Hash;
pub use list::List;
pub use set::{Member as SetMember, Set};
pub use snapshot::{DbSizes, ItemValue, SnapshotBatch, SnapshotItem};
pub use value::Value;
pub use watch::Watches;
pub use zset::ZSet;

use rand::rngs::SmallRng;
use rand::SeedableRng;
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The thresholds that decide compact collection encodings (the `*-max-listpack-*` and
/// `set-max-intset-entries` directives), passed to the types when they decide or report one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EncodingLimits {
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    pub zset_max_listpack_entries: usize,
    pub zset_max_listpack_value: usize,
    pub set_max_intset_entries: usize,
    /// `list-max-listpack-size`: negative = node size class (-1 4kb .. -5 64kb), positive = entries.
    pub list_max_listpack_size: i64,
}

impl Default for EncodingLimits {
    /// Redis 7.0's defaults.
    fn default() -> Self {
        EncodingLimits {
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            set_max_intset_entries: 512,
            list_max_listpack_size: -2,
        }
    }
}

/// A key's slot in a database.
#[derive(Debug)]
pub struct Entry {
    /// The value.
    pub value: Value,
    /// Write epoch of the last change (see the module docs).
    pub version: u32,
    /// Seconds-resolution clock of the last access, for OBJECT IDLETIME.
    pub access: u32,
}

impl Entry {
    /// Starts loading what the value keeps on the heap, ahead of a walk reaching the entry.
    pub fn prefetch(&self) {
        if let Value::Str(s) = &self.value {
            let n = s.heap_size();
            if n > 0 {
                // Values of up to ~two lines are read whole by the copy that follows.
                dict::prefetch_addr(s.as_ptr());
                dict::prefetch_addr(s.as_ptr().wrapping_add(n.min(128) - 1));
            }
        }
    }
}

/// One numbered database.
#[derive(Default)]
pub struct Db {
    /// Key → entry.
    pub keys: Dict<Entry>,
    /// Keys with a time to live → absolute expiry in Unix milliseconds.
    pub expires: Dict<i64>,
    /// Where the active expire cycle resumes its walk of `expires`.
    expire_cursor: u64,
}

impl Db {
    /// Number of keys with a TTL.
    pub fn volatile_count(&self) -> usize {
        self.expires.len()
    }
}

/// Counters INFO reports about keyspace activity.
#[derive(Default, Debug, Clone)]
pub struct KeyspaceStats {
    pub hits: u64,
    pub misses: u64,
    pub expired: u64,
    pub expired_stale_perc: f64,
    /// Keys removed to stay under `maxmemory` (INFO `evicted_keys`).
    pub evicted: u64,
}

/// All databases plus the write epoch and counters.
pub struct Keyspace {
    dbs: Vec<Db>,
    /// Stamped on every entry a write touches; a snapshot cuts at an epoch.
    epoch: u32,
    /// Changes since the last successful save (INFO `rdb_changes_since_last_save`).
    pub dirty: u64,
    /// Time of the command being executed, so one command sees one instant (Redis's cached mstime).
    pub now: i64,
    /// True on a replica: expired keys read as missing but are only deleted by the master's DEL.
    pub is_replica: bool,
    /// Hit/miss/expiry counters.
    pub stats: KeyspaceStats,
    /// Whether the active expire cycle runs (DEBUG SET-ACTIVE-EXPIRE).
    pub active_expire: bool,
    /// WATCHed keys and broken transactions.
    watches: Watches,
    /// Keys deleted because their time passed, since the last drain: the server turns them
    /// into `expired` keyspace notifications (and, on a master, DELs for replicas).
    pub expired_log: Vec<(usize, Vec<u8>)>,
    /// Whether key creations are logged in `new_log`: set before each command from
    /// `notify-keyspace-events` (class `n`), so the log costs nothing when nobody listens.
    pub log_new: bool,
    /// Keys created since the last drain (Redis's `dbAdd`), while `log_new` is set: the server
    /// turns them into `new` keyspace notifications.
    pub new_log: Vec<(usize, Vec<u8>)>,
    /// The point-in-time snapshot being taken, if any.
    snapshot: Option<Box<snapshot::SnapshotState>>,
    /// Source of snapshot ids.
    next_snapshot_id: u64,
    rng: SmallRng,
    /// Eviction candidates kept between evictions.
    eviction: evict::EvictionPool,
    /// How `Entry::access` is maintained (set before each command from the config).
    pub access_policy: access::AccessPolicy,
}

impl Keyspace {
    /// `n` empty databases.
    pub fn new(n: usize) -> Self {
        Keyspace {
            dbs: (0..n).map(|_| Db::default()).collect(),
            epoch: 1,
            dirty: 0,
            now: now_ms(),
            is_replica: false,
            stats: KeyspaceStats::default(),
            active_expire: true,
            watches: Watches::default(),
            expired_log: Vec::new(),
            log_new: false,
            new_log: Vec::new(),
            snapshot: None,
            next_snapshot_id: 0,
            rng: SmallRng::from_entropy(),
            eviction: evict::EvictionPool::default(),
            access_policy: access::AccessPolicy::default(),
        }
    }

    /// Number of databases.
    pub fn db_count(&self) -> usize {
        self.dbs.len()
    }

    /// Database `i` for read-only walks (DBSIZE, INFO keyspace, SCAN).
    pub fn db(&self, i: usize) -> &Db {
        &self.dbs[i]
    }

    /// Refreshes the cached time; called before each command.
    pub fn tick(&mut self) {
        self.now = now_ms();
    }

    fn is_expired(&self, db: usize, key: &[u8]) -> bool {
        let d = &self.dbs[db];
        !d.expires.is_empty() && d.expires.get(key).is_some_and(|&at| at <= self.now)
    }

    /// Deletes `key` if its time has passed (a master only). Returns true if the key is logically
    /// gone, whether or not it was deleted.
    fn expire_if_needed(&mut self, db: usize, key: &[u8]) -> bool {
        if !self.is_expired(db, key) {
            return false;
        }
        if !self.is_replica {
            self.expire_entry(db, key);
        }
        true
    }

    /// Removes a key because its time passed (lazily or from the cron).
    fn expire_entry(&mut self, db: usize, key: &[u8]) {
        self.remove_entry(db, key);
        self.stats.expired += 1;
        self.signal_modified(db, key);
        self.expired_log.push((db, key.to_vec()));
    }

    fn remove_entry(&mut self, db: usize, key: &[u8]) -> Option<Entry> {
        self.preserve(db, key);
        let d = &mut self.dbs[db];
        let (_, entry) = d.keys.remove(key)?;
        if !d.expires.is_empty() {
            d.expires.remove(key);
        }
        Some(entry)
    }

    /// Prefetches what looking up `key` will touch, one hop per `level` (see [`Dict::prefetch`]).
    pub fn prefetch(&self, db: usize, key: &[u8], level: u8) {
        self.dbs[db].keys.prefetch(key, level);
    }

    /// The value stored under `key`, with no expiry check and no bookkeeping: only for
    /// prefetching, where reading a stale value is harmless.
    pub fn value_for_prefetch(&self, db: usize, key: &[u8]) -> Option<&Value> {
        self.dbs[db].keys.get(key).map(|e| &e.value)
    }

    /// Looks a key up for reading: expired keys read as missing, the access time is refreshed and
    /// the hit/miss counters move.
    pub fn get(&mut self, db: usize, key: &[u8]) -> Option<&Value> {
        if self.expire_if_needed(db, key) {
            self.stats.misses += 1;
            return None;
        }
        let (policy, now) = (self.access_policy, self.now);
        match self.dbs[db].keys.get_mut(key) {
            Some(e) => {
                policy.touch(&mut e.access, now, &mut self.rng);
                self.stats.hits += 1;
                Some(&e.value)
            }
            None => {
                self.stats.misses += 1;
                None
            }
        }
    }

    /// Looks a key up without touching access time or counters (TYPE, EXISTS, OBJECT, internal).
    pub fn peek(&mut self, db: usize, key: &[u8]) -> Option<&Value> {
        if self.expire_if_needed(db, key) {
            return None;
        }
        self.dbs[db].keys.get(key).map(|e| &e.value)
    }

    /// Applies RESTORE's IDLETIME / FREQ to a key just stored.
    pub fn restore_access(&mut self, db: usize, key: &[u8], idle: Option<i64>, freq: Option<i64>) {
        let (policy, now) = (self.access_policy, self.now);
        if let Some(e) = self.dbs[db].keys.get_mut(key) {
            policy.restore(&mut e.access, now, idle, freq);
        }
    }

    /// The whole entry, for OBJECT IDLETIME and friends.
    pub fn peek_entry(&mut self, db: usize, key: &[u8]) -> Option<&Entry> {
        if self.expire_if_needed(db, key) {
            return None;
        }
        self.dbs[db].keys.get(key)
    }

    /// Looks a key up for modification in place; the entry is stamped with the current epoch.
    pub fn get_mut(&mut self, db: usize, key: &[u8]) -> Option<&mut Value> {
        if self.expire_if_needed(db, key) {
            return None;
        }
        self.preserve(db, key);
        let (epoch, policy, now) = (self.epoch, self.access_policy, self.now);
        let rng = &mut self.rng;
        self.dbs[db].keys.get_mut(key).map(|e| {
            e.version = epoch;
            policy.touch(&mut e.access, now, rng);
            &mut e.value
        })
    }

    /// True if the key exists (and has not expired).
    pub fn exists(&mut self, db: usize, key: &[u8]) -> bool {
        self.peek(db, key).is_some()
    }

    /// Stores `value` under `key`, dropping any TTL unless `keep_ttl`. This is the one place
    /// keys are added to the keyspace, so it logs creations for the `new` event.
    pub fn set(&mut self, db: usize, key: &[u8], value: Value, keep_ttl: bool) {
        let mut entry = Entry {
            value,
            version: self.epoch,
            access: self.access_policy.fresh(self.now),
        };
        // A key whose time passed is gone first (Redis's lookupKeyWrite), so the write creates
        // it anew; on a replica it stays stored, and KEEPTTL keeps nothing of it.
        let keep_ttl = !self.expire_if_needed(db, key) && keep_ttl;
        let d = &mut self.dbs[db];
        match d.keys.get_mut(key) {
            Some(slot) => {
                // Under LFU an overwritten key keeps its frequency, as in Redis.
                if matches!(self.access_policy, access::AccessPolicy::Lfu { .. }) {
                    entry.access = slot.access;
                }
                let old = std::mem::replace(slot, entry);
                if let Some(snap) = self.snapshot.as_mut() {
                    snap.hand_over_replaced(db, key, old, &d.expires);
                }
                if !keep_ttl && !d.expires.is_empty() {
                    d.expires.remove(key);
                }
            }
            None => {
                // An expired key that is still stored keeps its TTL entry: drop it too.
                if !d.expires.is_empty() {
                    d.expires.remove(key);
                }
                d.keys.insert_absent(key, entry);
                if self.log_new {
                    self.new_log.push((db, key.to_vec()));
                }
            }
        }
    }

    /// Deletes a key; true if it existed (expired keys count as absent).
    pub fn delete(&mut self, db: usize, key: &[u8]) -> bool {
        self.remove_for_good(db, key, false)
    }

    /// [`Keyspace::delete`] that frees a large value in the background (UNLINK).
    pub fn unlink(&mut self, db: usize, key: &[u8]) -> bool {
        self.remove_for_good(db, key, true)
    }

    /// Removes a key whose value nobody reads again (DEL, UNLINK): a snapshot that has not
    /// visited it yet takes the value as it is (no copy, unlike a write that keeps the key);
    /// otherwise it is freed here, or in the background when `lazy` and large.
    fn remove_for_good(&mut self, db: usize, key: &[u8], lazy: bool) -> bool {
        if self.expire_if_needed(db, key) {
            return false;
        }
        let Some((_, entry)) = self.dbs[db].keys.remove(key) else {
            return false;
        };
        // Before the TTL goes: the snapshot records it with the value.
        let left = self.preserve_removed(db, key, entry);
        let d = &mut self.dbs[db];
        if !d.expires.is_empty() {
            d.expires.remove(key);
        }
        if let Some(e) = left {
            if lazy && e.value.free_effort() > lazyfree::THRESHOLD {
                lazyfree::free_later(e, 1);
            }
        }
        true
    }

    /// Removes and returns a key's value and TTL (RENAME, MOVE, GETDEL).
    pub fn take(&mut self, db: usize, key: &[u8]) -> Option<(Value, Option<i64>)> {
        if self.expire_if_needed(db, key) {
            return None;
        }
        let ttl = self.dbs[db].expires.get(key).copied();
        self.remove_entry(db, key).map(|e| (e.value, ttl))
    }

    /// Absolute expiry (Unix ms) of a live key, `None` if it has no TTL.
    pub fn expire_at(&self, db: usize, key: &[u8]) -> Option<i64> {
        self.dbs[db].expires.get(key).copied()
    }

    /// Sizes database `db` for `keys` keys, `expires` of them with a TTL (RESIZEDB while
    /// loading an RDB): no rehashing during the load.
    pub fn reserve(&mut self, db: usize, keys: usize, expires: usize) {
        if let Some(d) = self.dbs.get_mut(db) {
            d.keys.reserve(keys);
            d.expires.reserve(expires);
        }
    }

    /// Adds a key read from an RDB: one hash-table probe when the key is new (the usual case);
    /// a key met twice is overwritten, as [`set`](Self::set) would.
    pub fn load_entry(&mut self, db: usize, key: &[u8], value: Value, expire_ms: Option<i64>) {
        if self.snapshot.is_none() {
            let entry = Entry {
                value,
                version: self.epoch,
                access: self.access_policy.fresh(self.now),
            };
            let d = &mut self.dbs[db];
            match d.keys.insert_new(key, entry) {
                Ok(()) => {
                    if let Some(at) = expire_ms {
                        d.expires.insert(key, at);
                    }
                    return;
                }
                Err(entry) => return self.load_entry_slow(db, key, entry.value, expire_ms),
            }
        }
        self.load_entry_slow(db, key, value, expire_ms)
    }

    fn load_entry_slow(&mut self, db: usize, key: &[u8], value: Value, expire_ms: Option<i64>) {
        self.set(db, key, value, false);
        if let Some(at) = expire_ms {
            self.set_expire(db, key, at);
        }
    }

    /// Sets the absolute expiry of an existing key; a time in the past deletes it at once (on a
    /// master), as Redis does. Returns false if the key does not exist.
    pub fn set_expire(&mut self, db: usize, key: &[u8], at_ms: i64) -> bool {
        if self.expire_if_needed(db, key) {
            return false;
        }
        self.preserve(db, key);
        let d = &mut self.dbs[db];
        let Some(e) = d.keys.get_mut(key) else {
            return false;
        };
        e.version = self.epoch;
        d.expires.insert(key, at_ms);
        true
    }

    /// Removes a key's TTL; true if it had one.
    pub fn persist(&mut self, db: usize, key: &[u8]) -> bool {
        if self.expire_if_needed(db, key) {
            return false;
        }
        if self.dbs[db].expires.get(key).is_some() {
            self.preserve(db, key);
        }
        let epoch = self.epoch;
        let d = &mut self.dbs[db];
        if d.expires.remove(key).is_some() {
            if let Some(e) = d.keys.get_mut(key) {
                e.version = epoch;
            }
            true
        } else {
            false
        }
    }

    /// Number of keys in a database (including expired ones not yet reclaimed, as Redis).
    pub fn dbsize(&self, db: usize) -> usize {
        self.dbs[db].keys.len()
    }

    /// Empties one database; returns the number of keys removed. `lazy` frees it in the
    /// background (FLUSHDB ASYNC: even a few keys may hold millions of members) instead of
    /// before returning (SYNC, Redis's default).
    pub fn flush_db(&mut self, db: usize, lazy: bool) -> usize {
        self.signal_flushed(db);
        let old = std::mem::take(&mut self.dbs[db]);
        let n = old.keys.len();
        if let Some(old) = self.preserve_flushed(db, old) {
            if lazy && n > 0 {
                lazyfree::free_later(old, n as u64);
            }
        }
        n
    }

    /// Empties every database; returns the number of keys removed (`lazy` as for
    /// [`Keyspace::flush_db`]).
    pub fn flush_all(&mut self, lazy: bool) -> usize {
        (0..self.dbs.len()).map(|i| self.flush_db(i, lazy)).sum()
    }

    /// Replaces every database with those of `loaded` (a replica's completed full sync): the old
    /// data stays readable until this single step, and is freed off the command path.
    pub fn replace_all(&mut self, loaded: Keyspace) {
        self.abort_snapshot();
        for i in 0..self.dbs.len() {
            self.signal_flushed(i);
        }
        let old = std::mem::replace(&mut self.dbs, loaded.dbs);
        let keys = old.iter().map(|d| d.keys.len() as u64).sum();
        lazyfree::free_dataset_later(old, keys);
        self.dirty += 1;
    }

    /// Exchanges two databases (SWAPDB).
    pub fn swap_dbs(&mut self, a: usize, b: usize) {
        self.signal_flushed(a);
        self.signal_flushed(b);
        self.preserve_swap(a, b);
        self.dbs.swap(a, b);
    }

    /// A random live key of a database (RANDOMKEY); expired keys met on the way are reclaimed.
    pub fn random_key(&mut self, db: usize) -> Option<Vec<u8>> {
        for _ in 0..100 {
            let key = self.dbs[db]
                .keys
                .random_entry(&mut self.rng)
                .map(|(k, _)| k.to_vec())?;
            if !self.is_expired(db, &key) || self.is_replica {
                return Some(key);
            }
            self.expire_if_needed(db, &key);
        }
        None
    }

    /// One SCAN step over a database: collects keys of the visited buckets into `out`.
    pub fn scan(&self, db: usize, cursor: u64, out: &mut Vec<Vec<u8>>) -> u64 {
        self.dbs[db].keys.scan(cursor, |k, _| out.push(k.to_vec()))
    }

    /// True if the key has a TTL in the past (for filters that must not report it).
    pub fn is_logically_expired(&self, db: usize, key: &[u8]) -> bool {
        self.is_expired(db, key)
    }

    /// Advances incremental rehashing and starts shrinks; called from the cron.
    pub fn rehash_step(&mut self) {
        for d in &mut self.dbs {
            d.keys.shrink_if_needed();
            d.expires.shrink_if_needed();
            d.keys.rehash(100);
            d.expires.rehash(100);
        }
    }

    /// All keys of a database (KEYS).
    pub fn keys(&self, db: usize) -> impl Iterator<Item = &[u8]> {
        self.dbs[db].keys.iter().map(|(k, _)| k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_stays_small() {
        // A dict node is next (8) + key (16) + entry: keeping the entry at 32 bytes keeps the node
        // in one 64-byte allocation, which the memory target against Redis depends on.
        assert_eq!(std::mem::size_of::<Entry>(), 32);
    }

    #[test]
    fn expiry_is_lazy_and_ttl_survives_overwrite_only_with_keepttl() {
        let mut ks = Keyspace::new(1);
        ks.set(0, b"a", Value::string(b"1"), false);
        assert!(ks.set_expire(0, b"a", ks.now + 10_000));
        ks.set(0, b"a", Value::string(b"2"), true);
        assert!(ks.expire_at(0, b"a").is_some());
        ks.set(0, b"a", Value::string(b"3"), false);
        assert!(ks.expire_at(0, b"a").is_none());
        ks.set_expire(0, b"a", ks.now - 1);
        assert!(ks.get(0, b"a").is_none());
        assert_eq!(ks.dbsize(0), 0);
        assert_eq!(ks.stats.expired, 1);
    }
}
