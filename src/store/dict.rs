//! The keyspace hash table: power-of-two bucket arrays with chaining and incremental rehashing,
//! walked with Redis's reverse-binary cursor.
//!
//! One structure serves lookups, SCAN (every key present for the whole scan is returned at least
//! once, even while the table grows or shrinks), random sampling (RANDOMKEY, active expiry) and,
//! later, chunked point-in-time snapshots. A resize never pauses clients: entries move a few
//! buckets at a time as the table is used and from the server cron.

use super::compact::CompactBytes;
use rand::Rng;

type Link<V> = Option<Box<Node<V>>>;

struct Node<V> {
    key: CompactBytes,
    value: V,
    next: Link<V>,
}

struct Table<V> {
    buckets: Vec<Link<V>>,
    used: usize,
}

impl<V> Table<V> {
    fn with_size(size: usize) -> Self {
        let mut buckets = Vec::with_capacity(size);
        buckets.resize_with(size, || None);
        Table { buckets, used: 0 }
    }

    fn empty() -> Self {
        Table {
            buckets: Vec::new(),
            used: 0,
        }
    }

    fn mask(&self) -> u64 {
        (self.buckets.len() as u64).wrapping_sub(1)
    }
}

/// Smallest table ever allocated, as in Redis.
const MIN_SIZE: usize = 4;

/// A byte-string keyed hash map with stable SCAN cursors.
pub struct Dict<V> {
    tables: [Table<V>; 2],
    /// Next bucket of `tables[0]` to move into `tables[1]`; `None` when not rehashing.
    rehash_idx: Option<usize>,
    seed: u64,
}

fn mix(a: u64, b: u64) -> u64 {
    let r = (a as u128).wrapping_mul(b as u128);
    (r as u64) ^ ((r >> 64) as u64)
}

/// A fast seeded hash (wyhash-style multiply-mix); the per-process random seed keeps adversarial
/// keys from all landing in one bucket.
pub fn hash_bytes(seed: u64, key: &[u8]) -> u64 {
    const P0: u64 = 0xa076_1d64_78bd_642f;
    const P1: u64 = 0xe703_7ed1_a0b4_28db;
    const P2: u64 = 0x8ebc_6af0_9c88_c6e3;
    let mut h = seed ^ P0;
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let v = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = mix(h ^ v, P1);
    }
    let mut last = 0u64;
    for (i, &b) in chunks.remainder().iter().enumerate() {
        last |= (b as u64) << (8 * i);
    }
    mix(mix(h ^ last, P2) ^ key.len() as u64, P1)
}

/// How far ahead of the visit [`Dict::scan_mut_batch`] prefetches a bucket, its first entry and
/// that entry's value: each level needs the previous one to have arrived.
const AHEAD_BUCKET: usize = 24;
const AHEAD_NODE: usize = 12;
const AHEAD_VALUE: usize = 4;

/// Non-empty buckets a random pick chooses among (Redis's GETFAIR_NUM_ENTRIES).
const FAIR_SAMPLE: usize = 15;

/// A uniform index below `n` (0 when `n` is 0) from a random word, by widening multiply (as
/// `gen_range` maps words, without its rejection step: the bias is below 2^-40 for any table).
#[inline]
fn scale(r: u64, n: usize) -> usize {
    ((r as u128 * n as u128) >> 64) as usize
}

/// Hints the CPU to start loading the cache line at `addr`; a no-op off x86_64.
#[inline(always)]
pub fn prefetch_addr(addr: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching is only a hint; it never faults, whatever the address.
    #[allow(unused_unsafe)]
    unsafe {
        std::arch::x86_64::_mm_prefetch(addr as *const i8, std::arch::x86_64::_MM_HINT_T0);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = addr;
}

/// Prefetches a whole node. Nodes are only 16-byte aligned, so half of them straddle two cache
/// lines, and the key (read by every lookup) is laid out after the value: fetching only the
/// first line would leave the key a miss for those.
#[inline(always)]
fn prefetch_node<V>(node: &Node<V>) {
    let start = node as *const Node<V> as *const u8;
    prefetch_addr(start);
    prefetch_addr(start.wrapping_add(std::mem::size_of::<Node<V>>() - 1));
}

/// Number of nodes chained from `link`.
fn chain_len<V>(mut link: &Link<V>) -> usize {
    let mut n = 0;
    while let Some(node) = link {
        n += 1;
        link = &node.next;
    }
    n
}

impl<V> Default for Dict<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> Dict<V> {
    /// An empty table; allocates nothing until the first insert.
    pub fn new() -> Self {
        Dict {
            tables: [Table::empty(), Table::empty()],
            rehash_idx: None,
            seed: rand::thread_rng().gen(),
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.tables[0].used + self.tables[1].used
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Total buckets allocated (both tables while rehashing); for INFO and MEMORY figures.
    pub fn buckets(&self) -> usize {
        self.tables[0].buckets.len() + self.tables[1].buckets.len()
    }

    /// True while entries are being moved to a resized table.
    pub fn is_rehashing(&self) -> bool {
        self.rehash_idx.is_some()
    }

    fn hash(&self, key: &[u8]) -> u64 {
        hash_bytes(self.seed, key)
    }

    /// Moves up to `n` buckets into the new table; returns true while more work remains.
    pub fn rehash(&mut self, n: usize) -> bool {
        let Some(mut idx) = self.rehash_idx else {
            return false;
        };
        let mut empty_visits = n * 10;
        let mut moved = 0;
        while moved < n && self.tables[0].used > 0 {
            while self.tables[0].buckets[idx].is_none() {
                idx += 1;
                empty_visits -= 1;
                if empty_visits == 0 {
                    self.rehash_idx = Some(idx);
                    return true;
                }
            }
            let mut link = self.tables[0].buckets[idx].take();
            while let Some(mut node) = link {
                link = node.next.take();
                let h = hash_bytes(self.seed, &node.key) & self.tables[1].mask();
                let slot = &mut self.tables[1].buckets[h as usize];
                node.next = slot.take();
                *slot = Some(node);
                self.tables[0].used -= 1;
                self.tables[1].used += 1;
            }
            idx += 1;
            moved += 1;
        }
        if self.tables[0].used == 0 {
            self.tables[0] = std::mem::replace(&mut self.tables[1], Table::empty());
            self.rehash_idx = None;
            false
        } else {
            self.rehash_idx = Some(idx);
            true
        }
    }

    fn start_resize(&mut self, size: usize) {
        let size = size.max(MIN_SIZE).next_power_of_two();
        if self.is_rehashing() || size == self.tables[0].buckets.len() {
            return;
        }
        if self.tables[0].buckets.is_empty() {
            self.tables[0] = Table::with_size(size);
            return;
        }
        self.tables[1] = Table::with_size(size);
        self.rehash_idx = Some(0);
    }

    fn expand_if_needed(&mut self) {
        if self.is_rehashing() {
            return;
        }
        let t = &self.tables[0];
        if t.buckets.is_empty() || t.used >= t.buckets.len() {
            self.start_resize(t.used + 1);
        }
    }

    /// Starts shrinking when fewer than 10% of buckets are used (called from the cron, as Redis's
    /// `tryResizeHashTables`), so memory comes back after mass deletes.
    pub fn shrink_if_needed(&mut self) {
        let t = &self.tables[0];
        if !self.is_rehashing() && t.buckets.len() > MIN_SIZE && t.used * 10 < t.buckets.len() {
            self.start_resize(t.used);
        }
    }

    fn find(&self, key: &[u8]) -> Option<&Node<V>> {
        if self.is_empty() {
            return None;
        }
        self.find_hashed(key, self.hash(key))
    }

    /// The node of `key`, whose hash `h` the caller computed.
    fn find_hashed(&self, key: &[u8], h: u64) -> Option<&Node<V>> {
        for (ti, t) in self.tables.iter().enumerate() {
            if t.buckets.is_empty() {
                continue;
            }
            let mut link = &t.buckets[(h & t.mask()) as usize];
            while let Some(node) = link {
                if node.key.eq_bytes(key) {
                    return Some(node);
                }
                link = &node.next;
            }
            if ti == 0 && !self.is_rehashing() {
                break;
            }
        }
        None
    }

    /// The value stored under `key`.
    pub fn get(&self, key: &[u8]) -> Option<&V> {
        self.find(key).map(|n| &n.value)
    }

    /// Starts loading the memory a lookup of `key` will touch, one pointer hop per `level`: 0 the
    /// bucket slot, 1 the first chained node (whose slot should be cached by then), 2 that node's
    /// key bytes when they live on the heap and the second chained node, 3 the second node's key
    /// bytes (a third of lookups in a table over half full go past the first node). Issued
    /// level by level for every lookup of a pipelined batch before the batch runs, so the cache
    /// misses of many lookups overlap instead of being paid one after another.
    pub fn prefetch(&self, key: &[u8], level: u8) {
        if self.is_empty() {
            return;
        }
        let h = self.hash(key);
        for t in &self.tables {
            if t.buckets.is_empty() {
                continue;
            }
            let slot = &t.buckets[(h & t.mask()) as usize];
            if level == 0 {
                // The slot itself is not read yet: that is the miss being started.
                prefetch_addr(slot as *const Link<V> as *const u8);
                continue;
            }
            let Some(node) = slot else {
                continue;
            };
            let heap_key = |n: &Node<V>| {
                if n.key.heap_size() > 0 {
                    prefetch_addr(n.key.as_ptr());
                }
            };
            match level {
                1 => prefetch_node(node),
                2 => {
                    heap_key(node);
                    if let Some(next) = &node.next {
                        prefetch_node(next);
                    }
                }
                _ => {
                    if let Some(next) = &node.next {
                        heap_key(next);
                    }
                }
            }
        }
    }

    /// Mutable access to the value under `key`; also advances a pending rehash by one step.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        if self.is_rehashing() {
            self.rehash(1);
        }
        if self.is_empty() {
            return None;
        }
        let h = self.hash(key);
        let rehashing = self.is_rehashing();
        for (ti, t) in self.tables.iter_mut().enumerate() {
            if t.buckets.is_empty() {
                continue;
            }
            let mask = t.mask();
            let mut link = &mut t.buckets[(h & mask) as usize];
            while let Some(node) = link {
                if node.key.eq_bytes(key) {
                    return Some(&mut node.value);
                }
                link = &mut node.next;
            }
            if ti == 0 && !rehashing {
                break;
            }
        }
        None
    }

    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, key: &[u8], value: V) -> Option<V> {
        if let Some(slot) = self.get_mut(key) {
            return Some(std::mem::replace(slot, value));
        }
        self.insert_absent(key, value);
        None
    }

    /// Sizes an empty table for `n` entries up front (a bulk load announcing its size), so
    /// the load neither rehashes nor grows step by step. A table that holds entries is left as
    /// it is.
    pub fn reserve(&mut self, n: usize) {
        if self.is_empty() && !self.is_rehashing() && n > self.tables[0].buckets.len() {
            self.tables[0] = Table::with_size(n.max(MIN_SIZE).next_power_of_two());
        }
    }

    /// Inserts `key` unless it is present, hashing it once (bulk loads, where keys are new);
    /// gives the value back when the key exists.
    pub fn insert_new(&mut self, key: &[u8], value: V) -> Result<(), V> {
        self.expand_if_needed();
        if self.is_rehashing() {
            self.rehash(1);
        }
        let h = self.hash(key);
        if self.find_hashed(key, h).is_some() {
            return Err(value);
        }
        self.link_new(h, key, value);
        Ok(())
    }

    /// Inserts a key the caller has just looked up and not found (saves the second lookup).
    pub fn insert_absent(&mut self, key: &[u8], value: V) {
        self.expand_if_needed();
        let h = self.hash(key);
        self.link_new(h, key, value);
    }

    /// Links a new node for `key` (hash `h`, known absent) at the head of its bucket in the
    /// table new entries go to (the new one while rehashing).
    fn link_new(&mut self, h: u64, key: &[u8], value: V) {
        let t = &mut self.tables[if self.is_rehashing() { 1 } else { 0 }];
        let idx = (h & t.mask()) as usize;
        let next = t.buckets[idx].take();
        t.buckets[idx] = Some(Box::new(Node {
            key: CompactBytes::new(key),
            value,
            next,
        }));
        t.used += 1;
    }

    /// Removes `key`, returning the stored key and value.
    pub fn remove(&mut self, key: &[u8]) -> Option<(CompactBytes, V)> {
        if self.is_rehashing() {
            self.rehash(1);
        }
        if self.is_empty() {
            return None;
        }
        let h = self.hash(key);
        let rehashing = self.is_rehashing();
        for ti in 0..2 {
            let t = &mut self.tables[ti];
            if !t.buckets.is_empty() {
                let mask = t.mask();
                let mut link = &mut t.buckets[(h & mask) as usize];
                loop {
                    match link {
                        None => break,
                        Some(node) if node.key.eq_bytes(key) => {
                            let mut node = link.take().expect("matched a present node");
                            *link = node.next.take();
                            t.used -= 1;
                            return Some((node.key, node.value));
                        }
                        Some(node) => link = &mut node.next,
                    }
                }
            }
            if ti == 0 && !rehashing {
                break;
            }
        }
        None
    }

    /// Drops every entry and the tables.
    pub fn clear(&mut self) {
        self.tables = [Table::empty(), Table::empty()];
        self.rehash_idx = None;
    }

    /// Appends to `slots` the buckets (table index, bucket index) one step of Redis's
    /// `dictScan` visits at `cursor`, and returns the next cursor (0 when the walk is complete).
    /// Growth or shrinkage between steps never makes the walk miss an entry that stays present.
    fn scan_slots(&self, cursor: u64, slots: &mut Vec<(usize, usize)>) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let mut v = cursor;
        if !self.is_rehashing() {
            let m0 = self.tables[0].mask();
            slots.push((0, (v & m0) as usize));
            v |= !m0;
            v = v.reverse_bits().wrapping_add(1).reverse_bits();
        } else {
            let (small, large) = if self.tables[0].buckets.len() <= self.tables[1].buckets.len() {
                (0, 1)
            } else {
                (1, 0)
            };
            let (m0, m1) = (self.tables[small].mask(), self.tables[large].mask());
            slots.push((small, (v & m0) as usize));
            loop {
                slots.push((large, (v & m1) as usize));
                v |= !m1;
                v = v.reverse_bits().wrapping_add(1).reverse_bits();
                if v & (m0 ^ m1) == 0 {
                    break;
                }
            }
        }
        v
    }

    /// Visits the entries of the bucket(s) at `cursor` and returns the next cursor (0 when the
    /// walk is complete); see `scan_slots` for the guarantee.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], &V)) -> u64 {
        let mut slots = Vec::new();
        let next = self.scan_slots(cursor, &mut slots);
        for (t, b) in slots {
            let mut link = &self.tables[t].buckets[b];
            while let Some(node) = link {
                f(&node.key, &node.value);
                link = &node.next;
            }
        }
        next
    }

    /// Successive [`Dict::scan`] steps from `cursor` with mutable access to the values, until at
    /// least `buckets` buckets were visited or the walk is complete; returns the next cursor.
    ///
    /// The snapshot walk goes through a whole table this way, and the reverse-binary order makes
    /// every bucket and every entry a cache miss: the misses are overlapped by prefetching the
    /// bucket [`AHEAD_BUCKET`] slots ahead, its first entry [`AHEAD_NODE`] ahead and, through
    /// `prefetch_value`, what that entry's value points to [`AHEAD_VALUE`] ahead of the visit.
    pub fn scan_mut_batch(
        &mut self,
        mut cursor: u64,
        buckets: usize,
        prefetch_value: impl Fn(&V),
        mut f: impl FnMut(&[u8], &mut V),
    ) -> u64 {
        let mut slots = Vec::with_capacity(buckets + 2);
        while slots.len() < buckets {
            cursor = self.scan_slots(cursor, &mut slots);
            if cursor == 0 {
                break;
            }
        }
        fn head<'a, V>(
            tables: &'a [Table<V>; 2],
            slots: &[(usize, usize)],
            i: usize,
        ) -> Option<&'a Link<V>> {
            slots.get(i).map(|&(t, b)| &tables[t].buckets[b])
        }
        for i in 0..slots.len() {
            if let Some(link) = head(&self.tables, &slots, i + AHEAD_BUCKET) {
                prefetch_addr(link as *const Link<V> as *const u8);
            }
            if let Some(Some(node)) = head(&self.tables, &slots, i + AHEAD_NODE) {
                prefetch_node(node);
            }
            if let Some(Some(node)) = head(&self.tables, &slots, i + AHEAD_VALUE) {
                prefetch_value(&node.value);
            }
            let (t, b) = slots[i];
            let mut link = &mut self.tables[t].buckets[b];
            while let Some(node) = link {
                f(&node.key, &mut node.value);
                link = &mut node.next;
            }
        }
        cursor
    }

    /// Up to `n` entries from consecutive buckets starting at a random one, as Redis's
    /// `dictGetSomeKeys` samples for eviction: one random position and a sequential walk, far
    /// cheaper than `n` random picks, at the price of some correlation between the samples.
    pub fn sample_some(&self, n: usize, rng: &mut impl Rng, mut f: impl FnMut(&[u8], &V)) {
        if self.is_empty() || n == 0 {
            return;
        }
        if self.is_rehashing() {
            for _ in 0..n {
                if let Some((k, v)) = self.random_entry(rng) {
                    f(k, v);
                }
            }
            return;
        }
        let buckets = &self.tables[0].buckets;
        let mut at = rng.gen_range(0..buckets.len());
        // The first `n` non-empty buckets from there (a sparse table, after many deletions, ends
        // the walk after a bounded run of empty ones); their nodes are prefetched together so
        // the misses overlap, then visited.
        let mut heads: Vec<&Node<V>> = Vec::with_capacity(n);
        let mut empty_run = 0;
        while heads.len() < n && empty_run < n * 10 && empty_run < buckets.len() {
            match &buckets[at] {
                Some(node) => {
                    prefetch_node(node);
                    heads.push(node);
                    empty_run = 0;
                }
                None => empty_run += 1,
            }
            at = (at + 1) & (buckets.len() - 1);
        }
        let mut seen = 0;
        for head in heads {
            let mut node = Some(head);
            while let Some(nd) = node.filter(|_| seen < n) {
                f(&nd.key, &nd.value);
                seen += 1;
                node = nd.next.as_deref();
            }
        }
    }

    /// A random non-empty bucket as (table, bucket), or `None` when empty. As Redis's
    /// `dictGetFairRandomKey` does, it walks consecutive buckets from a random start, collects
    /// up to `FAIR_SAMPLE` non-empty ones and picks one of them: a sequential walk costs a few
    /// cache lines where probing bucket after random bucket of a sparse table (after many
    /// removals) costs a miss per probe.
    fn random_bucket(&self, rng: &mut impl Rng) -> Option<(usize, usize)> {
        self.random_bucket_with(rng.gen(), rng.gen())
    }

    /// [`Dict::random_bucket`] driven by two random words drawn beforehand: `pos` places the
    /// walk's start, `pick` chooses among the buckets found.
    fn random_bucket_with(&self, pos: u64, pick: u64) -> Option<(usize, usize)> {
        if self.is_empty() {
            return None;
        }
        let (first, offset) = self.random_start(pos);
        let start = self.rehash_idx.unwrap_or(0);
        let mut found = [(0usize, 0usize); FAIR_SAMPLE];
        let mut n = 0;
        // The table the random position fell in, from there round to its start; the other
        // table only if that one had nothing (possible while rehashing).
        for t in [first, 1 - first] {
            let lo = if t == 0 { start } else { 0 };
            let buckets = &self.tables[t].buckets[lo.min(self.tables[t].buckets.len())..];
            let len = buckets.len();
            let mut i = if t == first { offset } else { 0 };
            for step in 0..len {
                // Branch-free on whether the bucket is used: in a table a quarter to half
                // full that branch is a coin toss, and its mispredictions were most of the cost.
                let hit = buckets[i].is_some();
                found[n] = (t, lo + i);
                n += hit as usize;
                if n == FAIR_SAMPLE || (hit & (step >= FAIR_SAMPLE * 10)) {
                    break;
                }
                i += 1;
                if i == len {
                    i = 0;
                }
            }
            if n > 0 {
                break;
            }
        }
        (n > 0).then(|| found[scale(pick, n)])
    }

    /// Where a random walk driven by `pos` starts: (table, offset past the rehash index in
    /// table 0, or into table 1). Buckets of table 0 below the rehash index were moved: they
    /// are empty and never a start.
    fn random_start(&self, pos: u64) -> (usize, usize) {
        let s0 = self.tables[0].buckets.len();
        let total = s0 + self.tables[1].buckets.len();
        let start = self.rehash_idx.unwrap_or(0).min(total);
        let at = start + scale(pos, total - start);
        if at < s0 {
            (0, at - start)
        } else {
            (1, at - s0)
        }
    }

    /// A random entry: a random non-empty bucket (see `random_bucket`), then a random element
    /// of its chain.
    pub fn random_entry(&self, rng: &mut impl Rng) -> Option<(&[u8], &V)> {
        let (t, b) = self.random_bucket(rng)?;
        let link = &self.tables[t].buckets[b];
        let mut pick = rng.gen_range(0..chain_len(link));
        let mut node = link.as_deref()?;
        while pick > 0 {
            match &node.next {
                Some(n) => node = n,
                None => break,
            }
            pick -= 1;
        }
        Some((&node.key, &node.value))
    }

    /// Removes and returns a random entry, chosen as [`Dict::random_entry`] chooses, unlinking it
    /// from the chain it was found in: SPOP needs neither a copy of the key nor a second lookup.
    pub fn remove_random(&mut self, rng: &mut impl Rng) -> Option<(CompactBytes, V)> {
        // As Redis's dictGetSomeKeys (behind SPOP's fair pick), one rehash step per bucket the
        // pick may collect: a shrink then completes within a few thousand pops, where one step
        // per pop left the old, sparse table (walked 150 buckets per pick) in place ~15x longer.
        if self.is_rehashing() {
            self.rehash(FAIR_SAMPLE);
        }
        let (ti, bi) = self.random_bucket(rng)?;
        let t = &mut self.tables[ti];
        let pick = rng.gen_range(0..chain_len(&t.buckets[bi]));
        let mut link = &mut t.buckets[bi];
        for _ in 0..pick {
            match link {
                Some(node) => link = &mut node.next,
                None => break,
            }
        }
        let mut node = link.take()?;
        *link = node.next.take();
        t.used -= 1;
        Some((node.key, node.value))
    }

    /// Every entry, in table order; for commands that must see the whole table at once (KEYS).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &V)> {
        self.tables.iter().flat_map(|t| {
            t.buckets.iter().flat_map(|b| {
                let mut link = b.as_deref();
                std::iter::from_fn(move || {
                    let node = link?;
                    link = node.next.as_deref();
                    Some((&*node.key, &node.value))
                })
            })
        })
    }
}

/// A structural copy: the same tables, seed and rehash position, each chain copied node by
/// node without hashing a key or growing a table. A snapshot copies a collection that a client
/// writes to during a save, on the event loop: this is the cost of that copy.
impl<V: Clone> Clone for Dict<V> {
    fn clone(&self) -> Self {
        let table = |t: &Table<V>| Table {
            buckets: t.buckets.iter().map(clone_chain).collect(),
            used: t.used,
        };
        Dict {
            tables: [table(&self.tables[0]), table(&self.tables[1])],
            rehash_idx: self.rehash_idx,
            seed: self.seed,
        }
    }
}

/// Copies a chain iteratively (no recursion however long it is).
fn clone_chain<V: Clone>(mut link: &Link<V>) -> Link<V> {
    let mut head: Link<V> = None;
    let mut tail = &mut head;
    while let Some(node) = link {
        let copy = tail.insert(Box::new(Node {
            key: node.key.clone(),
            value: node.value.clone(),
            next: None,
        }));
        tail = &mut copy.next;
        link = &node.next;
    }
    head
}

impl<V> Drop for Dict<V> {
    /// Unlinks chains iteratively so a long chain cannot overflow the stack.
    fn drop(&mut self) {
        for t in self.tables.iter_mut() {
            for b in t.buckets.iter_mut() {
                let mut link = b.take();
                while let Some(mut node) = link {
                    link = node.next.take();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn clone_copies_every_entry_also_mid_rehash_and_stays_independent() {
        let mut d: Dict<usize> = Dict::new();
        for i in 0..5000 {
            d.insert(&key(i), i);
        }
        // Grow until a resize is under way, so both tables hold entries.
        let mut i = 5000;
        while !d.is_rehashing() {
            d.insert(&key(i), i);
            i += 1;
        }
        let n = d.len();
        let mut c = d.clone();
        assert!(c.is_rehashing());
        assert_eq!(c.len(), n);
        let mut got: Vec<(Vec<u8>, usize)> = c.iter().map(|(k, v)| (k.to_vec(), *v)).collect();
        let mut want: Vec<(Vec<u8>, usize)> = d.iter().map(|(k, v)| (k.to_vec(), *v)).collect();
        got.sort();
        want.sort();
        assert_eq!(got, want);
        // Lookups work in the copy (same seed), and changes to one leave the other alone.
        assert!((0..n).all(|i| c.get(&key(i)) == Some(&i)));
        c.remove(&key(3));
        c.insert(&key(4), 44);
        while c.rehash(100) {}
        assert_eq!(d.get(&key(3)), Some(&3));
        assert_eq!(d.get(&key(4)), Some(&4));
        assert_eq!(c.get(&key(3)), None);
        assert_eq!(c.get(&key(4)), Some(&44));
        assert_eq!(c.len(), n - 1);
    }

    #[test]
    fn reserve_then_insert_new_never_rehashes() {
        let mut d: Dict<usize> = Dict::new();
        d.reserve(1000);
        let buckets = d.buckets();
        assert_eq!(buckets, 1024);
        for i in 0..1000 {
            assert_eq!(d.insert_new(&key(i), i), Ok(()));
            assert!(!d.is_rehashing());
        }
        assert_eq!(d.buckets(), buckets);
        assert_eq!(d.insert_new(&key(7), 99), Err(99));
        assert_eq!(d.get(&key(7)), Some(&7));
        // A table that holds entries is not resized by reserve; insert_new still grows it.
        d.reserve(100_000);
        assert_eq!(d.buckets(), buckets);
        for i in 1000..3000 {
            assert_eq!(d.insert_new(&key(i), i), Ok(()));
        }
        while d.rehash(100) {}
        assert_eq!(d.len(), 3000);
        assert!((0..3000).all(|i| d.get(&key(i)) == Some(&i)));
    }

    fn key(i: usize) -> Vec<u8> {
        format!("key:{i}").into_bytes()
    }

    #[test]
    fn insert_get_remove_through_rehash() {
        let mut d = Dict::new();
        for i in 0..10_000 {
            assert!(d.insert(&key(i), i).is_none());
        }
        assert_eq!(d.len(), 10_000);
        assert_eq!(d.insert(&key(5), 55), Some(5));
        for i in 0..10_000 {
            assert!(d.get(&key(i)).is_some(), "missing {i}");
        }
        for i in 0..9_990 {
            assert!(d.remove(&key(i)).is_some());
        }
        d.shrink_if_needed();
        while d.rehash(100) {}
        assert_eq!(d.len(), 10);
        assert!(d.buckets() <= 16);
        assert_eq!(d.iter().count(), 10);
    }

    #[test]
    fn scan_survives_growth_and_shrink() {
        walk_while_resizing(|d, cursor, seen| {
            d.scan(cursor, |_, v| {
                seen.insert(*v);
            })
        });
    }

    #[test]
    fn batched_mutable_scan_survives_growth_and_shrink() {
        walk_while_resizing(|d, cursor, seen| {
            d.scan_mut_batch(
                cursor,
                7,
                |_| {},
                |_, v| {
                    seen.insert(*v);
                },
            )
        });
    }

    /// Walks a table with `step` while it grows and then shrinks: every entry present throughout
    /// must be seen.
    fn walk_while_resizing(
        mut step_fn: impl FnMut(&mut Dict<usize>, u64, &mut HashSet<usize>) -> u64,
    ) {
        let mut d = Dict::new();
        for i in 0..1000 {
            d.insert(&key(i), i);
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut step = 0;
        loop {
            cursor = step_fn(&mut d, cursor, &mut seen);
            step += 1;
            // Grow while scanning, then shrink: entries 0..500 stay present throughout.
            if step == 20 {
                for i in 1000..5000 {
                    d.insert(&key(i), i);
                }
            }
            if step == 60 {
                for i in 500..5000 {
                    d.remove(&key(i));
                }
                d.shrink_if_needed();
            }
            d.rehash(1);
            if cursor == 0 {
                break;
            }
        }
        for i in 0..500 {
            assert!(seen.contains(&i), "scan missed {i}");
        }
    }

    #[test]
    fn random_entry_covers_keys() {
        let mut d = Dict::new();
        for i in 0..8 {
            d.insert(&key(i), i);
        }
        let mut rng = rand::thread_rng();
        let mut seen = HashSet::new();
        for _ in 0..1000 {
            seen.insert(*d.random_entry(&mut rng).unwrap().1);
        }
        assert_eq!(seen.len(), 8);
    }
}
