//! `GET /api/v1/llm/usage`: the tenant's LLM calls summed in the database, per group of
//! attribution keys and per UTC hour, day or month, with the totals of every matching call.
//!
//! Invariant: costs sum priced calls only (unpriced calls are counted, never added as $0); at
//! most [`MAX_GROUPS`] groups are answered, and a longer answer says `truncated`; the totals
//! always cover every matching call, returned or not.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::{open, CallsState, FilterText};
use crate::auth::Principal;
use crate::domain::ApiKeyId;
use crate::error::{Error, Result};
use crate::gateway::calls::usage::{parse_group_by, MAX_GROUPS};
use crate::gateway::calls::{CallSource, CostStatus, Interval, UsageGroup, UsageSums};
use crate::gateway::Provider;
use crate::web::ValidQuery;

/// Which calls to sum and how to group them; the filters are those of `/api/v1/llm/calls`.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UsageParams {
    /// Started at or after this time (RFC 3339) or date (`YYYY-MM-DD`, from its UTC midnight).
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// Started before this time, or on or before this date (UTC).
    #[param(format = DateTime)]
    pub to: Option<String>,
    pub application: Option<String>,
    pub project: Option<String>,
    pub user: Option<String>,
    #[param(value_type = Option<String>, format = Uuid)]
    pub api_key: Option<ApiKeyId>,
    pub provider: Option<Provider>,
    pub model: Option<String>,
    pub cost_status: Option<CostStatus>,
    /// `gateway` (relayed) or `otlp` (seen in a span).
    pub source: Option<CallSource>,
    /// Comma-separated: any of `application`, `project`, `user`, `api_key`, `provider`, `model`.
    #[param(pattern = "^((application|project|user|api_key|provider|model)(,|$))*$")]
    pub group_by: Option<String>,
    /// `hour`, `day` or `month`: UTC buckets of the call's start time.
    #[param(inline)]
    pub interval: Option<Interval>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = LlmUsage)]
pub struct UsageAnswer {
    /// By period (oldest first), then costliest first.
    pub groups: Vec<UsageGroup>,
    /// Every matching call, whether or not its group was returned.
    pub totals: UsageSums,
    /// More than the groups returned exist (at most 10,000 are); narrow the filters.
    pub truncated: bool,
}

/// LLM calls summed by group and UTC bucket.
#[utoipa::path(get, path = "/api/v1/llm/usage", tag = "llm", params(UsageParams),
    security(("bearer" = [])),
    responses((status = 200, body = UsageAnswer), (status = 400, body = crate::web::ErrorEnvelope),
        (status = 403, body = crate::web::ErrorEnvelope)))]
pub async fn usage(
    State(state): State<CallsState>,
    principal: Principal,
    params: Result<ValidQuery<UsageParams>, Error>,
) -> Result<Json<UsageAnswer>> {
    let (store, tenant) = open(&state, &principal)?;
    let ValidQuery(p) = params?;
    let keys = parse_group_by(p.group_by.as_deref().unwrap_or_default())?;
    let filter = FilterText {
        from: p.from.as_deref(),
        to: p.to.as_deref(),
        application: p.application.as_deref(),
        project: p.project.as_deref(),
        user: p.user.as_deref(),
        api_key: p.api_key,
        provider: p.provider,
        model: p.model.as_deref(),
        cost_status: p.cost_status,
        source: p.source,
    }
    .filter()?;
    let totals = store.usage(tenant, &filter, &[], None, 1).await?;
    let totals = totals
        .first()
        .map(UsageSums::of)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("usage totals: no row")))?;
    let (mut rows, truncated) = if keys.is_empty() && p.interval.is_none() {
        (Vec::new(), false)
    } else {
        let rows = store
            .usage(tenant, &filter, &keys, p.interval, MAX_GROUPS + 1)
            .await?;
        let truncated = rows.len() > MAX_GROUPS as usize;
        (rows, truncated)
    };
    rows.truncate(MAX_GROUPS as usize);
    Ok(Json(UsageAnswer {
        groups: rows
            .iter()
            .map(|r| UsageGroup::of(r, &keys, p.interval))
            .collect(),
        totals,
        truncated,
    }))
}
