//! Jobs on PostgreSQL (`jobs` has row-level security): a job is enqueued in its tenant's scope;
//! workers claim, complete and fail in the system scope, and a claim skips rows another
//! transaction holds (`FOR UPDATE SKIP LOCKED`), so concurrent workers never wait on or share one.

use async_trait::async_trait;
use sqlx::Postgres;

use super::*;
use crate::store::PgStore;

type Q = Sql<Postgres>;

#[async_trait]
impl JobStore for PgStore {
    async fn enqueue_job(&self, job: &NewJob) -> Result<Option<JobId>> {
        let id = JobId::new();
        let sql = enqueue_sql();
        let mut tx = self.begin_scoped(scope_of(job)).await?;
        let done = Q::enqueue(&sql, id, job, time::now())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((done.rows_affected() == 1).then_some(id))
    }

    async fn claim_job(&self, kinds: &[&str], lease: Duration) -> Result<Option<Job>> {
        if kinds.is_empty() {
            return Ok(None);
        }
        let kinds: Vec<String> = kinds.iter().map(|k| (*k).to_owned()).collect();
        let sql = claim_sql("kind = ANY($3)", "FOR UPDATE SKIP LOCKED");
        let now = time::now();
        let mut tx = self.begin_scoped(Scope::System).await?;
        Q::reap(now).execute(&mut *tx).await?;
        let row = Q::claim(&sql, now, lease)
            .bind(kinds)
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        row.map(Job::try_from).transpose()
    }

    async fn complete_job(&self, job: &Job) -> Result<bool> {
        let mut tx = self.begin_scoped(Scope::System).await?;
        let done = Q::complete(job, time::now()).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn fail_job(&self, job: &Job, error: &str, backoff: Backoff) -> Result<Option<JobState>> {
        let now = time::now();
        let mut tx = self.begin_scoped(Scope::System).await?;
        let done = Q::fail(job, error, backoff, now).execute(&mut *tx).await?;
        tx.commit().await?;
        let (state, _) = after_failure(job, backoff, now);
        Ok((done.rows_affected() == 1).then_some(state))
    }

    async fn list_jobs(&self, scope: Scope, filter: &JobFilter) -> Result<Vec<Job>> {
        let sql = list_sql();
        let mut tx = self.begin_scoped(scope).await?;
        let rows = Q::list(&sql, scope, filter).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        jobs(rows)
    }

    async fn count_jobs(&self) -> Result<Vec<JobCount>> {
        let mut tx = self.begin_scoped(Scope::System).await?;
        let rows = sqlx::query_as(COUNT).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        counts(rows)
    }
}
