//! What managers read: projections kept change by change equal those recomputed from
//! storage after random syncs; the measures of a fixed set of documents, worked out by
//! hand; the read API's parameters and its site scoping; CSV exports.

use std::time::Duration;

use automerge::ActorId;
use proptest::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::directory::{SiteId, Username};
use shared::document::inspection::{AnswerValue, Inspection, NewInspection};
use shared::document::seeds;
use shared::document::work_order::{Category, EventKind, Invoice, NewWorkOrder, Priority, Rating, WorkOrder};
use shared::document::{Edit, EntryId};
use shared::money::Money;
use shared::projection::{Projection, project};
use shared::protocol::DocumentId;
use shared::protocol::client::{Client, ClientConfig, SyncStatus};
use shared::protocol::message::PeerId;
use shared::quantity::Quantity;
use shared::time::Timestamp;
use tests::native_client::{now, sync_until};

use crate::support::{TestServer, get, http_client, wait_for};

async fn post(server: &TestServer, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
    let response = http_client().post(server.url(path)).bearer_auth(token).json(&body).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

const PATIENCE: Duration = Duration::from_secs(60);
const MINUTE: i64 = 60_000;

fn edit(user: &str, at: Timestamp) -> Edit {
    Edit::new(Username::parse(user).unwrap(), at)
}

fn new_order(title: &str, asset: Option<&str>) -> NewWorkOrder {
    NewWorkOrder {
        site: SiteId::parse("hq").unwrap(),
        title: title.to_owned(),
        description: String::new(),
        location: "admin-building".to_owned(),
        asset: asset.map(str::to_owned),
        category: Category::Electrical,
        priority: Priority::High,
        due_at: None,
        source: None,
    }
}

fn new_round(location: &str) -> NewInspection {
    NewInspection {
        site: SiteId::parse("hq").unwrap(),
        template: "automerge:2ZfYbDnbDSgZ4o2fSDFzMnZmBQ1V".to_owned(),
        checklist: seeds::electrical(),
        location: location.to_owned(),
        rooms: Vec::new(),
        assignees: vec![Username::parse("inspector").unwrap()],
    }
}

/// One phone: a user, its own actor, the native client role.
struct Phone {
    user: &'static str,
    actor: ActorId,
    client: Client,
}

impl Phone {
    fn new(user: &'static str, actor: u8) -> Phone {
        Phone { user, actor: ActorId::from([actor; 16]), client: Client::new(ClientConfig::new(PeerId(format!("phone-{user}"))), now()) }
    }

    async fn sync(&mut self, server: &TestServer, known: &[DocumentId]) {
        for id in known {
            if self.client.document_mut(id).is_none() {
                self.client.request_document(*id);
            }
        }
        let url = server.sync_url(self.user);
        sync_until(&mut self.client, &url, PATIENCE, |client| known.iter().all(|id| client.status(id) == Some(SyncStatus::Synced)))
            .await
            .unwrap();
    }
}

/// What a phone does next, as proptest draws it.
#[derive(Clone, Debug)]
enum Op {
    ReportOrder { phone: usize },
    StartRound { phone: usize },
    Step { phone: usize, document: usize, step: u8 },
    Sync { phone: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..3usize).prop_map(|phone| Op::ReportOrder { phone }),
        (0..3usize).prop_map(|phone| Op::StartRound { phone }),
        (0..3usize, 0..8usize, 0..6u8).prop_map(|(phone, document, step)| Op::Step { phone, document, step }),
        (0..3usize, 0..8usize, 0..6u8).prop_map(|(phone, document, step)| Op::Step { phone, document, step }),
        (0..3usize).prop_map(|phone| Op::Sync { phone }),
    ]
}

/// Takes one step on a document the phone holds: an order's next event (any, legal or
/// not: the fold flags what does not apply), or a round's answer or submission.
fn step(phone: &mut Phone, id: &DocumentId, step: u8, at: Timestamp) {
    let user = phone.user;
    let actor = phone.actor.clone();
    let Some(doc) = phone.client.document_mut(id) else { return };
    doc.set_actor(actor);
    let edit = edit(user, at);
    let event = EntryId::parse(&format!("e-{user}-{}", at.as_millis())).unwrap();
    // Only what the write policy lets each of the three take: the manager anything, the
    // technician work steps (and the reporter's, on an order they reported), the inspector
    // the reporter's steps and rounds.
    let allowed = |reporter: bool| match user {
        "manager" => true,
        "tech" => step <= 2 || reporter,
        _ => step > 2 && reporter,
    };
    if WorkOrder::edit_in(doc, |order| {
        let reporter = order.read().is_ok_and(|view| view.header.created_by.as_str() == user);
        if !allowed(reporter) {
            return;
        }
        let kind = match step {
            0 => EventKind::Acknowledged,
            1 => EventKind::Started,
            2 => EventKind::Completed { notes: "换了开关".to_owned() },
            3 => EventKind::Verified { rating: Rating::new(4).unwrap(), comment: String::new() },
            4 => EventKind::Cancelled { reason: "重复".to_owned() },
            _ => return order.set_priority(Priority::Urgent, &edit),
        };
        order.record(&event, &kind, &edit);
    })
    .is_err()
        && user != "tech"
    {
        let _ = Inspection::edit_in(doc, |round| {
            let items: Vec<EntryId> =
                round.read().map(|view| view.checklist.items.iter().map(|item| item.id.clone()).collect()).unwrap_or_default();
            match step {
                5 => {
                    let _ = round.submit(&edit);
                }
                _ => {
                    if let Some(item) = items.get(usize::from(step) % items.len().max(1)) {
                        let value = if step.is_multiple_of(2) { AnswerValue::Pass } else { AnswerValue::Fail };
                        let _ = round.answer(None, item, &value, &edit);
                    }
                }
            }
        });
    }
    phone.client.handle_local_change(id);
}

/// The server's projections of hq, and the same recomputed from every stored document.
fn kept_and_recomputed(server: &TestServer) -> (Vec<Projection>, Vec<Projection>) {
    let mut kept = server.state.projections.site(&SiteId::parse("hq").unwrap()).unwrap();
    let mut recomputed = Vec::new();
    for id in server.state.documents.ids().unwrap() {
        let mut doc = server.state.documents.load(&id).unwrap().unwrap();
        if let Some(projection) = project(&id.to_string(), &mut doc).unwrap()
            && projection.site == "hq"
        {
            recomputed.push(projection);
        }
    }
    kept.sort_by(|a, b| a.document.cmp(&b.document));
    recomputed.sort_by(|a, b| a.document.cmp(&b.document));
    (kept, recomputed)
}

async fn run_case(ops: Vec<Op>) {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let mut phones = [Phone::new("manager", 1), Phone::new("tech", 2), Phone::new("inspector", 3)];
    let mut known: Vec<DocumentId> = Vec::new();
    let mut on_server: std::collections::BTreeSet<DocumentId> = std::collections::BTreeSet::new();
    let mut clock = now();
    for op in ops {
        clock = clock.plus_millis(1_000);
        match op {
            Op::ReportOrder { phone } => {
                let phone = &mut phones[phone];
                let order = WorkOrder::report(
                    phone.actor.clone(),
                    &new_order("配电箱异响", None),
                    &EntryId::parse("report").unwrap(),
                    &edit(phone.user, clock),
                )
                .unwrap();
                let id = DocumentId::from_random(rand_id(known.len(), phone.user));
                phone.client.add_document(id, order.into_doc());
                known.push(id);
            }
            // Technicians do not walk rounds.
            Op::StartRound { phone } if phones[phone].user != "tech" => {
                let phone = &mut phones[phone];
                let round = Inspection::start(phone.actor.clone(), &new_round("admin-building"), &edit(phone.user, clock)).unwrap();
                let id = DocumentId::from_random(rand_id(known.len(), phone.user));
                phone.client.add_document(id, round.into_doc());
                known.push(id);
            }
            Op::StartRound { .. } => {}
            Op::Step { phone, document, step: chosen } => {
                if let Some(id) = known.get(document).copied() {
                    step(&mut phones[phone], &id, chosen, clock);
                }
            }
            Op::Sync { phone } => {
                // The phone pushes what it has and fetches what the server has: other
                // phones' documents that it then edits too.
                let phone = &mut phones[phone];
                let wanted: Vec<DocumentId> =
                    known.iter().copied().filter(|id| on_server.contains(id) || phone.client.document_mut(id).is_some()).collect();
                phone.sync(&server, &wanted).await;
                on_server.extend(wanted);
            }
        }
    }
    // Every phone's work reaches the server.
    for phone in &mut phones {
        let theirs: Vec<DocumentId> = known.iter().copied().filter(|id| phone.client.document_mut(id).is_some()).collect();
        phone.sync(&server, &theirs).await;
    }
    wait_for("the projections to catch up", PATIENCE, || async {
        let (kept, recomputed) = kept_and_recomputed(&server);
        (kept == recomputed).then_some(())
    })
    .await;
    let (kept, recomputed) = kept_and_recomputed(&server);
    assert_eq!(kept, recomputed);
    assert_eq!(kept.len(), known.len(), "every work order and round is projected");
    server.stop().await.unwrap();
}

/// A document id unique within a case, readable in failures.
fn rand_id(index: usize, user: &str) -> [u8; 16] {
    let mut id = [0u8; 16];
    let text = format!("{user}-{index:04}");
    for (at, byte) in text.bytes().take(16).enumerate() {
        id[at] = byte;
    }
    id
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, max_shrink_iters: 20, ..ProptestConfig::default() })]

    #[test]
    fn projections_kept_change_by_change_equal_a_recomputation_after_random_syncs(ops in prop::collection::vec(op(), 4..24)) {
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap().block_on(run_case(ops));
    }
}

/// Stores documents made elsewhere as a restore would, and waits for them to be projected:
/// each holds several people's steps, which no one phone may push in their names.
async fn store_made_elsewhere(server: &TestServer, documents: Vec<(DocumentId, automerge::AutoCommit)>) {
    let ids: Vec<DocumentId> = documents.iter().map(|(id, _)| *id).collect();
    for (id, mut doc) in documents {
        server.state.documents.append(&id, &doc.save()).unwrap();
        server.state.projections.mark(&id, Some((&doc, &[]))).unwrap();
    }
    let hq = SiteId::parse("hq").unwrap();
    wait_for("the documents to be projected", PATIENCE, || async {
        let projected = server.state.projections.site(&hq).unwrap();
        ids.iter().all(|id| projected.iter().any(|projection| projection.document == id.to_string())).then_some(())
    })
    .await;
}

/// An order of the fixture: name, asset, minute reported, steps (minute, event), minute due.
type FixtureOrder = (&'static str, Option<&'static str>, i64, Vec<(i64, EventKind)>, Option<i64>);

/// A fixed day of documents whose measures are worked out by hand below.
fn fixture(start: Timestamp) -> Vec<(DocumentId, automerge::AutoCommit)> {
    let at = |minutes: i64| start.plus_millis(minutes * MINUTE);
    let id = |name: &str| {
        let mut bytes = [0u8; 16];
        bytes[..name.len()].copy_from_slice(name.as_bytes());
        DocumentId::from_random(bytes)
    };
    let actor = ActorId::from([9; 16]);
    let mut documents = Vec::new();
    // Three orders on the air conditioner and one on nothing, each dispatched a minute
    // after it was reported:
    // A: reported 0, acknowledged at 10, completed at 70, verified 5 stars.
    // B: reported 0, acknowledged at 30, still in progress, due at 60 (overdue now).
    // C: reported 20, acknowledged at 40, completed at 140, verified 3 stars.
    // D: reported 30, nobody responded, due far away.
    let orders: [FixtureOrder; 4] = [
        (
            "A",
            Some("kt-hq-101"),
            0,
            vec![
                (10, EventKind::Acknowledged),
                (20, EventKind::Started),
                (70, EventKind::Completed { notes: String::new() }),
                (80, EventKind::Verified { rating: Rating::new(5).unwrap(), comment: String::new() }),
            ],
            None,
        ),
        ("B", Some("kt-hq-101"), 0, vec![(30, EventKind::Acknowledged), (35, EventKind::Started)], Some(60)),
        (
            "C",
            Some("kt-hq-101"),
            20,
            vec![
                (40, EventKind::Acknowledged),
                (140, EventKind::Completed { notes: String::new() }),
                (150, EventKind::Verified { rating: Rating::new(3).unwrap(), comment: String::new() }),
            ],
            None,
        ),
        ("D", None, 30, vec![], Some(100_000)),
    ];
    for (name, asset, reported, events, due) in orders {
        let mut new = new_order(&format!("工单 {name}"), asset);
        new.due_at = due.map(at);
        let mut order =
            WorkOrder::report(actor.clone(), &new, &EntryId::parse("report").unwrap(), &edit("inspector", at(reported))).unwrap();
        // Dispatched at once (a response is the technician's acknowledgement or start).
        if !events.is_empty() {
            order.record(
                &EntryId::parse("assigned").unwrap(),
                &EventKind::Assigned { assignee: Username::parse("tech").unwrap() },
                &edit("manager", at(reported + 1)),
            );
        }
        for (index, (minute, kind)) in events.into_iter().enumerate() {
            order.record(&EntryId::parse(&format!("e{index}")).unwrap(), &kind, &edit("tech", at(minute)));
        }
        // A used two of the store's bulbs (not issued from the ledger yet); C was repaired
        // by a contractor.
        if name == "A" {
            order.add_part(&EntryId::parse("p1").unwrap(), "bulb-led-9w", Quantity::units(2), &edit("tech", at(60))).unwrap();
        }
        if name == "C" {
            let invoice = Invoice {
                id: EntryId::parse("i1").unwrap(),
                amount: Money::yuan(300),
                vendor: "空调维保公司".to_owned(),
                note: String::new(),
                photo: None,
                user: Username::parse("manager").unwrap(),
                at: at(150),
            };
            order.add_invoice(&invoice, &edit("manager", at(150))).unwrap();
        }
        documents.push((id(&format!("order-{name}")), order.into_doc()));
    }
    // Two electrical rounds submitted: its 5 pass/fail items all pass at the admin
    // building; at the store 3 pass and 2 fail, one failure raising a hazard on order B;
    // every other required item is not applicable (judged neither way).
    for (name, location, fails, hazard) in [("R1", "admin-building", 0usize, None), ("R2", "store", 2, Some("order-B"))] {
        let mut round = Inspection::start(actor.clone(), &new_round(location), &edit("inspector", at(50))).unwrap();
        let items: Vec<_> = round
            .read()
            .unwrap()
            .checklist
            .items
            .iter()
            .filter(|item| matches!(item.kind, shared::document::template::ItemKind::PassFail))
            .map(|item| item.id.clone())
            .collect();
        assert_eq!(items.len(), 5, "the electrical checklist's pass/fail items");
        for (index, item) in items.iter().enumerate() {
            let value = if index < fails { AnswerValue::Fail } else { AnswerValue::Pass };
            round.answer(None, item, &value, &edit("inspector", at(55))).unwrap();
            if index < fails {
                let photo = shared::document::BlobRef::new(&"ab".repeat(32), 1_000, "image/jpeg").unwrap();
                round.add_photo(&EntryId::parse(&format!("p{index}")).unwrap(), None, item, &photo, &edit("inspector", at(55))).unwrap();
            }
        }
        if let Some(order) = hazard {
            round
                .raise_hazard(&EntryId::parse("h1").unwrap(), None, &items[0], &id(order).to_string(), &edit("inspector", at(56)))
                .unwrap();
        }
        // Every other failure is followed up too: it needs no action.
        for (index, item) in items.iter().enumerate().take(fails).skip(usize::from(hazard.is_some())) {
            round
                .no_action_needed(&EntryId::parse(&format!("d{index}")).unwrap(), None, item, "当场已处理", &edit("inspector", at(56)))
                .unwrap();
        }
        let view = round.read().unwrap();
        let required: Vec<_> =
            view.checklist.items.iter().filter(|item| item.required && !items.contains(&item.id)).map(|item| item.id.clone()).collect();
        for item in required {
            round.answer(None, &item, &AnswerValue::NotApplicable, &edit("inspector", at(57))).unwrap();
        }
        round.submit(&edit("inspector", at(60))).unwrap();
        documents.push((id(&format!("round-{name}")), round.into_doc()));
    }
    documents
}

#[tokio::test]
async fn the_measures_of_a_fixed_day_are_those_worked_out_by_hand() {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    // Two hours ago, so that order B (due an hour after it) is overdue now.
    let start = Timestamp::from_millis((now().as_millis() / MINUTE - 200) * MINUTE);
    store_made_elsewhere(&server, fixture(start)).await;
    let from = start.plus_millis(-MINUTE).as_millis();
    let token = server.token("manager");
    let summary: Value =
        get(&server, &format!("/api/sites/hq/summary?from={from}&to={}", now().as_millis() + 1), Some(&token)).await.json().await.unwrap();
    let kpis = &summary["kpis"];
    // Reported: A, B, C, D. Responses: A 10, B 30, C 20 minutes → median 20, p90 30.
    assert_eq!(kpis["reported"], 4, "{summary}");
    assert_eq!(kpis["response"]["count"], 3);
    assert_eq!(kpis["response"]["median"], 20 * MINUTE);
    assert_eq!(kpis["response"]["p90"], 30 * MINUTE);
    assert_eq!(kpis["response"]["mean"], 20 * MINUTE);
    // Completion: A 70, C 120 minutes.
    assert_eq!(kpis["completion"]["count"], 2);
    assert_eq!(kpis["completion"]["median"], 70 * MINUTE);
    assert_eq!(kpis["completion"]["p90"], 120 * MINUTE);
    // Overdue: B only (D is due in ten weeks). Satisfaction: (5 + 3) / 2 = 4.0 stars.
    assert_eq!(kpis["overdue"], 1);
    assert_eq!(kpis["satisfaction_tenths"], 40);
    // Rounds: 10 answers judged, 8 passed; 2 failed at the store; one hazard, on B,
    // open and overdue.
    assert_eq!(kpis["inspections"], 2);
    assert_eq!(kpis["pass_rate"], serde_json::json!({ "passed": 8, "failed": 2 }));
    assert_eq!(kpis["pass_rate_by_location"]["store"], serde_json::json!({ "passed": 3, "failed": 2 }));
    assert_eq!(kpis["pass_rate_by_location"]["admin-building"], serde_json::json!({ "passed": 5, "failed": 0 }));
    assert_eq!(kpis["pass_rate_by_category"]["electrical"], serde_json::json!({ "passed": 8, "failed": 2 }));
    assert_eq!(kpis["pass_rate_by_template"]["automerge:2ZfYbDnbDSgZ4o2fSDFzMnZmBQ1V"], serde_json::json!({ "passed": 8, "failed": 2 }));
    assert_eq!((kpis["open_hazards"].clone(), kpis["overdue_hazards"].clone()), (serde_json::json!(1), serde_json::json!(1)));
    // Failures per asset: three orders on the air conditioner.
    assert_eq!(kpis["failures_by_asset"], serde_json::json!({ "kt-hq-101": 3 }));
    // Costs (the demo's rates: a technician's hour ¥80): A, 50 minutes' work (¥66.67) and
    // two bulbs at their opening cost of ¥12.50 (¥25); C, a ¥300 invoice. Both on the
    // air conditioner, reported at the administration building as electrical.
    let costs = &summary["costs"];
    assert_eq!(costs["orders"], 2, "{costs}");
    assert_eq!((costs["labour"].clone(), costs["parts"].clone(), costs["outside"].clone()), (json!(6_667), json!(2_500), json!(30_000)));
    assert_eq!(costs["repairs"], 39_167);
    assert_eq!(costs["top_assets"], json!([["kt-hq-101", 39_167]]));
    assert_eq!(costs["by_category"], json!({ "electrical": 39_167 }));
    assert_eq!(costs["by_place"], json!({ "admin-building": 39_167 }));
    // 50 bulbs at ¥12.50, 3 extinguishers at ¥98, 100 pairs of gloves at ¥4.50, 30 packs of paper at ¥26.
    assert_eq!(costs["stock_value"], 62_500 + 29_400 + 45_000 + 78_000);
    // Costs are for those who keep the store or manage.
    let theirs: Value = get(&server, "/api/sites/hq/summary", Some(&server.token("inspector"))).await.json().await.unwrap();
    assert_eq!(theirs["costs"], Value::Null);

    // The list: filtered by type and status, searched, paged, newest change first.
    let list: Value = get(&server, "/api/sites/hq/documents?type=work_order&per_page=2", Some(&token)).await.json().await.unwrap();
    assert_eq!((list["total"].clone(), list["documents"].as_array().unwrap().len()), (serde_json::json!(4), 2));
    let verified: Value = get(&server, "/api/sites/hq/documents?type=work_order&status=verified", Some(&token)).await.json().await.unwrap();
    let titles: Vec<&str> = verified["documents"].as_array().unwrap().iter().map(|document| document["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["工单 C", "工单 A"]);
    let overdue: Value = get(&server, "/api/sites/hq/documents?overdue=true", Some(&token)).await.json().await.unwrap();
    assert_eq!((overdue["total"].clone(), overdue["documents"][0]["title"].clone()), (serde_json::json!(1), serde_json::json!("工单 B")));
    let searched: Value = get(&server, "/api/sites/hq/documents?q=store", Some(&token)).await.json().await.unwrap();
    assert_eq!(searched["total"], 1);
    assert_eq!(searched["documents"][0]["type"], "inspection");
    assert_eq!(searched["documents"][0]["status"], "submitted");

    // The export opens in a spreadsheet: byte-order mark, header, a row per order.
    let response = get(&server, "/api/sites/hq/export.csv?type=work_order", Some(&token)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    let bytes = response.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xef\xbb\xbf");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let rows = shared::csv::parse(&text).unwrap();
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0].fields[..4], ["document", "title", "status", "location"]);
    assert!(rows.iter().any(|row| row.fields[1] == "工单 A" && row.fields[2] == "verified" && row.fields[13] == "5"), "{text}");
    assert_eq!(rows[0].fields[15..], ["category", "labour_minutes", "labour_cost", "parts_cost", "outside_cost", "total_cost"]);
    assert!(rows.iter().any(|row| row.fields[1] == "工单 A" && row.fields[16..] == ["50", "66.67", "25.00", "0.00", "91.67"]), "{text}");
    assert!(rows.iter().any(|row| row.fields[1] == "工单 C" && row.fields[16..] == ["0", "0.00", "0.00", "300.00", "300.00"]), "{text}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_read_api_checks_its_parameters_and_keeps_to_the_readers_sites() {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let start = now().plus_millis(-200 * MINUTE);
    let documents = fixture(start);
    let order = documents[0].0;
    store_made_elsewhere(&server, documents).await;
    // A manager of plant2 only.
    let (status, _) = post(&server, "/api/admin/users", &server.token("admin"), serde_json::json!({ "username": "p2boss", "display_name": "二厂经理", "password": "long enough", "roles": [{ "site": "plant2", "role": "manager" }] })).await;
    assert_eq!(status, StatusCode::CREATED);
    let outsider = crate::support::login(&server.url("/"), "p2boss", "long enough").await;
    for path in [
        "/api/sites/hq/summary".to_owned(),
        "/api/sites/hq/documents".to_owned(),
        "/api/sites/hq/export.csv?type=inspection".to_owned(),
        format!("/api/documents/{order}/history"),
        format!("/api/documents/{order}/conflicts"),
    ] {
        assert_eq!(get(&server, &path, Some(&outsider)).await.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(get(&server, &path, None).await.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    assert_eq!(get(&server, "/api/sites/plant2/summary", Some(&outsider)).await.status(), 200);
    let manager = server.token("manager");
    for (path, message) in [
        ("/api/sites/hq/summary?from=yesterday", "from=\"yesterday\": expected milliseconds since 1970 or a date YYYY-MM-DD"),
        ("/api/sites/hq/summary?from=2026-02-01&to=2026-01-01", "from must come before to"),
        ("/api/sites/hq/documents?type=catalog", "type=\"catalog\": expected work_order, inspection, stocktake or food_samples"),
        ("/api/sites/hq/documents?per_page=0", "per_page=\"0\": expected a whole number from 1 to 500"),
        ("/api/sites/hq/documents?overdue=yes", "overdue=\"yes\": expected true or false"),
        ("/api/sites/hq/export.csv", "type is missing: work_order, inspection or stocktake"),
    ] {
        let response = get(&server, path, Some(&manager)).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], message, "{path}");
    }
    let conflicts: Value = get(&server, &format!("/api/documents/{order}/conflicts"), Some(&manager)).await.json().await.unwrap();
    assert_eq!(conflicts, serde_json::json!([]));
    server.stop().await.unwrap();
}

/// The food samples log as the authorities read it: a row per dish, with who took it,
/// where it was kept, when it could go and when it went, and a sample thrown away before
/// its 48 hours flagged.
#[tokio::test]
async fn the_food_samples_log_exports_a_row_per_dish_with_what_an_inspector_checks() {
    use shared::document::food_samples::{FoodSamples, NewMeal, NewSample};

    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let taken = Timestamp::from_millis((now().as_millis() / MINUTE - 3 * 24 * 60) * MINUTE);
    let new = NewMeal { site: SiteId::parse("hq").unwrap(), canteen: "canteen".into(), meal: "lunch".into(), date: taken.date() };
    let mut meal = FoodSamples::start(ActorId::from([8; 16]), &new, &edit("inspector", taken)).unwrap();
    for (entry, dish, grams) in [("s1", "红烧肉", 150), ("s2", "番茄炒蛋", 130), ("s3", "米饭", 200)] {
        let sample = NewSample { dish: dish.into(), grams, storage: "store".into(), photo: None };
        meal.add_sample(&EntryId::parse(entry).unwrap(), &sample, &edit("inspector", taken)).unwrap();
    }
    meal.discard(&EntryId::parse("s1").unwrap(), &edit("manager", taken.plus_millis(49 * 60 * MINUTE))).unwrap();
    meal.discard(&EntryId::parse("s2").unwrap(), &edit("manager", taken.plus_millis(20 * 60 * MINUTE))).unwrap();
    let id = DocumentId::from_random(*b"meal-of-the-test");
    store_made_elsewhere(&server, vec![(id, meal.into_doc())]).await;

    let response = get(&server, "/api/sites/hq/export.csv?type=food_samples", Some(&server.token("manager"))).await;
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.unwrap();
    let rows = shared::csv::parse(std::str::from_utf8(&bytes[3..]).unwrap()).unwrap();
    assert_eq!(rows[0].fields[..6], ["document", "date", "meal", "canteen", "dish", "grams"]);
    let checked: Vec<(&str, &str, &str, &str)> = rows[1..]
        .iter()
        .map(|row| (row.fields[4].as_str(), row.fields[5].as_str(), row.fields[11].as_str(), row.fields[12].as_str()))
        .collect();
    assert_eq!(
        checked,
        [("红烧肉", "150", "王经理", "ok"), ("番茄炒蛋", "130", "王经理", "discarded_early"), ("米饭", "200", "", "to_discard")]
    );
    // Places and people by name, as the authorities read them.
    assert_eq!((rows[1].fields[3].as_str(), rows[1].fields[6].as_str(), rows[1].fields[7].as_str()), ("职工食堂", "后勤仓库", "李安全员"));
    assert_eq!(rows[1].fields[9], taken.plus_millis(48 * 60 * MINUTE).iso_utc(), "kept until 48 hours after it was taken");
    // Listed with the site's documents, still keeping one sample.
    let list: Value = get(&server, "/api/sites/hq/documents?type=food_samples", Some(&server.token("manager"))).await.json().await.unwrap();
    assert_eq!((list["total"].clone(), list["documents"][0]["status"].clone()), (json!(1), json!("keeping")));
    server.stop().await.unwrap();
}
