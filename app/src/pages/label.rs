//! `/l/<code>`: what a label's QR code opens, from a phone's own camera app or WeChat's
//! scanner as well as the app's. The place or asset with that code at one of the reader's
//! sites — where it is, what it is — with "start a round here" and "report a fault here",
//! each opening its form on the start page with the place (and asset) filled in; a meter's
//! label opens the meter, to enter a reading. Works offline, from the catalogs on the phone.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use shared::directory::Role;
use shared::document::catalog::same_code;
use shared::routes::AppRoute;

use crate::edits::{catalog_of, read_catalog};
use crate::i18n::use_texts;
use crate::replica::use_replica;
use crate::session::use_session;

/// A label found at one of the reader's sites.
#[derive(Clone, Debug, PartialEq)]
struct Found {
    site: String,
    site_name: String,
    role: Role,
    /// The place's name with the buildings and floors it is in, outermost first.
    place_path: Vec<String>,
    /// The asset's name, for an asset's label (its tag is the code).
    asset: Option<String>,
}

#[component]
pub fn LabelPage() -> impl IntoView {
    let texts = use_texts();
    let current = use_session();
    let replica = use_replica();
    let params = use_params_map();
    // The router hands the segment as it came: decoded the way the server encoded it.
    let code =
        Memo::new(move |_| params.with(|params| params.get("code")).and_then(|raw| shared::routes::scanned_code(&format!("/l/{raw}"))));
    // A meter's label opens the meter, to enter a reading.
    let meter = Memo::new(move |_| {
        let _ = replica.revision.get();
        let session = current.session.get()?;
        let code = code.get()?;
        session.sites.iter().find_map(|site| {
            let catalog = read_catalog(replica, &catalog_of(&session, &site.id)?)?;
            let meter = catalog.meters.iter().find(|meter| !meter.tag.is_empty() && same_code(&meter.tag, &code))?;
            Some(format!("/meters/{}/{}", site.id, meter.id))
        })
    });
    let navigate = use_navigate();
    Effect::new(move || {
        if let Some(page) = meter.get() {
            navigate(&page, NavigateOptions { replace: true, ..Default::default() });
        }
    });
    // `None` while a site's catalog has yet to reach the phone (just signed in): "not
    // found" would be said too soon.
    let found = Memo::new(move |_| {
        let _ = replica.revision.get();
        let session = current.session.get()?;
        let Some(code) = code.get() else { return Some(None) };
        let catalogs: Vec<_> =
            session.sites.iter().map(|site| (site, catalog_of(&session, &site.id).and_then(|id| read_catalog(replica, &id)))).collect();
        let found = catalogs.iter().find_map(|(site, catalog)| {
            let catalog = catalog.as_ref()?;
            let (asset, place) = catalog.find_code(&code)?;
            Some(Found {
                site: site.id.to_string(),
                site_name: site.name.clone(),
                role: site.role,
                place_path: catalog.place_path(place.id.as_str()),
                asset: asset.map(|asset| asset.name.clone()),
            })
        });
        match found {
            Some(found) => Some(Some(found)),
            None if catalogs.iter().any(|(_, catalog)| catalog.is_none()) => None,
            None => Some(None),
        }
    });
    let body = move || {
        let texts = texts.get();
        let shown = code.get().unwrap_or_default();
        match found.get() {
            None => view! { <p class="muted" data-label="looking">{texts.label_looking}</p> }.into_any(),
            Some(None) => view! {
                <section class="card">
                    <h1>{texts.label_heading} " " <code>{shown.clone()}</code></h1>
                    <p class="empty" data-label="unknown">{texts.label_unknown.replace("{}", &shown)}</p>
                    <A href="/" attr:class="button-link">{texts.back_home}</A>
                </section>
            }
            .into_any(),
            Some(Some(found)) => {
                // The fault form is on the report page, starting a round on the rounds page.
                let query = |form: &str| {
                    let page = if form == "fault" { AppRoute::Report } else { AppRoute::Rounds };
                    format!("{}?for={form}&site={}&code={}", page.pattern(), encode(&found.site), encode(&shown))
                };
                let walks_rounds = found.role.walks_rounds();
                let (heading, where_line) = match &found.asset {
                    // The tag is in the line above, with the site.
                    Some(name) => (name.clone(), Some(texts.label_asset_at.replace("{}", &found.place_path.join(" › ")))),
                    None => (
                        found.place_path.last().cloned().unwrap_or_default(),
                        (found.place_path.len() > 1).then(|| found.place_path[..found.place_path.len() - 1].join(" › ")),
                    ),
                };
                view! {
                    <section class="card label-page" data-label=shown.clone() data-site=found.site.clone()>
                        <p class="muted">{found.site_name.clone()} " · " <code>{shown.clone()}</code></p>
                        <h1>{heading}</h1>
                        {where_line.map(|line| view! { <p class="muted">{line}</p> })}
                        <div class="actions">
                            {walks_rounds.then(|| view! { <A href=query("round") attr:class="button primary" attr:data-action="round-here">{texts.round_here}</A> })}
                            <A href=query("fault") attr:class="button" attr:data-action="fault-here">{texts.fault_here}</A>
                        </div>
                    </section>
                }
                .into_any()
            }
        }
    };
    view! { <div class="label">{body}</div> }
}

/// A query value, percent-encoded.
fn encode(value: &str) -> String {
    js_sys::encode_uri_component(value).as_string().unwrap_or_default()
}
