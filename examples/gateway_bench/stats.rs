//! What one target's requests came to: latencies to the last byte and to the first body byte,
//! how late the generator sent them, and the errors by kind.
//!
//! The map: `Stats` (collected while the run goes), `percentile` (nearest rank).
//!
//! Invariant: every request sent in the measured window ends as exactly one latency sample or one
//! error; none is dropped from the counts.

use std::collections::BTreeMap;

/// One target's measured requests.
#[derive(Default)]
pub struct Stats {
    /// Send to last byte, microseconds, successful requests only.
    pub latency_us: Vec<u64>,
    /// Send to first body byte, microseconds, successful requests only.
    pub ttfb_us: Vec<u64>,
    /// How late each request was sent after its scheduled time, microseconds.
    pub lag_us: Vec<u64>,
    pub errors: BTreeMap<String, u64>,
}

impl Stats {
    pub fn ok(&mut self, latency_us: u64, ttfb_us: u64, lag_us: u64) {
        self.latency_us.push(latency_us);
        self.ttfb_us.push(ttfb_us);
        self.lag_us.push(lag_us);
    }

    pub fn error(&mut self, kind: String, lag_us: u64) {
        self.lag_us.push(lag_us);
        *self.errors.entry(kind).or_default() += 1;
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    pub fn sort(&mut self) {
        self.latency_us.sort_unstable();
        self.ttfb_us.sort_unstable();
        self.lag_us.sort_unstable();
    }
}

/// The nearest-rank percentile `p` (0-100] of sorted `values`; 0 when there are none.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&values, 50.0), 50);
        assert_eq!(percentile(&values, 99.0), 99);
        assert_eq!(percentile(&values, 100.0), 100);
        assert_eq!(percentile(&[7], 99.0), 7);
        assert_eq!(percentile(&[], 99.0), 0);
    }
}
