//! Plaid's request and response bodies (API version 2020-09-14), as hand-written serde structs.
//! Only the fields AuditPulse reads are declared; Plaid adds fields freely and unknown ones are
//! ignored.
//!
//! Invariant: amounts stay JSON text ([`RawValue`]) until [`super::amount`] turns them into
//! integer minor units; access tokens and public tokens are [`SecretString`]s from the moment they
//! are decoded.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::secret::SecretString;

/// Every request body: the credentials, then the endpoint's own fields.
#[derive(Serialize)]
pub struct Authed<'a, B: Serialize> {
    pub client_id: &'a str,
    pub secret: &'a str,
    #[serde(flatten)]
    pub body: B,
}

#[derive(Serialize)]
pub struct LinkTokenCreate<'a> {
    pub client_name: &'a str,
    pub language: &'a str,
    pub country_codes: &'a [&'a str],
    pub user: LinkUser<'a>,
    pub products: &'a [&'a str],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook: Option<&'a str>,
}

#[derive(Serialize)]
pub struct LinkUser<'a> {
    pub client_user_id: &'a str,
}

/// A Link token for the browser to open Plaid Link with.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct LinkToken {
    pub link_token: String,
    pub expiration: String,
}

#[derive(Serialize)]
pub struct PublicTokenExchange<'a> {
    pub public_token: &'a str,
}

#[derive(Deserialize)]
pub struct ExchangeResponse {
    pub access_token: SecretString,
    pub item_id: String,
}

#[derive(Serialize)]
pub struct WithAccessToken<'a> {
    pub access_token: &'a str,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AccountsResponse {
    pub accounts: Vec<Account>,
    pub item: Item,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Item {
    pub item_id: String,
    #[serde(default)]
    pub institution_id: Option<String>,
    #[serde(default)]
    pub institution_name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Account {
    pub account_id: String,
    pub name: String,
    #[serde(default)]
    pub official_name: Option<String>,
    #[serde(default)]
    pub mask: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub subtype: Option<String>,
    pub balances: Balances,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Balances {
    #[serde(default)]
    pub iso_currency_code: Option<String>,
    #[serde(default)]
    pub unofficial_currency_code: Option<String>,
}

#[derive(Serialize)]
pub struct TransactionsSync<'a> {
    pub access_token: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<&'a str>,
    pub count: u32,
}

/// One page of `/transactions/sync`.
#[derive(Debug, Deserialize)]
pub struct SyncPage {
    #[serde(default)]
    pub added: Vec<Transaction>,
    #[serde(default)]
    pub modified: Vec<Transaction>,
    #[serde(default)]
    pub removed: Vec<Removed>,
    pub next_cursor: String,
    pub has_more: bool,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Removed {
    pub transaction_id: String,
    #[serde(default)]
    pub account_id: Option<String>,
}

/// A transaction as Plaid sends it; `amount` positive means money out.
#[derive(Debug, Deserialize)]
pub struct Transaction {
    pub transaction_id: String,
    pub account_id: String,
    pub amount: Box<RawValue>,
    #[serde(default)]
    pub iso_currency_code: Option<String>,
    #[serde(default)]
    pub unofficial_currency_code: Option<String>,
    pub date: NaiveDate,
    #[serde(default)]
    pub authorized_date: Option<NaiveDate>,
    #[serde(default)]
    pub datetime: Option<DateTime<Utc>>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub merchant_name: Option<String>,
    #[serde(default)]
    pub pending: bool,
    #[serde(default)]
    pub pending_transaction_id: Option<String>,
    #[serde(default)]
    pub personal_finance_category: Option<Category>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Category {
    pub primary: String,
    #[serde(default)]
    pub detailed: Option<String>,
}

#[derive(Serialize)]
pub struct VerificationKeyGet<'a> {
    pub key_id: &'a str,
}

#[derive(Deserialize)]
pub struct VerificationKeyResponse {
    pub key: Jwk,
}

/// A webhook verification key as `/webhook_verification_key/get` returns it.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct Jwk {
    pub alg: String,
    pub crv: String,
    pub kid: String,
    pub kty: String,
    pub x: String,
    pub y: String,
    #[serde(default)]
    pub created_at: i64,
    /// Unix seconds after which the key must no longer be accepted; `None` while it is current.
    #[serde(default)]
    pub expired_at: Option<i64>,
}
