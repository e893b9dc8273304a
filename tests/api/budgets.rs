//! Budgets through `/api/v1/budgets` on both backends: administrators create, change and delete
//! them (audited), viewers read them, bad bodies name their fields, tenants are isolated; the
//! status sums exactly the spend a budget's scope covers this period (LLM calls in nano-dollars,
//! bank spend in cents, linked and removed events left out); thresholds alert once per period.

use std::time::Duration;

use auditpulse::auth::Role;
use auditpulse::domain::{time, Currency, LlmCallId, Money, TenantId};
use auditpulse::gateway::calls::{Attribution, CallOutcome, CallSource, NewCall, Writer};
use auditpulse::gateway::{Provider, Usage};
use auditpulse::ledger::{Changes, NewSpend, Source, SpendStatus};
use auditpulse::security::{SecurityAlertFilter, SecurityAlertKind};
use auditpulse::store::Scope;
use serde_json::{json, Value};

use crate::accounts::{audited, delete, eventually, json_of, patch, post, tenant_with_admin, user};
use crate::helpers::{Backend, TestApp, PASSWORD};
use crate::ledger::account;
use crate::on_both_backends;

/// A priced gpt-4o-mini call a minute ago: 150 nanos per input token, 600 per output token.
pub fn call(tenant: TenantId, app: Option<&str>, input: u64, output: u64) -> NewCall {
    NewCall {
        id: LlmCallId::new(),
        tenant,
        source: CallSource::Gateway,
        api_key: None,
        provider: Provider::OpenAi,
        endpoint: "chat.completions",
        attribution: Attribution {
            application: app.map(str::to_owned),
            project: None,
            end_user: None,
        },
        model_requested: Some("gpt-4o-mini".into()),
        swapped_to: None,
        model_answered: Some("gpt-4o-mini".into()),
        response_id: None,
        streamed: false,
        http_status: Some(200),
        outcome: CallOutcome::Completed,
        usage: Some(Usage::from_openai(input, 0, 0, output, 0)),
        started_at: time::now() - chrono::Duration::seconds(60),
        latency_us: 1_000,
        ttft_us: None,
        error: None,
    }
}

pub fn writer(app: &TestApp) -> Writer {
    Writer {
        store: app.state.store.clone(),
        ledger: app.state.ledger.clone(),
        prices: app.state.prices.clone(),
        observer: None,
        budgets: Some(app.state.budgets.clone()),
    }
}

fn bank(reference: &str, account: auditpulse::domain::AccountId, cents: i64) -> NewSpend {
    let now = time::now() - chrono::Duration::seconds(30);
    NewSpend {
        source: Source::Csv,
        source_ref: reference.to_owned(),
        account: Some(account),
        occurred_at: now,
        booked_on: now.date_naive(),
        amount: Money::new(cents, Currency::parse("USD").unwrap()),
        status: SpendStatus::Posted,
        counterparty: Some("AMAZON MKTPLACE PMTS 1234".into()),
        category: Some("software".into()),
        description: None,
        replaces: None,
    }
}

async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    json_of(post(app, token, "/api/v1/budgets", body).await, 201).await
}

async fn status(app: &TestApp, token: &str, id: &str) -> Value {
    json_of(
        app.get_as(token, &format!("/api/v1/budgets/{id}/status"))
            .await,
        200,
    )
    .await
}

async fn admins_manage_budgets_and_viewers_read_them(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (a, _, admin) = tenant_with_admin(&app, "acme").await;
    let budget = create(
        &app,
        &admin,
        json!({"name": "bot monthly", "scope": {"kind": "application", "value": "bot"},
               "period": "month", "amount": "500.00", "currency": "usd",
               "swap_threshold": 0.75, "model_chain": ["gpt-4o", "gpt-4o-mini"],
               "hard_limit": true}),
    )
    .await;
    assert_eq!(budget["amount"], "500.00");
    assert_eq!(budget["currency"], "USD");
    assert_eq!(budget["spend"], "llm");
    assert_eq!(budget["alert_thresholds"], json!([0.5, 0.8, 1]));
    assert_eq!(budget["swap_threshold"], json!(0.75));
    let id = budget["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/budgets/{id}");

    // The same name twice is a conflict; bad fields are named, values not echoed.
    let again = post(
        &app,
        &admin,
        "/api/v1/budgets",
        json!({"name": "bot monthly", "scope": {"kind": "tenant"}, "period": "day",
               "amount": "1", "currency": "USD"}),
    )
    .await;
    assert_eq!(again.status(), 409);
    let bad = json_of(
        post(
            &app,
            &admin,
            "/api/v1/budgets",
            json!({"name": "rent", "scope": {"kind": "vendor", "value": "Landlord"},
                   "period": "month", "amount": "12.345", "currency": "EUR",
                   "hard_limit": true}),
        )
        .await,
        422,
    )
    .await;
    let fields: Vec<&str> = bad["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"amount") && fields.contains(&"hard_limit"),
        "{bad}"
    );
    let zero = json_of(
        post(
            &app,
            &admin,
            "/api/v1/budgets",
            json!({"name": "z", "scope": {"kind": "tenant"}, "period": "day", "amount": "1",
                   "currency": "USD", "alert_thresholds": [0.5, 0]}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(zero["error"]["fields"][0]["field"], "alert_thresholds[1]");
    let llm_in_euro = post(
        &app,
        &admin,
        "/api/v1/budgets",
        json!({"name": "eu", "scope": {"kind": "project", "value": "x"}, "period": "week",
               "amount": "10", "currency": "EUR"}),
    )
    .await;
    assert_eq!(llm_in_euro.status(), 422);

    // A patch changes what it names; null clears.
    let changed = json_of(
        patch(
            &app,
            &admin,
            &path,
            json!({"amount": "750", "swap_threshold": null, "alert_thresholds": [0.9]}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(changed["amount"], "750.00");
    assert_eq!(changed["swap_threshold"], Value::Null);
    assert_eq!(changed["alert_thresholds"], json!([0.9]));
    assert_eq!(changed["hard_limit"], true);
    let events = audited(&app, &admin, "budgets.update").await;
    assert_eq!(events.len(), 1, "{events:?}");

    // Viewers read; only administrators change.
    user(&app, a, "viewer@acme.example", Role::Viewer).await;
    let viewer = app
        .login("viewer@acme.example", PASSWORD)
        .await
        .access_token;
    let listed = json_of(app.get_as(&viewer, "/api/v1/budgets").await, 200).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        patch(&app, &viewer, &path, json!({"amount": "1"}))
            .await
            .status(),
        403
    );
    assert_eq!(delete(&app, &viewer, &path).await.status(), 403);

    // Another tenant sees nothing of it.
    let (_, _, other) = tenant_with_admin(&app, "globex").await;
    assert_eq!(app.get_as(&other, &path).await.status(), 404);
    assert_eq!(delete(&app, &other, &path).await.status(), 404);

    assert_eq!(delete(&app, &admin, &path).await.status(), 204);
    assert_eq!(app.get_as(&admin, &path).await.status(), 404);
    assert_eq!(audited(&app, &admin, "budgets.delete").await.len(), 1);
}

on_both_backends!(admins_manage_budgets_and_viewers_read_them);

async fn status_sums_exactly_what_the_scope_covers(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (a, _, admin) = tenant_with_admin(&app, "acme").await;
    let (b, _, _) = tenant_with_admin(&app, "globex").await;
    // bot: 10,000 x 150 + 5,000 x 600 = 4,500,000 nanos; 20,000 x 150 + 1,000 x 600 =
    // 3,600,000. helpdesk: 100 x 150 = 15,000. Tenant b's call is not a's.
    writer(&app)
        .write(&[
            call(a, Some("bot"), 10_000, 5_000),
            call(a, Some("bot"), 20_000, 1_000),
            call(a, Some("helpdesk"), 100, 0),
            call(b, Some("bot"), 1_000_000, 0),
        ])
        .await
        .unwrap();
    let checking = account(&app, &admin, "000123456789").await;
    let changes = Changes {
        source: Source::Csv,
        upserts: vec![
            bank("r1", checking, 1_234),
            bank("r2", checking, 10_000),
            bank("gone", checking, 500_000),
        ],
        removals: vec![],
    };
    app.state.ledger.apply(a, &changes).await.unwrap();
    let removal = Changes {
        source: Source::Csv,
        upserts: vec![],
        removals: vec!["gone".into()],
    };
    app.state.ledger.apply(a, &removal).await.unwrap();

    let bot = create(
        &app,
        &admin,
        json!({"name": "bot", "scope": {"kind": "application", "value": "bot"},
               "period": "month", "amount": "0.01", "currency": "USD"}),
    )
    .await;
    let got = status(&app, &admin, bot["id"].as_str().unwrap()).await;
    assert_eq!(got["spent"], "0.008100000");
    assert_eq!(got["remaining"], "0.001900000");
    assert_eq!(got["reserved"], "0.000000000");
    assert_eq!(got["used"], "0.8100");
    assert_eq!(got["thresholds_reached"], json!([0.5, 0.8]));
    assert_eq!(got["blocked"], false);
    let start: chrono::DateTime<chrono::Utc> =
        got["period_start"].as_str().unwrap().parse().unwrap();
    let end: chrono::DateTime<chrono::Utc> = got["period_end"].as_str().unwrap().parse().unwrap();
    assert!(start <= time::now() && time::now() < end);
    // The projection runs the period's rate to its end: never below what was spent.
    let projection: f64 = got["projection"].as_str().unwrap().parse().unwrap();
    assert!(projection >= 0.0081, "{got}");

    // The vendor budget matches the normalised counterparty; removed spend is not counted.
    let vendor = create(
        &app,
        &admin,
        json!({"name": "amazon", "scope": {"kind": "vendor", "value": "Amazon Mktplace Pmts"},
               "period": "week", "amount": "200", "currency": "USD"}),
    )
    .await;
    let got = status(&app, &admin, vendor["id"].as_str().unwrap()).await;
    assert_eq!(got["spent"], "112.34");
    assert_eq!(got["used"], "0.5617");

    // The whole tenant, both kinds of spend, in nano-dollars.
    let all = create(
        &app,
        &admin,
        json!({"name": "everything", "scope": {"kind": "tenant"}, "period": "day",
               "amount": "1000", "currency": "USD"}),
    )
    .await;
    assert_eq!(all["spend"], "all");
    let got = status(&app, &admin, all["id"].as_str().unwrap()).await;
    assert_eq!(got["spent"], "112.348115000");
    let llm_only = create(
        &app,
        &admin,
        json!({"name": "llm", "scope": {"kind": "tenant"}, "spend": "llm", "period": "day",
               "amount": "1000", "currency": "USD"}),
    )
    .await;
    let got = status(&app, &admin, llm_only["id"].as_str().unwrap()).await;
    assert_eq!(got["spent"], "0.008115000");
}

on_both_backends!(status_sums_exactly_what_the_scope_covers);

async fn thresholds_alert_once_per_period(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("AUDITPULSE_BUDGET_EVALUATE_INTERVAL", "1s")]).await;
    let (a, _, admin) = tenant_with_admin(&app, "acme").await;
    let budget = create(
        &app,
        &admin,
        json!({"name": "bot", "scope": {"kind": "application", "value": "bot"},
               "period": "month", "amount": "0.01", "currency": "USD"}),
    )
    .await;
    // 8,100,000 nanos of 10,000,000: past 50 % and 80 %, not 100 %.
    writer(&app)
        .write(&[
            call(a, Some("bot"), 10_000, 5_000),
            call(a, Some("bot"), 20_000, 1_000),
        ])
        .await
        .unwrap();
    let filter = SecurityAlertFilter {
        kind: Some(SecurityAlertKind::BudgetThreshold),
        ..SecurityAlertFilter::default()
    };
    let store = app.state.store.clone();
    let alerts = || async {
        store
            .list_alerts(Scope::Tenant(a), &filter, 50)
            .await
            .unwrap()
    };
    assert!(
        eventually(Duration::from_secs(10), || async {
            alerts().await.len() >= 2
        })
        .await,
        "two threshold alerts"
    );
    // Further rounds raise nothing new.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let raised = alerts().await;
    assert_eq!(raised.len(), 2, "{raised:?}");
    let mut summaries: Vec<&str> = raised.iter().map(|a| a.summary.as_str()).collect();
    summaries.sort();
    assert!(summaries[0].contains("reached 50 %") && summaries[1].contains("reached 80 %"));
    assert!(
        summaries[1].contains("0.008100000 of 0.010000000 USD"),
        "{summaries:?}"
    );
    assert_eq!(
        raised[0].subject,
        format!("budget {}", budget["id"].as_str().unwrap())
    );
    // Reaching 100 % raises the last one, once.
    writer(&app)
        .write(&[call(a, Some("bot"), 20_000, 0)])
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            alerts().await.len() == 3
        })
        .await,
        "the 100 % alert"
    );
}

on_both_backends!(thresholds_alert_once_per_period);

async fn a_crashed_calls_reservation_expires_and_a_late_one_still_counts(backend: Backend) {
    use auditpulse::budgets::store::{PeriodKey, Reservation, Settlement};
    use auditpulse::store::Time;

    let app = TestApp::spawn_with(backend, &[]).await;
    let (a, _, admin) = tenant_with_admin(&app, "acme").await;
    let budget = create(
        &app,
        &admin,
        json!({"name": "cap", "scope": {"kind": "tenant"}, "spend": "llm", "period": "month",
               "amount": "1", "currency": "USD", "hard_limit": true}),
    )
    .await;
    let id: auditpulse::domain::BudgetId = budget["id"].as_str().unwrap().parse().unwrap();
    let store = app.state.store.clone();
    let now = time::now();
    let (start, _) = auditpulse::budgets::period::window(
        auditpulse::budgets::Period::Month,
        chrono_tz::UTC,
        now,
    );
    let key = PeriodKey {
        budget: id,
        start: Time(start),
    };
    // Two calls reserve 300,000 nanos each; one of them expired a second ago (its instance died).
    let (crashed, late) = (LlmCallId::new(), LlmCallId::new());
    for (call, expires) in [
        (crashed, now - chrono::Duration::seconds(1)),
        (late, now - chrono::Duration::seconds(1)),
    ] {
        let keys = [key];
        let one = Reservation {
            call,
            keys: &keys,
            expires_at: Time(expires),
            decide: &|_| Some(vec![300_000]),
        };
        let done = store.reserve_batch(a, &[one]).await.unwrap();
        assert!(done[0].1);
    }
    let committed = |store: std::sync::Arc<dyn auditpulse::app::Store>| async move {
        let keys = [key];
        // Refused: only reads the counter.
        let read = Reservation {
            call: LlmCallId::new(),
            keys: &keys,
            expires_at: Time(now),
            decide: &|_| None,
        };
        store.reserve_batch(a, &[read]).await.unwrap()[0].0[0].committed
    };
    assert_eq!(committed(store.clone()).await, 600_000);
    assert_eq!(store.expire_reservations(Time(now)).await.unwrap(), 2);
    assert_eq!(
        committed(store.clone()).await,
        0,
        "expired reservations are given back"
    );
    assert_eq!(store.expire_reservations(Time(now)).await.unwrap(), 0);
    // The late call is recorded after all: its exact cost counts, once.
    for _ in 0..2 {
        store
            .settle(
                a,
                &[Settlement {
                    call: late,
                    actual: 123_456,
                }],
            )
            .await
            .unwrap();
    }
    assert_eq!(committed(store.clone()).await, 123_456);
}

on_both_backends!(a_crashed_calls_reservation_expires_and_a_late_one_still_counts);
