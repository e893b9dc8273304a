//! Prices on PostgreSQL: overrides (forced row-level security) are read and written in a
//! transaction scoped to their tenant; the start-up read of every tenant's overrides runs in the
//! system scope. Catalogs are not tenant-owned.
//!
//! Invariant: every method forwards to the statements bound in `Sql`.

use async_trait::async_trait;
use sqlx::Postgres;

use super::*;
use crate::store::{PgStore, Scope};

type Q = Sql<Postgres>;

#[async_trait]
impl PriceStore for PgStore {
    async fn insert_catalog(&self, row: &CatalogRow) -> Result<()> {
        Q::insert_catalog(row).execute(self.pool()).await?;
        Ok(())
    }

    async fn newest_catalog(&self) -> Result<Option<CatalogRow>> {
        Ok(Q::newest().fetch_optional(self.pool()).await?)
    }

    async fn put_price_override(&self, row: &OverrideRow) -> Result<bool> {
        let mut tx = self.begin_scoped(Scope::Tenant(row.tenant_id)).await?;
        let replaced = Q::exists(row).fetch_optional(&mut *tx).await?.is_some();
        let sql = upsert_sql();
        Q::upsert(&sql, row).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(replaced)
    }

    async fn price_overrides(&self, tenant: TenantId) -> Result<Vec<OverrideRow>> {
        let sql = list_sql(false);
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let rows = Q::list(&sql, tenant).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(rows)
    }

    async fn all_price_overrides(&self) -> Result<Vec<OverrideRow>> {
        let sql = list_sql(true);
        let mut tx = self.begin_scoped(Scope::System).await?;
        let rows = Q::list_all(&sql).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(rows)
    }

    async fn delete_price_override(
        &self,
        tenant: TenantId,
        provider: &str,
        model: &str,
        effective_from: NaiveDate,
    ) -> Result<bool> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let gone = Q::delete(tenant, provider, model, effective_from)
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(gone.is_some())
    }
}
