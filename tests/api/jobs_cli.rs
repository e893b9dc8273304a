//! `auditpulse jobs list` through the real binary, and the job gauges on the metrics listener,
//! against the database of a running app. On both backends.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use auditpulse::jobs::{Backoff, NewJob};
use serde_json::json;

use crate::helpers::{Backend, TestApp, MASTER_KEY};

/// Runs the binary off the test's runtime thread, so the app in this process keeps serving (its
/// audit writer may hold a lock the command waits for) while the command runs.
async fn run(app: &TestApp, args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_auditpulse"));
    cmd.args(args)
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", app.database_url())
        .env(auditpulse::config::vars::MASTER_KEYS, MASTER_KEY)
        .stdin(Stdio::null());
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("the binary runs"));
    let out = out.await.unwrap();
    drop(dir); // kept alive until the command ended: it is the command's working directory
    out
}

fn stdout(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Two queued `test.report` jobs and one failed `test.sync` whose error carried a token.
async fn queue(app: &TestApp) {
    let store = &app.state.store;
    for n in 0..2 {
        let job = NewJob::new("test.report", json!({ "n": n }));
        store.enqueue_job(&job).await.unwrap().unwrap();
    }
    let job = NewJob::new("test.sync", json!({}));
    store.enqueue_job(&job).await.unwrap().unwrap();
    let lease = Duration::from_secs(60);
    let claimed = store
        .claim_job(&["test.sync"], lease)
        .await
        .unwrap()
        .unwrap();
    let error = "bank refused: Authorization: Bearer s3cr3t-t0ken-value\nretry later";
    store
        .fail_job(&claimed, error, Backoff::default())
        .await
        .unwrap()
        .unwrap();
}

async fn jobs_list_shows_a_filtered_table_without_secrets(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    queue(&app).await;
    let all = stdout(&run(&app, &["jobs", "list"]).await);
    // The application queues its own periodic detection sweep; the rest are this test's.
    let lines: Vec<&str> = all.lines().filter(|l| !l.contains("detect.")).collect();
    assert_eq!(lines.len(), 4, "{all}");
    for column in [
        "ID",
        "KIND",
        "STATE",
        "ATTEMPTS",
        "RUN AT",
        "TENANT",
        "LAST ERROR",
    ] {
        assert!(lines[0].contains(column), "{all}");
    }
    assert!(!all.contains("s3cr3t-t0ken-value"), "{all}");
    let failed = stdout(&run(&app, &["jobs", "list", "--state", "failed"]).await);
    assert_eq!(failed.lines().count(), 2, "{failed}");
    let row = failed.lines().nth(1).unwrap();
    assert!(row.contains("test.sync") && row.contains("1/5"), "{failed}");
    assert!(row.contains("Bearer [REDACTED] retry later"), "{failed}");
    let reports = stdout(
        &run(
            &app,
            &["jobs", "list", "--kind", "test.report", "--limit", "1"],
        )
        .await,
    );
    assert_eq!(reports.lines().count(), 2, "{reports}");
    let none = stdout(&run(&app, &["jobs", "list", "--kind", "test.none"]).await);
    assert_eq!(none.trim(), "no jobs");
    let bad = run(&app, &["jobs", "list", "--state", "paused"]).await;
    assert_eq!(bad.status.code(), Some(2));
    app.stop().await;
}

async fn job_counts_are_gauges_by_kind_and_state(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    queue(&app).await;
    let text = app.metrics().await;
    for (series, value) in [
        (r#"auditpulse_jobs{kind="test.report",state="queued"}"#, 2),
        (r#"auditpulse_jobs{kind="test.report",state="failed"}"#, 0),
        (r#"auditpulse_jobs{kind="test.sync",state="failed"}"#, 1),
        (r#"auditpulse_jobs{kind="test.sync",state="queued"}"#, 0),
    ] {
        let line = format!("{series} {value}");
        assert!(
            text.lines().any(|l| l == line),
            "{line} missing from {text}"
        );
    }
    app.stop().await;
}

crate::on_both_backends!(
    jobs_list_shows_a_filtered_table_without_secrets,
    job_counts_are_gauges_by_kind_and_state,
);
