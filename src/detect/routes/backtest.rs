//! `POST /api/v1/detection/backtest`: how many anomalies a proposed configuration would have
//! raised over a past period, beside the current configuration's count. Changes nothing.
//!
//! Invariant: read-only: it scores in memory and writes no score, case or configuration.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{open, DetectState};
use crate::auth::{Permission, Principal};
use crate::detect::service::{compute_with, Loaded, Scored};
use crate::detect::{DetectionConfig, Sensitivity};
use crate::domain::{time, SpendId};
use crate::error::{FieldError, Result};
use crate::web::{ValidJson, Validate};

/// The longest period a back-test covers.
const MAX_DAYS: i64 = 731;

/// Body: the period and a proposed configuration (or preset).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BacktestBody {
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    pub preset: Option<Sensitivity>,
    pub config: Option<DetectionConfig>,
}

impl Validate for BacktestBody {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.from > self.to || (self.to - self.from).num_days() > MAX_DAYS {
            errors.push(FieldError::new(
                "to",
                "must be on or after from, at most two years later",
            ));
        }
        match (&self.preset, &self.config) {
            (Some(_), None) => {}
            (None, Some(config)) => {
                if let Err(message) = config.validate() {
                    errors.push(FieldError::new("config", &message));
                }
            }
            _ => errors.push(FieldError::new("", "give exactly one of preset and config")),
        }
        errors
    }
}

/// What one configuration raises over the period.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RuleCounts {
    /// Transactions at or above the alert threshold.
    pub anomalies: u64,
    /// How often each rule fired on those anomalies.
    pub by_rule: BTreeMap<String, u64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BacktestResult {
    /// Transactions booked in the period.
    pub transactions: u64,
    pub proposed: RuleCounts,
    pub current: RuleCounts,
}

/// Dry-run a configuration over a past period.
#[utoipa::path(post, path = "/api/v1/detection/backtest", tag = "detection",
    request_body = BacktestBody, security(("bearer" = [])),
    responses((status = 200, body = BacktestResult), (status = 403, body = crate::web::ErrorEnvelope),
        (status = 422, body = crate::web::ErrorEnvelope)))]
pub async fn backtest(
    State(state): State<DetectState>,
    principal: Principal,
    ValidJson(body): ValidJson<BacktestBody>,
) -> Result<Json<BacktestResult>> {
    let (detect, tenant) = open(&state, &principal, Permission::AnomaliesReview)?;
    let proposed = match (body.preset, body.config) {
        (Some(preset), _) => DetectionConfig::preset(preset),
        (None, Some(config)) => config,
        (None, None) => DetectionConfig::default(),
    };
    let loaded = detect.store().load(tenant).await?;
    let (from, to) = (body.from, body.to);
    let result = tokio::task::spawn_blocking(move || {
        let ids: Vec<SpendId> = loaded
            .history
            .txns()
            .iter()
            .filter(|t| t.booked_on >= from && t.booked_on <= to)
            .map(|t| t.id)
            .collect();
        let current = loaded.config.clone();
        BacktestResult {
            transactions: ids.len() as u64,
            proposed: outcome(&loaded, &proposed, &ids),
            current: outcome(&loaded, &current, &ids),
        }
    })
    .await
    .map_err(|e| crate::Error::Internal(e.into()))?;
    Ok(Json(result))
}

fn outcome(loaded: &Loaded, config: &DetectionConfig, ids: &[SpendId]) -> RuleCounts {
    let scored: Vec<Scored> = compute_with(loaded, config, ids, time::now());
    let mut result = RuleCounts {
        anomalies: 0,
        by_rule: BTreeMap::new(),
    };
    for s in scored
        .iter()
        .filter(|s| s.score >= config.alert_threshold && !s.factors.is_empty())
    {
        result.anomalies += 1;
        for factor in &s.factors {
            *result
                .by_rule
                .entry(factor.rule.as_str().to_owned())
                .or_default() += 1;
        }
    }
    result
}
