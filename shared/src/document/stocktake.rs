//! Stocktakes: several counters count a store at once, offline, and nobody's count is
//! overwritten.
//!
//! A count is an entry (counter, bin, item, quantity, time, round), never one shared number,
//! so two people counting never overwrite each other. A counter corrects a mistake with a
//! new entry that names the one it replaces; the history stays. Expected quantities are a
//! snapshot taken at the start (a negative book quantity as it is), so stock moving during
//! the count does not shift the target.
//!
//! The totals rule (ARCHITECTURE.md, "Stock figures"): counts of *different* bins add up;
//! counts of the *same* bin and item by different counters are checks of one shelf. Per
//! (bin, item), the entries of the latest round stand (a recount is an entry of the next
//! round, so it supersedes the earlier counts of that bin and item for everyone); the
//! counters' counts there must agree within [`RECOUNT_TOLERANCE`], and the bin takes the
//! lowest of them; where they disagree the bin has no quantity and approval waits until a
//! recount agrees or a manager settles the bin by picking a count (an event with who and
//! when). An item's total is the sum over its bins.
//!
//! A fixed-asset audit is a stocktake of tagged assets instead of quantities: the snapshot
//! is where each asset should be, and finding one (by its tag) records where it was.
//!
//! Layout: header; `location`, `mode`, `kind` (scalars; no `kind` means `stock`);
//! `expected` (item → thousandths); `assets` (asset → expected place; audits only);
//! `entries`, `found`, `recounts`, `events` (maps keyed by entry id or item). Events are
//! phase steps (`closed`, `reopened`, `approved`) and bin settlements (`settled`).

use std::collections::BTreeMap;

use automerge::{ActorId, AutoCommit, ROOT, ReadDoc};

use super::{DocumentError, DocumentType, Edit, EntryId, Header, UnreadableEntry, commit, invalid, map_at, put, put_map, read_root};
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
    /// 0 for a first count; a recount is one round after the round it answers, and the
    /// latest round of a bin and item is the one that stands.
    pub round: u32,
}

/// A manager's decision of one bin's quantity where counters disagree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settlement {
    pub id: EntryId,
    pub bin: String,
    pub item: String,
    pub quantity: Quantity,
    pub user: Username,
    pub at: Timestamp,
}

/// Where one bin of one item stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BinState {
    /// One counter's count, or several that agree within the tolerance (the lowest of them).
    Agreed(Quantity),
    /// Counters disagree: no quantity until a recount agrees or a manager settles it.
    Disagreed,
    /// A manager picked the quantity.
    Settled { quantity: Quantity, by: Username, at: Timestamp },
}

/// One bin of one item: the counts that stand and what they come to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BinCount {
    pub bin: String,
    pub item: String,
    /// The round whose counts stand (0: nobody has recounted).
    pub round: u32,
    /// Each counter's count in that round (a counter's entries there add up).
    pub counts: BTreeMap<Username, Quantity>,
    pub state: BinState,
}

impl BinCount {
    /// The bin's quantity, if its counts agree or it was settled.
    pub fn quantity(&self) -> Option<Quantity> {
        match &self.state {
            BinState::Agreed(quantity) | BinState::Settled { quantity, .. } => Some(*quantity),
            BinState::Disagreed => None,
        }
    }
}

/// Why a bin is to be counted again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecountReason {
    /// Counters disagree on it.
    Disagreement,
    /// A manager asked for the item to be recounted.
    Requested(Username),
}

/// A bin and item to count again, and the round a recount there would be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingRecount {
    pub bin: String,
    pub item: String,
    pub round: u32,
    pub reason: RecountReason,
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
    /// The sum over the item's bins that have a quantity; `None` while nobody counted it.
    pub counted: Option<Quantity>,
    pub expected: Option<Quantity>,
    /// Each counter's own count of the item (their counts that stand, over every bin).
    pub by_counter: BTreeMap<Username, Quantity>,
    /// Bins of the item where counters disagree: `counted` leaves them out.
    pub disagreed_bins: usize,
}

impl ItemTotal {
    /// Counted minus expected; `None` for an item not counted, or not in the snapshot's scope.
    pub fn variance(&self) -> Option<Quantity> {
        Some(self.counted?.saturating_sub(self.expected?))
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
    /// The adjustments recorded by the approval in force (see [`StocktakeView::adjustments`]).
    pub approved_adjustments: Vec<(String, Quantity)>,
    /// Bins settled by a manager, in the order they were recorded.
    pub settlements: Vec<Settlement>,
    /// Counts, steps and found assets that do not read, left out of the above: one bad
    /// entry hides itself, not the stocktake.
    pub unreadable: Vec<UnreadableEntry>,
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

    /// Every bin of every item counted, by the totals rule (see the module's doc), in
    /// item and bin order.
    pub fn bins(&self) -> Vec<BinCount> {
        let mut standing: BTreeMap<(&str, &str), (u32, Vec<&CountEntry>)> = BTreeMap::new();
        for entry in self.effective_entries() {
            let (round, entries) = standing.entry((entry.item.as_str(), entry.bin.as_str())).or_insert((entry.round, Vec::new()));
            if entry.round > *round {
                *round = entry.round;
                entries.clear();
            }
            if entry.round == *round {
                entries.push(entry);
            }
        }
        let mut settled: BTreeMap<(&str, &str), &Settlement> = BTreeMap::new();
        for settlement in &self.settlements {
            let key = (settlement.item.as_str(), settlement.bin.as_str());
            if settled.get(&key).is_none_or(|current| (settlement.at, &settlement.id) > (current.at, &current.id)) {
                settled.insert(key, settlement);
            }
        }
        let mut bins: BTreeMap<(&str, &str), BinCount> = BTreeMap::new();
        for ((item, bin), (round, entries)) in standing {
            let mut counts: BTreeMap<Username, Quantity> = BTreeMap::new();
            for entry in entries {
                let quantity = counts.entry(entry.counter.clone()).or_default();
                *quantity = quantity.saturating_add(entry.quantity);
            }
            let low = counts.values().copied().min().unwrap_or_default();
            let high = counts.values().copied().max().unwrap_or_default();
            let state =
                if high.saturating_sub(low).thousandths() > RECOUNT_TOLERANCE { BinState::Disagreed } else { BinState::Agreed(low) };
            bins.insert((item, bin), BinCount { bin: bin.to_owned(), item: item.to_owned(), round, counts, state });
        }
        for (key, settlement) in settled {
            let bin = bins.entry(key).or_insert_with(|| BinCount {
                bin: settlement.bin.clone(),
                item: settlement.item.clone(),
                round: 0,
                counts: BTreeMap::new(),
                state: BinState::Disagreed,
            });
            bin.state = BinState::Settled { quantity: settlement.quantity, by: settlement.user.clone(), at: settlement.at };
        }
        bins.into_values().collect()
    }

    /// Bins where counters disagree and nobody settled: they block approval.
    pub fn disagreements(&self) -> Vec<BinCount> {
        self.bins().into_iter().filter(|bin| bin.state == BinState::Disagreed).collect()
    }

    /// What is to be counted again, on every phone alike: bins where counters disagree, and
    /// the bins of an item a manager asked to recount that nobody has recounted since.
    pub fn pending_recounts(&self) -> Vec<PendingRecount> {
        let mut pending = Vec::new();
        for bin in self.bins() {
            let reason = match (&bin.state, self.recounts.get(&bin.item)) {
                (BinState::Settled { .. }, _) => continue,
                (BinState::Disagreed, _) => RecountReason::Disagreement,
                (BinState::Agreed(_), Some(by)) if bin.round == 0 => RecountReason::Requested(by.clone()),
                (BinState::Agreed(_), _) => continue,
            };
            pending.push(PendingRecount { round: bin.round.saturating_add(1), bin: bin.bin, item: bin.item, reason });
        }
        pending
    }

    /// The round a count of `item` in `bin` belongs to: a recount is one after the round
    /// that stands there now.
    pub fn recount_round(&self, bin: &str, item: &str) -> u32 {
        self.effective_entries()
            .iter()
            .filter(|entry| entry.bin == bin && entry.item == item)
            .map(|entry| entry.round)
            .max()
            .map_or(1, |round| round.saturating_add(1))
    }

    /// Items of the snapshot whose stock moved (received, issued, scrapped, adjusted) after
    /// the count started and before it closed (or `now`): their counts may not match the
    /// snapshot for reasons no counter can see.
    pub fn moved_during(&self, ledger: &[super::catalog::Movement], now: Timestamp) -> Vec<String> {
        let until = self.closed_at.unwrap_or(now);
        let mut moved: Vec<String> = ledger
            .iter()
            .filter(|movement| {
                movement.at >= self.header.created_at && movement.at <= until && self.expected.contains_key(movement.item.as_str())
            })
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

    /// What approving now would adjust, per item of the snapshot that was counted: the
    /// counted total minus the book quantity at the snapshot, minus the net movement of the
    /// item recorded in the ledger while counting (from the start until counting closed,
    /// or `now`). On-hand then becomes the counted total plus whatever moved after counting
    /// closed. An item nobody counted is not adjusted.
    pub fn adjustments(&self, ledger: &[super::catalog::Movement], now: Timestamp) -> Vec<(String, Quantity)> {
        let until = self.closed_at.unwrap_or(now);
        let mut moved: BTreeMap<&str, Quantity> = BTreeMap::new();
        for movement in ledger.iter().filter(|movement| movement.at >= self.header.created_at && movement.at <= until) {
            let net = moved.entry(movement.item.as_str()).or_default();
            *net = net.saturating_add(movement.delta());
        }
        self.totals()
            .into_iter()
            .filter_map(|total| {
                let (counted, expected) = (total.counted?, total.expected?);
                let during = moved.get(total.item.as_str()).copied().unwrap_or_default();
                let adjustment = counted.saturating_sub(expected).saturating_sub(during);
                (adjustment != Quantity::ZERO).then_some((total.item, adjustment))
            })
            .collect()
    }

    /// Totals per item (every item expected or counted), in item order: the sum over the
    /// item's bins that have a quantity.
    pub fn totals(&self) -> Vec<ItemTotal> {
        let mut totals: BTreeMap<&str, ItemTotal> = BTreeMap::new();
        for (item, expected) in &self.expected {
            totals.insert(
                item,
                ItemTotal { item: item.clone(), counted: None, expected: Some(*expected), by_counter: BTreeMap::new(), disagreed_bins: 0 },
            );
        }
        let bins = self.bins();
        for bin in &bins {
            let total = totals.entry(&bin.item).or_insert_with(|| ItemTotal {
                item: bin.item.clone(),
                counted: None,
                expected: None,
                by_counter: BTreeMap::new(),
                disagreed_bins: 0,
            });
            match bin.quantity() {
                Some(quantity) => total.counted = Some(total.counted.unwrap_or_default().saturating_add(quantity)),
                None => total.disagreed_bins += 1,
            }
            for (counter, quantity) in &bin.counts {
                let by_counter = total.by_counter.entry(counter.clone()).or_default();
                *by_counter = by_counter.saturating_add(*quantity);
            }
        }
        totals.into_values().collect()
    }

    /// Whether counters may see what the books say and each other's counts: in an open
    /// count always, in a blind one once counting closes.
    pub fn revealed(&self) -> bool {
        self.mode == Mode::Open || self.phase != Phase::Counting
    }
}

/// What one count entry says was on the shelf.
struct Counted<'a> {
    bin: &'a str,
    item: &'a str,
    quantity: Quantity,
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
        // A negative book quantity is kept as it is: the variance must show what the books said.
        for (item, quantity) in &new.expected {
            put(&mut doc, &expected, item, quantity.thousandths());
        }
        for collection in ["entries", "found", "recounts", "events"] {
            put_map(&mut doc, &ROOT, collection);
        }
        commit(&mut doc, edit, "started stocktake");
        Ok(Stocktake { doc })
    }

    /// Records a first count by `edit.user`.
    pub fn count(&mut self, id: &EntryId, bin: &str, item: &str, quantity: Quantity, edit: &Edit) -> Result<(), DocumentError> {
        self.write_entry(id, Counted { bin, item, quantity }, None, 0, edit)?;
        commit(&mut self.doc, edit, "count");
        Ok(())
    }

    /// Records a recount of `item` in `bin` by `edit.user`: an entry of the round after the
    /// one that stands there, which supersedes the earlier counts of that bin and item for
    /// everyone. Counters who recount the same round concurrently are compared as before.
    pub fn recount(&mut self, id: &EntryId, bin: &str, item: &str, quantity: Quantity, edit: &Edit) -> Result<(), DocumentError> {
        let round = self.read()?.recount_round(bin, item);
        self.write_entry(id, Counted { bin, item, quantity }, None, round, edit)?;
        commit(&mut self.doc, edit, "recount");
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
        let (bin, item, round) = (original.bin.clone(), original.item.clone(), original.round);
        self.write_entry(id, Counted { bin: &bin, item: &item, quantity }, Some(replaces), round, edit)?;
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

    /// Settles `item` in `bin` at `quantity` (a manager picking one of the counts): the
    /// bin's quantity from now on, whatever its counts. A later settlement replaces it.
    pub fn settle(&mut self, id: &EntryId, bin: &str, item: &str, quantity: Quantity, edit: &Edit) -> Result<(), DocumentError> {
        if quantity.is_negative() {
            return Err(invalid("settled quantity", &quantity.to_string(), "zero or more"));
        }
        if self.read()?.phase == Phase::Approved {
            return Err(DocumentError::ReadOnly { what: "an approved stocktake" });
        }
        let events = map_at(&self.doc, &ROOT, "events", "events")?;
        let event = put_map(&mut self.doc, &events, id.as_str());
        put(&mut self.doc, &event, "kind", "settled");
        put(&mut self.doc, &event, "bin", bin);
        put(&mut self.doc, &event, "item", item);
        put(&mut self.doc, &event, "quantity", quantity.thousandths());
        put(&mut self.doc, &event, "user", edit.user.as_str());
        put(&mut self.doc, &event, "at", edit.at.as_millis());
        commit(&mut self.doc, edit, "settled bin");
        Ok(())
    }

    /// Ends counting (`Closed`) or reopens it (`Counting`). Approving is [`Stocktake::approve`].
    pub fn record_phase(&mut self, id: &EntryId, phase: Phase, edit: &Edit) -> Result<(), DocumentError> {
        let view = self.read()?;
        let allowed = match phase {
            Phase::Counting => view.phase == Phase::Closed,
            Phase::Closed => view.phase == Phase::Counting,
            Phase::Approved => false,
        };
        if !allowed {
            return Err(invalid("stocktake step", phase.event_name(), "closing while counting, then approving or reopening once closed"));
        }
        self.write_phase(id, phase, &[], edit)
    }

    /// Approves a closed count whose every bin agrees or was settled, recording the
    /// adjustments ([`StocktakeView::adjustments`] against `ledger`) for the ledger.
    pub fn approve(&mut self, id: &EntryId, ledger: &[super::catalog::Movement], edit: &Edit) -> Result<(), DocumentError> {
        let view = self.read()?;
        if view.phase != Phase::Closed {
            return Err(invalid("stocktake step", "approved", "closing while counting, then approving or reopening once closed"));
        }
        let disagreements = view.disagreements();
        if !disagreements.is_empty() {
            let bins: Vec<String> = disagreements.iter().map(|bin| format!("{} in {}", bin.item, bin.bin)).collect();
            return Err(invalid("approval", &bins.join(", "), "counters disagree there: recount or settle those bins first"));
        }
        self.write_phase(id, Phase::Approved, &view.adjustments(ledger, edit.at), edit)
    }

    fn write_phase(&mut self, id: &EntryId, phase: Phase, adjustments: &[(String, Quantity)], edit: &Edit) -> Result<(), DocumentError> {
        let events = map_at(&self.doc, &ROOT, "events", "events")?;
        let event = put_map(&mut self.doc, &events, id.as_str());
        put(&mut self.doc, &event, "kind", phase.event_name());
        put(&mut self.doc, &event, "user", edit.user.as_str());
        put(&mut self.doc, &event, "at", edit.at.as_millis());
        if phase == Phase::Approved {
            let map = put_map(&mut self.doc, &event, "adjustments");
            for (item, quantity) in adjustments {
                put(&mut self.doc, &map, item, quantity.thousandths());
            }
        }
        commit(&mut self.doc, edit, phase.event_name());
        Ok(())
    }

    pub fn read_doc(doc: &AutoCommit) -> Result<StocktakeView, DocumentError> {
        let (header, root) = read_root(doc, DocumentType::Stocktake)?;
        let mut expected = BTreeMap::new();
        for (item, quantity) in root.scalars("expected")? {
            let thousandths = quantity
                .as_i64()
                .ok_or_else(|| DocumentError::WrongFieldType { field: format!("expected.{item}"), expected: "an integer" })?;
            expected.insert(item, Quantity::from_thousandths(thousandths));
        }
        let mut unreadable = Vec::new();
        let bad = &mut unreadable;
        let count_entries = root.entries_forgiving(
            "entries",
            |id, entry| {
                Ok(CountEntry {
                    id,
                    counter: entry.user("counter")?,
                    bin: entry.str("bin")?,
                    item: entry.str("item")?,
                    quantity: Quantity::from_thousandths(entry.i64("quantity")?),
                    at: entry.time("at")?,
                    replaces: entry.optional_id("replaces")?,
                    round: match entry.optional_i64("round")? {
                        None => 0,
                        Some(round) => u32::try_from(round)
                            .map_err(|_| invalid(&entry.path("round"), &round.to_string(), "a recount round, 0 or more"))?,
                    },
                })
            },
            bad,
        );
        let mut recounts = BTreeMap::new();
        for (item, user) in root.scalars("recounts")? {
            let user = user.as_str().and_then(|user| Username::parse(user).ok());
            let user = user.ok_or_else(|| invalid(&format!("recounts.{item}"), "", "a user name"))?;
            recounts.insert(item, user);
        }
        let mut settlements = Vec::new();
        let mut events = root
            .entries_forgiving(
                "events",
                |id, event| {
                    let kind = event.str("kind")?;
                    if kind == "settled" {
                        let settlement = Settlement {
                            id,
                            bin: event.str("bin")?,
                            item: event.str("item")?,
                            quantity: Quantity::from_thousandths(event.i64("quantity")?),
                            user: event.user("user")?,
                            at: event.time("at")?,
                        };
                        return Ok(Err(settlement));
                    }
                    let adjustments = match event.optional_map("adjustments")? {
                        None => Vec::new(),
                        Some(_) => event
                            .scalars("adjustments")?
                            .into_iter()
                            .map(|(item, quantity)| {
                                let thousandths =
                                    quantity.as_i64().ok_or_else(|| invalid(&event.path("adjustments"), &item, "a quantity per item"))?;
                                Ok((item, Quantity::from_thousandths(thousandths)))
                            })
                            .collect::<Result<_, DocumentError>>()?,
                    };
                    Ok(Ok((event.time("at")?, id, kind, adjustments)))
                },
                bad,
            )
            .into_iter()
            .filter_map(|event| event.map_err(|settlement| settlements.push(settlement)).ok())
            .collect::<Vec<_>>();
        settlements.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
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
            root.entries_forgiving(
                "found",
                |id, found| {
                    Ok(FoundAsset {
                        id,
                        asset: found.str("asset")?,
                        place: found.str("place")?,
                        counter: found.user("counter")?,
                        at: found.time("at")?,
                    })
                },
                bad,
            )
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
            settlements,
            unreadable,
        })
    }

    /// Writes a count entry: `replaces` names the counter's entry it corrects, `round` the
    /// recount round it belongs to (0: a first count).
    fn write_entry(
        &mut self,
        id: &EntryId,
        counted: Counted<'_>,
        replaces: Option<&EntryId>,
        round: u32,
        edit: &Edit,
    ) -> Result<(), DocumentError> {
        let Counted { bin, item, quantity } = counted;
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
        if round > 0 {
            put(&mut self.doc, &entry, "round", i64::from(round));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;
    use crate::document::catalog::{Movement, MovementKind};
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

    fn movement(id: &str, kind: MovementKind, item: &str, quantity: i64, at: i64) -> Movement {
        Movement {
            id: EntryId::parse(id).unwrap(),
            kind,
            item: EntryId::parse(item).unwrap(),
            quantity: Quantity::units(quantity),
            reference: String::new(),
            user: Username::parse("store").unwrap(),
            at: Timestamp::from_millis(at),
            unit_cost: None,
            supplier: None,
        }
    }

    /// Each bin as `item bin round counts → state`, then each item's total.
    fn check_totals(view: &StocktakeView, expect: Expect) {
        let mut lines: Vec<String> = view
            .bins()
            .iter()
            .map(|bin| {
                let counts: Vec<String> = bin.counts.iter().map(|(counter, quantity)| format!("{counter}={quantity}")).collect();
                let state = match &bin.state {
                    BinState::Agreed(quantity) => quantity.to_string(),
                    BinState::Disagreed => "disagree".to_owned(),
                    BinState::Settled { quantity, by, .. } => format!("{quantity} settled by {by}"),
                };
                format!("{} {} round {} [{}] → {state}", bin.item, bin.bin, bin.round, counts.join(" "))
            })
            .collect();
        lines.extend(view.totals().iter().map(|total| {
            let shown = |quantity: Option<Quantity>| quantity.map_or_else(|| "not counted".to_owned(), |quantity| quantity.to_string());
            format!(
                "total {}: {} of {} expected, variance {}, {} bins disagree",
                total.item,
                shown(total.counted),
                shown(total.expected),
                shown(total.variance()),
                total.disagreed_bins
            )
        }));
        expect.assert_eq(&lines.join("\n"));
    }

    #[test]
    fn different_bins_add_up_and_one_bin_counted_by_two_is_counted_once() {
        let mut stocktake = stocktake();
        // Both count the gloves on A-02 as 20: one shelf, 20 gloves, not 40.
        stocktake.count(&id("c1"), "A-02", "gloves", Quantity::units(20), &edit("store", 10)).unwrap();
        stocktake.count(&id("c2"), "A-02", "gloves", Quantity::units(20), &edit("store2", 11)).unwrap();
        // Only one counts C-01; a counter's two entries for one bin add up (a box behind).
        stocktake.count(&id("c3"), "C-01", "gloves", Quantity::units(30), &edit("store2", 12)).unwrap();
        stocktake.count(&id("c4"), "C-01", "gloves", Quantity::units(5), &edit("store2", 13)).unwrap();
        // 12.5 and 12.8 masks: within half a unit, the lower stands.
        stocktake.count(&id("c5"), "B-01", "masks", "12.5".parse().unwrap(), &edit("store", 14)).unwrap();
        stocktake.count(&id("c6"), "B-01", "masks", "12.8".parse().unwrap(), &edit("store2", 15)).unwrap();
        stocktake.count(&id("c7"), "D-01", "bulbs", Quantity::units(4), &edit("store", 16)).unwrap();
        // The storekeeper miscounted D-01 and corrects it; the first entry stays in history.
        stocktake.correct(&id("c8"), &id("c7"), Quantity::units(6), &edit("store", 20)).unwrap();
        let view = stocktake.read().unwrap();
        check_totals(
            &view,
            expect![[r"
                bulbs D-01 round 0 [store=6] → 6
                gloves A-02 round 0 [store=20 store2=20] → 20
                gloves C-01 round 0 [store2=35] → 35
                masks B-01 round 0 [store=12.5 store2=12.8] → 12.5
                total bulbs: 6 of not counted expected, variance not counted, 0 bins disagree
                total gloves: 55 of 100 expected, variance -45, 0 bins disagree
                total masks: 12.5 of 12.5 expected, variance 0, 0 bins disagree"]],
        );
        assert_eq!(view.entries.len(), 8);
        assert!(view.disagreements().is_empty());
    }

    #[test]
    fn a_recount_supersedes_the_earlier_counts_of_its_bin_for_everyone() {
        let mut stocktake = stocktake();
        stocktake.count(&id("c1"), "A-01", "gloves", Quantity::units(60), &edit("store", 10)).unwrap();
        stocktake.count(&id("c2"), "A-01", "gloves", Quantity::units(58), &edit("store2", 11)).unwrap();
        stocktake.count(&id("c3"), "A-02", "gloves", Quantity::units(40), &edit("store2", 12)).unwrap();
        let view = stocktake.read().unwrap();
        check_totals(
            &view,
            expect![[r"
                gloves A-01 round 0 [store=60 store2=58] → disagree
                gloves A-02 round 0 [store2=40] → 40
                total gloves: 40 of 100 expected, variance -60, 1 bins disagree
                total masks: not counted of 12.5 expected, variance not counted, 0 bins disagree"]],
        );
        let pending: Vec<String> = view
            .pending_recounts()
            .iter()
            .map(|pending| format!("{} {} round {} {:?}", pending.item, pending.bin, pending.round, pending.reason))
            .collect();
        assert_eq!(pending, ["gloves A-01 round 1 Disagreement"]);
        assert_eq!(view.recount_round("A-01", "gloves"), 1);

        // Both recount, offline: their recounts are compared with each other; the first
        // counts no longer stand. They disagree again, so a third person recounts.
        let mut other = Stocktake::from_doc(stocktake.doc().clone().with_actor(ActorId::from([2; 16]))).unwrap();
        stocktake.recount(&id("r1"), "A-01", "gloves", Quantity::units(95), &edit("store", 20)).unwrap();
        other.recount(&id("r2"), "A-01", "gloves", Quantity::units(97), &edit("store2", 21)).unwrap();
        stocktake.doc_mut().merge(other.doc_mut()).unwrap();
        let view = stocktake.read().unwrap();
        assert_eq!(view.disagreements().iter().map(|bin| (bin.round, bin.counts.len())).collect::<Vec<_>>(), [(1, 2)]);
        stocktake.recount(&id("r3"), "A-01", "gloves", Quantity::units(96), &edit("manager", 30)).unwrap();
        // A first count arriving late from a phone that never heard of the recounts does
        // not stand either: the round of the bin is 2 now.
        stocktake.count(&id("late"), "A-01", "gloves", Quantity::units(10), &edit("store3", 31)).unwrap();
        check_totals(
            &stocktake.read().unwrap(),
            expect![[r"
                gloves A-01 round 2 [manager=96] → 96
                gloves A-02 round 0 [store2=40] → 40
                total gloves: 136 of 100 expected, variance 36, 0 bins disagree
                total masks: not counted of 12.5 expected, variance not counted, 0 bins disagree"]],
        );
    }

    #[test]
    fn approval_waits_until_every_bin_agrees_or_is_settled_by_a_manager() {
        let mut stocktake = stocktake();
        stocktake.count(&id("c1"), "A-01", "gloves", Quantity::units(95), &edit("store", 10)).unwrap();
        stocktake.count(&id("c2"), "A-01", "gloves", Quantity::units(90), &edit("store2", 11)).unwrap();
        stocktake.record_phase(&id("p1"), Phase::Closed, &edit("manager", 20)).unwrap();
        let blocked = stocktake.approve(&id("p2"), &[], &edit("manager", 21)).unwrap_err();
        assert_eq!(blocked.to_string(), "invalid approval \"gloves in A-01\": counters disagree there: recount or settle those bins first");
        assert_eq!(stocktake.read().unwrap().phase, Phase::Closed);
        // The manager settles the bin by picking a count; it is recorded with who and when.
        stocktake.settle(&id("s1"), "A-01", "gloves", Quantity::units(95), &edit("manager", 22)).unwrap();
        let view = stocktake.read().unwrap();
        assert_eq!(view.settlements.len(), 1);
        assert_eq!((view.settlements[0].user.as_str(), view.settlements[0].at), ("manager", Timestamp::from_millis(22)));
        check_totals(
            &view,
            expect![[r"
                gloves A-01 round 0 [store=95 store2=90] → 95 settled by manager
                total gloves: 95 of 100 expected, variance -5, 0 bins disagree
                total masks: not counted of 12.5 expected, variance not counted, 0 bins disagree"]],
        );
        stocktake.approve(&id("p2"), &[], &edit("manager", 23)).unwrap();
        let view = stocktake.read().unwrap();
        assert_eq!(view.phase, Phase::Approved, "a settlement is not a phase step");
        // The masks nobody counted are left as the books say, not written off.
        assert_eq!(view.approved_adjustments, [("gloves".to_owned(), Quantity::units(-5))]);
        assert_eq!(
            stocktake.settle(&id("s2"), "A-01", "gloves", Quantity::units(1), &edit("manager", 24)).unwrap_err().to_string(),
            "an approved stocktake is read-only"
        );
    }

    #[test]
    fn approval_brings_on_hand_to_the_counted_total_whatever_moved_during_the_count() {
        use crate::document::catalog::on_hand;

        let new = NewStocktake {
            site: SiteId::parse("hq").unwrap(),
            location: "store-a".into(),
            mode: Mode::Open,
            // The books say -3 bulbs (issued before a receipt was recorded): kept as it is.
            expected: vec![("gloves".into(), Quantity::units(100)), ("bulbs".into(), Quantity::units(-3))],
            assets: Vec::new(),
        };
        let mut stocktake = Stocktake::start(ActorId::from([1; 16]), &new, &edit("store", 100)).unwrap();
        assert_eq!(stocktake.read().unwrap().expected["bulbs"], Quantity::units(-3));
        let mut ledger = vec![
            movement("m1", MovementKind::Receive, "gloves", 100, 10),
            movement("m2", MovementKind::Issue, "bulbs", 3, 20),
            // While counting: 5 gloves issued, 20 bulbs received.
            movement("m3", MovementKind::Issue, "gloves", 5, 150),
            movement("m4", MovementKind::Receive, "bulbs", 20, 160),
        ];
        stocktake.count(&id("c1"), "A-01", "gloves", Quantity::units(93), &edit("store", 200)).unwrap();
        stocktake.count(&id("c2"), "B-01", "bulbs", Quantity::units(16), &edit("store", 210)).unwrap();
        stocktake.record_phase(&id("p1"), Phase::Closed, &edit("manager", 300)).unwrap();
        // After counting closed, before approval: 2 more gloves go out.
        ledger.push(movement("m5", MovementKind::Issue, "gloves", 2, 350));
        stocktake.approve(&id("p2"), &ledger, &edit("manager", 400)).unwrap();
        let view = stocktake.read().unwrap();
        // gloves: 93 - 100 - (-5) = -2; bulbs: 16 - (-3) - 20 = -1.
        let adjustments: Vec<String> = view.approved_adjustments.iter().map(|(item, quantity)| format!("{item} {quantity}")).collect();
        assert_eq!(adjustments, ["bulbs -1", "gloves -2"]);
        for (index, (item, quantity)) in view.approved_adjustments.iter().enumerate() {
            ledger.push(Movement {
                kind: MovementKind::Adjust,
                quantity: *quantity,
                at: Timestamp::from_millis(400),
                ..movement(&format!("adjust-{index}"), MovementKind::Adjust, item, 0, 400)
            });
        }
        let after = on_hand(&ledger, None);
        // On-hand is what was counted, less the two gloves issued after counting closed.
        assert_eq!(after[&id("gloves")], Quantity::units(91));
        assert_eq!(after[&id("bulbs")], Quantity::units(16));
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
        let view = stocktake.read().unwrap();
        assert_eq!(
            view.pending_recounts().iter().map(|pending| (pending.bin.as_str(), pending.reason.clone())).collect::<Vec<_>>(),
            [("shelf-1", RecountReason::Requested(Username::parse("manager").unwrap()))]
        );
        // A recount of the bin answers the request.
        stocktake.recount(&id("r1"), "shelf-1", "gloves", Quantity::units(61), &edit("store", 25)).unwrap();
        assert!(stocktake.read().unwrap().pending_recounts().is_empty());
        assert!(!stocktake.read().unwrap().revealed(), "blind while counting");
        stocktake.record_phase(&id("p1"), Phase::Closed, &edit("manager", 30)).unwrap();
        assert_eq!(stocktake.read().unwrap().phase, Phase::Closed);
        assert!(stocktake.read().unwrap().revealed());
        let early = stocktake.record_phase(&id("p0"), Phase::Closed, &edit("manager", 35)).unwrap_err();
        assert_eq!(early.to_string(), "invalid stocktake step \"closed\": closing while counting, then approving or reopening once closed");
        stocktake.approve(&id("p2"), &[], &edit("manager", 40)).unwrap();
        let view = stocktake.read().unwrap();
        assert_eq!(view.phase, Phase::Approved);
        assert_eq!(view.approved_adjustments, [("gloves".to_owned(), Quantity::units(-39))]);
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
    fn stock_that_moved_during_the_count_is_flagged() {
        let mut stocktake = stocktake();
        let ledger = [
            movement("m1", MovementKind::Issue, "gloves", 1, 15),
            movement("m2", MovementKind::Issue, "bulbs", 1, 16),
            movement("m3", MovementKind::Issue, "masks", 1, 50),
            movement("m4", MovementKind::Issue, "masks", 1, -5),
        ];
        assert_eq!(stocktake.read().unwrap().moved_during(&ledger, Timestamp::from_millis(40)), ["gloves"]);
        stocktake.record_phase(&id("p1"), Phase::Closed, &edit("manager", 45)).unwrap();
        assert_eq!(
            stocktake.read().unwrap().moved_during(&ledger, Timestamp::from_millis(99)),
            ["gloves"],
            "after closing, later movements do not count"
        );
    }
}
