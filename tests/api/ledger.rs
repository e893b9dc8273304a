//! The ledger through its API: accounts with masked numbers, transactions filtered and paged,
//! idempotent writes, pending charges that post as one event, free text sealed at rest, vendors
//! and saved CSV mappings. On both backends.

use auditpulse::auth::Role;
use auditpulse::crypto::Rotation;
use auditpulse::domain::{AccountId, Currency, Money, TenantId};
use auditpulse::ledger::{Changes, NewSpend, Source, SpendStatus};
use chrono::{NaiveDate, TimeZone, Utc};
use serde_json::{json, Value};

use crate::accounts::{delete, json_of, post, tenant_with_admin};
use crate::crypto::{contains, raw_column, raw_count};
use crate::helpers::{error_of, Backend, TestApp};

pub async fn account(app: &TestApp, token: &str, number: &str) -> AccountId {
    let body = json!({"name": "Operating", "kind": "checking", "currency": "USD",
        "number": number, "institution": "First Bank"});
    let created = json_of(post(app, token, "/api/v1/accounts", body).await, 201).await;
    created["id"].as_str().unwrap().parse().unwrap()
}

pub fn spend(reference: &str, account: AccountId, day: u32, cents: i64, who: &str) -> NewSpend {
    let usd = Currency::parse("USD").unwrap();
    NewSpend {
        source: Source::Plaid,
        source_ref: reference.to_owned(),
        account: Some(account),
        occurred_at: Utc.with_ymd_and_hms(2026, 3, day, 12, 0, 0).unwrap(),
        booked_on: NaiveDate::from_ymd_opt(2026, 3, day).unwrap(),
        amount: Money::new(cents, usd),
        status: SpendStatus::Posted,
        counterparty: Some(who.to_owned()),
        category: Some("software".to_owned()),
        description: Some(format!("card payment to {who} ref {reference}")),
        replaces: None,
    }
}

async fn apply(app: &TestApp, tenant: TenantId, upserts: Vec<NewSpend>, removals: &[&str]) {
    let changes = Changes {
        source: Source::Plaid,
        upserts,
        removals: removals.iter().map(|r| (*r).to_owned()).collect(),
    };
    app.state.ledger.apply(tenant, &changes).await.unwrap();
}

async fn page(app: &TestApp, token: &str, query: &str) -> Value {
    json_of(
        app.get_as(token, &format!("/api/v1/transactions?{query}"))
            .await,
        200,
    )
    .await
}

fn refs(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["source_ref"].as_str().unwrap().to_owned())
        .collect()
}

async fn accounts_show_only_the_mask(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (tenant, _, admin) = tenant_with_admin(&app, "acme").await;
    let id = account(&app, &admin, "DE89 3704 0044 0532 0130 00").await;
    let one = json_of(
        app.get_as(&admin, &format!("/api/v1/accounts/{id}")).await,
        200,
    )
    .await;
    assert_eq!(one["mask"], "****3000");
    assert_eq!(one["currency"], "USD");
    let listed = json_of(app.get_as(&admin, "/api/v1/accounts").await, 200).await;
    let text = listed.to_string();
    assert!(
        text.contains("****3000") && !text.contains("0532"),
        "{text}"
    );
    let sealed = raw_column(
        backend,
        app.database_url(),
        "SELECT number_ciphertext FROM ledger_accounts",
    )
    .await;
    assert_eq!(sealed.len(), 1);
    assert!(!contains(&sealed[0], b"0532 0130"));

    // A viewer reads but cannot declare accounts; another tenant sees nothing.
    let (_, viewer) = app.user_token(tenant, Role::Viewer).await;
    assert_eq!(app.get_as(&viewer, "/api/v1/accounts").await.status(), 200);
    let refused = post(
        &app,
        &viewer,
        "/api/v1/accounts",
        json!({"name": "x", "kind": "checking",
        "currency": "USD"}),
    )
    .await;
    assert_eq!(refused.status(), 403);
    let (_, _, other) = tenant_with_admin(&app, "globex").await;
    assert_eq!(
        app.get_as(&other, &format!("/api/v1/accounts/{id}"))
            .await
            .status(),
        404
    );
    let bad = post(
        &app,
        &admin,
        "/api/v1/accounts",
        json!({"name": "", "kind": "checking",
        "currency": "XAU"}),
    )
    .await;
    assert_eq!(bad.status(), 422);
    let fields = error_of(bad).await.to_string();
    assert!(
        fields.contains("name") && fields.contains("currency"),
        "{fields}"
    );
    app.stop().await;
}

async fn transactions_filter_page_and_stay_one_event(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (tenant, _, admin) = tenant_with_admin(&app, "acme").await;
    let acct = account(&app, &admin, "12345678").await;
    let other = account(&app, &admin, "87654321").await;
    let mut batch: Vec<NewSpend> = (1..=20)
        .map(|d| {
            spend(
                &format!("tx-{d:02}"),
                acct,
                d,
                1000 * i64::from(d),
                "AWS EMEA 7731",
            )
        })
        .collect();
    batch.push(spend(
        "tx-other",
        other,
        5,
        99_999,
        "Amazon Mktplace Pmts 1234",
    ));
    let mut pending = spend("pend-1", acct, 21, 4_500, "Coffee Roasters");
    pending.status = SpendStatus::Pending;
    batch.push(pending);
    apply(&app, tenant, batch.clone(), &[]).await;
    // The same changes again change nothing.
    apply(&app, tenant, batch, &[]).await;
    let all = page(&app, &admin, "limit=200").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 22);

    // Pages of 8 cover every event once, newest first.
    let mut seen = Vec::new();
    let mut query = "limit=8".to_owned();
    loop {
        let p = page(&app, &admin, &query).await;
        seen.extend(refs(&p));
        match p["next_cursor"].as_str() {
            Some(c) => query = format!("limit=8&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 22);
    assert_eq!(seen[0], "pend-1");
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 22);

    // Filters combine.
    let q = format!("account={acct}&from=2026-03-05&to=2026-03-10&currency=USD&min_amount=70.00");
    assert_eq!(
        refs(&page(&app, &admin, &q).await),
        ["tx-10", "tx-09", "tx-08", "tx-07"]
    );
    let by_vendor = page(&app, &admin, "counterparty=amazon%20MKTPLACE%20pmts").await;
    assert_eq!(refs(&by_vendor), ["tx-other"]);
    let item = &by_vendor["items"][0];
    assert_eq!(item["amount"], "999.99");
    assert_eq!(item["amount_minor"], 99_999);
    assert_eq!(item["counterparty"], "Amazon Mktplace Pmts 1234");
    assert_eq!(item["counterparty_normalized"], "amazon mktplace pmts");
    assert_eq!(
        refs(&page(&app, &admin, "status=pending").await),
        ["pend-1"]
    );
    let needs_currency = app
        .get_as(&admin, "/api/v1/transactions?min_amount=5")
        .await;
    assert_eq!(needs_currency.status(), 400);
    let bad_cursor = app
        .get_as(&admin, "/api/v1/transactions?cursor=bm9wZQ")
        .await;
    assert_eq!(bad_cursor.status(), 400);

    // The pending charge posts under a new reference: still one event, same id, now posted.
    let pending_id = page(&app, &admin, "status=pending").await["items"][0]["id"].clone();
    let mut posted = spend("post-1", acct, 22, 4_750, "Coffee Roasters");
    posted.replaces = Some("pend-1".to_owned());
    apply(&app, tenant, vec![posted], &["pend-1"]).await;
    let now = page(&app, &admin, "counterparty=coffee%20roasters").await;
    assert_eq!(refs(&now), ["post-1"]);
    assert_eq!(now["items"][0]["id"], pending_id);
    assert_eq!(now["items"][0]["status"], "posted");
    assert_eq!(now["items"][0]["amount_minor"], 4_750);

    // A removal hides the event; a single event reads by id; others' ids are not found.
    apply(&app, tenant, vec![], &["tx-01"]).await;
    assert_eq!(
        page(&app, &admin, "limit=200").await["items"]
            .as_array()
            .unwrap()
            .len(),
        21
    );
    let id = now["items"][0]["id"].as_str().unwrap();
    let one = json_of(
        app.get_as(&admin, &format!("/api/v1/transactions/{id}"))
            .await,
        200,
    )
    .await;
    assert_eq!(one["source_ref"], "post-1");
    let (_, _, stranger) = tenant_with_admin(&app, "globex").await;
    let hidden = app
        .get_as(&stranger, &format!("/api/v1/transactions/{id}"))
        .await;
    assert_eq!(hidden.status(), 404);
    assert!(refs(&page(&app, &stranger, "").await).is_empty());
    app.stop().await;
}

async fn free_text_is_sealed_and_rotates(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (tenant, _, admin) = tenant_with_admin(&app, "acme").await;
    let acct = account(&app, &admin, "12345678").await;
    apply(
        &app,
        tenant,
        vec![spend("tx-1", acct, 3, 1234, "Zebra Consulting LLC")],
        &[],
    )
    .await;
    let url = app.database_url().to_owned();
    for column in ["description_ciphertext", "counterparty_ciphertext"] {
        let cells = raw_column(backend, &url, &format!("SELECT {column} FROM spend_events")).await;
        assert_eq!(cells.len(), 1);
        assert!(!contains(&cells[0], b"Zebra"), "{column} holds plaintext");
    }
    let before = raw_column(
        backend,
        &url,
        "SELECT description_ciphertext FROM spend_events",
    )
    .await;
    let rotation = Rotation {
        reencrypt_data: true,
        ..Rotation::default()
    };
    let report = app.state.keyring.rotate(&rotation).await.unwrap();
    assert!(report.fields_reencrypted >= 3, "{report:?}");
    let after = raw_column(
        backend,
        &url,
        "SELECT description_ciphertext FROM spend_events",
    )
    .await;
    assert_ne!(before, after);
    let listed = page(&app, &admin, "").await;
    assert_eq!(
        listed["items"][0]["description"],
        "card payment to Zebra Consulting LLC ref tx-1"
    );
    let old_keys = raw_count(
        backend,
        &url,
        "SELECT COUNT(*) FROM tenant_keys WHERE NOT active",
    )
    .await;
    assert_eq!(
        old_keys, 0,
        "the old data key is retired once nothing refers to it"
    );
    app.stop().await;
}

async fn vendors_and_mappings(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (tenant, _, admin) = tenant_with_admin(&app, "acme").await;
    let added = json_of(
        post(
            &app,
            &admin,
            "/api/v1/vendors",
            json!({"name": " AWS EMEA 7731 "}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(added["name"], "AWS EMEA 7731");
    assert_eq!(added["normalized"], "aws emea");
    let again = post(&app, &admin, "/api/v1/vendors", json!({"name": "aws emea"})).await;
    assert_eq!(again.status(), 409);
    let list = json_of(app.get_as(&admin, "/api/v1/vendors").await, 200).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let (_, viewer) = app.user_token(tenant, Role::Viewer).await;
    let refused = post(&app, &viewer, "/api/v1/vendors", json!({"name": "x"})).await;
    assert_eq!(refused.status(), 403);
    let id = added["id"].as_str().unwrap();
    assert_eq!(
        delete(&app, &admin, &format!("/api/v1/vendors/{id}"))
            .await
            .status(),
        204
    );
    assert_eq!(
        delete(&app, &admin, &format!("/api/v1/vendors/{id}"))
            .await
            .status(),
        404
    );

    let mapping = json!({"name": "first-bank", "mapping": {"date": "Date", "date_format": "%d/%m/%Y",
        "amount": {"single": "Amount"}, "description": "Details", "default_currency": "GBP"}});
    let saved = json_of(
        post(&app, &admin, "/api/v1/import-mappings", mapping).await,
        201,
    )
    .await;
    assert_eq!(saved["name"], "first-bank");
    let listed = json_of(app.get_as(&viewer, "/api/v1/import-mappings").await, 200).await;
    assert_eq!(listed["items"][0]["mapping"]["date_format"], "%d/%m/%Y");
    let bad = json!({"name": "bad name!", "mapping": {"date": "Date", "date_format": "%d/%m/%Y",
        "amount": {"single": "Amount"}, "decimal_separator": ",", "thousands_separator": ","}});
    let refused = post(&app, &admin, "/api/v1/import-mappings", bad).await;
    assert_eq!(refused.status(), 422);
    let text = error_of(refused).await.to_string();
    assert!(text.contains("name") && text.contains("mapping"), "{text}");
    app.stop().await;
}

async fn exports_stream_and_are_audited(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let (tenant, _, admin) = tenant_with_admin(&app, "acme").await;
    let acct = account(&app, &admin, "12345678").await;
    let mut batch: Vec<NewSpend> = (1..=25)
        .map(|d| spend(&format!("tx-{d:02}"), acct, d, 100 * i64::from(d), "Vendor"))
        .collect();
    batch.push(spend("tx-evil", acct, 26, 1, "=HYPERLINK(\"http://x\")"));
    apply(&app, tenant, batch, &[]).await;

    let (_, auditor) = app.user_token(tenant, Role::Auditor).await;
    let csv = app
        .get_as(
            &auditor,
            "/api/v1/transactions/export?format=csv&from=2026-03-10",
        )
        .await;
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 17, "header and rows 10..=26");
    assert!(lines[0].starts_with("id,occurred_at,booked_on,account_id,source"));
    assert!(
        text.contains("'=HYPERLINK"),
        "formulas are defused: {}",
        lines[1]
    );
    assert!(!text.contains(",=HYPERLINK"));

    let jsonl = app
        .get_as(&auditor, "/api/v1/transactions/export?format=jsonl")
        .await;
    let rows: Vec<Value> = jsonl
        .text()
        .await
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 26);
    assert_eq!(rows[0]["source_ref"], "tx-evil");

    let events = crate::accounts::audited_at_least(&app, &admin, "ledger.export", 2).await;
    let details: Vec<&Value> = events.iter().map(|e| &e["details"]).collect();
    assert!(
        details.iter().any(|d| d["rows"] == 17
            && d["format"] == "csv"
            && d["filter"]["from"] == "2026-03-10"
            && d["complete"] == true),
        "{details:?}"
    );
    assert!(details
        .iter()
        .any(|d| d["rows"] == 26 && d["format"] == "jsonl"));

    // Viewers read but do not export; a read-only API key reads too.
    let (_, viewer) = app.user_token(tenant, Role::Viewer).await;
    let refused = app
        .get_as(&viewer, "/api/v1/transactions/export?format=csv")
        .await;
    assert_eq!(refused.status(), 403);
    assert_eq!(
        app.get_as(&viewer, "/api/v1/transactions").await.status(),
        200
    );
    let key = json_of(
        post(
            &app,
            &admin,
            "/api/v1/api-keys",
            json!({"name": "bi", "scopes": ["read"]}),
        )
        .await,
        201,
    )
    .await;
    let key = key["key"].as_str().unwrap();
    let listed = page(&app, key, "limit=1").await;
    assert_eq!(refs(&listed), ["tx-evil"]);
    assert_eq!(
        app.get_as(key, "/api/v1/transactions/export?format=csv")
            .await
            .status(),
        403
    );
    let ingest = json_of(
        post(
            &app,
            &admin,
            "/api/v1/api-keys",
            json!({"name": "loader", "scopes": ["ingest:write"]}),
        )
        .await,
        201,
    )
    .await;
    let ingest = ingest["key"].as_str().unwrap();
    let made = post(
        &app,
        ingest,
        "/api/v1/accounts",
        json!({"name": "Card", "kind": "credit_card", "currency": "JPY"}),
    )
    .await;
    assert_eq!(made.status(), 201);
    assert_eq!(
        app.get_as(ingest, "/api/v1/transactions").await.status(),
        403
    );
    app.stop().await;
}

crate::on_both_backends!(
    exports_stream_and_are_audited,
    accounts_show_only_the_mask,
    transactions_filter_page_and_stay_one_event,
    free_text_is_sealed_and_rotates,
    vendors_and_mappings,
);
