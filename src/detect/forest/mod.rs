//! The per-tenant isolation forest: scikit-learn's `IsolationForest` (Liu, Ting and Zhou, 2008),
//! written here so that it is deterministic, single-binary and fast. `tree` grows one tree,
//! `codec` stores a forest as bytes.
//!
//! As scikit-learn: `trees` trees, each on `max_samples = min(max_samples, n)` rows drawn without
//! replacement, no deeper than `ceil(log2(max_samples))`; the score of a row is
//! `2^(−E[h(x)] / c(max_samples))` with `h` the path length (depth plus `c(leaf size)`), which is
//! `−score_samples` of scikit-learn; the threshold is the `1 − contamination` quantile of the
//! training rows' scores (linear interpolation, numpy's default), i.e. `−offset_`.
//!
//! Invariant: training is deterministic for a given seed (tree `i` draws from its own ChaCha8
//! stream); a score is in (0, 1], higher = more anomalous; a forest of fewer than two training
//! rows has no trees, scores every row 0.5 and never fires.

mod codec;
mod tree;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub use tree::average_path_length;
use tree::Tree;

use super::features::Row;
use super::Finding;

/// Rows scored together by [`Forest::score_all`]: 256 padded rows are 16 KiB.
const BLOCK: usize = 256;

/// Rows walking one tree abreast; `BLOCK` is a multiple of it.
const LANES: usize = 8;

/// How a forest is trained: scikit-learn's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ForestParams {
    pub trees: usize,
    pub max_samples: usize,
    /// The share of training rows expected to be anomalies, in (0, 0.5]: sets the threshold.
    pub contamination: f64,
    pub seed: u64,
}

impl Default for ForestParams {
    fn default() -> Self {
        Self {
            trees: 100,
            max_samples: 256,
            contamination: 0.05,
            seed: 0,
        }
    }
}

/// A trained forest, with what its findings explain.
#[derive(Debug, Clone, PartialEq)]
pub struct Forest {
    trees: Vec<Tree>,
    /// Rows each tree was grown on.
    max_samples: usize,
    /// `ceil(log2(max_samples))`: no tree is deeper.
    depth: u32,
    threshold: f64,
    training_size: u64,
    contamination: f64,
}

impl Forest {
    /// Trains on `rows` (single-threaded). `contamination` is clamped to (0, 0.5] (NaN is the
    /// default 0.05), trees and samples to what [`Forest::from_bytes`] accepts.
    pub fn train(rows: &[Row], params: ForestParams) -> Self {
        let contamination = if params.contamination.is_nan() {
            ForestParams::default().contamination
        } else {
            params.contamination.clamp(1e-6, 0.5)
        };
        let n = rows.len();
        let max_samples = params
            .max_samples
            .min(codec::MAX_SAMPLES)
            .clamp(1, n.max(1));
        let mut forest = Forest {
            trees: Vec::new(),
            max_samples,
            depth: depth_limit(max_samples),
            threshold: 1.0,
            training_size: n as u64,
            contamination,
        };
        if n < 2 {
            return forest;
        }
        let mut sample: Vec<usize> = Vec::with_capacity(max_samples);
        for index in 0..params.trees.min(codec::MAX_TREES) {
            let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
            rng.set_stream(index as u64);
            sample.clear();
            sample.extend(rand::seq::index::sample(&mut rng, n, max_samples).iter());
            forest
                .trees
                .push(Tree::grow(rows, &mut sample, forest.depth, &mut rng));
        }
        let mut scores = forest.score_all(rows);
        forest.threshold = quantile(&mut scores, 1.0 - contamination);
        forest
    }

    /// The anomaly score of `row`, in (0, 1]; higher is more anomalous.
    pub fn score(&self, row: &Row) -> f64 {
        let mut total = 0.0;
        for tree in &self.trees {
            total += tree.path_length(row);
        }
        self.normaliser()(total)
    }

    /// Every row's score. Rows are taken a block at a time (padded, see [`tree::STRIDE`]), and
    /// each tree walks the whole block, [`LANES`] rows abreast, before the next tree: the block
    /// and one tree stay in the L1 cache. Each row's path lengths are summed in tree order, as
    /// [`Forest::score`] sums them, so both give the same bits.
    pub fn score_all(&self, rows: &[Row]) -> Vec<f64> {
        let normalise = self.normaliser();
        let mut out = Vec::with_capacity(rows.len());
        let mut padded = [[0.0; tree::STRIDE]; BLOCK];
        for block in rows.chunks(BLOCK) {
            for (to, row) in padded.iter_mut().zip(block) {
                *to = tree::pad(row);
            }
            let mut totals = [0.0f64; BLOCK];
            for tree in &self.trees {
                for (rows, totals) in padded
                    .as_chunks::<LANES>()
                    .0
                    .iter()
                    .zip(totals.as_chunks_mut::<LANES>().0)
                {
                    tree.add_paths(rows, totals);
                }
            }
            out.extend(totals[..block.len()].iter().map(|&t| normalise(t)));
        }
        out
    }

    /// The score of a row from its path lengths summed over the trees.
    fn normaliser(&self) -> impl Fn(f64) -> f64 {
        let trees = self.trees.len() as f64;
        let c = average_path_length(self.max_samples).max(f64::MIN_POSITIVE);
        move |total_path| {
            if trees == 0.0 {
                return 0.5;
            }
            (-(total_path / trees) / c).exp2()
        }
    }

    /// The score at or above which a transaction is anomalous: the training rows' top
    /// `contamination` share lies above it.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// How many rows the forest was trained on.
    pub fn training_size(&self) -> u64 {
        self.training_size
    }

    /// The expected share of anomalies the threshold was set from.
    pub fn contamination(&self) -> f64 {
        self.contamination
    }

    pub fn trees(&self) -> usize {
        self.trees.len()
    }

    pub fn max_samples(&self) -> usize {
        self.max_samples
    }
}

/// `ceil(log2(max_samples))`, scikit-learn's depth limit (0 for one sample).
fn depth_limit(max_samples: usize) -> u32 {
    max_samples.max(1).next_power_of_two().trailing_zeros()
}

/// The `q` quantile of `values` with numpy's linear interpolation (reorders `values`).
fn quantile(values: &mut [f64], q: f64) -> f64 {
    if values.is_empty() {
        return 1.0;
    }
    let rank = q.clamp(0.0, 1.0) * (values.len() - 1) as f64;
    let low = rank.floor() as usize;
    let (_, &mut below, above) = values.select_nth_unstable_by(low, f64::total_cmp);
    let next = above.iter().copied().fold(f64::INFINITY, f64::min);
    if next.is_finite() {
        below + (next - below) * (rank - low as f64)
    } else {
        below
    }
}

/// What the forest says about a transaction scoring `score`, if it is at or above the threshold:
/// strength `0.5 + 0.5 × (s − threshold)/(1 − threshold)`, so a score at the threshold is 50, the
/// default alert level.
pub fn finding(forest: &Forest, score: f64) -> Option<Finding> {
    let threshold = forest.threshold();
    if forest.trees.is_empty() || score.is_nan() || score < threshold {
        return None;
    }
    let headroom = (1.0 - threshold).max(f64::EPSILON);
    let strength = (0.5 + 0.5 * (score - threshold) / headroom).clamp(0.0, 1.0);
    let relation = if score > threshold { "above" } else { "at" };
    Some(Finding {
        strength,
        explanation: format!(
            "anomaly score {score:.2} is {relation} this tenant's threshold of {threshold:.2}, \
             the top {} % of {} training payments",
            percent(forest.contamination()),
            thousands(forest.training_size()),
        ),
    })
}

/// `0.05` as "5", `0.025` as "2.5".
fn percent(share: f64) -> String {
    let text = format!("{:.2}", share * 100.0);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// `1234567` as "1,234,567".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod sklearn_tests;
