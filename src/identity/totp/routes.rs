//! `/api/v1/auth/totp/{setup,enable,disable}`: turning two-factor authentication on and off.
//!
//! Invariant: the secret is stored only sealed by the keyring (with the user's tenant's data key,
//! or the reserved system tenant's for a global administrator) and shown once, at setup; recovery
//! codes are shown once, at enable, and stored as hashes. Enabling TOTP ends every other session
//! of the user (they were opened with the password alone). Turning TOTP off takes the password and
//! a current code, and a wrong one counts towards the lockout.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::auth::Principal;
use crate::crypto::USER_TOTP_SECRET;
use crate::domain::time;
use crate::error::{Error, FieldError, Result};
use crate::identity::credentials::password::Verified;
use crate::identity::credentials::totp_codes::TotpSecret;
use crate::identity::login::attempts::Attempt;
use crate::identity::login::routes::MAX_PASSWORD;
use crate::identity::login::second_factor::{self, key_tenant};
use crate::identity::request::session_user;
use crate::identity::sessions::service as sessions;
use crate::identity::IdentityState;
use crate::identity::{TenantScope, User};
use crate::secret::SecretString;
use crate::web::{ClientIp, ValidJson, Validate};

const ISSUER: &str = "AuditPulse";
/// Sealing races with a data key rotation at most this often before giving up.
const SEAL_ATTEMPTS: usize = 3;

#[derive(Serialize, utoipa::ToSchema)]
pub struct TotpSetup {
    /// The base32 secret, for apps that cannot scan the URI. Shown only now.
    pub secret: String,
    /// `otpauth://totp/...`: show it as a QR code.
    pub otpauth_uri: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct EnableTotp {
    /// The current six-digit code of the authenticator app.
    #[schema(value_type = String)]
    pub code: SecretString,
}

impl Validate for EnableTotp {}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TotpEnabled {
    pub enabled: bool,
    /// Ten single-use codes that stand in for a TOTP code at login. Shown only now.
    pub recovery_codes: Vec<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct DisableTotp {
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
    /// A current TOTP code or a recovery code.
    #[schema(value_type = String)]
    pub code: SecretString,
}

impl Validate for DisableTotp {
    fn validate(&self) -> Vec<FieldError> {
        if self.password.expose().chars().count() > MAX_PASSWORD {
            vec![FieldError::new(
                "password",
                "must be at most 1024 characters",
            )]
        } else {
            Vec::new()
        }
    }
}

/// The caller, read fresh from the store.
async fn caller(state: &IdentityState, principal: &Principal, scope: TenantScope) -> Result<User> {
    let id = session_user(principal)?;
    state
        .store
        .get_user(scope.scope(), id)
        .await?
        .ok_or(Error::Unauthenticated)
}

fn already_enabled() -> Error {
    Error::Conflict("two-factor authentication is already enabled; disable it first".to_owned())
}

fn admin_action(
    state: &IdentityState,
    principal: &Principal,
    ip: ClientIp,
    user: &User,
    action: &'static str,
) {
    let target = Some(("user", user.id.to_string()));
    state.admin_action(
        principal,
        ip,
        action,
        target,
        user.tenant_id,
        serde_json::json!({}),
    );
}

/// Start enrolling: a new secret to load into an authenticator app.
#[utoipa::path(post, path = "/api/v1/auth/totp/setup", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = TotpSetup), (status = 409, body = crate::web::ErrorEnvelope, description = "already enabled")))]
pub async fn setup(
    State(state): State<IdentityState>,
    principal: Principal,
    scope: TenantScope,
) -> Result<Json<TotpSetup>> {
    let user = caller(&state, &principal, scope).await?;
    if user.totp_enabled {
        return Err(already_enabled());
    }
    let secret = TotpSecret::generate();
    let key_tenant = key_tenant(&user)?;
    let row = user.id.to_string();
    let mut stored = false;
    for _ in 0..SEAL_ATTEMPTS {
        let sealed = state
            .keyring
            .encrypt(key_tenant, USER_TOTP_SECRET.row(&row), secret.bytes())
            .await?;
        stored = state
            .store
            .put_totp_secret(scope.scope(), user.id, key_tenant, &sealed, time::now())
            .await?;
        if stored {
            break;
        }
    }
    if !stored {
        return Err(Error::Unavailable(
            "the data key is being rotated; retry".into(),
        ));
    }
    let (base32, uri) = secret.provisioning(ISSUER, &user.email);
    Ok(Json(TotpSetup {
        secret: base32.expose().clone(),
        otpauth_uri: uri.expose().clone(),
    }))
}

/// Finish enrolling with a current code: TOTP is on, the recovery codes are shown once, and every
/// other session of the user ends.
#[utoipa::path(post, path = "/api/v1/auth/totp/enable", tag = "auth", request_body = EnableTotp,
    security(("bearer" = [])),
    responses((status = 200, body = TotpEnabled, description = "on; every other session of the user has ended"), (status = 409, body = crate::web::ErrorEnvelope, description = "already enabled, or no setup first"),
        (status = 422, body = crate::web::ErrorEnvelope, description = "the code is not correct")))]
pub async fn enable(
    State(state): State<IdentityState>,
    principal: Principal,
    scope: TenantScope,
    ip: ClientIp,
    ValidJson(body): ValidJson<EnableTotp>,
) -> Result<Json<TotpEnabled>> {
    let user = caller(&state, &principal, scope).await?;
    if user.totp_enabled {
        return Err(already_enabled());
    }
    if second_factor::secret(&state, &user).await?.is_none() {
        return Err(Error::Conflict(
            "start with POST /api/v1/auth/totp/setup".to_owned(),
        ));
    }
    if !second_factor::check_totp(&state, &user, body.code.expose()).await? {
        return Err(Error::Validation(vec![FieldError::new(
            "code",
            "is not the current code of this secret",
        )]));
    }
    let (codes, hashes) = second_factor::recovery_codes();
    state
        .store
        .enable_totp(scope.scope(), user.id, &hashes)
        .await?;
    crate::identity::user_changed(&state.sessions, user.id);
    end_other_sessions(&state, &principal, scope, ip, &user).await?;
    admin_action(&state, &principal, ip, &user, "user.totp_enable");
    Ok(Json(TotpEnabled {
        enabled: true,
        recovery_codes: codes.iter().map(|c| c.expose().clone()).collect(),
    }))
}

/// Ends every session of `user` but the caller's: they were opened without a second factor.
async fn end_other_sessions(
    state: &IdentityState,
    principal: &Principal,
    scope: TenantScope,
    ip: ClientIp,
    user: &User,
) -> Result<()> {
    let reason = "totp_enable";
    let ended = state
        .store
        .end_user_sessions(
            scope.scope(),
            user.id,
            principal.session,
            reason,
            time::now(),
        )
        .await?;
    sessions::ended(state, &ended);
    let route = "/api/v1/auth/totp/enable";
    sessions::revoked(state, ip, Some(principal.id.clone()), route, user, reason);
    Ok(())
}

/// Turn two-factor authentication off, with the password and a current (or recovery) code.
#[utoipa::path(post, path = "/api/v1/auth/totp/disable", tag = "auth", request_body = DisableTotp,
    security(("bearer" = [])),
    responses((status = 204, description = "off"), (status = 401, body = crate::web::ErrorEnvelope, description = "`invalid_credentials`"),
        (status = 409, body = crate::web::ErrorEnvelope, description = "not enabled"),
        (status = 429, body = crate::web::ErrorEnvelope, description = "`account_locked`")))]
pub async fn disable(
    State(state): State<IdentityState>,
    principal: Principal,
    scope: TenantScope,
    ip: ClientIp,
    ValidJson(body): ValidJson<DisableTotp>,
) -> Result<axum::http::StatusCode> {
    let user = caller(&state, &principal, scope).await?;
    if !user.totp_enabled {
        return Err(Error::Conflict(
            "two-factor authentication is not enabled".to_owned(),
        ));
    }
    let route = "/api/v1/auth/totp/disable";
    let attempt =
        Attempt::begin(&state, ip, route, Some(principal.id.clone()), &user.email).await?;
    let stored = state.store.password_hash(scope.scope(), user.id).await?;
    let stored = stored.as_ref().map(|h| h.expose().as_str());
    let password_ok = matches!(
        state.passwords.verify(&body.password, stored).await?,
        Verified::Valid { .. }
    );
    if !password_ok || !second_factor::check(&state, &user, body.code.expose()).await? {
        return Err(attempt.failed(Some(&user)).await);
    }
    state.store.disable_totp(scope.scope(), user.id).await?;
    crate::identity::user_changed(&state.sessions, user.id);
    admin_action(&state, &principal, ip, &user, "user.totp_disable");
    Ok(axum::http::StatusCode::NO_CONTENT)
}
