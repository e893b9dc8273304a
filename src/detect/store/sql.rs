//! Detection's reads, written once for both backends: the ledger's clear columns for scoring,
//! configuration, models, scores, anomalies (riskiest first, keyset-paginated), case history,
//! reviews for tuning, snoozes.
//!
//! Invariant: every statement carries `tenant_id = $1` (or binds the tenant into the builder), so
//! even SQLite, without row-level security, never shows one tenant another's rows.

use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};

use super::*;

/// The anomaly list's columns: the case, its score, its transaction's clear columns.
const ANOMALY_COLUMNS: &str = "a.id, a.spend_id, a.status, a.outcome, a.assignee, a.created_at, \
     a.updated_at, a.reviewed_at, s.score, s.rules, s.factors, s.model_id, e.account_id, \
     e.counterparty, e.booked_on, e.amount_minor, e.currency";
const ANOMALY_FROM: &str = " FROM anomalies a \
     JOIN risk_scores s ON s.tenant_id = a.tenant_id AND s.spend_id = a.spend_id \
     JOIN spend_events e ON e.id = a.spend_id";
const MODEL_INFO: &str = "id, version, trained_at, training_rows, threshold, features";
const CHANGE_COLUMNS: &str = "rule, parameter, from_value, to_value, reason, actor, created_at";
const SNOOZE_COLUMNS: &str = "id, rule, target_kind, target_value, until, created_by, created_at";

impl<DB> Sql<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> TenantId: Encode<'q, DB> + Type<DB>,
    for<'q> AnomalyId: Encode<'q, DB> + Type<DB>,
    for<'q> AccountId: Encode<'q, DB> + Type<DB>,
    for<'q> SpendId: Encode<'q, DB> + Type<DB>,
    for<'q> Time: Encode<'q, DB> + Type<DB>,
    for<'q> NaiveDate: Encode<'q, DB> + Type<DB>,
    for<'q> Option<NaiveDate>: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<AccountId>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<AnomalyId>: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'r> TxnRow: FromRow<'r, DB::Row>,
    for<'r> ChangeRow: FromRow<'r, DB::Row>,
    for<'r> ModelInfo: FromRow<'r, DB::Row>,
    for<'r> ModelRow: FromRow<'r, DB::Row>,
    for<'r> ScoreRow: FromRow<'r, DB::Row>,
    for<'r> AnomalyRow: FromRow<'r, DB::Row>,
    for<'r> CaseEventRow: FromRow<'r, DB::Row>,
    for<'r> ReviewRow: FromRow<'r, DB::Row>,
    for<'r> SnoozeRow: FromRow<'r, DB::Row>,
    for<'r> (String,): FromRow<'r, DB::Row>,
    for<'r> (SpendId,): FromRow<'r, DB::Row>,
    for<'r> (TenantId, String): FromRow<'r, DB::Row>,
{
    pub(super) async fn tenant_time_zone(c: &mut DB::Connection, t: TenantId) -> Result<String> {
        let zone: Option<(String,)> = sqlx::query_as("SELECT time_zone FROM tenants WHERE id = $1")
            .bind(t)
            .fetch_optional(c)
            .await?;
        Ok(zone.map_or_else(|| "UTC".to_owned(), |(z,)| z))
    }

    pub(super) async fn tenant_time_zones(
        c: &mut DB::Connection,
    ) -> Result<Vec<(TenantId, String)>> {
        Ok(
            sqlx::query_as("SELECT id, time_zone FROM tenants ORDER BY id")
                .fetch_all(c)
                .await?,
        )
    }

    pub(super) async fn approved_vendors(
        c: &mut DB::Connection,
        t: TenantId,
    ) -> Result<Vec<String>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT normalized FROM vendors WHERE tenant_id = $1")
                .bind(t)
                .fetch_all(c)
                .await?;
        Ok(rows.into_iter().map(|(n,)| n).collect())
    }

    pub(super) async fn detection_txns(c: &mut DB::Connection, t: TenantId) -> Result<Vec<TxnRow>> {
        Ok(sqlx::query_as(
            "SELECT id, source, account_id, occurred_at, booked_on, amount_minor, currency, \
             status, counterparty, category FROM spend_events \
             WHERE tenant_id = $1 AND removed_at IS NULL AND source IN ('plaid', 'ofx', 'csv')",
        )
        .bind(t)
        .fetch_all(c)
        .await?)
    }

    pub(super) async fn detection_config(
        c: &mut DB::Connection,
        t: TenantId,
    ) -> Result<Option<String>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT config FROM detection_configs WHERE tenant_id = $1")
                .bind(t)
                .fetch_optional(c)
                .await?;
        Ok(row.map(|(config,)| config))
    }

    pub(super) async fn detection_changes(
        c: &mut DB::Connection,
        t: TenantId,
        limit: u32,
    ) -> Result<Vec<ChangeRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {CHANGE_COLUMNS} FROM detection_changes WHERE tenant_id = $1 \
             ORDER BY id DESC LIMIT $2"
        ))
        .bind(t)
        .bind(i64::from(limit.clamp(1, 1000)))
        .fetch_all(c)
        .await?)
    }

    pub(super) async fn latest_model(
        c: &mut DB::Connection,
        t: TenantId,
    ) -> Result<Option<ModelRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {MODEL_INFO}, model FROM detection_models WHERE tenant_id = $1 \
             ORDER BY version DESC LIMIT 1"
        ))
        .bind(t)
        .fetch_optional(c)
        .await?)
    }

    pub(super) async fn models(c: &mut DB::Connection, t: TenantId) -> Result<Vec<ModelInfo>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {MODEL_INFO} FROM detection_models WHERE tenant_id = $1 \
             ORDER BY version DESC LIMIT 100"
        ))
        .bind(t)
        .fetch_all(c)
        .await?)
    }

    pub(super) async fn score_targets(
        c: &mut DB::Connection,
        t: TenantId,
        targets: Targets,
    ) -> Result<Vec<SpendId>> {
        let rows: Vec<(SpendId,)> = match targets {
            Targets::Unscored => {
                sqlx::query_as(
                    "SELECT e.id FROM spend_events e LEFT JOIN risk_scores s \
                 ON s.tenant_id = e.tenant_id AND s.spend_id = e.id \
                 WHERE e.tenant_id = $1 AND e.removed_at IS NULL AND s.spend_id IS NULL \
                 AND e.source IN ('plaid', 'ofx', 'csv')",
                )
                .bind(t)
                .fetch_all(c)
                .await?
            }
            Targets::Backfill { from, before } => {
                sqlx::query_as(
                    "SELECT e.id FROM spend_events e LEFT JOIN risk_scores s \
                 ON s.tenant_id = e.tenant_id AND s.spend_id = e.id \
                 WHERE e.tenant_id = $1 AND e.removed_at IS NULL \
                 AND e.source IN ('plaid', 'ofx', 'csv') \
                 AND ($2 IS NULL OR e.booked_on >= $2) \
                 AND (s.spend_id IS NULL OR s.scored_at < $3)",
                )
                .bind(t)
                .bind(from)
                .bind(before)
                .fetch_all(c)
                .await?
            }
        };
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    pub(super) async fn risk_score(
        c: &mut DB::Connection,
        t: TenantId,
        spend: SpendId,
    ) -> Result<Option<ScoreRow>> {
        Ok(sqlx::query_as(
            "SELECT spend_id, score, rules, factors, model_id, scored_at FROM risk_scores \
             WHERE tenant_id = $1 AND spend_id = $2",
        )
        .bind(t)
        .bind(spend)
        .fetch_optional(c)
        .await?)
    }

    pub(super) async fn anomaly_page(
        c: &mut DB::Connection,
        t: TenantId,
        filter: &AnomalyFilter,
        after: Option<AnomalyCursor>,
        limit: u32,
    ) -> Result<Vec<AnomalyRow>> {
        let (after_score, after_id) = after.map_or((None, None), |c| (Some(c.score), Some(c.id)));
        let rows = sqlx::query_as(&format!(
            "SELECT {ANOMALY_COLUMNS}{ANOMALY_FROM} WHERE a.tenant_id = $1 \
             AND ($2 IS NULL OR a.status = $2) AND ($3 IS NULL OR s.score >= $3) \
             AND ($4 IS NULL OR s.rules LIKE $4) AND ($5 IS NULL OR e.account_id = $5) \
             AND ($6 IS NULL OR e.counterparty = $6) AND ($7 IS NULL OR e.booked_on >= $7) \
             AND ($8 IS NULL OR e.booked_on <= $8) \
             AND ($9 IS NULL OR s.score < $9 OR (s.score = $9 AND a.id < $10)) \
             ORDER BY s.score DESC, a.id DESC LIMIT $11"
        ))
        .bind(t)
        .bind(filter.status.clone())
        .bind(filter.min_score)
        .bind(filter.rule.as_ref().map(|r| format!("%,{r},%")))
        .bind(filter.account)
        .bind(filter.vendor.clone())
        .bind(filter.from)
        .bind(filter.to)
        .bind(after_score)
        .bind(after_id)
        .bind(i64::from(limit.clamp(1, 500)))
        .fetch_all(c)
        .await?;
        Ok(rows)
    }

    pub(super) async fn anomaly(
        c: &mut DB::Connection,
        t: TenantId,
        id: AnomalyId,
    ) -> Result<Option<AnomalyRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {ANOMALY_COLUMNS}{ANOMALY_FROM} WHERE a.tenant_id = $1 AND a.id = $2"
        ))
        .bind(t)
        .bind(id)
        .fetch_optional(c)
        .await?)
    }

    pub(super) async fn case_events(
        c: &mut DB::Connection,
        t: TenantId,
        id: AnomalyId,
    ) -> Result<Vec<CaseEventRow>> {
        Ok(sqlx::query_as(
            "SELECT id, action, actor, status, outcome, assignee, score, note_ciphertext, \
             created_at FROM anomaly_events WHERE tenant_id = $1 AND anomaly_id = $2 \
             ORDER BY created_at, id",
        )
        .bind(t)
        .bind(id)
        .fetch_all(c)
        .await?)
    }

    pub(super) async fn reviews(
        c: &mut DB::Connection,
        t: TenantId,
        limit: u32,
    ) -> Result<Vec<ReviewRow>> {
        Ok(sqlx::query_as(
            "SELECT s.rules, a.outcome, a.reviewed_at FROM anomalies a JOIN risk_scores s \
             ON s.tenant_id = a.tenant_id AND s.spend_id = a.spend_id \
             WHERE a.tenant_id = $1 AND a.outcome IS NOT NULL AND a.reviewed_at IS NOT NULL \
             ORDER BY a.reviewed_at DESC LIMIT $2",
        )
        .bind(t)
        .bind(i64::from(limit.clamp(1, 10_000)))
        .fetch_all(c)
        .await?)
    }

    pub(super) async fn snoozes(c: &mut DB::Connection, t: TenantId) -> Result<Vec<SnoozeRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {SNOOZE_COLUMNS} FROM detection_snoozes WHERE tenant_id = $1 \
             ORDER BY until DESC, id"
        ))
        .bind(t)
        .fetch_all(c)
        .await?)
    }
}
