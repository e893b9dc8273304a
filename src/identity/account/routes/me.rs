//! `GET /api/v1/me`: the logged-in user's own account.
//!
//! Invariant: the account is read by the principal's own user id, in the principal's own scope;
//! an API key is not a user and is refused (403).

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{Principal, PrincipalKind, Role};
use crate::domain::{TenantId, UserId};
use crate::error::{Error, Result};
use crate::identity::IdentityState;
use crate::identity::TenantScope;

/// The caller's account.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub id: UserId,
    pub email: String,
    pub display_name: Option<String>,
    /// `None` for a global system administrator.
    pub tenant_id: Option<TenantId>,
    /// `None` for a global system administrator.
    pub role: Option<Role>,
    pub system_admin: bool,
    pub totp_enabled: bool,
}

/// The logged-in user. API keys get 403: they are not a user account.
#[utoipa::path(get, path = "/api/v1/me", tag = "account",
    security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = crate::web::ErrorEnvelope),
        (status = 403, description = "an API key, not a user", body = crate::web::ErrorEnvelope)))]
pub async fn me(
    State(state): State<IdentityState>,
    principal: Principal,
    scope: TenantScope,
) -> Result<Json<Me>> {
    if principal.kind == PrincipalKind::ApiKey {
        return Err(Error::Forbidden);
    }
    let id: UserId = principal.id.parse().map_err(|_| Error::NotFound)?;
    let user = state
        .store
        .get_user(scope.scope(), id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(Json(Me {
        id: user.id,
        email: user.email,
        display_name: user.display_name,
        tenant_id: user.tenant_id,
        role: user.role,
        system_admin: user.system_admin,
        totp_enabled: user.totp_enabled,
    }))
}
