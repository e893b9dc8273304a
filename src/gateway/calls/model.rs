//! One LLM call as the gateway saw it, and as it is stored and listed.
//!
//! Invariant: a call's cost is `Some` exactly when its `cost_status` is `priced`; tokens are the
//! provider's own counts in the provider-neutral [`Usage`] shape, never estimates.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::names::text_enum;
use crate::domain::{ApiKeyId, LlmCallId, TenantId};
use crate::gateway::{Nanos, Provider, Usage};

text_enum!(
    /// How a call ended.
    CallOutcome {
        /// The provider answered with a success status and the whole answer reached the client.
        Completed = "completed",
        /// The provider answered with an error status (relayed to the client unchanged).
        ProviderError = "provider_error",
        /// The client went away before the answer ended; tokens are those seen until then.
        ClientDisconnected = "client_disconnected",
        /// The provider could not be reached, or its stream broke off; tokens as far as seen.
        UpstreamFailed = "upstream_failed",
    }
);

text_enum!(
    /// Whether a call's cost is known.
    CostStatus {
        /// Priced exactly from the catalog.
        Priced = "priced",
        /// Tokens were used but the catalog does not know the model: no cost, never $0.
        Unpriced = "unpriced",
        /// The provider reported no tokens (an error, a model list): nothing to price.
        NoUsage = "no_usage",
    }
);

text_enum!(
    /// Where a call was seen.
    CallSource { Gateway = "gateway", Otlp = "otlp" }
);

/// Who a call is attributed to, as the request named them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attribution {
    pub application: Option<String>,
    pub project: Option<String>,
    pub end_user: Option<String>,
}

/// A finished call, handed from the request to the recorder.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCall {
    pub id: LlmCallId,
    pub tenant: TenantId,
    pub source: CallSource,
    pub api_key: Option<ApiKeyId>,
    pub provider: Provider,
    /// `chat.completions`, `responses`, `embeddings`, `models`, `messages`, `count_tokens`.
    pub endpoint: &'static str,
    pub attribution: Attribution,
    /// The model the client asked for.
    pub model_requested: Option<String>,
    /// The model sent instead, when a budget above its swap threshold swapped it.
    pub swapped_to: Option<String>,
    pub model_answered: Option<String>,
    pub response_id: Option<String>,
    pub streamed: bool,
    pub http_status: Option<u16>,
    pub outcome: CallOutcome,
    /// `None` when the provider reported none.
    pub usage: Option<Usage>,
    pub started_at: DateTime<Utc>,
    pub latency_us: i64,
    pub ttft_us: Option<i64>,
    /// A short description of what went wrong; never a secret, never a body.
    pub error: Option<String>,
}

/// A call's price, decided by the recorder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallCost {
    pub status: CostStatus,
    pub cost: Option<Nanos>,
    /// The catalog model that priced it.
    pub priced_model: Option<String>,
}

impl CallCost {
    pub const NO_USAGE: CallCost = CallCost {
        status: CostStatus::NoUsage,
        cost: None,
        priced_model: None,
    };

    pub fn unpriced() -> Self {
        CallCost {
            status: CostStatus::Unpriced,
            cost: None,
            priced_model: None,
        }
    }
}

/// A call as listed by `GET /api/v1/llm/calls`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LlmCall {
    pub id: LlmCallId,
    pub source: CallSource,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key_id: Option<ApiKeyId>,
    pub provider: Provider,
    pub endpoint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_requested: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_answered: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_id: Option<String>,
    pub streamed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    pub outcome: CallOutcome,
    pub usage: Usage,
    pub cost_status: CostStatus,
    /// Exact cost in USD, nine decimal places (`"0.000123450"`); `null` unless priced.
    pub cost: Option<String>,
    /// The same cost in integer nano-dollars.
    pub cost_nanos: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priced_model: Option<String>,
    pub started_at: DateTime<Utc>,
    pub latency_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttft_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// For a call seen in an OTLP span, the gateway call it describes too: only that one counts
    /// in usage and spend.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linked_call_id: Option<LlmCallId>,
    /// The model the gateway sent instead of `model_requested`, when a budget above its swap
    /// threshold swapped it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub swapped_to: Option<String>,
}
