//! `/api/v1/settings`: the caller's tenant's settings: whether two-factor authentication is
//! required of everyone, and the tenant's time zone (detection's timing rule and daily retraining,
//! budget periods). Anyone of the tenant reads them; changing them needs `settings:write`.
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
    /// The tenant's IANA time zone, e.g. `Europe/Paris` (`UTC` until set).
    pub time_zone: String,
}

/// Body of `PATCH /api/v1/settings`: the settings to change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSettings {
    pub require_totp: Option<bool>,
    /// An IANA time zone name, e.g. `America/New_York`.
    pub time_zone: Option<String>,
}

impl Validate for UpdateSettings {
    fn validate(&self) -> Vec<crate::error::FieldError> {
        let mut errors = Vec::new();
        if self.require_totp.is_none() && self.time_zone.is_none() {
            errors.push(crate::error::FieldError::new(
                "",
                "give require_totp or time_zone",
            ));
        }
        if let Some(zone) = &self.time_zone {
            if zone.parse::<chrono_tz::Tz>().is_err() {
                errors.push(crate::error::FieldError::new(
                    "time_zone",
                    "is not an IANA time zone name (for example Europe/Paris)",
                ));
            }
        }
        errors
    }
}

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
    let time_zone = state.store.tenant_time_zone(tenant).await?;
    Ok(Json(TenantSettings {
        require_totp,
        time_zone,
    }))
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
    if let Some(required) = body.require_totp {
        state
            .store
            .set_tenant_requires_totp(tenant, required)
            .await?;
    }
    if let Some(zone) = &body.time_zone {
        state.store.set_tenant_time_zone(tenant, zone).await?;
    }
    state.admin_action(
        &principal,
        ip,
        "settings.update",
        Some(("tenant", tenant.to_string())),
        Some(tenant),
        json!({ "require_totp": body.require_totp, "time_zone": body.time_zone }),
    );
    Ok(Json(TenantSettings {
        require_totp: state.store.tenant_requires_totp(tenant).await?,
        time_zone: state.store.tenant_time_zone(tenant).await?,
    }))
}
