//! Inspection rounds: starting one from a site's checklist templates and places, and
//! answering it item by item — large pass / fail / not-applicable buttons, readings with a
//! warning outside their limits, text, choices — with progress and submission, all
//! offline. Photos, signatures, hazards and dorm rounds room by room build on this page.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_params_map};
use shared::directory::{SiteId, Username};
use shared::document::DocumentType;
use shared::document::catalog::{CatalogView, IndexEntry, SiteCatalog};
use shared::document::inspection::{AnswerValue, Inspection, InspectionView, Missing, NO_ROOM, NewInspection, Outcome, answer_key, outcome};
use shared::document::work_order::{Category, NewWorkOrder, Priority, Source, WorkOrder};
use shared::document::template::{ChecklistItem, ChecklistTemplate, ItemKind, Label};
use shared::protocol::DocumentId;

use crate::edits::{catalog_of, edit_now, entry_id, index_in_catalog};
use crate::pages::orders::Photo;
use crate::photos;
use crate::i18n::{CurrentLanguage, Language, use_texts};
use crate::replica::{self, use_replica};
use crate::session::use_session;

fn text(label: &Label, language: Language) -> String {
    match language {
        Language::Chinese => label.zh.clone(),
        Language::English => label.en.clone(),
    }
}

fn read_catalog(id: &DocumentId) -> Option<CatalogView> {
    replica::read(id, |doc| SiteCatalog::from_doc(doc.clone()).and_then(|catalog| catalog.read()).ok()).flatten()
}

fn read_round(id: &DocumentId) -> Option<InspectionView> {
    replica::read(id, |doc| Inspection::from_doc(doc.clone()).and_then(|round| round.read()).ok()).flatten()
}

/// "Start a round": a checklist and a place from the site's catalog.
#[component]
pub fn StartRound() -> impl IntoView {
    let texts = use_texts();
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    let current = use_session();
    let sync = use_replica();
    let navigate = use_navigate();
    let site = RwSignal::new(String::new());
    let template = RwSignal::new(String::new());
    let place = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    // The chosen site, or the first; its catalog as this phone has it.
    let chosen_site = move || {
        let session = current.session.get()?;
        let wanted = site.get();
        session.sites.iter().find(|known| known.id == wanted).or(session.sites.first()).map(|known| known.id.clone())
    };
    // Read once per change, however many parts of the form show it.
    let catalog = Memo::new(move |_| {
        let _ = sync.revision.get();
        let session = current.session.get()?;
        read_catalog(&catalog_of(&session, &chosen_site()?)?)
    });
    let catalog = move || catalog.get();
    let start = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let (Some(session), Some(site_id), Some(catalog)) = (current.session.get_untracked(), chosen_site(), catalog()) else { return };
        let template_url = Some(template.get_untracked()).filter(|url| !url.is_empty()).or_else(|| catalog.templates.first().map(|first| first.document.clone()));
        let place_id = Some(place.get_untracked()).filter(|id| !id.is_empty()).or_else(|| catalog.places.first().map(|first| first.id.to_string()));
        let (Some(template_url), Some(place_id)) = (template_url, place_id) else { return };
        let navigate = navigate.clone();
        let texts = texts.get_untracked();
        spawn_local(async move {
            let outcome = async {
                let template_id = DocumentId::parse(&template_url).map_err(|error| error.to_string())?;
                let checklist = replica::read(&template_id, |doc| ChecklistTemplate::from_doc(doc.clone()).and_then(|template| template.read()).ok())
                    .flatten()
                    .map(|(_, checklist)| checklist)
                    .ok_or(texts.template_not_here)?;
                let edit = edit_now(&session.user.username)?;
                let new = NewInspection {
                    site: SiteId::parse(&site_id).map_err(|error| error.to_string())?,
                    template: template_url,
                    checklist: checklist.clone(),
                    location: place_id.clone(),
                    rooms: Vec::new(),
                    assignees: vec![Username::parse(&session.user.username).map_err(|error| error.to_string())?],
                };
                let actor = replica::device_actor().ok_or("not signed in")?;
                let round = Inspection::start(actor, &new, &edit).map_err(|error| error.to_string())?;
                let id = replica::new_document_id();
                replica::create(id, round.into_doc()).await?;
                let entry = IndexEntry {
                    document: id.url(),
                    document_type: DocumentType::Inspection,
                    title: checklist.name.zh.clone(),
                    status: "in_progress".to_owned(),
                    location: place_id,
                    updated_at: edit.at,
                };
                index_in_catalog(&session, &site_id, entry, &edit).await?;
                Ok::<DocumentId, String>(id)
            }
            .await;
            match outcome {
                Ok(id) => navigate(&format!("/rounds/{id}"), Default::default()),
                Err(message) => error.set(Some(message)),
            }
        });
    };
    let options = move || {
        let language = language.get();
        catalog().map(|catalog| {
            let templates = catalog
                .templates
                .iter()
                .map(|template| {
                    let name = if language == Language::Chinese { template.name_zh.clone() } else { template.name_en.clone() };
                    view! { <option value=template.document.clone()>{name}</option> }
                })
                .collect_view();
            let places = catalog.places.iter().map(|place| view! { <option value=place.id.to_string()>{place.name.clone()}</option> }).collect_view();
            view! {
                <label>
                    <span>{texts.get().checklist}</span>
                    <select name="template" on:change=move |event| template.set(event_target_value(&event))>{templates}</select>
                </label>
                <label>
                    <span>{texts.get().place}</span>
                    <select name="place" on:change=move |event| place.set(event_target_value(&event))>{places}</select>
                </label>
            }
        })
    };
    view! {
        <section class="card" aria-labelledby="start-round">
            <h2 id="start-round">{move || texts.get().start_round}</h2>
            <form class="form" on:submit=start data-form="round">
                <Show when=move || current.session.with(|session| session.as_ref().is_some_and(|session| session.sites.len() > 1))>
                    <label>
                        <span>{move || texts.get().site}</span>
                        <select name="site" on:change=move |event| site.set(event_target_value(&event))>
                            {move || {
                                current.session.get().map(|session| {
                                    session.sites.into_iter().map(|site| view! { <option value=site.id.clone()>{site.name}</option> }).collect_view()
                                })
                            }}
                        </select>
                    </label>
                </Show>
                {options}
                {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
                <button type="submit" class="primary" prop:disabled=move || catalog().is_none()>
                    {move || if catalog().is_some() { texts.get().start } else { texts.get().catalog_not_here }}
                </button>
            </form>
        </section>
    }
}

/// One round, answered item by item.
#[component]
pub fn Round() -> impl IntoView {
    let texts = use_texts();
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    let sync = use_replica();
    let current = use_session();
    let params = use_params_map();
    let id = move || params.with(|params| params.get("id").and_then(|id| DocumentId::parse(&id).ok()));
    let missing = RwSignal::new(Vec::<Missing>::new());
    let round = move || {
        let _ = sync.revision.get();
        id().and_then(|id| read_round(&id).map(|round| (id, round)))
    };
    move || {
        let Some((id, round)) = round() else {
            return view! { <p class="muted" data-round="missing">{move || texts.get().round_not_here}</p> }.into_any();
        };
        let language = language.get();
        let texts = texts.get();
        let result = round.result();
        let submitted = round.submitted.is_some();
        let sections = round.checklist.sections.iter().map(|section| {
            let items = round
                .checklist
                .items
                .iter()
                .filter(|item| item.section == section.id)
                .map(|item| {
                    let answer = round.answers.get(&(NO_ROOM.to_owned(), item.id.clone())).map(|answer| answer.value.clone());
                    let is_missing = missing.with(|missing| missing.iter().any(|gap| matches!(gap, Missing::Answer { item: gap, .. } | Missing::PhotoOnFail { item: gap, .. } if *gap == item.id)));
                    let key = answer_key(NO_ROOM, &item.id);
                    let failed = FailedItem {
                        photos: round.photos.iter().filter(|photo| photo.key == key).map(|photo| photo.blob.sha256.clone()).collect(),
                        hazard: round.hazards.iter().find(|hazard| hazard.key == key).map(|hazard| hazard.work_order.clone()),
                        site: round.header.site.to_string(),
                        location: round.location.clone(),
                    };
                    view! { <ItemRow round=id item=item.clone() answer=answer language=language locked=submitted flagged=is_missing failed=failed /> }
                })
                .collect_view();
            view! {
                <section class="card section">
                    <h2>{text(&section.title, language)}</h2>
                    <ol class="items">{items}</ol>
                </section>
            }
        });
        let submit = move |_| {
            let Some(session) = current.session.get_untracked() else { return };
            spawn_local(async move {
                let outcome = replica::edit(&id, |doc| {
                    let edit = edit_now(&session.user.username)?;
                    Inspection::edit_in(doc, |round| round.submit(&edit)).map_err(|error| error.to_string())
                })
                .await;
                match outcome {
                    Ok(Ok(())) => missing.set(Vec::new()),
                    Ok(Err(gaps)) => missing.set(gaps),
                    Err(message) => leptos::logging::warn!("cannot submit: {message}"),
                }
            });
        };
        let status = if submitted {
            view! { <p class="submitted" data-round="submitted">{texts.submitted}</p> }.into_any()
        } else {
            view! {
                <button type="button" class="primary" data-action="submit-round" on:click=submit>{texts.submit}</button>
            }
            .into_any()
        };
        let gaps = missing.with(Vec::len);
        view! {
            <h1>{text(&round.checklist.name, language)}</h1>
            <p class="progress" data-progress=format!("{}/{}", result.answered, result.expected)>
                {texts.answered.replace("{answered}", &result.answered.to_string()).replace("{total}", &result.expected.to_string())}
            </p>
            {sections.collect_view()}
            {(gaps > 0).then(|| view! { <p class="error" role="alert" data-missing=gaps>{texts.still_missing.replace("{}", &gaps.to_string())}</p> })}
            {status}
        }
        .into_any()
    }
}

/// What a failed item carries besides its answer.
#[derive(Clone, Debug, PartialEq, Eq)]
struct FailedItem {
    /// Hashes of its photos.
    photos: Vec<String>,
    /// The work order raised for it.
    hazard: Option<String>,
    site: String,
    location: String,
}

/// One item with the controls its kind takes; a failed one also takes photos and can
/// raise a hazard.
#[component]
fn ItemRow(round: DocumentId, item: ChecklistItem, answer: Option<AnswerValue>, language: Language, locked: bool, flagged: bool, failed: FailedItem) -> impl IntoView {
    let texts = use_texts().get_untracked();
    let current = use_session();
    let item_id = item.id.clone();
    let record = move |value: AnswerValue| {
        let Some(session) = current.session.get_untracked() else { return };
        let item = item_id.clone();
        spawn_local(async move {
            let outcome = replica::edit(&round, |doc| {
                let edit = edit_now(&session.user.username)?;
                Inspection::edit_in(doc, |inspection| inspection.answer(None, &item, &value, &edit))
                    .map_err(|error| error.to_string())?
                    .map_err(|error| error.to_string())
            })
            .await;
            if let Err(message) = outcome {
                leptos::logging::warn!("cannot record the answer: {message}");
            }
        });
    };
    let choice = |name: &'static str, label: &'static str, value: AnswerValue, selected: bool| {
        let record = record.clone();
        view! {
            <button type="button" class=format!("answer answer-{name}") class:selected=selected data-answer=name prop:disabled=locked on:click=move |_| record(value.clone())>
                {label}
            </button>
        }
    };
    let controls = match &item.kind {
        ItemKind::PassFail => view! {
            <div class="answers">
                {choice("pass", texts.pass, AnswerValue::Pass, answer == Some(AnswerValue::Pass))}
                {choice("fail", texts.fail, AnswerValue::Fail, answer == Some(AnswerValue::Fail))}
                {choice("na", texts.not_applicable, AnswerValue::NotApplicable, answer == Some(AnswerValue::NotApplicable))}
            </div>
        }
        .into_any(),
        ItemKind::Number { unit, min, max } => {
            let shown = match &answer {
                Some(AnswerValue::Number(thousandths)) => format!("{}", *thousandths as f64 / 1000.0),
                _ => String::new(),
            };
            let outside = match &answer {
                Some(AnswerValue::Number(value)) => min.is_some_and(|min| *value < min) || max.is_some_and(|max| *value > max),
                _ => false,
            };
            let limits = match (min, max) {
                (Some(min), Some(max)) => format!("{}–{} {unit}", *min as f64 / 1000.0, *max as f64 / 1000.0),
                (Some(min), None) => format!("≥ {} {unit}", *min as f64 / 1000.0),
                (None, Some(max)) => format!("≤ {} {unit}", *max as f64 / 1000.0),
                (None, None) => unit.clone(),
            };
            let record = record.clone();
            view! {
                <div class="reading">
                    <input
                        type="number"
                        inputmode="decimal"
                        step="any"
                        name=item.id.to_string()
                        prop:value=shown
                        prop:disabled=locked
                        on:change=move |event| {
                            if let Ok(value) = event_target_value(&event).trim().parse::<f64>() {
                                record(AnswerValue::Number((value * 1000.0).round() as i64));
                            }
                        }
                    />
                    <span class="muted">{limits}</span>
                </div>
                {outside.then(|| view! { <p class="warning" data-warning="limits">{texts.outside_limits}</p> })}
            }
            .into_any()
        }
        ItemKind::Text => {
            let shown = match &answer {
                Some(AnswerValue::Text(text)) => text.clone(),
                _ => String::new(),
            };
            let record = record.clone();
            view! {
                <input
                    type="text"
                    class="text-answer"
                    name=item.id.to_string()
                    prop:value=shown
                    prop:disabled=locked
                    on:change=move |event| record(AnswerValue::Text(event_target_value(&event)))
                />
            }
            .into_any()
        }
        ItemKind::Choice { options, failing } => {
            let buttons = options
                .iter()
                .map(|(option, label)| {
                    let selected = answer == Some(AnswerValue::Choice(option.clone()));
                    let value = AnswerValue::Choice(option.clone());
                    let record = record.clone();
                    let class = if failing.contains(option) { "answer answer-fail" } else { "answer answer-pass" };
                    view! {
                        <button type="button" class=class class:selected=selected data-answer=option.to_string() prop:disabled=locked on:click=move |_| record(value.clone())>
                            {text(label, language)}
                        </button>
                    }
                })
                .collect_view();
            view! { <div class="answers">{buttons}</div> }.into_any()
        }
        ItemKind::Photo | ItemKind::Signature => view! { <p class="muted">{texts.not_on_this_screen_yet}</p> }.into_any(),
    };
    let is_failed = answer.as_ref().is_some_and(|value| outcome(&item, value) == Outcome::Failed);
    let follow_up = is_failed.then(|| view! { <FailedActions round=round item=item.clone() language=language locked=locked failed=failed /> });
    view! {
        <li class="item" class:flagged=flagged data-item=item.id.to_string()>
            <p class="item-label">
                {text(&item.label, language)}
                {item.required.then_some(view! { <span class="required" aria-label="required">" *"</span> })}
            </p>
            {controls}
            {follow_up}
        </li>
    }
}

/// For a failed item: its photos (taken here, shrunk and kept on the phone) and the hazard
/// it raised, or the button that raises one — a work order with the item, the place and a
/// high priority filled in.
#[component]
fn FailedActions(round: DocumentId, item: ChecklistItem, language: Language, locked: bool, failed: FailedItem) -> impl IntoView {
    let texts = use_texts().get_untracked();
    let current = use_session();
    let picker = NodeRef::<leptos::html::Input>::new();
    let item_id = item.id.clone();
    let take_photo = move |_| {
        let Some(session) = current.session.get_untracked() else { return };
        let Some(picture) = picker.get_untracked().and_then(|input| input.files()).and_then(|files| files.get(0)) else { return };
        let item = item_id.clone();
        spawn_local(async move {
            let outcome = async {
                let photo = photos::keep(&picture).await?;
                replica::edit(&round, |doc| {
                    let edit = edit_now(&session.user.username)?;
                    Inspection::edit_in(doc, |inspection| inspection.add_photo(&entry_id("photo"), None, &item, &photo, &edit))
                        .map_err(|error| error.to_string())?
                        .map_err(|error| error.to_string())
                })
                .await?;
                replica::upload_files();
                Ok::<(), String>(())
            }
            .await;
            if let Err(message) = outcome {
                leptos::logging::warn!("cannot add the photo: {message}");
            }
        });
    };
    let item_for_hazard = item.clone();
    let (site, location) = (failed.site.clone(), failed.location.clone());
    let raise = move |_| {
        let Some(session) = current.session.get_untracked() else { return };
        let item = item_for_hazard.clone();
        let (site, location) = (site.clone(), location.clone());
        spawn_local(async move {
            let outcome = async {
                let edit = edit_now(&session.user.username)?;
                let new = NewWorkOrder {
                    site: SiteId::parse(&site).map_err(|error| error.to_string())?,
                    title: text(&item.label, language),
                    description: String::new(),
                    location: location.clone(),
                    asset: None,
                    category: Category::Other,
                    priority: Priority::High,
                    due_at: None,
                    source: Some(Source { inspection: round.url(), item: item.id.to_string() }),
                };
                let actor = replica::device_actor().ok_or("not signed in")?;
                let order = WorkOrder::report(actor, &new, &entry_id("reported"), &edit).map_err(|error| error.to_string())?;
                let status = order.read().map_err(|error| error.to_string())?.state().status;
                let order_id = replica::new_document_id();
                replica::create(order_id, order.into_doc()).await?;
                replica::edit(&round, |doc| {
                    Inspection::edit_in(doc, |inspection| inspection.raise_hazard(&entry_id("hazard"), None, &item.id, &order_id.url(), &edit))
                        .map_err(|error| error.to_string())?
                        .map_err(|error| error.to_string())
                })
                .await?;
                let entry = IndexEntry {
                    document: order_id.url(),
                    document_type: DocumentType::WorkOrder,
                    title: new.title.clone(),
                    status: status.as_str().to_owned(),
                    location,
                    updated_at: edit.at,
                };
                index_in_catalog(&session, &site, entry, &edit).await
            }
            .await;
            if let Err(message) = outcome {
                leptos::logging::warn!("cannot raise the hazard: {message}");
            }
        });
    };
    let photos = failed.photos.iter().map(|sha256| view! { <Photo sha256=sha256.clone() /> }).collect_view();
    let hazard = match &failed.hazard {
        Some(order) => {
            let status = DocumentId::parse(order)
                .ok()
                .and_then(|id| replica::read(&id, |doc| WorkOrder::from_doc(doc.clone()).ok()?.read().ok()).flatten())
                .map(|order| order.state().status.as_str().to_owned());
            let shown = match status {
                Some(status) => texts.hazard_raised.replace("{}", &status),
                None => texts.hazard_raised.replace("{}", "…"),
            };
            view! { <p class="hazard" data-hazard=order.clone()>{shown}</p> }.into_any()
        }
        None => view! {
            <button type="button" class="hazard-button" data-action="raise-hazard" prop:disabled=locked on:click=raise>{texts.raise_hazard}</button>
        }
        .into_any(),
    };
    view! {
        <div class="follow-up">
            <div class="follow-up-actions">
                <label class="photo-button" title=texts.take_photo>
                    <span aria-hidden="true">"📷"</span>
                    <input type="file" name="photo" accept="image/*" capture="environment" node_ref=picker prop:disabled=locked on:change=take_photo />
                </label>
                {hazard}
            </div>
            <div class="photos" data-photos=failed.photos.len()>{photos}</div>
        </div>
    }
}

/// The rounds on this phone, in progress first, each linking to its page.
#[component]
pub fn MyRounds() -> impl IntoView {
    let texts = use_texts();
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    let sync = use_replica();
    let rounds = move || {
        let _ = sync.revision.get();
        let mut rounds: Vec<(DocumentId, InspectionView)> = replica::document_ids().into_iter().filter_map(|id| Some((id, read_round(&id)?))).collect();
        rounds.sort_by_key(|(_, round)| (round.submitted.is_some(), std::cmp::Reverse(round.header.created_at)));
        rounds
    };
    view! {
        <section class="card" aria-labelledby="my-rounds">
            <h2 id="my-rounds">{move || texts.get().rounds}</h2>
            <ul class="rounds">
                {move || {
                    let texts = texts.get();
                    rounds()
                        .into_iter()
                        .map(|(id, round)| {
                            let result = round.result();
                            let state = if round.submitted.is_some() { texts.submitted.to_owned() } else { format!("{}/{}", result.answered, result.expected) };
                            view! {
                                <li class="round" data-document=id.to_string()>
                                    <a href=format!("/rounds/{id}")>{text(&round.checklist.name, language.get())}</a>
                                    <span class="badge">{state}</span>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </section>
    }
}
