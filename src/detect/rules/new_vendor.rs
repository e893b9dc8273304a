//! New vendor: the first payment to a normalised counterparty.
//!
//! Invariant: fires when no earlier transaction to the vendor was a payment (earlier credits do
//! not make a vendor known) and the payment reaches `min_amount`; a fixed strength of 0.3, so a
//! new vendor alone does not alert but adds to other factors.

use super::Context;
use crate::detect::config::grouped_minor;
use crate::detect::Finding;

const STRENGTH: f64 = 0.3;

pub(super) fn check(ctx: &Context<'_>, position: usize) -> Option<Finding> {
    let history = ctx.history;
    let txn = history.txn(position);
    let key = history.vendor_of(position)?;
    if txn.amount_minor < ctx.config.new_vendor.min_amount.minor_ceil(txn.exponent) {
        return None;
    }
    let earlier = history.earlier(history.vendor_txns(key), position);
    if earlier
        .iter()
        .any(|&p| history.txn(p as usize).is_payment())
    {
        return None;
    }
    Some(Finding {
        strength: STRENGTH,
        explanation: format!(
            "first payment to \"{}\": {}",
            history.vendor_name(key),
            grouped_minor(txn.amount_minor, txn.exponent)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{at, Ledger};
    use crate::detect::RuleId;

    #[test]
    fn fires_on_the_first_payment_only() {
        let mut ledger = Ledger::new();
        ledger.push(at(2, 10), "acme", 50_000);
        let factor = ledger.factor(RuleId::NewVendor).unwrap();
        assert_eq!(factor.strength, 0.3);
        assert_eq!(factor.explanation, "first payment to \"acme\": 500.00");
        ledger.push(at(3, 10), "acme", 50_000);
        assert!(ledger.factor(RuleId::NewVendor).is_none());
    }

    #[test]
    fn earlier_credits_do_not_make_a_vendor_known_and_small_payments_pass() {
        let mut ledger = Ledger::new();
        ledger.push(at(2, 10), "acme", -50_000);
        ledger.push(at(3, 10), "acme", 5_000);
        assert!(ledger.factor(RuleId::NewVendor).is_some());
        ledger.txns[1].amount_minor = 4_999;
        assert!(ledger.factor(RuleId::NewVendor).is_none());
    }
}
