//! Verification of Plaid webhooks: the `Plaid-Verification` JWT checked by [`super::jwt`] with the
//! key its `kid` names, fetched from `/webhook_verification_key/get` and cached.
//!
//! Invariant: nothing about a webhook body is believed before [`WebhookVerifier::verify`] returns
//! `Ok`; the algorithm is checked before any key is fetched; a cached key is re-fetched after
//! [`KEY_REFRESH`] so an `expired_at` Plaid sets later is honoured, and an expired key is refused.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::Deserialize;
use tokio::sync::Mutex;

use super::client::PlaidClient;
use super::error::PlaidError;
use super::jwt::{self, Refusal};
use super::wire::Jwk;

/// How long a fetched key is trusted before it is fetched again.
pub const KEY_REFRESH: Duration = Duration::from_secs(3600);
/// Keys kept at most; Plaid rotates rarely, so this only bounds a flood of made-up key ids.
const MAX_KEYS: usize = 64;

/// Where verification keys come from (Plaid; a fixed set in tests).
#[async_trait]
pub trait KeySource: Send + Sync {
    /// The key `kid`, or `None` when Plaid has no such key.
    async fn key(&self, kid: &str) -> Result<Option<Jwk>, PlaidError>;
}

#[async_trait]
impl KeySource for PlaidClient {
    async fn key(&self, kid: &str) -> Result<Option<Jwk>, PlaidError> {
        match self.verification_key(kid).await {
            Ok(key) => Ok(Some(key)),
            Err(PlaidError::Api { status, .. })
                if (400..500).contains(&status) && status != 429 =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

/// The fields of a webhook body AuditPulse acts on.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Webhook {
    pub webhook_type: String,
    pub webhook_code: String,
    #[serde(default)]
    pub item_id: Option<String>,
    #[serde(default)]
    pub error: Option<super::error::ApiError>,
}

pub struct WebhookVerifier {
    source: Arc<dyn KeySource>,
    keys: Mutex<HashMap<String, (Jwk, Instant)>>,
}

impl WebhookVerifier {
    pub fn new(source: Arc<dyn KeySource>) -> Self {
        Self {
            source,
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// Verifies `header` (the `Plaid-Verification` value) against the raw `body` at `now` (Unix
    /// seconds), then parses the body.
    pub async fn verify(
        &self,
        header: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Result<Webhook, Refusal> {
        let token = header.ok_or(Refusal::Missing)?;
        let parsed = jwt::parse(token)?;
        let key = self.key(&parsed.kid).await?;
        jwt::verify_with_key(token, &key, body, now)?;
        serde_json::from_slice(body).map_err(|_| Refusal::Malformed("body is not a Plaid webhook"))
    }

    async fn key(&self, kid: &str) -> Result<Jwk, Refusal> {
        let mut keys = self.keys.lock().await;
        if let Some((key, fetched)) = keys.get(kid) {
            if fetched.elapsed() < KEY_REFRESH {
                return Ok(key.clone());
            }
        }
        let fetched = self
            .source
            .key(kid)
            .await
            .map_err(|e| Refusal::KeyUnavailable(e.to_string()))?;
        let Some(key) = fetched.filter(|k| k.kid == kid) else {
            keys.remove(kid);
            return Err(Refusal::UnknownKey);
        };
        if keys.len() >= MAX_KEYS {
            keys.retain(|_, (_, at)| at.elapsed() < KEY_REFRESH);
        }
        if keys.len() < MAX_KEYS {
            keys.insert(kid.to_owned(), (key.clone(), Instant::now()));
        }
        Ok(key)
    }
}

#[cfg(test)]
mod tests;
