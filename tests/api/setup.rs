//! First-run setup: the one-time token creates the first tenant and administrator once; after
//! that, setup answers 404. On both backends.

use auditpulse::identity::setup::issue_token;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{error_of, Backend, TestApp, PASSWORD};

fn body(token: &str) -> Value {
    json!({"token": token, "tenant_name": "Acme Corp", "email": "Admin@Acme.example", "password": PASSWORD})
}

async fn post(app: &TestApp, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/setup"))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn the_setup_token_creates_the_first_administrator_once(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let page = app.get("/setup?token=abc").await;
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(
        html.contains("/api/v1/setup") && !html.contains("abc"),
        "{html}"
    );

    let token = issue_token(app.state.store.as_ref())
        .await
        .unwrap()
        .unwrap();
    let token = token.expose().clone();
    let response = post(&app, &body("not-the-token")).await;
    assert_eq!(response.status(), 401);
    assert_eq!(error_of(response).await["code"], "invalid_credentials");
    let mut weak = body(&token);
    weak["password"] = json!("password1234");
    let response = post(&app, &weak).await;
    assert_eq!(response.status(), 422);
    assert_eq!(error_of(response).await["fields"][0]["field"], "password");

    let response = post(&app, &body(&token)).await;
    assert_eq!(response.status(), 201);
    let done: Value = response.json().await.unwrap();
    assert_eq!(done["tenant"]["name"], "Acme Corp");
    assert_eq!(done["tenant"]["slug"], "acme-corp");
    assert_eq!(done["user"]["role"], "admin");
    assert_eq!(done["user"]["system_admin"], true);
    assert_eq!(done["user"]["tenant_id"], done["tenant"]["id"]);
    assert!(done["user"].get("password_hash").is_none());

    let admin = app.login("admin@acme.example", PASSWORD).await;
    for path in ["/api/v1/tenants", "/api/v1/security/alerts"] {
        assert_eq!(
            app.get_as(&admin.access_token, path).await.status(),
            200,
            "{path}"
        );
    }
    // Set up: the same token, any token, the page: all gone.
    assert_eq!(post(&app, &body(&token)).await.status(), 404);
    assert_eq!(post(&app, &json!({})).await.status(), 404);
    assert_eq!(app.get("/setup").await.status(), 404);
    assert!(issue_token(app.state.store.as_ref())
        .await
        .unwrap()
        .is_none());
    assert!(app.events.actions().contains(&"setup.complete"));
}

async fn an_expired_setup_token_is_refused(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let token = "an-old-setup-token";
    let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    let now = auditpulse::domain::time::now();
    app.state
        .store
        .replace_setup_token(
            &hash,
            now - chrono::Duration::hours(2),
            now - chrono::Duration::seconds(1),
        )
        .await
        .unwrap();
    let response = post(&app, &body(token)).await;
    assert_eq!(response.status(), 401);
    assert_eq!(app.get("/setup").await.status(), 200, "still not set up");
}

/// The page is a form with every field of the setup API, its script is allowed by hash (and
/// nothing else is), and what the script sends sets AuditPulse up.
async fn the_setup_page_is_a_form_that_sets_up(backend: Backend) {
    use base64::Engine;
    let app = TestApp::spawn_with(backend, &[]).await;
    let page = app.get("/setup?token=abc").await;
    assert_eq!(page.status(), 200);
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = page.text().await.unwrap();
    assert!(!html.contains("abc"), "the token is never echoed");
    assert!(html.contains("<form"), "{html}");
    for field in ["token", "tenant_name", "email", "password"] {
        assert!(
            html.contains(&format!("<input id=\"{field}\" name=\"{field}\"")),
            "{field}"
        );
        assert!(
            html.contains(&format!("'{field}'")),
            "the script sends {field}"
        );
    }
    assert!(html.contains("type=\"password\""));
    let script = html.split("<script>").nth(1).unwrap();
    let script = script.split("</script>").next().unwrap();
    assert!(script.contains("fetch('/api/v1/setup'"), "{script}");
    assert!(script.contains("URLSearchParams(location.search).get('token')"));
    assert!(!script.contains("innerHTML"), "answers are shown as text");
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script.as_bytes()));
    assert!(
        policy.contains(&format!("script-src 'sha256-{hash}'")),
        "{policy}"
    );
    assert!(
        policy.starts_with("default-src 'none'") && !policy.contains("unsafe"),
        "{policy}"
    );
    assert!(policy.contains("frame-ancestors 'none'") && policy.contains("connect-src 'self'"));
    let api = app.get("/healthz").await;
    assert_eq!(
        api.headers()["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );

    // What the script posts: the form's fields as JSON, with the token of the address.
    let token = issue_token(app.state.store.as_ref())
        .await
        .unwrap()
        .unwrap();
    let response = app
        .client
        .post(app.url("/api/v1/setup"))
        .header("content-type", "application/json")
        .body(body(token.expose()).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let done: Value = response.json().await.unwrap();
    assert!(done["tenant"]["slug"].is_string() && done["user"]["email"].is_string());
    assert_eq!(app.get("/setup").await.status(), 404);
}

/// A wrong token is called a wrong token, and the reserved slug is called reserved.
async fn setup_errors_say_what_is_wrong(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    issue_token(app.state.store.as_ref())
        .await
        .unwrap()
        .unwrap();
    let response = post(&app, &body("not-the-token")).await;
    assert_eq!(response.status(), 401);
    let error = error_of(response).await;
    assert_eq!(error["code"], "invalid_credentials");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("setup token is not valid"), "{message}");
    assert!(!message.contains("e-mail"), "{message}");

    let token = issue_token(app.state.store.as_ref())
        .await
        .unwrap()
        .unwrap();
    let mut system = body(token.expose());
    system["tenant_name"] = json!("System");
    let response = post(&app, &system).await;
    assert_eq!(response.status(), 422);
    let error = error_of(response).await;
    assert_eq!(error["fields"][0]["field"], "tenant_name");
    let message = error["fields"][0]["message"].as_str().unwrap();
    assert!(message.contains("reserved"), "{message}");
    assert_eq!(app.get("/setup").await.status(), 200, "still not set up");
}

crate::on_both_backends!(
    the_setup_page_is_a_form_that_sets_up,
    setup_errors_say_what_is_wrong,
    the_setup_token_creates_the_first_administrator_once,
    an_expired_setup_token_is_refused,
);
