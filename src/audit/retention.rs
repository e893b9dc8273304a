//! Retention: events older than `AUDITPULSE_AUDIT_RETENTION_DAYS` are pruned, as a whole prefix of
//! the chain only, and a checkpoint signed with the active master key is recorded after it, so
//! `audit verify` still proves everything that is kept. Each prune is itself an audit event.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::checkpoint::Checkpoint;
use super::log::AuditLog;
use super::model::{ActorKind, NewAuditEvent};
use crate::audit::AuditStore;
use crate::config::MasterKey;
use crate::domain::time;
use crate::error::Result;

/// How often the retention task runs.
pub const INTERVAL: Duration = Duration::from_secs(3600);

/// Prunes events older than `days` once; records the prune as an audit event.
pub async fn prune_once(
    store: &dyn AuditStore,
    log: &AuditLog,
    master: &MasterKey,
    days: u32,
) -> Result<Option<Checkpoint>> {
    let before = time::now() - chrono::Duration::days(i64::from(days));
    let checkpoint = store.prune_audit(before, master).await?;
    if let Some(cp) = &checkpoint {
        tracing::info!(through = cp.seq, key = %cp.key_id, "audit events pruned by retention");
        log.append(
            NewAuditEvent::new(ActorKind::System, None, "audit.prune")
                .target("audit_events", Some(cp.seq.to_string()))
                .details(json!({
                    "through_seq": cp.seq,
                    "retention_days": days,
                    "key_id": cp.key_id,
                })),
        )
        .await?;
    }
    Ok(checkpoint)
}

/// Runs `prune_once` now and every `INTERVAL` until the task is aborted.
pub fn spawn(
    store: Arc<dyn AuditStore>,
    log: AuditLog,
    master: MasterKey,
    days: u32,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(INTERVAL);
        loop {
            tick.tick().await;
            if let Err(error) = prune_once(store.as_ref(), &log, &master, days).await {
                tracing::error!(error = %crate::error::cause_chain(&error), "audit retention failed");
            }
        }
    })
}
