//! The budget statements, written once for both backends and run on the backend's connection
//! inside the transaction it opened. `lock` is the backend's row-lock suffix (` FOR UPDATE` on
//! PostgreSQL; nothing on SQLite, whose `BEGIN IMMEDIATE` already holds the one write lock).
//!
//! Invariant: only fixed SQL text is formatted in (column names of a [`Matching`] kind, the lock
//! suffix); every value is bound.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};

use super::{BudgetRow, Counter, Decide, Matching, PeriodKey, Reservation, Settlement, Window};
use crate::domain::{AccountId, ApiKeyId, BudgetId, LlmCallId, TenantId};
use crate::error::{Error, Result};
use crate::store::{map_db_error, Time};

const COLUMNS: &str = "id, tenant_id, name, scope_kind, scope_value, counts, period, \
     amount_minor, currency, alert_thresholds, swap_threshold, model_chain, hard_limit, \
     created_at, updated_at, updated_by";

/// A held reservation as the settle and expire steps read it.
#[derive(Debug, FromRow)]
pub(super) struct HeldRow {
    pub budget_id: BudgetId,
    pub period_start: Time,
    pub call_id: LlmCallId,
    pub reserved: i64,
    pub state: String,
}

/// The column a scope's value is compared with, on `llm_calls` or on `spend_events`; `None`
/// when the scope matches nothing there (a bank scope on calls, an LLM scope on bank spend).
fn llm_column(m: &Matching) -> Option<&'static str> {
    Some(match m {
        Matching::Everything => "",
        Matching::Application(_) => " AND c.application = $5",
        Matching::Project(_) => " AND c.project = $5",
        Matching::User(_) => " AND c.end_user = $5",
        Matching::ApiKey(_) => " AND c.api_key_id = $5",
        _ => return None,
    })
}

fn bank_column(m: &Matching) -> Option<&'static str> {
    Some(match m {
        Matching::Everything => "",
        Matching::Account(_) => " AND account_id = $5",
        Matching::Vendor(_) => " AND counterparty = $5",
        Matching::Category(_) => " AND category = $5",
        _ => return None,
    })
}

pub(super) struct Sql<DB>(PhantomData<DB>);

impl<DB> Sql<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> BudgetId: Encode<'q, DB> + Type<DB>,
    for<'q> TenantId: Encode<'q, DB> + Type<DB>,
    for<'q> LlmCallId: Encode<'q, DB> + Type<DB>,
    for<'q> ApiKeyId: Encode<'q, DB> + Type<DB>,
    for<'q> AccountId: Encode<'q, DB> + Type<DB>,
    for<'q> Time: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<BudgetId>: Encode<'q, DB> + Type<DB>,
    for<'r> BudgetRow: FromRow<'r, DB::Row>,
    for<'r> Counter: FromRow<'r, DB::Row>,
    for<'r> HeldRow: FromRow<'r, DB::Row>,
    for<'r> (i64,): FromRow<'r, DB::Row>,
    for<'r> (BudgetId,): FromRow<'r, DB::Row>,
    for<'r> (TenantId,): FromRow<'r, DB::Row>,
{
    pub async fn insert(c: &mut DB::Connection, r: &BudgetRow) -> Result<()> {
        let sql = format!(
            "INSERT INTO budgets ({COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        );
        sqlx::query(&sql)
            .bind(r.id)
            .bind(r.tenant_id)
            .bind(r.name.as_str())
            .bind(r.scope_kind.as_str())
            .bind(r.scope_value.as_deref())
            .bind(r.counts.as_str())
            .bind(r.period.as_str())
            .bind(r.amount_minor)
            .bind(r.currency.as_str())
            .bind(r.alert_thresholds.as_str())
            .bind(r.swap_threshold)
            .bind(r.model_chain.as_str())
            .bind(r.hard_limit)
            .bind(r.created_at)
            .bind(r.updated_at)
            .bind(r.updated_by.as_str())
            .execute(c)
            .await
            .map_err(map_db_error)?;
        Ok(())
    }

    pub async fn update(c: &mut DB::Connection, r: &BudgetRow) -> Result<bool> {
        let done: Option<(BudgetId,)> = sqlx::query_as(
            "UPDATE budgets SET name = $3, scope_kind = $4, scope_value = $5, counts = $6, \
             period = $7, amount_minor = $8, currency = $9, alert_thresholds = $10, \
             swap_threshold = $11, model_chain = $12, hard_limit = $13, updated_at = $14, \
             updated_by = $15 WHERE tenant_id = $1 AND id = $2 RETURNING id",
        )
        .bind(r.tenant_id)
        .bind(r.id)
        .bind(r.name.as_str())
        .bind(r.scope_kind.as_str())
        .bind(r.scope_value.as_deref())
        .bind(r.counts.as_str())
        .bind(r.period.as_str())
        .bind(r.amount_minor)
        .bind(r.currency.as_str())
        .bind(r.alert_thresholds.as_str())
        .bind(r.swap_threshold)
        .bind(r.model_chain.as_str())
        .bind(r.hard_limit)
        .bind(r.updated_at)
        .bind(r.updated_by.as_str())
        .fetch_optional(c)
        .await
        .map_err(map_db_error)?;
        Ok(done.is_some())
    }

    pub async fn delete(c: &mut DB::Connection, tenant: TenantId, id: BudgetId) -> Result<bool> {
        let done: Option<(BudgetId,)> =
            sqlx::query_as("DELETE FROM budgets WHERE tenant_id = $1 AND id = $2 RETURNING id")
                .bind(tenant)
                .bind(id)
                .fetch_optional(c)
                .await?;
        Ok(done.is_some())
    }

    pub async fn one(
        c: &mut DB::Connection,
        tenant: TenantId,
        id: BudgetId,
    ) -> Result<Option<BudgetRow>> {
        let sql = format!("SELECT {COLUMNS} FROM budgets WHERE tenant_id = $1 AND id = $2");
        Ok(sqlx::query_as(&sql)
            .bind(tenant)
            .bind(id)
            .fetch_optional(c)
            .await?)
    }

    pub async fn all(c: &mut DB::Connection, tenant: TenantId) -> Result<Vec<BudgetRow>> {
        let sql = format!("SELECT {COLUMNS} FROM budgets WHERE tenant_id = $1 ORDER BY name, id");
        Ok(sqlx::query_as(&sql).bind(tenant).fetch_all(c).await?)
    }

    pub async fn tenants(c: &mut DB::Connection) -> Result<Vec<TenantId>> {
        let rows: Vec<(TenantId,)> =
            sqlx::query_as("SELECT DISTINCT tenant_id FROM budgets ORDER BY tenant_id")
                .fetch_all(c)
                .await?;
        Ok(rows.into_iter().map(|(t,)| t).collect())
    }

    pub async fn llm_spent(
        c: &mut DB::Connection,
        tenant: TenantId,
        matching: &Matching,
        window: Window,
        except: Option<BudgetId>,
    ) -> Result<i64> {
        let Some(filter) = llm_column(matching) else {
            return Ok(0);
        };
        let sql = format!(
            "SELECT CAST(COALESCE(SUM(c.cost_nanos), 0) AS BIGINT) FROM llm_calls c \
             WHERE c.tenant_id = $1 AND c.started_at >= $2 AND c.started_at < $3 \
             AND c.cost_nanos IS NOT NULL AND c.linked_call_id IS NULL \
             AND ($4 IS NULL OR NOT EXISTS (SELECT 1 FROM budget_reservations r \
             WHERE r.budget_id = $4 AND r.call_id = c.id)){filter}"
        );
        let q = sqlx::query_as::<DB, (i64,)>(&sql)
            .bind(tenant)
            .bind(window.from)
            .bind(window.to)
            .bind(except);
        let q = match matching {
            Matching::Application(v) | Matching::Project(v) | Matching::User(v) => {
                q.bind(v.as_str())
            }
            Matching::ApiKey(k) => q.bind(*k),
            _ => q,
        };
        let (sum,) = q.fetch_one(c).await?;
        Ok(sum)
    }

    pub async fn bank_spent(
        c: &mut DB::Connection,
        tenant: TenantId,
        matching: &Matching,
        currency: &str,
        window: Window,
    ) -> Result<i64> {
        let Some(filter) = bank_column(matching) else {
            return Ok(0);
        };
        let sql = format!(
            "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM spend_events \
             WHERE tenant_id = $1 AND occurred_at >= $2 AND occurred_at < $3 AND currency = $4 \
             AND removed_at IS NULL AND source IN ('plaid', 'ofx', 'csv'){filter}"
        );
        let q = sqlx::query_as::<DB, (i64,)>(&sql)
            .bind(tenant)
            .bind(window.from)
            .bind(window.to)
            .bind(currency);
        let q = match matching {
            Matching::Vendor(v) | Matching::Category(v) => q.bind(v.as_str()),
            Matching::Account(a) => q.bind(*a),
            _ => q,
        };
        let (sum,) = q.fetch_one(c).await?;
        Ok(sum)
    }

    pub async fn reserved(
        c: &mut DB::Connection,
        tenant: TenantId,
        key: PeriodKey,
        now: Time,
    ) -> Result<i64> {
        let (sum,): (i64,) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(r.reserved), 0) AS BIGINT) FROM budget_reservations r \
             WHERE r.tenant_id = $1 AND r.budget_id = $2 AND r.period_start = $3 \
             AND r.state = 'held' AND r.expires_at > $4 AND NOT EXISTS \
             (SELECT 1 FROM llm_calls c WHERE c.id = r.call_id)",
        )
        .bind(tenant)
        .bind(key.budget)
        .bind(key.start)
        .bind(now)
        .fetch_one(c)
        .await?;
        Ok(sum)
    }

    /// Creates the period's counter when it has none.
    async fn ensure_counter(
        c: &mut DB::Connection,
        tenant: TenantId,
        key: PeriodKey,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO budget_usage (tenant_id, budget_id, period_start, committed, other) \
             VALUES ($1, $2, $3, 0, 0) ON CONFLICT (budget_id, period_start) DO NOTHING",
        )
        .bind(tenant)
        .bind(key.budget)
        .bind(key.start)
        .execute(c)
        .await
        .map_err(map_db_error)?;
        Ok(())
    }

    pub async fn set_other(
        c: &mut DB::Connection,
        tenant: TenantId,
        key: PeriodKey,
        other: i64,
        now: Time,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO budget_usage \
             (tenant_id, budget_id, period_start, committed, other, evaluated_at) \
             VALUES ($1, $2, $3, 0, $4, $5) ON CONFLICT (budget_id, period_start) \
             DO UPDATE SET other = excluded.other, evaluated_at = excluded.evaluated_at",
        )
        .bind(tenant)
        .bind(key.budget)
        .bind(key.start)
        .bind(other)
        .bind(now)
        .execute(c)
        .await
        .map_err(map_db_error)?;
        Ok(())
    }

    async fn add_committed(c: &mut DB::Connection, key: PeriodKey, amount: i64) -> Result<()> {
        sqlx::query(
            "UPDATE budget_usage SET committed = committed + $3 \
             WHERE budget_id = $1 AND period_start = $2",
        )
        .bind(key.budget)
        .bind(key.start)
        .bind(amount)
        .execute(c)
        .await?;
        Ok(())
    }

    /// One call of a batch; `keys` sorted by the caller (rows are locked in one order).
    #[allow(clippy::too_many_arguments)]
    async fn reserve(
        c: &mut DB::Connection,
        lock: &str,
        tenant: TenantId,
        call: LlmCallId,
        keys: &[PeriodKey],
        expires_at: Time,
        decide: Decide<'_>,
    ) -> Result<(Vec<Counter>, bool)> {
        let read = format!(
            "SELECT committed, other FROM budget_usage \
             WHERE tenant_id = $1 AND budget_id = $2 AND period_start = $3{lock}"
        );
        let mut counters = Vec::with_capacity(keys.len());
        for key in keys {
            Self::ensure_counter(&mut *c, tenant, *key).await?;
            let counter: Counter = sqlx::query_as(&read)
                .bind(tenant)
                .bind(key.budget)
                .bind(key.start)
                .fetch_one(&mut *c)
                .await?;
            counters.push(counter);
        }
        let Some(amounts) = decide(&counters) else {
            return Ok((counters, false));
        };
        if amounts.len() != keys.len() || amounts.iter().any(|a| *a < 0) {
            return Err(Error::Internal(anyhow::anyhow!(
                "a reservation must give one amount, never negative, per budget"
            )));
        }
        for (key, amount) in keys.iter().zip(&amounts) {
            Self::add_committed(&mut *c, *key, *amount).await?;
            sqlx::query(
                "INSERT INTO budget_reservations \
                 (tenant_id, budget_id, period_start, call_id, reserved, state, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, 'held', $6)",
            )
            .bind(tenant)
            .bind(key.budget)
            .bind(key.start)
            .bind(call)
            .bind(*amount)
            .bind(expires_at)
            .execute(&mut *c)
            .await
            .map_err(map_db_error)?;
        }
        Ok((counters, true))
    }

    /// [`super::BudgetStore::reserve_batch`] in the backend's transaction.
    pub async fn reserve_batch(
        c: &mut DB::Connection,
        lock: &str,
        tenant: TenantId,
        batch: &[Reservation<'_>],
    ) -> Result<Vec<(Vec<Counter>, bool)>> {
        // Every counter of the batch locked first, in one order: two batches never wait on each
        // other crosswise.
        let mut all: Vec<PeriodKey> = batch.iter().flat_map(|r| r.keys.iter().copied()).collect();
        all.sort();
        all.dedup();
        let read = format!(
            "SELECT committed, other FROM budget_usage \
             WHERE tenant_id = $1 AND budget_id = $2 AND period_start = $3{lock}"
        );
        for key in &all {
            Self::ensure_counter(&mut *c, tenant, *key).await?;
            let _: Counter = sqlx::query_as(&read)
                .bind(tenant)
                .bind(key.budget)
                .bind(key.start)
                .fetch_one(&mut *c)
                .await?;
        }
        let mut out = Vec::with_capacity(batch.len());
        for r in batch {
            out.push(
                Self::reserve(
                    &mut *c,
                    lock,
                    tenant,
                    r.call,
                    r.keys,
                    r.expires_at,
                    r.decide,
                )
                .await?,
            );
        }
        Ok(out)
    }

    /// Moves each reservation's amount to its counter once: `held` gives back what it reserved,
    /// `expired` already did; both then count `actual`.
    async fn close(
        c: &mut DB::Connection,
        rows: &[HeldRow],
        actual: &BTreeMap<LlmCallId, i64>,
        state: &str,
    ) -> Result<()> {
        let mut deltas: BTreeMap<PeriodKey, i64> = BTreeMap::new();
        for row in rows {
            let back = if row.state == "held" { row.reserved } else { 0 };
            let counted = actual.get(&row.call_id).copied().unwrap_or(0);
            let key = PeriodKey {
                budget: row.budget_id,
                start: row.period_start,
            };
            *deltas.entry(key).or_default() += counted.saturating_sub(back);
            sqlx::query(
                "UPDATE budget_reservations SET state = $3, actual = $4 \
                 WHERE budget_id = $1 AND call_id = $2",
            )
            .bind(row.budget_id)
            .bind(row.call_id)
            .bind(state)
            .bind(actual.get(&row.call_id).copied())
            .execute(&mut *c)
            .await?;
        }
        for (key, delta) in deltas {
            Self::add_committed(&mut *c, key, delta).await?;
        }
        Ok(())
    }

    pub async fn settle(
        c: &mut DB::Connection,
        lock: &str,
        tenant: TenantId,
        settlements: &[Settlement],
    ) -> Result<()> {
        let read = format!(
            "SELECT budget_id, period_start, call_id, reserved, state \
             FROM budget_reservations WHERE tenant_id = $1 AND call_id = $2 \
             AND state <> 'settled' ORDER BY budget_id{lock}"
        );
        let mut rows = Vec::new();
        let mut actual = BTreeMap::new();
        for s in settlements {
            actual.insert(s.call, s.actual.max(0));
            let found: Vec<HeldRow> = sqlx::query_as(&read)
                .bind(tenant)
                .bind(s.call)
                .fetch_all(&mut *c)
                .await?;
            rows.extend(found);
        }
        Self::close(c, &rows, &actual, "settled").await
    }

    pub async fn expire(c: &mut DB::Connection, lock: &str, now: Time) -> Result<u64> {
        let read = format!(
            "SELECT budget_id, period_start, call_id, reserved, state \
             FROM budget_reservations WHERE state = 'held' AND expires_at <= $1 \
             ORDER BY budget_id LIMIT 1000{lock}"
        );
        let rows: Vec<HeldRow> = sqlx::query_as(&read).bind(now).fetch_all(&mut *c).await?;
        let mut deltas: BTreeMap<PeriodKey, i64> = BTreeMap::new();
        for row in &rows {
            let key = PeriodKey {
                budget: row.budget_id,
                start: row.period_start,
            };
            *deltas.entry(key).or_default() -= row.reserved;
            sqlx::query(
                "UPDATE budget_reservations SET state = 'expired' \
                 WHERE budget_id = $1 AND call_id = $2 AND state = 'held'",
            )
            .bind(row.budget_id)
            .bind(row.call_id)
            .execute(&mut *c)
            .await?;
        }
        for (key, delta) in deltas {
            Self::add_committed(&mut *c, key, delta).await?;
        }
        Ok(rows.len() as u64)
    }

    pub async fn mark(
        c: &mut DB::Connection,
        tenant: TenantId,
        key: PeriodKey,
        threshold: u32,
        now: Time,
    ) -> Result<bool> {
        let done: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO budget_alerts_sent (tenant_id, budget_id, period_start, threshold, \
             raised_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (budget_id, period_start, threshold) DO NOTHING RETURNING threshold",
        )
        .bind(tenant)
        .bind(key.budget)
        .bind(key.start)
        .bind(i64::from(threshold))
        .bind(now)
        .fetch_optional(c)
        .await
        .map_err(map_db_error)?;
        Ok(done.is_some())
    }

    pub async fn unmark(
        c: &mut DB::Connection,
        tenant: TenantId,
        key: PeriodKey,
        threshold: u32,
    ) -> Result<()> {
        sqlx::query(
            "DELETE FROM budget_alerts_sent WHERE tenant_id = $1 AND budget_id = $2 \
             AND period_start = $3 AND threshold = $4",
        )
        .bind(tenant)
        .bind(key.budget)
        .bind(key.start)
        .bind(i64::from(threshold))
        .execute(c)
        .await?;
        Ok(())
    }
}
