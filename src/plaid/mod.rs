//! Plaid: the API client (link, token exchange, accounts, transactions sync, item removal,
//! webhook keys), its typed errors, the conversion of Plaid transactions into minor units, and
//! the verification of Plaid's signed webhooks.
//!
//! Invariant: the Plaid secret and access tokens live in secret types and never reach a log, an
//! error or `Debug`; amounts never pass through a float; a webhook is acted on only after its
//! ES256 signature, age and body hash verified.

pub mod amount;
mod client;
pub mod error;
pub mod items;
pub mod jwt;
pub mod webhook;
pub mod wire;

pub use amount::PlaidTransaction;
pub use client::{AccessToken, Exchanged, PlaidClient, PLAID_VERSION};
pub use error::{Action, PlaidError};
pub use items::{ItemStatus, PlaidItem, PlaidItemId, PlaidStore};
pub use webhook::{KeySource, Webhook, WebhookVerifier};
