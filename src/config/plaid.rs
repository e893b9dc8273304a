//! The Plaid settings and the outbound policy they are checked against.
//!
//! Invariant: Plaid is configured only when both the client id and the secret are set (one
//! without the other is an error); the base URL passed the outbound policy; the secret is a
//! [`SecretString`] and never printed.

use std::time::Duration;

use url::Url;

use super::{parse, vars, Reader};
use crate::outbound::OutboundPolicy;
use crate::secret::SecretString;

/// Which Plaid environment to talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaidEnv {
    Sandbox,
    Production,
}

impl PlaidEnv {
    pub fn base_url(self) -> &'static str {
        match self {
            PlaidEnv::Sandbox => "https://sandbox.plaid.com",
            PlaidEnv::Production => "https://production.plaid.com",
        }
    }
}

/// Plaid credentials and endpoints.
#[derive(Debug, Clone)]
pub struct PlaidConfig {
    pub client_id: String,
    pub secret: SecretString,
    pub env: PlaidEnv,
    /// `AUDITPULSE_PLAID_BASE_URL`, or the environment's host.
    pub base_url: Url,
    /// Where Plaid sends webhooks; without it items are kept current by the periodic sync only.
    pub webhook_url: Option<Url>,
    /// How often every active item is synced even without a webhook.
    pub sync_interval: Duration,
}

pub(super) fn read_outbound(r: &mut Reader<'_>, production: bool) -> Option<OutboundPolicy> {
    let allow_private = r.get(vars::ALLOW_PRIVATE_OUTBOUND, parse::boolean)?;
    Some(OutboundPolicy {
        require_https: production,
        allow_private,
    })
}

pub(super) fn read(
    r: &mut Reader<'_>,
    policy: Option<OutboundPolicy>,
) -> Option<Option<PlaidConfig>> {
    let env = r.get(vars::PLAID_ENV, |v| match v {
        "sandbox" => Ok(PlaidEnv::Sandbox),
        "production" => Ok(PlaidEnv::Production),
        _ => Err(format!("expected sandbox or production, got {v:?}")),
    });
    let sync_interval = r.get(vars::PLAID_SYNC_INTERVAL, parse::duration);
    let client_id = r.raw(vars::PLAID_CLIENT_ID).map(str::to_owned);
    let secret = r
        .raw(vars::PLAID_SECRET)
        .map(|s| SecretString::new(s.to_owned()));
    let base_url = match (r.raw(vars::PLAID_BASE_URL), policy) {
        (Some(_), Some(policy)) => Some(r.get(vars::PLAID_BASE_URL, |v| policy.parse(v))?),
        _ => None,
    };
    let require_https = policy.is_none_or(|p| p.require_https);
    let webhook_url = match r.raw(vars::PLAID_WEBHOOK_URL) {
        Some(_) => Some(r.get(vars::PLAID_WEBHOOK_URL, |v| {
            let url = Url::parse(v).map_err(|e| format!("{v:?} is not a URL ({e})"))?;
            match url.scheme() {
                "https" => Ok(url),
                "http" if !require_https => Ok(url),
                _ => Err("Plaid calls webhooks over https only".to_owned()),
            }
        })?),
        None => None,
    };
    let (env, sync_interval, policy) = (env?, sync_interval?, policy?);
    let (client_id, secret) = match (client_id, secret) {
        (None, None) => return Some(None),
        (Some(id), Some(secret)) => (id, secret),
        _ => {
            r.errors.push(format!(
                "{} and {} must be set together",
                vars::PLAID_CLIENT_ID,
                vars::PLAID_SECRET
            ));
            return None;
        }
    };
    let base_url = match base_url {
        Some(url) => url,
        None => policy.parse(env.base_url()).ok()?,
    };
    Some(Some(PlaidConfig {
        client_id,
        secret,
        env,
        base_url,
        webhook_url,
        sync_interval,
    }))
}

#[cfg(test)]
mod tests {
    use crate::config::{vars, Config, SecretMode, Sources};

    fn load(pairs: &[(&str, &str)]) -> Result<Config, Vec<String>> {
        let dir = tempfile::tempdir().unwrap();
        let mut all: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        all.push((vars::DATA_DIR.into(), dir.path().display().to_string()));
        Config::load(&Sources::from_pairs(all), SecretMode::Generate).map(|l| l.config)
    }

    const CREDENTIALS: [(&str, &str); 2] = [
        (vars::PLAID_CLIENT_ID, "client-1"),
        (vars::PLAID_SECRET, "plaid-secret-value"),
    ];

    #[test]
    fn plaid_is_optional_and_defaults_to_the_sandbox() {
        assert!(load(&[]).unwrap().plaid.is_none());
        let plaid = load(&CREDENTIALS).unwrap().plaid.unwrap();
        assert_eq!(plaid.base_url.as_str(), "https://sandbox.plaid.com/");
        assert_eq!(plaid.sync_interval.as_secs(), 6 * 3600);
        assert!(!format!("{plaid:?}").contains("plaid-secret-value"));
        let mut pairs = CREDENTIALS.to_vec();
        pairs.push((vars::PLAID_ENV, "production"));
        pairs.push((vars::PLAID_SYNC_INTERVAL, "30m"));
        let plaid = load(&pairs).unwrap().plaid.unwrap();
        assert_eq!(plaid.base_url.as_str(), "https://production.plaid.com/");
        assert_eq!(plaid.sync_interval.as_secs(), 1800);
    }

    #[test]
    fn config_check_redacts_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        let mut pairs: Vec<(String, String)> = CREDENTIALS
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        pairs.push((vars::DATA_DIR.into(), dir.path().display().to_string()));
        let sources = Sources::from_pairs(pairs);
        let config = Config::load(&sources, SecretMode::Inspect).unwrap().config;
        let lines = crate::config::report(&config, &sources).join("\n");
        assert!(
            lines.contains("AUDITPULSE_PLAID_SECRET=[REDACTED]"),
            "{lines}"
        );
        assert!(
            lines.contains("AUDITPULSE_PLAID_CLIENT_ID=client-1"),
            "{lines}"
        );
        assert!(!lines.contains("plaid-secret-value"), "{lines}");
    }

    #[test]
    fn half_configured_plaid_is_an_error() {
        let errors = load(&CREDENTIALS[..1]).unwrap_err();
        assert!(errors[0].contains("must be set together"), "{errors:?}");
    }

    #[test]
    fn a_private_base_url_needs_the_flag() {
        let mut pairs = CREDENTIALS.to_vec();
        pairs.push((vars::PLAID_BASE_URL, "http://127.0.0.1:9999"));
        let errors = load(&pairs).unwrap_err();
        assert!(errors[0].starts_with(vars::PLAID_BASE_URL), "{errors:?}");
        pairs.push((vars::ALLOW_PRIVATE_OUTBOUND, "true"));
        let plaid = load(&pairs).unwrap().plaid.unwrap();
        assert_eq!(plaid.base_url.as_str(), "http://127.0.0.1:9999/");
    }

    #[test]
    fn production_refuses_private_outbound_and_plain_http() {
        let base = [
            (vars::ENV, "production"),
            (
                vars::MASTER_KEYS,
                "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            ),
            (vars::TRUSTED_PROXIES, "10.0.0.1"),
        ];
        let mut pairs = base.to_vec();
        pairs.push((vars::ALLOW_PRIVATE_OUTBOUND, "true"));
        let errors = load(&pairs).unwrap_err();
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with(vars::ALLOW_PRIVATE_OUTBOUND)
                    && e.contains("not allowed in production")),
            "{errors:?}"
        );
        let mut pairs = base.to_vec();
        pairs.extend(CREDENTIALS);
        pairs.push((vars::PLAID_BASE_URL, "http://plaid.example.com"));
        let errors = load(&pairs).unwrap_err();
        assert!(errors[0].contains("https"), "{errors:?}");
    }
}
