//! Cross-site request refusal for endpoints that a cookie authenticates (refresh).
//!
//! Invariant: such a request is refused (403 `cross_site_request`) when the browser says it is
//! cross-site (`Sec-Fetch-Site: cross-site`), or when it carries an `Origin` that is neither this
//! server's own origin (scheme and `Host`) nor one of `ALLOWED_ORIGINS`. Clients that send neither
//! header (curl, server-side code) are not browsers and carry no ambient cookie risk. Pure.

use axum::http::{header, HeaderMap, Uri};

use crate::error::{Error, Result};

/// `scheme` is how browsers reach this server: `https` with TLS here or at the proxy.
pub fn check(headers: &HeaderMap, uri: &Uri, scheme: &str, allowed: &[String]) -> Result<()> {
    let fetch_site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    if fetch_site.as_deref() == Some("cross-site") {
        return Err(Error::CrossSite);
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().map_err(|_| Error::CrossSite)?;
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()));
    let own = host.is_some_and(|host| origin.eq_ignore_ascii_case(&format!("{scheme}://{host}")));
    let listed = allowed
        .iter()
        .any(|a| a != "*" && a.trim_end_matches('/').eq_ignore_ascii_case(origin));
    if own || listed {
        Ok(())
    } else {
        Err(Error::CrossSite)
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    fn ok(pairs: &[(&'static str, &'static str)], allowed: &[&str]) -> bool {
        let allowed: Vec<String> = allowed.iter().map(|s| s.to_string()).collect();
        check(&headers(pairs), &Uri::from_static("/x"), "https", &allowed).is_ok()
    }

    #[test]
    fn same_origin_and_listed_origins_pass() {
        assert!(
            ok(&[("host", "audit.example.com")], &[]),
            "no browser headers"
        );
        assert!(ok(
            &[
                ("host", "audit.example.com"),
                ("origin", "https://audit.example.com")
            ],
            &[]
        ));
        assert!(ok(
            &[
                ("host", "api.example.com"),
                ("origin", "https://app.example.com"),
                ("sec-fetch-site", "same-site")
            ],
            &["https://app.example.com"]
        ));
        assert!(ok(&[("sec-fetch-site", "same-origin")], &[]));
    }

    #[test]
    fn cross_site_requests_are_refused() {
        assert!(!ok(&[("sec-fetch-site", "cross-site")], &[]));
        assert!(!ok(
            &[
                ("host", "audit.example.com"),
                ("origin", "https://evil.example")
            ],
            &[]
        ));
        assert!(
            !ok(
                &[
                    ("host", "audit.example.com"),
                    ("origin", "http://audit.example.com")
                ],
                &[]
            ),
            "another scheme is another origin"
        );
        assert!(!ok(&[("origin", "null")], &[]), "opaque origins");
        assert!(
            !ok(&[("origin", "https://evil.example")], &["*"]),
            "* is not a list"
        );
    }
}
