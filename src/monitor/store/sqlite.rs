//! Security monitoring on SQLite: a login observation is a read-then-write, so it runs in
//! `BEGIN IMMEDIATE` and holds the write lock from its first read.

use async_trait::async_trait;

use super::*;
use crate::monitor::login_observations;
use crate::store::SqliteStore;

#[async_trait]
impl MonitorStore for SqliteStore {
    async fn observe_login(
        &self,
        user: &str,
        ip: Option<&str>,
        user_agent: Option<&str>,
        hour: u32,
    ) -> Result<LoginBaseline> {
        let mut tx = self.begin_immediate().await?;
        let rows: Vec<(String, String, i64)> = sqlx::query_as(BASELINE)
            .bind(user)
            .fetch_all(&mut *tx)
            .await?;
        let before = LoginBaseline::from_history(&rows, ip, user_agent);
        let now = Time(crate::domain::time::now());
        for (kind, value) in login_observations(ip, user_agent, &hour_text(hour)) {
            let query = sqlx::query(OBSERVE).bind(user).bind(kind).bind(value);
            query.bind(now).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(before)
    }

    async fn insert_alert(&self, alert: &Alert) -> Result<()> {
        sqlx::query(&insert_alert_sql("$7"))
            .bind(AlertId(alert.id))
            .bind(alert.tenant_id)
            .bind(alert.kind.as_str())
            .bind(alert.severity.as_str())
            .bind(&alert.subject)
            .bind(&alert.summary)
            .bind(alert.evidence.to_string())
            .bind(Time(alert.created_at))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn list_alerts(
        &self,
        scope: Scope,
        filter: &AlertFilter,
        limit: u32,
    ) -> Result<Vec<Alert>> {
        let rows = sqlx::query_as(LIST_ALERTS)
            .bind(scope.tenant())
            .bind(filter.kind.map(AlertKind::as_str))
            .bind(min_rank(filter))
            .bind(filter.before.map(AlertId))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        alerts(rows)
    }
}
