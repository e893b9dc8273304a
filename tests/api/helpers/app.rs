//! `TestApp`: a running AuditPulse on port 0 (and its metrics listener) with a fresh database,
//! typed HTTP helpers, and the check of the error body shape. The app owns its database, which
//! goes when the app does.

use std::sync::Arc;

use auditpulse::app::{AppState, ApplicationBuilder};
use auditpulse::config::{vars, Config, SecretMode, Sources};
use auditpulse::Application;
use tokio::sync::oneshot;

use super::{init_test_logging, Backend, RecordingSink, StaticTokens, TestDb, MASTER_KEY};

pub struct TestApp {
    pub base: String,
    /// `http://127.0.0.1:PORT` of the metrics listener.
    pub metrics_base: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub events: Arc<RecordingSink>,
    /// Kept so the database lives (and is dropped) with the app.
    _db: TestDb,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

/// A configuration for tests: port 0, the given database, a fixed master key, overrides last.
/// The login limits are raised (tests log in a lot from 127.0.0.1); tests of those limits set
/// them back in `overrides`.
pub fn test_config(db: &TestDb, overrides: &[(&str, &str)]) -> Config {
    let data = db.dir.path().join("data").display().to_string();
    let mut pairs: Vec<(String, String)> = vec![
        (vars::LISTEN.into(), "127.0.0.1:0".into()),
        (vars::METRICS_LISTEN.into(), "127.0.0.1:0".into()),
        (vars::DATA_DIR.into(), data),
        (vars::DATABASE_URL.into(), db.url.clone()),
        (vars::MASTER_KEYS.into(), MASTER_KEY.into()),
        (vars::RATE_LIMIT_AUTH_IP.into(), "6000/m,burst=1000".into()),
        (
            vars::RATE_LIMIT_AUTH_PRINCIPAL.into(),
            "6000/m,burst=1000".into(),
        ),
    ];
    pairs.extend(
        overrides
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    Config::load(&Sources::from_pairs(pairs), SecretMode::Generate)
        .expect("test configuration is valid")
        .config
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(Backend::Sqlite, &[]).await
    }

    pub async fn spawn_with(backend: Backend, overrides: &[(&str, &str)]) -> Self {
        Self::spawn_built(backend, overrides, |builder| builder).await
    }

    /// Like [`Self::spawn_with`], with `setup` applied to the builder (job runner settings...).
    pub async fn spawn_built(
        backend: Backend,
        overrides: &[(&str, &str)],
        setup: impl FnOnce(ApplicationBuilder) -> ApplicationBuilder,
    ) -> Self {
        init_test_logging();
        let db = TestDb::migrated(backend).await;
        let config = test_config(&db, overrides);
        let tls = config.tls.is_some();
        let events = Arc::new(RecordingSink::default());
        let builder = Application::builder(config)
            .extra_authenticator(Arc::new(StaticTokens::standard()))
            .event_sink(events.clone());
        let app = setup(builder)
            .build()
            .await
            .expect("the application starts");
        let scheme = if tls {
            "https://localhost"
        } else {
            "http://127.0.0.1"
        };
        let base = format!("{scheme}:{}", app.port());
        let state = app.state().clone();
        let metrics_base = format!(
            "http://{}",
            app.metrics_addr().expect("tests run the metrics listener")
        );
        let (tx, rx) = oneshot::channel();
        let server = tokio::spawn(app.run_until(async {
            let _ = rx.await;
        }));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        TestApp {
            base,
            metrics_base,
            client,
            state,
            events,
            _db: db,
            shutdown: Some(tx),
            server: Some(server),
        }
    }

    /// The URL of this app's database, for tests that reach under the application.
    pub fn database_url(&self) -> &str {
        &self._db.url
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    pub async fn get_as(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn post_json_as(
        &self,
        token: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// The metrics exposition text.
    pub async fn metrics(&self) -> String {
        let response = self
            .client
            .get(format!("{}/metrics", self.metrics_base))
            .send()
            .await
            .expect("metrics answer");
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }

    /// Stops the server like `stop`, handing back its database for inspection afterwards.
    pub async fn stop_keeping_db(mut self) -> TestDb {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap();
        }
        self._db
    }

    /// Stops the server as SIGTERM would and waits until it has finished.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap();
        }
    }
}

/// The `error` object of an error response, after checking its shape and the request id.
pub async fn error_of(response: reqwest::Response) -> serde_json::Value {
    let header_id = response
        .headers()
        .get("x-request-id")
        .expect("X-Request-Id on every response")
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: serde_json::Value = response.json().await.expect("error bodies are JSON");
    let error = body["error"].clone();
    assert!(
        error["code"].is_string() && error["message"].is_string(),
        "{body}"
    );
    assert_eq!(
        error["request_id"],
        header_id.as_str(),
        "body and header carry the same request id"
    );
    error
}
