//! The write policy: each finding of an attack on the sync endpoint, as the rule that now
//! refuses it, with the honest edit beside it still allowed; and a property that random
//! edits by random roles, checked one message at a time, never leave a document the model
//! cannot read.

use automerge::transaction::Transactable as _;
use automerge::{ActorId, AutoCommit, ROOT, ReadDoc as _};
use proptest::prelude::*;
use shared::directory::{Role, SiteId, Username};
use shared::document::catalog::{MovementKind, Place, PlaceKind, SiteCatalog};
use shared::document::policy::{Refusal, Writer, check};
use shared::document::stocktake::{Mode, NewStocktake, Stocktake};
use shared::document::work_order::{Category, EventKind, NewWorkOrder, Priority, WorkOrder};
use shared::document::{Edit, EntryId};
use shared::protocol::DocumentId;
use shared::quantity::Quantity;
use shared::time::Timestamp;

fn document() -> DocumentId {
    DocumentId::from_random(*b"policy-under-tst")
}

fn user(name: &str) -> Username {
    Username::parse(name).unwrap()
}

fn edit(name: &str) -> Edit {
    Edit::new(user(name), Timestamp::from_millis(1_780_000_000_000))
}

fn id(value: &str) -> EntryId {
    EntryId::parse(value).unwrap()
}

fn site() -> SiteId {
    SiteId::parse("hq").unwrap()
}

/// The server's copy after `change` arrives from `name`'s phone (a fork with its own
/// actor), checked as the server checks it: the verdict, and the copy it was given on.
fn attempted(stored: &AutoCommit, name: &str, role: Role, change: impl FnOnce(&mut AutoCommit)) -> (Result<(), Refusal>, AutoCommit) {
    let mut phone = stored.clone().with_actor(ActorId::from(name.as_bytes()));
    change(&mut phone);
    let mut after = stored.clone();
    after.merge(&mut phone).unwrap();
    let since = stored.clone().get_heads();
    let verdict = check(&document(), stored, &since, &mut after, Writer { user: &user(name), role });
    (verdict, after)
}

fn attempt(stored: &AutoCommit, name: &str, role: Role, change: impl FnOnce(&mut AutoCommit)) -> Result<(), Refusal> {
    attempted(stored, name, role, change).0
}

/// A new document made on `name`'s phone, checked as the server checks its first push.
fn create(name: &str, role: Role, doc: AutoCommit) -> Result<(), Refusal> {
    let mut after = doc;
    check(&document(), &AutoCommit::new(), &[], &mut after, Writer { user: &user(name), role })
}

fn catalog() -> AutoCommit {
    let mut catalog = SiteCatalog::create(ActorId::from([1; 16]), &site(), "总部", &edit("admin"));
    let place = Place { id: id("b1"), kind: PlaceKind::Building, parent: None, name: "一号楼".into(), code: "B1".into() };
    catalog.put_place(&place, &edit("admin")).unwrap();
    catalog
        .record_movement(&id("m1"), MovementKind::Receive, &id("gloves"), Quantity::from_thousandths(10_000), "supplier", &edit("store"))
        .unwrap();
    catalog.into_doc()
}

fn order(reporter: &str) -> AutoCommit {
    let new = NewWorkOrder {
        site: site(),
        title: "水龙头漏水".into(),
        description: String::new(),
        location: "b1".into(),
        asset: None,
        category: Category::Plumbing,
        priority: Priority::Normal,
        due_at: None,
        source: None,
    };
    WorkOrder::report(ActorId::from([2; 16]), &new, &id("reported"), &edit(reporter)).unwrap().into_doc()
}

fn stocktake() -> AutoCommit {
    let new = NewStocktake {
        site: site(),
        location: "store".into(),
        mode: Mode::Open,
        expected: vec![("gloves".into(), Quantity::from_thousandths(10_000))],
        assets: Vec::new(),
    };
    let mut count = Stocktake::start(ActorId::from([3; 16]), &new, &edit("store")).unwrap();
    count.count(&id("c1"), "A1", "gloves", Quantity::from_thousandths(9_000), &edit("store")).unwrap();
    count.into_doc()
}

fn place_code(doc: &mut AutoCommit, code: impl Into<automerge::ScalarValue>) {
    let (_, places) = doc.get(ROOT, "places").unwrap().unwrap();
    let (_, place) = doc.get(&places, "b1").unwrap().unwrap();
    doc.put(&place, "code", code).unwrap();
    doc.commit();
}

#[test]
fn the_catalog_is_edited_by_administrators_only() {
    let stored = catalog();
    let refused = attempt(&stored, "inspector", Role::Inspector, |doc| place_code(doc, "B9"));
    assert!(matches!(refused, Err(Refusal::Role { role: Role::Inspector, .. })), "{refused:?}");
    assert_eq!(attempt(&stored, "admin", Role::Admin, |doc| place_code(doc, "B9")), Ok(()));
}

#[test]
fn anyone_lists_what_they_make_but_only_an_administrator_takes_an_entry_out() {
    use shared::document::catalog::IndexEntry;
    let entry = IndexEntry {
        document: "automerge:order".into(),
        document_type: shared::document::DocumentType::WorkOrder,
        title: "报修".into(),
        status: "reported".into(),
        location: "b1".into(),
        updated_at: Timestamp::from_millis(1_780_000_000_000),
    };
    let listing =
        |doc: &mut AutoCommit| SiteCatalog::edit_in(doc, |site| site.index_document(&entry, &edit("inspector")).unwrap()).unwrap();
    assert_eq!(attempt(&catalog(), "inspector", Role::Inspector, listing), Ok(()));
    let (_, listed) = attempted(&catalog(), "inspector", Role::Inspector, listing);
    let taking_out = |name: &'static str| {
        move |doc: &mut AutoCommit| {
            SiteCatalog::edit_in(doc, |site| site.remove_unreadable("index", "automerge:order", &edit(name)).unwrap()).unwrap();
        }
    };
    assert!(matches!(attempt(&listed, "inspector", Role::Inspector, taking_out("inspector")), Err(Refusal::Role { .. })));
    assert_eq!(attempt(&listed, "admin", Role::Admin, taking_out("admin")), Ok(()));
}

#[test]
fn a_wrongly_typed_field_is_refused_whoever_sends_it() {
    let stored = catalog();
    let refused = attempt(&stored, "admin", Role::Admin, |doc| place_code(doc, 42_i64));
    assert!(matches!(refused, Err(Refusal::Unreadable(_))), "{refused:?}");
    assert_eq!(refused.unwrap_err().code(), "unreadable");
}

/// An entry written before the policy held, wrongly typed: readers pass over it (and say
/// so), honest work on the document goes on, and a new bad entry is still refused.
#[test]
fn a_bad_entry_kept_from_before_hides_itself_and_the_order_goes_on() {
    let mut stored = order("inspector");
    let Some((_, events)) = stored.get(ROOT, "events").unwrap() else { panic!("an order has events") };
    let legacy = stored.put_object(&events, "legacy", automerge::ObjType::Map).unwrap();
    stored.put(&legacy, "kind", 7_i64).unwrap();
    stored.commit();

    let view = WorkOrder::read_doc(&stored).unwrap();
    assert_eq!(view.events.len(), 1, "the report still reads: {:?}", view.events);
    assert_eq!(view.unreadable.len(), 1);
    assert_eq!((view.unreadable[0].section.as_str(), view.unreadable[0].key.as_deref()), ("events", Some("legacy")));

    let started = attempt(&stored, "tech", Role::Technician, |doc| {
        WorkOrder::edit_in(doc, |order| order.record(&id("e3"), &EventKind::Started, &edit("tech"))).unwrap();
    });
    assert_eq!(started, Ok(()));
    let broken = attempt(&stored, "tech", Role::Technician, |doc| {
        let events = doc.get(ROOT, "events").unwrap().unwrap().1;
        let comment = doc.put_object(&events, "e4", automerge::ObjType::Map).unwrap();
        doc.put(&comment, "kind", "started").unwrap();
        doc.put(&comment, "user", "tech").unwrap();
        doc.put(&comment, "at", "yesterday").unwrap();
        doc.commit();
    });
    assert!(matches!(&broken, Err(Refusal::Unreadable(error)) if error.to_string().contains("events.e4.at")), "{broken:?}");
    let into_the_old = attempt(&stored, "tech", Role::Technician, |doc| {
        let legacy = doc.get(doc.get(ROOT, "events").unwrap().unwrap().1, "legacy").unwrap().unwrap().1;
        doc.put(&legacy, "note", "still bad").unwrap();
        doc.commit();
    });
    assert!(into_the_old.is_err(), "writing into an unreadable entry is refused: {into_the_old:?}");
}

#[test]
fn stock_movements_name_their_sender_and_are_never_rewritten() {
    let stored = catalog();
    let movement = |name: &'static str, by: &'static str, movement: &'static str| {
        move |doc: &mut AutoCommit| {
            SiteCatalog::edit_in(doc, |catalog| {
                catalog
                    .record_movement(
                        &id(movement),
                        MovementKind::Receive,
                        &id("gloves"),
                        Quantity::from_thousandths(1_000),
                        name,
                        &edit(by),
                    )
                    .unwrap();
            })
            .unwrap();
        }
    };
    let forged = attempt(&stored, "store", Role::Storekeeper, movement("supplier", "manager", "m2"));
    assert!(matches!(&forged, Err(Refusal::Name { named, .. }) if named == "manager"), "{forged:?}");
    assert_eq!(attempt(&stored, "store", Role::Storekeeper, movement("supplier", "store", "m2")), Ok(()));
    let inspector = attempt(&stored, "inspector", Role::Inspector, movement("supplier", "inspector", "m2"));
    assert!(matches!(inspector, Err(Refusal::Role { .. })), "an inspector receives no stock: {inspector:?}");
    let rewritten = attempt(&stored, "store", Role::Storekeeper, |doc| {
        let (_, ledger) = doc.get(ROOT, "ledger").unwrap().unwrap();
        let (_, entry) = doc.get(&ledger, "m1").unwrap().unwrap();
        doc.put(&entry, "quantity", 99_000_i64).unwrap();
        doc.commit();
    });
    assert!(matches!(rewritten, Err(Refusal::Written { .. })), "{rewritten:?}");
}

#[test]
fn an_order_speaks_for_its_sender_and_dispatch_is_a_managers() {
    // Reported in the manager's name from an inspector's phone.
    let forged = create("inspector", Role::Inspector, order("manager"));
    assert!(matches!(&forged, Err(Refusal::Name { field, .. }) if field == "created_by"), "{forged:?}");
    assert_eq!(create("inspector", Role::Inspector, order("inspector")), Ok(()));

    let stored = order("inspector");
    let assign = |by: &'static str| {
        move |doc: &mut AutoCommit| {
            WorkOrder::edit_in(doc, |order| order.record(&id("e2"), &EventKind::Assigned { assignee: user("tech") }, &edit(by))).unwrap();
        }
    };
    let self_dispatched = attempt(&stored, "inspector", Role::Inspector, assign("inspector"));
    assert!(matches!(self_dispatched, Err(Refusal::Role { .. })), "{self_dispatched:?}");
    assert_eq!(attempt(&stored, "manager", Role::Manager, assign("manager")), Ok(()));
    let contract = |by: &'static str| {
        move |doc: &mut AutoCommit| {
            WorkOrder::edit_in(doc, |order| order.record(&id("e2"), &EventKind::Contracted { vendor: id("lifts") }, &edit(by))).unwrap();
        }
    };
    let self_contracted = attempt(&stored, "tech", Role::Technician, contract("tech"));
    assert!(matches!(self_contracted, Err(Refusal::Role { .. })), "only a manager gives work to a contractor: {self_contracted:?}");
    assert_eq!(attempt(&stored, "manager", Role::Manager, contract("manager")), Ok(()));
    let started = attempt(&stored, "tech", Role::Technician, |doc| {
        WorkOrder::edit_in(doc, |order| order.record(&id("e3"), &EventKind::Started, &edit("tech"))).unwrap();
    });
    assert_eq!(started, Ok(()), "a technician takes an unassigned fault");
    let retitled = attempt(&stored, "tech", Role::Technician, |doc| {
        WorkOrder::edit_in(doc, |order| order.set_title("已修好", &edit("tech")).unwrap()).unwrap();
    });
    assert!(matches!(retitled, Err(Refusal::Role { .. })), "{retitled:?}");
}

/// Outside costs are added by those who work orders, time worked corrected by managers
/// only, rates set by administrators; an order from before costs were kept gets its
/// section from its first entry, once.
#[test]
fn costs_are_recorded_by_who_works_orders_and_corrected_by_managers_only() {
    use shared::document::catalog::{Rate, RateFor};
    use shared::document::work_order::Invoice;
    use shared::money::Money;

    let invoice = |vendor: &'static str, by: &'static str| {
        move |doc: &mut AutoCommit| {
            let mut order = WorkOrder::from_doc(std::mem::take(doc)).unwrap();
            let invoice = Invoice {
                id: id(&format!("inv-{by}")),
                amount: Money::yuan(120),
                vendor: vendor.to_owned(),
                note: String::new(),
                photo: None,
                user: user(by),
                at: Timestamp::from_millis(1),
            };
            order.add_invoice(&invoice, &edit(by)).unwrap();
            *doc = order.into_doc();
        }
    };
    let correct = |by: &'static str| {
        move |doc: &mut AutoCommit| {
            let mut order = WorkOrder::from_doc(std::mem::take(doc)).unwrap();
            order.correct_labour(&user("tech"), 90, None, &edit(by)).unwrap();
            *doc = order.into_doc();
        }
    };
    let stored = order("inspector");
    assert_eq!(attempt(&stored, "tech", Role::Technician, invoice("水电公司", "tech")), Ok(()));
    let refused = attempt(&stored, "inspector", Role::Inspector, invoice("水电公司", "inspector"));
    assert!(matches!(refused, Err(Refusal::Role { role: Role::Inspector, .. })), "{refused:?}");
    let refused = attempt(&stored, "tech", Role::Technician, correct("tech"));
    assert!(matches!(refused, Err(Refusal::Role { role: Role::Technician, .. })), "{refused:?}");
    assert_eq!(attempt(&stored, "manager", Role::Manager, correct("manager")), Ok(()));

    // An invoice, once added, is kept as written.
    let (verdict, with_invoice) = attempted(&stored, "tech", Role::Technician, invoice("水电公司", "tech"));
    assert_eq!(verdict, Ok(()));
    let refused = attempt(&with_invoice, "tech", Role::Technician, |doc| {
        let (_, invoices) = doc.get(ROOT, "invoices").unwrap().unwrap();
        let (_, entry) = doc.get(&invoices, "inv-tech").unwrap().unwrap();
        doc.put(&entry, "amount", 99_999_i64).unwrap();
        doc.commit();
    });
    assert!(matches!(refused, Err(Refusal::Written { .. })), "{refused:?}");

    // An invoice of ¥10 billion written past the app's check would swamp every total: it
    // does not read, and is refused.
    let refused = attempt(&stored, "tech", Role::Technician, |doc| {
        let (_, invoices) = doc.get(ROOT, "invoices").unwrap().unwrap();
        let entry = doc.put_object(&invoices, "huge", automerge::ObjType::Map).unwrap();
        for (key, value) in [("vendor", "某公司"), ("note", ""), ("user", "tech")] {
            doc.put(&entry, key, value).unwrap();
        }
        doc.put(&entry, "amount", 1_000_000_000_000_i64).unwrap();
        doc.put(&entry, "at", 1_i64).unwrap();
        doc.commit();
    });
    assert!(matches!(refused, Err(Refusal::Unreadable(_))), "{refused:?}");

    // An order from before costs were kept: the first invoice makes the section.
    let mut older = stored.clone();
    older.delete(ROOT, "invoices").unwrap();
    older.commit();
    assert_eq!(attempt(&older, "tech", Role::Technician, invoice("水电公司", "tech")), Ok(()));
    // but no one replaces a section that is there.
    let refused = attempt(&with_invoice, "manager", Role::Manager, |doc| {
        doc.put_object(ROOT, "invoices", automerge::ObjType::Map).unwrap();
        doc.commit();
    });
    assert!(matches!(refused, Err(Refusal::Fixed { .. })), "{refused:?}");

    let rate = |by: &'static str| {
        move |doc: &mut AutoCommit| {
            let mut catalog = SiteCatalog::from_doc(std::mem::take(doc)).unwrap();
            let rate = Rate {
                id: id("technicians"),
                applies_to: RateFor::Role(Role::Technician),
                per_hour: Money::yuan(60),
                from: Timestamp::from_millis(0),
            };
            catalog.put_rate(&rate, &edit(by)).unwrap();
            *doc = catalog.into_doc();
        }
    };
    let refused = attempt(&catalog(), "manager", Role::Manager, rate("manager"));
    assert!(matches!(refused, Err(Refusal::Role { role: Role::Manager, .. })), "{refused:?}");
    assert_eq!(attempt(&catalog(), "admin", Role::Admin, rate("admin")), Ok(()));
}

/// A meal's food samples are taken by its inspectors and managers, added and never
/// rewritten: a weight once recorded stays, and no one else starts a meal's log.
#[test]
fn food_samples_are_taken_by_inspectors_and_managers_and_kept_as_recorded() {
    use shared::document::food_samples::{FoodSamples, NewMeal, NewSample};

    let new = NewMeal { site: site(), canteen: "canteen".into(), meal: "中".into(), date: "2026-12-06".into() };
    let start = |name: &str| FoodSamples::start(ActorId::from([4; 16]), &new, &edit(name)).unwrap().into_doc();
    let refused = create("tech", Role::Technician, start("tech"));
    assert!(matches!(refused, Err(Refusal::Role { role: Role::Technician, .. })), "{refused:?}");
    assert_eq!(create("inspector", Role::Inspector, start("inspector")), Ok(()));
    let sample = |by: &'static str| {
        move |doc: &mut AutoCommit| {
            let mut meal = FoodSamples::from_doc(std::mem::take(doc)).unwrap();
            let dish = NewSample { dish: "红烧肉".into(), grams: 150, storage: "fridge".into(), photo: None };
            meal.add_sample(&id(&format!("s-{by}")), &dish, &edit(by)).unwrap();
            *doc = meal.into_doc();
        }
    };
    let stored = start("inspector");
    let refused = attempt(&stored, "store", Role::Storekeeper, sample("store"));
    assert!(matches!(refused, Err(Refusal::Role { role: Role::Storekeeper, .. })), "{refused:?}");
    let (verdict, with_sample) = attempted(&stored, "manager", Role::Manager, sample("manager"));
    assert_eq!(verdict, Ok(()));
    let refused = attempt(&with_sample, "inspector", Role::Inspector, |doc| {
        let (_, samples) = doc.get(ROOT, "samples").unwrap().unwrap();
        let (_, entry) = doc.get(&samples, "s-manager").unwrap().unwrap();
        doc.put(&entry, "grams", 200_i64).unwrap();
        doc.commit();
    });
    assert!(matches!(refused, Err(Refusal::Written { .. })), "{refused:?}");
    let refused = attempt(&with_sample, "inspector", Role::Inspector, |doc| {
        doc.put(ROOT, "meal", "晚").unwrap();
        doc.commit();
    });
    assert!(matches!(refused, Err(Refusal::Fixed { .. })), "{refused:?}");
    // A phone writing a 10 g sample itself, past the app's check: the rule is the server's too.
    let refused = attempt(&stored, "inspector", Role::Inspector, |doc| {
        let (_, samples) = doc.get(ROOT, "samples").unwrap().unwrap();
        let entry = doc.put_object(&samples, "light", automerge::ObjType::Map).unwrap();
        for (key, value) in [("dish", "米饭"), ("storage", "fridge"), ("user", "inspector")] {
            doc.put(&entry, key, value).unwrap();
        }
        doc.put(&entry, "grams", 10_i64).unwrap();
        doc.put(&entry, "at", 1_i64).unwrap();
        doc.commit();
    });
    assert!(matches!(refused, Err(Refusal::Unreadable(_))), "{refused:?}");
}

#[test]
fn a_documents_site_and_type_are_fixed_at_creation() {
    let stored = order("inspector");
    for (field, value) in [("site", "plant2"), ("type", "stocktake")] {
        let moved = attempt(&stored, "manager", Role::Manager, |doc| {
            doc.put(ROOT, field, value).unwrap();
            doc.commit();
        });
        assert!(matches!(&moved, Err(Refusal::Fixed { field: found }) if found == field), "{field}: {moved:?}");
    }
    let relocated = attempt(&stored, "inspector", Role::Inspector, |doc| {
        doc.put(ROOT, "location", "elsewhere").unwrap();
        doc.commit();
    });
    assert!(matches!(relocated, Err(Refusal::Fixed { .. })), "{relocated:?}");
}

#[test]
fn a_storekeeper_counts_but_a_manager_approves() {
    let stored = stocktake();
    let close = attempt(&stored, "store", Role::Storekeeper, |doc| {
        Stocktake::edit_in(doc, |count| {
            count.record_phase(&id("closed"), shared::document::stocktake::Phase::Closed, &edit("store")).unwrap();
        })
        .unwrap();
    });
    assert_eq!(close, Ok(()));
    let mut closed = stored.clone();
    Stocktake::edit_in(&mut closed, |count| {
        count.record_phase(&id("closed"), shared::document::stocktake::Phase::Closed, &edit("store")).unwrap();
    })
    .unwrap();
    let approve = |by: &'static str| {
        move |doc: &mut AutoCommit| {
            Stocktake::edit_in(doc, |count| count.approve(&id("approved"), &[], &edit(by)).unwrap()).unwrap();
        }
    };
    let own = attempt(&closed, "store", Role::Storekeeper, approve("store"));
    assert!(matches!(own, Err(Refusal::Role { role: Role::Storekeeper, .. })), "{own:?}");
    assert_eq!(attempt(&closed, "manager", Role::Manager, approve("manager")), Ok(()));
    let inspector_count = attempt(&stored, "inspector", Role::Inspector, |doc| {
        Stocktake::edit_in(doc, |count| {
            count.count(&id("c2"), "A1", "gloves", Quantity::from_thousandths(1_000), &edit("inspector")).unwrap();
        })
        .unwrap();
    });
    assert!(matches!(inspector_count, Err(Refusal::Role { .. })), "{inspector_count:?}");
}

#[test]
fn settling_a_conflict_keeps_the_answer_as_given_but_a_name_cannot_be_borrowed() {
    use shared::document::conflicts::{conflicts, resolve};
    use shared::document::inspection::{AnswerValue, Inspection, NewInspection};
    let new = NewInspection {
        site: site(),
        template: "automerge:dorm".into(),
        checklist: shared::document::seeds::dorm_room(),
        location: "dorm-1".into(),
        rooms: vec!["101".into()],
        assignees: Vec::new(),
    };
    let started = Inspection::start(ActorId::from(b"dorm".as_slice()), &new, &edit("dorm")).unwrap().into_doc();
    let hygiene = id("hygiene");
    // Both look at room 101 offline and disagree; the server holds both answers.
    let answer = |name: &str, value: &str| {
        let mut phone = started.clone().with_actor(ActorId::from(name.as_bytes()));
        let mut round = Inspection::from_doc(phone.clone()).unwrap();
        round.answer(Some("101"), &hygiene, &AnswerValue::Choice(id(value)), &edit(name)).unwrap();
        phone = round.into_doc();
        phone
    };
    let mut stored = started.clone();
    stored.merge(&mut answer("dorm", "clean")).unwrap();
    stored.merge(&mut answer("dorm2", "dirty")).unwrap();
    let conflict = conflicts(&stored).unwrap().into_iter().next().expect("the two answers conflict");
    let theirs = conflict.values.iter().find(|value| value.user.as_deref() == Some("dorm2")).unwrap().id.clone();

    // The round's owner keeps the other's answer: it still says who gave it.
    let keep = attempt(&stored, "dorm", Role::DormStaff, |doc| resolve(doc, &conflict.path, &theirs, &edit("dorm")).unwrap());
    assert_eq!(keep, Ok(()));
    // Writing a value of their own under the other's name is not keeping it.
    let key = shared::document::inspection::answer_key("101", &hygiene);
    let forged = attempt(&stored, "dorm", Role::DormStaff, |doc| {
        resolve(doc, &conflict.path, &theirs, &edit("dorm")).unwrap();
        let answers = object_at(doc, &["answers", &key]).unwrap();
        doc.put(&answers, "value", "clean").unwrap();
    });
    assert!(matches!(forged, Err(Refusal::Name { .. })), "{forged:?}");
}

#[test]
fn a_forged_name_that_loses_a_conflict_in_a_new_document_is_still_refused() {
    // One phone's new order, where two concurrent versions of one event disagree on who
    // took the step: whichever shows, the other is kept too, and it names someone else.
    let reported = order("tech");
    let step = |actor: u8, name: &str| {
        let mut fork = reported.clone().with_actor(ActorId::from([actor; 16]));
        WorkOrder::edit_in(&mut fork, |order| order.record(&id("e9"), &EventKind::Started, &edit(name))).unwrap();
        fork
    };
    for (first, second) in [(1, 2), (2, 1)] {
        let mut merged = step(first, "tech");
        merged.merge(&mut step(second, "manager")).unwrap();
        let verdict = create("tech", Role::Technician, merged);
        assert!(matches!(&verdict, Err(Refusal::Name { named, .. }) if named == "manager"), "{verdict:?}");
    }
}

#[test]
fn the_planner_is_named_only_in_the_order_its_plan_derives() {
    let plan = shared::document::catalog::MaintenancePlan {
        id: id("pump-check"),
        asset: id("pump"),
        title: "水泵保养".into(),
        every: shared::document::catalog::Every::Months(1),
        start: Timestamp::from_millis(1_780_000_000_000),
    };
    let (derived, order) = WorkOrder::preventive(&site(), &plan, "b1", 3, plan.start, plan.start).unwrap();
    let writer = Writer { user: &user("tech"), role: Role::Technician };
    assert_eq!(check(&derived, &AutoCommit::new(), &[], &mut order.doc().clone(), writer), Ok(()));
    let elsewhere = check(&document(), &AutoCommit::new(), &[], &mut order.into_doc(), writer);
    assert!(matches!(&elsewhere, Err(Refusal::Name { named, .. }) if named == "planner"), "{elsewhere:?}");
}

fn fridge_meter() -> shared::document::catalog::Meter {
    shared::document::catalog::Meter {
        id: id("fridge"),
        name: "2号冷藏柜".into(),
        asset: id("fridge-2"),
        kind: shared::document::catalog::MeterKind::Reading,
        unit: "°C".into(),
        tag: "M-F2".into(),
        low: Some(Quantity::units(0)),
        high: Some(Quantity::units(8)),
        alarm_after: Some(3),
        usage_limit: None,
        round_item: None,
    }
}

#[test]
fn meters_are_an_administrators_and_readings_are_added_by_those_who_read_them() {
    let mut stored = SiteCatalog::from_doc(catalog()).unwrap();
    stored.put_meter(&fridge_meter(), &edit("admin")).unwrap();
    let stored = stored.into_doc();
    let reading = |by: &'static str, reading: &'static str| {
        move |doc: &mut AutoCommit| {
            SiteCatalog::edit_in(doc, |catalog| {
                catalog.record_reading(&id(reading), &id("fridge"), Quantity::units(9), None, &edit(by)).unwrap();
            })
            .unwrap();
        }
    };
    for (name, role) in [("inspector", Role::Inspector), ("dorm", Role::DormStaff), ("tech", Role::Technician), ("manager", Role::Manager)]
    {
        assert_eq!(attempt(&stored, name, role, reading(name, "r1")), Ok(()), "{name}");
    }
    let store = attempt(&stored, "store", Role::Storekeeper, reading("store", "r1"));
    assert!(matches!(store, Err(Refusal::Role { .. })), "a store keeper reads no meters: {store:?}");
    let forged = attempt(&stored, "inspector", Role::Inspector, reading("tech", "r1"));
    assert!(matches!(&forged, Err(Refusal::Name { named, .. }) if named == "tech"), "{forged:?}");
    let meter = attempt(&stored, "inspector", Role::Inspector, |doc| {
        SiteCatalog::edit_in(doc, |catalog| {
            catalog
                .put_meter(&shared::document::catalog::Meter { high: Some(Quantity::units(99)), ..fridge_meter() }, &edit("inspector"))
                .unwrap();
        })
        .unwrap();
    });
    assert!(matches!(meter, Err(Refusal::Role { .. })), "{meter:?}");
    // A reading once taken stays as it was taken.
    let (taken, with_reading) = attempted(&stored, "inspector", Role::Inspector, reading("inspector", "r1"));
    assert_eq!(taken, Ok(()));
    let rewritten = attempt(&with_reading, "inspector", Role::Inspector, |doc| {
        let (_, readings) = doc.get(ROOT, "readings").unwrap().unwrap();
        let (_, entry) = doc.get(&readings, "r1").unwrap().unwrap();
        doc.put(&entry, "value", 5_000_i64).unwrap();
        doc.commit();
    });
    assert!(matches!(rewritten, Err(Refusal::Written { .. })), "{rewritten:?}");
}

#[test]
fn a_meters_alarm_is_raised_by_whoever_read_it_and_only_under_its_derived_id() {
    let first = shared::document::catalog::Reading {
        id: id("r1"),
        meter: id("fridge"),
        value: Quantity::units(11),
        at: Timestamp::from_millis(1_780_000_000_000),
        user: user("inspector"),
        round: None,
    };
    let (derived, order) = WorkOrder::alarm(&site(), &fridge_meter(), &first, "b1").unwrap();
    assert_eq!(derived, WorkOrder::alarm_id(&site(), &id("fridge"), &id("r1")));
    for (name, role) in [("inspector", Role::Inspector), ("tech", Role::Technician), ("dorm", Role::DormStaff)] {
        assert_eq!(
            check(&derived, &AutoCommit::new(), &[], &mut order.doc().clone(), Writer { user: &user(name), role }),
            Ok(()),
            "{name}"
        );
    }
    let store =
        check(&derived, &AutoCommit::new(), &[], &mut order.doc().clone(), Writer { user: &user("store"), role: Role::Storekeeper });
    assert!(matches!(store, Err(Refusal::Role { .. })), "{store:?}");
    let elsewhere =
        check(&document(), &AutoCommit::new(), &[], &mut order.into_doc(), Writer { user: &user("inspector"), role: Role::Inspector });
    assert!(matches!(&elsewhere, Err(Refusal::Name { named, .. }) if named == "planner"), "{elsewhere:?}");
}

#[derive(Clone, Debug)]
enum Attack {
    PutScalar { path: usize, key: usize, value: usize },
    Remove { path: usize, key: usize },
    Honest(usize),
}

const PATHS: [&[&str]; 5] = [&[], &["events"], &["events", "reported"], &["comments"], &["parts"]];
const KEYS: [&str; 8] = ["title", "site", "user", "kind", "priority", "at", "events", "assignee"];

fn attack() -> impl Strategy<Value = Attack> {
    prop_oneof![
        (0..PATHS.len(), 0..KEYS.len(), 0usize..5).prop_map(|(path, key, value)| Attack::PutScalar { path, key, value }),
        (0..PATHS.len(), 0..KEYS.len()).prop_map(|(path, key)| Attack::Remove { path, key }),
        (0usize..4).prop_map(Attack::Honest),
    ]
}

fn object_at(doc: &AutoCommit, path: &[&str]) -> Option<automerge::ObjId> {
    let mut object = ROOT;
    for key in path {
        match doc.get(&object, *key).ok()?? {
            (automerge::Value::Object(_), id) => object = id,
            _ => return None,
        }
    }
    Some(object)
}

fn value(choice: usize) -> automerge::ScalarValue {
    match choice {
        0 => "manager".into(),
        1 => 42_i64.into(),
        2 => "high".into(),
        3 => true.into(),
        _ => "bogus".into(),
    }
}

fn apply(doc: &mut AutoCommit, attack: &Attack, step: usize, name: &str) {
    match attack {
        Attack::PutScalar { path, key, value: choice } => {
            if let Some(object) = object_at(doc, PATHS[*path]) {
                let _ = doc.put(&object, KEYS[*key], value(*choice));
            }
        }
        Attack::Remove { path, key } => {
            if let Some(object) = object_at(doc, PATHS[*path]) {
                let _ = doc.delete(&object, KEYS[*key]);
            }
        }
        Attack::Honest(kind) => {
            let event = id(&format!("s{step}"));
            let kind = match kind {
                0 => EventKind::Started,
                1 => EventKind::Assigned { assignee: user("tech") },
                2 => EventKind::Completed { notes: String::new() },
                _ => EventKind::Cancelled { reason: "不需要".into() },
            };
            WorkOrder::edit_in(doc, |order| order.record(&event, &kind, &Edit::new(user(name), Timestamp::from_millis(1)))).unwrap();
        }
    }
    doc.commit();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Whatever phones send, one message at a time as the server takes them, what is kept
    /// reads as a work order; and honest steps by the roles that take them are kept.
    #[test]
    fn what_is_kept_always_reads(attacks in proptest::collection::vec((attack(), 0usize..6), 1..12)) {
        let mut stored = order("inspector");
        for (step, (attack, role)) in attacks.into_iter().enumerate() {
            let role = Role::ALL[role];
            let name = role.as_str();
            let (verdict, after) = attempted(&stored, name, role, |doc| apply(doc, &attack, step, name));
            if matches!(attack, Attack::Honest(0 | 2)) && matches!(role, Role::Technician | Role::Manager | Role::Admin) {
                prop_assert_eq!(&verdict, &Ok(()), "step {}: {:?} by {}", step, attack, role);
            }
            if verdict.is_ok() {
                stored = after;
            }
            let read = WorkOrder::read_doc(&stored);
            prop_assert!(read.as_ref().is_ok_and(|view| view.unreadable.is_empty()), "step {}: {:?} by {} left {:?}", step, attack, role, read);
        }
    }
}
