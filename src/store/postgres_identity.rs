//! Identity storage on PostgreSQL.
//!
//! Two walls keep tenants apart. Every scoped call filters with `($N::uuid IS NULL OR tenant_id =
//! $N)`, where the system scope binds `NULL`; and every statement runs in a transaction from
//! [`PgStore::begin_scoped`], which sets `auditpulse.tenant` for the row-level security policies of
//! migration 0005: the caller's tenant, or `*` for the system paths (login, token and key checks,
//! setup) and a global administrator's own rows. Single-use marks (TOTP steps, recovery codes,
//! refresh tokens, the setup token) are conditional UPDATEs: a concurrent second use waits for the
//! row lock, sees the mark and matches nothing.

use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use super::identity::{
    check_totp_key_tenant, no_such_user, role_from_text, role_text, scopes_from_text, scopes_text,
    setup_user, step_from_db, step_to_db, totp_already_enabled, REFRESH_REUSE,
};
use super::postgres::PgStore;
use super::{map_db_error, IdentityStore, Scope};
use crate::domain::time::Timestamp;
use crate::domain::{ApiKeyId, SessionId, TenantId, UserId};
use crate::error::{Error, Result};
use crate::identity::{
    email_key, ApiKey, ApiKeyAuth, LoginRecord, NewApiKey, NewSession, NewUser, RefreshOutcome,
    Session, SessionState, Throttle, TotpRecord, User, UserPatch, SYSTEM_TENANT,
};
use crate::secret::SecretString;
use crate::tenants::{NewTenant, Tenant};

/// The tenant filter's parameter: `NULL` (no filter) for the system scope.
fn scope_param(scope: Scope) -> Option<Uuid> {
    match scope {
        Scope::Tenant(tenant) => Some(tenant.as_uuid()),
        Scope::System => None,
    }
}

/// The row-level security scope of rows that belong to `tenant` (`None`: a global administrator's).
fn scope_of(tenant: Option<TenantId>) -> Scope {
    tenant.map_or(Scope::System, Scope::Tenant)
}

fn count(n: i32) -> Result<u32> {
    u32::try_from(n).map_err(|_| anyhow::anyhow!("corrupt counter {n}").into())
}

fn counter(n: u32) -> Result<i32> {
    i32::try_from(n).map_err(|_| anyhow::anyhow!("counter {n} out of range").into())
}

/// Serializes first-run setups (`pg_advisory_xact_lock` key; any fixed number would do).
const SETUP_LOCK: i64 = 0x0a0d_5e70;

/// Columns of `users`, aliased so they never collide in a join.
const USER_COLUMNS: &str = "users.id AS u_id, users.tenant_id AS u_tenant_id, \
    users.email AS u_email, users.display_name AS u_display_name, users.role AS u_role, \
    users.system_admin AS u_system_admin, users.active AS u_active, \
    users.totp_enabled AS u_totp_enabled, users.created_at AS u_created_at, \
    users.last_login_at AS u_last_login_at";

const SESSION_COLUMNS: &str = "sessions.id AS s_id, sessions.user_id AS s_user_id, \
    sessions.tenant_id AS s_tenant_id, sessions.created_at AS s_created_at, \
    sessions.last_seen_at AS s_last_seen_at, sessions.expires_at AS s_expires_at, \
    sessions.ended_at AS s_ended_at, sessions.ip AS s_ip, sessions.user_agent AS s_user_agent";

const API_KEY_COLUMNS: &str = "id, tenant_id, public_id, secret_hash, name, scopes, created_at, \
    last_used_at, expires_at, revoked_at";

fn user_from_row(row: &PgRow) -> Result<User> {
    let role: Option<String> = row.try_get("u_role")?;
    Ok(User {
        id: UserId::from_uuid(row.try_get("u_id")?),
        email: row.try_get("u_email")?,
        display_name: row.try_get("u_display_name")?,
        tenant_id: row
            .try_get::<Option<Uuid>, _>("u_tenant_id")?
            .map(TenantId::from_uuid),
        role: role.as_deref().map(role_from_text).transpose()?,
        system_admin: row.try_get("u_system_admin")?,
        active: row.try_get("u_active")?,
        totp_enabled: row.try_get("u_totp_enabled")?,
        created_at: row.try_get("u_created_at")?,
        last_login_at: row.try_get("u_last_login_at")?,
    })
}

fn session_from_row(row: &PgRow) -> Result<Session> {
    Ok(Session {
        id: SessionId::from_uuid(row.try_get("s_id")?),
        user_id: UserId::from_uuid(row.try_get("s_user_id")?),
        tenant_id: row
            .try_get::<Option<Uuid>, _>("s_tenant_id")?
            .map(TenantId::from_uuid),
        created_at: row.try_get("s_created_at")?,
        last_seen_at: row.try_get("s_last_seen_at")?,
        expires_at: row.try_get("s_expires_at")?,
        ended_at: row.try_get("s_ended_at")?,
        ip: row.try_get("s_ip")?,
        user_agent: row.try_get("s_user_agent")?,
    })
}

fn api_key_from_row(row: &PgRow) -> Result<ApiKey> {
    Ok(ApiKey {
        id: ApiKeyId::from_uuid(row.try_get("id")?),
        public_id: row.try_get("public_id")?,
        name: row.try_get("name")?,
        scopes: scopes_from_text(&row.try_get::<String, _>("scopes")?),
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

async fn fetch_user(
    conn: &mut PgConnection,
    scope: Option<Uuid>,
    id: Uuid,
) -> Result<Option<User>> {
    sqlx::query(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE users.id = $1 \
         AND ($2::uuid IS NULL OR users.tenant_id = $2)"
    ))
    .bind(id)
    .bind(scope)
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(user_from_row)
    .transpose()
}

/// The tenant and TOTP flag of a user in scope, locked for the rest of the transaction; `None` if
/// there is none.
async fn lock_user_in_scope(
    conn: &mut PgConnection,
    scope: Option<Uuid>,
    id: Uuid,
) -> Result<Option<(Option<TenantId>, bool)>> {
    let row: Option<(Option<Uuid>, bool)> = sqlx::query_as(
        "SELECT tenant_id, totp_enabled FROM users WHERE id = $1 \
         AND ($2::uuid IS NULL OR tenant_id = $2) FOR UPDATE",
    )
    .bind(id)
    .bind(scope)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(tenant, enabled)| (tenant.map(TenantId::from_uuid), enabled)))
}

async fn fetch_session_state(conn: &mut PgConnection, id: Uuid) -> Result<Option<SessionState>> {
    let row = sqlx::query(&format!(
        "SELECT {SESSION_COLUMNS}, {USER_COLUMNS}, COALESCE(tenants.require_totp, FALSE) AS require_totp \
         FROM sessions JOIN users ON users.id = sessions.user_id \
         LEFT JOIN tenants ON tenants.id = users.tenant_id WHERE sessions.id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        Ok(SessionState {
            session: session_from_row(&row)?,
            user: user_from_row(&row)?,
            tenant_requires_totp: row.try_get("require_totp")?,
        })
    })
    .transpose()
}

/// Stores a refresh token (its hash) for a session, unused.
async fn insert_refresh_token(
    conn: &mut PgConnection,
    hash: &[u8; 32],
    session: Uuid,
    tenant: Option<Uuid>,
    at: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, session_id, tenant_id, created_at, used_at) \
         VALUES ($1, $2, $3, $4, NULL)",
    )
    .bind(hash.as_slice())
    .bind(session)
    .bind(tenant)
    .bind(at)
    .execute(conn)
    .await
    .map_err(map_db_error)?;
    Ok(())
}

async fn insert_user_in(conn: &mut PgConnection, user: &NewUser) -> Result<User> {
    sqlx::query(
        "INSERT INTO users (id, tenant_id, email, email_key, display_name, role, system_admin, \
         active, password_hash, totp_enabled, created_at, last_login_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, TRUE, $8, FALSE, $9, NULL)",
    )
    .bind(user.id.as_uuid())
    .bind(user.tenant_id.map(|t| t.as_uuid()))
    .bind(&user.email)
    .bind(email_key(&user.email))
    .bind(&user.display_name)
    .bind(user.role.map(role_text))
    .bind(user.system_admin)
    .bind(user.password_hash.expose())
    .bind(user.created_at)
    .execute(conn)
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

fn system_tenant_uuid() -> Result<Uuid> {
    Uuid::parse_str(SYSTEM_TENANT)
        .map_err(|e| anyhow::anyhow!("SYSTEM_TENANT is not a uuid: {e}").into())
}

#[async_trait]
impl IdentityStore for PgStore {
    async fn any_user(&self) -> Result<bool> {
        let mut tx = self.begin_scoped(Scope::System).await?;
        let any = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users)")
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(any)
    }

    async fn insert_user(&self, user: &NewUser) -> Result<User> {
        let mut tx = self.begin_scoped(scope_of(user.tenant_id)).await?;
        let user = insert_user_in(&mut tx, user).await?;
        tx.commit().await?;
        Ok(user)
    }

    async fn login_record(&self, email_key: &str) -> Result<Option<LoginRecord>> {
        let mut tx = self.begin_scoped(Scope::System).await?;
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, users.password_hash AS password_hash, \
             COALESCE(tenants.require_totp, FALSE) AS require_totp \
             FROM users LEFT JOIN tenants ON tenants.id = users.tenant_id \
             WHERE users.email_key = $1"
        ))
        .bind(email_key)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        row.map(|row| {
            Ok(LoginRecord {
                user: user_from_row(&row)?,
                password_hash: SecretString::new(row.try_get("password_hash")?),
                tenant_requires_totp: row.try_get("require_totp")?,
            })
        })
        .transpose()
    }

    async fn get_user(&self, scope: Scope, id: UserId) -> Result<Option<User>> {
        let mut tx = self.begin_scoped(scope).await?;
        let user = fetch_user(&mut tx, scope_param(scope), id.as_uuid()).await?;
        tx.commit().await?;
        Ok(user)
    }

    async fn password_hash(&self, scope: Scope, id: UserId) -> Result<Option<SecretString>> {
        let mut tx = self.begin_scoped(scope).await?;
        let hash: Option<String> = sqlx::query_scalar(
            "SELECT password_hash FROM users WHERE id = $1 AND ($2::uuid IS NULL OR tenant_id = $2)",
        )
        .bind(id.as_uuid())
        .bind(scope_param(scope))
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(hash.map(SecretString::new))
    }

    async fn list_users(
        &self,
        tenant: TenantId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<User>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE users.tenant_id = $1 \
             AND ($2::uuid IS NULL OR users.id > $2) ORDER BY users.id LIMIT $3"
        ))
        .bind(tenant.as_uuid())
        .bind(after.map(|a| a.as_uuid()))
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn update_user(
        &self,
        scope: Scope,
        id: UserId,
        patch: &UserPatch,
    ) -> Result<Option<User>> {
        let mut tx = self.begin_scoped(scope).await?;
        let row = sqlx::query(&format!(
            "UPDATE users SET role = COALESCE($1, role), active = COALESCE($2, active), \
             display_name = CASE WHEN $3 THEN $4 ELSE display_name END \
             WHERE id = $5 AND ($6::uuid IS NULL OR tenant_id = $6) \
             RETURNING {}",
            USER_COLUMNS.replace("users.", "")
        ))
        .bind(patch.role.map(role_text))
        .bind(patch.active)
        .bind(patch.display_name.is_some())
        .bind(patch.display_name.clone().flatten())
        .bind(id.as_uuid())
        .bind(scope_param(scope))
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_db_error)?;
        tx.commit().await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn delete_user(&self, scope: Scope, id: UserId) -> Result<bool> {
        let mut tx = self.begin_scoped(scope).await?;
        let deleted =
            sqlx::query("DELETE FROM users WHERE id = $1 AND ($2::uuid IS NULL OR tenant_id = $2)")
                .bind(id.as_uuid())
                .bind(scope_param(scope))
                .execute(&mut *tx)
                .await
                .map_err(map_db_error)?
                .rows_affected();
        tx.commit().await?;
        Ok(deleted > 0)
    }

    async fn set_password_hash(&self, scope: Scope, id: UserId, hash: &SecretString) -> Result<()> {
        let mut tx = self.begin_scoped(scope).await?;
        let updated = sqlx::query(
            "UPDATE users SET password_hash = $1 WHERE id = $2 AND ($3::uuid IS NULL OR tenant_id = $3)",
        )
        .bind(hash.expose())
        .bind(id.as_uuid())
        .bind(scope_param(scope))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        match updated {
            0 => Err(no_such_user()),
            _ => Ok(()),
        }
    }

    async fn record_login(&self, scope: Scope, id: UserId, at: Timestamp) -> Result<()> {
        let mut tx = self.begin_scoped(scope).await?;
        let updated = sqlx::query(
            "UPDATE users SET last_login_at = $1 WHERE id = $2 AND ($3::uuid IS NULL OR tenant_id = $3)",
        )
        .bind(at)
        .bind(id.as_uuid())
        .bind(scope_param(scope))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        match updated {
            0 => Err(no_such_user()),
            _ => Ok(()),
        }
    }

    async fn login_throttle(&self, email_key: &str) -> Result<Option<Throttle>> {
        let row: Option<(i32, Timestamp, i32, Option<Timestamp>)> = sqlx::query_as(
            "SELECT failures, window_start, lockouts, locked_until FROM login_throttle \
             WHERE email_key = $1",
        )
        .bind(email_key)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(failures, window_start, lockouts, locked_until)| {
            Ok(Throttle {
                failures: count(failures)?,
                window_start,
                lockouts: count(lockouts)?,
                locked_until,
            })
        })
        .transpose()
    }

    async fn put_login_throttle(
        &self,
        email_key: &str,
        throttle: &Throttle,
        at: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO login_throttle (email_key, failures, window_start, lockouts, locked_until, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (email_key) DO UPDATE SET \
             failures = excluded.failures, window_start = excluded.window_start, \
             lockouts = excluded.lockouts, locked_until = excluded.locked_until, \
             updated_at = excluded.updated_at",
        )
        .bind(email_key)
        .bind(counter(throttle.failures)?)
        .bind(throttle.window_start)
        .bind(counter(throttle.lockouts)?)
        .bind(throttle.locked_until)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn clear_login_throttle(&self, email_key: &str) -> Result<bool> {
        let deleted = sqlx::query("DELETE FROM login_throttle WHERE email_key = $1")
            .bind(email_key)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(deleted > 0)
    }

    async fn put_totp_secret(
        &self,
        scope: Scope,
        user: UserId,
        key_tenant: TenantId,
        ciphertext: &[u8],
        at: Timestamp,
    ) -> Result<bool> {
        let version = crate::crypto::key_version(ciphertext)?;
        let mut tx = self.begin_scoped(scope).await?;
        let (user_tenant, enabled) =
            lock_user_in_scope(&mut tx, scope_param(scope), user.as_uuid())
                .await?
                .ok_or_else(no_such_user)?;
        if enabled {
            return Err(totp_already_enabled());
        }
        check_totp_key_tenant(user_tenant, key_tenant)?;
        // Written only while the sealing key is the tenant's active one, and the key row is
        // share-locked so a concurrent rotation cannot retire it under us (see `put_secret`).
        let written = sqlx::query(
            "INSERT INTO user_totp (user_id, tenant_id, secret_ciphertext, last_step, created_at) \
             SELECT $1, $2, $3, NULL, $4 WHERE EXISTS (SELECT 1 FROM tenant_keys \
             WHERE tenant_id = $2 AND version = $5 AND active FOR SHARE) \
             ON CONFLICT (user_id) DO UPDATE SET tenant_id = excluded.tenant_id, \
             secret_ciphertext = excluded.secret_ciphertext, last_step = NULL, \
             created_at = excluded.created_at",
        )
        .bind(user.as_uuid())
        .bind(key_tenant.as_uuid())
        .bind(ciphertext)
        .bind(at)
        .bind(i64::from(version))
        .execute(&mut *tx)
        .await
        .map_err(map_db_error)?
        .rows_affected();
        tx.commit().await?;
        Ok(written == 1)
    }

    async fn totp_secret(&self, scope: Scope, user: UserId) -> Result<Option<TotpRecord>> {
        let mut tx = self.begin_scoped(scope).await?;
        let row: Option<(Uuid, Vec<u8>, Option<i64>)> = sqlx::query_as(
            "SELECT tenant_id, secret_ciphertext, last_step FROM user_totp \
             WHERE user_id = $1 AND ($2::uuid IS NULL OR tenant_id = $2)",
        )
        .bind(user.as_uuid())
        .bind(scope_param(scope))
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        row.map(|(tenant, ciphertext, last_step)| {
            Ok(TotpRecord {
                key_tenant: TenantId::from_uuid(tenant),
                ciphertext,
                last_step: step_from_db(last_step)?,
            })
        })
        .transpose()
    }

    async fn use_totp_step(&self, scope: Scope, user: UserId, step: u64) -> Result<bool> {
        let mut tx = self.begin_scoped(scope).await?;
        let updated = sqlx::query(
            "UPDATE user_totp SET last_step = $1 WHERE user_id = $2 \
             AND (last_step IS NULL OR last_step < $1) AND ($3::uuid IS NULL OR tenant_id = $3)",
        )
        .bind(step_to_db(step)?)
        .bind(user.as_uuid())
        .bind(scope_param(scope))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(updated == 1)
    }

    async fn enable_totp(
        &self,
        scope: Scope,
        user: UserId,
        recovery_hashes: &[[u8; 32]],
    ) -> Result<()> {
        let user = user.as_uuid();
        let mut tx = self.begin_scoped(scope).await?;
        let (user_tenant, _) = lock_user_in_scope(&mut tx, scope_param(scope), user)
            .await?
            .ok_or_else(no_such_user)?;
        let has_secret: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM user_totp WHERE user_id = $1)")
                .bind(user)
                .fetch_one(&mut *tx)
                .await?;
        if !has_secret {
            return Err(Error::Conflict(
                "there is no two-factor secret to enable; set one up first".to_owned(),
            ));
        }
        sqlx::query("UPDATE users SET totp_enabled = TRUE WHERE id = $1")
            .bind(user)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user)
            .execute(&mut *tx)
            .await?;
        let hashes: Vec<Vec<u8>> = recovery_hashes.iter().map(|h| h.to_vec()).collect();
        sqlx::query(
            "INSERT INTO recovery_codes (user_id, tenant_id, code_hash, used_at) \
             SELECT $1, $2, code_hash, NULL FROM UNNEST($3::bytea[]) AS codes (code_hash) \
             ON CONFLICT DO NOTHING",
        )
        .bind(user)
        .bind(user_tenant.map(|t| t.as_uuid()))
        .bind(hashes)
        .execute(&mut *tx)
        .await
        .map_err(map_db_error)?;
        tx.commit().await?;
        Ok(())
    }

    async fn disable_totp(&self, scope: Scope, user: UserId) -> Result<()> {
        let user = user.as_uuid();
        let mut tx = self.begin_scoped(scope).await?;
        let updated = sqlx::query(
            "UPDATE users SET totp_enabled = FALSE WHERE id = $1 AND ($2::uuid IS NULL OR tenant_id = $2)",
        )
        .bind(user)
        .bind(scope_param(scope))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(no_such_user());
        }
        for sql in [
            "DELETE FROM user_totp WHERE user_id = $1",
            "DELETE FROM recovery_codes WHERE user_id = $1",
        ] {
            sqlx::query(sql).bind(user).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn use_recovery_code(
        &self,
        scope: Scope,
        user: UserId,
        hash: &[u8; 32],
        at: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.begin_scoped(scope).await?;
        let updated = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 \
             AND used_at IS NULL AND ($4::uuid IS NULL OR tenant_id = $4)",
        )
        .bind(at)
        .bind(user.as_uuid())
        .bind(hash.as_slice())
        .bind(scope_param(scope))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(updated == 1)
    }

    async fn insert_session(&self, session: &NewSession, refresh_hash: &[u8; 32]) -> Result<()> {
        let tenant = session.tenant_id.map(|t| t.as_uuid());
        let mut tx = self.begin_scoped(scope_of(session.tenant_id)).await?;
        // The session's tenant must be its user's: checked here, not trusted.
        let inserted = sqlx::query(
            "INSERT INTO sessions (id, user_id, tenant_id, created_at, last_seen_at, expires_at, \
             ended_at, end_reason, ip, user_agent) \
             SELECT $1, $2, $3, $4, $4, $5, NULL, NULL, $6, $7 \
             WHERE EXISTS (SELECT 1 FROM users WHERE id = $2 AND tenant_id IS NOT DISTINCT FROM $3)",
        )
        .bind(session.id.as_uuid())
        .bind(session.user_id.as_uuid())
        .bind(tenant)
        .bind(session.created_at)
        .bind(session.expires_at)
        .bind(&session.ip)
        .bind(&session.user_agent)
        .execute(&mut *tx)
        .await
        .map_err(map_db_error)?
        .rows_affected();
        if inserted == 0 {
            return Err(no_such_user());
        }
        insert_refresh_token(
            &mut tx,
            refresh_hash,
            session.id.as_uuid(),
            tenant,
            session.created_at,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn session_state(&self, id: SessionId) -> Result<Option<SessionState>> {
        let mut tx = self.begin_scoped(Scope::System).await?;
        let state = fetch_session_state(&mut tx, id.as_uuid()).await?;
        tx.commit().await?;
        Ok(state)
    }

    async fn touch_session(&self, id: SessionId, at: Timestamp) -> Result<()> {
        let mut tx = self.begin_scoped(Scope::System).await?;
        sqlx::query(
            "UPDATE sessions SET last_seen_at = $1 WHERE id = $2 AND ended_at IS NULL \
             AND last_seen_at < $1",
        )
        .bind(at)
        .bind(id.as_uuid())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_sessions(&self, scope: Scope, user: UserId) -> Result<Vec<Session>> {
        let mut tx = self.begin_scoped(scope).await?;
        let rows = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE sessions.user_id = $1 \
             AND sessions.ended_at IS NULL AND ($2::uuid IS NULL OR sessions.tenant_id = $2) \
             ORDER BY sessions.created_at DESC, sessions.id DESC"
        ))
        .bind(user.as_uuid())
        .bind(scope_param(scope))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter().map(session_from_row).collect()
    }

    async fn end_session(
        &self,
        scope: Scope,
        user: UserId,
        id: SessionId,
        reason: &str,
        at: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.begin_scoped(scope).await?;
        let ended = sqlx::query(
            "UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE id = $3 AND user_id = $4 \
             AND ended_at IS NULL AND ($5::uuid IS NULL OR tenant_id = $5)",
        )
        .bind(at)
        .bind(reason)
        .bind(id.as_uuid())
        .bind(user.as_uuid())
        .bind(scope_param(scope))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(ended == 1)
    }

    async fn end_user_sessions(
        &self,
        scope: Scope,
        user: UserId,
        except: Option<SessionId>,
        reason: &str,
        at: Timestamp,
    ) -> Result<Vec<SessionId>> {
        let mut tx = self.begin_scoped(scope).await?;
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE user_id = $3 \
             AND ended_at IS NULL AND ($4::uuid IS NULL OR id <> $4) \
             AND ($5::uuid IS NULL OR tenant_id = $5) RETURNING id",
        )
        .bind(at)
        .bind(reason)
        .bind(user.as_uuid())
        .bind(except.map(|e| e.as_uuid()))
        .bind(scope_param(scope))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ids.into_iter().map(SessionId::from_uuid).collect())
    }

    async fn rotate_refresh(
        &self,
        presented: &[u8; 32],
        new_hash: &[u8; 32],
        at: Timestamp,
    ) -> Result<RefreshOutcome> {
        let mut tx = self.begin_scoped(Scope::System).await?;
        // Locking the session serializes presentations of its tokens; after the wait, a
        // presentation sees the session as the one before it left it.
        let found: Option<(Uuid, Option<Uuid>, bool)> = sqlx::query_as(
            "SELECT sessions.id, sessions.tenant_id, sessions.ended_at IS NOT NULL \
             FROM refresh_tokens JOIN sessions ON sessions.id = refresh_tokens.session_id \
             WHERE refresh_tokens.token_hash = $1 FOR UPDATE OF sessions",
        )
        .bind(presented.as_slice())
        .fetch_optional(&mut *tx)
        .await?;
        let Some((session, tenant, false)) = found else {
            return Ok(RefreshOutcome::Unknown);
        };
        let marked = sqlx::query(
            "UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
        )
        .bind(at)
        .bind(presented.as_slice())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if marked == 0 {
            // Presented again after use: whoever holds it, the session is no longer safe.
            sqlx::query(
                "UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE id = $3 AND ended_at IS NULL",
            )
            .bind(at)
            .bind(REFRESH_REUSE)
            .bind(session)
            .execute(&mut *tx)
            .await?;
            let state = fetch_session_state(&mut tx, session).await?;
            tx.commit().await?;
            return Ok(state.map_or(RefreshOutcome::Unknown, RefreshOutcome::Reused));
        }
        insert_refresh_token(&mut tx, new_hash, session, tenant, at).await?;
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2 AND last_seen_at < $1")
            .bind(at)
            .bind(session)
            .execute(&mut *tx)
            .await?;
        let state = fetch_session_state(&mut tx, session).await?;
        tx.commit().await?;
        Ok(state.map_or(RefreshOutcome::Unknown, RefreshOutcome::Rotated))
    }

    async fn insert_api_key(&self, key: &NewApiKey) -> Result<ApiKey> {
        let mut tx = self.begin_scoped(Scope::Tenant(key.tenant_id)).await?;
        sqlx::query(&format!(
            "INSERT INTO api_keys ({API_KEY_COLUMNS}, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, NULL, $9)"
        ))
        .bind(key.id.as_uuid())
        .bind(key.tenant_id.as_uuid())
        .bind(&key.public_id)
        .bind(key.secret_hash.as_slice())
        .bind(&key.name)
        .bind(scopes_text(&key.scopes))
        .bind(key.created_at)
        .bind(key.expires_at)
        .bind(key.created_by.map(|u| u.as_uuid()))
        .execute(&mut *tx)
        .await
        .map_err(map_db_error)?;
        tx.commit().await?;
        Ok(ApiKey {
            id: key.id,
            public_id: key.public_id.clone(),
            name: key.name.clone(),
            scopes: key.scopes.clone(),
            created_at: key.created_at,
            last_used_at: None,
            expires_at: key.expires_at,
            revoked_at: None,
        })
    }

    async fn list_api_keys(&self, tenant: TenantId) -> Result<Vec<ApiKey>> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let rows = sqlx::query(&format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 AND revoked_at IS NULL \
             ORDER BY created_at, id"
        ))
        .bind(tenant.as_uuid())
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter().map(api_key_from_row).collect()
    }

    async fn revoke_api_key(&self, tenant: TenantId, id: ApiKeyId, at: Timestamp) -> Result<bool> {
        let mut tx = self.begin_scoped(Scope::Tenant(tenant)).await?;
        let revoked = sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND tenant_id = $3 \
             AND revoked_at IS NULL",
        )
        .bind(at)
        .bind(id.as_uuid())
        .bind(tenant.as_uuid())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(revoked == 1)
    }

    async fn api_key_by_public_id(&self, public_id: &str) -> Result<Option<ApiKeyAuth>> {
        let mut tx = self.begin_scoped(Scope::System).await?;
        let row = sqlx::query(&format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE public_id = $1"
        ))
        .bind(public_id)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        row.map(|row| {
            Ok(ApiKeyAuth {
                key: api_key_from_row(&row)?,
                tenant_id: TenantId::from_uuid(row.try_get("tenant_id")?),
                secret_hash: row.try_get("secret_hash")?,
            })
        })
        .transpose()
    }

    async fn touch_api_key(&self, id: ApiKeyId, at: Timestamp) -> Result<()> {
        let mut tx = self.begin_scoped(Scope::System).await?;
        sqlx::query(
            "UPDATE api_keys SET last_used_at = $1 WHERE id = $2 \
             AND (last_used_at IS NULL OR last_used_at < $1)",
        )
        .bind(at)
        .bind(id.as_uuid())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn tenant_requires_totp(&self, tenant: TenantId) -> Result<bool> {
        let required: Option<bool> =
            sqlx::query_scalar("SELECT require_totp FROM tenants WHERE id = $1 AND id <> $2")
                .bind(tenant.as_uuid())
                .bind(system_tenant_uuid()?)
                .fetch_optional(&self.pool)
                .await?;
        required.ok_or(Error::NotFound)
    }

    async fn set_tenant_requires_totp(&self, tenant: TenantId, required: bool) -> Result<()> {
        let updated =
            sqlx::query("UPDATE tenants SET require_totp = $1 WHERE id = $2 AND id <> $3")
                .bind(required)
                .bind(tenant.as_uuid())
                .bind(system_tenant_uuid()?)
                .execute(&self.pool)
                .await?
                .rows_affected();
        match updated {
            0 => Err(Error::NotFound),
            _ => Ok(()),
        }
    }

    async fn replace_setup_token(
        &self,
        hash: &[u8; 32],
        created_at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM setup_tokens WHERE used_at IS NULL")
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO setup_tokens (token_hash, created_at, expires_at, used_at) \
             VALUES ($1, $2, $3, NULL)",
        )
        .bind(hash.as_slice())
        .bind(created_at)
        .bind(expires_at)
        .execute(&mut *tx)
        .await
        .map_err(map_db_error)?;
        tx.commit().await?;
        Ok(())
    }

    async fn complete_setup(
        &self,
        hash: &[u8; 32],
        at: Timestamp,
        tenant: &NewTenant,
        user: &NewUser,
    ) -> Result<Option<(Tenant, User)>> {
        // Dropping the transaction without commit rolls back: every `None` leaves nothing changed.
        let mut tx = self.begin_scoped(Scope::System).await?;
        // Two setups at once (several instances) take turns, so the second sees the first's user.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(SETUP_LOCK)
            .execute(&mut *tx)
            .await?;
        let any_user: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users)")
            .fetch_one(&mut *tx)
            .await?;
        if any_user {
            return Ok(None);
        }
        let used = sqlx::query(
            "UPDATE setup_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL \
             AND expires_at > $1",
        )
        .bind(at)
        .bind(hash.as_slice())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if used == 0 {
            return Ok(None);
        }
        let created = Tenant {
            id: TenantId::new(),
            slug: tenant.slug.clone(),
            name: tenant.name.clone(),
            created_at: at,
        };
        sqlx::query("INSERT INTO tenants (id, slug, name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(created.id.as_uuid())
            .bind(&created.slug)
            .bind(&created.name)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(map_db_error)?;
        let first = insert_user_in(&mut tx, &setup_user(user, created.id)).await?;
        tx.commit().await?;
        Ok(Some((created, first)))
    }
}
