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
use sqlx::{PgConnection, Postgres};

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

/// Runs `f` in a transaction that row-level security limits to `scope`, committed when it succeeds
/// (dropped, so rolled back, when it fails).
async fn scoped<T>(
    store: &PgStore,
    scope: Scope,
    f: impl AsyncFnOnce(&mut PgConnection) -> Result<T>,
) -> Result<T> {
    let mut tx = store.begin_scoped(scope).await?;
    let done = f(&mut tx).await?;
    tx.commit().await?;
    Ok(done)
}

/// Serializes first-run setups (`pg_advisory_xact_lock` key; any fixed number would do).
const SETUP_LOCK: i64 = 0x0a0d_5e70;

#[async_trait]
impl IdentityStore for PgStore {
    async fn any_user(&self) -> Result<bool> {
        scoped(self, Scope::System, async |c| Q::any_user(c).await).await
    }

    async fn insert_user(&self, user: &NewUser) -> Result<User> {
        scoped(self, scope_of(user.tenant_id), async |c| {
            Q::insert_user(c, user).await
        })
        .await
    }

    async fn login_record(&self, email_key: &str) -> Result<Option<LoginRecord>> {
        scoped(self, Scope::System, async |c| {
            Q::login_record(c, email_key).await
        })
        .await
    }

    async fn get_user(&self, scope: Scope, id: UserId) -> Result<Option<User>> {
        scoped(self, scope, async |c| Q::get_user(c, scope, id).await).await
    }

    async fn password_hash(&self, scope: Scope, id: UserId) -> Result<Option<SecretString>> {
        scoped(self, scope, async |c| Q::password_hash(c, scope, id).await).await
    }

    async fn list_users(
        &self,
        tenant: TenantId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<User>> {
        scoped(self, Scope::Tenant(tenant), async |c| {
            Q::list_users(c, tenant, after, limit).await
        })
        .await
    }

    async fn update_user(
        &self,
        scope: Scope,
        id: UserId,
        patch: &UserPatch,
    ) -> Result<Option<User>> {
        scoped(self, scope, async |c| {
            Q::update_user(c, scope, id, patch).await
        })
        .await
    }

    async fn delete_user(&self, scope: Scope, id: UserId) -> Result<bool> {
        scoped(self, scope, async |c| Q::delete_user(c, scope, id).await).await
    }

    async fn set_password_hash(&self, scope: Scope, id: UserId, hash: &SecretString) -> Result<()> {
        scoped(self, scope, async |c| {
            Q::set_password_hash(c, scope, id, hash).await
        })
        .await
    }

    async fn record_login(&self, scope: Scope, id: UserId, at: Timestamp) -> Result<()> {
        scoped(self, scope, async |c| {
            Q::record_login(c, scope, id, at).await
        })
        .await
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
        scoped(self, scope, async |c| {
            Q::put_totp_secret(c, &TOTP, scope, user, key_tenant, ciphertext, at).await
        })
        .await
    }

    async fn totp_secret(&self, scope: Scope, user: UserId) -> Result<Option<TotpRecord>> {
        scoped(self, scope, async |c| Q::totp_secret(c, scope, user).await).await
    }

    async fn use_totp_step(&self, scope: Scope, user: UserId, step: u64) -> Result<bool> {
        scoped(self, scope, async |c| {
            Q::use_totp_step(c, scope, user, step).await
        })
        .await
    }

    async fn enable_totp(
        &self,
        scope: Scope,
        user: UserId,
        recovery_hashes: &[[u8; 32]],
    ) -> Result<()> {
        scoped(self, scope, async |c| {
            Q::enable_totp(c, &TOTP, scope, user, recovery_hashes).await
        })
        .await
    }

    async fn disable_totp(&self, scope: Scope, user: UserId) -> Result<()> {
        scoped(self, scope, async |c| Q::disable_totp(c, scope, user).await).await
    }

    async fn use_recovery_code(
        &self,
        scope: Scope,
        user: UserId,
        hash: &[u8; 32],
        at: Timestamp,
    ) -> Result<bool> {
        scoped(self, scope, async |c| {
            Q::use_recovery_code(c, scope, user, hash, at).await
        })
        .await
    }

    async fn insert_session(&self, session: &NewSession, refresh_hash: &[u8; 32]) -> Result<()> {
        scoped(self, scope_of(session.tenant_id), async |c| {
            Q::insert_session(c, session, refresh_hash).await
        })
        .await
    }

    async fn session_state(&self, id: SessionId) -> Result<Option<SessionState>> {
        scoped(self, Scope::System, async |c| Q::session_state(c, id).await).await
    }

    async fn touch_session(&self, id: SessionId, at: Timestamp) -> Result<()> {
        scoped(self, Scope::System, async |c| {
            Q::touch_session(c, id, at).await
        })
        .await
    }

    async fn list_sessions(&self, scope: Scope, user: UserId) -> Result<Vec<Session>> {
        scoped(self, scope, async |c| {
            Q::list_sessions(c, scope, user).await
        })
        .await
    }

    async fn end_session(
        &self,
        scope: Scope,
        user: UserId,
        id: SessionId,
        reason: &str,
        at: Timestamp,
    ) -> Result<bool> {
        scoped(self, scope, async |c| {
            Q::end_session(c, scope, user, id, reason, at).await
        })
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
        scoped(self, scope, async |c| {
            Q::end_user_sessions(c, scope, user, except, reason, at).await
        })
        .await
    }

    async fn rotate_refresh(
        &self,
        presented: &[u8; 32],
        new_hash: &[u8; 32],
        at: Timestamp,
    ) -> Result<RefreshOutcome> {
        scoped(self, Scope::System, async |c| {
            Q::rotate_refresh(c, FIND_REFRESH, presented, new_hash, at).await
        })
        .await
    }

    async fn insert_api_key(&self, key: &NewApiKey) -> Result<ApiKey> {
        scoped(self, Scope::Tenant(key.tenant_id), async |c| {
            Q::insert_api_key(c, key).await
        })
        .await
    }

    async fn list_api_keys(&self, tenant: TenantId) -> Result<Vec<ApiKey>> {
        scoped(self, Scope::Tenant(tenant), async |c| {
            Q::list_api_keys(c, tenant).await
        })
        .await
    }

    async fn revoke_api_key(&self, tenant: TenantId, id: ApiKeyId, at: Timestamp) -> Result<bool> {
        scoped(self, Scope::Tenant(tenant), async |c| {
            Q::revoke_api_key(c, tenant, id, at).await
        })
        .await
    }

    async fn api_key_by_public_id(&self, public_id: &str) -> Result<Option<ApiKeyAuth>> {
        scoped(self, Scope::System, async |c| {
            Q::api_key_by_public_id(c, public_id).await
        })
        .await
    }

    async fn touch_api_key(&self, id: ApiKeyId, at: Timestamp) -> Result<()> {
        scoped(self, Scope::System, async |c| {
            Q::touch_api_key(c, id, at).await
        })
        .await
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
