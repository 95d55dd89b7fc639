//! Fork-free point-in-time snapshots ("snapshot on write").
//!
//! Starting a snapshot is one step under the keyspace lock: the current write epoch becomes the
//! cut and the epoch moves on, so every entry stamped at or before the cut holds its value as of
//! the snapshot. A background task then walks the tables in small chunks, handing over each
//! such entry and re-stamping it so it is handed over exactly once. Before a write changes or
//! deletes an entry the walk has not handed over yet, the write hook ([`Keyspace::preserve`])
//! hands over its current value first. The extra memory is therefore bounded by what changes
//! during the snapshot, never by the dataset, and no client waits for the save.

use super::{Db, Dict, Entry, Keyspace, Value};

/// A chunk of a snapshot: entries as they were at the cut, in the order they were handed over.
///
/// Keys and string values are copied back to back into one buffer, so the event loop makes no
/// allocation per entry (and the encoder thread frees none): chunks are recycled between the
/// feeder and the encoder with their capacity (see `persistence::SnapshotFeed`).
#[derive(Default)]
pub struct SnapshotBatch {
    entries: Vec<BatchEntry>,
    bytes: Vec<u8>,
}

struct BatchEntry {
    /// Database index at the cut.
    db: usize,
    key: std::ops::Range<usize>,
    value: BatchValue,
    /// Absolute expiry in Unix milliseconds.
    expire_ms: Option<i64>,
}

enum BatchValue {
    /// A string, in `bytes`.
    Str(std::ops::Range<usize>),
    /// Anything else (integers, collections), cloned or moved.
    Other(Value),
}

/// One entry of a [`SnapshotBatch`].
pub struct SnapshotItem<'a> {
    /// Database index at the cut.
    pub db: usize,
    pub key: &'a [u8],
    pub value: ItemValue<'a>,
    /// Absolute expiry in Unix milliseconds.
    pub expire_ms: Option<i64>,
}

/// A snapshot entry's value: string values are plain bytes.
pub enum ItemValue<'a> {
    Str(&'a [u8]),
    Value(&'a Value),
}

/// Recycled chunks keeping more than this are dropped instead (a burst of large values must not
/// pin its memory for the rest of the snapshot).
const RECYCLE_MAX_BYTES: usize = 1 << 20;

impl SnapshotBatch {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when it holds no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries, in order.
    pub fn iter(&self) -> impl Iterator<Item = SnapshotItem<'_>> {
        self.entries.iter().map(|e| SnapshotItem {
            db: e.db,
            key: &self.bytes[e.key.clone()],
            value: match &e.value {
                BatchValue::Str(r) => ItemValue::Str(&self.bytes[r.clone()]),
                BatchValue::Other(v) => ItemValue::Value(v),
            },
            expire_ms: e.expire_ms,
        })
    }

    /// Empties the chunk for reuse, or `None` when it grew too large to keep.
    pub fn recycle(mut self) -> Option<SnapshotBatch> {
        if self.bytes.capacity() > RECYCLE_MAX_BYTES {
            return None;
        }
        self.entries.clear();
        self.bytes.clear();
        Some(self)
    }

    fn copy(&mut self, bytes: &[u8]) -> std::ops::Range<usize> {
        let at = self.bytes.len();
        self.bytes.extend_from_slice(bytes);
        at..self.bytes.len()
    }

    /// Adds `key`'s value as it is now; `db` is its database index at the cut.
    fn push(&mut self, db: usize, key: &[u8], value: &Value, expires: &Dict<i64>) {
        let value = match value {
            Value::Str(s) => BatchValue::Str(self.copy(s)),
            other => BatchValue::Other(other.clone()),
        };
        self.push_entry(db, key, value, expires);
    }

    /// Adds `key`'s value, taking it: collections are kept as they are, strings are copied so
    /// their memory is freed here, on the thread that allocated it.
    fn push_owned(&mut self, db: usize, key: &[u8], value: Value, expires: &Dict<i64>) {
        let value = match value {
            Value::Str(s) => BatchValue::Str(self.copy(&s)),
            other => BatchValue::Other(other),
        };
        self.push_entry(db, key, value, expires);
    }

    fn push_entry(&mut self, db: usize, key: &[u8], value: BatchValue, expires: &Dict<i64>) {
        let key_range = self.copy(key);
        self.entries.push(BatchEntry {
            db,
            key: key_range,
            value,
            expire_ms: expires.get(key).copied(),
        });
    }
}

/// Sizes of the databases at the cut, for the RESIZEDB hints.
#[derive(Debug, Clone, Copy, Default)]
pub struct DbSizes {
    pub keys: usize,
    pub expires: usize,
}

/// A snapshot in progress.
#[derive(Default)]
pub(super) struct SnapshotState {
    /// Identifies this snapshot to its consumer ([`Keyspace::snapshot_step`]).
    id: u64,
    /// Entries stamped at or before this epoch belong to the snapshot.
    cut: u32,
    /// Current database index → index at the cut (SWAPDB may run during the snapshot).
    db_map: Vec<usize>,
    /// Entries handed over by write hooks, waiting for the encoder.
    handed: SnapshotBatch,
    /// Databases emptied by FLUSHDB/FLUSHALL during the snapshot, with their index at the cut:
    /// their untouched entries still belong to the snapshot.
    flushed: Vec<(usize, Db)>,
    /// The walk's position: database (current index) and SCAN cursor.
    walk_db: usize,
    cursor: u64,
}

impl SnapshotState {
    /// The overwrite hook: `old` was just replaced under `key` in `db`. If the walk has not
    /// handed it over yet, it goes to the snapshot without the copy [`Keyspace::preserve`] needs
    /// for a value that stays in use.
    pub(super) fn hand_over_replaced(
        &mut self,
        db: usize,
        key: &[u8],
        old: Entry,
        expires: &Dict<i64>,
    ) {
        if old.version <= self.cut {
            self.handed
                .push_owned(self.db_map[db], key, old.value, expires);
        }
    }
}

impl Keyspace {
    /// Starts a snapshot at this instant; returns its id (which its consumer passes to
    /// [`Keyspace::snapshot_step`]) and the database sizes at the cut. `None` while another
    /// snapshot is running: there is one at a time.
    pub fn begin_snapshot(&mut self) -> Option<(u64, Vec<DbSizes>)> {
        if self.snapshot.is_some() {
            return None;
        }
        let cut = self.epoch;
        self.epoch = self.epoch.wrapping_add(1);
        self.next_snapshot_id += 1;
        let id = self.next_snapshot_id;
        self.snapshot = Some(Box::new(SnapshotState {
            id,
            cut,
            db_map: (0..self.dbs.len()).collect(),
            ..Default::default()
        }));
        let sizes = self
            .dbs
            .iter()
            .map(|d| DbSizes {
                keys: d.keys.len(),
                expires: d.expires.len(),
            })
            .collect();
        Some((id, sizes))
    }

    /// True while a snapshot is being taken.
    pub fn snapshot_running(&self) -> bool {
        self.snapshot.is_some()
    }

    /// Drops the snapshot in progress (a killed save); its consumer's next step returns `None`.
    pub fn abort_snapshot(&mut self) {
        self.snapshot = None;
    }

    /// Drops snapshot `id` if it is still the one running (its consumer failed).
    pub fn abort_snapshot_id(&mut self, id: u64) {
        if self.snapshot.as_ref().is_some_and(|s| s.id == id) {
            self.snapshot = None;
        }
    }

    /// The write hook: before `key` in `db` changes, hand its value at the cut to the snapshot.
    pub(super) fn preserve(&mut self, db: usize, key: &[u8]) {
        let Some(snap) = self.snapshot.as_mut() else {
            return;
        };
        let d = &mut self.dbs[db];
        if let Some(e) = d.keys.get_mut(key) {
            if e.version <= snap.cut {
                snap.handed.push(snap.db_map[db], key, &e.value, &d.expires);
                e.version = self.epoch;
            }
        }
    }

    /// A key removed for good during a snapshot: if the walk has not reached it, the snapshot
    /// takes its value as it is; otherwise the entry comes back to be freed.
    pub(super) fn preserve_removed(
        &mut self,
        db: usize,
        key: &[u8],
        entry: Entry,
    ) -> Option<Entry> {
        match self.snapshot.as_mut() {
            Some(snap) if entry.version <= snap.cut => {
                let (orig, expires) = (snap.db_map[db], &self.dbs[db].expires);
                snap.handed.push_owned(orig, key, entry.value, expires);
                None
            }
            _ => Some(entry),
        }
    }

    /// FLUSHDB during a snapshot: the emptied database keeps feeding the snapshot.
    pub(super) fn preserve_flushed(&mut self, db: usize, old: Db) -> Option<Db> {
        match self.snapshot.as_mut() {
            Some(snap) => {
                snap.flushed.push((snap.db_map[db], old));
                None
            }
            None => Some(old),
        }
    }

    /// SWAPDB during a snapshot: remember which index holds which database of the cut.
    pub(super) fn preserve_swap(&mut self, a: usize, b: usize) {
        if let Some(snap) = self.snapshot.as_mut() {
            // The walk may already have passed one of the two indexes: hand over whatever of
            // both is still unvisited (labelled with their indexes before the swap), so nothing
            // is skipped; then the two indexes trade their origin.
            for db in [a, b] {
                let cut = snap.cut;
                let orig = snap.db_map[db];
                let d = &mut self.dbs[db];
                let epoch = self.epoch;
                let mut cursor = 0;
                loop {
                    let expires = &d.expires;
                    let handed = &mut snap.handed;
                    cursor = d
                        .keys
                        .scan_mut_batch(cursor, 1024, Entry::prefetch, |k, e| {
                            if e.version <= cut {
                                handed.push(orig, k, &e.value, expires);
                                e.version = epoch;
                            }
                        });
                    if cursor == 0 {
                        break;
                    }
                }
            }
            snap.db_map.swap(a, b);
        }
    }

    /// Advances snapshot `id`: what write hooks handed over, then about `budget` entries of the
    /// walk, are added to `items` (an empty chunk, recycled by the consumer); returns whether the
    /// snapshot is complete (then it is finished and removed). The budget counts walked entries
    /// only, so heavy writes cannot stall the walk. `None` when no snapshot is running (it was
    /// aborted): the caller must discard what it wrote.
    pub fn snapshot_step(
        &mut self,
        id: u64,
        budget: usize,
        items: &mut SnapshotBatch,
    ) -> Option<bool> {
        let epoch = self.epoch;
        let snap = self.snapshot.as_mut().filter(|s| s.id == id)?;
        // What write hooks handed over comes first: the pending chunk is taken whole and the
        // empty one left in its place.
        debug_assert!(items.is_empty(), "snapshot_step takes an empty chunk");
        std::mem::swap(items, &mut snap.handed);
        let target = items.len() + budget;
        while items.len() < target && snap.walk_db < self.dbs.len() {
            let cut = snap.cut;
            let orig = snap.db_map[snap.walk_db];
            let d = &mut self.dbs[snap.walk_db];
            let expires = &d.expires;
            let buckets = target - items.len();
            snap.cursor = d
                .keys
                .scan_mut_batch(snap.cursor, buckets, Entry::prefetch, |k, e| {
                    if e.version <= cut {
                        items.push(orig, k, &e.value, expires);
                        e.version = epoch;
                    }
                });
            if snap.cursor == 0 {
                snap.walk_db += 1;
            }
        }
        while items.len() < target {
            let Some((orig, mut db)) = snap.flushed.pop() else {
                break;
            };
            let cut = snap.cut;
            let expires = std::mem::take(&mut db.expires);
            let mut cursor = 0;
            loop {
                cursor = db.keys.scan(cursor, |k, e| {
                    if e.version <= cut {
                        items.push(orig, k, &e.value, &expires);
                    }
                });
                if cursor == 0 {
                    break;
                }
            }
            let keys = db.keys.len() as u64;
            super::lazyfree::free_later(db, keys);
        }
        let done =
            snap.walk_db >= self.dbs.len() && snap.flushed.is_empty() && snap.handed.is_empty();
        if done {
            self.snapshot = None;
        }
        Some(done)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{CompactBytes, Keyspace, Value};
    use super::{ItemValue, SnapshotBatch};
    use std::collections::BTreeMap;

    type Owned = (usize, Vec<u8>, Value, Option<i64>);

    /// One step of snapshot `id`, as owned entries; and whether it completed.
    fn step(ks: &mut Keyspace, id: u64, budget: usize) -> (Vec<Owned>, bool) {
        let mut batch = SnapshotBatch::default();
        let done = ks.snapshot_step(id, budget, &mut batch).unwrap();
        let items = batch
            .iter()
            .map(|it| {
                let value = match it.value {
                    ItemValue::Str(s) => Value::Str(CompactBytes::new(s)),
                    ItemValue::Value(v) => v.clone(),
                };
                (it.db, it.key.to_vec(), value, it.expire_ms)
            })
            .collect();
        (items, done)
    }

    /// A value of the `i`th kind: small integers, and strings long enough to live on the heap.
    fn value(i: i64) -> Value {
        if i % 2 == 0 {
            Value::Int(i)
        } else {
            Value::Str(CompactBytes::new(
                format!("value-{i}-{}", "x".repeat(40)).as_bytes(),
            ))
        }
    }

    fn collect(ks: &mut Keyspace, id: u64) -> BTreeMap<(usize, Vec<u8>), (Value, Option<i64>)> {
        let mut out = BTreeMap::new();
        loop {
            let (items, done) = step(ks, id, 7);
            for (db, key, value, expire_ms) in items {
                assert!(
                    out.insert((db, key.clone()), (value, expire_ms)).is_none(),
                    "key handed over twice: {key:?}"
                );
            }
            if done {
                return out;
            }
            // Writers keep going between chunks.
            for i in 0..5 {
                let k = format!("k{}", (i * 37 + out.len()) % 300);
                ks.set(0, k.as_bytes(), value(-1), false);
                if let Some(Value::Str(_)) = ks.get_mut(0, format!("k{i}").as_bytes()) {
                    // An in-place change (APPEND-like) goes through the copying hook.
                    *ks.get_mut(0, format!("k{i}").as_bytes()).unwrap() = value(-3);
                }
                ks.delete(1, format!("k{}", i * 11 % 300).as_bytes());
                // UNLINK's path hands the value itself over rather than a copy.
                ks.unlink(1, format!("k{}", (i * 13 + 5) % 300).as_bytes());
                ks.set(
                    0,
                    format!("new{}", out.len() + i).as_bytes(),
                    Value::Int(7),
                    false,
                );
            }
        }
    }

    #[test]
    fn snapshot_holds_exactly_the_state_at_the_cut() {
        let mut ks = Keyspace::new(4);
        let mut expected = BTreeMap::new();
        for db in 0..2 {
            for i in 0..300 {
                let k = format!("k{i}");
                ks.set(db, k.as_bytes(), value(i), false);
                let mut exp = None;
                if i % 10 == 0 {
                    let at = ks.now + 100_000 + i;
                    ks.set_expire(db, k.as_bytes(), at);
                    exp = Some(at);
                }
                expected.insert((db, k.into_bytes()), (value(i), exp));
            }
        }
        let (id, _) = ks.begin_snapshot().unwrap();
        assert!(ks.begin_snapshot().is_none(), "one snapshot at a time");
        let got = collect(&mut ks, id);
        assert_eq!(got.len(), expected.len());
        assert_eq!(got, expected);
        assert!(!ks.snapshot_running());
    }

    #[test]
    fn the_walk_advances_however_much_writes_hand_over() {
        let mut ks = Keyspace::new(1);
        for i in 0..1000 {
            ks.set(0, format!("k{i}").as_bytes(), Value::Int(i), false);
        }
        let (id, _) = ks.begin_snapshot().unwrap();
        // 100 overwrites hand their old values over: more than the step's budget of 10.
        for i in 0..100 {
            ks.set(0, format!("k{i}").as_bytes(), Value::Int(-1), false);
        }
        let (items, done) = step(&mut ks, id, 10);
        assert!(!done);
        assert!(
            (110..200).contains(&items.len()),
            "100 handed over plus about 10 walked, got {}",
            items.len()
        );
        let mut seen = items.len();
        loop {
            let (items, done) = step(&mut ks, id, 10);
            seen += items.len();
            if done {
                break;
            }
        }
        assert_eq!(seen, 1000);
    }

    #[test]
    fn flush_and_swap_during_a_snapshot_lose_nothing() {
        let mut ks = Keyspace::new(3);
        for i in 0..200 {
            ks.set(0, format!("a{i}").as_bytes(), Value::Int(i), false);
            ks.set(1, format!("b{i}").as_bytes(), Value::Int(i), false);
        }
        let (id, _) = ks.begin_snapshot().unwrap();
        let (first, _) = step(&mut ks, id, 50);
        ks.flush_db(0, true);
        ks.swap_dbs(1, 2);
        ks.set(2, b"b0", Value::Int(999), false);
        let mut all: Vec<_> = first;
        loop {
            let (items, done) = step(&mut ks, id, 50);
            all.extend(items);
            if done {
                break;
            }
        }
        let a = all.iter().filter(|i| i.0 == 0).count();
        let b = all.iter().filter(|i| i.0 == 1).count();
        assert_eq!((a, b, all.len()), (200, 200, 400));
        let b0 = all.iter().find(|i| i.0 == 1 && i.1 == b"b0").unwrap();
        assert_eq!(b0.2, Value::Int(0));
    }
}
