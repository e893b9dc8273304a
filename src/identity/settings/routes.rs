//! `/api/v1/settings`: the caller's tenant's settings (today: whether two-factor authentication is
//! required of everyone). Anyone of the tenant reads them; changing them needs `settings:write`.
//!
//! Invariant: the tenant is always the caller's own; a principal without a tenant is refused.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::auth::{Permission, Principal};
use crate::error::Result;
use crate::identity::admin::own_tenant;
use crate::identity::IdentityState;
use crate::identity::TenantScope;
use crate::web::{ClientIp, ValidJson, Validate};

#[derive(Debug, Serialize, ToSchema)]
pub struct TenantSettings {
    /// Every user of the tenant must set up two-factor authentication before using the API.
    pub require_totp: bool,
}

/// Body of `PATCH /api/v1/settings`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateSettings {
    pub require_totp: bool,
}

impl Validate for UpdateSettings {}

/// The caller's tenant's settings.
#[utoipa::path(get, path = "/api/v1/settings", tag = "settings",
    security(("bearer" = [])),
    responses((status = 200, body = TenantSettings), (status = 403, body = crate::web::ErrorEnvelope)))]
pub async fn get(
    State(state): State<IdentityState>,
    scope: TenantScope,
) -> Result<Json<TenantSettings>> {
    let (tenant, _) = own_tenant(&scope)?;
    let require_totp = state.store.tenant_requires_totp(tenant).await?;
    Ok(Json(TenantSettings { require_totp }))
}

/// Change the caller's tenant's settings.
#[utoipa::path(patch, path = "/api/v1/settings", tag = "settings", request_body = UpdateSettings,
    security(("bearer" = [])),
    responses((status = 200, body = TenantSettings), (status = 403, body = crate::web::ErrorEnvelope),
        (status = 422, body = crate::web::ErrorEnvelope)))]
pub async fn update(
    State(state): State<IdentityState>,
    principal: Principal,
    scope: TenantScope,
    ip: ClientIp,
    ValidJson(body): ValidJson<UpdateSettings>,
) -> Result<Json<TenantSettings>> {
    principal.require(Permission::SettingsWrite)?;
    let (tenant, _) = own_tenant(&scope)?;
    let require_totp = body.require_totp;
    state
        .store
        .set_tenant_requires_totp(tenant, require_totp)
        .await?;
    state.admin_action(
        &principal,
        ip,
        "settings.update",
        Some(("tenant", tenant.to_string())),
        Some(tenant),
        json!({ "require_totp": require_totp }),
    );
    Ok(Json(TenantSettings { require_totp }))
}
