//! Rate limiting by client IP and by authenticated principal, per route group, with graduated
//! blocking. Breaches are reported through the one security-event interface (`crate::events`).

mod bucket;
mod limiter;
mod middleware;
mod policy;

use std::net::IpAddr;
use std::time::Instant;

pub use bucket::{Breach, Decision};
pub use limiter::Limiter;
pub use middleware::{limit_by_ip, limit_principal, Limits};
pub use policy::{BlockPolicy, Rate};

/// Route groups, each with its own rates. Which route is in which group is decided in
/// `web::routes::group_of`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    /// `/healthz`, `/readyz`: probed by load balancers.
    Health,
    /// Login, refresh, setup: the brute-force targets.
    Auth,
    /// Everything else.
    Api,
    /// The LLM gateway's provider-shaped routes (`/v1/...`): many calls from few servers.
    Gateway,
}

impl Group {
    pub fn as_str(self) -> &'static str {
        match self {
            Group::Health => "health",
            Group::Auth => "auth",
            Group::Api => "api",
            Group::Gateway => "gateway",
        }
    }
}

/// What a limiter key is: a client address or an authenticated principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Ip,
    Principal,
}

/// The configured rates.
#[derive(Debug, Clone)]
pub struct RateLimits {
    pub health_ip: Option<Rate>,
    pub api_ip: Option<Rate>,
    pub api_principal: Option<Rate>,
    pub gateway_ip: Option<Rate>,
    pub auth_ip: Option<Rate>,
    pub auth_principal: Option<Rate>,
    pub block: BlockPolicy,
    pub max_clients: usize,
}

/// IPv6 clients are limited per /64, the smallest block a user normally controls; otherwise one
/// host could rotate through 2^64 addresses and never be limited.
pub fn ip_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

struct GroupLimiters {
    ip: Option<Limiter<IpAddr>>,
    principal: Option<Limiter<String>>,
}

/// All limiters of the running server.
pub struct RateLimiter {
    health: GroupLimiters,
    api: GroupLimiters,
    gateway: GroupLimiters,
    auth: GroupLimiters,
}

impl RateLimiter {
    pub fn new(limits: &RateLimits) -> Self {
        let make_ip =
            |rate: Option<Rate>| rate.map(|r| Limiter::new(r, limits.block, limits.max_clients));
        let make_p =
            |rate: Option<Rate>| rate.map(|r| Limiter::new(r, limits.block, limits.max_clients));
        Self {
            health: GroupLimiters {
                ip: make_ip(limits.health_ip),
                principal: None,
            },
            api: GroupLimiters {
                ip: make_ip(limits.api_ip),
                principal: make_p(limits.api_principal),
            },
            gateway: GroupLimiters {
                ip: make_ip(limits.gateway_ip),
                principal: None,
            },
            auth: GroupLimiters {
                ip: make_ip(limits.auth_ip),
                principal: make_p(limits.auth_principal),
            },
        }
    }

    fn group(&self, group: Group) -> &GroupLimiters {
        match group {
            Group::Health => &self.health,
            Group::Api => &self.api,
            Group::Gateway => &self.gateway,
            Group::Auth => &self.auth,
        }
    }

    pub fn check_ip(&self, group: Group, ip: IpAddr) -> Decision {
        match &self.group(group).ip {
            Some(limiter) => limiter.check(ip_key(ip), Instant::now()),
            None => Decision::Allow,
        }
    }

    pub fn check_principal(&self, group: Group, principal: &str) -> Decision {
        match &self.group(group).principal {
            Some(limiter) => limiter.check(principal.to_owned(), Instant::now()),
            None => Decision::Allow,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_share_a_bucket_per_64_block() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(ip_key(a), ip_key(b));
        assert_ne!(ip_key(a), ip_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(ip_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }
}
