//! Job storage: enqueue (deduplicated), claim with a lease, complete, fail with backoff, list and
//! count; the SQL both backends run, with its values bound once in [`Sql`].
//!
//! Invariant: a claim is atomic (one worker gets a job), and completing or failing names the
//! attempt that was claimed, so a worker whose lease expired and was retaken changes nothing.

mod postgres;
mod sqlite;

use std::marker::PhantomData;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::{Database, Encode, FromRow, Type};

use super::{stored_error, Backoff, Dedup, Job, JobId, JobState, NewJob};
use crate::domain::time::{self, Timestamp};
use crate::domain::TenantId;
use crate::error::Result;
use crate::store::codec::sql_id;
use crate::store::{narrow, Bound, BoundAs, Scope, Time};

sql_id!(JobId);

/// Which jobs to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    pub state: Option<JobState>,
    pub kind: Option<String>,
    pub limit: u32,
}

/// How many jobs of one kind are in one state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobCount {
    pub kind: String,
    pub state: JobState,
    pub count: u64,
}

/// The durable job queue.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Queues `job` in its tenant's scope. `None` when its dedup key kept it out.
    async fn enqueue_job(&self, job: &NewJob) -> Result<Option<JobId>>;
    /// Claims the next due job of one of `kinds` (queued, failed and due, or running with an
    /// expired lease), leased for `lease`. Runs in the system scope.
    async fn claim_job(&self, kinds: &[&str], lease: Duration) -> Result<Option<Job>>;
    /// Marks the claimed attempt `job` succeeded; `false` if that attempt no longer holds it.
    async fn complete_job(&self, job: &Job) -> Result<bool>;
    /// Records the claimed attempt `job` as failed: retried after `backoff`, or dead once out of
    /// attempts. The new state, or `None` if that attempt no longer holds the job.
    async fn fail_job(&self, job: &Job, error: &str, backoff: Backoff) -> Result<Option<JobState>>;
    async fn list_jobs(&self, scope: Scope, filter: &JobFilter) -> Result<Vec<Job>>;
    /// Every kind and state with at least one job, across tenants.
    async fn count_jobs(&self) -> Result<Vec<JobCount>>;
}

const PENDING: &str = "('queued', 'running', 'failed')";
const COLUMNS: &str = "id, kind, tenant_id, payload, state, attempts, max_attempts, run_at, \
                       locked_until, last_error, dedup_key, created_at, updated_at";

/// `$9` is whether the key blocks forever ([`Dedup::Once`]) or only while a job is pending; the
/// unique index on pending keys settles a race between two enqueuers.
fn enqueue_sql() -> String {
    format!(
        "INSERT INTO jobs (id, kind, tenant_id, payload, state, attempts, max_attempts, run_at, \
         dedup_key, created_at, updated_at) \
         SELECT $1, $2, $3, $4, 'queued', 0, $5, $6, $7, $8, $8 \
         WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE dedup_key = $7 \
         AND ($9 OR state IN {PENDING})) ON CONFLICT DO NOTHING"
    )
}

/// Jobs whose lease expired on their last attempt are dead: the worker crashed every time.
const REAP: &str = "UPDATE jobs SET state = 'dead', locked_until = NULL, \
     last_error = 'the lease expired on the last attempt', updated_at = $1 \
     WHERE state = 'running' AND locked_until <= $1 AND attempts >= max_attempts";

/// `kinds` is the backend's test of `kind` against `$3`; `lock` its row lock clause.
fn claim_sql(kinds: &str, lock: &str) -> String {
    format!(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_until = $2, \
         updated_at = $1 WHERE id = (SELECT id FROM jobs WHERE {kinds} AND \
         ((state IN ('queued', 'failed') AND run_at <= $1) \
         OR (state = 'running' AND locked_until <= $1 AND attempts < max_attempts)) \
         ORDER BY run_at, id LIMIT 1 {lock}) RETURNING {COLUMNS}"
    )
}

const COMPLETE: &str = "UPDATE jobs SET state = 'succeeded', locked_until = NULL, \
     updated_at = $3 WHERE id = $1 AND state = 'running' AND attempts = $2";
const FAIL: &str = "UPDATE jobs SET state = $3, run_at = $4, locked_until = NULL, \
     last_error = $5, updated_at = $6 WHERE id = $1 AND state = 'running' AND attempts = $2";

fn list_sql() -> String {
    format!(
        "SELECT {COLUMNS} FROM jobs WHERE ($1 IS NULL OR tenant_id = $1) \
         AND ($2 IS NULL OR state = $2) AND ($3 IS NULL OR kind = $3) ORDER BY id DESC LIMIT $4"
    )
}

const COUNT: &str = "SELECT kind, state, COUNT(*) FROM jobs GROUP BY kind, state \
                     ORDER BY kind, state";

#[derive(sqlx::FromRow)]
struct JobRow {
    id: JobId,
    kind: String,
    tenant_id: Option<TenantId>,
    payload: String,
    state: String,
    attempts: i64,
    max_attempts: i64,
    run_at: Time,
    locked_until: Option<Time>,
    last_error: Option<String>,
    dedup_key: Option<String>,
    created_at: Time,
    updated_at: Time,
}

impl TryFrom<JobRow> for Job {
    type Error = crate::Error;
    fn try_from(row: JobRow) -> Result<Self> {
        let id = row.id;
        let corrupt = |what: &str| anyhow::anyhow!("corrupt job {id}: {what}");
        Ok(Job {
            id,
            kind: row.kind,
            tenant_id: row.tenant_id,
            payload: serde_json::from_str(&row.payload).map_err(|_| corrupt("payload"))?,
            state: JobState::parse(&row.state).ok_or_else(|| corrupt("state"))?,
            attempts: narrow("job attempts", row.attempts)?,
            max_attempts: narrow("job max_attempts", row.max_attempts)?,
            run_at: row.run_at.0,
            locked_until: row.locked_until.map(|t| t.0),
            last_error: row.last_error,
            dedup_key: row.dedup_key,
            created_at: row.created_at.0,
            updated_at: row.updated_at.0,
        })
    }
}

fn jobs(rows: Vec<JobRow>) -> Result<Vec<Job>> {
    rows.into_iter().map(Job::try_from).collect()
}

fn counts(rows: Vec<(String, String, i64)>) -> Result<Vec<JobCount>> {
    rows.into_iter()
        .map(|(kind, state, count)| {
            let state = JobState::parse(&state)
                .ok_or_else(|| anyhow::anyhow!("corrupt job state {state:?}"))?;
            let count = narrow("job count", count)?;
            Ok(JobCount { kind, state, count })
        })
        .collect()
}

/// The scope a job is written in: its tenant's, or the system's.
fn scope_of(job: &NewJob) -> Scope {
    job.tenant_id.map_or(Scope::System, Scope::Tenant)
}

/// What a failed attempt leads to: a retry after the backoff, or death out of attempts.
fn after_failure(job: &Job, backoff: Backoff, now: Timestamp) -> (JobState, Timestamp) {
    if job.attempts >= job.max_attempts {
        return (JobState::Dead, now);
    }
    let delay =
        chrono::Duration::from_std(backoff.delay(job.attempts)).unwrap_or(chrono::Duration::MAX);
    let retry = now.checked_add_signed(delay).unwrap_or(now);
    (JobState::Failed, retry)
}

/// The lease's end, `lease` from `now`.
fn lease_end(now: Timestamp, lease: Duration) -> Timestamp {
    let lease = chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
    now.checked_add_signed(lease).unwrap_or(now)
}

/// The job statements with their values bound, the same on both backends.
struct Sql<DB>(PhantomData<DB>);

impl<'a, DB: Database> Sql<DB>
where
    JobId: Encode<'a, DB> + Type<DB>,
    Option<TenantId>: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
    bool: Encode<'a, DB> + Type<DB>,
    Time: Encode<'a, DB> + Type<DB>,
    &'a str: Encode<'a, DB> + Type<DB>,
    Option<&'a str>: Encode<'a, DB> + Type<DB>,
    String: Encode<'a, DB> + Type<DB>,
    JobRow: for<'r> FromRow<'r, DB::Row>,
{
    /// `sql` is [`enqueue_sql`]'s.
    fn enqueue(sql: &'a str, id: JobId, job: &'a NewJob, now: Timestamp) -> Bound<'a, DB> {
        sqlx::query(sql)
            .bind(id)
            .bind(job.kind.as_str())
            .bind(job.tenant_id)
            .bind(job.payload.to_string())
            .bind(i64::from(job.max_attempts.max(1)))
            .bind(Time(job.run_at.unwrap_or(now)))
            .bind(job.dedup.as_ref().map(Dedup::key))
            .bind(Time(now))
            .bind(matches!(job.dedup, Some(Dedup::Once(_))))
    }

    fn reap(now: Timestamp) -> Bound<'a, DB> {
        sqlx::query(REAP).bind(Time(now))
    }

    /// `sql` is [`claim_sql`]'s; the backend binds `$3`, the kinds.
    fn claim(sql: &'a str, now: Timestamp, lease: Duration) -> BoundAs<'a, DB, JobRow> {
        sqlx::query_as(sql)
            .bind(Time(now))
            .bind(Time(lease_end(now, lease)))
    }

    fn complete(job: &'a Job, now: Timestamp) -> Bound<'a, DB> {
        sqlx::query(COMPLETE)
            .bind(job.id)
            .bind(i64::from(job.attempts))
            .bind(Time(now))
    }

    fn fail(job: &'a Job, error: &str, backoff: Backoff, now: Timestamp) -> Bound<'a, DB> {
        let (state, retry) = after_failure(job, backoff, now);
        sqlx::query(FAIL)
            .bind(job.id)
            .bind(i64::from(job.attempts))
            .bind(state.as_str())
            .bind(Time(retry))
            .bind(stored_error(error))
            .bind(Time(now))
    }

    /// `sql` is [`list_sql`]'s.
    fn list(sql: &'a str, scope: Scope, filter: &'a JobFilter) -> BoundAs<'a, DB, JobRow> {
        sqlx::query_as(sql)
            .bind(scope.tenant())
            .bind(filter.state.map(JobState::as_str))
            .bind(filter.kind.as_deref())
            .bind(i64::from(filter.limit.clamp(1, 1000)))
    }
}
