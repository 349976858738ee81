//! Documents written by earlier schema versions open in this one, with nothing lost.
//!
//! Fixtures are the bytes an earlier build saved; they are never regenerated.

use automerge::ActorId;
use shared::directory::Username;
use shared::document::work_order::{Category, Status, WorkOrder};
use shared::document::{DocumentError, Edit, read_header};
use shared::time::Timestamp;

/// A repair saved by schema 1, before work orders had a category.
const WORK_ORDER_SCHEMA_1: &[u8] = include_bytes!("../fixtures/work_order_schema1.automerge");

#[test]
fn a_schema_1_work_order_opens_with_its_history_intact() {
    let mut order = WorkOrder::load(WORK_ORDER_SCHEMA_1).unwrap();
    let view = order.read().unwrap();
    assert_eq!(view.header.schema, 1);
    assert_eq!(view.title, "3号楼301室空调不制冷");
    assert_eq!(view.description, "开机后吹热风，已持续两天。");
    assert_eq!(view.category, Category::Other, "schema 1 had no category: it reads as other");
    assert_eq!((view.events.len(), view.parts.len(), view.comments.len()), (4, 1, 1));
    let state = view.state();
    assert_eq!(state.status, Status::Completed);
    assert_eq!(state.response_millis(), Some(2_000_000));
    assert_eq!(state.repair_millis(), Some(5_000_000));

    // This version edits it in place; the schema records the version that created it.
    let mut order_doc = order.doc_mut().fork().with_actor(ActorId::from([0x22; 16]));
    let mut edited = WorkOrder::from_doc(order_doc.clone()).unwrap();
    let edit = Edit::new(Username::parse("manager").unwrap(), Timestamp::from_millis(1_790_000_000_000));
    edited.set_category(Category::Hvac, &edit);
    order_doc = edited.into_doc();
    let view = WorkOrder::from_doc(order_doc.clone()).unwrap().read().unwrap();
    assert_eq!(view.category, Category::Hvac);
    assert_eq!(read_header(&order_doc).unwrap().schema, 1);
}

#[test]
fn a_document_from_a_newer_version_is_refused_with_advice() {
    let mut doc = automerge::AutoCommit::load(WORK_ORDER_SCHEMA_1).unwrap();
    automerge::transaction::Transactable::put(&mut doc, automerge::ROOT, "schema", 99i64).unwrap();
    let error = WorkOrder::from_doc(doc).err().unwrap();
    assert!(matches!(error, DocumentError::NewerSchema { found: 99, .. }));
    assert_eq!(error.to_string(), "work_order schema 99 is newer than this app understands (3): update the app");
}
