//! Time is UTC with microsecond precision, the finest both databases keep, so a value read back
//! equals the value written.

use chrono::{DateTime, SubsecRound, Utc};

pub type Timestamp = DateTime<Utc>;

pub fn now() -> Timestamp {
    Utc::now().trunc_subsecs(6)
}

/// Fixed-width text form used where a backend stores time as text (SQLite); sorts as time does.
pub fn to_text(t: &Timestamp) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub fn from_text(s: &str) -> Result<Timestamp, chrono::ParseError> {
    DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_round_trips_and_sorts_chronologically() {
        let t = now();
        assert_eq!(from_text(&to_text(&t)).unwrap(), t);
        let earlier = t - chrono::Duration::microseconds(1);
        assert!(to_text(&earlier) < to_text(&t));
    }
}
