//! One stocktake. While counting: a count form (bin, item by name, code or scanned label,
//! quantity), the counter's own entries with "correct", and recounts asked for — where two
//! counters disagree on a bin, or a manager asked. Totals per item (and per counter for
//! managers); expected quantities and variance only in an open count, or once counting
//! closes. Items whose stock moved during the count are flagged. A manager closes, reopens
//! and approves; approving records the adjustments in the site's ledger.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use shared::document::catalog::{CatalogView, MovementKind, SiteCatalog};
use shared::document::stocktake::{Kind, Mode, Phase, Stocktake, StocktakeView};
use shared::document::EntryId;
use shared::protocol::DocumentId;
use shared::quantity::Quantity;

use super::{phase_text, read_stocktake};
use crate::edits::{catalog_of, edit_now, entry_id, now, read_catalog};
use crate::i18n::use_texts;
use crate::pages::orders::sync_badge;
use crate::fields::{CodeField, PlacePicker};
use crate::scan::ScanButton;
use crate::replica::{self, use_replica};
use crate::session::use_session;

/// An edit of the stocktake, made once the phone's replica has it.
type StocktakeChange = Box<dyn FnOnce(&mut Stocktake, &shared::document::Edit) -> Result<(), String>>;

fn item_name(catalog: Option<&CatalogView>, item: &str) -> String {
    catalog
        .and_then(|catalog| catalog.stock_items.iter().find(|known| known.id.as_str() == item))
        .map(|known| format!("{} {}", known.code, known.name))
        .unwrap_or_else(|| item.to_owned())
}

/// Writes the approved adjustments into the site's ledger, one movement per item with an
/// id derived from the stocktake and the item, so approving on two phones adjusts once.
async fn adjust_ledger(session: &crate::session::Session, stocktake: DocumentId, view: &StocktakeView) -> Result<(), String> {
    let Some(catalog) = catalog_of(session, view.header.site.as_str()) else { return Ok(()) };
    let adjustments = view.approved_adjustments.clone();
    let short: String = stocktake.to_string().chars().take(12).collect();
    replica::edit(&catalog, |doc| {
        let edit = edit_now(&session.user.username)?;
        SiteCatalog::edit_in(doc, |catalog| {
            for (item, quantity) in &adjustments {
                let Ok(item_id) = EntryId::parse(item) else { continue };
                let Ok(id) = EntryId::parse(&format!("adjust-{short}-{item}")) else { continue };
                // Already recorded (approved again after a reopening, or on another phone): kept once.
                let _ = catalog.record_movement(&id, MovementKind::Adjust, &item_id, *quantity, &stocktake.url(), &edit);
            }
        })
        .map_err(|error| error.to_string())
    })
    .await
}

#[component]
pub fn StocktakePage() -> impl IntoView {
    let texts = use_texts();
    let sync = use_replica();
    let current = use_session();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|params| params.get("id").and_then(|id| DocumentId::parse(&id).ok())));
    let stocktake = Memo::new(move |_| {
        let _ = sync.revision.get();
        id.get().and_then(|id| read_stocktake(&id).map(|view| (id, view)))
    });
    let catalog = Memo::new(move |_| {
        let _ = sync.revision.get();
        let site = stocktake.with(|found| found.as_ref().map(|(_, view)| view.header.site.to_string()))?;
        read_catalog(&catalog_of(&current.session.get()?, &site)?)
    });
    // Read again by the item search, inside the page where `catalog` is the value.
    let catalog_memo = catalog;
    let bin = RwSignal::new(String::new());
    let item = RwSignal::new(String::new());
    let quantity = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let code = RwSignal::new(String::new());
    let item_search = RwSignal::new(String::new());
    let found_asset = RwSignal::new(String::new());
    let found_place = RwSignal::new(String::new());
    // An asset's tag, typed or scanned, during an audit: it is found, here.
    let find = move |typed: String| {
        let texts = texts.get_untracked();
        let tag = typed.trim().to_owned();
        let Some((asset, expected)) = catalog.with_untracked(|catalog| {
            let catalog = catalog.as_ref()?;
            let asset = catalog.assets.iter().find(|known| known.tag.eq_ignore_ascii_case(&tag))?;
            Some((asset.id.to_string(), asset.place.as_ref().map(|place| place.to_string()).unwrap_or_default()))
        }) else {
            error.set(Some(texts.unknown_code.replace("{}", &tag)));
            return;
        };
        // Where the auditor is: the place chosen, else where the asset should be.
        let place = Some(found_place.get_untracked()).filter(|place| !place.is_empty()).unwrap_or(expected);
        found_asset.set(String::new());
        error.set(None);
        let Some(session) = current.session.get_untracked() else { return };
        let Some(document) = id.get_untracked() else { return };
        spawn_local(async move {
            let outcome = replica::edit(&document, |doc| {
                let edit = edit_now(&session.user.username)?;
                Stocktake::edit_in(doc, |stocktake| stocktake.find_asset(&entry_id("found"), &asset, &place, &edit)).map_err(|error| error.to_string())?.map_err(|error| error.to_string())
            })
            .await;
            error.set(outcome.err());
        });
    };
    let use_code = move |typed: String| {
        let found = catalog.with_untracked(|catalog| {
            catalog.as_ref().and_then(|catalog| catalog.stock_items.iter().find(|known| known.code.eq_ignore_ascii_case(typed.trim())).map(|known| known.id.to_string()))
        });
        match found {
            Some(found) => {
                item.set(found);
                error.set(None);
            }
            None => error.set(Some(texts.get_untracked().unknown_code.replace("{}", typed.trim()))),
        }
    };
    let edit_stocktake = move |change: StocktakeChange| {
        let Some(session) = current.session.get_untracked() else { return };
        let Some(document) = id.get_untracked() else { return };
        spawn_local(async move {
            let outcome = replica::edit(&document, |doc| {
                let edit = edit_now(&session.user.username)?;
                Stocktake::edit_in(doc, |stocktake| change(stocktake, &edit)).map_err(|error| error.to_string())?
            })
            .await;
            error.set(outcome.err());
        });
    };
    let count = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let texts = texts.get_untracked();
        let (at_bin, counted_item) = (bin.get_untracked().trim().to_owned(), item.get_untracked());
        let Some(amount) = quantity.get_untracked().trim().parse::<Quantity>().ok().filter(|amount| !amount.is_negative()) else {
            error.set(Some(texts.quantity_needed.to_owned()));
            return;
        };
        if counted_item.is_empty() {
            error.set(Some(texts.choose_item.to_owned()));
            return;
        }
        edit_stocktake(Box::new(move |stocktake, edit| stocktake.count(&entry_id("count"), &at_bin, &counted_item, amount, edit).map_err(|error| error.to_string())));
        quantity.set(String::new());
    };
    move || {
        let texts = texts.get();
        let Some((document, view)) = stocktake.get() else {
            return view! { <p class="muted" data-stocktake="missing">{texts.stocktake_not_here}</p> }.into_any();
        };
        let Some(session) = current.session.get() else { return ().into_any() };
        let me = session.user.username.clone();
        let role = session.sites.iter().find(|known| known.id == view.header.site.as_str()).map(|known| known.role.clone()).unwrap_or_default();
        let manager = matches!(role.as_str(), "manager" | "admin");
        let catalog = catalog.get();
        let name = |item: &str| item_name(catalog.as_deref(), item);
        // Expected quantities stay hidden from counters in a blind count until it closes.
        let reveal = view.mode == Mode::Open || view.phase != Phase::Counting;
        let moved = catalog.as_ref().map(|catalog| view.moved_during(&catalog.ledger, now())).unwrap_or_default();
        let disagreements = view.disagreements();
        let recount_items: Vec<String> = {
            let mut items: Vec<String> = disagreements.iter().map(|found| found.item.clone()).chain(view.recounts.keys().cloned()).collect();
            items.sort();
            items.dedup();
            items
        };
        let counting = view.phase == Phase::Counting;

        let recounts = (!recount_items.is_empty()).then(|| {
            let lines = disagreements
                .iter()
                .map(|found| {
                    let counts = found.counts.iter().map(|(counter, quantity)| format!("{counter}: {quantity}")).collect::<Vec<_>>().join(", ");
                    view! { <li data-recount=found.item.clone() data-bin=found.bin.clone()>{format!("{} · {} · {counts}", name(&found.item), found.bin)}</li> }
                })
                .collect_view();
            let requested = view
                .recounts
                .iter()
                .map(|(item, by)| view! { <li data-recount=item.clone()>{format!("{} · {} {by}", name(item), texts.recount_requested_by)}</li> })
                .collect_view();
            view! {
                <section class="card warning-card" aria-labelledby="recounts">
                    <h2 id="recounts">{texts.recounts}</h2>
                    <ul>{lines}{requested}</ul>
                </section>
            }
        });

        let my_entries = view
            .entries
            .iter()
            .filter(|entry| entry.counter.as_str() == me)
            .map(|entry| {
                let replaced = view.entries.iter().any(|later| later.replaces.as_ref() == Some(&entry.id));
                let corrected = RwSignal::new(String::new());
                let original = entry.id.clone();
                let correct = move |event: leptos::ev::SubmitEvent| {
                    event.prevent_default();
                    let Ok(amount) = corrected.get_untracked().trim().parse::<Quantity>() else { return };
                    let original = original.clone();
                    edit_stocktake(Box::new(move |stocktake, edit| stocktake.correct(&entry_id("count"), &original, amount, edit).map_err(|error| error.to_string())));
                };
                view! {
                    <li class="count-entry" class:replaced=replaced data-entry=entry.id.to_string()>
                        <span>{format!("{} · {} · {}", entry.bin, name(&entry.item), entry.quantity)}</span>
                        {(counting && !replaced).then(|| view! {
                            <form class="inline-form" data-form="correct" on:submit=correct>
                                <input name="corrected" inputmode="decimal" prop:placeholder=texts.correct on:input=move |event| corrected.set(event_target_value(&event)) />
                                <button type="submit">{texts.correct}</button>
                            </form>
                        })}
                    </li>
                }
            })
            .collect_view();

        let totals = view
            .totals()
            .into_iter()
            .map(|total| {
                let flagged = moved.contains(&total.item);
                let recount = recount_items.contains(&total.item);
                let by_counter = manager.then(|| total.by_counter.iter().map(|(counter, quantity)| format!("{counter} {quantity}")).collect::<Vec<_>>().join(", "));
                view! {
                    <tr data-total=total.item.clone() class:flagged=flagged || recount>
                        <td>
                            {name(&total.item)}
                            {flagged.then(|| view! { <span class="badge badge-overdue" data-moved="yes">{texts.moved_during}</span> })}
                            {recount.then(|| view! { <span class="badge badge-local" data-needs-recount="yes">{texts.recount}</span> })}
                            {by_counter.map(|by| view! { <div class="muted">{by}</div> })}
                            {(manager && counting && !view.recounts.contains_key(&total.item)).then(|| {
                                let item = total.item.clone();
                                view! {
                                    <button type="button" class="link-button" data-action="request-recount" on:click=move |_| {
                                        let item = item.clone();
                                        edit_stocktake(Box::new(move |stocktake, edit| stocktake.request_recount(&item, edit).map_err(|error| error.to_string())));
                                    }>{texts.ask_recount}</button>
                                }
                            })}
                        </td>
                        <td class="number" data-counted=total.counted.to_string()>{total.counted.to_string()}</td>
                        {reveal.then(|| view! {
                            <td class="number" data-expected=total.expected.map(|expected| expected.to_string()).unwrap_or_default()>{total.expected.map(|expected| expected.to_string()).unwrap_or_else(|| "—".to_owned())}</td>
                            <td class="number" data-variance=total.variance().map(|variance| variance.to_string()).unwrap_or_default()>{total.variance().map(|variance| variance.to_string()).unwrap_or_else(|| "—".to_owned())}</td>
                        })}
                    </tr>
                }
            })
            .collect_view();

        let phase_actions = manager.then(|| {
            let step = move |phase: Phase| {
                let session = current.session.get_untracked();
                move |_| {
                    let session = session.clone();
                    let Some(document) = id.get_untracked() else { return };
                    spawn_local(async move {
                        let Some(session) = session else { return };
                        let outcome = async {
                            replica::edit(&document, |doc| {
                                let edit = edit_now(&session.user.username)?;
                                Stocktake::edit_in(doc, |stocktake| stocktake.record_phase(&entry_id("step"), phase, &edit)).map_err(|error| error.to_string())?.map_err(|error| error.to_string())
                            })
                            .await?;
                            if phase == Phase::Approved
                                && let Some(view) = read_stocktake(&document)
                            {
                                adjust_ledger(&session, document, &view).await?;
                            }
                            Ok::<(), String>(())
                        }
                        .await;
                        error.set(outcome.err());
                    });
                }
            };
            match view.phase {
                Phase::Counting => view! { <button type="button" class="primary" data-action="close-count" on:click=step(Phase::Closed)>{texts.close_count}</button> }.into_any(),
                Phase::Closed => view! {
                    <button type="button" data-action="reopen-count" on:click=step(Phase::Counting)>{texts.reopen_count}</button>
                    <button type="button" class="primary" data-action="approve-count" on:click=step(Phase::Approved)>{texts.approve_count}</button>
                }
                .into_any(),
                Phase::Approved => ().into_any(),
            }
        });
        let adjustments = (view.phase == Phase::Approved).then(|| {
            let lines = view.approved_adjustments.iter().map(|(item, quantity)| view! { <li data-adjusted=item.clone()>{format!("{} {quantity}", name(item))}</li> }).collect_view();
            view! { <section class="card"><h2>{texts.adjustments}</h2><ul>{lines}</ul></section> }
        });
        let place_name = |place: &str| catalog.as_ref().and_then(|catalog| catalog.place(place)).map(|known| known.name.clone()).unwrap_or_else(|| place.to_owned());
        let asset_name = |asset: &str| {
            catalog
                .as_ref()
                .and_then(|catalog| catalog.assets.iter().find(|known| known.id.as_str() == asset))
                .map(|known| format!("{} {}", known.tag, known.name))
                .unwrap_or_else(|| asset.to_owned())
        };
        let audit = (view.kind == Kind::Assets).then(|| {
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
            view! {
                {counting.then(|| view! {
                    <section class="card" aria-labelledby="find">
                        <h2 id="find">{texts.find_assets}</h2>
                        <form class="form" data-form="find" on:submit=move |event: leptos::ev::SubmitEvent| { event.prevent_default(); find(found_asset.get_untracked()); }>
                            <PlacePicker catalog=catalog_memo.into() chosen=found_place label=Signal::stored(texts.where_you_are) none=Signal::stored(texts.where_it_belongs) />
                            <div class="code-row">
                                <label>
                                    <span>{texts.asset_tag}</span>
                                    <input name="tag" autocomplete="off" prop:value=found_asset on:input=move |event| found_asset.set(event_target_value(&event)) />
                                </label>
                                <ScanButton on_code=Callback::new(find) />
                            </div>
                            {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
                            <button type="submit" class="primary">{texts.found}</button>
                        </form>
                    </section>
                })}
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
            }
        });
        let stock_count = view.kind == Kind::Stock;
        // The items the search names (by code or name), all if it is empty.
        let item_options = move || {
            let wanted = item_search.get().trim().to_lowercase();
            catalog_memo.with(|catalog| {
                catalog.as_ref().map(|catalog| {
                    catalog
                        .stock_items
                        .iter()
                        .filter(|known| wanted.is_empty() || known.code.to_lowercase().contains(&wanted) || known.name.to_lowercase().contains(&wanted))
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
            let matches: Vec<String> = catalog_memo.with_untracked(|catalog| {
                catalog
                    .iter()
                    .flat_map(|catalog| catalog.stock_items.iter())
                    .filter(|known| !wanted.is_empty() && (known.code.to_lowercase().contains(&wanted) || known.name.to_lowercase().contains(&wanted)))
                    .map(|known| known.id.to_string())
                    .collect()
            });
            if let [only] = matches.as_slice() {
                item.set(only.clone());
            }
        };
        view! {
            <article class="stocktake-page" data-stocktake=document.to_string() data-phase=format!("{:?}", view.phase).to_lowercase()>
                <p class="breadcrumb"><a href="/">{texts.back_home}</a></p>
                <h1>{format!("{} · {}", texts.stocktake, view.location)}</h1>
                <p class="order-badges">
                    <span class="badge">{phase_text(texts, view.phase)}</span>
                    <span class="badge" data-mode=view.mode.as_str()>{if view.mode == Mode::Blind { texts.mode_blind } else { texts.mode_open }}</span>
                    {sync_badge(document)}
                </p>
                {recounts}
                {audit}
                {(stock_count && counting).then(|| view! {
                    <section class="card" aria-labelledby="count">
                        <h2 id="count">{texts.count}</h2>
                        <form class="form" data-form="count" on:submit=count>
                            <CodeField value=code on_code=Callback::new(use_code) />
                            <label>
                                <span>{texts.search}</span>
                                <input type="search" name="item-search" prop:value=move || item_search.get() on:input=search_items />
                            </label>
                            <label>
                                <span>{texts.item}</span>
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
                            {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
                            <button type="submit" class="primary">{texts.count}</button>
                        </form>
                        <h3>{texts.my_counts}</h3>
                        <ul class="count-entries">{my_entries}</ul>
                    </section>
                })}
                <section class="card" aria-labelledby="totals" class:hidden=!stock_count>
                    <h2 id="totals">{texts.totals}</h2>
                    <table class="stock-table">
                        <thead>
                            <tr>
                                <th>{texts.item}</th>
                                <th class="number">{texts.counted}</th>
                                {reveal.then(|| view! { <th class="number">{texts.expected}</th><th class="number">{texts.variance}</th> })}
                            </tr>
                        </thead>
                        <tbody>{totals}</tbody>
                    </table>
                    {(!reveal).then(|| view! { <p class="muted" data-blind="yes">{texts.blind_hint}</p> })}
                </section>
                {phase_actions.map(|actions| view! { <div class="order-actions">{actions}</div> })}
                {adjustments}
            </article>
        }
        .into_any()
    }
}
