//! One relayed call: read and inspect the request, put the tenant's provider key in place, send
//! it on, and answer with the provider's status, headers and bytes as they arrive, reading the
//! usage from a copy; when the call ends (or the client leaves), hand it to the recorder.
//!
//! Invariant: every call that reached a provider is recorded exactly once, whichever way it
//! ends: completed, provider error, client disconnect (tokens as far as seen) or upstream
//! failure; the client's bytes are the provider's bytes (the tap's one documented removal aside).

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use futures_util::stream;
use http::{HeaderValue, Method, StatusCode};
use http_body_util::BodyExt;

use super::{
    budget_refusal, caller, headers, swapped_header, upstream_url, Gateway, SWAPPED_HEADER,
};
use crate::budgets::enforce::{Admission, Ask};
use crate::domain::{time, LlmCallId};
use crate::error::{Error, Result};
use crate::gateway::calls::{CallOutcome, CallSource, NewCall};
use crate::gateway::stream::{from_body, inspect, with_model, Endpoint, Seen, Tap};
use crate::web::RequestId;

/// Our own request id on gateway answers (`x-request-id` is the provider's).
pub const AUDITPULSE_REQUEST_ID: &str = "x-auditpulse-request-id";

/// The API name of an endpoint, as calls are listed.
pub fn endpoint_name(endpoint: Endpoint) -> &'static str {
    match endpoint {
        Endpoint::ChatCompletions => "chat.completions",
        Endpoint::Responses => "responses",
        Endpoint::Embeddings => "embeddings",
        Endpoint::Messages => "messages",
        Endpoint::CountTokens => "count_tokens",
    }
}

fn path_of(endpoint: Endpoint) -> &'static str {
    match endpoint {
        Endpoint::ChatCompletions => "/v1/chat/completions",
        Endpoint::Responses => "/v1/responses",
        Endpoint::Embeddings => "/v1/embeddings",
        Endpoint::Messages => "/v1/messages",
        Endpoint::CountTokens => "/v1/messages/count_tokens",
    }
}

/// The call id: the request's own id, so `X-AuditPulse-Request-Id` names the stored call.
fn call_id(request: &Request) -> LlmCallId {
    request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| uuid::Uuid::parse_str(&id.0).ok())
        .map(LlmCallId::from_uuid)
        .unwrap_or_else(LlmCallId::new)
}

/// Relays one metered call.
pub async fn relay(gateway: Arc<Gateway>, endpoint: Endpoint, request: Request) -> Response {
    let id = call_id(&request);
    let mut response = match relay_call(gateway, endpoint, request, id).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    if let Ok(value) = HeaderValue::from_str(&id.as_uuid().simple().to_string()) {
        // An answer the gateway gives itself (an error) names our id where each SDK looks for
        // its provider's: OpenAI's `x-request-id` (set by the request layer), Anthropic's
        // `request-id`.
        if !response.headers().contains_key("request-id")
            && !response.headers().contains_key("x-request-id")
        {
            response.headers_mut().insert("request-id", value.clone());
        }
        response.headers_mut().insert(AUDITPULSE_REQUEST_ID, value);
    }
    response
}

async fn relay_call(
    gateway: Arc<Gateway>,
    endpoint: Endpoint,
    request: Request,
    id: LlmCallId,
) -> Result<Response> {
    let started = Instant::now();
    let started_at = time::now();
    let (parts, body) = request.into_parts();
    let caller =
        caller::authenticate(gateway.identity.as_ref(), &gateway.callers, &parts.headers).await?;
    let body = read_body(body, gateway.max_request_bytes).await?;
    let inspected = inspect(endpoint, &body)?;
    let attribution = caller::attribution(&parts.headers, &caller, inspected.user.clone())?;
    let provider = endpoint.provider();
    let upstream = gateway
        .providers
        .resolve(caller.tenant, provider)
        .await?
        .ok_or_else(|| {
            Error::BadRequest(format!(
                "no {provider} key is configured for this tenant; an admin adds one with POST /api/v1/providers"
            ))
        })?;
    if let Some(model) = &inspected.model {
        if !upstream.allows(model) {
            return Err(Error::BadRequest(format!(
                "model {model:?} is not among this tenant's allowed {provider} models"
            )));
        }
    }
    let url = upstream_url(&upstream.base_url, path_of(endpoint))?;
    let out_headers = headers::to_provider(&parts.headers, provider, &upstream.api_key);
    // The budgets that swap or block: decided and reserved before anything is sent.
    let mut body = inspected.body.clone();
    let mut swap = None;
    if let (Some(model), true) = (&inspected.model, endpoint != Endpoint::CountTokens) {
        let allowed = |m: &str| upstream.allows(m);
        let ask = Ask {
            tenant: caller.tenant,
            call: id,
            api_key: caller.key,
            attribution: &attribution,
            provider,
            model,
            prompt_bytes: crate::budgets::estimate::prompt_token_bound(&body),
            max_output_tokens: inspected.max_output_tokens,
            at: started_at,
            allowed: &allowed,
        };
        match gateway.budgets.admit(&ask, &gateway.prices).await? {
            Admission::Open => {}
            Admission::Admitted { swap: None } => {}
            Admission::Admitted { swap: Some(s) } => {
                match with_model(&body, &s.to) {
                    Ok(swapped) => body = swapped,
                    Err(e) => {
                        gateway.budgets.release(caller.tenant, id).await?;
                        return Err(e);
                    }
                }
                gateway.metrics.budget_decision("swapped");
                swap = Some(s);
            }
            Admission::Refused {
                budget,
                retry_after,
            } => {
                gateway.metrics.budget_decision("refused");
                return Ok(budget_refusal(provider, &budget, Some(retry_after)));
            }
        }
    }
    let mut call = NewCall {
        id,
        tenant: caller.tenant,
        source: CallSource::Gateway,
        api_key: Some(caller.key),
        provider,
        endpoint: endpoint_name(endpoint),
        attribution,
        model_requested: inspected.model.clone(),
        swapped_to: swap.as_ref().map(|s| s.to.clone()),
        model_answered: None,
        response_id: None,
        streamed: inspected.stream,
        http_status: None,
        outcome: CallOutcome::Completed,
        usage: None,
        started_at,
        latency_us: 0,
        ttft_us: None,
        error: None,
    };
    // The gateway's own time before the provider is asked (key check, body, key look-up).
    let before_send = started.elapsed();
    let sent = gateway
        .client
        .send(Method::POST, url, out_headers, body)
        .await;
    let mut upstream_response = match sent {
        Ok(r) => r,
        Err(e) => {
            call.outcome = CallOutcome::UpstreamFailed;
            call.error = Some(e.to_string());
            call.latency_us = micros(started);
            gateway.recorder.record(call).await;
            return Err(Error::BadGateway(e.to_string()));
        }
    };
    let status = upstream_response.status();
    call.http_status = Some(status.as_u16());
    if !status.is_success() {
        call.outcome = CallOutcome::ProviderError;
    }
    let mut client_headers = headers::to_client(upstream_response.headers());
    if let Some(s) = &swap {
        client_headers.insert(SWAPPED_HEADER, swapped_header(&s.from, &s.to));
    }
    let is_stream = upstream_response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    if is_stream {
        let tap = Tap::new(endpoint, inspected.strip_usage_chunk);
        let relay = Streaming {
            gateway: gateway.clone(),
            response: upstream_response,
            tap: Some(tap),
            call: Some(call),
            started,
        };
        let body = Body::from_stream(stream::unfold(relay, |mut r| async move {
            r.next().await.map(|chunk| (chunk, r))
        }));
        return Ok(answer(status, client_headers, body));
    }
    // A whole answer: read it (bounded), learn its usage, record, answer.
    let mut whole = BytesMut::new();
    loop {
        match gateway.client.chunk(&mut upstream_response).await {
            Ok(Some(chunk)) => {
                if whole.len() + chunk.len() > gateway.client.limits.max_response_bytes {
                    call.outcome = CallOutcome::UpstreamFailed;
                    call.error = Some("the provider's answer exceeded the size limit".into());
                    call.latency_us = micros(started);
                    gateway.recorder.record(call).await;
                    return Err(Error::BadGateway(
                        "the provider's answer exceeded the size limit".into(),
                    ));
                }
                whole.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => {
                let seen = from_body(endpoint, &whole);
                finish(&mut call, seen, CallOutcome::UpstreamFailed, started);
                call.error = Some(e.to_string());
                gateway.recorder.record(call).await;
                return Err(Error::BadGateway(e.to_string()));
            }
        }
    }
    let read = Instant::now();
    let seen = from_body(endpoint, &whole);
    let outcome = call.outcome;
    finish(&mut call, seen, outcome, started);
    gateway.recorder.record(call).await;
    let response = answer(status, client_headers, Body::from(whole.freeze()));
    // Added latency of a whole answer: before the request was sent, plus from the provider's
    // last byte to the answer handed to the server. The provider's own time is not in it.
    gateway
        .metrics
        .gateway_added_latency((before_send + read.elapsed()).as_secs_f64());
    Ok(response)
}

fn answer(status: StatusCode, headers: http::HeaderMap, body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response.extensions_mut().insert(crate::web::Relayed);
    response
}

fn micros(since: Instant) -> i64 {
    i64::try_from(since.elapsed().as_micros()).unwrap_or(i64::MAX)
}

/// Copies what the answer said into the call.
fn finish(call: &mut NewCall, seen: Seen, outcome: CallOutcome, started: Instant) {
    call.usage = seen.usage;
    call.model_answered = seen.model;
    call.response_id = seen.response_id;
    call.outcome = outcome;
    call.latency_us = micros(started);
}

/// The request body, refused over `max` bytes.
async fn read_body(body: Body, max: usize) -> Result<Bytes> {
    let limited = http_body_util::Limited::new(body, max);
    match limited.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            Err(Error::PayloadTooLarge { limit: max })
        }
        Err(_) => Err(Error::BadRequest(
            "the request body could not be read".into(),
        )),
    }
}

/// A streamed answer in flight. Dropped before its end (the client left), it records the call
/// with the tokens seen so far.
struct Streaming {
    gateway: Arc<Gateway>,
    response: reqwest::Response,
    tap: Option<Tap>,
    call: Option<NewCall>,
    started: Instant,
}

impl Streaming {
    /// The next bytes for the client, `None` at the end.
    async fn next(&mut self) -> Option<std::result::Result<Bytes, std::io::Error>> {
        loop {
            let tap = self.tap.as_mut()?;
            match self.gateway.client.chunk(&mut self.response).await {
                Ok(Some(chunk)) => {
                    let out = tap.feed(&chunk);
                    if out.is_empty() {
                        continue;
                    }
                    if let Some(call) = self.call.as_mut() {
                        call.ttft_us.get_or_insert_with(|| micros(self.started));
                    }
                    return Some(Ok(out));
                }
                Ok(None) => {
                    let rest = tap.flush();
                    let seen = tap.seen();
                    let outcome = if seen.complete {
                        CallOutcome::Completed
                    } else {
                        CallOutcome::UpstreamFailed
                    };
                    self.end(seen, outcome, None);
                    return (!rest.is_empty()).then_some(Ok(rest));
                }
                Err(e) => {
                    let rest = tap.flush();
                    let seen = tap.seen();
                    self.end(seen, CallOutcome::UpstreamFailed, Some(e.to_string()));
                    if !rest.is_empty() {
                        return Some(Ok(rest));
                    }
                    // The client sees the stream break off, as it did upstream.
                    return Some(Err(std::io::Error::other(
                        "the provider's stream broke off",
                    )));
                }
            }
        }
    }

    /// Records the call once.
    fn end(&mut self, seen: Seen, outcome: CallOutcome, error: Option<String>) {
        self.tap = None;
        if let Some(mut call) = self.call.take() {
            // A provider's error status stays the outcome, however its body ended.
            let outcome = match call.outcome {
                CallOutcome::ProviderError => CallOutcome::ProviderError,
                _ => outcome,
            };
            finish(&mut call, seen, outcome, self.started);
            if outcome == CallOutcome::UpstreamFailed {
                call.error =
                    Some(error.unwrap_or_else(|| "the stream ended before its end marker".into()));
            }
            let recorder = self.gateway.recorder.clone();
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => {
                    runtime.spawn(async move { recorder.record(call).await });
                }
                Err(_) => {
                    tracing::error!(call = %call.id, "LLM call ended outside the runtime; not recorded")
                }
            }
        }
    }
}

impl Drop for Streaming {
    fn drop(&mut self) {
        if self.call.is_some() {
            let seen = self.tap.as_ref().map(Tap::seen).unwrap_or_default();
            self.end(seen, CallOutcome::ClientDisconnected, None);
        }
    }
}
