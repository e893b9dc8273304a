//! `GET /api/v1/security/alerts`: stored security alerts, newest first. System administrators see
//! every alert; a tenant's administrators see their tenant's.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::SecurityAlertFilter;
use super::{SecurityAlert, SecurityAlertKind, Severity};
use crate::auth::{Permission, Principal, Scoped};
use crate::error::{Error, Result};
use crate::web::pagination::{page_size, split_page};
use crate::web::ValidQuery;

/// What the security routes need: the alerts' storage.
#[derive(Clone)]
pub struct SecurityState {
    pub store: std::sync::Arc<dyn super::MonitorStore>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AlertParams {
    /// Only this kind, e.g. `failed_login_spike`.
    kind: Option<SecurityAlertKind>,
    /// Only this severity or higher: `low`, `medium`, `high`, `critical`.
    min_severity: Option<Severity>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// Alerts older than this one (the previous page's `next_before`).
    before: Option<uuid::Uuid>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SecurityAlertPage {
    pub items: Vec<SecurityAlert>,
    /// Pass as `before` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub next_before: Option<uuid::Uuid>,
}

/// Security alerts, newest first.
#[utoipa::path(get, path = "/api/v1/security/alerts", tag = "security", params(AlertParams),
    security(("bearer" = [])),
    responses((status = 200, body = SecurityAlertPage), (status = 401, body = crate::web::ErrorEnvelope),
        (status = 403, body = crate::web::ErrorEnvelope)))]
pub async fn list(
    State(state): State<SecurityState>,
    principal: Principal,
    params: Result<ValidQuery<AlertParams>, Error>,
) -> Result<Json<SecurityAlertPage>> {
    let alerts = Scoped::open_system_wide(&principal, Permission::SecurityRead, state.store)?;
    let ValidQuery(params) = params?;
    let limit = page_size(params.limit)?;
    let filter = SecurityAlertFilter {
        kind: params.kind,
        min_severity: params.min_severity,
        before: params.before,
    };
    let items = alerts
        .store()
        .list_alerts(alerts.scope(), &filter, limit + 1)
        .await?;
    let (items, next_before) = split_page(items, limit, |a| a.id);
    Ok(Json(SecurityAlertPage { items, next_before }))
}
