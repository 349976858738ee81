//! A site's labour rates, as its administrator sets them: for everyone, a role or a
//! person, per hour, from a date (`shared::cost::Rates` picks the one in force).

use leptos::prelude::*;
use shared::directory::Role;
use shared::document::catalog::{Rate, RateFor};
use shared::money::Money;
use shared::time::Timestamp;

use super::site::Editing;
use crate::edits::entry_id;
use crate::i18n::use_texts;
use crate::pages::costs::use_cost_texts;
use crate::server::{display_name, use_site_people};

/// Local midnight of a `date` field's `YYYY-MM-DD`.
fn local_day(value: &str) -> Option<Timestamp> {
    let mut parts = value.split('-').map(str::parse::<u32>);
    let (Some(Ok(year)), Some(Ok(month)), Some(Ok(day))) = (parts.next(), parts.next(), parts.next()) else { return None };
    let date = js_sys::Date::new_with_year_month_day(year, month.checked_sub(1)? as i32, day as i32);
    let millis = date.get_time();
    millis.is_finite().then_some(Timestamp::from_millis(millis as i64))
}

/// Today as a `date` field writes it, in the phone's zone.
fn today() -> String {
    let now = js_sys::Date::new_0();
    format!("{:04}-{:02}-{:02}", now.get_full_year(), now.get_month() + 1, now.get_date())
}

#[component]
pub(super) fn LabourRates(editing: Editing) -> impl IntoView {
    let texts = use_cost_texts();
    let field_texts = use_texts();
    let people = use_site_people(move || Some(editing.site.get()));
    let applies_to = RwSignal::new("everyone".to_owned());
    let (rate, from) = (RwSignal::new(String::new()), RwSignal::new(today()));
    let whom = move |to: &RateFor| match to {
        RateFor::Everyone => texts.get().everyone.to_owned(),
        RateFor::Role(role) => field_texts.get().role(*role).to_owned(),
        RateFor::Person(person) => display_name(&people.get(), person.as_str()),
    };
    let rates = move || {
        let mut rates = editing.catalog.with(|catalog| catalog.as_ref().map(|catalog| catalog.rates.clone()).unwrap_or_default());
        rates.sort_by(|a, b| (&a.applies_to, a.from).cmp(&(&b.applies_to, b.from)));
        rates
    };
    let add = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let texts = texts.get_untracked();
        let Ok(applies_to) = RateFor::parse(&applies_to.get_untracked()) else { return };
        let Some(per_hour) = rate.get_untracked().parse::<Money>().ok().filter(|rate| !rate.is_negative()) else {
            editing.fail_at("rate", texts.rate_needed);
            return;
        };
        let Some(from) = local_day(&from.get_untracked()) else { return };
        let new = Rate { id: entry_id("rate"), applies_to, per_hour, from };
        editing.save(move |catalog, edit| catalog.put_rate(&new, edit), move || rate.set(String::new()));
    };
    view! {
        <section class="card" aria-labelledby="labour-rates" data-card="labour-rates">
            <h2 id="labour-rates">{move || texts.get().labour_rates}</h2>
            <p class="muted">{move || texts.get().rates_hint}</p>
            {move || {
                let rates = rates();
                if rates.is_empty() {
                    return view! { <p class="muted" data-rates="none">{texts.get().no_rates}</p> }.into_any();
                }
                let rows = rates
                    .into_iter()
                    .map(|known| {
                        let id = known.id.clone();
                        let remove = move |_| {
                            let id = id.clone();
                            editing.save(move |catalog, edit| catalog.remove_rate(&id, edit), || {});
                        };
                        view! {
                            <li data-rate=known.applies_to.as_text() data-per-hour=known.per_hour.fen().to_string()>
                                <span>{format!("{} · {}{} · {} {}", whom(&known.applies_to), known.per_hour, texts.get().per_hour, texts.get().from_date, known.from.date())}</span>
                                " "
                                <button type="button" class="link-button danger" on:click=remove>{texts.get().remove}</button>
                            </li>
                        }
                    })
                    .collect_view();
                view! { <ul class="rates">{rows}</ul> }.into_any()
            }}
            <form class="form" data-form="rate" on:submit=add>
                <label>
                    <span>{move || texts.get().applies_to}</span>
                    <select name="applies_to" on:change=move |event| applies_to.set(event_target_value(&event))>
                        <option value="everyone">{move || texts.get().everyone}</option>
                        {move || {
                            let field_texts = field_texts.get();
                            Role::ALL.iter().map(|role| view! { <option value=RateFor::Role(*role).as_text()>{field_texts.role(*role)}</option> }).collect_view()
                        }}
                        {move || {
                            people
                                .get()
                                .into_iter()
                                .map(|person| {
                                    let value = RateFor::Person(person.username.clone()).as_text();
                                    view! { <option value=value>{person.display_name.clone()}</option> }
                                })
                                .collect_view()
                        }}
                    </select>
                </label>
                <label>
                    <span>{move || texts.get().rate_per_hour}</span>
                    <input name="rate" inputmode="decimal" prop:value=rate on:input=move |event| rate.set(event_target_value(&event)) />
                    {editing.error_at("rate")}
                </label>
                <label>
                    <span>{move || texts.get().from_date}</span>
                    <input type="date" name="from" prop:value=from on:input=move |event| from.set(event_target_value(&event)) />
                </label>
                <button type="submit" class="primary">{move || texts.get().add_rate}</button>
            </form>
        </section>
    }
}
