//! Benford's law per vendor and per account: the first-digit distribution of their payments
//! against Benford's, by mean absolute deviation with Nigrini's conformity bands.
//! (Stub: the test lands with the rules.)
//!
//! Invariant: pure; only subjects with at least the minimum number of payments are judged.

use serde::Serialize;

use super::History;

/// A judgement about one vendor's or account's payments.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BenfordFinding {
    /// `vendor` or `account`.
    pub subject: String,
    /// The vendor's normalised name or the account's id.
    pub value: String,
    pub payments: u64,
}

/// The findings over `history` for subjects with at least `min_payments` payments.
pub fn findings(_history: &History, _min_payments: usize) -> Vec<BenfordFinding> {
    Vec::new()
}
