//! Parsers for single configuration values. Each returns a message that names what was expected.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use ipnet::IpNet;

pub fn boolean(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(format!("expected true or false, got {value:?}")),
    }
}

pub fn integer(value: &str, min: u64, max: u64) -> Result<u64, String> {
    let n: u64 = value
        .replace('_', "")
        .parse()
        .map_err(|_| format!("expected a whole number, got {value:?}"))?;
    if n < min || n > max {
        return Err(format!("must be between {min} and {max}, got {n}"));
    }
    Ok(n)
}

/// A duration: seconds, or a number with `s`, `m`, `h` or `d`; between one minute and 30 days.
pub fn duration(value: &str) -> Result<Duration, String> {
    let (number, unit) = match value.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => value.split_at(i),
        None => (value, "s"),
    };
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "expected a duration such as 30m or 6h, got {value:?}"
            ))
        }
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("expected a duration such as 30m or 6h, got {value:?}"))?;
    let secs = n.saturating_mul(scale);
    if !(60..=30 * 86_400).contains(&secs) {
        return Err(format!("must be between 1m and 30d, got {value:?}"));
    }
    Ok(Duration::from_secs(secs))
}

pub fn socket_addr(value: &str) -> Result<SocketAddr, String> {
    SocketAddr::from_str(value).map_err(|_| {
        format!("expected HOST:PORT with an IP address, such as 127.0.0.1:8080, got {value:?}")
    })
}

/// Comma-separated IP addresses or CIDR ranges.
pub fn networks(value: &str) -> Result<Vec<IpNet>, String> {
    list(value)
        .map(|item| {
            IpNet::from_str(item)
                .or_else(|_| IpAddr::from_str(item).map(IpNet::from))
                .map_err(|_| format!("{item:?} is not an IP address or CIDR range"))
        })
        .collect()
}

/// Comma-separated origins, each `scheme://host[:port]` with no path, or `*`.
pub fn origins(value: &str) -> Result<Vec<String>, String> {
    list(value)
        .map(|item| {
            if item == "*" {
                return Ok(item.to_owned());
            }
            let url = url::Url::parse(item).map_err(|_| {
                format!("{item:?} is not an origin such as https://audit.example.com")
            })?;
            let origin = url.origin().ascii_serialization();
            if origin == "null"
                || url.path() != "/" && !url.path().is_empty()
                || item.ends_with('/')
            {
                return Err(format!(
                    "{item:?} is not an origin: use scheme://host[:port] with no path"
                ));
            }
            Ok(origin)
        })
        .collect()
}

pub fn list(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_accept_scheme_host_port_only() {
        assert_eq!(
            origins("https://a.example, http://localhost:3000").unwrap(),
            vec!["https://a.example", "http://localhost:3000"]
        );
        assert!(origins("https://a.example/path").is_err());
        assert!(origins("a.example").is_err());
        assert_eq!(origins("*").unwrap(), vec!["*"]);
    }

    #[test]
    fn networks_accept_addresses_and_ranges() {
        let nets = networks("10.0.0.0/8, 127.0.0.1, ::1").unwrap();
        assert_eq!(nets.len(), 3);
        assert!(nets[1].contains(&"127.0.0.1".parse::<IpAddr>().unwrap()));
        assert!(networks("10.0.0.0/33").is_err());
    }

    #[test]
    fn durations_take_a_unit() {
        assert_eq!(duration("6h").unwrap().as_secs(), 21_600);
        assert_eq!(duration("90").unwrap().as_secs(), 90);
        assert_eq!(duration("1d").unwrap().as_secs(), 86_400);
        assert!(duration("10s").is_err());
        assert!(duration("6 hours").is_err());
    }

    #[test]
    fn integers_are_range_checked() {
        assert_eq!(integer("1_048_576", 1, u64::MAX).unwrap(), 1_048_576);
        assert!(integer("0", 1, 10)
            .unwrap_err()
            .contains("between 1 and 10"));
        assert!(integer("ten", 1, 10).is_err());
    }
}
