//! `auditpulse prices import FILE`, `prices list [--provider P] [--model M]` and
//! `prices reprice --unpriced [--tenant SLUG]`: the LLM price catalog from the command line.
//!
//! Invariant: an import is validated whole by the same reader as the shipped catalog before
//! anything is stored, and audited (actor `system`); a reprice prices only calls still unpriced
//! and writes each one's spend event by call id, so running it again adds nothing.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use super::commands::{load, start_logging};
use super::identity::{connect, find_tenant, record};
use super::Failure;
use crate::app::Store;
use crate::config::SecretMode;
use crate::crypto::Keyring;
use crate::domain::TenantId;
use crate::error::Error;
use crate::gateway::prices::{format_price, PriceSet};
use crate::gateway::pricing::{self, service::MAX_CATALOG_BYTES};
use crate::gateway::Provider;
use crate::ledger::Ledger;

#[derive(Debug, clap::Subcommand)]
pub enum PricesCommand {
    /// Put a newer price catalog in force for every tenant (the format of the shipped
    /// src/gateway/prices/data/llm-prices.json).
    #[command(
        after_help = "Example:\n  auditpulse prices import llm-prices-2026-12.json\n\n\
        The file is checked whole (every price exact decimal text, every date and provider\n\
        valid); a file with any error is refused and nothing changes. Prints how many models\n\
        it has and which models it adds and removes. A running server loads it at its next\n\
        start. Recorded in the audit trail (actor system)."
    )]
    Import {
        /// The catalog file (JSON, at most 16 MiB).
        file: PathBuf,
    },
    /// Show the catalog in force: one line per model and effective date.
    #[command(after_help = "Examples:\n  auditpulse prices list\n  \
        auditpulse prices list --provider anthropic --model sonnet\n\n\
        Prices are USD per million tokens; a cache price shown as - is charged at the input price.")]
    List {
        /// Only models whose id contains this text.
        #[arg(long)]
        model: Option<String>,
        /// Only this provider's models (openai, anthropic).
        #[arg(long, value_parser = parse_provider)]
        provider: Option<Provider>,
    },
    /// Price the calls recorded while their model had no price, with each tenant's catalog
    /// (the catalog in force and the tenant's overrides), and add their spend events.
    #[command(after_help = "Examples:\n  auditpulse prices reprice --unpriced\n  \
        auditpulse prices reprice --unpriced --tenant acme\n\n\
        Prints, per tenant, how many calls were priced and how many are still unknown.\n\
        Running it again prices nothing twice.")]
    Reprice {
        /// Reprice the calls that are unpriced (the only kind of reprice there is).
        #[arg(long, required = true)]
        unpriced: bool,
        /// The tenant's slug (or id); every tenant when absent.
        #[arg(long)]
        tenant: Option<String>,
    },
}

fn parse_provider(s: &str) -> Result<Provider, String> {
    Provider::parse(s).ok_or_else(|| "expected openai or anthropic".to_owned())
}

pub async fn run(command: &PricesCommand, out: &mut dyn Write) -> Result<(), Failure> {
    let (loaded, _) = load(SecretMode::Inspect)?;
    start_logging(&loaded)?;
    let text = match command {
        PricesCommand::Import { file } => Some(read(file)?),
        _ => None,
    };
    let store = connect(&loaded.config).await?;
    let result = match command {
        PricesCommand::Import { file } => {
            import(store.clone(), text.as_deref().unwrap_or(""), file, out).await
        }
        PricesCommand::List { model, provider } => {
            list(store.as_ref(), model.as_deref(), *provider, out).await
        }
        PricesCommand::Reprice { tenant, .. } => {
            let master = crate::app::master_keys(&loaded.config)?;
            let keyring = Arc::new(Keyring::new(master, store.clone()));
            let ledger = Ledger::new(store.clone(), keyring);
            reprice(store.clone(), &ledger, tenant.as_deref(), out).await
        }
    };
    store.close().await;
    result
}

fn read(file: &PathBuf) -> Result<String, Failure> {
    let f = std::fs::File::open(file)
        .map_err(|e| Error::BadRequest(format!("{}: {e}", file.display())))?;
    let mut text = String::new();
    let limit = u64::try_from(MAX_CATALOG_BYTES).unwrap_or(u64::MAX) + 1;
    f.take(limit)
        .read_to_string(&mut text)
        .map_err(|e| Error::BadRequest(format!("{}: {e}", file.display())))?;
    Ok(text)
}

async fn import(
    store: Arc<dyn Store>,
    text: &str,
    file: &std::path::Path,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let report = pricing::import(store.as_ref(), text)
        .await
        .map_err(|e| Failure {
            lines: vec![format!(
                "{} was refused, nothing changed: {e}",
                file.display()
            )],
            causes: None,
        })?;
    record(
        store.clone(),
        "gateway.prices_import",
        ("llm_price_catalog", report.source.clone()),
        None,
        json!({ "models": report.models, "added": report.added, "removed": report.removed }),
    )
    .await;
    let _ = writeln!(
        out,
        "imported {} models from {}; {} added, {} removed",
        report.models,
        file.display(),
        report.added.len(),
        report.removed.len()
    );
    for m in &report.added {
        let _ = writeln!(out, "  + {m}");
    }
    for m in &report.removed {
        let _ = writeln!(out, "  - {m}");
    }
    Ok(())
}

async fn list(
    store: &dyn Store,
    model: Option<&str>,
    provider: Option<Provider>,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let catalog = pricing::catalog_in_force(store).await?;
    let _ = writeln!(
        out,
        "{:<36} {:<9} {:>9} {:>9} {:>10} {:>10} {:>10} {:>10} {:<10} TIERS",
        "MODEL",
        "PROVIDER",
        "INPUT",
        "OUTPUT",
        "CACHE_READ",
        "CACHE_5M",
        "CACHE_1H",
        "REASONING",
        "FROM"
    );
    let wanted = catalog.models().iter().filter(|m| {
        provider.is_none_or(|p| p == m.provider) && model.is_none_or(|s| m.model.contains(s))
    });
    for m in wanted {
        for d in &m.history {
            let tiers: Vec<String> = d
                .tiers
                .iter()
                .map(|t| format!(">{}: {}", t.above, short(&t.prices)))
                .collect();
            let p = &d.base;
            let opt = |n: Option<u64>| n.map_or_else(|| "-".to_owned(), format_price);
            let _ = writeln!(
                out,
                "{:<36} {:<9} {:>9} {:>9} {:>10} {:>10} {:>10} {:>10} {:<10} {}",
                m.model,
                m.provider.as_str(),
                format_price(p.input),
                format_price(p.output),
                opt(p.cache_read),
                opt(p.cache_write_5m),
                opt(p.cache_write_1h),
                opt(p.reasoning),
                d.from.map_or_else(|| "-".to_owned(), |f| f.to_string()),
                if tiers.is_empty() {
                    "-".to_owned()
                } else {
                    tiers.join("; ")
                }
            );
        }
    }
    Ok(())
}

fn short(p: &PriceSet) -> String {
    format!("{}/{}", format_price(p.input), format_price(p.output))
}

async fn reprice(
    store: Arc<dyn Store>,
    ledger: &Ledger,
    wanted: Option<&str>,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let tenants = tenants(store.as_ref(), wanted).await?;
    let book = pricing::load_book(store.as_ref()).await?;
    for (tenant, slug) in tenants {
        let catalog = book.catalog(tenant);
        let bar = bar(&slug);
        let report = pricing::reprice(store.as_ref(), ledger, &catalog, tenant, &|n| {
            if let Some(bar) = &bar {
                bar.set_position(n);
            }
        })
        .await;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        let report = report?;
        let _ = writeln!(
            out,
            "{slug}: priced {} calls, {} still unpriced (model unknown)",
            report.priced, report.unknown
        );
    }
    Ok(())
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
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {pos} calls {msg}").ok()?;
    let bar = ProgressBar::new_spinner().with_style(style);
    bar.set_message(name.to_owned());
    bar.enable_steady_tick(Duration::from_millis(100));
    Some(bar)
}
