//! The `auditpulse` binary as a user runs it: help, exit codes, config check, production
//! refusals, first start with no configuration, logs, and SIGTERM.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::helpers::MASTER_KEY;

pub(crate) fn command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_auditpulse"));
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    command(dir, args, env)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_explains_every_command_with_an_example() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["config", "--help"],
        vec!["config", "check", "--help"],
        vec!["keys", "--help"],
        vec!["keys", "rotate", "--help"],
        vec!["keys", "status", "--help"],
        vec!["audit", "--help"],
        vec!["audit", "verify", "--help"],
        vec!["tenant", "--help"],
        vec!["tenant", "create", "--help"],
        vec!["user", "--help"],
        vec!["user", "create", "--help"],
        vec!["jobs", "--help"],
        vec!["jobs", "list", "--help"],
        vec!["import", "--help"],
        vec!["prices", "import", "--help"],
        vec!["prices", "list", "--help"],
        vec!["prices", "reprice", "--help"],
    ] {
        let out = run(dir.path(), &args, &[]);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(
            text(&out.stdout).contains("Example"),
            "{args:?}: {}",
            text(&out.stdout)
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for args in [vec!["frobnicate"], vec![], vec!["serve", "--port", "1"]] {
        let out = run(dir.path(), &args, &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn config_check_prints_effective_values_with_secrets_redacted_and_generates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "AUDITPULSE_LISTEN=127.0.0.1:9999\nAUDITPULSE_MAX_BODY_BYTES=4096\n",
    )
    .unwrap();
    let env = [
        ("DATABASE_URL", "postgres://ap:hunter2@localhost/ap"),
        (auditpulse::config::vars::MASTER_KEYS, MASTER_KEY),
        ("AUDITPULSE_MAX_BODY_BYTES", "8192"),
        ("AUDITPULSE_LISTN", "x"),
    ];
    let out = run(dir.path(), &["config", "check"], &env);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("AUDITPULSE_LISTEN=127.0.0.1:9999  [.env]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("AUDITPULSE_MAX_BODY_BYTES=8192  [environment]"),
        "the environment wins over .env: {stdout}"
    );
    assert!(
        stdout.contains("DATABASE_URL=postgres://ap:[REDACTED]@localhost/ap"),
        "{stdout}"
    );
    assert!(
        stdout.contains("AUDITPULSE_MASTER_KEYS=[REDACTED] (key ids: t1; active: t1)"),
        "{stdout}"
    );
    assert!(stdout.contains("warning: unknown configuration variable AUDITPULSE_LISTN is ignored (did you mean AUDITPULSE_LISTEN?)"));
    assert!(stdout.ends_with("configuration is valid (development)\n"));
    assert!(
        !stdout.contains("hunter2") && !stdout.contains("AAECAwQF"),
        "{stdout}"
    );
    assert!(
        !dir.path().join("data").exists(),
        "config check must not create files"
    );
}

#[test]
fn an_invalid_value_is_one_precise_line_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &["config", "check"],
        &[("AUDITPULSE_LISTEN", "everywhere")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "error: AUDITPULSE_LISTEN: expected HOST:PORT with an IP address, such as 127.0.0.1:8080, got \"everywhere\"\n"
    );
    // serve refuses the same configuration the same way, without a panic or backtrace.
    let out = run(
        dir.path(),
        &["serve"],
        &[("AUDITPULSE_LISTEN", "everywhere")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(!text(&out.stderr).contains("panicked"));
}

#[test]
fn production_refuses_to_start_with_one_line_per_problem() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("AUDITPULSE_ENV", "production"),
        ("DEBUG", "true"),
        ("ALLOWED_ORIGINS", "*"),
    ];
    for args in [vec!["serve"], vec!["config", "check"]] {
        let out = run(dir.path(), &args, &env);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = text(&out.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 4, "{stderr}");
        assert!(lines.iter().all(|l| l.starts_with("error: ")), "{stderr}");
        assert!(stderr.contains("AUDITPULSE_MASTER_KEYS: required in production"));
        assert!(stderr.contains("DEBUG=true is not allowed in production"));
        assert!(stderr.contains("neither TLS"));
        assert!(stderr.contains("ALLOWED_ORIGINS: * is not allowed"));
    }
    assert!(
        !dir.path().join("data").exists(),
        "production never generates secrets"
    );
}

#[test]
fn migrate_applies_the_schema_and_reports_the_version() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["migrate"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(&format!(
            "is at schema version {}",
            crate::helpers::latest_migration()
        )),
        "{}",
        text(&out.stdout)
    );
    assert!(dir.path().join("data/auditpulse.db").exists());
    let again = run(dir.path(), &["migrate"], &[]);
    assert_eq!(again.status.code(), Some(0));
}

/// A running `auditpulse serve`, with its standard error collected line by line.
pub(crate) struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Server {
    pub(crate) fn start(dir: &Path, env: &[(&str, &str)]) -> Self {
        let mut child = command(dir, &["serve"], env)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Server {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a log line containing `needle`.
    pub(crate) fn wait_for(&mut self, needle: &str) -> String {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(20)) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no log line with {needle:?}; saw:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    pub(crate) fn port(&mut self) -> u16 {
        let line = self.wait_for("listening on");
        let tail = line
            .split("listening on http://127.0.0.1:")
            .nth(1)
            .expect("the API address");
        tail.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap()
    }

    pub(crate) fn terminate(mut self) -> (Option<i32>, String) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let status = self.child.wait().unwrap();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(2)) {
            self.seen.push(line);
        }
        (status.code(), self.seen.join("\n"))
    }
}

impl Drop for Server {
    /// A test that fails half-way must not leave a server running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn get(port: u16, path_and_headers: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET {path_and_headers}\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn serve_with_no_configuration_just_works_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(
        dir.path(),
        &[
            ("AUDITPULSE_LISTEN", "127.0.0.1:0"),
            ("AUDITPULSE_METRICS_LISTEN", "127.0.0.1:0"),
        ],
    );
    let warning = server.wait_for("GENERATED DEVELOPMENT MASTER KEY");
    assert!(warning.contains("WARN"), "{warning}");
    let port = server.port();
    assert!(get(port, "/healthz HTTP/1.1").starts_with("HTTP/1.1 200"));
    let key_file = dir.path().join("data/master.keys");
    assert_eq!(
        std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(dir.path().join("data/auditpulse.db").exists());

    let response = get(port, "/api/v1/tenants?api_key=SECRET-IN-QUERY HTTP/1.1\r\nAuthorization: Bearer SECRET-IN-HEADER");
    assert!(response.starts_with("HTTP/1.1 401"));
    let (code, logs) = server.terminate();
    assert_eq!(code, Some(0), "{logs}");
    assert!(
        logs.contains("SIGTERM received") && logs.contains("AuditPulse stopped"),
        "{logs}"
    );
    assert!(
        logs.contains("route=\"/api/v1/tenants\"") && logs.contains("status=401"),
        "{logs}"
    );
    assert!(
        !logs.contains("SECRET-IN-QUERY") && !logs.contains("SECRET-IN-HEADER"),
        "{logs}"
    );

    // A second start reuses the generated key instead of replacing it.
    let before = std::fs::read(&key_file).unwrap();
    let mut again = Server::start(
        dir.path(),
        &[
            ("AUDITPULSE_LISTEN", "127.0.0.1:0"),
            ("AUDITPULSE_METRICS_LISTEN", "127.0.0.1:0"),
        ],
    );
    again.port();
    assert_eq!(again.terminate().0, Some(0));
    assert_eq!(std::fs::read(&key_file).unwrap(), before);
}

#[test]
fn production_logs_are_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("AUDITPULSE_ENV", "production"),
        ("AUDITPULSE_LISTEN", "127.0.0.1:0"),
        ("AUDITPULSE_METRICS_LISTEN", "off"),
        ("AUDITPULSE_MASTER_KEYS", MASTER_KEY),
        ("AUDITPULSE_TRUSTED_PROXIES", "127.0.0.1"),
    ];
    let mut server = Server::start(dir.path(), &env);
    let port = server.port();
    assert!(get(port, "/healthz HTTP/1.1").starts_with("HTTP/1.1 200"));
    let (code, logs) = server.terminate();
    assert_eq!(code, Some(0));
    let mut saw_request = false;
    // The first-run setup URL goes to stderr directly, not through the logs.
    for line in logs.lines().filter(|l| !l.contains("/setup?token=")) {
        let entry: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        if entry["span"]["route"] == "/healthz" {
            saw_request = true;
            assert_eq!(entry["span"]["status"], 200, "{line}");
            assert!(entry["span"]["request_id"].is_string());
        }
    }
    assert!(saw_request, "{logs}");
    assert!(
        !logs.contains("GENERATED"),
        "production never uses generated keys"
    );
}

#[test]
fn runtime_errors_are_one_line_and_verbose_adds_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    // A directory is not a database file: opening it fails at once.
    let url = format!("sqlite://{}", dir.path().display());
    let env = [("DATABASE_URL", url.as_str())];
    let out = run(dir.path(), &["migrate"], &env);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].contains("cannot open the SQLite database"),
        "{stderr}"
    );
    assert!(!stderr.contains("cause:"));
    let verbose = text(&run(dir.path(), &["migrate", "--verbose"], &env).stderr);
    assert!(
        verbose.lines().any(|l| l.starts_with("cause: ")),
        "{verbose}"
    );
}

/// First run: the real binary prints a one-time setup URL on its bound address (stderr, not the
/// logs), the URL's token sets AuditPulse up once, and later starts print nothing.
#[tokio::test]
async fn first_start_prints_a_setup_url_that_works_once() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("AUDITPULSE_LISTEN", "127.0.0.1:0"),
        ("AUDITPULSE_METRICS_LISTEN", "off"),
    ];
    let mut server = Server::start(dir.path(), &env);
    let port = server.port();
    let line = server.wait_for("/setup?token=");
    let url = line
        .split_whitespace()
        .find(|w| w.contains("/setup?token="))
        .unwrap()
        .to_owned();
    let prefix = format!("http://127.0.0.1:{port}/setup?token=");
    assert!(url.starts_with(&prefix), "{line}");
    let token = url.trim_start_matches(&prefix).to_owned();
    assert!(token.len() >= 43, "256 random bits, base64url: {token}");

    let client = reqwest::Client::new();
    let page = client.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(!page.text().await.unwrap().contains(&token), "never echoed");
    let setup = |token: &str| {
        client
            .post(format!("http://127.0.0.1:{port}/api/v1/setup"))
            .json(&serde_json::json!({"token": token, "tenant_name": "Acme",
                "email": "admin@acme.example", "password": crate::helpers::PASSWORD}))
            .send()
    };
    assert_eq!(setup(&token).await.unwrap().status(), 201);
    assert_eq!(setup(&token).await.unwrap().status(), 404);
    let (code, logs) = server.terminate();
    assert_eq!(code, Some(0), "{logs}");
    assert_eq!(
        logs.matches(&token).count(),
        1,
        "only the deliberate line shows the token: {logs}"
    );

    let mut again = Server::start(dir.path(), &env);
    again.port();
    let (_, logs) = again.terminate();
    assert!(!logs.contains("/setup?token="), "set up already: {logs}");
}
