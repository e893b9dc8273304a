//! Plaid items on SQLite: the shared SQL on the pool; the scope filter isolates tenants.

use async_trait::async_trait;
use sqlx::Sqlite;

use super::*;
use crate::domain::time;
use crate::store::{map_db_error, SqliteStore};

type Q = Sql<Sqlite>;

#[async_trait]
impl PlaidStore for SqliteStore {
    async fn insert_plaid_item(&self, item: &PlaidItem) -> Result<()> {
        Q::insert(item)
            .execute(&self.pool)
            .await
            .map_err(map_db_error)?;
        Ok(())
    }

    async fn list_plaid_items(&self, scope: Scope) -> Result<Vec<PlaidItem>> {
        let sql = select_sql(BY_SCOPE);
        items(Q::list(&sql, scope).fetch_all(&self.pool).await?)
    }

    async fn get_plaid_item(&self, scope: Scope, id: PlaidItemId) -> Result<Option<PlaidItem>> {
        let sql = select_sql(BY_ID);
        let row = Q::get(&sql, scope, id).fetch_optional(&self.pool).await?;
        row.map(PlaidItem::try_from).transpose()
    }

    async fn find_plaid_item(&self, item_id: &str) -> Result<Option<PlaidItem>> {
        let sql = select_sql(BY_PLAID_ID);
        let row = Q::find(&sql, item_id).fetch_optional(&self.pool).await?;
        row.map(PlaidItem::try_from).transpose()
    }

    async fn syncable_plaid_items(&self) -> Result<Vec<PlaidItem>> {
        let sql = select_sql(SYNCABLE);
        items(Q::syncable(&sql).fetch_all(&self.pool).await?)
    }

    async fn set_plaid_item_status(
        &self,
        scope: Scope,
        id: PlaidItemId,
        status: ItemStatus,
        error_code: Option<&str>,
    ) -> Result<bool> {
        let done = Q::set_status(scope, id, status, error_code, time::now())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn save_plaid_cursor(
        &self,
        scope: Scope,
        id: PlaidItemId,
        cursor: &str,
        at: Timestamp,
    ) -> Result<bool> {
        let done = Q::save_cursor(scope, id, cursor, at)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
