//! Rows into what the API shows: enums parsed back, free text opened with the tenant's keys.
//!
//! Invariant: a row that does not decode or decrypt is an error, never shown half-read; account
//! numbers are not opened here at all.

use super::model::{Account, AccountKind, AccountOrigin, Source, SpendEvent, SpendStatus};
use super::store::{AccountRow, SpendRow};
use super::Ledger;
use crate::crypto::{Opener, SPEND_COUNTERPARTY, SPEND_DESCRIPTION};
use crate::domain::{Currency, Money, SpendId, TenantId};
use crate::error::{Error, Result};

use super::store::{SpendCursor, SpendFilter};

fn stored(what: &str, value: &str) -> Error {
    Error::Internal(anyhow::anyhow!(
        "the ledger holds an unknown {what} {value:?}"
    ))
}

pub(super) fn account(row: AccountRow) -> Result<Account> {
    Ok(Account {
        id: row.id,
        name: row.name,
        kind: AccountKind::parse(&row.kind).ok_or_else(|| stored("account kind", &row.kind))?,
        currency: Currency::parse(&row.currency).map_err(|e| stored("currency", &e))?,
        mask: row.mask,
        institution: row.institution,
        origin: AccountOrigin::parse(&row.origin)
            .ok_or_else(|| stored("account origin", &row.origin))?,
        created_at: row.created_at.0,
    })
}

pub(super) fn spend(opener: &Opener, row: SpendRow) -> Result<SpendEvent> {
    let id = row.id.to_string();
    let open = |field, sealed: Option<Vec<u8>>| -> Result<Option<String>> {
        sealed.map(|c| opener.open_text(field, &c)).transpose()
    };
    let currency = Currency::parse(&row.currency).map_err(|e| stored("currency", &e))?;
    Ok(SpendEvent {
        id: row.id,
        source: Source::parse(&row.source).ok_or_else(|| stored("source", &row.source))?,
        source_ref: row.source_ref,
        account_id: row.account_id,
        occurred_at: row.occurred_at.0,
        booked_on: row.booked_on,
        amount_minor: row.amount_minor,
        amount: Money::new(row.amount_minor, currency).decimal(),
        currency,
        status: SpendStatus::parse(&row.status).ok_or_else(|| stored("status", &row.status))?,
        counterparty: open(SPEND_COUNTERPARTY.row(&id), row.counterparty_ciphertext)?,
        counterparty_normalized: row.counterparty,
        category: row.category,
        description: open(SPEND_DESCRIPTION.row(&id), row.description_ciphertext)?,
        created_at: row.created_at.0,
        updated_at: row.updated_at.0,
    })
}

/// One page of events, decrypted, and where the next page starts.
pub struct SpendPage {
    pub items: Vec<SpendEvent>,
    pub next: Option<SpendCursor>,
}

impl Ledger {
    /// A newest-first page of `limit` events after `after`.
    pub async fn page(
        &self,
        tenant: TenantId,
        filter: &SpendFilter,
        after: Option<SpendCursor>,
        limit: u32,
    ) -> Result<SpendPage> {
        let mut rows = self
            .store
            .spend_page(tenant, filter, after, limit + 1)
            .await?;
        let next = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last().map(|r| SpendCursor {
                occurred_at: r.occurred_at,
                id: r.id,
            })
        } else {
            None
        };
        let opener = self.keyring.opener(tenant).await?;
        let items = rows
            .into_iter()
            .map(|row| spend(&opener, row))
            .collect::<Result<_>>()?;
        Ok(SpendPage { items, next })
    }

    pub async fn spend(&self, tenant: TenantId, id: SpendId) -> Result<Option<SpendEvent>> {
        let Some(row) = self.store.spend(tenant, id).await? else {
            return Ok(None);
        };
        let opener = self.keyring.opener(tenant).await?;
        spend(&opener, row).map(Some)
    }
}
