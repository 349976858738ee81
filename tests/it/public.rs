//! Reports from people without an account, over real sockets: a label's public page, the
//! report it sends becoming a work order the site's phones sync, the tracking link and the
//! reporter's rating; and every way the public side is abused or probed.

use std::time::Duration;

use base64ct::{Base64, Encoding as _};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::document::catalog::SiteCatalog;
use shared::document::work_order::{EventKind, Status, WorkOrder, WorkOrderView};
use shared::document::{DocumentType, EntryId};
use shared::protocol::DocumentId;
use shared::protocol::client::SyncStatus;
use shared::public::PUBLIC_REPORTER;
use tests::native_client::sync_until;

use crate::support::{TestServer, catalog_of, get, http_client, wait_for};
use crate::sync::{edit, edit_order, phone};

const PATIENCE: Duration = Duration::from_secs(60);

/// A PNG's signature and a little more: what the server checks a photo by.
fn photo() -> String {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(&[7; 2000]);
    Base64::encode_string(&bytes)
}

fn report(code: &str, text: &str) -> Value {
    json!({ "code": code, "text": text, "urgency": "soon", "name": "李同学", "phone": "138 0000 0000" })
}

async fn send(server: &TestServer, body: &Value) -> reqwest::Response {
    http_client().post(server.url("/api/public/reports")).json(body).send().await.unwrap()
}

async fn code_of(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

/// The work orders the site's catalog lists, by id.
fn listed_orders(server: &TestServer, site: &str) -> Vec<(DocumentId, String)> {
    let doc = server.state.documents.load(&catalog_of(server, site)).unwrap().unwrap();
    let catalog = SiteCatalog::read_doc(&doc).unwrap();
    catalog
        .index
        .iter()
        .filter(|entry| entry.document_type == DocumentType::WorkOrder)
        .map(|entry| (DocumentId::parse(&entry.document).unwrap(), entry.title.clone()))
        .collect()
}

fn stored_order(server: &TestServer, document: &DocumentId) -> WorkOrderView {
    WorkOrder::read_doc(&server.state.documents.load(document).unwrap().expect("stored")).unwrap()
}

/// The tracking page's text, its stage marker and whether it asks for a rating.
async fn tracking(server: &TestServer, track: &str) -> (StatusCode, String) {
    let response = get(server, track, None).await;
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_label_scanned_without_an_account_reports_a_fault_the_site_syncs_and_the_reporter_rates() {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;

    // The page: the place's name, small, its script allowed by nonce only.
    let page = get(&server, "/l/HQ-A-101", None).await;
    assert_eq!(page.status(), StatusCode::OK);
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(policy.contains("script-src 'nonce-") && !policy.contains("'unsafe-inline' ;"), "{policy}");
    let html = page.text().await.unwrap();
    assert!(html.contains("101 会议室") && html.contains("行政楼"), "the place and where it is");
    assert!(html.len() < 50_000, "the first load is {} bytes", html.len());
    let english = get(&server, "/l/hq-a-101?lang=en", None).await.text().await.unwrap();
    assert!(english.contains("What is wrong?"), "in English, the code matched without case");
    // A signed-in phone's way into the app: the app shell.
    let app = get(&server, "/l/HQ-A-101?app", None).await;
    let shell = get(&server, "/", None).await;
    assert_eq!(app.status(), shell.status());
    assert_eq!(app.text().await.unwrap(), shell.text().await.unwrap(), "the app shell, as at /");

    let before = listed_orders(&server, "hq").len();
    let mut body = report("HQ-A-101", "空调漏水\n滴在桌子上");
    body["photo"] = Value::String(photo());
    let response = send(&server, &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer.as_object().unwrap().len(), 1, "only the tracking link: {answer}");
    let track = answer["track"].as_str().unwrap().to_owned();
    assert!(track.starts_with("/t/") && track.len() > 20, "{track}");

    // The order: at the place, the public reporter's, with the photo and the reporter's
    // details in its first comment; listed in the site's catalog.
    let listed = listed_orders(&server, "hq");
    assert_eq!(listed.len(), before + 1);
    let (document, title) = listed.iter().find(|(_, title)| title == "空调漏水").expect("listed with its title").clone();
    assert_eq!(title, "空调漏水");
    let view = stored_order(&server, &document);
    assert_eq!(view.header.created_by.as_str(), PUBLIC_REPORTER);
    assert_eq!(view.location, "admin-101");
    assert_eq!(view.description, "空调漏水\n滴在桌子上");
    assert_eq!(view.state().status, Status::Reported);
    let details = &view.comments[0];
    assert!(
        details.text.contains("李同学") && details.text.contains("138 0000 0000") && details.text.contains("HQ-A-101"),
        "{}",
        details.text
    );
    assert!(details.photo.as_ref().is_some_and(|photo| photo.mime == "image/png"));

    // A manager's phone gets it through sync; a technician does the repair there.
    let mut manager = phone("manager-phone");
    manager.request_document(document);
    sync_until(&mut manager, &server.sync_url("manager"), PATIENCE, |client| {
        client.document(&document).is_some_and(|doc| WorkOrder::read_doc(doc).is_ok())
    })
    .await
    .unwrap();
    let mut tech = phone("tech-phone");
    tech.request_document(document);
    sync_until(&mut tech, &server.sync_url("tech"), PATIENCE, |client| {
        client.document(&document).is_some_and(|doc| WorkOrder::read_doc(doc).is_ok())
    })
    .await
    .unwrap();
    let (status, page) = tracking(&server, &track).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("已收到") && !page.contains("id=\"rate\""), "received, nothing to rate yet");
    edit_order(&mut tech, &document, |order| {
        order.record(&EntryId::parse("started").unwrap(), &EventKind::Started, &edit("tech"));
        order.record(&EntryId::parse("completed").unwrap(), &EventKind::Completed { notes: "换了排水管".into() }, &edit("tech"));
    });
    sync_until(&mut tech, &server.sync_url("tech"), PATIENCE, |client| client.status(&document) == Some(SyncStatus::Synced)).await.unwrap();

    let (_, page) = tracking(&server, &track).await;
    assert!(page.contains("已修好") && page.contains("id=\"rate\""), "done, and a rating asked for");
    assert!(!page.contains("张师傅") && !page.contains("tech"), "no one's name on the public page");
    let rated = http_client()
        .post(server.url(&format!("/api{}", track.replacen("/t/", "/public/track/", 1))))
        .json(&json!({ "rating": 4, "comment": "很快" }))
        .send()
        .await
        .unwrap();
    assert_eq!(rated.status(), StatusCode::NO_CONTENT);
    let view = stored_order(&server, &document);
    assert_eq!(view.state().status, Status::Verified);
    assert_eq!(view.state().rating.map(shared::document::work_order::Rating::stars), Some(4));
    let verified = view.events.iter().find(|event| matches!(event.kind, EventKind::Verified { .. })).unwrap();
    assert_eq!(verified.user.as_str(), PUBLIC_REPORTER);
    // Bound to the public reporter: no phone may write under that actor.
    let change_actors = server.state.directory.actors_of(&shared::directory::Username::parse(PUBLIC_REPORTER).unwrap()).unwrap();
    assert!(!change_actors.is_empty());
    let (_, page) = tracking(&server, &track).await;
    assert!(page.contains("已完结") && page.contains("★★★★"), "closed, with the rating shown");

    // The manager's phone hears of the rating.
    sync_until(&mut manager, &server.sync_url("manager"), PATIENCE, |client| {
        client.document(&document).and_then(|doc| WorkOrder::read_doc(doc).ok()).is_some_and(|view| view.state().status == Status::Verified)
    })
    .await
    .unwrap();

    // The dashboard counts it apart, and its rating in the satisfaction.
    let token = server.token("manager");
    let summary: Value = wait_for("the dashboard to count the public report", PATIENCE, || {
        let (server, token) = (&server, token.clone());
        async move {
            let summary: Value = get(server, "/api/sites/hq/summary", Some(&token)).await.json().await.unwrap();
            (summary["kpis"]["reported_by_public"].as_u64() == Some(1)).then_some(summary)
        }
    })
    .await;
    assert!(summary["kpis"]["satisfaction_tenths"].as_u64().is_some(), "the rating counts: {summary}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_public_side_refuses_abuse_and_reveals_nothing_else() {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let orders = listed_orders(&server, "hq").len();

    // A robot fills the hidden field; a person leaves it.
    let mut robot = report("HQ-A-102", "buy cheap watches");
    robot["website"] = Value::String("https://spam.example".into());
    assert_eq!(code_of(send(&server, &robot).await).await, (StatusCode::FORBIDDEN, "refused".into()));
    // Words checked, in a code the page puts in the reader's language.
    assert_eq!(code_of(send(&server, &report("HQ-A-102", "  ")).await).await, (StatusCode::BAD_REQUEST, "text_missing".into()));
    assert_eq!(
        code_of(send(&server, &report("HQ-A-102", &"长".repeat(501))).await).await,
        (StatusCode::BAD_REQUEST, "text_too_long".into())
    );
    let mut bad_phone = report("HQ-A-102", "门坏了");
    bad_phone["phone"] = Value::String("<script>".into());
    assert_eq!(code_of(send(&server, &bad_phone).await).await, (StatusCode::BAD_REQUEST, "phone_invalid".into()));
    // A site with public reporting off, and a label nobody has.
    assert_eq!(code_of(send(&server, &report("P2-D1-101", "门锁坏了")).await).await, (StatusCode::FORBIDDEN, "closed".into()));
    assert_eq!(get(&server, "/l/P2-D1-101", None).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(code_of(send(&server, &report("NO-SUCH-LABEL", "门锁坏了")).await).await, (StatusCode::NOT_FOUND, "not_found".into()));
    assert_eq!(get(&server, "/l/NO-SUCH-LABEL", None).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(listed_orders(&server, "hq").len(), orders, "nothing refused made an order");

    // Reports from one label are paced: five at once, then 429 with when to come back.
    let mut tracks = Vec::new();
    for n in 0..5 {
        let mut body = report("HQ-A-102", &format!("档案柜第 {n} 格锁坏了"));
        body["anyway"] = Value::Bool(true);
        let response = send(&server, &body).await;
        assert_eq!(response.status(), StatusCode::CREATED, "report {n}");
        tracks.push(response.json::<Value>().await.unwrap()["track"].as_str().unwrap().to_owned());
    }
    let mut sixth = report("HQ-A-102", "又坏了一个");
    sixth["anyway"] = Value::Bool(true);
    let over = send(&server, &sixth).await;
    assert!(over.headers().get("retry-after").is_some());
    assert_eq!(code_of(over).await, (StatusCode::TOO_MANY_REQUESTS, "too_many_reports".into()));

    // The same place again soon: offered the open order to follow, not a new one.
    let first = send(&server, &report("HQ-C", "食堂水龙头一直流水")).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first_track = first.json::<Value>().await.unwrap()["track"].as_str().unwrap().to_owned();
    let again = send(&server, &report("HQ-C", "水龙头关不上")).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["code"], "already_reported");
    let follow = again["track"].as_str().unwrap().to_owned();
    assert_ne!(follow, first_track, "a link of its own");
    let (status, page) = tracking(&server, &follow).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("食堂水龙头一直流水"), "the open order");
    // A follower's link only follows: it rates nothing.
    let answer = |track: &str| server.url(&format!("/api{}", track.replacen("/t/", "/public/track/", 1)));
    let followed = http_client().post(answer(&follow)).json(&json!({ "rating": 5 })).send().await.unwrap();
    assert_eq!(followed.status(), StatusCode::NOT_FOUND);
    // Nothing to rate before the repair is done.
    let early = http_client().post(answer(&first_track)).json(&json!({ "rating": 5 })).send().await.unwrap();
    assert_eq!(code_of(early).await, (StatusCode::CONFLICT, "not_done".into()));

    // Repaired, and the reporter says it is not: back with the department.
    let (tap_order, _) = listed_orders(&server, "hq").into_iter().find(|(_, title)| title == "食堂水龙头一直流水").unwrap();
    let mut tech_phone = phone("tech-phone");
    tech_phone.request_document(tap_order);
    let loaded =
        |client: &shared::protocol::client::Client| client.document(&tap_order).is_some_and(|doc| WorkOrder::read_doc(doc).is_ok());
    sync_until(&mut tech_phone, &server.sync_url("tech"), PATIENCE, loaded).await.unwrap();
    edit_order(&mut tech_phone, &tap_order, |order| {
        order.record(&EntryId::parse("completed").unwrap(), &EventKind::Completed { notes: "换了阀芯".into() }, &edit("tech"));
    });
    sync_until(&mut tech_phone, &server.sync_url("tech"), PATIENCE, |client| client.status(&tap_order) == Some(SyncStatus::Synced))
        .await
        .unwrap();
    let not_fixed =
        http_client().post(answer(&first_track)).json(&json!({ "not_fixed": true, "comment": "还在滴水" })).send().await.unwrap();
    assert_eq!(not_fixed.status(), StatusCode::NO_CONTENT);
    let view = stored_order(&server, &tap_order);
    assert_eq!(view.state().status, Status::Reopened);
    assert!(view.events.iter().any(
        |event| event.user.as_str() == PUBLIC_REPORTER && matches!(&event.kind, EventKind::Reopened { reason } if reason == "还在滴水")
    ));
    let (_, page) = tracking(&server, &first_track).await;
    assert!(page.contains("重新处理"), "back in the queue, in plain words");

    // Probing: a made-up token, a document's id as a token, another order's id in the page.
    for probe in ["/t/AAAAAAAAAAAAAAAAAAAAAA", "/t/", "/t/..%2Fapi%2Fme"] {
        assert_ne!(get(&server, probe, None).await.status(), StatusCode::OK, "{probe}");
    }
    let (some_order, _) = listed_orders(&server, "hq")[0].clone();
    assert_eq!(get(&server, &format!("/t/{some_order}"), None).await.status(), StatusCode::NOT_FOUND);
    let (_, page) = tracking(&server, &tracks[0]).await;
    for other in ["档案柜第 1 格", "食堂", "王经理", "张师傅", "manager", "automerge:"] {
        assert!(!page.contains(other), "the tracking page shows {other:?}");
    }
    let public_page = get(&server, "/l/HQ-A-102", None).await.text().await.unwrap();
    for other in ["档案柜第", "王经理", "admin-102", "hq"] {
        assert!(!public_page.contains(other), "the public page shows {other:?}");
    }

    // A photo past the limit, and one that is no picture.
    let mut large = report("HQ-S", "仓库门坏了");
    large["photo"] = Value::String(Base64::encode_string(&vec![0xff; 1 << 21]));
    assert_eq!(send(&server, &large).await.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let mut not_a_picture = report("HQ-S", "仓库门坏了");
    not_a_picture["photo"] = Value::String(Base64::encode_string(b"MZ\x90\x00 an executable"));
    assert_eq!(code_of(send(&server, &not_a_picture).await).await, (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_file".into()));

    // A manager marks reports spam: each is cancelled, and the address that sent three is refused.
    let manager = server.token("manager");
    let tech = server.token("tech");
    let spam: Vec<DocumentId> =
        listed_orders(&server, "hq").into_iter().filter(|(_, title)| title.starts_with("档案柜")).map(|(id, _)| id).collect();
    assert_eq!(spam.len(), 5);
    let mark = |document: DocumentId, token: String| {
        let url = server.url(&format!("/api/documents/{document}/spam"));
        async move { http_client().post(url).bearer_auth(token).send().await.unwrap().status() }
    };
    assert_eq!(mark(spam[0], tech).await, StatusCode::FORBIDDEN, "a technician may not");
    assert_eq!(mark(catalog_of(&server, "hq"), manager.clone()).await, StatusCode::NOT_FOUND, "only public reports are spam");
    for document in &spam[..3] {
        assert_eq!(mark(*document, manager.clone()).await, StatusCode::NO_CONTENT);
        let view = stored_order(&server, document);
        assert_eq!(view.state().status, Status::Cancelled);
    }
    assert_eq!(code_of(send(&server, &report("HQ-S", "仓库门坏了")).await).await, (StatusCode::FORBIDDEN, "refused".into()));
    // Spam is hidden from the site's lists, but from a list of cancelled orders.
    let listed = |query: &'static str| {
        let (server, token) = (&server, manager.clone());
        async move {
            let list: Value =
                get(server, &format!("/api/sites/hq/documents?type=work_order{query}"), Some(&token)).await.json().await.unwrap();
            list["documents"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|entry| entry["document"].as_str().map(str::to_owned))
                .collect::<Vec<_>>()
        }
    };
    let spam_ids: Vec<String> = spam[..3].iter().map(ToString::to_string).collect();
    wait_for("the spam to leave the list", PATIENCE, || async {
        let shown = listed("").await;
        (!shown.iter().any(|id| spam_ids.contains(id)) && shown.contains(&spam[3].to_string())).then_some(())
    })
    .await;
    let cancelled = listed("&status=cancelled").await;
    assert!(spam_ids.iter().all(|id| cancelled.contains(id)), "{cancelled:?}");

    // Public reporting closed by an administrator: the page and the API say so.
    let admin = server.token("admin");
    let closed = http_client()
        .put(server.url("/api/admin/sites/hq/public"))
        .bearer_auth(&admin)
        .json(&json!({ "open": false, "kinds": ["room"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(closed.status(), StatusCode::OK);
    assert_eq!(get(&server, "/l/HQ-A-101", None).await.status(), StatusCode::FORBIDDEN);
    let not_admin = http_client()
        .put(server.url("/api/admin/sites/hq/public"))
        .bearer_auth(&manager)
        .json(&json!({ "open": true, "kinds": [] }))
        .send()
        .await
        .unwrap();
    assert_eq!(not_admin.status(), StatusCode::NOT_FOUND);
    server.stop().await.unwrap();
}

/// What a cheap phone downloads to report and to follow: each page whole (its style and
/// script inline; nothing else is fetched but the photo it sends). Printed for
/// BENCHMARKS.md: `cargo test -p tests --test it -- public::the_public_pages_are_small --nocapture`.
#[tokio::test]
async fn the_public_pages_are_small() {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let created: Value = send(&server, &report("HQ-A-101", "灯不亮")).await.json().await.unwrap();
    let track = created["track"].as_str().unwrap().to_owned();
    let mut pages = vec![
        ("report page, Chinese", "/l/HQ-A-101?lang=zh-CN".to_owned()),
        ("report page, English", "/l/HQ-A-101?lang=en".to_owned()),
        ("tracking page, Chinese", format!("{track}?lang=zh-CN")),
        ("tracking page, English", format!("{track}?lang=en")),
    ];
    let mut sizes = Vec::new();
    for (page, path) in pages.drain(..) {
        sizes.push((page, get(&server, &path, None).await));
    }
    // Repaired: the tracking page asks for the rating, with its script.
    let (order, _) = listed_orders(&server, "hq").into_iter().find(|(_, title)| title == "灯不亮").unwrap();
    let mut tech = phone("tech-phone");
    tech.request_document(order);
    let loaded = |client: &shared::protocol::client::Client| client.document(&order).is_some_and(|doc| WorkOrder::read_doc(doc).is_ok());
    sync_until(&mut tech, &server.sync_url("tech"), PATIENCE, loaded).await.unwrap();
    edit_order(&mut tech, &order, |order| {
        order.record(&EntryId::parse("completed").unwrap(), &EventKind::Completed { notes: "换了灯泡".into() }, &edit("tech"));
    });
    sync_until(&mut tech, &server.sync_url("tech"), PATIENCE, |client| client.status(&order) == Some(SyncStatus::Synced)).await.unwrap();
    sizes.push(("tracking page with the rating form, Chinese", get(&server, &format!("{track}?lang=zh-CN"), None).await));
    sizes.push(("tracking page with the rating form, English", get(&server, &format!("{track}?lang=en"), None).await));
    for (page, response) in sizes {
        assert_eq!(response.status(), StatusCode::OK, "{page}");
        let bytes = response.bytes().await.unwrap().len();
        println!("{page}: {bytes} bytes");
        assert!(bytes < 50_000, "{page} is {bytes} bytes");
    }
    server.stop().await.unwrap();
}

/// Someone reporting a danger from a label: the site's managers are told at once, as of an
/// urgent hazard found on a round.
#[tokio::test]
async fn a_danger_reported_from_a_label_tells_the_managers_at_once() {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let mut body = report("HQ-S", "仓库里电线冒烟");
    body["urgency"] = Value::String("danger".into());
    assert_eq!(send(&server, &body).await.status(), StatusCode::CREATED);
    let (order, _) = listed_orders(&server, "hq").into_iter().find(|(_, title)| title == "仓库里电线冒烟").unwrap();
    assert_eq!(stored_order(&server, &order).priority, shared::document::work_order::Priority::Urgent);
    let told = wait_for("the managers to be told", PATIENCE, || async {
        let entries = server.state.outbox.entries().unwrap();
        let told: Vec<(String, String)> = entries
            .into_iter()
            .filter(|entry| entry.notice.document == order)
            .map(|entry| (entry.notice.kind.as_str().to_owned(), entry.notice.recipient.to_string()))
            .collect();
        (!told.is_empty()).then_some(told)
    })
    .await;
    assert_eq!(told, [("urgent_hazard".to_owned(), "manager".to_owned())]);
    server.stop().await.unwrap();
}

/// Many addresses together are paced too: thirty reports at once from anywhere, then the
/// next waits, so no crowd of addresses keeps the server busy making orders.
#[tokio::test]
async fn reports_from_everyone_together_are_paced() {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start_behind(dist.path(), vec!["127.0.0.1".parse().unwrap()]).await;
    let labels = ["HQ-A", "HQ-A-1", "HQ-A-101", "HQ-A-102", "HQ-C", "HQ-S", "XF-HQ-001", "XF-HQ-002", "KT-HQ-101"];
    let from = |n: usize| format!("10.0.{}.{}", n / 200, n % 200 + 1);
    for n in 0..30 {
        let mut body = report(labels[n % labels.len()], &format!("第 {n} 处故障"));
        body["anyway"] = Value::Bool(true);
        let response =
            http_client().post(server.url("/api/public/reports")).header("x-forwarded-for", from(n)).json(&body).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::CREATED, "report {n} from {}", from(n));
    }
    let mut body = report("HQ-A", "又一处");
    body["anyway"] = Value::Bool(true);
    let over =
        http_client().post(server.url("/api/public/reports")).header("x-forwarded-for", "10.9.9.9").json(&body).send().await.unwrap();
    assert_eq!(code_of(over).await, (StatusCode::TOO_MANY_REQUESTS, "too_many_reports".into()), "a new address, a label with turns left");
    server.stop().await.unwrap();
}

/// A contractor's link: made by a manager for an order given to a contractor, it takes the
/// contractor's start and completion without an account, names them in the history, and
/// stops working once the order is given to someone else.
#[tokio::test]
async fn a_contractor_works_an_order_by_its_link_while_it_is_theirs() {
    use shared::document::work_order::CONTRACTOR;
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let mut manager = phone("manager-phone");
    let (lifts, other) = (DocumentId::from_bytes([0x4c; 16]), DocumentId::from_bytes([0x4d; 16]));
    for document in [lifts, other] {
        manager.add_document(document, crate::sync::order_by("manager", "hq", "电梯异响"));
        edit_order(&mut manager, &document, |order| {
            order.record(
                &EntryId::parse("contracted").unwrap(),
                &EventKind::Contracted { vendor: EntryId::parse("lifts").unwrap() },
                &edit("manager"),
            );
        });
    }
    let synced = |client: &shared::protocol::client::Client| [lifts, other].iter().all(|id| client.status(id) == Some(SyncStatus::Synced));
    sync_until(&mut manager, &server.sync_url("manager"), PATIENCE, synced).await.unwrap();

    let make = |document: DocumentId, user: &'static str| {
        let (server, token) = (&server, server.token(user));
        async move {
            http_client().post(server.url(&format!("/api/documents/{document}/contractor-link"))).bearer_auth(token).send().await.unwrap()
        }
    };
    assert_eq!(make(lifts, "tech").await.status(), StatusCode::NOT_FOUND, "a technician makes no contractor's link");
    let made = make(lifts, "manager").await;
    assert_eq!(made.status(), StatusCode::OK);
    let path = made.json::<Value>().await.unwrap()["path"].as_str().unwrap().to_owned();
    assert!(path.starts_with("/c/") && path.len() > 20, "{path}");
    let step = |path: &str, body: Value| {
        let (server, address) = (&server, path.replacen("/c/", "/api/contractor/", 1));
        async move { code_of(http_client().post(server.url(&address)).json(&body).send().await.unwrap()).await }
    };

    // The page: the work, and the way to start it.
    let (status, page) = tracking(&server, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("电梯异响") && page.contains("data-standing=\"to_start\"") && page.contains("id=\"start\""), "{page}");
    assert_eq!(step(&path, json!({ "step": "fly" })).await, (StatusCode::BAD_REQUEST, "bad_request".to_owned()));
    assert_eq!(step(&path, json!({ "step": "started" })).await.0, StatusCode::NO_CONTENT);
    assert_eq!(step(&path, json!({ "step": "started" })).await, (StatusCode::CONFLICT, "not_open".to_owned()), "started once");
    let view = stored_order(&server, &lifts);
    assert_eq!((view.state().status, view.state().assignee), (Status::InProgress, None));
    let too_long = json!({ "step": "completed", "notes": "字".repeat(shared::public::MAX_FEEDBACK_CHARS + 1) });
    assert_eq!(step(&path, too_long).await, (StatusCode::BAD_REQUEST, "text_too_long".to_owned()));
    assert_eq!(step(&path, json!({ "step": "completed", "notes": "更换了曳引机轴承" })).await.0, StatusCode::NO_CONTENT);
    let view = stored_order(&server, &lifts);
    assert_eq!(view.state().status, Status::Completed);
    let completed = view.events.iter().find(|event| matches!(event.kind, EventKind::Completed { .. })).unwrap();
    assert_eq!((completed.user.as_str(), &completed.kind), (CONTRACTOR, &EventKind::Completed { notes: "更换了曳引机轴承".into() }));
    assert!(!server.state.directory.actors_of(&shared::directory::Username::parse(CONTRACTOR).unwrap()).unwrap().is_empty());
    let (_, page) = tracking(&server, &path).await;
    assert!(page.contains("data-standing=\"done\"") && !page.contains("<form"), "done: nothing more to do");
    // The manager's phone hears of it.
    sync_until(&mut manager, &server.sync_url("manager"), PATIENCE, |client| {
        client.document(&lifts).and_then(|doc| WorkOrder::read_doc(doc).ok()).is_some_and(|view| view.state().status == Status::Completed)
    })
    .await
    .unwrap();

    // Given to a technician after the link was made, the order is no longer the contractor's.
    let path = make(other, "manager").await.json::<Value>().await.unwrap()["path"].as_str().unwrap().to_owned();
    edit_order(&mut manager, &other, |order| {
        let tech = shared::directory::Username::parse("tech").unwrap();
        order.record(&EntryId::parse("assigned").unwrap(), &EventKind::Assigned { assignee: tech }, &edit("manager"));
    });
    sync_until(&mut manager, &server.sync_url("manager"), PATIENCE, synced).await.unwrap();
    let (status, page) = tracking(&server, &path).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(page.contains("data-standing=\"not_theirs\"") && !page.contains("<form"), "{page}");
    assert_eq!(step(&path, json!({ "step": "completed", "notes": "" })).await, (StatusCode::CONFLICT, "not_yours".to_owned()));
    assert_eq!(stored_order(&server, &other).state().status, Status::Assigned, "nothing recorded");
    assert_eq!(make(other, "manager").await.status(), StatusCode::CONFLICT, "not a contractor's order now");
    // A link that was never made.
    assert_eq!(tracking(&server, "/c/nothing-here").await.0, StatusCode::NOT_FOUND);
    assert_eq!(step("/c/nothing-here", json!({ "step": "started" })).await, (StatusCode::NOT_FOUND, "not_found".to_owned()));
    server.stop().await.unwrap();
}
