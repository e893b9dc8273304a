//! The tenant-scoped handle: how a handler names whose rows it may touch.
//!
//! Invariant: a `TenantScope` is made only from an authenticated principal, so the scope of every
//! storage call from a request is the caller's own tenant (or, for a global system administrator
//! without a tenant, the system scope).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::auth::Principal;
use crate::domain::TenantId;
use crate::error::Error;
use crate::store::Scope;

/// The caller's tenant, taken from the authenticated principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantScope {
    scope: Scope,
}

impl TenantScope {
    pub fn of(principal: &Principal) -> Self {
        let scope = match principal.tenant {
            Some(tenant) => Scope::Tenant(tenant),
            None => Scope::System,
        };
        Self { scope }
    }

    /// The storage scope for calls on behalf of the caller.
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The caller's tenant; `Forbidden` for a principal without one (a global system
    /// administrator has no tenant-owned data of its own to manage).
    pub fn tenant(&self) -> Result<TenantId, Error> {
        match self.scope {
            Scope::Tenant(tenant) => Ok(tenant),
            Scope::System => Err(Error::Forbidden),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for TenantScope {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let principal = Principal::from_request_parts(parts, state).await?;
        Ok(Self::of(&principal))
    }
}
