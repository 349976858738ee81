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

/// What changes say, in each language: (summary, Chinese, English). Work-order steps,
/// stocktake steps and catalog edits name themselves; others fall back to the summary.
const PHRASES: &[(&str, &str, &str)] = &[
    ("started inspection", "开始了检查", "started the round"),
    ("note", "加了备注", "added a note"),
    ("photo", "拍了照片", "added a photo"),
    ("comment", "写了留言", "commented"),
    ("raised hazard", "上报了隐患", "raised a hazard"),
    ("no action needed", "说明无需处理", "decided no action was needed"),
    ("signed", "签了名", "signed"),
    ("submitted", "提交了检查", "submitted the round"),
    ("discarded", "放弃了检查", "discarded the round"),
    ("reviewed", "写了审阅意见", "wrote the review note"),
    ("reported", "报修", "reported the fault"),
    ("scheduled", "按维护计划生成了工单", "made the order from the maintenance plan"),
    ("assigned", "派了工", "dispatched it"),
    ("acknowledged", "接了单", "acknowledged it"),
    ("started", "开始维修", "started the repair"),
    ("paused", "暂停了维修", "paused the repair"),
    ("completed", "完成了维修", "completed the repair"),
    ("verified", "验收了", "verified the repair"),
    ("reopened", "重新打开了", "reopened it"),
    ("cancelled", "取消了", "cancelled it"),
    ("merged as a duplicate", "合并为重复报修", "merged it as a duplicate"),
    ("part used", "用了配件", "used a part"),
    ("part corrected", "改了配件数量", "corrected a part"),
    ("priority", "改了紧急程度", "changed the priority"),
    ("due time", "改了期限", "changed the due time"),
    ("category", "改了类别", "changed the category"),
    ("title", "改了标题", "changed the title"),
    ("description", "改了描述", "changed the description"),
    ("started stocktake", "开始了盘点", "started the stocktake"),
    ("count", "盘点了一个货位", "counted a bin"),
    ("recount", "复盘了一个货位", "recounted a bin"),
    ("corrected count", "更正了自己的盘点", "corrected a count"),
    ("recount requested", "要求复盘", "asked for a recount"),
    ("settled bin", "确定了一个货位的数量", "settled a bin"),
    ("closed", "结束了盘点", "closed counting"),
    ("approved", "审批了盘点", "approved the stocktake"),
    ("found asset", "找到了一项资产", "found an asset"),
];

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
    match PHRASES.iter().find(|(known, ..)| *known == summary) {
        Some((_, chinese, english)) => (if language == Language::Chinese { *chinese } else { *english }).to_owned(),
        None => summary.to_owned(),
    }
}
