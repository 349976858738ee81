//! Form fields several screens share: the site to work at, a place of its catalog, a
//! label's code typed as printed or scanned with the camera, and the small form that
//! corrects a quantity in a list.

use std::sync::Arc;

use leptos::prelude::*;
use shared::document::catalog::{CatalogView, Place};

use crate::i18n::use_texts;
use crate::scan::ScanButton;
use crate::session::SessionSite;

/// A choice of site, shown only to people who work at more than one of `sites`.
#[component]
pub fn SiteChoice(
    sites: Signal<Vec<SessionSite>>,
    chosen: RwSignal<String>,
    name: &'static str,
    #[prop(optional)] class: &'static str,
) -> impl IntoView {
    let texts = use_texts();
    view! {
        <Show when=move || sites.with(|sites| sites.len() > 1)>
            <label class=class>
                <span>{move || texts.get().site}</span>
                <select name=name on:change=move |event| chosen.set(event_target_value(&event))>
                    {move || {
                        sites
                            .get()
                            .into_iter()
                            .map(|site| {
                                let selected = site.id == chosen.get();
                                view! { <option value=site.id.to_string() selected=selected>{site.name}</option> }
                            })
                            .collect_view()
                    }}
                </select>
            </label>
        </Show>
    }
}

/// What a label's page (`/l/<code>`) sent the reader here to do, from the address:
/// `?for=<form>&site=<site>&code=<code>`, for the form named `form` (`round`, `fault`).
/// The form takes the site and the code once its catalog is on the phone, and comes into
/// view.
pub fn take_label_request(
    form: &'static str,
    section: NodeRef<leptos::html::Section>,
    site: RwSignal<String>,
    catalog: Memo<Option<Arc<CatalogView>>>,
    use_code: impl Fn(String) + 'static,
) {
    let query = leptos_router::hooks::use_query_map();
    let Some((wanted_site, code)) = query.with_untracked(|query| {
        (query.get("for").as_deref() == Some(form)).then(|| Some((query.get("site")?, query.get("code")?))).flatten()
    }) else {
        return;
    };
    site.set(wanted_site);
    let taken = StoredValue::new(false);
    // Runs again when the form is in the page and when the catalog arrives, whichever is last.
    Effect::new(move || {
        let Some(form) = section.get() else { return };
        if taken.get_value() || catalog.with(Option::is_none) {
            return;
        }
        taken.set_value(true);
        use_code(code.clone());
        // Once the page around it is laid out.
        request_animation_frame(move || form.scroll_into_view());
    });
}

/// The code printed on a door's or an asset's label: typed (and taken when the field is
/// left) or scanned where the browser can; either way `on_code` gets it.
#[component]
pub fn CodeField(value: RwSignal<String>, on_code: Callback<String>) -> impl IntoView {
    let texts = use_texts();
    view! {
        <div class="code-row">
            <label>
                <span>{move || texts.get().label_code}</span>
                <input
                    name="code"
                    autocomplete="off"
                    autocapitalize="characters"
                    enterkeyhint="done"
                    prop:value=value
                    on:change=move |event| on_code.run(event_target_value(&event))
                    // Enter takes the code; it does not send the form around it.
                    on:keydown=move |event: leptos::ev::KeyboardEvent| {
                        if event.key() == "Enter" {
                            event.prevent_default();
                            on_code.run(event_target_value(&event));
                        }
                    }
                />
            </label>
            <ScanButton on_code=on_code />
        </div>
    }
}

/// How many places a place picker lists at once. A site with more (a campus has thousands of
/// rooms) is narrowed by typing, so no page holds the whole catalog as options.
pub const LISTED_PLACES: usize = 50;

/// A place of a site's `catalog`, its id in `chosen`. The list shows at most
/// [`LISTED_PLACES`]; where a site has more, a search field narrows it by words of a name or
/// code, and typing takes the first place found unless the chosen one is among them. The
/// chosen place is always listed. `none` names the empty choice where a place may be left
/// out; `on_pick` hears of every place the person picks (not of changes made elsewhere).
#[component]
pub fn PlacePicker(
    catalog: Signal<Option<Arc<CatalogView>>>,
    chosen: RwSignal<String>,
    /// The field's label; "Place" if not given.
    #[prop(optional)]
    label: Option<Signal<&'static str>>,
    #[prop(optional)] none: Option<Signal<&'static str>>,
    #[prop(optional)] on_pick: Option<Callback<String>>,
) -> impl IntoView {
    let texts = use_texts();
    let query = RwSignal::new(String::new());
    let label = label.unwrap_or_else(|| Signal::derive(move || texts.get().place));
    let many = Memo::new(move |_| catalog.with(|catalog| catalog.as_ref().is_some_and(|catalog| catalog.places.len() > LISTED_PLACES)));
    let pick = move |id: String| {
        chosen.set(id.clone());
        if let Some(on_pick) = on_pick {
            on_pick.run(id);
        }
    };
    // The places listed (id and label) and how many match in all.
    let found = Memo::new(move |_| {
        let query = query.get();
        catalog.with(|catalog| {
            let (shown, total) = catalog.as_ref().map(|catalog| catalog.places_matching(&query, LISTED_PLACES)).unwrap_or_default();
            (shown.into_iter().map(|place| (place.id.to_string(), option_label(place))).collect::<Vec<_>>(), total)
        })
    });
    let narrow = move |typed: String| {
        query.set(typed);
        let current = chosen.get_untracked();
        let first =
            found.with_untracked(
                |(shown, _)| if shown.iter().any(|(id, _)| *id == current) { None } else { shown.first().map(|(id, _)| id.clone()) },
            );
        if let Some(first) = first {
            pick(first);
        }
    };
    // A few dozen options at most, rebuilt when the list or the choice changes; the chosen
    // place first if the words do not find it.
    let options = move || {
        let current = chosen.get();
        found.with(|(shown, _)| {
            let kept = if current.is_empty() || shown.iter().any(|(id, _)| *id == current) {
                None
            } else {
                catalog.with(|catalog| catalog.as_ref()?.place(&current).map(|place| (place.id.to_string(), option_label(place))))
            };
            kept.into_iter()
                .chain(shown.iter().cloned())
                .map(|(id, text)| {
                    let selected = id == current;
                    view! { <option value=id selected=selected>{text}</option> }
                })
                .collect_view()
        })
    };
    let note = move || {
        let texts = texts.get();
        found.with(|(shown, total)| match *total {
            0 if query.with(|query| !query.trim().is_empty()) => Some(texts.no_place_matches.to_owned()),
            total if total > shown.len() => Some(texts.more_places.replace("{}", &(total - shown.len()).to_string())),
            _ => None,
        })
    };
    // A choice the catalog does not hold (another site's place, or none where one is
    // needed) gives way to the first place listed, so the form never sends what it hides.
    Effect::new(move || {
        let current = chosen.get();
        let replacement = catalog.with(|catalog| {
            let catalog = catalog.as_ref()?;
            if catalog.place(&current).is_some() || (current.is_empty() && none.is_some()) {
                return None;
            }
            Some(if none.is_some() { String::new() } else { found.with(|(shown, _)| shown.first().map(|(id, _)| id.clone()))? })
        });
        if let Some(replacement) = replacement.filter(|replacement| *replacement != current) {
            chosen.set(replacement);
        }
    });
    let has_catalog = Memo::new(move |_| catalog.with(Option::is_some));
    view! {
        <Show when=move || has_catalog.get()>
            <div class="place-picker">
                <Show when=move || many.get()>
                    <label>
                        <span>{move || texts.get().find_place}</span>
                        <input type="search" name="place-search" autocomplete="off" prop:value=query on:input=move |event| narrow(event_target_value(&event)) />
                    </label>
                </Show>
                <label>
                    <span>{move || label.get()}</span>
                    <select name="place" prop:value=move || chosen.get() on:change=move |event| pick(event_target_value(&event))>
                        {move || none.map(|none| view! { <option value="">{move || none.get()}</option> })}
                        {options}
                    </select>
                </label>
                {move || note().map(|note| view! { <p class="muted place-note" data-place-note="">{note}</p> })}
            </div>
        </Show>
    }
}

/// How a place is shown in a list: its name, then the code on its label.
fn option_label(place: &Place) -> String {
    format!("{} ({})", place.name, place.code)
}

/// "Correct" beside a line of a list: a quantity field and its button, made once per line
/// so what is typed stays while the list around it changes. `on_correct` hears the typed
/// quantity, or `None` when what was typed is not one.
#[component]
pub fn QuantityCorrection(
    /// The form's `data-form`.
    form: &'static str,
    /// The field's `name`.
    field: &'static str,
    on_correct: Callback<Option<shared::quantity::Quantity>>,
) -> impl IntoView {
    let texts = use_texts().get_untracked();
    let typed = RwSignal::new(String::new());
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        on_correct.run(typed.get_untracked().trim().parse().ok());
    };
    view! {
        <form class="inline-form" data-form=form on:submit=submit>
            <input name=field inputmode="decimal" prop:placeholder=texts.correct on:input=move |event| typed.set(event_target_value(&event)) />
            <button type="submit">{texts.correct}</button>
        </form>
    }
}

/// What is wrong with `field` of a form, under it while `errors` holds it: errors are
/// (field, text), one at a time.
pub fn field_error(errors: RwSignal<Option<(&'static str, String)>>, field: &'static str) -> impl IntoView {
    move || {
        errors
            .get()
            .filter(|(at, _)| *at == field)
            .map(|(_, text)| view! { <span class="field-error" role="alert" data-field-error=field>{text}</span> })
    }
}
