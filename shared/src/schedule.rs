//! Which scheduled rounds are due, overdue, in progress or done.
//!
//! A schedule (a template at a place) is due in windows of the local calendar. Every N
//! days, weeks or months divides time into periods counted from the day (or month) of its
//! start: a daily schedule's window is one local day, a monthly one's runs from the first
//! of a month to the first of the next. A [`Pattern`] narrows them: only on some weekdays
//! (every week, or every N weeks), only on a day of the month (the month's last day where
//! it has no such day), and within each such day only in its slots (a canteen's 早 / 中 /
//! 晚 checks). A window starting on a day one of the site's closures covers (a vacation, a
//! holiday) is not due at all. The round of the window open now is due by its end; if the
//! window before it ended without a submitted round, it is overdue as well; between
//! windows, one that ended without a round is missed until the next one opens. The local
//! calendar is the caller's: it passes its offset from UTC, so a phone in Beijing sees its
//! day start at its midnight.

use crate::document::catalog::{Closure, Every, Pattern, Schedule};
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
    /// A window is open and no round was started in it; `overdue_since` when the window
    /// before it was missed as well.
    Due { overdue_since: Option<Timestamp> },
    /// Started in the open window, not submitted yet.
    InProgress,
    /// Submitted in the open window.
    Done { at: Timestamp },
    /// No window is open now, and the last one ended at `since` without a round.
    Missed { since: Timestamp },
    /// No window is open now and none was missed: the next one is to come.
    NotYet,
}

/// One schedule's window (the one open now, the last one missed, or the next one) and
/// standing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    pub schedule: Schedule,
    pub period_start: Timestamp,
    pub due_by: Timestamp,
    /// The window's slot of the day, if the schedule has slots.
    pub slot: Option<String>,
    pub standing: Standing,
}

impl Occurrence {
    /// Due and not begun, begun and not done, or missed: what a home screen lists.
    pub fn is_open(&self) -> bool {
        matches!(self.standing, Standing::Due { .. } | Standing::InProgress | Standing::Missed { .. })
    }

    pub fn is_overdue(&self) -> bool {
        matches!(self.standing, Standing::Due { overdue_since: Some(_) } | Standing::Missed { .. })
    }

    /// Since when a round of this schedule has been missed, if it has.
    pub fn missed_since(&self) -> Option<Timestamp> {
        match self.standing {
            Standing::Due { overdue_since } => overdue_since,
            Standing::Missed { since } => Some(since),
            _ => None,
        }
    }
}

/// One time a schedule's round is due: from `start` until `end`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: Timestamp,
    pub end: Timestamp,
    pub slot: Option<String>,
}

/// The local day number of `time` (days since 1970-01-01 in the caller's time zone).
pub(crate) fn local_day(time: Timestamp, offset_minutes: i32) -> i64 {
    time.plus(Span::minutes(i64::from(offset_minutes))).day_number()
}

/// The instant a local day begins.
pub(crate) fn day_start(day: i64, offset_minutes: i32) -> Timestamp {
    Timestamp::from_day(day).minus(Span::minutes(i64::from(offset_minutes)))
}

/// Months since year 0 of a day number.
pub(crate) fn month_number(day: i64) -> i64 {
    let (year, month) = year_month(day);
    year * 12 + month - 1
}

pub(crate) fn month_start(months: i64, offset_minutes: i32) -> Timestamp {
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

/// The ISO weekday (Monday = 1) of a day number.
pub fn weekday(day: i64) -> u8 {
    // 1 January 1970 was a Thursday.
    u8::try_from((day + 3).rem_euclid(7) + 1).expect("a weekday from 1 to 7")
}

/// Whether a schedule of single-day windows has one on local day `day`.
fn on_day(schedule: &Schedule, first_day: i64, day: i64) -> bool {
    let Pattern { weekdays, day_of_month, .. } = &schedule.pattern;
    if !weekdays.is_empty() {
        let every_weeks = match schedule.every {
            Every::Weeks(count) => i64::from(count),
            _ => 1,
        };
        // Weeks run Monday to Sunday, counted from the start's week.
        let first_monday = first_day - i64::from(weekday(first_day) - 1);
        return weekdays.contains(weekday(day)) && ((day - first_monday) / 7).rem_euclid(every_weeks) == 0;
    }
    if let Some(wanted) = day_of_month {
        let every_months = match schedule.every {
            Every::Months(count) => i64::from(count),
            _ => 1,
        };
        let (year, month) = year_month(day);
        let first = first_of_month(year, month);
        let length = first_of_month(year + month / 12, month % 12 + 1) - first;
        let due_day = first + i64::from(*wanted).min(length) - 1;
        return day == due_day && (month_number(day) - month_number(first_day)).rem_euclid(every_months) == 0;
    }
    true
}

/// Whether `at` falls on a day one of `closures` covers, in the calendar `offset_minutes`
/// east of UTC.
pub fn is_closed(closures: &[Closure], at: Timestamp, offset_minutes: i32) -> bool {
    let day = local_day(at, offset_minutes);
    closures.iter().any(|closure| closure.first_day <= day && day <= closure.last_day)
}

/// The windows of `schedule` that start in `[from, to)`, in time order; a window starting
/// on a day one of `closures` covers is left out. In the calendar `offset_minutes` east of
/// UTC.
pub fn windows(schedule: &Schedule, closures: &[Closure], from: Timestamp, to: Timestamp, offset_minutes: i32) -> Vec<Window> {
    let first_day = local_day(schedule.start, offset_minutes);
    let mut found = Vec::new();
    if schedule.pattern.single_days(schedule.every) {
        for day in local_day(from, offset_minutes).max(first_day)..=local_day(to, offset_minutes) {
            if !on_day(schedule, first_day, day) {
                continue;
            }
            let midnight = day_start(day, offset_minutes);
            if schedule.pattern.slots.is_empty() {
                found.push(Window { start: midnight, end: day_start(day + 1, offset_minutes), slot: None });
            }
            for slot in &schedule.pattern.slots {
                let at = |minutes: u16| midnight.plus(Span::minutes(i64::from(minutes)));
                found.push(Window { start: at(slot.from), end: at(slot.to), slot: Some(slot.name.clone()) });
            }
        }
    } else {
        for index in period_index(schedule, from, offset_minutes).max(0)..=period_index(schedule, to, offset_minutes) {
            let (start, end) = period(schedule, index, offset_minutes);
            found.push(Window { start, end, slot: None });
        }
    }
    // A slot of the start's own day that ended before the schedule began was never due.
    found.retain(|window| {
        from <= window.start && window.start < to && window.end > schedule.start && !is_closed(closures, window.start, offset_minutes)
    });
    found
}

/// How far back (and ahead) a schedule's windows are looked for: two of its longest
/// periods, and at least a year and a month, so that a closure over a whole vacation
/// still leaves the window before it in view.
fn reach(every: Every) -> Span {
    let period_days = match every {
        Every::Days(count) => i64::from(count),
        Every::Weeks(count) => 7 * i64::from(count),
        Every::Months(count) => 31 * i64::from(count),
    };
    Span::days((2 * period_days).max(400))
}

/// Where each schedule stands at `now`, given the rounds known (on this phone, or
/// anywhere) and the site's closures, in the calendar `offset_minutes` east of UTC.
pub fn occurrences(
    schedules: &[Schedule],
    closures: &[Closure],
    rounds: &[RoundFact],
    now: Timestamp,
    offset_minutes: i32,
) -> Vec<Occurrence> {
    schedules
        .iter()
        .map(|schedule| {
            let reach = reach(schedule.every);
            let matching = |window: &Window| {
                let (from, to) = (window.start, window.end);
                rounds.iter().filter(move |round| {
                    round.template == schedule.template
                        && round.place == schedule.place.as_str()
                        && round.started_at >= from
                        && round.started_at < to
                })
            };
            let done = |window: &Window| matching(window).filter_map(|round| round.submitted_at).min();
            let past = windows(schedule, closures, now.minus(reach), now.plus_millis(1), offset_minutes);
            let occurrence = |window: &Window, standing| Occurrence {
                schedule: schedule.clone(),
                period_start: window.start,
                due_by: window.end,
                slot: window.slot.clone(),
                standing,
            };
            let next = || {
                // Before the schedule starts, its first window is next (it may have begun).
                let from = if now < schedule.start { schedule.start.minus(reach) } else { now.plus_millis(1) };
                let next = windows(schedule, closures, from, now.plus(reach), offset_minutes).into_iter().next();
                let window = next.unwrap_or(Window { start: now.plus(reach), end: now.plus(reach), slot: None });
                occurrence(&window, Standing::NotYet)
            };
            let Some(current) = past.last().filter(|_| now >= schedule.start) else { return next() };
            if now >= current.end {
                return if done(current).is_some() { next() } else { occurrence(current, Standing::Missed { since: current.end }) };
            }
            let standing = if let Some(at) = done(current) {
                Standing::Done { at }
            } else if matching(current).next().is_some() {
                Standing::InProgress
            } else {
                let before = past.len().checked_sub(2).map(|index| &past[index]);
                let missed = before.filter(|before| done(before).is_none()).map(|before| before.end);
                Standing::Due { overdue_since: missed }
            };
            occurrence(current, standing)
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
    use crate::document::catalog::Closure;

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
            pattern: Pattern::default(),
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
        let at = |rounds: &[RoundFact]| occurrences(std::slice::from_ref(&daily), &[], rounds, now, BEIJING).remove(0);

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

    /// Local midnight in Beijing of a date in 2027.
    fn day_2027(month: i64, day: i64) -> Timestamp {
        day_start(first_of_month(2027, month) + day - 1, BEIJING)
    }

    fn closure(id: &str, from: (i64, i64), to: (i64, i64)) -> Closure {
        let day = |(month, day): (i64, i64)| first_of_month(2027, month) + day - 1;
        Closure { id: EntryId::parse(id).unwrap(), name: id.to_owned(), first_day: day(from), last_day: day(to) }
    }

    fn patterned(every: Every, start: Timestamp, weekdays: &str, day_of_month: Option<u8>, slots: &str) -> Schedule {
        let pattern = Pattern {
            weekdays: crate::document::catalog::Weekdays::parse(weekdays).unwrap(),
            day_of_month,
            slots: crate::document::catalog::Slot::parse_all(slots).unwrap(),
        };
        pattern.check(every).unwrap();
        Schedule { pattern, ..schedule(every, start) }
    }

    const MEALS: &str = "早 06:00-09:00; 中 10:30-13:30; 晚 16:30-19:30";

    /// A year of windows for each kind of schedule (2027 in Beijing: it starts on a
    /// Friday), counted and checked at month ends against a calendar worked out apart.
    #[test]
    fn weekdays_days_of_the_month_meal_slots_and_closures_give_the_years_windows() {
        let new_year = day_2027(1, 1);
        let summer = closure("summer", (7, 10), (8, 31));
        let spring_festival = closure("spring-festival", (2, 6), (2, 12));
        let national_day = closure("national-day", (10, 1), (10, 7));
        let august = closure("august", (8, 1), (8, 31));
        let table: Vec<(&str, Schedule, Vec<Closure>, usize)> = vec![
            ("every day", schedule(Every::Days(1), new_year), vec![], 365),
            ("Monday, Wednesday, Friday", patterned(Every::Days(1), new_year, "1,3,5", None, ""), vec![], 157),
            ("every other Monday", patterned(Every::Weeks(2), day_2027(1, 4), "1", None, ""), vec![], 26),
            ("weekdays", patterned(Every::Days(1), new_year, "1,2,3,4,5", None, ""), vec![], 261),
            ("weekdays but the national day week", patterned(Every::Days(1), new_year, "1,2,3,4,5", None, ""), vec![national_day], 256),
            ("the 31st, or the month's last day", patterned(Every::Months(1), new_year, "", Some(31), ""), vec![], 12),
            ("quarterly on the 15th", patterned(Every::Months(3), day_2027(1, 15), "", Some(15), ""), vec![], 4),
            ("every month but August", schedule(Every::Months(1), new_year), vec![august], 11),
            ("three meals a day", patterned(Every::Days(1), new_year, "", None, MEALS), vec![], 3 * 365),
            (
                "three meals but the holidays",
                patterned(Every::Days(1), new_year, "", None, MEALS),
                vec![summer, spring_festival],
                3 * (365 - 53 - 7),
            ),
        ];
        for (name, schedule, closures, expected) in &table {
            let year = windows(schedule, closures, new_year, day_2027(12, 31).plus(Span::DAY), BEIJING);
            assert_eq!(year.len(), *expected, "{name}");
            assert!(year.windows(2).all(|pair| pair[0].end <= pair[1].start), "{name}: windows in order, apart");
        }
        // Month ends: the 31st falls back to each month's last day, the whole day long.
        let last_days: Vec<String> = windows(&table[5].1, &[], new_year, day_2027(12, 31).plus(Span::DAY), BEIJING)
            .iter()
            .map(|window| window.start.plus(Span::minutes(i64::from(BEIJING))).date())
            .collect();
        assert_eq!(&last_days[..4], ["2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30"]);
        assert_eq!(last_days[11], "2027-12-31");
        // The meals of one day, by name and hour, and none in the summer closure.
        let day = windows(&table[8].1, &[], day_2027(3, 1), day_2027(3, 2), BEIJING);
        let meals: Vec<(Option<&str>, Timestamp, Timestamp)> =
            day.iter().map(|window| (window.slot.as_deref(), window.start, window.end)).collect();
        let at = |hours: i64, minutes: i64| day_2027(3, 1).plus(Span::hours(hours)).plus(Span::minutes(minutes));
        assert_eq!(meals, [(Some("早"), at(6, 0), at(9, 0)), (Some("中"), at(10, 30), at(13, 30)), (Some("晚"), at(16, 30), at(19, 30))]);
        assert_eq!(windows(&table[9].1, &table[9].2, day_2027(7, 10), day_2027(9, 1), BEIJING), []);
        // A preventive order due in the summer closure is skipped by the same rule.
        assert!(is_closed(&table[9].2, day_2027(7, 10), BEIJING) && is_closed(&table[9].2, day_2027(9, 1).minus(Span::MINUTE), BEIJING));
        assert!(!is_closed(&table[9].2, day_2027(9, 1), BEIJING) && !is_closed(&table[9].2, day_2027(7, 10).minus(Span::MINUTE), BEIJING));
    }

    #[test]
    fn a_meal_round_is_due_in_its_slot_missed_after_it_and_a_closure_is_never_due() {
        let canteen = patterned(Every::Days(1), day_2027(3, 1), "", None, MEALS);
        let at = |day: i64, hours: i64| day_2027(3, day).plus(Span::hours(hours));
        let standing = |now: Timestamp, rounds: &[RoundFact], closures: &[Closure]| {
            let occurrence = occurrences(std::slice::from_ref(&canteen), closures, rounds, now, BEIJING).remove(0);
            (occurrence.slot, occurrence.standing)
        };
        // Breakfast is due at 07:00; lunch is next at 10:00, once breakfast was done.
        assert_eq!(
            standing(at(2, 7), &[round(at(1, 18), Some(at(1, 18)))], &[]),
            (Some("早".into()), Standing::Due { overdue_since: None })
        );
        let breakfast = round(at(2, 7), Some(at(2, 7).plus(Span::minutes(20))));
        assert_eq!(standing(at(2, 10), std::slice::from_ref(&breakfast), &[]), (Some("中".into()), Standing::NotYet));
        // No breakfast round: missed from 09:00 until lunch opens, then lunch is due and overdue.
        assert_eq!(standing(at(2, 10), &[], &[]), (Some("早".into()), Standing::Missed { since: at(2, 9) }));
        let lunch_time = at(2, 11);
        assert_eq!(standing(lunch_time, &[], &[]), (Some("中".into()), Standing::Due { overdue_since: Some(at(2, 9)) }));
        // A round started after its slot counts for none.
        assert_eq!(
            standing(at(2, 10), &[round(at(2, 9).plus(Span::minutes(5)), Some(at(2, 10)))], &[]).1,
            Standing::Missed { since: at(2, 9) }
        );
        // Closed on the 2nd: nothing is due that day, and the 1st's dinner, done, is the last.
        let closed = [closure("closed", (3, 2), (3, 2))];
        let dinner = round(at(1, 17), Some(at(1, 18)));
        assert_eq!(standing(lunch_time, std::slice::from_ref(&dinner), &closed), (Some("早".into()), Standing::NotYet));
        let next = occurrences(std::slice::from_ref(&canteen), &closed, &[dinner], lunch_time, BEIJING).remove(0);
        assert_eq!(next.period_start, at(3, 6));
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
        let occurrence = occurrences(&[weekly], &[], &[], now, BEIJING).remove(0);
        assert_eq!((occurrence.period_start, occurrence.due_by), (beijing_day(23), beijing_day(30)));

        let monthly = schedule(Every::Months(1), beijing_day(15));
        let occurrence = occurrences(std::slice::from_ref(&monthly), &[], &[], now, BEIJING).remove(0);
        assert_eq!((occurrence.period_start, occurrence.due_by), (beijing_day(1), day_start(first_of_month(2026, 12), BEIJING)));
        // The first period is the start's own month; nothing before it was missed.
        assert_eq!(occurrence.standing, Standing::Due { overdue_since: None });

        let quarterly = schedule(Every::Months(3), beijing_day(15));
        let in_february = day_start(first_of_month(2027, 2) + 3, BEIJING);
        let occurrence = occurrences(&[quarterly], &[], &[], in_february, BEIJING).remove(0);
        assert_eq!(occurrence.period_start, day_start(first_of_month(2027, 2), BEIJING));
        assert_eq!(occurrence.standing, Standing::Due { overdue_since: Some(day_start(first_of_month(2027, 2), BEIJING)) });

        let before = occurrences(&[monthly], &[], &[], beijing_day(14), BEIJING).remove(0);
        assert_eq!(before.standing, Standing::NotYet);
        assert!(!before.is_open());
    }
}
