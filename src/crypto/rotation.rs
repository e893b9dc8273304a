//! `keys rotate`: re-wrapping tenant data keys under the active master key,
//! optionally rotating the data keys themselves and re-encrypting every registered column.
//!
//! Invariant: every step is one small transaction that is correct on its own and skipped when it
//! is already done (compare-and-swap on the stored bytes), so rotation runs while the server
//! serves, can stop at any point and is finished by running it again. An old data key is deleted
//! only when no registered column still refers to it, checked in the deleting statement.

use std::collections::{BTreeSet, HashMap};

use super::cipher::{self, DataKey};
use super::format;
use super::keyring::{field_aad, next_version, unwrap_key, wrap_key, Keyring};
use super::registry::{EncryptedColumn, ENCRYPTED_COLUMNS};
use super::Reencrypted;
use crate::domain::TenantId;
use crate::error::{Error, Result};

/// What a rotation does.
#[derive(Debug, Clone)]
pub struct Rotation {
    /// Also give every tenant a new data key and re-encrypt its fields under it.
    pub reencrypt_data: bool,
    /// Rows read and rewritten per transaction.
    pub batch_size: u32,
    /// For tests: fail, as a crash would, before the item after this many (keys or fields).
    pub stop_after: Option<u64>,
}

impl Default for Rotation {
    fn default() -> Self {
        Self {
            reencrypt_data: false,
            batch_size: 200,
            stop_after: None,
        }
    }
}

/// What a rotation changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotationReport {
    pub rewrapped: u64,
    pub data_keys_created: u64,
    pub fields_reencrypted: u64,
    pub data_keys_retired: u64,
}

/// Counts items and fails once the test limit is spent.
struct Budget(Option<u64>);

impl Budget {
    fn spend(&mut self) -> Result<()> {
        match &mut self.0 {
            Some(0) => Err(Error::Crypto(
                "key rotation stopped at its item limit (simulated crash)".to_owned(),
            )),
            Some(left) => {
                *left -= 1;
                Ok(())
            }
            None => Ok(()),
        }
    }
}

impl Keyring {
    /// Re-wraps every data key under the active master key and, with `reencrypt_data`, rotates
    /// each tenant's data key and re-encrypts its fields. A tenant left half-way by an
    /// interrupted run is finished with the key that run created, not given another.
    pub async fn rotate(&self, options: &Rotation) -> Result<RotationReport> {
        let mut report = RotationReport::default();
        let mut budget = Budget(options.stop_after);
        self.rewrap_all(&mut report, &mut budget).await?;
        if options.reencrypt_data {
            for tenant in self.tenants_with_keys().await? {
                self.rotate_tenant(tenant, options.batch_size.max(1), &mut report, &mut budget)
                    .await?;
            }
        }
        tracing::info!(?report, "key rotation finished");
        Ok(report)
    }

    async fn tenants_with_keys(&self) -> Result<BTreeSet<TenantId>> {
        Ok(self
            .store
            .list_tenant_keys()
            .await?
            .into_iter()
            .map(|k| k.tenant)
            .collect())
    }

    async fn rewrap_all(&self, report: &mut RotationReport, budget: &mut Budget) -> Result<()> {
        let active = self.master_keys().active();
        for record in self.store.list_tenant_keys().await? {
            if record.master_key_id == active.id {
                continue;
            }
            budget.spend()?;
            let key = unwrap_key(self.master_keys(), &record)?;
            let new = wrap_key(active, record.tenant, record.version, &key)?;
            if self
                .store
                .rewrap_tenant_key(&record, &new.master_key_id, &new.wrapped)
                .await?
            {
                report.rewrapped += 1;
            }
        }
        Ok(())
    }

    async fn rotate_tenant(
        &self,
        tenant: TenantId,
        batch: u32,
        report: &mut RotationReport,
        budget: &mut Budget,
    ) -> Result<()> {
        let mut keys = self.store.tenant_keys(tenant).await?;
        if keys.len() < 2 {
            budget.spend()?;
            let fresh = DataKey::generate();
            let record = wrap_key(
                self.master_keys().active(),
                tenant,
                next_version(&keys),
                &fresh,
            )?;
            self.store.insert_tenant_key(&record).await?;
            report.data_keys_created += 1;
            keys = self.store.tenant_keys(tenant).await?;
        }
        let Some(active) = keys.iter().find(|k| k.active) else {
            return Ok(()); // the tenant was deleted meanwhile
        };
        let new_key = unwrap_key(self.master_keys(), active)?;
        let mut old = HashMap::new();
        for record in keys.iter().filter(|k| !k.active) {
            old.insert(record.version, unwrap_key(self.master_keys(), record)?);
        }
        for column in ENCRYPTED_COLUMNS {
            let target = (active.version, &new_key);
            report.fields_reencrypted += self
                .reencrypt_column(tenant, column, target, &old, batch, budget)
                .await?;
        }
        for record in keys.iter().filter(|k| !k.active) {
            if self.store.retire_tenant_key(tenant, record.version).await? {
                report.data_keys_retired += 1;
            }
        }
        Ok(())
    }

    /// Re-encrypts, batch by batch, every field of `column` not under the target key.
    async fn reencrypt_column(
        &self,
        tenant: TenantId,
        column: &'static EncryptedColumn,
        (version, key): (u32, &DataKey),
        old: &HashMap<u32, DataKey>,
        batch: u32,
        budget: &mut Budget,
    ) -> Result<u64> {
        let mut done = 0;
        let mut after: Option<String> = None;
        loop {
            let cells = self
                .store
                .encrypted_cells(column, tenant, after.as_deref(), batch)
                .await?;
            let mut replacements = Vec::new();
            for cell in &cells {
                let found = format::parse(&cell.ciphertext)?.header.key_version;
                if found == version {
                    continue;
                }
                budget.spend()?;
                let old_key = old.get(&found).ok_or_else(|| {
                    Error::Crypto(format!(
                        "a field of {} for tenant {tenant} uses data key {found}, which does not exist",
                        column.name()
                    ))
                })?;
                let aad = field_aad(tenant, column.row(&cell.row_id));
                let plaintext = cipher::open(old_key, &aad, &cell.ciphertext)?;
                replacements.push(Reencrypted {
                    row_id: cell.row_id.clone(),
                    old: cell.ciphertext.clone(),
                    new: cipher::seal(key, version, &aad, plaintext.expose())?,
                });
            }
            done += self
                .store
                .replace_encrypted(column, tenant, &replacements)
                .await?;
            match cells.last() {
                Some(last) if cells.len() == batch as usize => after = Some(last.row_id.clone()),
                _ => return Ok(done),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_fails_after_its_limit_and_never_without_one() {
        let mut budget = Budget(Some(2));
        assert!(budget.spend().is_ok() && budget.spend().is_ok());
        assert!(budget.spend().is_err());
        let mut unlimited = Budget(None);
        assert!((0..1000).all(|_| unlimited.spend().is_ok()));
    }
}
