//! The site catalog: a site's places, assets, stock items, templates in use, schedules,
//! maintenance plans, the index of its documents and its stock ledger.
//!
//! A phone syncs its sites' catalogs first: they tell it which documents exist (the index:
//! id, type, title, status, location, updated time) without opening each one, and what the
//! forms offer (rooms, assets, items, templates).
//!
//! Everything is a map keyed by a stable id, so two admins adding rooms, or two phones
//! adding index entries, never touch the same key. The ledger is a set of movement entries
//! (receive, issue, scrap, adjust); on-hand quantities are derived from them, never stored.
//!
//! Layout: header; `name`; `places`, `assets`, `stock_items`, `templates`, `schedules`,
//! `maintenance`, `index`, `ledger`, `rates`, `closures`, `vendors`, `meters`, `readings`
//! (maps keyed by id; `rates` and the sections after it are missing from catalogs made
//! before them, and made by the first entry).

use std::collections::{BTreeMap, BTreeSet};

use automerge::transaction::Transactable as _;
use automerge::{ActorId, AutoCommit, ObjId, ROOT};

use super::{
    DocumentError, DocumentType, Edit, EntryId, Fields, Header, UnreadableEntry, commit, invalid, map_at, put, put_map, read_root,
};
use crate::directory::{Role, SiteId, Username};
use crate::money::Money;
use crate::quantity::Quantity;
use crate::time::Timestamp;

mod meters;
pub use meters::{MAX_ALARM_AFTER, Meter, MeterKind, Per, Reading, RoundItem, UsageLimit, round_reading_id};

const COLLECTIONS: [&str; 13] = [
    "places",
    "assets",
    "stock_items",
    "templates",
    "schedules",
    "maintenance",
    "index",
    "ledger",
    "rates",
    "closures",
    "vendors",
    "meters",
    "readings",
];

super::text_enum! {
    /// What kind of place.
    pub enum PlaceKind as "place kind" {
        Building = "building",
        Floor = "floor",
        Room = "room",
        /// A store, plant room, yard: anything else with an address.
        Area = "area",
    }
}

/// A building, floor, room or area.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    pub id: EntryId,
    pub kind: PlaceKind,
    pub parent: Option<EntryId>,
    pub name: String,
    /// Printed on the QR label at the door.
    pub code: String,
}

impl Place {
    /// Whether the place's name or code holds every one of `words` (from [`search_words`]).
    pub fn has_words(&self, words: &[String]) -> bool {
        if words.is_empty() {
            return true;
        }
        let (name, code) = (self.name.to_lowercase(), self.code.to_lowercase());
        words.iter().all(|word| name.contains(word.as_str()) || code.contains(word.as_str()))
    }
}

/// The words of a search as typed, in lower case.
pub fn search_words(query: &str) -> Vec<String> {
    query.split_whitespace().map(str::to_lowercase).collect()
}

/// An air conditioner, extinguisher, vehicle…
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Asset {
    pub id: EntryId,
    pub name: String,
    /// e.g. `air_conditioner`, `extinguisher`, `vehicle`.
    pub asset_type: String,
    /// The asset tag (printed as a QR code).
    pub tag: String,
    pub place: Option<EntryId>,
    pub installed_at: Option<Timestamp>,
}

super::text_enum! {
    /// What kind of thing a stock item is, as the store's reports group them. Stored as
    /// text (`StockItem::category`); imports accept only these.
    pub enum StockCategory as "category" {
        Supplies = "supplies",
        Consumables = "consumables",
        ProtectiveEquipment = "protective_equipment",
        FixedAsset = "fixed_asset",
    }
}

/// A kind of thing the store keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StockItem {
    pub id: EntryId,
    pub code: String,
    pub name: String,
    pub unit: String,
    /// A [`StockCategory`] as stored.
    pub category: String,
    pub bin: Option<String>,
    /// Time to order more once on-hand is at or below this.
    pub reorder_point: Option<Quantity>,
}

/// A template in use at the site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateRef {
    /// The template document's id.
    pub document: String,
    pub name_zh: String,
    pub name_en: String,
    pub category: String,
    /// The version inspections start from; 0 while the template is a draft never
    /// published, which rounds do not offer.
    pub version: i64,
}

impl TemplateRef {
    pub fn is_published(&self) -> bool {
        self.version > 0
    }
}

/// The sections whose unreadable entries an administrator may remove.
pub const REPAIRABLE: [&str; 10] =
    ["places", "assets", "stock_items", "templates", "schedules", "maintenance", "index", "rates", "closures", "meters"];

/// The lists of a catalog an administrator edits entry by entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CatalogList {
    Places,
    Assets,
    StockItems,
    Templates,
    Schedules,
    Maintenance,
}

impl CatalogList {
    const fn collection(self) -> &'static str {
        match self {
            CatalogList::Places => "places",
            CatalogList::Assets => "assets",
            CatalogList::StockItems => "stock_items",
            CatalogList::Templates => "templates",
            CatalogList::Schedules => "schedules",
            CatalogList::Maintenance => "maintenance",
        }
    }

    const fn singular(self) -> &'static str {
        match self {
            CatalogList::Places => "place",
            CatalogList::Assets => "asset",
            CatalogList::StockItems => "stock item",
            CatalogList::Templates => "template",
            CatalogList::Schedules => "schedule",
            CatalogList::Maintenance => "maintenance plan",
        }
    }
}

/// How often something recurs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Every {
    Days(u32),
    Weeks(u32),
    Months(u32),
}

impl Every {
    /// The count and its unit as the document stores them (`day`, `week`, `month`).
    pub fn parts(self) -> (i64, &'static str) {
        match self {
            Every::Days(count) => (i64::from(count), "day"),
            Every::Weeks(count) => (i64::from(count), "week"),
            Every::Months(count) => (i64::from(count), "month"),
        }
    }

    pub fn from_parts(count: i64, unit: &str, field: &str) -> Result<Every, DocumentError> {
        let count =
            u32::try_from(count).ok().filter(|count| *count > 0).ok_or_else(|| invalid(field, &count.to_string(), "a positive count"))?;
        match unit {
            "day" => Ok(Every::Days(count)),
            "week" => Ok(Every::Weeks(count)),
            "month" => Ok(Every::Months(count)),
            other => Err(invalid(field, other, "day, week or month")),
        }
    }
}

/// A round to walk: a template at a place, recurring.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub id: EntryId,
    pub template: String,
    pub place: EntryId,
    pub every: Every,
    pub start: Timestamp,
    /// Which days (and times of day) within `every`; the default is all of each period.
    pub pattern: Pattern,
}

/// Days of the week, Monday to Sunday (ISO numbers 1 to 7).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Weekdays(u8);

impl Weekdays {
    pub const NONE: Weekdays = Weekdays(0);

    /// `1,3,5`: ISO weekday numbers, Monday = 1.
    pub fn parse(text: &str) -> Result<Weekdays, DocumentError> {
        let mut days = Weekdays::NONE;
        for part in text.split(',').map(str::trim).filter(|part| !part.is_empty()) {
            match part.parse::<u8>() {
                Ok(day @ 1..=7) => days = days.with(day),
                _ => return Err(invalid("weekdays", text, "weekday numbers from 1 (Monday) to 7 (Sunday), like 1,3,5")),
            }
        }
        Ok(days)
    }

    #[must_use]
    pub const fn with(self, iso_day: u8) -> Weekdays {
        Weekdays(self.0 | 1 << (iso_day - 1))
    }

    #[must_use]
    pub const fn without(self, iso_day: u8) -> Weekdays {
        Weekdays(self.0 & !(1 << (iso_day - 1)))
    }

    pub const fn contains(self, iso_day: u8) -> bool {
        iso_day >= 1 && iso_day <= 7 && self.0 & (1 << (iso_day - 1)) != 0
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The days, Monday first.
    pub fn days(self) -> impl Iterator<Item = u8> {
        (1..=7).filter(move |day| self.contains(*day))
    }

    pub fn as_text(self) -> String {
        self.days().map(|day| day.to_string()).collect::<Vec<_>>().join(",")
    }
}

/// A part of the day a round is due in: a meal (早 / 中 / 晚), a shift.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    pub name: String,
    /// Minutes after local midnight: from, inclusive, to, exclusive.
    pub from: u16,
    pub to: u16,
}

impl Slot {
    /// `早 06:00-09:00`: a name, then the times; slots are written one after another,
    /// separated by `;`.
    pub fn parse_all(text: &str) -> Result<Vec<Slot>, DocumentError> {
        let hint = "slots like 早 06:00-09:00; 中 10:30-13:00, each ending after it starts";
        let time = |value: &str| -> Option<u16> {
            let (hours, minutes) = value.trim().split_once(':')?;
            let (hours, minutes): (u16, u16) = (hours.parse().ok()?, minutes.parse().ok()?);
            (hours <= 24 && minutes < 60 && hours * 60 + minutes <= 24 * 60).then_some(hours * 60 + minutes)
        };
        let mut slots = Vec::new();
        for part in text.split(';').map(str::trim).filter(|part| !part.is_empty()) {
            let (name, times) = part.rsplit_once(' ').ok_or_else(|| invalid("slots", text, hint))?;
            let (from, to) = times.split_once('-').ok_or_else(|| invalid("slots", text, hint))?;
            let (Some(from), Some(to)) = (time(from), time(to)) else { return Err(invalid("slots", text, hint)) };
            if name.trim().is_empty() || from >= to {
                return Err(invalid("slots", text, hint));
            }
            slots.push(Slot { name: name.trim().to_owned(), from, to });
        }
        slots.sort_by_key(|slot| slot.from);
        if slots.windows(2).any(|pair| pair[1].from < pair[0].to) {
            return Err(invalid("slots", text, "slots that do not overlap"));
        }
        Ok(slots)
    }

    pub fn text_of(slots: &[Slot]) -> String {
        let time = |minutes: u16| format!("{:02}:{:02}", minutes / 60, minutes % 60);
        slots.iter().map(|slot| format!("{} {}-{}", slot.name, time(slot.from), time(slot.to))).collect::<Vec<_>>().join("; ")
    }
}

/// Which days and times of day within a schedule's recurrence a round is due: on some
/// weekdays (with a daily or weekly schedule), on a day of the month (with a monthly one),
/// and in slots of each such day.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pattern {
    pub weekdays: Weekdays,
    /// 1 to 31; a month without the day takes its last.
    pub day_of_month: Option<u8>,
    pub slots: Vec<Slot>,
}

impl Pattern {
    /// Whether the pattern fits `every`: weekdays on days or weeks, a day of the month on
    /// months, slots on schedules whose rounds fall on single days.
    pub fn check(&self, every: Every) -> Result<(), DocumentError> {
        if !self.weekdays.is_empty() && !matches!(every, Every::Days(1) | Every::Weeks(_)) {
            return Err(invalid("weekdays", &self.weekdays.as_text(), "weekdays on a daily or weekly schedule"));
        }
        if let Some(day) = self.day_of_month
            && (!matches!(every, Every::Months(_)) || !(1..=31).contains(&day))
        {
            return Err(invalid("day of month", &day.to_string(), "a day from 1 to 31 on a monthly schedule"));
        }
        if !self.slots.is_empty() && !self.single_days(every) {
            return Err(invalid("slots", &Slot::text_of(&self.slots), "slots on a daily schedule, or one on given days"));
        }
        Ok(())
    }

    /// Whether each of the schedule's windows is one day.
    pub fn single_days(&self, every: Every) -> bool {
        every == Every::Days(1) || !self.weekdays.is_empty() || self.day_of_month.is_some()
    }
}

/// A contractor the site calls in: a lift company, an electrician's firm, a pest control
/// service. Contract dates are calendar days, both included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vendor {
    pub id: EntryId,
    pub name: String,
    /// The trade they work in (a work order [`super::work_order::Category`] as stored).
    pub trade: String,
    /// Who to call, and how.
    pub contact: String,
    pub phone: String,
    /// Local day numbers of the contract's first and last days.
    pub contract_from: Option<i64>,
    pub contract_to: Option<i64>,
}

/// A time a site is closed (a vacation, a holiday): scheduled rounds that would fall in it
/// are not due. Calendar dates, both included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Closure {
    pub id: EntryId,
    pub name: String,
    /// Local day numbers (days since 1970-01-01 in the site's calendar).
    pub first_day: i64,
    pub last_day: i64,
}

/// Preventive maintenance of an asset, recurring.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MaintenancePlan {
    pub id: EntryId,
    pub asset: EntryId,
    pub title: String,
    pub every: Every,
    pub start: Timestamp,
}

/// A document as the site's index lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexEntry {
    /// The document's id.
    pub document: String,
    pub document_type: DocumentType,
    pub title: String,
    pub status: String,
    pub location: String,
    pub updated_at: Timestamp,
}

super::text_enum! {
    /// A stock movement.
    pub enum MovementKind as "movement" {
        Receive = "receive",
        Issue = "issue",
        Scrap = "scrap",
        /// An approved stocktake adjustment; may be negative.
        Adjust = "adjust",
    }
}

/// One entry of the stock ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Movement {
    pub id: EntryId,
    pub kind: MovementKind,
    pub item: EntryId,
    /// Positive for receive, issue and scrap (the kind gives the direction); signed for adjust.
    pub quantity: Quantity,
    /// To whom or what: a department, a work order, a stocktake.
    pub reference: String,
    pub user: Username,
    pub at: Timestamp,
    /// A receipt's price per unit, when the store keeper gave one.
    pub unit_cost: Option<Money>,
    /// Who a receipt came from.
    pub supplier: Option<String>,
}

/// What a receipt was bought at, and from whom.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Purchase {
    pub unit_cost: Option<Money>,
    pub supplier: Option<String>,
}

/// Whom a labour rate is for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RateFor {
    /// Anyone without a rate of their own or of their role.
    Everyone,
    Role(Role),
    Person(Username),
}

impl RateFor {
    /// As stored: `everyone`, `role:<role>`, `person:<user name>`.
    pub fn as_text(&self) -> String {
        match self {
            RateFor::Everyone => "everyone".to_owned(),
            RateFor::Role(role) => format!("role:{role}"),
            RateFor::Person(person) => format!("person:{person}"),
        }
    }

    pub fn parse(text: &str) -> Result<RateFor, DocumentError> {
        let hint = "everyone, role:<role> or person:<user name>";
        match text.split_once(':') {
            None if text == "everyone" => Ok(RateFor::Everyone),
            Some(("role", role)) => Role::parse(role).map(RateFor::Role).map_err(|_| invalid("rate for", text, hint)),
            Some(("person", person)) => Username::parse(person).map(RateFor::Person).map_err(|_| invalid("rate for", text, hint)),
            _ => Err(invalid("rate for", text, hint)),
        }
    }
}

/// What an hour of work costs, for someone, from a date on: a new rate is a new entry, so
/// work done before it keeps the rate it was done at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rate {
    pub id: EntryId,
    pub applies_to: RateFor,
    pub per_hour: Money,
    pub from: Timestamp,
}

impl Movement {
    /// The change to on-hand stock.
    pub fn delta(&self) -> Quantity {
        match self.kind {
            MovementKind::Receive | MovementKind::Adjust => self.quantity,
            MovementKind::Issue | MovementKind::Scrap => Quantity::ZERO.saturating_sub(self.quantity),
        }
    }
}

/// Everything a catalog holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogView {
    pub header: Header,
    pub name: String,
    pub places: Vec<Place>,
    pub assets: Vec<Asset>,
    pub stock_items: Vec<StockItem>,
    pub templates: Vec<TemplateRef>,
    pub schedules: Vec<Schedule>,
    pub maintenance: Vec<MaintenancePlan>,
    pub index: Vec<IndexEntry>,
    pub ledger: Vec<Movement>,
    pub rates: Vec<Rate>,
    pub closures: Vec<Closure>,
    pub vendors: Vec<Vendor>,
    pub meters: Vec<Meter>,
    pub readings: Vec<Reading>,
    /// Entries left out because they do not read (a catalog written before the server
    /// checked changes, or by hand): each hides itself, not the catalog.
    pub unreadable: Vec<UnreadableEntry>,
}

impl CatalogView {
    /// On-hand quantity of every item that has moved, derived from the ledger.
    pub fn on_hand(&self) -> BTreeMap<EntryId, Quantity> {
        on_hand(&self.ledger, None)
    }

    /// An item's movements in time order (then by id, the same on every phone) with the
    /// running on-hand quantity.
    pub fn stock_history(&self, item: &EntryId) -> StockHistory {
        let mut movements: Vec<&Movement> = self.ledger.iter().filter(|movement| movement.item == *item).collect();
        movements.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
        let mut on_hand = Quantity::ZERO;
        let mut below_zero_since = None;
        let mut history = Vec::with_capacity(movements.len());
        for (index, movement) in movements.into_iter().enumerate() {
            let before = on_hand;
            on_hand = on_hand.saturating_add(movement.delta());
            if on_hand.is_negative() && !before.is_negative() {
                below_zero_since = Some(index);
            } else if !on_hand.is_negative() {
                below_zero_since = None;
            }
            history.push((movement.clone(), on_hand));
        }
        StockHistory { on_hand, movements: history, below_zero_since }
    }

    /// Stock items at or below their reorder point, with their on-hand quantity.
    pub fn to_reorder(&self) -> Vec<(&StockItem, Quantity)> {
        let on_hand = self.on_hand();
        self.stock_items
            .iter()
            .filter_map(|item| {
                let quantity = on_hand.get(&item.id).copied().unwrap_or_default();
                (quantity <= item.reorder_point?).then_some((item, quantity))
            })
            .collect()
    }

    /// The place `id`. Read from a document, places are in id order and found by halving;
    /// a list put together otherwise is still searched whole before giving up.
    pub fn place(&self, id: &str) -> Option<&Place> {
        match self.places.binary_search_by(|place| place.id.as_str().cmp(id)) {
            Ok(index) => Some(&self.places[index]),
            Err(_) => self.places.iter().find(|place| place.id.as_str() == id),
        }
    }

    /// The rooms inside `place` (through its floors), in catalog order; the place itself
    /// if it is a room.
    pub fn rooms_in(&self, place: &str) -> Vec<&Place> {
        self.places.iter().filter(|candidate| candidate.kind == PlaceKind::Room && self.is_within(candidate, place)).collect()
    }

    /// Whether `place` is `ancestor` or lies inside it. Parent links that loop (two admins
    /// editing concurrently could make one) end the walk instead of hanging it.
    pub fn is_within(&self, place: &Place, ancestor: &str) -> bool {
        let mut current = Some(place);
        for _ in 0..=self.places.len() {
            let Some(here) = current else { return false };
            if here.id.as_str() == ancestor {
                return true;
            }
            current = here.parent.as_ref().and_then(|parent| self.place(parent.as_str()));
        }
        false
    }

    /// The place's name after the names of the places it is within, outermost first
    /// (empty for a place not in the catalog).
    pub fn place_path(&self, place: &str) -> Vec<String> {
        let mut names = Vec::new();
        let mut next = self.place(place);
        // A parent chain is short; the bound only guards against a cycle in a damaged catalog.
        while let Some(at) = next.filter(|_| names.len() <= self.places.len()) {
            names.push(at.name.clone());
            next = at.parent.as_ref().and_then(|parent| self.place(parent.as_str()));
        }
        names.reverse();
        names
    }

    /// The building a place belongs to (the place itself if it is one, or has no parent).
    pub fn building_of(&self, place: &str) -> Option<&Place> {
        let mut current = self.place(place)?;
        for _ in 0..=self.places.len() {
            match current.parent.as_ref().and_then(|parent| self.place(parent.as_str())) {
                Some(parent) if current.kind != PlaceKind::Building => current = parent,
                _ => return Some(current),
            }
        }
        Some(current)
    }

    /// The places whose name or code holds every word of `query`, ignoring case, in
    /// catalog order: the first `limit` of them, and how many match in all. An empty query
    /// matches every place.
    pub fn places_matching(&self, query: &str, limit: usize) -> (Vec<&Place>, usize) {
        let words = search_words(query);
        first_and_count(self.places.iter().filter(|place| place.has_words(&words)), limit)
    }

    /// The assets at `place` or inside it (every asset if `place` is empty), in catalog
    /// order: the first `limit` of them, and how many there are in all.
    pub fn assets_at(&self, place: &str, limit: usize) -> (Vec<&Asset>, usize) {
        let inside = |asset: &&Asset| {
            place.is_empty() || asset.place.as_ref().and_then(|at| self.place(at.as_str())).is_some_and(|at| self.is_within(at, place))
        };
        first_and_count(self.assets.iter().filter(inside), limit)
    }

    /// What a scanned or typed label names: a place by its code, or an asset by its tag
    /// (with the asset's place); a label's URL names the code in it. Case and surrounding
    /// spaces do not matter.
    pub fn find_code(&self, code: &str) -> Option<(Option<&Asset>, &Place)> {
        let code = crate::routes::scanned_code(code)?;
        let code = code.as_str();
        if code.is_empty() {
            return None;
        }
        if let Some(place) = self.places.iter().find(|place| same_code(&place.code, code)) {
            return Some((None, place));
        }
        let asset = self.assets.iter().find(|asset| same_code(&asset.tag, code))?;
        Some((Some(asset), self.place(asset.place.as_ref()?.as_str())?))
    }

    /// The name of the place or asset other than `except` whose label already reads
    /// `code`: a place's code and an asset's tag are one set of names, as a label's QR code
    /// finds either ([`CatalogView::find_code`]).
    pub fn label_taken(&self, code: &str, except: &EntryId) -> Option<&str> {
        let place = self.places.iter().find(|place| place.id != *except && same_code(&place.code, code)).map(|place| place.name.as_str());
        place.or_else(|| {
            self.assets.iter().find(|asset| asset.id != *except && same_code(&asset.tag, code)).map(|asset| asset.name.as_str())
        })
    }

    /// Places in tree order: each building, then what is inside it, depth first, siblings
    /// by code, with each place's depth. Places whose parent is missing count as roots;
    /// places in a loop of parents (two administrators editing offline could make one) come
    /// last, at depth 0, so every place is listed once.
    pub fn places_in_tree_order(&self) -> Vec<(usize, Place)> {
        let known: BTreeSet<&str> = self.places.iter().map(|place| place.id.as_str()).collect();
        let mut children: BTreeMap<Option<&str>, Vec<&Place>> = BTreeMap::new();
        for place in &self.places {
            let parent = place.parent.as_ref().map(EntryId::as_str).filter(|parent| known.contains(parent));
            children.entry(parent).or_default().push(place);
        }
        for siblings in children.values_mut() {
            siblings.sort_by(|a, b| a.code.cmp(&b.code));
        }
        let mut ordered = Vec::with_capacity(self.places.len());
        let mut seen = BTreeSet::new();
        // Depth first without recursion: a stack of (depth, place), children pushed reversed.
        let mut stack: Vec<(usize, &Place)> =
            children.get(&None).map(|roots| roots.iter().rev().map(|place| (0, *place)).collect()).unwrap_or_default();
        while let Some((depth, place)) = stack.pop() {
            if !seen.insert(place.id.as_str()) {
                continue;
            }
            ordered.push((depth, place.clone()));
            if let Some(inside) = children.get(&Some(place.id.as_str())) {
                stack.extend(inside.iter().rev().map(|child| (depth + 1, *child)));
            }
        }
        for place in &self.places {
            if seen.insert(place.id.as_str()) {
                ordered.push((0, place.clone()));
            }
        }
        ordered
    }

    /// The name of the stock item other than `except` whose code is already `code`.
    pub fn stock_code_taken(&self, code: &str, except: &EntryId) -> Option<&str> {
        self.stock_items.iter().find(|item| item.id != *except && same_code(&item.code, code)).map(|item| item.name.as_str())
    }
}

/// Whether two codes or tags name the same thing: letters compared without case, as people
/// type them and as a label is matched.
pub fn same_code(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// The first `limit` items, and how many there are in all.
fn first_and_count<T>(items: impl Iterator<Item = T>, limit: usize) -> (Vec<T>, usize) {
    let mut first = Vec::new();
    let mut total = 0;
    for item in items {
        total += 1;
        if first.len() < limit {
            first.push(item);
        }
    }
    (first, total)
}

/// A movement the ledger is to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingMovement {
    pub id: EntryId,
    pub kind: MovementKind,
    pub item: EntryId,
    pub quantity: Quantity,
}

/// What the ledger must record so that it has issued exactly each part a work order used:
/// per part entry, the part's quantity less what movements for that part already issued.
/// Ids are derived from the order and the part (`part-<order>-<part>`, then `-2`, `-3`…
/// for corrections), so phones that both see a part unissued make the same movement: a
/// ledger map key, stored once. A part whose quantity went down is returned to the store as
/// an adjustment.
pub fn parts_to_issue(order_url: &str, parts: &[super::work_order::PartUsed], ledger: &[Movement]) -> Vec<PendingMovement> {
    let mut pending = Vec::new();
    for part in parts {
        let Ok(item) = EntryId::parse(&part.item) else { continue };
        let prefix = derived_id("part", order_url, part.id.as_str());
        let issued: Vec<&Movement> = ledger.iter().filter(|movement| is_movement_of(&prefix, movement.id.as_str())).collect();
        let net_issued = issued.iter().fold(Quantity::ZERO, |net, movement| net.saturating_sub(movement.delta()));
        // A part can be used, or not; a negative quantity (from a client that wrote one) is none.
        let missing = part.quantity.max(Quantity::ZERO).saturating_sub(net_issued);
        if missing == Quantity::ZERO {
            continue;
        }
        let id = if issued.is_empty() { prefix } else { format!("{prefix}-{}", issued.len() + 1) };
        let id = EntryId::parse(&id).expect("a derived id leaves room for a correction's number");
        let (kind, quantity) = if missing.is_negative() {
            (MovementKind::Adjust, Quantity::ZERO.saturating_sub(missing))
        } else {
            (MovementKind::Issue, missing)
        };
        pending.push(PendingMovement { id, kind, item, quantity });
    }
    pending
}

/// Whether the movement `id` is the one derived as `prefix` ([`derived_id`]) or one of its
/// corrections `-2`, `-3`…
pub fn is_movement_of(prefix: &str, id: &str) -> bool {
    id == prefix
        || id
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|number| !number.is_empty() && number.bytes().all(|byte| byte.is_ascii_digit()))
}

/// A ledger id derived from a document and one of its entries, the same on every phone:
/// `<kind>-<first 12 characters of the document id>-<entry>`, the entry replaced by a
/// digest of it where it is too long, so the id always parses and leaves room for a
/// correction's `-N`.
pub fn derived_id(kind: &str, document_url: &str, entry: &str) -> String {
    use sha2::{Digest, Sha256};
    let document: String = document_url.trim_start_matches("automerge:").chars().take(12).collect();
    let entry = if entry.len() <= 32 && EntryId::parse(entry).is_ok() {
        entry.to_owned()
    } else {
        hex::encode(&Sha256::digest(entry.as_bytes())[..8])
    };
    format!("{kind}-{document}-{entry}")
}

/// The id of the adjustment an approved stocktake records for `item`: approving on two
/// phones adjusts once.
pub fn adjustment_id(stocktake_url: &str, item: &str) -> EntryId {
    EntryId::parse(&derived_id("adjust", stocktake_url, item)).expect("derived ids always parse")
}

/// One stock item's movements, oldest first, each with the on-hand quantity after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StockHistory {
    pub on_hand: Quantity,
    pub movements: Vec<(Movement, Quantity)>,
    /// Where on-hand is below zero: the movements since it last was zero or more, which
    /// took it there.
    pub below_zero_since: Option<usize>,
}

/// On-hand quantities from movements, counting only those before `until` if given.
pub fn on_hand(ledger: &[Movement], until: Option<Timestamp>) -> BTreeMap<EntryId, Quantity> {
    let mut quantities: BTreeMap<EntryId, Quantity> = BTreeMap::new();
    for movement in ledger.iter().filter(|movement| until.is_none_or(|until| movement.at < until)) {
        let quantity = quantities.entry(movement.item.clone()).or_default();
        *quantity = quantity.saturating_add(movement.delta());
    }
    quantities
}

/// A site catalog document.
pub struct SiteCatalog {
    doc: AutoCommit,
}

super::typed_document!(SiteCatalog, CatalogView);

impl SiteCatalog {
    pub fn create(actor: ActorId, site: &SiteId, name: &str, edit: &Edit) -> SiteCatalog {
        let header = Header {
            document_type: DocumentType::SiteCatalog,
            schema: DocumentType::SiteCatalog.current_schema(),
            site: site.clone(),
            created_by: edit.user.clone(),
            created_at: edit.at,
        };
        let mut doc = super::create(actor, &header);
        put(&mut doc, &ROOT, "name", name);
        for collection in COLLECTIONS {
            put_map(&mut doc, &ROOT, collection);
        }
        commit(&mut doc, edit, "created catalog");
        SiteCatalog { doc }
    }

    /// Adds an entry of `collection` keyed `id`, or updates the one there field by field
    /// (so two admins changing different fields of one room keep both changes); `write`
    /// fills its fields.
    fn upsert(
        &mut self,
        collection: &str,
        id: &str,
        edit: &Edit,
        summary: &str,
        write: impl FnOnce(&mut AutoCommit, &ObjId),
    ) -> Result<(), DocumentError> {
        let map = map_at(&self.doc, &ROOT, collection, collection)?;
        let entry = match automerge::ReadDoc::get(&self.doc, &map, id)? {
            Some((automerge::Value::Object(automerge::ObjType::Map), entry)) => entry,
            _ => put_map(&mut self.doc, &map, id),
        };
        write(&mut self.doc, &entry);
        commit(&mut self.doc, edit, summary);
        Ok(())
    }

    /// Removes an entry from one of the lists an administrator edits. Removing what is not
    /// there is no change. Documents that name the entry keep their own copy of its name.
    pub fn remove(&mut self, list: CatalogList, id: &str, edit: &Edit) -> Result<(), DocumentError> {
        let collection = list.collection();
        let map = map_at(&self.doc, &ROOT, collection, collection)?;
        if automerge::ReadDoc::get(&self.doc, &map, id)?.is_none() {
            return Ok(());
        }
        self.doc.delete(&map, id)?;
        commit(&mut self.doc, edit, &format!("removed {}", list.singular()));
        Ok(())
    }

    /// Removes an entry that does not read ([`CatalogView::unreadable`]) from a list or the
    /// index, so an administrator can add it again. Stock movements stay as written: a
    /// wrong one is corrected by an adjustment.
    pub fn remove_unreadable(&mut self, section: &str, key: &str, edit: &Edit) -> Result<(), DocumentError> {
        if !REPAIRABLE.contains(&section) {
            return Err(DocumentError::ReadOnly { what: "a section other than the lists and the index" });
        }
        let map = map_at(&self.doc, &ROOT, section, section)?;
        if automerge::ReadDoc::get(&self.doc, &map, key)?.is_none() {
            return Ok(());
        }
        self.doc.delete(&map, key)?;
        commit(&mut self.doc, edit, &format!("removed {section}.{key}, which did not read"));
        Ok(())
    }

    pub fn put_place(&mut self, place: &Place, edit: &Edit) -> Result<(), DocumentError> {
        self.upsert("places", place.id.as_str(), edit, "place", |doc, map| {
            put(doc, map, "kind", place.kind.as_str());
            put_optional(doc, map, "parent", place.parent.as_ref().map(EntryId::as_str));
            put(doc, map, "name", place.name.as_str());
            put(doc, map, "code", place.code.as_str());
        })
    }

    pub fn put_asset(&mut self, asset: &Asset, edit: &Edit) -> Result<(), DocumentError> {
        self.upsert("assets", asset.id.as_str(), edit, "asset", |doc, map| {
            put(doc, map, "name", asset.name.as_str());
            put(doc, map, "asset_type", asset.asset_type.as_str());
            put(doc, map, "tag", asset.tag.as_str());
            put_optional(doc, map, "place", asset.place.as_ref().map(EntryId::as_str));
            put_optional(doc, map, "installed_at", asset.installed_at.map(Timestamp::as_millis));
        })
    }

    pub fn put_stock_item(&mut self, item: &StockItem, edit: &Edit) -> Result<(), DocumentError> {
        self.upsert("stock_items", item.id.as_str(), edit, "stock item", |doc, map| {
            put(doc, map, "code", item.code.as_str());
            put(doc, map, "name", item.name.as_str());
            put(doc, map, "unit", item.unit.as_str());
            put(doc, map, "category", item.category.as_str());
            put_optional(doc, map, "bin", item.bin.as_deref());
            put_optional(doc, map, "reorder_point", item.reorder_point.map(Quantity::thousandths));
        })
    }

    pub fn put_template(&mut self, template: &TemplateRef, edit: &Edit) -> Result<(), DocumentError> {
        self.upsert("templates", &template.document, edit, "template", |doc, map| {
            put(doc, map, "name_zh", template.name_zh.as_str());
            put(doc, map, "name_en", template.name_en.as_str());
            put(doc, map, "category", template.category.as_str());
            put(doc, map, "version", template.version);
        })
    }

    pub fn put_schedule(&mut self, schedule: &Schedule, edit: &Edit) -> Result<(), DocumentError> {
        schedule.pattern.check(schedule.every)?;
        let (count, unit) = schedule.every.parts();
        let pattern = &schedule.pattern;
        self.upsert("schedules", schedule.id.as_str(), edit, "schedule", |doc, map| {
            put(doc, map, "template", schedule.template.as_str());
            put(doc, map, "place", schedule.place.as_str());
            put(doc, map, "every", count);
            put(doc, map, "unit", unit);
            put(doc, map, "start", schedule.start.as_millis());
            put_optional(doc, map, "weekdays", Some(pattern.weekdays.as_text()).filter(|days| !days.is_empty()));
            put_optional(doc, map, "day_of_month", pattern.day_of_month.map(i64::from));
            put_optional(doc, map, "slots", Some(Slot::text_of(&pattern.slots)).filter(|slots| !slots.is_empty()));
        })
    }

    /// Adds or replaces a closure of the site.
    pub fn put_closure(&mut self, closure: &Closure, edit: &Edit) -> Result<(), DocumentError> {
        if closure.name.trim().is_empty() {
            return Err(DocumentError::MissingField { field: "name".to_owned() });
        }
        if closure.last_day < closure.first_day {
            return Err(invalid("closure", &Timestamp::from_day(closure.last_day).date(), "a last day on or after the first"));
        }
        self.make_later_section("closures")?;
        self.upsert("closures", closure.id.as_str(), edit, "closure", |doc, map| {
            put(doc, map, "name", closure.name.trim());
            put(doc, map, "from", Timestamp::from_day(closure.first_day).date());
            put(doc, map, "to", Timestamp::from_day(closure.last_day).date());
        })
    }

    /// Adds or replaces a contractor.
    pub fn put_vendor(&mut self, vendor: &Vendor, edit: &Edit) -> Result<(), DocumentError> {
        if vendor.name.trim().is_empty() {
            return Err(DocumentError::MissingField { field: "name".to_owned() });
        }
        if let (Some(from), Some(to)) = (vendor.contract_from, vendor.contract_to)
            && to < from
        {
            return Err(invalid("contract", &Timestamp::from_day(to).date(), "a contract ending on or after its start"));
        }
        self.make_later_section("vendors")?;
        let date = |day: Option<i64>| day.map(|day| Timestamp::from_day(day).date());
        self.upsert("vendors", vendor.id.as_str(), edit, "vendor", |doc, map| {
            put(doc, map, "name", vendor.name.trim());
            put(doc, map, "trade", vendor.trade.as_str());
            put(doc, map, "contact", vendor.contact.trim());
            put(doc, map, "phone", vendor.phone.trim());
            put_optional(doc, map, "contract_from", date(vendor.contract_from));
            put_optional(doc, map, "contract_to", date(vendor.contract_to));
        })
    }

    /// Removes a contractor; none there is no change.
    pub fn remove_vendor(&mut self, id: &EntryId, edit: &Edit) -> Result<(), DocumentError> {
        self.remove_from_later_section("vendors", id, edit, "removed vendor")
    }

    /// Removes a closure; none there is no change.
    pub fn remove_closure(&mut self, id: &EntryId, edit: &Edit) -> Result<(), DocumentError> {
        self.remove_from_later_section("closures", id, edit, "removed closure")
    }

    /// Removes entry `id` of `section`, a section catalogs made before it lack: neither
    /// there is no change.
    fn remove_from_later_section(&mut self, section: &str, id: &EntryId, edit: &Edit, summary: &str) -> Result<(), DocumentError> {
        let Some((_, map)) = automerge::ReadDoc::get(&self.doc, &ROOT, section)? else { return Ok(()) };
        if automerge::ReadDoc::get(&self.doc, &map, id.as_str())?.is_none() {
            return Ok(());
        }
        self.doc.delete(&map, id.as_str())?;
        commit(&mut self.doc, edit, summary);
        Ok(())
    }

    /// Makes `section` if this catalog, made before it, lacks it.
    fn make_later_section(&mut self, section: &str) -> Result<(), DocumentError> {
        if automerge::ReadDoc::get(&self.doc, &ROOT, section)?.is_none() {
            put_map(&mut self.doc, &ROOT, section);
        }
        Ok(())
    }

    pub fn put_maintenance(&mut self, plan: &MaintenancePlan, edit: &Edit) -> Result<(), DocumentError> {
        let (count, unit) = plan.every.parts();
        self.upsert("maintenance", plan.id.as_str(), edit, "maintenance plan", |doc, map| {
            put(doc, map, "asset", plan.asset.as_str());
            put(doc, map, "title", plan.title.as_str());
            put(doc, map, "every", count);
            put(doc, map, "unit", unit);
            put(doc, map, "start", plan.start.as_millis());
        })
    }

    /// Lists a document in the index, or updates its entry.
    pub fn index_document(&mut self, entry: &IndexEntry, edit: &Edit) -> Result<(), DocumentError> {
        self.upsert("index", &entry.document, edit, "indexed document", |doc, map| {
            put(doc, map, "type", entry.document_type.as_str());
            put(doc, map, "title", entry.title.as_str());
            put(doc, map, "status", entry.status.as_str());
            put(doc, map, "location", entry.location.as_str());
            put(doc, map, "updated_at", entry.updated_at.as_millis());
        })
    }

    /// Records a stock movement by `edit.user`. An issue or scrap of more than this copy of
    /// the ledger has on hand is refused ([`DocumentError::NotEnoughStock`]). Movements
    /// recorded offline on other phones may still take stock below zero once merged: the
    /// ledger records what happened, and [`CatalogView::stock_history`] shows which
    /// movements took it there.
    pub fn record_movement(
        &mut self,
        id: &EntryId,
        kind: MovementKind,
        item: &EntryId,
        quantity: Quantity,
        reference: &str,
        edit: &Edit,
    ) -> Result<(), DocumentError> {
        if matches!(kind, MovementKind::Issue | MovementKind::Scrap) {
            let available = on_hand(&self.ledger()?, None).get(item).copied().unwrap_or_default();
            if quantity > available {
                return Err(DocumentError::NotEnoughStock { item: item.to_string(), on_hand: available, wanted: quantity });
            }
        }
        let movement = PendingMovement { id: id.clone(), kind, item: item.clone(), quantity };
        self.write_movement(&movement, reference, &Purchase::default(), edit)
    }

    /// Records a receipt of `quantity` of `item` by `edit.user`, bought at `purchase`.
    pub fn receive(
        &mut self,
        id: &EntryId,
        item: &EntryId,
        quantity: Quantity,
        purchase: &Purchase,
        reference: &str,
        edit: &Edit,
    ) -> Result<(), DocumentError> {
        if purchase.unit_cost.is_some_and(|cost| !cost.is_plausible()) {
            return Err(invalid("unit cost", &purchase.unit_cost.unwrap_or_default().to_input(), "zero to ¥100,000,000"));
        }
        let movement = PendingMovement { id: id.clone(), kind: MovementKind::Receive, item: item.clone(), quantity };
        self.write_movement(&movement, reference, purchase, edit)
    }

    /// Removes a labour rate (the rates before it apply again); none there is no change.
    pub fn remove_rate(&mut self, id: &EntryId, edit: &Edit) -> Result<(), DocumentError> {
        self.remove_from_later_section("rates", id, edit, "removed labour rate")
    }

    /// Adds or replaces a labour rate.
    pub fn put_rate(&mut self, rate: &Rate, edit: &Edit) -> Result<(), DocumentError> {
        if !rate.per_hour.is_plausible() {
            return Err(invalid("rate", &rate.per_hour.to_input(), "zero to ¥100,000,000"));
        }
        self.make_later_section("rates")?;
        self.upsert("rates", rate.id.as_str(), edit, "labour rate", |doc, map| {
            put(doc, map, "for", rate.applies_to.as_text());
            put(doc, map, "per_hour", rate.per_hour.fen());
            put(doc, map, "from", rate.from.as_millis());
        })
    }

    /// Issues the parts of a work order that the ledger has not issued yet, or corrects what
    /// it issued where a part's quantity changed ([`parts_to_issue`]). Not checked against
    /// on-hand: the parts are already in the repair, and the ledger must say so.
    pub fn issue_parts(&mut self, order_url: &str, parts: &[super::work_order::PartUsed], edit: &Edit) -> Result<usize, DocumentError> {
        let pending = parts_to_issue(order_url, parts, &self.ledger()?);
        for movement in &pending {
            self.write_movement(movement, order_url, &Purchase::default(), edit)?;
        }
        Ok(pending.len())
    }

    fn write_movement(
        &mut self,
        movement: &PendingMovement,
        reference: &str,
        purchase: &Purchase,
        edit: &Edit,
    ) -> Result<(), DocumentError> {
        let PendingMovement { id, kind, item, quantity } = movement;
        let (kind, quantity) = (*kind, *quantity);
        let signed_allowed = kind == MovementKind::Adjust;
        if quantity == Quantity::ZERO || (quantity.is_negative() && !signed_allowed) {
            return Err(invalid("quantity", &quantity.to_string(), "above zero (only adjustments may be negative)"));
        }
        let ledger = map_at(&self.doc, &ROOT, "ledger", "ledger")?;
        if automerge::ReadDoc::get(&self.doc, &ledger, id.as_str())?.is_some() {
            return Err(invalid("movement id", id.as_str(), "a new id; this one is taken"));
        }
        self.upsert("ledger", id.as_str(), edit, kind.as_str(), |doc, map| {
            put(doc, map, "kind", kind.as_str());
            put(doc, map, "item", item.as_str());
            put(doc, map, "quantity", quantity.thousandths());
            put(doc, map, "reference", reference);
            put(doc, map, "user", edit.user.as_str());
            put(doc, map, "at", edit.at.as_millis());
            if let Some(unit_cost) = purchase.unit_cost {
                put(doc, map, "unit_cost", unit_cost.fen());
            }
            if let Some(supplier) = purchase.supplier.as_deref().map(str::trim).filter(|supplier| !supplier.is_empty()) {
                put(doc, map, "supplier", supplier);
            }
        })
    }

    pub fn read_doc(doc: &AutoCommit) -> Result<CatalogView, DocumentError> {
        let (header, root) = read_root(doc, DocumentType::SiteCatalog)?;
        let mut unreadable = Vec::new();
        let bad = &mut unreadable;
        Ok(CatalogView {
            header,
            name: root.str("name")?,
            places: root.entries_forgiving("places", read_place, bad),
            assets: root.entries_forgiving("assets", read_asset, bad),
            stock_items: root.entries_forgiving("stock_items", read_stock_item, bad),
            templates: root.keyed_forgiving("templates", read_template_ref, bad),
            schedules: root.entries_forgiving("schedules", read_schedule, bad),
            maintenance: root.entries_forgiving("maintenance", read_plan, bad),
            index: root.keyed_forgiving("index", read_index_entry, bad),
            ledger: root.entries_forgiving("ledger", read_movement, bad),
            rates: later(&root, "rates", read_rate, bad)?,
            closures: later(&root, "closures", read_closure, bad)?,
            vendors: later(&root, "vendors", read_vendor, bad)?,
            meters: later(&root, "meters", meters::read_meter, bad)?,
            readings: later(&root, "readings", meters::read_reading, bad)?,
            unreadable,
        })
    }

    /// Whether what `touched` names still reads: the header and name, and of each section
    /// named the entries listed (`None`: all of it). What checking a change needs, at a cost
    /// that follows the change, not the catalog: a site's index grows with every document.
    pub fn check_touched(doc: &AutoCommit, touched: &BTreeMap<String, Option<BTreeSet<String>>>) -> Result<(), DocumentError> {
        let (_, root) = read_root(doc, DocumentType::SiteCatalog)?;
        root.str("name")?;
        for (section, only) in touched {
            let only = only.as_ref();
            match section.as_str() {
                "places" => root.entries_only("places", only, read_place).map(drop),
                "assets" => root.entries_only("assets", only, read_asset).map(drop),
                "stock_items" => root.entries_only("stock_items", only, read_stock_item).map(drop),
                "templates" => root.keyed_only("templates", only, read_template_ref).map(drop),
                "schedules" => root.entries_only("schedules", only, read_schedule).map(drop),
                "maintenance" => root.entries_only("maintenance", only, read_plan).map(drop),
                "index" => root.keyed_only("index", only, read_index_entry).map(drop),
                "ledger" => root.entries_only("ledger", only, read_movement).map(drop),
                "rates" => root.entries_only("rates", only, read_rate).map(drop),
                "closures" => root.entries_only("closures", only, read_closure).map(drop),
                "vendors" => root.entries_only("vendors", only, read_vendor).map(drop),
                "meters" => root.entries_only("meters", only, meters::read_meter).map(drop),
                "readings" => root.entries_only("readings", only, meters::read_reading).map(drop),
                // The header and name are read above; other keys are not the catalog's.
                _ => Ok(()),
            }?;
        }
        Ok(())
    }

    /// The ledger alone, without reading places, assets and the index: what checking an
    /// issue against on-hand needs. Movements that do not read are left out, as in
    /// [`SiteCatalog::read_doc`].
    pub fn ledger(&self) -> Result<Vec<Movement>, DocumentError> {
        let (_, root) = read_root(&self.doc, DocumentType::SiteCatalog)?;
        Ok(root.entries_forgiving("ledger", read_movement, &mut Vec::new()))
    }
}

/// The entries of `section`, a section catalogs made before it lack (read as empty).
fn later<'a, T>(
    root: &Fields<'a>,
    section: &str,
    read: impl Fn(EntryId, &Fields<'a>) -> Result<T, DocumentError>,
    unreadable: &mut Vec<UnreadableEntry>,
) -> Result<Vec<T>, DocumentError> {
    Ok(if root.optional_map(section)?.is_some() { root.entries_forgiving(section, read, unreadable) } else { Vec::new() })
}

fn read_place(id: EntryId, place: &Fields<'_>) -> Result<Place, DocumentError> {
    Ok(Place {
        id,
        kind: PlaceKind::parse(&place.str("kind")?)?,
        parent: place.optional_id("parent")?,
        name: place.str("name")?,
        code: place.str("code")?,
    })
}

fn read_asset(id: EntryId, asset: &Fields<'_>) -> Result<Asset, DocumentError> {
    Ok(Asset {
        id,
        name: asset.str("name")?,
        asset_type: asset.str("asset_type")?,
        tag: asset.str("tag")?,
        place: asset.optional_id("place")?,
        installed_at: asset.optional_time("installed_at")?,
    })
}

fn read_stock_item(id: EntryId, item: &Fields<'_>) -> Result<StockItem, DocumentError> {
    Ok(StockItem {
        id,
        code: item.str("code")?,
        name: item.str("name")?,
        unit: item.str("unit")?,
        category: item.str("category")?,
        bin: item.optional_str("bin")?,
        reorder_point: item.optional_i64("reorder_point")?.map(Quantity::from_thousandths),
    })
}

fn read_template_ref(document: &str, template: &Fields<'_>) -> Result<TemplateRef, DocumentError> {
    Ok(TemplateRef {
        document: document.to_owned(),
        name_zh: template.str("name_zh")?,
        name_en: template.str("name_en")?,
        category: template.str("category")?,
        // Templates listed before versions were recorded here were published.
        version: template.optional_i64("version")?.unwrap_or(1),
    })
}

fn read_every(plan: &Fields<'_>) -> Result<Every, DocumentError> {
    Every::from_parts(plan.i64("every")?, &plan.str("unit")?, &plan.path("unit"))
}

fn read_schedule(id: EntryId, schedule: &Fields<'_>) -> Result<Schedule, DocumentError> {
    let every = read_every(schedule)?;
    let day_of_month = match schedule.optional_i64("day_of_month")? {
        None => None,
        Some(day) => Some(u8::try_from(day).map_err(|_| invalid("day_of_month", &day.to_string(), "a day from 1 to 31"))?),
    };
    let pattern = Pattern {
        weekdays: schedule.optional_str("weekdays")?.map(|days| Weekdays::parse(&days)).transpose()?.unwrap_or_default(),
        day_of_month,
        slots: schedule.optional_str("slots")?.map(|slots| Slot::parse_all(&slots)).transpose()?.unwrap_or_default(),
    };
    pattern.check(every)?;
    Ok(Schedule { id, template: schedule.str("template")?, place: schedule.id("place")?, every, start: schedule.time("start")?, pattern })
}

fn read_vendor(id: EntryId, vendor: &Fields<'_>) -> Result<Vendor, DocumentError> {
    let day = |key: &str| -> Result<Option<i64>, DocumentError> {
        vendor
            .optional_str(key)?
            .map(|text| Timestamp::parse_date(&text).map(Timestamp::day_number).ok_or_else(|| invalid(key, &text, "a date YYYY-MM-DD")))
            .transpose()
    };
    Ok(Vendor {
        id,
        name: vendor.str("name")?,
        trade: vendor.optional_str("trade")?.unwrap_or_default(),
        contact: vendor.optional_str("contact")?.unwrap_or_default(),
        phone: vendor.optional_str("phone")?.unwrap_or_default(),
        contract_from: day("contract_from")?,
        contract_to: day("contract_to")?,
    })
}

fn read_closure(id: EntryId, closure: &Fields<'_>) -> Result<Closure, DocumentError> {
    let day = |key: &str| -> Result<i64, DocumentError> {
        let text = closure.str(key)?;
        Timestamp::parse_date(&text).map(Timestamp::day_number).ok_or_else(|| invalid(key, &text, "a date YYYY-MM-DD"))
    };
    let (first_day, last_day) = (day("from")?, day("to")?);
    if last_day < first_day {
        return Err(invalid("to", &closure.str("to")?, "a last day on or after the first"));
    }
    Ok(Closure { id, name: closure.str("name")?, first_day, last_day })
}

fn read_plan(id: EntryId, plan: &Fields<'_>) -> Result<MaintenancePlan, DocumentError> {
    Ok(MaintenancePlan { id, asset: plan.id("asset")?, title: plan.str("title")?, every: read_every(plan)?, start: plan.time("start")? })
}

fn read_index_entry(document: &str, entry: &Fields<'_>) -> Result<IndexEntry, DocumentError> {
    Ok(IndexEntry {
        document: document.to_owned(),
        document_type: DocumentType::parse(&entry.str("type")?)?,
        title: entry.str("title")?,
        status: entry.str("status")?,
        location: entry.str("location")?,
        updated_at: entry.time("updated_at")?,
    })
}

fn read_movement(id: EntryId, movement: &Fields<'_>) -> Result<Movement, DocumentError> {
    Ok(Movement {
        id,
        kind: MovementKind::parse(&movement.str("kind")?)?,
        item: movement.id("item")?,
        quantity: Quantity::from_thousandths(movement.i64("quantity")?),
        reference: movement.str("reference")?,
        user: movement.user("user")?,
        at: movement.time("at")?,
        unit_cost: match movement.optional_i64("unit_cost")?.map(Money::from_fen) {
            Some(cost) if !cost.is_plausible() => return Err(invalid("unit_cost", &cost.to_input(), "zero to ¥100,000,000")),
            cost => cost,
        },
        supplier: movement.optional_str("supplier")?,
    })
}

fn read_rate(id: EntryId, rate: &Fields<'_>) -> Result<Rate, DocumentError> {
    let per_hour = Money::from_fen(rate.i64("per_hour")?);
    if !per_hour.is_plausible() {
        return Err(invalid("per_hour", &per_hour.to_input(), "zero to ¥100,000,000"));
    }
    Ok(Rate { id, applies_to: RateFor::parse(&rate.str("for")?)?, per_hour, from: rate.time("from")? })
}

/// Writes `value` at `key`, or removes the key when there is none.
fn put_optional(doc: &mut AutoCommit, map: &ObjId, key: &str, value: Option<impl Into<automerge::ScalarValue>>) {
    match value {
        Some(value) => put(doc, map, key, value),
        None => {
            if automerge::ReadDoc::get(doc, map, key).ok().flatten().is_some() {
                doc.delete(map, key).expect("deleting a key of this document");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::testing::{edit, id};

    fn catalog() -> SiteCatalog {
        SiteCatalog::create(ActorId::from([1; 16]), &SiteId::parse("hq").unwrap(), "总部", &edit("admin", 0))
    }

    #[test]
    fn places_list_as_a_tree_and_a_loop_of_parents_loses_none() {
        let mut site = catalog();
        let place = |id_: &str, kind: PlaceKind, parent: Option<&str>, code: &str| Place {
            id: id(id_),
            kind,
            parent: parent.map(id),
            name: id_.to_owned(),
            code: code.to_owned(),
        };
        for (at, entry) in [
            place("b", PlaceKind::Building, None, "B"),
            place("a", PlaceKind::Building, None, "A"),
            place("a2", PlaceKind::Floor, Some("a"), "A-2"),
            place("a1", PlaceKind::Floor, Some("a"), "A-1"),
            place("a101", PlaceKind::Room, Some("a1"), "A-101"),
            place("lost", PlaceKind::Room, Some("gone"), "L"),
            // Two offline edits made each the other's parent.
            place("x", PlaceKind::Floor, Some("y"), "X"),
            place("y", PlaceKind::Floor, Some("x"), "Y"),
        ]
        .iter()
        .enumerate()
        {
            site.put_place(entry, &edit("admin", 10 + at as i64)).unwrap();
        }
        let view = site.read().unwrap();
        let order: Vec<(usize, String)> =
            view.places_in_tree_order().into_iter().map(|(depth, place)| (depth, place.id.to_string())).collect();
        let expected: Vec<(usize, String)> = [(0, "a"), (1, "a1"), (2, "a101"), (1, "a2"), (0, "b"), (0, "lost"), (0, "x"), (0, "y")]
            .map(|(depth, id)| (depth, id.to_owned()))
            .to_vec();
        assert_eq!(order, expected);
    }

    #[test]
    fn a_label_names_one_place_or_asset_and_a_stock_code_one_item() {
        let mut site = catalog();
        let room = Place { id: id("r101"), kind: PlaceKind::Room, parent: None, name: "101 室".to_owned(), code: "HQ-A-101".to_owned() };
        site.put_place(&room, &edit("admin", 10)).unwrap();
        let pump = Asset {
            id: id("pump"),
            name: "水泵".to_owned(),
            asset_type: "pump".to_owned(),
            tag: "SB-01".to_owned(),
            place: Some(id("r101")),
            installed_at: None,
        };
        site.put_asset(&pump, &edit("admin", 11)).unwrap();
        let gloves = StockItem {
            id: id("gloves"),
            code: "GL-01".to_owned(),
            name: "手套".to_owned(),
            unit: "双".to_owned(),
            category: StockCategory::ProtectiveEquipment.as_str().to_owned(),
            bin: None,
            reorder_point: None,
        };
        site.put_stock_item(&gloves, &edit("store", 12)).unwrap();
        let view = site.read().unwrap();
        let new = id("new");
        assert_eq!(view.label_taken("hq-a-101", &new), Some("101 室"), "case does not tell labels apart");
        assert_eq!(view.label_taken("SB-01", &new), Some("水泵"), "an asset's tag is a label too");
        assert_eq!(view.label_taken("HQ-A-101", &id("r101")), None, "a place keeps its own code");
        assert_eq!(view.label_taken("GL-01", &new), None, "stock codes are printed on no label");
        assert_eq!(view.stock_code_taken("gl-01", &new), Some("手套"));
        assert_eq!(view.stock_code_taken("GL-01", &id("gloves")), None);
        assert_eq!(view.find_code("sb-01").map(|(asset, _)| asset.map(|asset| asset.name.as_str())), Some(Some("水泵")));
    }

    #[test]
    fn an_entry_that_does_not_read_hides_itself_not_the_catalog() {
        use automerge::transaction::Transactable as _;
        let mut site = catalog();
        let room =
            |room: &str| Place { id: id(room), kind: PlaceKind::Room, parent: None, name: room.to_owned(), code: format!("HQ-{room}") };
        site.put_place(&room("301"), &edit("admin", 10)).unwrap();
        site.put_place(&room("302"), &edit("admin", 11)).unwrap();
        site.record_movement(
            &id("m1"),
            MovementKind::Receive,
            &id("gloves"),
            Quantity::from_thousandths(5_000),
            "supplier",
            &edit("store", 12),
        )
        .unwrap();
        // What a phone could write before the server checked changes: a code as a number,
        // and the index replaced by text.
        let doc = site.doc_mut();
        let places = map_at(doc, &ROOT, "places", "places").unwrap();
        let bad = map_at(doc, &places, "302", "places.302").unwrap();
        doc.put(&bad, "code", 42_i64).unwrap();
        doc.put(ROOT, "index", "nothing here").unwrap();
        doc.commit();

        let view = site.read().unwrap();
        assert_eq!(view.places.iter().map(|place| place.id.as_str()).collect::<Vec<_>>(), ["301"]);
        assert_eq!(view.on_hand().get(&id("gloves")), Some(&Quantity::from_thousandths(5_000)), "the rest reads as before");
        let reported: Vec<(&str, Option<&str>)> =
            view.unreadable.iter().map(|entry| (entry.section.as_str(), entry.key.as_deref())).collect();
        assert_eq!(reported, [("places", Some("302")), ("index", None)]);
        assert!(
            matches!(&view.unreadable[0].error, DocumentError::WrongFieldType { field, .. } if field == "places.302.code"),
            "{:?}",
            view.unreadable[0].error
        );
    }

    #[test]
    fn two_admins_adding_places_offline_both_keep_theirs() {
        let start = catalog();
        let mut first = SiteCatalog::from_doc(start.doc().clone().with_actor(ActorId::from([2; 16]))).unwrap();
        let mut second = SiteCatalog::from_doc(start.doc().clone().with_actor(ActorId::from([3; 16]))).unwrap();
        let room = |room: &str| Place {
            id: id(room),
            kind: PlaceKind::Room,
            parent: Some(id("b1")),
            name: room.to_owned(),
            code: format!("HQ-{room}"),
        };
        first.put_place(&room("301"), &edit("admin", 10)).unwrap();
        second.put_place(&room("302"), &edit("manager", 11)).unwrap();
        second
            .put_maintenance(
                &MaintenancePlan {
                    id: id("pm-ac"),
                    asset: id("ac-301"),
                    title: "空调滤网清洗".into(),
                    every: Every::Months(3),
                    start: Timestamp::from_millis(0),
                },
                &edit("manager", 12),
            )
            .unwrap();
        first.doc_mut().merge(second.doc_mut()).unwrap();
        let view = first.read().unwrap();
        let names: Vec<&str> = view.places.iter().map(|place| place.name.as_str()).collect();
        assert_eq!(names, ["301", "302"]);
        assert_eq!(view.maintenance[0].every, Every::Months(3));
    }

    /// A canteen's meal checks on weekdays, and a vacation one administrator closes the site
    /// for while another phone edits offline: once merged, every phone finds the same
    /// windows, none in the vacation.
    #[test]
    fn a_closure_set_on_one_phone_removes_the_rounds_it_covers_on_every_phone() {
        use crate::schedule::windows;
        let start = catalog();
        let mut first = SiteCatalog::from_doc(start.doc().clone().with_actor(ActorId::from([2; 16]))).unwrap();
        let mut second = SiteCatalog::from_doc(start.doc().clone().with_actor(ActorId::from([3; 16]))).unwrap();
        let monday = Timestamp::parse_date("2027-03-01").unwrap();
        let meals = Schedule {
            id: id("canteen-meals"),
            template: "automerge:food".into(),
            place: id("canteen"),
            every: Every::Days(1),
            start: monday,
            pattern: Pattern {
                weekdays: Weekdays::parse("1,2,3,4,5").unwrap(),
                day_of_month: None,
                slots: Slot::parse_all("早 06:00-09:00; 午 10:30-13:30; 晚 16:30-19:30").unwrap(),
            },
        };
        first.put_schedule(&meals, &edit("admin", 10)).unwrap();
        let day = |date: &str| Timestamp::parse_date(date).unwrap().day_number();
        let vacation = Closure { id: id("spring-break"), name: "春假".into(), first_day: day("2027-03-08"), last_day: day("2027-03-12") };
        second.put_closure(&vacation, &edit("admin", 11)).unwrap();
        // A schedule that does not fit its recurrence is refused before it is written.
        let monthly_on_mondays = Schedule { every: Every::Months(1), ..meals.clone() };
        assert!(first.put_schedule(&monthly_on_mondays, &edit("admin", 12)).is_err());

        let mut merged_first = first.doc().clone();
        let mut merged_second = second.doc().clone();
        merged_first.merge(&mut second.doc().clone()).unwrap();
        merged_second.merge(&mut first.doc().clone()).unwrap();
        let two_weeks = |doc: &AutoCommit| {
            let view = SiteCatalog::read_doc(doc).unwrap();
            assert_eq!(view.schedules[0].pattern, meals.pattern, "the pattern reads back as written");
            assert_eq!(view.closures, std::slice::from_ref(&vacation));
            windows(&view.schedules[0], &view.closures, monday, Timestamp::parse_date("2027-03-15").unwrap(), 0)
        };
        let (on_first, on_second) = (two_weeks(&merged_first), two_weeks(&merged_second));
        assert_eq!(on_first, on_second);
        assert_eq!(on_first.len(), 5 * 3, "the first week's meals only");
        assert!(on_first.iter().all(|window| window.start < Timestamp::parse_date("2027-03-06").unwrap()));

        // The vacation taken out again: its days are due once more.
        let mut reopened = SiteCatalog::from_doc(merged_first).unwrap();
        reopened.remove_closure(&id("spring-break"), &edit("admin", 13)).unwrap();
        assert_eq!(two_weeks_open(&reopened), 10 * 3);

        fn two_weeks_open(catalog: &SiteCatalog) -> usize {
            let view = catalog.read().unwrap();
            assert!(view.closures.is_empty());
            let monday = Timestamp::parse_date("2027-03-01").unwrap();
            windows(&view.schedules[0], &view.closures, monday, Timestamp::parse_date("2027-03-15").unwrap(), 0).len()
        }
    }

    #[test]
    fn rooms_buildings_and_labels_are_found_through_the_place_tree() {
        let mut catalog = catalog();
        let place = |place: &str, kind: PlaceKind, parent: Option<&str>| Place {
            id: id(place),
            kind,
            parent: parent.map(id),
            name: place.to_owned(),
            code: place.to_uppercase(),
        };
        let places = [
            place("dorm", PlaceKind::Building, None),
            place("dorm-1f", PlaceKind::Floor, Some("dorm")),
            place("dorm-101", PlaceKind::Room, Some("dorm-1f")),
            place("dorm-102", PlaceKind::Room, Some("dorm-1f")),
            place("lab-201", PlaceKind::Room, Some("lab")),
            place("lab", PlaceKind::Building, None),
            // Loops must not hang anything.
            place("loop-a", PlaceKind::Floor, Some("loop-b")),
            place("loop-b", PlaceKind::Room, Some("loop-a")),
        ];
        for place in &places {
            catalog.put_place(place, &edit("admin", 1)).unwrap();
        }
        let extinguisher = Asset {
            id: id("x1"),
            name: "灭火器".into(),
            asset_type: "extinguisher".into(),
            tag: "XF-001".into(),
            place: Some(id("dorm-1f")),
            installed_at: None,
        };
        catalog.put_asset(&extinguisher, &edit("admin", 2)).unwrap();
        let view = catalog.read().unwrap();
        let ids = |places: Vec<&Place>| places.iter().map(|place| place.id.to_string()).collect::<Vec<_>>();
        assert_eq!(ids(view.rooms_in("dorm")), ["dorm-101", "dorm-102"]);
        assert_eq!(ids(view.rooms_in("dorm-102")), ["dorm-102"]);
        assert_eq!(ids(view.rooms_in("loop-a")), ["loop-b"]);
        assert_eq!(view.building_of("dorm-101").map(|place| place.id.as_str()), Some("dorm"));
        assert_eq!(view.building_of("lab-201").map(|place| place.id.as_str()), Some("lab"));
        assert!(view.building_of("loop-b").is_some());
        assert_eq!(view.find_code(" dorm-101 ").map(|(asset, place)| (asset.is_some(), place.id.as_str())), Some((false, "dorm-101")));
        assert_eq!(
            view.find_code("xf-001").map(|(asset, place)| (asset.map(|asset| asset.name.as_str()), place.id.as_str())),
            Some((Some("灭火器"), "dorm-1f"))
        );
        assert!(view.find_code("nothing").is_none());
        assert_eq!(view.find_code("https://houqin.lan/l/XF-001").map(|(asset, _)| asset.is_some()), Some(true), "a label's URL");
        assert!(view.find_code("  ").is_none());
        let tags = |(assets, total): (Vec<&Asset>, usize)| (assets.iter().map(|asset| asset.tag.clone()).collect::<Vec<String>>(), total);
        assert_eq!(tags(view.assets_at("dorm", 5)), (vec!["XF-001".to_owned()], 1), "an asset on a floor is inside its building");
        assert_eq!(tags(view.assets_at("dorm-101", 5)), (Vec::new(), 0));
        assert_eq!(tags(view.assets_at("", 0)), (Vec::new(), 1), "the count goes past the limit");
    }

    #[test]
    fn places_are_found_by_words_of_their_names_and_codes() {
        let mut catalog = catalog();
        for (number, name) in [(1, "东楼 101"), (2, "东楼 102"), (3, "西楼 Lab"), (4, "东楼 201")] {
            let place = Place {
                id: id(&format!("p{number}")),
                kind: PlaceKind::Room,
                parent: None,
                name: name.to_owned(),
                code: format!("HQ-R{number}"),
            };
            catalog.put_place(&place, &edit("admin", number)).unwrap();
        }
        let view = catalog.read().unwrap();
        let found = |query: &str, limit: usize| {
            let (shown, total) = view.places_matching(query, limit);
            (shown.iter().map(|place| place.id.to_string()).collect::<Vec<_>>(), total)
        };
        assert_eq!(found("", 10), (vec!["p1".to_owned(), "p2".into(), "p3".into(), "p4".into()], 4));
        assert_eq!(found("  ", 2), (vec!["p1".to_owned(), "p2".into()], 4), "at most the limit, with the full count");
        assert_eq!(found("东楼", 10).1, 3);
        assert_eq!(found("东楼 10", 10), (vec!["p1".to_owned(), "p2".into()], 2), "every word must match");
        assert_eq!(found("LAB", 10), (vec!["p3".to_owned()], 1), "case does not matter");
        assert_eq!(found("hq-r4", 10), (vec!["p4".to_owned()], 1), "codes match too");
        assert_eq!(found("东楼 lab", 10), (Vec::new(), 0));
    }

    #[test]
    fn places_are_read_in_id_order_and_found_in_any_order() {
        let mut catalog = catalog();
        for number in [7, 3, 11, 1, 5] {
            let place = Place {
                id: id(&format!("room-{number:02}")),
                kind: PlaceKind::Room,
                parent: None,
                name: number.to_string(),
                code: number.to_string(),
            };
            catalog.put_place(&place, &edit("admin", number)).unwrap();
        }
        let mut view = catalog.read().unwrap();
        let ids: Vec<&str> = view.places.iter().map(|place| place.id.as_str()).collect();
        assert_eq!(ids, ["room-01", "room-03", "room-05", "room-07", "room-11"]);
        for order in 0..2 {
            for number in [1, 3, 5, 7, 11] {
                assert_eq!(
                    view.place(&format!("room-{number:02}")).map(|place| place.name.clone()),
                    Some(number.to_string()),
                    "order {order}"
                );
            }
            assert!(view.place("room-02").is_none());
            view.places.reverse();
        }
    }

    #[test]
    fn on_hand_is_derived_from_movements() {
        let mut catalog = catalog();
        let gloves = id("gloves");
        let movements = [
            ("m1", MovementKind::Receive, "100", "采购单 PO-17"),
            ("m2", MovementKind::Issue, "30", "维修班"),
            ("m3", MovementKind::Scrap, "2", "破损"),
            ("m4", MovementKind::Adjust, "-3", "盘点 st-1"),
        ];
        for (index, (movement, kind, quantity, reference)) in movements.iter().enumerate() {
            catalog
                .record_movement(&id(movement), *kind, &gloves, quantity.parse().unwrap(), reference, &edit("store", index as i64 * 10))
                .unwrap();
        }
        let view = catalog.read().unwrap();
        assert_eq!(view.on_hand()[&gloves], Quantity::units(65));
        assert_eq!(on_hand(&view.ledger, Some(Timestamp::from_millis(15)))[&gloves], Quantity::units(70));

        let refused = [
            (MovementKind::Issue, "-5", "invalid quantity \"-5\": above zero (only adjustments may be negative)"),
            (MovementKind::Receive, "0", "invalid quantity \"0\": above zero (only adjustments may be negative)"),
        ];
        for (kind, quantity, message) in refused {
            let error = catalog.record_movement(&id("m9"), kind, &gloves, quantity.parse().unwrap(), "", &edit("store", 99)).unwrap_err();
            assert_eq!(error.to_string(), message);
        }
        let taken =
            catalog.record_movement(&id("m1"), MovementKind::Receive, &gloves, Quantity::units(1), "", &edit("store", 99)).unwrap_err();
        assert_eq!(taken.to_string(), "invalid movement id \"m1\": a new id; this one is taken");
    }

    #[test]
    fn issues_beyond_what_is_on_hand_are_refused_and_merged_shortfalls_are_traced() {
        let mut catalog = catalog();
        let bulbs = id("bulbs");
        catalog.record_movement(&id("m1"), MovementKind::Receive, &bulbs, Quantity::units(10), "PO-1", &edit("store", 10)).unwrap();
        let refused =
            catalog.record_movement(&id("m2"), MovementKind::Issue, &bulbs, Quantity::units(11), "维修班", &edit("store", 20)).unwrap_err();
        assert_eq!(refused.to_string(), "not enough bulbs on hand: 10, fewer than the 11 asked for");
        assert!(matches!(refused, DocumentError::NotEnoughStock { .. }));
        let scrap = catalog
            .record_movement(&id("m2"), MovementKind::Scrap, &id("never-received"), Quantity::units(1), "", &edit("store", 20))
            .unwrap_err();
        assert!(matches!(scrap, DocumentError::NotEnoughStock { .. }), "{scrap}");
        // Two phones offline each issue 8 of the 10 they see: merged, the ledger keeps both.
        let mut other = SiteCatalog::from_doc(catalog.doc().clone().with_actor(ActorId::from([2; 16]))).unwrap();
        catalog.record_movement(&id("m3"), MovementKind::Issue, &bulbs, Quantity::units(8), "维修班", &edit("store", 30)).unwrap();
        other.record_movement(&id("m4"), MovementKind::Issue, &bulbs, Quantity::units(8), "宿管", &edit("manager", 31)).unwrap();
        catalog.doc_mut().merge(other.doc_mut()).unwrap();
        let history = catalog.read().unwrap().stock_history(&bulbs);
        assert_eq!(history.on_hand, Quantity::units(-6));
        let trail: Vec<String> = history
            .movements
            .iter()
            .map(|(movement, after)| format!("{} {} {} → {after}", movement.id, movement.kind.as_str(), movement.quantity))
            .collect();
        assert_eq!(trail, ["m1 receive 10 → 10", "m3 issue 8 → 2", "m4 issue 8 → -6"]);
        assert_eq!(history.below_zero_since, Some(2), "the second issue took it below zero");
        catalog.record_movement(&id("m5"), MovementKind::Receive, &bulbs, Quantity::units(6), "PO-2", &edit("store", 40)).unwrap();
        assert_eq!(catalog.read().unwrap().stock_history(&bulbs).below_zero_since, None);
    }

    #[test]
    fn derived_ledger_ids_always_parse_and_stay_apart() {
        let order = "automerge:2yTHkz4Mps9hTTkMX5QAWkLBPm2p";
        assert_eq!(derived_id("part", order, "p1"), "part-2yTHkz4Mps9h-p1");
        let long = "x".repeat(64);
        let derived = derived_id("part", order, &long);
        assert!(EntryId::parse(&format!("{derived}-99")).is_ok(), "{derived}");
        assert_ne!(derived, derived_id("part", order, &"y".repeat(64)));
        assert_eq!(adjustment_id(order, "gloves").as_str(), "adjust-2yTHkz4Mps9h-gloves");
        assert!(adjustment_id(order, &"item-".repeat(12)).as_str().len() <= 64);
    }

    #[test]
    fn items_at_or_below_their_reorder_point_are_listed() {
        let mut catalog = catalog();
        let item = |code: &str, reorder_point: Option<i64>| StockItem {
            id: id(code),
            code: code.to_owned(),
            name: code.to_owned(),
            unit: "个".into(),
            category: "supplies".into(),
            bin: None,
            reorder_point: reorder_point.map(Quantity::units),
        };
        for stock_item in [item("a", Some(5)), item("b", Some(5)), item("c", None), item("d", Some(0))] {
            catalog.put_stock_item(&stock_item, &edit("admin", 1)).unwrap();
        }
        catalog.record_movement(&id("m1"), MovementKind::Receive, &id("a"), Quantity::units(5), "", &edit("store", 2)).unwrap();
        catalog.record_movement(&id("m2"), MovementKind::Receive, &id("b"), Quantity::units(6), "", &edit("store", 3)).unwrap();
        let view = catalog.read().unwrap();
        let low: Vec<String> = view.to_reorder().iter().map(|(item, quantity)| format!("{} {quantity}", item.code)).collect();
        assert_eq!(low, ["a 5", "d 0"], "at the point counts; no point, no reorder");
        assert_eq!(view.stock_items[0].reorder_point, Some(Quantity::units(5)));
    }

    #[test]
    fn parts_used_are_issued_once_whichever_phones_issue_them_and_corrections_follow() {
        use crate::document::work_order::PartUsed;

        let order = "automerge:2yTHkz4Mps9hTTkMX5QAWkLBPm2p";
        let part = |part: &str, quantity: i64| PartUsed {
            id: id(part),
            item: "fuse".into(),
            quantity: Quantity::units(quantity),
            user: Username::parse("tech").unwrap(),
            at: Timestamp::from_millis(5),
        };
        let mut technician = catalog();
        technician.record_movement(&id("m1"), MovementKind::Receive, &id("fuse"), Quantity::units(10), "", &edit("store", 1)).unwrap();
        let mut manager = SiteCatalog::from_doc(technician.doc().clone().with_actor(ActorId::from([2; 16]))).unwrap();
        // Both phones see the completed order with its two parts and issue what is missing.
        let parts = [part("p1", 2), part("p2", 1)];
        assert_eq!(technician.issue_parts(order, &parts, &edit("tech", 10)).unwrap(), 2);
        assert_eq!(manager.issue_parts(order, &parts, &edit("manager", 11)).unwrap(), 2);
        technician.doc_mut().merge(manager.doc_mut()).unwrap();
        let view = technician.read().unwrap();
        assert_eq!(view.on_hand()[&id("fuse")], Quantity::units(7), "the same ids: issued once");
        let ids: Vec<&str> =
            view.ledger.iter().filter(|movement| movement.reference == order).map(|movement| movement.id.as_str()).collect();
        assert_eq!(ids, ["part-2yTHkz4Mps9h-p1", "part-2yTHkz4Mps9h-p2"]);
        assert_eq!(technician.issue_parts(order, &parts, &edit("tech", 12)).unwrap(), 0, "nothing left to issue");
        // The technician corrects: 3 of p1 after all, and p2 was not used.
        assert_eq!(technician.issue_parts(order, &[part("p1", 3), part("p2", 0)], &edit("tech", 20)).unwrap(), 2);
        let view = technician.read().unwrap();
        assert_eq!(view.on_hand()[&id("fuse")], Quantity::units(7));
        let kinds: Vec<String> = view
            .ledger
            .iter()
            .filter(|movement| movement.reference == order)
            .map(|movement| format!("{} {} {}", movement.id, movement.kind.as_str(), movement.quantity))
            .collect();
        assert_eq!(
            kinds,
            [
                "part-2yTHkz4Mps9h-p1 issue 2",
                "part-2yTHkz4Mps9h-p1-2 issue 1",
                "part-2yTHkz4Mps9h-p2 issue 1",
                "part-2yTHkz4Mps9h-p2-2 adjust 1"
            ]
        );
        // A negative quantity written by another client returns nothing to the store.
        assert_eq!(technician.issue_parts(order, &[part("p3", -50)], &edit("tech", 30)).unwrap(), 0);
    }

    #[test]
    fn admins_editing_one_entry_offline_keep_both_fields_and_removals_hold() {
        let mut first = catalog();
        let room = Place { id: id("r1"), kind: PlaceKind::Room, parent: Some(id("b1")), name: "101".into(), code: "R-101".into() };
        first.put_place(&room, &edit("admin", 1)).unwrap();
        let mut second = SiteCatalog::from_doc(first.doc_mut().fork().with_actor(ActorId::from([9; 16]))).unwrap();
        first.put_place(&Place { name: "101 会议室".into(), ..room.clone() }, &edit("admin", 2)).unwrap();
        second.put_place(&Place { code: "R-101A".into(), parent: None, ..room.clone() }, &edit("admin2", 3)).unwrap();
        first.doc_mut().merge(second.doc_mut()).unwrap();
        let merged = first.read().unwrap();
        let place = merged.place("r1").unwrap();
        assert_eq!((place.name.as_str(), place.code.as_str(), place.parent.clone()), ("101 会议室", "R-101A", None));
        first.remove(CatalogList::Places, "r1", &edit("admin", 4)).unwrap();
        first.remove(CatalogList::Places, "r1", &edit("admin", 5)).unwrap();
        assert!(first.read().unwrap().place("r1").is_none());
    }
}
