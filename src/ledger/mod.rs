//! The ledger capability: one tenant-owned record of money leaving an organisation, whatever
//! brought it in (Plaid, bank files, later the LLM gateway and OTLP spans).
//!
//! The map: `model` (accounts, spend events, what a write did), `counterparty` (the normalised
//! vendor name), `write` (sealing and idempotent batches), `read` (decrypting for display),
//! `accounts`, `imports` (a file into the ledger, all or nothing), `store`, `import` (the pure
//! OFX and CSV readers) and `routes`.
//!
//! Invariant: everything the ledger reads from outside is turned into integer minor units and UTC
//! time before the rest of the system sees it; free text and account numbers are sealed with the
//! tenant's data key before they reach the database, and account numbers leave it only masked.

mod accounts;
pub mod counterparty;
pub mod import;
pub mod importer;
pub mod imports;
pub mod model;
mod read;
pub mod routes;
pub mod store;
mod write;

use std::sync::Arc;

use crate::crypto::Keyring;
use crate::domain::TenantId;
use crate::error::{Error, Result};

pub use model::{
    mask_number, Account, AccountKind, AccountOrigin, Changes, NewAccount, NewSpend, Source,
    SpendEvent, SpendStatus, WriteReport,
};
pub use store::{LedgerStore, SpendCursor, SpendFilter};
pub use write::OnExisting;

/// Told after new spend is committed for a tenant (detection queues its scoring).
#[async_trait::async_trait]
pub trait Arrivals: Send + Sync {
    async fn arrived(&self, tenant: TenantId);
}

/// The ledger's service: storage plus the keyring that seals and opens its fields.
#[derive(Clone)]
pub struct Ledger {
    store: Arc<dyn LedgerStore>,
    keyring: Arc<Keyring>,
    arrivals: Option<Arc<dyn Arrivals>>,
}

impl Ledger {
    pub fn new(store: Arc<dyn LedgerStore>, keyring: Arc<Keyring>) -> Self {
        Self {
            store,
            keyring,
            arrivals: None,
        }
    }

    /// Tells `arrivals` whenever a write or an import adds or changes spend.
    pub fn with_arrivals(mut self, arrivals: Arc<dyn Arrivals>) -> Self {
        self.arrivals = Some(arrivals);
        self
    }

    /// Tells the listener, if any, that `tenant`'s spend changed.
    async fn arrived(&self, tenant: TenantId) {
        if let Some(arrivals) = &self.arrivals {
            arrivals.arrived(tenant).await;
        }
    }

    pub fn store(&self) -> &dyn LedgerStore {
        self.store.as_ref()
    }

    /// Applies one source's changes in one transaction: upserts (a known reference is rewritten
    /// in place), then removals. Idempotent: applying the same changes again changes nothing.
    pub async fn apply(&self, tenant: TenantId, changes: &Changes) -> Result<WriteReport> {
        for spend in &changes.upserts {
            write::check(spend, tenant)?;
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.try_apply(tenant, changes).await {
                // The data key rotated between sealing and writing: seal again, once.
                Err(Error::Conflict(_)) if attempt == 1 => continue,
                Ok(report) => {
                    // Detection scores bank spend; LLM spend is held by budgets instead.
                    if report.inserted + report.updated > 0 && changes.source.is_bank() {
                        self.arrived(tenant).await;
                    }
                    return Ok(report);
                }
                other => return other,
            }
        }
    }

    async fn try_apply(&self, tenant: TenantId, changes: &Changes) -> Result<WriteReport> {
        let sealer = self.keyring.sealer(tenant).await?;
        let mut writer = self.store.begin_write(tenant, sealer.version()).await?;
        let mut report = WriteReport::default();
        for batch in changes.upserts.chunks(store::WRITE_CHUNK) {
            let done = write::write_batch(
                writer.as_mut(),
                &sealer,
                changes.source,
                batch,
                OnExisting::Update,
                None,
            )
            .await?;
            report.add(done);
        }
        let refs: Vec<&str> = changes.removals.iter().map(String::as_str).collect();
        for chunk in refs.chunks(store::WRITE_CHUNK) {
            report.removed += writer
                .remove(
                    changes.source,
                    chunk,
                    crate::store::Time(crate::domain::time::now()),
                )
                .await?;
        }
        writer.commit().await?;
        Ok(report)
    }
}
