//! Liveness and readiness.

use crate::helpers::{error_of, Backend, TestApp};

#[tokio::test]
async fn healthz_answers_while_the_process_runs() {
    let app = TestApp::spawn().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["status"],
        "ok"
    );
}

async fn readyz_reports_database_and_schema(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["schema_version"], crate::helpers::latest_migration());
    assert_eq!(
        body["database"],
        if backend == Backend::Sqlite {
            "sqlite"
        } else {
            "postgres"
        }
    );
}

async fn readyz_lists_every_background_task_and_fails_when_one_stops(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    let tasks: Vec<(String, bool)> = body["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap().to_owned(), t["running"] == true))
        .collect();
    for name in [
        "audit_writer",
        "audit_retention",
        "security_monitor",
        "job_runner",
    ] {
        assert!(
            tasks.contains(&(name.to_owned(), true)),
            "{name} missing from {tasks:?}"
        );
    }
    // The audit writer ends (as it would after a failure): the instance is no longer ready.
    app.state.audit.shutdown().await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 503);
    assert_eq!(error_of(response).await["code"], "unavailable");
}

async fn readyz_is_503_when_the_database_is_gone(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    app.state.store.close().await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 503);
    let error = error_of(response).await;
    assert_eq!(error["code"], "unavailable");
    // Liveness does not depend on the database.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

async fn readyz_is_503_when_the_schema_is_not_the_binarys(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    crate::storage::add_future_migration(backend, app.database_url()).await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 503);
    // Like every 5xx, the body stays generic on this public probe; the reason goes to the log.
    let error = error_of(response).await;
    assert_eq!(error["code"], "unavailable");
    assert_eq!(error["message"], "service unavailable");
}

crate::on_both_backends!(
    readyz_reports_database_and_schema,
    readyz_lists_every_background_task_and_fails_when_one_stops,
    readyz_is_503_when_the_database_is_gone,
    readyz_is_503_when_the_schema_is_not_the_binarys
);
