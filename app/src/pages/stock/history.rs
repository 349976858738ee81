//! One stock item's movements (`/stock/:site/:item`): who moved how much, when, why and for
//! which order or stocktake, newest first, with the on-hand quantity after each. Where
//! merged offline movements took the item below zero, the movements that did it are named.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use shared::document::EntryId;
use shared::document::catalog::Movement;
use shared::protocol::DocumentId;

use super::movement_text;
use crate::edits::{catalog_of, read_catalog};
use crate::i18n::{CurrentLanguage, Texts, moment, use_texts};
use crate::pages::costs::use_cost_texts;
use crate::replica::{Replica, use_replica};
use crate::server::{display_name, use_site_people};
use crate::session::use_session;

/// Where a movement's reference leads: an order or stocktake on this phone, by its title.
fn reference_view(replica: Replica, texts: &Texts, reference: &str) -> AnyView {
    let Some(id) = reference.strip_prefix("automerge:").and_then(|id| DocumentId::parse(id).ok()) else {
        return reference.to_owned().into_any();
    };
    if let Some(order) = crate::pages::orders::read_order(replica, &id) {
        return view! { <a href=format!("/orders/{id}") data-order=id.to_string()>{format!("{} {}", texts.work_order, order.title)}</a> }
            .into_any();
    }
    if let Some(stocktake) = super::read_stocktake(replica, &id) {
        return view! { <a href=format!("/stocktakes/{id}")>{format!("{} {}", texts.stocktake, stocktake.location)}</a> }.into_any();
    }
    texts.document_not_on_phone.into_any()
}

#[component]
pub fn StockItemHistory() -> impl IntoView {
    let texts = use_texts();
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    let replica = use_replica();
    let current = use_session();
    let params = use_params_map();
    let site = Memo::new(move |_| params.with(|params| params.get("site")));
    let item = Memo::new(move |_| params.with(|params| params.get("item").and_then(|item| EntryId::parse(&item).ok())));
    let catalog = Memo::new(move |_| {
        let _ = replica.revision.get();
        read_catalog(replica, &catalog_of(&current.session.get()?, &site.get()?)?)
    });
    let people = use_site_people(move || site.get());
    move || {
        let texts = texts.get();
        let (Some(catalog), Some(item)) = (catalog.get(), item.get()) else {
            return view! { <p class="muted" data-history="missing">{texts.catalog_not_here}</p> }.into_any();
        };
        let Some(known) = catalog.stock_items.iter().find(|known| known.id == item).cloned() else {
            return view! { <p class="muted" data-history="missing">{texts.catalog_not_here}</p> }.into_any();
        };
        let history = catalog.stock_history(&item);
        let people = people.get();
        let unit = known.unit.clone();
        let valuation = shared::cost::Valuation::of(&catalog.ledger);
        let on_hand_value = valuation.holding(item.as_str());
        let cost_texts = use_cost_texts().get();
        let line = move |(movement, after): &(Movement, shared::quantity::Quantity)| {
            let signed = movement.delta();
            let shown = if signed.is_negative() { signed.to_string() } else { format!("+{signed}") };
            // What it was worth, and for a receipt what a unit cost and from whom.
            let value = valuation.movements.get(&movement.id).copied().unwrap_or_default();
            let bought = match (movement.unit_cost, &movement.supplier) {
                (Some(price), Some(supplier)) => format!(" ({price} × {} · {supplier})", movement.quantity),
                (Some(price), None) => format!(" ({price} × {})", movement.quantity),
                (None, Some(supplier)) => format!(" ({} {supplier})", cost_texts.supplier),
                (None, None) => String::new(),
            };
            view! {
                <tr data-movement=movement.id.to_string() data-kind=movement.kind.as_str()>
                    <td>{moment(movement.at, language.get())}<div class="muted">{display_name(&people, movement.user.as_str())}</div></td>
                    <td>{movement_text(texts, movement.kind)}<div class="muted">{reference_view(replica, texts, &movement.reference)}</div></td>
                    <td class="number">
                        <span data-delta=signed.to_string()>{shown}</span>
                        <div class="muted stock-value" data-value=value.fen().to_string()>{format!("{value}{bought}")}</div>
                        <div class="muted" data-after=after.to_string()>{format!("{} {after} {unit}", texts.balance)}</div>
                    </td>
                </tr>
            }
        };
        let below_zero = history.below_zero_since.map(|since| {
            let causes =
                history.movements[since..].iter().filter(|(movement, _)| movement.delta().is_negative()).map(line.clone()).collect_view();
            view! {
                <section class="card warning-card" data-below-zero="yes">
                    <h2>{texts.below_zero}</h2>
                    <p>{texts.below_zero_because}</p>
                    <table class="stock-table"><tbody>{causes}</tbody></table>
                </section>
            }
        });
        let rows = history.movements.iter().rev().map(line).collect_view();
        let reorder = known.reorder_point.map(|point| format!(" · {} {point} {}", texts.reorder_point, known.unit));
        view! {
            <article class="stock-history" data-item=item.to_string()>
                <crate::nav::BackLink lists=&[shared::routes::Tab::Store] />
                <h1>{format!("{} {}", known.code, known.name)}</h1>
                <p data-on-hand=history.on_hand.to_string()>{format!("{} {} {}", texts.on_hand, history.on_hand, known.unit)}{reorder}</p>
                <p data-stock-value=on_hand_value.value.fen().to_string()>
                    {format!("{} {} · {} {}", cost_texts.stock_value, on_hand_value.value, cost_texts.average_cost, on_hand_value.unit_cost())}
                </p>
                {below_zero}
                <section class="card">
                    <h2>{texts.movement_history}</h2>
                    <table class="stock-table">
                        <thead><tr><th>{texts.when_who}</th><th>{texts.movement}</th><th class="number">{texts.quantity}</th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                    {history.movements.is_empty().then(|| view! { <p class="muted">{texts.no_movements}</p> })}
                </section>
            </article>
        }
        .into_any()
    }
}
