//! Identity values as stored and as the API shows them. Pure, no I/O.

use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{ApiScope, Role};
use crate::domain::time::Timestamp;
use crate::domain::{ApiKeyId, SessionId, TenantId, UserId};
use crate::secret::SecretString;

/// The reserved tenant whose data key seals the encrypted fields of global system administrators
/// (users without a tenant). Created by migration 0005; never listed or deletable.
pub const SYSTEM_TENANT: &str = "00000000-0000-0000-0000-000000000000";

/// The form in which e-mails are compared and kept unique: trimmed, lowercased.
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A user account as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub display_name: Option<String>,
    /// `None` for a global system administrator.
    pub tenant_id: Option<TenantId>,
    /// `None` for a global system administrator.
    pub role: Option<Role>,
    pub system_admin: bool,
    pub active: bool,
    pub totp_enabled: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_login_at: Option<Timestamp>,
}

/// A validated user, ready to store.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: UserId,
    pub tenant_id: Option<TenantId>,
    pub email: String,
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub system_admin: bool,
    /// Argon2id PHC string.
    pub password_hash: SecretString,
    pub created_at: Timestamp,
}

/// A change to a user; `None` fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub role: Option<Role>,
    pub active: Option<bool>,
    /// `Some(None)` clears the display name.
    pub display_name: Option<Option<String>>,
}

/// What login needs about the account behind an e-mail.
#[derive(Debug, Clone)]
pub struct LoginRecord {
    pub user: User,
    pub password_hash: SecretString,
    /// The user's tenant requires two-factor authentication.
    pub tenant_requires_totp: bool,
}

/// Failed-login state of one e-mail key (whether or not such a user exists).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    /// Failures counted since `window_start`.
    pub failures: u32,
    pub window_start: Timestamp,
    /// Lockouts so far; each one lasts longer than the last.
    pub lockouts: u32,
    pub locked_until: Option<Timestamp>,
}

/// A user's TOTP secret as stored: ciphertext sealed with `key_tenant`'s data key.
#[derive(Debug, Clone)]
pub struct TotpRecord {
    pub key_tenant: TenantId,
    pub ciphertext: Vec<u8>,
    /// The last accepted 30-second step.
    pub last_step: Option<u64>,
}

/// A session to store.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: SessionId,
    pub user_id: UserId,
    pub tenant_id: Option<TenantId>,
    pub created_at: Timestamp,
    /// The absolute end of the session.
    pub expires_at: Timestamp,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A session as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub tenant_id: Option<TenantId>,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A session with what authenticating a request against it needs to know, read in one query.
#[derive(Debug, Clone)]
pub struct SessionState {
    pub session: Session,
    pub user: User,
    pub tenant_requires_totp: bool,
}

/// What presenting a refresh token did.
#[derive(Debug, Clone)]
pub enum RefreshOutcome {
    /// The token was current: it is now used and `new_hash` is the session's refresh token.
    Rotated(SessionState),
    /// The token had been used before: its session is now ended (reason `refresh_reuse`).
    Reused(SessionState),
    /// No such token (or its session was ended or deleted).
    Unknown,
}

/// An API key to store.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub id: ApiKeyId,
    pub tenant_id: TenantId,
    pub public_id: String,
    pub secret_hash: [u8; 32],
    pub name: String,
    pub scopes: Vec<ApiScope>,
    pub created_by: Option<UserId>,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
}

/// An API key as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ApiKey {
    pub id: ApiKeyId,
    /// Names the key in logs and lists (`ap_<public_id>_...`).
    pub public_id: String,
    pub name: String,
    pub scopes: Vec<ApiScope>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    #[serde(skip)]
    pub revoked_at: Option<Timestamp>,
}

/// What authenticating an API key needs: the key, its tenant and the stored secret hash.
#[derive(Debug, Clone)]
pub struct ApiKeyAuth {
    pub key: ApiKey,
    pub tenant_id: TenantId,
    pub secret_hash: Vec<u8>,
}
