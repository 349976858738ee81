//! Getting around on a phone: the bottom tab bar, whose tabs follow the person's roles
//! (`shared::routes::tabs`), and the "+" that reports a fault from any page.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;
use shared::directory::Role;
use shared::routes::{AppRoute, Tab, tabs};

use crate::i18n::use_texts;
use crate::session::use_session;

/// The roles the signed-in person holds across their sites.
fn roles() -> Memo<Vec<Role>> {
    let current = use_session();
    Memo::new(move |_| current.session.with(|session| session.as_ref().map(|session| session.sites.iter().filter_map(|site| Role::parse(&site.role).ok()).collect()).unwrap_or_default()))
}

/// The page shown now, if it is one of the app's.
fn current_route() -> Memo<Option<AppRoute>> {
    let location = use_location();
    Memo::new(move |_| AppRoute::recognize(&location.pathname.get()))
}

/// The bottom bar, while someone is signed in (not on the sign-in page).
#[component]
pub fn TabBar() -> impl IntoView {
    let texts = use_texts();
    let current = use_session();
    let roles = roles();
    let route = current_route();
    let shown = move || current.session.with(Option::is_some) && route.get() != Some(AppRoute::SignIn);
    view! {
        <Show when=shown>
            <nav class="tab-bar" aria-label=move || texts.get().tab_bar>
                {move || {
                    let here = route.get().and_then(Tab::of);
                    tabs(&roles.get())
                        .into_iter()
                        .map(|tab| {
                            let current = here == Some(tab);
                            view! {
                                <A href=tab.route().pattern() attr:class=if current { "tab current" } else { "tab" } attr:data-tab=tab.name()>
                                    <span class="tab-label">{move || texts.get().tab(tab)}</span>
                                </A>
                            }
                        })
                        .collect_view()
                }}
            </nav>
        </Show>
    }
}

/// The "+" in the header that opens the fault form, on every page but the form itself
/// (and sign-in). In the header rather than floating over the page, where it covered the
/// buttons at the end of list rows.
#[component]
pub fn ReportButton() -> impl IntoView {
    let texts = use_texts();
    let current = use_session();
    let route = current_route();
    let shown = move || current.session.with(Option::is_some) && !matches!(route.get(), Some(AppRoute::SignIn | AppRoute::Report));
    view! {
        <Show when=shown>
            <A href=AppRoute::Report.pattern() attr:class="report-button" attr:data-action="report-anywhere" attr:title=move || texts.get().report_anywhere>
                {move || format!("+ {}", texts.get().tab(Tab::Report))}
            </A>
        </Show>
    }
}

/// The phone's sync state, one line at the top of every page while someone is signed in:
/// one status for the whole app.
#[component]
pub fn SyncLine() -> impl IntoView {
    let current = use_session();
    let route = current_route();
    let shown = move || current.session.with(Option::is_some) && route.get() != Some(AppRoute::SignIn);
    view! {
        <Show when=shown>
            <crate::pages::home::SyncSummary />
        </Show>
    }
}
