//! `auditpulse detect run` and `detect retrain` against a real database: the work goes through the
//! job queue, a back-fill interrupted by a crash is finished by the next run, and no case is raised
//! twice. On both backends.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use auditpulse::detect::jobs::{backfill_job, BACKFILL_JOB};
use auditpulse::detect::store::Targets;
use auditpulse::domain::time;
use auditpulse::store::Time;

use crate::accounts::tenant_with_admin;
use crate::detection::{apply, routine, scored};
use crate::helpers::{Backend, MASTER_KEY};
use crate::ledger::{account, spend};

fn cli(url: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_auditpulse"));
    cmd.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", url)
        .env(auditpulse::config::vars::MASTER_KEYS, MASTER_KEY)
        .stdin(Stdio::null());
    cmd
}

/// Runs the command off the test's runtime (see `ledger_import`).
async fn output(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("the binary runs"))
        .await
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn the_cli_backfills_and_finishes_an_interrupted_backfill(backend: Backend) {
    let app = crate::detection::app(backend).await;
    let (tenant, _, admin) = tenant_with_admin(&app, "acme").await;
    let account = account(&app, &admin, "001234567890").await;
    let mut upserts = routine(account, "Globex Consulting", 120_000);
    upserts.push(spend("big", account, 10, 1_500_000, "Globex Consulting"));
    apply(&app, tenant, upserts).await;
    scored(&app, tenant).await;
    let db = app.stop_keeping_db().await;

    // A back-fill whose worker died half way: claimed, never finished.
    let url = auditpulse::config::DatabaseUrl::parse(&db.url).unwrap();
    let store = auditpulse::app::connect(&url, 2).await.unwrap();
    let asked = time::now();
    let job = backfill_job(tenant, None, asked);
    store.enqueue_job(&job).await.unwrap().unwrap();
    let crashed = store
        .claim_job(&[BACKFILL_JOB], Duration::from_millis(1))
        .await
        .unwrap();
    assert!(crashed.is_some());
    tokio::time::sleep(Duration::from_millis(20)).await;

    // The next run finishes that job (its lease has expired) and its own.
    let out = output(cli(&db.url, &["detect", "run", "--tenant", "acme"])).await;
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(
        text.contains("acme: the same work is already queued"),
        "{text}"
    );
    assert!(
        text.contains("acme: scored 9 transactions, 0 new anomalies"),
        "{text}"
    );
    let left = store
        .score_targets(
            tenant,
            Targets::Backfill {
                from: None,
                before: Time(asked),
            },
        )
        .await
        .unwrap();
    assert!(
        left.is_empty(),
        "everything was rescored since the back-fill was asked"
    );
    let sql = "SELECT COUNT(*) FROM anomaly_events WHERE action = 'raised'";
    assert_eq!(crate::crypto::raw_count(backend, &db.url, sql).await, 1);

    // Retraining says what it did; a missing tenant is a clear error.
    let out = output(cli(&db.url, &["detect", "retrain", "--tenant", "acme"])).await;
    assert!(out.status.success(), "{out:?}");
    assert!(stdout(&out).contains("acme: too little history for a model yet"));
    let out = output(cli(&db.url, &["detect", "run", "--tenant", "nope"])).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no tenant nope"));
    store.close().await;
}

crate::on_both_backends!(the_cli_backfills_and_finishes_an_interrupted_backfill);
