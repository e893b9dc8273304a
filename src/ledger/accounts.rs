//! Ledger accounts: declared for file import or created from a Plaid item.
//!
//! Invariant: the full account number is sealed before it is stored and never read back into a
//! response; the API shows only the mask.

use super::model::{mask_number, Account, AccountOrigin, NewAccount};
use super::store::AccountRow;
use super::Ledger;
use crate::crypto::ACCOUNT_NUMBER;
use crate::domain::{time, AccountId, TenantId};
use crate::error::{Error, Result};
use crate::store::Time;

impl Ledger {
    /// Creates an account.
    pub async fn create_account(&self, tenant: TenantId, account: &NewAccount) -> Result<Account> {
        let sealer = self.keyring.sealer(tenant).await?;
        let id = AccountId::new();
        let row_id = id.to_string();
        let number = account
            .number
            .as_ref()
            .map(|n| n.expose().trim().to_owned());
        let number_ciphertext = number
            .as_deref()
            .filter(|n| !n.is_empty())
            .map(|n| sealer.seal(ACCOUNT_NUMBER.row(&row_id), n.as_bytes()))
            .transpose()?;
        let mask = match &account.mask {
            Some(mask) => mask_number(mask),
            None => number.as_deref().and_then(mask_number),
        };
        let row = AccountRow {
            id,
            tenant_id: tenant,
            name: account.name.clone(),
            kind: account.kind.as_str().to_owned(),
            currency: account.currency.as_str().to_owned(),
            mask,
            number_ciphertext,
            institution: account.institution.clone(),
            origin: account.origin.as_str().to_owned(),
            external_id: account.external_id.clone(),
            created_at: Time(time::now()),
        };
        let mut writer = self.store.begin_write(tenant, sealer.version()).await?;
        writer.insert_account(&row).await?;
        writer.commit().await?;
        super::read::account(row)
    }

    /// The account with this origin's external id (a Plaid `account_id`), created when new.
    pub async fn upsert_external_account(
        &self,
        tenant: TenantId,
        account: &NewAccount,
    ) -> Result<Account> {
        let Some(external) = account.external_id.as_deref() else {
            return Err(Error::Internal(anyhow::anyhow!(
                "an external account needs its external id"
            )));
        };
        if let Some(found) = self
            .external_account(tenant, account.origin, external)
            .await?
        {
            return Ok(found);
        }
        match self.create_account(tenant, account).await {
            // Created by a concurrent sync in between.
            Err(Error::Conflict(_)) => self
                .external_account(tenant, account.origin, external)
                .await?
                .ok_or(Error::NotFound),
            other => other,
        }
    }

    async fn external_account(
        &self,
        tenant: TenantId,
        origin: AccountOrigin,
        external: &str,
    ) -> Result<Option<Account>> {
        self.store
            .external_account(tenant, origin, external)
            .await?
            .map(super::read::account)
            .transpose()
    }

    pub async fn account(&self, tenant: TenantId, id: AccountId) -> Result<Option<Account>> {
        self.store
            .account(tenant, id)
            .await?
            .map(super::read::account)
            .transpose()
    }

    pub async fn accounts(&self, tenant: TenantId) -> Result<Vec<Account>> {
        self.store
            .accounts(tenant)
            .await?
            .into_iter()
            .map(super::read::account)
            .collect()
    }
}
