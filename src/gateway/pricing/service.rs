//! What the price routes, the CLI and start-up do with stored prices: load the price book (the
//! newest imported catalog, else the shipped one, and every tenant's overrides), import a
//! catalog, set and delete a tenant's overrides (the book updated at once), and reprice the
//! calls that were unpriced.
//!
//! Invariant: the book always matches storage after a change made here: a stored override is in
//! the book before the call returns; repricing only prices calls still `unpriced`, and writes
//! each one's spend event idempotently (by call id), so running it twice adds nothing.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::NaiveDate;

use super::model::StoredPrices;
use super::store::{CatalogRow, OverrideRow, PriceStore};
use crate::domain::{time, TenantId};
use crate::error::{Error, Result};
use crate::gateway::calls::record::spend_changes;
use crate::gateway::calls::{CallRow, CallStore, CostStatus};
use crate::gateway::prices::{self, Catalog, Override, PriceBook};
use crate::gateway::{Nanos, Provider};
use crate::ledger::Ledger;
use crate::store::Time;

/// Catalog files larger than this are refused before parsing.
pub const MAX_CATALOG_BYTES: usize = 16 * 1024 * 1024;
/// Unpriced calls read per page while repricing.
const PAGE: u32 = 500;

/// The catalog in force: the newest imported one, else the shipped one.
pub async fn catalog_in_force(store: &dyn PriceStore) -> Result<Catalog> {
    match store.newest_catalog().await? {
        Some(row) => prices::parse(&row.catalog_json),
        None => prices::shipped(),
    }
}

/// The price book the service starts with: the catalog in force and every tenant's overrides.
pub async fn load_book(store: &dyn PriceStore) -> Result<PriceBook> {
    let book = PriceBook::new(catalog_in_force(store).await?);
    let mut by_tenant: HashMap<TenantId, Vec<Override>> = HashMap::new();
    for row in store.all_price_overrides().await? {
        by_tenant
            .entry(row.tenant_id)
            .or_default()
            .push(to_override(&row)?);
    }
    for (tenant, overrides) in by_tenant {
        book.set_overrides(tenant, overrides);
    }
    Ok(book)
}

/// A stored override as the catalog applies it.
pub fn to_override(row: &OverrideRow) -> Result<Override> {
    let provider = Provider::parse(&row.provider)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("corrupt LLM price override provider")))?;
    let stored: StoredPrices = serde_json::from_str(&row.prices_json)
        .map_err(|e| Error::Internal(anyhow::anyhow!("corrupt LLM price override: {e}")))?;
    stored.to_override(provider, &row.model, row.effective_from)
}

/// What an import changed, against the catalog in force before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub source: String,
    pub models: usize,
    /// `provider/model`, sorted.
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

fn names(c: &Catalog) -> BTreeSet<String> {
    c.models()
        .iter()
        .map(|m| format!("{}/{}", m.provider.as_str(), m.model))
        .collect()
}

/// Validates `text` as a catalog file (the shipped format) and stores it as the catalog in
/// force. A file that fails is refused whole and nothing is stored.
pub async fn import(store: &dyn PriceStore, text: &str) -> Result<ImportReport> {
    if text.len() > MAX_CATALOG_BYTES {
        return Err(Error::BadRequest(format!(
            "the catalog file is {} bytes, over the limit of {MAX_CATALOG_BYTES}",
            text.len()
        )));
    }
    let catalog = prices::parse(text)?;
    if catalog.models().is_empty() {
        return Err(Error::Config(
            "the LLM price catalog is invalid: it has no models".to_owned(),
        ));
    }
    let before = names(&catalog_in_force(store).await?);
    let after = names(&catalog);
    let source = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| {
            v.get("source")?
                .as_str()
                .map(|s| s.chars().take(200).collect())
        })
        .unwrap_or_default();
    let models = catalog.models().len();
    store
        .insert_catalog(&CatalogRow {
            source_name: source,
            models_count: i64::try_from(models).unwrap_or(i64::MAX),
            catalog_json: text.to_owned(),
            imported_at: Time(time::now()),
        })
        .await?;
    let row = store.newest_catalog().await?;
    Ok(ImportReport {
        source: row.map(|r| r.source_name).unwrap_or_default(),
        models,
        added: after.difference(&before).cloned().collect(),
        removed: before.difference(&after).cloned().collect(),
    })
}

/// Overrides as the routes change them: storage and the shared book together.
#[derive(Clone)]
pub struct Overrides {
    pub store: Arc<dyn PriceStore>,
    pub book: Arc<PriceBook>,
}

impl Overrides {
    /// Stores `row` (replacing the one for the same date) and puts the tenant's overrides, as
    /// stored, in the book; `true` when it replaced one.
    pub async fn put(&self, row: &OverrideRow) -> Result<bool> {
        to_override(row)?;
        let replaced = self.store.put_price_override(row).await?;
        self.reload(row.tenant_id).await?;
        Ok(replaced)
    }

    /// Deletes one override; `false` when there was none.
    pub async fn delete(
        &self,
        tenant: TenantId,
        provider: Provider,
        model: &str,
        from: NaiveDate,
    ) -> Result<bool> {
        let gone = self
            .store
            .delete_price_override(tenant, provider.as_str(), model, from)
            .await?;
        self.reload(tenant).await?;
        Ok(gone)
    }

    pub async fn list(&self, tenant: TenantId) -> Result<Vec<OverrideRow>> {
        self.store.price_overrides(tenant).await
    }

    async fn reload(&self, tenant: TenantId) -> Result<()> {
        let rows = self.store.price_overrides(tenant).await?;
        let overrides = rows.iter().map(to_override).collect::<Result<Vec<_>>>()?;
        self.book.set_overrides(tenant, overrides);
        Ok(())
    }
}

/// What a reprice did for one tenant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RepriceReport {
    pub priced: u64,
    /// Calls still unpriced: the catalog does not know their model.
    pub unknown: u64,
}

/// A stored call's cost with `catalog`, when the catalog knows its model.
pub fn cost_of_row(catalog: &Catalog, row: &CallRow) -> Option<(Nanos, String)> {
    let usage = row.usage();
    if usage == Default::default() {
        return None;
    }
    let priced = catalog.price(row.provider()?, row.model()?, row.started_at.0, &usage)?;
    Some((priced.cost, priced.model))
}

/// Prices the tenant's unpriced calls with its catalog, writes their costs and spend events;
/// `progress` is told how many calls were looked at so far.
pub async fn reprice(
    calls: &dyn CallStore,
    ledger: &Ledger,
    catalog: &Catalog,
    tenant: TenantId,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<RepriceReport> {
    let mut report = RepriceReport::default();
    let mut after = None;
    loop {
        let page = calls.unpriced_calls(tenant, after, PAGE).await?;
        let Some(last) = page.last() else {
            return Ok(report);
        };
        after = Some(last.id);
        let mut costs = Vec::new();
        let mut priced_rows = Vec::new();
        for row in &page {
            match cost_of_row(catalog, row) {
                Some((cost, model)) => {
                    costs.push((row.id, cost, model.clone()));
                    priced_rows.push(CallRow {
                        cost_status: CostStatus::Priced.as_str().to_owned(),
                        cost_nanos: Some(cost.0),
                        priced_model: Some(model),
                        ..row.clone()
                    });
                }
                None => report.unknown += 1,
            }
        }
        if !costs.is_empty() {
            report.priced += calls.set_costs(tenant, &costs).await?;
            for changes in spend_changes(&priced_rows) {
                ledger.apply(tenant, &changes).await?;
            }
        }
        progress(report.priced + report.unknown);
        if page.len() < PAGE as usize {
            return Ok(report);
        }
    }
}
