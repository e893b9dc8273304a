//! Tenant secrets: named credentials of one tenant (Plaid access tokens, provider API keys,
//! webhook URLs), stored only as ciphertext bound to tenant and name.
//!
//! Invariant: values reach the store encrypted and come back as [`Secret`]s; a handle reaches
//! only the one tenant it was made for.

use super::keyring::Keyring;
use super::registry::TENANT_SECRET_VALUE;
use crate::domain::TenantId;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// The secrets of one tenant.
pub struct TenantSecrets<'a> {
    keyring: &'a Keyring,
    tenant: TenantId,
}

impl Keyring {
    pub fn secrets(&self, tenant: TenantId) -> TenantSecrets<'_> {
        TenantSecrets {
            keyring: self,
            tenant,
        }
    }
}

impl TenantSecrets<'_> {
    /// Stores `value` under `name`, replacing any previous value.
    pub async fn put(&self, name: &str, value: &[u8]) -> Result<()> {
        check_name(name)?;
        // A concurrent `keys rotate --reencrypt-data` may replace the active key between
        // encrypting and writing; the store then refuses the write and we seal again.
        for _ in 0..WRITE_ATTEMPTS {
            let ciphertext = self
                .keyring
                .encrypt(self.tenant, TENANT_SECRET_VALUE.row(name), value)
                .await?;
            if self
                .keyring
                .store
                .put_secret(self.tenant, name, &ciphertext)
                .await?
            {
                return Ok(());
            }
        }
        Err(Error::Conflict(
            "the tenant's data key kept changing; retry".to_owned(),
        ))
    }

    pub async fn get(&self, name: &str) -> Result<Option<Secret<Vec<u8>>>> {
        let field = TENANT_SECRET_VALUE.row(name);
        let store = &self.keyring.store;
        let Some(ciphertext) = store.get_secret(self.tenant, name).await? else {
            return Ok(None);
        };
        match self.keyring.decrypt(self.tenant, field, &ciphertext).await {
            Ok(value) => Ok(Some(value)),
            // A rotation may have re-encrypted the value and retired its old key since we read
            // it: if the stored value changed, decrypt the new one; otherwise the error stands.
            Err(error @ Error::Crypto(_)) => match store.get_secret(self.tenant, name).await? {
                Some(again) if again != ciphertext => self
                    .keyring
                    .decrypt(self.tenant, field, &again)
                    .await
                    .map(Some),
                Some(_) => Err(error),
                None => Ok(None),
            },
            Err(error) => Err(error),
        }
    }

    /// Names of this tenant's secrets, sorted.
    pub async fn names(&self) -> Result<Vec<String>> {
        self.keyring.store.list_secret_names(self.tenant).await
    }

    /// Deletes one secret; `false` when there was none.
    pub async fn delete(&self, name: &str) -> Result<bool> {
        self.keyring.store.delete_secret(self.tenant, name).await
    }
}

const WRITE_ATTEMPTS: u32 = 3;

fn check_name(name: &str) -> Result<()> {
    let valid = (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/".contains(&b));
    if !valid {
        return Err(Error::BadRequest(
            "a secret name is 1 to 128 letters, digits or - _ . : /".to_owned(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_are_short_printable_identifiers() {
        assert!(check_name("plaid:item/abc-1_2.x").is_ok());
        for bad in ["", "has space", "new\nline", &"x".repeat(129)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
