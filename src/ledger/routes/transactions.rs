//! `GET /api/v1/transactions` (filters, cursor pages) and `GET /api/v1/transactions/{id}`.

use axum::extract::{Path, State};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{open, LedgerState};
use crate::auth::{Permission, Principal};
use crate::domain::{time, AccountId, Currency, SpendId};
use crate::error::{Error, Result};
use crate::ledger::import::ofx::amount::parse_minor;
use crate::ledger::{counterparty, Source, SpendCursor, SpendEvent, SpendFilter, SpendStatus};
use crate::store::Time;
use crate::web::pagination::page_size;
use crate::web::ValidQuery;

/// Which transactions: every filter is optional and they combine with AND.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TransactionParams {
    /// Only this account.
    #[param(value_type = Option<String>, format = Uuid)]
    pub account: Option<AccountId>,
    /// Only this source: `plaid`, `ofx`, `csv`, `gateway`, `otlp`.
    pub source: Option<Source>,
    /// Booked on or after this date (`YYYY-MM-DD`, the bank's date).
    pub from: Option<NaiveDate>,
    /// Booked on or before this date.
    pub to: Option<NaiveDate>,
    /// Only this ISO 4217 currency; required with `min_amount`/`max_amount`.
    pub currency: Option<String>,
    /// At least this amount out, as decimal text in major units (`100.00`).
    pub min_amount: Option<String>,
    /// At most this amount out.
    pub max_amount: Option<String>,
    /// The counterparty, compared after normalisation (case, spacing, reference numbers).
    pub counterparty: Option<String>,
    /// `pending` or `posted`.
    pub status: Option<SpendStatus>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
}

impl TransactionParams {
    /// The storage filter, with amounts in minor units of the given currency.
    pub fn filter(&self) -> Result<SpendFilter> {
        let currency = match &self.currency {
            Some(code) => Some(Currency::iso(code).map_err(bad("currency"))?),
            None => None,
        };
        let amount = |name: &'static str, text: &Option<String>| -> Result<Option<i64>> {
            let Some(text) = text else { return Ok(None) };
            let (_, exponent) = currency.ok_or_else(|| {
                Error::BadRequest(format!(
                    "{name} needs currency: amounts compare in one currency"
                ))
            })?;
            parse_minor(text, exponent).map(Some).map_err(bad(name))
        };
        if let (Some(from), Some(to)) = (self.from, self.to) {
            if from > to {
                return Err(Error::BadRequest("from is after to".to_owned()));
            }
        }
        Ok(SpendFilter {
            account: self.account,
            source: self.source,
            from: self.from,
            to: self.to,
            min_minor: amount("min_amount", &self.min_amount)?,
            max_minor: amount("max_amount", &self.max_amount)?,
            currency: currency.map(|(c, _)| c.as_str().to_owned()),
            counterparty: match &self.counterparty {
                Some(text) => Some(counterparty::normalize(text).ok_or_else(|| {
                    Error::BadRequest("counterparty has no letters or digits".to_owned())
                })?),
                None => None,
            },
            status: self.status,
        })
    }
}

fn bad(name: &'static str) -> impl Fn(String) -> Error {
    move |reason| Error::BadRequest(format!("{name}: {reason}"))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TransactionPage {
    pub items: Vec<SpendEvent>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// The opaque cursor: the last event's time and id.
pub fn encode_cursor(cursor: SpendCursor) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        "{}|{}",
        time::to_text(&cursor.occurred_at.0),
        cursor.id
    ))
}

pub fn decode_cursor(text: &str) -> Result<SpendCursor> {
    let invalid = || Error::BadRequest("cursor is not one this API gave out".to_owned());
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (at, id) = text.split_once('|').ok_or_else(invalid)?;
    Ok(SpendCursor {
        occurred_at: Time(time::from_text(at).map_err(|_| invalid())?),
        id: id.parse::<SpendId>().map_err(|_| invalid())?,
    })
}

/// The tenant's transactions, newest first.
#[utoipa::path(get, path = "/api/v1/transactions", tag = "ledger", params(TransactionParams),
    security(("bearer" = [])),
    responses((status = 200, body = TransactionPage), (status = 400, body = crate::web::ErrorEnvelope),
        (status = 403, body = crate::web::ErrorEnvelope)))]
pub async fn list(
    State(state): State<LedgerState>,
    principal: Principal,
    params: Result<ValidQuery<TransactionParams>, Error>,
) -> Result<Json<TransactionPage>> {
    let (ledger, tenant) = open(&state, &principal, Permission::LedgerRead)?;
    let ValidQuery(params) = params?;
    let limit = page_size(params.limit)?;
    let filter = params.filter()?;
    let after = params.cursor.as_deref().map(decode_cursor).transpose()?;
    let page = ledger.store().page(tenant, &filter, after, limit).await?;
    Ok(Json(TransactionPage {
        items: page.items,
        next_cursor: page.next.map(encode_cursor),
    }))
}

/// One transaction.
#[utoipa::path(get, path = "/api/v1/transactions/{id}", tag = "ledger",
    params(("id" = String, Path, description = "transaction id")),
    security(("bearer" = [])),
    responses((status = 200, body = SpendEvent), (status = 404, body = crate::web::ErrorEnvelope)))]
pub async fn get(
    State(state): State<LedgerState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<SpendEvent>> {
    let (ledger, tenant) = open(&state, &principal, Permission::LedgerRead)?;
    let id: SpendId = id.parse().map_err(|_| Error::NotFound)?;
    ledger
        .store()
        .spend(tenant, id)
        .await?
        .map(Json)
        .ok_or(Error::NotFound)
}
