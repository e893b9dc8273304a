//! API keys: the SQL both backends run alike, written once.
//!
//! Invariant: a tenant's keys are listed and revoked only with `tenant_id = $N`; only the
//! authentication path (by public id) and the last-use mark look across tenants.

use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};

use super::rows::{ApiKeyRow, API_KEY_COLUMNS};
use super::{scopes_text, Affected, Sql};
use crate::domain::time::Timestamp;
use crate::domain::{ApiKeyId, TenantId, UserId};
use crate::error::Result;
use crate::identity::{ApiKey, ApiKeyAuth, NewApiKey};
use crate::store::{map_db_error, Time};

impl<DB> Sql<DB>
where
    DB: Database,
    DB::QueryResult: Affected,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> UserId: Encode<'q, DB> + Type<DB>,
    for<'q> TenantId: Encode<'q, DB> + Type<DB>,
    for<'q> ApiKeyId: Encode<'q, DB> + Type<DB>,
    for<'q> Time: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> &'q [u8]: Encode<'q, DB> + Type<DB>,
    for<'q> Option<UserId>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<Time>: Encode<'q, DB> + Type<DB>,
    for<'r> ApiKeyRow: FromRow<'r, DB::Row>,
{
    pub(super) async fn insert_api_key(c: &mut DB::Connection, key: &NewApiKey) -> Result<ApiKey> {
        sqlx::query(&format!(
            "INSERT INTO api_keys ({API_KEY_COLUMNS}, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, NULL, $9)"
        ))
        .bind(key.id)
        .bind(key.tenant_id)
        .bind(&key.public_id)
        .bind(key.secret_hash.as_slice())
        .bind(&key.name)
        .bind(scopes_text(&key.scopes))
        .bind(Time(key.created_at))
        .bind(key.expires_at.map(Time))
        .bind(key.created_by)
        .execute(c)
        .await
        .map_err(map_db_error)?;
        Ok(ApiKey {
            id: key.id,
            public_id: key.public_id.clone(),
            name: key.name.clone(),
            scopes: key.scopes.clone(),
            created_at: key.created_at,
            last_used_at: None,
            expires_at: key.expires_at,
            revoked_at: None,
        })
    }

    pub(super) async fn list_api_keys(
        c: &mut DB::Connection,
        tenant: TenantId,
    ) -> Result<Vec<ApiKey>> {
        let rows: Vec<ApiKeyRow> = sqlx::query_as(&format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 AND revoked_at IS NULL \
             ORDER BY created_at, id"
        ))
        .bind(tenant)
        .fetch_all(c)
        .await?;
        Ok(rows.into_iter().map(|row| row.into_auth().key).collect())
    }

    pub(super) async fn revoke_api_key(
        c: &mut DB::Connection,
        tenant: TenantId,
        id: ApiKeyId,
        at: Timestamp,
    ) -> Result<bool> {
        let revoked = sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND tenant_id = $3 \
             AND revoked_at IS NULL",
        )
        .bind(Time(at))
        .bind(id)
        .bind(tenant)
        .execute(c)
        .await?;
        Ok(revoked.rows() == 1)
    }

    pub(super) async fn api_key_by_public_id(
        c: &mut DB::Connection,
        public_id: &str,
    ) -> Result<Option<ApiKeyAuth>> {
        let row: Option<ApiKeyRow> = sqlx::query_as(&format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE public_id = $1"
        ))
        .bind(public_id)
        .fetch_optional(c)
        .await?;
        Ok(row.map(ApiKeyRow::into_auth))
    }

    pub(super) async fn touch_api_key(
        c: &mut DB::Connection,
        id: ApiKeyId,
        at: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE api_keys SET last_used_at = $1 WHERE id = $2 \
             AND (last_used_at IS NULL OR last_used_at < $1)",
        )
        .bind(Time(at))
        .bind(id)
        .execute(c)
        .await?;
        Ok(())
    }
}
