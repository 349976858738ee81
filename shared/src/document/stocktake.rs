//! Stocktakes: several counters count a store at once, offline, and their entries add up.
//!
//! A count is an entry (counter, bin, item, quantity, time), never one shared number, so
//! two people counting never overwrite each other. A counter corrects a mistake with a new
//! entry that names the one it replaces; the history stays. Expected quantities are a
//! snapshot taken at the start, so stock moving during the count does not shift the target.
//!
//! A fixed-asset audit is a stocktake of tagged assets instead of quantities: the snapshot
//! is where each asset should be, and finding one (by its tag) records where it was.
//!
//! Layout: header; `location`, `mode`, `kind` (scalars; no `kind` means `stock`);
//! `expected` (item → thousandths); `assets` (asset → expected place; audits only);
//! `entries`, `found`, `recounts`, `events` (maps keyed by entry id or item).

use std::collections::BTreeMap;

use automerge::{ActorId, AutoCommit, ROOT, ReadDoc};

use super::{DocumentError, DocumentType, EntryId, Edit, Header, commit, invalid, map_at, put, put_map, read_root};
use crate::directory::{SiteId, Username};
use crate::quantity::Quantity;
use crate::time::Timestamp;

super::text_enum! {
    /// Whether counters see the expected quantities while counting.
    pub enum Mode as "mode" {
        /// Counters see only what they count; variance appears once counting closes.
        Blind = "blind",
        Open = "open",
    }
}

super::text_enum! {
    /// What is counted.
    pub enum Kind as "stocktake kind" {
        /// Quantities of stock items.
        Stock = "stock",
        /// Tagged fixed assets, found or not, where they should be or elsewhere.
        Assets = "assets",
    }
}

/// What a storekeeper sets up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewStocktake {
    pub site: SiteId,
    pub location: String,
    pub mode: Mode,
    /// The ledger's on-hand quantity of each item in scope, at the start.
    pub expected: Vec<(String, Quantity)>,
    /// For a fixed-asset audit: each asset in scope with the place it should be at. Empty
    /// for a stock count.
    pub assets: Vec<(String, String)>,
}

/// An asset found during an audit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundAsset {
    pub id: EntryId,
    pub asset: String,
    /// Where it was found.
    pub place: String,
    pub counter: Username,
    pub at: Timestamp,
}

/// An audit's result so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AssetAudit {
    /// Found where the catalog says.
    pub in_place: Vec<String>,
    /// Found elsewhere: asset, expected place, place found.
    pub elsewhere: Vec<(String, String, String)>,
    /// In scope and not found (yet).
    pub missing: Vec<String>,
    /// Found but not in the audit's scope: asset, place found.
    pub unexpected: Vec<(String, String)>,
}

/// One count by one person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountEntry {
    pub id: EntryId,
    pub counter: Username,
    pub bin: String,
    pub item: String,
    pub quantity: Quantity,
    pub at: Timestamp,
    /// The counter's own earlier entry that this one corrects.
    pub replaces: Option<EntryId>,
}

/// Where the stocktake stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Counting,
    Closed,
    Approved,
}

impl Phase {
    /// The event that leads into this phase.
    const fn event_name(self) -> &'static str {
        match self {
            Phase::Counting => "reopened",
            Phase::Closed => "closed",
            Phase::Approved => "approved",
        }
    }
}

/// Counted against expected for one item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemTotal {
    pub item: String,
    pub counted: Quantity,
    pub expected: Option<Quantity>,
    pub by_counter: BTreeMap<Username, Quantity>,
}

impl ItemTotal {
    /// Counted minus expected; `None` for an item that was not in the snapshot's scope.
    pub fn variance(&self) -> Option<Quantity> {
        self.expected.map(|expected| self.counted.saturating_sub(expected))
    }
}

/// Everything a stocktake holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StocktakeView {
    pub header: Header,
    pub location: String,
    pub mode: Mode,
    pub kind: Kind,
    pub expected_assets: BTreeMap<String, String>,
    pub found: Vec<FoundAsset>,
    pub expected: BTreeMap<String, Quantity>,
    pub entries: Vec<CountEntry>,
    pub recounts: BTreeMap<String, Username>,
    pub phase: Phase,
    /// When counting was closed, if it is (the closing in force).
    pub closed_at: Option<Timestamp>,
    /// The adjustments recorded by the approval in force: item and counted minus expected.
    pub approved_adjustments: Vec<(String, Quantity)>,
}

/// Two or more counters who counted the same item in the same bin and got different
/// numbers: the item is recounted there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disagreement {
    pub bin: String,
    pub item: String,
    pub counts: BTreeMap<Username, Quantity>,
}

/// Counts of one item in one bin by different people may differ by this much (in
/// thousandths of a unit) before a recount is asked for: half a unit, so a whole-unit
/// difference always is.
pub const RECOUNT_TOLERANCE: i64 = 500;

impl StocktakeView {
    /// The entries that count: all but those corrected later. When one entry was corrected
    /// twice concurrently, the later correction (by time, then id) stands.
    pub fn effective_entries(&self) -> Vec<&CountEntry> {
        let mut latest_correction: BTreeMap<&EntryId, &CountEntry> = BTreeMap::new();
        for entry in &self.entries {
            if let Some(replaced) = &entry.replaces {
                let newer = latest_correction.get(replaced).is_none_or(|current| (entry.at, &entry.id) > (current.at, &current.id));
                if newer {
                    latest_correction.insert(replaced, entry);
                }
            }
        }
        self.entries
            .iter()
            .filter(|entry| !latest_correction.contains_key(&entry.id))
            .filter(|entry| match &entry.replaces {
                Some(replaced) => latest_correction.get(replaced).is_some_and(|winner| winner.id == entry.id),
                None => true,
            })
            .collect()
    }

    /// Where counters disagree by more than [`RECOUNT_TOLERANCE`]: recounts the stocktake
    /// asks for by itself, on every phone alike.
    pub fn disagreements(&self) -> Vec<Disagreement> {
        let mut counts: BTreeMap<(&str, &str), BTreeMap<Username, Quantity>> = BTreeMap::new();
        for entry in self.effective_entries() {
            let by_counter = counts.entry((entry.bin.as_str(), entry.item.as_str())).or_default();
            let quantity = by_counter.entry(entry.counter.clone()).or_default();
            *quantity = quantity.saturating_add(entry.quantity);
        }
        counts
            .into_iter()
            .filter(|(_, by_counter)| {
                let (low, high) = by_counter.values().fold((i64::MAX, i64::MIN), |(low, high), quantity| (low.min(quantity.thousandths()), high.max(quantity.thousandths())));
                by_counter.len() > 1 && high - low > RECOUNT_TOLERANCE
            })
            .map(|((bin, item), counts)| Disagreement { bin: bin.to_owned(), item: item.to_owned(), counts })
            .collect()
    }

    /// Items of the snapshot whose stock moved (received, issued, scrapped, adjusted) after
    /// the count started and before it closed (or `now`): their counts may not match the
    /// snapshot for reasons no counter can see.
    pub fn moved_during(&self, ledger: &[super::catalog::Movement], now: Timestamp) -> Vec<String> {
        let until = self.closed_at.unwrap_or(now);
        let mut moved: Vec<String> = ledger
            .iter()
            .filter(|movement| movement.at >= self.header.created_at && movement.at <= until && self.expected.contains_key(movement.item.as_str()))
            .map(|movement| movement.item.to_string())
            .collect();
        moved.sort();
        moved.dedup();
        moved
    }

    /// Each asset by where it was last found (a later find replaces an earlier one).
    pub fn audit(&self) -> AssetAudit {
        let mut last: BTreeMap<&str, &FoundAsset> = BTreeMap::new();
        for found in &self.found {
            let later = last.get(found.asset.as_str()).is_none_or(|current| (found.at, &found.id) > (current.at, &current.id));
            if later {
                last.insert(&found.asset, found);
            }
        }
        let mut audit = AssetAudit::default();
        for (asset, expected) in &self.expected_assets {
            match last.get(asset.as_str()) {
                Some(found) if found.place == *expected => audit.in_place.push(asset.clone()),
                Some(found) => audit.elsewhere.push((asset.clone(), expected.clone(), found.place.clone())),
                None => audit.missing.push(asset.clone()),
            }
        }
        for (asset, found) in last {
            if !self.expected_assets.contains_key(asset) {
                audit.unexpected.push((asset.to_owned(), found.place.clone()));
            }
        }
        audit
    }

    /// What approving now would adjust: counted minus expected for every item of the
    /// snapshot whose count differs.
    pub fn adjustments(&self) -> Vec<(String, Quantity)> {
        self.totals()
            .into_iter()
            .filter_map(|total| total.variance().filter(|variance| *variance != Quantity::ZERO).map(|variance| (total.item, variance)))
            .collect()
    }

    /// Totals per item (every item expected or counted), in item order.
    pub fn totals(&self) -> Vec<ItemTotal> {
        let mut totals: BTreeMap<&str, ItemTotal> = BTreeMap::new();
        for (item, expected) in &self.expected {
            totals.insert(item, ItemTotal { item: item.clone(), counted: Quantity::ZERO, expected: Some(*expected), by_counter: BTreeMap::new() });
        }
        for entry in self.effective_entries() {
            let total = totals.entry(&entry.item).or_insert_with(|| ItemTotal {
                item: entry.item.clone(),
                counted: Quantity::ZERO,
                expected: None,
                by_counter: BTreeMap::new(),
            });
            total.counted = total.counted.saturating_add(entry.quantity);
            let by_counter = total.by_counter.entry(entry.counter.clone()).or_default();
            *by_counter = by_counter.saturating_add(entry.quantity);
        }
        totals.into_values().collect()
    }
}

/// A stocktake document.
pub struct Stocktake {
    doc: AutoCommit,
}

super::typed_document!(Stocktake, StocktakeView);

impl Stocktake {
    /// Starts a stocktake with its expected-quantity snapshot.
    pub fn start(actor: ActorId, new: &NewStocktake, edit: &Edit) -> Result<Stocktake, DocumentError> {
        let header = Header {
            document_type: DocumentType::Stocktake,
            schema: DocumentType::Stocktake.current_schema(),
            site: new.site.clone(),
            created_by: edit.user.clone(),
            created_at: edit.at,
        };
        let mut doc = super::create(actor, &header);
        put(&mut doc, &ROOT, "location", new.location.as_str());
        put(&mut doc, &ROOT, "mode", new.mode.as_str());
        let kind = if new.assets.is_empty() { Kind::Stock } else { Kind::Assets };
        put(&mut doc, &ROOT, "kind", kind.as_str());
        let assets = put_map(&mut doc, &ROOT, "assets");
        for (asset, place) in &new.assets {
            put(&mut doc, &assets, asset, place.as_str());
        }
        let expected = put_map(&mut doc, &ROOT, "expected");
        for (item, quantity) in &new.expected {
            if quantity.is_negative() {
                return Err(invalid("expected quantity", &quantity.to_string(), "zero or more"));
            }
            put(&mut doc, &expected, item, quantity.thousandths());
        }
        for collection in ["entries", "found", "recounts", "events"] {
            put_map(&mut doc, &ROOT, collection);
        }
        commit(&mut doc, edit, "started stocktake");
        Ok(Stocktake { doc })
    }

    /// Records a count by `edit.user`.
    pub fn count(&mut self, id: &EntryId, bin: &str, item: &str, quantity: Quantity, edit: &Edit) -> Result<(), DocumentError> {
        self.write_entry(id, bin, item, quantity, None, edit)?;
        commit(&mut self.doc, edit, "count");
        Ok(())
    }

    /// Corrects one of `edit.user`'s own entries with a new one; the old entry stays in the
    /// history but no longer counts.
    pub fn correct(&mut self, id: &EntryId, replaces: &EntryId, quantity: Quantity, edit: &Edit) -> Result<(), DocumentError> {
        let view = self.read()?;
        let original = view
            .entries
            .iter()
            .find(|entry| &entry.id == replaces)
            .ok_or_else(|| invalid("entry to correct", replaces.as_str(), "an entry of this stocktake"))?;
        if original.counter != edit.user {
            return Err(invalid("entry to correct", replaces.as_str(), "one of your own entries; counters correct only their own counts"));
        }
        let (bin, item) = (original.bin.clone(), original.item.clone());
        self.write_entry(id, &bin, &item, quantity, Some(replaces), edit)?;
        commit(&mut self.doc, edit, "corrected count");
        Ok(())
    }

    /// Records that `edit.user` found `asset` (by its tag) at `place`, during an audit.
    pub fn find_asset(&mut self, id: &EntryId, asset: &str, place: &str, edit: &Edit) -> Result<(), DocumentError> {
        let view = self.read()?;
        if view.kind != Kind::Assets {
            return Err(invalid("found asset", asset, "a find in a fixed-asset audit; this stocktake counts stock"));
        }
        if view.phase != Phase::Counting {
            return Err(DocumentError::ReadOnly { what: "a closed audit" });
        }
        if asset.trim().is_empty() || place.trim().is_empty() {
            return Err(DocumentError::MissingField { field: "asset and place".to_owned() });
        }
        // Every audit is created with its `found` map (audits are newer than the map).
        let found = map_at(&self.doc, &ROOT, "found", "found")?;
        let entry = put_map(&mut self.doc, &found, id.as_str());
        put(&mut self.doc, &entry, "asset", asset);
        put(&mut self.doc, &entry, "place", place);
        put(&mut self.doc, &entry, "counter", edit.user.as_str());
        put(&mut self.doc, &entry, "at", edit.at.as_millis());
        commit(&mut self.doc, edit, "found asset");
        Ok(())
    }

    /// Asks for `item` to be counted again.
    pub fn request_recount(&mut self, item: &str, edit: &Edit) -> Result<(), DocumentError> {
        let recounts = map_at(&self.doc, &ROOT, "recounts", "recounts")?;
        put(&mut self.doc, &recounts, item, edit.user.as_str());
        commit(&mut self.doc, edit, "recount requested");
        Ok(())
    }

    /// Ends counting (`Closed`), reopens it (`Counting`), or approves the result
    /// (`Approved`), which records the adjustments (counted minus expected, per item) that
    /// the approver saw, for the ledger.
    pub fn record_phase(&mut self, id: &EntryId, phase: Phase, edit: &Edit) -> Result<(), DocumentError> {
        let view = self.read()?;
        let allowed = match phase {
            Phase::Counting | Phase::Approved => view.phase == Phase::Closed,
            Phase::Closed => view.phase == Phase::Counting,
        };
        if !allowed {
            return Err(invalid("stocktake step", phase.event_name(), "closing while counting, then approving or reopening once closed"));
        }
        let events = map_at(&self.doc, &ROOT, "events", "events")?;
        let event = put_map(&mut self.doc, &events, id.as_str());
        put(&mut self.doc, &event, "kind", phase.event_name());
        put(&mut self.doc, &event, "user", edit.user.as_str());
        put(&mut self.doc, &event, "at", edit.at.as_millis());
        if phase == Phase::Approved {
            let adjustments = put_map(&mut self.doc, &event, "adjustments");
            for (item, quantity) in view.adjustments() {
                put(&mut self.doc, &adjustments, &item, quantity.thousandths());
            }
        }
        commit(&mut self.doc, edit, phase.event_name());
        Ok(())
    }

    pub fn read_doc(doc: &AutoCommit) -> Result<StocktakeView, DocumentError> {
        let (header, root) = read_root(doc, DocumentType::Stocktake)?;
        let mut expected = BTreeMap::new();
        for (item, quantity) in root.scalars("expected")? {
            let thousandths = quantity.as_i64().ok_or_else(|| DocumentError::WrongFieldType { field: format!("expected.{item}"), expected: "an integer" })?;
            expected.insert(item, Quantity::from_thousandths(thousandths));
        }
        let count_entries = root.entries("entries", |id, entry| {
            Ok(CountEntry {
                id,
                counter: entry.user("counter")?,
                bin: entry.str("bin")?,
                item: entry.str("item")?,
                quantity: Quantity::from_thousandths(entry.i64("quantity")?),
                at: entry.time("at")?,
                replaces: entry.optional_id("replaces")?,
            })
        })?;
        let mut recounts = BTreeMap::new();
        for (item, user) in root.scalars("recounts")? {
            let user = user.as_str().and_then(|user| Username::parse(user).ok());
            let user = user.ok_or_else(|| invalid(&format!("recounts.{item}"), "", "a user name"))?;
            recounts.insert(item, user);
        }
        let mut events = root.entries("events", |id, event| {
            let adjustments = match event.optional_map("adjustments")? {
                None => Vec::new(),
                Some(_) => event
                    .scalars("adjustments")?
                    .into_iter()
                    .map(|(item, quantity)| {
                        let thousandths = quantity.as_i64().ok_or_else(|| invalid(&event.path("adjustments"), &item, "a quantity per item"))?;
                        Ok((item, Quantity::from_thousandths(thousandths)))
                    })
                    .collect::<Result<_, DocumentError>>()?,
            };
            Ok((event.time("at")?, id, event.str("kind")?, adjustments))
        })?;
        // Steps in time order; one that does not follow from the phase before (two phones
        // closing at once, say) changes nothing.
        events.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let mut phase = Phase::Counting;
        let mut closed_at = None;
        let mut approved_adjustments = Vec::new();
        for (at, _, kind, adjustments) in events {
            phase = match (phase, kind.as_str()) {
                (Phase::Counting, "closed") => {
                    closed_at = Some(at);
                    Phase::Closed
                }
                (Phase::Closed, "reopened") => {
                    closed_at = None;
                    Phase::Counting
                }
                (Phase::Closed, "approved") => {
                    approved_adjustments = adjustments;
                    Phase::Approved
                }
                (unchanged, _) => unchanged,
            };
        }
        let mut expected_assets = BTreeMap::new();
        if root.optional_map("assets")?.is_some() {
            for (asset, place) in root.scalars("assets")? {
                let place = place.as_str().map(str::to_owned).ok_or_else(|| invalid(&format!("assets.{asset}"), "", "a place id"))?;
                expected_assets.insert(asset, place);
            }
        }
        let found = if root.optional_map("found")?.is_some() {
            root.entries("found", |id, found| {
                Ok(FoundAsset { id, asset: found.str("asset")?, place: found.str("place")?, counter: found.user("counter")?, at: found.time("at")? })
            })?
        } else {
            Vec::new()
        };
        Ok(StocktakeView {
            header,
            location: root.str("location")?,
            mode: Mode::parse(&root.str("mode")?)?,
            kind: root.optional_str("kind")?.map(|kind| Kind::parse(&kind)).transpose()?.unwrap_or(Kind::Stock),
            expected_assets,
            found,
            expected,
            entries: count_entries,
            recounts,
            phase,
            closed_at,
            approved_adjustments,
        })
    }

    fn write_entry(
        &mut self,
        id: &EntryId,
        bin: &str,
        item: &str,
        quantity: Quantity,
        replaces: Option<&EntryId>,
        edit: &Edit,
    ) -> Result<(), DocumentError> {
        if quantity.is_negative() {
            return Err(invalid("count", &quantity.to_string(), "zero or more"));
        }
        if item.trim().is_empty() {
            return Err(DocumentError::MissingField { field: "item".to_owned() });
        }
        let entries_map = map_at(&self.doc, &ROOT, "entries", "entries")?;
        if self.doc.get(&entries_map, id.as_str())?.is_some() {
            return Err(invalid("entry id", id.as_str(), "a new id; this one is taken"));
        }
        let entry = put_map(&mut self.doc, &entries_map, id.as_str());
        put(&mut self.doc, &entry, "counter", edit.user.as_str());
        put(&mut self.doc, &entry, "bin", bin);
        put(&mut self.doc, &entry, "item", item);
        put(&mut self.doc, &entry, "quantity", quantity.thousandths());
        put(&mut self.doc, &entry, "at", edit.at.as_millis());
        if let Some(replaces) = replaces {
            put(&mut self.doc, &entry, "replaces", replaces.as_str());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::document::testing::{edit, id};

    fn stocktake() -> Stocktake {
        let new = NewStocktake {
            site: SiteId::parse("hq").unwrap(),
            location: "store-a".into(),
            mode: Mode::Blind,
            expected: vec![("gloves".into(), Quantity::units(100)), ("masks".into(), "12.5".parse().unwrap())],
            assets: Vec::new(),
        };
        Stocktake::start(ActorId::from([1; 16]), &new, &edit("store", 0)).unwrap()
    }

    #[test]
    fn counts_add_up_per_item_and_counter_and_corrections_replace() {
        let mut stocktake = stocktake();
        stocktake.count(&id("c1"), "shelf-1", "gloves", Quantity::units(60), &edit("store", 10)).unwrap();
        stocktake.count(&id("c2"), "shelf-2", "gloves", Quantity::units(35), &edit("manager", 11)).unwrap();
        stocktake.count(&id("c3"), "shelf-2", "masks", "12.5".parse().unwrap(), &edit("manager", 12)).unwrap();
        stocktake.count(&id("c4"), "shelf-3", "bulbs", Quantity::units(4), &edit("store", 13)).unwrap();
        // The storekeeper miscounted shelf 1 and corrects it; the first entry stays in history.
        stocktake.correct(&id("c5"), &id("c1"), Quantity::units(62), &edit("store", 20)).unwrap();
        let view = stocktake.read().unwrap();
        let totals: Vec<String> = view
            .totals()
            .iter()
            .map(|total| {
                let counters: Vec<String> = total.by_counter.iter().map(|(user, quantity)| format!("{user}={quantity}")).collect();
                format!("{} counted {} variance {:?} by {}", total.item, total.counted, total.variance().map(|v| v.to_string()), counters.join(","))
            })
            .collect();
        expect![[r#"
            [
                "bulbs counted 4 variance None by store=4",
                "gloves counted 97 variance Some(\"-3\") by manager=35,store=62",
                "masks counted 12.5 variance Some(\"0\") by manager=12.5",
            ]
        "#]]
        .assert_debug_eq(&totals);
        assert_eq!(view.entries.len(), 5);
        assert_eq!(view.phase, Phase::Counting);
    }

    #[test]
    fn counters_correct_only_their_own_entries_and_phases_follow_events() {
        let mut stocktake = stocktake();
        stocktake.count(&id("c1"), "shelf-1", "gloves", Quantity::units(60), &edit("store", 10)).unwrap();
        let refused = stocktake.correct(&id("c2"), &id("c1"), Quantity::units(1), &edit("manager", 11)).unwrap_err();
        assert_eq!(refused.to_string(), "invalid entry to correct \"c1\": one of your own entries; counters correct only their own counts");
        let negative = stocktake.count(&id("c3"), "shelf-1", "gloves", Quantity::units(-1), &edit("store", 12)).unwrap_err();
        assert_eq!(negative.to_string(), "invalid count \"-1\": zero or more");
        let reused = stocktake.count(&id("c1"), "shelf-1", "gloves", Quantity::units(1), &edit("store", 13)).unwrap_err();
        assert_eq!(reused.to_string(), "invalid entry id \"c1\": a new id; this one is taken");

        stocktake.request_recount("gloves", &edit("manager", 20)).unwrap();
        stocktake.record_phase(&id("p1"), Phase::Closed, &edit("manager", 30)).unwrap();
        assert_eq!(stocktake.read().unwrap().phase, Phase::Closed);
        let early = stocktake.record_phase(&id("p0"), Phase::Closed, &edit("manager", 35)).unwrap_err();
        assert_eq!(early.to_string(), "invalid stocktake step \"closed\": closing while counting, then approving or reopening once closed");
        stocktake.record_phase(&id("p2"), Phase::Approved, &edit("manager", 40)).unwrap();
        let view = stocktake.read().unwrap();
        assert_eq!(view.phase, Phase::Approved);
        // 60 gloves counted against 100 expected; 12.5 masks expected, none counted.
        let adjustments: Vec<String> = view.approved_adjustments.iter().map(|(item, quantity)| format!("{item} {quantity}")).collect();
        assert_eq!(adjustments, ["gloves -40", "masks -12.5"]);
        assert_eq!(view.recounts["gloves"].as_str(), "manager");
        assert_eq!(view.mode, Mode::Blind);
        assert_eq!(view.closed_at, Some(Timestamp::from_millis(30)));
    }

    #[test]
    fn an_asset_audit_lists_what_is_in_place_elsewhere_missing_and_unexpected() {
        let new = NewStocktake {
            site: SiteId::parse("hq").unwrap(),
            location: "行政楼".into(),
            mode: Mode::Open,
            expected: Vec::new(),
            assets: vec![("xf-1".into(), "1f".into()), ("xf-2".into(), "1f".into()), ("ac-101".into(), "101".into())],
        };
        let mut audit = Stocktake::start(ActorId::from([1; 16]), &new, &edit("store", 0)).unwrap();
        audit.find_asset(&id("f1"), "xf-1", "1f", &edit("store", 10)).unwrap();
        audit.find_asset(&id("f2"), "ac-101", "1f", &edit("store", 11)).unwrap();
        // Found again, in the right room this time, by someone else: the later find stands.
        audit.find_asset(&id("f3"), "ac-101", "102", &edit("manager", 12)).unwrap();
        audit.find_asset(&id("f4"), "pc-9", "101", &edit("store", 13)).unwrap();
        let view = audit.read().unwrap();
        assert_eq!(view.kind, Kind::Assets);
        let result = view.audit();
        assert_eq!(result.in_place, ["xf-1"]);
        assert_eq!(result.elsewhere, [("ac-101".to_owned(), "101".to_owned(), "102".to_owned())]);
        assert_eq!(result.missing, ["xf-2"]);
        assert_eq!(result.unexpected, [("pc-9".to_owned(), "101".to_owned())]);
        let mut stock = stocktake();
        assert!(stock.find_asset(&id("f1"), "xf-1", "1f", &edit("store", 10)).is_err(), "a stock count has no finds");
        assert_eq!(stock.read().unwrap().kind, Kind::Stock);
        audit.record_phase(&id("p1"), Phase::Closed, &edit("manager", 20)).unwrap();
        assert_eq!(audit.find_asset(&id("f5"), "xf-2", "1f", &edit("store", 21)).unwrap_err().to_string(), "a closed audit is read-only");
    }

    #[test]
    fn counters_who_disagree_on_a_bin_are_asked_to_recount_and_moved_stock_is_flagged() {
        use crate::document::catalog::{Movement, MovementKind};

        let mut stocktake = stocktake();
        stocktake.count(&id("c1"), "shelf-1", "gloves", Quantity::units(60), &edit("store", 10)).unwrap();
        stocktake.count(&id("c2"), "shelf-1", "gloves", Quantity::units(58), &edit("manager", 11)).unwrap();
        stocktake.count(&id("c3"), "shelf-2", "masks", "12.5".parse().unwrap(), &edit("store", 12)).unwrap();
        stocktake.count(&id("c4"), "shelf-2", "masks", "12.8".parse().unwrap(), &edit("manager", 13)).unwrap();
        let view = stocktake.read().unwrap();
        let found: Vec<String> = view.disagreements().iter().map(|found| format!("{} {} {:?}", found.bin, found.item, found.counts.values().map(ToString::to_string).collect::<Vec<_>>())).collect();
        assert_eq!(found, ["shelf-1 gloves [\"58\", \"60\"]"], "0.3 masks apart is within the tolerance");
        // A recount that agrees settles it.
        stocktake.correct(&id("c5"), &id("c2"), Quantity::units(60), &edit("manager", 20)).unwrap();
        assert!(stocktake.read().unwrap().disagreements().is_empty());

        let movement = |id: &str, item: &str, at: i64| Movement {
            id: EntryId::parse(id).unwrap(),
            kind: MovementKind::Issue,
            item: EntryId::parse(item).unwrap(),
            quantity: Quantity::units(1),
            reference: String::new(),
            user: Username::parse("store").unwrap(),
            at: Timestamp::from_millis(at),
        };
        let ledger = [movement("m1", "gloves", 15), movement("m2", "bulbs", 16), movement("m3", "masks", 50), movement("m4", "masks", -5)];
        assert_eq!(stocktake.read().unwrap().moved_during(&ledger, Timestamp::from_millis(40)), ["gloves"]);
        stocktake.record_phase(&id("p1"), Phase::Closed, &edit("manager", 45)).unwrap();
        assert_eq!(stocktake.read().unwrap().moved_during(&ledger, Timestamp::from_millis(99)), ["gloves"], "after closing, later movements do not count");
    }
}
