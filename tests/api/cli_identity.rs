//! `auditpulse tenant create` and `auditpulse user create` through the real binary, against the
//! database of a running app, then a login over HTTP with the account made. On both backends.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::accounts::{json_of, login_with};
use crate::helpers::{Backend, TestApp, MASTER_KEY, PASSWORD, SYSADMIN};

/// Runs the binary on the app's database, `stdin` piped in.
fn run(app: &TestApp, args: &[&str], stdin: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditpulse"))
        .args(args)
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", app.database_url())
        .env(auditpulse::config::vars::MASTER_KEYS, MASTER_KEY)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    // A command refused before it reads its input closes the pipe early: that is fine.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The lines of stderr that are not log lines.
fn errors(out: &Output) -> Vec<String> {
    text(&out.stderr)
        .lines()
        .filter(|l| l.starts_with("error: "))
        .map(str::to_owned)
        .collect()
}

async fn tenant_and_user_created_on_the_command_line_can_log_in(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let out = run(&app, &["tenant", "create", "Acme Corp"], "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let id = stdout
        .trim()
        .strip_prefix("created tenant acme-corp with id ")
        .unwrap_or_else(|| panic!("{stdout}"))
        .to_owned();

    let args = [
        "user",
        "create",
        "--email",
        "jo@acme.example",
        "--tenant",
        "acme-corp",
        "--role",
        "admin",
        "--display-name",
        "Jo",
    ];
    let out = run(&app, &args, &format!("{PASSWORD}\n"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout)
        .starts_with("created user jo@acme.example (admin of tenant acme-corp) with id "));
    assert!(!text(&out.stdout).contains(PASSWORD) && !text(&out.stderr).contains(PASSWORD));

    let login = json_of(login_with(&app, "jo@acme.example", PASSWORD).await, 200).await;
    let token = login["access_token"].as_str().unwrap();
    let me = json_of(app.get_as(token, "/api/v1/me").await, 200).await;
    assert_eq!(me["tenant_id"], id.as_str());
    assert_eq!(me["role"], "admin");
    assert_eq!(me["display_name"], "Jo");
    assert_eq!(me["system_admin"], false);

    // Both are in the audit trail, made by the system.
    for action in ["tenant.create", "user.create"] {
        let events = crate::accounts::audited(&app, SYSADMIN, action).await;
        assert_eq!(events.len(), 1, "{action}");
        assert_eq!(events[0]["actor_kind"], "system", "{action}");
        assert!(!events[0].to_string().contains(PASSWORD));
    }
}

async fn system_administrators_are_made_with_or_without_a_tenant(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    let out = run(&app, &["tenant", "create", "Acme", "--slug", "acme"], "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let global = [
        "user",
        "create",
        "--email",
        "ops@example.com",
        "--system-admin",
    ];
    let out = run(&app, &global, &format!("{PASSWORD}\r\n"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let both = [
        "user",
        "create",
        "--email",
        "root@acme.example",
        "--system-admin",
        "--tenant",
        "acme",
        "--role",
        "admin",
    ];
    let out = run(&app, &both, PASSWORD);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("(admin and system administrator of tenant acme)"));

    let token = |email: &'static str| {
        let app = &app;
        async move {
            let body = json_of(login_with(app, email, PASSWORD).await, 200).await;
            body["access_token"].as_str().unwrap().to_owned()
        }
    };
    let ops = token("ops@example.com").await;
    let me: Value = json_of(app.get_as(&ops, "/api/v1/me").await, 200).await;
    assert!(me["tenant_id"].is_null() && me["role"].is_null());
    assert_eq!(me["system_admin"], true);
    assert_eq!(app.get_as(&ops, "/api/v1/tenants").await.status(), 200);
    let root = token("root@acme.example").await;
    assert_eq!(app.get_as(&root, "/api/v1/tenants").await.status(), 200);
    assert_eq!(app.get_as(&root, "/api/v1/users").await.status(), 200);
}

async fn bad_input_is_one_line_and_a_failing_exit_code(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[]).await;
    run(&app, &["tenant", "create", "Acme", "--slug", "acme"], "");
    let create = [
        "user",
        "create",
        "--email",
        "jo@acme.example",
        "--tenant",
        "acme",
        "--role",
        "viewer",
    ];
    let cases: [(&[&str], &str, &str); 6] = [
        (
            &create,
            "short\n",
            "error: password must be at least 12 characters",
        ),
        (
            &create,
            "qwerty123456\n",
            "error: password is one of the most common passwords; choose another",
        ),
        (&create, "", "error: no password on standard input"),
        (
            &[
                "user",
                "create",
                "--email",
                "jo@acme.example",
                "--tenant",
                "nope",
                "--role",
                "viewer",
            ],
            "correct horse battery staple\n",
            "error: no tenant nope; create it with `auditpulse tenant create`",
        ),
        (
            &[
                "user",
                "create",
                "--email",
                "not-an-email",
                "--system-admin",
            ],
            "correct horse battery staple\n",
            "error: --email must be an e-mail address such as jane@example.com",
        ),
        (
            &["tenant", "create", "Acme", "--slug", "acme"],
            "",
            "error: a tenant with this slug already exists",
        ),
    ];
    for (args, stdin, expected) in cases {
        let out = run(&app, args, stdin);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(errors(&out), vec![expected.to_owned()], "{args:?}");
    }
    let out = run(&app, &create, &format!("{PASSWORD}\n"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = run(&app, &create, &format!("{PASSWORD}\n"));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        errors(&out),
        vec!["error: a user with this e-mail already exists".to_owned()]
    );
    // Usage errors exit 2: a role without a tenant, neither a tenant nor --system-admin.
    for args in [
        &[
            "user",
            "create",
            "--email",
            "a@b.io",
            "--role",
            "admin",
            "--system-admin",
        ][..],
        &["user", "create", "--email", "a@b.io"][..],
        &["user", "create", "--email", "a@b.io", "--tenant", "acme"][..],
        &[
            "user", "create", "--email", "a@b.io", "--tenant", "acme", "--role", "root",
        ][..],
    ] {
        assert_eq!(run(&app, args, PASSWORD).status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn help_shows_an_example_for_each_identity_command() {
    let dir = tempfile::tempdir().unwrap();
    for args in [["tenant", "create", "--help"], ["user", "create", "--help"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_auditpulse"))
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert!(text(&out.stdout).contains("Example"), "{args:?}");
    }
}

/// As `on_both_backends!`, on a two-worker runtime: `run` blocks its thread while the command
/// runs, and the server in this process must keep serving (its audit writer may hold a lock the
/// command waits for) on the other worker.
macro_rules! on_both_backends_threaded {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(not(postgres_tests), ignore = "set AUDITPULSE_TEST_POSTGRES_URL to run on PostgreSQL")]
            async fn postgres() {
                super::$name($crate::helpers::Backend::Postgres).await
            }
        }
    )*};
}

on_both_backends_threaded!(
    tenant_and_user_created_on_the_command_line_can_log_in,
    system_administrators_are_made_with_or_without_a_tenant,
    bad_input_is_one_line_and_a_failing_exit_code,
);
