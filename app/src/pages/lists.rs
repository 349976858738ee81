//! The lists the tab bar opens, each a page of its own with its own address: rounds,
//! work orders, reporting a fault, the store, stocktakes, and "me".

use leptos::prelude::*;
use leptos_router::components::A;
use shared::directory::Role;
use shared::routes::{AppRoute, Tab, more_tabs};

use crate::i18n::use_texts;
use crate::pages::home::{MySites, ThisPhone};
use crate::pages::orders::{DispatchQueue, MyWork, MyWorkOrders, ReportFault};
use crate::pages::rounds::{RoundsBoard, StartRound};
use crate::pages::stock::StoreCard;
use crate::session::use_session;

/// A list page's title: its tab's name.
#[component]
fn Title(tab: Tab) -> impl IntoView {
    let texts = use_texts();
    view! { <h1 class="page-title">{move || texts.get().tab(tab)}</h1> }
}

/// The rounds due at one's sites, and starting one.
#[component]
pub fn RoundsPage() -> impl IntoView {
    view! {
        <Title tab=Tab::Rounds />
        <RoundsBoard />
        <StartRound />
        <crate::pages::samples::SamplesLink />
        <crate::pages::meters::MetersLink />
    }
}

/// Orders waiting for dispatch, one's own work, and the rest.
#[component]
pub fn OrdersPage() -> impl IntoView {
    view! {
        <Title tab=Tab::Orders />
        <DispatchQueue />
        <MyWork />
        <MyWorkOrders />
        <crate::pages::meters::MetersLink />
    }
}

/// Reporting a fault, and following the reports on this phone.
#[component]
pub fn ReportPage() -> impl IntoView {
    view! {
        <ReportFault />
        <MyWorkOrders mine=true />
    }
}

/// Stock on hand, what to reorder, and movements.
#[component]
pub fn StorePage() -> impl IntoView {
    view! {
        <Title tab=Tab::Store />
        <StoreCard stocktakes=false />
    }
}

/// Stocktakes: those under way, and starting one.
#[component]
pub fn StocktakesPage() -> impl IntoView {
    view! {
        <Title tab=Tab::Stocktakes />
        <StoreCard stock=false />
    }
}

/// Who is signed in, their sites, this phone, and the settings.
#[component]
pub fn MePage() -> impl IntoView {
    let texts = use_texts();
    view! {
        <Title tab=Tab::Me />
        <MySites />
        <MoreLists />
        <ThisPhone />
        <p><A href=AppRoute::Settings.pattern() attr:class="button-link" attr:data-action="settings">{move || texts.get().nav_settings}</A></p>
    }
}

/// The lists the person may work from that the tab bar has no room for.
#[component]
fn MoreLists() -> impl IntoView {
    let texts = use_texts();
    let current = use_session();
    let more = move || {
        current.session.with(|session| {
            let roles: Vec<Role> = session.as_ref().map(|session| session.sites.iter().map(|site| site.role).collect()).unwrap_or_default();
            more_tabs(&roles)
        })
    };
    view! {
        <Show when=move || !more().is_empty()>
            <section class="card" aria-labelledby="more-lists">
                <h2 id="more-lists">{move || texts.get().more_lists}</h2>
                <ul class="more-lists">
                    {move || {
                        more()
                            .into_iter()
                            .map(|tab| view! { <li><A href=tab.route().pattern() attr:class="button-link" attr:data-more=tab.name()>{move || texts.get().tab(tab)}</A></li> })
                            .collect_view()
                    }}
                </ul>
            </section>
        </Show>
    }
}
