//! The Plaid client against the fake Plaid: the real wire format, pagination, typed errors, the
//! webhook verifier with keys fetched from `/webhook_verification_key/get`, and secrets that
//! never print.

use std::sync::Arc;

use auditpulse::config::{vars, Config, SecretMode, Sources};
use auditpulse::plaid::jwt::Refusal;
use auditpulse::plaid::{Action, PlaidClient, WebhookVerifier};
use serde_json::json;

use crate::helpers::fake_plaid::{self, account, txn, Change, Failure, FakePlaid};
use crate::helpers::MASTER_KEY;

fn client(fake: &FakePlaid) -> PlaidClient {
    let dir = tempfile::tempdir().unwrap();
    let mut pairs: Vec<(String, String)> = fake
        .config()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    pairs.push((vars::DATA_DIR.into(), dir.path().display().to_string()));
    pairs.push((vars::MASTER_KEYS.into(), MASTER_KEY.into()));
    pairs.push((
        vars::PLAID_WEBHOOK_URL.into(),
        "https://audit.example.com/api/v1/plaid/webhook".into(),
    ));
    let config = Config::load(&Sources::from_pairs(pairs), SecretMode::Inspect)
        .unwrap()
        .config;
    PlaidClient::new(config.plaid.as_ref().unwrap(), config.outbound).unwrap()
}

#[tokio::test]
async fn link_exchange_and_accounts_speak_plaids_wire_format() {
    let fake = FakePlaid::start().await;
    let plaid = client(&fake);
    let link = plaid.create_link_token("tenant-1").await.unwrap();
    assert!(link.link_token.starts_with("link-sandbox-"));
    let sent = &fake.requests("/link/token/create")[0];
    assert_eq!(sent["client_id"], fake_plaid::CLIENT_ID);
    assert_eq!(sent["products"], json!(["transactions"]));
    assert_eq!(
        sent["webhook"],
        "https://audit.example.com/api/v1/plaid/webhook"
    );
    assert_eq!(sent["user"]["client_user_id"], "tenant-1");

    let public = fake.add_item("item-1", vec![account("acc-1", "Checking", "0000")]);
    let exchanged = plaid.exchange_public_token(&public).await.unwrap();
    assert_eq!(exchanged.item_id, "item-1");
    assert!(
        !format!("{exchanged:?}").contains("access-sandbox"),
        "token printed"
    );
    let accounts = plaid.accounts(&exchanged.access_token).await.unwrap();
    assert_eq!(accounts.accounts[0].mask.as_deref(), Some("0000"));
    assert_eq!(
        accounts.item.institution_name.as_deref(),
        Some("First Platypus Bank")
    );

    // A used public token is refused by Plaid, and the error says what Plaid said.
    let err = plaid.exchange_public_token(&public).await.unwrap_err();
    assert_eq!(err.code(), Some("INVALID_PUBLIC_TOKEN"));
    assert_eq!(err.action(), Action::Permanent);
    assert!(!format!("{plaid:?}").contains(fake_plaid::SECRET));
    assert!(!err.to_string().contains(fake_plaid::SECRET));
}

#[tokio::test]
async fn sync_pages_carry_added_modified_removed_and_exact_amounts() {
    let fake = FakePlaid::start().await;
    let plaid = client(&fake);
    let public = fake.add_item("item-1", vec![account("acc-1", "Checking", "0000")]);
    let token = plaid
        .exchange_public_token(&public)
        .await
        .unwrap()
        .access_token;
    fake.push(
        "item-1",
        vec![
            Change::Added(txn("t1", "acc-1", "12.34", "2026-11-01", "Coffee")),
            Change::Added(txn("t2", "acc-1", "-0.10", "2026-11-02", "Refund")),
            Change::Modified(txn("t1", "acc-1", "12.35", "2026-11-01", "Coffee")),
            Change::Removed("t2".into()),
        ],
    );
    let first = plaid.sync_page(&token, None, 3).await.unwrap();
    assert!(first.has_more);
    assert_eq!((first.added.len(), first.modified.len()), (2, 1));
    let amounts: Vec<i64> = first
        .added
        .into_iter()
        .map(|t| auditpulse::plaid::amount::convert(t).unwrap().amount_minor)
        .collect();
    assert_eq!(amounts, [1234, -10]);
    let second = plaid
        .sync_page(&token, Some(&first.next_cursor), 3)
        .await
        .unwrap();
    assert!(!second.has_more);
    assert_eq!(second.removed[0].transaction_id, "t2");
    assert_eq!(fake.requests("/transactions/sync")[1]["count"], 3);
}

#[tokio::test]
async fn item_and_transient_errors_are_told_apart() {
    let fake = FakePlaid::start().await;
    let plaid = client(&fake);
    let public = fake.add_item("item-1", vec![]);
    let token = plaid
        .exchange_public_token(&public)
        .await
        .unwrap()
        .access_token;
    for (failure, code, action) in [
        (
            Failure::LoginRequired,
            "ITEM_LOGIN_REQUIRED",
            Action::NeedsPerson,
        ),
        (
            Failure::RateLimited,
            "TRANSACTIONS_SYNC_LIMIT",
            Action::Retry,
        ),
        (Failure::ServerError, "INTERNAL_SERVER_ERROR", Action::Retry),
        (
            Failure::Mutation,
            "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION",
            Action::RestartPagination,
        ),
    ] {
        fake.fail("/transactions/sync", 0, failure);
        let err = plaid.sync_page(&token, None, 10).await.unwrap_err();
        assert_eq!((err.code(), err.action()), (Some(code), action), "{err}");
    }
    plaid.remove_item(&token).await.unwrap();
    assert!(fake.item_removed("item-1"));
    let err = plaid.sync_page(&token, None, 10).await.unwrap_err();
    assert_eq!(err.code(), Some("INVALID_ACCESS_TOKEN"));
}

#[tokio::test]
async fn webhooks_verify_with_the_key_plaid_serves() {
    let fake = FakePlaid::start().await;
    let verifier = WebhookVerifier::new(Arc::new(client(&fake)));
    let body = br#"{"webhook_type":"TRANSACTIONS","webhook_code":"SYNC_UPDATES_AVAILABLE","item_id":"item-1"}"#;
    let now = chrono::Utc::now().timestamp();
    let ok = verifier
        .verify(Some(&fake.sign(body, now)), body, now)
        .await
        .unwrap();
    assert_eq!(ok.item_id.as_deref(), Some("item-1"));
    let unknown = fake.sign_custom(&json!({"alg": "ES256", "kid": "nope"}), body, now, false);
    assert_eq!(
        verifier
            .verify(Some(&unknown), body, now)
            .await
            .unwrap_err(),
        Refusal::UnknownKey
    );
    let forged = fake.sign_custom(
        &json!({"alg": "ES256", "kid": fake_plaid::KID}),
        body,
        now,
        true,
    );
    assert_eq!(
        verifier.verify(Some(&forged), body, now).await.unwrap_err(),
        Refusal::BadSignature
    );
    assert_eq!(
        fake.requests("/webhook_verification_key/get").len(),
        2,
        "known key cached"
    );
}
