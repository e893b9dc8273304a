//! `POST /v1/traces`: authenticate the exporter's key, decode, read the spans, write the calls,
//! answer in the request's encoding.
//!
//! Invariant: the answer is a success only once every usable call is stored (an exporter
//! retries anything else); overload answers 503 with `Retry-After`, so exporters back off.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use http::{header, HeaderValue, StatusCode};

use super::body::{self, Encoding, Refusal, MAX_BODY};
use super::{ingest, Otlp, QUEUE_WAIT};
use crate::auth::Permission;
use crate::gateway::proxy::caller;

/// The OTLP route, for the router.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<Otlp>: axum::extract::FromRef<S>,
{
    Router::new().route("/v1/traces", post(traces))
}

async fn traces(State(otlp): State<Arc<Otlp>>, request: Request) -> Response {
    let encoding = match body::encoding(request.headers()) {
        Ok(encoding) => encoding,
        // The answer's encoding cannot follow an unknown one: protobuf, the OTLP default.
        Err(refusal) => return refuse(Encoding::Protobuf, &refusal),
    };
    match export(&otlp, encoding, request).await {
        Ok(response) => response,
        Err(refusal) => refuse(encoding, &refusal),
    }
}

async fn export(otlp: &Otlp, encoding: Encoding, request: Request) -> Result<Response, Refusal> {
    let (parts, body) = request.into_parts();
    let caller = caller::authenticate_for(
        otlp.identity.as_ref(),
        &otlp.callers,
        &parts.headers,
        Permission::IngestWrite,
    )
    .await
    .map_err(|e| match e.status() {
        StatusCode::UNAUTHORIZED => refusal(
            StatusCode::UNAUTHORIZED,
            "an AuditPulse API key with ingest:write is needed: Authorization: Bearer ap_...",
        ),
        StatusCode::FORBIDDEN => refusal(StatusCode::FORBIDDEN, "the API key lacks ingest:write"),
        _ => unavailable("the key could not be checked"),
    })?;
    let _slot = tokio::time::timeout(QUEUE_WAIT, otlp.slots.acquire())
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or_else(|| unavailable("AuditPulse is busy storing other exports"))?;
    let bytes = axum::body::to_bytes(axum::body::Body::new(body), MAX_BODY)
        .await
        .map_err(|_| {
            refusal(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the body is larger than {} MiB or was cut off",
                    MAX_BODY >> 20
                ),
            )
        })?;
    let request = body::decode(&parts.headers, encoding, &bytes)?;
    drop(bytes);
    let batch = ingest::read(&request, caller.tenant, caller.key);
    drop(request);
    let message = batch.message();
    let calls = batch.calls.len() as u64;
    if otlp.writer.write(batch.calls).await.is_err() {
        return Err(unavailable("the spans could not be stored"));
    }
    otlp.metrics.otlp_spans("call", calls);
    otlp.metrics.otlp_spans("ignored", batch.ignored);
    otlp.metrics.otlp_spans("rejected", batch.rejected);
    let (content_type, body) = body::success(
        encoding,
        i64::try_from(batch.rejected).unwrap_or(i64::MAX),
        message,
    );
    Ok(answer(StatusCode::OK, &content_type, body))
}

fn refusal(status: StatusCode, message: impl Into<String>) -> Refusal {
    Refusal {
        status,
        message: message.into(),
    }
}

fn unavailable(message: &str) -> Refusal {
    refusal(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("{message}; retry later"),
    )
}

fn refuse(encoding: Encoding, refusal: &Refusal) -> Response {
    let (content_type, body) = body::status(encoding, refusal);
    let mut response = answer(refusal.status, &content_type, body);
    if matches!(
        refusal.status,
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS
    ) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

fn answer(status: StatusCode, content_type: &str, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    // OTLP's own bodies, not AuditPulse's error envelope.
    response.extensions_mut().insert(crate::web::Relayed);
    response
}
