//! `POST /api/v1/plaid/webhook` on both backends: a verified SYNC_UPDATES_AVAILABLE queues a sync
//! of that item; a bad signature, a stale `iat`, a body that is not the signed one, another
//! algorithm or an unknown key id gets 401, is a `webhook.rejected` security event and queues
//! nothing.

use auditpulse::jobs::JobFilter;
use auditpulse::store::Scope;
use serde_json::json;

use crate::helpers::fake_plaid::{self, post_webhook};
use crate::helpers::Backend;
use crate::on_both_backends;
use crate::plaid_harness::{start, Linked};

const BODY: &str = r#"{"webhook_type":"TRANSACTIONS","webhook_code":"SYNC_UPDATES_AVAILABLE","item_id":"item-1","initial_update_complete":true,"historical_update_complete":true,"environment":"sandbox"}"#;

async fn sync_jobs(l: &Linked) -> usize {
    let filter = JobFilter {
        kind: Some("plaid.sync".into()),
        limit: 100,
        ..JobFilter::default()
    };
    l.app
        .state
        .store
        .list_jobs(Scope::Tenant(l.tenant), &filter)
        .await
        .unwrap()
        .len()
}

async fn a_verified_webhook_queues_a_sync(backend: Backend) {
    let l = start(backend).await;
    l.link("item-1").await;
    l.synced(1).await;
    let now = chrono::Utc::now().timestamp();
    let url = l.app.url("/api/v1/plaid/webhook");
    let response = post_webhook(&url, BODY.into(), &l.fake.sign(BODY.as_bytes(), now)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["received"],
        true
    );
    l.synced(2).await;
    assert_eq!(sync_jobs(&l).await, 2);
    // Other codes are acknowledged and change nothing.
    let other = BODY.replace("SYNC_UPDATES_AVAILABLE", "RECURRING_TRANSACTIONS_UPDATE");
    let response = post_webhook(&url, other.clone(), &l.fake.sign(other.as_bytes(), now)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(sync_jobs(&l).await, 2);
}

async fn unverified_webhooks_are_refused_and_recorded(backend: Backend) {
    let l = start(backend).await;
    l.link("item-1").await;
    l.synced(1).await;
    let url = l.app.url("/api/v1/plaid/webhook");
    let now = chrono::Utc::now().timestamp();
    let header = |alg: &str, kid: &str| json!({"alg": alg, "kid": kid, "typ": "JWT"});
    let tampered = BODY.replace("item-1", "item-2");
    let cases: Vec<(&str, String, String)> = vec![
        (
            "forged signature",
            BODY.into(),
            l.fake.sign_custom(
                &header("ES256", fake_plaid::KID),
                BODY.as_bytes(),
                now,
                true,
            ),
        ),
        (
            "stale iat",
            BODY.into(),
            l.fake.sign(BODY.as_bytes(), now - 301),
        ),
        (
            "body hash mismatch",
            tampered,
            l.fake.sign(BODY.as_bytes(), now),
        ),
        (
            "wrong alg",
            BODY.into(),
            l.fake.sign_custom(
                &header("HS256", fake_plaid::KID),
                BODY.as_bytes(),
                now,
                false,
            ),
        ),
        (
            "alg none",
            BODY.into(),
            l.fake.sign_custom(
                &header("none", fake_plaid::KID),
                BODY.as_bytes(),
                now,
                false,
            ),
        ),
        (
            "unknown kid",
            BODY.into(),
            l.fake
                .sign_custom(&header("ES256", "other-key"), BODY.as_bytes(), now, false),
        ),
        ("garbage", BODY.into(), "not-a-jwt".into()),
    ];
    let count = cases.len();
    for (case, body, verification) in cases {
        let response = post_webhook(&url, body, &verification).await;
        assert_eq!(response.status(), 401, "{case}");
    }
    let missing = l
        .app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body(BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 401, "no header");
    let rejected = l
        .app
        .events
        .actions()
        .iter()
        .filter(|a| **a == "webhook.rejected")
        .count();
    assert_eq!(rejected, count + 1, "each refusal is a security event");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(sync_jobs(&l).await, 1, "no refused webhook queued a sync");
}

on_both_backends!(
    a_verified_webhook_queues_a_sync,
    unverified_webhooks_are_refused_and_recorded
);
