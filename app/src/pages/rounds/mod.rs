//! Inspection rounds and dorm checks: what is due (from the sites' schedules), starting a
//! round by picking or scanning a place, answering it item by item or room by room, and
//! the submitted report. Everything works on the documents on the phone, offline.
//!
//! - `board`: the home screen's rounds — due and overdue, in progress, recently submitted.
//! - `start`: starting a round.
//! - `round`: one round's page; `item`: one item with its answer, notes, photos, hazard and
//!   conflicting answers; `signature`: the signature pad.
//! - `report`: the printable report.

mod board;
mod item;
pub mod report;
mod round;
mod signature;
mod start;

use std::sync::Arc;

use automerge::AutoCommit;
use shared::directory::Role;
use shared::document::conflicts::{ConflictValue, ConflictingValue, conflicts};
use shared::document::inspection::{Inspection, InspectionView};
use shared::document::template::Label;
use shared::inbox::{Person, Waiting};
use shared::protocol::DocumentId;

pub use board::{DecisionsWaiting, RoundsBoard};
pub(crate) use item::{ItemRow, ItemRowData};
pub use round::Round;
pub use start::StartRound;

use crate::edits::read_catalog;
use crate::i18n::Language;
use crate::replica::Replica;
use crate::session::Session;

pub(crate) fn text(label: &Label, language: Language) -> String {
    match language {
        Language::Chinese => label.zh.clone(),
        Language::English => label.en.clone(),
    }
}

/// A round as this phone has it, with its conflicting answers: read once per change of the
/// document, however many screens show it (the start page's board reads every round).
fn read_round(replica: Replica, id: &DocumentId) -> Option<Arc<RoundData>> {
    replica.read_kept(id)
}

/// What of a round waits for `person` (answers given differently, since the latest of
/// them), if the phone holds it as a round.
pub(crate) fn waiting_in_round(replica: Replica, person: &Person, id: DocumentId) -> Vec<Waiting> {
    let Some(round) = read_round(replica, &id) else { return Vec::new() };
    let conflicted_at = round.conflicts.iter().flat_map(|(_, values)| values.iter().map(|value| value.at)).max();
    person.round(id, &round.view, conflicted_at)
}

impl crate::replica::Reading for RoundData {
    fn read(doc: &AutoCommit) -> Option<RoundData> {
        read_round_data(doc)
    }
}

/// A round with the answers two people gave concurrently, by answer key (`room/item`).
#[derive(Clone, Debug, PartialEq)]
struct RoundData {
    view: InspectionView,
    conflicts: Vec<(String, Vec<ConflictingValue>)>,
}

impl RoundData {
    fn conflict(&self, key: &str) -> Option<&[ConflictingValue]> {
        self.conflicts.iter().find(|(found, _)| found == key).map(|(_, values)| values.as_slice())
    }
}

fn read_round_data(doc: &AutoCommit) -> Option<RoundData> {
    let view = Inspection::read_doc(doc).ok()?;
    let conflicts = conflicts(doc)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|conflict| match conflict.path.as_slice() {
            [answers, key] if answers == "answers" && !same_answer(&conflict.values) => Some((key.clone(), conflict.values)),
            _ => None,
        })
        .collect();
    Some(RoundData { view, conflicts })
}

/// Whether concurrent answers all say the same (two people both ticking "pass"): not a
/// disagreement anyone needs to settle.
fn same_answer(values: &[ConflictingValue]) -> bool {
    let answer = |value: &ConflictingValue| match &value.value {
        ConflictValue::Map(fields) => {
            Some(fields.iter().filter(|(field, _)| field != "user" && field != "at").cloned().collect::<Vec<_>>())
        }
        _ => None,
    };
    let first = values.first().and_then(answer);
    first.is_some() && values.iter().all(|value| answer(value) == first)
}

/// The signed-in user's role at `site`.
fn role_at(session: &Session, site: &str) -> Option<Role> {
    session.sites.iter().find(|known| known.id == site).map(|known| known.role)
}

/// A time of day (or date and time if not today) in the reader's language.
fn clock(at: shared::time::Timestamp, language: Language) -> String {
    crate::i18n::moment(at, language)
}
