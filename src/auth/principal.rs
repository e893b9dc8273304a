//! The authenticated caller of a request, and how handlers receive it.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::permissions::{allows, ApiScope, Permission};
use crate::domain::{SessionId, TenantId};
use crate::error::Error;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Auditor,
    Admin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    User,
    ApiKey,
}

/// An authenticated user or API key. Holds ids only, never a credential.
#[derive(Debug, Clone)]
pub struct Principal {
    /// Stable id used for rate limiting, logs and audit (user id or API key public id).
    pub id: String,
    pub kind: PrincipalKind,
    /// The tenant whose data this principal acts on; `None` for a global system administrator.
    pub tenant: Option<TenantId>,
    pub role: Option<Role>,
    pub system_admin: bool,
    /// The login session an access token belongs to (users only).
    pub session: Option<SessionId>,
    /// What an API key may do; empty for users, whose role decides.
    pub scopes: Vec<ApiScope>,
    /// The tenant requires two-factor authentication and this user has not enrolled: only the
    /// enrolment routes answer (403 `mfa_enrollment_required` elsewhere).
    pub mfa_enrollment_required: bool,
}

impl Principal {
    /// A user principal with no session, scopes or pending enrolment (tests, the CLI).
    pub fn user(
        id: impl Into<String>,
        tenant: Option<TenantId>,
        role: Option<Role>,
        system_admin: bool,
    ) -> Self {
        Self {
            id: id.into(),
            kind: PrincipalKind::User,
            tenant,
            role,
            system_admin,
            session: None,
            scopes: Vec::new(),
            mfa_enrollment_required: false,
        }
    }
}

impl Principal {
    /// `Ok` when the principal holds `permission`; `Forbidden` otherwise.
    pub fn require(&self, permission: Permission) -> Result<(), Error> {
        if allows(self, permission) {
            Ok(())
        } else {
            Err(Error::PermissionDenied {
                permission: permission.as_str(),
            })
        }
    }
}

/// Handlers take `Principal` as an argument; it is there only behind `require_principal`.
impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or(Error::Unauthenticated)
    }
}
