//! Setting up a site's documents: its catalog, and optionally the standard checklist
//! templates, written straight into storage as the documents' first snapshots. A starter
//! may also fill the catalog with places, assets, stock items and scheduled rounds.
//!
//! The documents are made under a fresh Automerge actor bound to the person who set the
//! site up, so their history names that person like any other change.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use automerge::ActorId;
use password_hash::rand_core::{OsRng, RngCore};
use shared::directory::Username;
use shared::document::catalog::{
    Asset, Every, MaintenancePlan, Meter, MeterKind, Pattern, Place, PlaceKind, Purchase, Rate, RateFor, RoundItem, Schedule, SiteCatalog,
    StockItem, TemplateRef, Vendor,
};
use shared::document::template::ChecklistTemplate;
use shared::document::{Edit, EntryId, seeds};
use shared::money::Money;
use shared::protocol::DocumentId;
use shared::quantity::Quantity;
use shared::time::Span;

use crate::directory::{Directory, SiteRecord};
use crate::documents::DocumentStore;

/// A new random document id.
pub fn new_document_id() -> DocumentId {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    DocumentId::from_random(bytes)
}

/// What a new site starts with besides its catalog.
pub struct Starter<'a> {
    /// The standard checklists (fire safety, electrical, canteen, dorm room).
    pub templates: bool,
    /// Places, assets and stock items to fill the catalog with.
    pub places: &'a [Place],
    pub assets: &'a [Asset],
    /// Stock items, each with the quantity the store holds at the start and its cost per
    /// unit (received into the ledger as opening stock when above zero).
    pub stock: &'a [(StockItem, Quantity, Money)],
    /// Rounds to schedule; they name standard checklists, so `templates` must be on.
    pub schedules: &'a [StarterSchedule],
    /// Preventive maintenance of the assets; they recur from the moment of setup.
    pub maintenance: &'a [MaintenancePlan],
    /// Labour rates, in force from the moment of setup.
    pub rates: &'a [(RateFor, Money)],
    /// Meters on the assets, with readings taken before setup.
    pub meters: &'a [StarterMeter],
    /// Contractors the site calls in.
    pub vendors: &'a [Vendor],
}

impl Starter<'_> {
    /// An empty catalog with the standard checklists.
    pub const STANDARD: Starter<'static> = Starter {
        templates: true,
        places: &[],
        assets: &[],
        stock: &[],
        schedules: &[],
        maintenance: &[],
        rates: &[],
        meters: &[],
        vendors: &[],
    };
}

/// A meter to start with. Its round item, if any, names a standard checklist by category
/// and one of its items (the template document does not exist yet when the starter is
/// written); its readings are so long before setup, recorded by the person setting up.
pub struct StarterMeter {
    pub meter: Meter,
    pub read_on: Option<(&'static str, &'static str)>,
    pub readings: Vec<(Span, Quantity)>,
}

/// A round to schedule from the start. The template document does not exist yet when
/// the starter is written, so the round names a standard checklist by its category
/// (`fire_safety`, `electrical`, `food_safety`, `dorm_room`; see `shared::document::seeds`);
/// it recurs from the moment the site is set up.
pub struct StarterSchedule {
    pub id: EntryId,
    pub checklist: &'static str,
    pub place: EntryId,
    pub every: Every,
    pub pattern: Pattern,
}

/// Creates the site's catalog (and what `starter` asks for), stores it, and records it
/// on the site. Blocking: sled writes, not flushed.
pub fn create_site_documents(
    directory: &Directory,
    store: &DocumentStore,
    site: &mut SiteRecord,
    by: &Username,
    at: shared::time::Timestamp,
    starter: &Starter<'_>,
) -> anyhow::Result<()> {
    let actor = ActorId::random();
    directory.bind_actor(&actor.to_hex_string(), by)?;
    let edit = Edit::new(by.clone(), at);
    let mut catalog = SiteCatalog::create(actor.clone(), &site.id, &site.name, &edit);
    // The standard checklists' template documents by category, for the schedules.
    let mut templates = BTreeMap::new();
    if starter.templates {
        for checklist in seeds::all() {
            let mut template = ChecklistTemplate::create(actor.clone(), &site.id, &checklist, &edit)?;
            let id = new_document_id();
            store.store_new(&id, template.doc_mut()).context("cannot store a template")?;
            let reference = TemplateRef {
                document: id.url(),
                name_zh: checklist.name.zh.clone(),
                name_en: checklist.name.en.clone(),
                category: checklist.category.clone(),
                version: checklist.version,
            };
            catalog.put_template(&reference, &edit)?;
            templates.insert(checklist.category, reference.document);
        }
    }
    for place in starter.places {
        catalog.put_place(place, &edit)?;
    }
    for asset in starter.assets {
        catalog.put_asset(asset, &edit)?;
    }
    for (item, opening, unit_cost) in starter.stock {
        catalog.put_stock_item(item, &edit)?;
        if *opening > Quantity::ZERO {
            let id = EntryId::parse(&format!("opening-{}", item.id)).context("a stock item id too long for an opening receipt")?;
            let purchase = Purchase { unit_cost: Some(*unit_cost), supplier: None };
            catalog.receive(&id, &item.id, *opening, &purchase, "期初库存 opening stock", &edit)?;
        }
    }
    for (index, (applies_to, per_hour)) in starter.rates.iter().enumerate() {
        let rate = Rate { id: entry(&format!("rate-{index}")), applies_to: applies_to.clone(), per_hour: *per_hour, from: at };
        catalog.put_rate(&rate, &edit)?;
    }
    for round in starter.schedules {
        let Some(template) = templates.get(round.checklist) else {
            bail!(
                "schedule {} names checklist {:?}, which is not among this starter's templates (is `templates` on?)",
                round.id.as_str(),
                round.checklist
            );
        };
        let schedule = Schedule {
            id: round.id.clone(),
            template: template.clone(),
            place: round.place.clone(),
            every: round.every,
            start: at,
            pattern: round.pattern.clone(),
        };
        catalog.put_schedule(&schedule, &edit)?;
    }
    for plan in starter.maintenance {
        catalog.put_maintenance(&MaintenancePlan { start: at, ..plan.clone() }, &edit)?;
    }
    for vendor in starter.vendors {
        catalog.put_vendor(vendor, &edit)?;
    }
    for starter_meter in starter.meters {
        let mut meter = starter_meter.meter.clone();
        if let Some((checklist, item)) = starter_meter.read_on {
            let Some(template) = templates.get(checklist) else {
                bail!("meter {} is read on checklist {checklist:?}, which is not among this starter's templates", meter.id.as_str());
            };
            meter.round_item = Some(RoundItem { template: template.clone(), item: entry(item) });
        }
        catalog.put_meter(&meter, &edit)?;
        for (index, (ago, value)) in starter_meter.readings.iter().enumerate() {
            let id = EntryId::parse(&format!("{}-{index}", meter.id)).context("a meter id too long for its readings' ids")?;
            catalog.record_reading(&id, &meter.id, *value, None, &Edit::new(by.clone(), at.minus(*ago)))?;
        }
    }
    let id = new_document_id();
    store.store_new(&id, catalog.doc_mut()).context("cannot store a catalog")?;
    site.catalog = Some(id);
    directory.put_site(site)
}

/// An entry id written into a starter; starters are code, so a bad one is a bug.
fn entry(id: &str) -> EntryId {
    EntryId::parse(id).expect("starter ids are valid")
}

/// A place, for starters.
pub fn place(id: &str, kind: PlaceKind, parent: Option<&str>, name: &str, code: &str) -> Place {
    Place { id: entry(id), kind, parent: parent.map(entry), name: name.to_owned(), code: code.to_owned() }
}

/// An asset at a place, for starters.
pub fn asset(id: &str, asset_type: &str, tag: &str, place: &str, name: &str) -> Asset {
    Asset {
        id: entry(id),
        name: name.to_owned(),
        asset_type: asset_type.to_owned(),
        tag: tag.to_owned(),
        place: Some(entry(place)),
        installed_at: None,
    }
}

/// A round of a standard checklist (by category) at a place, for starters.
pub fn schedule(id: &str, checklist: &'static str, place: &str, every: Every) -> StarterSchedule {
    StarterSchedule { id: entry(id), checklist, place: entry(place), every, pattern: Pattern::default() }
}

/// Preventive maintenance of an asset, for starters (its start is the setup time).
pub fn maintenance(id: &str, asset: &str, title: &str, every: Every) -> MaintenancePlan {
    MaintenancePlan { id: entry(id), asset: entry(asset), title: title.to_owned(), every, start: shared::time::Timestamp::from_millis(0) }
}

/// A meter on an asset in its kind's usual unit, with no limits or rules, for starters.
pub fn meter(id: &str, name: &str, asset: &str, kind: MeterKind, tag: &str) -> Meter {
    Meter {
        id: entry(id),
        name: name.to_owned(),
        asset: entry(asset),
        kind,
        unit: kind.usual_unit().to_owned(),
        tag: tag.to_owned(),
        low: None,
        high: None,
        alarm_after: None,
        usage_limit: None,
        round_item: None,
    }
}

/// A stock item, for starters.
pub fn stock_item(id: &str, code: &str, name: &str, unit: &str, category: &str, bin: &str) -> StockItem {
    StockItem {
        id: entry(id),
        code: code.to_owned(),
        name: name.to_owned(),
        unit: unit.to_owned(),
        category: category.to_owned(),
        bin: Some(bin.to_owned()),
        reorder_point: None,
    }
}

/// A starter's stock item with its reorder point, the quantity on hand at the start and
/// what a unit of it cost (in fen).
pub fn stocked(item: StockItem, reorder_point: i64, opening: i64, unit_cost_fen: i64) -> (StockItem, Quantity, Money) {
    (StockItem { reorder_point: Some(Quantity::units(reorder_point)), ..item }, Quantity::units(opening), Money::from_fen(unit_cost_fen))
}
