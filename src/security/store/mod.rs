//! Security-monitoring storage: per-user login history for the baselines, and alerts; the SQL
//! both backends run.
//!
//! Invariant: alerts are listed only within a [`Scope`]: a tenant's administrators see that
//! tenant's alerts, never another's nor the system's (alerts without a tenant).

mod postgres;
mod sqlite;

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use async_trait::async_trait;
use sqlx::{Database, Encode, FromRow, Type};

use super::{AlertState, LoginBaseline, SecurityAlert, SecurityAlertKind, Severity};
use crate::domain::TenantId;
use crate::error::Result;
use crate::store::codec::sql_id;
use crate::store::{Bound, BoundAs, Scope, Time};

/// Which alerts to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct SecurityAlertFilter {
    pub kind: Option<SecurityAlertKind>,
    /// This severity or higher.
    pub min_severity: Option<Severity>,
    /// Alerts older than this one (the previous page's last id).
    pub before: Option<uuid::Uuid>,
}

/// Security monitoring: login history for baselines, and alerts.
#[async_trait]
pub trait MonitorStore: Send + Sync {
    /// Records a login and returns what was known about the user's logins before it.
    async fn observe_login(
        &self,
        user: &str,
        ip: Option<&str>,
        user_agent: Option<&str>,
        hour: u32,
    ) -> Result<LoginBaseline>;
    async fn insert_alert(&self, alert: &SecurityAlert) -> Result<()>;
    async fn list_alerts(
        &self,
        scope: Scope,
        filter: &SecurityAlertFilter,
        limit: u32,
    ) -> Result<Vec<SecurityAlert>>;
}

/// An alert's id as stored: `uuid` on PostgreSQL, hyphenated text on SQLite.
#[derive(Debug, Clone, Copy)]
struct AlertId(uuid::Uuid);

impl AlertId {
    fn as_uuid(&self) -> uuid::Uuid {
        self.0
    }
    fn from_uuid(id: uuid::Uuid) -> Self {
        Self(id)
    }
}

impl fmt::Display for AlertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl FromStr for AlertId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        s.parse().map(Self)
    }
}

sql_id!(AlertId);

const BASELINE: &str = "SELECT kind, value, logins FROM login_baselines WHERE user_id = $1";
/// One observation: a first login from somewhere, or one more from a known place.
const OBSERVE: &str = "INSERT INTO login_baselines (user_id, kind, value, logins, last_seen) \
                       VALUES ($1, $2, $3, 1, $4) ON CONFLICT (user_id, kind, value) DO UPDATE \
                       SET logins = login_baselines.logins + 1, last_seen = excluded.last_seen";
/// `evidence` is JSONB on PostgreSQL, text on SQLite: the backend names the cast.
fn insert_alert_sql(evidence: &str) -> String {
    format!(
        "INSERT INTO security_alerts \
         (id, tenant_id, kind, severity, subject, summary, evidence, created_at, dedup_key, \
         state, occurrences) VALUES ($1, $2, $3, $4, $5, $6, {evidence}, $8, $9, $10, $11)"
    )
}
/// Severity as a number, for "this or higher": the order of [`Severity`].
const LIST_ALERTS: &str = "SELECT id, tenant_id, kind, severity, subject, summary, \
     CAST(evidence AS TEXT) AS evidence, created_at, dedup_key, state, occurrences \
     FROM security_alerts \
     WHERE ($1 IS NULL OR tenant_id = $1) AND ($2 IS NULL OR kind = $2) \
     AND CASE severity WHEN 'low' THEN 0 WHEN 'medium' THEN 1 WHEN 'high' THEN 2 ELSE 3 END >= $3 \
     AND ($4 IS NULL OR id < $4) ORDER BY id DESC LIMIT $5";

#[derive(sqlx::FromRow)]
struct SecurityAlertRow {
    id: AlertId,
    tenant_id: Option<TenantId>,
    kind: String,
    severity: String,
    subject: String,
    summary: String,
    evidence: String,
    created_at: Time,
    dedup_key: String,
    state: String,
    occurrences: i64,
}

impl TryFrom<SecurityAlertRow> for SecurityAlert {
    type Error = crate::Error;
    fn try_from(row: SecurityAlertRow) -> Result<Self> {
        let id = row.id.0;
        let corrupt = |what: &str| anyhow::anyhow!("corrupt security alert {id}: {what}");
        Ok(SecurityAlert {
            id,
            tenant_id: row.tenant_id,
            kind: SecurityAlertKind::parse(&row.kind).ok_or_else(|| corrupt("kind"))?,
            severity: Severity::parse(&row.severity).ok_or_else(|| corrupt("severity"))?,
            subject: row.subject,
            summary: row.summary,
            evidence: serde_json::from_str(&row.evidence).map_err(|_| corrupt("evidence"))?,
            created_at: row.created_at.0,
            dedup_key: row.dedup_key,
            state: AlertState::parse(&row.state).ok_or_else(|| corrupt("state"))?,
            occurrences: u64::try_from(row.occurrences).map_err(|_| corrupt("occurrences"))?,
        })
    }
}

fn alerts(rows: Vec<SecurityAlertRow>) -> Result<Vec<SecurityAlert>> {
    rows.into_iter().map(SecurityAlert::try_from).collect()
}

/// The scope an alert is written in: its tenant's, or the system's for an alert without one.
fn scope_of(alert: &SecurityAlert) -> Scope {
    alert.tenant_id.map_or(Scope::System, Scope::Tenant)
}

/// The alert statements with their values bound, the same on both backends.
struct Sql<DB>(PhantomData<DB>);

impl<'a, DB: Database> Sql<DB>
where
    AlertId: Encode<'a, DB> + Type<DB>,
    Option<AlertId>: Encode<'a, DB> + Type<DB>,
    Option<TenantId>: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
    Time: Encode<'a, DB> + Type<DB>,
    &'a str: Encode<'a, DB> + Type<DB>,
    Option<&'a str>: Encode<'a, DB> + Type<DB>,
    String: Encode<'a, DB> + Type<DB>,
    SecurityAlertRow: for<'r> FromRow<'r, DB::Row>,
{
    /// `sql` is [`insert_alert_sql`]'s.
    fn insert_alert(sql: &'a str, alert: &'a SecurityAlert) -> Bound<'a, DB> {
        sqlx::query(sql)
            .bind(AlertId(alert.id))
            .bind(alert.tenant_id)
            .bind(alert.kind.as_str())
            .bind(alert.severity.as_str())
            .bind(alert.subject.as_str())
            .bind(alert.summary.as_str())
            .bind(alert.evidence.to_string())
            .bind(Time(alert.created_at))
            .bind(alert.dedup_key.as_str())
            .bind(alert.state.as_str())
            .bind(i64::try_from(alert.occurrences).unwrap_or(i64::MAX))
    }

    fn list_alerts(
        scope: Scope,
        filter: &'a SecurityAlertFilter,
        limit: u32,
    ) -> BoundAs<'a, DB, SecurityAlertRow> {
        sqlx::query_as(LIST_ALERTS)
            .bind(scope.tenant())
            .bind(filter.kind.map(SecurityAlertKind::as_str))
            .bind(filter.min_severity.map_or(0, |s| s as i64))
            .bind(filter.before.map(AlertId))
            .bind(i64::from(limit))
    }
}

/// The hour as the baselines store it, `00`..`23`.
fn hour_text(hour: u32) -> String {
    format!("{:02}", hour % 24)
}
