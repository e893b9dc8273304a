//! `GET /api/v1/security/alerts`: stored security alerts, newest first. System administrators see
//! every alert; a tenant's administrators see their tenant's.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::{Alert, AlertKind, Severity};
use crate::auth::{Permission, Principal};
use crate::error::{Error, Result};
use crate::store::{AlertFilter, AlertScope};
use crate::web::pagination::{page_size, split_page};
use crate::web::{AppState, ValidQuery};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AlertParams {
    /// Only this kind, e.g. `failed_login_spike`.
    kind: Option<AlertKind>,
    /// Only this severity or higher: `low`, `medium`, `high`, `critical`.
    min_severity: Option<Severity>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// Alerts older than this one (the previous page's `next_before`).
    before: Option<uuid::Uuid>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AlertPage {
    pub items: Vec<Alert>,
    /// Pass as `before` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub next_before: Option<uuid::Uuid>,
}

/// Security alerts, newest first.
#[utoipa::path(get, path = "/api/v1/security/alerts", tag = "security", params(AlertParams),
    security(("bearer" = [])),
    responses((status = 200, body = AlertPage), (status = 401, body = crate::web::ErrorEnvelope),
        (status = 403, body = crate::web::ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    params: Result<ValidQuery<AlertParams>, Error>,
) -> Result<Json<AlertPage>> {
    principal.require(Permission::SecurityRead)?;
    let ValidQuery(params) = params?;
    let limit = page_size(params.limit)?;
    let scope = match (principal.system_admin, principal.tenant) {
        (true, _) => AlertScope::All,
        (false, Some(tenant)) => AlertScope::Tenant(tenant),
        (false, None) => return Err(Error::Forbidden),
    };
    let filter = AlertFilter {
        kind: params.kind,
        min_severity: params.min_severity,
        before: params.before,
    };
    let items = state.store.list_alerts(scope, &filter, limit + 1).await?;
    let (items, next_before) = split_page(items, limit, |a| a.id);
    Ok(Json(AlertPage { items, next_before }))
}
