//! The start page: what Houqin is and whether this phone reaches the server.

use leptos::prelude::*;

use crate::i18n::use_texts;
use crate::server::fetch_health;

#[component]
pub fn Home() -> impl IntoView {
    let texts = use_texts();
    let health = LocalResource::new(fetch_health);
    let status = move || {
        let texts = texts.get();
        let (state, text, reason) = match health.get() {
            None => ("pending", texts.checking_server.to_owned(), String::new()),
            Some(Ok(health)) => {
                ("online", format!("{} · {} {}", texts.server_reachable, texts.server_version, health.version), String::new())
            }
            Some(Err(reason)) => ("offline", texts.server_unreachable.to_owned(), reason),
        };
        view! {
            <p class=format!("status status-{state}") data-status=state title=reason>
                {text}
            </p>
        }
    };
    view! {
        <section class="hero">
            <h1>{move || texts.get().app_name}</h1>
            <p class="tagline">{move || texts.get().tagline}</p>
        </section>
        <section class="card" aria-labelledby="this-phone">
            <h2 id="this-phone">{move || texts.get().this_phone}</h2>
            {status}
            <p class="muted">{move || texts.get().app_version} " " {shared::VERSION}</p>
        </section>
    }
}
