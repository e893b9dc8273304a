//! The request body limit: refused up front when `Content-Length` says too much, and enforced
//! while reading for chunked bodies that announce no length.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::Error;

/// The limit in force, for extractors that report it.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// The limits in force: one for every route, a larger one for bank-file uploads.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    pub default: usize,
    /// `POST /api/v1/imports`: the import size limit plus room for the multipart envelope.
    pub imports: usize,
    /// The LLM gateway's routes (`/v1/...`): prompts with images and long contexts.
    pub gateway: usize,
}

/// Whether `path` is one of the LLM gateway's provider-shaped routes.
pub fn is_gateway(path: &str) -> bool {
    path.starts_with("/v1/")
}

/// The request time limit: every route but the gateway's, whose answers take as long as the
/// provider takes (the relay client bounds them instead: first byte, then idle between chunks).
pub async fn time_limit(
    State(limit): State<std::time::Duration>,
    request: Request,
    next: Next,
) -> Response {
    if is_gateway(request.uri().path()) {
        return next.run(request).await;
    }
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => axum::http::StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}

/// The route whose bodies are bank files.
pub const IMPORTS_PATH: &str = "/api/v1/imports";

pub async fn limit_body(
    State(limits): State<BodyLimits>,
    request: Request,
    next: Next,
) -> Response {
    let limit =
        if request.method() == axum::http::Method::POST && request.uri().path() == IMPORTS_PATH {
            limits.imports
        } else if is_gateway(request.uri().path()) {
            limits.gateway
        } else {
            limits.default
        };
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|len| len > limit as u64) {
        return Error::PayloadTooLarge { limit }.into_response();
    }
    let (mut parts, body) = request.into_parts();
    parts.extensions.insert(BodyLimit(limit));
    let body = Body::new(http_body_util::Limited::new(body, limit));
    next.run(Request::from_parts(parts, body)).await
}
