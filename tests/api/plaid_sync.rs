//! Plaid syncs through the job runner against the fake Plaid, on both backends: pages read to
//! the end, a mutation during pagination, pending charges that post as one event, modifications
//! and removals, a re-sync that adds nothing, refused data, and item errors (login required raises
//! an alert and waits for the owner; a rate limit and a 5xx are retried with backoff).

use auditpulse::jobs::{JobFilter, JobState};
use auditpulse::store::Scope;
use serde_json::{json, Value};

use crate::accounts::json_of;
use crate::helpers::fake_plaid::{txn, Change, Failure};
use crate::helpers::Backend;
use crate::on_both_backends;
use crate::plaid_harness::{posted, start};

async fn pages_are_read_to_the_end_and_a_resync_adds_nothing(backend: Backend) {
    let l = start(backend).await;
    l.fake.paginate(2);
    l.fake.push(
        "item-1",
        (1..=5)
            .map(|i| posted(&format!("t{i}"), &format!("{i}.05")))
            .collect(),
    );
    l.link("item-1").await;
    l.synced(1).await;
    assert_eq!(l.transactions().await.len(), 5);
    let calls = l.fake.requests("/transactions/sync");
    assert_eq!(calls.len(), 3, "pages of 2, 2 and 1");
    l.webhook("item-1").await;
    l.synced(2).await;
    assert_eq!(l.transactions().await.len(), 5, "nothing added twice");
    let last = l.fake.requests("/transactions/sync").pop().unwrap();
    assert_eq!(
        last["cursor"], "cur-5",
        "the saved cursor is where the last sync ended"
    );
}

async fn a_mutation_during_pagination_restarts_from_the_first_cursor(backend: Backend) {
    let l = start(backend).await;
    l.fake.paginate(2);
    l.fake.push(
        "item-1",
        (1..=4).map(|i| posted(&format!("t{i}"), "1.00")).collect(),
    );
    l.fake.fail("/transactions/sync", 1, Failure::Mutation);
    l.fake.mutate_with(vec![posted("t5", "5.00")]);
    l.link("item-1").await;
    l.synced(1).await;
    let refs: Vec<String> = l.transactions().await.into_iter().map(|t| t.0).collect();
    assert_eq!(refs, ["t1", "t2", "t3", "t4", "t5"]);
    let cursors: Vec<Value> = l
        .fake
        .requests("/transactions/sync")
        .iter()
        .map(|r| r["cursor"].clone())
        .collect();
    assert_eq!(
        cursors[..3],
        [Value::Null, json!("cur-2"), Value::Null],
        "restarted from the start: {cursors:?}"
    );
}

async fn a_pending_charge_that_posts_is_one_event_and_changes_apply(backend: Backend) {
    let l = start(backend).await;
    let mut pending = txn("p1", "acc-1", "42.00", "2026-11-19", "Figma");
    pending["pending"] = json!(true);
    l.fake.push(
        "item-1",
        vec![
            Change::Added(pending),
            posted("t2", "10.00"),
            posted("t3", "3.00"),
        ],
    );
    l.link("item-1").await;
    l.synced(1).await;
    let before = json_of(
        l.app
            .get_as(&l.admin, "/api/v1/transactions?limit=200")
            .await,
        200,
    )
    .await;
    let pending_id = before["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["source_ref"] == "p1")
        .unwrap()["id"]
        .clone();
    let mut settled = txn("t1", "acc-1", "42.50", "2026-11-20", "Figma");
    settled["pending_transaction_id"] = json!("p1");
    let modified = txn("t2", "acc-1", "11.00", "2026-11-20", "Figma");
    l.fake.push(
        "item-1",
        vec![
            Change::Added(settled),
            Change::Removed("p1".into()),
            Change::Modified(modified),
            Change::Removed("t3".into()),
        ],
    );
    l.webhook("item-1").await;
    l.synced(2).await;
    assert_eq!(
        l.transactions().await,
        [
            ("t1".into(), 4250, "posted".into()),
            ("t2".into(), 1100, "posted".into())
        ]
    );
    let after = json_of(
        l.app
            .get_as(&l.admin, "/api/v1/transactions?limit=200")
            .await,
        200,
    )
    .await;
    let posted_id = after["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["source_ref"] == "t1")
        .unwrap()["id"]
        .clone();
    assert_eq!(
        posted_id, pending_id,
        "the posted charge took over the pending event"
    );
}

async fn login_required_marks_the_item_and_raises_an_alert(backend: Backend) {
    let l = start(backend).await;
    l.fake.push("item-1", vec![posted("t1", "1.00")]);
    l.fake.fail("/transactions/sync", 0, Failure::LoginRequired);
    l.link("item-1").await;
    l.synced(1).await;
    let item = &l.items().await[0];
    assert_eq!(
        (item["status"].as_str(), item["last_error_code"].as_str()),
        (Some("login_required"), Some("ITEM_LOGIN_REQUIRED"))
    );
    assert!(l.transactions().await.is_empty());
    let alerts = json_of(l.app.get_as(&l.admin, "/api/v1/security/alerts").await, 200).await;
    let kinds: Vec<&str> = alerts["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["bank_connection_attention"]);
    assert_eq!(
        l.fake.requests("/transactions/sync").len(),
        1,
        "not retried until the owner acts"
    );
    // Once repaired (Link update mode), the next sync brings the item back.
    l.webhook("item-1").await;
    l.synced(2).await;
    assert_eq!(l.items().await[0]["status"], "active");
    assert_eq!(l.transactions().await.len(), 1);
}

async fn a_rate_limit_is_retried_with_backoff(backend: Backend) {
    let l = start(backend).await;
    l.fake.push("item-1", vec![posted("t1", "1.00")]);
    l.fake.fail("/transactions/sync", 0, Failure::RateLimited);
    l.fake.fail("/transactions/sync", 0, Failure::ServerError);
    l.link("item-1").await;
    l.synced(1).await;
    assert_eq!(l.transactions().await.len(), 1);
    assert_eq!(l.items().await[0]["status"], "active");
    let filter = JobFilter {
        kind: Some("plaid.sync".into()),
        limit: 10,
        ..JobFilter::default()
    };
    let jobs = l
        .app
        .state
        .store
        .list_jobs(Scope::Tenant(l.tenant), &filter)
        .await
        .unwrap();
    assert_eq!((jobs[0].state, jobs[0].attempts), (JobState::Succeeded, 3));
}

async fn an_unofficial_currency_is_refused_and_nothing_is_applied(backend: Backend) {
    let l = start(backend).await;
    let mut crypto = txn("t2", "acc-1", "0.00012", "2026-11-20", "Exchange");
    crypto["iso_currency_code"] = Value::Null;
    crypto["unofficial_currency_code"] = json!("BTC");
    l.fake
        .push("item-1", vec![posted("t1", "1.00"), Change::Added(crypto)]);
    l.link("item-1").await;
    l.synced(1).await;
    let item = &l.items().await[0];
    assert_eq!(
        (item["status"].as_str(), item["last_error_code"].as_str()),
        (Some("error"), Some("UNSUPPORTED_TRANSACTION"))
    );
    assert!(
        l.transactions().await.is_empty(),
        "the set is applied whole or not at all"
    );
    let filter = JobFilter {
        kind: Some("plaid.sync".into()),
        limit: 10,
        ..JobFilter::default()
    };
    let jobs = l
        .app
        .state
        .store
        .list_jobs(Scope::Tenant(l.tenant), &filter)
        .await
        .unwrap();
    let error = jobs[0].last_error.as_deref().unwrap_or_default();
    assert!(error.contains("unofficial currency \"BTC\""), "{error}");
}

on_both_backends!(
    pages_are_read_to_the_end_and_a_resync_adds_nothing,
    a_mutation_during_pagination_restarts_from_the_first_cursor,
    a_pending_charge_that_posts_is_one_event_and_changes_apply,
    login_required_marks_the_item_and_raises_an_alert,
    a_rate_limit_is_retried_with_backoff,
    an_unofficial_currency_is_refused_and_nothing_is_applied,
);
