//! What the binary logs while it works: ordinary operations (a login, setup, a tenant made on the
//! command line) at INFO, trouble (a failed login) at WARN, and plain fields, never a Rust `Debug`
//! dump of an event.

use std::process::Stdio;

use serde_json::json;

use crate::cli::{command, text, Server};
use crate::helpers::PASSWORD;

/// Signs of a `Debug` dump of an event or a JSON value in a log line.
const DEBUG_DUMPS: &[&str] = &[
    "AdminAction {",
    "LoginSucceeded {",
    "Some(",
    "String(",
    "Object {",
];

fn assert_plain(logs: &str) {
    for dump in DEBUG_DUMPS {
        assert!(!logs.contains(dump), "{dump} in:\n{logs}");
    }
}

/// The log line of the security event `action`.
fn event_line<'a>(logs: &'a str, action: &str) -> &'a str {
    let needle = format!("action=\"{action}\"");
    logs.lines()
        .find(|l| l.contains(&needle))
        .unwrap_or_else(|| panic!("no {action} line in:\n{logs}"))
}

#[tokio::test]
async fn logins_and_administrative_changes_log_at_info_without_debug_dumps() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("AUDITPULSE_LISTEN", "127.0.0.1:0"),
        ("AUDITPULSE_METRICS_LISTEN", "off"),
    ];
    let mut server = Server::start(dir.path(), &env);
    let port = server.port();
    let line = server.wait_for("/setup?token=");
    let token = line.split("/setup?token=").nth(1).unwrap();
    let token = token.split_whitespace().next().unwrap().to_owned();
    let client = reqwest::Client::new();
    let api = |path: &str| format!("http://127.0.0.1:{port}{path}");
    let email = "admin@acme.example";
    let body = json!({"token": token, "tenant_name": "Acme", "email": email, "password": PASSWORD});
    let setup = client.post(api("/api/v1/setup")).json(&body).send().await;
    assert_eq!(setup.unwrap().status(), 201);
    for (password, status) in [(PASSWORD, 200), ("not the password at all", 401)] {
        let body = json!({"email": email, "password": password});
        let login = client
            .post(api("/api/v1/auth/login"))
            .json(&body)
            .send()
            .await;
        assert_eq!(login.unwrap().status(), status);
    }
    let (code, logs) = server.terminate();
    assert_eq!(code, Some(0), "{logs}");
    for action in ["setup.complete", "auth.login"] {
        let line = event_line(&logs, action);
        assert!(line.contains(" INFO ") && !line.contains("WARN"), "{line}");
    }
    assert!(event_line(&logs, "auth.login_failed").contains(" WARN "));
    assert!(event_line(&logs, "setup.complete").contains(r#""slug":"acme""#));
    assert_plain(&logs);

    // The command line, on the same database.
    let out = command(dir.path(), &["tenant", "create", "Beta Ltd"], &[])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    let warnings = stderr.lines().filter(|l| l.contains(" WARN "));
    assert!(
        warnings.clone().all(|l| !l.contains("security event")),
        "{stderr}"
    );
    let line = event_line(&stderr, "tenant.create");
    assert!(line.contains(" INFO "), "{line}");
    assert!(
        line.contains(r#"details={"name":"Beta Ltd","slug":"beta-ltd"}"#),
        "{line}"
    );
    assert_plain(&stderr);
}
