//! Tenants on SQLite: the shared SQL on the pool; the deletion in one transaction.

use async_trait::async_trait;

use super::{new_tenant, TenantRow, TenantStore, DELETE, GET, INSERT, LIST};
use crate::domain::TenantId;
use crate::error::Result;
use crate::store::{map_db_error, SqliteStore, Time};
use crate::tenants::{NewTenant, Tenant};

#[async_trait]
impl TenantStore for SqliteStore {
    async fn create_tenant(&self, new: &NewTenant) -> Result<Tenant> {
        let tenant = new_tenant(new);
        sqlx::query(INSERT)
            .bind(tenant.id)
            .bind(&tenant.slug)
            .bind(&tenant.name)
            .bind(Time(tenant.created_at))
            .execute(&self.pool)
            .await
            .map_err(map_db_error)?;
        Ok(tenant)
    }

    async fn get_tenant(&self, id: TenantId) -> Result<Option<Tenant>> {
        let row: Option<TenantRow> = sqlx::query_as(GET)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(Tenant::from))
    }

    async fn list_tenants(&self, after: Option<TenantId>, limit: u32) -> Result<Vec<Tenant>> {
        let rows: Vec<TenantRow> = sqlx::query_as(LIST)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(Tenant::from).collect())
    }

    async fn delete_tenant(&self, id: TenantId) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let mut deleted = 0;
        for sql in DELETE {
            deleted = sqlx::query(sql)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(map_db_error)?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(deleted > 0)
    }
}
