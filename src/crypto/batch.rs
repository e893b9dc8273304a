//! Many fields of one tenant at a time: a [`Sealer`] holds the tenant's active data key and an
//! [`Opener`] all of its keys, so a bulk import or a page of transactions costs one key lookup,
//! not one per field.
//!
//! Invariant: the same checks as [`Keyring::encrypt`]/[`Keyring::decrypt`] (registered columns
//! only, ciphertext bound to tenant, column and row); key material stays in `Secret`s.

use std::collections::HashMap;

use super::cipher::{self, DataKey};
use super::format;
use super::keyring::{field_aad, unwrap_key, Keyring, TenantKeyRecord};
use super::registry::{self, Field};
use crate::domain::TenantId;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Seals fields with one tenant's active data key (a clone holds the same key, in a `Secret`).
#[derive(Clone)]
pub struct Sealer {
    tenant: TenantId,
    version: u32,
    key: DataKey,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("tenant", &self.tenant)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl Sealer {
    /// The data key version every ciphertext of this sealer names: a writer holds it active
    /// until its transaction commits, so rotation cannot retire it underneath.
    pub fn version(&self) -> u32 {
        self.version
    }

    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    pub fn seal(&self, field: Field<'_>, plaintext: &[u8]) -> Result<Vec<u8>> {
        registered(field)?;
        cipher::seal(
            &self.key,
            self.version,
            &field_aad(self.tenant, field),
            plaintext,
        )
    }
}

/// Opens fields of one tenant under any of its data keys.
pub struct Opener {
    tenant: TenantId,
    keys: HashMap<u32, DataKey>,
}

impl Opener {
    pub fn open(&self, field: Field<'_>, ciphertext: &[u8]) -> Result<Secret<Vec<u8>>> {
        let version = format::parse(ciphertext)?.header.key_version;
        let key = self.keys.get(&version).ok_or_else(|| {
            Error::Crypto(format!(
                "cannot decrypt {} for tenant {}: it has no data key version {version}",
                field.column.name(),
                self.tenant
            ))
        })?;
        cipher::open(key, &field_aad(self.tenant, field), ciphertext).map_err(|_| {
            Error::Crypto(format!(
                "cannot decrypt {} for tenant {}: the ciphertext does not authenticate",
                field.column.name(),
                self.tenant
            ))
        })
    }

    /// The field as UTF-8 text.
    pub fn open_text(&self, field: Field<'_>, ciphertext: &[u8]) -> Result<String> {
        let bytes = self.open(field, ciphertext)?;
        String::from_utf8(bytes.expose().clone())
            .map_err(|_| Error::Crypto(format!("{} does not hold UTF-8 text", field.column.name())))
    }
}

impl Keyring {
    /// A sealer with the tenant's active data key (created on first use).
    pub async fn sealer(&self, tenant: TenantId) -> Result<Sealer> {
        let (version, key) = self.active_key(tenant).await?;
        Ok(Sealer {
            tenant,
            version,
            key,
        })
    }

    /// An opener holding every data key of the tenant.
    pub async fn opener(&self, tenant: TenantId) -> Result<Opener> {
        let records = self.store.tenant_keys(tenant).await?;
        self.opener_from(tenant, &records)
    }

    /// An opener from data key records the caller read itself, in the same statement as the
    /// ciphertexts it is to open (so a rotation cannot retire a key between the two reads, and a
    /// hot path costs one query). Records of other tenants are ignored; each record still
    /// unwraps only with its own tenant, version and master key.
    pub fn opener_from(&self, tenant: TenantId, records: &[TenantKeyRecord]) -> Result<Opener> {
        let mut keys = HashMap::with_capacity(records.len());
        for record in records.iter().filter(|r| r.tenant == tenant) {
            keys.insert(record.version, unwrap_key(self.master_keys(), record)?);
        }
        Ok(Opener { tenant, keys })
    }
}

fn registered(field: Field<'_>) -> Result<()> {
    if registry::is_registered(field.column) {
        Ok(())
    } else {
        Err(Error::Crypto(format!(
            "{} is not listed in crypto::ENCRYPTED_COLUMNS; register it so key rotation finds it",
            field.column.name()
        )))
    }
}
