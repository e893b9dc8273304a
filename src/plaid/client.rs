//! The Plaid API client: JSON POSTs with `client_id` and `secret` in the body and the
//! `Plaid-Version` header, through the outbound client (policy, timeouts, size limit).
//!
//! Invariant: the secret and access tokens are exposed only while serializing a request body and
//! never appear in an error, a log line or `Debug`; a non-2xx answer becomes a [`PlaidError`].

use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;

use super::error::{from_response, PlaidError};
use super::wire::{self, Authed, Jwk, LinkToken, SyncPage};
use crate::config::PlaidConfig;
use crate::outbound::{self, Limits};
use crate::secret::SecretString;

pub const PLAID_VERSION: &str = "2020-09-14";

/// A Plaid access token: it opens a bank connection, so it is a secret everywhere.
pub type AccessToken = SecretString;

/// An exchanged public token.
#[derive(Debug)]
pub struct Exchanged {
    pub access_token: AccessToken,
    pub item_id: String,
}

#[derive(Clone)]
pub struct PlaidClient {
    http: outbound::Client,
    base: Url,
    client_id: String,
    secret: SecretString,
    webhook: Option<Url>,
}

impl std::fmt::Debug for PlaidClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlaidClient")
            .field("base", &self.base.as_str())
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl PlaidClient {
    pub fn new(config: &PlaidConfig, policy: outbound::OutboundPolicy) -> crate::Result<Self> {
        Ok(Self {
            http: outbound::Client::new(policy, Limits::default())?,
            base: config.base_url.clone(),
            client_id: config.client_id.clone(),
            secret: config.secret.clone(),
            webhook: config.webhook_url.clone(),
        })
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: B,
    ) -> Result<T, PlaidError> {
        let url = self
            .base
            .join(path)
            .map_err(|e| PlaidError::Decode(format!("bad path {path}: {e}")))?;
        let body = Authed {
            client_id: &self.client_id,
            secret: self.secret.expose(),
            body,
        };
        let response = self
            .http
            .post_json(&url, &[("Plaid-Version", PLAID_VERSION)], &body)
            .await?;
        if !(200..300).contains(&response.status) {
            return Err(from_response(response.status, &response.body));
        }
        serde_json::from_slice(&response.body)
            .map_err(|e| PlaidError::Decode(format!("{path}: {e}")))
    }

    /// `/link/token/create` for the transactions product, with our webhook URL.
    pub async fn create_link_token(&self, client_user_id: &str) -> Result<LinkToken, PlaidError> {
        let body = wire::LinkTokenCreate {
            client_name: "AuditPulse",
            language: "en",
            country_codes: &["US"],
            user: wire::LinkUser { client_user_id },
            products: &["transactions"],
            webhook: self.webhook.as_ref().map(Url::as_str),
        };
        self.call("/link/token/create", body).await
    }

    /// `/item/public_token/exchange`: the public token from Link for an access token.
    pub async fn exchange_public_token(&self, public_token: &str) -> Result<Exchanged, PlaidError> {
        let response: wire::ExchangeResponse = self
            .call(
                "/item/public_token/exchange",
                wire::PublicTokenExchange { public_token },
            )
            .await?;
        Ok(Exchanged {
            access_token: response.access_token,
            item_id: response.item_id,
        })
    }

    pub async fn accounts(
        &self,
        token: &AccessToken,
    ) -> Result<wire::AccountsResponse, PlaidError> {
        let body = wire::WithAccessToken {
            access_token: token.expose(),
        };
        self.call("/accounts/get", body).await
    }

    /// One page of `/transactions/sync` after `cursor` (`None`: from the beginning).
    pub async fn sync_page(
        &self,
        token: &AccessToken,
        cursor: Option<&str>,
        count: u32,
    ) -> Result<SyncPage, PlaidError> {
        let body = wire::TransactionsSync {
            access_token: token.expose(),
            cursor: cursor.filter(|c| !c.is_empty()),
            count: count.clamp(1, 500),
        };
        self.call("/transactions/sync", body).await
    }

    /// `/item/remove`: Plaid forgets the item and invalidates its access token.
    pub async fn remove_item(&self, token: &AccessToken) -> Result<(), PlaidError> {
        let body = wire::WithAccessToken {
            access_token: token.expose(),
        };
        let _: serde_json::Value = self.call("/item/remove", body).await?;
        Ok(())
    }

    /// `/webhook_verification_key/get` for the key a webhook's JWT names.
    pub async fn verification_key(&self, key_id: &str) -> Result<Jwk, PlaidError> {
        let response: wire::VerificationKeyResponse = self
            .call(
                "/webhook_verification_key/get",
                wire::VerificationKeyGet { key_id },
            )
            .await?;
        Ok(response.key)
    }
}
