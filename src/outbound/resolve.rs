//! The DNS resolver of the outbound client: resolves with the system resolver and drops every
//! address the policy blocks, so a public-looking host name that resolves to 127.0.0.1 or to the
//! cloud metadata address is never connected to (DNS rebinding included: the check is on the very
//! addresses the connection uses).
//!
//! Invariant: without `allow_private`, no blocked address leaves this resolver; a name that
//! resolves only to blocked addresses is an error naming the host.

use std::net::SocketAddr;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::address::is_blocked;

/// Resolves names and filters the answers.
#[derive(Debug, Clone, Copy)]
pub struct Filtering {
    pub allow_private: bool,
}

impl Resolve for Filtering {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept = filter(found, allow_private);
            if kept.is_empty() {
                return Err(format!(
                    "{host} resolves to no public address; private targets need AUDITPULSE_ALLOW_PRIVATE_OUTBOUND=true"
                )
                .into());
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

/// The addresses that may be connected to.
pub fn filter(addresses: Vec<SocketAddr>, allow_private: bool) -> Vec<SocketAddr> {
    addresses
        .into_iter()
        .filter(|a| allow_private || !is_blocked(a.ip()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_answers_are_dropped_and_public_ones_kept() {
        let answers: Vec<SocketAddr> = ["127.0.0.1:0", "93.184.215.14:0", "[fe80::1]:0"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        assert_eq!(
            filter(answers.clone(), false),
            vec!["93.184.215.14:0".parse::<SocketAddr>().unwrap()]
        );
        assert_eq!(filter(answers, true).len(), 3);
    }

    #[tokio::test]
    async fn localhost_resolves_to_nothing_without_the_flag() {
        let name: Name = "localhost".parse().unwrap();
        let err = match (Filtering {
            allow_private: false,
        })
        .resolve(name)
        .await
        {
            Ok(_) => panic!("localhost must not resolve"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("no public address"), "{err}");
        let name: Name = "localhost".parse().unwrap();
        let addrs = Filtering {
            allow_private: true,
        }
        .resolve(name)
        .await
        .unwrap();
        assert!(addrs.count() > 0);
    }
}
