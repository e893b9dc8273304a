//! Business hours in the tenant's time zone: the days and the clock times the timing rule treats
//! as ordinary.
//!
//! Invariant: a clock time is minutes after midnight below 24 × 60, read and written as "HH:MM".

use std::fmt;

use chrono::Weekday;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A time of day to the minute ("08:00").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClockTime(u16);

impl ClockTime {
    pub const fn hm(hour: u16, minute: u16) -> Self {
        Self(hour * 60 + minute)
    }

    pub fn minutes(self) -> u32 {
        u32::from(self.0)
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let refuse = || format!("{text:?} is not a time of day such as \"08:00\"");
        let (hour, minute) = text.split_once(':').ok_or_else(refuse)?;
        let two_digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
        if !two_digits(hour) || !two_digits(minute) {
            return Err(refuse());
        }
        let (hour, minute): (u16, u16) = (
            hour.parse().map_err(|_| refuse())?,
            minute.parse().map_err(|_| refuse())?,
        );
        if hour > 23 || minute > 59 {
            return Err(refuse());
        }
        Ok(Self::hm(hour, minute))
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl Serialize for ClockTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The tenant's working week: payments outside it are what the timing rule reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct BusinessHours {
    /// Opening time, local ("08:00").
    #[schema(value_type = String, example = "08:00")]
    pub start: ClockTime,
    /// Closing time, local, exclusive ("18:00").
    #[schema(value_type = String, example = "18:00")]
    pub end: ClockTime,
    /// Working days ("Mon" … "Sun").
    #[schema(value_type = Vec<String>, example = json!(["Mon", "Tue", "Wed", "Thu", "Fri"]))]
    pub days: Vec<Weekday>,
}

impl Default for BusinessHours {
    fn default() -> Self {
        Self {
            start: ClockTime::hm(8, 0),
            end: ClockTime::hm(18, 0),
            days: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
        }
    }
}

impl BusinessHours {
    /// Whether `minutes` after local midnight is within opening hours.
    pub fn open_at(&self, minutes: u32) -> bool {
        (self.start.minutes()..self.end.minutes()).contains(&minutes)
    }

    pub fn works_on(&self, day: Weekday) -> bool {
        self.days.contains(&day)
    }

    pub(super) fn validate(&self) -> Result<(), String> {
        if self.start >= self.end {
            return Err(format!(
                "timing.business_hours: start {} must be before end {}",
                self.start, self.end
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_times_read_and_write_as_hours_and_minutes() {
        assert_eq!(ClockTime::parse("08:00"), Ok(ClockTime::hm(8, 0)));
        assert_eq!(ClockTime::hm(17, 5).to_string(), "17:05");
        for bad in ["8:00", "24:00", "12:60", "1200", "ab:cd"] {
            assert!(ClockTime::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn default_week_is_monday_to_friday_eight_to_six() {
        let hours = BusinessHours::default();
        let json = serde_json::to_value(&hours).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"start": "08:00", "end": "18:00",
                "days": ["Mon", "Tue", "Wed", "Thu", "Fri"]})
        );
        assert!(hours.open_at(8 * 60) && !hours.open_at(18 * 60) && !hours.open_at(7 * 60 + 59));
        assert!(hours.works_on(Weekday::Fri) && !hours.works_on(Weekday::Sat));
    }
}
