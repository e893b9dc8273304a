//! The application: the wiring of every part. Connects storage, migrates, builds the shared
//! state, registers the background tasks, binds the listeners. The binary and the tests start the
//! server the same way: `Application::build`, then `run_until`.
//!
//! Invariant: every background task is registered in [`Tasks`], so `/readyz` sees it and shutdown
//! drains it; nothing is spawned for the life of the process anywhere else.

mod state;
pub mod tasks;

pub use state::{connect, AppState, Store};
pub use tasks::{BackgroundTask, TaskHealth, Tasks};

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::audit::{self, AuditLog, AuditSink};
use crate::auth::Authenticator;
use crate::config::{vars, Config, MasterKeys};
use crate::crypto::Keyring;
use crate::detect::{self, Detector};
use crate::error::{Error, Result};
use crate::events::{EventSink, Events};
use crate::gateway::calls::{Recorder, Writer};
use crate::gateway::prices::PriceBook;
use crate::gateway::providers::Providers;
use crate::gateway::proxy::Gateway;
use crate::identity::credentials::password::PasswordHasher;
use crate::identity::{AccessTokens, Chain, SessionAuthenticator, SessionCache};
use crate::jobs::{Handler, JobStore, Runner, RunnerConfig, Schedule};
use crate::ledger::Ledger;
use crate::metrics::{self, Metrics};
use crate::outbound::{StreamClient, StreamLimits};
use crate::ratelimit::RateLimiter;
use crate::security::{self, MonitorTask};
use crate::web::{server, tls};

/// Builds an [`Application`] with optional replacements for its pluggable parts.
pub struct ApplicationBuilder {
    config: Config,
    extra_authenticator: Option<Arc<dyn Authenticator>>,
    sinks: Vec<Arc<dyn EventSink>>,
    jobs: JobsSetup,
}

/// What the job runner is given: settings, handlers by kind, periodic schedules.
#[derive(Default)]
struct JobsSetup {
    config: RunnerConfig,
    handlers: Vec<(String, Arc<dyn Handler>)>,
    schedules: Vec<Schedule>,
}

impl JobsSetup {
    fn runner(self, store: Arc<dyn JobStore>) -> Runner {
        let runner = Runner::new(store, self.config);
        let runner = self
            .handlers
            .into_iter()
            .fold(runner, |r, (kind, handler)| r.handle(kind, handler));
        self.schedules.into_iter().fold(runner, Runner::every)
    }
}

impl ApplicationBuilder {
    /// Another authenticator, consulted before the built-in one (access tokens and API keys):
    /// tests accept fixed tokens this way while real logins keep working.
    pub fn extra_authenticator(mut self, authenticator: Arc<dyn Authenticator>) -> Self {
        self.extra_authenticator = Some(authenticator);
        self
    }

    /// Another receiver of security events.
    pub fn event_sink(mut self, sink: Arc<dyn EventSink>) -> Self {
        self.sinks.push(sink);
        self
    }

    /// Runs background jobs of `kind` with `handler`.
    pub fn job_handler(mut self, kind: impl Into<String>, handler: Arc<dyn Handler>) -> Self {
        self.jobs.handlers.push((kind.into(), handler));
        self
    }

    /// Enqueues a job of `schedule.kind` once per `schedule.interval`.
    pub fn job_schedule(mut self, schedule: Schedule) -> Self {
        self.jobs.schedules.push(schedule);
        self
    }

    /// How the job runner polls, how many jobs it runs at once, its lease and backoff.
    pub fn job_runner(mut self, config: RunnerConfig) -> Self {
        self.jobs.config = config;
        self
    }

    pub async fn build(self) -> Result<Application> {
        let config = Arc::new(self.config);
        let store = connect(&config.database_url, config.db_max_connections).await?;
        refuse_row_security_bypass(store.as_ref(), &config).await?;
        store.migrate().await?;
        let master = master_keys(&config)?;
        let tokens = Arc::new(AccessTokens::new(&master)?);
        let keyring = Arc::new(Keyring::new(master, store.clone()));
        let tls = config.tls.as_ref().map(tls::acceptor).transpose()?;
        let listener = TcpListener::bind(config.listen).await.map_err(|e| {
            Error::Config(format!(
                "{}: cannot listen on {}: {e}",
                vars::LISTEN,
                config.listen
            ))
        })?;
        let local_addr = listener
            .local_addr()
            .map_err(|e| Error::Internal(e.into()))?;
        let metrics_listener = match config.metrics_listen {
            Some(address) => Some(TcpListener::bind(address).await.map_err(|e| {
                Error::Config(format!(
                    "{}: cannot listen for metrics on {address}: {e}",
                    vars::METRICS_LISTEN
                ))
            })?),
            None => None,
        };
        let metrics = Arc::new(Metrics::new());
        let tasks = Tasks::default();
        let audit = AuditLog::start(store.clone()).with_metrics(metrics.clone());
        tasks.register(AuditWriter(audit.clone()));
        if let Some(keys) = config.master_keys.as_ref() {
            let handle = audit::retention::spawn(
                store.clone(),
                audit.clone(),
                keys.value.active().clone(),
                config.audit_retention_days,
            );
            tasks.register(tasks::Aborting {
                name: "audit_retention",
                handle,
            });
        }
        let mut sinks = self.sinks;
        sinks.push(metrics.clone());
        let (monitor, monitor_task) =
            security::start(store.clone(), config.monitor.clone(), metrics.clone());
        tasks.register(monitor_task);
        sinks.push(monitor);
        sinks.push(Arc::new(AuditSink::new(audit.clone())));
        let events = Arc::new(Events::new(sinks));
        let ledger = Arc::new(
            Ledger::new(store.clone(), keyring.clone())
                .with_arrivals(Arc::new(detect::jobs::ScoreOnArrival(store.clone()))),
        );
        let plaid = plaid_service(&config, &store, &keyring, &ledger, &events)?;
        let detector = Arc::new(Detector {
            store: store.clone(),
        });
        let mut jobs = self.jobs;
        detect_jobs(&mut jobs, &detector, &store);
        if let Some(plaid) = &plaid {
            jobs.handlers.push((
                crate::plaid::SYNC_JOB.to_owned(),
                Arc::new(crate::plaid::SyncHandler(plaid.clone())),
            ));
            jobs.handlers.push((
                crate::plaid::SYNC_ALL_JOB.to_owned(),
                Arc::new(crate::plaid::SyncAllHandler(plaid.clone())),
            ));
            if let Some(settings) = &config.plaid {
                jobs.schedules.push(Schedule {
                    kind: crate::plaid::SYNC_ALL_JOB.to_owned(),
                    interval: settings.sync_interval,
                    payload: serde_json::json!({}),
                });
            }
        }
        // Registered last, so it drains first: its jobs' events still reach the audit writer.
        tasks.register(jobs.runner(store.clone()).start());
        // As many hashes at once as there are cores: more would only queue on the CPU.
        let hash_slots = std::thread::available_parallelism().map_or(2, |n| n.get());
        let passwords = Arc::new(PasswordHasher::new(
            PasswordHasher::default_params(),
            hash_slots,
        )?);
        let sessions = Arc::new(SessionCache::new());
        let built_in: Arc<dyn Authenticator> = Arc::new(SessionAuthenticator::new(
            store.clone(),
            tokens.clone(),
            sessions.clone(),
            config.sessions,
        ));
        let authenticator: Arc<dyn Authenticator> = match self.extra_authenticator {
            Some(extra) => Arc::new(Chain(vec![extra, built_in])),
            None => built_in,
        };
        let providers = Arc::new(Providers::new(
            store.clone(),
            keyring.clone(),
            config.outbound,
        ));
        // The newest imported catalog (else the shipped one) with every tenant's overrides.
        let prices: Arc<PriceBook> = Arc::new(
            crate::gateway::pricing::load_book(store.as_ref())
                .await
                .map_err(|e| Error::Internal(anyhow::anyhow!("the LLM price catalog: {e}")))?,
        );
        let budgets = Arc::new(crate::budgets::Budgets::new(store.clone(), store.clone()));
        if let Some((file, slug)) = &config.budgets.file {
            let overrides = crate::gateway::pricing::Overrides {
                store: store.clone(),
                book: prices.clone(),
            };
            crate::budgets::load::at_start(
                &budgets,
                &overrides,
                store.as_ref(),
                &events,
                file,
                slug,
            )
            .await?;
        }
        tasks.register(
            crate::budgets::evaluate::Evaluator {
                budgets: budgets.clone(),
                alerts: store.clone(),
                metrics: metrics.clone(),
            }
            .start(config.budgets.evaluate_every),
        );
        let unpriced = crate::gateway::pricing::UnpricedAlerts::new(store.clone(), metrics.clone());
        // One writer for the gateway's calls and OTLP spans, so they link to each other.
        let writer = Writer {
            store: store.clone(),
            ledger: ledger.clone(),
            prices: prices.clone(),
            observer: Some(Arc::new(crate::gateway::calls::record::Observers(vec![
                metrics.clone(),
                Arc::new(unpriced),
            ]))),
            budgets: Some(budgets.clone()),
        };
        let (batcher, batcher_task) = crate::otlp::Batcher::start(writer.clone());
        let otlp = Arc::new(crate::otlp::Otlp::new(
            store.clone(),
            batcher,
            metrics.clone(),
        ));
        let (recorder, recorder_task) = Recorder::start(writer);
        // Registered after the job runner, so it drains before it: shutdown writes every call
        // the HTTP server relayed before the stores close.
        tasks.register(recorder_task);
        tasks.register(batcher_task);
        let (enforcer, reserver) = crate::budgets::enforce::Enforcer::start(
            budgets.clone(),
            config.budgets.reservation_ttl,
            config.budgets.max_output_tokens,
        );
        tasks.register(reserver);
        let gateway = Arc::new(Gateway {
            identity: store.clone(),
            providers: providers.clone(),
            client: StreamClient::new(config.outbound, StreamLimits::default())?,
            recorder,
            metrics: metrics.clone(),
            max_request_bytes: crate::gateway::proxy::MAX_REQUEST_BYTES,
            callers: crate::gateway::proxy::callers(),
            budgets: Arc::new(enforcer),
            prices: prices.clone(),
        });
        let state = AppState {
            budgets,
            gateway,
            otlp,
            prices,
            providers,
            ledger,
            detector,
            plaid,
            passwords,
            tokens,
            sessions,
            limiter: Arc::new(RateLimiter::new(&config.rate_limits)),
            events,
            metrics,
            authenticator,
            store,
            keyring,
            config,
            audit,
            tasks,
        };
        let router = crate::web::router(&state, tls.is_some())?;
        Ok(Application {
            listener,
            metrics_listener,
            local_addr,
            router,
            tls,
            state,
        })
    }
}

/// Detection's jobs: scoring, back-fills, retraining, and the schedule that queues each tenant's
/// daily retraining and a scoring sweep (so spend whose scoring was never queued, after a crash,
/// is scored within the interval).
fn detect_jobs(jobs: &mut JobsSetup, detector: &Arc<Detector>, store: &Arc<dyn Store>) {
    use detect::jobs::*;
    let handlers: [(&str, Arc<dyn Handler>); 4] = [
        (SCORE_JOB, Arc::new(ScoreHandler(detector.clone()))),
        (BACKFILL_JOB, Arc::new(BackfillHandler(detector.clone()))),
        (RETRAIN_JOB, Arc::new(RetrainHandler(detector.clone()))),
        (
            SCHEDULE_JOB,
            Arc::new(ScheduleHandler {
                detector: detector.clone(),
                jobs: store.clone(),
            }),
        ),
    ];
    for (kind, handler) in handlers {
        jobs.handlers.push((kind.to_owned(), handler));
    }
    jobs.schedules.push(Schedule {
        kind: SCHEDULE_JOB.to_owned(),
        interval: SCHEDULE_INTERVAL,
        payload: serde_json::json!({}),
    });
}

/// The Plaid service when Plaid is configured: its client (through the outbound policy) and the
/// webhook verifier whose keys come from Plaid.
fn plaid_service(
    config: &Config,
    store: &Arc<dyn Store>,
    keyring: &Arc<Keyring>,
    ledger: &Arc<Ledger>,
    events: &Arc<Events>,
) -> Result<Option<Arc<crate::plaid::Plaid>>> {
    let Some(settings) = &config.plaid else {
        return Ok(None);
    };
    let client = crate::plaid::PlaidClient::new(settings, config.outbound)?;
    Ok(Some(Arc::new(crate::plaid::Plaid {
        verifier: Arc::new(crate::plaid::WebhookVerifier::new(Arc::new(client.clone()))),
        client,
        items: store.clone(),
        jobs: store.clone(),
        alerts: store.clone(),
        keyring: keyring.clone(),
        ledger: ledger.clone(),
        events: events.clone(),
        page_size: 500,
    })))
}

/// Row-level security is the second wall between tenants; a role that bypasses it leaves only
/// the first. Production refuses it; development warns.
async fn refuse_row_security_bypass(store: &dyn Store, config: &Config) -> Result<()> {
    if !store.bypasses_row_security().await? {
        return Ok(());
    }
    let problem = concat!(
        "DATABASE_URL: the PostgreSQL role is a superuser or has BYPASSRLS, so row-level security ",
        "does not isolate tenants; connect as an ordinary role (NOSUPERUSER NOBYPASSRLS) that ",
        "owns the schema"
    );
    if config.is_production() {
        return Err(Error::Config(problem.to_owned()));
    }
    tracing::warn!("{problem}");
    Ok(())
}

/// The configured master keys; serving without them is refused.
pub fn master_keys(config: &Config) -> Result<MasterKeys> {
    config
        .master_keys
        .as_ref()
        .map(|k| k.value.clone())
        .ok_or_else(|| {
            Error::Config("AUDITPULSE_MASTER_KEYS: no master key is configured".to_owned())
        })
}

/// A bound, ready-to-serve AuditPulse.
pub struct Application {
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    local_addr: SocketAddr,
    router: Router,
    tls: Option<TlsAcceptor>,
    state: AppState,
}

impl Application {
    pub fn builder(config: Config) -> ApplicationBuilder {
        ApplicationBuilder {
            config,
            extra_authenticator: None,
            sinks: Vec::new(),
            jobs: JobsSetup::default(),
        }
    }

    pub async fn build(config: Config) -> Result<Self> {
        Self::builder(config).build().await
    }

    /// The bound address (with the real port when configured with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    /// The bound metrics address, when the metrics listener is on.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn store(&self) -> Arc<dyn Store> {
        self.state.store.clone()
    }

    /// Serves until `shutdown` completes, then drains in-flight requests, commits every queued
    /// audit event and closes the database.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) {
        let limits = server::Limits {
            header: self.state.config.header_timeout,
            grace: self.state.config.shutdown_grace,
            max_connections: self.state.config.max_connections,
        };
        // One shutdown signal stops both listeners.
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let metrics = self.metrics_listener.map(|listener| {
            let mut stopped = stopped.clone();
            let wait = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            tokio::spawn(metrics::serve(
                listener,
                self.state.metrics.clone(),
                self.state.store.clone(),
                self.state.store.clone(),
                wait,
            ))
        });
        let api_shutdown = async move {
            shutdown.await;
            let _ = stop.send(true);
        };
        server::serve(self.listener, self.router, self.tls, limits, api_shutdown).await;
        if let Some(metrics) = metrics {
            let _ = metrics.await;
        }
        // Events raised by the last requests are judged and stored before the database closes.
        self.state.tasks.drain().await;
        self.state.store.close().await;
    }
}

/// Resolves on SIGTERM or SIGINT. The handlers are installed when this is called, so call it
/// before start-up work: a signal that arrives during start-up is then a graceful stop, not a kill.
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => tracing::info!("SIGTERM received"),
            _ = interrupt.recv() => tracing::info!("SIGINT received"),
        }
    })
}

/// The audit trail's writer as a background task: draining commits every queued event.
struct AuditWriter(AuditLog);

#[async_trait]
impl BackgroundTask for AuditWriter {
    fn name(&self) -> &'static str {
        "audit_writer"
    }
    fn is_running(&self) -> bool {
        self.0.is_running()
    }
    async fn drain(self: Box<Self>) {
        self.0.shutdown().await;
    }
}

#[async_trait]
impl BackgroundTask for MonitorTask {
    fn name(&self) -> &'static str {
        "security_monitor"
    }
    fn is_running(&self) -> bool {
        MonitorTask::is_running(self)
    }
    async fn drain(self: Box<Self>) {
        self.stop().await;
    }
}
