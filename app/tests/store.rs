//! The IndexedDB store in a real browser: what is written survives closing and reopening
//! (a reload), compaction keeps every change, a damaged record is a clear error for its
//! document only, and files and the session round-trip.

use app::store::{Store, StoreError};
use automerge::transaction::Transactable as _;
use automerge::{AutoCommit, ROOT, ReadDoc as _};
use shared::protocol::DocumentId;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// A database of its own per test, so tests running in one page do not meet.
async fn store(test: &str) -> Store {
    Store::open(&format!("houqin-test-{test}")).await.unwrap()
}

/// The same, emptied first.
async fn fresh_store(test: &str) -> Store {
    Store::delete(&format!("houqin-test-{test}")).await.unwrap();
    store(test).await
}

/// Runs two futures at once and returns both outputs.
async fn futures_join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (Box::pin(a), Box::pin(b));
    let (mut left, mut right) = (None, None);
    std::future::poll_fn(|context| {
        if left.is_none()
            && let std::task::Poll::Ready(value) = a.as_mut().poll(context)
        {
            left = Some(value);
        }
        if right.is_none()
            && let std::task::Poll::Ready(value) = b.as_mut().poll(context)
        {
            right = Some(value);
        }
        if left.is_some() && right.is_some() { std::task::Poll::Ready(()) } else { std::task::Poll::Pending }
    })
    .await;
    (left.unwrap(), right.unwrap())
}

/// Changes the document and stores just the new change, as the app does on every edit.
async fn edit(store: &Store, document: &DocumentId, doc: &mut AutoCommit, key: &str, value: &str) {
    doc.put(ROOT, key, value).unwrap();
    doc.commit();
    let chunk = doc.save_incremental();
    store.append(document, &chunk).await.unwrap();
}

fn text(doc: &AutoCommit, key: &str) -> Option<String> {
    doc.get(ROOT, key).unwrap().and_then(|(value, _)| value.into_scalar().ok()?.into_string().ok())
}

#[wasm_bindgen_test]
async fn changes_survive_a_reopen_and_compaction_keeps_them_all() {
    let store = fresh_store("reopen").await;
    let document = DocumentId::from_random([1; 16]);
    let mut doc = AutoCommit::new();
    for step in 0..5 {
        edit(&store, &document, &mut doc, &format!("answer-{step}"), "pass").await;
    }
    assert_eq!(store.chunk_count(&document).await.unwrap(), 5);
    // An edit that changed nothing stores nothing (and nothing unreadable).
    store.append(&document, &doc.save_incremental()).await.unwrap();
    assert_eq!(store.chunk_count(&document).await.unwrap(), 5);
    store.close();

    let reopened = self::store("reopen").await;
    let mut loaded = reopened.load(&document).await.unwrap().expect("stored");
    assert_eq!(loaded.get_heads(), doc.get_heads());
    assert_eq!(reopened.documents().await.unwrap(), [document]);

    // A change written while compaction starts is merged or kept, never lost.
    let mut racing = loaded.fork();
    racing.put(ROOT, "racing", "kept").unwrap();
    racing.commit();
    let (compacted, appended) =
        futures_join(reopened.compact(&document), reopened.append(&document, &racing.save_after(&loaded.get_heads()))).await;
    compacted.unwrap();
    appended.unwrap();
    assert!(reopened.chunk_count(&document).await.unwrap() <= 2, "one snapshot, and the racing chunk if it came after");
    reopened.compact(&document).await.unwrap();
    assert_eq!(reopened.chunk_count(&document).await.unwrap(), 1, "one snapshot");
    let mut loaded = reopened.load(&document).await.unwrap().unwrap();
    assert_eq!(text(&loaded, "racing").as_deref(), Some("kept"));
    edit(&reopened, &document, &mut loaded, "note", "after compaction").await;
    let mut again = reopened.load(&document).await.unwrap().unwrap();
    assert_eq!(again.get_heads(), loaded.get_heads());
    assert_eq!(text(&again, "answer-4").as_deref(), Some("pass"));
    assert_eq!(text(&again, "note").as_deref(), Some("after compaction"));
    assert_eq!(reopened.load(&DocumentId::from_random([2; 16])).await.unwrap().map(|_| ()), None);
}

#[wasm_bindgen_test]
async fn a_damaged_record_names_its_document_and_spares_the_rest() {
    let store = fresh_store("damaged").await;
    let (damaged, healthy) = (DocumentId::from_random([3; 16]), DocumentId::from_random([4; 16]));
    let mut doc = AutoCommit::new();
    edit(&store, &damaged, &mut doc, "title", "漏水").await;
    store.append(&damaged, b"not an automerge chunk").await.unwrap();
    let mut other = AutoCommit::new();
    edit(&store, &healthy, &mut other, "title", "门禁").await;

    match store.load(&damaged).await {
        Err(StoreError::Corrupt { document, .. }) => assert_eq!(document, damaged),
        Err(other) => panic!("expected a corrupt document, got {other}"),
        Ok(_) => panic!("a damaged record must not load silently"),
    }
    assert!(matches!(store.compact(&damaged).await, Err(StoreError::Corrupt { .. })), "not compacted");
    assert_eq!(store.chunk_count(&damaged).await.unwrap(), 2, "a refused compaction changes nothing");
    let error = store.load(&damaged).await.unwrap_err().to_string();
    assert!(error.starts_with(&format!("document {damaged} is damaged on this phone")), "{error}");
    let loaded = store.load(&healthy).await.unwrap().unwrap();
    assert_eq!(text(&loaded, "title").as_deref(), Some("门禁"));

    // Whatever the order of the records, and with nothing else stored: Automerge alone
    // would load what it can and skip the rest, the store says so.
    let only_garbage = DocumentId::from_random([5; 16]);
    store.append(&only_garbage, b"not an automerge chunk").await.unwrap();
    assert!(matches!(store.load(&only_garbage).await, Err(StoreError::Corrupt { .. })));
    let cut_short = DocumentId::from_random([6; 16]);
    let mut whole = AutoCommit::new();
    whole.put(ROOT, "title", "配电房").unwrap();
    whole.commit();
    let saved = whole.save();
    store.append(&cut_short, &saved[..saved.len() - 5]).await.unwrap();
    assert!(matches!(store.load(&cut_short).await, Err(StoreError::Corrupt { .. })), "a record cut short");
}

#[wasm_bindgen_test]
async fn files_and_the_session_round_trip() {
    let store = fresh_store("files").await;
    let photo = vec![0xffu8, 0xd8, 0xff, 0xe0, 1, 2, 3];
    let sha256 = store.put_blob(&photo, "image/jpeg").await.unwrap();
    assert_eq!(sha256.len(), 64);
    assert_eq!(store.pending_uploads().await.unwrap(), std::slice::from_ref(&sha256));
    store.mark_uploaded(&sha256).await.unwrap();
    assert!(store.pending_uploads().await.unwrap().is_empty());
    assert_eq!(store.put_blob(&photo, "image/jpeg").await.unwrap(), sha256, "the same file again");
    let kept = store.blob(&sha256).await.unwrap().unwrap();
    assert_eq!((kept.bytes, kept.mime.as_str(), kept.uploaded), (photo, "image/jpeg", true), "still marked uploaded");
    assert_eq!(store.blob(&"00".repeat(32)).await.unwrap(), None);

    assert_eq!(store.session().await.unwrap(), None);
    store.save_session(r#"{"token":"t","user":"inspector"}"#).await.unwrap();
    store.close();
    let reopened = self::store("files").await;
    assert_eq!(reopened.session().await.unwrap().as_deref(), Some(r#"{"token":"t","user":"inspector"}"#));
    reopened.clear_session().await.unwrap();
    assert_eq!(reopened.session().await.unwrap(), None);
}
