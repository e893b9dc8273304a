//! First-run setup: while no user exists, `serve` prints a one-time URL with a setup token, and
//! `POST /api/v1/setup` with that token creates the first tenant and its administrator (who is also
//! a system administrator).
//!
//! Answers: 201 with the tenant and the user; 401 `invalid_credentials` for a wrong, used or
//! expired token while setup is still open; 404 for everything (`GET /setup`, the form of
//! `page`, too) once any user exists. Invariant: the token is stored only as a SHA-256, lives an hour, works once, and is
//! never logged or echoed into a page; only the deliberate stderr line of `serve` shows it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::auth::{Principal, Role};
use crate::domain::{time, UserId};
use crate::error::{Error, FieldError, Result};
use crate::identity::credentials::password::check_password;
use crate::identity::store::IdentityStore;
use crate::identity::IdentityState;
use crate::identity::{NewUser, User};
use crate::secret::SecretString;
use crate::tenants::{CreateTenant, Tenant};
use crate::web::{ClientIp, ValidJson, Validate};

pub const TOKEN_TTL: Duration = Duration::from_secs(3600);

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// When no user exists yet: a new setup token (replacing any unused earlier one), valid for an
/// hour. `None` once set up.
pub async fn issue_token(store: &dyn IdentityStore) -> Result<Option<SecretString>> {
    if store.any_user().await? {
        return Ok(None);
    }
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(bytes.as_mut());
    let token = SecretString::new(URL_SAFE_NO_PAD.encode(bytes.as_ref()));
    let now = time::now();
    let expires = now + chrono::Duration::from_std(TOKEN_TTL).unwrap_or_default();
    store
        .replace_setup_token(&hash(token.expose()), now, expires)
        .await?;
    Ok(Some(token))
}

/// The URL to print for `token`, on the address the server is bound to (loopback when it listens
/// on every interface).
pub fn url(addr: SocketAddr, tls: bool, token: &SecretString) -> SecretString {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let scheme = if tls { "https" } else { "http" };
    let addr = SocketAddr::new(ip, addr.port());
    SecretString::new(format!("{scheme}://{addr}/setup?token={}", token.expose()))
}

/// Body of `POST /api/v1/setup`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct SetupRequest {
    /// The token of the URL printed by `auditpulse serve`.
    #[schema(value_type = String)]
    pub token: SecretString,
    #[schema(min_length = 1)]
    pub tenant_name: String,
    #[schema(min_length = 3, max_length = 254)]
    pub email: String,
    /// 12 to 128 characters, not a common password, not containing the e-mail's name.
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
}

/// A plausible e-mail address: one `@` between a non-empty name and a dotted domain, no spaces.
pub fn check_email(email: &str) -> Result<(), &'static str> {
    let email = email.trim();
    let valid = email.chars().count() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(name, domain)| {
            !name.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if valid {
        Ok(())
    } else {
        Err("must be an e-mail address such as jane@example.com")
    }
}

impl Validate for SetupRequest {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors: Vec<FieldError> = CreateTenant {
            name: self.tenant_name.clone(),
            slug: None,
        }
        .validate()
        .into_iter()
        .map(|e| FieldError::new("tenant_name", e.message))
        .collect();
        if let Err(message) = check_email(&self.email) {
            errors.push(FieldError::new("email", message));
        }
        if let Err(rule) = check_password(self.password.expose(), self.email.trim()) {
            errors.push(FieldError::new("password", rule.message()));
        }
        errors
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SetupDone {
    pub tenant: Tenant,
    /// The tenant's administrator, also a system administrator. Log in as them now.
    pub user: User,
}

/// Create the first tenant and its administrator (first run only).
#[utoipa::path(post, path = "/api/v1/setup", tag = "setup", request_body = SetupRequest,
    responses((status = 201, body = SetupDone),
        (status = 401, body = crate::web::ErrorEnvelope, description = "`invalid_credentials`: wrong, used or expired token"),
        (status = 404, body = crate::web::ErrorEnvelope, description = "already set up"),
        (status = 422, body = crate::web::ErrorEnvelope)))]
pub async fn complete(
    State(state): State<IdentityState>,
    ip: ClientIp,
    body: Result<ValidJson<SetupRequest>, Error>,
) -> Result<(StatusCode, Json<SetupDone>)> {
    if state.store.any_user().await? {
        return Err(Error::NotFound);
    }
    let ValidJson(body) = body?;
    let email = body.email.trim().to_owned();
    let tenant = CreateTenant {
        name: body.tenant_name,
        slug: None,
    }
    .into_new();
    let now = time::now();
    let user = NewUser {
        id: UserId::new(),
        tenant_id: None,
        email,
        display_name: None,
        role: Some(Role::Admin),
        system_admin: true,
        password_hash: SecretString::new(state.passwords.hash(&body.password).await?),
        created_at: now,
    };
    let done = state
        .store
        .complete_setup(&hash(body.token.expose()), now, &tenant, &user)
        .await?;
    let Some((tenant, user)) = done else {
        return Err(if state.store.any_user().await? {
            Error::NotFound
        } else {
            Error::InvalidSetupToken
        });
    };
    let actor = Principal::user(user.id.to_string(), user.tenant_id, user.role, true);
    let details = serde_json::json!({ "slug": tenant.slug, "user": user.id });
    let target = Some(("tenant", tenant.id.to_string()));
    state.admin_action(
        &actor,
        ip,
        "setup.complete",
        target,
        Some(tenant.id),
        details,
    );
    Ok((StatusCode::CREATED, Json(SetupDone { tenant, user })))
}

/// The setup form (first run only); it posts to `POST /api/v1/setup`.
#[utoipa::path(get, path = "/setup", tag = "setup",
    responses((status = 200, description = "the setup form", content_type = "text/html"),
        (status = 404, body = crate::web::ErrorEnvelope, description = "already set up")))]
pub async fn page(State(state): State<IdentityState>) -> Result<Response> {
    if state.store.any_user().await? {
        return Err(Error::NotFound);
    }
    let headers = [
        (header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
        (
            header::CONTENT_SECURITY_POLICY,
            super::page::content_security_policy(),
        ),
    ];
    Ok((headers, super::page::html()).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_names_the_bound_address_and_never_prints() {
        let token = SecretString::new("tok".into());
        let addr: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert_eq!(
            url(addr, false, &token).expose(),
            "http://127.0.0.1:8080/setup?token=tok"
        );
        let addr: SocketAddr = "[::]:8443".parse().unwrap();
        assert_eq!(
            url(addr, true, &token).expose(),
            "https://[::1]:8443/setup?token=tok"
        );
        assert_eq!(format!("{:?}", url(addr, true, &token)), "[REDACTED]");
    }

    #[test]
    fn emails_must_look_like_emails() {
        for good in ["jane@example.com", " a.b+c@sub.example.org "] {
            assert!(check_email(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "jane",
            "@example.com",
            "jane@",
            "jane@localhost",
            "ja ne@example.com",
            "a@b@c.com",
            "a@.com",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }
}
