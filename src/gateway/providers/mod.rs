//! Provider keys: the API key, base URL and allowed models the gateway uses upstream for each of a
//! tenant's providers, in place of the caller's AuditPulse key. Administrators manage them
//! (`providers:manage`); the proxy calls [`Providers::resolve`] on every request.
//!
//! The map: `model` (the values and their pure checks: key hint, key and model-name rules, base
//! URL shape), `service` ([`Providers`]: set, list, delete, resolve), `store` (the trait and its
//! SQLite and PostgreSQL implementations), `routes` (the HTTP surface).
//!
//! Invariant: an API key exists in clear only in a [`crate::secret::SecretString`]; at rest it is
//! `llm_providers.api_key_ciphertext`, sealed with the tenant's data key and registered in
//! `crypto::ENCRYPTED_COLUMNS`, so `keys rotate --reencrypt-data` and crypto-shredding cover it.
//! A tenant has at most one key per provider: setting one again replaces it.

pub mod model;
pub mod routes;
mod service;
pub mod store;

pub use model::{default_base_url, NewProviderKey, ProviderKey, Upstream};
pub use service::{Providers, SetKey};
pub use store::ProviderStore;
