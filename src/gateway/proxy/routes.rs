//! The provider-shaped routes, so the official SDKs work by base URL alone: OpenAI's under
//! `http://HOST:PORT/v1`, Anthropic's under `http://HOST:PORT`.
//!
//! Invariant: every route authenticates the caller's `gateway:use` key before anything is sent
//! to a provider.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use bytes::{Bytes, BytesMut};
use http::Method;

use super::{caller, headers, relay, upstream_url, Gateway};
use crate::error::{Error, Result};
use crate::gateway::stream::Endpoint;
use crate::gateway::Provider;

/// The gateway's routes, for the router's gateway group.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<Gateway>: axum::extract::FromRef<S>,
{
    Router::new()
        .route("/v1/chat/completions", post(chat_completions))
        .route("/v1/responses", post(responses))
        .route("/v1/embeddings", post(embeddings))
        .route("/v1/models", get(models))
        .route("/v1/messages", post(messages))
        .route("/v1/messages/count_tokens", post(count_tokens))
}

async fn chat_completions(State(g): State<Arc<Gateway>>, request: Request) -> Response {
    relay::relay(g, Endpoint::ChatCompletions, request).await
}

async fn responses(State(g): State<Arc<Gateway>>, request: Request) -> Response {
    relay::relay(g, Endpoint::Responses, request).await
}

async fn embeddings(State(g): State<Arc<Gateway>>, request: Request) -> Response {
    relay::relay(g, Endpoint::Embeddings, request).await
}

async fn messages(State(g): State<Arc<Gateway>>, request: Request) -> Response {
    relay::relay(g, Endpoint::Messages, request).await
}

async fn count_tokens(State(g): State<Arc<Gateway>>, request: Request) -> Response {
    relay::relay(g, Endpoint::CountTokens, request).await
}

/// `GET /v1/models`: the tenant's OpenAI-compatible provider's list, relayed (not metered: it
/// uses no tokens).
async fn models(State(g): State<Arc<Gateway>>, request: Request) -> Response {
    match list_models(&g, request).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn list_models(g: &Gateway, request: Request) -> Result<Response> {
    let caller = caller::authenticate(g.identity.as_ref(), &g.callers, request.headers()).await?;
    let upstream = g
        .providers
        .resolve(caller.tenant, Provider::OpenAi)
        .await?
        .ok_or_else(|| Error::BadRequest("no openai key is configured for this tenant".into()))?;
    let url = upstream_url(&upstream.base_url, "/v1/models")?;
    let out = headers::to_provider(request.headers(), Provider::OpenAi, &upstream.api_key);
    let mut response = g
        .client
        .send(Method::GET, url, out, Bytes::new())
        .await
        .map_err(|e| Error::BadGateway(e.to_string()))?;
    let status = response.status();
    let client_headers = headers::to_client(response.headers());
    let mut body = BytesMut::new();
    while let Some(chunk) = g
        .client
        .chunk(&mut response)
        .await
        .map_err(|e| Error::BadGateway(e.to_string()))?
    {
        if body.len() + chunk.len() > g.client.limits.max_response_bytes {
            return Err(Error::BadGateway(
                "the provider's answer exceeded the size limit".into(),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    let mut answer = Response::new(axum::body::Body::from(body.freeze()));
    *answer.status_mut() = status;
    *answer.headers_mut() = client_headers;
    answer.extensions_mut().insert(crate::web::Relayed);
    Ok(answer)
}
