//! A budget's period in the tenant's time zone: the day, the week (from Monday) or the calendar
//! month that holds an instant, as a window of UTC instants.
//!
//! Invariant: periods tile time: the end of one is the start of the next, whatever daylight
//! saving does to local midnight (a midnight that does not exist starts at the first instant
//! after it; one that happens twice, at the earlier).

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use super::model::Period;

/// The first instant of local day `day` in `zone`.
fn start_of(zone: Tz, day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    match zone.from_local_datetime(&midnight) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(early, _) => early.with_timezone(&Utc),
        // A gap (clocks jump over midnight): the first local minute that exists.
        LocalResult::None => (1..=180)
            .find_map(|m| {
                zone.from_local_datetime(&(midnight + Duration::minutes(m)))
                    .earliest()
            })
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&midnight)),
    }
}

/// The local first day of the period holding `day`, and of the next.
fn days(period: Period, day: NaiveDate) -> (NaiveDate, NaiveDate) {
    match period {
        Period::Day => (day, day + Duration::days(1)),
        Period::Week => {
            let monday = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
            (monday, monday + Duration::days(7))
        }
        Period::Month => {
            let first = day.with_day(1).unwrap_or(day);
            let next = if first.month() == 12 {
                NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
            };
            (first, next.unwrap_or(first + Duration::days(31)))
        }
    }
}

/// The period holding `at` in `zone`: `[start, end)`.
pub fn window(period: Period, zone: Tz, at: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let local_day = at.with_timezone(&zone).date_naive();
    let (first, next) = days(period, local_day);
    let (start, end) = (start_of(zone, first), start_of(zone, next));
    // An instant before its local day's first existing minute belongs to the day before.
    if at < start {
        let (first, _) = days(period, first - Duration::days(1));
        return (start_of(zone, first), start);
    }
    (start, end)
}

/// A tenant's time zone by name, UTC when it is not one.
pub fn zone(name: &str) -> Tz {
    name.parse().unwrap_or(Tz::UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn a_month_is_the_calendar_month_in_the_tenants_zone() {
        let paris = zone("Europe/Paris");
        // 23:30 UTC on 31 January is already 1 February in Paris.
        let (start, end) = window(Period::Month, paris, utc("2026-01-31T23:30:00Z"));
        assert_eq!(start, utc("2026-01-31T23:00:00Z"));
        assert_eq!(end, utc("2026-02-28T23:00:00Z"));
        let (start, end) = window(Period::Month, zone("UTC"), utc("2026-12-15T10:00:00Z"));
        assert_eq!(
            (start, end),
            (utc("2026-12-01T00:00:00Z"), utc("2027-01-01T00:00:00Z"))
        );
    }

    #[test]
    fn weeks_start_on_monday_and_days_at_local_midnight() {
        let ny = zone("America/New_York");
        // Friday 4 December 2026, 03:00 UTC is Thursday 22:00 in New York.
        let (start, end) = window(Period::Week, ny, utc("2026-12-04T03:00:00Z"));
        assert_eq!(start, utc("2026-11-30T05:00:00Z"));
        assert_eq!(end, utc("2026-12-07T05:00:00Z"));
        let (start, end) = window(Period::Day, ny, utc("2026-12-04T03:00:00Z"));
        assert_eq!(
            (start, end),
            (utc("2026-12-03T05:00:00Z"), utc("2026-12-04T05:00:00Z"))
        );
    }

    #[test]
    fn periods_tile_across_daylight_saving_changes() {
        // Europe/Paris moves to summer time on 29 March 2026: that day has 23 hours.
        let paris = zone("Europe/Paris");
        let (start, end) = window(Period::Day, paris, utc("2026-03-29T12:00:00Z"));
        assert_eq!(end - start, Duration::hours(23));
        let (next_start, _) = window(Period::Day, paris, end);
        assert_eq!(next_start, end);
        // America/Santiago's clocks skip local midnight (to 01:00) on 6 September 2026.
        let santiago = zone("America/Santiago");
        let (start, end) = window(Period::Day, santiago, utc("2026-09-06T12:00:00Z"));
        assert!(start < end && window(Period::Day, santiago, start).0 == start);
        assert_eq!(window(Period::Day, santiago, end).0, end);
    }

    #[test]
    fn an_unknown_zone_is_utc() {
        assert_eq!(zone("Mars/Olympus"), Tz::UTC);
    }
}
