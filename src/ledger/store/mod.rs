//! Ledger storage: accounts, spend events, vendors, saved CSV mappings and imports; the SQL both
//! backends run, with values bound once in [`sql`].
//!
//! Invariant: every statement names its tenant (and on PostgreSQL runs in that tenant's
//! row-level-security scope); a spend event is unique per tenant, source and source reference;
//! a [`SpendWriter`] is one transaction, so a write is whole or absent, and it holds the data key
//! version its ciphertexts name active until it commits.

mod postgres;
mod rows;
mod spend_insert;
mod sql;
mod sqlite;

use async_trait::async_trait;
use chrono::NaiveDate;

use super::model::{AccountOrigin, Source, SpendStatus};
use crate::domain::{AccountId, ImportId, SpendId, TenantId, VendorId};
use crate::error::Result;
use crate::store::Time;

pub use rows::{AccountRow, ImportRow, MappingRow, SpendRecord, SpendRow, VendorRow};

/// Which spend events to list, newest first. Amount bounds are minor units.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpendFilter {
    pub account: Option<AccountId>,
    pub source: Option<Source>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub currency: Option<String>,
    pub min_minor: Option<i64>,
    pub max_minor: Option<i64>,
    /// Normalised counterparty, compared whole.
    pub counterparty: Option<String>,
    pub status: Option<SpendStatus>,
}

/// Where a page starts: after this event in statement order (the bank's date, then time, then
/// id, newest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpendCursor {
    pub booked_on: NaiveDate,
    pub occurred_at: Time,
    pub id: SpendId,
}

/// An existing event found by reference.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Existing {
    pub source_ref: String,
    pub id: SpendId,
}

#[async_trait]
pub trait LedgerStore: Send + Sync {
    async fn account(&self, tenant: TenantId, id: AccountId) -> Result<Option<AccountRow>>;
    async fn external_account(
        &self,
        tenant: TenantId,
        origin: AccountOrigin,
        external_id: &str,
    ) -> Result<Option<AccountRow>>;
    async fn accounts(&self, tenant: TenantId) -> Result<Vec<AccountRow>>;

    /// Opens a write transaction for `tenant` whose ciphertexts use data key `key_version`;
    /// `Conflict` when that version is no longer the active one (rotation ran: seal again).
    async fn begin_write(&self, tenant: TenantId, key_version: u32)
        -> Result<Box<dyn SpendWriter>>;

    async fn spend_page(
        &self,
        tenant: TenantId,
        filter: &SpendFilter,
        after: Option<SpendCursor>,
        limit: u32,
    ) -> Result<Vec<SpendRow>>;
    async fn spend(&self, tenant: TenantId, id: SpendId) -> Result<Option<SpendRow>>;

    async fn vendors(&self, tenant: TenantId) -> Result<Vec<VendorRow>>;
    /// `Conflict` when the normalised name is already listed.
    async fn insert_vendor(&self, tenant: TenantId, row: &VendorRow) -> Result<()>;
    async fn delete_vendor(&self, tenant: TenantId, id: VendorId) -> Result<bool>;

    async fn mappings(&self, tenant: TenantId) -> Result<Vec<MappingRow>>;
    async fn mapping(&self, tenant: TenantId, name: &str) -> Result<Option<MappingRow>>;
    /// Creates or replaces the mapping of that name.
    async fn put_mapping(&self, tenant: TenantId, row: &MappingRow) -> Result<()>;

    async fn imports(
        &self,
        tenant: TenantId,
        before: Option<ImportId>,
        limit: u32,
    ) -> Result<Vec<ImportRow>>;
}

/// One open write transaction. Dropping it without [`SpendWriter::commit`] rolls it back.
#[async_trait]
pub trait SpendWriter: Send {
    /// Which of `refs` the tenant already has for `source` (removed ones included).
    async fn existing(&mut self, source: Source, refs: &[&str]) -> Result<Vec<Existing>>;
    async fn insert(&mut self, rows: &[SpendRecord]) -> Result<()>;
    /// Inserts the rows whose reference is new, leaving known ones as they are; how many were new.
    async fn insert_new(&mut self, rows: &[SpendRecord]) -> Result<u64>;
    /// Rewrites the event `row.id` whole (its reference too, for a pending event taken over).
    async fn update(&mut self, row: &SpendRecord) -> Result<()>;
    /// Marks the events of `refs` removed; how many were not already.
    async fn remove(&mut self, source: Source, refs: &[&str], at: Time) -> Result<u64>;
    /// `Conflict` when the tenant already has this origin's external id.
    async fn insert_account(&mut self, row: &AccountRow) -> Result<()>;
    /// Records a file import; written before its events, which name it.
    async fn record_import(&mut self, row: &ImportRow) -> Result<()>;
    /// Sets the counts of the import `row.id` once its events are written.
    async fn finish_import(&mut self, row: &ImportRow) -> Result<()>;
    async fn commit(self: Box<Self>) -> Result<()>;
}

/// Rows per multi-row statement: 15 values each stays far below both backends' limits.
pub const WRITE_CHUNK: usize = 500;

/// The writer's data key is no longer the active one.
fn stale_key() -> crate::error::Error {
    crate::error::Error::Conflict(
        "the tenant's data key was rotated during the write; try again".to_owned(),
    )
}
