//! The job runner inside the real application: dispatch by kind, bounded concurrency, retries,
//! draining at shutdown, periodic jobs once per period, and a job queued before a restart run
//! after it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use auditpulse::app::{ApplicationBuilder, Store};
use auditpulse::jobs::{
    Backoff, Handler, Job, JobFilter, JobState, NewJob, RunnerConfig, Schedule,
};
use auditpulse::store::Scope;
use auditpulse::Application;
use serde_json::json;
use tokio::sync::oneshot;

use crate::helpers::{test_config, Backend, TestDb};

/// Records what it ran; sleeps `pause` per job; fails the first `failures` attempts.
#[derive(Default)]
struct Probe {
    ran: Mutex<Vec<serde_json::Value>>,
    running: AtomicUsize,
    most_at_once: AtomicUsize,
    failures: AtomicUsize,
    pause: Duration,
}

#[async_trait]
impl Handler for Probe {
    async fn run(&self, job: &Job) -> Result<(), String> {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_at_once.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(self.pause).await;
        self.running.fetch_sub(1, Ordering::SeqCst);
        let failed = self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |f| f.checked_sub(1));
        if failed.is_ok() {
            return Err("upstream unavailable".into());
        }
        self.ran.lock().unwrap().push(job.payload.clone());
        Ok(())
    }
}

fn fast(concurrency: usize) -> RunnerConfig {
    RunnerConfig {
        poll: Duration::from_millis(20),
        concurrency,
        lease: Duration::from_secs(30),
        backoff: Backoff {
            base: Duration::from_millis(10),
            cap: Duration::from_millis(50),
        },
    }
}

/// A running application on `db`; send on the sender to stop it, then await the handle.
struct Running {
    store: Arc<dyn Store>,
    stop: oneshot::Sender<()>,
    server: tokio::task::JoinHandle<()>,
}

impl Running {
    async fn start(
        db: &TestDb,
        setup: impl FnOnce(ApplicationBuilder) -> ApplicationBuilder,
    ) -> Self {
        crate::helpers::init_test_logging();
        let builder = Application::builder(test_config(db, &[]));
        let app = setup(builder)
            .build()
            .await
            .expect("the application starts");
        let store = app.store();
        let (stop, stopped) = oneshot::channel();
        let server = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        Running {
            store,
            stop,
            server,
        }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.server.await.unwrap();
    }
}

async fn jobs_in(store: &Arc<dyn Store>, kind: &str, state: JobState) -> usize {
    let filter = JobFilter {
        kind: Some(kind.into()),
        state: Some(state),
        limit: 100,
    };
    store.list_jobs(Scope::System, &filter).await.unwrap().len()
}

/// Waits up to ten seconds for `count` jobs of `kind` to have succeeded.
async fn until_succeeded(store: &Arc<dyn Store>, kind: &str, count: usize) {
    for _ in 0..500 {
        if jobs_in(store, kind, JobState::Succeeded).await >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{count} {kind} jobs did not succeed in time");
}

async fn a_job_queued_before_a_restart_runs_after_it(backend: Backend) {
    let db = TestDb::migrated(backend).await;
    let before = Running::start(&db, |b| b.job_runner(fast(2))).await;
    let job = NewJob::new("test.restart", json!({"n": 1}));
    before.store.enqueue_job(&job).await.unwrap().unwrap();
    before.stop().await;
    let probe = Arc::new(Probe::default());
    let after = Running::start(&db, |b| {
        b.job_runner(fast(2))
            .job_handler("test.restart", probe.clone())
    })
    .await;
    until_succeeded(&after.store, "test.restart", 1).await;
    assert_eq!(*probe.ran.lock().unwrap(), [json!({"n": 1})]);
    after.stop().await;
}

async fn jobs_run_at_most_concurrency_at_once_and_retry(backend: Backend) {
    let db = TestDb::migrated(backend).await;
    let probe = Arc::new(Probe {
        pause: Duration::from_millis(100),
        failures: AtomicUsize::new(2),
        ..Probe::default()
    });
    let app = Running::start(&db, |b| {
        b.job_runner(fast(2))
            .job_handler("test.work", probe.clone())
    })
    .await;
    for n in 0..6 {
        let job = NewJob::new("test.work", json!({ "n": n }));
        app.store.enqueue_job(&job).await.unwrap().unwrap();
    }
    app.store
        .enqueue_job(&NewJob::new("test.unhandled", json!({})))
        .await
        .unwrap()
        .unwrap();
    until_succeeded(&app.store, "test.work", 6).await;
    assert_eq!(probe.ran.lock().unwrap().len(), 6);
    assert_eq!(probe.most_at_once.load(Ordering::SeqCst), 2);
    assert_eq!(
        jobs_in(&app.store, "test.unhandled", JobState::Queued).await,
        1
    );
    app.stop().await;
}

async fn shutdown_waits_for_running_jobs(backend: Backend) {
    let db = TestDb::migrated(backend).await;
    let probe = Arc::new(Probe {
        pause: Duration::from_millis(300),
        ..Probe::default()
    });
    let app = Running::start(&db, |b| {
        b.job_runner(fast(1))
            .job_handler("test.slow", probe.clone())
    })
    .await;
    let store = app.store.clone();
    for n in 0..2 {
        let job = NewJob::new("test.slow", json!({ "n": n }));
        store.enqueue_job(&job).await.unwrap().unwrap();
    }
    while probe.running.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    app.stop().await;
    // The running job finished and was recorded; the other was never claimed.
    assert_eq!(probe.ran.lock().unwrap().len(), 1);
    let reopened =
        auditpulse::app::connect(&auditpulse::config::DatabaseUrl::parse(&db.url).unwrap(), 2)
            .await
            .unwrap();
    assert_eq!(
        jobs_in(&reopened, "test.slow", JobState::Succeeded).await,
        1
    );
    assert_eq!(jobs_in(&reopened, "test.slow", JobState::Queued).await, 1);
}

async fn a_periodic_job_is_queued_once_per_period_across_restarts(backend: Backend) {
    let db = TestDb::migrated(backend).await;
    let schedule = Schedule {
        kind: "test.hourly".into(),
        interval: Duration::from_secs(3600),
        payload: json!({"report": "hourly"}),
    };
    let probe = Arc::new(Probe::default());
    let hour = || chrono::Utc::now().timestamp() / 3600;
    let first_hour = hour();
    for _ in 0..2 {
        let app = Running::start(&db, |b| {
            b.job_runner(fast(1))
                .job_handler("test.hourly", probe.clone())
                .job_schedule(schedule.clone())
        })
        .await;
        until_succeeded(&app.store, "test.hourly", 1).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        app.stop().await;
    }
    // One period, one run (two only if the hour turned during the test).
    let runs = probe.ran.lock().unwrap().len();
    let periods = usize::try_from(hour() - first_hour + 1).unwrap();
    assert_eq!(runs, periods);
    assert_eq!(probe.ran.lock().unwrap()[0], json!({"report": "hourly"}));
}

crate::on_both_backends!(
    a_job_queued_before_a_restart_runs_after_it,
    jobs_run_at_most_concurrency_at_once_and_retry,
    shutdown_waits_for_running_jobs,
    a_periodic_job_is_queued_once_per_period_across_restarts,
);
