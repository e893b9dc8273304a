//! `auditpulse import FILE --tenant SLUG --account ID [--mapping NAME]`: a bank file into the
//! ledger from the command line, with a progress bar on a terminal.
//!
//! Invariant: the same all-or-nothing import as `POST /api/v1/imports` (one transaction, refused
//! whole with every bad row listed), recorded in the audit trail with the actor `system`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::commands::{load, start_logging};
use super::identity::{connect, find_tenant, record};
use super::Failure;
use crate::config::SecretMode;
use crate::crypto::Keyring;
use crate::detect::jobs::ScoreOnArrival;
use crate::domain::AccountId;
use crate::error::{Error, FieldError};
use crate::ledger::import::CsvMapping;
use crate::ledger::importer::{FileImport, Progress};
use crate::ledger::imports::ImportSummary;
use crate::ledger::Ledger;

/// What `auditpulse import` was asked.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The OFX, QFX or CSV file; its format is read from its content, not its name.
    pub file: PathBuf,
    /// The tenant's slug (or id).
    #[arg(long)]
    pub tenant: String,
    /// The ledger account to import into (its id, from `GET /api/v1/accounts`).
    #[arg(long)]
    pub account: AccountId,
    /// For CSV files: the name of a mapping saved with `POST /api/v1/import-mappings`.
    #[arg(long)]
    pub mapping: Option<String>,
}

pub async fn run(args: &ImportArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let (loaded, _) = load(SecretMode::Inspect)?;
    start_logging(&loaded)?;
    let config = &loaded.config;
    let size = std::fs::metadata(&args.file)
        .map_err(|e| Error::BadRequest(format!("{}: {e}", args.file.display())))?
        .len();
    if size > config.imports.max_bytes {
        return Err(Error::BadRequest(format!(
            "{} is {size} bytes, over the limit of {} (AUDITPULSE_IMPORT_MAX_BYTES)",
            args.file.display(),
            config.imports.max_bytes
        ))
        .into());
    }
    let master = crate::app::master_keys(config)?;
    let store = connect(config).await?;
    let tenant = find_tenant(store.as_ref(), &args.tenant).await;
    let result = match tenant {
        Ok(tenant) => {
            let ledger = Ledger::new(store.clone(), Arc::new(Keyring::new(master, store.clone())))
                .with_arrivals(Arc::new(ScoreOnArrival(store.clone())));
            let mapping = match &args.mapping {
                Some(name) => Some((name.clone(), saved_mapping(&ledger, tenant.id, name).await?)),
                None => None,
            };
            let job = FileImport {
                path: args.file.clone(),
                account: args.account,
                mapping,
                actor: "cli".to_owned(),
                max_rows: config.imports.max_rows,
            };
            let progress = Arc::new(Progress::default());
            let imported = with_progress(
                ledger.import_file(tenant.id, job, progress.clone()),
                &progress,
            )
            .await;
            if let Ok(summary) = &imported {
                record(
                    store.clone(),
                    "ledger.import",
                    ("import", summary.id.to_string()),
                    Some(tenant.id),
                    summary.audit_details(),
                )
                .await;
            }
            imported.map_err(refusal)
        }
        Err(failure) => Err(failure),
    };
    store.close().await;
    let summary = result?;
    let _ =
        writeln!(
        out,
        "imported {} of {} transactions ({} already in the ledger) from {} file {} into account {}",
        summary.imported, summary.rows, summary.duplicates, summary.format,
        args.file.display(), summary.account_id
    );
    Ok(())
}

async fn saved_mapping(
    ledger: &Ledger,
    tenant: crate::domain::TenantId,
    name: &str,
) -> Result<CsvMapping, Failure> {
    let row = ledger
        .store()
        .mapping(tenant, name)
        .await?
        .ok_or_else(|| Failure {
            lines: vec![format!(
                "no saved mapping {name:?}; save one with POST /api/v1/import-mappings"
            )],
            causes: None,
        })?;
    serde_json::from_str(&row.mapping)
        .map_err(|e| Error::Internal(anyhow::anyhow!("stored mapping {name:?}: {e}")).into())
}

/// Runs the import, drawing a bar of the file read so far when standard error is a terminal.
async fn with_progress(
    import: impl std::future::Future<Output = crate::Result<ImportSummary>>,
    progress: &Progress,
) -> crate::Result<ImportSummary> {
    let Some(bar) = bar() else {
        return import.await;
    };
    tokio::pin!(import);
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let result = loop {
        tokio::select! {
            result = &mut import => break result,
            _ = tick.tick() => {
                bar.set_length(progress.total.load(Ordering::Relaxed).max(1));
                bar.set_position(progress.read.load(Ordering::Relaxed));
                bar.set_message(format!("{} rows", progress.rows.load(Ordering::Relaxed)));
            }
        }
    };
    bar.finish_and_clear();
    result
}

fn bar() -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let style = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
    )
    .ok()?;
    Some(ProgressBar::new(1).with_style(style))
}

/// A refused file lists every problem, one per line, as the API's 422 does.
fn refusal(error: Error) -> Failure {
    match error {
        Error::Validation(fields) => Failure {
            lines: fields.into_iter().map(line).collect(),
            causes: None,
        },
        other => Failure::from(other),
    }
}

fn line(f: FieldError) -> String {
    match f.field.as_str() {
        "" => f.message,
        field => format!("{field}: {}", f.message),
    }
}
