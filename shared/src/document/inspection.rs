//! Inspections: a safety round or a dorm check, answered item by item, offline.
//!
//! The inspection copies the checklist of the template version it starts from. Answers
//! are keyed by `room/item` (`-/item` for a single-location round), so several people
//! checking different rooms of one building, or different items, never touch the same
//! key; two people answering the same item is a real conflict and is kept as one.
//! Notes, photos and hazards are entries with their own ids, so they only ever add up.
//!
//! Layout: header; `template` (map: `id`, `version`); `checklist` (the copy); `location`;
//! `rooms` (map room → order); `assignees` (map user → true); `answers` (map key → map);
//! `notes`, `photos`, `hazards` (maps keyed by entry id); `signature` (map, optional);
//! `submitted_at`, `submitted_by` once submitted; `discarded_at`, `discarded_by` for a
//! round its starter discarded before answering anything; `review` (map: `text`, `user`,
//! `at`), a manager's note on a submitted inspection.
//!
//! A submitted inspection is read-only: answers, notes, photos and hazards are refused;
//! only the review note can still be written. (A phone that was offline when the round
//! was submitted may still have answered before it heard; those answers merge in like any
//! other, and the round shows them.)

use std::collections::BTreeMap;

use automerge::{ActorId, AutoCommit, ROOT, ReadDoc as _};

use super::template::{Checklist, ChecklistItem, ItemKind, read_checklist, read_item, write_checklist};
use super::{
    BlobRef, DocumentError, DocumentType, Edit, EntryId, Fields, Header, UnreadableEntry, commit, invalid, map_at, put, put_map, put_text,
    read_root,
};
use crate::directory::{SiteId, Username};
use crate::time::Timestamp;

/// The room part of an answer key for a round at one location.
pub const NO_ROOM: &str = "-";

/// What an inspector records for one item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnswerValue {
    Pass,
    Fail,
    NotApplicable,
    /// A reading in thousandths of the item's unit.
    Number(i64),
    Text(String),
    Choice(EntryId),
    /// A photo or signature item's picture.
    Blob(BlobRef),
}

impl AnswerValue {
    fn kind_name(&self) -> &'static str {
        match self {
            AnswerValue::Pass => "pass",
            AnswerValue::Fail => "fail",
            AnswerValue::NotApplicable => "na",
            AnswerValue::Number(_) => "number",
            AnswerValue::Text(_) => "text",
            AnswerValue::Choice(_) => "choice",
            AnswerValue::Blob(_) => "blob",
        }
    }
}

/// An answer as stored: the value and who gave it when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub room: String,
    pub item: EntryId,
    pub value: AnswerValue,
    pub user: Username,
    pub at: Timestamp,
}

/// How an answered item came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed,
    /// Not applicable, or an item without a pass/fail sense (text, photo, signature).
    Neutral,
}

/// Judges `value` against `item`: a reading outside its limits fails, a failing choice fails.
pub fn outcome(item: &ChecklistItem, value: &AnswerValue) -> Outcome {
    match (&item.kind, value) {
        (_, AnswerValue::Pass) => Outcome::Passed,
        (_, AnswerValue::Fail) => Outcome::Failed,
        (ItemKind::Number { min, max, .. }, AnswerValue::Number(reading)) => {
            let too_low = min.is_some_and(|min| *reading < min);
            let too_high = max.is_some_and(|max| *reading > max);
            if too_low || too_high { Outcome::Failed } else { Outcome::Passed }
        }
        (ItemKind::Choice { failing, .. }, AnswerValue::Choice(choice)) => {
            if failing.contains(choice) {
                Outcome::Failed
            } else {
                Outcome::Passed
            }
        }
        _ => Outcome::Neutral,
    }
}

/// Checks that `value` is the kind of answer `item` takes.
fn check_answer(item: &ChecklistItem, value: &AnswerValue) -> Result<(), DocumentError> {
    let fits = match (&item.kind, value) {
        (_, AnswerValue::NotApplicable) => true,
        (ItemKind::PassFail, AnswerValue::Pass | AnswerValue::Fail) => true,
        (ItemKind::Number { .. }, AnswerValue::Number(_)) => true,
        (ItemKind::Text, AnswerValue::Text(_)) => true,
        (ItemKind::Choice { options, .. }, AnswerValue::Choice(choice)) => {
            if !options.iter().any(|(id, _)| id == choice) {
                return Err(invalid("choice", choice.as_str(), "one of the item's options"));
            }
            true
        }
        (ItemKind::Photo | ItemKind::Signature, AnswerValue::Blob(_)) => true,
        _ => false,
    };
    if fits {
        Ok(())
    } else {
        Err(DocumentError::InvalidValue {
            field: format!("answer to {}", item.id),
            value: value.kind_name().to_owned(),
            hint: match item.kind {
                ItemKind::PassFail => "pass, fail or not applicable",
                ItemKind::Number { .. } => "a number",
                ItemKind::Text => "text",
                ItemKind::Choice { .. } => "one of the options",
                ItemKind::Photo | ItemKind::Signature => "a picture",
            },
        })
    }
}

/// A note on an answer, or on the whole inspection when `key` is `None`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub id: EntryId,
    pub key: Option<String>,
    pub text: String,
    pub user: Username,
    pub at: Timestamp,
    /// A decision that a failed answer needs no action, `text` saying why (an app that
    /// does not know the field shows it as a note).
    pub no_action: bool,
}

/// A photo attached to an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Photo {
    pub id: EntryId,
    pub key: String,
    pub blob: BlobRef,
    pub user: Username,
    pub at: Timestamp,
}

/// A hazard raised from a failed answer: the work order that will remove it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hazard {
    pub id: EntryId,
    pub key: String,
    pub work_order: String,
    pub user: Username,
    pub at: Timestamp,
}

/// What was done about a failed answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FollowUp<'a> {
    Hazard(&'a Hazard),
    /// Decided to need no action; the note says why.
    NoAction(&'a Note),
}

/// A manager's note on a submitted inspection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Review {
    pub text: String,
    pub user: Username,
    pub at: Timestamp,
}

/// Why an inspection cannot be submitted yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Missing {
    Answer {
        room: String,
        item: EntryId,
    },
    PhotoOnFail {
        room: String,
        item: EntryId,
    },
    /// A failed answer with neither a hazard raised nor a decision that it needs no action.
    FollowUp {
        room: String,
        item: EntryId,
    },
}

impl Missing {
    pub fn room(&self) -> &str {
        match self {
            Missing::Answer { room, .. } | Missing::PhotoOnFail { room, .. } | Missing::FollowUp { room, .. } => room,
        }
    }

    pub fn item(&self) -> &EntryId {
        match self {
            Missing::Answer { item, .. } | Missing::PhotoOnFail { item, .. } | Missing::FollowUp { item, .. } => item,
        }
    }
}

/// Summary of an inspection's answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InspectionResult {
    /// Answers expected: items × rooms.
    pub expected: usize,
    pub answered: usize,
    pub passed: usize,
    pub failed: usize,
    /// passed / (passed + failed), in per mille; `None` when nothing was judged.
    pub pass_rate_per_mille: Option<u32>,
    /// Weighted pass rate in per mille.
    pub score_per_mille: Option<u32>,
    /// `room/item` keys of failed answers, in checklist order.
    pub failed_keys: Vec<String>,
}

/// What starting an inspection needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewInspection {
    pub site: SiteId,
    /// The template document's id.
    pub template: String,
    pub checklist: Checklist,
    pub location: String,
    /// Rooms to check one by one (a dorm round); empty for a single location.
    pub rooms: Vec<String>,
    pub assignees: Vec<Username>,
}

/// Everything an inspection holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InspectionView {
    pub header: Header,
    pub template: String,
    pub checklist: Checklist,
    pub location: String,
    pub rooms: Vec<String>,
    pub assignees: Vec<Username>,
    pub answers: BTreeMap<(String, EntryId), Answer>,
    pub notes: Vec<Note>,
    pub photos: Vec<Photo>,
    pub hazards: Vec<Hazard>,
    pub signature: Option<BlobRef>,
    pub submitted: Option<(Username, Timestamp)>,
    /// Discarded by whoever started it, before anything was answered: not a round at all.
    pub discarded: Option<(Username, Timestamp)>,
    pub review: Option<Review>,
    /// Answers, notes, photos and hazards that do not read, left out of the above: one
    /// bad entry hides itself, not the round.
    pub unreadable: Vec<UnreadableEntry>,
}

impl InspectionView {
    fn room_keys(&self) -> Vec<String> {
        if self.rooms.is_empty() { vec![NO_ROOM.to_owned()] } else { self.rooms.clone() }
    }

    /// Whether every required item of `room` is answered: the room is done (optional notes
    /// and readings do not hold it open).
    pub fn room_done(&self, room: &str) -> bool {
        self.checklist.items.iter().filter(|item| item.required).all(|item| self.answers.contains_key(&(room.to_owned(), item.id.clone())))
    }

    /// The room to go to after `shown`: the next one in the round's order not yet done,
    /// going round to the first; if every other room is done, simply the next. `None` for a
    /// round of one room or a room not in the round.
    pub fn next_room(&self, shown: &str) -> Option<&str> {
        let at = self.rooms.iter().position(|room| room == shown)?;
        let after: Vec<&String> = self.rooms.iter().cycle().skip(at + 1).take(self.rooms.len() - 1).collect();
        after.iter().find(|room| !self.room_done(room)).or(after.first()).map(|room| room.as_str())
    }

    pub fn result(&self) -> InspectionResult {
        let rooms = self.room_keys();
        let (mut answered, mut passed, mut failed) = (0, 0, 0);
        let (mut weight_passed, mut weight_judged) = (0i64, 0i64);
        let mut failed_keys = Vec::new();
        for room in &rooms {
            for item in &self.checklist.items {
                let Some(answer) = self.answers.get(&(room.clone(), item.id.clone())) else { continue };
                answered += 1;
                let weight = item.weight.unwrap_or(1).max(0);
                match outcome(item, &answer.value) {
                    Outcome::Passed => {
                        passed += 1;
                        weight_passed += weight;
                        weight_judged += weight;
                    }
                    Outcome::Failed => {
                        failed += 1;
                        weight_judged += weight;
                        failed_keys.push(answer_key(room, &item.id));
                    }
                    Outcome::Neutral => {}
                }
            }
        }
        let per_mille = |part: i64, whole: i64| crate::kpi::per_mille(part.max(0) as u64, whole.max(0) as u64);
        InspectionResult {
            expected: rooms.len() * self.checklist.items.len(),
            answered,
            passed,
            failed,
            pass_rate_per_mille: per_mille(passed as i64, (passed + failed) as i64),
            score_per_mille: per_mille(weight_passed, weight_judged),
            failed_keys,
        }
    }

    /// What still blocks submitting, in checklist order: unanswered required items, failed
    /// items that need a photo, and failed items with neither a hazard nor a decision that
    /// they need no action (a failure never ends silently).
    pub fn missing(&self) -> Vec<Missing> {
        let mut missing = Vec::new();
        for room in self.room_keys() {
            for item in &self.checklist.items {
                let key = answer_key(&room, &item.id);
                let Some(answer) = self.answers.get(&(room.clone(), item.id.clone())) else {
                    if item.required {
                        missing.push(Missing::Answer { room: room.clone(), item: item.id.clone() });
                    }
                    continue;
                };
                if outcome(item, &answer.value) != Outcome::Failed {
                    continue;
                }
                if item.photo_on_fail && !self.photos.iter().any(|photo| photo.key == key) {
                    missing.push(Missing::PhotoOnFail { room: room.clone(), item: item.id.clone() });
                }
                if self.follow_up(&key).is_none() {
                    missing.push(Missing::FollowUp { room: room.clone(), item: item.id.clone() });
                }
            }
        }
        missing
    }

    /// What was done about the failed answer at `key`: the hazard raised for it, else the
    /// latest decision that it needs no action.
    pub fn follow_up(&self, key: &str) -> Option<FollowUp<'_>> {
        if let Some(hazard) = self.hazards.iter().find(|hazard| hazard.key == key) {
            return Some(FollowUp::Hazard(hazard));
        }
        self.notes
            .iter()
            .filter(|note| note.no_action && note.key.as_deref() == Some(key))
            .max_by_key(|note| (note.at, &note.id))
            .map(FollowUp::NoAction)
    }
}

/// The room part of an answer key: the given room if the round has it, [`NO_ROOM`] for a
/// round at one location.
fn resolve_room<'a>(mut rooms: impl Iterator<Item = &'a str>, room: Option<&str>) -> Result<String, DocumentError> {
    match room {
        None => match rooms.next() {
            None => Ok(NO_ROOM.to_owned()),
            Some(_) => Err(DocumentError::MissingField { field: "room".to_owned() }),
        },
        Some(room) if rooms.any(|known| known == room) => Ok(room.to_owned()),
        Some(room) => Err(invalid("room", room, "one of the rooms of this round")),
    }
}

fn read_answer(key: &str, answer: &Fields<'_>) -> Result<Answer, DocumentError> {
    let Some((room, item)) = key.split_once('/') else {
        return Err(invalid(&answer.path(""), key, "an answer key room/item"));
    };
    let item = EntryId::parse(item).map_err(|_| invalid(&answer.path(""), key, "an answer key room/item"))?;
    let value = match answer.str("kind")?.as_str() {
        "pass" => AnswerValue::Pass,
        "fail" => AnswerValue::Fail,
        "na" => AnswerValue::NotApplicable,
        "number" => AnswerValue::Number(answer.i64("number")?),
        "text" => AnswerValue::Text(answer.optional_text("text")?.unwrap_or_default()),
        "choice" => AnswerValue::Choice(answer.id("choice")?),
        "blob" => AnswerValue::Blob(BlobRef::read(answer)?),
        other => return Err(invalid(&answer.path("kind"), other, "pass, fail, na, number, text, choice or blob")),
    };
    Ok(Answer { room: room.to_owned(), item, value, user: answer.user("user")?, at: answer.time("at")? })
}

/// The answer at `key` as it stood just after the change `hash` (for history: what an
/// "answered" change said). `None` if the key had no answer then, or `hash` is not a
/// change of `doc`. Text and pictures read as empty: history names them, not their content.
pub fn answer_at(doc: &AutoCommit, key: &str, hash: automerge::ChangeHash) -> Option<AnswerValue> {
    let heads = [hash];
    let (_, answers) = doc.get_at(&ROOT, "answers", &heads).ok()??;
    let (_, answer) = doc.get_at(&answers, key, &heads).ok()??;
    let field = |name: &str| doc.get_at(&answer, name, &heads).ok().flatten().map(|(value, _)| value);
    let kind = field("kind")?;
    Some(match kind.as_str()? {
        "pass" => AnswerValue::Pass,
        "fail" => AnswerValue::Fail,
        "na" => AnswerValue::NotApplicable,
        "number" => AnswerValue::Number(field("number")?.as_i64()?),
        "choice" => AnswerValue::Choice(EntryId::parse(field("choice")?.as_str()?).ok()?),
        "text" => AnswerValue::Text(String::new()),
        _ => return None,
    })
}

/// The key of an answer: `room/item`.
pub fn answer_key(room: &str, item: &EntryId) -> String {
    format!("{room}/{item}")
}

/// An inspection document.
pub struct Inspection {
    doc: AutoCommit,
}

super::typed_document!(Inspection, InspectionView);

impl Inspection {
    pub fn start(actor: ActorId, new: &NewInspection, edit: &Edit) -> Result<Inspection, DocumentError> {
        for room in &new.rooms {
            if room.is_empty() || room.contains('/') || room == NO_ROOM {
                return Err(invalid("room", room, "a room id without '/'"));
            }
        }
        let header = Header {
            document_type: DocumentType::Inspection,
            schema: DocumentType::Inspection.current_schema(),
            site: new.site.clone(),
            created_by: edit.user.clone(),
            created_at: edit.at,
        };
        let mut doc = super::create(actor, &header);
        let template = put_map(&mut doc, &ROOT, "template");
        put(&mut doc, &template, "id", new.template.as_str());
        let checklist = put_map(&mut doc, &ROOT, "checklist");
        write_checklist(&mut doc, &checklist, &new.checklist)?;
        put(&mut doc, &ROOT, "location", new.location.as_str());
        let rooms = put_map(&mut doc, &ROOT, "rooms");
        for (order, room) in new.rooms.iter().enumerate() {
            put(&mut doc, &rooms, room, order as i64);
        }
        let assignees = put_map(&mut doc, &ROOT, "assignees");
        for user in &new.assignees {
            put(&mut doc, &assignees, user.as_str(), true);
        }
        for collection in ["answers", "notes", "photos", "hazards"] {
            put_map(&mut doc, &ROOT, collection);
        }
        commit(&mut doc, edit, "started inspection");
        Ok(Inspection { doc })
    }

    /// Records (or replaces) `edit.user`'s answer to `item` in `room` (`None`: the location).
    pub fn answer(&mut self, room: Option<&str>, item: &EntryId, value: &AnswerValue, edit: &Edit) -> Result<(), DocumentError> {
        let (room, checklist_item) = self.context(room, item)?;
        check_answer(&checklist_item, value)?;
        let answers = map_at(&self.doc, &ROOT, "answers", "answers")?;
        let answer = put_map(&mut self.doc, &answers, &answer_key(&room, item));
        put(&mut self.doc, &answer, "kind", value.kind_name());
        match value {
            AnswerValue::Pass | AnswerValue::Fail | AnswerValue::NotApplicable => {}
            AnswerValue::Number(reading) => put(&mut self.doc, &answer, "number", *reading),
            AnswerValue::Text(text) => {
                put_text(&mut self.doc, &answer, "text", text);
            }
            AnswerValue::Choice(choice) => put(&mut self.doc, &answer, "choice", choice.as_str()),
            AnswerValue::Blob(blob) => blob.write(&mut self.doc, &answer),
        }
        put(&mut self.doc, &answer, "user", edit.user.as_str());
        put(&mut self.doc, &answer, "at", edit.at.as_millis());
        commit(&mut self.doc, edit, &format!("answered {}", answer_key(&room, item)));
        Ok(())
    }

    /// Adds a note to an answer (`item` given) or to the whole inspection.
    pub fn add_note(
        &mut self,
        id: &EntryId,
        room: Option<&str>,
        item: Option<&EntryId>,
        text: &str,
        edit: &Edit,
    ) -> Result<(), DocumentError> {
        if text.trim().is_empty() {
            return Err(DocumentError::MissingField { field: "note".to_owned() });
        }
        let key = self.optional_key(room, item)?;
        self.check_open()?;
        let notes = map_at(&self.doc, &ROOT, "notes", "notes")?;
        let note = put_map(&mut self.doc, &notes, id.as_str());
        if let Some(key) = &key {
            put(&mut self.doc, &note, "key", key.as_str());
        }
        put_text(&mut self.doc, &note, "text", text);
        put(&mut self.doc, &note, "user", edit.user.as_str());
        put(&mut self.doc, &note, "at", edit.at.as_millis());
        commit(&mut self.doc, edit, "note");
        Ok(())
    }

    pub fn add_photo(
        &mut self,
        id: &EntryId,
        room: Option<&str>,
        item: &EntryId,
        blob: &BlobRef,
        edit: &Edit,
    ) -> Result<(), DocumentError> {
        let key = self.optional_key(room, Some(item))?.expect("an item was given");
        let photos = map_at(&self.doc, &ROOT, "photos", "photos")?;
        let photo = put_map(&mut self.doc, &photos, id.as_str());
        put(&mut self.doc, &photo, "key", key.as_str());
        blob.write(&mut self.doc, &photo);
        put(&mut self.doc, &photo, "user", edit.user.as_str());
        put(&mut self.doc, &photo, "at", edit.at.as_millis());
        commit(&mut self.doc, edit, "photo");
        Ok(())
    }

    /// Records that a failed answer needs no action, and why: its follow-up, in place of a
    /// hazard. Only while the round is open.
    pub fn no_action_needed(
        &mut self,
        id: &EntryId,
        room: Option<&str>,
        item: &EntryId,
        reason: &str,
        edit: &Edit,
    ) -> Result<(), DocumentError> {
        if reason.trim().is_empty() {
            return Err(DocumentError::MissingField { field: "reason".to_owned() });
        }
        self.check_open()?;
        let room = self.failed_answer(room, item, "a decision")?;
        let notes = map_at(&self.doc, &ROOT, "notes", "notes")?;
        let note = put_map(&mut self.doc, &notes, id.as_str());
        put(&mut self.doc, &note, "key", answer_key(&room, item).as_str());
        put_text(&mut self.doc, &note, "text", reason.trim());
        put(&mut self.doc, &note, "no_action", true);
        put(&mut self.doc, &note, "user", edit.user.as_str());
        put(&mut self.doc, &note, "at", edit.at.as_millis());
        commit(&mut self.doc, edit, "no action needed");
        Ok(())
    }

    /// The room of a failed answer to `item`, or an error naming `what` needs one.
    fn failed_answer(&self, room: Option<&str>, item: &EntryId, what: &'static str) -> Result<String, DocumentError> {
        let view = self.read()?;
        let room = resolve_room(view.rooms.iter().map(String::as_str), room)?;
        let Some(checklist_item) = view.checklist.item(item) else {
            return Err(invalid("item", item.as_str(), "an item of this checklist"));
        };
        let failed =
            view.answers.get(&(room.clone(), item.clone())).is_some_and(|answer| outcome(checklist_item, &answer.value) == Outcome::Failed);
        if !failed {
            return Err(invalid(what, &answer_key(&room, item), "a failed answer; follow-ups are for failures"));
        }
        Ok(room)
    }

    /// Links a failed answer to the work order raised for it; also once the round is
    /// submitted (its owner or a manager may still raise one).
    pub fn raise_hazard(
        &mut self,
        id: &EntryId,
        room: Option<&str>,
        item: &EntryId,
        work_order: &str,
        edit: &Edit,
    ) -> Result<(), DocumentError> {
        let room = self.failed_answer(room, item, "hazard")?;
        let key = answer_key(&room, item);
        if self.read()?.hazards.iter().any(|hazard| hazard.key == key) {
            return Err(invalid("hazard", &key, "a failure without a hazard; this one has its work order"));
        }
        let hazards = map_at(&self.doc, &ROOT, "hazards", "hazards")?;
        let hazard = put_map(&mut self.doc, &hazards, id.as_str());
        put(&mut self.doc, &hazard, "key", answer_key(&room, item).as_str());
        put(&mut self.doc, &hazard, "work_order", work_order);
        put(&mut self.doc, &hazard, "user", edit.user.as_str());
        put(&mut self.doc, &hazard, "at", edit.at.as_millis());
        commit(&mut self.doc, edit, "raised hazard");
        Ok(())
    }

    pub fn sign(&mut self, signature: &BlobRef, edit: &Edit) {
        let map = put_map(&mut self.doc, &ROOT, "signature");
        signature.write(&mut self.doc, &map);
        put(&mut self.doc, &map, "user", edit.user.as_str());
        commit(&mut self.doc, edit, "signed");
    }

    /// Writes (or replaces) the review note of a submitted inspection.
    pub fn review(&mut self, text: &str, edit: &Edit) -> Result<(), DocumentError> {
        if text.trim().is_empty() {
            return Err(DocumentError::MissingField { field: "review".to_owned() });
        }
        let (_, root) = read_root(&self.doc, DocumentType::Inspection)?;
        if root.optional_str("submitted_by")?.is_none() {
            return Err(invalid("review", text, "a note on a submitted inspection; this one is still open"));
        }
        let review = put_map(&mut self.doc, &ROOT, "review");
        put_text(&mut self.doc, &review, "text", text);
        put(&mut self.doc, &review, "user", edit.user.as_str());
        put(&mut self.doc, &review, "at", edit.at.as_millis());
        commit(&mut self.doc, edit, "reviewed");
        Ok(())
    }

    fn check_open(&self) -> Result<(), DocumentError> {
        let (_, root) = read_root(&self.doc, DocumentType::Inspection)?;
        if root.optional_str("submitted_by")?.is_some() {
            return Err(DocumentError::ReadOnly { what: "a submitted inspection" });
        }
        if root.optional_str("discarded_by")?.is_some() {
            return Err(DocumentError::ReadOnly { what: "a discarded inspection" });
        }
        Ok(())
    }

    /// Discards a round started by mistake: only by whoever started it, and only while
    /// nothing is answered. (A manager cancelling a round with answers, with a reason, is
    /// for a later version.)
    pub fn discard(&mut self, edit: &Edit) -> Result<(), DocumentError> {
        self.check_open()?;
        let view = self.read()?;
        if view.header.created_by != edit.user {
            return Err(invalid("discard", edit.user.as_str(), "the person who started the round"));
        }
        if !view.answers.is_empty() {
            return Err(invalid("discard", &view.answers.len().to_string(), "a round with no answers yet"));
        }
        put(&mut self.doc, &ROOT, "discarded_by", edit.user.as_str());
        put(&mut self.doc, &ROOT, "discarded_at", edit.at.as_millis());
        commit(&mut self.doc, edit, "discarded");
        Ok(())
    }

    /// Submits the inspection if nothing is missing; otherwise says what is.
    pub fn submit(&mut self, edit: &Edit) -> Result<(), Vec<Missing>> {
        let view = self.read().map_err(|_| Vec::new())?;
        let missing = view.missing();
        if !missing.is_empty() {
            return Err(missing);
        }
        put(&mut self.doc, &ROOT, "submitted_by", edit.user.as_str());
        put(&mut self.doc, &ROOT, "submitted_at", edit.at.as_millis());
        commit(&mut self.doc, edit, "submitted");
        Ok(())
    }

    pub fn read_doc(doc: &AutoCommit) -> Result<InspectionView, DocumentError> {
        let (header, root) = read_root(doc, DocumentType::Inspection)?;
        let checklist = read_checklist(&root.fields("checklist")?)?;
        let mut rooms = Vec::new();
        for (room, order) in root.scalars("rooms")? {
            let order =
                order.as_i64().ok_or_else(|| DocumentError::WrongFieldType { field: format!("rooms.{room}"), expected: "an integer" })?;
            rooms.push((order, room));
        }
        rooms.sort();
        let assignees = root
            .scalars("assignees")?
            .into_iter()
            .map(|(user, _)| Username::parse(&user).map_err(|_| invalid("assignees", &user, "a user name")))
            .collect::<Result<_, _>>()?;
        let mut unreadable = Vec::new();
        let bad = &mut unreadable;
        let mut answers = BTreeMap::new();
        for answer in root.keyed_forgiving("answers", read_answer, bad) {
            answers.insert((answer.room.clone(), answer.item.clone()), answer);
        }
        let signature = root
            .optional_map("signature")?
            .map(|_| root.fields("signature"))
            .transpose()?
            .map(|fields| BlobRef::read(&fields))
            .transpose()?;
        let submitted = match root.optional_str("submitted_by")? {
            Some(_) => Some((root.user("submitted_by")?, root.time("submitted_at")?)),
            None => None,
        };
        let discarded = match root.optional_str("discarded_by")? {
            Some(_) => Some((root.user("discarded_by")?, root.time("discarded_at")?)),
            None => None,
        };
        let notes = root.entries_forgiving(
            "notes",
            |id, note| {
                Ok(Note {
                    id,
                    key: note.optional_str("key")?,
                    text: note.optional_text("text")?.unwrap_or_default(),
                    user: note.user("user")?,
                    at: note.time("at")?,
                    no_action: note.bool("no_action")?,
                })
            },
            bad,
        );
        let photos = root.entries_forgiving(
            "photos",
            |id, photo| {
                Ok(Photo { id, key: photo.str("key")?, blob: BlobRef::read(photo)?, user: photo.user("user")?, at: photo.time("at")? })
            },
            bad,
        );
        let hazards = root.entries_forgiving(
            "hazards",
            |id, hazard| {
                Ok(Hazard {
                    id,
                    key: hazard.str("key")?,
                    work_order: hazard.str("work_order")?,
                    user: hazard.user("user")?,
                    at: hazard.time("at")?,
                })
            },
            bad,
        );
        Ok(InspectionView {
            header,
            template: root.fields("template")?.str("id")?,
            checklist,
            location: root.str("location")?,
            rooms: rooms.into_iter().map(|(_, room)| room).collect(),
            assignees,
            answers,
            discarded,
            notes,
            photos,
            hazards,
            signature,
            submitted,
            review: match root.optional_map("review")? {
                Some(_) => {
                    let review = root.fields("review")?;
                    Some(Review {
                        text: review.optional_text("text")?.unwrap_or_default(),
                        user: review.user("user")?,
                        at: review.time("at")?,
                    })
                }
                None => None,
            },
            unreadable,
        })
    }

    /// The answer key's room and the checklist item, read without reading the answers:
    /// answering stays cheap however many answers there are.
    fn context(&self, room: Option<&str>, item: &EntryId) -> Result<(String, ChecklistItem), DocumentError> {
        self.check_open()?;
        let (_, root) = read_root(&self.doc, DocumentType::Inspection)?;
        let rooms = root.scalars("rooms")?;
        let room = resolve_room(rooms.iter().map(|(known, _)| known.as_str()), room)?;
        let items = root.fields("checklist")?.fields("items")?;
        if items.optional_map(item.as_str())?.is_none() {
            return Err(invalid("item", item.as_str(), "an item of this checklist"));
        }
        Ok((room, read_item(item.clone(), &items.fields(item.as_str())?)?))
    }

    fn optional_key(&self, room: Option<&str>, item: Option<&EntryId>) -> Result<Option<String>, DocumentError> {
        let Some(item) = item else { return Ok(None) };
        let (room, _) = self.context(room, item)?;
        Ok(Some(answer_key(&room, item)))
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::document::seeds;
    use crate::document::testing::{edit, fire_round_at_hq, id};

    fn photo() -> BlobRef {
        BlobRef::new(&"ab".repeat(32), 48_213, "image/jpeg").unwrap()
    }

    fn fire_round() -> Inspection {
        Inspection::start(ActorId::from([7; 16]), &fire_round_at_hq(&["inspector"]), &edit("inspector", 1_000)).unwrap()
    }

    #[test]
    fn the_next_room_is_the_next_not_done_going_round() {
        let new = NewInspection {
            site: SiteId::parse("plant2").unwrap(),
            template: "automerge:dorm".into(),
            checklist: seeds::dorm_room(),
            location: "p2-dorm".into(),
            rooms: ["101", "102", "103"].map(str::to_owned).to_vec(),
            assignees: vec![Username::parse("dorm").unwrap()],
        };
        let mut round = Inspection::start(ActorId::from([9; 16]), &new, &edit("dorm", 1_000)).unwrap();
        let answer_all = |round: &mut Inspection, room: &str| {
            let required: Vec<EntryId> =
                round.read().unwrap().checklist.items.iter().filter(|item| item.required).map(|item| item.id.clone()).collect();
            for item in required {
                round.answer(Some(room), &item, &AnswerValue::NotApplicable, &edit("dorm", 2_000)).unwrap();
            }
        };
        let view = round.read().unwrap();
        assert_eq!(view.next_room("101"), Some("102"));
        assert_eq!(view.next_room("103"), Some("101"), "after the last comes the first");
        assert_eq!(view.next_room("104"), None);
        answer_all(&mut round, "102");
        let view = round.read().unwrap();
        assert!(view.room_done("102") && !view.room_done("101"));
        assert_eq!(view.next_room("101"), Some("103"), "a done room is passed over");
        answer_all(&mut round, "103");
        answer_all(&mut round, "101");
        assert_eq!(round.read().unwrap().next_room("101"), Some("102"), "all done: simply the next");
    }

    #[test]
    fn a_bad_answer_hides_itself_counts_as_missing_and_answering_again_repairs_it() {
        let mut round = fire_round();
        let inspector = edit("inspector", 2_000);
        round.answer(None, &id("hydrant"), &AnswerValue::Pass, &inspector).unwrap();
        round.answer(None, &id("exits-clear"), &AnswerValue::Pass, &inspector).unwrap();
        let mut doc = round.into_doc();
        let answers = map_at(&doc, &ROOT, "answers", "answers").unwrap();
        let (_, answer) = doc.get(&answers, "-/exits-clear").unwrap().unwrap();
        automerge::transaction::Transactable::put(&mut doc, &answer, "kind", "maybe").unwrap();
        doc.commit();

        let view = Inspection::read_doc(&doc).unwrap();
        assert_eq!(view.answers.keys().map(|(_, item)| item.as_str()).collect::<Vec<_>>(), ["hydrant"]);
        let bad: Vec<_> = view.unreadable.iter().map(|entry| (entry.section.as_str(), entry.key.as_deref())).collect();
        assert_eq!(bad, [("answers", Some("-/exits-clear"))]);
        assert!(view.missing().iter().any(|missing| matches!(missing, Missing::Answer { item, .. } if item.as_str() == "exits-clear")));

        let mut round = Inspection::from_doc(doc).unwrap();
        round.answer(None, &id("exits-clear"), &AnswerValue::Fail, &inspector).unwrap();
        let view = round.read().unwrap();
        assert!(view.unreadable.is_empty());
        assert_eq!(view.answers[&("-".to_owned(), id("exits-clear"))].value, AnswerValue::Fail);
    }

    #[test]
    fn a_fire_round_is_answered_scored_and_submitted() {
        let mut round = fire_round();
        let inspector = edit("inspector", 2_000);
        for item in ["extinguisher-present", "extinguisher-seal", "hydrant", "exits-clear", "fire-doors", "exit-signs", "alarm-panel"] {
            round.answer(None, &id(item), &AnswerValue::Pass, &inspector).unwrap();
        }
        // 0.8 MPa is under the 1 MPa minimum: the reading fails the item by itself.
        round.answer(None, &id("extinguisher-pressure"), &AnswerValue::Number(800), &inspector).unwrap();
        round.answer(None, &id("emergency-lighting"), &AnswerValue::NotApplicable, &inspector).unwrap();

        let view = round.read().unwrap();
        expect![[r#"
            InspectionResult {
                expected: 11,
                answered: 9,
                passed: 7,
                failed: 1,
                pass_rate_per_mille: Some(
                    875,
                ),
                score_per_mille: Some(
                    875,
                ),
                failed_keys: [
                    "-/extinguisher-pressure",
                ],
            }
        "#]]
        .assert_debug_eq(&view.result());
        expect![[r#"
            [
                PhotoOnFail {
                    room: "-",
                    item: EntryId(
                        "extinguisher-pressure",
                    ),
                },
                FollowUp {
                    room: "-",
                    item: EntryId(
                        "extinguisher-pressure",
                    ),
                },
                Answer {
                    room: "-",
                    item: EntryId(
                        "signature",
                    ),
                },
            ]
        "#]]
        .assert_debug_eq(&round.submit(&inspector).unwrap_err());

        round.add_photo(&id("p1"), None, &id("extinguisher-pressure"), &photo(), &inspector).unwrap();
        round.answer(None, &id("signature"), &AnswerValue::Blob(photo()), &inspector).unwrap();
        round.raise_hazard(&id("h1"), None, &id("extinguisher-pressure"), "automerge:wo1", &inspector).unwrap();
        round.submit(&edit("inspector", 3_000)).unwrap();
        let view = round.read().unwrap();
        assert_eq!(view.submitted, Some((Username::parse("inspector").unwrap(), Timestamp::from_millis(3_000))));
        assert_eq!(view.hazards[0].key, "-/extinguisher-pressure");

        // Submitted is read-only, except for the manager's review note.
        let late = edit("inspector", 4_000);
        let refused = round.answer(None, &id("exits-clear"), &AnswerValue::Fail, &late).unwrap_err();
        assert_eq!(refused.to_string(), "a submitted inspection is read-only");
        assert!(round.add_note(&id("n1"), None, None, "too late", &late).is_err());
        assert!(round.add_photo(&id("p2"), None, &id("exits-clear"), &photo(), &late).is_err());
        let twice = round.raise_hazard(&id("h2"), None, &id("extinguisher-pressure"), "automerge:wo2", &late).unwrap_err();
        assert_eq!(
            twice.to_string(),
            "invalid hazard \"-/extinguisher-pressure\": a failure without a hazard; this one has its work order"
        );
        round.review("灭火器压力不足，已派单", &edit("manager", 5_000)).unwrap();
        let review = round.read().unwrap().review.unwrap();
        assert_eq!(
            (review.text.as_str(), review.user.as_str(), review.at),
            ("灭火器压力不足，已派单", "manager", Timestamp::from_millis(5_000))
        );
    }

    #[test]
    fn a_failure_never_ends_silently_and_a_hazard_may_follow_after_submitting() {
        let mut round = fire_round();
        let inspector = edit("inspector", 2_000);
        for item in
            ["extinguisher-present", "extinguisher-seal", "hydrant", "fire-doors", "exit-signs", "alarm-panel", "emergency-lighting"]
        {
            round.answer(None, &id(item), &AnswerValue::Pass, &inspector).unwrap();
        }
        round.answer(None, &id("extinguisher-pressure"), &AnswerValue::Number(1_200), &inspector).unwrap();
        round.answer(None, &id("signature"), &AnswerValue::Blob(photo()), &inspector).unwrap();
        round.answer(None, &id("exits-clear"), &AnswerValue::Fail, &inspector).unwrap();
        round.add_photo(&id("p1"), None, &id("exits-clear"), &photo(), &inspector).unwrap();
        let follow_ups: Vec<String> = round.submit(&inspector).unwrap_err().iter().map(|missing| format!("{missing:?}")).collect();
        assert_eq!(follow_ups, ["FollowUp { room: \"-\", item: EntryId(\"exits-clear\") }"]);
        let empty = round.no_action_needed(&id("d0"), None, &id("exits-clear"), "  ", &inspector).unwrap_err();
        assert_eq!(empty.to_string(), "field \"reason\" is missing");
        let passed = round.no_action_needed(&id("d0"), None, &id("hydrant"), "fine", &inspector).unwrap_err();
        assert_eq!(passed.to_string(), "invalid a decision \"-/hydrant\": a failed answer; follow-ups are for failures");
        round.no_action_needed(&id("d1"), None, &id("exits-clear"), "纸箱已当场搬走", &inspector).unwrap();
        let view = round.read().unwrap();
        match view.follow_up("-/exits-clear") {
            Some(FollowUp::NoAction(note)) => assert_eq!((note.text.as_str(), note.user.as_str()), ("纸箱已当场搬走", "inspector")),
            other => panic!("expected a decision, found {other:?}"),
        }
        round.submit(&edit("inspector", 3_000)).unwrap();
        // Submitted: a manager decides it needs a work order after all.
        round.raise_hazard(&id("h1"), None, &id("exits-clear"), "automerge:wo1", &edit("manager", 4_000)).unwrap();
        assert!(
            matches!(round.read().unwrap().follow_up("-/exits-clear"), Some(FollowUp::Hazard(hazard)) if hazard.work_order == "automerge:wo1")
        );
        assert!(
            round.no_action_needed(&id("d2"), None, &id("exits-clear"), "late", &edit("manager", 5_000)).is_err(),
            "decisions are made before submitting"
        );
    }

    #[test]
    fn a_round_started_by_mistake_is_discarded_by_its_starter_before_any_answer() {
        let mut round = fire_round();
        let refused = round.discard(&edit("manager", 1_500)).unwrap_err();
        assert_eq!(refused.to_string(), "invalid discard \"manager\": the person who started the round");
        let mut answered = fire_round();
        answered.answer(None, &id("hydrant"), &AnswerValue::Pass, &edit("inspector", 1_600)).unwrap();
        assert_eq!(
            answered.discard(&edit("inspector", 1_700)).unwrap_err().to_string(),
            "invalid discard \"1\": a round with no answers yet"
        );
        round.discard(&edit("inspector", 1_800)).unwrap();
        assert_eq!(round.read().unwrap().discarded, Some((Username::parse("inspector").unwrap(), Timestamp::from_millis(1_800))));
        assert_eq!(
            round.answer(None, &id("hydrant"), &AnswerValue::Pass, &edit("inspector", 1_900)).unwrap_err().to_string(),
            "a discarded inspection is read-only"
        );
    }

    #[test]
    fn history_reads_each_answer_as_it_was_given() {
        let mut round = fire_round();
        round.answer(None, &id("exits-clear"), &AnswerValue::Fail, &edit("inspector", 2_000)).unwrap();
        let failed = round.doc_mut().get_heads()[0];
        round.answer(None, &id("exits-clear"), &AnswerValue::Pass, &edit("inspector", 3_000)).unwrap();
        round.answer(None, &id("extinguisher-pressure"), &AnswerValue::Number(1_200), &edit("inspector", 4_000)).unwrap();
        let read = round.doc_mut().get_heads()[0];
        assert_eq!(answer_at(round.doc(), "-/exits-clear", failed), Some(AnswerValue::Fail), "as it was then, not as it is");
        assert_eq!(answer_at(round.doc(), "-/exits-clear", read), Some(AnswerValue::Pass));
        assert_eq!(answer_at(round.doc(), "-/extinguisher-pressure", read), Some(AnswerValue::Number(1_200)));
        assert_eq!(answer_at(round.doc(), "-/extinguisher-pressure", failed), None, "not answered yet then");
    }

    #[test]
    fn wrong_answers_are_refused_with_a_reason() {
        let mut round = fire_round();
        let inspector = edit("inspector", 2_000);
        let refusals = [
            (None, "exits-clear", AnswerValue::Number(3), "invalid answer to exits-clear \"number\": pass, fail or not applicable"),
            (None, "extinguisher-pressure", AnswerValue::Pass, "invalid answer to extinguisher-pressure \"pass\": a number"),
            (None, "no-such-item", AnswerValue::Pass, "invalid item \"no-such-item\": an item of this checklist"),
            (Some("301"), "exits-clear", AnswerValue::Pass, "invalid room \"301\": one of the rooms of this round"),
        ];
        for (room, item, value, expected) in refusals {
            assert_eq!(round.answer(room, &id(item), &value, &inspector).unwrap_err().to_string(), expected);
        }
        let open = round.review("fine", &inspector).unwrap_err();
        assert_eq!(open.to_string(), "invalid review \"fine\": a note on a submitted inspection; this one is still open");
        let not_failed = round.raise_hazard(&id("h1"), None, &id("exits-clear"), "automerge:wo", &inspector).unwrap_err();
        assert_eq!(not_failed.to_string(), "invalid hazard \"-/exits-clear\": a failed answer; follow-ups are for failures");
        assert!(BlobRef::new("xyz", 1, "image/jpeg").is_err());
        assert!(BlobRef::new(&"ab".repeat(32), 1, "application/pdf").is_err());
    }

    #[test]
    fn two_dorm_staff_split_a_building_and_both_rooms_count() {
        let new = NewInspection {
            site: SiteId::parse("plant2").unwrap(),
            template: "automerge:dorm".into(),
            checklist: seeds::dorm_room(),
            location: "plant2-dorm-a".into(),
            rooms: vec!["101".into(), "102".into()],
            assignees: vec![Username::parse("dorm").unwrap(), Username::parse("manager").unwrap()],
        };
        let start = Inspection::start(ActorId::from([1; 16]), &new, &edit("dorm", 1_000)).unwrap();
        let mut first = Inspection::from_doc(start.doc().clone().with_actor(ActorId::from([2; 16]))).unwrap();
        let mut second = Inspection::from_doc(start.doc().clone().with_actor(ActorId::from([3; 16]))).unwrap();
        first.answer(Some("101"), &id("hygiene"), &AnswerValue::Choice(id("dirty")), &edit("dorm", 2_000)).unwrap();
        second.answer(Some("102"), &id("hygiene"), &AnswerValue::Choice(id("clean")), &edit("manager", 2_500)).unwrap();
        first.add_note(&id("n-dorm"), Some("101"), Some(&id("hygiene")), "垃圾未倒", &edit("dorm", 2_100)).unwrap();
        second.add_note(&id("n-manager"), None, None, "楼道灯坏了", &edit("manager", 2_600)).unwrap();
        first.doc_mut().merge(second.doc_mut()).unwrap();
        let view = first.read().unwrap();
        assert_eq!(view.answers.len(), 2);
        assert_eq!(view.answers[&("101".to_owned(), id("hygiene"))].user.as_str(), "dorm");
        assert_eq!(view.answers[&("102".to_owned(), id("hygiene"))].user.as_str(), "manager");
        assert_eq!(view.notes.len(), 2);
        assert_eq!(view.result().failed_keys, ["101/hygiene"]);
        assert_eq!(view.result().expected, 12);
    }
}
