//! Large amount: a payment at or above the tenant's limit, in the payment's currency.
//!
//! Invariant: fires exactly when `amount >= limit` (compared in integer minor units); strength is
//! `min(1, amount / (2 × limit))`, so a payment at the limit is 0.5 and one at twice it is 1.

use super::Context;
use crate::detect::config::grouped_minor;
use crate::detect::Finding;

pub(super) fn check(ctx: &Context<'_>, position: usize) -> Option<Finding> {
    let txn = ctx.history.txn(position);
    let limit = ctx.config.large_amount.limit;
    if txn.amount_minor < limit.minor_ceil(txn.exponent) {
        return None;
    }
    let times = limit.ratio_of_minor(txn.amount_minor, txn.exponent);
    Some(Finding {
        strength: (times / 2.0).min(1.0),
        explanation: format!(
            "{} is {times:.2}× the {} limit",
            grouped_minor(txn.amount_minor, txn.exponent),
            limit.grouped(txn.exponent)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{at, Ledger};
    use crate::detect::config::Amount;
    use crate::detect::RuleId;
    use crate::domain::Currency;

    fn strength(amount_minor: i64) -> Option<f64> {
        let mut ledger = Ledger::new();
        ledger.push(at(2, 10), "acme", amount_minor);
        ledger.factor(RuleId::LargeAmount).map(|f| f.strength)
    }

    #[test]
    fn fires_at_the_limit_and_grows_to_twice_it() {
        assert_eq!(strength(1_500_000), Some(0.75));
        assert_eq!(strength(1_000_000), Some(0.5));
        assert_eq!(strength(999_999), None);
        assert_eq!(strength(5_000_000), Some(1.0));
        assert_eq!(strength(-1_500_000), None);
    }

    #[test]
    fn explains_the_amount_against_the_limit() {
        let mut ledger = Ledger::new();
        ledger.push(at(2, 10), "acme", 1_500_000);
        let factor = ledger.factor(RuleId::LargeAmount).unwrap();
        assert_eq!(factor.explanation, "15,000.00 is 1.50× the 10,000.00 limit");
    }

    #[test]
    fn compares_in_the_payments_own_currency() {
        let mut ledger = Ledger::new();
        let yen = ledger.push(at(2, 10), "acme", 10_000);
        (yen.currency, yen.exponent) = (Currency::parse("JPY").unwrap(), 0);
        let factor = ledger.factor(RuleId::LargeAmount).unwrap();
        assert_eq!(factor.strength, 0.5);
        assert_eq!(factor.explanation, "10,000 is 1.00× the 10,000 limit");
        ledger.txns[0].amount_minor = 9_999;
        assert!(ledger.factor(RuleId::LargeAmount).is_none());

        let mut ledger = Ledger::new();
        let dinar = ledger.push(at(2, 10), "acme", 9_999_999);
        (dinar.currency, dinar.exponent) = (Currency::parse("KWD").unwrap(), 3);
        assert!(ledger.factor(RuleId::LargeAmount).is_none());
        ledger.txns[0].amount_minor = 10_000_000;
        assert_eq!(ledger.factor(RuleId::LargeAmount).unwrap().strength, 0.5);
    }

    #[test]
    fn follows_the_tenants_limit() {
        let mut ledger = Ledger::new();
        ledger.config.large_amount.limit = Amount::parse("2500.50").unwrap();
        ledger.push(at(2, 10), "acme", 250_049);
        assert!(ledger.factor(RuleId::LargeAmount).is_none());
        ledger.txns[0].amount_minor = 250_050;
        assert!(ledger.factor(RuleId::LargeAmount).is_some());
    }
}
