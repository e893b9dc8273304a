//! Audit trail benchmarks: append throughput with 8 concurrent writers, and `audit verify` time for
//! a long chain, on SQLite and (when `AUDITPULSE_TEST_POSTGRES_URL` is set) PostgreSQL.
//!
//! ```sh
//! export CARGO_TARGET_DIR=/work/target-audit   # optional
//! AUDITPULSE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench audit
//! ```
//!
//! Writers: 8 tasks, each awaiting the commit of every event it appends (`AuditLog::append`), so
//! the figure is committed events per second. "queued" has the 8 tasks enqueue without waiting
//! (as `Events::emit` does through the audit sink) and stops the clock when all are committed.
//! "shared writer" is one AuditPulse instance (one
//! `AuditLog`, group commit); "8 instances" gives each task its own `AuditLog` and pool, so the
//! chain-head lock serializes them as it would separate processes. Verify: the chain is filled
//! with `AUDIT_BENCH_VERIFY_EVENTS` events (default 1,000,000) in large batches, then
//! `audit::verify` walks it. Each backend gets a fresh database that is removed afterwards.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)] // a benchmark reports on stdout and fails loudly

use std::sync::Arc;
use std::time::Instant;

use auditpulse::app::{connect, Store};
use auditpulse::audit::{self, ActorKind, AuditLog, NewAuditEvent, Outcome, Verdict};
use auditpulse::config::{DatabaseUrl, MasterKeys};
use serde_json::json;
use sqlx::Connection;

const WRITERS: usize = 8;
const KEY: &str = "b1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn event(writer: usize, i: usize) -> NewAuditEvent {
    NewAuditEvent::new(
        ActorKind::User,
        Some(format!("user-{writer}")),
        "auth.login",
    )
    .outcome(if i.is_multiple_of(10) {
        Outcome::Failure
    } else {
        Outcome::Success
    })
    .target("session", Some(format!("s-{writer}-{i}")))
    .source(
        Some("203.0.113.9".into()),
        Some("Mozilla/5.0 (bench)".into()),
    )
    .details(json!({"method": "password", "attempt": i}))
}

async fn open(url: &str) -> Arc<dyn Store> {
    let store = connect(&DatabaseUrl::parse(url).unwrap(), 10)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store
}

/// 8 writers queue events without waiting (as security-event sinks do); the clock stops when
/// `shutdown` has committed them all.
async fn queued(url: &str, per_writer: usize) -> f64 {
    let log = AuditLog::start(open(url).await);
    let started = Instant::now();
    let tasks: Vec<_> = (0..WRITERS)
        .map(|w| {
            let log = log.clone();
            tokio::spawn(async move {
                for i in 0..per_writer {
                    while !log.enqueue(event(w, i)) {
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    log.shutdown().await;
    (WRITERS * per_writer) as f64 / started.elapsed().as_secs_f64()
}

async fn appends(url: &str, per_writer: usize, instances: bool) -> f64 {
    let shared = AuditLog::start(open(url).await);
    let mut logs = Vec::new();
    for _ in 0..WRITERS {
        logs.push(if instances {
            AuditLog::start(open(url).await)
        } else {
            shared.clone()
        });
    }
    let started = Instant::now();
    let tasks: Vec<_> = logs
        .into_iter()
        .enumerate()
        .map(|(w, log)| {
            tokio::spawn(async move {
                for i in 0..per_writer {
                    log.append(event(w, i)).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    (WRITERS * per_writer) as f64 / started.elapsed().as_secs_f64()
}

async fn verify(url: &str, events: usize) -> (f64, f64) {
    let store = open(url).await;
    let started = Instant::now();
    let batch = 5_000;
    let mut written = 0;
    while written < events {
        let n = batch.min(events - written);
        let chunk: Vec<_> = (0..n).map(|i| event(i % WRITERS, written + i)).collect();
        store.append_audit(&chunk).await.unwrap();
        written += n;
    }
    let fill = started.elapsed().as_secs_f64();
    let keys = MasterKeys::parse(KEY).unwrap();
    let started = Instant::now();
    let verdict = audit::verify(store.as_ref(), Some(&keys)).await.unwrap();
    let took = started.elapsed().as_secs_f64();
    assert!(
        matches!(verdict, Verdict::Intact { events: n, .. } if n as usize >= events),
        "{verdict:?}"
    );
    (fill, took)
}

async fn bench(name: &str, url: &str, per_writer: usize, verify_events: usize) {
    let shared = appends(url, per_writer, false).await;
    println!(
        "{name}: append, 8 writers, shared writer:  {shared:>9.0} events/s ({} events)",
        WRITERS * per_writer
    );
    let queued = queued(url, per_writer * 4).await;
    println!(
        "{name}: append, 8 writers, queued:         {queued:>9.0} events/s ({} events)",
        WRITERS * per_writer * 4
    );
    let separate = appends(url, per_writer / 4, true).await;
    println!(
        "{name}: append, 8 writers, 8 instances:    {separate:>9.0} events/s ({} events)",
        WRITERS * per_writer / 4
    );
    let (fill, took) = verify(url, verify_events).await;
    println!(
        "{name}: verify {verify_events} events:          {took:>9.2} s (filled in {fill:.1} s)"
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let per_writer: usize = std::env::var("AUDIT_BENCH_APPENDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000);
    let verify_events: usize = std::env::var("AUDIT_BENCH_VERIFY_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        bench("sqlite", &url, per_writer, verify_events).await;

        let Some(admin) = std::env::var("AUDITPULSE_TEST_POSTGRES_URL")
            .ok()
            .filter(|v| !v.is_empty())
        else {
            println!("postgres: skipped (set AUDITPULSE_TEST_POSTGRES_URL)");
            return;
        };
        let name = format!("ap_bench_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap();
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&format!("/{name}"));
        bench("postgres", url.as_str(), per_writer, verify_events).await;
        sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await
            .unwrap();
    });
}
