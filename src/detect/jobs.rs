//! Detection's background jobs, run by the durable job runner:
//! - `detect.score` (`{}` in a tenant): scores what arrived unscored, until nothing is left;
//!   queued when spend arrives (imports, Plaid sync) and by the periodic sweep.
//! - `detect.backfill` (`{"from": DATE?, "requested_at": TIME}`): rescores what was booked since
//!   `from` and not scored since the request, so an interrupted back-fill resumes where it stopped.
//! - `detect.retrain` (`{}` in a tenant): trains the tenant's next model.
//! - `detect.schedule` (periodic, system): queues each tenant's daily retraining once its local
//!   time has passed the hour (02:00 by default), once per local day, and a scoring sweep.
//!
//! Invariant: every job is idempotent: scoring writes a score per transaction and raises a case
//! at most once, so a retry after a crash duplicates nothing.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{NaiveDate, Timelike};

use super::service::Detector;
use super::store::Targets;
use crate::domain::time::{self, Timestamp};
use crate::domain::TenantId;
use crate::jobs::{Dedup, Handler, Job, JobStore, NewJob};
use crate::ledger::Arrivals;
use crate::store::Time;

pub const SCORE_JOB: &str = "detect.score";
pub const BACKFILL_JOB: &str = "detect.backfill";
pub const RETRAIN_JOB: &str = "detect.retrain";
pub const SCHEDULE_JOB: &str = "detect.schedule";

/// How often `detect.schedule` runs.
pub const SCHEDULE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// The local hour at which each tenant's model is retrained.
pub const RETRAIN_HOUR: u32 = 2;

/// Scoring passes one `detect.score` job makes before it leaves the rest to the next job.
const MAX_PASSES: usize = 10;

/// Queues scoring of `tenant`'s unscored spend, unless a scoring job is already pending.
pub async fn queue_scoring(jobs: &dyn JobStore, tenant: TenantId) -> crate::Result<()> {
    let job = NewJob::new(SCORE_JOB, serde_json::json!({}))
        .tenant(Some(tenant))
        .dedup(Dedup::Pending(format!("{SCORE_JOB}:{tenant}")));
    jobs.enqueue_job(&job).await.map(|_| ())
}

/// Queues a back-fill of `tenant` from `from` (everything when `None`), requested `now`.
pub fn backfill_job(tenant: TenantId, from: Option<NaiveDate>, now: Timestamp) -> NewJob {
    NewJob::new(
        BACKFILL_JOB,
        serde_json::json!({ "from": from, "requested_at": time::to_text(&now) }),
    )
    .tenant(Some(tenant))
    .dedup(Dedup::Pending(format!("{BACKFILL_JOB}:{tenant}")))
}

/// Queues retraining of `tenant`.
pub fn retrain_job(tenant: TenantId) -> NewJob {
    NewJob::new(RETRAIN_JOB, serde_json::json!({}))
        .tenant(Some(tenant))
        .dedup(Dedup::Pending(format!("{RETRAIN_JOB}:{tenant}")))
}

/// What the ledger tells when spend arrives: queue scoring.
pub struct ScoreOnArrival(pub Arc<dyn JobStore>);

#[async_trait]
impl Arrivals for ScoreOnArrival {
    async fn arrived(&self, tenant: TenantId) {
        if let Err(error) = queue_scoring(self.0.as_ref(), tenant).await {
            // The periodic sweep queues it later: nothing is lost.
            tracing::warn!(%tenant, %error, "cannot queue scoring of new spend");
        }
    }
}

fn tenant_of(job: &Job) -> Result<TenantId, String> {
    job.tenant_id
        .ok_or_else(|| format!("a {} job needs a tenant", job.kind))
}

/// Runs `detect.score`.
pub struct ScoreHandler(pub Arc<Detector>);

#[async_trait]
impl Handler for ScoreHandler {
    async fn run(&self, job: &Job) -> Result<(), String> {
        let tenant = tenant_of(job)?;
        for _ in 0..MAX_PASSES {
            let report = self
                .0
                .score(tenant, Targets::Unscored, &|_, _| {})
                .await
                .map_err(|e| e.to_string())?;
            if report.scored == 0 {
                return Ok(());
            }
            tracing::info!(%tenant, scored = report.scored, raised = report.raised, "spend scored");
        }
        Ok(())
    }
}

/// The targets of a `detect.backfill` job.
pub fn backfill_targets(job: &Job) -> Result<Targets, String> {
    let from = match &job.payload["from"] {
        serde_json::Value::Null => None,
        value => Some(
            value
                .as_str()
                .and_then(|s| s.parse().ok())
                .ok_or("a detect.backfill job's from is not a date")?,
        ),
    };
    let before = job.payload["requested_at"]
        .as_str()
        .and_then(|s| time::from_text(s).ok())
        .ok_or("a detect.backfill job needs requested_at")?;
    Ok(Targets::Backfill {
        from,
        before: Time(before),
    })
}

/// Runs `detect.backfill`.
pub struct BackfillHandler(pub Arc<Detector>);

#[async_trait]
impl Handler for BackfillHandler {
    async fn run(&self, job: &Job) -> Result<(), String> {
        let tenant = tenant_of(job)?;
        let report = self
            .0
            .score(tenant, backfill_targets(job)?, &|_, _| {})
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(%tenant, scored = report.scored, raised = report.raised, "back-fill done");
        Ok(())
    }
}

/// Runs `detect.retrain`.
pub struct RetrainHandler(pub Arc<Detector>);

#[async_trait]
impl Handler for RetrainHandler {
    async fn run(&self, job: &Job) -> Result<(), String> {
        let tenant = tenant_of(job)?;
        match self.0.retrain(tenant).await.map_err(|e| e.to_string())? {
            Some(model) => tracing::info!(%tenant, version = model.version,
                rows = model.training_rows, "model trained"),
            None => tracing::info!(%tenant, "too little history to train a model"),
        }
        Ok(())
    }
}

/// Runs `detect.schedule`.
pub struct ScheduleHandler {
    pub detector: Arc<Detector>,
    pub jobs: Arc<dyn JobStore>,
}

#[async_trait]
impl Handler for ScheduleHandler {
    async fn run(&self, _job: &Job) -> Result<(), String> {
        let zones = self
            .detector
            .store
            .tenant_time_zones()
            .await
            .map_err(|e| e.to_string())?;
        let now = time::now();
        for (tenant, zone) in zones {
            queue_scoring(self.jobs.as_ref(), tenant)
                .await
                .map_err(|e| e.to_string())?;
            if let Some(day) = retrain_day(&zone, now) {
                let job = NewJob::new(RETRAIN_JOB, serde_json::json!({}))
                    .tenant(Some(tenant))
                    .dedup(Dedup::Once(format!("{RETRAIN_JOB}:{tenant}:{day}")));
                self.jobs
                    .enqueue_job(&job)
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }
}

/// The local day whose retraining is due at `now` in `zone`: today once the local hour has
/// reached [`RETRAIN_HOUR`], else none.
pub fn retrain_day(zone: &str, now: Timestamp) -> Option<NaiveDate> {
    let zone: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::Tz::UTC);
    let local = now.with_timezone(&zone);
    (local.hour() >= RETRAIN_HOUR).then(|| local.date_naive())
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    #[test]
    fn retraining_is_due_after_two_in_the_tenants_own_time() {
        // 01:30 UTC is 02:30 in Paris (winter, UTC+1) but 20:30 the day before in New York.
        let now = Utc.with_ymd_and_hms(2026, 12, 2, 1, 30, 0).unwrap();
        assert_eq!(
            retrain_day("Europe/Paris", now),
            NaiveDate::from_ymd_opt(2026, 12, 2)
        );
        assert_eq!(retrain_day("UTC", now), None);
        assert_eq!(
            retrain_day("America/New_York", now),
            NaiveDate::from_ymd_opt(2026, 12, 1)
        );
    }
}
