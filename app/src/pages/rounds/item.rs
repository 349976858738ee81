//! One checklist item of a round: the controls its kind takes (large pass / fail / N-A
//! buttons, a numeric keypad with a warning outside the limits, text, choices, a photo, a
//! signature), its notes, and — for a failed answer — photos and the hazard it raised.
//! Two people's different answers are shown side by side; the round's owner or a manager
//! keeps one.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::directory::SiteId;
use shared::document::DocumentType;
use shared::document::catalog::IndexEntry;
use shared::document::conflicts::{ConflictValue, ConflictingValue, resolve};
use shared::document::inspection::{Answer, AnswerValue, Inspection, Note, Outcome, answer_key, outcome};
use shared::document::template::ChecklistCategory;
use shared::document::template::Label;
use shared::document::template::{ChecklistItem, ItemKind};
use shared::document::work_order::{Category, NewWorkOrder, Priority, Source, Status, WorkOrder};
use shared::document::{BlobRef, EntryId};
use shared::protocol::DocumentId;

use super::signature::SignaturePad;
use super::{clock, text};
use crate::edits::{edit_now, entry_id, index_in_catalog};
use crate::error::AppError;
use crate::i18n::{Language, Texts, use_texts};
use crate::pages::orders::{Photo, read_order};
use crate::photos;
use crate::replica::{Replica, use_replica};
use crate::server::SitePeople;
use crate::session::{CurrentSession, use_session};

/// Everything one item's row shows.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemRowData {
    pub round: DocumentId,
    /// The room of a dorm round; `None` for a round at one place.
    pub room: Option<String>,
    pub section: String,
    pub item: ChecklistItem,
    pub answer: Option<Answer>,
    pub notes: Vec<Note>,
    pub photos: Vec<BlobRef>,
    /// The work order raised for it, with its status if this phone has it.
    pub hazard: Option<(String, Option<Status>)>,
    /// Concurrent answers, when two people answered differently.
    pub conflict: Option<Vec<ConflictingValue>>,
    pub can_resolve: bool,
    pub locked: bool,
    pub site: String,
    /// The room, or the round's place: where a hazard is.
    pub location: String,
    /// That place's name, for a hazard's title.
    pub place_name: String,
    /// The checklist's category, which gives a hazard's trade.
    pub checklist_category: String,
    /// For a failure decided to need no action: why, and who decided.
    pub follow_up: Option<(String, String)>,
    pub language: Language,
}

impl ItemRowData {
    /// Rows are rebuilt only when what they show changed. A round's checklist is copied
    /// when it starts and never edited, so its item is named by id; every other field is
    /// in the key (the pattern names them all, so a new field cannot be left out). Whether
    /// the row is flagged as missing is not: it follows a signal, so tapping "submit" with a
    /// signature drawn but not saved leaves the pad as it is.
    pub fn key(&self) -> String {
        let ItemRowData {
            round,
            room,
            section,
            item,
            answer,
            notes,
            photos,
            hazard,
            conflict,
            can_resolve,
            locked,
            site,
            location,
            place_name,
            checklist_category,
            follow_up,
            language,
        } = self;
        format!(
            "{round} {} {:?}",
            item.id,
            (
                (room, section, answer, notes, photos, hazard),
                (conflict, can_resolve, locked, site, location, place_name),
                (checklist_category, follow_up, language)
            )
        )
    }
}

/// Records an edit of the round made by `change`, logging what went wrong.
fn edit_round(
    replica: Replica,
    current: CurrentSession,
    round: DocumentId,
    what: &'static str,
    change: impl FnOnce(&mut Inspection, &shared::document::Edit) -> Result<(), shared::document::DocumentError> + 'static,
) {
    let Some(session) = current.session.get_untracked() else { return };
    spawn_local(async move {
        let outcome = replica
            .edit(&round, |doc| {
                let edit = edit_now(&session.user.username)?;
                Ok(Inspection::edit_in(doc, |inspection| change(inspection, &edit))??)
            })
            .await;
        if let Err(message) = outcome {
            leptos::logging::warn!("cannot save the {what}: {message}");
        }
    });
}

fn shown_reading(thousandths: i64) -> String {
    format!("{}", thousandths as f64 / 1000.0)
}

/// An answer in words, for conflicts.
fn answer_words(texts: &Texts, item: &ChecklistItem, fields: &[(String, String)], language: Language) -> String {
    let field = |name: &str| fields.iter().find(|(key, _)| key == name).map(|(_, value)| value.trim_matches('"').to_owned());
    match field("kind").as_deref() {
        Some("pass") => texts.pass.to_owned(),
        Some("fail") => texts.fail.to_owned(),
        Some("na") => texts.not_applicable.to_owned(),
        Some("number") => field("number").and_then(|number| number.parse::<i64>().ok()).map(shown_reading).unwrap_or_default(),
        Some("text") => field("text").unwrap_or_default(),
        Some("choice") => {
            let chosen = field("choice").unwrap_or_default();
            match &item.kind {
                ItemKind::Choice { options, .. } => {
                    options.iter().find(|(id, _)| id.as_str() == chosen).map(|(_, label)| text(label, language)).unwrap_or(chosen)
                }
                _ => chosen,
            }
        }
        Some("blob") => texts.picture.to_owned(),
        _ => "?".to_owned(),
    }
}

/// One item's row; `flagged` says whether the last attempt to submit named it as missing,
/// `needs` whether it still blocks submitting (for "next unanswered").
#[component]
pub fn ItemRow(
    row: ItemRowData,
    #[prop(optional)] flagged: Option<Signal<bool>>,
    #[prop(optional)] needs: Option<Signal<bool>>,
) -> impl IntoView {
    let texts = use_texts().get_untracked();
    let (replica, current) = (use_replica(), use_session());
    let ItemRowData { round, room, item, answer, locked, language, .. } = row.clone();
    let value = answer.as_ref().map(|answer| answer.value.clone());
    let record = {
        let (room, item_id) = (room.clone(), item.id.clone());
        Callback::new(move |value: AnswerValue| {
            let (room, item_id) = (room.clone(), item_id.clone());
            edit_round(replica, current, round, "answer", move |inspection, edit| {
                inspection.answer(room.as_deref(), &item_id, &value, edit)
            });
        })
    };
    let answers = Answers { value: value.clone(), locked, record };
    let controls = match &item.kind {
        ItemKind::PassFail => view! { <PassFailAnswer answers=answers /> }.into_any(),
        ItemKind::Number { .. } => view! { <NumberAnswer answers=answers item=item.clone() /> }.into_any(),
        ItemKind::Text => view! { <TextAnswer answers=answers item=item.clone() /> }.into_any(),
        ItemKind::Choice { options, failing } => {
            view! { <ChoiceAnswer answers=answers options=options.clone() failing=failing.clone() language=language /> }.into_any()
        }
        ItemKind::Photo => view! { <PhotoAnswer answers=answers /> }.into_any(),
        ItemKind::Signature => view! { <SignatureAnswer answers=answers /> }.into_any(),
    };
    let is_failed = value.as_ref().is_some_and(|value| outcome(&item, value) == Outcome::Failed);
    let follow_up = is_failed.then(|| view! { <FailedActions row=row.clone() /> });
    let who = answer.as_ref().map(|answer| view! { <p class="answered-by muted">{format!("{} · {}", SitePeople::name_in_context(answer.user.as_str()), clock(answer.at, language))}</p> });
    let conflict = row.conflict.clone().map(|values| view! { <ConflictChoice row=row.clone() values=values /> });
    view! {
        <li
            class="item"
            class:flagged=move || flagged.is_some_and(|flagged| flagged.get())
            class:failed=is_failed
            class:conflicted=row.conflict.is_some()
            data-item=item.id.to_string()
            data-answered=if value.is_some() { "yes" } else { "no" }
            data-needs=move || if needs.is_some_and(|needs| needs.get()) { "yes" } else { "no" }
        >
            <p class="section-name muted">{row.section.clone()}</p>
            <p class="item-label">
                {text(&item.label, language)}
                {item.required.then_some(view! { <span class="required" aria-label=texts.required_item>" *"</span> })}
                {(item.photo_on_fail && !locked).then_some(view! { <span class="hint muted">" · " {texts.photo_on_fail}</span> })}
            </p>
            {move || flagged.is_some_and(|flagged| flagged.get()).then(|| view! { <p class="needs-note" data-flagged="yes">{texts.item_needs_attention}</p> })}
            {controls}
            {who}
            {conflict}
            {follow_up}
            <Notes row=row.clone() />
        </li>
    }
}

/// What every kind of answer control takes: the answer given, whether the round is locked,
/// and how a new answer is recorded.
#[derive(Clone)]
struct Answers {
    value: Option<AnswerValue>,
    locked: bool,
    record: Callback<AnswerValue>,
}

impl Answers {
    /// The file the answer is (a photo, a signature), by its SHA-256.
    fn file(&self) -> Option<String> {
        match &self.value {
            Some(AnswerValue::Blob(blob)) => Some(blob.sha256.clone()),
            _ => None,
        }
    }

    /// A large answer button (`data-answer=name`), pressed when it is the answer given.
    fn button(&self, name: &'static str, label: &'static str, answer: AnswerValue) -> impl IntoView + use<> {
        let selected = self.value.as_ref() == Some(&answer);
        let record = self.record;
        view! {
            <button type="button" class=format!("answer answer-{name}") class:selected=selected aria-pressed=selected.to_string() data-answer=name prop:disabled=self.locked on:click=move |_| record.run(answer.clone())>
                {label}
            </button>
        }
    }
}

/// Pass, fail or not applicable.
#[component]
fn PassFailAnswer(answers: Answers) -> impl IntoView {
    let texts = use_texts().get_untracked();
    view! {
        <div class="answers">
            {answers.button("pass", texts.pass, AnswerValue::Pass)}
            {answers.button("fail", texts.fail, AnswerValue::Fail)}
            {answers.button("na", texts.not_applicable, AnswerValue::NotApplicable)}
        </div>
    }
}

/// A reading on a numeric keypad, with its limits and a warning outside them.
#[component]
fn NumberAnswer(answers: Answers, item: ChecklistItem) -> impl IntoView {
    let texts = use_texts().get_untracked();
    let ItemKind::Number { unit, min, max } = &item.kind else { return ().into_any() };
    let shown = match &answers.value {
        Some(AnswerValue::Number(thousandths)) => shown_reading(*thousandths),
        _ => String::new(),
    };
    let outside =
        answers.value.as_ref().is_some_and(|value| matches!(value, AnswerValue::Number(_)) && outcome(&item, value) == Outcome::Failed);
    let limits = match (min, max) {
        (Some(min), Some(max)) => format!("{}–{} {unit}", shown_reading(*min), shown_reading(*max)),
        (Some(min), None) => format!("≥ {} {unit}", shown_reading(*min)),
        (None, Some(max)) => format!("≤ {} {unit}", shown_reading(*max)),
        (None, None) => unit.clone(),
    };
    let record = answers.record;
    view! {
        <div class="reading">
            <input
                type="number"
                inputmode="decimal"
                step="any"
                name=item.id.to_string()
                prop:value=shown
                prop:disabled=answers.locked
                on:change=move |event| {
                    if let Ok(value) = event_target_value(&event).trim().parse::<f64>() {
                        record.run(AnswerValue::Number((value * 1000.0).round() as i64));
                    }
                }
            />
            <span class="muted">{limits}</span>
            {answers.button("na", texts.not_applicable, AnswerValue::NotApplicable)}
        </div>
        {outside.then(|| view! { <p class="warning" data-warning="limits">{texts.outside_limits}</p> })}
    }
    .into_any()
}

/// A line of text.
#[component]
fn TextAnswer(answers: Answers, item: ChecklistItem) -> impl IntoView {
    let shown = match &answers.value {
        Some(AnswerValue::Text(text)) => text.clone(),
        _ => String::new(),
    };
    let record = answers.record;
    view! {
        <input
            type="text"
            class="text-answer"
            name=item.id.to_string()
            prop:value=shown
            prop:disabled=answers.locked
            on:change=move |event| record.run(AnswerValue::Text(event_target_value(&event)))
        />
    }
}

/// One of the item's options, those that fail it marked as failing.
#[component]
fn ChoiceAnswer(answers: Answers, options: Vec<(EntryId, Label)>, failing: Vec<EntryId>, language: Language) -> impl IntoView {
    let buttons = options
        .into_iter()
        .map(|(option, label)| {
            let chosen = AnswerValue::Choice(option.clone());
            let selected = answers.value.as_ref() == Some(&chosen);
            let record = answers.record;
            let class = if failing.contains(&option) { "answer answer-fail" } else { "answer answer-pass" };
            view! {
                <button type="button" class=class class:selected=selected aria-pressed=selected.to_string() data-answer=option.to_string() prop:disabled=answers.locked on:click=move |_| record.run(chosen.clone())>
                    {text(&label, language)}
                </button>
            }
        })
        .collect_view();
    view! { <div class="answers">{buttons}</div> }
}

/// A photo from the camera, shrunk and kept on the phone, then uploaded.
#[component]
fn PhotoAnswer(answers: Answers) -> impl IntoView {
    let texts = use_texts().get_untracked();
    let replica = use_replica();
    let shown = answers.file();
    let record = answers.record;
    let picker = NodeRef::<leptos::html::Input>::new();
    let take = move |_| {
        let Some(picture) = picker.get_untracked().and_then(|input| input.files()).and_then(|files| files.get(0)) else { return };
        spawn_local(async move {
            match photos::keep(&picture).await {
                Ok(photo) => {
                    record.run(AnswerValue::Blob(photo));
                    replica.upload_files();
                }
                Err(message) => leptos::logging::warn!("cannot keep the photo: {message}"),
            }
        });
    };
    view! {
        <label class="photo-button wide" data-action="photo-answer">
            <span aria-hidden="true">"📷 "</span>
            {texts.take_photo}
            <input type="file" name="photo" accept="image/*" capture="environment" node_ref=picker prop:disabled=answers.locked on:change=take />
        </label>
        {shown.map(|sha256| view! { <div class="photos"><Photo sha256=sha256 /></div> })}
    }
}

/// A signature drawn on a pad; once signed, the signature as kept.
#[component]
fn SignatureAnswer(answers: Answers) -> impl IntoView {
    let texts = use_texts().get_untracked();
    let replica = use_replica();
    let signed = answers.file();
    let record = answers.record;
    let on_signed = Callback::new(move |signature: BlobRef| {
        record.run(AnswerValue::Blob(signature));
        replica.upload_files();
    });
    match (signed, answers.locked) {
        (Some(sha256), _) => view! { <div class="signature" data-signed="yes"><Photo sha256=sha256 /></div> }.into_any(),
        (None, true) => view! { <p class="muted">{texts.not_signed}</p> }.into_any(),
        (None, false) => view! { <SignaturePad on_signed=on_signed /> }.into_any(),
    }
}

/// Notes being written on a round's items, by round and answer key, kept by the round's
/// page: an item's row is made again whenever the item changes (an answer tapped while a
/// note is being written, say), and the new row takes the note up where it was.
#[derive(Clone, Copy, Default)]
pub struct NoteDrafts(StoredValue<HashMap<String, String>>);

/// The notes on an item, and a field to add one.
#[component]
fn Notes(row: ItemRowData) -> impl IntoView {
    let texts = use_texts();
    let current = use_session();
    let replica = use_replica();
    let ItemRowData { round, room, item, locked, language, .. } = row.clone();
    let drafts = use_context::<NoteDrafts>().unwrap_or_default().0;
    let key = format!("{round} {}", answer_key(room.as_deref().unwrap_or(shared::document::inspection::NO_ROOM), &item.id));
    let kept = drafts.with_value(|drafts| drafts.get(&key).cloned());
    let open = RwSignal::new(kept.is_some());
    let draft = RwSignal::new(kept.unwrap_or_default());
    let keep = {
        let key = key.clone();
        move |text: Option<String>| {
            drafts.update_value(|drafts| match text {
                Some(text) => {
                    drafts.insert(key.clone(), text);
                }
                None => {
                    drafts.remove(&key);
                }
            });
        }
    };
    let save = {
        let keep = keep.clone();
        move |event: leptos::ev::SubmitEvent| {
            event.prevent_default();
            let text = draft.get_untracked();
            if text.trim().is_empty() {
                return;
            }
            let (room, item) = (room.clone(), item.id.clone());
            edit_round(replica, current, round, "note", move |inspection, edit| {
                inspection.add_note(&entry_id("note"), room.as_deref(), Some(&item), &text, edit)
            });
            keep(None);
            draft.set(String::new());
            open.set(false);
        }
    };
    let start = {
        let keep = keep.clone();
        move |_| {
            keep(Some(String::new()));
            open.set(true);
        }
    };
    let write = move |event: leptos::ev::Event| {
        let text = event_target_value(&event);
        keep(Some(text.clone()));
        draft.set(text);
    };
    let notes = row
        .notes
        .iter()
        .map(|note| view! { <li class="note"><span>{note.text.clone()}</span> <span class="muted">{format!(" — {} · {}", SitePeople::name_in_context(note.user.as_str()), clock(note.at, language))}</span></li> })
        .collect_view();
    view! {
        <ul class="notes">{notes}</ul>
        {(!locked).then(|| view! {
            <Show
                when=move || open.get()
                fallback=move || view! { <button type="button" class="link-button" data-action="add-note" on:click=start.clone()>{move || texts.get().add_comment}</button> }
            >
                <form class="inline-form" data-form="note" on:submit=save.clone()>
                    <input name="note" prop:value=draft on:input=write.clone() />
                    <button type="submit">{move || texts.get().add}</button>
                </form>
            </Show>
        })}
    }
}

/// Two (or more) answers given concurrently, side by side with who and when; the round's
/// owner or a manager keeps one, which is written again as a new change.
#[component]
fn ConflictChoice(row: ItemRowData, values: Vec<ConflictingValue>) -> impl IntoView {
    let texts = use_texts().get_untracked();
    let current = use_session();
    let replica = use_replica();
    let key = answer_key(row.room.as_deref().unwrap_or(shared::document::inspection::NO_ROOM), &row.item.id);
    let choices = values
        .into_iter()
        .map(|value| {
            let words = match &value.value {
                ConflictValue::Map(fields) => answer_words(texts, &row.item, fields, row.language),
                other => format!("{other:?}"),
            };
            let who = value.user.clone().unwrap_or_else(|| texts.someone.to_owned());
            let path = vec!["answers".to_owned(), key.clone()];
            let chosen = value.id.clone();
            let round = row.round;
            let keep = move |_| {
                let (path, chosen) = (path.clone(), chosen.clone());
                let Some(session) = current.session.get_untracked() else { return };
                spawn_local(async move {
                    let outcome = replica.edit(&round, |doc| {
                        let edit = edit_now(&session.user.username)?;
                        Ok(resolve(doc, &path, &chosen, &edit)?)
                    })
                    .await;
                    if let Err(message) = outcome {
                        leptos::logging::warn!("cannot keep the answer: {message}");
                    }
                });
            };
            view! {
                <li class="conflict-value" data-by=who.clone()>
                    <strong>{words}</strong>
                    <span class="muted">{format!(" — {} · {}", value.user.as_deref().map(SitePeople::name_in_context).unwrap_or_else(|| who.clone()), clock(value.at, row.language))}</span>
                    {row.can_resolve.then(|| view! { <button type="button" data-action="keep-answer" on:click=keep>{texts.keep_this}</button> })}
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="conflict" role="group" data-conflict=key.clone()>
            <p class="warning">{texts.answered_differently}</p>
            <ul>{choices}</ul>
        </div>
    }
}

/// The status of a work order, if this phone has it, in the reader's language.
pub(super) fn order_status(replica: Replica, order: &str) -> Option<Status> {
    let id = DocumentId::parse(order).ok()?;
    read_order(replica, &id).map(|order| order.state().status)
}

/// For a failed item: its photos (taken here, shrunk and kept on the phone) and the hazard
/// it raised, or the button that raises one — a work order with the item, the place, a high
/// priority and the item's photos filled in.
#[component]
fn FailedActions(row: ItemRowData) -> impl IntoView {
    let texts = use_texts().get_untracked();
    let current = use_session();
    let replica = use_replica();
    let picker = NodeRef::<leptos::html::Input>::new();
    let ItemRowData { round, room, item, locked, .. } = row.clone();
    let hazard = row.hazard.clone().map(|(order, _)| order);
    let take_photo = {
        let (item_id, hazard) = (item.id.clone(), hazard.clone());
        move |_| {
            let Some(session) = current.session.get_untracked() else { return };
            let Some(picture) = picker.get_untracked().and_then(|input| input.files()).and_then(|files| files.get(0)) else { return };
            let (room, item_id, hazard) = (room.clone(), item_id.clone(), hazard.clone());
            spawn_local(async move {
                let outcome = async {
                    let photo = photos::keep(&picture).await?;
                    let edit = edit_now(&session.user.username)?;
                    replica
                        .edit(&round, |doc| {
                            Ok(Inspection::edit_in(doc, |inspection| {
                                inspection.add_photo(&entry_id("photo"), room.as_deref(), &item_id, &photo, &edit)
                            })??)
                        })
                        .await?;
                    // The technician sees it on the work order too.
                    if let Some(order) = hazard.as_deref().and_then(|order| DocumentId::parse(order).ok()) {
                        replica
                            .edit(&order, |doc| {
                                Ok(WorkOrder::edit_in(doc, |order| order.add_comment(&entry_id("comment"), "", Some(&photo), &edit))??)
                            })
                            .await?;
                    }
                    replica.upload_files();
                    Ok::<(), AppError>(())
                }
                .await;
                if let Err(message) = outcome {
                    leptos::logging::warn!("cannot add the photo: {message}");
                }
            });
        }
    };
    let raise = {
        let row = row.clone();
        move |_| {
            let Some(session) = current.session.get_untracked() else { return };
            let row = row.clone();
            spawn_local(async move {
                let outcome = async {
                    let edit = edit_now(&session.user.username)?;
                    // Due from its priority at once, of the checklist's trade, named with
                    // the place, and linked back to the round's item.
                    let priority = if row.item.required { Priority::Urgent } else { Priority::High };
                    let new = NewWorkOrder {
                        site: SiteId::parse(&row.site)?,
                        title: format!("{} · {}", text(&row.item.label, row.language), row.place_name),
                        description: row.notes.iter().map(|note| note.text.as_str()).collect::<Vec<_>>().join("\n"),
                        location: row.location.clone(),
                        asset: None,
                        category: Category::for_checklist(ChecklistCategory::parse(&row.checklist_category).ok()),
                        priority,
                        due_at: Some(edit.at.plus_millis(priority.default_due_millis())),
                        source: Some(Source { inspection: row.round.url(), item: row.item.id.to_string() }),
                    };
                    let actor = replica.device_actor().ok_or(AppError::SignedOut)?;
                    let mut order = WorkOrder::report(actor, &new, &entry_id("reported"), &edit)?;
                    for photo in &row.photos {
                        order.add_comment(&entry_id("comment"), "", Some(photo), &edit)?;
                    }
                    let status = order.read()?.state().status;
                    let order_id = crate::replica::new_document_id();
                    replica.create(order_id, order.into_doc()).await?;
                    replica
                        .edit(&row.round, |doc| {
                            Ok(Inspection::edit_in(doc, |inspection| {
                                inspection.raise_hazard(&entry_id("hazard"), row.room.as_deref(), &row.item.id, &order_id.url(), &edit)
                            })??)
                        })
                        .await?;
                    let entry = IndexEntry {
                        document: order_id.url(),
                        document_type: DocumentType::WorkOrder,
                        title: new.title.clone(),
                        status: status.as_str().to_owned(),
                        location: new.location.clone(),
                        updated_at: edit.at,
                    };
                    index_in_catalog(replica, &session, &row.site, entry, &edit).await
                }
                .await;
                if let Err(message) = outcome {
                    leptos::logging::warn!("cannot raise the hazard: {message}");
                }
            });
        }
    };
    let photos = row.photos.iter().map(|photo| view! { <Photo sha256=photo.sha256.clone() /> }).collect_view();
    // Raised while the round is open, or later by its owner or a manager.
    let may_raise = !locked || row.can_resolve;
    let hazard_view = match (&row.hazard, &row.follow_up) {
        (Some((order, status)), _) => {
            let status = status.map(|status| texts.status(status).to_owned()).unwrap_or_else(|| "…".to_owned());
            let link = DocumentId::parse(order).map(|order| format!("/orders/{order}")).unwrap_or_default();
            view! { <a class="hazard" data-hazard=order.clone() href=link>{texts.hazard_raised.replace("{}", &status)}</a> }.into_any()
        }
        (None, Some((reason, by))) => view! {
            <p class="no-action muted" data-no-action="yes">{texts.no_action_by.replace("{reason}", reason).replace("{user}", by)}</p>
            {(locked && may_raise).then(|| view! { <button type="button" class="hazard-button" data-action="raise-hazard" on:click=raise.clone()>{texts.raise_hazard}</button> })}
        }
        .into_any(),
        (None, None) => view! {
            <button type="button" class="hazard-button" data-action="raise-hazard" prop:disabled=!may_raise on:click=raise.clone()>{texts.raise_hazard}</button>
        }
        .into_any(),
    };
    // The other way to follow a failure up, while the round is open: no action, and why.
    let no_action = (row.hazard.is_none() && row.follow_up.is_none() && !locked).then(|| view! { <NoActionForm row=row.clone() /> });
    view! {
        <div class="follow-up">
            <div class="follow-up-actions">
                <label class="photo-button" title=texts.take_photo>
                    <span aria-hidden="true">"📷"</span>
                    <input type="file" name="photo" accept="image/*" capture="environment" node_ref=picker prop:disabled=locked on:change=take_photo />
                </label>
                {hazard_view}
            </div>
            {no_action}
            <div class="photos" data-photos=row.photos.len()>{photos}</div>
        </div>
    }
}

/// "No action needed" for a failed item, with the reason it needs none (recorded with who
/// and when; the round may then be submitted without a hazard for it).
#[component]
fn NoActionForm(row: ItemRowData) -> impl IntoView {
    let texts = use_texts().get_untracked();
    let current = use_session();
    let replica = use_replica();
    let open = RwSignal::new(false);
    let reason = RwSignal::new(String::new());
    let error = RwSignal::new(None::<&'static str>);
    let (round, room, item) = (row.round, row.room.clone(), row.item.id.clone());
    let save = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let why = reason.get_untracked();
        if why.trim().is_empty() {
            error.set(Some(texts.reason_needed));
            return;
        }
        error.set(None);
        let (room, item) = (room.clone(), item.clone());
        edit_round(replica, current, round, "decision", move |inspection, edit| {
            inspection.no_action_needed(&entry_id("decision"), room.as_deref(), &item, &why, edit)
        });
    };
    view! {
        <Show
            when=move || open.get()
            fallback=move || view! { <button type="button" class="link-button" data-action="no-action" on:click=move |_| open.set(true)>{texts.no_action_needed}</button> }
        >
            <form class="inline-form" data-form="no-action" on:submit=save.clone()>
                <input name="reason" prop:placeholder=texts.no_action_reason prop:value=reason on:input=move |event| reason.set(event_target_value(&event)) />
                <button type="submit">{texts.save}</button>
            </form>
            {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
        </Show>
    }
}
