//! A round as a report to print or save as PDF: who walked it where and when, the result,
//! every answer room by room with its notes and photos, the hazards raised, the signature
//! and the manager's review. The print style sheet drops the app's chrome.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use shared::document::inspection::{AnswerValue, InspectionView, NO_ROOM, Outcome, answer_key, outcome};
use shared::document::template::{ChecklistItem, ItemKind};
use shared::protocol::DocumentId;

use super::{clock, read_catalog, read_round, text};
use crate::edits::catalog_of;
use crate::i18n::{CurrentLanguage, Language, Texts, use_texts};
use crate::pages::orders::Photo;
use crate::replica::use_replica;
use crate::session::use_session;

pub(crate) fn answer_text(texts: &Texts, item: &ChecklistItem, value: &AnswerValue, language: Language) -> String {
    match value {
        AnswerValue::Pass => texts.pass.to_owned(),
        AnswerValue::Fail => texts.fail.to_owned(),
        AnswerValue::NotApplicable => texts.not_applicable.to_owned(),
        AnswerValue::Number(thousandths) => {
            let unit = match &item.kind {
                ItemKind::Number { unit, .. } => unit.as_str(),
                _ => "",
            };
            format!("{} {unit}", *thousandths as f64 / 1000.0)
        }
        AnswerValue::Text(written) => written.clone(),
        AnswerValue::Choice(choice) => match &item.kind {
            ItemKind::Choice { options, .. } => {
                options.iter().find(|(id, _)| id == choice).map(|(_, label)| text(label, language)).unwrap_or_else(|| choice.to_string())
            }
            _ => choice.to_string(),
        },
        AnswerValue::Blob(_) => String::new(),
    }
}

fn per_mille(value: Option<u32>) -> String {
    value.map(|value| format!("{:.1}%", f64::from(value) / 10.0)).unwrap_or_else(|| "—".to_owned())
}

#[component]
pub fn RoundReport() -> impl IntoView {
    let texts = use_texts();
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    let replica = use_replica();
    let current = use_session();
    let params = use_params_map();
    let round = move || {
        let _ = replica.revision.get();
        let id = params.with(|params| params.get("id").and_then(|id| DocumentId::parse(&id).ok()))?;
        Some((id, read_round(replica, &id)?))
    };
    let site = Memo::new(move |_| round().map(|(_, data)| data.view.header.site.to_string()));
    let people = crate::server::use_site_people(move || site.get());
    provide_context(crate::server::SitePeople(people));
    move || {
        let texts = texts.get();
        let language = language.get();
        let Some((id, data)) = round() else {
            return view! { <p class="muted" data-round="missing">{texts.round_not_here}</p> }.into_any();
        };
        let round = &data.view;
        let catalog = current.session.get().and_then(|session| read_catalog(replica, &catalog_of(&session, round.header.site.as_str())?));
        let place_name = |place: &str| {
            catalog.as_ref().and_then(|catalog| catalog.place(place)).map(|known| known.name.clone()).unwrap_or_else(|| place.to_owned())
        };
        let result = round.result();
        let submitted = match &round.submitted {
            Some((user, at)) => texts
                .submitted_by
                .replace("{user}", &people.with(|people| crate::server::display_name(people, user.as_str())))
                .replace("{time}", &clock(*at, language)),
            None => texts.not_submitted.to_owned(),
        };
        let rooms: Vec<String> = if round.rooms.is_empty() { vec![NO_ROOM.to_owned()] } else { round.rooms.clone() };
        let sections = rooms.iter().map(|room| room_table(texts, round, room, language, &place_name)).collect_view();
        let review = round.review.clone().map(|review| {
            view! {
                <section class="report-review">
                    <h2>{texts.review_note}</h2>
                    <p>{review.text}</p>
                    <p class="muted">{format!("{} · {}", people.with(|people| crate::server::display_name(people, review.user.as_str())), clock(review.at, language))}</p>
                </section>
            }
        });
        view! {
            <article class="report" data-report=id.to_string()>
                <p class="no-print">
                    <a href=format!("/rounds/{id}")>{texts.back_to_round}</a>
                    " "
                    <button type="button" data-action="print" on:click=move |_| {
                        if let Some(window) = web_sys::window() {
                            let _ = window.print();
                        }
                    }>{texts.print}</button>
                </p>
                <h1>{text(&round.checklist.name, language)}</h1>
                <dl class="report-facts">
                    <dt>{texts.place}</dt><dd>{place_name(&round.location)}</dd>
                    <dt>{texts.started}</dt><dd>{format!("{} · {}", people.with(|people| crate::server::display_name(people, round.header.created_by.as_str())), clock(round.header.created_at, language))}</dd>
                    <dt>{texts.submitted}</dt><dd data-report="submitted">{submitted}</dd>
                    <dt>{texts.pass_rate}</dt><dd data-report="pass-rate">{per_mille(result.pass_rate_per_mille)}</dd>
                    <dt>{texts.score}</dt><dd>{per_mille(result.score_per_mille)}</dd>
                    <dt>{texts.failed_items}</dt><dd data-report="failed">{result.failed}</dd>
                </dl>
                {sections}
                {review}
            </article>
        }
        .into_any()
    }
}

fn room_table(
    texts: &Texts,
    round: &InspectionView,
    room: &str,
    language: Language,
    place_name: &dyn Fn(&str) -> String,
) -> impl IntoView + use<> {
    let rows = round
        .checklist
        .items
        .iter()
        .map(|item| {
            let key = answer_key(room, &item.id);
            let answer = round.answers.get(&(room.to_owned(), item.id.clone()));
            let (shown, state) = match answer {
                Some(answer) => {
                    let state = match outcome(item, &answer.value) {
                        Outcome::Passed => "pass",
                        Outcome::Failed => "fail",
                        Outcome::Neutral => "neutral",
                    };
                    (answer_text(texts, item, &answer.value, language), state)
                }
                None => ("—".to_owned(), "missing"),
            };
            let mut pictures: Vec<String> = round.photos.iter().filter(|photo| photo.key == key).map(|photo| photo.blob.sha256.clone()).collect();
            if let Some(AnswerValue::Blob(blob)) = answer.map(|answer| &answer.value) {
                pictures.insert(0, blob.sha256.clone());
            }
            let notes = round
                .notes
                .iter()
                .filter(|note| note.key.as_deref() == Some(key.as_str()))
                .map(|note| {
                    let by = crate::server::SitePeople::name_in_context(note.user.as_str());
                    if note.no_action { texts.no_action_by.replace("{reason}", &note.text).replace("{user}", &by) } else { format!("{} — {by}", note.text) }
                })
                .collect::<Vec<_>>()
                .join("; ");
            let hazard = round.hazards.iter().any(|hazard| hazard.key == key).then_some(texts.hazard_reported);
            view! {
                <tr class=format!("report-{state}")>
                    <td>{text(&item.label, language)}</td>
                    <td class="report-answer">{shown}</td>
                    <td>
                        {notes}
                        {hazard.map(|hazard| view! { <strong class="report-hazard">" " {hazard}</strong> })}
                        <div class="report-photos">{pictures.into_iter().map(|sha256| view! { <Photo sha256=sha256 /> }).collect_view()}</div>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let heading = (room != NO_ROOM).then(|| view! { <h2>{place_name(room)}</h2> });
    view! {
        <section class="report-room">
            {heading}
            <table class="report-table">
                <thead><tr><th>{texts.item}</th><th>{texts.answer}</th><th>{texts.notes_and_photos}</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}
