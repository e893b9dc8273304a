//! `GET/PUT /api/v1/detection/config` (the configuration with its change record and models),
//! `POST /api/v1/detection/retrain` and `POST /api/v1/detection/run` (queue a retraining or a
//! back-fill through the job runner).
//!
//! Invariant: reading needs `ledger:read`; changing, retraining and back-filling need
//! `detection:configure` and are audited.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{open, DetectState};
use crate::auth::{Permission, Principal};
use crate::detect::jobs::{backfill_job, retrain_job};
use crate::detect::{DetectionConfig, Sensitivity};
use crate::domain::{time, ModelId};
use crate::error::{Error, FieldError, Result};
use crate::web::{ClientIp, ValidJson, Validate};

/// A recorded change of the configuration.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConfigChange {
    /// The rule, or `*` for the whole configuration.
    pub rule: String,
    pub parameter: String,
    pub from: String,
    pub to: String,
    pub reason: String,
    /// `tuning` (feedback from reviews) or the user who set it.
    pub actor: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// A trained model.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Model {
    pub id: ModelId,
    pub version: i64,
    pub trained_at: chrono::DateTime<chrono::Utc>,
    /// Payments it was trained on.
    pub training_rows: i64,
    /// Anomaly scores at or above this make the forest fire.
    pub threshold: f64,
    pub features: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DetectionSettings {
    pub config: DetectionConfig,
    /// Newest first (the last 100).
    pub changes: Vec<ConfigChange>,
    /// Newest first.
    pub models: Vec<Model>,
}

/// The tenant's detection configuration, its change record and its models.
#[utoipa::path(get, path = "/api/v1/detection/config", tag = "detection",
    security(("bearer" = [])),
    responses((status = 200, body = DetectionSettings), (status = 403, body = crate::web::ErrorEnvelope)))]
pub async fn get(
    State(state): State<DetectState>,
    principal: Principal,
) -> Result<Json<DetectionSettings>> {
    let (detect, tenant) = open(&state, &principal, Permission::LedgerRead)?;
    let detector = detect.store();
    let changes = detector.store.detection_changes(tenant, 100).await?;
    let models = detector.store.models(tenant).await?;
    Ok(Json(DetectionSettings {
        config: detector.config(tenant).await?,
        changes: changes
            .into_iter()
            .map(|c| ConfigChange {
                rule: c.rule,
                parameter: c.parameter,
                from: c.from_value,
                to: c.to_value,
                reason: c.reason,
                actor: c.actor,
                at: c.created_at.0,
            })
            .collect(),
        models: models
            .into_iter()
            .map(|m| Model {
                id: m.id,
                version: m.version,
                trained_at: m.trained_at.0,
                training_rows: m.training_rows,
                threshold: m.threshold,
                features: m.features.split(',').map(str::to_owned).collect(),
            })
            .collect(),
    }))
}

/// Body of `PUT /api/v1/detection/config`: a preset, or a whole configuration.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutConfig {
    /// `low`, `medium` (the defaults) or `high`: every threshold at once.
    pub preset: Option<Sensitivity>,
    pub config: Option<DetectionConfig>,
}

impl Validate for PutConfig {
    fn validate(&self) -> Vec<FieldError> {
        match (&self.preset, &self.config) {
            (Some(_), None) => Vec::new(),
            (None, Some(config)) => match config.validate() {
                Ok(()) => Vec::new(),
                Err(message) => vec![FieldError::new("config", &message)],
            },
            _ => vec![FieldError::new("", "give exactly one of preset and config")],
        }
    }
}

/// Set the configuration: a preset or a whole configuration.
#[utoipa::path(put, path = "/api/v1/detection/config", tag = "detection", request_body = PutConfig,
    security(("bearer" = [])),
    responses((status = 200, body = DetectionSettings), (status = 403, body = crate::web::ErrorEnvelope),
        (status = 422, body = crate::web::ErrorEnvelope)))]
pub async fn put(
    State(state): State<DetectState>,
    principal: Principal,
    ip: ClientIp,
    ValidJson(body): ValidJson<PutConfig>,
) -> Result<Json<DetectionSettings>> {
    let (detect, tenant) = open(&state, &principal, Permission::DetectionConfigure)?;
    let (config, what) = match (body.preset, body.config) {
        (Some(preset), _) => (DetectionConfig::preset(preset), preset_name(preset)),
        (None, Some(config)) => (config, "custom"),
        (None, None) => return Err(Error::BadRequest("give a preset or a config".to_owned())),
    };
    detect
        .store()
        .put_config(tenant, &config, what, &principal.id)
        .await?;
    state.events.admin_action(
        &principal.id,
        ip.0,
        "detection.config",
        Some(("tenant", tenant.to_string())),
        Some(tenant),
        json!({ "set": what }),
    );
    get(State(state), principal).await
}

fn preset_name(preset: Sensitivity) -> &'static str {
    match preset {
        Sensitivity::Low => "low",
        Sensitivity::Medium => "medium",
        Sensitivity::High => "high",
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Queued {
    /// The job's id, or absent when the same work was already queued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<crate::domain::JobId>,
}

/// Train the tenant's next model now (through the job runner).
#[utoipa::path(post, path = "/api/v1/detection/retrain", tag = "detection",
    security(("bearer" = [])),
    responses((status = 202, body = Queued), (status = 403, body = crate::web::ErrorEnvelope)))]
pub async fn retrain(
    State(state): State<DetectState>,
    principal: Principal,
    ip: ClientIp,
) -> Result<(StatusCode, Json<Queued>)> {
    let (_, tenant) = open(&state, &principal, Permission::DetectionConfigure)?;
    let job_id = state.jobs.enqueue_job(&retrain_job(tenant)).await?;
    state.events.admin_action(
        &principal.id,
        ip.0,
        "detection.retrain",
        Some(("tenant", tenant.to_string())),
        Some(tenant),
        json!({}),
    );
    Ok((StatusCode::ACCEPTED, Json(Queued { job_id })))
}

/// Body of `POST /api/v1/detection/run`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunBody {
    /// Rescore what was booked on or after this date; everything when absent.
    #[schema(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
}

impl Validate for RunBody {}

/// Rescore the ledger (a back-fill through the job runner); cases are never raised twice.
#[utoipa::path(post, path = "/api/v1/detection/run", tag = "detection", request_body = RunBody,
    security(("bearer" = [])),
    responses((status = 202, body = Queued), (status = 403, body = crate::web::ErrorEnvelope),
        (status = 422, body = crate::web::ErrorEnvelope)))]
pub async fn run(
    State(state): State<DetectState>,
    principal: Principal,
    ip: ClientIp,
    ValidJson(body): ValidJson<RunBody>,
) -> Result<(StatusCode, Json<Queued>)> {
    let (_, tenant) = open(&state, &principal, Permission::DetectionConfigure)?;
    let job = backfill_job(tenant, body.from, time::now());
    let job_id = state.jobs.enqueue_job(&job).await?;
    state.events.admin_action(
        &principal.id,
        ip.0,
        "detection.run",
        Some(("tenant", tenant.to_string())),
        Some(tenant),
        json!({ "from": body.from }),
    );
    Ok((StatusCode::ACCEPTED, Json(Queued { job_id })))
}
