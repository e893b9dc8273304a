//! `TestApp`: a running AuditPulse with typed helpers, plus test databases and fakes of the
//! pluggable parts (authentication hook, event sink).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Once};

use async_trait::async_trait;
use auditpulse::app::AppState;
use auditpulse::auth::{Authenticator, Principal, Role};
use auditpulse::config::{vars, Config, SecretMode, Sources};
use auditpulse::domain::{time, TenantId, UserId};
use auditpulse::events::{EventSink, SecurityEvent};
use auditpulse::identity::{NewUser, User};
use auditpulse::secret::SecretString;
use auditpulse::tenants::NewTenant;
use auditpulse::Application;
use axum::http::request::Parts;
use tokio::sync::oneshot;

pub const MASTER_KEY: &str = "t1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
pub const SYSADMIN: &str = "sysadmin-token";
pub const VIEWER: &str = "viewer-token";
/// A tenant administrator of `ADMIN_TENANT`.
pub const ADMIN: &str = "admin-token";
pub const ADMIN_TENANT: &str = "01900000-0000-7000-8000-000000000001";
/// An auditor of tenant `TENANT_A`.
pub const AUDITOR: &str = "auditor-token";
/// An admin of tenant `TENANT_B`.
pub const ADMIN_B: &str = "admin-b-token";
pub const TENANT_A: &str = "01900000-0000-7000-8000-00000000000a";
pub const TENANT_B: &str = "01900000-0000-7000-8000-00000000000b";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs one async test body on both backends. The PostgreSQL variant runs when
/// `AUDITPULSE_TEST_POSTGRES_URL` was set at build time and is reported as ignored otherwise.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }

            #[tokio::test]
            #[cfg_attr(not(postgres_tests), ignore = "set AUDITPULSE_TEST_POSTGRES_URL to run on PostgreSQL")]
            async fn postgres() {
                super::$name($crate::helpers::Backend::Postgres).await
            }
        }
    )*};
}

pub fn init_test_logging() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter("debug,hyper=info,h2=info,sqlx=warn")
                .with_test_writer()
                .try_init();
        }
    });
}

/// A fresh database: a file in a temp dir for SQLite; a new database for PostgreSQL, dropped
/// when this value is dropped.
pub struct TestDb {
    pub url: String,
    pub dir: tempfile::TempDir,
    pg_name: Option<String>,
}

fn pg_admin_url() -> String {
    std::env::var("AUDITPULSE_TEST_POSTGRES_URL")
        .expect("AUDITPULSE_TEST_POSTGRES_URL must be set for PostgreSQL tests")
}

/// The role the application connects as on PostgreSQL: not a superuser, no BYPASSRLS, the owner
/// of each test database.
pub const PG_APP_ROLE: &str = "auditpulse_test_app";

fn with_user(url: &str, user: &str) -> String {
    let mut url = url::Url::parse(url).expect("AUDITPULSE_TEST_POSTGRES_URL is not a URL");
    url.set_username(user)
        .expect("AUDITPULSE_TEST_POSTGRES_URL takes a user name");
    url.set_password(None)
        .expect("AUDITPULSE_TEST_POSTGRES_URL takes a password");
    url.to_string()
}

fn with_database(url: &str, name: &str) -> String {
    let mut url = url::Url::parse(url).expect("AUDITPULSE_TEST_POSTGRES_URL is not a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().unwrap();
        match backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                TestDb {
                    url,
                    dir,
                    pg_name: None,
                }
            }
            Backend::Postgres => {
                use sqlx::Connection;
                let name = format!("ap_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = sqlx::PgConnection::connect(&pg_admin_url())
                    .await
                    .expect("cannot reach the test PostgreSQL");
                // Superusers bypass row-level security, so the application connects as an
                // ordinary role that owns its database, as production must. Tests create it
                // concurrently: losing the race is fine.
                sqlx::query(&format!(
                    "DO $$ BEGIN CREATE ROLE {PG_APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE; \
                     EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
                ))
                .execute(&mut admin)
                .await
                .unwrap();
                sqlx::query(&format!("CREATE DATABASE {name} OWNER {PG_APP_ROLE}"))
                    .execute(&mut admin)
                    .await
                    .unwrap();
                admin.close().await.ok();
                TestDb {
                    url: with_user(&with_database(&pg_admin_url(), &name), PG_APP_ROLE),
                    dir,
                    pg_name: Some(name),
                }
            }
        }
    }

    /// The same PostgreSQL database as the administrator (a superuser): for tests that must
    /// reach under row-level security. `None` on SQLite.
    pub fn pg_admin_url(&self) -> Option<String> {
        self.pg_name
            .as_deref()
            .map(|name| with_database(&pg_admin_url(), name))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        // Drop runs inside a runtime; do the async cleanup on a thread of its own.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                use sqlx::Connection;
                if let Ok(mut admin) = sqlx::PgConnection::connect(&pg_admin_url()).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut admin)
                        .await;
                }
            });
        })
        .join();
    }
}

/// Accepts fixed bearer tokens: the stand-in for the identity capability's authenticator.
pub struct StaticTokens(HashMap<String, Principal>);

impl StaticTokens {
    pub fn standard() -> Self {
        let mut tokens = HashMap::new();
        tokens.insert(
            SYSADMIN.to_owned(),
            Principal::user("user-sysadmin", None, None, true),
        );
        tokens.insert(
            VIEWER.to_owned(),
            Principal::user(
                "user-viewer",
                Some(TenantId::new()),
                Some(Role::Viewer),
                false,
            ),
        );
        tokens.insert(
            ADMIN.to_owned(),
            Principal::user(
                "user-admin",
                Some(ADMIN_TENANT.parse().unwrap()),
                Some(Role::Admin),
                false,
            ),
        );
        for (token, id, tenant, role) in [
            (AUDITOR, "user-auditor-a", TENANT_A, Role::Auditor),
            (ADMIN_B, "user-admin-b", TENANT_B, Role::Admin),
        ] {
            tokens.insert(
                token.to_owned(),
                Principal::user(id, Some(tenant.parse().unwrap()), Some(role), false),
            );
        }
        StaticTokens(tokens)
    }
}

#[async_trait]
impl Authenticator for StaticTokens {
    async fn authenticate(&self, parts: &Parts) -> auditpulse::Result<Option<Principal>> {
        let token = parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        Ok(token.and_then(|t| self.0.get(t)).cloned())
    }
}

/// Keeps every security event for assertions.
#[derive(Default)]
pub struct RecordingSink(pub Mutex<Vec<SecurityEvent>>);

impl EventSink for RecordingSink {
    fn record(&self, event: &SecurityEvent) {
        self.0.lock().unwrap().push(event.clone());
    }
}

impl RecordingSink {
    pub fn actions(&self) -> Vec<&'static str> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|e| e.kind.action())
            .collect()
    }
}

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
        init_test_logging();
        let db = TestDb::new(backend).await;
        let config = test_config(&db, overrides);
        let tls = config.tls.is_some();
        let events = Arc::new(RecordingSink::default());
        let app = Application::builder(config)
            .extra_authenticator(Arc::new(StaticTokens::standard()))
            .event_sink(events.clone())
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

/// A password that meets the policy, for test users.
pub const PASSWORD: &str = "correct horse battery staple";

/// What a successful login hands back.
#[derive(Debug, Clone)]
pub struct Login {
    pub access_token: String,
    /// `name=value` of the refresh cookie, ready for a `Cookie` header.
    pub refresh_cookie: String,
}

/// The `name=value` part of a response's `Set-Cookie`, if it sets one.
pub fn set_cookie(response: &reqwest::Response) -> Option<String> {
    let header = response.headers().get("set-cookie")?.to_str().ok()?;
    Some(header.split(';').next()?.trim().to_owned())
}

impl TestApp {
    /// A tenant, straight through the store.
    pub async fn create_tenant(&self, slug: &str) -> TenantId {
        let tenant = NewTenant {
            name: slug.to_owned(),
            slug: slug.to_owned(),
        };
        self.state.store.create_tenant(&tenant).await.unwrap().id
    }

    /// A user with `password` (hashed like the service does), straight through the store.
    pub async fn create_user(
        &self,
        tenant: Option<TenantId>,
        email: &str,
        password: &str,
        role: Option<Role>,
        system_admin: bool,
    ) -> User {
        let hash = self
            .state
            .passwords
            .hash(&SecretString::new(password.to_owned()))
            .await
            .unwrap();
        let user = NewUser {
            id: UserId::new(),
            tenant_id: tenant,
            email: email.to_owned(),
            display_name: None,
            role,
            system_admin,
            password_hash: SecretString::new(hash),
            created_at: time::now(),
        };
        self.state.store.insert_user(&user).await.unwrap()
    }

    /// `POST /api/v1/auth/login` with any body.
    pub async fn login_with(&self, body: &serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/auth/login"))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// Logs in, asserting it works.
    pub async fn login(&self, email: &str, password: &str) -> Login {
        let response = self
            .login_with(&serde_json::json!({"email": email, "password": password}))
            .await;
        assert_eq!(response.status(), 200, "login of {email}");
        let refresh_cookie = set_cookie(&response).expect("login sets the refresh cookie");
        let body: serde_json::Value = response.json().await.unwrap();
        Login {
            access_token: body["access_token"].as_str().unwrap().to_owned(),
            refresh_cookie,
        }
    }

    /// A new user of `tenant` with `role` (password [`PASSWORD`]), logged in.
    pub async fn user_token(&self, tenant: TenantId, role: Role) -> (User, String) {
        let email = format!("user-{}@example.com", uuid::Uuid::new_v4().simple());
        let user = self
            .create_user(Some(tenant), &email, PASSWORD, Some(role), false)
            .await;
        let login = self.login(&email, PASSWORD).await;
        (user, login.access_token)
    }

    /// `POST /api/v1/auth/refresh` with a `Cookie` header.
    pub async fn refresh(&self, cookie: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/auth/refresh"))
            .header("cookie", cookie)
            .send()
            .await
            .expect("request sent")
    }

    /// A bodiless `POST` with a bearer token.
    pub async fn post_as(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn delete_as(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent")
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

/// The highest migration version shipped, read from `migrations/sqlite` (the contract test
/// `migrations_have_the_same_versions_on_both_backends` keeps PostgreSQL's in step).
pub fn latest_migration() -> i64 {
    migration_versions("sqlite")
        .into_iter()
        .max()
        .expect("at least one migration")
}

pub fn migration_versions(backend: &str) -> Vec<i64> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut versions: Vec<i64> = std::fs::read_dir(dir)
        .expect("migrations folder")
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|name| name.split('_').next()?.parse().ok())
        .collect();
    versions.sort();
    versions
}
