//! A document's history as people read it: "李安全员 answered 消防通道畅通: 不合格" rather than
//! the change's own summary (`answered -/exits-clear`). Who is the person the server bound
//! the change to, by name; the device is that person's phone 1, 2…; what is a sentence in
//! the reader's language, with names from the checklist, and an answer as it was given
//! (read from the phone's copy at that change).

use std::collections::BTreeMap;

use automerge::AutoCommit;
use shared::document::inspection::{Inspection, answer_at};
use shared::document::template::Checklist;

use crate::i18n::{Language, Texts};
use crate::pages::rounds::report::answer_text;
use crate::pages::rounds::text;
use crate::server::HistoryEntry;
use shared::document::work_order::PLANNER;

/// One line of the history, as shown.
pub struct Line {
    /// The person, by name.
    pub who: String,
    /// "李安全员's phone 1".
    pub device: String,
    pub what: String,
}

/// The history's lines, and each device with its first and last change here.
pub fn lines(
    texts: &Texts,
    language: Language,
    entries: &[HistoryEntry],
    doc: Option<&AutoCommit>,
    name: &dyn Fn(&str) -> String,
) -> (Vec<Line>, Vec<(String, i64, i64)>) {
    let checklist: Option<Checklist> = doc.and_then(|doc| Inspection::read_doc(doc).ok()).map(|round| round.checklist);
    // Each person's devices, numbered in the order they first changed the document.
    let mut devices: BTreeMap<String, (String, usize)> = BTreeMap::new();
    let mut per_person: BTreeMap<String, usize> = BTreeMap::new();
    let mut seen: Vec<(String, i64, i64)> = Vec::new();
    let mut shown = Vec::new();
    for entry in entries {
        let person = entry.user.as_ref().map(ToString::to_string).or(entry.named.clone()).unwrap_or_else(|| "?".to_owned());
        let who = name(&person);
        let (_, number) = devices
            .entry(entry.actor.clone())
            .or_insert_with(|| {
                let count = per_person.entry(person.clone()).or_default();
                *count += 1;
                (person.clone(), *count)
            })
            .clone();
        // The plan has no phone: its orders are made by whichever phone finds one due.
        let device = if person == PLANNER {
            texts.made_by_a_phone.to_owned()
        } else if person == shared::public::PUBLIC_REPORTER {
            texts.made_by_the_public_page.to_owned()
        } else {
            texts.phone_of.replace("{name}", &who).replace("{n}", &number.to_string())
        };
        match seen.iter_mut().find(|(known, ..)| *known == device) {
            Some((_, _, last)) => *last = (*last).max(entry.at.as_millis()),
            None => seen.push((device.clone(), entry.at.as_millis(), entry.at.as_millis())),
        }
        shown.push(Line { who, device, what: sentence(texts, language, entry, doc, checklist.as_ref()) });
    }
    (shown, seen)
}

fn sentence(texts: &Texts, language: Language, entry: &HistoryEntry, doc: Option<&AutoCommit>, checklist: Option<&Checklist>) -> String {
    let summary = entry.summary.as_str();
    if let Some(key) = summary.strip_prefix("answered ") {
        let (room, item) = key.split_once('/').unwrap_or(("-", key));
        let Some(item) = checklist.and_then(|checklist| checklist.items.iter().find(|known| known.id.as_str() == item)) else {
            return texts.history_answered.replace("{item}", item);
        };
        let label = text(&item.label, language);
        let label = if room == shared::document::inspection::NO_ROOM { label } else { format!("{room} {label}") };
        let hash = entry.hash.parse().ok();
        let value = doc.zip(hash).and_then(|(doc, hash)| answer_at(doc, key, hash)).map(|value| answer_text(texts, item, &value, language));
        return match value.filter(|value| !value.is_empty()) {
            Some(value) => format!("{}: {value}", texts.history_answered.replace("{item}", &label)),
            None => texts.history_answered.replace("{item}", &label),
        };
    }
    texts.change(summary).unwrap_or(summary).to_owned()
}
