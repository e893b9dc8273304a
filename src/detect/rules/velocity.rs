//! Velocity: within the last `window_hours` (the scored payment included), more than `max_count`
//! payments or more than `max_total` in one currency to one vendor, or more than
//! `account_max_count` payments or `account_max_total` from one account (an account carries many
//! vendors' payments, so its limits are higher).
//!
//! A subject whose usual pace is already near its limits (a vendor paid many times an hour every
//! day) is held to `baseline_percent` of that pace instead: its count limit becomes the larger of
//! the configured one and `baseline_percent` % of its average count per window over the last
//! `baseline_days`, and its total limit grows in the same proportion. So velocity reports bursts,
//! not a busy vendor's ordinary day.
//!
//! Invariant: pending payments in the window are left out (a pending payment and its posted
//! successor would count twice), as are payments in other currencies. Strength is the larger of
//! `count / (2 × count limit)` and `total / (2 × total limit)`, at most 1; the explanation names
//! the stronger of the vendor and the account, with its limits.

use chrono::Duration;

use super::Context;
use crate::detect::config::{grouped_minor, Amount};
use crate::detect::{Finding, Txn};

/// What one window holds.
struct Tally {
    count: u32,
    total: i64,
}

/// The earlier payments a subject's usual pace is read from.
const PACE_SAMPLE: usize = 128;

/// One subject's limits and how the explanation names it.
struct Limits {
    subject: &'static str,
    count: u32,
    total: Amount,
    /// The subject's usual count per window, when it raised the limits.
    usual: Option<f64>,
}

impl Limits {
    /// These limits raised to `baseline_percent` of the subject's usual pace, if that is higher.
    /// The pace is read from its latest [`PACE_SAMPLE`] payments before the window (within
    /// `baseline_days`): how many fell in each window-long slot that had any (so a vendor paid
    /// only in office hours is judged by its office-hours pace), and their mean amount for the
    /// total.
    fn with_baseline(mut self, ctx: &Context<'_>, list: &[u32], position: usize) -> Self {
        let settings = &ctx.config.velocity;
        if settings.baseline_percent == 0 {
            return self;
        }
        // Before the window, so a burst does not raise its own limit.
        let days = Duration::days(i64::from(settings.baseline_days));
        let window = Duration::hours(i64::from(settings.window_hours));
        let span = super::recent(ctx.history, list, position, days);
        let inside = super::recent(ctx.history, list, position, window).len();
        let before = &span[..span.len() - inside];
        let txn = ctx.history.txn(position);
        let slot_seconds = window.num_seconds().max(1);
        let (mut sum, mut n, mut slots, mut last_slot) = (0i64, 0i64, 0u32, None);
        // The newest slot is cut by the window and the oldest by the sample's edge: both are left
        // out of the pace when there are others.
        let (mut oldest, mut newest) = (0i64, 0i64);
        for &p in before.iter().rev().take(PACE_SAMPLE) {
            let t = ctx.history.txn(p as usize);
            if !super::counts_with(t, txn) {
                continue;
            }
            let slot = t.occurred_at.timestamp().div_euclid(slot_seconds);
            if last_slot != Some(slot) {
                if slots == 1 {
                    newest = oldest;
                }
                slots += 1;
                last_slot = Some(slot);
                oldest = 0;
            }
            oldest += 1;
            sum = sum.saturating_add(t.amount_minor);
            n += 1;
        }
        if n == 0 {
            return self;
        }
        let usual = match slots {
            0..=2 => n as f64 / f64::from(slots.max(1)),
            _ => (n - oldest - newest) as f64 / f64::from(slots - 2),
        };
        let factor = f64::from(settings.baseline_percent) / 100.0;
        let paced = (usual * factor).ceil();
        let mut raised = false;
        if paced > f64::from(self.count) {
            self.count = paced.min(f64::from(u32::MAX)) as u32;
            raised = true;
        }
        let usual_total = (sum as f64 / n as f64) * usual * factor;
        let limit = self.total.minor_floor(txn.exponent) as f64;
        if usual_total > limit && limit > 0.0 {
            let percent = ((usual_total / limit) * 100.0).ceil().min(1e12) as i64;
            self.total = self.total.percent(percent);
            raised = true;
        }
        if raised {
            self.usual = Some(usual);
        }
        self
    }
}

/// The window that broke its limits most strongly.
struct Breach {
    strength: f64,
    tally: Tally,
    limits: Limits,
}

pub(super) fn check(ctx: &Context<'_>, position: usize) -> Option<Finding> {
    let settings = &ctx.config.velocity;
    let history = ctx.history;
    let txn = history.txn(position);
    let mut best: Option<Breach> = None;
    if let Some(key) = history.vendor_of(position) {
        let list = history.vendor_txns(key);
        let limits = Limits {
            subject: "to this vendor",
            count: settings.max_count,
            total: settings.max_total,
            usual: None,
        }
        .with_baseline(ctx, list, position);
        let tally = tally(ctx, list, position, txn);
        best = judge(tally, limits, txn, best);
    }
    if let Some(account) = txn.account {
        let list = history.account_txns(account);
        let limits = Limits {
            subject: "from this account",
            count: settings.account_max_count,
            total: settings.account_max_total,
            usual: None,
        }
        .with_baseline(ctx, list, position);
        let tally = tally(ctx, list, position, txn);
        best = judge(tally, limits, txn, best);
    }
    let Breach {
        strength,
        tally,
        limits,
    } = best?;
    let pace = match limits.usual {
        Some(usual) => format!(
            "; raised to {}% of its usual {usual:.1} per {} hours",
            settings.baseline_percent, settings.window_hours
        ),
        None => String::new(),
    };
    Some(Finding {
        strength,
        explanation: format!(
            "{} payments {} within {} hours totalling {} (limits: more than {} payments or {}{pace})",
            tally.count,
            limits.subject,
            settings.window_hours,
            grouped_minor(tally.total, txn.exponent),
            limits.count,
            limits.total.grouped(txn.exponent)
        ),
    })
}

fn tally(ctx: &Context<'_>, list: &[u32], position: usize, txn: &Txn) -> Tally {
    let window = Duration::hours(i64::from(ctx.config.velocity.window_hours));
    let mut tally = Tally {
        count: 1,
        total: txn.amount_minor,
    };
    for &p in super::recent(ctx.history, list, position, window) {
        let t = ctx.history.txn(p as usize);
        if super::counts_with(t, txn) {
            tally.count += 1;
            tally.total = tally.total.saturating_add(t.amount_minor);
        }
    }
    tally
}

/// Keeps the stronger of `best` and this window, if this window breaks a limit.
fn judge(tally: Tally, limits: Limits, txn: &Txn, best: Option<Breach>) -> Option<Breach> {
    let too_many = tally.count > limits.count;
    let too_much = tally.total > limits.total.minor_floor(txn.exponent);
    if !too_many && !too_much {
        return best;
    }
    let by_count = f64::from(tally.count) / (2.0 * f64::from(limits.count));
    let by_total = limits.total.ratio_of_minor(tally.total, txn.exponent) / 2.0;
    let strength = by_count.max(by_total).min(1.0);
    match best {
        Some(kept) if kept.strength >= strength => Some(kept),
        _ => Some(Breach {
            strength,
            tally,
            limits,
        }),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::super::testkit::{at, Ledger};
    use crate::detect::RuleId;
    use crate::domain::AccountId;
    use crate::ledger::SpendStatus;

    /// `count` payments to `vendor`, five minutes apart from 08:00 on Monday 2 March.
    fn burst(ledger: &mut Ledger, vendor: &str, count: i64, amount: i64) {
        for i in 0..count {
            ledger.push(at(2, 8) + Duration::minutes(5 * i), vendor, amount);
        }
    }

    #[test]
    fn more_payments_than_the_limit_to_one_vendor() {
        let mut ledger = Ledger::new();
        burst(&mut ledger, "acme", 10, 1_000);
        assert!(ledger.factor(RuleId::Velocity).is_none(), "exactly 10");
        ledger.push(at(2, 8) + Duration::minutes(55), "acme", 1_000);
        let factor = ledger.factor(RuleId::Velocity).unwrap();
        assert_eq!(factor.strength, 0.55);
        assert_eq!(
            factor.explanation,
            "11 payments to this vendor within 1 hours totalling 110.00 (limits: more than 10 payments or 25,000.00)"
        );
    }

    #[test]
    fn a_vendor_paid_all_day_every_day_is_held_to_its_own_pace() {
        let mut ledger = Ledger::new();
        let start = at(1, 0);
        // 14 payments an hour for 30 days: busy, but ordinary for this vendor.
        for hour in 0..30 * 24 {
            for k in 0..14 {
                let when = start + Duration::hours(hour) + Duration::minutes(4 * k);
                ledger.push(when, "acme", 1_000);
            }
        }
        let now = start + Duration::hours(30 * 24);
        ledger.push(now, "acme", 1_000);
        assert!(ledger.factor(RuleId::Velocity).is_none(), "its usual pace");
        // Three times its pace and more within the hour is a burst.
        for k in 0..40 {
            ledger.push(now + Duration::seconds(30 * k + 1), "acme", 1_000);
        }
        let factor = ledger.factor(RuleId::Velocity).unwrap();
        assert!(
            factor.explanation.contains("more than 42 payments")
                && factor.explanation.contains("usual 14.0 per 1 hours"),
            "{}",
            factor.explanation
        );
        ledger.config.velocity.baseline_percent = 0;
        assert!(ledger
            .factor(RuleId::Velocity)
            .unwrap()
            .explanation
            .contains("more than 10"));
    }

    #[test]
    fn more_in_total_from_one_account_across_vendors() {
        let mut ledger = Ledger::new();
        ledger.config.velocity.account_max_total = ledger.config.velocity.max_total;
        ledger.push(at(2, 8), "acme", 1_500_000);
        ledger.push(at(2, 8) + Duration::minutes(10), "globex", 1_000_000);
        assert!(
            ledger.factor(RuleId::Velocity).is_none(),
            "exactly 25,000.00"
        );
        ledger.push(at(2, 8) + Duration::minutes(20), "initech", 1);
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
    fn an_account_has_its_own_count_limit() {
        let mut ledger = Ledger::new();
        for i in 0..150 {
            let vendor = format!("vendor {}", i % 50);
            ledger.push(at(2, 8) + Duration::seconds(20 * i), &vendor, 1_000);
        }
        assert!(ledger.factor(RuleId::Velocity).is_none(), "exactly 150");
        ledger.push(at(2, 8) + Duration::minutes(59), "vendor 1", 1_000);
        let factor = ledger.factor(RuleId::Velocity).unwrap();
        assert!(factor
            .explanation
            .starts_with("151 payments from this account"));
    }

    #[test]
    fn the_window_slides_and_pending_payments_do_not_count_twice() {
        let mut ledger = Ledger::new();
        burst(&mut ledger, "acme", 10, 1_000);
        ledger.push(at(2, 9) + Duration::minutes(1), "acme", 1_000);
        assert!(
            ledger.factor(RuleId::Velocity).is_none(),
            "the first fell out"
        );
        let mut ledger = Ledger::new();
        burst(&mut ledger, "acme", 11, 1_000);
        ledger.txns[0].status = SpendStatus::Pending;
        assert!(ledger.factor(RuleId::Velocity).is_none());
    }
}
