//! Bank files into the ledger through `POST /api/v1/imports` and `auditpulse import`: formats
//! detected from content, all or nothing with every bad row listed, re-imports that add nothing,
//! limits, and a SIGKILL in the middle that leaves nothing behind. On both backends.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use auditpulse::auth::Role;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use crate::accounts::{audited, json_of, post, tenant_with_admin};
use crate::crypto::raw_count;
use crate::helpers::{error_of, Backend, TestApp, MASTER_KEY};
use crate::ledger::account;

const BANK_MEDIUM: &str = "tests/fixtures/ofx/bank_medium.ofx";

const CSV: &str = "Date,Payee,Details,Amount\n\
    03/01/2026,AWS EMEA 7731,Cloud hosting,-120.50\n\
    04/01/2026,\"Coffee, Roasters\",Team coffee,-4.20\n\
    05/01/2026,Vendor,Refund from vendor,15.00\n";

pub fn mapping() -> Value {
    json!({"date": "Date", "date_format": "%d/%m/%Y", "amount": {"single": "Amount"},
        "description": "Details", "counterparty": "Payee"})
}

pub async fn upload(
    app: &TestApp,
    token: &str,
    file: Vec<u8>,
    fields: &[(&str, String)],
) -> reqwest::Response {
    let mut form = Form::new().part("file", Part::bytes(file).file_name("statement"));
    for (name, value) in fields {
        form = form.text(name.to_string(), value.clone());
    }
    app.client
        .post(app.url("/api/v1/imports"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn count(app: &TestApp, backend: Backend, table: &str) -> i64 {
    raw_count(
        backend,
        app.database_url(),
        &format!("SELECT COUNT(*) FROM {table}"),
    )
    .await
}

async fn ofx_imports_once_and_says_so_the_second_time(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (_, _, admin) = tenant_with_admin(&app, "acme").await;
    let acct = account(&app, &admin, "12345678").await;
    let file = std::fs::read(BANK_MEDIUM).unwrap();
    let fields = [("account", acct.to_string())];
    let first = json_of(upload(&app, &admin, file.clone(), &fields).await, 201).await;
    assert_eq!(first["format"], "ofx");
    assert_eq!(
        (first["rows"].as_u64(), first["imported"].as_u64()),
        (Some(3), Some(3))
    );
    let again = json_of(upload(&app, &admin, file, &fields).await, 201).await;
    assert_eq!(again["imported"], 0);
    assert_eq!(again["duplicates"], 3);
    assert_eq!(count(&app, backend, "spend_events").await, 3);

    let listed = json_of(
        app.get_as(&admin, "/api/v1/transactions?source=ofx").await,
        200,
    )
    .await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert!(items
        .iter()
        .all(|i| i["currency"] == "CAD" && i["account_id"] == acct.to_string()));
    let imports = json_of(app.get_as(&admin, "/api/v1/imports").await, 200).await;
    assert_eq!(imports["items"].as_array().unwrap().len(), 2);
    assert_eq!(imports["items"][0]["duplicates"], 3);
    let events = audited(&app, &admin, "ledger.import").await;
    assert_eq!(
        events[0]["details"]["file_bytes"],
        std::fs::metadata(BANK_MEDIUM).unwrap().len()
    );
    app.stop().await;
}

async fn csv_needs_a_mapping_and_bad_rows_store_nothing(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (tenant, _, admin) = tenant_with_admin(&app, "acme").await;
    let acct = account(&app, &admin, "12345678").await;
    let account_field = ("account", acct.to_string());
    let without = upload(
        &app,
        &admin,
        CSV.into(),
        std::slice::from_ref(&account_field),
    )
    .await;
    assert_eq!(without.status(), 400);
    assert!(error_of(without).await.to_string().contains("mapping"));

    let saved = json!({"name": "first-bank", "mapping": mapping()});
    assert_eq!(
        post(&app, &admin, "/api/v1/import-mappings", saved)
            .await
            .status(),
        201
    );
    let fields = [account_field.clone(), ("mapping", "first-bank".to_owned())];
    let done = json_of(upload(&app, &admin, CSV.into(), &fields).await, 201).await;
    assert_eq!(
        (done["format"].as_str(), done["imported"].as_u64()),
        (Some("csv"), Some(3))
    );
    assert_eq!(done["mapping"], "first-bank");
    let listed = json_of(
        app.get_as(&admin, "/api/v1/transactions?source=csv").await,
        200,
    )
    .await;
    let amounts: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["amount"].as_str().unwrap())
        .collect();
    assert_eq!(
        amounts,
        ["-15.00", "4.20", "120.50"],
        "USD from the account, positive = out"
    );

    // One good row and two bad ones: refused whole, each bad row named, nothing stored.
    let bad = "Date,Payee,Details,Amount\n06/01/2026,A,Fine,-1.00\n31/02/2026,B,Bad date,-2.00\n07/01/2026,C,Bad amount,-1.2.3\n";
    let inline = [account_field, ("mapping", mapping().to_string())];
    let refused = upload(&app, &admin, bad.into(), &inline).await;
    assert_eq!(refused.status(), 422);
    let body = error_of(refused).await.to_string();
    assert!(body.contains("line 3") && body.contains("line 4"), "{body}");
    assert!(
        !body.contains("Bad amount"),
        "row text is not echoed: {body}"
    );
    assert_eq!(count(&app, backend, "spend_events").await, 3);
    assert_eq!(count(&app, backend, "ledger_imports").await, 1);

    // A viewer cannot import; another tenant's account is not found.
    let (_, viewer) = app.user_token(tenant, Role::Viewer).await;
    let forbidden = upload(&app, &viewer, CSV.into(), &[("account", acct.to_string())]).await;
    assert_eq!(forbidden.status(), 403);
    let (_, _, other) = tenant_with_admin(&app, "globex").await;
    let elsewhere = upload(
        &app,
        &other,
        std::fs::read(BANK_MEDIUM).unwrap(),
        &[("account", acct.to_string())],
    )
    .await;
    assert_eq!(elsewhere.status(), 404);
    app.stop().await;
}

async fn hostile_files_are_refused(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("AUDITPULSE_IMPORT_MAX_BYTES", "4096")]).await;
    let (_, _, admin) = tenant_with_admin(&app, "acme").await;
    let acct = account(&app, &admin, "12345678").await;
    let fields = [("account", acct.to_string())];
    let zip = b"PK\x03\x04\x14\x00\x00\x00\x08\x00rest-of-an-archive".to_vec();
    let refused = upload(&app, &admin, zip, &fields).await;
    assert_eq!(refused.status(), 422);
    assert!(error_of(refused).await.to_string().contains("unzip"));
    let big = vec![b'a'; 10_000];
    assert_eq!(upload(&app, &admin, big, &fields).await.status(), 413);
    let no_account = upload(&app, &admin, CSV.into(), &[]).await;
    assert_eq!(no_account.status(), 422);
    assert_eq!(count(&app, backend, "ledger_imports").await, 0);
    app.stop().await;
}

fn cli(app: &TestApp, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_auditpulse"));
    cmd.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", app.database_url())
        .env(auditpulse::config::vars::MASTER_KEYS, MASTER_KEY)
        .stdin(Stdio::null());
    cmd
}

/// Runs the command off the test's runtime: the app under test shares that runtime, and a
/// blocked runtime would freeze the app's own writers (holding SQLite's lock) until the command
/// timed out waiting for them.
async fn output(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("the binary runs"))
        .await
        .unwrap()
}

async fn the_cli_imports_and_a_kill_leaves_nothing(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (_, _, admin) = tenant_with_admin(&app, "acme").await;
    let acct = account(&app, &admin, "12345678").await;
    let acct_text = acct.to_string();
    let args = [
        "--verbose",
        "import",
        BANK_MEDIUM,
        "--tenant",
        "acme",
        "--account",
        &acct_text,
    ];
    let first = output(cli(&app, &args)).await;
    let said = String::from_utf8_lossy(&first.stdout).into_owned();
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(said.contains("imported 3 of 3"), "{said}");
    let again = output(cli(&app, &args)).await;
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("imported 0 of 3 transactions (3 already")
    );
    let missing = output(cli(
        &app,
        &[
            "import",
            "nope.ofx",
            "--tenant",
            "acme",
            "--account",
            &acct_text,
        ],
    ))
    .await;
    assert_eq!(missing.status.code(), Some(1));

    // A large CSV, killed with SIGKILL while it is being written: nothing of it is stored.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.csv");
    let mut big = String::from("Date,Payee,Details,Amount\n");
    for i in 0..15_000u32 {
        big.push_str(&format!(
            "{:02}/{:02}/2025,Vendor {},ref {i},-{}.{:02}\n",
            1 + i % 28,
            1 + i % 12,
            i % 500,
            1 + i % 900,
            i % 100
        ));
    }
    std::fs::write(&path, big).unwrap();
    let saved = json!({"name": "big", "mapping": mapping()});
    assert_eq!(
        post(&app, &admin, "/api/v1/import-mappings", saved)
            .await
            .status(),
        201
    );
    let big_path = path.to_str().unwrap();
    let big_args = [
        "import",
        big_path,
        "--tenant",
        "acme",
        "--account",
        &acct_text,
        "--mapping",
        "big",
    ];
    let mut child = cli(&app, &big_args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "the import was still running when killed"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(count(&app, backend, "spend_events").await, 3);
    assert_eq!(count(&app, backend, "ledger_imports").await, 2);
    let finished = output(cli(&app, &big_args)).await;
    assert_eq!(
        finished.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&finished.stderr)
    );
    assert_eq!(count(&app, backend, "spend_events").await, 15_003);
    app.stop().await;
}

crate::on_both_backends!(
    ofx_imports_once_and_says_so_the_second_time,
    csv_needs_a_mapping_and_bad_rows_store_nothing,
    hostile_files_are_refused,
    the_cli_imports_and_a_kill_leaves_nothing,
);
