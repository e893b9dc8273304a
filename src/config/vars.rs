//! The table of every configuration variable AuditPulse reads: name, default, whether it is secret,
//! and what it does. `.env.example`, `config check` and the unknown-variable warning all come from
//! here, so a variable cannot be read without being documented.

/// One configuration variable.
#[derive(Debug, Clone, Copy)]
pub struct Var {
    pub name: &'static str,
    /// The default as the user would write it; empty means "unset".
    pub default: &'static str,
    pub secret: bool,
    pub help: &'static str,
}

const fn var(name: &'static str, default: &'static str, help: &'static str) -> Var {
    Var {
        name,
        default,
        secret: false,
        help,
    }
}

const fn secret(name: &'static str, help: &'static str) -> Var {
    Var {
        name,
        default: "",
        secret: true,
        help,
    }
}

pub const DATABASE_URL: &str = "DATABASE_URL";
pub const DEBUG: &str = "DEBUG";
pub const LOG_LEVEL: &str = "LOG_LEVEL";
pub const ALLOWED_ORIGINS: &str = "ALLOWED_ORIGINS";
pub const ENV: &str = "AUDITPULSE_ENV";
pub const LISTEN: &str = "AUDITPULSE_LISTEN";
pub const METRICS_LISTEN: &str = "AUDITPULSE_METRICS_LISTEN";
pub const DATA_DIR: &str = "AUDITPULSE_DATA_DIR";
pub const MAX_BODY_BYTES: &str = "AUDITPULSE_MAX_BODY_BYTES";
pub const TRUSTED_PROXIES: &str = "AUDITPULSE_TRUSTED_PROXIES";
pub const TLS_CERT: &str = "AUDITPULSE_TLS_CERT";
pub const TLS_KEY: &str = "AUDITPULSE_TLS_KEY";
pub const MASTER_KEYS: &str = "AUDITPULSE_MASTER_KEYS";
pub const REQUEST_TIMEOUT_SECS: &str = "AUDITPULSE_REQUEST_TIMEOUT_SECS";
pub const HEADER_TIMEOUT_SECS: &str = "AUDITPULSE_HEADER_TIMEOUT_SECS";
pub const SHUTDOWN_GRACE_SECS: &str = "AUDITPULSE_SHUTDOWN_GRACE_SECS";
pub const MAX_CONNECTIONS: &str = "AUDITPULSE_MAX_CONNECTIONS";
pub const DB_MAX_CONNECTIONS: &str = "AUDITPULSE_DB_MAX_CONNECTIONS";
pub const RATE_LIMIT_HEALTH_IP: &str = "AUDITPULSE_RATE_LIMIT_HEALTH_IP";
pub const RATE_LIMIT_API_IP: &str = "AUDITPULSE_RATE_LIMIT_API_IP";
pub const RATE_LIMIT_API_PRINCIPAL: &str = "AUDITPULSE_RATE_LIMIT_API_PRINCIPAL";
pub const RATE_LIMIT_GATEWAY_IP: &str = "AUDITPULSE_RATE_LIMIT_GATEWAY_IP";
pub const RATE_LIMIT_AUTH_IP: &str = "AUDITPULSE_RATE_LIMIT_AUTH_IP";
pub const RATE_LIMIT_AUTH_PRINCIPAL: &str = "AUDITPULSE_RATE_LIMIT_AUTH_PRINCIPAL";
pub const RATE_LIMIT_BLOCK_AFTER: &str = "AUDITPULSE_RATE_LIMIT_BLOCK_AFTER";
pub const RATE_LIMIT_BLOCK_SECS: &str = "AUDITPULSE_RATE_LIMIT_BLOCK_SECS";
pub const RATE_LIMIT_BLOCK_MAX_SECS: &str = "AUDITPULSE_RATE_LIMIT_BLOCK_MAX_SECS";
pub const RATE_LIMIT_MAX_CLIENTS: &str = "AUDITPULSE_RATE_LIMIT_MAX_CLIENTS";
pub const ALERT_FAILED_LOGINS_ACCOUNT: &str = "AUDITPULSE_ALERT_FAILED_LOGINS_ACCOUNT";
pub const ALERT_FAILED_LOGINS_IP: &str = "AUDITPULSE_ALERT_FAILED_LOGINS_IP";
pub const ALERT_FAILED_LOGINS_TENANT: &str = "AUDITPULSE_ALERT_FAILED_LOGINS_TENANT";
pub const ALERT_RATE_LIMIT_BREACHES: &str = "AUDITPULSE_ALERT_RATE_LIMIT_BREACHES";
pub const ALERT_UNUSUAL_HOUR_MIN_LOGINS: &str = "AUDITPULSE_ALERT_UNUSUAL_HOUR_MIN_LOGINS";
pub const ALERT_UNUSUAL_HOUR_PERCENT: &str = "AUDITPULSE_ALERT_UNUSUAL_HOUR_PERCENT";
pub const AUDIT_RETENTION_DAYS: &str = "AUDITPULSE_AUDIT_RETENTION_DAYS";
pub const ACCESS_TOKEN_TTL: &str = "AUDITPULSE_ACCESS_TOKEN_TTL";
pub const SESSION_IDLE_TIMEOUT: &str = "AUDITPULSE_SESSION_IDLE_TIMEOUT";
pub const SESSION_MAX_LIFETIME: &str = "AUDITPULSE_SESSION_MAX_LIFETIME";
pub const ALLOW_PRIVATE_OUTBOUND: &str = "AUDITPULSE_ALLOW_PRIVATE_OUTBOUND";
pub const PLAID_CLIENT_ID: &str = "AUDITPULSE_PLAID_CLIENT_ID";
pub const PLAID_SECRET: &str = "AUDITPULSE_PLAID_SECRET";
pub const PLAID_ENV: &str = "AUDITPULSE_PLAID_ENV";
pub const PLAID_BASE_URL: &str = "AUDITPULSE_PLAID_BASE_URL";
pub const PLAID_WEBHOOK_URL: &str = "AUDITPULSE_PLAID_WEBHOOK_URL";
pub const PLAID_SYNC_INTERVAL: &str = "AUDITPULSE_PLAID_SYNC_INTERVAL";
pub const IMPORT_MAX_BYTES: &str = "AUDITPULSE_IMPORT_MAX_BYTES";
pub const IMPORT_MAX_ROWS: &str = "AUDITPULSE_IMPORT_MAX_ROWS";
pub const BUDGET_EVALUATE_INTERVAL: &str = "AUDITPULSE_BUDGET_EVALUATE_INTERVAL";
pub const BUDGET_RESERVATION_TTL: &str = "AUDITPULSE_BUDGET_RESERVATION_TTL";
pub const BUDGET_MAX_OUTPUT_TOKENS: &str = "AUDITPULSE_BUDGET_MAX_OUTPUT_TOKENS";
pub const BUDGETS_FILE: &str = "AUDITPULSE_BUDGETS_FILE";
pub const BUDGETS_TENANT: &str = "AUDITPULSE_BUDGETS_TENANT";

/// Every variable, in the order `config check` and `.env.example` show them.
pub const ALL: &[Var] = &[
    var(ENV, "development", "`development` or `production`; production refuses unsafe settings"),
    var(LISTEN, "127.0.0.1:8080", "address and port the API listens on"),
    var(METRICS_LISTEN, "127.0.0.1:9464", "address of the separate Prometheus /metrics listener, or `off`"),
    var(DATA_DIR, "./data", "where the embedded database and generated development secrets live"),
    var(DATABASE_URL, "sqlite://<data dir>/auditpulse.db", "sqlite:PATH or postgres://USER@HOST/DB?sslmode=require"),
    var(DB_MAX_CONNECTIONS, "10", "database connection pool size"),
    var(DEBUG, "false", "more verbose logs (never allowed in production; never exposes details to clients)"),
    var(LOG_LEVEL, "info", "error, warn, info, debug, trace, or a tracing filter such as `auditpulse=debug,info`"),
    var(ALLOWED_ORIGINS, "", "comma-separated origins allowed by CORS, e.g. https://audit.example.com; empty allows none"),
    var(TRUSTED_PROXIES, "", "comma-separated IPs/CIDRs of reverse proxies whose X-Forwarded-For is believed"),
    var(TLS_CERT, "", "PEM certificate chain; with AUDITPULSE_TLS_KEY, serve HTTPS (TLS 1.2 and 1.3 only)"),
    var(TLS_KEY, "", "PEM private key for AUDITPULSE_TLS_CERT"),
    secret(MASTER_KEYS, "master keys `id:base64(32 bytes)`, comma-separated, first is active; generated into the data dir in development only"),
    var(MAX_BODY_BYTES, "1048576", "largest request body accepted, in bytes"),
    var(REQUEST_TIMEOUT_SECS, "30", "a request (body included) not answered within this many seconds gets 408"),
    var(HEADER_TIMEOUT_SECS, "10", "a client that does not finish sending headers within this many seconds (counted from when it connects, or from the previous response) is disconnected"),
    var(MAX_CONNECTIONS, "512", "open client connections at most; a connection beyond this is closed at once"),
    var(SHUTDOWN_GRACE_SECS, "20", "on SIGTERM/SIGINT, how long in-flight requests may take to finish"),
    var(RATE_LIMIT_HEALTH_IP, "off", "per-IP limit of /healthz and /readyz: `N/s`, `N/m` or `N/h`, optional `,burst=B`, or `off`"),
    var(RATE_LIMIT_API_IP, "50/s,burst=100", "per-IP limit of /api routes"),
    var(RATE_LIMIT_API_PRINCIPAL, "100/s,burst=200", "per-user or per-API-key limit of /api routes"),
    var(RATE_LIMIT_GATEWAY_IP, "5000/s,burst=10000", "per-IP limit of the LLM gateway routes (/v1/...): one application server sends many calls"),
    var(RATE_LIMIT_AUTH_IP, "5/m,burst=5", "per-IP limit of /api/v1/auth and /api/v1/setup routes"),
    var(RATE_LIMIT_AUTH_PRINCIPAL, "30/m,burst=10", "per-user limit of /api/v1/auth routes"),
    var(RATE_LIMIT_BLOCK_AFTER, "10", "refused requests in a row after which a client is blocked"),
    var(RATE_LIMIT_BLOCK_SECS, "60", "first block period; each further block doubles it"),
    var(RATE_LIMIT_BLOCK_MAX_SECS, "900", "longest block period"),
    var(RATE_LIMIT_MAX_CLIENTS, "100000", "clients remembered per limiter; the least recently seen are forgotten first"),
    var(ALERT_FAILED_LOGINS_ACCOUNT, "10/15m", "failed logins for one account within a window that raise a failed-login-spike alert"),
    var(ALERT_FAILED_LOGINS_IP, "20/15m", "failed logins from one IP within a window that raise a failed-login-spike alert"),
    var(ALERT_FAILED_LOGINS_TENANT, "50/15m", "failed logins across one tenant within a window that raise a failed-login-spike alert"),
    var(ALERT_RATE_LIMIT_BREACHES, "5/10m", "rate-limit breaches by one IP or principal within a window that raise an API-abuse alert"),
    var(ALERT_UNUSUAL_HOUR_MIN_LOGINS, "20", "logins a user needs before an hour can be called unusual for them"),
    var(ALERT_UNUSUAL_HOUR_PERCENT, "5", "an hour (with its neighbours) under this share of a user's logins is unusual"),
    var(AUDIT_RETENTION_DAYS, "400", "audit events older than this many days are pruned (whole oldest prefix, with a signed checkpoint)"),
    var(ACCESS_TOKEN_TTL, "1800", "seconds an access token (JWT) is valid; sessions are checked on every request regardless"),
    var(SESSION_IDLE_TIMEOUT, "1800", "seconds without activity after which a session ends"),
    var(SESSION_MAX_LIFETIME, "604800", "seconds after login at which a session ends whatever its activity (7 days)"),
    var(ALLOW_PRIVATE_OUTBOUND, "false", "let outbound URLs (Plaid base URL, later LLM providers and webhooks) reach private, loopback and link-local addresses; for local fakes only, refused in production"),
    var(PLAID_CLIENT_ID, "", "Plaid client id; with AUDITPULSE_PLAID_SECRET turns Plaid on (without it Plaid routes answer 409)"),
    secret(PLAID_SECRET, "Plaid secret for the chosen environment"),
    var(PLAID_ENV, "sandbox", "`sandbox` (https://sandbox.plaid.com) or `production` (https://production.plaid.com)"),
    var(PLAID_BASE_URL, "", "override of the Plaid host, e.g. for a test fake; checked by the outbound policy"),
    var(PLAID_WEBHOOK_URL, "", "public https URL of POST /api/v1/plaid/webhook that Plaid is told to call, e.g. https://audit.example.com/api/v1/plaid/webhook"),
    var(PLAID_SYNC_INTERVAL, "6h", "fallback sync of every active Plaid item this often (`30m`, `6h`, `1d` or seconds)"),
    var(IMPORT_MAX_BYTES, "20971520", "largest bank file (OFX, QFX, CSV) accepted by POST /api/v1/imports and `auditpulse import`, in bytes (20 MiB)"),
    var(IMPORT_MAX_ROWS, "1000000", "most transactions accepted in one bank file"),
    var(BUDGET_EVALUATE_INTERVAL, "10s", "how often budgets are checked against their alert thresholds and the gateway's counters refreshed (`1s` to `1h`)"),
    var(BUDGET_RESERVATION_TTL, "15m", "a gateway reservation whose call never ended (a crash) is given back after this long"),
    var(BUDGET_MAX_OUTPUT_TOKENS, "32768", "output tokens a gateway call is reserved for when it names no max_tokens, under a budget with a hard limit or swap"),
    var(BUDGETS_FILE, "", "a `budget_rules:` YAML file imported at start (needs AUDITPULSE_BUDGETS_TENANT)"),
    var(BUDGETS_TENANT, "", "the slug of the tenant AUDITPULSE_BUDGETS_FILE is imported for"),
];

/// The variable named `name`, if AuditPulse knows it.
pub fn find(name: &str) -> Option<&'static Var> {
    ALL.iter().find(|v| v.name == name)
}

/// Whether a variable name belongs to AuditPulse's namespace (and so must be known).
pub fn is_ours(name: &str) -> bool {
    name.starts_with("AUDITPULSE_") && !name.starts_with("AUDITPULSE_TEST_")
}
