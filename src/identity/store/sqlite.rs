//! Identity storage on SQLite: the shared statements of [`Sql`] on the pool, plus what SQLite
//! does its own way.
//!
//! Invariant: read-then-write calls run in a transaction started with `BEGIN IMMEDIATE`, which
//! takes the database's write lock up front, so a concurrent writer waits (busy timeout) instead
//! of both reading and one failing on the lock upgrade; that lock is also why no statement here
//! needs `FOR UPDATE` (SQLite has none). Single-statement calls run on a pooled connection.
//! SQLite has no row-level security: the tenant filter in every scoped statement is the wall.

use async_trait::async_trait;
use sqlx::{Sqlite, SqliteConnection};

use super::totp::TotpSql;
use super::{IdentityStore, Scope, Sql};
use crate::domain::time::Timestamp;
use crate::domain::{ApiKeyId, SessionId, TenantId, UserId};
use crate::error::Result;
use crate::identity::{
    ApiKey, ApiKeyAuth, LoginRecord, NewApiKey, NewSession, NewUser, RefreshOutcome, Session,
    SessionState, Throttle, TotpRecord, User, UserPatch,
};
use crate::secret::SecretString;
use crate::store::SqliteStore;
use crate::tenants::{NewTenant, Tenant};

type Q = Sql<Sqlite>;

/// Under `BEGIN IMMEDIATE` the user row needs no lock of its own; the sealing key must be active
/// (`active` is an integer on SQLite).
const TOTP: TotpSql = TotpSql {
    lock_user: "SELECT tenant_id, totp_enabled FROM users WHERE id = $1 \
                AND ($2 IS NULL OR tenant_id = $2)",
    put_secret: "INSERT INTO user_totp (user_id, tenant_id, secret_ciphertext, last_step, \
                 created_at) SELECT $1, $2, $3, NULL, $4 WHERE EXISTS (SELECT 1 FROM tenant_keys \
                 WHERE tenant_id = $2 AND version = $5 AND active = 1) \
                 ON CONFLICT (user_id) DO UPDATE SET tenant_id = excluded.tenant_id, \
                 secret_ciphertext = excluded.secret_ciphertext, last_step = NULL, \
                 created_at = excluded.created_at",
};

/// The presented token's session; `BEGIN IMMEDIATE` already serializes presentations.
const FIND_REFRESH: &str = "SELECT sessions.id AS session_id, sessions.tenant_id AS tenant_id, \
    sessions.ended_at IS NOT NULL AS ended \
    FROM refresh_tokens JOIN sessions ON sessions.id = refresh_tokens.session_id \
    WHERE refresh_tokens.token_hash = $1";

/// Runs `f` in a transaction started with `BEGIN IMMEDIATE` (the write lock taken up front),
/// committed when it succeeds (dropped, so rolled back, when it fails).
async fn immediate<T>(
    store: &SqliteStore,
    f: impl AsyncFnOnce(&mut SqliteConnection) -> Result<T>,
) -> Result<T> {
    let mut tx = store.pool.begin_with("BEGIN IMMEDIATE").await?;
    let done = f(&mut tx).await?;
    tx.commit().await?;
    Ok(done)
}

#[async_trait]
impl IdentityStore for SqliteStore {
    async fn any_user(&self) -> Result<bool> {
        Q::any_user(&mut *self.pool.acquire().await?).await
    }

    async fn insert_user(&self, user: &NewUser) -> Result<User> {
        Q::insert_user(&mut *self.pool.acquire().await?, user).await
    }

    async fn login_record(&self, email_key: &str) -> Result<Option<LoginRecord>> {
        Q::login_record(&mut *self.pool.acquire().await?, email_key).await
    }

    async fn get_user(&self, scope: Scope, id: UserId) -> Result<Option<User>> {
        Q::get_user(&mut *self.pool.acquire().await?, scope, id).await
    }

    async fn password_hash(&self, scope: Scope, id: UserId) -> Result<Option<SecretString>> {
        Q::password_hash(&mut *self.pool.acquire().await?, scope, id).await
    }

    async fn list_users(
        &self,
        tenant: TenantId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<User>> {
        Q::list_users(&mut *self.pool.acquire().await?, tenant, after, limit).await
    }

    async fn update_user(
        &self,
        scope: Scope,
        id: UserId,
        patch: &UserPatch,
    ) -> Result<Option<User>> {
        Q::update_user(&mut *self.pool.acquire().await?, scope, id, patch).await
    }

    async fn delete_user(&self, scope: Scope, id: UserId) -> Result<bool> {
        Q::delete_user(&mut *self.pool.acquire().await?, scope, id).await
    }

    async fn set_password_hash(&self, scope: Scope, id: UserId, hash: &SecretString) -> Result<()> {
        Q::set_password_hash(&mut *self.pool.acquire().await?, scope, id, hash).await
    }

    async fn record_login(&self, scope: Scope, id: UserId, at: Timestamp) -> Result<()> {
        Q::record_login(&mut *self.pool.acquire().await?, scope, id, at).await
    }

    async fn login_throttle(&self, email_key: &str) -> Result<Option<Throttle>> {
        Q::login_throttle(&mut *self.pool.acquire().await?, email_key).await
    }

    async fn put_login_throttle(
        &self,
        email_key: &str,
        throttle: &Throttle,
        at: Timestamp,
    ) -> Result<()> {
        Q::put_login_throttle(&mut *self.pool.acquire().await?, email_key, throttle, at).await
    }

    async fn clear_login_throttle(&self, email_key: &str) -> Result<bool> {
        Q::clear_login_throttle(&mut *self.pool.acquire().await?, email_key).await
    }

    async fn put_totp_secret(
        &self,
        scope: Scope,
        user: UserId,
        key_tenant: TenantId,
        ciphertext: &[u8],
        at: Timestamp,
    ) -> Result<bool> {
        immediate(self, async |c| {
            Q::put_totp_secret(c, &TOTP, scope, user, key_tenant, ciphertext, at).await
        })
        .await
    }

    async fn totp_secret(&self, scope: Scope, user: UserId) -> Result<Option<TotpRecord>> {
        Q::totp_secret(&mut *self.pool.acquire().await?, scope, user).await
    }

    async fn use_totp_step(&self, scope: Scope, user: UserId, step: u64) -> Result<bool> {
        Q::use_totp_step(&mut *self.pool.acquire().await?, scope, user, step).await
    }

    async fn enable_totp(
        &self,
        scope: Scope,
        user: UserId,
        recovery_hashes: &[[u8; 32]],
    ) -> Result<()> {
        immediate(self, async |c| {
            Q::enable_totp(c, &TOTP, scope, user, recovery_hashes).await
        })
        .await
    }

    async fn disable_totp(&self, scope: Scope, user: UserId) -> Result<()> {
        immediate(self, async |c| Q::disable_totp(c, scope, user).await).await
    }

    async fn use_recovery_code(
        &self,
        scope: Scope,
        user: UserId,
        hash: &[u8; 32],
        at: Timestamp,
    ) -> Result<bool> {
        Q::use_recovery_code(&mut *self.pool.acquire().await?, scope, user, hash, at).await
    }

    async fn insert_session(&self, session: &NewSession, refresh_hash: &[u8; 32]) -> Result<()> {
        immediate(self, async |c| {
            Q::insert_session(c, session, refresh_hash).await
        })
        .await
    }

    async fn session_state(&self, id: SessionId) -> Result<Option<SessionState>> {
        Q::session_state(&mut *self.pool.acquire().await?, id).await
    }

    async fn touch_session(&self, id: SessionId, at: Timestamp) -> Result<()> {
        Q::touch_session(&mut *self.pool.acquire().await?, id, at).await
    }

    async fn list_sessions(&self, scope: Scope, user: UserId) -> Result<Vec<Session>> {
        Q::list_sessions(&mut *self.pool.acquire().await?, scope, user).await
    }

    async fn end_session(
        &self,
        scope: Scope,
        user: UserId,
        id: SessionId,
        reason: &str,
        at: Timestamp,
    ) -> Result<bool> {
        Q::end_session(
            &mut *self.pool.acquire().await?,
            scope,
            user,
            id,
            reason,
            at,
        )
        .await
    }

    async fn end_user_sessions(
        &self,
        scope: Scope,
        user: UserId,
        except: Option<SessionId>,
        reason: &str,
        at: Timestamp,
    ) -> Result<Vec<SessionId>> {
        Q::end_user_sessions(
            &mut *self.pool.acquire().await?,
            scope,
            user,
            except,
            reason,
            at,
        )
        .await
    }

    async fn rotate_refresh(
        &self,
        presented: &[u8; 32],
        new_hash: &[u8; 32],
        at: Timestamp,
    ) -> Result<RefreshOutcome> {
        immediate(self, async |c| {
            Q::rotate_refresh(c, FIND_REFRESH, presented, new_hash, at).await
        })
        .await
    }

    async fn insert_api_key(&self, key: &NewApiKey) -> Result<ApiKey> {
        Q::insert_api_key(&mut *self.pool.acquire().await?, key).await
    }

    async fn list_api_keys(&self, tenant: TenantId) -> Result<Vec<ApiKey>> {
        Q::list_api_keys(&mut *self.pool.acquire().await?, tenant).await
    }

    async fn revoke_api_key(&self, tenant: TenantId, id: ApiKeyId, at: Timestamp) -> Result<bool> {
        Q::revoke_api_key(&mut *self.pool.acquire().await?, tenant, id, at).await
    }

    async fn api_key_by_public_id(&self, public_id: &str) -> Result<Option<ApiKeyAuth>> {
        Q::api_key_by_public_id(&mut *self.pool.acquire().await?, public_id).await
    }

    async fn touch_api_key(&self, id: ApiKeyId, at: Timestamp) -> Result<()> {
        Q::touch_api_key(&mut *self.pool.acquire().await?, id, at).await
    }

    async fn tenant_requires_totp(&self, tenant: TenantId) -> Result<bool> {
        Q::tenant_requires_totp(&mut *self.pool.acquire().await?, tenant).await
    }

    async fn set_tenant_requires_totp(&self, tenant: TenantId, required: bool) -> Result<()> {
        Q::set_tenant_requires_totp(&mut *self.pool.acquire().await?, tenant, required).await
    }

    async fn tenant_time_zone(&self, tenant: TenantId) -> Result<String> {
        Q::tenant_time_zone(&mut *self.pool.acquire().await?, tenant).await
    }

    async fn set_tenant_time_zone(&self, tenant: TenantId, zone: &str) -> Result<()> {
        Q::set_tenant_time_zone(&mut *self.pool.acquire().await?, tenant, zone).await
    }

    async fn replace_setup_token(
        &self,
        hash: &[u8; 32],
        created_at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<()> {
        immediate(self, async |c| {
            Q::replace_setup_token(c, hash, created_at, expires_at).await
        })
        .await
    }

    async fn complete_setup(
        &self,
        hash: &[u8; 32],
        at: Timestamp,
        tenant: &NewTenant,
        user: &NewUser,
    ) -> Result<Option<(Tenant, User)>> {
        // Committed only when setup happened: every `None` rolls back, leaving nothing changed.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let done = Q::complete_setup(&mut tx, hash, at, tenant, user).await?;
        if done.is_some() {
            tx.commit().await?;
        }
        Ok(done)
    }
}
