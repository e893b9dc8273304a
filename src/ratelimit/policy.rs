//! Rate-limit policies as configured: a token-bucket rate per route group and key kind, and the
//! graduated blocking that follows repeated refusals. Pure values, no I/O.

use std::fmt;
use std::time::Duration;

/// A token bucket: `count` requests per `period`, with bursts up to `burst`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub count: u32,
    pub period: Duration,
    pub burst: u32,
}

impl Rate {
    /// Parses `N/s`, `N/m` or `N/h`, optionally followed by `,burst=B`. Returns `None` for `off`.
    pub fn parse(value: &str) -> Result<Option<Self>, String> {
        let value = value.trim();
        if value.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let expected =
            || format!("expected N/s, N/m or N/h with optional ,burst=B, or off; got {value:?}");
        let (rate, burst) = match value.split_once(',') {
            Some((rate, rest)) => {
                let b = rest.trim().strip_prefix("burst=").ok_or_else(expected)?;
                (
                    rate.trim(),
                    Some(b.trim().parse::<u32>().map_err(|_| expected())?),
                )
            }
            None => (value, None),
        };
        let (count, unit) = rate.split_once('/').ok_or_else(expected)?;
        let count: u32 = count.trim().parse().map_err(|_| expected())?;
        let period = match unit.trim() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "m" | "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            _ => return Err(expected()),
        };
        let burst = burst.unwrap_or(count);
        if count == 0 || burst == 0 {
            return Err(format!(
                "rate and burst must be at least 1 (use off to disable); got {value:?}"
            ));
        }
        Ok(Some(Self {
            count,
            period,
            burst,
        }))
    }

    /// Tokens added per second.
    pub fn per_second(&self) -> f64 {
        f64::from(self.count) / self.period.as_secs_f64()
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.period.as_secs() {
            1 => "s",
            60 => "m",
            _ => "h",
        };
        write!(f, "{}/{unit},burst={}", self.count, self.burst)
    }
}

/// How a client that keeps hitting its limit is blocked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockPolicy {
    /// Refused requests in one episode after which the client is blocked.
    pub after: u32,
    /// First block period; each further block doubles it, up to `max`.
    pub base: Duration,
    pub max: Duration,
}

impl BlockPolicy {
    /// The block period for the `level`-th block (0-based): base, 2×base, 4×base... capped at max.
    pub fn period(&self, level: u32) -> Duration {
        let factor = 1u32.checked_shl(level.min(31)).unwrap_or(u32::MAX);
        self.base
            .checked_mul(factor)
            .unwrap_or(self.max)
            .min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_with_and_without_burst() {
        assert_eq!(
            Rate::parse("5/m").unwrap(),
            Some(Rate {
                count: 5,
                period: Duration::from_secs(60),
                burst: 5
            })
        );
        let r = Rate::parse("50/s, burst=100").unwrap().unwrap();
        assert_eq!((r.count, r.burst, r.per_second()), (50, 100, 50.0));
        assert_eq!(Rate::parse("OFF").unwrap(), None);
        assert_eq!(r.to_string(), "50/s,burst=100");
    }

    #[test]
    fn bad_rates_say_what_is_expected() {
        for bad in ["5", "5/d", "x/s", "0/s", "5/s,bust=3", "5/s,burst=0"] {
            assert!(Rate::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn block_periods_double_up_to_the_maximum() {
        let p = BlockPolicy {
            after: 3,
            base: Duration::from_secs(60),
            max: Duration::from_secs(900),
        };
        let secs: Vec<u64> = (0..6).map(|l| p.period(l).as_secs()).collect();
        assert_eq!(secs, vec![60, 120, 240, 480, 900, 900]);
        assert_eq!(p.period(200).as_secs(), 900);
    }
}
