//! TOTP secrets, used steps and recovery codes: the SQL both backends run alike, written once.
//!
//! Invariant: a TOTP step and a recovery code are each used at most once, by conditional UPDATEs;
//! scoped statements carry `($N IS NULL OR tenant_id = $N)`. The statements that lock (the user
//! row, the sealing key) are the backend's, passed in as a [`TotpSql`].

use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};

use super::rows::{TotpRow, UserTotpState};
use super::{
    check_totp_key_tenant, no_such_user, step_from_db, step_to_db, totp_already_enabled, Affected,
    Sql,
};
use crate::domain::time::Timestamp;
use crate::domain::{TenantId, UserId};
use crate::error::{Error, Result};
use crate::identity::TotpRecord;
use crate::store::{map_db_error, Scope, Time};

/// The TOTP statements each backend writes itself, because they lock differently.
pub(crate) struct TotpSql {
    /// The user's `tenant_id` and `totp_enabled` (`$1`: the user, `$2`: the scope's tenant, with
    /// the tenant filter), locked for the rest of the transaction.
    pub lock_user: &'static str,
    /// Upserts the secret (`$1` user, `$2` key tenant, `$3` ciphertext, `$4` time) only while
    /// version `$5` is the key tenant's active key, keeping that key from a concurrent rotation.
    pub put_secret: &'static str,
}

impl<DB> Sql<DB>
where
    DB: Database,
    DB::QueryResult: Affected,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> UserId: Encode<'q, DB> + Type<DB>,
    for<'q> TenantId: Encode<'q, DB> + Type<DB>,
    for<'q> Time: Encode<'q, DB> + Type<DB>,
    for<'q> &'q [u8]: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> Option<TenantId>: Encode<'q, DB> + Type<DB>,
    for<'r> UserTotpState: FromRow<'r, DB::Row>,
    for<'r> TotpRow: FromRow<'r, DB::Row>,
    for<'r> (bool,): FromRow<'r, DB::Row>,
{
    /// The tenant and TOTP flag of a user in scope, locked; `NotFound` if there is none.
    async fn user_totp_state(
        c: &mut DB::Connection,
        sql: &TotpSql,
        scope: Scope,
        user: UserId,
    ) -> Result<UserTotpState> {
        let state: Option<UserTotpState> = sqlx::query_as(sql.lock_user)
            .bind(user)
            .bind(scope.tenant())
            .fetch_optional(c)
            .await?;
        state.ok_or_else(no_such_user)
    }

    /// `put_totp_secret` in the backend's transaction.
    pub(super) async fn put_totp_secret(
        c: &mut DB::Connection,
        sql: &TotpSql,
        scope: Scope,
        user: UserId,
        key_tenant: TenantId,
        ciphertext: &[u8],
        at: Timestamp,
    ) -> Result<bool> {
        let version = crate::crypto::key_version(ciphertext)?;
        let state = Self::user_totp_state(&mut *c, sql, scope, user).await?;
        if state.totp_enabled {
            return Err(totp_already_enabled());
        }
        check_totp_key_tenant(state.tenant_id, key_tenant)?;
        let written = sqlx::query(sql.put_secret)
            .bind(user)
            .bind(key_tenant)
            .bind(ciphertext)
            .bind(Time(at))
            .bind(i64::from(version))
            .execute(c)
            .await
            .map_err(map_db_error)?;
        Ok(written.rows() == 1)
    }

    pub(super) async fn totp_secret(
        c: &mut DB::Connection,
        scope: Scope,
        user: UserId,
    ) -> Result<Option<TotpRecord>> {
        let row: Option<TotpRow> = sqlx::query_as(
            "SELECT tenant_id, secret_ciphertext, last_step FROM user_totp \
             WHERE user_id = $1 AND ($2 IS NULL OR tenant_id = $2)",
        )
        .bind(user)
        .bind(scope.tenant())
        .fetch_optional(c)
        .await?;
        row.map(|row| {
            Ok(TotpRecord {
                key_tenant: row.tenant_id,
                ciphertext: row.secret_ciphertext,
                last_step: step_from_db(row.last_step)?,
            })
        })
        .transpose()
    }

    pub(super) async fn use_totp_step(
        c: &mut DB::Connection,
        scope: Scope,
        user: UserId,
        step: u64,
    ) -> Result<bool> {
        let updated = sqlx::query(
            "UPDATE user_totp SET last_step = $1 WHERE user_id = $2 \
             AND (last_step IS NULL OR last_step < $1) AND ($3 IS NULL OR tenant_id = $3)",
        )
        .bind(step_to_db(step)?)
        .bind(user)
        .bind(scope.tenant())
        .execute(c)
        .await?;
        Ok(updated.rows() == 1)
    }

    /// `enable_totp` in the backend's transaction.
    pub(super) async fn enable_totp(
        c: &mut DB::Connection,
        sql: &TotpSql,
        scope: Scope,
        user: UserId,
        recovery_hashes: &[[u8; 32]],
    ) -> Result<()> {
        let state = Self::user_totp_state(&mut *c, sql, scope, user).await?;
        let has_secret: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM user_totp WHERE user_id = $1)")
                .bind(user)
                .fetch_one(&mut *c)
                .await?;
        if !has_secret {
            return Err(Error::Conflict(
                "there is no two-factor secret to enable; set one up first".to_owned(),
            ));
        }
        sqlx::query("UPDATE users SET totp_enabled = TRUE WHERE id = $1")
            .bind(user)
            .execute(&mut *c)
            .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user)
            .execute(&mut *c)
            .await?;
        for hash in recovery_hashes {
            sqlx::query(
                "INSERT INTO recovery_codes (user_id, tenant_id, code_hash, used_at) \
                 VALUES ($1, $2, $3, NULL) ON CONFLICT DO NOTHING",
            )
            .bind(user)
            .bind(state.tenant_id)
            .bind(hash.as_slice())
            .execute(&mut *c)
            .await
            .map_err(map_db_error)?;
        }
        Ok(())
    }

    /// `disable_totp` in the backend's transaction.
    pub(super) async fn disable_totp(
        c: &mut DB::Connection,
        scope: Scope,
        user: UserId,
    ) -> Result<()> {
        let updated = sqlx::query(
            "UPDATE users SET totp_enabled = FALSE WHERE id = $1 AND ($2 IS NULL OR tenant_id = $2)",
        )
        .bind(user)
        .bind(scope.tenant())
        .execute(&mut *c)
        .await?;
        if updated.rows() == 0 {
            return Err(no_such_user());
        }
        for sql in [
            "DELETE FROM user_totp WHERE user_id = $1",
            "DELETE FROM recovery_codes WHERE user_id = $1",
        ] {
            sqlx::query(sql).bind(user).execute(&mut *c).await?;
        }
        Ok(())
    }

    pub(super) async fn use_recovery_code(
        c: &mut DB::Connection,
        scope: Scope,
        user: UserId,
        hash: &[u8; 32],
        at: Timestamp,
    ) -> Result<bool> {
        let updated = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 \
             AND used_at IS NULL AND ($4 IS NULL OR tenant_id = $4)",
        )
        .bind(Time(at))
        .bind(user)
        .bind(hash.as_slice())
        .bind(scope.tenant())
        .execute(c)
        .await?;
        Ok(updated.rows() == 1)
    }
}
