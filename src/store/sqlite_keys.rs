//! SQLite: tenant data keys, the generic access to encrypted columns that rotation uses, and the
//! tenant secrets table. Column and table names come from the crypto registry, never from input.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use super::sqlite::SqliteStore;
use super::{map_db_error, EncryptedCell, KeyStore, Reencrypted, SecretStore};
use crate::crypto::{EncryptedColumn, Header, TenantKeyRecord};
use crate::domain::{time, TenantId};
use crate::error::Result;

const KEY_COLUMNS: &str = "tenant_id, version, master_key_id, wrapped_key, active, created_at";

fn key_from_row(row: &SqliteRow) -> Result<TenantKeyRecord> {
    let tenant: String = row.try_get("tenant_id")?;
    let version: i64 = row.try_get("version")?;
    let created: String = row.try_get("created_at")?;
    Ok(TenantKeyRecord {
        tenant: tenant
            .parse()
            .map_err(|e| anyhow::anyhow!("corrupt tenant id {tenant:?}: {e}"))?,
        version: u32::try_from(version)
            .map_err(|_| anyhow::anyhow!("corrupt key version {version}"))?,
        master_key_id: row.try_get("master_key_id")?,
        wrapped: row.try_get("wrapped_key")?,
        active: row.try_get("active")?,
        created_at: time::from_text(&created)
            .map_err(|e| anyhow::anyhow!("corrupt time {created:?}: {e}"))?,
    })
}

#[async_trait]
impl KeyStore for SqliteStore {
    async fn tenant_keys(&self, tenant: TenantId) -> Result<Vec<TenantKeyRecord>> {
        sqlx::query(&format!(
            "SELECT {KEY_COLUMNS} FROM tenant_keys WHERE tenant_id = ? ORDER BY version"
        ))
        .bind(tenant.to_string())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(key_from_row)
        .collect()
    }

    async fn list_tenant_keys(&self) -> Result<Vec<TenantKeyRecord>> {
        sqlx::query(&format!(
            "SELECT {KEY_COLUMNS} FROM tenant_keys ORDER BY tenant_id, version"
        ))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(key_from_row)
        .collect()
    }

    async fn insert_tenant_key(&self, key: &TenantKeyRecord) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        if key.active {
            sqlx::query("UPDATE tenant_keys SET active = 0 WHERE tenant_id = ?")
                .bind(key.tenant.to_string())
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(&format!(
            "INSERT INTO tenant_keys ({KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"
        ))
        .bind(key.tenant.to_string())
        .bind(i64::from(key.version))
        .bind(&key.master_key_id)
        .bind(&key.wrapped)
        .bind(key.active)
        .bind(time::to_text(&key.created_at))
        .execute(&mut *tx)
        .await
        .map_err(map_db_error)?;
        tx.commit().await?;
        Ok(())
    }

    async fn rewrap_tenant_key(
        &self,
        key: &TenantKeyRecord,
        master_key_id: &str,
        wrapped: &[u8],
    ) -> Result<bool> {
        let updated = sqlx::query(
            "UPDATE tenant_keys SET master_key_id = ?, wrapped_key = ? \
             WHERE tenant_id = ? AND version = ? AND master_key_id = ? AND wrapped_key = ?",
        )
        .bind(master_key_id)
        .bind(wrapped)
        .bind(key.tenant.to_string())
        .bind(i64::from(key.version))
        .bind(&key.master_key_id)
        .bind(&key.wrapped)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(updated == 1)
    }

    async fn retire_tenant_key(&self, tenant: TenantId, version: u32) -> Result<bool> {
        let sql = format!(
            "DELETE FROM tenant_keys WHERE tenant_id = ?1 AND version = ?2 AND active = 0{}",
            super::unused_key_guards("substr", "?1", "?3")
        );
        let deleted = sqlx::query(&sql)
            .bind(tenant.to_string())
            .bind(i64::from(version))
            .bind(
                Header {
                    key_version: version,
                }
                .to_bytes()
                .to_vec(),
            )
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(deleted == 1)
    }

    async fn encrypted_cells(
        &self,
        c: &'static EncryptedColumn,
        tenant: TenantId,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<EncryptedCell>> {
        let sql = format!(
            "SELECT CAST({row} AS TEXT) AS row_id, {col} AS ciphertext FROM {table} \
             WHERE {tc} = ? AND CAST({row} AS TEXT) > ? ORDER BY CAST({row} AS TEXT) LIMIT ?",
            row = c.row_id_column,
            col = c.column,
            table = c.table,
            tc = c.tenant_column,
        );
        let rows = sqlx::query(&sql)
            .bind(tenant.to_string())
            .bind(after.unwrap_or(""))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(EncryptedCell {
                    row_id: row.try_get("row_id")?,
                    ciphertext: row.try_get("ciphertext")?,
                })
            })
            .collect()
    }

    async fn replace_encrypted(
        &self,
        c: &'static EncryptedColumn,
        tenant: TenantId,
        cells: &[Reencrypted],
    ) -> Result<u64> {
        let sql = format!(
            "UPDATE {table} SET {col} = ? WHERE {tc} = ? AND CAST({row} AS TEXT) = ? AND {col} = ?",
            row = c.row_id_column,
            col = c.column,
            table = c.table,
            tc = c.tenant_column,
        );
        let mut tx = self.pool.begin().await?;
        let mut replaced = 0;
        for cell in cells {
            replaced += sqlx::query(&sql)
                .bind(&cell.new)
                .bind(tenant.to_string())
                .bind(&cell.row_id)
                .bind(&cell.old)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(replaced)
    }
}

#[async_trait]
impl SecretStore for SqliteStore {
    async fn put_secret(&self, tenant: TenantId, name: &str, ciphertext: &[u8]) -> Result<bool> {
        let version = crate::crypto::key_version(ciphertext)?;
        let now = time::to_text(&time::now());
        let written = sqlx::query(
            "INSERT INTO tenant_secrets (tenant_id, name, value_ciphertext, created_at, updated_at) \
             SELECT ?1, ?2, ?3, ?4, ?4 WHERE EXISTS (SELECT 1 FROM tenant_keys \
             WHERE tenant_id = ?1 AND version = ?5 AND active = 1) \
             ON CONFLICT (tenant_id, name) DO UPDATE \
             SET value_ciphertext = excluded.value_ciphertext, updated_at = excluded.updated_at",
        )
        .bind(tenant.to_string())
        .bind(name)
        .bind(ciphertext)
        .bind(&now)
        .bind(i64::from(version))
        .execute(&self.pool)
        .await
        .map_err(map_db_error)?
        .rows_affected();
        Ok(written == 1)
    }

    async fn get_secret(&self, tenant: TenantId, name: &str) -> Result<Option<Vec<u8>>> {
        Ok(sqlx::query_scalar(
            "SELECT value_ciphertext FROM tenant_secrets WHERE tenant_id = ? AND name = ?",
        )
        .bind(tenant.to_string())
        .bind(name)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn list_secret_names(&self, tenant: TenantId) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT name FROM tenant_secrets WHERE tenant_id = ? ORDER BY name")
                .bind(tenant.to_string())
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn delete_secret(&self, tenant: TenantId, name: &str) -> Result<bool> {
        let deleted = sqlx::query("DELETE FROM tenant_secrets WHERE tenant_id = ? AND name = ?")
            .bind(tenant.to_string())
            .bind(name)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(deleted > 0)
    }
}
