//! The identity storage contract: users, login throttling, TOTP, sessions and refresh tokens, API
//! keys, first-run setup; its SQL, written once for both backends (`users`, `sessions`, `totp`,
//! `api_keys`, decoding through `rows`), and what each backend does its own way (`sqlite`,
//! `postgres`: how a transaction starts, is scoped for row-level security, and locks).
//!
//! Invariant: every method that reaches tenant-owned rows takes a [`Scope`], and filters by it on
//! both backends; on PostgreSQL the scope is also set as `auditpulse.tenant` for row-level security
//! in the same transaction. Handlers get a `Scope` only from the authenticated principal (see
//! `identity::TenantScope`); `Scope::System` is for the few paths that must look across tenants
//! (login by e-mail, token and key checks, setup, the CLI).

use std::marker::PhantomData;

use async_trait::async_trait;
use sqlx::postgres::PgQueryResult;
use sqlx::sqlite::SqliteQueryResult;

use crate::domain::time::Timestamp;
use crate::domain::{ApiKeyId, SessionId, TenantId, UserId};
use crate::error::Result;
use crate::identity::{
    ApiKey, ApiKeyAuth, LoginRecord, NewApiKey, NewSession, NewUser, RefreshOutcome, Session,
    SessionState, Throttle, TotpRecord, User, UserPatch,
};
use crate::tenants::{NewTenant, Tenant};

pub use crate::store::Scope;

mod api_keys;
mod postgres;
mod rows;
mod sessions;
mod sqlite;
mod totp;
mod users;

/// The identity statements both backends run alike, generic over the database: each backend
/// opens the transaction (`BEGIN IMMEDIATE` on SQLite, `PgStore::begin_scoped` on PostgreSQL),
/// runs these on its connection, and commits.
pub(crate) struct Sql<DB>(PhantomData<DB>);

/// How many rows a statement changed, on either backend (sqlx has no common trait for it).
pub(crate) trait Affected {
    fn rows(&self) -> u64;
}

impl Affected for SqliteQueryResult {
    fn rows(&self) -> u64 {
        self.rows_affected()
    }
}

impl Affected for PgQueryResult {
    fn rows(&self) -> u64 {
        self.rows_affected()
    }
}

#[async_trait]
pub trait IdentityStore: Send + Sync {
    // --- users -------------------------------------------------------------------------------
    /// Whether any user exists (first-run setup is open only while none does).
    async fn any_user(&self) -> Result<bool>;
    /// A duplicate e-mail (compared as `email_key`) is a `Conflict`.
    async fn insert_user(&self, user: &NewUser) -> Result<User>;
    /// The account behind an e-mail key, across tenants (login).
    async fn login_record(&self, email_key: &str) -> Result<Option<LoginRecord>>;
    async fn get_user(&self, scope: Scope, id: UserId) -> Result<Option<User>>;
    /// The stored Argon2id hash, to check a current password.
    async fn password_hash(
        &self,
        scope: Scope,
        id: UserId,
    ) -> Result<Option<crate::secret::SecretString>>;
    /// Users of one tenant in id (creation) order, after `after`, at most `limit`.
    async fn list_users(
        &self,
        tenant: TenantId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<User>>;
    /// `None` when no such user is in scope.
    async fn update_user(
        &self,
        scope: Scope,
        id: UserId,
        patch: &UserPatch,
    ) -> Result<Option<User>>;
    /// Deletes the user and, by cascade, their sessions, tokens, TOTP and recovery codes.
    async fn delete_user(&self, scope: Scope, id: UserId) -> Result<bool>;
    async fn set_password_hash(
        &self,
        scope: Scope,
        id: UserId,
        hash: &crate::secret::SecretString,
    ) -> Result<()>;
    async fn record_login(&self, scope: Scope, id: UserId, at: Timestamp) -> Result<()>;

    // --- login throttle (not tenant data: keyed by the e-mail tried) ---------------------------
    async fn login_throttle(&self, email_key: &str) -> Result<Option<Throttle>>;
    async fn put_login_throttle(
        &self,
        email_key: &str,
        throttle: &Throttle,
        at: Timestamp,
    ) -> Result<()>;
    /// `true` when there was state to clear.
    async fn clear_login_throttle(&self, email_key: &str) -> Result<bool>;

    // --- TOTP and recovery codes ---------------------------------------------------------------
    /// Stores a new (not yet enabled) secret, replacing a pending one; only while the data key
    /// that sealed it is `key_tenant`'s active key (`false` otherwise: seal again and retry).
    /// Refused with `Conflict` while TOTP is enabled.
    async fn put_totp_secret(
        &self,
        scope: Scope,
        user: UserId,
        key_tenant: TenantId,
        ciphertext: &[u8],
        at: Timestamp,
    ) -> Result<bool>;
    async fn totp_secret(&self, scope: Scope, user: UserId) -> Result<Option<TotpRecord>>;
    /// Records `step` as used if it is later than the last used step; `false` if it is not
    /// (a replay). Atomic: of two concurrent uses of one step, one wins.
    async fn use_totp_step(&self, scope: Scope, user: UserId, step: u64) -> Result<bool>;
    /// Turns TOTP on and replaces the recovery codes, in one transaction.
    async fn enable_totp(
        &self,
        scope: Scope,
        user: UserId,
        recovery_hashes: &[[u8; 32]],
    ) -> Result<()>;
    /// Turns TOTP off, deleting the secret and the recovery codes.
    async fn disable_totp(&self, scope: Scope, user: UserId) -> Result<()>;
    /// Marks an unused recovery code used; `false` if there is none with this hash.
    async fn use_recovery_code(
        &self,
        scope: Scope,
        user: UserId,
        hash: &[u8; 32],
        at: Timestamp,
    ) -> Result<bool>;

    // --- sessions and refresh tokens ----------------------------------------------------------
    /// Creates a session with its first refresh token.
    async fn insert_session(&self, session: &NewSession, refresh_hash: &[u8; 32]) -> Result<()>;
    /// The session and its user (whatever their state: callers check ended, idle, expiry, active).
    async fn session_state(&self, id: SessionId) -> Result<Option<SessionState>>;
    async fn touch_session(&self, id: SessionId, at: Timestamp) -> Result<()>;
    /// A user's sessions that have not ended, newest first.
    async fn list_sessions(&self, scope: Scope, user: UserId) -> Result<Vec<Session>>;
    /// Ends one of the user's sessions; `false` if it is not theirs, not in scope, or ended.
    async fn end_session(
        &self,
        scope: Scope,
        user: UserId,
        id: SessionId,
        reason: &str,
        at: Timestamp,
    ) -> Result<bool>;
    /// Ends all of the user's sessions but `except`; returns the ids ended.
    async fn end_user_sessions(
        &self,
        scope: Scope,
        user: UserId,
        except: Option<SessionId>,
        reason: &str,
        at: Timestamp,
    ) -> Result<Vec<SessionId>>;
    /// Presents a refresh token (by hash), in one transaction: a current token of a live session
    /// is marked used, `new_hash` is stored and the session touched; a used token ends its session.
    /// Idle and expiry checks are the caller's (it ends the session when they fail).
    async fn rotate_refresh(
        &self,
        presented: &[u8; 32],
        new_hash: &[u8; 32],
        at: Timestamp,
    ) -> Result<RefreshOutcome>;

    // --- API keys -----------------------------------------------------------------------------
    async fn insert_api_key(&self, key: &NewApiKey) -> Result<ApiKey>;
    /// The tenant's keys that are not revoked, oldest first.
    async fn list_api_keys(&self, tenant: TenantId) -> Result<Vec<ApiKey>>;
    /// `false` when no such unrevoked key is in the tenant.
    async fn revoke_api_key(&self, tenant: TenantId, id: ApiKeyId, at: Timestamp) -> Result<bool>;
    /// A key by its public id, across tenants (authentication), revoked or not.
    async fn api_key_by_public_id(&self, public_id: &str) -> Result<Option<ApiKeyAuth>>;
    async fn touch_api_key(&self, id: ApiKeyId, at: Timestamp) -> Result<()>;

    // --- tenant settings ----------------------------------------------------------------------
    async fn tenant_requires_totp(&self, tenant: TenantId) -> Result<bool>;
    async fn set_tenant_requires_totp(&self, tenant: TenantId, required: bool) -> Result<()>;
    /// The tenant's IANA time zone (`UTC` until set).
    async fn tenant_time_zone(&self, tenant: TenantId) -> Result<String>;
    async fn set_tenant_time_zone(&self, tenant: TenantId, zone: &str) -> Result<()>;

    // --- first-run setup ----------------------------------------------------------------------
    /// Replaces any unused setup token by this one.
    async fn replace_setup_token(
        &self,
        hash: &[u8; 32],
        created_at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<()>;
    /// In one transaction: if no user exists and `hash` names an unused, unexpired token, marks it
    /// used and creates the tenant and its first user (whose `tenant_id` is set to the new
    /// tenant's id, whatever `user` says). `None` otherwise (nothing changed).
    async fn complete_setup(
        &self,
        hash: &[u8; 32],
        at: Timestamp,
        tenant: &NewTenant,
        user: &NewUser,
    ) -> Result<Option<(Tenant, User)>>;
}

// --- what both backends store the same way ------------------------------------------------------

/// The text a role is stored as.
fn role_text(role: crate::auth::Role) -> &'static str {
    use crate::auth::Role;
    match role {
        Role::Viewer => "viewer",
        Role::Auditor => "auditor",
        Role::Admin => "admin",
    }
}

fn role_from_text(text: &str) -> Result<crate::auth::Role> {
    use crate::auth::Role;
    match text {
        "viewer" => Ok(Role::Viewer),
        "auditor" => Ok(Role::Auditor),
        "admin" => Ok(Role::Admin),
        other => Err(anyhow::anyhow!("corrupt role {other:?}").into()),
    }
}

/// API key scopes as stored: space-separated.
fn scopes_text(scopes: &[crate::auth::ApiScope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A scope this binary does not know (written by a newer one) grants nothing: it is skipped.
fn scopes_from_text(text: &str) -> Vec<crate::auth::ApiScope> {
    text.split_whitespace()
        .filter_map(|s| {
            let scope = crate::auth::ApiScope::parse(s);
            if scope.is_none() {
                tracing::warn!(scope = s, "ignoring an unknown API key scope");
            }
            scope
        })
        .collect()
}

/// The tenant whose data key must seal a user's TOTP secret: theirs, or the reserved system
/// tenant for a global administrator.
fn totp_key_tenant(user_tenant: Option<TenantId>) -> Result<TenantId> {
    match user_tenant {
        Some(tenant) => Ok(tenant),
        None => crate::identity::SYSTEM_TENANT
            .parse()
            .map_err(|e| anyhow::anyhow!("SYSTEM_TENANT is not a uuid: {e}").into()),
    }
}

/// A TOTP step as stored (a signed 64-bit column).
fn step_to_db(step: u64) -> Result<i64> {
    i64::try_from(step).map_err(|_| anyhow::anyhow!("TOTP step {step} out of range").into())
}

fn step_from_db(step: Option<i64>) -> Result<Option<u64>> {
    step.map(|s| u64::try_from(s).map_err(|_| anyhow::anyhow!("corrupt TOTP step {s}").into()))
        .transpose()
}

/// The user named in a scoped call is not there (or not in scope).
fn no_such_user() -> crate::error::Error {
    crate::error::Error::NotFound
}

fn totp_already_enabled() -> crate::error::Error {
    crate::error::Error::Conflict(
        "two-factor authentication is already enabled; disable it first".to_owned(),
    )
}

/// Refuses a TOTP secret sealed with another tenant's key than the one this user's must use.
fn check_totp_key_tenant(user_tenant: Option<TenantId>, key_tenant: TenantId) -> Result<()> {
    let expected = totp_key_tenant(user_tenant)?;
    if expected != key_tenant {
        return Err(anyhow::anyhow!(
            "a TOTP secret of this user must be sealed with tenant {expected}'s key, not {key_tenant}'s"
        )
        .into());
    }
    Ok(())
}

/// Why a session was ended when its refresh token came back after use.
const REFRESH_REUSE: &str = "refresh_reuse";

/// The first user as setup stores it: in the new tenant, an administrator of it.
fn setup_user(user: &NewUser, tenant: TenantId) -> NewUser {
    NewUser {
        tenant_id: Some(tenant),
        role: Some(user.role.unwrap_or(crate::auth::Role::Admin)),
        ..user.clone()
    }
}
