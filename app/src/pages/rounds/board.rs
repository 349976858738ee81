//! The home screen's rounds: those due today or overdue by the sites' schedules, those in
//! progress, and those submitted in the last week — searchable and filtered by site,
//! building and checklist. Dorm staff see dorm checks, inspectors the other rounds,
//! managers and admins all of them.

use std::collections::BTreeMap;
use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use shared::directory::Role;
use shared::document::catalog::CatalogView;
use shared::document::inspection::InspectionView;
use shared::document::template::ChecklistCategory;
use shared::protocol::DocumentId;
use shared::routes::AppRoute;
use shared::schedule::{Occurrence, RoundFact, Standing, occurrences};
use shared::time::{Span, Timestamp};

use super::start::{start_round, template_name};
use super::{clock, read_catalog, read_round, text};
use crate::edits::{catalog_of, local_offset_minutes, now};
use crate::i18n::{CurrentLanguage, Language, use_texts};
use crate::pages::COMPACT_ROWS;
use crate::replica::{Replica, use_replica};
use crate::session::{Session, use_session};

/// How long a submitted round stays on the board.
const RECENT: Span = Span::WEEK;

fn category_of(catalog: &CatalogView, template: &str) -> String {
    catalog.templates.iter().find(|known| known.document == template).map(|known| known.category.clone()).unwrap_or_default()
}

/// One line of the board, whatever list it is in.
#[derive(Clone, Debug, PartialEq)]
struct Line {
    site: String,
    site_name: String,
    place: String,
    building: String,
    building_name: String,
    template: String,
    /// The checklist's category (`fire_safety`, `dorm_room`…).
    category: String,
    title: String,
    place_name: String,
    kind: LineKind,
}

#[derive(Clone, Debug, PartialEq)]
enum LineKind {
    Due { due_by: Timestamp, overdue_since: Option<Timestamp> },
    Open { round: DocumentId, answered: usize, expected: usize },
    Submitted { round: DocumentId, at: Timestamp },
}

struct SiteData {
    id: String,
    name: String,
    role: Role,
    catalog: Arc<CatalogView>,
}

fn site_data(replica: Replica, session: &Session) -> Vec<SiteData> {
    session
        .sites
        .iter()
        .filter_map(|site| {
            Some(SiteData {
                id: site.id.to_string(),
                name: site.name.clone(),
                role: site.role,
                catalog: read_catalog(replica, &catalog_of(session, &site.id)?)?,
            })
        })
        .collect()
}

fn lines(replica: Replica, session: &Session, rounds: &[(DocumentId, &InspectionView)], language: Language, now: Timestamp) -> Vec<Line> {
    let sites = site_data(replica, session);
    let facts: Vec<RoundFact> = rounds
        .iter()
        .map(|(_, round)| RoundFact {
            template: round.template.clone(),
            place: round.location.clone(),
            started_at: round.header.created_at,
            submitted_at: round.submitted.as_ref().map(|(_, at)| *at),
        })
        .collect();
    let mut lines = Vec::new();
    let describe = |site: &SiteData, place: &str, template: &str, title: String, kind: LineKind| Line {
        site: site.id.clone(),
        site_name: site.name.clone(),
        place: place.to_owned(),
        building: site.catalog.building_of(place).map(|building| building.id.to_string()).unwrap_or_default(),
        building_name: site.catalog.building_of(place).map(|building| building.name.clone()).unwrap_or_default(),
        template: template.to_owned(),
        category: category_of(&site.catalog, template),
        title,
        place_name: site.catalog.place(place).map(|known| known.name.clone()).unwrap_or_else(|| place.to_owned()),
        kind,
    };
    for site in &sites {
        let mine: Vec<_> = site
            .catalog
            .schedules
            .iter()
            .filter(|schedule| {
                ChecklistCategory::walked_by(ChecklistCategory::parse(&category_of(&site.catalog, &schedule.template)).ok(), site.role)
            })
            .cloned()
            .collect();
        for occurrence in occurrences(&mine, &site.catalog.closures, &facts, now, local_offset_minutes()) {
            if matches!(occurrence.standing, Standing::Due { .. } | Standing::Missed { .. }) {
                let Occurrence { schedule, due_by, slot, .. } = &occurrence;
                let name = template_name(&site.catalog, &schedule.template, language);
                // A meal's check is named by its meal: 食品安全检查 · 早.
                let title = slot.as_ref().map_or_else(|| name.clone(), |slot| format!("{name} · {slot}"));
                let kind = LineKind::Due { due_by: *due_by, overdue_since: occurrence.missed_since() };
                lines.push(describe(site, schedule.place.as_str(), &schedule.template, title, kind));
            }
        }
        for (id, round) in rounds.iter().filter(|(_, round)| round.header.site.as_str() == site.id) {
            let title = text(&round.checklist.name, language);
            let kind = match &round.submitted {
                None => {
                    let result = round.result();
                    LineKind::Open { round: *id, answered: result.answered, expected: result.expected }
                }
                Some((_, at)) if now.since(*at) < RECENT => LineKind::Submitted { round: *id, at: *at },
                Some(_) => continue,
            };
            lines.push(describe(site, &round.location, &round.template, title, kind));
        }
    }
    lines
}

/// The rounds at one's sites: due (overdue first), in progress, recently submitted, with
/// search and filters. `compact` (the to-do page): rounds in progress and due only, at
/// most [`COMPACT_ROWS`], no filters, and a way to the whole board; nothing at all when
/// none waits.
#[component]
pub fn RoundsBoard(#[prop(optional)] compact: bool) -> impl IntoView {
    let texts = use_texts();
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    let current = use_session();
    let replica = use_replica();
    let navigate = use_navigate();
    let query = RwSignal::new(String::new());
    let site = RwSignal::new(String::new());
    let building = RwSignal::new(String::new());
    let template = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let all = Memo::new(move |_| {
        let _ = replica.revision.get();
        let Some(session) = current.session.get() else { return Vec::new() };
        let rounds: Vec<_> = replica.document_ids().into_iter().filter_map(|id| Some((id, read_round(replica, &id)?))).collect();
        // A discarded round was never a round: it neither shows nor counts for a schedule.
        let views: Vec<(DocumentId, &InspectionView)> =
            rounds.iter().filter(|(_, round)| round.view.discarded.is_none()).map(|(id, round)| (*id, &round.view)).collect();
        lines(replica, &session, &views, language.get(), now())
    });
    let shown = move || {
        let wanted = query.get().trim().to_lowercase();
        let (site, building, template) = (site.get(), building.get(), template.get());
        all.get()
            .into_iter()
            .filter(|line| {
                (site.is_empty() || line.site == site)
                    && (building.is_empty() || line.building == building)
                    && (template.is_empty() || line.template == template)
                    && (wanted.is_empty()
                        || line.title.to_lowercase().contains(&wanted)
                        || line.place_name.to_lowercase().contains(&wanted))
            })
            .collect::<Vec<_>>()
    };
    // Filter choices: every site, building and checklist that has a line.
    let choices = move |pick: fn(&Line) -> (String, String)| {
        let mut found: BTreeMap<String, String> = BTreeMap::new();
        for line in all.get() {
            let (key, name) = pick(&line);
            found.entry(key).or_insert(name);
        }
        found
    };
    let select = move |name: &'static str, label: &'static str, signal: RwSignal<String>, pick: fn(&Line) -> (String, String)| {
        let options = choices(pick);
        (options.len() > 1).then(|| {
            let options = options
                .into_iter()
                .map(|(key, name)| view! { <option value=key.clone() selected=signal.get_untracked() == key>{name}</option> })
                .collect_view();
            view! {
                <label class="filter">
                    <span>{label}</span>
                    <select name=name on:change=move |event| signal.set(event_target_value(&event))>
                        <option value="">{texts.get_untracked().all}</option>
                        {options}
                    </select>
                </label>
            }
        })
    };
    let start_due = move |line: Line| {
        let Some(session) = current.session.get_untracked() else { return };
        let Some(catalog) = catalog_of(&session, &line.site).and_then(|id| read_catalog(replica, &id)) else { return };
        let navigate = navigate.clone();
        let texts = texts.get_untracked();
        spawn_local(async move {
            match start_round(replica, &session, &line.site, &catalog, &line.template, &line.place, texts).await {
                Ok(id) => navigate(&format!("/rounds/{id}"), Default::default()),
                Err(message) => error.set(Some(message.to_string())),
            }
        });
    };
    let list = move || {
        let texts = texts.get();
        let language = language.get();
        let lines = shown();
        let section = |heading: &'static str, name: &'static str, items: Vec<AnyView>| {
            (!items.is_empty()).then(|| view! { <h3>{heading}</h3> <ul class="rounds" data-list=name>{items}</ul> })
        };
        let mut due = Vec::new();
        let mut open = Vec::new();
        let mut submitted = Vec::new();
        let mut sorted = lines;
        sorted.sort_by_key(|line| match line.kind {
            LineKind::Due { due_by, overdue_since } => (overdue_since.is_none(), due_by.as_millis()),
            LineKind::Open { .. } => (true, 0),
            LineKind::Submitted { at, .. } => (true, -at.as_millis()),
        });
        for line in sorted {
            let place = line.place_name.clone();
            match line.kind.clone() {
                LineKind::Due { due_by, overdue_since } => {
                    let (badge, class) = match overdue_since {
                        Some(_) => (texts.overdue.to_owned(), "badge badge-overdue"),
                        None => (crate::i18n::due_words(due_by, language), "badge"),
                    };
                    let start = start_due.clone();
                    let started = line.clone();
                    due.push(
                        view! {
                            <li class="round" data-due=line.template.clone() data-checklist=line.category.clone() data-place=line.place.clone() class:overdue=overdue_since.is_some()>
                                <span class="round-title">{line.title.clone()} <span class="muted">" · " {place}</span></span>
                                <span class=class>{badge}</span>
                                <button type="button" data-action="start-due" on:click=move |_| start(started.clone())>{texts.start}</button>
                            </li>
                        }
                        .into_any(),
                    );
                }
                LineKind::Open { round, answered, expected } => open.push(
                    view! {
                        <li class="round" data-document=round.to_string() data-checklist=line.category.clone()>
                            <a href=format!("/rounds/{round}")>{line.title.clone()} <span class="muted">" · " {place}</span></a>
                            <span class="badge">{format!("{answered}/{expected}")}</span>
                        </li>
                    }
                    .into_any(),
                ),
                LineKind::Submitted { round, at } => submitted.push(
                    view! {
                        <li class="round" data-document=round.to_string() data-submitted="yes">
                            <a href=format!("/rounds/{round}")>{line.title.clone()} <span class="muted">" · " {place}</span></a>
                            <span class="badge badge-synced">{format!("{} {}", texts.submitted, clock(at, language))}</span>
                        </li>
                    }
                    .into_any(),
                ),
            }
        }
        if compact {
            // Nothing here takes input, so drawing the card afresh on each change is fine.
            let waiting = due.len() + open.len();
            open.truncate(COMPACT_ROWS);
            due.truncate(COMPACT_ROWS - open.len());
            let card = view! {
                <section class="card" aria-labelledby="my-rounds">
                    <h2 id="my-rounds">{format!("{} ({waiting})", texts.rounds)}</h2>
                    {section(texts.in_progress, "open", open)}
                    {section(texts.due_rounds, "due", due)}
                    {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
                    <a class="see-all" href=AppRoute::Rounds.pattern() data-action="all-rounds">{texts.see_all}</a>
                </section>
            };
            return (waiting > 0).then_some(card).into_any();
        }
        let nothing = due.is_empty() && open.is_empty() && submitted.is_empty();
        view! {
            {section(texts.due_rounds, "due", due)}
            {section(texts.in_progress, "open", open)}
            {section(texts.recently_submitted, "submitted", submitted)}
            {nothing.then(|| view! { <p class="muted">{texts.nothing_due}</p> })}
        }
        .into_any()
    };
    if compact {
        return list.into_any();
    }
    view! {
        <section class="card" aria-labelledby="my-rounds">
            <h2 id="my-rounds">{move || texts.get().rounds_due_and_open}</h2>
            <div class="filters">
                <label class="filter search">
                    <span>{move || texts.get().search}</span>
                    <input type="search" name="search" prop:value=query on:input=move |event| query.set(event_target_value(&event)) />
                </label>
                {move || select("site", texts.get().site, site, |line| (line.site.clone(), line.site_name.clone()))}
                {move || select("building", texts.get().building, building, |line| (line.building.clone(), line.building_name.clone()))}
                {move || select("template", texts.get().checklist, template, |line| (line.template.clone(), line.title.clone()))}
            </div>
            {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
            {list}
        </section>
    }
    .into_any()
}

/// Rounds whose answers two people gave differently, waiting for a decision: those this
/// person started, and those at sites they manage. For the to-do page.
#[component]
pub fn DecisionsWaiting() -> impl IntoView {
    let texts = use_texts();
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    let current = use_session();
    let replica = use_replica();
    let waiting = Memo::new(move |_| {
        let _ = replica.revision.get();
        let Some(session) = current.session.get() else { return Vec::new() };
        let me = session.user.username.clone();
        let manages = |site: &str| session.sites.iter().any(|known| known.id == site && known.role.manages());
        let mut found: Vec<(DocumentId, String, usize, Timestamp)> = replica
            .document_ids()
            .into_iter()
            .filter_map(|id| {
                let round = read_round(replica, &id)?;
                let view = &round.view;
                let mine = view.header.created_by.as_str() == me || manages(view.header.site.as_str());
                (mine && view.discarded.is_none() && !round.conflicts.is_empty())
                    .then(|| (id, text(&view.checklist.name, language.get()), round.conflicts.len(), view.header.created_at))
            })
            .collect();
        found.sort_by_key(|(_, _, _, at)| *at);
        found
    });
    view! {
        <Show when=move || !waiting.with(Vec::is_empty)>
            <section class="card" aria-labelledby="decisions-waiting">
                <h2 id="decisions-waiting">{move || format!("{} ({})", texts.get().decisions_waiting, waiting.with(Vec::len))}</h2>
                <ul class="rounds" data-list="decisions">
                    {move || {
                        let texts = texts.get();
                        let mut rows = waiting.get();
                        rows.truncate(COMPACT_ROWS);
                        rows.into_iter()
                            .map(|(id, title, differing, _)| view! {
                                <li class="round" data-document=id.to_string()>
                                    <a href=format!("/rounds/{id}")>{title}</a>
                                    <span class="badge badge-overdue">{texts.answers_differ.replace("{}", &differing.to_string())}</span>
                                    {crate::inbox::new_mark(id)}
                                </li>
                            })
                            .collect_view()
                    }}
                </ul>
            </section>
        </Show>
    }
}
