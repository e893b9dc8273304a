//! AuditPulse: a self-hosted, security-first spend audit service.
//!
//! The map: each module below is one part of the system. Start at `web::routes` for the API,
//! `cli` for the commands, `config::vars` for every setting.
#![forbid(unsafe_code)]

/// The application: wiring of every part, shared state, the registry of background tasks.
pub mod app;
/// The audit trail: append-only, hash-chained security events, verification, retention, API.
pub mod audit;
/// Authentication hook, principals, named permissions and the one authorization check.
pub mod auth;
/// Budgets: spend held to an amount per scope and period; threshold alerts, the gateway's model
/// swap and hard limit with atomic reservations.
pub mod budgets;
/// The `auditpulse` command line: serve, migrate, config check, keys rotate/status, audit verify,
/// tenant create, user create.
pub mod cli;
/// Configuration from the environment and `.env`, validated whole; production refusals.
pub mod config;
/// Encryption at rest: per-tenant data keys wrapped by master keys, field encryption, rotation.
pub mod crypto;
/// Detection: rules, robust statistics and a per-tenant isolation forest; risk scores with reasons.
pub mod detect;
/// Shared value types: opaque ids, UTC time, money in integer minor units.
pub mod domain;
/// The one error type and its JSON rendering.
pub mod error;
/// The one interface for security events, with their counters.
pub mod events;
/// LLM spend: the metering gateway, the versioned price catalog, provider stream readers.
pub mod gateway;
/// Users, login, sessions, TOTP, lockout, API keys, first-run setup; the real authenticator.
pub mod identity;
/// Durable background jobs: the queue, leases, retries with backoff, periodic jobs, the runner.
pub mod jobs;
/// Bank spend: the ledger and its importers (so far the OFX/QFX reader).
pub mod ledger;
/// Masking of sensitive values for display, and the scrubber every log line passes through.
pub mod mask;
/// Prometheus metrics, served on their own listener.
pub mod metrics;
/// OTLP/HTTP trace ingest: GenAI spans of every common convention into priced LLM calls.
pub mod otlp;
/// Outbound HTTP to URLs users configure: the address policy, filtering resolver, bounded client.
pub mod outbound;
/// Plaid: API client, typed errors, minor-unit amounts, verified webhooks.
pub mod plaid;
/// Token-bucket rate limiting by IP and by principal, with graduated blocking.
pub mod ratelimit;
/// Secret values that never print.
pub mod secret;
/// Security monitoring: rules over the security events raise stored security alerts.
pub mod security;
/// Shared storage: pools, migrations, codecs, error mapping, the tenant-scoped transaction.
pub mod store;
/// Logging: JSON lines in production, readable lines in development.
pub mod telemetry;
/// Tenants, the unit of isolation.
pub mod tenants;
/// The HTTP surface: routes, request protections, TLS, graceful shutdown.
pub mod web;

pub use app::Application;
pub use config::Config;
pub use error::{Error, Result};
