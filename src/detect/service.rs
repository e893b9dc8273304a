//! The detector: loads what scoring needs for one tenant (its history from the ledger, its
//! configuration, approved vendors, snoozes, time zone, latest model), scores transactions and
//! writes their scores and anomalies, trains a new model.
//!
//! Invariant: scores are computed off the async runtime and written in chunks of
//! [`WRITE_CHUNK`], each in one transaction with the anomalies it raises; a run that stops half way
//! leaves its remaining targets unscored (or scored before the back-fill began), so the next run
//! picks up exactly those, and a case is raised at most once per transaction.

use std::collections::HashSet;
use std::sync::Arc;

use chrono_tz::Tz;

use super::config::DetectionConfig;
use super::features;
use super::forest::{self, Forest, ForestParams};
use super::rules::{self, Context};
use super::score;
use super::store::TxnRow;
use super::store::{DetectStore, ModelInfo, ModelRow, NewAnomaly, ScoreRow, SnoozeRow, Targets};
use super::{Factor, History, RuleId, Snooze, SnoozeTarget, Txn};
use crate::domain::time::{self, Timestamp};
use crate::domain::{AnomalyId, CaseEventId, Currency, ModelId, SpendId, TenantId};
use crate::error::{Error, Result};
use crate::ledger::{Source, SpendStatus};
use crate::store::Time;

/// Scores written per transaction.
pub const WRITE_CHUNK: usize = 1000;

/// The seed every forest is trained with: the same history gives the same model.
const FOREST_SEED: u64 = 0x4175_6469_7450_756c;

/// Detection's service.
#[derive(Clone)]
pub struct Detector {
    pub store: Arc<dyn DetectStore>,
}

/// What scoring one tenant needs, loaded once.
pub struct Loaded {
    pub history: History,
    pub config: DetectionConfig,
    pub approved: HashSet<String>,
    pub snoozes: Vec<Snooze>,
    pub zone: Tz,
    pub model: Option<(ModelInfo, Forest)>,
}

/// What a scoring run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScoreReport {
    pub scored: u64,
    pub raised: u64,
}

/// Told how far a long run is: `(done, total)`.
pub type OnProgress<'a> = &'a (dyn Fn(u64, u64) + Send + Sync);

impl Detector {
    /// The tenant's configuration: the saved one, or the defaults.
    pub async fn config(&self, tenant: TenantId) -> Result<DetectionConfig> {
        match self.store.detection_config(tenant).await? {
            None => Ok(DetectionConfig::default()),
            Some(json) => serde_json::from_str(&json).map_err(|e| {
                Error::Internal(anyhow::anyhow!("corrupt detection configuration: {e}"))
            }),
        }
    }

    /// The tenant's time zone (UTC when unset or unknown).
    pub async fn zone(&self, tenant: TenantId) -> Result<Tz> {
        let name = self.store.tenant_time_zone(tenant).await?;
        Ok(name.parse().unwrap_or_else(|_| {
            tracing::warn!(%tenant, zone = %name, "unknown time zone; using UTC");
            Tz::UTC
        }))
    }

    pub async fn load(&self, tenant: TenantId) -> Result<Loaded> {
        let rows = self.store.detection_txns(tenant).await?;
        let history = tokio::task::spawn_blocking(move || history_of(rows))
            .await
            .map_err(|e| Error::Internal(e.into()))??;
        let snoozes = self.store.snoozes(tenant).await?;
        let model = match self.store.latest_model(tenant).await? {
            None => None,
            Some(row) => {
                let forest = Forest::from_bytes(&row.model).map_err(|e| {
                    Error::Internal(anyhow::anyhow!("corrupt model v{}: {e}", row.info.version))
                })?;
                Some((row.info, forest))
            }
        };
        Ok(Loaded {
            history,
            config: self.config(tenant).await?,
            approved: self
                .store
                .approved_vendors(tenant)
                .await?
                .into_iter()
                .collect(),
            snoozes: snoozes.into_iter().filter_map(snooze_of).collect(),
            zone: self.zone(tenant).await?,
            model,
        })
    }

    /// Scores `targets` and raises anomalies at or above the tenant's threshold.
    pub async fn score(
        &self,
        tenant: TenantId,
        targets: Targets,
        progress: OnProgress<'_>,
    ) -> Result<ScoreReport> {
        let ids = self.store.score_targets(tenant, targets).await?;
        if ids.is_empty() {
            return Ok(ScoreReport::default());
        }
        let loaded = Arc::new(self.load(tenant).await?);
        let now = time::now();
        let computed = {
            let loaded = loaded.clone();
            tokio::task::spawn_blocking(move || compute(&loaded, &ids, now))
                .await
                .map_err(|e| Error::Internal(e.into()))?
        };
        let total = computed.len() as u64;
        let mut report = ScoreReport::default();
        for chunk in computed.chunks(WRITE_CHUNK) {
            let (scores, raise) = rows_of(chunk, loaded.config.alert_threshold, now)?;
            let raised = self.store.write_scores(tenant, &scores, &raise).await?;
            report.scored += scores.len() as u64;
            report.raised += raised.len() as u64;
            progress(report.scored, total);
        }
        Ok(report)
    }

    /// Trains and stores the tenant's next model; `None` when it has too little history.
    pub async fn retrain(&self, tenant: TenantId) -> Result<Option<ModelInfo>> {
        let loaded = self.load(tenant).await?;
        let min = loaded.config.forest.min_history;
        let trained = tokio::task::spawn_blocking(move || train(&loaded.history, min as usize))
            .await
            .map_err(|e| Error::Internal(e.into()))?;
        let Some((forest, rows)) = trained else {
            return Ok(None);
        };
        let mut row = ModelRow {
            info: ModelInfo {
                id: ModelId::new(),
                version: 0,
                trained_at: Time(time::now()),
                training_rows: i64::try_from(rows).unwrap_or(i64::MAX),
                threshold: forest.threshold(),
                features: features::NAMES.join(","),
            },
            model: forest.to_bytes(),
        };
        row.info.version = self.store.insert_model(tenant, &row).await?;
        Ok(Some(row.info))
    }
}

/// One scored transaction.
pub struct Scored {
    pub spend_id: SpendId,
    pub score: u8,
    pub factors: Vec<Factor>,
    pub model_id: Option<ModelId>,
}

/// The factors and score of each target (those still in the history), with `config`.
pub fn compute(loaded: &Loaded, ids: &[SpendId], now: Timestamp) -> Vec<Scored> {
    compute_with(loaded, &loaded.config, ids, now)
}

/// As [`compute`], with another configuration (a back-test).
pub fn compute_with(
    loaded: &Loaded,
    config: &DetectionConfig,
    ids: &[SpendId],
    now: Timestamp,
) -> Vec<Scored> {
    let history = &loaded.history;
    let positions: std::collections::HashMap<SpendId, usize> = history
        .txns()
        .iter()
        .enumerate()
        .map(|(p, t)| (t.id, p))
        .collect();
    let ctx = Context {
        history,
        config,
        approved: &loaded.approved,
        snoozes: &loaded.snoozes,
        time_zone: loaded.zone,
        now,
    };
    let forest = loaded.model.as_ref().filter(|_| config.forest.enabled);
    let rows = forest.map(|_| features::rows(history));
    ids.iter()
        .filter_map(|id| positions.get(id).map(|&p| (*id, p)))
        .map(|(spend_id, position)| {
            let mut factors = rules::evaluate(&ctx, position);
            if let (Some((info, model)), Some(rows)) = (forest, &rows) {
                if history.txn(position).is_payment() {
                    let s = model.score(&rows[position]);
                    if let Some(found) = forest::finding(model, s) {
                        factors.push(Factor {
                            rule: RuleId::Forest,
                            strength: found.strength,
                            weight: config.forest.weight,
                            explanation: format!("{} (model v{})", found.explanation, info.version),
                        });
                    }
                }
            }
            Scored {
                spend_id,
                score: score::risk(config, &factors),
                model_id: forest.map(|(info, _)| info.id),
                factors,
            }
        })
        .collect()
}

/// The stored rows of a chunk of scores and the anomalies they raise.
fn rows_of(
    chunk: &[Scored],
    threshold: u8,
    now: Timestamp,
) -> Result<(Vec<ScoreRow>, Vec<NewAnomaly>)> {
    let mut scores = Vec::with_capacity(chunk.len());
    let mut raise = Vec::new();
    for s in chunk {
        let rules: String = s.factors.iter().map(|f| format!("{},", f.rule)).collect();
        scores.push(ScoreRow {
            spend_id: s.spend_id,
            score: i64::from(s.score),
            rules: format!(",{rules}"),
            factors: serde_json::to_string(&s.factors).map_err(|e| Error::Internal(e.into()))?,
            model_id: s.model_id,
            scored_at: Time(now),
        });
        if s.score >= threshold && !s.factors.is_empty() {
            raise.push(NewAnomaly {
                id: AnomalyId::new(),
                spend_id: s.spend_id,
                event_id: CaseEventId::new(),
                score: i64::from(s.score),
                at: Time(now),
            });
        }
    }
    Ok((scores, raise))
}

/// A forest over the history's payments, if there are at least `min` of them.
fn train(history: &History, min: usize) -> Option<(Forest, usize)> {
    let rows = features::rows(history);
    let payments: Vec<features::Row> = history
        .txns()
        .iter()
        .zip(rows)
        .filter(|(t, _)| t.is_payment())
        .map(|(_, row)| row)
        .collect();
    if payments.len() < min.max(2) {
        return None;
    }
    let params = ForestParams {
        seed: FOREST_SEED,
        ..ForestParams::default()
    };
    Some((Forest::train(&payments, params), payments.len()))
}

/// The history from stored rows; a row that does not decode is a corrupt database.
pub fn history_of(rows: Vec<TxnRow>) -> Result<History> {
    let txns = rows.into_iter().map(txn_of).collect::<Result<Vec<_>>>()?;
    Ok(History::new(txns))
}

fn txn_of(row: TxnRow) -> Result<Txn> {
    let corrupt =
        |what: &str| Error::Internal(anyhow::anyhow!("corrupt spend event {}: {what}", row.id));
    let (currency, exponent) = Currency::iso(&row.currency).map_err(|_| corrupt("currency"))?;
    Ok(Txn {
        id: row.id,
        source: Source::parse(&row.source).ok_or_else(|| corrupt("source"))?,
        account: row.account_id,
        occurred_at: row.occurred_at.0,
        booked_on: row.booked_on,
        amount_minor: row.amount_minor,
        currency,
        exponent,
        status: SpendStatus::parse(&row.status).ok_or_else(|| corrupt("status"))?,
        vendor: row.counterparty,
        category: row.category,
    })
}

/// A stored snooze as the rules see it; one naming an unknown rule is skipped.
pub fn snooze_of(row: SnoozeRow) -> Option<Snooze> {
    let target = match row.target_kind.as_str() {
        "vendor" => SnoozeTarget::Vendor(row.target_value),
        "account" => SnoozeTarget::Account(row.target_value.parse().ok()?),
        _ => return None,
    };
    Some(Snooze {
        id: row.id,
        rule: RuleId::parse(&row.rule)?,
        target,
        until: row.until.0,
    })
}
