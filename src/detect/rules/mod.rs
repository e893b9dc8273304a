//! The per-transaction rules: each looks at one payment against its history and the tenant's
//! configuration and says how strongly it fires and why, one file per rule.
//!
//! Invariant: pure: no I/O, no clock; only transactions before the one scored count as history.
//! Only payments (`amount_minor > 0`) are judged, so a credit never fires. Amounts are compared
//! in the transaction's own currency, in integers; explanations are formatted only for rules that
//! fire, and a rule that does not fire allocates nothing.

mod duplicate;
mod large;
mod new_vendor;
mod outlier;
mod round;
mod split;
pub mod stats;
mod timing;
mod unapproved;
mod velocity;

#[cfg(test)]
pub(crate) mod testkit;

use std::collections::HashSet;

use chrono_tz::Tz;

use super::config::DetectionConfig;
use super::{Factor, Finding, History, RuleId, Snooze, SnoozeTarget, Txn};
use crate::domain::time::Timestamp;
use crate::ledger::SpendStatus;

/// What the rules see besides the transaction itself.
pub struct Context<'a> {
    pub history: &'a History,
    pub config: &'a DetectionConfig,
    /// The tenant's approved vendors, normalised; empty when the tenant keeps no list.
    pub approved: &'a HashSet<String>,
    pub snoozes: &'a [Snooze],
    pub time_zone: Tz,
    /// When the evaluation happens (snoozes are compared to it).
    pub now: Timestamp,
}

/// A rule: the finding about the payment at a position, if it fires.
type Check = fn(&Context<'_>, usize) -> Option<Finding>;

/// Every per-transaction rule, in the order their factors are listed.
const RULES: [(RuleId, Check); 9] = [
    (RuleId::LargeAmount, large::check),
    (RuleId::UnapprovedVendor, unapproved::check),
    (RuleId::NewVendor, new_vendor::check),
    (RuleId::VendorOutlier, outlier::check),
    (RuleId::Duplicate, duplicate::check),
    (RuleId::SplitPayment, split::check),
    (RuleId::Velocity, velocity::check),
    (RuleId::Timing, timing::check),
    (RuleId::RoundAmount, round::check),
];

/// The factors of the transaction at `position`: one per enabled rule that fired and is not
/// snoozed for the transaction's vendor or account.
pub fn evaluate(ctx: &Context<'_>, position: usize) -> Vec<Factor> {
    let mut factors = Vec::new();
    let txn = ctx.history.txn(position);
    if !txn.is_payment() {
        return factors;
    }
    for (rule, check) in RULES {
        let (enabled, weight) = ctx.config.switch(rule);
        if !enabled || snoozed(ctx, rule, txn) {
            continue;
        }
        if let Some(finding) = check(ctx, position) {
            factors.push(Factor {
                rule,
                strength: finding.strength.clamp(0.0, 1.0),
                weight,
                explanation: finding.explanation,
            });
        }
    }
    factors
}

/// Whether a snooze still in force silences `rule` for this transaction's vendor or account.
fn snoozed(ctx: &Context<'_>, rule: RuleId, txn: &Txn) -> bool {
    ctx.snoozes.iter().any(|snooze| {
        snooze.rule == rule
            && ctx.now < snooze.until
            && match &snooze.target {
                SnoozeTarget::Vendor(name) => txn.vendor.as_deref() == Some(name.as_str()),
                SnoozeTarget::Account(account) => txn.account == Some(*account),
            }
    })
}

/// Whether two transactions are one payment seen twice by the same feed: a pending transaction
/// and its posted successor (same source and account, one pending, one posted).
fn pending_and_posted(a: &Txn, b: &Txn) -> bool {
    a.source == b.source && a.account == b.account && a.status != b.status
}

/// Whether an earlier transaction counts towards a sum or count about `txn`: a payment in the
/// same currency that is not pending (a pending payment and its posted successor would otherwise
/// count twice).
fn counts_with(earlier: &Txn, txn: &Txn) -> bool {
    earlier.is_payment()
        && earlier.currency == txn.currency
        && earlier.status != SpendStatus::Pending
}

/// The entries of `list` before `position` within `window` of it, as
/// [`History::earlier_within`] gives them, found by galloping back from the end so that only
/// recent (cache-warm) transactions are read: a busy vendor's list has hundreds of thousands of
/// entries, and a plain binary search over it touches a cold transaction at every step.
fn recent<'a>(
    history: &History,
    list: &'a [u32],
    position: usize,
    window: chrono::Duration,
) -> &'a [u32] {
    let end = list.partition_point(|&p| (p as usize) < position);
    let since = history.txn(position).occurred_at - window;
    let inside = |i: usize| history.txn(list[i] as usize).occurred_at >= since;
    let mut step = 1;
    let mut low = end;
    while low > 0 && inside(low - 1) {
        let next = low.saturating_sub(step);
        if inside(next) {
            low = next;
            step *= 2;
        } else {
            let start = next + 1;
            let found =
                list[start..low].partition_point(|&p| history.txn(p as usize).occurred_at < since);
            low = start + found;
            break;
        }
    }
    &list[low..end]
}

/// "2 days", "1 day", "the same day".
fn days_text(days: i64) -> String {
    match days {
        0 => "the same day".to_owned(),
        1 => "1 day earlier".to_owned(),
        n => format!("{n} days earlier"),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::testkit::{at, Ledger};
    use super::*;
    use crate::domain::SnoozeId;

    #[test]
    fn recent_windows_equal_the_historys_own() {
        let mut ledger = Ledger::new();
        for i in 0..300 {
            let at = at(1, 0) + Duration::minutes(37 * i * i % 20_000);
            ledger.push(at, if i % 3 == 0 { "acme" } else { "globex" }, 100 + i);
        }
        let history = History::new(ledger.txns.clone());
        for vendor in ["acme", "globex"] {
            let list = history.vendor_txns(history.vendor_key(vendor).unwrap());
            for position in 0..history.len() {
                for hours in [0, 1, 24, 24 * 7, 24 * 400] {
                    let window = Duration::hours(hours);
                    assert_eq!(
                        recent(&history, list, position, window),
                        history.earlier_within(list, position, window),
                        "{vendor} {position} {hours}"
                    );
                }
            }
        }
    }

    #[test]
    fn credits_never_fire() {
        let mut ledger = Ledger::new();
        ledger.push(at(1, 10), "acme", -5_000_000);
        let factors = ledger.evaluate_last();
        assert!(factors.is_empty(), "{factors:?}");
    }

    #[test]
    fn a_large_first_payment_gives_one_factor_per_rule_that_fired() {
        let mut ledger = Ledger::new();
        ledger.push(at(1, 10), "acme", 1_500_000);
        let rules: Vec<RuleId> = ledger.evaluate_last().iter().map(|f| f.rule).collect();
        assert_eq!(
            rules,
            [RuleId::LargeAmount, RuleId::NewVendor, RuleId::RoundAmount]
        );
    }

    #[test]
    fn the_documented_worked_example_scores_88_then_85() {
        let mut ledger = Ledger::new();
        ledger.push(at(1, 10), "acme", 1_500_000);
        let score =
            |ledger: &Ledger| crate::detect::score::risk(&ledger.config, &ledger.evaluate_last());
        assert_eq!(score(&ledger), 88);
        ledger.config.round_amount.weight = 0.5;
        assert_eq!(score(&ledger), 85);
    }

    #[test]
    fn disabled_rules_stay_silent_and_weights_are_carried() {
        let mut ledger = Ledger::new();
        ledger.config.new_vendor.enabled = false;
        ledger.config.round_amount.enabled = false;
        ledger.config.large_amount.weight = 0.5;
        ledger.push(at(1, 10), "acme", 1_500_000);
        let factors = ledger.evaluate_last();
        assert_eq!(factors.len(), 1);
        assert_eq!(
            (factors[0].rule, factors[0].weight),
            (RuleId::LargeAmount, 0.5)
        );
    }

    #[test]
    fn snoozes_silence_a_rule_for_a_vendor_or_account_until_they_end() {
        let mut ledger = Ledger::new();
        ledger.push(at(1, 10), "acme", 1_500_000);
        let account = ledger.account;
        let snooze = |target, until| Snooze {
            id: SnoozeId::new(),
            rule: RuleId::LargeAmount,
            target,
            until,
        };
        let now = ledger.now;
        let fired = |ledger: &Ledger| {
            ledger
                .evaluate_last()
                .iter()
                .any(|f| f.rule == RuleId::LargeAmount)
        };
        ledger.snoozes = vec![snooze(
            SnoozeTarget::Vendor("acme".into()),
            now + Duration::hours(1),
        )];
        assert!(!fired(&ledger));
        ledger.snoozes = vec![snooze(
            SnoozeTarget::Account(account),
            now + Duration::hours(1),
        )];
        assert!(!fired(&ledger));
        ledger.snoozes = vec![snooze(SnoozeTarget::Vendor("acme".into()), now)];
        assert!(fired(&ledger), "a snooze ending now no longer silences");
        ledger.snoozes = vec![snooze(
            SnoozeTarget::Vendor("globex".into()),
            now + Duration::hours(1),
        )];
        assert!(fired(&ledger));
    }
}
