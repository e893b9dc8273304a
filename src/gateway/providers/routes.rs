//! `GET/POST /api/v1/providers`, `DELETE /api/v1/providers/{id}`: a tenant's LLM provider keys,
//! managed by its administrators (`providers:manage`).
//!
//! Invariant: every handler checks the permission and fixes the caller's own tenant before any
//! storage call; no response, audit event or error carries an API key (only its hint), and every
//! change is an audit event naming the provider.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::model::{
    check_allowed_models, check_api_key, check_label, normalize_models, NewProviderKey, ProviderKey,
};
use super::Providers;
use crate::auth::{Permission, Principal, Scoped};
use crate::domain::{ProviderKeyId, TenantId};
use crate::error::{Error, FieldError, Result};
use crate::events::Events;
use crate::gateway::Provider;
use crate::secret::SecretString;
use crate::web::{ClientIp, ValidJson, Validate};

/// What the provider routes need.
#[derive(Clone)]
pub struct ProvidersState {
    pub providers: Arc<Providers>,
    pub events: Arc<Events>,
}

/// The caller's own tenant, once `providers:manage` is checked.
fn open(principal: &Principal) -> Result<TenantId> {
    let handle = Scoped::open_tenant(principal, Permission::ProvidersManage, Arc::new(()))?;
    handle.tenant().ok_or(Error::Forbidden)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = LlmProviderKeyList)]
pub struct ProviderKeyList {
    pub items: Vec<ProviderKey>,
}

/// A provider key to set; an existing key for the same provider is replaced.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = SetLlmProviderKey)]
#[serde(deny_unknown_fields)]
pub struct SetProviderKey {
    pub provider: Provider,
    /// The provider's API key: 1 to 512 printable ASCII characters. Never shown again.
    #[schema(value_type = String, pattern = "^[!-~]{1,512}$")]
    pub api_key: SecretString,
    /// Where calls go instead of the provider's public API (an https URL in production).
    #[serde(default)]
    pub base_url: Option<String>,
    /// The only models callers may use with this key (at most 200); absent or empty for all.
    #[serde(default)]
    #[schema(max_items = 200)]
    pub allowed_models: Option<Vec<String>>,
    /// A name for people, e.g. `production`.
    #[serde(default)]
    #[schema(max_length = 100)]
    pub label: Option<String>,
}

impl Validate for SetProviderKey {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors: Vec<FieldError> =
            check_api_key(self.api_key.expose()).into_iter().collect();
        if let Some(models) = &self.allowed_models {
            errors.extend(check_allowed_models(models));
        }
        if let Some(label) = &self.label {
            errors.extend(check_label(label));
        }
        errors
    }
}

/// The tenant's provider keys: provider, base URL, allowed models and the key's last characters.
#[utoipa::path(get, path = "/api/v1/providers", tag = "providers",
    security(("bearer" = [])),
    responses((status = 200, body = ProviderKeyList), (status = 403, body = crate::web::ErrorEnvelope)))]
pub async fn list(
    State(state): State<ProvidersState>,
    principal: Principal,
) -> Result<Json<ProviderKeyList>> {
    let tenant = open(&principal)?;
    Ok(Json(ProviderKeyList {
        items: state.providers.list(tenant).await?,
    }))
}

/// Set the tenant's key for a provider, replacing the previous one; the key is stored encrypted.
#[utoipa::path(post, path = "/api/v1/providers", tag = "providers", request_body = SetProviderKey,
    security(("bearer" = [])),
    responses((status = 201, body = ProviderKey),
        (status = 400, body = crate::web::ErrorEnvelope),
        (status = 403, body = crate::web::ErrorEnvelope),
        (status = 422, body = crate::web::ErrorEnvelope, description = "a field is invalid, or the base URL is refused")))]
pub async fn set(
    State(state): State<ProvidersState>,
    principal: Principal,
    ip: ClientIp,
    ValidJson(body): ValidJson<SetProviderKey>,
) -> Result<(StatusCode, Json<ProviderKey>)> {
    let tenant = open(&principal)?;
    let base_url = body
        .base_url
        .as_deref()
        .map(|text| state.providers.check_base_url(text))
        .transpose()?;
    let label = body
        .label
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty());
    let new = NewProviderKey {
        provider: body.provider,
        label,
        api_key: body.api_key,
        base_url,
        allowed_models: normalize_models(body.allowed_models),
    };
    let set = state.providers.set(tenant, new, &principal.id).await?;
    state.events.admin_action(
        &principal.id,
        ip.0,
        "gateway.provider_set",
        Some(("llm_provider", set.key.id.to_string())),
        Some(tenant),
        json!({
            "provider": set.key.provider,
            "base_url": set.key.base_url,
            "allowed_models": set.key.allowed_models,
            "key_hint": set.key.key_hint,
            "replaced": set.replaced,
        }),
    );
    Ok((StatusCode::CREATED, Json(set.key)))
}

/// Delete a provider key: the gateway stops calling that provider for the tenant at once.
#[utoipa::path(delete, path = "/api/v1/providers/{id}", tag = "providers",
    params(("id" = String, Path, description = "provider key id")),
    security(("bearer" = [])),
    responses((status = 204, description = "deleted"), (status = 403, body = crate::web::ErrorEnvelope),
        (status = 404, body = crate::web::ErrorEnvelope)))]
pub async fn delete(
    State(state): State<ProvidersState>,
    principal: Principal,
    ip: ClientIp,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    let tenant = open(&principal)?;
    let id: ProviderKeyId = id.parse().map_err(|_| Error::NotFound)?;
    let provider = state
        .providers
        .delete(tenant, id)
        .await?
        .ok_or(Error::NotFound)?;
    state.events.admin_action(
        &principal.id,
        ip.0,
        "gateway.provider_delete",
        Some(("llm_provider", id.to_string())),
        Some(tenant),
        json!({ "provider": provider }),
    );
    Ok(StatusCode::NO_CONTENT)
}
