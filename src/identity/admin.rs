//! What the management routes (users, API keys, settings) share: the caller's own tenant as the
//! storage scope, path ids that answer 404 when malformed, and events raised on the caller's behalf.
//!
//! Invariant: management never runs with `Scope::System`: a caller without a tenant is refused
//! before any storage call, so another tenant's rows are unreachable and look missing (404).

use std::str::FromStr;

use crate::auth::Principal;
use crate::domain::TenantId;
use crate::error::{Error, Result};
use crate::events::{SecurityEvent, SecurityEventKind};
use crate::identity::IdentityState;
use crate::identity::TenantScope;
use crate::store::Scope;
use crate::web::ClientIp;

/// The caller's tenant and the scope of exactly that tenant.
pub fn own_tenant(scope: &TenantScope) -> Result<(TenantId, Scope)> {
    let tenant = scope.tenant()?;
    Ok((tenant, Scope::Tenant(tenant)))
}

/// An id from the path; a malformed one names nothing, so it is a 404 like a missing one.
pub fn path_id<T: FromStr>(text: &str) -> Result<T> {
    text.parse().map_err(|_| Error::NotFound)
}

/// Raises a security event as the caller, from the caller's address.
pub fn emit(state: &IdentityState, principal: &Principal, ip: ClientIp, kind: SecurityEventKind) {
    state.events.emit(SecurityEvent {
        kind,
        at: crate::domain::time::now(),
        ip: Some(ip.0),
        principal: Some(principal.id.clone()),
        route: None,
    });
}

/// Whether `principal` is the user with this id (API keys are never a user).
pub fn is_self(principal: &Principal, user: &impl ToString) -> bool {
    principal.kind == crate::auth::PrincipalKind::User && principal.id == user.to_string()
}
