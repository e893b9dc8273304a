//! OFX date-times (OFX 2.0.2 §3.2.8.1): `YYYYMMDD[HHMM[SS[.XXX]]][[offset[:TZ]]]`, default GMT.
//!
//! Invariant: a date is either read into the instant it names (in UTC) together with the bank's own
//! calendar date, or refused with a reason; nothing is guessed beyond the spec's defaults and the
//! tolerances real files need (`[-:EST]`, `[+12.00]`, a stray `:014` after the seconds).

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

/// A posted date: the instant in UTC and the calendar date as the bank wrote it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OfxDate {
    pub utc: DateTime<Utc>,
    pub local_date: NaiveDate,
}

/// Reads an OFX date-time; the error quotes it and says what is wrong with it.
pub fn parse(text: &str) -> Result<OfxDate, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("is empty".to_owned());
    }
    read(text).map_err(|reason| format!("{text:?} {reason}"))
}

fn read(text: &str) -> Result<OfxDate, String> {
    let (stamp, zone) = match text.find('[') {
        Some(at) => (&text[..at], Some(&text[at..])),
        None => (text, None),
    };
    let digits_end = stamp
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(stamp.len());
    let (digits, rest) = stamp.split_at(digits_end);
    check_fraction(rest)?;
    let local = local_time(digits)?;
    let offset = match zone {
        Some(zone) => offset_of(zone)?,
        None => FixedOffset::east_opt(0).ok_or("bad offset")?,
    };
    let utc = offset
        .from_local_datetime(&local)
        .single()
        .ok_or_else(|| "is not a valid instant".to_owned())?
        .with_timezone(&Utc);
    Ok(OfxDate {
        utc,
        local_date: local.date(),
    })
}

/// After the digits only `.XXX` (milliseconds) or a stray `:XXX` may follow; both are ignored.
fn check_fraction(rest: &str) -> Result<(), String> {
    let mut chars = rest.chars();
    match chars.next() {
        None => Ok(()),
        Some('.' | ':') if chars.all(|c| c.is_ascii_digit()) => Ok(()),
        Some(_) => Err("has text after the date that is not a time or offset".to_owned()),
    }
}

fn local_time(digits: &str) -> Result<NaiveDateTime, String> {
    if !matches!(digits.len(), 8 | 10 | 12 | 14) {
        return Err(format!(
            "has {} digits; expected YYYYMMDD or YYYYMMDDHHMMSS",
            digits.len()
        ));
    }
    let field = |from: usize, to: usize| -> u32 {
        digits
            .get(from..to)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    };
    let year = i32::try_from(field(0, 4)).map_err(|_| "has a bad year".to_owned())?;
    let date = NaiveDate::from_ymd_opt(year, field(4, 6), field(6, 8))
        .ok_or_else(|| "is not a calendar date".to_owned())?;
    let time = NaiveTime::from_hms_opt(field(8, 10), field(10, 12), field(12, 14))
        .ok_or_else(|| "is not a time of day".to_owned())?;
    Ok(date.and_time(time))
}

/// `[-5:EST]`, `[+12.00]`, `[+5.30:IST]` (hours, then minutes after the dot), `[-:EST]` (offset
/// from the zone name), `[0:GMT]`.
fn offset_of(zone: &str) -> Result<FixedOffset, String> {
    let inner = zone
        .strip_prefix('[')
        .and_then(|z| z.strip_suffix(']'))
        .ok_or_else(|| "has a time zone that is not [offset:NAME]".to_owned())?;
    let (offset, name) = inner.split_once(':').unwrap_or((inner, ""));
    let unsigned = offset.trim_start_matches(['+', '-']);
    let seconds = if unsigned.is_empty() {
        named_offset_hours(name)
            .ok_or_else(|| "has a time zone with neither an offset nor a known name".to_owned())?
            * 3600
    } else {
        let negative = offset.starts_with('-');
        let (hours, minutes) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
        let hours: i32 = hours
            .parse()
            .map_err(|_| "has an offset that is not a number".to_owned())?;
        let minutes: i32 = minutes
            .parse()
            .map_err(|_| "has an offset that is not a number".to_owned())?;
        if hours > 14 || minutes >= 60 {
            return Err("has an offset out of range".to_owned());
        }
        let total = hours * 3600 + minutes * 60;
        if negative {
            -total
        } else {
            total
        }
    };
    FixedOffset::east_opt(seconds).ok_or_else(|| "has an offset out of range".to_owned())
}

/// The North American zone names banks write, and GMT/UTC.
fn named_offset_hours(name: &str) -> Option<i32> {
    let hours = match name.trim().to_ascii_uppercase().as_str() {
        "" | "GMT" | "UTC" | "Z" => 0,
        "EST" | "CDT" => -5,
        "EDT" => -4,
        "CST" | "MDT" => -6,
        "MST" | "PDT" => -7,
        "PST" | "AKDT" => -8,
        "AKST" => -9,
        "HST" => -10,
        _ => return None,
    };
    Some(hours)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    /// The instant `h:min` after midnight UTC of a date.
    fn utc(y: i32, m: u32, d: u32, h: i64, min: i64) -> DateTime<Utc> {
        let midnight = NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        Utc.from_utc_datetime(&midnight) + Duration::hours(h) + Duration::minutes(min)
    }

    fn at(text: &str) -> DateTime<Utc> {
        parse(text).unwrap().utc
    }

    #[test]
    fn every_form_the_spec_allows() {
        assert_eq!(at("20090401"), utc(2009, 4, 1, 0, 0));
        assert_eq!(at("2009040112"), utc(2009, 4, 1, 12, 0));
        assert_eq!(at("200904011220"), utc(2009, 4, 1, 12, 20));
        assert_eq!(
            at("20090401122017"),
            utc(2009, 4, 1, 12, 20) + Duration::seconds(17)
        );
        assert_eq!(at("20090401122017.000"), at("20090401122017"));
        assert_eq!(
            at("20090401122017.000[-5:EST]"),
            utc(2009, 4, 1, 17, 20) + Duration::seconds(17)
        );
        assert_eq!(at("20090401[-5:EST]"), utc(2009, 4, 1, 5, 0));
        assert_eq!(at("20090401[0:GMT]"), utc(2009, 4, 1, 0, 0));
    }

    #[test]
    fn offsets_with_minutes_names_only_and_stray_suffixes() {
        assert_eq!(at("20120603000000[+12.00]"), utc(2012, 6, 2, 12, 0));
        assert_eq!(at("20120603000000[+5.30:IST]"), utc(2012, 6, 2, 18, 30));
        assert_eq!(at("20120603000000[-:EST]"), utc(2012, 6, 3, 5, 0));
        assert_eq!(at("20120603000000[-:PDT]"), utc(2012, 6, 3, 7, 0));
        assert_eq!(
            at("20180804093914:014"),
            utc(2018, 8, 4, 9, 39) + Duration::seconds(14)
        );
        assert_eq!(at(" 20131215 "), utc(2013, 12, 15, 0, 0));
    }

    #[test]
    fn the_banks_own_date_survives_the_conversion_to_utc() {
        let late = parse("20091215202000.000[-4:EST]").unwrap();
        assert_eq!(
            late.local_date,
            NaiveDate::from_ymd_opt(2009, 12, 15).unwrap()
        );
        assert_eq!(late.utc, utc(2009, 12, 16, 0, 20));
        let early = parse("20120603010000[+12.00]").unwrap();
        assert_eq!(
            early.local_date,
            NaiveDate::from_ymd_opt(2012, 6, 3).unwrap()
        );
        assert_eq!(early.utc, utc(2012, 6, 2, 13, 0));
    }

    #[test]
    fn impossible_or_garbled_dates_are_refused_with_a_reason() {
        for (text, reason) in [
            ("", "empty"),
            ("20120231", "not a calendar date"),
            ("201120000000", "not a calendar date"),
            ("2012023", "7 digits"),
            ("20120101250000", "not a time of day"),
            ("20120101x", "not a time or offset"),
            ("20120101[-5:EST", "not [offset:NAME]"),
            ("20120101[-:XYZ]", "known name"),
            ("20120101[+15]", "out of range"),
            ("20120101[ab:EST]", "not a number"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(reason), "{text:?}: {err}");
        }
    }
}
