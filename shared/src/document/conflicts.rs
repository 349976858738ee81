//! Concurrent edits of the same field, shown side by side and resolved by a person.
//!
//! Automerge keeps every concurrent value of a map key and picks one deterministically as
//! the current value; Houqin never hides the others. [`conflicts`] lists each such field
//! with all its values and who wrote each when; [`resolve`] writes the chosen value again,
//! as a new change that supersedes them all.

use automerge::transaction::Transactable as _;
use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc as _, ScalarValue, Value, ValueRef};

use super::history::split_message;
use super::{DocumentError, Edit, commit, invalid};
use crate::time::Timestamp;

/// One of the concurrent values of a field.
#[derive(Clone, Debug, PartialEq)]
pub struct ConflictingValue {
    /// Identifies this value for [`resolve`] (Automerge's operation id).
    pub id: String,
    pub value: ConflictValue,
    pub actor: String,
    /// The person the change names (see [`super::history::HistoryEntry::user`]).
    pub user: Option<String>,
    pub at: Timestamp,
}

/// A value as a person sees it.
#[derive(Clone, Debug, PartialEq)]
pub enum ConflictValue {
    Scalar(ScalarValue),
    /// A map, such as an answer, given concurrently with another at the same key: its
    /// fields, text included, rendered for display.
    Map(Vec<(String, String)>),
    /// A list or text created concurrently with another at the same key.
    Object(ObjType),
}

/// A field with more than one current value.
#[derive(Clone, Debug, PartialEq)]
pub struct Conflict {
    /// Map keys from the document root.
    pub path: Vec<String>,
    /// In Automerge's order; the last is the one shown as current until resolved.
    pub values: Vec<ConflictingValue>,
}

/// Whether the root map `collection` of `doc` (a round's `answers`, say) holds a key with
/// more than one value: one pass over its keys, not a walk of the document. An answer given
/// again is a new map at its key, so answers given concurrently show here.
pub fn collection_has_conflicts(doc: &AutoCommit, collection: &str) -> bool {
    match doc.get(&ROOT, collection) {
        Ok(Some((Value::Object(ObjType::Map), map))) => doc.map_range(&map, ..).any(|item| item.conflict),
        _ => false,
    }
}

/// Every conflicting field of `doc`, in key order, depth first. Reading who made each value
/// needs a document without a pending transaction: only a document with conflicts is copied
/// for that.
pub fn conflicts(doc: &AutoCommit) -> Result<Vec<Conflict>, DocumentError> {
    let mut keys = Vec::new();
    let mut pending = vec![(ROOT, Vec::<String>::new())];
    while let Some((object, path)) = pending.pop() {
        // One pass over the map says which keys hold more than one value and which hold
        // maps to descend into.
        let entries: Vec<(String, bool, Option<ObjId>)> = doc
            .map_range(&object, ..)
            .map(|item| {
                let child = matches!(item.value, ValueRef::Object(ObjType::Map)).then(|| item.id());
                (item.key.into_owned(), item.conflict, child)
            })
            .collect();
        for (key, conflict, child) in entries.into_iter().rev() {
            let mut key_path = path.clone();
            key_path.push(key);
            if conflict {
                keys.push((object.clone(), key_path.clone()));
            }
            if let Some(child) = child {
                pending.push((child, key_path));
            }
        }
    }
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    // Only conflicting keys are read value by value.
    let mut doc = doc.clone();
    let mut found = Vec::with_capacity(keys.len());
    for (object, path) in keys {
        let key = path.last().expect("a conflicting key has a path");
        let values: Vec<(Value<'static>, ObjId)> =
            doc.get_all(&object, key.as_str())?.into_iter().map(|(value, id)| (value.to_owned(), id)).collect();
        let conflicting = values.iter().map(|(value, id)| describe(&mut doc, value, id)).collect();
        found.push(Conflict { path, values: conflicting });
    }
    Ok(found)
}

fn describe(doc: &mut AutoCommit, value: &Value<'_>, id: &ObjId) -> ConflictingValue {
    let value = match value {
        Value::Object(ObjType::Map) => ConflictValue::Map(
            map_fields(doc, id)
                .into_iter()
                .map(|(key, field)| {
                    let shown = match field {
                        Field::Scalar(scalar) => scalar.to_string(),
                        Field::Text(text) => text,
                    };
                    (key, shown)
                })
                .collect(),
        ),
        Value::Object(kind) => ConflictValue::Object(*kind),
        Value::Scalar(scalar) => ConflictValue::Scalar(scalar.as_ref().clone()),
    };
    let change = doc.hash_for_opid(id).and_then(|hash| doc.get_change_by_hash(&hash));
    let (actor, user, at) = match &change {
        Some(change) => (
            change.actor_id().to_hex_string(),
            split_message(change.message()).0,
            Timestamp::from_millis(change.timestamp().saturating_mul(1000)),
        ),
        None => (String::new(), None, Timestamp::from_millis(0)),
    };
    ConflictingValue { id: id.to_string(), value, actor, user, at }
}

/// A field of a map as conflicts show and copy it.
#[derive(PartialEq)]
enum Field {
    Scalar(ScalarValue),
    Text(String),
}

/// The scalar and text fields of a map (nested objects other than text are not part of
/// the values Houqin keeps in conflicting maps).
fn map_fields(doc: &AutoCommit, map: &ObjId) -> Vec<(String, Field)> {
    let mut fields = Vec::new();
    for item in doc.map_range(map, ..) {
        let value = Value::from(item.value.clone());
        match value {
            Value::Scalar(scalar) => fields.push((item.key.to_string(), Field::Scalar(scalar.into_owned()))),
            Value::Object(ObjType::Text) => {
                if let Ok(text) = doc.text(item.id()) {
                    fields.push((item.key.to_string(), Field::Text(text)));
                }
            }
            Value::Object(_) => {}
        }
    }
    fields
}

/// The map reached from the root through the maps named by `path`.
fn map_at(doc: &AutoCommit, path: &[String]) -> Option<ObjId> {
    let mut object = ROOT;
    for key in path {
        object = match doc.get(&object, key.as_str()) {
            Ok(Some((Value::Object(ObjType::Map), child))) => child,
            _ => return None,
        };
    }
    Some(object)
}

/// Whether the map at `path` in `after` holds exactly the fields of one of the values at
/// `path` in `before`: a settled conflict keeps someone's answer as they gave it, their
/// name included.
pub(crate) fn keeps_a_value(before: &AutoCommit, after: &AutoCommit, path: &[String]) -> bool {
    let Some((key, parents)) = path.split_last() else { return false };
    let (Some(old), Some(new)) = (map_at(before, parents), map_at(after, parents)) else { return false };
    let Ok(Some((Value::Object(ObjType::Map), kept))) = after.get(&new, key.as_str()) else { return false };
    let kept = map_fields(after, &kept);
    let values = before.get_all(&old, key.as_str()).unwrap_or_default();
    values.into_iter().any(|(value, id)| matches!(value, Value::Object(ObjType::Map)) && map_fields(before, &id) == kept)
}

/// Settles the conflict at `path` on the value whose id is `chosen`, as a change by `edit`.
pub fn resolve(doc: &mut AutoCommit, path: &[String], chosen: &str, edit: &Edit) -> Result<(), DocumentError> {
    let (key, parents) = path.split_last().ok_or_else(|| invalid("conflict path", "", "a path to a field"))?;
    let object = map_at(doc, parents).ok_or_else(|| invalid("conflict path", &path.join("."), "a path of maps to a field"))?;
    let values = doc.get_all(&object, key.as_str())?;
    let Some((value, _)) = values.iter().find(|(_, id)| id.to_string() == chosen) else {
        return Err(invalid("chosen value", chosen, "the id of one of the field's current values"));
    };
    match value {
        Value::Scalar(scalar) => {
            doc.put(&object, key.as_str(), scalar.as_ref().clone())?;
        }
        Value::Object(ObjType::Map) => {
            // A new map with the chosen one's fields supersedes every concurrent map.
            let chosen_id = values.iter().find(|(_, id)| id.to_string() == chosen).map(|(_, id)| id.clone()).expect("found above");
            let fields = map_fields(doc, &chosen_id);
            let copy = doc.put_object(&object, key.as_str(), ObjType::Map)?;
            for (field, value) in fields {
                match value {
                    Field::Scalar(scalar) => doc.put(&copy, field.as_str(), scalar)?,
                    Field::Text(text) => {
                        let text_object = doc.put_object(&copy, field.as_str(), ObjType::Text)?;
                        doc.splice_text(&text_object, 0, 0, &text)?;
                    }
                }
            }
        }
        Value::Object(_) => {
            return Err(invalid("chosen value", chosen, "a value or a map; concurrently created lists cannot be chosen"));
        }
    }
    commit(doc, edit, &format!("resolved conflict at {}", path.join(".")));
    Ok(())
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;
    use expect_test::expect;

    use super::*;
    use crate::directory::SiteId;
    use crate::document::EntryId;
    use crate::document::history::history;
    use crate::document::testing::edit;
    use crate::document::work_order::{Category, NewWorkOrder, Priority, WorkOrder};

    #[test]
    fn concurrent_edits_are_listed_with_who_and_when_then_resolved() {
        let new = NewWorkOrder {
            site: SiteId::parse("hq").unwrap(),
            title: "Leaking tap".into(),
            description: String::new(),
            location: "hq-canteen".into(),
            asset: None,
            category: Category::Plumbing,
            priority: Priority::Normal,
            due_at: None,
            source: None,
        };
        let order = WorkOrder::report(ActorId::from([1; 16]), &new, &EntryId::parse("e1").unwrap(), &edit("inspector", 1_000_000)).unwrap();
        let mut dispatcher = WorkOrder::from_doc(order.doc().clone().with_actor(ActorId::from([2; 16]))).unwrap();
        let mut technician = WorkOrder::from_doc(order.doc().clone().with_actor(ActorId::from([3; 16]))).unwrap();
        dispatcher.set_priority(Priority::Urgent, &edit("manager", 2_000_000));
        technician.set_priority(Priority::Low, &edit("tech", 3_000_000));
        technician.set_title("Leaking tap, canteen sink 2", &edit("tech", 3_000_000)).unwrap();
        let mut merged = dispatcher.doc().clone();
        merged.merge(&mut technician.doc().clone()).unwrap();

        let found = conflicts(&merged).unwrap();
        let rendered: Vec<String> = found
            .iter()
            .flat_map(|conflict| {
                conflict
                    .values
                    .iter()
                    .map(move |value| format!("{} = {:?} by {:?} at {}", conflict.path.join("."), value.value, value.user, value.at))
            })
            .collect();
        expect![[r#"
            [
                "priority = Scalar(Str(\"urgent\")) by Some(\"manager\") at 2000000ms",
                "priority = Scalar(Str(\"low\")) by Some(\"tech\") at 3000000ms",
            ]
        "#]]
        .assert_debug_eq(&rendered);

        let chosen = found[0].values.iter().find(|value| value.user.as_deref() == Some("manager")).unwrap().id.clone();
        resolve(&mut merged, &found[0].path, &chosen, &edit("manager", 4_000_000)).unwrap();
        assert!(conflicts(&merged).unwrap().is_empty());
        let resolved = WorkOrder::from_doc(merged.clone()).unwrap().read().unwrap();
        assert_eq!(resolved.priority, Priority::Urgent);
        assert_eq!(resolved.title, "Leaking tap, canteen sink 2");

        let log: Vec<String> =
            history(&mut merged).iter().map(|entry| format!("{} {:?} {}", entry.at, entry.user, entry.summary)).collect();
        expect![[r#"
            [
                "1000000ms Some(\"inspector\") reported",
                "2000000ms Some(\"manager\") priority",
                "3000000ms Some(\"tech\") priority",
                "3000000ms Some(\"tech\") title",
                "4000000ms Some(\"manager\") resolved conflict at priority",
            ]
        "#]]
        .assert_debug_eq(&log);

        let wrong = resolve(&mut merged, &["priority".to_owned()], "1@00", &edit("manager", 5_000_000)).unwrap_err();
        assert_eq!(wrong.to_string(), "invalid chosen value \"1@00\": the id of one of the field's current values");
    }
}

#[cfg(test)]
mod answer_conflicts {
    use automerge::ActorId;

    use super::*;
    use crate::document::EntryId;
    use crate::document::inspection::{AnswerValue, Inspection};
    use crate::document::testing::{edit, fire_round_at_hq};

    /// The round `start` with one answer given on one phone.
    fn first_alone(start: &Inspection) -> AutoCommit {
        let mut alone = Inspection::from_doc(start.doc().clone().with_actor(ActorId::from([4; 16]))).unwrap();
        alone.answer(None, &EntryId::parse("exits-clear").unwrap(), &AnswerValue::Pass, &edit("inspector", 2_000)).unwrap();
        alone.into_doc()
    }

    #[test]
    fn two_answers_to_one_item_are_shown_and_one_is_chosen() {
        let start = Inspection::start(ActorId::from([1; 16]), &fire_round_at_hq(&[]), &edit("inspector", 1_000)).unwrap();
        let mut first = Inspection::from_doc(start.doc().clone().with_actor(ActorId::from([2; 16]))).unwrap();
        let mut second = Inspection::from_doc(start.doc().clone().with_actor(ActorId::from([3; 16]))).unwrap();
        let item = EntryId::parse("exits-clear").unwrap();
        first.answer(None, &item, &AnswerValue::Pass, &edit("inspector", 2_000)).unwrap();
        second.answer(None, &item, &AnswerValue::Fail, &edit("manager", 3_000)).unwrap();
        let mut merged = first.into_doc();
        merged.merge(second.doc_mut()).unwrap();

        assert!(!collection_has_conflicts(&first_alone(&start), "answers"), "one phone's answer differs from nothing");
        assert!(collection_has_conflicts(&merged, "answers"));
        let found = conflicts(&merged).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].path, ["answers", "-/exits-clear"]);
        let shown: Vec<String> = found[0]
            .values
            .iter()
            .map(|value| match &value.value {
                ConflictValue::Map(fields) => fields.iter().map(|(key, value)| format!("{key}={value}")).collect::<Vec<_>>().join(" "),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(shown, ["at=2000 kind=\"pass\" user=\"inspector\"", "at=3000 kind=\"fail\" user=\"manager\""]);

        let manager_answer = found[0].values.iter().find(|value| value.user.as_deref() == Some("manager")).unwrap().id.clone();
        resolve(&mut merged, &found[0].path, &manager_answer, &edit("manager", 4_000)).unwrap();
        assert!(conflicts(&merged).unwrap().is_empty());
        assert!(!collection_has_conflicts(&merged, "answers"), "resolved");
        let view = Inspection::from_doc(merged).unwrap().read().unwrap();
        let answer = &view.answers[&("-".to_owned(), item)];
        assert_eq!((answer.value.clone(), answer.user.as_str()), (AnswerValue::Fail, "manager"));
    }
}
