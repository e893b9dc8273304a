//! The ledger's HTTP surface: accounts, transactions and their export, approved vendors, saved
//! CSV mappings and file imports.
//!
//! Invariant: every handler opens the ledger through [`open`], which checks the permission and
//! fixes the caller's own tenant; nothing here takes a tenant from the request.

pub mod accounts;
pub mod export;
pub mod imports;
pub mod mappings;
pub mod transactions;
pub mod vendors;

use std::sync::Arc;

use crate::auth::{Permission, Principal, Scoped};
use crate::domain::TenantId;
use crate::error::{Error, Result};
use crate::events::Events;

use super::Ledger;

/// What the ledger routes need.
#[derive(Clone)]
pub struct LedgerState {
    pub ledger: Arc<Ledger>,
    pub events: Arc<Events>,
    /// Largest bank file accepted, in bytes.
    pub import_max_bytes: u64,
    /// Most rows accepted in one file.
    pub import_max_rows: u64,
    /// Where uploads are spooled while they are imported (the data directory).
    pub spool_dir: std::path::PathBuf,
}

/// The ledger opened for the caller's tenant with `permission` checked.
pub fn open(
    state: &LedgerState,
    principal: &Principal,
    permission: Permission,
) -> Result<(Scoped<Ledger>, TenantId)> {
    let handle = Scoped::open_tenant(principal, permission, state.ledger.clone())?;
    let tenant = handle.tenant().ok_or(Error::Forbidden)?;
    Ok((handle, tenant))
}
