//! Plaid: the API client (link, token exchange, accounts, transactions sync, item removal,
//! webhook keys), its typed errors, the conversion of Plaid transactions into minor units, the
//! verification of Plaid's signed webhooks, items and their storage, the sync jobs and routes.
//!
//! Invariant: the Plaid secret and access tokens live in secret types and never reach a log, an
//! error or `Debug`; amounts never pass through a float; a webhook is acted on only after its
//! ES256 signature, age and body hash verified.

pub mod amount;
mod client;
pub mod error;
pub mod items;
pub mod jwt;
pub mod routes;
mod service;
mod sync;
pub mod webhook;
pub mod wire;

pub use amount::PlaidTransaction;
pub use client::{AccessToken, Exchanged, PlaidClient, PLAID_VERSION};
pub use error::{Action, PlaidError};
pub use items::{ItemStatus, PlaidItem, PlaidItemId, PlaidStore};
pub use service::{Plaid, SYNC_ALL_JOB, SYNC_JOB};
pub use sync::{Outcome, SyncAllHandler, SyncHandler};
pub use webhook::{KeySource, Webhook, WebhookVerifier};
