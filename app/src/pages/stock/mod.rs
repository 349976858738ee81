//! The store: on-hand quantities and their value at average cost (derived from the site
//! catalog's ledger), recording stock movements — receive (at a price, from a supplier),
//! issue to a department or a work order, scrap — offline, starting a
//! stocktake with its snapshot of expected quantities, and the stocktakes on this phone.
//! Items below zero are flagged and items at or below their reorder point listed; each item
//! opens its movement history (`history`). `page` is one stocktake: counting, review and
//! approval.

pub mod history;
pub mod page;

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use shared::cost::Valuation;
use shared::directory::Role;
use shared::directory::SiteId;
use shared::document::DocumentType;
use shared::document::catalog::{CatalogView, IndexEntry, MovementKind, Purchase, SiteCatalog};
use shared::document::stocktake::{Kind, Mode, NewStocktake, Phase, Stocktake, StocktakeView};
use shared::document::{DocumentError, EntryId};
use shared::money::Money;
use shared::protocol::DocumentId;
use shared::quantity::Quantity;

use crate::edits::{catalog_of, edit_now, entry_id, index_in_catalog, read_catalog};
use crate::error::AppError;
use crate::fields::SiteChoice;
use crate::i18n::{Texts, use_texts};
use crate::pages::costs::use_cost_texts;
use crate::replica::{Replica, use_replica};
use crate::session::{Session, SessionSite, use_session};

/// A stocktake the phone holds, read once per change (see `Replica::read_kept`).
pub(crate) fn read_stocktake(replica: Replica, id: &DocumentId) -> Option<Arc<StocktakeView>> {
    replica.read_kept(id)
}

impl crate::replica::Reading for StocktakeView {
    fn read(doc: &automerge::AutoCommit) -> Option<StocktakeView> {
        Stocktake::read_doc(doc).ok()
    }
}

/// Stocktakes waiting for this person, for the to-do page: those being counted at a site
/// where they keep the store (storekeepers), and those closed and waiting for approval at
/// a site they manage.
#[component]
pub fn StocktakesWaiting() -> impl IntoView {
    let texts = use_texts();
    let current = use_session();
    let replica = use_replica();
    let waiting = move || {
        let _ = replica.revision.get();
        let Some(session) = current.session.get() else { return Vec::new() };
        let role_at = |site: &str| session.sites.iter().find(|known| known.id == site).map(|known| known.role);
        let mut found: Vec<(DocumentId, Arc<StocktakeView>)> = replica
            .document_ids()
            .into_iter()
            .filter_map(|id| Some((id, read_stocktake(replica, &id)?)))
            .filter(|(_, stocktake)| {
                matches!(
                    (stocktake.phase, role_at(stocktake.header.site.as_str())),
                    (Phase::Counting, Some(Role::Storekeeper)) | (Phase::Closed, Some(Role::Manager | Role::Admin))
                )
            })
            .collect();
        found.sort_by_key(|(_, stocktake)| stocktake.header.created_at);
        found
    };
    view! {
        <Show when=move || !waiting().is_empty()>
            <section class="card" aria-labelledby="stocktakes-waiting">
                <h2 id="stocktakes-waiting">{move || format!("{} ({})", texts.get().stocktakes, waiting().len())}</h2>
                <ul class="orders" data-list="stocktakes-waiting">
                    {move || {
                        let texts = texts.get();
                        let mut rows = waiting();
                        rows.truncate(crate::pages::COMPACT_ROWS);
                        rows.into_iter()
                            .map(|(id, stocktake)| view! {
                                <li class="order-line" data-document=id.to_string()>
                                    <a href=format!("/stocktakes/{id}")>{stocktake.location.clone()}</a>
                                    <span class="badge">{phase_text(texts, stocktake.phase)}</span>
                                    {crate::inbox::new_mark(id)}
                                </li>
                            })
                            .collect_view()
                    }}
                </ul>
                <a class="see-all" href=shared::routes::AppRoute::Stocktakes.pattern() data-action="all-stocktakes">{move || texts.get().see_all}</a>
            </section>
        </Show>
    }
}

/// Stock to reorder at the sites where this person keeps the store, for the to-do page.
#[component]
pub fn ReorderWaiting() -> impl IntoView {
    let texts = use_texts();
    let current = use_session();
    let replica = use_replica();
    let low = move || {
        let _ = replica.revision.get();
        let Some(session) = current.session.get() else { return Vec::new() };
        let mut found = Vec::new();
        for site in session.sites.iter().filter(|site| site.role == Role::Storekeeper) {
            let Some(catalog) = catalog_of(&session, &site.id).and_then(|id| read_catalog(replica, &id)) else { continue };
            for (item, quantity) in catalog.to_reorder() {
                found.push((site.id.clone(), item.id.to_string(), format!("{} {} · {quantity} {}", item.code, item.name, item.unit)));
            }
        }
        found
    };
    view! {
        <Show when=move || !low().is_empty()>
            <section class="card" aria-labelledby="reorder-waiting">
                <h2 id="reorder-waiting">{move || format!("{} ({})", texts.get().to_reorder, low().len())}</h2>
                <ul class="orders" data-list="reorder-waiting">
                    {move || {
                        let mut rows = low();
                        rows.truncate(crate::pages::COMPACT_ROWS);
                        rows.into_iter()
                            .map(|(site, item, line)| view! { <li class="order-line"><a href=format!("/stock/{site}/{item}")>{line}</a></li> })
                            .collect_view()
                    }}
                </ul>
                <a class="see-all" href=shared::routes::AppRoute::Store.pattern() data-action="all-stock">{move || texts.get().see_all}</a>
            </section>
        </Show>
    }
}

pub(crate) fn phase_text(texts: &Texts, phase: Phase) -> &'static str {
    match phase {
        Phase::Counting => texts.phase_counting,
        Phase::Closed => texts.phase_closed,
        Phase::Approved => texts.phase_approved,
    }
}

fn movement_text(texts: &Texts, kind: MovementKind) -> &'static str {
    match kind {
        MovementKind::Receive => texts.movement_receive,
        MovementKind::Issue => texts.movement_issue,
        MovementKind::Scrap => texts.movement_scrap,
        MovementKind::Adjust => texts.movement_adjust,
    }
}

/// The expected quantities of a new stocktake: every stock item in scope (a category, or
/// all), with its on-hand quantity now (zero if it never moved).
fn snapshot(catalog: &CatalogView, category: &str) -> Vec<(String, Quantity)> {
    let on_hand = catalog.on_hand();
    catalog
        .stock_items
        .iter()
        .filter(|item| category.is_empty() || item.category == category)
        .map(|item| (item.id.to_string(), on_hand.get(&item.id).copied().unwrap_or_default()))
        .collect()
}

/// What a refused movement tells the person, in their language.
pub(crate) fn movement_refusal(texts: &Texts, catalog: &CatalogView, error: &DocumentError) -> String {
    match error {
        DocumentError::NotEnoughStock { item, on_hand, wanted } => {
            let (name, unit) = catalog
                .stock_items
                .iter()
                .find(|known| known.id.as_str() == item)
                .map_or((item.as_str(), ""), |known| (known.name.as_str(), known.unit.as_str()));
            texts
                .not_enough_stock
                .replace("{item}", name)
                .replace("{on_hand}", &format!("{on_hand} {unit}"))
                .replace("{wanted}", &format!("{wanted} {unit}"))
        }
        other => other.to_string(),
    }
}

/// Issues a work order's parts from its site's store, as far as the ledger has not yet
/// (`SiteCatalog::issue_parts`); nothing to do where the phone lacks the site's catalog.
pub(crate) async fn issue_order_parts(replica: Replica, session: &Session, order: DocumentId) -> Result<(), AppError> {
    let Some(view) = crate::pages::orders::read_order(replica, &order) else { return Ok(()) };
    if view.parts.is_empty() {
        return Ok(());
    }
    let Some(catalog) = catalog_of(session, view.header.site.as_str()) else { return Ok(()) };
    let parts = view.parts.clone();
    replica
        .edit(&catalog, |doc| {
            let edit = edit_now(&session.user.username)?;
            SiteCatalog::edit_in(doc, |catalog| catalog.issue_parts(&order.url(), &parts, &edit))??;
            Ok(())
        })
        .await
}

/// What a stocktake is started for: where it is counted, what (stock of a category, or
/// all of it; or the fixed assets), and whether counters see what is expected.
struct Plan<'a> {
    location: &'a str,
    category: &'a str,
    mode: Mode,
    kind: Kind,
}

/// Starts a stock count (of a category, or everything) or a fixed-asset audit (of every
/// asset with a place), with its snapshot, and lists it in the site's index.
async fn start_stocktake(
    replica: Replica,
    session: &Session,
    site: &str,
    catalog: &CatalogView,
    plan: Plan<'_>,
) -> Result<DocumentId, AppError> {
    let Plan { location, category, mode, kind } = plan;
    let edit = edit_now(&session.user.username)?;
    let (expected, assets) = match kind {
        Kind::Stock => (snapshot(catalog, category), Vec::new()),
        Kind::Assets => (
            Vec::new(),
            catalog.assets.iter().filter_map(|asset| Some((asset.id.to_string(), asset.place.as_ref()?.to_string()))).collect(),
        ),
    };
    let new = NewStocktake { site: SiteId::parse(site)?, location: location.trim().to_owned(), mode, expected, assets };
    let actor = replica.device_actor().ok_or(AppError::SignedOut)?;
    let stocktake = Stocktake::start(actor, &new, &edit)?;
    let id = crate::replica::new_document_id();
    replica.create(id, stocktake.into_doc()).await?;
    let entry = IndexEntry {
        document: id.url(),
        document_type: DocumentType::Stocktake,
        title: new.location.clone(),
        status: "counting".to_owned(),
        location: new.location.clone(),
        updated_at: edit.at,
    };
    index_in_catalog(replica, session, site, entry, &edit).await?;
    Ok(id)
}

/// What the store's parts share: the site chosen among those where the person keeps the
/// store, and its catalog on this phone.
#[derive(Clone, Copy)]
struct Store {
    site: RwSignal<String>,
    sites: Signal<Vec<SessionSite>>,
    chosen: Memo<Option<String>>,
    catalog: Memo<Option<Arc<CatalogView>>>,
    replica: Replica,
}

impl Store {
    fn new() -> Store {
        let current = use_session();
        let replica = use_replica();
        let site = RwSignal::new(String::new());
        let sites = Signal::derive(move || {
            current
                .session
                .get()
                .map(|session| session.sites.into_iter().filter(|site| site.role.keeps_store()).collect::<Vec<_>>())
                .unwrap_or_default()
        });
        let chosen = Memo::new(move |_| {
            let wanted = site.get();
            sites.with(|sites| sites.iter().find(|known| known.id == wanted).or(sites.first()).map(|known| known.id.to_string()))
        });
        let catalog = Memo::new(move |_| {
            let _ = replica.revision.get();
            read_catalog(replica, &catalog_of(&current.session.get()?, &chosen.get()?)?)
        });
        Store { site, sites, chosen, catalog, replica }
    }
}

#[component]
pub fn StoreCard(
    /// Stock on hand, what to reorder, and recording movements.
    #[prop(default = true)]
    stock: bool,
    /// The stocktakes, and starting one.
    #[prop(default = true)]
    stocktakes: bool,
) -> impl IntoView {
    let texts = use_texts();
    let store = Store::new();
    view! {
        <Show when=move || !store.sites.with(Vec::is_empty)>
            <section class="card" aria-labelledby="store">
                <h2 id="store">{move || if stock { texts.get().on_hand } else { texts.get().all_stocktakes }}</h2>
                <SiteChoice sites=store.sites chosen=store.site name="store-site" class="filter" />
                <Show when=move || stock>
                    <OnHand store=store />
                    <h3>{move || texts.get().record_movement}</h3>
                    <MovementForm store=store />
                </Show>
                <Show when=move || stocktakes>
                    <Show when=move || stock>
                        <h3>{move || texts.get().stocktakes}</h3>
                    </Show>
                    <StocktakeList />
                    <StartStocktake store=store />
                </Show>
            </section>
        </Show>
    }
}

/// Stock on hand at the chosen site, found by name or code, with what to reorder above it.
#[component]
fn OnHand(store: Store) -> impl IntoView {
    let texts = use_texts();
    let cost_texts = use_cost_texts();
    let search = RwSignal::new(String::new());
    let Store { catalog, .. } = store;
    let chosen_site = move || store.chosen.get();
    let on_hand = move || {
        let texts = texts.get();
        let wanted = search.get().trim().to_lowercase();
        let site = chosen_site().unwrap_or_default();
        catalog.get().map(|catalog| {
            let valuation = Valuation::of(&catalog.ledger);
            catalog
                .stock_items
                .iter()
                .filter(|known| wanted.is_empty() || known.name.to_lowercase().contains(&wanted) || known.code.to_lowercase().contains(&wanted))
                .map(|known| {
                    let holding = valuation.items.get(&known.id).copied().unwrap_or_default();
                    let quantity = holding.quantity;
                    let negative = quantity.is_negative();
                    let low = !negative && known.reorder_point.is_some_and(|point| quantity <= point);
                    view! {
                        <tr data-stock=known.id.to_string() class:flagged=negative>
                            <td class="code">{known.code.clone()}</td>
                            <td><a href=format!("/stock/{site}/{}", known.id)>{known.name.clone()}</a></td>
                            <td class="number" data-on-hand=quantity.to_string()>
                                {format!("{quantity} {}", known.unit)}
                                {negative.then(|| view! { <span class="badge badge-overdue" data-negative="yes">{texts.below_zero}</span> })}
                                {low.then(|| view! { <span class="badge badge-local" data-reorder="yes">{texts.to_reorder}</span> })}
                                <span class="muted stock-value" data-value=holding.value.fen().to_string()>
                                    {format!("{} · {} {}", holding.value, cost_texts.get().average_cost, holding.unit_cost())}
                                </span>
                            </td>
                        </tr>
                    }
                })
                .collect_view()
                .into_any()
        })
        .unwrap_or_else(|| view! { <tr><td colspan="3" class="muted">{texts.catalog_not_here}</td></tr> }.into_any())
    };
    // Items at or below their reorder point, above the table: what to order.
    let reorder = move || {
        let texts = texts.get();
        let catalog = catalog.get()?;
        let low = catalog.to_reorder();
        (!low.is_empty()).then(|| {
            let lines = low
                .iter()
                .map(|(known, quantity)| {
                    let point = known.reorder_point.unwrap_or_default();
                    view! { <li data-reorder-item=known.id.to_string()>{format!("{} {} · {quantity} {} ({} {point})", known.code, known.name, known.unit, texts.reorder_point)}</li> }
                })
                .collect_view();
            view! {
                <div class="warning-card reorder" data-list="reorder">
                    <h3>{format!("{} ({})", texts.to_reorder, low.len())}</h3>
                    <ul>{lines}</ul>
                </div>
            }
        })
    };
    view! {
        <label class="filter search">
            <span>{move || texts.get().search}</span>
            <input type="search" name="stock-search" prop:value=search on:input=move |event| search.set(event_target_value(&event)) />
        </label>
        {reorder}
        {move || catalog.get().map(|catalog| {
            let total = Valuation::of(&catalog.ledger).total();
            view! { <p class="cost-total" data-stock-value=total.fen().to_string()><span>{cost_texts.get().stock_value}</span><strong>{total.to_string()}</strong></p> }
        })}
        <table class="stock-table">
            <thead><tr><th>{move || texts.get().code}</th><th>{move || texts.get().stock_item}</th><th class="number">{move || texts.get().on_hand}</th></tr></thead>
            <tbody>{on_hand}</tbody>
        </table>
    }
}

/// Recording an issue, a receipt or scrap of one item.
#[component]
fn MovementForm(store: Store) -> impl IntoView {
    let texts = use_texts();
    let cost_texts = use_cost_texts();
    let current = use_session();
    let Store { catalog, replica, .. } = store;
    let chosen_site = move || store.chosen.get_untracked();
    let kind = RwSignal::new(MovementKind::Issue.as_str().to_owned());
    let item = RwSignal::new(String::new());
    let quantity = RwSignal::new(String::new());
    let reference = RwSignal::new(String::new());
    let (price, supplier) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let receiving = move || kind.with(|kind| kind == MovementKind::Receive.as_str());
    let error = RwSignal::new(None::<String>);
    let record = Callback::new(move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let (Some(session), Some(site_id)) = (current.session.get_untracked(), chosen_site()) else { return };
        let Some(catalog_id) = catalog_of(&session, &site_id) else { return };
        let texts = texts.get_untracked();
        let cost_texts = cost_texts.get_untracked();
        let (kind, item_id, amount, note) =
            (kind.get_untracked(), item.get_untracked(), quantity.get_untracked(), reference.get_untracked());
        let (typed_price, typed_supplier) = (price.get_untracked(), supplier.get_untracked());
        spawn_local(async move {
            let outcome = async {
                let kind = MovementKind::parse(&kind)?;
                let unit_cost = match typed_price.trim() {
                    "" => None,
                    typed => Some(
                        typed
                            .parse::<Money>()
                            .ok()
                            .filter(|price| !price.is_negative())
                            .ok_or_else(|| AppError::Invalid(cost_texts.price_needed.to_owned()))?,
                    ),
                };
                let purchase = Purchase { unit_cost, supplier: Some(typed_supplier.trim().to_owned()).filter(|name| !name.is_empty()) };
                let item_id = EntryId::parse(&item_id).map_err(|_| AppError::Invalid(texts.choose_item.to_owned()))?;
                let amount = amount
                    .trim()
                    .parse::<Quantity>()
                    .ok()
                    .filter(|amount| *amount > Quantity::ZERO)
                    .ok_or_else(|| AppError::Invalid(texts.quantity_needed.to_owned()))?;
                replica
                    .edit(&catalog_id, |doc| {
                        let edit = edit_now(&session.user.username)?;
                        SiteCatalog::edit_in(doc, |catalog| {
                            let recorded = if kind == MovementKind::Receive {
                                catalog.receive(&entry_id("move"), &item_id, amount, &purchase, note.trim(), &edit)
                            } else {
                                catalog.record_movement(&entry_id("move"), kind, &item_id, amount, note.trim(), &edit)
                            };
                            recorded.map_err(|error| match catalog.read() {
                                Ok(view) => AppError::Invalid(movement_refusal(texts, &view, &error)),
                                Err(_) => AppError::Document(error),
                            })
                        })?
                    })
                    .await
            }
            .await;
            match outcome {
                Ok(()) => {
                    for field in [quantity, reference, price, supplier] {
                        field.set(String::new());
                    }
                    error.set(None);
                }
                Err(message) => error.set(Some(message.to_string())),
            }
        });
    });
    let item_options = move || {
        catalog.get().map(|catalog| {
            catalog
                .stock_items
                .iter()
                .map(|known| {
                    let id = known.id.to_string();
                    view! { <option value=known.id.to_string() selected=move || item.with(|chosen| *chosen == id)>{format!("{} {} ({})", known.code, known.name, known.unit)}</option> }
                })
                .collect_view()
        })
    };
    view! {
        <form class="form" data-form="movement" on:submit=move |event| record.run(event)>
            <div class="two-columns">
                <label>
                    <span>{move || texts.get().movement}</span>
                    <select name="kind" on:change=move |event| kind.set(event_target_value(&event))>
                        {move || {
                            let texts = texts.get();
                            [MovementKind::Issue, MovementKind::Receive, MovementKind::Scrap]
                                .into_iter()
                                .map(|known| view! { <option value=known.as_str()>{movement_text(texts, known)}</option> })
                                .collect_view()
                        }}
                    </select>
                </label>
                <label>
                    <span>{move || texts.get().quantity}</span>
                    <input name="quantity" inputmode="decimal" prop:value=quantity on:input=move |event| quantity.set(event_target_value(&event)) />
                </label>
            </div>
            <label>
                <span>{move || texts.get().stock_item}</span>
                <select name="item" prop:value=move || item.get() on:change=move |event| item.set(event_target_value(&event))>
                    <option value="">"—"</option>
                    {item_options}
                </select>
            </label>
            <label>
                <span>{move || texts.get().movement_reference}</span>
                <input name="reference" prop:value=reference on:input=move |event| reference.set(event_target_value(&event)) />
            </label>
            <Show when=receiving>
                <div class="two-columns">
                    <label>
                        <span>{move || cost_texts.get().unit_price}</span>
                        <input name="unit_price" inputmode="decimal" prop:value=price on:input=move |event| price.set(event_target_value(&event)) />
                    </label>
                    <label>
                        <span>{move || cost_texts.get().supplier}</span>
                        <input name="supplier" prop:value=supplier on:input=move |event| supplier.set(event_target_value(&event)) />
                    </label>
                </div>
            </Show>
            {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
            <button type="submit" class="primary">{move || texts.get().record}</button>
        </form>
    }
}

/// Every stocktake on this phone, newest first.
#[component]
fn StocktakeList() -> impl IntoView {
    let texts = use_texts();
    let replica = use_replica();
    let all_stocktakes = move || {
        let _ = replica.revision.get();
        let mut found: Vec<(DocumentId, Arc<StocktakeView>)> =
            replica.document_ids().into_iter().filter_map(|id| Some((id, read_stocktake(replica, &id)?))).collect();
        found.sort_by_key(|(_, stocktake)| std::cmp::Reverse(stocktake.header.created_at));
        found
    };
    view! {
        <ul class="orders" data-list="stocktakes">
            {move || {
                let texts = texts.get();
                all_stocktakes()
                    .into_iter()
                    .map(|(id, stocktake)| view! {
                        <li class="order-line" data-document=id.to_string()>
                            <a href=format!("/stocktakes/{id}")>{stocktake.location.clone()}</a>
                            <span class="badge" data-phase=format!("{:?}", stocktake.phase).to_lowercase()>{phase_text(texts, stocktake.phase)}</span>
                        </li>
                    })
                    .collect_view()
            }}
        </ul>
    }
}

/// Starting a stocktake of stock items or assets, at a location, of a category, blind or
/// open.
#[component]
fn StartStocktake(store: Store) -> impl IntoView {
    let texts = use_texts();
    let current = use_session();
    let navigate = use_navigate();
    let Store { catalog, .. } = store;
    let chosen_site = move || store.chosen.get_untracked();
    let location = RwSignal::new(String::new());
    let category = RwSignal::new(String::new());
    let mode = RwSignal::new(Mode::Blind.as_str().to_owned());
    let what = RwSignal::new(Kind::Stock.as_str().to_owned());
    let error = RwSignal::new(None::<String>);
    let start = Callback::new(move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let (Some(session), Some(site_id), Some(catalog)) = (current.session.get_untracked(), chosen_site(), catalog.get_untracked())
        else {
            return;
        };
        let (place, scope, chosen_mode) =
            (location.get_untracked(), category.get_untracked(), Mode::parse(&mode.get_untracked()).unwrap_or(Mode::Blind));
        let kind = Kind::parse(&what.get_untracked()).unwrap_or(Kind::Stock);
        let navigate = navigate.clone();
        spawn_local(async move {
            let location = if place.trim().is_empty() { &catalog.name } else { &place };
            let plan = Plan { location, category: &scope, mode: chosen_mode, kind };
            match start_stocktake(store.replica, &session, &site_id, &catalog, plan).await {
                Ok(id) => navigate(&format!("/stocktakes/{id}"), Default::default()),
                Err(message) => error.set(Some(message.to_string())),
            }
        });
    });
    let categories = move || {
        catalog.get().map(|catalog| {
            let mut found: Vec<String> = catalog.stock_items.iter().map(|known| known.category.clone()).collect();
            found.sort();
            found.dedup();
            found
                .into_iter()
                .map(|known| {
                    let value = known.clone();
                    view! { <option value=known.clone() selected=move || category.with(|chosen| *chosen == value)>{texts.get().stock_category(&known)}</option> }
                })
                .collect_view()
        })
    };
    view! {
        <form class="form" data-form="stocktake" on:submit=move |event| start.run(event)>
            <label>
                <span>{move || texts.get().stocktake_location}</span>
                <input name="location" prop:value=location on:input=move |event| location.set(event_target_value(&event)) />
            </label>
            <label>
                <span>{move || texts.get().what_to_count}</span>
                <select name="what" on:change=move |event| what.set(event_target_value(&event))>
                    <option value="stock">{move || texts.get().stock_items}</option>
                    <option value="assets">{move || texts.get().asset_audit}</option>
                </select>
            </label>
            <div class="two-columns">
                <label>
                    <span>{move || texts.get().category_label}</span>
                    <select name="category" prop:value=move || category.get() on:change=move |event| category.set(event_target_value(&event))>
                        <option value="">{move || texts.get().all}</option>
                        {categories}
                    </select>
                </label>
                <label>
                    <span>{move || texts.get().count_mode}</span>
                    <select name="mode" on:change=move |event| mode.set(event_target_value(&event))>
                        <option value="blind">{move || texts.get().mode_blind}</option>
                        <option value="open">{move || texts.get().mode_open}</option>
                    </select>
                </label>
            </div>
            <button type="submit" class="primary" prop:disabled=move || catalog.with(Option::is_none)>{move || texts.get().start_stocktake}</button>
        </form>
        {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
    }
}
