//! One isolation tree, grown as scikit-learn's `ExtraTreeRegressor(max_features=1,
//! splitter="random")` grows it inside `IsolationForest`: at each node a feature drawn uniformly
//! among those not constant in the node, a threshold uniform in [min, max) of that feature there
//! (`x <= threshold` goes left), until one sample is left or the depth limit is reached.
//!
//! A tree grows as flat [`Node`]s (a split's two children side by side, `left` and `left + 1`,
//! a leaf with an infinite threshold), then is laid out in heap order for walking ([`Tree`]):
//! every path is walked in the same number of steps without a branch on the kind of node, and a
//! leaf's path length is its depth plus `c(samples in the leaf)`, as in scikit-learn.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::detect::features::{Row, WIDTH};

/// A row's features padded to a power of two, so a feature index masked with `STRIDE − 1` is in
/// bounds (features are below `WIDTH` by construction; the padding is never compared).
pub const STRIDE: usize = WIDTH.next_power_of_two();

/// A row as the block walk reads it: [`Row`] then zeros.
pub type Padded = [f64; STRIDE];

/// `row` padded to [`STRIDE`].
pub fn pad(row: &Row) -> Padded {
    let mut out = [0.0; STRIDE];
    out[..WIDTH].copy_from_slice(row);
    out
}

/// Euler–Mascheroni constant, as in scikit-learn's `_average_path_length`.
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// A feature whose range in a node is at most this is constant there (scikit-learn's
/// `FEATURE_THRESHOLD`).
const FEATURE_THRESHOLD: f64 = 1e-7;

/// The average path length of an unsuccessful search in a binary search tree of `n` items:
/// `c(n) = 2(ln(n − 1) + γ) − 2(n − 1)/n`, with `c(0) = c(1) = 0` and `c(2) = 1`.
pub fn average_path_length(n: usize) -> f64 {
    match n {
        0 | 1 => 0.0,
        2 => 1.0,
        _ => {
            let n = n as f64;
            2.0 * ((n - 1.0).ln() + EULER_GAMMA) - 2.0 * (n - 1.0) / n
        }
    }
}

/// One node, 16 bytes so a forest's nodes stay in cache: a split (`row[feature] > threshold`
/// goes to `left + 1`) or a leaf (`left` is itself, `threshold` is infinite).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Node {
    pub threshold: f64,
    pub feature: u32,
    pub left: u32,
}

impl Node {
    pub fn leaf(at: u32) -> Self {
        Node {
            threshold: f64::INFINITY,
            feature: 0,
            left: at,
        }
    }

    pub fn is_leaf(&self) -> bool {
        self.threshold == f64::INFINITY
    }
}

/// A tree in heap order, for walking: slot 1 is the root, the children of slot `j` are `2j`
/// (`row[feature] <= threshold`) and `2j + 1`; slot 0 is unused.
///
/// Invariant: `values` and `features` have `2^(depth + 1)` slots, `depth` being the deepest
/// leaf's depth. Slots below `2^depth` hold splits' thresholds, `+inf` at and below a leaf so
/// that a walk goes left there; so every walk takes exactly `depth` steps and ends in a slot at
/// or above `2^depth`, which holds the path length of the leaf it came through (a leaf at depth
/// `d` in slot `j` ends its walks in slot `j · 2^(depth − d)`). A slot index masked with
/// `len − 1` is therefore in bounds without changing it, and the walk needs no bounds check.
#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    depth: u32,
    values: Vec<f64>,
    features: Vec<u8>,
}

impl Tree {
    /// The heap layout of a tree given as `nodes` (root first, a split's children at `left` and
    /// `left + 1`) with each leaf's path length in `paths`.
    pub fn from_nodes(nodes: &[Node], paths: &[f64]) -> Self {
        let depth = deepest(nodes);
        let slots = 2usize << depth;
        let mut tree = Tree {
            depth,
            values: vec![f64::INFINITY; slots],
            features: vec![0; slots],
        };
        // (node, heap slot, depth)
        let mut stack = vec![(0usize, 1usize, 0u32)];
        while let Some((at, slot, level)) = stack.pop() {
            let node = &nodes[at];
            if node.is_leaf() {
                tree.values[slot << (depth - level)] = paths[at];
                continue;
            }
            tree.values[slot] = node.threshold;
            tree.features[slot] = u8::try_from(node.feature).unwrap_or(0);
            let left = node.left as usize;
            stack.push((left + 1, 2 * slot + 1, level + 1));
            stack.push((left, 2 * slot, level + 1));
        }
        tree
    }

    /// The split in heap slot `slot`, `level` steps below the root, or `None` for a leaf.
    pub fn split_at(&self, slot: usize, level: u32) -> Option<(u8, f64)> {
        let threshold = self.values[slot];
        (level < self.depth && threshold != f64::INFINITY).then(|| (self.features[slot], threshold))
    }

    /// The path length of the leaf in heap slot `slot`, `level` steps below the root.
    pub fn leaf_path(&self, slot: usize, level: u32) -> f64 {
        self.values[slot << (self.depth - level)]
    }

    /// Grows a tree on `rows[sample[..]]`, splitting no deeper than `max_depth`.
    pub fn grow(rows: &[Row], sample: &mut [usize], max_depth: u32, rng: &mut ChaCha8Rng) -> Self {
        let mut nodes = vec![Node::leaf(0)];
        let mut paths = vec![0.0];
        // (node, start, end, depth) still to split.
        let mut stack = vec![(0u32, 0usize, sample.len(), 0u32)];
        while let Some((at, start, end, depth)) = stack.pop() {
            let part = &mut sample[start..end];
            let split = if part.len() > 1 && depth < max_depth {
                split(rows, part, rng)
            } else {
                None
            };
            let Some((feature, threshold, left_len)) = split else {
                let path = f64::from(depth) + average_path_length(part.len());
                paths[at as usize] = path;
                continue;
            };
            let left = u32::try_from(nodes.len()).unwrap_or(u32::MAX);
            nodes[at as usize] = Node {
                threshold,
                feature,
                left,
            };
            nodes.extend([Node::leaf(left), Node::leaf(left + 1)]);
            paths.extend([0.0, 0.0]);
            stack.push((left + 1, start + left_len, end, depth + 1));
            stack.push((left, start, start + left_len, depth + 1));
        }
        Tree::from_nodes(&nodes, &paths)
    }

    /// The path length of `row`.
    pub fn path_length(&self, row: &Row) -> f64 {
        let mut total = [0.0];
        self.add_paths(&[pad(row)], &mut total);
        total[0]
    }

    /// Adds to `totals` the path length of each of the `K` `rows`. The walks advance one level
    /// at a time for all `K` rows, held in registers: they are independent, so the processor
    /// overlaps their memory reads instead of waiting on one path at a time.
    #[inline]
    pub fn add_paths<const K: usize>(&self, rows: &[Padded; K], totals: &mut [f64; K]) {
        // `len` is a power of two above every slot a walk visits (type invariant), so masking
        // changes no index and proves each in bounds.
        let mask = self.values.len() - 1;
        let (values, features) = (&self.values[..=mask], &self.features[..=mask]);
        let mut at = [1usize; K];
        for _ in 0..self.depth {
            for (slot, row) in at.iter_mut().zip(rows) {
                let j = *slot & mask;
                let right = row[usize::from(features[j]) & (STRIDE - 1)] > values[j];
                *slot = 2 * j + usize::from(right);
            }
        }
        for (total, &slot) in totals.iter_mut().zip(&at) {
            *total += values[slot & mask];
        }
    }
}

/// The depth of the deepest leaf of `nodes` (root first).
fn deepest(nodes: &[Node]) -> u32 {
    let (mut deepest, mut stack) = (0, vec![(0usize, 0u32)]);
    while let Some((at, depth)) = stack.pop() {
        let node = &nodes[at];
        if node.is_leaf() {
            deepest = deepest.max(depth);
        } else {
            stack.extend([
                (node.left as usize, depth + 1),
                (node.left as usize + 1, depth + 1),
            ]);
        }
    }
    deepest
}

/// Picks the split of `part` and partitions it (left side first), or `None` when every feature
/// is constant in it.
fn split(rows: &[Row], part: &mut [usize], rng: &mut ChaCha8Rng) -> Option<(u32, f64, usize)> {
    // Draw features without replacement until one varies in the node; with one feature per
    // split this is a uniform draw among the non-constant ones, as scikit-learn's.
    let mut features: [usize; WIDTH] = std::array::from_fn(|i| i);
    for drawn in 0..WIDTH {
        let pick = rng.gen_range(drawn..WIDTH);
        features.swap(drawn, pick);
        let feature = features[drawn];
        let (min, max) = part
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &i| {
                let x = rows[i][feature];
                (lo.min(x), hi.max(x))
            });
        if max <= min + FEATURE_THRESHOLD {
            continue;
        }
        let mut threshold = rng.gen_range(min..max);
        if threshold >= max {
            threshold = min;
        }
        let left_len = partition(part, |i| rows[i][feature] <= threshold);
        return Some((u32::try_from(feature).unwrap_or(0), threshold, left_len));
    }
    None
}

/// Moves the entries satisfying `goes_left` to the front; returns how many there are.
fn partition(part: &mut [usize], goes_left: impl Fn(usize) -> bool) -> usize {
    let mut left = 0;
    for i in 0..part.len() {
        if goes_left(part[i]) {
            part.swap(left, i);
            left += 1;
        }
    }
    left
}
