//! `auditpulse jobs list`: the background job queue as a table, for operators.
//!
//! Invariant: read-only, and shows only what the queue stores: `last_error` is scrubbed before it
//! is stored, so no secret reaches the terminal.

use std::io::Write;

use super::commands::{load, start_logging};
use super::{Failure, JobsCommand};
use crate::config::SecretMode;
use crate::domain::time;
use crate::error::Error;
use crate::jobs::{Job, JobFilter};
use crate::store::Scope;

const HEADER: [&str; 7] = [
    "ID",
    "KIND",
    "STATE",
    "ATTEMPTS",
    "RUN AT",
    "TENANT",
    "LAST ERROR",
];

pub async fn run(command: &JobsCommand, out: &mut dyn Write) -> Result<(), Failure> {
    let JobsCommand::List { state, kind, limit } = command;
    let (loaded, _) = load(SecretMode::Inspect)?;
    start_logging(&loaded)?;
    let store = crate::app::connect(&loaded.config.database_url, 1).await?;
    let filter = JobFilter {
        state: *state,
        kind: kind.clone(),
        limit: *limit,
    };
    let result = list(store.as_ref(), &filter).await;
    store.close().await;
    write_table(out, &result?);
    Ok(())
}

async fn list(store: &dyn crate::app::Store, filter: &JobFilter) -> Result<Vec<Job>, Failure> {
    let status = store.schema_status().await?;
    if !status.is_current() {
        return Err(Error::Config(format!(
            "the database schema is at version {}, not {}; run `auditpulse migrate` first",
            status.applied.unwrap_or(0),
            status.latest
        ))
        .into());
    }
    Ok(store.list_jobs(Scope::System, filter).await?)
}

fn row(job: &Job) -> [String; 7] {
    [
        job.id.to_string(),
        job.kind.clone(),
        job.state.as_str().to_owned(),
        format!("{}/{}", job.attempts, job.max_attempts),
        time::to_text(&job.run_at),
        job.tenant_id.map_or("-".to_owned(), |t| t.to_string()),
        job.last_error
            .as_deref()
            .map_or("-".to_owned(), |e| e.replace(['\n', '\r'], " ")),
    ]
}

/// Columns padded to their widest cell; the last is left unpadded.
fn write_table(out: &mut dyn Write, jobs: &[Job]) {
    if jobs.is_empty() {
        let _ = writeln!(out, "no jobs");
        return;
    }
    let header = HEADER.map(str::to_owned);
    let rows: Vec<[String; 7]> = std::iter::once(header)
        .chain(jobs.iter().map(row))
        .collect();
    let mut widths = [0usize; 7];
    for cells in &rows {
        for (width, cell) in widths.iter_mut().zip(cells) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for cells in &rows {
        let mut line = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}
