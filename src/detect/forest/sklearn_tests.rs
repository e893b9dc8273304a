//! The forest against scikit-learn's `IsolationForest` on the same data: scikit-learn's
//! breast-cancer set (7 columns, malignant = anomaly), with scikit-learn's scores and ROC-AUC
//! recorded beside it by `bench/forest_vs_sklearn.py reference tests/data`.
//!
//! Invariant: the data is committed and small, so CI needs no Python to run this.

use super::*;
use crate::detect::features::WIDTH;

const DATA: &str = include_str!("../../../tests/data/forest_breast_cancer.csv");
const RECORDED: &str = include_str!("../../../tests/data/forest_breast_cancer.txt");

/// (rows, malignant, scikit-learn's score averaged over its seeds 0..4)
fn reference() -> (Vec<Row>, Vec<bool>, Vec<f64>) {
    let (mut rows, mut labels, mut scores) = (Vec::new(), Vec::new(), Vec::new());
    for line in DATA.lines().skip(1) {
        let values: Vec<f64> = line.split(',').map(|v| v.parse().unwrap()).collect();
        rows.push(std::array::from_fn(|i| values[i]));
        labels.push(values[WIDTH] == 1.0);
        scores.push(values[WIDTH + 1]);
    }
    (rows, labels, scores)
}

fn recorded(key: &str) -> f64 {
    let line = RECORDED.lines().find(|l| l.starts_with(key)).unwrap();
    line[key.len() + 1..].parse().unwrap()
}

/// ROC-AUC by ranks, ties counted half.
fn roc_auc(scores: &[f64], labels: &[bool]) -> f64 {
    let (mut above, mut pairs) = (0.0, 0.0);
    for (s, _) in scores.iter().zip(labels).filter(|(_, &l)| l) {
        for (t, _) in scores.iter().zip(labels).filter(|(_, &l)| !l) {
            pairs += 1.0;
            above += if s > t {
                1.0
            } else if s == t {
                0.5
            } else {
                0.0
            };
        }
    }
    above / pairs
}

#[test]
fn roc_auc_and_scores_match_scikit_learn_on_the_same_data() {
    let (rows, labels, sklearn) = reference();
    assert_eq!(rows.len(), 569);
    let seeds = 0..5u64;
    let mut mean = vec![0.0; rows.len()];
    let mut aucs = Vec::new();
    for seed in seeds.clone() {
        let forest = Forest::train(
            &rows,
            ForestParams {
                seed,
                ..ForestParams::default()
            },
        );
        let scores = forest.score_all(&rows);
        aucs.push(roc_auc(&scores, &labels));
        for (m, s) in mean.iter_mut().zip(&scores) {
            *m += s / seeds.clone().count() as f64;
        }
    }
    let auc = aucs.iter().sum::<f64>() / aucs.len() as f64;
    let theirs = recorded("auc_mean");
    let gap = mean
        .iter()
        .zip(&sklearn)
        .map(|(a, b)| (a - b).abs())
        .sum::<f64>()
        / mean.len() as f64;
    // Five seeds each side: one seed's AUC varies by about ±0.015 here, their mean by ~0.006.
    assert!(
        (auc - theirs).abs() < 0.02,
        "ROC-AUC {auc:.4} ({aucs:?}) vs scikit-learn's {theirs:.4}"
    );
    // Row by row the averaged scores agree to a few thousandths (measured 0.004).
    assert!(gap < 0.01, "mean score difference {gap:.4}");
}
