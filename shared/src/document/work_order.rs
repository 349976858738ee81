//! Work orders: a fault reported, dispatched, repaired and verified, with every step an
//! event in an append-only log.
//!
//! The status is never stored: it is a deterministic fold over the events sorted by
//! (device time, event id), the same on every replica whatever order changes arrived in.
//! A step that is illegal once concurrent logs are merged (two completions, completing a
//! cancelled order) is kept and flagged for a manager, whose decision is a new event.
//!
//! Layout: header; `title`, `priority`, `due_at`, `location`, `asset` (scalars);
//! `description` (Text); `source` (map, optional); `events`, `comments`, `parts`,
//! `invoices` (maps keyed by entry id); `labour` (map keyed by user name: a manager's
//! correction of a person's time or rate); `duplicate_of` (the order this one was merged
//! into, optional); `preventive` (map: `plan`, `occurrence`; for orders generated from a
//! maintenance plan); `alarm` (map: `meter`, `first_reading`, `count`; for orders a meter's
//! readings out of limits raised). `invoices` and `labour` are missing from orders reported
//! before costs were kept, and made by the first entry.
//!
//! Preventive orders and meters' alarms are generated on phones, offline: two phones
//! generating the same occurrence, or seeing the same run of readings reach the meter's
//! count, must make one order. [`WorkOrder::preventive`] and [`WorkOrder::alarm`] derive
//! the document id, the Automerge actor, the time and every value of the first change from
//! the plan and the occurrence (the meter and the run's first reading) alone, so both phones
//! make the byte-identical change, which sync stores once.

use automerge::transaction::Transactable as _;
use automerge::{ActorId, AutoCommit, ObjType, ROOT, ReadDoc, Value};

use super::catalog::{MaintenancePlan, Meter, MeterKind, Reading};
use super::template::ChecklistCategory;
use super::{
    BlobRef, DocumentError, DocumentType, Edit, EntryId, Fields, Header, UnreadableEntry, commit, invalid, map_at, put, put_map, put_text,
    read_root,
};
use crate::directory::{Role, SiteId, Username};
use crate::money::Money;
use crate::protocol::DocumentId;
use crate::quantity::Quantity;
use crate::time::Timestamp;

super::text_enum! {
    /// How urgent a repair is; sets the default due time (SLA).
    pub enum Priority as "priority" {
        Low = "low",
        Normal = "normal",
        High = "high",
        Urgent = "urgent",
    }
}

super::text_enum! {
    /// The trade a repair needs, so dispatch reaches the right technician. Added in schema
    /// 2; a schema 1 order reads as [`Category::Other`].
    pub enum Category as "category" {
        /// Air conditioning, heating, ventilation (空调暖通).
        Hvac = "hvac",
        Electrical = "electrical",
        Plumbing = "plumbing",
        /// Doors, windows, walls, roofs (土建).
        Building = "building",
        /// Furniture and office equipment.
        Furniture = "furniture",
        Vehicle = "vehicle",
        Other = "other",
        /// Extinguishers, alarms, escape routes (消防). Added in schema 3.
        FireSafety = "fire_safety",
    }
}

impl Category {
    /// The trade that repairs an asset of `asset_type` (the catalog's words: `extinguisher`,
    /// `air_conditioner`, `water_heater`…), when the words say.
    pub fn for_asset_type(asset_type: &str) -> Option<Category> {
        let words = asset_type.to_ascii_lowercase();
        let has = |parts: &[&str]| parts.iter().any(|part| words.contains(part));
        Some(if has(&["extinguisher", "hydrant", "smoke", "fire", "alarm", "sprinkler"]) {
            Category::FireSafety
        } else if has(&["air_condition", "hvac", "heater", "boiler", "fan", "ventilat"]) && !has(&["water_heater"]) {
            Category::Hvac
        } else if has(&["water", "pipe", "pump", "toilet", "faucet", "drain", "sink"]) {
            Category::Plumbing
        } else if has(&["light", "lamp", "switch", "socket", "breaker", "panel", "electric", "generator"]) {
            Category::Electrical
        } else if has(&["door", "window", "roof", "wall", "floor"]) {
            Category::Building
        } else if has(&["desk", "chair", "table", "bed", "cabinet", "furniture", "projector", "printer", "computer"]) {
            Category::Furniture
        } else if has(&["vehicle", "car", "truck", "bus", "van"]) {
            Category::Vehicle
        } else {
            return None;
        })
    }

    /// The trade a hazard found on a round of a checklist of `category` most likely needs.
    pub fn for_checklist(category: Option<ChecklistCategory>) -> Category {
        match category {
            Some(ChecklistCategory::FireSafety) => Category::FireSafety,
            Some(ChecklistCategory::Electrical) => Category::Electrical,
            Some(ChecklistCategory::DormRoom) => Category::Building,
            Some(ChecklistCategory::FoodSafety | ChecklistCategory::General) | None => Category::Other,
        }
    }
}

impl Priority {
    /// The default time to fix (the SLA) from the report: urgent 4 hours, high 1 day,
    /// normal 3 days, low a week.
    pub const fn default_due_millis(self) -> i64 {
        const HOUR: i64 = 60 * 60 * 1000;
        match self {
            Priority::Urgent => 4 * HOUR,
            Priority::High => 24 * HOUR,
            Priority::Normal => 3 * 24 * HOUR,
            Priority::Low => 7 * 24 * HOUR,
        }
    }

    /// Most urgent first.
    pub const fn rank(self) -> u8 {
        match self {
            Priority::Urgent => 0,
            Priority::High => 1,
            Priority::Normal => 2,
            Priority::Low => 3,
        }
    }
}

/// A satisfaction rating from 1 to 5, given on verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rating(u8);

impl Rating {
    pub fn new(stars: i64) -> Result<Rating, DocumentError> {
        match u8::try_from(stars) {
            Ok(stars @ 1..=5) => Ok(Rating(stars)),
            _ => Err(invalid("rating", &stars.to_string(), "a whole number from 1 to 5")),
        }
    }

    pub const fn stars(self) -> u8 {
        self.0
    }
}

/// Where a work order came from, when an inspection raised it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// The inspection document's id (`automerge:` URL or bare id).
    pub inspection: String,
    /// The checklist item that failed.
    pub item: String,
}

/// What a reporter enters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewWorkOrder {
    pub site: SiteId,
    pub title: String,
    pub description: String,
    /// A place from the site catalog (building, floor or room id).
    pub location: String,
    pub asset: Option<String>,
    pub category: Category,
    pub priority: Priority,
    pub due_at: Option<Timestamp>,
    pub source: Option<Source>,
}

/// A step in a work order's life.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    Reported,
    Assigned {
        assignee: Username,
    },
    /// Given to a contractor (a vendor of the site's catalog) instead of a technician; the
    /// contractor's own steps come through their link, under [`CONTRACTOR`].
    Contracted {
        vendor: EntryId,
    },
    Acknowledged,
    Started,
    Paused {
        reason: String,
    },
    Completed {
        notes: String,
    },
    Verified {
        rating: Rating,
        comment: String,
    },
    Reopened {
        reason: String,
    },
    Cancelled {
        reason: String,
    },
    /// A manager's decision about a flagged event.
    Resolved {
        flagged: EntryId,
        decision: String,
    },
}

impl EventKind {
    pub const fn name(&self) -> &'static str {
        match self {
            EventKind::Reported => "reported",
            EventKind::Assigned { .. } => "assigned",
            EventKind::Contracted { .. } => "contracted",
            EventKind::Acknowledged => "acknowledged",
            EventKind::Started => "started",
            EventKind::Paused { .. } => "paused",
            EventKind::Completed { .. } => "completed",
            EventKind::Verified { .. } => "verified",
            EventKind::Reopened { .. } => "reopened",
            EventKind::Cancelled { .. } => "cancelled",
            EventKind::Resolved { .. } => "resolved",
        }
    }
}

/// One entry of the event log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub id: EntryId,
    pub kind: EventKind,
    pub user: Username,
    pub at: Timestamp,
}

/// Where a work order stands, as folded from its events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Reported,
    Assigned,
    Acknowledged,
    InProgress,
    Paused,
    Completed,
    Verified,
    Reopened,
    Cancelled,
}

impl Status {
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Reported => "reported",
            Status::Assigned => "assigned",
            Status::Acknowledged => "acknowledged",
            Status::InProgress => "in_progress",
            Status::Paused => "paused",
            Status::Completed => "completed",
            Status::Verified => "verified",
            Status::Reopened => "reopened",
            Status::Cancelled => "cancelled",
        }
    }

    pub const ALL: [Status; 9] = [
        Status::Reported,
        Status::Assigned,
        Status::Acknowledged,
        Status::InProgress,
        Status::Paused,
        Status::Completed,
        Status::Verified,
        Status::Reopened,
        Status::Cancelled,
    ];

    pub fn parse(value: &str) -> Result<Status, DocumentError> {
        Status::ALL.into_iter().find(|known| known.as_str() == value).ok_or_else(|| {
            invalid("status", value, "reported, assigned, acknowledged, in_progress, paused, completed, verified, reopened or cancelled")
        })
    }

    /// Whether work is still expected (counts as open and can become overdue).
    pub const fn is_open(self) -> bool {
        !matches!(self, Status::Completed | Status::Verified | Status::Cancelled)
    }
}

/// An event the fold could not apply, kept for a manager's decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flag {
    pub event: EntryId,
    /// The status the order had when the event came up in the fold.
    pub status: Status,
    pub problem: FlagProblem,
    /// The `resolved` event recording the manager's decision, once there is one.
    pub resolution: Option<EntryId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlagProblem {
    /// The step is not allowed from the status the merged log arrived at.
    IllegalTransition { event: &'static str },
    /// A second `reported` event.
    DuplicateReport,
    /// A `resolved` event naming an event that is not flagged.
    ResolvesNothing { flagged: EntryId },
}

/// The fold's result: status, who has it, the times the department measures, and flags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    pub status: Status,
    pub assignee: Option<Username>,
    /// The contractor the order is given to, instead of a technician.
    pub vendor: Option<EntryId>,
    pub reported_at: Timestamp,
    /// First acknowledgement or start.
    pub first_response_at: Option<Timestamp>,
    /// The completion in force (the latest one not undone by a reopening).
    pub completed_at: Option<Timestamp>,
    pub verified_at: Option<Timestamp>,
    pub rating: Option<Rating>,
    pub reopened: u32,
    pub flags: Vec<Flag>,
}

impl State {
    /// Milliseconds from the report to the first response.
    pub fn response_millis(&self) -> Option<i64> {
        self.first_response_at.map(|at| at.millis_since(self.reported_at))
    }

    /// Milliseconds from the report to the completion in force.
    pub fn repair_millis(&self) -> Option<i64> {
        self.completed_at.map(|at| at.millis_since(self.reported_at))
    }

    /// Flags still waiting for a manager.
    pub fn open_flags(&self) -> impl Iterator<Item = &Flag> {
        self.flags.iter().filter(|flag| flag.resolution.is_none())
    }
}

/// Folds events into a state: sorted by (device time, id), so the same on every replica.
pub fn fold(reported_at: Timestamp, events: &[Event]) -> State {
    let mut ordered: Vec<&Event> = events.iter().collect();
    ordered.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
    let mut state = State {
        status: Status::Reported,
        assignee: None,
        vendor: None,
        reported_at,
        first_response_at: None,
        completed_at: None,
        verified_at: None,
        rating: None,
        reopened: 0,
        flags: Vec::new(),
    };
    let mut seen_report = false;
    for event in ordered {
        use Status::*;
        let status = state.status;
        let applied = match &event.kind {
            EventKind::Reported => {
                let first = !seen_report;
                seen_report = true;
                if !first {
                    state.flags.push(Flag { event: event.id.clone(), status, problem: FlagProblem::DuplicateReport, resolution: None });
                }
                continue;
            }
            EventKind::Assigned { assignee } => {
                let allowed = matches!(status, Reported | Assigned | Acknowledged | InProgress | Paused | Reopened);
                if allowed {
                    state.assignee = Some(assignee.clone());
                    state.vendor = None;
                    state.status = Assigned;
                }
                allowed
            }
            EventKind::Contracted { vendor } => {
                let allowed = matches!(status, Reported | Assigned | Acknowledged | InProgress | Paused | Reopened);
                if allowed {
                    state.vendor = Some(vendor.clone());
                    state.assignee = None;
                    state.status = Assigned;
                }
                allowed
            }
            EventKind::Acknowledged => transition(&mut state, &[Assigned], Acknowledged),
            EventKind::Started => {
                // A technician may take an unassigned fault on the spot: it becomes theirs
                // (a contractor's start leaves it the contractor's).
                let allowed = transition(&mut state, &[Reported, Assigned, Acknowledged, Paused, Reopened], InProgress);
                if allowed && state.assignee.is_none() && state.vendor.is_none() {
                    state.assignee = Some(event.user.clone());
                }
                allowed
            }
            EventKind::Paused { .. } => transition(&mut state, &[InProgress], Paused),
            EventKind::Completed { .. } => {
                let allowed = transition(&mut state, &[Reported, Assigned, Acknowledged, InProgress, Paused, Reopened], Completed);
                if allowed {
                    state.completed_at = Some(event.at);
                }
                allowed
            }
            EventKind::Verified { rating, .. } => {
                let allowed = transition(&mut state, &[Completed], Verified);
                if allowed {
                    state.verified_at = Some(event.at);
                    state.rating = Some(*rating);
                }
                allowed
            }
            EventKind::Reopened { .. } => {
                let allowed = transition(&mut state, &[Completed, Verified], Reopened);
                if allowed {
                    state.completed_at = None;
                    state.verified_at = None;
                    state.rating = None;
                    state.reopened += 1;
                }
                allowed
            }
            EventKind::Cancelled { .. } => {
                transition(&mut state, &[Reported, Assigned, Acknowledged, InProgress, Paused, Reopened], Cancelled)
            }
            EventKind::Resolved { flagged, .. } => {
                match state.flags.iter_mut().find(|flag| &flag.event == flagged && flag.resolution.is_none()) {
                    Some(flag) => flag.resolution = Some(event.id.clone()),
                    None => state.flags.push(Flag {
                        event: event.id.clone(),
                        status,
                        problem: FlagProblem::ResolvesNothing { flagged: flagged.clone() },
                        resolution: None,
                    }),
                }
                continue;
            }
        };
        if applied {
            if matches!(event.kind, EventKind::Acknowledged | EventKind::Started) && state.first_response_at.is_none() {
                state.first_response_at = Some(event.at);
            }
        } else {
            state.flags.push(Flag {
                event: event.id.clone(),
                status,
                problem: FlagProblem::IllegalTransition { event: event.kind.name() },
                resolution: None,
            });
        }
    }
    state
}

fn transition(state: &mut State, from: &[Status], to: Status) -> bool {
    let allowed = from.contains(&state.status);
    if allowed {
        state.status = to;
    }
    allowed
}

/// A comment on a work order, with a photo or not: the reporter's picture of the fault,
/// the technician's before-and-after shots, a requester's question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub id: EntryId,
    pub user: Username,
    pub at: Timestamp,
    pub text: String,
    pub photo: Option<BlobRef>,
}

/// A part used in a repair, from the site's stock items.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartUsed {
    pub id: EntryId,
    pub item: String,
    pub quantity: Quantity,
    pub user: Username,
    pub at: Timestamp,
}

/// A manager's correction of the time a person worked on an order, or of the rate it is
/// costed at: it replaces what the order's steps give for that person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabourCorrection {
    pub person: Username,
    pub minutes: i64,
    /// The rate per hour; `None`: the site's rate for the person.
    pub per_hour: Option<Money>,
    /// Who corrected it, and when.
    pub user: Username,
    pub at: Timestamp,
}

/// An outside cost: a contractor's invoice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invoice {
    pub id: EntryId,
    pub amount: Money,
    pub vendor: String,
    pub note: String,
    pub photo: Option<BlobRef>,
    pub user: Username,
    pub at: Timestamp,
}

/// What a person may do next with an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Assign,
    /// Give it to a contractor instead of a technician.
    Contract,
    Acknowledge,
    Start,
    Pause,
    Complete,
    Verify,
    Reopen,
    Cancel,
    /// Mark as a duplicate of another order (cancels this one, linking it).
    MergeInto,
}

/// The maintenance plan occurrence a preventive order was generated for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preventive {
    pub plan: EntryId,
    pub occurrence: i64,
}

/// A meter's run of readings out of limits that raised an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeterAlarm {
    pub meter: EntryId,
    /// The run's first reading, which names it.
    pub first_reading: EntryId,
    /// How many readings in a row the meter's rule asked for when it was raised.
    pub count: i64,
}

/// What a planned order is made from.
enum Origin<'a> {
    Plan { plan: &'a EntryId, occurrence: i64 },
    Alarm { meter: &'a EntryId, first: &'a EntryId },
}

/// The user name preventive orders and meters' alarms are created under.
pub const PLANNER: &str = "planner";

/// The user name a contractor's steps are recorded under, through the link the server
/// gives them (no account may have it; the order's `vendor` says which contractor).
pub const CONTRACTOR: &str = "contractor";

/// Everything a work order holds, read in one go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkOrderView {
    pub header: Header,
    pub title: String,
    pub description: String,
    pub location: String,
    pub asset: Option<String>,
    pub category: Category,
    pub priority: Priority,
    pub due_at: Option<Timestamp>,
    pub source: Option<Source>,
    pub events: Vec<Event>,
    pub comments: Vec<Comment>,
    pub parts: Vec<PartUsed>,
    pub labour: Vec<LabourCorrection>,
    pub invoices: Vec<Invoice>,
    pub duplicate_of: Option<String>,
    pub preventive: Option<Preventive>,
    pub alarm: Option<MeterAlarm>,
    /// Events, comments and parts that do not read, left out of the above: one bad entry
    /// hides itself, not the order.
    pub unreadable: Vec<UnreadableEntry>,
}

impl WorkOrderView {
    pub fn state(&self) -> State {
        fold(self.header.created_at, &self.events)
    }

    /// The steps `user`, with `role` at the order's site, may take now: buttons for
    /// anything else would only make flags. Managers dispatch, cancel, merge and verify;
    /// the assigned technician (or any technician, for an unassigned fault) works it; the
    /// reporter verifies or reopens the repair and may withdraw a report nobody took yet.
    pub fn actions(&self, user: &Username, role: Role) -> Vec<Action> {
        use Status::*;
        let state = self.state();
        let manager = matches!(role, Role::Manager | Role::Admin);
        let mine = state.assignee.as_ref() == Some(user);
        // Given to a contractor, it is theirs to work: a technician does not take it.
        let free = state.assignee.is_none() && state.vendor.is_none();
        let technician = role == Role::Technician;
        let requester = &self.header.created_by == user;
        let mut actions = Vec::new();
        let mut offer = |allowed: bool, action: Action| {
            if allowed {
                actions.push(action);
            }
        };
        let open = state.status.is_open();
        offer(manager && open, Action::Assign);
        offer(manager && open, Action::Contract);
        offer((technician || manager) && mine && state.status == Assigned, Action::Acknowledge);
        offer(
            (technician || manager) && (mine || free) && matches!(state.status, Reported | Assigned | Acknowledged | Paused | Reopened),
            Action::Start,
        );
        offer((technician || manager) && mine && state.status == InProgress, Action::Pause);
        offer((technician || manager) && (mine || free) && matches!(state.status, InProgress | Paused), Action::Complete);
        offer((manager || requester) && state.status == Completed, Action::Verify);
        offer((manager || requester) && matches!(state.status, Completed | Verified), Action::Reopen);
        offer((manager && open) || (requester && state.status == Reported), Action::Cancel);
        offer(manager && open, Action::MergeInto);
        actions
    }

    /// Open and past its due time at `now`.
    /// A public report a manager cancelled as spam: hidden from lists and the dashboard's
    /// count of public requests.
    pub fn is_spam(&self) -> bool {
        self.state().status == Status::Cancelled
            && self.events.iter().any(|event| matches!(&event.kind, EventKind::Cancelled { reason } if reason == crate::public::SPAM))
    }

    pub fn is_overdue(&self, now: Timestamp) -> bool {
        self.due_at.is_some_and(|due| due < now) && self.state().status.is_open()
    }
}

/// A work order document.
pub struct WorkOrder {
    doc: AutoCommit,
}

super::typed_document!(WorkOrder, WorkOrderView);

impl WorkOrder {
    /// Creates the document with its `reported` event.
    pub fn report(actor: ActorId, new: &NewWorkOrder, event: &EntryId, edit: &Edit) -> Result<WorkOrder, DocumentError> {
        if new.title.trim().is_empty() {
            return Err(DocumentError::MissingField { field: "title".to_owned() });
        }
        let header = Header {
            document_type: DocumentType::WorkOrder,
            schema: DocumentType::WorkOrder.current_schema(),
            site: new.site.clone(),
            created_by: edit.user.clone(),
            created_at: edit.at,
        };
        let mut doc = super::create(actor, &header);
        put(&mut doc, &ROOT, "title", new.title.trim());
        put_text(&mut doc, &ROOT, "description", &new.description);
        put(&mut doc, &ROOT, "location", new.location.as_str());
        if let Some(asset) = &new.asset {
            put(&mut doc, &ROOT, "asset", asset.as_str());
        }
        put(&mut doc, &ROOT, "category", new.category.as_str());
        put(&mut doc, &ROOT, "priority", new.priority.as_str());
        if let Some(due) = new.due_at {
            put(&mut doc, &ROOT, "due_at", due.as_millis());
        }
        if let Some(source) = &new.source {
            let map = put_map(&mut doc, &ROOT, "source");
            put(&mut doc, &map, "inspection", source.inspection.as_str());
            put(&mut doc, &map, "item", source.item.as_str());
        }
        for collection in ["events", "comments", "parts", "invoices", "labour"] {
            put_map(&mut doc, &ROOT, collection);
        }
        let mut order = WorkOrder { doc };
        order.write_event(event, &EventKind::Reported, edit);
        commit(&mut order.doc, edit, "reported");
        Ok(order)
    }

    /// Wraps a document received from elsewhere, checking that it is a readable work order.
    /// Appends a step to the log. Legality is judged by the fold, not here: a phone
    /// offline cannot know what others did, and the log must keep what happened.
    pub fn record(&mut self, id: &EntryId, kind: &EventKind, edit: &Edit) {
        self.write_event(id, kind, edit);
        commit(&mut self.doc, edit, kind.name());
    }

    /// The seed of an order made on phones from public facts: the first half is its document
    /// id, the second its Automerge actor.
    fn planned_seed(site: &SiteId, origin: &Origin<'_>) -> [u8; 32] {
        use sha2::{Digest as _, Sha256};
        let hash = Sha256::new().chain_update(site.as_str()).chain_update(b"\0");
        match origin {
            Origin::Plan { plan, occurrence } => hash
                .chain_update(b"houqin preventive maintenance\0")
                .chain_update(plan.as_str())
                .chain_update(b"\0")
                .chain_update(occurrence.to_be_bytes()),
            Origin::Alarm { meter, first } => {
                hash.chain_update(b"houqin meter alarm\0").chain_update(meter.as_str()).chain_update(b"\0").chain_update(first.as_str())
            }
        }
        .finalize()
        .into()
    }

    fn planned_id(site: &SiteId, origin: &Origin<'_>) -> DocumentId {
        let mut id = [0u8; 16];
        id.copy_from_slice(&Self::planned_seed(site, origin)[..16]);
        DocumentId::from_random(id)
    }

    /// The document id of occurrence `occurrence` of `plan`: cheap, for checking whether
    /// a phone has the order before making it.
    pub fn preventive_id(site: &SiteId, plan: &EntryId, occurrence: i64) -> DocumentId {
        Self::planned_id(site, &Origin::Plan { plan, occurrence })
    }

    /// The document id of the order a meter's run of readings out of limits raises, the run
    /// named by its first reading.
    pub fn alarm_id(site: &SiteId, meter: &EntryId, first: &EntryId) -> DocumentId {
        Self::planned_id(site, &Origin::Alarm { meter, first })
    }

    /// The actor that writes the order's first changes, when `doc` is a preventive order or
    /// a meter's alarm whose id `document` is derived for: anyone can compute it, so it
    /// belongs to no one (the server binds it to nobody and takes it only in the changes
    /// that create the order, checked by [`super::policy`]).
    pub fn planner_actor(document: &DocumentId, doc: &AutoCommit) -> Option<ActorId> {
        let header = super::read_header(doc).ok()?;
        if header.document_type != DocumentType::WorkOrder || header.created_by.as_str() != PLANNER {
            return None;
        }
        let view = WorkOrder::read_doc(doc).ok()?;
        let origin = match (&view.preventive, &view.alarm) {
            (Some(preventive), None) => Origin::Plan { plan: &preventive.plan, occurrence: preventive.occurrence },
            (None, Some(alarm)) => Origin::Alarm { meter: &alarm.meter, first: &alarm.first_reading },
            _ => return None,
        };
        let seed = Self::planned_seed(&header.site, &origin);
        (Self::planned_id(&header.site, &origin) == *document).then(|| ActorId::from(&seed[16..]))
    }

    /// The order for occurrence `occurrence` of `plan`, due at `due`, the same bytes on
    /// every phone (see the module documentation); `location` is the asset's place.
    pub fn preventive(
        site: &SiteId,
        plan: &MaintenancePlan,
        location: &str,
        occurrence: i64,
        starts: Timestamp,
        due: Timestamp,
    ) -> Result<(DocumentId, WorkOrder), DocumentError> {
        let origin = Origin::Plan { plan: &plan.id, occurrence };
        let new = NewWorkOrder {
            site: site.clone(),
            title: plan.title.clone(),
            description: String::new(),
            location: location.to_owned(),
            asset: Some(plan.asset.to_string()),
            category: Category::Other,
            priority: Priority::Normal,
            due_at: Some(due),
            source: None,
        };
        let event =
            EntryId::parse(&format!("pm-{occurrence}")).map_err(|_| invalid("occurrence", &occurrence.to_string(), "a whole number"))?;
        let (id, mut order, edit) = Self::planned(&new, &origin, &event, starts)?;
        let map = put_map(&mut order.doc, &ROOT, "preventive");
        put(&mut order.doc, &map, "plan", plan.id.as_str());
        put(&mut order.doc, &map, "occurrence", occurrence);
        commit(&mut order.doc, &edit, "scheduled");
        Ok((id, order))
    }

    /// The order a meter's run of readings out of limits raises, the run named by its first
    /// reading `first`: the same bytes on every phone that saw the run reach the meter's
    /// count (its time and values come from the meter and that reading alone). `location`
    /// is the place of the meter's asset.
    pub fn alarm(site: &SiteId, meter: &Meter, first: &Reading, location: &str) -> Result<(DocumentId, WorkOrder), DocumentError> {
        let origin = Origin::Alarm { meter: &meter.id, first: &first.id };
        let unit = if meter.unit.is_empty() { String::new() } else { format!(" {}", meter.unit) };
        let new = NewWorkOrder {
            site: site.clone(),
            title: format!("{}: {}{unit} ({})", meter.name, first.value, meter.limits_text()),
            description: String::new(),
            location: location.to_owned(),
            asset: Some(meter.asset.to_string()),
            category: match meter.kind {
                MeterKind::Electricity => Category::Electrical,
                MeterKind::Water | MeterKind::Gas => Category::Plumbing,
                MeterKind::Hours | MeterKind::Reading => Category::Other,
            },
            priority: Priority::High,
            due_at: None,
            source: None,
        };
        let event = EntryId::parse("alarm").expect("a valid entry id");
        let (id, mut order, edit) = Self::planned(&new, &origin, &event, first.at)?;
        let map = put_map(&mut order.doc, &ROOT, "alarm");
        put(&mut order.doc, &map, "meter", meter.id.as_str());
        put(&mut order.doc, &map, "first_reading", first.id.as_str());
        put(&mut order.doc, &map, "count", i64::from(meter.alarm_after.unwrap_or(1)));
        commit(&mut order.doc, &edit, "raised by a meter");
        Ok((id, order))
    }

    /// Reports `new` as the planner, at `at`, under the actor derived from `origin`.
    fn planned(
        new: &NewWorkOrder,
        origin: &Origin<'_>,
        event: &EntryId,
        at: Timestamp,
    ) -> Result<(DocumentId, WorkOrder, Edit), DocumentError> {
        let seed = Self::planned_seed(&new.site, origin);
        let edit = Edit::new(Username::parse(PLANNER).expect("a valid user name"), at);
        let order = WorkOrder::report(ActorId::from(&seed[16..]), new, event, &edit)?;
        Ok((Self::planned_id(&new.site, origin), order, edit))
    }

    /// Merges this order into `original` (the same fault reported twice): it is cancelled
    /// with a link to the one that stays.
    pub fn merge_into(&mut self, original: &str, event: &EntryId, edit: &Edit) {
        put(&mut self.doc, &ROOT, "duplicate_of", original);
        self.write_event(event, &EventKind::Cancelled { reason: format!("duplicate of {original}") }, edit);
        commit(&mut self.doc, edit, "merged as a duplicate");
    }

    pub fn set_priority(&mut self, priority: Priority, edit: &Edit) {
        put(&mut self.doc, &ROOT, "priority", priority.as_str());
        commit(&mut self.doc, edit, "priority");
    }

    pub fn set_category(&mut self, category: Category, edit: &Edit) {
        put(&mut self.doc, &ROOT, "category", category.as_str());
        commit(&mut self.doc, edit, "category");
    }

    pub fn set_due(&mut self, due: Timestamp, edit: &Edit) {
        put(&mut self.doc, &ROOT, "due_at", due.as_millis());
        commit(&mut self.doc, edit, "due time");
    }

    pub fn set_title(&mut self, title: &str, edit: &Edit) -> Result<(), DocumentError> {
        if title.trim().is_empty() {
            return Err(DocumentError::MissingField { field: "title".to_owned() });
        }
        put(&mut self.doc, &ROOT, "title", title.trim());
        commit(&mut self.doc, edit, "title");
        Ok(())
    }

    /// Replaces `delete` characters at `position` of the description with `insert`;
    /// concurrent edits of the description interleave instead of overwriting each other.
    pub fn edit_description(&mut self, position: usize, delete: isize, insert: &str, edit: &Edit) -> Result<(), DocumentError> {
        let Some((Value::Object(ObjType::Text), text)) = self.doc.get(&ROOT, "description")? else {
            return Err(DocumentError::WrongFieldType { field: "description".to_owned(), expected: "text" });
        };
        let length = self.doc.length(&text);
        if position > length {
            return Err(invalid("description position", &position.to_string(), "a position within the text"));
        }
        self.doc.splice_text(&text, position, delete, insert)?;
        commit(&mut self.doc, edit, "description");
        Ok(())
    }

    /// Adds a comment; either the text or the photo may be empty, not both.
    pub fn add_comment(&mut self, id: &EntryId, text: &str, photo: Option<&BlobRef>, edit: &Edit) -> Result<(), DocumentError> {
        if text.trim().is_empty() && photo.is_none() {
            return Err(DocumentError::MissingField { field: "comment".to_owned() });
        }
        let comments = map_at(&self.doc, &ROOT, "comments", "comments")?;
        if self.doc.get(&comments, id.as_str())?.is_some() {
            return Err(invalid("comment id", id.as_str(), "a new id; this one is taken"));
        }
        let comment = put_map(&mut self.doc, &comments, id.as_str());
        put(&mut self.doc, &comment, "user", edit.user.as_str());
        put(&mut self.doc, &comment, "at", edit.at.as_millis());
        put_text(&mut self.doc, &comment, "text", text);
        if let Some(photo) = photo {
            let map = put_map(&mut self.doc, &comment, "photo");
            photo.write(&mut self.doc, &map);
        }
        commit(&mut self.doc, edit, if photo.is_some() { "photo" } else { "comment" });
        Ok(())
    }

    pub fn add_part(&mut self, id: &EntryId, item: &str, quantity: Quantity, edit: &Edit) -> Result<(), DocumentError> {
        if quantity <= Quantity::ZERO {
            return Err(invalid("quantity", &quantity.to_string(), "a quantity above zero"));
        }
        let parts = map_at(&self.doc, &ROOT, "parts", "parts")?;
        let part = put_map(&mut self.doc, &parts, id.as_str());
        put(&mut self.doc, &part, "item", item);
        put(&mut self.doc, &part, "quantity", quantity.thousandths());
        put(&mut self.doc, &part, "user", edit.user.as_str());
        put(&mut self.doc, &part, "at", edit.at.as_millis());
        commit(&mut self.doc, edit, "part used");
        Ok(())
    }

    /// Changes how many of a part were used (0: none after all). The site's ledger follows
    /// through [`super::catalog::parts_to_issue`].
    pub fn correct_part(&mut self, part: &EntryId, quantity: Quantity, edit: &Edit) -> Result<(), DocumentError> {
        if quantity.is_negative() {
            return Err(invalid("quantity", &quantity.to_string(), "zero or more"));
        }
        let parts = map_at(&self.doc, &ROOT, "parts", "parts")?;
        let Some((Value::Object(ObjType::Map), entry)) = self.doc.get(&parts, part.as_str())? else {
            return Err(invalid("part", part.as_str(), "a part used on this order"));
        };
        put(&mut self.doc, &entry, "quantity", quantity.thousandths());
        commit(&mut self.doc, edit, "part corrected");
        Ok(())
    }

    /// Adds a contractor's invoice: an amount above zero from a named vendor.
    pub fn add_invoice(&mut self, invoice: &Invoice, edit: &Edit) -> Result<(), DocumentError> {
        if invoice.amount <= Money::ZERO || !invoice.amount.is_plausible() {
            return Err(invalid("amount", &invoice.amount.to_input(), "an amount above zero, at most ¥100,000,000"));
        }
        if invoice.vendor.trim().is_empty() {
            return Err(DocumentError::MissingField { field: "vendor".to_owned() });
        }
        let invoices = self.map_made("invoices")?;
        if self.doc.get(&invoices, invoice.id.as_str())?.is_some() {
            return Err(invalid("invoice id", invoice.id.as_str(), "a new id; this one is taken"));
        }
        let entry = put_map(&mut self.doc, &invoices, invoice.id.as_str());
        put(&mut self.doc, &entry, "amount", invoice.amount.fen());
        put(&mut self.doc, &entry, "vendor", invoice.vendor.trim());
        put(&mut self.doc, &entry, "note", invoice.note.trim());
        put(&mut self.doc, &entry, "user", edit.user.as_str());
        put(&mut self.doc, &entry, "at", edit.at.as_millis());
        if let Some(photo) = &invoice.photo {
            let map = put_map(&mut self.doc, &entry, "photo");
            photo.write(&mut self.doc, &map);
        }
        commit(&mut self.doc, edit, "invoice");
        Ok(())
    }

    /// Sets the time `person` worked on the order (and, optionally, its rate), replacing
    /// what the steps give: the latest correction for a person stands.
    pub fn correct_labour(&mut self, person: &Username, minutes: i64, per_hour: Option<Money>, edit: &Edit) -> Result<(), DocumentError> {
        if !(0..=MAX_LABOUR_MINUTES).contains(&minutes) {
            return Err(invalid("minutes", &minutes.to_string(), "from 0 to 10,000 hours in minutes"));
        }
        if per_hour.is_some_and(|rate| !rate.is_plausible()) {
            return Err(invalid("rate", &per_hour.unwrap_or_default().to_input(), "zero to ¥100,000,000"));
        }
        let labour = self.map_made("labour")?;
        let entry = put_map(&mut self.doc, &labour, person.as_str());
        put(&mut self.doc, &entry, "minutes", minutes);
        if let Some(per_hour) = per_hour {
            put(&mut self.doc, &entry, "per_hour", per_hour.fen());
        }
        put(&mut self.doc, &entry, "user", edit.user.as_str());
        put(&mut self.doc, &entry, "at", edit.at.as_millis());
        commit(&mut self.doc, edit, "labour corrected");
        Ok(())
    }

    /// The map at `key` of the root, made if an order from before it existed lacks it.
    fn map_made(&mut self, key: &str) -> Result<automerge::ObjId, DocumentError> {
        match self.doc.get(&ROOT, key)? {
            Some((Value::Object(ObjType::Map), map)) => Ok(map),
            Some(_) => Err(DocumentError::WrongFieldType { field: key.to_owned(), expected: "a map" }),
            None => Ok(put_map(&mut self.doc, &ROOT, key)),
        }
    }

    /// Reads the whole order; a malformed field is an error naming it, never a panic.
    pub fn read_doc(doc: &AutoCommit) -> Result<WorkOrderView, DocumentError> {
        let (header, root) = read_root(doc, DocumentType::WorkOrder)?;
        let source = match root.optional_map("source")? {
            None => None,
            Some(_) => {
                let source = root.fields("source")?;
                Some(Source { inspection: source.str("inspection")?, item: source.str("item")? })
            }
        };
        let mut unreadable = Vec::new();
        let bad = &mut unreadable;
        Ok(WorkOrderView {
            header,
            title: root.str("title")?,
            description: root.optional_text("description")?.unwrap_or_default(),
            location: root.str("location")?,
            asset: root.optional_str("asset")?,
            category: root.optional_str("category")?.map(|category| Category::parse(&category)).transpose()?.unwrap_or(Category::Other),
            priority: Priority::parse(&root.str("priority")?)?,
            due_at: root.optional_time("due_at")?,
            source,
            events: root.entries_forgiving("events", read_event, bad),
            comments: root.entries_forgiving(
                "comments",
                |id, comment| {
                    let photo = match comment.optional_map("photo")? {
                        Some(_) => Some(BlobRef::read(&comment.fields("photo")?)?),
                        None => None,
                    };
                    Ok(Comment {
                        id,
                        user: comment.user("user")?,
                        at: comment.time("at")?,
                        text: comment.optional_text("text")?.unwrap_or_default(),
                        photo,
                    })
                },
                bad,
            ),
            parts: root.entries_forgiving(
                "parts",
                |id, part| {
                    Ok(PartUsed {
                        id,
                        item: part.str("item")?,
                        quantity: Quantity::from_thousandths(part.i64("quantity")?),
                        user: part.user("user")?,
                        at: part.time("at")?,
                    })
                },
                bad,
            ),
            labour: match root.optional_map("labour")? {
                Some(_) => root.keyed_forgiving("labour", read_labour, bad),
                None => Vec::new(),
            },
            invoices: match root.optional_map("invoices")? {
                Some(_) => root.entries_forgiving("invoices", read_invoice, bad),
                None => Vec::new(),
            },
            duplicate_of: root.optional_str("duplicate_of")?,
            preventive: match root.optional_map("preventive")? {
                Some(_) => {
                    let preventive = root.fields("preventive")?;
                    Some(Preventive { plan: preventive.id("plan")?, occurrence: preventive.i64("occurrence")? })
                }
                None => None,
            },
            alarm: match root.optional_map("alarm")? {
                Some(_) => {
                    let alarm = root.fields("alarm")?;
                    Some(MeterAlarm { meter: alarm.id("meter")?, first_reading: alarm.id("first_reading")?, count: alarm.i64("count")? })
                }
                None => None,
            },
            unreadable,
        })
    }

    fn write_event(&mut self, id: &EntryId, kind: &EventKind, edit: &Edit) {
        let events = map_at(&self.doc, &ROOT, "events", "events").expect("a work order has an events map");
        let event = put_map(&mut self.doc, &events, id.as_str());
        put(&mut self.doc, &event, "kind", kind.name());
        put(&mut self.doc, &event, "user", edit.user.as_str());
        put(&mut self.doc, &event, "at", edit.at.as_millis());
        match kind {
            EventKind::Reported | EventKind::Acknowledged | EventKind::Started => {}
            EventKind::Assigned { assignee } => put(&mut self.doc, &event, "assignee", assignee.as_str()),
            EventKind::Contracted { vendor } => put(&mut self.doc, &event, "vendor", vendor.as_str()),
            EventKind::Paused { reason } | EventKind::Reopened { reason } | EventKind::Cancelled { reason } => {
                put(&mut self.doc, &event, "reason", reason.as_str());
            }
            EventKind::Completed { notes } => put(&mut self.doc, &event, "notes", notes.as_str()),
            EventKind::Verified { rating, comment } => {
                put(&mut self.doc, &event, "rating", i64::from(rating.stars()));
                put(&mut self.doc, &event, "comment", comment.as_str());
            }
            EventKind::Resolved { flagged, decision } => {
                put(&mut self.doc, &event, "flagged", flagged.as_str());
                put(&mut self.doc, &event, "decision", decision.as_str());
            }
        }
    }
}

/// The most time one correction may give a person on one order: 10,000 hours.
pub const MAX_LABOUR_MINUTES: i64 = 10_000 * 60;

fn read_labour(person: &str, entry: &Fields<'_>) -> Result<LabourCorrection, DocumentError> {
    let minutes = entry.i64("minutes")?;
    if !(0..=MAX_LABOUR_MINUTES).contains(&minutes) {
        return Err(invalid("minutes", &minutes.to_string(), "from 0 to 10,000 hours in minutes"));
    }
    let per_hour = entry.optional_i64("per_hour")?.map(Money::from_fen);
    if per_hour.is_some_and(|rate| !rate.is_plausible()) {
        return Err(invalid("per_hour", &per_hour.unwrap_or_default().to_input(), "zero to ¥100,000,000"));
    }
    Ok(LabourCorrection {
        person: Username::parse(person).map_err(|_| invalid("labour", person, "a user name"))?,
        minutes,
        per_hour,
        user: entry.user("user")?,
        at: entry.time("at")?,
    })
}

fn read_invoice(id: EntryId, entry: &Fields<'_>) -> Result<Invoice, DocumentError> {
    let amount = Money::from_fen(entry.i64("amount")?);
    if amount <= Money::ZERO || !amount.is_plausible() {
        return Err(invalid("amount", &amount.to_input(), "an amount above zero, at most ¥100,000,000"));
    }
    let photo = match entry.optional_map("photo")? {
        Some(_) => Some(BlobRef::read(&entry.fields("photo")?)?),
        None => None,
    };
    Ok(Invoice {
        id,
        amount,
        vendor: entry.str("vendor")?,
        note: entry.optional_str("note")?.unwrap_or_default(),
        photo,
        user: entry.user("user")?,
        at: entry.time("at")?,
    })
}

fn read_event(id: EntryId, event: &Fields<'_>) -> Result<Event, DocumentError> {
    let kind = match event.str("kind")?.as_str() {
        "reported" => EventKind::Reported,
        "assigned" => EventKind::Assigned { assignee: event.user("assignee")? },
        "contracted" => EventKind::Contracted { vendor: event.id("vendor")? },
        "acknowledged" => EventKind::Acknowledged,
        "started" => EventKind::Started,
        "paused" => EventKind::Paused { reason: event.str("reason")? },
        "completed" => EventKind::Completed { notes: event.str("notes")? },
        "verified" => EventKind::Verified { rating: Rating::new(event.i64("rating")?)?, comment: event.str("comment")? },
        "reopened" => EventKind::Reopened { reason: event.str("reason")? },
        "cancelled" => EventKind::Cancelled { reason: event.str("reason")? },
        "resolved" => EventKind::Resolved { flagged: event.id("flagged")?, decision: event.str("decision")? },
        other => return Err(invalid(&event.path("kind"), other, "a work order event such as assigned or completed")),
    };
    Ok(Event { id, kind, user: event.user("user")?, at: event.time("at")? })
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    #[test]
    fn an_assets_type_names_the_trade_that_repairs_it() {
        for (asset_type, category) in [
            ("extinguisher", Some(Category::FireSafety)),
            ("smoke_detector", Some(Category::FireSafety)),
            ("air_conditioner", Some(Category::Hvac)),
            ("water_heater", Some(Category::Plumbing)),
            ("ceiling_light", Some(Category::Electrical)),
            ("fire_door", Some(Category::FireSafety)),
            ("door", Some(Category::Building)),
            ("projector", Some(Category::Furniture)),
            ("vehicle", Some(Category::Vehicle)),
            ("thing", None),
        ] {
            assert_eq!(Category::for_asset_type(asset_type), category, "{asset_type}");
        }
    }

    /// `log` has one event per line: `<time> <id> <kind> [argument]`.
    fn check(log: &str, expected: Expect) {
        let events: Vec<Event> = log
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(|line| {
                let parts: Vec<&str> = line.split_whitespace().collect();
                let argument = parts.get(3).copied().unwrap_or("x");
                let kind = match parts[2] {
                    "reported" => EventKind::Reported,
                    "assigned" => EventKind::Assigned { assignee: Username::parse(argument).unwrap() },
                    "acknowledged" => EventKind::Acknowledged,
                    "started" => EventKind::Started,
                    "paused" => EventKind::Paused { reason: argument.into() },
                    "completed" => EventKind::Completed { notes: argument.into() },
                    "verified" => EventKind::Verified { rating: Rating::new(argument.parse().unwrap()).unwrap(), comment: String::new() },
                    "reopened" => EventKind::Reopened { reason: argument.into() },
                    "cancelled" => EventKind::Cancelled { reason: argument.into() },
                    "resolved" => EventKind::Resolved { flagged: EntryId::parse(argument).unwrap(), decision: "keep".into() },
                    other => panic!("unknown kind {other}"),
                };
                Event {
                    id: EntryId::parse(parts[1]).unwrap(),
                    kind,
                    user: Username::parse("manager").unwrap(),
                    at: Timestamp::from_millis(parts[0].parse().unwrap()),
                }
            })
            .collect();
        let state = fold(Timestamp::from_millis(0), &events);
        let mut rendered = format!(
            "{} assignee={} response={:?} repair={:?} rating={:?} reopened={}",
            state.status.as_str(),
            state.assignee.as_ref().map_or("-", |user| user.as_str()),
            state.response_millis(),
            state.repair_millis(),
            state.rating.map(Rating::stars),
            state.reopened,
        );
        for flag in &state.flags {
            rendered.push_str(&format!(
                "\nflag {} at {}: {:?}{}",
                flag.event,
                flag.status.as_str(),
                flag.problem,
                flag.resolution.as_ref().map_or(String::new(), |resolution| format!(" resolved by {resolution}"))
            ));
        }
        expected.assert_eq(&rendered);
    }

    #[test]
    fn a_repair_from_report_to_verification() {
        check(
            "0 a reported
             60000 b assigned tech
             300000 c acknowledged
             900000 d started
             4500000 e completed fixed
             5000000 f verified 5",
            expect!["verified assignee=tech response=Some(300000) repair=Some(4500000) rating=Some(5) reopened=0"],
        );
    }

    #[test]
    fn events_apply_in_time_order_not_arrival_order() {
        check(
            "20 c started
             0 a reported
             10 b assigned tech",
            expect!["in_progress assignee=tech response=Some(20) repair=None rating=None reopened=0"],
        );
    }

    #[test]
    fn merged_steps_that_no_longer_fit_are_kept_and_flagged() {
        // Completed on one phone while cancelled on another; then completed twice.
        check(
            "0 a reported
             10 b assigned tech
             20 c cancelled duplicate
             30 d completed fixed
             40 e completed fixed-again",
            expect![[r#"
                cancelled assignee=tech response=None repair=None rating=None reopened=0
                flag d at cancelled: IllegalTransition { event: "completed" }
                flag e at cancelled: IllegalTransition { event: "completed" }"#]],
        );
        check(
            "0 a reported
             10 b started
             20 c completed one
             20 d completed two
             30 e resolved d",
            expect![[r#"
                completed assignee=manager response=Some(10) repair=Some(20) rating=None reopened=0
                flag d at completed: IllegalTransition { event: "completed" } resolved by e"#]],
        );
    }

    #[test]
    fn a_reopened_order_measures_its_final_completion() {
        check(
            "0 a reported
             10 b assigned tech
             20 c started
             30 d completed first
             40 e reopened noisy
             50 f started
             60 g completed second
             70 h resolved zz
             80 i reported",
            expect![[r#"
                completed assignee=tech response=Some(20) repair=Some(60) rating=None reopened=1
                flag h at completed: ResolvesNothing { flagged: EntryId("zz") }
                flag i at completed: DuplicateReport"#]],
        );
    }
}

#[cfg(test)]
mod reading {
    use automerge::transaction::Transactable as _;

    use super::*;

    #[test]
    fn photos_come_as_comments_and_a_comment_needs_text_or_a_photo() {
        let edit = Edit::new(Username::parse("tech").unwrap(), Timestamp::from_millis(0));
        let new = NewWorkOrder {
            site: SiteId::parse("hq").unwrap(),
            title: "水管漏水".into(),
            description: String::new(),
            location: "hq-b1-toilet".into(),
            asset: None,
            category: Category::Plumbing,
            priority: Priority::High,
            due_at: None,
            source: None,
        };
        let mut order = WorkOrder::report(ActorId::from([1; 16]), &new, &EntryId::parse("e1").unwrap(), &edit).unwrap();
        let photo = BlobRef::new(&"0f".repeat(32), 120_000, "image/webp").unwrap();
        order.add_comment(&EntryId::parse("c1").unwrap(), "", Some(&photo), &edit).unwrap();
        order.add_comment(&EntryId::parse("c2").unwrap(), "阀门已关闭", None, &edit).unwrap();
        let empty = order.add_comment(&EntryId::parse("c3").unwrap(), "  ", None, &edit).unwrap_err();
        assert_eq!(empty.to_string(), "field \"comment\" is missing");
        let view = order.read().unwrap();
        assert_eq!(view.comments[0].photo.as_ref(), Some(&photo));
        assert_eq!((view.comments[1].text.as_str(), view.comments[1].photo.as_ref()), ("阀门已关闭", None));
    }

    /// Given to a contractor, the order is theirs: technicians are offered no step, the
    /// contractor's start does not make it anyone's, and giving it to a technician after
    /// takes it back.
    #[test]
    fn an_order_given_to_a_contractor_is_theirs_until_given_to_a_technician() {
        let at = |user: &str, millis: i64| Edit::new(Username::parse(user).unwrap(), Timestamp::from_millis(millis));
        let new = NewWorkOrder {
            site: SiteId::parse("hq").unwrap(),
            title: "电梯困人".into(),
            description: String::new(),
            location: "hq-a".into(),
            asset: None,
            category: Category::Other,
            priority: Priority::Urgent,
            due_at: None,
            source: None,
        };
        let mut order = WorkOrder::report(ActorId::from([1; 16]), &new, &EntryId::parse("e1").unwrap(), &at("inspector", 0)).unwrap();
        let lifts = EntryId::parse("lifts").unwrap();
        order.record(&EntryId::parse("e2").unwrap(), &EventKind::Contracted { vendor: lifts.clone() }, &at("manager", 10));
        let (tech, manager) = (Username::parse("tech").unwrap(), Username::parse("manager").unwrap());
        let view = order.read().unwrap();
        assert_eq!((view.state().status, view.state().vendor.as_ref(), view.state().assignee), (Status::Assigned, Some(&lifts), None));
        assert_eq!(view.actions(&tech, Role::Technician), [], "a technician does not take a contractor's work");
        assert!(view.actions(&manager, Role::Manager).contains(&Action::Assign));
        order.record(&EntryId::parse("e3").unwrap(), &EventKind::Started, &at(CONTRACTOR, 20));
        let state = order.read().unwrap().state();
        assert_eq!((state.status, state.assignee, state.first_response_at), (Status::InProgress, None, Some(Timestamp::from_millis(20))));
        order.record(&EntryId::parse("e4").unwrap(), &EventKind::Assigned { assignee: tech.clone() }, &at("manager", 30));
        let state = order.read().unwrap().state();
        assert_eq!((state.status, state.assignee.as_ref(), state.vendor), (Status::Assigned, Some(&tech), None));
    }

    #[test]
    fn out_of_range_values_written_by_another_client_are_typed_errors() {
        let edit = Edit::new(Username::parse("manager").unwrap(), Timestamp::from_millis(0));
        let new = NewWorkOrder {
            site: SiteId::parse("hq").unwrap(),
            title: "门锁损坏".into(),
            description: String::new(),
            location: "hq-b2".into(),
            asset: None,
            category: Category::Building,
            priority: Priority::Low,
            due_at: None,
            source: None,
        };
        let order = WorkOrder::report(ActorId::from([1; 16]), &new, &EntryId::parse("e1").unwrap(), &edit).unwrap();
        let mut order = order.into_doc();
        let events = map_at(&order, &ROOT, "events", "events").unwrap();
        let verified = order.put_object(&events, "e2", ObjType::Map).unwrap();
        for (key, value) in [("kind", "verified"), ("user", "manager"), ("comment", "")] {
            order.put(&verified, key, value).unwrap();
        }
        order.put(&verified, "at", 5i64).unwrap();
        order.put(&verified, "rating", 9i64).unwrap();
        // A bad event hides itself, named; a bad field of the order makes it unreadable.
        let view = WorkOrder::read_doc(&order).unwrap();
        assert_eq!(view.events.len(), 1);
        assert_eq!(view.unreadable[0].error.to_string(), "invalid rating \"9\": a whole number from 1 to 5");
        order.put(&ROOT, "priority", "whenever").unwrap();
        order.put(&verified, "rating", 5i64).unwrap();
        assert_eq!(
            WorkOrder::from_doc(order).err().unwrap().to_string(),
            "invalid priority \"whenever\": one of low, normal, high, urgent"
        );
    }
}

#[cfg(test)]
mod workflow {
    use super::*;
    use crate::document::catalog::Every;

    fn user(name: &str) -> Username {
        Username::parse(name).unwrap()
    }

    fn edit(name: &str, at: i64) -> Edit {
        Edit::new(user(name), Timestamp::from_millis(at))
    }

    fn plan() -> MaintenancePlan {
        MaintenancePlan {
            id: EntryId::parse("pm-ac").unwrap(),
            asset: EntryId::parse("ac-101").unwrap(),
            title: "空调滤网清洗".into(),
            every: Every::Months(3),
            start: Timestamp::from_millis(0),
        }
    }

    #[test]
    fn two_phones_generating_one_occurrence_make_one_order() {
        let site = SiteId::parse("hq").unwrap();
        let (starts, due) = (Timestamp::from_day(1), Timestamp::from_day(90));
        let (first_id, mut first) = WorkOrder::preventive(&site, &plan(), "admin-101", 1, starts, due).unwrap();
        let (second_id, mut second) = WorkOrder::preventive(&site, &plan(), "admin-101", 1, starts, due).unwrap();
        assert_eq!(first_id, second_id);
        assert_eq!(first.doc_mut().save(), second.doc_mut().save(), "byte for byte");
        // Each phone then works on it under its own actor; the merge has one report.
        let mut technician = WorkOrder::from_doc(first.doc().clone().with_actor(ActorId::from([7; 16]))).unwrap();
        technician.record(&EntryId::parse("e-start").unwrap(), &EventKind::Started, &edit("tech", 86_400_500));
        let mut merged = second.into_doc();
        merged.merge(technician.doc_mut()).unwrap();
        let view = WorkOrder::from_doc(merged).unwrap().read().unwrap();
        assert_eq!(view.events.iter().filter(|event| event.kind == EventKind::Reported).count(), 1);
        assert_eq!(view.state().flags, []);
        assert_eq!(view.state().status, Status::InProgress);
        assert_eq!(view.preventive, Some(Preventive { plan: EntryId::parse("pm-ac").unwrap(), occurrence: 1 }));
        assert_eq!((view.header.created_by.as_str(), view.due_at, view.asset.as_deref()), (PLANNER, Some(due), Some("ac-101")));

        assert_eq!(WorkOrder::preventive_id(&site, &plan().id, 1), first_id);
        let (other_id, _) = WorkOrder::preventive(&site, &plan(), "admin-101", 2, starts, due).unwrap();
        let (elsewhere_id, _) = WorkOrder::preventive(&SiteId::parse("plant2").unwrap(), &plan(), "admin-101", 1, starts, due).unwrap();
        assert_ne!(other_id, first_id);
        assert_ne!(elsewhere_id, first_id);
    }

    #[test]
    fn only_an_order_cancelled_as_spam_is_spam() {
        let new = NewWorkOrder {
            site: SiteId::parse("hq").unwrap(),
            title: "加微信".into(),
            description: String::new(),
            location: "admin-101".into(),
            asset: None,
            category: Category::Other,
            priority: Priority::Normal,
            due_at: None,
            source: None,
        };
        let report = |reason: &str| {
            let mut order =
                WorkOrder::report(ActorId::from([1; 16]), &new, &EntryId::parse("e1").unwrap(), &edit("public", 1_000)).unwrap();
            assert!(!order.read().unwrap().is_spam(), "open");
            order.record(&EntryId::parse("e2").unwrap(), &EventKind::Cancelled { reason: reason.into() }, &edit("manager", 2_000));
            order
        };
        assert!(report(crate::public::SPAM).read().unwrap().is_spam());
        assert!(!report("重复报修").read().unwrap().is_spam(), "cancelled for another reason");
    }

    #[test]
    fn people_are_offered_only_the_steps_their_part_allows() {
        let new = NewWorkOrder {
            site: SiteId::parse("hq").unwrap(),
            title: "空调不制冷".into(),
            description: String::new(),
            location: "admin-101".into(),
            asset: None,
            category: Category::Hvac,
            priority: Priority::High,
            due_at: None,
            source: None,
        };
        let mut order = WorkOrder::report(ActorId::from([1; 16]), &new, &EntryId::parse("e1").unwrap(), &edit("inspector", 1_000)).unwrap();
        let offered = |order: &WorkOrder, name: &str, role: Role| order.read().unwrap().actions(&user(name), role);
        use Action::*;
        assert_eq!(offered(&order, "manager", Role::Manager), [Assign, Contract, Start, Cancel, MergeInto]);
        assert_eq!(offered(&order, "tech", Role::Technician), [Start]);
        assert_eq!(offered(&order, "inspector", Role::Inspector), [Cancel]);
        assert_eq!(offered(&order, "store", Role::Storekeeper), []);
        order.record(&EntryId::parse("e2").unwrap(), &EventKind::Assigned { assignee: user("tech") }, &edit("manager", 2_000));
        assert_eq!(offered(&order, "tech", Role::Technician), [Acknowledge, Start]);
        assert_eq!(offered(&order, "tech2", Role::Technician), [], "assigned to someone else");
        assert_eq!(offered(&order, "inspector", Role::Inspector), [], "taken: no longer withdrawn by the reporter");
        order.record(&EntryId::parse("e3").unwrap(), &EventKind::Started, &edit("tech", 3_000));
        assert_eq!(offered(&order, "tech", Role::Technician), [Pause, Complete]);
        order.record(&EntryId::parse("e4").unwrap(), &EventKind::Completed { notes: "换了电容".into() }, &edit("tech", 4_000));
        assert_eq!(offered(&order, "tech", Role::Technician), []);
        assert_eq!(offered(&order, "inspector", Role::Inspector), [Verify, Reopen]);
        assert_eq!(offered(&order, "manager", Role::Manager), [Verify, Reopen]);

        let mut duplicate = WorkOrder::report(ActorId::from([2; 16]), &new, &EntryId::parse("d1").unwrap(), &edit("dorm", 1_500)).unwrap();
        duplicate.merge_into("automerge:original", &EntryId::parse("d2").unwrap(), &edit("manager", 2_500));
        let view = duplicate.read().unwrap();
        assert_eq!((view.state().status, view.duplicate_of.as_deref()), (Status::Cancelled, Some("automerge:original")));
        assert_eq!(Priority::Urgent.default_due_millis(), 4 * 60 * 60 * 1000);
    }
}
