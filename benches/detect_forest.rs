//! The isolation forest on a synthetic tenant of 1,000,000 payments: feature building, training
//! and scoring times on one thread, and the ROC-AUC against the injected anomalies (label = any
//! anomaly). It writes the features and labels to a CSV so `bench/forest_vs_sklearn.py` runs
//! scikit-learn's `IsolationForest` on exactly the same rows; `bench/detect_forest.sh` runs both
//! pinned to one core and prints the ratio.
//!
//! ```sh
//! DETECT_FOREST_CSV=/tmp/detect_forest.csv cargo bench --bench detect_forest
//! ```
//!
//! `DETECT_FOREST_ROWS` (default 1,000,000) sets the size, `DETECT_FOREST_SEED` (default 0) the
//! forest's seed; the ledger's seed is fixed. The last line is machine-readable:
//! `rust train_s=… score_s=… auc=…`.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)] // a benchmark reports on stdout and fails loudly

#[path = "support/synthetic.rs"]
mod synthetic;

use std::io::Write;
use std::time::Instant;

use auditpulse::detect::features::{self, NAMES};
use auditpulse::detect::forest::{Forest, ForestParams};
use auditpulse::detect::History;

const LEDGER_SEED: u64 = 20_261_202;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// ROC-AUC by ranks (Mann–Whitney U), ties counted half.
fn roc_auc(scores: &[f64], labels: &[bool]) -> f64 {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let (mut rank_sum, mut i) = (0.0, 0);
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let mid_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += mid_rank * order[i..=j].iter().filter(|&&k| labels[k]).count() as f64;
        i = j + 1;
    }
    let positives = labels.iter().filter(|&&l| l).count() as f64;
    let negatives = labels.len() as f64 - positives;
    (rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives)
}

fn write_csv(path: &str, rows: &[features::Row], labels: &[bool]) {
    let file = std::fs::File::create(path).expect("create the CSV");
    let mut out = std::io::BufWriter::new(file);
    writeln!(out, "{},label", NAMES.join(",")).unwrap();
    for (row, label) in rows.iter().zip(labels) {
        for x in row {
            // `{}` prints the shortest text that reads back to the same f64.
            write!(out, "{x},").unwrap();
        }
        writeln!(out, "{}", u8::from(*label)).unwrap();
    }
    out.flush().unwrap();
}

fn main() {
    let rows = env("DETECT_FOREST_ROWS", 1_000_000) as usize;
    let seed = env("DETECT_FOREST_SEED", 0);
    let started = Instant::now();
    let ledger = synthetic::generate(rows, LEDGER_SEED);
    let labels: Vec<bool> = ledger.labels.iter().map(Option::is_some).collect();
    let anomalies = labels.iter().filter(|&&l| l).count();
    println!(
        "ledger: {rows} rows, {anomalies} injected anomalies, generated in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let history = History::new(ledger.txns);

    let started = Instant::now();
    let table = features::rows(&history);
    println!(
        "features: {} columns in {:.2} s",
        NAMES.len(),
        started.elapsed().as_secs_f64()
    );
    if let Ok(path) = std::env::var("DETECT_FOREST_CSV") {
        write_csv(&path, &table, &labels);
        println!("wrote {path}");
    }

    let params = ForestParams {
        seed,
        ..ForestParams::default()
    };
    let started = Instant::now();
    let forest = Forest::train(&table, params);
    let train = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let scores = forest.score_all(&table);
    let score = started.elapsed().as_secs_f64();
    let auc = roc_auc(&scores, &labels);
    let flagged = scores.iter().filter(|&&s| s >= forest.threshold()).count();
    println!(
        "forest: {} trees of {} samples; threshold {:.4}; {flagged} rows at or above it",
        forest.trees(),
        forest.max_samples(),
        forest.threshold()
    );
    println!("rust train_s={train:.3} score_s={score:.3} auc={auc:.4}");
}
