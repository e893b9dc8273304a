//! The metering gateway's relay: OpenAI- and Anthropic-compatible routes that SDKs reach by base
//! URL alone, the caller's key check and attribution, header rules each way, and the relay that
//! streams the provider's answer back while reading its usage.
//!
//! The map: `caller` (the AuditPulse key in either SDK header, attribution), `headers` (what
//! crosses each way), `relay` (one call end to end, streaming and whole answers), `refusal` (the
//! provider-shaped 429 a budget answers with, the model-swapped header), `routes` (the
//! provider-shaped paths).
//!
//! Invariant: the tenant's provider key is only ever put in the request to its provider; every
//! call that reached a provider is handed to the recorder once.

pub mod caller;
mod headers;
mod refusal;
mod relay;
mod routes;

use std::sync::Arc;

use url::Url;

use crate::error::{Error, Result};
use crate::gateway::calls::Recorder;
use crate::gateway::providers::Providers;
use crate::metrics::Metrics;
use crate::outbound::StreamClient;
use crate::store::IdentityStore;

pub use caller::{callers, CALLER_TTL};
pub use refusal::{budget_refusal, swapped_header, BUDGET_EXCEEDED, SWAPPED_HEADER};
pub use relay::{endpoint_name, AUDITPULSE_REQUEST_ID};
pub use routes::routes;

/// Default largest request body relayed (a prompt with images): 32 MiB.
pub const MAX_REQUEST_BYTES: usize = 32 << 20;

/// What the gateway routes need.
pub struct Gateway {
    pub identity: Arc<dyn IdentityStore>,
    pub providers: Arc<Providers>,
    pub client: StreamClient,
    pub recorder: Recorder,
    /// Where the gateway's added latency is observed.
    pub metrics: Arc<Metrics>,
    pub max_request_bytes: usize,
    /// Keys proven in the last second.
    pub callers: caller::Callers,
    /// The budgets' check before each call: model swap, hard limit, reservation.
    pub budgets: Arc<crate::budgets::enforce::Enforcer>,
    /// The price catalog a call's worst case is estimated with.
    pub prices: Arc<crate::gateway::prices::PriceBook>,
}

/// The provider URL of `path` (`/v1/...`) under a base URL given with or without its `/v1`.
pub fn upstream_url(base: &Url, path: &str) -> Result<Url> {
    let root = base.as_str().trim_end_matches('/');
    let root = root.strip_suffix("/v1").unwrap_or(root);
    Url::parse(&format!("{root}{path}"))
        .map_err(|e| Error::Internal(anyhow::anyhow!("provider URL: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_url_with_or_without_v1_gives_one_v1() {
        for base in [
            "https://api.openai.com",
            "https://api.openai.com/",
            "https://api.openai.com/v1",
            "https://api.openai.com/v1/",
        ] {
            let url = upstream_url(&Url::parse(base).unwrap(), "/v1/chat/completions").unwrap();
            assert_eq!(url.as_str(), "https://api.openai.com/v1/chat/completions");
        }
        let proxied = Url::parse("https://llm.example.com/openai").unwrap();
        assert_eq!(
            upstream_url(&proxied, "/v1/models").unwrap().as_str(),
            "https://llm.example.com/openai/v1/models"
        );
    }
}
