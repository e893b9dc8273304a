//! Prices on SQLite: the shared SQL on the pool (the tenant filter isolates tenants); an
//! override's replacement runs in one `BEGIN IMMEDIATE` transaction.
//!
//! Invariant: every method forwards to the statements bound in `Sql`.

use async_trait::async_trait;
use sqlx::Sqlite;

use super::*;
use crate::store::SqliteStore;

type Q = Sql<Sqlite>;

#[async_trait]
impl PriceStore for SqliteStore {
    async fn insert_catalog(&self, row: &CatalogRow) -> Result<()> {
        Q::insert_catalog(row).execute(&self.pool).await?;
        Ok(())
    }

    async fn newest_catalog(&self) -> Result<Option<CatalogRow>> {
        Ok(Q::newest().fetch_optional(&self.pool).await?)
    }

    async fn put_price_override(&self, row: &OverrideRow) -> Result<bool> {
        let mut tx = self.begin_immediate().await?;
        let replaced = Q::exists(row).fetch_optional(&mut *tx).await?.is_some();
        let sql = upsert_sql();
        Q::upsert(&sql, row).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(replaced)
    }

    async fn price_overrides(&self, tenant: TenantId) -> Result<Vec<OverrideRow>> {
        let sql = list_sql(false);
        Ok(Q::list(&sql, tenant).fetch_all(&self.pool).await?)
    }

    async fn all_price_overrides(&self) -> Result<Vec<OverrideRow>> {
        let sql = list_sql(true);
        Ok(Q::list_all(&sql).fetch_all(&self.pool).await?)
    }

    async fn delete_price_override(
        &self,
        tenant: TenantId,
        provider: &str,
        model: &str,
        effective_from: NaiveDate,
    ) -> Result<bool> {
        let gone = Q::delete(tenant, provider, model, effective_from)
            .fetch_optional(&self.pool)
            .await?;
        Ok(gone.is_some())
    }
}
