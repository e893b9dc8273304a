//! The registry of encrypted columns: every database column holding ciphertext made by the
//! keyring is declared here once, so key rotation (`keys rotate --reencrypt-data`), `keys status`
//! and the retirement of old data keys find all of them.
//!
//! Invariant: the keyring refuses to encrypt for a column that is not listed in
//! [`ENCRYPTED_COLUMNS`], so a column cannot be forgotten by rotation. Names here are trusted SQL
//! identifiers (checked by a test), never user input.

/// A column of ciphertext, and how to find its rows.
#[derive(Debug, PartialEq, Eq)]
pub struct EncryptedColumn {
    pub table: &'static str,
    pub column: &'static str,
    /// The column naming the owning tenant.
    pub tenant_column: &'static str,
    /// The column identifying a row within its tenant; it is bound into the associated data.
    pub row_id_column: &'static str,
}

impl EncryptedColumn {
    /// The field of one row in this column: what a ciphertext is bound to.
    pub fn row<'a>(&'static self, row_id: &'a str) -> Field<'a> {
        Field {
            column: self,
            row_id,
        }
    }

    /// `table.column`, for messages and `keys status`.
    pub fn name(&self) -> String {
        format!("{}.{}", self.table, self.column)
    }
}

/// Where a ciphertext belongs: a registered column and a row id. Tenant comes separately.
#[derive(Debug, Clone, Copy)]
pub struct Field<'a> {
    pub column: &'static EncryptedColumn,
    pub row_id: &'a str,
}

/// Per-tenant named credentials (Plaid access tokens, provider API keys, webhook URLs).
pub const TENANT_SECRET_VALUE: EncryptedColumn = EncryptedColumn {
    table: "tenant_secrets",
    column: "value_ciphertext",
    tenant_column: "tenant_id",
    row_id_column: "name",
};

/// Users' TOTP secrets, sealed with their tenant's data key (the reserved system tenant's for a
/// global administrator).
pub const USER_TOTP_SECRET: EncryptedColumn = EncryptedColumn {
    table: "user_totp",
    column: "secret_ciphertext",
    tenant_column: "tenant_id",
    row_id_column: "user_id",
};

/// Full bank account numbers of ledger accounts (responses show only the mask).
pub const ACCOUNT_NUMBER: EncryptedColumn = EncryptedColumn {
    table: "ledger_accounts",
    column: "number_ciphertext",
    tenant_column: "tenant_id",
    row_id_column: "id",
};

/// A spend event's description or memo as the bank or file gave it.
pub const SPEND_DESCRIPTION: EncryptedColumn = EncryptedColumn {
    table: "spend_events",
    column: "description_ciphertext",
    tenant_column: "tenant_id",
    row_id_column: "id",
};

/// A spend event's counterparty as given (the normalised name stays clear for grouping).
pub const SPEND_COUNTERPARTY: EncryptedColumn = EncryptedColumn {
    table: "spend_events",
    column: "counterparty_ciphertext",
    tenant_column: "tenant_id",
    row_id_column: "id",
};

/// A reviewer's note on an anomaly (it may quote what the investigation found).
pub const ANOMALY_NOTE: EncryptedColumn = EncryptedColumn {
    table: "anomaly_events",
    column: "note_ciphertext",
    tenant_column: "tenant_id",
    row_id_column: "id",
};

/// The API key the LLM gateway sends upstream for a tenant's provider (responses show only its
/// last four characters).
pub const LLM_PROVIDER_KEY: EncryptedColumn = EncryptedColumn {
    table: "llm_providers",
    column: "api_key_ciphertext",
    tenant_column: "tenant_id",
    row_id_column: "id",
};

/// Every encrypted column. Add new ones here. A column may hold NULL (no value to protect).
pub const ENCRYPTED_COLUMNS: &[&EncryptedColumn] = &[
    &TENANT_SECRET_VALUE,
    &USER_TOTP_SECRET,
    &ACCOUNT_NUMBER,
    &SPEND_DESCRIPTION,
    &SPEND_COUNTERPARTY,
    &ANOMALY_NOTE,
    &LLM_PROVIDER_KEY,
];

pub fn is_registered(column: &EncryptedColumn) -> bool {
    ENCRYPTED_COLUMNS.contains(&column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_names_are_plain_sql_identifiers() {
        for c in ENCRYPTED_COLUMNS {
            for name in [c.table, c.column, c.tenant_column, c.row_id_column] {
                assert!(
                    !name.is_empty()
                        && name
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit()),
                    "{name:?}"
                );
            }
        }
    }

    #[test]
    fn unregistered_columns_are_told_apart() {
        static OTHER: EncryptedColumn = EncryptedColumn {
            table: "elsewhere",
            column: "value",
            tenant_column: "tenant_id",
            row_id_column: "id",
        };
        assert!(is_registered(&TENANT_SECRET_VALUE));
        assert!(is_registered(&USER_TOTP_SECRET));
        assert!(!is_registered(&OTHER));
    }
}
