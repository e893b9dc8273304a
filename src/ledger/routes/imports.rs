//! `GET /api/v1/imports`: the tenant's bank-file imports, newest first, with their counts.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::{open, LedgerState};
use crate::auth::{Permission, Principal};
use crate::domain::ImportId;
use crate::error::{Error, Result};
use crate::ledger::imports::ImportSummary;
use crate::web::pagination::{page_size, split_page};
use crate::web::ValidQuery;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportParams {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// Imports older than this one (the previous page's `next_before`).
    #[param(value_type = Option<String>, format = Uuid)]
    before: Option<ImportId>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportPage {
    pub items: Vec<ImportSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_before: Option<ImportId>,
}

/// The tenant's imports.
#[utoipa::path(get, path = "/api/v1/imports", tag = "ledger", params(ImportParams),
    security(("bearer" = [])),
    responses((status = 200, body = ImportPage), (status = 403, body = crate::web::ErrorEnvelope)))]
pub async fn list(
    State(state): State<LedgerState>,
    principal: Principal,
    params: Result<ValidQuery<ImportParams>, Error>,
) -> Result<Json<ImportPage>> {
    let (ledger, tenant) = open(&state, &principal, Permission::LedgerRead)?;
    let ValidQuery(params) = params?;
    let limit = page_size(params.limit)?;
    let items = ledger
        .store()
        .imports(tenant, params.before, limit + 1)
        .await?;
    let (items, next_before) = split_page(items, limit, |i| i.id);
    Ok(Json(ImportPage { items, next_before }))
}
