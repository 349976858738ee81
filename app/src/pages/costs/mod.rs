//! What things cost, on the phone: an order's cost — labour, parts, contractors' invoices —
//! with the forms to add an invoice and to correct the time someone worked. The figures
//! are `shared::cost`'s, worked out from the order and the site's catalog on this phone
//! (the dashboard's come from the server's summary, by the same code).
//!
//! Those who keep the store or manage see the whole cost; technicians see and add the
//! invoices (they meet the contractors), not their colleagues' rates.

mod texts;

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::cost::{CostFacts, OrderCost, Rates, Valuation, stretches};
use shared::directory::{Role, Username};
use shared::document::catalog::CatalogView;
use shared::document::work_order::{Invoice, WorkOrder, WorkOrderView};
use shared::money::Money;
use shared::protocol::DocumentId;
use shared::quantity::Quantity;

pub use self::texts::use_cost_texts;
use crate::edits::{edit_now, entry_id};
use crate::error::AppError;
use crate::i18n::CurrentLanguage;
use crate::photos;
use crate::replica::use_replica;
use crate::server::{Person, display_name};
use crate::session::use_session;

/// Minutes as hours and minutes: `1:05`.
pub fn hours_and_minutes(minutes: i64) -> String {
    format!("{}:{:02}", minutes / 60, minutes % 60)
}

/// An order's cost worked out from the documents on this phone.
fn order_cost(id: DocumentId, order: &WorkOrderView, catalog: Option<&CatalogView>, people: &[Person]) -> OrderCost {
    let role_of = |person: &Username| people.iter().find(|known| known.username == *person).map(|known| known.role);
    let (rates, ledger) = catalog.map_or((&[][..], &[][..]), |catalog| (&catalog.rates[..], &catalog.ledger[..]));
    OrderCost::of(&id.url(), &CostFacts::of(order), &Rates { rates, role_of }, ledger, &Valuation::of(ledger))
}

/// One line of the cost: what, its detail, how much.
#[derive(Clone, PartialEq)]
struct CostLine {
    kind: &'static str,
    key: String,
    what: String,
    detail: String,
    /// A word set apart: "corrected".
    badge: Option<&'static str>,
    amount: Money,
    photo: Option<String>,
}

#[component]
pub fn OrderCosts(
    id: DocumentId,
    order: Memo<Option<Arc<WorkOrderView>>>,
    catalog: Memo<Option<Arc<CatalogView>>>,
    role: Memo<Option<Role>>,
    people: Memo<Vec<Person>>,
) -> impl IntoView {
    let texts = use_cost_texts();
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    let sees_costs = Memo::new(move |_| role.get().is_some_and(Role::keeps_store));
    let adds_invoices = Memo::new(move |_| matches!(role.get(), Some(Role::Technician | Role::Manager | Role::Admin)));
    let lines = Memo::new(move |_| {
        let texts = texts.get();
        let order = order.get()?;
        let catalog = catalog.get();
        let people = people.get();
        let cost = order_cost(id, &order, catalog.as_deref(), &people);
        let mut lines = Vec::new();
        if sees_costs.get() {
            for labour in &cost.labour {
                let rate = labour.per_hour.map_or_else(|| texts.no_rate.to_owned(), |rate| format!("{rate}{}", texts.per_hour));
                lines.push(CostLine {
                    kind: "labour",
                    key: labour.person.to_string(),
                    what: format!("{} · {}", texts.labour, display_name(&people, labour.person.as_str())),
                    detail: format!("{} × {rate}", hours_and_minutes(labour.minutes)),
                    badge: labour.corrected.then_some(texts.corrected),
                    amount: labour.amount,
                    photo: None,
                });
            }
            for part in &cost.parts {
                let item = catalog.as_ref().and_then(|catalog| catalog.stock_items.iter().find(|known| known.id.as_str() == part.item));
                let name = item.map_or_else(|| part.item.clone(), |known| format!("{} × {} {}", known.name, part.quantity, known.unit));
                lines.push(CostLine {
                    kind: "part",
                    key: part.part.clone(),
                    what: format!("{} · {name}", texts.parts),
                    detail: String::new(),
                    badge: None,
                    amount: part.amount,
                    photo: None,
                });
            }
        }
        for invoice in &order.invoices {
            let by = display_name(&people, invoice.user.as_str());
            let when = crate::i18n::moment(invoice.at, language.get());
            let note = if invoice.note.is_empty() { String::new() } else { format!("{} · ", invoice.note) };
            lines.push(CostLine {
                kind: "invoice",
                key: invoice.id.to_string(),
                what: format!("{} · {}", texts.outside, invoice.vendor),
                detail: format!("{note}{by} {when}"),
                badge: None,
                amount: invoice.amount,
                photo: invoice.photo.as_ref().map(|photo| photo.sha256.clone()),
            });
        }
        let under_way = sees_costs.get().then(|| stretches(&order).1).flatten().map(|(person, since)| {
            format!(
                "{} {}",
                texts.working_since.replace("{}", &display_name(&people, person.as_str())),
                crate::i18n::moment(since, language.get())
            )
        });
        Some((lines, cost.total(), under_way))
    });
    let shown = move || sees_costs.get() || adds_invoices.get();
    move || {
        let texts = texts.get();
        shown().then(|| {
            let rows = move || {
                let (lines, _, _) = lines.get()?;
                if lines.is_empty() {
                    return Some(view! { <p class="muted" data-costs="none">{texts.nothing_costed}</p> }.into_any());
                }
                let rows = lines
                    .into_iter()
                    .map(|line| {
                        let photo = line.photo.map(|sha256| view! { <crate::pages::orders::Photo sha256=sha256 /> });
                        view! {
                            <tr data-cost=line.kind data-key=line.key data-amount=line.amount.fen().to_string()>
                                <td>
                                    {line.what}
                                    {line.badge.map(|badge| view! { " " <span class="badge" data-badge="corrected">{badge}</span> })}
                                    {(!line.detail.is_empty()).then(|| view! { <br /><span class="muted">{line.detail}</span> })}
                                    {photo}
                                </td>
                                <td class="number">{line.amount.to_string()}</td>
                            </tr>
                        }
                    })
                    .collect_view();
                Some(view! { <table class="cost-table"><tbody>{rows}</tbody></table> }.into_any())
            };
            let total = move || {
                let (_, total, under_way) = lines.get()?;
                sees_costs.get().then(|| {
                    view! {
                        <p class="cost-total" data-cost-total=total.fen().to_string()><strong>{texts.total}</strong><strong>{total.to_string()}</strong></p>
                        {under_way.map(|line| view! { <p class="muted" data-under-way="yes">{line}</p> })}
                    }
                })
            };
            view! {
                <section class="card" aria-labelledby="costs" data-card="costs">
                    <h2 id="costs">{texts.costs}</h2>
                    {rows}
                    {total}
                    <Show when=move || adds_invoices.get()>
                        <InvoiceForm id=id />
                    </Show>
                    <Show when=move || matches!(role.get(), Some(Role::Manager | Role::Admin))>
                        <LabourForm id=id order=order people=people />
                    </Show>
                </section>
            }
        })
    }
}

/// A contractor's invoice: amount, vendor, a note and a photo of it.
#[component]
fn InvoiceForm(id: DocumentId) -> impl IntoView {
    let texts = use_cost_texts();
    let current = use_session();
    let replica = use_replica();
    let (amount, vendor, note) = (RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new(String::new()));
    let error = RwSignal::new(None::<String>);
    let open = RwSignal::new(false);
    let photo_input = NodeRef::<leptos::html::Input>::new();
    let add = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(session) = current.session.get_untracked() else { return };
        let texts = texts.get_untracked();
        let Some(money) = amount.get_untracked().parse::<Money>().ok().filter(|money| *money > Money::ZERO) else {
            error.set(Some(texts.amount_needed.to_owned()));
            return;
        };
        let vendor_name = vendor.get_untracked().trim().to_owned();
        if vendor_name.is_empty() {
            error.set(Some(texts.vendor_needed.to_owned()));
            return;
        }
        let text = note.get_untracked();
        let picture = photo_input.get_untracked().and_then(|input| input.files()).and_then(|files| files.get(0));
        spawn_local(async move {
            let outcome = async {
                let photo = match &picture {
                    Some(picture) => Some(photos::keep(picture).await?),
                    None => None,
                };
                replica
                    .edit(&id, |doc| {
                        let edit = edit_now(&session.user.username)?;
                        let invoice = Invoice {
                            id: entry_id("invoice"),
                            amount: money,
                            vendor: vendor_name,
                            note: text,
                            photo: photo.clone(),
                            user: edit.user.clone(),
                            at: edit.at,
                        };
                        Ok(WorkOrder::edit_in(doc, |order| order.add_invoice(&invoice, &edit))??)
                    })
                    .await?;
                if photo.is_some() {
                    replica.upload_files();
                }
                Ok::<(), AppError>(())
            }
            .await;
            match outcome {
                Ok(()) => {
                    for field in [amount, vendor, note] {
                        field.set(String::new());
                    }
                    if let Some(input) = photo_input.get_untracked() {
                        input.set_value("");
                    }
                    error.set(None);
                    open.set(false);
                }
                Err(failure) => error.set(Some(failure.to_string())),
            }
        });
    };
    view! {
        <p>
            <button type="button" class="link-button" data-action="add-invoice" aria-expanded=move || open.get().to_string() on:click=move |_| open.update(|open| *open = !*open)>
                {move || texts.get().add_invoice}
            </button>
        </p>
        <Show when=move || open.get()>
            <form class="form" data-form="invoice" on:submit=add>
                <div class="two-columns">
                    <label>
                        <span>{move || texts.get().amount}</span>
                        <input name="amount" inputmode="decimal" prop:value=amount on:input=move |event| amount.set(event_target_value(&event)) />
                    </label>
                    <label>
                        <span>{move || texts.get().vendor}</span>
                        <input name="vendor" prop:value=vendor on:input=move |event| vendor.set(event_target_value(&event)) />
                    </label>
                </div>
                <label>
                    <span>{move || texts.get().note}</span>
                    <input name="note" prop:value=note on:input=move |event| note.set(event_target_value(&event)) />
                </label>
                <label>
                    <span>{move || texts.get().invoice_photo}</span>
                    <input type="file" name="photo" accept="image/*" capture="environment" node_ref=photo_input />
                </label>
                {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
                <button type="submit" class="primary">{move || texts.get().save}</button>
            </form>
        </Show>
    }
}

/// A manager's correction of the time someone worked on the order, and optionally its rate.
#[component]
fn LabourForm(id: DocumentId, order: Memo<Option<Arc<WorkOrderView>>>, people: Memo<Vec<Person>>) -> impl IntoView {
    let texts = use_cost_texts();
    let current = use_session();
    let replica = use_replica();
    let (person, hours, rate) = (RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new(String::new()));
    let error = RwSignal::new(None::<String>);
    let open = RwSignal::new(false);
    // Those who worked on it, then the site's technicians.
    let choices = Memo::new(move |_| {
        let people = people.get();
        let mut names: Vec<Username> = order.with(|order| {
            order.as_ref().map(|order| stretches(order).0.into_iter().map(|stretch| stretch.person).collect()).unwrap_or_default()
        });
        names.extend(people.iter().filter(|known| known.role == Role::Technician).map(|known| known.username.clone()));
        let mut seen = std::collections::BTreeSet::new();
        names.retain(|name| seen.insert(name.clone()));
        names.into_iter().map(|name| (name.to_string(), display_name(&people, name.as_str()))).collect::<Vec<_>>()
    });
    let save = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(session) = current.session.get_untracked() else { return };
        let texts = texts.get_untracked();
        let Ok(who) = Username::parse(&person.get_untracked()) else {
            error.set(Some(texts.choose_person.to_owned()));
            return;
        };
        // Hours as a decimal, read exactly (thousandths of an hour), to the nearest minute.
        let Some(minutes) = hours
            .get_untracked()
            .parse::<Quantity>()
            .ok()
            .filter(|hours| !hours.is_negative())
            .map(|hours| (hours.thousandths() * 60 + 500) / 1000)
        else {
            error.set(Some(texts.hours_needed.to_owned()));
            return;
        };
        let typed = rate.get_untracked();
        let per_hour = if typed.trim().is_empty() {
            None
        } else {
            match typed.parse::<Money>() {
                Ok(rate) if !rate.is_negative() => Some(rate),
                _ => {
                    error.set(Some(texts.rate_needed.to_owned()));
                    return;
                }
            }
        };
        spawn_local(async move {
            let outcome = replica
                .edit(&id, |doc| {
                    let edit = edit_now(&session.user.username)?;
                    Ok(WorkOrder::edit_in(doc, |order| order.correct_labour(&who, minutes, per_hour, &edit))??)
                })
                .await;
            match outcome {
                Ok(()) => {
                    error.set(None);
                    open.set(false);
                }
                Err(failure) => error.set(Some(failure.to_string())),
            }
        });
    };
    view! {
        <p>
            <button type="button" class="link-button" data-action="correct-labour" aria-expanded=move || open.get().to_string() on:click=move |_| open.update(|open| *open = !*open)>
                {move || texts.get().correct_time}
            </button>
        </p>
        <Show when=move || open.get()>
            <form class="form" data-form="labour" on:submit=save>
                <label>
                    <span>{move || texts.get().person}</span>
                    <select name="person" on:change=move |event| person.set(event_target_value(&event))>
                        <option value="">"—"</option>
                        {move || choices.get().into_iter().map(|(name, shown)| view! { <option value=name>{shown}</option> }).collect_view()}
                    </select>
                </label>
                <div class="two-columns">
                    <label>
                        <span>{move || texts.get().hours}</span>
                        <input name="hours" inputmode="decimal" prop:value=hours on:input=move |event| hours.set(event_target_value(&event)) />
                    </label>
                    <label>
                        <span>{move || texts.get().rate_optional}</span>
                        <input name="rate" inputmode="decimal" prop:value=rate on:input=move |event| rate.set(event_target_value(&event)) />
                    </label>
                </div>
                {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
                <button type="submit" class="primary">{move || texts.get().save}</button>
            </form>
        </Show>
    }
}
