//! `GET /api/v1/detection/benford`: Benford's-law findings about the tenant's vendors and accounts
//! (first-digit distributions of their payments), computed from the ledger on request.
//!
//! Invariant: reading needs `ledger:read`; only subjects with the configured minimum of payments
//! are judged.

use axum::extract::State;
use axum::Json;
use serde::Serialize;

use super::{open, DetectState};
use crate::auth::{Permission, Principal};
use crate::detect::benford::{self, BenfordFinding};
use crate::error::Result;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BenfordList {
    pub items: Vec<BenfordFinding>,
}

/// Benford's-law findings per vendor and per account.
#[utoipa::path(get, path = "/api/v1/detection/benford", tag = "detection",
    security(("bearer" = [])),
    responses((status = 200, body = BenfordList), (status = 403, body = crate::web::ErrorEnvelope)))]
pub async fn benford(
    State(state): State<DetectState>,
    principal: Principal,
) -> Result<Json<BenfordList>> {
    let (detect, tenant) = open(&state, &principal, Permission::LedgerRead)?;
    let loaded = detect.store().load(tenant).await?;
    let min = loaded.config.benford_min_payments;
    let items =
        tokio::task::spawn_blocking(move || benford::findings(&loaded.history, min as usize))
            .await
            .map_err(|e| crate::Error::Internal(e.into()))?;
    Ok(Json(BenfordList { items }))
}
