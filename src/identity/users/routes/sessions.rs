//! An administrator's levers on another account's access: clear its login lockout, list its
//! sessions, end one of them.
//!
//! Invariant: the user is looked up in the caller's tenant first, so another tenant's user, or a
//! session that is not this user's, answers 404 exactly like a missing one.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::{find, guard_system_admin};
use crate::auth::{Permission, Principal};
use crate::domain::time::{self, Timestamp};
use crate::domain::SessionId;
use crate::error::{Error, Result};
use crate::events::SecurityEventKind;
use crate::identity::admin::{emit, own_tenant, path_id};
use crate::identity::IdentityState;
use crate::identity::{email_key, Session, TenantScope};
use crate::web::ClientIp;

/// A login session as an administrator sees it: no token, only where and when.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserSession {
    pub id: SessionId,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub last_seen_at: Timestamp,
    /// The absolute end of the session.
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl From<Session> for UserSession {
    fn from(s: Session) -> Self {
        Self {
            id: s.id,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            expires_at: s.expires_at,
            ip: s.ip,
            user_agent: s.user_agent,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserSessions {
    /// Sessions that have not ended, newest first.
    pub items: Vec<UserSession>,
}

/// Clear the failed-login lockout of a user's e-mail, so they can log in again at once.
#[utoipa::path(post, path = "/api/v1/users/{id}/unlock", tag = "users",
    params(("id" = String, Path, description = "user id")),
    security(("bearer" = [])),
    responses((status = 204, description = "no lockout or failed-login count remains"),
        (status = 404, body = crate::web::ErrorEnvelope)))]
pub async fn unlock(
    State(state): State<IdentityState>,
    principal: Principal,
    scope: TenantScope,
    ip: ClientIp,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    principal.require(Permission::UsersWrite)?;
    let (tenant, scope) = own_tenant(&scope)?;
    let user = find(&state, scope, &id).await?;
    let cleared = state
        .store
        .clear_login_throttle(&email_key(&user.email))
        .await?;
    state.admin_action(
        &principal,
        ip,
        "user.unlock",
        Some(("user", user.id.to_string())),
        Some(tenant),
        json!({ "throttle_cleared": cleared }),
    );
    Ok(StatusCode::NO_CONTENT)
}

/// A user's sessions that have not ended.
#[utoipa::path(get, path = "/api/v1/users/{id}/sessions", tag = "users",
    params(("id" = String, Path, description = "user id")),
    security(("bearer" = [])),
    responses((status = 200, body = UserSessions), (status = 404, body = crate::web::ErrorEnvelope)))]
pub async fn list(
    State(state): State<IdentityState>,
    principal: Principal,
    scope: TenantScope,
    Path(id): Path<String>,
) -> Result<Json<UserSessions>> {
    principal.require(Permission::UsersRead)?;
    let (_, scope) = own_tenant(&scope)?;
    let user = find(&state, scope, &id).await?;
    let sessions = state.store.list_sessions(scope, user.id).await?;
    Ok(Json(UserSessions {
        items: sessions.into_iter().map(UserSession::from).collect(),
    }))
}

/// End one of a user's sessions: its access and refresh tokens stop working at once.
#[utoipa::path(delete, path = "/api/v1/users/{id}/sessions/{session_id}", tag = "users",
    params(("id" = String, Path, description = "user id"),
        ("session_id" = String, Path, description = "session id")),
    security(("bearer" = [])),
    responses((status = 204, description = "ended"), (status = 404, body = crate::web::ErrorEnvelope)))]
pub async fn end(
    State(state): State<IdentityState>,
    principal: Principal,
    scope: TenantScope,
    ip: ClientIp,
    Path((id, session_id)): Path<(String, String)>,
) -> Result<StatusCode> {
    principal.require(Permission::UsersWrite)?;
    let (tenant, scope) = own_tenant(&scope)?;
    let user = find(&state, scope, &id).await?;
    let session: SessionId = path_id(&session_id)?;
    guard_system_admin(&principal, &user)?;
    let reason = "ended_by_admin";
    if !state
        .store
        .end_session(scope, user.id, session, reason, time::now())
        .await?
    {
        return Err(Error::NotFound);
    }
    crate::identity::sessions_ended(&state, &[session]);
    let kind = SecurityEventKind::TokenRevoked {
        user: user.id.to_string(),
        tenant: Some(tenant),
        reason,
    };
    emit(&state, &principal, ip, kind);
    Ok(StatusCode::NO_CONTENT)
}
