//! A bank file on disk into the ledger: its format detected from content, its records read on a
//! blocking thread and written by the async side through a small bounded channel, so memory
//! stays flat whatever the file size.
//!
//! Invariant: all or nothing. The file's events are written inside one [`ImportSession`]; it
//! commits only after the reader has finished without a single problem. A refused row, a write
//! failure or a crash leaves the ledger as it was.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::import::{self, CsvMapping, Format, ImportError, ReadOptions, Record};
use super::imports::{ImportInfo, ImportSummary};
use super::model::{NewSpend, Source, SpendStatus};
use super::Ledger;
use crate::domain::{AccountId, TenantId};
use crate::error::{Error, Result};

/// Records per message from the reader to the writer.
const BATCH: usize = 500;

/// One import to run.
#[derive(Debug, Clone)]
pub struct FileImport {
    pub path: PathBuf,
    pub account: AccountId,
    /// The saved mapping's name and the mapping, for CSV files.
    pub mapping: Option<(String, CsvMapping)>,
    pub actor: String,
    pub max_rows: u64,
}

/// How far the reader is, for progress bars: bytes of the file read so far and its size.
#[derive(Debug, Default)]
pub struct Progress {
    pub read: AtomicU64,
    pub total: AtomicU64,
    pub rows: AtomicU64,
}

impl Ledger {
    /// Imports the file at `job.path` into the tenant's account `job.account`.
    pub async fn import_file(
        &self,
        tenant: TenantId,
        job: FileImport,
        progress: Arc<Progress>,
    ) -> Result<ImportSummary> {
        let account = self
            .account(tenant, job.account)
            .await?
            .ok_or(Error::NotFound)?;
        let path = job.path.clone();
        let (format, sha256, bytes) = blocking(move || inspect(&path)).await??;
        progress.total.store(bytes, Ordering::Relaxed);
        let mapping = match (format, job.mapping) {
            (Format::Csv, None) => {
                return Err(Error::BadRequest(
                    "this is a CSV file: name the saved mapping that describes its columns"
                        .to_owned(),
                ))
            }
            (Format::Csv, Some((name, mut mapping))) => {
                // Rows that name no currency are in the account's.
                if mapping.default_currency.is_none() {
                    mapping.default_currency = Some(account.currency.to_string());
                }
                Some((name, mapping))
            }
            (Format::Ofx, _) => None,
        };
        let source = match format {
            Format::Ofx => Source::Ofx,
            Format::Csv => Source::Csv,
        };
        let mut session = self
            .begin_import(
                tenant,
                ImportInfo {
                    account: job.account,
                    source,
                    mapping: mapping.as_ref().map(|(name, _)| name.clone()),
                    file_sha256: sha256,
                    file_bytes: bytes,
                    actor: job.actor,
                },
            )
            .await?;
        let (tx, mut rx) = mpsc::channel::<Vec<Record>>(4);
        let reader = {
            let path = job.path.clone();
            let progress = progress.clone();
            let account = job.account.to_string();
            let max_rows = job.max_rows;
            tokio::task::spawn_blocking(move || {
                read_file(
                    &path,
                    format,
                    mapping.map(|(_, m)| m),
                    &account,
                    max_rows,
                    tx,
                    &progress,
                )
            })
        };
        let mut written: Result<()> = Ok(());
        while let Some(batch) = rx.recv().await {
            for record in batch {
                let spend = to_spend(source, job.account, record);
                if let Err(error) = session.push(spend).await {
                    written = Err(error);
                    break;
                }
                progress.rows.fetch_add(1, Ordering::Relaxed);
            }
            if written.is_err() {
                break;
            }
        }
        drop(rx);
        let read = reader
            .await
            .map_err(|e| Error::Internal(anyhow::anyhow!("the import reader stopped: {e}")))?;
        written?;
        read.map_err(Error::from)?;
        let summary = session.commit().await?;
        if summary.imported > 0 {
            self.arrived(tenant).await;
        }
        Ok(summary)
    }
}

fn to_spend(source: Source, account: AccountId, record: Record) -> NewSpend {
    NewSpend {
        source,
        // File references are the bank's own (FITID) or content hashes: unique per account.
        source_ref: format!("{account}:{}", record.source_ref),
        account: Some(account),
        occurred_at: record.occurred_at,
        booked_on: record.booked_on,
        amount: record.amount,
        status: SpendStatus::Posted,
        counterparty: record.counterparty,
        category: record.category,
        description: record.description,
        replaces: None,
    }
}

/// The format (from the first 4 KiB), SHA-256 and size of the file.
fn inspect(path: &PathBuf) -> Result<(Format, String, u64)> {
    let mut file =
        File::open(path).map_err(|e| Error::BadRequest(format!("cannot open the file: {e}")))?;
    let mut head = Vec::with_capacity(4096);
    (&mut file)
        .take(4096)
        .read_to_end(&mut head)
        .map_err(io_error)?;
    let format = import::detect(&head).map_err(Error::from)?;
    file.seek(SeekFrom::Start(0)).map_err(io_error)?;
    let mut hasher = Sha256::new();
    let bytes = io::copy(&mut file, &mut hasher).map_err(io_error)?;
    Ok((format, hex::encode(hasher.finalize()), bytes))
}

fn read_file(
    path: &PathBuf,
    format: Format,
    mapping: Option<CsvMapping>,
    account: &str,
    max_rows: u64,
    tx: mpsc::Sender<Vec<Record>>,
    progress: &Progress,
) -> std::result::Result<(), ImportError> {
    let file = File::open(path).map_err(ImportError::Io)?;
    let input = Counted {
        inner: BufReader::with_capacity(1 << 16, file),
        progress,
    };
    let options = ReadOptions {
        format,
        csv_mapping: mapping.as_ref(),
        account,
        max_rows,
    };
    let mut batch = Vec::with_capacity(BATCH);
    let mut sink = |record: Record| -> Result<()> {
        batch.push(record);
        if batch.len() >= BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            tx.blocking_send(full).map_err(|_| stopped())?;
        }
        Ok(())
    };
    import::read(input, &options, &mut sink)?;
    if !batch.is_empty() {
        tx.blocking_send(batch)
            .map_err(|_| ImportError::Sink(stopped()))?;
    }
    Ok(())
}

/// The writer side gave up (its own error is the one reported).
fn stopped() -> Error {
    Error::Unavailable("the import was stopped".to_owned())
}

fn io_error(e: io::Error) -> Error {
    Error::Internal(anyhow::Error::new(e).context("reading the import file"))
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("a blocking task failed: {e}")))
}

/// A reader that reports its position to a [`Progress`].
struct Counted<'p, R> {
    inner: R,
    progress: &'p Progress,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: Seek> Seek for Counted<'_, R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let at = self.inner.seek(pos)?;
        self.progress.read.store(at, Ordering::Relaxed);
        Ok(at)
    }
}
