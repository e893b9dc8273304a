//! Timing: a payment on a day off or outside business hours, in the tenant's time zone. Off by
//! default (many tenants pay by card at any hour).
//!
//! Invariant: a transaction known only by its date (stored at exactly midnight UTC, as bank files
//! give them) is judged by its booked date's weekday alone, never by a clock time it does not
//! have. Payments below `min_amount` are not judged. A fixed strength of 0.3.

use chrono::{Datelike, Timelike};

use super::Context;
use crate::detect::config::grouped_minor;
use crate::detect::Finding;

const STRENGTH: f64 = 0.3;

pub(super) fn check(ctx: &Context<'_>, position: usize) -> Option<Finding> {
    let settings = &ctx.config.timing;
    let txn = ctx.history.txn(position);
    if txn.amount_minor < settings.min_amount.minor_ceil(txn.exponent) {
        return None;
    }
    let hours = &settings.business_hours;
    let utc = txn.occurred_at;
    let date_only = utc.num_seconds_from_midnight() == 0 && utc.nanosecond() == 0;
    let amount = grouped_minor(txn.amount_minor, txn.exponent);
    if date_only {
        let day = txn.booked_on.weekday();
        return (!hours.works_on(day)).then(|| Finding {
            strength: STRENGTH,
            explanation: format!("{amount} booked on a {day}, outside the working week"),
        });
    }
    let local = utc.with_timezone(&ctx.time_zone);
    let minutes = local.num_seconds_from_midnight() / 60;
    let day = local.weekday();
    if hours.works_on(day) && hours.open_at(minutes) {
        return None;
    }
    let when = local.format("%a %H:%M");
    let reason = if hours.works_on(day) {
        format!("outside business hours {}–{}", hours.start, hours.end)
    } else {
        "outside the working week".to_owned()
    };
    Some(Finding {
        strength: STRENGTH,
        explanation: format!("{amount} paid {when} {}, {reason}", ctx.time_zone.name()),
    })
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::super::testkit::{at, Ledger};
    use crate::detect::RuleId;

    fn timing(hour_offset_minutes: i64, day: i64) -> Option<String> {
        let mut ledger = Ledger::new();
        ledger.config.timing.enabled = true;
        ledger.time_zone = chrono_tz::Europe::Berlin;
        ledger.push(
            at(day, 0) + Duration::minutes(hour_offset_minutes),
            "acme",
            50_000,
        );
        ledger.factor(RuleId::Timing).map(|f| f.explanation)
    }

    #[test]
    fn business_hours_are_read_in_the_tenants_time_zone() {
        // Berlin is UTC+1 in early March: 07:00 UTC is 08:00 local on Monday 2 March.
        assert_eq!(timing(7 * 60, 2), None);
        assert_eq!(
            timing(7 * 60 - 1, 2).as_deref(),
            Some("500.00 paid Mon 07:59 Europe/Berlin, outside business hours 08:00–18:00")
        );
        assert_eq!(timing(17 * 60 - 1, 2), None);
        assert!(timing(17 * 60, 2).is_some(), "18:00 local is closed");
        assert_eq!(
            timing(10 * 60, 7).as_deref(),
            Some("500.00 paid Sat 11:00 Europe/Berlin, outside the working week")
        );
    }

    #[test]
    fn date_only_transactions_are_judged_by_their_day() {
        assert_eq!(timing(0, 2), None, "Monday, no clock time");
        assert_eq!(
            timing(0, 1).as_deref(),
            Some("500.00 booked on a Sun, outside the working week")
        );
    }

    #[test]
    fn off_by_default_and_small_payments_pass() {
        let mut ledger = Ledger::new();
        ledger.push(at(7, 3), "acme", 50_000);
        assert!(ledger.factor(RuleId::Timing).is_none());
        ledger.config.timing.enabled = true;
        assert!(ledger.factor(RuleId::Timing).is_some());
        ledger.txns[0].amount_minor = 999;
        assert!(ledger.factor(RuleId::Timing).is_none());
    }
}
