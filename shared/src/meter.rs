//! What a meter's readings say: its series, what was used in a period, the runs of
//! readings out of limits and the work orders they raise, and a site's energy against the
//! same period a year before. The rules are written down in ARCHITECTURE.md ("Meters").
//!
//! Readings live in the site's catalog ([`crate::document::catalog::Reading`]): entered
//! directly (by scanning the meter's label) or recorded from a submitted round whose
//! checklist item reads the meter ([`round_readings`]). Every phone holding the catalog
//! reads the same series, so every phone raises the same order for the same run.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::document::EntryId;
use crate::document::catalog::{CatalogView, Meter, MeterKind, Per, Reading, round_reading_id};
use crate::document::inspection::{AnswerValue, InspectionView, NO_ROOM};
use crate::kpi::Period;
use crate::quantity::Quantity;
use crate::schedule::{day_start, local_day, month_number, month_start, weekday};
use crate::time::{Span, Timestamp};

/// A meter's readings, oldest first; readings taken at the same moment in the order of
/// their ids, so every phone orders them alike.
pub fn series<'a>(meter: &EntryId, readings: &'a [Reading]) -> Vec<&'a Reading> {
    let mut series: Vec<&Reading> = readings.iter().filter(|reading| &reading.meter == meter).collect();
    series.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
    series
}

/// What a counting-up meter's readings say was used, as a running total through time.
///
/// Between two readings the use is spread evenly over the time between them (a period
/// ending between readings takes its share); a reading lower than the one before is a
/// meter replaced or turned over: that stretch counts nothing and the next starts from the
/// new value. Before the first reading and after the last nothing is known, and nothing is
/// counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Usage {
    /// (time of a reading, thousandths used from the first reading to it).
    knots: Vec<(Timestamp, i64)>,
}

impl Usage {
    pub fn of(series: &[&Reading]) -> Usage {
        let mut knots: Vec<(Timestamp, i64)> = Vec::with_capacity(series.len());
        let mut previous: Option<i64> = None;
        let mut used = 0i64;
        for reading in series {
            let value = reading.value.thousandths();
            if let Some(previous) = previous {
                used = used.saturating_add((value - previous).max(0));
            }
            previous = Some(value);
            match knots.last_mut() {
                // Two readings at one moment: the later one's total stands.
                Some(last) if last.0 == reading.at => last.1 = used,
                _ => knots.push((reading.at, used)),
            }
        }
        Usage { knots }
    }

    /// The first and last reading's times.
    pub fn span(&self) -> Option<(Timestamp, Timestamp)> {
        Some((self.knots.first()?.0, self.knots.last()?.0))
    }

    /// Whether readings reach from `from` or before to `to` or after.
    pub fn covers(&self, from: Timestamp, to: Timestamp) -> bool {
        self.span().is_some_and(|(first, last)| first <= from && last >= to)
    }

    /// Thousandths used from the first reading to `at`.
    fn at(&self, at: Timestamp) -> i64 {
        let after = self.knots.partition_point(|(time, _)| *time <= at);
        match (after.checked_sub(1).map(|index| self.knots[index]), self.knots.get(after)) {
            (None, _) => 0,
            (Some((_, used)), None) => used,
            (Some((from, before)), Some(&(to, next))) => {
                let share = i128::from(next - before) * i128::from(at.millis_since(from)) / i128::from(to.millis_since(from));
                before + i64::try_from(share).expect("a share of a difference that fits")
            }
        }
    }

    /// What was used from `from` to `to`.
    pub fn between(&self, from: Timestamp, to: Timestamp) -> Quantity {
        Quantity::from_thousandths(if to <= from { 0 } else { self.at(to) - self.at(from) })
    }

    /// What was used from the first reading to the last.
    pub fn total(&self) -> Quantity {
        Quantity::from_thousandths(self.knots.last().map_or(0, |(_, used)| *used))
    }
}

impl Per {
    /// The period of this length that `at` falls in, in the calendar `offset_minutes` east
    /// of UTC: a day, a week from Monday, a calendar month.
    pub fn bounds(self, at: Timestamp, offset_minutes: i32) -> Period {
        let day = local_day(at, offset_minutes);
        match self {
            Per::Day => Period { from: day_start(day, offset_minutes), to: day_start(day + 1, offset_minutes) },
            Per::Week => {
                let monday = day - i64::from(weekday(day)) + 1;
                Period { from: day_start(monday, offset_minutes), to: day_start(monday + 7, offset_minutes) }
            }
            Per::Month => {
                let month = month_number(day);
                Period { from: month_start(month, offset_minutes), to: month_start(month + 1, offset_minutes) }
            }
        }
    }

    /// The `count` periods up to the one `now` falls in, oldest first.
    pub fn last(self, count: usize, now: Timestamp, offset_minutes: i32) -> Vec<Period> {
        let mut periods = vec![self.bounds(now, offset_minutes)];
        while periods.len() < count {
            let first = periods[0].from;
            periods.insert(0, self.bounds(first.minus(Span::from_millis(1)), offset_minutes));
        }
        periods
    }
}

/// Readings out of limits one after another, with none within limits between them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Streak<'a> {
    pub readings: Vec<&'a Reading>,
}

impl<'a> Streak<'a> {
    pub fn first(&self) -> &'a Reading {
        self.readings[0]
    }

    pub fn last(&self) -> &'a Reading {
        self.readings[self.readings.len() - 1]
    }
}

/// The runs of readings out of the meter's limits in `series`, oldest first.
pub fn streaks<'a>(meter: &Meter, series: &[&'a Reading]) -> Vec<Streak<'a>> {
    let mut streaks: Vec<Streak<'a>> = Vec::new();
    let mut open = false;
    for reading in series {
        match (meter.out_of_limits(reading.value), open) {
            (true, true) => streaks.last_mut().expect("an open streak").readings.push(reading),
            (true, false) => streaks.push(Streak { readings: vec![reading] }),
            (false, _) => {}
        }
        open = meter.out_of_limits(reading.value);
    }
    streaks
}

/// A run long enough to raise the meter's work order: one order per run, named by the run's
/// first reading, so phones that each saw it reach the count make the same order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alarm<'a> {
    pub first: &'a Reading,
    /// The reading that made the run long enough.
    pub raised_by: &'a Reading,
}

/// The runs of `series` that reached the meter's `alarm_after`, oldest first.
pub fn alarms<'a>(meter: &Meter, series: &[&'a Reading]) -> Vec<Alarm<'a>> {
    let Some(after) = meter.alarm_after.and_then(|after| usize::try_from(after).ok()).filter(|after| *after > 0) else {
        return Vec::new();
    };
    streaks(meter, series)
        .into_iter()
        .filter(|streak| streak.readings.len() >= after)
        .map(|streak| Alarm { first: streak.first(), raised_by: streak.readings[after - 1] })
        .collect()
}

/// A reading a submitted round gives one of the site's meters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoundReading {
    /// The id it is recorded under ([`round_reading_id`]): once, whoever records it.
    pub id: EntryId,
    pub meter: EntryId,
    pub value: Quantity,
    pub at: Timestamp,
}

/// The readings round `round` (at `round_url`) took of the catalog's meters: the answers to
/// a meter's checklist item in rounds of its template, at the place of the meter's asset
/// (the round's location, or the room of a round of rooms; anywhere, for an asset with no
/// place). Those the catalog has already are left out.
pub fn round_readings(catalog: &CatalogView, round_url: &str, round: &InspectionView) -> Vec<RoundReading> {
    let mut readings = Vec::new();
    for meter in &catalog.meters {
        let Some(link) = meter.round_item.as_ref().filter(|link| link.template == round.template) else { continue };
        let place = catalog.assets.iter().find(|asset| asset.id == meter.asset).and_then(|asset| asset.place.as_ref());
        let answer = round.answers.values().find(|answer| {
            let here = if answer.room == NO_ROOM { round.location.as_str() } else { answer.room.as_str() };
            answer.item == link.item && place.is_none_or(|place| place.as_str() == here)
        });
        let Some(answer) = answer else { continue };
        let AnswerValue::Number(value) = answer.value else { continue };
        let id = round_reading_id(round_url, &meter.id);
        if catalog.readings.iter().any(|reading| reading.id == id) {
            continue;
        }
        readings.push(RoundReading { id, meter: meter.id.clone(), value: Quantity::from_thousandths(value), at: answer.at });
    }
    readings
}

/// Why a new reading of a counting-up meter may be a slip of the finger, asked about before
/// it is saved (a reading once saved is never changed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Doubt {
    /// Below the last reading: a replaced meter, or a slip.
    Lower { last: Quantity },
    /// More than ten times the meter's usual rise for the time since the last reading.
    Jump { last: Quantity },
}

/// Whether `value`, read at `at`, is doubtful for `meter` after `series` (oldest first): only
/// counting-up meters are judged, a jump only once there are three readings to know the
/// usual rise by (the last six at most).
pub fn doubt(meter: &Meter, series: &[&Reading], value: Quantity, at: Timestamp) -> Option<Doubt> {
    if !meter.kind.counts_up() {
        return None;
    }
    let last = series.last()?;
    if value < last.value {
        return Some(Doubt::Lower { last: last.value });
    }
    let recent = &series[series.len().saturating_sub(6)..];
    let (first, span) = (recent.first()?, last.at.millis_since(recent.first()?.at));
    if recent.len() < 3 || span <= 0 {
        return None;
    }
    let rose = i128::from(last.value.thousandths() - first.value.thousandths()).max(0);
    let since = i128::from(at.millis_since(last.at).max(0));
    let usual = rose * since / i128::from(span);
    let rise = i128::from(value.thousandths() - last.value.thousandths());
    (rise > 10 * usual.max(1_000)).then_some(Doubt::Jump { last: last.value })
}

/// The week count a year before is taken as: 52 weeks, so weekdays line up.
pub const YEAR_BEFORE: Span = Span::days(364);

/// One meter's use in a period and in the same period a year before.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeterUse {
    pub meter: EntryId,
    pub name: String,
    pub kind: MeterKind,
    pub unit: String,
    pub used: Quantity,
    /// The same stretch of time a year before, when the readings cover it.
    pub year_before: Option<Quantity>,
}

/// A site's use of one kind of energy or water, and the saving against a year before.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnergyTotal {
    pub kind: MeterKind,
    pub unit: String,
    pub used: Quantity,
    /// The meters' use a year before, of those whose readings cover both stretches.
    pub compared_now: Quantity,
    pub compared_before: Quantity,
    /// Saved against a year before, in thousandths of it (negative: more was used); none
    /// when no meter's readings reach back a year.
    pub saving_per_mille: Option<i32>,
}

/// A site's energy: counting-up meters' use in a period, per meter and per kind and unit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Energy {
    pub meters: Vec<MeterUse>,
    pub totals: Vec<EnergyTotal>,
}

impl Energy {
    /// Each meter's use over `period` as far as its readings reach (to its last reading,
    /// if that is before the period ends), against the same stretch 52 weeks before.
    pub fn of(catalog: &CatalogView, period: Period) -> Energy {
        let mut meters = Vec::new();
        let mut totals: BTreeMap<(MeterKind, String), EnergyTotal> = BTreeMap::new();
        for meter in catalog.meters.iter().filter(|meter| meter.kind.counts_up()) {
            let usage = Usage::of(&series(&meter.id, &catalog.readings));
            let Some((_, last)) = usage.span() else { continue };
            let to = period.to.min(last);
            let used = usage.between(period.from, to);
            let (from_before, to_before) = (period.from.minus(YEAR_BEFORE), to.minus(YEAR_BEFORE));
            let year_before = (to > period.from && usage.covers(from_before, to_before) && usage.covers(period.from, to))
                .then(|| usage.between(from_before, to_before));
            let total = totals.entry((meter.kind, meter.unit.clone())).or_insert_with(|| EnergyTotal {
                kind: meter.kind,
                unit: meter.unit.clone(),
                used: Quantity::ZERO,
                compared_now: Quantity::ZERO,
                compared_before: Quantity::ZERO,
                saving_per_mille: None,
            });
            total.used = total.used.saturating_add(used);
            if let Some(before) = year_before {
                total.compared_now = total.compared_now.saturating_add(used);
                total.compared_before = total.compared_before.saturating_add(before);
            }
            meters.push(MeterUse {
                meter: meter.id.clone(),
                name: meter.name.clone(),
                kind: meter.kind,
                unit: meter.unit.clone(),
                used,
                year_before,
            });
        }
        let mut totals: Vec<EnergyTotal> = totals.into_values().collect();
        for total in &mut totals {
            total.saving_per_mille = saving(total.compared_now, total.compared_before);
        }
        Energy { meters, totals }
    }
}

/// What was saved against `before`, in thousandths of it; none when nothing was used before.
pub fn saving(now: Quantity, before: Quantity) -> Option<i32> {
    let before = i128::from(before.thousandths());
    if before <= 0 {
        return None;
    }
    let saved = (before - i128::from(now.thousandths())) * 1000 / before;
    Some(i32::try_from(saved.clamp(-1_000_000, 1000)).expect("clamped"))
}

/// A meter whose use in the last whole period of its limit was above it: told once per
/// meter and period, when a reading after the period's end shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverLimit<'a> {
    pub meter: &'a Meter,
    pub period: Period,
    pub used: Quantity,
}

/// The catalog's meters over their usage limit in the period before the one `now` falls in.
pub fn over_limit(catalog: &CatalogView, now: Timestamp, offset_minutes: i32) -> Vec<OverLimit<'_>> {
    let mut over = Vec::new();
    for meter in catalog.meters.iter().filter(|meter| meter.kind.counts_up()) {
        let Some(limit) = meter.usage_limit else { continue };
        let current = limit.per.bounds(now, offset_minutes);
        let period = limit.per.bounds(current.from.minus(Span::from_millis(1)), offset_minutes);
        let usage = Usage::of(&series(&meter.id, &catalog.readings));
        if !usage.covers(period.from, period.to) {
            continue;
        }
        let used = usage.between(period.from, period.to);
        if used > limit.most {
            over.push(OverLimit { meter, period, used });
        }
    }
    over
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::directory::Username;

    fn reading(id: &str, meter: &str, value: &str, hours: i64) -> Reading {
        Reading {
            id: EntryId::parse(id).unwrap(),
            meter: EntryId::parse(meter).unwrap(),
            value: value.parse().unwrap(),
            at: Timestamp::from_millis(0).plus(Span::hours(hours)),
            user: Username::parse("inspector").unwrap(),
            round: None,
        }
    }

    fn fridge() -> Meter {
        Meter {
            id: EntryId::parse("fridge").unwrap(),
            name: "Fridge 2".to_owned(),
            asset: EntryId::parse("f2").unwrap(),
            kind: MeterKind::Reading,
            unit: "°C".to_owned(),
            tag: "M-F2".to_owned(),
            low: Some("0".parse().unwrap()),
            high: Some("8".parse().unwrap()),
            alarm_after: Some(3),
            usage_limit: None,
            round_item: None,
        }
    }

    #[test]
    fn usage_is_spread_between_readings_and_a_drop_counts_nothing() {
        let readings = [
            reading("a", "m", "100", 0),
            reading("b", "m", "110", 10),
            // Replaced: the new meter starts at 2.
            reading("c", "m", "2", 20),
            reading("d", "m", "12", 30),
        ];
        let usage = Usage::of(&series(&EntryId::parse("m").unwrap(), &readings));
        let at = |hours| Timestamp::from_millis(0).plus(Span::hours(hours));
        assert_eq!(usage.total(), Quantity::units(20));
        assert_eq!(usage.between(at(0), at(5)), Quantity::units(5), "half of the first stretch");
        assert_eq!(usage.between(at(10), at(20)), Quantity::ZERO, "the replacement");
        assert_eq!(usage.between(at(-50), at(100)), Quantity::units(20), "nothing outside the readings");
        assert_eq!(usage.between(at(25), at(28)), Quantity::units(3));
        assert!(usage.covers(at(0), at(30)) && !usage.covers(at(-1), at(30)) && !usage.covers(at(0), at(31)));
    }

    #[test]
    fn streaks_and_the_alarm_of_three() {
        let readings = [
            reading("r1", "fridge", "4", 0),
            reading("r2", "fridge", "9", 1),
            reading("r3", "fridge", "10", 2),
            reading("r4", "fridge", "5", 3),
            reading("r5", "fridge", "-1", 4),
            reading("r6", "fridge", "11", 5),
            reading("r7", "fridge", "12.5", 6),
            reading("r8", "fridge", "9", 7),
            reading("x1", "other", "99", 3),
        ];
        let meter = fridge();
        let series = series(&meter.id, &readings);
        assert_eq!(series.len(), 8);
        let runs: Vec<Vec<&str>> =
            streaks(&meter, &series).iter().map(|run| run.readings.iter().map(|reading| reading.id.as_str()).collect()).collect();
        assert_eq!(runs, vec![vec!["r2", "r3"], vec!["r5", "r6", "r7", "r8"]]);
        let alarms = alarms(&meter, &series);
        assert_eq!(alarms.len(), 1, "the run of two raises nothing, the run of four one order");
        assert_eq!((alarms[0].first.id.as_str(), alarms[0].raised_by.id.as_str()), ("r5", "r7"));
    }

    #[test]
    fn a_reading_below_the_last_or_far_above_the_usual_rise_is_doubted() {
        let power = Meter { kind: MeterKind::Electricity, unit: "kWh".to_owned(), low: None, high: None, alarm_after: None, ..fridge() };
        // 100 kWh a day for four days.
        let readings: Vec<Reading> =
            (0..5).map(|day| reading(&format!("d{day}"), "fridge", &(1_000 + 100 * day).to_string(), 24 * day)).collect();
        let series = series(&power.id, &readings);
        let next_day = Timestamp::from_millis(0).plus(Span::days(5));
        assert_eq!(doubt(&power, &series, Quantity::units(1_500), next_day), None, "the usual day");
        assert_eq!(doubt(&power, &series, Quantity::units(2_300), next_day), None, "nine days' use is odd, not doubtful");
        assert_eq!(
            doubt(&power, &series, Quantity::units(14_000), next_day),
            Some(Doubt::Jump { last: Quantity::units(1_400) }),
            "a digit too many"
        );
        assert_eq!(doubt(&power, &series, Quantity::units(140), next_day), Some(Doubt::Lower { last: Quantity::units(1_400) }));
        assert_eq!(doubt(&fridge(), &series, Quantity::units(-5), next_day), None, "a reading meter is not counted up");
        assert_eq!(doubt(&power, &series[..2], Quantity::units(99_999), next_day), None, "too few readings to know the usual rise");
    }

    #[test]
    fn periods_follow_the_calendar() {
        // 2027-03-10 12:00 UTC, a Wednesday; the site is UTC+8.
        let at = Timestamp::parse_date("2027-03-10").unwrap().plus(Span::hours(12));
        let offset = 480;
        let local = |date: &str| Timestamp::parse_date(date).unwrap().minus(Span::hours(8));
        assert_eq!(Per::Day.bounds(at, offset), Period { from: local("2027-03-10"), to: local("2027-03-11") });
        assert_eq!(Per::Week.bounds(at, offset), Period { from: local("2027-03-08"), to: local("2027-03-15") });
        assert_eq!(Per::Month.bounds(at, offset), Period { from: local("2027-03-01"), to: local("2027-04-01") });
        let months = Per::Month.last(3, at, offset);
        assert_eq!(
            months.iter().map(|period| period.from).collect::<Vec<_>>(),
            vec![local("2027-01-01"), local("2027-02-01"), local("2027-03-01")]
        );
    }

    #[test]
    fn saving_is_against_a_year_before_and_only_where_readings_reach() {
        let day = |days: i64| Timestamp::from_millis(0).plus(Span::days(days));
        let mut catalog = crate::document::testing::empty_catalog();
        let meter = |id: &str| Meter {
            id: EntryId::parse(id).unwrap(),
            kind: MeterKind::Electricity,
            unit: "kWh".to_owned(),
            low: None,
            high: None,
            alarm_after: None,
            ..fridge()
        };
        catalog.meters = vec![meter("old"), meter("new")];
        let at = |id: &str, meter: &str, value: i64, days: i64| Reading {
            at: day(days),
            value: Quantity::units(value),
            ..reading(id, meter, "0", 0)
        };
        // A year of readings on the old meter: 100 kWh a day a year before, 80 now.
        catalog.readings =
            vec![at("o1", "old", 0, 0), at("o2", "old", 3_000, 30), at("o3", "old", 30_000, 364), at("o4", "old", 32_400, 394)];
        // The new meter was fitted this year: counted, not compared.
        catalog.readings.extend([at("n1", "new", 0, 364), at("n2", "new", 500, 394)]);
        let energy = Energy::of(&catalog, Period { from: day(364), to: day(394) });
        let total = &energy.totals[0];
        assert_eq!(
            (total.used, total.compared_now, total.compared_before),
            (Quantity::units(2_900), Quantity::units(2_400), Quantity::units(3_000))
        );
        assert_eq!(total.saving_per_mille, Some(200), "a fifth saved");
        assert_eq!(energy.meters.iter().map(|line| line.year_before).collect::<Vec<_>>(), vec![Some(Quantity::units(3_000)), None]);
    }

    proptest! {
        /// What periods side by side used adds up to what their union used, and periods
        /// covering every reading add up to the meter's total: nothing counted twice or lost.
        #[test]
        fn usage_adds_up(steps in prop::collection::vec((0i64..100, -50i64..500), 1..30), cuts in prop::collection::vec(-200i64..3_500, 1..8)) {
            let mut readings = Vec::new();
            let (mut hours, mut value) = (0i64, 1_000i64);
            for (index, (gap, change)) in steps.iter().enumerate() {
                hours += gap;
                value = (value + change).max(0);
                readings.push(Reading { value: Quantity::from_thousandths(value * 7), ..reading(&format!("r{index}"), "m", "0", hours) });
            }
            let usage = Usage::of(&series(&EntryId::parse("m").unwrap(), &readings));
            let mut cuts: Vec<Timestamp> = cuts.iter().map(|hours| Timestamp::from_millis(0).plus(Span::minutes(*hours * 60 + 7))).collect();
            cuts.sort();
            let (start, end) = (Timestamp::from_millis(-1), Timestamp::from_millis(0).plus(Span::hours(hours + 1)));
            let mut bounds = vec![start];
            bounds.extend(cuts.iter().copied().filter(|cut| *cut > start && *cut < end));
            bounds.push(end);
            let sum: Quantity = bounds.windows(2).map(|pair| usage.between(pair[0], pair[1])).sum();
            prop_assert_eq!(sum, usage.total());
            prop_assert!(bounds.windows(2).all(|pair| !usage.between(pair[0], pair[1]).is_negative()));
        }
    }
}
