//! Security monitoring storage on PostgreSQL: login baselines and alerts.

use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::Row;

use super::sqlite_monitor::{severity_rank, SEVERITY_RANK};
use super::{AlertFilter, AlertScope, MonitorStore, PgStore};
use crate::domain::{time, TenantId};
use crate::error::Result;
use crate::monitor::{login_observations, Alert, AlertKind, LoginBaseline, Severity};

fn alert_from_row(row: &PgRow) -> Result<Alert> {
    let id: uuid::Uuid = row.try_get("id")?;
    let kind: String = row.try_get("kind")?;
    let severity: String = row.try_get("severity")?;
    let evidence: String = row.try_get("evidence")?;
    let corrupt = |what: &str| anyhow::anyhow!("corrupt security alert {id}: {what}");
    Ok(Alert {
        id,
        tenant_id: row
            .try_get::<Option<uuid::Uuid>, _>("tenant_id")?
            .map(TenantId::from_uuid),
        kind: AlertKind::parse(&kind).ok_or_else(|| corrupt("kind"))?,
        severity: Severity::parse(&severity).ok_or_else(|| corrupt("severity"))?,
        subject: row.try_get("subject")?,
        summary: row.try_get("summary")?,
        evidence: serde_json::from_str(&evidence).map_err(|_| corrupt("evidence"))?,
        created_at: row.try_get("created_at")?,
    })
}

#[async_trait]
impl MonitorStore for PgStore {
    async fn observe_login(
        &self,
        user: &str,
        ip: Option<&str>,
        user_agent: Option<&str>,
        hour: u32,
    ) -> Result<LoginBaseline> {
        let mut tx = self.pool.begin().await?;
        // Instances behind a load balancer may see the same user's logins at once.
        sqlx::query(
            "SELECT pg_advisory_xact_lock(hashtext('auditpulse.login_baselines'), hashtext($1))",
        )
        .bind(user)
        .execute(&mut *tx)
        .await?;
        let rows: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT kind, value, logins FROM login_baselines WHERE user_id = $1")
                .bind(user)
                .fetch_all(&mut *tx)
                .await?;
        let before = LoginBaseline::from_history(&rows, ip, user_agent);
        let now = time::now();
        let hour = format!("{:02}", hour % 24);
        for (kind, value) in login_observations(ip, user_agent, &hour) {
            sqlx::query(
                "INSERT INTO login_baselines (user_id, kind, value, logins, last_seen) VALUES ($1, $2, $3, 1, $4) \
                 ON CONFLICT (user_id, kind, value) DO UPDATE SET logins = login_baselines.logins + 1, \
                 last_seen = excluded.last_seen",
            )
            .bind(user)
            .bind(kind)
            .bind(value)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(before)
    }

    async fn insert_alert(&self, alert: &Alert) -> Result<()> {
        sqlx::query(
            "INSERT INTO security_alerts (id, tenant_id, kind, severity, subject, summary, evidence, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8)",
        )
        .bind(alert.id)
        .bind(alert.tenant_id.map(|t| t.as_uuid()))
        .bind(alert.kind.as_str())
        .bind(alert.severity.as_str())
        .bind(&alert.subject)
        .bind(&alert.summary)
        .bind(alert.evidence.to_string())
        .bind(alert.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn list_alerts(
        &self,
        scope: AlertScope,
        filter: &AlertFilter,
        limit: u32,
    ) -> Result<Vec<Alert>> {
        let tenant = match scope {
            AlertScope::All => None,
            AlertScope::Tenant(t) => Some(t.as_uuid()),
        };
        let sql = format!(
            "SELECT id, tenant_id, kind, severity, subject, summary, evidence::text AS evidence, created_at \
             FROM security_alerts WHERE ($1::uuid IS NULL OR tenant_id = $1) AND ($2::text IS NULL OR kind = $2) \
             AND {SEVERITY_RANK} >= $3 AND ($4::uuid IS NULL OR id < $4) ORDER BY id DESC LIMIT $5"
        );
        sqlx::query(&sql)
            .bind(tenant)
            .bind(filter.kind.map(AlertKind::as_str))
            .bind(filter.min_severity.map_or(0, severity_rank))
            .bind(filter.before)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(alert_from_row)
            .collect()
    }
}
