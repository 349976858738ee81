//! A site's closures (vacations, holidays), as its administrator sets them: scheduled
//! rounds that would fall in one are not due (`shared::schedule`).

use leptos::prelude::*;
use shared::document::catalog::Closure;
use shared::time::Timestamp;

use super::site::Editing;
use super::texts::use_admin_texts;
use crate::edits::entry_id;

#[component]
pub(super) fn Closures(editing: Editing) -> impl IntoView {
    let texts = use_admin_texts();
    let (name, first, last) = (RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new(String::new()));
    let add = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let texts = texts.get_untracked();
        let day = |value: String| Timestamp::parse_date(&value).map(Timestamp::day_number);
        let Some(first_day) = day(first.get_untracked()) else { return editing.fail_at("first_day", texts.first_day) };
        // One day closed when no last day is given.
        let last_day = day(last.get_untracked()).unwrap_or(first_day);
        let closure = Closure { id: entry_id("closure"), name: name.get_untracked(), first_day, last_day };
        editing.save(
            move |catalog, edit| catalog.put_closure(&closure, edit),
            move || {
                for field in [name, first, last] {
                    field.set(String::new());
                }
            },
        );
    };
    let rows = move || {
        let texts = texts.get();
        let mut closures = editing.catalog.with(|catalog| catalog.as_ref().map(|catalog| catalog.closures.clone()).unwrap_or_default());
        closures.sort_by_key(|closure| closure.first_day);
        if closures.is_empty() {
            return view! { <p class="muted" data-closures="none">{texts.no_closures}</p> }.into_any();
        }
        closures
            .into_iter()
            .map(|closure| {
                let id = closure.id.clone();
                let remove = move |_| {
                    let id = id.clone();
                    editing.save(move |catalog, edit| catalog.remove_closure(&id, edit), || {});
                };
                let dates = format!("{} – {}", Timestamp::from_day(closure.first_day).date(), Timestamp::from_day(closure.last_day).date());
                view! {
                    <li data-closure=closure.id.to_string()>
                        <span>{closure.name.clone()} " · " <span class="muted">{dates}</span></span>
                        <button type="button" class="link-button danger" on:click=remove>{texts.remove}</button>
                    </li>
                }
            })
            .collect_view()
            .into_any()
    };
    view! {
        <section class="card" aria-labelledby="closures" data-card="closures">
            <h2 id="closures">{move || texts.get().closures}</h2>
            <p class="muted">{move || texts.get().closures_hint}</p>
            <ul class="rates">{rows}</ul>
            <form class="form" data-form="closure" on:submit=add>
                <label>
                    <span>{move || texts.get().closure_name}</span>
                    <input name="name" prop:value=name on:input=move |event| name.set(event_target_value(&event)) />
                </label>
                <label>
                    <span>{move || texts.get().first_day}</span>
                    <input type="date" name="first_day" prop:value=first on:input=move |event| first.set(event_target_value(&event)) />
                    {editing.error_at("first_day")}
                </label>
                <label>
                    <span>{move || texts.get().last_day}</span>
                    <input type="date" name="last_day" prop:value=last on:input=move |event| last.set(event_target_value(&event)) />
                </label>
                <button type="submit" class="primary">{move || texts.get().add_closure}</button>
            </form>
        </section>
    }
}
