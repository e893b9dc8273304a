//! A seed-layout budget file put in force for one tenant: its plan checked whole first (every
//! problem reported with its line, nothing changed), then each budget created or, when the
//! tenant has one of the same name, replaced, and each `model_costs` entry set as the tenant's
//! price override from today.
//!
//! Invariant: loading the same file twice changes nothing the second time; a file with any
//! problem changes nothing at all.

use serde::Serialize;

use super::import::{plan, ImportError};
use super::Budgets;
use crate::domain::{time, TenantId};

use crate::gateway::pricing::{OverrideRow, Overrides, StoredPrices};
use crate::store::Time;

/// What a load did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LoadReport {
    /// Budgets created, by name.
    pub created: Vec<String>,
    /// Budgets of the same name replaced.
    pub updated: Vec<String>,
    /// Models given a price override (`provider/model`).
    pub prices: Vec<String>,
}

/// Reads `text` as a `budget_rules:` file and applies it to `tenant` as `by`.
pub async fn load(
    budgets: &Budgets,
    prices: &Overrides,
    tenant: TenantId,
    text: &str,
    by: &str,
) -> std::result::Result<LoadReport, LoadError> {
    let plan = plan(text).map_err(LoadError::Refused)?;
    let mut report = LoadReport::default();
    for (_, input) in &plan.budgets {
        let (budget, created) = budgets
            .put_by_name(tenant, input, by)
            .await
            .map_err(LoadError::Failed)?;
        if created {
            report.created.push(budget.name);
        } else {
            report.updated.push(budget.name);
        }
    }
    let now = time::now();
    for rule in &plan.prices {
        let stored = StoredPrices {
            prices: rule.prices.clone(),
            tiers: Vec::new(),
        };
        let row = OverrideRow {
            tenant_id: tenant,
            provider: rule.provider.as_str().to_owned(),
            model: rule.model.clone(),
            effective_from: now.date_naive(),
            prices_json: serde_json::to_string(&stored)
                .map_err(|e| LoadError::Failed(anyhow::anyhow!("price override: {e}").into()))?,
            created_by: by.to_owned(),
            created_at: Time(now),
        };
        prices.put(&row).await.map_err(LoadError::Failed)?;
        report
            .prices
            .push(format!("{}/{}", rule.provider.as_str(), rule.model));
    }
    Ok(report)
}

/// Why a load did not happen.
#[derive(Debug)]
pub enum LoadError {
    /// The file has problems (each with its line); nothing changed.
    Refused(ImportError),
    /// Storing failed part-way; loading the file again completes it.
    Failed(crate::error::Error),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Refused(e) => write!(f, "{e}"),
            LoadError::Failed(e) => write!(f, "{e}"),
        }
    }
}

impl From<LoadError> for crate::error::Error {
    fn from(e: LoadError) -> Self {
        match e {
            LoadError::Refused(e) => e.into(),
            LoadError::Failed(e) => e,
        }
    }
}

/// `AUDITPULSE_BUDGETS_FILE` at start: loads `file` for the tenant `slug`, audited (actor
/// `system`); a missing tenant, an unreadable file or any problem in it stops the start with
/// every problem named by line.
pub async fn at_start(
    budgets: &Budgets,
    prices: &Overrides,
    tenants: &dyn crate::tenants::TenantStore,
    events: &crate::events::Events,
    file: &std::path::Path,
    slug: &str,
) -> crate::error::Result<()> {
    use crate::error::Error;
    let what = format!("AUDITPULSE_BUDGETS_FILE {}", file.display());
    let tenant = crate::tenants::find_by_slug(tenants, slug)
        .await?
        .ok_or_else(|| Error::Config(format!("{what}: there is no tenant {slug:?}")))?;
    let bytes = std::fs::read(file).map_err(|e| Error::Config(format!("{what}: {e}")))?;
    if bytes.len() > super::MAX_FILE_BYTES {
        return Err(Error::Config(format!(
            "{what}: is over {} bytes",
            super::MAX_FILE_BYTES
        )));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::Config(format!("{what}: is not UTF-8 text")))?;
    let report = load(budgets, prices, tenant.id, &text, "system")
        .await
        .map_err(|e| Error::Config(format!("{what} was refused, nothing changed:\n{e}")))?;
    tracing::info!(
        tenant = %tenant.slug,
        created = report.created.len(),
        updated = report.updated.len(),
        prices = report.prices.len(),
        "budgets loaded from AUDITPULSE_BUDGETS_FILE"
    );
    events.admin_action(
        "system",
        std::net::IpAddr::from([127, 0, 0, 1]),
        "budgets.import",
        Some(("tenant", tenant.id.to_string())),
        Some(tenant.id),
        serde_json::json!({ "file": file.display().to_string(), "report": report }),
    );
    Ok(())
}
