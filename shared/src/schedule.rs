//! Which scheduled rounds are due, overdue, in progress or done.
//!
//! A schedule (a template at a place, every N days, weeks or months) divides time into
//! periods of the local calendar, counted from the day (or month) of its start: a daily
//! schedule's period is one local day, a monthly one's runs from the first of a month to
//! the first of the next. The round of the current period is due by the period's end; if
//! the previous period ended without a submitted round, it is overdue as well. The local
//! calendar is the caller's: it passes its offset from UTC, so a phone in Beijing sees its
//! day start at its midnight.

use crate::document::catalog::{Every, Schedule};
use crate::time::{Span, Timestamp, first_of_month, year_month};

/// A round as the schedule needs to know it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoundFact {
    /// The template document's id.
    pub template: String,
    /// The place it was started at.
    pub place: String,
    pub started_at: Timestamp,
    pub submitted_at: Option<Timestamp>,
}

/// Where a schedule stands now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Not started before the period's end; `overdue_since` when the previous period was
    /// missed as well.
    Due { overdue_since: Option<Timestamp> },
    /// Started this period, not submitted yet.
    InProgress,
    /// Submitted this period.
    Done { at: Timestamp },
    /// The schedule has not started yet.
    NotYet,
}

/// One schedule's current period and standing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    pub schedule: Schedule,
    pub period_start: Timestamp,
    pub due_by: Timestamp,
    pub standing: Standing,
}

impl Occurrence {
    /// Due and not begun, or begun and not done: what a home screen lists.
    pub fn is_open(&self) -> bool {
        matches!(self.standing, Standing::Due { .. } | Standing::InProgress)
    }

    pub fn is_overdue(&self) -> bool {
        matches!(self.standing, Standing::Due { overdue_since: Some(_) })
    }
}

/// The local day number of `time` (days since 1970-01-01 in the caller's time zone).
fn local_day(time: Timestamp, offset_minutes: i32) -> i64 {
    time.plus(Span::minutes(i64::from(offset_minutes))).day_number()
}

/// The instant a local day begins.
fn day_start(day: i64, offset_minutes: i32) -> Timestamp {
    Timestamp::from_day(day).minus(Span::minutes(i64::from(offset_minutes)))
}

/// Months since year 0 of a day number.
fn month_number(day: i64) -> i64 {
    let (year, month) = year_month(day);
    year * 12 + month - 1
}

fn month_start(months: i64, offset_minutes: i32) -> Timestamp {
    day_start(first_of_month(months.div_euclid(12), months.rem_euclid(12) + 1), offset_minutes)
}

/// The bounds of period `index` of a schedule (index 0 is the one its start falls in).
fn period(schedule: &Schedule, index: i64, offset_minutes: i32) -> (Timestamp, Timestamp) {
    let first_day = local_day(schedule.start, offset_minutes);
    match schedule.every {
        Every::Days(count) | Every::Weeks(count) => {
            let length = i64::from(count) * if matches!(schedule.every, Every::Weeks(_)) { 7 } else { 1 };
            let start = first_day + index * length;
            (day_start(start, offset_minutes), day_start(start + length, offset_minutes))
        }
        Every::Months(count) => {
            let start = month_number(first_day) + index * i64::from(count);
            (month_start(start, offset_minutes), month_start(start + i64::from(count), offset_minutes))
        }
    }
}

/// The index of the period `now` falls in; negative before the schedule starts.
fn period_index(schedule: &Schedule, now: Timestamp, offset_minutes: i32) -> i64 {
    let first_day = local_day(schedule.start, offset_minutes);
    let today = local_day(now, offset_minutes);
    match schedule.every {
        Every::Days(count) => (today - first_day).div_euclid(i64::from(count)),
        Every::Weeks(count) => (today - first_day).div_euclid(7 * i64::from(count)),
        Every::Months(count) => (month_number(today) - month_number(first_day)).div_euclid(i64::from(count)),
    }
}

/// Where each schedule stands at `now`, given the rounds known (on this phone, or
/// anywhere), in the calendar `offset_minutes` east of UTC.
pub fn occurrences(schedules: &[Schedule], rounds: &[RoundFact], now: Timestamp, offset_minutes: i32) -> Vec<Occurrence> {
    schedules
        .iter()
        .map(|schedule| {
            let index = period_index(schedule, now, offset_minutes);
            let (period_start, due_by) = period(schedule, index.max(0), offset_minutes);
            let matching = |from: Timestamp, to: Timestamp| {
                rounds.iter().filter(move |round| {
                    round.template == schedule.template
                        && round.place == schedule.place.as_str()
                        && round.started_at >= from
                        && round.started_at < to
                })
            };
            let standing = if index < 0 || now < schedule.start {
                Standing::NotYet
            } else if let Some(at) = matching(period_start, due_by).filter_map(|round| round.submitted_at).min() {
                Standing::Done { at }
            } else if matching(period_start, due_by).next().is_some() {
                Standing::InProgress
            } else {
                let (previous_start, previous_end) = period(schedule, index - 1, offset_minutes);
                let missed = index > 0 && !matching(previous_start, previous_end).any(|round| round.submitted_at.is_some());
                Standing::Due { overdue_since: missed.then_some(previous_end) }
            };
            Occurrence { schedule: schedule.clone(), period_start, due_by, standing }
        })
        .collect()
}

/// Preventive maintenance: when occurrence `index` of a plan starting at `start` begins.
/// Counted from the start instant in UTC, not in any phone's calendar, so every phone
/// derives the same times; monthly plans keep the start's day of the month (the 28th at
/// most) and time of day.
pub fn plan_occurrence(every: Every, start: Timestamp, index: i64) -> Timestamp {
    match every {
        Every::Days(count) => start.plus(Span::DAY.times(index * i64::from(count))),
        Every::Weeks(count) => start.plus(Span::WEEK.times(index * i64::from(count))),
        Every::Months(count) => {
            let start_day = start.day_number();
            let time_of_day = start.time_of_day();
            let (year, month) = year_month(start_day);
            let day_of_month = (start_day - first_of_month(year, month)).min(27);
            let months = month_number(start_day) + index * i64::from(count);
            let first = first_of_month(months.div_euclid(12), months.rem_euclid(12) + 1);
            Timestamp::from_day(first + day_of_month).plus(time_of_day)
        }
    }
}

/// The occurrence of a plan under way at `now`; `None` before the plan starts.
pub fn plan_index(every: Every, start: Timestamp, now: Timestamp) -> Option<i64> {
    if now < start {
        return None;
    }
    let elapsed = now.since(start);
    let guess = match every {
        Every::Days(count) => elapsed.whole(Span::DAY.times(i64::from(count))),
        Every::Weeks(count) => elapsed.whole(Span::WEEK.times(i64::from(count))),
        Every::Months(count) => {
            let months = month_number(now.day_number()) - month_number(start.day_number());
            months / i64::from(count)
        }
    };
    // A month counted from the calendar may not have reached the start's day yet.
    (0..=guess).rev().find(|index| plan_occurrence(every, start, *index) <= now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::EntryId;

    const BEIJING: i32 = 8 * 60;

    /// 2026-11-26 00:00 in Beijing.
    fn beijing_day(day_of_november: i64) -> Timestamp {
        let day = first_of_month(2026, 11) + day_of_november - 1;
        day_start(day, BEIJING)
    }

    fn schedule(every: Every, start: Timestamp) -> Schedule {
        Schedule {
            id: EntryId::parse("s1").unwrap(),
            template: "automerge:fire".into(),
            place: EntryId::parse("hq-b1").unwrap(),
            every,
            start,
        }
    }

    fn round(started: Timestamp, submitted: Option<Timestamp>) -> RoundFact {
        RoundFact { template: "automerge:fire".into(), place: "hq-b1".into(), started_at: started, submitted_at: submitted }
    }

    #[test]
    fn calendar_arithmetic_matches_known_dates() {
        assert_eq!(first_of_month(1970, 1), 0);
        assert_eq!(first_of_month(2000, 3), 11_017);
        assert_eq!(first_of_month(2026, 11), 20_758);
        for day in [0, 59, 60, 11_016, 11_017, 20_758, -1, -365] {
            let (year, month) = year_month(day);
            assert!(first_of_month(year, month) <= day && day < first_of_month(year, month) + 31, "{day} → {year}-{month}");
        }
        assert_eq!(year_month(first_of_month(2024, 2) + 28), (2024, 2), "29 February 2024");
        assert_eq!(year_month(first_of_month(2023, 2) + 28), (2023, 3), "no 29 February 2023");
    }

    #[test]
    fn a_daily_round_is_due_today_done_when_submitted_and_overdue_when_missed() {
        // Started at 15:00 on the 24th: the period is the local day, not 24 hours from 15:00.
        let daily = schedule(Every::Days(1), beijing_day(24).plus(Span::hours(15)));
        let now = beijing_day(26).plus(Span::hours(9));
        let yesterday = beijing_day(25).plus(Span::hours(23));
        let at = |rounds: &[RoundFact]| occurrences(std::slice::from_ref(&daily), rounds, now, BEIJING).remove(0);

        let due = at(&[round(yesterday, Some(yesterday.plus(Span::minutes(30))))]);
        assert_eq!((due.period_start, due.due_by), (beijing_day(26), beijing_day(27)));
        assert_eq!(due.standing, Standing::Due { overdue_since: None });
        assert!(due.is_open() && !due.is_overdue());

        let missed = at(&[]);
        assert_eq!(missed.standing, Standing::Due { overdue_since: Some(beijing_day(26)) });
        assert!(missed.is_overdue());

        let started = beijing_day(26).plus(Span::hours(8));
        assert_eq!(at(&[round(started, None)]).standing, Standing::InProgress);
        let done = at(&[round(started, None), round(started, Some(started.plus(Span::HOUR)))]);
        assert_eq!(done.standing, Standing::Done { at: started.plus(Span::HOUR) });
        assert!(!done.is_open());

        // Another template or place does not count.
        let elsewhere = RoundFact { place: "canteen".into(), ..round(started, Some(started)) };
        assert!(at(&[elsewhere]).is_overdue());
    }

    #[test]
    fn maintenance_occurrences_count_from_the_start_instant() {
        let start = beijing_day(30).plus(Span::hours(9));
        let quarterly = Every::Months(3);
        // 30 November → 28 February (no 30th), 28 May…; the time of day is kept.
        let second = plan_occurrence(quarterly, start, 1);
        assert_eq!(second.since(day_start(first_of_month(2027, 2) + 27, BEIJING)), Span::hours(9));
        assert_eq!(plan_index(quarterly, start, start.plus_millis(-1)), None);
        assert_eq!(plan_index(quarterly, start, start), Some(0));
        assert_eq!(plan_index(quarterly, start, second.plus_millis(-1)), Some(0));
        assert_eq!(plan_index(quarterly, start, second), Some(1));
        let weekly = Every::Weeks(2);
        assert_eq!(plan_occurrence(weekly, start, 3), start.plus(Span::days(3 * 14)));
        assert_eq!(plan_index(weekly, start, start.plus(Span::days(3 * 14).plus(Span::HOUR))), Some(3));
        assert_eq!(plan_index(Every::Days(1), start, start.plus(Span::DAY).minus(Span::from_millis(1))), Some(0));
    }

    #[test]
    fn weekly_and_monthly_periods_follow_the_calendar() {
        let weekly = schedule(Every::Weeks(1), beijing_day(2).plus(Span::hours(10)));
        let now = beijing_day(26).plus(Span::hours(9));
        let occurrence = occurrences(&[weekly], &[], now, BEIJING).remove(0);
        assert_eq!((occurrence.period_start, occurrence.due_by), (beijing_day(23), beijing_day(30)));

        let monthly = schedule(Every::Months(1), beijing_day(15));
        let occurrence = occurrences(std::slice::from_ref(&monthly), &[], now, BEIJING).remove(0);
        assert_eq!((occurrence.period_start, occurrence.due_by), (beijing_day(1), day_start(first_of_month(2026, 12), BEIJING)));
        // The first period is the start's own month; nothing before it was missed.
        assert_eq!(occurrence.standing, Standing::Due { overdue_since: None });

        let quarterly = schedule(Every::Months(3), beijing_day(15));
        let in_february = day_start(first_of_month(2027, 2) + 3, BEIJING);
        let occurrence = occurrences(&[quarterly], &[], in_february, BEIJING).remove(0);
        assert_eq!(occurrence.period_start, day_start(first_of_month(2027, 2), BEIJING));
        assert_eq!(occurrence.standing, Standing::Due { overdue_since: Some(day_start(first_of_month(2027, 2), BEIJING)) });

        let before = occurrences(&[monthly], &[], beijing_day(14), BEIJING).remove(0);
        assert_eq!(before.standing, Standing::NotYet);
        assert!(!before.is_open());
    }
}
