//! `keys status`: which master keys are in use, how many tenant data keys each wraps, and how
//! many fields of each encrypted column are under active or older data keys.
//!
//! Invariant: read-only; it reads ciphertext headers, never decrypts.

use std::collections::{BTreeSet, HashMap};

use super::format;
use super::keyring::{Keyring, TenantKeyRecord};
use super::registry::{EncryptedColumn, ENCRYPTED_COLUMNS};
use crate::domain::TenantId;
use crate::error::Result;

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
