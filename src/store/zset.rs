//! The sorted-set type: `listpack` (a compact sorted vector, searched linearly by member) while
//! small (zset-max-listpack-entries / -value), `skiplist` after: a member → score [`Dict`] plus an
//! order-statistic tree ordered by (score, member), so rank and range queries are O(log n). As in
//! Redis, a set never converts back to the compact form.

#[path = "zset_tree.rs"]
mod tree;

use super::compact::CompactBytes;
use super::dict::Dict;
use super::shared::cow_mut;
use super::EncodingLimits;
use std::sync::Arc;
use tree::{cmp_entry, Tree};

/// A sorted-set value.
#[derive(Clone)]
pub struct ZSet {
    repr: Repr,
}

#[derive(Clone)]
enum Repr {
    /// Entries in (score, member) order.
    Pack(Vec<(f64, CompactBytes)>),
    /// Member → score, plus the ordered tree. Both are shared on copy and copied on write
    /// ([`cow_mut`]), as sets' and hashes' tables are: a snapshot takes the sorted set
    /// under the keyspace lock by reference and encodes it outside.
    Skip {
        dict: Arc<Dict<f64>>,
        tree: Arc<Tree>,
    },
}

/// The score as the compact encoding keeps it: Redis writes listpack scores as text, where
/// `-0` becomes `0`.
fn pack_score(score: f64) -> f64 {
    if score == 0.0 {
        0.0
    } else {
        score
    }
}

/// [`ZSet::upsert`] in the `skiplist` encoding: a changed score moves the member's tree entry.
fn upsert_skip(
    dict: &mut Dict<f64>,
    tree: &mut Tree,
    member: &[u8],
    decide: impl FnOnce(Option<f64>) -> Option<f64>,
) {
    match dict.get_mut(member) {
        Some(cur) => {
            let old = *cur;
            match decide(Some(old)) {
                Some(score) if score != old => {
                    *cur = score;
                    if let Some(m) = tree.remove_known(old, member) {
                        tree.insert(score, m);
                    }
                }
                _ => {}
            }
        }
        None => {
            if let Some(score) = decide(None) {
                dict.insert_absent(member, score);
                tree.insert(score, CompactBytes::new(member));
            }
        }
    }
}

impl Default for ZSet {
    fn default() -> Self {
        Self::new()
    }
}

impl PartialEq for ZSet {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .zip(other.iter())
                .all(|((m1, s1), (m2, s2))| m1 == m2 && s1.to_bits() == s2.to_bits())
    }
}

impl std::fmt::Debug for ZSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(
                self.iter()
                    .map(|(m, s)| (String::from_utf8_lossy(m).into_owned(), s)),
            )
            .finish()
    }
}

/// Iterator over a run of entries (see [`ZSet::range_iter`]).
pub enum RangeIter<'a> {
    Fwd(std::slice::Iter<'a, (f64, CompactBytes)>),
    Rev(std::iter::Rev<std::slice::Iter<'a, (f64, CompactBytes)>>),
    Tree(tree::Iter<'a>),
}

impl<'a> Iterator for RangeIter<'a> {
    type Item = (&'a [u8], f64);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            RangeIter::Fwd(it) => it.next().map(|(s, m)| (m.as_slice(), *s)),
            RangeIter::Rev(it) => it.next().map(|(s, m)| (m.as_slice(), *s)),
            RangeIter::Tree(it) => it.next(),
        }
    }
}

impl ZSet {
    /// An empty sorted set (compact encoding).
    pub fn new() -> Self {
        ZSet {
            repr: Repr::Pack(Vec::new()),
        }
    }

    /// A sorted set of `entries` (unique members, any order), encoded by its contents as Redis
    /// encodes the result of ZUNIONSTORE and friends.
    pub fn from_entries(mut entries: Vec<(f64, CompactBytes)>, limits: &EncodingLimits) -> Self {
        entries.sort_unstable_by(|a, b| cmp_entry(a.0, &a.1, b.0, &b.1));
        let small = entries.len() <= limits.zset_max_listpack_entries
            && entries
                .iter()
                .all(|(_, m)| m.len() <= limits.zset_max_listpack_value);
        if small {
            for e in entries.iter_mut() {
                e.0 = pack_score(e.0);
            }
            return ZSet {
                repr: Repr::Pack(entries),
            };
        }
        let mut dict = Dict::new();
        let mut tree = Tree::with_capacity(entries.len());
        for (s, m) in entries {
            dict.insert_absent(&m, s);
            tree.insert(s, m);
        }
        ZSet {
            repr: Repr::Skip {
                dict: Arc::new(dict),
                tree: Arc::new(tree),
            },
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Pack(v) => v.len(),
            Repr::Skip { tree, .. } => tree.len(),
        }
    }

    /// True when empty (an empty sorted set is never stored).
    pub fn is_empty(&self) -> bool {
        match &self.repr {
            Repr::Pack(v) => v.is_empty(),
            Repr::Skip { tree, .. } => tree.is_empty(),
        }
    }

    /// OBJECT ENCODING. The encoding is decided when members are added (it never goes back to
    /// `listpack`), so `limits` is not consulted here.
    pub fn encoding(&self, limits: &EncodingLimits) -> &'static str {
        let _ = limits;
        match &self.repr {
            Repr::Pack(_) => "listpack",
            Repr::Skip { .. } => "skiplist",
        }
    }

    /// Approximate heap bytes, for MEMORY USAGE.
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Pack(v) => {
                v.capacity() * 24 + v.iter().map(|(_, m)| m.heap_size()).sum::<usize>()
            }
            Repr::Skip { dict, tree } => {
                dict.buckets() * 8 + dict.len() * 32 + tree.heap_size() * 2
            }
        }
    }

    /// Members with scores, lowest first.
    pub fn iter(&self) -> RangeIter<'_> {
        self.range_iter(0, false)
    }

    /// Entries from rank `start` on: upwards, or (`rev`) from rank `start` down to rank 0.
    pub fn range_iter(&self, start: usize, rev: bool) -> RangeIter<'_> {
        match &self.repr {
            Repr::Pack(v) => {
                if rev {
                    let end = if start < v.len() { start + 1 } else { 0 };
                    RangeIter::Rev(v[..end].iter().rev())
                } else {
                    RangeIter::Fwd(v[start.min(v.len())..].iter())
                }
            }
            Repr::Skip { tree, .. } => RangeIter::Tree(tree.iter_from(start, rev)),
        }
    }

    /// The entry at rank `i`.
    pub fn get(&self, i: usize) -> Option<(&[u8], f64)> {
        match &self.repr {
            Repr::Pack(v) => v.get(i).map(|(s, m)| (m.as_slice(), *s)),
            Repr::Skip { tree, .. } => tree.get(i),
        }
    }

    /// True in the `skiplist` encoding.
    pub fn is_skiplist(&self) -> bool {
        matches!(self.repr, Repr::Skip { .. })
    }

    /// Prefetches a lookup of `member` in the skiplist encoding's dict (see [`Dict::prefetch`]).
    pub fn prefetch(&self, member: &[u8], level: u8) {
        if let Repr::Skip { dict, .. } = &self.repr {
            dict.prefetch(member, level);
        }
    }

    /// Starts loading what the ZADDs `updates` (member, new score) of a pipelined batch will
    /// touch in the tree: the leaves the member leaves and enters, then the members there that
    /// share its scores (compared on ties). The member lookups must have been prefetched first
    /// (see [`Self::prefetch`]), as they give the current scores.
    pub fn prefetch_updates(&self, updates: &[(&[u8], f64)]) {
        let Repr::Skip { dict, tree } = &self.repr else {
            return;
        };
        let mut hints = Vec::with_capacity(updates.len() * 2);
        for &(_, score) in updates {
            hints.push((tree.prefetch_leaf(score), score));
        }
        for &(member, score) in updates {
            if let Some(&old) = dict.get(member) {
                if old != score {
                    hints.push((tree.prefetch_leaf(old), old));
                }
            }
        }
        for (hint, score) in &hints {
            hint.prefetch_ties(*score);
        }
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Pack(v) => v.iter().find(|(_, m)| m.as_slice() == member).map(|e| e.0),
            Repr::Skip { dict, .. } => dict.get(member).copied(),
        }
    }

    /// The rank (0-based, ascending) of `member`.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match &self.repr {
            Repr::Pack(v) => v.iter().position(|(_, m)| m.as_slice() == member),
            Repr::Skip { dict, tree } => {
                let s = *dict.get(member)?;
                Some(tree.rank(s, member))
            }
        }
    }

    fn convert_to_skip(&mut self) {
        if let Repr::Pack(v) = &mut self.repr {
            let entries = std::mem::take(v);
            let mut dict = Dict::new();
            let mut tree = Tree::with_capacity(entries.len() + 1);
            for (s, m) in entries {
                dict.insert_absent(&m, s);
                tree.insert(s, m);
            }
            self.repr = Repr::Skip {
                dict: Arc::new(dict),
                tree: Arc::new(tree),
            };
        }
    }

    /// Sets `member`'s score, adding it if new (converting to `skiplist` when the set outgrows
    /// `limits`); returns true if it was new.
    pub fn insert(&mut self, member: &[u8], score: f64, limits: &EncodingLimits) -> bool {
        if let Repr::Pack(v) = &mut self.repr {
            let score = pack_score(score);
            if let Some(i) = v.iter().position(|(_, m)| m.as_slice() == member) {
                let old = v[i].0;
                if old == score {
                    return false;
                }
                let (_, m) = v.remove(i);
                let pos = v.partition_point(|(s, x)| cmp_entry(*s, x, score, member).is_lt());
                v.insert(pos, (score, m));
                return false;
            }
            if v.len() < limits.zset_max_listpack_entries
                && member.len() <= limits.zset_max_listpack_value
            {
                let pos = v.partition_point(|(s, x)| cmp_entry(*s, x, score, member).is_lt());
                v.insert(pos, (score, CompactBytes::new(member)));
                return true;
            }
            self.convert_to_skip();
        }
        let Repr::Skip { dict, tree } = &mut self.repr else {
            return false;
        };
        let mut new = false;
        upsert_skip(cow_mut(dict), cow_mut(tree), member, |cur| {
            new = cur.is_none();
            Some(score)
        });
        new
    }

    /// ZADD's step for one member: `decide` receives the current score (`None` when absent) and
    /// returns the score to store, or `None` to leave the set alone. In the `skiplist` encoding
    /// one lookup of the member serves both the decision and the update.
    pub fn upsert(
        &mut self,
        member: &[u8],
        limits: &EncodingLimits,
        decide: impl FnOnce(Option<f64>) -> Option<f64>,
    ) {
        match &mut self.repr {
            Repr::Skip { dict, tree } => upsert_skip(cow_mut(dict), cow_mut(tree), member, decide),
            Repr::Pack(_) => {
                let cur = self.score(member);
                if let Some(score) = decide(cur) {
                    if cur != Some(score) {
                        self.insert(member, score, limits);
                    }
                }
            }
        }
    }

    /// Removes `member`, returning its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match &mut self.repr {
            Repr::Pack(v) => {
                let i = v.iter().position(|(_, m)| m.as_slice() == member)?;
                Some(v.remove(i).0)
            }
            Repr::Skip { dict, tree } => {
                let (_, s) = cow_mut(dict).remove(member)?;
                cow_mut(tree).remove_known(s, member);
                Some(s)
            }
        }
    }

    /// Number of leading entries (in order) for which the monotone `before` holds.
    fn count_before(&self, before: impl Fn(f64, &[u8]) -> bool) -> usize {
        match &self.repr {
            Repr::Pack(v) => v.partition_point(|(s, m)| before(*s, m)),
            Repr::Skip { tree, .. } => tree.count_before(before),
        }
    }

    /// The ranks `[a, b)` of the entries inside a score range, given as its two bound tests.
    pub fn score_span(
        &self,
        ge_min: impl Fn(f64) -> bool,
        le_max: impl Fn(f64) -> bool,
    ) -> (usize, usize) {
        let a = self.count_before(|s, _| !ge_min(s));
        let b = self.count_before(|s, _| le_max(s));
        (a, b.max(a))
    }

    /// The ranks `[a, b)` of the entries inside a lexicographic range, given as its two bound
    /// tests, walking upwards from the first member at or above the minimum (`rev` false) or
    /// downwards from the last member at or below the maximum (`rev` true). Sorted sets whose
    /// scores differ give the same answers as Redis's listpack walk while compact.
    pub fn lex_span(
        &self,
        ge_min: impl Fn(&[u8]) -> bool,
        le_max: impl Fn(&[u8]) -> bool,
        rev: bool,
    ) -> (usize, usize) {
        match &self.repr {
            Repr::Pack(v) => {
                let (Some(first), Some(last)) = (v.first(), v.last()) else {
                    return (0, 0);
                };
                if !ge_min(&last.1) || !le_max(&first.1) {
                    return (0, 0);
                }
                if !rev {
                    let Some(a) = v.iter().position(|(_, m)| ge_min(m)) else {
                        return (0, 0);
                    };
                    let n = v[a..].iter().take_while(|(_, m)| le_max(m)).count();
                    (a, a + n)
                } else {
                    let Some(b) = v.iter().rposition(|(_, m)| le_max(m)) else {
                        return (0, 0);
                    };
                    let n = v[..=b].iter().rev().take_while(|(_, m)| ge_min(m)).count();
                    (b + 1 - n, b + 1)
                }
            }
            Repr::Skip { tree, .. } => {
                let a = tree.count_before(|_, m| !ge_min(m));
                let b = tree.count_before(|_, m| le_max(m));
                (a, b.max(a))
            }
        }
    }

    /// Removes the entries of ranks `[start, end)`, returning how many went.
    pub fn remove_range(&mut self, start: usize, end: usize) -> usize {
        let end = end.min(self.len());
        if start >= end {
            return 0;
        }
        match &mut self.repr {
            Repr::Pack(v) => {
                v.drain(start..end);
            }
            Repr::Skip { dict, tree } => {
                let dict = cow_mut(dict);
                cow_mut(tree).drain_range(start, end, &mut |m: CompactBytes, _| {
                    dict.remove(&m);
                });
            }
        }
        end - start
    }

    /// Removes and returns the lowest (or, with `max`, highest) entry.
    pub fn pop(&mut self, max: bool) -> Option<(CompactBytes, f64)> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        let i = if max { n - 1 } else { 0 };
        match &mut self.repr {
            Repr::Pack(v) => {
                let (s, m) = v.remove(i);
                Some((m, s))
            }
            Repr::Skip { dict, tree } => {
                let (m, s) = cow_mut(tree).pop_end(max)?;
                cow_mut(dict).remove(&m);
                Some((m, s))
            }
        }
    }

    /// One ZSCAN step: visits entries and returns the next cursor. The compact encoding is
    /// returned whole with cursor 0, as Redis does.
    pub fn scan(&self, cursor: u64, count: usize, f: &mut dyn FnMut(&[u8], f64)) -> u64 {
        match &self.repr {
            Repr::Pack(v) => {
                for (s, m) in v {
                    f(m, *s);
                }
                0
            }
            Repr::Skip { dict, .. } => {
                let mut cursor = cursor;
                let mut seen = 0usize;
                let mut budget = count.saturating_mul(10).max(1);
                loop {
                    cursor = dict.scan(cursor, |m, s| {
                        seen += 1;
                        f(m, *s)
                    });
                    budget -= 1;
                    if cursor == 0 || budget == 0 || seen >= count {
                        break;
                    }
                }
                cursor
            }
        }
    }

    /// A uniformly random entry.
    pub fn random(&self, rng: &mut impl rand::Rng) -> Option<(&[u8], f64)> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        self.get(rng.gen_range(0..n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A copy shares the dict and tree until one side writes; each then keeps its own order
    /// and scores (a snapshot's copy keeps the set as it was).
    #[test]
    fn copies_share_until_written() {
        let l = limits(8);
        let mut a = ZSet::new();
        for i in 0..300 {
            a.insert(format!("m{i}").as_bytes(), i as f64, &l);
        }
        assert!(a.is_skiplist());
        let mut b = a.clone();
        let shared = |x: &ZSet, y: &ZSet| match (&x.repr, &y.repr) {
            (Repr::Skip { tree: t1, .. }, Repr::Skip { tree: t2, .. }) => Arc::ptr_eq(t1, t2),
            _ => false,
        };
        assert!(shared(&a, &b));
        b.insert(b"m5", 1000.0, &l);
        assert!(!shared(&a, &b));
        assert_eq!(
            a.pop(false).map(|(m, s)| (m.to_vec(), s)),
            Some((b"m0".to_vec(), 0.0))
        );
        assert_eq!(a.score(b"m5"), Some(5.0));
        assert_eq!(b.score(b"m5"), Some(1000.0));
        assert_eq!(b.score(b"m0"), Some(0.0));
        assert_eq!((a.len(), b.len()), (299, 300));
        let order: Vec<Vec<u8>> = b.iter().map(|(m, _)| m.to_vec()).collect();
        assert_eq!(order.last().map(|m| &m[..]), Some(&b"m5"[..]));
        assert_eq!(order.len(), 300);
        assert!(a.iter().zip(a.iter().skip(1)).all(|(x, y)| x.1 <= y.1));
    }

    fn limits(entries: usize) -> EncodingLimits {
        EncodingLimits {
            zset_max_listpack_entries: entries,
            ..EncodingLimits::default()
        }
    }

    #[test]
    fn both_encodings_agree() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::SmallRng::seed_from_u64(3);
        let (mut small, mut big) = (ZSet::new(), ZSet::new());
        let (ls, lb) = (limits(100_000), limits(0));
        for _ in 0..5000 {
            let m = format!("k{}", rng.gen_range(0..300)).into_bytes();
            let s = rng.gen_range(0..20) as f64;
            match rng.gen_range(0..6) {
                0..=2 => assert_eq!(small.insert(&m, s, &ls), big.insert(&m, s, &lb)),
                3 => assert_eq!(small.remove(&m), big.remove(&m)),
                4 => assert_eq!(small.pop(s > 10.0), big.pop(s > 10.0)),
                _ => {
                    let a = rng.gen_range(0..50);
                    assert_eq!(small.remove_range(a, a + 3), big.remove_range(a, a + 3));
                }
            }
            assert_eq!(small.rank(&m), big.rank(&m));
            let ex: bool = rng.gen();
            let ge = |v: f64| if ex { v > s } else { v >= s };
            let le = |v: f64| v <= s + 3.0;
            assert_eq!(small.score_span(ge, le), big.score_span(ge, le));
        }
        assert_eq!(small.encoding(&ls), "listpack");
        assert_eq!(big.encoding(&lb), "skiplist");
        assert_eq!(small, big);
        assert_eq!(big.clone(), small);
    }
}
