//! Identity storage on SQLite: ids and times as text (`domain::time::to_text`), booleans as
//! integers.
//!
//! Every scoped call filters with `(?N IS NULL OR tenant_id = ?N)`, where the system scope binds
//! `NULL`. Read-then-write transactions start with `BEGIN IMMEDIATE`, so a concurrent writer makes
//! them wait instead of failing on the lock upgrade. Single-use marks (TOTP steps, recovery codes,
//! refresh tokens, the setup token) are conditional UPDATEs: of two racing uses, one wins.

use std::fmt::Display;
use std::str::FromStr;

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use super::identity::{
    check_totp_key_tenant, no_such_user, role_from_text, role_text, scopes_from_text, scopes_text,
    setup_user, step_from_db, step_to_db, totp_already_enabled, REFRESH_REUSE,
};
use super::SqliteStore;
use super::{map_db_error, IdentityStore, Scope};
use crate::domain::time::{self, Timestamp};
use crate::domain::{ApiKeyId, SessionId, TenantId, UserId};
use crate::error::{Error, Result};
use crate::identity::{
    email_key, ApiKey, ApiKeyAuth, LoginRecord, NewApiKey, NewSession, NewUser, RefreshOutcome,
    Session, SessionState, Throttle, TotpRecord, User, UserPatch, SYSTEM_TENANT,
};
use crate::secret::SecretString;
use crate::tenants::{NewTenant, Tenant};

/// The tenant filter's parameter: `NULL` (no filter) for the system scope.
fn scope_param(scope: Scope) -> Option<String> {
    match scope {
        Scope::Tenant(tenant) => Some(tenant.to_string()),
        Scope::System => None,
    }
}

fn parse<T>(what: &str, text: &str) -> Result<T>
where
    T: FromStr,
    T::Err: Display,
{
    text.parse()
        .map_err(|e| anyhow::anyhow!("corrupt {what} {text:?}: {e}").into())
}

fn time_of(text: &str) -> Result<Timestamp> {
    time::from_text(text).map_err(|e| anyhow::anyhow!("corrupt time {text:?}: {e}").into())
}

fn opt_time(text: Option<String>) -> Result<Option<Timestamp>> {
    text.as_deref().map(time_of).transpose()
}

fn opt_text(t: Option<&Timestamp>) -> Option<String> {
    t.map(time::to_text)
}

fn count(n: i64) -> Result<u32> {
    u32::try_from(n).map_err(|_| anyhow::anyhow!("corrupt counter {n}").into())
}

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

fn user_from_row(row: &SqliteRow) -> Result<User> {
    let tenant: Option<String> = row.try_get("u_tenant_id")?;
    let role: Option<String> = row.try_get("u_role")?;
    Ok(User {
        id: parse("user id", &row.try_get::<String, _>("u_id")?)?,
        email: row.try_get("u_email")?,
        display_name: row.try_get("u_display_name")?,
        tenant_id: tenant
            .as_deref()
            .map(|t| parse("tenant id", t))
            .transpose()?,
        role: role.as_deref().map(role_from_text).transpose()?,
        system_admin: row.try_get("u_system_admin")?,
        active: row.try_get("u_active")?,
        totp_enabled: row.try_get("u_totp_enabled")?,
        created_at: time_of(&row.try_get::<String, _>("u_created_at")?)?,
        last_login_at: opt_time(row.try_get("u_last_login_at")?)?,
    })
}

fn session_from_row(row: &SqliteRow) -> Result<Session> {
    let tenant: Option<String> = row.try_get("s_tenant_id")?;
    Ok(Session {
        id: parse("session id", &row.try_get::<String, _>("s_id")?)?,
        user_id: parse("user id", &row.try_get::<String, _>("s_user_id")?)?,
        tenant_id: tenant
            .as_deref()
            .map(|t| parse("tenant id", t))
            .transpose()?,
        created_at: time_of(&row.try_get::<String, _>("s_created_at")?)?,
        last_seen_at: time_of(&row.try_get::<String, _>("s_last_seen_at")?)?,
        expires_at: time_of(&row.try_get::<String, _>("s_expires_at")?)?,
        ended_at: opt_time(row.try_get("s_ended_at")?)?,
        ip: row.try_get("s_ip")?,
        user_agent: row.try_get("s_user_agent")?,
    })
}

fn api_key_from_row(row: &SqliteRow) -> Result<ApiKey> {
    Ok(ApiKey {
        id: parse("API key id", &row.try_get::<String, _>("id")?)?,
        public_id: row.try_get("public_id")?,
        name: row.try_get("name")?,
        scopes: scopes_from_text(&row.try_get::<String, _>("scopes")?),
        created_at: time_of(&row.try_get::<String, _>("created_at")?)?,
        last_used_at: opt_time(row.try_get("last_used_at")?)?,
        expires_at: opt_time(row.try_get("expires_at")?)?,
        revoked_at: opt_time(row.try_get("revoked_at")?)?,
    })
}

async fn fetch_user(
    conn: &mut SqliteConnection,
    scope: Option<&str>,
    id: &str,
) -> Result<Option<User>> {
    sqlx::query(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE users.id = ?1 AND (?2 IS NULL OR users.tenant_id = ?2)"
    ))
    .bind(id)
    .bind(scope)
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(user_from_row)
    .transpose()
}

/// The tenant and TOTP flag of a user in scope, `None` if there is none.
async fn user_tenant_in_scope(
    conn: &mut SqliteConnection,
    scope: Option<&str>,
    id: &str,
) -> Result<Option<(Option<TenantId>, bool)>> {
    let row: Option<(Option<String>, bool)> = sqlx::query_as(
        "SELECT tenant_id, totp_enabled FROM users WHERE id = ?1 AND (?2 IS NULL OR tenant_id = ?2)",
    )
    .bind(id)
    .bind(scope)
    .fetch_optional(conn)
    .await?;
    row.map(|(tenant, enabled)| {
        Ok((
            tenant
                .as_deref()
                .map(|t| parse("tenant id", t))
                .transpose()?,
            enabled,
        ))
    })
    .transpose()
}

async fn fetch_session_state(
    conn: &mut SqliteConnection,
    id: &str,
) -> Result<Option<SessionState>> {
    let row = sqlx::query(&format!(
        "SELECT {SESSION_COLUMNS}, {USER_COLUMNS}, COALESCE(tenants.require_totp, 0) AS require_totp \
         FROM sessions JOIN users ON users.id = sessions.user_id \
         LEFT JOIN tenants ON tenants.id = users.tenant_id WHERE sessions.id = ?"
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
    conn: &mut SqliteConnection,
    hash: &[u8; 32],
    session: &str,
    tenant: Option<&str>,
    at: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, session_id, tenant_id, created_at, used_at) \
         VALUES (?, ?, ?, ?, NULL)",
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

async fn insert_user_in(conn: &mut SqliteConnection, user: &NewUser) -> Result<User> {
    sqlx::query(
        "INSERT INTO users (id, tenant_id, email, email_key, display_name, role, system_admin, \
         active, password_hash, totp_enabled, created_at, last_login_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, 0, ?, NULL)",
    )
    .bind(user.id.to_string())
    .bind(user.tenant_id.map(|t| t.to_string()))
    .bind(&user.email)
    .bind(email_key(&user.email))
    .bind(&user.display_name)
    .bind(user.role.map(role_text))
    .bind(user.system_admin)
    .bind(user.password_hash.expose())
    .bind(time::to_text(&user.created_at))
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

#[async_trait]
impl IdentityStore for SqliteStore {
    async fn any_user(&self) -> Result<bool> {
        Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users)")
            .fetch_one(&self.pool)
            .await?)
    }

    async fn insert_user(&self, user: &NewUser) -> Result<User> {
        let mut conn = self.pool.acquire().await?;
        insert_user_in(&mut conn, user).await
    }

    async fn login_record(&self, email_key: &str) -> Result<Option<LoginRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, users.password_hash AS password_hash, \
             COALESCE(tenants.require_totp, 0) AS require_totp \
             FROM users LEFT JOIN tenants ON tenants.id = users.tenant_id \
             WHERE users.email_key = ?"
        ))
        .bind(email_key)
        .fetch_optional(&self.pool)
        .await?;
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
        let mut conn = self.pool.acquire().await?;
        fetch_user(&mut conn, scope_param(scope).as_deref(), &id.to_string()).await
    }

    async fn password_hash(&self, scope: Scope, id: UserId) -> Result<Option<SecretString>> {
        let hash: Option<String> = sqlx::query_scalar(
            "SELECT password_hash FROM users WHERE id = ?1 AND (?2 IS NULL OR tenant_id = ?2)",
        )
        .bind(id.to_string())
        .bind(scope_param(scope))
        .fetch_optional(&self.pool)
        .await?;
        Ok(hash.map(SecretString::new))
    }

    async fn list_users(
        &self,
        tenant: TenantId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<User>> {
        sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE users.tenant_id = ? AND users.id > ? \
             ORDER BY users.id LIMIT ?"
        ))
        .bind(tenant.to_string())
        .bind(after.map(|a| a.to_string()).unwrap_or_default())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(user_from_row)
        .collect()
    }

    async fn update_user(
        &self,
        scope: Scope,
        id: UserId,
        patch: &UserPatch,
    ) -> Result<Option<User>> {
        let scope = scope_param(scope);
        let id = id.to_string();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let updated = sqlx::query(
            "UPDATE users SET role = COALESCE(?1, role), active = COALESCE(?2, active), \
             display_name = CASE WHEN ?3 THEN ?4 ELSE display_name END \
             WHERE id = ?5 AND (?6 IS NULL OR tenant_id = ?6)",
        )
        .bind(patch.role.map(role_text))
        .bind(patch.active)
        .bind(patch.display_name.is_some())
        .bind(patch.display_name.clone().flatten())
        .bind(&id)
        .bind(&scope)
        .execute(&mut *tx)
        .await
        .map_err(map_db_error)?
        .rows_affected();
        if updated == 0 {
            return Ok(None);
        }
        let user = fetch_user(&mut tx, scope.as_deref(), &id).await?;
        tx.commit().await?;
        Ok(user)
    }

    async fn delete_user(&self, scope: Scope, id: UserId) -> Result<bool> {
        let deleted =
            sqlx::query("DELETE FROM users WHERE id = ?1 AND (?2 IS NULL OR tenant_id = ?2)")
                .bind(id.to_string())
                .bind(scope_param(scope))
                .execute(&self.pool)
                .await
                .map_err(map_db_error)?
                .rows_affected();
        Ok(deleted > 0)
    }

    async fn set_password_hash(&self, scope: Scope, id: UserId, hash: &SecretString) -> Result<()> {
        let updated = sqlx::query(
            "UPDATE users SET password_hash = ?1 WHERE id = ?2 AND (?3 IS NULL OR tenant_id = ?3)",
        )
        .bind(hash.expose())
        .bind(id.to_string())
        .bind(scope_param(scope))
        .execute(&self.pool)
        .await?
        .rows_affected();
        match updated {
            0 => Err(no_such_user()),
            _ => Ok(()),
        }
    }

    async fn record_login(&self, scope: Scope, id: UserId, at: Timestamp) -> Result<()> {
        let updated = sqlx::query(
            "UPDATE users SET last_login_at = ?1 WHERE id = ?2 AND (?3 IS NULL OR tenant_id = ?3)",
        )
        .bind(time::to_text(&at))
        .bind(id.to_string())
        .bind(scope_param(scope))
        .execute(&self.pool)
        .await?
        .rows_affected();
        match updated {
            0 => Err(no_such_user()),
            _ => Ok(()),
        }
    }

    async fn login_throttle(&self, email_key: &str) -> Result<Option<Throttle>> {
        let row: Option<(i64, String, i64, Option<String>)> = sqlx::query_as(
            "SELECT failures, window_start, lockouts, locked_until FROM login_throttle \
             WHERE email_key = ?",
        )
        .bind(email_key)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(failures, window_start, lockouts, locked_until)| {
            Ok(Throttle {
                failures: count(failures)?,
                window_start: time_of(&window_start)?,
                lockouts: count(lockouts)?,
                locked_until: opt_time(locked_until)?,
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
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (email_key) DO UPDATE SET \
             failures = excluded.failures, window_start = excluded.window_start, \
             lockouts = excluded.lockouts, locked_until = excluded.locked_until, \
             updated_at = excluded.updated_at",
        )
        .bind(email_key)
        .bind(i64::from(throttle.failures))
        .bind(time::to_text(&throttle.window_start))
        .bind(i64::from(throttle.lockouts))
        .bind(opt_text(throttle.locked_until.as_ref()))
        .bind(time::to_text(&at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn clear_login_throttle(&self, email_key: &str) -> Result<bool> {
        let deleted = sqlx::query("DELETE FROM login_throttle WHERE email_key = ?")
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
        let user = user.to_string();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let (user_tenant, enabled) =
            user_tenant_in_scope(&mut tx, scope_param(scope).as_deref(), &user)
                .await?
                .ok_or_else(no_such_user)?;
        if enabled {
            return Err(totp_already_enabled());
        }
        check_totp_key_tenant(user_tenant, key_tenant)?;
        // Written only while the sealing key is the tenant's active one (see `put_secret`).
        let written = sqlx::query(
            "INSERT INTO user_totp (user_id, tenant_id, secret_ciphertext, last_step, created_at) \
             SELECT ?1, ?2, ?3, NULL, ?4 WHERE EXISTS (SELECT 1 FROM tenant_keys \
             WHERE tenant_id = ?2 AND version = ?5 AND active = 1) \
             ON CONFLICT (user_id) DO UPDATE SET tenant_id = excluded.tenant_id, \
             secret_ciphertext = excluded.secret_ciphertext, last_step = NULL, \
             created_at = excluded.created_at",
        )
        .bind(&user)
        .bind(key_tenant.to_string())
        .bind(ciphertext)
        .bind(time::to_text(&at))
        .bind(i64::from(version))
        .execute(&mut *tx)
        .await
        .map_err(map_db_error)?
        .rows_affected();
        tx.commit().await?;
        Ok(written == 1)
    }

    async fn totp_secret(&self, scope: Scope, user: UserId) -> Result<Option<TotpRecord>> {
        let row: Option<(String, Vec<u8>, Option<i64>)> = sqlx::query_as(
            "SELECT tenant_id, secret_ciphertext, last_step FROM user_totp \
             WHERE user_id = ?1 AND (?2 IS NULL OR tenant_id = ?2)",
        )
        .bind(user.to_string())
        .bind(scope_param(scope))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(tenant, ciphertext, last_step)| {
            Ok(TotpRecord {
                key_tenant: parse("tenant id", &tenant)?,
                ciphertext,
                last_step: step_from_db(last_step)?,
            })
        })
        .transpose()
    }

    async fn use_totp_step(&self, scope: Scope, user: UserId, step: u64) -> Result<bool> {
        let updated = sqlx::query(
            "UPDATE user_totp SET last_step = ?1 WHERE user_id = ?2 \
             AND (last_step IS NULL OR last_step < ?1) AND (?3 IS NULL OR tenant_id = ?3)",
        )
        .bind(step_to_db(step)?)
        .bind(user.to_string())
        .bind(scope_param(scope))
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(updated == 1)
    }

    async fn enable_totp(
        &self,
        scope: Scope,
        user: UserId,
        recovery_hashes: &[[u8; 32]],
    ) -> Result<()> {
        let user = user.to_string();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let (user_tenant, _) = user_tenant_in_scope(&mut tx, scope_param(scope).as_deref(), &user)
            .await?
            .ok_or_else(no_such_user)?;
        let has_secret: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM user_totp WHERE user_id = ?)")
                .bind(&user)
                .fetch_one(&mut *tx)
                .await?;
        if !has_secret {
            return Err(Error::Conflict(
                "there is no two-factor secret to enable; set one up first".to_owned(),
            ));
        }
        sqlx::query("UPDATE users SET totp_enabled = 1 WHERE id = ?")
            .bind(&user)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = ?")
            .bind(&user)
            .execute(&mut *tx)
            .await?;
        let user_tenant = user_tenant.map(|t| t.to_string());
        for hash in recovery_hashes {
            sqlx::query(
                "INSERT INTO recovery_codes (user_id, tenant_id, code_hash, used_at) \
                 VALUES (?, ?, ?, NULL) ON CONFLICT DO NOTHING",
            )
            .bind(&user)
            .bind(&user_tenant)
            .bind(hash.as_slice())
            .execute(&mut *tx)
            .await
            .map_err(map_db_error)?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn disable_totp(&self, scope: Scope, user: UserId) -> Result<()> {
        let user = user.to_string();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let updated = sqlx::query(
            "UPDATE users SET totp_enabled = 0 WHERE id = ?1 AND (?2 IS NULL OR tenant_id = ?2)",
        )
        .bind(&user)
        .bind(scope_param(scope))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(no_such_user());
        }
        for sql in [
            "DELETE FROM user_totp WHERE user_id = ?",
            "DELETE FROM recovery_codes WHERE user_id = ?",
        ] {
            sqlx::query(sql).bind(&user).execute(&mut *tx).await?;
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
        let updated = sqlx::query(
            "UPDATE recovery_codes SET used_at = ?1 WHERE user_id = ?2 AND code_hash = ?3 \
             AND used_at IS NULL AND (?4 IS NULL OR tenant_id = ?4)",
        )
        .bind(time::to_text(&at))
        .bind(user.to_string())
        .bind(hash.as_slice())
        .bind(scope_param(scope))
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(updated == 1)
    }

    async fn insert_session(&self, session: &NewSession, refresh_hash: &[u8; 32]) -> Result<()> {
        let id = session.id.to_string();
        let tenant = session.tenant_id.map(|t| t.to_string());
        let created = time::to_text(&session.created_at);
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        // The session's tenant must be its user's: checked here, not trusted.
        let inserted = sqlx::query(
            "INSERT INTO sessions (id, user_id, tenant_id, created_at, last_seen_at, expires_at, \
             ended_at, end_reason, ip, user_agent) \
             SELECT ?1, ?2, ?3, ?4, ?4, ?5, NULL, NULL, ?6, ?7 \
             WHERE EXISTS (SELECT 1 FROM users WHERE id = ?2 AND tenant_id IS ?3)",
        )
        .bind(&id)
        .bind(session.user_id.to_string())
        .bind(&tenant)
        .bind(&created)
        .bind(time::to_text(&session.expires_at))
        .bind(&session.ip)
        .bind(&session.user_agent)
        .execute(&mut *tx)
        .await
        .map_err(map_db_error)?
        .rows_affected();
        if inserted == 0 {
            return Err(no_such_user());
        }
        insert_refresh_token(&mut tx, refresh_hash, &id, tenant.as_deref(), &created).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn session_state(&self, id: SessionId) -> Result<Option<SessionState>> {
        let mut conn = self.pool.acquire().await?;
        fetch_session_state(&mut conn, &id.to_string()).await
    }

    async fn touch_session(&self, id: SessionId, at: Timestamp) -> Result<()> {
        sqlx::query(
            "UPDATE sessions SET last_seen_at = ?1 WHERE id = ?2 AND ended_at IS NULL \
             AND last_seen_at < ?1",
        )
        .bind(time::to_text(&at))
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn list_sessions(&self, scope: Scope, user: UserId) -> Result<Vec<Session>> {
        sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE sessions.user_id = ?1 \
             AND sessions.ended_at IS NULL AND (?2 IS NULL OR sessions.tenant_id = ?2) \
             ORDER BY sessions.created_at DESC, sessions.id DESC"
        ))
        .bind(user.to_string())
        .bind(scope_param(scope))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(session_from_row)
        .collect()
    }

    async fn end_session(
        &self,
        scope: Scope,
        user: UserId,
        id: SessionId,
        reason: &str,
        at: Timestamp,
    ) -> Result<bool> {
        let ended = sqlx::query(
            "UPDATE sessions SET ended_at = ?1, end_reason = ?2 WHERE id = ?3 AND user_id = ?4 \
             AND ended_at IS NULL AND (?5 IS NULL OR tenant_id = ?5)",
        )
        .bind(time::to_text(&at))
        .bind(reason)
        .bind(id.to_string())
        .bind(user.to_string())
        .bind(scope_param(scope))
        .execute(&self.pool)
        .await?
        .rows_affected();
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
        let ids: Vec<String> = sqlx::query_scalar(
            "UPDATE sessions SET ended_at = ?1, end_reason = ?2 WHERE user_id = ?3 \
             AND ended_at IS NULL AND (?4 IS NULL OR id <> ?4) AND (?5 IS NULL OR tenant_id = ?5) \
             RETURNING id",
        )
        .bind(time::to_text(&at))
        .bind(reason)
        .bind(user.to_string())
        .bind(except.map(|e| e.to_string()))
        .bind(scope_param(scope))
        .fetch_all(&self.pool)
        .await?;
        ids.iter().map(|id| parse("session id", id)).collect()
    }

    async fn rotate_refresh(
        &self,
        presented: &[u8; 32],
        new_hash: &[u8; 32],
        at: Timestamp,
    ) -> Result<RefreshOutcome> {
        let at = time::to_text(&at);
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let found: Option<(String, Option<String>, bool)> = sqlx::query_as(
            "SELECT sessions.id, sessions.tenant_id, sessions.ended_at IS NOT NULL \
             FROM refresh_tokens JOIN sessions ON sessions.id = refresh_tokens.session_id \
             WHERE refresh_tokens.token_hash = ?",
        )
        .bind(presented.as_slice())
        .fetch_optional(&mut *tx)
        .await?;
        let Some((session, tenant, false)) = found else {
            return Ok(RefreshOutcome::Unknown);
        };
        let marked = sqlx::query(
            "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL",
        )
        .bind(&at)
        .bind(presented.as_slice())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if marked == 0 {
            // Presented again after use: whoever holds it, the session is no longer safe.
            sqlx::query(
                "UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL",
            )
            .bind(&at)
            .bind(REFRESH_REUSE)
            .bind(&session)
            .execute(&mut *tx)
            .await?;
            let state = fetch_session_state(&mut tx, &session).await?;
            tx.commit().await?;
            return Ok(state.map_or(RefreshOutcome::Unknown, RefreshOutcome::Reused));
        }
        insert_refresh_token(&mut tx, new_hash, &session, tenant.as_deref(), &at).await?;
        sqlx::query("UPDATE sessions SET last_seen_at = ?1 WHERE id = ?2 AND last_seen_at < ?1")
            .bind(&at)
            .bind(&session)
            .execute(&mut *tx)
            .await?;
        let state = fetch_session_state(&mut tx, &session).await?;
        tx.commit().await?;
        Ok(state.map_or(RefreshOutcome::Unknown, RefreshOutcome::Rotated))
    }

    async fn insert_api_key(&self, key: &NewApiKey) -> Result<ApiKey> {
        sqlx::query(&format!(
            "INSERT INTO api_keys ({API_KEY_COLUMNS}, created_by) \
             VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, NULL, ?)"
        ))
        .bind(key.id.to_string())
        .bind(key.tenant_id.to_string())
        .bind(&key.public_id)
        .bind(key.secret_hash.as_slice())
        .bind(&key.name)
        .bind(scopes_text(&key.scopes))
        .bind(time::to_text(&key.created_at))
        .bind(opt_text(key.expires_at.as_ref()))
        .bind(key.created_by.map(|u| u.to_string()))
        .execute(&self.pool)
        .await
        .map_err(map_db_error)?;
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
        sqlx::query(&format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE tenant_id = ? AND revoked_at IS NULL \
             ORDER BY created_at, id"
        ))
        .bind(tenant.to_string())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(api_key_from_row)
        .collect()
    }

    async fn revoke_api_key(&self, tenant: TenantId, id: ApiKeyId, at: Timestamp) -> Result<bool> {
        let revoked = sqlx::query(
            "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND tenant_id = ? AND revoked_at IS NULL",
        )
        .bind(time::to_text(&at))
        .bind(id.to_string())
        .bind(tenant.to_string())
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(revoked == 1)
    }

    async fn api_key_by_public_id(&self, public_id: &str) -> Result<Option<ApiKeyAuth>> {
        let row = sqlx::query(&format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE public_id = ?"
        ))
        .bind(public_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(ApiKeyAuth {
                key: api_key_from_row(&row)?,
                tenant_id: parse("tenant id", &row.try_get::<String, _>("tenant_id")?)?,
                secret_hash: row.try_get("secret_hash")?,
            })
        })
        .transpose()
    }

    async fn touch_api_key(&self, id: ApiKeyId, at: Timestamp) -> Result<()> {
        sqlx::query(
            "UPDATE api_keys SET last_used_at = ?1 WHERE id = ?2 \
             AND (last_used_at IS NULL OR last_used_at < ?1)",
        )
        .bind(time::to_text(&at))
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn tenant_requires_totp(&self, tenant: TenantId) -> Result<bool> {
        let required: Option<bool> =
            sqlx::query_scalar("SELECT require_totp FROM tenants WHERE id = ?1 AND id <> ?2")
                .bind(tenant.to_string())
                .bind(SYSTEM_TENANT)
                .fetch_optional(&self.pool)
                .await?;
        required.ok_or(Error::NotFound)
    }

    async fn set_tenant_requires_totp(&self, tenant: TenantId, required: bool) -> Result<()> {
        let updated =
            sqlx::query("UPDATE tenants SET require_totp = ?1 WHERE id = ?2 AND id <> ?3")
                .bind(required)
                .bind(tenant.to_string())
                .bind(SYSTEM_TENANT)
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
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("DELETE FROM setup_tokens WHERE used_at IS NULL")
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO setup_tokens (token_hash, created_at, expires_at, used_at) \
             VALUES (?, ?, ?, NULL)",
        )
        .bind(hash.as_slice())
        .bind(time::to_text(&created_at))
        .bind(time::to_text(&expires_at))
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
        let at_text = time::to_text(&at);
        // Dropping the transaction without commit rolls back: every `None` leaves nothing changed.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let any_user: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users)")
            .fetch_one(&mut *tx)
            .await?;
        if any_user {
            return Ok(None);
        }
        let used = sqlx::query(
            "UPDATE setup_tokens SET used_at = ?1 WHERE token_hash = ?2 AND used_at IS NULL \
             AND expires_at > ?1",
        )
        .bind(&at_text)
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
        sqlx::query("INSERT INTO tenants (id, slug, name, created_at) VALUES (?, ?, ?, ?)")
            .bind(created.id.to_string())
            .bind(&created.slug)
            .bind(&created.name)
            .bind(&at_text)
            .execute(&mut *tx)
            .await
            .map_err(map_db_error)?;
        let first = setup_user(user, created.id);
        let first = insert_user_in(&mut tx, &first).await?;
        tx.commit().await?;
        Ok(Some((created, first)))
    }
}
