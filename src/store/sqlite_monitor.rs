//! Security monitoring storage on SQLite: login baselines and alerts.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use super::{AlertFilter, AlertScope, MonitorStore, SqliteStore};
use crate::domain::time;
use crate::error::Result;
use crate::monitor::{login_observations, Alert, AlertKind, LoginBaseline, Severity};

/// Severity as a number, for "this or higher" filters.
pub(super) const SEVERITY_RANK: &str =
    "CASE severity WHEN 'low' THEN 0 WHEN 'medium' THEN 1 WHEN 'high' THEN 2 ELSE 3 END";

pub(super) fn severity_rank(severity: Severity) -> i64 {
    severity as i64
}

fn alert_from_row(row: &SqliteRow) -> Result<Alert> {
    let id: String = row.try_get("id")?;
    let tenant: Option<String> = row.try_get("tenant_id")?;
    let kind: String = row.try_get("kind")?;
    let severity: String = row.try_get("severity")?;
    let evidence: String = row.try_get("evidence")?;
    let created: String = row.try_get("created_at")?;
    let corrupt = |what: &str| anyhow::anyhow!("corrupt security alert {id}: {what}");
    Ok(Alert {
        id: id.parse().map_err(|_| corrupt("id"))?,
        tenant_id: tenant
            .map(|t| t.parse())
            .transpose()
            .map_err(|_| corrupt("tenant"))?,
        kind: AlertKind::parse(&kind).ok_or_else(|| corrupt("kind"))?,
        severity: Severity::parse(&severity).ok_or_else(|| corrupt("severity"))?,
        subject: row.try_get("subject")?,
        summary: row.try_get("summary")?,
        evidence: serde_json::from_str(&evidence).map_err(|_| corrupt("evidence"))?,
        created_at: time::from_text(&created).map_err(|_| corrupt("time"))?,
    })
}

#[async_trait]
impl MonitorStore for SqliteStore {
    async fn observe_login(
        &self,
        user: &str,
        ip: Option<&str>,
        user_agent: Option<&str>,
        hour: u32,
    ) -> Result<LoginBaseline> {
        // Read-then-write: take the write lock up front, or a concurrent writer (the audit log)
        // makes the upgrade fail at once with "database is locked" instead of waiting.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let rows: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT kind, value, logins FROM login_baselines WHERE user_id = ?")
                .bind(user)
                .fetch_all(&mut *tx)
                .await?;
        let before = LoginBaseline::from_history(&rows, ip, user_agent);
        let now = time::to_text(&time::now());
        let hour = format!("{:02}", hour % 24);
        for (kind, value) in login_observations(ip, user_agent, &hour) {
            sqlx::query(
                "INSERT INTO login_baselines (user_id, kind, value, logins, last_seen) VALUES (?, ?, ?, 1, ?) \
                 ON CONFLICT (user_id, kind, value) DO UPDATE SET logins = logins + 1, last_seen = excluded.last_seen",
            )
            .bind(user)
            .bind(kind)
            .bind(value)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(before)
    }

    async fn insert_alert(&self, alert: &Alert) -> Result<()> {
        sqlx::query(
            "INSERT INTO security_alerts (id, tenant_id, kind, severity, subject, summary, evidence, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(alert.id.to_string())
        .bind(alert.tenant_id.map(|t| t.to_string()))
        .bind(alert.kind.as_str())
        .bind(alert.severity.as_str())
        .bind(&alert.subject)
        .bind(&alert.summary)
        .bind(alert.evidence.to_string())
        .bind(time::to_text(&alert.created_at))
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
            AlertScope::Tenant(t) => Some(t.to_string()),
        };
        let sql = format!(
            "SELECT id, tenant_id, kind, severity, subject, summary, evidence, created_at FROM security_alerts \
             WHERE (?1 IS NULL OR tenant_id = ?1) AND (?2 IS NULL OR kind = ?2) AND {SEVERITY_RANK} >= ?3 \
             AND (?4 IS NULL OR id < ?4) ORDER BY id DESC LIMIT ?5"
        );
        sqlx::query(&sql)
            .bind(tenant)
            .bind(filter.kind.map(AlertKind::as_str))
            .bind(filter.min_severity.map_or(0, severity_rank))
            .bind(filter.before.map(|b| b.to_string()))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(alert_from_row)
            .collect()
    }
}
