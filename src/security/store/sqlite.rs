//! Security monitoring on SQLite: a login observation is a read-then-write, so it runs in
//! `BEGIN IMMEDIATE` and holds the write lock from its first read.

use async_trait::async_trait;
use sqlx::Sqlite;

use super::*;
use crate::security::login_observations;
use crate::store::SqliteStore;

type Q = Sql<Sqlite>;

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

    async fn insert_alert(&self, alert: &SecurityAlert) -> Result<()> {
        let sql = insert_alert_sql("$7");
        Q::insert_alert(&sql, alert).execute(&self.pool).await?;
        Ok(())
    }

    async fn list_alerts(
        &self,
        scope: Scope,
        filter: &SecurityAlertFilter,
        limit: u32,
    ) -> Result<Vec<SecurityAlert>> {
        let rows = Q::list_alerts(scope, filter, limit)
            .fetch_all(&self.pool)
            .await?;
        alerts(rows)
    }
}
