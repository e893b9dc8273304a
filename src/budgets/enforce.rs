//! The gateway's check before it forwards a call: the tenant's budgets that swap models or hold
//! a hard limit and cover the call (its tenant, application, project, end user or API key) are
//! read; above a swap threshold the requested model becomes the next one of the chain; the
//! call's worst-case cost (with the model it will be sent with) is reserved against every such
//! budget, or the call is refused when that could take a hard-limited budget past its amount.
//!
//! Invariant: the decision is made inside the store's reservation transaction on the counters
//! it holds locked, and is a pure function of them ([`decide`]), so what the gateway reports
//! (the swap, the refusing budget) is what was reserved; a call with no covering budget costs a
//! look-up in memory only.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};

use super::estimate::{next_model, worst_case};
use super::model::{Budget, ScopeKind};
use super::service::{Budgets, Units};
use super::store::{Counter, PeriodKey, Reservation, Settlement};
use crate::domain::{ApiKeyId, LlmCallId, TenantId};
use crate::error::{Error, Result};
use crate::gateway::calls::Attribution;
use crate::gateway::prices::{Catalog, PriceBook};
use crate::gateway::Provider;
use crate::store::Time;

/// What the gateway knows of a call before it is sent.
pub struct Ask<'a> {
    pub tenant: TenantId,
    pub call: LlmCallId,
    pub api_key: ApiKeyId,
    pub attribution: &'a Attribution,
    pub provider: Provider,
    pub model: &'a str,
    /// The request body's size: no prompt has more tokens than bytes.
    pub prompt_bytes: u64,
    /// `max_tokens` (or its endpoint's name for it); `Some(0)` for embeddings.
    pub max_output_tokens: Option<u64>,
    pub at: DateTime<Utc>,
    /// Whether the tenant's provider key may be used with a model (a swap never leaves it).
    pub allowed: &'a (dyn Fn(&str) -> bool + Sync),
}

/// A model swap a budget made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Swap {
    pub from: String,
    pub to: String,
    /// The budget above its swap threshold.
    pub budget: String,
}

/// What the check decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// No budget that swaps or blocks covers the call.
    Open,
    /// Reserved; sent with the swapped model when there is one.
    Admitted { swap: Option<Swap> },
    /// The call could take `budget` past its hard limit: refused; its period ends in
    /// `retry_after` seconds.
    Refused { budget: String, retry_after: u64 },
}

/// The decision on locked counters (one per budget, in the same order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The model to send instead, and the index of the budget that swapped it.
    pub swap: Option<(String, usize)>,
    /// The reservation per budget, or the index of the budget that refuses.
    pub outcome: std::result::Result<Vec<i64>, Refusal>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The call's worst case would take this budget past its hard limit.
    Limit(usize),
    /// The model has no price, so a hard limit cannot bound the call.
    Unpriced(usize),
}

/// How narrow a scope is: a swap takes the chain of the narrowest budget that has one.
fn narrowness(kind: ScopeKind) -> u8 {
    match kind {
        ScopeKind::ApiKey => 5,
        ScopeKind::User => 4,
        ScopeKind::Project => 3,
        ScopeKind::Application => 2,
        ScopeKind::Tenant => 1,
        _ => 0,
    }
}

/// Whether `budget` covers the call.
fn covers(budget: &Budget, ask: &Ask<'_>) -> bool {
    let value = budget.scope.value.as_deref();
    let a = ask.attribution;
    match budget.scope.kind {
        ScopeKind::Tenant => true,
        ScopeKind::Application => value.is_some() && a.application.as_deref() == value,
        ScopeKind::Project => value.is_some() && a.project.as_deref() == value,
        ScopeKind::User => value.is_some() && a.end_user.as_deref() == value,
        ScopeKind::ApiKey => value.and_then(|v| v.parse::<ApiKeyId>().ok()) == Some(ask.api_key),
        _ => false,
    }
}

/// The swap, the worst case and the reservations for `budgets` at `counters`.
pub fn decide(
    budgets: &[&Budget],
    counters: &[Counter],
    ask: &Ask<'_>,
    catalog: &Catalog,
    ceiling: u64,
) -> Decision {
    let used = |i: usize| counters[i].committed.saturating_add(counters[i].other);
    let limit = |i: usize| Units::of(budgets[i]).limit(budgets[i]);
    // Budgets above their swap threshold, narrowest first.
    let mut triggered: Vec<usize> = (0..budgets.len())
        .filter(|&i| {
            budgets[i]
                .swap_threshold
                .is_some_and(|t| i128::from(used(i)) >= t.of(i128::from(limit(i))))
        })
        .collect();
    triggered.sort_by_key(|&i| std::cmp::Reverse(narrowness(budgets[i].scope.kind)));
    let mut with_chain: Vec<usize> = (0..budgets.len())
        .filter(|&i| !budgets[i].model_chain.is_empty())
        .collect();
    with_chain.sort_by_key(|&i| std::cmp::Reverse(narrowness(budgets[i].scope.kind)));
    let swap = triggered.iter().find_map(|&i| {
        let chain = if budgets[i].model_chain.is_empty() {
            &budgets[*with_chain.first()?].model_chain
        } else {
            &budgets[i].model_chain
        };
        let to = next_model(chain, ask.model, ask.provider, catalog)?;
        (ask.allowed)(&to).then_some((to, i))
    });
    let model = swap.as_ref().map_or(ask.model, |(m, _)| m.as_str());
    let worst = worst_case(
        catalog,
        ask.provider,
        model,
        ask.at,
        ask.prompt_bytes,
        ask.max_output_tokens,
        ceiling,
    )
    .map(|n| n.0.max(0));
    let hard = (0..budgets.len()).filter(|&i| budgets[i].hard_limit);
    let outcome = match worst {
        None => match hard.clone().next() {
            Some(i) => Err(Refusal::Unpriced(i)),
            None => Ok(vec![0; budgets.len()]),
        },
        Some(w) => match hard.clone().find(|&i| used(i).saturating_add(w) > limit(i)) {
            Some(i) => Err(Refusal::Limit(i)),
            None => Ok(vec![w; budgets.len()]),
        },
    };
    Decision { swap, outcome }
}

/// Reservations queued before a call waits for the reserver (back-pressure, never a drop).
const QUEUE: usize = 8_192;
/// Reservations decided in one transaction at most.
const BATCH: usize = 256;

/// What a call's decision needs, owned, so the reserver can decide on it in its transaction and
/// the call can read the same decision after.
struct Owned {
    budgets: Vec<Budget>,
    tenant: TenantId,
    call: LlmCallId,
    api_key: ApiKeyId,
    attribution: Attribution,
    provider: Provider,
    model: String,
    prompt_bytes: u64,
    max_output_tokens: Option<u64>,
    at: DateTime<Utc>,
    /// The chain models the tenant's provider key allows.
    allowed: HashSet<String>,
    catalog: Arc<Catalog>,
    ceiling: u64,
}

impl Owned {
    fn decide(&self, counters: &[Counter]) -> Decision {
        let allowed = |m: &str| self.allowed.contains(m);
        let ask = Ask {
            tenant: self.tenant,
            call: self.call,
            api_key: self.api_key,
            attribution: &self.attribution,
            provider: self.provider,
            model: &self.model,
            prompt_bytes: self.prompt_bytes,
            max_output_tokens: self.max_output_tokens,
            at: self.at,
            allowed: &allowed,
        };
        let budgets: Vec<&Budget> = self.budgets.iter().collect();
        decide(&budgets, counters, &ask, &self.catalog, self.ceiling)
    }
}

type Reply = oneshot::Sender<Result<(Vec<Counter>, bool)>>;
type BoxedDecide = Box<dyn Fn(&[Counter]) -> Option<Vec<i64>> + Send + Sync>;

struct Request {
    owned: Arc<Owned>,
    keys: Vec<PeriodKey>,
    expires_at: Time,
    reply: Reply,
}

/// The gateway's budget check. Reservations go through one background reserver that decides a
/// batch of calls in one transaction (group commit), so concurrent calls do not each wait for
/// the database's write lock or hold a pooled connection while they do.
pub struct Enforcer {
    pub budgets: Arc<Budgets>,
    /// A reservation of a call that never ends is given back after this.
    pub reservation_ttl: Duration,
    /// Output tokens reserved for a call that names no limit.
    pub max_output_tokens: u64,
    /// Counters whose rest of spend this instance has evaluated (once per period each).
    evaluated: Mutex<HashSet<(crate::domain::BudgetId, i64)>>,
    queue: mpsc::Sender<Request>,
}

impl Enforcer {
    /// The check and its reserver (a background task to register).
    pub fn start(
        budgets: Arc<Budgets>,
        reservation_ttl: Duration,
        max_output_tokens: u64,
    ) -> (Self, crate::app::tasks::Aborting) {
        let (queue, rx) = mpsc::channel(QUEUE);
        let handle = tokio::spawn(reserver(budgets.store.clone(), rx));
        let enforcer = Self {
            budgets,
            reservation_ttl,
            max_output_tokens,
            evaluated: Mutex::new(HashSet::new()),
            queue,
        };
        let task = crate::app::tasks::Aborting {
            name: "budget_reserver",
            handle,
        };
        (enforcer, task)
    }

    /// Decides and reserves for one call.
    pub async fn admit(&self, ask: &Ask<'_>, prices: &PriceBook) -> Result<Admission> {
        let of = self.budgets.of_tenant(ask.tenant).await?;
        let mut covering: Vec<Budget> = of
            .budgets
            .iter()
            .filter(|b| b.enforces() && covers(b, ask))
            .cloned()
            .collect();
        if covering.is_empty() {
            return Ok(Admission::Open);
        }
        // One lock order everywhere: by budget id.
        covering.sort_by_key(|b| b.id);
        let mut keys = Vec::with_capacity(covering.len());
        let mut ends = Vec::with_capacity(covering.len());
        for budget in &covering {
            let window = Budgets::window(budget, of.zone, ask.at);
            self.evaluate_once(ask.tenant, budget, window).await?;
            keys.push(PeriodKey {
                budget: budget.id,
                start: window.from,
            });
            ends.push(window.to.0);
        }
        let allowed = covering
            .iter()
            .flat_map(|b| b.model_chain.iter())
            .filter(|m| (ask.allowed)(m))
            .cloned()
            .collect();
        let owned = Arc::new(Owned {
            budgets: covering,
            tenant: ask.tenant,
            call: ask.call,
            api_key: ask.api_key,
            attribution: ask.attribution.clone(),
            provider: ask.provider,
            model: ask.model.to_owned(),
            prompt_bytes: ask.prompt_bytes,
            max_output_tokens: ask.max_output_tokens,
            at: ask.at,
            allowed,
            catalog: prices.catalog(ask.tenant),
            ceiling: self.max_output_tokens,
        });
        let expires = ask.at
            + chrono::Duration::from_std(self.reservation_ttl)
                .unwrap_or_else(|_| chrono::Duration::minutes(15));
        let (reply, answer) = oneshot::channel();
        let request = Request {
            owned: owned.clone(),
            keys,
            expires_at: Time(expires),
            reply,
        };
        let gone = || Error::Unavailable("the budget reserver has stopped".into());
        self.queue.send(request).await.map_err(|_| gone())?;
        let (counters, reserved) = answer.await.map_err(|_| gone())??;
        let decision = owned.decide(&counters);
        let covering = &owned.budgets;
        let swap = decision.swap.map(|(to, i)| Swap {
            from: ask.model.to_owned(),
            to,
            budget: covering[i].name.clone(),
        });
        match (reserved, decision.outcome) {
            (true, Ok(_)) => Ok(Admission::Admitted { swap }),
            (_, Err(Refusal::Limit(i))) => Ok(Admission::Refused {
                budget: covering[i].name.clone(),
                retry_after: u64::try_from((ends[i] - ask.at).num_seconds().max(1)).unwrap_or(1),
            }),
            (_, Err(Refusal::Unpriced(i))) => Err(Error::BadRequest(format!(
                "model {:?} has no price, so the hard limit of budget {:?} cannot bound its \
                 cost; an admin sets a price override (PUT /api/v1/prices/overrides)",
                swap.as_ref().map_or(ask.model, |s| s.to.as_str()),
                covering[i].name
            ))),
            (false, Ok(_)) => Err(Error::Internal(anyhow::anyhow!(
                "a budget reservation was allowed but not taken"
            ))),
        }
    }

    /// Gives a reservation back at once (the call was never sent).
    pub async fn release(&self, tenant: TenantId, call: LlmCallId) -> Result<()> {
        self.budgets
            .store
            .settle(tenant, &[Settlement { call, actual: 0 }])
            .await
    }

    /// Brings a counter's rest of spend up to date the first time this instance uses it.
    async fn evaluate_once(
        &self,
        tenant: TenantId,
        budget: &Budget,
        window: super::store::Window,
    ) -> Result<()> {
        let seen_key = (budget.id, window.from.0.timestamp());
        if self
            .evaluated
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&seen_key)
        {
            return Ok(());
        }
        let other = self.budgets.spent(tenant, budget, window, true).await?;
        let key = PeriodKey {
            budget: budget.id,
            start: window.from,
        };
        self.budgets
            .store
            .set_other(tenant, key, other, Time(crate::domain::time::now()))
            .await?;
        let mut seen = self.evaluated.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() > 100_000 {
            seen.clear();
        }
        seen.insert(seen_key);
        Ok(())
    }
}

/// The reserver: takes what is queued (up to [`BATCH`]) and decides it tenant by tenant, each
/// tenant's calls in one transaction, in the order they came.
async fn reserver(store: Arc<dyn super::store::BudgetStore>, mut rx: mpsc::Receiver<Request>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        let mut by_tenant: BTreeMap<TenantId, Vec<Request>> = BTreeMap::new();
        for r in batch {
            by_tenant.entry(r.owned.tenant).or_default().push(r);
        }
        for (tenant, requests) in by_tenant {
            let decides: Vec<BoxedDecide> = requests
                .iter()
                .map(|r| {
                    let owned = r.owned.clone();
                    Box::new(move |c: &[Counter]| owned.decide(c).outcome.ok()) as BoxedDecide
                })
                .collect();
            let items: Vec<Reservation<'_>> = requests
                .iter()
                .zip(&decides)
                .map(|(r, d)| Reservation {
                    call: r.owned.call,
                    keys: &r.keys,
                    expires_at: r.expires_at,
                    decide: d.as_ref(),
                })
                .collect();
            let result = store.reserve_batch(tenant, &items).await;
            drop(items);
            match result {
                Ok(outs) => {
                    for (r, out) in requests.into_iter().zip(outs) {
                        let _ = r.reply.send(Ok(out));
                    }
                }
                Err(e) => {
                    tracing::warn!(%tenant, error = %e, "budget reservations failed");
                    for r in requests {
                        let _ = r.reply.send(Err(Error::Unavailable(
                            "the budget reservation could not be stored; retry".into(),
                        )));
                    }
                }
            }
        }
    }
}
