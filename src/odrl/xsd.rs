//! The XML Schema datatypes ODRL constraints compare: `xsd:dateTime`, `xsd:date` and
//! `xsd:duration` (XSD 1.1 Part 2, §3.3.7, §3.3.9, §3.3.6).
//!
//! Choices, all documented in `policies/README.md`:
//! - a dateTime or date without a time zone is read as UTC (the project's convention, so that
//!   the same policy means the same instant on every server);
//! - an `xsd:date` right operand is a whole day, the interval `[00:00, 24:00)` in its zone:
//!   `dateTime lteq 2017-12-31` allows the whole of 31 December (Example 18 of the ODRL
//!   Information Model reads "valid until the end of the year 2017"), `lt` means before the
//!   day starts, `gt` after it ends, `eq` within it;
//! - durations are ordered as XSD 1.1 §3.3.6.2 says: by adding both to the four reference
//!   dateTimes 1696-09-01, 1697-02-01, 1903-03-01 and 1903-07-01; when the four comparisons
//!   disagree (`P1M` against `P30D`) the order is indeterminate and the constraint is not
//!   satisfied, with that reason.

use std::cmp::Ordering;
use std::fmt;

use chrono::{DateTime, Duration, FixedOffset, Months, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// A point or a day on the time line, as a right operand of `dateTime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBound {
    /// An `xsd:dateTime`: one instant.
    Instant(DateTime<Utc>),
    /// An `xsd:date`: the day `[start, end)`.
    Day {
        date: NaiveDate,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
}

impl TimeBound {
    /// Parse an `xsd:dateTime` or `xsd:date` lexical form (zone optional, UTC if absent).
    pub fn parse(text: &str) -> Option<TimeBound> {
        let text = text.trim();
        if text.contains('T') {
            return parse_date_time(text).map(TimeBound::Instant);
        }
        let (date_part, offset) = split_zone(text)?;
        let date = NaiveDate::parse_from_str(date_part, "%Y-%m-%d").ok()?;
        let start_local = date.and_hms_opt(0, 0, 0)?;
        let start = offset
            .from_local_datetime(&start_local)
            .single()?
            .with_timezone(&Utc);
        let end = start.checked_add_signed(Duration::days(1))?;
        Some(TimeBound::Day { date, start, end })
    }

    /// The earliest instant of the bound.
    pub fn start(&self) -> DateTime<Utc> {
        match self {
            TimeBound::Instant(instant) => *instant,
            TimeBound::Day { start, .. } => *start,
        }
    }

    /// Where an instant lies relative to this bound: `Less` before it, `Equal` within it
    /// (at it, for an instant), `Greater` after it.
    pub fn locate(&self, instant: DateTime<Utc>) -> Ordering {
        match self {
            TimeBound::Instant(bound) => instant.cmp(bound),
            TimeBound::Day { start, end, .. } => {
                if instant < *start {
                    Ordering::Less
                } else if instant >= *end {
                    Ordering::Greater
                } else {
                    Ordering::Equal
                }
            }
        }
    }
}

impl fmt::Display for TimeBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeBound::Instant(instant) => write!(f, "{}", format_instant(*instant)),
            TimeBound::Day { date, .. } => write!(f, "{date}"),
        }
    }
}

/// An instant as RFC 3339 in UTC, seconds precision unless there are fractions.
pub fn format_instant(instant: DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// Parse an `xsd:dateTime`; without a zone the time is UTC. An `xsd:date` is accepted too and
/// read as the start of that day (a request time given as a date).
pub fn parse_date_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if !text.contains('T') {
        return match TimeBound::parse(text)? {
            TimeBound::Day { start, .. } => Some(start),
            TimeBound::Instant(instant) => Some(instant),
        };
    }
    if let Ok(with_zone) = DateTime::parse_from_rfc3339(text) {
        return Some(with_zone.with_timezone(&Utc));
    }
    let (local, offset) = split_zone(text)?;
    let naive = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(local, format).ok())?;
    Some(
        offset
            .from_local_datetime(&naive)
            .single()?
            .with_timezone(&Utc),
    )
}

/// Split a trailing `Z` or `±hh:mm` zone off a lexical form; no zone means UTC.
fn split_zone(text: &str) -> Option<(&str, FixedOffset)> {
    let utc = FixedOffset::east_opt(0)?;
    if let Some(local) = text.strip_suffix('Z') {
        return Some((local, utc));
    }
    // A zone is `+hh:mm` or `-hh:mm` at the very end; a date's own dashes come earlier.
    if text.len() > 6 {
        let (local, zone) = text.split_at(text.len() - 6);
        let bytes = zone.as_bytes();
        if (bytes[0] == b'+' || bytes[0] == b'-') && bytes[3] == b':' {
            let hours: i32 = zone[1..3].parse().ok()?;
            let minutes: i32 = zone[4..6].parse().ok()?;
            let seconds = (hours * 60 + minutes) * 60;
            let offset = if bytes[0] == b'+' {
                FixedOffset::east_opt(seconds)?
            } else {
                FixedOffset::west_opt(seconds)?
            };
            return Some((local, offset));
        }
    }
    Some((text, utc))
}

/// An `xsd:duration`: a number of months and a number of seconds (XSD 1.1 §3.3.6.1), both
/// with the same sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XsdDuration {
    months: i64,
    nanoseconds: i128,
}

/// The reference dateTimes of XSD 1.1 §3.3.6.2 that give durations their partial order.
const REFERENCE_DATES: [(i32, u32, u32); 4] =
    [(1696, 9, 1), (1697, 2, 1), (1903, 3, 1), (1903, 7, 1)];

impl XsdDuration {
    /// A duration of whole seconds (used by tests and callers measuring elapsed time).
    pub fn from_seconds(seconds: i64) -> XsdDuration {
        XsdDuration {
            months: 0,
            nanoseconds: i128::from(seconds) * 1_000_000_000,
        }
    }

    /// Parse `-?PnYnMnDTnHnMnS` (fractions allowed on seconds only, as in XSD).
    pub fn parse(text: &str) -> Option<XsdDuration> {
        let text = text.trim();
        let (negative, rest) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let rest = rest.strip_prefix('P')?;
        let (date_part, time_part) = match rest.split_once('T') {
            Some((date, time)) => {
                if time.is_empty() {
                    return None;
                }
                (date, Some(time))
            }
            None => (rest, None),
        };
        if date_part.is_empty() && time_part.is_none() {
            return None;
        }
        let mut months: i64 = 0;
        let mut nanoseconds: i128 = 0;
        let mut seen_any = false;
        let mut last_rank = 0;
        for (designator, number) in components(date_part)? {
            let value: i64 = number.parse().ok()?;
            let rank = match designator {
                'Y' => 1,
                'M' => 2,
                'D' => 3,
                _ => return None,
            };
            if rank <= last_rank {
                return None;
            }
            last_rank = rank;
            seen_any = true;
            match designator {
                'Y' => months = months.checked_add(value.checked_mul(12)?)?,
                'M' => months = months.checked_add(value)?,
                _ => {
                    nanoseconds = nanoseconds
                        .checked_add(i128::from(value).checked_mul(86_400_000_000_000)?)?
                }
            }
        }
        if let Some(time_part) = time_part {
            let mut last_rank = 0;
            for (designator, number) in components(time_part)? {
                let (rank, unit_seconds) = match designator {
                    'H' => (1, 3600),
                    'M' => (2, 60),
                    'S' => (3, 1),
                    _ => return None,
                };
                if rank <= last_rank {
                    return None;
                }
                last_rank = rank;
                seen_any = true;
                let nanos = if designator == 'S' {
                    seconds_to_nanos(number)?
                } else {
                    i128::from(number.parse::<i64>().ok()?) * 1_000_000_000
                };
                nanoseconds = nanoseconds.checked_add(nanos.checked_mul(unit_seconds)?)?;
            }
        }
        if !seen_any {
            return None;
        }
        if negative {
            months = -months;
            nanoseconds = -nanoseconds;
        }
        Some(XsdDuration {
            months,
            nanoseconds,
        })
    }

    /// Compare two durations; `None` when XSD leaves the order indeterminate.
    pub fn partial_compare(&self, other: &XsdDuration) -> Option<Ordering> {
        if self.months == other.months {
            return Some(self.nanoseconds.cmp(&other.nanoseconds));
        }
        let mut verdict = None;
        for (year, month, day) in REFERENCE_DATES {
            let reference = Utc.with_ymd_and_hms(year, month, day, 0, 0, 0).single()?;
            let ordering = self.added_to(reference)?.cmp(&other.added_to(reference)?);
            match verdict {
                None => verdict = Some(ordering),
                Some(previous) if previous != ordering => return None,
                Some(_) => {}
            }
        }
        verdict
    }

    /// XSD 1.1 Appendix E: add the months first (the day clamped to the month's length),
    /// then the seconds.
    fn added_to(&self, start: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let months = u32::try_from(self.months.unsigned_abs()).ok()?;
        let shifted = if self.months >= 0 {
            start.checked_add_months(Months::new(months))?
        } else {
            start.checked_sub_months(Months::new(months))?
        };
        let nanos = i64::try_from(self.nanoseconds).ok()?;
        shifted.checked_add_signed(Duration::nanoseconds(nanos))
    }
}

/// Split `3Y2M10D` into `[('Y', "3"), ('M', "2"), ('D', "10")]`.
fn components(text: &str) -> Option<Vec<(char, &str)>> {
    let mut parts = Vec::new();
    let mut start = 0;
    for (index, character) in text.char_indices() {
        if character.is_ascii_alphabetic() {
            let number = &text[start..index];
            if number.is_empty() {
                return None;
            }
            parts.push((character, number));
            start = index + 1;
        } else if !(character.is_ascii_digit() || character == '.') {
            return None;
        }
    }
    if start != text.len() {
        return None;
    }
    Some(parts)
}

/// `12.5` seconds as nanoseconds.
fn seconds_to_nanos(text: &str) -> Option<i128> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || fraction.len() > 9 || fraction.contains('.') {
        return None;
    }
    let whole: i128 = whole.parse().ok()?;
    let fraction_nanos: i128 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<9}").parse().ok()?
    };
    Some(whole * 1_000_000_000 + fraction_nanos)
}

impl fmt::Display for XsdDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let negative = self.months < 0 || self.nanoseconds < 0;
        let months = self.months.unsigned_abs();
        let nanos = self.nanoseconds.unsigned_abs();
        let mut out = String::from(if negative { "-P" } else { "P" });
        let (years, months) = (months / 12, months % 12);
        let seconds_total = nanos / 1_000_000_000;
        let fraction = nanos % 1_000_000_000;
        let days = seconds_total / 86_400;
        let hours = seconds_total % 86_400 / 3600;
        let minutes = seconds_total % 3600 / 60;
        let seconds = seconds_total % 60;
        for (value, unit) in [
            (u128::from(years), 'Y'),
            (u128::from(months), 'M'),
            (days, 'D'),
        ] {
            if value > 0 {
                out.push_str(&format!("{value}{unit}"));
            }
        }
        if hours > 0 || minutes > 0 || seconds > 0 || fraction > 0 {
            out.push('T');
            for (value, unit) in [(hours, 'H'), (minutes, 'M')] {
                if value > 0 {
                    out.push_str(&format!("{value}{unit}"));
                }
            }
            if fraction > 0 {
                let digits = format!("{fraction:09}");
                out.push_str(&format!("{seconds}.{}S", digits.trim_end_matches('0')));
            } else if seconds > 0 {
                out.push_str(&format!("{seconds}S"));
            }
        }
        if out.ends_with('P') {
            out.push_str("T0S");
        }
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_is_a_whole_day_in_utc() {
        let day = TimeBound::parse("2017-12-31").unwrap();
        let noon = parse_date_time("2017-12-31T12:00:00").unwrap();
        let next = parse_date_time("2018-01-01T00:00:00Z").unwrap();
        assert_eq!(day.locate(noon), Ordering::Equal);
        assert_eq!(day.locate(next), Ordering::Greater);
    }

    #[test]
    fn zones_are_honoured() {
        let a = parse_date_time("2018-01-01T01:00:00+02:00").unwrap();
        let b = parse_date_time("2017-12-31T23:00:00Z").unwrap();
        assert_eq!(a, b);
        let day = TimeBound::parse("2018-01-01+01:00").unwrap();
        assert_eq!(
            day.start(),
            parse_date_time("2017-12-31T23:00:00Z").unwrap()
        );
    }

    #[test]
    fn durations_parse_and_order() {
        let d = |s| XsdDuration::parse(s).unwrap();
        assert_eq!(d("P1D").partial_compare(&d("PT24H")), Some(Ordering::Equal));
        assert_eq!(d("P1Y").partial_compare(&d("P12M")), Some(Ordering::Equal));
        assert_eq!(d("P1M").partial_compare(&d("P30D")), None);
        assert_eq!(d("P1M").partial_compare(&d("P32D")), Some(Ordering::Less));
        assert_eq!(
            d("P1M").partial_compare(&d("P27D")),
            Some(Ordering::Greater)
        );
        assert_eq!(
            d("PT1.5S").partial_compare(&d("PT1S")),
            Some(Ordering::Greater)
        );
        assert_eq!(d("-P1D").partial_compare(&d("P0D")), Some(Ordering::Less));
        for bad in ["P", "PT", "1D", "P1H", "PT1D", "P1D2Y", "P1.5D", "PT1.5M"] {
            assert!(XsdDuration::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(d("P1Y2M3DT4H5M6.5S").to_string(), "P1Y2M3DT4H5M6.5S");
    }
}
