//! The recorder: takes finished calls off the request's path, prices them and writes them (the
//! call, and for a priced call its spend event in the ledger) in batches, in the background.
//!
//! Invariant: a call handed to [`Recorder::record`] is written or, when the database keeps
//! failing through shutdown, reported in the log by id: never silently dropped. Draining (at
//! SIGTERM) closes the queue and writes everything in it before returning.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};

use super::model::{CallCost, CallSource, CostStatus, NewCall};
use super::store::{CallRow, CallStore};
use crate::app::BackgroundTask;
use crate::domain::{Currency, LlmCallId, Money, TenantId};
use crate::error::Result;
use crate::gateway::prices::{Catalog, PriceBook};
use crate::gateway::Provider;
use crate::ledger::{Changes, Ledger, NewSpend, Source, SpendStatus};

/// Calls queued before `record` waits for the writer (back-pressure, never a drop).
const QUEUE: usize = 65_536;
/// Calls written per batch at most.
const BATCH: usize = 1_000;

/// What a written batch reports, for metrics.
pub trait Observer: Send + Sync {
    fn written(&self, tenant: TenantId, call: &NewCall, cost: &CallCost);
}

/// Several observers told in turn (metrics, the unpriced-model alert).
pub struct Observers(pub Vec<Arc<dyn Observer>>);

impl Observer for Observers {
    fn written(&self, tenant: TenantId, call: &NewCall, cost: &CallCost) {
        for observer in &self.0 {
            observer.written(tenant, call, cost);
        }
    }
}

/// Prices a call with the tenant's catalog: `no_usage` without tokens, `unpriced` when the
/// catalog does not know the model, otherwise the exact cost.
pub fn cost_of(catalog: &Catalog, call: &NewCall) -> CallCost {
    let Some(usage) = call.usage.filter(|u| *u != Default::default()) else {
        return CallCost::NO_USAGE;
    };
    let model = call
        .model_answered
        .as_deref()
        .or(call.swapped_to.as_deref())
        .or(call.model_requested.as_deref());
    match model.and_then(|m| catalog.price(call.provider, m, call.started_at, &usage)) {
        Some(priced) => CallCost {
            status: CostStatus::Priced,
            cost: Some(priced.cost),
            priced_model: Some(priced.model),
        },
        None => CallCost::unpriced(),
    }
}

/// The ledger source of a call's spend event.
fn source_of(row: &CallRow) -> Source {
    if row.source == CallSource::Otlp.as_str() {
        Source::Otlp
    } else {
        Source::Gateway
    }
}

/// The spend event of a priced call: its exact cost in nano-dollars. None for an OTLP span
/// linked to a gateway call: the gateway's call is the one that counts.
pub fn spend_of(row: &CallRow) -> Option<NewSpend> {
    let cost = row.cost_nanos?;
    if row.linked_call_id.is_some() {
        return None;
    }
    let vendor = match row.provider() {
        Some(Provider::OpenAi) => "OpenAI",
        Some(Provider::Anthropic) => "Anthropic",
        None => return None,
    };
    let model = row.model().unwrap_or("unknown model");
    let description = match &row.application {
        Some(app) => format!("{model}, {} for {app}", row.endpoint),
        None => format!("{model}, {}", row.endpoint),
    };
    Some(NewSpend {
        source: source_of(row),
        source_ref: row.id.to_string(),
        account: None,
        occurred_at: row.started_at.0,
        booked_on: row.started_at.0.date_naive(),
        amount: Money::new(cost, Currency::USD_NANO),
        status: SpendStatus::Posted,
        counterparty: Some(vendor.to_owned()),
        category: Some("llm".to_owned()),
        description: Some(description),
        replaces: None,
    })
}

/// The spend events of priced `rows`, one set of changes per ledger source.
pub fn spend_changes(rows: &[CallRow]) -> Vec<Changes> {
    let mut by_source: BTreeMap<&'static str, Changes> = BTreeMap::new();
    for spend in rows.iter().filter_map(spend_of) {
        by_source
            .entry(spend.source.as_str())
            .or_insert_with(|| Changes {
                source: spend.source,
                upserts: Vec::new(),
                removals: Vec::new(),
            })
            .upserts
            .push(spend);
    }
    by_source.into_values().collect()
}

/// Writes batches of calls.
#[derive(Clone)]
pub struct Writer {
    pub store: Arc<dyn CallStore>,
    pub ledger: Arc<Ledger>,
    pub prices: Arc<PriceBook>,
    pub observer: Option<Arc<dyn Observer>>,
    /// Settles the budgets' reservations of the gateway's calls once they are written.
    pub budgets: Option<Arc<crate::budgets::Budgets>>,
}

impl Writer {
    /// Writes `calls`, tenant by tenant: the calls first, then the spend events of the priced
    /// ones (both idempotent, so a retried batch adds nothing). OTLP spans and gateway calls
    /// with the same provider response id are linked, in whichever order they arrive, and only
    /// the gateway's call keeps a spend event.
    pub async fn write(&self, calls: &[NewCall]) -> Result<()> {
        let mut by_tenant: BTreeMap<TenantId, Vec<&NewCall>> = BTreeMap::new();
        for call in calls {
            by_tenant.entry(call.tenant).or_default().push(call);
        }
        for (tenant, calls) in by_tenant {
            let catalog = self.prices.catalog(tenant);
            let costs: Vec<CallCost> = calls.iter().map(|c| cost_of(&catalog, c)).collect();
            let mut rows: Vec<CallRow> = calls
                .iter()
                .zip(&costs)
                .map(|(c, cost)| CallRow::new(c, cost))
                .collect();
            self.store.insert_calls(tenant, &rows).await?;
            self.settle_links(tenant, &mut rows).await?;
            if let Some(budgets) = &self.budgets {
                budgets.settle(tenant, &rows).await?;
            }
            if let Some(observer) = &self.observer {
                for (call, cost) in calls.iter().zip(&costs) {
                    observer.written(tenant, call, cost);
                }
            }
        }
        Ok(())
    }

    /// Links the batch's response ids, writes the spend events of what is not linked, and takes
    /// back the spend event of every OTLP call found linked: one linked in this step, one linked
    /// before (a retried batch), or one a concurrent gateway write linked between this batch's
    /// link and its spend events. Every step is idempotent.
    async fn settle_links(&self, tenant: TenantId, rows: &mut [CallRow]) -> Result<()> {
        let mut response_ids: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for row in rows.iter() {
            if let Some(id) = &row.response_id {
                response_ids
                    .entry(row.provider.clone())
                    .or_default()
                    .push(id.clone());
            }
        }
        if response_ids.is_empty() {
            for changes in spend_changes(rows) {
                self.ledger.apply(tenant, &changes).await?;
            }
            return Ok(());
        }
        let otlp: Vec<LlmCallId> = rows
            .iter()
            .filter(|r| r.source == CallSource::Otlp.as_str() && r.response_id.is_some())
            .map(|r| r.id)
            .collect();
        let mut linked: HashSet<LlmCallId> = HashSet::new();
        for (provider, ids) in &response_ids {
            linked.extend(self.store.link(tenant, provider, ids).await?);
        }
        if !otlp.is_empty() {
            linked.extend(self.store.linked(tenant, &otlp).await?);
        }
        for row in rows.iter_mut().filter(|r| linked.contains(&r.id)) {
            // Which gateway call it is does not matter here, only that there is one.
            row.linked_call_id = Some(row.id);
        }
        for changes in spend_changes(rows) {
            self.ledger.apply(tenant, &changes).await?;
        }
        if !otlp.is_empty() {
            linked.extend(self.store.linked(tenant, &otlp).await?);
        }
        if !linked.is_empty() {
            let changes = Changes {
                source: Source::Otlp,
                upserts: Vec::new(),
                removals: linked.iter().map(ToString::to_string).collect(),
            };
            self.ledger.apply(tenant, &changes).await?;
        }
        Ok(())
    }

    /// [`Writer::write`], retried with backoff while `keep_trying` says so; the ids of calls
    /// that could not be written are logged.
    async fn write_retrying(&self, calls: &[NewCall], keep_trying: impl Fn(u32) -> bool) {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.write(calls).await {
                Ok(()) => return,
                Err(e) if keep_trying(attempt) => {
                    tracing::warn!(error = %e, calls = calls.len(), attempt, "writing LLM calls failed; retrying");
                    let wait = Duration::from_millis(100 << attempt.min(6));
                    tokio::time::sleep(wait).await;
                }
                Err(e) => {
                    let ids: Vec<String> = calls.iter().map(|c| c.id.to_string()).collect();
                    tracing::error!(error = %e, ids = ?ids, "LLM calls could not be written");
                    return;
                }
            }
        }
    }
}

/// The handle requests record calls through. Cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    queue: mpsc::Sender<NewCall>,
    writer: Writer,
}

impl Recorder {
    /// Starts the background writer; register the task so shutdown drains it.
    pub fn start(writer: Writer) -> (Recorder, RecorderTask) {
        let (queue, rx) = mpsc::channel(QUEUE);
        let (stop, stopped) = oneshot::channel();
        let running = Arc::new(AtomicBool::new(true));
        let handle = tokio::spawn(run(writer.clone(), rx, stopped, running.clone()));
        let task = RecorderTask {
            stop: Some(stop),
            handle,
            running,
        };
        (Recorder { queue, writer }, task)
    }

    /// Queues `call` for writing; waits only when the queue is full. After shutdown began, the
    /// call is written directly.
    pub async fn record(&self, call: NewCall) {
        if let Err(mpsc::error::SendError(call)) = self.queue.send(call).await {
            self.writer
                .write_retrying(std::slice::from_ref(&call), |n| n < 3)
                .await;
        }
    }
}

async fn run(
    writer: Writer,
    mut rx: mpsc::Receiver<NewCall>,
    mut stop: oneshot::Receiver<()>,
    running: Arc<AtomicBool>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut stopping = false;
    loop {
        let n = if stopping {
            rx.recv_many(&mut batch, BATCH).await
        } else {
            tokio::select! {
                n = rx.recv_many(&mut batch, BATCH) => n,
                _ = &mut stop => {
                    stopping = true;
                    rx.close();
                    continue;
                }
            }
        };
        if n == 0 {
            break;
        }
        let keep = |attempt: u32| !stopping || attempt < 5;
        writer.write_retrying(&batch, keep).await;
        batch.clear();
    }
    running.store(false, Ordering::SeqCst);
}

/// The recorder's background task.
pub struct RecorderTask {
    stop: Option<oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<()>,
    running: Arc<AtomicBool>,
}

#[async_trait]
impl BackgroundTask for RecorderTask {
    fn name(&self) -> &'static str {
        "llm-call-recorder"
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
