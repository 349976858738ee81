//! The sync endpoint over real WebSockets with native clients (`shared`'s client role):
//! offline edits from three phones converge, a phone with nothing new still hears the
//! news, and a thousand documents survive a restart.

use std::collections::BTreeSet;
use std::time::Duration;

use automerge::sync::SyncDoc as _;
use automerge::transaction::Transactable as _;
use automerge::{ActorId, AutoCommit, ROOT, ReadDoc as _};
use shared::directory::{SiteId, Username};
use shared::document::conflicts::conflicts;
use shared::document::work_order::{Category, NewWorkOrder, Priority, WorkOrder};
use shared::document::{Edit, EntryId};
use shared::protocol::DocumentId;
use shared::protocol::client::{Client, ClientConfig, SyncStatus};
use shared::protocol::message::PeerId;
use tests::native_client::{now, sync_until};

use crate::support::{TestServer, wait_for};

const PATIENCE: Duration = Duration::from_secs(60);

pub(crate) fn phone(name: &str) -> Client {
    Client::new(ClientConfig::new(PeerId(name.to_owned())), now())
}

fn synced(client: &Client, documents: &[DocumentId]) -> bool {
    documents.iter().all(|document| client.status(document) == Some(SyncStatus::Synced))
}

pub fn edit(user: &str) -> Edit {
    Edit::new(Username::parse(user).unwrap(), now())
}

/// Applies `change` to the phone's copy of a work order as a local edit.
pub(crate) fn edit_order(phone: &mut Client, document: &DocumentId, change: impl FnOnce(&mut WorkOrder)) {
    let doc = std::mem::take(phone.document_mut(document).unwrap());
    let mut order = WorkOrder::from_doc(doc).unwrap();
    change(&mut order);
    *phone.document_mut(document).unwrap() = order.into_doc();
    phone.handle_local_change(document);
}

/// A work order `user` reports at `site`: the smallest document the server takes from
/// them. Fields added before it is first pushed travel with it.
pub fn order_by(user: &str, site: &str, title: &str) -> AutoCommit {
    order_with(ActorId::random(), user, site, title)
}

/// [`order_by`] made under `actor`.
pub fn order_with(actor: ActorId, user: &str, site: &str, title: &str) -> AutoCommit {
    let new = NewWorkOrder {
        site: SiteId::parse(site).unwrap(),
        title: title.into(),
        description: String::new(),
        location: format!("{site}-b1"),
        asset: None,
        category: Category::Other,
        priority: Priority::Normal,
        due_at: None,
        source: None,
    };
    WorkOrder::report(actor, &new, &EntryId::parse("reported").unwrap(), &edit(user)).unwrap().into_doc()
}

/// Comments as `user`, which anyone at the order's site may do; `id` names the comment.
pub fn comment(doc: &mut AutoCommit, user: &str, id: &str, text: &str) {
    WorkOrder::edit_in(doc, |order| order.add_comment(&EntryId::parse(id).unwrap(), text, None, &edit(user)).unwrap()).unwrap();
}

/// The texts of an order's comments, by id.
pub fn comments(doc: &AutoCommit) -> std::collections::BTreeMap<String, String> {
    WorkOrder::read_doc(doc).unwrap().comments.into_iter().map(|comment| (comment.id.to_string(), comment.text)).collect()
}

fn heads(phone: &Client, document: &DocumentId) -> Vec<automerge::ChangeHash> {
    let mut heads = phone.document(document).unwrap().clone().get_heads();
    heads.sort();
    heads
}

#[tokio::test]
async fn three_phones_edit_offline_and_converge() {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    // Those who may change an order's details: managers and its reporter.
    let users = ["inspector", "manager", "admin"];
    let urls = users.map(|user| server.sync_url(user));
    let document = DocumentId::from_random(*b"three-phones-ok!");
    let new = NewWorkOrder {
        site: SiteId::parse("hq").unwrap(),
        title: "配电房漏水".into(),
        description: "屋顶渗水".into(),
        location: "hq-power-room".into(),
        asset: None,
        category: Category::Plumbing,
        priority: Priority::Normal,
        due_at: None,
        source: None,
    };
    let order = WorkOrder::report(ActorId::random(), &new, &EntryId::parse("reported").unwrap(), &edit("inspector")).unwrap();

    let mut phones = [phone("phone-a"), phone("phone-b"), phone("phone-c")];
    phones[0].add_document(document, order.into_doc());
    sync_until(&mut phones[0], &urls[0], PATIENCE, |client| synced(client, &[document])).await.unwrap();
    for (phone, url) in phones[1..].iter_mut().zip(&urls[1..]) {
        phone.request_document(document);
        sync_until(phone, url, PATIENCE, |client| synced(client, &[document])).await.unwrap();
        assert_eq!(WorkOrder::from_doc(phone.document(&document).unwrap().clone()).unwrap().read().unwrap().title, "配电房漏水");
    }

    // In the basement: different items, the same item, and the same text, all at once.
    for (index, phone) in phones.iter_mut().enumerate() {
        edit_order(phone, &document, |order| {
            order.add_comment(&EntryId::parse(&format!("comment-{index}")).unwrap(), "到现场了", None, &edit(users[index])).unwrap();
            order.set_priority([Priority::Low, Priority::High, Priority::Urgent][index], &edit(users[index]));
            order.edit_description(0, 0, &format!("[{index}]"), &edit(users[index])).unwrap();
        });
        assert!(matches!(phone.status(&document), Some(SyncStatus::LocalOnly(_))));
    }

    // Back in coverage, in an order drawn at random (printed if anything fails), until
    // every phone has everything.
    let orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
    let order = orders[now().as_millis().unsigned_abs() as usize % orders.len()];
    for _round in 0..3 {
        for index in order {
            sync_until(&mut phones[index], &urls[index], PATIENCE, |client| synced(client, &[document])).await.unwrap();
        }
    }
    let expected = heads(&phones[0], &document);
    for phone in &phones {
        assert_eq!(heads(phone, &document), expected, "reconnect order {order:?}");
    }
    let doc = phones[0].document(&document).unwrap().clone();
    let view = WorkOrder::from_doc(doc.clone()).unwrap().read().unwrap();
    let comments: BTreeSet<String> = view.comments.iter().map(|comment| comment.id.to_string()).collect();
    assert_eq!(comments, BTreeSet::from(["comment-0".to_owned(), "comment-1".to_owned(), "comment-2".to_owned()]));
    for index in 0..3 {
        assert!(view.description.contains(&format!("[{index}]")), "{}", view.description);
    }
    assert!(view.description.ends_with("屋顶渗水"));
    let priority_conflict =
        conflicts(&doc).unwrap().into_iter().find(|conflict| conflict.path == ["priority"]).expect("kept as a conflict");
    assert_eq!(priority_conflict.values.len(), 3);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_phone_with_nothing_new_still_hears_the_news() {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let url = server.sync_url("inspector");
    let document = DocumentId::from_random(*b"quiet-phone-news");
    let mut doc = order_by("inspector", "hq", "漏水");
    comment(&mut doc, "inspector", "first", "first");
    let (mut writer, mut reader) = (phone("writer"), phone("reader"));
    writer.add_document(document, doc.fork());
    reader.add_document(document, doc);
    sync_until(&mut writer, &url, PATIENCE, |client| synced(client, &[document])).await.unwrap();
    sync_until(&mut reader, &url, PATIENCE, |client| synced(client, &[document])).await.unwrap();

    comment(writer.document_mut(&document).unwrap(), "inspector", "second", "second");
    writer.handle_local_change(&document);
    sync_until(&mut writer, &url, PATIENCE, |client| synced(client, &[document])).await.unwrap();

    let writer_heads = heads(&writer, &document);
    sync_until(&mut reader, &url, PATIENCE, |client| client.document(&document).unwrap().clone().get_heads() == writer_heads)
        .await
        .unwrap();
    assert_eq!(comments(reader.document(&document).unwrap()).get("second").map(String::as_str), Some("second"));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_thousand_documents_survive_a_restart() {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let mut pusher = phone("pusher");
    let documents: Vec<DocumentId> = (0..1000u32)
        .map(|index| {
            let mut bytes = [0u8; 16];
            bytes[..4].copy_from_slice(&index.to_le_bytes());
            let document = DocumentId::from_random(bytes);
            let mut doc = order_by("store", "hq", &format!("巡检 {index}"));
            doc.put(ROOT, "index", i64::from(index)).unwrap();
            doc.commit();
            pusher.add_document(document, doc);
            document
        })
        .collect();
    sync_until(&mut pusher, &server.sync_url("store"), PATIENCE, |client| synced(client, &documents)).await.unwrap();

    // Everything the pusher was told is kept must be there after a restart.
    let data = server.stop().await.unwrap();
    let server = TestServer::start_in(data, dist.path()).await;
    let mut fresh = phone("fresh");
    for document in &documents {
        fresh.request_document(*document);
    }
    sync_until(&mut fresh, &server.sync_url("manager"), PATIENCE, |client| synced(client, &documents)).await.unwrap();
    for (index, document) in documents.iter().enumerate() {
        let (value, _) = fresh.document(document).unwrap().get(ROOT, "index").unwrap().expect("the document arrived");
        assert_eq!(value.as_i64(), Some(index as i64));
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_client_that_floods_is_cut_off_and_others_carry_on() {
    use futures_util::{SinkExt, StreamExt};
    use shared::protocol::{Message, decode, encode};
    use tokio_tungstenite::tungstenite::Message as Frame;

    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let url = server.sync_url("tech");
    let (mut flood, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let join = Message::Join { sender: PeerId("flood".into()), supported_versions: vec!["1".into()], metadata: None };
    flood.send(Frame::Binary(encode(&join).into())).await.unwrap();
    let document = DocumentId::from_random([0x66; 16]);
    let chatter = encode(&Message::Ephemeral {
        sender: PeerId("flood".into()),
        target: PeerId("server".into()),
        document,
        session: "s".into(),
        count: 0,
        data: vec![0],
    });
    let sending = async {
        for _ in 0..20_000 {
            if flood.feed(Frame::Binary(chatter.clone().into())).await.is_err() {
                break;
            }
        }
        let _ = flood.flush().await;
    };
    tokio::time::timeout(PATIENCE, sending).await.expect("sending did not finish");

    let mut cut_off_with = None;
    while let Ok(Some(frame)) = tokio::time::timeout(PATIENCE, flood.next()).await {
        match frame {
            Ok(Frame::Binary(bytes)) => {
                if let Ok(Message::Error { message }) = decode(&bytes, 1 << 20) {
                    cut_off_with = Some(message);
                }
            }
            Ok(Frame::Close(_)) | Err(_) => break,
            Ok(_) => {}
        }
    }
    assert_eq!(cut_off_with.as_deref(), Some("too many messages; slow down and reconnect"));

    let mut calm = phone("calm");
    let ok = DocumentId::from_random([0x67; 16]);
    calm.add_document(ok, order_by("tech", "plant2", "fine"));
    sync_until(&mut calm, &url, PATIENCE, |client| synced(client, &[ok])).await.unwrap();
    server.stop().await.unwrap();
}

/// Comments on the order `steps` times as `user`, pushing each comment in a connection of
/// its own.
async fn push_steps(phone: &mut Client, url: &str, user: &str, document: DocumentId, steps: i64) {
    for step in 0..steps {
        comment(phone.document_mut(&document).unwrap(), user, &format!("step-{step}"), "step");
        phone.handle_local_change(&document);
        sync_until(phone, url, PATIENCE, |client| synced(client, &[document])).await.unwrap();
    }
}

/// A new document is stored as one snapshot as it arrives (written once, not as its
/// changes and then again compacted); a change to it after is stored as a chunk beside it,
/// and both load back whole.
#[tokio::test]
async fn a_new_document_is_stored_as_a_snapshot_at_once_and_later_changes_beside_it() {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let url = server.sync_url("dorm");
    let document = DocumentId::from_random(*b"new-as-snapshot!");
    let mut pusher = phone("pusher");
    pusher.add_document(document, order_by("dorm", "plant2", "new"));
    sync_until(&mut pusher, &url, PATIENCE, |client| synced(client, &[document])).await.unwrap();
    let keys = server.state.documents.stored_keys(&document).unwrap();
    assert_eq!(keys.len(), 1, "one key");
    assert!(keys[0].is_snapshot(), "acknowledged as a snapshot, with the phone still connected");
    push_steps(&mut pusher, &url, "dorm", document, 1).await;
    let keys = server.state.documents.stored_keys(&document).unwrap();
    assert_eq!(keys.iter().map(server::documents::ChunkKey::is_snapshot).collect::<Vec<_>>(), [true, false], "the change stored beside it");
    let mut stored = server.state.documents.load(&document).unwrap().unwrap();
    assert_eq!(stored.get_heads(), heads(&pusher, &document));
    server.stop().await.unwrap();
}

/// A compaction replaces only the chunks the server's copy of the document holds: a chunk
/// another writer stored meanwhile (another node sharing the store, or the server's own
/// tools) stays, whether the document is compacted while in use or as it leaves memory.
#[tokio::test]
async fn a_compaction_removes_only_the_chunks_the_servers_copy_holds() {
    use server::documents::COMPACT_AFTER;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let url = server.sync_url("dorm");
    let document = DocumentId::from_random(*b"other-writer-ok!");
    let mut pusher = phone("pusher");
    pusher.add_document(document, order_by("dorm", "plant2", "shared store"));
    sync_until(&mut pusher, &url, PATIENCE, |client| synced(client, &[document])).await.unwrap();
    // A second phone stays connected, so the server keeps the document in memory.
    let following = Arc::new(AtomicBool::new(false));
    let follower = tokio::spawn({
        let (url, following) = (url.clone(), following.clone());
        async move {
            let mut follower = phone("follower");
            follower.request_document(document);
            let _ = sync_until(&mut follower, &url, Duration::from_secs(600), |client| {
                following.store(synced(client, &[document]), Ordering::SeqCst);
                false
            })
            .await;
        }
    });
    wait_for("the follower to have the document", PATIENCE, || async { following.load(Ordering::SeqCst).then_some(()) }).await;

    // Another writer stores a change to the document; the server's copy does not hold it.
    let mut other = server.state.documents.load(&document).unwrap().unwrap().with_actor(ActorId::random());
    let before = other.get_heads();
    comment(&mut other, "dorm", "from-elsewhere", "stored by another writer");
    let elsewhere = other.get_heads()[0];
    server.state.documents.append(&document, &other.save_after(&before)).unwrap();

    // Enough changes for the server to compact the document while it is in use.
    push_steps(&mut pusher, &url, "dorm", document, COMPACT_AFTER as i64 + 1).await;
    wait_for("the document compacted in use", PATIENCE, || async {
        (server.state.documents.chunk_count(&document).unwrap() < COMPACT_AFTER).then_some(())
    })
    .await;
    let stored = server.state.documents.load(&document).unwrap().unwrap();
    assert!(stored.get_change_by_hash(&elsewhere).is_some(), "the other writer's change was removed by a compaction in use");
    assert!(heads(&pusher, &document).iter().all(|head| stored.get_change_by_hash(head).is_some()), "the phone's changes are stored");

    // Once no phone syncs it, the document is compacted as it leaves memory.
    follower.abort();
    comment(pusher.document_mut(&document).unwrap(), "dorm", "last", "the last change");
    pusher.handle_local_change(&document);
    sync_until(&mut pusher, &url, PATIENCE, |client| synced(client, &[document])).await.unwrap();
    wait_for("the document compacted as it left memory", PATIENCE, || async {
        let keys = server.state.documents.stored_keys(&document).unwrap();
        (keys.iter().filter(|key| key.is_snapshot()).count() == 1 && keys.len() == 2).then_some(())
    })
    .await;
    let stored = server.state.documents.load(&document).unwrap().unwrap();
    assert!(stored.get_change_by_hash(&elsewhere).is_some(), "the other writer's change was removed as the document left memory");
    assert!(heads(&pusher, &document).iter().all(|head| stored.get_change_by_hash(head).is_some()), "the phone's changes are stored");
    assert_eq!(comments(&stored).get("from-elsewhere").map(String::as_str), Some("stored by another writer"));
    server.stop().await.unwrap();
}

/// A document pushed in a few messages is stored as one snapshot once no phone is syncing
/// it, and a fresh phone fetches it whole from that snapshot.
#[tokio::test]
async fn an_idle_document_is_stored_as_one_snapshot() {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let url = server.sync_url("dorm");
    let document = DocumentId::from_random(*b"idle-compacted!!");
    let mut pusher = phone("pusher");
    pusher.add_document(document, order_by("dorm", "plant2", "idle"));
    push_steps(&mut pusher, &url, "dorm", document, 3).await;
    // Idle documents leave memory every few seconds.
    let give_up = tokio::time::Instant::now() + Duration::from_secs(30);
    while server.state.documents.chunk_count(&document).unwrap() != 1 {
        assert!(tokio::time::Instant::now() < give_up, "still {} chunks", server.state.documents.chunk_count(&document).unwrap());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let keys = server.state.documents.stored_keys(&document).unwrap();
    assert!(keys[0].is_snapshot(), "the one chunk left is a snapshot, not an incremental chunk");
    let mut stored = server.state.documents.load(&document).unwrap().unwrap();
    assert_eq!(stored.get_heads(), heads(&pusher, &document));
    let mut fresh = phone("fresh");
    fresh.request_document(document);
    sync_until(&mut fresh, &url, PATIENCE, |client| synced(client, &[document])).await.unwrap();
    assert_eq!(heads(&fresh, &document), heads(&pusher, &document));
    server.stop().await.unwrap();
}

/// Many small pushes to one document get compacted into a snapshot, and the document
/// loads from it whole after a restart.
#[tokio::test]
async fn a_busy_document_is_compacted_and_survives_a_restart() {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let url = server.sync_url("dorm");
    let document = DocumentId::from_random(*b"compacted-doc-ok");
    let mut busy = phone("busy");
    busy.add_document(document, order_by("dorm", "plant2", "busy"));
    let pushes = server::documents::COMPACT_AFTER as i64 + 10;
    push_steps(&mut busy, &url, "dorm", document, pushes).await;
    let data = server.stop().await.unwrap();
    {
        let storage = server::Storage::open(data.path()).unwrap();
        let store = server::documents::DocumentStore::open(&storage).unwrap();
        let chunks = store.chunk_count(&document).unwrap();
        assert!(chunks < 20, "{pushes} pushes left {chunks} chunks: compaction did not happen");
    }
    let server = TestServer::start_in(data, dist.path()).await;
    let mut fresh = phone("fresh");
    fresh.request_document(document);
    sync_until(&mut fresh, &server.sync_url("dorm"), PATIENCE, |client| synced(client, &[document])).await.unwrap();
    assert_eq!(heads(&fresh, &document), heads(&busy, &document));
    server.stop().await.unwrap();
}

/// A sync frame from peer `heavy{sender}` carrying a whole new order reported by `user`
/// with a 40,000-character description, as the first answer to a server that has nothing
/// would: heavy to apply, check and store.
pub fn heavy_order(sender: u8, index: u8, user: &str) -> (DocumentId, Vec<u8>) {
    let id = DocumentId::from_random([sender, index, 0x68, 0x65, 0x61, 0x76, 0x79, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    let description: String = (0..40_000u32)
        .map(|n| char::from_u32(0x4e00 + (n * 7919 + u32::from(index) * 104_729 + u32::from(sender)) % 20_000).unwrap())
        .collect();
    let new = NewWorkOrder {
        site: SiteId::parse("hq").unwrap(),
        title: format!("重的 {sender}-{index}"),
        description,
        location: "hq-b1".into(),
        asset: None,
        category: Category::Other,
        priority: Priority::Normal,
        due_at: None,
        source: None,
    };
    let mut order = WorkOrder::report(ActorId::random(), &new, &EntryId::parse("reported").unwrap(), &edit(user)).unwrap().into_doc();
    (id, first_sync(&mut order, &format!("heavy{sender}"), id))
}

/// A sync frame from `peer` carrying the whole of `doc` as `document`, as its first answer
/// to a server that has nothing would.
pub fn first_sync(doc: &mut AutoCommit, peer: &str, document: DocumentId) -> Vec<u8> {
    use shared::protocol::{Message, encode};

    let (mut ours, mut theirs) = (automerge::sync::State::new(), automerge::sync::State::new());
    let mut empty = AutoCommit::new();
    let _ = doc.sync().generate_sync_message(&mut ours);
    let asked = empty.sync().generate_sync_message(&mut theirs).unwrap();
    doc.sync().receive_sync_message(&mut ours, asked).unwrap();
    let data = doc.sync().generate_sync_message(&mut ours).unwrap().encode();
    encode(&Message::Sync { sender: PeerId(peer.to_owned()), target: PeerId("houqin-server".into()), document, data })
}

/// Four sockets of one person send heavy changes as fast as they are taken, without
/// waiting for answers (sharing that person's turns in the hub: about 60 heavy documents
/// went before the report with a turn per socket, 36 with turns per person); another
/// person's small report is served in the middle of it, not after, and every heavy
/// document still arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heavy_senders_are_slowed_and_leave_room_for_everyone_else() {
    use futures_util::{SinkExt, StreamExt};
    use shared::protocol::{Message, encode};
    use tokio_tungstenite::tungstenite::Message as Frame;

    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    const SENDERS: usize = 4;
    const EACH: usize = 40;
    let mut sent = Vec::new();
    let mut flood = Vec::new();
    for sender in 0..SENDERS {
        // Each message carries a whole new order with a long description, as the first
        // answer to a server that has nothing would.
        let mut messages = Vec::new();
        for index in 0..EACH {
            let (id, message) = heavy_order(sender as u8, index as u8, "tech");
            messages.push(message);
            sent.push(id);
        }
        let (mut socket, _) = tokio_tungstenite::connect_async(server.sync_url("tech")).await.unwrap();
        flood.push(tokio::spawn(async move {
            let join = Message::Join { sender: PeerId(format!("heavy{sender}")), supported_versions: vec!["1".into()], metadata: None };
            socket.send(Frame::Binary(encode(&join).into())).await.unwrap();
            let (mut write, mut read) = socket.split();
            // Answers are read and dropped, so the server is never held up writing them.
            let reading = tokio::spawn(async move { while let Some(Ok(_)) = read.next().await {} });
            for message in messages {
                write.send(Frame::Binary(message.into())).await.unwrap();
            }
            (write, reading)
        }));
    }
    let stored = |server: &TestServer| sent.iter().filter(|id| server.state.documents.chunk_count(id).unwrap() > 0).count();
    wait_for("the flood to begin", PATIENCE, || async { (stored(&server) > 0).then_some(()) }).await;

    let mut calm = phone("calm");
    let report = DocumentId::from_random([0x68; 16]);
    calm.add_document(report, order_by("manager", "hq", "三楼漏水"));
    sync_until(&mut calm, &server.sync_url("manager"), PATIENCE, |client| synced(client, &[report])).await.unwrap();
    let stored_by_then = stored(&server);
    assert!(stored_by_then < SENDERS * EACH / 2, "the report waited for {stored_by_then} of {} heavy documents", SENDERS * EACH);

    // The senders were slowed, not refused: everything they sent is kept.
    let mut sockets = Vec::new();
    for sender in flood {
        sockets.push(sender.await.unwrap());
    }
    wait_for("every heavy document", Duration::from_secs(300), || async { (stored(&server) == SENDERS * EACH).then_some(()) }).await;
    drop(sockets);
    server.stop().await.unwrap();
}

/// Someone who keeps the hub busy past their share of its time has their connections
/// closed, and a new one refused, with a reason; everyone else is served meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_taking_more_than_their_share_of_the_hub_is_cut_off() {
    use futures_util::{SinkExt, StreamExt};
    use shared::protocol::{Message, encode};
    use tokio_tungstenite::tungstenite::Message as Frame;

    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    // Small enough that forty heavy orders (milliseconds each) pass it.
    server.state.sync.set_budget(server::share::Budget { burst: Duration::from_millis(100), share: 0.01 });
    let join = |name: &str| encode(&Message::Join { sender: PeerId(name.into()), supported_versions: vec!["1".into()], metadata: None });
    // The reason a socket was closed with, reading everything before it.
    async fn closed_because(read: &mut (impl StreamExt<Item = Result<Frame, tokio_tungstenite::tungstenite::Error>> + Unpin)) -> String {
        let reason = tokio::time::timeout(PATIENCE, async {
            while let Some(Ok(frame)) = read.next().await {
                if let Frame::Close(Some(close)) = frame {
                    return close.reason.to_string();
                }
            }
            String::new()
        });
        reason.await.expect("the socket was closed")
    }

    let (socket, _) = tokio_tungstenite::connect_async(server.sync_url("tech")).await.unwrap();
    let (mut write, mut read) = socket.split();
    write.send(Frame::Binary(join("heavy9").into())).await.unwrap();
    let sending = tokio::spawn(async move {
        for index in 0..40 {
            if write.send(Frame::Binary(heavy_order(9, index, "tech").1.into())).await.is_err() {
                break;
            }
        }
    });
    let reason = closed_because(&mut read).await;
    assert!(reason.starts_with("more sync work than the server takes from one person"), "{reason:?}");
    sending.await.unwrap();

    // A new connection of theirs is refused while their time is owed; others are served.
    let (socket, _) = tokio_tungstenite::connect_async(server.sync_url("tech")).await.unwrap();
    let (mut write, mut read) = socket.split();
    let _ = write.send(Frame::Binary(join("heavy9-again").into())).await;
    assert!(closed_because(&mut read).await.starts_with("more sync work"));
    let mut calm = phone("calm");
    let report = DocumentId::from_random([0x69; 16]);
    calm.add_document(report, order_by("manager", "hq", "走廊灯不亮"));
    sync_until(&mut calm, &server.sync_url("manager"), PATIENCE, |client| synced(client, &[report])).await.unwrap();
    server.stop().await.unwrap();
}

/// A document holding more than its ceiling takes no more changes: the phone is told why
/// (`too_large`), keeps its change, and the stored document is as it was.
#[tokio::test]
async fn a_document_past_its_ceiling_takes_no_more_changes() {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let url = server.sync_url("inspector");
    let mut reporter = phone("reporter");
    let document = DocumentId::from_random(*b"grown-too-large!");
    reporter.add_document(document, order_by("inspector", "hq", "一直在加内容"));
    sync_until(&mut reporter, &url, PATIENCE, |client| synced(client, &[document])).await.unwrap();
    // Stored beside it, as if it had grown: bytes that are no change at all.
    let ceiling = usize::try_from(shared::document::policy::MAX_DOCUMENT_BYTES).unwrap();
    server.state.documents.append(&document, &vec![0x5a; ceiling]).unwrap();
    let stored = server.state.documents.stored_bytes(&document).unwrap();

    comment(reporter.document_mut(&document).unwrap(), "inspector", "one-more", "再加一条");
    reporter.handle_local_change(&document);
    sync_until(&mut reporter, &url, PATIENCE, |client| client.is_refused(&document)).await.unwrap();
    assert_eq!(reporter.refusal(&document).map(|refusal| refusal.code.as_str()), Some("too_large"));
    assert_eq!(server.state.documents.stored_bytes(&document).unwrap(), stored, "nothing more stored");
    assert!(comments(reporter.document(&document).unwrap()).contains_key("one-more"), "the phone keeps its change");
    server.stop().await.unwrap();
}

/// The disk nearly full (the reserve set above what is free): a phone's change is taken
/// but not stored or acknowledged, a photo upload is refused with 507, health says so, and
/// signing in and reading go on; once space is back, the change is stored and
/// acknowledged by itself, without the phone sending it again.
#[tokio::test]
async fn a_nearly_full_disk_refuses_to_store_and_resumes_by_itself() {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let url = server.sync_url("inspector");
    let mut reporter = phone("reporter");
    let document = DocumentId::from_random(*b"when-disk-fills!");
    reporter.add_document(document, order_by("inspector", "hq", "配电箱异响"));
    sync_until(&mut reporter, &url, PATIENCE, |client| synced(client, &[document])).await.unwrap();
    let stored = server.state.documents.chunk_count(&document).unwrap();

    server.state.storage.space().set_reserve(u64::MAX);
    edit_order(&mut reporter, &document, |order| {
        order.add_comment(&EntryId::parse("c1").unwrap(), "越来越响", None, &edit("inspector")).unwrap();
    });
    let unacknowledged = sync_until(&mut reporter, &url, Duration::from_secs(3), |client| synced(client, &[document])).await;
    assert!(unacknowledged.is_err(), "acknowledged with no room to store it");
    assert_eq!(server.state.documents.chunk_count(&document).unwrap(), stored, "nothing stored");
    let health: serde_json::Value = crate::support::http_client().get(server.url("/healthz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["disk_full"], serde_json::json!(true));
    let token = crate::support::login(&server.url("/"), "inspector", "demo").await;
    let jpeg = [0xff, 0xd8, 0xff, 0xe0, 1, 2, 3];
    let hash: String = hex::encode(sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(jpeg)));
    let upload = crate::support::http_client()
        .put(server.url(&format!("/blobs/{hash}")))
        .bearer_auth(&token)
        .body(jpeg.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), 507);
    assert_eq!(upload.json::<serde_json::Value>().await.unwrap()["code"], "disk_full");
    // Others read on (what waits to be stored is revealed to no one until it is).
    let catalog = crate::support::catalog_of(&server, "hq");
    let mut reader = phone("reader");
    reader.request_document(catalog);
    sync_until(&mut reader, &server.sync_url("manager"), PATIENCE, |client| client.status(&catalog) == Some(SyncStatus::Synced))
        .await
        .unwrap();

    server.state.storage.space().set_reserve(0);
    sync_until(&mut reporter, &url, PATIENCE, |client| synced(client, &[document])).await.unwrap();
    assert!(server.state.documents.chunk_count(&document).unwrap() > stored);
    assert_eq!(comments(reporter.document(&document).unwrap()).get("c1").map(String::as_str), Some("越来越响"));
    server.stop().await.unwrap();
}
