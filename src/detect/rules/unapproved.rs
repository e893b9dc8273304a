//! Unapproved vendor: a payment to a vendor missing from the tenant's approved list, when the
//! tenant keeps one.
//!
//! Invariant: silent when the list is empty, when the payment has no counterparty, and below
//! `min_amount`; otherwise a fixed strength of 0.6 (alone, above the default alert threshold).

use super::Context;
use crate::detect::config::grouped_minor;
use crate::detect::Finding;

const STRENGTH: f64 = 0.6;

pub(super) fn check(ctx: &Context<'_>, position: usize) -> Option<Finding> {
    if ctx.approved.is_empty() {
        return None;
    }
    let txn = ctx.history.txn(position);
    let vendor = txn.vendor.as_deref()?;
    let min = ctx.config.unapproved_vendor.min_amount;
    if ctx.approved.contains(vendor) || txn.amount_minor < min.minor_ceil(txn.exponent) {
        return None;
    }
    Some(Finding {
        strength: STRENGTH,
        explanation: format!(
            "{} paid to \"{vendor}\", which is not among the {} approved vendors",
            grouped_minor(txn.amount_minor, txn.exponent),
            ctx.approved.len()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{at, Ledger};
    use crate::detect::RuleId;

    #[test]
    fn fires_only_for_vendors_off_a_list_the_tenant_keeps() {
        let mut ledger = Ledger::new();
        ledger.push(at(2, 10), "acme", 10_000);
        assert!(
            ledger.factor(RuleId::UnapprovedVendor).is_none(),
            "no list kept"
        );
        ledger.approved = ["globex".to_owned(), "initech".to_owned()].into();
        let factor = ledger.factor(RuleId::UnapprovedVendor).unwrap();
        assert_eq!(factor.strength, 0.6);
        assert_eq!(
            factor.explanation,
            "100.00 paid to \"acme\", which is not among the 2 approved vendors"
        );
        ledger.approved.insert("acme".to_owned());
        assert!(ledger.factor(RuleId::UnapprovedVendor).is_none());
    }

    #[test]
    fn small_payments_and_credits_are_left_alone() {
        let mut ledger = Ledger::new();
        ledger.approved = ["globex".to_owned()].into();
        ledger.push(at(2, 10), "acme", 4_999);
        assert!(ledger.factor(RuleId::UnapprovedVendor).is_none());
        ledger.txns[0].amount_minor = 5_000;
        assert!(ledger.factor(RuleId::UnapprovedVendor).is_some());
        ledger.txns[0].amount_minor = -5_000;
        assert!(ledger.factor(RuleId::UnapprovedVendor).is_none());
        ledger.txns[0].vendor = None;
        ledger.txns[0].amount_minor = 5_000;
        assert!(ledger.factor(RuleId::UnapprovedVendor).is_none());
    }
}
