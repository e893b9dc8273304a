//! Plaid's HTTP surface: Link tokens, linking and removing items, listing them, and the public
//! webhook Plaid calls.
//!
//! Invariant: item routes are tenant-scoped through the caller's principal (`ingest:write` to
//! change, `ledger:read` to list) and never return an access token; the webhook acts on nothing
//! before its `Plaid-Verification` JWT verified against the raw body, and every refusal is a
//! security event answered with 401. Without Plaid configured, every route answers 409.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::items::{PlaidItem, PlaidItemId};
use super::service::Plaid;
use super::wire::LinkToken;
use crate::auth::{Permission, Principal, Scoped};
use crate::domain::TenantId;
use crate::error::{Error, FieldError, Result};
use crate::events::{Events, SecurityEvent, SecurityEventKind};
use crate::secret::SecretString;
use crate::store::Scope;
use crate::web::{ClientIp, ValidJson, Validate};

/// What the Plaid routes need; `plaid` is `None` when Plaid is not configured.
#[derive(Clone)]
pub struct PlaidState {
    pub plaid: Option<Arc<Plaid>>,
    pub events: Arc<Events>,
}

fn configured(state: &PlaidState) -> Result<Arc<Plaid>> {
    state.plaid.clone().ok_or_else(|| {
        Error::Conflict(
            "Plaid is not configured: set AUDITPULSE_PLAID_CLIENT_ID and AUDITPULSE_PLAID_SECRET"
                .to_owned(),
        )
    })
}

/// Plaid opened for the caller's own tenant with `permission` checked.
fn open(
    state: &PlaidState,
    principal: &Principal,
    permission: Permission,
) -> Result<(Arc<Plaid>, TenantId)> {
    let handle = Scoped::open_tenant(principal, permission, Arc::new(()))?;
    let tenant = handle.tenant().ok_or(Error::Forbidden)?;
    Ok((configured(state)?, tenant))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlaidItemList {
    pub items: Vec<PlaidItem>,
}

/// The public token Plaid Link handed the browser.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkItem {
    #[schema(value_type = String)]
    pub public_token: SecretString,
}

impl Validate for LinkItem {
    fn validate(&self) -> Vec<FieldError> {
        let token = self.public_token.expose();
        if token.is_empty() || token.len() > 256 || !token.is_ascii() {
            return vec![FieldError::new(
                "public_token",
                "must be 1 to 256 ASCII characters",
            )];
        }
        Vec::new()
    }
}

/// A Link token for the browser to open Plaid Link with (transactions product, our webhook).
#[utoipa::path(post, path = "/api/v1/plaid/link-token", tag = "plaid",
    security(("bearer" = [])),
    responses((status = 200, body = LinkToken), (status = 403, body = crate::web::ErrorEnvelope),
        (status = 409, body = crate::web::ErrorEnvelope, description = "Plaid is not configured")))]
pub async fn link_token(
    State(state): State<PlaidState>,
    principal: Principal,
) -> Result<Json<LinkToken>> {
    let (plaid, tenant) = open(&state, &principal, Permission::IngestWrite)?;
    Ok(Json(
        plaid.client.create_link_token(&tenant.to_string()).await?,
    ))
}

/// Links a bank: exchanges the public token, stores the access token encrypted, creates the
/// accounts and queues the first sync.
#[utoipa::path(post, path = "/api/v1/plaid/items", tag = "plaid", request_body = LinkItem,
    security(("bearer" = [])),
    responses((status = 201, body = PlaidItem), (status = 403, body = crate::web::ErrorEnvelope),
        (status = 409, body = crate::web::ErrorEnvelope), (status = 422, body = crate::web::ErrorEnvelope)))]
pub async fn link(
    State(state): State<PlaidState>,
    principal: Principal,
    ip: ClientIp,
    ValidJson(body): ValidJson<LinkItem>,
) -> Result<(StatusCode, Json<PlaidItem>)> {
    let (plaid, tenant) = open(&state, &principal, Permission::IngestWrite)?;
    let item = plaid.link(tenant, body.public_token.expose()).await?;
    state.events.admin_action(
        &principal.id,
        ip.0,
        "plaid.item_link",
        Some(("plaid_item", item.id.to_string())),
        Some(tenant),
        json!({ "item_id": item.item_id, "institution": item.institution }),
    );
    Ok((StatusCode::CREATED, Json(item)))
}

/// The tenant's Plaid items with their status and last sync; never a token.
#[utoipa::path(get, path = "/api/v1/plaid/items", tag = "plaid",
    security(("bearer" = [])),
    responses((status = 200, body = PlaidItemList), (status = 403, body = crate::web::ErrorEnvelope),
        (status = 409, body = crate::web::ErrorEnvelope)))]
pub async fn list(
    State(state): State<PlaidState>,
    principal: Principal,
) -> Result<Json<PlaidItemList>> {
    let (plaid, tenant) = open(&state, &principal, Permission::LedgerRead)?;
    Ok(Json(PlaidItemList {
        items: plaid.items.list_plaid_items(Scope::Tenant(tenant)).await?,
    }))
}

/// Removes an item at Plaid and stops syncing it; its transactions stay in the ledger.
#[utoipa::path(delete, path = "/api/v1/plaid/items/{id}", tag = "plaid",
    params(("id" = String, Path, description = "item id")),
    security(("bearer" = [])),
    responses((status = 200, body = PlaidItem), (status = 403, body = crate::web::ErrorEnvelope),
        (status = 404, body = crate::web::ErrorEnvelope),
        (status = 409, body = crate::web::ErrorEnvelope, description = "Plaid is not configured")))]
pub async fn remove(
    State(state): State<PlaidState>,
    principal: Principal,
    ip: ClientIp,
    Path(id): Path<String>,
) -> Result<Json<PlaidItem>> {
    let (plaid, tenant) = open(&state, &principal, Permission::IngestWrite)?;
    let id: PlaidItemId = id.parse().map_err(|_| Error::NotFound)?;
    let item = plaid.remove(tenant, id).await?;
    state.events.admin_action(
        &principal.id,
        ip.0,
        "plaid.item_remove",
        Some(("plaid_item", item.id.to_string())),
        Some(tenant),
        json!({ "item_id": item.item_id }),
    );
    Ok(Json(item))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookAck {
    pub received: bool,
}

/// Plaid's webhook. Public, but only a body whose `Plaid-Verification` JWT verifies (ES256, key
/// from Plaid, at most 5 minutes old, body hash) is acted on: `SYNC_UPDATES_AVAILABLE` queues a
/// sync of that item.
#[utoipa::path(post, path = "/api/v1/plaid/webhook", tag = "plaid",
    request_body(content = Object, description = "Plaid's webhook JSON, verified by its Plaid-Verification header"),
    responses((status = 200, body = WebhookAck), (status = 401, body = crate::web::ErrorEnvelope),
        (status = 409, body = crate::web::ErrorEnvelope, description = "Plaid is not configured")))]
pub async fn webhook(
    State(state): State<PlaidState>,
    ip: ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WebhookAck>> {
    let plaid = configured(&state)?;
    let header = headers
        .get("plaid-verification")
        .and_then(|v| v.to_str().ok());
    let now = crate::domain::time::now().timestamp();
    let webhook = match plaid.verifier.verify(header, &body, now).await {
        Ok(webhook) => webhook,
        Err(refusal) => {
            state.events.emit(SecurityEvent {
                kind: SecurityEventKind::WebhookRejected {
                    source: "plaid",
                    reason: refusal.to_string(),
                },
                at: crate::domain::time::now(),
                ip: Some(ip.0),
                principal: None,
                route: Some("/api/v1/plaid/webhook".to_owned()),
            });
            return Err(Error::Unauthenticated);
        }
    };
    let wants_sync = matches!(
        (webhook.webhook_type.as_str(), webhook.webhook_code.as_str()),
        ("TRANSACTIONS", "SYNC_UPDATES_AVAILABLE") | ("ITEM", "LOGIN_REPAIRED")
    );
    if wants_sync {
        if let Some(item_id) = webhook.item_id.as_deref() {
            // Plaid names its own item id; the look-up crosses tenants (system scope).
            match plaid.items.find_plaid_item(item_id).await? {
                Some(item) => plaid.queue_sync(&item).await?,
                None => tracing::warn!(item_id, "verified Plaid webhook for an unknown item"),
            }
        }
    }
    Ok(Json(WebhookAck { received: true }))
}
