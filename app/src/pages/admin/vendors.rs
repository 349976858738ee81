//! A site's contractors, as its administrator keeps them: who they are, their trade, whom
//! to call, and their contract's dates — managers and administrators are reminded before
//! a contract ends (`shared::notice::contracts_ending`).

use leptos::prelude::*;
use shared::document::catalog::Vendor;
use shared::document::work_order::Category;
use shared::time::Timestamp;

use super::site::Editing;
use super::texts::use_admin_texts;
use crate::edits::entry_id;
use crate::i18n::use_texts;

#[component]
pub(super) fn Vendors(editing: Editing) -> impl IntoView {
    let texts = use_admin_texts();
    let field_texts = use_texts();
    let (name, trade, contact, phone) = (
        RwSignal::new(String::new()),
        RwSignal::new(Category::Other.as_str().to_owned()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let (from, to) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let add = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let texts = texts.get_untracked();
        if name.get_untracked().trim().is_empty() {
            return editing.fail_at("vendor_name", texts.vendor_name);
        }
        let day = |value: String| Timestamp::parse_date(&value).map(Timestamp::day_number);
        let vendor = Vendor {
            id: entry_id("vendor"),
            name: name.get_untracked(),
            trade: trade.get_untracked(),
            contact: contact.get_untracked(),
            phone: phone.get_untracked(),
            contract_from: day(from.get_untracked()),
            contract_to: day(to.get_untracked()),
        };
        editing.save(
            move |catalog, edit| catalog.put_vendor(&vendor, edit),
            move || {
                for field in [name, contact, phone, from, to] {
                    field.set(String::new());
                }
            },
        );
    };
    let rows = move || {
        let texts = texts.get();
        let field_texts = field_texts.get();
        let mut vendors = editing.catalog.with(|catalog| catalog.as_ref().map(|catalog| catalog.vendors.clone()).unwrap_or_default());
        vendors.sort_by(|a, b| a.name.cmp(&b.name));
        if vendors.is_empty() {
            return view! { <p class="muted" data-vendors="none">{texts.no_vendors}</p> }.into_any();
        }
        vendors
            .into_iter()
            .map(|vendor| {
                let id = vendor.id.clone();
                let remove = move |_| {
                    let id = id.clone();
                    editing.save(move |catalog, edit| catalog.remove_vendor(&id, edit), || {});
                };
                let trade =
                    Category::parse(&vendor.trade).map(|category| field_texts.category(category).to_owned()).unwrap_or(vendor.trade);
                let reach = [vendor.contact, vendor.phone].into_iter().filter(|part| !part.is_empty()).collect::<Vec<_>>().join(" ");
                let until =
                    vendor.contract_to.map(|day| texts.contract_until.replace("{}", &Timestamp::from_day(day).date())).unwrap_or_default();
                let details = [trade, reach, until].into_iter().filter(|part| !part.is_empty()).collect::<Vec<_>>().join(" · ");
                view! {
                    <li data-vendor=vendor.id.to_string()>
                        <span>{vendor.name} <br /> <span class="muted">{details}</span></span>
                        <button type="button" class="link-button danger" on:click=remove>{texts.remove}</button>
                    </li>
                }
            })
            .collect_view()
            .into_any()
    };
    view! {
        <section class="card" aria-labelledby="vendors" data-card="vendors">
            <h2 id="vendors">{move || texts.get().vendors}</h2>
            <p class="muted">{move || texts.get().vendors_hint}</p>
            <ul class="rates">{rows}</ul>
            <form class="form" data-form="vendor" on:submit=add>
                <label>
                    <span>{move || texts.get().vendor_name}</span>
                    <input name="name" prop:value=name on:input=move |event| name.set(event_target_value(&event)) />
                    {editing.error_at("vendor_name")}
                </label>
                <label>
                    <span>{move || texts.get().trade}</span>
                    <select name="trade" on:change=move |event| trade.set(event_target_value(&event))>
                        {move || {
                            let field_texts = field_texts.get();
                            Category::ALL
                                .iter()
                                .map(|category| view! { <option value=category.as_str() selected=move || trade.get() == category.as_str()>{field_texts.category(*category)}</option> })
                                .collect_view()
                        }}
                    </select>
                </label>
                <label>
                    <span>{move || texts.get().contact}</span>
                    <input name="contact" prop:value=contact on:input=move |event| contact.set(event_target_value(&event)) />
                </label>
                <label>
                    <span>{move || texts.get().phone}</span>
                    <input name="phone" type="tel" prop:value=phone on:input=move |event| phone.set(event_target_value(&event)) />
                </label>
                <label>
                    <span>{move || texts.get().contract_from}</span>
                    <input type="date" name="contract_from" prop:value=from on:input=move |event| from.set(event_target_value(&event)) />
                </label>
                <label>
                    <span>{move || texts.get().contract_to}</span>
                    <input type="date" name="contract_to" prop:value=to on:input=move |event| to.set(event_target_value(&event)) />
                </label>
                <button type="submit" class="primary">{move || texts.get().add_vendor}</button>
            </form>
        </section>
    }
}
