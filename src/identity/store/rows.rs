//! Identity rows as both backends return them, decoded by `FromRow` through the shared codecs, and
//! turned into the identity model.
//!
//! Invariant: a row decodes the same on SQLite and PostgreSQL; what is stored as text (roles, API
//! key scopes) is parsed here and nowhere else, and a corrupt value is an error, never a default.

use crate::domain::{ApiKeyId, SessionId, TenantId, UserId};
use crate::error::Result;
use crate::identity::{ApiKey, ApiKeyAuth, Session, SessionState, Throttle, User};
use crate::store::Time;

use super::{role_from_text, scopes_from_text};

/// Columns of `users`, aliased so they never collide in a join; decoded by [`UserRow`].
pub(super) const USER_COLUMNS: &str = "users.id AS u_id, users.tenant_id AS u_tenant_id, \
    users.email AS u_email, users.display_name AS u_display_name, users.role AS u_role, \
    users.system_admin AS u_system_admin, users.active AS u_active, \
    users.totp_enabled AS u_totp_enabled, users.created_at AS u_created_at, \
    users.last_login_at AS u_last_login_at";

/// [`USER_COLUMNS`] as a `RETURNING` list (unqualified: the updated table only).
pub(super) const USER_RETURNING: &str = "id AS u_id, tenant_id AS u_tenant_id, \
    email AS u_email, display_name AS u_display_name, role AS u_role, \
    system_admin AS u_system_admin, active AS u_active, totp_enabled AS u_totp_enabled, \
    created_at AS u_created_at, last_login_at AS u_last_login_at";

/// Columns of `sessions`, aliased like [`USER_COLUMNS`]; decoded by [`SessionRow`].
pub(super) const SESSION_COLUMNS: &str = "sessions.id AS s_id, sessions.user_id AS s_user_id, \
    sessions.tenant_id AS s_tenant_id, sessions.created_at AS s_created_at, \
    sessions.last_seen_at AS s_last_seen_at, sessions.expires_at AS s_expires_at, \
    sessions.ended_at AS s_ended_at, sessions.ip AS s_ip, sessions.user_agent AS s_user_agent";

/// Columns of `api_keys`; decoded by [`ApiKeyRow`].
pub(super) const API_KEY_COLUMNS: &str = "id, tenant_id, public_id, secret_hash, name, scopes, \
    created_at, last_used_at, expires_at, revoked_at";

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    u_id: UserId,
    u_tenant_id: Option<TenantId>,
    u_email: String,
    u_display_name: Option<String>,
    u_role: Option<String>,
    u_system_admin: bool,
    u_active: bool,
    u_totp_enabled: bool,
    u_created_at: Time,
    u_last_login_at: Option<Time>,
}

impl UserRow {
    pub(super) fn into_user(self) -> Result<User> {
        Ok(User {
            id: self.u_id,
            email: self.u_email,
            display_name: self.u_display_name,
            tenant_id: self.u_tenant_id,
            role: self.u_role.as_deref().map(role_from_text).transpose()?,
            system_admin: self.u_system_admin,
            active: self.u_active,
            totp_enabled: self.u_totp_enabled,
            created_at: self.u_created_at.0,
            last_login_at: self.u_last_login_at.map(|t| t.0),
        })
    }
}

/// A user with what login needs besides: the stored hash and the tenant's TOTP policy.
#[derive(sqlx::FromRow)]
pub(crate) struct LoginRow {
    #[sqlx(flatten)]
    pub(super) user: UserRow,
    pub(super) password_hash: String,
    pub(super) require_totp: bool,
}

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    s_id: SessionId,
    s_user_id: UserId,
    s_tenant_id: Option<TenantId>,
    s_created_at: Time,
    s_last_seen_at: Time,
    s_expires_at: Time,
    s_ended_at: Option<Time>,
    s_ip: Option<String>,
    s_user_agent: Option<String>,
}

impl From<SessionRow> for Session {
    fn from(row: SessionRow) -> Self {
        Session {
            id: row.s_id,
            user_id: row.s_user_id,
            tenant_id: row.s_tenant_id,
            created_at: row.s_created_at.0,
            last_seen_at: row.s_last_seen_at.0,
            expires_at: row.s_expires_at.0,
            ended_at: row.s_ended_at.map(|t| t.0),
            ip: row.s_ip,
            user_agent: row.s_user_agent,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SessionStateRow {
    #[sqlx(flatten)]
    session: SessionRow,
    #[sqlx(flatten)]
    user: UserRow,
    require_totp: bool,
}

impl SessionStateRow {
    pub(super) fn into_state(self) -> Result<SessionState> {
        Ok(SessionState {
            session: self.session.into(),
            user: self.user.into_user()?,
            tenant_requires_totp: self.require_totp,
        })
    }
}

/// The session a presented refresh token belongs to.
#[derive(sqlx::FromRow)]
pub(crate) struct RefreshRow {
    pub(super) session_id: SessionId,
    pub(super) tenant_id: Option<TenantId>,
    pub(super) ended: bool,
}

/// The tenant and TOTP flag of a user, for the TOTP writes.
#[derive(sqlx::FromRow)]
pub(crate) struct UserTotpState {
    pub(super) tenant_id: Option<TenantId>,
    pub(super) totp_enabled: bool,
}

#[derive(sqlx::FromRow)]
pub(crate) struct TotpRow {
    pub(super) tenant_id: TenantId,
    pub(super) secret_ciphertext: Vec<u8>,
    pub(super) last_step: Option<i64>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct ThrottleRow {
    failures: i32,
    window_start: Time,
    lockouts: i32,
    locked_until: Option<Time>,
}

fn count(n: i32) -> Result<u32> {
    u32::try_from(n).map_err(|_| anyhow::anyhow!("corrupt counter {n}").into())
}

/// A counter as stored (a signed 32-bit column).
pub(super) fn counter(n: u32) -> Result<i32> {
    i32::try_from(n).map_err(|_| anyhow::anyhow!("counter {n} out of range").into())
}

impl ThrottleRow {
    pub(super) fn into_throttle(self) -> Result<Throttle> {
        Ok(Throttle {
            failures: count(self.failures)?,
            window_start: self.window_start.0,
            lockouts: count(self.lockouts)?,
            locked_until: self.locked_until.map(|t| t.0),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ApiKeyRow {
    id: ApiKeyId,
    tenant_id: TenantId,
    public_id: String,
    secret_hash: Vec<u8>,
    name: String,
    scopes: String,
    created_at: Time,
    last_used_at: Option<Time>,
    expires_at: Option<Time>,
    revoked_at: Option<Time>,
}

impl ApiKeyRow {
    pub(super) fn into_auth(self) -> ApiKeyAuth {
        ApiKeyAuth {
            tenant_id: self.tenant_id,
            key: ApiKey {
                id: self.id,
                public_id: self.public_id,
                name: self.name,
                scopes: scopes_from_text(&self.scopes),
                created_at: self.created_at.0,
                last_used_at: self.last_used_at.map(|t| t.0),
                expires_at: self.expires_at.map(|t| t.0),
                revoked_at: self.revoked_at.map(|t| t.0),
            },
            secret_hash: self.secret_hash,
        }
    }
}
