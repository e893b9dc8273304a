//! A bank file into the ledger, all or nothing: one write transaction for the whole file, so a
//! refused file, a failure or a crash (the transaction never commits) stores nothing.
//!
//! Invariant: an import's events are keyed by account and the file's own references, so the
//! same file imported twice adds nothing the second time and says how many it already had.

use serde::Serialize;

use super::model::{NewSpend, Source, WriteReport};
use super::store::{ImportRow, SpendRecord, SpendWriter};
use super::write::{self, OnExisting};
use super::Ledger;
use crate::crypto::Sealer;
use crate::domain::{time, AccountId, ImportId, TenantId};
use crate::error::Result;
use crate::store::Time;

/// What one import did, as the API and the CLI report it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportSummary {
    pub id: ImportId,
    pub account_id: AccountId,
    /// `ofx` or `csv`.
    pub format: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mapping: Option<String>,
    /// SHA-256 of the file, hex.
    pub file_sha256: String,
    pub file_bytes: u64,
    pub rows: u64,
    pub imported: u64,
    pub duplicates: u64,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<ImportRow> for ImportSummary {
    fn from(r: ImportRow) -> Self {
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        ImportSummary {
            id: r.id,
            account_id: r.account_id,
            format: r.format,
            mapping: r.mapping_name,
            file_sha256: r.file_sha256,
            file_bytes: count(r.file_bytes),
            rows: count(r.rows_read),
            imported: count(r.imported),
            duplicates: count(r.duplicates),
            created_at: r.created_at.0,
        }
    }
}

impl ImportSummary {
    /// What the audit trail says about an import: counts and the file's hash, never its rows.
    pub fn audit_details(&self) -> serde_json::Value {
        serde_json::json!({
            "account": self.account_id,
            "format": self.format,
            "mapping": self.mapping,
            "file_sha256": self.file_sha256,
            "file_bytes": self.file_bytes,
            "rows": self.rows,
            "imported": self.imported,
            "duplicates": self.duplicates,
        })
    }
}

/// Which file is being imported, and by whom.
#[derive(Debug, Clone)]
pub struct ImportInfo {
    pub account: AccountId,
    /// [`Source::Ofx`] or [`Source::Csv`].
    pub source: Source,
    pub mapping: Option<String>,
    pub file_sha256: String,
    pub file_bytes: u64,
    /// The principal id, or `cli` for the command line.
    pub actor: String,
}

/// An open import: events are written in batches inside one transaction.
pub struct ImportSession {
    writer: Box<dyn SpendWriter>,
    sealer: Sealer,
    row: ImportRow,
    source: Source,
    batch: Vec<NewSpend>,
    report: WriteReport,
    rows: u64,
}

impl Ledger {
    /// Begins an import into `info.account`, which must be the tenant's.
    pub async fn begin_import(&self, tenant: TenantId, info: ImportInfo) -> Result<ImportSession> {
        if self.store.account(tenant, info.account).await?.is_none() {
            return Err(crate::error::Error::NotFound);
        }
        let sealer = self.keyring.sealer(tenant).await?;
        let mut writer = self.store.begin_write(tenant, sealer.version()).await?;
        let row = ImportRow {
            id: ImportId::new(),
            tenant_id: tenant,
            account_id: info.account,
            format: info.source.as_str().to_owned(),
            mapping_name: info.mapping,
            file_sha256: info.file_sha256,
            file_bytes: i64::try_from(info.file_bytes).unwrap_or(i64::MAX),
            rows_read: 0,
            imported: 0,
            duplicates: 0,
            actor: info.actor,
            created_at: Time(time::now()),
        };
        writer.record_import(&row).await?;
        Ok(ImportSession {
            writer,
            sealer,
            row,
            source: info.source,
            batch: Vec::with_capacity(super::store::WRITE_CHUNK),
            report: WriteReport::default(),
            rows: 0,
        })
    }

    pub async fn imports(
        &self,
        tenant: TenantId,
        before: Option<ImportId>,
        limit: u32,
    ) -> Result<Vec<ImportSummary>> {
        let rows = self.store.imports(tenant, before, limit).await?;
        Ok(rows.into_iter().map(ImportSummary::from).collect())
    }
}

impl ImportSession {
    pub fn id(&self) -> ImportId {
        self.row.id
    }

    pub fn account(&self) -> AccountId {
        self.row.account_id
    }

    /// Seals events for this import away from the session (on a reader thread), for
    /// [`ImportSession::push_sealed`].
    pub(crate) fn row_sealer(&self) -> RowSealer {
        RowSealer {
            sealer: self.sealer.clone(),
            source: self.source,
            import: self.row.id,
        }
    }

    /// Writes events sealed by this session's [`RowSealer`] (after any pushed one by one).
    pub(crate) async fn push_sealed(&mut self, rows: Vec<SpendRecord>) -> Result<()> {
        if !self.batch.is_empty() {
            self.flush().await?;
        }
        self.rows += rows.len() as u64;
        let done = write::insert_sealed(self.writer.as_mut(), &rows).await?;
        self.report.add(done);
        Ok(())
    }

    /// The file's SHA-256 (hex) and size, when only known once it has been read.
    pub fn file_read(&mut self, sha256: String, bytes: u64) {
        self.row.file_sha256 = sha256;
        self.row.file_bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
    }

    /// Adds one event; written when a batch is full.
    pub async fn push(&mut self, spend: NewSpend) -> Result<()> {
        write::check(&spend, self.row.tenant_id)?;
        self.rows += 1;
        self.batch.push(spend);
        if self.batch.len() >= super::store::WRITE_CHUNK {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        let done = write::write_batch(
            self.writer.as_mut(),
            &self.sealer,
            self.source,
            &self.batch,
            OnExisting::Keep,
            Some(self.row.id),
        )
        .await?;
        self.report.add(done);
        self.batch.clear();
        Ok(())
    }

    /// Writes what is left and commits the whole import.
    pub async fn commit(mut self) -> Result<ImportSummary> {
        self.flush().await?;
        self.row.rows_read = i64::try_from(self.rows).unwrap_or(i64::MAX);
        self.row.imported = i64::try_from(self.report.inserted).unwrap_or(i64::MAX);
        self.row.duplicates = i64::try_from(self.report.duplicates).unwrap_or(i64::MAX);
        self.writer.finish_import(&self.row).await?;
        self.writer.commit().await?;
        Ok(ImportSummary::from(self.row))
    }
}

/// Checks and seals one import's events where they are read, so sealing overlaps the writes;
/// what it seals is only written through the [`ImportSession`] it came from.
#[derive(Debug, Clone)]
pub(crate) struct RowSealer {
    sealer: Sealer,
    source: Source,
    import: ImportId,
}

impl RowSealer {
    /// The event as it will be stored, after the checks [`ImportSession::push`] makes.
    pub(crate) fn seal(&self, spend: &NewSpend, now: Time) -> Result<SpendRecord> {
        write::check(spend, self.sealer.tenant())?;
        write::seal_new(&self.sealer, self.source, spend, Some(self.import), now)
    }
}
