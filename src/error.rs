//! The one error type of AuditPulse and its HTTP rendering.
//!
//! Invariant: a client sees a stable `code`, a safe `message` and the request id; the cause chain of
//! server-side failures goes to the log only. The JSON body is completed (request id added) by
//! `web::context`, which also turns bare framework errors into this same shape.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A problem with one field of a request body.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    /// Path of the field, for example `name` or `items[2].amount`; empty for the body itself.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the request body is invalid")]
    Validation(Vec<FieldError>),
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    #[error("{0}")]
    BadRequest(String),
    /// A query parameter that does not parse, is unknown or is missing; each is named.
    #[error("the query string is invalid")]
    BadQuery(Vec<FieldError>),
    #[error("expected Content-Type: application/json")]
    UnsupportedMediaType,
    #[error("the request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("authentication is required")]
    Unauthenticated,
    /// Wrong e-mail, password or second factor: one answer for all, so none can be told apart.
    #[error("the e-mail, password or code is not correct")]
    InvalidCredentials,
    /// A wrong, used or expired first-run setup token (the code is `invalid_credentials` too).
    #[error("the setup token is not valid: it is wrong, used or expired; restart the server for a new one")]
    InvalidSetupToken,
    /// Right password, but the account has two-factor authentication on and no code was sent.
    #[error("a two-factor code is required")]
    MfaRequired,
    /// The tenant requires two-factor authentication and this user has not enrolled yet; only
    /// the enrolment routes answer until they do.
    #[error("set up two-factor authentication first (POST /api/v1/auth/totp/setup)")]
    MfaEnrollmentRequired,
    /// Too many failed logins: the account answers nothing else until `retry_after` has passed.
    #[error("the account is locked after repeated failed logins; retry later")]
    AccountLocked { retry_after: Duration },
    /// A cookie-authenticated request came from another site (Origin / Sec-Fetch-Site).
    #[error("cross-site requests are refused")]
    CrossSite,
    #[error("you do not have permission to do this")]
    Forbidden,
    /// Like `Forbidden`, naming the missing permission for the security event; the client sees
    /// the same generic 403.
    #[error("you do not have permission to do this")]
    PermissionDenied { permission: &'static str },
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("too many requests; retry later")]
    RateLimited { retry_after: Duration },
    #[error("the request took too long")]
    Timeout,
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A provider the gateway relays to failed to answer (unreachable, timed out, broke off).
    /// The message names the failure, never the request's headers or body.
    #[error("the provider did not answer: {0}")]
    BadGateway(String),
    #[error("configuration error: {0}")]
    Config(String),
    /// Encryption or decryption failed. Names what failed, never key bytes or plaintext.
    #[error("encryption error: {0}")]
    Crypto(String),
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The client-facing part of an error, carried as a response extension until `web::context`
/// renders it with the request id.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, for example `validation_failed`.
    pub code: &'static str,
    /// Human-readable message, safe to show.
    pub message: String,
    /// Per-field problems, for `validation_failed`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

impl ErrorBody {
    /// The generic body for a status that carries no error of ours (framework 404/405/408/413...).
    pub fn for_status(status: StatusCode) -> Self {
        let (code, message) = match status {
            StatusCode::NOT_FOUND => ("not_found", "not found"),
            StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "method not allowed"),
            StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request body is too large"),
            StatusCode::REQUEST_TIMEOUT => ("request_timeout", "the request took too long"),
            StatusCode::URI_TOO_LONG => ("uri_too_long", "the request URI is too long"),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => {
                ("headers_too_large", "the request headers are too large")
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                "unsupported_media_type",
                "expected Content-Type: application/json",
            ),
            StatusCode::UNAUTHORIZED => ("unauthenticated", "authentication is required"),
            StatusCode::FORBIDDEN => ("forbidden", "you do not have permission to do this"),
            StatusCode::TOO_MANY_REQUESTS => ("rate_limited", "too many requests; retry later"),
            StatusCode::SERVICE_UNAVAILABLE => ("unavailable", "service unavailable"),
            s if s.is_server_error() => ("internal_error", "internal server error"),
            _ => ("bad_request", "bad request"),
        };
        Self {
            code,
            message: message.to_owned(),
            fields: Vec::new(),
        }
    }
}

impl Error {
    pub fn status(&self) -> StatusCode {
        match self {
            Error::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::MalformedJson(_) | Error::BadRequest(_) | Error::BadQuery(_) => {
                StatusCode::BAD_REQUEST
            }
            Error::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::Unauthenticated
            | Error::InvalidCredentials
            | Error::InvalidSetupToken
            | Error::MfaRequired => StatusCode::UNAUTHORIZED,
            Error::Forbidden
            | Error::PermissionDenied { .. }
            | Error::MfaEnrollmentRequired
            | Error::CrossSite => StatusCode::FORBIDDEN,
            Error::NotFound => StatusCode::NOT_FOUND,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::RateLimited { .. } | Error::AccountLocked { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Error::Timeout => StatusCode::REQUEST_TIMEOUT,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Error::Config(_) | Error::Crypto(_) | Error::Database(_) | Error::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// What the client may see. Server-side failures get a generic message.
    pub fn body(&self) -> ErrorBody {
        let status = self.status();
        let code = match self {
            Error::Validation(_) => "validation_failed",
            Error::MalformedJson(_) => "malformed_json",
            Error::BadRequest(_) | Error::BadQuery(_) => "bad_request",
            Error::Conflict(_) => "conflict",
            Error::Unavailable(_) => "unavailable",
            Error::BadGateway(_) => "bad_gateway",
            Error::InvalidCredentials | Error::InvalidSetupToken => "invalid_credentials",
            Error::MfaRequired => "mfa_required",
            Error::MfaEnrollmentRequired => "mfa_enrollment_required",
            Error::AccountLocked { .. } => "account_locked",
            Error::CrossSite => "cross_site_request",
            _ => ErrorBody::for_status(status).code,
        };
        let message = if status.is_server_error() && !matches!(self, Error::BadGateway(_)) {
            ErrorBody::for_status(status).message
        } else {
            self.to_string()
        };
        let fields = match self {
            Error::Validation(fields) | Error::BadQuery(fields) => fields.clone(),
            _ => Vec::new(),
        };
        ErrorBody {
            code,
            message,
            fields,
        }
    }
}

/// On a 403 response: the permission that was missing, for the security event.
#[derive(Debug, Clone, Copy)]
pub struct DeniedPermission(pub &'static str);

/// The full cause chain, for logs only.
pub fn cause_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %cause_chain(&self), "request failed");
        }
        let mut response = status.into_response();
        if let Error::RateLimited { retry_after } | Error::AccountLocked { retry_after } = &self {
            let secs = retry_after.as_secs_f64().ceil().max(1.0) as u64;
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if let Error::Unauthenticated | Error::InvalidCredentials | Error::MfaRequired = &self {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Error::PermissionDenied { permission } = &self {
            response
                .extensions_mut()
                .insert(DeniedPermission(permission));
        }
        response.extensions_mut().insert(self.body());
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_hide_their_cause_from_clients() {
        let error = Error::Internal(anyhow::anyhow!(
            "connection to 10.0.0.5 refused, password=x"
        ));
        let body = error.body();
        assert_eq!(body.code, "internal_error");
        assert_eq!(body.message, "internal server error");
    }

    #[test]
    fn rate_limited_sets_retry_after_in_whole_seconds() {
        let response = Error::RateLimited {
            retry_after: Duration::from_millis(1200),
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
    }
}
