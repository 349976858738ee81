//! Points in time as devices record them. `shared` never reads a clock: every function that
//! needs "now" takes a [`Timestamp`] from its caller.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch (UTC), as read by the device that made the change.
/// Phones' clocks drift; times order events and measure durations, they do not decide merges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_millis(milliseconds: i64) -> Timestamp {
        Timestamp(milliseconds)
    }

    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// Whole seconds since the epoch, rounded down: Automerge records change times in seconds.
    pub const fn as_seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// The time `milliseconds` later (earlier if negative).
    pub const fn plus_millis(self, milliseconds: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(milliseconds))
    }

    /// Milliseconds from `earlier` to `self`, negative if `earlier` is later (clock skew).
    pub const fn millis_since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    /// The time `span` later (earlier if the span is negative).
    pub const fn plus(self, span: Span) -> Timestamp {
        self.plus_millis(span.0)
    }

    /// The time `span` earlier.
    pub const fn minus(self, span: Span) -> Timestamp {
        Timestamp(self.0.saturating_sub(span.0))
    }

    /// The time from `earlier` to `self`, negative if `earlier` is later (clock skew).
    pub const fn since(self, earlier: Timestamp) -> Span {
        Span(self.millis_since(earlier))
    }

    /// Midnight UTC beginning day number `day` (days since 1970-01-01).
    pub const fn from_day(day: i64) -> Timestamp {
        Timestamp(day.saturating_mul(Span::DAY.0))
    }

    /// The UTC day number (days since 1970-01-01) this falls on.
    pub const fn day_number(self) -> i64 {
        self.0.div_euclid(Span::DAY.0)
    }

    /// The time since the UTC midnight before this.
    pub const fn time_of_day(self) -> Span {
        Span(self.0.rem_euclid(Span::DAY.0))
    }
}

/// A length of time in the unit timestamps count (milliseconds). Signed: phones' clocks
/// differ, so one phone's time may come "before" another's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Span(i64);

impl Span {
    pub const ZERO: Span = Span(0);
    pub const MINUTE: Span = Span(60_000);
    pub const HOUR: Span = Span(60 * Span::MINUTE.0);
    pub const DAY: Span = Span(24 * Span::HOUR.0);
    pub const WEEK: Span = Span(7 * Span::DAY.0);

    pub const fn from_millis(milliseconds: i64) -> Span {
        Span(milliseconds)
    }

    pub const fn minutes(count: i64) -> Span {
        Span::MINUTE.times(count)
    }

    pub const fn hours(count: i64) -> Span {
        Span::HOUR.times(count)
    }

    pub const fn days(count: i64) -> Span {
        Span::DAY.times(count)
    }

    /// This span and `other` end to end.
    pub const fn plus(self, other: Span) -> Span {
        Span(self.0.saturating_add(other.0))
    }

    /// `count` of this span end to end.
    pub const fn times(self, count: i64) -> Span {
        Span(self.0.saturating_mul(count))
    }

    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// How many whole `unit`s fit in this span, rounded toward zero.
    pub const fn whole(self, unit: Span) -> i64 {
        self.0 / unit.0
    }
}

impl Timestamp {
    /// Midnight UTC of a date written `YYYY-MM-DD` (as spreadsheets and date inputs
    /// write it); `None` if it is not a real date.
    pub fn parse_date(text: &str) -> Option<Timestamp> {
        let mut parts = text.trim().splitn(3, '-');
        let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
        if year.len() != 4 || month.len() != 2 || day.len() != 2 {
            return None;
        }
        let (year, month, day): (i64, i64, i64) = (year.parse().ok()?, month.parse().ok()?, day.parse().ok()?);
        if !(1..=12).contains(&month) || day < 1 {
            return None;
        }
        let first = first_of_month(year, month);
        let next = if month == 12 { first_of_month(year + 1, 1) } else { first_of_month(year, month + 1) };
        (first + day - 1 < next).then(|| Timestamp::from_day(first + day - 1))
    }

    /// The UTC date and time, `YYYY-MM-DDTHH:MM:SSZ` (ISO 8601), as exports write it.
    pub fn iso_utc(self) -> String {
        let seconds = self.0.div_euclid(1000).rem_euclid(86_400);
        format!("{}T{:02}:{:02}:{:02}Z", self.date(), seconds / 3600, seconds / 60 % 60, seconds % 60)
    }

    /// The UTC date, `YYYY-MM-DD`.
    pub fn date(self) -> String {
        let day = self.day_number();
        let (year, month) = year_month(day);
        format!("{year:04}-{month:02}-{:02}", day - first_of_month(year, month) + 1)
    }
}

/// Year and month (1–12) of a day number, proleptic Gregorian.
pub(crate) fn year_month(day: i64) -> (i64, i64) {
    // Shift the era to start on 1 March so the leap day is the era's last.
    let shifted = day + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month)
}

/// The day number of the first of `month` (1–12) in `year`.
pub(crate) fn first_of_month(year: i64, month: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * month_index + 2) / 5;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The day something is due, as people say it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DueDay {
    Today,
    Tomorrow,
    /// Later this week (within six days): 0 is Monday, 6 Sunday.
    Weekday(u8),
    /// Further off, or already past: the date.
    Date {
        year: i64,
        month: u8,
        day: u8,
    },
}

/// When something is due, as people say it: the day, and the time of day unless it is the
/// day's end ("due today" means before midnight).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DueWords {
    pub day: DueDay,
    /// Hour and minute.
    pub time: Option<(u8, u8)>,
    /// The day is this year's (a date then needs no year).
    pub this_year: bool,
}

/// `due` (what is due must be done before it) as read at `now` in a zone `offset_minutes`
/// east of UTC.
pub fn due_in_words(due: Timestamp, now: Timestamp, offset_minutes: i32) -> DueWords {
    let shift = Span::minutes(i64::from(offset_minutes));
    let local = due.plus(shift);
    // A day's end is written as the next midnight: it is due on the day before it.
    let at_midnight = local.time_of_day() == Span::from_millis(0);
    let last = if at_midnight { local.minus(Span::from_millis(1)) } else { local };
    let (due_day, today) = (last.day_number(), now.plus(shift).day_number());
    let (year, month) = year_month(due_day);
    let date = DueDay::Date { year, month: month as u8, day: (due_day - first_of_month(year, month) + 1) as u8 };
    let day = match due_day - today {
        0 => DueDay::Today,
        1 => DueDay::Tomorrow,
        // Day 0 (1970-01-01) was a Thursday.
        2..=6 => DueDay::Weekday((due_day + 3).rem_euclid(7) as u8),
        _ => date,
    };
    let minutes = local.time_of_day().whole(Span::MINUTE);
    DueWords { day, time: (!at_midnight).then_some(((minutes / 60) as u8, (minutes % 60) as u8)), this_year: year == year_month(today).0 }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

#[cfg(test)]
mod date_tests {
    use super::*;

    #[test]
    fn a_day_reads_alike_in_every_unit() {
        assert_eq!(Span::DAY, Span::hours(24));
        assert_eq!(Span::WEEK, Span::days(7));
        assert_eq!(Span::DAY.whole(Span::MINUTE), 1440);
        let noon = Timestamp::parse_date("2026-12-05").unwrap().plus(Span::hours(12));
        assert_eq!(Timestamp::from_day(noon.day_number()).plus(noon.time_of_day()), noon);
        assert_eq!(noon.since(noon.plus(Span::HOUR)), Span::hours(-1));
        assert_eq!(Timestamp::from_millis(-1).day_number(), -1, "before 1970 counts back, not toward zero");
    }

    #[test]
    fn what_is_due_reads_as_people_say_it() {
        // Thursday 2026-12-03, 09:30 in Beijing (UTC+8).
        let beijing = 480;
        let now = Timestamp::parse_date("2026-12-03").unwrap().plus_millis(90 * 60_000);
        let local =
            |date: &str, hour: i64, minute: i64| Timestamp::parse_date(date).unwrap().plus_millis(((hour - 8) * 60 + minute) * 60_000);
        let words = |due| due_in_words(due, now, beijing);
        assert_eq!(words(local("2026-12-03", 18, 0)), DueWords { day: DueDay::Today, time: Some((18, 0)), this_year: true });
        // Due by the end of today: the next midnight.
        assert_eq!(words(local("2026-12-04", 0, 0)), DueWords { day: DueDay::Today, time: None, this_year: true });
        assert_eq!(words(local("2026-12-04", 7, 5)).day, DueDay::Tomorrow);
        assert_eq!(words(local("2026-12-04", 7, 5)).time, Some((7, 5)));
        assert_eq!(words(local("2026-12-05", 12, 0)).day, DueDay::Weekday(5), "Saturday");
        assert_eq!(words(local("2026-12-10", 0, 0)).day, DueDay::Weekday(2), "by the end of Wednesday");
        assert_eq!(words(local("2026-12-10", 9, 0)).day, DueDay::Date { year: 2026, month: 12, day: 10 });
        assert_eq!(
            words(local("2027-01-05", 5, 18)),
            DueWords { day: DueDay::Date { year: 2027, month: 1, day: 5 }, time: Some((5, 18)), this_year: false }
        );
        assert_eq!(words(local("2026-12-01", 12, 0)).day, DueDay::Date { year: 2026, month: 12, day: 1 }, "past");
        // In UTC the same instants fall on other days.
        assert_eq!(due_in_words(local("2026-12-04", 7, 0), now, 0).day, DueDay::Today);
    }

    #[test]
    fn dates_read_and_write_as_spreadsheets_do() {
        let date = Timestamp::parse_date("2024-02-29").unwrap();
        assert_eq!(date.as_millis(), 1_709_164_800_000);
        assert_eq!(date.date(), "2024-02-29");
        assert_eq!(Timestamp::from_millis(0).date(), "1970-01-01");
        assert_eq!(date.plus_millis(3_723_999).iso_utc(), "2024-02-29T01:02:03Z");
        assert_eq!(Timestamp::from_millis(-1).iso_utc(), "1969-12-31T23:59:59Z");
        for wrong in ["2023-02-29", "2024-13-01", "2024-1-01", "24-01-01", "2024-01-00", "yesterday", ""] {
            assert_eq!(Timestamp::parse_date(wrong), None, "{wrong}");
        }
    }
}
