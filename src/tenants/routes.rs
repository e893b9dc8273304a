//! `/api/v1/tenants`: list, create, read and delete tenants (system administrators).
//!
//! Invariant: a deletion never takes a system administrator with it, so the caller's own tenant
//! and any tenant holding an active system administrator are refused (409), and there is always
//! someone left to manage the service (first-run setup never opens again by accident).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

use super::{CreateTenant, Tenant, TenantPage};
use crate::auth::{Permission, Principal};
use crate::domain::TenantId;
use crate::error::{Error, Result};
use crate::web::pagination::{page_size, split_page};
use crate::web::{ClientIp, ValidJson, ValidQuery};

/// What tenant management needs: the tenants, their users (a deletion must not take a system
/// administrator with it), and the event interface.
#[derive(Clone)]
pub struct TenantsState {
    pub store: std::sync::Arc<dyn super::TenantStore>,
    pub users: std::sync::Arc<dyn crate::identity::store::IdentityStore>,
    pub events: std::sync::Arc<crate::events::Events>,
    /// Cached session states, evicted when a deleted tenant takes its users with it.
    pub sessions: std::sync::Arc<crate::identity::SessionCache>,
}

impl TenantsState {
    fn admin_action(
        &self,
        principal: &Principal,
        ip: ClientIp,
        action: &'static str,
        target: Option<(&'static str, String)>,
        tenant: Option<TenantId>,
        details: serde_json::Value,
    ) {
        self.events
            .admin_action(&principal.id, ip.0, action, target, tenant, details);
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// Return tenants created after this one (the previous page's `next_after`).
    after: Option<TenantId>,
}

/// List tenants, oldest first.
#[utoipa::path(get, path = "/api/v1/tenants", tag = "tenants", params(ListParams),
    security(("bearer" = [])),
    responses((status = 200, body = TenantPage), (status = 401, body = crate::web::ErrorEnvelope), (status = 403, body = crate::web::ErrorEnvelope)))]
pub async fn list(
    State(state): State<TenantsState>,
    principal: Principal,
    params: Result<ValidQuery<ListParams>, Error>,
) -> Result<Json<TenantPage>> {
    principal.require(Permission::TenantsRead)?;
    let ValidQuery(params) = params?;
    let limit = page_size(params.limit)?;
    let items = state.store.list_tenants(params.after, limit + 1).await?;
    let (items, next_after) = split_page(items, limit, |t| t.id);
    Ok(Json(TenantPage { items, next_after }))
}

/// Create a tenant.
#[utoipa::path(post, path = "/api/v1/tenants", tag = "tenants", request_body = CreateTenant,
    security(("bearer" = [])),
    responses((status = 201, body = Tenant), (status = 409, description = "slug already in use", body = crate::web::ErrorEnvelope),
        (status = 422, body = crate::web::ErrorEnvelope)))]
pub async fn create(
    State(state): State<TenantsState>,
    principal: Principal,
    ip: ClientIp,
    ValidJson(body): ValidJson<CreateTenant>,
) -> Result<(StatusCode, Json<Tenant>)> {
    principal.require(Permission::TenantsWrite)?;
    let tenant = state.store.create_tenant(&body.into_new()).await?;
    let details = serde_json::json!({ "slug": tenant.slug, "name": tenant.name });
    state.admin_action(
        &principal,
        ip,
        "tenant.create",
        Some(("tenant", tenant.id.to_string())),
        Some(tenant.id),
        details,
    );
    Ok((StatusCode::CREATED, Json(tenant)))
}

/// One tenant.
#[utoipa::path(get, path = "/api/v1/tenants/{id}", tag = "tenants", params(("id" = String, Path, description = "tenant id")),
    security(("bearer" = [])),
    responses((status = 200, body = Tenant), (status = 404, body = crate::web::ErrorEnvelope)))]
pub async fn get(
    State(state): State<TenantsState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Tenant>> {
    principal.require(Permission::TenantsRead)?;
    let id: TenantId = id.parse().map_err(|_| Error::NotFound)?;
    state
        .store
        .get_tenant(id)
        .await?
        .map(Json)
        .ok_or(Error::NotFound)
}

/// Delete a tenant and everything it owns. Its data keys are destroyed in the same transaction
/// (crypto-shredding), so copies of its encrypted data in backups can no longer be decrypted.
#[utoipa::path(delete, path = "/api/v1/tenants/{id}", tag = "tenants", params(("id" = String, Path, description = "tenant id")),
    security(("bearer" = [])),
    responses((status = 204, description = "deleted"), (status = 404, body = crate::web::ErrorEnvelope),
        (status = 409, body = crate::web::ErrorEnvelope, description = "the caller's own tenant, or one holding a system administrator")))]
pub async fn delete(
    State(state): State<TenantsState>,
    principal: Principal,
    ip: ClientIp,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    principal.require(Permission::TenantsWrite)?;
    let id: TenantId = id.parse().map_err(|_| Error::NotFound)?;
    refuse_losing_an_administrator(&state, &principal, id).await?;
    if !state.store.delete_tenant(id).await? {
        return Err(Error::NotFound);
    }
    // Its users are gone: their cached sessions must not outlive them, not even for the cache TTL.
    state.sessions.evict_tenant(id);
    // Recorded without the tenant id as owner: the tenant is gone, the record must stay visible
    // to system administrators.
    let details = serde_json::json!({ "data_keys": "destroyed" });
    state.admin_action(
        &principal,
        ip,
        "tenant.delete",
        Some(("tenant", id.to_string())),
        None,
        details,
    );
    Ok(StatusCode::NO_CONTENT)
}

/// Users listed per page while looking for system administrators.
const SCAN_PAGE: u32 = 200;

/// 409 when deleting `tenant` would delete the caller or an active system administrator (and
/// with the last of them the only way to manage the service). A missing tenant passes, so the
/// deletion answers 404 as before.
async fn refuse_losing_an_administrator(
    state: &TenantsState,
    principal: &Principal,
    tenant: TenantId,
) -> Result<()> {
    if principal.tenant == Some(tenant) {
        return Err(Error::Conflict(
            "you cannot delete your own tenant: it would delete your account".to_owned(),
        ));
    }
    let mut after = None;
    loop {
        let page = state.users.list_users(tenant, after, SCAN_PAGE).await?;
        if page.iter().any(|u| u.system_admin && u.active) {
            return Err(Error::Conflict(
                "the tenant holds a system administrator; delete or deactivate that account first"
                    .to_owned(),
            ));
        }
        match page.last() {
            Some(last) if page.len() == SCAN_PAGE as usize => after = Some(last.id),
            _ => return Ok(()),
        }
    }
}
