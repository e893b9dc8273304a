//! `POST /api/v1/auth/refresh`: the refresh cookie in, a new access token and a new cookie out.
//!
//! Invariant: each refresh token works once. A token presented a second time ends its whole
//! session (someone else may hold a copy) and raises `RefreshTokenReused`; an idle or expired
//! session is ended rather than renewed; cross-site requests are refused before anything else.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::domain::time;
use crate::error::{Error, Result};
use crate::events::SecurityEventKind;
use crate::identity::login::second_factor::user_scope;
use crate::identity::request::emit;
use crate::identity::sessions::cookie::{self, RefreshToken};
use crate::identity::sessions::service::{self as sessions, check_live};
use crate::identity::sessions::tokens::{self, TokenBody};
use crate::identity::IdentityState;
use crate::identity::{RefreshOutcome, SessionState};
use crate::web::ClientIp;

const ROUTE: &str = "/api/v1/auth/refresh";

/// How browsers reach this server: `https` when the cookie is `Secure`.
fn scheme(state: &IdentityState) -> &'static str {
    if cookie::secure(&state.config) {
        "https"
    } else {
        "http"
    }
}

/// A 401 that also removes the cookie, which will never work again.
fn refused(state: &IdentityState) -> Response {
    (
        [(header::SET_COOKIE, cookie::clear(&state.config))],
        Error::Unauthenticated,
    )
        .into_response()
}

/// Renew the access token with the refresh cookie.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth",
    responses(
        (status = 200, body = TokenBody, description = "a new access token; the refresh cookie is replaced"),
        (status = 401, body = crate::web::ErrorEnvelope, description = "no valid refresh cookie (or it was used before: the session is now ended)"),
        (status = 403, body = crate::web::ErrorEnvelope, description = "`cross_site_request`")))]
pub async fn refresh(
    State(state): State<IdentityState>,
    ip: ClientIp,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response> {
    crate::identity::sessions::cross_site::check(
        &headers,
        &uri,
        scheme(&state),
        &state.config.allowed_origins,
    )?;
    let Some(presented) = cookie::read(&state.config, &headers) else {
        return Ok(refused(&state));
    };
    let Some(sid) = presented.session() else {
        return Ok(refused(&state));
    };
    // Read before rotating: rotation records activity, and idleness is judged on the last one.
    let before = state.store.session_state(sid).await?;
    let fresh = RefreshToken::generate(sid);
    let now = time::now();
    let outcome = state
        .store
        .rotate_refresh(&presented.hash(), &fresh.hash(), now)
        .await?;
    match outcome {
        RefreshOutcome::Rotated(current) if current.session.id == sid => {
            let last_seen = before.map_or(current.session.last_seen_at, |b| b.session.last_seen_at);
            renewed(&state, ip, current, last_seen, &fresh).await
        }
        RefreshOutcome::Reused(current) => {
            sessions::ended(&state, &[current.session.id]);
            let user = &current.user;
            let reused = SecurityEventKind::RefreshTokenReused {
                user: user.id.to_string(),
                tenant: user.tenant_id,
            };
            emit(&state, ip, Some(user.id.to_string()), ROUTE, reused);
            Ok(refused(&state))
        }
        RefreshOutcome::Rotated(_) | RefreshOutcome::Unknown => Ok(refused(&state)),
    }
}

/// The token was rotated: a new access token and cookie, unless the session has died meanwhile.
async fn renewed(
    state: &IdentityState,
    ip: ClientIp,
    current: SessionState,
    last_seen: time::Timestamp,
    fresh: &RefreshToken,
) -> Result<Response> {
    let config = &state.config.sessions;
    let now = time::now();
    let (session, user) = (&current.session, &current.user);
    if let Err(dead) = check_live(&current, last_seen, now, config.idle_timeout) {
        let reason = dead.reason();
        state
            .store
            .end_session(user_scope(user), user.id, session.id, reason, now)
            .await?;
        sessions::ended(state, &[session.id]);
        sessions::revoked(state, ip, Some(user.id.to_string()), ROUTE, user, reason);
        return Ok(refused(state));
    }
    let body = tokens::issue(
        &state.tokens,
        user,
        session.id,
        session.expires_at,
        now,
        config.access_token_ttl,
    )?;
    let left = (session.expires_at - now).to_std().unwrap_or_default();
    let cookie: HeaderValue = cookie::set(&state.config, fresh, left);
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}
