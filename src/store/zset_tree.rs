//! The order-statistic tree behind large sorted sets: an arena treap keyed by (score, member)
//! whose nodes carry subtree sizes, so rank, select and range-count queries are O(log n).
//!
//! Nodes live in one `Vec` and link by `u32` index (0 is the empty sentinel), which keeps them
//! small (40 bytes) and close together, and lets freed slots be reused without reallocating.

use super::super::compact::CompactBytes;
use std::cmp::Ordering;

/// Index of a node; `NIL` is the empty tree.
type Idx = u32;
const NIL: Idx = 0;

struct Node {
    score: f64,
    member: CompactBytes,
    left: Idx,
    right: Idx,
    size: u32,
    prio: u32,
}

/// Orders two entries the way Redis's skiplist does: by score, then member bytes.
#[inline]
pub fn cmp_entry(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    match s1.partial_cmp(&s2) {
        Some(Ordering::Equal) | None => m1.cmp(m2),
        Some(o) => o,
    }
}

/// A treap of (score, member) with subtree sizes.
pub struct Tree {
    nodes: Vec<Node>,
    /// First freed slot; each freed slot's `left` links to the next (`NIL` ends the list), so
    /// freeing needs no side vector that grows (and reallocates) as a set is emptied.
    free: Idx,
    root: Idx,
    seed: u32,
}

impl Default for Tree {
    fn default() -> Self {
        Self::new()
    }
}

impl Tree {
    /// An empty tree.
    pub fn new() -> Self {
        Tree {
            nodes: vec![Node {
                score: 0.0,
                member: CompactBytes::new(b""),
                left: NIL,
                right: NIL,
                size: 0,
                prio: 0,
            }],
            free: NIL,
            root: NIL,
            seed: 0x9E37_79B9,
        }
    }

    /// An empty tree with room for `n` entries.
    pub fn with_capacity(n: usize) -> Self {
        let mut t = Self::new();
        t.nodes.reserve(n);
        t
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.nodes[self.root as usize].size as usize
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.root == NIL
    }

    /// Approximate heap bytes.
    pub fn heap_size(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self
                .nodes
                .iter()
                .map(|n| n.member.heap_size())
                .sum::<usize>()
    }

    #[inline]
    fn n(&self, i: Idx) -> &Node {
        &self.nodes[i as usize]
    }

    #[inline]
    fn nm(&mut self, i: Idx) -> &mut Node {
        &mut self.nodes[i as usize]
    }

    #[inline]
    fn size(&self, i: Idx) -> u32 {
        self.nodes[i as usize].size
    }

    #[inline]
    fn fix(&mut self, i: Idx) {
        let s = self.size(self.n(i).left) + self.size(self.n(i).right) + 1;
        self.nm(i).size = s;
    }

    fn next_prio(&mut self) -> u32 {
        // xorshift32
        let mut x = self.seed;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.seed = x;
        x
    }

    fn alloc(&mut self, score: f64, member: CompactBytes) -> Idx {
        let prio = self.next_prio();
        let node = Node {
            score,
            member,
            left: NIL,
            right: NIL,
            size: 1,
            prio,
        };
        if self.free != NIL {
            let i = self.free;
            self.free = self.n(i).left;
            self.nodes[i as usize] = node;
            return i;
        }
        self.nodes.push(node);
        (self.nodes.len() - 1) as Idx
    }

    fn release(&mut self, i: Idx) -> CompactBytes {
        let next = self.free;
        let n = self.nm(i);
        n.left = next;
        n.right = NIL;
        n.size = 0;
        let m = std::mem::replace(&mut n.member, CompactBytes::new(b""));
        self.free = i;
        m
    }

    /// Inserts an entry that is not present.
    pub fn insert(&mut self, score: f64, member: CompactBytes) {
        let n = self.alloc(score, member);
        self.root = self.insert_at(self.root, n);
    }

    fn insert_at(&mut self, t: Idx, n: Idx) -> Idx {
        if t == NIL {
            return n;
        }
        if self.n(n).prio > self.n(t).prio {
            // Borrow the member out of the new node while splitting, to avoid a copy.
            let s = self.n(n).score;
            let m = std::mem::replace(&mut self.nm(n).member, CompactBytes::new(b""));
            let (l, r) = self.split_by(t, &|node: &Node| {
                cmp_entry(node.score, &node.member, s, &m) == Ordering::Less
            });
            let node = self.nm(n);
            node.member = m;
            node.left = l;
            node.right = r;
            self.fix(n);
            return n;
        }
        let go_left = {
            let (a, b) = (self.n(n), self.n(t));
            cmp_entry(a.score, &a.member, b.score, &b.member) == Ordering::Less
        };
        if go_left {
            let l = self.insert_at(self.n(t).left, n);
            self.nm(t).left = l;
        } else {
            let r = self.insert_at(self.n(t).right, n);
            self.nm(t).right = r;
        }
        self.nm(t).size += 1;
        t
    }

    /// Splits `t` into (entries for which `before` holds, the rest); `before` must be monotone
    /// (true on a prefix of the order).
    fn split_by(&mut self, t: Idx, before: &dyn Fn(&Node) -> bool) -> (Idx, Idx) {
        if t == NIL {
            return (NIL, NIL);
        }
        if before(self.n(t)) {
            let (l, r) = self.split_by(self.n(t).right, before);
            self.nm(t).right = l;
            self.fix(t);
            (t, r)
        } else {
            let (l, r) = self.split_by(self.n(t).left, before);
            self.nm(t).left = r;
            self.fix(t);
            (l, t)
        }
    }

    /// Splits `t` into (its first `k` entries, the rest).
    fn split_rank(&mut self, t: Idx, k: u32) -> (Idx, Idx) {
        if t == NIL {
            return (NIL, NIL);
        }
        let ls = self.size(self.n(t).left);
        if k <= ls {
            let (l, r) = self.split_rank(self.n(t).left, k);
            self.nm(t).left = r;
            self.fix(t);
            (l, t)
        } else {
            let (l, r) = self.split_rank(self.n(t).right, k - ls - 1);
            self.nm(t).right = l;
            self.fix(t);
            (t, r)
        }
    }

    /// Joins two trees where every entry of `a` precedes every entry of `b`.
    fn merge(&mut self, a: Idx, b: Idx) -> Idx {
        if a == NIL {
            return b;
        }
        if b == NIL {
            return a;
        }
        if self.n(a).prio > self.n(b).prio {
            let r = self.merge(self.n(a).right, b);
            self.nm(a).right = r;
            self.fix(a);
            a
        } else {
            let l = self.merge(a, self.n(b).left);
            self.nm(b).left = l;
            self.fix(b);
            b
        }
    }

    /// Removes the entry (score, member); returns its member, `None` if absent. One walk down
    /// the tree: subtree sizes are only adjusted on the way back once the entry was found.
    pub fn remove(&mut self, score: f64, member: &[u8]) -> Option<CompactBytes> {
        let (root, m) = self.remove_at(self.root, score, member)?;
        self.root = root;
        Some(m)
    }

    /// Removes the entry from subtree `t`, returning the new subtree root and the member.
    fn remove_at(&mut self, t: Idx, score: f64, member: &[u8]) -> Option<(Idx, CompactBytes)> {
        if t == NIL {
            return None;
        }
        let n = self.n(t);
        match cmp_entry(score, member, n.score, &n.member) {
            Ordering::Equal => {
                let (l, r) = (n.left, n.right);
                let m = self.merge(l, r);
                Some((m, self.release(t)))
            }
            Ordering::Less => {
                let (l, m) = self.remove_at(n.left, score, member)?;
                let node = self.nm(t);
                node.left = l;
                node.size -= 1;
                Some((t, m))
            }
            Ordering::Greater => {
                let (r, m) = self.remove_at(n.right, score, member)?;
                let node = self.nm(t);
                node.right = r;
                node.size -= 1;
                Some((t, m))
            }
        }
    }

    /// Number of entries before (score, member) in the order (its rank when present).
    pub fn rank(&self, score: f64, member: &[u8]) -> usize {
        self.count_before(|s, m| cmp_entry(s, m, score, member) == Ordering::Less)
    }

    /// Number of leading entries for which the monotone predicate `before` holds.
    pub fn count_before(&self, before: impl Fn(f64, &[u8]) -> bool) -> usize {
        let mut t = self.root;
        let mut count = 0usize;
        while t != NIL {
            let n = self.n(t);
            if before(n.score, &n.member) {
                count += self.size(n.left) as usize + 1;
                t = n.right;
            } else {
                t = n.left;
            }
        }
        count
    }

    /// The entry at rank `i`.
    pub fn get(&self, mut i: usize) -> Option<(&[u8], f64)> {
        if i >= self.len() {
            return None;
        }
        let mut t = self.root;
        while t != NIL {
            let n = self.n(t);
            let ls = self.size(n.left) as usize;
            match i.cmp(&ls) {
                Ordering::Less => t = n.left,
                Ordering::Equal => return Some((&n.member, n.score)),
                Ordering::Greater => {
                    i -= ls + 1;
                    t = n.right;
                }
            }
        }
        None
    }

    /// Entries from rank `start` onwards, ascending (`rev` false) or from rank `start` down to
    /// rank 0 (`rev` true).
    pub fn iter_from(&self, start: usize, rev: bool) -> Iter<'_> {
        let mut stack = Vec::with_capacity(48);
        if start < self.len() {
            let mut i = start;
            let mut t = self.root;
            while t != NIL {
                let n = self.n(t);
                let ls = self.size(n.left) as usize;
                match i.cmp(&ls) {
                    Ordering::Less => {
                        if !rev {
                            stack.push(t);
                        }
                        t = n.left;
                    }
                    Ordering::Equal => {
                        stack.push(t);
                        break;
                    }
                    Ordering::Greater => {
                        if rev {
                            stack.push(t);
                        }
                        i -= ls + 1;
                        t = n.right;
                    }
                }
            }
        }
        Iter {
            tree: self,
            stack,
            rev,
        }
    }

    /// Removes and returns the lowest entry (or, with `last`, the highest): one walk down the
    /// left (right) spine, where a rank-based split would take three (ZPOPMIN's hot path).
    pub fn pop_end(&mut self, last: bool) -> Option<(CompactBytes, f64)> {
        if self.root == NIL {
            return None;
        }
        let mut parent = NIL;
        let mut t = self.root;
        loop {
            let n = self.n(t);
            let child = if last { n.right } else { n.left };
            if child == NIL {
                break;
            }
            self.nm(t).size -= 1;
            parent = t;
            t = child;
        }
        let n = self.n(t);
        let (rest, score) = (if last { n.left } else { n.right }, n.score);
        if parent == NIL {
            self.root = rest;
        } else if last {
            self.nm(parent).right = rest;
        } else {
            self.nm(parent).left = rest;
        }
        Some((self.release(t), score))
    }

    /// Removes the entries of ranks `start..end`, handing each (member, score) to `f` in order.
    pub fn drain_range(&mut self, start: usize, end: usize, f: &mut dyn FnMut(CompactBytes, f64)) {
        let end = end.min(self.len());
        if start >= end {
            return;
        }
        let (l, rest) = self.split_rank(self.root, start as u32);
        let (mid, r) = self.split_rank(rest, (end - start) as u32);
        self.root = self.merge(l, r);
        // In-order walk of `mid`, freeing as we go.
        let mut stack = Vec::new();
        let mut t = mid;
        loop {
            while t != NIL {
                stack.push(t);
                t = self.n(t).left;
            }
            let Some(x) = stack.pop() else { break };
            t = self.n(x).right;
            let score = self.n(x).score;
            let m = self.release(x);
            f(m, score);
        }
    }

    /// Checks the size and order invariants (tests).
    #[cfg(test)]
    pub fn check(&self) {
        fn walk(t: &Tree, i: Idx, out: &mut Vec<(f64, Vec<u8>)>) -> u32 {
            if i == NIL {
                return 0;
            }
            let n = t.n(i);
            for c in [n.left, n.right] {
                if c != NIL {
                    assert!(t.n(c).prio <= n.prio, "heap order");
                }
            }
            let l = walk(t, n.left, out);
            out.push((n.score, n.member.to_vec()));
            let r = walk(t, n.right, out);
            assert_eq!(n.size, l + r + 1, "subtree size");
            n.size
        }
        let mut out = Vec::new();
        walk(self, self.root, &mut out);
        for w in out.windows(2) {
            assert_eq!(
                cmp_entry(w[0].0, &w[0].1, w[1].0, &w[1].1),
                Ordering::Less,
                "order"
            );
        }
    }
}

/// In-order iterator over a [`Tree`] (see [`Tree::iter_from`]).
pub struct Iter<'a> {
    tree: &'a Tree,
    stack: Vec<Idx>,
    rev: bool,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        let x = self.stack.pop()?;
        let tree = self.tree;
        let n = tree.n(x);
        let mut t = if self.rev { n.left } else { n.right };
        while t != NIL {
            self.stack.push(t);
            let c = tree.n(t);
            t = if self.rev { c.right } else { c.left };
        }
        Some((&n.member, n.score))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn model_sort(v: &mut [(f64, Vec<u8>)]) {
        v.sort_by(|a, b| cmp_entry(a.0, &a.1, b.0, &b.1));
    }

    #[test]
    fn matches_sorted_vec_model() {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        let mut tree = Tree::new();
        let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
        for step in 0..20_000 {
            let op = rng.gen_range(0..10);
            if op < 6 || model.is_empty() {
                let score = [0.0, 1.0, -1.0, f64::INFINITY, f64::NEG_INFINITY, 2.5]
                    [rng.gen_range(0..6)]
                    + if rng.gen_bool(0.3) {
                        rng.gen_range(0..5) as f64
                    } else {
                        0.0
                    };
                let member = format!("m{}", rng.gen_range(0..3000)).into_bytes();
                if model.iter().any(|(_, m)| *m == member) {
                    continue;
                }
                tree.insert(score, CompactBytes::new(&member));
                model.push((score, member));
                model_sort(&mut model);
            } else if op < 8 {
                let i = rng.gen_range(0..model.len());
                let (s, m) = model.remove(i);
                assert_eq!(tree.remove(s, &m).as_deref(), Some(&m[..]));
                assert!(tree.remove(s, &m).is_none());
            } else if op == 8 && rng.gen_bool(0.3) {
                let last = rng.gen_bool(0.5);
                let want = if last {
                    model.pop()
                } else {
                    Some(model.remove(0))
                };
                let got = tree.pop_end(last).map(|(m, s)| (s, m.to_vec()));
                assert_eq!(got, want);
            } else {
                let a = rng.gen_range(0..=model.len());
                let b = (a + rng.gen_range(0..4)).min(model.len());
                let mut got = Vec::new();
                tree.drain_range(a, b, &mut |m, s| got.push((s, m.to_vec())));
                let want: Vec<_> = model.drain(a..b).collect();
                assert_eq!(got, want);
            }
            assert_eq!(tree.len(), model.len());
            if step % 500 == 0 {
                tree.check();
            }
            if !model.is_empty() {
                let i = rng.gen_range(0..model.len());
                let (s, m) = &model[i];
                assert_eq!(tree.rank(*s, m), i);
                assert_eq!(tree.get(i), Some((&m[..], *s)));
                let fwd: Vec<_> = tree
                    .iter_from(i, false)
                    .take(5)
                    .map(|(m, s)| (s, m.to_vec()))
                    .collect();
                assert_eq!(fwd, model[i..(i + 5).min(model.len())].to_vec());
                let back: Vec<_> = tree
                    .iter_from(i, true)
                    .take(5)
                    .map(|(m, s)| (s, m.to_vec()))
                    .collect();
                let want: Vec<_> = model[i.saturating_sub(4)..=i]
                    .iter()
                    .rev()
                    .cloned()
                    .collect();
                assert_eq!(back, want);
                let x = rng.gen_range(-2.0..8.0f64).floor();
                assert_eq!(
                    tree.count_before(|s, _| s < x),
                    model.iter().filter(|(s, _)| *s < x).count()
                );
            }
        }
        tree.check();
        let all: Vec<_> = tree
            .iter_from(0, false)
            .map(|(m, s)| (s, m.to_vec()))
            .collect();
        assert_eq!(all, model);
        assert!(tree.get(model.len()).is_none());
        assert_eq!(tree.iter_from(model.len(), false).count(), 0);
    }
}
