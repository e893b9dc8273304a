//! A small ledger for the rules' tests: payments in USD from one CSV account unless a test says
//! otherwise, evaluated with the default configuration.
//!
//! Invariant: `evaluate_last` scores the transaction pushed last, against everything pushed.

use std::collections::HashSet;

use chrono::{Duration, TimeZone, Utc};

use super::{evaluate, Context};
use crate::detect::config::DetectionConfig;
use crate::detect::{Factor, History, RuleId, Snooze, Txn};
use crate::domain::time::Timestamp;
use crate::domain::{AccountId, Currency, SpendId};
use crate::ledger::{Source, SpendStatus};

/// `day` days into March 2026 (day 1 is Sunday 1 March, day 2 a Monday) at `hour`:00 UTC.
pub fn at(day: i64, hour: i64) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
        + Duration::days(day - 1)
        + Duration::hours(hour)
}

pub struct Ledger {
    pub txns: Vec<Txn>,
    pub config: DetectionConfig,
    pub approved: HashSet<String>,
    pub snoozes: Vec<Snooze>,
    pub time_zone: chrono_tz::Tz,
    pub now: Timestamp,
    pub account: AccountId,
}

impl Ledger {
    pub fn new() -> Self {
        Self {
            txns: Vec::new(),
            config: DetectionConfig::default(),
            approved: HashSet::new(),
            snoozes: Vec::new(),
            time_zone: chrono_tz::UTC,
            now: at(200, 0),
            account: AccountId::new(),
        }
    }

    /// A posted USD payment (or credit, when negative) from the ledger's account, by CSV.
    pub fn push(&mut self, occurred_at: Timestamp, vendor: &str, amount_minor: i64) -> &mut Txn {
        self.txns.push(Txn {
            id: SpendId::new(),
            source: Source::Csv,
            account: Some(self.account),
            occurred_at,
            booked_on: occurred_at.date_naive(),
            amount_minor,
            currency: Currency::parse("USD").unwrap(),
            exponent: 2,
            status: SpendStatus::Posted,
            vendor: Some(vendor.to_owned()),
            category: None,
        });
        self.txns.last_mut().unwrap()
    }

    /// Payments of `amounts` to `vendor`, one a day from `first_day` at noon.
    pub fn series(&mut self, vendor: &str, first_day: i64, amounts: &[i64]) {
        for (i, amount) in amounts.iter().enumerate() {
            self.push(at(first_day + i as i64, 12), vendor, *amount);
        }
    }

    /// The factors of the transaction pushed last.
    pub fn evaluate_last(&self) -> Vec<Factor> {
        let last = self.txns.last().unwrap().id;
        let history = History::new(self.txns.clone());
        let ctx = Context {
            history: &history,
            config: &self.config,
            approved: &self.approved,
            snoozes: &self.snoozes,
            time_zone: self.time_zone,
            now: self.now,
        };
        evaluate(&ctx, history.position(last).unwrap())
    }

    /// The last transaction's factor from `rule`, if it fired.
    pub fn factor(&self, rule: RuleId) -> Option<Factor> {
        self.evaluate_last().into_iter().find(|f| f.rule == rule)
    }
}
