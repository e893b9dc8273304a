//! Detection's values: the rules by name, what a rule found about one transaction, the factors of
//! a risk score, snoozes, and the review vocabulary of an anomaly.
//!
//! Invariant: a strength is in [0, 1] and an explanation names the numbers it was computed from,
//! formatted in the transaction's currency, so a reviewer can check it by hand.

use serde::{Deserialize, Serialize};

use crate::domain::names::text_enum;
use crate::domain::time::Timestamp;
use crate::domain::{AccountId, SnoozeId};

text_enum!(
    /// What can contribute to a transaction's risk score: the per-transaction rules and the
    /// tenant's isolation forest. (Benford's law is a finding about a vendor or account, not a
    /// factor of one transaction.)
    RuleId {
        LargeAmount = "large_amount",
        UnapprovedVendor = "unapproved_vendor",
        NewVendor = "new_vendor",
        VendorOutlier = "vendor_outlier",
        Duplicate = "duplicate",
        SplitPayment = "split_payment",
        Velocity = "velocity",
        Timing = "timing",
        RoundAmount = "round_amount",
        Forest = "isolation_forest",
    }
);

text_enum!(
    /// Where a review case stands.
    AnomalyStatus { Open = "open", Investigating = "investigating", Closed = "closed" }
);

text_enum!(
    /// What a reviewer concluded. `false_positive` is what tunes thresholds up.
    ReviewOutcome { Confirmed = "confirmed", FalsePositive = "false_positive", Expected = "expected" }
);

/// What one rule found about one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// How strongly the rule fired, in [0, 1].
    pub strength: f64,
    /// A sentence with the numbers ("15,000.00 is 1.5× the 10,000.00 limit").
    pub explanation: String,
}

/// One contribution to a risk score, as stored and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Factor {
    pub rule: RuleId,
    /// In [0, 1].
    pub strength: f64,
    /// The rule's weight in the tenant's configuration when it was scored.
    pub weight: f64,
    pub explanation: String,
}

/// What a snooze silences: one vendor (normalised name) or one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum SnoozeTarget {
    Vendor(String),
    Account(AccountId),
}

/// A rule silenced for a vendor or an account until `until`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Snooze {
    pub id: SnoozeId,
    pub rule: RuleId,
    pub target: SnoozeTarget,
    #[schema(value_type = String, format = DateTime)]
    pub until: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for rule in RuleId::ALL {
            assert_eq!(RuleId::parse(rule.as_str()), Some(*rule));
        }
        assert_eq!(RuleId::parse("benford"), None);
        assert_eq!(
            ReviewOutcome::parse("false_positive"),
            Some(ReviewOutcome::FalsePositive)
        );
    }
}
