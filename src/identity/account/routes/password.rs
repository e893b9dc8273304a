//! `POST /api/v1/auth/password`: change one's own password.
//!
//! Invariant: the current password is required (a wrong one counts towards the lockout like a
//! failed login), the new one meets the policy (422 naming the rule), and every other session of
//! the user ends, so whoever else held the old password is signed out.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use crate::auth::Principal;
use crate::domain::time;
use crate::error::{Error, FieldError, Result};
use crate::identity::credentials::password::{check_password, Verified};
use crate::identity::login::attempts::Attempt;
use crate::identity::login::routes::MAX_PASSWORD;
use crate::identity::request::session_user;
use crate::identity::sessions::service as sessions;
use crate::identity::IdentityState;
use crate::identity::TenantScope;
use crate::secret::SecretString;
use crate::web::{ClientIp, ValidJson, Validate};

const ROUTE: &str = "/api/v1/auth/password";

/// Body of `POST /api/v1/auth/password`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct ChangePassword {
    #[schema(value_type = String, format = Password)]
    pub current_password: SecretString,
    /// 12 to 128 characters, not a common password, not containing the e-mail's name.
    #[schema(value_type = String, format = Password)]
    pub new_password: SecretString,
}

impl Validate for ChangePassword {
    fn validate(&self) -> Vec<FieldError> {
        if self.current_password.expose().chars().count() > MAX_PASSWORD {
            vec![FieldError::new(
                "current_password",
                "must be at most 1024 characters",
            )]
        } else {
            Vec::new()
        }
    }
}

/// Change the caller's password; their other sessions end.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", request_body = ChangePassword,
    security(("bearer" = [])),
    responses((status = 204, description = "changed; every other session of the user has ended"),
        (status = 401, body = crate::web::ErrorEnvelope, description = "`invalid_credentials`: the current password is wrong"),
        (status = 422, body = crate::web::ErrorEnvelope, description = "the new password breaks a rule"),
        (status = 429, body = crate::web::ErrorEnvelope, description = "`account_locked`")))]
pub async fn change(
    State(state): State<IdentityState>,
    principal: Principal,
    scope: TenantScope,
    ip: ClientIp,
    ValidJson(body): ValidJson<ChangePassword>,
) -> Result<StatusCode> {
    let user_id = session_user(&principal)?;
    let scope = scope.scope();
    let user = state
        .store
        .get_user(scope, user_id)
        .await?
        .ok_or(Error::Unauthenticated)?;
    if let Err(rule) = check_password(body.new_password.expose(), &user.email) {
        return Err(Error::Validation(vec![FieldError::new(
            "new_password",
            rule.message(),
        )]));
    }
    let attempt =
        Attempt::begin(&state, ip, ROUTE, Some(principal.id.clone()), &user.email).await?;
    let stored = state.store.password_hash(scope, user.id).await?;
    let stored = stored.as_ref().map(|h| h.expose().as_str());
    let verified = state
        .passwords
        .verify(&body.current_password, stored)
        .await?;
    if !matches!(verified, Verified::Valid { .. }) {
        return Err(attempt.failed(Some(&user)).await);
    }
    let hash = SecretString::new(state.passwords.hash(&body.new_password).await?);
    state.store.set_password_hash(scope, user.id, &hash).await?;
    let reason = "password_change";
    let ended = state
        .store
        .end_user_sessions(scope, user.id, principal.session, reason, time::now())
        .await?;
    sessions::ended(&state, &ended);
    sessions::revoked(&state, ip, Some(principal.id.clone()), ROUTE, &user, reason);
    let details = serde_json::json!({ "sessions_ended": ended.len() });
    state.admin_action(
        &principal,
        ip,
        "user.password_change",
        Some(("user", user.id.to_string())),
        user.tenant_id,
        details,
    );
    Ok(StatusCode::NO_CONTENT)
}
