//! The Plaid capability's service: linking an item (exchange, encrypted token, ledger accounts,
//! first sync queued), removing one, queuing syncs. Built only when Plaid is configured.
//!
//! Invariant: an access token is written only through the keyring (a tenant secret sealed with
//! the tenant's data key) and read back only to make a Plaid call; the item row is written after
//! the token is stored, so an item never exists without its token.

use std::sync::Arc;

use crate::crypto::Keyring;
use crate::domain::{time, Currency, TenantId};
use crate::error::{Error, Result};
use crate::events::Events;
use crate::jobs::{Dedup, JobStore, NewJob};
use crate::ledger::{AccountKind, AccountOrigin, Ledger, NewAccount};
use crate::security::MonitorStore;
use crate::store::Scope;

use super::client::{AccessToken, PlaidClient};
use super::items::{token_secret_name, ItemStatus, PlaidItem, PlaidItemId, PlaidStore};
use super::webhook::WebhookVerifier;
use super::wire;

/// The job kind that syncs one item.
pub const SYNC_JOB: &str = "plaid.sync";
/// The periodic job that queues a sync of every item.
pub const SYNC_ALL_JOB: &str = "plaid.sync_all";

/// What Plaid's routes and jobs use.
#[derive(Clone)]
pub struct Plaid {
    pub client: PlaidClient,
    pub items: Arc<dyn PlaidStore>,
    pub jobs: Arc<dyn JobStore>,
    pub alerts: Arc<dyn MonitorStore>,
    pub keyring: Arc<Keyring>,
    pub ledger: Arc<Ledger>,
    pub events: Arc<Events>,
    pub verifier: Arc<WebhookVerifier>,
    /// `count` of each `/transactions/sync` call (1 to 500).
    pub page_size: u32,
}

impl Plaid {
    /// Exchanges Link's public token, stores the access token encrypted, creates the item's
    /// ledger accounts and queues its first sync.
    pub async fn link(&self, tenant: TenantId, public_token: &str) -> Result<PlaidItem> {
        let exchanged = self.client.exchange_public_token(public_token).await?;
        let accounts = self.client.accounts(&exchanged.access_token).await?;
        let id = PlaidItemId::new();
        self.keyring
            .secrets(tenant)
            .put(
                &token_secret_name(id),
                exchanged.access_token.expose().as_bytes(),
            )
            .await?;
        let item = PlaidItem {
            id,
            tenant_id: tenant,
            item_id: exchanged.item_id,
            institution: institution(&accounts.item),
            status: ItemStatus::Active,
            last_error_code: None,
            cursor: None,
            last_sync_at: None,
            created_at: time::now(),
        };
        if let Err(e) = self.items.insert_plaid_item(&item).await {
            let _ = self
                .keyring
                .secrets(tenant)
                .delete(&token_secret_name(id))
                .await;
            return Err(e);
        }
        self.upsert_accounts(tenant, &accounts).await?;
        self.queue_sync(&item).await?;
        Ok(item)
    }

    /// Removes the item at Plaid, deletes its token and marks it removed; its transactions stay.
    pub async fn remove(&self, tenant: TenantId, id: PlaidItemId) -> Result<PlaidItem> {
        let scope = Scope::Tenant(tenant);
        let item = self
            .items
            .get_plaid_item(scope, id)
            .await?
            .ok_or(Error::NotFound)?;
        if item.status != ItemStatus::Removed {
            if let Some(token) = self.token(tenant, id).await? {
                match self.client.remove_item(&token).await {
                    Ok(()) => {}
                    // Already gone at Plaid: nothing left to remove there.
                    Err(e) if e.code() == Some("ITEM_NOT_FOUND") => {}
                    Err(e) if e.code() == Some("INVALID_ACCESS_TOKEN") => {}
                    Err(e) => return Err(e.into()),
                }
            }
            self.items
                .set_plaid_item_status(scope, id, ItemStatus::Removed, None)
                .await?;
            self.keyring
                .secrets(tenant)
                .delete(&token_secret_name(id))
                .await?;
        }
        self.items
            .get_plaid_item(scope, id)
            .await?
            .ok_or(Error::NotFound)
    }

    /// Queues a sync of `item` unless one is already pending.
    pub async fn queue_sync(&self, item: &PlaidItem) -> Result<()> {
        let job = NewJob::new(SYNC_JOB, serde_json::json!({ "item": item.id.to_string() }))
            .tenant(Some(item.tenant_id))
            .max_attempts(8)
            .dedup(Dedup::Pending(format!("{SYNC_JOB}:{}", item.id)));
        self.jobs.enqueue_job(&job).await?;
        Ok(())
    }

    /// The item's access token, decrypted.
    pub async fn token(&self, tenant: TenantId, id: PlaidItemId) -> Result<Option<AccessToken>> {
        let Some(bytes) = self
            .keyring
            .secrets(tenant)
            .get(&token_secret_name(id))
            .await?
        else {
            return Ok(None);
        };
        let text = std::str::from_utf8(bytes.expose())
            .map_err(|_| Error::Crypto("a stored Plaid access token is not text".to_owned()))?;
        Ok(Some(AccessToken::new(text.to_owned())))
    }

    /// Creates (or finds) the ledger account of every account Plaid lists for the item.
    pub async fn upsert_accounts(
        &self,
        tenant: TenantId,
        accounts: &wire::AccountsResponse,
    ) -> Result<()> {
        let institution = institution(&accounts.item);
        for account in &accounts.accounts {
            let code = account
                .balances
                .iso_currency_code
                .as_deref()
                .unwrap_or("USD");
            let currency = Currency::iso(code).map(|(c, _)| c).map_err(|e| {
                Error::Unavailable(format!("Plaid account {}: {e}", account.account_id))
            })?;
            let new = NewAccount {
                name: account.name.chars().take(100).collect(),
                kind: kind_of(&account.kind, account.subtype.as_deref()),
                currency,
                number: None,
                mask: account.mask.clone(),
                institution: institution.clone(),
                origin: AccountOrigin::Plaid,
                external_id: Some(account.account_id.clone()),
            };
            self.ledger.upsert_external_account(tenant, &new).await?;
        }
        Ok(())
    }
}

fn institution(item: &wire::Item) -> Option<String> {
    item.institution_name
        .clone()
        .or_else(|| item.institution_id.clone())
}

/// Plaid's account `type`/`subtype` as the ledger's kind.
fn kind_of(kind: &str, subtype: Option<&str>) -> AccountKind {
    match (kind, subtype) {
        ("depository", Some("savings")) => AccountKind::Savings,
        ("depository", _) => AccountKind::Checking,
        ("credit", _) => AccountKind::CreditCard,
        ("loan", _) => AccountKind::Loan,
        ("investment" | "brokerage", _) => AccountKind::Investment,
        _ => AccountKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plaid_account_types_map_to_ledger_kinds() {
        assert_eq!(
            kind_of("depository", Some("checking")),
            AccountKind::Checking
        );
        assert_eq!(kind_of("depository", Some("savings")), AccountKind::Savings);
        assert_eq!(
            kind_of("credit", Some("credit card")),
            AccountKind::CreditCard
        );
        assert_eq!(kind_of("other", None), AccountKind::Other);
    }
}
