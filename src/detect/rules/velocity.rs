//! Velocity: more than `max_count` payments, or more than `max_total` in one currency, from one
//! account or to one vendor within the last `window_hours` (the scored payment included).
//!
//! Invariant: pending payments in the window are left out (a pending payment and its posted
//! successor would count twice), as are payments in other currencies. Strength is the larger of
//! `count / (2 × max_count)` and `total / (2 × max_total)`, at most 1; the explanation names the
//! stronger of the vendor and the account.

use chrono::Duration;

use super::Context;
use crate::detect::config::grouped_minor;
use crate::detect::{Finding, Txn};

/// What one window holds.
struct Tally {
    count: u32,
    total: i64,
}

pub(super) fn check(ctx: &Context<'_>, position: usize) -> Option<Finding> {
    let history = ctx.history;
    let txn = history.txn(position);
    let mut best: Option<(f64, Tally, &str)> = None;
    if let Some(key) = history.vendor_of(position) {
        let tally = tally(ctx, history.vendor_txns(key), position, txn);
        best = judge(ctx, tally, "to this vendor", txn, best);
    }
    if let Some(account) = txn.account {
        let tally = tally(ctx, history.account_txns(account), position, txn);
        best = judge(ctx, tally, "from this account", txn, best);
    }
    let (strength, tally, subject) = best?;
    let settings = &ctx.config.velocity;
    Some(Finding {
        strength,
        explanation: format!(
            "{} payments {subject} within {} hours totalling {} (limits: more than {} payments or {})",
            tally.count,
            settings.window_hours,
            grouped_minor(tally.total, txn.exponent),
            settings.max_count,
            settings.max_total.grouped(txn.exponent)
        ),
    })
}

fn tally(ctx: &Context<'_>, list: &[u32], position: usize, txn: &Txn) -> Tally {
    let window = Duration::hours(i64::from(ctx.config.velocity.window_hours));
    let mut tally = Tally {
        count: 1,
        total: txn.amount_minor,
    };
    for &p in ctx.history.earlier_within(list, position, window) {
        let t = ctx.history.txn(p as usize);
        if super::counts_with(t, txn) {
            tally.count += 1;
            tally.total = tally.total.saturating_add(t.amount_minor);
        }
    }
    tally
}

/// Keeps the stronger of `best` and this window, if this window breaks a limit.
fn judge<'s>(
    ctx: &Context<'_>,
    tally: Tally,
    subject: &'s str,
    txn: &Txn,
    best: Option<(f64, Tally, &'s str)>,
) -> Option<(f64, Tally, &'s str)> {
    let settings = &ctx.config.velocity;
    let too_many = tally.count > settings.max_count;
    let too_much = tally.total > settings.max_total.minor_floor(txn.exponent);
    if !too_many && !too_much {
        return best;
    }
    let by_count = f64::from(tally.count) / (2.0 * f64::from(settings.max_count));
    let by_total = settings.max_total.ratio_of_minor(tally.total, txn.exponent) / 2.0;
    let strength = by_count.max(by_total).min(1.0);
    match best {
        Some(kept) if kept.0 >= strength => Some(kept),
        _ => Some((strength, tally, subject)),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::super::testkit::{at, Ledger};
    use crate::detect::RuleId;
    use crate::domain::AccountId;
    use crate::ledger::SpendStatus;

    fn burst(ledger: &mut Ledger, vendor: &str, count: i64, amount: i64) {
        for i in 0..count {
            ledger.push(at(2, 8) + Duration::minutes(30 * i), vendor, amount);
        }
    }

    #[test]
    fn more_payments_than_the_limit_to_one_vendor() {
        let mut ledger = Ledger::new();
        burst(&mut ledger, "acme", 20, 1_000);
        assert!(ledger.factor(RuleId::Velocity).is_none(), "exactly 20");
        ledger.push(at(2, 18), "acme", 1_000);
        let factor = ledger.factor(RuleId::Velocity).unwrap();
        assert_eq!(factor.strength, 0.525);
        assert_eq!(
            factor.explanation,
            "21 payments to this vendor within 24 hours totalling 210.00 (limits: more than 20 payments or 50,000.00)"
        );
    }

    #[test]
    fn more_in_total_from_one_account_across_vendors() {
        let mut ledger = Ledger::new();
        ledger.push(at(2, 8), "acme", 3_000_000);
        ledger.push(at(2, 9), "globex", 2_000_000);
        assert!(
            ledger.factor(RuleId::Velocity).is_none(),
            "exactly 50,000.00"
        );
        ledger.push(at(2, 10), "initech", 1);
        let factor = ledger.factor(RuleId::Velocity).unwrap();
        assert!(
            factor
                .explanation
                .starts_with("3 payments from this account"),
            "{factor:?}"
        );
        for txn in &mut ledger.txns {
            txn.account = Some(AccountId::new());
        }
        assert!(ledger.factor(RuleId::Velocity).is_none(), "three accounts");
    }

    #[test]
    fn the_window_slides_and_pending_payments_do_not_count_twice() {
        let mut ledger = Ledger::new();
        burst(&mut ledger, "acme", 20, 1_000);
        ledger.push(at(3, 8) + Duration::minutes(31), "acme", 1_000);
        assert!(
            ledger.factor(RuleId::Velocity).is_none(),
            "the first two fell out"
        );
        let mut ledger = Ledger::new();
        burst(&mut ledger, "acme", 21, 1_000);
        ledger.txns[0].status = SpendStatus::Pending;
        assert!(ledger.factor(RuleId::Velocity).is_none());
    }
}
