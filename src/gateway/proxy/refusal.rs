//! What the gateway answers in the provider's place when a budget stops or changes a call: a
//! 429 shaped like the provider's own, so the official SDKs raise their `RateLimitError` with
//! our message, and the header that tells a client its model was swapped.
//!
//! The map: `budget_refusal` (the 429, per provider), `swapped_header` (`from -> to`).
//!
//! Invariant: the body is JSON the provider's SDK parses (the budget's name JSON-escaped, cut to
//! 200 characters), never our own error envelope (the answer is marked `Relayed`); no model or
//! budget name can make a header fail or a call panic.

use axum::body::Body;
use axum::response::Response;
use http::header::{CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderValue, StatusCode};
use serde_json::json;

use crate::gateway::Provider;

/// Set on an answer whose request the gateway sent to another model than the one asked for.
pub const SWAPPED_HEADER: &str = "x-auditpulse-model-swapped";

/// Longest budget name put in a refusal, in characters (a budget's own limit).
const MAX_NAME_CHARS: usize = 200;

/// The `code` of an OpenAI-shaped refusal, for clients that tell our 429 from OpenAI's.
pub const BUDGET_EXCEEDED: &str = "budget_exceeded";

/// A 429 in `provider`'s error shape saying the budget `budget_name` reached its hard limit.
/// `retry_after_secs` (when the period ends) becomes `retry-after`; `x-should-retry: false`
/// keeps the SDKs from retrying a call that cannot pass before then.
pub fn budget_refusal(
    provider: Provider,
    budget_name: &str,
    retry_after_secs: Option<u64>,
) -> Response {
    let message = message(budget_name);
    let body = match provider {
        // OpenAI's quota errors: type `insufficient_quota`, `param` null, the cause in `code`.
        Provider::OpenAi => json!({
            "error": {
                "message": message,
                "type": "insufficient_quota",
                "param": null,
                "code": BUDGET_EXCEEDED,
            }
        }),
        Provider::Anthropic => json!({
            "type": "error",
            "error": { "type": "rate_limit_error", "message": message },
        }),
    };
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert("x-should-retry", HeaderValue::from_static("false"));
    if let Some(secs) = retry_after_secs {
        headers.insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    response.extensions_mut().insert(crate::web::Relayed);
    response
}

fn message(budget_name: &str) -> String {
    let name: String = budget_name.chars().take(MAX_NAME_CHARS).collect();
    format!(
        "AuditPulse budget \"{name}\" has reached its hard limit for the period; \
         the call was not sent to the provider"
    )
}

/// `gpt-4-turbo -> gpt-3.5-turbo`. Bytes outside visible ASCII, and `%`, are percent-encoded,
/// so any model name makes a valid header value.
pub fn swapped_header(from: &str, to: &str) -> HeaderValue {
    let text = format!("{} -> {}", percent_encoded(from), percent_encoded(to));
    // Only visible ASCII and spaces are left: this cannot fail, but a header is never worth a
    // panic.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("swapped"))
}

fn percent_encoded(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_graphic() && b != b'%' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use serde_json::Value;

    async fn body(response: Response) -> Value {
        let bytes = match response.into_body().collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) => panic!("body: {e}"),
        };
        match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(e) => panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)),
        }
    }

    fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
        response.headers().get(name).and_then(|v| v.to_str().ok())
    }

    #[tokio::test]
    async fn an_openai_refusal_is_a_quota_429_the_sdk_reads() {
        let response = budget_refusal(Provider::OpenAi, "Marketing", Some(3_600));
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(header(&response, "content-type"), Some("application/json"));
        assert_eq!(header(&response, "retry-after"), Some("3600"));
        assert_eq!(header(&response, "x-should-retry"), Some("false"));
        assert!(response.extensions().get::<crate::web::Relayed>().is_some());
        let v = body(response).await;
        let error = &v["error"];
        assert_eq!(error["type"], "insufficient_quota");
        assert_eq!(error["code"], "budget_exceeded");
        assert!(error.get("param").is_some_and(Value::is_null));
        assert_eq!(
            error["message"],
            "AuditPulse budget \"Marketing\" has reached its hard limit for the period; \
             the call was not sent to the provider"
        );
        assert_eq!(v.as_object().map(|o| o.len()), Some(1), "only `error`: {v}");
    }

    #[tokio::test]
    async fn an_anthropic_refusal_is_a_rate_limit_error_the_sdk_reads() {
        let response = budget_refusal(Provider::Anthropic, "Team A", None);
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(header(&response, "content-type"), Some("application/json"));
        assert_eq!(header(&response, "retry-after"), None);
        assert!(response.extensions().get::<crate::web::Relayed>().is_some());
        let v = body(response).await;
        assert_eq!(v["type"], "error");
        assert_eq!(v["error"]["type"], "rate_limit_error");
        let message = v["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("budget \"Team A\""), "{message}");
        assert!(message.contains("hard limit for the period"), "{message}");
    }

    #[tokio::test]
    async fn a_budget_name_is_escaped_and_cut_to_its_limit() {
        let hostile = "q\"uote\\ \n</script> \u{0} caf\u{e9} \u{1F600}";
        for provider in Provider::ALL {
            let v = body(budget_refusal(*provider, hostile, None)).await;
            let message = v["error"]["message"].as_str().unwrap_or_default();
            assert!(message.contains(&format!("\"{hostile}\"")), "{message}");
        }
        let long = format!("{}{}", "\u{e9}".repeat(200), "TAIL");
        let v = body(budget_refusal(Provider::OpenAi, &long, None)).await;
        let message = v["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(&format!("\"{}\"", "\u{e9}".repeat(200))));
        assert!(!message.contains("TAIL"), "{message}");
    }

    #[test]
    fn the_swapped_header_names_both_models() {
        let value = swapped_header("gpt-4-turbo", "gpt-3.5-turbo");
        assert_eq!(value.to_str().ok(), Some("gpt-4-turbo -> gpt-3.5-turbo"));
        let value = swapped_header("claude-opus-4@20250514", "claude-haiku-4-5");
        assert_eq!(
            value.to_str().ok(),
            Some("claude-opus-4@20250514 -> claude-haiku-4-5")
        );
    }

    #[test]
    fn model_names_outside_visible_ascii_are_percent_encoded() {
        let value = swapped_header("caf\u{e9} model", "a\r\nset-cookie: x%");
        assert_eq!(
            value.to_str().ok(),
            Some("caf%C3%A9%20model -> a%0D%0Aset-cookie:%20x%25")
        );
        let value = swapped_header("", "\u{7f}\u{0}");
        assert_eq!(value.to_str().ok(), Some(" -> %7F%00"));
    }
}
