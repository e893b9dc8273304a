//! The calls' statements, written once for both backends. The usage sums differ only in the
//! UTC bucket expression over `started_at`, which each backend passes in.
//!
//! Invariant: every statement carries the tenant; inserts are `ON CONFLICT (id) DO NOTHING`;
//! `set_costs` only touches rows still `unpriced`; usage sums add `cost_nanos`, which is NULL
//! on every call but a priced one, so an unpriced call never adds $0. Group and bucket
//! expressions come from fixed lists, never from the request.

use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, QueryBuilder, Type};

use super::*;

const COLUMNS: &str = "id, source, api_key_id, provider, endpoint, application, project, \
     end_user, model_requested, model_answered, response_id, streamed, http_status, outcome, \
     input_tokens, cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens, \
     output_tokens, reasoning_tokens, cost_status, cost_nanos, priced_model, started_at, \
     latency_us, ttft_us, error, linked_call_id, swapped_to";

/// The sums of a usage row: cost only over priced calls (`cost_nanos` is NULL otherwise).
const SUMS: &str = "COUNT(*) AS calls, \
     CAST(COALESCE(SUM(cost_nanos), 0) AS BIGINT) AS cost_nanos, \
     CAST(COALESCE(SUM(CASE WHEN cost_status = 'priced' THEN 1 ELSE 0 END), 0) AS BIGINT) \
     AS priced_calls, \
     CAST(COALESCE(SUM(CASE WHEN cost_status = 'unpriced' THEN 1 ELSE 0 END), 0) AS BIGINT) \
     AS unpriced_calls, \
     CAST(COALESCE(SUM(input_tokens), 0) AS BIGINT) AS input_tokens, \
     CAST(COALESCE(SUM(cache_read_tokens), 0) AS BIGINT) AS cache_read_tokens, \
     CAST(COALESCE(SUM(cache_write_5m_tokens), 0) AS BIGINT) AS cache_write_5m_tokens, \
     CAST(COALESCE(SUM(cache_write_1h_tokens), 0) AS BIGINT) AS cache_write_1h_tokens, \
     CAST(COALESCE(SUM(output_tokens), 0) AS BIGINT) AS output_tokens, \
     CAST(COALESCE(SUM(reasoning_tokens), 0) AS BIGINT) AS reasoning_tokens";

/// The column (or expression) a group key names, as text on both backends.
fn group_expr(key: GroupKey) -> &'static str {
    match key {
        GroupKey::Application => "application",
        GroupKey::Project => "project",
        GroupKey::User => "end_user",
        GroupKey::ApiKey => "CAST(api_key_id AS TEXT)",
        GroupKey::Provider => "provider",
        GroupKey::Model => "COALESCE(model_answered, model_requested)",
    }
}

/// The result column of a group key ([`UsageRow`]'s field).
fn group_alias(key: GroupKey) -> &'static str {
    match key {
        GroupKey::Application => "application",
        GroupKey::Project => "project",
        GroupKey::User => "end_user",
        GroupKey::ApiKey => "api_key",
        GroupKey::Provider => "provider",
        GroupKey::Model => "model",
    }
}

/// Links OTLP calls to the gateway call with the same provider and response id ($1 tenant, $2
/// provider, $3 response id).
const LINK: &str = "UPDATE llm_calls SET linked_call_id = (SELECT g.id FROM llm_calls g \
     WHERE g.tenant_id = $1 AND g.provider = $2 AND g.response_id = $3 AND g.source = 'gateway' \
     ORDER BY g.id LIMIT 1) \
     WHERE tenant_id = $1 AND provider = $2 AND response_id = $3 AND source = 'otlp' \
     AND linked_call_id IS NULL AND EXISTS (SELECT 1 FROM llm_calls g WHERE g.tenant_id = $1 \
     AND g.provider = $2 AND g.response_id = $3 AND g.source = 'gateway') RETURNING id";

/// Rows per multi-row insert (backends chunk by it): 28 parameters each stays far below both backends' limits.
pub(super) const CHUNK: usize = 500;

impl<DB> Sql<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> TenantId: Encode<'q, DB> + Type<DB>,
    for<'q> LlmCallId: Encode<'q, DB> + Type<DB>,
    for<'q> Option<LlmCallId>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<ApiKeyId>: Encode<'q, DB> + Type<DB>,
    for<'q> Time: Encode<'q, DB> + Type<DB>,
    for<'q> Option<Time>: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'r> CallRow: FromRow<'r, DB::Row>,
    for<'r> UsageRow: FromRow<'r, DB::Row>,
    for<'r> (LlmCallId,): FromRow<'r, DB::Row>,
{
    /// One multi-row insert of at most [`CHUNK`] rows, returning the ids that were new.
    pub(super) fn insert<'a>(t: TenantId, chunk: &'a [CallRow]) -> QueryBuilder<'a, DB> {
        let mut q = QueryBuilder::new(format!("INSERT INTO llm_calls (tenant_id, {COLUMNS}) "));
        q.push_values(chunk, |mut b, r| {
            b.push_bind(t)
                .push_bind(r.id)
                .push_bind(r.source.as_str())
                .push_bind(r.api_key_id)
                .push_bind(r.provider.as_str())
                .push_bind(r.endpoint.as_str())
                .push_bind(r.application.as_deref())
                .push_bind(r.project.as_deref())
                .push_bind(r.end_user.as_deref())
                .push_bind(r.model_requested.as_deref())
                .push_bind(r.model_answered.as_deref())
                .push_bind(r.response_id.as_deref())
                .push_bind(r.streamed)
                .push_bind(r.http_status)
                .push_bind(r.outcome.as_str())
                .push_bind(r.input_tokens)
                .push_bind(r.cache_read_tokens)
                .push_bind(r.cache_write_5m_tokens)
                .push_bind(r.cache_write_1h_tokens)
                .push_bind(r.output_tokens)
                .push_bind(r.reasoning_tokens)
                .push_bind(r.cost_status.as_str())
                .push_bind(r.cost_nanos)
                .push_bind(r.priced_model.as_deref())
                .push_bind(r.started_at)
                .push_bind(r.latency_us)
                .push_bind(r.ttft_us)
                .push_bind(r.error.as_deref())
                .push_bind(r.linked_call_id)
                .push_bind(r.swapped_to.as_deref());
        });
        q.push(" ON CONFLICT (id) DO NOTHING RETURNING id");
        q
    }

    /// A page of calls, newest first.
    pub(super) fn page<'a>(
        t: TenantId,
        f: &'a CallFilter,
        after: Option<CallCursor>,
        limit: u32,
    ) -> QueryBuilder<'a, DB> {
        let mut q = QueryBuilder::new(format!(
            "SELECT {COLUMNS} FROM llm_calls WHERE tenant_id = "
        ));
        q.push_bind(t);
        Self::filtered(&mut q, f);
        if let Some(cursor) = after {
            q.push(" AND (started_at < ")
                .push_bind(cursor.started_at)
                .push(" OR (started_at = ")
                .push_bind(cursor.started_at)
                .push(" AND id < ")
                .push_bind(cursor.id)
                .push("))");
        }
        q.push(" ORDER BY started_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(limit));
        q
    }

    /// The filter's conditions, after `WHERE tenant_id = ...`.
    fn filtered<'a>(q: &mut QueryBuilder<'a, DB>, f: &'a CallFilter) {
        if let Some(from) = f.from {
            q.push(" AND started_at >= ").push_bind(from);
        }
        if let Some(to) = f.to {
            q.push(" AND started_at < ").push_bind(to);
        }
        for (column, value) in [
            ("application", &f.application),
            ("project", &f.project),
            ("end_user", &f.user),
            ("provider", &f.provider),
            ("cost_status", &f.cost_status),
            ("source", &f.source),
        ] {
            if let Some(v) = value {
                q.push(format!(" AND {column} = ")).push_bind(v.as_str());
            }
        }
        if let Some(key) = f.api_key {
            q.push(" AND api_key_id = ").push_bind(Some(key));
        }
        if let Some(model) = &f.model {
            q.push(" AND COALESCE(model_answered, model_requested) = ")
                .push_bind(model.as_str());
        }
    }

    /// The filtered calls summed per group of `keys` and per `bucket` (the backend's bucket
    /// expression over `started_at`), at most `limit` groups: by period, then costliest first.
    /// Without keys or bucket, one row of totals.
    pub(super) fn usage<'a>(
        t: TenantId,
        f: &'a CallFilter,
        keys: &[GroupKey],
        bucket: Option<&str>,
        limit: u32,
    ) -> QueryBuilder<'a, DB> {
        let mut grouped: Vec<String> = Vec::new();
        let mut select = String::from("SELECT ");
        for key in GroupKey::ALL {
            let expr = group_expr(*key);
            if keys.contains(key) {
                grouped.push(expr.to_owned());
                select.push_str(&format!("{expr} AS {}, ", group_alias(*key)));
            } else {
                select.push_str(&format!("CAST(NULL AS TEXT) AS {}, ", group_alias(*key)));
            }
        }
        match bucket {
            Some(b) => {
                grouped.push(b.to_owned());
                select.push_str(&format!("{b} AS period, "));
            }
            None => select.push_str("CAST(NULL AS TEXT) AS period, "),
        }
        select.push_str(SUMS);
        select.push_str(" FROM llm_calls WHERE tenant_id = ");
        let mut q = QueryBuilder::new(select);
        q.push_bind(t);
        Self::filtered(&mut q, f);
        // A span linked to a gateway call is that call, counted once: as the gateway's.
        q.push(" AND linked_call_id IS NULL");
        if !grouped.is_empty() {
            q.push(format!(" GROUP BY {}", grouped.join(", ")));
            let mut order: Vec<String> = bucket.map(str::to_owned).into_iter().collect();
            order.push("SUM(cost_nanos) IS NULL, SUM(cost_nanos) DESC, COUNT(*) DESC".into());
            for key in keys {
                let expr = group_expr(*key);
                order.push(format!("{expr} IS NULL, {expr}"));
            }
            q.push(format!(" ORDER BY {}", order.join(", ")));
        }
        q.push(" LIMIT ").push_bind(i64::from(limit));
        q
    }

    pub(super) async fn call(
        c: &mut DB::Connection,
        t: TenantId,
        id: LlmCallId,
    ) -> Result<Option<CallRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM llm_calls WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(t)
        .bind(id)
        .fetch_optional(c)
        .await?)
    }

    pub(super) async fn unpriced_calls(
        c: &mut DB::Connection,
        t: TenantId,
        after: Option<LlmCallId>,
        limit: u32,
    ) -> Result<Vec<CallRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM llm_calls WHERE tenant_id = $1 AND cost_status = 'unpriced' \
             AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
        ))
        .bind(t)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(c)
        .await?)
    }

    /// Links the unlinked OTLP calls of `provider` with `response_id` to the gateway call with
    /// the same ones, returning the ids linked. One equality look-up per response id on the
    /// `(tenant_id, provider, response_id)` index: an `IN` list lets PostgreSQL, with the stale
    /// statistics of a fast-growing table, filter the tenant's whole index range instead.
    pub(super) async fn link(
        c: &mut DB::Connection,
        t: TenantId,
        provider: &str,
        response_id: &str,
    ) -> Result<Vec<(LlmCallId,)>> {
        Ok(sqlx::query_as(LINK)
            .bind(t)
            .bind(provider)
            .bind(response_id)
            .fetch_all(c)
            .await?)
    }

    /// Which of `ids` are linked.
    pub(super) fn linked<'a>(t: TenantId, ids: &'a [LlmCallId]) -> QueryBuilder<'a, DB> {
        let mut q = QueryBuilder::new("SELECT id FROM llm_calls WHERE tenant_id = ");
        q.push_bind(t);
        q.push(" AND linked_call_id IS NOT NULL AND id IN (");
        let mut list = q.separated(", ");
        for id in ids {
            list.push_bind(*id);
        }
        q.push(")");
        q
    }

    pub(super) async fn set_costs(
        c: &mut DB::Connection,
        t: TenantId,
        costs: &[(LlmCallId, Nanos, String)],
    ) -> Result<u64> {
        let mut changed = 0;
        for (id, cost, model) in costs {
            let done: Option<(LlmCallId,)> = sqlx::query_as(
                "UPDATE llm_calls SET cost_status = 'priced', cost_nanos = $3, priced_model = $4 \
                 WHERE tenant_id = $1 AND id = $2 AND cost_status = 'unpriced' RETURNING id",
            )
            .bind(t)
            .bind(*id)
            .bind(cost.0)
            .bind(model.clone())
            .fetch_optional(&mut *c)
            .await?;
            changed += u64::from(done.is_some());
        }
        Ok(changed)
    }
}
