//! Group commit for OTLP exports: requests that arrive while a write is running are written
//! together in the next one, so concurrent exporters share transactions instead of queueing for
//! SQLite's one writer one request at a time.
//!
//! Invariant: a request's calls are answered only after the write that holds them ended; a failed
//! write fails every request in it (each exporter retries, and the write is idempotent). Draining
//! (at shutdown) writes everything queued before returning.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};

use crate::app::BackgroundTask;
use crate::error::{Error, Result};
use crate::gateway::calls::{NewCall, Writer};

/// Calls written together at most (several requests of an SDK's 512-span batches).
pub const GROUP: usize = 8_192;

/// Requests waiting for the writer at most; more wait to be queued (the route's slots bound them).
const QUEUE: usize = 256;

struct Job {
    calls: Vec<NewCall>,
    done: oneshot::Sender<std::result::Result<(), String>>,
}

/// The handle requests write through. Cheap to clone.
#[derive(Clone)]
pub struct Batcher {
    queue: mpsc::Sender<Job>,
}

impl Batcher {
    /// Starts the group writer; register the task so shutdown drains it.
    pub fn start(writer: Writer) -> (Batcher, BatcherTask) {
        let (queue, rx) = mpsc::channel(QUEUE);
        let (stop, stopped) = oneshot::channel();
        let running = Arc::new(AtomicBool::new(true));
        let handle = tokio::spawn(run(writer, rx, stopped, running.clone()));
        (
            Batcher { queue },
            BatcherTask {
                stop: Some(stop),
                handle,
                running,
            },
        )
    }

    /// Writes `calls` in the next group write; returns once it ended.
    pub async fn write(&self, calls: Vec<NewCall>) -> Result<()> {
        if calls.is_empty() {
            return Ok(());
        }
        let (done, answer) = oneshot::channel();
        self.queue
            .send(Job { calls, done })
            .await
            .map_err(|_| Error::Unavailable("shutting down".into()))?;
        match answer.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Error::Unavailable(e)),
            Err(_) => Err(Error::Unavailable("the writer stopped".into())),
        }
    }
}

async fn run(
    writer: Writer,
    mut rx: mpsc::Receiver<Job>,
    mut stop: oneshot::Receiver<()>,
    running: Arc<AtomicBool>,
) {
    let mut stopping = false;
    loop {
        let next = if stopping {
            rx.recv().await
        } else {
            tokio::select! {
                job = rx.recv() => job,
                _ = &mut stop => {
                    // Refuse new requests; write what is queued.
                    stopping = true;
                    rx.close();
                    continue;
                }
            }
        };
        let Some(first) = next else { break };
        let mut calls = first.calls;
        let mut waiting = vec![first.done];
        while calls.len() < GROUP {
            match rx.try_recv() {
                Ok(mut job) => {
                    calls.append(&mut job.calls);
                    waiting.push(job.done);
                }
                Err(_) => break,
            }
        }
        let result = writer.write(&calls).await.map_err(|e| {
            tracing::warn!(error = %e, calls = calls.len(), "storing OTLP spans failed");
            "the spans could not be stored".to_owned()
        });
        for done in waiting {
            let _ = done.send(result.clone());
        }
    }
    running.store(false, Ordering::SeqCst);
}

/// The group writer's background task.
pub struct BatcherTask {
    stop: Option<oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<()>,
    running: Arc<AtomicBool>,
}

#[async_trait]
impl BackgroundTask for BatcherTask {
    fn name(&self) -> &'static str {
        "otlp-writer"
    }
    fn is_running(&self) -> bool {
        self.running.load(Ordering::SeqCst) && !self.handle.is_finished()
    }
    async fn drain(mut self: Box<Self>) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.handle).await;
    }
}
