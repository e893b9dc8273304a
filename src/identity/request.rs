//! What identity handlers take from a request (the user agent, the caller's user id) and how they
//! report security events.
//!
//! Invariant: events name users by id (or a masked e-mail), never by credential.

use axum::http::{header, HeaderMap};

use crate::auth::{Principal, PrincipalKind};
use crate::domain::UserId;
use crate::error::{Error, Result};
use crate::events::{SecurityEvent, SecurityEventKind};
use crate::identity::IdentityState;
use crate::web::ClientIp;

const MAX_USER_AGENT: usize = 256;

/// The `User-Agent`, shortened to what is worth keeping.
pub fn user_agent(headers: &HeaderMap) -> Option<String> {
    let text = headers.get(header::USER_AGENT)?.to_str().ok()?.trim();
    (!text.is_empty()).then(|| text.chars().take(MAX_USER_AGENT).collect())
}

/// The user behind a principal that logged in with a session; API keys and other principals
/// have no sessions, passwords or second factors to manage here.
pub fn session_user(principal: &Principal) -> Result<UserId> {
    if principal.kind != PrincipalKind::User || principal.session.is_none() {
        return Err(Error::Forbidden);
    }
    principal.id.parse().map_err(|_| Error::Forbidden)
}

/// Emits a security event about an identity route.
pub fn emit(
    state: &IdentityState,
    ip: ClientIp,
    principal: Option<String>,
    route: &'static str,
    kind: SecurityEventKind,
) {
    state.events.emit(SecurityEvent {
        kind,
        at: crate::domain::time::now(),
        ip: Some(ip.0),
        principal,
        route: Some(route.to_owned()),
    });
}
