//! Provider keys on PostgreSQL (`llm_providers` has forced row-level security): every statement
//! runs in a transaction scoped to the caller's tenant. A replacement holds the sealing data
//! key's row `FOR SHARE`, so a rotation cannot deactivate or retire it before the write commits.

use async_trait::async_trait;
use sqlx::Postgres;

use super::*;
use crate::store::{map_db_error, PgStore, Scope};

type Q = Sql<Postgres>;

#[async_trait]
impl ProviderStore for PgStore {
    async fn put_provider_key(&self, row: &ProviderRow, key_version: u32) -> Result<Put> {
        let mut tx = self.begin_scoped(Scope::Tenant(row.tenant_id)).await?;
        let replaced = Q::replace(row.tenant_id, &row.provider)
            .fetch_optional(&mut *tx)
            .await?
            .map(|(id,)| id);
        let sql = insert_sql(" FOR SHARE");
        let done = Q::insert(&sql, row, key_version)
            .execute(&mut *tx)
            .await
            .map_err(map_db_error)?;
        if done.rows_affected() != 1 {
            return Ok(Put::StaleKey); // dropped: rolled back, the old key stays
        }
        tx.commit().await?;
        Ok(Put::Stored { replaced })
    }

    async fn provider_keys(&self, tenant: TenantId) -> Result<Vec<ProviderRow>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let rows = Q::list(tenant).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(rows)
    }

    async fn delete_provider_key(
        &self,
        tenant: TenantId,
        id: ProviderKeyId,
    ) -> Result<Option<String>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let row = Q::delete(tenant, id).fetch_optional(&mut *tx).await?;
        tx.commit().await?;
        Ok(row.map(|(provider,)| provider))
    }

    async fn upstream_row(
        &self,
        tenant: TenantId,
        provider: Provider,
    ) -> Result<Option<UpstreamRow>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let rows = Q::upstream(tenant, provider).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        upstream(tenant, rows)
    }
}
