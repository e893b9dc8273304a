//! The integration tests: the real application on a real listener (port 0), a fresh database per
//! test, on SQLite always and on PostgreSQL when `AUDITPULSE_TEST_POSTGRES_URL` is set (otherwise
//! the PostgreSQL variants are listed as ignored, never as passed). Set `TEST_LOG=1` for logs.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on purpose

mod helpers;

mod audit;
mod audit_store;
mod budget_gateway;
mod budgets;
mod budgets_import;
mod cli;
mod cli_logs;
mod crypto;
mod detection;
mod detection_cli;
mod docs;
mod errors;
mod fake_llm;
mod fake_llm_sdk;
mod gateway;
mod gateway_harness;
mod gateway_sdk;
mod headers;
mod health;
mod identity_store;
mod input;
mod job_runner;
mod jobs;
mod jobs_cli;
mod key_rotation;
mod langchain_example;
mod ledger;
mod ledger_import;
mod llm_calls;
mod llm_usage;
mod lockout;
mod login;
mod metrics;
mod monitor;
mod openapi;
mod otel_sdk;
mod otlp;
mod otlp_links;
mod password;
mod plaid_client;
mod plaid_crash;
mod plaid_harness;
mod plaid_items;
mod plaid_store;
mod plaid_sync;
mod plaid_webhook;
mod prices;
mod providers;
mod ratelimit;
mod refresh;
mod row_security;
mod sessions;
mod setup;
mod shutdown;
mod storage;
mod tenants;
mod timeouts;
mod tls;
mod tokens;
mod totp;

// Account management (id-manage): users, API keys, tenant isolation, the identity CLI.
mod accounts;
mod api_keys;
mod cli_identity;
mod isolation;
mod me_settings;
mod users;
