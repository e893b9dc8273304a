//! `GET/POST /api/v1/vendors`, `DELETE /api/v1/vendors/{id}`: the tenant's approved vendors,
//! matched to payments by normalised name.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{open, LedgerState};
use crate::auth::{Permission, Principal};
use crate::domain::{time, VendorId};
use crate::error::{Error, FieldError, Result};
use crate::ledger::counterparty;
use crate::ledger::store::VendorRow;
use crate::store::Time;
use crate::web::{ClientIp, ValidJson, Validate};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Vendor {
    pub id: VendorId,
    pub name: String,
    /// What payments are matched on.
    pub normalized: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<VendorRow> for Vendor {
    fn from(r: VendorRow) -> Self {
        Vendor {
            id: r.id,
            name: r.name,
            normalized: r.normalized,
            created_at: r.created_at.0,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VendorList {
    pub items: Vec<Vendor>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddVendor {
    /// The vendor's name as it appears on statements, e.g. `Amazon Web Services`.
    pub name: String,
}

impl Validate for AddVendor {
    fn validate(&self) -> Vec<FieldError> {
        let n = self.name.trim().chars().count();
        if n == 0 || n > 200 || counterparty::normalize(&self.name).is_none() {
            return vec![FieldError::new(
                "name",
                "must be 1 to 200 characters with a letter or digit",
            )];
        }
        Vec::new()
    }
}

/// The approved-vendor list.
#[utoipa::path(get, path = "/api/v1/vendors", tag = "ledger",
    security(("bearer" = [])),
    responses((status = 200, body = VendorList), (status = 403, body = crate::web::ErrorEnvelope)))]
pub async fn list(
    State(state): State<LedgerState>,
    principal: Principal,
) -> Result<Json<VendorList>> {
    let (ledger, tenant) = open(&state, &principal, Permission::LedgerRead)?;
    let rows = ledger.store().store().vendors(tenant).await?;
    Ok(Json(VendorList {
        items: rows.into_iter().map(Vendor::from).collect(),
    }))
}

/// Approve a vendor.
#[utoipa::path(post, path = "/api/v1/vendors", tag = "ledger", request_body = AddVendor,
    security(("bearer" = [])),
    responses((status = 201, body = Vendor), (status = 409, body = crate::web::ErrorEnvelope),
        (status = 422, body = crate::web::ErrorEnvelope)))]
pub async fn add(
    State(state): State<LedgerState>,
    principal: Principal,
    ip: ClientIp,
    ValidJson(body): ValidJson<AddVendor>,
) -> Result<(StatusCode, Json<Vendor>)> {
    let (ledger, tenant) = open(&state, &principal, Permission::SettingsWrite)?;
    let name = body.name.trim().to_owned();
    let row = VendorRow {
        id: VendorId::new(),
        normalized: counterparty::normalize(&name)
            .ok_or_else(|| Error::BadRequest("name has no letters or digits".to_owned()))?,
        name,
        created_at: Time(time::now()),
    };
    ledger.store().store().insert_vendor(tenant, &row).await?;
    state.events.admin_action(
        &principal.id,
        ip.0,
        "ledger.vendor_add",
        Some(("vendor", row.id.to_string())),
        Some(tenant),
        json!({ "normalized": row.normalized }),
    );
    Ok((StatusCode::CREATED, Json(Vendor::from(row))))
}

/// Take a vendor off the approved list.
#[utoipa::path(delete, path = "/api/v1/vendors/{id}", tag = "ledger",
    params(("id" = String, Path, description = "vendor id")),
    security(("bearer" = [])),
    responses((status = 204, description = "removed"), (status = 404, body = crate::web::ErrorEnvelope)))]
pub async fn delete(
    State(state): State<LedgerState>,
    principal: Principal,
    ip: ClientIp,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    let (ledger, tenant) = open(&state, &principal, Permission::SettingsWrite)?;
    let id: VendorId = id.parse().map_err(|_| Error::NotFound)?;
    if !ledger.store().store().delete_vendor(tenant, id).await? {
        return Err(Error::NotFound);
    }
    state.events.admin_action(
        &principal.id,
        ip.0,
        "ledger.vendor_delete",
        Some(("vendor", id.to_string())),
        Some(tenant),
        json!({}),
    );
    Ok(StatusCode::NO_CONTENT)
}
