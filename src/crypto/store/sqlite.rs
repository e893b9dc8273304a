//! Keys and secrets on SQLite: the shared SQL on the pool. SQLite serializes writers, so the
//! active-key guard of `put_secret` needs no row lock, and row ids compare bytewise already.

use async_trait::async_trait;

use super::*;
use crate::store::{map_db_error, SqliteStore};

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
        sqlx::query(INSERT_KEY)
            .bind(key.tenant)
            .bind(i64::from(key.version))
            .bind(&key.master_key_id)
            .bind(&key.wrapped)
            .bind(key.active)
            .bind(Time(key.created_at))
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
        let updated = sqlx::query(REWRAP_KEY)
            .bind(master_key_id)
            .bind(wrapped)
            .bind(key.tenant)
            .bind(i64::from(key.version))
            .bind(&key.master_key_id)
            .bind(&key.wrapped)
            .execute(&self.pool)
            .await?;
        Ok(updated.rows_affected() == 1)
    }

    async fn retire_tenant_key(&self, tenant: TenantId, version: u32) -> Result<bool> {
        let deleted = sqlx::query(&retire_key_sql())
            .bind(tenant)
            .bind(i64::from(version))
            .bind(header_of(version))
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
        Ok(sqlx::query_as(&cells_sql(c, ""))
            .bind(tenant)
            .bind(after.unwrap_or(""))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?)
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
            let query = sqlx::query(&sql).bind(&cell.new).bind(tenant);
            let done = query
                .bind(&cell.row_id)
                .bind(&cell.old)
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
        let written = sqlx::query(&put_secret_sql(""))
            .bind(tenant)
            .bind(name)
            .bind(ciphertext)
            .bind(Time(crate::domain::time::now()))
            .bind(i64::from(version))
            .execute(&self.pool)
            .await
            .map_err(map_db_error)?;
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
