//! One isolation tree, grown as scikit-learn's `ExtraTreeRegressor(max_features=1,
//! splitter="random")` grows it inside `IsolationForest`: at each node a feature drawn uniformly
//! among those not constant in the node, a threshold uniform in [min, max) of that feature there
//! (`x <= threshold` goes left), until one sample is left or the depth limit is reached.
//!
//! Invariant: nodes are stored flat with a node's two children side by side (`left`, `left + 1`)
//! after it, and a leaf points to itself with an infinite threshold, so every path from the root
//! is walked in exactly `depth` steps without a branch on the kind of node; a leaf's path length
//! is its depth plus `c(samples in the leaf)`, as in scikit-learn, kept in `paths` beside the nodes.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::detect::features::{Row, WIDTH};

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

/// A tree's nodes, root first, and beside them each leaf's path length (0 for splits).
#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    pub nodes: Vec<Node>,
    pub paths: Vec<f64>,
}

impl Tree {
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
        Tree { nodes, paths }
    }

    /// The path length of `row`: `depth` steps from the root, then the leaf's length.
    #[inline]
    pub fn path_length(&self, row: &Row, depth: u32) -> f64 {
        let mut at = 0usize;
        for _ in 0..depth {
            let node = &self.nodes[at];
            at = node.left as usize + usize::from(row[node.feature as usize] > node.threshold);
        }
        self.paths[at]
    }

    /// Walks every row of `block` to its leaf, level by level; `at` receives the leaves.
    #[inline]
    pub fn walk_block(&self, block: &[Row], at: &mut [u32], depth: u32) {
        at.fill(0);
        for _ in 0..depth {
            for (node_at, row) in at.iter_mut().zip(block) {
                let node = &self.nodes[*node_at as usize];
                *node_at = node.left + u32::from(row[node.feature as usize] > node.threshold);
            }
        }
    }
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
