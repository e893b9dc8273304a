//! Detection through its API: spend that arrives is scored by the job runner, cases explain
//! themselves with numbers, reviews are audited with sealed notes and tune thresholds, rescoring
//! raises no case twice, snoozes silence a rule, back-tests change nothing, retraining records
//! which model scored what. On both backends.

use std::time::Duration;

use auditpulse::auth::Role;
use auditpulse::detect::store::Targets;
use auditpulse::domain::{AccountId, TenantId};
use auditpulse::ledger::{Changes, NewSpend, Source};
use auditpulse::store::Time;
use serde_json::{json, Value};

use crate::accounts::{eventually, json_of, post, tenant_with_admin};
use crate::crypto::{contains, raw_column};
use crate::helpers::{error_of, Backend, TestApp};
use crate::ledger::{account, spend};
use crate::plaid_harness::fast_runner;

pub async fn app(backend: Backend) -> TestApp {
    TestApp::spawn_built(backend, &[], |b| b.job_runner(fast_runner())).await
}

pub async fn apply(app: &TestApp, tenant: TenantId, upserts: Vec<NewSpend>) {
    let changes = Changes {
        source: Source::Plaid,
        upserts,
        removals: Vec::new(),
    };
    app.state.ledger.apply(tenant, &changes).await.unwrap();
}

/// Waits until every transaction of `tenant` has a score.
pub async fn scored(app: &TestApp, tenant: TenantId) {
    let done = eventually(Duration::from_secs(20), || async {
        let left = app
            .state
            .store
            .score_targets(tenant, Targets::Unscored)
            .await;
        left.map(|l| l.is_empty()).unwrap_or(false)
    })
    .await;
    assert!(done, "spend was not scored");
}

async fn anomalies(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let page = json_of(
        app.get_as(token, &format!("/api/v1/anomalies?{query}"))
            .await,
        200,
    )
    .await;
    page["items"].as_array().unwrap().clone()
}

fn factor<'a>(anomaly: &'a Value, rule: &str) -> Option<&'a Value> {
    anomaly["factors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == rule)
}

/// Eight ordinary payments to `vendor` on days 1–8, so by day 10 it is neither new nor unusual.
pub fn routine(account: AccountId, vendor: &str, cents: i64) -> Vec<NewSpend> {
    (1..=8)
        .map(|day| {
            spend(
                &format!("{vendor}-{day}"),
                account,
                day,
                cents + day as i64,
                vendor,
            )
        })
        .collect()
}

async fn arriving_spend_becomes_explained_cases(backend: Backend) {
    let app = app(backend).await;
    let (tenant, _, admin) = tenant_with_admin(&app, "acme").await;
    let (_, auditor) = app.user_token(tenant, Role::Auditor).await;
    let (_, viewer) = app.user_token(tenant, Role::Viewer).await;
    let account = account(&app, &admin, "001234567890").await;
    let mut upserts = routine(account, "Globex Consulting", 120_000);
    upserts.extend(routine(account, "Initech", 90_000));
    upserts.push(spend("big", account, 10, 1_500_000, "Globex Consulting"));
    upserts.push(spend("near", account, 11, 999_999, "Initech"));
    apply(&app, tenant, upserts).await;
    scored(&app, tenant).await;

    // The 15,000.00 payment is a case that says why, in numbers; 9,999.99 is not a large amount.
    let large = anomalies(&app, &viewer, "rule=large_amount").await;
    assert_eq!(large.len(), 1, "{large:?}");
    let case = &large[0];
    assert_eq!(case["amount"], "15000.00");
    assert_eq!(case["status"], "open");
    assert!(case["risk"].as_i64().unwrap() >= 75, "{case}");
    let reason = factor(case, "large_amount").unwrap();
    assert_eq!(reason["strength"], 0.75);
    let sentence = reason["explanation"].as_str().unwrap();
    assert!(
        sentence.contains("15,000.00") && sentence.contains("10,000.00"),
        "{sentence}"
    );
    let id = case["id"].as_str().unwrap().to_owned();

    // Reading the case shows the transaction masked and its history.
    let detail = json_of(
        app.get_as(&viewer, &format!("/api/v1/anomalies/{id}"))
            .await,
        200,
    )
    .await;
    assert_eq!(detail["transaction"]["amount"], "15000.00");
    assert_eq!(detail["history"][0]["action"], "raised");
    // Viewers read only; auditors review, with a note sealed at rest and an audit event.
    let body = json!({"status": "closed", "outcome": "false_positive",
        "note": "Known retainer, contract GX-77"});
    let path = format!("/api/v1/anomalies/{id}/review");
    assert_eq!(post(&app, &viewer, &path, body.clone()).await.status(), 403);
    let reviewed = json_of(post(&app, &auditor, &path, body).await, 200).await;
    assert_eq!(reviewed["anomaly"]["status"], "closed");
    assert_eq!(reviewed["anomaly"]["outcome"], "false_positive");
    assert_eq!(
        reviewed["anomaly"]["history"][1]["note"],
        "Known retainer, contract GX-77"
    );
    let notes = raw_column(
        backend,
        app.database_url(),
        "SELECT note_ciphertext FROM anomaly_events WHERE note_ciphertext IS NOT NULL",
    )
    .await;
    assert_eq!(notes.len(), 1);
    assert!(!contains(&notes[0], b"GX-77"));
    crate::accounts::audited(&app, &admin, "anomaly.review").await;
    let bad = post(&app, &auditor, &path, json!({"status": "archived"})).await;
    assert_eq!(bad.status(), 422);

    // Rescoring everything raises no case twice.
    let run = post(&app, &admin, "/api/v1/detection/run", json!({})).await;
    assert_eq!(run.status(), 202);
    let requested = Time(auditpulse::domain::time::now());
    let rescored = eventually(Duration::from_secs(20), || async {
        let left = app
            .state
            .store
            .score_targets(
                tenant,
                Targets::Backfill {
                    from: None,
                    before: requested,
                },
            )
            .await;
        left.map(|l| l.is_empty()).unwrap_or(false)
    })
    .await;
    assert!(rescored);
    assert_eq!(anomalies(&app, &viewer, "rule=large_amount").await.len(), 1);
    let detail = json_of(
        app.get_as(&viewer, &format!("/api/v1/anomalies/{id}"))
            .await,
        200,
    )
    .await;
    let raised = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "raised");
    assert_eq!(raised.count(), 1);

    // Another tenant sees none of it.
    let (_, _, stranger) = tenant_with_admin(&app, "globex").await;
    assert!(anomalies(&app, &stranger, "").await.is_empty());
    assert_eq!(
        app.get_as(&stranger, &format!("/api/v1/anomalies/{id}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        post(&app, &stranger, &path, json!({"status": "open"}))
            .await
            .status(),
        404
    );
}

async fn reviews_tune_thresholds_and_settings_record_why(backend: Backend) {
    let app = app(backend).await;
    let (tenant, _, admin) = tenant_with_admin(&app, "acme").await;
    let account = account(&app, &admin, "001234567890").await;
    let mut upserts = routine(account, "Globex Consulting", 1_100_000);
    upserts.extend((0..12).map(|i| {
        spend(
            &format!("retainer-{i}"),
            account,
            10 + i / 4,
            1_200_000 + i64::from(i),
            "Globex Consulting",
        )
    }));
    apply(&app, tenant, upserts).await;
    scored(&app, tenant).await;
    let cases = anomalies(&app, &admin, "rule=large_amount&limit=200").await;
    assert!(cases.len() >= 12, "{}", cases.len());
    let mut tuned = Vec::new();
    for case in &cases {
        let path = format!("/api/v1/anomalies/{}/review", case["id"].as_str().unwrap());
        let body = json!({"status": "closed", "outcome": "false_positive"});
        let result = json_of(post(&app, &admin, &path, body).await, 200).await;
        tuned.extend(result["tuning"].as_array().unwrap().clone());
    }
    // All false positives: the large-amount limit rose by 20 %, with the reason recorded.
    let change = tuned
        .iter()
        .find(|c| c["rule"] == "large_amount")
        .expect("tuning changed it");
    let (from, to): (f64, f64) = (
        change["from"].as_str().unwrap().parse().unwrap(),
        change["to"].as_str().unwrap().parse().unwrap(),
    );
    assert!((to / from - 1.2).abs() < 1e-9, "{change}");
    let settings = json_of(app.get_as(&admin, "/api/v1/detection/config").await, 200).await;
    let recorded = &settings["changes"][0];
    assert_eq!(recorded["actor"], "tuning");
    assert_eq!(recorded["rule"], "large_amount");
    assert!(
        recorded["reason"].as_str().unwrap().contains("false"),
        "{recorded}"
    );

    // Presets set every threshold at once; only detection:configure may.
    let (_, auditor) = app.user_token(tenant, Role::Auditor).await;
    let preset = json!({"preset": "high"});
    let put = |token: String, body: Value| {
        let app = &app;
        async move {
            app.client
                .put(app.url("/api/v1/detection/config"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(put(auditor.clone(), preset.clone()).await.status(), 403);
    let high = json_of(put(admin.clone(), preset).await, 200).await;
    assert_eq!(high["changes"][0]["to"], "high");
    assert_ne!(high["config"], settings["config"]);
    let both = put(
        admin.clone(),
        json!({"preset": "low", "config": high["config"]}),
    )
    .await;
    assert_eq!(both.status(), 422);

    // A back-test answers without changing anything.
    let body = json!({"from": "2026-03-01", "to": "2026-03-31", "preset": "low"});
    let test = json_of(
        post(&app, &admin, "/api/v1/detection/backtest", body).await,
        200,
    )
    .await;
    assert_eq!(test["transactions"], 20);
    assert!(
        test["proposed"]["anomalies"].as_u64().unwrap()
            <= test["current"]["anomalies"].as_u64().unwrap()
    );
    let after = json_of(app.get_as(&admin, "/api/v1/detection/config").await, 200).await;
    assert_eq!(after["config"], high["config"]);
    let reversed = json!({"from": "2026-03-31", "to": "2026-03-01", "preset": "low"});
    let refused = post(&app, &admin, "/api/v1/detection/backtest", reversed).await;
    assert_eq!(error_of(refused).await["fields"][0]["field"], "to");
}

async fn snoozes_silence_a_rule_for_a_vendor(backend: Backend) {
    let app = app(backend).await;
    let (tenant, _, admin) = tenant_with_admin(&app, "acme").await;
    let account = account(&app, &admin, "001234567890").await;
    let until = (auditpulse::domain::time::now() + chrono::Duration::days(7)).to_rfc3339();
    let body = json!({"rule": "large_amount", "vendor": "GLOBEX  consulting", "until": until});
    let snooze = json_of(
        post(&app, &admin, "/api/v1/detection/snoozes", body).await,
        201,
    )
    .await;
    assert_eq!(
        snooze["target"],
        json!({"kind": "vendor", "value": "globex consulting"})
    );
    let mut upserts = routine(account, "Globex Consulting", 1_500_000);
    upserts.extend(routine(account, "Initech", 1_500_000));
    apply(&app, tenant, upserts).await;
    scored(&app, tenant).await;
    let large = anomalies(&app, &admin, "rule=large_amount&limit=200").await;
    assert!(!large.is_empty());
    assert!(large.iter().all(|a| a["vendor"] == "initech"), "{large:?}");
    // Nonsense is refused with the field named.
    let past = json!({"rule": "large_amount", "vendor": "x", "until": "2020-01-01T00:00:00Z"});
    let refused = post(&app, &admin, "/api/v1/detection/snoozes", past).await;
    assert_eq!(error_of(refused).await["fields"][0]["field"], "until");
    let list = json_of(app.get_as(&admin, "/api/v1/detection/snoozes").await, 200).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let id = snooze["id"].as_str().unwrap();
    let gone =
        crate::accounts::delete(&app, &admin, &format!("/api/v1/detection/snoozes/{id}")).await;
    assert_eq!(gone.status(), 204);
}

async fn retraining_records_which_model_scored_what(backend: Backend) {
    let app = app(backend).await;
    let (tenant, _, admin) = tenant_with_admin(&app, "acme").await;
    let account = account(&app, &admin, "001234567890").await;
    let vendors = [
        "Aws", "Gcp", "Stripe", "Slack", "Notion", "Figma", "Github", "Zoom",
    ];
    let upserts: Vec<NewSpend> = (0..240)
        .map(|i: u32| {
            let vendor = vendors[i as usize % vendors.len()];
            let cents =
                10_000 + i64::from(i % 7) * 1_000 + (i as usize % vendors.len()) as i64 * 5_000;
            spend(&format!("p{i}"), account, 1 + i % 28, cents, vendor)
        })
        .collect();
    apply(&app, tenant, upserts).await;
    scored(&app, tenant).await;
    let retrain = post(&app, &admin, "/api/v1/detection/retrain", json!({})).await;
    assert_eq!(retrain.status(), 202);
    let trained = eventually(Duration::from_secs(20), || async {
        let settings = json_of(app.get_as(&admin, "/api/v1/detection/config").await, 200).await;
        settings["models"].as_array().is_some_and(|m| !m.is_empty())
    })
    .await;
    assert!(trained);
    let settings = json_of(app.get_as(&admin, "/api/v1/detection/config").await, 200).await;
    let model = &settings["models"][0];
    assert_eq!(model["version"], 1);
    assert_eq!(model["training_rows"], 240);
    // What arrives next is scored by that model, and the score says so.
    apply(
        &app,
        tenant,
        vec![spend("after", account, 28, 12_345, "Aws")],
    )
    .await;
    scored(&app, tenant).await;
    let ids = app.state.store.detection_txns(tenant).await.unwrap();
    let after = ids.iter().find(|t| t.amount_minor == 12_345).unwrap();
    let score = app
        .state
        .store
        .risk_score(tenant, after.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        score.model_id.map(|m| m.to_string()),
        model["id"].as_str().map(str::to_owned)
    );

    // Benford's law speaks of vendors and accounts with enough payments.
    let mut config = settings["config"].clone();
    config["benford_min_payments"] = json!(30);
    let put = app
        .client
        .put(app.url("/api/v1/detection/config"))
        .bearer_auth(&admin)
        .json(&json!({"config": config}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let benford = json_of(app.get_as(&admin, "/api/v1/detection/benford").await, 200).await;
    let items = benford["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .any(|f| f["subject"] == "account" && f["payments"] == 241),
        "{items:?}"
    );
    assert!(items.iter().all(|f| f["payments"].as_u64().unwrap() >= 30));
}

async fn an_imported_statement_is_scored(backend: Backend) {
    let app = app(backend).await;
    let (tenant, _, admin) = tenant_with_admin(&app, "acme").await;
    let account = account(&app, &admin, "001234567890").await;
    let saved = json!({"name": "bank", "mapping": crate::ledger_import::mapping()});
    assert_eq!(
        post(&app, &admin, "/api/v1/import-mappings", saved)
            .await
            .status(),
        201
    );
    let mut csv = String::from("Date,Payee,Details,Amount\n");
    for day in 1..=8 {
        csv.push_str(&format!("0{day}/03/2026,Initech,Licences,-90{day}.00\n"));
    }
    csv.push_str("10/03/2026,Initech,Licences,-24000.00\n");
    let fields = [
        ("account", account.to_string()),
        ("mapping", "bank".to_owned()),
    ];
    let done = crate::ledger_import::upload(&app, &admin, csv.into_bytes(), &fields).await;
    assert_eq!(json_of(done, 201).await["imported"], 9);
    scored(&app, tenant).await;
    let cases = anomalies(&app, &admin, "").await;
    assert_eq!(cases.len(), 1, "{cases:?}");
    assert_eq!(cases[0]["amount"], "24000.00");
    assert!(factor(&cases[0], "large_amount").is_some());
    assert!(
        factor(&cases[0], "vendor_outlier").is_some(),
        "{}",
        cases[0]
    );
}

crate::on_both_backends!(
    an_imported_statement_is_scored,
    arriving_spend_becomes_explained_cases,
    reviews_tune_thresholds_and_settings_record_why,
    snoozes_silence_a_rule_for_a_vendor,
    retraining_records_which_model_scored_what,
);
