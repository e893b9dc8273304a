//! Keys and secrets on SQLite: the shared statements on the pool. SQLite serializes writers, so
//! the active-key guard of `put_secret` needs no row lock, and row ids compare bytewise already.

use async_trait::async_trait;
use sqlx::Sqlite;

use super::*;
use crate::store::{map_db_error, SqliteStore};

type Q = Sql<Sqlite>;

#[async_trait]
impl KeyStore for SqliteStore {
    async fn tenant_keys(&self, tenant: TenantId) -> Result<Vec<TenantKeyRecord>> {
        keys(
            sqlx::query_as(TENANT_KEYS)
                .bind(tenant)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn list_tenant_keys(&self) -> Result<Vec<TenantKeyRecord>> {
        keys(sqlx::query_as(ALL_KEYS).fetch_all(&self.pool).await?)
    }

    async fn insert_tenant_key(&self, key: &TenantKeyRecord) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        if key.active {
            sqlx::query(DEACTIVATE_KEYS)
                .bind(key.tenant)
                .execute(&mut *tx)
                .await?;
        }
        Q::insert_key(key)
            .execute(&mut *tx)
            .await
            .map_err(map_db_error)?;
        Ok(tx.commit().await?)
    }

    async fn rewrap_tenant_key(
        &self,
        key: &TenantKeyRecord,
        master_key_id: &str,
        wrapped: &[u8],
    ) -> Result<bool> {
        let updated = Q::rewrap_key(key, master_key_id, wrapped)
            .execute(&self.pool)
            .await?;
        Ok(updated.rows_affected() == 1)
    }

    async fn retire_tenant_key(&self, tenant: TenantId, version: u32) -> Result<bool> {
        let sql = retire_key_sql();
        let deleted = Q::retire_key(&sql, tenant, version)
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected() == 1)
    }

    async fn encrypted_cells(
        &self,
        c: &'static EncryptedColumn,
        tenant: TenantId,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<EncryptedCell>> {
        let sql = cells_sql(c, "");
        let page = sqlx::query_as(&sql).bind(tenant).bind(after.unwrap_or(""));
        Ok(page.bind(i64::from(limit)).fetch_all(&self.pool).await?)
    }

    async fn replace_encrypted(
        &self,
        c: &'static EncryptedColumn,
        tenant: TenantId,
        cells: &[Reencrypted],
    ) -> Result<u64> {
        let sql = replace_sql(c);
        let mut tx = self.pool.begin().await?;
        let mut replaced = 0;
        for cell in cells {
            let done = Q::replace_cell(&sql, tenant, cell)
                .execute(&mut *tx)
                .await?;
            replaced += done.rows_affected();
        }
        tx.commit().await?;
        Ok(replaced)
    }
}

#[async_trait]
impl SecretStore for SqliteStore {
    async fn put_secret(&self, tenant: TenantId, name: &str, ciphertext: &[u8]) -> Result<bool> {
        let version = crate::crypto::key_version(ciphertext)?;
        let sql = put_secret_sql("");
        let put = Q::put_secret(&sql, tenant, name, ciphertext, version);
        let written = put.execute(&self.pool).await.map_err(map_db_error)?;
        Ok(written.rows_affected() == 1)
    }

    async fn get_secret(&self, tenant: TenantId, name: &str) -> Result<Option<Vec<u8>>> {
        let query = sqlx::query_scalar(GET_SECRET).bind(tenant).bind(name);
        Ok(query.fetch_optional(&self.pool).await?)
    }

    async fn list_secret_names(&self, tenant: TenantId) -> Result<Vec<String>> {
        let query = sqlx::query_scalar(SECRET_NAMES).bind(tenant);
        Ok(query.fetch_all(&self.pool).await?)
    }

    async fn delete_secret(&self, tenant: TenantId, name: &str) -> Result<bool> {
        let query = sqlx::query(DELETE_SECRET).bind(tenant).bind(name);
        Ok(query.execute(&self.pool).await?.rows_affected() > 0)
    }
}
