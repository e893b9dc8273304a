//! Budgets on PostgreSQL (every budget table has forced row-level security): each statement runs
//! in a transaction scoped to its tenant, or to the system for the evaluator's list of tenants
//! and the expiry sweep. A reservation locks its counters' rows `FOR UPDATE` (in budget order, so
//! two calls never wait on each other crosswise); settling and expiring lock the reservations
//! they move first, so each is moved once.

use async_trait::async_trait;
use sqlx::Postgres;

use super::sql::Sql;
use super::*;
use crate::store::{PgStore, Scope};

type Q = Sql<Postgres>;

const LOCK: &str = " FOR UPDATE";

#[async_trait]
impl BudgetStore for PgStore {
    async fn insert_budget(&self, row: &BudgetRow) -> Result<()> {
        let mut tx = self.begin_scoped(Scope::Tenant(row.tenant_id)).await?;
        Q::insert(&mut tx, row).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn update_budget(&self, row: &BudgetRow) -> Result<bool> {
        let mut tx = self.begin_scoped(Scope::Tenant(row.tenant_id)).await?;
        let done = Q::update(&mut tx, row).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn delete_budget(&self, tenant: TenantId, id: BudgetId) -> Result<bool> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let done = Q::delete(&mut tx, tenant, id).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn budget(&self, tenant: TenantId, id: BudgetId) -> Result<Option<BudgetRow>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let row = Q::one(&mut tx, tenant, id).await?;
        tx.commit().await?;
        Ok(row)
    }

    async fn budgets(&self, tenant: TenantId) -> Result<Vec<BudgetRow>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let rows = Q::all(&mut tx, tenant).await?;
        tx.commit().await?;
        Ok(rows)
    }

    async fn tenants_with_budgets(&self) -> Result<Vec<TenantId>> {
        let mut tx = self.begin_scoped(Scope::System).await?;
        let rows = Q::tenants(&mut tx).await?;
        tx.commit().await?;
        Ok(rows)
    }

    async fn llm_spent(
        &self,
        tenant: TenantId,
        matching: &Matching,
        window: Window,
        except: Option<BudgetId>,
    ) -> Result<i64> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let sum = Q::llm_spent(&mut tx, tenant, matching, window, except).await?;
        tx.commit().await?;
        Ok(sum)
    }

    async fn bank_spent(
        &self,
        tenant: TenantId,
        matching: &Matching,
        currency: &str,
        window: Window,
    ) -> Result<i64> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let sum = Q::bank_spent(&mut tx, tenant, matching, currency, window).await?;
        tx.commit().await?;
        Ok(sum)
    }

    async fn reserved(&self, tenant: TenantId, key: PeriodKey, now: Time) -> Result<i64> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let sum = Q::reserved(&mut tx, tenant, key, now).await?;
        tx.commit().await?;
        Ok(sum)
    }

    async fn set_other(
        &self,
        tenant: TenantId,
        key: PeriodKey,
        other: i64,
        now: Time,
    ) -> Result<()> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        Q::set_other(&mut tx, tenant, key, other, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn reserve_batch(
        &self,
        tenant: TenantId,
        batch: &[Reservation<'_>],
    ) -> Result<Vec<(Vec<Counter>, bool)>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let done = Q::reserve_batch(&mut tx, LOCK, tenant, batch).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn settle(&self, tenant: TenantId, settlements: &[Settlement]) -> Result<()> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        Q::settle(&mut tx, LOCK, tenant, settlements).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn expire_reservations(&self, now: Time) -> Result<u64> {
        let mut tx = self.begin_scoped(Scope::System).await?;
        let n = Q::expire(&mut tx, LOCK, now).await?;
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
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let fresh = Q::mark(&mut tx, tenant, key, threshold, now).await?;
        tx.commit().await?;
        Ok(fresh)
    }

    async fn unmark_alerted(&self, tenant: TenantId, key: PeriodKey, threshold: u32) -> Result<()> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        Q::unmark(&mut tx, tenant, key, threshold).await?;
        tx.commit().await?;
        Ok(())
    }
}
