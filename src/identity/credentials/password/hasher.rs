//! Argon2id password hashing (RustCrypto `argon2`), at least m=19 MiB, t=2, p=1, parameters kept
//! in the PHC string.
//!
//! Invariant: hashing never runs on the async workers: it runs on the blocking pool behind a
//! semaphore, so a flood of logins queues instead of starving other requests. An unknown account is
//! checked against a dummy hash, so timing does not reveal which accounts exist.

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::error::{Error, Result};
use crate::secret::SecretString;

/// The outcome of checking a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// Correct. `rehash` holds a new hash when the stored one used weaker parameters than now.
    Valid { rehash: Option<String> },
    /// Wrong password, or no such account.
    Invalid,
}

#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    dummy: Arc<String>,
}

impl PasswordHasher {
    /// The minimum this product accepts: m=19 MiB, t=2, p=1.
    pub fn default_params() -> Params {
        // Constant, valid parameters: `Params::new` only fails on out-of-range values.
        Params::new(19 * 1024, 2, 1, None).unwrap_or_default()
    }

    /// `max_concurrent` hashes run at once; more wait their turn.
    pub fn new(params: Params, max_concurrent: usize) -> Result<Self> {
        let dummy = hash_blocking(&params, "dummy password for accounts that do not exist")?;
        Ok(Self {
            params,
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            dummy: Arc::new(dummy),
        })
    }

    /// A new PHC string for `password`, with a fresh random salt.
    pub async fn hash(&self, password: &SecretString) -> Result<String> {
        let (params, password) = (self.params.clone(), password.clone());
        self.run(move || hash_blocking(&params, password.expose()))
            .await
    }

    /// Checks `password` against `stored`; `None` (no such account) spends the same effort on a
    /// dummy hash and answers `Invalid`.
    pub async fn verify(&self, password: &SecretString, stored: Option<&str>) -> Result<Verified> {
        let known = stored.is_some();
        let stored = stored.map_or_else(|| self.dummy.as_str().to_owned(), str::to_owned);
        let (params, password) = (self.params.clone(), password.clone());
        self.run(move || {
            let parsed = PasswordHash::new(&stored)
                .map_err(|e| anyhow::anyhow!("stored password hash is unreadable: {e}"))?;
            let ok = argon2_for(&parsed_params(&parsed).unwrap_or_else(|| params.clone()))
                .verify_password(password.expose().as_bytes(), &parsed)
                .is_ok();
            if !(ok && known) {
                return Ok(Verified::Invalid);
            }
            let rehash = weaker_than(&parsed, &params)
                .then(|| hash_blocking(&params, password.expose()))
                .transpose()?;
            Ok(Verified::Valid { rehash })
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| Error::Unavailable("password hashing stopped".into()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))?
    }
}

fn argon2_for(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

fn hash_blocking(params: &Params, password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2_for(params)
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("password hashing failed: {e}").into())
}

fn parsed_params(hash: &PasswordHash<'_>) -> Option<Params> {
    Params::try_from(hash).ok()
}

/// Whether `stored` was made with a weaker algorithm or parameters than `wanted`.
fn weaker_than(stored: &PasswordHash<'_>, wanted: &Params) -> bool {
    let argon2id = stored.algorithm.as_str() == "argon2id";
    match parsed_params(stored) {
        Some(p) if argon2id => {
            p.m_cost() < wanted.m_cost()
                || p.t_cost() < wanted.t_cost()
                || p.p_cost() < wanted.p_cost()
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::new(s.to_owned())
    }

    fn hasher() -> PasswordHasher {
        PasswordHasher::new(PasswordHasher::default_params(), 2).unwrap()
    }

    #[tokio::test]
    async fn hashes_are_argon2id_with_the_required_parameters_and_verify() {
        let h = hasher();
        let phc = h
            .hash(&secret("correct horse battery staple"))
            .await
            .unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert_ne!(
            phc,
            h.hash(&secret("correct horse battery staple"))
                .await
                .unwrap(),
            "fresh salt each time"
        );
        let ok = h
            .verify(&secret("correct horse battery staple"), Some(&phc))
            .await
            .unwrap();
        assert_eq!(ok, Verified::Valid { rehash: None });
        assert_eq!(
            h.verify(&secret("Correct horse battery staple"), Some(&phc))
                .await
                .unwrap(),
            Verified::Invalid
        );
    }

    #[tokio::test]
    async fn unknown_accounts_are_invalid_even_with_the_dummy_password() {
        let h = hasher();
        let answer = h
            .verify(
                &secret("dummy password for accounts that do not exist"),
                None,
            )
            .await
            .unwrap();
        assert_eq!(answer, Verified::Invalid);
    }

    #[tokio::test]
    async fn hashes_with_weaker_parameters_are_upgraded_on_login() {
        let weak = PasswordHasher::new(Params::new(8 * 1024, 1, 1, None).unwrap(), 1).unwrap();
        let old = weak
            .hash(&secret("correct horse battery staple"))
            .await
            .unwrap();
        match hasher()
            .verify(&secret("correct horse battery staple"), Some(&old))
            .await
            .unwrap()
        {
            Verified::Valid { rehash: Some(new) } => {
                assert!(new.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{new}")
            }
            other => panic!("expected an upgrade, got {other:?}"),
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn hashing_does_not_block_the_async_runtime() {
        let h = hasher();
        let ticks = Arc::new(AtomicU32::new(0));
        let ticker = {
            let ticks = ticks.clone();
            tokio::spawn(async move {
                loop {
                    ticks.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            })
        };
        h.hash(&secret("correct horse battery staple"))
            .await
            .unwrap();
        // On this single-threaded runtime the ticker can only have run if the hash did not.
        assert!(ticks.load(Ordering::Relaxed) > 0);
        ticker.abort();
    }
}
