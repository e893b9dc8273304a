//! `GET/POST /api/v1/budgets`, `GET/PATCH/DELETE /api/v1/budgets/{id}` and
//! `GET /api/v1/budgets/{id}/status`: a tenant's budgets, read with `ledger:read` (viewers,
//! auditors, admins, `read` API keys) and changed with `budgets:manage` (admins).
//!
//! Invariant: every handler fixes the caller's own tenant through the permission check before
//! any storage call, and every change is an audit event naming the budget and what it became.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use serde_json::json;

use super::model::{Budget, BudgetInput, BudgetPatch};
use super::{BudgetStatus, Budgets};
use crate::auth::{Permission, Principal, Scoped};
use crate::domain::{time, BudgetId, TenantId};
use crate::error::{Error, FieldError, Result};
use crate::events::Events;
use crate::web::{ClientIp, ValidJson, Validate};

/// What the budget routes need.
#[derive(Clone)]
pub struct BudgetsState {
    pub budgets: Arc<Budgets>,
    pub events: Arc<Events>,
}

/// The caller's own tenant, once `permission` is checked.
fn open(principal: &Principal, permission: Permission) -> Result<TenantId> {
    let handle = Scoped::open_tenant(principal, permission, Arc::new(()))?;
    handle.tenant().ok_or(Error::Forbidden)
}

fn id_of(text: &str) -> Result<BudgetId> {
    text.parse().map_err(|_| Error::NotFound)
}

impl Validate for BudgetInput {
    fn validate(&self) -> Vec<FieldError> {
        match self.check() {
            Err(Error::Validation(errors)) => errors,
            _ => Vec::new(),
        }
    }
}

impl Validate for BudgetPatch {}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BudgetList {
    pub items: Vec<Budget>,
}

/// The tenant's budgets, by name.
#[utoipa::path(get, path = "/api/v1/budgets", tag = "budgets",
    security(("bearer" = [])),
    responses((status = 200, body = BudgetList), (status = 403, body = crate::web::ErrorEnvelope)))]
pub async fn list(
    State(state): State<BudgetsState>,
    principal: Principal,
) -> Result<Json<BudgetList>> {
    let tenant = open(&principal, Permission::LedgerRead)?;
    Ok(Json(BudgetList {
        items: state.budgets.list(tenant).await?,
    }))
}

/// Create a budget.
#[utoipa::path(post, path = "/api/v1/budgets", tag = "budgets", request_body = BudgetInput,
    security(("bearer" = [])),
    responses((status = 201, body = Budget),
        (status = 400, body = crate::web::ErrorEnvelope),
        (status = 403, body = crate::web::ErrorEnvelope),
        (status = 409, body = crate::web::ErrorEnvelope, description = "a budget with this name exists"),
        (status = 422, body = crate::web::ErrorEnvelope, description = "a field is invalid")))]
pub async fn create(
    State(state): State<BudgetsState>,
    principal: Principal,
    ip: ClientIp,
    ValidJson(body): ValidJson<BudgetInput>,
) -> Result<(StatusCode, Json<Budget>)> {
    let tenant = open(&principal, Permission::BudgetsManage)?;
    let budget = state.budgets.create(tenant, &body, &principal.id).await?;
    audit(&state, &principal, ip, "budgets.create", tenant, &budget);
    Ok((StatusCode::CREATED, Json(budget)))
}

/// One budget.
#[utoipa::path(get, path = "/api/v1/budgets/{id}", tag = "budgets",
    params(("id" = String, Path, description = "budget id")),
    security(("bearer" = [])),
    responses((status = 200, body = Budget), (status = 403, body = crate::web::ErrorEnvelope),
        (status = 404, body = crate::web::ErrorEnvelope)))]
pub async fn get(
    State(state): State<BudgetsState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Budget>> {
    let tenant = open(&principal, Permission::LedgerRead)?;
    Ok(Json(state.budgets.get(tenant, id_of(&id)?).await?))
}

/// Change a budget: the fields given replace its own (`null` clears an optional one).
#[utoipa::path(patch, path = "/api/v1/budgets/{id}", tag = "budgets", request_body = BudgetPatch,
    params(("id" = String, Path, description = "budget id")),
    security(("bearer" = [])),
    responses((status = 200, body = Budget),
        (status = 400, body = crate::web::ErrorEnvelope),
        (status = 403, body = crate::web::ErrorEnvelope),
        (status = 404, body = crate::web::ErrorEnvelope),
        (status = 409, body = crate::web::ErrorEnvelope, description = "a budget with this name exists"),
        (status = 422, body = crate::web::ErrorEnvelope, description = "a field is invalid")))]
pub async fn update(
    State(state): State<BudgetsState>,
    principal: Principal,
    ip: ClientIp,
    Path(id): Path<String>,
    ValidJson(body): ValidJson<BudgetPatch>,
) -> Result<Json<Budget>> {
    let tenant = open(&principal, Permission::BudgetsManage)?;
    let budget = state
        .budgets
        .update(tenant, id_of(&id)?, body, &principal.id)
        .await?;
    audit(&state, &principal, ip, "budgets.update", tenant, &budget);
    Ok(Json(budget))
}

/// Delete a budget: the gateway stops enforcing it at once on this instance, within two
/// seconds on others.
#[utoipa::path(delete, path = "/api/v1/budgets/{id}", tag = "budgets",
    params(("id" = String, Path, description = "budget id")),
    security(("bearer" = [])),
    responses((status = 204, description = "deleted"), (status = 403, body = crate::web::ErrorEnvelope),
        (status = 404, body = crate::web::ErrorEnvelope)))]
pub async fn delete(
    State(state): State<BudgetsState>,
    principal: Principal,
    ip: ClientIp,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    let tenant = open(&principal, Permission::BudgetsManage)?;
    let budget = state.budgets.delete(tenant, id_of(&id)?).await?;
    audit(&state, &principal, ip, "budgets.delete", tenant, &budget);
    Ok(StatusCode::NO_CONTENT)
}

/// A budget's standing this period: spent, reserved by calls in flight, remaining, and the
/// projection to the period's end at its rate so far.
#[utoipa::path(get, path = "/api/v1/budgets/{id}/status", tag = "budgets",
    params(("id" = String, Path, description = "budget id")),
    security(("bearer" = [])),
    responses((status = 200, body = BudgetStatus), (status = 403, body = crate::web::ErrorEnvelope),
        (status = 404, body = crate::web::ErrorEnvelope)))]
pub async fn status(
    State(state): State<BudgetsState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<BudgetStatus>> {
    let tenant = open(&principal, Permission::LedgerRead)?;
    Ok(Json(
        state
            .budgets
            .status(tenant, id_of(&id)?, time::now())
            .await?,
    ))
}

fn audit(
    state: &BudgetsState,
    principal: &Principal,
    ip: ClientIp,
    action: &'static str,
    tenant: TenantId,
    budget: &Budget,
) {
    state.events.admin_action(
        &principal.id,
        ip.0,
        action,
        Some(("budget", budget.id.to_string())),
        Some(tenant),
        json!(budget),
    );
}
