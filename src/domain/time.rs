//! Time is UTC with microsecond precision, the finest both databases keep, so a value read back
//! equals the value written.

use chrono::{DateTime, Datelike, SubsecRound, Timelike, Utc};

pub type Timestamp = DateTime<Utc>;

pub fn now() -> Timestamp {
    Utc::now().trunc_subsecs(6)
}

/// The text form's length: `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
const TEXT_LEN: usize = 27;

/// Fixed-width text form used where a backend stores time as text (SQLite); sorts as time does.
///
/// Same bytes as `format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", ...)` of the instant's
/// fields, written digit by digit: this runs for every time bound on SQLite (three per imported
/// event) and for every event when the audit trail is verified.
pub fn to_text(t: &Timestamp) -> String {
    let year = t.year();
    let Ok(year) = u32::try_from(year) else {
        return to_text_wide(t);
    };
    if year > 9999 {
        return to_text_wide(t);
    }
    let mut b = *b"0000-00-00T00:00:00.000000Z";
    digits(&mut b[0..4], year);
    digits(&mut b[5..7], t.month());
    digits(&mut b[8..10], t.day());
    digits(&mut b[11..13], t.hour());
    digits(&mut b[14..16], t.minute());
    digits(&mut b[17..19], t.second());
    digits(&mut b[20..26], t.nanosecond() % 1_000_000_000 / 1_000);
    debug_assert_eq!(b.len(), TEXT_LEN);
    match std::str::from_utf8(&b) {
        Ok(text) => text.to_owned(),
        Err(_) => to_text_wide(t),
    }
}

/// Writes `n` as `out.len()` decimal digits, zero-padded (`n` fits by the caller's bounds).
fn digits(out: &mut [u8], mut n: u32) {
    for d in out.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// The general form, for years outside 0..=9999 (a sign or a fifth digit).
fn to_text_wide(t: &Timestamp) -> String {
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

    /// Instants around year, month, day and second boundaries (each microsecond either side and
    /// sub-second values), a spread across 0000..=9999 and beyond, and sub-microsecond
    /// nanoseconds (dropped, not rounded).
    fn instants() -> Vec<Timestamp> {
        let mut out = Vec::new();
        let mut push_around = |t: Timestamp| {
            for d in [-1_000_001i64, -1_000, -1, 0, 1, 999, 1_000_000] {
                out.push(t + chrono::Duration::microseconds(d));
            }
        };
        for year in [
            0, 1, 9, 10, 99, 100, 999, 1000, 1969, 1970, 1999, 2000, 2024, 2026, 9999,
        ] {
            for month in [1, 2, 3, 12] {
                let day = chrono::NaiveDate::from_ymd_opt(year, month, 1).unwrap();
                push_around(day.and_hms_opt(0, 0, 0).unwrap().and_utc());
            }
            let feb_end = chrono::NaiveDate::from_ymd_opt(year, 3, 1)
                .unwrap()
                .pred_opt()
                .unwrap();
            push_around(
                feb_end
                    .and_hms_micro_opt(23, 59, 59, 999_999)
                    .unwrap()
                    .and_utc(),
            );
        }
        // A deterministic spread over the whole four-digit range, at odd sub-second values.
        let start = DateTime::from_timestamp(-62_167_219_200, 0).unwrap(); // 0000-01-01
        let end = DateTime::from_timestamp(253_402_300_799, 999_999_999).unwrap(); // 9999-12-31
        let span = (end - start).num_microseconds().unwrap();
        let mut x: i64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            out.push(start + chrono::Duration::microseconds(x.rem_euclid(span)));
        }
        for nanos in [1, 999, 1_001, 999_999_999] {
            out.push(DateTime::from_timestamp(1_764_806_400, nanos).unwrap());
        }
        // Outside four digits: a sign or a fifth digit, as the general formatting writes them.
        for year in [-1, -9999, 10_000, 200_000] {
            let day = chrono::NaiveDate::from_ymd_opt(year, 6, 15).unwrap();
            out.push(day.and_hms_micro_opt(12, 34, 56, 7).unwrap().and_utc());
        }
        out
    }

    #[test]
    fn text_form_is_byte_identical_to_the_general_formatting() {
        let all = instants();
        assert!(all.len() > 20_000);
        for t in &all {
            assert_eq!(to_text(t), to_text_wide(t), "{t:?}");
            if (0..=9999).contains(&t.year()) {
                let chrono_text = t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
                assert_eq!(to_text(t), chrono_text, "{t:?}");
                assert_eq!(to_text(t).len(), TEXT_LEN);
            }
        }
    }

    #[test]
    fn a_leap_second_writes_as_it_always_did() {
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_micro_opt(23, 59, 59, 1_500_000)
            .unwrap()
            .and_utc();
        assert_eq!(to_text(&leap), to_text_wide(&leap));
        assert_eq!(to_text(&leap), "2016-12-31T23:59:59.500000Z");
    }
}
