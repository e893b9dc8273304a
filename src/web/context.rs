//! The outermost layer of every request: a request id, one log span, and the final shape of every
//! error response.
//!
//! Invariant: every response carries `X-Request-Id`; every error response, ours or the framework's
//! (404, 405, 408, 413...), is `{"error":{"code","message","request_id"}}` JSON. The span names the
//! route template, never the raw path, query string or headers.

use std::time::Instant;

use axum::body::Body;
use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;
use tracing::{field::Empty, Instrument};

use crate::error::ErrorBody;
use crate::metrics::Metrics;

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The route label of requests that matched no route (one label, whatever the path).
const UNMATCHED: &str = "<unmatched>";

/// The id of the current request, also in the `X-Request-Id` response header.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The JSON shape of every error response.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorEnvelope {
    pub error: EnvelopeBody,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EnvelopeBody {
    #[serde(flatten)]
    #[schema(inline)]
    pub body: ErrorBody,
    pub request_id: String,
}

pub async fn request_context(
    State(metrics): State<Arc<Metrics>>,
    mut request: Request,
    next: Next,
) -> Response {
    let id = uuid::Uuid::now_v7().simple().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let method = request.method().clone();
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        route = route.as_deref().unwrap_or(UNMATCHED),
        request_id = %id,
        client_ip = Empty,
        status = Empty,
        latency_ms = Empty,
    );
    request.extensions_mut().insert(RequestId(id.clone()));
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    finalize_error(&mut response, &id);
    // A gateway answer carries its provider's request id, which SDKs report: keep it (the
    // gateway puts ours in `x-auditpulse-request-id`).
    if !response.headers().contains_key(&X_REQUEST_ID) {
        if let Ok(value) = HeaderValue::from_str(&id) {
            response.headers_mut().insert(X_REQUEST_ID.clone(), value);
        }
    }
    let status = response.status().as_u16();
    let elapsed = started.elapsed().as_secs_f64();
    metrics.observe_request(
        method.as_str(),
        route.as_deref().unwrap_or(UNMATCHED),
        status,
        elapsed,
    );
    span.record("status", status);
    span.record("latency_ms", (elapsed * 1e6).round() / 1e3);
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!("request failed");
        } else {
            tracing::info!("request completed");
        }
    });
    response
}

/// Marks an answer whose body belongs to another protocol (relayed from an LLM provider, or an
/// OTLP answer with its `Status` body): it reaches the client as it is, error statuses included.
#[derive(Debug, Clone, Copy)]
pub struct Relayed;

/// Renders the error body with the request id, or a generic one for bare error statuses.
fn finalize_error(response: &mut Response, request_id: &str) {
    if response.extensions().get::<Relayed>().is_some() {
        return;
    }
    let status = response.status();
    let body = match response.extensions_mut().remove::<ErrorBody>() {
        Some(body) => body,
        None if status.is_client_error() || status.is_server_error() => {
            let is_json = response
                .headers()
                .get(header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
            if is_json {
                return;
            }
            ErrorBody::for_status(status)
        }
        None => return,
    };
    let envelope = ErrorEnvelope {
        error: EnvelopeBody {
            body,
            request_id: request_id.to_owned(),
        },
    };
    let json = serde_json::to_vec(&envelope)
        .unwrap_or_else(|_| b"{\"error\":{\"code\":\"internal_error\"}}".to_vec());
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response.headers_mut().remove(header::CONTENT_LENGTH);
    *response.body_mut() = Body::from(json);
}
