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
