//! The start page, "to do": what needs this person now; and the parts of "me" (their
//! sites, this phone) that page shows.

use leptos::prelude::*;

use crate::i18n::{CurrentLanguage, use_texts};
use crate::pages::orders::{DispatchQueue, HazardsRaised, MyWork, OverdueOrders, ToVerify};
use crate::pages::rounds::{DecisionsWaiting, RoundsBoard};
use crate::pages::stock::{ReorderWaiting, StocktakesWaiting};
use crate::replica::use_replica;
use crate::server::fetch_health;
use crate::session::use_session;

/// The to-do page, the person's inbox: what needs them now, each list its first few rows
/// and a way to the rest — rounds due and in progress, their work orders, repairs waiting
/// for them to check, hazards raised and orders overdue at the sites one manages, orders to
/// dispatch, decisions, stocktakes to count or approve, stock to reorder; what is new since
/// the page was last open marked so. Everything else is a tab away.
#[component]
pub fn Home() -> impl IntoView {
    let texts = use_texts();
    let current = use_session();
    // Everything listed here is seen while the page is in front of the person; what was
    // new is marked so while the page is open (documents arriving meanwhile included).
    let inbox = crate::inbox::use_inbox();
    inbox.fresh.set(Default::default());
    Effect::new(move || {
        inbox.waiting.track();
        if inbox.visible.get() {
            inbox.list_all();
        }
    });
    // Inspectors, dorm staff, managers and admins walk rounds.
    let walks_rounds = move || {
        current.session.with(|session| session.as_ref().is_some_and(|session| session.sites.iter().any(|site| site.role.walks_rounds())))
    };
    let who = move || {
        current.session.get().map(|session| {
            view! {
                <p class="signed-in">
                    {texts.get().signed_in_as} " "
                    <strong data-user=session.user.username>{session.user.display_name}</strong>
                </p>
            }
        })
    };
    view! {
        <h1 class="page-title">{move || texts.get().tab(shared::routes::Tab::Todo)}</h1>
        {who}
        <div class="todo">
            <Show when=walks_rounds>
                <RoundsBoard compact=true />
            </Show>
            <MyWork compact=true />
            <ToVerify />
            <HazardsRaised />
            <OverdueOrders />
            <DispatchQueue compact=true />
            <DecisionsWaiting />
            <StocktakesWaiting />
            <crate::pages::samples::SamplesToDiscard />
            <ReorderWaiting />
            // Shown by the style sheet only when no list above has anything.
            <p class="muted nothing-waiting">{move || texts.get().nothing_waiting}</p>
        </div>
    }
}

/// Who is signed in, and their sites with their role at each (and the sites' labels, for
/// those who print them).
#[component]
pub fn MySites() -> impl IntoView {
    let texts = use_texts();
    let current = use_session();
    move || {
        let texts = texts.get();
        current.session.get().map(|session| {
            let rows = session
                .sites
                .into_iter()
                .map(|site| {
                    // Managers and admins print the site's door and asset labels.
                    let labels = site.role.manages().then(|| {
                        let href = format!("/api/sites/{}/labels.svg?token={}", site.id, session.token);
                        view! { <a class="labels-link" href=href target="_blank" rel="noopener" data-action="labels">{texts.qr_labels}</a> }
                    });
                    view! {
                        <li data-site=site.id.to_string()>
                            <span class="site-name">{site.name}</span>
                            " "
                            <span class="muted">{texts.role(site.role)}</span>
                            " "
                            {labels}
                        </li>
                    }
                })
                .collect_view();
            view! {
                <section class="card" aria-labelledby="my-sites">
                    <p class="signed-in">
                        {texts.signed_in_as} " "
                        <strong data-user=session.user.username>{session.user.display_name}</strong>
                    </p>
                    <h2 id="my-sites">{texts.my_sites}</h2>
                    <ul class="sites">{rows}</ul>
                </section>
            }
        })
    }
}

/// Whether this phone reaches the server, and the app's release.
#[component]
pub fn ThisPhone() -> impl IntoView {
    let texts = use_texts();
    view! {
        <section class="card" aria-labelledby="this-phone">
            <h2 id="this-phone">{move || texts.get().this_phone}</h2>
            <ServerStatus />
            <p class="muted">{move || texts.get().app_version} " " {shared::VERSION}</p>
        </section>
    }
}

/// Whether this phone reaches the server: asked when shown, and again whenever the sync
/// connection comes or goes, so it never disagrees for long with the sync line above.
#[component]
pub fn ServerStatus() -> impl IntoView {
    let texts = use_texts();
    let replica = use_replica();
    let connected = Memo::new(move |_| replica.view.with(|view| view.online));
    let health = LocalResource::new(move || {
        let _ = connected.get();
        fetch_health()
    });
    move || {
        let texts = texts.get();
        let (state, text, reason) = match health.get() {
            None => ("pending", texts.checking_server.to_owned(), String::new()),
            Some(Ok(health)) if health.damaged => ("damaged", texts.server_damaged.to_owned(), String::new()),
            Some(Ok(health)) if health.disk_full => ("disk-full", texts.server_disk_full.to_owned(), String::new()),
            Some(Ok(health)) => {
                ("online", format!("{} · {} {}", texts.server_reachable, texts.server_version, health.version), String::new())
            }
            Some(Err(reason)) => ("offline", texts.server_unreachable.to_owned(), reason.to_string()),
        };
        view! {
            <p class=format!("status status-{state}") data-status=state title=reason>
                {text}
            </p>
        }
    }
}

/// The phone's sync state in one line: synced, changes waiting, or offline since when.
#[component]
pub fn SyncSummary() -> impl IntoView {
    let texts = use_texts();
    let replica = use_replica();
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    move || {
        let texts = texts.get();
        let view = replica.view.get();
        let waiting = view.local_only();
        let (state, text) = match (view.online, view.offline_since) {
            (true, _) if waiting == 0 && view.catching_up() => {
                ("syncing", texts.syncing_left.replace("{}", &view.catching_up_on().to_string()))
            }
            (true, _) if waiting == 0 => ("synced", texts.synced.to_owned()),
            (true, _) => ("local", texts.changes_on_phone.replace("{}", &waiting.to_string())),
            (false, Some(since)) => {
                let time = js_sys::Date::new(&(since.as_millis() as f64).into());
                let clock = String::from(time.to_locale_time_string(language.get().tag()));
                let mut text = texts.offline_since.replace("{}", &clock);
                if waiting > 0 {
                    text = format!("{text} · {}", texts.changes_on_phone.replace("{}", &waiting.to_string()));
                }
                ("offline", text)
            }
            (false, None) => ("connecting", texts.connecting.to_owned()),
        };
        // Photos go up after the changes that refer to them: say how many are left.
        let text = if view.photos_waiting > 0 {
            format!("{text} · {}", texts.photos_waiting.replace("{}", &view.photos_waiting.to_string()))
        } else {
            text
        };
        view! { <p class=format!("sync sync-{state}") data-sync=state>{text}</p> }
    }
}
