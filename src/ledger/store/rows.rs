//! The ledger's rows as stored, one `FromRow` type per table for both backends.

use chrono::NaiveDate;

use crate::domain::{AccountId, ImportId, SpendId, TenantId, VendorId};
use crate::store::Time;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountRow {
    pub id: AccountId,
    pub tenant_id: TenantId,
    pub name: String,
    pub kind: String,
    pub currency: String,
    pub mask: Option<String>,
    pub number_ciphertext: Option<Vec<u8>>,
    pub institution: Option<String>,
    pub origin: String,
    pub external_id: Option<String>,
    pub created_at: Time,
}

/// A spend event as read (the import and removal marks are not shown).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SpendRow {
    pub id: SpendId,
    pub source: String,
    pub source_ref: String,
    pub account_id: Option<AccountId>,
    pub occurred_at: Time,
    pub booked_on: NaiveDate,
    pub amount_minor: i64,
    pub currency: String,
    pub status: String,
    pub counterparty: Option<String>,
    pub counterparty_ciphertext: Option<Vec<u8>>,
    pub category: Option<String>,
    pub description_ciphertext: Option<Vec<u8>>,
    pub created_at: Time,
    pub updated_at: Time,
}

/// A spend event to write, sealed.
#[derive(Debug, Clone)]
pub struct SpendRecord {
    pub id: SpendId,
    pub tenant_id: TenantId,
    pub source: &'static str,
    pub source_ref: String,
    pub account_id: Option<AccountId>,
    pub occurred_at: Time,
    pub booked_on: NaiveDate,
    pub amount_minor: i64,
    pub currency: String,
    pub status: &'static str,
    pub counterparty: Option<String>,
    pub counterparty_ciphertext: Option<Vec<u8>>,
    pub category: Option<String>,
    pub description_ciphertext: Option<Vec<u8>>,
    pub import_id: Option<ImportId>,
    pub now: Time,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VendorRow {
    pub id: VendorId,
    pub name: String,
    pub normalized: String,
    pub created_at: Time,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MappingRow {
    pub name: String,
    /// The mapping as JSON.
    pub mapping: String,
    pub created_at: Time,
    pub updated_at: Time,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImportRow {
    pub id: ImportId,
    pub tenant_id: TenantId,
    pub account_id: AccountId,
    pub format: String,
    pub mapping_name: Option<String>,
    pub file_sha256: String,
    pub file_bytes: i64,
    pub rows_read: i64,
    pub imported: i64,
    pub duplicates: i64,
    pub actor: String,
    pub created_at: Time,
}
