//! A bank file on disk into the ledger: its format detected from content, its records read,
//! checked and sealed on a blocking thread (which also hashes the file as it reads it, so the
//! file is read once) and written by the async side through a small bounded channel, so sealing
//! overlaps the writes and memory stays flat whatever the file size.
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
use super::imports::{ImportInfo, ImportSummary, RowSealer};
use super::model::{NewSpend, Source, SpendStatus};
use super::store::SpendRecord;
use super::Ledger;
use crate::domain::{time, AccountId, TenantId};
use crate::error::{Error, Result};
use crate::store::Time;

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
        let (format, bytes) = blocking(move || inspect(&path)).await??;
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
                    // Both are set again from the reading pass before the import commits.
                    file_sha256: String::new(),
                    file_bytes: bytes,
                    actor: job.actor,
                },
            )
            .await?;
        let (tx, mut rx) = mpsc::channel::<Vec<SpendRecord>>(4);
        let reader = {
            let job = ReadJob {
                path: job.path.clone(),
                format,
                mapping: mapping.map(|(_, m)| m),
                account: job.account,
                source,
                max_rows: job.max_rows,
                sealer: session.row_sealer(),
            };
            let progress = progress.clone();
            tokio::task::spawn_blocking(move || read_file(job, tx, &progress))
        };
        let mut written: Result<()> = Ok(());
        while let Some(batch) = rx.recv().await {
            let n = batch.len() as u64;
            if let Err(error) = session.push_sealed(batch).await {
                written = Err(error);
                break;
            }
            progress.rows.fetch_add(n, Ordering::Relaxed);
        }
        drop(rx);
        let read = reader
            .await
            .map_err(|e| Error::Internal(anyhow::anyhow!("the import reader stopped: {e}")))?;
        written?;
        let (sha256, bytes) = read.map_err(Error::from)?;
        session.file_read(sha256, bytes);
        let summary = session.commit().await?;
        if summary.imported > 0 {
            self.arrived(tenant).await;
        }
        Ok(summary)
    }
}

/// `prefix` is the account id and a colon: file references are the bank's own (FITID) or
/// content hashes, unique per account.
fn to_spend(source: Source, account: AccountId, prefix: &str, record: Record) -> NewSpend {
    let mut source_ref = String::with_capacity(prefix.len() + record.source_ref.len());
    source_ref.push_str(prefix);
    source_ref.push_str(&record.source_ref);
    NewSpend {
        source,
        source_ref,
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

/// The format (from the first 4 KiB) and size of the file.
fn inspect(path: &PathBuf) -> Result<(Format, u64)> {
    let mut file =
        File::open(path).map_err(|e| Error::BadRequest(format!("cannot open the file: {e}")))?;
    let mut head = Vec::with_capacity(4096);
    (&mut file)
        .take(4096)
        .read_to_end(&mut head)
        .map_err(io_error)?;
    let format = import::detect(&head).map_err(Error::from)?;
    let bytes = file.metadata().map_err(io_error)?.len();
    Ok((format, bytes))
}

/// What the reader thread needs: the file, how to read it, and how to seal its events.
struct ReadJob {
    path: PathBuf,
    format: Format,
    mapping: Option<CsvMapping>,
    account: AccountId,
    source: Source,
    max_rows: u64,
    sealer: RowSealer,
}

/// Reads, checks and seals the file's events into batches for `tx`; the file's SHA-256 (hex)
/// and size, over every byte of it, once the reader has finished without a problem.
fn read_file(
    job: ReadJob,
    tx: mpsc::Sender<Vec<SpendRecord>>,
    progress: &Progress,
) -> std::result::Result<(String, u64), ImportError> {
    let file = File::open(&job.path).map_err(ImportError::Io)?;
    let mut input = Hashed::new(BufReader::with_capacity(1 << 16, file), progress);
    let account = job.account.to_string();
    let prefix = format!("{account}:");
    let options = ReadOptions {
        format: job.format,
        csv_mapping: job.mapping.as_ref(),
        account: &account,
        max_rows: job.max_rows,
    };
    let mut batch = Vec::with_capacity(BATCH);
    let mut now = Time(time::now());
    let mut sink = |record: Record| -> Result<()> {
        let spend = to_spend(job.source, job.account, &prefix, record);
        batch.push(job.sealer.seal(&spend, now)?);
        if batch.len() >= BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            tx.blocking_send(full).map_err(|_| stopped())?;
            now = Time(time::now());
        }
        Ok(())
    };
    import::read(&mut input, &options, &mut sink)?;
    if !batch.is_empty() {
        tx.blocking_send(batch)
            .map_err(|_| ImportError::Sink(stopped()))?;
    }
    input.finish().map_err(ImportError::Io)
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

/// A reader that reports its position to a [`Progress`] and hashes the file as it goes: every
/// byte is hashed once, in order, when a read first reaches it (the CSV reader may seek back to
/// re-read the start; bytes it skips are hashed by [`Hashed::finish`]).
struct Hashed<'p, R> {
    inner: R,
    progress: &'p Progress,
    hasher: Sha256,
    /// The position of the next read.
    pos: u64,
    /// Bytes `0..hashed` have been hashed.
    hashed: u64,
}

impl<'p, R: Read + Seek> Hashed<'p, R> {
    fn new(inner: R, progress: &'p Progress) -> Self {
        Hashed {
            inner,
            progress,
            hasher: Sha256::new(),
            pos: 0,
            hashed: 0,
        }
    }

    /// Hashes what the reader left unread; the SHA-256 (hex) and the size of the whole file.
    fn finish(mut self) -> io::Result<(String, u64)> {
        self.seek(SeekFrom::Start(self.hashed))?;
        io::copy(&mut self, &mut io::sink())?;
        Ok((hex::encode(self.hasher.finalize()), self.hashed))
    }
}

impl<R: Read> Read for Hashed<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let end = self.pos + n as u64;
        if self.pos <= self.hashed && self.hashed < end {
            // In bounds: hashed - pos < n.
            let from = usize::try_from(self.hashed - self.pos).unwrap_or(n);
            self.hasher.update(&buf[from..n]);
            self.hashed = end;
        }
        self.pos = end;
        self.progress.read.store(end, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: Seek> Seek for Hashed<'_, R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let at = self.inner.seek(pos)?;
        self.pos = at;
        self.progress.read.store(at, Ordering::Relaxed);
        Ok(at)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn sha256(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    #[test]
    fn the_hash_covers_the_whole_file_once_whatever_the_reader_did() {
        let file: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let progress = Progress::default();
        let mut input = Hashed::new(Cursor::new(&file), &progress);
        // Read a first stretch, go back to the start and re-read part of it (as the CSV reader
        // does when it reads a file twice), then jump ahead, leaving a gap and the tail unread.
        let mut buf = vec![0u8; 50_000];
        input.read_exact(&mut buf).unwrap();
        input.seek(SeekFrom::Start(0)).unwrap();
        input.read_exact(&mut buf[..10_000]).unwrap();
        input.seek(SeekFrom::Start(120_000)).unwrap();
        input.read_exact(&mut buf[..1_000]).unwrap();
        assert_eq!(progress.read.load(Ordering::Relaxed), 121_000);
        let (hash, bytes) = input.finish().unwrap();
        assert_eq!(bytes, file.len() as u64);
        assert_eq!(hash, sha256(&file));
    }

    #[test]
    fn a_file_read_straight_through_hashes_as_sha256sum() {
        let file = b"Date,Payee,Details,Amount\n01/01/2024,ACME,REF 1,-1.00\n".to_vec();
        let progress = Progress::default();
        let mut input = Hashed::new(Cursor::new(&file), &progress);
        io::copy(&mut input, &mut io::sink()).unwrap();
        assert_eq!(input.finish().unwrap(), (sha256(&file), file.len() as u64));
    }
}
