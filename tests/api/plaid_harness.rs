//! The harness of the Plaid API tests: an app wired to a fresh fake Plaid with a fast job runner,
//! a tenant and its admin, and typed helpers (link an item, wait for syncs, list transactions and
//! items, send a verified webhook).

use std::time::Duration;

use auditpulse::domain::TenantId;
use auditpulse::jobs::{Backoff, JobFilter, JobState, RunnerConfig};
use auditpulse::store::Scope;
use serde_json::{json, Value};

use crate::accounts::{eventually, json_of, post, tenant_with_admin};
use crate::helpers::fake_plaid::{account, txn, Change, FakePlaid};
use crate::helpers::{Backend, TestApp};

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

pub fn posted(id: &str, amount: &str) -> Change {
    Change::Added(txn(id, "acc-1", amount, "2026-11-20", "Figma"))
}
