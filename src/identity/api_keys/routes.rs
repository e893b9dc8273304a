//! `/api/v1/api-keys`: a tenant's administrators create, list and revoke the tenant's API keys
//! (permissions `api_keys:write`, `api_keys:read`).
//!
//! Invariant: the full key appears once, in the creation response; only its public id and the
//! SHA-256 of its secret are stored, and neither the key nor its secret reaches a log or an event.
//! Another tenant's key answers 404 exactly like a missing one.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::json;

use super::model::{
    beyond_creator, parse_expiry, parse_scopes, ApiKeyList, CreateApiKey, CreatedApiKey,
};
use crate::auth::{Permission, Principal, PrincipalKind};
use crate::domain::{time, ApiKeyId, UserId};
use crate::error::{Error, Result};
use crate::identity::admin::{own_tenant, path_id};
use crate::identity::credentials::api_key_format::ApiKeyToken;
use crate::identity::IdentityState;
use crate::identity::{NewApiKey, TenantScope};
use crate::web::{ClientIp, ValidJson};

/// Create an API key for the caller's tenant. The response holds the whole key, shown only now.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "api-keys", request_body = CreateApiKey,
    security(("bearer" = [])),
    responses((status = 201, body = CreatedApiKey),
        (status = 403, description = "no api_keys:write, or a scope beyond the caller's own permissions", body = crate::web::ErrorEnvelope),
        (status = 422, description = "unknown scope, expiry not in the future", body = crate::web::ErrorEnvelope)))]
pub async fn create(
    State(state): State<IdentityState>,
    principal: Principal,
    scope: TenantScope,
    ip: ClientIp,
    ValidJson(body): ValidJson<CreateApiKey>,
) -> Result<(StatusCode, Json<CreatedApiKey>)> {
    principal.require(Permission::ApiKeysWrite)?;
    let (tenant, _) = own_tenant(&scope)?;
    let scopes = parse_scopes(&body.scopes);
    if let Some(permission) = beyond_creator(&principal, &scopes) {
        return Err(Error::PermissionDenied {
            permission: permission.as_str(),
        });
    }
    let token = ApiKeyToken::generate();
    let created_by = match principal.kind {
        PrincipalKind::User => principal.id.parse::<UserId>().ok(),
        PrincipalKind::ApiKey => None,
    };
    let new = NewApiKey {
        id: ApiKeyId::new(),
        tenant_id: tenant,
        public_id: token.public_id.clone(),
        secret_hash: token.secret_hash(),
        name: body.name.trim().to_owned(),
        scopes,
        created_by,
        created_at: time::now(),
        expires_at: parse_expiry(body.expires_at.as_deref()),
    };
    let key = state.store.insert_api_key(&new).await?;
    let scope_names: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
    let details = json!({
        "public_id": key.public_id,
        "name": key.name,
        "scopes": scope_names,
        "expires_at": key.expires_at,
    });
    state.admin_action(
        &principal,
        ip,
        "api_key.create",
        Some(("api_key", key.id.to_string())),
        Some(tenant),
        details,
    );
    Ok((
        StatusCode::CREATED,
        Json(CreatedApiKey {
            id: key.id,
            key: token.presented().expose().clone(),
            public_id: key.public_id,
            name: key.name,
            scopes: key.scopes,
            created_at: key.created_at,
            expires_at: key.expires_at,
        }),
    ))
}

/// The tenant's API keys that are not revoked, oldest first, without secrets.
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "api-keys",
    security(("bearer" = [])),
    responses((status = 200, body = ApiKeyList), (status = 403, body = crate::web::ErrorEnvelope)))]
pub async fn list(
    State(state): State<IdentityState>,
    principal: Principal,
    scope: TenantScope,
) -> Result<Json<ApiKeyList>> {
    principal.require(Permission::ApiKeysRead)?;
    let (tenant, _) = own_tenant(&scope)?;
    let items = state.store.list_api_keys(tenant).await?;
    Ok(Json(ApiKeyList { items }))
}

/// Revoke an API key: it stops working at once.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "api-keys",
    params(("id" = String, Path, description = "API key id")),
    security(("bearer" = [])),
    responses((status = 204, description = "revoked"), (status = 404, body = crate::web::ErrorEnvelope)))]
pub async fn revoke(
    State(state): State<IdentityState>,
    principal: Principal,
    scope: TenantScope,
    ip: ClientIp,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    principal.require(Permission::ApiKeysWrite)?;
    let (tenant, _) = own_tenant(&scope)?;
    let id: ApiKeyId = path_id(&id)?;
    if !state.store.revoke_api_key(tenant, id, time::now()).await? {
        return Err(Error::NotFound);
    }
    state.admin_action(
        &principal,
        ip,
        "api_key.revoke",
        Some(("api_key", id.to_string())),
        Some(tenant),
        json!({}),
    );
    Ok(StatusCode::NO_CONTENT)
}
