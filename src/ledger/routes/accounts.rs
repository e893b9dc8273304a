//! `GET/POST /api/v1/accounts`, `GET /api/v1/accounts/{id}`: the tenant's bank accounts, with
//! numbers masked.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{open, LedgerState};
use crate::auth::{Permission, Principal};
use crate::domain::{AccountId, Currency};
use crate::error::{Error, FieldError, Result};
use crate::ledger::{Account, AccountKind, AccountOrigin, NewAccount};
use crate::secret::SecretString;
use crate::web::{ClientIp, ValidJson, Validate};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountList {
    pub items: Vec<Account>,
}

/// An account declared for file import.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccount {
    /// A name people recognise, e.g. `Operating account`.
    pub name: String,
    pub kind: AccountKind,
    /// ISO 4217 code, e.g. `USD`.
    pub currency: String,
    /// The full account number or IBAN, stored encrypted; only its last four are ever shown.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub number: Option<SecretString>,
    #[serde(default)]
    pub institution: Option<String>,
}

impl Validate for CreateAccount {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            errors.push(FieldError::new("name", "must be 1 to 100 characters"));
        }
        if let Err(e) = Currency::iso(&self.currency) {
            errors.push(FieldError::new("currency", e));
        }
        if let Some(number) = &self.number {
            let n = number.expose().trim();
            if n.is_empty()
                || n.len() > 64
                || !n
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
            {
                errors.push(FieldError::new(
                    "number",
                    "must be 1 to 64 letters, digits, spaces or hyphens",
                ));
            }
        }
        if self
            .institution
            .as_ref()
            .is_some_and(|i| i.chars().count() > 100)
        {
            errors.push(FieldError::new(
                "institution",
                "must be at most 100 characters",
            ));
        }
        errors
    }
}

/// The tenant's accounts.
#[utoipa::path(get, path = "/api/v1/accounts", tag = "ledger",
    security(("bearer" = [])),
    responses((status = 200, body = AccountList), (status = 403, body = crate::web::ErrorEnvelope)))]
pub async fn list(
    State(state): State<LedgerState>,
    principal: Principal,
) -> Result<Json<AccountList>> {
    let (ledger, tenant) = open(&state, &principal, Permission::LedgerRead)?;
    Ok(Json(AccountList {
        items: ledger.store().accounts(tenant).await?,
    }))
}

/// Declare a bank account to import files into.
#[utoipa::path(post, path = "/api/v1/accounts", tag = "ledger", request_body = CreateAccount,
    security(("bearer" = [])),
    responses((status = 201, body = Account), (status = 403, body = crate::web::ErrorEnvelope),
        (status = 422, body = crate::web::ErrorEnvelope)))]
pub async fn create(
    State(state): State<LedgerState>,
    principal: Principal,
    ip: ClientIp,
    ValidJson(body): ValidJson<CreateAccount>,
) -> Result<(StatusCode, Json<Account>)> {
    let (ledger, tenant) = open(&state, &principal, Permission::IngestWrite)?;
    let (currency, _) = Currency::iso(&body.currency).map_err(Error::BadRequest)?;
    let account = ledger
        .store()
        .create_account(
            tenant,
            &NewAccount {
                name: body.name.trim().to_owned(),
                kind: body.kind,
                currency,
                number: body.number,
                mask: None,
                institution: body.institution.map(|i| i.trim().to_owned()),
                origin: AccountOrigin::Manual,
                external_id: None,
            },
        )
        .await?;
    state.events.admin_action(
        &principal.id,
        ip.0,
        "ledger.account_create",
        Some(("account", account.id.to_string())),
        Some(tenant),
        json!({ "kind": account.kind, "currency": account.currency }),
    );
    Ok((StatusCode::CREATED, Json(account)))
}

/// One account.
#[utoipa::path(get, path = "/api/v1/accounts/{id}", tag = "ledger",
    params(("id" = String, Path, description = "account id")),
    security(("bearer" = [])),
    responses((status = 200, body = Account), (status = 404, body = crate::web::ErrorEnvelope)))]
pub async fn get(
    State(state): State<LedgerState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Account>> {
    let (ledger, tenant) = open(&state, &principal, Permission::LedgerRead)?;
    let id: AccountId = id.parse().map_err(|_| Error::NotFound)?;
    ledger
        .store()
        .account(tenant, id)
        .await?
        .map(Json)
        .ok_or(Error::NotFound)
}
