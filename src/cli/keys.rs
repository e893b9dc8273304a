//! `auditpulse keys rotate` and `auditpulse keys status`.
//!
//! Both run beside a serving AuditPulse on the same database. They need the master keys of the
//! configuration and a database at the current schema (they never migrate it themselves).

use std::io::Write;
use std::sync::Arc;

use super::commands::{load, start_logging};
use super::{Failure, KeysCommand};
use crate::app::Store;
use crate::audit::{AuditLog, AuditSink};
use crate::config::SecretMode;
use crate::crypto::{Keyring, Rotation};
use crate::error::Error;
use crate::events::{Events, SecurityEvent, SecurityEventKind};

pub async fn run(command: &KeysCommand, out: &mut dyn Write) -> Result<(), Failure> {
    let (loaded, _) = load(SecretMode::Inspect)?;
    start_logging(&loaded)?;
    let config = &loaded.config;
    let master = crate::app::master_keys(config)?;
    let store = crate::app::connect(&config.database_url, 2).await?;
    let result = with_store(command, master, store.clone(), out).await;
    store.close().await;
    result
}

async fn with_store(
    command: &KeysCommand,
    master: crate::config::MasterKeys,
    store: Arc<dyn Store>,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let status = store.schema_status().await?;
    if !status.is_current() {
        return Err(Error::Config(format!(
            "the database schema is at version {}, not {}; run `auditpulse migrate` first",
            status.applied.unwrap_or(0),
            status.latest
        ))
        .into());
    }
    let keyring = Keyring::new(master, store.clone());
    match command {
        KeysCommand::Rotate { reencrypt_data } => {
            let options = Rotation {
                reencrypt_data: *reencrypt_data,
                ..Rotation::default()
            };
            let report = keyring.rotate(&options).await?;
            let _ = writeln!(
                out,
                "re-wrapped {} tenant data key(s) under master key {}",
                report.rewrapped,
                keyring.master_keys().active().id
            );
            if *reencrypt_data {
                let _ = writeln!(
                    out,
                    "created {} new tenant data key(s), re-encrypted {} field(s), retired {} old data key(s)",
                    report.data_keys_created, report.fields_reencrypted, report.data_keys_retired
                );
            }
            let details = serde_json::json!({
                "reencrypt_data": reencrypt_data,
                "rewrapped": report.rewrapped,
                "data_keys_created": report.data_keys_created,
                "fields_reencrypted": report.fields_reencrypted,
                "data_keys_retired": report.data_keys_retired,
            });
            let active = keyring.master_keys().active().id.clone();
            record_rotation(store, active, details).await;
        }
        KeysCommand::Status => {
            for line in keyring.status().await?.lines() {
                let _ = writeln!(out, "{line}");
            }
        }
    }
    Ok(())
}

/// Puts the rotation in the audit trail through the one event interface, and waits until it is
/// committed: the command's process ends right after.
async fn record_rotation(store: Arc<dyn Store>, master_key: String, details: serde_json::Value) {
    let audit = AuditLog::start(store);
    let events = Events::new(vec![Arc::new(AuditSink::new(audit.clone()))]);
    events.emit(SecurityEvent {
        kind: SecurityEventKind::AdminAction {
            action: "keys.rotate",
            target: Some(("master_key", master_key)),
            tenant: None,
            details,
        },
        at: crate::domain::time::now(),
        ip: None,
        principal: None,
        route: None,
    });
    audit.shutdown().await;
}
