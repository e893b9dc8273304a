//! `GET /api/v1/audit-events`: the audit trail, filtered, paginated by cursor, or exported as JSON
//! lines or CSV.
//!
//! Invariant: a tenant principal sees only its tenant's events (the scope is chosen here from the
//! principal, never from the request); only system administrators see every tenant and the
//! platform's own events. Every export is itself recorded, and committed, before it is returned.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::model::{ActorKind, AuditEvent, NewAuditEvent, Outcome};
use super::AuditQuery;
use crate::auth::{Permission, Principal, PrincipalKind, Scoped};
use crate::domain::time::{self, Timestamp};
use crate::error::{Error, Result};
use crate::store::Scope;
use crate::web::pagination::split_page;
use crate::web::{ClientIp, ValidQuery};

/// Rows one export returns at most; `X-Next-After` then says where to continue.
const EXPORT_MAX: usize = 100_000;
const EXPORT_PAGE: u32 = 1_000;

/// What the audit routes need: the trail's storage, and its writer (exports are audited).
#[derive(Clone)]
pub struct AuditState {
    pub store: std::sync::Arc<dyn super::AuditStore>,
    pub audit: super::AuditLog,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Events at or after this time (RFC 3339, e.g. `2026-01-01T00:00:00Z`).
    #[param(format = DateTime)]
    from: Option<String>,
    /// Events before this time (RFC 3339).
    #[param(format = DateTime)]
    to: Option<String>,
    /// Actor id (user id or API key public id).
    actor: Option<String>,
    /// Action, e.g. `permission.denied`.
    action: Option<String>,
    /// `success`, `failure` or `denied`.
    #[param(value_type = Option<Outcome>)]
    outcome: Option<String>,
    /// Page size, 1 to 1000 (default 100). Ignored by exports.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// Events after this seq (the previous page's `next_after`).
    after: Option<i64>,
    /// `json` (default, one page), `jsonl` or `csv` (an export of every matching event).
    #[param(pattern = "^(json|jsonl|csv)$")]
    format: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEvent>,
    /// Pass as `after` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_after: Option<i64>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Jsonl,
    Csv,
}

fn parse_time(name: &str, value: Option<&str>) -> Result<Option<Timestamp>> {
    value
        .map(|v| {
            time::from_text(v).map_err(|_| {
                Error::BadRequest(format!(
                    "{name} must be an RFC 3339 time such as 2026-01-01T00:00:00Z"
                ))
            })
        })
        .transpose()
}

fn query_of(params: &AuditParams, scope: Scope) -> Result<(AuditQuery, Format)> {
    let format = match params.format.as_deref() {
        None | Some("json") => Format::Json,
        Some("jsonl") => Format::Jsonl,
        Some("csv") => Format::Csv,
        Some(_) => {
            return Err(Error::BadRequest(
                "format must be json, jsonl or csv".to_owned(),
            ))
        }
    };
    let limit = params.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(Error::BadRequest(
            "limit must be between 1 and 1000".to_owned(),
        ));
    }
    let outcome = params
        .outcome
        .as_deref()
        .map(|o| {
            Outcome::parse(o).ok_or_else(|| {
                Error::BadRequest("outcome must be success, failure or denied".to_owned())
            })
        })
        .transpose()?;
    Ok((
        AuditQuery {
            scope,
            from: parse_time("from", params.from.as_deref())?,
            to: parse_time("to", params.to.as_deref())?,
            actor_id: params.actor.clone(),
            action: params.action.clone(),
            outcome,
            after: params.after,
            limit,
        },
        format,
    ))
}

/// Audit events, oldest first; or an export of them.
#[utoipa::path(get, path = "/api/v1/audit-events", tag = "audit", params(AuditParams),
    security(("bearer" = [])),
    responses((status = 200, body = AuditPage, description = "a page (format=json), or JSON lines / CSV (format=jsonl|csv)"),
        (status = 400, body = crate::web::ErrorEnvelope), (status = 401, body = crate::web::ErrorEnvelope),
        (status = 403, body = crate::web::ErrorEnvelope)))]
pub async fn list(
    State(state): State<AuditState>,
    principal: Principal,
    client_ip: Option<Extension<ClientIp>>,
    headers: HeaderMap,
    params: Result<ValidQuery<AuditParams>, Error>,
) -> Result<Response> {
    let trail = Scoped::open_system_wide(&principal, Permission::AuditRead, state.store.clone())?;
    let ValidQuery(params) = params?;
    let (query, format) = query_of(&params, trail.scope())?;
    if format == Format::Json {
        let items = trail
            .store()
            .query_audit(&AuditQuery {
                limit: query.limit + 1,
                ..query.clone()
            })
            .await?;
        let (items, next_after) = split_page(items, query.limit, |e| e.seq);
        return Ok(Json(AuditPage { items, next_after }).into_response());
    }
    let (rows, more) = collect_export(&state, query).await?;
    let (body, content_type, name) = match format {
        Format::Csv => (csv(&rows), "text/csv; charset=utf-8", "csv"),
        _ => (jsonl(&rows)?, "application/x-ndjson", "jsonl"),
    };
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(256).collect());
    let source = client_ip.map(|Extension(ip)| ip.0.to_string());
    record_export(
        &state,
        &principal,
        &params,
        name,
        rows.len(),
        source,
        user_agent,
    )
    .await?;
    let disposition =
        HeaderValue::from_str(&format!("attachment; filename=\"audit-events.{name}\""))
            .map_err(|e| Error::Internal(e.into()))?;
    let mut response = (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response();
    if let Some(last) = rows.last().filter(|_| more) {
        response
            .headers_mut()
            .insert("x-next-after", HeaderValue::from(last.seq));
    }
    Ok(response)
}

/// Every matching event up to `EXPORT_MAX`, and whether more remain.
async fn collect_export(
    state: &AuditState,
    mut query: AuditQuery,
) -> Result<(Vec<AuditEvent>, bool)> {
    let mut rows = Vec::new();
    query.limit = EXPORT_PAGE;
    loop {
        let page = state.store.query_audit(&query).await?;
        let full = page.len() == EXPORT_PAGE as usize;
        query.after = page.last().map(|e| e.seq).or(query.after);
        rows.extend(page);
        if rows.len() >= EXPORT_MAX {
            let more = rows.len() > EXPORT_MAX || full;
            rows.truncate(EXPORT_MAX);
            return Ok((rows, more));
        }
        if !full {
            return Ok((rows, false));
        }
    }
}

/// Records the export in the trail and waits for the commit.
async fn record_export(
    state: &AuditState,
    principal: &Principal,
    params: &AuditParams,
    format: &str,
    rows: usize,
    source_ip: Option<String>,
    user_agent: Option<String>,
) -> Result<()> {
    let actor_kind = match principal.kind {
        PrincipalKind::User => ActorKind::User,
        PrincipalKind::ApiKey => ActorKind::ApiKey,
    };
    let event = NewAuditEvent::new(actor_kind, Some(principal.id.clone()), "audit.export")
        .tenant(principal.tenant)
        .target("audit_events", None)
        .source(source_ip, user_agent)
        .details(json!({
            "format": format,
            "rows": rows,
            "filters": {
                "from": params.from, "to": params.to, "actor": params.actor,
                "action": params.action, "outcome": params.outcome, "after": params.after,
            },
        }));
    state.audit.append(event).await.map(|_| ())
}

fn jsonl(rows: &[AuditEvent]) -> Result<String> {
    let mut out = String::new();
    for row in rows {
        out.push_str(&serde_json::to_string(row).map_err(|e| Error::Internal(e.into()))?);
        out.push('\n');
    }
    Ok(out)
}

const CSV_HEADER: &str = "seq,at,tenant_id,actor_kind,actor_id,action,target_type,target_id,\
                          source_ip,user_agent,outcome,details,prev_hash,hash";

fn csv(rows: &[AuditEvent]) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push_str("\r\n");
    for e in rows {
        let fields = [
            e.seq.to_string(),
            time::to_text(&e.at),
            e.tenant_id.map(|t| t.to_string()).unwrap_or_default(),
            e.actor_kind.as_str().to_owned(),
            e.actor_id.clone().unwrap_or_default(),
            e.action.clone(),
            e.target_type.clone().unwrap_or_default(),
            e.target_id.clone().unwrap_or_default(),
            e.source_ip.clone().unwrap_or_default(),
            e.user_agent.clone().unwrap_or_default(),
            e.outcome.as_str().to_owned(),
            e.details_json.clone(),
            hex::encode(e.prev_hash),
            hex::encode(e.hash),
        ];
        for (i, field) in fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&csv_cell(field));
        }
        out.push_str("\r\n");
    }
    out
}

/// RFC 4180 quoting, and a leading `'` on cells a spreadsheet would run as a formula.
fn csv_cell(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("{\"a\":1}"), "\"{\"\"a\"\":1}\"");
    }
}
