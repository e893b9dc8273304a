//! `POST /api/v1/auth/login`: e-mail, password and (when on) a second factor in; an access token
//! and the refresh cookie out.
//!
//! Invariant: an unknown e-mail, a wrong password, an inactive account and a wrong code all answer
//! the same 401 `invalid_credentials`, and an unknown e-mail costs the same Argon2 work as a known
//! one. A locked e-mail answers 429 before any password is checked.

use axum::extract::{MatchedPath, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use crate::error::{Error, FieldError, Result};
use crate::events::SecurityEventKind;
use crate::identity::credentials::password::Verified;
use crate::identity::login::attempts::Attempt;
use crate::identity::login::second_factor;
use crate::identity::request::{emit, user_agent};
use crate::identity::sessions::service as sessions;
use crate::identity::sessions::tokens::TokenBody;
use crate::identity::IdentityState;
use crate::identity::LoginRecord;
use crate::ratelimit::{limit_principal, Group};
use crate::secret::SecretString;
use crate::web::{ClientIp, ValidJson, Validate};

const ROUTE: &str = "/api/v1/auth/login";
/// Longer inputs are refused before any work is done on them.
pub const MAX_EMAIL: usize = 254;
pub const MAX_PASSWORD: usize = 1024;

/// Body of `POST /api/v1/auth/login`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    #[schema(min_length = 1, max_length = 254)]
    pub email: String,
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
    /// The current code of the authenticator app, or one of the recovery codes; required when
    /// two-factor authentication is on.
    #[schema(value_type = Option<String>)]
    pub totp_code: Option<SecretString>,
}

impl Validate for LoginRequest {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.email.trim().is_empty() || self.email.chars().count() > MAX_EMAIL {
            errors.push(FieldError::new("email", "must be 1 to 254 characters"));
        }
        if self.password.expose().chars().count() > MAX_PASSWORD {
            errors.push(FieldError::new(
                "password",
                "must be at most 1024 characters",
            ));
        }
        if self
            .totp_code
            .as_ref()
            .is_some_and(|c| c.expose().chars().count() > 64)
        {
            errors.push(FieldError::new(
                "totp_code",
                "must be at most 64 characters",
            ));
        }
        errors
    }
}

/// Log in.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = TokenBody, description = "logged in; the refresh cookie is set"),
        (status = 401, body = crate::web::ErrorEnvelope, description = "`invalid_credentials`, or `mfa_required` when a two-factor code is needed"),
        (status = 422, body = crate::web::ErrorEnvelope),
        (status = 429, body = crate::web::ErrorEnvelope, description = "`account_locked` or `rate_limited`, with Retry-After")))]
pub async fn login(
    State(state): State<IdentityState>,
    ip: ClientIp,
    route: Option<MatchedPath>,
    headers: HeaderMap,
    ValidJson(body): ValidJson<LoginRequest>,
) -> Result<Response> {
    let email_key = crate::identity::email_key(&body.email);
    let route = route.map(|r| r.as_str().to_owned());
    limit_principal(
        &state.limits,
        Group::Auth,
        &format!("login:{email_key}"),
        Some(ip.0),
        route,
    )?;
    let attempt = Attempt::begin(&state, ip, ROUTE, None, &body.email).await?;
    let record = state.store.login_record(&attempt.email_key).await?;
    let stored = record.as_ref().map(|r| r.password_hash.expose().as_str());
    let verified = state.passwords.verify(&body.password, stored).await?;
    let (record, rehash) = match (record, verified) {
        (Some(record), Verified::Valid { rehash }) if record.user.active => (record, rehash),
        (record, _) => return Err(attempt.failed(record.as_ref().map(|r| &r.user)).await),
    };
    if record.user.totp_enabled {
        let Some(code) = &body.totp_code else {
            return Err(Error::MfaRequired);
        };
        if !second_factor::check(&state, &record.user, code.expose()).await? {
            return Err(attempt.failed(Some(&record.user)).await);
        }
    }
    attempt.succeeded().await?;
    finish(&state, ip, &headers, &record, rehash).await
}

/// The password (and code) were right: upgrade the hash if due, record the login, start a session.
async fn finish(
    state: &IdentityState,
    ip: ClientIp,
    headers: &HeaderMap,
    record: &LoginRecord,
    rehash: Option<String>,
) -> Result<Response> {
    let user = &record.user;
    let scope = second_factor::user_scope(user);
    if let Some(hash) = rehash {
        state
            .store
            .set_password_hash(scope, user.id, &SecretString::new(hash))
            .await?;
    }
    let now = crate::domain::time::now();
    state.store.record_login(scope, user.id, now).await?;
    let agent = user_agent(headers);
    let started = sessions::start(state, user, ip, agent.clone()).await?;
    emit(
        state,
        ip,
        Some(user.id.to_string()),
        ROUTE,
        SecurityEventKind::LoginSucceeded {
            user: user.id.to_string(),
            tenant: user.tenant_id,
            user_agent: agent,
        },
    );
    Ok(([(header::SET_COOKIE, started.cookie)], Json(started.body)).into_response())
}
