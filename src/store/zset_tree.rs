//! The order-statistic tree behind large sorted sets: a B+tree keyed by (score, member) whose
//! inner nodes count the entries under each child, so rank, select and range-count queries are
//! O(log n).
//!
//! A B+tree rather than a binary tree because ZADD on a large set is bound by cache misses: a
//! binary tree of 100k entries is ~23 nodes deep and each level is a miss, twice per score
//! update (remove, insert); here the inner levels are few and stay cached, and a leaf keeps its
//! scores in one contiguous array, so an update touches a handful of cache lines. Members are
//! compared only between entries whose scores are equal.

use super::super::compact::CompactBytes;
use super::super::dict::prefetch_addr;
use std::cmp::Ordering;

/// Entries per leaf.
const LEAF_CAP: usize = 32;
/// A non-root leaf with fewer entries is merged with (or refilled from) a sibling.
const LEAF_MIN: usize = LEAF_CAP / 4;
/// Children per inner node.
const INNER_CAP: usize = 32;
/// A non-root inner node with fewer children is merged with (or refilled from) a sibling.
const INNER_MIN: usize = INNER_CAP / 4;

/// Orders two entries the way Redis's skiplist does: by score, then member bytes.
#[inline]
pub fn cmp_entry(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    match s1.partial_cmp(&s2) {
        Some(Ordering::Equal) | None => m1.cmp(m2),
        Some(o) => o,
    }
}

/// Up to `LEAF_CAP` entries in order: scores apart from members, so a search reads few lines.
struct Leaf {
    len: usize,
    scores: [f64; LEAF_CAP],
    /// `members[len..]` are empty (inline, nothing to free).
    members: [CompactBytes; LEAF_CAP],
}

/// A vector for an inner node's per-child data, allocated once for the most it ever holds (one
/// over the capacity, just before a split). Growing by doubling would ask for 1 KiB or more,
/// and such a request makes glibc first coalesce every small chunk freed since the last one:
/// after a run of ZPOPMINs, a multi-millisecond stall in the middle of one pop.
fn inner_vec<T>() -> Vec<T> {
    Vec::with_capacity(INNER_CAP + 1)
}

/// An inner node's separators, scores apart from members so the search reads few lines.
#[derive(Default)]
struct Seps {
    scores: Vec<f64>,
    members: Vec<CompactBytes>,
}

impl Seps {
    fn with_room() -> Seps {
        Seps {
            scores: inner_vec(),
            members: inner_vec(),
        }
    }

    fn one(sep: (f64, CompactBytes)) -> Seps {
        let mut seps = Seps::with_room();
        seps.push(sep);
        seps
    }

    fn pop(&mut self) -> Option<(f64, CompactBytes)> {
        Some((self.scores.pop()?, self.members.pop()?))
    }

    /// Puts `sep` at `i`, returning the separator it replaces.
    fn replace(&mut self, i: usize, sep: (f64, CompactBytes)) -> (f64, CompactBytes) {
        (
            std::mem::replace(&mut self.scores[i], sep.0),
            std::mem::replace(&mut self.members[i], sep.1),
        )
    }

    fn len(&self) -> usize {
        self.scores.len()
    }

    #[cfg(test)]
    fn get(&self, i: usize) -> Option<(f64, &CompactBytes)> {
        Some((*self.scores.get(i)?, self.members.get(i)?))
    }

    fn insert(&mut self, i: usize, sep: (f64, CompactBytes)) {
        self.scores.insert(i, sep.0);
        self.members.insert(i, sep.1);
    }

    fn remove(&mut self, i: usize) -> (f64, CompactBytes) {
        (self.scores.remove(i), self.members.remove(i))
    }

    fn push(&mut self, sep: (f64, CompactBytes)) {
        self.scores.push(sep.0);
        self.members.push(sep.1);
    }

    fn append(&mut self, other: &mut Seps) {
        self.scores.append(&mut other.scores);
        self.members.append(&mut other.members);
    }

    fn set(&mut self, i: usize, sep: (f64, CompactBytes)) {
        self.scores[i] = sep.0;
        self.members[i] = sep.1;
    }

    /// How many leading separators satisfy the monotone `before`.
    fn partition_point(&self, before: impl Fn(f64, &[u8]) -> bool) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if before(self.scores[mid], &self.members[mid]) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    fn heap_size(&self) -> usize {
        self.scores.capacity() * 8
            + self.members.capacity() * std::mem::size_of::<CompactBytes>()
            + self.members.iter().map(|m| m.heap_size()).sum::<usize>()
    }
}

/// `children[i + 1]` holds entries at or above separator `i`, `children[i]` entries below it;
/// `counts[i]` is the number of entries under `children[i]`.
struct Inner {
    seps: Seps,
    counts: Vec<usize>,
    children: Vec<Node>,
}

enum Node {
    Leaf(Box<Leaf>),
    Inner(Box<Inner>),
}

/// Which entry a removal takes.
#[derive(Clone, Copy)]
enum Find<'a> {
    /// This (score, member); with `true` the caller knows it is present, so member bytes are
    /// compared only among entries of equal score.
    Key(f64, &'a [u8], bool),
    /// The entry of this rank.
    Rank(usize),
    /// The lowest entry.
    First,
    /// The highest entry.
    Last,
}

impl Leaf {
    fn new() -> Box<Leaf> {
        Box::new(Leaf {
            len: 0,
            scores: [0.0; LEAF_CAP],
            members: std::array::from_fn(|_| CompactBytes::new(b"")),
        })
    }

    /// The position of (s, m): `Ok` when present, else `Err(insertion point)`. With `known`
    /// the entry is taken to be present, so a lone entry of score `s` is it.
    #[inline]
    fn search(&self, s: f64, m: &[u8], known: bool) -> Result<usize, usize> {
        let n = self.len;
        // Branch-free: the score lines all load at once rather than one binary-search step
        // (and cache miss) after another.
        let lo = self.scores[..n]
            .iter()
            .map(|&x| (x < s) as usize)
            .sum::<usize>();
        if known && lo < n && self.scores[lo] == s && (lo + 1 == n || self.scores[lo + 1] != s) {
            return Ok(lo);
        }
        let mut i = lo;
        while i < n && self.scores[i] == s {
            match self.members[i].as_slice().cmp(m) {
                Ordering::Less => i += 1,
                Ordering::Equal => return Ok(i),
                Ordering::Greater => return Err(i),
            }
        }
        Err(i)
    }

    fn insert_at(&mut self, i: usize, s: f64, m: CompactBytes) {
        let n = self.len;
        self.scores.copy_within(i..n, i + 1);
        self.scores[i] = s;
        self.members[i..=n].rotate_right(1);
        self.members[i] = m;
        self.len += 1;
    }

    fn remove_at(&mut self, i: usize) -> (CompactBytes, f64) {
        let n = self.len;
        let s = self.scores[i];
        let m = std::mem::replace(&mut self.members[i], CompactBytes::new(b""));
        self.scores.copy_within(i + 1..n, i);
        self.members[i..n].rotate_left(1);
        self.len -= 1;
        (m, s)
    }

    /// Moves every entry out, in order.
    fn take_all(&mut self) -> Vec<(f64, CompactBytes)> {
        let n = std::mem::take(&mut self.len);
        (0..n)
            .map(|i| {
                (
                    self.scores[i],
                    std::mem::replace(&mut self.members[i], CompactBytes::new(b"")),
                )
            })
            .collect()
    }

    fn push_all(&mut self, entries: impl IntoIterator<Item = (f64, CompactBytes)>) {
        for (s, m) in entries {
            let n = self.len;
            self.scores[n] = s;
            self.members[n] = m;
            self.len += 1;
        }
    }
}

/// A separator between two adjacent nodes whose boundary entries are `left` and `right`: the
/// right score with an empty member when the scores differ (no copy of the member), else a copy
/// of the right entry.
fn separator(left: (f64, &CompactBytes), right: (f64, &CompactBytes)) -> (f64, CompactBytes) {
    if left.0 < right.0 {
        (right.0, CompactBytes::new(b""))
    } else {
        (right.0, right.1.clone())
    }
}

impl Node {
    fn count(&self) -> usize {
        match self {
            Node::Leaf(l) => l.len,
            Node::Inner(n) => n.counts.iter().sum(),
        }
    }

    /// Entries (leaf) or children (inner): what the occupancy bounds apply to.
    fn width(&self) -> usize {
        match self {
            Node::Leaf(l) => l.len,
            Node::Inner(n) => n.children.len(),
        }
    }

    fn underfull(&self) -> bool {
        match self {
            Node::Leaf(l) => l.len < LEAF_MIN,
            Node::Inner(n) => n.children.len() < INNER_MIN,
        }
    }

    /// The lowest and highest entries (a non-empty subtree).
    fn first(&self) -> Option<(f64, &CompactBytes)> {
        match self {
            Node::Leaf(l) => (l.len > 0).then(|| (l.scores[0], &l.members[0])),
            Node::Inner(n) => n.children.first()?.first(),
        }
    }

    fn last(&self) -> Option<(f64, &CompactBytes)> {
        match self {
            Node::Leaf(l) => (l.len > 0).then(|| (l.scores[l.len - 1], &l.members[l.len - 1])),
            Node::Inner(n) => n.children.last()?.last(),
        }
    }
}

impl Inner {
    /// The child holding (s, m): the number of separators at or below it.
    #[inline]
    fn child_for(&self, s: f64, m: &[u8]) -> usize {
        // Scores below `s` counted branch-free (all lines load at once), then ties by member.
        let scores = &self.seps.scores;
        let mut i = scores.iter().map(|&x| (x < s) as usize).sum::<usize>();
        while i < scores.len() && scores[i] == s && self.seps.members[i].as_slice() <= m {
            i += 1;
        }
        i
    }

    /// The child holding rank `r`, and the rank inside it.
    #[inline]
    fn child_for_rank(&self, mut r: usize) -> (usize, usize) {
        for (i, &c) in self.counts.iter().enumerate() {
            if r < c {
                return (i, r);
            }
            r -= c;
        }
        let last = self.counts.len().saturating_sub(1);
        (last, r)
    }

    /// Inserts `node` (split off `children[i]`, starting at `sep`) after child `i`.
    fn insert_child(&mut self, i: usize, sep: (f64, CompactBytes), node: Node) {
        self.counts[i] = self.children[i].count();
        self.seps.insert(i, sep);
        self.counts.insert(i + 1, node.count());
        self.children.insert(i + 1, node);
    }

    /// Splits an overfull node in two halves: returns the separator and the right half.
    fn split(&mut self) -> ((f64, CompactBytes), Node) {
        let mid = self.children.len() / 2;
        let mut children = inner_vec();
        children.extend(self.children.drain(mid..));
        let mut counts = inner_vec();
        counts.extend(self.counts.drain(mid..));
        let mut seps = Seps::with_room();
        seps.scores.extend(self.seps.scores.drain(mid - 1..));
        seps.members.extend(self.seps.members.drain(mid - 1..));
        let up = seps.remove(0);
        (
            up,
            Node::Inner(Box::new(Inner {
                seps,
                counts,
                children,
            })),
        )
    }

    /// Restores the occupancy of `children[i]` after a removal: merges it with a sibling when
    /// both fit in one node, else evens the two out by moving entries (children) across one at
    /// a time, so no vector ever grows past its first allocation (see [`inner_vec`]).
    fn rebalance(&mut self, i: usize) {
        if self.children.len() < 2 || !self.children[i].underfull() {
            return;
        }
        let l = if i > 0 { i - 1 } else { i };
        let r = l + 1;
        let (left, right) = self.children.split_at_mut(r);
        let (left, right) = (&mut left[l], &mut right[0]);
        let cap = match left {
            Node::Leaf(_) => LEAF_CAP,
            Node::Inner(_) => INNER_CAP,
        };
        let total = left.width() + right.width();
        let want = total / 2;
        match (left, right) {
            (Node::Leaf(a), Node::Leaf(b)) => {
                if total <= cap {
                    for k in 0..b.len {
                        let m = std::mem::replace(&mut b.members[k], CompactBytes::new(b""));
                        let n = a.len;
                        a.insert_at(n, b.scores[k], m);
                    }
                    b.len = 0;
                } else {
                    while a.len < want && b.len > 0 {
                        let (m, s) = b.remove_at(0);
                        let n = a.len;
                        a.insert_at(n, s, m);
                    }
                    while a.len > want {
                        let (m, s) = a.remove_at(a.len - 1);
                        b.insert_at(0, s, m);
                    }
                }
            }
            (Node::Inner(a), Node::Inner(b)) => {
                if total <= cap {
                    let sep = self.seps.remove(l);
                    a.seps.push(sep);
                    a.seps.append(&mut b.seps);
                    a.children.append(&mut b.children);
                    a.counts.append(&mut b.counts);
                } else {
                    // Rotations through the parent's separator between the two.
                    while a.children.len() < want && b.children.len() > 1 {
                        let next = b.seps.remove(0);
                        let sep = self.seps.replace(l, next);
                        a.seps.push(sep);
                        a.children.push(b.children.remove(0));
                        a.counts.push(b.counts.remove(0));
                    }
                    while a.children.len() > want {
                        let (Some(last), Some(child), Some(count)) =
                            (a.seps.pop(), a.children.pop(), a.counts.pop())
                        else {
                            break;
                        };
                        let sep = self.seps.replace(l, last);
                        b.seps.insert(0, sep);
                        b.children.insert(0, child);
                        b.counts.insert(0, count);
                    }
                }
            }
            // Every leaf is at the same depth, so siblings are of one kind.
            _ => return,
        }
        if total <= cap {
            self.children.remove(r);
            self.counts.remove(r);
            if let Node::Leaf(_) = self.children[l] {
                self.seps.remove(l);
            }
            self.counts[l] = self.children[l].count();
        } else {
            self.counts[l] = self.children[l].count();
            self.counts[r] = self.children[r].count();
            if let (Node::Leaf(_), Some(a), Some(b)) = (
                &self.children[l],
                self.children[l].last(),
                self.children[r].first(),
            ) {
                let sep = separator(a, b);
                self.seps.set(l, sep);
            }
        }
    }
}

/// Inserts (s, m) under `node`; returns the separator and new right sibling when it split.
/// `rightmost`: the node is on the right edge of the tree, where appends (ascending loads)
/// split off a one-entry leaf instead of halving, so sorted input fills leaves completely.
fn insert_rec(
    node: &mut Node,
    s: f64,
    m: CompactBytes,
    rightmost: bool,
) -> Option<((f64, CompactBytes), Node)> {
    match node {
        Node::Leaf(leaf) => {
            let pos = match leaf.search(s, &m, false) {
                Ok(p) | Err(p) => p,
            };
            if leaf.len < LEAF_CAP {
                leaf.insert_at(pos, s, m);
                return None;
            }
            let mut right = Leaf::new();
            if rightmost && pos == LEAF_CAP {
                right.push_all([(s, m)]);
            } else {
                let mid = LEAF_CAP / 2;
                let moved: Vec<_> = (mid..LEAF_CAP)
                    .map(|i| {
                        (
                            leaf.scores[i],
                            std::mem::replace(&mut leaf.members[i], CompactBytes::new(b"")),
                        )
                    })
                    .collect();
                leaf.len = mid;
                right.push_all(moved);
                if pos <= mid {
                    leaf.insert_at(pos, s, m);
                } else {
                    right.insert_at(pos - mid, s, m);
                }
            }
            let last = leaf.len - 1;
            let sep = separator(
                (leaf.scores[last], &leaf.members[last]),
                (right.scores[0], &right.members[0]),
            );
            Some((sep, Node::Leaf(right)))
        }
        Node::Inner(inner) => {
            let i = inner.child_for(s, &m);
            inner.counts[i] += 1;
            let last = i + 1 == inner.children.len();
            let (sep, new) = insert_rec(&mut inner.children[i], s, m, rightmost && last)?;
            inner.insert_child(i, sep, new);
            if inner.children.len() > INNER_CAP {
                return Some(inner.split());
            }
            None
        }
    }
}

/// Removes the entry `find` names from under `node`, rebalancing the children on the way back.
fn remove_rec(node: &mut Node, find: Find) -> Option<(CompactBytes, f64)> {
    match node {
        Node::Leaf(leaf) => {
            let i = match find {
                Find::Key(s, m, known) => leaf.search(s, m, known).ok()?,
                Find::Rank(r) => r,
                Find::First => 0,
                Find::Last => leaf.len.checked_sub(1)?,
            };
            (i < leaf.len).then(|| leaf.remove_at(i))
        }
        Node::Inner(inner) => {
            let (i, sub) = match find {
                Find::Key(s, m, _) => (inner.child_for(s, m), find),
                Find::Rank(r) => {
                    let (i, r) = inner.child_for_rank(r);
                    (i, Find::Rank(r))
                }
                Find::First => (0, find),
                Find::Last => (inner.children.len() - 1, find),
            };
            let got = remove_rec(&mut inner.children[i], sub)?;
            inner.counts[i] -= 1;
            inner.rebalance(i);
            Some(got)
        }
    }
}

/// Moves every entry under `node` into `out`, in order.
fn take_all(node: &mut Node, out: &mut Vec<(f64, CompactBytes)>) {
    match node {
        Node::Leaf(leaf) => out.extend(leaf.take_all()),
        Node::Inner(inner) => {
            for c in &mut inner.children {
                take_all(c, out);
            }
        }
    }
}

fn heap_size(node: &Node) -> usize {
    match node {
        Node::Leaf(leaf) => {
            std::mem::size_of::<Leaf>()
                + leaf.members[..leaf.len]
                    .iter()
                    .map(|m| m.heap_size())
                    .sum::<usize>()
        }
        Node::Inner(inner) => {
            std::mem::size_of::<Inner>()
                + inner.seps.heap_size()
                + inner.counts.capacity() * std::mem::size_of::<usize>()
                + inner.children.capacity() * std::mem::size_of::<Node>()
                + inner.children.iter().map(heap_size).sum::<usize>()
        }
    }
}

/// A B+tree of (score, member) with per-child entry counts.
pub struct Tree {
    root: Node,
    len: usize,
}

/// A copy made by re-inserting every entry: only a write to a tree that a snapshot still
/// shares makes one (copy on write, see `ZSet`).
impl Clone for Tree {
    fn clone(&self) -> Self {
        let mut t = Tree::new();
        for (member, score) in self.iter_from(0, false) {
            t.insert(score, CompactBytes::new(member));
        }
        t
    }
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
            root: Node::Leaf(Leaf::new()),
            len: 0,
        }
    }

    /// An empty tree (nodes are allocated as entries arrive; kept for callers that size
    /// their structures up front).
    pub fn with_capacity(_n: usize) -> Self {
        Self::new()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Approximate heap bytes.
    pub fn heap_size(&self) -> usize {
        heap_size(&self.root)
    }

    /// Inserts an entry that is not present.
    pub fn insert(&mut self, score: f64, member: CompactBytes) {
        self.len += 1;
        if let Some((sep, right)) = insert_rec(&mut self.root, score, member, true) {
            let left = std::mem::replace(&mut self.root, Node::Leaf(Leaf::new()));
            let mut counts = inner_vec();
            counts.extend([left.count(), right.count()]);
            let mut children = inner_vec();
            children.extend([left, right]);
            self.root = Node::Inner(Box::new(Inner {
                seps: Seps::one(sep),
                counts,
                children,
            }));
        }
    }

    fn remove_found(&mut self, find: Find) -> Option<(CompactBytes, f64)> {
        let got = remove_rec(&mut self.root, find)?;
        self.len -= 1;
        // A root with one child hands its place to that child.
        while let Node::Inner(inner) = &mut self.root {
            if inner.children.len() != 1 {
                break;
            }
            let Some(only) = inner.children.pop() else {
                break;
            };
            self.root = only;
        }
        Some(got)
    }

    /// Removes the entry (score, member); returns its member, `None` if absent.
    #[cfg(test)]
    pub fn remove(&mut self, score: f64, member: &[u8]) -> Option<CompactBytes> {
        self.remove_found(Find::Key(score, member, false))
            .map(|(m, _)| m)
    }

    /// [`Tree::remove`] for an entry the caller knows is present (the member → score dict
    /// holds it): member bytes are then compared only between entries sharing the score, which
    /// saves a cache miss per removal on members stored out of line.
    pub fn remove_known(&mut self, score: f64, member: &[u8]) -> Option<CompactBytes> {
        self.remove_found(Find::Key(score, member, true))
            .map(|(m, _)| m)
    }

    /// Number of entries before (score, member) in the order (its rank when present).
    pub fn rank(&self, score: f64, member: &[u8]) -> usize {
        self.count_before(|s, m| cmp_entry(s, m, score, member) == Ordering::Less)
    }

    /// Number of leading entries for which the monotone predicate `before` holds.
    pub fn count_before(&self, before: impl Fn(f64, &[u8]) -> bool) -> usize {
        let mut node = &self.root;
        let mut count = 0usize;
        loop {
            match node {
                Node::Inner(inner) => {
                    let i = inner.seps.partition_point(&before);
                    count += inner.counts[..i].iter().sum::<usize>();
                    node = &inner.children[i];
                }
                Node::Leaf(leaf) => {
                    let n = leaf.len;
                    let mut lo = 0;
                    let mut hi = n;
                    while lo < hi {
                        let mid = (lo + hi) / 2;
                        if before(leaf.scores[mid], &leaf.members[mid]) {
                            lo = mid + 1;
                        } else {
                            hi = mid;
                        }
                    }
                    return count + lo;
                }
            }
        }
    }

    /// The entry at rank `i`.
    pub fn get(&self, i: usize) -> Option<(&[u8], f64)> {
        if i >= self.len {
            return None;
        }
        let mut node = &self.root;
        let mut r = i;
        loop {
            match node {
                Node::Inner(inner) => {
                    let (c, rest) = inner.child_for_rank(r);
                    r = rest;
                    node = &inner.children[c];
                }
                Node::Leaf(leaf) => {
                    return (r < leaf.len).then(|| (leaf.members[r].as_slice(), leaf.scores[r]))
                }
            }
        }
    }

    /// Entries from rank `start` onwards, ascending (`rev` false) or from rank `start` down to
    /// rank 0 (`rev` true).
    pub fn iter_from(&self, start: usize, rev: bool) -> Iter<'_> {
        let mut stack = Vec::with_capacity(8);
        let mut node = &self.root;
        let mut r = start.min(self.len.saturating_sub(1));
        let leaf = loop {
            match node {
                Node::Inner(inner) => {
                    let (c, rest) = inner.child_for_rank(r);
                    r = rest;
                    stack.push((&**inner, c));
                    node = &inner.children[c];
                }
                Node::Leaf(leaf) => break &**leaf,
            }
        };
        let remaining = if start >= self.len {
            0
        } else if rev {
            start + 1
        } else {
            self.len - start
        };
        Iter {
            stack,
            leaf,
            pos: r,
            remaining,
            rev,
        }
    }

    /// Finds the leaf where entries of score `s` live and starts loading it: for the ZADDs of
    /// a pipelined batch, whose leaves are otherwise the cache misses of each update. The inner
    /// levels are few and stay cached.
    pub fn prefetch_leaf(&self, s: f64) -> LeafHint<'_> {
        let mut node = &self.root;
        loop {
            match node {
                Node::Inner(inner) => {
                    let i = inner
                        .seps
                        .scores
                        .iter()
                        .map(|&x| (x < s) as usize)
                        .sum::<usize>();
                    let Some(child) = inner.children.get(i) else {
                        return LeafHint(None);
                    };
                    node = child;
                }
                Node::Leaf(leaf) => {
                    let base = &**leaf as *const Leaf as *const u8;
                    for off in (0..std::mem::size_of::<Leaf>()).step_by(64) {
                        prefetch_addr(base.wrapping_add(off));
                    }
                    return LeafHint(Some(leaf));
                }
            }
        }
    }

    /// Removes and returns the lowest entry (or, with `last`, the highest) (ZPOPMIN's hot path).
    pub fn pop_end(&mut self, last: bool) -> Option<(CompactBytes, f64)> {
        self.remove_found(if last { Find::Last } else { Find::First })
    }

    /// Removes the entries of ranks `start..end`, handing each (member, score) to `f` in order.
    pub fn drain_range(&mut self, start: usize, end: usize, f: &mut dyn FnMut(CompactBytes, f64)) {
        let end = end.min(self.len);
        if start >= end {
            return;
        }
        if (end - start) * 8 < self.len {
            for _ in start..end {
                if let Some((m, s)) = self.remove_found(Find::Rank(start)) {
                    f(m, s);
                }
            }
            return;
        }
        // A large share of the set: take everything out and rebuild from what stays.
        let mut all = Vec::with_capacity(self.len);
        take_all(&mut self.root, &mut all);
        *self = Tree::new();
        let tail = all.split_off(end);
        let mid = all.split_off(start);
        for (s, m) in mid {
            f(m, s);
        }
        for (s, m) in all.into_iter().chain(tail) {
            self.insert(s, m);
        }
    }

    /// Checks the count, order, separator and occupancy invariants (tests).
    #[cfg(test)]
    pub fn check(&self) {
        fn walk(
            node: &Node,
            root: bool,
            depth: usize,
            depths: &mut Vec<usize>,
            out: &mut Vec<(f64, Vec<u8>)>,
        ) -> usize {
            match node {
                Node::Leaf(l) => {
                    assert!(root || l.len >= 1, "empty non-root leaf");
                    depths.push(depth);
                    for i in 0..l.len {
                        out.push((l.scores[i], l.members[i].to_vec()));
                    }
                    for m in &l.members[l.len..] {
                        assert!(m.is_empty(), "stale member past the end");
                    }
                    l.len
                }
                Node::Inner(n) => {
                    assert!(
                        n.children.len() >= if root { 2 } else { 1 },
                        "inner occupancy"
                    );
                    assert!(n.children.len() <= INNER_CAP, "inner overfull");
                    assert_eq!(n.seps.len() + 1, n.children.len());
                    assert_eq!(n.counts.len(), n.children.len());
                    let mut total = 0;
                    for (i, c) in n.children.iter().enumerate() {
                        let from = out.len();
                        let k = walk(c, false, depth + 1, depths, out);
                        assert_eq!(n.counts[i], k, "child count");
                        total += k;
                        for (s, m) in &out[from..] {
                            if i > 0 {
                                let (ss, sm) = n.seps.get(i - 1).unwrap();
                                assert_ne!(cmp_entry(*s, m, ss, sm), Ordering::Less, "below sep");
                            }
                            if let Some((ss, sm)) = n.seps.get(i) {
                                assert_eq!(cmp_entry(*s, m, ss, sm), Ordering::Less, "above sep");
                            }
                        }
                    }
                    total
                }
            }
        }
        let mut out = Vec::new();
        let mut depths = Vec::new();
        let n = walk(&self.root, true, 0, &mut depths, &mut out);
        assert_eq!(n, self.len);
        assert!(depths.windows(2).all(|w| w[0] == w[1]), "uneven depth");
        for w in out.windows(2) {
            assert_eq!(
                cmp_entry(w[0].0, &w[0].1, w[1].0, &w[1].1),
                Ordering::Less,
                "order"
            );
        }
    }
}

/// A leaf found by [`Tree::prefetch_leaf`], for the second prefetch step.
pub struct LeafHint<'a>(Option<&'a Leaf>);

impl LeafHint<'_> {
    /// Starts loading the out-of-line bytes of the members sharing score `s` (and the one
    /// after them): the entries an update compares its member with. Run once the leaf itself
    /// has had time to arrive.
    pub fn prefetch_ties(&self, s: f64) {
        let Some(leaf) = self.0 else { return };
        let n = leaf.len;
        let mut i = leaf.scores[..n]
            .iter()
            .map(|&x| (x < s) as usize)
            .sum::<usize>();
        while i < n {
            let m = &leaf.members[i];
            if m.heap_size() > 0 {
                prefetch_addr(m.as_ptr());
            }
            if leaf.scores[i] != s {
                break;
            }
            i += 1;
        }
    }
}

/// In-order iterator over a [`Tree`] (see [`Tree::iter_from`]).
pub struct Iter<'a> {
    /// The inner nodes above the current leaf, with the child taken at each.
    stack: Vec<(&'a Inner, usize)>,
    leaf: &'a Leaf,
    pos: usize,
    remaining: usize,
    rev: bool,
}

impl<'a> Iter<'a> {
    /// Moves to the next leaf in the walk's direction.
    fn next_leaf(&mut self) -> bool {
        while let Some((inner, i)) = self.stack.pop() {
            let next = if self.rev {
                i.checked_sub(1)
            } else {
                Some(i + 1).filter(|&j| j < inner.children.len())
            };
            let Some(j) = next else { continue };
            self.stack.push((inner, j));
            let mut node = &inner.children[j];
            loop {
                match node {
                    Node::Inner(n) => {
                        let c = if self.rev { n.children.len() - 1 } else { 0 };
                        self.stack.push((&**n, c));
                        node = &n.children[c];
                    }
                    Node::Leaf(l) => {
                        self.leaf = l;
                        self.pos = if self.rev { l.len.saturating_sub(1) } else { 0 };
                        return l.len > 0;
                    }
                }
            }
        }
        false
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        let leaf = self.leaf;
        if self.pos >= leaf.len {
            self.remaining = 0;
            return None;
        }
        let item = (leaf.members[self.pos].as_slice(), leaf.scores[self.pos]);
        self.remaining -= 1;
        if self.remaining > 0 {
            let at_edge = if self.rev {
                self.pos == 0
            } else {
                self.pos + 1 == leaf.len
            };
            if !at_edge {
                if self.rev {
                    self.pos -= 1;
                } else {
                    self.pos += 1;
                }
            } else if !self.next_leaf() {
                self.remaining = 0;
            }
        }
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
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
                let got = if rng.gen_bool(0.5) {
                    tree.remove_known(s, &m)
                } else {
                    tree.remove(s, &m)
                };
                assert_eq!(got.as_deref(), Some(&m[..]));
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
            if step % 97 == 0 {
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

    /// Many entries (several inner levels) with heavy score ties, grown then emptied through
    /// every removal path, so splits, merges and refills happen at every level.
    #[test]
    fn deep_tree_with_ties_grows_and_empties() {
        use std::collections::BTreeSet;
        let mut rng = rand::rngs::SmallRng::seed_from_u64(11);
        let mut tree = Tree::new();
        let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
        let mut present = BTreeSet::new();
        for round in 0..3 {
            for _ in 0..30_000 {
                let m = rng.gen_range(0..60_000u32);
                if !present.insert(m) {
                    continue;
                }
                let score = rng.gen_range(0..40) as f64;
                let member = format!("member:{m:012}").into_bytes();
                tree.insert(score, CompactBytes::new(&member));
                model.push((score, member));
            }
            model_sort(&mut model);
            tree.check();
            assert_eq!(tree.len(), model.len());
            for _ in 0..200 {
                let i = rng.gen_range(0..model.len());
                assert_eq!(tree.get(i), Some((&model[i].1[..], model[i].0)));
                assert_eq!(tree.rank(model[i].0, &model[i].1), i);
            }
            // Remove a random half by key, a slice by rank, and some from both ends.
            let mut keep = Vec::new();
            for (s, m) in std::mem::take(&mut model) {
                if rng.gen_bool(0.5) {
                    assert!(tree.remove_known(s, &m).is_some());
                    present.remove(
                        &std::str::from_utf8(&m[7..])
                            .unwrap()
                            .parse::<u32>()
                            .unwrap(),
                    );
                } else {
                    keep.push((s, m));
                }
            }
            model = keep;
            tree.check();
            let a = model.len() / 3;
            let b = a + model.len() / (2 + round);
            let mut got = Vec::new();
            tree.drain_range(a, b, &mut |m, s| got.push((s, m.to_vec())));
            let want: Vec<_> = model.drain(a..b).collect();
            assert_eq!(got, want);
            for (_, m) in &want {
                present.remove(
                    &std::str::from_utf8(&m[7..])
                        .unwrap()
                        .parse::<u32>()
                        .unwrap(),
                );
            }
            tree.check();
            for _ in 0..1000 {
                let last = rng.gen_bool(0.5);
                let want = if last {
                    model.pop()
                } else {
                    Some(model.remove(0))
                };
                if let Some((_, m)) = &want {
                    present.remove(
                        &std::str::from_utf8(&m[7..])
                            .unwrap()
                            .parse::<u32>()
                            .unwrap(),
                    );
                }
                assert_eq!(tree.pop_end(last).map(|(m, s)| (s, m.to_vec())), want);
            }
            tree.check();
            let all: Vec<_> = tree
                .iter_from(0, false)
                .map(|(m, s)| (s, m.to_vec()))
                .collect();
            assert_eq!(all, model);
            let back: Vec<_> = tree
                .iter_from(model.len() - 1, true)
                .map(|(m, s)| (s, m.to_vec()))
                .collect();
            assert!(back.iter().rev().eq(model.iter()));
        }
        while let Some((m, s)) = tree.pop_end(false) {
            assert_eq!((s, m.to_vec()), model.remove(0));
        }
        assert!(model.is_empty() && tree.is_empty());
        tree.check();
    }

    /// Emptying a large tree from its ends and by random rank: underfull nodes are refilled
    /// from full siblings (rotations through the parent) as well as merged.
    #[test]
    fn drains_from_both_ends_and_the_middle() {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(5);
        let mut tree = Tree::new();
        let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
        for i in 0..60_000u32 {
            let score = rng.gen_range(0..1_000_000) as f64;
            let member = format!("m{i}").into_bytes();
            tree.insert(score, CompactBytes::new(&member));
            model.push((score, member));
        }
        model_sort(&mut model);
        tree.check();
        let mut step = 0;
        while !model.is_empty() {
            let want = match step % 3 {
                0 => Some(model.remove(0)),
                1 => model.pop(),
                _ => {
                    let r = rng.gen_range(0..model.len());
                    let (s, m) = model.remove(r);
                    assert_eq!(tree.remove_known(s, &m).as_deref(), Some(&m[..]));
                    step += 1;
                    continue;
                }
            };
            let got = tree.pop_end(step % 3 == 1).map(|(m, s)| (s, m.to_vec()));
            assert_eq!(got, want);
            if step % 1000 == 0 {
                tree.check();
            }
            step += 1;
        }
        assert!(tree.is_empty());
        tree.check();
    }
}
