//! The Houqin PWA: pages, local storage, sync and translations, rendered in the browser.
//!
//! Layout: the router is here and nowhere else; one module per page under `pages`; IO
//! (HTTP, the IndexedDB `store`, the sync socket later) in its own modules; pure logic
//! (translations) outside components so it is tested without a DOM.

pub mod i18n;
mod pages;
pub mod server;
pub mod store;

use leptos::prelude::*;
use leptos_router::StaticSegment;
use leptos_router::components::{A, Route, Router, Routes};
use shared::routes::AppRoute;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::i18n::use_texts;

/// Entry point called by the generated JS glue once the wasm is instantiated.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

/// The router's path for a page; the list of pages lives in `shared::routes`.
fn segment(route: AppRoute) -> StaticSegment<&'static str> {
    StaticSegment(route.pattern().trim_start_matches('/'))
}

/// The whole app: language, header and the page for the current URL.
#[component]
pub fn App() -> impl IntoView {
    i18n::provide_language();
    view! {
        <Router>
            <Header />
            <main class="page">
                <Routes fallback=pages::not_found::NotFound>
                    <Route path=segment(AppRoute::Home) view=pages::home::Home />
                    <Route path=segment(AppRoute::Settings) view=pages::settings::Settings />
                </Routes>
            </main>
        </Router>
    }
}

#[component]
fn Header() -> impl IntoView {
    let texts = use_texts();
    view! {
        <header class="app-header">
            <A href=AppRoute::Home.pattern() attr:class="brand">
                {move || texts.get().app_name}
            </A>
            <nav>
                <A href=AppRoute::Settings.pattern()>{move || texts.get().nav_settings}</A>
            </nav>
        </header>
    }
}
