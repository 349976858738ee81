//! `/documents/:id`: one document as a manager reviews it — what it is and a way to its
//! own page (where a work order is verified, a stocktake approved, a round given its
//! review note), every change as a timeline (who: the person the server bound the change
//! to; the device; when; what), and its conflicting values side by side, each with a way
//! to keep it. History and conflicts come from the server and are kept for offline
//! reading; keeping a value edits the phone's copy, which then syncs.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use shared::document::conflicts::resolve;
use shared::document::{DocumentType, read_header, read_site};
use shared::projection::project;
use shared::protocol::DocumentId;

use super::age_line;
use super::texts::use_review_texts;
use crate::edits::edit_now;
use crate::error::AppError;
use crate::i18n::CurrentLanguage;
use crate::replica::use_replica;
use crate::server::{HistoryEntry, ShownConflict, display_name, fetch_kept, use_site_people};
use crate::session::use_session;

/// The document's own page, where its review actions are.
fn own_page(document_type: DocumentType, id: &DocumentId) -> Option<String> {
    match document_type {
        DocumentType::WorkOrder => Some(format!("/orders/{id}")),
        DocumentType::Inspection => Some(format!("/rounds/{id}")),
        DocumentType::Stocktake => Some(format!("/stocktakes/{id}")),
        DocumentType::FoodSamples => Some(format!("/samples/{id}")),
        DocumentType::SiteCatalog | DocumentType::ChecklistTemplate => None,
    }
}

#[component]
pub fn DocumentReview() -> impl IntoView {
    let texts = use_review_texts();
    let field_texts = crate::i18n::use_texts();
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    let current = use_session();
    let replica = use_replica();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|params| params.get("id").and_then(|id| DocumentId::parse(&id).ok())));
    Effect::new(move || {
        if let Some(id) = id.get() {
            replica.want(id);
        }
    });
    // What the phone's copy says: type, site, and the title and status a list shows.
    let local = Memo::new(move |_| {
        let _ = replica.revision.get();
        let id = id.get()?;
        replica
            .read(&id, |doc| {
                let kind = read_header(doc).ok()?.document_type;
                let site = read_site(doc)?.to_string();
                let shown = project(&id.to_string(), &mut doc.clone())
                    .ok()
                    .flatten()
                    .map(|projection| (projection.title, projection.status))
                    .unwrap_or_default();
                Some((kind, site, shown))
            })
            .flatten()
    });
    let may_resolve = move || {
        let site = local.get().map(|(_, site, _)| site);
        current.session.with(|session| {
            session.as_ref().is_some_and(|session| {
                session.sites.iter().any(|known| site.as_ref().is_some_and(|site| known.id == *site) && known.role.manages())
            })
        })
    };
    let token = move || current.session.with(|session| session.as_ref().map(|session| session.token.clone()));
    let refresh = RwSignal::new(0_u32);
    let online = Memo::new(move |_| replica.view.with(|view| view.online));
    let history = LocalResource::new(move || {
        let (token, id) = (token(), id.get());
        let _ = (online.get(), refresh.get());
        async move {
            let path = format!("/api/documents/{}/history", id.ok_or(AppError::NotOnThisPhone)?);
            fetch_kept::<Vec<HistoryEntry>>(&token.ok_or(AppError::SignedOut)?, &path, &path).await
        }
    });
    let conflicts = LocalResource::new(move || {
        let (token, id) = (token(), id.get());
        let _ = (online.get(), refresh.get(), replica.revision.get());
        async move {
            let path = format!("/api/documents/{}/conflicts", id.ok_or(AppError::NotOnThisPhone)?);
            fetch_kept::<Vec<ShownConflict>>(&token.ok_or(AppError::SignedOut)?, &path, &path).await
        }
    });
    let kept = RwSignal::new(None::<String>);
    let keep = move |path: Vec<String>, value: String| {
        let (Some(session), Some(id)) = (current.session.get_untracked(), id.get_untracked()) else { return };
        spawn_local(async move {
            let outcome = replica
                .edit(&id, |doc| {
                    let edit = edit_now(&session.user.username)?;
                    Ok(resolve(doc, &path, &value, &edit)?)
                })
                .await;
            match outcome {
                Ok(()) => kept.set(Some(value)),
                Err(error) => leptos::logging::warn!("cannot keep the value: {error}"),
            }
        });
    };
    let when = move |millis: i64| crate::i18n::moment(shared::time::Timestamp::from_millis(millis), language.get());
    let people = use_site_people(move || local.get().map(|(_, site, _)| site));
    let person = move |user: &str| people.with(|people| display_name(people, user));
    let timeline = move || {
        let texts = texts.get();
        match history.get() {
            None => view! { <p class="muted">"…"</p> }.into_any(),
            Some(Err(_)) => view! { <p class="error">{texts.needs_network}</p> }.into_any(),
            Some(Ok(kept_history)) => {
                let age = age_line(texts, &kept_history, language.get());
                let field_texts = field_texts.get();
                let language = language.get();
                let _ = replica.revision.get();
                let name = |user: &str| people.with(|people| display_name(people, user));
                let (lines, devices) = match id.get() {
                    Some(id) => {
                        replica.read(&id, |doc| super::history::lines(field_texts, language, &kept_history.value, Some(doc), &name))
                    }
                    None => None,
                }
                .unwrap_or_else(|| super::history::lines(field_texts, language, &kept_history.value, None, &name));
                let entries = kept_history
                    .value
                    .iter()
                    .zip(lines)
                    .map(|(entry, line)| {
                        view! {
                            <li class="history-entry" data-user=entry.user.as_ref().map(ToString::to_string).unwrap_or_default()>
                                <span class="who">{line.who}</span>
                                <span class="muted">{format!(" · {} · {}", line.device, when(entry.at.as_millis()))}</span>
                                <div data-what="yes">{line.what}</div>
                            </li>
                        }
                    })
                    .collect_view();
                let devices = devices
                    .into_iter()
                    .map(|(device, first, last)| view! { <li data-device=device.clone()>{format!("{device}: {}", field_texts.first_last.replace("{first}", &when(first)).replace("{last}", &when(last)))}</li> })
                    .collect_view();
                view! {
                    <p class="muted">{age}</p>
                    <ol class="history timeline" data-list="history">{entries}</ol>
                    <h3>{field_texts.devices_here}</h3>
                    <ul class="devices" data-list="devices">{devices}</ul>
                }
                .into_any()
            }
        }
    };
    let side_by_side = move || {
        let texts = texts.get();
        match conflicts.get() {
            None => view! { <p class="muted">"…"</p> }.into_any(),
            Some(Err(_)) => view! { <p class="error">{texts.needs_network}</p> }.into_any(),
            Some(Ok(found)) if found.value.is_empty() => view! { <p class="muted" data-conflicts="0">{texts.no_conflicts}</p> }.into_any(),
            Some(Ok(found)) => found
                .value
                .into_iter()
                .map(|conflict| {
                    let values = conflict
                        .values
                        .into_iter()
                        .map(|value| {
                            let path = conflict.path.clone();
                            let chosen = value.id.clone();
                            let is_kept = kept.with(|kept| kept.as_deref() == Some(value.id.as_str()));
                            view! {
                                <div class="conflict-value" data-value=value.value.clone()>
                                    <pre>{value.value.clone()}</pre>
                                    <p class="muted">{format!("{} · {}", value.user.clone().or(value.named.clone()).map(|user| person(&user)).unwrap_or_default(), when(value.at.as_millis()))}</p>
                                    {may_resolve().then(|| view! {
                                        <button type="button" data-action="keep" prop:disabled=is_kept on:click=move |_| keep(path.clone(), chosen.clone())>
                                            {if is_kept { texts.kept } else { texts.keep_this }}
                                        </button>
                                    })}
                                </div>
                            }
                        })
                        .collect_view();
                    view! {
                        <div class="conflict" data-path=conflict.path.join("/")>
                            <p><code>{conflict.path.join(" › ")}</code></p>
                            <div class="side-by-side">{values}</div>
                        </div>
                    }
                })
                .collect_view()
                .into_any(),
        }
    };
    let links = move || {
        let texts = texts.get();
        let (kind, _, _) = local.get()?;
        let id = id.get()?;
        let page = own_page(kind, &id)?;
        let report = (kind == DocumentType::Inspection)
            .then(|| view! { " " <a class="button" href=format!("/rounds/{id}/report")>{field_texts.get().print_report}</a> });
        Some(view! { <p><a class="button primary" href=page data-action="open-page">{texts.open_page}</a> {report}</p> })
    };
    view! {
        <section class="card">
            <crate::nav::BackLink lists=&[shared::routes::Tab::Dashboard] />
            <h1>{move || local.get().map(|(_, _, (title, _))| title).unwrap_or_default()}</h1>
            <p class="muted" data-status=move || local.get().map(|(_, _, (_, status))| status).unwrap_or_default()>
                {move || local.get().map(|(kind, _, (_, status))| field_texts.get().document_status(kind.as_str(), &status)).unwrap_or_default()}
            </p>
            {links}
        </section>
        <section class="card" aria-labelledby="conflicts">
            <h2 id="conflicts">{move || texts.get().conflicts}</h2>
            {side_by_side}
        </section>
        <section class="card" aria-labelledby="history">
            <h2 id="history">{move || field_texts.get().history}</h2>
            {timeline}
        </section>
    }
}
