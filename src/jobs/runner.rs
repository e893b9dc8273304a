//! The job runner: a background task that polls for due jobs of the kinds it has handlers for,
//! runs at most `concurrency` at once, records each outcome, and enqueues periodic jobs once per
//! period. Registered in `app` like every background task, so `/readyz` reports it.
//!
//! Invariant: draining stops claiming first, then waits for every running job to be recorded; a
//! handler runs for at most its lease (then it is aborted and the attempt fails), so no job is
//! still running where another worker could retake it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::{JoinHandle, JoinSet};

use super::{stored_error, Backoff, Dedup, Job, JobStore, NewJob};
use crate::app::BackgroundTask;
use crate::domain::time;

/// Does the work of one kind of job.
#[async_trait]
pub trait Handler: Send + Sync {
    /// Runs one attempt. An error is a short summary, stored (scrubbed) as the job's
    /// `last_error`: never put a secret in it.
    async fn run(&self, job: &Job) -> std::result::Result<(), String>;
}

/// A job of `kind` enqueued once every `interval` (aligned to the Unix epoch), deduplicated by
/// period across restarts and instances.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub kind: String,
    pub interval: Duration,
    pub payload: serde_json::Value,
}

/// How the runner polls and runs.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// How long to wait when no job is due.
    pub poll: Duration,
    /// Jobs run at once.
    pub concurrency: usize,
    /// How long a claimed job is held; a handler running longer is aborted.
    pub lease: Duration,
    pub backoff: Backoff,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(1),
            concurrency: 4,
            lease: Duration::from_secs(300),
            backoff: Backoff::default(),
        }
    }
}

/// Handlers by kind, schedules and settings; [`Runner::start`] makes it a background task.
pub struct Runner {
    store: Arc<dyn JobStore>,
    handlers: HashMap<String, Arc<dyn Handler>>,
    schedules: Vec<Schedule>,
    config: RunnerConfig,
}

impl Runner {
    pub fn new(store: Arc<dyn JobStore>, config: RunnerConfig) -> Self {
        Self {
            store,
            handlers: HashMap::new(),
            schedules: Vec::new(),
            config,
        }
    }

    /// Runs jobs of `kind` with `handler`.
    pub fn handle(mut self, kind: impl Into<String>, handler: Arc<dyn Handler>) -> Self {
        self.handlers.insert(kind.into(), handler);
        self
    }

    pub fn every(mut self, schedule: Schedule) -> Self {
        self.schedules.push(schedule);
        self
    }

    pub fn start(self) -> RunnerTask {
        let (stop, stopped) = watch::channel(false);
        let handle = tokio::spawn(run(Arc::new(self), stopped));
        RunnerTask { stop, handle }
    }

    fn kinds(&self) -> Vec<&str> {
        self.handlers.keys().map(String::as_str).collect()
    }

    /// Enqueues each schedule's job for the current period, once per period per process (the
    /// dedup key makes it once across processes too).
    async fn enqueue_due(&self, enqueued: &mut HashMap<String, u64>) {
        let now = time::now();
        let seconds = u64::try_from(now.timestamp()).unwrap_or(0);
        for schedule in &self.schedules {
            let interval = schedule.interval.as_secs().max(1);
            let period = seconds / interval;
            if enqueued.get(&schedule.kind) == Some(&period) {
                continue;
            }
            let key = format!("schedule:{}:{period}", schedule.kind);
            let job = NewJob::new(schedule.kind.clone(), schedule.payload.clone())
                .dedup(Dedup::Once(key));
            match self.store.enqueue_job(&job).await {
                Ok(_) => {
                    enqueued.insert(schedule.kind.clone(), period);
                }
                Err(error) => {
                    tracing::warn!(kind = %schedule.kind, %error, "cannot enqueue periodic job")
                }
            }
        }
    }

    /// Claims one job and starts it; `false` when none was due (or the claim failed).
    async fn start_one(
        self: &Arc<Self>,
        permit: OwnedSemaphorePermit,
        running: &mut JoinSet<()>,
    ) -> bool {
        let kinds = self.kinds();
        let job = match self.store.claim_job(&kinds, self.config.lease).await {
            Ok(Some(job)) => job,
            Ok(None) => return false,
            Err(error) => {
                tracing::warn!(%error, "cannot claim a job");
                return false;
            }
        };
        let Some(handler) = self.handlers.get(&job.kind).cloned() else {
            return false;
        };
        let runner = self.clone();
        running.spawn(async move {
            runner.execute(handler, job).await;
            drop(permit);
        });
        true
    }

    /// Runs one attempt within the lease and records its outcome.
    async fn execute(&self, handler: Arc<dyn Handler>, job: Job) {
        let claimed = job.clone();
        let mut attempt = tokio::spawn(async move { handler.run(&claimed).await });
        let outcome = match tokio::time::timeout(self.config.lease, &mut attempt).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err("the handler panicked".to_owned()),
            Err(_) => {
                attempt.abort();
                Err("the handler ran past its lease".to_owned())
            }
        };
        let recorded = match outcome {
            Ok(()) => self.store.complete_job(&job).await.map(|held| (held, None)),
            Err(error) => self
                .store
                .fail_job(&job, &error, self.config.backoff)
                .await
                .map(|state| (state.is_some(), Some((error, state)))),
        };
        match recorded {
            Ok((false, _)) => {
                tracing::warn!(job = %job.id, kind = %job.kind, "job lease lost before its outcome")
            }
            Ok((true, Some((error, state)))) => tracing::warn!(
                job = %job.id, kind = %job.kind, attempt = job.attempts,
                state = state.map(|s| s.as_str()), error = %stored_error(&error),
                "job attempt failed"
            ),
            Ok((true, None)) => tracing::debug!(job = %job.id, kind = %job.kind, "job succeeded"),
            Err(error) => tracing::warn!(job = %job.id, %error, "cannot record a job's outcome"),
        }
    }
}

/// The poll loop: claim while a slot is free and a job is due, else wait for the poll interval,
/// a finished job or the stop signal. Then wait for the running jobs.
async fn run(runner: Arc<Runner>, mut stop: watch::Receiver<bool>) {
    let slots = Arc::new(Semaphore::new(runner.config.concurrency.max(1)));
    let mut running = JoinSet::new();
    let mut enqueued = HashMap::new();
    while !*stop.borrow() {
        while running.try_join_next().is_some() {}
        runner.enqueue_due(&mut enqueued).await;
        if let Ok(permit) = slots.clone().try_acquire_owned() {
            if runner.start_one(permit, &mut running).await {
                continue;
            }
        }
        tokio::select! {
            changed = stop.changed() => if changed.is_err() { break },
            _ = tokio::time::sleep(runner.config.poll) => {}
            Some(_) = running.join_next(), if !running.is_empty() => {}
        }
    }
    while running.join_next().await.is_some() {}
}

/// The running job runner, as the application's background task `job_runner`.
pub struct RunnerTask {
    stop: watch::Sender<bool>,
    handle: JoinHandle<()>,
}

#[async_trait]
impl BackgroundTask for RunnerTask {
    fn name(&self) -> &'static str {
        "job_runner"
    }
    fn is_running(&self) -> bool {
        !self.handle.is_finished()
    }
    async fn drain(self: Box<Self>) {
        let _ = self.stop.send(true);
        if let Err(error) = self.handle.await {
            tracing::warn!(%error, "the job runner ended abnormally");
        }
    }
}
