//! LLM calls on SQLite: reads on a pooled connection, writes in a `BEGIN IMMEDIATE` transaction.
//!
//! Invariant: every method forwards to the shared SQL in `sql`, which filters by tenant.

use async_trait::async_trait;
use sqlx::Sqlite;

use super::*;
use crate::store::SqliteStore;

type Q = Sql<Sqlite>;

/// The UTC bucket of `started_at`, stored as fixed-width text `YYYY-MM-DDTHH:MM:SS.ffffffZ`:
/// its first 13, 10 or 7 characters.
fn bucket(interval: Interval) -> &'static str {
    match interval {
        Interval::Hour => "substr(started_at, 1, 13)",
        Interval::Day => "substr(started_at, 1, 10)",
        Interval::Month => "substr(started_at, 1, 7)",
    }
}

#[async_trait]
impl CallStore for SqliteStore {
    async fn insert_calls(&self, tenant: TenantId, rows: &[CallRow]) -> Result<u64> {
        let mut tx = self.begin_immediate().await?;
        let mut inserted = 0;
        for chunk in rows.chunks(sql::CHUNK) {
            let mut q = Q::insert(tenant, chunk);
            let new: Vec<(LlmCallId,)> = q.build_query_as().fetch_all(&mut *tx).await?;
            inserted += new.len() as u64;
        }
        tx.commit().await?;
        Ok(inserted)
    }

    async fn call_page(
        &self,
        tenant: TenantId,
        filter: &CallFilter,
        after: Option<CallCursor>,
        limit: u32,
    ) -> Result<Vec<CallRow>> {
        let mut q = Q::page(tenant, filter, after, limit);
        Ok(q.build_query_as().fetch_all(&self.pool).await?)
    }

    async fn call(&self, tenant: TenantId, id: LlmCallId) -> Result<Option<CallRow>> {
        Q::call(&mut *self.pool.acquire().await?, tenant, id).await
    }

    async fn usage(
        &self,
        tenant: TenantId,
        filter: &CallFilter,
        keys: &[GroupKey],
        interval: Option<Interval>,
        limit: u32,
    ) -> Result<Vec<UsageRow>> {
        let mut q = Q::usage(tenant, filter, keys, interval.map(bucket), limit);
        Ok(q.build_query_as().fetch_all(&self.pool).await?)
    }

    async fn unpriced_calls(
        &self,
        tenant: TenantId,
        after: Option<LlmCallId>,
        limit: u32,
    ) -> Result<Vec<CallRow>> {
        Q::unpriced_calls(&mut *self.pool.acquire().await?, tenant, after, limit).await
    }

    async fn set_costs(
        &self,
        tenant: TenantId,
        costs: &[(LlmCallId, Nanos, String)],
    ) -> Result<u64> {
        let mut tx = self.begin_immediate().await?;
        let out = Q::set_costs(&mut *tx, tenant, costs).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn link(
        &self,
        tenant: TenantId,
        provider: &str,
        response_ids: &[String],
    ) -> Result<Vec<LlmCallId>> {
        let mut tx = self.begin_immediate().await?;
        let mut linked = Vec::new();
        for response_id in response_ids {
            let ids = Q::link(&mut *tx, tenant, provider, response_id).await?;
            linked.extend(ids.into_iter().map(|(id,)| id));
        }
        tx.commit().await?;
        Ok(linked)
    }

    async fn linked(&self, tenant: TenantId, ids: &[LlmCallId]) -> Result<Vec<LlmCallId>> {
        let mut tx = self.begin_immediate().await?;
        let mut linked = Vec::new();
        for chunk in ids.chunks(sql::CHUNK) {
            let mut q = Q::linked(tenant, chunk);
            let found: Vec<(LlmCallId,)> = q.build_query_as().fetch_all(&mut *tx).await?;
            linked.extend(found.into_iter().map(|(id,)| id));
        }
        tx.commit().await?;
        Ok(linked)
    }
}
