//! Detection on PostgreSQL: every statement on a tenant's rows runs in a transaction scoped to
//! that tenant for row-level security.
//!
//! Invariant: every method forwards to the shared SQL in `sql`/`write`, inside
//! `begin_scoped(Scope::Tenant(tenant))`.

use async_trait::async_trait;
use sqlx::Postgres;

use super::*;
use crate::store::{PgStore, Scope};

type Q = Sql<Postgres>;

#[async_trait]
impl DetectStore for PgStore {
    async fn tenant_time_zone(&self, tenant: TenantId) -> Result<String> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let out = Q::tenant_time_zone(&mut *tx, tenant).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn tenant_time_zones(&self) -> Result<Vec<(TenantId, String)>> {
        // `tenants` has no row-level security: it is the list of tenants itself.
        Q::tenant_time_zones(&mut *self.pool.acquire().await?).await
    }

    async fn approved_vendors(&self, tenant: TenantId) -> Result<Vec<String>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let out = Q::approved_vendors(&mut *tx, tenant).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn detection_txns(&self, tenant: TenantId) -> Result<Vec<TxnRow>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let out = Q::detection_txns(&mut *tx, tenant).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn detection_config(&self, tenant: TenantId) -> Result<Option<String>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let out = Q::detection_config(&mut *tx, tenant).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn put_detection_config(
        &self,
        tenant: TenantId,
        config: &str,
        changes: &[ChangeRow],
        at: Time,
    ) -> Result<()> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let out = Q::put_detection_config(&mut *tx, tenant, config, changes, at).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn detection_changes(&self, tenant: TenantId, limit: u32) -> Result<Vec<ChangeRow>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let out = Q::detection_changes(&mut *tx, tenant, limit).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn latest_model(&self, tenant: TenantId) -> Result<Option<ModelRow>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let out = Q::latest_model(&mut *tx, tenant).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn models(&self, tenant: TenantId) -> Result<Vec<ModelInfo>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let out = Q::models(&mut *tx, tenant).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn insert_model(&self, tenant: TenantId, row: &ModelRow) -> Result<i64> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let out = Q::insert_model(&mut *tx, tenant, row).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn score_targets(&self, tenant: TenantId, targets: Targets) -> Result<Vec<SpendId>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let out = Q::score_targets(&mut *tx, tenant, targets).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn write_scores(
        &self,
        tenant: TenantId,
        scores: &[ScoreRow],
        raise: &[NewAnomaly],
    ) -> Result<Vec<AnomalyId>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let out = Q::write_scores(&mut *tx, tenant, scores, raise).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn risk_score(&self, tenant: TenantId, spend: SpendId) -> Result<Option<ScoreRow>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let out = Q::risk_score(&mut *tx, tenant, spend).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn anomaly_page(
        &self,
        tenant: TenantId,
        filter: &AnomalyFilter,
        after: Option<AnomalyCursor>,
        limit: u32,
    ) -> Result<Vec<AnomalyRow>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let out = Q::anomaly_page(&mut *tx, tenant, filter, after, limit).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn anomaly(&self, tenant: TenantId, id: AnomalyId) -> Result<Option<AnomalyRow>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let out = Q::anomaly(&mut *tx, tenant, id).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn case_events(&self, tenant: TenantId, id: AnomalyId) -> Result<Vec<CaseEventRow>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let out = Q::case_events(&mut *tx, tenant, id).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn update_case(
        &self,
        tenant: TenantId,
        id: AnomalyId,
        update: &CaseUpdate,
    ) -> Result<bool> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let out = Q::update_case(&mut *tx, tenant, id, update).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn reviews(&self, tenant: TenantId, limit: u32) -> Result<Vec<ReviewRow>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let out = Q::reviews(&mut *tx, tenant, limit).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn snoozes(&self, tenant: TenantId) -> Result<Vec<SnoozeRow>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let out = Q::snoozes(&mut *tx, tenant).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn insert_snooze(&self, tenant: TenantId, row: &SnoozeRow) -> Result<()> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let out = Q::insert_snooze(&mut *tx, tenant, row).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn delete_snooze(&self, tenant: TenantId, id: SnoozeId) -> Result<bool> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let out = Q::delete_snooze(&mut *tx, tenant, id).await?;
        tx.commit().await?;
        Ok(out)
    }
}
