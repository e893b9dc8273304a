//! The cost of authenticating a request: JWT verification plus the session check, in process, on
//! SQLite and (when `AUDITPULSE_TEST_POSTGRES_URL` is set) PostgreSQL. Target: p99 under 1 ms.
//!
//! ```sh
//! AUDITPULSE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench auth
//! ```
//!
//! A real AuditPulse is started on a free port with a fresh database; a user is created and logs in
//! over HTTP; then the application's own authenticator checks that user's access token
//! `AUTH_BENCH_REQUESTS` times (default 200,000) from 4 concurrent tasks, each request timed on its
//! own. Sessions are read through a cache trusted for one second, so the run includes the cache
//! misses a busy server sees (one database read per session per second). "session read" times the
//! database read alone (`session_state`), the cost of every miss. PostgreSQL runs as an ordinary
//! role that owns the database, so row-level security applies as in production.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)] // a benchmark reports on stdout and fails loudly

use std::time::{Duration, Instant};

use auditpulse::config::{vars, Config, SecretMode, Sources};
use auditpulse::domain::{time, SessionId, UserId};
use auditpulse::identity::NewUser;
use auditpulse::secret::SecretString;
use auditpulse::Application;
use sqlx::Connection;

const TASKS: usize = 4;
const KEY: &str = "b1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const PASSWORD: &str = "bench password that is long enough";

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1e6
}

fn report(label: &str, mut samples: Vec<Duration>, took: Duration) {
    samples.sort_unstable();
    println!(
        "{label}: {n} in {secs:.2} s ({rate:.0}/s); p50 {p50:.1} µs, p99 {p99:.1} µs, p99.9 {p999:.1} µs, max {max:.1} µs",
        n = samples.len(),
        secs = took.as_secs_f64(),
        rate = samples.len() as f64 / took.as_secs_f64(),
        p50 = percentile(&samples, 0.50),
        p99 = percentile(&samples, 0.99),
        p999 = percentile(&samples, 0.999),
        max = percentile(&samples, 1.0),
    );
}

async fn bench(name: &str, database_url: &str, requests: usize) {
    let dir = tempfile::tempdir().unwrap();
    let pairs: Vec<(String, String)> = vec![
        (vars::LISTEN.into(), "127.0.0.1:0".into()),
        (vars::METRICS_LISTEN.into(), "off".into()),
        (vars::DATA_DIR.into(), dir.path().display().to_string()),
        (vars::DATABASE_URL.into(), database_url.into()),
        (vars::MASTER_KEYS.into(), KEY.into()),
        (vars::LOG_LEVEL.into(), "error".into()),
    ];
    let config = Config::load(&Sources::from_pairs(pairs), SecretMode::Generate)
        .unwrap()
        .config;
    let app = Application::builder(config).build().await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));

    let email = format!("bench-{}@example.com", uuid::Uuid::new_v4().simple());
    let hash = state
        .passwords
        .hash(&SecretString::new(PASSWORD.to_owned()))
        .await
        .unwrap();
    state
        .store
        .insert_user(&NewUser {
            id: UserId::new(),
            tenant_id: None,
            email: email.clone(),
            display_name: None,
            role: None,
            system_admin: true,
            password_hash: SecretString::new(hash),
            created_at: time::now(),
        })
        .await
        .unwrap();
    let login: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap().to_owned();
    let request = || {
        axum::http::Request::builder()
            .uri("/api/v1/me")
            .header("authorization", format!("Bearer {token}"))
            .body(())
            .unwrap()
            .into_parts()
            .0
    };
    let parts = request();
    let principal = state.authenticator.authenticate(&parts).await.unwrap();
    let session: SessionId = principal
        .and_then(|p| p.session)
        .expect("the token authenticates");

    let started = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let state = state.clone();
            let parts = request();
            tokio::spawn(async move {
                let mut samples = Vec::with_capacity(requests / TASKS);
                for _ in 0..requests / TASKS {
                    let t = Instant::now();
                    let principal = state.authenticator.authenticate(&parts).await.unwrap();
                    samples.push(t.elapsed());
                    assert!(principal.is_some());
                }
                samples
            })
        })
        .collect();
    let mut samples = Vec::with_capacity(requests);
    for task in tasks {
        samples.extend(task.await.unwrap());
    }
    report(
        &format!("{name}: authenticate (JWT + session check)"),
        samples,
        started.elapsed(),
    );

    let reads = (requests / 20).max(1_000);
    let started = Instant::now();
    let mut samples = Vec::with_capacity(reads);
    for _ in 0..reads {
        let t = Instant::now();
        state.store.session_state(session).await.unwrap().unwrap();
        samples.push(t.elapsed());
    }
    report(
        &format!("{name}: session read (cache miss)"),
        samples,
        started.elapsed(),
    );

    let _ = stop.send(());
    server.await.unwrap();
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let requests: usize = std::env::var("AUTH_BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        bench("sqlite", &url, requests).await;

        let Some(admin) = std::env::var("AUDITPULSE_TEST_POSTGRES_URL")
            .ok()
            .filter(|v| !v.is_empty())
        else {
            println!("postgres: skipped (set AUDITPULSE_TEST_POSTGRES_URL)");
            return;
        };
        let role = "auditpulse_bench";
        let name = format!("ap_bench_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
        sqlx::query(&format!(
            "DO $$ BEGIN CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS; \
             EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        ))
        .execute(&mut conn)
        .await
        .unwrap();
        sqlx::query(&format!("CREATE DATABASE {name} OWNER {role}"))
            .execute(&mut conn)
            .await
            .unwrap();
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&format!("/{name}"));
        url.set_username(role).unwrap();
        bench("postgres", url.as_str(), requests).await;
        sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await
            .unwrap();
    });
}
