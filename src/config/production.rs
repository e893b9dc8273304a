//! What production mode refuses. Each problem is one line that says what to change.

use super::{vars, Config, Origin};

pub fn problems(config: &Config) -> Vec<String> {
    let mut problems = Vec::new();
    match &config.master_keys {
        Some(keys) if keys.origin == Origin::Generated => problems.push(format!(
            "{}: production refuses generated development keys; set it in the environment",
            vars::MASTER_KEYS
        )),
        None => problems.push(format!(
            "{}: required in production (id:base64 of 32 random bytes, e.g. k1:$(head -c32 /dev/urandom | base64))",
            vars::MASTER_KEYS
        )),
        Some(_) => {}
    }
    if config.outbound.allow_private {
        problems.push(format!(
            "{}=true is not allowed in production: outbound requests must not reach private or loopback addresses",
            vars::ALLOW_PRIVATE_OUTBOUND
        ));
    }
    if config.debug {
        problems.push(format!("{}=true is not allowed in production", vars::DEBUG));
    }
    if config.database_url.remote_without_tls() == Some(true) {
        problems.push(format!(
            "{}: a PostgreSQL server on another host needs sslmode=require, verify-ca or verify-full",
            vars::DATABASE_URL
        ));
    }
    if config.tls.is_none() && config.trusted_proxies.is_empty() {
        problems.push(format!(
            "neither TLS ({}/{}) nor a TLS-terminating proxy ({}) is configured",
            vars::TLS_CERT,
            vars::TLS_KEY,
            vars::TRUSTED_PROXIES
        ));
    }
    for origin in &config.allowed_origins {
        if origin == "*" {
            problems.push(format!(
                "{}: * is not allowed in production; list the origins",
                vars::ALLOWED_ORIGINS
            ));
        } else if !origin.starts_with("https://") {
            problems.push(format!("{}: {origin} is not https", vars::ALLOWED_ORIGINS));
        }
    }
    problems
}
