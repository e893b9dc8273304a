//! `GET /api/v1/llm/calls` (filters, cursor pages, newest first) and `GET /api/v1/llm/calls/{id}`.
//!
//! Invariant: a cursor names only a position (a call's start time and id); the tenant and the
//! filters come from the request each time, so a cursor cannot widen what a caller sees.

use axum::extract::{Path, State};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::{open, CallsState, FilterText};
use crate::auth::Principal;
use crate::domain::{time, ApiKeyId, LlmCallId};
use crate::error::{Error, Result};
use crate::gateway::calls::{CallCursor, CallSource, CostStatus, LlmCall};
use crate::gateway::Provider;
use crate::store::Time;
use crate::web::pagination::{page_size, split_page};
use crate::web::ValidQuery;

/// Which calls: every filter is optional and they combine with AND.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CallParams {
    /// Started at or after this time (RFC 3339) or date (`YYYY-MM-DD`, from its UTC midnight).
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// Started before this time, or on or before this date (UTC).
    #[param(format = DateTime)]
    pub to: Option<String>,
    pub application: Option<String>,
    pub project: Option<String>,
    /// The end user the call was attributed to.
    pub user: Option<String>,
    /// The AuditPulse API key that made the call.
    #[param(value_type = Option<String>, format = Uuid)]
    pub api_key: Option<ApiKeyId>,
    pub provider: Option<Provider>,
    /// The answered model, or the requested one when none answered.
    pub model: Option<String>,
    pub cost_status: Option<CostStatus>,
    /// `gateway` (relayed) or `otlp` (seen in a span).
    pub source: Option<CallSource>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
}

impl CallParams {
    fn filter_text(&self) -> FilterText<'_> {
        FilterText {
            from: self.from.as_deref(),
            to: self.to.as_deref(),
            application: self.application.as_deref(),
            project: self.project.as_deref(),
            user: self.user.as_deref(),
            api_key: self.api_key,
            provider: self.provider,
            model: self.model.as_deref(),
            cost_status: self.cost_status,
            source: self.source,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = LlmCallPage)]
pub struct CallPage {
    pub items: Vec<LlmCall>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// The opaque cursor: the last call's start time and id.
pub fn encode_cursor(cursor: CallCursor) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        "{}|{}",
        time::to_text(&cursor.started_at.0),
        cursor.id
    ))
}

pub fn decode_cursor(text: &str) -> Result<CallCursor> {
    let invalid = || Error::BadRequest("cursor is not one this API gave out".to_owned());
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (at, id) = text.split_once('|').ok_or_else(invalid)?;
    Ok(CallCursor {
        started_at: Time(time::from_text(at).map_err(|_| invalid())?),
        id: id.parse::<LlmCallId>().map_err(|_| invalid())?,
    })
}

/// The tenant's LLM calls, newest first.
#[utoipa::path(get, path = "/api/v1/llm/calls", tag = "llm", params(CallParams),
    security(("bearer" = [])),
    responses((status = 200, body = CallPage), (status = 400, body = crate::web::ErrorEnvelope),
        (status = 403, body = crate::web::ErrorEnvelope)))]
pub async fn list(
    State(state): State<CallsState>,
    principal: Principal,
    params: Result<ValidQuery<CallParams>, Error>,
) -> Result<Json<CallPage>> {
    let (store, tenant) = open(&state, &principal)?;
    let ValidQuery(params) = params?;
    let limit = page_size(params.limit)?;
    let filter = params.filter_text().filter()?;
    let after = params.cursor.as_deref().map(decode_cursor).transpose()?;
    let rows = store.call_page(tenant, &filter, after, limit + 1).await?;
    let (rows, next) = split_page(rows, limit, |r| CallCursor {
        started_at: r.started_at,
        id: r.id,
    });
    Ok(Json(CallPage {
        items: rows.iter().filter_map(|r| r.view()).collect(),
        next_cursor: next.map(encode_cursor),
    }))
}

/// One LLM call.
#[utoipa::path(get, path = "/api/v1/llm/calls/{id}", tag = "llm",
    params(("id" = String, Path, description = "call id")),
    security(("bearer" = [])),
    responses((status = 200, body = LlmCall), (status = 404, body = crate::web::ErrorEnvelope)))]
pub async fn get(
    State(state): State<CallsState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<LlmCall>> {
    let (store, tenant) = open(&state, &principal)?;
    let id: LlmCallId = id.parse().map_err(|_| Error::NotFound)?;
    store
        .call(tenant, id)
        .await?
        .and_then(|r| r.view())
        .map(Json)
        .ok_or(Error::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_anything_else() {
        let cursor = CallCursor {
            started_at: Time(time::now()),
            id: LlmCallId::new(),
        };
        assert_eq!(decode_cursor(&encode_cursor(cursor)).unwrap(), cursor);
        assert!(decode_cursor("bm9wZQ").is_err());
        assert!(decode_cursor("").is_err());
    }
}
