//! Meters on a site's assets and the readings taken of them: the catalog's `meters` (an
//! administrator's list) and `readings` (entries added by anyone who walks rounds or
//! maintains, never changed). Both sections are missing from catalogs made before them; the
//! first meter makes both. What the readings mean — series, consumption, streaks — is
//! [`crate::meter`]'s.

use automerge::ROOT;

use super::{SiteCatalog, put_optional};
use crate::directory::Username;
use crate::document::{DocumentError, Edit, EntryId, Fields, invalid, map_at, put};
use crate::quantity::Quantity;
use crate::time::Timestamp;

crate::document::text_enum! {
    /// What a meter measures. The first four count up (a register read off the meter, so
    /// what was used is the difference of two readings); a `reading` is a value as it is at
    /// that moment (a fridge's temperature, an extinguisher's pressure).
    pub enum MeterKind as "meter kind" {
        Electricity = "electricity",
        Water = "water",
        Gas = "gas",
        /// An engine's or pump's running hours.
        Hours = "hours",
        Reading = "reading",
    }
}

impl MeterKind {
    /// Whether readings count up, so that consumption is their difference.
    pub const fn counts_up(self) -> bool {
        !matches!(self, MeterKind::Reading)
    }

    /// The unit a new meter of this kind starts with.
    pub const fn usual_unit(self) -> &'static str {
        match self {
            MeterKind::Electricity => "kWh",
            MeterKind::Water | MeterKind::Gas => "m³",
            MeterKind::Hours => "h",
            MeterKind::Reading => "",
        }
    }
}

crate::document::text_enum! {
    /// The period a consumption limit is per.
    pub enum Per as "period" {
        Day = "day",
        Week = "week",
        Month = "month",
    }
}

/// The checklist item of a round that reads a meter: answers to it in rounds of that
/// template, at the meter's asset's place, are the meter's readings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoundItem {
    /// The template document's id.
    pub template: String,
    pub item: EntryId,
}

/// "More than `most` used per `per`": told to the site's managers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UsageLimit {
    pub most: Quantity,
    pub per: Per,
}

/// A meter on an asset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Meter {
    pub id: EntryId,
    pub name: String,
    pub asset: EntryId,
    pub kind: MeterKind,
    pub unit: String,
    /// Printed on the meter's label; scanning it opens the meter to enter a reading.
    pub tag: String,
    /// A reading below `low` or above `high` is out of limits.
    pub low: Option<Quantity>,
    pub high: Option<Quantity>,
    /// This many readings out of limits in a row raise a work order.
    pub alarm_after: Option<u32>,
    pub usage_limit: Option<UsageLimit>,
    pub round_item: Option<RoundItem>,
}

impl Meter {
    /// Whether `value` is below the meter's low or above its high limit.
    pub fn out_of_limits(&self, value: Quantity) -> bool {
        self.low.is_some_and(|low| value < low) || self.high.is_some_and(|high| value > high)
    }

    /// The limits as a person reads them: `2–8 °C`, `≤ 1.2 MPa`, `≥ 0.8`; none, empty.
    pub fn limits_text(&self) -> String {
        let unit = if self.unit.is_empty() { String::new() } else { format!(" {}", self.unit) };
        match (self.low, self.high) {
            (Some(low), Some(high)) => format!("{low}–{high}{unit}"),
            (Some(low), None) => format!("≥ {low}{unit}"),
            (None, Some(high)) => format!("≤ {high}{unit}"),
            (None, None) => String::new(),
        }
    }
}

/// The most readings out of limits in a row a rule may wait for.
pub const MAX_ALARM_AFTER: u32 = 30;

/// One reading of a meter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reading {
    pub id: EntryId,
    pub meter: EntryId,
    pub value: Quantity,
    pub at: Timestamp,
    pub user: Username,
    /// The round it was taken on (its document url); none for one entered directly.
    pub round: Option<String>,
}

/// The id of the reading a round gives a meter: submitting it on two phones records it once.
pub fn round_reading_id(round_url: &str, meter: &EntryId) -> EntryId {
    EntryId::parse(&super::derived_id("round", round_url, meter.as_str())).expect("derived ids always parse")
}

impl SiteCatalog {
    /// Adds or replaces a meter.
    pub fn put_meter(&mut self, meter: &Meter, edit: &Edit) -> Result<(), DocumentError> {
        if meter.name.trim().is_empty() {
            return Err(DocumentError::MissingField { field: "name".to_owned() });
        }
        check_meter(meter)?;
        // The first meter makes the readings' section too: made by an administrator once,
        // never by two phones' first readings at once (one of the two would hide the other).
        self.make_later_section("meters")?;
        self.make_later_section("readings")?;
        self.upsert("meters", meter.id.as_str(), edit, "meter", |doc, map| {
            put(doc, map, "name", meter.name.trim());
            put(doc, map, "asset", meter.asset.as_str());
            put(doc, map, "kind", meter.kind.as_str());
            put(doc, map, "unit", meter.unit.trim());
            put(doc, map, "tag", meter.tag.trim());
            put_optional(doc, map, "low", meter.low.map(Quantity::thousandths));
            put_optional(doc, map, "high", meter.high.map(Quantity::thousandths));
            put_optional(doc, map, "alarm_after", meter.alarm_after.map(i64::from));
            put_optional(doc, map, "usage_limit", meter.usage_limit.map(|limit| limit.most.thousandths()));
            put_optional(doc, map, "usage_per", meter.usage_limit.map(|limit| limit.per.as_str()));
            put_optional(doc, map, "round_template", meter.round_item.as_ref().map(|round| round.template.as_str()));
            put_optional(doc, map, "round_item", meter.round_item.as_ref().map(|round| round.item.as_str()));
        })
    }

    /// Removes a meter; its readings stay in the catalog (none there is no change).
    pub fn remove_meter(&mut self, id: &EntryId, edit: &Edit) -> Result<(), DocumentError> {
        self.remove_from_later_section("meters", id, edit, "removed meter")
    }

    /// Records a reading of `meter` by `edit.user`, taken at `edit.at`; `round` names the
    /// round it was taken on. A reading is never changed: a wrong one is followed by the
    /// right one.
    pub fn record_reading(
        &mut self,
        id: &EntryId,
        meter: &EntryId,
        value: Quantity,
        round: Option<&str>,
        edit: &Edit,
    ) -> Result<(), DocumentError> {
        check_value(value)?;
        let readings = map_at(&self.doc, &ROOT, "readings", "readings")?;
        if automerge::ReadDoc::get(&self.doc, &readings, id.as_str())?.is_some() {
            return Err(invalid("reading id", id.as_str(), "a new id; this one is taken"));
        }
        self.upsert("readings", id.as_str(), edit, "reading", |doc, map| {
            put(doc, map, "meter", meter.as_str());
            put(doc, map, "value", value.thousandths());
            put(doc, map, "at", edit.at.as_millis());
            put(doc, map, "user", edit.user.as_str());
            put_optional(doc, map, "round", round);
        })
    }
}

/// Readings and limits are at most a billion units either way: anything beyond is a typo,
/// and would swamp a site's totals.
const MAX_VALUE: i64 = 1_000_000_000_000;

fn check_value(value: Quantity) -> Result<(), DocumentError> {
    if value.thousandths().abs() > MAX_VALUE {
        return Err(invalid("reading", &value.to_string(), "at most 1,000,000,000 either way"));
    }
    Ok(())
}

fn check_meter(meter: &Meter) -> Result<(), DocumentError> {
    for limit in [meter.low, meter.high, meter.usage_limit.map(|limit| limit.most)].into_iter().flatten() {
        check_value(limit)?;
    }
    if let (Some(low), Some(high)) = (meter.low, meter.high)
        && high < low
    {
        return Err(invalid("limits", &format!("{low}–{high}"), "a high limit at or above the low one"));
    }
    if let Some(after) = meter.alarm_after
        && !(1..=MAX_ALARM_AFTER).contains(&after)
    {
        return Err(invalid("alarm_after", &after.to_string(), "1 to 30 readings"));
    }
    if meter.usage_limit.is_some_and(|limit| limit.most.is_negative()) {
        return Err(invalid("usage_limit", &meter.usage_limit.map(|limit| limit.most.to_string()).unwrap_or_default(), "zero or more"));
    }
    Ok(())
}

pub(super) fn read_meter(id: EntryId, meter: &Fields<'_>) -> Result<Meter, DocumentError> {
    let quantity = |key: &str| -> Result<Option<Quantity>, DocumentError> { Ok(meter.optional_i64(key)?.map(Quantity::from_thousandths)) };
    let usage_limit = match (quantity("usage_limit")?, meter.optional_str("usage_per")?) {
        (Some(most), Some(per)) => Some(UsageLimit { most, per: Per::parse(&per)? }),
        (None, None) => None,
        _ => return Err(invalid(&meter.path("usage_limit"), "", "a limit and its period together")),
    };
    let round_item = match (meter.optional_str("round_template")?, meter.optional_id("round_item")?) {
        (Some(template), Some(item)) => Some(RoundItem { template, item }),
        (None, None) => None,
        _ => return Err(invalid(&meter.path("round_item"), "", "a template and its item together")),
    };
    let alarm_after = match meter.optional_i64("alarm_after")? {
        None => None,
        Some(after) => Some(u32::try_from(after).map_err(|_| invalid(&meter.path("alarm_after"), &after.to_string(), "1 to 30 readings"))?),
    };
    let read = Meter {
        id,
        name: meter.str("name")?,
        asset: meter.id("asset")?,
        kind: MeterKind::parse(&meter.str("kind")?)?,
        unit: meter.optional_str("unit")?.unwrap_or_default(),
        tag: meter.optional_str("tag")?.unwrap_or_default(),
        low: quantity("low")?,
        high: quantity("high")?,
        alarm_after,
        usage_limit,
        round_item,
    };
    check_meter(&read)?;
    Ok(read)
}

pub(super) fn read_reading(id: EntryId, reading: &Fields<'_>) -> Result<Reading, DocumentError> {
    let value = Quantity::from_thousandths(reading.i64("value")?);
    check_value(value)?;
    Ok(Reading {
        id,
        meter: reading.id("meter")?,
        value,
        at: reading.time("at")?,
        user: reading.user("user")?,
        round: reading.optional_str("round")?,
    })
}
