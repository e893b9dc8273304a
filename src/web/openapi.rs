//! The OpenAPI 3.1 document, generated from the route annotations so it cannot drift from the code.

use std::sync::Arc;

use axum::http::header;
use axum::response::IntoResponse;
use axum::Extension;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "AuditPulse", description = "Self-hosted, security-first spend audit service."),
    components(schemas(super::ErrorEnvelope, crate::error::ErrorBody, crate::error::FieldError)),
    modifiers(&BearerAuth),
    tags((name = "operations", description = "Health and the API description"),
         (name = "tenants", description = "Tenants (system administrators)"),
         (name = "security", description = "Security alerts"),
         (name = "audit", description = "The audit trail (permission audit:read)"),
         (name = "auth", description = "Login, sessions, refresh, password and two-factor authentication"),
         (name = "setup", description = "First-run setup"),
         (name = "account", description = "The logged-in user's own account"),
         (name = "users", description = "A tenant's users (permissions users:read, users:write)"),
         (name = "api-keys", description = "A tenant's API keys (permissions api_keys:read, api_keys:write)"),
         (name = "settings", description = "A tenant's settings (changes need settings:write)"),
         (name = "detection", description = "Risk scores, the anomaly queue and its reviews, detection settings (ledger:read to read, anomalies:review to review, detection:configure to change)"),
         (name = "plaid", description = "Bank connections through Plaid (ingest:write to change, ledger:read to list) and Plaid's verified webhook"),
         (name = "providers", description = "A tenant's LLM provider keys for the gateway (permission providers:manage; keys are never returned)"),
         (name = "prices", description = "The LLM price catalog as the tenant's calls are priced, and its negotiated overrides (ledger:read to read, providers:manage to change)"),
         (name = "budgets", description = "Budgets: spend held to an amount per scope and period, with alert thresholds, the gateway's model swap and hard limit (ledger:read to read, budgets:manage to change)"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The rendered document, built once at start.
#[derive(Clone)]
pub struct Document(pub Arc<String>);

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn document(Extension(doc): Extension<Document>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        doc.0.as_str().to_owned(),
    )
}
