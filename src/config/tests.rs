//! Loading and validating configuration as a whole.

use super::*;

const KEY: &str = "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

fn load(pairs: &[(&str, &str)]) -> Result<Loaded, Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let mut all: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if !pairs.iter().any(|(k, _)| *k == vars::DATA_DIR) {
        all.push((
            vars::DATA_DIR.into(),
            dir.path().join("data").display().to_string(),
        ));
    }
    Config::load(&Sources::from_pairs(all), SecretMode::Generate)
}

fn production_errors(pairs: &[(&str, &str)]) -> Vec<String> {
    let mut all = vec![(vars::ENV, "production")];
    all.extend_from_slice(pairs);
    load(&all).expect_err("production must refuse this configuration")
}

#[test]
fn no_configuration_gives_working_development_defaults() {
    let loaded = load(&[]).unwrap();
    let c = &loaded.config;
    assert_eq!(c.environment, Environment::Development);
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.max_body_bytes, 1 << 20);
    assert_eq!(c.database_url.backend(), "sqlite");
    assert!(c.database_url.to_string().ends_with("data/auditpulse.db"));
    assert_eq!(c.master_keys.as_ref().unwrap().origin, Origin::Generated);
    assert!(generated_secret_warnings(c)[0].contains("GENERATED DEVELOPMENT MASTER KEY"));
    assert_eq!(c.rate_limits.auth_ip.unwrap().to_string(), "5/m,burst=5");
    assert_eq!(c.metrics_listen.unwrap().to_string(), "127.0.0.1:9464");
    assert_eq!(
        load(&[(vars::METRICS_LISTEN, "off")])
            .unwrap()
            .config
            .metrics_listen,
        None
    );
}

#[test]
fn every_invalid_value_is_reported_at_once_naming_its_variable() {
    let errors = load(&[
        (vars::LISTEN, "localhost"),
        (vars::MAX_BODY_BYTES, "big"),
        (vars::RATE_LIMIT_API_IP, "fast"),
        (vars::DATABASE_URL, "mysql://x"),
        (vars::LOG_LEVEL, "loud=[[["),
    ])
    .unwrap_err();
    assert_eq!(errors.len(), 5, "{errors:?}");
    for name in [
        vars::LISTEN,
        vars::MAX_BODY_BYTES,
        vars::RATE_LIMIT_API_IP,
        vars::DATABASE_URL,
        vars::LOG_LEVEL,
    ] {
        assert!(
            errors.iter().any(|e| e.starts_with(name)),
            "{name} missing from {errors:?}"
        );
    }
}

#[test]
fn unknown_auditpulse_variables_are_named_with_a_suggestion() {
    let loaded = load(&[
        ("AUDITPULSE_LISTN", "127.0.0.1:1"),
        ("HOME", "/root"),
        ("AUDITPULSE_TEST_POSTGRES_URL", "x"),
    ])
    .unwrap();
    assert_eq!(
        loaded.warnings,
        vec!["unknown configuration variable AUDITPULSE_LISTN is ignored (did you mean AUDITPULSE_LISTEN?)"]
    );
}

#[test]
fn tls_needs_both_files() {
    let errors = load(&[(vars::TLS_CERT, "/nonexistent.pem")]).unwrap_err();
    assert!(errors[0].contains("must be set together"), "{errors:?}");
}

#[test]
fn a_safe_production_configuration_is_accepted() {
    let loaded = load(&[
        (vars::ENV, "production"),
        (vars::MASTER_KEYS, KEY),
        (vars::TRUSTED_PROXIES, "10.0.0.0/8"),
        (
            vars::DATABASE_URL,
            "postgres://ap@db.internal/ap?sslmode=verify-full",
        ),
        (vars::ALLOWED_ORIGINS, "https://audit.example.com"),
    ])
    .unwrap();
    assert!(loaded.config.is_production());
}

#[test]
fn production_refuses_generated_or_missing_master_keys() {
    let errors = production_errors(&[(vars::TRUSTED_PROXIES, "10.0.0.1")]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("AUDITPULSE_MASTER_KEYS: required in production"));
    // Even when a development key file exists in the data dir, production does not use it.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().display().to_string();
    load(&[(vars::DATA_DIR, &data)]).unwrap();
    let errors = production_errors(&[(vars::DATA_DIR, &data), (vars::TRUSTED_PROXIES, "10.0.0.1")]);
    assert!(
        errors[0].starts_with("AUDITPULSE_MASTER_KEYS"),
        "{errors:?}"
    );
}

#[test]
fn production_refuses_each_unsafe_setting_with_one_line() {
    let errors = production_errors(&[
        (vars::MASTER_KEYS, KEY),
        (vars::DEBUG, "true"),
        (
            vars::DATABASE_URL,
            "postgres://ap:pw@db.internal/ap?sslmode=prefer",
        ),
        (
            vars::ALLOWED_ORIGINS,
            "*,http://audit.example.com,https://ok.example.com",
        ),
    ]);
    assert_eq!(
        errors,
        vec![
            "DEBUG=true is not allowed in production",
            "DATABASE_URL: a PostgreSQL server on another host needs sslmode=require, verify-ca or verify-full",
            "neither TLS (AUDITPULSE_TLS_CERT/AUDITPULSE_TLS_KEY) nor a TLS-terminating proxy (AUDITPULSE_TRUSTED_PROXIES) is configured",
            "ALLOWED_ORIGINS: * is not allowed in production; list the origins",
            "ALLOWED_ORIGINS: http://audit.example.com is not https",
        ]
    );
    assert!(errors.iter().all(|e| !e.contains("pw")));
}

#[test]
fn report_redacts_every_secret_and_names_sources() {
    let loaded = load(&[
        (vars::MASTER_KEYS, KEY),
        (vars::DATABASE_URL, "postgres://ap:hunter2@localhost/ap"),
    ])
    .unwrap();
    let sources = Sources::from_pairs([
        (vars::MASTER_KEYS, KEY),
        (vars::DATABASE_URL, "postgres://ap:hunter2@localhost/ap"),
    ]);
    let lines = report(&loaded.config, &sources).join("\n");
    assert!(
        !lines.contains("hunter2") && !lines.contains("AAAAAAAA"),
        "{lines}"
    );
    assert!(
        lines
            .contains("AUDITPULSE_MASTER_KEYS=[REDACTED] (key ids: k1; active: k1)  [environment]"),
        "{lines}"
    );
    assert!(
        lines.contains("AUDITPULSE_LISTEN=127.0.0.1:8080  [default]"),
        "{lines}"
    );
    assert_eq!(lines.lines().count(), vars::ALL.len());
}

#[test]
fn env_example_documents_exactly_the_known_variables() {
    let example = include_str!("../../.env.example");
    let documented: Vec<&str> = example
        .lines()
        .filter_map(|l| l.trim_start_matches('#').split_once('='))
        .map(|(name, _)| name)
        .filter(|name| name.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .collect();
    let known: Vec<&str> = vars::ALL.iter().map(|v| v.name).collect();
    assert_eq!(
        documented, known,
        ".env.example must list every variable of vars::ALL, in order"
    );
    for var in vars::ALL
        .iter()
        .filter(|v| !v.secret && !v.default.starts_with('<'))
    {
        assert!(
            example.contains(&format!("#{}={}\n", var.name, var.default)),
            "{} default differs",
            var.name
        );
    }
}
