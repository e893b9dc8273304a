//! Tenants on PostgreSQL. `tenants` itself has no row-level security (it is the list of
//! tenants, not a tenant's data); the deletion reaches `tenant_keys` and `tenant_secrets`, which
//! do, so it runs scoped to the tenant being deleted.

use async_trait::async_trait;
use sqlx::Postgres;

use super::{new_tenant, Sql, TenantStore, DELETE};
use crate::domain::TenantId;
use crate::error::Result;
use crate::store::{map_db_error, PgStore, Scope};
use crate::tenants::{NewTenant, Tenant};

type Q = Sql<Postgres>;

#[async_trait]
impl TenantStore for PgStore {
    async fn create_tenant(&self, new: &NewTenant) -> Result<Tenant> {
        let tenant = new_tenant(new);
        Q::insert(&tenant)
            .execute(&self.pool)
            .await
            .map_err(map_db_error)?;
        Ok(tenant)
    }

    async fn get_tenant(&self, id: TenantId) -> Result<Option<Tenant>> {
        let row = Q::get(id).fetch_optional(&self.pool).await?;
        Ok(row.map(Tenant::from))
    }

    async fn list_tenants(&self, after: Option<TenantId>, limit: u32) -> Result<Vec<Tenant>> {
        let rows = Q::list(after, limit).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(Tenant::from).collect())
    }

    async fn delete_tenant(&self, id: TenantId) -> Result<bool> {
        let mut tx = self.begin_scoped(Scope::Tenant(id)).await?;
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
