//! The isolation forest's features, built from the ledger. (Stub: the features land with the
//! forest.)
//!
//! Invariant: a row uses only the transaction and those before it, so a row computed when the
//! transaction arrives equals the one a back-fill computes.

use super::History;

/// Features per row.
pub const WIDTH: usize = 1;

/// What each column is.
pub const NAMES: [&str; WIDTH] = ["log_amount"];

/// One transaction's features.
pub type Row = [f64; WIDTH];

/// The features of the transaction at `position`.
pub fn row(history: &History, position: usize) -> Row {
    let amount = history.txn(position).amount_minor.unsigned_abs() as f64;
    [(1.0 + amount).ln()]
}

/// Every transaction's features, in the history's order.
pub fn rows(history: &History) -> Vec<Row> {
    (0..history.len()).map(|p| row(history, p)).collect()
}
