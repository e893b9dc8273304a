//! Security monitoring on PostgreSQL. Instances behind a load balancer may see one user's logins
//! at once, so an observation holds a per-user advisory lock; alerts (`security_alerts` has
//! row-level security) are written and listed in the scope they belong to.

use async_trait::async_trait;
use sqlx::Postgres;

use super::*;
use crate::security::login_observations;
use crate::store::PgStore;

type Q = Sql<Postgres>;

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
        sqlx::query(
            "SELECT pg_advisory_xact_lock(hashtext('auditpulse.login_baselines'), hashtext($1))",
        )
        .bind(user)
        .execute(&mut *tx)
        .await?;
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
        let mut tx = self.begin_scoped(scope_of(alert)).await?;
        let sql = insert_alert_sql("$7::jsonb");
        Q::insert_alert(&sql, alert).execute(&mut *tx).await?;
        Ok(tx.commit().await?)
    }

    async fn list_alerts(
        &self,
        scope: Scope,
        filter: &SecurityAlertFilter,
        limit: u32,
    ) -> Result<Vec<SecurityAlert>> {
        let mut tx = self.begin_scoped(scope).await?;
        let rows = Q::list_alerts(scope, filter, limit)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        alerts(rows)
    }
}
