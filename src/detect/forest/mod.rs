//! The per-tenant isolation forest. (Stub: the forest lands with its comparison against
//! scikit-learn.)
//!
//! Invariant: training is deterministic for a given seed; scores follow scikit-learn's definition
//! `2^(−E[h(x)] / c(max_samples))`, so they are comparable with it.

use super::features::Row;
use super::Finding;

/// How a forest is trained: scikit-learn's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ForestParams {
    pub trees: usize,
    pub max_samples: usize,
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

/// A trained forest.
#[derive(Debug, Clone, PartialEq)]
pub struct Forest {
    threshold: f64,
}

impl Forest {
    pub fn train(_rows: &[Row], _params: ForestParams) -> Self {
        Self { threshold: 1.0 }
    }

    /// The anomaly score of `row`, in (0, 1]; higher is more anomalous.
    pub fn score(&self, _row: &Row) -> f64 {
        0.5
    }

    /// The score above which the training data's `contamination` share lies.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        self.threshold.to_le_bytes().to_vec()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let bytes: [u8; 8] = bytes.try_into().map_err(|_| "not a forest".to_owned())?;
        Ok(Self {
            threshold: f64::from_le_bytes(bytes),
        })
    }
}

/// What the forest says about a transaction scoring `score`, if it is above the threshold.
pub fn finding(forest: &Forest, score: f64) -> Option<Finding> {
    (score >= forest.threshold()).then(|| Finding {
        strength: 0.5,
        explanation: format!("anomaly score {score:.2}"),
    })
}
