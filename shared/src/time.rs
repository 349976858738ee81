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
}

const DAY: i64 = 86_400_000;

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
        (first + day - 1 < next).then(|| Timestamp::from_millis((first + day - 1) * DAY))
    }

    /// The UTC date and time, `YYYY-MM-DDTHH:MM:SSZ` (ISO 8601), as exports write it.
    pub fn iso_utc(self) -> String {
        let seconds = self.0.div_euclid(1000).rem_euclid(86_400);
        format!("{}T{:02}:{:02}:{:02}Z", self.date(), seconds / 3600, seconds / 60 % 60, seconds % 60)
    }

    /// The UTC date, `YYYY-MM-DD`.
    pub fn date(self) -> String {
        let day = self.0.div_euclid(DAY);
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


impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

#[cfg(test)]
mod date_tests {
    use super::*;

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
