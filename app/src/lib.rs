//! The Houqin PWA: pages, local storage, sync and translations, rendered in the browser.
//!
//! Layout: the router is here and nowhere else; one module per page under `pages`; IO
//! in its own modules (`server` for HTTP, `store` for IndexedDB, `replica` for sync,
//! `photos` for the camera); pure logic (translations) outside components so it is
//! tested without a DOM.

mod edits;
pub mod error;
pub mod fields;
mod files;
pub mod i18n;
mod inbox;
mod nav;
mod pages;
pub mod photos;
mod push;
pub mod replica;
mod scan;
pub mod server;
pub mod session;
pub mod store;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::{ParamSegment, PossibleRouteMatch, StaticSegment};
use shared::routes::AppRoute;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::i18n::use_texts;
use crate::session::use_session;

/// Entry point called by the generated JS glue once the wasm is instantiated.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    pages::sign_in::take_shell_form();
    mount_to_body(App);
}

/// A page's path as the router matches it.
pub type RoutePath = std::sync::Arc<dyn PossibleRouteMatch + Send + Sync>;

/// The router's path for a page, built from its pattern in `shared::routes`, where every
/// path is written (the server and the route walk read the same patterns): a static
/// segment for each word, a parameter for each `:name`.
pub fn path_of(route: AppRoute) -> RoutePath {
    fn segment(segment: &'static str) -> RoutePath {
        match segment.strip_prefix(':') {
            Some(name) => std::sync::Arc::new(ParamSegment(name)),
            None => std::sync::Arc::new(StaticSegment(segment)),
        }
    }
    fn join(segments: &[&'static str]) -> RoutePath {
        match segments {
            [] => std::sync::Arc::new(StaticSegment("")),
            [only] => segment(only),
            [first, rest @ ..] => std::sync::Arc::new((segment(first), join(rest))),
        }
    }
    let segments: Vec<&'static str> = route.pattern().split('/').filter(|segment| !segment.is_empty()).collect();
    join(&segments)
}

/// The whole app: language, header and the page for the current URL.
#[component]
pub fn App() -> impl IntoView {
    i18n::provide_language();
    session::provide_session();
    nav::provide_travel();
    replica::provide_replica();
    inbox::provide_inbox();
    let current = use_session();
    let replica = replica::use_replica();
    // Whenever the phone (re)connects, where its person works is checked with the server:
    // a site created or a role changed since (the server closes their sync connection
    // then, so the phone reconnects and learns of it at once).
    let online = Memo::new(move |_| replica.view.with(|view| view.online));
    Effect::new(move || {
        if online.get() && current.session.with_untracked(Option::is_some) {
            spawn_local(session::refresh(current));
        }
    });
    // Sync runs while someone is signed in.
    Effect::new(move || match current.session.get() {
        Some(session) => spawn_local(async move {
            if let Err(error) = replica.start(&session).await {
                leptos::logging::error!("cannot start syncing: {error}");
            }
        }),
        None => replica.stop(),
    });
    view! {
        <Router>
            <SessionGate />
            <nav::TravelCounter />
            <Header />
            <UpdateBanner />
            <InsecureBanner />
            <main class="page">
                <nav::SyncLine />
                // Due preventive orders are made on whichever page is open.
                <pages::orders::PreventiveMaintenance />
                // So are meters' alarms, on the phones of those who read meters.
                <pages::meters::MeterAlarms />
                <Routes fallback=pages::not_found::NotFound>
                    <Route path=path_of(AppRoute::Home) view=pages::home::Home />
                    <Route path=path_of(AppRoute::Settings) view=pages::settings::Settings />
                    <Route path=path_of(AppRoute::SignIn) view=pages::sign_in::SignIn />
                    <Route path=path_of(AppRoute::Round) view=pages::rounds::Round />
                    <Route path=path_of(AppRoute::RoundReport) view=pages::rounds::report::RoundReport />
                    <Route path=path_of(AppRoute::WorkOrder) view=pages::orders::page::OrderPage />
                    <Route path=path_of(AppRoute::Stocktake) view=pages::stock::page::StocktakePage />
                    <Route path=path_of(AppRoute::StockItem) view=pages::stock::history::StockItemHistory />
                    <Route path=path_of(AppRoute::Dashboard) view=pages::review::Dashboard />
                    <Route path=path_of(AppRoute::DocumentReview) view=pages::review::document::DocumentReview />
                    <Route path=path_of(AppRoute::Admin) view=pages::admin::AdminHome />
                    <Route path=path_of(AppRoute::AdminPeople) view=pages::admin::people::People />
                    <Route path=path_of(AppRoute::AdminSite) view=pages::admin::site::SiteAdmin />
                    <Route path=path_of(AppRoute::TemplateEditor) view=pages::admin::template::TemplateBuilder />
                    <Route path=path_of(AppRoute::Label) view=pages::label::LabelPage />
                    <Route path=path_of(AppRoute::Rounds) view=pages::lists::RoundsPage />
                    <Route path=path_of(AppRoute::Orders) view=pages::lists::OrdersPage />
                    <Route path=path_of(AppRoute::Report) view=pages::lists::ReportPage />
                    <Route path=path_of(AppRoute::Store) view=pages::lists::StorePage />
                    <Route path=path_of(AppRoute::Stocktakes) view=pages::lists::StocktakesPage />
                    <Route path=path_of(AppRoute::Me) view=pages::lists::MePage />
                    <Route path=path_of(AppRoute::FoodSamples) view=pages::samples::SamplesPage />
                    <Route path=path_of(AppRoute::Meal) view=pages::samples::MealPage />
                    <Route path=path_of(AppRoute::Meters) view=pages::meters::MetersPage />
                    <Route path=path_of(AppRoute::Meter) view=pages::meters::MeterPage />
                </Routes>
            </main>
            <nav::SavedNote />
            <nav::TabBar />
        </Router>
    }
}

/// Sends a phone with no session from the pages that need one to the sign-in page (once
/// the stored session has been read), and a signed-in one away from it: to the page it
/// was sent from (`?next=`, say a scanned label's), else home.
#[component]
fn SessionGate() -> impl IntoView {
    let current = use_session();
    let location = use_location();
    let navigate = use_navigate();
    Effect::new(move || {
        if !current.ready.get() {
            return;
        }
        let path = location.pathname.get();
        let route = AppRoute::recognize(&path);
        let signed_in = current.session.get().is_some();
        match route {
            Some(AppRoute::SignIn) if signed_in => {
                let next = location.query.with(|query| query.get("next")).filter(|next| returns_to_page(next));
                navigate(next.as_deref().unwrap_or(AppRoute::Home.pattern()), Default::default());
            }
            // Settings (the language) and unknown pages need nobody signed in.
            Some(AppRoute::Settings | AppRoute::SignIn) | None => {}
            Some(AppRoute::Home) if !signed_in => navigate(AppRoute::SignIn.pattern(), Default::default()),
            Some(_) if !signed_in => {
                // The router's `search` comes without its `?`.
                let search = location.search.get();
                let here = if search.is_empty() { path } else { format!("{path}?{search}") };
                let next = js_sys::encode_uri_component(&here).as_string().unwrap_or_default();
                navigate(&format!("{}?next={next}", AppRoute::SignIn.pattern()), Default::default());
            }
            _ => {}
        }
    });
}

/// Whether `next` is a page of this app (a path, never another site).
fn returns_to_page(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && AppRoute::recognize(next.split(['?', '#']).next().unwrap_or("")).is_some_and(|route| route != AppRoute::SignIn)
}

/// Outside a secure context (plain HTTP by a name or address on the network) browsers
/// withhold the service worker, the camera and `crypto.subtle`: say so, rather than let
/// offline use fail unseen.
#[component]
fn InsecureBanner() -> impl IntoView {
    let texts = use_texts();
    let secure = window().is_secure_context();
    (!secure).then(|| {
        view! {
            <div class="insecure" role="alert" data-banner="insecure">
                <span>{move || texts.get().insecure_context}</span>
                " "
                <a href="/setup" rel="external">{move || texts.get().insecure_context_help}</a>
            </div>
        }
    })
}

/// Offers a new release once its service worker is installed and waiting; taking it
/// reloads the page under the new worker (see `static/index.html`).
#[component]
fn UpdateBanner() -> impl IntoView {
    use wasm_bindgen::JsCast as _;
    use wasm_bindgen::closure::Closure;

    let texts = use_texts();
    let ready = RwSignal::new(false);
    // The page lives as long as the app: the listener may too.
    let listener = Closure::<dyn FnMut()>::new(move || ready.set(true));
    let _ = window().add_event_listener_with_callback("houqin-update-ready", listener.as_ref().unchecked_ref());
    listener.forget();
    let apply = move |_| {
        let apply =
            js_sys::Reflect::get(&window(), &"houqinApplyUpdate".into()).ok().and_then(|apply| apply.dyn_into::<js_sys::Function>().ok());
        if let Some(apply) = apply {
            let _ = apply.call0(&window());
        }
    };
    view! {
        <Show when=move || ready.get()>
            <div class="update" role="status" data-update="ready">
                <span>{move || texts.get().update_ready}</span>
                <button type="button" on:click=apply>{move || texts.get().update_now}</button>
            </div>
        </Show>
    }
}

#[component]
fn Header() -> impl IntoView {
    let texts = use_texts();
    let current = use_session();
    let replica = replica::use_replica();
    let sign_out = move |_| {
        let unsynced = replica.view.with_untracked(replica::SyncView::local_only);
        if unsynced > 0 {
            let warning = texts.get_untracked().sign_out_warning.replace("{}", &unsynced.to_string());
            if !window().confirm_with_message(&warning).unwrap_or(false) {
                return;
            }
        }
        spawn_local(async move {
            if let Err(error) = session::sign_out(current, replica).await {
                leptos::logging::warn!("cannot sign out: {error}");
            }
        });
    };
    view! {
        <header class="app-header">
            <A href=AppRoute::Home.pattern() attr:class="brand">
                {move || texts.get().app_name}
            </A>
            <nav>
                // Signed in, the settings are under "me" in the tab bar.
                <Show when=move || current.session.with(Option::is_none)>
                    <A href=AppRoute::Settings.pattern()>{move || texts.get().nav_settings}</A>
                </Show>
                <nav::ReportButton />
                <Show when=move || current.session.with(Option::is_some)>
                    <button type="button" class="link" data-action="sign-out" on:click=sign_out>
                        {move || texts.get().sign_out}
                    </button>
                </Show>
            </nav>
        </header>
    }
}
