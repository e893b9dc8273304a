//! Provider keys on SQLite: the shared SQL on the pool; the tenant filter isolates tenants. A
//! replacement runs in one `BEGIN IMMEDIATE` transaction, whose write lock also keeps a rotation
//! from retiring the sealing data key before it commits.

use async_trait::async_trait;
use sqlx::Sqlite;

use super::*;
use crate::store::{map_db_error, SqliteStore};

type Q = Sql<Sqlite>;

#[async_trait]
impl ProviderStore for SqliteStore {
    async fn put_provider_key(&self, row: &ProviderRow, key_version: u32) -> Result<Put> {
        let mut tx = self.begin_immediate().await?;
        let replaced = Q::replace(row.tenant_id, &row.provider)
            .fetch_optional(&mut *tx)
            .await?
            .map(|(id,)| id);
        let sql = insert_sql("");
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
        Ok(Q::list(tenant).fetch_all(&self.pool).await?)
    }

    async fn delete_provider_key(
        &self,
        tenant: TenantId,
        id: ProviderKeyId,
    ) -> Result<Option<String>> {
        let row = Q::delete(tenant, id).fetch_optional(&self.pool).await?;
        Ok(row.map(|(provider,)| provider))
    }

    async fn upstream_row(
        &self,
        tenant: TenantId,
        provider: Provider,
    ) -> Result<Option<UpstreamRow>> {
        let rows = Q::upstream(tenant, provider).fetch_all(&self.pool).await?;
        upstream(tenant, rows)
    }
}
