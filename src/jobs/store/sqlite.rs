//! Jobs on SQLite: one writer at a time, so a claim in `BEGIN IMMEDIATE` (`UPDATE … RETURNING`)
//! is atomic; the kinds to claim are bound as a JSON array.

use async_trait::async_trait;
use sqlx::Sqlite;

use super::*;
use crate::store::SqliteStore;

type Q = Sql<Sqlite>;

#[async_trait]
impl JobStore for SqliteStore {
    async fn enqueue_job(&self, job: &NewJob) -> Result<Option<JobId>> {
        let id = JobId::new();
        let sql = enqueue_sql();
        let done = Q::enqueue(&sql, id, job, time::now())
            .execute(&self.pool)
            .await?;
        Ok((done.rows_affected() == 1).then_some(id))
    }

    async fn claim_job(&self, kinds: &[&str], lease: Duration) -> Result<Option<Job>> {
        if kinds.is_empty() {
            return Ok(None);
        }
        let kinds = serde_json::to_string(kinds).map_err(anyhow::Error::from)?;
        let sql = claim_sql("kind IN (SELECT value FROM json_each($3))", "");
        let now = time::now();
        let mut tx = self.begin_immediate().await?;
        Q::reap(now).execute(&mut *tx).await?;
        let row = Q::claim(&sql, now, lease)
            .bind(kinds)
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        row.map(Job::try_from).transpose()
    }

    async fn complete_job(&self, job: &Job) -> Result<bool> {
        let done = Q::complete(job, time::now()).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }

    async fn fail_job(&self, job: &Job, error: &str, backoff: Backoff) -> Result<Option<JobState>> {
        let now = time::now();
        let done = Q::fail(job, error, backoff, now)
            .execute(&self.pool)
            .await?;
        let (state, _) = after_failure(job, backoff, now);
        Ok((done.rows_affected() == 1).then_some(state))
    }

    async fn list_jobs(&self, scope: Scope, filter: &JobFilter) -> Result<Vec<Job>> {
        let sql = list_sql();
        jobs(Q::list(&sql, scope, filter).fetch_all(&self.pool).await?)
    }

    async fn count_jobs(&self) -> Result<Vec<JobCount>> {
        counts(sqlx::query_as(COUNT).fetch_all(&self.pool).await?)
    }
}
