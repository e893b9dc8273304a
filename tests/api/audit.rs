//! `GET /api/v1/audit-events` and the security events that land in the trail, on both backends.

use std::time::Duration;

use auditpulse::audit::AuditQuery;
use auditpulse::audit::{ActorKind, NewAuditEvent, Outcome};
use auditpulse::config::DatabaseUrl;
use auditpulse::domain::time;
use auditpulse::store::Scope;
use serde_json::{json, Value};

use crate::helpers::{
    error_of, Backend, TestApp, ADMIN_B, AUDITOR, SYSADMIN, TENANT_A, TENANT_B, VIEWER,
};

async fn page(app: &TestApp, token: &str, query: &str) -> Value {
    let response = app
        .get_as(token, &format!("/api/v1/audit-events{query}"))
        .await;
    assert_eq!(response.status(), 200, "{query}");
    response.json().await.unwrap()
}

fn seqs(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect()
}

/// Polls until the security event queued by a request has been committed.
async fn wait_for_action(app: &TestApp, action: &str) -> Value {
    for _ in 0..50 {
        let found = page(app, SYSADMIN, &format!("?action={action}")).await;
        if !found["items"].as_array().unwrap().is_empty() {
            return found["items"][0].clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no {action} event was recorded");
}

/// Appends the same fixture on every backend: tenants A and B, actors, outcomes and times.
async fn fixture(app: &TestApp) {
    let a = TENANT_A.parse().unwrap();
    let b = TENANT_B.parse().unwrap();
    let old = time::from_text("2026-01-01T00:00:00Z").unwrap();
    let events = [
        NewAuditEvent::new(ActorKind::User, Some("alice".into()), "auth.login").tenant(Some(a)),
        NewAuditEvent::new(ActorKind::User, Some("alice".into()), "auth.login")
            .tenant(Some(a))
            .outcome(Outcome::Failure),
        NewAuditEvent::new(ActorKind::ApiKey, Some("ak_bob".into()), "api_key.create")
            .tenant(Some(b))
            .target("api_key", Some("ak_new".into())),
        NewAuditEvent::new(ActorKind::System, None, "keys.rotate"),
        NewAuditEvent::new(ActorKind::User, Some("carol".into()), "role.change")
            .tenant(Some(a))
            .details(json!({"from": "viewer", "to": "admin"})),
    ];
    for (i, mut event) in events.into_iter().enumerate() {
        if i == 0 {
            event.at = old;
        }
        app.state.audit.append(event).await.unwrap();
    }
}

async fn authentication_and_the_audit_read_permission_are_required(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let response = app.get("/api/v1/audit-events").await;
    assert_eq!(response.status(), 401);
    let response = app.get_as(VIEWER, "/api/v1/audit-events").await;
    assert_eq!(response.status(), 403);
    assert_eq!(error_of(response).await["code"], "forbidden");
    // The denial itself is in the trail, with who, where and which permission.
    let denied = wait_for_action(&app, "permission.denied").await;
    assert_eq!(denied["actor_id"], "user-viewer");
    assert_eq!(denied["actor_kind"], "principal");
    assert_eq!(denied["outcome"], "denied");
    assert_eq!(denied["details"]["permission"], "audit:read");
    assert_eq!(denied["target_id"], "/api/v1/audit-events");
    assert_eq!(denied["source_ip"], "127.0.0.1");
    assert_eq!(denied["hash"].as_str().unwrap().len(), 64);
}

async fn events_are_filtered_by_time_actor_action_and_outcome(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    fixture(&app).await;
    assert_eq!(seqs(&page(&app, SYSADMIN, "").await), vec![1, 2, 3, 4, 5]);
    assert_eq!(
        seqs(&page(&app, SYSADMIN, "?actor=alice").await),
        vec![1, 2]
    );
    assert_eq!(
        seqs(&page(&app, SYSADMIN, "?action=auth.login&outcome=failure").await),
        vec![2]
    );
    assert_eq!(
        seqs(&page(&app, SYSADMIN, "?from=2026-02-01T00:00:00Z").await),
        vec![2, 3, 4, 5]
    );
    assert_eq!(
        seqs(&page(&app, SYSADMIN, "?to=2026-02-01T00:00:00Z").await),
        vec![1]
    );
    let role = page(&app, SYSADMIN, "?action=role.change").await;
    assert_eq!(
        role["items"][0]["details"],
        json!({"from": "viewer", "to": "admin"})
    );
    assert_eq!(role["items"][0]["tenant_id"], TENANT_A);
    for bad in [
        "?from=yesterday",
        "?outcome=maybe",
        "?limit=0",
        "?limit=1001",
        "?format=xml",
        "?colour=red",
    ] {
        let response = app
            .get_as(SYSADMIN, &format!("/api/v1/audit-events{bad}"))
            .await;
        assert_eq!(response.status(), 400, "{bad}");
    }
}

async fn pages_follow_the_cursor(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    fixture(&app).await;
    let first = page(&app, SYSADMIN, "?limit=2").await;
    assert_eq!(seqs(&first), vec![1, 2]);
    assert_eq!(first["next_after"], 2);
    let second = page(&app, SYSADMIN, "?limit=2&after=2").await;
    assert_eq!(seqs(&second), vec![3, 4]);
    let last = page(&app, SYSADMIN, "?limit=2&after=4").await;
    assert_eq!(seqs(&last), vec![5]);
    assert!(last.get("next_after").is_none());
}

async fn tenant_principals_see_only_their_tenant(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    fixture(&app).await;
    assert_eq!(seqs(&page(&app, AUDITOR, "").await), vec![1, 2, 5]);
    assert_eq!(seqs(&page(&app, ADMIN_B, "").await), vec![3]);
    assert_eq!(
        seqs(&page(&app, ADMIN_B, "?actor=alice").await),
        Vec::<i64>::new()
    );
    assert_eq!(seqs(&page(&app, SYSADMIN, "").await), vec![1, 2, 3, 4, 5]);
}

async fn exports_are_json_lines_or_csv_and_are_themselves_audited(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    fixture(&app).await;
    let response = app
        .client
        .get(app.url("/api/v1/audit-events?format=jsonl&actor=alice"))
        .bearer_auth(AUDITOR)
        .header("user-agent", "audit-exporter/1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    let body = response.text().await.unwrap();
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["outcome"], "failure");

    // The export is recorded, committed before the response, in the exporter's tenant.
    let export = page(&app, AUDITOR, "?action=audit.export").await;
    let export = &export["items"][0];
    assert_eq!(export["actor_id"], "user-auditor-a");
    assert_eq!(export["actor_kind"], "user");
    assert_eq!(export["user_agent"], "audit-exporter/1");
    assert_eq!(export["details"]["format"], "jsonl");
    assert_eq!(export["details"]["rows"], 2);
    assert_eq!(export["details"]["filters"]["actor"], "alice");

    let response = app
        .get_as(SYSADMIN, "/api/v1/audit-events?format=csv")
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    assert!(response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("audit-events.csv"));
    let csv = response.text().await.unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert!(
        rows[0].starts_with("seq,at,tenant_id,actor_kind,actor_id,action"),
        "{csv}"
    );
    assert_eq!(
        rows.len(),
        1 + 6,
        "header, the fixture and the first export: {csv}"
    );
    assert!(
        rows[5].contains(r#""{""from"":""viewer"",""to"":""admin""}""#),
        "{csv}"
    );
    let csv_export = wait_for_action(&app, "audit.export").await;
    assert_eq!(csv_export["seq"], 6);
    assert_eq!(
        page(&app, SYSADMIN, "?action=audit.export").await["items"][1]["details"]["format"],
        "csv"
    );
}

async fn rate_limit_breaches_land_in_the_trail(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[("AUDITPULSE_RATE_LIMIT_API_PRINCIPAL", "1/h,burst=1")],
    )
    .await;
    assert_eq!(app.get_as(VIEWER, "/api/v1/tenants").await.status(), 403);
    assert_eq!(app.get_as(VIEWER, "/api/v1/tenants").await.status(), 429);
    // Read beside the API: every principal here is limited to one request an hour.
    let query = AuditQuery {
        scope: Scope::System,
        from: None,
        to: None,
        actor_id: None,
        action: Some("rate_limit.breach".into()),
        outcome: None,
        after: None,
        limit: 10,
    };
    for _ in 0..50 {
        if let Some(breach) = app.state.store.query_audit(&query).await.unwrap().pop() {
            assert_eq!(breach.actor_id.as_deref(), Some("user-viewer"));
            assert_eq!(breach.outcome, Outcome::Denied);
            assert_eq!(breach.details["group"], "api");
            assert_eq!(breach.details["key"], "principal");
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the rate-limit breach was not recorded");
}

async fn tenant_changes_are_audited_with_who_and_what(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let created: Value = app
        .post_json_as(
            SYSADMIN,
            "/api/v1/tenants",
            &json!({"name": "Acme", "slug": "acme"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let response = app
        .client
        .delete(app.url(&format!("/api/v1/tenants/{id}")))
        .bearer_auth(SYSADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    for action in ["tenant.create", "tenant.delete"] {
        let event = wait_for_action(&app, action).await;
        assert_eq!(event["actor_id"], "user-sysadmin", "{event}");
        assert_eq!(event["target_type"], "tenant", "{event}");
        assert_eq!(event["target_id"], id, "{event}");
        assert_eq!(event["outcome"], "success", "{event}");
        assert_eq!(event["source_ip"], "127.0.0.1", "{event}");
    }
}

async fn queued_events_are_committed_before_shutdown_closes_the_database(backend: Backend) {
    use sqlx::{Connection, Executor};
    let app = TestApp::spawn_with(backend, &[]).await;
    // Hold the audit writer back with a lock of our own, so that shutdown provably begins while
    // events are still queued; only a shutdown that flushes the queue commits all of them.
    let url = app.database_url().to_owned();
    let (locked_tx, locked) = tokio::sync::oneshot::channel();
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let holder = tokio::spawn(async move {
        match backend {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
                c.execute("BEGIN IMMEDIATE").await.unwrap();
                locked_tx.send(()).unwrap();
                released.await.unwrap();
                c.execute("COMMIT").await.unwrap();
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
                c.execute("BEGIN").await.unwrap();
                c.execute("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE")
                    .await
                    .unwrap();
                locked_tx.send(()).unwrap();
                released.await.unwrap();
                c.execute("COMMIT").await.unwrap();
            }
        }
    });
    locked.await.unwrap();
    for i in 0..500 {
        assert!(app.state.audit.enqueue(
            NewAuditEvent::new(ActorKind::System, None, "test.queued").details(json!({"i": i}))
        ));
    }
    let stopping = tokio::spawn(app.stop_keeping_db());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !stopping.is_finished(),
        "shutdown waits for the queued events"
    );
    release.send(()).unwrap();
    holder.await.unwrap();
    let db = stopping.await.unwrap();
    let store = auditpulse::app::connect(&DatabaseUrl::parse(&db.url).unwrap(), 2)
        .await
        .unwrap();
    let head = store.audit_head().await.unwrap();
    assert_eq!(head.0, 500, "every queued event was committed at shutdown");
    store.close().await;
}

crate::on_both_backends!(
    authentication_and_the_audit_read_permission_are_required,
    events_are_filtered_by_time_actor_action_and_outcome,
    pages_follow_the_cursor,
    tenant_principals_see_only_their_tenant,
    exports_are_json_lines_or_csv_and_are_themselves_audited,
    rate_limit_breaches_land_in_the_trail,
    queued_events_are_committed_before_shutdown_closes_the_database,
    tenant_changes_are_audited_with_who_and_what,
);
