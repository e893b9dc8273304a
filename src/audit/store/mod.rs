//! Audit-trail storage: the trait the writer, verification, retention and the API use; the SQL
//! and row decoding both backends share.
//!
//! Invariant: audit rows are never updated; they are deleted only by `prune_audit`, as a whole
//! prefix, through the one bypass each backend's trigger allows inside that transaction. A query
//! from a tenant sees only that tenant's events.

mod postgres;
mod sqlite;

use async_trait::async_trait;
use sqlx::{Database, Encode, QueryBuilder, Type};

use super::chain::Linked;
use super::{ActorKind, AuditEvent, Checkpoint, NewAuditEvent, Outcome};
use crate::config::MasterKey;
use crate::domain::time::Timestamp;
use crate::domain::TenantId;
use crate::error::Result;
use crate::store::{Bound, Scope, Time};

/// A filtered page of audit events, oldest first.
#[derive(Debug, Clone)]
pub struct AuditQuery {
    /// A tenant principal gets its tenant; only system administrators get `System`.
    pub scope: Scope,
    /// Inclusive lower bound of `at`.
    pub from: Option<Timestamp>,
    /// Exclusive upper bound of `at`.
    pub to: Option<Timestamp>,
    pub actor_id: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<Outcome>,
    /// Events after this seq (the cursor).
    pub after: Option<i64>,
    pub limit: u32,
}

/// The append-only, hash-chained audit trail (see `crate::audit`).
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends `events` in one transaction after the chain head, which the transaction locks, so
    /// writers in every instance keep one consistent chain. Returns the assigned seqs.
    async fn append_audit(&self, events: &[NewAuditEvent]) -> Result<Vec<i64>>;
    /// The chain head: last appended seq and hash (`0` and zeros when empty).
    async fn audit_head(&self) -> Result<(i64, [u8; 32])>;
    /// Events with seq above `after`, in seq order, at most `limit`: for verification, so
    /// `details` is left `Null` (`details_json` holds the hashed text).
    async fn audit_chain_page(&self, after: i64, limit: u32) -> Result<Vec<AuditEvent>>;
    async fn query_audit(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>>;
    /// The newest retention checkpoint.
    async fn latest_audit_checkpoint(&self) -> Result<Option<Checkpoint>>;
    /// Deletes the longest prefix of events older than `before` and records a checkpoint signed
    /// with `master` after it. `None` when there was nothing to prune.
    async fn prune_audit(
        &self,
        before: Timestamp,
        master: &MasterKey,
    ) -> Result<Option<Checkpoint>>;
}

/// Rows per multi-row INSERT (SQLite allows 32,766 bound parameters; an event has 14).
const INSERT_CHUNK: usize = 500;

const COLUMNS: &str = "seq, at, tenant_id, actor_kind, actor_id, action, target_type, target_id, \
                       source_ip, user_agent, outcome, details, prev_hash, hash";
const HEAD: &str = "SELECT seq, hash FROM audit_head WHERE id = 1";
const SET_HEAD: &str = "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1";
const CHAIN_PAGE: &str = "SELECT seq, at, tenant_id, actor_kind, actor_id, action, target_type, \
     target_id, source_ip, user_agent, outcome, details, prev_hash, hash \
     FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2";
const LATEST_CHECKPOINT: &str = "SELECT seq, hash, created_at, key_id, signature \
     FROM audit_checkpoints ORDER BY seq DESC, id DESC LIMIT 1";
/// The first event recent enough to keep: everything before it is pruned.
const FIRST_KEPT: &str = "SELECT MIN(seq) FROM audit_events WHERE at >= $1";
const HASH_AT: &str = "SELECT hash FROM audit_events WHERE seq = $1";
const PRUNE: &str = "DELETE FROM audit_events WHERE seq <= $1";
const INSERT_CHECKPOINT: &str = "INSERT INTO audit_checkpoints \
     (seq, hash, created_at, key_id, signature) VALUES ($1, $2, $3, $4, $5)";

#[derive(sqlx::FromRow)]
struct EventRow {
    seq: i64,
    at: Time,
    tenant_id: Option<TenantId>,
    actor_kind: String,
    actor_id: Option<String>,
    action: String,
    target_type: Option<String>,
    target_id: Option<String>,
    source_ip: Option<String>,
    user_agent: Option<String>,
    outcome: String,
    details: String,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

impl EventRow {
    /// `details` is parsed only for API output (`parse_details`); verification needs just the
    /// stored text.
    fn decode(self, parse_details: bool) -> Result<AuditEvent> {
        let corrupt = |what: &str, value: &str| -> crate::Error {
            anyhow::anyhow!("corrupt audit {what} {value:?}").into()
        };
        let kind = ActorKind::parse(&self.actor_kind);
        let outcome = Outcome::parse(&self.outcome);
        Ok(AuditEvent {
            seq: self.seq,
            at: self.at.0,
            tenant_id: self.tenant_id,
            actor_kind: kind.ok_or_else(|| corrupt("actor kind", &self.actor_kind))?,
            actor_id: self.actor_id,
            action: self.action,
            target_type: self.target_type,
            target_id: self.target_id,
            source_ip: self.source_ip,
            user_agent: self.user_agent,
            outcome: outcome.ok_or_else(|| corrupt("outcome", &self.outcome))?,
            details: match parse_details {
                true => serde_json::from_str(&self.details).unwrap_or(serde_json::Value::Null),
                false => serde_json::Value::Null,
            },
            details_json: self.details,
            prev_hash: hash_from(self.prev_hash)?,
            hash: hash_from(self.hash)?,
        })
    }
}

fn events(rows: Vec<EventRow>, parse_details: bool) -> Result<Vec<AuditEvent>> {
    rows.into_iter().map(|r| r.decode(parse_details)).collect()
}

#[derive(sqlx::FromRow)]
struct CheckpointRow {
    seq: i64,
    hash: Vec<u8>,
    created_at: Time,
    key_id: String,
    signature: Vec<u8>,
}

impl TryFrom<CheckpointRow> for Checkpoint {
    type Error = crate::Error;
    fn try_from(row: CheckpointRow) -> Result<Self> {
        Ok(Checkpoint {
            seq: row.seq,
            hash: hash_from(row.hash)?,
            created_at: row.created_at.0,
            key_id: row.key_id,
            signature: row.signature,
        })
    }
}

fn head_from((seq, hash): (i64, Vec<u8>)) -> Result<(i64, [u8; 32])> {
    Ok((seq, hash_from(hash)?))
}

fn hash_from(bytes: Vec<u8>) -> Result<[u8; 32]> {
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| anyhow::anyhow!("corrupt audit hash of {} bytes", b.len()).into())
}

/// The last seq a prune removes: the one before the first kept event, or the head.
fn prune_through(first_kept: Option<i64>, head: (i64, [u8; 32])) -> i64 {
    first_kept.unwrap_or(head.0 + 1) - 1
}

/// One multi-row INSERT of linked events, the same on both backends.
fn insert_events<'a, DB: Database>(chunk: &'a [Linked<'a>]) -> QueryBuilder<'a, DB>
where
    i64: Encode<'a, DB> + Type<DB>,
    Time: Encode<'a, DB> + Type<DB>,
    Option<TenantId>: Encode<'a, DB> + Type<DB>,
    &'a str: Encode<'a, DB> + Type<DB>,
    Option<&'a str>: Encode<'a, DB> + Type<DB>,
    &'a [u8]: Encode<'a, DB> + Type<DB>,
{
    let mut insert = QueryBuilder::new(format!("INSERT INTO audit_events ({COLUMNS}) "));
    insert.push_values(chunk, |mut b, l| {
        b.push_bind(l.seq)
            .push_bind(Time(l.event.at))
            .push_bind(l.event.tenant)
            .push_bind(l.event.actor_kind.as_str())
            .push_bind(l.event.actor_id.as_deref())
            .push_bind(l.event.action.as_str())
            .push_bind(l.event.target_type.as_deref())
            .push_bind(l.event.target_id.as_deref())
            .push_bind(l.event.source_ip.as_deref())
            .push_bind(l.event.user_agent.as_deref())
            .push_bind(l.event.outcome.as_str())
            .push_bind(l.details.as_str())
            .push_bind(&l.prev_hash[..])
            .push_bind(&l.hash[..]);
    });
    insert
}

/// The filtered page of `query_audit`: only the filters given become SQL, so each query can use
/// the index that fits (the tenant's, or the sequence).
fn select_events<'a, DB: Database>(q: &'a AuditQuery) -> QueryBuilder<'a, DB>
where
    i64: Encode<'a, DB> + Type<DB>,
    Time: Encode<'a, DB> + Type<DB>,
    TenantId: Encode<'a, DB> + Type<DB>,
    &'a str: Encode<'a, DB> + Type<DB>,
{
    let mut sql = QueryBuilder::new(format!("SELECT {COLUMNS} FROM audit_events WHERE seq > "));
    sql.push_bind(q.after.unwrap_or(0));
    if let Some(tenant) = q.scope.tenant() {
        sql.push(" AND tenant_id = ").push_bind(tenant);
    }
    if let Some(from) = q.from {
        sql.push(" AND at >= ").push_bind(Time(from));
    }
    if let Some(to) = q.to {
        sql.push(" AND at < ").push_bind(Time(to));
    }
    if let Some(actor) = &q.actor_id {
        sql.push(" AND actor_id = ").push_bind(actor.as_str());
    }
    if let Some(action) = &q.action {
        sql.push(" AND action = ").push_bind(action.as_str());
    }
    if let Some(outcome) = q.outcome {
        sql.push(" AND outcome = ").push_bind(outcome.as_str());
    }
    sql.push(" ORDER BY seq LIMIT ")
        .push_bind(i64::from(q.limit));
    sql
}

fn insert_checkpoint<'a, DB: Database>(checkpoint: &'a Checkpoint) -> Bound<'a, DB>
where
    i64: Encode<'a, DB> + Type<DB>,
    Time: Encode<'a, DB> + Type<DB>,
    &'a str: Encode<'a, DB> + Type<DB>,
    &'a [u8]: Encode<'a, DB> + Type<DB>,
{
    sqlx::query(INSERT_CHECKPOINT)
        .bind(checkpoint.seq)
        .bind(&checkpoint.hash[..])
        .bind(Time(checkpoint.created_at))
        .bind(checkpoint.key_id.as_str())
        .bind(checkpoint.signature.as_slice())
}
