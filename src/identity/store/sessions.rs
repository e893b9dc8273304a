//! Sessions and their rotating refresh tokens: the SQL both backends run alike, written once.
//!
//! Invariant: scoped statements carry `($N IS NULL OR tenant_id = $N)`; a refresh token is marked
//! used by a conditional UPDATE, so of two presentations one wins and a token presented after its
//! use ends its session. The backend opens (and scopes, and commits) the transaction.

use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};

use super::rows::{RefreshRow, SessionRow, SessionStateRow, SESSION_COLUMNS, USER_COLUMNS};
use super::{no_such_user, Affected, Sql, REFRESH_REUSE};
use crate::domain::time::Timestamp;
use crate::domain::{SessionId, TenantId, UserId};
use crate::error::Result;
use crate::identity::{NewSession, RefreshOutcome, Session, SessionState};
use crate::store::{map_db_error, Scope, Time};

impl<DB> Sql<DB>
where
    DB: Database,
    DB::QueryResult: Affected,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> UserId: Encode<'q, DB> + Type<DB>,
    for<'q> TenantId: Encode<'q, DB> + Type<DB>,
    for<'q> SessionId: Encode<'q, DB> + Type<DB>,
    for<'q> Time: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> &'q [u8]: Encode<'q, DB> + Type<DB>,
    for<'q> Option<TenantId>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<SessionId>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'r> SessionRow: FromRow<'r, DB::Row>,
    for<'r> SessionStateRow: FromRow<'r, DB::Row>,
    for<'r> RefreshRow: FromRow<'r, DB::Row>,
    for<'r> (SessionId,): FromRow<'r, DB::Row>,
{
    /// Creates a session with its first refresh token, in the backend's transaction. The session's
    /// tenant must be its user's: checked here, not trusted.
    pub(super) async fn insert_session(
        c: &mut DB::Connection,
        session: &NewSession,
        refresh_hash: &[u8; 32],
    ) -> Result<()> {
        let inserted = sqlx::query(
            "INSERT INTO sessions (id, user_id, tenant_id, created_at, last_seen_at, expires_at, \
             ended_at, end_reason, ip, user_agent) \
             SELECT $1, $2, $3, $4, $4, $5, NULL, NULL, $6, $7 \
             WHERE EXISTS (SELECT 1 FROM users WHERE id = $2 AND tenant_id IS NOT DISTINCT FROM $3)",
        )
        .bind(session.id)
        .bind(session.user_id)
        .bind(session.tenant_id)
        .bind(Time(session.created_at))
        .bind(Time(session.expires_at))
        .bind(&session.ip)
        .bind(&session.user_agent)
        .execute(&mut *c)
        .await
        .map_err(map_db_error)?;
        if inserted.rows() == 0 {
            return Err(no_such_user());
        }
        let at = session.created_at;
        Self::insert_refresh_token(c, refresh_hash, session.id, session.tenant_id, at).await
    }

    /// Stores a refresh token (its hash) for a session, unused.
    async fn insert_refresh_token(
        c: &mut DB::Connection,
        hash: &[u8; 32],
        session: SessionId,
        tenant: Option<TenantId>,
        at: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, session_id, tenant_id, created_at, used_at) \
             VALUES ($1, $2, $3, $4, NULL)",
        )
        .bind(hash.as_slice())
        .bind(session)
        .bind(tenant)
        .bind(Time(at))
        .execute(c)
        .await
        .map_err(map_db_error)?;
        Ok(())
    }

    /// The session and its user, whatever their state.
    pub(super) async fn session_state(
        c: &mut DB::Connection,
        id: SessionId,
    ) -> Result<Option<SessionState>> {
        let row: Option<SessionStateRow> = sqlx::query_as(&format!(
            "SELECT {SESSION_COLUMNS}, {USER_COLUMNS}, \
             COALESCE(tenants.require_totp, FALSE) AS require_totp \
             FROM sessions JOIN users ON users.id = sessions.user_id \
             LEFT JOIN tenants ON tenants.id = users.tenant_id WHERE sessions.id = $1"
        ))
        .bind(id)
        .fetch_optional(c)
        .await?;
        row.map(SessionStateRow::into_state).transpose()
    }

    pub(super) async fn touch_session(
        c: &mut DB::Connection,
        id: SessionId,
        at: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE sessions SET last_seen_at = $1 WHERE id = $2 AND ended_at IS NULL \
             AND last_seen_at < $1",
        )
        .bind(Time(at))
        .bind(id)
        .execute(c)
        .await?;
        Ok(())
    }

    pub(super) async fn list_sessions(
        c: &mut DB::Connection,
        scope: Scope,
        user: UserId,
    ) -> Result<Vec<Session>> {
        let rows: Vec<SessionRow> = sqlx::query_as(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE sessions.user_id = $1 \
             AND sessions.ended_at IS NULL AND ($2 IS NULL OR sessions.tenant_id = $2) \
             ORDER BY sessions.created_at DESC, sessions.id DESC"
        ))
        .bind(user)
        .bind(scope.tenant())
        .fetch_all(c)
        .await?;
        Ok(rows.into_iter().map(Session::from).collect())
    }

    pub(super) async fn end_session(
        c: &mut DB::Connection,
        scope: Scope,
        user: UserId,
        id: SessionId,
        reason: &str,
        at: Timestamp,
    ) -> Result<bool> {
        let ended = sqlx::query(
            "UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE id = $3 AND user_id = $4 \
             AND ended_at IS NULL AND ($5 IS NULL OR tenant_id = $5)",
        )
        .bind(Time(at))
        .bind(reason)
        .bind(id)
        .bind(user)
        .bind(scope.tenant())
        .execute(c)
        .await?;
        Ok(ended.rows() == 1)
    }

    pub(super) async fn end_user_sessions(
        c: &mut DB::Connection,
        scope: Scope,
        user: UserId,
        except: Option<SessionId>,
        reason: &str,
        at: Timestamp,
    ) -> Result<Vec<SessionId>> {
        Ok(sqlx::query_scalar(
            "UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE user_id = $3 \
             AND ended_at IS NULL AND ($4 IS NULL OR id <> $4) \
             AND ($5 IS NULL OR tenant_id = $5) RETURNING id",
        )
        .bind(Time(at))
        .bind(reason)
        .bind(user)
        .bind(except)
        .bind(scope.tenant())
        .fetch_all(c)
        .await?)
    }

    /// `rotate_refresh` in the backend's transaction. `find_sql` looks the presented token's
    /// session up (`$1`: the token hash) and is the backend's, for it to lock as it must.
    pub(super) async fn rotate_refresh(
        c: &mut DB::Connection,
        find_sql: &'static str,
        presented: &[u8; 32],
        new_hash: &[u8; 32],
        at: Timestamp,
    ) -> Result<RefreshOutcome> {
        let found: Option<RefreshRow> = sqlx::query_as(find_sql)
            .bind(presented.as_slice())
            .fetch_optional(&mut *c)
            .await?;
        let Some(RefreshRow {
            session_id: session,
            tenant_id: tenant,
            ended: false,
        }) = found
        else {
            return Ok(RefreshOutcome::Unknown);
        };
        let marked = sqlx::query(
            "UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
        )
        .bind(Time(at))
        .bind(presented.as_slice())
        .execute(&mut *c)
        .await?;
        if marked.rows() == 0 {
            // Presented again after use: whoever holds it, the session is no longer safe.
            sqlx::query(
                "UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE id = $3 \
                 AND ended_at IS NULL",
            )
            .bind(Time(at))
            .bind(REFRESH_REUSE)
            .bind(session)
            .execute(&mut *c)
            .await?;
            let state = Self::session_state(c, session).await?;
            return Ok(state.map_or(RefreshOutcome::Unknown, RefreshOutcome::Reused));
        }
        Self::insert_refresh_token(&mut *c, new_hash, session, tenant, at).await?;
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2 AND last_seen_at < $1")
            .bind(Time(at))
            .bind(session)
            .execute(&mut *c)
            .await?;
        let state = Self::session_state(c, session).await?;
        Ok(state.map_or(RefreshOutcome::Unknown, RefreshOutcome::Rotated))
    }
}
