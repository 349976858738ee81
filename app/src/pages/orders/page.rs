//! One work order: what and where, its status, priority, due time and who has it; the
//! steps the reader may take now (and only those); a timeline of every event, comment and
//! part used with who and when; flags left by merged logs, which a manager resolves.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use shared::directory::{Role, Username};
use shared::document::EntryId;
use shared::document::catalog::CatalogView;
use shared::document::work_order::{Action, EventKind, FlagProblem, Priority, Rating, State, WorkOrder, WorkOrderView};
use shared::protocol::DocumentId;
use shared::quantity::Quantity;
use shared::time::Timestamp;

use super::{Photo, hidden_entries, read_order, sync_badge};
use crate::edits::{catalog_of, edit_now, entry_id, now, read_catalog};
use crate::error::AppError;
use crate::fields::QuantityCorrection;
use crate::i18n::{CurrentLanguage, Language, Texts, use_texts};
use crate::photos;
use crate::replica::{Replica, use_replica};
use crate::server::{Person, display_name, use_site_people};
use crate::session::{CurrentSession, Session, use_session};

/// The time if today, else the date and time (`i18n::moment`).
pub(crate) fn when(at: Timestamp, language: Language) -> String {
    crate::i18n::moment(at, language)
}

/// A line of the timeline.
struct Line {
    at: Timestamp,
    user: String,
    what: String,
    photo: Option<String>,
    kind: &'static str,
}

/// A contractor of the site's catalog by name (its id while the catalog is not here).
fn vendor_name(catalog: Option<&CatalogView>, vendor: &EntryId) -> String {
    catalog
        .and_then(|catalog| catalog.vendors.iter().find(|known| &known.id == vendor))
        .map_or_else(|| vendor.to_string(), |known| known.name.clone())
}

fn event_words(texts: &Texts, kind: &EventKind, people: &[Person], catalog: Option<&CatalogView>) -> String {
    let name = |user: &Username| display_name(people, user.as_str());
    match kind {
        EventKind::Reported => texts.event_reported.to_owned(),
        EventKind::Assigned { assignee } => texts.event_assigned.replace("{}", &name(assignee)),
        EventKind::Contracted { vendor } => texts.event_contracted.replace("{}", &vendor_name(catalog, vendor)),
        EventKind::Acknowledged => texts.event_acknowledged.to_owned(),
        EventKind::Started => texts.event_started.to_owned(),
        EventKind::Paused { reason } => format!("{}: {reason}", texts.event_paused),
        EventKind::Completed { notes } => format!("{}: {notes}", texts.event_completed),
        EventKind::Verified { rating, comment } => {
            format!("{} {} {comment}", texts.event_verified, "★".repeat(usize::from(rating.stars())))
        }
        EventKind::Reopened { reason } => format!("{}: {reason}", texts.event_reopened),
        EventKind::Cancelled { reason } => format!("{}: {reason}", texts.event_cancelled),
        EventKind::Resolved { decision, .. } => format!("{}: {decision}", texts.event_resolved),
    }
}

fn action_name(action: Action) -> &'static str {
    match action {
        Action::Assign => "assign",
        Action::Contract => "contract",
        Action::Acknowledge => "acknowledge",
        Action::Start => "start",
        Action::Pause => "pause",
        Action::Complete => "complete",
        Action::Verify => "verify",
        Action::Reopen => "reopen",
        Action::Cancel => "cancel",
        Action::MergeInto => "merge",
    }
}

fn action_label(texts: &Texts, action: Action) -> &'static str {
    match action {
        Action::Assign => texts.action_assign,
        Action::Contract => texts.action_contract,
        Action::Acknowledge => texts.action_acknowledge,
        Action::Start => texts.action_start,
        Action::Pause => texts.action_pause,
        Action::Complete => texts.action_complete,
        Action::Verify => texts.action_verify,
        Action::Reopen => texts.action_reopen,
        Action::Cancel => texts.action_cancel,
        Action::MergeInto => texts.action_merge,
    }
}

/// A time as a `datetime-local` field shows it, in the phone's time zone.
fn local_input_value(at: Timestamp) -> String {
    let date = js_sys::Date::new(&(at.as_millis() as f64).into());
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        date.get_full_year(),
        date.get_month() + 1,
        date.get_date(),
        date.get_hours(),
        date.get_minutes()
    )
}

/// What a `datetime-local` field holds, as a time; `None` if empty or unreadable.
fn parse_local_input(value: &str) -> Option<Timestamp> {
    let millis = js_sys::Date::new(&value.into()).get_time();
    (!value.is_empty() && millis.is_finite()).then(|| Timestamp::from_millis(millis as i64))
}

/// Records `kind` (and whatever `also` adds) on the order, as `username`, now.
async fn record(
    replica: Replica,
    order: DocumentId,
    username: &str,
    kind: EventKind,
    also: impl FnOnce(&mut WorkOrder, &shared::document::Edit) -> Result<(), AppError>,
) -> Result<(), AppError> {
    replica
        .edit(&order, |doc| {
            let edit = edit_now(username)?;
            WorkOrder::edit_in(doc, |order| {
                order.record(&entry_id("event"), &kind, &edit);
                also(order, &edit)
            })?
        })
        .await
}

thread_local! {
    /// Orders whose parts this phone is issuing right now, so a second pass waits for it.
    static ISSUING: std::cell::RefCell<std::collections::BTreeSet<DocumentId>> = const { std::cell::RefCell::new(std::collections::BTreeSet::new()) };
}

/// Parts this phone sees used but not yet issued by the ledger (the technician's own
/// phone may not have synced the site's catalog yet) leave the store from here, on the
/// phones of those who keep it and of the technician: the movements' ids are derived
/// from the order and part, so phones doing it at once make one movement.
fn issue_missing_parts(
    id: Memo<Option<DocumentId>>,
    order: Memo<Option<Arc<WorkOrderView>>>,
    catalog: Memo<Option<Arc<CatalogView>>>,
    role: Memo<Option<Role>>,
) {
    let replica = use_replica();
    let current = use_session();
    Effect::new(move || {
        let (Some(id), Some(session)) = (id.get(), current.session.get()) else { return };
        let keeps_store = role.get().is_some_and(Role::keeps_store);
        let missing = order.with(|order| {
            let order = order.as_ref()?;
            let mine = order.parts.iter().any(|part| part.user.as_str() == session.user.username);
            let catalog = catalog.get()?;
            ((keeps_store || mine) && !shared::document::catalog::parts_to_issue(&id.url(), &order.parts, &catalog.ledger).is_empty())
                .then_some(())
        });
        if missing.is_some() && ISSUING.with_borrow_mut(|issuing| issuing.insert(id)) {
            spawn_local(async move {
                if let Err(message) = crate::pages::stock::issue_order_parts(replica, &session, id).await {
                    leptos::logging::warn!("cannot issue the parts of {id}: {message}");
                }
                ISSUING.with_borrow_mut(|issuing| issuing.remove(&id));
            });
        }
    });
}

#[component]
pub fn OrderPage() -> impl IntoView {
    let texts = use_texts();
    let replica = use_replica();
    let current = use_session();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|params| params.get("id").and_then(|id| DocumentId::parse(&id).ok())));
    let order = Memo::new(move |_| {
        let _ = replica.revision.get();
        read_order(replica, &id.get()?)
    });
    let here = Memo::new(move |_| order.with(Option::is_some));
    let state = Memo::new(move |_| order.with(|order| order.as_ref().map(|order| order.state())));
    let site = Memo::new(move |_| order.with(|order| order.as_ref().map(|order| order.header.site.to_string())));
    let catalog = Memo::new(move |_| {
        let _ = replica.revision.get();
        read_catalog(replica, &catalog_of(&current.session.get()?, &site.get()?)?)
    });
    let people = use_site_people(move || site.get());
    let role = Memo::new(move |_| {
        let site = site.get()?;
        current.session.with(|session| session.as_ref()?.sites.iter().find(|known| known.id == site).map(|known| known.role))
    });
    let actions = Memo::new(move |_| {
        let me = current.session.with(|session| session.as_ref().and_then(|session| Username::parse(&session.user.username).ok()));
        match (me, role.get()) {
            (Some(me), Some(role)) => order.with(|order| order.as_ref().map(|order| order.actions(&me, role))).unwrap_or_default(),
            _ => Vec::new(),
        }
    });
    issue_missing_parts(id, order, catalog, role);
    crate::inbox::see_while_open(move || id.get());
    let open_form = RwSignal::new(None::<Action>);
    // The form open, while its step may still be taken: it is made once, so what is being
    // typed in it stays while changes arrive.
    let form = Memo::new(move |_| open_form.get().filter(|action| actions.with(|actions| actions.contains(action))));
    let error = RwSignal::new(None::<String>);
    // Only which order, and whether it is here, redraw the page; its parts follow the rest.
    move || {
        let texts = texts.get();
        let (Some(id), true) = (id.get(), here.get()) else {
            return view! { <p class="muted" data-order="missing">{texts.order_not_here}</p> }.into_any();
        };
        let status = move || state.with(|state| state.as_ref().map(|state| state.status.as_str()));
        let badges = move || {
            let order = order.get()?;
            let state = state.get()?;
            let overdue = order.is_overdue(now());
            Some(view! {
                <span class=format!("badge badge-status-{}", state.status.as_str()) data-order-status=state.status.as_str()>{texts.status(state.status)}</span>
                <span class=format!("badge badge-priority-{}", order.priority.as_str()) data-priority=order.priority.as_str()>{texts.priority(order.priority)}</span>
                {overdue.then(|| view! { <span class="badge badge-overdue" data-overdue="yes">{texts.overdue}</span> })}
            })
        };
        let description = move || {
            order
                .get()
                .filter(|order| !order.description.is_empty())
                .map(|order| view! { <p class="description">{order.description.clone()}</p> })
        };
        let action_form = move || {
            form.get().map(|action| view! { <ActionForm order=id view=order action=action people=people catalog=catalog on_done=Callback::new(move |()| open_form.set(None)) /> })
        };
        view! {
            <article class="order-page" data-order=id.to_string() data-status=status>
                <crate::nav::BackLink lists=&[shared::routes::Tab::Orders, shared::routes::Tab::Report] />
                <h1>{move || order.with(|order| order.as_ref().map(|order| order.title.clone()))}</h1>
                <p class="order-badges">
                    {badges}
                    {sync_badge(id)}
                </p>
                {hidden_entries(move || order.with(|order| order.as_ref().map_or(0, |order| order.unreadable.len())))}
                <crate::pages::notice_settings::MuteButton document=id />
                <SpamButton id=id order=order role=role error=error />
                <dl class="report-facts"><OrderFacts order=order state=state catalog=catalog people=people /></dl>
                {description}
                <StepButtons id=id state=state actions=actions open_form=open_form error=error />
                {action_form}
                {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
                <Flags id=id order=order state=state people=people catalog=catalog role=role error=error />
                <ContractorLink id=id state=state catalog=catalog role=role />
                <section class="card" aria-labelledby="timeline">
                    <h2 id="timeline">{texts.timeline}</h2>
                    <Timeline order=order catalog=catalog people=people />
                    <super::CommentForm id=id />
                    <super::History id=id />
                </section>
                <PartsUsed id=id order=order catalog=catalog role=role />
                <crate::pages::costs::OrderCosts id=id order=order catalog=catalog role=role people=people />
            </article>
        }
        .into_any()
    }
}

/// What and where: the place, asset, trade, who reported it and when, who has it, when it
/// is due, and the original of a duplicate.
#[component]
fn OrderFacts(
    order: Memo<Option<Arc<WorkOrderView>>>,
    state: Memo<Option<State>>,
    catalog: Memo<Option<Arc<CatalogView>>>,
    people: Memo<Vec<Person>>,
) -> impl IntoView {
    let texts = use_texts();
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    let name = move |user: &str| people.with(|people| display_name(people, user));
    move || {
        let texts = texts.get();
        let language = language.get();
        let order = order.get()?;
        let assignee = state.with(|state| state.as_ref().and_then(|state| state.assignee.clone()));
        // Given to a contractor: who, and how to reach them.
        let vendor = state.with(|state| state.as_ref().and_then(|state| state.vendor.clone())).map(|vendor| {
            let shown = catalog.with(|catalog| {
                catalog.as_deref().and_then(|catalog| catalog.vendors.iter().find(|known| known.id == vendor)).map(|known| {
                    [known.name.clone(), known.contact.clone(), known.phone.clone()]
                        .into_iter()
                        .filter(|part| !part.is_empty())
                        .collect::<Vec<_>>()
                        .join(" · ")
                })
            });
            (vendor.to_string(), shown.unwrap_or_else(|| vendor.to_string()))
        });
        let (place, asset) = catalog.with(|catalog| {
            let catalog = catalog.as_deref();
            let place = catalog
                .and_then(|catalog| catalog.place(&order.location))
                .map(|place| place.name.clone())
                .unwrap_or_else(|| if order.location.is_empty() { "—".to_owned() } else { order.location.clone() });
            let asset = order.asset.as_ref().map(|asset| {
                catalog
                    .and_then(|catalog| catalog.assets.iter().find(|known| known.id.as_str() == asset))
                    .map(|known| format!("{} ({})", known.name, known.tag))
                    .unwrap_or_else(|| asset.clone())
            });
            (place, asset)
        });
        // A meter's alarm is reported by the meter, which the line opens.
        let reported = when(order.header.created_at, language);
        let reporter = match &order.alarm {
            Some(alarm) => {
                let meter_name = catalog.with(|catalog| {
                    catalog
                        .as_deref()
                        .and_then(|catalog| catalog.meters.iter().find(|meter| meter.id == alarm.meter).map(|meter| meter.name.clone()))
                });
                let said = crate::pages::meters::use_meter_texts().get().raised_by_meter;
                let href = format!("/meters/{}/{}", order.header.site, alarm.meter);
                let line = format!("{said} · {} · {reported}", meter_name.unwrap_or_else(|| alarm.meter.to_string()));
                view! { <a href=href data-action="alarm-meter">{line}</a> }.into_any()
            }
            None => format!("{} · {reported}", name(order.header.created_by.as_str())).into_any(),
        };
        Some(view! {
            <dt>{texts.place}</dt><dd>{place}</dd>
            {asset.map(|asset| view! { <dt>{texts.asset}</dt><dd>{asset}</dd> })}
            <dt>{texts.category_label}</dt><dd>{texts.category(order.category)}</dd>
            <dt>{texts.reported_by}</dt><dd>{reporter}</dd>
            {match vendor {
                Some(vendor) => view! { <dt>{texts.contractor}</dt><dd data-vendor=vendor.0>{vendor.1}</dd> }.into_any(),
                None => view! { <dt>{texts.assignee}</dt><dd data-assignee=assignee.as_ref().map(ToString::to_string).unwrap_or_default()>{assignee.as_ref().map(|user| name(user.as_str())).unwrap_or_else(|| "—".to_owned())}</dd> }.into_any(),
            }}
            <dt>{texts.due}</dt><dd>{order.due_at.map(|due| crate::i18n::due_words(due, language)).unwrap_or_else(|| "—".to_owned())}</dd>
            {order.duplicate_of.clone().map(|original| {
                let link = DocumentId::parse(&original).map(|original| format!("/orders/{original}")).unwrap_or_default();
                view! { <dt>{texts.duplicate_of}</dt><dd><a href=link>{texts.the_original}</a></dd> }
            })}
        })
    }
}

/// The steps the reader may take now, and only those: one tap for those with nothing to
/// add, a form for the others.
#[component]
fn StepButtons(
    id: DocumentId,
    state: Memo<Option<State>>,
    actions: Memo<Vec<Action>>,
    open_form: RwSignal<Option<Action>>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let texts = use_texts();
    let replica = use_replica();
    let current = use_session();
    move || {
        let texts = texts.get();
        let actions = actions.get();
        // A manager's first step on an order nobody has is to dispatch it, not to start
        // the repair themselves.
        let dispatch_first =
            actions.contains(&Action::Assign) && state.with(|state| state.as_ref().is_some_and(|state| state.assignee.is_none()));
        let buttons = actions
            .iter()
            .map(|action| {
                let action = *action;
                // Steps with nothing to add are taken with one tap; the others open a form.
                let immediate = matches!(action, Action::Acknowledge | Action::Start);
                let take = move |_| {
                    if immediate {
                        let kind = if action == Action::Start { EventKind::Started } else { EventKind::Acknowledged };
                        let Some(username) = current.session.with_untracked(|session| session.as_ref().map(|session| session.user.username.clone())) else { return };
                        spawn_local(async move { error.set(record(replica, id, &username, kind, |_, _| Ok(())).await.err().map(|error| error.to_string())) });
                    } else {
                        open_form.update(|open| *open = if *open == Some(action) { None } else { Some(action) });
                    }
                };
                let primary = if dispatch_first { action == Action::Assign } else { immediate };
                view! {
                    <button type="button" class=if primary { "primary" } else { "" } data-action=format!("order-{}", action_name(action)) on:click=take>
                        {action_label(texts, action)}
                    </button>
                }
            })
            .collect_view();
        (!actions.is_empty()).then(|| view! { <div class="order-actions">{buttons}</div> })
    }
}

/// A flag as listed: kept by the list while it reads the same, so a decision being typed
/// stays while changes arrive.
#[derive(Clone, PartialEq, Eq, Hash)]
struct FlagLine {
    event: EntryId,
    what: String,
    manager: bool,
}

/// Flags left by merged logs; a manager resolves each with a decision.
#[component]
fn Flags(
    id: DocumentId,
    order: Memo<Option<Arc<WorkOrderView>>>,
    state: Memo<Option<State>>,
    people: Memo<Vec<Person>>,
    catalog: Memo<Option<Arc<CatalogView>>>,
    role: Memo<Option<Role>>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let texts = use_texts();
    let current = use_session();
    let replica = use_replica();
    let lines = Memo::new(move |_| {
        let texts = texts.get();
        let manager = role.get().is_some_and(Role::manages);
        let (Some(order), Some(state)) = (order.get(), state.get()) else { return Vec::new() };
        people.with(|people| {
            let name = |user: &str| display_name(people, user);
            state
                .open_flags()
                .map(|flag| {
                    let event = order.events.iter().find(|event| event.id == flag.event);
                    let what = match (&flag.problem, event) {
                        (FlagProblem::IllegalTransition { .. }, Some(event)) => texts
                            .flag_illegal
                            .replace("{event}", &event_words(texts, &event.kind, people, catalog.get().as_deref()))
                            .replace("{user}", &name(event.user.as_str()))
                            .replace("{status}", texts.status(flag.status)),
                        (FlagProblem::DuplicateReport, _) => texts.flag_duplicate_report.to_owned(),
                        _ => texts.flag_other.to_owned(),
                    };
                    FlagLine { event: flag.event.clone(), what, manager }
                })
                .collect()
        })
    });
    let line = move |line: FlagLine| {
        let texts = texts.get_untracked();
        let decision = RwSignal::new(String::new());
        let flagged = line.event.clone();
        let resolve = move |event: leptos::ev::SubmitEvent| {
            event.prevent_default();
            let Some(username) = current.session.with_untracked(|session| session.as_ref().map(|session| session.user.username.clone()))
            else {
                return;
            };
            let (flagged, text) = (flagged.clone(), decision.get_untracked());
            spawn_local(async move {
                let outcome = record(replica, id, &username, EventKind::Resolved { flagged, decision: text }, |_, _| Ok(())).await;
                error.set(outcome.err().map(|error| error.to_string()));
            });
        };
        view! {
            <li class="flag" data-flag=line.event.to_string()>
                <p class="warning">{line.what}</p>
                {line.manager.then(|| view! {
                    <form class="inline-form" data-form="resolve" on:submit=resolve>
                        <input name="decision" required prop:placeholder=texts.decision on:input=move |event| decision.set(event_target_value(&event)) />
                        <button type="submit">{texts.resolve}</button>
                    </form>
                })}
            </li>
        }
    };
    move || {
        let texts = texts.get();
        lines.with(|lines| !lines.is_empty()).then(|| {
            view! {
                <section class="card" aria-labelledby="flags">
                    <h2 id="flags">{texts.flags}</h2>
                    <ul class="flags">
                        <For each=move || lines.get() key=|line| line.clone() children=line />
                    </ul>
                </section>
            }
        })
    }
}

/// Every event, comment and part used, oldest first, with who and when.
#[component]
fn Timeline(order: Memo<Option<Arc<WorkOrderView>>>, catalog: Memo<Option<Arc<CatalogView>>>, people: Memo<Vec<Person>>) -> impl IntoView {
    let texts = use_texts();
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    move || {
        let (texts, language) = (texts.get(), language.get());
        let order = order.get()?;
        let people = people.get();
        // A contractor's steps under the name of the contractor the order was last given to.
        let contractor = order
            .events
            .iter()
            .filter_map(|event| match &event.kind {
                EventKind::Contracted { vendor } => Some((event.at, vendor)),
                _ => None,
            })
            .max_by_key(|(at, _)| *at)
            .map(|(_, vendor)| vendor_name(catalog.get().as_deref(), vendor));
        let name = |user: &str| match (&contractor, user == shared::document::work_order::CONTRACTOR) {
            (Some(contractor), true) => contractor.clone(),
            _ => display_name(&people, user),
        };
        let mut lines: Vec<Line> = order
            .events
            .iter()
            .map(|event| Line {
                at: event.at,
                user: event.user.to_string(),
                what: event_words(texts, &event.kind, &people, catalog.get().as_deref()),
                photo: None,
                kind: event.kind.name(),
            })
            .collect();
        lines.extend(order.comments.iter().map(|comment| Line {
            at: comment.at,
            user: comment.user.to_string(),
            what: comment.text.clone(),
            photo: comment.photo.as_ref().map(|photo| photo.sha256.clone()),
            kind: "comment",
        }));
        catalog.with(|catalog| {
            let item_name = |item: &str| {
                catalog
                    .as_ref()
                    .and_then(|catalog| catalog.stock_items.iter().find(|known| known.id.as_str() == item))
                    .map(|known| format!("{} ({})", known.name, known.unit))
                    .unwrap_or_else(|| item.to_owned())
            };
            lines.extend(order.parts.iter().map(|part| Line {
                at: part.at,
                user: part.user.to_string(),
                what: format!("{} {} × {}", texts.part_used, item_name(&part.item), part.quantity),
                photo: None,
                kind: "part",
            }));
        });
        lines.sort_by_key(|line| line.at);
        let timeline = lines
            .into_iter()
            .map(|line| {
                view! {
                    <li class="timeline-entry" data-kind=line.kind>
                        <p><strong>{name(&line.user)}</strong> <span class="muted">" · " {when(line.at, language)}</span></p>
                        {(!line.what.is_empty()).then(|| view! { <p class="timeline-what">{line.what.clone()}</p> })}
                        {line.photo.map(|sha256| view! { <Photo sha256=sha256 /> })}
                    </li>
                }
            })
            .collect_view();
        Some(view! { <ol class="timeline">{timeline}</ol> })
    }
}

/// The form a step needs: a technician to assign, a reason, completion notes with parts
/// and photos, a rating, the original of a duplicate. It starts from the order as it is
/// when the form opens.
#[component]
fn ActionForm(
    order: DocumentId,
    view: Memo<Option<Arc<WorkOrderView>>>,
    action: Action,
    people: Memo<Vec<Person>>,
    catalog: Memo<Option<Arc<CatalogView>>>,
    on_done: Callback<()>,
) -> impl IntoView {
    let Some(view) = view.get_untracked() else { return ().into_any() };
    let step = Step { replica: use_replica(), current: use_session(), order, action, error: RwSignal::new(None), on_done };
    match action {
        Action::Assign => view! { <AssignForm step=step priority=view.priority people=people /> }.into_any(),
        Action::Contract => view! { <ContractForm step=step view=view catalog=catalog /> }.into_any(),
        Action::Pause | Action::Reopen | Action::Cancel => view! { <ReasonForm step=step /> }.into_any(),
        Action::Complete => view! { <CompleteForm step=step catalog=catalog /> }.into_any(),
        Action::Verify => view! { <VerifyForm step=step /> }.into_any(),
        Action::MergeInto => view! { <MergeForm step=step view=view /> }.into_any(),
        Action::Acknowledge | Action::Start => ().into_any(),
    }
}

/// What every step's form shares: the order and step, where a failure is said, and what
/// follows success (the form closes).
#[derive(Clone, Copy)]
struct Step {
    replica: Replica,
    current: CurrentSession,
    order: DocumentId,
    action: Action,
    error: RwSignal<Option<String>>,
    on_done: Callback<()>,
}

impl Step {
    /// Takes the step as the signed-in user: closes the form when `take` succeeds, says
    /// why under the fields when it does not.
    fn take<F>(self, take: impl FnOnce(Session) -> F)
    where
        F: Future<Output = Result<(), AppError>> + 'static,
    {
        let Some(session) = self.current.session.get_untracked() else { return };
        let taking = take(session);
        spawn_local(async move {
            match taking.await {
                Ok(()) => self.on_done.run(()),
                Err(error) => self.error.set(Some(error.to_string())),
            }
        });
    }

    /// Records `kind` (and whatever `also` adds) on the order.
    async fn record(
        self,
        session: &Session,
        kind: EventKind,
        also: impl FnOnce(&mut WorkOrder, &shared::document::Edit) -> Result<(), AppError>,
    ) -> Result<(), AppError> {
        record(self.replica, self.order, &session.user.username, kind, also).await
    }

    /// The form around a step's fields, with its failure and its button.
    fn form(self, fields: impl IntoView, submit: impl Fn() + 'static) -> impl IntoView {
        let texts = use_texts().get_untracked();
        let error = self.error;
        view! {
            <form
                class="form action-form"
                data-form=format!("order-{}", action_name(self.action))
                on:submit=move |event: leptos::ev::SubmitEvent| {
                    event.prevent_default();
                    submit();
                }
            >
                {fields}
                {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
                <button type="submit" class="primary">{action_label(texts, self.action)}</button>
            </form>
        }
    }
}

/// Assigning: a technician, the priority, and the due time, which follows the priority's
/// time to fix until the manager sets it by hand.
#[component]
fn AssignForm(step: Step, priority: Priority, people: Memo<Vec<Person>>) -> impl IntoView {
    let texts = use_texts().get_untracked();
    let choice = RwSignal::new(String::new());
    let priority = RwSignal::new(priority);
    // The due time as the field shows it, in the phone's time zone.
    let sla_due = |priority: Priority| local_input_value(now().plus_millis(priority.default_due_millis()));
    let due = RwSignal::new(sla_due(priority.get_untracked()));
    let due_touched = RwSignal::new(false);
    // Technicians as the list of people arrives (it loads after the page), the one
    // chosen as the form holds it.
    let technicians = move || {
        people.with(|people| {
            people
                .iter()
                .filter(|person| person.role == Role::Technician)
                .map(|person| {
                    let username = person.username.to_string();
                    view! { <option value=person.username.to_string() selected=move || choice.with(|chosen| *chosen == username)>{person.display_name.clone()}</option> }
                })
                .collect_view()
        })
    };
    let submit = move || {
        let (chosen, priority, due_at) = (choice.get_untracked(), priority.get_untracked(), parse_local_input(&due.get_untracked()));
        step.take(move |session| async move {
            let assignee = Username::parse(&chosen).map_err(|_| AppError::Invalid(texts.choose_technician.to_owned()))?;
            step.record(&session, EventKind::Assigned { assignee }, move |order, edit| {
                order.set_priority(priority, edit);
                order.set_due(due_at.unwrap_or_else(|| edit.at.plus_millis(priority.default_due_millis())), edit);
                Ok(())
            })
            .await
        });
    };
    let fields = view! {
        <label>
            <span>{texts.role(Role::Technician)}</span>
            <select name="assignee" on:change=move |event| choice.set(event_target_value(&event))>
                <option value="">"—"</option>
                {technicians}
            </select>
        </label>
        <label>
            <span>{texts.priority_label}</span>
            <select
                name="priority"
                on:change=move |event| {
                    let Ok(chosen) = Priority::parse(&event_target_value(&event)) else { return };
                    if !due_touched.get_untracked() {
                        due.set(sla_due(chosen));
                    }
                    priority.set(chosen);
                }
            >
                {Priority::ALL.iter().rev().map(|known| view! { <option value=known.as_str() selected=*known == priority.get_untracked()>{texts.priority(*known)}</option> }).collect_view()}
            </select>
        </label>
        <label>
            <span>{texts.due}</span>
            <input
                type="datetime-local"
                name="due"
                prop:value=due
                on:change=move |event| {
                    due_touched.set(true);
                    due.set(event_target_value(&event));
                }
            />
        </label>
    };
    step.form(fields, submit)
}

/// Giving the order to a contractor: one of the site's vendors, those of its trade first.
#[component]
fn ContractForm(step: Step, view: Arc<WorkOrderView>, catalog: Memo<Option<Arc<CatalogView>>>) -> impl IntoView {
    let texts = use_texts().get_untracked();
    let choice = RwSignal::new(String::new());
    let trade = view.category.as_str();
    let vendors = move || {
        let mut vendors = catalog.with(|catalog| catalog.as_ref().map(|catalog| catalog.vendors.clone()).unwrap_or_default());
        vendors.sort_by(|a, b| (a.trade != trade, &a.name).cmp(&(b.trade != trade, &b.name)));
        vendors
            .into_iter()
            .map(|vendor| {
                let id = vendor.id.to_string();
                let label = if vendor.phone.is_empty() { vendor.name.clone() } else { format!("{} · {}", vendor.name, vendor.phone) };
                view! { <option value=vendor.id.to_string() selected=move || choice.with(|chosen| *chosen == id)>{label}</option> }
            })
            .collect_view()
    };
    let submit = move || {
        let chosen = choice.get_untracked();
        step.take(move |session| async move {
            let vendor = EntryId::parse(&chosen).map_err(|_| AppError::Invalid(texts.choose_contractor.to_owned()))?;
            step.record(&session, EventKind::Contracted { vendor }, |_, _| Ok(())).await
        });
    };
    let fields = view! {
        <label>
            <span>{texts.contractor}</span>
            <select name="vendor" on:change=move |event| choice.set(event_target_value(&event))>
                <option value="">"—"</option>
                {vendors}
            </select>
        </label>
    };
    step.form(fields, submit)
}

/// The link a contractor works the order by, without an account: for managers, once the
/// order is given to a contractor. The server makes it (online only), the same each time.
#[component]
fn ContractorLink(
    id: DocumentId,
    state: Memo<Option<State>>,
    catalog: Memo<Option<Arc<CatalogView>>>,
    role: Memo<Option<Role>>,
) -> impl IntoView {
    let texts = use_texts();
    let current = use_session();
    let link = RwSignal::new(None::<String>);
    let failure = RwSignal::new(None::<String>);
    let copied = RwSignal::new(false);
    let vendor = Memo::new(move |_| {
        state.with(|state| state.as_ref().filter(|state| state.status.is_open()).and_then(|state| state.vendor.clone()))
    });
    let fetch = move |_| {
        let Some(session) = current.session.get_untracked() else { return };
        spawn_local(async move {
            // Refused while the order's change is still on its way to the server: said, and
            // the button stays for another try.
            match crate::server::contractor_link(&session.token, id).await {
                Ok(path) => {
                    let origin = web_sys::window().and_then(|window| window.location().origin().ok()).unwrap_or_default();
                    failure.set(None);
                    link.set(Some(format!("{origin}{path}")));
                }
                // 409: the server does not see the order given to a contractor yet.
                Err(AppError::Refused(refused)) if refused.code == "exists" => {
                    failure.set(Some(use_texts().get_untracked().contractor_link_not_yet.to_owned()));
                }
                Err(error) => failure.set(Some(error.to_string())),
            }
        });
    };
    // The clipboard answers only on HTTPS or this machine; elsewhere the link is selected
    // for the person to copy.
    let field = NodeRef::<leptos::html::Input>::new();
    let copy = move |_| {
        let Some(url) = link.get_untracked() else { return };
        let Some(window) = web_sys::window() else { return };
        let writing = window.navigator().clipboard().write_text(&url);
        spawn_local(async move {
            match wasm_bindgen_futures::JsFuture::from(writing).await {
                Ok(_) => copied.set(true),
                Err(_) => {
                    if let Some(input) = field.get_untracked() {
                        input.select();
                    }
                }
            }
        });
    };
    move || {
        let texts = texts.get();
        let vendor = vendor.get().filter(|_| role.get().is_some_and(Role::manages))?;
        let name = vendor_name(catalog.get().as_deref(), &vendor);
        Some(view! {
            <section class="card" aria-labelledby="contractor-link" data-card="contractor-link">
                <h2 id="contractor-link">{texts.contractor_link}</h2>
                <p>{name}</p>
                <p class="muted">{texts.contractor_link_hint}</p>
                {move || failure.get().map(|error| view! { <p class="error" role="alert">{error}</p> })}
                {move || match link.get() {
                    None => view! { <button type="button" data-action="contractor-link" on:click=fetch>{texts.get_link}</button> }.into_any(),
                    Some(url) => view! {
                        <div class="form">
                            <input readonly name="contractor-link" node_ref=field prop:value=url.clone() on:focus=move |_| { if let Some(input) = field.get_untracked() { input.select(); } } />
                            <button type="button" class="primary" data-action="copy-link" on:click=copy>{move || if copied.get() { texts.link_copied } else { texts.copy_link }}</button>
                        </div>
                    }
                    .into_any(),
                }}
            </section>
        })
    }
}

/// Pausing, reopening or cancelling: the reason, which each needs.
#[component]
fn ReasonForm(step: Step) -> impl IntoView {
    let texts = use_texts().get_untracked();
    let reason = RwSignal::new(String::new());
    let submit = move || {
        let reason = reason.get_untracked().trim().to_owned();
        step.take(move |session| async move {
            if reason.is_empty() {
                return Err(AppError::Invalid(texts.reason_needed.to_owned()));
            }
            let kind = match step.action {
                Action::Pause => EventKind::Paused { reason },
                Action::Reopen => EventKind::Reopened { reason },
                _ => EventKind::Cancelled { reason },
            };
            step.record(&session, kind, |_, _| Ok(())).await
        });
    };
    let fields = view! {
        <label>
            <span>{texts.reason}</span>
            <input name="reason" required on:input=move |event| reason.set(event_target_value(&event)) />
        </label>
    };
    step.form(fields, submit)
}

/// Completing: notes, the parts used and a photo of the work. The parts leave the store
/// with the step.
#[component]
fn CompleteForm(step: Step, catalog: Memo<Option<Arc<CatalogView>>>) -> impl IntoView {
    let texts = use_texts().get_untracked();
    let notes = RwSignal::new(String::new());
    // Parts used: (stock item, quantity) rows; one to start with, more on request.
    let parts = RwSignal::new(vec![(String::new(), String::new())]);
    let picker = NodeRef::<leptos::html::Input>::new();
    let submit = move || {
        let notes = notes.get_untracked().trim().to_owned();
        let picture = picker.get_untracked().and_then(|input| input.files()).and_then(|files| files.get(0));
        let used = parts.get_untracked();
        step.take(move |session| async move {
            let mut counted = Vec::new();
            for (item, quantity) in used.into_iter().filter(|(item, _)| !item.is_empty()) {
                let quantity = quantity
                    .trim()
                    .parse::<Quantity>()
                    .ok()
                    .filter(|quantity| *quantity > Quantity::ZERO)
                    .ok_or_else(|| AppError::Invalid(texts.quantity_needed.to_owned()))?;
                counted.push((item, quantity));
            }
            let photo = match &picture {
                Some(picture) => Some(photos::keep(picture).await?),
                None => None,
            };
            step.record(&session, EventKind::Completed { notes }, move |order, edit| {
                for (item, quantity) in &counted {
                    order.add_part(&entry_id("part"), item, *quantity, edit)?;
                }
                if let Some(photo) = &photo {
                    order.add_comment(&entry_id("comment"), "", Some(photo), edit)?;
                }
                Ok(())
            })
            .await?;
            // The parts leave the store: one ledger movement per part, with ids derived
            // from the order and part, so another phone doing it too makes the same
            // movements.
            crate::pages::stock::issue_order_parts(step.replica, &session, step.order).await?;
            step.replica.upload_files();
            Ok(())
        });
    };
    let fields = view! {
        <label>
            <span>{texts.completion_notes}</span>
            <textarea name="notes" rows="2" on:input=move |event| notes.set(event_target_value(&event))></textarea>
        </label>
        <PartRows parts=parts catalog=catalog />
        <button type="button" class="link-button" data-action="add-part" on:click=move |_| parts.update(|parts| parts.push((String::new(), String::new())))>{texts.add_part}</button>
        <label class="photo-button wide">
            <span aria-hidden="true">"📷 "</span>
            {texts.take_photo}
            <input type="file" name="photo" accept="image/*" capture="environment" node_ref=picker />
        </label>
    };
    step.form(fields, submit)
}

/// The rows of parts used as typed: a stock item of the site's and a quantity each.
#[component]
fn PartRows(parts: RwSignal<Vec<(String, String)>>, catalog: Memo<Option<Arc<CatalogView>>>) -> impl IntoView {
    let texts = use_texts().get_untracked();
    let stock = Memo::new(move |_| catalog.with(|catalog| catalog.as_ref().map(|catalog| catalog.stock_items.clone()).unwrap_or_default()));
    move || {
        let stock = stock.get();
        parts
            .get()
            .into_iter()
            .enumerate()
            .map(|(row, (item, quantity))| {
                let options = stock
                    .iter()
                    .map(|known| {
                        let selected = known.id.as_str() == item;
                        view! { <option value=known.id.to_string() selected=selected>{format!("{} {} ({})", known.code, known.name, known.unit)}</option> }
                    })
                    .collect_view();
                view! {
                    <div class="part-row">
                        <label>
                            <span>{texts.part_used}</span>
                            <select name="part" on:change=move |event| parts.update(|parts| parts[row].0 = event_target_value(&event))>
                                <option value="">"—"</option>
                                {options}
                            </select>
                        </label>
                        <label class="quantity">
                            <span>{texts.quantity}</span>
                            <input name="quantity" inputmode="decimal" prop:value=quantity on:input=move |event| parts.update_untracked(|parts| parts[row].1 = event_target_value(&event)) />
                        </label>
                    </div>
                }
            })
            .collect_view()
    }
}

/// Verifying: a rating of the repair and a comment.
#[component]
fn VerifyForm(step: Step) -> impl IntoView {
    let texts = use_texts().get_untracked();
    let stars = RwSignal::new(5i64);
    let comment = RwSignal::new(String::new());
    let submit = move || {
        let (stars, comment) = (stars.get_untracked(), comment.get_untracked().trim().to_owned());
        step.take(move |session| async move {
            let rating = Rating::new(stars)?;
            step.record(&session, EventKind::Verified { rating, comment }, |_, _| Ok(())).await
        });
    };
    let fields = view! {
        <fieldset class="rating">
            <legend>{texts.satisfaction}</legend>
            {(1..=5i64).map(|count| view! {
                <label class="star">
                    <input type="radio" name="rating" value=count.to_string() checked=count == 5 on:change=move |_| stars.set(count) />
                    <span>{"★".repeat(count as usize)}</span>
                </label>
            }).collect_view()}
        </fieldset>
        <label>
            <span>{texts.comment}</span>
            <input name="comment" on:input=move |event| comment.set(event_target_value(&event)) />
        </label>
    };
    step.form(fields, submit)
}

/// Marking a duplicate: the original, among the site's other open orders (those at the
/// same asset or place first).
#[component]
fn MergeForm(step: Step, view: Arc<WorkOrderView>) -> impl IntoView {
    let texts = use_texts().get_untracked();
    let replica = step.replica;
    let original = RwSignal::new(String::new());
    let originals: Vec<(String, String)> = {
        let mut found: Vec<(bool, String, String)> = replica
            .document_ids()
            .into_iter()
            .filter(|other| *other != step.order)
            .filter_map(|other| Some((other, read_order(replica, &other)?)))
            .filter(|(_, other)| other.header.site == view.header.site && other.state().status.is_open())
            .map(|(other, found)| {
                let near = (view.asset.is_some() && found.asset == view.asset) || found.location == view.location;
                (!near, other.url(), found.title.clone())
            })
            .collect();
        found.sort();
        found.into_iter().map(|(_, url, title)| (url, title)).collect()
    };
    let submit = move || {
        let chosen = original.get_untracked();
        step.take(move |session| async move {
            if chosen.is_empty() {
                return Err(AppError::Invalid(texts.choose_original.to_owned()));
            }
            replica
                .edit(&step.order, |doc| {
                    let edit = edit_now(&session.user.username)?;
                    Ok(WorkOrder::edit_in(doc, |order| order.merge_into(&chosen, &entry_id("event"), &edit))?)
                })
                .await
        });
    };
    let fields = view! {
        <label>
            <span>{texts.original_order}</span>
            <select name="original" on:change=move |event| original.set(event_target_value(&event))>
                <option value="">"—"</option>
                {originals.into_iter().map(|(url, title)| view! { <option value=url>{title}</option> }).collect_view()}
            </select>
        </label>
    };
    step.form(fields, submit)
}

/// One part used, as its correction form lists it: kept while it reads the same.
#[derive(Clone, PartialEq, Eq, Hash)]
struct PartLine {
    id: EntryId,
    text: String,
    quantity: Quantity,
    /// Whether this reader may change it: whoever recorded it, or someone who keeps the store.
    may_correct: bool,
}

/// The parts used on the order, each correctable (0: not used after all) by whoever
/// recorded it or keeps the store; the site's ledger follows at once (issue or return).
#[component]
fn PartsUsed(
    id: DocumentId,
    order: Memo<Option<Arc<WorkOrderView>>>,
    catalog: Memo<Option<Arc<CatalogView>>>,
    role: Memo<Option<Role>>,
) -> impl IntoView {
    let texts = use_texts();
    let current = use_session();
    let replica = use_replica();
    let error = RwSignal::new(None::<String>);
    let lines = Memo::new(move |_| {
        let me = current.session.with(|session| session.as_ref().map(|session| session.user.username.clone())).unwrap_or_default();
        let keeps_store = role.get().is_some_and(Role::keeps_store);
        let order = order.get()?;
        let lines = catalog.with(|catalog| {
            order
                .parts
                .iter()
                .map(|part| {
                    let name = catalog
                        .as_ref()
                        .and_then(|catalog| catalog.stock_items.iter().find(|known| known.id.as_str() == part.item))
                        .map(|known| format!("{} ({})", known.name, known.unit))
                        .unwrap_or_else(|| part.item.clone());
                    PartLine {
                        id: part.id.clone(),
                        text: name,
                        quantity: part.quantity,
                        may_correct: keeps_store || part.user.as_str() == me,
                    }
                })
                .collect::<Vec<_>>()
        });
        (!lines.is_empty()).then_some(lines)
    });
    // Drawn once there are parts; the rows follow the parts, the forms stay as typed.
    let any = Memo::new(move |_| lines.with(Option::is_some));
    move || {
        let texts = texts.get();
        any.get().then(|| {
            view! {
                <section class="card" aria-labelledby="parts-used">
                    <h2 id="parts-used">{texts.parts_used}</h2>
                    <ul class="parts-used">
                        <For each=move || lines.get().unwrap_or_default() key=|line| line.clone() let:line>
                            {
                                let part = line.id.clone();
                                let save = Callback::new(move |typed: Option<Quantity>| {
                                    let Some(session) = current.session.get_untracked() else { return };
                                    let Some(quantity) = typed.filter(|quantity| !quantity.is_negative()) else {
                                        error.set(Some(texts.quantity_needed.to_owned()));
                                        return;
                                    };
                                    let part = part.clone();
                                    spawn_local(async move {
                                        let outcome = async {
                                            replica.edit(&id, |doc| {
                                                let edit = edit_now(&session.user.username)?;
                                                Ok(WorkOrder::edit_in(doc, |order| order.correct_part(&part, quantity, &edit))??)
                                            })
                                            .await?;
                                            crate::pages::stock::issue_order_parts(replica, &session, id).await
                                        }
                                        .await;
                                        error.set(outcome.err().map(|error| error.to_string()));
                                    });
                                });
                                view! {
                                    <li data-part=line.id.to_string() data-quantity=line.quantity.to_string()>
                                        <span>{format!("{} × {}", line.text, line.quantity)}</span>
                                        {line.may_correct.then(|| view! { <QuantityCorrection form="correct-part" field="quantity" on_correct=save /> })}
                                    </li>
                                }
                            }
                        </For>
                    </ul>
                    {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
                </section>
            }
        })
    }
}

/// A manager's "mark as spam" on an open public report (from a label, without an
/// account): the server cancels it under the manager's name (the cancellation arrives by
/// sync) and counts it against the address it came from. Needs the network.
#[component]
fn SpamButton(
    id: DocumentId,
    order: Memo<Option<Arc<WorkOrderView>>>,
    role: Memo<Option<Role>>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let texts = use_texts();
    let current = use_session();
    let busy = RwSignal::new(false);
    let shown = move || {
        matches!(role.get(), Some(Role::Manager | Role::Admin))
            && order.with(|order| {
                order.as_ref().is_some_and(|order| {
                    order.header.created_by.as_str() == shared::public::PUBLIC_REPORTER && order.state().status.is_open()
                })
            })
    };
    let mark = move |_| {
        let texts = texts.get_untracked();
        let sure = web_sys::window().and_then(|window| window.confirm_with_message(texts.mark_spam_confirm).ok()).unwrap_or(false);
        let Some(token) = current.session.with_untracked(|session| session.as_ref().map(|session| session.token.clone())) else { return };
        if !sure || busy.get_untracked() {
            return;
        }
        busy.set(true);
        spawn_local(async move {
            if let Err(failure) = crate::server::mark_spam(&token, &id).await {
                error.set(Some(failure.to_string()));
            }
            busy.set(false);
        });
    };
    move || {
        shown().then(|| {
            view! {
                <p class="muted">
                    <button type="button" class="link-button danger" data-action="spam" prop:disabled=busy on:click=mark>
                        {move || texts.get().mark_spam}
                    </button>
                </p>
            }
        })
    }
}
