//! One client's token bucket with graduated blocking. Pure logic over an explicit clock.
//!
//! Invariant: a client is refused while its bucket is empty or while it is blocked; after
//! `BlockPolicy::after` refusals in one episode it is blocked for a period that doubles with each
//! further block, and forgiven (back to the first period) after `BlockPolicy::max` without refusals.

use std::time::{Duration, Instant};

use super::policy::{BlockPolicy, Rate};

#[derive(Debug, Clone)]
pub struct Bucket {
    tokens: f64,
    refreshed: Instant,
    refused_in_episode: u32,
    last_refusal: Option<Instant>,
    blocked_until: Option<Instant>,
    block_level: u32,
}

/// What happened to one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Allow,
    Refuse {
        retry_after: Duration,
        /// Set when this refusal is a breach worth a security event: the first refusal of an
        /// episode, or the one that starts a block. Refusals in between are only counted.
        breach: Option<Breach>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Breach {
    /// The block this refusal started, if any.
    pub blocked_for: Option<Duration>,
}

impl Bucket {
    pub fn new(rate: &Rate, now: Instant) -> Self {
        Self {
            tokens: f64::from(rate.burst),
            refreshed: now,
            refused_in_episode: 0,
            last_refusal: None,
            blocked_until: None,
            block_level: 0,
        }
    }

    pub fn check(&mut self, rate: &Rate, block: &BlockPolicy, now: Instant) -> Decision {
        if let Some(until) = self.blocked_until {
            if until > now {
                return Decision::Refuse {
                    retry_after: until - now,
                    breach: None,
                };
            }
            self.blocked_until = None;
        }
        let elapsed = now.saturating_duration_since(self.refreshed).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate.per_second()).min(f64::from(rate.burst));
        self.refreshed = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Decision::Allow;
        }
        self.refuse(rate, block, now)
    }

    fn refuse(&mut self, rate: &Rate, block: &BlockPolicy, now: Instant) -> Decision {
        let quiet = self
            .last_refusal
            .map(|last| now.saturating_duration_since(last));
        // A new episode starts once the client has let a whole period pass without refusals.
        if quiet.is_none_or(|q| q > rate.period) {
            self.refused_in_episode = 0;
        }
        if quiet.is_some_and(|q| q > block.max) {
            self.block_level = 0;
        }
        self.last_refusal = Some(now);
        self.refused_in_episode += 1;
        let until_token = Duration::from_secs_f64((1.0 - self.tokens) / rate.per_second());
        if self.refused_in_episode >= block.after {
            let period = block.period(self.block_level);
            self.block_level = self.block_level.saturating_add(1);
            self.blocked_until = Some(now + period);
            self.refused_in_episode = 0;
            return Decision::Refuse {
                retry_after: period,
                breach: Some(Breach {
                    blocked_for: Some(period),
                }),
            };
        }
        let breach = (self.refused_in_episode == 1).then_some(Breach { blocked_for: None });
        Decision::Refuse {
            retry_after: until_token,
            breach,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: Rate = Rate {
        count: 2,
        period: Duration::from_secs(1),
        burst: 2,
    };
    const BLOCK: BlockPolicy = BlockPolicy {
        after: 3,
        base: Duration::from_secs(60),
        max: Duration::from_secs(900),
    };

    fn refused(d: &Decision) -> bool {
        matches!(d, Decision::Refuse { .. })
    }

    #[test]
    fn allows_the_burst_then_refuses_until_tokens_refill() {
        let t0 = Instant::now();
        let mut b = Bucket::new(&RATE, t0);
        assert_eq!(b.check(&RATE, &BLOCK, t0), Decision::Allow);
        assert_eq!(b.check(&RATE, &BLOCK, t0), Decision::Allow);
        let third = b.check(&RATE, &BLOCK, t0);
        match third {
            Decision::Refuse {
                retry_after,
                breach: Some(Breach { blocked_for: None }),
            } => {
                assert_eq!(retry_after, Duration::from_millis(500));
            }
            other => panic!("expected a first breach, got {other:?}"),
        }
        assert_eq!(
            b.check(&RATE, &BLOCK, t0 + Duration::from_millis(500)),
            Decision::Allow
        );
    }

    #[test]
    fn repeated_refusals_block_for_doubling_periods() {
        let t0 = Instant::now();
        let mut b = Bucket::new(&RATE, t0);
        b.check(&RATE, &BLOCK, t0);
        b.check(&RATE, &BLOCK, t0);
        assert!(refused(&b.check(&RATE, &BLOCK, t0)));
        let second = b.check(&RATE, &BLOCK, t0);
        assert_eq!(
            second,
            Decision::Refuse {
                retry_after: Duration::from_millis(500),
                breach: None
            }
        );
        let blocked = b.check(&RATE, &BLOCK, t0);
        assert_eq!(
            blocked,
            Decision::Refuse {
                retry_after: Duration::from_secs(60),
                breach: Some(Breach {
                    blocked_for: Some(Duration::from_secs(60))
                })
            }
        );
        // Still blocked 59 s later even though tokens have refilled.
        let t59 = t0 + Duration::from_secs(59);
        assert_eq!(
            b.check(&RATE, &BLOCK, t59),
            Decision::Refuse {
                retry_after: Duration::from_secs(1),
                breach: None
            }
        );
        // After the block, the client gets its tokens back; hammering again blocks for 120 s.
        let t61 = t0 + Duration::from_secs(61);
        assert_eq!(b.check(&RATE, &BLOCK, t61), Decision::Allow);
        assert_eq!(b.check(&RATE, &BLOCK, t61), Decision::Allow);
        for _ in 0..2 {
            assert!(refused(&b.check(&RATE, &BLOCK, t61)));
        }
        match b.check(&RATE, &BLOCK, t61) {
            Decision::Refuse {
                breach: Some(Breach { blocked_for }),
                ..
            } => {
                assert_eq!(blocked_for, Some(Duration::from_secs(120)));
            }
            other => panic!("expected a second, longer block, got {other:?}"),
        }
    }

    #[test]
    fn a_client_that_behaves_for_the_maximum_period_is_forgiven() {
        let t0 = Instant::now();
        let mut b = Bucket::new(&RATE, t0);
        let mut now = t0;
        for _ in 0..3 {
            // Exhaust, get blocked, wait the block out.
            while !matches!(
                b.check(&RATE, &BLOCK, now),
                Decision::Refuse {
                    breach: Some(Breach {
                        blocked_for: Some(_)
                    }),
                    ..
                }
            ) {}
            now += Duration::from_secs(900);
        }
        now += Duration::from_secs(901);
        while !matches!(
            b.check(&RATE, &BLOCK, now),
            Decision::Refuse {
                breach: Some(Breach {
                    blocked_for: Some(_)
                }),
                ..
            }
        ) {}
        assert_eq!(b.blocked_until, Some(now + Duration::from_secs(60)));
    }
}
