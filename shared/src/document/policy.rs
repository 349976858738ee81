//! Who may write what: the rule every change to a document is held to.
//!
//! The server checks each message of changes against it before it keeps anything
//! ([`check`]); the app offers only the steps it allows. The rule is about authority, not
//! order: whether a role may take a step at all (dispatch is a manager's, a count a store
//! keeper's) and whether a change speaks only for its sender. Whether a step fits the state
//! it lands in stays with each type's fold (a work order's flags), because a phone offline
//! cannot know what others did meanwhile, and what happened must still be recorded.
//!
//! The check reads what the new changes wrote (every operation; for a new document,
//! Automerge's diff), so its cost follows the size of the changes, and holds each touched
//! path to the type's table:
//! - **Header** (`type`, `schema`, `site`, `created_by`, `created_at`) and whatever else a
//!   type fixes at creation (a round's checklist, a stocktake's snapshot) are written once.
//! - **Names.** A field that names the person doing something (`user`, `created_by`,
//!   `counter`, `submitted_by`, `discarded_by`, a recount request) must name the sender.
//!   Two exceptions: a preventive order's `planner`, allowed only in the changes that
//!   create the document whose id is derived from its plan and occurrence (its actor,
//!   derived too, writes nothing after); and a settled conflict, whose kept value is a
//!   copy of one already there, with the name of who gave it.
//! - **Entries** of logs (events, ledger movements, counts, comments, notes) are added,
//!   never changed or removed.
//! - Finally the document must still read as its type: a change that leaves a wrongly typed
//!   or missing field, or an unknown value, is refused like any other.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use automerge::{AutoCommit, ChangeHash, PatchAction, Prop, ROOT, ReadDoc as _, ScalarValue, Value};

use super::catalog::SiteCatalog;
use super::food_samples::FoodSamples;
use super::inspection::Inspection;
use super::stocktake::Stocktake;
use super::template::ChecklistTemplate;
use super::work_order::{PLANNER, WorkOrder};
use super::{DocumentError, DocumentType, Header, UnreadableEntry, read_header};
use crate::directory::{Role, Username};
use crate::protocol::DocumentId;

/// Who sends the changes, and their role at the document's site.
#[derive(Clone, Copy, Debug)]
pub struct Writer<'a> {
    pub user: &'a Username,
    pub role: Role,
}

/// Why changes are refused. Its [`Refusal::code`] is the stable word the app words in the
/// reader's language; the message is for logs and other clients.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("role {role} may not {what}")]
    Role { role: Role, what: &'static str },
    #[error("{field} names {named}, but the changes are {writer}'s")]
    Name { field: String, named: String, writer: Username },
    #[error("{field} is set when the document is created and never changed")]
    Fixed { field: String },
    #[error("{what} is kept as first written: add a new entry instead")]
    Written { what: String },
    #[error("the document would no longer read: {0}")]
    Unreadable(DocumentError),
    /// Its size is the host's to judge (what it stores of the document); see
    /// [`MAX_DOCUMENT_BYTES`].
    #[error("the document already holds {bytes} bytes, past the {MAX_DOCUMENT_BYTES} a document may grow to: start a new one")]
    TooLarge { bytes: u64 },
}

/// What a document may hold, stored, before changes to it are refused: a site's catalog
/// of 20,000 entries or a year of a building's work order history hold a few megabytes.
/// A document is loaded whole into the server's memory (several times its stored size),
/// so this bounds what one document costs, with a message's own bound on top.
pub const MAX_DOCUMENT_BYTES: u64 = 32 << 20;

/// Every [`Refusal::code`], in the order of `Refusal`'s variants.
pub const CODES: [&str; 6] = ["role", "name", "fixed", "written", "unreadable", "too_large"];

impl Refusal {
    /// One of [`CODES`].
    pub const fn code(&self) -> &'static str {
        let index = match self {
            Refusal::Role { .. } => 0,
            Refusal::Name { .. } => 1,
            Refusal::Fixed { .. } => 2,
            Refusal::Written { .. } => 3,
            Refusal::Unreadable(_) => 4,
            Refusal::TooLarge { .. } => 5,
        };
        CODES[index]
    }
}

/// Fields that name the person who did what they record.
const PERSON_FIELDS: [&str; 5] = ["user", "created_by", "counter", "submitted_by", "discarded_by"];

/// Every document's header: written by the change that creates it, then never again.
const HEADER: [&str; 5] = ["type", "schema", "site", "created_by", "created_at"];

/// What one operation of the new changes did, and where: the keys from the root down to
/// the field (for text, to the text itself).
#[derive(Clone, Debug, PartialEq)]
struct Write {
    path: Vec<String>,
    what: Written,
}

#[derive(Clone, Debug, PartialEq)]
enum Written {
    Scalar(ScalarValue),
    Object,
    Removed,
    /// An edit inside text or a list.
    Sequence,
}

impl Write {
    fn at(&self, index: usize) -> &str {
        self.path.get(index).map_or("", String::as_str)
    }

    fn shown(&self) -> String {
        self.path.join(".")
    }
}

/// Checks the changes `after` holds beyond `before` (the document as stored, at heads
/// `since`; empty for a new one), sent by `writer`, against the rule for the document's
/// type.
pub fn check(
    document: &DocumentId,
    before: &AutoCommit,
    since: &[ChangeHash],
    after: &mut AutoCommit,
    writer: Writer<'_>,
) -> Result<(), Refusal> {
    let creating = since.is_empty();
    let writes = writes(after, since);
    if !creating && let Some(write) = writes.iter().find(|write| write.path.len() == 1 && HEADER.contains(&write.at(0))) {
        return Err(Refusal::Fixed { field: write.at(0).to_owned() });
    }
    let header = read_header(after).map_err(Refusal::Unreadable)?;
    let stored = if creating { None } else { Some(read_header(before).map_err(Refusal::Unreadable)?) };
    if let Some(stored) = &stored
        && stored != &header
    {
        let field = HEADER.into_iter().find(|field| field_differs(stored, &header, field)).unwrap_or("header");
        return Err(Refusal::Fixed { field: field.to_owned() });
    }
    // A preventive order's planner writes the changes that create it, and nothing after.
    let planner = WorkOrder::planner_actor(document, after);
    if let Some(planner) = &planner
        && !creating
        && after.get_changes(since).iter().any(|change| change.actor_id() == planner)
    {
        return Err(Refusal::Name { field: "actor".to_owned(), named: PLANNER.to_owned(), writer: writer.user.clone() });
    }
    let planner_allowed = creating && planner.is_some();
    for write in &writes {
        check_name(write, writer, planner_allowed).or_else(|refusal| keeps_a_name(before, after, write).then_some(()).ok_or(refusal))?;
    }
    let context = Context { before, header: &header, creating, writer };
    let rule = match header.document_type {
        DocumentType::SiteCatalog => catalog,
        DocumentType::ChecklistTemplate => template,
        DocumentType::Inspection => inspection,
        DocumentType::WorkOrder => work_order,
        DocumentType::Stocktake => stocktake,
        DocumentType::FoodSamples => food_samples,
    };
    if creating {
        creation(&context, after)?;
    }
    for write in writes.iter().filter(|write| !(write.path.len() == 1 && HEADER.contains(&write.at(0)))) {
        rule(&context, write)?;
    }
    readable(header.document_type, after, &writes).map_err(Refusal::Unreadable)
}

fn field_differs(stored: &Header, now: &Header, field: &str) -> bool {
    match field {
        "type" => stored.document_type != now.document_type,
        "schema" => stored.schema != now.schema,
        "site" => stored.site != now.site,
        "created_by" => stored.created_by != now.created_by,
        _ => stored.created_at != now.created_at,
    }
}

/// What the changes after `since` wrote, as writes at paths. A new document is read from
/// Automerge's diff, a sixth of the cost of decoding every change; where its changes hold
/// concurrent values (a conflict) the diff shows only the winner, so then, as for changes
/// to a stored document (whose diff would walk the whole document), every operation of
/// the new changes is read instead.
fn writes(after: &mut AutoCommit, since: &[ChangeHash]) -> Vec<Write> {
    if !since.is_empty() {
        return writes_of_every_operation(after, since);
    }
    let heads = after.get_heads();
    // The document's own diff, not `AutoCommit::diff`, which keeps the patches it made.
    let patches = after.document().diff(since, &heads);
    let conflicted = patches.iter().any(|patch| {
        matches!(
            patch.action,
            PatchAction::Conflict { .. } | PatchAction::PutMap { conflict: true, .. } | PatchAction::PutSeq { conflict: true, .. }
        )
    });
    if conflicted {
        return writes_of_every_operation(after, since);
    }
    patches
        .into_iter()
        .map(|patch| {
            let mut path: Vec<String> = patch.path.into_iter().map(|(_, prop)| prop_text(prop)).collect();
            let what = match patch.action {
                PatchAction::PutMap { key, value: (value, _), .. } => {
                    path.push(key);
                    match value {
                        Value::Scalar(scalar) => Written::Scalar(scalar.into_owned()),
                        Value::Object(_) => Written::Object,
                    }
                }
                PatchAction::DeleteMap { key } => {
                    path.push(key);
                    Written::Removed
                }
                PatchAction::Increment { prop, .. } => {
                    path.push(prop_text(prop));
                    Written::Sequence
                }
                // Inside text or a list: the write is at the sequence itself.
                _ => Written::Sequence,
            };
            Write { path, what }
        })
        .collect()
}

fn prop_text(prop: Prop) -> String {
    match prop {
        Prop::Map(key) => key,
        Prop::Seq(index) => index.to_string(),
    }
}

/// Reads every operation of the changes after `since` as a write at a path.
fn writes_of_every_operation(after: &mut AutoCommit, since: &[ChangeHash]) -> Vec<Write> {
    let changes = after.get_changes(since);
    let mut paths: HashMap<String, Vec<String>> = HashMap::new();
    let mut writes = Vec::new();
    for change in changes {
        for op in change.decode().operations {
            let object = op.obj.to_string();
            let path = paths.entry(object.clone()).or_insert_with(|| path_of(after, &object)).clone();
            let write = match op.key {
                automerge::legacy::Key::Map(key) => {
                    let mut path = path;
                    path.push(key.to_string());
                    let what = match op.action {
                        automerge::legacy::OpType::Put(value) => Written::Scalar(value),
                        automerge::legacy::OpType::Make(_) => Written::Object,
                        automerge::legacy::OpType::Delete => Written::Removed,
                        _ => Written::Sequence,
                    };
                    Write { path, what }
                }
                automerge::legacy::Key::Seq(_) => Write { path, what: Written::Sequence },
            };
            writes.push(write);
        }
    }
    writes
}

/// The keys from the root to an object; list positions as numbers. An object the document
/// cannot place is given a path no rule allows.
fn path_of(doc: &AutoCommit, object: &str) -> Vec<String> {
    let Ok(id) = doc.import_obj(object) else { return vec!["?".to_owned()] };
    if id == ROOT {
        return Vec::new();
    }
    match doc.parents(&id) {
        Ok(parents) => parents.path().into_iter().map(|(_, prop)| prop_text(prop)).collect(),
        Err(_) => vec!["?".to_owned()],
    }
}

/// A field that names a person must name the sender (or the planner, in the one document
/// its name may create).
fn check_name(write: &Write, writer: Writer<'_>, planner_allowed: bool) -> Result<(), Refusal> {
    let Some(field) = write.path.last() else { return Ok(()) };
    let names_person = PERSON_FIELDS.contains(&field.as_str()) || (write.path.len() == 2 && write.at(0) == "recounts");
    if !names_person {
        return Ok(());
    }
    let named = match &write.what {
        Written::Scalar(ScalarValue::Str(name)) => name.to_string(),
        Written::Removed => return Err(Refusal::Written { what: write.shown() }),
        // Not a name at all: the document would not read, which is refused below.
        _ => return Ok(()),
    };
    if named == writer.user.as_str() || (planner_allowed && named == PLANNER) {
        return Ok(());
    }
    Err(Refusal::Name { field: write.shown(), named, writer: writer.user.clone() })
}

/// A name written by settling a conflict: the kept value is a copy of one that was there,
/// so it names who gave it, not the one who chose it (history names them).
fn keeps_a_name(before: &AutoCommit, after: &AutoCommit, write: &Write) -> bool {
    matches!(write.what, Written::Scalar(_))
        && write.path.len() >= 2
        && super::conflicts::keeps_a_value(before, after, &write.path[..write.path.len() - 1])
}

struct Context<'a> {
    before: &'a AutoCommit,
    header: &'a Header,
    creating: bool,
    writer: Writer<'a>,
}

impl Context<'_> {
    fn role(&self) -> Role {
        self.writer.role
    }

    fn is_manager(&self) -> bool {
        self.role().manages()
    }

    fn allow(&self, allowed: bool, what: &'static str) -> Result<(), Refusal> {
        if allowed { Ok(()) } else { Err(Refusal::Role { role: self.role(), what }) }
    }

    /// Whether the entry `collection.key` was in the stored document.
    fn existed(&self, collection: &str, key: &str) -> bool {
        let Ok(Some((_, map))) = self.before.get(ROOT, collection) else { return false };
        matches!(self.before.get(&map, key), Ok(Some(_)))
    }

    /// What only the change creating the document writes.
    fn fixed(&self, write: &Write) -> Result<(), Refusal> {
        if self.creating { Ok(()) } else { Err(Refusal::Fixed { field: write.shown() }) }
    }

    /// A map made at the root where the stored document has none (a section added to the
    /// type after the document was made): made once, never replaced.
    fn made_once(&self, write: &Write) -> Result<(), Refusal> {
        let absent = matches!(self.before.get(ROOT, write.at(0)), Ok(None));
        if self.creating || (write.what == Written::Object && absent) { Ok(()) } else { Err(Refusal::Fixed { field: write.shown() }) }
    }

    /// A write inside a log entry: allowed only while the entry is new (the log itself is
    /// made with the document).
    fn added(&self, write: &Write) -> Result<(), Refusal> {
        if write.path.len() < 2 {
            return self.fixed(write);
        }
        if self.existed(write.at(0), write.at(1)) {
            return Err(Refusal::Written { what: format!("{}.{}", write.at(0), write.at(1)) });
        }
        Ok(())
    }
}

/// Who may create each type of document.
fn creation(context: &Context<'_>, after: &AutoCommit) -> Result<(), Refusal> {
    use Role::*;
    let role = context.role();
    match context.header.document_type {
        DocumentType::SiteCatalog => context.allow(role == Admin, "create a site catalog"),
        DocumentType::ChecklistTemplate => context.allow(role == Admin, "create a checklist"),
        DocumentType::Inspection => context.allow(role.walks_rounds(), "start a round"),
        // Anyone may report a fault; preventive orders are made by those who maintain, a
        // meter's alarm by whoever recorded the reading that raised it.
        DocumentType::WorkOrder => {
            if context.header.created_by.as_str() == PLANNER {
                if matches!(after.get(ROOT, "alarm"), Ok(Some(_))) {
                    context.allow(role.walks_rounds() || role == Technician, "raise a meter's alarm")
                } else {
                    context.allow(matches!(role, Technician | Manager | Admin), "make preventive orders")
                }
            } else {
                Ok(())
            }
        }
        DocumentType::Stocktake => context.allow(role.keeps_store(), "start a stocktake"),
        DocumentType::FoodSamples => context.allow(takes_samples(role), "take food samples"),
    }
}

/// The catalog: the lists are an administrator's; any role lists the documents it makes in
/// the index; the ledger takes new movements from those who may make them, the readings new
/// readings.
fn catalog(context: &Context<'_>, write: &Write) -> Result<(), Refusal> {
    use Role::*;
    let role = context.role();
    match write.at(0) {
        // Any role lists what it makes and keeps its entry current; only an administrator
        // takes an entry out (one that does not read), so no one hides others' documents.
        "index" if write.path.len() == 2 && write.what == Written::Removed => {
            context.allow(role == Admin, "take a document out of the site's index")
        }
        "index" if write.path.len() >= 2 => Ok(()),
        "ledger" => {
            context.added(write)?;
            let id = write.at(1);
            match (write.path.get(2).map(String::as_str), &write.what) {
                (Some("kind"), Written::Scalar(ScalarValue::Str(kind))) => {
                    // Parts used on an order leave the store by the technician's phone too,
                    // under ids derived from the order (corrected back by an adjustment).
                    let parts = id.starts_with("part-");
                    let allowed = match kind.as_str() {
                        "receive" | "scrap" => role.keeps_store(),
                        "issue" => role.keeps_store() || (parts && role == Technician),
                        "adjust" => role.manages() || (parts && matches!(role, Technician | Storekeeper)),
                        // An unknown kind does not read, and is refused as such.
                        _ => true,
                    };
                    context.allow(allowed, "record this stock movement")
                }
                _ => context.allow(matches!(role, Technician | Storekeeper | Manager | Admin), "record stock movements"),
            }
        }
        // Meter readings are added, never changed, by those who walk rounds or maintain.
        "readings" => {
            context.allow(role.walks_rounds() || role == Technician, "record meter readings")?;
            context.added(write)
        }
        _ => context.allow(role == Admin, "change the site's places, assets, stock items, checklists or schedules"),
    }
}

fn template(context: &Context<'_>, _write: &Write) -> Result<(), Refusal> {
    context.allow(context.role() == Role::Admin, "edit a checklist")
}

/// A round: those who walk rounds answer it (two may share one); managers review it.
fn inspection(context: &Context<'_>, write: &Write) -> Result<(), Refusal> {
    let walks = context.role().walks_rounds();
    match write.at(0) {
        "answers" if write.path.len() == 1 => context.fixed(write),
        "answers" | "signature" | "submitted_by" | "submitted_at" | "discarded_by" | "discarded_at" => {
            context.allow(walks, "answer a round")
        }
        "notes" | "photos" | "hazards" => {
            context.allow(walks, "answer a round")?;
            context.added(write)
        }
        "review" => context.allow(context.is_manager(), "review a round"),
        _ => context.fixed(write),
    }
}

/// A work order: steps by role (the fold flags steps out of order); details by managers
/// and the reporter; what it is about fixed once reported.
fn work_order(context: &Context<'_>, write: &Write) -> Result<(), Refusal> {
    use Role::*;
    let role = context.role();
    let manager = context.is_manager();
    // The one who reports writes the order's details, the planner's too.
    let reporter = context.creating || context.header.created_by == *context.writer.user;
    match write.at(0) {
        "events" => {
            context.added(write)?;
            let (Some("kind"), Written::Scalar(ScalarValue::Str(kind))) = (write.path.get(2).map(String::as_str), &write.what) else {
                return Ok(());
            };
            match kind.as_str() {
                "reported" => context.fixed(write),
                "assigned" | "contracted" => context.allow(manager, "dispatch an order"),
                "resolved" => context.allow(manager, "resolve a flag"),
                "acknowledged" | "started" | "paused" | "completed" => context.allow(manager || role == Technician, "work an order"),
                "verified" | "reopened" | "cancelled" => {
                    context.allow(manager || reporter, "verify, reopen or cancel someone else's order")
                }
                _ => Ok(()),
            }
        }
        "comments" => context.added(write),
        // Orders reported before costs were kept get these maps by their first entry.
        "invoices" | "labour" if write.path.len() == 1 => context.made_once(write),
        "invoices" => {
            context.allow(matches!(role, Technician | Manager | Admin), "record an outside cost")?;
            context.added(write)
        }
        "labour" => context.allow(manager, "correct the time worked on an order"),
        "parts" if write.path.len() == 1 => context.fixed(write),
        "parts" => context.allow(matches!(role, Technician | Storekeeper | Manager | Admin), "record parts used"),
        "title" | "description" | "priority" | "category" | "due_at" => context.allow(manager || reporter, "change someone else's order"),
        "duplicate_of" => context.allow(manager, "merge orders"),
        _ => context.fixed(write),
    }
}

/// Who keeps a canteen's food samples: its inspectors and managers.
const fn takes_samples(role: Role) -> bool {
    matches!(role, Role::Inspector | Role::Manager | Role::Admin)
}

/// A meal's food samples: samples and discards added by those who keep them; what meal it
/// is fixed once started.
fn food_samples(context: &Context<'_>, write: &Write) -> Result<(), Refusal> {
    match write.at(0) {
        "samples" | "discards" => {
            context.allow(takes_samples(context.role()), "take food samples")?;
            context.added(write)
        }
        _ => context.fixed(write),
    }
}

/// A stocktake: counts by those who keep the store; settling, recounts and approval by
/// managers.
fn stocktake(context: &Context<'_>, write: &Write) -> Result<(), Refusal> {
    let counts = context.role().keeps_store();
    match write.at(0) {
        "entries" | "found" => {
            context.allow(counts, "count stock")?;
            context.added(write)
        }
        "recounts" if write.path.len() == 1 => context.fixed(write),
        "recounts" => context.allow(context.is_manager(), "ask for a recount"),
        "events" => {
            context.added(write)?;
            let (Some("kind"), Written::Scalar(ScalarValue::Str(kind))) = (write.path.get(2).map(String::as_str), &write.what) else {
                return context.allow(counts, "count stock");
            };
            match kind.as_str() {
                "settled" | "approved" => context.allow(context.is_manager(), "settle or approve a stocktake"),
                _ => context.allow(counts, "close or reopen counting"),
            }
        }
        _ => context.fixed(write),
    }
}

/// The document still reads as its type (a template's draft too, when it was edited).
fn readable(document_type: DocumentType, after: &AutoCommit, writes: &[Write]) -> Result<(), DocumentError> {
    match document_type {
        // Only what the changes touched: the index grows with every document of the site.
        DocumentType::SiteCatalog => {
            let mut touched: BTreeMap<String, Option<BTreeSet<String>>> = BTreeMap::new();
            for write in writes {
                let Some(section) = write.path.first() else { continue };
                let keys = touched.entry(section.clone()).or_insert_with(|| Some(BTreeSet::new()));
                match (write.path.get(1), keys) {
                    (Some(entry), Some(keys)) => {
                        keys.insert(entry.clone());
                    }
                    // The section itself was written: all of it is read.
                    (None, keys) => *keys = None,
                    (Some(_), None) => {}
                }
            }
            SiteCatalog::check_touched(after, &touched)
        }
        DocumentType::ChecklistTemplate => {
            ChecklistTemplate::read_doc(after)?;
            if writes.iter().any(|write| write.at(0) == "draft") {
                ChecklistTemplate::from_doc(after.clone())?.draft()?;
            }
            Ok(())
        }
        DocumentType::Inspection => untouched(Inspection::read_doc(after)?.unreadable, writes),
        DocumentType::WorkOrder => untouched(WorkOrder::read_doc(after)?.unreadable, writes),
        DocumentType::Stocktake => untouched(Stocktake::read_doc(after)?.unreadable, writes),
        DocumentType::FoodSamples => untouched(FoodSamples::read_doc(after)?.unreadable, writes),
    }
}

/// The readers pass over an entry that does not read (one kept from before the policy
/// hides itself, not the document); one these changes wrote is refused.
fn untouched(unreadable: Vec<UnreadableEntry>, writes: &[Write]) -> Result<(), DocumentError> {
    let touched = |entry: &UnreadableEntry| {
        writes.iter().any(|write| {
            write.at(0) == entry.section && (write.path.len() == 1 || entry.key.as_deref().is_none_or(|key| write.at(1) == key))
        })
    };
    match unreadable.into_iter().find(touched) {
        Some(entry) => Err(entry.error),
        None => Ok(()),
    }
}
