//! The outbound client for relayed traffic (the LLM gateway's providers): pooled connections,
//! HTTP/2 where the server offers it, and time limits that suit long answers: a connect timeout,
//! a first-byte timeout (until the response head arrives) and an idle timeout between chunks that
//! the relay applies, instead of one total timeout that would cut a long stream.
//!
//! Invariant: the same URL policy and filtering resolver as [`super::Client`]: no redirect is
//! followed, no proxy is used, blocked addresses are never connected to; errors never carry a
//! header or body of the request (where the provider key travels).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method};
use url::Url;

use super::client::{transport, OutboundError};
use super::policy::OutboundPolicy;
use super::resolve::Filtering;

/// Time limits of relayed requests.
#[derive(Debug, Clone, Copy)]
pub struct StreamLimits {
    pub connect_timeout: Duration,
    /// Until the response's status and headers arrive.
    pub first_byte_timeout: Duration,
    /// Longest silence between two chunks of a response body (the relay enforces it).
    pub idle_timeout: Duration,
    /// Largest response body read whole (a non-streamed answer).
    pub max_response_bytes: usize,
}

impl Default for StreamLimits {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            first_byte_timeout: Duration::from_secs(600),
            idle_timeout: Duration::from_secs(300),
            max_response_bytes: 64 << 20,
        }
    }
}

/// The shared relay client. Cheap to clone.
#[derive(Clone)]
pub struct StreamClient {
    http: reqwest::Client,
    policy: OutboundPolicy,
    pub limits: StreamLimits,
}

impl std::fmt::Debug for StreamClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamClient")
            .field("policy", &self.policy)
            .field("limits", &self.limits)
            .finish()
    }
}

impl StreamClient {
    pub fn new(policy: OutboundPolicy, limits: StreamLimits) -> crate::Result<Self> {
        let http = reqwest::Client::builder()
            .dns_resolver(Arc::new(Filtering {
                allow_private: policy.allow_private,
            }))
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(limits.connect_timeout)
            .https_only(policy.require_https)
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(256)
            .tcp_nodelay(true)
            .http2_adaptive_window(true)
            .user_agent(concat!("AuditPulse/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| crate::Error::Internal(anyhow::anyhow!("relay client: {e}")))?;
        Ok(Self {
            http,
            policy,
            limits,
        })
    }

    /// Sends one request and waits (at most the first-byte timeout) for the response head; the
    /// body is the caller's to read.
    pub async fn send(
        &self,
        method: Method,
        url: Url,
        headers: HeaderMap,
        body: Bytes,
    ) -> Result<reqwest::Response, OutboundError> {
        self.policy.check(&url).map_err(OutboundError::Refused)?;
        let request = self.http.request(method, url).headers(headers).body(body);
        let response = tokio::time::timeout(self.limits.first_byte_timeout, request.send())
            .await
            .map_err(|_| OutboundError::Timeout)?
            .map_err(transport)?;
        if response.status().is_redirection() {
            return Err(OutboundError::Redirect(response.status().as_u16()));
        }
        Ok(response)
    }

    /// The next chunk of `response`'s body within the idle timeout; `Ok(None)` at its end.
    pub async fn chunk(
        &self,
        response: &mut reqwest::Response,
    ) -> Result<Option<Bytes>, OutboundError> {
        tokio::time::timeout(self.limits.idle_timeout, response.chunk())
            .await
            .map_err(|_| OutboundError::Timeout)?
            .map_err(transport)
    }
}
