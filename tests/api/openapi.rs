//! The OpenAPI document describes every route and every documented route exists.

use crate::helpers::TestApp;

#[tokio::test]
async fn the_document_is_openapi_3_1_and_lists_every_route() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/openapi.json").await;
    assert_eq!(response.status(), 200);
    let doc: serde_json::Value = response.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let mut listed: Vec<String> = Vec::new();
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            listed.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    listed.sort();
    assert_eq!(
        listed,
        vec![
            "DELETE /api/v1/api-keys/{id}",
            "DELETE /api/v1/auth/sessions/{id}",
            "DELETE /api/v1/budgets/{id}",
            "DELETE /api/v1/detection/snoozes/{id}",
            "DELETE /api/v1/plaid/items/{id}",
            "DELETE /api/v1/prices/overrides",
            "DELETE /api/v1/providers/{id}",
            "DELETE /api/v1/tenants/{id}",
            "DELETE /api/v1/users/{id}",
            "DELETE /api/v1/users/{id}/sessions/{session_id}",
            "DELETE /api/v1/vendors/{id}",
            "GET /api/openapi.json",
            "GET /api/v1/accounts",
            "GET /api/v1/accounts/{id}",
            "GET /api/v1/anomalies",
            "GET /api/v1/anomalies/{id}",
            "GET /api/v1/api-keys",
            "GET /api/v1/audit-events",
            "GET /api/v1/auth/sessions",
            "GET /api/v1/budgets",
            "GET /api/v1/budgets/{id}",
            "GET /api/v1/budgets/{id}/status",
            "GET /api/v1/detection/benford",
            "GET /api/v1/detection/config",
            "GET /api/v1/detection/snoozes",
            "GET /api/v1/import-mappings",
            "GET /api/v1/imports",
            "GET /api/v1/llm/calls",
            "GET /api/v1/llm/calls/{id}",
            "GET /api/v1/llm/usage",
            "GET /api/v1/me",
            "GET /api/v1/plaid/items",
            "GET /api/v1/prices",
            "GET /api/v1/prices/overrides",
            "GET /api/v1/providers",
            "GET /api/v1/security/alerts",
            "GET /api/v1/settings",
            "GET /api/v1/tenants",
            "GET /api/v1/tenants/{id}",
            "GET /api/v1/transactions",
            "GET /api/v1/transactions/export",
            "GET /api/v1/transactions/{id}",
            "GET /api/v1/users",
            "GET /api/v1/users/{id}",
            "GET /api/v1/users/{id}/sessions",
            "GET /api/v1/vendors",
            "GET /healthz",
            "GET /readyz",
            "GET /setup",
            "PATCH /api/v1/budgets/{id}",
            "PATCH /api/v1/settings",
            "PATCH /api/v1/users/{id}",
            "POST /api/v1/accounts",
            "POST /api/v1/anomalies/{id}/assign",
            "POST /api/v1/anomalies/{id}/review",
            "POST /api/v1/api-keys",
            "POST /api/v1/auth/login",
            "POST /api/v1/auth/logout",
            "POST /api/v1/auth/logout-all",
            "POST /api/v1/auth/password",
            "POST /api/v1/auth/refresh",
            "POST /api/v1/auth/totp/disable",
            "POST /api/v1/auth/totp/enable",
            "POST /api/v1/auth/totp/setup",
            "POST /api/v1/budgets",
            "POST /api/v1/detection/backtest",
            "POST /api/v1/detection/retrain",
            "POST /api/v1/detection/run",
            "POST /api/v1/detection/snoozes",
            "POST /api/v1/import-mappings",
            "POST /api/v1/imports",
            "POST /api/v1/plaid/items",
            "POST /api/v1/plaid/link-token",
            "POST /api/v1/plaid/webhook",
            "POST /api/v1/providers",
            "POST /api/v1/setup",
            "POST /api/v1/tenants",
            "POST /api/v1/users",
            "POST /api/v1/users/{id}/unlock",
            "POST /api/v1/vendors",
            "PUT /api/v1/detection/config",
            "PUT /api/v1/prices/overrides",
        ]
    );
    // Protected operations declare bearer authentication; public ones do not.
    assert!(doc["paths"]["/api/v1/tenants"]["get"]["security"].is_array());
    assert!(doc["paths"]["/healthz"]["get"]["security"].is_null());
    assert!(doc["components"]["schemas"]["ErrorEnvelope"].is_object());
}

#[tokio::test]
async fn every_documented_route_is_served() {
    let app = TestApp::spawn().await;
    let doc: serde_json::Value = app.get("/api/openapi.json").await.json().await.unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let concrete = path.replace("{id}", "00000000-0000-0000-0000-000000000000");
            let response = app
                .client
                .request(method.to_uppercase().parse().unwrap(), app.url(&concrete))
                .send()
                .await
                .unwrap();
            assert!(
                ![404, 405].contains(&response.status().as_u16()),
                "{method} {path} is documented but not served"
            );
        }
    }
}

/// Deny by default: only the allow-list answers without credentials, and every other operation
/// both answers 401 and says in the document that it needs a bearer token.
#[tokio::test]
async fn only_the_public_allow_list_answers_without_credentials() {
    const PUBLIC: &[&str] = &[
        "GET /healthz",
        "GET /readyz",
        "GET /api/openapi.json",
        "POST /api/v1/auth/login",
        "POST /api/v1/auth/refresh",
        "POST /api/v1/setup",
        "GET /setup",
        "POST /api/v1/plaid/webhook",
    ];
    // Public, but authenticated by their own cookie (or, for Plaid's webhook, by Plaid's signed
    // JWT): without it they answer 401 themselves.
    const COOKIE_AUTHENTICATED: &[&str] =
        &["POST /api/v1/auth/refresh", "POST /api/v1/plaid/webhook"];
    let app = TestApp::spawn().await;
    let doc: serde_json::Value = app.get("/api/openapi.json").await.json().await.unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let name = format!("{} {path}", method.to_uppercase());
            let concrete = path.replace("{id}", "00000000-0000-0000-0000-000000000000");
            let request = app
                .client
                .request(method.to_uppercase().parse().unwrap(), app.url(&concrete));
            let status = request
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap()
                .status();
            if PUBLIC.contains(&name.as_str()) {
                if !COOKIE_AUTHENTICATED.contains(&name.as_str()) {
                    assert_ne!(status, 401, "{name} is public");
                }
                assert!(
                    operation["security"].is_null(),
                    "{name} is public but documented as protected"
                );
            } else {
                assert_eq!(status, 401, "{name} is not on the public allow-list");
                assert!(
                    operation["security"].is_array(),
                    "{name} is protected but documented as public"
                );
            }
        }
    }
}

/// Generated clients can send every list filter, know every error a layer may answer, and are
/// told which bodies the server refuses.
#[tokio::test]
async fn filters_errors_and_body_rules_are_documented() {
    let app = TestApp::spawn().await;
    let doc: serde_json::Value = app.get("/api/openapi.json").await.json().await.unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for list in [
        "/api/v1/audit-events",
        "/api/v1/security/alerts",
        "/api/v1/tenants",
        "/api/v1/users",
    ] {
        let operation = &paths[list]["get"];
        for parameter in operation["parameters"].as_array().unwrap() {
            assert_eq!(parameter["in"], "query", "{list}: {parameter}");
            assert_ne!(parameter["required"], true, "{list}: {parameter}");
        }
        assert!(operation["responses"]["400"].is_object(), "{list}");
    }
    let limit = |path: &str| {
        paths[path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "limit")
            .unwrap()["schema"]
            .clone()
    };
    assert_eq!(limit("/api/v1/tenants")["maximum"], 200);
    assert_eq!(limit("/api/v1/audit-events")["maximum"], 1000);
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            let name = format!("{method} {path}");
            let responses = &operation["responses"];
            if operation["security"].is_array() {
                assert!(responses["401"].is_object(), "{name}");
            }
            if operation["requestBody"].is_object() {
                for status in ["400", "413", "415", "422"] {
                    assert!(responses[status].is_object(), "{name} {status}");
                }
            }
            let id = operation["operationId"].as_str().unwrap().to_owned();
            assert!(ids.insert(id), "{name}: operation id used twice");
        }
    }
    let schemas = &doc["components"]["schemas"];
    for body in [
        "CreateTenant",
        "CreateUser",
        "LoginRequest",
        "UpdateSettings",
    ] {
        assert_eq!(schemas[body]["additionalProperties"], false, "{body}");
    }
    assert_eq!(
        schemas["CreateApiKey"]["properties"]["scopes"]["minItems"],
        1
    );
    assert_eq!(
        schemas["CreateTenant"]["properties"]["name"]["minLength"],
        1
    );
}

/// Every parameter is where the document says (a path parameter is in the path's template, so a
/// query struct documented `in: path` is caught) and every schema reference resolves (two types
/// with one schema name, or a type never registered, would leave a client guessing).
#[tokio::test]
async fn parameters_and_schema_references_are_consistent() {
    let app = TestApp::spawn().await;
    let doc: serde_json::Value = app.get("/api/openapi.json").await.json().await.unwrap();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let name = parameter["name"].as_str().unwrap();
                let in_template = path.contains(&format!("{{{name}}}"));
                assert_eq!(
                    parameter["in"] == "path",
                    in_template,
                    "{method} {path}: parameter {name} is documented in {}",
                    parameter["in"]
                );
            }
        }
    }
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for reference in refs {
        let name = reference.trim_start_matches("#/components/schemas/");
        assert!(
            schemas.contains_key(name),
            "unresolved reference {reference}"
        );
    }
    // The call outcome and the audit outcome are different enums under different names.
    let audit_outcome = &schemas["Outcome"]["enum"];
    assert!(
        audit_outcome.as_array().unwrap().contains(&"denied".into()),
        "{audit_outcome}"
    );
    let call_outcome = &schemas["CallOutcome"]["enum"];
    assert!(
        call_outcome
            .as_array()
            .unwrap()
            .contains(&"completed".into()),
        "{call_outcome}"
    );
}

fn collect_refs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v.as_str()) {
                    ("$ref", Some(target)) => out.push(target.to_owned()),
                    _ => collect_refs(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}
