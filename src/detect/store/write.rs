//! Detection's writes, written once for both backends: configuration with its change record,
//! the next model version, scores with the anomalies they raise, case updates with their history,
//! snoozes. The backend runs each in one transaction.
//!
//! Invariant: an anomaly is inserted `ON CONFLICT DO NOTHING` on its spend event, and its
//! `raised` history entry only when the insert happened, so rescoring never duplicates a case.

use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};

use super::*;

impl<DB> Sql<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> TenantId: Encode<'q, DB> + Type<DB>,
    for<'q> AnomalyId: Encode<'q, DB> + Type<DB>,
    for<'q> CaseEventId: Encode<'q, DB> + Type<DB>,
    for<'q> ModelId: Encode<'q, DB> + Type<DB>,
    for<'q> SnoozeId: Encode<'q, DB> + Type<DB>,
    for<'q> SpendId: Encode<'q, DB> + Type<DB>,
    for<'q> Option<ModelId>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<UserId>: Encode<'q, DB> + Type<DB>,
    for<'q> Time: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> f64: Encode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<Vec<u8>>: Encode<'q, DB> + Type<DB>,
    for<'r> (i64,): FromRow<'r, DB::Row>,
    for<'r> (AnomalyId,): FromRow<'r, DB::Row>,
{
    pub(super) async fn put_detection_config(
        c: &mut DB::Connection,
        t: TenantId,
        config: &str,
        changes: &[ChangeRow],
        at: Time,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO detection_configs (tenant_id, config, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (tenant_id) DO UPDATE SET config = excluded.config, \
             updated_at = excluded.updated_at",
        )
        .bind(t)
        .bind(config.to_owned())
        .bind(at)
        .execute(&mut *c)
        .await?;
        for change in changes {
            sqlx::query(
                "INSERT INTO detection_changes (tenant_id, rule, parameter, from_value, \
                 to_value, reason, actor, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(t)
            .bind(change.rule.clone())
            .bind(change.parameter.clone())
            .bind(change.from_value.clone())
            .bind(change.to_value.clone())
            .bind(change.reason.clone())
            .bind(change.actor.clone())
            .bind(change.created_at)
            .execute(&mut *c)
            .await?;
        }
        Ok(())
    }

    pub(super) async fn insert_model(
        c: &mut DB::Connection,
        t: TenantId,
        row: &ModelRow,
    ) -> Result<i64> {
        let (version,): (i64,) = sqlx::query_as(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM detection_models WHERE tenant_id = $1",
        )
        .bind(t)
        .fetch_one(&mut *c)
        .await?;
        let info = &row.info;
        sqlx::query(
            "INSERT INTO detection_models (id, tenant_id, version, trained_at, training_rows, \
             threshold, features, model) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(info.id)
        .bind(t)
        .bind(version)
        .bind(info.trained_at)
        .bind(info.training_rows)
        .bind(info.threshold)
        .bind(info.features.clone())
        .bind(row.model.clone())
        .execute(&mut *c)
        .await?;
        Ok(version)
    }

    pub(super) async fn write_scores(
        c: &mut DB::Connection,
        t: TenantId,
        scores: &[ScoreRow],
        raise: &[NewAnomaly],
    ) -> Result<Vec<AnomalyId>> {
        for s in scores {
            sqlx::query(
                "INSERT INTO risk_scores (tenant_id, spend_id, score, rules, factors, model_id, \
                 scored_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (tenant_id, spend_id) DO UPDATE SET score = excluded.score, \
                 rules = excluded.rules, factors = excluded.factors, \
                 model_id = excluded.model_id, scored_at = excluded.scored_at",
            )
            .bind(t)
            .bind(s.spend_id)
            .bind(s.score)
            .bind(s.rules.clone())
            .bind(s.factors.clone())
            .bind(s.model_id)
            .bind(s.scored_at)
            .execute(&mut *c)
            .await?;
        }
        let mut raised = Vec::new();
        for new in raise {
            let inserted: Option<(AnomalyId,)> = sqlx::query_as(
                "INSERT INTO anomalies (id, tenant_id, spend_id, status, outcome, assignee, \
                 created_at, updated_at, reviewed_at) \
                 VALUES ($1, $2, $3, 'open', NULL, NULL, $4, $4, NULL) \
                 ON CONFLICT (tenant_id, spend_id) DO NOTHING RETURNING id",
            )
            .bind(new.id)
            .bind(t)
            .bind(new.spend_id)
            .bind(new.at)
            .fetch_optional(&mut *c)
            .await?;
            if inserted.is_some() {
                Self::case_event(t, new.id, new.event_id, "raised", "detection", new.at)
                    .bind(Option::<String>::None)
                    .bind(Option::<String>::None)
                    .bind(Option::<UserId>::None)
                    .bind(Some(new.score))
                    .bind(Option::<Vec<u8>>::None)
                    .execute(&mut *c)
                    .await?;
                raised.push(new.id);
            }
        }
        Ok(raised)
    }

    /// The history entry's insert with its first seven values bound; the caller binds status,
    /// outcome, assignee, score and note (`$8`–`$12`).
    fn case_event<'q>(
        t: TenantId,
        anomaly: AnomalyId,
        id: CaseEventId,
        action: &'static str,
        actor: &str,
        at: Time,
    ) -> sqlx::query::Query<'q, DB, DB::Arguments<'q>> {
        sqlx::query(
            "INSERT INTO anomaly_events (id, tenant_id, anomaly_id, action, actor, created_at, \
             status, outcome, assignee, score, note_ciphertext) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(id)
        .bind(t)
        .bind(anomaly)
        .bind(action.to_owned())
        .bind(actor.to_owned())
        .bind(at)
    }

    pub(super) async fn update_case(
        c: &mut DB::Connection,
        t: TenantId,
        id: AnomalyId,
        u: &CaseUpdate,
    ) -> Result<bool> {
        let (action, status, outcome, assignee, set_assignee) = match &u.change {
            CaseChange::Review { status, outcome } => {
                ("review", Some(status.clone()), outcome.clone(), None, false)
            }
            CaseChange::Assign(user) => ("assign", None, None, *user, true),
        };
        let updated: Option<(AnomalyId,)> = sqlx::query_as(
            "UPDATE anomalies SET status = COALESCE($3, status), \
             outcome = CASE WHEN $3 IS NULL THEN outcome ELSE $4 END, \
             reviewed_at = CASE WHEN $4 IS NULL THEN reviewed_at ELSE $5 END, \
             assignee = CASE WHEN $6 THEN $7 ELSE assignee END, updated_at = $5 \
             WHERE tenant_id = $1 AND id = $2 RETURNING id",
        )
        .bind(t)
        .bind(id)
        .bind(status.clone())
        .bind(outcome.clone())
        .bind(u.at)
        .bind(set_assignee)
        .bind(assignee)
        .fetch_optional(&mut *c)
        .await?;
        if updated.is_none() {
            return Ok(false);
        }
        Self::case_event(t, id, u.event_id, action, &u.actor, u.at)
            .bind(status)
            .bind(outcome)
            .bind(assignee)
            .bind(Option::<i64>::None)
            .bind(u.note_ciphertext.clone())
            .execute(&mut *c)
            .await?;
        Ok(true)
    }

    pub(super) async fn insert_snooze(
        c: &mut DB::Connection,
        t: TenantId,
        row: &SnoozeRow,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO detection_snoozes (id, tenant_id, rule, target_kind, target_value, \
             until, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(row.id)
        .bind(t)
        .bind(row.rule.clone())
        .bind(row.target_kind.clone())
        .bind(row.target_value.clone())
        .bind(row.until)
        .bind(row.created_by.clone())
        .bind(row.created_at)
        .execute(c)
        .await?;
        Ok(())
    }

    pub(super) async fn delete_snooze(
        c: &mut DB::Connection,
        t: TenantId,
        id: SnoozeId,
    ) -> Result<bool> {
        let row: Option<(i64,)> = sqlx::query_as(
            "DELETE FROM detection_snoozes WHERE tenant_id = $1 AND id = $2 RETURNING CAST(1 AS BIGINT)",
        )
        .bind(t)
        .bind(id)
        .fetch_optional(c)
        .await?;
        Ok(row.is_some())
    }
}
