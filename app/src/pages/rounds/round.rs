//! One round's page: progress, the rooms of a dorm round with who checked which (a room is
//! done when its required items are answered) and "next room", the items of the chosen
//! room (or the place), "next unanswered" (an item without an answer, a required photo or
//! a failure's follow-up), submission — which, when blocked, names each missing thing and
//! goes to the first — and, once submitted, the read-only answers with the manager's
//! review note and a link to the report.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use shared::directory::Role;
use shared::document::catalog::{CatalogView, IndexEntry};
use shared::document::inspection::{FollowUp, Inspection, Missing, NO_ROOM, answer_key};
use shared::document::{DocumentType, Edit};
use shared::protocol::DocumentId;
use wasm_bindgen::JsCast as _;

use super::item::{ItemRow, ItemRowData, NoteDrafts};
use super::{RoundData, clock, read_catalog, read_round, role_at, text};
use crate::edits::{catalog_of, edit_now, index_in_catalog};
use crate::i18n::{CurrentLanguage, use_texts};
use crate::pages::orders::{hidden_entries, sync_badge};
use crate::replica::{Replica, use_replica};
use crate::server::{Person, display_name, use_site_people};
use crate::session::{CurrentSession, Session, use_session};

/// A room of a dorm round as its picker shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct RoomState {
    id: String,
    name: String,
    answered: usize,
    total: usize,
    /// Every required item answered: the room is done (optional notes and readings do not
    /// hold it open).
    done: bool,
    /// Who answered in it, in order of first answer, by name.
    by: Vec<String>,
}

fn room_states(data: &RoundData, names: &dyn Fn(&str) -> String, people: &dyn Fn(&str) -> String) -> Vec<RoomState> {
    data.view
        .rooms
        .iter()
        .map(|room| {
            let mut answers: Vec<_> = data.view.answers.values().filter(|answer| answer.room == *room).collect();
            answers.sort_by_key(|answer| answer.at);
            let mut by: Vec<String> = Vec::new();
            for answer in &answers {
                let name = people(answer.user.as_str());
                if !by.contains(&name) {
                    by.push(name);
                }
            }
            let done = data.view.room_done(room);
            RoomState { id: room.clone(), name: names(room), answered: answers.len(), total: data.view.checklist.items.len(), done, by }
        })
        .collect()
}

/// Brings the first item named missing into view (once the page has drawn it).
fn go_to_first_flagged() {
    request_animation_frame(|| {
        let Some(document) = web_sys::window().and_then(|window| window.document()) else { return };
        if let Ok(Some(item)) = document.query_selector(".item.flagged") {
            item.scroll_into_view();
        }
    });
}

/// Items drawn in the first frame of a round's page: two screens of a phone (which shows
/// three or four items at a time).
const FIRST_ROWS: usize = 10;

/// Scrolls to the first item of the shown room without an answer, or still needing a
/// photo or a failure's follow-up, and says so if none.
fn go_to_next_unanswered() -> bool {
    let Some(document) = web_sys::window().and_then(|window| window.document()) else { return false };
    let Ok(Some(item)) = document.query_selector(".item[data-answered=\"no\"], .item[data-needs=\"yes\"]") else { return false };
    item.scroll_into_view();
    if let Some(first) =
        item.query_selector("button, input").ok().flatten().and_then(|control| control.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = first.focus();
    }
    true
}

/// What the parts of a round's page share: the round and its site's catalog as this phone
/// has them, the room shown, and what blocks submitting.
#[derive(Clone, Copy)]
struct Walk {
    replica: Replica,
    current: CurrentSession,
    data: Memo<Option<(DocumentId, Arc<RoundData>)>>,
    catalog: Memo<Option<Arc<CatalogView>>>,
    people: Memo<Vec<Person>>,
    /// The person's role at the round's site.
    role: Memo<Option<Role>>,
    /// The room picked, if one was.
    chosen_room: RwSignal<Option<String>>,
    /// Whether "next unanswered" found nothing left.
    all_answered: RwSignal<bool>,
    /// What blocks submitting now.
    needs: Memo<Vec<Missing>>,
    /// What blocks submitting, once a first attempt to submit has been made: named, and
    /// flagged on the items, until the gaps are filled.
    gaps: Memo<Vec<Missing>>,
    tried: RwSignal<bool>,
}

impl Walk {
    fn new(id: Memo<Option<DocumentId>>) -> Walk {
        let replica = use_replica();
        let current = use_session();
        let data = Memo::new(move |_| {
            let _ = replica.revision.get();
            let id = id.get()?;
            read_round(replica, &id).map(|data| (id, data))
        });
        let site = Memo::new(move |_| data.with(|data| data.as_ref().map(|(_, data)| data.view.header.site.to_string())));
        let catalog = Memo::new(move |_| {
            let _ = replica.revision.get();
            read_catalog(replica, &catalog_of(&current.session.get()?, &site.get()?)?)
        });
        let role = Memo::new(move |_| role_at(&current.session.get()?, &site.get()?));
        let people = use_site_people(move || site.get());
        let tried = RwSignal::new(false);
        let needs = Memo::new(move |_| data.with(|data| data.as_ref().map(|(_, data)| data.view.missing()).unwrap_or_default()));
        let gaps = Memo::new(move |_| if tried.get() { needs.get() } else { Vec::new() });
        Walk {
            replica,
            current,
            data,
            catalog,
            people,
            role,
            chosen_room: RwSignal::new(None),
            all_answered: RwSignal::new(false),
            needs,
            gaps,
            tried,
        }
    }

    /// A place's name from the catalog, else its id.
    fn place_name(self, place: &str) -> String {
        self.catalog
            .with(|catalog| catalog.as_ref().and_then(|catalog| catalog.place(place).map(|known| known.name.clone())))
            .unwrap_or_else(|| place.to_owned())
    }

    fn person(self, user: &str) -> String {
        self.people.with(|people| display_name(people, user))
    }

    /// The room shown: the one picked, else the first not fully answered.
    fn room(self) -> Option<String> {
        self.data.with(|data| {
            let (_, data) = data.as_ref()?;
            let rooms = &data.view.rooms;
            if rooms.is_empty() {
                return None;
            }
            self.chosen_room.get().filter(|room| rooms.contains(room)).or_else(|| {
                let items = data.view.checklist.items.len();
                let answered = |room: &String| data.view.answers.keys().filter(|(answered, _)| answered == room).count();
                rooms.iter().find(|room| answered(room) < items).or(rooms.first()).cloned()
            })
        })
    }

    /// Lists the round in its site's index with `status`, as of `edit`.
    async fn index(self, session: &Session, id: DocumentId, data: &RoundData, title: String, status: &str, edit: &Edit) {
        let entry = IndexEntry {
            document: id.url(),
            document_type: DocumentType::Inspection,
            title,
            status: status.to_owned(),
            location: data.view.location.clone(),
            updated_at: edit.at,
        };
        if let Err(message) = index_in_catalog(self.replica, session, &data.view.header.site.to_string(), entry, edit).await {
            leptos::logging::warn!("cannot update the index: {message}");
        }
    }

    /// Submits the round; when something blocks it, shows the first room with a gap and
    /// goes to its item.
    fn submit(self) {
        let Some(session) = self.current.session.get_untracked() else { return };
        let Some((id, data)) = self.data.get_untracked() else { return };
        let title = format!("{} · {}", data.view.checklist.name.zh, self.place_name(&data.view.location));
        spawn_local(async move {
            let outcome = self
                .replica
                .edit(&id, |doc| {
                    let edit = edit_now(&session.user.username)?;
                    Ok(Inspection::edit_in(doc, |round| round.submit(&edit))?.map(|()| edit))
                })
                .await;
            match outcome {
                Ok(Ok(edit)) => {
                    self.index(&session, id, &data, title, "submitted", &edit).await;
                    if let Err(message) = crate::pages::meters::record_round_readings(self.replica, &session, id, &data.view).await {
                        leptos::logging::warn!("cannot record the round's meter readings: {message}");
                    }
                }
                Ok(Err(gaps)) => {
                    if let Some(gap) = gaps.first()
                        && gap.room() != NO_ROOM
                    {
                        self.chosen_room.set(Some(gap.room().to_owned()));
                    }
                    self.tried.set(true);
                    go_to_first_flagged();
                }
                Err(message) => leptos::logging::warn!("cannot submit: {message}"),
            }
        });
    }
}

#[component]
pub fn Round() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|params| params.get("id").and_then(|id| DocumentId::parse(&id).ok())));
    let walk = Walk::new(id);
    crate::inbox::see_while_open(move || id.get());
    provide_context(NoteDrafts::default());
    provide_context(crate::server::SitePeople(walk.people));
    view! {
        <div class="round-page">
            <RoundHeading walk=walk />
            <RoomPicker walk=walk />
            <Items walk=walk />
            // Below the items, not in the footer that stays on screen: it never covers them.
            <MissingList walk=walk />
            <DiscardButton walk=walk />
            <RoundFooter walk=walk />
        </div>
    }
}

/// The checklist's name, the place, sync state, progress, and how many answers conflict.
#[component]
fn RoundHeading(walk: Walk) -> impl IntoView {
    let texts = use_texts();
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    move || {
        let texts = texts.get();
        let language = language.get();
        walk.data.with(|data| {
            let Some((id, data)) = data else {
                return view! { <p class="muted" data-round="missing">{texts.round_not_here}</p> }.into_any();
            };
            let result = data.view.result();
            let id = *id;
            let percent = (result.answered * 100).checked_div(result.expected).unwrap_or(100);
            let hidden = data.view.unreadable.len();
            view! {
                <crate::nav::BackLink lists=&[shared::routes::Tab::Rounds] />
                <h1>{text(&data.view.checklist.name, language)}</h1>
                <p class="round-place">
                    <span data-place=data.view.location.clone()>{walk.place_name(&data.view.location)}</span>
                    " · "
                    {sync_badge(id)}
                </p>
                <div class="progress" data-progress=format!("{}/{}", result.answered, result.expected)>
                    <div class="progress-bar"><span style:width=format!("{percent}%")></span></div>
                    <span>{texts.answered.replace("{answered}", &result.answered.to_string()).replace("{total}", &result.expected.to_string())}</span>
                </div>
                {hidden_entries(move || hidden)}
                {(!data.conflicts.is_empty()).then(|| view! { <p class="warning" data-conflicts=data.conflicts.len()>{texts.conflicts_here.replace("{}", &data.conflicts.len().to_string())}</p> })}
            }
            .into_any()
        })
    }
}

/// The rooms of a dorm round, each with how much is answered and by whom; tapping one shows
/// its items.
#[component]
fn RoomPicker(walk: Walk) -> impl IntoView {
    let texts = use_texts();
    move || {
        let texts = texts.get();
        let place_name = |place: &str| walk.place_name(place);
        let person = |user: &str| walk.person(user);
        let states = walk.data.with(|data| data.as_ref().map(|(_, data)| room_states(data, &place_name, &person)).unwrap_or_default());
        (!states.is_empty()).then(|| {
            let shown = walk.room();
            let buttons = states
                .into_iter()
                .map(|state| {
                    let done = state.done;
                    let by = state.by.join(", ");
                    let id = state.id.clone();
                    let class = if done {
                        "room room-done"
                    } else if state.answered > 0 {
                        "room room-started"
                    } else {
                        "room"
                    };
                    view! {
                        <li>
                            <button
                                type="button"
                                class=class
                                class:selected=shown.as_deref() == Some(state.id.as_str())
                                data-room=state.id.clone()
                                data-done=if done { "yes" } else { "no" }
                                data-by=by.clone()
                                on:click=move |_| walk.chosen_room.set(Some(id.clone()))
                            >
                                <span class="room-name">{state.name}</span>
                                <span class="room-count">{format!("{}/{}", state.answered, state.total)}</span>
                                {(!by.is_empty()).then(|| view! { <span class="room-by">{by.clone()}</span> })}
                            </button>
                        </li>
                    }
                })
                .collect_view();
            view! {
                <section class="card" aria-labelledby="rooms">
                    <h2 id="rooms">{texts.rooms}</h2>
                    <ul class="room-grid">{buttons}</ul>
                </section>
            }
        })
    }
}

/// The items of the room shown (or of the place), each row rebuilt only when what it shows
/// changes. The first screenful is drawn at once, the rest in the frame after: a long
/// checklist opens as fast as a short one (see `FIRST_ROWS`).
#[component]
fn Items(walk: Walk) -> impl IntoView {
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    let row_limit = RwSignal::new(FIRST_ROWS);
    request_animation_frame(move || request_animation_frame(move || row_limit.set(usize::MAX)));
    let needs_key = move |row: &ItemRowData, among: Memo<Vec<Missing>>| {
        let key = answer_key(row.room.as_deref().unwrap_or(NO_ROOM), &row.item.id);
        Signal::derive(move || among.with(|missing| missing.iter().any(|gap| answer_key(gap.room(), gap.item()) == key)))
    };
    // Read in place: the round is not copied to build its rows.
    let rows = move || -> Vec<ItemRowData> {
        let language = language.get();
        let me = walk.current.session.with(|session| session.as_ref().map(|session| session.user.username.clone())).unwrap_or_default();
        let manager = walk.role.get().is_some_and(Role::manages);
        let room = walk.room();
        let room_key = room.clone().unwrap_or_else(|| NO_ROOM.to_owned());
        let limit = row_limit.get();
        walk.data.with(|data| {
            let Some((id, data)) = data.as_ref() else { return Vec::new() };
            let id = *id;
            let locked = data.view.submitted.is_some();
            data.view
                .checklist
                .items
                .iter()
                .take(limit)
                .map(|item| {
                    let key = answer_key(&room_key, &item.id);
                    let section = data
                        .view
                        .checklist
                        .sections
                        .iter()
                        .find(|section| section.id == item.section)
                        .map(|section| text(&section.title, language))
                        .unwrap_or_default();
                    // In a dorm round, each row says which room it is of.
                    let section = match &room {
                        Some(room) => format!("{} · {section}", walk.place_name(room)),
                        None => section,
                    };
                    ItemRowData {
                        round: id,
                        room: room.clone(),
                        section,
                        item: item.clone(),
                        answer: data.view.answers.get(&(room_key.clone(), item.id.clone())).cloned(),
                        // A decision that a failure needs no action shows as the item's follow-up, not as a note.
                        notes: data
                            .view
                            .notes
                            .iter()
                            .filter(|note| note.key.as_deref() == Some(key.as_str()) && !note.no_action)
                            .cloned()
                            .collect(),
                        photos: data.view.photos.iter().filter(|photo| photo.key == key).map(|photo| photo.blob.clone()).collect(),
                        hazard: data
                            .view
                            .hazards
                            .iter()
                            .find(|hazard| hazard.key == key)
                            .map(|hazard| (hazard.work_order.clone(), super::item::order_status(walk.replica, &hazard.work_order))),
                        conflict: data.conflict(&key).map(<[_]>::to_vec),
                        can_resolve: manager || data.view.header.created_by.as_str() == me,
                        locked,
                        site: data.view.header.site.to_string(),
                        location: room.clone().unwrap_or_else(|| data.view.location.clone()),
                        place_name: walk.place_name(room.as_deref().unwrap_or(&data.view.location)),
                        checklist_category: data.view.checklist.category.clone(),
                        follow_up: data.view.follow_up(&key).and_then(|follow_up| match follow_up {
                            FollowUp::NoAction(note) => Some((note.text.clone(), walk.person(note.user.as_str()))),
                            FollowUp::Hazard(_) => None,
                        }),
                        language,
                    }
                })
                .collect()
        })
    };
    view! {
        <ol class="items">
            <For each=rows key=ItemRowData::key let(row)>
                <ItemRow flagged=needs_key(&row, walk.gaps) needs=needs_key(&row, walk.needs) row=row />
            </For>
        </ol>
    }
}

/// What blocks submitting, after a first attempt: each named with its room and item, each
/// a way to it.
#[component]
fn MissingList(walk: Walk) -> impl IntoView {
    let texts = use_texts();
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    move || {
        let texts = texts.get();
        let language = language.get();
        let gaps = walk.gaps.get();
        (!gaps.is_empty()).then(|| {
            let lines = walk.data.with(|data| {
                let Some((_, data)) = data.as_ref() else { return Vec::new() };
                gaps.iter()
                    .map(|gap| {
                        let item = data.view.checklist.item(gap.item()).map(|item| text(&item.label, language)).unwrap_or_else(|| gap.item().to_string());
                        let what = match gap {
                            Missing::Answer { .. } => texts.missing_answer,
                            Missing::PhotoOnFail { .. } => texts.missing_photo,
                            Missing::FollowUp { .. } => texts.missing_follow_up,
                        };
                        let room = (gap.room() != NO_ROOM).then(|| gap.room().to_owned());
                        let line = match &room {
                            Some(room) => format!("{} · {item}: {what}", walk.place_name(room)),
                            None => format!("{item}: {what}"),
                        };
                        (room, gap.item().to_string(), line)
                    })
                    .collect::<Vec<_>>()
            });
            let lines = lines
                .into_iter()
                .map(|(room, item, line)| {
                    view! {
                        <li>
                            <button type="button" class="link-button" data-missing-item=item.clone() on:click=move |_| {
                                if let Some(room) = room.clone() {
                                    walk.chosen_room.set(Some(room));
                                }
                                let item = item.clone();
                                request_animation_frame(move || {
                                    let found = web_sys::window().and_then(|window| window.document()).and_then(|document| document.query_selector(&format!(".item[data-item='{item}']")).ok().flatten());
                                    if let Some(found) = found {
                                        found.scroll_into_view();
                                    }
                                });
                            }>{line}</button>
                        </li>
                    }
                })
                .collect_view();
            view! {
                <div class="missing" role="alert">
                    <p class="error" data-missing=gaps.len()>{texts.still_missing.replace("{}", &gaps.len().to_string())}</p>
                    <ul class="missing-list" data-list="missing">{lines}</ul>
                </div>
            }
        })
    }
}

/// Started by mistake: its starter discards it while nothing is answered. Out of the
/// footer that stays on screen, which keeps to one row of buttons.
#[component]
fn DiscardButton(walk: Walk) -> impl IntoView {
    let texts = use_texts();
    let navigate = leptos_router::hooks::use_navigate();
    let discardable = Memo::new(move |_| {
        let me = walk.current.session.with(|session| session.as_ref().map(|session| session.user.username.clone()))?;
        walk.data.with(|data| {
            data.as_ref().map(|(_, data)| {
                data.view.header.created_by.as_str() == me
                    && data.view.answers.is_empty()
                    && data.view.submitted.is_none()
                    && data.view.discarded.is_none()
            })
        })
    });
    let discard = move |_| {
        let Some(session) = walk.current.session.get_untracked() else { return };
        let Some((id, data)) = walk.data.get_untracked() else { return };
        let navigate = navigate.clone();
        spawn_local(async move {
            let outcome = walk
                .replica
                .edit(&id, |doc| {
                    let edit = edit_now(&session.user.username)?;
                    Inspection::edit_in(doc, |round| round.discard(&edit))??;
                    Ok(edit)
                })
                .await;
            match outcome {
                Ok(edit) => {
                    walk.index(&session, id, &data, data.view.checklist.name.zh.clone(), "discarded", &edit).await;
                    navigate(shared::routes::AppRoute::Rounds.pattern(), Default::default());
                }
                Err(message) => leptos::logging::warn!("cannot discard: {message}"),
            }
        });
    };
    move || {
        let texts = texts.get();
        (discardable.get() == Some(true)).then(|| {
            let discard = discard.clone();
            view! { <p class="discard"><button type="button" class="link-button danger" data-action="discard-round" on:click=discard>{texts.discard_round}</button></p> }
        })
    }
}

/// The foot of the page. An open round's actions stay on screen: next room, next
/// unanswered, submit. Once submitted: who and when, the review note (made once, so a note
/// being written stays while answers or another review arrive) and the report, after the
/// items, never covering them. A discarded round says who discarded it.
#[component]
fn RoundFooter(walk: Walk) -> impl IntoView {
    let texts = use_texts();
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    let round_id = Memo::new(move |_| walk.data.with(|data| data.as_ref().map(|(id, _)| *id)));
    let submitted = Memo::new(move |_| walk.data.with(|data| data.as_ref().and_then(|(_, data)| data.view.submitted.clone())));
    let discarded = Memo::new(move |_| walk.data.with(|data| data.as_ref().and_then(|(_, data)| data.view.discarded.clone())));
    let review = Memo::new(move |_| walk.data.with(|data| data.as_ref().and_then(|(_, data)| data.view.review.clone())));
    let can_review = Memo::new(move |_| walk.role.get().is_some_and(Role::manages));
    // The next room of a dorm round after the one shown, not yet done first.
    let next_room = move || -> Option<String> {
        let shown = walk.room()?;
        walk.data.with(|data| data.as_ref()?.1.view.next_room(&shown).map(str::to_owned))
    };
    move || {
        let texts = texts.get();
        let id = round_id.get()?;
        if let Some((user, at)) = discarded.get() {
            return Some(view! { <section class="round-footer"><p class="muted" data-round="discarded">{texts.discarded_by.replace("{user}", &walk.person(user.as_str())).replace("{time}", &clock(at, language.get()))}</p></section> }.into_any());
        }
        let body = match submitted.get() {
            Some((user, at)) => view! {
                <p class="submitted" data-round="submitted">{move || texts.submitted_by.replace("{user}", &walk.person(user.as_str())).replace("{time}", &clock(at, language.get()))}</p>
                {move || view! { <ReviewNote round=id review=review can_review=can_review.get() /> }}
                <a class="button" href=format!("/rounds/{id}/report") data-action="report">{texts.print_report}</a>
            }
            .into_any(),
            None => view! {
                {move || walk.all_answered.get().then(|| view! { <p class="muted" data-next="none">{texts.all_answered}</p> })}
                <div class="round-actions">
                    {move || next_room().map(|next| view! {
                        <button type="button" data-action="next-room" on:click=move |_| {
                            walk.chosen_room.set(Some(next.clone()));
                            walk.all_answered.set(false);
                            if let Some(top) = web_sys::window().and_then(|window| window.document()).and_then(|document| document.query_selector("#rooms").ok().flatten()) {
                                top.scroll_into_view();
                            }
                        }>{texts.next_room}</button>
                    })}
                    <button type="button" data-action="next-unanswered" on:click=move |_| walk.all_answered.set(!go_to_next_unanswered())>{texts.next_unanswered}</button>
                    <button type="button" class="primary" data-action="submit-round" on:click=move |_| walk.submit()>{texts.submit}</button>
                </div>
            }
            .into_any(),
        };
        let open = submitted.with(Option::is_none);
        Some(view! { <section class="round-footer" class:sticky=open>{body}</section> }.into_any())
    }
}

/// A manager's note on a submitted round; others see it read-only.
#[component]
fn ReviewNote(round: DocumentId, review: Memo<Option<shared::document::inspection::Review>>, can_review: bool) -> impl IntoView {
    let texts = use_texts();
    let current = use_session();
    let replica = use_replica();
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    // The field starts from the note in force; what arrives later shows above it.
    let draft = RwSignal::new(review.with_untracked(|review| review.as_ref().map(|review| review.text.clone()).unwrap_or_default()));
    let error = RwSignal::new(None::<String>);
    let save = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(session) = current.session.get_untracked() else { return };
        let text = draft.get_untracked();
        spawn_local(async move {
            let outcome = replica
                .edit(&round, |doc| {
                    let edit = edit_now(&session.user.username)?;
                    Ok(Inspection::edit_in(doc, |inspection| inspection.review(&text, &edit))??)
                })
                .await;
            error.set(outcome.err().map(|error| error.to_string()));
        });
    };
    let shown = move || {
        review.get().map(|review| {
            view! {
                <blockquote class="review" data-review=review.user.to_string()>
                    <p>{review.text}</p>
                    <footer class="muted">{format!("{} · {}", crate::server::SitePeople::name_in_context(review.user.as_str()), clock(review.at, language.get()))}</footer>
                </blockquote>
            }
        })
    };
    view! {
        <section class="card" aria-labelledby="review">
            <h2 id="review">{move || texts.get().review_note}</h2>
            {shown}
            {can_review.then(|| view! {
                <form class="form" data-form="review" on:submit=save>
                    <textarea name="review" rows="3" prop:value=draft on:input=move |event| draft.set(event_target_value(&event))></textarea>
                    {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
                    <button type="submit">{move || texts.get().save}</button>
                </form>
            })}
        </section>
    }
}
