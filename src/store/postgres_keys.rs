//! PostgreSQL: tenant data keys, the generic access to encrypted columns that rotation uses, and the
//! tenant secrets table. Column and table names come from the crypto registry, never from input.
//!
//! Some registered columns live in tables with row-level security (`user_totp`): every statement
//! reaching registered columns runs in a system-scoped transaction (`auditpulse.tenant = '*'`), or
//! it would see none of their rows, and `retire_tenant_key` would delete a key still in use.

use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::Row;

use super::postgres::PgStore;
use super::{map_db_error, EncryptedCell, KeyStore, Reencrypted, Scope, SecretStore};
use crate::crypto::{EncryptedColumn, Header, TenantKeyRecord};
use crate::domain::{time, TenantId};
use crate::error::Result;

const KEY_COLUMNS: &str = "tenant_id, version, master_key_id, wrapped_key, active, created_at";

fn key_from_row(row: &PgRow) -> Result<TenantKeyRecord> {
    let version: i64 = row.try_get("version")?;
    Ok(TenantKeyRecord {
        tenant: TenantId::from_uuid(row.try_get("tenant_id")?),
        version: u32::try_from(version)
            .map_err(|_| anyhow::anyhow!("corrupt key version {version}"))?,
        master_key_id: row.try_get("master_key_id")?,
        wrapped: row.try_get("wrapped_key")?,
        active: row.try_get("active")?,
        created_at: row.try_get("created_at")?,
    })
}

#[async_trait]
impl KeyStore for PgStore {
    async fn tenant_keys(&self, tenant: TenantId) -> Result<Vec<TenantKeyRecord>> {
        sqlx::query(&format!(
            "SELECT {KEY_COLUMNS} FROM tenant_keys WHERE tenant_id = $1 ORDER BY version"
        ))
        .bind(tenant.as_uuid())
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
            sqlx::query("UPDATE tenant_keys SET active = FALSE WHERE tenant_id = $1")
                .bind(key.tenant.as_uuid())
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(&format!(
            "INSERT INTO tenant_keys ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
        ))
        .bind(key.tenant.as_uuid())
        .bind(i64::from(key.version))
        .bind(&key.master_key_id)
        .bind(&key.wrapped)
        .bind(key.active)
        .bind(key.created_at)
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
            "UPDATE tenant_keys SET master_key_id = $1, wrapped_key = $2 \
             WHERE tenant_id = $3 AND version = $4 AND master_key_id = $5 AND wrapped_key = $6",
        )
        .bind(master_key_id)
        .bind(wrapped)
        .bind(key.tenant.as_uuid())
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
            "DELETE FROM tenant_keys WHERE tenant_id = $1 AND version = $2 AND NOT active{}",
            super::unused_key_guards("substr", "$1", "$3")
        );
        let mut tx = self.begin_scoped(Scope::System).await?;
        let deleted = sqlx::query(&sql)
            .bind(tenant.as_uuid())
            .bind(i64::from(version))
            .bind(
                Header {
                    key_version: version,
                }
                .to_bytes()
                .to_vec(),
            )
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
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
             WHERE {tc} = $1 AND CAST({row} AS TEXT) COLLATE \"C\" > $2 \
             ORDER BY CAST({row} AS TEXT) COLLATE \"C\" LIMIT $3",
            row = c.row_id_column,
            col = c.column,
            table = c.table,
            tc = c.tenant_column,
        );
        let mut tx = self.begin_scoped(Scope::System).await?;
        let rows = sqlx::query(&sql)
            .bind(tenant.as_uuid())
            .bind(after.unwrap_or(""))
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
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
            "UPDATE {table} SET {col} = $1 WHERE {tc} = $2 AND CAST({row} AS TEXT) = $3 AND {col} = $4",
            row = c.row_id_column,
            col = c.column,
            table = c.table,
            tc = c.tenant_column,
        );
        let mut tx = self.begin_scoped(Scope::System).await?;
        let mut replaced = 0;
        for cell in cells {
            replaced += sqlx::query(&sql)
                .bind(&cell.new)
                .bind(tenant.as_uuid())
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
impl SecretStore for PgStore {
    async fn put_secret(&self, tenant: TenantId, name: &str, ciphertext: &[u8]) -> Result<bool> {
        let version = crate::crypto::key_version(ciphertext)?;
        let now = time::now();
        let written = sqlx::query(
            "INSERT INTO tenant_secrets (tenant_id, name, value_ciphertext, created_at, updated_at) \
             SELECT $1, $2, $3, $4, $4 WHERE EXISTS (SELECT 1 FROM tenant_keys \
             WHERE tenant_id = $1 AND version = $5 AND active FOR SHARE) \
             ON CONFLICT (tenant_id, name) DO UPDATE \
             SET value_ciphertext = excluded.value_ciphertext, updated_at = excluded.updated_at",
        )
        .bind(tenant.as_uuid())
        .bind(name)
        .bind(ciphertext)
        .bind(now)
        .bind(i64::from(version))
        .execute(&self.pool)
        .await
        .map_err(map_db_error)?
        .rows_affected();
        Ok(written == 1)
    }

    async fn get_secret(&self, tenant: TenantId, name: &str) -> Result<Option<Vec<u8>>> {
        Ok(sqlx::query_scalar(
            "SELECT value_ciphertext FROM tenant_secrets WHERE tenant_id = $1 AND name = $2",
        )
        .bind(tenant.as_uuid())
        .bind(name)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn list_secret_names(&self, tenant: TenantId) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar(
                "SELECT name FROM tenant_secrets WHERE tenant_id = $1 ORDER BY name",
            )
            .bind(tenant.as_uuid())
            .fetch_all(&self.pool)
            .await?,
        )
    }

    async fn delete_secret(&self, tenant: TenantId, name: &str) -> Result<bool> {
        let deleted = sqlx::query("DELETE FROM tenant_secrets WHERE tenant_id = $1 AND name = $2")
            .bind(tenant.as_uuid())
            .bind(name)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(deleted > 0)
    }
}
