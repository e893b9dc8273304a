//! Time is UTC with microsecond precision, the finest both databases keep, so a value read back
//! equals the value written.

use chrono::{DateTime, SubsecRound, Utc};

pub type Timestamp = DateTime<Utc>;

pub fn now() -> Timestamp {
    Utc::now().trunc_subsecs(6)
}

/// Fixed-width text form used where a backend stores time as text (SQLite); sorts as time does.
pub fn to_text(t: &Timestamp) -> String {
    // Same output as chrono's "%Y-%m-%dT%H:%M:%S%.6fZ", without parsing a format string on every
    // call: this runs once per event when the audit trail is verified.
    use chrono::{Datelike, Timelike};
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond() % 1_000_000_000 / 1_000
    )
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

    #[test]
    fn text_form_matches_the_rfc3339_layout_byte_for_byte() {
        for micros in [
            0i64,
            1,
            999_999,
            1_764_000_000_123_456,
            4_102_444_799_999_999,
        ] {
            let t = DateTime::from_timestamp_micros(micros).unwrap();
            assert_eq!(to_text(&t), t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string());
        }
    }
}
