//! `/api/v1/auth/sessions`, `/api/v1/auth/logout`, `/api/v1/auth/logout-all`: a user sees and ends
//! their own sessions.
//!
//! Invariant: a user reaches only their own sessions, through their `TenantScope`; another user's
//! session id answers 404 like an unknown one. Ended sessions are evicted from the cache at once.

pub mod refresh;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::auth::Principal;
use crate::domain::time::{self, Timestamp};
use crate::domain::{SessionId, UserId};
use crate::error::{Error, Result};
use crate::events::SecurityEventKind;
use crate::identity::request::{emit, session_user};
use crate::identity::sessions::cookie;
use crate::identity::sessions::service as sessions;
use crate::identity::IdentityState;
use crate::identity::TenantScope;
use crate::web::ClientIp;

/// One of the caller's sessions.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    pub id: SessionId,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub last_seen_at: Timestamp,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The session of this request's access token.
    pub current: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionList {
    pub items: Vec<SessionView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Ended {
    /// How many sessions were ended.
    pub ended: usize,
}

/// Reports that `user`'s sessions ended, by the user's own request.
fn report(
    state: &IdentityState,
    ip: ClientIp,
    principal: &Principal,
    route: &'static str,
    user: UserId,
    reason: &'static str,
) {
    let kind = SecurityEventKind::TokenRevoked {
        user: user.to_string(),
        tenant: principal.tenant,
        reason,
    };
    emit(state, ip, Some(principal.id.clone()), route, kind);
}

/// The caller's sessions that have not ended, newest first.
#[utoipa::path(get, path = "/api/v1/auth/sessions", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = SessionList), (status = 401, body = crate::web::ErrorEnvelope)))]
pub async fn list(
    State(state): State<IdentityState>,
    principal: Principal,
    scope: TenantScope,
) -> Result<Json<SessionList>> {
    let user = session_user(&principal)?;
    let items = state
        .store
        .list_sessions(scope.scope(), user)
        .await?
        .into_iter()
        .map(|s| SessionView {
            current: Some(s.id) == principal.session,
            id: s.id,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            ip: s.ip,
            user_agent: s.user_agent,
        })
        .collect();
    Ok(Json(SessionList { items }))
}

/// End one of the caller's sessions.
#[utoipa::path(delete, path = "/api/v1/auth/sessions/{id}", tag = "auth", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")),
    responses((status = 204, description = "ended"), (status = 404, body = crate::web::ErrorEnvelope)))]
pub async fn delete(
    State(state): State<IdentityState>,
    principal: Principal,
    scope: TenantScope,
    ip: ClientIp,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    let user = session_user(&principal)?;
    let id: SessionId = id.parse().map_err(|_| Error::NotFound)?;
    let reason = "session_revoked";
    let ended = state
        .store
        .end_session(scope.scope(), user, id, reason, time::now())
        .await?;
    if !ended {
        return Err(Error::NotFound);
    }
    sessions::ended(&state, &[id]);
    report(
        &state,
        ip,
        &principal,
        "/api/v1/auth/sessions/{id}",
        user,
        reason,
    );
    Ok(StatusCode::NO_CONTENT)
}

/// End this session; the refresh cookie is removed.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "logged out")))]
pub async fn logout(
    State(state): State<IdentityState>,
    principal: Principal,
    scope: TenantScope,
    ip: ClientIp,
) -> Result<Response> {
    let user = session_user(&principal)?;
    let id = principal.session.ok_or(Error::Forbidden)?;
    let reason = "logout";
    if state
        .store
        .end_session(scope.scope(), user, id, reason, time::now())
        .await?
    {
        report(&state, ip, &principal, "/api/v1/auth/logout", user, reason);
    }
    sessions::ended(&state, &[id]);
    let clear = cookie::clear(&state.config);
    Ok(([(header::SET_COOKIE, clear)], StatusCode::NO_CONTENT).into_response())
}

/// End every session of the caller, this one included; the refresh cookie is removed.
#[utoipa::path(post, path = "/api/v1/auth/logout-all", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Ended)))]
pub async fn logout_all(
    State(state): State<IdentityState>,
    principal: Principal,
    scope: TenantScope,
    ip: ClientIp,
) -> Result<Response> {
    let user = session_user(&principal)?;
    let reason = "logout_all";
    let ids = state
        .store
        .end_user_sessions(scope.scope(), user, None, reason, time::now())
        .await?;
    sessions::ended(&state, &ids);
    report(
        &state,
        ip,
        &principal,
        "/api/v1/auth/logout-all",
        user,
        reason,
    );
    let clear = cookie::clear(&state.config);
    let body = Json(Ended { ended: ids.len() });
    Ok(([(header::SET_COOKIE, clear)], body).into_response())
}
