//! Automerge documents in sled: a snapshot plus incremental chunks per document.
//!
//! Keys are `[document id: 16][kind: 1][sha256 of the chunk: 32]` in the `documents`
//! tree, so a document's chunks are one prefix scan, the same chunk written twice is one
//! key, and writers of different chunks never clash (the layout a distributed store can
//! share). Compaction writes the new snapshot and removes the chunks it covers in one
//! atomic batch: there is no moment when a chunk's changes exist in neither form. While a
//! backup reads the tree nothing is removed, and compaction waits (a document's changes
//! meanwhile cost their own chunks, never another whole copy; see
//! [`DocumentStore::store_compacted`]).
//!
//! Architecture Invariant: a compaction removes only the chunks its copy of the document
//! is known to hold — the keys it was loaded from and those stored from it since
//! ([`DocumentStore::load_known`], [`DocumentStore::append`]) — never whatever is stored
//! when it runs: another writer (the server's own tools now, another node sharing the
//! store later) may have stored a chunk the copy lacks, and it stays beside the snapshot.
//!
//! sled keeps a value of a quarter of its segment or more (128 KiB) in a file of its own,
//! and drops the value without a word if that file is gone. So every chunk of at least
//! [`LARGE_CHUNK`] is also named in the `large_chunks` tree, written in one transaction
//! with it: a name whose chunk is missing is damage, found at start
//! ([`DocumentStore::missing_large`]).
//!
//! The sync hub stores a change with [`DocumentStore::stage`]: its chunk is written, and
//! the other servers sharing the store told, by the flush that makes it durable (in
//! PostgreSQL one statement; see [`crate::kv::Tree::insert_deferred`]). So a compaction,
//! which removes chunk keys, first applies what is deferred.
//!
//! A document that loads with changes missing (a chunk that does not read, changes whose
//! dependencies are gone) is never compacted while the server runs: its copy in memory
//! lacks what a compaction would remove.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use crate::kv;
use anyhow::Context;
use automerge::AutoCommit;
use sha2::{Digest, Sha256};
use shared::directory::SiteId;
use shared::protocol::DocumentId;

use crate::Storage;
use crate::storage::{News, RemovalGate, trees};

const SNAPSHOT: u8 = 0;
const INCREMENTAL: u8 = 1;

/// How many documents' site bindings are kept in memory before they are forgotten (and
/// asked of the store again): a few megabytes.
const BINDINGS_CACHED: usize = 50_000;

/// How often [`DocumentStore::chunks_besides`] lists a document's chunks again when one
/// was compacted away under it.
const LISTINGS: usize = 3;

/// Incremental chunks a document may gather before it is compacted into one snapshot.
pub const COMPACT_AFTER: usize = 64;

/// A chunk this long or longer may live in a file of sled's own, and is named in
/// `large_chunks` (with margin below sled's 128 KiB).
pub const LARGE_CHUNK: usize = 64 << 10;

/// The `documents` tree.
#[derive(Clone)]
pub struct DocumentStore {
    tree: kv::Tree,
    /// The keys of chunks of at least [`LARGE_CHUNK`] bytes, each to its length.
    large: kv::Tree,
    /// Each document's site, bound by its first stored change.
    sites: kv::Tree,
    /// Bindings read or made here: they never change, so they are asked of the store once.
    bound: Arc<Mutex<HashMap<DocumentId, SiteId>>>,
    removals: RemovalGate,
    /// Documents that loaded with changes missing: never compacted.
    damaged: Arc<Mutex<HashSet<DocumentId>>>,
    /// Where the other servers are told of stored changes.
    storage: Storage,
}

/// One stored chunk or snapshot of a document: its kind and the SHA-256 of its bytes.
/// What a copy of the document is known to hold, and what a compaction of that copy
/// names to remove once its snapshot is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChunkKey {
    kind: u8,
    hash: [u8; 32],
}

impl ChunkKey {
    fn of(kind: u8, chunk: &[u8]) -> ChunkKey {
        ChunkKey { kind, hash: Sha256::digest(chunk).into() }
    }

    /// The key of the document's chunk in the `documents` tree.
    fn stored(&self, document: &DocumentId) -> [u8; 49] {
        let mut key = [0; 49];
        key[..16].copy_from_slice(document.as_bytes());
        key[16] = self.kind;
        key[17..].copy_from_slice(&self.hash);
        key
    }

    /// The key a stored key names (its document's id first).
    fn read(key: &[u8]) -> anyhow::Result<ChunkKey> {
        anyhow::ensure!(key.len() == 49, "a document chunk's key is {} bytes, not 49", key.len());
        Ok(ChunkKey { kind: key[16], hash: key[17..].try_into().expect("32 bytes") })
    }

    /// Whether the key is a snapshot's, rather than an incremental chunk's.
    pub fn is_snapshot(&self) -> bool {
        self.kind == SNAPSHOT
    }
}

impl DocumentStore {
    pub fn open(storage: &Storage) -> anyhow::Result<DocumentStore> {
        Ok(DocumentStore {
            tree: storage.tree(trees::DOCUMENTS)?,
            large: storage.tree(trees::LARGE_CHUNKS)?,
            sites: storage.tree(trees::DOCUMENT_SITES)?,
            bound: Arc::default(),
            removals: storage.removal_gate(),
            damaged: Arc::default(),
            storage: storage.clone(),
        })
    }

    /// Binds `document` to `site` unless it is bound already, atomically across every
    /// server sharing the store, and gives the site it is bound to: `site`, or the one a
    /// first change stored elsewhere named. A document's site never changes, so two
    /// first changes naming different sites, taken by two servers at once, cannot both be
    /// kept.
    pub fn bind_site(&self, document: &DocumentId, site: &SiteId) -> anyhow::Result<SiteId> {
        if let Some(bound) = self.bound.lock().unwrap_or_else(PoisonError::into_inner).get(document) {
            return Ok(bound.clone());
        }
        let bound = match self.sites.compare_and_swap(document.as_bytes(), None::<&[u8]>, Some(site.as_str()))? {
            Ok(()) => site.clone(),
            Err(bound) => {
                let bound = bound.current.context("a bound document has a site")?;
                SiteId::parse(&String::from_utf8_lossy(&bound)).context("a document is bound to an invalid site")?
            }
        };
        let mut cached = self.bound.lock().unwrap_or_else(PoisonError::into_inner);
        if cached.len() >= BINDINGS_CACHED {
            cached.clear();
        }
        cached.insert(*document, bound.clone());
        Ok(bound)
    }

    /// Whether the document loaded with changes missing since the server started.
    pub fn is_damaged(&self, document: &DocumentId) -> bool {
        self.damaged.lock().unwrap_or_else(PoisonError::into_inner).contains(document)
    }

    fn mark_damaged(&self, document: &DocumentId) {
        self.damaged.lock().unwrap_or_else(PoisonError::into_inner).insert(*document);
    }

    /// Stores `chunk` under `key`, and names it in `large_chunks` if it is large, at once.
    fn insert(&self, key: [u8; 49], chunk: Vec<u8>) -> anyhow::Result<()> {
        if chunk.len() < LARGE_CHUNK {
            self.tree.insert(key, chunk)?;
            return Ok(());
        }
        let length = (chunk.len() as u64).to_be_bytes();
        kv::transaction([&self.tree, &self.large], |[tree, large]| {
            tree.insert(key, chunk.as_slice())?;
            large.insert(key, length)?;
            Ok(())
        })
    }

    /// Large chunks named in `large_chunks` that the documents tree no longer holds, each
    /// with its document and length: damage (their files were removed). Blocking.
    pub fn missing_large(&self) -> anyhow::Result<Vec<(DocumentId, u64)>> {
        let mut missing = Vec::new();
        for entry in &self.large {
            let (key, length) = entry.context("cannot read the large chunks' names")?;
            if !self.tree.contains_key(&key).context("cannot read a document chunk")? {
                let id: [u8; 16] = key.get(..16).and_then(|id| id.try_into().ok()).context("a large chunk's name is too short")?;
                let length = length.as_ref().try_into().map_or(0, u64::from_be_bytes);
                missing.push((DocumentId::from_bytes(id), length));
            }
        }
        Ok(missing)
    }

    /// Forgets the names of large chunks that are gone (a salvaged copy, once what it
    /// lacks is listed). Blocking.
    pub fn forget_missing_large(&self) -> anyhow::Result<usize> {
        let mut forgotten = 0;
        for key in self.large.iter().keys() {
            let key = key.context("cannot read the large chunks' names")?;
            if !self.tree.contains_key(&key)? {
                self.large.remove(&key)?;
                forgotten += 1;
            }
        }
        Ok(forgotten)
    }

    /// The document as stored, or `None` if no chunk of it exists. Blocking: call it from
    /// the blocking pool.
    pub fn load(&self, document: &DocumentId) -> anyhow::Result<Option<AutoCommit>> {
        Ok(self.load_known(document)?.map(|(doc, _)| doc))
    }

    /// The document as stored and the keys of the chunks it was loaded from: what a
    /// compaction of this copy may remove ([`DocumentStore::store_compacted`]). `None` if
    /// no chunk of it exists. Blocking.
    pub fn load_known(&self, document: &DocumentId) -> anyhow::Result<Option<(AutoCommit, Vec<ChunkKey>)>> {
        let (keys, chunks) = self.stored_chunks(document)?;
        if chunks.is_empty() {
            return Ok(None);
        }
        // All at once: one parse and one application of every change, 1.7× faster than
        // chunk by chunk for a document that arrived in several (see BENCHMARKS.md).
        // A chunk that does not read fails that as a whole; chunk by chunk then keeps
        // every change that reads (a phone that has the others sends them again).
        let whole: Vec<u8> = chunks.iter().flat_map(|chunk| chunk.iter().copied()).collect();
        let mut doc = match AutoCommit::load(&whole) {
            Ok(doc) => doc,
            Err(_) => {
                self.mark_damaged(document);
                let mut doc = AutoCommit::new();
                let mut read = 0;
                for chunk in &chunks {
                    match doc.load_incremental(chunk) {
                        Ok(_) => read += 1,
                        Err(error) => tracing::error!(%document, %error, "a stored chunk does not read; its changes are left out"),
                    }
                }
                anyhow::ensure!(read > 0, "document {document} has no chunk that reads");
                doc
            }
        };
        // Changes whose dependencies are not stored (a chunk's file removed) wait inside
        // Automerge, outside what `save` writes: a compaction would lose them.
        if !doc.get_missing_deps(&[]).is_empty() {
            tracing::error!(%document, "a stored document lacks changes others depend on; it is kept as stored");
            self.mark_damaged(document);
        }
        shared::protocol::forget_patches(&mut doc);
        Ok(Some((doc, keys)))
    }

    /// Stores `doc`, a document stored nowhere yet, as one snapshot (not yet flushed):
    /// written once, where its changes would be written and then replaced by a compaction,
    /// leaving sled's log their worth of garbage (BENCHMARKS.md). Removes nothing: should
    /// another writer have stored the document meanwhile, both stay. Blocking: saving a
    /// document is work for the blocking pool.
    pub fn store_new(&self, document: &DocumentId, doc: &mut AutoCommit) -> anyhow::Result<ChunkKey> {
        let snapshot = doc.save();
        let key = ChunkKey::of(SNAPSHOT, &snapshot);
        self.insert(key.stored(document), snapshot).context("cannot store a document snapshot")?;
        Ok(key)
    }

    /// [`DocumentStore::store_new`] the way [`DocumentStore::stage`] stores a chunk: with
    /// the next flush, told as it commits. Blocking.
    pub fn stage_new(&self, document: &DocumentId, doc: &mut AutoCommit) -> anyhow::Result<ChunkKey> {
        let snapshot = doc.save();
        let key = ChunkKey::of(SNAPSHOT, &snapshot);
        self.write_staged(document, key, snapshot).context("cannot store a document snapshot")?;
        Ok(key)
    }

    /// Adds an incremental chunk (not yet flushed); its key joins what the copy it came
    /// from is known to hold.
    pub fn append(&self, document: &DocumentId, chunk: &[u8]) -> anyhow::Result<ChunkKey> {
        let key = ChunkKey::of(INCREMENTAL, chunk);
        self.insert(key.stored(document), chunk.to_vec()).context("cannot store a document chunk")?;
        Ok(key)
    }

    /// Adds an incremental chunk with the next flush, and tells the other servers sharing
    /// the store of it as that flush commits ([`Storage::tell_when_durable`]); a large
    /// chunk is written at once (with its name, in one transaction). The sync hub's way
    /// to store a change: the flush it waits for anyway carries it.
    pub fn stage(&self, document: &DocumentId, chunk: &[u8]) -> anyhow::Result<ChunkKey> {
        let key = ChunkKey::of(INCREMENTAL, chunk);
        self.write_staged(document, key, chunk.to_vec()).context("cannot store a document chunk")?;
        Ok(key)
    }

    fn write_staged(&self, document: &DocumentId, key: ChunkKey, chunk: Vec<u8>) -> anyhow::Result<()> {
        if chunk.len() < LARGE_CHUNK {
            self.tree.insert_deferred(key.stored(document), chunk)?;
        } else {
            self.insert(key.stored(document), chunk)?;
        }
        self.storage.tell_when_durable(&News::Stored(vec![*document]));
        Ok(())
    }

    /// The document's stored chunks whose keys are not in `known`: what another writer
    /// stored since the copy holding `known` was loaded. Blocking.
    /// Only the unknown chunks are read: the keys are listed first.
    pub fn chunks_besides(&self, document: &DocumentId, known: &[ChunkKey]) -> anyhow::Result<Vec<(ChunkKey, Vec<u8>)>> {
        'listing: for _ in 0..LISTINGS {
            let mut besides = Vec::new();
            for stored in self.tree.keys_with_prefix(document.as_bytes()).context("cannot read a document's chunks")? {
                let key = ChunkKey::read(&stored)?;
                if known.contains(&key) {
                    continue;
                }
                match self.tree.get(&stored).context("cannot read a document chunk")? {
                    Some(chunk) => besides.push((key, chunk.to_vec())),
                    // Compacted away since it was listed, in place of a snapshot the
                    // listing missed: list again.
                    None => continue 'listing,
                }
            }
            // Snapshots first: incremental chunks depend on what they cover.
            besides.sort_by_key(|(key, _)| key.kind);
            return Ok(besides);
        }
        anyhow::bail!("document {document} kept being compacted while its chunks were read")
    }

    /// The keys of the document's stored chunks and snapshots, now (others' included:
    /// not what a compaction may remove). Blocking.
    pub fn stored_keys(&self, document: &DocumentId) -> anyhow::Result<Vec<ChunkKey>> {
        let keys = self.tree.keys_with_prefix(document.as_bytes()).context("cannot read a document's chunks")?;
        keys.iter().map(|key| ChunkKey::read(key)).collect()
    }

    /// Stores `doc` as one snapshot in place of the chunks `covered` names, which must all
    /// be in `doc`: the keys it was loaded from and those stored from it since. Chunks
    /// stored otherwise stay, whenever they were stored. Returns the snapshot's key, or
    /// `None` when nothing was done: while a backup reads (a snapshot beside the chunks
    /// would add a copy of the whole document per compaction: a backup read slowly while
    /// one document was edited grew the data from 4 to 204 MiB), when `covered` is a lone
    /// snapshot already, or when the document loaded with changes missing. Blocking: a
    /// document handed back idle is compacted on the blocking pool while the hub goes on,
    /// possibly loading and changing the document again meanwhile.
    pub fn store_compacted(&self, document: &DocumentId, doc: &mut AutoCommit, covered: &[ChunkKey]) -> anyhow::Result<Option<ChunkKey>> {
        if covered.is_empty() || matches!(covered, [only] if only.is_snapshot()) || self.is_damaged(document) {
            return Ok(None);
        }
        let Some(_permit) = self.removals.try_permit() else { return Ok(None) };
        let snapshot = doc.save();
        let key = ChunkKey::of(SNAPSHOT, &snapshot);
        self.replace(document, key, snapshot, covered)?;
        Ok(Some(key))
    }

    /// Inserts the snapshot and removes the `covered` keys at once: in one batch, or in
    /// one transaction with `large_chunks` when a large chunk comes or goes.
    fn replace(&self, document: &DocumentId, key: ChunkKey, snapshot: Vec<u8>, covered: &[ChunkKey]) -> anyhow::Result<()> {
        // A covered chunk may be staged still: it is written before it is removed.
        self.tree.apply_deferred()?;
        let new_key = key.stored(document);
        let removed: Vec<[u8; 49]> = covered.iter().filter(|old| **old != key).map(|old| old.stored(document)).collect();
        // The document's large chunks, in one read rather than one per covered key.
        let large = self.large.keys_with_prefix(document.as_bytes()).context("cannot read the large chunks' names")?;
        let named: Vec<[u8; 49]> =
            removed.iter().filter(|old_key| large.iter().any(|name| name.as_ref() == old_key.as_slice())).copied().collect();
        if snapshot.len() < LARGE_CHUNK && named.is_empty() {
            let mut batch = kv::Batch::default();
            for old_key in &removed {
                batch.remove(old_key);
            }
            batch.insert(new_key, snapshot);
            return self.tree.apply_batch(batch).context("cannot compact a document");
        }
        let length = (snapshot.len() as u64).to_be_bytes();
        kv::transaction([&self.tree, &self.large], |[tree, large]| {
            for old_key in &removed {
                tree.remove(old_key)?;
            }
            for old_key in &named {
                large.remove(old_key)?;
            }
            tree.insert(new_key, snapshot.as_slice())?;
            if snapshot.len() >= LARGE_CHUNK {
                large.insert(new_key, length)?;
            }
            Ok(())
        })
        .context("cannot compact a document")
    }

    /// The document's stored chunks as they are, snapshots first (incremental chunks
    /// depend on what they cover). Blocking.
    pub fn chunks(&self, document: &DocumentId) -> anyhow::Result<Vec<Vec<u8>>> {
        Ok(self.stored_chunks(document)?.1.into_iter().map(|chunk| chunk.to_vec()).collect())
    }

    /// The keys of the document's chunks, and the chunks as sled keeps them (for loading
    /// without a copy of each), snapshots first.
    fn stored_chunks(&self, document: &DocumentId) -> anyhow::Result<(Vec<ChunkKey>, Vec<kv::Value>)> {
        let mut chunks = Vec::new();
        for entry in self.tree.scan_prefix(document.as_bytes()) {
            let (key, value) = entry.context("cannot read a document chunk")?;
            chunks.push((ChunkKey::read(&key)?, value));
        }
        chunks.sort_by_key(|(key, _)| key.kind);
        Ok(chunks.into_iter().unzip())
    }

    /// Every stored document's id, once each, in key order. Blocking.
    pub fn ids(&self) -> anyhow::Result<Vec<DocumentId>> {
        let mut ids = Vec::new();
        let mut from = Vec::new();
        // One key per document: after each, skip to the first key past its prefix.
        while let Some(entry) = self.tree.range(from.as_slice()..).next() {
            let (key, _) = entry.context("cannot read a document chunk")?;
            let id: [u8; 16] = key.get(..16).and_then(|id| id.try_into().ok()).context("a document key is too short")?;
            ids.push(DocumentId::from_bytes(id));
            let mut next = id.to_vec();
            // The next id in byte order; an id of all 0xff bytes is the last there can be.
            match next.iter().rposition(|byte| *byte != 0xff) {
                Some(at) => {
                    next[at] += 1;
                    next.truncate(at + 1);
                }
                None => break,
            }
            from = next;
        }
        Ok(ids)
    }

    /// The bytes the document's chunks take, stored. Blocking (a prefix scan of chunks
    /// the page cache holds while the document is in use).
    pub fn stored_bytes(&self, document: &DocumentId) -> anyhow::Result<u64> {
        self.tree.prefix_bytes(document.as_bytes()).context("cannot read a document chunk")
    }

    /// How many chunks (snapshots and incremental) the document has.
    pub fn chunk_count(&self, document: &DocumentId) -> anyhow::Result<usize> {
        Ok(self.stored_keys(document)?.len())
    }
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable as _;
    use automerge::{AutoCommit, ROOT};
    use shared::protocol::DocumentId;

    use super::{ChunkKey, DocumentStore};
    use crate::Storage;
    use crate::storage::trees;

    /// A fresh database and its document store (the directory lives as long as the first).
    fn open() -> (tempfile::TempDir, Storage, DocumentStore) {
        let data = tempfile::tempdir().unwrap();
        let storage = Storage::open(data.path()).unwrap();
        let store = DocumentStore::open(&storage).unwrap();
        (data, storage, store)
    }

    /// Stores `doc` compacted in place of every chunk of it stored now, as a writer that
    /// knows its copy holds them all (no other writes here) does.
    fn compact(store: &DocumentStore, document: &DocumentId, doc: &mut AutoCommit) {
        let covered = store.stored_keys(document).unwrap();
        if covered.is_empty() {
            store.store_new(document, doc).unwrap();
        } else {
            store.store_compacted(document, doc, &covered).unwrap();
        }
    }

    /// Changes `doc` once per step and stores each change as an incremental chunk.
    fn append_steps(store: &DocumentStore, document: &DocumentId, doc: &mut AutoCommit, steps: std::ops::Range<i64>) {
        for step in steps {
            doc.put(ROOT, "step", step).unwrap();
            store.append(document, &doc.save_incremental()).unwrap();
        }
    }

    /// A compaction while a backup reads removes nothing; the next one, after it, does.
    #[test]
    fn compaction_during_a_backup_removes_nothing() {
        let (_data, storage, store) = open();
        let document = DocumentId::from_random([3; 16]);
        let mut doc = AutoCommit::new();
        append_steps(&store, &document, &mut doc, 0..5);
        compact(&store, &document, &mut doc);
        assert_eq!(store.chunk_count(&document).unwrap(), 1);
        append_steps(&store, &document, &mut doc, 5..8);

        let gate = storage.removal_gate();
        let reading = gate.exclusive_read();
        compact(&store, &document, &mut doc);
        assert_eq!(
            store.chunk_count(&document).unwrap(),
            4,
            "the old snapshot and three chunks stay, and no new snapshot is added beside them"
        );
        assert_eq!(store.load(&document).unwrap().unwrap().get_heads(), doc.get_heads());
        // A new document (as a new site's catalog is) is stored as ever.
        let new = DocumentId::from_random([4; 16]);
        let mut created = AutoCommit::new();
        created.put(ROOT, "site", "hq").unwrap();
        compact(&store, &new, &mut created);
        assert_eq!(store.load(&new).unwrap().unwrap().get_heads(), created.get_heads());
        drop(reading);

        compact(&store, &document, &mut doc);
        assert_eq!(store.chunk_count(&document).unwrap(), 1);
        assert_eq!(store.load(&document).unwrap().unwrap().get_heads(), doc.get_heads());
    }

    /// Of stores racing to bind a document to different sites, one wins and every one
    /// of them is told the same site after.
    #[test]
    fn a_document_is_bound_to_the_first_site_stored_for_it() {
        let (_data, storage, _store) = open();
        let document = DocumentId::from_random([12; 16]);
        let sites = ["hq", "plant2", "plant3", "plant4"].map(|site| shared::directory::SiteId::parse(site).unwrap());
        let bound: Vec<_> = std::thread::scope(|scope| {
            let racing: Vec<_> = sites
                .iter()
                .map(|site| {
                    // A store of its own each, as servers sharing a database have.
                    let store = DocumentStore::open(&storage).unwrap();
                    scope.spawn(move || store.bind_site(&document, site).unwrap())
                })
                .collect();
            racing.into_iter().map(|racer| racer.join().unwrap()).collect()
        });
        assert!(bound.iter().all(|site| *site == bound[0]), "{bound:?}");
        let late = DocumentStore::open(&storage).unwrap();
        assert_eq!(late.bind_site(&document, &sites[3]).unwrap(), bound[0]);
    }

    /// A chunk that does not read leaves out only its own changes; a document none of
    /// whose chunks read is an error.
    #[test]
    fn an_unreadable_chunk_leaves_the_others_readable() {
        let (_data, _storage, store) = open();
        let document = DocumentId::from_random([6; 16]);
        let mut doc = AutoCommit::new();
        append_steps(&store, &document, &mut doc, 0..4);
        store.append(&document, b"\x85\x6f\x4a\x83 not a chunk").unwrap();
        assert_eq!(store.chunk_count(&document).unwrap(), 5);
        assert_eq!(store.load(&document).unwrap().unwrap().get_heads(), doc.get_heads());

        let broken = DocumentId::from_random([7; 16]);
        store.append(&broken, b"nothing automerge").unwrap();
        let error = store.load(&broken).unwrap_err().to_string();
        assert!(error.contains("has no chunk that reads"), "{error}");
    }

    /// Text that does not compress, `len` characters.
    fn noise(len: u64) -> String {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        (0..len)
            .map(|_| {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                char::from(b'a' + ((state >> 33) % 26) as u8)
            })
            .collect()
    }

    /// A large chunk is named in `large_chunks` with it, and the name follows it through a
    /// compaction; a name whose chunk is gone is reported, until forgotten.
    #[test]
    fn large_chunks_are_named_and_a_missing_one_is_found() {
        let (_data, storage, store) = open();
        let document = DocumentId::from_random([9; 16]);
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "note", noise(200_000)).unwrap();
        store.append(&document, &doc.save_incremental()).unwrap();
        append_steps(&store, &document, &mut doc, 0..2);
        assert_eq!(storage.tree(trees::LARGE_CHUNKS).unwrap().len(), 1, "only the large chunk is named");
        assert!(store.missing_large().unwrap().is_empty());

        compact(&store, &document, &mut doc);
        let names: Vec<_> =
            storage.tree(trees::LARGE_CHUNKS).unwrap().iter().keys().map(|key| ChunkKey::read(&key.unwrap()).unwrap()).collect();
        assert_eq!(names, store.stored_keys(&document).unwrap(), "the snapshot is named in place of the chunk it covers");

        // As sled does when the value's own file was removed.
        storage.tree(trees::DOCUMENTS).unwrap().remove(names[0].stored(&document)).unwrap();
        let missing = store.missing_large().unwrap();
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].0, document);
        assert!(missing[0].1 > 100_000, "{}", missing[0].1);
        assert_eq!(store.forget_missing_large().unwrap(), 1);
        assert!(store.missing_large().unwrap().is_empty());
    }

    /// A document that loads with changes whose dependencies are gone keeps every chunk:
    /// a compaction of its copy would drop the changes waiting inside Automerge.
    #[test]
    fn a_document_missing_changes_is_never_compacted() {
        let (_data, _storage, store) = open();
        let document = DocumentId::from_random([10; 16]);
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "first", 1).unwrap();
        doc.save_incremental();
        append_steps(&store, &document, &mut doc, 0..3);
        let mut loaded = store.load(&document).unwrap().unwrap();
        assert!(store.is_damaged(&document));
        assert!(loaded.get_heads().is_empty(), "its changes wait for the first one");
        compact(&store, &document, &mut loaded);
        let covered = store.stored_keys(&document).unwrap();
        assert_eq!(store.store_compacted(&document, &mut loaded, &covered).unwrap(), None);
        assert_eq!(store.chunk_count(&document).unwrap(), 3, "nothing removed");

        let whole = DocumentId::from_random([11; 16]);
        append_steps(&store, &whole, &mut AutoCommit::new(), 0..3);
        store.load(&whole).unwrap().unwrap();
        assert!(!store.is_damaged(&whole));
    }

    /// A copy compacted keeps every chunk it was not loaded from: one stored after it was
    /// loaded (by another writer, or by the hub after the copy left memory).
    #[test]
    fn compacting_a_copy_keeps_chunks_stored_since_it_was_loaded() {
        let (_data, _storage, store) = open();
        let document = DocumentId::from_random([5; 16]);
        let mut doc = AutoCommit::new();
        append_steps(&store, &document, &mut doc, 0..3);
        let (mut idle, covered) = store.load_known(&document).unwrap().unwrap();
        assert_eq!(covered.len(), 3);
        assert_eq!(idle.get_heads(), doc.get_heads());
        doc.put(ROOT, "later", true).unwrap();
        store.append(&document, &doc.save_incremental()).unwrap();

        store.store_compacted(&document, &mut idle, &covered).unwrap();
        assert_eq!(store.chunk_count(&document).unwrap(), 2, "the snapshot and the later chunk");
        assert_eq!(store.load(&document).unwrap().unwrap().get_heads(), doc.get_heads());
        // A lone snapshot is left as it is.
        let mut whole = store.load(&document).unwrap().unwrap();
        compact(&store, &document, &mut whole);
        let covered = store.stored_keys(&document).unwrap();
        assert_eq!(store.store_compacted(&document, &mut whole, &covered).unwrap(), None);
        assert_eq!(store.stored_keys(&document).unwrap(), covered);
    }
}

#[cfg(test)]
mod id_tests {
    use super::DocumentStore;
    use crate::Storage;
    use shared::protocol::DocumentId;

    #[test]
    fn every_document_is_listed_once() {
        let data = tempfile::tempdir().unwrap();
        let storage = Storage::open(data.path()).unwrap();
        let store = DocumentStore::open(&storage).unwrap();
        for index in 0..5000u64 {
            let mut bytes = [0u8; 16];
            bytes[..8].copy_from_slice(&index.to_be_bytes());
            let id = DocumentId::from_bytes(bytes);
            store.append(&id, &index.to_le_bytes()).unwrap();
            store.append(&id, b"second chunk").unwrap();
        }
        let ids = store.ids().unwrap();
        assert_eq!(ids.len(), 5000);
        assert!(ids.windows(2).all(|pair| pair[0].as_bytes() < pair[1].as_bytes()), "in key order, each once");
    }
}
