//! Detection on SQLite: reads on a pooled connection, writes in a `BEGIN IMMEDIATE` transaction
//! (SQLite has one writer; taking the lock up front waits instead of failing on upgrade).
//!
//! Invariant: every method forwards to the shared SQL in `sql`/`write`, which filters by tenant.

use async_trait::async_trait;
use sqlx::Sqlite;

use super::*;
use crate::store::SqliteStore;

type Q = Sql<Sqlite>;

#[async_trait]
impl DetectStore for SqliteStore {
    async fn tenant_time_zone(&self, tenant: TenantId) -> Result<String> {
        Q::tenant_time_zone(&mut *self.pool.acquire().await?, tenant).await
    }

    async fn tenant_time_zones(&self) -> Result<Vec<(TenantId, String)>> {
        Q::tenant_time_zones(&mut *self.pool.acquire().await?).await
    }

    async fn approved_vendors(&self, tenant: TenantId) -> Result<Vec<String>> {
        Q::approved_vendors(&mut *self.pool.acquire().await?, tenant).await
    }

    async fn detection_txns(&self, tenant: TenantId) -> Result<Vec<TxnRow>> {
        Q::detection_txns(&mut *self.pool.acquire().await?, tenant).await
    }

    async fn detection_config(&self, tenant: TenantId) -> Result<Option<String>> {
        Q::detection_config(&mut *self.pool.acquire().await?, tenant).await
    }

    async fn put_detection_config(
        &self,
        tenant: TenantId,
        config: &str,
        changes: &[ChangeRow],
        at: Time,
    ) -> Result<()> {
        let mut tx = self.begin_immediate().await?;
        let out = Q::put_detection_config(&mut *tx, tenant, config, changes, at).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn detection_changes(&self, tenant: TenantId, limit: u32) -> Result<Vec<ChangeRow>> {
        Q::detection_changes(&mut *self.pool.acquire().await?, tenant, limit).await
    }

    async fn latest_model(&self, tenant: TenantId) -> Result<Option<ModelRow>> {
        Q::latest_model(&mut *self.pool.acquire().await?, tenant).await
    }

    async fn models(&self, tenant: TenantId) -> Result<Vec<ModelInfo>> {
        Q::models(&mut *self.pool.acquire().await?, tenant).await
    }

    async fn insert_model(&self, tenant: TenantId, row: &ModelRow) -> Result<i64> {
        let mut tx = self.begin_immediate().await?;
        let out = Q::insert_model(&mut *tx, tenant, row).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn score_targets(&self, tenant: TenantId, targets: Targets) -> Result<Vec<SpendId>> {
        Q::score_targets(&mut *self.pool.acquire().await?, tenant, targets).await
    }

    async fn write_scores(
        &self,
        tenant: TenantId,
        scores: &[ScoreRow],
        raise: &[NewAnomaly],
    ) -> Result<Vec<AnomalyId>> {
        let mut tx = self.begin_immediate().await?;
        let out = Q::write_scores(&mut *tx, tenant, scores, raise).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn risk_score(&self, tenant: TenantId, spend: SpendId) -> Result<Option<ScoreRow>> {
        Q::risk_score(&mut *self.pool.acquire().await?, tenant, spend).await
    }

    async fn anomaly_page(
        &self,
        tenant: TenantId,
        filter: &AnomalyFilter,
        after: Option<AnomalyCursor>,
        limit: u32,
    ) -> Result<Vec<AnomalyRow>> {
        Q::anomaly_page(
            &mut *self.pool.acquire().await?,
            tenant,
            filter,
            after,
            limit,
        )
        .await
    }

    async fn anomaly(&self, tenant: TenantId, id: AnomalyId) -> Result<Option<AnomalyRow>> {
        Q::anomaly(&mut *self.pool.acquire().await?, tenant, id).await
    }

    async fn case_events(&self, tenant: TenantId, id: AnomalyId) -> Result<Vec<CaseEventRow>> {
        Q::case_events(&mut *self.pool.acquire().await?, tenant, id).await
    }

    async fn update_case(
        &self,
        tenant: TenantId,
        id: AnomalyId,
        update: &CaseUpdate,
    ) -> Result<bool> {
        let mut tx = self.begin_immediate().await?;
        let out = Q::update_case(&mut *tx, tenant, id, update).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn reviews(&self, tenant: TenantId, limit: u32) -> Result<Vec<ReviewRow>> {
        Q::reviews(&mut *self.pool.acquire().await?, tenant, limit).await
    }

    async fn snoozes(&self, tenant: TenantId) -> Result<Vec<SnoozeRow>> {
        Q::snoozes(&mut *self.pool.acquire().await?, tenant).await
    }

    async fn insert_snooze(&self, tenant: TenantId, row: &SnoozeRow) -> Result<()> {
        let mut tx = self.begin_immediate().await?;
        let out = Q::insert_snooze(&mut *tx, tenant, row).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn delete_snooze(&self, tenant: TenantId, id: SnoozeId) -> Result<bool> {
        let mut tx = self.begin_immediate().await?;
        let out = Q::delete_snooze(&mut *tx, tenant, id).await?;
        tx.commit().await?;
        Ok(out)
    }
}
