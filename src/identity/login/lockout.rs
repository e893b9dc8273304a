//! Account lockout after repeated failed logins, as pure rules over a [`Throttle`].
//!
//! The state is kept per e-mail key whether or not such an account exists, so a lockout reveals
//! nothing about which accounts exist. Five failures within fifteen minutes lock the e-mail for 1,
//! then 5, 15 and 60 minutes (and 60 thereafter) for successive lockouts; a successful login
//! clears the state, and a day without failures forgets earlier lockouts.
//!
//! Invariant: while locked, nothing is counted and nothing is checked: the caller refuses before
//! it looks at the password.

use std::time::Duration;

use crate::domain::time::Timestamp;
use crate::identity::Throttle;

pub const MAX_FAILURES: u32 = 5;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Lock periods of the first, second, third and every further lockout.
pub const PERIODS: [Duration; 4] = [
    Duration::from_secs(60),
    Duration::from_secs(5 * 60),
    Duration::from_secs(15 * 60),
    Duration::from_secs(60 * 60),
];
/// After this long without a failure, earlier lockouts no longer lengthen the next one.
pub const FORGET_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

fn chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// How long the e-mail stays locked, if it is locked at `now`.
pub fn locked_for(throttle: Option<&Throttle>, now: Timestamp) -> Option<Duration> {
    let until = throttle?.locked_until?;
    (until > now).then(|| (until - now).to_std().unwrap_or_default())
}

/// The lock period of the `n`-th lockout (1-based).
pub fn period(n: u32) -> Duration {
    let index = usize::try_from(n.saturating_sub(1)).unwrap_or(usize::MAX);
    PERIODS[index.min(PERIODS.len() - 1)]
}

/// The state after a failed attempt at `now`, and the lock period when this failure locks.
pub fn record_failure(throttle: Option<&Throttle>, now: Timestamp) -> (Throttle, Option<Duration>) {
    let fresh = |lockouts| Throttle {
        failures: 0,
        window_start: now,
        lockouts,
        locked_until: None,
    };
    let mut next = match throttle {
        None => fresh(0),
        Some(t) if now - t.window_start > chrono(FORGET_AFTER) => fresh(0),
        Some(t) if now - t.window_start > chrono(WINDOW) => fresh(t.lockouts),
        Some(t) => Throttle {
            locked_until: None,
            ..*t
        },
    };
    next.failures += 1;
    if next.failures < MAX_FAILURES {
        return (next, None);
    }
    next.lockouts += 1;
    let lock = period(next.lockouts);
    next.failures = 0;
    next.window_start = now;
    next.locked_until = Some(now + chrono(lock));
    (next, Some(lock))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time;

    fn secs(n: i64) -> chrono::Duration {
        chrono::Duration::seconds(n)
    }

    /// Fails `n` times, a second apart from `start`; returns the state and the last lock.
    fn fail(
        mut throttle: Option<Throttle>,
        start: Timestamp,
        n: i64,
    ) -> (Option<Throttle>, Option<Duration>) {
        let mut lock = None;
        for i in 0..n {
            let (next, locked) = record_failure(throttle.as_ref(), start + secs(i));
            throttle = Some(next);
            lock = locked;
        }
        (throttle, lock)
    }

    #[test]
    fn five_failures_within_the_window_lock_for_a_minute() {
        let now = time::now();
        let (four, lock) = fail(None, now, 4);
        assert_eq!(lock, None);
        assert_eq!(locked_for(four.as_ref(), now + secs(4)), None);
        let (five, lock) = fail(four, now + secs(4), 1);
        assert_eq!(lock, Some(Duration::from_secs(60)));
        assert_eq!(
            locked_for(five.as_ref(), now + secs(4)),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            locked_for(five.as_ref(), now + secs(34)),
            Some(Duration::from_secs(30))
        );
        assert_eq!(locked_for(five.as_ref(), now + secs(64)), None);
    }

    #[test]
    fn failures_spread_beyond_the_window_do_not_lock() {
        let now = time::now();
        let (four, _) = fail(None, now, 4);
        let (next, lock) = fail(four, now + secs(16 * 60), 1);
        assert_eq!(lock, None);
        assert_eq!(next.unwrap().failures, 1, "the window started again");
    }

    #[test]
    fn successive_lockouts_last_1_5_15_then_60_minutes() {
        let mut now = time::now();
        let mut throttle = None;
        let mut periods = Vec::new();
        for _ in 0..6 {
            let (next, lock) = fail(throttle, now, 5);
            periods.push(lock.unwrap().as_secs() / 60);
            throttle = next;
            // The next round starts once the lock is over.
            now = throttle.unwrap().locked_until.unwrap() + secs(1);
        }
        assert_eq!(periods, vec![1, 5, 15, 60, 60, 60]);
    }

    #[test]
    fn a_quiet_day_forgets_earlier_lockouts() {
        let now = time::now();
        let (locked, _) = fail(None, now, 5);
        let (_, lock) = fail(locked, now + secs(25 * 3600), 5);
        assert_eq!(lock, Some(Duration::from_secs(60)));
    }
}
