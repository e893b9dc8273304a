//! The gate in front of every non-public route: authenticate, hold back users who must enrol in
//! two-factor authentication first, then apply the per-principal limit.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use std::sync::Arc;

use super::Authenticator;
use crate::error::{DeniedPermission, Error};
use crate::events::{SecurityEvent, SecurityEventKind};
use crate::ratelimit::{limit_principal, Limits};
use crate::web::{routes::group_of, ClientIp};

/// What the gate needs: who authenticates, and the per-principal limits (whose events interface
/// also records refused permissions).
#[derive(Clone)]
pub struct Gate {
    pub authenticator: Arc<dyn Authenticator>,
    pub limits: Limits,
}

pub async fn require_principal(
    State(state): State<Gate>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let principal = match state.authenticator.authenticate(&parts).await {
        Ok(Some(principal)) => principal,
        Ok(None) => return Error::Unauthenticated.into_response(),
        Err(error) => return error.into_response(),
    };
    let route = parts
        .extensions
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    if principal.mfa_enrollment_required && !route.as_deref().is_some_and(allowed_before_enrolment)
    {
        return Error::MfaEnrollmentRequired.into_response();
    }
    let ip = parts.extensions.get::<ClientIp>().map(|c| c.0);
    let route_for_event = route.clone();
    if let Err(refusal) = limit_principal(
        &state.limits,
        group_of(route.as_deref()),
        &principal.id,
        ip,
        route,
    ) {
        return refusal.into_response();
    }
    let principal_id = principal.id.clone();
    parts.extensions.insert(principal);
    let response = next.run(Request::from_parts(parts, body)).await;
    if let Some(DeniedPermission(permission)) =
        response.extensions().get::<DeniedPermission>().copied()
    {
        state.limits.events.emit(SecurityEvent {
            kind: SecurityEventKind::PermissionDenied { permission },
            at: crate::domain::time::now(),
            ip,
            principal: Some(principal_id),
            route: route_for_event,
        });
    }
    response
}

/// The routes a user whose tenant requires two-factor authentication may use before enrolling:
/// enough to see who they are, enrol, and leave.
pub const ENROLMENT_ROUTES: &[&str] = &[
    "/api/v1/me",
    "/api/v1/auth/totp/setup",
    "/api/v1/auth/totp/enable",
    "/api/v1/auth/logout",
    "/api/v1/auth/logout-all",
];

fn allowed_before_enrolment(route: &str) -> bool {
    ENROLMENT_ROUTES.contains(&route)
}
