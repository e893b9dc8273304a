//! `auditpulse detect run [--tenant SLUG] [--since DATE]` and `auditpulse detect retrain [--tenant
//! SLUG]`: a back-fill of risk scores or a retraining, through the job runner, with a progress bar
//! on a terminal.
//!
//! Invariant: the work is a durable job: this command queues it and then runs it itself as a
//! worker of the queue (claiming it with a lease), so if it is interrupted the job stays queued
//! and the server's runner, or the next run of this command, finishes it; scores and cases are
//! idempotent, so nothing is raised twice.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use indicatif::{ProgressBar, ProgressStyle};

use super::commands::{load, start_logging};
use super::identity::{connect, find_tenant};
use super::Failure;
use crate::app::Store;
use crate::config::SecretMode;
use crate::detect::jobs::{backfill_job, backfill_targets, retrain_job, BACKFILL_JOB, RETRAIN_JOB};
use crate::detect::Detector;
use crate::domain::{time, TenantId};
use crate::jobs::Job;

/// How long this command holds a claimed job before another worker may take it over.
const LEASE: Duration = Duration::from_secs(3600);

#[derive(Debug, clap::Subcommand)]
pub enum DetectCommand {
    /// Score (again) every transaction booked since a date, raising anomalies at or above the
    /// alert threshold; a case already raised is never raised again.
    #[command(
        after_help = "Examples:\n  auditpulse detect run --tenant acme --since 2026-01-01\n  \
        auditpulse detect run\n\n\
        Without --tenant, every tenant; without --since, the whole ledger. Resumable: run it again\n\
        after an interruption and it scores only what is left."
    )]
    Run {
        /// The tenant's slug (or id); every tenant when absent.
        #[arg(long)]
        tenant: Option<String>,
        /// Only transactions booked on or after this date (YYYY-MM-DD).
        #[arg(long)]
        since: Option<NaiveDate>,
    },
    /// Train each tenant's next isolation-forest model now (it also happens daily at 02:00 in the
    /// tenant's time zone).
    #[command(
        after_help = "Examples:\n  auditpulse detect retrain --tenant acme\n  auditpulse detect retrain\n\n\
        A tenant with fewer payments than its forest.min_history (200) gets no model yet."
    )]
    Retrain {
        /// The tenant's slug (or id); every tenant when absent.
        #[arg(long)]
        tenant: Option<String>,
    },
}

pub async fn run(command: &DetectCommand, out: &mut dyn Write) -> Result<(), Failure> {
    let (loaded, _) = load(SecretMode::Inspect)?;
    start_logging(&loaded)?;
    let store = connect(&loaded.config).await?;
    let result = work(store.clone(), command, out).await;
    store.close().await;
    result
}

async fn work(
    store: Arc<dyn Store>,
    command: &DetectCommand,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let (wanted, kind) = match command {
        DetectCommand::Run { tenant, .. } => (tenant, BACKFILL_JOB),
        DetectCommand::Retrain { tenant } => (tenant, RETRAIN_JOB),
    };
    let tenants = tenants(store.as_ref(), wanted.as_deref()).await?;
    let now = time::now();
    for (tenant, slug) in &tenants {
        let job = match command {
            DetectCommand::Run { since, .. } => backfill_job(*tenant, *since, now),
            DetectCommand::Retrain { .. } => retrain_job(*tenant),
        };
        if store.enqueue_job(&job).await?.is_none() {
            let _ = writeln!(
                out,
                "{slug}: the same work is already queued; running it now"
            );
        }
    }
    let detector = Detector {
        store: store.clone(),
    };
    let names: std::collections::HashMap<TenantId, String> = tenants.into_iter().collect();
    while let Some(job) = store.claim_job(&[kind], LEASE).await? {
        let name = job
            .tenant_id
            .and_then(|t| names.get(&t).cloned())
            .unwrap_or_else(|| job.tenant_id.map_or_else(String::new, |t| t.to_string()));
        let line = match execute(&detector, &job, &name).await {
            Ok(line) => {
                store.complete_job(&job).await?;
                line
            }
            Err(error) => {
                store
                    .fail_job(&job, &error.to_string(), crate::jobs::Backoff::default())
                    .await?;
                return Err(error.into());
            }
        };
        let _ = writeln!(out, "{line}");
    }
    Ok(())
}

/// Runs one claimed job; the line to print.
async fn execute(detector: &Detector, job: &Job, name: &str) -> crate::Result<String> {
    let tenant = job
        .tenant_id
        .ok_or_else(|| crate::Error::BadRequest("a detection job without a tenant".to_owned()))?;
    let bar = bar(name);
    if job.kind == RETRAIN_JOB {
        if let Some(bar) = &bar {
            bar.set_message(format!("{name}: training"));
        }
        let model = detector.retrain(tenant).await;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        return Ok(match model? {
            Some(m) => format!(
                "{name}: model v{} trained on {} payments",
                m.version, m.training_rows
            ),
            None => format!("{name}: too little history for a model yet"),
        });
    }
    let targets = backfill_targets(job).map_err(crate::Error::BadRequest)?;
    let report = detector
        .score(tenant, targets, &|done, total| {
            if let Some(bar) = &bar {
                bar.set_length(total);
                bar.set_position(done);
            }
        })
        .await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let report = report?;
    Ok(format!(
        "{name}: scored {} transactions, {} new anomalies",
        report.scored, report.raised
    ))
}

/// One tenant by slug or id, or every tenant.
async fn tenants(
    store: &dyn Store,
    wanted: Option<&str>,
) -> Result<Vec<(TenantId, String)>, Failure> {
    if let Some(wanted) = wanted {
        let tenant = find_tenant(store, wanted).await?;
        return Ok(vec![(tenant.id, tenant.slug)]);
    }
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = store.list_tenants(after, 200).await?;
        all.extend(page.iter().map(|t| (t.id, t.slug.clone())));
        match page.last() {
            Some(last) if page.len() == 200 => after = Some(last.id),
            _ => return Ok(all),
        }
    }
}

fn bar(name: &str) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let style =
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg}")
            .ok()?;
    let bar = ProgressBar::new(0).with_style(style);
    bar.set_message(name.to_owned());
    bar.enable_steady_tick(Duration::from_millis(100));
    Some(bar)
}
