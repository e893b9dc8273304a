//! The one place database errors become client errors: constraint violations get meaningful
//! messages, everything else stays an internal error whose detail goes to the log only.

use sqlx::error::ErrorKind;

use crate::error::Error;

/// Friendly messages for known constraints, by constraint name (PostgreSQL) or `table.column`
/// (SQLite reports the columns, not the name).
const CONFLICTS: &[(&[&str], &str)] = &[
    (
        &["tenants_slug_key", "tenants.slug"],
        "a tenant with this slug already exists",
    ),
    (
        &["users_email_key", "users.email_key"],
        "a user with this e-mail already exists",
    ),
    (
        &["api_keys_public_id_key", "api_keys.public_id"],
        "an API key with this public id already exists",
    ),
    (
        &[
            "vendors_tenant_id_normalized_key",
            "vendors.tenant_id, vendors.normalized",
        ],
        "this vendor is already on the approved list",
    ),
    (
        &[
            "ledger_accounts_external",
            "ledger_accounts.tenant_id, ledger_accounts.origin, ledger_accounts.external_id",
        ],
        "this account is already in the ledger",
    ),
    (
        &[
            "llm_providers_tenant_id_provider_key",
            "llm_providers.tenant_id, llm_providers.provider",
        ],
        "another key for this provider was set at the same moment; retry",
    ),
    (
        &[
            "budgets_tenant_id_name_key",
            "budgets.tenant_id, budgets.name",
        ],
        "a budget with this name already exists",
    ),
];

pub fn map_db_error(error: sqlx::Error) -> Error {
    let Some(db) = error.as_database_error() else {
        return Error::Database(error);
    };
    match db.kind() {
        ErrorKind::UniqueViolation => {
            let key = db.constraint().map(str::to_owned).unwrap_or_else(|| {
                db.message()
                    .rsplit("constraint failed: ")
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            });
            let message = CONFLICTS
                .iter()
                .find(|(names, _)| names.contains(&key.as_str()))
                .map(|(_, m)| (*m).to_owned())
                .unwrap_or_else(|| "this already exists".to_owned());
            Error::Conflict(message)
        }
        ErrorKind::ForeignKeyViolation => Error::Conflict(
            "this refers to something that does not exist or is still in use".to_owned(),
        ),
        _ => Error::Database(error),
    }
}
