//! Work orders: reporting a fault (what, where, asset, urgency, photo), the lists each
//! role works from — the dispatch queue, a technician's own orders by urgency and due time,
//! everyone's reports with their status — and one order's page (`page`) with its steps and
//! timeline. `maintenance` generates preventive orders from the sites' plans.

mod maintenance;
pub mod page;

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::directory::{Role, SiteId};
use shared::document::DocumentType;
use shared::document::catalog::{Asset, CatalogView, IndexEntry};
use shared::document::work_order::{Category, NewWorkOrder, Priority, Status, WorkOrder, WorkOrderView};
use shared::protocol::DocumentId;
use shared::routes::AppRoute;

pub use maintenance::PreventiveMaintenance;

use crate::edits::{catalog_of, edit_now, entry_id, index_in_catalog, now, read_catalog};
use crate::error::AppError;
use crate::fields::{CodeField, LISTED_PLACES, PlacePicker, SiteChoice};
use crate::i18n::{CurrentLanguage, Texts, use_texts};
use crate::pages::COMPACT_ROWS;
use crate::photos;
use crate::replica::{DocumentState, Replica, use_replica};
use crate::session::{Session, use_session};

/// "Report a fault": what, where (a place, or the code on its label), which asset, how
/// urgent, a photo; for people at several sites, the site.
#[component]
pub fn ReportFault() -> impl IntoView {
    let texts = use_texts();
    let current = use_session();
    let replica = use_replica();
    let form = FaultForm::new();
    let FaultForm { title, site, category, priority, error, reported, picker, .. } = form;
    let sites = Signal::derive(move || current.session.get().map(|session| session.sites).unwrap_or_default());
    // Sent here by a label's page: that place (or asset), and this form in view.
    let section = NodeRef::<leptos::html::Section>::new();
    crate::fields::take_label_request("fault", section, site, form.catalog, move |code| form.use_code(code));
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(session) = current.session.get_untracked() else { return };
        let Some(fault) = form.fault() else { return };
        let picture = picker.get_untracked().and_then(|input| input.files()).and_then(|files| files.get(0));
        spawn_local(async move {
            match file_report(replica, &session, fault, picture).await {
                Ok(id) => {
                    form.clear();
                    reported.set(Some(id));
                }
                Err(message) => error.set(Some(message.to_string())),
            }
        });
    };
    view! {
        <section node_ref=section class="card" aria-labelledby="report-fault">
            <h2 id="report-fault">{move || texts.get().report_fault}</h2>
            <form class="form" on:submit=submit data-form="report">
                <label>
                    <span>{move || texts.get().fault_title}</span>
                    <input name="title" required prop:value=title on:input=move |event| {
                        reported.set(None);
                        title.set(event_target_value(&event));
                    } />
                </label>
                <SiteChoice sites=sites chosen=site name="site" />
                <CodeField value=form.code on_code=Callback::new(move |code| form.use_code(code)) />
                <WhereFields form=form />
                <div class="two-columns">
                    <label>
                        <span>{move || texts.get().category_label}</span>
                        <select name="category" prop:value=move || category.get().as_str() on:change=move |event| {
                            if let Ok(chosen) = Category::parse(&event_target_value(&event)) {
                                category.set(chosen);
                            }
                        }>
                            {move || {
                                let texts = texts.get();
                                Category::ALL.iter().map(|known| view! { <option value=known.as_str() selected=*known == Category::Other>{texts.category(*known)}</option> }).collect_view()
                            }}
                        </select>
                    </label>
                    <label>
                        <span>{move || texts.get().priority_label}</span>
                        <select name="priority" prop:value=move || priority.get().as_str() on:change=move |event| {
                            if let Ok(chosen) = Priority::parse(&event_target_value(&event)) {
                                priority.set(chosen);
                            }
                        }>
                            {move || {
                                let texts = texts.get();
                                Priority::ALL.iter().map(|known| view! { <option value=known.as_str() selected=*known == Priority::Normal>{texts.priority(*known)}</option> }).collect_view()
                            }}
                        </select>
                    </label>
                </div>
                <label class="photo-button wide">
                    <span aria-hidden="true">"📷 "</span>
                    {move || texts.get().take_photo}
                    <input type="file" name="fault-photo" accept="image/*" capture="environment" node_ref=picker />
                </label>
                {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
                <button type="submit" class="primary">{move || texts.get().report}</button>
            </form>
            {move || {
                reported.get().map(|id| {
                    view! {
                        <p class="confirmation" role="status" data-reported=id.to_string()>
                            {texts.get().report_kept}
                            " "
                            <a href=format!("/orders/{id}") data-action="view-report">{texts.get().view_my_report}</a>
                        </p>
                    }
                })
            }}
        </section>
    }
}

/// The fault report being filled in: its fields, the chosen site's catalog, and how the
/// last report went.
#[derive(Clone, Copy)]
struct FaultForm {
    texts: Signal<&'static Texts>,
    title: RwSignal<String>,
    site: RwSignal<String>,
    /// The site reported at: the one chosen, else the person's first.
    chosen_site: Memo<Option<SiteId>>,
    place: RwSignal<String>,
    asset: RwSignal<String>,
    category: RwSignal<Category>,
    priority: RwSignal<Priority>,
    /// A label's code, typed or scanned.
    code: RwSignal<String>,
    catalog: Memo<Option<Arc<CatalogView>>>,
    error: RwSignal<Option<String>>,
    /// The report just made on this phone, for the confirmation.
    reported: RwSignal<Option<DocumentId>>,
    picker: NodeRef<leptos::html::Input>,
}

/// A fault as reported, before it is a work order.
struct Fault {
    site: SiteId,
    title: String,
    place: String,
    asset: String,
    category: Category,
    priority: Priority,
}

impl FaultForm {
    fn new() -> FaultForm {
        let current = use_session();
        let replica = use_replica();
        let site = RwSignal::new(String::new());
        let chosen_site = Memo::new(move |_| current.session.get()?.site_or_first(&site.get()).map(|known| known.id.clone()));
        let catalog = Memo::new(move |_| {
            let _ = replica.revision.get();
            read_catalog(replica, &catalog_of(&current.session.get()?, &chosen_site.get()?)?)
        });
        FaultForm {
            texts: use_texts(),
            title: RwSignal::new(String::new()),
            site,
            chosen_site,
            place: RwSignal::new(String::new()),
            asset: RwSignal::new(String::new()),
            category: RwSignal::new(Category::Other),
            priority: RwSignal::new(Priority::Normal),
            code: RwSignal::new(String::new()),
            catalog,
            error: RwSignal::new(None),
            reported: RwSignal::new(None),
            picker: NodeRef::new(),
        }
    }

    /// Picks an asset; it says which trade repairs it, when its type tells.
    fn pick_asset(self, asset_id: String) {
        let trade = self.catalog.with_untracked(|catalog| {
            catalog
                .as_ref()?
                .assets
                .iter()
                .find(|known| known.id.as_str() == asset_id)
                .and_then(|known| Category::for_asset_type(&known.asset_type))
        });
        if let Some(trade) = trade {
            self.category.set(trade);
        }
        self.asset.set(asset_id);
    }

    /// The label on a door or an asset, typed or scanned, fills in where (and which asset).
    fn use_code(self, typed: String) {
        self.code.set(typed.clone());
        let found = self.catalog.with_untracked(|catalog| {
            catalog.as_ref().and_then(|catalog| {
                catalog.find_code(&typed).map(|(asset, place)| (place.id.to_string(), asset.map(|asset| asset.id.to_string())))
            })
        });
        match found {
            Some((place_id, asset_id)) => {
                self.place.set(place_id);
                self.pick_asset(asset_id.unwrap_or_default());
                self.error.set(None);
            }
            None if typed.trim().is_empty() => self.error.set(None),
            None => self.error.set(Some(self.texts.get_untracked().unknown_code.replace("{}", typed.trim()))),
        }
    }

    /// The fault as the form holds it, at the chosen site.
    fn fault(self) -> Option<Fault> {
        Some(Fault {
            site: self.chosen_site.get_untracked()?,
            title: self.title.get_untracked(),
            place: self.place.get_untracked(),
            asset: self.asset.get_untracked(),
            category: self.category.get_untracked(),
            priority: self.priority.get_untracked(),
        })
    }

    /// The whole form afresh, for the next fault.
    fn clear(self) {
        self.title.set(String::new());
        self.code.set(String::new());
        self.place.set(String::new());
        self.asset.set(String::new());
        self.category.set(Category::Other);
        self.priority.set(Priority::Normal);
        self.error.set(None);
        if let Some(input) = self.picker.get_untracked() {
            input.set_value("");
        }
    }
}

/// Where the fault is: a place of the site and an asset there, once the site's catalog is
/// on the phone. The assets listed are those at the place chosen (or anywhere), at most
/// `LISTED_PLACES` of them, the chosen one always, and how many were left out: a site's
/// thousands of extinguishers are found by place or by tag.
#[component]
fn WhereFields(form: FaultForm) -> impl IntoView {
    let texts = use_texts();
    let FaultForm { place, asset, catalog, .. } = form;
    let listed_assets = Memo::new(move |_| {
        let chosen_place = place.get();
        let chosen = asset.get();
        catalog.with(|catalog| {
            let Some(catalog) = catalog.as_ref() else { return (Vec::new(), 0) };
            let option = |known: &Asset| (known.id.to_string(), format!("{} ({})", known.name, known.tag));
            let (at_place, total) = catalog.assets_at(&chosen_place, LISTED_PLACES);
            let left_out = total - at_place.len();
            let mut shown: Vec<(String, String)> = at_place.into_iter().map(option).collect();
            if !chosen.is_empty()
                && !shown.iter().any(|(id, _)| *id == chosen)
                && let Some(known) = catalog.assets.iter().find(|known| known.id.as_str() == chosen)
            {
                shown.insert(0, option(known));
            }
            (shown, left_out)
        })
    });
    let asset_options = move || {
        let chosen = asset.get_untracked();
        listed_assets.with(|(shown, _)| {
            shown.iter().map(|(id, text)| view! { <option value=id.clone() selected=*id == chosen>{text.clone()}</option> }).collect_view()
        })
    };
    let more_assets =
        move || listed_assets.with(|(_, left_out)| (*left_out > 0).then(|| texts.get().more_assets.replace("{}", &left_out.to_string())));
    let has_catalog = Memo::new(move |_| catalog.with(Option::is_some));
    move || {
        has_catalog.get().then(|| {
            view! {
                <PlacePicker catalog=catalog.into() chosen=place none=Signal::stored("—") on_pick=Callback::new(move |_| asset.set(String::new())) />
                <label>
                    <span>{move || texts.get().asset}</span>
                    <select name="asset" prop:value=move || asset.get() on:change=move |event| form.pick_asset(event_target_value(&event))>
                        <option value="">"—"</option>
                        {asset_options}
                    </select>
                </label>
                {move || more_assets().map(|note| view! { <p class="muted place-note" data-asset-note="">{note}</p> })}
            }
        })
    }
}

/// Makes a work order of a fault on this phone (with its photo, shrunk and kept here) and
/// lists it in its site's index, which tells the others' phones it exists.
async fn file_report(replica: Replica, session: &Session, fault: Fault, picture: Option<web_sys::File>) -> Result<DocumentId, AppError> {
    let Fault { site, title, place, asset, category, priority } = fault;
    let edit = edit_now(&session.user.username)?;
    let new = NewWorkOrder {
        site,
        title,
        description: String::new(),
        location: place,
        asset: Some(asset).filter(|asset| !asset.is_empty()),
        category,
        priority,
        due_at: Some(edit.at.plus_millis(priority.default_due_millis())),
        source: None,
    };
    let actor = replica.device_actor().ok_or(AppError::SignedOut)?;
    let mut order = WorkOrder::report(actor, &new, &entry_id("reported"), &edit)?;
    if let Some(picture) = &picture {
        let photo = photos::keep(picture).await?;
        order.add_comment(&entry_id("comment"), "", Some(&photo), &edit)?;
    }
    let status = order.read()?.state().status;
    let id = crate::replica::new_document_id();
    replica.create(id, order.into_doc()).await?;
    if picture.is_some() {
        replica.upload_files();
    }
    let entry = IndexEntry {
        document: id.url(),
        document_type: DocumentType::WorkOrder,
        title: new.title.trim().to_owned(),
        status: status.as_str().to_owned(),
        location: new.location.clone(),
        updated_at: edit.at,
    };
    index_in_catalog(replica, session, new.site.as_str(), entry, &edit).await?;
    Ok(id)
}

/// A work order as this phone has it, read once per change of the document however many
/// screens show it (see `Replica::read_kept`).
pub(crate) fn read_order(replica: Replica, id: &DocumentId) -> Option<Arc<WorkOrderView>> {
    replica.read_kept(id)
}

impl crate::replica::Reading for WorkOrderView {
    fn read(doc: &automerge::AutoCommit) -> Option<WorkOrderView> {
        WorkOrder::read_doc(doc).ok()
    }
}

fn state_text(texts: &Texts, state: Option<DocumentState>) -> String {
    match state {
        Some(DocumentState::Synced) => texts.synced.to_owned(),
        Some(DocumentState::LocalOnly(count)) => texts.changes_on_phone.replace("{}", &count.to_string()),
        Some(DocumentState::Refused(None)) => texts.refused.to_owned(),
        Some(DocumentState::Refused(Some(code))) => texts.refused(code).to_owned(),
        Some(DocumentState::Unavailable) => texts.unavailable.to_owned(),
        Some(DocumentState::Unknown) | None => texts.not_yet_synced.to_owned(),
    }
}

fn state_name(state: Option<DocumentState>) -> &'static str {
    match state {
        Some(DocumentState::Synced) => "synced",
        Some(DocumentState::LocalOnly(_)) => "local",
        Some(DocumentState::Refused(_)) => "refused",
        Some(DocumentState::Unavailable) => "unavailable",
        Some(DocumentState::Unknown) | None => "unknown",
    }
}

/// A document's sync state as a badge: synced, changes on this phone, refused…
pub fn sync_badge(id: DocumentId) -> impl IntoView {
    let texts = use_texts();
    let replica = use_replica();
    let state = move || replica.view.with(|view| view.documents.get(&id).copied());
    view! {
        <span class=move || format!("badge badge-{}", state_name(state())) data-state=move || state_name(state())>
            {move || state_text(texts.get(), state())}
        </span>
    }
}

/// Says how many entries of the record shown do not read and are left out (written by
/// another client before the server checked them); nothing when all read.
pub fn hidden_entries(count: impl Fn() -> usize + Send + Sync + 'static) -> impl IntoView {
    let texts = use_texts();
    move || {
        let count = count();
        (count > 0).then(
            || view! { <p class="warning" data-hidden-entries=count>{texts.get().hidden_entries.replace("{}", &count.to_string())}</p> },
        )
    }
}

/// The orders at the sites the signed-in person manages (as manager or admin) that
/// `wanted` picks, duplicates left out, most urgent and then oldest first.
fn managed_orders(wanted: impl Fn(&WorkOrderView) -> bool + Send + Sync + 'static) -> Signal<Vec<(DocumentId, Arc<WorkOrderView>)>> {
    let current = use_session();
    let orders = use_orders();
    let managed = Memo::new(move |_| {
        current.session.with(|session| {
            session
                .as_ref()
                .map(|session| session.sites.iter().filter(|site| site.role.manages()).map(|site| site.id.clone()).collect::<Vec<_>>())
                .unwrap_or_default()
        })
    });
    Signal::derive(move || {
        let managed = managed.get();
        let mut picked: Vec<(DocumentId, Arc<WorkOrderView>)> = orders
            .get()
            .into_iter()
            .filter(|(_, order)| {
                order.duplicate_of.is_none() && managed.iter().any(|site| site == order.header.site.as_str()) && wanted(order)
            })
            .collect();
        picked.sort_by_key(|(_, order)| (order.priority.rank(), order.header.created_at));
        picked
    })
}

/// Hazards raised on rounds at the sites one manages and not yet repaired, most urgent
/// and oldest first: on the to-do page, for managers. They are work orders made from a
/// failed checklist item (`source`), dispatched like any other.
#[component]
pub fn HazardsRaised() -> impl IntoView {
    let texts = use_texts();
    let hazards = managed_orders(|order| order.source.is_some() && order.state().status.is_open());
    view! { <WaitingOrders id="hazards" heading=Signal::derive(move || texts.get().hazards_open) rows=hazards /> }
}

/// Open orders past their due time at the sites one manages, most urgent and oldest
/// first: on the to-do page, for managers.
#[component]
pub fn OverdueOrders() -> impl IntoView {
    let texts = use_texts();
    let overdue = managed_orders(|order| order.is_overdue(now()));
    view! { <WaitingOrders id="overdue" heading=Signal::derive(move || texts.get().overdue_orders) rows=overdue /> }
}

/// Open orders waiting for dispatch (reported or reopened), for a site's manager.
#[component]
pub fn DispatchQueue(
    /// On the to-do page: the first few, a count, and a way to the rest.
    #[prop(optional)]
    compact: bool,
) -> impl IntoView {
    let texts = use_texts();
    let queue = managed_orders(move |order| {
        (matches!(order.state().status, Status::Reported | Status::Reopened) || order.state().open_flags().count() > 0)
            // On the to-do page hazards have their list, above this one.
            && !(compact && order.source.is_some())
    });
    view! {
        <Show when=move || queue.with(|queue| !queue.is_empty())>
            <section class="card" aria-labelledby="dispatch">
                <h2 id="dispatch">{move || counted(texts.get().dispatch_queue, queue.with(Vec::len), compact)}</h2>
                <ul class="orders" data-list="dispatch">
                    {move || first(queue.get(), compact).into_iter().map(|(id, order)| view! { <OrderLine id=id order=order /> }).collect_view()}
                </ul>
                {compact.then(|| view! { <SeeAll data_action="all-orders" /> })}
            </section>
        </Show>
    }
}

/// A technician's open orders, theirs first, by urgency then due time; then the
/// unassigned ones anyone may take.
#[component]
pub fn MyWork(
    /// On the to-do page: the first few, a count, a way to the rest, and nothing when
    /// there is no work.
    #[prop(optional)]
    compact: bool,
) -> impl IntoView {
    let texts = use_texts();
    let current = use_session();
    let orders = use_orders();
    let work = move || {
        let Some(session) = current.session.get() else { return Vec::new() };
        let at: Vec<String> = session.sites.iter().filter(|site| site.role == Role::Technician).map(|site| site.id.to_string()).collect();
        let me = session.user.username;
        let mut work: Vec<(DocumentId, Arc<WorkOrderView>)> = orders
            .get()
            .into_iter()
            .filter(|(_, order)| at.iter().any(|site| site == order.header.site.as_str()))
            .filter(|(_, order)| {
                let state = order.state();
                state.status.is_open() && state.assignee.as_ref().is_none_or(|assignee| assignee.as_str() == me)
            })
            .collect();
        work.sort_by_cached_key(|(_, order)| {
            (order.state().assignee.is_none(), order.priority.rank(), order.due_at.map_or(i64::MAX, shared::time::Timestamp::as_millis))
        });
        work
    };
    view! {
        <Show when=move || {
            current.session.with(|session| session.as_ref().is_some_and(|session| session.sites.iter().any(|site| site.role == Role::Technician)))
                && !(compact && work().is_empty())
        }>
            <section class="card" aria-labelledby="my-work">
                <h2 id="my-work">{move || counted(texts.get().my_work, work().len(), compact)}</h2>
                <ul class="orders" data-list="my-work">
                    {move || first(work(), compact).into_iter().map(|(id, order)| view! { <OrderLine id=id order=order /> }).collect_view()}
                </ul>
                {move || work().is_empty().then(|| view! { <p class="muted">{texts.get().no_work}</p> })}
                {compact.then(|| view! { <SeeAll data_action="all-orders" /> })}
            </section>
        </Show>
    }
}

/// A list's heading, with its count on the to-do page.
fn counted(heading: &str, count: usize, compact: bool) -> String {
    if compact { format!("{heading} ({count})") } else { heading.to_owned() }
}

/// The rows a list shows: on the to-do page, the first few.
fn first<T>(mut rows: Vec<T>, compact: bool) -> Vec<T> {
    if compact {
        rows.truncate(COMPACT_ROWS);
    }
    rows
}

/// The way from a list on the to-do page to the whole of it.
#[component]
fn SeeAll(data_action: &'static str) -> impl IntoView {
    let texts = use_texts();
    view! { <a class="see-all" href=AppRoute::Orders.pattern() data-action=data_action>{move || texts.get().see_all}</a> }
}

/// Repairs of faults one reported, done and waiting for the reporter to check them.
#[component]
pub fn ToVerify() -> impl IntoView {
    let texts = use_texts();
    let current = use_session();
    let orders = use_orders();
    let waiting = move || {
        let Some(me) = current.session.with(|session| session.as_ref().map(|session| session.user.username.clone())) else {
            return Vec::new();
        };
        let mut done: Vec<(DocumentId, Arc<WorkOrderView>)> = orders
            .get()
            .into_iter()
            .filter(|(_, order)| order.header.created_by.as_str() == me && order.state().status == Status::Completed)
            .collect();
        done.sort_by_key(|(_, order)| order.header.created_at);
        done
    };
    view! { <WaitingOrders id="to-verify" heading=Signal::derive(move || texts.get().to_verify) rows=Signal::derive(waiting) /> }
}

/// A to-do list of orders: a heading with the count, the first few, a way to all the
/// orders; nothing when there are none. `id` names the heading and the list.
#[component]
fn WaitingOrders(id: &'static str, heading: Signal<&'static str>, rows: Signal<Vec<(DocumentId, Arc<WorkOrderView>)>>) -> impl IntoView {
    view! {
        <Show when=move || rows.with(|rows| !rows.is_empty())>
            <section class="card" aria-labelledby=id>
                <h2 id=id>{move || counted(heading.get(), rows.with(Vec::len), true)}</h2>
                <ul class="orders" data-list=id>
                    {move || first(rows.get(), true).into_iter().map(|(id, order)| view! { <OrderLine id=id order=order /> }).collect_view()}
                </ul>
                <SeeAll data_action="all-orders" />
            </section>
        </Show>
    }
}

/// Every work order on the phone, read once per change for all the lists.
fn use_orders() -> Memo<Vec<(DocumentId, Arc<WorkOrderView>)>> {
    let replica = use_replica();
    Memo::new(move |_| {
        let _ = replica.revision.get();
        replica.document_ids().into_iter().filter_map(|id| Some((id, read_order(replica, &id)?))).collect()
    })
}

/// One order in a list: title (to its page), status, priority, overdue, due time.
#[component]
fn OrderLine(id: DocumentId, order: Arc<WorkOrderView>) -> impl IntoView {
    let texts = use_texts();
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    let state = order.state();
    let priority = order.priority;
    let overdue = order.is_overdue(now());
    let due = order.due_at.map(|due| crate::i18n::due_words(due, language.get_untracked()));
    view! {
        <li class="order-line" data-document=id.to_string() data-order-status=state.status.as_str() class:overdue=overdue>
            <a href=format!("/orders/{id}")>{order.title.clone()}</a>
            <span class="order-line-badges">
                {crate::inbox::new_mark(id)}
                <span class=format!("badge badge-priority-{}", priority.as_str())>{move || texts.get().priority(priority)}</span>
                <span class="badge">{move || texts.get().status(state.status)}</span>
                {overdue.then(|| view! { <span class="badge badge-overdue">{move || texts.get().overdue}</span> })}
                {(state.open_flags().count() > 0).then(|| view! { <span class="badge badge-overdue" data-flagged="yes">{move || texts.get().flags}</span> })}
            </span>
            {due.map(|due| view! { <span class="muted order-due">{due}</span> })}
        </li>
    }
}

/// How many orders a list shows before "show more".
const PAGE_ROWS: usize = 20;

/// Work orders on this phone, newest first, each one line: title (to its page), status,
/// sync state, and how many notes it has; notes, history and forms live on the order's
/// page. With `mine`, only the faults this person reported: they follow theirs here.
/// Twenty at a time.
#[component]
pub fn MyWorkOrders(
    /// Only the orders this person reported.
    #[prop(optional)]
    mine: bool,
) -> impl IntoView {
    let texts = use_texts();
    let current = use_session();
    let orders = use_orders();
    let shown = RwSignal::new(PAGE_ROWS);
    let newest_first = Memo::new(move |_| {
        let me = current.session.with(|session| session.as_ref().map(|session| session.user.username.clone())).unwrap_or_default();
        let mut orders: Vec<(shared::time::Timestamp, DocumentId)> = orders.with(|orders| {
            orders
                .iter()
                .filter(|(_, order)| (!mine || order.header.created_by.as_str() == me) && !order.is_spam())
                .map(|(id, order)| (order.header.created_at, *id))
                .collect()
        });
        orders.sort_by_key(|(created_at, _)| std::cmp::Reverse(*created_at));
        orders.into_iter().map(|(_, id)| id).collect::<Vec<_>>()
    });
    let more = move || newest_first.with(Vec::len).saturating_sub(shown.get());
    view! {
        <section class="card" aria-labelledby="my-orders">
            <h2 id="my-orders">{move || if mine { texts.get().reported_by_me } else { texts.get().my_reports }}</h2>
            <ul class="orders" data-list=if mine { "my-reports" } else { "orders" }>
                <For each=move || newest_first.with(|ids| ids.iter().take(shown.get()).copied().collect::<Vec<_>>()) key=|id| *id let:id>
                    <OrderRow id=id orders=orders />
                </For>
            </ul>
            {move || newest_first.with(Vec::is_empty).then(|| view! { <p class="muted">{if mine { texts.get().no_reports } else { texts.get().no_orders }}</p> })}
            {move || (more() > 0).then(|| view! {
                <button type="button" class="link-button see-all" data-action="more-orders" on:click=move |_| shown.update(|shown| *shown += PAGE_ROWS)>
                    {texts.get().show_more.replace("{}", &more().to_string())}
                </button>
            })}
        </section>
    }
}

#[component]
fn OrderRow(id: DocumentId, orders: Memo<Vec<(DocumentId, Arc<WorkOrderView>)>>) -> impl IntoView {
    let texts = use_texts();
    let order = Memo::new(move |_| orders.with(|orders| orders.iter().find(|(known, _)| *known == id).map(|(_, order)| order.clone())));
    let status = Memo::new(move |_| order.with(|order| order.as_ref().map(|order| order.state().status)));
    let notes = Memo::new(move |_| order.with(|order| order.as_ref().map_or(0, |order| order.comments.len())));
    view! {
        <li class="order" data-document=id.to_string()>
            <a class="order-title" href=format!("/orders/{id}")>{move || order.with(|order| order.as_ref().map(|order| order.title.clone()))}</a>
            <span class="order-line-badges">
                <span class="badge" data-order-status=move || status.get().map(Status::as_str)>{move || status.get().map(|status| texts.get().status(status))}</span>
                {sync_badge(id)}
                {move || (notes.get() > 0).then(|| view! {
                    <span class="muted" data-comments=notes.get()>{match notes.get() {
                        1 => texts.get().one_note.to_owned(),
                        count => texts.get().notes_count.replace("{}", &count.to_string()),
                    }}</span>
                })}
            </span>
        </li>
    }
}

/// A note, with or without a photo from the camera, on a work order.
#[component]
pub fn CommentForm(id: DocumentId) -> impl IntoView {
    let texts = use_texts();
    let current = use_session();
    let replica = use_replica();
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
                replica
                    .edit(&id, |doc| {
                        let edit = edit_now(&session.user.username)?;
                        Ok(WorkOrder::edit_in(doc, |order| order.add_comment(&entry_id("comment"), &text, photo.as_ref(), &edit))??)
                    })
                    .await?;
                if photo.is_some() {
                    replica.upload_files();
                }
                Ok::<(), AppError>(())
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
    view! {
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
    // The image's object URL holds the photo in memory until it is revoked.
    on_cleanup(move || {
        if let Some(Some(Some(src))) = url.try_get_untracked() {
            let _ = web_sys::Url::revoke_object_url(&src);
        }
    });
    move || url.get().flatten().map(|src| view! { <img class="photo" src=src alt="" data-photo="shown" /> })
}

/// The document's history from the server — who (the person bound to each change), when,
/// what — shown on request.
#[component]
pub(crate) fn History(id: DocumentId) -> impl IntoView {
    let texts = use_texts();
    let current = use_session();
    let replica = use_replica();
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    let entries = RwSignal::new(None::<Result<Vec<crate::server::HistoryEntry>, AppError>>);
    let load = move |_| {
        let Some(session) = current.session.get_untracked() else { return };
        spawn_local(async move {
            let history = crate::server::fetch_history(&session.token, &id).await;
            // The site's people, for their names (kept on the phone as it fetches them).
            if let Some(site) = replica.read(&id, |doc| shared::document::read_site(doc).map(|site| site.to_string())).flatten() {
                crate::server::site_people(&session.token, &site).await;
            }
            entries.set(Some(history));
        });
    };
    view! {
        <button type="button" class="link-button" data-action="history" on:click=load>{move || texts.get().history}</button>
        {move || {
            let texts = texts.get();
            entries.get().map(|loaded| match loaded {
                Ok(entries) => {
                    // Sentences with people by name, as on the dashboard's history.
                    let language = language.get();
                    let me = current.session.get_untracked().map(|session| session.user);
                    let site = replica.read(&id, |doc| shared::document::read_site(doc).map(|site| site.to_string())).flatten().unwrap_or_default();
                    let people = crate::server::kept_people(&site);
                    let name = |user: &str| -> String {
                        match &me {
                            Some(me) if me.username == user => me.display_name.clone(),
                            _ => crate::server::display_name(&people, user),
                        }
                    };
                    let (lines, _) = replica.read(&id, |doc| crate::pages::review::history::lines(texts, language, &entries, Some(doc), &name))
                        .unwrap_or_else(|| crate::pages::review::history::lines(texts, language, &entries, None, &name));
                    let rows = entries
                        .iter()
                        .zip(lines)
                        .map(|(entry, line)| {
                            let who = entry.user.as_ref().map(ToString::to_string).or(entry.named.clone()).unwrap_or_else(|| texts.someone.to_owned());
                            view! {
                                <li class="history-entry">
                                    <span class="who" data-who=who>{line.who}</span>
                                    " · " <span class="muted">{format!("{} · {}", line.device, crate::i18n::moment(entry.at, language))}</span> " · " {line.what}
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
