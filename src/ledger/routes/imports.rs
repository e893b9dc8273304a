//! `POST /api/v1/imports` (a bank file as multipart form data) and `GET /api/v1/imports` (the
//! tenant's imports, newest first, with their counts).
//!
//! Invariant: the upload is spooled to a private temporary file (mode 0600, deleted when the
//! request ends) no larger than the import limit, counted while it arrives, and imported all or
//! nothing; the file name the client sent is not kept.

use std::io::Write;
use std::sync::Arc;

use axum::extract::multipart::{Field, Multipart, MultipartError};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::{open, LedgerState};
use crate::auth::{Permission, Principal};
use crate::domain::{AccountId, ImportId, TenantId};
use crate::error::{Error, FieldError, Result};
use crate::ledger::import::CsvMapping;
use crate::ledger::importer::{FileImport, Progress};
use crate::ledger::imports::ImportSummary;
use crate::ledger::Ledger;
use crate::web::pagination::{page_size, split_page};
use crate::web::{ClientIp, ValidQuery};

/// The form `POST /api/v1/imports` takes (`multipart/form-data`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ImportForm {
    /// The OFX, QFX or CSV file; its format is read from its content.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// The ledger account's id.
    #[schema(value_type = String, format = Uuid)]
    account: String,
    /// For CSV: a saved mapping's name, or a mapping as JSON.
    mapping: Option<String>,
}

/// Import a bank file, all or nothing.
#[utoipa::path(post, path = "/api/v1/imports", tag = "ledger",
    request_body(content = ImportForm, content_type = "multipart/form-data"),
    security(("bearer" = [])),
    responses((status = 201, body = ImportSummary, description = "imported; `imported: 0` with `duplicates` when every row was already there"),
        (status = 400, body = crate::web::ErrorEnvelope), (status = 403, body = crate::web::ErrorEnvelope),
        (status = 404, body = crate::web::ErrorEnvelope, description = "no such account"),
        (status = 413, body = crate::web::ErrorEnvelope),
        (status = 422, body = crate::web::ErrorEnvelope, description = "refused: every bad row is listed")))]
pub async fn create(
    State(state): State<LedgerState>,
    principal: Principal,
    ip: ClientIp,
    multipart: std::result::Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<(StatusCode, Json<ImportSummary>)> {
    let (ledger, tenant) = open(&state, &principal, Permission::IngestWrite)?;
    let mut multipart = multipart.map_err(|e| Error::BadRequest(e.body_text()))?;
    let form = read_form(&state, &mut multipart).await?;
    let mapping = match form.mapping {
        Some(text) => Some(mapping(ledger.store(), tenant, &text).await?),
        None => None,
    };
    let job = FileImport {
        path: form.file.path().to_path_buf(),
        account: form.account,
        mapping,
        actor: principal.id.clone(),
        max_rows: state.import_max_rows,
    };
    let summary = ledger
        .store()
        .import_file(tenant, job, Arc::new(Progress::default()))
        .await?;
    drop(form.file);
    state.events.admin_action(
        &principal.id,
        ip.0,
        "ledger.import",
        Some(("import", summary.id.to_string())),
        Some(tenant),
        summary.audit_details(),
    );
    Ok((StatusCode::CREATED, Json(summary)))
}

struct Form {
    file: tempfile::NamedTempFile,
    account: AccountId,
    mapping: Option<String>,
}

async fn read_form(state: &LedgerState, multipart: &mut Multipart) -> Result<Form> {
    let mut file = None;
    let mut account = None;
    let mut mapping = None;
    while let Some(field) = multipart.next_field().await.map_err(bad_form)? {
        match field.name() {
            Some("file") => file = Some(spool(state, field).await?),
            Some("account") => {
                let text = small_text(field).await?;
                account = Some(text.trim().parse::<AccountId>().map_err(|_| {
                    Error::Validation(vec![FieldError::new("account", "is not an account id")])
                })?);
            }
            Some("mapping") => mapping = Some(small_text(field).await?),
            other => {
                return Err(Error::BadRequest(format!(
                    "unknown form field {:?}: expected file, account and mapping",
                    other.unwrap_or("")
                )))
            }
        }
    }
    let mut missing = Vec::new();
    if file.is_none() {
        missing.push(FieldError::new("file", "is required"));
    }
    if account.is_none() {
        missing.push(FieldError::new("account", "is required"));
    }
    match (file, account) {
        (Some(file), Some(account)) => Ok(Form {
            file,
            account,
            mapping,
        }),
        _ => Err(Error::Validation(missing)),
    }
}

/// Streams the file part to a temporary file, refusing it once it passes the limit.
async fn spool(state: &LedgerState, mut field: Field<'_>) -> Result<tempfile::NamedTempFile> {
    let dir = state.spool_dir.clone();
    let mut file = tokio::task::spawn_blocking(move || {
        private_dir(&dir)?;
        tempfile::NamedTempFile::new_in(dir)
    })
    .await
    .map_err(|e| Error::Internal(anyhow::anyhow!("spooling task: {e}")))?
    .map_err(|e| Error::Internal(anyhow::Error::new(e).context("creating the upload file")))?;
    let mut written: u64 = 0;
    while let Some(chunk) = field.chunk().await.map_err(bad_form)? {
        written += chunk.len() as u64;
        if written > state.import_max_bytes {
            return Err(Error::PayloadTooLarge {
                limit: usize::try_from(state.import_max_bytes).unwrap_or(usize::MAX),
            });
        }
        file.write_all(&chunk)
            .map_err(|e| Error::Internal(anyhow::Error::new(e).context("spooling the upload")))?;
    }
    file.flush()
        .map_err(|e| Error::Internal(anyhow::Error::new(e).context("spooling the upload")))?;
    Ok(file)
}

async fn small_text(field: Field<'_>) -> Result<String> {
    let name = field.name().unwrap_or("").to_owned();
    let bytes = field.bytes().await.map_err(bad_form)?;
    if bytes.len() > 64 * 1024 {
        return Err(Error::Validation(vec![FieldError::new(
            name,
            "is longer than 64 KiB",
        )]));
    }
    String::from_utf8(bytes.to_vec())
        .map_err(|_| Error::Validation(vec![FieldError::new(name, "is not UTF-8 text")]))
}

fn bad_form(e: MultipartError) -> Error {
    Error::BadRequest(format!("the form cannot be read: {}", e.body_text()))
}

/// A saved mapping by name, or a mapping given inline as JSON.
async fn mapping(ledger: &Ledger, tenant: TenantId, text: &str) -> Result<(String, CsvMapping)> {
    let text = text.trim();
    if text.starts_with('{') {
        let mapping: CsvMapping = serde_json::from_str(text).map_err(|e| {
            Error::Validation(vec![FieldError::new(
                "mapping",
                format!("is not a mapping: {e}"),
            )])
        })?;
        if let Err(reason) = super::mappings::check(&mapping) {
            return Err(Error::Validation(vec![FieldError::new("mapping", reason)]));
        }
        return Ok(("inline".to_owned(), mapping));
    }
    let row = ledger.store().mapping(tenant, text).await?.ok_or_else(|| {
        Error::Validation(vec![FieldError::new(
            "mapping",
            "no saved mapping has this name (see GET /api/v1/import-mappings)",
        )])
    })?;
    let mapping = serde_json::from_str(&row.mapping)
        .map_err(|e| Error::Internal(anyhow::anyhow!("stored mapping {text:?}: {e}")))?;
    Ok((row.name, mapping))
}

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

/// The spool directory, created owner-only when missing.
fn private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    if dir.exists() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}
