//! LLM calls on PostgreSQL: every statement runs in a transaction scoped to its tenant for
//! row-level security.
//!
//! Invariant: every method forwards to the shared SQL in `sql`, inside
//! `begin_scoped(Scope::Tenant(tenant))`.

use async_trait::async_trait;
use sqlx::Postgres;

use super::*;
use crate::store::{PgStore, Scope};

type Q = Sql<Postgres>;

/// The UTC bucket of `started_at` (a `TIMESTAMPTZ`), as the same text SQLite gives:
/// `YYYY-MM-DDTHH`, `YYYY-MM-DD` or `YYYY-MM`, whatever the session's time zone.
fn bucket(interval: Interval) -> &'static str {
    match interval {
        Interval::Hour => {
            "to_char(date_trunc('hour', started_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD\"T\"HH24')"
        }
        Interval::Day => "to_char(date_trunc('day', started_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD')",
        Interval::Month => "to_char(date_trunc('month', started_at AT TIME ZONE 'UTC'), 'YYYY-MM')",
    }
}

#[async_trait]
impl CallStore for PgStore {
    async fn insert_calls(&self, tenant: TenantId, rows: &[CallRow]) -> Result<u64> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
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
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let out = q.build_query_as().fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn call(&self, tenant: TenantId, id: LlmCallId) -> Result<Option<CallRow>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let out = Q::call(&mut *tx, tenant, id).await?;
        tx.commit().await?;
        Ok(out)
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
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let out = q.build_query_as().fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn unpriced_calls(
        &self,
        tenant: TenantId,
        after: Option<LlmCallId>,
        limit: u32,
    ) -> Result<Vec<CallRow>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let out = Q::unpriced_calls(&mut *tx, tenant, after, limit).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn set_costs(
        &self,
        tenant: TenantId,
        costs: &[(LlmCallId, Nanos, String)],
    ) -> Result<u64> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
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
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let mut linked = Vec::new();
        for response_id in response_ids {
            let ids = Q::link(&mut *tx, tenant, provider, response_id).await?;
            linked.extend(ids.into_iter().map(|(id,)| id));
        }
        tx.commit().await?;
        Ok(linked)
    }

    async fn linked(&self, tenant: TenantId, ids: &[LlmCallId]) -> Result<Vec<LlmCallId>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
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
