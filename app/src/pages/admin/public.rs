//! Whether a site takes reports from people without an account (扫码报修) — from the
//! labels of which kinds of place — on the site's administration page. Kept on the
//! server: it needs the network.

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::document::catalog::PlaceKind;
use shared::public::PublicReporting;

use super::texts::use_admin_texts;
use crate::error::AppError;
use crate::session::use_session;

#[component]
pub fn PublicReportingCard(site: Memo<String>) -> impl IntoView {
    let texts = use_admin_texts();
    let current = use_session();
    let token = move || current.session.with_untracked(|session| session.as_ref().map(|session| session.token.clone()));
    let settings: RwSignal<Option<PublicReporting>> = RwSignal::new(None);
    let message: RwSignal<Option<(bool, String)>> = RwSignal::new(None);
    let unavailable = RwSignal::new(false);
    Effect::new(move |_| {
        let site = site.get();
        let Some(token) = token() else { return };
        spawn_local(async move {
            match crate::server::public_reporting(&token, &site).await {
                Ok(loaded) => settings.set(Some(loaded)),
                Err(_) => unavailable.set(true),
            }
        });
    });
    let save = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let (Some(token), Some(chosen)) = (token(), settings.get_untracked()) else { return };
        let site = site.get_untracked();
        spawn_local(async move {
            match crate::server::set_public_reporting(&token, &site, &chosen).await {
                Ok(saved) => {
                    settings.set(Some(saved));
                    message.set(Some((true, texts.get_untracked().public_saved.to_owned())));
                }
                Err(AppError::Network(_)) => message.set(Some((false, texts.get_untracked().needs_network.to_owned()))),
                Err(error) => message.set(Some((false, error.to_string()))),
            }
        });
    };
    let kinds = move || {
        PlaceKind::ALL
            .iter()
            .map(|&kind| {
                let checked = move || settings.with(|settings| settings.as_ref().is_some_and(|settings| settings.kinds.contains(&kind)));
                let toggle = move |event: leptos::ev::Event| {
                    let on = event_target_checked(&event);
                    settings.update(|settings| {
                        if let Some(settings) = settings {
                            settings.kinds.retain(|known| *known != kind);
                            if on {
                                settings.kinds.push(kind);
                            }
                        }
                    });
                };
                view! {
                    <label class="choice">
                        <input type="checkbox" name="kind" value=kind.as_str() prop:checked=checked on:change=toggle />
                        {move || texts.get().place_kind(kind)}
                    </label>
                }
            })
            .collect_view()
    };
    view! {
        <section class="card" aria-labelledby="public-reporting" data-card="public-reporting">
            <h2 id="public-reporting">{move || texts.get().public_reporting}</h2>
            <p class="muted">{move || texts.get().public_reporting_how}</p>
            {move || unavailable.get().then(|| view! { <p class="muted">{texts.get().needs_network}</p> })}
            {move || settings.with(Option::is_some).then(|| {
                let open = move || settings.with(|settings| settings.as_ref().is_some_and(|settings| settings.open));
                let toggle_open = move |event: leptos::ev::Event| {
                    let on = event_target_checked(&event);
                    settings.update(|settings| if let Some(settings) = settings { settings.open = on });
                };
                view! {
                    <form class="form" data-form="public-reporting" on:submit=save>
                        <label class="choice">
                            <input type="checkbox" name="open" prop:checked=open on:change=toggle_open />
                            {move || texts.get().public_open}
                        </label>
                        <fieldset prop:disabled=move || !open()>
                            <legend>{move || texts.get().public_kinds}</legend>
                            {kinds}
                        </fieldset>
                        <button type="submit" class="primary">{move || texts.get().public_save}</button>
                    </form>
                }
            })}
            {move || message.get().map(|(ok, text)| view! { <p class=if ok { "ok" } else { "error" } role="status">{text}</p> })}
        </section>
    }
}
