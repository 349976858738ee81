//! Who may do what, over real sockets with the demo sites and users: sign-in, tokens
//! (forged, expired, tampered, revoked), which documents each role syncs at which site,
//! refused pushes that leave nothing stored, actor hijacks, blobs, and the admin API.

use std::time::Duration;

use automerge::transaction::Transactable as _;
use automerge::{AutoCommit, ROOT};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::directory::Username;
use shared::document::BlobRef;
use shared::protocol::DocumentId;
use shared::protocol::client::{Client, ClientConfig, SyncStatus};
use shared::protocol::message::PeerId;
use shared::time::{Span, Timestamp};
use tests::native_client::{now, sync_until};

use crate::support::{TestServer, catalog_of, get, http_client, login};
use crate::sync::{comment, order_by, order_with};

const PATIENCE: Duration = Duration::from_secs(60);

fn phone(name: &str) -> Client {
    Client::new(ClientConfig::new(PeerId(name.to_owned())), now())
}

fn answered(client: &Client, documents: &[DocumentId]) -> bool {
    documents.iter().all(|document| client.status(document) == Some(SyncStatus::Synced) || client.is_unavailable(document))
}

/// Pushes a new document from `user`'s phone and waits until the server holds it.
async fn push(server: &TestServer, user: &str, document: DocumentId, doc: AutoCommit) -> Client {
    let mut client = phone(user);
    client.add_document(document, doc);
    sync_until(&mut client, &server.sync_url(user), PATIENCE, |client| client.status(&document) == Some(SyncStatus::Synced)).await.unwrap();
    client
}

/// Pushes and expects the server to refuse the document; returns the phone.
async fn push_refused(server: &TestServer, url: &str, name: &str, document: DocumentId, doc: AutoCommit) -> Client {
    let mut client = phone(name);
    client.add_document(document, doc);
    sync_until(&mut client, url, PATIENCE, |client| client.is_refused(&document)).await.unwrap();
    assert_eq!(server.state.documents.chunk_count(&document).unwrap(), 0, "nothing refused may be stored");
    client
}

/// A fault `user` reports at `site`.
fn note(user: &str, site: &str, text: &str) -> AutoCommit {
    order_by(user, site, text)
}

async fn post(server: &TestServer, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
    let response = http_client().post(server.url(path)).bearer_auth(token).json(&body).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn each_role_syncs_exactly_the_documents_of_its_sites() {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let hq_round = DocumentId::from_random(*b"hq-round-for-all");
    let plant2_round = DocumentId::from_random(*b"plant2-dorm-room");
    push(&server, "inspector", hq_round, note("inspector", "hq", "三楼灭火器压力不足")).await;
    push(&server, "dorm", plant2_round, note("dorm", "plant2", "203 室插座松动")).await;
    let documents =
        [(catalog_of(&server, "hq"), "hq"), (hq_round, "hq"), (catalog_of(&server, "plant2"), "plant2"), (plant2_round, "plant2")];
    let ids: Vec<DocumentId> = documents.iter().map(|(id, _)| *id).collect();

    let sites_of: [(&str, &[&str]); 6] = [
        ("admin", &["hq", "plant2"]),
        ("manager", &["hq", "plant2"]),
        ("inspector", &["hq"]),
        ("dorm", &["plant2"]),
        ("tech", &["hq", "plant2"]),
        ("store", &["hq"]),
    ];
    for (user, sites) in sites_of {
        let mut client = phone(user);
        for id in &ids {
            client.request_document(*id);
        }
        sync_until(&mut client, &server.sync_url(user), PATIENCE, |client| answered(client, &ids)).await.unwrap();
        for (id, site) in &documents {
            if sites.contains(site) {
                assert_eq!(client.status(id), Some(SyncStatus::Synced), "{user} should have {site}'s document {id}");
                assert!(!client.document(id).unwrap().clone().get_heads().is_empty());
            } else {
                // Exactly the answer for a document that does not exist.
                assert!(client.is_unavailable(id), "{user} must not see {site}'s document {id}");
                assert!(client.document(id).unwrap().clone().get_heads().is_empty(), "nothing of it reached {user}");
            }
        }
    }
    let mut prober = phone("prober");
    let missing = DocumentId::from_random(*b"never-created-id");
    prober.request_document(missing);
    prober.request_document(plant2_round);
    sync_until(&mut prober, &server.sync_url("inspector"), PATIENCE, |client| answered(client, &[missing, plant2_round])).await.unwrap();
    assert!(prober.is_unavailable(&missing) && prober.is_unavailable(&plant2_round), "missing and forbidden look alike");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn documents_refused_at_the_door_are_not_stored() {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;

    // A new document at a site where the user has no role.
    let intruder = DocumentId::from_random(*b"dorm-writes-hq!!");
    let refused = push_refused(&server, &server.sync_url("dorm"), "dorm", intruder, note("dorm", "hq", "不该进来")).await;
    let actor = refused.document(&intruder).unwrap().get_actor().to_hex_string();
    assert_eq!(server.state.directory.actor_owner(&actor).unwrap(), None, "a refused change binds no actor");
    let mut manager = phone("manager");
    manager.request_document(intruder);
    sync_until(&mut manager, &server.sync_url("manager"), PATIENCE, |client| answered(client, &[intruder])).await.unwrap();
    assert!(manager.is_unavailable(&intruder));

    // A document without a site, and one whose site is not a site id.
    push_refused(&server, &server.sync_url("admin"), "admin", DocumentId::from_random(*b"no-site-at-all!!"), {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "note", "anonymous").unwrap();
        doc.commit();
        doc
    })
    .await;
    push_refused(&server, &server.sync_url("admin"), "admin", DocumentId::from_random(*b"bad-site-name!!!"), {
        let mut doc = note("admin", "hq", "x");
        doc.put(ROOT, "site", "Head Office").unwrap();
        doc.commit();
        doc
    })
    .await;

    // Moving an existing document to another site, even by someone with roles at both.
    let moved = DocumentId::from_random(*b"hq-stays-at-hq!!");
    let mut tech = push(&server, "tech", moved, note("tech", "hq", "空调不制冷")).await;
    let stored_heads = server.state.documents.load(&moved).unwrap().unwrap().get_heads();
    tech.document_mut(&moved).unwrap().put(ROOT, "site", "plant2").unwrap();
    tech.handle_local_change(&moved);
    sync_until(&mut tech, &server.sync_url("tech"), PATIENCE, |client| client.is_refused(&moved)).await.unwrap();
    let mut stored = server.state.documents.load(&moved).unwrap().unwrap();
    assert_eq!(stored.get_heads(), stored_heads, "the move was not stored");
    assert_eq!(shared::document::read_site(&stored).unwrap().as_str(), "hq");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn an_actor_belongs_to_its_first_user_and_history_names_them() {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let round = DocumentId::from_random(*b"actor-owned-doc!");
    let mut inspector = push(&server, "inspector", round, note("inspector", "hq", "first")).await;
    let actor = inspector.document(&round).unwrap().get_actor().clone();

    // The storekeeper (same site) writes under the inspector's actor: to a new document and
    // to the inspector's round. Both are refused and nothing is kept.
    let forged = order_with(actor.clone(), "store", "hq", "forged");
    push_refused(&server, &server.sync_url("store"), "store", DocumentId::from_random(*b"store-as-inspect"), forged).await;
    let mut store = phone("store");
    store.request_document(round);
    sync_until(&mut store, &server.sync_url("store"), PATIENCE, |client| client.status(&round) == Some(SyncStatus::Synced)).await.unwrap();
    let before = server.state.documents.load(&round).unwrap().unwrap().get_heads();
    store.document_mut(&round).unwrap().set_actor(actor.clone());
    comment(store.document_mut(&round).unwrap(), "store", "hijack", "written by someone else");
    store.handle_local_change(&round);
    sync_until(&mut store, &server.sync_url("store"), PATIENCE, |client| client.is_refused(&round)).await.unwrap();
    assert_eq!(server.state.documents.load(&round).unwrap().unwrap().get_heads(), before, "the hijacking change was not stored");

    // The owner carries on with the same actor; the storekeeper under their own is fine too.
    comment(inspector.document_mut(&round).unwrap(), "inspector", "second", "second");
    inspector.handle_local_change(&round);
    sync_until(&mut inspector, &server.sync_url("inspector"), PATIENCE, |client| client.status(&round) == Some(SyncStatus::Synced))
        .await
        .unwrap();
    let mut honest = phone("store-honest");
    honest.request_document(round);
    sync_until(&mut honest, &server.sync_url("store"), PATIENCE, |client| client.status(&round) == Some(SyncStatus::Synced)).await.unwrap();
    comment(honest.document_mut(&round).unwrap(), "store", "checked", "checked");
    honest.handle_local_change(&round);
    sync_until(&mut honest, &server.sync_url("store"), PATIENCE, |client| client.status(&round) == Some(SyncStatus::Synced)).await.unwrap();

    let response = get(&server, &format!("/api/documents/{round}/history"), Some(&server.token("manager"))).await;
    assert_eq!(response.status(), 200);
    let history: Vec<Value> = response.json().await.unwrap();
    let users: Vec<&str> = history.iter().map(|entry| entry["user"].as_str().unwrap_or("?")).collect();
    assert_eq!(users, ["inspector", "inspector", "store"], "{history:#?}");
    assert_eq!(history[0]["actor"], actor.to_hex_string());
    assert_eq!(server.state.directory.actors_of(&Username::parse("inspector").unwrap()).unwrap(), [actor.to_hex_string()]);

    // History is site-scoped like sync: not found for someone without a role there.
    let response = get(&server, &format!("/api/documents/{round}/history"), Some(&server.token("dorm"))).await;
    assert_eq!(response.status(), 404);
    assert_eq!(get(&server, &format!("/api/documents/{round}/history"), None).await.status(), 401);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn sign_in_answers_with_a_token_and_me_lists_sites_with_catalogs() {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let base = server.url("/");
    let response =
        http_client().post(server.url("/api/login")).json(&json!({ "username": "inspector", "password": "demo" })).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    assert_eq!(body["user"]["username"], "inspector");
    assert_eq!(body["user"]["roles"], json!([{ "site": "hq", "role": "inspector" }]));
    assert!(body["user"].get("password_hash").is_none());
    let expires_at = Timestamp::from_millis(body["expires_at"].as_i64().unwrap());
    let days = expires_at.since(now()).whole(Span::DAY);
    assert!((29..=30).contains(&days), "a phone keeps working offline for weeks: {days} days");

    let me: Value = get(&server, "/api/me", Some(token)).await.json().await.unwrap();
    assert_eq!(me["user"]["display_name"], "李安全员");
    let catalog = catalog_of(&server, "hq").url();
    assert_eq!(me["sites"], json!([{ "id": "hq", "name": "总部", "role": "inspector", "catalog": catalog }]));
    let tech: Value = get(&server, "/api/me", Some(&login(&base, "tech", "demo").await)).await.json().await.unwrap();
    let tech_sites: Vec<(&str, &str)> =
        tech["sites"].as_array().unwrap().iter().map(|site| (site["id"].as_str().unwrap(), site["role"].as_str().unwrap())).collect();
    assert_eq!(tech_sites, [("hq", "technician"), ("plant2", "technician")]);

    // Wrong password and unknown user: the same answer, naming neither.
    for (username, password) in [("inspector", "wrong"), ("nobody", "demo"), ("Not A Name", "demo")] {
        let response =
            http_client().post(server.url("/api/login")).json(&json!({ "username": username, "password": password })).send().await.unwrap();
        assert_eq!(response.status(), 401, "{username}");
        assert_eq!(response.json::<Value>().await.unwrap(), json!({ "error": "wrong user name or password", "code": "wrong_login" }));
    }
    let response = http_client()
        .post(server.url("/api/login"))
        .header("content-type", "application/json")
        .body("{\"username\":")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.json::<Value>().await.unwrap()["error"].as_str().unwrap().starts_with("expected {\"username\", \"password\"}"));

    // Guessing: a few mistakes are free, then even the right password waits.
    for _ in 0..4 {
        let response =
            http_client().post(server.url("/api/login")).json(&json!({ "username": "manager", "password": "guess" })).send().await.unwrap();
        assert_eq!(response.status(), 401);
    }
    let response =
        http_client().post(server.url("/api/login")).json(&json!({ "username": "manager", "password": "guess" })).send().await.unwrap();
    assert_eq!(response.status(), 401, "the fifth failure is still an ordinary failure");
    let response =
        http_client().post(server.url("/api/login")).json(&json!({ "username": "manager", "password": "demo" })).send().await.unwrap();
    assert_eq!(response.status(), 429);
    let wait: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&wait), "{wait}");
    assert!(response.json::<Value>().await.unwrap()["error"].as_str().unwrap().starts_with("too many failed attempts"));
    assert!(!login(&base, "store", "demo").await.is_empty(), "other users are not held up");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn forged_expired_and_tampered_tokens_are_refused_everywhere() {
    use base64ct::{Base64UrlUnpadded, Encoding};

    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let admin = server.state.directory.user(&Username::parse("admin").unwrap()).unwrap().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let other_key = server::auth::Tokens::open(&server::Storage::open(elsewhere.path()).unwrap()).unwrap();
    let (forged, _) = other_key.issue(&admin, now());
    let long_ago = now().plus_millis(-(server::auth::TOKEN_LIFETIME.as_millis() as i64) - 60_000);
    let (expired, _) = server.state.tokens.issue(&admin, long_ago);
    let dorm = server.token("dorm");
    let (payload, signature) = dorm.split_once('.').unwrap();
    let mut claims: Value = serde_json::from_slice(&Base64UrlUnpadded::decode_vec(payload).unwrap()).unwrap();
    claims["sub"] = json!("admin");
    let tampered = format!("{}.{signature}", Base64UrlUnpadded::encode_string(claims.to_string().as_bytes()));

    for (what, token) in [("forged", forged.as_str()), ("expired", &expired), ("tampered", &tampered), ("garbage", "abc.def")] {
        let response = get(&server, "/api/me", Some(token)).await;
        assert_eq!(response.status(), 401, "{what} token on /api/me");
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({ "error": "sign in first: the session is missing, expired or revoked", "code": "unauthorized" })
        );
        let refused = tokio_tungstenite::connect_async(format!("ws://{}/sync?token={token}", server.address)).await;
        match refused {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 401, "{what} token on /sync"),
            other => panic!("{what} token: expected 401 without an upgrade, got {other:?}"),
        }
    }
    assert_eq!(get(&server, "/api/me", None).await.status(), 401);
    match tokio_tungstenite::connect_async(format!("ws://{}/sync", server.address)).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 401),
        other => panic!("anonymous: expected 401, got {other:?}"),
    }
    // The header works for clients that can set one.
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!("ws://{}/sync", server.address)).unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {dorm}").parse().unwrap());
    assert!(tokio_tungstenite::connect_async(request).await.is_ok(), "a bearer header opens the socket");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_disabled_user_is_cut_off_at_once() {
    use futures_util::StreamExt;

    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let store_token = login(&server.url("/"), "store", "demo").await;
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{}/sync?token={store_token}", server.address)).await.unwrap();

    let (status, body) = post(&server, "/api/admin/users/store/disable", &server.token("manager"), json!({})).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::FORBIDDEN, Some("only an administrator may do this")));
    let (status, body) = post(&server, "/api/admin/users/store/disable", &server.token("admin"), json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["disabled"], true);

    let closed = tokio::time::timeout(PATIENCE, async {
        loop {
            match socket.next().await {
                Some(Ok(frame)) if frame.is_close() => return true,
                Some(Ok(_)) => {}
                _ => return true,
            }
        }
    })
    .await;
    assert_eq!(closed, Ok(true), "the open sync connection is closed");
    assert_eq!(get(&server, "/api/me", Some(&store_token)).await.status(), 401);
    let refused = tokio_tungstenite::connect_async(format!("ws://{}/sync?token={store_token}", server.address)).await;
    assert!(matches!(refused, Err(tokio_tungstenite::tungstenite::Error::Http(ref response)) if response.status() == 401));
    let response =
        http_client().post(server.url("/api/login")).json(&json!({ "username": "store", "password": "demo" })).send().await.unwrap();
    assert_eq!(response.status(), 401, "a disabled user cannot sign in");

    // Enabled again: a new sign-in works, the old token stays dead.
    let (status, _) = post(&server, "/api/admin/users/store/enable", &server.token("admin"), json!({})).await;
    assert_eq!(status, 200);
    let fresh = login(&server.url("/"), "store", "demo").await;
    assert_eq!(get(&server, "/api/me", Some(&fresh)).await.status(), 200);
    assert_eq!(get(&server, "/api/me", Some(&store_token)).await.status(), 401);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn blobs_are_checked_on_the_way_in_and_shown_only_to_those_who_may_see_them() {
    use sha2::{Digest, Sha256};

    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    // A JPEG by its first bytes, as a phone's camera makes them.
    let photo: Vec<u8> = [0xff, 0xd8, 0xff, 0xe0].into_iter().chain((0..50_000u32).map(|index| (index * 7 % 251) as u8)).collect();
    let hash: String = hex::encode(Sha256::digest(&photo));
    let put = |token: Option<String>, hash: String, body: Vec<u8>| {
        let mut request = http_client().put(server.url(&format!("/blobs/{hash}"))).header("content-type", "image/jpeg").body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move { request.send().await.unwrap() }
    };
    let inspector = server.token("inspector");
    let stored = |hash: &str| server.state.blobs.get(&server::blobs::parse_sha256(hash).unwrap()).unwrap().is_some();

    assert_eq!(put(None, hash.clone(), photo.clone()).await.status(), 401);
    let mut damaged = photo.clone();
    damaged[100] ^= 1;
    let response = put(Some(inspector.clone()), hash.clone(), damaged).await;
    assert_eq!(response.status(), 400);
    assert!(response.json::<Value>().await.unwrap()["error"].as_str().unwrap().contains("the upload was damaged or mislabelled"));
    assert!(!stored(&hash), "a wrong hash stores nothing");
    let huge = vec![7u8; server::blobs::MAX_BLOB + 1];
    let huge_hash: String = hex::encode(Sha256::digest(&huge));
    let response = put(Some(inspector.clone()), huge_hash.clone(), huge).await;
    assert_eq!(response.status(), 413);
    assert!(!stored(&huge_hash), "an oversized upload stores nothing");
    assert_eq!(put(Some(inspector.clone()), "ABC".into(), photo.clone()).await.status(), 400);

    // Not a picture, whatever the header says: an SVG that would run script.
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(document.cookie)</script></svg>".to_vec();
    let svg_hash: String = hex::encode(Sha256::digest(&svg));
    let response = put(Some(inspector.clone()), svg_hash.clone(), svg).await;
    assert_eq!(response.status(), 415);
    assert_eq!(response.json::<Value>().await.unwrap()["code"], "unsupported_file");
    assert!(!stored(&svg_hash));

    assert_eq!(put(Some(inspector.clone()), hash.clone(), photo.clone()).await.status(), 201);
    assert_eq!(put(Some(inspector.clone()), hash.clone(), photo.clone()).await.status(), 201, "the same file again: the same answer");
    assert!(stored(&hash));

    // Uploaded, but no document refers to it yet: nobody can read it.
    let path = format!("/blobs/{hash}");
    assert_eq!(get(&server, &path, Some(&inspector)).await.status(), 404);

    // An hq round refers to it: hq people can read it, plant2-only people cannot.
    let mut round = order_by("inspector", "hq", "photo");
    let blob = BlobRef::new(&hash, photo.len() as u64, "image/jpeg").unwrap();
    shared::document::work_order::WorkOrder::edit_in(&mut round, |order| {
        let edit = shared::document::Edit::new(Username::parse("inspector").unwrap(), now());
        order.add_comment(&shared::document::EntryId::parse("photo").unwrap(), "", Some(&blob), &edit).unwrap();
    })
    .unwrap();
    push(&server, "inspector", DocumentId::from_random(*b"round-with-photo"), round).await;
    for user in ["inspector", "manager", "store", "admin"] {
        let response = get(&server, &path, Some(&server.token(user))).await;
        assert_eq!(response.status(), 200, "{user}");
        assert_eq!(response.headers()["content-type"], "image/jpeg");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        assert_eq!(response.headers()["content-disposition"], format!("attachment; filename=\"{hash}.jpg\""));
        assert!(response.headers()["content-security-policy"].to_str().unwrap().contains("sandbox"));
        assert_eq!(response.bytes().await.unwrap().as_ref(), photo.as_slice());
    }
    assert_eq!(get(&server, &path, Some(&server.token("dorm"))).await.status(), 404, "plant2 only");

    // Knowing the hash, a plant2 person points a plant2 document at the hq photo: still
    // not theirs to read, since nobody who uploaded it works at plant2.
    let mut pointing = order_by("dorm", "plant2", "借用照片");
    shared::document::work_order::WorkOrder::edit_in(&mut pointing, |order| {
        let edit = shared::document::Edit::new(Username::parse("dorm").unwrap(), now());
        order.add_comment(&shared::document::EntryId::parse("photo").unwrap(), "", Some(&blob), &edit).unwrap();
    })
    .unwrap();
    push(&server, "dorm", DocumentId::from_random(*b"plant2-points-at"), pointing).await;
    assert_eq!(get(&server, &path, Some(&server.token("dorm"))).await.status(), 404, "a reference alone opens nothing");
    assert_eq!(put(Some(server.token("dorm")), hash.clone(), photo.clone()).await.status(), 201);
    assert_eq!(get(&server, &path, Some(&server.token("dorm"))).await.status(), 200, "one who holds the file may share it at their site");
    assert_eq!(get(&server, &path, None).await.status(), 401);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn administrators_add_sites_and_people_who_then_see_only_their_site() {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let admin = server.token("admin");
    let (status, site) = post(&server, "/api/admin/sites", &admin, json!({ "id": "plant3", "name": "三厂" })).await;
    assert_eq!(status, 201, "{site}");
    let catalog = DocumentId::parse(site["catalog"].as_str().unwrap()).unwrap();
    let refusals = [
        ("/api/admin/sites", json!({ "id": "plant3", "name": "又一个" }), StatusCode::CONFLICT, "a site \"plant3\" exists already"),
        ("/api/admin/sites", json!({ "id": "Plant 4", "name": "四厂" }), StatusCode::BAD_REQUEST, "invalid site id"),
        (
            "/api/admin/users",
            json!({ "username": "zhou", "display_name": "周", "password": "short", "roles": [] }),
            StatusCode::BAD_REQUEST,
            "at least 8 characters",
        ),
        (
            "/api/admin/users",
            json!({ "username": "zhou", "display_name": "周", "password": "long enough", "roles": [{ "site": "nowhere", "role": "inspector" }] }),
            StatusCode::BAD_REQUEST,
            "there is no site \"nowhere\"",
        ),
        (
            "/api/admin/users",
            json!({ "username": "zhou", "display_name": "周", "password": "long enough", "roles": [{ "site": "plant3", "role": "boss" }] }),
            StatusCode::BAD_REQUEST,
            "invalid role \"boss\"",
        ),
    ];
    for (path, body, status, message) in refusals {
        let (got, answer) = post(&server, path, &admin, body).await;
        assert_eq!(got, status, "{answer}");
        assert!(answer["error"].as_str().unwrap().contains(message), "{answer}");
    }
    let (status, _) = post(&server, "/api/admin/sites", &server.token("manager"), json!({ "id": "plant4", "name": "四厂" })).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let new_user = json!({ "username": "zhou", "display_name": "周巡检", "password": "三厂安全生产第一", "roles": [{ "site": "plant3", "role": "inspector" }] });
    let (status, user) = post(&server, "/api/admin/users", &admin, new_user.clone()).await;
    assert_eq!(status, 201, "{user}");
    assert_eq!(user["roles"], json!([{ "site": "plant3", "role": "inspector" }]));
    assert_eq!(post(&server, "/api/admin/users", &admin, new_user).await.0, StatusCode::CONFLICT);

    let token = login(&server.url("/"), "zhou", "三厂安全生产第一").await;
    let me: Value = get(&server, "/api/me", Some(&token)).await.json().await.unwrap();
    assert_eq!(me["sites"], json!([{ "id": "plant3", "name": "三厂", "role": "inspector", "catalog": catalog.url() }]));
    let hq_catalog = catalog_of(&server, "hq");
    let mut phone = phone("zhou");
    phone.request_document(catalog);
    phone.request_document(hq_catalog);
    let url = format!("ws://{}/sync?token={token}", server.address);
    sync_until(&mut phone, &url, PATIENCE, |client| answered(client, &[catalog, hq_catalog])).await.unwrap();
    assert_eq!(phone.status(&catalog), Some(SyncStatus::Synced));
    assert!(phone.is_unavailable(&hq_catalog));
    let view = shared::document::catalog::SiteCatalog::from_doc(phone.document(&catalog).unwrap().clone()).unwrap().read().unwrap();
    assert_eq!(view.templates.len(), 4, "a new site starts with the standard checklists");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_sites_people_are_listed_to_those_who_work_there() {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let people = get(&server, "/api/sites/plant2/people", Some(&server.token("manager"))).await;
    assert_eq!(people.status(), 200);
    let people: Value = people.json().await.unwrap();
    let listed: Vec<(String, String)> = people
        .as_array()
        .unwrap()
        .iter()
        .map(|person| (person["username"].as_str().unwrap().to_owned(), person["role"].as_str().unwrap().to_owned()))
        .collect();
    let expected = [("dorm", "dorm_staff"), ("tech", "technician"), ("manager", "manager"), ("admin", "admin")]
        .map(|(user, role)| (user.to_owned(), role.to_owned()));
    assert_eq!(listed, expected);
    assert_eq!(people[1]["display_name"], "张师傅");
    // The inspector works at hq only: plant2's people are not theirs to see.
    for (path, token) in [
        ("/api/sites/plant2/people", Some(server.token("inspector"))),
        ("/api/sites/nowhere/people", Some(server.token("admin"))),
        ("/api/sites/Bad%20Site/people", Some(server.token("admin"))),
    ] {
        assert_eq!(get(&server, path, token.as_deref()).await.status(), 404, "{path}");
    }
    assert_eq!(get(&server, "/api/sites/hq/people", None).await.status(), 401);
    // A disabled technician is not offered for work.
    let (status, _) = post(&server, "/api/admin/users/tech/disable", &server.token("admin"), json!({})).await;
    assert_eq!(status, 200);
    let people: Value = get(&server, "/api/sites/hq/people", Some(&server.token("manager"))).await.json().await.unwrap();
    assert!(people.as_array().unwrap().iter().all(|person| person["username"] != "tech"), "{people}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn admins_reset_passwords_change_roles_at_their_sites_and_see_who_synced_with_what() {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let admin = server.token("admin");
    let put_roles = |token: String, user: &'static str, roles: Value| {
        let url = server.url(&format!("/api/admin/users/{user}/roles"));
        async move {
            let response = http_client().put(url).bearer_auth(token).json(&json!({ "roles": roles })).send().await.unwrap();
            let status = response.status();
            (status, response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };

    // The inspector syncs once: the list shows when, and the device they used.
    let mut inspector_phone = phone("inspector");
    let doc = order_with(automerge::ActorId::from([0x5a; 16]), "inspector", "hq", "device");
    let document = DocumentId::from_random(*b"inspector-device");
    inspector_phone.add_document(document, doc);
    sync_until(&mut inspector_phone, &server.sync_url("inspector"), PATIENCE, |client| {
        client.status(&document) == Some(SyncStatus::Synced)
    })
    .await
    .unwrap();
    let people: Value = get(&server, "/api/admin/users", Some(&admin)).await.json().await.unwrap();
    let inspector = people.as_array().unwrap().iter().find(|person| person["username"] == "inspector").unwrap();
    assert!(inspector["last_sync"].as_i64().unwrap() > 1_700_000_000_000, "{inspector}");
    assert_eq!(inspector["devices"], json!(["5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"]));
    assert_eq!(inspector["roles"], json!([{ "site": "hq", "role": "inspector" }]));
    let tech = people.as_array().unwrap().iter().find(|person| person["username"] == "tech").unwrap();
    assert_eq!(tech["last_sync"], Value::Null);

    // Roles: given at the admin's sites, refused elsewhere and for non-admins. The person's
    // open sync connection closes so that it reopens under the new roles; their token stays.
    let inspector_token = server.token("inspector");
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{}/sync?token={inspector_token}", server.address)).await.unwrap();
    let (status, body) =
        put_roles(admin.clone(), "inspector", json!([{ "site": "hq", "role": "inspector" }, { "site": "plant2", "role": "dorm_staff" }]))
            .await;
    assert_eq!(status, 200, "{body}");
    let reason = tokio::time::timeout(PATIENCE, async {
        use futures_util::StreamExt as _;
        while let Some(Ok(frame)) = socket.next().await {
            if let tokio_tungstenite::tungstenite::Message::Close(close) = frame {
                return close.map(|close| close.reason.to_string());
            }
        }
        None
    })
    .await
    .unwrap();
    assert_eq!(reason.as_deref(), Some("roles changed: reconnect"));
    assert_eq!(get(&server, "/api/me", Some(&inspector_token)).await.status(), 200);
    assert_eq!(body["roles"], json!([{ "site": "hq", "role": "inspector" }, { "site": "plant2", "role": "dorm_staff" }]));
    let me: Value = get(&server, "/api/me", Some(&server.token("inspector"))).await.json().await.unwrap();
    assert_eq!(me["sites"].as_array().unwrap().len(), 2, "{me}");
    let (status, _) = put_roles(server.token("manager"), "inspector", json!([])).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = put_roles(admin.clone(), "inspector", json!([{ "site": "hq", "role": "chief" }])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = put_roles(admin.clone(), "admin", json!([{ "site": "hq", "role": "admin" }])).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("you cannot take away your own administration of a site")));
    let (status, _) = put_roles(admin.clone(), "nobody", json!([])).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // An admin of hq only cannot touch plant2 roles, and keeps them when changing hq's.
    let (status, _) = post(&server, "/api/admin/users", &admin, json!({ "username": "hqadmin", "display_name": "总部管理员", "password": "long enough", "roles": [{ "site": "hq", "role": "admin" }] })).await;
    assert_eq!(status, StatusCode::CREATED);
    let hq_admin = login(&server.url("/"), "hqadmin", "long enough").await;
    let (status, _) = put_roles(hq_admin.clone(), "inspector", json!([{ "site": "plant2", "role": "inspector" }])).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = put_roles(hq_admin.clone(), "inspector", json!([{ "site": "hq", "role": "manager" }])).await;
    assert_eq!(status, 200);
    assert_eq!(body["roles"], json!([{ "site": "plant2", "role": "dorm_staff" }, { "site": "hq", "role": "manager" }]));
    let listed: Value = get(&server, "/api/admin/users", Some(&hq_admin)).await.json().await.unwrap();
    let names: Vec<&str> = listed.as_array().unwrap().iter().map(|person| person["username"].as_str().unwrap()).collect();
    assert!(names.contains(&"inspector") && !names.contains(&"dorm"), "an hq admin sees hq's people only: {names:?}");

    // A reset password: the old one and old tokens stop working, the new one works.
    let old_token = server.token("store");
    let (status, body) = post(&server, "/api/admin/users/store/password", &admin, json!({ "password": "short" })).await;
    assert_eq!(
        (status, body["error"].as_str(), body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("a password needs at least 8 characters"), Some("password_too_short"))
    );
    let (status, body) = post(&server, "/api/admin/users/dorm/password", &hq_admin, json!({ "password": "a new secret" })).await;
    assert_eq!(
        (status, body["error"].as_str(), body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("this person works at a site you do not administer"), Some("forbidden"))
    );
    let (status, _) = post(&server, "/api/admin/users/store/password", &admin, json!({ "password": "a new secret" })).await;
    assert_eq!(status, 200);
    assert_eq!(get(&server, "/api/me", Some(&old_token)).await.status(), 401);
    let response =
        http_client().post(server.url("/api/login")).json(&json!({ "username": "store", "password": "demo" })).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let fresh = login(&server.url("/"), "store", "a new secret").await;
    assert_eq!(get(&server, "/api/me", Some(&fresh)).await.status(), 200);
    server.stop().await.unwrap();
}

/// The issue's findings over real sockets: each change a role may not make is refused with
/// its reason, nothing of it is stored, and the same phone's honest work syncs meanwhile.
#[tokio::test]
async fn every_change_is_held_to_the_write_policy_and_refusals_say_why() {
    use shared::document::catalog::SiteCatalog;
    use shared::document::stocktake::{Mode, NewStocktake, Phase, Stocktake};
    use shared::document::{Edit, EntryId};
    use shared::quantity::Quantity;

    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let edit = |user: &str| Edit::new(Username::parse(user).unwrap(), now());
    let id = |value: &str| EntryId::parse(value).unwrap();
    let refusal = |client: &Client, document: &DocumentId| client.refusal(document).map(|refusal| refusal.code.clone());

    // An inspector re-points a printed label's code, and reports a fault honestly.
    let catalog = catalog_of(&server, "hq");
    let stored_catalog = server.state.documents.load(&catalog).unwrap().unwrap().get_heads();
    let mut inspector = phone("inspector");
    inspector.request_document(catalog);
    sync_until(&mut inspector, &server.sync_url("inspector"), PATIENCE, |client| client.status(&catalog) == Some(SyncStatus::Synced))
        .await
        .unwrap();
    SiteCatalog::edit_in(inspector.document_mut(&catalog).unwrap(), |site| {
        let mut place = site.read().unwrap().places[0].clone();
        place.code = "HACKED".into();
        site.put_place(&place, &edit("inspector")).unwrap();
    })
    .unwrap();
    inspector.handle_local_change(&catalog);
    let honest = DocumentId::from_random(*b"honest-inspector");
    inspector.add_document(honest, order_by("inspector", "hq", "楼梯灯不亮"));
    // And a fault reported "by the manager".
    let forged = DocumentId::from_random(*b"forged-reporter!");
    inspector.add_document(forged, order_by("manager", "hq", "经理报的"));
    let settled =
        |client: &Client| client.is_refused(&catalog) && client.is_refused(&forged) && client.status(&honest) == Some(SyncStatus::Synced);
    sync_until(&mut inspector, &server.sync_url("inspector"), PATIENCE, settled).await.unwrap();
    assert_eq!(refusal(&inspector, &catalog).as_deref(), Some("role"));
    assert_eq!(refusal(&inspector, &forged).as_deref(), Some("name"));
    assert_eq!(server.state.documents.load(&catalog).unwrap().unwrap().get_heads(), stored_catalog, "the catalog is as it was");
    assert_eq!(server.state.documents.chunk_count(&forged).unwrap(), 0, "nothing of the forged order is stored");

    // A storekeeper counts and closes a stocktake, then approves it: the approval is
    // refused; a manager's is kept.
    let count = DocumentId::from_random(*b"self-approved!!!");
    let new = NewStocktake {
        site: shared::directory::SiteId::parse("hq").unwrap(),
        location: "hq-store".into(),
        mode: Mode::Open,
        expected: vec![("gloves".into(), Quantity::from_thousandths(5_000))],
        assets: Vec::new(),
    };
    let mut stocktake = Stocktake::start(automerge::ActorId::random(), &new, &edit("store")).unwrap();
    stocktake.count(&id("c1"), "A1", "gloves", Quantity::from_thousandths(50_000), &edit("store")).unwrap();
    stocktake.record_phase(&id("closed"), Phase::Closed, &edit("store")).unwrap();
    let store_url = server.sync_url("store");
    let mut store = push(&server, "store", count, stocktake.into_doc()).await;
    Stocktake::edit_in(store.document_mut(&count).unwrap(), |count| count.approve(&id("approved"), &[], &edit("store")).unwrap()).unwrap();
    store.handle_local_change(&count);
    sync_until(&mut store, &store_url, PATIENCE, |client| client.is_refused(&count)).await.unwrap();
    assert_eq!(refusal(&store, &count).as_deref(), Some("role"));
    let mut manager = phone("manager");
    manager.request_document(count);
    sync_until(&mut manager, &server.sync_url("manager"), PATIENCE, |client| client.status(&count) == Some(SyncStatus::Synced))
        .await
        .unwrap();
    assert_eq!(
        Stocktake::read_doc(manager.document(&count).unwrap()).unwrap().phase,
        Phase::Closed,
        "the storekeeper's approval was not kept"
    );
    Stocktake::edit_in(manager.document_mut(&count).unwrap(), |count| count.approve(&id("approved-m"), &[], &edit("manager")).unwrap())
        .unwrap();
    manager.handle_local_change(&count);
    sync_until(&mut manager, &server.sync_url("manager"), PATIENCE, |client| client.status(&count) == Some(SyncStatus::Synced))
        .await
        .unwrap();
    let kept = server.state.documents.load(&count).unwrap().unwrap();
    assert_eq!(Stocktake::read_doc(&kept).unwrap().phase, Phase::Approved);

    // An administrator retypes a place's code as a number: refused, the catalog still reads.
    let plant2 = catalog_of(&server, "plant2");
    let mut admin = phone("admin");
    admin.request_document(plant2);
    sync_until(&mut admin, &server.sync_url("admin"), PATIENCE, |client| client.status(&plant2) == Some(SyncStatus::Synced)).await.unwrap();
    {
        let doc = admin.document_mut(&plant2).unwrap();
        let (_, places) = automerge::ReadDoc::get(doc, ROOT, "places").unwrap().unwrap();
        let first = automerge::ReadDoc::keys(doc, &places).next().unwrap();
        let (_, place) = automerge::ReadDoc::get(doc, &places, first.as_str()).unwrap().unwrap();
        doc.put(&place, "code", 42_i64).unwrap();
        doc.commit();
    }
    admin.handle_local_change(&plant2);
    sync_until(&mut admin, &server.sync_url("admin"), PATIENCE, |client| client.is_refused(&plant2)).await.unwrap();
    assert_eq!(refusal(&admin, &plant2).as_deref(), Some("unreadable"));
    SiteCatalog::read_doc(&server.state.documents.load(&plant2).unwrap().unwrap()).expect("the stored catalog still reads");
    let labels = get(&server, "/api/sites/plant2/labels.svg", Some(&server.token("admin"))).await;
    assert_eq!(labels.status(), 200);
    server.stop().await.unwrap();
}

/// Reads `socket` until the server closes it; the reason it gave.
async fn close_reason(socket: &mut tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>) -> String {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let closed = tokio::time::timeout(PATIENCE, async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|frame| frame.reason.to_string()).unwrap_or_default(),
                Some(Ok(_)) => {}
                other => return format!("ended without a close frame: {other:?}"),
            }
        }
    })
    .await;
    closed.expect("the server closes the socket")
}

#[tokio::test]
async fn signing_out_ends_that_token_and_its_sockets_and_a_token_in_an_address_opens_links_only() {
    use futures_util::StreamExt;
    use tokio_tungstenite::connect_async;

    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let inspector = server.state.directory.user(&Username::parse("inspector").unwrap()).unwrap().unwrap();
    let now = server::auth::now();
    let (phone, _) = server.state.tokens.issue(&inspector, now);
    let (other_phone, _) = server.state.tokens.issue(&inspector, now.plus_millis(1));
    let ticket = |token: String| {
        let request = http_client().post(server.url("/api/sync-ticket")).bearer_auth(token).send();
        async move { request.await.unwrap().json::<Value>().await.unwrap()["ticket"].as_str().unwrap().to_owned() }
    };
    let sync = |credential: String| format!("ws://{}/sync?{credential}", server.address);
    let (mut socket, _) = connect_async(sync(format!("ticket={}", ticket(phone.clone()).await))).await.unwrap();
    let (mut other_socket, _) = connect_async(sync(format!("token={other_phone}"))).await.unwrap();
    let unused_ticket = ticket(phone.clone()).await;

    let signed_out = http_client().post(server.url("/api/logout")).bearer_auth(&phone).send().await.unwrap();
    assert_eq!(signed_out.status(), StatusCode::NO_CONTENT);
    assert_eq!(close_reason(&mut socket).await, "signed out: sign in again");
    assert_eq!(get(&server, "/api/me", Some(&phone)).await.status(), 401);
    for refused in [sync(format!("ticket={unused_ticket}")), sync(format!("token={phone}"))] {
        let opened = connect_async(refused.as_str()).await;
        assert!(matches!(opened, Err(tokio_tungstenite::tungstenite::Error::Http(ref response)) if response.status() == 401), "{refused}");
    }
    let again = http_client().post(server.url("/api/logout")).bearer_auth(&phone).send().await.unwrap();
    assert_eq!(again.status(), 401, "a token signs out once");
    // The same person's other phone goes on: its API calls and its open socket.
    assert_eq!(get(&server, "/api/me", Some(&other_phone)).await.status(), 200);
    let quiet = tokio::time::timeout(Duration::from_millis(500), other_socket.next()).await;
    assert!(quiet.is_err(), "the other phone's socket stays open: {quiet:?}");

    // A token in the address opens a label sheet or an export, not the rest of the API.
    let manager = server.token("manager");
    assert_eq!(get(&server, &format!("/api/sites/hq/labels.svg?token={manager}"), None).await.status(), 200);
    assert_eq!(get(&server, &format!("/api/sites/hq/export.csv?type=work_order&token={manager}"), None).await.status(), 200);
    assert_eq!(get(&server, &format!("/api/me?token={manager}"), None).await.status(), 401);
    assert_eq!(get(&server, &format!("/api/admin/users?token={}", server.token("admin")), None).await.status(), 401);
    let ticket_by_link = http_client().post(server.url(&format!("/api/sync-ticket?token={manager}"))).send().await.unwrap();
    assert_eq!(ticket_by_link.status(), 401);

    // The sign-out outlives a restart.
    let address = server.address;
    let data = server.stop().await.unwrap();
    let server = TestServer::start_at(data, dist.path(), address).await;
    assert_eq!(get(&server, "/api/me", Some(&phone)).await.status(), 401);
    assert_eq!(get(&server, "/api/me", Some(&other_phone)).await.status(), 200);

    // A socket lasts as long as the token that opened it.
    let lifetime = server::auth::TOKEN_LIFETIME.as_millis() as i64;
    let (expiring, _) = server.state.tokens.issue(&inspector, server::auth::now().plus_millis(1_500 - lifetime));
    let (mut socket, _) = connect_async(format!("ws://{}/sync?token={expiring}", server.address)).await.unwrap();
    assert_eq!(close_reason(&mut socket).await, "the sign-in expired: sign in again");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_preventive_orders_actor_cannot_be_claimed_in_advance() {
    use shared::document::catalog::{Every, MaintenancePlan};
    use shared::document::work_order::{EventKind, WorkOrder};
    use shared::document::{Edit, EntryId};

    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let hq = shared::directory::SiteId::parse("hq").unwrap();
    let starts = Timestamp::from_millis(1_780_000_000_000);
    let plan = MaintenancePlan {
        id: EntryId::parse("pump-check").unwrap(),
        asset: EntryId::parse("pump").unwrap(),
        title: "水泵保养".into(),
        every: Every::Months(1),
        start: starts,
    };
    let (id, order) = WorkOrder::preventive(&hq, &plan, "hq-b1", 7, starts, starts).unwrap();
    let planner = order.doc().clone().get_actor().clone();

    // Someone at another site computes hq's next occurrence's actor and uses it first.
    let claim = DocumentId::from_random(*b"claims-a-planner");
    push(&server, "dorm", claim, order_with(planner.clone(), "dorm", "plant2", "先占着")).await;

    // The technician's phone makes the order all the same, and works it.
    let mut doc = order.into_doc().with_actor(automerge::ActorId::random());
    WorkOrder::edit_in(&mut doc, |order| {
        order.record(&EntryId::parse("started").unwrap(), &EventKind::Started, &Edit::new(Username::parse("tech").unwrap(), now()));
    })
    .unwrap();
    let mut tech = push(&server, "tech", id, doc).await;
    let stored = WorkOrder::read_doc(&server.state.documents.load(&id).unwrap().unwrap()).unwrap();
    assert_eq!((stored.header.created_by.as_str(), stored.events.len()), ("planner", 2));
    // History names no one for the planner's changes, the technician for theirs.
    let history: Vec<Value> =
        get(&server, &format!("/api/documents/{id}/history"), Some(&server.token("tech"))).await.json().await.unwrap();
    let users: Vec<&Value> = history.iter().map(|entry| &entry["user"]).collect();
    assert_eq!(users, [&Value::Null, &Value::Null, &json!("tech")], "{history:?}");

    // After the order is made, its planner writes nothing more, whoever sends it.
    let mut as_planner = tech.document(&id).unwrap().clone().with_actor(planner);
    comment(&mut as_planner, "tech", "c1", "以计划员身份");
    tech.document_mut(&id).unwrap().merge(&mut as_planner).unwrap();
    tech.handle_local_change(&id);
    sync_until(&mut tech, &server.sync_url("tech"), PATIENCE, |client| client.is_refused(&id)).await.unwrap();
    assert_eq!(tech.refusal(&id).map(|refusal| refusal.code.as_str()), Some("name"));
    assert!(WorkOrder::read_doc(&server.state.documents.load(&id).unwrap().unwrap()).unwrap().comments.is_empty());

    // Nor may someone who does not maintain make preventive orders.
    let (other, order) = WorkOrder::preventive(&hq, &plan, "hq-b1", 8, starts, starts).unwrap();
    let inspector = push_refused(&server, &server.sync_url("inspector"), "inspector", other, order.into_doc()).await;
    assert_eq!(inspector.refusal(&other).map(|refusal| refusal.code.as_str()), Some("role"));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_sites_photos_stop_at_its_quota() {
    use sha2::{Digest, Sha256};

    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start_configured(dist.path(), |state| state.blobs.quota = 100_000).await;
    let photo = |seed: u32| -> (Vec<u8>, String) {
        let bytes: Vec<u8> = [0xff, 0xd8, 0xff, 0xe0].into_iter().chain((0..60_000u32).map(|index| (index * seed % 251) as u8)).collect();
        let hash = hex::encode(Sha256::digest(&bytes));
        (bytes, hash)
    };
    let put = |(bytes, hash): (Vec<u8>, String)| {
        let request = http_client().put(server.url(&format!("/blobs/{hash}"))).bearer_auth(server.token("inspector")).body(bytes).send();
        async move { request.await.unwrap() }
    };
    assert_eq!(put(photo(7)).await.status(), 201);
    assert_eq!(put(photo(7)).await.status(), 201, "the same file again costs nothing");
    let full = put(photo(11)).await;
    assert_eq!(full.status(), 507);
    assert_eq!(full.json::<Value>().await.unwrap()["code"], "quota_exceeded");
    assert_eq!(server.state.blobs.usage(&shared::directory::SiteId::parse("hq").unwrap()).unwrap(), 60_004);
    server.stop().await.unwrap();
}
