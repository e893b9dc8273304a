//! The gateway in front of the fake providers: a running AuditPulse whose tenant has provider
//! keys pointing at a [`FakeLlm`], an API key with `gateway:use`, and a way to wait for the
//! recorder to write calls.

use std::time::Duration;

use auditpulse::config::vars;
use auditpulse::domain::TenantId;
use auditpulse::gateway::calls::{CallFilter, LlmCall};
use serde_json::{json, Value};

use crate::accounts::{json_of, post, tenant_with_admin};
use crate::helpers::fake_llm::{FakeLlm, ANTHROPIC_KEY, OPENAI_KEY};
use crate::helpers::{Backend, TestApp};

pub struct Gateway {
    pub app: TestApp,
    pub fake: FakeLlm,
    pub tenant: TenantId,
    pub admin: String,
    /// An AuditPulse key with `gateway:use`, named `support-bot`.
    pub key: String,
}

impl Gateway {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, &[]).await
    }

    /// Like [`Self::start`], with more configuration.
    pub async fn start_with(backend: Backend, overrides: &[(&str, &str)]) -> Self {
        let fake = FakeLlm::start().await;
        let mut all = vec![(vars::ALLOW_PRIVATE_OUTBOUND, "true")];
        all.extend_from_slice(overrides);
        let app = TestApp::spawn_with(backend, &all).await;
        let (tenant, _, admin) = tenant_with_admin(&app, "acme").await;
        for (provider, key, base) in [
            ("openai", OPENAI_KEY, fake.openai_base()),
            ("anthropic", ANTHROPIC_KEY, fake.anthropic_base()),
        ] {
            let body = json!({"provider": provider, "api_key": key, "base_url": base});
            json_of(post(&app, &admin, "/api/v1/providers", body).await, 201).await;
        }
        let key = key_with(&app, &admin, &["gateway:use"]).await;
        Gateway {
            app,
            fake,
            tenant,
            admin,
            key,
        }
    }

    /// `http://HOST:PORT/v1`, the OpenAI SDKs' base URL.
    pub fn openai_base(&self) -> String {
        self.app.url("/v1")
    }

    /// `http://HOST:PORT`, the Anthropic SDKs' base URL.
    pub fn anthropic_base(&self) -> String {
        self.app.url("")
    }

    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.app
            .client
            .post(self.app.url(path))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Waits until the recorder has written `n` calls; returns them, newest first.
    pub async fn calls(&self, n: usize) -> Vec<LlmCall> {
        let store = self.app.state.store.clone();
        for _ in 0..200 {
            let rows = store
                .call_page(self.tenant, &CallFilter::default(), None, 1000)
                .await
                .unwrap();
            if rows.len() >= n {
                assert_eq!(rows.len(), n, "more calls recorded than made");
                return rows.iter().map(|r| r.view().unwrap()).collect();
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the recorder did not write {n} calls in 5 s");
    }
}

/// A new API key of the admin's tenant with `scopes`, named `support-bot`.
pub async fn key_with(app: &TestApp, admin: &str, scopes: &[&str]) -> String {
    let body = json!({"name": "support-bot", "scopes": scopes});
    let created = json_of(post(app, admin, "/api/v1/api-keys", body).await, 201).await;
    created["key"].as_str().unwrap().to_owned()
}
