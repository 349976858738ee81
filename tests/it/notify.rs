//! Notices as changes reach the server: derived once per event and person, whichever
//! phones bring the change and however often, and not again after a restart; delivered to
//! a site's webhook signed, retried after a failure, and recorded in the delivery log.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::post;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use shared::directory::{SiteId, Username};
use shared::document::EntryId;
use shared::document::work_order::{EventKind, Priority};
use shared::notice::{Channel, NoticeKind, OutboxEntry};
use shared::projection::Summary;
use shared::protocol::DocumentId;
use shared::protocol::client::{Client, SyncStatus};
use tests::native_client::{now, sync_until};

use crate::server_process::ServerProcess;
use crate::support::{TestServer, get, wait_for};
pub(crate) use crate::sync::phone;
use crate::sync::{edit, edit_order, order_by};

const PATIENCE: Duration = Duration::from_secs(60);

/// The outbox's notices as (kind, recipient, id).
fn outbox(server: &TestServer) -> Vec<(NoticeKind, String, String)> {
    let mut told: Vec<_> = server
        .state
        .outbox
        .entries()
        .unwrap()
        .into_iter()
        .map(|entry| (entry.notice.kind, entry.notice.recipient.to_string(), entry.notice.id()))
        .collect();
    told.sort();
    told
}

/// An order the inspector reports, assigned to the technician offline on the manager's
/// phone and, when `tablet` is given, the same change copied to a second phone of theirs;
/// every phone then syncs it.
/// `sync_url` gives each person's address of the sync endpoint.
pub(crate) async fn report_and_assign(
    sync_url: impl Fn(&str) -> String,
    document: DocumentId,
    manager: &mut Client,
    tablet: Option<&mut Client>,
) {
    let synced = |client: &Client| client.status(&document) == Some(SyncStatus::Synced);
    let mut reporter = phone("teacher-phone");
    reporter.add_document(document, order_by("inspector", "hq", "走廊灯不亮"));
    sync_until(&mut reporter, &sync_url("inspector"), PATIENCE, synced).await.unwrap();
    manager.request_document(document);
    sync_until(manager, &sync_url("manager"), PATIENCE, synced).await.unwrap();
    edit_order(manager, &document, |order| {
        let assignee = Username::parse("tech").unwrap();
        order.record(&EntryId::parse("assigned").unwrap(), &EventKind::Assigned { assignee }, &edit("manager"));
    });
    let assigned = manager.document(&document).unwrap().clone();
    let url = sync_url("manager");
    match tablet {
        Some(tablet) => {
            tablet.add_stored_document(document, assigned, Vec::new());
            tablet.handle_local_change(&document);
            let (first, second) = tokio::join!(sync_until(manager, &url, PATIENCE, synced), sync_until(tablet, &url, PATIENCE, synced));
            first.unwrap();
            second.unwrap();
        }
        None => sync_until(manager, &url, PATIENCE, synced).await.unwrap(),
    }
}

#[tokio::test]
async fn an_assignment_made_offline_and_brought_by_two_phones_is_one_notice_for_the_technician() {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let document = DocumentId::from_random(*b"assigned-once-ok");
    let (mut manager, mut tablet) = (phone("manager-phone"), phone("manager-tablet"));
    report_and_assign(|user| server.sync_url(user), document, &mut manager, Some(&mut tablet)).await;

    let expected = vec![(NoticeKind::Assigned, "tech".to_owned(), format!("{document}/assigned/tech"))];
    // The demo's low stock is told too; this order's notices are these.
    let of_order =
        |server: &TestServer| -> Vec<_> { outbox(server).into_iter().filter(|(_, _, id)| id.starts_with(&document.to_string())).collect() };
    wait_for("the assignment's notice", PATIENCE, || async { (of_order(&server) == expected).then_some(()) }).await;
    let synced = |client: &Client| client.status(&document) == Some(SyncStatus::Synced);
    let manager_url = server.sync_url("manager");
    // Another change to the order (the manager raises its priority) projects it again:
    // nothing new to tell.
    edit_order(&mut manager, &document, |order| order.set_priority(Priority::High, &edit("manager")));
    sync_until(&mut manager, &manager_url, PATIENCE, synced).await.unwrap();
    wait_for("the new priority projected", PATIENCE, || async {
        let projections = server.state.projections.site(&SiteId::parse("hq").unwrap()).unwrap();
        projections
            .iter()
            .any(|projection| {
                projection.document == document.to_string()
                    && matches!(&projection.summary, Summary::WorkOrder(order) if order.priority == Priority::High)
            })
            .then_some(())
    })
    .await;
    assert_eq!(of_order(&server), expected);

    // After a restart, still the one notice.
    let address = server.address;
    let data = server.stop().await.unwrap();
    let server = TestServer::start_at(data, dist.path(), address).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(of_order(&server), expected);
    server.stop().await.unwrap();
}

/// What a webhook receiver was sent: each request's notice id, signature and body.
pub(crate) type Received = Arc<Mutex<Vec<(String, String, Vec<u8>)>>>;

/// A webhook receiver on `listener` that keeps every request and answers the first
/// `failing` requests of each notice with 500, the rest with 200; its URL.
pub(crate) fn receiver(listener: tokio::net::TcpListener, received: Received, failing: usize) -> String {
    let answered = Arc::new(Mutex::new(std::collections::HashMap::<String, usize>::new()));
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: axum::body::Bytes| async move {
            let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned();
            let notice = header("x-houqin-notice");
            received.lock().unwrap().push((notice.clone(), header("x-houqin-signature"), body.to_vec()));
            let mut answered = answered.lock().unwrap();
            let times = answered.entry(notice).or_default();
            *times += 1;
            if *times <= failing { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::OK }
        }),
    );
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}/hook")
}

pub(crate) async fn set_channels(server: &TestServer, user: &str, body: serde_json::Value) -> reqwest::Response {
    reqwest::Client::new().put(server.url("/api/admin/sites/hq/channels")).bearer_auth(server.token(user)).json(&body).send().await.unwrap()
}

#[tokio::test]
async fn a_sites_webhook_gets_each_notice_signed_and_once_more_only_after_a_failed_attempt() {
    const SECRET: &str = "a-secret-of-the-site-hq";
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let received = Received::default();
    let url = receiver(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(), received.clone(), 1);

    // Only the site's administrators set its channels, and only to something that works.
    let webhook = |url: &str, secret: &str| json!({ "webhook": { "url": url, "secret": secret } });
    assert_eq!(set_channels(&server, "manager", webhook(&url, SECRET)).await.status(), 403);
    let refused = set_channels(&server, "admin", webhook("ftp://example/hook", SECRET)).await;
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("http:// or https://"));
    assert_eq!(set_channels(&server, "admin", webhook(&url, "short")).await.status(), 400);
    let set = set_channels(&server, "admin", webhook(&url, SECRET)).await;
    assert_eq!(set.status(), 200);
    assert_eq!(
        set.json::<serde_json::Value>().await.unwrap(),
        json!({
            "webhook": { "url": url }, "wecom": null, "dingtalk": null, "feishu": null,
            "escalation": { "to_managers": 3_600_000, "to_admins": 14_400_000, "undispatched": 1_800_000 }
        }),
        "the secret is not shown again; the escalation is the default"
    );
    let backwards =
        json!({ "webhook": { "url": url, "secret": SECRET }, "escalation": { "to_managers": 7_200_000, "to_admins": 3_600_000 } });
    assert_eq!(set_channels(&server, "admin", backwards).await.status(), 400, "administrators are told after managers");

    let document = DocumentId::from_random(*b"webhook-notice-1");
    report_and_assign(|user| server.sync_url(user), document, &mut phone("manager-phone"), None).await;
    let id = format!("{document}/assigned/tech");
    let log = || async {
        let entries: Vec<OutboxEntry> = get(&server, "/api/admin/deliveries", Some(&server.token("admin"))).await.json().await.unwrap();
        entries.into_iter().find(|entry| entry.notice.id() == id)
    };
    let delivered = wait_for("the notice delivered on its second attempt", PATIENCE, || async {
        let entry = log().await?;
        let delivery = entry.deliveries.get(&Channel::Webhook)?;
        delivery.delivered_at.is_some().then(|| delivery.clone())
    })
    .await;
    assert_eq!((delivered.attempts, delivered.given_up), (2, false));
    assert_eq!(delivered.last_error.as_deref(), Some("the webhook answered 500 Internal Server Error"));

    let requests: Vec<_> = received.lock().unwrap().iter().filter(|(notice, _, _)| *notice == id).cloned().collect();
    assert_eq!(requests.len(), 2, "one failed attempt, one delivery");
    for (notice, signature, body) in &requests {
        assert_eq!(notice, &id);
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(body);
        assert_eq!(signature, &format!("sha256={}", hex::encode(mac.finalize().into_bytes())));
    }
    let body: serde_json::Value = serde_json::from_slice(&requests[1].2).unwrap();
    assert_eq!(
        (&body["id"], &body["type"], &body["recipient"], &body["site"], &body["document"], &body["title"]),
        (&json!(id), &json!("assigned"), &json!("tech"), &json!("hq"), &json!(document.to_string()), &json!("走廊灯不亮"))
    );
    assert!(body["link"].as_str().unwrap().ends_with(&format!("/orders/{document}")), "{body}");
    // Delivered, it is not sent again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(received.lock().unwrap().iter().filter(|(notice, _, _)| *notice == id).count(), 2);
    server.stop().await.unwrap();
}

/// Killed (SIGKILL) the moment the assignment was acknowledged, before any notice could be
/// sent (its receiver was not even listening yet), the server sends it after the restart,
/// once.
#[tokio::test]
async fn a_notice_of_a_change_acknowledged_just_before_sigkill_is_sent_after_the_restart_once() {
    const SECRET: &str = "a-secret-of-the-site-hq";
    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(data.path(), &["--demo"]);
    // An address where nothing listens until after the crash.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let admin = crate::support::login(&server.url, "admin", "demo").await;
    let set = reqwest::Client::new()
        .put(format!("{}api/admin/sites/hq/channels", server.url))
        .bearer_auth(&admin)
        .json(&json!({ "webhook": { "url": url, "secret": SECRET } }))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    let mut tokens = std::collections::HashMap::new();
    for user in ["inspector", "manager"] {
        tokens.insert(user, crate::support::login(&server.url, user, "demo").await);
    }
    let ws = server.url.replacen("http://", "ws://", 1);
    let document = DocumentId::from_random(*b"sigkill-notice-1");
    report_and_assign(|user| format!("{ws}sync?token={}", tokens[user]), document, &mut phone("manager-phone"), None).await;
    server.kill_hard();

    let received = Received::default();
    receiver(tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap(), received.clone(), 0);
    let restarted = ServerProcess::start(data.path(), &[]);
    let id = format!("{document}/assigned/tech");
    wait_for("the notice after the restart", PATIENCE, || async { (!received.lock().unwrap().is_empty()).then_some(()) }).await;
    let delivered = wait_for("the delivery recorded", PATIENCE, || async {
        let entries: Vec<OutboxEntry> = reqwest::Client::new()
            .get(format!("{}api/admin/deliveries", restarted.url))
            .bearer_auth(&admin)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        entries.into_iter().find(|entry| entry.notice.id() == id && entry.deliveries[&Channel::Webhook].delivered_at.is_some())
    })
    .await;
    assert_eq!(delivered.notice.recipient.as_str(), "tech");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let requests = received.lock().unwrap().clone();
    let of_order: Vec<&str> =
        requests.iter().map(|(notice, _, _)| notice.as_str()).filter(|notice| notice.starts_with(&document.to_string())).collect();
    assert_eq!(of_order, [id.as_str()], "sent once");
    assert!(restarted.terminate().success());
}

/// What the chat tools' robots were sent: (path, query, body as JSON).
type RobotRequests = Arc<Mutex<Vec<(String, String, serde_json::Value)>>>;

/// Stand-ins for the WeCom, DingTalk and Feishu robots on loopback, answering as those
/// tools do (a code of 0 in a 200); the WeCom robot refuses its first message of an
/// assignment (【派工】) with a rate limit's code. Their base URL.
async fn robots(received: RobotRequests) -> String {
    let wecom_answers = Arc::new(AtomicUsize::new(0));
    let keep = move |received: RobotRequests| {
        move |uri: Uri, body: axum::body::Bytes| {
            let received = received.clone();
            async move {
                let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                received.lock().unwrap().push((uri.path().to_owned(), uri.query().unwrap_or_default().to_owned(), json));
            }
        }
    };
    let (wecom, dingtalk, feishu) = (keep(received.clone()), keep(received.clone()), keep(received));
    let app = Router::new()
        .route(
            "/wecom",
            post(move |uri, body: axum::body::Bytes| {
                let answers = wecom_answers.clone();
                async move {
                    let assignment = String::from_utf8_lossy(&body).contains("【派工】");
                    wecom(uri, body).await;
                    if assignment && answers.fetch_add(1, Ordering::SeqCst) == 0 {
                        axum::Json(json!({ "errcode": 45009, "errmsg": "api freq out of limit" }))
                    } else {
                        axum::Json(json!({ "errcode": 0, "errmsg": "ok" }))
                    }
                }
            }),
        )
        .route(
            "/dingtalk",
            post(move |uri, body| async move {
                dingtalk(uri, body).await;
                axum::Json(json!({ "errcode": 0, "errmsg": "ok" }))
            }),
        )
        .route(
            "/feishu",
            post(move |uri, body| async move {
                feishu(uri, body).await;
                axum::Json(json!({ "code": 0, "msg": "success", "data": {} }))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}")
}

fn hmac_base64(key: &[u8], message: &[u8]) -> String {
    use base64ct::Encoding as _;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
    mac.update(message);
    base64ct::Base64::encode_string(&mac.finalize().into_bytes())
}

#[tokio::test]
async fn the_chat_groups_robots_get_the_notice_in_words_signed_as_each_tool_checks() {
    const DINGTALK_SECRET: &str = "SEC-dingtalk-of-hq";
    const FEISHU_SECRET: &str = "feishu-secret-of-hq";
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let received = RobotRequests::default();
    let base = robots(received.clone()).await;
    let set = set_channels(
        &server,
        "admin",
        json!({
            "wecom": { "url": format!("{base}/wecom?key=group-key") },
            "dingtalk": { "url": format!("{base}/dingtalk?access_token=group-token"), "secret": DINGTALK_SECRET },
            "feishu": { "url": format!("{base}/feishu"), "secret": FEISHU_SECRET },
        }),
    )
    .await;
    assert_eq!(set.status(), 200);
    let view: serde_json::Value = set.json().await.unwrap();
    assert_eq!((&view["webhook"], &view["dingtalk"]["signed"], &view["wecom"]["signed"]), (&json!(null), &json!(true), &json!(false)));
    assert_eq!(set_channels(&server, "admin", json!({ "feishu": { "url": "feishu.example/hook" } })).await.status(), 400);

    let document = DocumentId::from_random(*b"robot-notices-01");
    report_and_assign(|user| server.sync_url(user), document, &mut phone("manager-phone"), None).await;
    let id = format!("{document}/assigned/tech");
    let entry = wait_for("delivered to every robot", PATIENCE, || async {
        let entries: Vec<OutboxEntry> = get(&server, "/api/admin/deliveries", Some(&server.token("admin"))).await.json().await.unwrap();
        entries
            .into_iter()
            .find(|entry| entry.notice.id() == id && entry.deliveries.values().all(|delivery| delivery.delivered_at.is_some()))
    })
    .await;
    let wecom = &entry.deliveries[&Channel::WeCom];
    assert_eq!(wecom.attempts, 2, "refused once with a rate limit's code, then taken");
    assert!(wecom.last_error.as_deref().is_some_and(|error| error.contains("45009")), "{wecom:?}");

    let requests = received.lock().unwrap().clone();
    let text = format!("【派工】走廊灯不亮（hq-b1）已派给 张师傅。/orders/{document}");
    // The demo's low stock is told too: this order's messages are those naming it.
    let names_order = |body: &serde_json::Value| body.to_string().contains(&document.to_string());
    let sent = |path: &str| requests.iter().filter(|(at, _, body)| at == path && names_order(body)).cloned().collect::<Vec<_>>();
    let wecom = sent("/wecom");
    assert_eq!(wecom.len(), 2);
    assert_eq!(wecom[1].2, json!({ "msgtype": "text", "text": { "content": text } }));
    assert_eq!(wecom[1].1, "key=group-key");

    let dingtalk = sent("/dingtalk");
    assert_eq!(dingtalk.len(), 1);
    assert_eq!(dingtalk[0].2, json!({ "msgtype": "text", "text": { "content": text } }));
    let query: std::collections::HashMap<String, String> =
        reqwest::Url::parse(&format!("http://robot/?{}", dingtalk[0].1)).unwrap().query_pairs().into_owned().collect();
    assert_eq!(query["access_token"], "group-token");
    let timestamp = &query["timestamp"];
    assert_eq!(query["sign"], hmac_base64(DINGTALK_SECRET.as_bytes(), format!("{timestamp}\n{DINGTALK_SECRET}").as_bytes()));

    let feishu = sent("/feishu");
    assert_eq!(feishu.len(), 1);
    let body = &feishu[0].2;
    assert_eq!((&body["msg_type"], &body["content"]["text"]), (&json!("text"), &json!(text)));
    let timestamp = body["timestamp"].as_str().unwrap();
    assert_eq!(body["sign"], json!(hmac_base64(format!("{timestamp}\n{FEISHU_SECRET}").as_bytes(), b"")));
    server.stop().await.unwrap();
}

/// Escalation on a virtual clock: the server looks for overdue orders as of a time the
/// test chooses, through the same path its task takes every minute.
#[tokio::test]
async fn an_overdue_order_is_told_to_its_technician_then_the_managers_then_the_administrators_once_each() {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let document = DocumentId::from_random(*b"overdue-escalate");
    let mut manager = phone("manager-phone");
    report_and_assign(|user| server.sync_url(user), document, &mut manager, None).await;
    // Due tomorrow: the server's own look at overdue orders, by the real clock, finds
    // nothing, and the test's virtual clock is alone in passing the due time.
    let due = now().plus(shared::time::Span::days(1));
    edit_order(&mut manager, &document, |order| order.set_due(due, &edit("manager")));
    let synced = |client: &Client| client.status(&document) == Some(SyncStatus::Synced);
    sync_until(&mut manager, &server.sync_url("manager"), PATIENCE, synced).await.unwrap();
    wait_for("the due time projected", PATIENCE, || async {
        let projections = server.state.projections.site(&SiteId::parse("hq").unwrap()).unwrap();
        projections
            .iter()
            .any(|projection| matches!(&projection.summary, Summary::WorkOrder(order) if order.id == document.to_string() && order.due_at == Some(due)))
            .then_some(())
    })
    .await;
    let overdue = |minutes_past: i64| {
        let told =
            server.state.outbox.derive_overdue(&server.state.projections, due.plus(shared::time::Span::minutes(minutes_past))).unwrap();
        let mut recipients: Vec<String> =
            outbox(&server).into_iter().filter(|(kind, _, _)| *kind == NoticeKind::Overdue).map(|(_, recipient, _)| recipient).collect();
        recipients.sort();
        (told, recipients)
    };
    assert_eq!(overdue(1), (1, vec!["tech".to_owned()]));
    assert_eq!(overdue(2), (0, vec!["tech".to_owned()]), "told once");
    assert_eq!(overdue(61), (1, vec!["manager".to_owned(), "tech".to_owned()]));
    assert_eq!(overdue(241), (1, vec!["admin".to_owned(), "manager".to_owned(), "tech".to_owned()]));
    assert_eq!(overdue(300).0, 0);
    server.stop().await.unwrap();
}

/// The other events a site's people are told of: a stocktake closed for approval (as it
/// syncs), an urgent order left undispatched, stock at its reorder point and rounds missed
/// (as time passes, on a virtual clock through the server's own path) — each once.
#[tokio::test]
async fn a_closed_stocktake_an_urgent_order_left_undispatched_and_stock_at_its_reorder_point_are_each_told_once() {
    use shared::document::catalog::{MovementKind, SiteCatalog};
    use shared::document::stocktake::{Mode, NewStocktake, Phase, Stocktake};
    use shared::quantity::Quantity;
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let told = |kind: NoticeKind| -> Vec<String> {
        outbox(&server).into_iter().filter(|(found, _, _)| *found == kind).map(|(_, recipient, _)| recipient).collect()
    };

    // The store keeper closes a count: the managers are asked to approve it.
    let count = DocumentId::from_random(*b"closed-for-check");
    let new = NewStocktake {
        site: SiteId::parse("hq").unwrap(),
        location: "hq-store".into(),
        mode: Mode::Open,
        expected: Vec::new(),
        assets: Vec::new(),
    };
    let mut stocktake = Stocktake::start(automerge::ActorId::random(), &new, &edit("store")).unwrap();
    stocktake.record_phase(&EntryId::parse("closed").unwrap(), Phase::Closed, &edit("store")).unwrap();
    let mut store = phone("store-phone");
    store.add_document(count, stocktake.into_doc());
    sync_until(&mut store, &server.sync_url("store"), PATIENCE, |client| client.status(&count) == Some(SyncStatus::Synced)).await.unwrap();
    wait_for("the approval asked for", PATIENCE, || async { (told(NoticeKind::ToApprove) == ["manager"]).then_some(()) }).await;

    // The manager reports an urgent fault and leaves it: half an hour on, the site's
    // managers and administrators hear of it, once.
    let urgent = DocumentId::from_random(*b"urgent-left-open");
    let mut manager = phone("manager-phone");
    manager.add_document(urgent, order_by("manager", "hq", "配电房冒烟"));
    edit_order(&mut manager, &urgent, |order| order.set_priority(Priority::Urgent, &edit("manager")));
    sync_until(&mut manager, &server.sync_url("manager"), PATIENCE, |client| client.status(&urgent) == Some(SyncStatus::Synced))
        .await
        .unwrap();
    wait_for("the urgent order projected", PATIENCE, || async {
        let projections = server.state.projections.site(&SiteId::parse("hq").unwrap()).unwrap();
        projections
            .iter()
            .any(|projection| matches!(&projection.summary, Summary::WorkOrder(order) if order.id == urgent.to_string() && order.priority == Priority::Urgent))
            .then_some(())
    })
    .await;
    let outbox_of = &server.state.outbox;
    let at = |minutes: i64| now().plus(shared::time::Span::minutes(minutes));
    assert_eq!(outbox_of.derive_undispatched(&server.state.projections, at(10)).unwrap(), 0, "not yet");
    assert_eq!(outbox_of.derive_undispatched(&server.state.projections, at(31)).unwrap(), 2);
    assert_eq!(told(NoticeKind::Undispatched), ["admin", "manager"]);
    assert_eq!(outbox_of.derive_undispatched(&server.state.projections, at(40)).unwrap(), 0, "told once");

    // The demo's extinguishers are below their reorder point from the start: told once.
    outbox_of.derive_from_catalogs(&server.state.projections, now(), 480).unwrap();
    assert_eq!(told(NoticeKind::LowStock), ["store"]);
    // The store keeper issues 30 bulbs: 20 left, their reorder point.
    let catalog = server.state.directory.site(&SiteId::parse("hq").unwrap()).unwrap().unwrap().catalog.unwrap();
    store.request_document(catalog);
    let synced = |client: &Client| client.status(&catalog) == Some(SyncStatus::Synced);
    sync_until(&mut store, &server.sync_url("store"), PATIENCE, synced).await.unwrap();
    assert_eq!(outbox_of.derive_from_catalogs(&server.state.projections, now(), 480).unwrap(), 0, "50 bulbs, above the point of 20");
    SiteCatalog::edit_in(store.document_mut(&catalog).unwrap(), |catalog| {
        let item = EntryId::parse("bulb-led-9w").unwrap();
        catalog.record_movement(
            &EntryId::parse("issue-1").unwrap(),
            MovementKind::Issue,
            &item,
            Quantity::units(30),
            "保卫科",
            &edit("store"),
        )
    })
    .unwrap()
    .unwrap();
    store.handle_local_change(&catalog);
    sync_until(&mut store, &server.sync_url("store"), PATIENCE, synced).await.unwrap();
    assert_eq!(outbox_of.derive_from_catalogs(&server.state.projections, now(), 480).unwrap(), 1);
    assert_eq!(told(NoticeKind::LowStock), ["store", "store"]);
    let low: Vec<String> = server
        .state
        .outbox
        .entries()
        .unwrap()
        .into_iter()
        .filter(|entry| entry.notice.kind == NoticeKind::LowStock)
        .map(|entry| entry.notice.title)
        .collect();
    assert!(low.contains(&"LED 灯泡 9W（20 个）".to_owned()), "{low:?}");
    assert_eq!(outbox_of.derive_from_catalogs(&server.state.projections, now(), 480).unwrap(), 0, "told once while it stays low");

    // Two days on, nobody has walked the daily rounds (fire safety, the canteen): their
    // missed day is told to the managers, once; the weekly round is not due yet.
    let later = now().plus(shared::time::Span::days(2));
    assert_eq!(outbox_of.derive_from_catalogs(&server.state.projections, later, 480).unwrap(), 2);
    assert_eq!(told(NoticeKind::MissedRound), ["manager", "manager"]);
    assert_eq!(outbox_of.derive_from_catalogs(&server.state.projections, later.plus_millis(60_000), 480).unwrap(), 0, "told once");
    server.stop().await.unwrap();
}

/// A receiver that takes the connection and never answers holds up its own deliveries
/// (each attempt waits out the server's time limit), not those of other channels.
#[tokio::test]
async fn a_receiver_that_never_answers_holds_up_only_its_own_deliveries() {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}/hook", silent.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
        }
    });
    let base = robots(RobotRequests::default()).await;
    let channels = json!({
        "webhook": { "url": silent_url, "secret": "a-secret-of-the-site-hq" },
        "dingtalk": { "url": format!("{base}/dingtalk?access_token=group") },
    });
    assert_eq!(set_channels(&server, "admin", channels).await.status(), 200);
    let document = DocumentId::from_random(*b"silent-receiver1");
    report_and_assign(|user| server.sync_url(user), document, &mut phone("manager-phone"), None).await;
    let id = format!("{document}/assigned/tech");
    let entry = wait_for("the robot's delivery", PATIENCE, || async {
        let entry = server.state.outbox.entries().unwrap().into_iter().find(|entry| entry.notice.id() == id)?;
        entry.deliveries[&Channel::DingTalk].delivered_at.is_some().then_some(entry)
    })
    .await;
    assert_eq!(entry.deliveries[&Channel::Webhook].attempts, 0, "delivered while the silent webhook was still being waited for");
    server.stop().await.unwrap();
}

/// An administrator's phone adds a contractor whose contract ends in ten days: the site's
/// managers and administrators are reminded to renew it, once.
#[tokio::test]
async fn a_contract_ending_soon_is_told_to_the_managers_and_administrators_once() {
    use shared::document::catalog::{SiteCatalog, Vendor};
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let catalog = server.state.directory.site(&SiteId::parse("hq").unwrap()).unwrap().unwrap().catalog.unwrap();
    let mut admin = phone("admin-phone");
    admin.request_document(catalog);
    let synced = |client: &Client| client.status(&catalog) == Some(SyncStatus::Synced);
    sync_until(&mut admin, &server.sync_url("admin"), PATIENCE, synced).await.unwrap();
    let today = now().plus(shared::time::Span::hours(8)).day_number();
    let vendor = Vendor {
        id: EntryId::parse("lifts").unwrap(),
        name: "迅达电梯维保".into(),
        trade: "other".into(),
        contact: "刘工".into(),
        phone: "138 0000 0000".into(),
        contract_from: Some(today - 355),
        contract_to: Some(today + 10),
    };
    SiteCatalog::edit_in(admin.document_mut(&catalog).unwrap(), |catalog| catalog.put_vendor(&vendor, &edit("admin"))).unwrap().unwrap();
    admin.handle_local_change(&catalog);
    sync_until(&mut admin, &server.sync_url("admin"), PATIENCE, synced).await.unwrap();

    let outbox_of = &server.state.outbox;
    outbox_of.derive_from_catalogs(&server.state.projections, now(), 480).unwrap();
    let told: Vec<(String, String)> = outbox_of
        .entries()
        .unwrap()
        .into_iter()
        .filter(|entry| entry.notice.kind == NoticeKind::ContractEnding)
        .map(|entry| (entry.notice.recipient.to_string(), entry.notice.title))
        .collect();
    let ends = shared::time::Timestamp::from_day(today + 10).date();
    assert_eq!(told, [("admin".to_owned(), format!("迅达电梯维保 · {ends}")), ("manager".to_owned(), format!("迅达电梯维保 · {ends}"))]);
    assert_eq!(outbox_of.derive_from_catalogs(&server.state.projections, now().plus_millis(60_000), 480).unwrap(), 0, "told once");
    server.stop().await.unwrap();
}

/// The administrator gives the admin building's electricity meter a daily limit; a
/// technician's phone reads it at the start of a day and of the next: once the next has
/// begun, the managers are told the day used more than its limit, once.
#[tokio::test]
async fn a_meter_over_its_use_limit_is_told_to_the_managers_once() {
    use shared::document::catalog::{Per, SiteCatalog, UsageLimit};
    use shared::quantity::Quantity;
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let catalog = server.state.directory.site(&SiteId::parse("hq").unwrap()).unwrap().unwrap().catalog.unwrap();
    let synced = |client: &Client| client.status(&catalog) == Some(SyncStatus::Synced);
    let mut admin = phone("admin-phone");
    admin.request_document(catalog);
    sync_until(&mut admin, &server.sync_url("admin"), PATIENCE, synced).await.unwrap();
    let view = SiteCatalog::read_doc(admin.document(&catalog).unwrap()).unwrap();
    let meter = view.meters.iter().find(|meter| meter.id.as_str() == "hq-power").expect("the demo's electricity meter").clone();
    let limited = shared::document::catalog::Meter { usage_limit: Some(UsageLimit { most: Quantity::units(200), per: Per::Day }), ..meter };
    SiteCatalog::edit_in(admin.document_mut(&catalog).unwrap(), |catalog| catalog.put_meter(&limited, &edit("admin"))).unwrap().unwrap();
    admin.handle_local_change(&catalog);
    sync_until(&mut admin, &server.sync_url("admin"), PATIENCE, synced).await.unwrap();

    // Readings at the start of today and of tomorrow (Beijing), 240 kWh apart.
    let today = now().plus(shared::time::Span::hours(8)).day_number();
    let midnight = |day: i64| shared::time::Timestamp::from_day(day).minus(shared::time::Span::hours(8));
    let mut tech = phone("tech-phone");
    tech.request_document(catalog);
    sync_until(&mut tech, &server.sync_url("tech"), PATIENCE, synced).await.unwrap();
    let last = SiteCatalog::read_doc(tech.document(&catalog).unwrap())
        .unwrap()
        .readings
        .iter()
        .filter(|reading| reading.meter == limited.id)
        .map(|reading| reading.value)
        .max()
        .unwrap();
    for (id, day, value) in
        [("r-today", today, last.saturating_add(Quantity::units(10))), ("r-tomorrow", today + 1, last.saturating_add(Quantity::units(250)))]
    {
        let at = shared::document::Edit::new(Username::parse("tech").unwrap(), midnight(day));
        SiteCatalog::edit_in(tech.document_mut(&catalog).unwrap(), |catalog| {
            catalog.record_reading(&EntryId::parse(id).unwrap(), &limited.id, value, None, &at)
        })
        .unwrap()
        .unwrap();
    }
    tech.handle_local_change(&catalog);
    sync_until(&mut tech, &server.sync_url("tech"), PATIENCE, synced).await.unwrap();

    let outbox_of = &server.state.outbox;
    let tomorrow = midnight(today + 1).plus(shared::time::Span::HOUR);
    outbox_of.derive_from_catalogs(&server.state.projections, now(), 480).unwrap();
    let told_today: Vec<String> = outbox_of
        .entries()
        .unwrap()
        .into_iter()
        .filter(|entry| entry.notice.kind == NoticeKind::MeterOverLimit)
        .map(|entry| entry.notice.title)
        .collect();
    assert_eq!(
        told_today,
        Vec::<String>::new(),
        "yesterday (the demo's 174 kWh a day, then 10) stayed under the limit, and today is not over"
    );
    outbox_of.derive_from_catalogs(&server.state.projections, tomorrow, 480).unwrap();
    let told: Vec<(String, String)> = outbox_of
        .entries()
        .unwrap()
        .into_iter()
        .filter(|entry| entry.notice.kind == NoticeKind::MeterOverLimit)
        .map(|entry| (entry.notice.recipient.to_string(), entry.notice.title))
        .collect();
    assert_eq!(told, [("manager".to_owned(), "行政楼总电表 240 kWh > 200 kWh".to_owned())]);
    assert_eq!(outbox_of.derive_from_catalogs(&server.state.projections, tomorrow.plus_millis(60_000), 480).unwrap(), 0, "told once");
    server.stop().await.unwrap();
}
