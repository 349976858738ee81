//! `houqin-server backup` and `restore` with the real binary: a backup taken while phones
//! push (and documents are compacted) restores everything acknowledged before it began;
//! a backup held open by a slow reader does not stall phones; damaged files and non-empty
//! directories are refused and nothing is left behind; a stopped server's backup works
//! too, and `GET /api/admin/backup` reports the last one.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use automerge::ChangeHash;
use serde_json::Value;
use sha2::{Digest, Sha256};
use shared::document::work_order::WorkOrder;
use shared::document::{BlobRef, EntryId};
use shared::protocol::DocumentId;
use shared::protocol::client::{Client, ClientConfig, SyncStatus};
use shared::protocol::message::PeerId;
use tests::native_client::{now, sync_until};

use crate::server_process::{ServerProcess, server_binary};
use crate::support::{http_client, login, wait_for};
use crate::sync::{comment, edit, order_by};

const PATIENCE: Duration = Duration::from_secs(120);

/// `houqin-server ARGS --data DATA`, run to its end.
fn houqin(args: &[&str], data: &Path) -> Output {
    Command::new(server_binary()).args(args).arg("--data").arg(data).env("HOUQIN_LOG", "error").stdin(Stdio::null()).output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn sync_url(base_url: &str, token: &str) -> String {
    format!("{}sync?token={token}", base_url.replacen("http://", "ws://", 1))
}

fn phone(name: &str) -> Client {
    Client::new(ClientConfig::new(PeerId(name.to_owned())), now())
}

fn synced(client: &Client, documents: &[DocumentId]) -> bool {
    documents.iter().all(|document| client.status(document) == Some(SyncStatus::Synced))
}

/// What phones were told the server keeps.
#[derive(Clone, Default)]
struct Acknowledged {
    /// Each document's heads as the server last confirmed them.
    documents: HashMap<DocumentId, Vec<ChangeHash>>,
    /// Files the server answered 201 for, by SHA-256.
    uploaded: HashMap<String, Vec<u8>>,
    /// Files a document acknowledged by then refers to (so they can be fetched over HTTP).
    referenced: HashSet<String>,
    /// Rounds each writer has finished.
    rounds: HashMap<String, usize>,
}

/// A phone that keeps adding documents (up to `most`) and changing `edits` of them each
/// round, syncing every round, until told to stop.
struct Writer {
    name: &'static str,
    site: &'static str,
    sync_url: String,
    /// Tells this writer's document ids apart from everyone else's.
    id_byte: u8,
    most: usize,
    edits: usize,
}

impl Writer {
    /// Whose phone this is: a busy writer is its user's second phone.
    fn user(&self) -> &'static str {
        self.name.trim_start_matches("busy-")
    }

    async fn run(self, acknowledged: Arc<Mutex<Acknowledged>>, stop: Arc<AtomicBool>) -> anyhow::Result<()> {
        let mut phone = phone(self.name);
        let mut documents = Vec::new();
        let mut round = 0usize;
        while !stop.load(Ordering::Relaxed) {
            for _ in 0..4 {
                if documents.len() == self.most {
                    break;
                }
                let mut bytes = [self.id_byte; 16];
                bytes[12..].copy_from_slice(&(documents.len() as u32).to_be_bytes());
                let document = DocumentId::from_random(bytes);
                phone.add_document(document, order_by(self.user(), self.site, &format!("{} {}", self.name, documents.len())));
                documents.push(document);
            }
            for edit in 0..self.edits {
                let document = documents[(round * 7 + edit) % documents.len()];
                comment(phone.document_mut(&document).expect("the phone has it"), self.user(), &format!("r{round}e{edit}"), "again");
                phone.handle_local_change(&document);
            }
            sync_until(&mut phone, &self.sync_url, PATIENCE, |client| synced(client, &documents)).await?;
            round += 1;
            let mut acknowledged = acknowledged.lock().unwrap();
            for document in &documents {
                acknowledged.documents.insert(*document, phone.server_heads(document).expect("synced, so confirmed"));
            }
            acknowledged.rounds.insert(self.name.to_owned(), round);
        }
        Ok(())
    }
}

/// Uploads a 200 kB photo, distinct for each `index`; returns its SHA-256 and bytes.
async fn upload_photo(base_url: &str, token: &str, index: u32) -> anyhow::Result<(String, Vec<u8>)> {
    let mut photo: Vec<u8> = (0..200_000u32).map(|at| (at.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    // A JPEG by its first bytes, distinct by the next four.
    photo[..4].copy_from_slice(&[0xff, 0xd8, 0xff, 0xe0]);
    photo[4..8].copy_from_slice(&index.to_be_bytes());
    let sha256 = hex::encode(Sha256::digest(&photo));
    let response = http_client()
        .put(format!("{base_url}blobs/{sha256}"))
        .bearer_auth(token)
        .header("content-type", "image/jpeg")
        .body(photo.clone())
        .send()
        .await?;
    anyhow::ensure!(response.status() == 201, "uploading photo {index}: {}", response.status());
    Ok((sha256, photo))
}

/// A phone that keeps uploading photos, each followed by a round document that refers to
/// it, until told to stop.
async fn keep_uploading(
    base_url: String,
    token: String,
    acknowledged: Arc<Mutex<Acknowledged>>,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    let mut phone = phone("camera");
    let mut documents = Vec::new();
    let mut index = 0u32;
    while !stop.load(Ordering::Relaxed) {
        let (sha256, photo) = upload_photo(&base_url, &token, index).await?;
        acknowledged.lock().unwrap().uploaded.insert(sha256.clone(), photo.clone());

        let mut bytes = [0xca; 16];
        bytes[12..].copy_from_slice(&index.to_be_bytes());
        let document = DocumentId::from_random(bytes);
        let mut order = order_by("inspector", "hq", "photo");
        let blob = BlobRef::new(&sha256, photo.len() as u64, "image/jpeg")?;
        WorkOrder::edit_in(&mut order, |order| order.add_comment(&EntryId::parse("photo")?, "", Some(&blob), &edit("inspector")))??;
        phone.add_document(document, order);
        documents.push(document);
        sync_until(&mut phone, &sync_url(&base_url, &token), PATIENCE, |client| synced(client, &documents)).await?;
        index += 1;
        let mut acknowledged = acknowledged.lock().unwrap();
        acknowledged.documents.insert(document, phone.server_heads(&document).expect("synced, so confirmed"));
        acknowledged.referenced.insert(sha256);
        acknowledged.rounds.insert("camera".to_owned(), index as usize);
    }
    Ok(())
}

/// The test: a backup taken while clients push restores to a server on which every
/// document and blob acknowledged before the backup started is present.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_while_phones_push_restores_everything_acknowledged_before_it() {
    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(data.path(), &["--demo"]);
    let mut tokens = HashMap::new();
    for user in ["inspector", "dorm", "tech", "admin"] {
        tokens.insert(user, login(&server.url, user, "demo").await);
    }
    let acknowledged = Arc::new(Mutex::new(Acknowledged::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let busy = server::documents::COMPACT_AFTER;
    // Phones with many documents, and busy phones changing one document over and over, so
    // compaction keeps replacing its chunks while the backup reads.
    let writers = [
        ("inspector", "hq", 1u8, 40, 2),
        ("dorm", "plant2", 2, 40, 2),
        ("tech", "plant2", 3, 40, 2),
        ("busy-inspector", "hq", 4, 1, 1),
        ("busy-dorm", "plant2", 5, 1, 1),
        ("busy-tech", "hq", 6, 1, 1),
    ];
    let mut tasks = Vec::new();
    for (name, site, id_byte, most, edits) in writers {
        let user = name.trim_start_matches("busy-");
        let writer = Writer { name, site, sync_url: sync_url(&server.url, &tokens[user]), id_byte, most, edits };
        tasks.push(tokio::spawn(writer.run(acknowledged.clone(), stop.clone())));
    }
    tasks.push(tokio::spawn(keep_uploading(server.url.clone(), tokens["inspector"].clone(), acknowledged.clone(), stop.clone())));

    // Enough that each busy document has been compacted twice and there is something to copy.
    let enough = |acknowledged: &Acknowledged| {
        let rounds = |name: &str| acknowledged.rounds.get(name).copied().unwrap_or(0);
        ["busy-inspector", "busy-dorm", "busy-tech"].iter().all(|name| rounds(name) > 2 * busy + 10)
            && ["inspector", "dorm", "tech"].iter().all(|name| rounds(name) >= 12)
            && acknowledged.referenced.len() >= 30
    };
    wait_for("the phones to push enough", PATIENCE, || {
        let ready = enough(&acknowledged.lock().unwrap());
        async move { ready.then_some(()) }
    })
    .await;

    // Everything in this copy was acknowledged before the backup starts.
    let before = acknowledged.lock().unwrap().clone();
    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join("houqin.backup");
    let backup = {
        let (file, db) = (file.clone(), data.path().join("db"));
        tokio::task::spawn_blocking(move || houqin(&["backup", "--to", file.to_str().unwrap()], &db)).await.unwrap()
    };
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert!(backup.status.success(), "{}", stderr(&backup));
    assert!(stdout(&backup).contains("from the running server"), "{}", stdout(&backup));
    assert!(!scratch.path().join("houqin.backup.tmp").exists(), "the temporary file is renamed");
    let size = std::fs::metadata(&file).unwrap().len();

    // The running server recorded it before the command line finished.
    let status: Value = http_client()
        .get(format!("{}api/admin/backup", server.url))
        .bearer_auth(&tokens["admin"])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let last = &status["last_backup"];
    assert_eq!(last["by"], "command line");
    assert_eq!(last["bytes"], size);
    assert!(last["documents"].as_u64().unwrap() >= before.documents.len() as u64, "{last}");
    assert!(last["blobs"].as_u64().unwrap() >= before.uploaded.len() as u64, "{last}");
    assert!(server.terminate().success());

    let restored = tempfile::tempdir().unwrap();
    let restore = houqin(&["restore", "--from", file.to_str().unwrap()], &restored.path().join("db"));
    assert!(restore.status.success(), "{}", stderr(&restore));
    assert!(stdout(&restore).starts_with("restored "), "{}", stdout(&restore));

    let server = ServerProcess::start(restored.path(), &[]);
    // Signing in works, and so do tokens signed before the backup: the key came along.
    for user in ["inspector", "dorm", "tech", "admin"] {
        login(&server.url, user, "demo").await;
        let me = http_client().get(format!("{}api/me", server.url)).bearer_auth(&tokens[user]).send().await.unwrap();
        assert_eq!(me.status(), 200, "{user}'s old token");
    }
    let manager = login(&server.url, "manager", "demo").await;
    let mut fresh = phone("fresh");
    let documents: Vec<DocumentId> = before.documents.keys().copied().collect();
    for document in &documents {
        fresh.request_document(*document);
    }
    let answered = |client: &Client| {
        documents.iter().all(|document| client.status(document) == Some(SyncStatus::Synced) || client.is_unavailable(document))
    };
    sync_until(&mut fresh, &sync_url(&server.url, &manager), PATIENCE, answered).await.unwrap();
    for (document, heads) in &before.documents {
        assert!(!fresh.is_unavailable(document), "document {document} is missing from the restored server");
        let missing = fresh.document(document).unwrap().clone().get_missing_deps(heads);
        assert!(missing.is_empty(), "document {document} lost acknowledged changes {missing:?}");
    }
    for sha256 in &before.referenced {
        let response = http_client().get(format!("{}blobs/{sha256}", server.url)).bearer_auth(&tokens["inspector"]).send().await.unwrap();
        assert_eq!(response.status(), 200, "photo {sha256}");
        assert_eq!(response.bytes().await.unwrap().as_ref(), before.uploaded[sha256].as_slice(), "photo {sha256}");
    }
    assert!(server.terminate().success());

    // Files uploaded but not yet referred to are kept as well.
    let storage = server::Storage::open(&restored.path().join("db")).unwrap();
    let blobs = server::blobs::BlobStore::open(&storage).unwrap();
    for (sha256, bytes) in &before.uploaded {
        let stored = blobs.get(&server::blobs::parse_sha256(sha256).unwrap()).unwrap();
        assert_eq!(stored.as_deref(), Some(bytes.as_slice()), "photo {sha256}");
    }
}

/// A backup whose reader stalls holds off removals, not phones: they keep syncing and their
/// documents keep being compacted (beside the chunks the backup may still have to read),
/// and the backup, once read, restores what was acknowledged before it began.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn phones_keep_syncing_while_a_slow_reader_holds_a_backup_open() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(data.path(), &["--demo"]);
    let (inspector, dorm) = (login(&server.url, "inspector", "demo").await, login(&server.url, "dorm", "demo").await);
    // More than the socket's buffers hold, so the server is still writing when we pause.
    let mut photos = HashMap::new();
    for index in 0..15 {
        let (sha256, photo) = upload_photo(&server.url, &inspector, index).await.unwrap();
        photos.insert(sha256, photo);
    }
    let acknowledged = Arc::new(Mutex::new(Acknowledged::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let writers = [("busy-inspector", "hq", &inspector, 7u8), ("busy-dorm", "plant2", &dorm, 8)];
    let mut tasks = Vec::new();
    for (name, site, token, id_byte) in writers {
        let writer = Writer { name, site, sync_url: sync_url(&server.url, token), id_byte, most: 1, edits: 1 };
        tasks.push(tokio::spawn(writer.run(acknowledged.clone(), stop.clone())));
    }
    let rounds = |acknowledged: &Mutex<Acknowledged>| {
        let acknowledged = acknowledged.lock().unwrap();
        writers.map(|(name, ..)| acknowledged.rounds.get(name).copied().unwrap_or(0))
    };
    wait_for("the busy phones to get going", PATIENCE, || {
        let ready = rounds(&acknowledged).iter().all(|&done| done >= 10);
        async move { ready.then_some(()) }
    })
    .await;

    let before = acknowledged.lock().unwrap().clone();
    let mut control = tokio::net::UnixStream::connect(data.path().join("db").join(server::backup::CONTROL_SOCKET)).await.unwrap();
    control.write_all(b"backup\n").await.unwrap();
    let mut backup = vec![0u8; 4096];
    control.read_exact(&mut backup).await.unwrap();
    // The server is now blocked writing, the backup open: each busy document passes the
    // compaction threshold at least twice meanwhile.
    let paused = rounds(&acknowledged);
    wait_for("phones to sync while the backup is held open", PATIENCE, || {
        let now = rounds(&acknowledged);
        let ready = now.iter().zip(paused).all(|(&now, paused)| now > paused + 2 * server::documents::COMPACT_AFTER);
        async move { ready.then_some(()) }
    })
    .await;
    control.read_to_end(&mut backup).await.unwrap();
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert!(server.terminate().success());

    let file = data.path().join("slow.backup");
    std::fs::write(&file, &backup).unwrap();
    let restored = data.path().join("restored");
    let restore = houqin(&["restore", "--from", file.to_str().unwrap()], &restored);
    assert!(restore.status.success(), "{}", stderr(&restore));
    let storage = server::Storage::open(&restored).unwrap();
    let store = server::documents::DocumentStore::open(&storage).unwrap();
    for (document, heads) in &before.documents {
        let mut doc = store.load(document).unwrap().unwrap_or_else(|| panic!("document {document} is missing"));
        assert!(doc.get_missing_deps(heads).is_empty(), "document {document} lost acknowledged changes");
    }
    let blobs = server::blobs::BlobStore::open(&storage).unwrap();
    for (sha256, bytes) in &photos {
        assert_eq!(blobs.get(&server::blobs::parse_sha256(sha256).unwrap()).unwrap().as_deref(), Some(bytes.as_slice()));
    }
}

/// A small backup of a stopped server, and the data directory it came from.
fn small_backup(scratch: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let db = scratch.join("original");
    let added = houqin(&["site", "add", "hq", "总部"], &db);
    assert!(added.status.success(), "{}", stderr(&added));
    let file = scratch.join("small.backup");
    let backup = houqin(&["backup", "--to", file.to_str().unwrap()], &db);
    assert!(backup.status.success(), "{}", stderr(&backup));
    (file, db)
}

fn entries(directory: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(directory).unwrap().map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn restore_refuses_a_non_empty_directory_and_damaged_files_leaving_nothing() {
    let scratch = tempfile::tempdir().unwrap();
    let (file, original) = small_backup(scratch.path());
    let bytes = std::fs::read(&file).unwrap();
    let restore = |from: &Path, into: &Path| houqin(&["restore", "--from", from.to_str().unwrap()], into);

    let occupied = scratch.path().join("occupied");
    std::fs::create_dir(&occupied).unwrap();
    std::fs::write(occupied.join("notes.txt"), "keep me").unwrap();
    let refused = restore(&file, &occupied);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("is not empty: restore into a new or empty data directory"), "{}", stderr(&refused));
    assert_eq!(entries(&occupied), ["notes.txt"]);
    let before = entries(&original);
    assert!(!restore(&file, &original).status.success(), "a database is never overwritten");
    assert_eq!(entries(&original), before);

    let truncated = scratch.path().join("truncated.backup");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    // A bit flipped inside a value (the site's name), not in a length: a flipped length reads
    // as a backup that ends early, which is refused too but with the other message.
    let mut flipped_bytes = bytes.clone();
    let name = "总部".as_bytes();
    let inside = bytes.windows(name.len()).position(|window| window == name).expect("the site's name is in the backup");
    flipped_bytes[inside] ^= 0x01;
    let flipped = scratch.path().join("flipped.backup");
    std::fs::write(&flipped, &flipped_bytes).unwrap();
    let foreign = scratch.path().join("notes.txt");
    std::fs::write(&foreign, "not a backup at all").unwrap();
    let empty = scratch.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    for (from, expected) in
        [(&truncated, "ends early: the backup is truncated"), (&flipped, "is damaged"), (&foreign, "is not a Houqin backup")]
    {
        let absent = scratch.path().join("absent");
        let refused = restore(from, &absent);
        assert!(!refused.status.success());
        assert!(stderr(&refused).contains(expected), "{}: {}", from.display(), stderr(&refused));
        assert!(!absent.exists(), "{}: a refused restore creates nothing", from.display());
        assert!(!restore(from, &empty).status.success());
        assert!(entries(&empty).is_empty(), "{}: a refused restore leaves an empty directory empty", from.display());
    }
    assert!(entries(scratch.path()).iter().all(|name| !name.ends_with(".restoring")), "{:?}", entries(scratch.path()));

    let restored = restore(&file, &empty);
    assert!(restored.status.success(), "{}", stderr(&restored));
    let listed = houqin(&["site", "list"], &empty);
    assert!(stdout(&listed).contains("总部"), "{}", stdout(&listed));
}

#[tokio::test]
async fn a_stopped_server_is_backed_up_and_the_admin_api_shows_the_last_backup() {
    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(data.path(), &["--demo"]);
    let admin = login(&server.url, "admin", "demo").await;
    let inspector = login(&server.url, "inspector", "demo").await;
    let status = |token: Option<String>, url: String| async move {
        let mut request = http_client().get(format!("{url}api/admin/backup"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.json::<Value>().await.unwrap())
    };
    assert_eq!(status(None, server.url.clone()).await.0, 401);
    assert_eq!(status(Some(inspector.clone()), server.url.clone()).await.0, 403);
    assert_eq!(status(Some(admin.clone()), server.url.clone()).await, (200, serde_json::json!({ "last_backup": null })));

    let mut note = phone("note");
    let document = DocumentId::from_random(*b"backed-up-stoppd");
    note.add_document(document, order_by("inspector", "hq", "note"));
    sync_until(&mut note, &sync_url(&server.url, &inspector), PATIENCE, |client| synced(client, &[document])).await.unwrap();
    assert!(server.terminate().success());
    assert!(!data.path().join("db").join(server::backup::CONTROL_SOCKET).exists(), "a clean shutdown removes the control socket");

    let file = data.path().join("stopped.backup");
    let started = now().as_millis();
    let backup = houqin(&["backup", "--to", file.to_str().unwrap()], &data.path().join("db"));
    assert!(backup.status.success(), "{}", stderr(&backup));
    let printed = stdout(&backup);
    assert!(printed.contains("from the database of a stopped server"), "{printed}");
    let size = std::fs::metadata(&file).unwrap().len();
    assert!(printed.contains(&format!("and 0 files ({size} bytes)")), "{printed}");
    // The backup and the data directory hold the token key and password hashes: theirs alone.
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600, "the backup file");
    assert_eq!(std::fs::metadata(data.path().join("db")).unwrap().permissions().mode() & 0o777, 0o700, "a new data directory");

    let server = ServerProcess::start(data.path(), &[]);
    let (code, body) = status(Some(admin), server.url.clone()).await;
    assert_eq!(code, 200);
    let last = &body["last_backup"];
    assert_eq!(last["by"], "command line");
    assert_eq!(last["bytes"], size);
    assert_eq!(last["blobs"], 0);
    // Two demo sites' catalogs and four checklists each, and the note.
    assert_eq!(last["documents"], 11);
    assert!(printed.starts_with("backed up 11 documents"), "{printed}");
    let at = last["at"].as_i64().unwrap();
    assert!(at >= started && at <= now().as_millis(), "{last}");
    assert!(server.terminate().success());

    let missing = houqin(&["backup", "--to", file.to_str().unwrap()], &data.path().join("nowhere"));
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("there is no database in"), "{}", stderr(&missing));
    assert!(!data.path().join("nowhere").exists(), "a backup of nothing creates no database");
}
