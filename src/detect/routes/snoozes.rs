//! `GET/POST /api/v1/detection/snoozes`, `DELETE /api/v1/detection/snoozes/{id}`: a rule silenced
//! for one vendor or one account until a given time.
//!
//! Invariant: reading needs `ledger:read`; snoozing and unsnoozing need `anomalies:review` and
//! are audited; a snooze ends in the future and at most a year ahead.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{open, DetectState};
use crate::auth::{Permission, Principal};
use crate::detect::service::snooze_of;
use crate::detect::store::SnoozeRow;
use crate::detect::{RuleId, Snooze, SnoozeTarget};
use crate::domain::{time, AccountId, SnoozeId};
use crate::error::{Error, FieldError, Result};
use crate::ledger::counterparty;
use crate::store::Time;
use crate::web::{ClientIp, ValidJson, Validate};

/// The longest snooze.
const MAX_DAYS: i64 = 366;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SnoozeList {
    pub items: Vec<Snooze>,
}

/// The tenant's snoozes, latest ending first (ended ones included).
#[utoipa::path(get, path = "/api/v1/detection/snoozes", tag = "detection",
    security(("bearer" = [])),
    responses((status = 200, body = SnoozeList), (status = 403, body = crate::web::ErrorEnvelope)))]
pub async fn list(
    State(state): State<DetectState>,
    principal: Principal,
) -> Result<Json<SnoozeList>> {
    let (detect, tenant) = open(&state, &principal, Permission::LedgerRead)?;
    let rows = detect.store().store.snoozes(tenant).await?;
    Ok(Json(SnoozeList {
        items: rows.into_iter().filter_map(snooze_of).collect(),
    }))
}

/// Body of `POST /api/v1/detection/snoozes`: one of `vendor` and `account`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSnooze {
    pub rule: RuleId,
    /// The vendor as it appears on statements (matched after normalisation).
    pub vendor: Option<String>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub account: Option<AccountId>,
    /// When the rule speaks again (RFC 3339, in the future, at most a year ahead).
    pub until: chrono::DateTime<chrono::Utc>,
}

impl NewSnooze {
    fn target(&self) -> Option<SnoozeTarget> {
        match (&self.vendor, self.account) {
            (Some(vendor), None) => counterparty::normalize(vendor).map(SnoozeTarget::Vendor),
            (None, Some(account)) => Some(SnoozeTarget::Account(account)),
            _ => None,
        }
    }
}

impl Validate for NewSnooze {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.target().is_none() {
            errors.push(FieldError::new(
                "",
                "give exactly one of vendor (with a letter or digit) and account",
            ));
        }
        let now = time::now();
        if self.until <= now || self.until > now + chrono::Duration::days(MAX_DAYS) {
            errors.push(FieldError::new(
                "until",
                "must be in the future, at most a year ahead",
            ));
        }
        errors
    }
}

/// Silence a rule for a vendor or an account.
#[utoipa::path(post, path = "/api/v1/detection/snoozes", tag = "detection", request_body = NewSnooze,
    security(("bearer" = [])),
    responses((status = 201, body = Snooze), (status = 403, body = crate::web::ErrorEnvelope),
        (status = 422, body = crate::web::ErrorEnvelope)))]
pub async fn create(
    State(state): State<DetectState>,
    principal: Principal,
    ip: ClientIp,
    ValidJson(body): ValidJson<NewSnooze>,
) -> Result<(StatusCode, Json<Snooze>)> {
    let (detect, tenant) = open(&state, &principal, Permission::AnomaliesReview)?;
    let target = body
        .target()
        .ok_or_else(|| Error::BadRequest("give a vendor or an account".to_owned()))?;
    let (kind, value) = match &target {
        SnoozeTarget::Vendor(name) => ("vendor", name.clone()),
        SnoozeTarget::Account(id) => ("account", id.to_string()),
    };
    let row = SnoozeRow {
        id: SnoozeId::new(),
        rule: body.rule.as_str().to_owned(),
        target_kind: kind.to_owned(),
        target_value: value,
        until: Time(body.until),
        created_by: principal.id.clone(),
        created_at: Time(time::now()),
    };
    detect.store().store.insert_snooze(tenant, &row).await?;
    state.events.admin_action(
        &principal.id,
        ip.0,
        "detection.snooze",
        Some(("snooze", row.id.to_string())),
        Some(tenant),
        json!({ "rule": body.rule, "target": kind, "until": body.until }),
    );
    let snooze = Snooze {
        id: row.id,
        rule: body.rule,
        target,
        until: body.until,
    };
    Ok((StatusCode::CREATED, Json(snooze)))
}

/// End a snooze now.
#[utoipa::path(delete, path = "/api/v1/detection/snoozes/{id}", tag = "detection",
    params(("id" = String, Path, description = "snooze id")),
    security(("bearer" = [])),
    responses((status = 204, description = "removed"), (status = 404, body = crate::web::ErrorEnvelope)))]
pub async fn delete(
    State(state): State<DetectState>,
    principal: Principal,
    ip: ClientIp,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    let (detect, tenant) = open(&state, &principal, Permission::AnomaliesReview)?;
    let id: SnoozeId = id.parse().map_err(|_| Error::NotFound)?;
    if !detect.store().store.delete_snooze(tenant, id).await? {
        return Err(Error::NotFound);
    }
    state.events.admin_action(
        &principal.id,
        ip.0,
        "detection.unsnooze",
        Some(("snooze", id.to_string())),
        Some(tenant),
        json!({}),
    );
    Ok(StatusCode::NO_CONTENT)
}
