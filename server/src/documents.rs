//! Automerge documents in sled: a snapshot plus incremental chunks per document.
//!
//! Keys are `[document id: 16][kind: 1][sha256 of the chunk: 32]` in the `documents`
//! tree, so a document's chunks are one prefix scan, the same chunk written twice is one
//! key, and writers of different chunks never clash (the layout a distributed store can
//! share). Compaction writes the new snapshot and removes the chunks it covers in one
//! atomic batch: there is no moment when a chunk's changes exist in neither form.

use anyhow::Context;
use automerge::AutoCommit;
use sha2::{Digest, Sha256};
use shared::protocol::DocumentId;

use crate::Storage;

const SNAPSHOT: u8 = 0;
const INCREMENTAL: u8 = 1;

/// Incremental chunks a document may gather before it is compacted into one snapshot.
pub const COMPACT_AFTER: usize = 64;

/// The `documents` tree.
#[derive(Clone)]
pub struct DocumentStore {
    tree: sled::Tree,
}

fn key(document: &DocumentId, kind: u8, chunk: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(49);
    key.extend_from_slice(document.as_bytes());
    key.push(kind);
    key.extend_from_slice(&Sha256::digest(chunk));
    key
}

impl DocumentStore {
    pub fn open(storage: &Storage) -> anyhow::Result<DocumentStore> {
        Ok(DocumentStore { tree: storage.tree("documents")? })
    }

    /// The document as stored, or `None` if no chunk of it exists. Blocking: call it from
    /// the blocking pool.
    pub fn load(&self, document: &DocumentId) -> anyhow::Result<Option<AutoCommit>> {
        let mut chunks = Vec::new();
        for entry in self.tree.scan_prefix(document.as_bytes()) {
            let (key, value) = entry.context("cannot read a document chunk")?;
            chunks.push((key[16], value));
        }
        if chunks.is_empty() {
            return Ok(None);
        }
        // Snapshots first: incremental chunks depend on what they cover.
        chunks.sort_by_key(|(kind, _)| *kind);
        let mut doc = AutoCommit::new();
        for (_, chunk) in &chunks {
            doc.load_incremental(chunk).with_context(|| format!("document {document} has an unreadable chunk"))?;
        }
        Ok(Some(doc))
    }

    /// Adds an incremental chunk (not yet flushed) and says how many the document has.
    pub fn append(&self, document: &DocumentId, chunk: &[u8]) -> anyhow::Result<usize> {
        self.tree.insert(key(document, INCREMENTAL, chunk), chunk).context("cannot store a document chunk")?;
        Ok(self.tree.scan_prefix([document.as_bytes().as_slice(), &[INCREMENTAL]].concat()).count())
    }

    /// Replaces every chunk of the document with one snapshot of `doc`, atomically.
    pub fn compact(&self, document: &DocumentId, doc: &mut AutoCommit) -> anyhow::Result<()> {
        let snapshot = doc.save();
        let mut batch = sled::Batch::default();
        let new_key = key(document, SNAPSHOT, &snapshot);
        for entry in self.tree.scan_prefix(document.as_bytes()) {
            let (old_key, _) = entry.context("cannot read a document chunk")?;
            if old_key.as_ref() != new_key.as_slice() {
                batch.remove(old_key);
            }
        }
        batch.insert(new_key, snapshot);
        self.tree.apply_batch(batch).context("cannot compact a document")?;
        Ok(())
    }

    /// How many chunks (snapshots and incremental) the document has.
    pub fn chunk_count(&self, document: &DocumentId) -> anyhow::Result<usize> {
        let mut count = 0;
        for entry in self.tree.scan_prefix(document.as_bytes()) {
            entry.context("cannot read a document chunk")?;
            count += 1;
        }
        Ok(count)
    }
}
