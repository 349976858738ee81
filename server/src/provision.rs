//! Setting up a site's documents: its catalog, and optionally the standard checklist
//! templates, written straight into storage as the documents' first snapshots.
//!
//! The documents are made under a fresh Automerge actor bound to the person who set the
//! site up, so their history names that person like any other change.

use anyhow::Context;
use automerge::ActorId;
use password_hash::rand_core::{OsRng, RngCore};
use shared::directory::Username;
use shared::document::catalog::{Place, PlaceKind, SiteCatalog, StockItem, TemplateRef};
use shared::document::template::ChecklistTemplate;
use shared::document::{Edit, EntryId, seeds};
use shared::protocol::DocumentId;

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
    /// Places and stock items to fill the catalog with.
    pub places: &'a [Place],
    pub stock: &'a [StockItem],
}

impl Starter<'_> {
    /// An empty catalog with the standard checklists.
    pub const STANDARD: Starter<'static> = Starter { templates: true, places: &[], stock: &[] };
}

/// Creates the site's catalog (and what `starter` asks for), stores it, and records it
/// on the site. Blocking: sled writes, not flushed.
pub fn create_site_documents(directory: &Directory, store: &DocumentStore, site: &mut SiteRecord, by: &Username, at: shared::time::Timestamp, starter: &Starter<'_>) -> anyhow::Result<()> {
    let actor = ActorId::random();
    directory.bind_actor(&actor.to_hex_string(), by)?;
    let edit = Edit::new(by.clone(), at);
    let mut catalog = SiteCatalog::create(actor.clone(), &site.id, &site.name, &edit);
    if starter.templates {
        for checklist in seeds::all() {
            let mut template = ChecklistTemplate::create(actor.clone(), &site.id, &checklist, &edit)?;
            let id = new_document_id();
            store.compact(&id, template.doc_mut()).context("cannot store a template")?;
            let reference = TemplateRef { document: id.url(), name_zh: checklist.name.zh.clone(), name_en: checklist.name.en.clone(), category: checklist.category.clone() };
            catalog.put_template(&reference, &edit)?;
        }
    }
    for place in starter.places {
        catalog.put_place(place, &edit)?;
    }
    for item in starter.stock {
        catalog.put_stock_item(item, &edit)?;
    }
    let id = new_document_id();
    store.compact(&id, catalog.doc_mut()).context("cannot store a catalog")?;
    site.catalog = Some(id);
    directory.put_site(site)
}

/// A place, for starters.
pub fn place(id: &str, kind: PlaceKind, parent: Option<&str>, name: &str, code: &str) -> Place {
    let entry = |text: &str| EntryId::parse(text).expect("starter ids are valid");
    Place { id: entry(id), kind, parent: parent.map(entry), name: name.to_owned(), code: code.to_owned() }
}

/// A stock item, for starters.
pub fn stock_item(id: &str, code: &str, name: &str, unit: &str, category: &str, bin: &str) -> StockItem {
    StockItem {
        id: EntryId::parse(id).expect("starter ids are valid"),
        code: code.to_owned(),
        name: name.to_owned(),
        unit: unit.to_owned(),
        category: category.to_owned(),
        bin: Some(bin.to_owned()),
    }
}
