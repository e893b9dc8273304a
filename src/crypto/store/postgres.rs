//! Keys and secrets on PostgreSQL, where `tenant_keys`, `tenant_secrets` and some registered
//! columns' tables (`user_totp`) have row-level security: a tenant's own paths run scoped to
//! that tenant; key rotation (listing every key, rewrapping, retiring, re-encrypting) runs in the
//! system scope, or `retire_tenant_key` would not see the cells that still use a key and would
//! delete it. `put_secret` locks the active key row (`FOR SHARE`) so it cannot be retired before
//! the write commits.

use async_trait::async_trait;
use sqlx::Postgres;

use super::*;
use crate::store::{map_db_error, PgStore, Scope};

type Q = Sql<Postgres>;

#[async_trait]
impl KeyStore for PgStore {
    async fn tenant_keys(&self, tenant: TenantId) -> Result<Vec<TenantKeyRecord>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let rows = sqlx::query_as(TENANT_KEYS)
            .bind(tenant)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        keys(rows)
    }

    async fn list_tenant_keys(&self) -> Result<Vec<TenantKeyRecord>> {
        let mut tx = self.begin_scoped(Scope::System).await?;
        let rows = sqlx::query_as(ALL_KEYS).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        keys(rows)
    }

    async fn insert_tenant_key(&self, key: &TenantKeyRecord) -> Result<()> {
        let mut tx = self.begin_scoped(Scope::Tenant(key.tenant)).await?;
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
        let mut tx = self.begin_scoped(Scope::System).await?;
        let updated = Q::rewrap_key(key, master_key_id, wrapped)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(updated.rows_affected() == 1)
    }

    async fn retire_tenant_key(&self, tenant: TenantId, version: u32) -> Result<bool> {
        let sql = retire_key_sql();
        let mut tx = self.begin_scoped(Scope::System).await?;
        let deleted = Q::retire_key(&sql, tenant, version)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(deleted.rows_affected() == 1)
    }

    async fn encrypted_cells(
        &self,
        c: &'static EncryptedColumn,
        tenant: TenantId,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<EncryptedCell>> {
        let sql = cells_sql(c, " COLLATE \"C\"");
        let mut tx = self.begin_scoped(Scope::System).await?;
        let page = sqlx::query_as(&sql).bind(tenant).bind(after.unwrap_or(""));
        let cells = page.bind(i64::from(limit)).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(cells)
    }

    async fn replace_encrypted(
        &self,
        c: &'static EncryptedColumn,
        tenant: TenantId,
        cells: &[Reencrypted],
    ) -> Result<u64> {
        let sql = replace_sql(c);
        let mut tx = self.begin_scoped(Scope::System).await?;
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
impl SecretStore for PgStore {
    async fn put_secret(&self, tenant: TenantId, name: &str, ciphertext: &[u8]) -> Result<bool> {
        let version = crate::crypto::key_version(ciphertext)?;
        let sql = put_secret_sql(" FOR SHARE");
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let put = Q::put_secret(&sql, tenant, name, ciphertext, version);
        let written = put.execute(&mut *tx).await.map_err(map_db_error)?;
        tx.commit().await?;
        Ok(written.rows_affected() == 1)
    }

    async fn get_secret(&self, tenant: TenantId, name: &str) -> Result<Option<Vec<u8>>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let query = sqlx::query_scalar(GET_SECRET).bind(tenant).bind(name);
        let value = query.fetch_optional(&mut *tx).await?;
        tx.commit().await?;
        Ok(value)
    }

    async fn list_secret_names(&self, tenant: TenantId) -> Result<Vec<String>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let names = sqlx::query_scalar(SECRET_NAMES)
            .bind(tenant)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(names)
    }

    async fn delete_secret(&self, tenant: TenantId, name: &str) -> Result<bool> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let query = sqlx::query(DELETE_SECRET).bind(tenant).bind(name);
        let deleted = query.execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        Ok(deleted > 0)
    }
}
