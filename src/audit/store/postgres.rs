//! The audit trail on PostgreSQL. Every append and prune transaction first locks the chain-head
//! row (`SELECT ... FOR UPDATE`), which serializes writers across all instances sharing the
//! database; readers are never blocked. `audit_events` has row-level security: the writer,
//! verification and pruning run in the system scope, an API query in its principal's scope.
//! Pruning's bypass of the append-only trigger is `SET LOCAL auditpulse.audit_prune = 'on'`
//! inside its own transaction.

use async_trait::async_trait;
use sqlx::{PgConnection, Postgres};

use super::*;
use crate::audit::chain;
use crate::domain::time;
use crate::store::PgStore;

async fn lock_head(conn: &mut PgConnection) -> Result<(i64, [u8; 32])> {
    let lock = format!("{HEAD} FOR UPDATE");
    head_from(sqlx::query_as(&lock).fetch_one(conn).await?)
}

#[async_trait]
impl AuditStore for PgStore {
    async fn append_audit(&self, events: &[NewAuditEvent]) -> Result<Vec<i64>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_scoped(Scope::System).await?;
        let (linked, new_head) = chain::link(lock_head(&mut tx).await?, events);
        for chunk in linked.chunks(INSERT_CHUNK) {
            let mut insert = insert_events::<Postgres>(chunk);
            insert.build().execute(&mut *tx).await?;
        }
        let set_head = sqlx::query(SET_HEAD).bind(new_head.0).bind(&new_head.1[..]);
        set_head.execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(linked.iter().map(|l| l.seq).collect())
    }

    async fn audit_head(&self) -> Result<(i64, [u8; 32])> {
        head_from(sqlx::query_as(HEAD).fetch_one(&self.pool).await?)
    }

    async fn audit_chain_page(&self, after: i64, limit: u32) -> Result<Vec<AuditEvent>> {
        let mut tx = self.begin_scoped(Scope::System).await?;
        let page = sqlx::query_as(CHAIN_PAGE)
            .bind(after)
            .bind(i64::from(limit));
        let rows = page.fetch_all(&mut *tx).await?;
        tx.commit().await?;
        events(rows, false)
    }

    async fn query_audit(&self, q: &AuditQuery) -> Result<Vec<AuditEvent>> {
        let mut tx = self.begin_scoped(q.scope).await?;
        let mut sql = select_events::<Postgres>(q);
        let rows = sql.build_query_as().fetch_all(&mut *tx).await?;
        tx.commit().await?;
        events(rows, true)
    }

    async fn latest_audit_checkpoint(&self) -> Result<Option<Checkpoint>> {
        let row: Option<CheckpointRow> = sqlx::query_as(LATEST_CHECKPOINT)
            .fetch_optional(&self.pool)
            .await?;
        row.map(Checkpoint::try_from).transpose()
    }

    async fn prune_audit(
        &self,
        before: Timestamp,
        master: &MasterKey,
    ) -> Result<Option<Checkpoint>> {
        let mut tx = self.begin_scoped(Scope::System).await?;
        let head = lock_head(&mut tx).await?;
        let first_kept = sqlx::query_scalar(FIRST_KEPT).bind(Time(before));
        let through = prune_through(first_kept.fetch_one(&mut *tx).await?, head);
        let hash: Option<Vec<u8>> = sqlx::query_scalar(HASH_AT)
            .bind(through)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(hash) = hash else {
            return Ok(None);
        };
        let checkpoint = Checkpoint::sign(master, through, hash_from(hash)?, time::now());
        sqlx::query("SET LOCAL auditpulse.audit_prune = 'on'")
            .execute(&mut *tx)
            .await?;
        sqlx::query(PRUNE).bind(through).execute(&mut *tx).await?;
        sqlx::query("SET LOCAL auditpulse.audit_prune = 'off'")
            .execute(&mut *tx)
            .await?;
        insert_checkpoint::<Postgres>(&checkpoint)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(checkpoint))
    }
}
