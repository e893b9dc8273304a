//! The audit trail on SQLite. Appends and pruning run in `BEGIN IMMEDIATE` transactions, which take
//! the database's single write lock up front, so the head read and the inserts cannot interleave
//! with another writer (another process included; the busy timeout makes it wait).
//!
//! Invariant: triggers refuse UPDATE and DELETE of audit rows; pruning is the one bypass, by
//! holding a row in `audit_prune_guard` only inside its own transaction.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};

use super::{hash_from, AuditQuery, AuditScope, AuditStore, SqliteStore, AUDIT_INSERT_CHUNK};
use crate::audit::{chain, ActorKind, AuditEvent, Checkpoint, NewAuditEvent, Outcome};
use crate::config::MasterKey;
use crate::domain::time::{self, Timestamp};
use crate::error::Result;

const COLUMNS: &str = "seq, at, tenant_id, actor_kind, actor_id, action, target_type, target_id, \
                       source_ip, user_agent, outcome, details, prev_hash, hash";

fn corrupt(what: &str, value: &str) -> crate::Error {
    anyhow::anyhow!("corrupt audit {what} {value:?}").into()
}

/// Decodes a row; `details` is parsed only for API output (`parse_details`), verification needs
/// just the stored text.
/// Decodes a row selected with `COLUMNS`, by position (this runs a million times in a verify).
fn event_from_row(row: &SqliteRow, parse_details: bool) -> Result<AuditEvent> {
    let at: String = row.try_get(1)?;
    let tenant: Option<String> = row.try_get(2)?;
    let kind: String = row.try_get(3)?;
    let outcome: String = row.try_get(10)?;
    let details_json: String = row.try_get(11)?;
    Ok(AuditEvent {
        seq: row.try_get(0)?,
        at: time::from_text(&at).map_err(|_| corrupt("time", &at))?,
        tenant_id: tenant
            .map(|t| t.parse().map_err(|_| corrupt("tenant", &t)))
            .transpose()?,
        actor_kind: ActorKind::parse(&kind).ok_or_else(|| corrupt("actor kind", &kind))?,
        actor_id: row.try_get(4)?,
        action: row.try_get(5)?,
        target_type: row.try_get(6)?,
        target_id: row.try_get(7)?,
        source_ip: row.try_get(8)?,
        user_agent: row.try_get(9)?,
        outcome: Outcome::parse(&outcome).ok_or_else(|| corrupt("outcome", &outcome))?,
        details: match parse_details {
            true => serde_json::from_str(&details_json).unwrap_or(serde_json::Value::Null),
            false => serde_json::Value::Null,
        },
        details_json,
        prev_hash: hash_from(row.try_get(12)?)?,
        hash: hash_from(row.try_get(13)?)?,
    })
}

async fn read_head(conn: &mut sqlx::SqliteConnection) -> Result<(i64, [u8; 32])> {
    let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(conn)
        .await?;
    Ok((row.try_get("seq")?, hash_from(row.try_get("hash")?)?))
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append_audit(&self, events: &[NewAuditEvent]) -> Result<Vec<i64>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let head = read_head(&mut tx).await?;
        let (linked, new_head) = chain::link(head, events);
        for chunk in linked.chunks(AUDIT_INSERT_CHUNK) {
            let mut insert: QueryBuilder<Sqlite> =
                QueryBuilder::new(format!("INSERT INTO audit_events ({COLUMNS}) "));
            insert.push_values(chunk, |mut b, l| {
                b.push_bind(l.seq)
                    .push_bind(time::to_text(&l.event.at))
                    .push_bind(l.event.tenant.map(|t| t.to_string()))
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
            insert.build().execute(&mut *tx).await?;
        }
        sqlx::query("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1")
            .bind(new_head.0)
            .bind(&new_head.1[..])
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(linked.iter().map(|l| l.seq).collect())
    }

    async fn audit_head(&self) -> Result<(i64, [u8; 32])> {
        let mut conn = self.pool.acquire().await?;
        read_head(&mut conn).await
    }

    async fn audit_chain_page(&self, after: i64, limit: u32) -> Result<Vec<AuditEvent>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?"
        ))
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| event_from_row(row, false))
        .collect()
    }

    async fn query_audit(&self, q: &AuditQuery) -> Result<Vec<AuditEvent>> {
        let mut sql: QueryBuilder<Sqlite> =
            QueryBuilder::new(format!("SELECT {COLUMNS} FROM audit_events WHERE seq > "));
        sql.push_bind(q.after.unwrap_or(0));
        if let AuditScope::Tenant(tenant) = q.scope {
            sql.push(" AND tenant_id = ").push_bind(tenant.to_string());
        }
        if let Some(from) = &q.from {
            sql.push(" AND at >= ").push_bind(time::to_text(from));
        }
        if let Some(to) = &q.to {
            sql.push(" AND at < ").push_bind(time::to_text(to));
        }
        if let Some(actor) = &q.actor_id {
            sql.push(" AND actor_id = ").push_bind(actor.clone());
        }
        if let Some(action) = &q.action {
            sql.push(" AND action = ").push_bind(action.clone());
        }
        if let Some(outcome) = q.outcome {
            sql.push(" AND outcome = ").push_bind(outcome.as_str());
        }
        sql.push(" ORDER BY seq LIMIT ")
            .push_bind(i64::from(q.limit));
        sql.build()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| event_from_row(row, true))
            .collect()
    }

    async fn latest_audit_checkpoint(&self) -> Result<Option<Checkpoint>> {
        let row = sqlx::query(
            "SELECT seq, hash, created_at, key_id, signature FROM audit_checkpoints \
             ORDER BY seq DESC, id DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let created: String = row.try_get("created_at")?;
        Ok(Some(Checkpoint {
            seq: row.try_get("seq")?,
            hash: hash_from(row.try_get("hash")?)?,
            created_at: time::from_text(&created).map_err(|_| corrupt("time", &created))?,
            key_id: row.try_get("key_id")?,
            signature: row.try_get("signature")?,
        }))
    }

    async fn prune_audit(
        &self,
        before: Timestamp,
        master: &MasterKey,
    ) -> Result<Option<Checkpoint>> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let head = read_head(&mut tx).await?;
        // The whole prefix before the first event that is recent enough (or everything).
        let first_kept: Option<i64> =
            sqlx::query_scalar("SELECT MIN(seq) FROM audit_events WHERE at >= ?")
                .bind(time::to_text(&before))
                .fetch_one(&mut *tx)
                .await?;
        let through = first_kept.unwrap_or(head.0 + 1) - 1;
        let hash: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT hash FROM audit_events WHERE seq = ?")
                .bind(through)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(hash) = hash else {
            return Ok(None);
        };
        let checkpoint = Checkpoint::sign(master, through, hash_from(hash)?, time::now());
        sqlx::query("INSERT INTO audit_prune_guard (id) VALUES (1)")
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM audit_events WHERE seq <= ?")
            .bind(through)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM audit_prune_guard")
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO audit_checkpoints (seq, hash, created_at, key_id, signature) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(checkpoint.seq)
        .bind(&checkpoint.hash[..])
        .bind(time::to_text(&checkpoint.created_at))
        .bind(&checkpoint.key_id)
        .bind(&checkpoint.signature)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(checkpoint))
    }
}
