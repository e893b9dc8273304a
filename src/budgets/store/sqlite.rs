//! Budgets on SQLite: reads on a pooled connection; every write that must see what it checked
//! (a reservation, a settlement, the expiry sweep) runs in one `BEGIN IMMEDIATE` transaction,
//! whose write lock keeps every other writer out until it commits.

use async_trait::async_trait;
use sqlx::Sqlite;

use super::sql::Sql;
use super::*;
use crate::store::SqliteStore;

type Q = Sql<Sqlite>;

#[async_trait]
impl BudgetStore for SqliteStore {
    async fn insert_budget(&self, row: &BudgetRow) -> Result<()> {
        Q::insert(&mut *self.pool.acquire().await?, row).await
    }

    async fn update_budget(&self, row: &BudgetRow) -> Result<bool> {
        Q::update(&mut *self.pool.acquire().await?, row).await
    }

    async fn delete_budget(&self, tenant: TenantId, id: BudgetId) -> Result<bool> {
        Q::delete(&mut *self.pool.acquire().await?, tenant, id).await
    }

    async fn budget(&self, tenant: TenantId, id: BudgetId) -> Result<Option<BudgetRow>> {
        Q::one(&mut *self.pool.acquire().await?, tenant, id).await
    }

    async fn budgets(&self, tenant: TenantId) -> Result<Vec<BudgetRow>> {
        Q::all(&mut *self.pool.acquire().await?, tenant).await
    }

    async fn tenants_with_budgets(&self) -> Result<Vec<TenantId>> {
        Q::tenants(&mut *self.pool.acquire().await?).await
    }

    async fn llm_spent(
        &self,
        tenant: TenantId,
        matching: &Matching,
        window: Window,
        except: Option<BudgetId>,
    ) -> Result<i64> {
        Q::llm_spent(
            &mut *self.pool.acquire().await?,
            tenant,
            matching,
            window,
            except,
        )
        .await
    }

    async fn bank_spent(
        &self,
        tenant: TenantId,
        matching: &Matching,
        currency: &str,
        window: Window,
    ) -> Result<i64> {
        Q::bank_spent(
            &mut *self.pool.acquire().await?,
            tenant,
            matching,
            currency,
            window,
        )
        .await
    }

    async fn reserved(&self, tenant: TenantId, key: PeriodKey, now: Time) -> Result<i64> {
        Q::reserved(&mut *self.pool.acquire().await?, tenant, key, now).await
    }

    async fn set_other(
        &self,
        tenant: TenantId,
        key: PeriodKey,
        other: i64,
        now: Time,
    ) -> Result<()> {
        Q::set_other(&mut *self.pool.acquire().await?, tenant, key, other, now).await
    }

    async fn reserve_batch(
        &self,
        tenant: TenantId,
        batch: &[Reservation<'_>],
    ) -> Result<Vec<(Vec<Counter>, bool)>> {
        let mut tx = self.begin_immediate().await?;
        let done = Q::reserve_batch(&mut tx, "", tenant, batch).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn settle(&self, tenant: TenantId, settlements: &[Settlement]) -> Result<()> {
        let mut tx = self.begin_immediate().await?;
        Q::settle(&mut tx, "", tenant, settlements).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn expire_reservations(&self, now: Time) -> Result<u64> {
        let mut tx = self.begin_immediate().await?;
        let n = Q::expire(&mut tx, "", now).await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn mark_alerted(
        &self,
        tenant: TenantId,
        key: PeriodKey,
        threshold: u32,
        now: Time,
    ) -> Result<bool> {
        Q::mark(
            &mut *self.pool.acquire().await?,
            tenant,
            key,
            threshold,
            now,
        )
        .await
    }

    async fn unmark_alerted(&self, tenant: TenantId, key: PeriodKey, threshold: u32) -> Result<()> {
        Q::unmark(&mut *self.pool.acquire().await?, tenant, key, threshold).await
    }
}
