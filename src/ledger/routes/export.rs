//! `GET /api/v1/transactions/export?format=csv|jsonl`: the filtered set streamed page by page,
//! never held whole.
//!
//! Invariant: every export, finished or cut short, is one audit event naming its filter and the
//! rows sent; it needs `ledger:export` (auditors and administrators, not viewers). Text cells
//! that a spreadsheet would run as a formula are written with a leading `'`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use futures_util::stream;
use serde::Deserialize;
use serde_json::json;

use super::transactions::TransactionParams;
use super::{open, LedgerState};
use crate::auth::{Permission, Principal};
use crate::domain::{AccountId, TenantId};
use crate::error::{Error, Result};
use crate::events::Events;
use crate::ledger::{Ledger, Source, SpendCursor, SpendEvent, SpendFilter, SpendStatus};
use crate::web::{ClientIp, ValidQuery};

const PAGE: u32 = 1000;

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Csv,
    Jsonl,
}

/// The transactions filters, and the format.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// `csv` or `jsonl`.
    #[param(inline)]
    pub format: ExportFormat,
    #[param(value_type = Option<String>, format = Uuid)]
    pub account: Option<AccountId>,
    pub source: Option<Source>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub currency: Option<String>,
    pub min_amount: Option<String>,
    pub max_amount: Option<String>,
    pub counterparty: Option<String>,
    pub status: Option<SpendStatus>,
}

impl From<&ExportParams> for TransactionParams {
    fn from(p: &ExportParams) -> Self {
        TransactionParams {
            account: p.account,
            source: p.source,
            from: p.from,
            to: p.to,
            currency: p.currency.clone(),
            min_amount: p.min_amount.clone(),
            max_amount: p.max_amount.clone(),
            counterparty: p.counterparty.clone(),
            status: p.status,
            limit: None,
            cursor: None,
        }
    }
}

/// Stream the filtered transactions as CSV or JSON lines.
#[utoipa::path(get, path = "/api/v1/transactions/export", tag = "ledger", params(ExportParams),
    security(("bearer" = [])),
    responses((status = 200, description = "the transactions, streamed", content_type = "text/csv"),
        (status = 400, body = crate::web::ErrorEnvelope), (status = 403, body = crate::web::ErrorEnvelope)))]
pub async fn export(
    State(state): State<LedgerState>,
    principal: Principal,
    ip: ClientIp,
    params: Result<ValidQuery<ExportParams>, Error>,
) -> Result<Response> {
    let (_, tenant) = open(&state, &principal, Permission::LedgerExport)?;
    let ValidQuery(params) = params?;
    let filter = TransactionParams::from(&params).filter()?;
    let record = Record {
        events: state.events.clone(),
        principal: principal.id.clone(),
        ip,
        tenant,
        format: params.format,
        filter: filter_json(&filter),
        rows: 0,
        finished: false,
    };
    let cursor = Cursor {
        ledger: state.ledger.clone(),
        tenant,
        filter,
        after: None,
        started: false,
        done: false,
        record,
    };
    let body = Body::from_stream(stream::unfold(cursor, next_chunk));
    let (content_type, extension) = match params.format {
        ExportFormat::Csv => ("text/csv; charset=utf-8", "csv"),
        ExportFormat::Jsonl => ("application/x-ndjson", "jsonl"),
    };
    let disposition = format!("attachment; filename=\"transactions.{extension}\"");
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}

/// Where the stream is.
struct Cursor {
    ledger: Arc<Ledger>,
    tenant: TenantId,
    filter: SpendFilter,
    after: Option<SpendCursor>,
    started: bool,
    done: bool,
    record: Record,
}

/// The audit event of one export, written when the stream ends or is dropped.
struct Record {
    events: Arc<Events>,
    principal: String,
    ip: ClientIp,
    tenant: TenantId,
    format: ExportFormat,
    filter: serde_json::Value,
    rows: u64,
    finished: bool,
}

impl Drop for Record {
    fn drop(&mut self) {
        let format = match self.format {
            ExportFormat::Csv => "csv",
            ExportFormat::Jsonl => "jsonl",
        };
        self.events.admin_action(
            &self.principal,
            self.ip.0,
            "ledger.export",
            None,
            Some(self.tenant),
            json!({
                "format": format,
                "filter": self.filter,
                "rows": self.rows,
                "complete": self.finished,
            }),
        );
    }
}

async fn next_chunk(mut c: Cursor) -> Option<(std::io::Result<Vec<u8>>, Cursor)> {
    if c.done {
        return None;
    }
    let mut out = Vec::new();
    if !c.started {
        c.started = true;
        if matches!(c.record.format, ExportFormat::Csv) {
            out.extend_from_slice(CSV_HEADER.join(",").as_bytes());
            out.push(b'\n');
        }
    }
    let page = match c.ledger.page(c.tenant, &c.filter, c.after, PAGE).await {
        Ok(page) => page,
        Err(error) => {
            tracing::error!(error = %error, "transaction export failed mid-stream");
            c.done = true;
            return Some((Err(std::io::Error::other("export failed")), c));
        }
    };
    for event in &page.items {
        if let Err(error) = write_row(&mut out, c.record.format, event) {
            c.done = true;
            return Some((Err(std::io::Error::other(error.to_string())), c));
        }
    }
    c.record.rows += page.items.len() as u64;
    c.after = page.next;
    if c.after.is_none() {
        c.done = true;
        c.record.finished = true;
    }
    Some((Ok(out), c))
}

const CSV_HEADER: [&str; 13] = [
    "id",
    "occurred_at",
    "booked_on",
    "account_id",
    "source",
    "source_ref",
    "status",
    "amount",
    "currency",
    "counterparty",
    "counterparty_normalized",
    "category",
    "description",
];

fn write_row(out: &mut Vec<u8>, format: ExportFormat, e: &SpendEvent) -> Result<()> {
    match format {
        ExportFormat::Jsonl => {
            serde_json::to_writer(&mut *out, e).map_err(anyhow::Error::from)?;
            out.push(b'\n');
        }
        ExportFormat::Csv => {
            let mut w = csv::WriterBuilder::new().from_writer(&mut *out);
            let text = |t: &Option<String>| t.as_deref().map(defuse).unwrap_or_default();
            w.write_record([
                e.id.to_string(),
                e.occurred_at.to_rfc3339(),
                e.booked_on.to_string(),
                e.account_id.map(|a| a.to_string()).unwrap_or_default(),
                e.source.as_str().to_owned(),
                defuse(&e.source_ref),
                e.status.as_str().to_owned(),
                e.amount.clone(),
                e.currency.to_string(),
                text(&e.counterparty),
                text(&e.counterparty_normalized),
                text(&e.category),
                text(&e.description),
            ])
            .map_err(anyhow::Error::from)?;
            w.flush().map_err(anyhow::Error::from)?;
        }
    }
    Ok(())
}

/// A cell a spreadsheet would evaluate (`=`, `+`, `-`, `@`, tab, CR) gets a leading `'`.
fn defuse(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

fn filter_json(f: &SpendFilter) -> serde_json::Value {
    json!({
        "account": f.account,
        "source": f.source,
        "from": f.from,
        "to": f.to,
        "currency": f.currency,
        "min_minor": f.min_minor,
        "max_minor": f.max_minor,
        "counterparty": f.counterparty,
        "status": f.status,
    })
}

#[cfg(test)]
mod tests {
    use super::defuse;

    #[test]
    fn formula_cells_are_defused() {
        assert_eq!(defuse("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(defuse("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(defuse("Coffee"), "Coffee");
    }
}
