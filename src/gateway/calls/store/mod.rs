//! LLM calls' storage: the batch insert the recorder makes, the calls list, the usage sums
//! (grouped in SQL, bucketed by UTC hour, day or month), the unpriced calls a reprice takes and
//! the costs it sets. The SQL is written once in `sql`, generic over the
//! backend; `sqlite` and `postgres` open the transaction (row-level-security scoped on
//! PostgreSQL) and commit.
//!
//! Invariant: every statement names the tenant; a call id is inserted at most once (a retried
//! batch adds nothing), and only an `unpriced` call's cost can be set afterwards.

mod postgres;
mod sql;
mod sqlite;

use std::marker::PhantomData;

use async_trait::async_trait;

use super::model::{CallCost, CostStatus, LlmCall, NewCall};
use super::usage::{GroupKey, Interval};
use crate::domain::{ApiKeyId, LlmCallId, TenantId};
use crate::error::Result;
use crate::gateway::{Nanos, Provider, Usage};
use crate::store::codec::sql_id;
use crate::store::Time;

sql_id!(LlmCallId);

/// A call as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CallRow {
    pub id: LlmCallId,
    pub source: String,
    pub api_key_id: Option<ApiKeyId>,
    pub provider: String,
    pub endpoint: String,
    pub application: Option<String>,
    pub project: Option<String>,
    pub end_user: Option<String>,
    pub model_requested: Option<String>,
    pub model_answered: Option<String>,
    pub response_id: Option<String>,
    pub streamed: bool,
    pub http_status: Option<i64>,
    pub outcome: String,
    pub input_tokens: i64,
    pub cache_read_tokens: i64,
    pub cache_write_5m_tokens: i64,
    pub cache_write_1h_tokens: i64,
    pub output_tokens: i64,
    pub reasoning_tokens: i64,
    pub cost_status: String,
    pub cost_nanos: Option<i64>,
    pub priced_model: Option<String>,
    pub started_at: Time,
    pub latency_us: i64,
    pub ttft_us: Option<i64>,
    pub error: Option<String>,
    /// For an OTLP span, the gateway call it describes too: only that call counts.
    pub linked_call_id: Option<LlmCallId>,
    /// The model sent instead of the one asked for, when a budget swapped it.
    pub swapped_to: Option<String>,
}

/// A token count as stored: counts beyond `i64` (which no provider reports) saturate.
fn tokens(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl CallRow {
    pub fn new(call: &NewCall, cost: &CallCost) -> Self {
        let u = call.usage.unwrap_or_default();
        CallRow {
            id: call.id,
            source: call.source.as_str().to_owned(),
            api_key_id: call.api_key,
            provider: call.provider.as_str().to_owned(),
            endpoint: call.endpoint.to_owned(),
            application: call.attribution.application.clone(),
            project: call.attribution.project.clone(),
            end_user: call.attribution.end_user.clone(),
            model_requested: call.model_requested.clone(),
            model_answered: call.model_answered.clone(),
            response_id: call.response_id.clone(),
            streamed: call.streamed,
            http_status: call.http_status.map(i64::from),
            outcome: call.outcome.as_str().to_owned(),
            input_tokens: tokens(u.input),
            cache_read_tokens: tokens(u.cache_read),
            cache_write_5m_tokens: tokens(u.cache_write_5m),
            cache_write_1h_tokens: tokens(u.cache_write_1h),
            output_tokens: tokens(u.output),
            reasoning_tokens: tokens(u.reasoning),
            cost_status: cost.status.as_str().to_owned(),
            cost_nanos: cost.cost.map(|c| c.0),
            priced_model: cost.priced_model.clone(),
            started_at: Time(call.started_at),
            latency_us: call.latency_us,
            ttft_us: call.ttft_us,
            error: call.error.clone(),
            linked_call_id: None,
            swapped_to: call.swapped_to.clone(),
        }
    }

    pub fn usage(&self) -> Usage {
        Usage {
            input: count(self.input_tokens),
            cache_read: count(self.cache_read_tokens),
            cache_write_5m: count(self.cache_write_5m_tokens),
            cache_write_1h: count(self.cache_write_1h_tokens),
            output: count(self.output_tokens),
            reasoning: count(self.reasoning_tokens),
        }
    }

    pub fn provider(&self) -> Option<Provider> {
        Provider::parse(&self.provider)
    }

    /// The model a price is looked up by: the one that answered, else the one asked for.
    pub fn model(&self) -> Option<&str> {
        self.model_answered
            .as_deref()
            .or(self.swapped_to.as_deref())
            .or(self.model_requested.as_deref())
    }

    /// The call as the API lists it. `None` for a row whose names no longer parse (never
    /// written by this version).
    pub fn view(&self) -> Option<LlmCall> {
        use super::model::{CallOutcome, CallSource};
        Some(LlmCall {
            id: self.id,
            source: CallSource::parse(&self.source)?,
            api_key_id: self.api_key_id,
            provider: self.provider()?,
            endpoint: self.endpoint.clone(),
            application: self.application.clone(),
            project: self.project.clone(),
            user: self.end_user.clone(),
            model_requested: self.model_requested.clone(),
            model_answered: self.model_answered.clone(),
            response_id: self.response_id.clone(),
            streamed: self.streamed,
            http_status: self.http_status.and_then(|s| u16::try_from(s).ok()),
            outcome: CallOutcome::parse(&self.outcome)?,
            usage: self.usage(),
            cost_status: CostStatus::parse(&self.cost_status)?,
            cost: self.cost_nanos.map(|n| Nanos(n).to_dollars()),
            cost_nanos: self.cost_nanos,
            priced_model: self.priced_model.clone(),
            started_at: self.started_at.0,
            latency_ms: self.latency_us as f64 / 1000.0,
            ttft_ms: self.ttft_us.map(|t| t as f64 / 1000.0),
            error: self.error.clone(),
            linked_call_id: self.linked_call_id,
            swapped_to: self.swapped_to.clone(),
        })
    }
}

/// Which calls to list, newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallFilter {
    pub from: Option<Time>,
    pub to: Option<Time>,
    pub application: Option<String>,
    pub project: Option<String>,
    pub user: Option<String>,
    pub api_key: Option<ApiKeyId>,
    pub provider: Option<String>,
    /// The answered model, or the requested one when none answered.
    pub model: Option<String>,
    pub cost_status: Option<String>,
    /// `gateway` or `otlp`.
    pub source: Option<String>,
}

/// One group of summed calls, as the database adds them up. A group key not grouped by, and the
/// period without an interval, are `None`.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct UsageRow {
    pub application: Option<String>,
    pub project: Option<String>,
    pub end_user: Option<String>,
    pub api_key: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    /// The UTC bucket: `YYYY-MM-DDTHH`, `YYYY-MM-DD` or `YYYY-MM`.
    pub period: Option<String>,
    pub calls: i64,
    /// Summed over priced calls only.
    pub cost_nanos: i64,
    pub priced_calls: i64,
    pub unpriced_calls: i64,
    pub input_tokens: i64,
    pub cache_read_tokens: i64,
    pub cache_write_5m_tokens: i64,
    pub cache_write_1h_tokens: i64,
    pub output_tokens: i64,
    pub reasoning_tokens: i64,
}

/// Where the previous page ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CallCursor {
    pub started_at: Time,
    pub id: LlmCallId,
}

/// LLM calls' storage.
#[async_trait]
pub trait CallStore: Send + Sync {
    /// Inserts the tenant's calls in one transaction, skipping ids already stored; returns how
    /// many were new.
    async fn insert_calls(&self, tenant: TenantId, rows: &[CallRow]) -> Result<u64>;
    async fn call_page(
        &self,
        tenant: TenantId,
        filter: &CallFilter,
        after: Option<CallCursor>,
        limit: u32,
    ) -> Result<Vec<CallRow>>;
    async fn call(&self, tenant: TenantId, id: LlmCallId) -> Result<Option<CallRow>>;
    /// The filtered calls summed per group of `keys` and per UTC `interval` bucket, at most
    /// `limit` groups (by period, then costliest first); with neither, one row of totals.
    async fn usage(
        &self,
        tenant: TenantId,
        filter: &CallFilter,
        keys: &[GroupKey],
        interval: Option<Interval>,
        limit: u32,
    ) -> Result<Vec<UsageRow>>;
    /// Unpriced calls in id order after `after`.
    async fn unpriced_calls(
        &self,
        tenant: TenantId,
        after: Option<LlmCallId>,
        limit: u32,
    ) -> Result<Vec<CallRow>>;
    /// Sets the cost of calls that are still unpriced; returns how many changed.
    async fn set_costs(
        &self,
        tenant: TenantId,
        costs: &[(LlmCallId, Nanos, String)],
    ) -> Result<u64>;
    /// Links every unlinked OTLP call of `provider` with one of `response_ids` to the gateway
    /// call with the same provider and response id, if there is one; returns the OTLP calls
    /// linked now.
    async fn link(
        &self,
        tenant: TenantId,
        provider: &str,
        response_ids: &[String],
    ) -> Result<Vec<LlmCallId>>;
    /// Which of `ids` are linked to a gateway call.
    async fn linked(&self, tenant: TenantId, ids: &[LlmCallId]) -> Result<Vec<LlmCallId>>;
}

/// The statements both backends run alike, generic over the database.
pub(crate) struct Sql<DB>(PhantomData<DB>);
