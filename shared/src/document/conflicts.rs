//! Concurrent edits of the same field, shown side by side and resolved by a person.
//!
//! Automerge keeps every concurrent value of a map key and picks one deterministically as
//! the current value; Houqin never hides the others. [`conflicts`] lists each such field
//! with all its values and who wrote each when; [`resolve`] writes the chosen value again,
//! as a new change that supersedes them all.

use automerge::transaction::Transactable as _;
use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc as _, ScalarValue, Value};

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
    /// A map, list or text created concurrently with another at the same key.
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

/// Every conflicting field of `doc`, in key order, depth first.
pub fn conflicts(doc: &mut AutoCommit) -> Result<Vec<Conflict>, DocumentError> {
    let mut found = Vec::new();
    let mut pending = vec![(ROOT, Vec::<String>::new())];
    while let Some((object, path)) = pending.pop() {
        let keys: Vec<String> = doc.keys(&object).collect();
        for key in keys.into_iter().rev() {
            let mut key_path = path.clone();
            key_path.push(key.clone());
            let values: Vec<(Value<'static>, ObjId)> =
                doc.get_all(&object, key.as_str())?.into_iter().map(|(value, id)| (value.to_owned(), id)).collect();
            if values.len() > 1 {
                let mut conflicting = Vec::new();
                for (value, id) in &values {
                    conflicting.push(describe(doc, value, id));
                }
                found.push(Conflict { path: key_path.clone(), values: conflicting });
            }
            if let Some((Value::Object(ObjType::Map), child)) = values.last() {
                pending.push((child.clone(), key_path));
            }
        }
    }
    Ok(found)
}

fn describe(doc: &mut AutoCommit, value: &Value<'_>, id: &ObjId) -> ConflictingValue {
    let value = match value {
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

/// Settles the conflict at `path` on the value whose id is `chosen`, as a change by `edit`.
pub fn resolve(doc: &mut AutoCommit, path: &[String], chosen: &str, edit: &Edit) -> Result<(), DocumentError> {
    let (key, parents) = path.split_last().ok_or_else(|| invalid("conflict path", "", "a path to a field"))?;
    let mut object = ROOT;
    for parent in parents {
        object = match doc.get(&object, parent.as_str())? {
            Some((Value::Object(ObjType::Map), child)) => child,
            _ => return Err(invalid("conflict path", &path.join("."), "a path of maps to a field")),
        };
    }
    let values = doc.get_all(&object, key.as_str())?;
    let Some((value, _)) = values.iter().find(|(_, id)| id.to_string() == chosen) else {
        return Err(invalid("chosen value", chosen, "the id of one of the field's current values"));
    };
    match value {
        Value::Scalar(scalar) => {
            doc.put(&object, key.as_str(), scalar.as_ref().clone())?;
        }
        Value::Object(_) => {
            return Err(invalid("chosen value", chosen, "a plain value; concurrently created objects cannot be chosen"));
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
    use crate::directory::{SiteId, Username};
    use crate::document::EntryId;
    use crate::document::history::history;
    use crate::document::work_order::{NewWorkOrder, Priority, WorkOrder};

    fn edit(user: &str, at: i64) -> Edit {
        Edit::new(Username::parse(user).unwrap(), Timestamp::from_millis(at))
    }

    #[test]
    fn concurrent_edits_are_listed_with_who_and_when_then_resolved() {
        let new = NewWorkOrder {
            site: SiteId::parse("hq").unwrap(),
            title: "Leaking tap".into(),
            description: String::new(),
            location: "hq-canteen".into(),
            asset: None,
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

        let found = conflicts(&mut merged).unwrap();
        let rendered: Vec<String> = found
            .iter()
            .flat_map(|conflict| {
                conflict.values.iter().map(move |value| {
                    format!("{} = {:?} by {:?} at {}", conflict.path.join("."), value.value, value.user, value.at)
                })
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
        assert!(conflicts(&mut merged).unwrap().is_empty());
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
