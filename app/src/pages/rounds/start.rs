//! "Start a round": a checklist and a place from the site's catalog — picked from lists,
//! typed as the code on a label, or scanned from the label's QR code.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use shared::directory::{SiteId, Username};
use shared::document::DocumentType;
use shared::document::catalog::{CatalogView, IndexEntry};
use shared::document::inspection::{Inspection, NewInspection};
use shared::document::template::ChecklistCategory;
use shared::document::template::ChecklistTemplate;
use shared::protocol::DocumentId;

use super::read_catalog;
use crate::edits::{catalog_of, edit_now, index_in_catalog};
use crate::error::AppError;
use crate::fields::{CodeField, PlacePicker, SiteChoice};
use crate::i18n::{CurrentLanguage, Language, Texts, use_texts};
use crate::replica::{Replica, use_replica};
use crate::session::{Session, use_session};

/// Starts a round of the template `template_url` at `place` and lists it in the site's
/// index; a room-by-room checklist at a building covers every room inside it.
pub(super) async fn start_round(
    replica: Replica,
    session: &Session,
    site: &str,
    catalog: &CatalogView,
    template_url: &str,
    place: &str,
    texts: &Texts,
) -> Result<DocumentId, AppError> {
    let template_id = DocumentId::parse(template_url)?;
    let checklist = replica
        .read(&template_id, |doc| ChecklistTemplate::read_doc(doc).ok())
        .flatten()
        .map(|(_, checklist)| checklist)
        .ok_or_else(|| AppError::Invalid(texts.template_not_here.to_owned()))?;
    let rooms = if checklist.known_category().is_some_and(ChecklistCategory::walks_room_by_room) {
        catalog.rooms_in(place).into_iter().map(|room| room.id.to_string()).collect()
    } else {
        Vec::new()
    };
    let edit = edit_now(&session.user.username)?;
    let new = NewInspection {
        site: SiteId::parse(site)?,
        template: template_url.to_owned(),
        checklist: checklist.clone(),
        location: place.to_owned(),
        rooms,
        assignees: vec![Username::parse(&session.user.username)?],
    };
    let actor = replica.device_actor().ok_or(AppError::SignedOut)?;
    let round = Inspection::start(actor, &new, &edit)?;
    let id = crate::replica::new_document_id();
    replica.create(id, round.into_doc()).await?;
    let place_name = catalog.place(place).map(|known| known.name.clone()).unwrap_or_default();
    let entry = IndexEntry {
        document: id.url(),
        document_type: DocumentType::Inspection,
        title: format!("{} · {place_name}", checklist.name.zh),
        status: "in_progress".to_owned(),
        location: place.to_owned(),
        updated_at: edit.at,
    };
    index_in_catalog(replica, session, site, entry, &edit).await?;
    Ok(id)
}

#[component]
pub fn StartRound() -> impl IntoView {
    let texts = use_texts();
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    let current = use_session();
    let replica = use_replica();
    let navigate = use_navigate();
    let site = RwSignal::new(String::new());
    let template = RwSignal::new(String::new());
    let place = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    // The chosen site, or the first.
    let chosen_site = move || current.session.get()?.site_or_first(&site.get()).map(|known| known.id.clone());
    let sites = Signal::derive(move || current.session.get().map(|session| session.sites).unwrap_or_default());
    // Read once per change, however many parts of the form show it.
    let catalog = Memo::new(move |_| {
        let _ = replica.revision.get();
        let session = current.session.get()?;
        read_catalog(replica, &catalog_of(&session, &chosen_site()?)?)
    });
    // A typed or scanned label chooses the place (an asset's label, the asset's place).
    let use_code = move |typed: String| {
        code.set(typed.clone());
        let found = catalog.with_untracked(|catalog| {
            catalog.as_ref().and_then(|catalog| catalog.find_code(&typed).map(|(_, place)| place.id.to_string()))
        });
        match found {
            Some(id) => {
                place.set(id);
                error.set(None);
            }
            None if typed.trim().is_empty() => error.set(None),
            None => error.set(Some(texts.get_untracked().unknown_code.replace("{}", typed.trim()))),
        }
    };
    // Sent here by a label's page: that place (or asset), and this form in view.
    let section = NodeRef::<leptos::html::Section>::new();
    crate::fields::take_label_request("round", section, site, catalog, use_code);
    let start = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let (Some(session), Some(site_id), Some(catalog)) = (current.session.get_untracked(), chosen_site(), catalog.get_untracked())
        else {
            return;
        };
        // Both chosen by the person, never taken by default: a round started at the wrong
        // place or of the wrong checklist is a round to discard.
        let texts = texts.get_untracked();
        let (template_url, place_id) = (template.get_untracked(), place.get_untracked());
        if template_url.is_empty() {
            error.set(Some(texts.choose_checklist.to_owned()));
            return;
        }
        if place_id.is_empty() {
            error.set(Some(texts.choose_place.to_owned()));
            return;
        }
        let navigate = navigate.clone();
        spawn_local(async move {
            match start_round(replica, &session, &site_id, &catalog, &template_url, &place_id, texts).await {
                Ok(id) => navigate(&format!("/rounds/{id}"), Default::default()),
                Err(message) => error.set(Some(message.to_string())),
            }
        });
    };
    let templates = move || {
        let language = language.get();
        let texts = texts.get();
        catalog.get().map(|catalog| {
            // Drafts never published are not offered.
            let templates = catalog
                .templates
                .iter()
                .filter(|known| known.is_published())
                .map(|known| {
                    let name = if language == Language::Chinese { known.name_zh.clone() } else { known.name_en.clone() };
                    view! { <option value=known.document.clone() selected=template.get_untracked() == known.document>{name}</option> }
                })
                .collect_view();
            view! {
                <label>
                    <span>{texts.checklist}</span>
                    <select name="template" on:change=move |event| template.set(event_target_value(&event))>
                        <option value="" selected=template.get_untracked().is_empty()>{texts.choose_checklist}</option>
                        {templates}
                    </select>
                </label>
            }
        })
    };
    view! {
        <section node_ref=section class="card" aria-labelledby="start-round">
            <h2 id="start-round">{move || texts.get().start_round}</h2>
            <form class="form" on:submit=start data-form="round">
                <SiteChoice sites=sites chosen=site name="site" />
                <CodeField value=code on_code=Callback::new(use_code) />
                {templates}
                <PlacePicker catalog=catalog.into() chosen=place none=Signal::derive(move || texts.get().choose_place) />
                {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
                <button type="submit" class="primary" prop:disabled=move || catalog.with(Option::is_none)>
                    {move || if catalog.with(Option::is_some) { texts.get().start } else { texts.get().catalog_not_here }}
                </button>
            </form>
        </section>
    }
}

/// The language's name of a catalog template.
pub(super) fn template_name(catalog: &CatalogView, url: &str, language: Language) -> String {
    catalog
        .templates
        .iter()
        .find(|known| known.document == url)
        .map(|known| if language == Language::Chinese { known.name_zh.clone() } else { known.name_en.clone() })
        .unwrap_or_default()
}
