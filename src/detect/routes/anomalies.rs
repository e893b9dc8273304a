//! `GET /api/v1/anomalies` (the review queue, riskiest first), `GET /api/v1/anomalies/{id}` (the
//! transaction masked, its factors, the case's history), `POST /api/v1/anomalies/{id}/review`
//! and `POST /api/v1/anomalies/{id}/assign`.
//!
//! Invariant: reading needs `ledger:read`; reviewing and assigning need `anomalies:review` and
//! are audited; a review's note is sealed before it is stored.

use axum::extract::{Path, State};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{open, DetectState};
use crate::auth::{Permission, Principal};
use crate::detect::review::CaseEvent;
use crate::detect::store::{AnomalyCursor, AnomalyFilter, AnomalyRow};
use crate::detect::tuning::Change;
use crate::detect::{AnomalyStatus, Factor, ReviewOutcome, RuleId};
use crate::domain::{AccountId, AnomalyId, Currency, Money, SpendId, UserId};
use crate::error::{Error, FieldError, Result};
use crate::ledger::{counterparty, SpendEvent};
use crate::store::Scope;
use crate::web::pagination::{page_size, split_page};
use crate::web::{ClientIp, ValidJson, ValidQuery, Validate};

/// Which anomalies: every filter is optional and they combine with AND.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AnomalyParams {
    /// `open`, `investigating` or `closed`.
    pub status: Option<AnomalyStatus>,
    /// Only risk scores at or above this (0–100).
    #[param(minimum = 0, maximum = 100)]
    pub min_risk: Option<u8>,
    /// Only cases where this rule fired (`large_amount`, `duplicate`, …, `isolation_forest`).
    pub rule: Option<RuleId>,
    #[param(value_type = Option<String>, format = Uuid)]
    pub account: Option<AccountId>,
    /// The vendor, compared after normalisation.
    pub vendor: Option<String>,
    /// Booked on or after this date.
    pub from: Option<NaiveDate>,
    /// Booked on or before this date.
    pub to: Option<NaiveDate>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// One case in the queue.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Anomaly {
    pub id: AnomalyId,
    pub status: AnomalyStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<ReviewOutcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<UserId>,
    /// The transaction's current risk score, 0–100.
    pub risk: i64,
    /// Why, with the numbers: one factor per rule that fired.
    pub factors: Vec<Factor>,
    pub transaction_id: SpendId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<AccountId>,
    /// The normalised counterparty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    #[schema(value_type = String, format = Date)]
    pub booked_on: NaiveDate,
    /// Decimal text in major units.
    pub amount: String,
    #[schema(value_type = String, example = "USD")]
    pub currency: Currency,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reviewed_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl TryFrom<AnomalyRow> for Anomaly {
    type Error = Error;
    fn try_from(r: AnomalyRow) -> Result<Self> {
        let corrupt =
            |what: &str| Error::Internal(anyhow::anyhow!("corrupt anomaly {}: {what}", r.id));
        let currency = Currency::parse(&r.currency).map_err(|_| corrupt("currency"))?;
        Ok(Anomaly {
            id: r.id,
            status: AnomalyStatus::parse(&r.status).ok_or_else(|| corrupt("status"))?,
            outcome: r.outcome.as_deref().and_then(ReviewOutcome::parse),
            assignee: r.assignee,
            risk: r.score,
            factors: serde_json::from_str(&r.factors).map_err(|_| corrupt("factors"))?,
            transaction_id: r.spend_id,
            account_id: r.account_id,
            vendor: r.counterparty,
            booked_on: r.booked_on,
            amount: Money::new(r.amount_minor, currency).decimal(),
            currency,
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
            reviewed_at: r.reviewed_at.map(|t| t.0),
        })
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AnomalyPage {
    pub items: Vec<Anomaly>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A case in full.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AnomalyDetail {
    #[serde(flatten)]
    pub anomaly: Anomaly,
    /// The transaction, account numbers masked.
    pub transaction: SpendEvent,
    /// Raised, reviewed, assigned: oldest first.
    pub history: Vec<CaseEvent>,
}

fn encode_cursor(c: AnomalyCursor) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{}", c.score, c.id))
}

fn decode_cursor(text: &str) -> Result<AnomalyCursor> {
    let invalid = || Error::BadRequest("cursor is not one this API gave out".to_owned());
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (score, id) = text.split_once('|').ok_or_else(invalid)?;
    Ok(AnomalyCursor {
        score: score.parse().map_err(|_| invalid())?,
        id: id.parse().map_err(|_| invalid())?,
    })
}

/// The review queue, riskiest first.
#[utoipa::path(get, path = "/api/v1/anomalies", tag = "detection", params(AnomalyParams),
    security(("bearer" = [])),
    responses((status = 200, body = AnomalyPage), (status = 400, body = crate::web::ErrorEnvelope),
        (status = 403, body = crate::web::ErrorEnvelope)))]
pub async fn list(
    State(state): State<DetectState>,
    principal: Principal,
    params: Result<ValidQuery<AnomalyParams>, Error>,
) -> Result<Json<AnomalyPage>> {
    let (detect, tenant) = open(&state, &principal, Permission::LedgerRead)?;
    let ValidQuery(p) = params?;
    let limit = page_size(p.limit)?;
    if p.min_risk.is_some_and(|r| r > 100) {
        return Err(Error::BadRequest(
            "min_risk must be between 0 and 100".to_owned(),
        ));
    }
    if let (Some(from), Some(to)) = (p.from, p.to) {
        if from > to {
            return Err(Error::BadRequest("from is after to".to_owned()));
        }
    }
    let filter =
        AnomalyFilter {
            status: p.status.map(|s| s.as_str().to_owned()),
            min_score: p.min_risk.map(i64::from),
            rule: p.rule.map(|r| r.as_str().to_owned()),
            account: p.account,
            vendor: match &p.vendor {
                Some(v) => Some(counterparty::normalize(v).ok_or_else(|| {
                    Error::BadRequest("vendor has no letters or digits".to_owned())
                })?),
                None => None,
            },
            from: p.from,
            to: p.to,
        };
    let after = p.cursor.as_deref().map(decode_cursor).transpose()?;
    let rows = detect
        .store()
        .store
        .anomaly_page(tenant, &filter, after, limit + 1)
        .await?;
    let (rows, next) = split_page(rows, limit, |r| AnomalyCursor {
        score: r.score,
        id: r.id,
    });
    Ok(Json(AnomalyPage {
        items: rows
            .into_iter()
            .map(Anomaly::try_from)
            .collect::<Result<_>>()?,
        next_cursor: next.map(encode_cursor),
    }))
}

/// One case: its transaction (masked), factors and history.
#[utoipa::path(get, path = "/api/v1/anomalies/{id}", tag = "detection",
    params(("id" = String, Path, description = "anomaly id")),
    security(("bearer" = [])),
    responses((status = 200, body = AnomalyDetail), (status = 404, body = crate::web::ErrorEnvelope)))]
pub async fn get(
    State(state): State<DetectState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<AnomalyDetail>> {
    let (detect, tenant) = open(&state, &principal, Permission::LedgerRead)?;
    let id: AnomalyId = id.parse().map_err(|_| Error::NotFound)?;
    let row = detect
        .store()
        .store
        .anomaly(tenant, id)
        .await?
        .ok_or(Error::NotFound)?;
    let transaction = state
        .ledger
        .spend(tenant, row.spend_id)
        .await?
        .ok_or(Error::NotFound)?;
    let history = detect.store().history(&state.keyring, tenant, id).await?;
    Ok(Json(AnomalyDetail {
        anomaly: Anomaly::try_from(row)?,
        transaction,
        history,
    }))
}

/// Body of `POST /api/v1/anomalies/{id}/review`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    pub status: AnomalyStatus,
    /// What the reviewer concluded; `false_positive` outcomes raise the rules' thresholds.
    pub outcome: Option<ReviewOutcome>,
    /// Up to 2,000 characters; stored encrypted.
    pub note: Option<String>,
}

impl Validate for ReviewBody {
    fn validate(&self) -> Vec<FieldError> {
        match &self.note {
            Some(note) if note.chars().count() > 2000 => {
                vec![FieldError::new("note", "must be at most 2000 characters")]
            }
            _ => Vec::new(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReviewResult {
    pub anomaly: AnomalyDetail,
    /// Threshold changes this review led to (feedback tuning), with their reasons.
    pub tuning: Vec<Change>,
}

/// Review a case.
#[utoipa::path(post, path = "/api/v1/anomalies/{id}/review", tag = "detection",
    request_body = ReviewBody, params(("id" = String, Path, description = "anomaly id")),
    security(("bearer" = [])),
    responses((status = 200, body = ReviewResult), (status = 403, body = crate::web::ErrorEnvelope),
        (status = 404, body = crate::web::ErrorEnvelope), (status = 422, body = crate::web::ErrorEnvelope)))]
pub async fn review(
    State(state): State<DetectState>,
    principal: Principal,
    ip: ClientIp,
    Path(id): Path<String>,
    ValidJson(body): ValidJson<ReviewBody>,
) -> Result<Json<ReviewResult>> {
    let (detect, tenant) = open(&state, &principal, Permission::AnomaliesReview)?;
    let anomaly: AnomalyId = id.parse().map_err(|_| Error::NotFound)?;
    let tuning = detect
        .store()
        .review(
            &state.keyring,
            tenant,
            anomaly,
            &principal.id,
            body.status,
            body.outcome,
            body.note.as_deref(),
        )
        .await?;
    state.events.admin_action(
        &principal.id,
        ip.0,
        "anomaly.review",
        Some(("anomaly", anomaly.to_string())),
        Some(tenant),
        json!({ "status": body.status, "outcome": body.outcome, "note": body.note.is_some(),
            "threshold_changes": tuning.len() }),
    );
    let Json(detail) = get(State(state), principal, Path(id)).await?;
    Ok(Json(ReviewResult {
        anomaly: detail,
        tuning,
    }))
}

/// Body of `POST /api/v1/anomalies/{id}/assign`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// One of the tenant's users, or `null` to unassign.
    pub user_id: Option<UserId>,
}

impl Validate for AssignBody {}

/// Assign a case to a user (or nobody).
#[utoipa::path(post, path = "/api/v1/anomalies/{id}/assign", tag = "detection",
    request_body = AssignBody, params(("id" = String, Path, description = "anomaly id")),
    security(("bearer" = [])),
    responses((status = 200, body = AnomalyDetail), (status = 403, body = crate::web::ErrorEnvelope),
        (status = 404, body = crate::web::ErrorEnvelope), (status = 422, body = crate::web::ErrorEnvelope)))]
pub async fn assign(
    State(state): State<DetectState>,
    principal: Principal,
    ip: ClientIp,
    Path(id): Path<String>,
    ValidJson(body): ValidJson<AssignBody>,
) -> Result<Json<AnomalyDetail>> {
    let (detect, tenant) = open(&state, &principal, Permission::AnomaliesReview)?;
    let anomaly: AnomalyId = id.parse().map_err(|_| Error::NotFound)?;
    if let Some(user) = body.user_id {
        if state
            .users
            .get_user(Scope::Tenant(tenant), user)
            .await?
            .is_none()
        {
            return Err(Error::Validation(vec![FieldError::new(
                "user_id",
                "is not a user of this tenant",
            )]));
        }
    }
    detect
        .store()
        .assign(tenant, anomaly, &principal.id, body.user_id)
        .await?;
    state.events.admin_action(
        &principal.id,
        ip.0,
        "anomaly.assign",
        Some(("anomaly", anomaly.to_string())),
        Some(tenant),
        json!({ "user_id": body.user_id }),
    );
    get(State(state), principal, Path(id)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_anything_else() {
        let cursor = AnomalyCursor {
            score: 75,
            id: AnomalyId::new(),
        };
        assert_eq!(decode_cursor(&encode_cursor(cursor)).unwrap(), cursor);
        assert!(decode_cursor("bm9wZQ").is_err());
    }
}
