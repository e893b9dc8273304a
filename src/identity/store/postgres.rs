//! Identity storage on PostgreSQL: the shared statements of [`Sql`], each call in its own
//! transaction from [`PgStore::begin_scoped`], plus what PostgreSQL does its own way.
//!
//! Invariant: two walls keep tenants apart. Every scoped statement filters by the tenant, and
//! every statement on a table with row-level security (users, user_totp, recovery_codes,
//! sessions, refresh_tokens, api_keys) runs in a transaction that `begin_scoped` has set to the
//! caller's tenant, or to `*` for the system paths (login, token and key checks, setup) and a
//! global administrator's own rows. Read-then-write calls lock what they read (`FOR UPDATE`,
//! `FOR SHARE`, an advisory lock for setup), so a concurrent second use waits, then sees the
//! first's mark and matches nothing.

use async_trait::async_trait;
use sqlx::Postgres;

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
use crate::store::PgStore;
use crate::tenants::{NewTenant, Tenant};

type Q = Sql<Postgres>;

/// The row-level security scope of rows that belong to `tenant` (`None`: a global administrator's).
fn scope_of(tenant: Option<TenantId>) -> Scope {
    tenant.map_or(Scope::System, Scope::Tenant)
}

/// The user row is locked for the rest of the transaction; the sealing key's row is share-locked,
/// so a concurrent rotation cannot retire it under the write (see `put_secret`).
const TOTP: TotpSql = TotpSql {
    lock_user: "SELECT tenant_id, totp_enabled FROM users WHERE id = $1 \
                AND ($2 IS NULL OR tenant_id = $2) FOR UPDATE",
    put_secret: "INSERT INTO user_totp (user_id, tenant_id, secret_ciphertext, last_step, \
                 created_at) SELECT $1, $2, $3, NULL, $4 WHERE EXISTS (SELECT 1 FROM tenant_keys \
                 WHERE tenant_id = $2 AND version = $5 AND active FOR SHARE) \
                 ON CONFLICT (user_id) DO UPDATE SET tenant_id = excluded.tenant_id, \
                 secret_ciphertext = excluded.secret_ciphertext, last_step = NULL, \
                 created_at = excluded.created_at",
};

/// Locking the session serializes presentations of its tokens; after the wait, a presentation
/// sees the session as the one before it left it.
const FIND_REFRESH: &str = "SELECT sessions.id AS session_id, sessions.tenant_id AS tenant_id, \
    sessions.ended_at IS NOT NULL AS ended \
    FROM refresh_tokens JOIN sessions ON sessions.id = refresh_tokens.session_id \
    WHERE refresh_tokens.token_hash = $1 FOR UPDATE OF sessions";

/// Serializes first-run setups (`pg_advisory_xact_lock` key; any fixed number would do).
const SETUP_LOCK: i64 = 0x0a0d_5e70;

#[async_trait]
impl IdentityStore for PgStore {
    async fn any_user(&self) -> Result<bool> {
        let mut tx = self.begin_scoped(Scope::System).await?;
        let done = Q::any_user(&mut tx).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn insert_user(&self, user: &NewUser) -> Result<User> {
        let mut tx = self.begin_scoped(scope_of(user.tenant_id)).await?;
        let done = Q::insert_user(&mut tx, user).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn login_record(&self, email_key: &str) -> Result<Option<LoginRecord>> {
        let mut tx = self.begin_scoped(Scope::System).await?;
        let done = Q::login_record(&mut tx, email_key).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn get_user(&self, scope: Scope, id: UserId) -> Result<Option<User>> {
        let mut tx = self.begin_scoped(scope).await?;
        let done = Q::get_user(&mut tx, scope, id).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn password_hash(&self, scope: Scope, id: UserId) -> Result<Option<SecretString>> {
        let mut tx = self.begin_scoped(scope).await?;
        let done = Q::password_hash(&mut tx, scope, id).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn list_users(
        &self,
        tenant: TenantId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<User>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let done = Q::list_users(&mut tx, tenant, after, limit).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn update_user(
        &self,
        scope: Scope,
        id: UserId,
        patch: &UserPatch,
    ) -> Result<Option<User>> {
        let mut tx = self.begin_scoped(scope).await?;
        let done = Q::update_user(&mut tx, scope, id, patch).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn delete_user(&self, scope: Scope, id: UserId) -> Result<bool> {
        let mut tx = self.begin_scoped(scope).await?;
        let done = Q::delete_user(&mut tx, scope, id).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn set_password_hash(&self, scope: Scope, id: UserId, hash: &SecretString) -> Result<()> {
        let mut tx = self.begin_scoped(scope).await?;
        let done = Q::set_password_hash(&mut tx, scope, id, hash).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn record_login(&self, scope: Scope, id: UserId, at: Timestamp) -> Result<()> {
        let mut tx = self.begin_scoped(scope).await?;
        let done = Q::record_login(&mut tx, scope, id, at).await?;
        tx.commit().await?;
        Ok(done)
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
        let mut tx = self.begin_scoped(scope).await?;
        let done =
            Q::put_totp_secret(&mut tx, &TOTP, scope, user, key_tenant, ciphertext, at).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn totp_secret(&self, scope: Scope, user: UserId) -> Result<Option<TotpRecord>> {
        let mut tx = self.begin_scoped(scope).await?;
        let done = Q::totp_secret(&mut tx, scope, user).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn use_totp_step(&self, scope: Scope, user: UserId, step: u64) -> Result<bool> {
        let mut tx = self.begin_scoped(scope).await?;
        let done = Q::use_totp_step(&mut tx, scope, user, step).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn enable_totp(
        &self,
        scope: Scope,
        user: UserId,
        recovery_hashes: &[[u8; 32]],
    ) -> Result<()> {
        let mut tx = self.begin_scoped(scope).await?;
        let done = Q::enable_totp(&mut tx, &TOTP, scope, user, recovery_hashes).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn disable_totp(&self, scope: Scope, user: UserId) -> Result<()> {
        let mut tx = self.begin_scoped(scope).await?;
        let done = Q::disable_totp(&mut tx, scope, user).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn use_recovery_code(
        &self,
        scope: Scope,
        user: UserId,
        hash: &[u8; 32],
        at: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.begin_scoped(scope).await?;
        let done = Q::use_recovery_code(&mut tx, scope, user, hash, at).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn insert_session(&self, session: &NewSession, refresh_hash: &[u8; 32]) -> Result<()> {
        let mut tx = self.begin_scoped(scope_of(session.tenant_id)).await?;
        let done = Q::insert_session(&mut tx, session, refresh_hash).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn session_state(&self, id: SessionId) -> Result<Option<SessionState>> {
        let mut tx = self.begin_scoped(Scope::System).await?;
        let done = Q::session_state(&mut tx, id).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn touch_session(&self, id: SessionId, at: Timestamp) -> Result<()> {
        let mut tx = self.begin_scoped(Scope::System).await?;
        let done = Q::touch_session(&mut tx, id, at).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn list_sessions(&self, scope: Scope, user: UserId) -> Result<Vec<Session>> {
        let mut tx = self.begin_scoped(scope).await?;
        let done = Q::list_sessions(&mut tx, scope, user).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn end_session(
        &self,
        scope: Scope,
        user: UserId,
        id: SessionId,
        reason: &str,
        at: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.begin_scoped(scope).await?;
        let done = Q::end_session(&mut tx, scope, user, id, reason, at).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn end_user_sessions(
        &self,
        scope: Scope,
        user: UserId,
        except: Option<SessionId>,
        reason: &str,
        at: Timestamp,
    ) -> Result<Vec<SessionId>> {
        let mut tx = self.begin_scoped(scope).await?;
        let done = Q::end_user_sessions(&mut tx, scope, user, except, reason, at).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn rotate_refresh(
        &self,
        presented: &[u8; 32],
        new_hash: &[u8; 32],
        at: Timestamp,
    ) -> Result<RefreshOutcome> {
        let mut tx = self.begin_scoped(Scope::System).await?;
        let done = Q::rotate_refresh(&mut tx, FIND_REFRESH, presented, new_hash, at).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn insert_api_key(&self, key: &NewApiKey) -> Result<ApiKey> {
        let mut tx = self.begin_scoped(Scope::Tenant(key.tenant_id)).await?;
        let done = Q::insert_api_key(&mut tx, key).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn list_api_keys(&self, tenant: TenantId) -> Result<Vec<ApiKey>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let done = Q::list_api_keys(&mut tx, tenant).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn revoke_api_key(&self, tenant: TenantId, id: ApiKeyId, at: Timestamp) -> Result<bool> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let done = Q::revoke_api_key(&mut tx, tenant, id, at).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn api_key_by_public_id(&self, public_id: &str) -> Result<Option<ApiKeyAuth>> {
        let mut tx = self.begin_scoped(Scope::System).await?;
        let done = Q::api_key_by_public_id(&mut tx, public_id).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn touch_api_key(&self, id: ApiKeyId, at: Timestamp) -> Result<()> {
        let mut tx = self.begin_scoped(Scope::System).await?;
        let done = Q::touch_api_key(&mut tx, id, at).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn tenant_requires_totp(&self, tenant: TenantId) -> Result<bool> {
        Q::tenant_requires_totp(&mut *self.pool.acquire().await?, tenant).await
    }

    async fn set_tenant_requires_totp(&self, tenant: TenantId, required: bool) -> Result<()> {
        Q::set_tenant_requires_totp(&mut *self.pool.acquire().await?, tenant, required).await
    }

    async fn replace_setup_token(
        &self,
        hash: &[u8; 32],
        created_at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<()> {
        // `setup_tokens` has no row-level security: no tenant owns it.
        let mut tx = self.pool.begin().await?;
        let done = Q::replace_setup_token(&mut tx, hash, created_at, expires_at).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn complete_setup(
        &self,
        hash: &[u8; 32],
        at: Timestamp,
        tenant: &NewTenant,
        user: &NewUser,
    ) -> Result<Option<(Tenant, User)>> {
        // Committed only when setup happened: every `None` rolls back, leaving nothing changed.
        let mut tx = self.begin_scoped(Scope::System).await?;
        // Two setups at once (several instances) take turns, so the second sees the first's user.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(SETUP_LOCK)
            .execute(&mut *tx)
            .await?;
        let done = Q::complete_setup(&mut tx, hash, at, tenant, user).await?;
        if done.is_some() {
            tx.commit().await?;
        }
        Ok(done)
    }
}
