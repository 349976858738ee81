//! Projections: a summary of every work order, inspection and stocktake, per site, kept in
//! sled so that a dashboard over tens of thousands of documents reads summaries instead of
//! opening documents. What a summary holds, and the measures computed from them, are
//! `shared`'s (`shared::projection`, `shared::kpi`).
//!
//! Trees: `projections` (`[site]\0[document id: 16]` → the projection as JSON) and
//! `projection_dirty` (document id → a mark). The sync hub marks a document dirty when it
//! stores a change (a sled insert, and a copy of the document it has in memory); a worker
//! on the blocking pool projects each dirty document — from that copy when it is the
//! marked version, else loaded from storage — and clears its mark only if no newer mark
//! replaced it meanwhile. Marks are durable with the changes they follow, so a crash
//! leaves them to be projected at the next start. The whole tree is rebuilt from storage
//! when the stored schema differs from this build's (or was never written), and on demand
//! (`houqin-server projections rebuild`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context;
use automerge::AutoCommit;
use shared::directory::SiteId;
use shared::document::{DocumentType, read_header};
use shared::projection::{Projection, project};
use shared::protocol::DocumentId;
use tokio::sync::Notify;

use crate::Storage;
use crate::documents::{ChunkKey, DocumentStore};
use crate::kv;
use crate::notify::Outbox;
use crate::storage::{RemovalGate, trees};

/// Bumped whenever a projection's shape or meaning changes: a server finding another
/// number stored rebuilds every projection.
pub const SCHEMA: u64 = 4;
const SCHEMA_KEY: &str = "projections_schema";
/// How long the worker gathers marks before projecting them, so that a document changed
/// many times in a burst is projected once.
const GATHER: Duration = Duration::from_millis(100);
/// Copies the hub may leave for the worker at once; past this (a worker falling behind a
/// burst), marked documents are loaded from storage instead, so memory stays bounded.
const MAX_HANDED_OVER: usize = 2_000;
/// Marked documents projected between two writes of projections and marks.
const PASS: usize = 64;

/// A copy of a document the hub handed over with a mark, and the keys of the stored
/// chunks it holds.
struct HandedOver {
    mark: Mark,
    doc: AutoCommit,
    holds: Vec<ChunkKey>,
}

/// A document's mark: which process made it, and its count there. Unique, so clearing a
/// mark (compare-and-swap) never clears another's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Mark {
    marker: u64,
    count: u64,
}

impl Mark {
    fn bytes(self) -> [u8; 16] {
        let mut bytes = [0; 16];
        bytes[..8].copy_from_slice(&self.marker.to_be_bytes());
        bytes[8..].copy_from_slice(&self.count.to_be_bytes());
        bytes
    }
}

/// The projections and their worker's inbox; cheap to clone.
#[derive(Clone)]
pub struct Projections {
    tree: kv::Tree,
    dirty: kv::Tree,
    meta: kv::Tree,
    documents: DocumentStore,
    /// Where the notices of changed documents go (derived here, after the change is
    /// stored and before its mark is cleared).
    outbox: Outbox,
    removals: RemovalGate,
    wake: Arc<Notify>,
    marks: Arc<AtomicU64>,
    /// What makes this process's marks unlike any other's (servers sharing a database
    /// mark the same documents): the server's node name.
    marker: u64,
    /// Whether servers share the database: a copy the hub hands over then stands for the
    /// stored document only if the store holds no chunk the copy does not (another
    /// server may have stored a change this one has not heard of yet).
    shared: bool,
    /// The document as the hub had it when it made a mark, with the keys of the stored
    /// chunks it holds, by document: loading it from storage again took a third of the
    /// server's CPU while phones pushed.
    handed_over: Arc<Mutex<HashMap<DocumentId, HandedOver>>>,
    /// Set when the server shuts down; the worker then finishes what it is doing and ends
    /// (marks left are durable: the next start projects them).
    stopping: Arc<AtomicBool>,
    worker: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

fn key(site: &str, document: &DocumentId) -> Vec<u8> {
    let mut key = Vec::with_capacity(site.len() + 17);
    key.extend_from_slice(site.as_bytes());
    key.push(0);
    key.extend_from_slice(document.as_bytes());
    key
}

fn site_prefix(site: &SiteId) -> Vec<u8> {
    let mut prefix = site.as_str().as_bytes().to_vec();
    prefix.push(0);
    prefix
}

/// What a rebuild did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rebuilt {
    pub documents: usize,
    pub projected: usize,
    pub unreadable: usize,
}

impl Projections {
    /// The outbox the worker adds notices to.
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    pub fn open(storage: &Storage) -> anyhow::Result<Projections> {
        Ok(Projections {
            tree: storage.tree(trees::PROJECTIONS)?,
            dirty: storage.tree(trees::PROJECTION_DIRTY)?,
            meta: storage.tree(trees::META)?,
            documents: DocumentStore::open(storage)?,
            outbox: Outbox::open(storage)?,
            removals: storage.removal_gate(),
            wake: Arc::new(Notify::new()),
            marks: Arc::new(AtomicU64::new(0)),
            marker: u64::from_be_bytes(storage.node()),
            shared: storage.is_shared(),
            handed_over: Arc::new(Mutex::new(HashMap::new())),
            stopping: Arc::new(AtomicBool::new(false)),
            worker: Arc::new(Mutex::new(None)),
        })
    }

    /// Whether a document of this type is projected.
    pub fn projects(document_type: DocumentType) -> bool {
        matches!(document_type, DocumentType::WorkOrder | DocumentType::Inspection | DocumentType::Stocktake | DocumentType::FoodSamples)
    }

    /// Marks a document as changed, with the flush that makes the change durable (see
    /// [`kv::Tree::insert_deferred`]); the worker projects it soon after. `current` is the
    /// document as stored with this change, if the caller has it in memory, with the keys
    /// of the stored chunks it holds: the worker then projects a copy of it rather than
    /// loading it. Cheap: one insert, one copy.
    pub fn mark(&self, document: &DocumentId, current: Option<(&AutoCommit, &[ChunkKey])>) -> anyhow::Result<()> {
        let mark = Mark { marker: self.marker, count: self.marks.fetch_add(1, Ordering::Relaxed) };
        self.dirty.insert_deferred(document.as_bytes(), mark.bytes()).context("cannot mark a document for projection")?;
        let mut handed_over = self.handed_over.lock().unwrap_or_else(PoisonError::into_inner);
        match current {
            Some((doc, holds)) if handed_over.len() < MAX_HANDED_OVER || handed_over.contains_key(document) => {
                handed_over.insert(*document, HandedOver { mark, doc: doc.clone(), holds: holds.to_vec() });
            }
            // An older copy must not stand for this mark.
            _ => drop(handed_over.remove(document)),
        }
        drop(handed_over);
        // A deferred mark is seen once flushed ([`Projections::flushed`]).
        if !self.dirty.defers() {
            self.wake.notify_one();
        }
        Ok(())
    }

    /// A flush that covered a change the hub marked is done: the worker looks (woken
    /// many times while it gathers, it looks once).
    pub fn flushed(&self) {
        if self.dirty.defers() {
            self.wake.notify_one();
        }
    }

    /// Projects one document — the copy handed over with `mark`, or else as stored — and
    /// stores (or, if it is not projected, skips) the result; returns the document if it
    /// was projected. Blocking.
    fn project_stored(&self, document: &DocumentId, mark: Option<&[u8]>) -> anyhow::Result<Option<AutoCommit>> {
        let Some((doc, key, projection)) = self.project_one(document, mark)? else { return Ok(None) };
        self.tree.insert(key, projection).context("cannot store a projection")?;
        Ok(Some(doc))
    }

    /// [`Projections::project_stored`] without storing: the document, and its projection's
    /// key and value.
    #[allow(clippy::type_complexity)]
    fn project_one(&self, document: &DocumentId, mark: Option<&[u8]>) -> anyhow::Result<Option<(AutoCommit, Vec<u8>, Vec<u8>)>> {
        let handed_over = self.handed_over.lock().unwrap_or_else(PoisonError::into_inner).remove(document);
        let current = match handed_over.filter(|copy| mark == Some(copy.mark.bytes().as_slice())) {
            // A shared store is asked which chunks it holds (their keys, not the chunks):
            // listing is cheap, loading a document is not.
            Some(copy) if self.shared => {
                let stored = self.documents.stored_keys(document)?;
                stored.iter().all(|key| copy.holds.contains(key)).then_some(copy.doc)
            }
            copy => copy.map(|copy| copy.doc),
        };
        let mut doc = match current {
            Some(doc) => doc,
            None => match self.documents.load(document)? {
                Some(doc) => doc,
                None => return Ok(None),
            },
        };
        let Some(projection) = project(&document.to_string(), &mut doc)? else { return Ok(None) };
        Ok(Some((doc, key(&projection.site, document), serde_json::to_vec(&projection)?)))
    }

    /// Projects every marked document and adds its notices to the outbox, clearing each
    /// mark that was not renewed meanwhile. A mark stays where the outbox could not be
    /// written, so the next pass derives again. Blocking. Returns how many were projected.
    /// [`PASS`] documents at a time, their projections stored in one batch and their marks
    /// cleared at once, after their notices are derived.
    pub fn project_dirty(&self) -> anyhow::Result<usize> {
        let mut projected = 0;
        let mut marks = self.dirty.iter();
        loop {
            let mut batch = kv::Batch::default();
            let mut cleared = Vec::new();
            let mut read = 0;
            for entry in marks.by_ref().take(PASS) {
                read += 1;
                let (id, mark) = entry.context("cannot read a projection mark")?;
                let Ok(bytes) = <[u8; 16]>::try_from(id.as_ref()) else { continue };
                let document = DocumentId::from_bytes(bytes);
                match self.project_one(&document, Some(&mark)) {
                    Ok(Some((doc, key, projection))) => {
                        projected += 1;
                        batch.insert(key, projection);
                        if let Err(error) = self.outbox.derive(&document, &doc, crate::auth::now()) {
                            tracing::error!(%document, error = format!("{error:#}"), "cannot add to the outbox");
                            continue;
                        }
                    }
                    Ok(None) => {}
                    // Kept in storage, left as it was: the measures skip it until it reads.
                    Err(error) => tracing::warn!(%document, error = format!("{error:#}"), "cannot project a document"),
                }
                cleared.push((id.to_vec(), mark.to_vec()));
            }
            if read == 0 {
                return Ok(projected);
            }
            if !batch.is_empty() {
                self.tree.apply_batch(batch).context("cannot store projections")?;
            }
            if !cleared.is_empty() {
                let _permit = self.removals.permit();
                self.dirty.remove_each_unchanged(&cleared).context("cannot clear projection marks")?;
            }
        }
    }

    /// Projects every stored document again and records this build's schema. Blocking.
    pub fn rebuild(&self) -> anyhow::Result<Rebuilt> {
        let mut rebuilt = Rebuilt::default();
        for document in self.documents.ids()? {
            rebuilt.documents += 1;
            match self.project_stored(&document, None) {
                Ok(Some(_)) => rebuilt.projected += 1,
                Ok(None) => {}
                Err(error) => {
                    rebuilt.unreadable += 1;
                    tracing::warn!(%document, error = format!("{error:#}"), "cannot project a document");
                }
            }
        }
        self.meta.insert(SCHEMA_KEY, SCHEMA.to_be_bytes()).context("cannot record the projection schema")?;
        Ok(rebuilt)
    }

    /// Whether the stored projections were made by this build's schema.
    fn is_current(&self) -> anyhow::Result<bool> {
        Ok(self.meta.get(SCHEMA_KEY)?.is_some_and(|stored| stored.as_ref() == SCHEMA.to_be_bytes()))
    }

    /// A site's projections, in no particular order.
    pub fn site(&self, site: &SiteId) -> anyhow::Result<Vec<Projection>> {
        self.tree
            .scan_prefix(site_prefix(site))
            .values()
            .map(|value| serde_json::from_slice(&value.context("cannot read a projection")?).context("a stored projection is unreadable"))
            .collect()
    }

    /// Starts the worker: first a rebuild if the stored projections are of another schema
    /// (or none were ever made), and whatever was marked before the last stop; then every
    /// mark as it comes.
    pub fn start(&self) {
        let projections = self.clone();
        let worker = tokio::spawn(async move {
            let first = projections.clone();
            let started = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
                if !first.is_current()? {
                    let rebuilt = first.rebuild()?;
                    tracing::info!(
                        documents = rebuilt.documents,
                        projected = rebuilt.projected,
                        unreadable = rebuilt.unreadable,
                        "rebuilt the projections"
                    );
                }
                first.project_dirty()?;
                Ok(())
            })
            .await;
            report(started);
            loop {
                projections.wake.notified().await;
                if projections.stopping.load(Ordering::Relaxed) {
                    return;
                }
                tokio::time::sleep(GATHER).await;
                let worker = projections.clone();
                report(tokio::task::spawn_blocking(move || worker.project_dirty().map(drop)).await);
            }
        });
        *self.worker.lock().unwrap_or_else(PoisonError::into_inner) = Some(worker);
    }

    /// Ends the worker (after the batch in progress, if any), so that nothing holds the
    /// database once the server has stopped.
    pub async fn stop(&self) {
        self.stopping.store(true, Ordering::Relaxed);
        self.wake.notify_one();
        let worker = self.worker.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(worker) = worker {
            let _ = worker.await;
        }
    }
}

fn report(outcome: Result<anyhow::Result<()>, tokio::task::JoinError>) {
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::error!(error = format!("{error:#}"), "projections fell behind"),
        Err(error) => tracing::error!(%error, "the projection task failed"),
    }
}

/// Whether a document the hub holds is one whose changes are projected.
pub fn is_projected(doc: &AutoCommit) -> bool {
    read_header(doc).is_ok_and(|header| Projections::projects(header.document_type))
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;
    use shared::directory::Username;
    use shared::document::Edit;
    use shared::document::work_order::{NewWorkOrder, Priority, WorkOrder};
    use shared::time::Timestamp;

    use super::*;

    fn order(title: &str) -> WorkOrder {
        let new = NewWorkOrder {
            site: SiteId::parse("hq").unwrap(),
            title: title.to_owned(),
            description: String::new(),
            location: "hq-a".to_owned(),
            asset: None,
            priority: Priority::High,
            category: shared::document::work_order::Category::Plumbing,
            due_at: None,
            source: None,
        };
        WorkOrder::report(
            ActorId::from([1; 16]),
            &new,
            &shared::document::EntryId::parse("e1").unwrap(),
            &Edit::new(Username::parse("li").unwrap(), Timestamp::from_millis(5_000)),
        )
        .unwrap()
    }

    #[test]
    fn marked_documents_are_projected_and_a_rebuild_finds_them_all() {
        let data = tempfile::tempdir().unwrap();
        let storage = Storage::open(data.path()).unwrap();
        let projections = Projections::open(&storage).unwrap();
        let store = DocumentStore::open(&storage).unwrap();
        let hq = SiteId::parse("hq").unwrap();
        let (first, second) = (DocumentId::from_random([1; 16]), DocumentId::from_random([2; 16]));
        for (id, title) in [(first, "漏水"), (second, "灯坏了")] {
            store.append(&id, &order(title).into_doc().save()).unwrap();
        }
        projections.mark(&first, None).unwrap();
        assert_eq!(projections.project_dirty().unwrap(), 1);
        assert_eq!(projections.project_dirty().unwrap(), 0, "the mark is cleared");
        let titles: Vec<String> = projections.site(&hq).unwrap().into_iter().map(|projection| projection.title).collect();
        assert_eq!(titles, ["漏水"]);
        assert!(!projections.is_current().unwrap());
        let rebuilt = projections.rebuild().unwrap();
        assert_eq!(rebuilt, Rebuilt { documents: 2, projected: 2, unreadable: 0 });
        assert!(projections.is_current().unwrap());
        assert_eq!(projections.site(&hq).unwrap().len(), 2);
        assert!(projections.site(&SiteId::parse("plant2").unwrap()).unwrap().is_empty());
    }

    #[test]
    fn a_copy_handed_over_with_its_mark_is_projected_and_a_stale_one_never() {
        let data = tempfile::tempdir().unwrap();
        let storage = Storage::open(data.path()).unwrap();
        let projections = Projections::open(&storage).unwrap();
        let hq = SiteId::parse("hq").unwrap();
        let titles = || -> Vec<String> { projections.site(&hq).unwrap().into_iter().map(|projection| projection.title).collect() };
        // Not in storage at all: only the handed-over copy can be projected.
        let id = DocumentId::from_random([3; 16]);
        projections.mark(&id, Some((order("漏电").doc(), &[]))).unwrap();
        assert_eq!(projections.project_dirty().unwrap(), 1);
        assert_eq!(titles(), ["漏电"]);
        // A newer mark without a copy: the older copy is not used for it; storage is read
        // (and has nothing), so the projection stays as it was.
        projections.mark(&id, Some((order("旧的").doc(), &[]))).unwrap();
        projections.mark(&id, None).unwrap();
        assert_eq!(projections.project_dirty().unwrap(), 0);
        assert_eq!(titles(), ["漏电"]);
    }
}
