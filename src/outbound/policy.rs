//! The rule for an outbound URL a user configures (Plaid base URL, LLM provider base URLs, alert
//! webhooks): checked when the setting is read and again before every request.
//!
//! Invariant: with `require_https` only `https` passes; a URL carrying credentials never passes; a
//! literal IP host in a blocked range passes only with `allow_private`. Host names are judged after
//! resolution, by [`super::resolve::Filtering`].

use url::{Host, Url};

use super::address::is_blocked;

/// What outbound URLs may point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboundPolicy {
    /// Production: plain `http` is refused.
    pub require_https: bool,
    /// `AUDITPULSE_ALLOW_PRIVATE_OUTBOUND=true` (refused in production): private, loopback and
    /// other non-public addresses may be reached. For tests and local fakes.
    pub allow_private: bool,
}

impl OutboundPolicy {
    /// The strictest policy: https only, public addresses only.
    pub const STRICT: OutboundPolicy = OutboundPolicy {
        require_https: true,
        allow_private: false,
    };

    /// Parses `text` and checks it against this policy; the message says what to change.
    pub fn parse(&self, text: &str) -> Result<Url, String> {
        let url = Url::parse(text).map_err(|e| format!("{text:?} is not a URL ({e})"))?;
        self.check(&url)?;
        Ok(url)
    }

    /// Whether `url` may be requested. Host names still go through the filtering resolver.
    pub fn check(&self, url: &Url) -> Result<(), String> {
        match url.scheme() {
            "https" => {}
            "http" if !self.require_https => {}
            "http" => return Err("production requires an https URL".to_owned()),
            other => return Err(format!("the scheme {other:?} is not http or https")),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("the URL must not carry a user name or password".to_owned());
        }
        let ip = match url.host() {
            None => return Err("the URL has no host".to_owned()),
            Some(Host::Domain(_)) => return Ok(()),
            Some(Host::Ipv4(ip)) => ip.into(),
            Some(Host::Ipv6(ip)) => ip.into(),
        };
        if is_blocked(ip) && !self.allow_private {
            return Err(format!(
                "{ip} is a private, loopback or otherwise non-public address; set AUDITPULSE_ALLOW_PRIVATE_OUTBOUND=true to allow it (development only)"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEV: OutboundPolicy = OutboundPolicy {
        require_https: false,
        allow_private: false,
    };
    const LOCAL: OutboundPolicy = OutboundPolicy {
        require_https: false,
        allow_private: true,
    };

    #[test]
    fn production_refuses_plain_http() {
        let err = OutboundPolicy::STRICT
            .parse("http://sandbox.plaid.com")
            .unwrap_err();
        assert!(err.contains("https"), "{err}");
        assert!(OutboundPolicy::STRICT
            .parse("https://sandbox.plaid.com")
            .is_ok());
        assert!(DEV.parse("http://plaid.example").is_ok());
    }

    #[test]
    fn other_schemes_and_credentials_are_refused() {
        for url in [
            "ftp://example.com",
            "file:///etc/passwd",
            "gopher://example.com",
            "https://user:pw@example.com",
            "https://user@example.com",
        ] {
            assert!(LOCAL.parse(url).is_err(), "{url} should be refused");
        }
    }

    #[test]
    fn literal_private_hosts_need_the_flag() {
        for url in [
            "http://127.0.0.1:8080",
            "http://[::1]/",
            "http://169.254.169.254/latest/meta-data",
            "http://10.0.0.1",
            "http://[::ffff:192.168.0.1]/",
            "http://0x7f000001/",
            "http://2130706433/",
            "http://0/",
        ] {
            let err = DEV.parse(url).unwrap_err();
            assert!(
                err.contains("AUDITPULSE_ALLOW_PRIVATE_OUTBOUND"),
                "{url}: {err}"
            );
            assert!(LOCAL.parse(url).is_ok(), "{url} should pass with the flag");
        }
        assert!(DEV.parse("https://93.184.215.14/").is_ok());
    }
}
