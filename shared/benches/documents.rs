//! Benchmarks of the document model: the costs a phone pays while working and syncing.
//!
//! Run with `cargo bench -p shared`; results and their command are in BENCHMARKS.md.

use std::hint::black_box;

use automerge::{ActorId, AutoCommit};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use shared::directory::{SiteId, Username};
use shared::document::catalog::{IndexEntry, SiteCatalog};
use shared::document::inspection::{AnswerValue, Inspection, NewInspection};
use shared::document::template::{Checklist, ChecklistItem, ItemKind, Label, Section};
use shared::document::work_order::{Category, EventKind, NewWorkOrder, Priority, WorkOrder};
use shared::document::{BlobRef, DocumentType, Edit, EntryId, blob_refs, policy};
use shared::kpi::{self, Period, WorkOrderSummary};
use shared::time::Timestamp;

fn edit(user: &str, at: i64) -> Edit {
    Edit::new(Username::parse(user).unwrap(), Timestamp::from_millis(at))
}

fn id(text: &str) -> EntryId {
    EntryId::parse(text).unwrap()
}

fn checklist(items: usize) -> Checklist {
    Checklist {
        name: Label::new("巡检", "Round"),
        category: "fire_safety".into(),
        version: 1,
        sections: vec![Section { id: id("main"), order: 0, title: Label::new("主要", "Main") }],
        items: (0..items)
            .map(|index| ChecklistItem {
                id: id(&format!("item-{index}")),
                section: id("main"),
                order: index as i64,
                label: Label::new(&format!("检查项 {index}"), &format!("Item {index}")),
                kind: ItemKind::PassFail,
                required: true,
                photo_on_fail: false,
                weight: None,
            })
            .collect(),
    }
}

fn inspection_of(items: usize) -> Inspection {
    let new = NewInspection {
        site: SiteId::parse("hq").unwrap(),
        template: "automerge:template".into(),
        checklist: checklist(items),
        location: "hq-b1".into(),
        rooms: Vec::new(),
        assignees: vec![Username::parse("inspector").unwrap()],
    };
    Inspection::start(ActorId::from([1; 16]), &new, &edit("inspector", 0)).unwrap()
}

fn work_order() -> WorkOrder {
    let new = NewWorkOrder {
        site: SiteId::parse("hq").unwrap(),
        title: "空调不制冷".into(),
        description: "301 室空调吹热风".into(),
        location: "hq-301".into(),
        asset: Some("ac-301".into()),
        category: Category::Hvac,
        priority: Priority::High,
        due_at: None,
        source: None,
    };
    WorkOrder::report(ActorId::from([1; 16]), &new, &id("reported"), &edit("inspector", 0)).unwrap()
}

fn inspections(c: &mut Criterion) {
    c.bench_function("inspection: create with 100 items and answer all", |b| {
        b.iter(|| {
            let mut inspection = inspection_of(100);
            for index in 0..100 {
                inspection.answer(None, &id(&format!("item-{index}")), &AnswerValue::Pass, &edit("inspector", index)).unwrap();
            }
            black_box(inspection.doc_mut().save())
        });
    });
}

fn files(c: &mut Criterion) {
    // The server finds the files a document refers to on every change it stores.
    let mut inspection = inspection_of(100);
    for index in 0..100 {
        inspection.answer(None, &id(&format!("item-{index}")), &AnswerValue::Fail, &edit("inspector", index)).unwrap();
    }
    for index in 0..10 {
        let blob = BlobRef { sha256: format!("{index:064x}"), size: 120_000, mime: "image/jpeg".into() };
        inspection
            .add_photo(&id(&format!("photo-{index}")), None, &id(&format!("item-{index}")), &blob, &edit("inspector", 200 + index))
            .unwrap();
    }
    let doc = inspection.into_doc();
    assert_eq!(blob_refs(&doc).len(), 10);
    c.bench_function("files: the file references of a 100-item round with 10 photos", |b| b.iter(|| black_box(blob_refs(black_box(&doc)))));
}

fn merges(c: &mut Criterion) {
    // Two phones, each with 500 answers made while apart.
    let mut base = inspection_of(1000);
    let mut first = base.doc_mut().fork().with_actor(ActorId::from([2; 16]));
    let mut second = base.doc_mut().fork().with_actor(ActorId::from([3; 16]));
    for (doc, offset, user) in [(&mut first, 0, "inspector"), (&mut second, 500, "manager")] {
        let mut inspection = Inspection::from_doc(doc.clone()).unwrap();
        for index in offset..offset + 500 {
            inspection.answer(None, &id(&format!("item-{index}")), &AnswerValue::Fail, &edit(user, index)).unwrap();
        }
        *doc = inspection.into_doc();
    }
    c.bench_function("merge: two replicas with 500 concurrent edits each", |b| {
        b.iter_batched(
            || (first.clone(), second.clone()),
            |(mut into, mut from)| black_box(into.merge(&mut from).unwrap()),
            BatchSize::LargeInput,
        );
    });
}

fn work_orders(c: &mut Criterion) {
    let mut order = work_order();
    let assignee = Username::parse("tech").unwrap();
    for index in 0..1000i64 {
        let kind = match index % 4 {
            0 => EventKind::Assigned { assignee: assignee.clone() },
            1 => EventKind::Started,
            2 => EventKind::Paused { reason: "等待配件".into() },
            _ => EventKind::Acknowledged,
        };
        order.record(&id(&format!("e{index:04}")), &kind, &edit("tech", 1000 + index));
    }
    let bytes = order.doc_mut().save();
    c.bench_function("work order: load 1,000 events and fold", |b| {
        b.iter(|| {
            let order = WorkOrder::load(black_box(&bytes)).unwrap();
            black_box(order.read().unwrap().state())
        });
    });
}

fn kpis(c: &mut Criterion) {
    let orders: Vec<WorkOrderSummary> = (0..10_000i64)
        .map(|index| {
            let mut order = work_order();
            if index == 0 {
                order.record(&id("start"), &EventKind::Started, &edit("tech", 600_000));
            }
            let mut summary = WorkOrderSummary::from_view(&format!("wo{index}"), &order.read().unwrap());
            summary.reported_at = Timestamp::from_millis(index * 60_000);
            summary.first_response_at = Some(Timestamp::from_millis(index * 60_000 + (index % 97) * 60_000));
            summary.completed_at = (index % 3 == 0).then(|| Timestamp::from_millis(index * 60_000 + (index % 389) * 60_000));
            summary.asset = Some(format!("asset-{}", index % 250));
            summary
        })
        .collect();
    let period = Period { from: Timestamp::from_millis(0), to: Timestamp::from_millis(10_000 * 60_000) };
    c.bench_function("kpi: dashboard over 10,000 work order summaries", |b| {
        b.iter(|| black_box(kpi::compute(period, Timestamp::from_millis(20_000 * 60_000), black_box(&orders), &[], &[])));
    });
}

fn catalogs(c: &mut Criterion) {
    // A site's index after years of work: 20,000 documents, each listed by its own change.
    let mut catalog = SiteCatalog::create(ActorId::from([1; 16]), &SiteId::parse("hq").unwrap(), "总部", &edit("admin", 0));
    for index in 0..20_000i64 {
        let entry = IndexEntry {
            document: format!("doc{index:05}"),
            document_type: DocumentType::Inspection,
            title: format!("消防安全巡检 B{}", index % 12),
            status: "submitted".into(),
            location: format!("hq-b{}", index % 12),
            updated_at: Timestamp::from_millis(index * 60_000),
        };
        catalog.index_document(&entry, &edit("inspector", index * 60_000)).unwrap();
    }
    let bytes = catalog.doc_mut().save();
    println!("catalog with 20,000 index entries: {} bytes saved", bytes.len());
    c.bench_function("catalog: load 20,000 index entries", |b| b.iter(|| black_box(AutoCommit::load(black_box(&bytes)).unwrap())));
    let loaded = SiteCatalog::load(&bytes).unwrap();
    c.bench_function("catalog: read 20,000 index entries", |b| b.iter(|| black_box(loaded.read().unwrap().index.len())));

    let mut base = AutoCommit::load(&bytes).unwrap();
    let mut phone = SiteCatalog::from_doc(base.fork().with_actor(ActorId::from([9; 16]))).unwrap();
    for index in 0..500i64 {
        let entry = IndexEntry {
            document: format!("new{index:03}"),
            document_type: DocumentType::WorkOrder,
            title: "报修".into(),
            status: "reported".into(),
            location: "hq-b1".into(),
            updated_at: Timestamp::from_millis(index),
        };
        phone.index_document(&entry, &edit("tech", index)).unwrap();
    }
    let phone = phone.into_doc();
    c.bench_function("catalog: merge 500 new index entries into 20,000", |b| {
        b.iter_batched(
            || (base.clone(), phone.clone()),
            |(mut into, mut from)| black_box(into.merge(&mut from).unwrap()),
            BatchSize::LargeInput,
        );
    });

    // What the server does with a phone's message listing one new document: check it
    // against the write policy (a walk of the change, then a read of what it touched).
    let mut one = SiteCatalog::from_doc(base.fork().with_actor(ActorId::from([8; 16]))).unwrap();
    let entry = IndexEntry {
        document: "one".into(),
        document_type: DocumentType::WorkOrder,
        title: "报修".into(),
        status: "reported".into(),
        location: "hq-b1".into(),
        updated_at: Timestamp::from_millis(1),
    };
    one.index_document(&entry, &edit("tech", 1)).unwrap();
    let mut after = base.clone();
    after.merge(&mut one.into_doc()).unwrap();
    let since = base.get_heads();
    let document = shared::protocol::DocumentId::from_random([7; 16]);
    let tech = Username::parse("tech").unwrap();
    let writer = policy::Writer { user: &tech, role: shared::directory::Role::Technician };
    c.bench_function("policy: check one new index entry in a 20,000-entry catalog", |b| {
        b.iter(|| black_box(policy::check(&document, &base, &since, &mut after, writer).is_ok()));
    });
}

fn policies(c: &mut Criterion) {
    let mut order = work_order();
    let base = order.doc_mut().clone();
    order.record(&id("started"), &EventKind::Started, &edit("tech", 10));
    let mut after = order.into_doc();
    let since = base.clone().get_heads();
    let document = shared::protocol::DocumentId::from_random([6; 16]);
    let tech = Username::parse("tech").unwrap();
    let writer = policy::Writer { user: &tech, role: shared::directory::Role::Technician };
    c.bench_function("policy: check one step on a work order", |b| {
        b.iter(|| black_box(policy::check(&document, &base, &since, &mut after, writer).is_ok()));
    });

    // What the server checks for each round a phone pushes: the whole new document.
    let checklist = shared::document::seeds::fire_safety();
    let inspector = Username::parse("inspector").unwrap();
    let new = NewInspection {
        site: SiteId::parse("hq").unwrap(),
        template: "automerge:fire".into(),
        checklist: checklist.clone(),
        location: "hq-b1".into(),
        rooms: Vec::new(),
        assignees: vec![inspector.clone()],
    };
    let mut round = Inspection::start(ActorId::from([5; 16]), &new, &edit("inspector", 1)).unwrap();
    for item in &checklist.items {
        let value = match &item.kind {
            ItemKind::Number { .. } => AnswerValue::Number(1_500),
            ItemKind::Text => AnswerValue::Text("通道畅通，无杂物".into()),
            ItemKind::Signature => AnswerValue::Blob(BlobRef::new(&"5e".repeat(32), 20_480, "image/png").unwrap()),
            _ => AnswerValue::Pass,
        };
        round.answer(None, &item.id, &value, &edit("inspector", 2)).unwrap();
    }
    let mut pushed = round.into_doc();
    let walker = policy::Writer { user: &inspector, role: shared::directory::Role::Inspector };
    let empty = AutoCommit::new();
    c.bench_function("policy: check a new fire-safety round, every item answered", |b| {
        b.iter(|| black_box(policy::check(&document, &empty, &[], &mut pushed, walker).is_ok()));
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = inspections, files, merges, work_orders, kpis, catalogs, policies
}
criterion_main!(benches);
