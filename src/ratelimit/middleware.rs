//! Applying the limiters to requests and reporting breaches as security events.

use std::net::IpAddr;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use std::sync::Arc;

use super::{Decision, Group, KeyKind, RateLimiter};
use crate::error::Error;
use crate::events::Events;
use crate::events::{SecurityEvent, SecurityEventKind};
use crate::web::{routes::group_of, ClientIp};

/// What applying the limits needs: the limiters, and the event interface breaches go to.
#[derive(Clone)]
pub struct Limits {
    pub limiter: Arc<RateLimiter>,
    pub events: Arc<Events>,
}

/// Per-IP limit, before authentication, so unauthenticated floods are cut early.
pub async fn limit_by_ip(State(state): State<Limits>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let group = group_of(route.as_deref());
    if let Some(ClientIp(ip)) = request.extensions().get::<ClientIp>().copied() {
        let decision = state.limiter.check_ip(group, ip);
        if let Err(refusal) = settle(&state, decision, group, KeyKind::Ip, Some(ip), None, route) {
            return refusal.into_response();
        }
    }
    next.run(request).await
}

/// Per-principal limit, once the caller is known.
pub fn limit_principal(
    state: &Limits,
    group: Group,
    principal: &str,
    ip: Option<IpAddr>,
    route: Option<String>,
) -> Result<(), Error> {
    let decision = state.limiter.check_principal(group, principal);
    settle(
        state,
        decision,
        group,
        KeyKind::Principal,
        ip,
        Some(principal.to_owned()),
        route,
    )
}

fn settle(
    state: &Limits,
    decision: Decision,
    group: Group,
    key: KeyKind,
    ip: Option<IpAddr>,
    principal: Option<String>,
    route: Option<String>,
) -> Result<(), Error> {
    let Decision::Refuse {
        retry_after,
        breach,
    } = decision
    else {
        return Ok(());
    };
    state.events.count_refusal();
    if let Some(breach) = breach {
        state.events.emit(SecurityEvent {
            kind: SecurityEventKind::RateLimitBreach {
                group,
                key,
                blocked_for: breach.blocked_for,
            },
            at: crate::domain::time::now(),
            ip,
            principal,
            route,
        });
    }
    Err(Error::RateLimited { retry_after })
}
