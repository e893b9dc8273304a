//! The router: every route wrapped in the protections each request passes through, outermost
//! first.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRef};
use axum::middleware::from_fn_with_state;
use axum::{Extension, Router};
use tower::ServiceBuilder;

use super::{api_conventions, client_ip, context, headers, limits, openapi, routes};
use crate::app::AppState;
use crate::error::{Error, Result};
use crate::ratelimit;

/// The routes wrapped in every protection, outermost first.
pub(crate) fn router(state: &AppState, tls: bool) -> Result<Router> {
    let (routes, mut api) = routes::build(state);
    // The LLM gateway's provider-shaped routes: not part of AuditPulse's own API document.
    let routes = routes.merge(crate::gateway::proxy::routes());
    // OTLP/HTTP trace ingest: a protocol of its own, also outside the API document.
    let routes = routes.merge(crate::otlp::routes());
    utoipa::Modify::modify(&api_conventions::Conventions, &mut api);
    let document = serde_json::to_string(&api).map_err(|e| Error::Internal(e.into()))?;
    let config = &state.config;
    let router = routes
        .layer(
            ServiceBuilder::new()
                .layer(from_fn_with_state(
                    state.metrics.clone(),
                    context::request_context,
                ))
                .layer(from_fn_with_state(tls, headers::security_headers))
                .option_layer(headers::cors(&config.allowed_origins))
                .layer(from_fn_with_state(
                    state.clone(),
                    client_ip::resolve_client_ip,
                ))
                .layer(from_fn_with_state(
                    ratelimit::Limits::from_ref(state),
                    ratelimit::limit_by_ip,
                ))
                .layer(from_fn_with_state(
                    config.request_timeout,
                    limits::time_limit,
                ))
                .layer(from_fn_with_state(
                    limits::BodyLimits {
                        default: config.max_body_bytes,
                        imports: usize::try_from(config.imports.max_bytes)
                            .unwrap_or(usize::MAX)
                            .saturating_add(64 * 1024),
                        gateway: crate::gateway::proxy::MAX_REQUEST_BYTES,
                    },
                    limits::limit_body,
                ))
                // `limit_body` is the one body limit: axum's own default of 2 MB for extractors
                // would refuse a bank file far below AUDITPULSE_IMPORT_MAX_BYTES.
                .layer(DefaultBodyLimit::disable()),
        )
        .layer(Extension(openapi::Document(Arc::new(document))));
    Ok(router.with_state(state.clone()))
}
