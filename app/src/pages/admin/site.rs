//! `/admin/sites/:id`: one site's catalog as its administrator edits it — places (the
//! building → floor → room tree), assets, stock items, each with CSV export and import;
//! QR labels for any choice of places and assets; the site's checklists; scheduled rounds;
//! closures (`closures`); labour rates (`rates`); contractors (`vendors`).
//!
//! Every change is an edit of the catalog document on this phone: it works offline and
//! merges with other administrators' edits entry by entry.

use std::collections::BTreeSet;
use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_params_map};
use shared::directory::Role;
use shared::directory::SiteId;
use shared::document::catalog::StockCategory;
use shared::document::catalog::{
    Asset, CatalogList, CatalogView, Every, Pattern, Place, PlaceKind, REPAIRABLE, Schedule, SiteCatalog, Slot, StockItem, TemplateRef,
    Weekdays, search_words,
};
use shared::document::template::ChecklistCategory;
use shared::document::template::{ChecklistTemplate, Label, Section};
use shared::document::{DocumentError, Edit, EntryId};
use shared::quantity::Quantity;
use shared::time::Timestamp;

use super::ChecklistFields;
use super::catalog_editor::{CatalogEditor, Entries, Refusal};
use super::texts::{AdminTexts, use_admin_texts};
use crate::edits::{catalog_of, edit_now, entry_id, read_catalog};
use crate::error::AppError;
use crate::fields::PlacePicker;
use crate::i18n::use_texts;
use crate::replica::{Replica, use_replica};
use crate::session::{CurrentSession, Session, use_session};

/// Edits the site's catalog on this phone; the change syncs like any other.
async fn change_catalog(
    replica: Replica,
    session: &Session,
    site: &str,
    change: impl FnOnce(&mut SiteCatalog, &Edit) -> Result<(), DocumentError>,
) -> Result<(), AppError> {
    let catalog = catalog_of(session, site).ok_or(AppError::NotOnThisPhone)?;
    let edit = edit_now(&session.user.username)?;
    replica.edit(&catalog, |doc| Ok(SiteCatalog::edit_in(doc, |catalog| change(catalog, &edit))??)).await
}

/// What every part of the page needs: the site, its catalog as this phone has it, and
/// where to say how the last change went.
#[derive(Clone, Copy)]
pub(super) struct Editing {
    session: CurrentSession,
    pub(super) replica: Replica,
    pub(super) site: Memo<String>,
    pub(super) catalog: Memo<Option<Arc<CatalogView>>>,
    message: RwSignal<Option<(bool, String)>>,
    /// A refusal that concerns one field, shown under it: (form-field, what is wrong).
    field_error: RwSignal<Option<(&'static str, String)>>,
}

impl Editing {
    /// Runs a catalog change and reports its outcome; `done` runs after a success.
    pub(super) fn save(
        self,
        change: impl FnOnce(&mut SiteCatalog, &Edit) -> Result<(), DocumentError> + 'static,
        done: impl FnOnce() + 'static,
    ) {
        let Some(session) = self.session.session.get_untracked() else { return };
        let site = self.site.get_untracked();
        let message = self.message;
        self.field_error.set(None);
        spawn_local(async move {
            match change_catalog(self.replica, &session, &site, change).await {
                Ok(()) => {
                    message.set(None);
                    done();
                }
                Err(error) => message.set(Some((false, error.to_string()))),
            }
        });
    }

    pub(super) fn fail(self, text: impl Into<String>) {
        self.message.set(Some((false, text.into())));
    }

    /// Refuses a change for what is wrong with one field (`form-field`), said under it.
    pub(super) fn fail_at(self, field: &'static str, text: impl Into<String>) {
        self.message.set(None);
        self.field_error.set(Some((field, text.into())));
    }

    /// What is wrong with `field`, under it, while it is.
    pub(super) fn error_at(self, field: &'static str) -> impl IntoView {
        crate::fields::field_error(self.field_error, field)
    }
}

#[component]
pub fn SiteAdmin() -> impl IntoView {
    let texts = use_admin_texts();
    let field_texts = use_texts();
    let current = use_session();
    let replica = use_replica();
    let params = use_params_map();
    let site = Memo::new(move |_| params.with(|params| params.get("id").unwrap_or_default()));
    let is_admin = move || {
        current.session.with(|session| {
            session.as_ref().is_some_and(|session| session.sites.iter().any(|known| known.id == site.get() && known.role == Role::Admin))
        })
    };
    let catalog = Memo::new(move |_| {
        let _ = replica.revision.get();
        read_catalog(replica, &catalog_of(&current.session.get()?, &site.get())?)
    });
    let editing = Editing { session: current, replica, site, catalog, message: RwSignal::new(None), field_error: RwSignal::new(None) };
    let chosen_places = RwSignal::new(BTreeSet::<String>::new());
    let chosen_assets = RwSignal::new(BTreeSet::<String>::new());
    let site_name = move || {
        current.session.with(|session| {
            session
                .as_ref()
                .and_then(|session| session.sites.iter().find(|known| known.id == site.get()).map(|known| known.name.clone()))
                .unwrap_or_default()
        })
    };
    let labels_link = move || {
        let token = current.session.with(|session| session.as_ref().map(|session| session.token.clone())).unwrap_or_default();
        let join = |chosen: BTreeSet<String>| chosen.into_iter().collect::<Vec<_>>().join(",");
        format!(
            "/api/sites/{}/labels.svg?token={token}&places={}&assets={}",
            site.get(),
            join(chosen_places.get()),
            join(chosen_assets.get())
        )
    };
    let nothing_chosen = move || chosen_places.with(BTreeSet::is_empty) && chosen_assets.with(BTreeSet::is_empty);
    view! {
        <section class="card">
            <p><a class="back" href="/admin">"← " {move || texts.get().administration}</a></p>
            <h1 data-site=move || site.get()>{site_name}</h1>
            {move || (!is_admin()).then(|| view! { <p class="error">{texts.get().not_admin}</p> })}
            {move || catalog.with(Option::is_none).then(|| view! { <p class="muted" data-catalog="missing">{texts.get().catalog_not_here}</p> })}
            {move || editing.message.get().map(|(ok, text)| view! { <p class=if ok { "ok" } else { "error" } role="alert" data-message=if ok { "ok" } else { "error" }>{text}</p> })}
        </section>
        <Show when=move || is_admin() && catalog.with(Option::is_some)>
            <Unreadable editing=editing />
            <CatalogEditor kind=PlaceEntries::new(chosen_places, catalog) editing=editing />
            <CatalogEditor kind=AssetEntries::new(chosen_assets) editing=editing />
            <section class="card" aria-labelledby="labels">
                <h2 id="labels">{move || field_texts.get().qr_labels}</h2>
                <p class="muted">{move || texts.get().choose_labels}</p>
                <a class="button" class:disabled=nothing_chosen href=labels_link target="_blank" rel="noopener" data-action="print-labels">{move || texts.get().print_selected}</a>
            </section>
            <super::public::PublicReportingCard site=site />
            <CatalogEditor kind=StockItemEntries::new() editing=editing />
            <super::rates::LabourRates editing=editing />
            <super::vendors::Vendors editing=editing />
            <super::meters::Meters editing=editing />
            <Checklists editing=editing />
            <Schedules editing=editing />
            <super::closures::Closures editing=editing />
            <super::notices::SiteNotices site=site />
        </Show>
    }
}

/// Entries of the catalog that do not read (hidden from the lists), for the administrator
/// to remove and add again.
#[component]
fn Unreadable(editing: Editing) -> impl IntoView {
    let texts = use_admin_texts();
    let entries = move || editing.catalog.with(|catalog| catalog.as_ref().map(|catalog| catalog.unreadable.clone()).unwrap_or_default());
    move || {
        let entries = entries();
        (!entries.is_empty()).then(|| {
            let t = texts.get();
            let rows = entries
                .into_iter()
                .map(|entry| {
                    let section = t.section(&entry.section).map_or(entry.section.clone(), str::to_owned);
                    let field = match &entry.error {
                        DocumentError::MissingField { field } | DocumentError::WrongFieldType { field, .. } | DocumentError::InvalidValue { field, .. } => field.clone(),
                        _ => entry.section.clone(),
                    };
                    let name = entry.key.clone().map_or(section.clone(), |key| format!("{section} · {key}"));
                    let action = match entry.key.clone() {
                        Some(key) if REPAIRABLE.contains(&entry.section.as_str()) => {
                            let raw = entry.section.clone();
                            let remove = move |_| {
                                let (raw, key) = (raw.clone(), key.clone());
                                editing.save(move |catalog, edit| catalog.remove_unreadable(&raw, &key, edit), || {});
                            };
                            view! { <button type="button" class="link-button danger" data-action="remove-unreadable" on:click=remove>{t.remove}</button> }.into_any()
                        }
                        Some(_) => view! { <span class="muted">{t.unreadable_kept}</span> }.into_any(),
                        None => ().into_any(),
                    };
                    view! {
                        <li data-unreadable=format!("{}.{}", entry.section, entry.key.clone().unwrap_or_default())>
                            <strong>{name}</strong>
                            <span class="muted">{format!(" — {}: {field} ", t.unreadable_field)}</span>
                            {action}
                        </li>
                    }
                })
                .collect_view();
            view! {
                <section class="card" aria-labelledby="unreadable">
                    <h2 id="unreadable" class="warning">{t.unreadable_title}</h2>
                    <p class="muted">{t.unreadable_help}</p>
                    <ul>{rows}</ul>
                </section>
            }
        })
    }
}

/// Whether a place's or an asset's label is among those to print.
#[component]
fn LabelChoice(id: String, chosen: RwSignal<BTreeSet<String>>) -> impl IntoView {
    let texts = use_texts();
    let checked = id.clone();
    view! {
        <input
            type="checkbox"
            aria-label=move || texts.get().qr_labels
            prop:checked=move || chosen.with(|chosen| chosen.contains(&checked))
            on:change=move |_| chosen.update(|chosen| if !chosen.remove(&id) { chosen.insert(id.clone()); })
        />
    }
}

/// Export and import of one list as CSV.
fn place_label(catalog: &CatalogView, id: &EntryId) -> String {
    catalog.place(id.as_str()).map(|place| format!("{} {}", place.code, place.name)).unwrap_or_else(|| id.to_string())
}

/// How many places the places table lists before someone asks for them all.
const LISTED_ROWS: usize = 200;

/// The places list: the building → floor → room tree, found by typed words.
#[derive(Clone, Copy)]
struct PlaceEntries {
    chosen: RwSignal<BTreeSet<String>>,
    kind: RwSignal<String>,
    name: RwSignal<String>,
    code: RwSignal<String>,
    parent: RwSignal<String>,
    /// A site may have thousands of places: the table lists the first [`LISTED_ROWS`] in
    /// tree order, narrowed by typed words, until someone asks for them all.
    query: RwSignal<String>,
    show_all: RwSignal<bool>,
    /// The places matching the search, in tree order, and how many match in all: ordered
    /// once per change, for the table and the line under it.
    matching: Memo<(Vec<(usize, Place)>, usize)>,
}

impl PlaceEntries {
    fn new(chosen: RwSignal<BTreeSet<String>>, catalog: Memo<Option<Arc<CatalogView>>>) -> PlaceEntries {
        let query = RwSignal::new(String::new());
        let show_all = RwSignal::new(false);
        let matching = Memo::new(move |_| {
            let words = search_words(&query.get());
            let matching: Vec<(usize, Place)> = catalog.with(|catalog| {
                let Some(catalog) = catalog else { return Vec::new() };
                catalog.places_in_tree_order().into_iter().filter(|(_, place)| place.has_words(&words)).collect()
            });
            let total = matching.len();
            let shown = if show_all.get() { matching } else { matching.into_iter().take(LISTED_ROWS).collect() };
            (shown, total)
        });
        PlaceEntries {
            chosen,
            kind: RwSignal::new(PlaceKind::Room.as_str().to_owned()),
            name: RwSignal::new(String::new()),
            code: RwSignal::new(String::new()),
            parent: RwSignal::new(String::new()),
            query,
            show_all,
            matching,
        }
    }
}

impl Entries for PlaceEntries {
    type Entry = Place;
    const LIST: CatalogList = CatalogList::Places;
    const NAME: &'static str = "places";
    const FORM: &'static str = "place";
    const ID_PREFIX: &'static str = "place";

    fn heading(texts: &AdminTexts) -> &'static str {
        texts.places
    }

    fn id(place: &Place) -> &EntryId {
        &place.id
    }

    fn listed(self, _catalog: &CatalogView) -> Vec<(usize, Place)> {
        self.matching.get().0
    }

    fn header(texts: &AdminTexts) -> AnyView {
        view! { <tr><th></th><th>{format!("{} · {}", texts.name, texts.code)}</th><th></th></tr> }.into_any()
    }

    /// The label's code under the name (a column of its own squeezed a room's name to a
    /// letter a line on a phone), indented half a character a level.
    fn row(self, _catalog: &CatalogView, depth: usize, place: &Place, actions: AnyView) -> AnyView {
        let texts = use_admin_texts();
        view! {
            <tr data-place=place.code.clone()>
                <td><LabelChoice id=place.id.to_string() chosen=self.chosen /></td>
                <td style:padding-left=format!("{}rem", depth as f32 * 0.5)>
                    {place.name.clone()} <span class="muted">{format!(" {}", texts.get().place_kind(place.kind))}</span>
                    <br />
                    <span class="code muted">{place.code.clone()}</span>
                </td>
                {actions}
            </tr>
        }
        .into_any()
    }

    fn fields(self, editing: Editing, editing_id: RwSignal<Option<EntryId>>) -> AnyView {
        let texts = use_admin_texts();
        let PlaceEntries { kind, name, code, parent, .. } = self;
        // A place can be inside any building or floor but itself or what is inside it.
        let parents = move || {
            let catalog = editing.catalog.get()?;
            let editing_now = editing_id.get();
            Some(
                catalog
                    .places_in_tree_order()
                    .into_iter()
                    .filter(|(_, place)| {
                        place.kind != PlaceKind::Room && editing_now.as_ref().is_none_or(|id| !catalog.is_within(place, id.as_str()))
                    })
                    .map(|(_, place)| {
                        let value = place.id.to_string();
                        let selected = {
                            let value = value.clone();
                            move || parent.get() == value
                        };
                        view! { <option value=value selected=selected>{format!("{} {}", place.code, place.name)}</option> }
                    })
                    .collect_view(),
            )
        };
        view! {
            <div class="two-columns">
                <label>
                    <span>{move || texts.get().kind}</span>
                    <select name="kind" on:change=move |event| kind.set(event_target_value(&event))>
                        {move || PlaceKind::ALL.iter().map(|known| {
                            let value = known.as_str();
                            view! { <option value=value selected=move || kind.get() == value>{texts.get().place_kind(*known)}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label>
                    <span>{move || texts.get().parent}</span>
                    <select name="parent" on:change=move |event| parent.set(event_target_value(&event))>
                        <option value="" selected=move || parent.get().is_empty()>{move || texts.get().nothing}</option>
                        {parents}
                    </select>
                </label>
                <label>
                    <span>{move || texts.get().name}</span>
                    <input name="name" required prop:value=name on:input=move |event| name.set(event_target_value(&event)) />
                </label>
                <label>
                    <span>{move || texts.get().code}</span>
                    <input name="code" required autocapitalize="characters" prop:value=code on:input=move |event| code.set(event_target_value(&event)) />
                    {editing.error_at("place-code")}
                </label>
            </div>
        }
        .into_any()
    }

    fn fill(self, place: &Place) {
        self.kind.set(place.kind.as_str().to_owned());
        self.name.set(place.name.clone());
        self.code.set(place.code.clone());
        self.parent.set(place.parent.as_ref().map(ToString::to_string).unwrap_or_default());
    }

    fn clear(self) {
        self.name.set(String::new());
        self.code.set(String::new());
    }

    fn read(self, catalog: &CatalogView, id: EntryId, texts: &AdminTexts) -> Result<Place, Refusal> {
        let (name, code) = (self.name.get_untracked().trim().to_owned(), self.code.get_untracked().trim().to_owned());
        if name.is_empty() || code.is_empty() {
            return Err(Refusal::Page(format!("{} / {}", texts.name, texts.code)));
        }
        if let Some(other) = catalog.label_taken(&code, &id) {
            return Err(Refusal::Field("place-code", texts.code_taken.replace("{}", other)));
        }
        let parent = EntryId::parse(&self.parent.get_untracked()).ok();
        if let Some(up) = parent.as_ref().and_then(|up| catalog.place(up.as_str()))
            && catalog.is_within(up, id.as_str())
        {
            return Err(Refusal::Page(format!("{}: {}", texts.parent, place_label(catalog, &up.id))));
        }
        Ok(Place { id, kind: PlaceKind::parse(&self.kind.get_untracked()).unwrap_or(PlaceKind::Room), parent, name, code })
    }

    fn put(catalog: &mut SiteCatalog, place: &Place, edit: &Edit) -> Result<(), DocumentError> {
        catalog.put_place(place, edit)
    }

    fn kept(self, catalog: &CatalogView, id: &EntryId, texts: &AdminTexts) -> Option<String> {
        let inside = catalog.places.iter().any(|place| place.parent.as_ref() == Some(id))
            || catalog.assets.iter().any(|asset| asset.place.as_ref() == Some(id));
        inside.then(|| texts.still_inside.to_owned())
    }

    fn above(self) -> Option<AnyView> {
        let app_texts = use_texts();
        let query = self.query;
        Some(
            view! {
                <label class="search-field">
                    <span>{move || app_texts.get().find_place}</span>
                    <input type="search" name="places-filter" autocomplete="off" prop:value=query on:input=move |event| query.set(event_target_value(&event)) />
                </label>
            }
            .into_any(),
        )
    }

    fn below(self) -> Option<AnyView> {
        let app_texts = use_texts();
        let show_all = self.show_all;
        let more = move || {
            let app_texts = app_texts.get();
            let (shown, total) = self.matching.get();
            (total > shown.len()).then(|| {
                view! {
                    <p class="muted place-note" data-place-note="">
                        {app_texts.more_places.replace("{}", &(total - shown.len()).to_string())} " "
                        <button type="button" class="link-button" data-action="show-all-places" on:click=move |_| show_all.set(true)>
                            {app_texts.show_all_places.replace("{}", &total.to_string())}
                        </button>
                    </p>
                }
            })
        };
        Some(more.into_any())
    }
}

/// The assets list: things with a tag that are repaired and checked.
#[derive(Clone, Copy)]
struct AssetEntries {
    chosen: RwSignal<BTreeSet<String>>,
    name: RwSignal<String>,
    asset_type: RwSignal<String>,
    tag: RwSignal<String>,
    place: RwSignal<String>,
    installed: RwSignal<String>,
}

impl AssetEntries {
    fn new(chosen: RwSignal<BTreeSet<String>>) -> AssetEntries {
        AssetEntries {
            chosen,
            name: RwSignal::new(String::new()),
            asset_type: RwSignal::new(String::new()),
            tag: RwSignal::new(String::new()),
            place: RwSignal::new(String::new()),
            installed: RwSignal::new(String::new()),
        }
    }
}

impl Entries for AssetEntries {
    type Entry = Asset;
    const LIST: CatalogList = CatalogList::Assets;
    const NAME: &'static str = "assets";
    const FORM: &'static str = "asset";
    const ID_PREFIX: &'static str = "asset";

    fn heading(texts: &AdminTexts) -> &'static str {
        texts.assets
    }

    fn id(asset: &Asset) -> &EntryId {
        &asset.id
    }

    fn listed(self, catalog: &CatalogView) -> Vec<(usize, Asset)> {
        catalog.assets.iter().map(|asset| (0, asset.clone())).collect()
    }

    fn header(texts: &AdminTexts) -> AnyView {
        view! { <tr><th></th><th>{format!("{} · {} · {}", texts.name, use_texts().get().asset_tag, texts.place)}</th><th></th></tr> }
            .into_any()
    }

    /// On a phone's width one cell holds the asset's name, tag and place, one under the
    /// other: in columns of their own the name was squeezed to a letter a line.
    fn row(self, catalog: &CatalogView, _depth: usize, asset: &Asset, actions: AnyView) -> AnyView {
        let located = asset.place.as_ref().map(|place| place_label(catalog, place)).unwrap_or_default();
        view! {
            <tr data-asset=asset.tag.clone()>
                <td><LabelChoice id=asset.id.to_string() chosen=self.chosen /></td>
                <td>
                    {asset.name.clone()} <span class="muted">{format!(" {}", asset.asset_type)}</span>
                    <br />
                    <span class="code">{asset.tag.clone()}</span> <span class="muted">{format!(" {located}")}</span>
                </td>
                {actions}
            </tr>
        }
        .into_any()
    }

    fn fields(self, editing: Editing, _editing_id: RwSignal<Option<EntryId>>) -> AnyView {
        let texts = use_admin_texts();
        let field_texts = use_texts();
        let AssetEntries { name, asset_type, tag, place, installed, .. } = self;
        view! {
            <div class="two-columns">
                <label>
                    <span>{move || texts.get().name}</span>
                    <input name="name" required prop:value=name on:input=move |event| name.set(event_target_value(&event)) />
                </label>
                <label>
                    <span>{move || texts.get().asset_type}</span>
                    <input name="type" required list="asset-types" prop:value=asset_type on:input=move |event| asset_type.set(event_target_value(&event)) />
                </label>
                <label>
                    <span>{move || field_texts.get().asset_tag}</span>
                    <input name="tag" required autocapitalize="characters" prop:value=tag on:input=move |event| tag.set(event_target_value(&event)) />
                    {editing.error_at("asset-tag")}
                </label>
                <label>
                    <span>{move || texts.get().installed}</span>
                    <input name="installed" type="date" prop:value=installed on:input=move |event| installed.set(event_target_value(&event)) />
                    {editing.error_at("asset-installed")}
                </label>
            </div>
            <PlacePicker catalog=editing.catalog.into() chosen=place label=Signal::derive(move || texts.get().place) none=Signal::derive(move || texts.get().nothing) />
            <datalist id="asset-types">
                {move || {
                    let mut types: Vec<String> = editing.catalog.get().map(|catalog| catalog.assets.iter().map(|asset| asset.asset_type.clone()).collect()).unwrap_or_default();
                    types.sort();
                    types.dedup();
                    types.into_iter().map(|known| view! { <option value=known></option> }).collect_view()
                }}
            </datalist>
        }
        .into_any()
    }

    fn fill(self, asset: &Asset) {
        self.name.set(asset.name.clone());
        self.asset_type.set(asset.asset_type.clone());
        self.tag.set(asset.tag.clone());
        self.place.set(asset.place.as_ref().map(ToString::to_string).unwrap_or_default());
        self.installed.set(asset.installed_at.map(Timestamp::date).unwrap_or_default());
    }

    fn clear(self) {
        self.name.set(String::new());
        self.tag.set(String::new());
        self.installed.set(String::new());
    }

    fn read(self, catalog: &CatalogView, id: EntryId, texts: &AdminTexts) -> Result<Asset, Refusal> {
        let (name, asset_type, tag) = (
            self.name.get_untracked().trim().to_owned(),
            self.asset_type.get_untracked().trim().to_owned(),
            self.tag.get_untracked().trim().to_owned(),
        );
        if name.is_empty() || asset_type.is_empty() || tag.is_empty() {
            return Err(Refusal::Page(format!(
                "{} / {} / {}",
                texts.name,
                texts.asset_type,
                crate::i18n::texts_in(crate::i18n::current_language()).asset_tag
            )));
        }
        if let Some(other) = catalog.label_taken(&tag, &id) {
            return Err(Refusal::Field("asset-tag", texts.code_taken.replace("{}", other)));
        }
        let date = self.installed.get_untracked();
        let installed_at = match date.trim() {
            "" => None,
            typed => {
                Some(Timestamp::parse_date(typed).ok_or_else(|| Refusal::Field("asset-installed", texts.not_a_date.replace("{}", &date)))?)
            }
        };
        Ok(Asset { id, name, asset_type, tag, place: EntryId::parse(&self.place.get_untracked()).ok(), installed_at })
    }

    fn put(catalog: &mut SiteCatalog, asset: &Asset, edit: &Edit) -> Result<(), DocumentError> {
        catalog.put_asset(asset, edit)
    }
}

/// The stock items list: what the store keeps.
#[derive(Clone, Copy)]
struct StockItemEntries {
    code: RwSignal<String>,
    name: RwSignal<String>,
    unit: RwSignal<String>,
    category: RwSignal<String>,
    bin: RwSignal<String>,
    reorder_point: RwSignal<String>,
}

impl StockItemEntries {
    fn new() -> StockItemEntries {
        StockItemEntries {
            code: RwSignal::new(String::new()),
            name: RwSignal::new(String::new()),
            unit: RwSignal::new(String::new()),
            category: RwSignal::new(StockCategory::Supplies.as_str().to_owned()),
            bin: RwSignal::new(String::new()),
            reorder_point: RwSignal::new(String::new()),
        }
    }
}

impl Entries for StockItemEntries {
    type Entry = StockItem;
    const LIST: CatalogList = CatalogList::StockItems;
    const NAME: &'static str = "stock-items";
    const FORM: &'static str = "stock-item";
    const ID_PREFIX: &'static str = "item";

    fn heading(texts: &AdminTexts) -> &'static str {
        texts.stock_items
    }

    fn id(item: &StockItem) -> &EntryId {
        &item.id
    }

    fn listed(self, catalog: &CatalogView) -> Vec<(usize, StockItem)> {
        catalog.stock_items.iter().map(|item| (0, item.clone())).collect()
    }

    fn header(texts: &AdminTexts) -> AnyView {
        view! { <tr><th>{texts.code}</th><th>{format!("{} · {}", texts.name, use_texts().get().bin)}</th><th></th></tr> }.into_any()
    }

    /// The bin and reorder point under the name, as the assets' tags are: a column of their
    /// own left each a few letters wide on a phone.
    fn row(self, _catalog: &CatalogView, _depth: usize, item: &StockItem, actions: AnyView) -> AnyView {
        let field_texts = use_texts().get();
        let shelf = [
            item.bin.clone().unwrap_or_default(),
            item.reorder_point.map(|point| format!("{} {point}", field_texts.reorder_point)).unwrap_or_default(),
        ]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" · ");
        view! {
            <tr data-item=item.code.clone()>
                <td class="code">{item.code.clone()}</td>
                <td>
                    {item.name.clone()} <span class="muted">{format!(" {} · {}", item.unit, field_texts.stock_category(&item.category))}</span>
                    <br />
                    <span class="muted">{shelf}</span>
                </td>
                {actions}
            </tr>
        }
        .into_any()
    }

    fn fields(self, editing: Editing, _editing_id: RwSignal<Option<EntryId>>) -> AnyView {
        let texts = use_admin_texts();
        let field_texts = use_texts();
        let StockItemEntries { code, name, unit, category, bin, reorder_point } = self;
        view! {
            <div class="two-columns">
                <label>
                    <span>{move || texts.get().code}</span>
                    <input name="code" required prop:value=code on:input=move |event| code.set(event_target_value(&event)) />
                    {editing.error_at("item-code")}
                </label>
                <label>
                    <span>{move || texts.get().name}</span>
                    <input name="name" required prop:value=name on:input=move |event| name.set(event_target_value(&event)) />
                </label>
                <label>
                    <span>{move || texts.get().unit}</span>
                    <input name="unit" required prop:value=unit on:input=move |event| unit.set(event_target_value(&event)) />
                </label>
                <label>
                    <span>{move || field_texts.get().bin}</span>
                    <input name="bin" prop:value=bin on:input=move |event| bin.set(event_target_value(&event)) />
                </label>
                <label>
                    <span>{move || field_texts.get().reorder_point}</span>
                    <input name="reorder_point" inputmode="decimal" prop:value=reorder_point on:input=move |event| reorder_point.set(event_target_value(&event)) />
                    {editing.error_at("item-reorder-point")}
                </label>
            </div>
            <label>
                <span>{move || field_texts.get().category_label}</span>
                <select name="category" on:change=move |event| category.set(event_target_value(&event))>
                    {move || StockCategory::ALL.iter().map(|known| known.as_str()).map(|known| view! { <option value=known selected=move || category.get() == known>{field_texts.get().stock_category(known)}</option> }).collect_view()}
                </select>
            </label>
        }
        .into_any()
    }

    fn fill(self, item: &StockItem) {
        self.code.set(item.code.clone());
        self.name.set(item.name.clone());
        self.unit.set(item.unit.clone());
        self.category.set(item.category.clone());
        self.bin.set(item.bin.clone().unwrap_or_default());
        self.reorder_point.set(item.reorder_point.map(|point| point.to_string()).unwrap_or_default());
    }

    fn clear(self) {
        self.code.set(String::new());
        self.name.set(String::new());
        self.bin.set(String::new());
        self.reorder_point.set(String::new());
    }

    fn read(self, catalog: &CatalogView, id: EntryId, texts: &AdminTexts) -> Result<StockItem, Refusal> {
        let (code, name, unit, bin) = (
            self.code.get_untracked().trim().to_owned(),
            self.name.get_untracked().trim().to_owned(),
            self.unit.get_untracked().trim().to_owned(),
            self.bin.get_untracked().trim().to_owned(),
        );
        if code.is_empty() || name.is_empty() || unit.is_empty() {
            return Err(Refusal::Page(format!("{} / {} / {}", texts.code, texts.name, texts.unit)));
        }
        if let Some(other) = catalog.stock_code_taken(&code, &id) {
            return Err(Refusal::Field("item-code", texts.code_taken.replace("{}", other)));
        }
        let reorder_point = match self.reorder_point.get_untracked().trim() {
            "" => None,
            typed => Some(
                typed
                    .parse::<Quantity>()
                    .ok()
                    .filter(|quantity| !quantity.is_negative())
                    .ok_or_else(|| Refusal::Field("item-reorder-point", texts.not_a_number.replace("{}", typed)))?,
            ),
        };
        Ok(StockItem {
            id,
            code,
            name,
            unit,
            category: self.category.get_untracked(),
            bin: (!bin.is_empty()).then_some(bin),
            reorder_point,
        })
    }

    fn put(catalog: &mut SiteCatalog, item: &StockItem, edit: &Edit) -> Result<(), DocumentError> {
        catalog.put_stock_item(item, edit)
    }
}

fn template_state(texts: &AdminTexts, template: &TemplateRef) -> String {
    if template.is_published() { format!("{} {}", texts.version, template.version) } else { texts.draft_only.to_owned() }
}

/// The site's checklists, and a new one started as a draft.
#[component]
fn Checklists(editing: Editing) -> impl IntoView {
    let texts = use_admin_texts();
    let current = use_session();
    let replica = editing.replica;
    let navigate = use_navigate();
    let name_zh = RwSignal::new(String::new());
    let name_en = RwSignal::new(String::new());
    let category = RwSignal::new(ChecklistCategory::FireSafety.as_str().to_owned());
    let create = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(session) = current.session.get_untracked() else { return };
        let texts = texts.get_untracked();
        let name = Label { zh: name_zh.get_untracked().trim().to_owned(), en: name_en.get_untracked().trim().to_owned() };
        if name.zh.is_empty() && name.en.is_empty() {
            return editing.fail(format!("{} / {}", texts.name_zh, texts.name_en));
        }
        let site = editing.site.get_untracked();
        let chosen = category.get_untracked();
        let navigate = navigate.clone();
        spawn_local(async move {
            let outcome = async {
                let site_id = SiteId::parse(&site)?;
                let edit = edit_now(&session.user.username)?;
                let actor = replica.device_actor().ok_or(AppError::SignedOut)?;
                let first = Section { id: entry_id("section"), order: 0, title: Label::new(&name.zh, &name.en) };
                let template = ChecklistTemplate::create_draft(actor, &site_id, &name, &chosen, first, &edit)?;
                let id = crate::replica::new_document_id();
                replica.create(id, template.into_doc()).await?;
                let reference = TemplateRef {
                    document: id.url(),
                    name_zh: name.zh.clone(),
                    name_en: name.en.clone(),
                    category: chosen.clone(),
                    version: 0,
                };
                change_catalog(editing.replica, &session, &site, move |catalog, edit| catalog.put_template(&reference, edit)).await?;
                Ok::<_, AppError>(id)
            }
            .await;
            match outcome {
                Ok(id) => navigate(&format!("/admin/templates/{id}"), Default::default()),
                Err(error) => editing.fail(error.to_string()),
            }
        });
    };
    let field_texts = use_texts();
    let rows = move || {
        let texts = texts.get();
        let catalog = editing.catalog.get()?;
        Some(
            catalog
                .templates
                .iter()
                .map(|template| {
                    let href = shared::protocol::DocumentId::parse(&template.document).map(|id| format!("/admin/templates/{id}")).unwrap_or_default();
                    view! {
                        <li data-template=template.name_en.clone() data-version=template.version.to_string()>
                            <a href=href>{format!("{} · {}", template.name_zh, template.name_en)}</a>
                            <span class="muted">{format!(" {} · {}", field_texts.get().checklist_category(&template.category), template_state(texts, template))}</span>
                        </li>
                    }
                })
                .collect_view(),
        )
    };
    view! {
        <section class="card" aria-labelledby="checklists">
            <h2 id="checklists">{move || texts.get().checklists}</h2>
            <ul class="admin-list" data-list="checklists">{rows}</ul>
            <form class="form" data-form="new-checklist" on:submit=create>
                <h3>{move || texts.get().new_checklist}</h3>
                <ChecklistFields zh=name_zh en=name_en category=category />
                <button type="submit" class="primary">{move || texts.get().create}</button>
            </form>
        </section>
    }
}

/// Rounds to walk: a published checklist at a place, every so many days, weeks or months.
#[component]
fn Schedules(editing: Editing) -> impl IntoView {
    let texts = use_admin_texts();
    let template = RwSignal::new(String::new());
    let place = RwSignal::new(String::new());
    let count = RwSignal::new("1".to_owned());
    let unit = RwSignal::new("week".to_owned());
    let starts = RwSignal::new(String::new());
    let weekdays = RwSignal::new(Weekdays::NONE);
    let day_of_month = RwSignal::new(String::new());
    let slots = RwSignal::new(String::new());
    let save = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let texts = texts.get_untracked();
        let Some(catalog) = editing.catalog.get_untracked() else { return };
        let chosen_template = Some(template.get_untracked())
            .filter(|chosen| !chosen.is_empty())
            .or_else(|| catalog.templates.iter().find(|known| known.is_published()).map(|known| known.document.clone()));
        let (Some(chosen_template), Ok(chosen_place)) = (chosen_template, EntryId::parse(&place.get_untracked())) else {
            return editing.fail(format!("{} / {}", texts.checklists, texts.place));
        };
        let every = match count.get_untracked().trim().parse::<i64>() {
            Ok(count) => match Every::from_parts(count, &unit.get_untracked(), "every") {
                Ok(every) => every,
                Err(error) => return editing.fail(error.to_string()),
            },
            Err(error) => return editing.fail(error.to_string()),
        };
        // A start date is local midnight; without one, the schedule starts today.
        let start = Timestamp::parse_date(&starts.get_untracked())
            .map(|midnight| midnight.plus_millis(js_sys::Date::new_0().get_timezone_offset() as i64 * 60_000))
            .unwrap_or_else(crate::edits::now);
        let day_of_month = match day_of_month.get_untracked().trim() {
            "" => None,
            typed => match typed.parse::<u8>() {
                Ok(day) => Some(day),
                Err(_) => return editing.fail_at("day_of_month", texts.day_of_month),
            },
        };
        let Ok(slots) = Slot::parse_all(&slots.get_untracked()) else { return editing.fail_at("slots", texts.slots_hint) };
        let pattern = Pattern { weekdays: weekdays.get_untracked(), day_of_month, slots };
        if let Err(error) = pattern.check(every) {
            return editing.fail(error.to_string());
        }
        let schedule = Schedule { id: entry_id("schedule"), template: chosen_template, place: chosen_place, every, start, pattern };
        editing.save(move |catalog, edit| catalog.put_schedule(&schedule, edit), move || weekdays.set(Weekdays::NONE));
    };
    let remove = move |id: EntryId| editing.save(move |catalog, edit| catalog.remove(CatalogList::Schedules, id.as_str(), edit), || {});
    let rows = move || {
        let texts = texts.get();
        let catalog = editing.catalog.get()?;
        Some(
            catalog
                .schedules
                .iter()
                .map(|schedule| {
                    let checklist = catalog.templates.iter().find(|known| known.document == schedule.template).map(|known| format!("{} · {}", known.name_zh, known.name_en)).unwrap_or_default();
                    let (count, _) = schedule.every.parts();
                    let unit = texts.unit(schedule.every);
                    let to_remove = schedule.id.clone();
                    let pattern = &schedule.pattern;
                    let days: Vec<&str> = pattern.weekdays.days().map(|day| texts.weekday_names[usize::from(day - 1)]).collect();
                    let mut when = String::new();
                    if !days.is_empty() {
                        when.push_str(&format!(" · {}", days.join(" ")));
                    }
                    if let Some(day) = pattern.day_of_month {
                        when.push_str(&format!(" · {}", texts.on_day_of_month.replace("{}", &day.to_string())));
                    }
                    if !pattern.slots.is_empty() {
                        when.push_str(&format!(" · {}", Slot::text_of(&pattern.slots)));
                    }
                    view! {
                        <li data-schedule=schedule.id.to_string()>
                            {checklist} " @ " {place_label(&catalog, &schedule.place)}
                            <span class="muted">{format!(" · {} {count} {unit}{when} · {}", texts.every, schedule.start.date())}</span>
                            " "
                            <button type="button" class="link-button danger" data-action="remove" on:click=move |_| remove(to_remove.clone())>{texts.remove}</button>
                        </li>
                    }
                })
                .collect_view(),
        )
    };
    view! {
        <section class="card" aria-labelledby="schedules">
            <h2 id="schedules">{move || texts.get().schedules}</h2>
            <ul class="admin-list" data-list="schedules">{rows}</ul>
            <form class="form" data-form="schedule" on:submit=save>
                <label>
                    <span>{move || texts.get().checklists}</span>
                    <select name="template" on:change=move |event| template.set(event_target_value(&event))>
                        {move || editing.catalog.get().map(|catalog| catalog.templates.iter().filter(|known| known.is_published()).map(|known| {
                            let value = known.document.clone();
                            let selected = {
                                let value = value.clone();
                                move || template.get() == value
                            };
                            view! { <option value=value selected=selected>{format!("{} · {}", known.name_zh, known.name_en)}</option> }
                        }).collect_view())}
                    </select>
                </label>
                <PlacePicker catalog=editing.catalog.into() chosen=place label=Signal::derive(move || texts.get().place) none=Signal::stored("—") />
                <div class="two-columns">
                    <label>
                        <span>{move || texts.get().every}</span>
                        <input name="every" type="number" min="1" inputmode="numeric" prop:value=count on:input=move |event| count.set(event_target_value(&event)) />
                    </label>
                    <label>
                        <span>"\u{a0}"</span>
                        <select name="unit" on:change=move |event| unit.set(event_target_value(&event))>
                            {move || [Every::Days(1), Every::Weeks(1), Every::Months(1)].into_iter().map(|every| view! { <option value=every.parts().1 selected=move || unit.get() == every.parts().1>{texts.get().unit(every)}</option> }).collect_view()}
                        </select>
                    </label>
                </div>
                <fieldset class="weekdays" data-field="weekdays">
                    <legend>{move || texts.get().on_weekdays}</legend>
                    {(1..=7u8).map(|day| view! {
                        <label class="check">
                            <input
                                type="checkbox"
                                name="weekday"
                                value=day.to_string()
                                prop:checked=move || weekdays.get().contains(day)
                                on:change=move |event| {
                                    let on = event_target_checked(&event);
                                    weekdays.update(|days| *days = if on { days.with(day) } else { days.without(day) });
                                }
                            />
                            <span>{move || texts.get().weekday_names[usize::from(day - 1)]}</span>
                        </label>
                    }).collect_view()}
                </fieldset>
                <label>
                    <span>{move || texts.get().day_of_month}</span>
                    <input name="day_of_month" type="number" min="1" max="31" inputmode="numeric" prop:value=day_of_month on:input=move |event| day_of_month.set(event_target_value(&event)) />
                    {editing.error_at("day_of_month")}
                </label>
                <label>
                    <span>{move || texts.get().slots}</span>
                    <input name="slots" prop:value=slots prop:placeholder=move || texts.get().slots_hint on:input=move |event| slots.set(event_target_value(&event)) />
                    {editing.error_at("slots")}
                </label>
                <p>
                    <button type="button" class="link-button" data-action="meal-slots" on:click=move |_| slots.set(texts.get_untracked().meals.to_owned())>
                        {move || texts.get().meal_slots}
                    </button>
                </p>
                <label>
                    <span>{move || texts.get().starts}</span>
                    <input name="starts" type="date" prop:value=starts on:input=move |event| starts.set(event_target_value(&event)) />
                </label>
                <button type="submit" class="primary">{move || texts.get().add_schedule}</button>
            </form>
        </section>
    }
}
