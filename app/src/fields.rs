//! Form fields several screens share: the site to work at, and a label's code typed as
//! printed or scanned with the camera.

use leptos::prelude::*;

use crate::i18n::use_texts;
use crate::scan::ScanButton;
use crate::session::SessionSite;

/// A choice of site, shown only to people who work at more than one of `sites`.
#[component]
pub fn SiteChoice(sites: Signal<Vec<SessionSite>>, chosen: RwSignal<String>, name: &'static str, #[prop(optional)] class: &'static str) -> impl IntoView {
    let texts = use_texts();
    view! {
        <Show when=move || sites.with(|sites| sites.len() > 1)>
            <label class=class>
                <span>{move || texts.get().site}</span>
                <select name=name on:change=move |event| chosen.set(event_target_value(&event))>
                    {move || sites.get().into_iter().map(|site| view! { <option value=site.id.clone()>{site.name}</option> }).collect_view()}
                </select>
            </label>
        </Show>
    }
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
                <input name="code" autocomplete="off" autocapitalize="characters" prop:value=value on:change=move |event| on_code.run(event_target_value(&event)) />
            </label>
            <ScanButton on_code=on_code />
        </div>
    }
}
