//! The audit trail on SQLite. Appends and pruning run in `BEGIN IMMEDIATE` transactions, which
//! take the database's single write lock up front, so the head read and the inserts cannot
//! interleave with another writer (another process included; the busy timeout makes it wait).
//! Pruning's bypass of the append-only triggers is a row in `audit_prune_guard`, held only inside
//! its own transaction.

use async_trait::async_trait;
use sqlx::{Sqlite, SqliteConnection};

use super::*;
use crate::audit::chain;
use crate::domain::time;
use crate::store::SqliteStore;

async fn read_head(conn: &mut SqliteConnection) -> Result<(i64, [u8; 32])> {
    head_from(sqlx::query_as(HEAD).fetch_one(conn).await?)
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append_audit(&self, events: &[NewAuditEvent]) -> Result<Vec<i64>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_immediate().await?;
        let (linked, new_head) = chain::link(read_head(&mut tx).await?, events);
        for chunk in linked.chunks(INSERT_CHUNK) {
            let mut insert = insert_events::<Sqlite>(chunk);
            insert.build().execute(&mut *tx).await?;
        }
        let set_head = sqlx::query(SET_HEAD).bind(new_head.0).bind(&new_head.1[..]);
        set_head.execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(linked.iter().map(|l| l.seq).collect())
    }

    async fn audit_head(&self) -> Result<(i64, [u8; 32])> {
        read_head(&mut *self.pool.acquire().await?).await
    }

    async fn audit_chain_page(&self, after: i64, limit: u32) -> Result<Vec<AuditEvent>> {
        let page = sqlx::query_as(CHAIN_PAGE)
            .bind(after)
            .bind(i64::from(limit));
        events(page.fetch_all(&self.pool).await?, false)
    }

    async fn query_audit(&self, q: &AuditQuery) -> Result<Vec<AuditEvent>> {
        let mut sql = select_events::<Sqlite>(q);
        events(sql.build_query_as().fetch_all(&self.pool).await?, true)
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
        let mut tx = self.begin_immediate().await?;
        let head = read_head(&mut tx).await?;
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
        sqlx::query("INSERT INTO audit_prune_guard (id) VALUES (1)")
            .execute(&mut *tx)
            .await?;
        sqlx::query(PRUNE).bind(through).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM audit_prune_guard")
            .execute(&mut *tx)
            .await?;
        insert_checkpoint::<Sqlite>(&checkpoint)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(checkpoint))
    }
}
