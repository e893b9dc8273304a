//! Detection's storage: configuration and its changes, models, risk scores, anomalies with their
//! history, snoozes; and the clear columns of the ledger that scoring reads. The SQL is written
//! once in `sql` and `write`, generic over the backend; `sqlite` and `postgres` open the
//! transaction (row-level-security scoped on PostgreSQL) and commit.
//!
//! Invariant: every statement names the tenant; one anomaly per spend event (a unique key), so
//! rescoring can raise a case at most once.

mod postgres;
mod sql;
mod sqlite;
mod write;

use std::marker::PhantomData;

use async_trait::async_trait;
use chrono::NaiveDate;

use crate::domain::UserId;
use crate::domain::{AccountId, AnomalyId, CaseEventId, ModelId, SnoozeId, SpendId, TenantId};
use crate::error::Result;
use crate::store::codec::sql_id;
use crate::store::Time;

sql_id!(AnomalyId, CaseEventId, ModelId, SnoozeId);

/// A spend event's clear columns, as scoring reads them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TxnRow {
    pub id: SpendId,
    pub source: String,
    pub account_id: Option<AccountId>,
    pub occurred_at: Time,
    pub booked_on: NaiveDate,
    pub amount_minor: i64,
    pub currency: String,
    pub status: String,
    pub counterparty: Option<String>,
    pub category: Option<String>,
}

/// A recorded configuration change.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ChangeRow {
    pub rule: String,
    pub parameter: String,
    pub from_value: String,
    pub to_value: String,
    pub reason: String,
    /// `tuning`, or the user who changed it.
    pub actor: String,
    pub created_at: Time,
}

/// A trained model, without its bytes.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ModelInfo {
    pub id: ModelId,
    pub version: i64,
    pub trained_at: Time,
    pub training_rows: i64,
    pub threshold: f64,
    pub features: String,
}

/// A trained model with its bytes.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ModelRow {
    #[sqlx(flatten)]
    pub info: ModelInfo,
    pub model: Vec<u8>,
}

/// One transaction's risk score.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ScoreRow {
    pub spend_id: SpendId,
    pub score: i64,
    /// `,rule_a,rule_b,`.
    pub rules: String,
    /// The factors, JSON.
    pub factors: String,
    pub model_id: Option<ModelId>,
    pub scored_at: Time,
}

/// Which transactions a scoring run takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Targets {
    /// Those with no score yet (newly arrived).
    Unscored,
    /// Those booked on or after `from` (all when `None`) not scored since `before`: a back-fill
    /// that resumes where it stopped.
    Backfill {
        from: Option<NaiveDate>,
        before: Time,
    },
}

/// An anomaly to raise (if its transaction has none yet).
#[derive(Debug, Clone, PartialEq)]
pub struct NewAnomaly {
    pub id: AnomalyId,
    pub spend_id: SpendId,
    pub event_id: CaseEventId,
    pub score: i64,
    pub at: Time,
}

/// An anomaly with its transaction's clear columns and its score.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AnomalyRow {
    pub id: AnomalyId,
    pub spend_id: SpendId,
    pub status: String,
    pub outcome: Option<String>,
    pub assignee: Option<UserId>,
    pub created_at: Time,
    pub updated_at: Time,
    pub reviewed_at: Option<Time>,
    pub score: i64,
    pub rules: String,
    pub factors: String,
    pub model_id: Option<ModelId>,
    pub account_id: Option<AccountId>,
    pub counterparty: Option<String>,
    pub booked_on: NaiveDate,
    pub amount_minor: i64,
    pub currency: String,
}

/// Which anomalies to list, riskiest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnomalyFilter {
    pub status: Option<String>,
    pub min_score: Option<i64>,
    pub rule: Option<String>,
    pub account: Option<AccountId>,
    /// Normalised counterparty.
    pub vendor: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// Where the previous page ended: its last row's score and id.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnomalyCursor {
    pub score: i64,
    pub id: AnomalyId,
}

/// One entry in an anomaly's history.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CaseEventRow {
    pub id: CaseEventId,
    pub action: String,
    pub actor: String,
    pub status: Option<String>,
    pub outcome: Option<String>,
    pub assignee: Option<UserId>,
    pub score: Option<i64>,
    pub note_ciphertext: Option<Vec<u8>>,
    pub created_at: Time,
}

/// A change to a case: a review (status, outcome, note) or an assignment.
#[derive(Debug, Clone, PartialEq)]
pub enum CaseChange {
    Review {
        status: String,
        outcome: Option<String>,
    },
    Assign(Option<UserId>),
}

/// A change to a case with its history entry.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseUpdate {
    pub change: CaseChange,
    pub event_id: CaseEventId,
    pub actor: String,
    pub note_ciphertext: Option<Vec<u8>>,
    pub at: Time,
}

/// A reviewed anomaly, as tuning reads it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ReviewRow {
    pub rules: String,
    pub outcome: String,
    pub reviewed_at: Time,
}

/// A snooze as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SnoozeRow {
    pub id: SnoozeId,
    pub rule: String,
    pub target_kind: String,
    pub target_value: String,
    pub until: Time,
    pub created_by: String,
    pub created_at: Time,
}

/// Detection's storage.
#[async_trait]
pub trait DetectStore: Send + Sync {
    /// The tenant's IANA time zone name (`UTC` unless set).
    async fn tenant_time_zone(&self, tenant: TenantId) -> Result<String>;
    /// Every tenant but the reserved system tenant, with its time zone (system scope: the
    /// retraining schedule).
    async fn tenant_time_zones(&self) -> Result<Vec<(TenantId, String)>>;
    /// The normalised names on the tenant's approved-vendor list.
    async fn approved_vendors(&self, tenant: TenantId) -> Result<Vec<String>>;
    /// Every spend event not removed, clear columns only.
    async fn detection_txns(&self, tenant: TenantId) -> Result<Vec<TxnRow>>;

    /// The tenant's configuration (JSON), if it ever saved one.
    async fn detection_config(&self, tenant: TenantId) -> Result<Option<String>>;
    /// Saves the configuration and records its changes, in one transaction.
    async fn put_detection_config(
        &self,
        tenant: TenantId,
        config: &str,
        changes: &[ChangeRow],
        at: Time,
    ) -> Result<()>;
    /// The newest changes first.
    async fn detection_changes(&self, tenant: TenantId, limit: u32) -> Result<Vec<ChangeRow>>;

    async fn latest_model(&self, tenant: TenantId) -> Result<Option<ModelRow>>;
    /// Newest first.
    async fn models(&self, tenant: TenantId) -> Result<Vec<ModelInfo>>;
    /// Stores `row` as the tenant's next version; returns the version given.
    async fn insert_model(&self, tenant: TenantId, row: &ModelRow) -> Result<i64>;

    /// The ids a scoring run takes.
    async fn score_targets(&self, tenant: TenantId, targets: Targets) -> Result<Vec<SpendId>>;
    /// Writes scores (replacing earlier ones) and raises anomalies that do not exist yet, in one
    /// transaction. Returns the anomalies raised.
    async fn write_scores(
        &self,
        tenant: TenantId,
        scores: &[ScoreRow],
        raise: &[NewAnomaly],
    ) -> Result<Vec<AnomalyId>>;
    async fn risk_score(&self, tenant: TenantId, spend: SpendId) -> Result<Option<ScoreRow>>;

    async fn anomaly_page(
        &self,
        tenant: TenantId,
        filter: &AnomalyFilter,
        after: Option<AnomalyCursor>,
        limit: u32,
    ) -> Result<Vec<AnomalyRow>>;
    async fn anomaly(&self, tenant: TenantId, id: AnomalyId) -> Result<Option<AnomalyRow>>;
    async fn case_events(&self, tenant: TenantId, id: AnomalyId) -> Result<Vec<CaseEventRow>>;
    /// Applies `update` and records it; `false` when there is no such anomaly.
    async fn update_case(
        &self,
        tenant: TenantId,
        id: AnomalyId,
        update: &CaseUpdate,
    ) -> Result<bool>;
    /// The newest reviewed anomalies first.
    async fn reviews(&self, tenant: TenantId, limit: u32) -> Result<Vec<ReviewRow>>;

    async fn snoozes(&self, tenant: TenantId) -> Result<Vec<SnoozeRow>>;
    async fn insert_snooze(&self, tenant: TenantId, row: &SnoozeRow) -> Result<()>;
    async fn delete_snooze(&self, tenant: TenantId, id: SnoozeId) -> Result<bool>;
}

/// The detection statements both backends run alike, generic over the database.
pub(crate) struct Sql<DB>(PhantomData<DB>);
