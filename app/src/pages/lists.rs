//! The lists the tab bar opens, each a page of its own with its own address: rounds,
//! work orders, reporting a fault, the store, stocktakes, and "me".

use leptos::prelude::*;
use leptos_router::components::A;
use shared::routes::{AppRoute, Tab};

use crate::i18n::use_texts;
use crate::pages::home::{MySites, SyncSummary, ThisPhone};
use crate::pages::orders::{DispatchQueue, MyWork, MyWorkOrders, PreventiveMaintenance, ReportFault};
use crate::pages::rounds::{RoundsBoard, StartRound};
use crate::pages::stock::StoreCard;

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
    }
}

/// Orders waiting for dispatch, one's own work, preventive orders due, and the rest.
#[component]
pub fn OrdersPage() -> impl IntoView {
    view! {
        <Title tab=Tab::Orders />
        <DispatchQueue />
        <MyWork />
        <PreventiveMaintenance />
        <MyWorkOrders />
    }
}

/// Reporting a fault: the form alone.
#[component]
pub fn ReportPage() -> impl IntoView {
    view! { <ReportFault /> }
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
        <SyncSummary />
        <MySites />
        <ThisPhone />
        <p><A href=AppRoute::Settings.pattern() attr:class="button-link" attr:data-action="settings">{move || texts.get().nav_settings}</A></p>
    }
}
