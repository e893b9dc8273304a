//! Counting events per key over a sliding time window, with bounded memory.
//!
//! Invariant: at most `capacity` keys are remembered (least recently seen forgotten first), and a
//! key fires at most once per window: after firing it stays quiet until the window has passed.

use std::collections::VecDeque;
use std::hash::Hash;
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use lru::LruCache;

/// `count` events within `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold {
    pub count: u32,
    pub window: Duration,
}

impl Threshold {
    /// Parses `N/15m`, `N/30s` or `N/1h`.
    pub fn parse(value: &str) -> Result<Self, String> {
        let expected =
            || format!("expected COUNT/WINDOW such as 10/15m (units s, m, h), got {value:?}");
        let (count, window) = value.trim().split_once('/').ok_or_else(expected)?;
        let count: u32 = count.trim().parse().map_err(|_| expected())?;
        let window = window.trim();
        let (digits, unit) = window.split_at(
            window
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(window.len()),
        );
        let n: u64 = digits.parse().map_err(|_| expected())?;
        let secs = match unit {
            "s" => n,
            "m" => n * 60,
            "h" => n * 3600,
            _ => return Err(expected()),
        };
        if count == 0 || secs == 0 {
            return Err(format!(
                "count and window must be at least 1, got {value:?}"
            ));
        }
        Ok(Self {
            count,
            window: Duration::from_secs(secs),
        })
    }
}

struct Track {
    times: VecDeque<Instant>,
    quiet_until: Option<Instant>,
}

pub struct WindowCounter<K: Hash + Eq> {
    threshold: Threshold,
    keys: LruCache<K, Track>,
}

impl<K: Hash + Eq> WindowCounter<K> {
    pub fn new(threshold: Threshold, capacity: usize) -> Self {
        let capacity = NonZeroUsize::new(capacity.max(1)).unwrap_or(NonZeroUsize::MIN);
        Self {
            threshold,
            keys: LruCache::new(capacity),
        }
    }

    /// Records one event; `Some(count)` when this event makes the key cross its threshold.
    pub fn hit(&mut self, key: K, now: Instant) -> Option<u32> {
        let window = self.threshold.window;
        let track = self.keys.get_or_insert_mut(key, || Track {
            times: VecDeque::new(),
            quiet_until: None,
        });
        while track
            .times
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) > window)
        {
            track.times.pop_front();
        }
        // Never keep more timestamps than the threshold needs.
        if track.times.len() >= self.threshold.count as usize {
            track.times.pop_front();
        }
        track.times.push_back(now);
        if track.quiet_until.is_some_and(|until| now < until) {
            return None;
        }
        if track.times.len() >= self.threshold.count as usize {
            track.quiet_until = Some(now + window);
            return Some(self.threshold.count);
        }
        None
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Threshold = Threshold {
        count: 3,
        window: Duration::from_secs(60),
    };

    #[test]
    fn fires_once_when_the_threshold_is_crossed_within_the_window() {
        let mut c = WindowCounter::new(T, 10);
        let t0 = Instant::now();
        assert_eq!(c.hit("a", t0), None);
        assert_eq!(c.hit("a", t0 + Duration::from_secs(10)), None);
        assert_eq!(c.hit("a", t0 + Duration::from_secs(20)), Some(3));
        assert_eq!(
            c.hit("a", t0 + Duration::from_secs(21)),
            None,
            "quiet for a window after firing"
        );
        assert_eq!(c.hit("b", t0), None, "keys are counted apart");
    }

    #[test]
    fn events_spread_wider_than_the_window_never_fire() {
        let mut c = WindowCounter::new(T, 10);
        let t0 = Instant::now();
        for i in 0..10 {
            assert_eq!(c.hit("a", t0 + Duration::from_secs(31 * i)), None);
        }
    }

    #[test]
    fn fires_again_after_the_quiet_window() {
        let mut c = WindowCounter::new(T, 10);
        let t0 = Instant::now();
        for i in 0..3 {
            c.hit("a", t0 + Duration::from_secs(i));
        }
        let later = t0 + Duration::from_secs(100);
        assert_eq!(c.hit("a", later), None);
        assert_eq!(c.hit("a", later), None);
        assert_eq!(c.hit("a", later), Some(3));
    }

    #[test]
    fn memory_is_bounded_by_capacity() {
        let mut c = WindowCounter::new(T, 100);
        let t0 = Instant::now();
        for key in 0..10_000u32 {
            c.hit(key, t0);
        }
        assert_eq!(c.len(), 100);
    }

    #[test]
    fn thresholds_parse() {
        assert_eq!(
            Threshold::parse("10/15m").unwrap(),
            Threshold {
                count: 10,
                window: Duration::from_secs(900)
            }
        );
        assert_eq!(
            Threshold::parse("5/30s").unwrap().window,
            Duration::from_secs(30)
        );
        for bad in ["10", "x/1m", "10/1d", "0/1m", "10/0m"] {
            assert!(Threshold::parse(bad).is_err(), "{bad}");
        }
    }
}
