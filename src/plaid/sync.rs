//! Syncing an item with `/transactions/sync`, and the job handlers that run it (`plaid.sync` for
//! one item, `plaid.sync_all` queued periodically for every item).
//!
//! Invariant: the cursor moves only after the whole set of pages was applied to the ledger in one
//! `Ledger::apply`; a crash or error before that re-reads from the old cursor, and since applying
//! is idempotent nothing is lost or duplicated. On `TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION`
//! the loop restarts from the cursor it began with, dropping what it had collected.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_trait::async_trait;

use crate::domain::{time, AccountId, Money, TenantId};
use crate::error::{Error, Result};
use crate::jobs::{Handler, Job};
use crate::ledger::{AccountOrigin, Changes, NewSpend, Source, SpendStatus, WriteReport};
use crate::security::{AlertDraft, SecurityAlert, SecurityAlertKind, Severity};
use crate::store::Scope;

use super::amount::{convert, PlaidTransaction};
use super::client::AccessToken;
use super::error::{Action, PlaidError};
use super::items::{ItemStatus, PlaidItem, PlaidItemId};
use super::service::Plaid;

/// Restarts after a mutation during pagination before the attempt gives up (and is retried).
const MAX_RESTARTS: usize = 5;

/// What one sync collected: the final state of each changed transaction, and the removals.
#[derive(Debug, Default)]
struct Collected {
    upserts: BTreeMap<String, PlaidTransaction>,
    removals: Vec<String>,
    next_cursor: String,
}

/// How a sync ended, for the job runner.
#[derive(Debug)]
pub enum Outcome {
    Synced(WriteReport),
    /// The item needs its owner; not retried until something changes.
    NeedsPerson(String),
    /// Nothing to do (removed, or gone).
    Skipped,
}

impl Plaid {
    /// Syncs one item to the ledger. An `Err` is worth retrying later.
    pub async fn sync(&self, tenant: TenantId, id: PlaidItemId) -> Result<Outcome> {
        let scope = Scope::Tenant(tenant);
        let Some(item) = self.items.get_plaid_item(scope, id).await? else {
            return Ok(Outcome::Skipped);
        };
        if item.status == ItemStatus::Removed {
            return Ok(Outcome::Skipped);
        }
        let Some(token) = self.token(tenant, id).await? else {
            return Ok(Outcome::Skipped);
        };
        let collected = match self.collect(&token, item.cursor.as_deref()).await {
            Ok(collected) => collected,
            Err(e) => return self.failed(&item, e).await,
        };
        let changes = match self
            .changes(&item, &token, collected.upserts, collected.removals)
            .await
        {
            Ok(changes) => changes,
            Err(Error::Unavailable(message)) => {
                self.items
                    .set_plaid_item_status(scope, id, ItemStatus::Error, Some("SYNC_REFUSED"))
                    .await?;
                return Err(Error::Unavailable(message));
            }
            Err(e) => return Err(e),
        };
        let report = self.ledger.apply(tenant, &changes).await?;
        self.items
            .save_plaid_cursor(scope, id, &collected.next_cursor, time::now())
            .await?;
        Ok(Outcome::Synced(report))
    }

    /// Pages from `start` until `has_more` is false.
    async fn collect(
        &self,
        token: &AccessToken,
        start: Option<&str>,
    ) -> Result<Collected, PlaidError> {
        let mut restarts = 0;
        'restart: loop {
            let mut collected = Collected::default();
            let mut cursor = start.map(str::to_owned);
            loop {
                let page = match self
                    .client
                    .sync_page(token, cursor.as_deref(), self.page_size)
                    .await
                {
                    Ok(page) => page,
                    Err(e)
                        if e.action() == Action::RestartPagination && restarts < MAX_RESTARTS =>
                    {
                        restarts += 1;
                        continue 'restart;
                    }
                    Err(e) => return Err(e),
                };
                for t in page.added.into_iter().chain(page.modified) {
                    let t = convert(t).map_err(PlaidError::Unsupported)?;
                    collected.upserts.insert(t.transaction_id.clone(), t);
                }
                for r in page.removed {
                    collected.upserts.remove(&r.transaction_id);
                    collected.removals.push(r.transaction_id);
                }
                collected.next_cursor = page.next_cursor.clone();
                cursor = Some(page.next_cursor);
                if !page.has_more {
                    return Ok(collected);
                }
            }
        }
    }

    /// The ledger changes for the collected transactions, creating ledger accounts Plaid added.
    async fn changes(
        &self,
        item: &PlaidItem,
        token: &AccessToken,
        mut upserts: BTreeMap<String, PlaidTransaction>,
        removals: Vec<String>,
    ) -> Result<Changes> {
        // A posted transaction and the pending one it replaces in the same set: keep the posted.
        let replaced: Vec<String> = upserts
            .values()
            .filter_map(|t| t.pending_transaction_id.clone())
            .collect();
        for pending in replaced {
            upserts.remove(&pending);
        }
        let accounts = self.account_ids(item, token, &upserts).await?;
        let upserts = upserts.into_values().map(|t| spend(t, &accounts)).collect();
        Ok(Changes {
            source: Source::Plaid,
            upserts,
            removals,
        })
    }

    /// Ledger account ids by Plaid account id; unknown accounts are fetched and created first.
    async fn account_ids(
        &self,
        item: &PlaidItem,
        token: &AccessToken,
        upserts: &BTreeMap<String, PlaidTransaction>,
    ) -> Result<HashMap<String, AccountId>> {
        let mut ids = HashMap::new();
        let mut fetched = false;
        for t in upserts.values() {
            if ids.contains_key(&t.account_id) {
                continue;
            }
            let store = self.ledger.store();
            let mut found = store
                .external_account(item.tenant_id, AccountOrigin::Plaid, &t.account_id)
                .await?;
            if found.is_none() && !fetched {
                let accounts = self.client.accounts(token).await?;
                self.upsert_accounts(item.tenant_id, &accounts).await?;
                fetched = true;
                found = store
                    .external_account(item.tenant_id, AccountOrigin::Plaid, &t.account_id)
                    .await?;
            }
            if let Some(row) = found {
                ids.insert(t.account_id.clone(), row.id);
            }
        }
        Ok(ids)
    }

    /// Records a failed sync on the item; alerts when it newly needs a person.
    async fn failed(&self, item: &PlaidItem, e: PlaidError) -> Result<Outcome> {
        let scope = Scope::Tenant(item.tenant_id);
        let code = e.item_code().to_owned();
        let action = e.action();
        let status = match action {
            Action::NeedsPerson => ItemStatus::LoginRequired,
            _ => ItemStatus::Error,
        };
        self.items
            .set_plaid_item_status(scope, item.id, status, Some(&code))
            .await?;
        if action != Action::NeedsPerson {
            return Err(e.into());
        }
        if item.status != ItemStatus::LoginRequired {
            let alert = SecurityAlert::from_draft(AlertDraft {
                kind: SecurityAlertKind::BankConnectionAttention,
                severity: Severity::Medium,
                tenant: Some(item.tenant_id),
                subject: format!("plaid_item {}", item.id),
                summary: format!(
                    "the bank connection {} needs its owner to log in again through Plaid Link ({code})",
                    item.institution.as_deref().unwrap_or(&item.item_id)
                ),
                evidence: serde_json::json!({ "item": item.id, "error_code": code }),
            });
            self.alerts.insert_alert(&alert).await?;
        }
        Ok(Outcome::NeedsPerson(code))
    }
}

fn spend(t: PlaidTransaction, accounts: &HashMap<String, AccountId>) -> NewSpend {
    let replaces = if t.pending {
        None
    } else {
        t.pending_transaction_id
    };
    NewSpend {
        source: Source::Plaid,
        account: accounts.get(&t.account_id).copied(),
        occurred_at: t.occurred_at,
        booked_on: t.date,
        amount: Money::new(t.amount_minor, t.currency),
        status: if t.pending {
            SpendStatus::Pending
        } else {
            SpendStatus::Posted
        },
        counterparty: t
            .merchant_name
            .or_else(|| Some(t.name.clone()))
            .filter(|c| !c.is_empty()),
        category: t.category,
        description: Some(t.name).filter(|d| !d.is_empty()),
        replaces,
        source_ref: t.transaction_id,
    }
}

/// Runs `plaid.sync` jobs: `{"item": id}` in the job's tenant.
pub struct SyncHandler(pub Arc<Plaid>);

#[async_trait]
impl Handler for SyncHandler {
    async fn run(&self, job: &Job) -> std::result::Result<(), String> {
        let tenant = job.tenant_id.ok_or("a plaid.sync job needs a tenant")?;
        let id: PlaidItemId = job.payload["item"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or("a plaid.sync job needs an item id")?;
        match self.0.sync(tenant, id).await {
            Ok(Outcome::Synced(report)) => {
                tracing::info!(item = %id, inserted = report.inserted, updated = report.updated,
                    removed = report.removed, "plaid item synced");
                Ok(())
            }
            Ok(Outcome::NeedsPerson(code)) => {
                tracing::warn!(item = %id, code, "plaid item needs its owner; not retried");
                Ok(())
            }
            Ok(Outcome::Skipped) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// Runs `plaid.sync_all`: queues a sync of every item not removed.
pub struct SyncAllHandler(pub Arc<Plaid>);

#[async_trait]
impl Handler for SyncAllHandler {
    async fn run(&self, _job: &Job) -> std::result::Result<(), String> {
        let items = self
            .0
            .items
            .syncable_plaid_items()
            .await
            .map_err(|e| e.to_string())?;
        for item in &items {
            self.0.queue_sync(item).await.map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}
