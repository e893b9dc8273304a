//! Second factors: TOTP codes (RFC 6238 via `auth::totp`, secret sealed by the keyring) and
//! single-use recovery codes (stored as SHA-256).
//!
//! Invariant: a TOTP code is accepted at most once, and no other code of an already used 30-second
//! step is (the store records the step atomically); a recovery code works once.

use rand::Rng;
use sha2::{Digest, Sha256};

use crate::crypto::USER_TOTP_SECRET;
use crate::domain::time;
use crate::domain::TenantId;
use crate::error::Result;
use crate::identity::credentials::totp_codes::TotpSecret;
use crate::identity::IdentityState;
use crate::identity::{User, SYSTEM_TENANT};
use crate::secret::SecretString;
use crate::store::Scope;

pub const RECOVERY_CODES: usize = 10;
/// Letters and digits that cannot be mistaken for each other: 32 symbols, 5 bits each.
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz023456789";
/// Three groups of four: 60 random bits per code.
const GROUPS: usize = 3;
const GROUP_LEN: usize = 4;

/// The storage scope of calls about `user`'s own rows.
pub fn user_scope(user: &User) -> Scope {
    user.tenant_id.map_or(Scope::System, Scope::Tenant)
}

/// The tenant whose data key seals `user`'s TOTP secret.
pub fn key_tenant(user: &User) -> Result<TenantId> {
    match user.tenant_id {
        Some(tenant) => Ok(tenant),
        None => SYSTEM_TENANT
            .parse()
            .map_err(|e| anyhow::anyhow!("SYSTEM_TENANT is not a uuid: {e}").into()),
    }
}

/// Whether `code` looks like a TOTP code (six digits) rather than a recovery code.
fn is_totp_code(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

/// The form a recovery code is compared in: lowercase, without separators.
fn normalize(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

pub fn recovery_hash(code: &str) -> [u8; 32] {
    Sha256::digest(normalize(code).as_bytes()).into()
}

/// Fresh recovery codes (`abcd-efgh-jkmn`), to show once, and their hashes, to store.
pub fn recovery_codes() -> (Vec<SecretString>, Vec<[u8; 32]>) {
    let mut rng = rand::rngs::OsRng;
    let codes: Vec<SecretString> = (0..RECOVERY_CODES)
        .map(|_| {
            let groups: Vec<String> = (0..GROUPS)
                .map(|_| {
                    (0..GROUP_LEN)
                        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
                        .collect()
                })
                .collect();
            SecretString::new(groups.join("-"))
        })
        .collect();
    let hashes = codes.iter().map(|c| recovery_hash(c.expose())).collect();
    (codes, hashes)
}

/// The user's TOTP secret (pending or enabled) and the last step used, if they have one.
pub async fn secret(
    state: &IdentityState,
    user: &User,
) -> Result<Option<(TotpSecret, Option<u64>)>> {
    let Some(record) = state.store.totp_secret(user_scope(user), user.id).await? else {
        return Ok(None);
    };
    let row = user.id.to_string();
    let bytes = state
        .keyring
        .decrypt(
            record.key_tenant,
            USER_TOTP_SECRET.row(&row),
            &record.ciphertext,
        )
        .await?;
    Ok(Some((
        TotpSecret::from_bytes(bytes.expose().clone()),
        record.last_step,
    )))
}

/// Checks a TOTP code against the user's secret and, when it is right, uses up its step.
pub async fn check_totp(state: &IdentityState, user: &User, code: &str) -> Result<bool> {
    let Some((secret, last_step)) = secret(state, user).await? else {
        return Ok(false);
    };
    let now = u64::try_from(time::now().timestamp()).unwrap_or_default();
    match secret.verify(code.trim(), now, last_step) {
        Some(step) => {
            state
                .store
                .use_totp_step(user_scope(user), user.id, step)
                .await
        }
        None => Ok(false),
    }
}

/// Checks a second factor of a user with TOTP on: a TOTP code, or one of their recovery codes.
pub async fn check(state: &IdentityState, user: &User, code: &str) -> Result<bool> {
    let code = code.trim();
    if is_totp_code(code) {
        return check_totp(state, user, code).await;
    }
    if normalize(code).len() != GROUPS * GROUP_LEN {
        return Ok(false);
    }
    state
        .store
        .use_recovery_code(user_scope(user), user.id, &recovery_hash(code), time::now())
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_distinct_readable_and_hashed_without_separators() {
        let (codes, hashes) = recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let mut texts: Vec<&String> = codes.iter().map(|c| c.expose()).collect();
        texts.sort();
        texts.dedup();
        assert_eq!(texts.len(), RECOVERY_CODES);
        for (code, hash) in codes.iter().zip(&hashes) {
            let code = code.expose();
            assert_eq!(code.len(), 14, "{code}");
            assert_eq!(&recovery_hash(&code.to_uppercase().replace('-', " ")), hash);
        }
    }

    #[test]
    fn six_digits_are_a_totp_code_anything_else_a_recovery_code() {
        assert!(is_totp_code("012345"));
        assert!(!is_totp_code("01234"));
        assert!(!is_totp_code("abcd-efgh-jkmn"));
    }
}
