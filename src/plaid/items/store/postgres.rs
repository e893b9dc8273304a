//! Plaid items on PostgreSQL (`plaid_items` has forced row-level security): every statement runs
//! in a transaction scoped to the caller's tenant, or to the system for the webhook look-up and
//! the periodic sync.

use async_trait::async_trait;
use sqlx::Postgres;

use super::*;
use crate::domain::time;
use crate::store::{map_db_error, PgStore};

type Q = Sql<Postgres>;

#[async_trait]
impl PlaidStore for PgStore {
    async fn insert_plaid_item(&self, item: &PlaidItem) -> Result<()> {
        let mut tx = self.begin_scoped(Scope::Tenant(item.tenant_id)).await?;
        Q::insert(item)
            .execute(&mut *tx)
            .await
            .map_err(map_db_error)?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_plaid_items(&self, scope: Scope) -> Result<Vec<PlaidItem>> {
        let sql = select_sql(BY_SCOPE);
        let mut tx = self.begin_scoped(scope).await?;
        let rows = Q::list(&sql, scope).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        items(rows)
    }

    async fn get_plaid_item(&self, scope: Scope, id: PlaidItemId) -> Result<Option<PlaidItem>> {
        let sql = select_sql(BY_ID);
        let mut tx = self.begin_scoped(scope).await?;
        let row = Q::get(&sql, scope, id).fetch_optional(&mut *tx).await?;
        tx.commit().await?;
        row.map(PlaidItem::try_from).transpose()
    }

    async fn find_plaid_item(&self, item_id: &str) -> Result<Option<PlaidItem>> {
        let sql = select_sql(BY_PLAID_ID);
        let mut tx = self.begin_scoped(Scope::System).await?;
        let row = Q::find(&sql, item_id).fetch_optional(&mut *tx).await?;
        tx.commit().await?;
        row.map(PlaidItem::try_from).transpose()
    }

    async fn syncable_plaid_items(&self) -> Result<Vec<PlaidItem>> {
        let sql = select_sql(SYNCABLE);
        let mut tx = self.begin_scoped(Scope::System).await?;
        let rows = Q::syncable(&sql).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        items(rows)
    }

    async fn set_plaid_item_status(
        &self,
        scope: Scope,
        id: PlaidItemId,
        status: ItemStatus,
        error_code: Option<&str>,
    ) -> Result<bool> {
        let mut tx = self.begin_scoped(scope).await?;
        let done = Q::set_status(scope, id, status, error_code, time::now())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn save_plaid_cursor(
        &self,
        scope: Scope,
        id: PlaidItemId,
        cursor: &str,
        at: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.begin_scoped(scope).await?;
        let done = Q::save_cursor(scope, id, cursor, at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }
}
