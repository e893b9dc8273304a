//! Which headers cross the gateway, each way.
//!
//! Invariant: the caller's AuditPulse key (in `Authorization` or `x-api-key`) never reaches the
//! provider and the provider key is set only here, in the header its provider expects;
//! hop-by-hop headers are dropped both ways; everything else the client or provider sent (SDK
//! headers, `anthropic-version`, `openai-*`, rate-limit headers, request ids) passes unchanged.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

use crate::gateway::Provider;
use crate::secret::SecretString;

/// Hop-by-hop headers (RFC 9110 §7.6.1) and those the HTTP layers recompute.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

/// Request headers that belong to the caller's relation with AuditPulse, not with the provider.
const CALLER_ONLY: &[&str] = &[
    "authorization",
    "x-api-key",
    "cookie",
    // The tenant's provider key decides the organisation and project.
    "openai-organization",
    "openai-project",
    // The gateway reads the answer: it must come unencoded (set again below).
    "accept-encoding",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
];

/// Our own attribution headers start with this.
pub const OURS: &str = "x-auditpulse-";

/// The headers of the request to the provider: the client's, minus hop-by-hop, credentials and
/// ours, plus the provider key.
pub fn to_provider(incoming: &HeaderMap, provider: Provider, key: &SecretString) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(incoming.len() + 2);
    for (name, value) in incoming {
        let n = name.as_str();
        if HOP_BY_HOP.contains(&n) || CALLER_ONLY.contains(&n) || n.starts_with(OURS) {
            continue;
        }
        out.append(name.clone(), value.clone());
    }
    out.insert(
        header::ACCEPT_ENCODING,
        HeaderValue::from_static("identity"),
    );
    let credential = match provider {
        Provider::OpenAi => (header::AUTHORIZATION, format!("Bearer {}", key.expose())),
        Provider::Anthropic => (
            HeaderName::from_static("x-api-key"),
            key.expose().to_owned(),
        ),
    };
    if let Ok(mut value) = HeaderValue::from_str(&credential.1) {
        value.set_sensitive(true);
        out.insert(credential.0, value);
    }
    if provider == Provider::Anthropic && !out.contains_key("anthropic-version") {
        out.insert(
            HeaderName::from_static("anthropic-version"),
            HeaderValue::from_static("2023-06-01"),
        );
    }
    out
}

/// The headers of the answer to the client: the provider's minus hop-by-hop ones and cookies
/// (a provider's cookie is not for AuditPulse's origin).
pub fn to_client(upstream: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(upstream.len());
    for (name, value) in upstream {
        let n = name.as_str();
        if HOP_BY_HOP.contains(&n) || n == "set-cookie" || n == "content-encoding" {
            continue;
        }
        out.append(name.clone(), value.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.append(*n, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn the_callers_key_is_replaced_by_the_providers_in_its_header() {
        let incoming = headers(&[
            ("authorization", "Bearer ap_abc_secret"),
            ("x-api-key", "ap_abc_secret"),
            ("connection", "keep-alive"),
            ("x-auditpulse-project", "p1"),
            ("x-stainless-lang", "python"),
            ("anthropic-beta", "prompt-caching-2024-07-31"),
            ("content-type", "application/json"),
        ]);
        let key = SecretString::new("sk-provider".into());
        let openai = to_provider(&incoming, Provider::OpenAi, &key);
        assert_eq!(openai["authorization"], "Bearer sk-provider");
        assert!(openai.get("x-api-key").is_none());
        assert!(openai.get("connection").is_none() && openai.get("x-auditpulse-project").is_none());
        assert_eq!(openai["x-stainless-lang"], "python");
        assert_eq!(openai["accept-encoding"], "identity");
        let anthropic = to_provider(&incoming, Provider::Anthropic, &key);
        assert_eq!(anthropic["x-api-key"], "sk-provider");
        assert!(anthropic.get("authorization").is_none());
        assert_eq!(anthropic["anthropic-version"], "2023-06-01");
        assert_eq!(anthropic["anthropic-beta"], "prompt-caching-2024-07-31");
        let all: String = anthropic
            .iter()
            .chain(openai.iter())
            .map(|(_, v)| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        assert!(
            !all.contains("ap_abc"),
            "the AuditPulse key never travels on"
        );
    }

    #[test]
    fn provider_headers_pass_except_hop_by_hop_and_cookies() {
        let upstream = headers(&[
            ("x-request-id", "req_123"),
            ("openai-processing-ms", "12"),
            ("x-ratelimit-remaining-requests", "99"),
            ("retry-after", "3"),
            ("transfer-encoding", "chunked"),
            ("set-cookie", "__cf_bm=1"),
        ]);
        let out = to_client(&upstream);
        assert_eq!(out["x-request-id"], "req_123");
        assert_eq!(out["retry-after"], "3");
        assert_eq!(out.len(), 4);
    }
}
