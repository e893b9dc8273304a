//! The injected anomalies of the synthetic ledger, `per_kind` rows of each rule's kind.
//!
//! Invariant: each kind adds exactly `per_kind` rows, each labelled with its rule, and each looks
//! like what its rule looks for and, as far as it can, like nothing else: amounts under the
//! 10,000.00 limit and not round unless that is the anomaly, business hours on weekdays unless
//! timing is the anomaly, an ordinary vendor unless the vendor is the anomaly.

use auditpulse::detect::RuleId;
use auditpulse::ledger::Source;
use chrono::{Datelike, Duration, NaiveDate};
use rand::Rng;

use super::{unapproved_name, vendor_name, Draft, Gen, Rhythm, LIMIT, UNAPPROVED, VENDORS};

impl Gen {
    pub(super) fn anomalies(&mut self, per_kind: usize) {
        let ordinary = self.drafts.len();
        for _ in 0..per_kind {
            self.large_amount();
            self.new_vendor();
            self.unapproved_vendor();
            self.vendor_outlier();
            self.duplicate(ordinary);
            self.timing();
            self.round_amount();
        }
        self.in_groups(per_kind, RuleId::SplitPayment, 3..=5);
        self.in_groups(per_kind, RuleId::Velocity, 12..=25);
    }

    /// An irregular USD vendor whose 20× median is still under the limit.
    fn modest_vendor(&mut self) -> usize {
        loop {
            let v = self.rng.gen_range(0..VENDORS);
            let vendor = &self.vendors[v];
            if vendor.rhythm == Rhythm::Irregular
                && vendor.currency == 0
                && vendor.median * 20.0 < LIMIT as f64
            {
                return v;
            }
        }
    }

    /// A typical invoice, 50.00 to 3,000.00, never a round thousand.
    fn typical_amount(&mut self) -> i64 {
        let low = 5_000f64.ln();
        let minor = (low + self.rng.gen::<f64>() * (300_000f64.ln() - low)).exp() as i64;
        if minor % 100_000 == 0 {
            minor + 17
        } else {
            minor
        }
    }

    fn weekday(&mut self) -> NaiveDate {
        loop {
            let offset = self.rng.gen_range(0..self.days);
            let date = self.day(offset);
            if date.weekday().number_from_monday() <= 5 {
                return date;
            }
        }
    }

    fn labelled(&mut self, v: usize, amount: i64, rule: RuleId) {
        let date = self.weekday();
        let at = self.business_time(date);
        self.push(at, v, amount, Some(rule));
    }

    fn named(&mut self, name: String, amount: i64, rule: RuleId) {
        let date = self.weekday();
        let at = self.business_time(date);
        self.drafts.push(Draft {
            at,
            vendor: name,
            amount,
            account: 0,
            currency: 0,
            source: Source::Plaid,
            label: Some(rule),
        });
    }

    fn large_amount(&mut self) {
        let v = self.modest_vendor();
        let amount = self.rng.gen_range(LIMIT..8 * LIMIT) | 1;
        self.labelled(v, amount, RuleId::LargeAmount);
    }

    fn new_vendor(&mut self) {
        let index = self.drafts.len();
        let amount = self.typical_amount();
        self.named(vendor_name(index, true), amount, RuleId::NewVendor);
    }

    fn unapproved_vendor(&mut self) {
        let name = unapproved_name(self.rng.gen_range(0..UNAPPROVED));
        let amount = self.typical_amount();
        self.named(name, amount, RuleId::UnapprovedVendor);
    }

    fn vendor_outlier(&mut self) {
        let v = self.modest_vendor();
        let factor = self.rng.gen_range(8.0..20.0);
        let mut amount = (self.vendors[v].median * factor) as i64;
        if amount % 100_000 == 0 {
            amount += 3;
        }
        self.labelled(v, amount.min(LIMIT - 1), RuleId::VendorOutlier);
    }

    /// An ordinary payment again, from another source, an hour to three days later.
    fn duplicate(&mut self, ordinary: usize) {
        if ordinary == 0 {
            return self.timing();
        }
        let index = self.rng.gen_range(0..ordinary);
        let later = Duration::minutes(self.rng.gen_range(60..3 * 24 * 60));
        let original = &self.drafts[index];
        let source = match original.source {
            Source::Plaid => Source::Csv,
            _ => Source::Plaid,
        };
        let copy = Draft {
            at: original.at + later,
            vendor: original.vendor.clone(),
            source,
            label: Some(RuleId::Duplicate),
            ..*original
        };
        self.drafts.push(copy);
    }

    /// A weekend payment or one between 02:00 and 04:59 on a weekday.
    fn timing(&mut self) {
        let v = self.modest_vendor();
        let amount = self.amount(v);
        let at = if self.rng.gen_bool(0.5) {
            let date = self.weekday();
            let hour = self.rng.gen_range(2..5);
            self.at(date, hour)
        } else {
            let saturday = self.weekday() + Duration::days(7);
            let back = i64::from(saturday.weekday().num_days_from_monday()) - 5;
            let date = saturday - Duration::days(back) + Duration::days(self.rng.gen_range(0..2));
            self.business_time(date)
        };
        self.push(at, v, amount, Some(RuleId::Timing));
    }

    fn round_amount(&mut self) {
        let v = self.modest_vendor();
        let amount = self.rng.gen_range(1..10) * 100_000;
        self.labelled(v, amount, RuleId::RoundAmount);
    }

    /// `per_kind` rows in groups: split payments (3–5 under the limit, together over it, within
    /// a day and a half) or velocity bursts (12–25 typical payments within an hour).
    fn in_groups(&mut self, per_kind: usize, rule: RuleId, size: std::ops::RangeInclusive<usize>) {
        let mut left = per_kind;
        while left > 0 {
            let mut n = self.rng.gen_range(size.clone()).min(left);
            if left - n < *size.start() {
                n = left; // no group smaller than its kind's smallest
            }
            left -= n;
            let v = self.modest_vendor();
            let date = self.weekday();
            let start = self.business_time(date);
            for _ in 0..n {
                let (at, amount) = if rule == RuleId::SplitPayment {
                    let at = start + Duration::minutes(self.rng.gen_range(0..36 * 60));
                    (at, self.rng.gen_range(LIMIT / 3 + 1..LIMIT * 95 / 100) | 1)
                } else {
                    let at = start + Duration::seconds(self.rng.gen_range(0..3600));
                    (at, self.amount(v))
                };
                self.push(at, v, amount, Some(rule));
            }
        }
    }
}
