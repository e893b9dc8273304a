//! `DATABASE_URL`: which backend, and how to print it without its credentials.

use std::fmt;
use std::path::Path;

use crate::secret::{SecretString, REDACTED};

#[derive(Clone, Debug)]
pub enum DatabaseUrl {
    /// `sqlite:` URL, embedded default.
    Sqlite(String),
    /// `postgres://` URL; may carry a password, so it is kept secret.
    Postgres(SecretString),
}

impl DatabaseUrl {
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.starts_with("sqlite:") {
            Ok(Self::Sqlite(value.to_owned()))
        } else if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            url::Url::parse(value).map_err(|e| format!("not a valid PostgreSQL URL: {e}"))?;
            Ok(Self::Postgres(SecretString::new(value.to_owned())))
        } else {
            Err("must start with sqlite: or postgres://".to_owned())
        }
    }

    pub fn default_for(data_dir: &Path) -> Self {
        Self::Sqlite(format!(
            "sqlite://{}",
            data_dir.join("auditpulse.db").display()
        ))
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    /// For a PostgreSQL URL to a host other than this machine, whether it requires TLS.
    /// `None` when the question does not apply (SQLite, loopback, Unix socket).
    pub fn remote_without_tls(&self) -> Option<bool> {
        let Self::Postgres(secret) = self else {
            return None;
        };
        let url = url::Url::parse(secret.expose()).ok()?;
        let param = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        let local = match url.host() {
            None => true,
            // Non-special schemes keep IPv4 hosts as opaque text, so parse them here.
            Some(url::Host::Domain(d)) => {
                d.is_empty()
                    || d.eq_ignore_ascii_case("localhost")
                    || d.parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            }
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        } && param("host").is_none_or(|h| h.starts_with('/'));
        if local {
            return None;
        }
        let tls = matches!(
            param("sslmode").as_deref(),
            Some("require" | "verify-ca" | "verify-full")
        );
        Some(!tls)
    }
}

/// The URL with any password (in the authority or a `password=` parameter) replaced.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(url) => f.write_str(url),
            Self::Postgres(secret) => {
                let Ok(mut url) = url::Url::parse(secret.expose()) else {
                    return f.write_str(REDACTED);
                };
                // The URL encoder would escape the brackets; put a plain marker in, then swap it.
                const MARK: &str = "__AUDITPULSE_REDACTED__";
                if url.password().is_some() {
                    let _ = url.set_password(Some(MARK));
                }
                let pairs: Vec<(String, String)> = url
                    .query_pairs()
                    .map(|(k, v)| {
                        let v = if k.eq_ignore_ascii_case("password") {
                            MARK.to_owned()
                        } else {
                            v.into_owned()
                        };
                        (k.into_owned(), v)
                    })
                    .collect();
                if !pairs.is_empty() {
                    url.query_pairs_mut().clear().extend_pairs(pairs);
                }
                f.write_str(&url.as_str().replace(MARK, REDACTED))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_hides_passwords() {
        let url = DatabaseUrl::parse(
            "postgres://app:s3cr3t@db.internal/ap?password=other&sslmode=require",
        )
        .unwrap();
        let shown = url.to_string();
        assert_eq!(
            shown,
            "postgres://app:[REDACTED]@db.internal/ap?password=[REDACTED]&sslmode=require"
        );
        assert!(shown.contains("db.internal"));
        assert!(!format!("{url:?}").contains("s3cr3t"));
    }

    #[test]
    fn remote_postgres_needs_sslmode_require_or_stricter() {
        let check = |u: &str| DatabaseUrl::parse(u).unwrap().remote_without_tls();
        assert_eq!(check("postgres://u@db.internal/ap"), Some(true));
        assert_eq!(
            check("postgres://u@db.internal/ap?sslmode=prefer"),
            Some(true)
        );
        assert_eq!(
            check("postgres://u@db.internal/ap?sslmode=require"),
            Some(false)
        );
        assert_eq!(
            check("postgres://u@10.1.2.3/ap?sslmode=verify-full"),
            Some(false)
        );
        assert_eq!(check("postgres://u@localhost/ap"), None);
        assert_eq!(check("postgres://u@127.0.0.1:5432/ap"), None);
        assert_eq!(check("postgres://u@[::1]/ap"), None);
        assert_eq!(check("sqlite://x.db"), None);
    }

    #[test]
    fn unknown_schemes_are_refused() {
        assert!(DatabaseUrl::parse("mysql://x").is_err());
    }
}
