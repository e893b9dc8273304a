//! The one outbound HTTP client: JSON POSTs to URLs the policy allows, through the filtering
//! resolver, with no proxy, no redirects, a connect and a total timeout, and a response size limit.
//!
//! Invariant: a response is never buffered beyond `max_response_bytes`; a redirect is never
//! followed (it is answered as an error naming the status); errors never carry the request body,
//! so a secret sent in it (Plaid's `secret`, an access token) cannot reach a log through them.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use url::Url;

use super::policy::OutboundPolicy;
use super::resolve::Filtering;

/// Timeouts and limits of the client.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub connect_timeout: Duration,
    /// The whole request, response body included.
    pub timeout: Duration,
    pub max_response_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_response_bytes: 4 << 20,
        }
    }
}

/// Why an outbound request produced no response.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error("outbound URL refused: {0}")]
    Refused(String),
    #[error("the request timed out")]
    Timeout,
    #[error("could not reach the server: {0}")]
    Transport(String),
    #[error("the response is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the server answered with a redirect ({0}), which is not followed")]
    Redirect(u16),
}

impl From<OutboundError> for crate::Error {
    fn from(e: OutboundError) -> Self {
        crate::Error::Unavailable(e.to_string())
    }
}

/// A response: its status and its whole (bounded) body.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub body: Bytes,
}

/// The shared client. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    policy: OutboundPolicy,
    limits: Limits,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("policy", &self.policy)
            .field("limits", &self.limits)
            .finish()
    }
}

impl Client {
    pub fn new(policy: OutboundPolicy, limits: Limits) -> crate::Result<Self> {
        let http = reqwest::Client::builder()
            .dns_resolver(Arc::new(Filtering {
                allow_private: policy.allow_private,
            }))
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(limits.connect_timeout)
            .timeout(limits.timeout)
            .https_only(policy.require_https)
            .user_agent(concat!("AuditPulse/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| crate::Error::Internal(anyhow::anyhow!("outbound client: {e}")))?;
        Ok(Self {
            http,
            policy,
            limits,
        })
    }

    pub fn policy(&self) -> OutboundPolicy {
        self.policy
    }

    /// POSTs `body` as JSON to `url` with `headers`, and reads the bounded response.
    pub async fn post_json(
        &self,
        url: &Url,
        headers: &[(&'static str, &str)],
        body: &impl serde::Serialize,
    ) -> Result<Response, OutboundError> {
        self.policy.check(url).map_err(OutboundError::Refused)?;
        let mut request = self.http.post(url.clone()).json(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut response = request.send().await.map_err(transport)?;
        let status = response.status();
        if status.is_redirection() {
            return Err(OutboundError::Redirect(status.as_u16()));
        }
        if response
            .content_length()
            .is_some_and(|n| n > self.limits.max_response_bytes as u64)
        {
            return Err(OutboundError::TooLarge(self.limits.max_response_bytes));
        }
        let mut body = BytesMut::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > self.limits.max_response_bytes {
                return Err(OutboundError::TooLarge(self.limits.max_response_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response {
            status: status.as_u16(),
            body: body.freeze(),
        })
    }
}

/// A reqwest error as ours: the cause chain without the URL's query (never holds secrets here,
/// but the rule is kept simple) and never the body.
pub(super) fn transport(e: reqwest::Error) -> OutboundError {
    if e.is_timeout() {
        return OutboundError::Timeout;
    }
    let e = e.without_url();
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    OutboundError::Transport(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A one-shot HTTP server on loopback answering `response` to the first request.
    async fn serve_once(response: &'static str) -> Url {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 8192];
            let _ = socket.read(&mut buf).await;
            let _ = socket.write_all(response.as_bytes()).await;
        });
        Url::parse(&format!("http://{addr}/x")).unwrap()
    }

    fn client(allow_private: bool, max: usize) -> Client {
        let policy = OutboundPolicy {
            require_https: false,
            allow_private,
        };
        let limits = Limits {
            max_response_bytes: max,
            timeout: Duration::from_secs(5),
            ..Limits::default()
        };
        Client::new(policy, limits).unwrap()
    }

    #[tokio::test]
    async fn loopback_is_refused_without_the_flag() {
        let url = serve_once("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}").await;
        let err = client(false, 1024)
            .post_json(&url, &[], &serde_json::json!({}))
            .await
            .unwrap_err();
        assert!(matches!(err, OutboundError::Refused(_)), "{err}");
    }

    #[tokio::test]
    async fn a_host_name_resolving_to_loopback_is_refused() {
        let url = serve_once("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}").await;
        let url = Url::parse(&format!("http://localhost:{}/x", url.port().unwrap())).unwrap();
        let err = client(false, 1024)
            .post_json(&url, &[], &serde_json::json!({}))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("no public address"), "{err}");
    }

    #[tokio::test]
    async fn answers_within_the_limit_are_read_whole() {
        let url = serve_once("HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\n{\"ok\":true}").await;
        let response = client(true, 1024)
            .post_json(
                &url,
                &[("Plaid-Version", "2020-09-14")],
                &serde_json::json!({}),
            )
            .await
            .unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(&response.body[..], b"{\"ok\":true}");
    }

    #[tokio::test]
    async fn oversized_answers_are_refused_with_or_without_a_length() {
        let url = serve_once("HTTP/1.1 200 OK\r\ncontent-length: 2000\r\n\r\n").await;
        let err = client(true, 1000)
            .post_json(&url, &[], &serde_json::json!({}))
            .await
            .unwrap_err();
        assert!(matches!(err, OutboundError::TooLarge(1000)), "{err}");
        let chunked = concat!(
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
            "400\r\n",
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        );
        let url = serve_once(chunked).await;
        let err = client(true, 32)
            .post_json(&url, &[], &serde_json::json!({}))
            .await
            .unwrap_err();
        assert!(matches!(err, OutboundError::TooLarge(32)), "{err}");
    }

    #[tokio::test]
    async fn redirects_are_not_followed() {
        let url = serve_once(
            "HTTP/1.1 302 Found\r\nlocation: http://169.254.169.254/\r\ncontent-length: 0\r\n\r\n",
        )
        .await;
        let err = client(true, 1024)
            .post_json(&url, &[], &serde_json::json!({}))
            .await
            .unwrap_err();
        assert!(matches!(err, OutboundError::Redirect(302)), "{err}");
    }
}
