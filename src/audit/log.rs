//! [`AuditLog`]: the one writer of the audit trail.
//!
//! Callers put events on a bounded queue; one task takes whatever is queued (up to `MAX_BATCH`),
//! appends it in one transaction (group commit) and acknowledges each caller. One commit per batch
//! instead of per event is what makes appends fast; the head lock inside `append_audit` is what
//! keeps the chain consistent when several instances write.
//!
//! Invariant: `enqueue` never blocks (security-event sinks call it); `append` returns only once the
//! event is committed; `shutdown` returns only once everything queued before it is committed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::model::NewAuditEvent;
use crate::audit::AuditStore;
use crate::error::{Error, Result};
use crate::metrics::Metrics;

/// Events queued at most; beyond this `enqueue` drops (and counts) rather than block.
const QUEUE: usize = 65_536;
/// Events appended in one transaction at most.
const MAX_BATCH: usize = 2_000;
/// Attempts per batch before its events are given up (and logged).
const ATTEMPTS: u32 = 3;

type Ack = oneshot::Sender<Result<i64, String>>;

enum Command {
    Append(Box<NewAuditEvent>, Option<Ack>),
    Shutdown(oneshot::Sender<()>),
}

/// A handle to the audit writer. Cheap to clone.
#[derive(Clone)]
pub struct AuditLog {
    queue: mpsc::Sender<Command>,
    dropped: Arc<AtomicU64>,
    metrics: Option<Arc<Metrics>>,
}

impl AuditLog {
    /// Starts the writer task on the current runtime.
    pub fn start(store: Arc<dyn AuditStore>) -> Self {
        let (queue, commands) = mpsc::channel(QUEUE);
        tokio::spawn(write_loop(store, commands));
        Self {
            queue,
            dropped: Arc::new(AtomicU64::new(0)),
            metrics: None,
        }
    }

    /// Counts every appended event by action in `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    fn count(&self, event: &NewAuditEvent) {
        if let Some(metrics) = &self.metrics {
            metrics.audit_event(&event.action);
        }
    }

    /// Appends `event` and waits until it is committed; returns its seq.
    pub async fn append(&self, event: NewAuditEvent) -> Result<i64> {
        let (ack, acked) = oneshot::channel();
        self.count(&event);
        self.queue
            .send(Command::Append(Box::new(event), Some(ack)))
            .await
            .map_err(|_| Error::Unavailable("the audit log is shut down".to_owned()))?;
        match acked.await {
            Ok(Ok(seq)) => Ok(seq),
            Ok(Err(message)) => Err(anyhow::anyhow!("audit append failed: {message}").into()),
            Err(_) => Err(Error::Unavailable("the audit log is shut down".to_owned())),
        }
    }

    /// Queues `event` without waiting. `false` (and counted) when the queue is full or closed.
    pub fn enqueue(&self, event: NewAuditEvent) -> bool {
        self.count(&event);
        let queued = self
            .queue
            .try_send(Command::Append(Box::new(event), None))
            .is_ok();
        if !queued {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            tracing::error!(target: "auditpulse::security", "audit queue full or closed: an audit event was dropped");
        }
        queued
    }

    /// Events `enqueue` could not queue.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// `false` once the writer has stopped (shut down, or ended by a failure).
    pub fn is_running(&self) -> bool {
        !self.queue.is_closed()
    }

    /// Commits everything queued so far, then stops the writer. Later appends fail.
    pub async fn shutdown(&self) {
        let (done, finished) = oneshot::channel();
        if self.queue.send(Command::Shutdown(done)).await.is_ok() {
            let _ = finished.await;
        }
    }
}

async fn write_loop(store: Arc<dyn AuditStore>, mut commands: mpsc::Receiver<Command>) {
    let mut events = Vec::with_capacity(MAX_BATCH);
    let mut acks = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = commands.recv().await {
        let mut stop = None;
        let mut next = Some(first);
        while let Some(command) = next.take() {
            match command {
                Command::Append(event, ack) => {
                    events.push(*event);
                    acks.push(ack);
                }
                Command::Shutdown(done) => {
                    stop = Some(done);
                    break;
                }
            }
            if events.len() < MAX_BATCH {
                next = commands.try_recv().ok();
            }
        }
        write_batch(store.as_ref(), &mut events, &mut acks).await;
        if let Some(done) = stop {
            commands.close();
            // Commit whatever raced in before the close.
            while let Some(command) = commands.recv().await {
                if let Command::Append(event, ack) = command {
                    events.push(*event);
                    acks.push(ack);
                }
            }
            write_batch(store.as_ref(), &mut events, &mut acks).await;
            let _ = done.send(());
            return;
        }
    }
}

async fn write_batch(
    store: &dyn AuditStore,
    events: &mut Vec<NewAuditEvent>,
    acks: &mut Vec<Option<Ack>>,
) {
    if events.is_empty() {
        return;
    }
    let mut attempt = 1;
    let result = loop {
        match store.append_audit(events).await {
            Ok(seqs) => break Ok(seqs),
            Err(error) if attempt < ATTEMPTS => {
                tracing::warn!(error = %crate::error::cause_chain(&error), attempt, "audit append failed; retrying");
                tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                attempt += 1;
            }
            Err(error) => break Err(crate::error::cause_chain(&error)),
        }
    };
    match result {
        Ok(seqs) => {
            for (ack, seq) in acks.drain(..).zip(seqs) {
                if let Some(ack) = ack {
                    let _ = ack.send(Ok(seq));
                }
            }
        }
        Err(message) => {
            tracing::error!(target: "auditpulse::security", error = %message, events = events.len(), "audit events could not be stored");
            for ack in acks.drain(..).flatten() {
                let _ = ack.send(Err(message.clone()));
            }
        }
    }
    events.clear();
}
