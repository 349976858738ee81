//! Shown for an address the app has no page for.

use leptos::prelude::*;
use leptos_router::components::A;
use shared::routes::AppRoute;

use crate::i18n::use_texts;

#[component]
pub fn NotFound() -> impl IntoView {
    let texts = use_texts();
    view! {
        <h1>{move || texts.get().not_found_title}</h1>
        <p>{move || texts.get().not_found_body}</p>
        <A href=AppRoute::Home.pattern()>{move || texts.get().back_home}</A>
    }
}
