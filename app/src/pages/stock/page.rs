//! One stocktake. While counting: a count form (bin, item by name, code or scanned label,
//! quantity), the counter's own entries with "correct", and the bins to recount — where
//! counters disagree, or a manager asked — each with a button that opens the recount of
//! that bin. Totals per item by the bin rule (`shared::document::stocktake`); in a blind
//! count a counter sees only their own counts until counting closes, and an item nobody
//! counted reads "not counted". Items whose stock moved during the count are flagged. A
//! manager settles a bin by picking a count, closes, reopens and approves (once every bin
//! agrees or is settled); approving records the adjustments in the site's ledger.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use shared::directory::Role;
use shared::document::EntryId;
use shared::document::catalog::{CatalogView, MovementKind, SiteCatalog};
use shared::document::stocktake::{BinCount, BinState, Kind, Mode, PendingRecount, Phase, RecountReason, Stocktake, StocktakeView};
use shared::protocol::DocumentId;
use shared::quantity::Quantity;

use super::{phase_text, read_stocktake};
use crate::edits::{catalog_of, edit_now, entry_id, now, read_catalog};
use crate::error::AppError;
use crate::fields::{CodeField, PlacePicker, QuantityCorrection};
use crate::i18n::use_texts;
use crate::pages::orders::{hidden_entries, sync_badge};
use crate::replica::{Replica, use_replica};
use crate::scan::ScanButton;
use crate::server::{Person, display_name, use_site_people};
use crate::session::{CurrentSession, use_session};

/// An edit of the stocktake, made once the phone's replica has it.
type StocktakeChange = Box<dyn FnOnce(&mut Stocktake, &shared::document::Edit) -> Result<(), shared::document::DocumentError>>;

fn item_name(catalog: Option<&CatalogView>, item: &str) -> String {
    catalog
        .and_then(|catalog| catalog.stock_items.iter().find(|known| known.id.as_str() == item))
        .map(|known| format!("{} {}", known.code, known.name))
        .unwrap_or_else(|| item.to_owned())
}

/// Writes the approved adjustments into the site's ledger, one movement per item with an
/// id derived from the stocktake and the item, so approving on two phones adjusts once.
async fn adjust_ledger(
    replica: Replica,
    session: &crate::session::Session,
    stocktake: DocumentId,
    view: &StocktakeView,
) -> Result<(), AppError> {
    let Some(catalog) = catalog_of(session, view.header.site.as_str()) else { return Ok(()) };
    let adjustments = view.approved_adjustments.clone();
    replica
        .edit(&catalog, |doc| {
            let edit = edit_now(&session.user.username)?;
            Ok(SiteCatalog::edit_in(doc, |catalog| {
                for (item, quantity) in &adjustments {
                    let Ok(item_id) = EntryId::parse(item) else { continue };
                    let id = shared::document::catalog::adjustment_id(&stocktake.url(), item);
                    // Already recorded (approved again after a reopening, or on another phone): kept once.
                    let _ = catalog.record_movement(&id, MovementKind::Adjust, &item_id, *quantity, &stocktake.url(), &edit);
                }
            })?)
        })
        .await
}

/// What the parts of the page share. The stocktake and its site's catalog are memos that
/// change only when their documents do, and each part follows only what it shows, so a
/// count arriving from another phone redraws the totals but leaves the count form, and
/// whatever is being typed in it, as it is.
#[derive(Clone, Copy)]
struct Page {
    id: Memo<Option<DocumentId>>,
    stocktake: Memo<Option<Arc<StocktakeView>>>,
    catalog: Memo<Option<Arc<CatalogView>>>,
    /// Whether the person manages the stocktake's site (closes, reopens, approves).
    manager: Memo<bool>,
    /// Whether the person keeps the store there, and so counts.
    counts: Memo<bool>,
    counting: Memo<bool>,
    /// Where counters disagree on a bin, worked out once per change for every part.
    disagreements: Memo<Vec<BinCount>>,
    /// The signed-in person's user name.
    me: Memo<Option<String>>,
    /// The site's people, for their names.
    people: Memo<Vec<Person>>,
    /// The bin and item being recounted in the count form, if it is a recount.
    recounting: RwSignal<Option<(String, String)>>,
    error: RwSignal<Option<String>>,
    current: CurrentSession,
    replica: Replica,
}

impl Page {
    /// Makes an edit of the stocktake once the phone's replica has it; a refusal shows in
    /// the form.
    fn edit(self, change: StocktakeChange) {
        let Some(session) = self.current.session.get_untracked() else { return };
        let Some(document) = self.id.get_untracked() else { return };
        let (error, replica) = (self.error, self.replica);
        spawn_local(async move {
            let outcome = replica
                .edit(&document, |doc| {
                    let edit = edit_now(&session.user.username)?;
                    Ok(Stocktake::edit_in(doc, |stocktake| change(stocktake, &edit))??)
                })
                .await;
            error.set(outcome.err().map(|error| error.to_string()));
        });
    }

    /// An item's code and name, as the catalog has it.
    fn item_name(self, item: &str) -> String {
        self.catalog.with(|catalog| item_name(catalog.as_deref(), item))
    }

    /// A person by their display name.
    fn name(self, user: &str) -> String {
        self.people.with(|people| display_name(people, user))
    }

    /// Whether this reader sees others' counts and the books: managers always, counters
    /// once a blind count closes.
    fn sees_all(self, view: &StocktakeView) -> bool {
        self.manager.get() || view.revealed()
    }

    /// The error of the last edit, where a form shows it.
    fn error_line(self) -> impl IntoView {
        move || self.error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })
    }
}

#[component]
pub fn StocktakePage() -> impl IntoView {
    let texts = use_texts();
    let replica = use_replica();
    let current = use_session();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|params| params.get("id").and_then(|id| DocumentId::parse(&id).ok())));
    let stocktake = Memo::new(move |_| {
        let _ = replica.revision.get();
        read_stocktake(replica, &id.get()?)
    });
    crate::inbox::see_while_open(move || id.get());
    let site = Memo::new(move |_| stocktake.with(|found| found.as_ref().map(|view| view.header.site.to_string())));
    let catalog = Memo::new(move |_| {
        let _ = replica.revision.get();
        read_catalog(replica, &catalog_of(&current.session.get()?, &site.get()?)?)
    });
    let role = Memo::new(move |_| {
        let site = site.get()?;
        current
            .session
            .with(|session| session.iter().flat_map(|session| &session.sites).find(|known| known.id == site).map(|known| known.role))
    });
    // As the server's write policy has it, so nothing offered here is refused.
    let manager = Memo::new(move |_| role.get().is_some_and(Role::manages));
    let counts = Memo::new(move |_| role.get().is_some_and(Role::keeps_store));
    let phase = Memo::new(move |_| stocktake.with(|found| found.as_ref().map(|view| view.phase)));
    let counting = Memo::new(move |_| phase.get() == Some(Phase::Counting));
    let kind = Memo::new(move |_| stocktake.with(|found| found.as_ref().map(|view| view.kind)));
    let disagreements = Memo::new(move |_| stocktake.with(|found| found.as_ref().map(|view| view.disagreements()).unwrap_or_default()));
    let me = Memo::new(move |_| current.session.with(|session| session.as_ref().map(|session| session.user.username.clone())));
    let people = use_site_people(move || site.get());
    let page = Page {
        id,
        stocktake,
        catalog,
        manager,
        counts,
        counting,
        disagreements,
        me,
        people,
        recounting: RwSignal::new(None),
        error: RwSignal::new(None),
        current,
        replica,
    };
    // Only which stocktake and of what kind redraw the page; its parts follow the rest.
    move || {
        let texts = texts.get();
        let (Some(document), Some(kind)) = (id.get(), kind.get()) else {
            return view! { <p class="muted" data-stocktake="missing">{texts.stocktake_not_here}</p> }.into_any();
        };
        let stock_count = kind == Kind::Stock;
        let location = move || stocktake.with(|found| found.as_ref().map(|view| view.location.clone()).unwrap_or_default());
        let mode = Memo::new(move |_| stocktake.with(|found| found.as_ref().map(|view| view.mode)));
        view! {
            <article class="stocktake-page" data-stocktake=document.to_string() data-phase=move || phase.get().map(|phase| format!("{phase:?}").to_lowercase())>
                <crate::nav::BackLink lists=&[shared::routes::Tab::Stocktakes] />
                <h1>{move || format!("{} · {}", texts.stocktake, location())}</h1>
                <p class="order-badges">
                    <span class="badge">{move || phase.get().map(|phase| phase_text(texts, phase))}</span>
                    <span class="badge" data-mode=move || mode.get().map(Mode::as_str)>{move || if mode.get() == Some(Mode::Blind) { texts.mode_blind } else { texts.mode_open }}</span>
                    {sync_badge(document)}
                </p>
                {hidden_entries(move || stocktake.with(|found| found.as_ref().map_or(0, |view| view.unreadable.len())))}
                {recounts(page)}
                {(!stock_count).then(|| audit(page))}
                {move || (stock_count && counting.get() && counts.get()).then(|| count_form(page))}
                {totals(page, stock_count)}
                {phase_actions(page)}
                {adjustments(page)}
            </article>
        }
        .into_any()
    }
}

/// The bins to count again — where counters disagree, or a manager asked — each with the
/// button that opens its recount, for every counter; a manager also settles a bin by
/// picking one of its counts. Counters of a blind count do not see each other's numbers.
fn recounts(page: Page) -> impl IntoView {
    let texts = use_texts();
    move || {
        let texts = texts.get();
        let view = page.stocktake.get()?;
        let pending = view.pending_recounts();
        if pending.is_empty() || view.phase == Phase::Approved {
            return None;
        }
        let (counting, manager, sees_all) = (page.counting.get() && page.counts.get(), page.manager.get(), page.sees_all(&view));
        let bins = view.bins();
        let lines = pending
            .into_iter()
            .map(|PendingRecount { bin, item, reason, .. }| {
                let why = match &reason {
                    RecountReason::Disagreement => texts.counters_disagree.to_owned(),
                    RecountReason::Requested(by) => format!("{} {}", texts.recount_requested_by, page.name(by.as_str())),
                };
                let counts = bins.iter().find(|known| known.bin == bin && known.item == item).map(|known| known.counts.clone()).unwrap_or_default();
                let shown = sees_all.then(|| counts.iter().map(|(counter, quantity)| format!("{} {quantity}", page.name(counter.as_str()))).collect::<Vec<_>>().join(", "));
                let recount = counting.then(|| {
                    let (bin, item) = (bin.clone(), item.clone());
                    view! {
                        <button type="button" class="primary" data-action="recount" on:click=move |_| {
                            page.recounting.set(Some((bin.clone(), item.clone())));
                            scroll_to_count_form();
                        }>{texts.recount_this}</button>
                    }
                });
                // A manager settles a disagreement at one of the counts, with who and when.
                let settle = (manager && reason == RecountReason::Disagreement).then(|| {
                    // Each count the manager may pick, with who counted it.
                    let who_counted = |quantity: Quantity| counts.iter().filter(|(_, counted)| **counted == quantity).map(|(counter, _)| page.name(counter.as_str())).collect::<Vec<_>>().join("、");
                    let mut quantities: Vec<Quantity> = counts.values().copied().collect();
                    quantities.sort();
                    quantities.dedup();
                    quantities
                        .into_iter()
                        .map(|quantity| {
                            let (bin, item) = (bin.clone(), item.clone());
                            view! {
                                <button type="button" data-action="settle" data-quantity=quantity.to_string() on:click=move |_| {
                                    let (bin, item) = (bin.clone(), item.clone());
                                    page.edit(Box::new(move |stocktake, edit| stocktake.settle(&entry_id("settled"), &bin, &item, quantity, edit)));
                                }>{texts.settle_at.replace("{}", &format!("{quantity} ({})", who_counted(quantity)))}</button>
                            }
                        })
                        .collect_view()
                });
                view! {
                    <li data-recount=item.clone() data-bin=bin.clone()>
                        <span>{format!("{} · {} {bin} · {why}", page.item_name(&item), texts.bin)}</span>
                        {shown.map(|shown| view! { <div class="muted" data-counts="yes">{shown}</div> })}
                        <div class="order-actions">{recount}{settle}</div>
                    </li>
                }
            })
            .collect_view();
        Some(view! {
            <section class="card warning-card" aria-labelledby="recounts">
                <h2 id="recounts">{texts.recounts}</h2>
                <ul class="recounts">{lines}</ul>
            </section>
        })
    }
}

/// Brings the count form into view (a recount was chosen above it).
fn scroll_to_count_form() {
    if let Some(form) = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.query_selector("[data-form=count]").ok().flatten())
    {
        form.scroll_into_view();
    }
}

/// The count form (bin, item by code, search or list, quantity) and the counter's own
/// entries, each correctable until it is corrected.
fn count_form(page: Page) -> impl IntoView {
    let texts = use_texts().get_untracked();
    let bin = RwSignal::new(String::new());
    let item = RwSignal::new(String::new());
    let quantity = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let item_search = RwSignal::new(String::new());
    let error = page.error;
    let use_code = move |typed: String| {
        let found = page.catalog.with_untracked(|catalog| {
            catalog.as_ref().and_then(|catalog| {
                catalog.stock_items.iter().find(|known| known.code.eq_ignore_ascii_case(typed.trim())).map(|known| known.id.to_string())
            })
        });
        match found {
            Some(found) => {
                item.set(found);
                error.set(None);
            }
            None => error.set(Some(texts.unknown_code.replace("{}", typed.trim()))),
        }
    };
    // Choosing a recount above fills in its bin and item.
    Effect::new(move || {
        if let Some((recount_bin, recount_item)) = page.recounting.get() {
            bin.set(recount_bin);
            item.set(recount_item);
        }
    });
    let count = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let (at_bin, counted_item) = (bin.get_untracked().trim().to_owned(), item.get_untracked());
        // A recount is of the bin and item it was opened for; changing either makes it a count.
        let recount = page
            .recounting
            .get_untracked()
            .is_some_and(|(recount_bin, recount_item)| recount_bin == at_bin && recount_item == counted_item);
        let Some(amount) = quantity.get_untracked().trim().parse::<Quantity>().ok().filter(|amount| !amount.is_negative()) else {
            error.set(Some(texts.quantity_needed.to_owned()));
            return;
        };
        if counted_item.is_empty() {
            error.set(Some(texts.choose_item.to_owned()));
            return;
        }
        page.edit(Box::new(move |stocktake, edit| {
            let id = entry_id("count");
            if recount {
                stocktake.recount(&id, &at_bin, &counted_item, amount, edit)
            } else {
                stocktake.count(&id, &at_bin, &counted_item, amount, edit)
            }
        }));
        quantity.set(String::new());
        page.recounting.set(None);
    };
    let recount_heading = move || {
        page.recounting.get().map(|(recount_bin, recount_item)| {
            view! {
                <p class="notice" data-recounting=recount_item.clone() data-bin=recount_bin.clone()>
                    {texts.recounting.replace("{item}", &page.item_name(&recount_item)).replace("{bin}", &recount_bin)}
                    " "
                    <button type="button" class="link-button" on:click=move |_| page.recounting.set(None)>{texts.cancel}</button>
                </p>
            }
        })
    };
    let matches = move |wanted: &str, known: &shared::document::catalog::StockItem| {
        known.code.to_lowercase().contains(wanted) || known.name.to_lowercase().contains(wanted)
    };
    // The items the search names (by code or name), all if it is empty.
    let item_options = move || {
        let wanted = item_search.get().trim().to_lowercase();
        page.catalog.with(|catalog| {
            catalog.as_ref().map(|catalog| {
                catalog
                    .stock_items
                    .iter()
                    .filter(|known| wanted.is_empty() || matches(&wanted, known))
                    .map(|known| {
                        let id = known.id.to_string();
                        view! { <option value=known.id.to_string() selected=move || item.get() == id>{format!("{} {} ({})", known.code, known.name, known.unit)}</option> }
                    })
                    .collect_view()
            })
        })
    };
    let search_items = move |event: leptos::ev::Event| {
        let wanted = event_target_value(&event);
        item_search.set(wanted.clone());
        let wanted = wanted.trim().to_lowercase();
        // One match is as good as picked.
        let found: Vec<String> = page.catalog.with_untracked(|catalog| {
            catalog
                .iter()
                .flat_map(|catalog| catalog.stock_items.iter())
                .filter(|known| !wanted.is_empty() && matches(&wanted, known))
                .map(|known| known.id.to_string())
                .collect()
        });
        if let [only] = found.as_slice() {
            item.set(only.clone());
        }
    };
    view! {
        <section class="card" aria-labelledby="count">
            <h2 id="count">{texts.count}</h2>
            <form class="form" data-form="count" data-recount=move || page.recounting.get().is_some().then_some("yes") on:submit=count>
                {recount_heading}
                <CodeField value=code on_code=Callback::new(use_code) />
                <label>
                    <span>{texts.search}</span>
                    <input type="search" name="item-search" prop:value=move || item_search.get() on:input=search_items />
                </label>
                <label>
                    <span>{texts.stock_item}</span>
                    <select name="item" prop:value=move || item.get() on:change=move |event| item.set(event_target_value(&event))>
                        <option value="">"—"</option>
                        {item_options}
                    </select>
                </label>
                <div class="two-columns">
                    <label>
                        <span>{texts.bin}</span>
                        <input name="bin" prop:value=bin on:input=move |event| bin.set(event_target_value(&event)) />
                    </label>
                    <label>
                        <span>{texts.quantity}</span>
                        <input name="quantity" inputmode="decimal" prop:value=quantity on:input=move |event| quantity.set(event_target_value(&event)) />
                    </label>
                </div>
                {page.error_line()}
                <button type="submit" class="primary">{move || if page.recounting.get().is_some() { texts.recount_save } else { texts.count }}</button>
            </form>
            <h3>{texts.my_counts}</h3>
            <ul class="count-entries">{my_entries(page)}</ul>
        </section>
    }
}

/// One of the counter's own entries as listed: kept by the list while it reads the same, so
/// a correction being typed survives other changes.
#[derive(Clone, PartialEq, Eq, Hash)]
struct EntryLine {
    id: EntryId,
    text: String,
    replaced: bool,
}

fn my_entries(page: Page) -> impl IntoView {
    let texts = use_texts();
    let lines = Memo::new(move |_| {
        let me = page.current.session.with(|session| session.as_ref().map(|session| session.user.username.clone()))?;
        let view = page.stocktake.get()?;
        let lines = view
            .entries
            .iter()
            .filter(|entry| entry.counter.as_str() == me)
            .map(|entry| EntryLine {
                id: entry.id.clone(),
                text: format!(
                    "{} · {} · {}{}",
                    entry.bin,
                    page.item_name(&entry.item),
                    entry.quantity,
                    if entry.round > 0 { texts.get().recount_marker } else { "" }
                ),
                replaced: view.entries.iter().any(|later| later.replaces.as_ref() == Some(&entry.id)),
            })
            .collect::<Vec<_>>();
        Some(lines)
    });
    view! {
        <For each=move || lines.get().unwrap_or_default() key=|line| line.clone() let:line>
            {
                let original = line.id.clone();
                let correct = Callback::new(move |amount: Option<Quantity>| {
                    let Some(amount) = amount else { return };
                    let original = original.clone();
                    page.edit(Box::new(move |stocktake, edit| stocktake.correct(&entry_id("count"), &original, amount, edit)));
                });
                view! {
                    <li class="count-entry" class:replaced=line.replaced data-entry=line.id.to_string()>
                        <span>{line.text}</span>
                        {(!line.replaced).then(|| view! { <QuantityCorrection form="correct" field="corrected" on_correct=correct /> })}
                    </li>
                }
            }
        </For>
    }
}

/// Totals per item by the bin rule (and per counter, for managers), with what was
/// expected and the variance where they may be seen, and the items that moved during the
/// count. A counter in a blind count sees only their own count of each item.
fn totals(page: Page, stock_count: bool) -> impl IntoView {
    let texts = use_texts();
    let sees_all = Memo::new(move |_| page.stocktake.with(|found| found.as_ref().is_some_and(|view| page.sees_all(view))));
    // The books stay hidden in a blind count until it closes, from managers too (they may
    // count): a manager sees only the counters' numbers, to settle where they disagree.
    let reveal = Memo::new(move |_| page.stocktake.with(|found| found.as_ref().is_some_and(|view| view.revealed())));
    let rows = move || {
        let texts = texts.get();
        let view = page.stocktake.get()?;
        let (manager, counting, reveal, sees_all) = (page.manager.get(), page.counting.get(), reveal.get(), sees_all.get());
        let me = page.me.get().unwrap_or_default();
        let moved =
            page.catalog.with(|catalog| catalog.as_ref().map(|catalog| view.moved_during(&catalog.ledger, now())).unwrap_or_default());
        let recount_items: Vec<String> = view.pending_recounts().into_iter().map(|pending| pending.item).collect();
        let shown = |quantity: Option<Quantity>| quantity.map(|quantity| quantity.to_string());
        let rows = view
            .totals()
            .into_iter()
            .map(|total| {
                let flagged = moved.contains(&total.item);
                let recount = recount_items.contains(&total.item);
                let by_counter = manager.then(|| total.by_counter.iter().map(|(counter, quantity)| format!("{} {quantity}", page.name(counter.as_str()))).collect::<Vec<_>>().join(", "));
                let ask = (manager && counting && !view.recounts.contains_key(&total.item) && total.counted.is_some()).then(|| {
                    let item = total.item.clone();
                    view! {
                        <button type="button" class="link-button" data-action="request-recount" on:click=move |_| {
                            let item = item.clone();
                            page.edit(Box::new(move |stocktake, edit| stocktake.request_recount(&item, edit)));
                        }>{texts.ask_recount}</button>
                    }
                });
                // Everyone's total where it may be seen, else this counter's own count.
                let counted = if sees_all { total.counted } else { total.by_counter.iter().find(|(counter, _)| counter.as_str() == me).map(|(_, quantity)| *quantity) };
                let counted_text = match counted {
                    Some(quantity) if total.disagreed_bins > 0 && sees_all => format!("{quantity} + ?"),
                    Some(quantity) => quantity.to_string(),
                    None if total.disagreed_bins > 0 && sees_all => "?".to_owned(),
                    None => texts.not_counted.to_owned(),
                };
                view! {
                    <tr data-total=total.item.clone() class:flagged=flagged || recount>
                        <td>
                            {page.item_name(&total.item)}
                            {flagged.then(|| view! { <span class="badge badge-overdue" data-moved="yes">{texts.moved_during}</span> })}
                            {recount.then(|| view! { <span class="badge badge-local" data-needs-recount="yes">{texts.recount}</span> })}
                            {by_counter.filter(|by| !by.is_empty()).map(|by| view! { <div class="muted">{by}</div> })}
                            {ask}
                        </td>
                        <td class="number" data-counted=shown(counted).unwrap_or_default() class:muted=counted.is_none()>{counted_text}</td>
                        {reveal.then(|| view! {
                            <td class="number" data-expected=shown(total.expected).unwrap_or_default()>{shown(total.expected).unwrap_or_else(|| "—".to_owned())}</td>
                            <td class="number" data-variance=shown(total.variance()).unwrap_or_default()>{shown(total.variance()).unwrap_or_else(|| "—".to_owned())}</td>
                        })}
                    </tr>
                }
            })
            .collect_view();
        Some(rows)
    };
    move || {
        let texts = texts.get();
        view! {
            <section class="card" aria-labelledby="totals" class:hidden=!stock_count>
                <h2 id="totals">{texts.totals}</h2>
                <table class="stock-table">
                    <thead>
                        <tr>
                            <th>{texts.stock_item}</th>
                            <th class="number">{move || if sees_all.get() { texts.counted } else { texts.my_count }}</th>
                            {move || reveal.get().then(|| view! { <th class="number">{texts.expected}</th><th class="number">{texts.variance}</th> })}
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
                {move || (!reveal.get()).then(|| view! { <p class="muted" data-blind="yes">{if sees_all.get() { texts.blind_hint_manager } else { texts.blind_hint }}</p> })}
            </section>
        }
    }
}

/// A fixed-asset audit: the find form while counting, and where each asset was found.
fn audit(page: Page) -> impl IntoView {
    let texts = use_texts();
    let found_asset = RwSignal::new(String::new());
    let found_place = RwSignal::new(String::new());
    // An asset's tag, typed or scanned: it is found, here.
    let find = move |typed: String| {
        let texts = texts.get_untracked();
        let tag = typed.trim().to_owned();
        let Some((asset, expected)) = page.catalog.with_untracked(|catalog| {
            let asset = catalog.as_ref()?.assets.iter().find(|known| known.tag.eq_ignore_ascii_case(&tag))?;
            Some((asset.id.to_string(), asset.place.as_ref().map(ToString::to_string).unwrap_or_default()))
        }) else {
            page.error.set(Some(texts.unknown_code.replace("{}", &tag)));
            return;
        };
        // Where the auditor is: the place chosen, else where the asset should be.
        let place = Some(found_place.get_untracked()).filter(|place| !place.is_empty()).unwrap_or(expected);
        found_asset.set(String::new());
        page.error.set(None);
        page.edit(Box::new(move |stocktake, edit| stocktake.find_asset(&entry_id("found"), &asset, &place, edit)));
    };
    let find_form = move || {
        let texts = texts.get();
        (page.counting.get() && page.counts.get()).then(|| view! {
            <section class="card" aria-labelledby="find">
                <h2 id="find">{texts.find_assets}</h2>
                <form class="form" data-form="find" on:submit=move |event: leptos::ev::SubmitEvent| { event.prevent_default(); find(found_asset.get_untracked()); }>
                    <PlacePicker catalog=page.catalog.into() chosen=found_place label=Signal::stored(texts.where_you_are) none=Signal::stored(texts.where_it_belongs) />
                    <div class="code-row">
                        <label>
                            <span>{texts.asset_tag}</span>
                            <input name="tag" autocomplete="off" prop:value=found_asset on:input=move |event| found_asset.set(event_target_value(&event)) />
                        </label>
                        <ScanButton on_code=Callback::new(find) />
                    </div>
                    {page.error_line()}
                    <button type="submit" class="primary">{texts.found}</button>
                </form>
            </section>
        })
    };
    let result = move || {
        let texts = texts.get();
        let view = page.stocktake.get()?;
        let counting = page.counting.get();
        page.catalog.with(|catalog| {
            let catalog = catalog.as_deref();
            let place_name = |place: &str| catalog.and_then(|catalog| catalog.place(place)).map(|known| known.name.clone()).unwrap_or_else(|| place.to_owned());
            let asset_name = |asset: &str| {
                catalog
                    .and_then(|catalog| catalog.assets.iter().find(|known| known.id.as_str() == asset))
                    .map(|known| format!("{} {}", known.tag, known.name))
                    .unwrap_or_else(|| asset.to_owned())
            };
            let result = view.audit();
            let line = |state: &'static str, asset: &str, detail: String| view! { <li data-audit=state data-asset=asset.to_owned()>{format!("{}{detail}", asset_name(asset))}</li> };
            let in_place = result.in_place.iter().map(|asset| line("in-place", asset, String::new())).collect_view();
            let elsewhere = result
                .elsewhere
                .iter()
                .map(|(asset, expected, found)| line("elsewhere", asset, format!(" · {} {} · {} {}", texts.found_at, place_name(found), texts.should_be_at, place_name(expected))))
                .collect_view();
            let missing = result.missing.iter().map(|asset| line("missing", asset, format!(" · {}", place_name(&view.expected_assets[asset])))).collect_view();
            let unexpected = result.unexpected.iter().map(|(asset, found)| line("unexpected", asset, format!(" · {} {}", texts.found_at, place_name(found)))).collect_view();
            Some(view! {
                <section class="card" aria-labelledby="audit">
                    <h2 id="audit">{texts.audit_result}</h2>
                    <h3>{texts.audit_elsewhere}</h3>
                    <ul class="audit">{elsewhere}</ul>
                    <h3>{if counting { texts.audit_not_yet_found } else { texts.audit_missing }}</h3>
                    <ul class="audit">{missing}</ul>
                    <h3>{texts.audit_in_place}</h3>
                    <ul class="audit">{in_place}</ul>
                    {(!result.unexpected.is_empty()).then(|| view! { <h3>{texts.audit_unexpected}</h3><ul class="audit">{unexpected}</ul> })}
                </section>
            })
        })
    };
    view! { {find_form}{result} }
}

/// A manager's steps: close the count, reopen it or approve it — once every bin agrees or
/// is settled. Approving records the adjustments in the site's ledger.
fn phase_actions(page: Page) -> impl IntoView {
    let texts = use_texts();
    let replica = page.replica;
    let step = move |phase: Phase| {
        move |_| {
            let Some(session) = page.current.session.get_untracked() else { return };
            let Some(document) = page.id.get_untracked() else { return };
            let ledger = page.catalog.with_untracked(|catalog| catalog.as_ref().map(|catalog| catalog.ledger.clone()).unwrap_or_default());
            spawn_local(async move {
                let outcome = async {
                    replica
                        .edit(&document, |doc| {
                            let edit = edit_now(&session.user.username)?;
                            Ok(Stocktake::edit_in(doc, |stocktake| match phase {
                                Phase::Approved => stocktake.approve(&entry_id("step"), &ledger, &edit),
                                _ => stocktake.record_phase(&entry_id("step"), phase, &edit),
                            })??)
                        })
                        .await?;
                    if phase == Phase::Approved
                        && let Some(view) = read_stocktake(replica, &document)
                    {
                        adjust_ledger(replica, &session, document, &view).await?;
                    }
                    Ok::<(), AppError>(())
                }
                .await;
                page.error.set(outcome.err().map(|error| error.to_string()));
            });
        }
    };
    move || {
        let texts = texts.get();
        if !page.manager.get() {
            return None;
        }
        let blocked = page.disagreements.with(Vec::len);
        let actions = match page.stocktake.with(|found| found.as_ref().map(|view| view.phase))? {
            Phase::Counting => view! { <button type="button" class="primary" data-action="close-count" on:click=step(Phase::Closed)>{texts.close_count}</button> }.into_any(),
            Phase::Closed => view! {
                <button type="button" data-action="reopen-count" on:click=step(Phase::Counting)>{texts.reopen_count}</button>
                <button type="button" class="primary" data-action="approve-count" prop:disabled={blocked > 0} on:click=step(Phase::Approved)>{texts.approve_count}</button>
            }
            .into_any(),
            Phase::Approved => return None,
        };
        Some(view! {
            <div class="card">
                {(blocked > 0).then(|| view! { <p class="notice" data-blocked=blocked.to_string()>{texts.approval_blocked.replace("{}", &blocked.to_string())}</p> })}
                <div class="order-actions">{actions}</div>
            </div>
        })
    }
}

/// The adjustments an approval recorded, the bins a manager settled, and the items nobody
/// counted (left at their book quantity).
fn adjustments(page: Page) -> impl IntoView {
    let texts = use_texts();
    move || {
        let texts = texts.get();
        let view = page.stocktake.get().filter(|view| view.phase == Phase::Approved)?;
        let lines = view
            .approved_adjustments
            .iter()
            .map(|(item, quantity)| view! { <li data-adjusted=item.clone()>{format!("{} {quantity}", page.item_name(item))}</li> })
            .collect_view();
        let settled = view
            .bins()
            .into_iter()
            .filter_map(|bin| match bin.state {
                BinState::Settled { quantity, by, .. } => Some(view! { <li data-settled=bin.item.clone()>{format!("{} · {} {} · {quantity} · {}", page.item_name(&bin.item), texts.bin, bin.bin, texts.settled_by.replace("{}", &page.name(by.as_str())))}</li> }),
                _ => None,
            })
            .collect_view();
        let uncounted: Vec<String> = view
            .totals()
            .into_iter()
            .filter(|total| total.counted.is_none() && total.expected.is_some())
            .map(|total| page.item_name(&total.item))
            .collect();
        Some(view! {
            <section class="card">
                <h2>{texts.adjustments}</h2>
                <ul>{lines}{settled}</ul>
                {(!uncounted.is_empty()).then(|| view! { <p class="muted" data-uncounted=uncounted.len().to_string()>{format!("{}: {}", texts.not_adjusted, uncounted.join("、"))}</p> })}
            </section>
        })
    }
}
