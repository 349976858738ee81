//! Getting around on a phone: the bottom tab bar, whose tabs follow the person's roles
//! (`shared::routes::tabs`), the "+" that reports a fault from any page, and the way back
//! from a document to its list as it was left (`Travel`, `BackLink`).

use std::collections::HashMap;

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;
use shared::directory::Role;
use shared::routes::{AppRoute, Tab, more_tabs, tabs};

use crate::i18n::use_texts;
use crate::session::use_session;

/// The roles the signed-in person holds across their sites.
fn roles() -> Memo<Vec<Role>> {
    let current = use_session();
    Memo::new(move |_| {
        current
            .session
            .with(|session| session.as_ref().map(|session| session.sites.iter().map(|site| site.role).collect()).unwrap_or_default())
    })
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
    let inbox = crate::inbox::use_inbox();
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
                            // What is new for the person, on the tab that lists it.
                            let new = move || {
                                let count = if tab == Tab::Todo { inbox.unseen.get() } else { 0 };
                                (count > 0).then(|| {
                                    let label = texts.get().new_waiting.replace("{}", &count.to_string());
                                    view! { <span class="tab-badge" data-unseen=count aria-label=label>{count.min(99)}</span> }
                                })
                            };
                            view! {
                                <A href=tab.route().pattern() attr:class=if current { "tab current" } else { "tab" } attr:data-tab=tab.name()>
                                    <span class="tab-label">{move || texts.get().tab(tab)}</span>
                                    {new}
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
            <A href=AppRoute::Report.pattern() attr:class="report-button" attr:data-action="report-anywhere" attr:title=move || texts.get().report_fault>
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

/// Where the app has been since it opened: each address's scroll position, put back when
/// the browser's back (or forward) returns to it, and how many pages deep the app's own
/// history goes, so a page's "back" knows whether the browser's back stays in the app.
#[derive(Clone, Copy)]
pub struct Travel {
    positions: StoredValue<HashMap<String, f64>>,
    /// The address a back or forward step returns to, until its position is put back.
    returning: StoredValue<Option<String>>,
    /// Pages opened inside the app since it opened, less the steps back.
    depth: RwSignal<usize>,
}

/// The address shown now: path and query (a list's filter lives in its query).
fn address() -> String {
    let location = window().location();
    format!("{}{}", location.pathname().unwrap_or_default(), location.search().unwrap_or_default())
}

/// How many frames a page being returned to has to draw itself before its position is
/// put back as far as it goes (its lists come from the phone's memory: one or two do).
const FRAMES_TO_DRAW: u32 = 30;

/// Starts keeping scroll positions. The router draws the page after the browser would
/// have restored the position (to a page not drawn yet, so to the top): the app does it
/// instead, once the page is tall enough.
pub fn provide_travel() {
    let travel = Travel { positions: StoredValue::new(HashMap::new()), returning: StoredValue::new(None), depth: RwSignal::new(0) };
    if let Ok(history) = window().history() {
        let _ = history.set_scroll_restoration(web_sys::ScrollRestoration::Manual);
    }
    let scrolled = window_event_listener(leptos::ev::scroll, move |_| {
        if travel.returning.with_value(Option::is_none) {
            let at = window().scroll_y().unwrap_or_default();
            travel.positions.update_value(|positions| {
                positions.insert(address(), at);
            });
        }
    });
    let popped = window_event_listener(leptos::ev::popstate, move |_| {
        let here = address();
        travel.depth.update(|depth| *depth = depth.saturating_sub(1));
        travel.returning.set_value(Some(here.clone()));
        let wanted = travel.positions.with_value(|positions| positions.get(&here).copied()).unwrap_or(0.0);
        put_back(travel, here, wanted, FRAMES_TO_DRAW);
    });
    on_cleanup(move || {
        scrolled.remove();
        popped.remove();
    });
    provide_context(travel);
}

/// Scrolls to `wanted` once the page at `here` is tall enough, or after `frames` frames as
/// far as it goes; then scrolling is recorded again.
fn put_back(travel: Travel, here: String, wanted: f64, frames: u32) {
    request_animation_frame(move || {
        if address() != here {
            travel.returning.set_value(None);
            return;
        }
        let root = document().document_element();
        let tall = root.as_ref().map_or(0, web_sys::Element::scroll_height) as f64;
        let screen = window().inner_height().ok().and_then(|height| height.as_f64()).unwrap_or_default();
        if tall >= wanted + screen || frames == 0 {
            window().scroll_to_with_x_and_y(0.0, wanted);
            travel.returning.set_value(None);
        } else {
            put_back(travel, here, wanted, frames - 1);
        }
    });
}

/// Counts the pages opened inside the app (a new path; a query replaced in place is the
/// same page).
#[component]
pub fn TravelCounter() -> impl IntoView {
    let travel = expect_context::<Travel>();
    let location = use_location();
    Effect::new(move |_| {
        let _ = location.pathname.get();
        if travel.returning.with_value(Option::is_none) {
            travel.depth.update(|depth| *depth += 1);
        }
    });
}

/// "‹ Back" at the top of a document's page when the app came here from a page of its own:
/// the browser's back (the list comes back with its filter and where it was scrolled);
/// else "‹ Orders", a link to the first of `lists` the person works from, else to-do.
#[component]
pub fn BackLink(lists: &'static [Tab]) -> impl IntoView {
    let texts = use_texts();
    let travel = expect_context::<Travel>();
    let roles = roles();
    let list = Memo::new(move |_| {
        let roles = roles.get();
        let theirs: Vec<Tab> = tabs(&roles).into_iter().chain(more_tabs(&roles)).collect();
        lists.iter().copied().find(|list| theirs.contains(list)).unwrap_or(Tab::Todo)
    });
    let back = move |event: leptos::ev::MouseEvent| {
        if travel.depth.get_untracked() > 1
            && let Ok(history) = window().history()
        {
            event.prevent_default();
            let _ = history.back();
        }
    };
    view! {
        <p class="breadcrumb">
            <a href=move || list.get().route().pattern() data-action="back" on:click=back>
                {move || format!("‹ {}", if travel.depth.get() > 1 { texts.get().back } else { texts.get().tab(list.get()) })}
            </a>
        </p>
    }
}

/// How long after a tap or a key a save counts as the person's own (and is confirmed):
/// saves made by the app itself — a preventive order falling due — pass unannounced.
const GESTURE_MILLIS: f64 = 3_000.0;

/// How long the confirmation of a save stays.
const SAVED_SHOWN: std::time::Duration = std::time::Duration::from_millis(2_500);

/// "Saved on this phone" / "Saved and synced" for a moment after each change a person
/// makes, above the tab bar: every action that saves says so, whatever page it is on.
#[component]
pub fn SavedNote() -> impl IntoView {
    let texts = use_texts();
    let replica = crate::replica::use_replica();
    let gesture = StoredValue::new(f64::NEG_INFINITY);
    let noted = move |_| gesture.set_value(js_sys::Date::now());
    let listeners = [
        window_event_listener(leptos::ev::pointerup, move |_| noted(())),
        window_event_listener(leptos::ev::keydown, move |_| noted(())),
        window_event_listener(leptos::ev::change, move |_| noted(())),
    ];
    on_cleanup(move || listeners.into_iter().for_each(WindowListenerHandle::remove));
    let saved = Memo::new(move |_| replica.view.with(|view| view.last_saved));
    let shown = RwSignal::new(None::<(shared::protocol::DocumentId, u64)>);
    Effect::new(move |_| {
        let Some(save) = saved.get() else { return };
        if js_sys::Date::now() - gesture.get_value() > GESTURE_MILLIS {
            return;
        }
        shown.set(Some(save));
        set_timeout(
            move || {
                shown.update(|shown| {
                    if *shown == Some(save) {
                        *shown = None;
                    }
                });
            },
            SAVED_SHOWN,
        );
    });
    move || {
        shown.get().map(|(id, _)| {
            let synced = move || replica.view.with(|view| view.documents.get(&id) == Some(&crate::replica::DocumentState::Synced));
            view! {
                <p class="saved-note" role="status" data-saved=move || if synced() { "synced" } else { "local" }>
                    {move || if synced() { texts.get().saved_and_synced } else { texts.get().saved_on_phone }}
                </p>
            }
        })
    }
}
