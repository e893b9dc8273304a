//! `auditpulse budgets import FILE --tenant SLUG` and `budgets list --tenant SLUG`: a tenant's
//! budgets from the command line, in the seed tracker's `budget_rules:` YAML layout.
//!
//! Invariant: a file is checked whole before anything is stored (every problem printed with its
//! line, nothing changed); an import is audited (actor `system`) and importing it again changes
//! nothing.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::json;

use super::commands::{load, start_logging};
use super::identity::{connect, find_tenant, record};
use super::Failure;
use crate::app::Store;
use crate::budgets::load::{load as load_file, LoadError};
use crate::budgets::{Budgets, MAX_FILE_BYTES};
use crate::config::SecretMode;
use crate::error::Error;
use crate::gateway::pricing::{self, Overrides};

#[derive(Debug, clap::Subcommand)]
pub enum BudgetsCommand {
    /// Create or update a tenant's budgets (and its model price overrides) from a YAML file in
    /// the `budget_rules:` layout (global, applications, users, model_costs).
    #[command(
        after_help = "Example:\n  auditpulse budgets import config/budget-rules.yml --tenant acme\n\n\
        Each rule becomes a monthly USD budget: `global` the tenant's LLM spend, each\n\
        application and user its own; model_preferences become the swap chain. model_costs\n\
        (USD per 1K tokens) become the tenant's price overrides from today. A budget of the\n\
        same name is replaced, so importing the file again changes nothing. A file with any\n\
        problem is refused whole, every problem printed with its line. Layout and mapping:\n\
        docs/budgets-yaml.md. Recorded in the audit trail (actor system)."
    )]
    Import {
        /// The YAML file (UTF-8, at most 1 MiB).
        file: PathBuf,
        /// The tenant's slug (or id).
        #[arg(long)]
        tenant: String,
    },
    /// Show a tenant's budgets: name, scope, period, amount, thresholds, swap and hard limit.
    #[command(after_help = "Example:\n  auditpulse budgets list --tenant acme")]
    List {
        /// The tenant's slug (or id).
        #[arg(long)]
        tenant: String,
    },
}

pub async fn run(command: &BudgetsCommand, out: &mut dyn Write) -> Result<(), Failure> {
    let (loaded, _) = load(SecretMode::Inspect)?;
    start_logging(&loaded)?;
    let text = match command {
        BudgetsCommand::Import { file, .. } => Some(read(file)?),
        BudgetsCommand::List { .. } => None,
    };
    let store = connect(&loaded.config).await?;
    let result = match command {
        BudgetsCommand::Import { file, tenant } => {
            import(
                store.clone(),
                file,
                tenant,
                text.as_deref().unwrap_or(""),
                out,
            )
            .await
        }
        BudgetsCommand::List { tenant } => list(store.clone(), tenant, out).await,
    };
    store.close().await;
    result
}

/// The file as text, refused over [`MAX_FILE_BYTES`] or when it is not UTF-8.
pub fn read(file: &Path) -> Result<String, Failure> {
    let bad = |e: String| Failure {
        lines: vec![format!("{}: {e}", file.display())],
        causes: None,
    };
    let f = std::fs::File::open(file).map_err(|e| bad(e.to_string()))?;
    let mut bytes = Vec::new();
    f.take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| bad(e.to_string()))?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(bad(format!("is over {} bytes", MAX_FILE_BYTES)));
    }
    String::from_utf8(bytes).map_err(|e| {
        bad(format!(
            "is not UTF-8 text (byte {} is not)",
            e.utf8_error().valid_up_to()
        ))
    })
}

async fn import(
    store: Arc<dyn Store>,
    file: &Path,
    tenant: &str,
    text: &str,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let tenant = find_tenant(store.as_ref(), tenant).await?;
    let budgets = Budgets::new(store.clone(), store.clone());
    let overrides = Overrides {
        store: store.clone(),
        book: Arc::new(pricing::load_book(store.as_ref()).await?),
    };
    let report = load_file(&budgets, &overrides, tenant.id, text, "system")
        .await
        .map_err(|e| match e {
            LoadError::Refused(e) => {
                let mut lines = vec![format!("{} was refused, nothing changed:", file.display())];
                lines.extend(e.to_string().lines().map(|l| format!("  {l}")));
                Failure {
                    lines,
                    causes: None,
                }
            }
            LoadError::Failed(e) => Failure::from(e),
        })?;
    record(
        store,
        "budgets.import",
        ("tenant", tenant.id.to_string()),
        Some(tenant.id),
        json!({ "file": file.display().to_string(), "report": report }),
    )
    .await;
    let _ = writeln!(
        out,
        "imported {} for tenant {}: {} budgets created, {} updated, {} price overrides",
        file.display(),
        tenant.slug,
        report.created.len(),
        report.updated.len(),
        report.prices.len()
    );
    for name in &report.created {
        let _ = writeln!(out, "  + budget {name}");
    }
    for name in &report.updated {
        let _ = writeln!(out, "  ~ budget {name}");
    }
    for model in &report.prices {
        let _ = writeln!(out, "  $ price {model}");
    }
    Ok(())
}

async fn list(store: Arc<dyn Store>, tenant: &str, out: &mut dyn Write) -> Result<(), Failure> {
    let tenant = find_tenant(store.as_ref(), tenant).await?;
    let budgets = Budgets::new(store.clone(), store.clone());
    let all = budgets.list(tenant.id).await?;
    let _ = writeln!(
        out,
        "{:<32} {:<28} {:<6} {:>14} {:<4} {:<18} {:<6} {:<5} CHAIN",
        "NAME", "SCOPE", "PERIOD", "AMOUNT", "CUR", "ALERTS", "SWAP", "HARD"
    );
    for b in &all {
        let scope = match &b.scope.value {
            Some(v) => format!("{} {v}", b.scope.kind.as_str()),
            None => format!("{} ({})", b.scope.kind.as_str(), b.spend.as_str()),
        };
        let alerts: Vec<String> = b.alert_thresholds.iter().map(|t| t.to_string()).collect();
        let _ = writeln!(
            out,
            "{:<32} {:<28} {:<6} {:>14} {:<4} {:<18} {:<6} {:<5} {}",
            b.name,
            scope,
            b.period.as_str(),
            b.amount,
            b.currency,
            alerts.join(","),
            b.swap_threshold.map_or("-".to_owned(), |t| t.to_string()),
            if b.hard_limit { "yes" } else { "no" },
            b.model_chain.join(" > ")
        );
    }
    if all.is_empty() {
        let _ = writeln!(
            out,
            "no budgets; import some with `auditpulse budgets import`"
        );
    }
    Ok(())
}

impl From<LoadError> for Failure {
    fn from(e: LoadError) -> Self {
        Failure::from(Error::from(e))
    }
}
