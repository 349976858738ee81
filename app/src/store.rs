//! The phone's own copy of everything, in IndexedDB: Automerge documents as a snapshot
//! plus incremental chunks, files (photos, signatures) by SHA-256, and the session.
//!
//! Object stores (version 2; an upgrade creates whichever are missing):
//! - `chunks`: `[document id, kind, sha256 of the bytes]` → bytes, kind 0 a snapshot and
//!   1 an incremental chunk. One document is one key range; the same chunk written twice
//!   is one record; chunks load in any order (Automerge waits for missing dependencies).
//! - `blobs`: sha256 → `{bytes, mime, uploaded}`.
//! - `session`: `"current"` → the signed-in session as JSON.
//! - `server_heads` (version 2): document id → the heads (hex) the server was last known
//!   to have, so the phone can say what is on it alone before it reconnects.
//!
//! Every write resolves only when its transaction has committed: a change is on the
//! phone before the UI calls it saved. Compaction reads, merges and replaces a document's
//! records inside a single transaction, so no moment exists in which a change is in
//! neither form, and a write racing it is either merged or kept beside it.

use automerge::{AutoCommit, ChangeHash};
use js_sys::{Array, Promise, Uint8Array};
use sha2::{Digest, Sha256};
use shared::protocol::DocumentId;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbKeyRange, IdbOpenDbRequest, IdbRequest, IdbTransaction, IdbTransactionMode};

use crate::error::describe;

const VERSION: u32 = 2;
const CHUNKS: &str = "chunks";
const BLOBS: &str = "blobs";
const SESSION: &str = "session";
const SERVER_HEADS: &str = "server_heads";
const SNAPSHOT: u32 = 0;
const INCREMENTAL: u32 = 1;

/// What went wrong with the local store.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The browser gives no IndexedDB (private mode in some browsers, or disabled).
    #[error("this browser offers no local storage: {0}")]
    Unavailable(String),
    /// A document's stored bytes do not load; other documents are unaffected.
    #[error("document {document} is damaged on this phone: {detail}")]
    Corrupt { document: DocumentId, detail: String },
    /// A read or write failed (quota, a closed database…).
    #[error("the phone's storage failed: {0}")]
    Failed(String),
}

fn failed(error: JsValue) -> StoreError {
    StoreError::Failed(describe(&error))
}

/// How much the phone keeps for this app, and whether the browser may clear it.
#[derive(Clone, Debug, PartialEq)]
pub struct Usage {
    pub used_bytes: f64,
    pub quota_bytes: f64,
    pub persistent: bool,
}

fn storage_manager() -> Result<web_sys::StorageManager, StoreError> {
    Ok(web_sys::window().ok_or_else(|| StoreError::Unavailable("no window".to_owned()))?.navigator().storage())
}

/// Asks the browser to keep this app's data even when space runs low (it may decide by
/// itself, e.g. after installation); says whether it will.
pub async fn ask_persistent() -> Result<bool, StoreError> {
    let granted = JsFuture::from(storage_manager()?.persist().map_err(failed)?).await.map_err(failed)?;
    Ok(granted.as_bool().unwrap_or(false))
}

/// What the browser reports about this app's storage.
pub async fn usage() -> Result<Usage, StoreError> {
    let manager = storage_manager()?;
    let estimate = JsFuture::from(manager.estimate().map_err(failed)?).await.map_err(failed)?;
    let persistent = JsFuture::from(manager.persisted().map_err(failed)?).await.map_err(failed)?;
    Ok(Usage {
        used_bytes: get(&estimate, "usage")?.as_f64().unwrap_or_default(),
        quota_bytes: get(&estimate, "quota")?.as_f64().unwrap_or_default(),
        persistent: persistent.as_bool().unwrap_or(false),
    })
}

/// A file kept on the phone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBlob {
    pub bytes: Vec<u8>,
    pub mime: String,
    /// Whether the server has confirmed it holds the file.
    pub uploaded: bool,
}

/// The open database.
#[derive(Clone)]
pub struct Store {
    db: IdbDatabase,
}

/// The app's database name.
pub const DATABASE: &str = "houqin";

thread_local! {
    static LOCAL: std::cell::RefCell<Option<Store>> = const { std::cell::RefCell::new(None) };
}

/// Deletes everything this phone keeps (sign-out): closes the app's store and deletes
/// its database.
pub async fn wipe_local() -> Result<(), StoreError> {
    if let Some(store) = LOCAL.take() {
        store.close();
    }
    Store::delete(DATABASE).await
}

/// The app's store, opened on first use and kept open.
pub async fn local() -> Result<Store, StoreError> {
    if let Some(store) = LOCAL.with_borrow(Clone::clone) {
        return Ok(store);
    }
    let store = Store::open(DATABASE).await?;
    LOCAL.set(Some(store.clone()));
    Ok(store)
}

impl Store {
    /// Opens (creating or upgrading) the database called `name`.
    pub async fn open(name: &str) -> Result<Store, StoreError> {
        let window = web_sys::window().ok_or_else(|| StoreError::Unavailable("no window".to_owned()))?;
        let factory = window
            .indexed_db()
            .map_err(|error| StoreError::Unavailable(describe(&error)))?
            .ok_or_else(|| StoreError::Unavailable("IndexedDB is disabled".to_owned()))?;
        let request: IdbOpenDbRequest = factory.open_with_u32(name, VERSION).map_err(|error| StoreError::Unavailable(describe(&error)))?;
        let upgrading = request.clone();
        let on_upgrade = Closure::once_into_js(move || {
            let Ok(db) = upgrading.result().and_then(JsCast::dyn_into::<IdbDatabase>) else { return };
            for name in [CHUNKS, BLOBS, SESSION, SERVER_HEADS] {
                if !db.object_store_names().contains(name) {
                    let _ = db.create_object_store(name);
                }
            }
        });
        request.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
        let db = completion(&request).await?;
        Ok(Store { db: db.unchecked_into() })
    }

    /// Deletes the database called `name` and everything in it (waits for other open
    /// connections to close).
    pub async fn delete(name: &str) -> Result<(), StoreError> {
        let window = web_sys::window().ok_or_else(|| StoreError::Unavailable("no window".to_owned()))?;
        let factory = window
            .indexed_db()
            .map_err(|error| StoreError::Unavailable(describe(&error)))?
            .ok_or_else(|| StoreError::Unavailable("IndexedDB is disabled".to_owned()))?;
        let request = factory.delete_database(name).map_err(failed)?;
        completion(&request).await.map(drop)
    }

    /// Closes the connection (a reload does the same).
    pub fn close(&self) {
        self.db.close();
    }

    fn transaction(&self, stores: &[&str], mode: IdbTransactionMode) -> Result<IdbTransaction, StoreError> {
        let names: Array = stores.iter().map(|name| JsValue::from_str(name)).collect();
        self.db.transaction_with_str_sequence_and_mode(&names, mode).map_err(failed)
    }

    /// Keeps an incremental chunk (`AutoCommit::save_incremental`) of the document; resolves
    /// once it is committed.
    pub async fn append(&self, document: &DocumentId, chunk: &[u8]) -> Result<(), StoreError> {
        // An edit that changed nothing (Automerge makes no change for a value set to what
        // it already is) leaves nothing to keep.
        if chunk.is_empty() {
            return Ok(());
        }
        let transaction = self.transaction(&[CHUNKS], IdbTransactionMode::Readwrite)?;
        let chunks = transaction.object_store(CHUNKS).map_err(failed)?;
        chunks.put_with_key(&Uint8Array::from(chunk), &chunk_key(document, INCREMENTAL, chunk)).map_err(failed)?;
        committed(&transaction).await
    }

    /// The document as stored, `None` if nothing of it is.
    pub async fn load(&self, document: &DocumentId) -> Result<Option<AutoCommit>, StoreError> {
        let transaction = self.transaction(&[CHUNKS], IdbTransactionMode::Readonly)?;
        let chunks = transaction.object_store(CHUNKS).map_err(failed)?;
        let values = completion(&chunks.get_all_with_key(&document_range(document)?).map_err(failed)?).await?;
        let values: Array = values.unchecked_into();
        if values.length() == 0 {
            return Ok(None);
        }
        // Keys sort snapshots (kind 0) before chunks (kind 1), and getAll keeps key order.
        let mut doc = AutoCommit::new();
        for value in values.iter() {
            let bytes = value
                .dyn_into::<Uint8Array>()
                .map_err(|_| StoreError::Corrupt { document: *document, detail: "a record is not bytes".to_owned() })?
                .to_vec();
            // Automerge's incremental load skips what it cannot read; a phone's copy must
            // not lose changes silently, so each record is checked whole first.
            check_chunks(&bytes).map_err(|detail| StoreError::Corrupt { document: *document, detail })?;
            doc.load_incremental(&bytes).map_err(|error| StoreError::Corrupt { document: *document, detail: error.to_string() })?;
        }
        shared::protocol::forget_patches(&mut doc);
        Ok(Some(doc))
    }

    /// Replaces every stored record of the document with one snapshot of all of them,
    /// read, merged and rewritten inside one transaction: whatever another write stored
    /// before it is in the snapshot, whatever comes after stays beside it, so compaction
    /// never drops a change. A damaged record stops it and leaves everything as it was.
    pub async fn compact(&self, document: &DocumentId) -> Result<(), StoreError> {
        let transaction = self.transaction(&[CHUNKS], IdbTransactionMode::Readwrite)?;
        let chunks = transaction.object_store(CHUNKS).map_err(failed)?;
        let range = document_range(document)?;
        let keys: Array = completion(&chunks.get_all_keys_with_key(&range).map_err(failed)?).await?.unchecked_into();
        let values: Array = completion(&chunks.get_all_with_key(&range).map_err(failed)?).await?.unchecked_into();
        if keys.length() <= 1 {
            return committed(&transaction).await;
        }
        let mut doc = AutoCommit::new();
        for value in values.iter() {
            let merged = value.dyn_into::<Uint8Array>().ok().map(|bytes| {
                let bytes = bytes.to_vec();
                check_chunks(&bytes)?;
                doc.load_incremental(&bytes).map_err(|error| error.to_string())
            });
            if !matches!(merged, Some(Ok(_))) {
                transaction.abort().map_err(failed)?;
                return Err(StoreError::Corrupt { document: *document, detail: "a record does not load; not compacted".to_owned() });
            }
        }
        let snapshot = doc.save();
        // Requests of a transaction run in order: the snapshot is written after the deletes,
        // even when its key is among them.
        for key in keys.iter() {
            chunks.delete(&key).map_err(failed)?;
        }
        chunks.put_with_key(&Uint8Array::from(snapshot.as_slice()), &chunk_key(document, SNAPSHOT, &snapshot)).map_err(failed)?;
        committed(&transaction).await
    }

    /// How many records (snapshots and chunks) the document has.
    pub async fn chunk_count(&self, document: &DocumentId) -> Result<u32, StoreError> {
        let transaction = self.transaction(&[CHUNKS], IdbTransactionMode::Readonly)?;
        let chunks = transaction.object_store(CHUNKS).map_err(failed)?;
        let count = completion(&chunks.count_with_key(&document_range(document)?).map_err(failed)?).await?;
        Ok(count.as_f64().unwrap_or_default() as u32)
    }

    /// Every document with something stored.
    pub async fn documents(&self) -> Result<Vec<DocumentId>, StoreError> {
        let transaction = self.transaction(&[CHUNKS], IdbTransactionMode::Readonly)?;
        let chunks = transaction.object_store(CHUNKS).map_err(failed)?;
        let keys: Array = completion(&chunks.get_all_keys().map_err(failed)?).await?.unchecked_into();
        let mut documents: Vec<DocumentId> = keys
            .iter()
            .filter_map(|key| key.dyn_into::<Array>().ok()?.get(0).as_string())
            .filter_map(|id| DocumentId::parse(&id).ok())
            .collect();
        documents.dedup();
        Ok(documents)
    }

    /// Remembers the heads the server confirmed for a document.
    pub async fn save_server_heads(&self, document: &DocumentId, heads: &[ChangeHash]) -> Result<(), StoreError> {
        let transaction = self.transaction(&[SERVER_HEADS], IdbTransactionMode::Readwrite)?;
        let store = transaction.object_store(SERVER_HEADS).map_err(failed)?;
        let value: Array = heads.iter().map(|hash| JsValue::from_str(&hash.to_string())).collect();
        store.put_with_key(&value, &JsValue::from_str(&document.to_string())).map_err(failed)?;
        committed(&transaction).await
    }

    /// The heads the server last confirmed for a document; empty if none.
    pub async fn server_heads(&self, document: &DocumentId) -> Result<Vec<ChangeHash>, StoreError> {
        let transaction = self.transaction(&[SERVER_HEADS], IdbTransactionMode::Readonly)?;
        let store = transaction.object_store(SERVER_HEADS).map_err(failed)?;
        let value = completion(&store.get(&JsValue::from_str(&document.to_string())).map_err(failed)?).await?;
        let Ok(hashes) = value.dyn_into::<Array>() else { return Ok(Vec::new()) };
        Ok(hashes.iter().filter_map(|hash| hash.as_string()?.parse().ok()).collect())
    }

    /// Keeps a file under its SHA-256 (computed here), not yet uploaded; returns the hash.
    pub async fn put_blob(&self, bytes: &[u8], mime: &str) -> Result<String, StoreError> {
        let sha256 = hex::encode(Sha256::digest(bytes));
        let record = js_sys::Object::new();
        set(&record, "bytes", &Uint8Array::from(bytes))?;
        set(&record, "mime", &JsValue::from_str(mime))?;
        set(&record, "uploaded", &JsValue::FALSE)?;
        let transaction = self.transaction(&[BLOBS], IdbTransactionMode::Readwrite)?;
        let blobs = transaction.object_store(BLOBS).map_err(failed)?;
        // A file already kept (perhaps already uploaded) stays as it is.
        let existing = completion(&blobs.get(&JsValue::from_str(&sha256)).map_err(failed)?).await?;
        if existing.is_undefined() {
            blobs.put_with_key(&record, &JsValue::from_str(&sha256)).map_err(failed)?;
        }
        committed(&transaction).await?;
        Ok(sha256)
    }

    pub async fn blob(&self, sha256: &str) -> Result<Option<StoredBlob>, StoreError> {
        let transaction = self.transaction(&[BLOBS], IdbTransactionMode::Readonly)?;
        let blobs = transaction.object_store(BLOBS).map_err(failed)?;
        let record = completion(&blobs.get(&JsValue::from_str(sha256)).map_err(failed)?).await?;
        if record.is_undefined() {
            return Ok(None);
        }
        let bytes = get(&record, "bytes")?
            .dyn_into::<Uint8Array>()
            .map_err(|_| StoreError::Failed(format!("file {sha256} is not bytes")))?
            .to_vec();
        let mime = get(&record, "mime")?.as_string().unwrap_or_default();
        let uploaded = get(&record, "uploaded")?.as_bool().unwrap_or(false);
        Ok(Some(StoredBlob { bytes, mime, uploaded }))
    }

    /// Records that the server holds the file.
    pub async fn mark_uploaded(&self, sha256: &str) -> Result<(), StoreError> {
        let transaction = self.transaction(&[BLOBS], IdbTransactionMode::Readwrite)?;
        let blobs = transaction.object_store(BLOBS).map_err(failed)?;
        let record = completion(&blobs.get(&JsValue::from_str(sha256)).map_err(failed)?).await?;
        if !record.is_undefined() {
            set(&record, "uploaded", &JsValue::TRUE)?;
            blobs.put_with_key(&record, &JsValue::from_str(sha256)).map_err(failed)?;
        }
        committed(&transaction).await
    }

    /// Hashes of files the server has not confirmed yet.
    pub async fn pending_uploads(&self) -> Result<Vec<String>, StoreError> {
        let transaction = self.transaction(&[BLOBS], IdbTransactionMode::Readonly)?;
        let blobs = transaction.object_store(BLOBS).map_err(failed)?;
        let keys: Array = completion(&blobs.get_all_keys().map_err(failed)?).await?.unchecked_into();
        let values: Array = completion(&blobs.get_all().map_err(failed)?).await?.unchecked_into();
        let mut pending = Vec::new();
        for (key, value) in keys.iter().zip(values.iter()) {
            if !get(&value, "uploaded")?.as_bool().unwrap_or(false)
                && let Some(key) = key.as_string()
            {
                pending.push(key);
            }
        }
        Ok(pending)
    }

    /// Keeps the session (JSON) so the app opens signed in, offline.
    pub async fn save_session(&self, json: &str) -> Result<(), StoreError> {
        let transaction = self.transaction(&[SESSION], IdbTransactionMode::Readwrite)?;
        let session = transaction.object_store(SESSION).map_err(failed)?;
        session.put_with_key(&JsValue::from_str(json), &JsValue::from_str("current")).map_err(failed)?;
        committed(&transaction).await
    }

    pub async fn session(&self) -> Result<Option<String>, StoreError> {
        let transaction = self.transaction(&[SESSION], IdbTransactionMode::Readonly)?;
        let session = transaction.object_store(SESSION).map_err(failed)?;
        Ok(completion(&session.get(&JsValue::from_str("current")).map_err(failed)?).await?.as_string())
    }

    pub async fn clear_session(&self) -> Result<(), StoreError> {
        let transaction = self.transaction(&[SESSION], IdbTransactionMode::Readwrite)?;
        let session = transaction.object_store(SESSION).map_err(failed)?;
        session.delete(&JsValue::from_str("current")).map_err(failed)?;
        committed(&transaction).await
    }
}

/// Checks that `bytes` is a sequence of whole, intact Automerge chunks (a saved document,
/// changes, or both): each starts with the magic bytes, fits its declared length, and
/// decodes with a matching checksum.
fn check_chunks(mut bytes: &[u8]) -> Result<(), String> {
    const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
    if bytes.is_empty() {
        return Err("an empty record".to_owned());
    }
    while !bytes.is_empty() {
        if bytes.len() < 9 || bytes[..4] != MAGIC {
            return Err("a record is not Automerge data".to_owned());
        }
        let chunk_type = bytes[8];
        // The length is unsigned LEB128 after the magic, checksum and type.
        let (mut length, mut shift, mut at) = (0u64, 0u32, 9usize);
        loop {
            let byte = *bytes.get(at).ok_or("a record ends inside a chunk header")?;
            length |= u64::from(byte & 0x7f).checked_shl(shift).ok_or("a chunk length is too large")?;
            at += 1;
            shift += 7;
            if byte & 0x80 == 0 {
                break;
            }
        }
        let end = at
            .checked_add(usize::try_from(length).map_err(|_| "a chunk length is too large")?)
            .filter(|end| *end <= bytes.len())
            .ok_or("a record is cut short")?;
        let chunk = &bytes[..end];
        match chunk_type {
            0 => {
                let options = automerge::LoadOptions::new().on_partial_load(automerge::OnPartialLoad::Error);
                automerge::Automerge::load_with_options(chunk, options)
                    .map_err(|error| format!("a saved document does not load: {error}"))?;
            }
            1 | 2 => {
                automerge::Change::try_from(chunk).map_err(|error| format!("a change does not decode: {error}"))?;
            }
            other => return Err(format!("unknown chunk type {other}")),
        }
        bytes = &bytes[end..];
    }
    Ok(())
}

fn chunk_key(document: &DocumentId, kind: u32, bytes: &[u8]) -> JsValue {
    let key = Array::new();
    key.push(&JsValue::from_str(&document.to_string()));
    key.push(&JsValue::from(kind));
    key.push(&JsValue::from_str(&hex::encode(Sha256::digest(bytes))));
    key.into()
}

/// Every key of one document: `[id]` sorts before `[id, …]`, and an array sorts after
/// every number and string, so `[id, []]` is above all of them.
fn document_range(document: &DocumentId) -> Result<JsValue, StoreError> {
    let id = JsValue::from_str(&document.to_string());
    let lower = Array::of1(&id);
    let upper = Array::of2(&id, &Array::new());
    IdbKeyRange::bound(&lower, &upper).map(JsValue::from).map_err(failed)
}

fn set(object: &JsValue, key: &str, value: &JsValue) -> Result<(), StoreError> {
    js_sys::Reflect::set(object, &JsValue::from_str(key), value).map(drop).map_err(failed)
}

fn get(object: &JsValue, key: &str) -> Result<JsValue, StoreError> {
    js_sys::Reflect::get(object, &JsValue::from_str(key)).map_err(failed)
}

/// The result of a request, once it succeeds.
async fn completion(request: &IdbRequest) -> Result<JsValue, StoreError> {
    let promise = Promise::new(&mut |resolve, reject| {
        let succeeded = request.clone();
        let on_success = Closure::once_into_js(move || {
            let _ = resolve.call1(&JsValue::NULL, &succeeded.result().unwrap_or(JsValue::UNDEFINED));
        });
        let errored = request.clone();
        let on_error = Closure::once_into_js(move || {
            let error = errored.error().ok().flatten().map(JsValue::from).unwrap_or_else(|| JsValue::from_str("the request failed"));
            let _ = reject.call1(&JsValue::NULL, &error);
        });
        request.set_onsuccess(Some(on_success.unchecked_ref()));
        request.set_onerror(Some(on_error.unchecked_ref()));
    });
    JsFuture::from(promise).await.map_err(failed)
}

/// Resolves when the transaction has committed; fails if it aborts.
async fn committed(transaction: &IdbTransaction) -> Result<(), StoreError> {
    let promise = Promise::new(&mut |resolve, reject| {
        let on_complete = Closure::once_into_js(move || {
            let _ = resolve.call0(&JsValue::NULL);
        });
        let aborted = transaction.clone();
        let on_abort = Closure::once_into_js(move || {
            let error = aborted.error().map(JsValue::from).unwrap_or_else(|| JsValue::from_str("the transaction was aborted"));
            let _ = reject.call1(&JsValue::NULL, &error);
        });
        transaction.set_oncomplete(Some(on_complete.unchecked_ref()));
        transaction.set_onabort(Some(on_abort.unchecked_ref()));
    });
    JsFuture::from(promise).await.map(drop).map_err(failed)
}
