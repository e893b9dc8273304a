//! CSV date cells: a chrono format from the mapping (`%d.%m.%Y`, `%m/%d/%Y`, `%Y-%m-%d`), or
//! `auto`, which settles day/month order for the whole file from the first day above 12.
//!
//! Invariant: a date is only read with one format for the whole file; `auto` never guesses: a file
//! whose dates never show a day above 12 (every `03/04/2024` could be either) is refused.

use chrono::NaiveDate;

/// The mapping's `date_format`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DateFormat {
    /// A chrono `strftime` format.
    Fixed(String),
    /// Year first (`2024-03-31`) or day/month order settled from the file.
    Auto,
}

impl DateFormat {
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.trim().eq_ignore_ascii_case("auto") {
            return Ok(Self::Auto);
        }
        let has = |specs: &[&str]| specs.iter().any(|spec| text.contains(spec));
        let complete =
            has(&["%Y", "%y"]) && (has(&["%j"]) || has(&["%m", "%b", "%B"]) && has(&["%d", "%e"]));
        if !complete {
            return Err(format!(
                "date format {text:?} needs a year, a month and a day (such as %d.%m.%Y) or auto"
            ));
        }
        if has(&["%H", "%M", "%S", "%z", "%T", "%R"]) {
            return Err(format!(
                "date format {text:?} has a time; only the calendar date is read"
            ));
        }
        Ok(Self::Fixed(text.to_owned()))
    }
}

/// Reads one cell with a fixed format.
pub fn read(cell: &str, format: &str) -> Result<NaiveDate, String> {
    let text = cell.trim();
    if text.is_empty() {
        return Err("is empty".to_owned());
    }
    NaiveDate::parse_from_str(text, format)
        .map_err(|_| format!("{text:?} is not a date in the form {format}"))
}

/// What one cell says about day/month order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hint {
    /// `2024-03-31`: year first, then month, then day.
    YearFirst(char),
    DayFirst(char),
    MonthFirst(char),
    /// Both of the first two numbers are 12 or below.
    Either,
    /// Not three numbers: left for the row reader to report.
    Unreadable,
}

/// Looks at one cell for `auto`.
pub fn hint(cell: &str) -> Hint {
    let text = cell.trim();
    let Some(sep) = text.chars().find(|c| !c.is_ascii_digit()) else {
        return Hint::Unreadable;
    };
    let parts: Vec<&str> = text.split(sep).collect();
    let numbers: Option<Vec<u32>> = parts.iter().map(|p| p.parse().ok()).collect();
    let (Some(numbers), 3) = (numbers, parts.len()) else {
        return Hint::Unreadable;
    };
    if parts[0].len() == 4 {
        return Hint::YearFirst(sep);
    }
    match (numbers[0] > 12, numbers[1] > 12) {
        (true, false) => Hint::DayFirst(sep),
        (false, true) => Hint::MonthFirst(sep),
        (false, false) => Hint::Either,
        (true, true) => Hint::Unreadable,
    }
}

/// The format a year-first, day-first or month-first hint stands for; the year's width comes from
/// the cell (`24` or `2024`).
pub fn format_for(hint: Hint, sample: &str) -> Option<String> {
    let year = sample.trim().rsplit(|c: char| !c.is_ascii_digit()).next();
    let y = if year.is_some_and(|y| y.len() == 2) {
        "%y"
    } else {
        "%Y"
    };
    match hint {
        Hint::YearFirst(s) => Some(format!("%Y{s}%m{s}%d")),
        Hint::DayFirst(s) => Some(format!("%d{s}%m{s}{}", y)),
        Hint::MonthFirst(s) => Some(format!("%m{s}%d{s}{}", y)),
        Hint::Either | Hint::Unreadable => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn fixed_formats_banks_use() {
        assert_eq!(read("31.03.2024", "%d.%m.%Y"), Ok(day(2024, 3, 31)));
        assert_eq!(read("03/31/2024", "%m/%d/%Y"), Ok(day(2024, 3, 31)));
        assert_eq!(read(" 2024-03-31 ", "%Y-%m-%d"), Ok(day(2024, 3, 31)));
        assert_eq!(read("31/03/24", "%d/%m/%y"), Ok(day(2024, 3, 31)));
        assert_eq!(read("1.3.2024", "%d.%m.%Y"), Ok(day(2024, 3, 1)));
    }

    #[test]
    fn bad_dates_and_formats_are_refused() {
        assert!(read("", "%d.%m.%Y").unwrap_err().contains("empty"));
        assert!(read("31.02.2024", "%d.%m.%Y")
            .unwrap_err()
            .contains("not a date"));
        assert!(read("03/31/2024", "%d/%m/%Y")
            .unwrap_err()
            .contains("not a date"));
        assert!(read("Total", "%d.%m.%Y").is_err());
        assert!(DateFormat::parse("%d.%m").is_err());
        assert!(DateFormat::parse("%Y-%m-%d %H:%M").is_err());
        assert_eq!(DateFormat::parse("AUTO"), Ok(DateFormat::Auto));
        assert!(matches!(
            DateFormat::parse("%d.%m.%Y"),
            Ok(DateFormat::Fixed(_))
        ));
    }

    #[test]
    fn auto_hints_come_from_a_day_above_12() {
        assert_eq!(hint("31.03.2024"), Hint::DayFirst('.'));
        assert_eq!(hint("03/31/2024"), Hint::MonthFirst('/'));
        assert_eq!(hint("03/04/2024"), Hint::Either);
        assert_eq!(hint("2024-03-04"), Hint::YearFirst('-'));
        assert_eq!(hint("Total"), Hint::Unreadable);
        assert_eq!(hint("31/31/2024"), Hint::Unreadable);
        let f = |h, s| format_for(h, s).unwrap();
        assert_eq!(f(Hint::DayFirst('.'), "31.03.2024"), "%d.%m.%Y");
        assert_eq!(f(Hint::MonthFirst('/'), "03/31/24"), "%m/%d/%y");
        assert_eq!(f(Hint::YearFirst('-'), "2024-03-04"), "%Y-%m-%d");
        assert_eq!(format_for(Hint::Either, "03/04/2024"), None);
    }
}
