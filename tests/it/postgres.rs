//! Houqin on PostgreSQL (`--database-url`): the key spaces keep sled's contract there,
//! a server serves and syncs from it, and backups move between the two engines. Each
//! test starts a PostgreSQL cluster of its own (`tests::postgres`).

use std::time::Duration;

use server::Storage;
use shared::protocol::DocumentId;
use tests::native_client::sync_until;
use tests::postgres::Postgres;

use crate::support::TestServer;
use crate::sync::{comment, comments, order_by, phone};

const PATIENCE: Duration = Duration::from_secs(60);

/// Whether a phone's copy has arrived (a requested document is empty until it does).
fn is_order(doc: &automerge::AutoCommit) -> bool {
    shared::document::work_order::WorkOrder::read_doc(doc).is_ok()
}

fn open(postgres: &Postgres, name: &str) -> (tempfile::TempDir, Storage) {
    let url = postgres.fresh_database(name).unwrap();
    let local = tempfile::tempdir().unwrap();
    let storage = Storage::open_postgres(&url, local.path()).unwrap();
    (local, storage)
}

/// A PostgreSQL of the test's own, a database `name` in it, and an app directory for the
/// servers started on it.
async fn cluster(name: &'static str) -> (Postgres, String, tempfile::TempDir) {
    let postgres = tokio::task::spawn_blocking(|| Postgres::start().unwrap()).await.unwrap();
    let url = postgres.fresh_database(name).unwrap();
    (postgres, url, tempfile::tempdir().unwrap())
}

fn keys(iter: impl Iterator<Item = anyhow::Result<(server::kv::Value, server::kv::Value)>>) -> Vec<Vec<u8>> {
    iter.map(|entry| entry.unwrap().0.to_vec()).collect()
}

/// Reads, writes, scans in byte order from either end (past a page), prefixes ending in
/// 0xff, compare-and-swap, batches and transactions behave in PostgreSQL as in sled.
#[test]
fn the_key_spaces_keep_their_contract_in_postgres() {
    let postgres = Postgres::start().unwrap();
    let (_local, storage) = open(&postgres, "contract");
    let tree = storage.named_tree(b"t").unwrap();
    assert!(tree.is_empty());
    for key in [&b"b2"[..], b"a", b"b1", b"c", b"b", b"b\xff", b"b\xff\xff", b"c\x00"] {
        assert_eq!(tree.insert(key, key).unwrap(), None);
    }
    assert_eq!(tree.insert(b"a", b"again").unwrap().as_deref(), Some(&b"a"[..]), "an insert gives what it replaced");
    assert_eq!(keys(tree.iter()), [&b"a"[..], b"b", b"b1", b"b2", b"b\xff", b"b\xff\xff", b"c", b"c\x00"]);
    assert_eq!(keys(tree.scan_prefix(b"b")), [&b"b"[..], b"b1", b"b2", b"b\xff", b"b\xff\xff"]);
    assert_eq!(keys(tree.scan_prefix(b"b\xff")), [&b"b\xff"[..], b"b\xff\xff"]);
    assert_eq!(keys(tree.range(&b"b1"[..]..&b"c"[..])), [&b"b1"[..], b"b2", b"b\xff", b"b\xff\xff"]);
    assert_eq!(keys(tree.iter().rev()), [&b"c\x00"[..], b"c", b"b\xff\xff", b"b\xff", b"b2", b"b1", b"b", b"a"]);
    assert_eq!(tree.first().unwrap().unwrap().0.to_vec(), b"a");
    assert_eq!(tree.last().unwrap().unwrap().0.to_vec(), b"c\x00");
    assert_eq!(tree.len(), 8);
    assert!(tree.contains_prefix(b"b\xff").unwrap() && !tree.contains_prefix(b"d").unwrap());
    assert_eq!(tree.prefix_bytes(b"b").unwrap(), 10, "the five keys under b hold themselves");
    assert_eq!(tree.remove(b"c\x00").unwrap().as_deref(), Some(&b"c\x00"[..]));
    assert!(!tree.contains_key(b"c\x00").unwrap());

    // More than a page, read from both ends at once: every key once, in order.
    let many = storage.named_tree(b"many").unwrap();
    let mut batch = server::kv::Batch::default();
    for index in 0..1000u32 {
        batch.insert(index.to_be_bytes(), [7]);
    }
    many.apply_batch(batch).unwrap();
    let mut both = many.iter();
    let (mut front, mut back) = (Vec::new(), Vec::new());
    loop {
        match (both.next(), both.next_back()) {
            (Some(first), Some(last)) => {
                front.push(first.unwrap().0.to_vec());
                back.push(last.unwrap().0.to_vec());
            }
            (Some(first), None) => front.push(first.unwrap().0.to_vec()),
            (None, _) => break,
        }
    }
    back.reverse();
    front.extend(back);
    assert_eq!(front, (0..1000u32).map(|index| index.to_be_bytes().to_vec()).collect::<Vec<_>>());

    // A batch's writes count in order: of several to one key, the last.
    let mut batch = server::kv::Batch::default();
    batch.insert(b"twice", b"first");
    batch.insert(b"twice", b"second");
    batch.insert(b"written then removed", b"x");
    batch.remove(b"written then removed");
    batch.remove(b"a");
    batch.insert(b"a", b"back");
    batch.remove(b"b1");
    tree.apply_batch(batch).unwrap();
    assert_eq!(tree.get(b"twice").unwrap().as_deref(), Some(&b"second"[..]));
    assert!(!tree.contains_key(b"written then removed").unwrap());
    assert_eq!(tree.get(b"a").unwrap().as_deref(), Some(&b"back"[..]));
    assert!(!tree.contains_key(b"b1").unwrap());

    // Each key removed only if it still holds the value given with it.
    tree.remove_each_unchanged(&[(b"twice".to_vec(), b"second".to_vec()), (b"a".to_vec(), b"not what it holds".to_vec())]).unwrap();
    assert!(!tree.contains_key(b"twice").unwrap());
    assert_eq!(tree.get(b"a").unwrap().as_deref(), Some(&b"back"[..]), "a key holding another value stays");

    // Compare-and-swap and updates.
    assert!(tree.compare_and_swap(b"k", None::<&[u8]>, Some(b"one")).unwrap().is_ok());
    let refused = tree.compare_and_swap(b"k", None::<&[u8]>, Some(b"two")).unwrap().unwrap_err();
    assert_eq!(refused.current.as_deref(), Some(&b"one"[..]));
    assert!(tree.compare_and_swap(b"k", Some(b"one"), Some(b"two")).unwrap().is_ok());
    assert!(tree.compare_and_swap(b"k", Some(b"one"), None::<&[u8]>).unwrap().is_err());
    assert!(tree.compare_and_swap(b"k", Some(b"two"), None::<&[u8]>).unwrap().is_ok());
    assert_eq!(tree.get(b"k").unwrap(), None);
    let after = tree.update_and_fetch(b"n", |old| Some(vec![old.map_or(0, |old| old[0]) + 1])).unwrap();
    assert_eq!(after.as_deref(), Some(&[1][..]));
    let before = tree.fetch_and_update(b"n", |old| Some(vec![old.map_or(0, |old| old[0]) + 1])).unwrap();
    assert_eq!(before.as_deref(), Some(&[1][..]));

    // A transaction over two trees: all or nothing, its own writes read back.
    let other = storage.named_tree(b"other").unwrap();
    let moved = server::kv::transaction([&tree, &other], |[tree, other]| {
        let value = tree.remove(b"b")?.expect("stored above");
        other.insert(b"b", &value)?;
        Ok(other.get(b"b")?.is_some())
    })
    .unwrap();
    assert!(moved);
    assert_eq!(tree.get(b"b").unwrap(), None);
    assert_eq!(other.get(b"b").unwrap().as_deref(), Some(&b"b"[..]));

    // Every tree is listed, an empty one too, and the store is no longer empty.
    storage.named_tree(b"empty").unwrap();
    let names = storage.tree_names().unwrap();
    for name in [&b"empty"[..], b"many", b"other", b"t"] {
        assert!(names.iter().any(|listed| listed == name), "{names:?}");
    }
    assert!(!storage.holds_nothing().unwrap());
}

/// A write deferred to the flush, and news told with it, reach nobody before the flush
/// commits them and everybody after; a flush that fails keeps them for the next one.
#[tokio::test]
async fn deferred_writes_and_news_wait_for_the_flush_that_commits_them() {
    use server::storage::{Heard, News};

    let (postgres, url, _dist) = cluster("deferred").await;
    let (here, there) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let writer = Storage::open_postgres(&url, here.path()).unwrap();
    let reader = Storage::open_postgres(&url, there.path()).unwrap();
    let (heard, mut hearing) = tokio::sync::mpsc::unbounded_channel();
    reader.listen(move |news| heard.send(news).is_ok());
    assert_eq!(tokio::time::timeout(PATIENCE, hearing.recv()).await.unwrap(), Some(Heard::Listening));
    let (written, read) = (writer.named_tree(b"t").unwrap(), reader.named_tree(b"t").unwrap());
    let document = DocumentId::from_random(*b"deferred-to-the!");

    written.insert_deferred(b"k", b"first").unwrap();
    written.insert_deferred(b"k", b"second").unwrap();
    writer.tell_when_durable(&News::Stored(vec![document]));
    assert_eq!(written.get(b"k").unwrap(), None, "not even the writer reads it before the flush");
    assert_eq!(read.get(b"k").unwrap(), None);

    // The database refuses the write for a while: the flush fails, and the writes and
    // news wait on, whole.
    postgres
        .sql(
            &url,
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$; \
             CREATE TRIGGER refuse BEFORE INSERT ON houqin_kv FOR EACH ROW WHEN (NEW.key = '\\x6b') EXECUTE FUNCTION refuse()",
        )
        .unwrap();
    assert!(writer.flush().await.is_err(), "the flush is refused");
    assert_eq!(read.get(b"k").unwrap(), None);
    postgres.sql(&url, "DROP TRIGGER refuse ON houqin_kv").unwrap();

    // Applied ahead of the flush (as a compaction does), the writes are read; the news
    // still waits for the flush.
    written.apply_deferred().unwrap();
    assert_eq!(read.get(b"k").unwrap().as_deref(), Some(&b"second"[..]), "the last deferred write counts");
    let early = tokio::time::timeout(Duration::from_millis(500), async {
        loop {
            match hearing.recv().await {
                Some(Heard::Listening) => continue,
                other => return other,
            }
        }
    });
    assert!(early.await.is_err(), "nobody hears of a write before it is durable");
    writer.flush().await.unwrap();
    let told = loop {
        match tokio::time::timeout(PATIENCE, hearing.recv()).await.unwrap().unwrap() {
            Heard::Listening => continue,
            news => break news,
        }
    };
    assert_eq!(told, Heard::News(News::Stored(vec![document])), "told once, with the write");
    writer.flush().await.unwrap();
    assert!(tokio::time::timeout(Duration::from_millis(500), hearing.recv()).await.is_err(), "told once only");
}

/// The dashboards project the hub's copy of a document rather than load it only while the
/// shared store holds no chunk the copy lacks: once another server stored one, the
/// document is loaded as stored.
#[tokio::test(flavor = "multi_thread")]
async fn a_copy_stands_for_a_shared_document_only_while_it_holds_every_stored_chunk() {
    use server::documents::DocumentStore;
    use server::projections::Projections;

    let postgres = tokio::task::spawn_blocking(|| Postgres::start().unwrap()).await.unwrap();
    let (_local, storage) = open(&postgres, "copies");
    let (projections, store) = (Projections::open(&storage).unwrap(), DocumentStore::open(&storage).unwrap());
    let plant2 = shared::directory::SiteId::parse("plant2").unwrap();
    let title = || projections.site(&plant2).unwrap().into_iter().map(|projection| projection.title).collect::<Vec<_>>();
    let document = DocumentId::from_random(*b"copy-or-as-store");
    let mut stored = order_by("tech", "plant2", "as stored");
    let held = store.append(&document, &stored.save()).unwrap();
    // A copy unlike what is stored, to tell which was projected.
    let copy = order_by("tech", "plant2", "the copy");

    projections.mark(&document, Some((&copy, &[held]))).unwrap();
    storage.flush().await.unwrap();
    assert_eq!(projections.project_dirty().unwrap(), 1);
    assert_eq!(title(), ["the copy"], "the copy holds every stored chunk: it is projected, nothing loaded");

    let before = stored.get_heads();
    comment(&mut stored, "tech", "c1", "stored by another server");
    store.append(&document, &stored.save_after(&before)).unwrap();
    projections.mark(&document, Some((&copy, &[held]))).unwrap();
    storage.flush().await.unwrap();
    assert_eq!(projections.project_dirty().unwrap(), 1);
    assert_eq!(title(), ["as stored"], "a chunk the copy lacks: the document is loaded as stored");
}

/// Two servers writing batches of the same keys at once (the projections of the same
/// documents, say) both succeed: the rows are written in one order, so neither batch is
/// chosen as a deadlock's victim.
#[test]
fn batches_of_the_same_keys_from_two_servers_both_succeed() {
    let postgres = Postgres::start().unwrap();
    let url = postgres.fresh_database("batches").unwrap();
    let servers: Vec<(tempfile::TempDir, Storage)> = (0..2)
        .map(|_| {
            let local = tempfile::tempdir().unwrap();
            let storage = Storage::open_postgres(&url, local.path()).unwrap();
            (local, storage)
        })
        .collect();
    std::thread::scope(|scope| {
        for (index, (_, storage)) in servers.iter().enumerate() {
            let tree = storage.named_tree(b"projections").unwrap();
            scope.spawn(move || {
                for round in 0..100u32 {
                    let mut batch = server::kv::Batch::default();
                    let mut keys: Vec<u32> = (0..50).collect();
                    if index == 1 {
                        keys.reverse();
                    }
                    for key in keys {
                        batch.insert(key.to_be_bytes(), round.to_be_bytes());
                    }
                    tree.apply_batch(batch).unwrap();
                }
            });
        }
    });
}

/// A database that offers TLS (as managed ones require) is reached encrypted, its
/// certificate checked as the URL's `sslmode` asks: `require` encrypts without checking,
/// `verify-ca` checks the authority (`sslrootcert`), `verify-full` the authority and the
/// host name; `disable` does not encrypt.
#[test]
fn the_database_is_reached_over_tls_checked_as_the_url_asks() {
    use server::tls::{CA_CERT, SERVER_CERT, SERVER_KEY, init};

    // The database's certificate names it by its LAN name only; another authority signed
    // nothing it serves.
    let (ours, theirs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let made = init(ours.path(), &["db.example".to_owned()], &[]).unwrap();
    let other = init(theirs.path(), &["db.example".to_owned()], &[]).unwrap();
    let postgres = Postgres::start_with_tls(&made.dir.join(SERVER_CERT), &made.dir.join(SERVER_KEY)).unwrap();
    let url = postgres.fresh_database("tls").unwrap();
    let (authority, stranger) = (made.dir.join(CA_CERT).display().to_string(), other.dir.join(CA_CERT).display().to_string());
    // Reached by name (its address given apart, as a LAN's DNS would resolve it).
    let by_name = url.replace("@127.0.0.1:", "@db.example:") + "?hostaddr=127.0.0.1&";
    // The encrypted and plain connections to the database besides psql's own, once they
    // are `expected` (a dropped server's connections end a moment later).
    let connections = |expected: (&str, &str)| -> (String, String) {
        let count = |ssl: bool| {
            postgres
                .sql(
                    &url,
                    &format!(
                        "SELECT count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) \
                         WHERE datname = 'tls' AND pid <> pg_backend_pid() AND ssl = {ssl}"
                    ),
                )
                .unwrap()
        };
        let mut seen = (count(true), count(false));
        for _ in 0..50 {
            if (seen.0.as_str(), seen.1.as_str()) == expected {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
            seen = (count(true), count(false));
        }
        seen
    };
    let open = |url: &str| {
        let local = tempfile::tempdir().unwrap();
        Storage::open_postgres(url, local.path()).map(|storage| (local, storage)).map_err(|error| format!("{error:#}"))
    };

    for mode in ["sslmode=require", "sslmode=prefer", ""] {
        let opened = open(&format!("{by_name}{mode}")).unwrap();
        assert_eq!(connections(("1", "0")), ("1".into(), "0".into()), "{mode:?}: encrypted");
        drop(opened);
    }
    let opened = open(&format!("{by_name}sslmode=verify-full&sslrootcert={authority}")).unwrap();
    assert_eq!(connections(("1", "0")), ("1".into(), "0".into()), "verify-full: encrypted");
    drop(opened);
    let refused = open(&format!("{by_name}sslmode=verify-full&sslrootcert={stranger}")).err().expect("another authority is refused");
    assert!(refused.contains("certificate"), "{refused}");
    let by_address = format!("{url}?sslmode=verify-full&sslrootcert={authority}");
    let refused = open(&by_address).err().expect("a host the certificate does not name is refused");
    assert!(refused.contains("certificate"), "{refused}");
    drop(open(&by_address.replace("verify-full", "verify-ca")).expect("verify-ca checks the authority, not the name"));
    assert!(open(&format!("{url}?sslmode=verify-ca&sslrootcert={stranger}")).is_err(), "verify-ca checks the authority");
    let opened = open(&format!("{url}?sslmode=disable")).unwrap();
    assert_eq!(connections(("0", "1")), ("0".into(), "1".into()), "disable: plain");
    drop(opened);
}

/// Counters updated from many threads at once lose no update: compare-and-swap and
/// transactions serialize in PostgreSQL as they do in sled.
#[test]
fn concurrent_updates_in_postgres_lose_nothing() {
    let postgres = Postgres::start().unwrap();
    let (_local, storage) = open(&postgres, "concurrent");
    let counters = storage.named_tree(b"counters").unwrap();
    let log = storage.named_tree(b"log").unwrap();
    std::thread::scope(|scope| {
        for thread in 0..8u32 {
            let (counters, log) = (counters.clone(), log.clone());
            scope.spawn(move || {
                for step in 0..25u32 {
                    counters
                        .update_and_fetch(b"cas", |old| {
                            Some((old.map_or(0, |old| u32::from_be_bytes(old.try_into().unwrap())) + 1).to_be_bytes())
                        })
                        .unwrap();
                    server::kv::transaction([&counters, &log], |[counters, log]| {
                        let count = counters.get(b"transaction")?.map_or(0, |old| u32::from_be_bytes(old.as_ref().try_into().unwrap()));
                        counters.insert(b"transaction", (count + 1).to_be_bytes())?;
                        log.insert([thread.to_be_bytes(), step.to_be_bytes()].concat(), count.to_be_bytes())?;
                        Ok(())
                    })
                    .unwrap();
                }
            });
        }
    });
    let count = |key: &[u8]| u32::from_be_bytes(counters.get(key).unwrap().unwrap().as_ref().try_into().unwrap());
    assert_eq!(count(b"cas"), 200);
    assert_eq!(count(b"transaction"), 200);
    // Each transaction read a different count: none ran on a stale one.
    let mut seen: Vec<u32> = log.iter().map(|entry| u32::from_be_bytes(entry.unwrap().1.as_ref().try_into().unwrap())).collect();
    seen.sort();
    assert_eq!(seen, (0..200).collect::<Vec<_>>());
}

/// A server on PostgreSQL takes phones' changes, acknowledges them, and after a restart
/// (another server on the same database) a fresh phone fetches them all; the demo data
/// was seeded once, not again.
#[tokio::test]
async fn a_server_on_postgres_syncs_and_keeps_everything_across_a_restart() {
    let (_postgres, url, dist) = cluster("sync").await;
    let server = TestServer::start_on_postgres(&url, dist.path()).await;
    let sync = server.sync_url("dorm");
    let documents: Vec<DocumentId> = (0..5u8).map(|index| DocumentId::from_random([index + 1; 16])).collect();
    let mut pusher = phone("pusher");
    for (index, document) in documents.iter().enumerate() {
        let mut order = order_by("dorm", "plant2", &format!("order {index}"));
        comment(&mut order, "dorm", "first", "kept in PostgreSQL");
        pusher.add_document(*document, order);
    }
    sync_until(&mut pusher, &sync, PATIENCE, |client| {
        documents.iter().all(|document| client.status(document) == Some(shared::protocol::client::SyncStatus::Synced))
    })
    .await
    .unwrap();
    let users_before = server.state.directory.users().unwrap().len();
    server.stop().await.unwrap();

    let again = TestServer::start_on_postgres(&url, dist.path()).await;
    assert_eq!(again.state.directory.users().unwrap().len(), users_before, "the demo data is seeded once");
    let mut fresh = phone("fresh");
    for document in &documents {
        fresh.request_document(*document);
    }
    let sync = again.sync_url("dorm");
    sync_until(&mut fresh, &sync, PATIENCE, |client| {
        documents.iter().all(|document| client.status(document) == Some(shared::protocol::client::SyncStatus::Synced))
    })
    .await
    .unwrap();
    for document in &documents {
        assert_eq!(comments(fresh.document(document).unwrap()).get("first").map(String::as_str), Some("kept in PostgreSQL"));
        let stored = again.state.documents.load(document).unwrap().expect("stored");
        assert_eq!(stored.clone().get_heads(), fresh.document(document).unwrap().clone().get_heads());
    }
    again.stop().await.unwrap();
}

/// A sled server's backup restores into PostgreSQL (how a site moves), a backup taken
/// from PostgreSQL restores into sled and into another PostgreSQL database, and each holds
/// every tree's entries as the original did.
#[test]
fn backups_move_between_sled_and_postgres() {
    let postgres = Postgres::start().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let sled_data = scratch.path().join("sled");
    let original = Storage::open(&sled_data).unwrap();
    let documents = original.named_tree(server::storage::trees::DOCUMENTS.as_bytes()).unwrap();
    for index in 0..300u32 {
        let mut key = vec![index as u8; 16];
        key.push(1);
        key.extend_from_slice(&[index as u8; 32]);
        documents.insert(key, vec![index as u8; 100 + index as usize]).unwrap();
    }
    original.named_tree(server::storage::trees::META.as_bytes()).unwrap().insert("token_key", [9u8; 32]).unwrap();
    let everything = |storage: &Storage| {
        let mut read = Vec::new();
        storage
            .read_everything(&mut |entry| {
                match entry {
                    server::kv::Read::Tree(name) => read.push((name.to_vec(), Vec::new())),
                    server::kv::Read::Entry(key, value) => read.last_mut().unwrap().1.push((key.to_vec(), value.to_vec())),
                }
                Ok(())
            })
            .unwrap();
        // What a flush leaves (`meta`'s flush count or time) is the engine's own.
        read.retain(|(_, entries)| !entries.is_empty());
        for (name, entries) in &mut read {
            if name == server::storage::trees::META.as_bytes() {
                entries.retain(|(key, _)| key != b"generation" && key != b"flushed_at");
            }
        }
        read
    };
    let held = everything(&original);
    let sled_backup = scratch.path().join("sled.backup");
    let file = std::fs::File::create(&sled_backup).unwrap();
    server::backup::write_backup(&original, file).unwrap();
    drop(original);

    let first = postgres.fresh_database("from_sled").unwrap();
    let local = scratch.path().join("local");
    server::backup::restore(&local, Some(&first), &sled_backup).unwrap();
    let in_postgres = Storage::open_postgres(&first, &local).unwrap();
    assert_eq!(everything(&in_postgres), held, "the sled backup restored into PostgreSQL");
    let refused = server::backup::restore(&local, Some(&first), &sled_backup).unwrap_err().to_string();
    assert!(refused.contains("already holds data"), "{refused}");

    let postgres_backup = scratch.path().join("postgres.backup");
    server::backup::write_backup(&in_postgres, std::fs::File::create(&postgres_backup).unwrap()).unwrap();
    let back_in_sled = scratch.path().join("back");
    server::backup::restore(&back_in_sled, None, &postgres_backup).unwrap();
    assert_eq!(everything(&Storage::open(&back_in_sled).unwrap()), held, "the PostgreSQL backup restored into sled");
    let second = postgres.fresh_database("from_postgres").unwrap();
    server::backup::restore(&local, Some(&second), &postgres_backup).unwrap();
    assert_eq!(everything(&Storage::open_postgres(&second, &local).unwrap()), held, "the PostgreSQL backup restored into PostgreSQL");
}

/// `/healthz` says whether the server reaches its database: 200 while PostgreSQL answers,
/// 503 with `database_unreachable` once it is gone (so a load balancer sends phones to
/// another server), and the server itself keeps answering.
#[tokio::test]
async fn healthz_says_when_the_database_is_out_of_reach() {
    let (postgres, url, dist) = cluster("health").await;
    let server = TestServer::start_on_postgres(&url, dist.path()).await;
    let health = crate::support::get(&server, "/healthz", None).await;
    assert_eq!(health.status(), 200);
    let body: serde_json::Value = health.json().await.unwrap();
    assert_eq!(body["database_unreachable"], false, "{body}");

    tokio::task::spawn_blocking(move || drop(postgres)).await.unwrap();
    let health = crate::support::get(&server, "/healthz", None).await;
    assert_eq!(health.status(), 503);
    let body: serde_json::Value = health.json().await.unwrap();
    assert_eq!(body["database_unreachable"], true, "{body}");
    assert_eq!(body["status"], "ok", "the server itself answers: {body}");
}

/// Two servers on one PostgreSQL database are one service: a phone on the second hears
/// live what a phone on the first changes, a third server started later serves
/// everything, and offline edits made through different servers converge.
#[tokio::test]
async fn phones_on_different_servers_sharing_postgres_converge_live_and_offline() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let (_postgres, url, dist) = cluster("shared").await;
    let first = TestServer::start_on_postgres(&url, dist.path()).await;
    let second = TestServer::start_on_postgres(&url, dist.path()).await;
    let (on_first, on_second) = (first.sync_url("dorm"), second.sync_url("dorm"));
    let document = DocumentId::from_random(*b"two-servers-one!");
    let mut writer = phone("writer");
    writer.add_document(document, order_by("dorm", "plant2", "two servers"));
    sync_until(&mut writer, &on_first, PATIENCE, |client| client.status(&document) == Some(shared::protocol::client::SyncStatus::Synced))
        .await
        .unwrap();

    // A reader on the second server stays connected until the writer's next change reaches it.
    let following = Arc::new(AtomicBool::new(false));
    let reader = tokio::spawn({
        let (following, on_second) = (following.clone(), on_second.clone());
        async move {
            let mut reader = phone("reader");
            reader.request_document(document);
            sync_until(&mut reader, &on_second, PATIENCE, |client| {
                let Some(doc) = client.document(&document).filter(|doc| is_order(doc)) else { return false };
                following.store(true, Ordering::SeqCst);
                comments(doc).contains_key("live")
            })
            .await
            .map(|()| reader)
        }
    });
    crate::support::wait_for("the reader to have the document", PATIENCE, || async { following.load(Ordering::SeqCst).then_some(()) })
        .await;
    comment(writer.document_mut(&document).unwrap(), "dorm", "live", "said on the first server");
    writer.handle_local_change(&document);
    sync_until(&mut writer, &on_first, PATIENCE, |client| client.status(&document) == Some(shared::protocol::client::SyncStatus::Synced))
        .await
        .unwrap();
    let mut reader = reader.await.unwrap().expect("the reader on the second server heard the change live");

    // Offline, each edits; each syncs through a different server; both end with both edits.
    comment(writer.document_mut(&document).unwrap(), "dorm", "offline-writer", "from the writer");
    writer.handle_local_change(&document);
    comment(reader.document_mut(&document).unwrap(), "dorm", "offline-reader", "from the reader");
    reader.handle_local_change(&document);
    let both = |client: &shared::protocol::client::Client| {
        client.document(&document).filter(|doc| is_order(doc)).is_some_and(|doc| {
            let comments = comments(doc);
            comments.contains_key("offline-writer") && comments.contains_key("offline-reader")
        })
    };
    sync_until(&mut writer, &on_first, PATIENCE, |client| client.status(&document) == Some(shared::protocol::client::SyncStatus::Synced))
        .await
        .unwrap();
    sync_until(&mut reader, &on_second, PATIENCE, both).await.unwrap();
    sync_until(&mut writer, &on_first, PATIENCE, both).await.unwrap();
    assert_eq!(writer.document(&document).unwrap().clone().get_heads(), reader.document(&document).unwrap().clone().get_heads());

    // A third server, started now, serves all of it.
    let third = TestServer::start_on_postgres(&url, dist.path()).await;
    let mut late = phone("late");
    late.request_document(document);
    sync_until(&mut late, &third.sync_url("dorm"), PATIENCE, both).await.unwrap();
    for server in [first, second, third] {
        server.stop().await.unwrap();
    }
}

/// A server whose listening connection was cut misses what was said meanwhile; once it
/// listens again it looks at every document it holds and brings its phones up to date.
/// The change here is stored without being announced at all, so only that look finds it.
#[tokio::test]
async fn a_server_that_stopped_listening_catches_up_once_it_listens_again() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let (postgres, url, dist) = cluster("gap").await;
    let server = TestServer::start_on_postgres(&url, dist.path()).await;
    let sync = server.sync_url("dorm");
    let document = DocumentId::from_random(*b"listening-gap-ok");
    let mut writer = phone("writer");
    writer.add_document(document, order_by("dorm", "plant2", "a gap"));
    sync_until(&mut writer, &sync, PATIENCE, |client| client.status(&document) == Some(shared::protocol::client::SyncStatus::Synced))
        .await
        .unwrap();
    let following = Arc::new(AtomicBool::new(false));
    let reader = tokio::spawn({
        let following = following.clone();
        async move {
            let mut reader = phone("reader");
            reader.request_document(document);
            sync_until(&mut reader, &sync, PATIENCE, |client| {
                let Some(doc) = client.document(&document).filter(|doc| is_order(doc)) else { return false };
                following.store(true, Ordering::SeqCst);
                comments(doc).contains_key("unannounced")
            })
            .await
        }
    });
    crate::support::wait_for("the reader to have the document", PATIENCE, || async { following.load(Ordering::SeqCst).then_some(()) })
        .await;

    // Stored as another server would, but never announced.
    let mut elsewhere = server.state.documents.load(&document).unwrap().unwrap().with_actor(automerge::ActorId::random());
    let before = elsewhere.get_heads();
    comment(&mut elsewhere, "dorm", "unannounced", "stored while nobody listened");
    server.state.documents.append(&document, &elsewhere.save_after(&before)).unwrap();
    let cut = tokio::task::spawn_blocking(move || {
        postgres
            .sql(
                &url,
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE 'LISTEN %' AND pid <> pg_backend_pid()",
            )
            .map(|cut| (postgres, cut))
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(cut.1, "1", "the server's one listening connection was cut");
    reader.await.unwrap().expect("the reader heard the change once the server listened again");
    server.stop().await.unwrap();
    drop(cut);
}

/// The same new document sent to two servers at once with different sites: one is kept,
/// the other refused, and the document has one site; an actor sent to both by two people
/// at once is bound to one of them.
#[tokio::test]
async fn the_same_new_document_sent_to_two_servers_at_once_keeps_one_site() {
    let (_postgres, url, dist) = cluster("race").await;
    let first = TestServer::start_on_postgres(&url, dist.path()).await;
    let second = TestServer::start_on_postgres(&url, dist.path()).await;
    let document = DocumentId::from_random(*b"one-site-always!");
    let mut at_hq = phone("at-hq");
    at_hq.add_document(document, order_by("admin", "hq", "at hq"));
    let mut at_plant2 = phone("at-plant2");
    at_plant2.add_document(document, order_by("admin", "plant2", "at plant2"));
    let synced = |client: &shared::protocol::client::Client| client.status(&document) == Some(shared::protocol::client::SyncStatus::Synced);
    let (admin_first, admin_second) = (first.sync_url("admin"), second.sync_url("admin"));
    let (hq, plant2) = tokio::join!(
        sync_until(&mut at_hq, &admin_first, Duration::from_secs(10), synced),
        sync_until(&mut at_plant2, &admin_second, Duration::from_secs(10), synced),
    );
    assert!(hq.is_ok() != plant2.is_ok(), "exactly one is kept: {hq:?} {plant2:?}");
    let kept = if hq.is_ok() { "hq" } else { "plant2" };
    let stored = first.state.documents.load(&document).unwrap().expect("the kept one is stored");
    assert_eq!(shared::document::read_site(&stored).unwrap().as_str(), kept, "one site, no conflict");

    // Two people's phones sending the same new actor, each to a server of its own.
    let actor = automerge::ActorId::random();
    let (dorm_order, tech_order) = (DocumentId::from_random(*b"actor-race-dorm!"), DocumentId::from_random(*b"actor-race-tech!"));
    let mut dorm = phone("dorm-phone");
    dorm.add_document(dorm_order, crate::sync::order_with(actor.clone(), "dorm", "plant2", "dorm's"));
    let mut tech = phone("tech-phone");
    tech.add_document(tech_order, crate::sync::order_with(actor.clone(), "tech", "plant2", "tech's"));
    let (dorm_first, tech_second) = (first.sync_url("dorm"), second.sync_url("tech"));
    let (dorm_synced, tech_synced) = tokio::join!(
        sync_until(&mut dorm, &dorm_first, Duration::from_secs(10), |client| client.status(&dorm_order)
            == Some(shared::protocol::client::SyncStatus::Synced)),
        sync_until(&mut tech, &tech_second, Duration::from_secs(10), |client| client.status(&tech_order)
            == Some(shared::protocol::client::SyncStatus::Synced)),
    );
    let owner = first.state.directory.actor_owner(&actor.to_hex_string()).unwrap();
    assert_eq!(second.state.directory.actor_owner(&actor.to_hex_string()).unwrap(), owner, "both servers see one owner");
    match owner.as_ref().map(shared::directory::Username::as_str) {
        Some("dorm") => assert!(dorm_synced.is_ok() && tech_synced.is_err(), "{dorm_synced:?} {tech_synced:?}"),
        Some("tech") => assert!(tech_synced.is_ok() && dorm_synced.is_err(), "{dorm_synced:?} {tech_synced:?}"),
        other => panic!("the actor is bound to {other:?}"),
    }
}

/// A person disabled through one server loses their open connections on every server
/// sharing the database, and cannot open new ones on any.
#[tokio::test]
async fn a_person_disabled_on_one_server_is_cut_off_on_every_server() {
    let (_postgres, url, dist) = cluster("revoke").await;
    let first = TestServer::start_on_postgres(&url, dist.path()).await;
    let second = TestServer::start_on_postgres(&url, dist.path()).await;
    let document = DocumentId::from_random(*b"revoked-elsewher");
    let on_second = second.sync_url("tech");
    let mut setup = phone("setup");
    setup.add_document(document, order_by("tech", "hq", "open on the second server"));
    sync_until(&mut setup, &on_second, PATIENCE, |client| client.status(&document) == Some(shared::protocol::client::SyncStatus::Synced))
        .await
        .unwrap();
    let connected = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let open = tokio::spawn({
        let (connected, on_second) = (connected.clone(), on_second.clone());
        async move {
            let mut technician = phone("technician");
            technician.request_document(document);
            // Stays connected until the server closes the connection.
            sync_until(&mut technician, &on_second, PATIENCE, |client| {
                connected.store(
                    client.status(&document) == Some(shared::protocol::client::SyncStatus::Synced),
                    std::sync::atomic::Ordering::SeqCst,
                );
                false
            })
            .await
        }
    });
    crate::support::wait_for("the technician's phone to be syncing", PATIENCE, || async {
        connected.load(std::sync::atomic::Ordering::SeqCst).then_some(())
    })
    .await;

    let disabled = crate::support::http_client()
        .post(first.url("/api/admin/users/tech/disable"))
        .bearer_auth(first.token("admin"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status(), 200);
    let closed = open.await.unwrap().unwrap_err().to_string();
    assert!(closed.contains("signed out"), "the second server closed the technician's connection: {closed}");
    let mut again = phone("again");
    again.request_document(document);
    assert!(sync_until(&mut again, &on_second, Duration::from_secs(5), |_| true).await.is_err(), "and refuses a new one");
}

/// Wrong passwords count on every server sharing the database: five at one server hold
/// the account at that address on the other too, even for the right password.
#[tokio::test]
async fn sign_in_attempts_are_counted_across_servers() {
    let (_postgres, url, dist) = cluster("throttle").await;
    let first = TestServer::start_on_postgres(&url, dist.path()).await;
    let second = TestServer::start_on_postgres(&url, dist.path()).await;
    let login = |server: &TestServer, password: &str| {
        let request = crate::support::http_client()
            .post(server.url("/api/login"))
            .json(&serde_json::json!({ "username": "inspector", "password": password }));
        async move { request.send().await.unwrap().status().as_u16() }
    };
    for _ in 0..5 {
        assert_eq!(login(&first, "wrong").await, 401);
    }
    assert_eq!(login(&second, "demo").await, 429, "the other server holds the account at this address too");
    assert_eq!(login(&first, "demo").await, 429);
}

/// Two servers compacting the same document while a third takes changes to it from yet
/// another phone, and while changes are stored that no server hears of: every change any
/// phone was told is kept, and every change stored, is in the store afterwards, and a
/// fresh phone gets them all.
#[tokio::test]
async fn two_servers_compacting_one_document_while_a_third_writes_lose_nothing() {
    use server::documents::COMPACT_AFTER;

    let (_postgres, url, dist) = cluster("compaction").await;
    let servers = [
        TestServer::start_on_postgres(&url, dist.path()).await,
        TestServer::start_on_postgres(&url, dist.path()).await,
        TestServer::start_on_postgres(&url, dist.path()).await,
    ];
    let document = DocumentId::from_random(*b"compacted-twice!");
    let mut first = phone("first");
    first.add_document(document, order_by("dorm", "plant2", "compacted on two servers"));
    let on = |index: usize| servers[index].sync_url("dorm");
    sync_until(&mut first, &on(0), PATIENCE, |client| client.status(&document) == Some(shared::protocol::client::SyncStatus::Synced))
        .await
        .unwrap();
    let mut second = phone("second");
    second.request_document(document);
    sync_until(&mut second, &on(1), PATIENCE, |client| client.document(&document).is_some_and(is_order)).await.unwrap();
    let mut third = phone("third");
    third.request_document(document);
    sync_until(&mut third, &on(2), PATIENCE, |client| client.document(&document).is_some_and(is_order)).await.unwrap();

    // Each phone comments step by step through its own server, all at once: the first two
    // servers each gather past COMPACT_AFTER chunks of the document and compact it.
    let steps = COMPACT_AFTER + 6;
    let push = |mut client: shared::protocol::client::Client, url: String, name: &'static str, steps: usize| async move {
        let mut acknowledged = Vec::new();
        for step in 0..steps {
            comment(client.document_mut(&document).unwrap(), "dorm", &format!("{name}-{step}"), name);
            client.handle_local_change(&document);
            sync_until(&mut client, &url, PATIENCE, |client| {
                client.status(&document) == Some(shared::protocol::client::SyncStatus::Synced)
            })
            .await
            .unwrap();
            acknowledged.extend(client.document(&document).unwrap().clone().get_heads());
        }
        acknowledged
    };
    // And a writer whose news never reaches the others (a node whose notifications were
    // lost): its chunks are in no server's copy, so only the rule that a compaction removes
    // what its copy is known to hold keeps them.
    let unannounced = async {
        let mut written = Vec::new();
        for step in 0..20 {
            let store = servers[2].state.documents.clone();
            let written_now = tokio::task::spawn_blocking(move || {
                let mut doc = store.load(&document).unwrap().unwrap().with_actor(automerge::ActorId::random());
                let before = doc.get_heads();
                comment(&mut doc, "dorm", &format!("unannounced-{step}"), "never announced");
                store.append(&document, &doc.save_after(&before)).unwrap();
                doc.get_heads()
            })
            .await
            .unwrap();
            written.extend(written_now);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        written
    };
    let (from_first, from_second, from_third, from_elsewhere) = tokio::join!(
        push(first, on(0), "first", steps),
        push(second, on(1), "second", steps),
        push(third, on(2), "third", 20),
        unannounced
    );
    let mut stored = servers[2].state.documents.load(&document).unwrap().unwrap();
    for head in from_first.iter().chain(&from_second).chain(&from_third).chain(&from_elsewhere) {
        assert!(stored.get_change_by_hash(head).is_some(), "a change told as kept is missing from the store");
    }
    let chunks = servers[0].state.documents.chunk_count(&document).unwrap();
    assert!(chunks < 2 * steps + 20, "the document was compacted ({chunks} chunks)");
    let mut fresh = phone("fresh");
    fresh.request_document(document);
    sync_until(&mut fresh, &on(1), PATIENCE, |client| {
        client.document(&document).filter(|doc| is_order(doc)).is_some_and(|doc| {
            let comments = comments(doc);
            (0..steps).all(|step| comments.contains_key(&format!("first-{step}")) && comments.contains_key(&format!("second-{step}")))
                && (0..20)
                    .all(|step| comments.contains_key(&format!("third-{step}")) && comments.contains_key(&format!("unannounced-{step}")))
        })
    })
    .await
    .unwrap();
}

/// A node killed outright (SIGKILL) while phones push through it and through another:
/// every change either node acknowledged is in the database afterwards, and the node left
/// serves what the killed one took.
#[tokio::test]
async fn a_node_killed_mid_load_loses_nothing_it_acknowledged() {
    use crate::server_process::ServerProcess;
    use std::sync::{Arc, Mutex};

    let (_postgres, url, _dist) = cluster("killed").await;
    let (first_data, second_data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let env = [("HOUQIN_DATABASE_URL", url.as_str())];
    let killed = ServerProcess::start_with_env(first_data.path(), &["--demo"], &env);
    let survivor = ServerProcess::start_with_env(second_data.path(), &[], &env);
    let token = {
        let response = crate::support::http_client()
            .post(format!("{}api/login", survivor.url))
            .json(&serde_json::json!({ "username": "inspector", "password": "demo" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "signed in on the second node with the demo data the first seeded");
        response.json::<serde_json::Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
    };
    let sync_url = |base: &str| format!("{}sync?token={token}", base.replacen("http://", "ws://", 1));
    type Acknowledged = Vec<(DocumentId, Vec<automerge::ChangeHash>)>;
    let acknowledged: Arc<Mutex<Acknowledged>> = Arc::default();
    let pusher = |url: String, tag: u8| {
        let acknowledged = acknowledged.clone();
        tokio::spawn(async move {
            let mut client = phone(&format!("pusher-{tag}"));
            for n in 0..u16::MAX {
                let [high, low] = n.to_be_bytes();
                let document = DocumentId::from_random([0x6b, tag, high, low, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
                client.add_document(document, order_by("inspector", "hq", &format!("{tag} {n}")));
                let synced = sync_until(&mut client, &url, Duration::from_secs(5), |client| {
                    client.status(&document) == Some(shared::protocol::client::SyncStatus::Synced)
                })
                .await;
                if synced.is_err() {
                    return n;
                }
                acknowledged.lock().unwrap().push((document, client.document(&document).unwrap().clone().get_heads()));
                if tag == 2 && n >= 60 {
                    return n;
                }
            }
            u16::MAX
        })
    };
    let (through_killed, through_survivor) = (pusher(sync_url(&killed.url), 1), pusher(sync_url(&survivor.url), 2));
    crate::support::wait_for("both nodes to acknowledge orders", PATIENCE, || async {
        let acknowledged = acknowledged.lock().unwrap();
        (acknowledged.iter().filter(|(document, _)| document.as_bytes()[1] == 1).count() >= 20
            && acknowledged.iter().filter(|(document, _)| document.as_bytes()[1] == 2).count() >= 20)
            .then_some(())
    })
    .await;
    tokio::task::spawn_blocking(move || killed.kill_hard()).await.unwrap();
    through_killed.await.unwrap();
    through_survivor.await.unwrap();

    let acknowledged = acknowledged.lock().unwrap().clone();
    let local = tempfile::tempdir().unwrap();
    let storage = tokio::task::spawn_blocking({
        let url = url.clone();
        let local = local.path().to_owned();
        move || Storage::open_postgres(&url, &local).unwrap()
    })
    .await
    .unwrap();
    let documents = server::documents::DocumentStore::open(&storage).unwrap();
    for (document, heads) in &acknowledged {
        let stored = documents.load(document).unwrap().unwrap_or_else(|| panic!("{document} was acknowledged and is gone"));
        assert_eq!(&stored.clone().get_heads(), heads, "{document} as acknowledged");
    }
    // The node left serves what the killed one took.
    let taken_by_killed: Vec<DocumentId> =
        acknowledged.iter().map(|(document, _)| *document).filter(|document| document.as_bytes()[1] == 1).take(5).collect();
    let mut fresh = phone("fresh");
    for document in &taken_by_killed {
        fresh.request_document(*document);
    }
    sync_until(&mut fresh, &sync_url(&survivor.url), PATIENCE, |client| {
        taken_by_killed.iter().all(|document| client.document(document).is_some_and(is_order))
    })
    .await
    .unwrap();
}

/// A photo uploaded through one node, in an order stored through it, is served by the
/// other to those who may see it, and to nobody else.
#[tokio::test]
async fn a_photo_uploaded_through_one_node_is_served_by_another() {
    use sha2::{Digest as _, Sha256};

    let (_postgres, url, dist) = cluster("photos").await;
    let first = TestServer::start_on_postgres(&url, dist.path()).await;
    let second = TestServer::start_on_postgres(&url, dist.path()).await;
    let photo: Vec<u8> = [0xff, 0xd8, 0xff, 0xe0].into_iter().chain((0..40_000u32).map(|index| (index * 13 % 251) as u8)).collect();
    let hash = hex::encode(Sha256::digest(&photo));
    let uploaded = crate::support::http_client()
        .put(first.url(&format!("/blobs/{hash}")))
        .bearer_auth(first.token("inspector"))
        .header("content-type", "image/jpeg")
        .body(photo.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), 201);
    let mut order = order_by("inspector", "hq", "photo on one node");
    let blob = shared::document::BlobRef::new(&hash, photo.len() as u64, "image/jpeg").unwrap();
    shared::document::work_order::WorkOrder::edit_in(&mut order, |order| {
        let edit = shared::document::Edit::new(shared::directory::Username::parse("inspector").unwrap(), tests::native_client::now());
        order.add_comment(&shared::document::EntryId::parse("photo").unwrap(), "", Some(&blob), &edit).unwrap();
    })
    .unwrap();
    let document = DocumentId::from_random(*b"photo-two-nodes!");
    let mut phone = phone("inspector-phone");
    phone.add_document(document, order);
    sync_until(&mut phone, &first.sync_url("inspector"), PATIENCE, |client| {
        client.status(&document) == Some(shared::protocol::client::SyncStatus::Synced)
    })
    .await
    .unwrap();
    let path = format!("/blobs/{hash}");
    let served = crate::support::get(&second, &path, Some(&second.token("manager"))).await;
    assert_eq!(served.status(), 200);
    assert_eq!(served.bytes().await.unwrap().as_ref(), photo.as_slice(), "the other node serves the photo as uploaded");
    assert_eq!(crate::support::get(&second, &path, Some(&second.token("dorm"))).await.status(), 404, "plant2 only: not theirs");
}
