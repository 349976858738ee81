//! Interop with the JavaScript Automerge and automerge-repo that other clients use (npm,
//! pinned in `tests/js/package-lock.json`): documents written by either side load on the
//! other and concurrent edits merge without loss; document ids and wire frames encoded by
//! either side decode on the other.

use std::path::PathBuf;
use std::process::Command;

use automerge::transaction::Transactable as _;
use automerge::{AutoCommit, ObjType, ROOT, ReadDoc as _};

use crate::support::workspace_root;

fn js_dir() -> PathBuf {
    let dir = workspace_root().join("tests").join("js");
    assert!(
        dir.join("node_modules").join("@automerge").join("automerge").is_dir(),
        "npm packages missing: run `npm install --no-save` in {} (`cargo xtask test` does)",
        dir.display()
    );
    dir
}

fn string_at(doc: &AutoCommit, object: &automerge::ObjId, key: &str) -> Option<String> {
    let (value, _) = doc.get(object, key).unwrap()?;
    value.into_scalar().ok().and_then(|scalar| scalar.into_string().ok())
}

#[test]
fn documents_round_trip_through_javascript_automerge_and_merge() {
    let mut ours = AutoCommit::new();
    ours.put(ROOT, "type", "inspection").unwrap();
    let answers = ours.put_object(ROOT, "answers", ObjType::Map).unwrap();
    ours.put(&answers, "from-rust", "fail").unwrap();
    let notes = ours.put_object(ROOT, "notes", ObjType::Text).unwrap();
    ours.splice_text(&notes, 0, 0, "extinguisher pressure low").unwrap();

    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("from-rust.automerge");
    let output = scratch.path().join("from-js.automerge");
    std::fs::write(&input, ours.save()).unwrap();

    // While JavaScript edits its copy, Rust edits its own: a concurrent change.
    let run = Command::new("node").current_dir(js_dir()).arg("document_roundtrip.mjs").arg(&input).arg(&output).output().unwrap();
    assert!(run.status.success(), "node failed: {}", String::from_utf8_lossy(&run.stderr));
    ours.put(&answers, "second-rust", "n/a").unwrap();
    ours.splice_text(&notes, ours.length(&notes), 0, " (2.1 bar)").unwrap();

    let seen: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(
        seen,
        serde_json::json!({
            "type": "inspection",
            "answers": { "from-rust": "fail" },
            "notes": "extinguisher pressure low",
        })
    );

    let mut theirs = AutoCommit::load(&std::fs::read(&output).unwrap()).unwrap();
    ours.merge(&mut theirs).unwrap();
    assert_eq!(string_at(&ours, &answers, "from-rust").as_deref(), Some("fail"));
    assert_eq!(string_at(&ours, &answers, "from-js").as_deref(), Some("pass"));
    assert_eq!(string_at(&ours, &answers, "second-rust").as_deref(), Some("n/a"));
    assert_eq!(ours.text(&notes).unwrap(), "JS: extinguisher pressure low (2.1 bar)");
}

/// Document ids and wire frames made by either side read the same on the other: the
/// automerge-repo library's own URL functions and CBOR encoder against `shared::protocol`.
#[test]
fn ids_and_wire_frames_agree_with_automerge_repo() {
    use shared::protocol::{DocumentId, Message, PeerId, PeerMetadata, decode, encode};

    let ours = DocumentId::from_random(*b"houqin-interop!!");
    let peer = |name: &str| PeerId(name.to_owned());
    let our_messages = [
        Message::Peer {
            sender: peer("houqin"),
            target: peer("js-peer"),
            selected_version: "1".into(),
            metadata: Some(PeerMetadata { storage_id: Some("srv".into()), is_ephemeral: false }),
        },
        Message::Sync { sender: peer("houqin"), target: peer("js-peer"), document: ours, data: vec![0x42, 9, 9] },
        Message::DocUnavailable { sender: peer("houqin"), target: peer("js-peer"), document: ours, refusal: None },
    ];
    let input = serde_json::json!({
        "documentId": ours.to_string(),
        "rustIds": [ours.to_string()],
        "rustFrames": our_messages.iter().map(|message| hex::encode(encode(message))).collect::<Vec<_>>(),
    });

    let mut node = Command::new("node")
        .current_dir(js_dir())
        .arg("wire_roundtrip.mjs")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut node.stdin.take().unwrap(), input.to_string().as_bytes()).unwrap();
    let output = node.wait_with_output().unwrap();
    assert!(output.status.success(), "node failed: {}", String::from_utf8_lossy(&output.stderr));
    let seen: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();

    // Their URL parses here to the same 16 bytes; ours is valid there, with the same bytes.
    let theirs = DocumentId::parse(seen["jsUrl"].as_str().unwrap()).unwrap();
    assert_eq!(hex::encode(theirs.as_bytes()), seen["jsIdHex"].as_str().unwrap());
    assert_eq!(seen["rustIds"][0], serde_json::json!({ "valid": true, "hex": hex::encode(ours.as_bytes()) }));

    // Our frames, as their decoder reads them.
    assert_eq!(
        seen["decodedRustFrames"],
        serde_json::json!([
            { "type": "peer", "senderId": "houqin", "targetId": "js-peer", "selectedProtocolVersion": "1", "peerMetadata": { "storageId": "srv", "isEphemeral": false } },
            { "type": "sync", "senderId": "houqin", "targetId": "js-peer", "documentId": ours.to_string(), "data": { "hex": "420909" } },
            { "type": "doc-unavailable", "senderId": "houqin", "targetId": "js-peer", "documentId": ours.to_string() },
        ])
    );

    // Their frames, as ours reads them.
    let frames: Vec<Message> = seen["jsFrames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|frame| {
            let text = frame.as_str().unwrap();
            let bytes = hex::decode(text).unwrap();
            decode(&bytes, 1 << 20).unwrap_or_else(|error| panic!("cannot decode {text}: {error}"))
        })
        .collect();
    assert_eq!(
        frames[0],
        Message::Join {
            sender: peer("js-peer"),
            supported_versions: vec!["1".into()],
            metadata: Some(PeerMetadata { storage_id: None, is_ephemeral: true })
        }
    );
    assert_eq!(
        frames[1],
        Message::Peer {
            sender: peer("js-server"),
            target: peer("houqin"),
            selected_version: "1".into(),
            metadata: Some(PeerMetadata { storage_id: Some("js-storage".into()), is_ephemeral: false })
        }
    );
    assert_eq!(frames[2], Message::Request { sender: peer("js-peer"), target: peer("houqin"), document: ours, data: vec![0x42, 0, 1] });
    assert_eq!(frames[3], Message::Sync { sender: peer("js-peer"), target: peer("houqin"), document: ours, data: vec![7; 300] });
    assert_eq!(frames[4], Message::DocUnavailable { sender: peer("js-server"), target: peer("houqin"), document: ours, refusal: None });
    assert!(matches!(&frames[5], Message::Ephemeral { session, count: 3, document, .. } if session == "session-a" && *document == ours));
    assert_eq!(frames[6], Message::Error { message: "unsupported protocol version".into() });
}

/// The npm automerge-repo client and Houqin's native client exchange documents through
/// Houqin's sync server, both ways.
#[tokio::test]
async fn the_javascript_repo_syncs_through_our_server() {
    use std::io::{BufRead as _, BufReader};
    use std::time::Duration;

    use automerge::{ROOT, ReadDoc as _};
    use shared::protocol::DocumentId;
    use shared::protocol::client::{Client, ClientConfig, SyncStatus};
    use shared::protocol::message::PeerId;
    use tests::native_client::{now, sync_until};

    let dist = tempfile::tempdir().unwrap();
    let server = crate::support::TestServer::start(dist.path()).await;
    let url = server.sync_url("manager");
    let base = server.url("/");

    // JavaScript signs in as the inspector and creates; we read.
    let mut creator = Command::new("node")
        .current_dir(js_dir())
        .args(["repo_peer.mjs", "create", &base, "inspector", "demo"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Off the runtime's thread: the JavaScript repo signs in to the in-process server first.
    let stdout = creator.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    })
    .await
    .unwrap()
    .unwrap();
    let document = DocumentId::parse(line.trim()).unwrap();
    let mut reader = Client::new(ClientConfig::new(PeerId("native-reader".into())), now());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        reader.request_document(document);
        let arrived = |client: &Client| client.status(&document) == Some(SyncStatus::Synced) || client.is_unavailable(&document);
        sync_until(&mut reader, &url, Duration::from_secs(30), arrived).await.unwrap();
        let comments = reader.document(&document).unwrap().get(ROOT, "comments").unwrap();
        if let Some((_, comments)) = comments
            && reader.document(&document).unwrap().get(&comments, "from-js").unwrap().is_some()
        {
            break;
        }
        // The JavaScript client may not have pushed yet: ask again shortly.
        assert!(tokio::time::Instant::now() < deadline, "the JavaScript document never reached the server");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(creator.stdin.take());
    // Off the runtime's thread: the JavaScript repo talks to the in-process server on its way out.
    let exit = tokio::task::spawn_blocking(move || creator.wait()).await.unwrap().unwrap();
    assert!(exit.success());
    let doc = reader.document(&document).unwrap().clone();
    let order = shared::document::work_order::WorkOrder::read_doc(&doc).expect("the JavaScript client wrote a readable work order");
    assert_eq!((order.title.as_str(), order.header.created_by.as_str(), order.comments.len()), ("JS 客户端报修", "inspector", 1));

    // We create; JavaScript reads.
    let ours = DocumentId::from_random(*b"native-for-js-rd");
    let mut writer = Client::new(ClientConfig::new(PeerId("native-writer".into())), now());
    let doc = crate::sync::order_by("manager", "hq", "漏水");
    writer.add_document(ours, doc);
    sync_until(&mut writer, &url, Duration::from_secs(30), |client| client.status(&ours) == Some(SyncStatus::Synced)).await.unwrap();
    // Off the runtime's thread: the in-process server must keep serving while node runs.
    let mut read = Command::new("node");
    read.current_dir(js_dir()).args(["repo_peer.mjs", "read", &base, "store", "demo", &ours.url()]);
    let output = tokio::task::spawn_blocking(move || read.output()).await.unwrap().unwrap();
    assert!(output.status.success(), "node failed: {}", String::from_utf8_lossy(&output.stderr));
    let seen: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        (&seen["type"], &seen["site"], &seen["title"], &seen["created_by"]),
        (&"work_order".into(), &"hq".into(), &"漏水".into(), &"manager".into()),
        "{seen}"
    );

    // Signed in at another site only, the JavaScript repo cannot have it.
    let mut denied = Command::new("node");
    denied.current_dir(js_dir()).args(["repo_peer.mjs", "read", &base, "dorm", "demo", &ours.url()]);
    let output = tokio::task::spawn_blocking(move || denied.output()).await.unwrap().unwrap();
    assert!(!output.status.success(), "dorm (plant2 only) read an hq document: {}", String::from_utf8_lossy(&output.stdout));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unavailable"), "{}", String::from_utf8_lossy(&output.stderr));
    server.stop().await.unwrap();
}

/// Syncs like a phone against the JavaScript reference server: its keepalive terminates a
/// connection whose pong its busy event loop has not yet seen (seen on a loaded 2-core
/// machine), and a phone then reconnects, so this does too — a few times at most.
async fn sync_reconnecting(
    client: &mut shared::protocol::client::Client,
    url: &str,
    patience: std::time::Duration,
    mut done: impl FnMut(&shared::protocol::client::Client) -> bool,
) {
    let mut failures = Vec::new();
    while failures.len() < 5 {
        match tests::native_client::sync_until(client, url, patience, &mut done).await {
            Ok(()) => return,
            Err(error) if error.to_string().contains("Connection reset") || error.to_string().contains("connection ended") => {
                failures.push(error.to_string());
            }
            Err(error) => panic!("{error:#}"),
        }
    }
    panic!("the reference server kept dropping the connection: {failures:?}");
}

/// Our client role against a server we did not write: the npm automerge-repo reference
/// server (Repo + NodeFS storage + WebSocket server adapter).
#[tokio::test]
async fn our_client_syncs_with_the_javascript_reference_server() {
    use std::io::{BufRead as _, BufReader};
    use std::time::Duration;

    use automerge::transaction::Transactable as _;
    use automerge::{ROOT, ReadDoc as _};
    use shared::protocol::DocumentId;
    use shared::protocol::client::{Client, ClientConfig, SyncStatus};
    use shared::protocol::message::PeerId;
    use tests::native_client::now;

    let storage = tempfile::tempdir().unwrap();
    let mut reference = Command::new("node")
        .current_dir(js_dir())
        .arg("reference_server.mjs")
        .arg(storage.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut port = String::new();
    BufReader::new(reference.stdout.take().unwrap()).read_line(&mut port).unwrap();
    let url = format!("ws://127.0.0.1:{}", port.trim());
    let patience = Duration::from_secs(60);
    let all = |documents: &[DocumentId]| {
        let documents = documents.to_vec();
        move |client: &Client| documents.iter().all(|document| client.status(document) == Some(SyncStatus::Synced))
    };

    let mut writer = Client::new(ClientConfig::new(PeerId("native-writer".into())), now());
    let documents: Vec<DocumentId> = (0..50u8)
        .map(|index| {
            let document = DocumentId::from_random([index; 16]);
            let mut doc = AutoCommit::new();
            doc.put(ROOT, "index", i64::from(index)).unwrap();
            doc.commit();
            writer.add_document(document, doc);
            document
        })
        .collect();
    sync_reconnecting(&mut writer, &url, patience, all(&documents)).await;

    let mut reader = Client::new(ClientConfig::new(PeerId("native-reader".into())), now());
    for document in &documents {
        reader.request_document(*document);
    }
    sync_reconnecting(&mut reader, &url, patience, all(&documents)).await;
    for (index, document) in documents.iter().enumerate() {
        let (value, _) = reader.document(document).unwrap().get(ROOT, "index").unwrap().expect("arrived from the reference server");
        assert_eq!(value.as_i64(), Some(index as i64));
    }

    // A later edit reaches a reader that reconnects with nothing new of its own.
    writer.document_mut(&documents[7]).unwrap().put(ROOT, "checked", true).unwrap();
    writer.handle_local_change(&documents[7]);
    sync_reconnecting(&mut writer, &url, patience, all(&documents)).await;
    sync_reconnecting(&mut reader, &url, patience, |client| {
        client.document(&documents[7]).unwrap().get(ROOT, "checked").unwrap().is_some()
    })
    .await;

    drop(reference.stdin.take());
    let status = tokio::task::spawn_blocking(move || reference.wait()).await.unwrap().unwrap();
    assert!(status.success());
}
