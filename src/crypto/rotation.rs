//! `keys rotate` and `keys status`: re-wrapping tenant data keys under the active master key,
//! optionally rotating the data keys themselves and re-encrypting every registered column.
//!
//! Invariant: every step is one small transaction that is correct on its own and skipped when it
//! is already done (compare-and-swap on the stored bytes), so rotation runs while the server
//! serves, can stop at any point and is finished by running it again. An old data key is deleted
//! only when no registered column still refers to it, checked in the deleting statement.

use std::collections::{BTreeSet, HashMap};

use super::cipher::{self, DataKey};
use super::format;
use super::keyring::{field_aad, next_version, unwrap_key, wrap_key, Keyring, TenantKeyRecord};
use super::registry::{EncryptedColumn, ENCRYPTED_COLUMNS};
use crate::domain::TenantId;
use crate::error::{Error, Result};
use crate::store::Reencrypted;

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

/// Which keys are in use and how much each protects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyStatus {
    pub master_keys: Vec<MasterKeyUse>,
    /// Tenants that have a data key.
    pub tenants: u64,
    /// Inactive data keys still stored (left by an unfinished `--reencrypt-data`).
    pub older_data_keys: u64,
    pub columns: Vec<ColumnUse>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterKeyUse {
    pub id: String,
    pub active: bool,
    /// Whether `AUDITPULSE_MASTER_KEYS` holds it (a stored key may name one that was removed).
    pub configured: bool,
    /// Tenant data keys it wraps.
    pub data_keys: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnUse {
    pub column: String,
    pub under_active_keys: u64,
    pub under_older_keys: u64,
}

impl Keyring {
    pub async fn status(&self) -> Result<KeyStatus> {
        let records = self.store.list_tenant_keys().await?;
        let active: HashMap<TenantId, u32> = records
            .iter()
            .filter(|k| k.active)
            .map(|k| (k.tenant, k.version))
            .collect();
        let mut columns = Vec::new();
        for column in ENCRYPTED_COLUMNS {
            let mut use_ = ColumnUse {
                column: column.name(),
                under_active_keys: 0,
                under_older_keys: 0,
            };
            for (tenant, version) in &active {
                self.count_column(*tenant, column, *version, &mut use_)
                    .await?;
            }
            columns.push(use_);
        }
        Ok(KeyStatus {
            master_keys: master_key_uses(self, &records),
            tenants: active.len() as u64,
            older_data_keys: records.iter().filter(|k| !k.active).count() as u64,
            columns,
        })
    }

    async fn count_column(
        &self,
        tenant: TenantId,
        column: &'static EncryptedColumn,
        active: u32,
        use_: &mut ColumnUse,
    ) -> Result<()> {
        const BATCH: u32 = 500;
        let mut after: Option<String> = None;
        loop {
            let cells = self
                .store
                .encrypted_cells(column, tenant, after.as_deref(), BATCH)
                .await?;
            for cell in &cells {
                match format::parse(&cell.ciphertext)?.header.key_version == active {
                    true => use_.under_active_keys += 1,
                    false => use_.under_older_keys += 1,
                }
            }
            match cells.last() {
                Some(last) if cells.len() == BATCH as usize => after = Some(last.row_id.clone()),
                _ => return Ok(()),
            }
        }
    }
}

fn master_key_uses(keyring: &Keyring, records: &[TenantKeyRecord]) -> Vec<MasterKeyUse> {
    let count = |id: &str| records.iter().filter(|k| k.master_key_id == id).count() as u64;
    let masters = keyring.master_keys();
    let mut uses: Vec<MasterKeyUse> = masters
        .all()
        .iter()
        .map(|k| MasterKeyUse {
            id: k.id.clone(),
            active: k.id == masters.active().id,
            configured: true,
            data_keys: count(&k.id),
        })
        .collect();
    let unknown: BTreeSet<&str> = records
        .iter()
        .map(|k| k.master_key_id.as_str())
        .filter(|id| !masters.ids().contains(id))
        .collect();
    uses.extend(unknown.into_iter().map(|id| MasterKeyUse {
        id: id.to_owned(),
        active: false,
        configured: false,
        data_keys: count(id),
    }));
    uses
}

impl KeyStatus {
    /// The report `keys status` prints.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for m in &self.master_keys {
            let note = match (m.active, m.configured, m.data_keys) {
                (true, _, _) => " (active)",
                (false, false, _) => " (NOT CONFIGURED: add it back to AUDITPULSE_MASTER_KEYS, then run `keys rotate`)",
                (false, true, 0) => " (unused: can be removed from AUDITPULSE_MASTER_KEYS)",
                (false, true, _) => " (still in use: run `keys rotate` before removing it)",
            };
            lines.push(format!(
                "master key {}: wraps {} tenant data key(s){note}",
                m.id, m.data_keys
            ));
        }
        lines.push(format!(
            "tenant data keys: {} tenant(s), {} older key(s) awaiting re-encryption",
            self.tenants, self.older_data_keys
        ));
        for c in &self.columns {
            lines.push(format!(
                "{}: {} field(s) under active data keys, {} under older ones",
                c.column, c.under_active_keys, c.under_older_keys
            ));
        }
        lines
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

    #[test]
    fn status_lines_say_which_master_keys_can_be_removed() {
        let status = KeyStatus {
            master_keys: vec![
                MasterKeyUse {
                    id: "k2".into(),
                    active: true,
                    configured: true,
                    data_keys: 3,
                },
                MasterKeyUse {
                    id: "k1".into(),
                    active: false,
                    configured: true,
                    data_keys: 0,
                },
                MasterKeyUse {
                    id: "k0".into(),
                    active: false,
                    configured: false,
                    data_keys: 1,
                },
            ],
            tenants: 3,
            older_data_keys: 0,
            columns: vec![ColumnUse {
                column: "tenant_secrets.value_ciphertext".into(),
                under_active_keys: 5,
                under_older_keys: 0,
            }],
        };
        let lines = status.lines();
        assert_eq!(
            lines[0],
            "master key k2: wraps 3 tenant data key(s) (active)"
        );
        assert!(lines[1].contains("k1: wraps 0") && lines[1].contains("can be removed"));
        assert!(lines[2].contains("NOT CONFIGURED"));
        assert_eq!(
            lines[4],
            "tenant_secrets.value_ciphertext: 5 field(s) under active data keys, 0 under older ones"
        );
    }
}
