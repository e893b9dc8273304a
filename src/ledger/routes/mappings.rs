//! `GET/POST /api/v1/import-mappings`: CSV mappings saved per tenant by name, so each bank's
//! export is described once.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{open, LedgerState};
use crate::auth::{Permission, Principal};
use crate::domain::time;
use crate::error::{Error, FieldError, Result};
use crate::ledger::import::csv::CsvMapping;
use crate::ledger::store::MappingRow;
use crate::store::Time;
use crate::web::{ClientIp, ValidJson, Validate};

/// A saved mapping.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportMapping {
    /// Letters, digits, `-`, `_` and `.`, up to 64: what `--mapping` and the import form name.
    pub name: String,
    /// Which columns hold what: `date`, `date_format`, `amount` (`{"single": "Amount"}` or
    /// `{"split": {"debit": "Debit", "credit": "Credit"}}`), separators, `description`,
    /// `counterparty`, `currency`/`default_currency`, `delimiter`, `header`, `skip_lines`,
    /// `encoding`. See the README's "Bank files" section.
    #[schema(value_type = Object)]
    pub mapping: CsvMapping,
}

impl Validate for ImportMapping {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if !valid_name(&self.name) {
            errors.push(FieldError::new(
                "name",
                "must be 1 to 64 letters, digits, '-', '_' or '.'",
            ));
        }
        if let Err(reason) = check(&self.mapping) {
            errors.push(FieldError::new("mapping", reason));
        }
        errors
    }
}

/// Validates a mapping as the reader will use it: without a currency column or
/// `default_currency`, rows are in the currency of the account the file is imported into.
pub fn check(mapping: &CsvMapping) -> std::result::Result<(), String> {
    let mut probe = mapping.clone();
    if probe.currency.is_none() && probe.default_currency.is_none() {
        probe.default_currency = Some("USD".to_owned());
    }
    probe.validate().map(|_| ())
}

pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MappingList {
    pub items: Vec<ImportMapping>,
}

fn parse(row: MappingRow) -> Result<ImportMapping> {
    let mapping = serde_json::from_str(&row.mapping).map_err(|e| {
        Error::Internal(anyhow::anyhow!(
            "stored mapping {:?} does not parse: {e}",
            row.name
        ))
    })?;
    Ok(ImportMapping {
        name: row.name,
        mapping,
    })
}

/// The tenant's saved CSV mappings.
#[utoipa::path(get, path = "/api/v1/import-mappings", tag = "ledger",
    security(("bearer" = [])),
    responses((status = 200, body = MappingList), (status = 403, body = crate::web::ErrorEnvelope)))]
pub async fn list(
    State(state): State<LedgerState>,
    principal: Principal,
) -> Result<Json<MappingList>> {
    let (ledger, tenant) = open(&state, &principal, Permission::LedgerRead)?;
    let rows = ledger.store().store().mappings(tenant).await?;
    Ok(Json(MappingList {
        items: rows.into_iter().map(parse).collect::<Result<_>>()?,
    }))
}

/// Save a mapping under its name (replacing one of the same name).
#[utoipa::path(post, path = "/api/v1/import-mappings", tag = "ledger", request_body = ImportMapping,
    security(("bearer" = [])),
    responses((status = 201, body = ImportMapping), (status = 422, body = crate::web::ErrorEnvelope)))]
pub async fn put(
    State(state): State<LedgerState>,
    principal: Principal,
    ip: ClientIp,
    ValidJson(body): ValidJson<ImportMapping>,
) -> Result<(StatusCode, Json<ImportMapping>)> {
    let (ledger, tenant) = open(&state, &principal, Permission::IngestWrite)?;
    let now = Time(time::now());
    let row = MappingRow {
        name: body.name.clone(),
        mapping: serde_json::to_string(&body.mapping).map_err(anyhow::Error::from)?,
        created_at: now,
        updated_at: now,
    };
    ledger.store().store().put_mapping(tenant, &row).await?;
    state.events.admin_action(
        &principal.id,
        ip.0,
        "ledger.mapping_save",
        Some(("import_mapping", body.name.clone())),
        Some(tenant),
        json!({}),
    );
    Ok((StatusCode::CREATED, Json(body)))
}
