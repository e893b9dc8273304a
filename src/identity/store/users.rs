//! Users, login throttling, the tenant's TOTP policy and first-run setup: the SQL both backends
//! run alike, written once.
//!
//! Invariant: every statement on a user in a [`Scope`] carries `($N IS NULL OR tenant_id = $N)`;
//! the caller (the backend) has opened the transaction the statement runs in, scoped for
//! row-level security on PostgreSQL, and commits it.

use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};

use super::rows::{counter, LoginRow, ThrottleRow, UserRow, USER_COLUMNS, USER_RETURNING};
use super::{no_such_user, role_text, setup_user, totp_key_tenant, Affected, Sql};
use crate::domain::time::Timestamp;
use crate::domain::{TenantId, UserId};
use crate::error::{Error, Result};
use crate::identity::{email_key, LoginRecord, NewUser, Throttle, User, UserPatch};
use crate::secret::SecretString;
use crate::store::{map_db_error, Scope, Time};
use crate::tenants::{NewTenant, Tenant};

impl<DB> Sql<DB>
where
    DB: Database,
    DB::QueryResult: Affected,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> UserId: Encode<'q, DB> + Type<DB>,
    for<'q> TenantId: Encode<'q, DB> + Type<DB>,
    for<'q> Time: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> &'q [u8]: Encode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
    for<'q> i32: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> Option<UserId>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<TenantId>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<Time>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<bool>: Encode<'q, DB> + Type<DB>,
    for<'r> UserRow: FromRow<'r, DB::Row>,
    for<'r> LoginRow: FromRow<'r, DB::Row>,
    for<'r> ThrottleRow: FromRow<'r, DB::Row>,
    for<'r> (bool,): FromRow<'r, DB::Row>,
    for<'r> (String,): FromRow<'r, DB::Row>,
{
    pub(super) async fn any_user(c: &mut DB::Connection) -> Result<bool> {
        Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users)")
            .fetch_one(c)
            .await?)
    }

    pub(super) async fn insert_user(c: &mut DB::Connection, user: &NewUser) -> Result<User> {
        sqlx::query(
            "INSERT INTO users (id, tenant_id, email, email_key, display_name, role, system_admin, \
             active, password_hash, totp_enabled, created_at, last_login_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, TRUE, $8, FALSE, $9, NULL)",
        )
        .bind(user.id)
        .bind(user.tenant_id)
        .bind(&user.email)
        .bind(email_key(&user.email))
        .bind(&user.display_name)
        .bind(user.role.map(role_text))
        .bind(user.system_admin)
        .bind(user.password_hash.expose())
        .bind(Time(user.created_at))
        .execute(c)
        .await
        .map_err(map_db_error)?;
        Ok(User {
            id: user.id,
            email: user.email.clone(),
            display_name: user.display_name.clone(),
            tenant_id: user.tenant_id,
            role: user.role,
            system_admin: user.system_admin,
            active: true,
            totp_enabled: false,
            created_at: user.created_at,
            last_login_at: None,
        })
    }

    pub(super) async fn login_record(
        c: &mut DB::Connection,
        email_key: &str,
    ) -> Result<Option<LoginRecord>> {
        let row: Option<LoginRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS}, users.password_hash AS password_hash, \
             COALESCE(tenants.require_totp, FALSE) AS require_totp \
             FROM users LEFT JOIN tenants ON tenants.id = users.tenant_id \
             WHERE users.email_key = $1"
        ))
        .bind(email_key)
        .fetch_optional(c)
        .await?;
        row.map(|row| {
            Ok(LoginRecord {
                user: row.user.into_user()?,
                password_hash: SecretString::new(row.password_hash),
                tenant_requires_totp: row.require_totp,
            })
        })
        .transpose()
    }

    pub(super) async fn get_user(
        c: &mut DB::Connection,
        scope: Scope,
        id: UserId,
    ) -> Result<Option<User>> {
        let row: Option<UserRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE users.id = $1 \
             AND ($2 IS NULL OR users.tenant_id = $2)"
        ))
        .bind(id)
        .bind(scope.tenant())
        .fetch_optional(c)
        .await?;
        row.map(UserRow::into_user).transpose()
    }

    pub(super) async fn password_hash(
        c: &mut DB::Connection,
        scope: Scope,
        id: UserId,
    ) -> Result<Option<SecretString>> {
        let hash: Option<String> = sqlx::query_scalar(
            "SELECT password_hash FROM users WHERE id = $1 AND ($2 IS NULL OR tenant_id = $2)",
        )
        .bind(id)
        .bind(scope.tenant())
        .fetch_optional(c)
        .await?;
        Ok(hash.map(SecretString::new))
    }

    pub(super) async fn list_users(
        c: &mut DB::Connection,
        tenant: TenantId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<User>> {
        let rows: Vec<UserRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE users.tenant_id = $1 \
             AND ($2 IS NULL OR users.id > $2) ORDER BY users.id LIMIT $3"
        ))
        .bind(tenant)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(c)
        .await?;
        rows.into_iter().map(UserRow::into_user).collect()
    }

    pub(super) async fn update_user(
        c: &mut DB::Connection,
        scope: Scope,
        id: UserId,
        patch: &UserPatch,
    ) -> Result<Option<User>> {
        let row: Option<UserRow> = sqlx::query_as(&format!(
            "UPDATE users SET role = COALESCE($1, role), active = COALESCE($2, active), \
             display_name = CASE WHEN $3 THEN $4 ELSE display_name END \
             WHERE id = $5 AND ($6 IS NULL OR tenant_id = $6) RETURNING {USER_RETURNING}"
        ))
        .bind(patch.role.map(role_text))
        .bind(patch.active)
        .bind(patch.display_name.is_some())
        .bind(patch.display_name.clone().flatten())
        .bind(id)
        .bind(scope.tenant())
        .fetch_optional(c)
        .await
        .map_err(map_db_error)?;
        row.map(UserRow::into_user).transpose()
    }

    pub(super) async fn delete_user(
        c: &mut DB::Connection,
        scope: Scope,
        id: UserId,
    ) -> Result<bool> {
        let deleted =
            sqlx::query("DELETE FROM users WHERE id = $1 AND ($2 IS NULL OR tenant_id = $2)")
                .bind(id)
                .bind(scope.tenant())
                .execute(c)
                .await
                .map_err(map_db_error)?;
        Ok(deleted.rows() > 0)
    }

    pub(super) async fn set_password_hash(
        c: &mut DB::Connection,
        scope: Scope,
        id: UserId,
        hash: &SecretString,
    ) -> Result<()> {
        let updated = sqlx::query(
            "UPDATE users SET password_hash = $1 WHERE id = $2 AND ($3 IS NULL OR tenant_id = $3)",
        )
        .bind(hash.expose())
        .bind(id)
        .bind(scope.tenant())
        .execute(c)
        .await?;
        match updated.rows() {
            0 => Err(no_such_user()),
            _ => Ok(()),
        }
    }

    pub(super) async fn record_login(
        c: &mut DB::Connection,
        scope: Scope,
        id: UserId,
        at: Timestamp,
    ) -> Result<()> {
        let updated = sqlx::query(
            "UPDATE users SET last_login_at = $1 WHERE id = $2 AND ($3 IS NULL OR tenant_id = $3)",
        )
        .bind(Time(at))
        .bind(id)
        .bind(scope.tenant())
        .execute(c)
        .await?;
        match updated.rows() {
            0 => Err(no_such_user()),
            _ => Ok(()),
        }
    }

    pub(super) async fn login_throttle(
        c: &mut DB::Connection,
        email_key: &str,
    ) -> Result<Option<Throttle>> {
        let row: Option<ThrottleRow> = sqlx::query_as(
            "SELECT failures, window_start, lockouts, locked_until FROM login_throttle \
             WHERE email_key = $1",
        )
        .bind(email_key)
        .fetch_optional(c)
        .await?;
        row.map(ThrottleRow::into_throttle).transpose()
    }

    pub(super) async fn put_login_throttle(
        c: &mut DB::Connection,
        email_key: &str,
        throttle: &Throttle,
        at: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO login_throttle (email_key, failures, window_start, lockouts, locked_until, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (email_key) DO UPDATE SET \
             failures = excluded.failures, window_start = excluded.window_start, \
             lockouts = excluded.lockouts, locked_until = excluded.locked_until, \
             updated_at = excluded.updated_at",
        )
        .bind(email_key)
        .bind(counter(throttle.failures)?)
        .bind(Time(throttle.window_start))
        .bind(counter(throttle.lockouts)?)
        .bind(throttle.locked_until.map(Time))
        .bind(Time(at))
        .execute(c)
        .await?;
        Ok(())
    }

    pub(super) async fn clear_login_throttle(
        c: &mut DB::Connection,
        email_key: &str,
    ) -> Result<bool> {
        let deleted = sqlx::query("DELETE FROM login_throttle WHERE email_key = $1")
            .bind(email_key)
            .execute(c)
            .await?;
        Ok(deleted.rows() > 0)
    }

    /// The reserved system tenant is never a tenant whose policy can be read or set.
    pub(super) async fn tenant_requires_totp(
        c: &mut DB::Connection,
        tenant: TenantId,
    ) -> Result<bool> {
        let required: Option<bool> =
            sqlx::query_scalar("SELECT require_totp FROM tenants WHERE id = $1 AND id <> $2")
                .bind(tenant)
                .bind(totp_key_tenant(None)?)
                .fetch_optional(c)
                .await?;
        required.ok_or(Error::NotFound)
    }

    pub(super) async fn set_tenant_requires_totp(
        c: &mut DB::Connection,
        tenant: TenantId,
        required: bool,
    ) -> Result<()> {
        let updated =
            sqlx::query("UPDATE tenants SET require_totp = $1 WHERE id = $2 AND id <> $3")
                .bind(required)
                .bind(tenant)
                .bind(totp_key_tenant(None)?)
                .execute(c)
                .await?;
        match updated.rows() {
            0 => Err(Error::NotFound),
            _ => Ok(()),
        }
    }

    pub(super) async fn tenant_time_zone(
        c: &mut DB::Connection,
        tenant: TenantId,
    ) -> Result<String> {
        let zone: Option<String> =
            sqlx::query_scalar("SELECT time_zone FROM tenants WHERE id = $1 AND id <> $2")
                .bind(tenant)
                .bind(totp_key_tenant(None)?)
                .fetch_optional(c)
                .await?;
        zone.ok_or(Error::NotFound)
    }

    pub(super) async fn set_tenant_time_zone(
        c: &mut DB::Connection,
        tenant: TenantId,
        zone: &str,
    ) -> Result<()> {
        let updated = sqlx::query("UPDATE tenants SET time_zone = $1 WHERE id = $2 AND id <> $3")
            .bind(zone)
            .bind(tenant)
            .bind(totp_key_tenant(None)?)
            .execute(c)
            .await?;
        match updated.rows() {
            0 => Err(Error::NotFound),
            _ => Ok(()),
        }
    }

    /// Replaces any unused setup token; run in the backend's transaction.
    pub(super) async fn replace_setup_token(
        c: &mut DB::Connection,
        hash: &[u8; 32],
        created_at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<()> {
        sqlx::query("DELETE FROM setup_tokens WHERE used_at IS NULL")
            .execute(&mut *c)
            .await?;
        sqlx::query(
            "INSERT INTO setup_tokens (token_hash, created_at, expires_at, used_at) \
             VALUES ($1, $2, $3, NULL)",
        )
        .bind(hash.as_slice())
        .bind(Time(created_at))
        .bind(Time(expires_at))
        .execute(c)
        .await
        .map_err(map_db_error)?;
        Ok(())
    }

    /// The steps of `complete_setup`, in the backend's transaction (which it rolls back on `None`,
    /// by dropping it, and commits otherwise). The setup token's use is a conditional UPDATE.
    pub(super) async fn complete_setup(
        c: &mut DB::Connection,
        hash: &[u8; 32],
        at: Timestamp,
        tenant: &NewTenant,
        user: &NewUser,
    ) -> Result<Option<(Tenant, User)>> {
        if Self::any_user(&mut *c).await? {
            return Ok(None);
        }
        let used = sqlx::query(
            "UPDATE setup_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL \
             AND expires_at > $1",
        )
        .bind(Time(at))
        .bind(hash.as_slice())
        .execute(&mut *c)
        .await?;
        if used.rows() == 0 {
            return Ok(None);
        }
        let created = Tenant {
            id: TenantId::new(),
            slug: tenant.slug.clone(),
            name: tenant.name.clone(),
            created_at: at,
        };
        sqlx::query("INSERT INTO tenants (id, slug, name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(created.id)
            .bind(&created.slug)
            .bind(&created.name)
            .bind(Time(at))
            .execute(&mut *c)
            .await
            .map_err(map_db_error)?;
        let first = Self::insert_user(c, &setup_user(user, created.id)).await?;
        Ok(Some((created, first)))
    }
}
