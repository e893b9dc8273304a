//! The per-transaction rules: each looks at one transaction against its history and the tenant's
//! configuration and says how strongly it fires and why. (Stub: the rules land with their tests.)
//!
//! Invariant: pure: no I/O, no clock; only transactions before the one scored count as history.

use std::collections::HashSet;

use chrono_tz::Tz;

use super::config::DetectionConfig;
use super::{Factor, History, Snooze};
use crate::domain::time::Timestamp;

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

/// The factors of the transaction at `position`: one per rule that fired and is not snoozed.
pub fn evaluate(_ctx: &Context<'_>, _position: usize) -> Vec<Factor> {
    Vec::new()
}
