//! The keyring: envelope encryption of fields. Each tenant has its own data key, stored only
//! wrapped (sealed) by a master key; fields are sealed with the tenant's active data key and bound
//! by associated data to tenant, table, column and row.
//!
//! Invariant: a data key never leaves this module unwrapped and is never stored unwrapped; a
//! ciphertext decrypts only for the tenant, column and row it was made for, otherwise it is an
//! error. Unwrapped keys are not cached, so a deleted (shredded) key is gone at once.

use std::sync::Arc;

use super::cipher::{self, DataKey};
use super::format;
use super::registry::{self, Field};
use crate::config::{MasterKey, MasterKeys};
use crate::crypto::CryptoStore;
use crate::domain::time::{self, Timestamp};
use crate::domain::TenantId;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// One stored tenant data key, wrapped by the master key `master_key_id`.
#[derive(Clone, PartialEq)]
pub struct TenantKeyRecord {
    pub tenant: TenantId,
    /// 1 for a tenant's first key, then increasing with each data key rotation.
    pub version: u32,
    pub master_key_id: String,
    /// The data key sealed by the master key (see `format.rs`); useless without the master key.
    pub wrapped: Vec<u8>,
    /// New fields are sealed with the tenant's one active key.
    pub active: bool,
    pub created_at: Timestamp,
}

impl std::fmt::Debug for TenantKeyRecord {
    /// Names the key; the wrapped bytes are key material and are not printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantKeyRecord")
            .field("tenant", &self.tenant)
            .field("version", &self.version)
            .field("master_key_id", &self.master_key_id)
            .field("wrapped", &crate::secret::REDACTED)
            .field("active", &self.active)
            .finish()
    }
}

/// Encrypts and decrypts fields for every tenant. Cheap to share behind an `Arc`.
pub struct Keyring {
    master: MasterKeys,
    pub(super) store: Arc<dyn CryptoStore>,
}

impl Keyring {
    pub fn new(master: MasterKeys, store: Arc<dyn CryptoStore>) -> Self {
        Self { master, store }
    }

    pub fn master_keys(&self) -> &MasterKeys {
        &self.master
    }

    /// Seals `plaintext` for `field` of `tenant` with the tenant's active data key, creating the
    /// tenant's first data key on first use.
    pub async fn encrypt(
        &self,
        tenant: TenantId,
        field: Field<'_>,
        plaintext: &[u8],
    ) -> Result<Vec<u8>> {
        if !registry::is_registered(field.column) {
            return Err(Error::Crypto(format!(
                "{} is not listed in crypto::ENCRYPTED_COLUMNS; register it so key rotation finds it",
                field.column.name()
            )));
        }
        let (version, key) = self.active_key(tenant).await?;
        cipher::seal(&key, version, &field_aad(tenant, field), plaintext)
    }

    /// Opens a ciphertext made by [`Keyring::encrypt`] for exactly this tenant and field.
    pub async fn decrypt(
        &self,
        tenant: TenantId,
        field: Field<'_>,
        ciphertext: &[u8],
    ) -> Result<Secret<Vec<u8>>> {
        let version = format::parse(ciphertext)?.header.key_version;
        let keys = self.store.tenant_keys(tenant).await?;
        let record = keys.iter().find(|k| k.version == version).ok_or_else(|| {
            Error::Crypto(format!(
                "cannot decrypt {} for tenant {tenant}: it has no data key version {version} \
                 (the tenant was deleted, or the ciphertext belongs elsewhere)",
                field.column.name()
            ))
        })?;
        let key = unwrap_key(&self.master, record)?;
        cipher::open(&key, &field_aad(tenant, field), ciphertext).map_err(|_| {
            Error::Crypto(format!(
                "cannot decrypt {} for tenant {tenant}: the ciphertext does not authenticate \
                 (tampered, or copied from another row or tenant)",
                field.column.name()
            ))
        })
    }

    /// The tenant's active data key and its version, created (version 1) when it has none.
    pub(super) async fn active_key(&self, tenant: TenantId) -> Result<(u32, DataKey)> {
        let keys = self.store.tenant_keys(tenant).await?;
        if let Some(active) = keys.iter().find(|k| k.active) {
            return Ok((active.version, unwrap_key(&self.master, active)?));
        }
        let version = next_version(&keys);
        let key = DataKey::generate();
        let record = wrap_key(self.master.active(), tenant, version, &key)?;
        match self.store.insert_tenant_key(&record).await {
            Ok(()) => Ok((version, key)),
            // Another request created the key first, or the tenant does not exist.
            Err(Error::Conflict(_)) => {
                let keys = self.store.tenant_keys(tenant).await?;
                let active = keys.iter().find(|k| k.active).ok_or(Error::NotFound)?;
                Ok((active.version, unwrap_key(&self.master, active)?))
            }
            Err(error) => Err(error),
        }
    }
}

pub(super) fn next_version(keys: &[TenantKeyRecord]) -> u32 {
    keys.iter().map(|k| k.version).max().unwrap_or(0) + 1
}

/// What a field's ciphertext is bound to.
pub(super) fn field_aad(tenant: TenantId, field: Field<'_>) -> Vec<u8> {
    format::associated_data(
        "auditpulse/field/v1",
        &[
            tenant.to_string().as_bytes(),
            field.column.table.as_bytes(),
            field.column.column.as_bytes(),
            field.row_id.as_bytes(),
        ],
    )
}

/// What a wrapped data key is bound to: its tenant, its version and the master key wrapping it.
fn wrap_aad(tenant: TenantId, version: u32, master_key_id: &str) -> Vec<u8> {
    format::associated_data(
        "auditpulse/data-key/v1",
        &[
            tenant.to_string().as_bytes(),
            &version.to_be_bytes(),
            master_key_id.as_bytes(),
        ],
    )
}

/// Seals `key` under `master`, as the active key of `tenant` at `version`.
pub(super) fn wrap_key(
    master: &MasterKey,
    tenant: TenantId,
    version: u32,
    key: &DataKey,
) -> Result<TenantKeyRecord> {
    let master_key = DataKey::from_secret(master.key.clone());
    let wrapped = cipher::seal(
        &master_key,
        version,
        &wrap_aad(tenant, version, &master.id),
        key.bytes(),
    )?;
    Ok(TenantKeyRecord {
        tenant,
        version,
        master_key_id: master.id.clone(),
        wrapped,
        active: true,
        created_at: time::now(),
    })
}

/// Opens a stored data key with the configured master key it names.
pub(super) fn unwrap_key(masters: &MasterKeys, record: &TenantKeyRecord) -> Result<DataKey> {
    let master = masters
        .all()
        .iter()
        .find(|k| k.id == record.master_key_id)
        .ok_or_else(|| {
            Error::Crypto(format!(
                "data key {} of tenant {} is wrapped by master key {:?}, which is not in \
                 AUDITPULSE_MASTER_KEYS; add it back, then run `auditpulse keys rotate`",
                record.version, record.tenant, record.master_key_id
            ))
        })?;
    let aad = wrap_aad(record.tenant, record.version, &record.master_key_id);
    let opened = cipher::open(
        &DataKey::from_secret(master.key.clone()),
        &aad,
        &record.wrapped,
    )
    .map_err(|_| {
        Error::Crypto(format!(
            "data key {} of tenant {} does not unwrap with master key {:?}",
            record.version, record.tenant, record.master_key_id
        ))
    })?;
    let bytes: [u8; 32] = opened
        .expose()
        .as_slice()
        .try_into()
        .map_err(|_| Error::Crypto("an unwrapped data key is not 32 bytes".to_owned()))?;
    Ok(DataKey::from_secret(Secret::new(bytes)))
}

#[cfg(test)]
mod tests {
    use base64::Engine;

    use super::*;

    fn masters(spec: &[(&str, u8)]) -> MasterKeys {
        let text: Vec<String> = spec
            .iter()
            .map(|(id, byte)| {
                format!(
                    "{id}:{}",
                    base64::engine::general_purpose::STANDARD.encode([*byte; 32])
                )
            })
            .collect();
        MasterKeys::parse(&text.join(",")).unwrap()
    }

    #[test]
    fn a_wrapped_key_unwraps_with_any_configured_master_key_it_names() {
        let old = masters(&[("k1", 1)]);
        let tenant = TenantId::new();
        let key = DataKey::generate();
        let record = wrap_key(old.active(), tenant, 1, &key).unwrap();
        assert_eq!(record.master_key_id, "k1");
        assert!(!record.wrapped.windows(32).any(|w| w == key.bytes()));
        let both = masters(&[("k2", 2), ("k1", 1)]);
        assert_eq!(unwrap_key(&both, &record).unwrap().bytes(), key.bytes());
        let error = unwrap_key(&masters(&[("k2", 2)]), &record)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("\"k1\", which is not in AUDITPULSE_MASTER_KEYS"),
            "{error}"
        );
    }

    #[test]
    fn a_wrapped_key_is_bound_to_its_tenant_version_and_master_key_id() {
        let keys = masters(&[("k1", 1)]);
        let record = wrap_key(keys.active(), TenantId::new(), 1, &DataKey::generate()).unwrap();
        let moved = TenantKeyRecord {
            tenant: TenantId::new(),
            ..record.clone()
        };
        assert!(unwrap_key(&keys, &moved).is_err());
        let renumbered = TenantKeyRecord {
            version: 2,
            ..record.clone()
        };
        assert!(unwrap_key(&keys, &renumbered).is_err());
        let renamed = TenantKeyRecord {
            master_key_id: "k9".into(),
            ..record
        };
        assert!(unwrap_key(&masters(&[("k9", 1)]), &renamed).is_err());
    }

    #[test]
    fn a_key_record_prints_without_its_wrapped_bytes() {
        let keys = masters(&[("k1", 1)]);
        let record = wrap_key(keys.active(), TenantId::new(), 1, &DataKey::generate()).unwrap();
        let printed = format!("{record:?}");
        assert!(
            printed.contains("k1") && printed.contains("[REDACTED]"),
            "{printed}"
        );
        assert!(
            !printed.contains(&format!("{:?}", &record.wrapped[5..9])),
            "{printed}"
        );
    }

    #[test]
    fn field_associated_data_differs_by_tenant_table_column_and_row() {
        let tenant = TenantId::new();
        let base = field_aad(tenant, registry::TENANT_SECRET_VALUE.row("a"));
        assert_ne!(
            base,
            field_aad(TenantId::new(), registry::TENANT_SECRET_VALUE.row("a"))
        );
        assert_ne!(
            base,
            field_aad(tenant, registry::TENANT_SECRET_VALUE.row("b"))
        );
    }
}
