//! API key tokens: `ap_<public id>_<secret>`. The public id names a key in lists, logs and caches;
//! only a SHA-256 of the secret is stored (the secret has 190 random bits, so a slow hash adds
//! nothing), and presented secrets are compared with it in constant time.
//!
//! Invariant: the secret is shown once, at creation; `Debug` prints the public id only.

use std::fmt;

use rand::distributions::{Alphanumeric, DistString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::secret::SecretString;

const PREFIX: &str = "ap_";
pub const PUBLIC_ID_LEN: usize = 16;
pub const SECRET_LEN: usize = 32;

pub struct ApiKeyToken {
    pub public_id: String,
    secret: SecretString,
}

impl ApiKeyToken {
    /// A new key: a random public id and a random secret (base62).
    pub fn generate() -> Self {
        let mut rng = rand::rngs::OsRng;
        Self {
            public_id: Alphanumeric.sample_string(&mut rng, PUBLIC_ID_LEN),
            secret: SecretString::new(Alphanumeric.sample_string(&mut rng, SECRET_LEN)),
        }
    }

    /// Reads a presented key; `None` for anything not exactly of the AuditPulse form.
    pub fn parse(presented: &str) -> Option<Self> {
        let rest = presented.strip_prefix(PREFIX)?;
        let (public_id, secret) = rest.split_once('_')?;
        let base62 =
            |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_alphanumeric());
        (base62(public_id, PUBLIC_ID_LEN) && base62(secret, SECRET_LEN)).then(|| Self {
            public_id: public_id.to_owned(),
            secret: SecretString::new(secret.to_owned()),
        })
    }

    /// The full key, to show the user once.
    pub fn presented(&self) -> SecretString {
        SecretString::new(format!(
            "{PREFIX}{}_{}",
            self.public_id,
            self.secret.expose()
        ))
    }

    /// What is stored: SHA-256 of the secret.
    pub fn secret_hash(&self) -> [u8; 32] {
        Sha256::digest(self.secret.expose().as_bytes()).into()
    }

    /// Whether this key's secret is the one `stored` was made from, in constant time.
    pub fn matches(&self, stored: &[u8]) -> bool {
        self.secret_hash().as_slice().ct_eq(stored).into()
    }
}

impl fmt::Debug for ApiKeyToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKeyToken({PREFIX}{}_[REDACTED])", self.public_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_parses_back_and_matches_only_its_own_hash() {
        let key = ApiKeyToken::generate();
        let presented = key.presented();
        assert_eq!(presented.expose().len(), 3 + PUBLIC_ID_LEN + 1 + SECRET_LEN);
        let parsed = ApiKeyToken::parse(presented.expose()).unwrap();
        assert_eq!(parsed.public_id, key.public_id);
        assert!(parsed.matches(&key.secret_hash()));
        assert!(!ApiKeyToken::generate().matches(&key.secret_hash()));
        assert!(
            !parsed.matches(&key.secret_hash()[..31]),
            "a truncated hash never matches"
        );
    }

    #[test]
    fn anything_not_exactly_an_auditpulse_key_is_refused() {
        let good = ApiKeyToken::generate().presented().expose().clone();
        let cases = [
            good.replacen("ap_", "ak_", 1),
            format!("{good}x"),
            good[..good.len() - 1].to_owned(),
            good.replacen('_', "-", 2),
            format!("ap_{}_{}", "a".repeat(16), "é".repeat(16)),
            String::new(),
        ];
        for bad in cases {
            assert!(ApiKeyToken::parse(&bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn keys_never_print_or_log_their_secret() {
        let key = ApiKeyToken::generate();
        let presented = key.presented().expose().clone();
        let secret = presented.rsplit('_').next().unwrap().to_owned();
        assert!(!format!("{key:?}").contains(&secret));
        assert!(format!("{key:?}").contains(&key.public_id));
        let logged = crate::mask::scrub(&format!("auth with {presented} failed")).into_owned();
        assert!(
            !logged.contains(&secret) && logged.contains(&key.public_id),
            "{logged}"
        );
        assert_eq!(
            crate::mask::api_key(&presented),
            format!("ap_{}_••••", key.public_id)
        );
    }
}
