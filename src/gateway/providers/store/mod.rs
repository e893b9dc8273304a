//! Provider-key storage: the SQL both backends run, with its values bound once in [`Sql`].
//!
//! Invariant: every statement filters by the caller's tenant; a key is written only while the
//! data key that sealed it is the tenant's active key (checked in the writing statement, held
//! until commit), and the proxy's look-up reads the sealed key and the tenant's data keys in one
//! statement, so a rotation can never leave it holding a ciphertext without its key.

mod postgres;
mod sqlite;

use std::marker::PhantomData;

use async_trait::async_trait;
use sqlx::{Database, Encode, FromRow, Type};

use crate::crypto::TenantKeyRecord;
use crate::domain::{ProviderKeyId, TenantId};
use crate::error::Result;
use crate::gateway::Provider;
use crate::store::codec::sql_id;
use crate::store::{narrow, Bound, BoundAs, Time};

sql_id!(ProviderKeyId);

/// A provider key as stored (the API key sealed).
#[derive(Debug, Clone, FromRow)]
pub struct ProviderRow {
    pub id: ProviderKeyId,
    pub tenant_id: TenantId,
    pub provider: String,
    pub label: Option<String>,
    #[sqlx(default)]
    pub api_key_ciphertext: Vec<u8>,
    pub key_hint: String,
    pub base_url: Option<String>,
    /// A JSON array of model names; `None` for every model.
    pub allowed_models: Option<String>,
    pub created_at: Time,
    pub created_by: String,
}

/// What [`ProviderStore::put_provider_key`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    /// Stored; the id of the key it replaced, if the provider had one.
    Stored { replaced: Option<ProviderKeyId> },
    /// The data key that sealed it is no longer active (a rotation ran): seal again.
    StaleKey,
}

/// The proxy's look-up: the sealed key with its settings, and the tenant's data keys.
#[derive(Debug)]
pub struct UpstreamRow {
    /// The key's row id, which its ciphertext is bound to.
    pub id: ProviderKeyId,
    pub api_key_ciphertext: Vec<u8>,
    pub base_url: Option<String>,
    pub allowed_models: Option<String>,
    pub keys: Vec<TenantKeyRecord>,
}

#[async_trait]
pub trait ProviderStore: Send + Sync {
    /// Stores `row` as the tenant's key for its provider, replacing any previous one in the same
    /// transaction, if `key_version` (the data key that sealed it) is still active.
    async fn put_provider_key(&self, row: &ProviderRow, key_version: u32) -> Result<Put>;
    /// The tenant's keys (without ciphertext), by provider.
    async fn provider_keys(&self, tenant: TenantId) -> Result<Vec<ProviderRow>>;
    /// Deletes one key; its provider, `None` if the tenant has no such key.
    async fn delete_provider_key(
        &self,
        tenant: TenantId,
        id: ProviderKeyId,
    ) -> Result<Option<String>>;
    /// The tenant's key for `provider` with every data key of the tenant, in one statement.
    async fn upstream_row(
        &self,
        tenant: TenantId,
        provider: Provider,
    ) -> Result<Option<UpstreamRow>>;
}

const LIST: &str = "SELECT id, tenant_id, provider, label, key_hint, base_url, allowed_models, \
     created_at, created_by FROM llm_providers WHERE tenant_id = $1 ORDER BY provider";

const DELETE: &str =
    "DELETE FROM llm_providers WHERE tenant_id = $1 AND id = $2 RETURNING provider";

const REPLACE: &str =
    "DELETE FROM llm_providers WHERE tenant_id = $1 AND provider = $2 RETURNING id";

/// The insert, guarded by the sealing data key (`$11`) being active; `key_lock` is how the
/// backend keeps that key from being retired before the write commits.
fn insert_sql(key_lock: &str) -> String {
    format!(
        "INSERT INTO llm_providers (id, tenant_id, provider, label, api_key_ciphertext, key_hint, \
         base_url, allowed_models, created_at, created_by) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 WHERE EXISTS (SELECT 1 FROM tenant_keys \
         WHERE tenant_id = $2 AND version = $11 AND active{key_lock})"
    )
}

/// One row per data key of the tenant (one or two), each carrying the provider's row; the
/// unique (tenant, provider) index finds it.
const UPSTREAM: &str = "SELECT p.id, p.api_key_ciphertext, p.base_url, p.allowed_models, \
     k.version AS key_version, k.master_key_id, k.wrapped_key, k.active, \
     k.created_at AS key_created_at \
     FROM llm_providers p JOIN tenant_keys k ON k.tenant_id = p.tenant_id \
     WHERE p.tenant_id = $1 AND p.provider = $2 ORDER BY k.version";

#[derive(FromRow)]
struct UpstreamKeyRow {
    id: ProviderKeyId,
    api_key_ciphertext: Vec<u8>,
    base_url: Option<String>,
    allowed_models: Option<String>,
    key_version: i64,
    master_key_id: String,
    wrapped_key: Vec<u8>,
    active: bool,
    key_created_at: Time,
}

/// The joined rows as one look-up; `None` when the tenant has no key for the provider.
fn upstream(tenant: TenantId, rows: Vec<UpstreamKeyRow>) -> Result<Option<UpstreamRow>> {
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let mut found = UpstreamRow {
        id: first.id,
        api_key_ciphertext: first.api_key_ciphertext.clone(),
        base_url: first.base_url.clone(),
        allowed_models: first.allowed_models.clone(),
        keys: Vec::with_capacity(rows.len()),
    };
    for row in rows {
        found.keys.push(TenantKeyRecord {
            tenant,
            version: narrow("key version", row.key_version)?,
            master_key_id: row.master_key_id,
            wrapped: row.wrapped_key,
            active: row.active,
            created_at: row.key_created_at.0,
        });
    }
    Ok(Some(found))
}

/// The statements with their values bound, the same on both backends.
struct Sql<DB>(PhantomData<DB>);

impl<'a, DB: Database> Sql<DB>
where
    ProviderKeyId: Encode<'a, DB> + Type<DB>,
    TenantId: Encode<'a, DB> + Type<DB>,
    Time: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
    &'a str: Encode<'a, DB> + Type<DB>,
    Option<&'a str>: Encode<'a, DB> + Type<DB>,
    &'a [u8]: Encode<'a, DB> + Type<DB>,
    ProviderRow: for<'r> FromRow<'r, DB::Row>,
    UpstreamKeyRow: for<'r> FromRow<'r, DB::Row>,
    (ProviderKeyId,): for<'r> FromRow<'r, DB::Row>,
    (String,): for<'r> FromRow<'r, DB::Row>,
{
    fn replace(tenant: TenantId, provider: &'a str) -> BoundAs<'a, DB, (ProviderKeyId,)> {
        sqlx::query_as(REPLACE).bind(tenant).bind(provider)
    }

    /// `sql` is [`insert_sql`]'s.
    fn insert(sql: &'a str, row: &'a ProviderRow, key_version: u32) -> Bound<'a, DB> {
        sqlx::query(sql)
            .bind(row.id)
            .bind(row.tenant_id)
            .bind(row.provider.as_str())
            .bind(row.label.as_deref())
            .bind(row.api_key_ciphertext.as_slice())
            .bind(row.key_hint.as_str())
            .bind(row.base_url.as_deref())
            .bind(row.allowed_models.as_deref())
            .bind(row.created_at)
            .bind(row.created_by.as_str())
            .bind(i64::from(key_version))
    }

    fn list(tenant: TenantId) -> BoundAs<'a, DB, ProviderRow> {
        sqlx::query_as(LIST).bind(tenant)
    }

    fn delete(tenant: TenantId, id: ProviderKeyId) -> BoundAs<'a, DB, (String,)> {
        sqlx::query_as(DELETE).bind(tenant).bind(id)
    }

    fn upstream(tenant: TenantId, provider: Provider) -> BoundAs<'a, DB, UpstreamKeyRow> {
        sqlx::query_as(UPSTREAM)
            .bind(tenant)
            .bind(provider.as_str())
    }
}
