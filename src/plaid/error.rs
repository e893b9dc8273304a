//! Plaid's errors: the JSON error object every endpoint answers with, sorted by what to do next.
//!
//! Invariant: a [`PlaidError`] never holds a request body, the secret or an access token; its
//! `Display` names the Plaid error type, code and request id so an operator can look it up.

use serde::Deserialize;

use crate::outbound::OutboundError;

/// What a caller should do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Transient (rate limit, Plaid or institution outage, timeout): retry later with backoff.
    Retry,
    /// The item needs its owner (re-authenticate with Link, consent expiring...): retrying is
    /// useless until a person acts.
    NeedsPerson,
    /// `/transactions/sync` saw the data change mid-pagination: restart from the first cursor.
    RestartPagination,
    /// A request that will fail the same way again (bad credentials, invalid input).
    Permanent,
}

/// Plaid's error object (`error_type`, `error_code`, ...), as sent.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct ApiError {
    #[serde(default)]
    pub error_type: String,
    #[serde(default)]
    pub error_code: String,
    #[serde(default)]
    pub error_message: String,
    #[serde(default)]
    pub display_message: Option<String>,
    #[serde(default)]
    pub request_id: Option<String>,
}

/// Item errors that need the account owner to act (re-link, grant consent...).
const NEEDS_PERSON: &[&str] = &[
    "ITEM_LOGIN_REQUIRED",
    "PENDING_EXPIRATION",
    "PENDING_DISCONNECT",
    "ITEM_LOCKED",
    "USER_SETUP_REQUIRED",
    "INVALID_CREDENTIALS",
    "INSUFFICIENT_CREDENTIALS",
    "INVALID_MFA",
    "INVALID_UPDATED_USERNAME",
    "ACCESS_NOT_GRANTED",
    "USER_PERMISSION_REVOKED",
    "NO_ACCOUNTS",
    "ITEM_NOT_SUPPORTED",
    "MFA_NOT_SUPPORTED",
];

/// Codes worth retrying whatever their HTTP status.
const RETRYABLE: &[&str] = &[
    "RATE_LIMIT_EXCEEDED",
    "INTERNAL_SERVER_ERROR",
    "PLANNED_MAINTENANCE",
    "INSTITUTION_DOWN",
    "INSTITUTION_NOT_RESPONDING",
    "INSTITUTION_NOT_AVAILABLE",
    "PRODUCT_NOT_READY",
    "TRANSACTIONS_SYNC_LIMIT",
];

pub const MUTATION_DURING_PAGINATION: &str = "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION";

#[derive(Debug, thiserror::Error)]
pub enum PlaidError {
    #[error("Plaid answered {status}: {} {} ({}) request_id={}", .error.error_type, .error.error_code, .error.error_message, .error.request_id.as_deref().unwrap_or("-"))]
    Api { status: u16, error: ApiError },
    #[error("Plaid could not be reached: {0}")]
    Outbound(#[from] OutboundError),
    /// A response that is not what Plaid's API defines.
    #[error("unexpected answer from Plaid: {0}")]
    Decode(String),
    /// Data AuditPulse refuses rather than guesses (an unofficial currency, an amount with more
    /// decimals than its currency has): the same answer fails the same way again.
    #[error("refused Plaid data: {0}")]
    Unsupported(String),
}

impl PlaidError {
    /// Plaid's `error_code`, if Plaid sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            PlaidError::Api { error, .. } if !error.error_code.is_empty() => {
                Some(&error.error_code)
            }
            _ => None,
        }
    }

    /// The code an item records for this error: Plaid's, or one naming what happened here.
    pub fn item_code(&self) -> &str {
        match self {
            PlaidError::Api { .. } => self.code().unwrap_or("PLAID_ERROR"),
            PlaidError::Outbound(_) => "PLAID_UNREACHABLE",
            PlaidError::Decode(_) => "UNEXPECTED_RESPONSE",
            PlaidError::Unsupported(_) => "UNSUPPORTED_TRANSACTION",
        }
    }

    pub fn action(&self) -> Action {
        match self {
            PlaidError::Api { status, error } => {
                let code = error.error_code.as_str();
                if code == MUTATION_DURING_PAGINATION {
                    Action::RestartPagination
                } else if NEEDS_PERSON.contains(&code) {
                    Action::NeedsPerson
                } else if RETRYABLE.contains(&code)
                    || error.error_type == "RATE_LIMIT_EXCEEDED"
                    || error.error_type == "API_ERROR"
                    || *status == 429
                    || *status >= 500
                {
                    Action::Retry
                } else {
                    Action::Permanent
                }
            }
            PlaidError::Outbound(OutboundError::Refused(_)) => Action::Permanent,
            PlaidError::Outbound(_) => Action::Retry,
            PlaidError::Decode(_) => Action::Retry,
            PlaidError::Unsupported(_) => Action::Permanent,
        }
    }
}

impl From<PlaidError> for crate::Error {
    fn from(e: PlaidError) -> Self {
        match e.action() {
            Action::NeedsPerson => crate::Error::Conflict(format!(
                "the bank connection needs attention ({}); reconnect it with Plaid Link",
                e.code().unwrap_or("unknown")
            )),
            _ => crate::Error::Unavailable(e.to_string()),
        }
    }
}

/// The error a non-2xx answer carries; a body that is not Plaid's error object is kept as a
/// bounded decode error (it may be a proxy's HTML page).
pub fn from_response(status: u16, body: &[u8]) -> PlaidError {
    match serde_json::from_slice::<ApiError>(body) {
        Ok(error) if !error.error_code.is_empty() || !error.error_type.is_empty() => {
            PlaidError::Api { status, error }
        }
        _ => PlaidError::Api {
            status,
            error: ApiError {
                error_type: "HTTP".to_owned(),
                error_code: format!("HTTP_{status}"),
                error_message: String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
                ..ApiError::default()
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, error_type: &str, code: &str) -> PlaidError {
        let body = serde_json::json!({
            "error_type": error_type, "error_code": code, "error_message": "m",
            "display_message": null, "request_id": "req-1"
        });
        from_response(status, body.to_string().as_bytes())
    }

    #[test]
    fn errors_are_sorted_by_what_to_do() {
        assert_eq!(
            api(400, "ITEM_ERROR", "ITEM_LOGIN_REQUIRED").action(),
            Action::NeedsPerson
        );
        assert_eq!(
            api(400, "ITEM_ERROR", "PENDING_EXPIRATION").action(),
            Action::NeedsPerson
        );
        assert_eq!(
            api(429, "RATE_LIMIT_EXCEEDED", "TRANSACTIONS_SYNC_LIMIT").action(),
            Action::Retry
        );
        assert_eq!(
            api(500, "API_ERROR", "INTERNAL_SERVER_ERROR").action(),
            Action::Retry
        );
        assert_eq!(
            api(400, "TRANSACTIONS_ERROR", MUTATION_DURING_PAGINATION).action(),
            Action::RestartPagination
        );
        assert_eq!(
            api(400, "INVALID_INPUT", "INVALID_ACCESS_TOKEN").action(),
            Action::Permanent
        );
        assert_eq!(
            api(400, "INVALID_REQUEST", "MISSING_FIELDS").action(),
            Action::Permanent
        );
    }

    #[test]
    fn a_non_json_answer_is_kept_as_its_status() {
        let e = from_response(502, b"<html>bad gateway</html>");
        assert_eq!(e.code(), Some("HTTP_502"));
        assert_eq!(e.action(), Action::Retry);
    }

    #[test]
    fn display_names_type_code_and_request_id() {
        let shown = api(400, "ITEM_ERROR", "ITEM_LOGIN_REQUIRED").to_string();
        assert!(shown.contains("ITEM_ERROR ITEM_LOGIN_REQUIRED"), "{shown}");
        assert!(shown.contains("request_id=req-1"), "{shown}");
    }
}
