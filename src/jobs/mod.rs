//! Durable background jobs: the model (a job, its states, how it is deduplicated and retried),
//! its storage ([`JobStore`]) and the [`Runner`] that claims due jobs and hands them to handlers.
//! Plaid sync, scoring, retraining and alert delivery run as jobs.
//!
//! Invariant: a job is run by one worker at a time: it is claimed atomically with a lease, and
//! only the holder of the current attempt may complete or fail it. `last_error` is scrubbed and
//! bounded before it is stored, so no secret reaches the table, a log line or `jobs list`.

mod runner;
mod store;

use std::time::Duration;

use serde::Serialize;

use crate::domain::time::Timestamp;
pub use crate::domain::JobId;
use crate::domain::TenantId;

pub use runner::{Handler, Runner, RunnerConfig, RunnerTask, Schedule};
pub use store::{JobCount, JobFilter, JobStore};

/// The longest `last_error` kept, in characters.
pub const MAX_ERROR_CHARS: usize = 500;

/// Where a job stands. `queued`, `running` and `failed` are pending (it will run again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    /// The last attempt failed; retried at `run_at`.
    Failed,
    /// Out of attempts; never retried.
    Dead,
}

impl JobState {
    pub const ALL: [JobState; 5] = [
        JobState::Queued,
        JobState::Running,
        JobState::Succeeded,
        JobState::Failed,
        JobState::Dead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == s)
    }
}

/// How a job is kept from being queued twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dedup {
    /// Not while another job with this key is pending ("sync this item").
    Pending(String),
    /// Never again once a job with this key exists, whatever its state (one period of a periodic
    /// job).
    Once(String),
}

impl Dedup {
    pub fn key(&self) -> &str {
        match self {
            Dedup::Pending(key) | Dedup::Once(key) => key,
        }
    }
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    pub tenant_id: Option<TenantId>,
    pub payload: serde_json::Value,
    pub max_attempts: u32,
    /// Not before this time (now when `None`).
    pub run_at: Option<Timestamp>,
    pub dedup: Option<Dedup>,
}

impl NewJob {
    /// A job of `kind` with `payload`, due now, up to five attempts, no deduplication.
    pub fn new(kind: impl Into<String>, payload: serde_json::Value) -> Self {
        Self {
            kind: kind.into(),
            tenant_id: None,
            payload,
            max_attempts: 5,
            run_at: None,
            dedup: None,
        }
    }

    pub fn tenant(mut self, tenant: Option<TenantId>) -> Self {
        self.tenant_id = tenant;
        self
    }

    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    pub fn run_at(mut self, at: Timestamp) -> Self {
        self.run_at = Some(at);
        self
    }

    pub fn dedup(mut self, dedup: Dedup) -> Self {
        self.dedup = Some(dedup);
        self
    }
}

/// A stored job. `attempts` counts claims; a claimed job's `attempts` is its attempt number, which
/// completing or failing it must name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    pub id: JobId,
    pub kind: String,
    pub tenant_id: Option<TenantId>,
    pub payload: serde_json::Value,
    pub state: JobState,
    pub attempts: u32,
    pub max_attempts: u32,
    pub run_at: Timestamp,
    pub locked_until: Option<Timestamp>,
    pub last_error: Option<String>,
    pub dedup_key: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Exponential backoff between attempts: `base * 2^(attempt - 1)`, at most `cap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(10),
            cap: Duration::from_secs(3600),
        }
    }
}

impl Backoff {
    /// The wait after failed attempt number `attempt` (1 for the first).
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }
}

/// An error as stored: secrets scrubbed, at most [`MAX_ERROR_CHARS`] characters.
pub fn stored_error(error: &str) -> String {
    crate::mask::scrub(error)
        .chars()
        .take(MAX_ERROR_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_stops_at_its_cap() {
        let backoff = Backoff {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(10),
        };
        let delays: Vec<u64> = (1..=6).map(|a| backoff.delay(a).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 10, 10]);
        assert_eq!(backoff.delay(200), Duration::from_secs(10));
    }

    #[test]
    fn states_round_trip_through_their_names() {
        for state in JobState::ALL {
            assert_eq!(JobState::parse(state.as_str()), Some(state));
        }
        assert_eq!(JobState::parse("paused"), None);
    }

    #[test]
    fn stored_errors_are_bounded() {
        let long = "x".repeat(2 * MAX_ERROR_CHARS);
        assert_eq!(stored_error(&long).chars().count(), MAX_ERROR_CHARS);
    }
}
