//! Reporting a fault and following one's reports: the first documents the phone makes,
//! enough to see offline editing and sync end to end. The full work-order screens
//! (dispatch, repair, verification) build on these.

use automerge::AutoCommit;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::directory::SiteId;
use shared::document::DocumentType;
use shared::document::catalog::IndexEntry;
use shared::document::work_order::{Category, NewWorkOrder, Priority, WorkOrder, WorkOrderView};
use shared::protocol::DocumentId;

use crate::edits::{edit_now, entry_id, index_in_catalog};
use crate::i18n::{CurrentLanguage, Texts, use_texts};
use crate::photos;
use crate::replica::{self, DocumentState, use_replica};
use crate::session::use_session;

/// "Report a fault": a title and, for people at several sites, the site.
#[component]
pub fn ReportFault() -> impl IntoView {
    let texts = use_texts();
    let current = use_session();
    let title = RwSignal::new(String::new());
    let site = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let sites = move || current.session.get().map(|session| session.sites).unwrap_or_default();
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(session) = current.session.get_untracked() else { return };
        let chosen = site.get_untracked();
        let site_id = if chosen.is_empty() { session.sites.first().map(|site| site.id.clone()).unwrap_or_default() } else { chosen };
        let text = title.get_untracked();
        spawn_local(async move {
            let outcome = async {
                let edit = edit_now(&session.user.username)?;
                let new = NewWorkOrder {
                    site: SiteId::parse(&site_id).map_err(|error| error.to_string())?,
                    title: text,
                    description: String::new(),
                    location: String::new(),
                    asset: None,
                    category: Category::Other,
                    priority: Priority::Normal,
                    due_at: None,
                    source: None,
                };
                let actor = replica::device_actor().ok_or("not signed in")?;
                let order = WorkOrder::report(actor, &new, &entry_id("reported"), &edit).map_err(|error| error.to_string())?;
                let status = order.read().map_err(|error| error.to_string())?.state().status;
                let id = replica::new_document_id();
                replica::create(id, order.into_doc()).await?;
                // The site's index tells the others' phones the report exists.
                let entry = IndexEntry {
                    document: id.url(),
                    document_type: DocumentType::WorkOrder,
                    title: new.title.trim().to_owned(),
                    status: status.as_str().to_owned(),
                    location: new.location.clone(),
                    updated_at: edit.at,
                };
                index_in_catalog(&session, &site_id, entry, &edit).await
            }
            .await;
            match outcome {
                Ok(()) => {
                    title.set(String::new());
                    error.set(None);
                }
                Err(message) => error.set(Some(message)),
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="report-fault">
            <h2 id="report-fault">{move || texts.get().report_fault}</h2>
            <form class="form" on:submit=submit data-form="report">
                <label>
                    <span>{move || texts.get().fault_title}</span>
                    <input name="title" required prop:value=title on:input=move |event| title.set(event_target_value(&event)) />
                </label>
                <Show when=move || { sites().len() > 1 }>
                    <label>
                        <span>{move || texts.get().site}</span>
                        <select name="site" on:change=move |event| site.set(event_target_value(&event))>
                            {move || sites().into_iter().map(|site| view! { <option value=site.id.clone()>{site.name}</option> }).collect_view()}
                        </select>
                    </label>
                </Show>
                {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
                <button type="submit" class="primary">{move || texts.get().report}</button>
            </form>
        </section>
    }
}

fn read_order(doc: &AutoCommit) -> Option<WorkOrderView> {
    WorkOrder::from_doc(doc.clone()).ok()?.read().ok()
}

fn state_text(texts: &Texts, state: Option<DocumentState>) -> String {
    match state {
        Some(DocumentState::Synced) => texts.synced.to_owned(),
        Some(DocumentState::LocalOnly(count)) => texts.changes_on_phone.replace("{}", &count.to_string()),
        Some(DocumentState::Refused) => texts.refused.to_owned(),
        Some(DocumentState::Unavailable) => texts.unavailable.to_owned(),
        Some(DocumentState::Unknown) | None => texts.not_yet_synced.to_owned(),
    }
}

fn state_name(state: Option<DocumentState>) -> &'static str {
    match state {
        Some(DocumentState::Synced) => "synced",
        Some(DocumentState::LocalOnly(_)) => "local",
        Some(DocumentState::Refused) => "refused",
        Some(DocumentState::Unavailable) => "unavailable",
        Some(DocumentState::Unknown) | None => "unknown",
    }
}

/// A document's sync state as a badge: synced, changes on this phone, refused…
pub fn sync_badge(id: DocumentId) -> impl IntoView {
    let texts = use_texts();
    let sync = use_replica();
    let state = move || sync.view.with(|view| view.documents.get(&id).copied());
    view! {
        <span class=move || format!("badge badge-{}", state_name(state())) data-state=move || state_name(state())>
            {move || state_text(texts.get(), state())}
        </span>
    }
}

/// The work orders on this phone, newest first, each with its sync state and comments.
#[component]
pub fn MyWorkOrders() -> impl IntoView {
    let texts = use_texts();
    let sync = use_replica();
    let orders = move || {
        let _ = sync.revision.get();
        let mut orders: Vec<(DocumentId, WorkOrderView)> =
            replica::document_ids().into_iter().filter_map(|id| Some((id, replica::read(&id, read_order)??))).collect();
        orders.sort_by_key(|(_, order)| std::cmp::Reverse(order.header.created_at));
        orders
    };
    view! {
        <section class="card" aria-labelledby="my-orders">
            <h2 id="my-orders">{move || texts.get().my_reports}</h2>
            <ul class="orders">
                {move || orders().into_iter().map(|(id, order)| view! { <OrderRow id=id order=order /> }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn OrderRow(id: DocumentId, order: WorkOrderView) -> impl IntoView {
    let texts = use_texts();
    let current = use_session();
    let status = order.state().status;
    let comment = RwSignal::new(String::new());
    let photo_input = NodeRef::<leptos::html::Input>::new();
    let add_comment = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(session) = current.session.get_untracked() else { return };
        let text = comment.get_untracked();
        let picture = photo_input.get_untracked().and_then(|input| input.files()).and_then(|files| files.get(0));
        if text.trim().is_empty() && picture.is_none() {
            return;
        }
        spawn_local(async move {
            let outcome = async {
                // The photo is shrunk and kept on the phone first; the note refers to it.
                let photo = match &picture {
                    Some(picture) => Some(photos::keep(picture).await?),
                    None => None,
                };
                replica::edit(&id, |doc| {
                    let edit = edit_now(&session.user.username)?;
                    WorkOrder::edit_in(doc, |order| order.add_comment(&entry_id("comment"), &text, photo.as_ref(), &edit))
                        .map_err(|error| error.to_string())?
                        .map_err(|error| error.to_string())
                })
                .await?;
                if photo.is_some() {
                    replica::upload_files();
                }
                Ok::<(), String>(())
            }
            .await;
            match outcome {
                Ok(()) => {
                    comment.set(String::new());
                    if let Some(input) = photo_input.get_untracked() {
                        input.set_value("");
                    }
                }
                Err(message) => leptos::logging::warn!("cannot add the comment: {message}"),
            }
        });
    };
    let comments = order
        .comments
        .into_iter()
        .map(|comment| {
            let photo = comment.photo.map(|photo| view! { <Photo sha256=photo.sha256 /> });
            view! { <li class="comment"><span class="comment-text">{comment.text}</span>{photo}</li> }
        })
        .collect_view();
    view! {
        <li class="order" data-document=id.to_string()>
            <div class="order-head">
                <span class="order-title">{order.title}</span>
                <span class="muted" data-order-status=status.as_str()>{move || texts.get().status(status)}</span>
                {sync_badge(id)}
            </div>
            <ul class="comments">{comments}</ul>
            <History id=id />
            <form class="inline-form" on:submit=add_comment data-form="comment">
                <label class="photo-button" title=move || texts.get().take_photo>
                    <span aria-hidden="true">"📷"</span>
                    <input type="file" name="photo" accept="image/*" capture="environment" node_ref=photo_input />
                </label>
                <input
                    name="comment"
                    prop:placeholder=move || texts.get().add_comment
                    prop:value=comment
                    on:input=move |event| comment.set(event_target_value(&event))
                />
                <button type="submit">{move || texts.get().add}</button>
            </form>
        </li>
    }
}

/// A photo kept on the phone or on the server.
#[component]
pub fn Photo(sha256: String) -> impl IntoView {
    let current = use_session();
    let url = LocalResource::new(move || {
        let sha256 = sha256.clone();
        let token = current.session.get_untracked().map(|session| session.token).unwrap_or_default();
        async move { photos::object_url(&sha256, &token).await.ok() }
    });
    move || url.get().flatten().map(|src| view! { <img class="photo" src=src alt="" data-photo="shown" /> })
}

/// The document's history from the server — who (the person bound to each change), when,
/// what — shown on request.
#[component]
fn History(id: DocumentId) -> impl IntoView {
    let texts = use_texts();
    let current = use_session();
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    let entries = RwSignal::new(None::<Result<Vec<crate::server::HistoryEntry>, String>>);
    let load = move |_| {
        let Some(session) = current.session.get_untracked() else { return };
        spawn_local(async move { entries.set(Some(crate::server::fetch_history(&session.token, &id).await)) });
    };
    view! {
        <button type="button" class="link-button" data-action="history" on:click=load>{move || texts.get().history}</button>
        {move || {
            let texts = texts.get();
            entries.get().map(|loaded| match loaded {
                Ok(entries) => {
                    let rows = entries
                        .into_iter()
                        .map(|entry| {
                            let who = entry.user.or(entry.named).unwrap_or_else(|| texts.someone.to_owned());
                            let when = String::from(js_sys::Date::new(&(entry.at as f64).into()).to_locale_string(language.get().tag(), &wasm_bindgen::JsValue::UNDEFINED));
                            view! {
                                <li class="history-entry">
                                    <span class="who" data-who=who.clone()>{who.clone()}</span>
                                    " · " <span class="muted">{when}</span> " · " {entry.summary}
                                </li>
                            }
                        })
                        .collect_view();
                    view! { <ul class="history">{rows}</ul> }.into_any()
                }
                Err(_) => view! { <p class="muted" data-history="unavailable">{texts.history_needs_network}</p> }.into_any(),
            })
        }}
    }
}
