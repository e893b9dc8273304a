//! Key and secret storage: tenant data keys (wrapped), generic access to the registered encrypted
//! columns for key rotation, and tenant secrets; the SQL both backends run.
//!
//! Invariant: table and column names in SQL come from the crypto registry, never from input; a
//! data key is retired only when no registered column still holds a ciphertext sealed by it, and a
//! secret is written only while the key that sealed it is the tenant's active key, both checked in
//! the writing statement itself.

mod postgres;
mod sqlite;

use std::marker::PhantomData;

use async_trait::async_trait;
use sqlx::{Database, Encode, Type};

use super::{EncryptedColumn, TenantKeyRecord, ENCRYPTED_COLUMNS};
use crate::domain::{time, TenantId};
use crate::error::Result;
use crate::store::{narrow, Bound, Time};

/// One encrypted cell, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EncryptedCell {
    pub row_id: String,
    pub ciphertext: Vec<u8>,
}

/// A cell to replace, if it still holds `old`.
#[derive(Debug, Clone)]
pub struct Reencrypted {
    pub row_id: String,
    pub old: Vec<u8>,
    pub new: Vec<u8>,
}

/// Tenant data keys (wrapped) and generic access to the registered encrypted columns, for the
/// keyring and key rotation only.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// One tenant's data keys, by version.
    async fn tenant_keys(&self, tenant: TenantId) -> Result<Vec<TenantKeyRecord>>;
    /// Every tenant's data keys, by tenant and version.
    async fn list_tenant_keys(&self) -> Result<Vec<TenantKeyRecord>>;
    /// Adds a data key; when it is active, the tenant's other keys are deactivated in the same
    /// transaction. A version that exists already is a `Conflict`.
    async fn insert_tenant_key(&self, key: &TenantKeyRecord) -> Result<()>;
    /// Stores a new wrapping of `key` if it is still wrapped as read; `false` if it changed.
    async fn rewrap_tenant_key(
        &self,
        key: &TenantKeyRecord,
        master_key_id: &str,
        wrapped: &[u8],
    ) -> Result<bool>;
    /// Deletes an inactive data key, only if no registered encrypted column still uses it.
    async fn retire_tenant_key(&self, tenant: TenantId, version: u32) -> Result<bool>;
    /// Cells of `column` for `tenant` with a row id after `after`, in row id order.
    async fn encrypted_cells(
        &self,
        column: &'static EncryptedColumn,
        tenant: TenantId,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<EncryptedCell>>;
    /// Replaces, in one transaction, the cells still holding their old ciphertext; returns how
    /// many were replaced (a cell written meanwhile is left as it is).
    async fn replace_encrypted(
        &self,
        column: &'static EncryptedColumn,
        tenant: TenantId,
        cells: &[Reencrypted],
    ) -> Result<u64>;
}

/// Encrypted named credentials per tenant; values are ciphertext made by the keyring.
#[async_trait]
pub trait SecretStore: Send + Sync {
    /// Inserts or replaces, only while the data key that sealed `ciphertext` is the tenant's
    /// active key; `false` when it is not (rotated meanwhile: encrypt again and retry). Checked
    /// in the writing statement, so a rotation never retires a key a concurrent write still uses.
    async fn put_secret(&self, tenant: TenantId, name: &str, ciphertext: &[u8]) -> Result<bool>;
    async fn get_secret(&self, tenant: TenantId, name: &str) -> Result<Option<Vec<u8>>>;
    async fn list_secret_names(&self, tenant: TenantId) -> Result<Vec<String>>;
    async fn delete_secret(&self, tenant: TenantId, name: &str) -> Result<bool>;
}

/// What the keyring needs: the data keys and the sealed secrets.
pub trait CryptoStore: KeyStore + SecretStore {}
impl<T: KeyStore + SecretStore + ?Sized> CryptoStore for T {}

const TENANT_KEYS: &str =
    "SELECT tenant_id, version, master_key_id, wrapped_key, active, created_at \
                           FROM tenant_keys WHERE tenant_id = $1 ORDER BY version";
const ALL_KEYS: &str = "SELECT tenant_id, version, master_key_id, wrapped_key, active, created_at \
                        FROM tenant_keys ORDER BY tenant_id, version";
const DEACTIVATE_KEYS: &str = "UPDATE tenant_keys SET active = FALSE WHERE tenant_id = $1";
const INSERT_KEY: &str = "INSERT INTO tenant_keys \
                          (tenant_id, version, master_key_id, wrapped_key, active, created_at) \
                          VALUES ($1, $2, $3, $4, $5, $6)";
const REWRAP_KEY: &str = "UPDATE tenant_keys SET master_key_id = $1, wrapped_key = $2 \
                          WHERE tenant_id = $3 AND version = $4 AND master_key_id = $5 AND wrapped_key = $6";

const GET_SECRET: &str =
    "SELECT value_ciphertext FROM tenant_secrets WHERE tenant_id = $1 AND name = $2";
const SECRET_NAMES: &str = "SELECT name FROM tenant_secrets WHERE tenant_id = $1 ORDER BY name";
const DELETE_SECRET: &str = "DELETE FROM tenant_secrets WHERE tenant_id = $1 AND name = $2";

/// The upsert of `put_secret`, guarded by the active key in the same statement; `key_lock` is
/// how the backend keeps that key from being retired before the write commits.
fn put_secret_sql(key_lock: &str) -> String {
    format!(
        "INSERT INTO tenant_secrets (tenant_id, name, value_ciphertext, created_at, updated_at) \
         SELECT $1, $2, $3, $4, $4 WHERE EXISTS (SELECT 1 FROM tenant_keys \
         WHERE tenant_id = $1 AND version = $5 AND active{key_lock}) \
         ON CONFLICT (tenant_id, name) DO UPDATE \
         SET value_ciphertext = excluded.value_ciphertext, updated_at = excluded.updated_at"
    )
}

/// Deletes an inactive key (`$1` tenant, `$2` version) unless a registered column holds a
/// ciphertext whose header (`$3`) names it.
fn retire_key_sql() -> String {
    let guards: String = ENCRYPTED_COLUMNS
        .iter()
        .map(|c| {
            format!(
                " AND NOT EXISTS (SELECT 1 FROM {table} WHERE {tc} = $1 AND substr({col}, 1, 5) = $3)",
                table = c.table,
                tc = c.tenant_column,
                col = c.column,
            )
        })
        .collect();
    format!("DELETE FROM tenant_keys WHERE tenant_id = $1 AND version = $2 AND NOT active{guards}")
}

/// A page of `c`'s cells in row id order; `collate` makes the backend compare row ids bytewise,
/// as Rust does, so pages neither skip nor repeat a row.
fn cells_sql(c: &EncryptedColumn, collate: &str) -> String {
    format!(
        "SELECT CAST({row} AS TEXT) AS row_id, {col} AS ciphertext FROM {table} \
         WHERE {tc} = $1 AND {col} IS NOT NULL AND CAST({row} AS TEXT){collate} > $2 \
         ORDER BY CAST({row} AS TEXT){collate} LIMIT $3",
        row = c.row_id_column,
        col = c.column,
        table = c.table,
        tc = c.tenant_column,
    )
}

/// Replaces one cell (`$1` new, `$2` tenant, `$3` row id) only if it still holds `$4`.
fn replace_sql(c: &EncryptedColumn) -> String {
    format!(
        "UPDATE {table} SET {col} = $1 WHERE {tc} = $2 AND CAST({row} AS TEXT) = $3 AND {col} = $4",
        row = c.row_id_column,
        col = c.column,
        table = c.table,
        tc = c.tenant_column,
    )
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    tenant_id: TenantId,
    version: i64,
    master_key_id: String,
    wrapped_key: Vec<u8>,
    active: bool,
    created_at: Time,
}

impl TryFrom<KeyRow> for TenantKeyRecord {
    type Error = crate::Error;
    fn try_from(row: KeyRow) -> Result<Self> {
        Ok(TenantKeyRecord {
            tenant: row.tenant_id,
            version: narrow("key version", row.version)?,
            master_key_id: row.master_key_id,
            wrapped: row.wrapped_key,
            active: row.active,
            created_at: row.created_at.0,
        })
    }
}

fn keys(rows: Vec<KeyRow>) -> Result<Vec<TenantKeyRecord>> {
    rows.into_iter().map(TenantKeyRecord::try_from).collect()
}

/// The writing statements with their values bound, the same on both backends.
struct Sql<DB>(PhantomData<DB>);

impl<'a, DB: Database> Sql<DB>
where
    TenantId: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
    bool: Encode<'a, DB> + Type<DB>,
    Time: Encode<'a, DB> + Type<DB>,
    &'a str: Encode<'a, DB> + Type<DB>,
    &'a [u8]: Encode<'a, DB> + Type<DB>,
    Vec<u8>: Encode<'a, DB> + Type<DB>,
{
    fn insert_key(key: &'a TenantKeyRecord) -> Bound<'a, DB> {
        sqlx::query(INSERT_KEY)
            .bind(key.tenant)
            .bind(i64::from(key.version))
            .bind(key.master_key_id.as_str())
            .bind(key.wrapped.as_slice())
            .bind(key.active)
            .bind(Time(key.created_at))
    }

    fn rewrap_key(
        key: &'a TenantKeyRecord,
        master_key_id: &'a str,
        wrapped: &'a [u8],
    ) -> Bound<'a, DB> {
        sqlx::query(REWRAP_KEY)
            .bind(master_key_id)
            .bind(wrapped)
            .bind(key.tenant)
            .bind(i64::from(key.version))
            .bind(key.master_key_id.as_str())
            .bind(key.wrapped.as_slice())
    }

    /// `sql` is [`retire_key_sql`]'s.
    fn retire_key(sql: &'a str, tenant: TenantId, version: u32) -> Bound<'a, DB> {
        let header = super::Header {
            key_version: version,
        };
        sqlx::query(sql)
            .bind(tenant)
            .bind(i64::from(version))
            .bind(header.to_bytes().to_vec())
    }

    /// `sql` is [`replace_sql`]'s.
    fn replace_cell(sql: &'a str, tenant: TenantId, cell: &'a Reencrypted) -> Bound<'a, DB> {
        sqlx::query(sql)
            .bind(cell.new.as_slice())
            .bind(tenant)
            .bind(cell.row_id.as_str())
            .bind(cell.old.as_slice())
    }

    /// `sql` is [`put_secret_sql`]'s; `version` is the key version `ciphertext` names.
    fn put_secret(
        sql: &'a str,
        tenant: TenantId,
        name: &'a str,
        ciphertext: &'a [u8],
        version: u32,
    ) -> Bound<'a, DB> {
        sqlx::query(sql)
            .bind(tenant)
            .bind(name)
            .bind(ciphertext)
            .bind(Time(time::now()))
            .bind(i64::from(version))
    }
}
