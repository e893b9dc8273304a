//! Configuration: read from the environment and `.env`, validated whole, reported with secrets
//! redacted. Every variable is declared in `vars.rs`.
//!
//! Invariant: a `Config` only exists when every value parsed; all problems are reported at once,
//! one line each. Production-only refusals live in `production.rs`.

mod budgets;
mod database;
mod master_keys;
mod parse;
mod plaid;
mod production;
mod report;
mod source;
pub mod vars;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;

pub use database::DatabaseUrl;
pub use master_keys::{create_private_dir, MasterKey, MasterKeys};
pub use plaid::{PlaidConfig, PlaidEnv};
pub use report::report;
pub use source::{Origin, Sources};

use crate::ratelimit::{BlockPolicy, Rate, RateLimits};
use crate::security::{MonitorConfig, Threshold};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A secret value together with where it came from.
#[derive(Debug, Clone)]
pub struct Sourced<T> {
    pub value: T,
    pub origin: Origin,
}

/// What to do when a required secret is missing in development.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretMode {
    /// Generate it into the data directory (serve, migrate).
    Generate,
    /// Only look: use an existing generated file, otherwise leave it absent (config check).
    Inspect,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub environment: Environment,
    pub debug: bool,
    pub log_level: String,
    pub listen: SocketAddr,
    /// The metrics listener; `None` when switched off.
    pub metrics_listen: Option<SocketAddr>,
    pub data_dir: PathBuf,
    pub database_url: DatabaseUrl,
    pub db_max_connections: u32,
    pub allowed_origins: Vec<String>,
    pub trusted_proxies: Vec<IpNet>,
    pub tls: Option<TlsFiles>,
    /// `None` only in `SecretMode::Inspect` before the development key has been generated.
    pub master_keys: Option<Sourced<MasterKeys>>,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub header_timeout: Duration,
    pub shutdown_grace: Duration,
    /// Open client connections to the API listener at most.
    pub max_connections: usize,
    pub rate_limits: RateLimits,
    pub monitor: MonitorConfig,
    /// Audit events older than this many days are pruned.
    pub audit_retention_days: u32,
    pub sessions: SessionConfig,
    /// What outbound URLs users configure may reach.
    pub outbound: crate::outbound::OutboundPolicy,
    /// `None` when Plaid is not configured.
    pub plaid: Option<PlaidConfig>,
    pub imports: ImportLimits,
    pub budgets: budgets::BudgetConfig,
}

/// Bounds on one bank-file import.
#[derive(Debug, Clone, Copy)]
pub struct ImportLimits {
    pub max_bytes: u64,
    pub max_rows: u64,
}

/// Lifetimes of access tokens and sessions.
#[derive(Debug, Clone, Copy)]
pub struct SessionConfig {
    pub access_token_ttl: Duration,
    /// A session without activity for this long has ended.
    pub idle_timeout: Duration,
    /// A session older than this has ended, whatever its activity.
    pub max_lifetime: Duration,
}

/// A loaded configuration, with the warnings to show once logging is up.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<String>,
}

/// Collects values and the errors met while reading them.
struct Reader<'a> {
    sources: &'a Sources,
    errors: Vec<String>,
}

impl Reader<'_> {
    fn raw(&self, name: &str) -> Option<&str> {
        self.sources.get(name).map(|(value, _)| value)
    }

    /// Parses `name` (or its default from `vars.rs`), recording an error naming the variable.
    fn get<T>(&mut self, name: &str, parse: impl FnOnce(&str) -> Result<T, String>) -> Option<T> {
        let value = self
            .raw(name)
            .or_else(|| vars::find(name).map(|v| v.default))?;
        match parse(value) {
            Ok(v) => Some(v),
            Err(message) => {
                self.errors.push(format!("{name}: {message}"));
                None
            }
        }
    }

    fn secs(&mut self, name: &str, max: u64) -> Option<Duration> {
        self.get(name, |v| parse::integer(v, 1, max))
            .map(Duration::from_secs)
    }

    fn rate(&mut self, name: &str) -> Option<Option<Rate>> {
        self.get(name, Rate::parse)
    }
}

impl Config {
    /// Reads and validates the configuration. In production, unsafe settings are refused here too.
    pub fn load(sources: &Sources, mode: SecretMode) -> Result<Loaded, Vec<String>> {
        let mut r = Reader {
            sources,
            errors: Vec::new(),
        };
        let warnings = unknown_variable_warnings(sources);
        let environment = r.get(vars::ENV, |v| match v {
            "development" | "dev" => Ok(Environment::Development),
            "production" | "prod" => Ok(Environment::Production),
            _ => Err(format!("expected development or production, got {v:?}")),
        });
        let debug = r.get(vars::DEBUG, parse::boolean);
        let log_level = r.raw(vars::LOG_LEVEL).map(str::to_owned);
        let listen = r.get(vars::LISTEN, parse::socket_addr);
        let metrics_listen = r.get(vars::METRICS_LISTEN, |v| match v {
            "off" => Ok(None),
            _ => parse::socket_addr(v).map(Some),
        });
        let data_dir = PathBuf::from(r.raw(vars::DATA_DIR).unwrap_or("./data"));
        let database_url = match r.raw(vars::DATABASE_URL) {
            Some(_) => r.get(vars::DATABASE_URL, DatabaseUrl::parse),
            None => Some(DatabaseUrl::default_for(&data_dir)),
        };
        let db_max_connections = r.get(vars::DB_MAX_CONNECTIONS, |v| parse::integer(v, 1, 1000));
        let allowed_origins = r.get(vars::ALLOWED_ORIGINS, parse::origins);
        let trusted_proxies = r.get(vars::TRUSTED_PROXIES, parse::networks);
        let tls = read_tls(&mut r);
        let max_body_bytes = r.get(vars::MAX_BODY_BYTES, |v| parse::integer(v, 1024, 1 << 30));
        let request_timeout = r.secs(vars::REQUEST_TIMEOUT_SECS, 3600);
        let header_timeout = r.secs(vars::HEADER_TIMEOUT_SECS, 600);
        let shutdown_grace = r.secs(vars::SHUTDOWN_GRACE_SECS, 3600);
        let max_connections = r.get(vars::MAX_CONNECTIONS, |v| parse::integer(v, 1, 1_000_000));
        let rate_limits = read_rate_limits(&mut r);
        let monitor = read_monitor(&mut r);
        let audit_retention_days =
            r.get(vars::AUDIT_RETENTION_DAYS, |v| parse::integer(v, 1, 36_500));
        let access_token_ttl = r.secs(vars::ACCESS_TOKEN_TTL, 24 * 3600);
        let idle_timeout = r.secs(vars::SESSION_IDLE_TIMEOUT, 30 * 24 * 3600);
        let max_lifetime = r.secs(vars::SESSION_MAX_LIFETIME, 365 * 24 * 3600);
        let imports = read_import_limits(&mut r);
        let budgets = budgets::read(&mut r);

        let production = environment == Some(Environment::Production);
        let outbound = plaid::read_outbound(&mut r, production);
        let plaid = plaid::read(&mut r, outbound);
        let master_keys = read_master_keys(&mut r, &data_dir, production, mode);
        let log_level = match log_level {
            Some(level) => validate_log_level(&level)
                .map_err(|e| r.errors.push(format!("{}: {e}", vars::LOG_LEVEL)))
                .ok()
                .map(|()| level),
            None => Some(if debug == Some(true) { "debug" } else { "info" }.to_owned()),
        };

        let (
            Some(environment),
            Some(debug),
            Some(log_level),
            Some(listen),
            Some(metrics_listen),
            Some(database_url),
            Some(db_max_connections),
            Some(allowed_origins),
            Some(trusted_proxies),
            Some(tls),
            Some(max_body_bytes),
            Some(request_timeout),
            Some(header_timeout),
            Some(shutdown_grace),
            Some(max_connections),
            Some(rate_limits),
            Some(master_keys),
            Some(monitor),
            Some(audit_retention_days),
            Some(access_token_ttl),
            Some(idle_timeout),
            Some(max_lifetime),
            Some(outbound),
            Some(plaid),
            Some(imports),
            Some(budgets),
        ) = (
            environment,
            debug,
            log_level,
            listen,
            metrics_listen,
            database_url,
            db_max_connections,
            allowed_origins,
            trusted_proxies,
            tls,
            max_body_bytes,
            request_timeout,
            header_timeout,
            shutdown_grace,
            max_connections,
            rate_limits,
            master_keys,
            monitor,
            audit_retention_days,
            access_token_ttl,
            idle_timeout,
            max_lifetime,
            outbound,
            plaid,
            imports,
            budgets,
        )
        else {
            return Err(r.errors);
        };
        if !r.errors.is_empty() {
            return Err(r.errors);
        }
        let config = Config {
            environment,
            debug,
            log_level,
            listen,
            metrics_listen,
            data_dir,
            database_url,
            db_max_connections: db_max_connections as u32,
            allowed_origins,
            trusted_proxies,
            tls,
            master_keys,
            max_body_bytes: max_body_bytes as usize,
            request_timeout,
            header_timeout,
            shutdown_grace,
            max_connections: max_connections as usize,
            rate_limits,
            monitor,
            audit_retention_days: audit_retention_days as u32,
            sessions: SessionConfig {
                access_token_ttl,
                idle_timeout,
                max_lifetime,
            },
            outbound,
            plaid,
            imports,
            budgets,
        };
        if config.environment == Environment::Production {
            let problems = production::problems(&config);
            if !problems.is_empty() {
                return Err(problems);
            }
        }
        Ok(Loaded { config, warnings })
    }

    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }
}

fn unknown_variable_warnings(sources: &Sources) -> Vec<String> {
    sources
        .names()
        .filter(|name| vars::is_ours(name) && vars::find(name).is_none())
        .map(|name| {
            let hint = vars::ALL
                .iter()
                .filter(|v| v.name.starts_with("AUDITPULSE_"))
                .min_by_key(|v| edit_distance(v.name, name))
                .filter(|v| edit_distance(v.name, name) <= 3)
                .map(|v| format!(" (did you mean {}?)", v.name))
                .unwrap_or_default();
            format!("unknown configuration variable {name} is ignored{hint}")
        })
        .collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

fn validate_log_level(level: &str) -> Result<(), String> {
    tracing_subscriber::EnvFilter::builder()
        .parse(level)
        .map(|_| ())
        .map_err(|e| format!("not a valid level or filter ({e})"))
}

fn read_tls(r: &mut Reader<'_>) -> Option<Option<TlsFiles>> {
    let cert = r.raw(vars::TLS_CERT).map(PathBuf::from);
    let key = r.raw(vars::TLS_KEY).map(PathBuf::from);
    match (cert, key) {
        (None, None) => Some(None),
        (Some(cert), Some(key)) => {
            let mut ok = true;
            for (name, path) in [(vars::TLS_CERT, &cert), (vars::TLS_KEY, &key)] {
                if !path.is_file() {
                    r.errors
                        .push(format!("{name}: {} is not a readable file", path.display()));
                    ok = false;
                }
            }
            ok.then_some(Some(TlsFiles { cert, key }))
        }
        _ => {
            r.errors.push(format!(
                "{} and {} must be set together",
                vars::TLS_CERT,
                vars::TLS_KEY
            ));
            None
        }
    }
}

fn read_rate_limits(r: &mut Reader<'_>) -> Option<RateLimits> {
    let health_ip = r.rate(vars::RATE_LIMIT_HEALTH_IP);
    let api_ip = r.rate(vars::RATE_LIMIT_API_IP);
    let api_principal = r.rate(vars::RATE_LIMIT_API_PRINCIPAL);
    let gateway_ip = r.rate(vars::RATE_LIMIT_GATEWAY_IP);
    let auth_ip = r.rate(vars::RATE_LIMIT_AUTH_IP);
    let auth_principal = r.rate(vars::RATE_LIMIT_AUTH_PRINCIPAL);
    let after = r.get(vars::RATE_LIMIT_BLOCK_AFTER, |v| {
        parse::integer(v, 1, 1_000_000)
    });
    let base = r.secs(vars::RATE_LIMIT_BLOCK_SECS, 86_400);
    let max = r.secs(vars::RATE_LIMIT_BLOCK_MAX_SECS, 86_400 * 7);
    let max_clients = r.get(vars::RATE_LIMIT_MAX_CLIENTS, |v| {
        parse::integer(v, 16, 10_000_000)
    });
    if let (Some(base), Some(max)) = (base, max) {
        if max < base {
            r.errors.push(format!(
                "{} must not be below {}",
                vars::RATE_LIMIT_BLOCK_MAX_SECS,
                vars::RATE_LIMIT_BLOCK_SECS
            ));
        }
    }
    Some(RateLimits {
        health_ip: health_ip?,
        api_ip: api_ip?,
        api_principal: api_principal?,
        gateway_ip: gateway_ip?,
        auth_ip: auth_ip?,
        auth_principal: auth_principal?,
        block: BlockPolicy {
            after: after? as u32,
            base: base?,
            max: max?,
        },
        max_clients: max_clients? as usize,
    })
}

fn read_import_limits(r: &mut Reader<'_>) -> Option<ImportLimits> {
    let max_bytes = r.get(vars::IMPORT_MAX_BYTES, |v| parse::integer(v, 1024, 1 << 32));
    let max_rows = r.get(vars::IMPORT_MAX_ROWS, |v| parse::integer(v, 1, 100_000_000));
    Some(ImportLimits {
        max_bytes: max_bytes?,
        max_rows: max_rows?,
    })
}

fn read_monitor(r: &mut Reader<'_>) -> Option<MonitorConfig> {
    let account = r.get(vars::ALERT_FAILED_LOGINS_ACCOUNT, Threshold::parse);
    let ip = r.get(vars::ALERT_FAILED_LOGINS_IP, Threshold::parse);
    let tenant = r.get(vars::ALERT_FAILED_LOGINS_TENANT, Threshold::parse);
    let breaches = r.get(vars::ALERT_RATE_LIMIT_BREACHES, Threshold::parse);
    let min_logins = r.get(vars::ALERT_UNUSUAL_HOUR_MIN_LOGINS, |v| {
        parse::integer(v, 1, 1_000_000)
    });
    let percent = r.get(vars::ALERT_UNUSUAL_HOUR_PERCENT, |v| {
        parse::integer(v, 1, 100)
    });
    Some(MonitorConfig {
        failed_logins_account: account?,
        failed_logins_ip: ip?,
        failed_logins_tenant: tenant?,
        rate_limit_breaches: breaches?,
        unusual_hour_min_logins: min_logins?,
        unusual_hour_percent: percent?,
    })
}

fn read_master_keys(
    r: &mut Reader<'_>,
    data_dir: &std::path::Path,
    production: bool,
    mode: SecretMode,
) -> Option<Option<Sourced<MasterKeys>>> {
    if let Some((_, origin)) = r.sources.get(vars::MASTER_KEYS) {
        return r
            .get(vars::MASTER_KEYS, MasterKeys::parse)
            .map(|value| Some(Sourced { value, origin }));
    }
    // Generating a secret is a side effect: only do it for an otherwise valid configuration.
    let mode = if r.errors.is_empty() {
        mode
    } else {
        SecretMode::Inspect
    };
    if production {
        // Never generate or read development keys in production; `production.rs` reports it.
        return Some(None);
    }
    let generated = match master_keys::read_generated(data_dir) {
        Ok(Some(keys)) => Some(keys),
        Ok(None) if mode == SecretMode::Generate => match master_keys::generate(data_dir) {
            Ok(keys) => Some(keys),
            Err(e) => {
                r.errors.push(format!("{}: {e}", vars::MASTER_KEYS));
                return None;
            }
        },
        Ok(None) => None,
        Err(e) => {
            r.errors.push(format!("{}: {e}", vars::MASTER_KEYS));
            return None;
        }
    };
    Some(generated.map(|value| Sourced {
        value,
        origin: Origin::Generated,
    }))
}

/// Warnings to log loudly at every start while development secrets are in use.
pub fn generated_secret_warnings(config: &Config) -> Vec<String> {
    let mut warnings = Vec::new();
    if config
        .master_keys
        .as_ref()
        .is_some_and(|k| k.origin == Origin::Generated)
    {
        warnings.push(format!(
            "USING A GENERATED DEVELOPMENT MASTER KEY from {}: production must set {} itself (see .env.example)",
            master_keys::generated_path(&config.data_dir).display(),
            vars::MASTER_KEYS
        ));
    }
    warnings
}

#[cfg(test)]
mod tests;
