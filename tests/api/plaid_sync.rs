//! Plaid through the API against the fake Plaid, on both backends: linking an item (token
//! encrypted, accounts with mask and institution, first sync queued), paginated syncs, a mutation
//! during pagination, pending charges that post as one event, modifications and removals, a
//! re-sync that adds nothing, item errors (login required raises an alert; a rate limit is
//! retried), removal that keeps history, and Plaid switched off.

use std::time::Duration;

use auditpulse::domain::TenantId;
use auditpulse::jobs::{Backoff, JobFilter, JobState, RunnerConfig};
use auditpulse::store::Scope;
use serde_json::{json, Value};

use crate::accounts::{delete, eventually, json_of, post, tenant_with_admin};
use crate::crypto::{contains, raw_column};
use crate::helpers::fake_plaid::{account, txn, Change, Failure, FakePlaid};
use crate::helpers::{error_of, Backend, TestApp};
use crate::on_both_backends;

pub struct Linked {
    pub app: TestApp,
    pub fake: FakePlaid,
    pub tenant: TenantId,
    pub admin: String,
    pub backend: Backend,
}

pub fn fast_runner() -> RunnerConfig {
    RunnerConfig {
        poll: Duration::from_millis(25),
        concurrency: 2,
        lease: Duration::from_secs(30),
        backoff: Backoff {
            base: Duration::from_millis(50),
            cap: Duration::from_millis(200),
        },
    }
}

/// An app talking to a fresh fake Plaid, and a tenant with its admin.
pub async fn start(backend: Backend) -> Linked {
    let fake = FakePlaid::start().await;
    let pairs = fake.config();
    let overrides: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = TestApp::spawn_built(backend, &overrides, |b| b.job_runner(fast_runner())).await;
    let (tenant, _, admin) = tenant_with_admin(&app, "acme").await;
    Linked {
        app,
        fake,
        tenant,
        admin,
        backend,
    }
}

impl Linked {
    /// Links `item_id` as Link would and returns the item as the API shows it.
    pub async fn link(&self, item_id: &str) -> Value {
        let public = self
            .fake
            .add_item(item_id, vec![account("acc-1", "Operating", "0000")]);
        let body = json!({ "public_token": public });
        json_of(
            post(&self.app, &self.admin, "/api/v1/plaid/items", body).await,
            201,
        )
        .await
    }

    /// Waits until `n` sync jobs have finished and none is pending.
    pub async fn synced(&self, n: usize) {
        let store = self.app.state.store.clone();
        let tenant = self.tenant;
        let done = eventually(Duration::from_secs(20), || {
            let store = store.clone();
            async move {
                let filter = JobFilter {
                    kind: Some("plaid.sync".into()),
                    limit: 100,
                    ..JobFilter::default()
                };
                let jobs = store
                    .list_jobs(Scope::Tenant(tenant), &filter)
                    .await
                    .unwrap();
                let finished = jobs
                    .iter()
                    .filter(|j| matches!(j.state, JobState::Succeeded | JobState::Dead))
                    .count();
                finished >= n && finished == jobs.len()
            }
        })
        .await;
        assert!(done, "{n} plaid.sync jobs did not finish");
    }

    /// Transactions as the API lists them: (source_ref, amount_minor, status).
    pub async fn transactions(&self) -> Vec<(String, i64, String)> {
        let page = json_of(
            self.app
                .get_as(&self.admin, "/api/v1/transactions?limit=200")
                .await,
            200,
        )
        .await;
        let mut rows: Vec<(String, i64, String)> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["source_ref"].as_str().unwrap().to_owned(),
                    t["amount_minor"].as_i64().unwrap(),
                    t["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        rows.sort();
        rows
    }

    pub async fn items(&self) -> Vec<Value> {
        let list = json_of(
            self.app.get_as(&self.admin, "/api/v1/plaid/items").await,
            200,
        )
        .await;
        list["items"].as_array().unwrap().clone()
    }

    /// A verified SYNC_UPDATES_AVAILABLE webhook for `item_id`.
    pub async fn webhook(&self, item_id: &str) {
        let url = self.app.url("/api/v1/plaid/webhook");
        let response = self
            .fake
            .send_webhook(&url, "SYNC_UPDATES_AVAILABLE", item_id)
            .await;
        assert_eq!(response.status(), 200);
    }
}

fn posted(id: &str, amount: &str) -> Change {
    Change::Added(txn(id, "acc-1", amount, "2026-11-20", "Figma"))
}

async fn linking_stores_the_token_encrypted_and_syncs(backend: Backend) {
    let l = start(backend).await;
    let link = json_of(
        post(&l.app, &l.admin, "/api/v1/plaid/link-token", json!({})).await,
        200,
    )
    .await;
    assert!(link["link_token"]
        .as_str()
        .unwrap()
        .starts_with("link-sandbox-"));
    l.fake
        .push("item-1", vec![posted("t1", "12.34"), posted("t2", "1500")]);
    let item = l.link("item-1").await;
    assert_eq!(
        (item["item_id"].as_str(), item["status"].as_str()),
        (Some("item-1"), Some("active"))
    );
    let text = item.to_string();
    assert!(
        !text.contains("access-sandbox") && !text.contains("cursor"),
        "{text}"
    );
    let accounts = json_of(l.app.get_as(&l.admin, "/api/v1/accounts").await, 200).await;
    assert_eq!(accounts["items"][0]["mask"], "****0000");
    assert_eq!(accounts["items"][0]["institution"], "First Platypus Bank");
    assert_eq!(accounts["items"][0]["origin"], "plaid");
    l.synced(1).await;
    assert_eq!(
        l.transactions().await,
        [
            ("t1".into(), 1234, "posted".into()),
            ("t2".into(), 150000, "posted".into())
        ]
    );
    let listed = l.items().await;
    assert!(listed[0]["last_sync_at"].is_string(), "{listed:?}");
    // At rest the access token is ciphertext only.
    let token = &l.fake.requests("/accounts/get")[0]["access_token"];
    let token = token.as_str().unwrap().as_bytes().to_vec();
    for value in raw_column(
        l.backend,
        l.app.database_url(),
        "SELECT value_ciphertext FROM tenant_secrets",
    )
    .await
    {
        assert!(
            !contains(&value, &token),
            "access token stored in the clear"
        );
    }
    assert!(l.app.events.actions().contains(&"plaid.item_link"));
}

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

async fn removing_an_item_keeps_its_history(backend: Backend) {
    let l = start(backend).await;
    l.fake.push("item-1", vec![posted("t1", "1.00")]);
    let item = l.link("item-1").await;
    l.synced(1).await;
    let path = format!("/api/v1/plaid/items/{}", item["id"].as_str().unwrap());
    let removed = json_of(delete(&l.app, &l.admin, &path).await, 200).await;
    assert_eq!(removed["status"], "removed");
    assert!(l.fake.item_removed("item-1"));
    assert_eq!(l.transactions().await.len(), 1, "history kept");
    let names = l.app.state.keyring.secrets(l.tenant).names().await.unwrap();
    assert!(names.is_empty(), "the token is deleted: {names:?}");
    l.webhook("item-1").await;
    l.synced(1).await;
    assert_eq!(
        l.fake.requests("/transactions/sync").len(),
        1,
        "a removed item is not synced"
    );
    assert_eq!(
        delete(&l.app, &l.admin, "/api/v1/plaid/items/not-an-id")
            .await
            .status(),
        404
    );
}

async fn without_plaid_the_routes_say_so(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (_, _, admin) = tenant_with_admin(&app, "acme").await;
    let error = error_of(post(&app, &admin, "/api/v1/plaid/link-token", json!({})).await).await;
    assert_eq!(error["code"], "conflict");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("Plaid is not configured"),
        "{error}"
    );
    let listed = app.get_as(&admin, "/api/v1/plaid/items").await;
    assert_eq!(listed.status(), 409);
}

on_both_backends!(
    linking_stores_the_token_encrypted_and_syncs,
    pages_are_read_to_the_end_and_a_resync_adds_nothing,
    a_mutation_during_pagination_restarts_from_the_first_cursor,
    a_pending_charge_that_posts_is_one_event_and_changes_apply,
    login_required_marks_the_item_and_raises_an_alert,
    a_rate_limit_is_retried_with_backoff,
    an_unofficial_currency_is_refused_and_nothing_is_applied,
    removing_an_item_keeps_its_history,
    without_plaid_the_routes_say_so,
);
