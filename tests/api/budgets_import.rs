//! The seed's budget YAML on both backends: `auditpulse budgets import` creates the budgets and
//! price overrides a `budget_rules:` file describes, importing it again changes nothing, a file
//! with mistakes is refused whole with each mistake's line; `AUDITPULSE_BUDGETS_FILE` loads one
//! at start, and a bad one stops the start.

use std::process::{Command, Output, Stdio};

use auditpulse::config::vars;
use serde_json::Value;

use crate::accounts::{json_of, tenant_with_admin};
use crate::helpers::{Backend, TestApp, MASTER_KEY};
use crate::on_both_backends;

const SEED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/budgets/seed.yaml"
);
const MISTAKES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/budgets/mistakes.yaml"
);

fn cli(url: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_auditpulse"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", url)
        .env(vars::MASTER_KEYS, MASTER_KEY)
        .env(vars::LISTEN, "127.0.0.1:0")
        .env(vars::METRICS_LISTEN, "off")
        .stdin(Stdio::null());
    cmd
}

async fn output(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("the binary runs"))
        .await
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn budgets_of(app: &TestApp, token: &str) -> Vec<Value> {
    let listed = json_of(app.get_as(token, "/api/v1/budgets").await, 200).await;
    listed["items"].as_array().unwrap().clone()
}

async fn the_cli_imports_the_seed_layout_once(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (_, _, admin) = tenant_with_admin(&app, "acme").await;
    let url = app.database_url().to_owned();

    let out = output(cli(
        &url,
        &["budgets", "import", MISTAKES, "--tenant", "acme"],
    ))
    .await;
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = text(&out.stderr);
    assert!(err.contains("was refused, nothing changed"), "{err}");
    for expected in [
        "line 3: global.monthly_budgt: unknown key",
        "line 7: applications[0].monthly_budget: \"abc\" is not a decimal amount",
        "line 8: applications[1].name: \"reports\" is already used on line 6",
        "line 12: applications[1].model_preferences.backup: unknown key",
        "line 16: model_costs[\"mistral-large\"]: the provider cannot be told",
    ] {
        assert!(err.contains(expected), "{expected:?} in:\n{err}");
    }
    assert!(budgets_of(&app, &admin).await.is_empty());

    let out = output(cli(&url, &["budgets", "import", SEED, "--tenant", "acme"])).await;
    assert!(out.status.success(), "{out:?}");
    let said = text(&out.stdout);
    assert!(
        said.contains("5 budgets created, 0 updated, 3 price overrides"),
        "{said}"
    );
    let budgets = budgets_of(&app, &admin).await;
    let names: Vec<&str> = budgets
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "application nightly-summaries",
            "application support-bot",
            "global",
            "user analyst_7",
            "user ops-oncall"
        ]
    );
    let bot = &budgets[1];
    assert_eq!(bot["scope"]["kind"], "application");
    assert_eq!(bot["scope"]["value"], "support-bot");
    assert_eq!(bot["amount"], "800.00");
    assert_eq!(bot["period"], "month");
    assert_eq!(bot["swap_threshold"], 0.7);
    assert_eq!(
        bot["model_chain"],
        serde_json::json!(["gpt-4o", "gpt-4o-mini", "claude-3-5-haiku"])
    );
    let global = &budgets[2];
    assert_eq!(global["scope"]["kind"], "tenant");
    assert_eq!(global["spend"], "llm");
    assert_eq!(global["amount"], "2500.00");
    assert_eq!(budgets[4]["amount"], "0.10");
    // model_costs per 1K tokens are the tenant's overrides per million.
    let overrides = json_of(app.get_as(&admin, "/api/v1/prices/overrides").await, 200).await;
    let text_of = overrides.to_string();
    assert!(text_of.contains("\"claude-sonnet-4\""), "{text_of}");
    let gpt4o = overrides["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["model"] == "gpt-4o")
        .expect("gpt-4o override");
    assert_eq!(gpt4o["input"], "2.5");
    assert_eq!(gpt4o["output"], "10");
    assert_eq!(gpt4o["cache_read"], "1.25");

    // Again: nothing new.
    let out = output(cli(&url, &["budgets", "import", SEED, "--tenant", "acme"])).await;
    assert!(out.status.success(), "{out:?}");
    assert!(text(&out.stdout).contains("0 budgets created, 5 updated"));
    assert_eq!(budgets_of(&app, &admin).await.len(), 5);
    let out = output(cli(&url, &["budgets", "list", "--tenant", "acme"])).await;
    let listed = text(&out.stdout);
    assert!(
        listed.contains("gpt-4o > gpt-4o-mini > claude-3-5-haiku"),
        "{listed}"
    );
    let out = output(cli(
        &url,
        &["budgets", "import", SEED, "--tenant", "nobody"],
    ))
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no tenant nobody"));
}

on_both_backends!(the_cli_imports_the_seed_layout_once);

async fn a_file_named_at_start_is_loaded_and_a_bad_one_stops_it(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    tenant_with_admin(&app, "acme").await;
    let db = app.stop_keeping_db().await;

    let mut serve = cli(&db.url, &["serve"]);
    serve
        .env(vars::BUDGETS_FILE, MISTAKES)
        .env(vars::BUDGETS_TENANT, "acme")
        .env(vars::DATA_DIR, db.dir.path());
    let out = output(serve).await;
    assert!(!out.status.success(), "{out:?}");
    let err = text(&out.stderr);
    assert!(
        err.contains("line 3: global.monthly_budgt: unknown key"),
        "{err}"
    );

    let started = TestApp::spawn_with(
        backend,
        &[
            (vars::DATABASE_URL, db.url.as_str()),
            (vars::BUDGETS_FILE, SEED),
            (vars::BUDGETS_TENANT, "acme"),
        ],
    )
    .await;
    let token = started
        .login("admin@acme.example", crate::helpers::PASSWORD)
        .await
        .access_token;
    assert_eq!(budgets_of(&started, &token).await.len(), 5);
    drop(db);
}

on_both_backends!(a_file_named_at_start_is_loaded_and_a_bad_one_stops_it);
